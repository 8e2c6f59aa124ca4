"""``tables.xlsx``: every table of a run in one Excel workbook.

One sheet per table (units, points, proposals, findings, equity, before/after), Vietnamese
headers with their unit (``--lang en``: English), a sheet explaining each column and its
unit, the header row frozen, an autofilter, and number formats (thousands, percent,
minutes, coordinates). Text that Excel would run as a formula is stored as plain text.
The CSV files stay for machines.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pointplan.io import atomic_path
from pointplan.report.labels import check_lang, column_info, column_label, text
from pointplan.report.run_tables import run_findings, run_points_table, run_units_table

__all__ = ["NUMBER_FORMATS", "workbook_tables", "write_xlsx"]

#: Excel number format of each display format of the column dictionary.
NUMBER_FORMATS: dict[str, str] = {
    "int": "#,##0",
    "num1": "#,##0.0",
    "num2": "#,##0.00",
    "pct": "0.0%",
    "minutes": "0.0",
    "coord": "0.000000",
}


def _compare_frame(compare: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "metric_label": [column_label(str(m), lang, "metric", with_unit=True) for m in compare.index],
            "metric": [str(m) for m in compare.index],
            "before": compare.iloc[:, 0].to_numpy(),
            "after": compare.iloc[:, 1].to_numpy(),
            "change": compare.iloc[:, 2].to_numpy(),
        }
    )
    frame.attrs["row_formats"] = [column_info(str(m), "metric")["format"] for m in compare.index]
    return frame


#: Columns the uncertainty analysis adds to the proposals (issue 15), shown when present.
ROBUSTNESS_COLUMNS = ("robustness", "robust", "relies_on_point", "relies_on_share", "depends_on_guess")


def _proposal_frame(proposal: Any) -> pd.DataFrame:
    from pointplan.locate import PROPOSAL_COLUMNS

    if proposal is None or not len(proposal.points):
        return pd.DataFrame(columns=[*PROPOSAL_COLUMNS, "lon", "lat"])
    pp = proposal.points
    robust = [c for c in ROBUSTNESS_COLUMNS if c in pp.columns]
    frame = pd.DataFrame(pp.drop(columns="geometry")).reindex(columns=[*PROPOSAL_COLUMNS, *robust])
    wgs = pp.to_crs("EPSG:4326")
    frame["lon"], frame["lat"] = wgs.geometry.x.round(6).to_numpy(), wgs.geometry.y.round(6).to_numpy()
    return frame.reset_index(drop=True)


def workbook_tables(assessment: Any, proposal: Any = None, *, lang: str = "vi") -> dict[str, pd.DataFrame]:
    """Return the workbook's tables by sheet key (machine column names, before labelling).

    Keys: ``units``, ``points``, ``proposals``, ``findings``, ``equity`` and ``compare``
    (the before/after comparison; empty without a re-assessed proposal). The units, points
    and findings are those of ``units.csv``, ``points.csv`` and ``findings.csv``
    (:mod:`pointplan.report.run_tables`: intervals, queues, bus access, time to service).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment, demo_proposal
    >>> t = workbook_tables(demo_assessment(), demo_proposal())
    >>> list(t)
    ['units', 'points', 'proposals', 'findings', 'equity', 'compare']
    >>> row = t["compare"].set_index("metric").loc["mean_minutes_to_nearest"]
    >>> float(round(row["before"], 3)), float(round(row["after"], 3))
    (9.375, 4.125)
    """
    check_lang(lang)
    eq = assessment.equity.reset_index()
    ba = getattr(proposal, "before_after", None)
    compare = (
        _compare_frame(ba["compare"], lang)
        if isinstance(ba, dict) and "compare" in ba
        else pd.DataFrame(columns=["metric_label", "metric", "before", "after", "change"])
    )
    return {
        "units": run_units_table(assessment),
        "points": run_points_table(assessment),
        "proposals": _proposal_frame(proposal),
        "findings": pd.DataFrame(run_findings(assessment)).reset_index(drop=True),
        "equity": eq.rename(columns={eq.columns[0]: "group"}),
        "compare": compare,
    }


def _cell_value(value: Any) -> Any:
    """Return a value openpyxl can store: numpy scalars unwrapped, NaN/inf/NA as an empty cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, bool, numbers.Number)):
        return value
    return str(value)


def _write_sheet(wb: Any, key: str, frame: pd.DataFrame, lang: str) -> list[tuple[str, str, str, str, str]]:
    """Write one table as a sheet; return its rows of the column-explanation sheet."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(text(f"sheet.{key}", lang))
    infos = [column_info(str(c), key) for c in frame.columns]
    headers = [column_label(str(c), lang, key, with_unit=True) for c in frame.columns]
    ws.append(headers)
    row_formats: list[str] | None = frame.attrs.get("row_formats")
    formats = [NUMBER_FORMATS.get(info["format"]) for info in infos]
    for r, row in enumerate(frame.itertuples(index=False)):
        ws.append([_cell_value(v) for v in row])
        row_format = NUMBER_FORMATS.get(row_formats[r]) if row_formats else None
        for c, cell in enumerate(ws.cell(row=r + 2, column=col) for col in range(1, len(infos) + 1)):
            if isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"  # data is never run as a formula
            fmt = row_format if row_formats and c >= 2 else formats[c]
            if fmt is not None and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
    for c, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=c)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DCE3EE")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        longest = max((len(str(v)) for v in frame.iloc[:200, c - 1]), default=0)
        width = max(min(len(header), 24), longest)
        ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "B2" if key in ("units", "points") else "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(headers)))}{max(1, ws.max_row)}"
    return [
        (ws.title, h, str(col), info[f"unit_{lang}"], info[f"meaning_{lang}"])
        for h, col, info in zip(headers, frame.columns, infos, strict=True)
    ]


#: The file beside the workbook that holds each table in full.
CSV_OF_SHEET = {"units": "units.csv", "points": "points.csv", "findings": "findings.csv"}

_TOO_MANY = {
    "vi": "{n:,} dòng: quá nhiều cho bảng tính này (tối đa {limit:,}); bảng đầy đủ ở {csv}.",
    "en": "{n:,} rows: too many for this workbook (at most {limit:,}); the full table is in {csv}.",
}


def _note_sheet(wb: Any, key: str, n: int, lang: str) -> None:
    """Add a sheet saying its table of ``n`` rows is left out (above ``settings.xlsx_max_rows``), and where it is."""
    from pointplan import settings

    ws = wb.create_sheet(text(f"sheet.{key}", lang))
    csv = CSV_OF_SHEET.get(key, "the CSV files" if lang == "en" else "các tệp CSV")
    ws.append([_TOO_MANY[lang].format(n=n, limit=int(settings.xlsx_max_rows), csv=csv)])


def _write_columns_sheet(wb: Any, rows: list[tuple[str, str, str, str, str]], lang: str) -> None:
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(text("sheet.columns", lang))
    ws.append([text(k, lang) for k in ("col.sheet", "col.header", "col.name", "col.unit", "col.meaning")])
    for row in rows:
        ws.append(list(row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (16, 34, 34, 18, 80), strict=True):
        ws.column_dimensions[letter].width = width
    for row_cells in ws.iter_rows(min_row=2):
        row_cells[4].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:E{ws.max_row}"


def write_xlsx(assessment: Any, path: str | Path, proposal: Any = None, *, lang: str = "vi") -> Path:
    """Write ``tables.xlsx``: one sheet per table and a sheet explaining every column.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    path
        The ``.xlsx`` file (replaced atomically).
    proposal
        A :class:`pointplan.optimize.Proposal` (optional: its points and the before/after
        comparison).
    lang
        ``"vi"`` (default) or ``"en"``: sheet names and headers.

    Returns
    -------
    pathlib.Path
        The path written. A table of more than :data:`pointplan.settings.xlsx_max_rows`
        rows gets a sheet saying which CSV file holds it instead.

    Examples
    --------
    >>> import openpyxl, pathlib, tempfile
    >>> from pointplan.report._demo import demo_assessment
    >>> out = write_xlsx(demo_assessment(), pathlib.Path(tempfile.mkdtemp()) / "tables.xlsx")
    >>> wb = openpyxl.load_workbook(out)
    >>> wb.sheetnames
    ['Đơn vị', 'Điểm', 'Đề xuất', 'Phát hiện', 'Công bằng', 'Trước - sau', 'Giải thích cột']
    >>> ws = wb["Đơn vị"]
    >>> ws["E1"].value, ws["E2"].value, ws["E2"].number_format, ws.freeze_panes
    ('Dân số (người)', 300, '#,##0', 'B2')
    """
    from openpyxl import Workbook

    from pointplan import settings

    check_lang(lang)
    wb = Workbook()
    wb.remove(wb.active)
    explained: list[tuple[str, str, str, str, str]] = []
    for key, frame in workbook_tables(assessment, proposal, lang=lang).items():
        if len(frame) > settings.xlsx_max_rows:  # e.g. 200,000 kiosks: the CSV holds them
            _note_sheet(wb, key, len(frame), lang)
            continue
        explained += _write_sheet(wb, key, frame, lang)
    _write_columns_sheet(wb, explained, lang)
    wb.properties.title = text("title", lang)
    wb.properties.creator = "pointplan"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)
