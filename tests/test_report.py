"""Tests of pointplan.report: tables, the one content model, and the HTML, Word, Excel and
Markdown documents, on the tiny synthetic city whose numbers are worked out by hand.

The tiny city (``pointplan.report._demo``, the same as ``conftest.tiny_city``): units A
(phường, 300 people) and B (xã, 100 people); demand d0, d1 in A at 2.5 min from P1; d2 (60
people) at 15 min and d3 (40 people) at 52.5 min in B. So B's mean time is
(60·15 + 40·52.5)/100 = 30 min, the city's (100·2.5 + 200·2.5 + 60·15 + 40·52.5)/400 =
9.375 min, and 90 % of people are within the standard (d3 is beyond 30 min and 5 km). The
proposal adds one point at d3, so the city's mean falls to (750 + 900 + 0)/400 = 4.125 min.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pandas as pd
import pytest

import browser  # tests/browser.py, the shared headless-browser helper
from pointplan import cli, report
from pointplan._errors import InputError
from pointplan.report import _demo
from pointplan.report.content import Figure, Table, build_document
from pointplan.report.documents import blocked_reason, document_stage, publish_documents
from pointplan.report.labels import format_value

TITLE_VI = "Báo cáo mạng lưới điểm Phục vụ hành chính công Hà Nội"


@pytest.fixture(scope="module")
def city() -> dict[str, Any]:
    """The assessed tiny city, its proposal and its charts (drawn once for the module)."""
    a = _demo.demo_assessment()
    p = _demo.demo_proposal()
    return {"a": a, "p": p, "images": {"vi": _demo.demo_images("vi"), "en": _demo.demo_images("en")}}


@pytest.fixture(scope="module")
def documents(city: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every format written once (Vietnamese, with the proposal)."""
    out = tmp_path_factory.mktemp("docs")
    return report.write_documents(city["a"], out, city["p"], formats="html,docx,xlsx,md", images=city["images"]["vi"])


# ------------------------------------------------------------------ names and tables


def test_old_names_still_import() -> None:
    from pointplan.report import POINT_TABLE_COLUMNS, UNIT_COLUMNS, charts, points_table, units_table, write_report

    assert callable(charts) and callable(write_report) and callable(points_table) and callable(units_table)
    assert UNIT_COLUMNS[:2] == ("code", "name") and POINT_TABLE_COLUMNS[0] == "point_id"
    assert report.write_report is write_report


def test_units_table_hand_worked(city: dict[str, Any]) -> None:
    t = report.units_table(city["a"]).set_index("code")
    assert t.loc["00001", "mean_minutes"] == pytest.approx(2.5)
    assert t.loc["00002", "mean_minutes"] == pytest.approx(30.0)
    assert t.loc["00002", "coverage_share"] == pytest.approx(0.6)
    assert t["population"].tolist() == [300, 100]


@pytest.mark.parametrize(
    ("value", "kind", "lang", "expected"),
    [
        (8_807_523, "int", "vi", "8.807.523"),
        (8_807_523, "int", "en", "8,807,523"),
        (0.585, "pct", "vi", "58,5 %"),
        (1234.56, "num1", "vi", "1.234,6"),
        (9.375, "minutes", "en", "9.4"),
        (float("inf"), "num1", "vi", "–"),
        (pd.NA, "int", "vi", "–"),
        ("Xã B", "text", "vi", "Xã B"),
    ],
)
def test_numbers_read_the_local_way(value: Any, kind: str, lang: str, expected: str) -> None:
    assert format_value(value, kind, lang) == expected


def test_every_table_column_is_explained() -> None:
    d = report.column_dictionary()
    explained = {c for _, c in d.index}
    assert set(report.UNIT_COLUMNS) <= explained
    assert set(report.POINT_TABLE_COLUMNS) <= explained
    assert d["label_vi"].str.len().min() > 0 and d["label_en"].str.len().min() > 0


# ------------------------------------------------------------------ formats chosen


def test_formats_are_parsed_and_unknown_ones_refused() -> None:
    assert report.parse_formats("html, DOCX,html") == ("html", "docx")
    assert report.parse_formats(["md"]) == ("md",)
    assert report.parse_formats(None) == ("html", "xlsx")
    with pytest.raises(InputError, match=r"'pdf', 'odt'.*choose from html, docx, xlsx, md"):
        report.parse_formats("pdf,html,odt")
    with pytest.raises(InputError, match="empty"):
        report.parse_formats(" , ")


def test_cli_unknown_format_is_a_clear_usage_error(tmp_path: Path, capsys, monkeypatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("refused before any computation")

    monkeypatch.setattr("pointplan.data.load_units", boom)
    rc = cli.main(["run", "--out", str(tmp_path / "out"), "--formats", "html,pdf"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Unknown report format 'pdf'" in err and "html, docx, xlsx, md" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ the content model


def test_document_has_the_sections_and_hand_worked_numbers(city: dict[str, Any]) -> None:
    doc = build_document(city["a"], city["p"], lang="vi", images=city["images"]["vi"])
    assert [s.key for s in doc.sections] == [
        "summary",
        "rules",
        "coverage",
        "equity",
        "left_behind",
        "load",
        "queues",
        "time_to_service",
        "bus",
        "proposals",
        "method",
        "data",
    ]
    summary = dict(doc.tables()[0].rows)
    assert summary["Dân số"] == "400"
    assert summary["Trong chuẩn (30 phút hoặc 5 km)"] == "90,0 %"
    assert summary["Thời gian TB tới điểm gần nhất (phút)"] == "9,4"
    compare = next(t for t in doc.tables() if t.headers[0] == "Chỉ tiêu" and t.headers[1] == "Trước")
    rows = {r[0]: r[1:] for r in compare.rows}
    assert rows["Thời gian TB (phút)"] == ("9,4", "4,1", "-5,2")
    assert rows["Tỷ lệ trong chuẩn (%)"] == ("90,0 %", "100,0 %", "10,0 %")
    assert [f.name for f in doc.figures()] == ["overview", "minutes_cdf", "p90_units", "utilisation", "proposal_gains"]


def test_english_document(city: dict[str, Any]) -> None:
    doc = build_document(city["a"], lang="en", images=city["images"]["en"])
    assert doc.title.startswith("Hanoi public administrative service points")
    assert dict(doc.tables()[0].rows)["Mean minutes to the nearest point"] == "9.4"
    assert "proposals" not in [s.key for s in doc.sections]


# ------------------------------------------------------------------ HTML


def test_html_is_self_contained(documents: dict[str, Path], city: dict[str, Any]) -> None:
    page = documents["report.html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page and TITLE_VI in page
    # nothing fetched: no external script, stylesheet, font or image
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == 5
    assert base64.b64decode(embedded[0]) == city["images"]["vi"]["overview"]
    assert 'href="map.html"' in page
    # print styles: A4, page breaks between sections, rows kept whole, page numbers
    assert "size: A4" in page and "break-before: page" in page and "break-inside: avoid" in page
    assert "counter(page)" in page and "counter(pages)" in page
    assert page.count('<section class="part">') == 10  # queues, time to service and bus access (issues 16, 17)


def test_html_escapes_text_from_data(city: dict[str, Any]) -> None:
    doc = build_document(city["a"], lang="vi", images=city["images"]["vi"])
    doc.sections[0].blocks.append("<script>alert(1)</script>")
    from pointplan.report.to_html import render_html

    page = render_html(doc)
    assert "<script>" not in page and "&lt;script&gt;" in page


_BROWSER_SKIP = browser.unavailable_reason()


@pytest.fixture(scope="module")
def chromium() -> browser.Chromium:
    if _BROWSER_SKIP:
        pytest.skip(_BROWSER_SKIP)
    with browser.Chromium() as b:
        yield b


def _pdf_pages(chromium: browser.Chromium, html_file: Path) -> tuple[list[str], Any]:
    """Open the report with the network off, print it to an A4 PDF; return page texts."""
    from pypdf import PdfReader

    page = chromium.open(html_file, settle_s=0.3)
    assert page.blocked == [] and page.errors == [] and page.console == []
    res = chromium.call(
        "Page.printToPDF",
        {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False},
        session=page.session,
    )
    page.close()
    reader = PdfReader(io.BytesIO(base64.b64decode(res["data"])))
    return [p.extract_text() or "" for p in reader.pages], reader


@pytest.mark.browser
@pytest.mark.slow
def test_html_prints_to_a4_with_a_page_per_section(chromium: browser.Chromium, documents: dict[str, Path]) -> None:
    texts, reader = _pdf_pages(chromium, documents["report.html"])
    n = len(texts)
    assert 10 <= n <= 14, n  # 10 sections, each from a new page; none should need more than 2 pages
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    for i, t in enumerate(texts, start=1):
        assert f"Trang {i} / {n}" in t, (i, t[-80:])
    titles = [
        "Tóm tắt",
        "Kiểm tra quy định",
        "Độ bao phủ theo chuẩn",
        "Những nơi còn xa điểm phục vụ",
        "Tải của các điểm",
        "Hàng đợi và cán bộ",
        "Thời gian tới khi được phục vụ (đi + chờ)",
        "Tiếp cận xe buýt",
        "Đề xuất điểm mới",
        "Phương pháp và độ chính xác",
    ]
    first_page = [next(i for i, t in enumerate(texts) if title in t) for title in titles]
    assert first_page == sorted(first_page) and len(set(first_page)) == len(titles)  # a new page each
    assert "8.807.523" not in texts[0] and "400" in texts[0]  # the tiny city, Vietnamese digits
    assert "Nguồn dữ liệu" in texts[-1] or "Nguồn dữ liệu" in texts[-2]


# ------------------------------------------------------------------ Word


def test_docx_has_headings_tables_and_pictures(documents: dict[str, Path], city: dict[str, Any]) -> None:
    d = docx.Document(documents["report.docx"])
    headings = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == ("Title", TITLE_VI)
    doc = build_document(city["a"], city["p"], lang="vi", images=city["images"]["vi"])
    assert headings[1:] == [(f"Heading {s.level - 1}", s.title) for s in doc.sections]
    assert len(d.tables) == len(doc.tables())
    first = d.tables[0]
    assert [c.text for c in first.rows[0].cells] == ["Chỉ tiêu", "Giá trị"]
    assert first.rows[0]._tr.trPr.xpath("./w:tblHeader")  # header row repeats on each page
    assert [c.text for c in first.rows[4].cells] == ["Dân số", "400"]
    assert len(d.inline_shapes) == 5
    pictures = [p for p in d.part.package.parts if p.partname.endswith(".png")]
    assert any(p.blob == city["images"]["vi"]["p90_units"] for p in pictures)
    assert any("Xã B" in c.text for t in d.tables for row in t.rows for c in row.cells)
    section = d.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert "PAGE" in section.footer.paragraphs[0]._p.xml
    assert d.core_properties.language == "vi-VN"
    assert any(r.reltype.endswith("/hyperlink") and r.target_ref == "map.html" for r in d.part.rels.values())


# ------------------------------------------------------------------ Excel


def test_xlsx_sheets_headers_formats_filters(documents: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(documents["tables.xlsx"])
    assert wb.sheetnames == ["Đơn vị", "Điểm", "Đề xuất", "Phát hiện", "Công bằng", "Trước - sau", "Giải thích cột"]
    ws = wb["Đơn vị"]
    headers = [c.value for c in ws[1]]
    # units.csv's columns: bus access (3) and time to service (1) follow the units table's
    assert len(headers) == len(report.UNIT_COLUMNS) + 4 and headers[:2] == ["Mã đơn vị", "Tên"]
    assert headers[-1] == "Thời gian đi + chờ (phút)"
    col = {h: i + 1 for i, h in enumerate(headers)}
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == f"A1:AF{ws.max_row}" and ws.max_row == 3
    pop = ws.cell(2, col["Dân số (người)"])
    assert (pop.value, pop.number_format) == (300, "#,##0")
    share = ws.cell(3, col["Tỷ lệ trong chuẩn (%)"])
    assert (share.value, share.number_format) == (0.6, "0.0%")
    mean = ws.cell(3, col["Thời gian TB (phút)"])
    assert (mean.value, mean.number_format) == (30.0, "0.0")
    assert ws.cell(3, col["Thời gian TB tới điểm của đơn vị (phút)"]).value is None  # NaN -> empty
    pts = wb["Điểm"]
    assert pts.freeze_panes == "B2" and pts.auto_filter.ref
    lon = next(c for c in pts[2] if pts.cell(1, c.column).value == "Kinh độ")
    assert lon.number_format == "0.000000" and lon.value == pytest.approx(105.8276, abs=1e-4)
    cmp = {r[1]: r for r in wb["Trước - sau"].iter_rows(min_row=2, values_only=True)}
    assert cmp["mean_minutes_to_nearest"][2:4] == pytest.approx((9.375, 4.125))
    cmp_cells = {r[1].value: r for r in wb["Trước - sau"].iter_rows(min_row=2)}
    assert cmp_cells["population_within_standard_share"][2].number_format == "0.0%"
    assert cmp_cells["points"][3].number_format == "#,##0"
    props = wb["Đề xuất"]
    assert [c.value for c in props[2]][:2] == [1, "c2"] and props.freeze_panes == "A2"


def test_xlsx_explains_every_column(documents: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(documents["tables.xlsx"])
    rows = list(wb["Giải thích cột"].iter_rows(min_row=2, values_only=True))
    for name in wb.sheetnames[:-1]:
        headers = [c.value for c in wb[name][1]]
        assert [r[1] for r in rows if r[0] == name] == headers, name
    by_name = {(r[0], r[2]): r for r in rows}
    assert by_name[("Đơn vị", "mean_minutes")][3] == "phút"
    assert "30 phút hoặc 5 km" in by_name[("Đơn vị", "coverage_share")][4]


def test_xlsx_never_runs_data_as_a_formula(tmp_path: Path) -> None:
    t = _demo.demo_inputs()
    t["points"]["name"] = ['=HYPERLINK("http://evil.example","x")']
    from pointplan.access import assess

    a = assess(t["points"], t["units"], t["demand"], engine=t["engine"], visits=t["visits"], modes=())
    out = report.write_xlsx(a, tmp_path / "tables.xlsx", lang="en")
    ws = openpyxl.load_workbook(out)["Points"]
    cell = next(c for c in ws[2] if ws.cell(1, c.column).value == "Name")
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil.example","x")'
    assert openpyxl.load_workbook(out).sheetnames[-1] == "Columns"


def test_xlsx_leaves_out_a_table_of_too_many_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pointplan import settings

    a = _demo.demo_assessment()
    monkeypatch.setattr(settings, "xlsx_max_rows", len(a.units) - 1)  # the units: one row too many
    wb = openpyxl.load_workbook(report.write_xlsx(a, tmp_path / "tables.xlsx", lang="en"))
    assert [c.value for c in wb["Units"]["A"]] == [
        f"{len(a.units)} rows: too many for this workbook (at most {len(a.units) - 1}); the full table is in units.csv."
    ]
    assert wb["Points"].max_row == len(a.points) + 1  # a short table is written as before
    explained = {row[0].value for row in wb["Columns"].iter_rows(min_row=2)}
    assert "Units" not in explained and "Points" in explained


# ------------------------------------------------------------------ Markdown


def test_markdown_report_and_charts(documents: dict[str, Path]) -> None:
    md = documents["report.md"].read_text(encoding="utf-8")
    assert md.startswith(f"# {TITLE_VI}")
    for name in report.CHART_FILES.values():
        assert f"![]({name})" in md and documents[name].read_bytes()[:4] == b"\x89PNG"
    assert "| Dân số | 400 |" in md


# ------------------------------------------------------------------ documents left open


def test_open_or_read_only_documents_are_reported_and_others_moved(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.html", "report.docx", "tables.xlsx"):
        (out / name).write_text(f"old {name}", encoding="utf-8")
    (out / "report.html").chmod(0o444)
    (out / "~$port.docx").write_text("Word's owner file", encoding="utf-8")
    assert blocked_reason(out / "report.html") == "it is read-only"
    assert "open in another program" in (blocked_reason(out / "report.docx") or "")
    with document_stage(out) as stage:
        for name in ("report.html", "report.docx", "tables.xlsx"):
            (stage / name).write_text(f"new {name}", encoding="utf-8")
        moved, problems = publish_documents(stage, out, ["report.html", "report.docx", "tables.xlsx"])
    assert sorted(moved) == ["tables.xlsx"]
    assert (out / "tables.xlsx").read_text(encoding="utf-8") == "new tables.xlsx"
    assert (out / "report.html").read_text(encoding="utf-8") == "old report.html"
    assert (out / "report.docx").read_text(encoding="utf-8") == "old report.docx"
    assert len(problems) == 2 and "read-only" in problems[0] and "~$port.docx" in problems[1]
    assert not [p for p in out.iterdir() if p.name.startswith(".pointplan")]


@pytest.mark.slow
def test_run_writes_default_documents_and_reports_a_read_only_one(tmp_path: Path, capsys) -> None:
    """`pointplan run` on four central units: the default writes html, xlsx and the map;
    a read-only report.html is reported (exit 2) while every other output is replaced."""
    out = tmp_path / "out"
    argv = ["-q", "run", "--out", str(out), "--units", "00004,00008,00025,00070", "--add", "1"]
    assert cli.main(argv) == 0
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "tables.xlsx", "map.html", "units.csv", "summary.json"} <= names
    assert not names & {"report.docx", "report.md", "chart_overview.png"}
    assert not [n for n in names if n.startswith(".")]
    html_before = (out / "report.html").read_bytes()
    (out / "units.csv").write_text("stale", encoding="utf-8")
    (out / "report.html").chmod(0o444)
    capsys.readouterr()
    rc = cli.main([*argv, "--formats", "html,docx", "--lang", "en"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "report.html was not updated: it is read-only" in err and "Every other output was written" in err
    assert (out / "report.html").read_bytes() == html_before
    assert (out / "units.csv").read_text(encoding="utf-8-sig").startswith("code,")
    d = docx.Document(out / "report.docx")
    # a unit study: the title names the units
    assert d.paragraphs[0].text == "Public administrative service points: Phường Ba Đình and 3 other units"
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_figures_and_tables_are_typed(city: dict[str, Any]) -> None:
    doc = build_document(city["a"], lang="vi", images=city["images"]["vi"])
    assert all(isinstance(f, Figure) and f.png[:4] == b"\x89PNG" for f in doc.figures())
    assert all(isinstance(t, Table) and all(len(r) == len(t.headers) for r in t.rows) for t in doc.tables())
