"""The GeoDataFrame front end: :func:`propose` new service points.

:func:`propose` takes demand, existing points and candidate sites as GeoDataFrames,
builds the sparse coverage and travel-time pairs with a travel-time engine
(:mod:`pointplan.network`) and KD-trees, calls a matrix solver
(:mod:`pointplan.locate.coverage`, :mod:`pointplan.locate.median`) and returns a
:class:`Proposal`: the proposed points ranked by marginal gain and a before/after summary.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._errors import InfeasibleError, InputError, MissingColumnError, PrecisionWarning
from pointplan._validate import check_columns, check_nonnegative, check_unique, ensure_gdf
from pointplan.locate._inputs import check_method
from pointplan.locate.candidates import _boundary_geometry, _mark_outside, clean_candidates
from pointplan.locate.candidates import _xy as _projected_xy
from pointplan.locate.coverage import solve_lscp, solve_mclp
from pointplan.locate.median import solve_pmedian
from pointplan.locate.result import BoolArray, FloatArray, IntArray, Objective, SolveMethod, SolveResult
from pointplan.locate.site_times import SiteTimes
from pointplan.network.base import EngineBase
from pointplan.network.factory import make_engine
from pointplan.network.protocol import TravelEngine

__all__ = ["PROPOSAL_COLUMNS", "Proposal", "TravelEngine", "propose", "reusable_candidates"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Columns of :attr:`Proposal.points` (plus ``geometry``), in order.
PROPOSAL_COLUMNS: tuple[str, ...] = (
    "rank",
    "candidate_id",
    "kind",
    "unit_code",
    "gain_people_covered",
    "gain_person_minutes_saved",
    "serves_units",
    "source",
    "location_precision",
)


@dataclass(frozen=True)
class Proposal:
    """Proposed new points and the before/after figures.

    Attributes
    ----------
    points
        Proposed points (EPSG:4326) ranked by marginal gain of the objective: ``rank``,
        ``candidate_id``, ``kind``, ``unit_code``, ``gain_people_covered`` (people newly
        within the standard, in rank order), ``gain_person_minutes_saved`` (in rank
        order; demand that reached no existing point counts from its first new point
        on), ``serves_units`` (comma-joined codes of the units whose demand it becomes
        nearest for), ``source``, ``location_precision`` and geometry.
    result
        The solver's :class:`SolveResult` (positions refer to the kept candidates).
    dropped
        Candidates dropped before solving, with ``reason`` and ``detail``.
    objective
        ``"mclp"``, ``"lscp"`` or ``"pmedian"``.
    summary
        Covered population and share before/after, population-weighted mean minutes
        before/after, method, status, gap...
    before_after
        The full assessments before and after (``{"before", "after", "compare"}``), when
        a caller re-assessed; ``None`` otherwise.
    candidates
        The candidate sites the proposal chose from (set by
        :func:`pointplan.propose_points`; the uncertainty analysis re-solves on them).
    site_times
        The :class:`~pointplan.locate.site_times.SiteTimes` the proposal was routed with, when
        it was given one as its engine (the robustness draws reuse its times); not part of the
        proposal's repr or equality.

    Notes
    -----
    A proposal is immutable: what is learnt later comes back as a new one,
    ``dataclasses.replace(prop, before_after=...)``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import numpy as np
    >>> import pandas as pd
    >>> from pointplan.locate import SolveResult
    >>> res = SolveResult(np.array([0]), 150.0, 150.0, 0.0, "milp-highs", "optimal", 0.1, np.array([150.0]))
    >>> prop = Proposal(gpd.GeoDataFrame(geometry=[], crs=4326), res, pd.DataFrame(), "mclp", {"n_added": 1})
    >>> prop.objective, prop.result.gap_pct
    ('mclp', 0.0)
    >>> import dataclasses
    >>> dataclasses.replace(prop, candidates=gpd.GeoDataFrame(geometry=[], crs=4326)).candidates is not None
    True

    """

    points: gpd.GeoDataFrame
    result: SolveResult
    dropped: pd.DataFrame
    objective: Objective
    summary: dict[str, Any]
    before_after: Mapping[str, Any] | None = None
    candidates: gpd.GeoDataFrame | None = None
    site_times: SiteTimes | None = dataclasses.field(default=None, repr=False, compare=False)


def _default_engine() -> TravelEngine:
    return make_engine(None, settings.default_mode)


def _resolve_boundary(boundary: Any) -> Any:
    if boundary is False:
        return None
    if boundary is not None:
        return boundary
    try:
        from pointplan.data import load_boundary

        return load_boundary()
    except (ImportError, FileNotFoundError) as exc:
        logger.warning("city boundary not available (%s); outside-city check skipped", exc)
        return None


def reusable_candidates(
    candidates: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, boundary: Any = None
) -> gpd.GeoDataFrame:
    """Return candidates ready for many :func:`propose` calls on ``demand`` whose points move.

    What does not depend on the existing points is done once: the candidates without a
    geometry or outside ``boundary`` (as :func:`propose` takes it) are dropped, each
    missing ``unit_code`` is the nearest demand's unit (as :func:`propose` gives it), and
    ``attrs`` are left behind (pandas copies them at every step). :func:`propose` with
    these candidates and ``boundary=False`` chooses the same sites as with the original
    ones (only its report of dropped candidates is shorter).

    Examples
    --------
    >>> demand = gpd.GeoDataFrame({"population": [5, 5], "unit_code": ["A", "B"]},
    ...                           geometry=gpd.points_from_xy([0.0, 4000.0], [0.0, 0.0]), crs=32648)
    >>> sites = gpd.GeoDataFrame({"candidate_id": ["c1", "c2", "c3"], "kind": "proposed"},
    ...                          geometry=gpd.points_from_xy([100.0, 3900.0, 9e5], [0.0, 0.0, 0.0]), crs=32648)
    >>> sites.attrs["note"] = "big"
    >>> ready = reusable_candidates(sites, demand, boundary=demand.buffer(1000))
    >>> ready["candidate_id"].tolist(), ready["unit_code"].tolist(), ready.attrs
    (['c1', 'c2'], ['A', 'B'], {})
    """
    cand = ensure_gdf(candidates, "candidates").copy(deep=False)
    cand.attrs = {}
    geom = cand.geometry
    ok = ~(geom.isna() | geom.is_empty).to_numpy()
    bgeom = _boundary_geometry(_resolve_boundary(boundary))
    if bgeom is not None and ok.any():
        xy = np.full((len(cand), 2), np.nan)
        xy[ok] = _projected_xy(cand.iloc[np.flatnonzero(ok)])
        ok &= _mark_outside(bgeom, xy, ok, np.full(len(cand), None, dtype=object), np.full(len(cand), "", dtype=object))
    kept = cand.iloc[np.flatnonzero(ok)].copy()
    kept["unit_code"] = _candidate_units(kept, ensure_gdf(demand, "demand")) if len(kept) else []
    return kept


def _capacity_array(capacity_per_point: Any, kinds: pd.Series) -> FloatArray:
    if isinstance(capacity_per_point, Mapping):
        cap = kinds.astype(str).map({str(k): v for k, v in capacity_per_point.items()})
        if cap.isna().any():
            missing = sorted(set(kinds[cap.isna()].astype(str)))
            msg = (
                f"capacity_per_point has no capacity for candidate kind(s) {missing}; give "
                "one per kind or a single number."
            )
            raise InputError(msg)
        return cap.to_numpy(dtype=np.float64)
    value = float(capacity_per_point)
    if not value >= 0:
        msg = f"capacity_per_point must be >= 0 visits per day, got {capacity_per_point}."
        raise InputError(msg)
    return np.full(len(kinds), value)


def propose(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    k: int | None = None,
    *,
    objective: Objective = "mclp",
    engine: TravelEngine | None = None,
    max_minutes: float | None = None,
    max_distance_m: float | None = None,
    target_share: float = 1.0,
    method: SolveMethod = "greedy+swap",
    time_limit_s: float = 60.0,
    capacity_per_point: float | Mapping[str, float] | None = None,
    require_unit_coverage: bool = False,
    budget_per_kind: Mapping[str, int] | None = None,
    boundary: Any = None,
    min_separation_m: float = 50.0,
    od_cutoff_minutes: float | None = None,
    load_column: str = "visits_per_day",
    median_neighbours: int | None = None,
    compute_bound: bool = True,
) -> Proposal:
    """Propose where to add service points.

    Parameters
    ----------
    demand, points, candidates
        Demand points (``population`` as weight, ``unit_code``), existing points (``point_id``, ``unit_code``;
        may be empty) and candidate sites (``candidate_id``, ``kind``, optional ``source``, ``unit_code``); any CRS.
    k, objective
        Points to add (``mclp``, ``pmedian``; at most: points that gain nothing are not proposed);
        ``"mclp"`` (most people within the standard), ``"lscp"`` (fewest points to reach ``target_share``)
        or ``"pmedian"`` (least person-minutes).
    engine
        A :class:`~pointplan.network.TravelEngine`; default the calibrated straight line for
        ``settings.default_mode`` (a :class:`~pointplan.PrecisionWarning` says so).
    max_minutes, max_distance_m
        The standard (defaults in :mod:`pointplan.settings`): within it means ``minutes <= max_minutes``
        **or** straight-line distance ``<= max_distance_m``.
    target_share, method, time_limit_s
        LSCP: share of the population to bring within the standard; ``"greedy+swap"``, ``"greedy"`` or
        ``"exact"`` (MILP, HiGHS); the solver's time limit.
    capacity_per_point, load_column
        p-median only: visits per day a new point can take (a number, or one per kind), from the demand's
        ``load_column`` of visits per day.
    require_unit_coverage, budget_per_kind
        Give every unit of ``demand`` without a point a new one; at most so many new points per kind (``{"kiosk": 3}``).
    boundary, min_separation_m
        Drop candidates outside this outline (``None``: Hanoi's when available, ``False``: no check) or this
        close to an existing point.
    od_cutoff_minutes
        Times are computed up to this (default: the largest current time, capped at ``4 * max_minutes``).
    median_neighbours
        p-median only: pair each demand with its nearest so many sites (memory ``n x median_neighbours``; the
        bound then refers to those pairs); ``None``: every pair that beats the current point (exact).
    compute_bound
        p-median, LSCP heuristics: the bound and gap of the summary (``False``: ``None``, the same sites sooner).

    Returns
    -------
    Proposal
        The proposed points and the before/after summary.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from pointplan.network import make_engine
    >>> homes = [Point(585_000, 2_325_000), Point(587_000, 2_325_000), Point(600_000, 2_325_000)]
    >>> people = {"population": [100, 50, 80], "unit_code": ["A", "A", "B"]}
    >>> demand = gpd.GeoDataFrame(people, geometry=homes, crs=32648)
    >>> spots = [Point(586_000, 2_325_000), Point(600_500, 2_325_000)]
    >>> sites = gpd.GeoDataFrame({"candidate_id": ["c1", "c2"], "kind": "proposed"}, geometry=spots, crs=32648)
    >>> prop = propose(demand, demand.iloc[:0], sites, 1, engine=make_engine(None, "motorbike"), boundary=False)
    >>> prop.points["candidate_id"].tolist(), prop.summary["covered_after"]  # within 30 min or 5 km of most people
    (['c1'], 150.0)
    """
    options = _ProposeOptions(**{name: value for name, value in locals().items() if name in _OPTION_NAMES})
    return _propose(demand, points, candidates, k, engine, options)


@dataclass(frozen=True)
class _ProposeOptions:
    """The options of :func:`propose`, as given (see its parameters)."""

    objective: Objective
    max_minutes: float | None
    max_distance_m: float | None
    target_share: float
    method: SolveMethod
    time_limit_s: float
    capacity_per_point: float | Mapping[str, float] | None
    require_unit_coverage: bool
    budget_per_kind: Mapping[str, int] | None
    boundary: Any
    min_separation_m: float
    od_cutoff_minutes: float | None
    load_column: str
    median_neighbours: int | None
    compute_bound: bool = True


_OPTION_NAMES = frozenset(_ProposeOptions.__dataclass_fields__)


def _propose(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    k: int | None,
    engine: TravelEngine | None,
    o: _ProposeOptions,
) -> Proposal:
    """Check, clean the candidates, route, solve and sum up (the body of :func:`propose`)."""
    objective, method = o.objective, o.method
    demand, points, candidates, pop = _check_inputs(demand, points, candidates, k, objective, method)
    _check_options(
        demand, points, objective, o.capacity_per_point, o.require_unit_coverage, o.budget_per_kind, o.load_column
    )
    max_minutes = settings.standard_minutes if o.max_minutes is None else float(o.max_minutes)
    max_distance_m = settings.standard_distance_m if o.max_distance_m is None else float(o.max_distance_m)
    if engine is None:
        engine = _default_engine()
        warnings.warn(
            f"travel times are estimates ({getattr(engine, 'method', 'fallback')}): no road "
            "network was given; pass engine=pointplan.network.travel_engine(G, mode).",
            PrecisionWarning,
            stacklevel=3,
        )
    kept, dropped = clean_candidates(candidates, points, _resolve_boundary(o.boundary), o.min_separation_m)
    if len(kept) == 0:
        msg = (
            f"no candidate is left after cleaning ({len(dropped)} dropped: "
            f"{dropped['reason'].value_counts().to_dict()})."
        )
        raise InfeasibleError(msg)
    before, fixed_covered = _before(demand, points, engine, max_minutes, max_distance_m)
    cutoff = _od_cutoff(before, max_minutes, o.od_cutoff_minutes)
    median_neighbours = o.median_neighbours
    if median_neighbours is not None and not (isinstance(median_neighbours, int) and median_neighbours >= 1):
        msg = f"median_neighbours must be a positive integer or None, got {median_neighbours!r}."
        raise InputError(msg)
    std = _Standard(max_minutes, max_distance_m, cutoff, median_neighbours if objective == "pmedian" else None)
    # only demand that can gain needs pairs: people outside the standard (coverage), or
    # anyone (p-median, pairs that beat the current point)
    can_gain = (pop > 0) & (~fixed_covered if objective != "pmedian" else True)
    cost, coverage = _od_pairs(demand, kept, engine, std, before if objective == "pmedian" else None, can_gain)
    near_only = coverage is None  # p-median among many sites: coverage of the chosen sites, below
    if coverage is None:
        coverage = sp.csc_matrix((len(demand), len(kept)), dtype=bool)
    unit_codes = _candidate_units(kept, demand)
    require = _required_units(demand, points) if o.require_unit_coverage else None
    kinds = kept["kind"].astype(str)
    args = _SolveArgs(pop, cost, coverage, before, fixed_covered, cutoff, unit_codes, require, kinds)
    capacity = None
    if o.capacity_per_point is not None:
        load = check_nonnegative(demand, o.load_column, "demand").to_numpy(dtype=np.float64)
        capacity = (_capacity_array(o.capacity_per_point, kinds), load)
    res = _solve(objective, args, k, o.target_share, method, (o.time_limit_s, o.compute_bound), o.budget_per_kind,
                 capacity)  # fmt: skip
    minutes_sel = _selected_minutes(demand, kept, engine, res.selected, cutoff)
    if near_only:
        args = dataclasses.replace(args, coverage=_selected_coverage(demand, kept, res.selected, minutes_sel,
                                                                     np.asarray(can_gain), std))  # fmt: skip
    after = _after(args, res.selected, minutes_sel)
    out = _proposal_points(kept, demand, unit_codes, res.selected, after)
    summary = _summary(objective, res, args, after, len(kept), len(dropped))
    summary.update(
        max_minutes=max_minutes,
        max_distance_m=max_distance_m,
        od_cutoff_minutes=cutoff,
        median_neighbours=std.neighbours,
        engine_method=getattr(engine, "method", type(engine).__name__),
    )
    times = engine if isinstance(engine, SiteTimes) else None
    return Proposal(points=out, result=res, dropped=dropped, objective=objective, summary=summary, site_times=times)


def _check_inputs(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame,
    k: int | None,
    objective: str,
    method: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, FloatArray]:
    if objective not in ("mclp", "lscp", "pmedian"):
        msg = f"objective must be 'mclp', 'lscp' or 'pmedian', got {objective!r}."
        raise InputError(msg)
    check_method(method)
    if objective != "lscp" and k is None:
        msg = f"objective={objective!r} needs k, the number of points to add."
        raise InputError(msg)
    demand = ensure_gdf(demand, "demand")
    check_columns(demand, ["population", "unit_code"], "demand")
    pop = check_nonnegative(demand, "population", "demand").to_numpy(dtype=np.float64)
    candidates = ensure_gdf(candidates, "candidates")
    check_columns(candidates, ["candidate_id", "kind"], "candidates")
    check_unique(candidates, "candidate_id", "candidates")
    if points is None:
        points = gpd.GeoDataFrame(geometry=[], crs=settings.geographic_crs)
    if not isinstance(points, gpd.GeoDataFrame):
        msg = "points must be a GeoDataFrame of the existing points (it may be empty)."
        raise InputError(msg)
    if len(points) and points.crs is None:
        ensure_gdf(points, "points")
    return demand, points, candidates, pop


def _check_options(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    objective: str,
    capacity_per_point: float | Mapping[str, float] | None,
    require_unit_coverage: bool,
    budget_per_kind: Mapping[str, int] | None,
    load_column: str,
) -> None:
    if require_unit_coverage and len(points):
        check_columns(points, ["unit_code"], "points")
    if objective == "lscp" and (require_unit_coverage or budget_per_kind):
        msg = "require_unit_coverage and budget_per_kind apply to objective 'mclp' or 'pmedian'."
        raise InputError(msg)
    if capacity_per_point is not None and objective != "pmedian":
        msg = "capacity_per_point applies to objective='pmedian' (capacitated p-median)."
        raise InputError(msg)
    if capacity_per_point is not None and load_column not in demand.columns:
        msg = (
            f"capacity_per_point needs the demand's visits per day in column "
            f"'{load_column}' (see pointplan.demand); demand has {list(demand.columns)}."
        )
        raise MissingColumnError(msg)


def _before(
    demand: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    engine: TravelEngine,
    max_minutes: float,
    max_distance_m: float,
) -> tuple[FloatArray, BoolArray]:
    """Minutes to the nearest existing point (inf: none) and who is within the standard."""
    n = len(demand)
    if not len(points):
        return np.full(n, np.inf), np.zeros(n, dtype=bool)
    near = engine.nearest(demand, points)
    before = pd.to_numeric(near["minutes"], errors="coerce").to_numpy(dtype=np.float64)
    before = np.where(np.isnan(before), np.inf, before)
    straight, _ = cKDTree(_projected_xy(points)).query(_projected_xy(demand))
    return before, (before <= max_minutes) | (straight <= max_distance_m)


def _od_cutoff(before: FloatArray, max_minutes: float, od_cutoff_minutes: float | None) -> float:
    if od_cutoff_minutes is not None:
        return max(float(od_cutoff_minutes), max_minutes)
    finite = before[np.isfinite(before)]
    worst = float(finite.max()) if finite.size else 4 * max_minutes
    return max(max_minutes, min(worst, 4 * max_minutes))


#: Candidate sites per block when building the sparse pairs: the peak memory is the
#: answer (the pairs within reach) plus one block's raw pairs.
OD_BLOCK_SITES = 5_000


@dataclass(frozen=True)
class _Standard:
    """The standard (minutes or straight-line metres) and the travel-time cut-off."""

    max_minutes: float
    max_distance_m: float
    cutoff: float
    neighbours: int | None = None


def _od_pairs(
    demand: gpd.GeoDataFrame,
    kept: gpd.GeoDataFrame,
    engine: TravelEngine,
    std: _Standard,
    before: FloatArray | None,
    rows: BoolArray,
) -> tuple[sp.csc_matrix | None, sp.csc_matrix | None]:
    """Sparse pairs, block by block of sites: coverage, and minutes for the p-median.

    With ``std.neighbours`` (p-median among many sites), only the minutes are built here,
    by :func:`_median_pairs_near`; the coverage (``None``) is built later for the chosen
    sites only (:func:`_selected_coverage`), the only columns read.

    Only the demand in ``rows`` (the demand that can gain) is paired; the other rows
    stay empty. Coverage holds the pairs within the standard (``minutes <= max_minutes``
    or straight line ``<= max_distance_m``). With ``before`` (p-median), travel minutes
    are kept up to the cut-off for the pairs that beat the demand's current point, the
    only ones that can gain. No dense demand x sites matrix is built.
    """
    n = len(demand)
    pos = np.flatnonzero(rows)
    demand = demand.iloc[pos]
    dxy = _projected_xy(demand) if pos.size else None  # projected once, not per block
    kxy = _projected_xy(kept)
    tree_d = cKDTree(dxy) if dxy is not None else None
    reach = _neighbour_reach(dxy, kxy, std.neighbours) if before is not None and dxy is not None else None
    if reach is not None and dxy is not None and before is not None:
        return _median_pairs_near(demand, kept, engine, std, before, pos, dxy, kxy, reach), None
    cov_blocks: list[sp.csc_matrix] = []
    cost_blocks: list[sp.csc_matrix] = []
    size = OD_BLOCK_SITES if before is None else max(1, OD_BLOCK_SITES // 20)  # p-median: long reach
    for start in range(0, len(kept), size):
        block = kept.iloc[start : start + size]
        bxy = kxy[start : start + size]
        if tree_d is None:
            cov_blocks.append(sp.csc_matrix((n, len(block)), dtype=bool))
            cost_blocks.append(sp.csc_matrix((n, len(block))))
            continue
        limit = std.cutoff if before is not None else std.max_minutes
        oi, oj, om = _od_arrays(engine, demand, block, limit)
        oi = pos[oi]
        near = cKDTree(bxy).sparse_distance_matrix(tree_d, std.max_distance_m, output_type="ndarray")
        within = om <= std.max_minutes
        ci = np.concatenate([oi[within], pos[near["j"].astype(np.int64)]])
        cj = np.concatenate([oj[within], near["i"].astype(np.int64)])
        cov = sp.csc_matrix((np.ones(ci.size, dtype=bool), (ci, cj)), shape=(n, len(block)))
        cov.sum_duplicates()
        cov_blocks.append(cov)
        if before is not None:
            useful = om < before[oi]
            if reach is not None and dxy is not None:
                local = np.searchsorted(pos, oi)
                straight = np.hypot(*(dxy[local] - bxy[oj]).T)
                useful &= straight <= reach[local]
            cost_blocks.append(sp.csc_matrix((om[useful], (oi[useful], oj[useful])), shape=(n, len(block))))
    coverage = sp.hstack(cov_blocks, format="csc")
    cost = sp.hstack(cost_blocks, format="csc") if before is not None else None
    return cost, coverage


def _median_pairs_near(
    demand: gpd.GeoDataFrame,
    kept: gpd.GeoDataFrame,
    engine: TravelEngine,
    std: _Standard,
    before: FloatArray,
    pos: IntArray,
    dxy: FloatArray,
    kxy: FloatArray,
    reach: FloatArray,
) -> sp.csc_matrix:
    """p-median pairs within each demand's straight-line ``reach`` that beat its current point.

    The sites are taken in blocks of nearby sites (sorted on a 2 km grid), and each block is
    routed only from the demand with one of the block's sites within its reach: the same
    pairs as routing every demand to every site and filtering, for a fraction of the routing.
    ``demand``, ``dxy`` and ``reach`` are the rows ``pos`` of the full demand.
    """
    n = int(before.size)
    cell = np.floor(kxy / 2_000.0).astype(np.int64)
    order = np.lexsort((cell[:, 0], cell[:, 1]))
    parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    size = max(1, OD_BLOCK_SITES // 5)
    for start in range(0, len(kept), size):
        cols = order[start : start + size]
        bxy = kxy[cols]
        sub = _rows_in_reach(dxy, bxy, reach)
        if sub.size == 0:
            continue
        oi, oj, om = _od_arrays(engine, demand.iloc[sub], kept.iloc[cols], std.cutoff)
        local = sub[oi]
        straight = np.hypot(*(dxy[local] - bxy[oj]).T)
        useful = (om < before[pos[local]]) & (straight <= reach[local])
        parts.append((pos[local[useful]], cols[oj[useful]], om[useful]))
    if not parts:
        return sp.csc_matrix((n, len(kept)))
    ci, cj, cm = (np.concatenate(x) for x in zip(*parts, strict=True))
    return sp.csc_matrix((cm, (ci, cj)), shape=(n, len(kept)))


def _selected_coverage(
    demand: gpd.GeoDataFrame,
    kept: gpd.GeoDataFrame,
    sel: IntArray,
    minutes_sel: sp.csc_matrix,
    rows: BoolArray,
    std: _Standard,
) -> sp.csc_matrix:
    """Coverage (within ``max_minutes`` or ``max_distance_m``) of the chosen sites only, for ``rows``."""
    n = len(demand)
    if sel.size == 0:
        return sp.csc_matrix((n, len(kept)), dtype=bool)
    m = minutes_sel.tocoo()
    within = (m.data <= std.max_minutes) & rows[m.row]
    pos = np.flatnonzero(rows)
    near = cKDTree(_projected_xy(kept.iloc[sel])).sparse_distance_matrix(
        cKDTree(_projected_xy(demand.iloc[pos])), std.max_distance_m, output_type="ndarray"
    )
    ci = np.concatenate([m.row[within], pos[near["j"].astype(np.int64)]])
    cj = np.concatenate([sel[m.col[within]], sel[near["i"].astype(np.int64)]])
    cov = sp.csc_matrix((np.ones(ci.size, dtype=bool), (ci, cj)), shape=(n, len(kept)))
    cov.sum_duplicates()
    return cov


def _rows_in_reach(dxy: FloatArray, bxy: FloatArray, reach: FloatArray) -> IntArray:
    """Positions of the demand (``dxy``) with a site of ``bxy`` within its straight-line ``reach``."""
    dist, _ = cKDTree(bxy).query(dxy, distance_upper_bound=float(reach.max()))
    return np.flatnonzero(dist <= reach).astype(np.int64)


def _neighbour_reach(dxy: FloatArray, kxy: FloatArray, k: int | None) -> FloatArray | None:
    """Straight-line distance from each demand (``dxy``) to its ``k``-th nearest site (``None``: all)."""
    if k is None or k >= len(kxy):
        return None
    dist, _ = cKDTree(kxy).query(dxy, k=[k])
    return np.asarray(dist[:, 0], dtype=np.float64) * (1 + 1e-12)


def _od_arrays(
    engine: TravelEngine, demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, limit: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs ``(i, j, minutes)`` with finite minutes within ``limit`` (no path lengths: only minutes are used)."""
    if isinstance(engine, SiteTimes):  # times routed once: straight from its arrays
        oi, oj, om = engine.pairs(demand, sites, limit)
        good = np.isfinite(om) & (om <= limit)
        return oi[good], oj[good], om[good]
    if isinstance(engine, EngineBase):  # pointplan's engines: skip the path lengths
        od = engine.od_long(demand, sites, limit, with_distance=False)
    else:  # a user's engine may not take with_distance
        od = engine.od_long(demand, sites, limit)
    oi = od["i"].to_numpy(dtype=np.int64)
    oj = od["j"].to_numpy(dtype=np.int64)
    om = od["minutes"].to_numpy(dtype=np.float64)
    good = np.isfinite(om) & (om <= limit)
    return oi[good], oj[good], om[good]


def _selected_minutes(
    demand: gpd.GeoDataFrame, kept: gpd.GeoDataFrame, engine: TravelEngine, sel: IntArray, cutoff: float
) -> sp.csc_matrix:
    """Minutes from each demand to the proposed sites (columns in rank order)."""
    if sel.size == 0:
        return sp.csc_matrix((len(demand), 0))
    oi, oj, om = _od_arrays(engine, demand, kept.iloc[sel], cutoff)
    return sp.csc_matrix((om, (oi, oj)), shape=(len(demand), sel.size))


def _candidate_units(kept: gpd.GeoDataFrame, demand: gpd.GeoDataFrame) -> npt.NDArray[np.str_]:
    """Return the unit code of each candidate (missing ones: the nearest demand's unit)."""
    units = kept["unit_code"] if "unit_code" in kept.columns else pd.Series(None, index=kept.index)
    units = units.astype(object).where(units.notna(), None)
    if units.isna().any():
        _, nn = cKDTree(_projected_xy(demand)).query(_projected_xy(kept)[units.isna().to_numpy()])
        units = units.copy()
        units[units.isna()] = demand["unit_code"].to_numpy(dtype=object)[nn]
    return units.astype(str).to_numpy()


def _required_units(demand: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> set[str]:
    have = set(points["unit_code"].dropna().astype(str)) if len(points) else set()
    require = set(demand["unit_code"].dropna().astype(str)) - have
    logger.info("%d unit(s) without an existing point require a new one", len(require))
    return require


@dataclass
class _SolveArgs:
    """What the matrix solvers and the before/after figures need."""

    pop: FloatArray
    cost: sp.csc_matrix | None
    coverage: sp.csc_matrix
    before: FloatArray
    fixed_covered: BoolArray
    cutoff: float
    unit_codes: npt.NDArray[np.str_]
    require: set[str] | None
    kinds: pd.Series


def _solve(
    objective: str,
    a: _SolveArgs,
    k: int | None,
    target_share: float,
    method: Any,
    limits: tuple[float, bool],
    budget_per_kind: Mapping[str, int] | None,
    capacity: tuple[FloatArray, FloatArray] | None = None,
) -> SolveResult:
    time_limit_s, compute_bound = limits  # the time limit, and whether heuristics compute a bound
    rules: dict[str, Any] = {
        "unit_of_candidate": a.unit_codes,
        "require_units": a.require,
        "kind_of_candidate": a.kinds.to_numpy(),
        "budget_per_kind": budget_per_kind,
    }
    if objective == "mclp":
        return solve_mclp(
            a.pop,
            a.coverage,
            int(k or 0),
            fixed_covered=a.fixed_covered,
            method=method,
            time_limit_s=time_limit_s,
            **rules,
        )
    if objective == "lscp":
        return solve_lscp(
            a.pop, a.coverage, target_share=target_share, fixed_covered=a.fixed_covered, method=method,
            time_limit_s=time_limit_s, compute_bound=compute_bound,
        )  # fmt: skip
    cap, load = capacity if capacity is not None else (None, None)
    return solve_pmedian(
        a.pop, a.cost, int(k or 0), fixed_cost=a.before, method=method, time_limit_s=time_limit_s,
        capacity=cap, demand_load=load, unassigned_cost=a.cutoff if not np.isfinite(a.before).all() else None,
        compute_bound=compute_bound, **rules,
    )  # fmt: skip


@dataclass
class _After:
    """Coverage, minutes and serving rank of each demand after the proposal."""

    covered: BoolArray
    minutes: FloatArray
    owner: IntArray
    gain_covered: FloatArray
    gain_minutes: FloatArray


def _after(a: _SolveArgs, sel: IntArray, minutes_sel: sp.csc_matrix) -> _After:
    """Gains of both kinds in rank order, and who serves whom after.

    ``minutes_sel`` holds the minutes to the proposed sites only (rank order).
    """
    n = a.pop.size
    covered, cur = a.fixed_covered.copy(), a.before.copy()
    owner = np.full(n, -1, dtype=np.int64)
    gain_cov, gain_min = np.zeros(sel.size), np.zeros(sel.size)
    cov, cost = a.coverage, minutes_sel
    for r, j in enumerate(sel):  # one step per proposed point (vectorised inside)
        rows = cov.indices[cov.indptr[j] : cov.indptr[j + 1]]
        new = rows[~covered[rows]]
        gain_cov[r] = a.pop[new].sum()
        covered[new] = True
        crow = cost.indices[cost.indptr[r] : cost.indptr[r + 1]]
        cmin = cost.data[cost.indptr[r] : cost.indptr[r + 1]]
        better = cmin < cur[crow]
        saved = np.where(np.isfinite(cur[crow]), cur[crow] - cmin, 0.0)
        gain_min[r] = float((a.pop[crow] * saved)[better].sum())
        cur[crow[better]] = cmin[better]
        owner[crow[better]] = r
    return _After(covered, cur, owner, gain_cov, gain_min)


def _proposal_points(
    kept: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    unit_codes: npt.NDArray[np.str_],
    sel: IntArray,
    after: _After,
) -> gpd.GeoDataFrame:
    demand_units = demand["unit_code"].astype(str).to_numpy()
    served = after.owner >= 0
    serves = (
        pd.Series(demand_units[served])
        .groupby(after.owner[served])
        .agg(lambda s: ",".join(sorted(set(s))))
        .reindex(range(sel.size), fill_value="")
    )
    chosen = kept.iloc[sel]
    source = chosen["source"] if "source" in chosen.columns else pd.Series("user", index=chosen.index)
    prec = (
        chosen["location_precision"]
        if "location_precision" in chosen.columns
        else pd.Series("candidate", index=chosen.index)
    )
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, sel.size + 1),
            "candidate_id": chosen["candidate_id"].to_numpy(),
            "kind": chosen["kind"].to_numpy(),
            "unit_code": unit_codes[sel],
            "gain_people_covered": after.gain_covered,
            "gain_person_minutes_saved": after.gain_minutes,
            "serves_units": serves.to_numpy(),
            "source": source.to_numpy(),
            "location_precision": prec.to_numpy(),
        },
        geometry=chosen.geometry.to_crs(settings.geographic_crs).to_numpy(),
        crs=settings.geographic_crs,
        index=chosen.index,
    )


def _summary(
    objective: str, res: SolveResult, a: _SolveArgs, after: _After, n_candidates: int, n_dropped: int
) -> dict[str, Any]:
    pop = a.pop
    total = float(pop.sum())

    def wmean(minutes: FloatArray) -> float | None:
        ok = np.isfinite(minutes) & (pop > 0)
        return float((pop[ok] * minutes[ok]).sum() / pop[ok].sum()) if ok.any() else None

    return {
        "objective": objective,
        "objective_value": res.objective,
        "method": res.method,
        "status": res.status,
        "bound": res.bound,
        "gap_pct": res.gap_pct,
        "runtime_s": res.runtime_s,
        "n_added": int(res.selected.size),
        "n_candidates": int(n_candidates),
        "n_dropped": n_dropped,
        "population": total,
        "covered_before": float(pop[a.fixed_covered].sum()),
        "covered_after": float(pop[after.covered].sum()),
        "share_before": float(pop[a.fixed_covered].sum() / total) if total else None,
        "share_after": float(pop[after.covered].sum() / total) if total else None,
        "mean_minutes_before": wmean(a.before),
        "mean_minutes_after": wmean(after.minutes),
        "unreached_population_before": float(pop[~np.isfinite(a.before)].sum()),
        "unreached_population_after": float(pop[~np.isfinite(after.minutes)].sum()),
    }
