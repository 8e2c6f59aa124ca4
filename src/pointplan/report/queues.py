"""The report's tables on queues and staff (Vietnamese-first labels).

Built from a :class:`pointplan.staffing.StaffingPlan` and the online what-if; the report's
section (:func:`pointplan.report.sections.queues_section`) lays them out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pointplan.staffing import StaffingPlan, WhatIf, online_whatif, staffing_plan

__all__ = ["staffing_tables"]


def _plan(assessment_or_plan: Any) -> StaffingPlan:
    if isinstance(assessment_or_plan, StaffingPlan):
        return assessment_or_plan
    return staffing_plan(assessment_or_plan)


def staffing_tables(
    assessment_or_plan: Any, whatif: WhatIf | None = None, *, lang: str = "vi", top: int = 15
) -> dict[str, pd.DataFrame]:
    """Tables for the report section on queues and staff.

    Also importable as ``pointplan.staffing.report_tables`` (its old name and home).

    Parameters
    ----------
    assessment_or_plan
        An assessment (planned with the defaults, what-if at 40/30/20 %) or a plan.
    whatif
        The online what-if; computed from the assessment when omitted and possible.
    lang
        ``"vi"`` or ``"en"`` column labels.
    top
        Points listed (longest P90 wait at the peak first; overloaded points on top).

    Returns
    -------
    dict of pandas.DataFrame
        ``"city"`` (officials assumed/needed/recommended, largest P90 wait, overloaded
        points), ``"points"`` (the ``top`` points) and, when available, ``"online"`` (the
        what-if by in-person share).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.report.queues import staffing_tables
    >>> tables = staffing_tables(tiny_assessment(), lang="en")
    >>> sorted(tables), len(tables["points"]), len(tables["online"])
    (['city', 'online', 'points'], 1, 3)
    """
    plan = _plan(assessment_or_plan)
    if whatif is None and not isinstance(assessment_or_plan, StaffingPlan):
        whatif = online_whatif(assessment_or_plan)
    vi = lang == "vi"
    s = plan.summary
    city = pd.DataFrame(
        {
            ("chỉ số" if vi else "metric"): [
                "Cán bộ giả định / officials assumed" if vi else "officials assumed",
                "Cán bộ cần (P90 ≤ mục tiêu) / officials needed" if vi else "officials needed (P90 ≤ target)",
                "Cán bộ đề xuất / officials recommended" if vi else "officials recommended",
                "P90 chờ lớn nhất lúc cao điểm (phút)" if vi else "largest P90 wait at the peak (min)",
                "Điểm quá tải lúc cao điểm" if vi else "points overloaded at the peak",
            ],
            ("giá trị" if vi else "value"): [
                s["officials_assumed"],
                s["officials_needed"],
                s["officials_recommended"],
                s["wait_p90_min_peak_max"],
                s["points_overloaded_at_peak"],
            ],
        }
    )
    t = plan.points.copy()
    t["_over"] = t["queue_status"].ne("ok") & t["queue_status"].ne("no demand")
    t = t.sort_values(["_over", "wait_p90_min_peak"], ascending=False, na_position="first").head(top)
    cols = {
        "name": "Điểm" if vi else "point",
        "visits_per_day": "Lượt/ngày" if vi else "visits a day",
        "arrivals_per_hour_peak": "Lượt/giờ cao điểm" if vi else "arrivals an hour at the peak",
        "counters_assumed": "Quầy hiện có" if vi else "counters assumed",
        "wait_mean_min_peak": "Chờ TB cao điểm (phút)" if vi else "mean wait at peak (min)",
        "wait_p90_min_peak": "Chờ P90 cao điểm (phút)" if vi else "P90 wait at peak (min)",
        "queue_status": "Tình trạng" if vi else "status",
        "counters_needed": "Quầy cần" if vi else "counters needed",
        "counters_recommended": "Quầy đề xuất" if vi else "counters recommended",
    }
    out = {"city": city, "points": t[list(cols)].rename(columns=cols).round(2)}
    if whatif is not None:
        out["online"] = whatif.totals.reset_index().round(2)
    return out
