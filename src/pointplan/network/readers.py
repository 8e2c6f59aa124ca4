"""Reading road network files: OSM XML (plain, .gz, .bz2), OSM PBF and GraphML (plain, .gz).

Each reader returns the *raw* graph of the file (every way, as osmnx builds it); the
caller (:func:`pointplan.network.load_network`) keeps the streets and simplifies.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

import networkx as nx

from pointplan._errors import InputError

__all__ = ["NETWORK_SUFFIXES", "file_kind", "read_raw"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: File name endings :func:`read_raw` understands, by kind.
NETWORK_SUFFIXES: dict[str, tuple[str, ...]] = {
    "graphml": (".graphml", ".graphml.gz"),
    "osm_xml": (".osm", ".xml", ".osm.gz", ".xml.gz", ".osm.bz2", ".xml.bz2"),
    "osm_pbf": (".osm.pbf", ".pbf"),
}


def file_kind(path: str | Path) -> str | None:
    """Return the kind of network file a name denotes (``graphml``, ``osm_xml``, ``osm_pbf``).

    Parameters
    ----------
    path
        File name or path.

    Returns
    -------
    str or None
        None when the ending is not one of :data:`NETWORK_SUFFIXES`.

    Examples
    --------
    >>> file_kind("hanoi_inner_drive_2025.graphml.gz"), file_kind("vn.osm.pbf"), file_kind("a.csv")
    ('graphml', 'osm_pbf', None)

    """
    name = Path(path).name.lower()
    for kind, suffixes in NETWORK_SUFFIXES.items():
        if name.endswith(suffixes):
            return kind
    return None


def _opener(path: Path) -> Callable[..., IO[Any]]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open
    if name.endswith(".bz2"):
        return bz2.open
    return open


def _read_graphml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return ox.load_graphml(graphml_str=f.read())
    return ox.load_graphml(path)


def _read_osm_xml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    if not path.name.lower().endswith((".gz", ".bz2")):
        return ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
    with tempfile.TemporaryDirectory(prefix="pointplan_osm_") as tmp:
        plain = Path(tmp) / "network.osm"
        with _opener(path)(path, "rb") as src, plain.open("wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
        return ox.graph_from_xml(plain, simplify=False, retain_all=True, bidirectional=False)


def _pbf_to_osm_xml(path: Path, out: Path) -> int:
    """Write the ``highway`` ways of a PBF file (and their nodes) as OSM XML; return the way count."""
    try:
        import osmium
    except ImportError as exc:
        msg = (
            f"Reading {path.name} (OSM PBF) needs pyosmium: pip install osmium (or convert the "
            "file to OSM XML with `osmium cat file.osm.pbf -o file.osm`)."
        )
        raise InputError(msg) from exc
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[str] = []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if not isinstance(obj, osmium.osm.Way) or "highway" not in obj.tags:
            continue
        refs = []
        for nd in obj.nodes:
            if nd.location.valid():
                nodes[nd.ref] = (nd.location.lat, nd.location.lon)
                refs.append(nd.ref)
        if len(refs) < 2:
            continue
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        tags = "".join(f"<tag k={quoteattr(t.k)} v={quoteattr(t.v)}/>" for t in obj.tags)
        ways.append(f'<way id="{obj.id}" version="1">{body}{tags}</way>\n')
    with out.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="pointplan">\n')
        f.writelines(f'<node id="{i}" version="1" lat="{y:.8f}" lon="{x:.8f}"/>\n' for i, (y, x) in nodes.items())
        f.writelines(ways)
        f.write("</osm>\n")
    return len(ways)


def _read_osm_pbf(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    with tempfile.TemporaryDirectory(prefix="pointplan_pbf_") as tmp:
        xml = Path(tmp) / "network.osm"
        n_ways = _pbf_to_osm_xml(path, xml)
        logger.info("%s: %d highway ways read with pyosmium", path.name, n_ways)
        return ox.graph_from_xml(xml, simplify=False, retain_all=True, bidirectional=False)


def read_raw(path: Path) -> nx.MultiDiGraph:
    """Read a network file into osmnx's raw graph (every way of the file).

    Parameters
    ----------
    path
        A file whose name ends with one of :data:`NETWORK_SUFFIXES`.

    Returns
    -------
    networkx.MultiDiGraph
        As ``osmnx.graph_from_xml`` / ``osmnx.load_graphml`` give it (lon/lat).

    Raises
    ------
    InputError
        An ending that is not a network file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> osm = '''<osm version="0.6"><node id="1" lat="21.0" lon="105.8"/>
    ... <node id="2" lat="21.001" lon="105.8"/>
    ... <way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way></osm>'''
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "tiny.osm"
    ...     _ = p.write_text(osm)
    ...     G = read_raw(p)
    >>> sorted(G.edges())
    [(1, 2), (2, 1)]

    """
    kind = file_kind(path)
    if kind == "graphml":
        return _read_graphml(path)
    if kind == "osm_xml":
        return _read_osm_xml(path)
    if kind == "osm_pbf":
        return _read_osm_pbf(path)
    ends = ", ".join(s for group in NETWORK_SUFFIXES.values() for s in group)
    msg = f"{path.name} is not a road network file this version reads: use a file ending in {ends}."
    raise InputError(msg)
