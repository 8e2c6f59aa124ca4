"""``report.md``: the report as Markdown with its charts as ``chart_*.png`` files beside it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pointplan.io import write_text
from pointplan.report.charts import CHART_FILES, _write_images, chart_images
from pointplan.report.content import Bullets, Document, Figure, Link, Table, build_document

__all__ = ["render_markdown", "write_report"]


def _md_table(table: Table) -> list[str]:
    def cell(v: str) -> str:
        return v.replace("|", "/").replace("\n", " ")

    lines = [f"**{table.title}**", ""] if table.title else []
    lines.append("| " + " | ".join(cell(h) for h in table.headers) + " |")
    lines.append("|" + "".join("---:|" if n else "---|" for n in table.numeric))
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows]
    return [*lines, *(["", f"*{table.note}*"] if table.note else [])]


def render_markdown(doc: Document) -> str:
    """Return ``doc`` as Markdown; figures refer to their ``chart_*.png`` files.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment, demo_images
    >>> md = render_markdown(build_document(demo_assessment(), images=demo_images()))
    >>> md.splitlines()[0], "![](chart_minutes_cdf.png)" in md
    ('# Báo cáo mạng lưới điểm Phục vụ hành chính công Hà Nội', True)
    """
    lines = [f"# {doc.title}", "", f"*{doc.subtitle}*", ""]
    for section in doc.sections:
        lines += ["#" * section.level + f" {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines += _md_table(block)
            elif isinstance(block, Figure):
                lines.append(f"![]({CHART_FILES[block.name]})")
            elif isinstance(block, Bullets):
                lines += [f"- {item}" for item in block.items]
            elif isinstance(block, Link):
                lines.append(f"{block.note} [{block.text}]({block.href})")
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines)


def write_report(
    assessment: Any,
    out_dir: str | Path,
    proposal: Any = None,
    *,
    lang: str = "vi",
    extra_lines: Iterable[str] = (),
    images: dict[str, bytes] | None = None,
) -> Path:
    """Write ``report.md`` and its PNG charts into ``out_dir``.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    out_dir
        Output folder.
    proposal
        A :class:`pointplan.optimize.Proposal` (optional).
    lang
        ``"vi"`` (default) or ``"en"``.
    extra_lines
        More lines appended to the method section.
    images
        Chart PNGs by name, if already drawn (default: drawn here).

    Returns
    -------
    pathlib.Path
        The report's path.

    Examples
    --------
    >>> import tempfile
    >>> from pointplan.report._demo import demo_assessment, demo_images
    >>> path = write_report(demo_assessment(), tempfile.mkdtemp(), images=demo_images())
    >>> path.name, (path.parent / "chart_p90_units.png").is_file()
    ('report.md', True)
    """
    out = Path(out_dir)
    imgs = chart_images(assessment, proposal, lang=lang) if images is None else images
    doc = build_document(assessment, proposal, lang=lang, images=imgs, extra_lines=tuple(extra_lines))
    _write_images(imgs, out)
    return write_text(out / "report.md", render_markdown(doc))
