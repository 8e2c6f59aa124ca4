"""Median models: p-median, optionally capacitated.

The objective is ``sum_i w_i * min(fixed_cost_i, min_{j chosen} cost_ij)``. Existing
points enter as each demand's current cost (``fixed_cost``): the fallback "column" of a
sparse formulation in which pairs costlier than the fallback are dropped (exact). The
heuristic is greedy + vertex substitution with a Lagrangian lower bound; the exact model
is a sparse MILP solved by HiGHS.

Gains and starting cost
-----------------------
:func:`solve_pmedian` reports ``gains`` as person-minutes saved from the *starting
cost*, in rank order, so that ``gains.sum() == details["start_cost"] - objective``
(uncapacitated runs; with capacities the gains ignore capacities). The starting cost of a
demand is its ``fixed_cost`` (or ``unassigned_cost``, whichever is lower); demand with
neither (a greenfield problem) starts at the largest finite cost in the matrix,
``details["unserved_cost"]``, as if served at the worst time the matrix knows.

Capacities
----------
With ``capacity`` and ``demand_load`` the existing points (the fallback) are treated as
uncapacitated, and assignments may be *fractional* (a demand location may be split
between points): the MILP relaxes assignment integrality, and the heuristic chooses the
sites without capacities then solves the capacitated assignment LP for them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import LinearConstraint

from pointplan._errors import InfeasibleError, InputError
from pointplan.locate._inputs import as_weights, check_method, check_p
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

__all__ = ["solve_pmedian"]


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
    c_max: float = 0.0  # largest finite cost of the input matrix

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
    c_max = float(c[finite].max()) if finite.any() else 0.0
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
    return _PM(n, m, w, f, surrogate, rows, cols, c, indptr, col_perm, col_ptr, c_max)


def _subset_pm(pm: _PM, sel: IntArray) -> _PM:
    """Restrict the problem to the pairs of the selected columns (for ranking)."""
    keep = _mask(pm.m, sel)[pm.cols]
    rows, cols, c = pm.rows[keep], pm.cols[keep], pm.c[keep]
    indptr = np.zeros(pm.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=pm.n), out=indptr[1:])
    col_perm = np.argsort(cols, kind="stable").astype(np.int64)
    col_ptr = np.zeros(pm.m + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=pm.m), out=col_ptr[1:])
    return _PM(pm.n, pm.m, pm.w, pm.f_true, pm.F, rows, cols, c, indptr, col_perm, col_ptr, pm.c_max)


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
    """Best-improvement vertex substitution (:func:`~pointplan.locate.heuristics._swap`), vectorised per round."""
    m = pm.m
    wr_all = pm.w[pm.rows]

    def delta_of(sel: IntArray, insel: BoolArray, pos_of: IntArray) -> FloatArray | None:
        if time.perf_counter() >= deadline:
            return None
        p = sel.size
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
        delta: FloatArray = np.asarray(gain[:, None] - loss[None, :] + extra, dtype=np.float64)
        return delta

    return _swap(m, sel, delta_of, rules, eps)


def _pm_cost(pm: _PM, sel: IntArray, surrogate: bool = False) -> tuple[float, IntArray]:
    d1, phi, _ = _top2(pm, _mask(pm.m, sel))
    if not surrogate:
        d1 = np.where(phi < 0, pm.f_true, d1)
    with np.errstate(invalid="ignore"):
        val = float(np.where(pm.w > 0, pm.w * d1, 0.0).sum())
    return val, phi


class _DualPairs:
    """The pairs the Lagrangian can see at the current multipliers, kept exact.

    A pair ``(i, j)`` enters the Lagrangian only when ``w_i c_ij < lam_i``. The working
    set holds the pairs with ``w_i c_ij < 2 lam_i`` and ``outside[i]``, the cheapest
    weighted cost of row ``i`` left out; as long as ``lam < outside`` for every row the
    function evaluated on the working set equals the one on all pairs, and the set is
    rebuilt as soon as a multiplier crosses that line. Every value is thus exact.
    """

    def __init__(self, pm: _PM, lam: FloatArray) -> None:
        self.pm = pm
        self.wc_all = pm.w[pm.rows] * pm.c
        self.rebuild(lam)

    def rebuild(self, lam: FloatArray) -> None:
        """Choose the working set for multipliers ``lam``."""
        pm = self.pm
        keep = self.wc_all < 2.0 * np.maximum(lam, 0.0)[pm.rows] + 1e-12
        if keep.sum() > 0.5 * keep.size:  # most pairs: take them all, never rebuild again
            keep[:] = True
        self.rows, self.cols, self.wc = pm.rows[keep], pm.cols[keep], self.wc_all[keep]
        self.outside = np.full(pm.n, np.inf)
        left = np.where(keep, np.inf, self.wc_all)
        nonempty = np.flatnonzero(np.diff(pm.indptr) > 0)
        if nonempty.size:  # pairs are in row order: one reduction per row
            self.outside[nonempty] = np.minimum.reduceat(left, pm.indptr[nonempty])

    def evaluate(self, p: int, wf: FloatArray, lam: FloatArray) -> tuple[float, FloatArray]:
        """Lagrangian value at ``lam`` (a valid lower bound) and a subgradient."""
        if (lam >= self.outside).any():
            self.rebuild(lam)
        m = self.pm.m
        v = self.wc - lam[self.rows]
        neg = v < 0
        rho = np.bincount(self.cols[neg], weights=v[neg], minlength=m)
        top = np.argpartition(rho, p - 1)[:p] if 0 < p < m else np.arange(m if p else 0)
        top = top[rho[top] < 0]
        val = float(lam.sum() + np.minimum(wf - lam, 0.0).sum() + rho[top].sum())
        served = np.bincount(self.rows[neg & _mask(m, top)[self.cols]], minlength=self.pm.n)
        return val, np.asarray(1.0 - (wf < lam) - served, dtype=np.float64)


def _pm_lagrangian(pm: _PM, p: int, upper: float, lam0: FloatArray, deadline: float, iters: int = 3000) -> float:
    """Lagrangian lower bound (assignment rows relaxed) on the surrogate objective.

    Subgradient ascent with Polyak steps towards ``upper`` (the heuristic's surrogate
    objective); the step factor halves when the bound stalls. Every iterate is evaluated
    exactly (:class:`_DualPairs`), so the best value seen is a valid bound; at the dual
    optimum it equals the LP relaxation (the Lagrangian subproblem has the integrality
    property).
    """
    wf = pm.w * pm.F
    lam = lam0.copy()
    pairs = _DualPairs(pm, lam)
    best, theta, stall = -np.inf, 1.0, 0
    tol = 1e-6 * max(1.0, abs(upper))
    history: list[float] = []
    for it in range(iters):
        val, g = pairs.evaluate(p, wf, lam)
        stall = 0 if val > best + 1e-9 * max(1.0, abs(best)) else stall + 1
        best = max(best, val)
        history.append(best)
        if stall >= 20:
            theta, stall = theta / 2, 0
        norm = float(g @ g)
        slow = it >= 200 and best - history[it - 200] <= 20 * tol  # < 2e-5 in 200 steps
        if theta < 1e-5 or upper - best <= tol or norm == 0 or slow or time.perf_counter() > deadline:
            break
        lam = lam + theta * (upper - val) / norm * g
    return float(best)


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
    x, _, dual, status = solve_milp(obj, cons, np.zeros(n_cols), np.ones(n_cols), integ, time_limit_s, mip_rel_gap)
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
    x, fun, _, _ = solve_milp(
        obj, cons, np.zeros(k + nf), np.ones(k + nf), np.zeros(k + nf, dtype=int), time_limit_s, 0.0
    )
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
    method: SolveMethod = "greedy+swap",
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

    Parameters
    ----------
    weights
        Weight (population) of each of the ``n`` demand locations.
    cost
        Travel cost (minutes), ``n x m``: scipy.sparse (stored entries are the reachable
        pairs, explicit zeros 0 minutes) or dense (``inf``/``NaN`` = unreachable).
    p
        Number of points to add (at most; points that save nothing are not proposed).
    fixed_cost
        Each demand's cost to its nearest existing point (``inf``: none); pairs costlier
        than it are dropped, which is exact (the module notes say why).
    method
        ``"greedy"``, ``"greedy+swap"`` (vertex substitution) or ``"exact"`` (MILP, HiGHS).
    time_limit_s
        Time limit of the MILP, the swap search and the bound.
    capacity, demand_load
        Capacitated variant: visits per day each candidate can take (``m``) and of each
        demand (``n``); assignments may then be fractional (see the module notes).
    unassigned_cost
        Cost of demand that no chosen or fixed point reaches; ``None``: not allowed
        (:class:`InfeasibleError`).
    unit_of_candidate, require_units, kind_of_candidate, budget_per_kind
        Side constraints, as in :func:`solve_mclp`.
    compute_bound
        Heuristics: a Lagrangian lower bound (the LP bound at its best) and the gap to it.
    mip_rel_gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    SolveResult
        Objective ``sum_i w_i * min(fixed_cost_i, min_{j chosen} cost_ij)``; ``gains`` in
        person-minutes saved from the starting cost (module notes); ``bound`` a lower
        bound (HiGHS' dual bound, or the heuristic's Lagrangian bound); ``assignment``
        the serving candidate of each demand (``-1``: its fixed point / unassigned).

    Raises
    ------
    InfeasibleError
        Demand served by nothing (see ``unassigned_cost``), rules unmet, capacities short.

    Examples
    --------
    >>> import numpy as np
    >>> minutes = np.array([[5.0, 40.0], [10.0, 30.0], [45.0, 5.0]])
    >>> r = solve_pmedian([100, 50, 80], minutes, 1, fixed_cost=[20.0, 20.0, 20.0])
    >>> r.selected.tolist(), r.objective, r.gains.tolist(), r.assignment.tolist()
    ([0], 2600.0, [2000.0], [0, 0, -1])
    >>> r = solve_pmedian([100, 50, 80], minutes, 2)  # greenfield: start at 230 people x 45 min
    >>> r.objective, r.gains.tolist(), r.details["start_cost"], r.bound <= r.objective
    (1400.0, [5750.0, 3200.0], 10350.0, True)
    """
    t0 = time.perf_counter()
    check_method(method)
    pm = _build_pm(as_weights(weights), cost, fixed_cost, unassigned_cost)
    p = check_p(p, pm.m)
    rules = _Rules(pm.m, p, unit_of_candidate, require_units, kind_of_candidate, budget_per_kind)
    opts = (method, t0, time_limit_s, mip_rel_gap, compute_bound)
    return _pm_run(pm, p, rules, capacity, demand_load, opts)


def _pm_run(
    pm: _PM,
    p: int,
    rules: _Rules,
    capacity: npt.ArrayLike | None,
    demand_load: npt.ArrayLike | None,
    opts: tuple[SolveMethod, float, float, float, bool],
) -> SolveResult:
    """Solve a checked p-median: capacities, reachability, the solve, the ranked result."""
    method, t0, time_limit_s, mip_rel_gap, compute_bound = opts
    cap, load = _capacity_inputs(pm, capacity, demand_load)
    _check_reachable(pm)
    deadline = t0 + time_limit_s
    if method == "exact":
        sol = _pm_solve_exact(pm, p, rules, time_limit_s, mip_rel_gap, cap, load)
    else:
        sol = _pm_solve_heuristic(pm, p, rules, method, deadline, cap, compute_bound=compute_bound)
    result = _pm_finish(pm, sol, rules, cap, load, deadline)
    return dataclasses.replace(result, runtime_s=time.perf_counter() - t0)


@dataclass
class _PMSolution:
    """A selection before ranking: sites, bound, status and solver figures."""

    sel: IntArray
    bound: float | None
    status: str
    label: str
    xe: FloatArray | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _capacity_inputs(
    pm: _PM, capacity: npt.ArrayLike | None, demand_load: npt.ArrayLike | None
) -> tuple[FloatArray | None, FloatArray | None]:
    if (capacity is None) != (demand_load is None):
        msg = "capacity and demand_load go together: give both for the capacitated variant."
        raise InputError(msg)
    if capacity is None or demand_load is None:
        return None, None
    cap = np.asarray(capacity, dtype=np.float64).ravel()
    load = np.asarray(demand_load, dtype=np.float64).ravel()
    if cap.size != pm.m or load.size != pm.n:
        msg = f"capacity needs {pm.m} entries (candidates) and demand_load {pm.n} (demand)."
        raise InputError(msg)
    if (cap < 0).any() or (load < 0).any() or not np.isfinite(load).all():
        msg = "capacity and demand_load must be >= 0 (visits per day)."
        raise InputError(msg)
    return cap, load


def _check_reachable(pm: _PM) -> None:
    reach = np.bincount(pm.rows, minlength=pm.n) > 0
    dead = pm.must & ~reach & (pm.w > 0)
    if dead.any():
        msg = (
            f"{int(dead.sum())} demand locations ({pm.w[dead].sum():,.0f} people) reach no "
            "existing point and no candidate within the cost matrix (e.g. positions "
            f"{np.flatnonzero(dead)[:5].tolist()}). Pass unassigned_cost (a penalty in "
            "minutes) or fixed_cost, or widen the cut-off."
        )
        raise InfeasibleError(msg)


def _pm_eps(pm: _PM) -> float:
    return 1e-9 * max(1.0, float((pm.w * np.where(np.isfinite(pm.F), pm.F, 0)).sum()))


def _pm_solve_exact(
    pm: _PM,
    p: int,
    rules: _Rules,
    time_limit_s: float,
    mip_rel_gap: float,
    cap: FloatArray | None,
    load: FloatArray | None,
) -> _PMSolution:
    sel, bound, status, xe, info = _pm_exact(pm, p, rules, time_limit_s, mip_rel_gap, cap, load)
    return _PMSolution(sel, bound, status, "milp-highs", xe if cap is not None else None, info)


def _pm_solve_heuristic(
    pm: _PM,
    p: int,
    rules: _Rules,
    method: str,
    deadline: float,
    cap: FloatArray | None,
    *,
    compute_bound: bool,
) -> _PMSolution:
    eps = _pm_eps(pm)
    sel, _ = _greedy(_MedianState(pm), p, rules, eps=eps, deadline=deadline)
    label, swaps = "greedy", 0
    if method == "greedy+swap" and sel.size:
        sel, swaps = _pm_swap(pm, sel, rules, deadline, eps)
        label = "greedy+swap"
    if cap is not None and sel.size < p:
        sel = _top_up(pm, sel, p, rules, cap)
    bound = None
    if compute_bound and cap is None:
        upper, _ = _pm_cost(pm, sel, surrogate=True)
        d1, _, _ = _top2(pm, _mask(pm.m, sel))
        # a bound on the surrogate problem (finite fallback for must-serve demand); it
        # bounds the true one, whose solutions serve every must-serve demand
        bound = _pm_lagrangian(pm, p, upper, pm.w * d1, max(deadline, time.perf_counter() + 1))
    return _PMSolution(sel, bound, "heuristic", label, None, {"swaps": swaps})


def _start_costs(pm: _PM) -> tuple[FloatArray, float | None]:
    """Each demand's cost before any new point, and the cost given to unserved demand."""
    if not pm.must.any():
        return pm.f_true.copy(), None
    unserved = pm.c_max
    return np.where(pm.must, unserved, pm.f_true), unserved


def _true_gains(pm: _PM, order: IntArray) -> tuple[FloatArray, float, float | None]:
    """Person-minutes saved by each site in rank order, from the starting costs."""
    start, unserved = _start_costs(pm)
    cur = start.copy()
    gains = np.zeros(order.size)
    for r, j in enumerate(order):  # one vectorised step per proposed site
        idx = pm.col_perm[pm.col_ptr[j] : pm.col_ptr[j + 1]]
        rows, cj = pm.rows[idx], pm.c[idx]
        better = cj < cur[rows]
        rows, cj = rows[better], cj[better]
        gains[r] = float((pm.w[rows] * (cur[rows] - cj)).sum())
        cur[rows] = cj
    with np.errstate(invalid="ignore"):
        start_cost = float(np.where(pm.w > 0, pm.w * start, 0.0).sum())
    return gains, start_cost, unserved


def _pm_finish(
    pm: _PM,
    sol: _PMSolution,
    rules: _Rules,
    cap: FloatArray | None,
    load: FloatArray | None,
    deadline: float,
) -> SolveResult:
    details: dict[str, Any] = {"pairs": int(pm.rows.size), "swaps": 0, **sol.details}
    # with capacities, points that save nothing uncapacitated may still be needed
    state = _MedianState(_subset_pm(pm, sol.sel))
    order, _, pruned = _rank(state, sol.sel, rules, _pm_eps(pm), keep_all=cap is not None)
    if pruned:
        details["pruned_zero_gain"] = pruned
    objective, assignment = _pm_cost(pm, order)
    if not np.isfinite(objective):
        msg = (
            "the chosen points leave some demand with no reachable point; raise p, pass "
            "unassigned_cost, or use method='exact'."
        )
        raise InfeasibleError(msg)
    label = sol.label
    if cap is not None and load is not None:
        objective, order, assignment, label = _pm_capacitated(pm, sol, order, rules, cap, load, deadline, details)
    gains, details["start_cost"], details["unserved_cost"] = _true_gains(pm, order)
    check_bound(objective, sol.bound, "min", f"p-median lower bound ({label})")
    return SolveResult(
        selected=order,
        objective=objective,
        bound=sol.bound,
        gap_pct=gap_pct(objective, sol.bound),
        method=label,
        status=sol.status,
        runtime_s=0.0,
        gains=gains,
        assignment=assignment,
        details=details,
    )


def _pm_capacitated(
    pm: _PM,
    sol: _PMSolution,
    order: IntArray,
    rules: _Rules,
    cap: FloatArray,
    load: FloatArray,
    deadline: float,
    details: dict[str, Any],
) -> tuple[float, IntArray, IntArray, str]:
    """Objective and assignment of a capacitated run (fractional assignment)."""
    label = sol.label
    if sol.xe is None:
        remaining = max(1.0, deadline - time.perf_counter())
        objective, xe = _capacitated_assignment(pm, order, cap, load, remaining)
        label += "+capacitated-lp"
        used = np.bincount(pm.cols, weights=load[pm.rows] * xe, minlength=pm.m)[order] > 1e-9
        keep = used | (rules.req_of[order] >= 0)
        if not keep.all():
            details["pruned_unused"] = int((~keep).sum())
            order = order[keep]
    else:
        xe = sol.xe
        rest = np.maximum(0.0, 1.0 - np.bincount(pm.rows, weights=xe, minlength=pm.n))
        f_fin = np.where(np.isfinite(pm.f_true), pm.f_true, 0.0)
        objective = float((pm.w[pm.rows] * pm.c * xe).sum() + (pm.w * f_fin * rest).sum())
    details["assigned_load"] = np.bincount(pm.cols, weights=load[pm.rows] * xe, minlength=pm.m)
    return objective, order, _assignment_from_fractions(pm, xe), label
