"""Tables, charts and a Markdown report of an assessment (and its proposals).

Everything a planner forwards: ``units.csv`` and ``points.csv`` (UTF-8 with BOM, so Excel
shows Vietnamese correctly), PNG charts and ``report.md``. Labels are Vietnamese first;
``lang="en"`` gives English.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pointplan.io import atomic_path, write_text

__all__ = ["POINT_TABLE_COLUMNS", "UNIT_COLUMNS", "charts", "points_table", "units_table", "write_report"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Columns of ``units.csv`` (in order): code, name, kind, population, points, coverage
#: share, mean / p90 minutes to the nearest point, in-person visits per day, per-counter load.
UNIT_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "full_name",
    "kind",
    "population",
    "points",
    "points_all_kinds",
    "coverage_share",
    "population_beyond_standard",
    "mean_minutes",
    "median_minutes",
    "p90_minutes",
    "max_minutes",
    "share_beyond_15",
    "share_beyond_30",
    "share_beyond_45",
    "own_unit_mean_minutes",
    "walk_within_standard_minutes_share",
    "visits_per_day",
    "counters",
    "visits_per_counter",
    "two_sfca",
    "e2sfca",
    "gini_minutes",
    "nearest_point_precision",
    "travel_time_method",
    "mode",
)

#: Columns of ``points.csv``.
POINT_TABLE_COLUMNS: tuple[str, ...] = (
    "point_id",
    "name",
    "kind",
    "unit_code",
    "declared_unit_code",
    "address",
    "lon",
    "lat",
    "location_precision",
    "counters_used",
    "counters_assumed",
    "population_served",
    "visits_per_day",
    "visits_per_day_huff",
    "capacity_per_day",
    "utilisation",
    "utilisation_huff",
    "load_status",
    "travel_time_method",
    "source",
)

_T = {
    "vi": {
        "title": "Báo cáo mạng lưới điểm Phục vụ hành chính công Hà Nội",
        "summary": "Tóm tắt",
        "rules": "Kiểm tra quy định",
        "coverage": "Độ bao phủ theo chuẩn",
        "access": "Khả năng tiếp cận",
        "equity": "Công bằng giữa phường và xã",
        "left_behind": "Những nơi còn xa điểm phục vụ",
        "load": "Tải của các điểm",
        "proposals": "Đề xuất điểm mới",
        "method": "Phương pháp và độ chính xác",
        "data": "Nguồn dữ liệu",
        "minutes": "phút",
        "cdf_title": "Thời gian tới điểm gần nhất (tỷ lệ dân số tích luỹ)",
        "cdf_x": "Thời gian (phút)",
        "cdf_y": "Tỷ lệ dân số",
        "p90_title": "15 đơn vị có thời gian P90 lớn nhất",
        "util_title": "Mức sử dụng công suất của các điểm",
        "util_x": "Lượt/ngày ÷ công suất",
        "util_y": "Số điểm",
        "gain_title": "Lợi ích của từng điểm đề xuất",
        "phuong": "phường",
        "xa": "xã",
        "city": "toàn thành phố",
        "mode.walk": "đi bộ",
        "mode.bike": "xe đạp",
        "mode.motorbike": "xe máy",
        "mode.car": "ô tô",
    },
    "en": {
        "title": "Hanoi public administrative service points: report",
        "summary": "Summary",
        "rules": "Rule checks",
        "coverage": "Coverage of the standard",
        "access": "Accessibility",
        "equity": "Equity between phường and xã",
        "left_behind": "Who is left behind",
        "load": "Load of the points",
        "proposals": "Proposed new points",
        "method": "Method and precision",
        "data": "Data sources",
        "minutes": "min",
        "cdf_title": "Travel time to the nearest point (cumulative share of people)",
        "cdf_x": "Minutes",
        "cdf_y": "Share of people",
        "p90_title": "15 units with the largest 90th-percentile time",
        "util_title": "Utilisation of the points",
        "util_x": "Visits a day ÷ capacity",
        "util_y": "Points",
        "gain_title": "Gain of each proposed point",
        "phuong": "phường",
        "xa": "xã",
        "city": "city",
        "mode.walk": "walking",
        "mode.bike": "bicycle",
        "mode.motorbike": "motorbike",
        "mode.car": "car",
    },
}


def units_table(assessment: Any) -> pd.DataFrame:
    """Return the per-unit table written to ``units.csv`` (one row per unit)."""
    u = assessment.units
    cov = assessment.coverage
    t = pd.DataFrame(u.drop(columns="geometry")).rename(
        columns={"n_points": "points", "n_points_all": "points_all_kinds"}
    )
    t["code"] = u.index.astype(str)
    walk_col = next((c for c in cov.columns if c.startswith("within_") and c.endswith("_walk")), None)
    t["walk_within_standard_minutes_share"] = cov[walk_col].reindex(u.index) if walk_col else np.nan
    return t.reindex(columns=list(UNIT_COLUMNS)).reset_index(drop=True).round(4)


def points_table(assessment: Any) -> pd.DataFrame:
    """Return the per-point table written to ``points.csv`` (one row per point)."""
    p = assessment.points
    t = pd.DataFrame(p.drop(columns="geometry")).copy()
    t["lon"] = p.geometry.x.round(6)
    t["lat"] = p.geometry.y.round(6)
    for col in POINT_TABLE_COLUMNS:
        if col not in t:
            t[col] = None
    return t[list(POINT_TABLE_COLUMNS)].reset_index(drop=True).round(4)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    _plt().close(fig)
    return path


def charts(assessment: Any, out_dir: str | Path, proposal: Any = None, *, lang: str = "vi") -> dict[str, Path]:
    """Draw the report's PNG charts into ``out_dir``; return their paths by name."""
    plt = _plt()
    tr = _T[lang]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    d = assessment.demand
    kinds = d["unit_code"].map(assessment.units["kind"])

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, sel in (
        (tr["city"], np.ones(len(d), bool)),
        (tr["phuong"], (kinds == "phuong").to_numpy()),
        (tr["xa"], (kinds == "xa").to_numpy()),
    ):
        x = d.loc[sel, "minutes"].to_numpy(dtype=float)
        w = d.loc[sel, "population"].to_numpy(dtype=float)
        ok = np.isfinite(x)
        if not ok.any():
            continue
        order = np.argsort(x[ok])
        ax.plot(x[ok][order], np.cumsum(w[ok][order]) / w.sum(), label=label)
    ax.axvline(assessment.params["max_minutes"], color="grey", ls="--", lw=1)
    ax.set_xlabel(tr["cdf_x"])
    ax.set_ylabel(tr["cdf_y"])
    ax.set_title(f"{tr['cdf_title']} — {tr.get('mode.' + assessment.mode, assessment.mode)}")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend()
    paths["minutes_cdf"] = _save(fig, out / "chart_minutes_cdf.png")

    u = assessment.units.sort_values("p90_minutes", ascending=False).head(15)
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.barh(u["full_name"].astype(str)[::-1], u["p90_minutes"][::-1], color="#c0504d")
    ax.set_xlabel(tr["cdf_x"])
    ax.set_title(tr["p90_title"])
    ax.grid(alpha=0.3, axis="x")
    paths["p90_units"] = _save(fig, out / "chart_p90_units.png")

    p = assessment.points
    util = p["utilisation"].replace([np.inf, -np.inf], np.nan).dropna()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(util, bins=30, color="#4f81bd")
    ax.axvline(1.0, color="red", ls="--", lw=1)
    ax.set_xlabel(tr["util_x"])
    ax.set_ylabel(tr["util_y"])
    ax.set_title(tr["util_title"])
    paths["utilisation"] = _save(fig, out / "chart_utilisation.png")

    if proposal is not None and len(proposal.points):
        pp = proposal.points.sort_values("rank")
        col = "gain_person_minutes_saved" if proposal.objective == "pmedian" else "gain_people_covered"
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.bar(pp["rank"].astype(int), pp[col], color="#9bbb59")
        ax.set_xlabel("#")
        ax.set_ylabel(col)
        ax.set_title(tr["gain_title"])
        paths["proposal_gains"] = _save(fig, out / "chart_proposal_gains.png")
    return paths


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _md_table(df: pd.DataFrame, digits: int = 2) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v, digits).replace("|", "/") for v in row) + " |")
    return "\n".join(lines)


def write_report(
    assessment: Any,
    out_dir: str | Path,
    proposal: Any = None,
    *,
    lang: str = "vi",
    extra_lines: Iterable[str] = (),
) -> Path:
    """Write ``report.md`` and its PNG charts into ``out_dir``.

    Parameters
    ----------
    assessment
        The :class:`pointplan.access.Assessment`.
    out_dir
        Output folder.
    proposal
        A :class:`pointplan.optimize.Proposal` (optional).
    lang
        ``"vi"`` (default) or ``"en"``.
    extra_lines
        More Markdown lines appended to the method section.

    Returns
    -------
    pathlib.Path
        The report's path.
    """
    tr = _T[lang]
    out = Path(out_dir)
    figs = charts(assessment, out, proposal, lang=lang)
    s = assessment.summary
    msg_col = "message" if lang == "vi" else "message_en"
    lines: list[str] = [f"# {tr['title']}", ""]
    lines += [f"## {tr['summary']}", ""]
    rows = [
        ("Đơn vị cấp xã / units", s["units"]),
        ("Điểm phục vụ / points", s["points"]),
        ("Chi nhánh xác định được / branches located", f"{s['branches_located']}/{s['branches_expected']}"),
        ("Dân số / population", s["population"]),
        (
            "Trong chuẩn (30 phút hoặc 5 km) / within the standard",
            f"{100 * s['population_within_standard_share']:.2f} %",
        ),
        (
            "Đi bộ ≤ 30 phút / walking ≤ 30 min",
            f"{100 * s['within_minutes_share_by_mode'].get('walk', float('nan')):.1f} %",
        ),
        ("Thời gian TB tới điểm gần nhất / mean minutes", _fmt(s["mean_minutes_to_nearest"])),
        ("P90 (phút / min)", _fmt(s["p90_minutes_to_nearest"])),
        ("Lượt trực tiếp/ngày / in-person visits a day", _fmt(s["visits_per_day"], 0)),
        ("Điểm quá tải / overloaded points", s["points_overloaded"]),
        ("Phương pháp thời gian / travel-time method", s["travel_time_method"]),
    ]
    lines += ["| | |", "|---|---|", *[f"| {k} | {_fmt(v) if not isinstance(v, str) else v} |" for k, v in rows], ""]
    lines += [f"## {tr['rules']}", ""]
    f = assessment.findings
    if len(f):
        show = f[f["severity"] != "info"].head(40)
        info = f[f["severity"] == "info"]
        lines += [_md_table(show[["severity", "rule", "unit_code", "point_id", msg_col]]) if len(show) else "—", ""]
        lines += [f"- ({r['rule']}) {r[msg_col]}" for _, r in info.iterrows()]
        lines += [""]
    lines += [f"## {tr['coverage']} / {tr['access']}", "", f"![]({figs['minutes_cdf'].name})", ""]
    lines += [f"### {tr['equity']}", "", _md_table(assessment.equity.reset_index().round(3), 3), ""]
    lines += [f"## {tr['left_behind']}", "", f"![]({figs['p90_units'].name})", ""]
    worst = assessment.units.sort_values("p90_minutes", ascending=False).head(10)
    lines += [
        _md_table(
            worst[["full_name", "kind", "population", "coverage_share", "mean_minutes", "p90_minutes", "max_minutes"]]
            .reset_index()
            .round(3),
            2,
        ),
        "",
    ]
    lines += [f"## {tr['load']}", "", f"![]({figs['utilisation'].name})", ""]
    top = assessment.points.sort_values("utilisation", ascending=False).head(10)
    lines += [
        _md_table(
            pd.DataFrame(
                top[["name", "kind", "visits_per_day", "capacity_per_day", "utilisation", "load_status"]]
            ).reset_index(names="point_id"),
            2,
        ),
        "",
    ]
    if proposal is not None:
        lines += [f"## {tr['proposals']}", ""]
        ps = proposal.summary
        lines += [
            f"- objective: `{proposal.objective}`, method: `{ps.get('method')}`, status: `{ps.get('status')}`, "
            f"gap: {_fmt(ps.get('gap_pct'), 2)} %",
            f"- mean minutes before → after: {_fmt(ps.get('mean_minutes_before'), 2)} → "
            f"{_fmt(ps.get('mean_minutes_after'), 2)}",
            "",
        ]
        if "proposal_gains" in figs:
            lines += [f"![]({figs['proposal_gains'].name})", ""]
        pp = proposal.points
        from pointplan.optimize import PROPOSAL_COLUMNS

        cols = [c for c in PROPOSAL_COLUMNS[:7] if c in pp]
        lines += [_md_table(pd.DataFrame(pp[cols]), 1), ""]
        ba = getattr(proposal, "before_after", None)
        if isinstance(ba, dict) and "compare" in ba:
            lines += [_md_table(ba["compare"].reset_index().round(4), 4), ""]
    lines += [f"## {tr['method']}", ""]
    lines += [
        f"- Travel mode `{assessment.mode}`, method `{assessment.travel_time_method}`"
        + (
            " (straight-line distance × circuity ÷ speed: no road network was given)."
            if assessment.travel_time_method != "network"
            else " (shortest paths on the road network)."
        ),
        f"- Location precision of the points: {s['location_precision']}. Stand-ins "
        "(`unit_representative_point`, `old_unit_reference`) are not real coordinates.",
        f"- Counters assumed where unknown for {s['counters_assumed']} points "
        f"(defaults {assessment.params['counters_default']}); "
        f"{assessment.params['visits_per_counter']:g} visits per counter a day.",
        f"- Demand: {s['demand_points']:,} points ({s['demand_method']}).",
        *extra_lines,
        "",
        f"## {tr['data']}",
        "",
        "Ranh giới: bản đồ chính thức sapnhap.bando.com.vn qua thanglequoc/vietnamese-provinces-database (MIT); "
        "dân số: WorldPop 2020 (CC-BY-4.0); mạng đường: © OpenStreetMap contributors (ODbL).",
        "",
    ]
    return write_text(out / "report.md", "\n".join(lines))
