"""What a run adds to the per-unit and per-point tables: intervals, bus access, time to service.

The library pieces (:mod:`pointplan.uncertainty`, :mod:`pointplan.staffing`,
:mod:`pointplan.transit`) each compute their own figures; this module gathers them into the
tables ``pointplan run`` writes (``units.csv``, ``points.csv``, ``findings.csv``,
``tables.xlsx``) and the report shows, so every format carries the same columns.

The bus network is read once per assessment: :func:`bus_context` keeps its answer on the
assessment (``assessment.derived["bus"]``) and every later table, map layer and report section reuses it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan.assessment.catchment import per_point_findings
from pointplan.report.tables import points_table, units_table
from pointplan.uncertainty.central import central_units

__all__ = [
    "BUS_POINT_COLUMNS",
    "BUS_UNIT_COLUMNS",
    "BusContext",
    "bus_context",
    "bus_population_share_near",
    "run_findings",
    "run_points_table",
    "run_units_table",
    "unit_time_to_service",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Bus columns ``units.csv`` gains (issue 16).
BUS_UNIT_COLUMNS: tuple[str, ...] = ("bus_access", "bus_stops", "bus_pop_share_near")
#: Bus columns ``points.csv`` gains (issue 16).
BUS_POINT_COLUMNS: tuple[str, ...] = ("bus_stops_near", "bus_trips_per_hour_midday", "nearest_bus_stop_m")


@dataclass
class BusContext:
    """The bus figures of one assessment, computed once.

    Attributes
    ----------
    network
        The :class:`pointplan.transit.BusNetwork` (``None`` when it could not be read).
    points
        :func:`pointplan.transit.point_bus_access` of the assessment's points.
    units
        :func:`pointplan.transit.unit_bus_access` of its units (weighed by its demand).
    findings
        :func:`pointplan.transit.no_bus_stop_findings` (rule ``no_bus_stop_nearby``).
    stops
        :func:`pointplan.transit.stop_frequency` of the stops inside the units (map layer).
    walk_m
        The walking distance used (metres).

    Examples
    --------
    >>> import pandas as pd
    >>> empty = BusContext(None, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), None, 400.0)
    >>> empty.network is None, empty.walk_m
    (True, 400.0)
    """

    network: Any
    points: pd.DataFrame
    units: pd.DataFrame
    findings: pd.DataFrame
    stops: gpd.GeoDataFrame | None
    walk_m: float


def _empty_context(a: Any, walk_m: float) -> BusContext:
    pts = pd.DataFrame({c: pd.Series(np.nan, index=a.points.index) for c in BUS_POINT_COLUMNS})
    uts = pd.DataFrame({c: pd.Series(np.nan, index=a.units.index.astype(str)) for c in BUS_UNIT_COLUMNS})
    return BusContext(None, pts, uts, pd.DataFrame(columns=a.findings.columns), None, walk_m)


def bus_context(assessment: Any, network: Any = None, *, walk_m: float | None = None) -> BusContext:
    """Return the bus figures of an assessment, reading the bus network only the first time.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment` (``units``, ``points``, ``demand``, ``findings``).
    network
        A :class:`pointplan.transit.BusNetwork` (default: the 2018 Hanoi network, read once).
    walk_m
        Walking distance to a stop (default :data:`pointplan.transit.DEFAULT_WALK_M`, 400 m).

    Returns
    -------
    BusContext
        Also kept as ``assessment.derived["bus"]``; a later call returns it unchanged. When the bus
        data cannot be read, the figures are empty (NaN) and a warning is logged, so the
        rest of a run is still written.

    Examples
    --------
    >>> import dataclasses
    >>> from pointplan.report._demo import demo_assessment
    >>> from pointplan.transit.network import BusNetwork
    >>> a = dataclasses.replace(demo_assessment())  # a copy: its own memo
    >>> stops = gpd.GeoDataFrame({"stop_id": ["A_S1"], "route_id": ["A"]},
    ...     geometry=gpd.points_from_xy([105.801], [21.001]), crs="EPSG:4326")
    >>> trips = pd.DataFrame({"trips_midday": [14]}, index=pd.Index(["A"], name="route_id"))
    >>> ctx = bus_context(a, BusNetwork(stops, trips))
    >>> bus_context(a) is ctx, ctx.walk_m
    (True, 400.0)
    """
    from pointplan.transit import DEFAULT_WALK_M

    memo = _memo(assessment)
    cached = memo.get("bus")
    if isinstance(cached, BusContext):
        return cached
    walk = float(DEFAULT_WALK_M if walk_m is None else walk_m)
    ctx = _compute_context(assessment, network, walk)
    memo["bus"] = ctx
    return ctx


def _compute_context(a: Any, network: Any, walk: float) -> BusContext:
    from pointplan._errors import PointplanError
    from pointplan._results import cached, digest, frame_digest
    from pointplan.transit import (
        load_bus_network,
        no_bus_stop_findings,
        point_bus_access,
        stop_frequency,
        unit_bus_access,
    )

    try:
        net = load_bus_network() if network is None else network
        pts = point_bus_access(a.points, net, walk_m=walk)
        demand = getattr(a, "demand", None)
        # the shipped feed's figures of the same units and demand are kept on disk (pointplan._results)
        units_key = None if network is not None else frame_digest(a.units)
        dem_key = frame_digest(demand) if demand is not None else b"none"
        key = None if units_key is None or dem_key is None else digest("bus-units", units_key, dem_key, walk)
        uts = cached("bus_units", key, lambda: unit_bus_access(a.units, net, demand=demand, walk_m=walk))
        by_unit = not per_point_findings(len(a.points))
        findings = no_bus_stop_findings(a.points, net, walk_m=walk, access=pts, by_unit=by_unit)
        key = None if units_key is None else digest("bus-stops", units_key)
        stops = cached("bus_stops", key, lambda: stop_frequency(net, a.units))
    except (PointplanError, OSError, ValueError) as exc:
        logger.warning("bus access not computed: %s", exc)
        return _empty_context(a, walk)
    uts.index = uts.index.astype(str)
    return BusContext(net, pts, uts, findings, stops, walk)


def bus_population_share_near(assessment: Any) -> float | None:
    """Share of the city's people living within walking distance of a bus stop (``None`` if unknown).

    The units' shares weighed by the people the demand puts in each unit.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> units = pd.DataFrame({"bus_pop_share_near": [0.75, 0.0]}, index=["U", "V"])
    >>> demand = pd.DataFrame({"unit_code": ["U", "U", "V"], "population": [30.0, 10.0, 50.0]})
    >>> ctx = BusContext(None, pd.DataFrame(), units, pd.DataFrame(), None, 400.0)
    >>> a = SimpleNamespace(derived={"bus": ctx}, demand=demand)
    >>> round(bus_population_share_near(a), 4)  # 30 of 90 people
    0.3333
    """
    ctx = bus_context(assessment)
    share = pd.to_numeric(ctx.units["bus_pop_share_near"], errors="coerce")
    dem = assessment.demand
    pop = pd.to_numeric(dem["population"], errors="coerce").fillna(0.0).groupby(dem["unit_code"].astype(str)).sum()
    pop = pop.reindex(share.index).fillna(0.0)
    ok = share.notna() & (pop > 0)
    if not ok.any():
        return None
    value = float((share[ok] * pop[ok]).sum() / pop[ok].sum())
    return round(value, 4) if math.isfinite(value) else None


def unit_time_to_service(assessment: Any) -> pd.Series:
    """Travel plus expected wait (minutes) per unit code, NaN where a unit's point is overloaded.

    From :func:`pointplan.staffing.time_to_service` (kept in ``assessment.derived["time_to_service"]``);
    empty (NaN) with a logged warning when the queue model cannot run on these inputs.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> unit_time_to_service(demo_assessment()).index.tolist()
    ['00001', '00002']
    """
    memo = _memo(assessment)
    cached = memo.get("time_to_service")
    if isinstance(cached, pd.Series):
        return cached
    from pointplan._errors import PointplanError
    from pointplan.staffing import time_to_service

    codes = pd.Index(assessment.units.index.astype(str))
    try:
        tts = time_to_service(assessment)["time_to_service_minutes"]
        tts.index = tts.index.astype(str)
        out = tts.reindex(codes).astype(float)
    except (PointplanError, ValueError, KeyError) as exc:
        logger.warning("time to service not computed: %s", exc)
        out = pd.Series(np.nan, index=codes)
    out.name = "time_to_service_minutes"
    memo["time_to_service"] = out
    return out


def _memo(assessment: Any) -> dict[str, Any]:
    """Return the assessment's memo of derived figures (a throwaway dict for objects without one)."""
    memo = getattr(assessment, "derived", None)
    return memo if isinstance(memo, dict) else {}


def run_units_table(assessment: Any, *, bus: bool = True) -> pd.DataFrame:
    """Return the ``units.csv`` of a run: :func:`~pointplan.report.units_table` and what a run adds.

    ``coverage_share``, ``mean_minutes`` and ``p90_minutes`` are the central estimates (P50
    of the draws) when ``assessment.uncertainty`` is set, with ``<col>_at_standins`` beside
    them (:func:`pointplan.uncertainty.central_units`). Added columns:
    ``population_corrected`` (the 8 units whose official population was
    corrected), the P5/P50/P95 interval columns and ``uncertainty_minutes`` when
    ``assessment.uncertainty`` is set, :data:`BUS_UNIT_COLUMNS` (when ``bus``) and
    ``time_to_service_minutes`` (travel + expected wait at the nearest point).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> t = run_units_table(demo_assessment(), bus=False)
    >>> t[["code", "time_to_service_minutes"]].columns.tolist()
    ['code', 'time_to_service_minutes']
    """
    table = units_table(assessment)
    key = table["code"].astype(str)
    units = assessment.units
    if "population_corrected" in units.columns:
        pos = table.columns.get_loc("population") + 1
        flag = pd.Series(units["population_corrected"].to_numpy(), index=units.index.astype(str))
        table.insert(pos, "population_corrected", key.map(flag).fillna(False).astype(bool).to_numpy())
    unc = getattr(assessment, "uncertainty", None)
    table = central_units(table, unc, key=key)  # the likely values first, <col>_at_standins beside (issue 24)
    if unc is not None:
        iv = unc.units.copy()
        iv.index = iv.index.astype(str)
        for col in iv.columns:
            table[col] = key.map(iv[col]).to_numpy()
    if bus:
        ctx = bus_context(assessment)
        for col in BUS_UNIT_COLUMNS:
            table[col] = key.map(ctx.units[col]).to_numpy()
    table["time_to_service_minutes"] = key.map(unit_time_to_service(assessment)).to_numpy()
    return table.round(4)


def run_points_table(assessment: Any, *, bus: bool = True) -> pd.DataFrame:
    """Return the ``points.csv`` of a run: the point table, the queue columns and the bus columns.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> t = run_points_table(demo_assessment(), bus=False)
    >>> "wait_p90_min_peak" in t.columns, len(t)
    (True, 1)
    """
    from pointplan.staffing.outputs import run_outputs

    cols, _ = run_outputs(assessment)
    parts = [points_table(assessment), cols.reindex(assessment.points.index).reset_index(drop=True).round(4)]
    if bus:
        acc = bus_context(assessment).points.reindex(assessment.points.index)
        parts.append(acc[list(BUS_POINT_COLUMNS)].reset_index(drop=True).astype(float).round(1))
    return pd.concat(parts, axis=1)


def run_findings(assessment: Any, *, bus: bool = True) -> pd.DataFrame:
    """Return the findings of a run: the assessment's and ``no_bus_stop_nearby`` per point.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> a = demo_assessment()
    >>> len(run_findings(a, bus=False)) == len(a.findings)
    True
    """
    f = assessment.findings
    if not bus:
        return f
    extra = bus_context(assessment).findings
    if extra.empty:
        return f
    extra = extra.reindex(columns=f.columns)
    return pd.concat([f, extra], ignore_index=True) if len(f) else extra.reset_index(drop=True)
