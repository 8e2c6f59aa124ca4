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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from pointplan import settings
from pointplan._validate import check_number, projected_crs
from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.coverage import coverage_by_mode, nearest_view, own_unit_minutes, unit_travel_table
from pointplan.assessment.defaults import (
    AVAILABILITY,
    DEFAULT_COUNTERS,
    E2SFCA_STEPS,
    RULE_KINDS,
    VISITS_PER_COUNTER_PER_DAY,
)
from pointplan.assessment.equity import equity_table, unit_gini
from pointplan.assessment.fca import demand_access, unit_access
from pointplan.assessment.inputs import check_network_covers, prepare_demand, prepare_points
from pointplan.assessment.load import demand_visits_step, point_load, supply_counters, unit_load
from pointplan.assessment.result import Assessment
from pointplan.assessment.rules import check_rules, load_findings, reach_findings, sort_findings
from pointplan.assessment.summary import build_summary

__all__ = ["assess"]


@dataclass(frozen=True)
class _Options:
    """The checked parameters of one assessment."""

    mode: str
    max_minutes: float
    max_distance_m: float
    modes: tuple[str, ...]
    visits_per_counter: float
    counters_default: dict[str, int]
    availability: dict[str, float]
    huff_beta_per_min: float
    rule_kinds: tuple[str, ...]
    max_off_network_share: float

    def params(self) -> dict[str, Any]:
        """Return the parameters as stored in :attr:`Assessment.params`."""
        return {
            "max_minutes": self.max_minutes,
            "max_distance_m": self.max_distance_m,
            "mode": self.mode,
            "modes": list(self.modes),
            "visits_per_counter": self.visits_per_counter,
            "counters_default": dict(self.counters_default),
            "availability": dict(self.availability),
            "huff_beta_per_min": self.huff_beta_per_min,
            "e2sfca_steps": dict(E2SFCA_STEPS),
            "rule_kinds": list(self.rule_kinds),
            "max_off_network_share": self.max_off_network_share,
        }


def _options(
    mode: str | None,
    max_minutes: float | None,
    max_distance_m: float | None,
    modes: Sequence[str],
    visits_per_counter: float,
    counters_default: Mapping[str, int] | None,
    availability: Mapping[str, float] | None,
    huff_beta_per_min: float,
    rule_kinds: Sequence[str],
    max_off_network_share: float,
) -> _Options:
    minutes = settings.standard_minutes if max_minutes is None else max_minutes
    dist = settings.standard_distance_m if max_distance_m is None else max_distance_m
    check_number(minutes, "max_minutes", minimum=0, strict=True)
    check_number(dist, "max_distance_m", minimum=0)
    check_number(visits_per_counter, "visits_per_counter", minimum=0, strict=True)
    check_number(huff_beta_per_min, "huff_beta_per_min", minimum=0)
    projected_crs()  # distances are never measured in degrees
    return _Options(
        mode=mode or settings.default_mode,
        max_minutes=float(minutes),
        max_distance_m=float(dist),
        modes=tuple(modes),
        visits_per_counter=float(visits_per_counter),
        counters_default={**DEFAULT_COUNTERS, **(counters_default or {})},
        availability={**AVAILABILITY, **(availability or {})},
        huff_beta_per_min=float(huff_beta_per_min),
        rule_kinds=tuple(rule_kinds),
        max_off_network_share=float(max_off_network_share),
    )


def _units_and_points(
    points: gpd.GeoDataFrame, units: gpd.GeoDataFrame | None, opts: _Options
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Step 1: the units (default: the 126 of Hanoi) and the checked points with their unit."""
    from pointplan.data import load_units, validate_units

    units = load_units() if units is None else units
    validate_units(units, topology=False)
    pts = prepare_points(points, opts.counters_default)
    if "unit_code" not in points.columns or pts["unit_code"].isna().all():
        from pointplan.points import assign_units

        pts["unit_code"] = assign_units(pts, units).to_numpy()
    return units, pts


def _demand(demand: gpd.GeoDataFrame | None, units: gpd.GeoDataFrame, cell_m: float | None) -> gpd.GeoDataFrame:
    """Step 1: the checked demand (default: WorldPop rescaled to official populations)."""
    if demand is None:
        from pointplan.demand import build_demand

        demand = build_demand(units, cell_m=cell_m)
    return prepare_demand(demand, units)


def _engine(engine: TravelEngine | None, network: Any, opts: _Options, demand: gpd.GeoDataFrame) -> TravelEngine:
    """Step 1: the travel-time engine, refused if its network misses the study area."""
    if engine is None:
        from pointplan.network import make_engine

        engine = make_engine(network, mode=opts.mode)
    check_network_covers(engine, demand, opts.max_off_network_share)
    return engine


def _unit_table(
    units: gpd.GeoDataFrame, dem: gpd.GeoDataFrame, pts: gpd.GeoDataFrame, opts: _Options, method: str
) -> gpd.GeoDataFrame:
    """Step 5: one row per unit: travel, access, load, equity, precision of the nearest points."""
    u = unit_travel_table(units, dem, pts, opts.rule_kinds)
    u = unit_access(u, dem)
    u = unit_load(u, dem, pts, opts.availability)
    u["gini_minutes"] = unit_gini(dem, u.index)
    prec = dem.assign(p=dem["nearest_point"].map(pts["location_precision"])).groupby("unit_code")["p"]
    u["nearest_point_precision"] = prec.agg(lambda s: ";".join(sorted(set(s.dropna())))).reindex(u.index)
    u["travel_time_method"] = method
    u["mode"] = opts.mode
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
    return {
        "fallback_model": "calibrated on Hanoi's inner-city roads",
        "fallback_heldout_abs_pct_error_median": err.get("median"),
        "fallback_heldout_abs_pct_error_p90": err.get("p90"),
        "fallback_calibration_scope": cal.meta.get("scope", ""),
    }


def _findings(
    pts: pd.DataFrame, units: gpd.GeoDataFrame, u: pd.DataFrame, dem: pd.DataFrame, opts: _Options
) -> pd.DataFrame:
    """Step 6: rule findings, then load and reach findings, errors first."""
    rules = check_rules(pts, units, rule_kinds=opts.rule_kinds)
    extra = [*load_findings(pts), *reach_findings(u, dem, opts.max_minutes, opts.max_distance_m)]
    return sort_findings(rules, extra)


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
    units
        The units (default :func:`pointplan.load_units`).
    demand
        Demand points with ``population`` and ``unit_code`` (default: the 1 km WorldPop
        demand rescaled to official populations, :func:`pointplan.demand.build_demand`).
    mode
        Travel mode for the main view: ``walk``, ``bike``, ``motorbike`` (default) or ``car``.
    network
        A road network (osmnx graph or a ``.osm``/``.graphml`` path). ``None``: straight-line
        distance × circuity ÷ speed (every table says which method was used).
    engine
        A ready travel-time engine (overrides ``network``/``mode``).
    max_minutes, max_distance_m
        The standard: within ``max_minutes`` **or** ``max_distance_m`` (defaults 30 min, 5 km).
    modes
        Modes for the coverage-by-mode table (``walk`` and ``motorbike`` by default).
    visits
        In-person visits a day per unit (the output of
        :func:`pointplan.demand.visits_per_day`); default city figures spread by population.
    demand_cell_m
        Cell size of the default demand (``None`` = 1 km, e.g. ``250``).
    counters_default
        Counters assumed per kind where ``counters`` is missing (:data:`DEFAULT_COUNTERS`).
    visits_per_counter
        In-person visits a counter serves a day (:data:`VISITS_PER_COUNTER_PER_DAY`).
    availability
        Share of days a kind is open (:data:`AVAILABILITY`: the mobile truck 0.3).
    huff_beta_per_min
        Distance decay of the Huff model (default: attraction halves every 10 minutes).
    rule_kinds
        Kinds counted by the "one point per unit" rule.
    name
        Scenario name used by :meth:`Assessment.compare` and reports.
    max_off_network_share
        With a road network: the largest share of people that may lie farther from it
        than the engine's ``max_snap_m`` (their trip there is counted as a straight line).
        Above it the network does not cover the study area and a :class:`NetworkError`
        says so, instead of results made mostly of straight lines.

    Returns
    -------
    Assessment
        Tables and summary. 2SFCA/E2SFCA are ``NaN`` in the demand table where no point
        is within the catchment; the unit and equity tables count those residents as
        having 0 counters, and the summary gives their number
        (``population_without_point_in_catchment``).

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
    opts = _options(
        mode,
        max_minutes,
        max_distance_m,
        modes,
        visits_per_counter,
        counters_default,
        availability,
        huff_beta_per_min,
        rule_kinds,
        max_off_network_share,
    )
    units, pts = _units_and_points(points, units, opts)
    dem = _demand(demand, units, demand_cell_m)
    engine = _engine(engine, network, opts, dem)
    method = str(getattr(engine, "method", "unknown"))
    # 2. The nearest point anywhere (no administrative boundary), the standard, own unit.
    dem = nearest_view(dem, pts, engine, opts.max_minutes, opts.max_distance_m)
    dem["own_unit_minutes"] = own_unit_minutes(dem, pts, engine)
    # 3. Floating-catchment access.
    supply = supply_counters(pts, opts.availability)
    od = engine.od_long(dem, pts, max(opts.max_minutes, max(E2SFCA_STEPS)))
    dem = demand_access(dem, od, supply, opts.max_minutes)
    # 4. Visits and load.
    dem = demand_visits_step(dem, units, visits)
    pts = point_load(
        pts,
        dem,
        od,
        supply,
        availability=opts.availability,
        visits_per_counter=opts.visits_per_counter,
        huff_beta_per_min=opts.huff_beta_per_min,
    )
    pts["travel_time_method"] = method
    # 5. Units, coverage by mode, equity.
    u = _unit_table(units, dem, pts, opts, method)
    coverage, within_by_mode = coverage_by_mode(
        u, dem, pts, engine, mode=opts.mode, modes=opts.modes, max_minutes=opts.max_minutes, network=network
    )
    equity = equity_table(dem, u, method)
    # 6. Findings and summary.
    findings = _findings(pts, units, u, dem, opts)
    demand_method = dem.attrs.get(
        "demand_method", demand.attrs.get("demand_method", "user") if demand is not None else ""
    )
    summary = build_summary(
        name=name,
        units=u,
        points=pts,
        demand=dem,
        findings=findings,
        coverage=coverage,
        within_minutes_by_mode=within_by_mode,
        params=opts.params(),
        method=method,
        demand_method=str(demand_method),
    )
    method = _record_methods(u, dem, summary, engine, opts.mode)
    geo = settings.geographic_crs
    return Assessment(
        units=u.to_crs(geo),
        points=pts.to_crs(geo),
        demand=dem.to_crs(geo),
        findings=findings,
        coverage=coverage,
        equity=equity,
        summary=summary,
        mode=opts.mode,
        travel_time_method=method,
        params=opts.params(),
        name=name,
        engine=engine,
    )
