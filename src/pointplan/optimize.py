"""Location-allocation: where to add service points.

Two layers:

* **Matrix solvers** (no geodata): :func:`solve_mclp` (maximal covering),
  :func:`solve_lscp` (set covering, fewest points for a target share) and
  :func:`solve_pmedian` (minimise population-weighted travel time, optionally
  capacitated). Each has a fast heuristic (greedy with exact incremental gain updates,
  then a vectorised swap local search, i.e. vertex substitution) and an exact MILP solved
  by HiGHS (through :func:`scipy.optimize.milp`) built from sparse matrices. Existing
  points are *fixed*: they enter as demand already covered (``fixed_covered``) or as
  each demand's current cost (``fixed_cost``), so only the added points are chosen.
* **Geodata layer**: :func:`propose` takes demand, existing points and candidate sites
  as GeoDataFrames, builds the coverage / travel-time matrices with a travel-time engine
  (:mod:`pointplan.network`) and a KD-tree, solves, and returns a :class:`Proposal`: the
  proposed points ranked by marginal gain and a before/after summary.

All solvers return a :class:`SolveResult`. ``selected`` lists candidate positions in the
order of marginal gain (a point that adds nothing is not proposed); ``gains`` holds each
one's marginal gain given the fixed points and the points ranked before it, so
``gains.sum()`` is the whole improvement.

Gaps are ``100 * |objective - bound| / |objective|`` (the HiGHS convention).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._errors import InfeasibleError, InputError, MissingColumnError, SolverError

__all__ = [
    "PROPOSAL_COLUMNS",
    "Proposal",
    "SolveResult",
    "propose",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
]

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

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Relative MIP gap HiGHS is asked to close (tighter than its 1e-4 default so that
#: "optimal" means optimal for planning-sized weights).
MIP_REL_GAP = 1e-7

_METHODS = ("greedy", "greedy+swap", "exact")


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------
@dataclass
class SolveResult:
    """Answer of a location-allocation solver.

    Attributes
    ----------
    selected
        Candidate positions (columns) chosen, excluding the fixed points, in the order of
        marginal gain.
    objective
        Covered weight including demand already covered by the fixed points (MCLP, LSCP)
        or population-weighted cost ``sum_i w_i * min(fixed_cost_i, min_j cost_ij)``
        (p-median).
    bound
        Best proven bound on the objective (exact: the MILP dual bound; heuristic: a
        Lagrangian / submodular bound when one is computed). For LSCP it bounds the number
        of added points from below.
    gap_pct
        ``100 * |objective - bound| / |objective|`` (LSCP: on the number of points).
    method
        ``"greedy"``, ``"greedy+swap"``, ``"milp-highs"``...
    status
        ``"optimal"``, ``"time_limit"``, ``"heuristic"``...
    runtime_s
        Wall time of the solve.
    gains
        Marginal gain of each selected candidate in order: people newly covered (MCLP,
        LSCP) or person-minutes saved (p-median).
    assignment
        p-median: the candidate column serving each demand, ``-1`` for the fallback
        (an existing point or ``unassigned_cost``). ``None`` for covering problems.
    details
        Extra figures (uncoverable weight, LSCP count bound, pruned points...).

    """

    selected: IntArray
    objective: float
    bound: float | None
    gap_pct: float | None
    method: str
    status: str
    runtime_s: float
    gains: FloatArray
    assignment: IntArray | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None or not np.isfinite(bound) or not np.isfinite(objective):
        return None
    if objective == 0:
        return 0.0 if bound == 0 else None
    return float(100.0 * abs(objective - bound) / abs(objective))


# --------------------------------------------------------------------------------------
# Validation of matrix inputs
# --------------------------------------------------------------------------------------
def _check_method(method: str) -> None:
    if method not in _METHODS:
        msg = f"method must be one of {list(_METHODS)}, got {method!r}."
        raise InputError(msg)


def _as_weights(weights: npt.ArrayLike, what: str = "weights") -> FloatArray:
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0:
        msg = f"{what} is empty: give one weight (population) per demand location."
        raise InputError(msg)
    if not np.isfinite(w).all() or (w < 0).any():
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        msg = (
            f"{what} must be finite and >= 0; positions {bad[:8].tolist()} are not "
            f"(e.g. {w[bad[0]]}). Fill missing population with 0."
        )
        raise InputError(msg)
    return w


def _as_coverage(coverage: Any, n: int) -> sp.csr_matrix:
    if sp.issparse(coverage):
        a = sp.csr_matrix(coverage, dtype=bool)
    else:
        arr = np.asarray(coverage)
        if arr.ndim != 2:
            msg = "coverage must be a 2-D (n demand x m candidates) boolean matrix."
            raise InputError(msg)
        a = sp.csr_matrix(arr.astype(bool))
    if a.shape[0] != n:
        msg = (
            f"coverage has {a.shape[0]} rows but weights has {n} entries: rows are demand "
            "locations, columns candidates."
        )
        raise InputError(msg)
    a.eliminate_zeros()
    a.sum_duplicates()
    a.sort_indices()
    return a


def _as_mask(mask: npt.ArrayLike | None, n: int, what: str) -> BoolArray:
    if mask is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(mask, dtype=bool).ravel()
    if arr.size != n:
        msg = f"{what} must have one entry per demand location ({n}), got {arr.size}."
        raise InputError(msg)
    return arr


def _check_p(p: int, m: int) -> int:
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        msg = f"p (number of points to add) must be an integer, got {p!r}."
        raise InputError(msg)
    if p < 0:
        msg = f"p (number of points to add) must be >= 0, got {p}."
        raise InputError(msg)
    if p > m:
        msg = (
            f"p = {p} points requested but only {m} candidates given. Add candidates (pointplan.candidates) or lower p."
        )
        raise InputError(msg)
    return int(p)


# --------------------------------------------------------------------------------------
# Side constraints: unit requirement, budget per kind
# --------------------------------------------------------------------------------------
class _Rules:
    """Unit requirement and per-kind budgets, shared by every solver."""

    def __init__(
        self,
        m: int,
        p: int | None,
        unit_of_candidate: npt.ArrayLike | None,
        require_units: Collection[Any] | None,
        kind_of_candidate: npt.ArrayLike | None,
        budget_per_kind: Mapping[str, int] | None,
    ) -> None:
        self.m = m
        self.req_of = np.full(m, -1, dtype=np.int64)
        self.req_names: list[Any] = []
        self.kind_of = np.zeros(m, dtype=np.int64)
        self.cap = np.array([np.inf])
        self.kind_names: list[Any] = ["*"]
        if require_units:
            if unit_of_candidate is None:
                msg = "require_units needs unit_of_candidate (the unit code of each candidate)."
                raise InputError(msg)
            units = np.asarray(unit_of_candidate, dtype=object).ravel()
            if units.size != m:
                msg = f"unit_of_candidate must have one entry per candidate ({m}), got {units.size}."
                raise InputError(msg)
            req = sorted({str(u) for u in require_units})
            units_s = np.array([str(u) for u in units], dtype=object)
            lookup = {u: r for r, u in enumerate(req)}
            self.req_of = np.array([lookup.get(u, -1) for u in units_s], dtype=np.int64)
            self.req_names = req
            have = np.bincount(self.req_of[self.req_of >= 0], minlength=len(req))
            missing = [u for u, h in zip(req, have, strict=True) if h == 0]
            if missing:
                msg = (
                    f"{len(missing)} required unit(s) have no candidate site: {missing[:10]}. "
                    "Add candidates there (e.g. pointplan.candidates.unit_candidates) or drop "
                    "the requirement."
                )
                raise InfeasibleError(msg)
            if p is not None and len(req) > p:
                msg = (
                    f"{len(req)} units require a new point but only p = {p} points may be "
                    f"added. Raise p to at least {len(req)}."
                )
                raise InfeasibleError(msg)
        if budget_per_kind:
            if kind_of_candidate is None:
                msg = "budget_per_kind needs kind_of_candidate (the kind of each candidate)."
                raise InputError(msg)
            kinds = np.asarray(kind_of_candidate, dtype=object).ravel()
            if kinds.size != m:
                msg = f"kind_of_candidate must have one entry per candidate ({m}), got {kinds.size}."
                raise InputError(msg)
            codes, names = pd.factorize(pd.Series(kinds).astype(str))
            self.kind_of = codes.astype(np.int64)
            self.kind_names = list(names)
            cap = np.full(len(names), np.inf)
            for kind, budget in budget_per_kind.items():
                if budget is None:
                    continue
                if budget < 0:
                    msg = f"budget_per_kind[{kind!r}] must be >= 0, got {budget}."
                    raise InputError(msg)
                if str(kind) in self.kind_names:
                    cap[self.kind_names.index(str(kind))] = float(budget)
            self.cap = cap
            if self.req_names:
                usable = self.cap[self.kind_of] > 0
                have = np.bincount(self.req_of[(self.req_of >= 0) & usable], minlength=len(self.req_names))
                missing = [u for u, h in zip(self.req_names, have, strict=True) if h == 0]
                if missing:
                    msg = (
                        f"required unit(s) {missing[:10]} only have candidates of kinds whose "
                        "budget is 0. Raise the budget or add other candidates there."
                    )
                    raise InfeasibleError(msg)

    @property
    def active(self) -> bool:
        return bool(self.req_names) or bool(np.isfinite(self.cap).any())

    @property
    def n_req(self) -> int:
        return len(self.req_names)

    # greedy support ------------------------------------------------------------------
    def start(self) -> tuple[IntArray, IntArray]:
        return np.zeros(self.n_req, dtype=np.int64), np.zeros(len(self.cap), dtype=np.int64)

    def kind_ok(self, state: tuple[IntArray, IntArray]) -> BoolArray:
        return state[1][self.kind_of] < self.cap[self.kind_of]

    def unmet(self, state: tuple[IntArray, IntArray]) -> tuple[int, BoolArray]:
        unit_cnt = state[0]
        n_unmet = int((unit_cnt == 0).sum())
        if n_unmet == 0:
            return 0, np.zeros(self.m, dtype=bool)
        mask = (self.req_of >= 0) & (unit_cnt[np.maximum(self.req_of, 0)] == 0)
        return n_unmet, mask

    def add(self, state: tuple[IntArray, IntArray], j: int) -> None:
        if self.req_of[j] >= 0:
            state[0][self.req_of[j]] += 1
        state[1][self.kind_of[j]] += 1

    # swap support --------------------------------------------------------------------
    def swap_ok(self, sel: IntArray) -> BoolArray | None:
        """``ok[j, r]``: may candidate ``j`` replace ``sel[r]`` without breaking a rule."""
        if not self.active:
            return None
        kind_cnt = np.bincount(self.kind_of[sel], minlength=len(self.cap))
        kj = self.kind_of
        room = kind_cnt[kj] < self.cap[kj]
        ok = room[:, None] | (kj[:, None] == kj[sel][None, :])
        if self.n_req:
            rs = self.req_of[sel]
            unit_cnt = np.bincount(rs[rs >= 0], minlength=self.n_req)
            critical = (rs >= 0) & (unit_cnt[np.maximum(rs, 0)] == 1)
            same = self.req_of[:, None] == rs[None, :]
            ok &= ~critical[None, :] | same
        return ok

    def satisfied(self, sel: IntArray) -> bool:
        if self.n_req:
            rs = self.req_of[sel]
            if np.unique(rs[rs >= 0]).size < self.n_req:
                return False
        kind_cnt = np.bincount(self.kind_of[sel], minlength=len(self.cap))
        return bool((kind_cnt <= self.cap).all())

    # MILP rows -----------------------------------------------------------------------
    def milp_rows(self, n_cols: int) -> list[LinearConstraint]:
        rows: list[LinearConstraint] = []
        if self.n_req:
            js = np.flatnonzero(self.req_of >= 0)
            a = sp.csr_array((np.ones(js.size), (self.req_of[js], js)), shape=(self.n_req, n_cols))
            rows.append(LinearConstraint(a, np.ones(self.n_req), np.full(self.n_req, np.inf)))
        finite = np.flatnonzero(np.isfinite(self.cap))
        if finite.size:
            js = np.flatnonzero(np.isin(self.kind_of, finite))
            remap = {k: r for r, k in enumerate(finite)}
            rr = np.array([remap[k] for k in self.kind_of[js]], dtype=np.int64)
            a = sp.csr_array((np.ones(js.size), (rr, js)), shape=(finite.size, n_cols))
            rows.append(LinearConstraint(a, np.full(finite.size, -np.inf), self.cap[finite]))
        return rows


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------
def _gather(indptr: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Positions of the stored entries of ``rows`` in a CSR/CSC layout, and their row."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return offsets + np.arange(total), np.repeat(rows, counts)


class _GainState(Protocol):
    m: int
    gains: FloatArray

    def add(self, j: int) -> float: ...


def _greedy(
    state: _GainState,
    p: int,
    rules: _Rules,
    *,
    allowed: BoolArray | None = None,
    eps: float = 0.0,
    stop_gain: float | None = None,
    deadline: float = np.inf,
) -> tuple[IntArray, FloatArray]:
    """Greedy selection with side constraints; stops early when nothing gains.

    Required units are served first (the best candidate of any unmet unit each step),
    so that per-kind budgets are not spent before every required unit has a point; the
    swap search then repairs the quality. ``stop_gain``: stop once the accumulated gain
    reaches it (LSCP).
    """
    m = state.m
    chosen = np.zeros(m, dtype=bool)
    order: list[int] = []
    gains: list[float] = []
    rstate = rules.start()
    total = 0.0
    for _ in range(p):
        ok = ~chosen if allowed is None else (~chosen & allowed)
        n_unmet = 0
        if rules.active:
            ok &= rules.kind_ok(rstate)
            n_unmet, unmet = rules.unmet(rstate)
            if n_unmet:
                ok &= unmet
        if not ok.any():
            break
        g = np.where(ok, state.gains, -np.inf)
        j = int(np.argmax(g))
        if g[j] <= eps and n_unmet == 0:
            break
        gain = state.add(j)
        chosen[j] = True
        rules.add(rstate, j)
        order.append(j)
        gains.append(gain)
        total += gain
        if stop_gain is not None and total >= stop_gain:
            break
        if time.perf_counter() > deadline and not (rules.active and rules.unmet(rstate)[0]):
            logger.info("greedy stopped at the time limit after %d points", len(order))
            break
    if rules.active and rules.unmet(rstate)[0]:
        n_unmet, _ = rules.unmet(rstate)
        msg = (
            f"the heuristic could not give {n_unmet} required unit(s) a point within the "
            "per-kind budgets; try method='exact' to decide whether the rules can be met."
        )
        raise InfeasibleError(msg)
    return np.asarray(order, dtype=np.int64), np.asarray(gains, dtype=np.float64)


def _rank(
    state: _GainState, sel: IntArray, rules: _Rules, eps: float, keep_all: bool = False
) -> tuple[IntArray, FloatArray, int]:
    """Order a selection by marginal gain; drop points that gain nothing.

    Points with no gain are kept (at the end, gain 0) when a required unit needs them
    or ``keep_all``. Returns (order, gains, number dropped).
    """
    none = _Rules(state.m, None, None, None, None, None)
    order, gains = _greedy(state, sel.size, none, allowed=_mask(state.m, sel), eps=eps)
    rest = np.setdiff1d(sel, order)
    if rest.size and not keep_all:
        served = set(rules.req_of[order][rules.req_of[order] >= 0].tolist())
        need = []
        for j in rest:  # a handful of zero-gain points at most
            u = int(rules.req_of[j])
            if u >= 0 and u not in served:
                need.append(j)
                served.add(u)
        rest = np.asarray(need, dtype=np.int64)
    dropped = sel.size - order.size - rest.size
    order = np.concatenate([order, rest]).astype(np.int64)
    gains = np.concatenate([gains, np.zeros(rest.size)])
    return order, gains, int(dropped)


def _milp(
    c: FloatArray,
    constraints: list[LinearConstraint],
    lb: FloatArray,
    ub: FloatArray,
    integrality: npt.NDArray[np.int_],
    time_limit_s: float,
    mip_rel_gap: float,
) -> tuple[FloatArray, float, float | None, str]:
    """Minimise ``c @ x`` with HiGHS; return (x, objective, dual bound, status)."""
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        constraints=constraints,
        options={
            "time_limit": float(time_limit_s),
            "mip_rel_gap": float(mip_rel_gap),
            "disp": False,
            "presolve": True,
        },
    )
    if res.status == 2:
        msg = f"the problem is infeasible as posed (HiGHS: {res.message})."
        raise InfeasibleError(msg)
    if res.x is None:
        msg = (
            f"HiGHS found no feasible solution (status {res.status}: {res.message}). "
            "Raise time_limit_s or use method='greedy+swap'."
        )
        raise SolverError(msg)
    status = "optimal" if res.status == 0 else ("time_limit" if res.status == 1 else "other")
    bound = getattr(res, "mip_dual_bound", None)
    bound_f = float(bound) if bound is not None and np.isfinite(bound) else None
    return np.asarray(res.x), float(res.fun), bound_f, status


# --------------------------------------------------------------------------------------
# MCLP
# --------------------------------------------------------------------------------------
class _CoverState:
    """Uncovered weight and the gain of every candidate, updated incrementally."""

    def __init__(self, a: sp.csr_matrix, at: sp.csr_matrix, w: FloatArray) -> None:
        self.a, self.at = a, at
        self.m = a.shape[1]
        self.u = w.copy()
        self.gains = np.asarray(at @ self.u, dtype=np.float64)

    def add(self, j: int) -> float:
        rows = self.at.indices[self.at.indptr[j] : self.at.indptr[j + 1]]
        rows = rows[self.u[rows] > 0]
        gain = float(self.u[rows].sum())
        if rows.size:
            pos, rr = _gather(self.a.indptr, rows.astype(np.int64))
            self.gains -= np.bincount(self.a.indices[pos], weights=self.u[rr], minlength=self.m)
            self.u[rows] = 0.0
        return gain


def _covered(a: sp.csr_matrix, w: FloatArray, sel: IntArray) -> float:
    if sel.size == 0:
        return 0.0
    hit = np.asarray(a[:, sel].sum(axis=1)).ravel() > 0
    return float(w[hit].sum())


def _mclp_swap(
    a: sp.csr_matrix,
    w: FloatArray,
    sel: IntArray,
    rules: _Rules,
    deadline: float,
    eps: float,
) -> tuple[IntArray, int, FloatArray]:
    """Best-improvement swap local search; returns (selection, swaps, final add gains)."""
    n, m = a.shape
    rows_nz = np.repeat(np.arange(n), np.diff(a.indptr))
    cols = a.indices.astype(np.int64)
    sel = sel.copy()
    swaps = 0
    gain: FloatArray = np.zeros(m)
    while True:
        p = sel.size
        insel = np.zeros(m, dtype=bool)
        insel[sel] = True
        pos_of = np.full(m, -1, dtype=np.int64)
        pos_of[sel] = np.arange(p)
        on = insel[cols]
        cnt = np.bincount(rows_nz[on], minlength=n)
        u = np.where(cnt == 0, w, 0.0)
        gain = np.bincount(cols, weights=u[rows_nz], minlength=m).astype(np.float64)
        if p == 0 or time.perf_counter() > deadline:
            break
        owner = np.full(n, -1, dtype=np.int64)
        owner[rows_nz[on]] = cols[on]
        uniq = cnt == 1
        uw = np.where(uniq, w, 0.0)
        loss = np.bincount(pos_of[owner[uniq]], weights=w[uniq], minlength=p)
        e = uniq[rows_nz]
        key = cols[e] * p + pos_of[owner[rows_nz[e]]]
        extra = np.bincount(key, weights=uw[rows_nz[e]], minlength=m * p).reshape(m, p)
        delta = gain[:, None] - loss[None, :] + extra
        delta[insel, :] = -np.inf
        ok = rules.swap_ok(sel)
        if ok is not None:
            delta[~ok] = -np.inf
        best = int(np.argmax(delta))
        j, r = divmod(best, p)
        if not delta[j, r] > eps:
            break
        sel[r] = j
        swaps += 1
    return sel, swaps, gain


def _mclp_lagrangian(
    a: sp.csr_matrix,
    at: sp.csr_matrix,
    w: FloatArray,
    p: int,
    lower: float,
    iters: int = 1000,
    deadline: float = np.inf,
) -> float:
    """Lagrangian upper bound on the covered weight (coverage rows relaxed)."""
    if p == 0 or w.sum() == 0:
        return float(lower)
    mu = np.zeros_like(w)
    best = np.inf
    theta = 2.0
    stall = 0
    for _ in range(iters):
        if time.perf_counter() > deadline:
            break
        score = np.asarray(at @ mu).ravel()
        top = np.argpartition(-score, p - 1)[:p] if p < score.size else np.arange(score.size)
        x = w > mu
        val = float(np.maximum(w - mu, 0).sum() + score[top].sum())
        if val < best - 1e-12 * max(1.0, abs(val)):
            best = val
            stall = 0
        else:
            stall += 1
            if stall >= 30:
                theta /= 2
                stall = 0
        if theta < 1e-4 or best - lower <= 1e-6 * max(1.0, lower):
            break
        hit = np.zeros(a.shape[1])
        hit[top] = 1.0
        g = x.astype(np.float64) - np.asarray(a @ hit).ravel()
        norm = float(g @ g)
        if norm == 0:
            break
        step = theta * (val - lower) / norm
        mu = np.clip(mu + step * g, 0.0, w)
    return float(best)


def _reduce_rows(a: sp.csr_matrix, w: FloatArray) -> tuple[sp.csr_matrix, FloatArray]:
    """Merge demand rows covered by the same candidate set (hashing the rows)."""
    rng = np.random.default_rng(12345)
    m = a.shape[1]
    h1 = rng.integers(1, 2**62, size=m, dtype=np.int64).astype(np.uint64)
    h2 = rng.integers(1, 2**62, size=m, dtype=np.int64).astype(np.uint64)
    rows_nz = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    k1 = np.zeros(a.shape[0], dtype=np.uint64)
    k2 = np.zeros(a.shape[0], dtype=np.uint64)
    np.add.at(k1, rows_nz, h1[a.indices])
    np.add.at(k2, rows_nz, h2[a.indices])
    keys = np.stack([k1, k2, np.diff(a.indptr).astype(np.uint64)], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    w_u = np.bincount(inverse, weights=w, minlength=first.size).astype(np.float64)
    return a[first], w_u


def _mclp_exact(
    a: sp.csr_matrix,
    w: FloatArray,
    p: int,
    rules: _Rules,
    time_limit_s: float,
    mip_rel_gap: float,
) -> tuple[IntArray, float | None, str, dict[str, Any]]:
    """Exact MCLP on the reduced rows; returns (selection, bound on covered, status)."""
    m = a.shape[1]
    a_u, w_u = _reduce_rows(a, w)
    deg = np.diff(a_u.indptr)
    single = deg == 1
    # rows covered by one candidate only: x_i = y_j, so their weight goes on y_j
    c_y = np.bincount(a_u.indices[a_u.indptr[:-1][single]], weights=w_u[single], minlength=m)
    multi = np.flatnonzero(~single)
    a_m = a_u[multi]
    w_m = w_u[multi]
    k = multi.size
    n_cols = m + k

    def pad(mat: Any) -> sp.csr_array:
        return sp.hstack([sp.csr_array(mat), sp.csr_array((mat.shape[0], k))], format="csr")

    cons = [LinearConstraint(pad(np.ones((1, m))), -np.inf, p)]
    if k:
        link = sp.hstack([-a_m.astype(np.float64), sp.identity(k, format="csr")], format="csr")
        cons.append(LinearConstraint(link, np.full(k, -np.inf), np.zeros(k)))
    cons += [LinearConstraint(pad(r.A), r.lb, r.ub) for r in rules.milp_rows(m)]
    c = -np.concatenate([c_y, w_m])
    integrality = np.concatenate([np.ones(m, dtype=int), np.zeros(k, dtype=int)])
    x, _fun, dual, status = _milp(c, cons, np.zeros(n_cols), np.ones(n_cols), integrality, time_limit_s, mip_rel_gap)
    sel = np.flatnonzero(x[:m] > 0.5).astype(np.int64)
    bound = -dual if dual is not None else None
    info = {
        "milp_rows": int(k + 1),
        "milp_cols": int(n_cols),
        "merged_demand_rows": int(a.shape[0] - a_u.shape[0]),
    }
    return sel, bound, status, info


def solve_mclp(
    weights: npt.ArrayLike,
    coverage: Any,
    p: int,
    *,
    fixed_covered: npt.ArrayLike | None = None,
    method: Literal["greedy+swap", "exact", "greedy"] = "greedy+swap",
    time_limit_s: float = 60.0,
    unit_of_candidate: npt.ArrayLike | None = None,
    require_units: Collection[Any] | None = None,
    kind_of_candidate: npt.ArrayLike | None = None,
    budget_per_kind: Mapping[str, int] | None = None,
    compute_bound: bool = False,
    mip_rel_gap: float = MIP_REL_GAP,
) -> SolveResult:
    """Maximal covering: add ``p`` points to maximise the weight within the standard.

    Parameters
    ----------
    weights
        Weight (population) of each of the ``n`` demand locations.
    coverage
        ``n x m`` boolean matrix (scipy.sparse or dense): candidate ``j`` covers demand
        ``i``.
    p
        Number of points to add (at most; points that would cover nobody new are not
        proposed unless a rule requires them).
    fixed_covered
        Demand already covered by the existing (fixed) points; only the rest counts as a
        gain.
    method
        ``"greedy"`` (incremental greedy), ``"greedy+swap"`` (then best-improvement swaps)
        or ``"exact"`` (MILP, HiGHS).
    time_limit_s
        Time limit of the MILP (and of the swap search).
    unit_of_candidate
        Unit code of each candidate; needed by ``require_units``.
    require_units
        Unit codes that must receive at least one new point.
    kind_of_candidate
        Kind of each candidate (``"kiosk"``, ``"community"``...); needed by
        ``budget_per_kind``.
    budget_per_kind
        Maximum number of added points of each kind, e.g. ``{"kiosk": 3}``.
    compute_bound
        Heuristics: also compute a Lagrangian upper bound (the cheap submodular bound
        ``objective + sum of the p best remaining gains`` is always computed).
    mip_rel_gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    SolveResult
        ``objective`` is the covered weight including the fixed points' coverage.

    Raises
    ------
    InfeasibleError
        When the unit requirement / budgets cannot be met.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    >>> r = solve_mclp([50, 10, 40, 5], cover, 2, method="exact")
    >>> r.selected.tolist(), r.objective, r.gains.tolist()
    ([0, 1], 100.0, [60.0, 40.0])

    """
    t0 = time.perf_counter()
    _check_method(method)
    w = _as_weights(weights)
    a = _as_coverage(coverage, w.size)
    m = a.shape[1]
    p = _check_p(p, m)
    fixed = _as_mask(fixed_covered, w.size, "fixed_covered")
    rules = _Rules(m, p, unit_of_candidate, require_units, kind_of_candidate, budget_per_kind)

    base = float(w[fixed].sum())
    deg = np.diff(a.indptr)
    keep = ~fixed & (w > 0) & (deg > 0)
    a_r = a[np.flatnonzero(keep)]
    w_r = w[keep]
    at_r = a_r.T.tocsr()
    eps = 1e-9 * max(1.0, float(w_r.sum()))
    details: dict[str, Any] = {
        "fixed_covered_weight": base,
        "uncoverable_weight": float(w[~fixed & (deg == 0)].sum()),
        "total_weight": float(w.sum()),
    }
    deadline = t0 + time_limit_s

    bound: float | None = None
    swaps = 0
    if method == "exact":
        sel, bound_new, status, info = _mclp_exact(a_r, w_r, p, rules, time_limit_s, mip_rel_gap)
        details.update(info)
        bound = base + bound_new if bound_new is not None else None
        label = "milp-highs"
    else:
        sel, _ = _greedy(_CoverState(a_r, at_r, w_r), p, rules, eps=eps, deadline=deadline)
        label = "greedy"
        status = "heuristic"
        final_gain = None
        if method == "greedy+swap" and sel.size:
            sel, swaps, final_gain = _mclp_swap(a_r, w_r, sel, rules, deadline, eps)
            label = "greedy+swap"
        covered = _covered(a_r, w_r, sel)
        if final_gain is None:
            hit = np.asarray(a_r[:, sel].sum(axis=1)).ravel() > 0 if sel.size else ~keep[keep]
            final_gain = np.asarray(at_r @ np.where(hit, 0.0, w_r)).ravel()
        top = np.sort(final_gain)[::-1][:p]
        bound = base + covered + float(np.maximum(top, 0).sum())
        if compute_bound:
            lag = _mclp_lagrangian(a_r, at_r, w_r, p, covered, deadline=deadline + 10)
            bound = min(bound, base + lag)
    order, gains, pruned = _rank(_CoverState(a_r, at_r, w_r), sel, rules, eps)
    if pruned:
        details["pruned_zero_gain"] = pruned
    objective = base + float(gains.sum())
    if bound is not None:
        bound = max(bound, objective)
    details["swaps"] = swaps
    return SolveResult(
        selected=order,
        objective=objective,
        bound=bound,
        gap_pct=_gap(objective, bound),
        method=label,
        status=status,
        runtime_s=time.perf_counter() - t0,
        gains=gains,
        details=details,
    )


def _mask(m: int, sel: IntArray) -> BoolArray:
    out = np.zeros(m, dtype=bool)
    out[sel] = True
    return out


# --------------------------------------------------------------------------------------
# LSCP
# --------------------------------------------------------------------------------------
def solve_lscp(
    weights: npt.ArrayLike,
    coverage: Any,
    *,
    target_share: float = 1.0,
    fixed_covered: npt.ArrayLike | None = None,
    method: Literal["greedy+swap", "exact", "greedy"] = "greedy+swap",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = MIP_REL_GAP,
) -> SolveResult:
    """Set covering: the fewest added points that bring coverage to a target share.

    Parameters
    ----------
    weights
        Weight (population) of each demand location.
    coverage
        ``n x m`` boolean matrix: candidate ``j`` covers demand ``i``.
    target_share
        Share of the *total* weight (fixed coverage included) to reach, in ``(0, 1]``.
    fixed_covered
        Demand already covered by the existing points.
    method
        ``"greedy"``, ``"greedy+swap"`` (greedy, then tries ``k - 1`` points with the MCLP
        swap search until that fails) or ``"exact"`` (MILP for the count, then an exact
        MCLP with that count to maximise the coverage).
    time_limit_s
        Time limit of each MILP.
    mip_rel_gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    SolveResult
        ``objective`` is the covered weight; the number of points is ``selected.size``;
        ``bound`` (exact) is a lower bound on that number and ``gap_pct`` refers to it.
        ``details`` holds ``uncoverable_weight`` and ``max_share``.

    Raises
    ------
    InfeasibleError
        When even every candidate together cannot reach the target share.

    """
    t0 = time.perf_counter()
    _check_method(method)
    if not 0 < target_share <= 1:
        msg = f"target_share must be in (0, 1], got {target_share}."
        raise InputError(msg)
    w = _as_weights(weights)
    a = _as_coverage(coverage, w.size)
    m = a.shape[1]
    fixed = _as_mask(fixed_covered, w.size, "fixed_covered")
    total = float(w.sum())
    base = float(w[fixed].sum())
    deg = np.diff(a.indptr)
    uncoverable = float(w[~fixed & (deg == 0)].sum())
    max_share = (total - uncoverable) / total if total > 0 else 1.0
    tol = 1e-9 * max(1.0, total)
    details: dict[str, Any] = {
        "fixed_covered_weight": base,
        "uncoverable_weight": uncoverable,
        "max_share": max_share,
        "target_share": target_share,
        "total_weight": total,
    }
    if uncoverable > 0:
        logger.info(
            "%.0f of %.0f weight (%.2f %%) is covered by no candidate and no existing point",
            uncoverable,
            total,
            100 * uncoverable / max(total, 1e-300),
        )
    need = target_share * total - base
    if target_share * total > total - uncoverable + tol:
        msg = (
            f"target share {target_share:.2%} cannot be reached: existing points cover "
            f"{base / total:.2%} and all {m} candidates together reach at most "
            f"{max_share:.2%}; {uncoverable:,.0f} of {total:,.0f} people are within the "
            "standard of no point or candidate. Add candidates there or lower target_share."
        )
        raise InfeasibleError(msg)
    keep = ~fixed & (w > 0) & (deg > 0)
    a_r = a[np.flatnonzero(keep)]
    w_r = w[keep]
    at_r = a_r.T.tocsr()
    rules = _Rules(m, None, None, None, None, None)
    eps = 1e-9 * max(1.0, float(w_r.sum()))
    if need <= tol:
        return SolveResult(
            selected=np.zeros(0, dtype=np.int64),
            objective=base,
            bound=0.0,
            gap_pct=0.0,
            method=method,
            status="optimal",
            runtime_s=time.perf_counter() - t0,
            gains=np.zeros(0),
            details=details,
        )
    need_r = need - tol
    bound: float | None = None
    if method == "exact":
        full = bool(target_share >= 1.0)
        n_r = w_r.size
        if full:
            cons = [LinearConstraint(a_r.astype(np.float64), np.ones(n_r), np.full(n_r, np.inf))]
            c = np.ones(m)
            integ = np.ones(m, dtype=int)
            lb, ub = np.zeros(m), np.ones(m)
        else:
            cons = [
                LinearConstraint(
                    sp.hstack([-a_r.astype(np.float64), sp.identity(n_r)], format="csr"),
                    np.full(n_r, -np.inf),
                    np.zeros(n_r),
                ),
                LinearConstraint(
                    sp.hstack([sp.csr_array((1, m)), sp.csr_array(w_r[None, :])], format="csr"),
                    need_r,
                    np.inf,
                ),
            ]
            c = np.concatenate([np.ones(m), np.zeros(n_r)])
            integ = np.concatenate([np.ones(m, dtype=int), np.zeros(n_r, dtype=int)])
            lb, ub = np.zeros(m + n_r), np.ones(m + n_r)
        x, _, dual, status = _milp(c, cons, lb, ub, integ, time_limit_s, mip_rel_gap)
        sel = np.flatnonzero(x[:m] > 0.5).astype(np.int64)
        bound = float(np.ceil(dual - 1e-6)) if dual is not None else None
        if not full and sel.size:
            remaining = max(1.0, time_limit_s - (time.perf_counter() - t0))
            sel2, _, status2, _ = _mclp_exact(a_r, w_r, sel.size, rules, remaining, mip_rel_gap)
            if _covered(a_r, w_r, sel2) >= _covered(a_r, w_r, sel):
                sel = sel2
            if status2 != "optimal":
                status = status2
        label = "milp-highs"
    else:
        deadline = t0 + time_limit_s
        sel, _ = _greedy(_CoverState(a_r, at_r, w_r), m, rules, eps=eps, stop_gain=need_r, deadline=deadline)
        label, status = "greedy", "heuristic"
        if method == "greedy+swap":
            label = "greedy+swap"
            while sel.size > 1 and time.perf_counter() < deadline:
                trial, _ = _greedy(_CoverState(a_r, at_r, w_r), sel.size - 1, rules, eps=eps)
                trial, _, _ = _mclp_swap(a_r, w_r, trial, rules, deadline, eps)
                if _covered(a_r, w_r, trial) >= need_r:
                    sel = trial
                else:
                    break
            # best coverage for the final count
            sel, _, _ = _mclp_swap(a_r, w_r, sel, rules, deadline, eps)
    order, gains, _ = _rank(_CoverState(a_r, at_r, w_r), sel, rules, eps)
    objective = base + float(gains.sum())
    if objective < target_share * total - tol:
        msg = (
            f"the solver stopped before reaching the target ({objective / total:.2%} < "
            f"{target_share:.2%}); raise time_limit_s."
        )
        raise SolverError(msg)
    details["n_points"] = int(order.size)
    gap = None
    if bound is not None:
        gap = 0.0 if order.size == 0 else 100.0 * abs(order.size - bound) / order.size
    return SolveResult(
        selected=order,
        objective=objective,
        bound=bound,
        gap_pct=gap,
        method=label,
        status=status,
        runtime_s=time.perf_counter() - t0,
        gains=gains,
        details=details,
    )


# --------------------------------------------------------------------------------------
# p-median
# --------------------------------------------------------------------------------------
@dataclass
class _PM:
    """p-median data: useful (demand, candidate, cost) triples in row (CSR) order."""

    n: int
    m: int
    w: FloatArray
    f_true: FloatArray  # fallback cost (existing points / unassigned_cost), inf if none
    F: FloatArray  # finite surrogate fallback used by the heuristics
    rows: IntArray
    cols: IntArray
    c: FloatArray
    indptr: IntArray
    col_perm: IntArray
    col_ptr: IntArray

    @property
    def must(self) -> BoolArray:
        return ~np.isfinite(self.f_true)


def _build_pm(
    w: FloatArray,
    cost: Any,
    fixed_cost: npt.ArrayLike | None,
    unassigned_cost: float | None,
) -> _PM:
    n = w.size
    if sp.issparse(cost):
        coo = sp.coo_matrix(cost)
        if coo.shape[0] != n:
            msg = f"cost has {coo.shape[0]} rows but weights has {n} entries."
            raise InputError(msg)
        m = coo.shape[1]
        rows = coo.row.astype(np.int64)
        cols = coo.col.astype(np.int64)
        c = coo.data.astype(np.float64)
    else:
        arr = np.asarray(cost, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != n:
            msg = f"cost must be an n x m matrix with n = {n} demand rows, got {arr.shape}."
            raise InputError(msg)
        m = arr.shape[1]
        arr = np.where(np.isnan(arr), np.inf, arr)
        rows, cols = np.nonzero(np.isfinite(arr))
        rows = rows.astype(np.int64)
        cols = cols.astype(np.int64)
        c = arr[rows, cols]
    if (c < 0).any() or np.isnan(c).any():
        msg = "cost must hold travel costs >= 0 (minutes); found negative or NaN entries."
        raise InputError(msg)
    if fixed_cost is None:
        f = np.full(n, np.inf)
    else:
        f = np.asarray(fixed_cost, dtype=np.float64).ravel()
        if f.size != n:
            msg = f"fixed_cost must have one entry per demand location ({n}), got {f.size}."
            raise InputError(msg)
        f = np.where(np.isnan(f), np.inf, f)
        if (f < 0).any():
            msg = "fixed_cost must be >= 0 (inf where no existing point is reachable)."
            raise InputError(msg)
    if unassigned_cost is not None:
        if not unassigned_cost >= 0:
            msg = f"unassigned_cost must be >= 0, got {unassigned_cost}."
            raise InputError(msg)
        f = np.minimum(f, float(unassigned_cost))
    finite = np.isfinite(c)
    # a pair is useful only if it beats the fallback
    useful = finite & (c < f[rows])
    rows, cols, c = rows[useful], cols[useful], c[useful]
    key = rows * max(m, 1) + cols
    if rows.size > 1 and not (np.diff(key) > 0).all():
        # unsorted or duplicated pairs: sort row-major, keep the cheapest of duplicates
        order = np.lexsort((c, key))
        rows, cols, c, key = rows[order], cols[order], c[order], key[order]
        first = np.ones(rows.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        rows, cols, c = rows[first], cols[first], c[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    col_perm = np.argsort(cols, kind="stable").astype(np.int64)
    col_ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=m), out=col_ptr[1:])
    big = 2.0 * float(c.max()) + 1.0 if c.size else 1.0
    if np.isfinite(f).any():
        big = max(big, 2.0 * float(f[np.isfinite(f)].max()) + 1.0)
    surrogate = np.where(np.isfinite(f), f, 10.0 * big)
    return _PM(n, m, w, f, surrogate, rows, cols, c, indptr, col_perm, col_ptr)


def _subset_pm(pm: _PM, sel: IntArray) -> _PM:
    """Restrict the problem to the pairs of the selected columns (for ranking)."""
    keep = _mask(pm.m, sel)[pm.cols]
    rows, cols, c = pm.rows[keep], pm.cols[keep], pm.c[keep]
    indptr = np.zeros(pm.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=pm.n), out=indptr[1:])
    col_perm = np.argsort(cols, kind="stable").astype(np.int64)
    col_ptr = np.zeros(pm.m + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=pm.m), out=col_ptr[1:])
    return _PM(pm.n, pm.m, pm.w, pm.f_true, pm.F, rows, cols, c, indptr, col_perm, col_ptr)


class _MedianState:
    """Current cost of every demand and the saving of every candidate, incremental."""

    def __init__(self, pm: _PM) -> None:
        self.pm = pm
        self.m = pm.m
        self.cur = pm.F.copy()
        wr = pm.w[pm.rows]
        self.gains: FloatArray = np.bincount(
            pm.cols, weights=wr * np.maximum(self.cur[pm.rows] - pm.c, 0.0), minlength=pm.m
        ).astype(np.float64)

    def add(self, j: int) -> float:
        pm = self.pm
        idx = pm.col_perm[pm.col_ptr[j] : pm.col_ptr[j + 1]]
        r, cj = pm.rows[idx], pm.c[idx]
        better = cj < self.cur[r]
        r, cj = r[better], cj[better]
        if r.size == 0:
            return 0.0
        gain = float((pm.w[r] * (self.cur[r] - cj)).sum())
        newcur = self.cur.copy()
        newcur[r] = cj
        pos, rr = _gather(pm.indptr, r)
        vv = pm.c[pos]
        wr = pm.w[rr]
        diff = wr * (np.maximum(self.cur[rr] - vv, 0.0) - np.maximum(newcur[rr] - vv, 0.0))
        self.gains -= np.bincount(pm.cols[pos], weights=diff, minlength=pm.m)
        self.cur = newcur
        return gain


def _top2(pm: _PM, insel: BoolArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """Best and second best cost of each demand among the selection and its fallback."""
    on = insel[pm.cols]
    r, j, c = pm.rows[on], pm.cols[on], pm.c[on]
    b1 = np.full(pm.n, np.inf)
    np.minimum.at(b1, r, c)
    arg = np.full(pm.n, -1, dtype=np.int64)
    is1 = c == b1[r]
    arg[r[is1]] = j[is1]
    rest = ~(is1 & (j == arg[r]))
    b2 = np.full(pm.n, np.inf)
    np.minimum.at(b2, r[rest], c[rest])
    f = pm.F
    d1 = np.where(f <= b1, f, b1)
    phi = np.where(f <= b1, -1, arg)
    d2 = np.where(f <= b1, b1, np.minimum(f, b2))
    return d1, phi, d2


def _pm_swap(pm: _PM, sel: IntArray, rules: _Rules, deadline: float, eps: float) -> tuple[IntArray, int]:
    """Best-improvement vertex substitution, fully vectorised per iteration."""
    m = pm.m
    sel = sel.copy()
    swaps = 0
    wr_all = pm.w[pm.rows]
    while sel.size and time.perf_counter() < deadline:
        p = sel.size
        insel = _mask(m, sel)
        pos_of = np.full(m, -1, dtype=np.int64)
        pos_of[sel] = np.arange(p)
        d1, phi, d2 = _top2(pm, insel)
        e = pm.c < d2[pm.rows]
        re, ce, ve, we = pm.rows[e], pm.cols[e], pm.c[e], wr_all[e]
        d1e = d1[re]
        gain = np.bincount(ce, weights=we * np.maximum(d1e - ve, 0.0), minlength=m)
        has = phi >= 0
        loss = np.bincount(pos_of[phi[has]], weights=pm.w[has] * (d2[has] - d1[has]), minlength=p)
        owned = phi[re] >= 0
        key = ce[owned] * p + pos_of[phi[re[owned]]]
        val = we[owned] * (d2[re[owned]] - np.maximum(ve[owned], d1e[owned]))
        extra = np.bincount(key, weights=val, minlength=m * p).reshape(m, p)
        delta = gain[:, None] - loss[None, :] + extra
        delta[insel, :] = -np.inf
        ok = rules.swap_ok(sel)
        if ok is not None:
            delta[~ok] = -np.inf
        best = int(np.argmax(delta))
        j, r = divmod(best, p)
        if not delta[j, r] > eps:
            break
        sel[r] = j
        swaps += 1
    return sel, swaps


def _pm_cost(pm: _PM, sel: IntArray, surrogate: bool = False) -> tuple[float, IntArray]:
    d1, phi, _ = _top2(pm, _mask(pm.m, sel))
    if not surrogate:
        d1 = np.where(phi < 0, pm.f_true, d1)
    with np.errstate(invalid="ignore"):
        val = float(np.where(pm.w > 0, pm.w * d1, 0.0).sum())
    return val, phi


def _pm_lagrangian(pm: _PM, p: int, upper: float, lam0: FloatArray, deadline: float, iters: int = 400) -> float:
    """Lagrangian lower bound (assignment rows relaxed) on the surrogate objective.

    The search runs on the entries that can matter for the current multipliers; the
    returned bound is evaluated on every entry, so it is valid whatever the filtering.
    """
    n, m = pm.n, pm.m
    w = pm.w
    wf = w * pm.F
    wc_all = w[pm.rows] * pm.c
    lam = lam0.copy()

    def evaluate(lam: FloatArray, rows: IntArray, cols: IntArray, wc: FloatArray):
        v = wc - lam[rows]
        neg = v < 0
        rho = np.bincount(cols[neg], weights=v[neg], minlength=m)
        top = (np.argpartition(rho, p - 1)[:p] if p > 0 else np.zeros(0, dtype=np.int64)) if p < m else np.arange(m)
        top = top[rho[top] < 0]
        val = float(lam.sum() + np.minimum(wf - lam, 0.0).sum() + rho[top].sum())
        return val, neg, top, v

    def active_set(lam: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
        keep = wc_all < 1.5 * lam[pm.rows] + 1e-12
        return pm.rows[keep], pm.cols[keep], wc_all[keep]

    best_val, _, _, _ = evaluate(lam, pm.rows, pm.cols, wc_all)
    best_lam = lam.copy()
    rows, cols, wc = active_set(lam)
    theta, stall = 1.0, 0
    for it in range(iters):
        if time.perf_counter() > deadline:
            break
        val, neg, top, _ = evaluate(lam, rows, cols, wc)
        if val > best_val + 1e-12 * max(1.0, abs(best_val)):
            best_val, best_lam, stall = val, lam.copy(), 0
        else:
            stall += 1
            if stall >= 12:
                theta, stall = theta / 2, 0
        if theta < 1e-4 or upper - best_val <= 1e-4 * max(1.0, abs(upper)):
            break
        intop = _mask(m, top)
        served = np.bincount(rows[neg & intop[cols]], minlength=n)
        g = 1.0 - (wf < lam) - served
        norm = float(g @ g)
        if norm == 0:
            break
        lam = lam + theta * (upper - val) / norm * g
        if it % 50 == 49:
            rows, cols, wc = active_set(np.maximum(lam, best_lam))
    final, _, _, _ = evaluate(best_lam, pm.rows, pm.cols, wc_all)
    return float(final)


def _pm_exact(
    pm: _PM,
    p: int,
    rules: _Rules,
    time_limit_s: float,
    mip_rel_gap: float,
    capacity: FloatArray | None,
    load: FloatArray | None,
) -> tuple[IntArray, float | None, str, FloatArray, dict[str, Any]]:
    """Sparse p-median MILP: y (m), x per useful pair, x0 per demand with a fallback."""
    n, m = pm.n, pm.m
    nnz = pm.rows.size
    fb = np.flatnonzero(np.isfinite(pm.f_true))
    nf = fb.size
    n_cols = m + nnz + nf
    ar = np.arange(nnz)
    # assignment rows: sum_e x_e + x0_i = 1
    assign = sp.csr_array(
        (
            np.ones(nnz + nf),
            (np.concatenate([pm.rows, fb]), np.concatenate([m + ar, m + nnz + np.arange(nf)])),
        ),
        shape=(n, n_cols),
    )
    # linking rows: x_e - y_j <= 0
    link = sp.csr_array(
        (
            np.concatenate([np.ones(nnz), -np.ones(nnz)]),
            (np.concatenate([ar, ar]), np.concatenate([m + ar, pm.cols])),
        ),
        shape=(nnz, n_cols),
    )
    count = sp.csr_array((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, n_cols))
    cons = [
        LinearConstraint(assign, np.ones(n), np.ones(n)),
        LinearConstraint(link, np.full(nnz, -np.inf), np.zeros(nnz)),
        LinearConstraint(count, -np.inf, p),
    ]
    if capacity is not None and load is not None:
        cap_rows = sp.csr_array(
            (
                np.concatenate([load[pm.rows], -capacity]),
                (np.concatenate([pm.cols, np.arange(m)]), np.concatenate([m + ar, np.arange(m)])),
            ),
            shape=(m, n_cols),
        )
        cons.append(LinearConstraint(cap_rows, np.full(m, -np.inf), np.zeros(m)))
    for c in rules.milp_rows(m):
        cons.append(
            LinearConstraint(sp.hstack([c.A, sp.csr_array((c.A.shape[0], nnz + nf))], format="csr"), c.lb, c.ub)
        )
    obj = np.concatenate([np.zeros(m), pm.w[pm.rows] * pm.c, pm.w[fb] * pm.f_true[fb]])
    integ = np.concatenate([np.ones(m, dtype=int), np.zeros(nnz + nf, dtype=int)])
    x, _, dual, status = _milp(obj, cons, np.zeros(n_cols), np.ones(n_cols), integ, time_limit_s, mip_rel_gap)
    sel = np.flatnonzero(x[:m] > 0.5).astype(np.int64)
    info = {"milp_rows": int(n + nnz + 1), "milp_cols": int(n_cols)}
    return sel, dual, status, x[m : m + nnz], info


def _capacitated_assignment(
    pm: _PM, sel: IntArray, capacity: FloatArray, load: FloatArray, time_limit_s: float
) -> tuple[float, FloatArray]:
    """Transportation LP for a fixed selection: fractional assignment within capacity."""
    on = _mask(pm.m, sel)[pm.cols]
    idx = np.flatnonzero(on)
    n = pm.n
    k = idx.size
    fb = np.flatnonzero(np.isfinite(pm.f_true))
    nf = fb.size
    cols_local = np.searchsorted(np.sort(sel), pm.cols[idx])
    ps = sel.size
    assign = sp.csr_array(
        (np.ones(k + nf), (np.concatenate([pm.rows[idx], fb]), np.arange(k + nf))),
        shape=(n, k + nf),
    )
    cap = sp.csr_array((load[pm.rows[idx]], (cols_local, np.arange(k))), shape=(ps, k + nf))
    cons = [
        LinearConstraint(assign, np.ones(n), np.ones(n)),
        LinearConstraint(cap, np.full(ps, -np.inf), capacity[np.sort(sel)]),
    ]
    obj = np.concatenate([pm.w[pm.rows[idx]] * pm.c[idx], pm.w[fb] * pm.f_true[fb]])
    x, fun, _, _ = _milp(obj, cons, np.zeros(k + nf), np.ones(k + nf), np.zeros(k + nf, dtype=int), time_limit_s, 0.0)
    xe = np.zeros(pm.rows.size)
    xe[idx] = x[:k]
    return float(fun), xe


def _top_up(pm: _PM, sel: IntArray, p: int, rules: _Rules, cap: FloatArray) -> IntArray:
    """Capacitated heuristic: add sites up to ``p`` (most useful, then largest capacity)."""
    state = _MedianState(pm)
    for j in sel:
        state.add(int(j))
    chosen = _mask(pm.m, sel)
    rstate = rules.start()
    for j in sel:
        rules.add(rstate, int(j))
    extra: list[int] = []
    order = np.lexsort((-cap, -state.gains))
    for j in order:  # at most m candidates, stops after p - len(sel) additions
        if len(extra) + sel.size >= p:
            break
        if chosen[j] or cap[j] <= 0 or not rules.kind_ok(rstate)[j]:
            continue
        extra.append(int(j))
        rules.add(rstate, int(j))
    return np.concatenate([sel, np.asarray(extra, dtype=np.int64)])


def _assignment_from_fractions(pm: _PM, xe: FloatArray) -> IntArray:
    best = np.full(pm.n, -1, dtype=np.int64)
    share = np.zeros(pm.n)
    fallback_share = 1.0 - np.bincount(pm.rows, weights=xe, minlength=pm.n)
    order = np.argsort(xe, kind="stable")
    best[pm.rows[order]] = pm.cols[order]
    share[pm.rows[order]] = xe[order]
    return np.where(share > fallback_share + 1e-9, best, -1)


def solve_pmedian(
    weights: npt.ArrayLike,
    cost: Any,
    p: int,
    *,
    fixed_cost: npt.ArrayLike | None = None,
    method: Literal["greedy+swap", "exact", "greedy"] = "greedy+swap",
    time_limit_s: float = 60.0,
    capacity: npt.ArrayLike | None = None,
    demand_load: npt.ArrayLike | None = None,
    unassigned_cost: float | None = None,
    unit_of_candidate: npt.ArrayLike | None = None,
    require_units: Collection[Any] | None = None,
    kind_of_candidate: npt.ArrayLike | None = None,
    budget_per_kind: Mapping[str, int] | None = None,
    compute_bound: bool = True,
    mip_rel_gap: float = MIP_REL_GAP,
) -> SolveResult:
    """p-median: add ``p`` points to minimise population-weighted travel cost.

    The objective is ``sum_i w_i * min(fixed_cost_i, min_{j chosen} cost_ij)``: every
    demand uses the cheaper of its current (fixed) point and the best added point.

    Parameters
    ----------
    weights
        Weight (population) of each of the ``n`` demand locations.
    cost
        Travel cost (minutes), ``n x m``: a scipy.sparse matrix whose stored entries are
        the reachable pairs (within a cut-off; explicit zeros mean 0 minutes, missing
        pairs are unreachable), or a dense array (``inf``/``NaN`` = unreachable).
    p
        Number of points to add (at most; points that save nothing are not proposed).
    fixed_cost
        Each demand's current cost to its nearest existing (fixed) point, ``inf`` where
        there is none. This is the fallback "column" of the sparse formulation: pairs
        costlier than it are dropped, which is exact.
    method
        ``"greedy"``, ``"greedy+swap"`` (vertex substitution) or ``"exact"`` (MILP, HiGHS).
    time_limit_s
        Time limit of the MILP, the swap search and the bound.
    capacity
        Capacitated variant: visits per day each candidate can take (``m``).
    demand_load
        Capacitated variant: visits per day of each demand (``n``). The existing points
        (the fallback) are treated as uncapacitated. Assignments may be *fractional*
        (a demand location may be split between points): the MILP relaxes assignment
        integrality, and the heuristic chooses the sites without capacities then solves
        the capacitated assignment LP for them.
    unassigned_cost
        Cost charged to demand that no chosen or fixed point reaches. ``None``: such
        demand is not allowed (the exact MILP is then infeasible and the heuristic raises
        :class:`InfeasibleError`).
    unit_of_candidate, require_units, kind_of_candidate, budget_per_kind
        Side constraints, as in :func:`solve_mclp`.
    compute_bound
        Heuristics: compute a Lagrangian lower bound (equal to the LP bound at its best)
        and report the gap to it.
    mip_rel_gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    SolveResult
        ``gains`` are person-minutes saved (ignoring capacities); ``assignment`` gives
        the serving candidate of each demand (``-1``: its fixed point / unassigned; for
        capacitated runs the candidate taking the largest share).

    Raises
    ------
    InfeasibleError
        When some demand can be served by nothing (see ``unassigned_cost``), the rules
        cannot be met or capacities are short.

    Examples
    --------
    >>> import numpy as np
    >>> minutes = np.array([[5.0, 40.0], [10.0, 30.0], [45.0, 5.0]])
    >>> r = solve_pmedian([100, 50, 80], minutes, 1, fixed_cost=[20.0, 20.0, 20.0])
    >>> r.selected.tolist(), r.objective, r.gains.tolist(), r.assignment.tolist()
    ([0], 2600.0, [2000.0], [0, 0, -1])

    """
    t0 = time.perf_counter()
    _check_method(method)
    w = _as_weights(weights)
    pm = _build_pm(w, cost, fixed_cost, unassigned_cost)
    m = pm.m
    p = _check_p(p, m)
    rules = _Rules(m, p, unit_of_candidate, require_units, kind_of_candidate, budget_per_kind)
    cap: FloatArray | None = None
    load: FloatArray | None = None
    if (capacity is None) != (demand_load is None):
        msg = "capacity and demand_load go together: give both for the capacitated variant."
        raise InputError(msg)
    if capacity is not None and demand_load is not None:
        cap = np.asarray(capacity, dtype=np.float64).ravel()
        load = np.asarray(demand_load, dtype=np.float64).ravel()
        if cap.size != m or load.size != pm.n:
            msg = f"capacity needs {m} entries (candidates) and demand_load {pm.n} (demand)."
            raise InputError(msg)
        if (cap < 0).any() or (load < 0).any() or not np.isfinite(load).all():
            msg = "capacity and demand_load must be >= 0 (visits per day)."
            raise InputError(msg)
    reach = np.bincount(pm.rows, minlength=pm.n) > 0
    dead = pm.must & ~reach & (w > 0)
    if dead.any():
        msg = (
            f"{int(dead.sum())} demand locations ({w[dead].sum():,.0f} people) reach no "
            "existing point and no candidate within the cost matrix (e.g. positions "
            f"{np.flatnonzero(dead)[:5].tolist()}). Pass unassigned_cost (a penalty in "
            "minutes) or fixed_cost, or widen the cut-off."
        )
        raise InfeasibleError(msg)
    eps = 1e-9 * max(1.0, float((w * np.where(np.isfinite(pm.F), pm.F, 0)).sum()))
    deadline = t0 + time_limit_s
    details: dict[str, Any] = {"pairs": int(pm.rows.size)}
    bound: float | None = None
    swaps = 0
    xe: FloatArray | None = None
    if method == "exact":
        sel, bound, status, xe_exact, info = _pm_exact(pm, p, rules, time_limit_s, mip_rel_gap, cap, load)
        details.update(info)
        label = "milp-highs"
        if cap is not None:
            xe = xe_exact
    else:
        sel, _ = _greedy(_MedianState(pm), p, rules, eps=eps, deadline=deadline)
        label, status = "greedy", "heuristic"
        if method == "greedy+swap" and sel.size:
            sel, swaps = _pm_swap(pm, sel, rules, deadline, eps)
            label = "greedy+swap"
        if cap is not None and sel.size < p:
            sel = _top_up(pm, sel, p, rules, cap)
        if compute_bound and cap is None:
            upper, _ = _pm_cost(pm, sel, surrogate=True)
            d1, _, _ = _top2(pm, _mask(m, sel))
            lag = _pm_lagrangian(pm, p, upper, pm.w * d1, max(deadline, time.perf_counter() + 1))
            # the bound is on the surrogate problem; it bounds the true one as long as
            # every must-serve demand is served (checked below)
            bound = lag
    # with capacities, points that save nothing uncapacitated may still be needed
    order, gains, pruned = _rank(_MedianState(_subset_pm(pm, sel)), sel, rules, eps, keep_all=cap is not None)
    if pruned:
        details["pruned_zero_gain"] = pruned
    objective, phi = _pm_cost(pm, order)
    if not np.isfinite(objective):
        msg = (
            "the chosen points leave some demand with no reachable point; raise p, pass "
            "unassigned_cost, or use method='exact'."
        )
        raise InfeasibleError(msg)
    assignment = phi
    if cap is not None and load is not None:
        if method != "exact" or xe is None:
            remaining = max(1.0, deadline - time.perf_counter())
            objective, xe = _capacitated_assignment(pm, order, cap, load, remaining)
            label += "+capacitated-lp"
            used = np.bincount(pm.cols, weights=load[pm.rows] * xe, minlength=m)[order] > 1e-9
            keep = used | (rules.req_of[order] >= 0)
            if not keep.all():
                details["pruned_unused"] = int((~keep).sum())
                order, gains = order[keep], gains[keep]
        else:
            rest = np.maximum(0.0, 1.0 - np.bincount(pm.rows, weights=xe, minlength=pm.n))
            f_fin = np.where(np.isfinite(pm.f_true), pm.f_true, 0.0)
            objective = float((pm.w[pm.rows] * pm.c * xe).sum() + (pm.w * f_fin * rest).sum())
        assignment = _assignment_from_fractions(pm, xe)
        details["assigned_load"] = np.bincount(pm.cols, weights=load[pm.rows] * xe, minlength=m)
    if bound is not None:
        bound = min(bound, objective)
    details["swaps"] = swaps
    return SolveResult(
        selected=order,
        objective=objective,
        bound=bound,
        gap_pct=_gap(objective, bound),
        method=label,
        status=status,
        runtime_s=time.perf_counter() - t0,
        gains=gains,
        assignment=assignment,
        details=details,
    )


# --------------------------------------------------------------------------------------
# Geodata layer
# --------------------------------------------------------------------------------------
class TravelEngine(Protocol):
    """What :func:`propose` needs from a travel-time engine (:mod:`pointplan.network`)."""

    method: str

    def od_long(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float
    ) -> pd.DataFrame: ...

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame) -> pd.DataFrame: ...


@dataclass
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
        Hook for the full :mod:`pointplan.assess` assessment (filled by callers).

    """

    points: gpd.GeoDataFrame
    result: SolveResult
    dropped: pd.DataFrame
    objective: str
    summary: dict[str, Any]
    before_after: object | None = None


def _projected_xy(gdf: gpd.GeoDataFrame) -> FloatArray:
    geom = gdf.geometry.to_crs(settings.projected_crs)
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def _default_engine() -> TravelEngine:
    try:
        from pointplan.network import make_engine
    except ImportError as exc:  # pragma: no cover - network ships with the package
        msg = "pointplan.network is unavailable; pass engine=... (od_long/nearest)."
        raise InputError(msg) from exc
    return make_engine(None, settings.default_mode)  # type: ignore[return-value]


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
    objective: Literal["mclp", "lscp", "pmedian"] = "mclp",
    engine: TravelEngine | None = None,
    max_minutes: float | None = None,
    max_distance_m: float | None = None,
    target_share: float = 1.0,
    method: Literal["greedy+swap", "exact", "greedy"] = "greedy+swap",
    time_limit_s: float = 60.0,
    capacity_per_point: float | Mapping[str, float] | None = None,
    require_unit_coverage: bool = False,
    budget_per_kind: Mapping[str, int] | None = None,
    boundary: Any = None,
    min_separation_m: float = 50.0,
    od_cutoff_minutes: float | None = None,
    load_column: str = "visits_per_day",
) -> Proposal:
    """Propose where to add service points.

    Parameters
    ----------
    demand
        Demand points: ``population`` (weight), ``unit_code``, point geometry (any CRS).
    points
        Existing (fixed) points: ``point_id``, ``unit_code``, geometry. May be empty.
    candidates
        Candidate sites: ``candidate_id``, ``kind`` (``"proposed"``, ``"kiosk"``,
        ``"community"``, ``"mobile"``...), optional ``source`` and ``unit_code``.
    k
        Number of points to add (``mclp``, ``pmedian``; at most: points that gain nothing
        are not proposed).
    objective
        ``"mclp"`` (most people within the standard), ``"lscp"`` (fewest points to reach
        ``target_share``) or ``"pmedian"`` (least person-minutes).
    engine
        Travel-time engine with ``od_long``/``nearest``; default
        ``pointplan.network.make_engine(None, settings.default_mode)`` (crow-flies with
        circuity; a :class:`~pointplan.PrecisionWarning` says so).
    max_minutes
        Time standard (default :data:`pointplan.settings.standard_minutes`).
    max_distance_m
        Distance standard (straight line, default
        :data:`pointplan.settings.standard_distance_m`). "Within the standard" means
        ``minutes <= max_minutes`` **or** ``straight-line distance <= max_distance_m``.
    target_share
        LSCP target share of the population.
    method
        ``"greedy+swap"``, ``"greedy"`` or ``"exact"`` (MILP, HiGHS).
    time_limit_s
        Solver time limit.
    capacity_per_point
        p-median only: visits per day a new point can take (a number, or one per kind);
        demand then needs ``load_column``.
    require_unit_coverage
        Give every unit of ``demand`` that has no existing point at least one new point.
    budget_per_kind
        At most this many new points of each kind, e.g. ``{"kiosk": 3}``.
    boundary
        City outline for dropping candidates outside it; ``None`` loads Hanoi's
        (:func:`pointplan.data.load_boundary`) when the data is available, ``False``
        skips the check.
    min_separation_m
        Candidates this close to an existing point are dropped.
    od_cutoff_minutes
        Travel times are computed up to this cut-off (default: the largest current time
        to an existing point, capped at ``4 * max_minutes``, at least ``max_minutes``);
        farther pairs cannot gain and are ignored.
    load_column
        Demand column of visits per day (capacitated runs).

    Returns
    -------
    Proposal
        The proposed points and the before/after summary.

    Warns
    -----
    PrecisionWarning
        When the default crow-flies engine is used.

    """
    from pointplan._errors import PrecisionWarning
    from pointplan._validate import check_columns, check_nonnegative, check_unique, ensure_gdf
    from pointplan.candidates import clean_candidates

    if objective not in ("mclp", "lscp", "pmedian"):
        msg = f"objective must be 'mclp', 'lscp' or 'pmedian', got {objective!r}."
        raise InputError(msg)
    _check_method(method)
    if objective != "lscp" and k is None:
        msg = f"objective={objective!r} needs k, the number of points to add."
        raise InputError(msg)
    demand = ensure_gdf(demand, "demand")
    check_columns(demand, ["population", "unit_code"], "demand")
    pop = check_nonnegative(demand, "population", "demand").to_numpy()
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
    max_minutes = settings.standard_minutes if max_minutes is None else float(max_minutes)
    max_distance_m = settings.standard_distance_m if max_distance_m is None else float(max_distance_m)
    if engine is None:
        engine = _default_engine()
        import warnings

        warnings.warn(
            f"travel times are estimates ({getattr(engine, 'method', 'fallback')}): no road "
            "network was given; pass engine=pointplan.network.make_engine(G, mode).",
            PrecisionWarning,
            stacklevel=2,
        )

    kept, dropped = clean_candidates(candidates, points, _resolve_boundary(boundary), min_separation_m)
    if len(kept) == 0:
        msg = (
            f"no candidate is left after cleaning ({len(dropped)} dropped: "
            f"{dropped['reason'].value_counts().to_dict()})."
        )
        raise InfeasibleError(msg)
    n, m = len(demand), len(kept)
    dxy = _projected_xy(demand)
    cxy = _projected_xy(kept)

    # before: nearest existing point
    if len(points):
        near = engine.nearest(demand, points)
        before = pd.to_numeric(near["minutes"], errors="coerce").to_numpy(dtype=np.float64)
        before = np.where(np.isnan(before), np.inf, before)
        straight_before, _ = cKDTree(_projected_xy(points)).query(dxy)
    else:
        before = np.full(n, np.inf)
        straight_before = np.full(n, np.inf)
    fixed_covered = (before <= max_minutes) | (straight_before <= max_distance_m)

    finite = before[np.isfinite(before)]
    if od_cutoff_minutes is None:
        worst = float(finite.max()) if finite.size else 4 * max_minutes
        cutoff = max(max_minutes, min(worst, 4 * max_minutes))
    else:
        cutoff = max(float(od_cutoff_minutes), max_minutes)
    od = engine.od_long(demand, kept, cutoff)
    oi = od["i"].to_numpy(dtype=np.int64)
    oj = od["j"].to_numpy(dtype=np.int64)
    om = od["minutes"].to_numpy(dtype=np.float64)
    good = np.isfinite(om) & (om <= cutoff)
    oi, oj, om = oi[good], oj[good], om[good]
    cost = sp.coo_matrix((om, (oi, oj)), shape=(n, m)).tocsc()
    pairs = cKDTree(dxy).sparse_distance_matrix(cKDTree(cxy), max_distance_m, output_type="ndarray")
    within = om <= max_minutes
    ci = np.concatenate([oi[within], pairs["i"].astype(np.int64)])
    cj = np.concatenate([oj[within], pairs["j"].astype(np.int64)])
    coverage = sp.csc_matrix((np.ones(ci.size, dtype=bool), (ci, cj)), shape=(n, m))
    coverage.sum_duplicates()

    # rules
    units = kept["unit_code"] if "unit_code" in kept.columns else pd.Series(None, index=kept.index)
    units = units.astype(object).where(units.notna(), None)
    if units.isna().any():
        # fill from the nearest demand point's unit
        _, nn = cKDTree(dxy).query(cxy[units.isna().to_numpy()])
        units = units.copy()
        units[units.isna()] = demand["unit_code"].to_numpy(dtype=object)[nn]
    unit_codes = units.astype(str).to_numpy()
    require: set[str] | None = None
    if require_unit_coverage:
        have = set(points["unit_code"].dropna().astype(str)) if len(points) else set()
        require = set(demand["unit_code"].dropna().astype(str)) - have
        logger.info("%d unit(s) without an existing point require a new one", len(require))
    kinds = kept["kind"].astype(str)

    if objective == "mclp":
        res = solve_mclp(
            pop, coverage, int(k), fixed_covered=fixed_covered, method=method,  # type: ignore[arg-type]
            time_limit_s=time_limit_s, unit_of_candidate=unit_codes, require_units=require,
            kind_of_candidate=kinds.to_numpy(), budget_per_kind=budget_per_kind,
        )  # fmt: skip
    elif objective == "lscp":
        res = solve_lscp(
            pop, coverage, target_share=target_share, fixed_covered=fixed_covered,
            method=method, time_limit_s=time_limit_s,
        )  # fmt: skip
    else:
        cap = load = None
        if capacity_per_point is not None:
            cap = _capacity_array(capacity_per_point, kinds)
            load = check_nonnegative(demand, load_column, "demand").to_numpy()
        res = solve_pmedian(
            pop, cost, int(k), fixed_cost=before, method=method,  # type: ignore[arg-type]
            time_limit_s=time_limit_s, capacity=cap, demand_load=load,
            unassigned_cost=cutoff if not np.isfinite(before).all() else None,
            unit_of_candidate=unit_codes, require_units=require,
            kind_of_candidate=kinds.to_numpy(), budget_per_kind=budget_per_kind,
        )  # fmt: skip

    sel = res.selected
    # gains of both kinds in rank order, and who serves whom after
    covered = fixed_covered.copy()
    cur = before.copy()
    owner = np.full(n, -1, dtype=np.int64)
    gain_cov = np.zeros(sel.size)
    gain_min = np.zeros(sel.size)
    for r, j in enumerate(sel):  # one step per proposed point (vectorised inside)
        rows = coverage.indices[coverage.indptr[j] : coverage.indptr[j + 1]]
        new = rows[~covered[rows]]
        gain_cov[r] = pop[new].sum()
        covered[new] = True
        crow = cost.indices[cost.indptr[j] : cost.indptr[j + 1]]
        cmin = cost.data[cost.indptr[j] : cost.indptr[j + 1]]
        better = cmin < cur[crow]
        saved = np.where(np.isfinite(cur[crow]), cur[crow] - cmin, 0.0)
        gain_min[r] = float((pop[crow] * saved)[better].sum())
        cur[crow[better]] = cmin[better]
        owner[crow[better]] = r
    demand_units = demand["unit_code"].astype(str).to_numpy()
    served = owner >= 0
    serves = (
        pd.Series(demand_units[served])
        .groupby(owner[served])
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
    out = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, sel.size + 1),
            "candidate_id": chosen["candidate_id"].to_numpy(),
            "kind": chosen["kind"].to_numpy(),
            "unit_code": unit_codes[sel],
            "gain_people_covered": gain_cov,
            "gain_person_minutes_saved": gain_min,
            "serves_units": serves.to_numpy(),
            "source": source.to_numpy(),
            "location_precision": prec.to_numpy(),
        },
        geometry=chosen.geometry.to_crs(settings.geographic_crs).to_numpy(),
        crs=settings.geographic_crs,
        index=chosen.index,
    )
    total = float(pop.sum())

    def wmean(minutes: FloatArray) -> float | None:
        ok = np.isfinite(minutes) & (pop > 0)
        return float((pop[ok] * minutes[ok]).sum() / pop[ok].sum()) if ok.any() else None

    summary: dict[str, Any] = {
        "objective": objective,
        "objective_value": res.objective,
        "method": res.method,
        "status": res.status,
        "bound": res.bound,
        "gap_pct": res.gap_pct,
        "runtime_s": res.runtime_s,
        "n_added": int(sel.size),
        "n_candidates": int(m),
        "n_dropped": len(dropped),
        "population": total,
        "covered_before": float(pop[fixed_covered].sum()),
        "covered_after": float(pop[covered].sum()),
        "share_before": float(pop[fixed_covered].sum() / total) if total else None,
        "share_after": float(pop[covered].sum() / total) if total else None,
        "mean_minutes_before": wmean(before),
        "mean_minutes_after": wmean(cur),
        "unreached_population_before": float(pop[~np.isfinite(before)].sum()),
        "unreached_population_after": float(pop[~np.isfinite(cur)].sum()),
        "max_minutes": max_minutes,
        "max_distance_m": max_distance_m,
        "od_cutoff_minutes": cutoff,
        "engine_method": getattr(engine, "method", type(engine).__name__),
    }
    return Proposal(points=out, result=res, dropped=dropped, objective=objective, summary=summary)
