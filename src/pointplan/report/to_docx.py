"""``report.docx``: the report as a Word document (python-docx).

Real headings (Word's navigation pane lists the sections), tables whose header row repeats
on every page and whose rows are not split, charts as pictures, page numbers in the footer,
A4 pages, and the document language set to Vietnamese (or English) for spelling.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pointplan.io import atomic_path
from pointplan.report.content import Bullets, Document, Figure, Link, Table, build_document
from pointplan.report.labels import text

__all__ = ["render_docx", "write_docx"]

_LANG_TAGS = {"vi": "vi-VN", "en": "en-GB"}


def _element(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(qn(key), value)
    return el


def _field(paragraph: Any, code: str) -> None:
    """Append a Word field (``PAGE``, ``NUMPAGES``) to ``paragraph``."""
    run = paragraph.add_run()
    run._r.append(_element("w:fldChar", **{"w:fldCharType": "begin"}))
    instr = _element("w:instrText", **{"xml:space": "preserve"})
    instr.text = f" {code} "
    run._r.append(instr)
    run._r.append(_element("w:fldChar", **{"w:fldCharType": "end"}))


def _setup(docx_doc: Any, doc: Document) -> None:
    """A4 pages, document language, title and page numbers in the footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    for sec in docx_doc.sections:
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.left_margin = sec.right_margin = Mm(18)
        sec.top_margin, sec.bottom_margin = Mm(16), Mm(18)
        footer = sec.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.add_run(f"{text('page', doc.lang)} ")
        _field(footer, "PAGE")
        footer.add_run(" / ")
        _field(footer, "NUMPAGES")
    normal = docx_doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    rpr = normal.element.get_or_add_rPr()
    rpr.append(_element("w:lang", **{"w:val": _LANG_TAGS[doc.lang], "w:eastAsia": _LANG_TAGS[doc.lang]}))
    props = docx_doc.core_properties
    props.title, props.language, props.author = doc.title, _LANG_TAGS[doc.lang], "pointplan"


#: Width of the text on an A4 page with the margins of :func:`_setup`.
_TEXT_WIDTH_MM = 174.0


def _column_widths_mm(table: Table) -> list[float]:
    """Share the text width by each column's longest word and typical length."""
    weights = []
    for c, header in enumerate(table.headers):
        cells = [row[c] for row in table.rows]
        longest_word = max((len(w) for v in (header, *cells) for w in v.split()), default=1)
        typical = max((len(v) for v in cells), default=len(header))
        weights.append(max(longest_word, min(typical, 30), 4) + 3)  # + 3: the cell's padding
    total = sum(weights)
    return [_TEXT_WIDTH_MM * w / total for w in weights]


def _table(docx_doc: Any, table: Table) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    if table.title:
        title = docx_doc.add_paragraph(table.title)
        title.runs[0].bold = True
        title.paragraph_format.keep_with_next = True
        title.paragraph_format.space_before = Pt(10)
    t = docx_doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    t.style = "Table Grid"
    t.autofit = False
    widths = [Mm(w) for w in _column_widths_mm(table)]
    for column, width in zip(t.columns, widths, strict=True):
        column.width = width  # the grid, which LibreOffice reads; Word reads the cells'
    for r, values in enumerate([table.headers, *table.rows]):
        row = t.rows[r]
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(_element("w:cantSplit"))
        if r == 0:
            tr_pr.append(_element("w:tblHeader"))  # repeats on every page
        for cell, value, numeric, width in zip(row.cells, values, table.numeric, widths, strict=True):
            cell.width = width
            if r == 0:
                cell._tc.get_or_add_tcPr().append(_element("w:shd", **{"w:val": "clear", "w:fill": "DCE3EE"}))
            para = cell.paragraphs[0]
            run = para.add_run(value)
            run.font.size = Pt(8.5)
            run.bold = r == 0
            if numeric and r > 0:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if table.note:
        docx_doc.add_paragraph(table.note, style="Caption")


def _link(docx_doc: Any, link: Link) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE

    para = docx_doc.add_paragraph(f"{link.note} ")
    rel = para.part.relate_to(link.href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    hyperlink = _element("w:hyperlink", **{"r:id": rel})
    run = _element("w:r")
    rpr = _element("w:rPr")
    rpr.append(_element("w:color", **{"w:val": "1F3B73"}))
    rpr.append(_element("w:u", **{"w:val": "single"}))
    run.append(rpr)
    t = _element("w:t")
    t.text = f"{link.text}"
    run.append(t)
    hyperlink.append(run)
    para._p.append(hyperlink)


def _block(docx_doc: Any, block: Any) -> None:
    from docx.shared import Cm

    if isinstance(block, Table):
        _table(docx_doc, block)
    elif isinstance(block, Figure):
        width = Cm(13) if block.name == "overview" else Cm(16)
        docx_doc.add_picture(io.BytesIO(block.png), width=width)
        docx_doc.add_paragraph(block.caption, style="Caption")
    elif isinstance(block, Bullets):
        for item in block.items:
            docx_doc.add_paragraph(item, style="List Bullet")
    elif isinstance(block, Link):
        _link(docx_doc, block)
    else:
        docx_doc.add_paragraph(str(block))


def render_docx(doc: Document) -> Any:
    """Return ``doc`` as a python-docx document (save it with ``.save(path)``).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment, demo_images
    >>> from pointplan.report.content import build_document
    >>> d = render_docx(build_document(demo_assessment(), images=demo_images()))
    >>> [p.text for p in d.paragraphs if p.style.name == "Heading 1"][:2]
    ['Tóm tắt', 'Kiểm tra quy định']
    """
    import docx

    docx_doc = docx.Document()
    _setup(docx_doc, doc)
    docx_doc.add_heading(doc.title, level=0)
    docx_doc.add_paragraph(doc.subtitle).runs[0].italic = True
    for i, section in enumerate(doc.sections):
        heading = docx_doc.add_heading(section.title, level=section.level - 1)
        heading.paragraph_format.page_break_before = section.level == 2 and i > 0
        for block in section.blocks:
            _block(docx_doc, block)
    return docx_doc


def write_docx(
    assessment: Any,
    path: str | Path,
    proposal: Any = None,
    *,
    lang: str = "vi",
    images: dict[str, bytes] | None = None,
    map_href: str | None = "map.html",
    extra_lines: Iterable[str] = (),
) -> Path:
    """Write the report as a Word document (``report.docx``), atomically.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    path
        The ``.docx`` file.
    proposal
        A :class:`pointplan.optimize.Proposal` (optional).
    lang
        ``"vi"`` (default) or ``"en"``.
    images
        Chart PNGs by name, if already drawn.
    map_href
        Link to the interactive map (``None``: no link).
    extra_lines
        More lines for the method section.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import docx, pathlib, tempfile
    >>> from pointplan.report._demo import demo_assessment, demo_images, demo_proposal
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.docx"
    >>> d = docx.Document(write_docx(demo_assessment(), path, demo_proposal(), images=demo_images()))
    >>> len(d.inline_shapes), d.tables[0].rows[0].cells[0].text
    (5, 'Chỉ tiêu')
    """
    doc = build_document(
        assessment, proposal, lang=lang, images=images, map_href=map_href, extra_lines=tuple(extra_lines)
    )
    with atomic_path(path) as tmp:
        render_docx(doc).save(str(tmp))
    return Path(path)
