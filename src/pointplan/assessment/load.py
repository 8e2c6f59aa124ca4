"""Load: in-person visits a day assigned to the points (nearest and Huff), capacity, utilisation.

Capacity of a point = counters × visits a counter serves a day × availability (the share
of days it is open: the mobile truck 0.3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan.assessment.defaults import IDLE_UTILISATION, OVERLOAD_UTILISATION
from pointplan.assessment.inputs import projected_xy

__all__ = [
    "demand_visits_step",
    "huff_visits",
    "nearest_positions",
    "point_load",
    "supply_counters",
    "unit_load",
]

FloatArray = npt.NDArray[np.float64]


def supply_counters(points: pd.DataFrame, availability: Mapping[str, float]) -> FloatArray:
    """Counters of each point weighted by the share of days it is open.

    Examples
    --------
    >>> p = pd.DataFrame({"counters_used": [3.0, 1.0], "kind": ["unit_point", "mobile"]})
    >>> supply_counters(p, {"mobile": 0.3}).tolist()
    [3.0, 0.3]
    """
    share = points["kind"].map(lambda k: availability.get(k, 1.0)).to_numpy(dtype=float)
    return points["counters_used"].to_numpy(dtype=float) * share


def _default_unit_visits(units: gpd.GeoDataFrame, demand: pd.DataFrame) -> pd.DataFrame | pd.Series:
    """Return visits a day per unit at the city's rate (8,000 dossiers for 8,807,523 people).

    A study of some units (or another province) gets its share, not the whole city's.
    """
    from pointplan.data import HANOI_POPULATION
    from pointplan.demand import DEFAULT_DOSSIERS_PER_DAY, visits_per_day

    upop = pd.to_numeric(units["population"], errors="coerce").sum() if "population" in units else 0.0
    if not upop > 0:
        upop = float(demand["population"].sum())
    rate = DEFAULT_DOSSIERS_PER_DAY * float(upop) / HANOI_POPULATION
    return visits_per_day(units, dossiers_per_day=rate)


def demand_visits_step(
    demand: gpd.GeoDataFrame, units: gpd.GeoDataFrame, visits: pd.DataFrame | pd.Series | None
) -> gpd.GeoDataFrame:
    """Add ``visits_per_day`` to the demand: each unit's visits spread by population.

    Parameters
    ----------
    demand
        Demand with ``population`` and ``unit_code``.
    units
        The units (for the default visits).
    visits
        Visits a day per unit (:func:`pointplan.demand.visits_per_day`); ``None``: the
        city's rate per resident. Only units that have demand points take visits.

    Examples
    --------
    >>> xy = gpd.points_from_xy([0, 0], [0, 0])
    >>> d = gpd.GeoDataFrame({"population": [1.0, 3.0], "unit_code": ["A", "A"]}, geometry=xy)
    >>> demand_visits_step(d, None, pd.Series({"A": 8.0, "B": 5.0}))["visits_per_day"].tolist()
    [2.0, 6.0]
    """
    from pointplan.demand import demand_visits

    unit_visits = _default_unit_visits(units, demand) if visits is None else visits
    present = pd.Index(demand["unit_code"].dropna().astype(str).unique())
    unit_visits = unit_visits.loc[unit_visits.index.astype(str).isin(present)]
    demand["visits_per_day"] = demand_visits(demand, unit_visits).reindex(demand.index).fillna(0.0).to_numpy()
    return demand


def _part_time_twins(points: gpd.GeoDataFrame, availability: Mapping[str, float]) -> dict[str, str]:
    """Part-time point -> the permanent point at the same place (within 10 m)."""
    part_time = points["kind"].map(lambda k: availability.get(k, 1.0) < 1.0).to_numpy()
    remap: dict[str, str] = {}
    if not part_time.any():
        return remap
    for a, b in cKDTree(projected_xy(points)).query_pairs(10.0, output_type="ndarray"):
        if part_time[a] and not part_time[b]:
            remap[points.index[a]] = points.index[b]
        elif part_time[b] and not part_time[a]:
            remap[points.index[b]] = points.index[a]
    return remap


def nearest_positions(
    demand: gpd.GeoDataFrame, points: gpd.GeoDataFrame, availability: Mapping[str, float]
) -> npt.NDArray[np.int64]:
    """Position of each demand point's nearest point (``-1`` where none is reached).

    A part-time point (the mobile truck) that shares its location with a permanent point
    never takes the nearest-point load: ties go to the permanent point, and the demand's
    ``nearest_point`` is updated to say so.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"kind": ["mobile", "unit_point"]}, geometry=gpd.points_from_xy([0.0, 1.0], [0.0, 0.0]),
    ...                        index=["M", "U"], crs=32648)
    >>> d = pd.DataFrame({"nearest_point": ["M", None]})
    >>> nearest_positions(d, pts, {"mobile": 0.3}).tolist(), d["nearest_point"].iloc[0]
    ([1, -1], 'U')
    """
    remap = _part_time_twins(points, availability)
    if remap:
        demand["nearest_point"] = demand["nearest_point"].replace(remap)
    pos = pd.Series(np.arange(len(points)), index=points.index)
    reach = demand["nearest_point"].notna().to_numpy()
    nearest_j = np.full(len(demand), -1, dtype=np.int64)
    nearest_j[reach] = pos.loc[demand.loc[reach, "nearest_point"].astype(str)].to_numpy()
    return nearest_j


def huff_visits(
    od: pd.DataFrame,
    visits: FloatArray,
    attractiveness: FloatArray,
    nearest_j: npt.NDArray[np.int64],
    beta_per_min: float,
    *,
    group_of: npt.NDArray[np.int64] | None = None,
) -> FloatArray:
    """Huff model: ``P_ij ∝ A_j exp(-β t_ij)`` over points in reach; else the nearest point.

    Parameters
    ----------
    od
        Pairs in reach: ``i``, ``j``, ``minutes``.
    visits
        Visits a day at each demand point.
    attractiveness
        ``A_j`` (the counters, made positive).
    nearest_j
        Position of each demand point's nearest point (``-1``: none); demand with no
        point in reach goes there.
    beta_per_min
        Distance decay per minute.
    group_of
        Group of each point (:class:`~pointplan.assessment.catchment.PointGroups`): then
        ``od``'s ``j`` are groups, a group attracts with its points' summed ``A_j`` and its
        visits are shared among its points by ``A_j`` (exact for co-located points).

    Returns
    -------
    numpy.ndarray
        Visits a day at each point; the total equals the visits of demand that reaches
        a point.

    Examples
    --------
    Two equally far points of 1 and 3 counters share the visits 1:3:

    >>> import pandas as pd
    >>> od = pd.DataFrame({"i": [0, 0], "j": [0, 1], "minutes": [10.0, 10.0]})
    >>> huff_visits(od, np.array([10.0]), np.array([1.0, 3.0]), np.array([0]), 0.1).tolist()
    [2.5, 7.5]

    The same two points grouped as one (the group is 10 minutes away):

    >>> od_g = pd.DataFrame({"i": [0], "j": [0], "minutes": [10.0]})
    >>> two = np.array([0, 0])
    >>> huff_visits(od_g, np.array([10.0]), np.array([1.0, 3.0]), np.array([0]), 0.1, group_of=two).tolist()
    [2.5, 7.5]
    """
    i = od["i"].to_numpy()
    j = od["j"].to_numpy()
    attract: FloatArray = attractiveness
    if group_of is not None:
        n_groups = int(group_of.max(initial=-1)) + 1
        attract = np.bincount(group_of, weights=attractiveness, minlength=n_groups).astype(float)
    u = attract[j] * np.exp(-beta_per_min * od["minutes"].to_numpy(dtype=float))
    denom = np.bincount(i, weights=u, minlength=visits.size)
    share = np.where(denom[i] > 0, u / np.where(denom[i] > 0, denom[i], 1.0), 0.0)
    # float even when nobody is in reach (bincount of nothing is an integer array)
    out = np.bincount(j, weights=share * visits[i], minlength=attract.size).astype(float)
    if group_of is not None:  # each group's visits shared by its points' attractiveness
        out = out[group_of] * attractiveness / attract[group_of]
    ok = (denom <= 0) & (nearest_j >= 0)  # nobody in reach: they go to the nearest point
    out += np.bincount(nearest_j[ok], weights=visits[ok], minlength=attractiveness.size)
    return out


def _utilisation(visits: pd.Series, capacity: pd.Series) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(capacity > 0, visits / capacity, np.inf)


def point_load(
    points: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    od: pd.DataFrame,
    supply: FloatArray,
    *,
    availability: Mapping[str, float],
    visits_per_counter: float,
    huff_beta_per_min: float,
    group_of: npt.NDArray[np.int64] | None = None,
) -> gpd.GeoDataFrame:
    """Add the load columns to the points (in place; the frame is returned).

    With ``group_of`` (each point's group), ``od`` holds pairs to the groups and the Huff
    visits are those of :func:`huff_visits` with groups.

    ``visits_per_day`` (nearest point), ``visits_per_day_huff``, ``population_served``,
    ``capacity_per_day``, ``utilisation``, ``utilisation_huff`` (``inf`` for a point
    without capacity) and ``load_status`` (``overloaded`` above
    :data:`OVERLOAD_UTILISATION`, ``idle`` below :data:`IDLE_UTILISATION`, else ``ok``).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> from pointplan.assessment.inputs import prepare_points
    >>> c = tiny_city()
    >>> pts = prepare_points(c["points"])
    >>> dem = c["demand"].assign(nearest_point="P1", visits_per_day=[10.0, 20.0, 6.0, 4.0])
    >>> od = c["engine"].od_long(dem, pts, 30)
    >>> out = point_load(pts, dem, od, supply_counters(pts, {}), availability={}, visits_per_counter=32,
    ...                  huff_beta_per_min=0.07)
    >>> out[["visits_per_day", "capacity_per_day", "utilisation", "load_status"]].to_dict("records")
    [{'visits_per_day': 40.0, 'capacity_per_day': 64.0, 'utilisation': 0.625, 'load_status': 'ok'}]
    """
    nearest_j = nearest_positions(demand, points, availability)
    reach = nearest_j >= 0
    v = demand["visits_per_day"].to_numpy(dtype=float)
    pop = demand["population"].to_numpy(dtype=float)
    points["visits_per_day"] = np.bincount(nearest_j[reach], weights=v[reach], minlength=len(points))
    points["visits_per_day_huff"] = huff_visits(
        od, v, np.maximum(supply, 1e-9), nearest_j, huff_beta_per_min, group_of=group_of
    )
    points["population_served"] = np.bincount(nearest_j[reach], weights=pop[reach], minlength=len(points))
    points["capacity_per_day"] = supply * visits_per_counter
    points["utilisation"] = _utilisation(points["visits_per_day"], points["capacity_per_day"])
    points["utilisation_huff"] = _utilisation(points["visits_per_day_huff"], points["capacity_per_day"])
    points["load_status"] = np.select(
        [points["utilisation"] > OVERLOAD_UTILISATION, points["utilisation"] < IDLE_UTILISATION],
        ["overloaded", "idle"],
        "ok",
    )
    return points


def unit_load(
    units: gpd.GeoDataFrame, demand: pd.DataFrame, points: pd.DataFrame, availability: Mapping[str, float]
) -> gpd.GeoDataFrame:
    """Add per unit ``visits_per_day``, ``counters`` (open-day weighted) and ``visits_per_counter``.

    Examples
    --------
    >>> u = pd.DataFrame(index=["A", "B"])
    >>> d = pd.DataFrame({"unit_code": ["A", "A"], "visits_per_day": [3.0, 5.0]})
    >>> p = pd.DataFrame({"unit_code": ["A"], "kind": ["kiosk"], "counters_used": [2.0]})
    >>> unit_load(u, d, p, {})["visits_per_counter"].tolist()
    [4.0, nan]
    """
    units["visits_per_day"] = demand.groupby("unit_code")["visits_per_day"].sum().reindex(units.index).fillna(0.0)
    counters = pd.Series(supply_counters(points, availability), index=points.index)
    units["counters"] = counters.groupby(points["unit_code"]).sum().reindex(units.index).fillna(0.0)
    units["visits_per_counter"] = (units["visits_per_day"] / units["counters"]).where(units["counters"] > 0)
    return units


def mean_utilisation(points: pd.DataFrame) -> float:
    """Visits a day over capacity a day, all points together (NaN without capacity).

    Examples
    --------
    >>> mean_utilisation(pd.DataFrame({"visits_per_day": [30.0, 10.0], "capacity_per_day": [64.0, 16.0]}))
    0.5
    """
    cap = float(points["capacity_per_day"].sum())
    return float(points["visits_per_day"].sum() / cap) if cap else math.nan
