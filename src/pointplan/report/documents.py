"""Choosing and writing the documents of a run (html, docx, xlsx, md).

The formats: ``report.html``, ``report.docx``, ``tables.xlsx`` and ``report.md`` (with its
charts).

The documents are the files a planner forwards, so they are often open in Word or Excel
when a run finishes, or were marked read-only. :func:`publish_documents` moves each new
document into place on its own and reports the ones it could not replace, so the other
outputs of the run are never held back by a document left open.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pointplan._errors import InputError, OutputError
from pointplan.report.charts import CHART_FILES, chart_images
from pointplan.report.content import build_document
from pointplan.report.labels import check_lang

__all__ = [
    "DEFAULT_FORMATS",
    "FORMAT_FILES",
    "REPORT_FORMATS",
    "blocked_reason",
    "document_stage",
    "parse_formats",
    "publish_documents",
    "raise_for_problems",
    "write_documents",
]

#: Document formats ``pointplan run --formats`` accepts.
REPORT_FORMATS: tuple[str, ...] = ("html", "docx", "xlsx", "md")

#: Formats written when none are chosen (the map is always written).
DEFAULT_FORMATS: tuple[str, ...] = ("html", "xlsx")

#: Files of each format.
FORMAT_FILES: dict[str, tuple[str, ...]] = {
    "html": ("report.html",),
    "docx": ("report.docx",),
    "xlsx": ("tables.xlsx",),
    "md": ("report.md", *CHART_FILES.values()),
}


def parse_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return the chosen formats in order, without repeats; refuse unknown names clearly.

    Parameters
    ----------
    formats
        ``"html,docx"``, a list of names, or ``None`` for :data:`DEFAULT_FORMATS`.

    Returns
    -------
    tuple of str
        Names from :data:`REPORT_FORMATS`.

    Examples
    --------
    >>> parse_formats("HTML, docx,html")
    ('html', 'docx')
    >>> parse_formats(None)
    ('html', 'xlsx')
    >>> try:
    ...     parse_formats("html,pdf")
    ... except ValueError as exc:
    ...     print(exc)
    Unknown report format 'pdf' in --formats; choose from html, docx, xlsx, md (e.g. --formats html,docx).
    """
    if formats is None:
        return DEFAULT_FORMATS
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    names = [str(f).strip().lower() for f in items if str(f).strip()]
    choices = ", ".join(REPORT_FORMATS)
    unknown = [n for n in names if n not in REPORT_FORMATS]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        shown = ", ".join(repr(n) for n in unknown)
        msg = f"Unknown report format{plural} {shown} in --formats; choose from {choices} (e.g. --formats html,docx)."
        raise InputError(msg)
    if not names:
        msg = f"--formats is empty; choose one or more of {choices} (e.g. --formats html,xlsx)."
        raise InputError(msg)
    return tuple(dict.fromkeys(names))


def write_documents(
    assessment: Any,
    out_dir: str | Path,
    proposal: Any = None,
    *,
    formats: str | Iterable[str] | None = None,
    lang: str = "vi",
    map_href: str | None = "map.html",
    extra_lines: Sequence[str] = (),
    images: dict[str, bytes] | None = None,
) -> dict[str, Path]:
    """Write the chosen documents into ``out_dir``; return their paths by file name.

    The report (its charts, tables and texts) is built once and rendered in every format.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    out_dir
        Output folder (created if needed).
    proposal
        A :class:`pointplan.optimize.Proposal` (optional).
    formats
        Names from :data:`REPORT_FORMATS` (default :data:`DEFAULT_FORMATS`).
    lang
        ``"vi"`` (default) or ``"en"``.
    map_href
        Link to the interactive map from the HTML and Word reports.
    extra_lines
        More lines for the method section.
    images
        Chart PNGs by name, if already drawn (default: drawn here, once).

    Returns
    -------
    dict
        File name -> path.

    Examples
    --------
    >>> import tempfile
    >>> from pointplan.report._demo import demo_assessment, demo_images
    >>> out = tempfile.mkdtemp()
    >>> paths = write_documents(demo_assessment(), out, formats="html,docx,xlsx", images=demo_images())
    >>> sorted(paths)
    ['report.docx', 'report.html', 'tables.xlsx']
    """
    from pointplan.report.to_xlsx import write_xlsx

    chosen = parse_formats(formats)
    check_lang(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if set(chosen) - {"xlsx"}:  # one report (charts, tables, texts) for every document format
        if images is None:
            images = chart_images(assessment, proposal, lang=lang)
        doc = build_document(
            assessment, proposal, lang=lang, images=images, map_href=map_href, extra_lines=tuple(extra_lines)
        )
        md_doc = doc
        if "md" in chosen and map_href != "map.html":  # report.md always links map.html
            md_doc = build_document(assessment, proposal, lang=lang, images=images, extra_lines=tuple(extra_lines))
        paths.update(_render_documents(doc, md_doc, chosen, out, images))
    if "xlsx" in chosen:
        paths["tables.xlsx"] = write_xlsx(assessment, out / "tables.xlsx", proposal, lang=lang)
    return {name: paths[name] for name in sorted(paths, key=lambda n: _ORDER.get(n, len(_ORDER)))}


_ORDER = {"report.html": 0, "report.docx": 1, "tables.xlsx": 2, "report.md": 3}


def _render_documents(
    doc: Any, md_doc: Any, chosen: Sequence[str], out: Path, images: dict[str, bytes]
) -> dict[str, Path]:
    """Write the built report in each chosen format (html, docx; ``md_doc`` as md, with its charts)."""
    from pointplan.io import atomic_path, write_text
    from pointplan.report.charts import _write_images
    from pointplan.report.to_docx import render_docx
    from pointplan.report.to_html import render_html
    from pointplan.report.to_markdown import render_markdown

    paths: dict[str, Path] = {}
    if "html" in chosen:
        paths["report.html"] = write_text(out / "report.html", render_html(doc))
    if "docx" in chosen:
        with atomic_path(out / "report.docx") as tmp:
            render_docx(doc).save(str(tmp))
        paths["report.docx"] = out / "report.docx"
    if "md" in chosen:
        _write_images(images, out)
        paths["report.md"] = write_text(out / "report.md", render_markdown(md_doc))
        paths.update({CHART_FILES[name]: out / CHART_FILES[name] for name in images})
    return paths


def _lock_files(path: Path) -> list[Path]:
    """Lock files Word, Excel and LibreOffice leave beside a document they have open."""
    name = path.name
    names = {f"~${name}", f"~${name[2:]}", f".~lock.{name}#"}
    return [path.parent / n for n in sorted(names)]


def blocked_reason(path: str | Path) -> str | None:
    """Say why ``path`` cannot be replaced (open in an office program, read-only), or None.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> doc = pathlib.Path(tempfile.mkdtemp()) / "report.docx"
    >>> _ = doc.write_bytes(b"old")
    >>> blocked_reason(doc) is None
    True
    >>> _ = (doc.parent / ".~lock.report.docx#").write_text("user")
    >>> blocked_reason(doc)
    "it is open in another program (lock file '.~lock.report.docx#' beside it)"
    """
    p = Path(path)
    lock = next((f for f in _lock_files(p) if f.exists()), None)
    if lock is not None:
        return f"it is open in another program (lock file {lock.name!r} beside it)"
    if p.is_file() and not p.stat().st_mode & stat.S_IWUSR:
        return "it is read-only"
    return None


@contextlib.contextmanager
def document_stage(out_dir: str | Path) -> Iterator[Path]:
    """Yield a hidden folder inside ``out_dir`` for new documents; remove it afterwards.

    Write the documents into the stage, then move them with :func:`publish_documents`;
    whatever is left in the stage (after an error, say) is removed with it.

    Parameters
    ----------
    out_dir
        The output folder (created if needed).

    Yields
    ------
    pathlib.Path
        The staging folder.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> with document_stage(out) as stage:
    ...     _ = (stage / "report.md").write_text("# Báo cáo", encoding="utf-8")
    ...     stage.parent == out
    True
    >>> stage.exists(), list(out.iterdir())
    (False, [])
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".pointplan-documents-", dir=out))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish_documents(stage: Path, out_dir: str | Path, names: Iterable[str]) -> tuple[dict[str, Path], list[str]]:
    """Move each document from ``stage`` into ``out_dir``; return what moved and what could not.

    Each move is atomic (:func:`os.replace`); a document that is open or read-only keeps
    its previous version and is listed in the second value with the reason and the fix.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with document_stage(out) as stage:
    ...     _ = (stage / "report.html").write_text("new")
    ...     moved, problems = publish_documents(stage, out, ["report.html"])
    >>> sorted(moved), problems, (out / "report.html").read_text()
    (['report.html'], [], 'new')
    """
    out = Path(out_dir)
    moved: dict[str, Path] = {}
    problems: list[str] = []
    for name in names:
        source, target = stage / name, out / name
        reason = blocked_reason(target)
        if reason is None:
            try:
                source.replace(target)
            except OSError as exc:  # e.g. Windows refuses to replace a file open in Word
                reason = f"it could not be replaced ({exc.strerror or exc}); it may be open in another program"
        if reason is None:
            moved[name] = target
        else:
            problems.append(f"{target} was not updated: {reason}. Close it or make it writable, then run again.")
    return moved, problems


def raise_for_problems(problems: Sequence[str], out_dir: str | Path) -> None:
    """Raise one :class:`~pointplan._errors.OutputError` naming every document not updated.

    Examples
    --------
    >>> raise_for_problems([], "out")
    >>> try:
    ...     raise_for_problems(["out/report.docx was not updated: it is read-only."], "out")
    ... except OSError as exc:
    ...     print(exc)
    out/report.docx was not updated: it is read-only. Every other output was written to out.
    """
    if problems:
        msg = " ".join(problems) + f" Every other output was written to {Path(out_dir)}."
        raise OutputError(msg)
