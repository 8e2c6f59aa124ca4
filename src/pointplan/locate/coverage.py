"""Coverage models: maximal covering (MCLP) and set covering (LSCP).

Both work on a boolean ``n x m`` coverage matrix (candidate ``j`` covers demand ``i``
within the standard). Existing points enter as demand already covered
(``fixed_covered``), so only the added points are chosen. Each model has a heuristic
(greedy with exact incremental gain updates, then a vectorised best-improvement swap
search) and an exact MILP solved by HiGHS, and reports a proven bound and gap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import LinearConstraint

from pointplan._errors import InfeasibleError, InputError, SolverError
from pointplan.locate._inputs import as_coverage, as_mask, as_weights, check_method, check_p
from pointplan.locate.bounds import solve_milp
from pointplan.locate.heuristics import _gather, _greedy, _mask, _rank, _swap
from pointplan.locate.result import (
    MIP_REL_GAP,
    BoolArray,
    FloatArray,
    IntArray,
    SolveMethod,
    SolveResult,
    check_bound,
    gap_pct,
)
from pointplan.locate.rules import _Rules

__all__ = ["solve_lscp", "solve_mclp"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


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
    """Best-improvement swaps (the shared ``heuristics._swap``); returns (selection, swaps, final add gains)."""
    n, m = a.shape
    rows_nz = np.repeat(np.arange(n), np.diff(a.indptr))
    cols = a.indices.astype(np.int64)

    def add_gain(insel: BoolArray) -> tuple[FloatArray, BoolArray, npt.NDArray[np.int64]]:
        on = insel[cols]
        cnt = np.bincount(rows_nz[on], minlength=n)
        u = np.where(cnt == 0, w, 0.0)
        return np.bincount(cols, weights=u[rows_nz], minlength=m).astype(np.float64), on, cnt

    def delta_of(sel: IntArray, insel: BoolArray, pos_of: IntArray) -> FloatArray | None:
        if time.perf_counter() > deadline:
            return None
        p = sel.size
        gain, on, cnt = add_gain(insel)
        owner = np.full(n, -1, dtype=np.int64)
        owner[rows_nz[on]] = cols[on]
        uniq = cnt == 1
        uw = np.where(uniq, w, 0.0)
        loss = np.bincount(pos_of[owner[uniq]], weights=w[uniq], minlength=p)
        e = uniq[rows_nz]
        key = cols[e] * p + pos_of[owner[rows_nz[e]]]
        extra = np.bincount(key, weights=uw[rows_nz[e]], minlength=m * p).reshape(m, p)
        return gain[:, None] - loss[None, :] + extra

    sel, swaps = _swap(m, sel, delta_of, rules, eps)
    return sel, swaps, add_gain(_mask(m, sel))[0]


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
    x, _fun, dual, status = solve_milp(
        c, cons, np.zeros(n_cols), np.ones(n_cols), integrality, time_limit_s, mip_rel_gap
    )
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
    method: SolveMethod = "greedy+swap",
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
    unit_of_candidate, require_units
        Unit code of each candidate, and the unit codes that must receive a new point.
    kind_of_candidate, budget_per_kind
        Kind of each candidate (``"kiosk"``...), and the most added points of each kind
        (``{"kiosk": 3}``).
    compute_bound
        Heuristics: also compute a Lagrangian upper bound (the cheap submodular bound
        ``objective + sum of the p best remaining gains`` is always computed).
    mip_rel_gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    SolveResult
        ``objective`` is the covered weight including the fixed points' coverage;
        ``gains.sum() == objective - details["fixed_covered_weight"]``. ``bound`` is an
        upper bound on the covered weight (HiGHS' dual bound, or for the heuristics the
        submodular bound ``objective + the p best remaining gains``, tightened by a
        Lagrangian bound with ``compute_bound``).

    Raises
    ------
    InfeasibleError
        When the unit requirement / budgets cannot be met.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    >>> r = solve_mclp([50, 10, 40, 5], cover, 2, method="exact")
    >>> r.selected.tolist(), r.objective, r.gains.tolist(), r.bound
    ([0, 1], 100.0, [60.0, 40.0], 100.0)

    """
    t0 = time.perf_counter()
    check_method(method)
    w = as_weights(weights)
    a = as_coverage(coverage, w.size)
    p = check_p(p, a.shape[1])
    fixed = as_mask(fixed_covered, w.size, "fixed_covered")
    rules = _Rules(a.shape[1], p, unit_of_candidate, require_units, kind_of_candidate, budget_per_kind)
    prob = _CoverProblem.build(a, w, fixed)
    return _mclp_run(prob, p, rules, method, t0, time_limit_s, mip_rel_gap, compute_bound)


def _mclp_run(
    prob: _CoverProblem,
    p: int,
    rules: _Rules,
    method: SolveMethod,
    t0: float,
    time_limit_s: float,
    mip_rel_gap: float,
    compute_bound: bool,
) -> SolveResult:
    """Solve a checked MCLP (exact or heuristic), rank the points and check the bound."""
    details = prob.details()
    if method == "exact":
        sel, bound_new, status, info = _mclp_exact(prob.a, prob.w, p, rules, time_limit_s, mip_rel_gap)
        details.update(info)
        bound = prob.base + bound_new if bound_new is not None else None
        label = "milp-highs"
    else:
        sel, bound, label = _mclp_heuristic(prob, p, rules, method, t0 + time_limit_s, details, compute_bound)
        status = "heuristic"
    order, gains, pruned = _rank(prob.state(), sel, rules, prob.eps)
    if pruned:
        details["pruned_zero_gain"] = pruned
    objective = prob.base + float(gains.sum())
    check_bound(objective, bound, "max", f"MCLP upper bound ({label})")
    return _result(order, objective, bound, gap_pct(objective, bound), label, status, t0, gains, details)


def _result(
    order: IntArray,
    objective: float,
    bound: float | None,
    gap: float | None,
    label: str,
    status: str,
    t0: float,
    gains: FloatArray,
    details: dict[str, Any],
) -> SolveResult:
    """Return the :class:`SolveResult` of a coverage model, timed from ``t0``."""
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


@dataclass
class _CoverProblem:
    """Coverage data reduced to the demand that can still gain (not fixed, weight > 0)."""

    a: sp.csr_matrix
    at: sp.csr_matrix
    w: FloatArray
    base: float
    uncoverable: float
    total: float
    eps: float

    @classmethod
    def build(cls, a: sp.csr_matrix, w: FloatArray, fixed: BoolArray) -> _CoverProblem:
        deg = np.diff(a.indptr)
        keep = ~fixed & (w > 0) & (deg > 0)
        a_r = a[np.flatnonzero(keep)]
        w_r = w[keep]
        return cls(
            a=a_r,
            at=a_r.T.tocsr(),
            w=w_r,
            base=float(w[fixed].sum()),
            uncoverable=float(w[~fixed & (deg == 0)].sum()),
            total=float(w.sum()),
            eps=1e-9 * max(1.0, float(w_r.sum())),
        )

    def state(self) -> _CoverState:
        return _CoverState(self.a, self.at, self.w)

    def details(self) -> dict[str, Any]:
        return {
            "fixed_covered_weight": self.base,
            "uncoverable_weight": self.uncoverable,
            "total_weight": self.total,
            "swaps": 0,
        }


def _mclp_heuristic(
    prob: _CoverProblem,
    p: int,
    rules: _Rules,
    method: str,
    deadline: float,
    details: dict[str, Any],
    compute_bound: bool,
) -> tuple[IntArray, float, str]:
    """Greedy (+ swaps); returns (selection, upper bound, label)."""
    sel, _ = _greedy(prob.state(), p, rules, eps=prob.eps, deadline=deadline)
    label = "greedy"
    final_gain = None
    if method == "greedy+swap" and sel.size:
        sel, details["swaps"], final_gain = _mclp_swap(prob.a, prob.w, sel, rules, deadline, prob.eps)
        label = "greedy+swap"
    covered = _covered(prob.a, prob.w, sel)
    if final_gain is None:
        hit = _hit(prob.a, sel)
        final_gain = np.asarray(prob.at @ np.where(hit, 0.0, prob.w)).ravel()
    top = np.sort(final_gain)[::-1][:p]
    bound = prob.base + covered + float(np.maximum(top, 0).sum())
    if compute_bound:
        lag = _mclp_lagrangian(prob.a, prob.at, prob.w, p, covered, deadline=deadline + 10)
        bound = min(bound, prob.base + lag)
    return sel, bound, label


def _hit(a: sp.csr_matrix, sel: IntArray) -> BoolArray:
    if sel.size == 0:
        return np.zeros(a.shape[0], dtype=bool)
    return np.asarray(a[:, sel].sum(axis=1)).ravel() > 0


def solve_lscp(
    weights: npt.ArrayLike,
    coverage: Any,
    *,
    target_share: float = 1.0,
    fixed_covered: npt.ArrayLike | None = None,
    method: SolveMethod = "greedy+swap",
    time_limit_s: float = 60.0,
    mip_rel_gap: float = MIP_REL_GAP,
    compute_bound: bool = True,
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
    compute_bound
        Heuristics: solve the LP relaxation (HiGHS) for a lower bound on the number of
        points.

    Returns
    -------
    SolveResult
        ``objective`` is the covered weight; the number of points is ``selected.size``;
        ``bound`` is a lower bound on that number (exact: HiGHS' dual bound; heuristics:
        the LP relaxation rounded up) and ``gap_pct`` refers to it.
        ``details`` holds ``uncoverable_weight``, ``max_share`` and, for the
        heuristics, ``lp_bound`` (the LP optimum before rounding).

    Raises
    ------
    InfeasibleError
        When even every candidate together cannot reach the target share.

    Examples
    --------
    Demand 0-3 covered by candidates 0-2; 90 % of the 200 people need two points,
    and the LP relaxation proves that one is not enough:

    >>> import numpy as np
    >>> cover = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]], dtype=bool)
    >>> r = solve_lscp([50, 50, 50, 50], cover, target_share=0.9)
    >>> r.selected.size, r.objective, r.bound, r.gap_pct
    (2, 200.0, 2.0, 0.0)

    """
    t0 = time.perf_counter()
    check_method(method)
    if not 0 < target_share <= 1:
        msg = f"target_share must be in (0, 1], got {target_share}."
        raise InputError(msg)
    w = as_weights(weights)
    a = as_coverage(coverage, w.size)
    prob = _CoverProblem.build(a, w, as_mask(fixed_covered, w.size, "fixed_covered"))
    return _lscp_run(prob, a.shape[1], target_share, method, t0, time_limit_s, mip_rel_gap, compute_bound)


def _lscp_run(
    prob: _CoverProblem,
    m: int,
    target_share: float,
    method: SolveMethod,
    t0: float,
    time_limit_s: float,
    mip_rel_gap: float,
    compute_bound: bool,
) -> SolveResult:
    """Solve a checked LSCP: the point count (exact or heuristic), its bound, the ranked points."""
    details = prob.details()
    need_r = _lscp_need(prob, target_share, m, details)
    rules = _Rules(m, None, None, None, None, None)
    bound: float | None
    label: str
    if need_r is None:  # the fixed points already reach the target
        sel, bound, status, label = np.zeros(0, dtype=np.int64), 0.0, "optimal", str(method)
    elif method == "exact":
        sel, bound, status = _lscp_exact(prob, need_r, target_share >= 1.0, rules, t0 + time_limit_s, mip_rel_gap)
        label = "milp-highs"
    else:
        sel, label = _lscp_heuristic(prob, need_r, rules, method, t0 + time_limit_s)
        bound, status = None, "heuristic"
        if compute_bound:
            lp = _lscp_lp(prob, need_r, target_share >= 1.0, time_limit_s)
            details["lp_bound"] = lp
            bound = float(np.ceil(lp - 1e-6))
    order, gains, _ = _rank(prob.state(), sel, rules, prob.eps)
    objective = prob.base + float(gains.sum())
    # places of at most eps people each need no point of their own (see _lscp_model)
    negligible = float(prob.w[prob.w <= prob.eps].sum()) if target_share >= 1.0 else 0.0
    details["negligible_weight"] = negligible
    if objective < target_share * prob.total - _tol(prob) - negligible:
        msg = (
            f"the solver stopped before reaching the target ({objective / prob.total:.2%} < "
            f"{target_share:.2%}); raise time_limit_s."
        )
        raise SolverError(msg)
    details["n_points"] = int(order.size)
    check_bound(float(order.size), bound, "min", f"LSCP lower bound on the number of points ({label})")
    return _result(order, objective, bound, gap_pct(float(order.size), bound), label, status, t0, gains, details)


def _tol(prob: _CoverProblem) -> float:
    return 1e-9 * max(1.0, prob.total)


def _lscp_need(prob: _CoverProblem, target_share: float, m: int, details: dict[str, Any]) -> float | None:
    """Weight the added points must cover (``None``: nothing), or raise if out of reach."""
    total, base, uncoverable = prob.total, prob.base, prob.uncoverable
    max_share = (total - uncoverable) / total if total > 0 else 1.0
    details.update(max_share=max_share, target_share=target_share)
    if uncoverable > 0:
        logger.info(
            "%.0f of %.0f weight (%.2f %%) is covered by no candidate and no existing point",
            uncoverable,
            total,
            100 * uncoverable / max(total, 1e-300),
        )
    tol = _tol(prob)
    if target_share * total > total - uncoverable + tol:
        msg = (
            f"target share {target_share:.2%} cannot be reached: existing points cover "
            f"{base / total:.2%} and all {m} candidates together reach at most "
            f"{max_share:.2%}; {uncoverable:,.0f} of {total:,.0f} people are within the "
            "standard of no point or candidate. Add candidates there or lower target_share."
        )
        raise InfeasibleError(msg)
    need = target_share * total - base
    return None if need <= tol else need - tol


def _lscp_model(prob: _CoverProblem, need_r: float, full: bool) -> tuple[FloatArray, list[LinearConstraint], int]:
    """LSCP as a MILP: objective, constraints and number of columns (y first)."""
    a_r, w_r = prob.a, prob.w
    m, n_r = a_r.shape[1], w_r.size
    if full:  # every row that weighs something covered: as _rank, a weight up to eps is nothing
        heavy = np.flatnonzero(w_r > prob.eps)
        cons = [LinearConstraint(a_r[heavy].astype(np.float64), np.ones(heavy.size), np.full(heavy.size, np.inf))]
        return np.ones(m), cons, m
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
    return np.concatenate([np.ones(m), np.zeros(n_r)]), cons, m + n_r


def _lscp_lp(prob: _CoverProblem, need_r: float, full: bool, time_limit_s: float) -> float:
    """Optimum of the LP relaxation: a lower bound on the number of points."""
    c, cons, n_cols = _lscp_model(prob, need_r, full)
    zeros = np.zeros(n_cols, dtype=int)
    _, fun, _, _ = solve_milp(c, cons, np.zeros(n_cols), np.ones(n_cols), zeros, time_limit_s, 0.0)
    return fun


def _lscp_exact(
    prob: _CoverProblem, need_r: float, full: bool, rules: _Rules, deadline: float, mip_rel_gap: float
) -> tuple[IntArray, float | None, str]:
    """Fewest points by MILP, then (partial targets) the best coverage with that many."""
    m = prob.a.shape[1]
    c, cons, n_cols = _lscp_model(prob, need_r, full)
    integ = np.concatenate([np.ones(m, dtype=int), np.zeros(n_cols - m, dtype=int)])
    remaining = max(1.0, deadline - time.perf_counter())
    x, _, dual, status = solve_milp(c, cons, np.zeros(n_cols), np.ones(n_cols), integ, remaining, mip_rel_gap)
    sel = np.flatnonzero(x[:m] > 0.5).astype(np.int64)
    bound = float(np.ceil(dual - 1e-6)) if dual is not None else None
    if not full and sel.size:
        remaining = max(1.0, deadline - time.perf_counter())
        sel2, _, status2, _ = _mclp_exact(prob.a, prob.w, sel.size, rules, remaining, mip_rel_gap)
        if _covered(prob.a, prob.w, sel2) >= _covered(prob.a, prob.w, sel):
            sel = sel2
        if status2 != "optimal":
            status = status2
    return sel, bound, status


def _lscp_heuristic(
    prob: _CoverProblem, need_r: float, rules: _Rules, method: str, deadline: float
) -> tuple[IntArray, str]:
    """Greedy until the target; ``greedy+swap`` then tries one point fewer, and again."""
    m = prob.a.shape[1]
    sel, _ = _greedy(prob.state(), m, rules, eps=prob.eps, stop_gain=need_r, deadline=deadline)
    if method != "greedy+swap":
        return sel, "greedy"
    while sel.size > 1 and time.perf_counter() < deadline:
        trial, _ = _greedy(prob.state(), sel.size - 1, rules, eps=prob.eps)
        trial, _, _ = _mclp_swap(prob.a, prob.w, trial, rules, deadline, prob.eps)
        if _covered(prob.a, prob.w, trial) < need_r:
            break
        sel = trial
    # best coverage for the final count
    sel, _, _ = _mclp_swap(prob.a, prob.w, sel, rules, deadline, prob.eps)
    return sel, "greedy+swap"
