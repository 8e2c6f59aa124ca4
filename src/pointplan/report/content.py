"""What the report says, once, for every format (Markdown, HTML, Word).

:func:`build_document` turns an assessment (and a proposal) into a :class:`Document`: a
list of sections holding paragraphs, bullet lists, tables of formatted text, figures (PNG
bytes) and links. Each writer only lays the document out, so the formats cannot drift
apart: the same sections, in the same order, with the same numbers. The blocks themselves
(:class:`Section`, :class:`Table`…) live in :mod:`pointplan.report.blocks` and are re-exported
here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from pointplan._version import __version__
from pointplan.report.blocks import Bullets, Document, Figure, Link, Section, Table, frame_table
from pointplan.report.charts import chart_images
from pointplan.report.labels import check_lang, column_info, column_label, format_value, text
from pointplan.report.sections import (
    bus_section,
    headline_interval,
    queues_section,
    time_to_service_section,
    uncertainty_section,
)
from pointplan.report.study import StudyScope, study_scope

__all__ = [
    "Bullets",
    "Document",
    "Figure",
    "Link",
    "Section",
    "Table",
    "build_document",
    "compare_table",
    "frame_table",
    "standards_lines",
]

#: Rule findings shown in the report (all are in findings.csv and tables.xlsx).
MAX_FINDINGS = 40


#: The key of each row of the summary table (the interval of a row is looked up by it).
_SUMMARY_KEYS = (
    "units",
    "points",
    "branches",
    "population",
    "within_standard",
    "walk_within",
    "mean_minutes",
    "p90_minutes",
    "visits",
    "overloaded",
    "overloaded_peak",
    "method_name",
)


def _peak_overloaded(assessment: Any) -> int | None:
    """Points overloaded at the peak hour (the queue model's count; ``None`` when it cannot run)."""
    from pointplan.staffing.outputs import run_outputs

    return run_outputs(assessment)[1].get("points_overloaded_peak")


def _basis_note(assessment: Any, figures: dict[str, Any], lang: str) -> str:
    """Return the sentence under the summary table: what the figures are (P50 of the draws, or at the stand-ins)."""
    unc = getattr(assessment, "uncertainty", None)
    if figures["figures_basis"] != "monte_carlo_p50" or unc is None:
        return text("basis_standins", lang)
    return text(
        "basis_p50",
        lang,
        n=unc.n_draws,
        within=format_value(figures["population_within_standard_share_at_standins"], "pct", lang),
        mean=format_value(figures["mean_minutes_to_nearest_at_standins"], "minutes", lang),
        p90=format_value(figures["p90_minutes_to_nearest_at_standins"], "minutes", lang),
    )


def _summary(assessment: Any, lang: str, images: dict[str, bytes], map_href: str | None) -> Section:
    from pointplan.uncertainty.central import headline_figures

    s = assessment.summary
    p = assessment.params
    h = headline_figures(s, getattr(assessment, "uncertainty", None))  # the likely values first (issue 24)
    walk = h["walk_within_minutes_share"]
    walk = float("nan") if walk is None else walk
    rows: list[tuple[str, ...]] = [
        (text("units", lang), format_value(s["units"], "int", lang)),
        (text("points", lang), format_value(s["points"], "int", lang)),
        (text("branches", lang), f"{s['branches_located']}/{s['branches_expected']}"),
        (text("population", lang), format_value(s["population"], "int", lang)),
        (
            text("within_standard", lang, minutes=p["max_minutes"], km=p["max_distance_m"] / 1000),
            format_value(h["population_within_standard_share"], "pct", lang),
        ),
        (text("walk_within", lang, minutes=p["max_minutes"]), format_value(walk, "pct", lang)),
        (text("mean_minutes", lang), format_value(h["mean_minutes_to_nearest"], "minutes", lang)),
        (text("p90_minutes", lang), format_value(h["p90_minutes_to_nearest"], "minutes", lang)),
        (text("visits", lang), format_value(s["visits_per_day"], "int", lang)),
        (text("overloaded", lang), format_value(h["points_overloaded"], "int", lang)),
        (text("overloaded_peak", lang), format_value(_peak_overloaded(assessment), "int", lang)),
        (text("method_name", lang), str(s["travel_time_method"])),
    ]
    scope = study_scope(assessment)
    if scope is not None:  # the points that serve the studied units, of the city's
        serving = assessment.points.loc[list(scope.serving)]
        rows[1] = (text("study_points", lang), f"{len(scope.serving)}/{scope.points_total}")
        overloaded = int((serving.get("load_status", pd.Series(dtype=str)) == "overloaded").sum())
        rows[9] = (text("overloaded", lang), format_value(overloaded, "int", lang))
    section = Section("summary", text("summary", lang))
    if scope is not None:
        n, k = len(scope.codes), len(scope.serving)
        section.blocks.append(text("study_line", lang, n=n, k=k, total=scope.points_total))
    headers: tuple[str, ...] = (text("item", lang), text("value", lang))
    numeric: tuple[bool, ...] = (False, True)
    if getattr(assessment, "uncertainty", None) is not None:
        rows = [(*r, headline_interval(assessment, k, lang)) for r, k in zip(rows, _SUMMARY_KEYS, strict=True)]
        headers, numeric = (*headers, text("interval", lang)), (*numeric, True)
    section.blocks.append(Table(headers, tuple(rows), numeric))
    section.blocks.append(_basis_note(assessment, h, lang))
    if map_href:
        section.blocks.append(Link(text("map_link", lang), map_href, text("map_link_note", lang)))
    if "overview" in images:
        section.blocks.append(Figure("overview", images["overview"], text("overview_title", lang)))
    return section


def _rules(assessment: Any, lang: str) -> Section:
    section = Section("rules", text("rules", lang))
    f = assessment.findings
    if study_scope(assessment) is not None:  # counted on the study's visitors only: see the load section
        f = f[f["rule"] != "points_idle"]
    msg_col = "message" if lang == "vi" else "message_en"
    shown = f[f["severity"] != "info"]
    if len(shown):
        cols = shown[["severity", "rule", "unit_code", "point_id", msg_col]].rename(columns={msg_col: "message"})
        section.blocks.append(frame_table(cols, lang, "findings", limit=MAX_FINDINGS))
    else:
        section.blocks.append(text("no_findings", lang))
    info = f[f["severity"] == "info"]
    if len(info):
        section.blocks.append(Bullets(tuple(f"({r['rule']}) {r[msg_col]}" for _, r in info.iterrows())))
    return section


def standards_lines(assessment: Any, lang: str) -> list[str]:
    """One line per assessed mode: its standard, its clauses and their figures.

    Examples
    --------
    >>> import types
    >>> a = types.SimpleNamespace(summary={"max_minutes": 30.0, "max_distance_m": 5000.0,
    ...     "population_within_5_km_share": 1.0, "within_minutes_share_by_mode": {"walk": 0.13},
    ...     "coverage_share_by_mode": {"walk": 1.0}})
    >>> standards_lines(a, "en")[0][:60]
    'walking: the standard is 30 min (13.0 % of people, the headl'
    """
    from pointplan.report.standards import standards_by_mode

    lines = []
    for mode, std in standards_by_mode(assessment)["standards_by_mode"].items():
        values = {
            "mode": _mode_name(mode, lang),
            "minutes": std["max_minutes"] or 0.0,
            "km": std["max_distance_km"] or 0.0,
            "share": format_value(std["headline_share"], "pct", lang),
            "tshare": format_value(std["within_minutes_share"], "pct", lang),
            "dist": format_value(std["within_distance_share"], "pct", lang),
        }
        lines.append(text("std_time" if std["rule"] == "time" else "std_either", lang, **values))
    return lines


def _mode_name(mode: str, lang: str) -> str:
    try:
        return text(f"mode.{mode}", lang)
    except KeyError:
        return mode


def _coverage(assessment: Any, lang: str, images: dict[str, bytes]) -> list[Section]:
    title = f"{text('coverage', lang)} / {text('access', lang)}"
    coverage = Section("coverage", title, [Figure("minutes_cdf", images["minutes_cdf"], text("cdf_title", lang))])
    lines = standards_lines(assessment, lang)
    if lines:
        coverage.blocks[:0] = [text("standards", lang), Bullets(tuple(lines))]
    eq = assessment.equity.reset_index()
    eq = eq.rename(columns={eq.columns[0]: "group"}).drop(columns="travel_time_method", errors="ignore")
    equity = Section("equity", text("equity", lang), [frame_table(eq, lang, "equity")], level=3)
    return [coverage, equity]


def _left_behind(assessment: Any, lang: str, images: dict[str, bytes]) -> Section:
    worst = assessment.units.sort_values("p90_minutes", ascending=False).head(10)
    cols = ["full_name", "kind", "population", "coverage_share", "mean_minutes", "p90_minutes", "max_minutes"]
    table = frame_table(pd.DataFrame(worst[cols]).reset_index(names="code"), lang, "units")
    fig = Figure("p90_units", images["p90_units"], text("p90_title", lang))
    return Section("left_behind", text("left_behind", lang), [fig, table])


def _load(assessment: Any, lang: str, images: dict[str, bytes]) -> Section:
    from pointplan.assessment import IDLE_UTILISATION

    scope = study_scope(assessment)
    points = assessment.points if scope is None else assessment.points.loc[list(scope.serving)]
    top = points.sort_values("utilisation", ascending=False).head(10)
    cols = ["name", "visits_per_day", "capacity_per_day", "utilisation", "load_status"]
    table = frame_table(pd.DataFrame(top[cols]).reset_index(names="point_id"), lang, "points")
    fig = Figure("utilisation", images["utilisation"], text("util_title", lang))
    blocks: list[Any] = [fig, table]
    if scope is not None:
        idle = int((points["load_status"] == "idle").sum())
        threshold = format_value(IDLE_UTILISATION, "pct", lang)
        blocks.insert(0, text("load_study", lang, k=len(points), idle=idle, threshold=threshold))
    return Section("load", text("load", lang), blocks)


def compare_table(compare: pd.DataFrame, lang: str) -> Table:
    """Return the before/after comparison as a :class:`Table`, each row in its metric's format.

    Examples
    --------
    >>> cmp = pd.DataFrame({"a": [5.37], "b": [5.19], "change": [-0.18]}, index=["mean_minutes_to_nearest"])
    >>> compare_table(cmp, "en").rows
    (('Mean time (min)', '5.4', '5.2', '-0.2'),)
    """
    rows = []
    for metric, values in compare.iterrows():
        kind = column_info(str(metric), "metric")["format"]
        label = column_label(str(metric), lang, "metric", with_unit=True)
        rows.append((label, *(format_value(v, kind, lang) for v in values.iloc[:3])))
    headers = tuple(column_label(c, lang) for c in ("metric_label", "before", "after", "change"))
    return Table(headers, tuple(rows), (False, True, True, True))


def _proposals(proposal: Any, lang: str, images: dict[str, bytes]) -> Section:
    from pointplan.locate import PROPOSAL_COLUMNS

    ps = proposal.summary
    before_after = (
        f"{format_value(ps.get('mean_minutes_before'), 'num2', lang)} → "
        f"{format_value(ps.get('mean_minutes_after'), 'num2', lang)}"
    )
    section = Section("proposals", text("proposals", lang))
    section.blocks.append(
        Bullets(
            (
                f"{text('objective', lang)}: {proposal.objective}; {text('solver', lang)}: {ps.get('method')}; "
                f"{text('status', lang)}: {ps.get('status')}",
                f"{text('gap', lang)}: {format_value(ps.get('gap_pct'), 'num2', lang)}",
                f"{text('before_after_mean', lang)}: {before_after}",
            )
        )
    )
    if "proposal_gains" in images:
        section.blocks.append(Figure("proposal_gains", images["proposal_gains"], text("gain_title", lang)))
    pp = proposal.points
    cols = [c for c in (*PROPOSAL_COLUMNS[:7], "robustness", "depends_on_guess") if c in pp]
    section.blocks.append(frame_table(pd.DataFrame(pp[cols]), lang, "proposals"))
    if "depends_on_guess" in pp:
        n = int(pp["depends_on_guess"].fillna(False).astype(bool).sum())
        section.blocks.append(text("robust_note", lang, n=n))
    ba = getattr(proposal, "before_after", None)
    if isinstance(ba, dict) and "compare" in ba:
        table = compare_table(ba["compare"], lang)
        section.blocks.append(Table(table.headers, table.rows, table.numeric, title=text("before_after", lang)))
    return section


def _fallback_error_line(s: dict[str, Any], lang: str) -> list[str]:
    """Return the calibrated fallback's held-out error line (empty when the fallback was not used)."""
    med, p90 = s.get("fallback_heldout_abs_pct_error_median"), s.get("fallback_heldout_abs_pct_error_p90")
    if med is None or p90 is None:
        return []
    return [text("m_fallback_error", lang, med=format_value(med, "num1", lang), p90=format_value(p90, "num1", lang))]


def _study_lines(scope: StudyScope | None, lang: str) -> list[str]:
    """Return the method section's list of the studied units (none for the whole city)."""
    return [] if scope is None else [text("m_study", lang, n=len(scope.codes), listing=scope.listing())]


def _precision_lines(assessment: Any, lang: str) -> list[str]:
    """Return a line on the points without a location precision (none when every point has one)."""
    from pointplan.points import unknown_precision_count

    n = unknown_precision_count(assessment.points)
    return [text("m_no_precision", lang, n=n)] if n else []


def _method(assessment: Any, lang: str, extra_lines: Iterable[str]) -> list[Section]:
    s = assessment.summary
    p = assessment.params
    method = str(s.get("travel_time_method", assessment.travel_time_method))
    key = {"network": "m_network", "hybrid": "m_hybrid"}.get(method, "m_crow")
    share = format_value(s.get("network_population_share", 0.0), "pct", lang)
    items = [
        text(key, lang, mode=assessment.mode, method=method, share=share),
        *_fallback_error_line(s, lang),
        text("m_precision", lang, precision=s["location_precision"]),
        text("m_counters", lang, n=s["counters_assumed"], defaults=p["counters_default"], per=p["visits_per_counter"]),
        text("m_demand", lang, n=format_value(s["demand_points"], "int", lang), method=s["demand_method"]),
        *_study_lines(study_scope(assessment), lang),
        *_precision_lines(assessment, lang),
        *(line.removeprefix("- ") for line in extra_lines),
    ]
    return [
        Section("method", text("method", lang), [Bullets(tuple(items))]),
        Section("data", text("data", lang), [text("data_text", lang)], level=3),
    ]


def build_document(
    assessment: Any,
    proposal: Any = None,
    *,
    lang: str = "vi",
    images: dict[str, bytes] | None = None,
    map_href: str | None = "map.html",
    extra_lines: Sequence[str] = (),
    bus: bool = True,
) -> Document:
    """Return the report of ``assessment`` (and ``proposal``) as a :class:`Document`.

    Sections, in order: summary (with the overview map, the link to the interactive map
    and, when ``assessment.uncertainty`` is set, the P5–P95 range beside each headline
    figure), what is known and assumed with the sensitivity table (with uncertainty), rule
    checks, coverage and access, equity between phường and xã, who is left behind, load of
    the points, queues and staff, time to service (travel + wait), bus access, proposals
    with before/after and robustness (when given), method and precision, data sources.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    proposal
        A :class:`pointplan.optimize.Proposal` (optional).
    lang
        ``"vi"`` (default) or ``"en"``.
    images
        Chart PNGs by name (default: drawn by :func:`pointplan.report.chart_images`).
    map_href
        Link to the interactive map (``None``: no link).
    extra_lines
        More lines for the method section.
    bus
        Include the bus access section (reads the 2018 bus network once per assessment,
        :func:`pointplan.report.run_tables.bus_context`).

    Returns
    -------
    Document
        The sections with their blocks.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment, demo_images
    >>> doc = build_document(demo_assessment(), lang="en", images=demo_images("en"))
    >>> [s.key for s in doc.sections]  # doctest: +NORMALIZE_WHITESPACE
    ['summary', 'rules', 'coverage', 'equity', 'left_behind', 'load', 'queues', 'time_to_service', 'bus',
     'method', 'data']
    >>> [s.level for s in doc.sections][-2:]
    [2, 3]
    >>> doc.tables()[0].rows[3]
    ('Population', '400')
    """
    check_lang(lang)
    imgs = chart_images(assessment, proposal, lang=lang) if images is None else images
    sections = [_summary(assessment, lang, imgs, map_href)]
    sections += [s for s in (uncertainty_section(assessment, lang),) if s is not None]
    sections.append(_rules(assessment, lang))
    sections += _coverage(assessment, lang, imgs)
    sections += [_left_behind(assessment, lang, imgs), _load(assessment, lang, imgs)]
    run_parts = (
        queues_section(assessment, lang),
        time_to_service_section(assessment, lang),
        bus_section(assessment, lang) if bus else None,
    )
    sections += [s for s in run_parts if s is not None]
    if proposal is not None:
        sections.append(_proposals(proposal, lang, imgs))
    sections += _method(assessment, lang, extra_lines)
    subtitle = text("generated", lang, version=__version__, scenario=getattr(assessment, "name", ""))
    scope = study_scope(assessment)
    title = text("title", lang) if scope is None else text("title_study", lang, names=scope.label(lang))
    return Document(title, lang, subtitle, sections)
