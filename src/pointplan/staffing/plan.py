"""Staffing plans for a scenario: officials needed against assumed, and the online what-if."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from pointplan._errors import InputError
from pointplan.staffing.allocate import (
    TARGET_P90_MIN,
    allocate_counters,
    counter_bounds,
    counters_for_target,
)
from pointplan.staffing.profiles import DEFAULT_SERVICE_MINUTES, ArrivalProfile, default_profile, mean_service_minutes
from pointplan.staffing.queue import (
    Allocation,
    ZeroCounters,
    arrival_matrix,
    assessment_availability,
    assessment_visits,
    peak_and_waiting,
)

__all__ = ["DEFAULT_IN_PERSON_SHARES", "StaffingPlan", "WhatIf", "online_whatif", "staffing_plan"]

#: In-person shares of the online what-if: 40 % now (40.05 %, Sep 2025), 30 %, 20 %.
DEFAULT_IN_PERSON_SHARES: tuple[float, ...] = (0.40, 0.30, 0.20)

#: Columns of :attr:`StaffingPlan.points`.
PLAN_COLUMNS: tuple[str, ...] = (
    "name",
    "kind",
    "unit_code",
    "visits_per_day",
    "arrivals_per_hour_peak",
    "counters_assumed",
    "utilisation_peak",
    "prob_wait_peak",
    "wait_mean_min_peak",
    "wait_p90_min_peak",
    "queue_status",
    "counters_min",
    "counters_max",
    "counters_needed",
    "target_met_within_max",
    "counters_recommended",
    "wait_mean_min_peak_recommended",
    "wait_p90_min_peak_recommended",
    "queue_status_recommended",
)


def _none_if_nan(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


@dataclass
class StaffingPlan:
    """Result of :func:`staffing_plan`.

    Attributes
    ----------
    points
        One row per point (indexed by point id), see :data:`PLAN_COLUMNS`: the queue at the
        peak with the assumed counters, the counters needed for the target, the recommended
        counters and the queue with them. ``NaN`` waits mean "overloaded at the peak".
    summary
        City-wide figures, JSON-ready (``None`` for figures that do not exist, e.g. the
        largest wait when a point is overloaded): ``officials_assumed``,
        ``officials_needed``, ``officials_recommended``, ``wait_p90_min_peak_max``...
    params
        The assumptions used (service minutes, target, profile, allocation, share).

    Examples
    --------
    The synthetic city's one point P1 (2 counters, 40 visits a day) is overloaded at the
    peak; 4 counters bring its P90 wait under the 15-minute target:

    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.staffing import staffing_plan
    >>> plan = staffing_plan(tiny_assessment())
    >>> p1 = plan.points.loc["P1"]
    >>> int(p1["counters_assumed"]), p1["queue_status"], int(p1["counters_recommended"])
    (2, 'overloaded at the peak', 4)
    >>> plan.summary["officials_needed"], round(plan.summary["wait_p90_min_peak_max_recommended"], 1)
    (4, 6.3)
    >>> plan.params["service_minutes"], plan.params["target_p90_min"]
    (15.0, 15.0)
    """

    points: pd.DataFrame
    summary: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)


def _recommend(
    lam: np.ndarray,
    needed: np.ndarray,
    bounds: pd.DataFrame,
    officials: int | None,
    objective: str,
    minutes: float,
) -> tuple[np.ndarray, dict[str, Any]]:
    lo = bounds["counters_min"].to_numpy(dtype=np.int64)
    hi = bounds["counters_max"].to_numpy(dtype=np.int64)
    capped = np.clip(needed, lo, hi)
    if officials is None:
        return capped, {"phase": "target"}
    if objective == "target" and capped.sum() <= officials:
        if officials > hi.sum():
            allocate_counters(lam, officials, service_minutes=minutes, minimum=lo, maximum=hi)  # raises
        return capped, {"phase": "target"}
    return allocate_counters(lam, officials, service_minutes=minutes, minimum=lo, maximum=hi)


def _queue_options(
    assessment: Any,
    profile: ArrivalProfile | None,
    service_minutes: float | Mapping[str, float],
    group_shares: Mapping[str, float] | None,
    zero_counters: ZeroCounters,
) -> dict[str, Any]:
    """Return the options :func:`queue_table` gets: profile, mean service minutes, availability."""
    return {
        "profile": profile or default_profile(),
        "service_minutes": mean_service_minutes(service_minutes, group_shares),
        "availability": assessment_availability(assessment),
        "zero_counters": zero_counters,
    }


def _plan_params(
    minutes: float, target_p90_min: float, prof: ArrivalProfile, allocation: str, in_person_share: float | None
) -> dict[str, Any]:
    """Return the plan's ``params`` (what it assumed), without the objective."""
    return {
        "service_minutes": minutes,
        "target_p90_min": float(target_p90_min),
        "profile_source": prof.source,
        "peak_factor": prof.peak_factor,
        "allocation": allocation,
        "in_person_share": in_person_share,
    }


def _plan_table(
    pts: pd.DataFrame,
    v: pd.Series,
    now: pd.DataFrame,
    assumed: pd.Series,
    b: pd.DataFrame,
    needed: np.ndarray,
    rec: np.ndarray,
    after: pd.DataFrame,
) -> pd.DataFrame:
    """Return the plan table (:data:`PLAN_COLUMNS`): queues now, counters needed, recommended, after."""
    table = pd.DataFrame(index=pts.index)
    for col in ("name", "kind", "unit_code"):
        table[col] = pts.get(col, None)
    table["visits_per_day"] = v
    for col in ("arrivals_per_hour_peak", "utilisation_peak", "prob_wait_peak", "wait_mean_min_peak"):
        table[col] = now[col]
    table["counters_assumed"] = assumed
    table["wait_p90_min_peak"] = now["wait_p90_min_peak"]
    table["queue_status"] = now["queue_status"]
    table = table.join(b)
    table["counters_needed"] = needed
    table["target_met_within_max"] = needed <= b["counters_max"].to_numpy()
    table["counters_recommended"] = rec
    table["wait_mean_min_peak_recommended"] = after["wait_mean_min_peak"]
    table["wait_p90_min_peak_recommended"] = after["wait_p90_min_peak"]
    table["queue_status_recommended"] = after["queue_status"]
    return table[list(PLAN_COLUMNS)]


def staffing_plan(
    assessment: Any,
    officials: int | None = None,
    *,
    objective: Literal["wait", "target"] = "wait",
    target_p90_min: float = TARGET_P90_MIN,
    bounds: Mapping[str, tuple[int, int]] | None = None,
    allocation: Allocation = "nearest",
    profile: ArrivalProfile | None = None,
    service_minutes: float | Mapping[str, float] = DEFAULT_SERVICE_MINUTES,
    group_shares: Mapping[str, float] | None = None,
    in_person_share: float | None = None,
    zero_counters: ZeroCounters = "raise",
) -> StaffingPlan:
    """Queue at each point, officials needed against assumed, and where to put them.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment` (its points' visits a day and ``counters_used``,
        the counters assumed today).
    officials
        Officials to place city-wide (one per counter). ``None``: recommend, per point, the
        counters the target needs within the bounds.
    objective
        With ``officials``: ``"wait"`` places them all to minimise the week's total waiting
        (greedy marginal allocation, exact for this convex problem); ``"target"`` gives each
        point what the target needs, the rest spare (``"wait"`` if the officials are too few).
    target_p90_min
        Target on the 90th percentile of the wait at the peak, minutes (15).
    bounds
        ``{kind: (min, max)}`` counters per point (default
        :data:`~pointplan.staffing.DEFAULT_COUNTER_BOUNDS`, Plan 322's 2–5 for ward points).
    allocation
        ``"nearest"`` or ``"huff"``: which of the assessment's loads is queued.
    profile, service_minutes, group_shares
        Arrival profile and service time (see :func:`~pointplan.staffing.queue_table`).
    in_person_share
        What-if share of dossiers filed in person (default as assessed).
    zero_counters
        A point with visits but no counter: ``"raise"`` (default) or ``"overloaded"``.

    Returns
    -------
    StaffingPlan

    Examples
    --------
    The synthetic city's one point (2 counters, 40 visits a day) needs 4 counters; with a
    budget of 3 officials the plan places all 3 and the point stays over the target:

    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.staffing import staffing_plan
    >>> plan = staffing_plan(tiny_assessment())
    >>> plan.summary["officials_assumed"], plan.summary["officials_needed"]
    (2, 4)
    >>> budget = staffing_plan(tiny_assessment(), 3)
    >>> budget.summary["officials_recommended"], budget.summary["officials_spare"]
    (3, 0)
    """
    if objective not in ("wait", "target"):
        msg = f"objective must be 'wait' or 'target', got {objective!r}."
        raise InputError(msg)
    pts = assessment.points
    v = assessment_visits(assessment, allocation=allocation, in_person_share=in_person_share)
    kw = _queue_options(assessment, profile, service_minutes, group_shares, zero_counters)
    prof, minutes, avail = kw["profile"], kw["service_minutes"], kw["availability"]
    assumed = pd.to_numeric(pts["counters_used"], errors="coerce").fillna(0.0)
    now, wait_now = peak_and_waiting(v, assumed, **kw)
    assumed = assumed.astype(int)  # whole numbers: checked by queue_table
    b = counter_bounds(pts, bounds)
    lam = arrival_matrix(v, prof, avail)
    needed = counters_for_target(lam, minutes, target_p90_min=target_p90_min, minimum=b["counters_min"].to_numpy())
    rec, info = _recommend(lam, needed, b, officials, objective, minutes)
    after, wait_rec = peak_and_waiting(v, pd.Series(rec, index=v.index), **kw)
    table = _plan_table(pts, v, now, assumed, b, needed, rec, after)
    params = _plan_params(minutes, target_p90_min, prof, allocation, in_person_share)
    params["objective"] = objective if officials is not None else "target"
    summary = _summary(table, (float(wait_now.sum()), float(wait_rec.sum())), officials, info, params)
    return StaffingPlan(points=table, summary=summary, params=params)


def _summary(
    t: pd.DataFrame,
    waiting: tuple[float, float],
    officials: int | None,
    info: Mapping[str, Any],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """City-wide figures of a plan (JSON-ready: ``None`` instead of NaN or infinity).

    ``waiting``: the week's person-minutes waiting with the counters assumed and recommended.
    """
    over_now = t["queue_status"].eq("overloaded at the peak")
    over_rec = t["queue_status_recommended"].eq("overloaded at the peak")
    w_now, w_rec = waiting
    return {
        "officials_assumed": int(t["counters_assumed"].sum()),
        "officials_needed": int(t["counters_needed"].sum()),
        "officials_recommended": int(t["counters_recommended"].sum()),
        "officials_budget": None if officials is None else int(officials),
        "officials_spare": None if officials is None else int(officials - t["counters_recommended"].sum()),
        "wait_p90_min_peak_max": None if over_now.any() else _none_if_nan(t["wait_p90_min_peak"].max()),
        "wait_p90_min_peak_max_recommended": (
            None if over_rec.any() else _none_if_nan(t["wait_p90_min_peak_recommended"].max())
        ),
        "points_overloaded_at_peak": int(over_now.sum()),
        "points_overloaded_at_peak_recommended": int(over_rec.sum()),
        "points_target_unmet_within_max": int((~t["target_met_within_max"]).sum()),
        "points_needing_more_than_assumed": int((t["counters_needed"] > t["counters_assumed"]).sum()),
        "person_minutes_waiting_week": _none_if_nan(w_now),
        "person_minutes_waiting_week_recommended": _none_if_nan(w_rec),
        "allocation_phase": str(info.get("phase")),
        **{k: v for k, v in params.items() if k != "peak_factor"},
    }


@dataclass
class WhatIf:
    """Result of :func:`online_whatif`.

    Attributes
    ----------
    points
        One row per point and in-person share: ``in_person_share``, ``point_id``, visits,
        the queue at the peak with the assumed counters, ``counters_needed`` and
        ``officials_freed`` (needed at the current share − needed at this share).
    totals
        One row per in-person share: officials assumed, needed, freed, spare (assumed −
        needed), the largest P90 wait at the peak (``NaN`` if a point is overloaded) and the
        number of points overloaded at the peak.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.staffing import online_whatif
    >>> w = online_whatif(tiny_assessment(), [0.4, 0.3, 0.2])
    >>> w.totals[["officials_needed", "officials_freed"]].astype(int).values.tolist()
    [[4, 0], [3, 1], [3, 1]]
    >>> w.points[["in_person_share", "point_id", "counters_needed"]].values.tolist()
    [[0.4, 'P1', 4], [0.3, 'P1', 3], [0.2, 'P1', 3]]
    """

    points: pd.DataFrame
    totals: pd.DataFrame


def online_whatif(
    assessment: Any,
    in_person_shares: Sequence[float] = DEFAULT_IN_PERSON_SHARES,
    **kwargs: Any,
) -> WhatIf:
    """Compare the queues and the officials needed as dossiers move online.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment`.
    in_person_shares
        Shares of dossiers filed in person to compare (40 % now, 30 %, 20 %).
    **kwargs
        Passed to :func:`staffing_plan` (``target_p90_min``, ``bounds``, ``service_minutes``...).

    Returns
    -------
    WhatIf
        Freed officials are counted against the officials needed at today's share
        (:data:`pointplan.demand.IN_PERSON_SHARE`).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.staffing import online_whatif
    >>> w = online_whatif(tiny_assessment())  # in person 40 %, 30 %, 20 %
    >>> w.totals["officials_freed"].astype(int).tolist()
    [0, 1, 1]
    """
    from pointplan.demand import IN_PERSON_SHARE

    if "officials" in kwargs or "in_person_share" in kwargs:
        msg = "online_whatif compares needs: do not pass officials or in_person_share (use in_person_shares)."
        raise InputError(msg)
    shares = [float(s) for s in in_person_shares]
    if not shares or any(not 0.0 <= s <= 1.0 for s in shares):
        msg = f"in_person_shares must be shares between 0 and 1, got {list(in_person_shares)!r}."
        raise InputError(msg)
    base = staffing_plan(assessment, in_person_share=IN_PERSON_SHARE, **kwargs).points["counters_needed"]
    frames = []
    totals = []
    for s in shares:
        t = staffing_plan(assessment, in_person_share=s, **kwargs).points
        freed = base - t["counters_needed"]
        over = t["queue_status"].eq("overloaded at the peak")
        frames.append(
            pd.DataFrame(
                {
                    "in_person_share": s,
                    "point_id": t.index,
                    "name": t["name"].to_numpy(),
                    "visits_per_day": t["visits_per_day"].to_numpy(),
                    "counters_assumed": t["counters_assumed"].to_numpy(),
                    "wait_mean_min_peak": t["wait_mean_min_peak"].to_numpy(),
                    "wait_p90_min_peak": t["wait_p90_min_peak"].to_numpy(),
                    "queue_status": t["queue_status"].to_numpy(),
                    "counters_needed": t["counters_needed"].to_numpy(),
                    "officials_freed": freed.to_numpy(),
                }
            )
        )
        totals.append(
            {
                "in_person_share": s,
                "visits_per_day": float(t["visits_per_day"].sum()),
                "officials_assumed": int(t["counters_assumed"].sum()),
                "officials_needed": int(t["counters_needed"].sum()),
                "officials_freed": int(freed.sum()),
                "officials_spare": int((t["counters_assumed"] - t["counters_needed"]).sum()),
                "wait_p90_min_peak_max": math.nan if over.any() else float(t["wait_p90_min_peak"].max()),
                "points_overloaded_at_peak": int(over.sum()),
            }
        )
    return WhatIf(points=pd.concat(frames, ignore_index=True), totals=pd.DataFrame(totals).set_index("in_person_share"))
