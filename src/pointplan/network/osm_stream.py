"""OSM data straight into the engine's arrays, streaming, without building a networkx graph.

A whole city's roads (1-2 million OSM nodes with footways, alleys and service ways) do
not fit the networkx route of :func:`~pointplan.network.load_network` (about 1 GB per
300,000 nodes). This module reads the routable ``highway`` ways of

* an OSM PBF or OSM XML file (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``) with
  pyosmium, in one pass with pyosmium's node-location index (nodes never reach Python);
* Overpass answers in JSON (the tiles :mod:`~pointplan.network.download` fetches), one
  tile at a time;

into flat arrays (:class:`Ways`: node references, per-way highway type, direction and
speed cap), then builds each mode's engine arrays with numpy and scipy: the same
rules as the networkx route (the same routable ways, osmnx's one-way rules, the speed
tables of :mod:`~pointplan.network.speeds`, great-circle edge lengths, the largest
weakly connected part, :data:`pointplan.settings.projected_crs`). The network is not
simplified (every OSM node stays a node), which changes no travel time between two
nodes.

Memory stays bounded by the road network itself: about 40 bytes per way node while
reading, and the arrays of the mode being built.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import time
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from pointplan._errors import InputError, NetworkError
from pointplan._validate import HANOI_BBOX, projected_crs
from pointplan.network._common import (
    FloatArray,
    IntArray,
    _check_mode,
    _check_speed,
    _parse_maxspeed,
    _truthy,
)
from pointplan.network.base import EngineBase
from pointplan.network.engine import NetworkEngine
from pointplan.network.graph import _CSRGraph
from pointplan.network.speeds import _NON_ROUTABLE, ACCESS_SPEEDS_KMH, _speed_rule
from pointplan.network.straight_streets import ArrayGraph

__all__ = ["LICENCE", "ArrayNetworkEngine", "Ways", "build_mode", "read_osm_file", "read_overpass_json"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Licence and attribution of every road network read from OpenStreetMap.
LICENCE = "ODbL 1.0 © OpenStreetMap contributors"

#: osmnx's values of the ``oneway`` tag meaning one-way, and those meaning "against the node order".
_ONEWAY = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
_REVERSED = frozenset({"-1", "reverse", "T"})

#: Viet Nam's extent (lon/lat): a network wholly outside it is another country's.
VIETNAM_BBOX = (102.1, 8.1, 109.5, 23.4)

_EARTH_RADIUS_M = 6_371_009.0  # osmnx's, for the same edge lengths


@dataclass(frozen=True)
class Ways:
    """The routable ``highway`` ways of an OSM source, as flat arrays.

    Attributes
    ----------
    refs : numpy.ndarray
        Node ids of every way, one way after another.
    offsets : numpy.ndarray
        Way ``i`` holds ``refs[offsets[i]:offsets[i + 1]]`` (at least two nodes).
    highway : numpy.ndarray
        Each way's ``highway`` value, as a position in ``vocabulary``.
    vocabulary : tuple of str
        The ``highway`` values.
    oneway : numpy.ndarray
        0 both ways, 1 one-way along the node order, -1 against it (osmnx's rules:
        ``oneway`` yes/true/1/-1/reverse, ``junction=roundabout``).
    maxspeed : numpy.ndarray
        Each way's ``maxspeed`` in km/h (NaN when untagged).
    node_ids, lon, lat : numpy.ndarray
        Every referenced node with a location, sorted by id.
    source : str
        What was read (a file name, or how many Overpass tiles).

    Examples
    --------
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.001, "lon": 105.8},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "footway"}}]}])
    >>> w.n_ways, w.vocabulary, w.refs.tolist()
    (1, ('footway',), [1, 2])

    """

    refs: IntArray
    offsets: IntArray
    highway: IntArray
    vocabulary: tuple[str, ...]
    oneway: npt.NDArray[np.int8]
    maxspeed: FloatArray
    node_ids: IntArray
    lon: FloatArray
    lat: FloatArray
    source: str

    @property
    def n_ways(self) -> int:
        """Number of ways."""
        return len(self.offsets) - 1

    @cached_property
    def segments(self) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
        """Every segment of every way: node positions a, b (in ``node_ids``), way, metres.

        Segments whose end lacks a location, and zero-length loops (a node repeated), are
        left out. Worked out once and shared by the modes.
        """
        counts = np.diff(self.offsets)
        way_of = np.repeat(np.arange(self.n_ways), counts)
        starts = np.ones(len(self.refs), dtype=bool)
        starts[self.offsets[1:] - 1] = False  # a way's last node starts no segment
        i = np.flatnonzero(starts)
        ids = self.node_ids
        pos = np.minimum(np.searchsorted(ids, self.refs), len(ids) - 1)
        found = ids[pos] == self.refs
        a, b = pos[i], pos[i + 1]
        ok = found[i] & found[i + 1] & (a != b)
        a, b, w = a[ok], b[ok], way_of[i][ok]
        return a, b, w, _great_circle(self.lat[a], self.lon[a], self.lat[b], self.lon[b])

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(lon min, lat min, lon max, lat max) of the nodes."""
        return (float(self.lon.min()), float(self.lat.min()), float(self.lon.max()), float(self.lat.max()))


class _Collector:
    """Accumulates ways and node locations in compact arrays while a source is read."""

    def __init__(self) -> None:
        self.refs = array("q")
        self.lengths = array("q")
        self.highway = array("l")
        self.oneway = array("b")
        self.maxspeed = array("d")
        self.node_id = array("q")
        self.node_lon = array("d")
        self.node_lat = array("d")
        self.vocab: dict[str, int] = {}
        self.seen: set[int] = set()
        self.n_read = 0

    def way(self, way_id: int, refs: Sequence[int], tags: Mapping[str, str], *, dedupe: bool = False) -> bool:
        """Add a way if it is routable (the filter of the networkx route); return whether it was."""
        self.n_read += 1
        attrs = _way_attrs(tags)
        if attrs is None or len(refs) < 2:
            return False
        if dedupe:
            if way_id in self.seen:
                return False
            self.seen.add(way_id)
        self.add(refs, attrs)
        return True

    def add(self, refs: Sequence[int], attrs: tuple[str, int, float]) -> None:
        """Add a routable way (``attrs`` from :func:`_way_attrs`)."""
        hw, direction, cap = attrs
        self.refs.extend(refs)
        self.lengths.append(len(refs))
        self.highway.append(self.vocab.setdefault(hw, len(self.vocab)))
        self.oneway.append(direction)
        self.maxspeed.append(cap)

    def finish(self, source: str) -> Ways:
        """Return the collected ways, with node locations unique and sorted by id."""
        ids = np.frombuffer(self.node_id, dtype=np.int64)
        node_ids, first = np.unique(ids, return_index=True)
        offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self.lengths, dtype=np.int64), out=offsets[1:])
        return Ways(
            refs=np.frombuffer(self.refs, dtype=np.int64).copy(),
            offsets=offsets,
            highway=np.asarray(self.highway, dtype=np.int64),
            vocabulary=tuple(self.vocab),
            oneway=np.asarray(self.oneway, dtype=np.int8),
            maxspeed=np.asarray(self.maxspeed, dtype=float),
            node_ids=node_ids,
            lon=np.frombuffer(self.node_lon, dtype=float)[first].copy(),
            lat=np.frombuffer(self.node_lat, dtype=float)[first].copy(),
            source=source,
        )


def _way_attrs(tags: Mapping[str, str]) -> tuple[str, int, float] | None:
    """(highway, direction, maxspeed) of a routable way, None for any other way.

    Routable as in :func:`pointplan.network.load_network`: a ``highway`` tag not in the
    never-routable list, not an area, not private (``access`` or ``service``).
    """
    hw = tags.get("highway")
    if not hw or hw in _NON_ROUTABLE:
        return None
    if _truthy(tags.get("area")) or tags.get("access") == "private" or tags.get("service") == "private":
        return None
    one = tags.get("oneway")
    direction = 0
    if one in _ONEWAY or tags.get("junction") == "roundabout":
        direction = -1 if one in _REVERSED else 1
    return hw, direction, _parse_maxspeed(tags.get("maxspeed"))


# ---------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------


def read_osm_file(path: str | Path) -> Ways:
    """Read the routable ways of an OSM PBF or XML file with pyosmium, streaming.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2`` (e.g. a province
        clipped from Viet Nam's extract with ``osmium extract``).

    Returns
    -------
    Ways

    Raises
    ------
    NetworkError
        The file holds no routable ``highway`` way, or lies outside Hanoi; the message
        names the file and the fix.

    Examples
    --------
    >>> from pointplan.data import data_file
    >>> w = read_osm_file(data_file("osm/vanmieu.osm"))
    >>> w.n_ways, len(w.node_ids)
    (504, 2326)

    """
    import osmium

    path = Path(path)
    if not path.is_file():
        msg = f"OSM file {path} does not exist. Check the path."
        raise InputError(msg)
    col = _Collector()
    t0 = time.perf_counter()
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for way in processor:
            _add_osmium_way(col, way)
    except RuntimeError as exc:
        msg = (
            f"Could not read {path.name} ({path}) as OSM data: {exc}. Check that it is a complete "
            "OSM PBF or XML file (download or extract it again)."
        )
        raise NetworkError(msg) from exc
    ways = col.finish(path.name)
    logger.info(
        "%s: %d routable ways of %d read in %.1f s", path.name, ways.n_ways, col.n_read, time.perf_counter() - t0
    )
    check_ways(ways, f"{path.name} ({path})")
    return ways


_TAG_KEYS = ("highway", "area", "access", "service", "oneway", "junction", "maxspeed")


def _add_osmium_way(col: _Collector, way: Any) -> None:
    col.n_read += 1
    get = way.tags.get
    attrs = _way_attrs({k: v for k in _TAG_KEYS if (v := get(k)) is not None})
    if attrs is None:
        return
    refs = []
    ids, lons, lats = col.node_id, col.node_lon, col.node_lat
    for nd in way.nodes:
        refs.append(nd.ref)
        loc = nd.location
        if loc.valid():  # a node outside a clipped extract has none: its segments are left out
            ids.append(nd.ref)
            lons.append(loc.lon)
            lats.append(loc.lat)
    if len(refs) >= 2:
        col.add(refs, attrs)


def _load_json(item: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(item, Mapping):
        return item
    path = Path(item)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, Mapping) or not isinstance(data.get("elements"), list):
        msg = f"{path.name} is not an Overpass answer in JSON (no 'elements' list). Download it again."
        raise NetworkError(msg)
    return data


def read_overpass_json(answers: Iterable[str | Path | Mapping[str, Any]], *, check: bool = True) -> Ways:
    """Read the routable ways of Overpass answers (JSON, ``out;`` with nodes), one at a time.

    Ways and nodes repeated across answers (tiles overlap where a way crosses a tile's
    edge) are kept once.

    Parameters
    ----------
    answers
        Parsed answers or files (``.json`` or ``.json.gz``).
    check
        Check the result holds ways and lies in Hanoi (:func:`check_ways`).

    Returns
    -------
    Ways

    Examples
    --------
    >>> a = {"elements": [{"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.0, "lon": 105.801},
    ...     {"type": "way", "id": 7, "nodes": [1, 2], "tags": {"highway": "service", "oneway": "-1"}}]}
    >>> w = read_overpass_json([a, a])  # the same tile twice: one way
    >>> w.n_ways, w.oneway.tolist()
    (1, [-1])

    """
    col = _Collector()
    seen_nodes: set[int] = set()
    n = 0
    for item in answers:
        n += 1
        data = _load_json(item)
        for el in data["elements"]:
            kind = el.get("type")
            if kind == "node":
                nid = el["id"]
                if nid not in seen_nodes:
                    seen_nodes.add(nid)
                    col.node_id.append(nid)
                    col.node_lon.append(el["lon"])
                    col.node_lat.append(el["lat"])
            elif kind == "way":
                col.way(el["id"], el.get("nodes", []), el.get("tags", {}), dedupe=True)
    ways = col.finish(f"{n} Overpass answer(s)")
    if check:
        check_ways(ways, ways.source)
    return ways


def check_ways(ways: Ways, what: str) -> None:
    """Raise a NetworkError naming ``what`` when it holds no way or lies outside Hanoi.

    Parameters
    ----------
    ways
        What a reader returned.
    what
        The source, for the message.

    Examples
    --------
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 48.85, "lon": 2.35},
    ...     {"type": "node", "id": 2, "lat": 48.86, "lon": 2.35},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "primary"}}]}], check=False)
    >>> try:
    ...     check_ways(w, "paris.osm.pbf")
    ... except NetworkError as e:
    ...     print(str(e)[:60])
    paris.osm.pbf lies outside Viet Nam (lon 2.350-2.350, lat 48

    """
    if ways.n_ways == 0 or len(ways.node_ids) == 0:
        msg = (
            f"{what} holds no routable road: no way with a 'highway' tag (and node locations). "
            "Use an OSM extract with the ways, not only nodes, e.g. the province clipped from Viet "
            "Nam's extract: osmium extract -b 105.28,20.56,106.02,21.39 vietnam-latest.osm.pbf -o "
            "hanoi.osm.pbf, or run `pointplan roads --download`."
        )
        raise NetworkError(msg)
    x0, y0, x1, y1 = ways.bbox
    where = f"lon {x0:.3f}-{x1:.3f}, lat {y0:.3f}-{y1:.3f}"
    vx0, vy0, vx1, vy1 = VIETNAM_BBOX
    hx0, hy0, hx1, hy1 = HANOI_BBOX
    if x1 < vx0 or x0 > vx1 or y1 < vy0 or y0 > vy1:
        place = "outside Viet Nam"
    elif x1 < hx0 or x0 > hx1 or y1 < hy0 or y0 > hy1:
        place = "in Viet Nam but outside Hanoi"
    else:
        return
    msg = (
        f"{what} lies {place} ({where}); pointplan plans Hanoi's service points, within lon "
        f"{hx0}-{hx1}, lat {hy0}-{hy1}. Use Hanoi's roads: clip them from Viet Nam's extract "
        "(osmium extract -b 105.28,20.56,106.02,21.39 vietnam-latest.osm.pbf -o hanoi.osm.pbf) "
        "or run `pointplan roads --download`."
    )
    raise NetworkError(msg)


# ---------------------------------------------------------------------------------------
# Ways -> a mode's arrays
# ---------------------------------------------------------------------------------------


def _great_circle(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Metres between points (osmnx's haversine and earth radius)."""
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dy, dx = y2 - y1, np.deg2rad(lon2 - lon1)
    h = np.sin(dy / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dx / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(1.0, h))) * _EARTH_RADIUS_M


def _mode_edges(
    ways: Ways, mode: str, speeds_kmh: float | Mapping[str, float] | None
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Directed edges usable by ``mode``: node positions u, v (in ``ways.node_ids``), seconds, metres."""
    rule = _speed_rule(mode, speeds_kmh)
    kmh = np.array([rule.speed((hw,)) for hw in ways.vocabulary], dtype=float)[ways.highway]
    if rule.uniform_kmh is None:
        kmh = np.fmin(kmh, ways.maxspeed)  # fmin ignores a missing cap
    a, b, w, metres = ways.segments
    keep = kmh[w] > 0
    a, b, w, metres = a[keep], b[keep], w[keep], metres[keep]
    secs = metres * 3.6 / kmh[w]
    direction = np.zeros(len(w), dtype=np.int8) if mode == "walk" else ways.oneway[w]
    fwd, back = direction >= 0, direction <= 0  # 0: both ways
    u = np.concatenate([a[fwd], b[back]])
    v = np.concatenate([b[fwd], a[back]])
    return u, v, np.concatenate([secs[fwd], secs[back]]), np.concatenate([metres[fwd], metres[back]])


def _largest_part(n: int, u: IntArray, v: IntArray) -> npt.NDArray[np.bool_]:
    """Edges within the largest weakly connected part (as osmnx's largest_component)."""
    if len(u) == 0:
        return np.zeros(0, dtype=bool)
    adj = sparse.coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n)).tocsr()
    _, label = connected_components(adj, directed=True, connection="weak")
    used = np.zeros(n, dtype=bool)
    used[u] = used[v] = True
    sizes = np.bincount(label[used])
    return label[u] == int(np.argmax(sizes))


def build_mode(
    ways: Ways,
    mode: str = "motorbike",
    *,
    speeds_kmh: float | Mapping[str, float] | None = None,
    retain_all: bool = False,
) -> _CSRGraph:
    """Build the engine's arrays for one mode from the ways (no networkx).

    Parameters
    ----------
    ways
        From :func:`read_osm_file` or :func:`read_overpass_json`.
    mode
        Travel mode (:data:`~pointplan.network.MODES`): the ways it may use, at its
        speeds by highway type (:data:`~pointplan.network.HIGHWAY_SPEEDS_KMH`, capped
        by ``maxspeed``); walking ignores one-way streets.
    speeds_kmh
        Speed override, as in :func:`~pointplan.network.add_travel_times`.
    retain_all
        Keep every connected part (default: the largest weakly connected part, as
        :func:`~pointplan.network.load_network`).

    Returns
    -------
    pointplan.network.graph._CSRGraph
        What :class:`ArrayNetworkEngine` routes on.

    Raises
    ------
    NetworkError
        No way is usable by the mode.

    Examples
    --------
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.0, "lon": 105.81},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "footway"}}]}])
    >>> g = build_mode(w, "walk")
    >>> g.n, g.rev.nnz, round(float(g.rev.data[0]), 1)  # 1,038 m at 4.5 km/h, both ways
    (2, 2, 830.5)

    """
    t0 = time.perf_counter()
    mode = _check_mode(mode)
    u, v, secs, metres = _mode_edges(ways, mode, speeds_kmh)
    if len(u) == 0:
        msg = (
            f"{ways.source} has no way usable by mode {mode!r} (highway types: "
            f"{', '.join(ways.vocabulary[:12])}). Use a network with the roads this mode may use."
        )
        raise NetworkError(msg)
    if not retain_all:
        keep = _largest_part(len(ways.node_ids), u, v)
        u, v, secs, metres = u[keep], v[keep], secs[keep], metres[keep]
    mask = np.zeros(len(ways.node_ids), dtype=bool)
    mask[u] = mask[v] = True
    used = np.flatnonzero(mask)
    new_pos = np.cumsum(mask) - 1  # O(n): no sort of the arcs' ends
    u, v = new_pos[u], new_pos[v]
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", projected_crs(), always_xy=True)
    x, y = to_xy.transform(ways.lon[used], ways.lat[used])
    g = _csr_graph(ways.node_ids[used], np.asarray(x, float), np.asarray(y, float), u, v, secs, metres)
    g.seconds = time.perf_counter() - t0
    logger.info("%s network: %d nodes, %d arcs in %.1f s", mode, g.n, g.rev.nnz, g.seconds)
    return g


def _csr_graph(
    node_ids: IntArray, x: FloatArray, y: FloatArray, u: IntArray, v: IntArray, t: FloatArray, length: FloatArray
) -> _CSRGraph:
    """Reversed CSR of the fastest edge per node pair, as ``graph._to_csr`` builds it."""
    key = v.astype(np.int64) * len(node_ids) + u
    order = np.argsort(key, kind="stable")
    k = key[order]
    dup = np.flatnonzero(k[1:] == k[:-1])
    if dup.size:  # parallel arcs (rare): the fastest, then the shortest, as graph._to_csr
        involved = np.unique(np.concatenate([dup, dup + 1]))
        sub = order[involved]
        order[involved] = sub[np.lexsort((length[sub], t[sub], key[sub]))]
        k = key[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    sel = order[first]
    return _assemble(node_ids, x, y, v[sel], u[sel], t[sel], length[sel])


def _assemble(
    node_ids: IntArray, x: FloatArray, y: FloatArray, rows: IntArray, cols: IntArray, t: FloatArray, length: FloatArray
) -> _CSRGraph:
    """Build a :class:`_CSRGraph` from arcs sorted by (head, tail): rows = head, cols = tail."""
    n = len(node_ids)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if max(n, len(rows)) < 2**31 - 1 else np.int64
    rev = sparse.csr_matrix((t, cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n, n))
    rev.has_sorted_indices = True
    has_edge = np.zeros(n, dtype=bool)
    has_edge[rows] = True
    has_edge[cols] = True
    snap_nodes = np.flatnonzero(has_edge)
    return ArrayGraph(
        nodes=pd.Index(node_ids),
        x=x,
        y=y,
        crs=projected_crs(),
        rev=rev,
        rev_len=length,
        rev_keys=rows.astype(np.int64) * n + cols,
        rev_geom=np.full(len(rows), None, dtype=object),
        snap_nodes=snap_nodes,
        tree=None,  # built on first use
        seconds=0.0,
    )


# ---------------------------------------------------------------------------------------
# An engine on arrays
# ---------------------------------------------------------------------------------------


class ArrayNetworkEngine(NetworkEngine):
    """A :class:`~pointplan.network.NetworkEngine` on arrays built without networkx.

    Everything a NetworkEngine answers (``nearest``, ``od_long``, ``snap``,
    ``node_times``, service areas) works the same; :attr:`graph` is None (there is no
    networkx graph), so wrap it in a :class:`~pointplan.network.HybridEngine` rather than
    asking for another mode from it.

    Parameters
    ----------
    arrays
        From :func:`build_mode` or :func:`pointplan.network.roadcache.load_arrays`.
    mode
        The mode the arrays were built for.
    access_speed_kmh, max_snap_m
        As for :class:`~pointplan.network.NetworkEngine`.
    source
        What the arrays came from (for ``repr`` and reports).

    Attributes
    ----------
    for_mode : callable or None
        ``for_mode(mode)`` returns the engine of the same roads for another mode (set by
        :func:`pointplan.network.roadcache.roads_engine`; None for arrays built by hand).

    Examples
    --------
    >>> import geopandas as gpd
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.0, "lon": 105.81},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "primary"}}]}])
    >>> eng = ArrayNetworkEngine(build_mode(w, "motorbike"), "motorbike")
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8, 105.81], [21.0, 21.0]), crs=4326)
    >>> out = eng.nearest(pts.iloc[[1]], pts.iloc[[0]])  # a two-way primary street
    >>> round(float(out["minutes"].iloc[0]), 2)  # 1,038 m at 30 km/h
    2.08

    """

    def __init__(
        self,
        arrays: _CSRGraph,
        mode: str = "motorbike",
        *,
        access_speed_kmh: float | None = None,
        max_snap_m: float = 500.0,
        source: str = "arrays",
    ) -> None:
        mode = _check_mode(mode)
        EngineBase.__init__(self, mode)  # the read-only mode (NetworkEngine.__init__ needs a graph)
        self.access_speed_kmh = _check_speed(
            ACCESS_SPEEDS_KMH[mode] if access_speed_kmh is None else access_speed_kmh, "access_speed_kmh"
        )
        if not (isinstance(max_snap_m, int | float) and max_snap_m >= 0) or math.isnan(max_snap_m):
            msg = f"max_snap_m must be a number >= 0, got {max_snap_m!r}."
            raise InputError(msg)
        self.max_snap_m = float(max_snap_m)
        self.graph = None
        self.source = source
        self._g = arrays
        self.conversion_seconds = arrays.seconds
        self.crs = arrays.crs
        # roads read from OSM files keep every way a mode may use (footways and paths for
        # walking): a pedestrian network, so no drive-network correction
        self.pedestrian_ways = mode == "walk"
        self.walk_correction = 1.0
        self.for_mode: Callable[[str], ArrayNetworkEngine] | None = None

    def __repr__(self) -> str:
        return (
            f"ArrayNetworkEngine(mode={self.mode!r}, nodes={self._g.n}, arcs={self._g.rev.nnz}, source={self.source!r})"
        )
