"""M/M/c queue formulas (Erlang B and C), vectorised and numerically stable.

A point with ``c`` counters, arrivals at ``λ`` an hour (Poisson) and a mean service time of
``1/μ`` hours (exponential) is an M/M/c queue with offered load ``a = λ/μ`` erlangs and
utilisation ``ρ = a/c``. When ``ρ < 1``:

* Erlang B by the recursion ``B(0) = 1``, ``B(k) = a·B(k−1) / (k + a·B(k−1))`` (every term
  stays in [0, 1]: no factorials, no overflow);
* Erlang C, the probability of waiting, ``C = c·B / (c − a·(1 − B))``;
* mean wait in the queue ``Wq = C / (cμ − λ)``;
* waiting-time tail ``P(W > t) = C·exp(−(cμ − λ)·t)``, so the ``q``-quantile of the wait is
  ``0`` when ``C ≤ 1 − q`` and ``ln(C / (1 − q)) / (cμ − λ)`` otherwise.

When ``ρ ≥ 1`` the queue grows without bound: the point is *overloaded* and every waiting
figure is ``NaN`` (never an infinite number); :func:`mmc_metrics` flags it.

References: Kleinrock, *Queueing Systems* vol. 1 (1975), §3.5; Gross et al.,
*Fundamentals of Queueing Theory* (4th ed., 2008), §2.3.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError

__all__ = ["erlang_b", "erlang_c", "min_counters", "mmc_metrics"]


def _counters_array(counters: npt.ArrayLike) -> npt.NDArray[np.int64]:
    c = np.asarray(counters, dtype=float)
    if np.any(~np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        msg = f"counters must be whole numbers >= 0, got {np.unique(c[(c != np.round(c)) | (c < 0)])[:5]}."
        raise InputError(msg)
    return c.astype(np.int64)


def _load_array(load: npt.ArrayLike, what: str = "offered load") -> npt.NDArray[np.float64]:
    a = np.asarray(load, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a < 0):
        msg = f"{what} must be finite numbers >= 0 (arrivals an hour × hours per dossier)."
        raise InputError(msg)
    return a


def erlang_b(counters: npt.ArrayLike, load: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Erlang B blocking probability of ``c`` servers offered ``a`` erlangs.

    Computed with the stable recursion ``B(k) = a·B(k−1) / (k + a·B(k−1))``, element-wise
    over broadcast arrays.

    Parameters
    ----------
    counters
        Number of servers ``c`` (whole numbers >= 0).
    load
        Offered load ``a = λ/μ`` in erlangs (>= 0).

    Returns
    -------
    numpy.ndarray
        ``B(c, a)`` in [0, 1].

    Examples
    --------
    >>> from pointplan.staffing import erlang_b
    >>> float(erlang_b(2, 1.0))  # (1/2) / (1 + 1 + 1/2) = 0.2
    0.2
    >>> float(erlang_b(200, 180.0)) < 0.02  # no overflow with many servers
    True
    """
    c, a = np.broadcast_arrays(_counters_array(counters), _load_array(load))
    out = np.where(c >= 1, a / (1.0 + a), 1.0).ravel()  # B(1) = a·1 / (1 + a·1), the first step (loads are finite)
    flat_c = c.ravel()
    idx = np.flatnonzero(flat_c >= 2)  # the later steps only where they apply (one-counter kiosks stop at 1)
    c_i, a_i, b_i = flat_c[idx], a.ravel()[idx], out[idx]
    for k in range(2, int(c.max(initial=0)) + 1):
        done = c_i < k
        if done.any():
            out[idx[done]] = b_i[done]
            idx, c_i, a_i, b_i = idx[~done], c_i[~done], a_i[~done], b_i[~done]
        ab = a_i * b_i
        b_i = ab / (k + ab)
    out[idx] = b_i
    return out.reshape(c.shape)


def erlang_c(counters: npt.ArrayLike, load: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Erlang C: probability that an arrival waits, for ``c`` servers and ``a`` erlangs.

    ``C = c·B / (c − a·(1 − B))`` with ``B`` from :func:`erlang_b`. Where ``a >= c`` (the
    queue is unstable) the result is ``1.0``: every arrival waits.

    Parameters
    ----------
    counters
        Number of servers ``c`` (whole numbers >= 0).
    load
        Offered load ``a = λ/μ`` in erlangs.

    Returns
    -------
    numpy.ndarray
        ``C(c, a)`` in [0, 1].

    Examples
    --------
    >>> from pointplan.staffing import erlang_c
    >>> float(erlang_c(1, 0.5))  # M/M/1: the probability of waiting is ρ
    0.5
    >>> round(float(erlang_c(2, 1.0)), 6)  # 2·0.2 / (2 − 0.8) = 1/3
    0.333333
    """
    c_arr = _counters_array(counters)
    a_arr = _load_array(load)
    b = erlang_b(c_arr, a_arr)
    c, a = np.broadcast_arrays(c_arr.astype(float), a_arr)
    stable = a < c
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(stable, c * b / (c - a * (1.0 - b)), 1.0)
    out = np.where(a == 0, 0.0, out)
    return np.clip(out, 0.0, 1.0)


def _checked_inputs(
    arrivals_per_hour: npt.ArrayLike, counters: npt.ArrayLike, service_minutes: float | npt.ArrayLike, quantile: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Arrival rates, counters and service minutes of :func:`mmc_metrics`, checked, broadcast, flat."""
    if not 0.0 < quantile < 1.0:
        msg = f"quantile must be between 0 and 1 (exclusive), got {quantile!r}."
        raise InputError(msg)
    s = np.asarray(service_minutes, dtype=float)
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        msg = f"service_minutes must be > 0 (minutes per dossier), got {service_minutes!r}."
        raise InputError(msg)
    lam = _load_array(arrivals_per_hour, "arrivals_per_hour")
    lam, c, s = np.broadcast_arrays(lam, _counters_array(counters), s)
    lam = lam.ravel().astype(float)
    c = c.ravel()
    s = s.ravel().astype(float)
    if np.any((c == 0) & (lam > 0)):
        msg = (
            "zero counters with arrivals: a point that receives dossiers needs at least one "
            "staffed counter. Give it counters >= 1, or remove the point from the scenario."
        )
        raise InputError(msg)
    return lam, c, s


def mmc_metrics(
    arrivals_per_hour: npt.ArrayLike,
    counters: npt.ArrayLike,
    service_minutes: float | npt.ArrayLike,
    *,
    quantile: float = 0.9,
) -> pd.DataFrame:
    """Steady-state M/M/c figures for each (arrival rate, counters) pair.

    Parameters
    ----------
    arrivals_per_hour
        Arrival rate ``λ`` (dossiers an hour).
    counters
        Staffed counters ``c``.
    service_minutes
        Mean service time per dossier, minutes (> 0).
    quantile
        Quantile of the waiting time reported as ``wait_pxx_min`` (default 0.9).

    Returns
    -------
    pandas.DataFrame
        One row per element of the broadcast inputs: ``arrivals_per_hour``, ``counters``,
        ``load_erlangs``, ``utilisation`` (``λ/(cμ)``, may exceed 1), ``overloaded``
        (``λ >= cμ`` with arrivals), ``prob_wait``, ``wait_mean_min``, ``wait_p90_min``
        (named after ``quantile``) and ``queue_mean`` (mean number waiting). The waiting
        figures are ``NaN`` where the point is overloaded.

    Examples
    --------
    M/M/2 with λ = 6 an hour and 10-minute service (a = 1 erlang, ρ = 0.5): the probability
    of waiting is 1/3 and the mean wait ``C / (cμ − λ) = (1/3) / 6`` hours = 3.33 minutes.

    >>> from pointplan.staffing import mmc_metrics
    >>> m = mmc_metrics(6.0, 2, 10.0)
    >>> m[["utilisation", "prob_wait", "wait_mean_min"]].round(4).iloc[0].tolist()
    [0.5, 0.3333, 3.3333]
    >>> bool(mmc_metrics(13.0, 2, 10.0)["overloaded"].iloc[0])
    True
    """
    lam, c, s = _checked_inputs(arrivals_per_hour, counters, service_minutes, quantile)
    mu = 60.0 / s  # dossiers an hour per counter
    a = lam / mu
    cap = c * mu
    overloaded = (lam > 0) & (lam >= cap)
    prob = erlang_c(c, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        slack = np.where(overloaded | (lam == 0), np.nan, cap - lam)  # per hour
        wq_h = np.where(lam == 0, 0.0, prob / slack)
        tail = np.where(prob > 1.0 - quantile, np.log(prob / (1.0 - quantile)) / slack, 0.0)
        util = np.where(cap > 0, lam / cap, 0.0)
    wq_h = np.where(overloaded, np.nan, wq_h)
    tail = np.where(overloaded, np.nan, np.where(lam == 0, 0.0, tail))
    prob = np.where(overloaded, np.nan, prob)
    name = f"wait_p{round(100 * quantile):d}_min"
    return pd.DataFrame(
        {
            "arrivals_per_hour": lam,
            "counters": c,
            "load_erlangs": a,
            "utilisation": util,
            "overloaded": overloaded,
            "prob_wait": prob,
            "wait_mean_min": 60.0 * wq_h,
            name: 60.0 * tail,
            "queue_mean": lam * wq_h,
        }
    )


def _weekly_wait(
    arrivals: npt.NDArray[np.float64], counters: npt.ArrayLike, wait_mean_min: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Return the person-minutes waiting over the hours (the last axis): arrivals × mean wait.

    An hour with no arrivals costs nothing; an hour with arrivals and no counter, or an
    overloaded one (``NaN`` wait), makes the sum ``inf``. ``arrivals``, ``counters`` and
    ``wait_mean_min`` (:func:`mmc_metrics`'s, same shape) broadcast together.

    Examples
    --------
    >>> _weekly_wait(np.array([[6.0, 0.0], [6.0, 3.0]]), [[1], [2]], np.array([[np.nan, 0.0], [10 / 3, 1.0]])).tolist()
    [inf, 23.0]
    """
    wq = np.where(arrivals == 0, 0.0, np.where(np.asarray(counters) == 0, np.nan, wait_mean_min))
    out: npt.NDArray[np.float64] = np.where(np.isnan(wq), np.inf, arrivals * wq).sum(axis=-1)
    return out


def min_counters(
    arrivals_per_hour: float,
    service_minutes: float,
    *,
    max_wait_min: float | None = None,
    quantile: float = 0.9,
    max_mean_wait_min: float | None = None,
    minimum: int = 0,
    limit: int = 1000,
) -> int:
    """Smallest number of counters that keeps the queue stable and meets a waiting target.

    Parameters
    ----------
    arrivals_per_hour
        Arrival rate ``λ`` (dossiers an hour).
    service_minutes
        Mean service time per dossier, minutes.
    max_wait_min
        Target on the ``quantile`` of the wait (e.g. P90 ≤ 15 minutes).
    quantile
        Quantile the target ``max_wait_min`` applies to.
    max_mean_wait_min
        Target on the mean wait, minutes.
    minimum
        Never fewer counters than this.
    limit
        Search bound; an error is raised beyond it.

    Returns
    -------
    int
        The smallest ``c >= minimum`` with ``λ < cμ`` (when ``λ > 0``) meeting every target.

    Examples
    --------
    A typical ward point at the Monday-morning peak: 5.2 dossiers an hour, 15 minutes each.

    >>> from pointplan.staffing import min_counters
    >>> min_counters(5.2, 15.0, max_wait_min=15.0)
    3
    >>> min_counters(0.0, 15.0, minimum=2)
    2
    """
    lam = float(arrivals_per_hour)
    if lam < 0 or not math.isfinite(lam):
        msg = f"arrivals_per_hour must be a finite number >= 0, got {arrivals_per_hour!r}."
        raise InputError(msg)
    if not service_minutes > 0:
        msg = f"service_minutes must be > 0 (minutes per dossier), got {service_minutes!r}."
        raise InputError(msg)
    mu = 60.0 / float(service_minutes)
    c = max(int(minimum), math.floor(lam / mu) + 1 if lam > 0 else 0)
    col = f"wait_p{round(100 * quantile):d}_min"
    while c <= limit:
        if lam == 0:
            return c
        m = mmc_metrics(lam, c, service_minutes, quantile=quantile).iloc[0]
        ok = max_wait_min is None or m[col] <= max_wait_min + 1e-9
        ok = ok and (max_mean_wait_min is None or m["wait_mean_min"] <= max_mean_wait_min + 1e-9)
        if ok:
            return c
        c += 1
    msg = f"no number of counters up to {limit} meets the waiting target; relax the target."
    raise InputError(msg)
