"""Where the officials should sit: counters per point by greedy marginal allocation.

The cost of a point with ``c`` counters is the expected waiting of a week,
``Σ_hours λ_h · Wq_h(c)`` person-minutes. For M/M/c the mean wait is decreasing and convex
in ``c`` (Dyer & Proll 1977), and a sum of convex functions is convex, so the separable
problem "minimise the total with ``Σ c = N`` and ``min ≤ c ≤ max`` per point" is solved
exactly by giving each next official to the point where one more counter saves the most
waiting (Gross 1956; Ibaraki & Katoh 1988). The tests check this against brute force.

Steps: (1) every point gets at least the counters that keep its peak stable (``λ < cμ``),
within its maximum; (2) the remaining officials go one by one by the largest saving. When
the officials cannot keep every point stable, the waiting is unbounded whatever the split:
the officials then go where they cut the most unserved arrivals (``Σ_h (λ_h − cμ)⁺``, also
convex), and the points left overloaded are reported as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError
from pointplan.staffing.erlang import _weekly_wait, mmc_metrics

__all__ = [
    "DEFAULT_COUNTER_BOUNDS",
    "TARGET_P90_MIN",
    "allocate_counters",
    "counter_bounds",
    "counters_for_target",
    "waiting_cost",
    "waiting_cost_table",
]

#: Counters (one official each) a point of each kind may have: Plan 322/KH-UBND moves 2–5
#: officials into each commune-level point; the branch range brackets Hà Đông's 11
#: counters; one-counter formats stay at one or two. Override by kind, or per point with
#: the columns ``counters_min`` / ``counters_max``.
DEFAULT_COUNTER_BOUNDS: dict[str, tuple[int, int]] = {
    "unit_point": (2, 5),
    "proposed": (2, 5),
    "branch": (2, 15),
    "community": (1, 2),
    "mobile": (1, 2),
    "kiosk": (1, 1),
    "head_office": (0, 0),
}

#: Waiting target: the 90th percentile of the wait at the peak hour, minutes.
TARGET_P90_MIN: float = 15.0


def counter_bounds(points: pd.DataFrame, bounds: Mapping[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Minimum and maximum counters of each point, by kind or from its own columns.

    Parameters
    ----------
    points
        Points with ``kind`` (and optionally ``counters_min`` / ``counters_max``).
    bounds
        ``{kind: (min, max)}`` overriding :data:`DEFAULT_COUNTER_BOUNDS`.

    Returns
    -------
    pandas.DataFrame
        ``counters_min``, ``counters_max`` (integers), indexed like ``points``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pointplan.staffing import counter_bounds
    >>> counter_bounds(pd.DataFrame({"kind": ["unit_point", "kiosk"]}), {"kiosk": (1, 2)}).values.tolist()
    [[2, 5], [1, 2]]
    """
    table = {**DEFAULT_COUNTER_BOUNDS, **dict(bounds or {})}
    kinds = points["kind"].astype(str)
    unknown = sorted(set(kinds) - set(table))
    if unknown:
        msg = f"no counter bounds for kind(s) {unknown}; pass bounds={{kind: (min, max)}}."
        raise InputError(msg)
    lo = kinds.map(lambda k: table[k][0]).astype(float)
    hi = kinds.map(lambda k: table[k][1]).astype(float)
    if "counters_min" in points:
        lo = pd.to_numeric(points["counters_min"], errors="coerce").fillna(lo)
    if "counters_max" in points:
        hi = pd.to_numeric(points["counters_max"], errors="coerce").fillna(hi)
    bad = (lo < 0) | (hi < lo) | (lo != np.round(lo)) | (hi != np.round(hi))
    if bad.any():
        msg = f"counter bounds must be whole numbers with 0 <= min <= max; wrong at {list(points.index[bad])[:8]}."
        raise InputError(msg)
    return pd.DataFrame({"counters_min": lo.astype(int), "counters_max": hi.astype(int)}, index=points.index)


def waiting_cost_table(
    arrivals: npt.ArrayLike, service_minutes: float, max_counters: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Tabulate the waiting and overload cost of each point for ``0..max_counters`` counters.

    Parameters
    ----------
    arrivals
        Arrivals an hour, points × opening hours (see :func:`~pointplan.staffing.arrival_matrix`).
    service_minutes
        Mean service time per dossier.
    max_counters
        Largest number of counters tabulated.

    Returns
    -------
    wait, excess
        Arrays points × ``max_counters + 1``: person-minutes waiting a week (``inf`` when any
        hour is overloaded) and unserved arrivals an hour summed over the week
        (``Σ_h (λ_h − cμ)⁺``).

    Examples
    --------
    >>> from pointplan.staffing import waiting_cost_table
    >>> wait, excess = waiting_cost_table([[6.0]], 10.0, 2)
    >>> wait.round(2).tolist(), excess.tolist()  # λ=6, μ=6: 1 counter is overloaded
    ([[inf, inf, 20.0]], [[6.0, 0.0, 0.0]])
    """
    lam = np.atleast_2d(np.asarray(arrivals, dtype=float))
    n, s = lam.shape
    cs = np.arange(max_counters + 1)
    grid_c = np.broadcast_to(cs[None, :, None], (n, cs.size, s))
    grid_l = np.broadcast_to(lam[:, None, :], (n, cs.size, s))
    # Zero counters with arrivals cannot be evaluated: give them one, then mark them overloaded.
    m = mmc_metrics(grid_l.ravel(), np.maximum(grid_c.ravel(), 1), service_minutes)
    wait = _weekly_wait(grid_l, grid_c, m["wait_mean_min"].to_numpy().reshape(n, cs.size, s))
    mu = 60.0 / service_minutes
    excess = np.clip(grid_l - grid_c * mu, 0.0, None).sum(axis=2)
    return wait, excess


def waiting_cost(arrivals: npt.ArrayLike, service_minutes: float, counters: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return the waiting cost of each point at its own counters: one column of :func:`waiting_cost_table`.

    Equal to ``waiting_cost_table(arrivals, service_minutes, c.max())[0][rows, c]``, without
    tabulating the counters a point does not have (a city of 200,000 kiosks).

    Parameters
    ----------
    arrivals
        Arrivals an hour, points × opening hours.
    service_minutes
        Mean service time per dossier.
    counters
        Counters of each point (whole numbers >= 0).

    Returns
    -------
    numpy.ndarray
        Person-minutes waiting a week at each point (``inf`` when any hour is overloaded).

    Examples
    --------
    >>> waiting_cost([[6.0], [6.0], [0.0]], 10.0, [1, 2, 0]).round(2).tolist()
    [inf, 20.0, 0.0]
    """
    lam = np.atleast_2d(np.asarray(arrivals, dtype=float))
    c = np.broadcast_to(np.asarray(counters, dtype=np.int64).reshape(-1, 1), lam.shape)
    m = mmc_metrics(lam.ravel(), np.maximum(c.ravel(), 1), service_minutes)
    return _weekly_wait(lam, c, m["wait_mean_min"].to_numpy().reshape(lam.shape))


def _greedy(
    cost: npt.NDArray[np.float64], start: npt.NDArray[np.int64], upper: npt.NDArray[np.int64], steps: int
) -> npt.NDArray[np.int64]:
    """Add ``steps`` counters one at a time where the cost falls most (ties: first point)."""
    c = start.copy()
    rows = np.arange(cost.shape[0])
    for _ in range(steps):
        nxt = np.minimum(c + 1, cost.shape[1] - 1)
        with np.errstate(invalid="ignore"):
            gain = cost[rows, c] - cost[rows, nxt]
        gain = np.where(np.isnan(gain), np.inf, gain)  # inf - inf: still overloaded
        gain = np.where(c < upper, gain, -np.inf)
        j = int(np.argmax(gain))
        if gain[j] == -np.inf:
            break
        c[j] += 1
    return c


def _checked_officials(
    officials: int, lam: npt.NDArray[np.float64], lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> int:
    """``officials`` as an int, or an :class:`InputError` saying how to fix the request."""
    if isinstance(officials, bool) or int(officials) != officials or officials < 0:
        msg = f"officials must be a whole number >= 0, got {officials!r}."
        raise InputError(msg)
    n = int(officials)
    if n > hi.sum():
        msg = (
            f"{n} officials requested, but the points allow at most {int(hi.sum())} (the sum of their "
            f"maximum counters). Ask for at most {int(hi.sum())}, or raise the maximum per point (bounds=...)."
        )
        raise InputError(msg)
    if n < lo.sum():
        msg = (
            f"{n} officials cannot staff the minimum of {int(lo.sum())} counters the points need "
            f"(the sum of their minimum counters). Give at least {int(lo.sum())}, or lower the minimum (bounds=...)."
        )
        raise InputError(msg)
    zero = (hi == 0) & (lam.sum(axis=1) > 0)
    if zero.any():
        msg = (
            f"zero counters with demand: point(s) at positions {np.flatnonzero(zero)[:8].tolist()} receive visits "
            "but may have no counter (maximum 0). Raise their maximum (bounds=...) or remove them."
        )
        raise InputError(msg)
    return n


def allocate_counters(
    arrivals: npt.ArrayLike,
    officials: int,
    *,
    service_minutes: float,
    minimum: npt.ArrayLike,
    maximum: npt.ArrayLike,
) -> tuple[npt.NDArray[np.int64], dict[str, Any]]:
    """Split ``officials`` counters between points to minimise the week's total waiting.

    Parameters
    ----------
    arrivals
        Arrivals an hour, points × opening hours.
    officials
        Officials to place, one per counter; between ``Σ minimum`` and ``Σ maximum``.
    service_minutes
        Mean service time per dossier.
    minimum, maximum
        Bounds on each point's counters.

    Returns
    -------
    counters, info
        Counters per point, and ``{"phase": "wait" | "overload", "total_wait_min": ...}``
        (``phase="overload"`` when the officials cannot keep every point stable at the peak).

    Examples
    --------
    Two points, 6 and 2 dossiers an hour, 10-minute service, 4 officials, 1–3 counters each:
    the busier point gets the extra officials.

    >>> from pointplan.staffing import allocate_counters
    >>> c, info = allocate_counters([[6.0], [2.0]], 4, service_minutes=10.0, minimum=[1, 1], maximum=[3, 3])
    >>> c.tolist(), info["phase"]
    ([3, 1], 'wait')
    >>> allocate_counters([[6.0], [2.0]], 7, service_minutes=10.0, minimum=[1, 1], maximum=[3, 3])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: 7 officials requested, but the points allow at most 6 ...
    """
    lam = np.atleast_2d(np.asarray(arrivals, dtype=float))
    lo = np.asarray(minimum, dtype=np.int64).reshape(-1)
    hi = np.asarray(maximum, dtype=np.int64).reshape(-1)
    n = _checked_officials(officials, lam, lo, hi)
    mu = 60.0 / float(service_minutes)
    peak_load = lam.max(axis=1, initial=0.0) / mu
    stable = np.where(peak_load > 0, np.floor(peak_load).astype(np.int64) + 1, 0)
    lower = np.maximum(lo, np.minimum(stable, hi))
    wait, excess = waiting_cost_table(lam, float(service_minutes), int(hi.max(initial=0)))
    if lower.sum() <= n:
        c = _greedy(wait, lower, hi, n - int(lower.sum()))
        phase = "wait"
    else:
        c = _greedy(excess, lo, hi, n - int(lo.sum()))
        phase = "overload"
    total = float(wait[np.arange(len(c)), c].sum())
    return c, {"phase": phase, "total_wait_min": total if np.isfinite(total) else None}


def counters_for_target(
    arrivals: npt.ArrayLike,
    service_minutes: float,
    *,
    target_p90_min: float = TARGET_P90_MIN,
    minimum: npt.ArrayLike = 0,
    limit: int = 200,
) -> npt.NDArray[np.int64]:
    """Fewest counters per point so that the P90 wait at its peak hour meets the target.

    Parameters
    ----------
    arrivals
        Arrivals an hour, points × opening hours (the peak is each row's maximum; the P90
        wait falls with fewer arrivals, so every other hour meets the target too).
    service_minutes
        Mean service time per dossier.
    target_p90_min
        Largest acceptable 90th percentile of the wait at the peak, minutes.
    minimum
        Never fewer counters than this (e.g. Plan 322's 2 officials).
    limit
        Largest number of counters searched.

    Returns
    -------
    numpy.ndarray
        Counters needed per point (not capped by any maximum).

    Examples
    --------
    >>> from pointplan.staffing import counters_for_target
    >>> counters_for_target([[5.184], [2.592], [0.0]], 15.0, minimum=[2, 2, 0]).tolist()
    [3, 2, 0]
    """
    if not target_p90_min >= 0:
        msg = f"target_p90_min must be >= 0 minutes, got {target_p90_min!r}."
        raise InputError(msg)
    lam = np.atleast_2d(np.asarray(arrivals, dtype=float))
    peak = lam.max(axis=1, initial=0.0)
    mu = 60.0 / float(service_minutes)
    lo = np.broadcast_to(np.asarray(minimum, dtype=np.int64), peak.shape)
    c = np.maximum(lo, np.where(peak > 0, np.floor(peak / mu).astype(np.int64) + 1, 0))
    todo = peak > 0
    while todo.any():
        m = mmc_metrics(peak[todo], c[todo], service_minutes)
        ok = m["wait_p90_min"].to_numpy() <= target_p90_min + 1e-9
        idx = np.flatnonzero(todo)
        c[idx[~ok]] += 1
        todo[idx[ok]] = False
        if (c > limit).any():
            msg = f"no number of counters up to {limit} meets the P90 target of {target_p90_min} min."
            raise InputError(msg)
    return c
