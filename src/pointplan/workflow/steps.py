"""The named steps of a run: load, locate points, demand, engine, assess, propose, uncertainty, staff.

The last step, :func:`pointplan.workflow.outputs.write_step`, writes the outputs.

Each step is a plain function ``step(config, state) -> state``: it reads the
:class:`~pointplan.workflow.config.RunConfig` and what the earlier steps left in the
:class:`RunState`, and returns a new :class:`RunState` (``dataclasses.replace``) with what it
adds. A step can be run alone on a state built by hand (the tests do).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from pointplan._errors import InputError
from pointplan._results import cached, digest, frame_digest, settings_digest
from pointplan.workflow.config import RunConfig
from pointplan.workflow.engine import travel_engine
from pointplan.workflow.state import RunState, need

if TYPE_CHECKING:
    from pointplan.assessment import Assessment
    from pointplan.locate import Proposal, UnconstrainedComparison
    from pointplan.uncertainty import UncertaintyResult

__all__ = [
    "RunState",
    "add_points",
    "assess_step",
    "check_codes",
    "demand_step",
    "engine_step",
    "load_step",
    "locate_points_step",
    "propose_step",
    "read_records",
    "staff_step",
    "start_uncertainty_step",
    "uncertainty_step",
]


def load_step(config: RunConfig, state: RunState) -> RunState:
    """Load the units (limited to ``study_units``) and the points (scenario, file or frame).

    Examples
    --------
    >>> s = load_step(RunConfig("out", study_units=["70"], uncertainty=False), RunState())
    >>> s.units.index.tolist(), int((s.points["unit_code"] == "00070").sum()) >= 1
    (['00070'], True)
    """
    from pointplan.data import load_units
    from pointplan.points import load_points, read_points
    from pointplan.workflow.province import is_other_province, load_province

    if is_other_province(config):
        return load_province(config, state)
    units = load_units()
    if config.points is None:
        pts = load_points(config.scenario, units=units)
    elif isinstance(config.points, gpd.GeoDataFrame):
        pts = config.points
    else:
        pts = read_points(config.points, units=units)
    if config.add_points is not None:
        extra = config.add_points
        extra = extra if isinstance(extra, gpd.GeoDataFrame) else read_points(extra, units=units)
        pts = add_points(pts, extra)
    codes = config.study_codes
    check_codes(units, config.proposal_codes, "--in-units")
    if codes is not None:
        check_codes(units, codes, "--units")
        units = units.loc[list(dict.fromkeys(codes))]
    return dataclasses.replace(state, units=units, points=pts)


def check_codes(units: pd.DataFrame, codes: list[str] | None, option: str) -> None:
    """Raise an InputError naming the codes of ``option`` that are not units (None: nothing to check).

    Examples
    --------
    >>> check_codes(pd.DataFrame(index=["00070"]), ["00070", "00001"], "--units")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: Unknown unit code(s) ['00001'] in --units; use the 5-digit codes ...
    """
    unknown = [c for c in codes or () if c not in units.index]
    if unknown:
        msg = (
            f"Unknown unit code(s) {unknown} in {option}; use the 5-digit codes of units.csv "
            "or `pointplan info` (e.g. 00070 for Phường Hoàn Kiếm)."
        )
        raise InputError(msg)


def add_points(points: gpd.GeoDataFrame, extra: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the points with ``extra`` added (``--add-points``); an added id already taken gets ``-add``.

    Examples
    --------
    >>> import shapely
    >>> a = gpd.GeoDataFrame({"point_id": ["P1"], "name": ["A"]}, geometry=[shapely.Point(105.8, 21.0)],
    ...                      crs="EPSG:4326", index=["P1"])
    >>> b = gpd.GeoDataFrame({"point_id": ["P1"], "name": ["Kiosk"]}, geometry=[shapely.Point(105.9, 21.0)],
    ...                      crs="EPSG:3857", index=["P1"])
    >>> out = add_points(a, b.to_crs("EPSG:3857"))
    >>> out.index.tolist(), out["name"].tolist(), str(out.crs)
    (['P1', 'P1-add'], ['A', 'Kiosk'], 'EPSG:4326')
    """
    extra = extra.to_crs(points.crs).copy()
    ids = (
        extra["point_id"].astype(str) if "point_id" in extra else pd.Series(extra.index.astype(str), index=extra.index)
    )
    taken = set(points.index.astype(str))
    ids = ids.where(~ids.isin(taken), ids + "-add")
    extra["point_id"] = ids.to_numpy()
    extra.index = pd.Index(ids.to_numpy(), name=points.index.name)
    cols = [c for c in points.columns if c in extra.columns or c == "geometry"]
    out = pd.concat([points, extra[cols]], axis=0)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=points.crs)


def locate_points_step(config: RunConfig, state: RunState) -> RunState:
    """Geocode the stand-in addresses of the points when ``config.geocode`` (else unchanged).

    Examples
    --------
    >>> s = RunState(points="the points")
    >>> locate_points_step(RunConfig("out", uncertainty=False), s) is s
    True
    """
    if not config.geocode:
        return state
    from pointplan.geocode import geocode_points

    return dataclasses.replace(state, points=geocode_points(need(state.points, "points")))


def demand_step(config: RunConfig, state: RunState) -> RunState:
    """Build the demand points of the units; with ``dossiers``, the visits per unit from them.

    Default demand (``demand_cell_m=None``): 250 m cells where the raster counts at least
    5,000 people per km², the raster's 1 km pixels elsewhere
    (:data:`pointplan.demand.DEFAULT_CELL_M`, :data:`~pointplan.demand.DEFAULT_FINE_PER_KM2`).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> units = tiny_city()["units"]
    >>> s = demand_step(RunConfig("out", uncertainty=False), RunState(units=units))
    >>> bool(round(float(s.demand["population"].sum())) == units["population"].sum()), s.visits is None
    (True, True)
    """
    from pointplan.demand import (
        DEFAULT_CELL_M,
        DEFAULT_FINE_PER_KM2,
        aggregate_dossiers,
        build_demand,
        convert_old_units,
        visits_per_day,
    )

    units = need(state.units, "units")
    visits = conversion = None
    if config.dossiers is not None:
        records = read_records(Path(config.dossiers))
        district_col = "district" if "district" in records.columns else None
        conversion = convert_old_units(records, ward_col="ward", district_col=district_col)
        visits = visits_per_day(units, counts=aggregate_dossiers(conversion))
    if state.demand is not None:  # built with the points (another province's stand-ins)
        demand = state.demand
    elif config.demand_cell_m is None:  # 250 m where people are dense, the raster's 1 km elsewhere
        demand = build_demand(units, cell_m=DEFAULT_CELL_M, fine_per_km2=DEFAULT_FINE_PER_KM2)
    else:
        demand = build_demand(units, cell_m=config.demand_cell_m)
    return dataclasses.replace(state, demand=demand, visits=visits, conversion=conversion)


def engine_step(config: RunConfig, state: RunState) -> RunState:
    """Make the travel-time engine of ``network`` and ``mode`` (:func:`~pointplan.workflow.travel_engine`).

    Examples
    --------
    >>> engine_step(RunConfig("out", network="none", mode="walk", uncertainty=False), RunState()).engine.method
    'crow_flies_circuity'
    """
    from pointplan.workflow.province import is_other_province, province_engine

    if is_other_province(config):
        return dataclasses.replace(state, engine=province_engine(config, need(state.units, "units")))
    return dataclasses.replace(state, engine=travel_engine(config.network, config.mode))


def _scenario_name(config: RunConfig) -> str:
    """Return the name of the assessed scenario: the built-in scenario, the points file's stem, or ``user``."""
    if config.points is None:
        return config.scenario
    if isinstance(config.points, gpd.GeoDataFrame):
        return "user"
    return Path(str(config.points)).stem


#: Above this many demand places × points, a run keeps no travel times (:class:`~pointplan.assessment.Scenario`
#: holds a dense matrix per mode: 8 bytes a pair, twice the points for room to grow).
SCENARIO_MAX_PAIRS = 5_000_000


def assess_step(config: RunConfig, state: RunState) -> RunState:
    """Assess the points with the demand, engine and standard; keep the :class:`~pointplan.assessment.Scenario`.

    The assessment is read from a :class:`~pointplan.assessment.Scenario` of the inputs (equal
    to :func:`pointplan.assess` of them, tested): the travel times it keeps answer the later
    steps' what-ifs without routing the whole city again.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> t = tiny_city()
    >>> s = RunState(units=t["units"], points=t["points"], demand=t["demand"], engine=t["engine"])
    >>> s = assess_step(RunConfig("out", mode="bike", uncertainty=False), s)
    >>> s.assessment.name, round(s.assessment.summary["mean_minutes_to_nearest"], 2), s.scenario.summary["points"]
    ('hanoi-2025', 9.38, 1)
    """
    from pointplan.assessment import Scenario, assess

    points, units, demand = need(state.points, "points"), need(state.units, "units"), need(state.demand, "demand")
    kw: dict[str, Any] = {
        "mode": config.mode, "engine": state.engine, "max_minutes": config.max_minutes,
        "max_distance_m": config.max_distance_m, "visits": state.visits, "name": _scenario_name(config),
        "max_off_network_share": config.max_off_network_share,
    }  # fmt: skip
    state = dataclasses.replace(state, comparison=_start_comparison(config, state))
    sc = None
    if len(points) * len(demand) <= SCENARIO_MAX_PAIRS:
        sc = Scenario.from_inputs(points, units, demand, **kw)
        a = sc.assessment()
    else:  # kept times would not fit in memory: the engine answers each question
        a = assess(points, units, demand, **kw)
    if config.study_codes is not None:  # the report, summary and map speak of these units
        a = dataclasses.replace(a, params={**a.params, "study_units": list(dict.fromkeys(config.study_codes))})
    return dataclasses.replace(state, assessment=a, scenario=sc)


def _start_comparison(config: RunConfig, state: RunState) -> UnconstrainedComparison | None:
    """Start the proposals' unconstrained comparison on the second core (Hanoi's real sites only)."""
    from pointplan._fork import can_fork
    from pointplan.workflow.province import is_other_province

    if not config.add or config.sites not in ("real", "both") or is_other_province(config) or not can_fork():
        return None
    from pointplan.assessment.options import make_settings
    from pointplan.locate import start_comparison

    standard = make_settings(max_minutes=config.max_minutes, max_distance_m=config.max_distance_m)  # the assessment's
    return start_comparison(
        need(state.demand, "demand"), need(state.points, "points"), need(state.units, "units"), state.engine,
        config.add, max_minutes=standard.max_minutes, max_distance_m=standard.max_distance_m,
        objective=config.objective, method=config.method, in_units=config.proposal_codes,
        unit_kind=config.propose_unit_kind,
        coverage_rule=config.coverage_rule_or_default(),
    )  # fmt: skip


def propose_step(config: RunConfig, state: RunState) -> RunState:
    """Propose ``add`` new points (:func:`pointplan.propose_points`) among the chosen sites.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> config = RunConfig("out", add=1, sites="grid", uncertainty=False)
    >>> s = propose_step(config, RunState(assessment=tiny_assessment()))
    >>> s.proposal.points["unit_code"].tolist()
    ['00002']
    """
    if not config.add:
        return state
    from pointplan.locate import propose_points, read_candidates
    from pointplan.workflow.province import province_proposal_options

    user_cand = read_candidates(config.candidates) if config.candidates is not None else None
    proposal = propose_points(
        need(state.assessment, "assessment"),
        config.add,
        objective=config.objective,
        method=config.method,
        user_candidates=user_cand,
        in_units=config.proposal_codes,
        unit_kind=config.propose_unit_kind,
        coverage_rule=config.coverage_rule_or_default(),
        scenario=state.scenario,  # its kept times assess the scenario with the proposed points
        comparison=state.comparison,  # started while the scenario was assessed
        **province_proposal_options(config, state),
    )
    return dataclasses.replace(state, proposal=proposal)


def start_uncertainty_step(config: RunConfig, state: RunState) -> RunState:
    """Start the Monte Carlo of the assessment on the second core (it needs nothing later steps make).

    :func:`uncertainty_step` collects it. With Dask workers (``workers``), or where a child
    cannot be forked (:func:`~pointplan._fork.can_fork`), it runs there instead. Without a
    Monte Carlo, the map's service areas are drawn there instead (collected by the write step).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> config = RunConfig("out", draws=4)
    >>> s = start_uncertainty_step(config, RunState(assessment=tiny_assessment()))
    >>> len(uncertainty_step(config, s).assessment.uncertainty.draws)  # collected (or run there)
    4
    """
    if (config.workers or 0) > 1:
        return state
    from pointplan._fork import Background, can_fork

    if not can_fork():
        return state
    a = need(state.assessment, "assessment")
    if not config.uncertainty:
        if a.engine is None:
            return state
        return dataclasses.replace(state, service_areas=Background(lambda: _areas(a), "the service areas"))
    return dataclasses.replace(state, monte_carlo=Background(lambda: _monte_carlo(config, a), "the Monte Carlo"))


def _areas(a: Assessment) -> dict[str, Any]:
    """Draw the map's service areas of ``a``; return them as kept in ``a.derived``.

    None above :data:`pointplan.settings.service_areas_max_points` points (the map draws none).
    """
    from pointplan.assessment.catchment import draws_service_areas

    if not draws_service_areas(len(a.points)):
        return {}
    a.service_areas()
    return {k: v for k, v in a.derived.items() if k.startswith("service_areas:")}


def _monte_carlo(config: RunConfig, a: Assessment) -> tuple[UncertaintyResult, dict[str, Any]]:
    """Run the Monte Carlo of ``a``, then draw its service areas (for the map) in the same child."""
    from pointplan.uncertainty import run_uncertainty

    draws = config.draws_or_default()
    options = {"draws": draws, "seed": config.seed, "sensitivity_draws": max(10, draws // 4)}
    key = _assessment_key(a, repr(sorted(options.items()))) if not config.workers and not config.scheduler else None
    unc = cached(
        "monte_carlo", key,
        lambda: run_uncertainty(a, **options, workers=config.workers, scheduler=config.scheduler),  # type: ignore[arg-type]
    )  # fmt: skip
    return unc, (_areas(a) if a.engine is not None else {})  # the map's layer: drawn while the run proposes


def _assessment_key(a: Assessment, *parts: object) -> bytes | None:
    """Key of a result of ``a`` kept on disk: its tables, options, engine and pointplan's settings (None: not kept)."""
    fp = getattr(a.engine, "fingerprint", None)
    visits = None if a.settings is None else a.settings.visits
    frames = [frame_digest(f) for f in (a.units, a.points, a.demand, a.findings)]
    frames.append(b"none" if visits is None else frame_digest(pd.DataFrame(visits)))
    network = None if a.settings is None else a.settings.network
    if not isinstance(fp, bytes) or any(f is None for f in frames) or not (network is None or isinstance(network, str)):
        return None
    plain = (repr(a.settings), repr(sorted((str(k), repr(v)) for k, v in a.params.items())), a.mode, network)
    return digest("assessment", fp, *frames, *plain, settings_digest(), *parts)


def uncertainty_step(config: RunConfig, state: RunState) -> RunState:
    """Run the Monte Carlo (or collect it): a new assessment with its intervals, new proposals with their robustness.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> s = uncertainty_step(RunConfig("out", draws=4), RunState(assessment=tiny_assessment()))
    >>> len(s.assessment.uncertainty.draws)
    4
    """
    if not config.uncertainty:
        return state
    a = need(state.assessment, "assessment")
    unc, areas = state.monte_carlo.result() if state.monte_carlo is not None else _monte_carlo(config, a)
    a = a.with_uncertainty(unc)
    a.derived.update(areas)
    proposal = state.proposal
    if proposal is not None and len(proposal.points) and proposal.candidates is not None:
        rob = _robustness(config, a, proposal)
        points = proposal.points.copy()
        for col in rob.columns:
            points[col] = rob[col].to_numpy()
        proposal = dataclasses.replace(proposal, points=points)
    return dataclasses.replace(state, assessment=a, proposal=proposal, monte_carlo=None)


def _robustness(config: RunConfig, a: Assessment, proposal: Proposal) -> pd.DataFrame:
    """How often each proposed point is chosen again under the draws (kept on disk for the same inputs)."""
    from pointplan import settings
    from pointplan.uncertainty import proposal_robustness
    from pointplan.workflow.province import province_boundary

    draws = min(settings.robustness_draws, config.draws_or_default())
    where = province_boundary(config)
    shape = repr(sorted((k, getattr(v, "wkb_hex", repr(v))) for k, v in where.items()))
    frames = (frame_digest(proposal.points), frame_digest(proposal.candidates))
    key = None if None in frames else _assessment_key(a, *frames, draws, config.seed, proposal.objective, shape)
    out: pd.DataFrame = cached(
        "robustness", key, lambda: proposal_robustness(
            a, proposal, proposal.candidates, draws=draws, seed=config.seed, objective=proposal.objective, **where,
        ),
    )  # fmt: skip
    return out


def staff_step(config: RunConfig, state: RunState) -> RunState:
    """Queues and officials at the peak: the staffing figures and each unit's time to service.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> s = staff_step(RunConfig("out", uncertainty=False), RunState(assessment=tiny_assessment()))
    >>> s.staffing["officials_needed"]
    4
    """
    from pointplan.report.run_tables import unit_time_to_service
    from pointplan.staffing.outputs import run_outputs

    a = need(state.assessment, "assessment")
    figures = run_outputs(a)[1]
    unit_time_to_service(a)  # joins the map's units, with the bus access (issues 16, 17)
    return dataclasses.replace(state, staffing=figures)


def read_records(path: Path) -> pd.DataFrame:
    """Read a dossier-records CSV (UTF-8, with or without BOM) with clear errors.

    Examples
    --------
    >>> read_records(Path("no-such-file.csv"))
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: 'no-such-file.csv'
    """
    what = f"dossiers file {path}"
    try:
        records = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{what} is not UTF-8 text. Save it from Excel as 'CSV UTF-8 (Comma delimited)'."
        raise InputError(msg) from exc
    except pd.errors.EmptyDataError as exc:
        msg = f"{what} is empty or has no header line ({exc}). Give a 'ward' column and rows."
        raise InputError(msg) from exc
    except pd.errors.ParserError as exc:
        msg = f"{what} could not be parsed as CSV: {exc}"
        raise InputError(msg) from exc
    if "ward" not in records.columns:
        msg = (
            f"{what} lacks the column 'ward' (old or new ward name of each dossier); it has "
            f"{list(records.columns)}. Rename the column."
        )
        raise InputError(msg)
    return records
