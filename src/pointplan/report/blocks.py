"""The blocks a report is made of: sections, paragraphs, bullet lists, tables, figures, links.

:func:`pointplan.report.content.build_document` and the sections of
:mod:`pointplan.report.sections` build them; every writer (HTML, Word, Markdown) lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pointplan.report.labels import column_info, column_label, format_value, text

__all__ = ["Bullets", "Document", "Figure", "Link", "Section", "Table", "frame_table"]


@dataclass(frozen=True)
class Bullets:
    """A bullet list.

    Examples
    --------
    >>> from pointplan.report.to_markdown import render_markdown
    >>> doc = Document("Báo cáo", "vi", "pointplan", [Section("s", "Tóm tắt", [Bullets(("a", "b"))])])
    >>> print(render_markdown(doc).split("## Tóm tắt")[1].strip())
    - a
    - b
    """

    items: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """A link to a file beside the report (``map.html``).

    Examples
    --------
    >>> from pointplan.report.to_markdown import render_markdown
    >>> link = Link("Bản đồ", "map.html", note="Mở trong trình duyệt:")
    >>> doc = Document("Báo cáo", "vi", "pointplan", [Section("map", "Bản đồ", [link])])
    >>> render_markdown(doc).strip().splitlines()[-1]
    'Mở trong trình duyệt: [Bản đồ](map.html)'
    """

    text: str
    href: str
    note: str = ""


@dataclass(frozen=True)
class Figure:
    r"""A chart: its name (a key of :data:`pointplan.report.charts.CHART_FILES`), PNG bytes, caption.

    Examples
    --------
    >>> fig = Figure("overview", b"\x89PNG...", "Bản đồ tổng quan")
    >>> doc = Document("Báo cáo", "vi", "pointplan", [Section("s", "Tóm tắt", ["Một đoạn.", fig])])
    >>> [f.caption for f in doc.figures()]
    ['Bản đồ tổng quan']
    """

    name: str
    png: bytes
    caption: str


@dataclass(frozen=True)
class Table:
    """A table of formatted text: headers, rows, which columns are numbers, a note, a title.

    Examples
    --------
    >>> from pointplan.report.to_markdown import render_markdown
    >>> table = Table(("Đơn vị", "Dân số"), (("Ba Đình", "1.200"),), numeric=(False, True))
    >>> doc = Document("Báo cáo", "vi", "pointplan", [Section("s", "Dân số", [table])])
    >>> print(render_markdown(doc).split("## Dân số")[1].strip())
    | Đơn vị | Dân số |
    |---|---:|
    | Ba Đình | 1.200 |
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    note: str = ""
    title: str = ""


Block = str | Bullets | Link | Figure | Table


@dataclass
class Section:
    """A titled part of the report (``level`` 2) or a sub-part (``level`` 3).

    Examples
    --------
    >>> from pointplan.report.to_markdown import render_markdown
    >>> parts = [Section("a", "Phạm vi", ["Một đoạn."]), Section("b", "Chi tiết", ["Hai."], level=3)]
    >>> [line for line in render_markdown(Document("Báo cáo", "vi", "", parts)).splitlines() if "#" in line]
    ['# Báo cáo', '## Phạm vi', '### Chi tiết']
    """

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


@dataclass
class Document:
    """The whole report: title, language, a line saying what produced it, sections.

    Examples
    --------
    >>> from pointplan.report.to_markdown import render_markdown
    >>> table = Table(("Đơn vị",), (("Ba Đình",),), numeric=(False,))
    >>> doc = Document("Báo cáo", "vi", "pointplan 0.1", [Section("s", "Tóm tắt", ["Một đoạn.", table])])
    >>> len(doc.tables()), doc.figures()
    (1, [])
    >>> print(render_markdown(doc))
    # Báo cáo
    <BLANKLINE>
    *pointplan 0.1*
    <BLANKLINE>
    ## Tóm tắt
    <BLANKLINE>
    Một đoạn.
    <BLANKLINE>
    | Đơn vị |
    |---|
    | Ba Đình |
    <BLANKLINE>
    """

    title: str
    lang: str
    subtitle: str
    sections: list[Section]

    def figures(self) -> list[Figure]:
        """Return every figure, in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def tables(self) -> list[Table]:
        """Return every table, in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]


_WORDS_VI = {
    "error": "vi phạm",
    "warning": "cảnh báo",
    "info": "thông tin",
    "phuong": "phường",
    "xa": "xã",
    "overloaded": "quá tải",
    "idle": "không có người",
    "city": "toàn thành phố",
}


def _word(value: Any, lang: str) -> Any:
    """Translate the few coded words a reader sees in tables (severity, kind, status)."""
    if isinstance(value, (bool, np.bool_)):
        return ("có" if value else "không") if lang == "vi" else ("yes" if value else "no")
    if lang == "vi" and isinstance(value, str):
        return _WORDS_VI.get(value, value)
    return value


def frame_table(df: pd.DataFrame, lang: str, table: str = "*", *, limit: int | None = None) -> Table:
    """Return ``df`` as a :class:`Table`: dictionary headers (with units), formatted cells.

    Examples
    --------
    >>> t = frame_table(pd.DataFrame({"population": [1200], "coverage_share": [0.5]}), "vi")
    >>> t.headers, t.rows
    (('Dân số (người)', 'Tỷ lệ trong chuẩn (%)'), (('1.200', '50,0 %'),))
    """
    shown = df if limit is None else df.head(limit)
    kinds = [column_info(str(c), table)["format"] for c in df.columns]
    rows = tuple(
        tuple(format_value(_word(v, lang), k, lang) for v, k in zip(row, kinds, strict=True))
        for row in shown.itertuples(index=False)
    )
    note = text("rows_shown", lang, shown=len(shown), total=len(df)) if len(shown) < len(df) else ""
    return Table(
        headers=tuple(column_label(str(c), lang, table, with_unit=True) for c in df.columns),
        rows=rows,
        numeric=tuple(k != "text" for k in kinds),
        note=note,
    )
