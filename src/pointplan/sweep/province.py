"""One province of the national sweep: its run, the exact LSCP need, a completion marker.

:func:`province_task` is what a Dask worker runs for one province. It writes the province's
outputs into ``OUT/provinces/<code>/`` with :func:`run_province` and, last, the marker
``_complete.json`` (the record that goes into the national tables). A province whose marker
exists is skipped, so an interrupted sweep resumes where it stopped; a province that fails
returns a record with its error (and writes no marker, so the next sweep retries it), and
the other provinces go on.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._errors import InfeasibleError, InputError
from pointplan.io import write_json

__all__ = [
    "MARKER",
    "ProvinceJob",
    "SweepOptions",
    "check_codes",
    "points_needed",
    "province_figures",
    "province_task",
    "run_province",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: File written last into a province's folder: its record (a complete result).
MARKER = "_complete.json"
#: Grid spacing (m) of the candidate sites of the LSCP.
LSCP_GRID_M = 2000.0


@dataclass(frozen=True)
class SweepOptions:
    """What every province of a sweep is run with.

    Examples
    --------
    >>> SweepOptions(draws=0).draws, SweepOptions().max_minutes
    (0, 30.0)
    """

    draws: int = 20
    seed: int = 2025
    max_minutes: float = 30.0
    max_distance_m: float = 5000.0
    add: int = 0
    mode: str = "motorbike"
    formats: tuple[str, ...] = ("html",)
    lscp_time_limit_s: float = 60.0


#: A province job: ``(code, folder, options) -> record`` (a dict of the province's figures).
ProvinceJob = Callable[[str, Path, SweepOptions], dict[str, Any]]


def _read_marker(folder: Path) -> dict[str, Any] | None:
    """Return the record of a completed province, or None (no marker, or an unreadable one)."""
    path = folder / MARKER
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("status") == "ok" else None


def province_task(
    code: str, out_dir: str | Path, options: SweepOptions, job: ProvinceJob | None = None
) -> dict[str, Any]:
    """Run one province into ``out_dir/provinces/<code>/`` unless it is already complete.

    Parameters
    ----------
    code
        The province's 2-digit code.
    out_dir
        The sweep's output folder.
    options
        The sweep's options.
    job
        The work itself (default :func:`run_province`); tests pass their own.

    Returns
    -------
    dict
        The province's record: ``status`` (``ok`` or ``failed``), ``resumed`` (True when
        the marker was already there), ``error`` (for a failure), ``seconds`` and the
        figures the job returned.

    Examples
    --------
    >>> import tempfile
    >>> def job(code, folder, options):
    ...     return {"population": 10}
    >>> out = Path(tempfile.mkdtemp())
    >>> province_task("12", out, SweepOptions(), job)["status"]
    'ok'
    >>> province_task("12", out, SweepOptions(), job)["resumed"]
    True
    """
    folder = Path(out_dir) / "provinces" / code
    done = _read_marker(folder)
    if done is not None:
        return {**done, "resumed": True}
    t0 = time.perf_counter()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        record = dict((job or run_province)(code, folder, options))
    except Exception as exc:  # one province's failure must not stop the others
        logger.warning("province %s failed: %s", code, exc)
        return {
            "province_code": code,
            "status": "failed",
            "resumed": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
            "seconds": round(time.perf_counter() - t0, 2),
        }
    record.update(province_code=code, status="ok", resumed=False, error="", seconds=round(time.perf_counter() - t0, 2))
    record["options"] = asdict(options)
    write_json(folder / MARKER, record)
    return record


def points_needed(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    engine: Any,
    *,
    max_minutes: float,
    max_distance_m: float,
    boundary: Any,
    time_limit_s: float = 60.0,
) -> dict[str, Any]:
    """Return the fewest points to add so everyone is within the standard: an exact LSCP (HiGHS).

    Candidate sites: one per populated 2 km grid cell (population-weighted), plus every
    demand place no grid site covers, so that everyone can be covered. The count is exact
    for these candidates when ``lscp_status`` is ``optimal`` (``lscp_bound`` is HiGHS' lower
    bound; equal to the count when proven).

    Parameters
    ----------
    demand, points, engine
        The province's demand, existing points and travel-time engine.
    max_minutes, max_distance_m
        The standard.
    boundary
        The province's outline (candidates outside are dropped).
    time_limit_s
        HiGHS time limit.

    Returns
    -------
    dict
        ``lscp_points_needed``, ``lscp_bound``, ``lscp_status``, ``lscp_candidates``,
        ``lscp_target_share``.

    Examples
    --------
    Three villages 20 km apart, a point in the first; a standard of 1 minute or 100 m is
    met only on the spot, so the two others need a point each:

    >>> from pointplan.network import make_engine
    >>> xy = gpd.points_from_xy([500_000, 520_000, 540_000], [2_300_000] * 3)
    >>> demand = gpd.GeoDataFrame({"unit_code": ["a", "b", "c"], "population": [100.0, 50, 20]},
    ...                           geometry=xy, crs=32648)
    >>> existing = gpd.GeoDataFrame({"point_id": ["P"], "unit_code": ["a"]}, geometry=xy[:1], crs=32648)
    >>> r = points_needed(demand, existing, make_engine(None), max_minutes=1, max_distance_m=100, boundary=False)
    >>> r["lscp_points_needed"], r["lscp_bound"], r["lscp_status"]
    (2, 2.0, 'optimal')
    """
    from pointplan.locate import propose

    cand = _lscp_candidates(demand, engine, max_minutes, max_distance_m)
    try:
        prop = propose(
            demand,
            points,
            cand,
            None,
            objective="lscp",
            method="exact",
            engine=engine,
            max_minutes=max_minutes,
            max_distance_m=max_distance_m,
            boundary=boundary,
            time_limit_s=time_limit_s,
        )
    except InfeasibleError as exc:
        return {
            "lscp_points_needed": None,
            "lscp_bound": None,
            "lscp_status": f"infeasible: {exc}",
            "lscp_candidates": len(cand),
        }
    res = prop.result
    return {
        "lscp_points_needed": int(res.selected.size),
        "lscp_bound": None if res.bound is None else float(res.bound),
        "lscp_status": str(res.status),
        "lscp_candidates": len(cand),
        "lscp_target_share": 1.0,
    }


def _lscp_candidates(
    demand: gpd.GeoDataFrame, engine: Any, max_minutes: float, max_distance_m: float
) -> gpd.GeoDataFrame:
    """Return a 2 km grid of sites, plus every demand place no grid site covers (so all can be)."""
    from pointplan.locate.candidates import grid_candidates

    cand = grid_candidates(demand, spacing_m=LSCP_GRID_M, min_population=0.0)
    near = engine.nearest(demand, cand)
    minutes = pd.to_numeric(near["minutes"], errors="coerce").to_numpy(dtype=float)
    straight, _ = cKDTree(_xy(cand)).query(_xy(demand))
    lonely = ~((minutes <= max_minutes) | (straight <= max_distance_m))
    if not lonely.any():
        return cand
    extra = demand.loc[lonely, ["unit_code", "geometry"]].to_crs(cand.crs).reset_index(drop=True)
    extra["candidate_id"] = [f"D{i}" for i in range(len(extra))]
    extra["kind"] = "proposed"
    return gpd.GeoDataFrame(pd.concat([cand, extra], ignore_index=True), crs=cand.crs)


def _xy(gdf: gpd.GeoDataFrame) -> npt.NDArray[np.float64]:
    """Projected (m) coordinates of points."""
    geom = gdf.geometry.to_crs(settings.projected_crs)
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def run_province(code: str, folder: Path, options: SweepOptions) -> dict[str, Any]:
    """Run the default province job: the library's run for the province, then its figures.

    Parameters
    ----------
    code
        The province's 2-digit code.
    folder
        Where its outputs go (``units.csv``, ``summary.json``, ``map.html``, ``report.html``...).
    options
        The sweep's options.

    Returns
    -------
    dict
        The province's figures for the national tables (:func:`province_figures`).

    Examples
    --------
    >>> run_province("00", Path("x"), SweepOptions())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: Unknown province '00'. ...
    """
    from pointplan.provinces import resolve_province
    from pointplan.report.documents import raise_for_problems
    from pointplan.workflow import RunConfig, RunState, check_outputs, run_phases

    province = resolve_province(code)
    config = RunConfig(
        folder,
        province=province.code,
        network="none",
        mode=options.mode,  # type: ignore[arg-type]
        add=options.add,
        max_minutes=options.max_minutes,
        max_distance_m=options.max_distance_m,
        uncertainty=options.draws > 0,
        draws=options.draws or None,
        seed=options.seed,
        formats=list(options.formats),
    )
    check_outputs(config)
    state = RunState()
    for _label, steps in run_phases(config):  # what pointplan.run does, keeping the state
        for step in steps:
            state = step(config, state)
    raise_for_problems(list(state.problems), config.out)
    return province_figures(province.code, folder, options, state=state)


def _interval(summary: dict[str, Any], key: str) -> tuple[float | None, float | None]:
    iv = summary.get(f"{key}_interval")
    if isinstance(iv, list) and len(iv) == 3:
        return iv[0], iv[2]
    return None, None


def province_figures(code: str, folder: Path, options: SweepOptions, *, state: Any = None) -> dict[str, Any]:
    """Return a province's record from its run's ``summary.json`` and ``units.csv``, with the LSCP need.

    Parameters
    ----------
    code
        The province's 2-digit code.
    folder
        The folder its run wrote.
    options
        The sweep's options (the standard of the LSCP).
    state
        The run's :class:`pointplan.workflow.RunState` (its demand, points and engine are
        reused for the LSCP; without it they are made again).

    Returns
    -------
    dict
        ``province_name``, ``units``, ``points``, ``population``,
        ``units_population_estimated``, ``population_beyond_standard`` (with ``_p5``/``_p95``
        when the run drew intervals), ``mean_minutes``/``p90_minutes`` (likewise),
        ``lscp_*`` (:func:`points_needed`), ``units_no_land_link``, ``population_no_land_link``.

    Examples
    --------
    >>> province_figures("12", Path("nowhere"), SweepOptions())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: ...
    """
    from pointplan.provinces import resolve_province

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    units = pd.read_csv(folder / "units.csv", dtype={"code": str}, encoding="utf-8-sig")
    pop = float(summary.get("population") or units["population"].sum())
    share = summary.get("population_within_standard_share")
    lo, hi = _interval(summary, "population_within_standard_share")
    record: dict[str, Any] = {
        "province_name": resolve_province(code).name,
        "units": int(summary.get("units", len(units))),
        "points": summary.get("points"),
        "population": pop,
        "units_population_estimated": int((units.get("population_source") == "worldpop_estimate").sum())
        if "population_source" in units
        else 0,
        "population_within_standard_share": share,
        "population_beyond_standard": None if share is None else pop * (1 - share),
        "population_beyond_standard_p5": None if hi is None else pop * (1 - hi),
        "population_beyond_standard_p95": None if lo is None else pop * (1 - lo),
        "mean_minutes": summary.get("mean_minutes_to_nearest"),
        "p90_minutes": summary.get("p90_minutes_to_nearest"),
        "travel_time_method": summary.get("travel_time_method"),
    }
    record["mean_minutes_p5"], record["mean_minutes_p95"] = _interval(summary, "mean_minutes_to_nearest")
    record["p90_minutes_p5"], record["p90_minutes_p95"] = _interval(summary, "p90_minutes_to_nearest")
    if "no_land_link" in units:
        island = units["no_land_link"].astype(str).str.lower() == "true"
        record["units_no_land_link"] = int(island.sum())
        record["population_no_land_link"] = float(units.loc[island, "population"].sum())
    record.update(_lscp_for(code, options, state))
    return record


def _lscp_for(code: str, options: SweepOptions, state: Any = None) -> dict[str, Any]:
    """Return the exact LSCP need of a province at the sweep's standard (the run's points and engine)."""
    from pointplan.data import load_boundary

    if state is None or state.demand is None or state.engine is None:
        from pointplan.data import load_units
        from pointplan.demand import build_demand
        from pointplan.network import make_engine
        from pointplan.provinces import SeaAwareEngine
        from pointplan.workflow.province import province_points

        units = load_units(code)
        demand = build_demand(units)
        points = province_points(units, demand)
        engine = SeaAwareEngine(make_engine(None, mode=options.mode), units)
    else:
        demand, points, engine = state.demand, state.points, state.engine
    return points_needed(
        demand,
        points,
        engine,
        max_minutes=options.max_minutes,
        max_distance_m=options.max_distance_m,
        boundary=load_boundary(code),
        time_limit_s=options.lscp_time_limit_s,
    )


def check_codes(provinces: str | Sequence[str]) -> list[str]:
    """Return the province codes a ``--provinces`` value names (``all``, or codes / names).

    Examples
    --------
    >>> check_codes("12, thanh-hoa"), len(check_codes("all"))
    (['12', '38'], 34)
    """
    from pointplan.provinces import PROVINCES, resolve_province

    items = provinces.split(",") if isinstance(provinces, str) else list(provinces)
    items = [str(i).strip() for i in items if str(i).strip()]
    if not items:
        msg = "--provinces is empty: give 'all' or a comma-separated list of codes or names."
        raise InputError(msg)
    if [i.lower() for i in items] == ["all"]:
        return [p.code for p in PROVINCES]
    return list(dict.fromkeys(resolve_province(i).code for i in items))
