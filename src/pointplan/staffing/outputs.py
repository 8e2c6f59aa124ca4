"""What the staffing analysis adds to the run outputs, the report and the map.

* :func:`points_columns` — the four columns ``points.csv`` gains;
* :func:`summary_figures` — the keys ``summary.json`` gains (``None``, never NaN/Infinity);
* :func:`report_tables` — tables for the report section (Vietnamese-first labels);
* :func:`wait_layer` — a folium layer of the points coloured by the P90 wait at the peak.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from pointplan.staffing.plan import StaffingPlan, WhatIf, online_whatif, staffing_plan

__all__ = [
    "POINT_COLUMNS",
    "SUMMARY_KEYS",
    "points_columns",
    "report_tables",
    "run_outputs",
    "summary_figures",
    "wait_colour",
    "wait_layer",
]

#: Columns ``points.csv`` gains (issue 17).
POINT_COLUMNS: tuple[str, ...] = ("wait_mean_min_peak", "wait_p90_min_peak", "prob_wait_peak", "counters_recommended")

#: Keys ``summary.json`` gains (issue 17), plus ``points_overloaded_at_peak``.
SUMMARY_KEYS: tuple[str, ...] = (
    "officials_assumed",
    "officials_needed",
    "wait_p90_min_peak_max",
    "points_overloaded_at_peak",
)


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

    ``wait_p90_min_peak_max`` is ``None`` when a point is overloaded at the peak (then
    ``points_overloaded_at_peak`` counts them).

    Examples
    --------
    >>> from pointplan.staffing import StaffingPlan, summary_figures
    >>> summary_figures(StaffingPlan(None, {"officials_assumed": 3, "officials_needed": 3,
    ...                  "wait_p90_min_peak_max": None, "points_overloaded_at_peak": 1}))
    {'officials_assumed': 3, 'officials_needed': 3, 'wait_p90_min_peak_max': None, 'points_overloaded_at_peak': 1}
    """
    s = _plan(assessment_or_plan).summary
    out = {k: s[k] for k in SUMMARY_KEYS}
    for k, v in out.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
    return out


def report_tables(
    assessment_or_plan: Any, whatif: WhatIf | None = None, *, lang: str = "vi", top: int = 15
) -> dict[str, pd.DataFrame]:
    """Tables for the report section on queues and staff.

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
    >>> from pointplan.staffing import report_tables
    >>> tables = report_tables(tiny_assessment(), lang="en")
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


def wait_layer(assessment: Any, plan: StaffingPlan | None = None, *, lang: str = "vi", show: bool = False) -> Any:
    """Build a folium layer: each point coloured by its P90 wait at the peak, with a popup.

    Parameters
    ----------
    assessment
        The assessment (its points give the positions, EPSG:4326).
    plan
        The staffing plan (default :func:`~pointplan.staffing.staffing_plan` of the assessment).
    lang
        ``"vi"`` or ``"en"``.
    show
        Whether the layer is switched on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        Add it to a map with ``layer.add_to(m)`` before ``folium.LayerControl()``.

    Examples
    --------
    >>> import folium
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.staffing import wait_layer
    >>> layer = wait_layer(tiny_assessment(), lang="en")
    >>> isinstance(layer, folium.FeatureGroup), len(layer._children)  # one marker: P1
    (True, 1)
    >>> _ = layer.add_to(folium.Map(location=[21.03, 105.85]))
    """
    import folium

    p = plan or staffing_plan(assessment)
    vi = lang == "vi"
    name = "Thời gian chờ lúc cao điểm (P90)" if vi else "Waiting at the peak (P90)"
    fg = folium.FeatureGroup(name=name, show=show)
    geo = assessment.points.geometry.to_crs("EPSG:4326")
    for pid, r in p.points.iterrows():
        over = r["queue_status"] == "overloaded at the peak"
        p90 = None if pd.isna(r["wait_p90_min_peak"]) else float(r["wait_p90_min_peak"])
        wait_txt = ("quá tải lúc cao điểm" if vi else "overloaded at the peak") if over else f"{p90:.1f} min"
        label = f"<b>{html.escape(str(r['name']))}</b><br>" + (
            f"P90 chờ: {wait_txt}<br>Quầy: {int(r['counters_assumed'])} → đề xuất {int(r['counters_recommended'])}"
            if vi
            else f"P90 wait: {wait_txt}<br>Counters: {int(r['counters_assumed'])} → recommended "
            f"{int(r['counters_recommended'])}"
        )
        pt = geo.loc[pid]
        folium.CircleMarker(
            location=(pt.y, pt.x),
            radius=4 + min(float(r["visits_per_day"]) / 10.0, 8.0),
            color=wait_colour(p90, over),
            fill=True,
            fill_opacity=0.85,
            weight=1,
            popup=folium.Popup(label, max_width=280),
            tooltip=f"{r['name']}: {wait_txt}",
        ).add_to(fg)
    return fg


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
        plan = staffing_plan(assessment, zero_counters="overloaded")
    except InputError as exc:
        logging.getLogger(__name__).warning("queues and staffing not computed: %s", exc)
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in POINT_COLUMNS}, index=assessment.points.index)
        return empty, dict.fromkeys(SUMMARY_KEYS)
    return points_columns(plan), summary_figures(plan)
