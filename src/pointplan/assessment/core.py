""":func:`assess`: the assessment as a short sequence of named steps.

1. check the parameters and inputs (:mod:`~pointplan.assessment.inputs`);
2. the nearest point anywhere and the standard, the own-unit view
   (:mod:`~pointplan.assessment.coverage`);
3. floating-catchment access (:mod:`~pointplan.assessment.fca`);
4. visits and load (:mod:`~pointplan.assessment.load`);
5. the unit table, coverage by mode, equity (:mod:`~pointplan.assessment.equity`);
6. findings (:mod:`~pointplan.assessment.rules`) and the summary.

Examples
--------
>>> from pointplan.assessment._demo import tiny_city
>>> c = tiny_city()
>>> a = assess(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=())
>>> a.units["coverage_share"].tolist()
[1.0, 0.6]
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan import settings
from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.catchment import PointGroups, catchment_summary, group_points
from pointplan.assessment.coverage import (
    apply_nearest,
    coverage_by_mode,
    engine_for_mode,
    own_unit_minutes,
    unit_travel_table,
)
from pointplan.assessment.defaults import RULE_KINDS, VISITS_PER_COUNTER_PER_DAY
from pointplan.assessment.equity import equity_table, unit_gini
from pointplan.assessment.fca import demand_access, unit_access
from pointplan.assessment.inputs import check_network_covers, prepare_demand, prepare_points, projected_xy
from pointplan.assessment.load import demand_visits_step, point_load, supply_counters, unit_load
from pointplan.assessment.options import AssessSettings, make_settings
from pointplan.assessment.result import Assessment
from pointplan.assessment.rules import check_rules, load_findings, reach_findings, sort_findings
from pointplan.assessment.summary import build_summary

__all__ = ["assess"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: The parameters of :func:`assess` that :func:`~pointplan.assessment.options.make_settings` checks.
SETTING_NAMES: tuple[str, ...] = (
    "mode",
    "engine",
    "max_minutes",
    "max_distance_m",
    "modes",
    "visits_per_counter",
    "counters_default",
    "availability",
    "huff_beta_per_min",
    "rule_kinds",
    "max_off_network_share",
    "name",
    "network",
    "visits",
)


class Travel(Protocol):
    """Where the figures get their travel times: the engine (:func:`assess`) or kept times (Scenario)."""

    def nearest(self) -> pd.DataFrame:
        """Return the engine's ``nearest`` answer for every demand place (``dest``, ``minutes``, ``distance_m``)."""
        ...

    def own_unit(self) -> npt.NDArray[np.float64]:
        """Minutes to the nearest point in one's own unit (``inf`` where it has none)."""
        ...

    def od(self) -> pd.DataFrame:
        """Pairs within :attr:`AssessSettings.od_minutes`: ``i``, ``j``, ``minutes``."""
        ...

    def od_to(self, positions: npt.NDArray[np.int64]) -> pd.DataFrame:
        """As :meth:`od`, to the points at ``positions`` only (``j``: position among them)."""
        ...

    def mode_minutes(self, mode: str) -> npt.NDArray[np.float64]:
        """Minutes to the nearest point by another mode."""
        ...


class EngineTravel:
    """The travel times of a fresh assessment: each one asked of the engine."""

    def __init__(self, s: AssessSettings, demand: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> None:
        assert s.engine is not None
        self.s, self.engine, self.demand, self.points = s, s.engine, demand, points

    def nearest(self) -> pd.DataFrame:
        """See :class:`Travel`."""
        return self.engine.nearest(self.demand, self.points)

    def own_unit(self) -> npt.NDArray[np.float64]:
        """See :class:`Travel`."""
        return own_unit_minutes(self.demand, self.points, self.engine)

    def od(self) -> pd.DataFrame:
        """See :class:`Travel` (the times only: the catchments read no path lengths)."""
        return self.engine.od_long(self.demand, self.points, self.s.od_minutes, with_distance=False)

    def od_to(self, positions: npt.NDArray[np.int64]) -> pd.DataFrame:
        """See :class:`Travel`."""
        return self.engine.od_long(self.demand, self.points.iloc[positions], self.s.od_minutes, with_distance=False)

    def mode_minutes(self, mode: str) -> npt.NDArray[np.float64]:
        """See :class:`Travel`."""
        eng = engine_for_mode(self.engine, mode, self.s.network)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eng.nearest(self.demand, self.points)["minutes"].to_numpy(dtype=float)


def prepare_inputs(
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    demand: gpd.GeoDataFrame | None,
    s: AssessSettings,
    demand_cell_m: float | None = None,
) -> tuple[AssessSettings, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Step 1: check the units, points, demand and engine; return the completed settings.

    Returns the settings with ``units``, ``demand`` (checked, kept before any figure is
    added) and ``engine`` filled, the checked points (indexed by id) and a working copy
    of the demand.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> from pointplan.assessment.options import make_settings
    >>> c = tiny_city()
    >>> s, pts, dem = prepare_inputs(c["points"], c["units"], c["demand"], make_settings(engine=c["engine"]))
    >>> s.mode, list(pts.index), len(dem)
    ('bike', ['P1'], 4)
    """
    from pointplan.data import load_units, validate_units

    units = load_units() if units is None else units
    validate_units(units, topology=False)
    pts = prepare_points_for(points, units, s)
    reuse = s.demand is not None and demand is None  # a re-assessment: demand already checked
    if reuse:
        dem = s.demand
    else:
        user_given = demand is not None
        if demand is None:  # as pointplan run: 250 m where people are dense, 1 km elsewhere
            from pointplan.demand import DEFAULT_CELL_M, DEFAULT_FINE_PER_KM2, build_demand

            fine = DEFAULT_FINE_PER_KM2 if demand_cell_m is None else None
            demand = build_demand(units, cell_m=demand_cell_m or DEFAULT_CELL_M, fine_per_km2=fine)
        dem = prepare_demand(demand, units)
        dem.attrs["demand_method"] = str(demand.attrs.get("demand_method", "user" if user_given else ""))
    engine = s.engine
    if engine is None:
        from pointplan.network import make_engine

        engine = make_engine(s.network, mode=s.mode)
    if not (reuse and s.engine is not None):
        check_network_covers(engine, dem, s.max_off_network_share)
    s = replace(s, units=units, demand=dem, engine=engine)
    assert dem is not None
    return s, pts, dem.copy()


def prepare_points_for(points: gpd.GeoDataFrame, units: gpd.GeoDataFrame, s: AssessSettings) -> gpd.GeoDataFrame:
    """Step 1: the checked points with their unit (found from the units where not given).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> from pointplan.assessment.options import make_settings
    >>> c = tiny_city()
    >>> prepare_points_for(c["points"].drop(columns="unit_code"), c["units"], make_settings())["unit_code"].tolist()
    ['00001']
    """
    pts = prepare_points(points, s.counters_default)
    if "unit_code" not in points.columns or pts["unit_code"].isna().all():
        from pointplan.points import assign_units

        pts["unit_code"] = assign_units(pts, units).to_numpy()
    return pts


def _unit_table(
    units: gpd.GeoDataFrame, dem: gpd.GeoDataFrame, pts: gpd.GeoDataFrame, s: AssessSettings, method: str
) -> gpd.GeoDataFrame:
    """Step 5: one row per unit: travel, access, load, equity, precision of the nearest points."""
    u = unit_travel_table(units, dem, pts, s.rule_kinds)
    u = unit_access(u, dem)
    u = unit_load(u, dem, pts, s.availability)
    u["gini_minutes"] = unit_gini(dem, u.index)
    prec = dem.assign(p=dem["nearest_point"].map(pts["location_precision"])).groupby("unit_code")["p"]
    u["nearest_point_precision"] = prec.agg(lambda s: ";".join(sorted(set(s.dropna())))).reindex(u.index)
    u["travel_time_method"] = method
    u["mode"] = s.mode
    return u


def _record_methods(
    u: pd.DataFrame, dem: pd.DataFrame, summary: dict[str, Any], engine: TravelEngine, mode: str
) -> str:
    """Say which travel-time method each figure rests on: per unit, in the summary, with its error.

    A hybrid engine routes some people on the road network and the rest on the calibrated
    straight-line fallback: units get ``network``, ``fallback`` or ``mixed`` with the share
    of their people on the network, and the summary ``hybrid`` when mixed. Wherever the
    calibrated fallback is used, its held-out error and the area it was fitted on are in
    the summary. Returns the assessment's method label.
    """
    from pointplan.network import summarise_methods

    method = str(getattr(engine, "method", "unknown"))
    per_unit, overall = summarise_methods(dem["travel_time_method"], dem["population"], dem["unit_code"])
    u["network_population_share"] = per_unit["network_population_share"].reindex(u.index).to_numpy()
    summary["network_population_share"] = overall["network_population_share"]
    if method == "hybrid":
        u["travel_time_method"] = per_unit["travel_time_method"].reindex(u.index).to_numpy()
        method = str(overall["travel_time_method"])
        summary["travel_time_method"] = method
    if bool((dem["travel_time_method"] == "fallback").any()):
        summary.update(_fallback_error(engine, mode))
    return method


def _fallback_error(engine: TravelEngine, mode: str) -> dict[str, Any]:
    """Held-out error of the calibrated fallback for ``mode`` (empty for a fixed circuity)."""
    fallback = getattr(engine, "fallback", engine)
    circuity = getattr(fallback, "circuity", None)
    if circuity is not None:  # a fixed circuity chosen by the user
        return {"fallback_model": f"circuity {circuity:g}"}
    try:
        from pointplan.network import load_calibration

        cal = load_calibration()
        stats = cal.models[mode].stats
    except (KeyError, ValueError, OSError):
        return {}
    err = stats.get("heldout_abs_pct_error", {})
    signed = stats.get("heldout_signed_pct_error", {})
    return {
        "fallback_model": "calibrated on Hanoi's inner-city roads",
        "fallback_heldout_signed_pct_error_median": signed.get("median"),
        "fallback_heldout_abs_pct_error_median": err.get("median"),
        "fallback_heldout_abs_pct_error_p90": err.get("p90"),
        "fallback_calibration_scope": cal.meta.get("scope", ""),
    }


def _findings(
    pts: pd.DataFrame, units: gpd.GeoDataFrame, u: pd.DataFrame, dem: pd.DataFrame, s: AssessSettings
) -> pd.DataFrame:
    """Step 6: rule findings, then load and reach findings, errors first."""
    rules = check_rules(pts, units, rule_kinds=s.rule_kinds)
    extra = [*load_findings(pts), *reach_findings(u, dem, s.max_minutes, s.max_distance_m)]
    return sort_findings(rules, extra)


def assessment_figures(s: AssessSettings, pts: gpd.GeoDataFrame, dem: gpd.GeoDataFrame, travel: Travel) -> Assessment:
    """Compute steps 2–6: every figure of an assessment from checked inputs and their travel times.

    :func:`assess` calls it with the engine's times, :class:`pointplan.Scenario` with the
    times it keeps, so both give the same figures for the same points.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> from pointplan.assessment.options import make_settings
    >>> c = tiny_city()
    >>> s = make_settings(engine=c["engine"], modes=(), visits=c["visits"])
    >>> s, pts, dem = prepare_inputs(c["points"], c["units"], c["demand"], s)
    >>> assessment_figures(s, pts, dem, EngineTravel(s, dem, pts)).units["coverage_share"].tolist()
    [1.0, 0.6]
    """
    engine = s.engine
    assert engine is not None and s.units is not None
    method = str(getattr(engine, "method", "unknown"))
    # 2. The nearest point anywhere (no administrative boundary), the standard, own unit.
    dem = apply_nearest(dem, pts, travel.nearest(), method, s.max_minutes, s.max_distance_m)
    dem["own_unit_minutes"] = travel.own_unit()
    # 3. Floating-catchment access (very many points: grouped into grid cells).
    supply = supply_counters(pts, s.availability)
    od, groups = _catchment_pairs(travel, pts, supply)
    dem = demand_access(dem, od, supply if groups is None else groups.group_sum(supply), s.max_minutes)
    # 4. Visits and load.
    dem = demand_visits_step(dem, s.units, s.visits)
    pts = point_load(
        pts,
        dem,
        od,
        supply,
        availability=s.availability,
        visits_per_counter=s.visits_per_counter,
        huff_beta_per_min=s.huff_beta_per_min,
        group_of=None if groups is None else groups.of_point,
    )
    pts["travel_time_method"] = method
    # 5. Units, coverage by mode, equity.
    u = _unit_table(s.units, dem, pts, s, method)
    coverage, within_by_mode = coverage_by_mode(
        u, dem, pts, engine, mode=s.mode, modes=s.modes, max_minutes=s.max_minutes, mode_minutes=travel.mode_minutes
    )
    equity = equity_table(dem, u, method)
    # 6. Findings and summary.
    a = _summarise(s, u, pts, dem, coverage, equity, within_by_mode, method)
    a.summary.update(catchment_summary(len(pts), groups))
    return a


def _catchment_pairs(
    travel: Travel, pts: gpd.GeoDataFrame, supply: npt.NDArray[np.float64]
) -> tuple[pd.DataFrame, PointGroups | None]:
    """Step 3: the catchment pairs, to every point or (very many points) to their groups.

    Groups above :data:`pointplan.settings.catchment_max_points` points; see
    :mod:`pointplan.assessment.catchment`. The choice is logged once per assessment.
    """
    limit = int(settings.catchment_max_points)
    if len(pts) <= limit:
        return travel.od(), None
    groups = group_points(projected_xy(pts), np.maximum(supply, 1e-9), limit)
    logger.info(
        "%d points (more than settings.catchment_max_points = %d): the floating catchments and Huff loads "
        "route to %d grid cells of %.0f m (the nearest point stays exact)",
        len(pts), limit, groups.n_groups, groups.cell_m,
    )  # fmt: skip
    return travel.od_to(groups.representative), groups


def _summarise(
    s: AssessSettings,
    u: gpd.GeoDataFrame,
    pts: gpd.GeoDataFrame,
    dem: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    equity: pd.DataFrame,
    within_by_mode: dict[str, float],
    method: str,
) -> Assessment:
    """Step 6: findings, the summary and the :class:`Assessment` (tables in EPSG:4326)."""
    assert s.units is not None and s.engine is not None
    findings = _findings(pts, s.units, u, dem, s)
    summary = build_summary(
        name=s.name,
        units=u,
        points=pts,
        demand=dem,
        findings=findings,
        coverage=coverage,
        within_minutes_by_mode=within_by_mode,
        params=s.params(),
        method=method,
        demand_method=str(dem.attrs.get("demand_method", "user")),
    )
    method = _record_methods(u, dem, summary, s.engine, s.mode)
    geo = settings.geographic_crs
    return Assessment(
        units=u.to_crs(geo),
        points=pts.to_crs(geo),
        demand=dem.to_crs(geo),
        findings=findings,
        coverage=coverage,
        equity=equity,
        summary=summary,
        mode=s.mode,
        travel_time_method=method,
        params=s.params(),
        name=s.name,
        engine=s.engine,
        settings=s,
    )


def assess(
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None = None,
    demand: gpd.GeoDataFrame | None = None,
    mode: str | None = None,
    network: Any = None,
    *,
    engine: TravelEngine | None = None,
    max_minutes: float | None = None,
    max_distance_m: float | None = None,
    modes: Sequence[str] = ("walk", "motorbike"),
    visits: pd.DataFrame | pd.Series | None = None,
    demand_cell_m: float | None = None,
    counters_default: Mapping[str, int] | None = None,
    visits_per_counter: float = VISITS_PER_COUNTER_PER_DAY,
    availability: Mapping[str, float] | None = None,
    huff_beta_per_min: float = math.log(2) / 10,
    rule_kinds: Sequence[str] = RULE_KINDS,
    name: str = "scenario",
    max_off_network_share: float = 0.2,
) -> Assessment:
    """Assess a set of service points: rules, coverage, accessibility, load and equity.

    Parameters
    ----------
    points
        Service points (see :data:`pointplan.points.POINT_COLUMNS`), any CRS.
    units, demand
        The units (default :func:`pointplan.load_units`) and demand points with
        ``population`` and ``unit_code`` (default: WorldPop rescaled to official
        populations, :func:`pointplan.demand.build_demand`: as ``pointplan run``, 250 m cells
        where people are dense and 1 km elsewhere; ``demand_cell_m``: that cell everywhere).
    mode, network, engine
        Main travel mode (``walk``, ``bike``, ``motorbike`` or ``car``; default the
        engine's, else ``motorbike``); a road network (graph or ``.osm``/``.graphml``;
        ``None``: the straight-line fallback); or a ready engine, whose mode must equal
        ``mode`` when both are given (else :class:`InputError`).
    max_minutes, max_distance_m
        The standard: within ``max_minutes`` **or** ``max_distance_m`` (defaults 30 min, 5 km).
    modes, visits, demand_cell_m, counters_default, visits_per_counter, availability, \
huff_beta_per_min, rule_kinds, name, max_off_network_share
        The other settings, described in
        :class:`~pointplan.assessment.options.AssessSettings` and
        :func:`~pointplan.assessment.options.make_settings`: coverage-by-mode modes,
        visits a day per unit, demand cell size, counters by kind, visits a counter
        serves a day, share of days open, Huff decay, rule kinds, scenario name, and the
        largest share of people allowed off the road network.

    Returns
    -------
    Assessment
        Tables and summary; :attr:`Assessment.settings` holds every setting, so
        :func:`pointplan.reassess` assesses another set of points the same way.
        2SFCA/E2SFCA are ``NaN`` in the demand table where no point is within the
        catchment; the unit and equity tables count those residents as having 0 counters
        (the summary's ``population_without_point_in_catchment``).

    Raises
    ------
    InputError, CRSError, MissingColumnError
        For unusable inputs, with the fix in the message.
    NetworkError
        The road network does not cover the study area.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> c = tiny_city()
    >>> a = assess(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=())
    >>> a.demand["within_standard"].tolist(), float(a.points.loc["P1", "visits_per_day"])
    ([True, True, True, False], 40.0)
    """
    given = locals()
    s = make_settings(**{k: given[k] for k in SETTING_NAMES})
    s, pts, dem = prepare_inputs(points, units, demand, s, demand_cell_m)
    return assessment_figures(s, pts, dem, EngineTravel(s, dem, pts))
