"""Heuristics shared by the models: greedy with exact incremental gains, one swap search, ranking.

The swap (vertex substitution) search :func:`_swap` is the same for MCLP and p-median:
each model only supplies the change of its objective for every (candidate in, selected
point out) pair (:mod:`pointplan.locate.coverage`, :mod:`pointplan.locate.median`). It
starts from :func:`_greedy` and the final selection is ordered by :func:`_rank`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from pointplan._errors import InfeasibleError
from pointplan.locate.result import BoolArray, FloatArray, IntArray
from pointplan.locate.rules import _Rules

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


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


def _mask(m: int, sel: IntArray) -> BoolArray:
    out = np.zeros(m, dtype=bool)
    out[sel] = True
    return out


#: The change of a model's objective for every swap: ``(sel, in_selection, position_of)``
#: -> an (m, p) array (candidate ``j`` in, the point at position ``r`` of ``sel`` out),
#: or None to stop (the time limit).
SwapDelta = Callable[[IntArray, BoolArray, IntArray], FloatArray | None]


def _swap(m: int, sel: IntArray, delta_of: SwapDelta, rules: _Rules, eps: float) -> tuple[IntArray, int]:
    """Best-improvement swap local search shared by the models; returns (selection, swaps).

    Each round takes the best swap allowed by ``rules`` (never a candidate already
    selected) while it improves the objective by more than ``eps``.
    """
    sel = sel.copy()
    swaps = 0
    while sel.size:
        p = sel.size
        insel = _mask(m, sel)
        pos_of = np.full(m, -1, dtype=np.int64)
        pos_of[sel] = np.arange(p)
        delta = delta_of(sel, insel, pos_of)
        if delta is None:
            break
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
