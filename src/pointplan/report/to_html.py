"""``report.html``: one self-contained, print-ready HTML file.

Charts are embedded as base64 PNG, the styles are inline (``templates/report.css``), and
nothing is fetched from the network, so the file can be forwarded by e-mail or chat and
opened or printed anywhere. Print styles lay it out on A4: each section starts a new page,
table rows and figures are not split, table headers repeat, pages are numbered.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from pointplan._version import __version__
from pointplan.io import write_text
from pointplan.report.content import Bullets, Document, Figure, Link, Section, Table, build_document
from pointplan.report.labels import text

__all__ = ["render_html", "write_html"]

#: Tables of at most this many rows are moved whole to the next printed page.
_KEEP_ROWS = 20


def _template(name: str) -> str:
    return resources.files("pointplan.report").joinpath(f"templates/{name}").read_text(encoding="utf-8")


def _html_table(table: Table) -> str:
    def cls(numeric: bool) -> str:
        return ' class="num"' if numeric else ""

    head = "".join(f"<th{cls(n)}>{html.escape(h)}</th>" for h, n in zip(table.headers, table.numeric, strict=True))
    body = "\n".join(
        "<tr>"
        + "".join(f"<td{cls(n)}>{html.escape(v)}</td>" for v, n in zip(row, table.numeric, strict=True))
        + "</tr>"
        for row in table.rows
    )
    note = f'\n<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    keep = ' class="keep"' if len(table.rows) <= _KEEP_ROWS else ""
    caption = f"<caption>{html.escape(table.title)}</caption>" if table.title else ""
    return f"<table{keep}>{caption}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>{note}"


def _html_block(block: Any) -> str:
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        alt = html.escape(block.caption, quote=True)
        return (
            f'<figure id="fig-{block.name}"><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
        )
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{html.escape(i)}</li>" for i in block.items) + "\n</ul>"
    if isinstance(block, Link):
        href = html.escape(block.href, quote=True)
        return f'<p class="maplink">{html.escape(block.note)} <a href="{href}">{html.escape(block.text)}</a></p>'
    return f"<p>{html.escape(str(block))}</p>"


def _html_sections(sections: Iterable[Section]) -> str:
    parts: list[str] = []
    for section in sections:
        heading = f'<h{section.level} id="{section.key}">{html.escape(section.title)}</h{section.level}>'
        blocks = "\n".join(_html_block(b) for b in section.blocks)
        if section.level == 2 or not parts:
            parts.append(f'<section class="part">\n{heading}\n{blocks}\n</section>')
        else:  # a sub-section stays on the page of its section
            parts[-1] = parts[-1].removesuffix("</section>") + f"{heading}\n{blocks}\n</section>"
    return "\n".join(parts)


def render_html(doc: Document) -> str:
    """Return ``doc`` as one self-contained HTML page.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment, demo_images
    >>> from pointplan.report.content import build_document
    >>> page = render_html(build_document(demo_assessment(), images=demo_images()))
    >>> page.startswith("<!DOCTYPE html>"), '<html lang="vi">' in page, 'src="http' in page
    (True, True, False)
    """
    return Template(_template("report.html")).substitute(
        lang=doc.lang,
        version=html.escape(__version__),
        title=html.escape(doc.title),
        subtitle=html.escape(doc.subtitle),
        css=_template("report.css"),
        page_word=text("page", doc.lang),
        body=_html_sections(doc.sections),
    )


def write_html(
    assessment: Any,
    path: str | Path,
    proposal: Any = None,
    *,
    lang: str = "vi",
    images: dict[str, bytes] | None = None,
    map_href: str | None = "map.html",
    extra_lines: Iterable[str] = (),
) -> Path:
    """Write the report as one self-contained HTML file (``report.html``), atomically.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    path
        The HTML file.
    proposal
        A :class:`pointplan.optimize.Proposal` (optional).
    lang
        ``"vi"`` (default) or ``"en"``.
    images
        Chart PNGs by name, if already drawn.
    map_href
        Link to the interactive map (relative to the report; ``None``: no link).
    extra_lines
        More lines for the method section.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pointplan.report._demo import demo_assessment, demo_images, demo_proposal
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> out = write_html(demo_assessment(), path, demo_proposal(), lang="en", images=demo_images("en"))
    >>> page = out.read_text(encoding="utf-8")
    >>> page.count("data:image/png;base64,"), 'href="map.html"' in page
    (5, True)
    """
    doc = build_document(
        assessment, proposal, lang=lang, images=images, map_href=map_href, extra_lines=tuple(extra_lines)
    )
    return write_text(path, render_html(doc))
