"""Saving maps: one self-contained HTML file by default, or a smaller CDN-linked one.

Every map is built from pointplan's own small Leaflet layers, so a saved map needs only
Leaflet itself: no jQuery, Bootstrap or Font Awesome, and markers are inline SVG. By default
Leaflet's code and styles (with its images) are embedded from the installed
``xstatic-leaflet`` package and the file works with no internet at all; online base tiles
are drawn when they can be reached. ``cdn=True`` links Leaflet from its CDN instead.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import tempfile
from pathlib import Path

import folium

from pointplan._errors import InputError, OfflineError, OutputError

__all__ = ["save_map"]

logger = logging.getLogger(__name__)

_SCRIPT_RE = re.compile(r'<script\s+src="(?P<url>https?://[^"]+)"\s*>\s*</script>\s*')
_LINK_RE = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>https?://[^"]+)"\s*/?>\s*')
_REMOTE_REF_RE = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I)
# folium's default CDN libraries pointplan maps do not need, and how to tell they are used.
_JQUERY_LIBS = ("jquery", "bootstrap")
_AWESOME_LIBS = ("awesome-markers", "awesome.rotate", "fontawesome", "font-awesome", "glyphicons")


def _leaflet_dir() -> Path:
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:  # pragma: no cover - a declared dependency
        msg = "A self-contained map needs the 'xstatic-leaflet' package: pip install xstatic-leaflet (or cdn=True)."
        raise OfflineError(msg) from exc
    return Path(xleaflet.BASE_DIR)


def leaflet_css(base: Path) -> str:
    """Leaflet's CSS with its images inlined as ``data:`` URLs.

    Examples
    --------
    >>> css = leaflet_css(_leaflet_dir())
    >>> "url(data:image/png;base64," in css and "url(images/" not in css
    True

    """
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        img = base / match.group(1)
        if not img.is_file():
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(img.read_bytes()).decode('ascii')})"

    return re.sub(r"url\((images/[^)]+\.png)\)", inline, css)


def leaflet_js(base: Path) -> str:
    """Leaflet's code, safe to put inside ``<script>`` (no source-map link).

    Examples
    --------
    >>> js = leaflet_js(_leaflet_dir())
    >>> "sourceMappingURL" in js, "</script" in js
    (False, False)

    """
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    return js.replace("</script", "<\\/script")


def _lib_needed(url: str, inline_code: str) -> bool:
    """Whether a CDN library folium links by default is used by the page's own code."""
    low = url.lower()
    if any(k in low for k in _AWESOME_LIBS):
        return "AwesomeMarkers" in inline_code
    if any(k in low for k in _JQUERY_LIBS):
        return bool(re.search(r"\$\(|jQuery", inline_code))
    return True


def _embed(url: str, kind: str, base: Path) -> str:
    """Return the inline ``<script>``/``<style>`` replacing a CDN link, or an OfflineError."""
    low = url.lower()
    if kind == "js" and re.search(r"/leaflet(-src)?\.js$", low):
        return f"<script>{leaflet_js(base)}</script>\n"
    if kind == "css" and re.search(r"/leaflet\.css$", low):
        return f"<style>{leaflet_css(base)}</style>\n"
    msg = (
        f"The map needs {url}, which cannot be embedded from an installed package. "
        "Remove the element that uses it (folium.Icon/Popup need Font Awesome and jQuery; "
        "use pointplan.maps layers instead) or save with cdn=True."
    )
    raise OfflineError(msg)


def rewrite_assets(page: str, *, cdn: bool) -> str:
    """Drop unused CDN libraries; unless ``cdn``, embed Leaflet and refuse any other URL.

    Examples
    --------
    >>> page = '<script src="https://cdn.jsdelivr.net/npm/jquery@3/dist/jquery.min.js"></script>'
    >>> rewrite_assets(page, cdn=True)
    ''

    """
    inline_code = _SCRIPT_RE.sub("", _LINK_RE.sub("", page))
    base = None if cdn else _leaflet_dir()

    def replace(match: re.Match[str], kind: str) -> str:
        url = match.group("url")
        if not _lib_needed(url, inline_code):
            return ""
        if base is None:
            return match.group(0)
        return _embed(url, kind, base)

    page = _SCRIPT_RE.sub(lambda mt: replace(mt, "js"), page)
    page = _LINK_RE.sub(lambda mt: replace(mt, "css"), page)
    left = None if cdn else _REMOTE_REF_RE.search(page)
    if left is not None:
        msg = (
            f"The map still loads {left.group(0)[:120]!r} from the internet, which a self-contained "
            "file cannot do. Remove that element or save with cdn=True."
        )
        raise OfflineError(msg)
    return page


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        msg = f"Cannot write the map to {path}: {exc}. Choose a writable folder."
        raise OutputError(msg) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)  # atomic (os.replace)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        msg = f"Cannot write the map to {path}: {exc}. Choose a writable folder."
        raise OutputError(msg) from exc
    except BaseException:  # interrupted: the previous map stays, no temporary file is left
        Path(tmp).unlink(missing_ok=True)
        raise


def save_map(m: folium.Map, path: str | os.PathLike[str], *, cdn: bool = False, offline: bool | None = None) -> Path:
    """Write a map to an HTML file, atomically; self-contained unless ``cdn=True``.

    Parameters
    ----------
    m
        The map (from :func:`assessment_map`, :func:`units_map` or any folium map).
    path
        The ``.html`` file to write (its folder is created if needed).
    cdn
        Link Leaflet from its CDN (a smaller file that needs internet to open). By
        default Leaflet's JavaScript and CSS (with its images) are embedded from the
        installed ``xstatic-leaflet`` package, so the file works with no internet; base
        tiles stay referenced and are drawn when reachable. Either way folium's unused
        CDN libraries (jQuery, Bootstrap, Font Awesome, awesome-markers) are dropped.
    offline
        The earlier name of the choice: ``offline=True`` is the default, ``offline=False``
        is ``cdn=True``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OfflineError
        When a self-contained file is asked for and the map uses a library that cannot be
        embedded (e.g. folium's own ``Icon`` markers or ``Popup``).
    OutputError
        When the file cannot be written.
    InputError
        When ``m`` is not a folium map, or ``cdn`` and ``offline`` contradict each other.

    Examples
    --------
    >>> import tempfile
    >>> m = folium.Map(tiles=None)
    >>> path = save_map(m, Path(tempfile.mkdtemp()) / "map.html")
    >>> page = path.read_text(encoding="utf-8")
    >>> bool(re.search(r'<(script|link)[^>]*(src|href)="https?://', page)), "L.map(" in page
    (False, True)

    """
    if not isinstance(m, folium.Map):
        msg = f"save_map needs a folium.Map, got {type(m).__name__}."
        raise InputError(msg)
    if offline is not None:
        if offline and cdn:
            msg = "save_map: offline=True and cdn=True contradict each other; pass only cdn=True or cdn=False."
            raise InputError(msg)
        cdn = not offline
    path = Path(path)
    data = rewrite_assets(m.get_root().render(), cdn=cdn).encode("utf-8")
    _write_atomic(path, data)
    logger.info("wrote %s (%.2f MB%s)", path, len(data) / 1e6, ", CDN-linked" if cdn else ", self-contained")
    return path
