"""Coverage: the nearest point anywhere, the own-unit view, the standard, coverage by mode.

A resident is within the standard when the nearest point is within ``max_minutes`` of
travel **or** ``max_distance_m`` in a straight line (Hanoi's "30 minutes or 5 km").
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.defaults import BEYOND_MINUTES, EPS, RULE_KINDS
from pointplan.assessment.inputs import projected_xy
from pointplan.assessment.stats import group_weighted_quantiles

__all__ = [
    "apply_nearest",
    "coverage_by_mode",
    "engine_for_mode",
    "nearest_view",
    "own_unit_minutes",
    "unit_travel_table",
]


def nearest_view(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    engine: TravelEngine,
    max_minutes: float,
    max_distance_m: float,
) -> gpd.GeoDataFrame:
    """Add the nearest point anywhere (no administrative boundary) and the standard.

    Parameters
    ----------
    demand, points
        Demand points and service points (indexed by point id).
    engine
        Travel-time engine.
    max_minutes, max_distance_m
        The standard.

    Returns
    -------
    geopandas.GeoDataFrame
        ``demand`` itself (changed in place) with ``nearest_point``, ``minutes``, ``distance_m``, ``straight_m``
        (to the nearest point in a straight line), ``within_minutes``,
        ``within_distance``, ``within_standard`` and ``method``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from pointplan.network import CrowFliesEngine
    >>> xy = gpd.points_from_xy([585500.0, 592000.0], [2325000.0] * 2)
    >>> dem = gpd.GeoDataFrame({"population": [1.0, 1.0]}, geometry=xy, crs=32648)
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([585000.0], [2325000.0]), index=["P1"], crs=32648)
    >>> out = nearest_view(dem, pts, CrowFliesEngine("bike", speed_kmh=12, circuity=1), 30, 5000)
    >>> out["minutes"].round(6).tolist(), out["within_standard"].tolist()
    ([2.5, 35.0], [True, False])
    """
    return apply_nearest(demand, points, engine.nearest(demand, points), engine.method, max_minutes, max_distance_m)


def apply_nearest(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    near: pd.DataFrame,
    engine_method: str,
    max_minutes: float,
    max_distance_m: float,
) -> gpd.GeoDataFrame:
    """Write an engine's ``nearest`` answer and the standard into the demand (in place).

    The step of :func:`nearest_view` after routing, shared with :class:`pointplan.Scenario`,
    which reads ``near`` from the travel times it keeps.

    Examples
    --------
    >>> import geopandas as gpd
    >>> dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy([585500.0], [2325000.0]), crs=32648)
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([585000.0], [2325000.0]), index=["P1"], crs=32648)
    >>> near = pd.DataFrame({"dest": ["P1"], "minutes": [40.0], "distance_m": [600.0]})
    >>> apply_nearest(dem, pts, near, "network", 30, 5000)[["within_minutes", "within_standard"]].values.tolist()
    [[False, True]]
    """
    demand["nearest_point"] = near["dest"].to_numpy()
    demand["minutes"] = near["minutes"].to_numpy(dtype=float)
    demand["distance_m"] = near["distance_m"].to_numpy(dtype=float)
    straight_m, _ = cKDTree(projected_xy(points)).query(projected_xy(demand), k=1)
    demand["straight_m"] = straight_m
    demand["within_minutes"] = demand["minutes"] <= max_minutes + EPS
    demand["within_distance"] = demand["straight_m"] <= max_distance_m + EPS
    demand["within_standard"] = demand["within_minutes"] | demand["within_distance"]
    demand["method"] = engine_method
    demand["travel_time_method"] = point_methods(near, engine_method)
    return demand


def point_methods(near: pd.DataFrame, engine_method: str) -> npt.NDArray[np.object_]:
    """Return ``network`` or ``fallback`` for each row of an engine's ``nearest`` result.

    A hybrid engine says it per row; a network engine is ``network`` throughout, a
    straight-line engine ``fallback``.

    Examples
    --------
    >>> import pandas as pd
    >>> point_methods(pd.DataFrame({"method": ["network", "fallback"]}), "hybrid").tolist()
    ['network', 'fallback']
    >>> point_methods(pd.DataFrame({"minutes": [1.0]}), "crow_flies_circuity").tolist()
    ['fallback']
    """
    if engine_method == "hybrid" and "method" in near:
        return near["method"].astype(str).to_numpy(dtype=object)
    label = "network" if engine_method == "network" else "fallback"
    return np.full(len(near), label, dtype=object)


def own_unit_minutes(
    demand: gpd.GeoDataFrame, points: gpd.GeoDataFrame, engine: TravelEngine
) -> npt.NDArray[np.float64]:
    """Minutes to the nearest point in one's own unit (``inf`` where the unit has none).

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> xy = gpd.points_from_xy([585500.0] * 2, [2325000.0] * 2)
    >>> dem = gpd.GeoDataFrame({"unit_code": ["A", "B"]}, geometry=xy, crs=32648)
    >>> pts = gpd.GeoDataFrame({"unit_code": ["A"]}, geometry=gpd.points_from_xy([585000.0], [2325000.0]), crs=32648)
    >>> own_unit_minutes(dem, pts, CrowFliesEngine("bike", speed_kmh=12, circuity=1)).round(6).tolist()
    [2.5, inf]
    """
    own = np.full(len(demand), np.inf)
    dem_units = demand["unit_code"].to_numpy()
    for code, group in points.groupby("unit_code"):
        mask = dem_units == code
        if mask.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unreachable counted in the main view
                res = engine.nearest(demand.loc[mask], group)
            own[mask] = res["minutes"].to_numpy(dtype=float)
    return own


def _per_unit(values: pd.Series, demand: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Sum ``values`` by the demand's unit, on ``index`` (0 for units without demand)."""
    return values.groupby(demand["unit_code"]).sum().reindex(index).fillna(0.0)


def _weighted_unit_mean(x: npt.NDArray[np.float64], demand: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Population-weighted mean of the finite ``x`` per unit (NaN where none is finite)."""
    fin = np.isfinite(x)
    pop = demand["population"]
    num = (pop * np.where(fin, x, 0.0)).groupby(demand["unit_code"]).sum()
    den = pop.where(fin, 0.0).groupby(demand["unit_code"]).sum()
    return (num / den).reindex(index)


def _share(part: pd.Series, total: pd.Series) -> pd.Series:
    return (part / total).where(total > 0)


def unit_travel_table(
    units: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    rule_kinds: Sequence[str] = RULE_KINDS,
) -> gpd.GeoDataFrame:
    """Per unit: population, points, coverage and travel-time statistics.

    Parameters
    ----------
    units
        The units, indexed by code.
    demand
        The demand after :func:`nearest_view`, with ``own_unit_minutes``.
    points
        The points with ``unit_code`` and ``kind``.
    rule_kinds
        Kinds counted in ``n_points`` (``n_points_all`` counts every kind).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``units`` with ``demand_population``, ``n_points``, ``n_points_all``,
        ``population_within_standard``, ``coverage_share``, ``population_beyond_standard``,
        ``mean_minutes``, ``median_minutes``, ``p90_minutes``, ``max_minutes``,
        ``share_beyond_{15,30,45}`` and ``own_unit_mean_minutes``.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> c = tiny_city()
    >>> dem = nearest_view(c["demand"], c["points"], c["engine"], 30, 5000)
    >>> dem["own_unit_minutes"] = own_unit_minutes(dem, c["points"], c["engine"])
    >>> u = unit_travel_table(c["units"], dem, c["points"])
    >>> u["coverage_share"].tolist(), u["n_points"].tolist(), u["population_beyond_standard"].tolist()
    ([1.0, 0.6], [1, 0], [0.0, 40.0])
    """
    u = units.copy()
    u["population"] = pd.to_numeric(u["population"]) if "population" in u else np.nan
    pop, idx = demand["population"], u.index
    u["demand_population"] = _per_unit(pop, demand, idx)
    rule_pts = points[points["kind"].isin(list(rule_kinds))]
    u["n_points"] = rule_pts.groupby("unit_code").size().reindex(idx).fillna(0).astype(int)
    u["n_points_all"] = points.groupby("unit_code").size().reindex(idx).fillna(0).astype(int)
    u["population_within_standard"] = _per_unit(pop.where(demand["within_standard"], 0.0), demand, idx)
    u["coverage_share"] = _share(u["population_within_standard"], u["demand_population"])
    u["population_beyond_standard"] = u["demand_population"] - u["population_within_standard"]
    minutes = demand["minutes"].to_numpy(dtype=float)
    u["mean_minutes"] = _weighted_unit_mean(minutes, demand, idx)
    qs = group_weighted_quantiles(demand["unit_code"].to_numpy(), minutes, pop.to_numpy(dtype=float), (0.5, 0.9))
    u["median_minutes"] = qs[0.5].reindex(idx)
    u["p90_minutes"] = qs[0.9].reindex(idx)
    u["max_minutes"] = demand.loc[pop > 0].groupby("unit_code")["minutes"].max().reindex(idx)
    for t in BEYOND_MINUTES:
        beyond = _per_unit(pop.where(demand["minutes"] > t + EPS, 0.0), demand, idx)
        u[f"share_beyond_{t}"] = _share(beyond, u["demand_population"])
    u["own_unit_mean_minutes"] = _weighted_unit_mean(demand["own_unit_minutes"].to_numpy(dtype=float), demand, idx)
    return u


#: Engines for other modes made by :func:`engine_for_mode`, by (engine, mode, network): the walking
#: engine of a run is built once, not by each step that asks for it (its engine must still exist).
_FOR_MODE: dict[tuple[int, str, str], tuple[weakref.ref[Any], TravelEngine]] = {}


def engine_for_mode(engine: TravelEngine, mode: str, network: Any) -> TravelEngine:
    """Return an engine like ``engine`` for another travel mode (same network or fallback), made once.

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> bike = CrowFliesEngine("motorbike", circuity=1.2)
    >>> walk = engine_for_mode(bike, "walk", None)
    >>> walk.circuity, engine_for_mode(bike, "walk", None) is walk
    (1.2, True)
    """
    if getattr(engine, "mode", None) == mode:
        return engine
    if not (network is None or isinstance(network, str)):  # a graph given alongside: made each time
        return _engine_for_mode(engine, mode, network)
    key = (id(engine), mode, str(network))
    hit = _FOR_MODE.get(key)
    if hit is not None and hit[0]() is engine:
        return hit[1]
    made = _engine_for_mode(engine, mode, network)
    try:
        ref = weakref.ref(engine)
    except TypeError:  # an engine that cannot be referred to weakly: not kept
        return made
    for k in [k for k, (r, _) in _FOR_MODE.items() if r() is None]:
        del _FOR_MODE[k]  # engines gone
    _FOR_MODE[key] = (ref, made)
    return made


def _engine_for_mode(engine: TravelEngine, mode: str, network: Any) -> TravelEngine:
    from pointplan.network import CrowFliesEngine, HybridEngine, make_engine, make_hybrid_engine

    if isinstance(engine, HybridEngine):
        same_roads = getattr(engine.network, "for_mode", None)  # roads held as arrays, or of a road file
        if same_roads is not None and getattr(engine.network, "from_file", False):  # as make_hybrid_engine(graph, mode)
            return HybridEngine(same_roads(mode), CrowFliesEngine(mode))  # type: ignore[arg-type]
        if engine.graph is None and same_roads is not None:
            fallback = CrowFliesEngine(mode)  # type: ignore[arg-type]
            return HybridEngine(same_roads(mode), fallback, snap_m=engine.snap_m, handover_from=engine.handover_from)
        return make_hybrid_engine(engine.graph, mode=mode)
    graph = getattr(engine, "graph", None)
    if graph is not None:
        return make_engine(graph, mode=mode)
    circuity = getattr(engine, "circuity", None)
    kwargs = {"circuity": circuity} if circuity is not None else {}
    return make_engine(network, mode=mode, **kwargs)


def _mode_minutes(demand: gpd.GeoDataFrame, points: gpd.GeoDataFrame, engine: TravelEngine) -> npt.NDArray[np.float64]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engine.nearest(demand, points)["minutes"].to_numpy(dtype=float)


def coverage_by_mode(
    units: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    engine: TravelEngine,
    *,
    mode: str,
    modes: Sequence[str],
    max_minutes: float,
    network: Any = None,
    mode_minutes: Callable[[str], npt.NDArray[np.float64]] | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Coverage per unit for the main mode and each of ``modes``.

    Other modes use the same kind of engine (the same network, or the fallback with the
    same circuity); the 5-km part of the standard does not depend on the mode.

    Returns
    -------
    tuple of pandas.DataFrame and dict
        Per unit (index ``code``): ``coverage_share_{mode}`` (the standard) and
        ``within_{max_minutes}_min_share_{mode}`` (time only), ``travel_time_method``;
        and the city-wide share of people within ``max_minutes`` per mode.

    Other modes' minutes come from ``mode_minutes(mode)`` when given (the kept travel
    times of a :class:`pointplan.Scenario`), else from the engine for that mode.

    Examples
    --------
    Walking (4.5 km/h by default) the xã's nearer residents are beyond 30 minutes but
    within 5 km:

    >>> from pointplan.assessment._demo import tiny_city
    >>> c = tiny_city()
    >>> dem = nearest_view(c["demand"], c["points"], c["engine"], 30, 5000)
    >>> dem["own_unit_minutes"] = own_unit_minutes(dem, c["points"], c["engine"])
    >>> u = unit_travel_table(c["units"], dem, c["points"])
    >>> cov, city = coverage_by_mode(u, dem, c["points"], c["engine"], mode="bike", modes=["walk"], max_minutes=30)
    >>> cov["coverage_share_walk"].tolist(), cov["within_30_min_share_walk"].tolist(), city
    ([1.0, 0.6], [1.0, 0.0], {'bike': 0.9, 'walk': 0.75})
    """
    pop = demand["population"].to_numpy(dtype=float)
    total = units["demand_population"]
    cov, time_only, city = {}, {}, {}
    for m in dict.fromkeys([mode, *modes]):
        if m == mode:
            mins = demand["minutes"].to_numpy(dtype=float)
        elif mode_minutes is not None:
            mins = mode_minutes(m)
        else:
            mins = _mode_minutes(demand, points, engine_for_mode(engine, m, network))
        in_time = mins <= max_minutes + EPS
        within = in_time | demand["within_distance"].to_numpy()
        time_only[m] = _share(_per_unit(demand["population"].where(in_time, 0.0), demand, units.index), total)
        city[m] = float(pop[in_time].sum() / pop.sum()) if pop.sum() else math.nan
        cov[m] = _share(_per_unit(demand["population"].where(within, 0.0), demand, units.index), total)
    coverage = pd.DataFrame(cov)
    coverage.columns = [f"coverage_share_{c}" for c in coverage.columns]
    for m, share in time_only.items():
        coverage[f"within_{max_minutes:g}_min_share_{m}"] = share
    coverage.index.name = "code"
    coverage["travel_time_method"] = engine.method
    return coverage, city
