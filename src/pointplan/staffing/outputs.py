"""What the staffing analysis adds to the run outputs.

* :func:`points_columns` — the four columns ``points.csv`` gains;
* :func:`summary_figures` — the keys ``summary.json`` gains (``None``, never NaN/Infinity);
* :func:`wait_colour` — the colour class of a P90 wait (used by the map's wait layers);
* :func:`run_plan` — the run's staffing plan, computed once per assessment.

The report's tables on queues live in :mod:`pointplan.report.queues` and the folium layer in
:mod:`pointplan.maps.waits` (a subject never builds what a layer above it shows);
``pointplan.staffing.report_tables`` and ``pointplan.staffing.wait_layer`` still work.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pointplan.staffing.plan import StaffingPlan, staffing_plan

__all__ = [
    "POINT_COLUMNS",
    "SUMMARY_KEYS",
    "points_columns",
    "run_outputs",
    "run_plan",
    "summary_figures",
    "wait_colour",
]

#: Columns ``points.csv`` gains (issue 17).
POINT_COLUMNS: tuple[str, ...] = ("wait_mean_min_peak", "wait_p90_min_peak", "prob_wait_peak", "counters_recommended")

#: Keys ``summary.json`` gains (issue 17), plus ``points_overloaded_at_peak`` (and its
#: shorter name ``points_overloaded_peak``, issue 24).
SUMMARY_KEYS: tuple[str, ...] = (
    "officials_assumed",
    "officials_needed",
    "wait_p90_min_peak_max",
    "points_overloaded_at_peak",
    "points_overloaded_peak",
)

#: The queue status of a point whose counters cannot keep up with its peak-hour visits.
_OVERLOADED = "overloaded at the peak"


def _plan(assessment_or_plan: Any) -> StaffingPlan:
    if isinstance(assessment_or_plan, StaffingPlan):
        return assessment_or_plan
    return staffing_plan(assessment_or_plan)


def points_columns(assessment_or_plan: Any) -> pd.DataFrame:
    """Return the columns ``points.csv`` gains, one row per point (indexed by point id).

    Parameters
    ----------
    assessment_or_plan
        A :class:`pointplan.Assessment` (planned with the defaults) or a
        :class:`~pointplan.staffing.StaffingPlan`.

    Returns
    -------
    pandas.DataFrame
        :data:`POINT_COLUMNS`: waits with the assumed counters (empty where the point is
        overloaded at the peak) and the counters recommended for the target.

    Examples
    --------
    >>> import pandas as pd
    >>> from pointplan.staffing import StaffingPlan, points_columns
    >>> plan = StaffingPlan(pd.DataFrame({"wait_mean_min_peak": [0.5], "wait_p90_min_peak": [0.0],
    ...                                   "prob_wait_peak": [0.1], "counters_recommended": [2]}, index=["P1"]), {})
    >>> points_columns(plan).columns.tolist()
    ['wait_mean_min_peak', 'wait_p90_min_peak', 'prob_wait_peak', 'counters_recommended']
    """
    return _plan(assessment_or_plan).points[list(POINT_COLUMNS)].copy()


def summary_figures(assessment_or_plan: Any) -> dict[str, Any]:
    """Return the keys ``summary.json`` gains (JSON-ready).

    ``wait_p90_min_peak_max`` is the worst P90 wait at the peak among the points that keep
    up; ``points_overloaded_at_peak`` (also ``points_overloaded_peak``) counts the points
    that do not, whose queue grows without end. The wait is ``None`` only when no point keeps
    up (or none has visits), and the count then says why.

    Examples
    --------
    >>> import pandas as pd
    >>> from pointplan.staffing import StaffingPlan, summary_figures
    >>> pts = pd.DataFrame({"queue_status": ["ok", "overloaded at the peak", "ok"],
    ...                     "wait_p90_min_peak": [4.0, float("nan"), 12.5]}, index=["P1", "P2", "P3"])
    >>> summary_figures(StaffingPlan(pts, {"officials_assumed": 6, "officials_needed": 8,
    ...                  "wait_p90_min_peak_max": None, "points_overloaded_at_peak": 1}))
    {'officials_assumed': 6, 'officials_needed': 8, 'wait_p90_min_peak_max': 12.5, 'points_overloaded_at_peak': 1, \
'points_overloaded_peak': 1}
    """
    plan = _plan(assessment_or_plan)
    s = plan.summary
    out = {k: s.get(k) for k in SUMMARY_KEYS}
    out["points_overloaded_peak"] = out["points_overloaded_at_peak"]
    pts = plan.points
    if isinstance(pts, pd.DataFrame) and {"queue_status", "wait_p90_min_peak"} <= set(pts.columns):
        keeps_up = ~pts["queue_status"].eq(_OVERLOADED)
        waits = pd.to_numeric(pts.loc[keeps_up, "wait_p90_min_peak"], errors="coerce")
        out["wait_p90_min_peak_max"] = float(waits.max()) if waits.notna().any() else None
    for k, v in out.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
    return out


def wait_colour(p90_min: float | None, overloaded: bool = False) -> str:
    """Colour of a point on the wait layer: green ≤ 5 min, amber ≤ 15, red > 15, dark red overloaded.

    Examples
    --------
    >>> from pointplan.staffing import wait_colour
    >>> wait_colour(3.0), wait_colour(20.0), wait_colour(None, overloaded=True)
    ('#1a9850', '#d73027', '#67000d')
    """
    if overloaded or p90_min is None or not math.isfinite(p90_min):
        return "#67000d"
    if p90_min <= 5.0:
        return "#1a9850"
    if p90_min <= 15.0:
        return "#fdae61"
    return "#d73027"


def run_outputs(assessment: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the ``points.csv`` columns and ``summary.json`` keys for :func:`pointplan.run`.

    Uses the defaults (target P90 ≤ 15 minutes at the peak, Plan 322's bounds). A point with
    visits but no counter is reported as overloaded; inputs the queue model cannot use (e.g.
    fractional counters) leave the columns empty and the keys ``None`` with a logged warning,
    so the rest of the run still gets written.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> cols, keys = run_outputs(tiny_assessment())
    >>> int(cols.loc["P1", "counters_recommended"]), keys["officials_needed"], keys["wait_p90_min_peak_max"]
    (4, 4, None)
    """
    import logging

    from pointplan._errors import InputError

    try:
        plan = run_plan(assessment)
    except InputError as exc:
        logging.getLogger(__name__).warning("queues and staffing not computed: %s", exc)
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in POINT_COLUMNS}, index=assessment.points.index)
        return empty, dict.fromkeys(SUMMARY_KEYS)
    return points_columns(plan), summary_figures(plan)


def run_plan(assessment: Any) -> StaffingPlan:
    """Return the run's staffing plan (the defaults; a point with visits but no counter is overloaded).

    It is planned once per assessment and kept in ``assessment.derived["staffing_plan"]``:
    ``points.csv``, ``summary.json``, the report and the map's wait layer all read it.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> run_plan(a) is run_plan(a), int(run_plan(a).points.loc["P1", "counters_recommended"])
    (True, 4)
    """
    derived = getattr(assessment, "derived", None)
    if isinstance(derived, dict) and isinstance(derived.get("staffing_plan"), StaffingPlan):
        return derived["staffing_plan"]
    plan = staffing_plan(assessment, zero_counters="overloaded")
    if isinstance(derived, dict):
        derived["staffing_plan"] = plan
    return plan
