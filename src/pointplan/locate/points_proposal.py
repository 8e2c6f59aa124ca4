"""Proposals for an assessed scenario: default candidate sites, solve, name, compare, re-assess.

:func:`propose_points` is :func:`pointplan.locate.propose` with what a planner wants around
it: candidates chosen for them (:func:`default_candidates`: real, named public buildings by
default), each proposal named after its place, what the real building costs against the best
unconstrained spot nearby, and the scenario assessed again with the new points (the
before/after comparison).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan._errors import InputError
from pointplan._fork import Background
from pointplan._results import cached, digest, frame_digest
from pointplan.assessment import assess, weighted_quantile
from pointplan.io import strict_json
from pointplan.locate.candidates import cluster_candidates, grid_candidates, restrict_candidates, unit_candidates
from pointplan.locate.proposal import Proposal, propose
from pointplan.locate.site_times import SiteTimes

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pointplan.assessment import Assessment, Scenario

__all__ = [
    "CANDIDATE_SITES",
    "DEFAULT_ADD",
    "TIME_ONLY_MODES",
    "UNCONSTRAINED_SPACING_M",
    "CandidateSites",
    "CoverageRule",
    "UnconstrainedComparison",
    "default_candidates",
    "mode_rule",
    "propose_points",
    "proposed_points",
    "reassess_with",
    "start_comparison",
]

#: Which candidate sites ``propose``/``run`` use: real places, grid cells, or both.
CandidateSites = Literal["real", "grid", "both"]
CANDIDATE_SITES: tuple[CandidateSites, ...] = ("real", "grid", "both")

#: Number of points ``pointplan run`` proposes by default.
DEFAULT_ADD = 10

#: Cell size (m) of the unconstrained candidates real proposals are compared with.
UNCONSTRAINED_SPACING_M = 1000.0

#: Columns of a real site that a proposal carries (named after the place).
_SITE_COLUMNS = {
    "name": "site_name",
    "site_kind": "site_kind",
    "address": "address",
    "located_by": "located_by",
    "matched_street": "matched_street",
}

#: Columns of a user file that name its sites (such a file is matched like a real site).
_NAME_COLUMNS = ("name", "ten", "tên", "site_name")


#: Modes whose standard is the time clause alone: on foot, 5 km in a straight line is over an
#: hour's walk, so the distance clause is a separate figure, not part of the standard.
TIME_ONLY_MODES: tuple[str, ...] = ("walk",)

#: How coverage counts a person: within the minutes alone, or within the minutes or the distance.
CoverageRule = Literal["time", "time_or_distance"]


def mode_rule(mode: str | None) -> CoverageRule:
    """Return the coverage rule of a mode: ``"time"`` on foot, ``"time_or_distance"`` otherwise.

    Examples
    --------
    >>> mode_rule("walk"), mode_rule("motorbike")
    ('time', 'time_or_distance')
    """
    return "time" if mode in TIME_ONLY_MODES else "time_or_distance"


def default_candidates(
    assessment: Assessment,
    *,
    spacing_m: float = 1500.0,
    n_clusters: int = 40,
    user_candidates: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    sites: CandidateSites = "real",
) -> gpd.GeoDataFrame:
    """Return candidate sites for new points: real places (default), or a grid, stand-ins, clusters.

    ``sites="real"``: the named public buildings of :func:`pointplan.locate.sites.real_sites`
    (hospitals and clinics, post offices, planned sites) in the assessment's units; the report
    of problems (rows dropped or kept at a stand-in) is in ``attrs["sites_report"]`` (records).
    ``sites="grid"``: the grid covers populated land; one stand-in per unit (a point inside
    it, for a point at or near the head office); the clusters are population-weighted
    k-means centroids of the least-served demand. ``"both"``: all of them.

    Parameters
    ----------
    assessment
        The assessment of the current points (its demand gives weights and who is
        least served).
    spacing_m
        Grid spacing of the generated candidates.
    n_clusters
        Number of k-means centroids over the least-served demand (travel time above the
        city's 75th percentile, or beyond the standard).
    user_candidates
        Sites supplied by the user (malls, community houses), kept as given.
    seed
        Random seed of k-means.
    sites
        ``"real"`` (default), ``"grid"`` or ``"both"``.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 candidates with ``candidate_id``, ``kind``, ``source`` (and, for real
        sites, ``name``, ``site_kind``, ``address``, ``location_precision``...).

    Examples
    --------
    On the synthetic two-unit city (no public buildings there, so the generated kinds):

    >>> from pointplan.assessment._demo import tiny_assessment
    >>> c = default_candidates(tiny_assessment(), sites="grid", spacing_m=2000, n_clusters=2)
    >>> c["source"].value_counts().to_dict()
    {'unit_representative_point': 2, 'cluster': 1}
    """
    if sites not in CANDIDATE_SITES:
        msg = f"sites must be one of {list(CANDIDATE_SITES)}, got {sites!r}."
        raise InputError(msg)
    frames: list[gpd.GeoDataFrame] = []
    report: list[dict[str, Any]] = []
    if sites in ("real", "both"):
        frames, report = _real_candidates(assessment, user_candidates)
        user_candidates = None  # used above
    if sites in ("grid", "both"):
        frames += _grid_candidates(assessment, spacing_m, n_clusters, user_candidates, seed)
    cand = pd.concat(frames, ignore_index=True)
    cand["candidate_id"] = cand["candidate_id"].astype(str)
    dup = cand["candidate_id"].duplicated(keep="first")
    cand.loc[dup, "candidate_id"] = [f"{c}_{i}" for i, c in enumerate(cand.loc[dup, "candidate_id"])]
    out = gpd.GeoDataFrame(cand, geometry="geometry", crs=settings.geographic_crs)
    out.attrs["sites_report"] = report
    return out


def _real_candidates(
    assessment: Assessment, user_candidates: gpd.GeoDataFrame | None
) -> tuple[list[gpd.GeoDataFrame], list[dict[str, Any]]]:
    """Return the real sites as candidates (and a user file without names, kept as given), and the report."""
    from pointplan.locate.sites import real_sites, sites_to_candidates

    named = user_candidates is not None and any(
        str(c).strip().lower() in _NAME_COLUMNS for c in user_candidates.columns
    )
    real, rep = real_sites(assessment.units, user_sites=user_candidates if named else None)
    frames = [sites_to_candidates(real)]
    report = rep.astype(object).where(rep.notna(), None).to_dict("records")
    if user_candidates is not None and not named:  # kept as given, as before
        frames.append(user_candidates.to_crs(settings.geographic_crs))
    return frames, report


def _grid_candidates(
    assessment: Assessment,
    spacing_m: float,
    n_clusters: int,
    user_candidates: gpd.GeoDataFrame | None,
    seed: int,
) -> list[gpd.GeoDataFrame]:
    """Return the generated candidates: grid, unit stand-ins, clusters of the least served, user sites."""
    d = assessment.demand
    grid = grid_candidates(d, spacing_m=spacing_m)
    q75 = weighted_quantile(d["minutes"], d["population"], 0.75)
    under = (d["minutes"] > q75) | ~d["within_standard"]
    n = int(min(n_clusters, max(1, under.sum() // 3)))
    # Unit head-office stand-ins: dropped (with a report) where a point already stands.
    frames = [grid, unit_candidates(assessment.units)]
    if under.sum() >= 1:
        frames.append(cluster_candidates(d, n, underserved_mask=under.to_numpy().copy(), seed=seed))
    if user_candidates is not None:
        frames.append(user_candidates.to_crs(settings.geographic_crs))
    return frames


def propose_points(
    assessment: Assessment,
    k: int | None = DEFAULT_ADD,
    *,
    objective: Literal["pmedian", "mclp", "lscp"] = "pmedian",
    candidates: gpd.GeoDataFrame | None = None,
    user_candidates: gpd.GeoDataFrame | None = None,
    method: Literal["greedy+swap", "greedy", "exact"] = "greedy+swap",
    time_limit_s: float = 60.0,
    target_share: float = 1.0,
    require_unit_coverage: bool = False,
    budget_per_kind: Mapping[str, int] | None = None,
    reassess: bool = True,
    counters_proposed: int | None = None,
    sites: CandidateSites = "real",
    compare_unconstrained: bool = True,
    in_units: Sequence[str] | None = None,
    unit_kind: Literal["xa", "phuong"] | None = None,
    coverage_rule: CoverageRule = "time_or_distance",
    boundary: Any = None,
    scenario: Scenario | None = None,
    comparison: UnconstrainedComparison | None = None,
) -> Proposal:
    """Propose new points for an assessed scenario and assess the scenario with them.

    Parameters
    ----------
    assessment
        The assessment of the current points (:func:`pointplan.assess`).
    k, objective
        Points to add (``None`` with ``"lscp"``: as few as reach ``target_share``); ``"pmedian"``
        (population-weighted minutes; default), ``"mclp"`` or ``"lscp"``.
    candidates, user_candidates, sites
        Candidate sites (default :func:`default_candidates` of ``sites``) and the user's.
    method, time_limit_s, target_share, require_unit_coverage, budget_per_kind, boundary
        As :func:`pointplan.locate.propose` (``"greedy+swap"``, ``"greedy"`` or ``"exact"``; ``boundary``: Hanoi's).
    reassess, counters_proposed, compare_unconstrained
        Assess the scenario with the proposed points (of so many counters); with real sites,
        each building's cost against a 1 km grid (:func:`~pointplan.locate.sites.constraint_cost`).
    in_units, unit_kind
        Proposals only in these unit codes and/or units of this kind (``"xa"``/``"phuong"``):
        :func:`~pointplan.locate.candidates.restrict_candidates`; people everywhere still count.
    coverage_rule
        Who MCLP/LSCP count as covered: ``"time_or_distance"`` or ``"time"`` (on foot: :func:`mode_rule`).
    scenario
        The assessment's :class:`~pointplan.assessment.Scenario`: its ``assessment_with`` (kept times)
        then assesses the scenario with the points, instead of :func:`reassess_with` (same figures, sooner).
    comparison
        The unconstrained comparison started before the assessment (:func:`start_comparison`);
        used when it was started on the same inputs and options, else started again.

    Returns
    -------
    pointplan.locate.Proposal
        Ranked points with their gains, the ``candidates``, ``before_after`` (with ``reassess``) and
        ``site_times`` (the demand x candidate times, routed once: the robustness draws reuse them).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> cands = default_candidates(a, sites="grid", spacing_m=2000, n_clusters=2)
    >>> prop = propose_points(a, 1, candidates=cands, compare_unconstrained=False)
    >>> prop.points["candidate_id"].tolist(), round(float(prop.points["gain_person_minutes_saved"].iloc[0]), 3)
    (['unit-00002'], 1200.0)
    >>> after = prop.before_after["after"].summary  # xã B's 100 people were 15 and 52.5 min away
    >>> round(a.summary["mean_minutes_to_nearest"], 2), round(after["mean_minutes_to_nearest"], 2)
    (9.38, 6.37)
    """
    real_mode = candidates is None and sites in ("real", "both")
    options, where = _options(objective, target_share, method, time_limit_s, require_unit_coverage, budget_per_kind,
                              coverage_rule, boundary, in_units, unit_kind)  # fmt: skip
    candidates = restrict_candidates(
        default_candidates(assessment, user_candidates=user_candidates, sites=sites) if candidates is None
        else candidates, assessment.units, **where)  # fmt: skip
    free = _comparison_for(comparison, assessment, k, options, where) if real_mode and compare_unconstrained else None
    prop = dataclasses.replace(_solve_named(assessment, candidates, k, options), candidates=candidates)
    if reassess and len(prop.points):  # while the comparison runs (it adds columns, not points)
        prop = _with_before_after(assessment, prop, counters_proposed, scenario)
    return prop if free is None else _finish_unconstrained(prop, free, candidates, assessment)


def _start_unconstrained(
    assessment: Assessment, k: int | None, options: Mapping[str, Any], where: Mapping[str, Any]
) -> tuple[gpd.GeoDataFrame, Background[gpd.GeoDataFrame]]:
    """Start the unconstrained comparison (thousands of grid spots to route) on the second core.

    Returns the spots and the job whose answer is the points chosen among them (only those are read).
    """
    spots = restrict_candidates(_unconstrained_candidates(assessment), assessment.units, **where)
    opts = {**options, "compute_bound": False}
    key = _stored_key(assessment, spots, k, opts)

    def chosen() -> gpd.GeoDataFrame:
        return cached("comparison", key, lambda: _solve(assessment, spots, k, opts).points)

    return spots, Background(chosen, "the unconstrained comparison")


def _stored_key(a: Any, spots: gpd.GeoDataFrame, k: int | None, options: Mapping[str, Any]) -> bytes | None:
    """Key of the comparison's chosen spots kept on disk: every input of :func:`_solve` (None: not kept)."""
    fp = getattr(a.engine, "fingerprint", None)
    frames = [frame_digest(f) for f in (a.demand, a.points, spots)]
    if not isinstance(fp, bytes) or any(f is None for f in frames):
        return None
    opts = _plain_options(options)
    params = (float(a.params["max_minutes"]), float(a.params["max_distance_m"]))
    return digest("comparison", fp, *frames, k, *params, repr(sorted(opts.items())))


def _finish_unconstrained(
    prop: Proposal,
    free: tuple[gpd.GeoDataFrame, Background[gpd.GeoDataFrame]],
    candidates: gpd.GeoDataFrame,
    assessment: Assessment,
) -> Proposal:
    """Compare the proposal with the unconstrained one (:func:`_start_unconstrained`); nothing to compare: stop it."""
    spots, job = free
    if not len(prop.points):
        job.cancel()
        return prop
    return _compare_unconstrained(prop, job.result(), candidates, spots, assessment)


@dataclasses.dataclass(frozen=True)
class UnconstrainedComparison:
    """The unconstrained comparison of a proposal, started early (:func:`start_comparison`).

    Attributes
    ----------
    key
        What it was started on (inputs and options): :func:`propose_points` uses it only
        when its own are the same.
    spots
        The grid spots it chooses among.
    job
        Its answer: the points chosen among the spots.

    Examples
    --------
    Made by :func:`start_comparison` (see there):

    >>> [f.name for f in dataclasses.fields(UnconstrainedComparison)]
    ['key', 'spots', 'job']
    """

    key: tuple[Any, ...]
    spots: gpd.GeoDataFrame
    job: Background[gpd.GeoDataFrame]


@dataclasses.dataclass(frozen=True)
class _Inputs:
    """What the comparison reads of an assessment, before there is one."""

    demand: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    engine: Any
    params: dict[str, Any]


def start_comparison(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    engine: Any,
    k: int | None,
    *,
    max_minutes: float,
    max_distance_m: float,
    **options: Any,
) -> UnconstrainedComparison:
    """Start the unconstrained comparison of :func:`propose_points` before the assessment is made.

    It needs only the inputs (the grid spots are routed from the demand; the current points'
    minutes are the engine's), so it can use the second core while the scenario is assessed.
    ``options`` are those of :func:`propose_points` (``objective``, ``method``, ``in_units``...);
    give the result to ``propose_points(comparison=...)``.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> c = tiny_city()
    >>> comp = start_comparison(c["demand"], c["points"], c["units"], c["engine"], 1, max_minutes=30.0,
    ...                         max_distance_m=5000.0)
    >>> a = assess(c["points"], c["units"], c["demand"], engine=c["engine"], mode="bike", visits=c["visits"])
    >>> prop = propose_points(a, 1, comparison=comp)  # the same inputs: the comparison started above
    >>> prop.summary["unconstrained_picks"][0]["candidate_id"]
    'spot-0004'
    """
    opts, where = _options(**options)
    geo = settings.geographic_crs  # the assessment's tables are in it: the same coordinates to the last bit
    params = {"max_minutes": max_minutes, "max_distance_m": max_distance_m}
    inputs = _Inputs(demand.to_crs(geo), points.to_crs(geo), units.to_crs(geo), engine, params)
    spots, job = _start_unconstrained(cast("Any", inputs), k, opts, where)
    return UnconstrainedComparison(_key(inputs, k, opts, where), spots, job)


def _options(
    objective: str = "pmedian",
    target_share: float = 1.0,
    method: str = "greedy+swap",
    time_limit_s: float = 60.0,
    require_unit_coverage: bool = False,
    budget_per_kind: Mapping[str, int] | None = None,
    coverage_rule: str = "time_or_distance",
    boundary: Any = None,
    in_units: Sequence[str] | None = None,
    unit_kind: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the solver's options and the ``where`` of the candidates, as :func:`propose_points` builds them."""
    options = {"objective": objective, "target_share": target_share, "method": method, "time_limit_s": time_limit_s,
               "require_unit_coverage": require_unit_coverage, "budget_per_kind": budget_per_kind,
               "coverage_rule": coverage_rule, "boundary": boundary}  # fmt: skip
    return options, {"in_units": None if in_units is None else list(in_units), "unit_kind": unit_kind}


def _plain_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options with the boundary as its WKB (its ``repr`` is shortened): what keys a comparison."""
    return {n: (getattr(v, "wkb_hex", v) if n == "boundary" else v) for n, v in options.items()}


def _key(a: Any, k: int | None, options: Mapping[str, Any], where: Mapping[str, Any]) -> tuple[Any, ...]:
    """Return what a comparison depends on: demand and points (places, people), engine, standard, options."""
    import hashlib

    from pointplan.assessment.inputs import projected_xy

    def digest(gdf: gpd.GeoDataFrame, *cols: str) -> str:
        h = hashlib.sha1(np.round(projected_xy(gdf), 1).tobytes())
        for c in cols:
            h.update(np.asarray(gdf[c], dtype=float).tobytes())
        return h.hexdigest()

    opts = _plain_options(options)
    return (digest(a.demand, "population"), digest(a.points), id(a.engine), float(a.params["max_minutes"]),
            float(a.params["max_distance_m"]), k, repr(sorted(opts.items())), repr(sorted(where.items())))  # fmt: skip


def _comparison_for(
    comparison: UnconstrainedComparison | None,
    assessment: Assessment,
    k: int | None,
    options: Mapping[str, Any],
    where: Mapping[str, Any],
) -> tuple[gpd.GeoDataFrame, Background[gpd.GeoDataFrame]]:
    """Return the early comparison's spots and job when it was started on these inputs; else start one now."""
    if comparison is not None and comparison.key == _key(assessment, k, options, where):
        return comparison.spots, comparison.job
    if comparison is not None:
        logger.info("the comparison started early was on other inputs: started again")
        comparison.job.cancel()
    return _start_unconstrained(assessment, k, options, where)


def _solve_named(
    assessment: Assessment, candidates: gpd.GeoDataFrame, k: int | None, options: Mapping[str, Any]
) -> Proposal:
    """Solve among ``candidates`` with their times routed once (kept on the proposal); name the proposals."""
    plain = candidates.copy(deep=False)
    plain.attrs = {}  # the sites report: pandas would copy it at every step of the solve
    times = SiteTimes(assessment.engine, assessment.demand, plain)
    prop = _solve(assessment, plain, k, options, times)
    summary = {
        **prop.summary,
        "coverage_rule": options["coverage_rule"],
        "sites_report": list(candidates.attrs.get("sites_report", [])),
    }
    return dataclasses.replace(prop, points=_name_proposals(prop.points, candidates), summary=summary)


def _with_before_after(
    assessment: Assessment, prop: Proposal, counters_proposed: int | None, scenario: Scenario | None = None
) -> Proposal:
    """Return the proposal with ``before_after``: the scenario assessed with its points, compared.

    With a ``scenario`` that can (``assessment_with``), the assessment with the points comes
    from its kept times; otherwise :func:`reassess_with` assesses the scenario again.
    """
    if scenario is not None and hasattr(scenario, "assessment_with"):
        new_pts = proposed_points(prop, counters=counters_proposed)
        after = scenario.assessment_with(new_pts, name=_after_name(assessment, len(new_pts), prop.objective))
    else:
        after = reassess_with(assessment, prop, counters_proposed=counters_proposed)
    ba = {"before": assessment, "after": after, "compare": assessment.compare(after)}
    return dataclasses.replace(prop, before_after=ba)


def _solve(
    assessment: Assessment,
    cands: gpd.GeoDataFrame,
    k: int | None,
    options: Mapping[str, Any],
    times: SiteTimes | None = None,
) -> Proposal:
    """Run :func:`pointplan.locate.propose` on the assessment's demand, points, engine and standard.

    ``times`` (the :class:`SiteTimes` of the assessment's demand and ``cands``) routes the pairs
    once for everything that asks them (default: the assessment's engine).

    ``options["coverage_rule"] == "time"`` drops the distance clause (no one is covered by
    distance alone: a distance of 0 m, where the minutes are 0 too).
    """
    params = assessment.params
    opts = dict(options)
    time_only = opts.pop("coverage_rule", "time_or_distance") == "time"
    return propose(
        assessment.demand,
        assessment.points,
        cands,
        k,
        engine=cast("Any", assessment.engine if times is None else times),  # the TravelEngine protocol
        max_minutes=params["max_minutes"],
        max_distance_m=0.0 if time_only else params["max_distance_m"],
        **opts,
    )


def proposed_points(proposal: Proposal, *, counters: int | None = None) -> gpd.GeoDataFrame:
    """Return the proposed points as service points (``DX01``, ``DX02``…) of the points schema.

    Parameters
    ----------
    proposal
        A proposal (:func:`propose_points` or :func:`pointplan.locate.propose`).
    counters
        Counters of each proposed point (default unknown: the assessment's default applies).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns of :data:`pointplan.points.POINT_COLUMNS`, kind and location
        precision ``proposed``, indexed by ``point_id``.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> cands = default_candidates(a, sites="grid", spacing_m=2000, n_clusters=2)
    >>> pts = proposed_points(propose_points(a, 1, candidates=cands, reassess=False), counters=2)
    >>> pts[["point_id", "name", "kind", "counters", "location_precision"]].values.tolist()
    [['DX01', 'Điểm đề xuất #1', 'proposed', 2, 'proposed']]
    """
    from pointplan.points import POINT_COLUMNS

    new = proposal.points
    rank = new["rank"].astype(int).astype(str)
    frame = gpd.GeoDataFrame(
        {
            "point_id": "DX" + rank.str.zfill(2),
            "name": "Điểm đề xuất #" + rank,
            "kind": "proposed",
            "unit_code": new["unit_code"],
            "declared_unit_code": new["unit_code"],
            "address": "",
            "counters": pd.array([counters] * len(new) if counters is not None else [pd.NA] * len(new), "Int64"),
            "location_precision": "proposed",
            "source": "pointplan proposal (" + new["candidate_id"].astype(str) + ")",
            "notes": "",
        },
        geometry=new.geometry.values,
        crs=new.crs,
    )
    out = frame[[*POINT_COLUMNS, "geometry"]].to_crs(settings.geographic_crs).set_index("point_id", drop=False)
    out.index.name = None
    return out


def reassess_with(assessment: Assessment, proposal: Proposal, *, counters_proposed: int | None = None) -> Assessment:
    """Assess the scenario again with the proposed points added (same demand, engine and standard).

    Parameters
    ----------
    assessment
        The assessment the proposal was made for.
    proposal
        The proposal.
    counters_proposed
        Counters of each proposed point (default: the assessment's default).

    Returns
    -------
    pointplan.Assessment
        The assessment of the points and the proposed points, named ``"<name> + <n> <objective>"``.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> cands = default_candidates(a, sites="grid", spacing_m=2000, n_clusters=2)
    >>> after = reassess_with(a, propose_points(a, 1, candidates=cands, reassess=False))
    >>> len(after.points) - len(a.points), after.name.endswith(" + 1 pmedian")
    (1, True)
    """
    new_pts = proposed_points(proposal, counters=counters_proposed)
    params = assessment.params
    base_cols = [c for c in assessment.points.columns if c in new_pts.columns or c == "geometry"]
    before_pts = assessment.points[base_cols]
    after_pts = pd.concat([before_pts, new_pts.to_crs(before_pts.crs)[base_cols]])
    after_pts.index.name = None
    demand_cols = ["population", "unit_code", "geometry"]
    return assess(
        gpd.GeoDataFrame(after_pts, geometry="geometry", crs=before_pts.crs),
        assessment.units,
        gpd.GeoDataFrame(assessment.demand[demand_cols].copy(), geometry="geometry"),
        engine=assessment.engine,
        max_minutes=params["max_minutes"],
        max_distance_m=params["max_distance_m"],
        modes=params["modes"],
        visits=assessment.units["visits_per_day"],
        counters_default=params["counters_default"],
        visits_per_counter=params["visits_per_counter"],
        availability=params["availability"],
        rule_kinds=params["rule_kinds"],
        max_off_network_share=params.get("max_off_network_share", 0.2),
        name=_after_name(assessment, len(new_pts), proposal.objective),
    )


def _after_name(assessment: Assessment, n_new: int, objective: str) -> str:
    """Name of the assessment with the proposed points: ``"<name> + <n> <objective>"``."""
    return f"{assessment.name} + {n_new} {objective}"


def _name_proposals(points: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the place's name, kind, address and how it was located to each proposal."""
    have = [c for c in _SITE_COLUMNS if c in candidates.columns]
    if "site_kind" not in candidates.columns or points.empty:  # grid cells have no place to name
        return points
    info = candidates.drop_duplicates("candidate_id").set_index("candidate_id")[have].rename(columns=_SITE_COLUMNS)
    out = points.copy()
    for col in info.columns:
        out[col] = out["candidate_id"].map(info[col]).fillna("").astype(str).to_numpy()
    return out


def _unconstrained_candidates(assessment: Assessment) -> gpd.GeoDataFrame:
    """Return one candidate per populated cell of a fine grid (the population-weighted centre)."""
    grid = grid_candidates(assessment.demand, spacing_m=UNCONSTRAINED_SPACING_M, min_population=1.0)
    grid["candidate_id"] = grid["candidate_id"].str.replace("grid-", "spot-", regex=False)
    return grid


def _compare_unconstrained(
    prop: Proposal,
    free_points: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    spots: gpd.GeoDataFrame,
    assessment: Assessment,
) -> Proposal:
    """Return the proposal with what the real buildings cost against the unconstrained (grid) solution."""
    from pointplan.locate.sites import constraint_cost

    if "site_kind" not in candidates.columns:
        return prop
    kind = candidates["site_kind"]
    real_sites = candidates[kind.notna() & (kind.astype(str) != "")].rename(columns={"candidate_id": "site_id"})
    params = assessment.params
    pts, picks, totals = constraint_cost(
        assessment.demand,
        prop.points,
        free_points,
        real_sites,
        engine=prop.site_times if prop.site_times is not None else assessment.engine,  # the real picks: routed
        max_minutes=params["max_minutes"],
        max_distance_m=params["max_distance_m"],
        cutoff_minutes=float(prop.summary["od_cutoff_minutes"]),
        spots=spots,
    )
    cols = ["rank", "candidate_id", "gain_person_minutes_saved", "gain_people_covered", "nearest_site_id",
            "nearest_site_name", "nearest_site_kind", "nearest_site_m", "no_public_building_within_1km"]  # fmt: skip
    recs = picks[cols].copy()
    recs["lon"] = picks.geometry.x.round(6).to_numpy()
    recs["lat"] = picks.geometry.y.round(6).to_numpy()
    summary = {**prop.summary, "tradeoff": totals, "unconstrained_picks": strict_json(recs.to_dict("records"))}
    return dataclasses.replace(prop, points=pts, summary=summary)
