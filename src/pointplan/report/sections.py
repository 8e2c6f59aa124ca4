"""Report sections on what a run adds: uncertainty, queues and staff, bus access, time to service.

Each function returns :class:`~pointplan.report.blocks.Section` objects (or table cells) that
:func:`~pointplan.report.content.build_document` places in the report; every format (HTML,
Word, Markdown) lays them out the same way.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from pointplan.report.blocks import Section, Table, frame_table
from pointplan.report.labels import column_info, column_label, format_value, text

__all__ = [
    "HEADLINE_INTERVALS",
    "bus_section",
    "headline_interval",
    "queues_section",
    "time_to_service_section",
    "uncertainty_section",
]

#: Summary rows of the report and the ``summary.json`` metric whose interval they show.
HEADLINE_INTERVALS: dict[str, str] = {
    "within_standard": "population_within_standard_share",
    "walk_within": "walk_within_minutes_share",
    "mean_minutes": "mean_minutes_to_nearest",
    "p90_minutes": "p90_minutes_to_nearest",
    "overloaded": "points_overloaded",
}

_WORDS_VI = {"overloaded at the peak": "quá tải lúc cao điểm", "no demand": "không có người", "ok": "không quá tải"}

#: Vietnamese of the "known / assumed" table's English text (pattern -> replacement); text
#: that matches none stays as the library wrote it.
_KNOWN_VI: tuple[tuple[str, str], ...] = (
    (r"^Unit population \(official 2025 figures\)$", "Dân số đơn vị (số liệu chính thức 2025)"),
    (r"^Where people live within a unit$", "Nơi người dân sống trong đơn vị"),
    (r"^Point locations \((\d+) of (\d+) exact\)$", r"Vị trí điểm (\1/\2 chính xác)"),
    (r"^Travel times$", "Thời gian đi"),
    (r"^Counters \((\d+) of (\d+) given\)$", r"Số quầy (\1/\2 đã biết)"),
    (r"^In-person share of dossiers$", "Tỷ lệ hồ sơ nộp trực tiếp"),
    (r"^Resolution 1656 scheme, ", "Đề án theo Nghị quyết 1656, "),
    (r"^WorldPop 2020 1 km, rescaled to official totals$", "WorldPop 2020 1 km, hiệu chỉnh theo tổng chính thức"),
    (r"^(\d+) stand-ins, (\d+) of unknown precision$", r"\1 vị trí thay thế, \2 không rõ độ chính xác"),
    (r"^Plan 322: 2–5 officials move into each point$", "Kế hoạch 322: 2–5 cán bộ về mỗi điểm"),
    (r"^about 40 % today; target ≥ 60 % online$", "khoảng 40 % hiện nay; mục tiêu ≥ 60 % trực tuyến"),
    (
        r"^populated places of the unit \(street ±(\S+) m, centre ±(\S+) m\)$",
        r"các khu dân cư của đơn vị (gần phố ±\1 m, gần trung tâm ±\2 m)",
    ),
    (r"^log-error σ = (\S+) per unit$", r"sai số log σ = \1 mỗi đơn vị"),
    (r"^(\d+)–(\d+) where assumed$", r"\1–\2 ở những điểm giả định"),
    (r"\(mode (\S+)\)$", r"(thường gặp \1)"),
)


def _known_vi(value: object) -> object:
    """Return the Vietnamese of a cell of the known / assumed table (unchanged when unknown).

    Examples
    --------
    >>> _known_vi("Point locations (0 of 131 exact)"), _known_vi("30%–50% (mode 40%)")
    ('Vị trí điểm (0/131 chính xác)', '30%–50% (thường gặp 40%)')
    """
    if not isinstance(value, str):
        return value
    for pattern, repl in _KNOWN_VI:
        value = re.sub(pattern, repl, value)
    return value


def _kind(metric: str) -> str:
    kind = column_info(metric, "metric")["format"]
    return "num1" if kind == "int" else kind


def headline_interval(assessment: Any, row: str, lang: str) -> str:
    """Return the P5–P95 text of a summary row (``""`` without uncertainty or interval).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> a = SimpleNamespace(uncertainty=SimpleNamespace(
    ...     intervals={"mean_minutes_to_nearest": [5.36, 5.55, 5.73]}))
    >>> headline_interval(a, "mean_minutes", "vi"), headline_interval(a, "p90_minutes", "vi")
    ('5,4 – 5,7', '')
    """
    unc = getattr(assessment, "uncertainty", None)
    metric = HEADLINE_INTERVALS.get(row)
    if unc is None or metric is None or metric not in unc.intervals:
        return ""
    p5, _, p95 = unc.intervals[metric]
    kind = _kind(metric)
    return f"{format_value(p5, kind, lang)} – {format_value(p95, kind, lang)}"


def _known_table(assessment: Any, lang: str) -> Table:
    from pointplan.uncertainty import known_and_assumed

    table = known_and_assumed(assessment, assessment.uncertainty)
    table["status"] = table["status"].map(lambda v: text(v, lang) if v in ("known", "assumed") else v)
    if lang == "vi":
        table = table.map(_known_vi)
    t = frame_table(table, lang, "known")
    return Table(t.headers, t.rows, t.numeric, title=text("known_assumed", lang))


def _sensitivity_table(sens: pd.DataFrame, lang: str) -> Table:
    names = [c for c in sens.columns if c != "most_sensitive_to"]
    headers = tuple(column_label(c, lang, "sensitivity") for c in ("metric_label", *names, "most_sensitive_to"))
    rows = []
    for metric, r in sens.iterrows():
        kind = _kind(str(metric))
        cells = [format_value(r[c], kind, lang) for c in names]
        most = str(r["most_sensitive_to"])
        most_txt = text("none", lang) if most == "none" else text(f"assumption.{most}", lang)
        rows.append((column_label(str(metric), lang, "metric"), *cells, most_txt))
    numeric = (False, *([True] * len(names)), False)
    return Table(headers, tuple(rows), numeric, title=text("sensitivity", lang))


def uncertainty_section(assessment: Any, lang: str) -> Section | None:
    """Return the "known / assumed" section, or ``None`` when ``assessment.uncertainty`` is not set.

    The known / assumed table (:func:`pointplan.uncertainty.known_and_assumed`) and the
    sensitivity table (which assumption moves each figure most).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> uncertainty_section(demo_assessment(), "en") is None
    True
    """
    unc = getattr(assessment, "uncertainty", None)
    if unc is None:
        return None
    section = Section("uncertainty", text("uncertainty", lang))
    section.blocks.append(text("uncertainty_text", lang, n=unc.n_draws, seed=unc.seed))
    section.blocks.append(_known_table(assessment, lang))
    if isinstance(unc.sensitivity, pd.DataFrame) and not unc.sensitivity.empty:
        section.blocks.append(_sensitivity_table(unc.sensitivity, lang))
    return section


def _plain_table(df: pd.DataFrame, lang: str, title: str) -> Table:
    """Return a table whose headers are already labels (staffing's report tables): numbers formatted."""
    rows = []
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    for row in df.itertuples(index=False):
        cells = []
        for v, is_num in zip(row, numeric, strict=True):
            if is_num:
                whole = pd.notna(v) and float(v).is_integer()
                cells.append(format_value(v, "int" if whole else "num1", lang))
            else:
                cells.append(_WORDS_VI.get(str(v), str(v)) if lang == "vi" else str(v))
        rows.append(tuple(cells))
    return Table(tuple(str(c) for c in df.columns), tuple(rows), tuple(numeric), title=title)


def _city_table(city: pd.DataFrame, lang: str) -> Table:
    rows = []
    for label, value in city.itertuples(index=False):
        whole = pd.notna(value) and float(value).is_integer()
        rows.append((str(label), format_value(value, "int" if whole else "num1", lang)))
    headers = (text("item", lang), text("value", lang))
    return Table(headers, tuple(rows), (False, True), title=text("queues_city", lang))


def queues_section(assessment: Any, lang: str) -> Section | None:
    """Return the "queues and staff" section (:func:`pointplan.report.queues.staffing_tables`).

    City totals (officials assumed, needed, recommended; the largest P90 wait at the peak),
    the points with the longest waits, and the online what-if. ``None`` when the queue
    model cannot run on these inputs (a warning is logged).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> s = queues_section(demo_assessment(), "en")
    >>> s.title, [b.title for b in s.blocks[1:3]]
    ('Queues and staff', ['City totals', 'Longest waits at the peak'])
    """
    import logging

    from pointplan._errors import PointplanError
    from pointplan.report.queues import staffing_tables

    try:
        tables = staffing_tables(assessment, lang=lang)
    except (PointplanError, ValueError) as exc:
        logging.getLogger(__name__).warning("queue section left out: %s", exc)
        return None
    section = Section("queues", text("queues", lang), [text("queues_text", lang)])
    section.blocks.append(_city_table(tables["city"], lang))
    section.blocks.append(_plain_table(tables["points"], lang, text("queues_points", lang)))
    if "online" in tables:
        t = frame_table(tables["online"], lang, "online")
        section.blocks.append(Table(t.headers, t.rows, t.numeric, title=text("queues_online", lang)))
    return section


def bus_section(assessment: Any, lang: str, *, top: int = 10) -> Section | None:
    """Return the "bus access" section: city share near a stop, lowest units, points without a stop.

    ``None`` when the bus figures could not be computed (see
    :func:`pointplan.report.run_tables.bus_context`).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> s = bus_section(demo_assessment(), "en")  # the tiny city lies in central Hanoi
    >>> s.title, s.blocks[0][:38]
    ('Bus access', '90.0 % of the people live within 400 m')
    """
    from pointplan.report.run_tables import bus_context, bus_population_share_near

    ctx = bus_context(assessment)
    if ctx.network is None:
        return None
    share = format_value(bus_population_share_near(assessment), "pct", lang)
    section = Section("bus", text("bus", lang), [text("bus_text", lang, share=share, walk=ctx.walk_m)])
    units = assessment.units
    table = pd.DataFrame(
        {"code": units.index.astype(str), "full_name": units.get("full_name", units.index.astype(str))}
    ).reset_index(drop=True)
    table["population"] = units["population"].to_numpy()
    for col in ("bus_access", "bus_stops", "bus_pop_share_near"):
        table[col] = table["code"].map(ctx.units[col]).to_numpy()
    table = table.sort_values(["bus_access", "bus_pop_share_near"], na_position="first").head(top)
    t = frame_table(table, lang, "units")
    section.blocks.append(Table(t.headers, t.rows, t.numeric, title=text("bus_lowest", lang)))
    f = ctx.findings
    if len(f):
        pts = assessment.points
        names = pts.set_index("point_id")["name"] if "point_id" in pts else pts["name"]
        rows = pd.DataFrame(
            {
                "point_id": f["point_id"].astype(str).to_numpy(),
                "name": f["point_id"].map(names).to_numpy(),
                "unit_code": f["unit_code"].to_numpy(),
                "nearest_bus_stop_m": f["nearest_bus_stop_m"].to_numpy(),
            }
        ).sort_values("nearest_bus_stop_m", ascending=False)
        t = frame_table(rows, lang, "points", limit=top)
        title = text("bus_no_stop", lang, n=len(rows), walk=ctx.walk_m)
        section.blocks.append(Table(t.headers, t.rows, t.numeric, t.note, title=title))
    else:
        section.blocks.append(text("bus_all_near", lang, walk=ctx.walk_m))
    return section


def time_to_service_section(assessment: Any, lang: str, *, top: int = 10) -> Section | None:
    """Return the "time to service (travel + wait)" section: the units waiting and travelling longest.

    From :func:`pointplan.staffing.time_to_service`; ``None`` when it cannot be computed.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> s = time_to_service_section(demo_assessment(), "en")
    >>> s.title
    'Time to service (travel + wait)'
    """
    import logging

    from pointplan._errors import PointplanError
    from pointplan.staffing import time_to_service

    try:
        tts = time_to_service(assessment)
    except (PointplanError, ValueError, KeyError) as exc:
        logging.getLogger(__name__).warning("time to service left out: %s", exc)
        return None
    tts.index = tts.index.astype(str)
    units = assessment.units
    names = pd.Series(units.get("full_name", units.index.astype(str)).to_numpy(), index=units.index.astype(str))
    table = tts.reset_index(names="code")
    table.insert(1, "full_name", table["code"].map(names).to_numpy())
    overloaded = int(np.isnan(table["time_to_service_minutes"].to_numpy(dtype=float)).sum())
    cols = ["code", "full_name", "travel_minutes", "wait_minutes", "time_to_service_minutes"]
    table = table.sort_values("time_to_service_minutes", ascending=False, na_position="first")[cols].head(top)
    t = frame_table(table, lang, "units")
    section = Section("time_to_service", text("tts", lang), [text("tts_text", lang, n=overloaded)])
    section.blocks.append(Table(t.headers, t.rows, t.numeric, title=text("tts_top", lang)))
    return section
