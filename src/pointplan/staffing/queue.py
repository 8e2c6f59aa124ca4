"""The queue at each point, hour by hour: M/M/c with the arrival profile.

Each opening hour of the week is treated as its own steady-state M/M/c queue (the
*stationary independent period-by-period* approximation, Green, Kolesar & Soares 2001):
arrivals an hour = visits a working day × the hour's profile factor. It is accurate when
service times are short against the hour (15 minutes against 60) and tends to understate the
queue just after a peak; the peak figures are the ones a planner should read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError, MissingColumnError
from pointplan.staffing.erlang import _weekly_wait, mmc_metrics
from pointplan.staffing.profiles import (
    DEFAULT_SERVICE_MINUTES,
    ArrivalProfile,
    default_profile,
    mean_service_minutes,
)

#: What to do with a point that has visits but no counter (see :func:`queue_table`).
ZeroCounters = Literal["raise", "overloaded"]
#: Which of the assessment's loads is queued: nearest point or Huff's shares.
Allocation = Literal["nearest", "huff"]

__all__ = [
    "OVERLOADED_STATUS",
    "PointQueues",
    "arrival_matrix",
    "peak_and_waiting",
    "peak_queues",
    "point_queues",
    "queue_table",
]

#: Status of a point whose peak arrivals reach its capacity (a finding, not a number).
OVERLOADED_STATUS = "overloaded at the peak"

#: Columns of :attr:`PointQueues.peak`.
PEAK_COLUMNS: tuple[str, ...] = (
    "visits_per_day",
    "counters",
    "arrivals_per_hour_peak",
    "utilisation_peak",
    "prob_wait_peak",
    "wait_mean_min_peak",
    "wait_p90_min_peak",
    "queue_mean_peak",
    "wait_mean_min_week",
    "overloaded_peak",
    "queue_status",
)


@dataclass
class PointQueues:
    """Result of :func:`queue_table` / :func:`point_queues`.

    Attributes
    ----------
    peak
        One row per point (the input's index): visits a day, counters, and the M/M/c figures
        at the peak hour (``*_peak``), the arrival-weighted mean wait over the week and
        ``queue_status`` (``"ok"``, ``"no demand"`` or ``"overloaded at the peak"``).
        Waiting figures are ``NaN`` where the point is overloaded.
    by_hour
        One row per point and opening hour: ``point_id``, ``day``, ``hour`` and the
        :func:`~pointplan.staffing.mmc_metrics` columns.
    profile
        The arrival profile used.
    service_minutes
        Mean service time per dossier used.

    Examples
    --------
    >>> from pointplan.staffing import queue_table
    >>> q = queue_table({"P1": 24.0, "P2": 80.0}, {"P1": 3, "P2": 3})
    >>> q.peak["queue_status"].tolist(), q.service_minutes
    (['ok', 'overloaded at the peak'], 15.0)
    >>> first = q.by_hour.iloc[0]
    >>> first["point_id"], first["day"], int(first["hour"])
    ('P1', 'Mon', 8)
    """

    peak: pd.DataFrame
    by_hour: pd.DataFrame
    profile: ArrivalProfile
    service_minutes: float


def _series(x: pd.Series | Mapping[Any, float] | npt.ArrayLike, index: pd.Index | None, what: str) -> pd.Series:
    if isinstance(x, pd.Series):
        s = x.copy()
    elif isinstance(x, Mapping):
        s = pd.Series(dict(x))
    else:
        s = pd.Series(np.asarray(x, dtype=float), index=index)
    s = pd.to_numeric(s, errors="coerce").astype(float)
    if s.isna().any() or not np.isfinite(s.to_numpy()).all():
        msg = f"{what} has missing or non-numeric values at {list(s.index[~np.isfinite(s.to_numpy())])[:8]}."
        raise InputError(msg)
    if (s < 0).any():
        msg = f"{what} must be >= 0; negative at {list(s.index[s < 0])[:8]}."
        raise InputError(msg)
    return s


def arrival_matrix(
    visits_per_day: pd.Series,
    profile: ArrivalProfile | None = None,
    availability: pd.Series | None = None,
) -> npt.NDArray[np.float64]:
    """Arrivals an hour at each point (rows) in each opening hour of the week (columns).

    ``visits_per_day / availability × factor`` where ``factor`` comes from
    :meth:`ArrivalProfile.slots` and ``availability`` is the share of working days a point is
    open (the mobile truck's visits arrive on the days it comes).

    Examples
    --------
    >>> import pandas as pd
    >>> from pointplan.staffing import ArrivalProfile, arrival_matrix
    >>> p = ArrivalProfile({8: 0.25, 9: 0.75}, {"Mon": 1.0})
    >>> arrival_matrix(pd.Series([8.0, 4.0]), p).tolist()
    [[2.0, 6.0], [1.0, 3.0]]
    """
    prof = profile or default_profile()
    v = visits_per_day.to_numpy(dtype=float)
    if availability is not None:
        av = availability.reindex(visits_per_day.index).fillna(1.0).to_numpy(dtype=float)
        if (av <= 0).any() or (av > 1).any():
            msg = "availability must be in (0, 1] (share of working days a point is open)."
            raise InputError(msg)
        v = v / av
    return np.outer(v, prof.factors())


def _checked_counters(v: pd.Series, counters: Any, zero_counters: ZeroCounters) -> tuple[pd.Series, pd.Series]:
    """Return the counters aligned on ``v``, checked, and where a point with visits has none."""
    c = _series(counters, v.index, "counters")
    c = c.reindex(v.index)
    if c.isna().any():
        msg = f"counters has no value for point(s) {list(v.index[c.isna()])[:8]}."
        raise InputError(msg)
    if (c != np.round(c)).any():
        msg = f"counters must be whole numbers; got {c[c != np.round(c)].to_dict()}."
        raise InputError(msg)
    zero = (c == 0) & (v > 0)
    if zero_counters not in ("raise", "overloaded"):
        msg = f"zero_counters must be 'raise' or 'overloaded', got {zero_counters!r}."
        raise InputError(msg)
    if zero.any() and zero_counters == "raise":
        msg = (
            f"zero counters with demand at point(s) {list(v.index[zero])[:8]}: a point that "
            "receives visits needs at least one staffed counter. Give 'counters' >= 1 there."
        )
        raise InputError(msg)
    return c, zero


def queue_table(
    visits_per_day: pd.Series | Mapping[Any, float],
    counters: pd.Series | Mapping[Any, float] | npt.ArrayLike,
    *,
    profile: ArrivalProfile | None = None,
    service_minutes: float | Mapping[str, float] = DEFAULT_SERVICE_MINUTES,
    group_shares: Mapping[str, float] | None = None,
    availability: pd.Series | None = None,
    zero_counters: ZeroCounters = "raise",
) -> PointQueues:
    """M/M/c queues of points given their visits a day and staffed counters.

    Parameters
    ----------
    visits_per_day
        In-person visits an average working day, by point.
    counters
        Staffed counters by point (whole numbers; at least one where there are visits).
    profile
        Arrival profile (default :func:`~pointplan.staffing.default_profile`).
    service_minutes
        Minutes per dossier, or minutes by procedure group with ``group_shares``.
    group_shares
        Share of dossiers by procedure group.
    availability
        Share of working days each point is open (default 1).
    zero_counters
        A point with visits but no counter: ``"raise"`` an error (default), or report it
        ``"overloaded"`` (what the run outputs do, since an assessment accepts it).

    Returns
    -------
    PointQueues

    Examples
    --------
    One point, 24 visits a day, 3 counters, 15-minute service, the default profile: at the
    Monday 9:00 peak 5.18 dossiers arrive an hour and 1 in 6 waits.

    >>> from pointplan.staffing import queue_table
    >>> q = queue_table({"P1": 24.0}, {"P1": 3})
    >>> q.peak.loc["P1", ["arrivals_per_hour_peak", "prob_wait_peak", "wait_p90_min_peak"]].round(2).tolist()
    [5.18, 0.17, 4.63]
    >>> queue_table({"P1": 80.0}, {"P1": 3}).peak.loc["P1", "queue_status"]
    'overloaded at the peak'
    """
    v, c, lam, m, prof, minutes = _hourly(
        visits_per_day, counters, profile, service_minutes, group_shares, availability, zero_counters
    )
    n_pts, n_slots = lam.shape
    slots = prof.slots()
    by_hour = pd.concat(
        [
            pd.DataFrame(
                {
                    "point_id": np.repeat(v.index.to_numpy(), n_slots),
                    "day": np.tile(slots["day"].to_numpy(), n_pts),
                    "hour": np.tile(slots["hour"].to_numpy(), n_pts),
                }
            ),
            m,
        ],
        axis=1,
    )
    peak = _peak(v, c, lam, m, n_slots)
    return PointQueues(peak=peak, by_hour=by_hour, profile=prof, service_minutes=minutes)


def _hourly(
    visits_per_day: pd.Series | Mapping[Any, float],
    counters: pd.Series | Mapping[Any, float] | npt.ArrayLike,
    profile: ArrivalProfile | None,
    service_minutes: float | Mapping[str, float],
    group_shares: Mapping[str, float] | None,
    availability: pd.Series | None,
    zero_counters: ZeroCounters,
) -> tuple[pd.Series, pd.Series, npt.NDArray[np.float64], pd.DataFrame, ArrivalProfile, float]:
    """Return the checked visits and counters, the arrivals (points × hours) and their hourly M/M/c figures."""
    v = _series(visits_per_day, None, "visits_per_day")
    c, zero = _checked_counters(v, counters, zero_counters)
    prof = profile or default_profile()
    minutes = mean_service_minutes(service_minutes, group_shares)
    lam = arrival_matrix(v, prof, availability)
    n_slots = lam.shape[1]
    m = mmc_metrics(lam.ravel(), np.repeat(np.where(zero, 1.0, c.to_numpy(dtype=float)), n_slots), minutes)
    if zero.any():  # no counter at all: every hour with arrivals is overloaded
        rows = np.repeat(zero.to_numpy(), n_slots) & (lam.ravel() > 0)
        m.loc[rows, "overloaded"] = True
        m.loc[rows, ["utilisation", "prob_wait", "wait_mean_min", "wait_p90_min", "queue_mean"]] = np.nan
        m.loc[np.repeat(zero.to_numpy(), n_slots), "counters"] = 0
    return v, c, lam, m, prof, minutes


def peak_queues(
    visits_per_day: pd.Series | Mapping[Any, float],
    counters: pd.Series | Mapping[Any, float] | npt.ArrayLike,
    *,
    profile: ArrivalProfile | None = None,
    service_minutes: float | Mapping[str, float] = DEFAULT_SERVICE_MINUTES,
    group_shares: Mapping[str, float] | None = None,
    availability: pd.Series | None = None,
    zero_counters: ZeroCounters = "raise",
) -> pd.DataFrame:
    """Return ``queue_table(...).peak`` without the table of every point and hour (many points).

    Examples
    --------
    >>> peak_queues({"P1": 24.0}, {"P1": 3}).equals(queue_table({"P1": 24.0}, {"P1": 3}).peak)
    True
    """
    v, c, lam, m, _, _ = _hourly(
        visits_per_day, counters, profile, service_minutes, group_shares, availability, zero_counters
    )
    return _peak(v, c, lam, m, lam.shape[1])


def peak_and_waiting(
    visits_per_day: pd.Series | Mapping[Any, float],
    counters: pd.Series | Mapping[Any, float] | npt.ArrayLike,
    *,
    profile: ArrivalProfile | None = None,
    service_minutes: float | Mapping[str, float] = DEFAULT_SERVICE_MINUTES,
    group_shares: Mapping[str, float] | None = None,
    availability: pd.Series | None = None,
    zero_counters: ZeroCounters = "raise",
) -> tuple[pd.DataFrame, npt.NDArray[np.float64]]:
    """Return :func:`peak_queues` and each point's person-minutes waiting a week, from one M/M/c pass.

    The waiting is that of :func:`~pointplan.staffing.waiting_cost` at the point's counters
    (``inf`` when an hour is overloaded); the options are those of :func:`peak_queues`.

    Examples
    --------
    >>> peak, wait = peak_and_waiting({"P1": 24.0, "P2": 80.0}, {"P1": 3, "P2": 3})
    >>> peak["queue_status"].tolist(), bool(wait[0] > 0), float(wait[1])
    (['ok', 'overloaded at the peak'], True, inf)
    """
    v, c, lam, m, _, _ = _hourly(
        visits_per_day, counters, profile, service_minutes, group_shares, availability, zero_counters
    )
    wait = _weekly_wait(lam, c.to_numpy(dtype=float)[:, None], m["wait_mean_min"].to_numpy().reshape(lam.shape))
    return _peak(v, c, lam, m, lam.shape[1]), wait


def _peak(v: pd.Series, c: pd.Series, lam: npt.NDArray[np.float64], m: pd.DataFrame, n_slots: int) -> pd.DataFrame:
    """Per-point figures at the peak hour, and the week's arrival-weighted mean wait."""
    n_pts = len(v)
    j = np.arange(n_pts)
    k = lam.argmax(axis=1) if n_slots else np.zeros(n_pts, dtype=int)
    rows = m.iloc[j * n_slots + k].reset_index(drop=True)
    wait = m["wait_mean_min"].to_numpy().reshape(n_pts, n_slots)
    with np.errstate(invalid="ignore", divide="ignore"):
        week = (lam * wait).sum(axis=1) / lam.sum(axis=1)
    week = np.where(lam.sum(axis=1) == 0, 0.0, week)
    over = rows["overloaded"].to_numpy(dtype=bool)
    status = np.where(over, OVERLOADED_STATUS, np.where(v.to_numpy() == 0, "no demand", "ok"))
    out = pd.DataFrame(
        {
            "visits_per_day": v.to_numpy(),
            "counters": c.to_numpy(dtype=int),
            "arrivals_per_hour_peak": rows["arrivals_per_hour"].to_numpy(),
            "utilisation_peak": rows["utilisation"].to_numpy(),
            "prob_wait_peak": rows["prob_wait"].to_numpy(),
            "wait_mean_min_peak": rows["wait_mean_min"].to_numpy(),
            "wait_p90_min_peak": rows["wait_p90_min"].to_numpy(),
            "queue_mean_peak": rows["queue_mean"].to_numpy(),
            "wait_mean_min_week": week,
            "overloaded_peak": over,
            "queue_status": status,
        },
        index=v.index,
    )
    return out[list(PEAK_COLUMNS)]


def assessment_visits(
    assessment: Any, *, allocation: Allocation = "nearest", in_person_share: float | None = None
) -> pd.Series:
    """In-person visits a working day per point from an assessment's load.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment`.
    allocation
        ``"nearest"`` (``visits_per_day``) or ``"huff"`` (``visits_per_day_huff``).
    in_person_share
        Rescale to this in-person share (what-if on the online target); default: as assessed
        (:data:`pointplan.demand.IN_PERSON_SHARE`, 40.05 %).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from pointplan.staffing.queue import assessment_visits
    >>> a = SimpleNamespace(points=pd.DataFrame({"visits_per_day": [40.05]}, index=["P1"]))
    >>> assessment_visits(a, in_person_share=0.2).round(2).tolist()
    [20.0]
    """
    from pointplan.demand import IN_PERSON_SHARE

    cols = {"nearest": "visits_per_day", "huff": "visits_per_day_huff"}
    if allocation not in cols:
        msg = f"allocation must be 'nearest' or 'huff', got {allocation!r}."
        raise InputError(msg)
    pts = assessment.points
    if cols[allocation] not in pts.columns:
        msg = f"the assessment's points lack {cols[allocation]!r}: pass the result of pointplan.assess()."
        raise MissingColumnError(msg)
    v = pd.to_numeric(pts[cols[allocation]], errors="coerce").fillna(0.0).astype(float)
    if in_person_share is not None:
        if not 0.0 <= float(in_person_share) <= 1.0:
            msg = f"in_person_share must be between 0 and 1, got {in_person_share!r}."
            raise InputError(msg)
        v = v * float(in_person_share) / IN_PERSON_SHARE
    return v


def assessment_availability(assessment: Any) -> pd.Series:
    """Share of working days each point is open, from the assessment's parameters."""
    av = dict(getattr(assessment, "params", {}).get("availability") or {})
    return assessment.points["kind"].map(lambda k: float(av.get(k, 1.0))).astype(float)


def point_queues(
    assessment: Any,
    counters: pd.Series | Mapping[Any, float] | None = None,
    *,
    allocation: Allocation = "nearest",
    profile: ArrivalProfile | None = None,
    service_minutes: float | Mapping[str, float] = DEFAULT_SERVICE_MINUTES,
    group_shares: Mapping[str, float] | None = None,
    in_person_share: float | None = None,
    zero_counters: ZeroCounters = "raise",
) -> PointQueues:
    """Model the queue at every point of an assessment, hour by hour and at the peak.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment` (its points carry the visits a day).
    counters
        Staffed counters by point id; default the assessment's ``counters_used``.
    allocation
        Which load to queue: ``"nearest"`` point or ``"huff"`` (probabilistic choice).
    profile, service_minutes, group_shares
        See :func:`queue_table`.
    in_person_share
        What-if share of dossiers filed in person (default as assessed, 40.05 %).
    zero_counters
        See :func:`queue_table`.

    Returns
    -------
    PointQueues

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.staffing import point_queues
    >>> q = point_queues(tiny_assessment())
    >>> p1 = q.peak.loc["P1"]
    >>> float(p1["arrivals_per_hour_peak"]), float(p1["utilisation_peak"]), p1["queue_status"]
    (8.64, 1.08, 'overloaded at the peak')
    >>> q4 = point_queues(tiny_assessment(), {"P1": 4})  # with 4 counters
    >>> q4.peak.loc["P1", "queue_status"], round(float(q4.peak.loc["P1", "wait_p90_min_peak"]), 1)
    ('ok', 6.3)
    """
    v = assessment_visits(assessment, allocation=allocation, in_person_share=in_person_share)
    c = assessment.points["counters_used"] if counters is None else counters
    return queue_table(
        v,
        c,
        profile=profile,
        service_minutes=service_minutes,
        group_shares=group_shares,
        availability=assessment_availability(assessment),
        zero_counters=zero_counters,
    )
