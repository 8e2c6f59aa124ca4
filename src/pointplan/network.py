"""Road networks and travel times: the engine every accessibility analysis uses.

Accessibility is measured in travel time, not crow-flies distance. This module

* loads road graphs with osmnx (an OSM XML file, a GraphML file, or a download for a
  place or polygon that is cached on disk and only made when
  :data:`pointplan.settings.allow_downloads` is on);
* gives every edge a speed and a travel time for a travel mode (``walk``, ``bike``,
  ``motorbike``, ``car``) from its OSM highway type, with Hanoi defaults the user can
  override;
* converts the graph once to a sparse matrix and answers every question with scipy's
  compiled Dijkstra: nearest point and its travel time for every demand location (one
  multi-source pass), sparse origin-destination times within a cut-off, and service areas;
* falls back, when no network is at hand, to straight-line distance x a circuity factor
  / speed (:class:`CrowFliesEngine`).

Every result says which method produced it (column and ``DataFrame.attrs["method"]``):
``"network"`` or ``"crow_flies_circuity"``.

Direction
---------
Times are for a citizen travelling *from* a demand location (origin) *to* a service
point (destination). On a network with one-way streets this differs from the trip back;
the engine runs Dijkstra on the reversed graph so one pass from all the points gives
every origin's time *to* its nearest point.

Snapping
--------
Origins and destinations are snapped to the nearest network node (in the projected CRS);
the straight-line snap distance is added at both ends at the mode's *access speed*
(:data:`ACCESS_SPEEDS_KMH`, overridable). Points farther than ``max_snap_m`` from the
network are reported (``snap()["far"]``) and a :class:`~pointplan.PrecisionWarning`
counts them.

Unreachable
-----------
Origins that cannot reach any destination (a disconnected part of the network, a
one-way trap) get ``inf`` minutes and distance and a missing ``dest``, and an
:class:`~pointplan.UnreachableWarning` counts them; never a wrong finite number.
"""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import warnings
import weakref
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._errors import (
    CRSError,
    DataNotFoundError,
    InputError,
    NetworkError,
    OfflineError,
    PointplanError,
    PrecisionWarning,
    UnreachableWarning,
)
from pointplan._validate import check_geometries, ensure_gdf, projected_crs

__all__ = [
    "ACCESS_SPEEDS_KMH",
    "DEFAULT_CIRCUITY",
    "DEFAULT_SPEEDS_KMH",
    "EXCLUDED_HIGHWAYS",
    "HIGHWAY_SPEEDS_KMH",
    "MODES",
    "CrowFliesEngine",
    "NetworkEngine",
    "NodeTimes",
    "add_travel_times",
    "calibrate_circuity",
    "clear_cache",
    "load_network",
    "make_engine",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# ---------------------------------------------------------------------------------------
# Modes and speeds
# ---------------------------------------------------------------------------------------

#: Travel modes understood by pointplan.
MODES: tuple[str, ...] = ("walk", "bike", "motorbike", "car")

#: Door-to-door planning speed of each mode in Hanoi (km/h). Used by the crow-flies
#: fallback and for network edges whose highway type is missing or unknown.
#:
#: These are planning assumptions, not measurements; override them with local data
#: (``speeds_kmh=...``) when you have it.
#:
#: * ``walk`` 4.5 km/h (1.25 m/s): the usual planning walking speed, at the lower end
#:   of the 4.5-5 km/h range because Hanoi sidewalks are often taken by parked
#:   motorbikes and vendors and many users of administrative services are elderly.
#: * ``bike`` 12 km/h: utility cycling in mixed urban traffic (typically 12-15 km/h).
#: * ``motorbike`` 25 km/h: the mode most Hanoians use to reach an office; an average
#:   for the inner city at busy hours, where arterials flow at 25-35 km/h and alleys
#:   (ngõ) at 10-20 km/h.
#: * ``car`` 20 km/h: cars are slower than motorbikes in Hanoi's congested centre and
#:   cannot use most alleys.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "walk": 4.5,
    "bike": 12.0,
    "motorbike": 25.0,
    "car": 20.0,
}

_WALK_KMH = DEFAULT_SPEEDS_KMH["walk"]

#: Speed (km/h) by OSM ``highway`` type for each mode: typical operating speeds in
#: Hanoi, not legal limits. An edge's ``maxspeed`` tag, when present, caps the speed.
#: Types not listed (and edges without a ``highway`` tag) use
#: :data:`DEFAULT_SPEEDS_KMH`; types in :data:`EXCLUDED_HIGHWAYS` are impassable.
HIGHWAY_SPEEDS_KMH: dict[str, dict[str, float]] = {
    "walk": {
        **{
            t: _WALK_KMH
            for t in (
                "trunk", "trunk_link", "primary", "primary_link", "secondary",
                "secondary_link", "tertiary", "tertiary_link", "unclassified",
                "residential", "living_street", "service", "road", "track", "path",
                "footway", "pedestrian", "cycleway", "bridleway", "corridor",
            )
        },
        "steps": 3.0,
    },
    "bike": {
        "trunk": 14.0, "trunk_link": 12.0, "primary": 14.0, "primary_link": 12.0,
        "secondary": 13.0, "secondary_link": 12.0, "tertiary": 12.0,
        "tertiary_link": 11.0, "unclassified": 12.0, "residential": 11.0, "road": 11.0,
        "living_street": 8.0, "service": 9.0, "track": 8.0, "path": 8.0,
        "cycleway": 14.0, "bridleway": 6.0, "footway": 5.0, "pedestrian": 5.0,
    },
    "motorbike": {
        "trunk": 35.0, "trunk_link": 25.0, "primary": 30.0, "primary_link": 25.0,
        "secondary": 28.0, "secondary_link": 22.0, "tertiary": 25.0,
        "tertiary_link": 20.0, "unclassified": 22.0, "residential": 18.0, "road": 20.0,
        "living_street": 12.0, "service": 15.0, "track": 12.0, "path": 10.0,
    },
    "car": {
        "motorway": 60.0, "motorway_link": 40.0, "trunk": 35.0, "trunk_link": 25.0,
        "primary": 25.0, "primary_link": 20.0, "secondary": 22.0, "secondary_link": 18.0,
        "tertiary": 20.0, "tertiary_link": 16.0, "unclassified": 18.0,
        "residential": 15.0, "road": 15.0, "living_street": 8.0, "service": 10.0,
        "track": 10.0,
    },
}  # fmt: skip

#: Ways that are never routable (osmnx's ``"all"`` filter plus a few more).
_NON_ROUTABLE: frozenset[str] = frozenset(
    {
        "abandoned", "bus_stop", "construction", "disused", "elevator", "emergency_bay",
        "escape", "no", "planned", "platform", "proposed", "raceway", "razed",
        "rest_area", "services",
    }
)  # fmt: skip

#: Highway types a mode may not use. Motorbikes are banned from expressways
#: (đường cao tốc, OSM ``motorway``) in Vietnam.
EXCLUDED_HIGHWAYS: dict[str, frozenset[str]] = {
    "walk": _NON_ROUTABLE | {"motorway", "motorway_link", "busway"},
    "bike": _NON_ROUTABLE | {"motorway", "motorway_link", "busway", "steps", "corridor"},
    "motorbike": _NON_ROUTABLE
    | {
        "motorway", "motorway_link", "busway", "footway", "pedestrian", "steps",
        "cycleway", "bridleway", "corridor",
    },
    "car": _NON_ROUTABLE
    | {
        "busway", "footway", "pedestrian", "steps", "cycleway", "bridleway", "corridor",
        "path",
    },
}  # fmt: skip

#: Speed (km/h) of the off-network leg between a point and its nearest network node:
#: the mode itself at alley speed (the last metres through a ngõ), walking for ``walk``.
ACCESS_SPEEDS_KMH: dict[str, float] = {
    "walk": _WALK_KMH,
    "bike": HIGHWAY_SPEEDS_KMH["bike"]["service"],
    "motorbike": HIGHWAY_SPEEDS_KMH["motorbike"]["service"],
    "car": HIGHWAY_SPEEDS_KMH["car"]["service"],
}

#: Default ratio of network distance to straight-line distance for the crow-flies
#: fallback. Studies of urban road networks find about 1.2 for random pairs of points
#: (Newell 1980; O'Sullivan 1996: 1.21-1.23 around transit stations; Giacomin &
#: Levinson 2015 for 51 US metropolitan areas), higher for short trips and for walking
#: and cycling (Dill 2003). 1.3 allows for the short trips (a few km) that matter for a
#: 30-minute standard and for Hanoi's alleys and dead ends. :func:`calibrate_circuity`
#: measures the factor on any network at hand and replaces this value. On the small
#: Văn Miếu extract (1.3 x 0.8 km, ``../shared/data/osm``) it gives about 1.5 for walking
#: and 1.7 for motorbikes (one-way streets): trips of a few hundred metres inside a
#: window cut from the city are more circuitous than city-scale trips, so calibrate on a
#: network that covers the study area rather than reuse that figure.
DEFAULT_CIRCUITY: float = 1.3

#: Edge attribute holding the travel time in seconds.
TIME_ATTR = "travel_time_s"
#: Edge attribute holding the speed in km/h.
SPEED_ATTR = "speed_kmh"
_WALK_FLAG = "pointplan_walk_reverse"
_MODE_KEY = "pointplan_mode"
_VERSION_KEY = "pointplan_tt_version"

_NETWORK = "network"
_CROW = "crow_flies_circuity"

# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        msg = f"Unknown travel mode {mode!r}: use one of {', '.join(MODES)}."
        raise InputError(msg)
    return mode


def _check_speed(value: object, what: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        msg = f"{what} must be a number (km/h), got {value!r}."
        raise InputError(msg) from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        req = ">= 0" if allow_zero else "> 0"
        msg = f"{what} must be a finite speed {req} km/h, got {value!r}."
        raise InputError(msg)
    return v


def _check_minutes(max_minutes: float) -> float:
    try:
        v = float(max_minutes)
    except (TypeError, ValueError):
        msg = f"max_minutes must be a number, got {max_minutes!r}."
        raise InputError(msg) from None
    if not math.isfinite(v) or v < 0:
        msg = f"max_minutes must be a finite number >= 0, got {max_minutes!r}."
        raise InputError(msg)
    return v


def _truthy(value: object) -> bool:
    if isinstance(value, list | tuple):
        return any(_truthy(v) for v in value)
    if isinstance(value, str):
        return value.strip().lower() in {"yes", "true", "1", "-1", "reverse"}
    return bool(value) if value is not None else False


def _highway_key(value: object) -> tuple[str, ...]:
    """Return the highway type(s) of an edge as a tuple (osmnx may merge them in lists)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, list | tuple | set):
        return tuple(str(v) for v in value)
    text = str(value)
    if text.startswith("[") and text.endswith("]"):  # list stored as text (GraphML)
        return tuple(t.strip(" '\"") for t in text[1:-1].split(",") if t.strip(" '\""))
    return (text,)


_MAXSPEED_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(mph)?")


def _parse_maxspeed(value: object) -> float:
    """Return a maxspeed tag in km/h (the lowest of several), or NaN."""
    if value is None:
        return math.nan
    items = value if isinstance(value, list | tuple) else [value]
    speeds = []
    for item in items:
        m = _MAXSPEED_RE.search(str(item))
        if m:
            v = float(m.group(1)) * (1.609344 if m.group(2) else 1.0)
            if v > 0:
                speeds.append(v)
    return min(speeds) if speeds else math.nan


def _as_float(value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return v


def _graph_crs(G: nx.Graph) -> pyproj.CRS:
    crs = G.graph.get("crs")
    if crs is None:
        msg = (
            "The road graph has no CRS (G.graph['crs'] is missing). Set it to the CRS of "
            "the node x/y coordinates, e.g. G.graph['crs'] = 'EPSG:4326' for lon/lat."
        )
        raise CRSError(msg)
    return pyproj.CRS.from_user_input(crs)


def _check_coordinates_fit(G: nx.Graph, crs: pyproj.CRS) -> None:
    """Raise CRSError when a graph said to be in lon/lat has coordinates out of range."""
    if not crs.is_geographic:
        return
    xy = np.array([(_as_float(d.get("x")), _as_float(d.get("y"))) for _, d in G.nodes(data=True)])
    bad = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if bad.any():
        x, y = xy[np.flatnonzero(bad)[0]]
        msg = (
            f"The road graph's CRS is {crs.to_string()} (longitude/latitude in degrees) but "
            f"{int(bad.sum())} nodes have coordinates out of that range (e.g. x={x:g}, y={y:g}): "
            "they look like metres. Set G.graph['crs'] to the CRS the coordinates are in, e.g. "
            "'EPSG:32648' (UTM 48N)."
        )
        raise CRSError(msg)


def _check_graph(G: object) -> nx.DiGraph:
    if not isinstance(G, nx.DiGraph):
        msg = (
            f"Expected a directed networkx graph (osmnx MultiDiGraph), got "
            f"{type(G).__name__}. Load one with pointplan.network.load_network(...)."
        )
        raise NetworkError(msg)
    if G.number_of_nodes() == 0 or not any(len(nbrs) for nbrs in G.adj.values()):
        msg = "The road graph is empty (no nodes or no edges)."
        raise NetworkError(msg)
    return G


# ---------------------------------------------------------------------------------------
# Speeds and travel times
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SpeedRule:
    """Resolved speeds for one mode (defaults merged with the user's override)."""

    mode: str
    table: Mapping[str, float]
    default_kmh: float
    excluded: frozenset[str]
    uniform_kmh: float | None = None
    _memo: dict[tuple[str, ...], float] = field(default_factory=dict, compare=False)

    def speed(self, highway: tuple[str, ...]) -> float:
        """Speed (km/h) for a highway key; 0 means impassable."""
        got = self._memo.get(highway)
        if got is not None:
            return got
        if any(t in self.excluded for t in highway):
            v = 0.0
        elif self.uniform_kmh is not None:
            v = self.uniform_kmh
        elif not highway:
            v = self.default_kmh
        else:
            speeds = [self.table.get(t, self.default_kmh) for t in highway]
            v = 0.0 if min(speeds) == 0 else float(np.mean(speeds))
        self._memo[highway] = v
        return v


def _speed_rule(mode: str, speeds_kmh: float | Mapping[str, float] | None) -> _SpeedRule:
    mode = _check_mode(mode)
    table = dict(HIGHWAY_SPEEDS_KMH[mode])
    default = DEFAULT_SPEEDS_KMH[mode]
    excluded = set(EXCLUDED_HIGHWAYS[mode])
    uniform = None
    if speeds_kmh is None:
        pass
    elif isinstance(speeds_kmh, Mapping):
        for key, value in speeds_kmh.items():
            v = _check_speed(value, f"speeds_kmh[{key!r}]", allow_zero=True)
            if key == "default":
                if v == 0:
                    msg = "speeds_kmh['default'] must be > 0."
                    raise InputError(msg)
                default = v
            elif v == 0:
                excluded.add(str(key))
            else:
                table[str(key)] = v
                excluded.discard(str(key))
    else:
        uniform = _check_speed(speeds_kmh, "speeds_kmh")
    return _SpeedRule(mode, table, default, frozenset(excluded), uniform)


def _sync_walk_reverse(G: nx.DiGraph, walk: bool) -> None:
    """Remove reverse edges added for walking, then add them again if ``walk``."""
    added: list[tuple[Any, ...]]
    if G.is_multigraph():
        added = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if d.get(_WALK_FLAG)]
    else:
        added = [(u, v) for u, v, d in G.edges(data=True) if d.get(_WALK_FLAG)]
    G.remove_edges_from(added)
    if not walk:
        return
    new = []
    for u, v, d in G.edges(data=True):
        if u == v:
            continue
        has_reverse = G.has_edge(v, u)
        if has_reverse and (not _truthy(d.get("oneway")) or not G.is_multigraph()):
            continue
        nd = dict(d)
        nd[_WALK_FLAG] = True
        if "reversed" in nd:
            nd["reversed"] = not _truthy(nd["reversed"])
        geom = nd.get("geometry")
        if isinstance(geom, shapely.LineString):
            nd["geometry"] = shapely.reverse(geom)
        new.append((v, u, nd))
    G.add_edges_from(new)
    if new:
        logger.debug("walk: added %d reverse edges (walking ignores one-way streets)", len(new))


def _edge_lengths(G: nx.DiGraph, edges: Sequence[tuple[Any, Any, dict[str, Any]]]) -> FloatArray:
    """Edge lengths in metres, checked against the node positions.

    Missing, negative or non-numeric lengths, and lengths clearly shorter than the
    straight line between the edge's nodes (e.g. 0 m between nodes 3 km apart: a data
    error that would act as a teleport), are replaced by the geometry's or the straight
    line's length and written back, with a PrecisionWarning counting them.
    """
    m = len(edges)
    lengths = np.fromiter((_as_float(d.get("length")) for _, _, d in edges), float, m)
    missing = ~np.isfinite(lengths) | (lengths < 0)
    crs_value = G.graph.get("crs")
    crs = pyproj.CRS.from_user_input(crs_value) if crs_value is not None else None
    coords = {n: (_as_float(d.get("x")), _as_float(d.get("y"))) for n, d in G.nodes(data=True)}
    nan2 = (math.nan, math.nan)
    uxy = np.array([coords.get(e[0], nan2) for e in edges], float).reshape(-1, 2)
    vxy = np.array([coords.get(e[1], nan2) for e in edges], float).reshape(-1, 2)
    if crs is None:
        straight = np.full(m, np.nan)
    elif crs.is_geographic:
        straight = np.asarray(pyproj.Geod(ellps="WGS84").inv(uxy[:, 0], uxy[:, 1], vxy[:, 0], vxy[:, 1])[2], float)
    else:
        straight = np.hypot(vxy[:, 0] - uxy[:, 0], vxy[:, 1] - uxy[:, 1])
    with np.errstate(invalid="ignore"):
        short = ~missing & (lengths < 0.9 * straight - 1.0)  # NaN straight: never short
    fix = missing | short
    if fix.any():
        idx = np.flatnonzero(fix)
        if crs is None:
            _graph_crs(G)  # raises CRSError with how to fix it
        if not np.isfinite(straight[idx]).all():
            msg = (
                f"{int(fix.sum())} edges have no valid 'length' and their nodes have no x/y "
                "coordinates to compute one. Give every edge a 'length' in metres."
            )
            raise NetworkError(msg)
        imputed = straight[idx].copy()
        if crs is not None and not crs.is_geographic:
            geoms = [edges[i][2].get("geometry") for i in idx.tolist()]
            has_geom = np.array([isinstance(g, shapely.Geometry) for g in geoms], dtype=bool)
            if has_geom.any():
                imputed[has_geom] = shapely.length(np.array([g for g in geoms if isinstance(g, shapely.Geometry)]))
        parts = []
        if missing.any():
            parts.append(f"{int(missing.sum())} of {m} edges had a missing, negative or non-numeric 'length'")
        if short.any():
            j = int(np.flatnonzero(short)[0])
            parts.append(
                f"{int(short.sum())} of {m} edges had a 'length' shorter than the straight line between "
                f"their nodes (e.g. {lengths[j]:g} m for {straight[j]:.0f} m)"
            )
        lengths[idx] = imputed
        for i, value in zip(idx.tolist(), imputed.tolist(), strict=True):
            edges[i][2]["length"] = value
        warnings.warn(
            "; ".join(parts) + ". They were replaced by the edge's geometry or straight-line length.",
            PrecisionWarning,
            stacklevel=3,
        )
    zero = int((lengths == 0).sum())
    if zero:
        logger.info("%d edges have zero length (coincident nodes): travel time 0", zero)
    return lengths


def add_travel_times(
    G: nx.MultiDiGraph,
    mode: str = "motorbike",
    speeds_kmh: float | Mapping[str, float] | None = None,
) -> nx.MultiDiGraph:
    """Set each edge's speed (``speed_kmh``) and travel time (``travel_time_s``) for a mode.

    The speed of an edge is :data:`HIGHWAY_SPEEDS_KMH` for its ``highway`` type (the
    mean over the types of a merged edge), capped by its ``maxspeed`` tag when present;
    missing or unknown types use :data:`DEFAULT_SPEEDS_KMH`; types in
    :data:`EXCLUDED_HIGHWAYS` get speed 0 and an infinite travel time (the engine treats
    them as absent). One-way streets are kept as they are in the graph, except for
    walking, which ignores them: reverse edges are added (flagged
    ``pointplan_walk_reverse``) and removed again if the graph is later set up for
    another mode. The graph is modified in place (as osmnx does) and returned.

    Parameters
    ----------
    G
        Road graph (osmnx MultiDiGraph) with edge ``length`` in metres. Missing or
        invalid lengths are imputed from the geometry or the node coordinates with a
        :class:`~pointplan.PrecisionWarning`; zero lengths give zero travel time.
    mode
        One of :data:`MODES`.
    speeds_kmh
        Override: a number gives every passable edge that speed (no type or maxspeed
        rule); a mapping of highway type to km/h is merged over the defaults, where the
        key ``"default"`` replaces the mode's default speed and a speed of ``0`` makes
        a type impassable.

    Returns
    -------
    networkx.MultiDiGraph
        ``G`` itself, with ``G.graph["pointplan_mode"]`` set to ``mode``.

    Raises
    ------
    InputError
        Unknown mode or invalid speed.
    NetworkError
        Empty graph, or lengths that cannot be computed.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")
    >>> add_travel_times(G, "motorbike")[1][2][0]["travel_time_s"]
    60.0

    """
    _check_graph(G)
    rule = _speed_rule(mode, speeds_kmh)
    _sync_walk_reverse(G, mode == "walk")
    edges = list(G.edges(data=True))
    lengths = _edge_lengths(G, edges)
    speeds = np.fromiter((rule.speed(_highway_key(d.get("highway"))) for _, _, d in edges), float, len(edges))
    if rule.uniform_kmh is None:
        caps = np.fromiter((_parse_maxspeed(d.get("maxspeed")) for _, _, d in edges), float, len(edges))
        speeds = np.fmin(speeds, caps)  # fmin ignores NaN caps
    with np.errstate(divide="ignore"):
        times = np.where(speeds > 0, lengths * 3.6 / speeds, np.inf)
    for (_, _, d), s, t in zip(edges, speeds.tolist(), times.tolist(), strict=True):
        d[SPEED_ATTR] = s
        d[TIME_ATTR] = t
    G.graph[_MODE_KEY] = mode
    G.graph[_VERSION_KEY] = int(G.graph.get(_VERSION_KEY, 0)) + 1
    n_closed = int((speeds <= 0).sum())
    if n_closed:
        logger.info("%s: %d edges impassable (excluded highway types)", mode, n_closed)
    return G


# ---------------------------------------------------------------------------------------
# Loading networks
# ---------------------------------------------------------------------------------------


def _routable(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Keep ways with a routable ``highway`` tag (drop buildings, landuse, areas...).

    Like osmnx's download filter, areas and private ways are dropped too.
    """
    drop = []
    for u, v, k, d in G.edges(keys=True, data=True):
        hw = _highway_key(d.get("highway"))
        private = "private" in _highway_key(d.get("access")) + _highway_key(d.get("service"))
        if not hw or any(t in _NON_ROUTABLE for t in hw) or _truthy(d.get("area")) or private:
            drop.append((u, v, k))
    G.remove_edges_from(drop)
    G.remove_nodes_from(list(nx.isolates(G)))
    if G.number_of_edges() == 0:
        msg = "The OSM data holds no routable ways (no 'highway' tags)."
        raise NetworkError(msg)
    return G


def _simplify(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    import osmnx as ox

    if G.graph.get("simplified"):
        return G
    # keep nodes where the highway type changes so a mode filter never cuts a merged edge
    return ox.simplify_graph(G, edge_attrs_differ=["highway"])


def _for_mode(
    G: nx.MultiDiGraph,
    mode: str,
    speeds_kmh: float | Mapping[str, float] | None,
    retain_all: bool,
) -> nx.MultiDiGraph:
    """Mode subgraph: drop impassable edges, small components; project; travel times."""
    import osmnx as ox

    rule = _speed_rule(mode, speeds_kmh)
    drop = [
        (u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if rule.speed(_highway_key(d.get("highway"))) <= 0
    ]
    G.remove_edges_from(drop)
    G.remove_nodes_from(list(nx.isolates(G)))
    if G.number_of_edges() == 0:
        msg = f"The network has no edges usable by mode {mode!r}."
        raise NetworkError(msg)
    if not retain_all:
        G = ox.truncate.largest_component(G, strongly=False)
    target = projected_crs()
    crs = _graph_crs(G)
    if not target.equals(crs):
        _check_coordinates_fit(G, crs)
        G = ox.project_graph(G, to_crs=target)
    return add_travel_times(G, mode, speeds_kmh)


def _request_key(kind: str, query: str) -> str:
    payload = json.dumps({"kind": kind, "query": query, "network_type": "all", "pipeline": 1}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


@contextmanager
def _osmnx_cache(folder: Path, use_cache: bool) -> Iterator[None]:
    """Point osmnx's HTTP cache at pointplan's cache folder for the duration of a call."""
    import osmnx as ox

    old = (ox.settings.cache_folder, ox.settings.use_cache)
    ox.settings.cache_folder = folder
    ox.settings.use_cache = use_cache
    try:
        yield
    finally:
        ox.settings.cache_folder, ox.settings.use_cache = old


def _download(source: object, *, cache: bool) -> nx.MultiDiGraph:
    """Unsimplified-then-simplified 'all' network for a place/polygon, cached as GraphML."""
    import osmnx as ox

    if isinstance(source, shapely.Polygon | shapely.MultiPolygon):
        kind, query = "polygon", shapely.to_wkt(source, rounding_precision=7)
        what = "the polygon"
    else:
        kind, query = "place", str(source).strip()
        what = f"place {query!r}"
    cache_root = Path(settings.cache_dir) / "osmnx"
    graph_path = cache_root / "graphs" / f"{kind}_{_request_key(kind, query)}.graphml"
    if cache and graph_path.is_file():
        logger.info("loading cached network for %s from %s", what, graph_path)
        try:
            return ox.load_graphml(graph_path)
        except Exception as exc:
            if not settings.allow_downloads:
                msg = (
                    f"The cached road network for {what}, {graph_path.name} ({graph_path}), is "
                    f"unreadable ({type(exc).__name__}: {exc}). Delete that file, then download the "
                    "network again (pointplan.settings.allow_downloads = True) or pass an OSM XML "
                    "or GraphML file instead."
                )
                raise NetworkError(msg) from exc
            logger.warning("cached network %s is unreadable (%s): downloading it again", graph_path, exc)
    if not settings.allow_downloads:
        msg = (
            f"Downloading the road network for {what} needs internet access, which "
            "pointplan does not use unless asked. Set pointplan.settings.allow_downloads = "
            "True to download it with osmnx (it is then cached under "
            f"{cache_root}), or pass an OSM XML (.osm) or GraphML (.graphml) file to "
            "load_network instead."
        )
        raise OfflineError(msg)
    import requests

    logger.info("downloading the road network for %s with osmnx", what)
    with _osmnx_cache(cache_root / "http", cache):
        try:
            if kind == "polygon":
                raw = ox.graph_from_polygon(source, network_type="all", simplify=False, retain_all=True)
            else:
                raw = ox.graph_from_place(query, network_type="all", simplify=False, retain_all=True)
        except requests.exceptions.RequestException as exc:
            msg = f"Could not download the road network for {what}: {exc}"
            raise OfflineError(msg) from exc
        except Exception as exc:
            msg = f"osmnx could not build the road network for {what}: {exc}"
            raise NetworkError(msg) from exc
    G = _simplify(_routable(raw))
    if cache:
        graph_path.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(G, graph_path)
        logger.info("cached the network for %s at %s", what, graph_path)
    return G


def _read_network_file(path: Path) -> nx.MultiDiGraph:
    """Read an OSM XML or GraphML file; a NetworkError naming the file if it is unusable."""
    try:
        if path.suffix.lower() == ".graphml":
            import osmnx as ox

            G = ox.load_graphml(path)
            if not G.graph.get("simplified"):
                G = _simplify(_routable(G))
            return G
        stat = path.stat()
        return _xml_all(path.resolve(), stat.st_mtime_ns, stat.st_size).copy()
    except NetworkError as exc:
        msg = f"{path.name}: {exc}"
        raise NetworkError(msg) from exc
    except PointplanError:
        raise
    except Exception as exc:
        msg = (
            f"Could not read the road network file {path.name} ({path}): "
            f"{type(exc).__name__}: {exc}. Check that it is a complete OSM XML (.osm) or "
            "GraphML (.graphml) file, e.g. export it again."
        )
        raise NetworkError(msg) from exc


@lru_cache(maxsize=2)
def _xml_all(path: Path, mtime_ns: int, size: int) -> nx.MultiDiGraph:
    """All routable ways of an OSM XML file, simplified (cached: parsing is the slow part)."""
    import osmnx as ox

    raw = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
    return _simplify(_routable(raw))


def load_network(
    source: str | Path | shapely.Polygon | shapely.MultiPolygon | nx.MultiDiGraph,
    *,
    mode: str = "motorbike",
    speeds_kmh: float | Mapping[str, float] | None = None,
    cache: bool = True,
    retain_all: bool = False,
) -> nx.MultiDiGraph:
    """Load a road graph for a travel mode, projected and with travel times.

    Parameters
    ----------
    source
        An OSM XML file (``.osm``/``.xml``, read with ``osmnx.graph_from_xml``), a
        GraphML file (``.graphml``, ``osmnx.load_graphml``), a networkx graph (copied),
        a shapely (Multi)Polygon in EPSG:4326 or a place name (``"Hoàn Kiếm, Hà Nội"``).
        Polygons and places are downloaded with osmnx (all OSM highways, then filtered
        per mode) only if :data:`pointplan.settings.allow_downloads` is True; the HTTP
        responses and the resulting graph (GraphML, keyed by a hash of the request) are
        cached under ``settings.cache_dir / "osmnx"`` so a later call works offline.
    mode
        Travel mode (:data:`MODES`): edges the mode may not use are dropped.
    speeds_kmh
        Speed override, see :func:`add_travel_times`.
    cache
        Read and write the on-disk cache of downloaded graphs (downloads only).
    retain_all
        Keep every connected part of the network; by default (as in osmnx) only the
        largest weakly connected part is kept.

    Returns
    -------
    networkx.MultiDiGraph
        Graph in :data:`pointplan.settings.projected_crs` with edge ``speed_kmh`` and
        ``travel_time_s`` for ``mode``.

    Raises
    ------
    OfflineError
        A download is needed and not allowed (or there is no connection).
    DataNotFoundError
        The file does not exist.
    NetworkError
        The source holds no usable network for the mode.

    """
    _check_mode(mode)
    if isinstance(source, nx.MultiDiGraph):
        G = source.copy()
        tagged = any("highway" in d for _, _, d in G.edges(data=True))
        if tagged and not G.graph.get("simplified"):
            G = _simplify(_routable(G))
    elif isinstance(source, shapely.Polygon | shapely.MultiPolygon):
        G = _download(source, cache=cache)
    elif isinstance(source, str | Path) and (
        Path(source).suffix.lower() in {".osm", ".xml", ".graphml"} or Path(source).is_file()
    ):
        path = Path(source).expanduser()
        if not path.is_file():
            msg = f"Network file {path} does not exist. Check the path."
            raise DataNotFoundError(msg)
        G = _read_network_file(path)
    elif isinstance(source, str):
        G = _download(source, cache=cache)
    else:
        msg = (
            f"Cannot load a network from {type(source).__name__}: pass a file path (.osm, "
            ".graphml), a shapely Polygon in EPSG:4326, a place name or a networkx graph."
        )
        raise InputError(msg)
    _check_graph(G)
    G = _for_mode(G, mode, speeds_kmh, retain_all)
    logger.info(
        "network for %s: %d nodes, %d edges (%s)",
        mode, G.number_of_nodes(), G.number_of_edges(), settings.projected_crs,
    )  # fmt: skip
    return G


# ---------------------------------------------------------------------------------------
# Sparse-matrix form of a graph (cached)
# ---------------------------------------------------------------------------------------


@dataclass
class _CSRGraph:
    """A road graph as arrays: reversed CSR of travel times and what goes with it."""

    nodes: pd.Index
    x: FloatArray
    y: FloatArray
    crs: pyproj.CRS
    rev: sparse.csr_matrix  # rev[v, u] = min travel time (s) of edges u -> v
    rev_len: FloatArray  # length (m) of the chosen edge, aligned with rev.data
    rev_keys: IntArray  # row * n + col, sorted, aligned with rev.data
    rev_geom: npt.NDArray[np.object_]  # geometry of the chosen edge u -> v (or None)
    snap_nodes: IntArray  # positions of nodes that have at least one edge
    tree: cKDTree
    seconds: float  # time the conversion took

    @property
    def n(self) -> int:
        return len(self.nodes)

    @cached_property
    def _int_lookup(self) -> tuple[IntArray, IntArray] | None:
        """Sorted integer node ids and their positions (osmnx ids are integers)."""
        values = self.nodes.to_numpy()
        if not np.issubdtype(values.dtype, np.integer):
            return None
        order = np.argsort(values, kind="stable")
        return values[order].astype(np.int64), order.astype(np.int64)

    def positions(self, ids: Sequence[Hashable]) -> IntArray:
        """Positions of node ids (-1 where absent); plain numpy for integer ids."""
        lookup = self._int_lookup
        arr = np.asarray(ids)
        if lookup is not None and arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
            keys, order = lookup
            loc = np.minimum(np.searchsorted(keys, arr), len(keys) - 1)
            return np.where(keys[loc] == arr, order[loc], -1)
        return self.nodes.get_indexer(list(ids)).astype(np.int64)


#: graph object -> {(mode, fingerprint): _CSRGraph}
_CSR_CACHE: weakref.WeakKeyDictionary[nx.Graph, dict[tuple[Any, ...], _CSRGraph]] = weakref.WeakKeyDictionary()


def clear_cache() -> None:
    """Forget every cached graph conversion (e.g. after editing edge attributes in place)."""
    _CSR_CACHE.clear()


def _fingerprint(G: nx.Graph) -> tuple[Any, ...]:
    # cheap: number_of_edges() walks every multi-edge; count adjacent pairs instead
    return (
        G.number_of_nodes(),
        sum(map(len, G._adj.values())),
        G.graph.get(_VERSION_KEY),
        G.graph.get(_MODE_KEY),
        str(G.graph.get("crs")),
    )


def _node_xy(G: nx.Graph) -> tuple[FloatArray, FloatArray]:
    """Node coordinates as float arrays; NetworkError naming the node when unusable."""
    out = []
    for key in ("x", "y"):
        values = [d.get(key) for _, d in G.nodes(data=True)]
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            arr = np.array([_as_float(v) for v in values])
            i = int(np.flatnonzero(np.isnan(arr) & np.array([v is not None for v in values]))[0])
            node = list(G.nodes)[i]
            msg = (
                f"Node {node!r} of the road graph has a non-numeric '{key}' ({values[i]!r}). Node "
                "'x' and 'y' must be numbers in the graph's CRS (no thousands separators)."
            )
            raise NetworkError(msg) from None
        out.append(arr)
    x, y = out
    missing = ~(np.isfinite(x) & np.isfinite(y))
    if missing.any():
        node = list(G.nodes)[int(np.flatnonzero(missing)[0])]
        msg = (
            f"Every node of the road graph needs 'x' and 'y' coordinates; {int(missing.sum())} "
            f"nodes lack them (e.g. node {node!r})."
        )
        raise NetworkError(msg)
    return x, y


def _to_csr(G: nx.DiGraph) -> _CSRGraph:
    t0 = time.perf_counter()
    crs = _graph_crs(G)
    nodes = pd.Index(list(G.nodes))
    n = len(nodes)
    x, y = _node_xy(G)
    edges = list(G.edges(data=True))
    m = len(edges)
    u = nodes.get_indexer([e[0] for e in edges]).astype(np.int64)
    v = nodes.get_indexer([e[1] for e in edges]).astype(np.int64)
    t = np.fromiter((_as_float(e[2].get(TIME_ATTR)) for e in edges), float, m)
    length = np.fromiter((_as_float(e[2].get("length")) for e in edges), float, m)
    geom = np.empty(m, dtype=object)
    geom[:] = [e[2].get("geometry") for e in edges]
    bad = np.isnan(t) | (t < 0)
    if bad.any():
        msg = (
            f"{int(bad.sum())} edges have a missing or negative '{TIME_ATTR}'. Set travel "
            "times with pointplan.network.add_travel_times(G, mode)."
        )
        raise NetworkError(msg)
    no_len = ~np.isfinite(length) | (length < 0)
    if no_len.any():
        length[no_len] = np.hypot(x[v[no_len]] - x[u[no_len]], y[v[no_len]] - y[u[no_len]])
        warnings.warn(
            f"{int(no_len.sum())} edges have no valid 'length': distances use the straight line between their nodes.",
            PrecisionWarning,
            stacklevel=4,
        )
    keep = np.isfinite(t) & (u != v)
    u, v, t, length, geom = u[keep], v[keep], t[keep], length[keep], geom[keep]
    # reversed graph: row = head v, col = tail u; minimum time over parallel edges
    order = np.lexsort((length, t, u, v))
    rows, cols = v[order], u[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    sel = order[first]
    rows, cols = v[sel], u[sel]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if max(n, len(sel)) < 2**31 - 1 else np.int64
    rev = sparse.csr_matrix((t[sel], cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n, n))
    rev.has_sorted_indices = True
    has_edge = np.zeros(n, dtype=bool)
    has_edge[rows] = True
    has_edge[cols] = True
    snap_nodes = np.flatnonzero(has_edge)
    if len(snap_nodes) == 0:
        msg = "The road graph has no passable edge for this mode."
        raise NetworkError(msg)
    tree = cKDTree(np.column_stack([x[snap_nodes], y[snap_nodes]]))
    out = _CSRGraph(
        nodes=nodes,
        x=x,
        y=y,
        crs=crs,
        rev=rev,
        rev_len=length[sel],
        rev_keys=rows * n + cols,
        rev_geom=geom[sel],
        snap_nodes=snap_nodes,
        tree=tree,
        seconds=0.0,
    )
    out.seconds = time.perf_counter() - t0
    logger.debug("converted graph (%d nodes, %d arcs) in %.3f s", n, len(sel), out.seconds)
    return out


def _engine_graph(G: nx.DiGraph, mode: str, cache: bool) -> tuple[_CSRGraph, bool]:
    """Return the CSR form of ``G`` for ``mode`` and whether it came from the cache."""
    key = (mode, _fingerprint(G))
    if cache:
        hit = _CSR_CACHE.get(G, {}).get(key)
        if hit is not None:
            return hit, True
    H = G
    crs = _graph_crs(G)
    if crs.is_geographic:
        target = projected_crs()
        _check_coordinates_fit(G, crs)
        import osmnx as ox

        logger.info("projecting the graph to %s", target.to_string())
        H = ox.project_graph(G, to_crs=target)
    tagged = H.graph.get(_MODE_KEY)
    if tagged == mode:
        pass
    else:
        n_edges = H.number_of_edges()
        n_given = sum(TIME_ATTR in d for _, _, d in H.edges(data=True)) if tagged is None else 0
        if n_given == n_edges:
            logger.info("using the graph's own '%s' edge attribute as given", TIME_ATTR)
        else:
            if n_given:
                warnings.warn(
                    f"'{TIME_ATTR}' is missing on {n_edges - n_given} of {n_edges} edges: every "
                    f"travel time is recomputed from highway types and speeds for {mode!r}. Give "
                    f"every edge a '{TIME_ATTR}' to use your own times.",
                    PrecisionWarning,
                    stacklevel=4,
                )
            if H is G:
                H = G.copy()
            add_travel_times(H, mode)
    csr = _to_csr(H)
    if cache:
        _CSR_CACHE.setdefault(G, {})[key] = csr
    return csr, False


def _tree_sum(parent: IntArray, value: FloatArray) -> FloatArray:
    """Sum ``value`` along parent pointers up to each tree's root (pointer jumping).

    ``parent[i] < 0`` marks a root. Runs in O(n log depth), vectorised.
    """
    acc = value.copy()
    p = parent.copy()
    active = np.flatnonzero(p >= 0)
    while active.size:
        pa = p[active]
        acc[active] += acc[pa]
        p[active] = p[pa]
        active = active[p[active] >= 0]
    return acc


# ---------------------------------------------------------------------------------------
# Input points
# ---------------------------------------------------------------------------------------


def _points_xy(gdf: object, what: str, crs: pyproj.CRS | str) -> FloatArray:
    """Return validated (n, 2) coordinates of representative points in ``crs``."""
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    frame = ensure_gdf(gdf, what)
    check_geometries(frame, what)
    geom = frame.geometry
    if not pyproj.CRS.from_user_input(geom.crs).equals(pyproj.CRS.from_user_input(crs)):
        geom = geom.to_crs(crs)
    values = geom.values
    if not (shapely.get_type_id(values) == 0).all():
        values = shapely.point_on_surface(values)
    xy = shapely.get_coordinates(values)
    if len(xy) != len(frame):  # pragma: no cover - defensive
        msg = f"{what}: could not take one point per row."
        raise InputError(msg)
    return xy


def _labels(index: pd.Index, pos: IntArray) -> Any:
    """Labels of ``index`` at ``pos`` (negative -> missing), keeping integers integer.

    Returns an array-like for a DataFrame column: the labels' own dtype when all are
    present, nullable ``Int64`` for integer labels with gaps, NaN gaps otherwise.
    """
    ok = pos >= 0
    taken = index[np.where(ok, pos, 0)]
    if ok.all():
        return taken
    if pd.api.types.is_integer_dtype(taken.dtype):
        taken = taken.astype("Int64")
    return pd.Series(taken).where(ok).array


def _warn_unreachable(n_bad: int, n_all: int) -> None:
    if n_bad:
        warnings.warn(
            f"{n_bad} of {n_all} origins cannot reach any destination on the network "
            "(a disconnected part or a one-way trap): their minutes and distance_m are inf "
            "and dest is missing.",
            UnreachableWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeTimes:
    """Travel times from every graph node to its nearest target.

    Returned by :meth:`NetworkEngine.node_times`.

    Attributes
    ----------
    nodes : pandas.Index
        Graph node ids; the arrays below are aligned with them.
    seconds : numpy.ndarray
        Seconds to the nearest target (inf if none is reachable).
    target : numpy.ndarray
        Position in ``targets`` of the nearest target (-1 if unreachable); worked out
        on first access.
    distance_m : numpy.ndarray or None
        Network length of the path, when asked for.
    targets : sequence
        The target node ids, as given.

    """

    nodes: pd.Index
    seconds: FloatArray
    distance_m: FloatArray | None
    targets: Sequence[Hashable]
    method: str = _NETWORK
    _source_pos: npt.NDArray[np.integer[Any]] | None = field(default=None, repr=False)
    _target_pos: IntArray | None = field(default=None, repr=False)
    _which: IntArray | None = field(default=None, repr=False)

    @cached_property
    def target(self) -> IntArray:
        """Position in ``targets`` of each node's nearest target (-1 if unreachable)."""
        if self._which is not None:
            return self._which
        assert self._source_pos is not None and self._target_pos is not None
        pos = self._target_pos
        first = np.full(len(self.nodes), -1, dtype=np.int64)
        first[pos[::-1]] = np.arange(len(pos) - 1, -1, -1)  # first target at each node
        src = self._source_pos
        return np.where(src >= 0, first[np.maximum(src, 0)], -1)

    def to_frame(self) -> pd.DataFrame:
        """Return a table indexed by graph node.

        Columns ``target`` (node id), ``seconds`` and ``distance_m`` (when computed).
        """
        out = {"target": _labels(pd.Index(self.targets), self.target), "seconds": self.seconds}
        if self.distance_m is not None:
            out["distance_m"] = self.distance_m
        frame = pd.DataFrame(out, index=self.nodes)
        frame.attrs["method"] = self.method
        return frame


class NetworkEngine:
    """Travel times on a road network with scipy's compiled Dijkstra.

    The graph is converted once to a sparse matrix (minimum time over parallel edges,
    one-way streets respected) and the conversion is cached per graph object and mode,
    so building a second engine on the same graph is free.

    Parameters
    ----------
    G
        Road graph, e.g. from :func:`load_network`. Its ``travel_time_s`` are used when
        they were set for ``mode`` by :func:`add_travel_times`, or when the user gave
        one on every edge (no mode tag); otherwise they are computed on a copy with
        :func:`add_travel_times` (with a PrecisionWarning if some but not all edges had
        one). A graph in lon/lat is projected to
        :data:`pointplan.settings.projected_crs` (on a copy). ``G`` is never modified.
    mode
        Travel mode (:data:`MODES`).
    access_speed_kmh
        Speed of the straight-line leg between a point and its nearest node (default
        :data:`ACCESS_SPEEDS_KMH` for the mode).
    max_snap_m
        Points farther than this from the network are flagged ``far`` and counted in a
        :class:`~pointplan.PrecisionWarning`.
    cache
        Reuse (and store) the cached conversion of ``G``. Pass False, or call
        :func:`clear_cache`, after editing edge attributes in place.

    Attributes
    ----------
    method : str
        ``"network"``.
    graph : networkx.MultiDiGraph
        The graph given.
    conversion_seconds : float
        Time spent converting the graph (0 when it came from the cache).

    Notes
    -----
    Points snap to the nearest node that has at least one passable edge. An origin
    snapped to a node from which no destination can be reached (a separate part of the
    network, the far end of a one-way street leaving the area) is reported unreachable;
    load networks with ``retain_all=False`` (the default) to keep only the main part.

    """

    method: ClassVar[str] = _NETWORK

    def __init__(
        self,
        G: nx.MultiDiGraph,
        mode: str = "motorbike",
        *,
        access_speed_kmh: float | None = None,
        max_snap_m: float = 500.0,
        cache: bool = True,
    ) -> None:
        _check_graph(G)
        self.mode = _check_mode(mode)
        self.access_speed_kmh = _check_speed(
            ACCESS_SPEEDS_KMH[mode] if access_speed_kmh is None else access_speed_kmh,
            "access_speed_kmh",
        )
        if not (isinstance(max_snap_m, int | float) and max_snap_m >= 0):
            msg = f"max_snap_m must be a number >= 0, got {max_snap_m!r}."
            raise InputError(msg)
        self.max_snap_m = float(max_snap_m)
        self.graph = G
        self._g, cached = _engine_graph(G, mode, cache)
        self.conversion_seconds = 0.0 if cached else self._g.seconds
        self.crs = self._g.crs

    def __repr__(self) -> str:
        return (
            f"NetworkEngine(mode={self.mode!r}, nodes={self._g.n}, arcs={self._g.rev.nnz}, "
            f"access_speed_kmh={self.access_speed_kmh}, max_snap_m={self.max_snap_m})"
        )

    # -- snapping ------------------------------------------------------------------------

    @property
    def _access_mps(self) -> float:
        return self.access_speed_kmh / 3.6

    def _snap(self, gdf: object, what: str) -> tuple[IntArray, FloatArray]:
        xy = _points_xy(gdf, what, self.crs)
        dist, k = self._g.tree.query(xy)
        return self._g.snap_nodes[k], np.asarray(dist, float)

    def _warn_far(self, snap_m: FloatArray, what: str) -> None:
        far = int((snap_m > self.max_snap_m).sum())
        if far:
            warnings.warn(
                f"{far} of {len(snap_m)} {what} lie more than {self.max_snap_m:g} m from the "
                f"network (up to {snap_m.max():.0f} m); that leg is counted as a straight "
                f"line at {self.access_speed_kmh:g} km/h. Check their coordinates or use a "
                "network that covers them.",
                PrecisionWarning,
                stacklevel=3,
            )

    def snap(self, gdf: gpd.GeoDataFrame) -> pd.DataFrame:
        """Snap points (representative points of other geometries) to the nearest node.

        Parameters
        ----------
        gdf
            Locations with a CRS.

        Returns
        -------
        pandas.DataFrame
            Index of ``gdf``; columns ``node`` (graph node id), ``snap_m`` (straight-line
            distance to it) and ``far`` (``snap_m > max_snap_m``).

        """
        pos, snap_m = self._snap(gdf, "points")
        index = gdf.index
        return pd.DataFrame(
            {
                "node": self._g.nodes.take(pos).to_numpy(),
                "snap_m": snap_m,
                "far": snap_m > self.max_snap_m,
            },
            index=index,
        )

    # -- core ----------------------------------------------------------------------------

    def _augmented(self, dest_pos: IntArray, dest_s: FloatArray) -> sparse.csr_matrix:
        """Reversed graph plus one virtual node per destination (edge to its node)."""
        g = self._g
        n, k = g.n, len(dest_pos)
        rev = g.rev
        idx_dtype = rev.indices.dtype
        if n + k + rev.nnz >= 2**31 - 1:
            idx_dtype = np.dtype(np.int64)
        indptr = np.concatenate([rev.indptr, rev.indptr[-1] + np.arange(1, k + 1, dtype=rev.indptr.dtype)]).astype(
            idx_dtype, copy=False
        )
        indices = np.concatenate([rev.indices, dest_pos.astype(idx_dtype)])
        data = np.concatenate([rev.data, dest_s])
        A = sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
        A.has_sorted_indices = True
        return A

    def _arc_length(self, parent: IntArray, child: IntArray, dest_len: FloatArray) -> FloatArray:
        """Length of arcs parent -> child of the augmented reversed graph."""
        g = self._g
        n = g.n
        out = np.zeros(len(parent), float)
        virtual = parent >= n
        out[virtual] = dest_len[parent[virtual] - n]
        real = ~virtual & (parent >= 0)
        if real.any():
            loc = np.searchsorted(g.rev_keys, parent[real] * n + child[real])
            out[real] = g.rev_len[loc]
        return out

    def _nearest_nodes(
        self, dest_pos: IntArray, dest_s: FloatArray, dest_len: FloatArray, *, lengths: bool
    ) -> tuple[FloatArray, IntArray, FloatArray | None]:
        """One multi-source pass over all nodes.

        Returns, per graph node, the seconds to the nearest destination (its snap leg
        included), that destination's position in ``dest_pos`` (-1 if unreachable) and,
        if ``lengths``, the network length of the path (snap leg included).
        """
        g = self._g
        n, k = g.n, len(dest_pos)
        if not dest_s.any():
            # every destination sits on its node: run from the nodes themselves
            dist, pred, src = dijkstra(g.rev, directed=True, indices=dest_pos, min_only=True, return_predecessors=True)
            first = np.full(n, -1, dtype=np.int64)
            first[dest_pos[::-1]] = np.arange(k - 1, -1, -1)  # first destination per node
            which = np.where(src >= 0, first[np.maximum(src, 0)], -1)
            if not lengths:
                return dist, which, None
            parent = pred.astype(np.int64)
            value = self._arc_length(parent, np.arange(n), dest_len)
        else:
            A = self._augmented(dest_pos, dest_s)
            dist, pred, src = dijkstra(
                A,
                directed=True,
                indices=np.arange(n, n + k),
                min_only=True,
                return_predecessors=True,
            )
            which = np.where(src[:n] >= 0, src[:n] - n, -1).astype(np.int64)
            dist = dist[:n]
            if not lengths:
                return dist, which, None
            parent = pred.astype(np.int64)
            value = self._arc_length(parent, np.arange(n + k), dest_len)
        parent = np.where(parent >= 0, parent, -1)
        value[parent < 0] = 0.0
        total = _tree_sum(parent, value)[:n]
        total[~np.isfinite(dist)] = np.inf
        return dist, which, total

    def node_times(self, targets: Sequence[Hashable], *, with_distance: bool = False) -> NodeTimes:
        """Time from every graph node to its nearest target node (one multi-source pass).

        The low-level form of :meth:`nearest`: no snapping, plain arrays (call
        :meth:`NodeTimes.to_frame` for a table).

        Parameters
        ----------
        targets
            Graph node ids (e.g. the ``node`` column of :meth:`snap`).
        with_distance
            Also compute the network length of each node's path.

        Returns
        -------
        NodeTimes
            Arrays aligned with the graph's nodes: ``seconds`` (inf if unreachable),
            ``target`` (position in ``targets`` of the nearest one, -1 if unreachable)
            and ``distance_m`` (None unless ``with_distance``).

        """
        g = self._g
        pos = g.positions(targets)
        if len(pos) == 0 or (pos < 0).any():
            missing = [t for t, p in zip(targets, pos, strict=True) if p < 0][:5]
            msg = f"targets must be non-empty graph node ids; not in the graph: {missing}."
            raise InputError(msg)
        if not with_distance:  # the bare compiled pass; the rest is worked out on demand
            seconds, _, src = dijkstra(g.rev, directed=True, indices=pos, min_only=True, return_predecessors=True)
            return NodeTimes(g.nodes, seconds, None, targets, _source_pos=src, _target_pos=pos)
        zeros = np.zeros(len(pos))
        seconds, which, length = self._nearest_nodes(pos, zeros, zeros, lengths=True)
        return NodeTimes(g.nodes, seconds, length, targets, _which=which)

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame) -> pd.DataFrame:
        """Nearest destination and travel time from every origin, in one pass.

        Parameters
        ----------
        origins
            Demand locations (points, or polygons: their representative points).
        destinations
            Service points.

        Returns
        -------
        pandas.DataFrame
            Index of ``origins``; columns ``dest`` (index label of the nearest
            destination, missing if unreachable), ``minutes`` (origin -> destination,
            snap legs included; inf if unreachable), ``distance_m`` (network length of
            that trip including snap legs) and ``method``.

        Warns
        -----
        UnreachableWarning
            Some origins reach no destination.
        PrecisionWarning
            Some points lie farther than ``max_snap_m`` from the network.

        """
        o_pos, o_snap = self._snap(origins, "origins")
        d_pos, d_snap = self._snap(destinations, "destinations")
        self._warn_far(o_snap, "origins")
        self._warn_far(d_snap, "destinations")
        v = self._access_mps
        seconds, which, length = self._nearest_nodes(d_pos, d_snap / v, d_snap, lengths=True)
        assert length is not None
        sec = seconds[o_pos] + o_snap / v
        dest = which[o_pos]
        dist = length[o_pos] + o_snap
        bad = ~np.isfinite(sec)
        dest[bad] = -1
        dist[bad] = np.inf
        _warn_unreachable(int(bad.sum()), len(sec))
        out = pd.DataFrame(
            {
                "dest": _labels(destinations.index, dest),
                "minutes": sec / 60.0,
                "distance_m": dist,
                "method": self.method,
            },
            index=origins.index,
        )
        out.attrs["method"] = self.method
        return out

    def _chunks(self, k: int) -> Iterator[npt.NDArray[np.int64]]:
        per = max(1, min(k, int(4e6 // max(1, self._g.n + k))))  # ~32 MB per array
        starts = range(0, k, per)
        if settings.progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="travel times", unit="chunk")
        for s in starts:
            yield np.arange(s, min(k, s + per), dtype=np.int64)

    def od_long(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        with_distance: bool = True,
    ) -> pd.DataFrame:
        """Origin-destination travel times within a cut-off, in sparse long format.

        One Dijkstra limited to ``max_minutes`` runs per destination on the reversed
        graph; origins are read off by their snapped node.

        Parameters
        ----------
        origins
            Demand locations.
        destinations
            Service points.
        max_minutes
            Cut-off: only pairs with ``minutes <= max_minutes`` are returned.
        with_distance
            Compute ``distance_m`` (NaN otherwise; about a third faster).

        Returns
        -------
        pandas.DataFrame
            Columns ``i`` (origin position), ``j`` (destination position), ``minutes``,
            ``distance_m``; sorted by ``i`` then ``j``. ``attrs["method"]`` is
            ``"network"``.

        """
        limit_s = _check_minutes(max_minutes) * 60.0
        o_pos, o_snap = self._snap(origins, "origins")
        d_pos, d_snap = self._snap(destinations, "destinations")
        self._warn_far(o_snap, "origins")
        self._warn_far(d_snap, "destinations")
        v = self._access_mps
        n, k = self._g.n, len(d_pos)
        A = self._augmented(d_pos, d_snap / v)
        o_s = o_snap / v
        # origins grouped by their node: the search is read at unique nodes, then expanded
        uniq, inv = np.unique(o_pos, return_inverse=True)
        by_node = np.argsort(inv, kind="stable")
        counts = np.bincount(inv, minlength=len(uniq))
        starts = np.cumsum(counts) - counts
        min_s = np.full(len(uniq), np.inf)
        np.minimum.at(min_s, inv, o_s)
        parts: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []
        for js in self._chunks(k):
            dist, pred = dijkstra(A, directed=True, indices=n + js, limit=limit_s, return_predecessors=True)
            at_nodes = dist[:, uniq]  # (chunk, unique origin nodes)
            r, u = np.nonzero(at_nodes <= limit_s - min_s)
            if r.size == 0:
                continue
            rep = np.repeat(np.arange(r.size), counts[u])
            offset = np.arange(rep.size) - (np.cumsum(counts[u]) - counts[u])[rep]
            i = by_node[starts[u][rep] + offset]
            sec = at_nodes[r, u][rep] + o_s[i]
            ok = sec <= limit_s
            i, rr, uu, sec = i[ok], r[rep][ok], u[rep][ok], sec[ok]
            if with_distance:
                length = self._chunk_lengths(dist, pred, d_snap[js])
                meters = length[rr, uniq[uu]] + o_snap[i]
            else:
                meters = np.full(i.size, np.nan)
            parts.append((i.astype(np.int64), js[rr], sec / 60.0, meters))
        if parts:
            i_all = np.concatenate([p[0] for p in parts])
            j_all = np.concatenate([p[1] for p in parts])
            order = np.argsort(i_all * k + j_all)  # by origin, then destination
            out = pd.DataFrame(
                {
                    "i": i_all[order],
                    "j": j_all[order],
                    "minutes": np.concatenate([p[2] for p in parts])[order],
                    "distance_m": np.concatenate([p[3] for p in parts])[order],
                }
            )
        else:
            out = pd.DataFrame(
                {
                    "i": np.array([], np.int64),
                    "j": np.array([], np.int64),
                    "minutes": np.array([], float),
                    "distance_m": np.array([], float),
                }
            )
        out.attrs["method"] = self.method
        return out

    def _chunk_lengths(self, dist: FloatArray, pred: npt.NDArray[np.int32], d_len: FloatArray) -> FloatArray:
        """Path lengths (m) for a chunk of limited trees, dest snap leg included."""
        n_cols = dist.shape[1]
        n = self._g.n
        flat = np.flatnonzero(np.isfinite(dist))
        rows, child = np.divmod(flat, n_cols)
        parent = pred.ravel()[flat].astype(np.int64)
        value = np.zeros(flat.size)
        has_parent = parent >= 0
        # the virtual node of row r is n + js[r]; its arc carries that destination's snap
        virt = has_parent & (parent >= n)
        value[virt] = d_len[rows[virt]]
        real = has_parent & ~virt
        if real.any():
            loc = np.searchsorted(self._g.rev_keys, parent[real] * n + child[real])
            value[real] = self._g.rev_len[loc]
        # parent as a position in `flat`
        parent_flat = np.where(has_parent, rows * n_cols + parent, -1)
        parent_idx = np.full(flat.size, -1, dtype=np.int64)
        parent_idx[has_parent] = np.searchsorted(flat, parent_flat[has_parent])
        total = _tree_sum(parent_idx, value)
        out = np.full(dist.shape, np.inf)
        out.ravel()[flat] = total
        return out

    def service_areas(
        self,
        points: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        buffer_m: float = 50.0,
        cell_m: float | None = None,
    ) -> gpd.GeoDataFrame:
        """Area from which each point is reached within ``max_minutes`` (for maps).

        The area is the network reached in time (whole streets and the reachable part
        of the last ones, following their geometry) plus the point's snap leg, widened
        by ``buffer_m``. Times are towards the point, as everywhere in this module. The
        band is drawn on a raster of ``cell_m`` cells and turned into polygons, which
        keeps city-wide areas (tens of thousands of streets) to a fraction of a second;
        edges are therefore accurate to about one cell.

        Parameters
        ----------
        points
            Service points.
        max_minutes
            Time budget.
        buffer_m
            Width of the band around reached streets counted as served.
        cell_m
            Raster cell size (default ``buffer_m / 2``).

        Returns
        -------
        geopandas.GeoDataFrame
            One (Multi)Polygon per point (empty if even the snap leg exceeds the
            budget), index of ``points``, CRS of ``points``; columns ``max_minutes`` and
            ``method``.

        """
        limit_s = _check_minutes(max_minutes) * 60.0
        if not (isinstance(buffer_m, int | float) and buffer_m > 0):
            msg = f"buffer_m must be a number > 0, got {buffer_m!r}."
            raise InputError(msg)
        cell = float(buffer_m) / 2 if cell_m is None else float(cell_m)
        if not (math.isfinite(cell) and cell > 0):
            msg = f"cell_m must be a number > 0, got {cell_m!r}."
            raise InputError(msg)
        g = self._g
        xy = _points_xy(points, "points", self.crs)
        dist_snap, kk = g.tree.query(xy)
        d_pos = g.snap_nodes[kk]
        v = self._access_mps
        n, k = g.n, len(d_pos)
        A = self._augmented(d_pos, np.asarray(dist_snap) / v)
        arcs = self._arc_geometries()
        geoms: list[shapely.Geometry] = []
        for js in self._chunks(k):
            dist = dijkstra(A, directed=True, indices=n + js, limit=limit_s)
            for r, j in enumerate(js):
                geoms.append(self._area_one(dist[r, :n], limit_s, xy[j], int(d_pos[j]), arcs, buffer_m, cell))
        out = gpd.GeoDataFrame(
            {"max_minutes": float(max_minutes), "method": self.method},
            geometry=gpd.GeoSeries(geoms, crs=self.crs).values,
            index=points.index,
            crs=self.crs,
        )
        out = out.to_crs(points.crs)
        out.attrs["method"] = self.method
        return out

    def _arc_geometries(self) -> tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.object_]]:
        """Heads, tails, times and geometries (tail -> head) of the reversed arcs."""
        g = self._g
        heads = np.repeat(np.arange(g.n), np.diff(g.rev.indptr))  # arc a -> b: a
        tails = g.rev.indices.astype(np.int64)  # b (original edge b -> a)
        geom = g.rev_geom
        missing = np.array([not isinstance(x, shapely.Geometry) for x in geom], dtype=bool)
        if missing.any():
            straight = shapely.linestrings(
                np.stack(
                    [
                        np.column_stack([g.x[tails[missing]], g.y[tails[missing]]]),
                        np.column_stack([g.x[heads[missing]], g.y[heads[missing]]]),
                    ],
                    axis=1,
                )
            )
            geom = geom.copy()
            geom[missing] = straight
        return heads, tails, g.rev.data, geom

    def _area_one(
        self,
        dist: FloatArray,
        limit_s: float,
        point_xy: FloatArray,
        node: int,
        arcs: tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.object_]],
        buffer_m: float,
        cell: float,
    ) -> shapely.Geometry:
        import affine
        import rasterio.features
        from scipy import ndimage

        g = self._g
        if not np.isfinite(dist[node]):
            return shapely.Polygon()
        heads, tails, arc_t, geom = arcs
        sel = np.flatnonzero(np.isfinite(dist[heads]))
        h, t, at = heads[sel], tails[sel], arc_t[sel]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(at > 0, (limit_s - dist[h]) / at, 1.0)
        frac = np.clip(frac, 0.0, 1.0)
        # a two-way street reached whole appears twice (one arc per direction): keep one
        full = frac >= 1.0
        lo, hi = np.minimum(h, t), np.maximum(h, t)
        _, once = np.unique(lo[full] * g.n + hi[full], return_index=True)
        keep = np.concatenate([np.flatnonzero(full)[once], np.flatnonzero(~full & (frac > 0))])
        lines, frac = geom[sel[keep]], frac[keep]
        # sample the reached part of each street (the end next to the head, which is
        # nearer the point in time) every half cell
        step = cell / 2
        n_s = np.maximum(2, np.ceil(shapely.length(lines) * frac / step).astype(np.int64) + 1)
        rep = np.repeat(np.arange(len(lines)), n_s)
        start = np.cumsum(n_s) - n_s
        local = (np.arange(int(n_s.sum())) - start[rep]) / (n_s[rep] - 1)
        along = 1.0 - frac[rep] + frac[rep] * local
        pts = shapely.get_coordinates(shapely.line_interpolate_point(lines[rep], along, normalized=True))
        node_xy = np.array([g.x[node], g.y[node]])
        n_leg = max(2, math.ceil(float(np.hypot(*(node_xy - point_xy))) / step) + 1)
        leg = point_xy[None, :] + np.linspace(0.0, 1.0, n_leg)[:, None] * (node_xy - point_xy)
        pts = np.vstack([pts.reshape(-1, 2), leg])
        # rasterise, widen by buffer_m, polygonise
        pad = buffer_m + 2 * cell
        x0, y0 = pts.min(axis=0) - pad
        shape = np.ceil((pts.max(axis=0) + pad - (x0, y0)) / cell).astype(int)
        grid = np.zeros((shape[1], shape[0]), dtype=bool)
        grid[((pts[:, 1] - y0) / cell).astype(int), ((pts[:, 0] - x0) / cell).astype(int)] = True
        r = math.ceil(buffer_m / cell)
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        grid = ndimage.binary_dilation(grid, structure=(xx**2 + yy**2) * cell**2 <= buffer_m**2)
        transform = affine.Affine(cell, 0.0, x0, 0.0, cell, y0)
        polys = [
            shapely.geometry.shape(shp)
            for shp, _ in rasterio.features.shapes(grid.astype(np.uint8), mask=grid, transform=transform)
        ]
        return shapely.union_all(polys)


class CrowFliesEngine:
    """Fallback without a network: straight-line distance x circuity / speed.

    Distances are measured in :data:`pointplan.settings.projected_crs` with a k-d tree
    (vectorised; fast for tens of thousands of origins and thousands of points).
    ``distance_m`` is the straight line times ``circuity``.

    Parameters
    ----------
    mode
        Travel mode (:data:`MODES`); sets the default speed.
    speed_kmh
        Speed (default :data:`DEFAULT_SPEEDS_KMH` for the mode).
    circuity
        Network / straight-line distance ratio, :data:`DEFAULT_CIRCUITY` by default;
        measure it on a network with :func:`calibrate_circuity`.

    Attributes
    ----------
    method : str
        ``"crow_flies_circuity"``.

    """

    method: ClassVar[str] = _CROW

    def __init__(
        self,
        mode: str = "motorbike",
        *,
        speed_kmh: float | None = None,
        circuity: float = DEFAULT_CIRCUITY,
    ) -> None:
        self.mode = _check_mode(mode)
        self.speed_kmh = _check_speed(DEFAULT_SPEEDS_KMH[mode] if speed_kmh is None else speed_kmh, "speed_kmh")
        c = _as_float(circuity)
        if not (math.isfinite(c) and c >= 1.0):
            msg = f"circuity must be a number >= 1 (network / straight line), got {circuity!r}."
            raise InputError(msg)
        self.circuity = c

    @property
    def crs(self) -> pyproj.CRS:
        """CRS distances are measured in: :data:`pointplan.settings.projected_crs`."""
        return projected_crs()

    def __repr__(self) -> str:
        return f"CrowFliesEngine(mode={self.mode!r}, speed_kmh={self.speed_kmh}, circuity={self.circuity})"

    def _minutes(self, straight_m: FloatArray) -> FloatArray:
        return straight_m * self.circuity / (self.speed_kmh / 3.6) / 60.0

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame) -> pd.DataFrame:
        """Nearest destination by straight line, with its estimated travel time.

        Parameters
        ----------
        origins
            Demand locations.
        destinations
            Service points.

        Returns
        -------
        pandas.DataFrame
            Same columns as :meth:`NetworkEngine.nearest` (``dest``, ``minutes``,
            ``distance_m`` = straight line x circuity, ``method``).

        """
        o = _points_xy(origins, "origins", self.crs)
        d = _points_xy(destinations, "destinations", self.crs)
        straight, j = cKDTree(d).query(o)
        out = pd.DataFrame(
            {
                "dest": _labels(destinations.index, np.asarray(j, np.int64)),
                "minutes": self._minutes(straight),
                "distance_m": straight * self.circuity,
                "method": self.method,
            },
            index=origins.index,
        )
        out.attrs["method"] = self.method
        return out

    def od_long(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        with_distance: bool = True,
    ) -> pd.DataFrame:
        """Origin-destination pairs within ``max_minutes``, in sparse long format.

        Parameters
        ----------
        origins
            Demand locations.
        destinations
            Service points.
        max_minutes
            Cut-off (inclusive).
        with_distance
            Accepted for symmetry with :meth:`NetworkEngine.od_long` (always computed).

        Returns
        -------
        pandas.DataFrame
            Columns ``i``, ``j`` (positions), ``minutes``, ``distance_m``; sorted by
            ``i`` then ``j``.

        """
        limit = _check_minutes(max_minutes)
        o = _points_xy(origins, "origins", self.crs)
        d = _points_xy(destinations, "destinations", self.crs)
        radius_m = limit * 60.0 * (self.speed_kmh / 3.6) / self.circuity
        pairs = cKDTree(o).sparse_distance_matrix(cKDTree(d), radius_m * (1 + 1e-12), output_type="ndarray")
        i = pairs["i"].astype(np.int64)
        j = pairs["j"].astype(np.int64)
        straight = pairs["v"].astype(float)
        minutes = self._minutes(straight)
        ok = minutes <= limit
        i, j, straight, minutes = i[ok], j[ok], straight[ok], minutes[ok]
        order = np.argsort(i * len(d) + j)  # keys are unique
        out = pd.DataFrame(
            {
                "i": i[order],
                "j": j[order],
                "minutes": minutes[order],
                "distance_m": straight[order] * self.circuity,
            }
        )
        out.attrs["method"] = self.method
        return out

    def service_areas(self, points: gpd.GeoDataFrame, max_minutes: float, *, buffer_m: float = 0.0) -> gpd.GeoDataFrame:
        """Disc reached from each point within ``max_minutes``.

        Parameters
        ----------
        points
            Service points.
        max_minutes
            Time budget.
        buffer_m
            Extra margin added to the radius (for symmetry with the network engine).

        Returns
        -------
        geopandas.GeoDataFrame
            One disc per point of radius ``speed x time / circuity (+ buffer_m)``, index
            and CRS of ``points``.

        """
        limit = _check_minutes(max_minutes)
        xy = _points_xy(points, "points", self.crs)
        radius_m = limit * 60.0 * (self.speed_kmh / 3.6) / self.circuity + float(buffer_m)
        discs = shapely.buffer(shapely.points(xy), radius_m, quad_segs=16)
        out = gpd.GeoDataFrame(
            {"max_minutes": limit, "method": self.method},
            geometry=gpd.GeoSeries(discs, crs=self.crs).values,
            index=points.index,
            crs=self.crs,
        ).to_crs(points.crs)
        out.attrs["method"] = self.method
        return out


def make_engine(
    network: nx.MultiDiGraph | str | Path | shapely.Polygon | None = None,
    mode: str = "motorbike",
    **kw: Any,
) -> NetworkEngine | CrowFliesEngine:
    """Return the travel-time engine for what is at hand.

    Parameters
    ----------
    network
        ``None`` for the crow-flies fallback; a road graph; or anything
        :func:`load_network` accepts (file path, polygon, place name).
    mode
        Travel mode (:data:`MODES`).
    **kw
        Options of either engine, so callers can pass the same settings whatever is at
        hand: ``speeds_kmh``, ``cache``, ``retain_all`` (for :func:`load_network`),
        ``access_speed_kmh``, ``max_snap_m`` (:class:`NetworkEngine`), ``speed_kmh``
        and ``circuity`` (:class:`CrowFliesEngine`). Options of the engine not chosen
        are ignored (logged at debug level); unknown names raise ``TypeError``.

    Returns
    -------
    NetworkEngine or CrowFliesEngine
        Check ``engine.method`` to know which.

    """
    _check_mode(mode)
    network_only = {"access_speed_kmh", "max_snap_m", "speeds_kmh", "cache", "retain_all"}
    crow_only = {"speed_kmh", "circuity"}
    if network is None:
        ignored = sorted(set(kw) & network_only)
        if ignored:
            logger.debug("make_engine: no network, ignoring %s", ignored)
        return CrowFliesEngine(mode, **{k: v for k, v in kw.items() if k not in network_only})
    ignored = sorted(set(kw) & crow_only)
    if ignored:
        logger.debug("make_engine: network given, ignoring %s", ignored)
    kw = {k: v for k, v in kw.items() if k not in crow_only}
    speeds = kw.pop("speeds_kmh", None)
    retain_all = bool(kw.pop("retain_all", False))
    cache = bool(kw.pop("cache", True))
    if isinstance(network, nx.DiGraph):
        G = network if speeds is None else add_travel_times(network.copy(), mode, speeds)
    else:
        G = load_network(network, mode=mode, speeds_kmh=speeds, cache=cache, retain_all=retain_all)
    return NetworkEngine(G, mode, cache=cache, **kw)


# ---------------------------------------------------------------------------------------
# Circuity
# ---------------------------------------------------------------------------------------


def calibrate_circuity(
    G: nx.MultiDiGraph,
    n_pairs: int = 500,
    seed: int = 0,
    *,
    min_distance_m: float = 200.0,
) -> float:
    """Measure the ratio of network to straight-line distance on a road network.

    Random node pairs are drawn among the pairs connected in the graph's direction of
    travel and at least ``min_distance_m`` apart; the result is the ratio of sums
    (total network length / total straight-line length), which weights pairs by their
    length and is not thrown by very short pairs. Use it as ``CrowFliesEngine(circuity=
    calibrate_circuity(G))`` to replace :data:`DEFAULT_CIRCUITY`.

    Parameters
    ----------
    G
        Road graph with edge ``length`` (metres) and node ``x``/``y``; geographic
        coordinates are projected to :data:`pointplan.settings.projected_crs`.
    n_pairs
        Number of pairs sampled.
    seed
        Random seed (the result is reproducible).
    min_distance_m
        Ignore pairs closer than this (straight line).

    Returns
    -------
    float
        The circuity factor (>= 1 on any real network).

    Raises
    ------
    NetworkError
        Fewer than 10 usable pairs.

    """
    _check_graph(G)
    if int(n_pairs) < 1:
        msg = f"n_pairs must be >= 1, got {n_pairs!r}."
        raise InputError(msg)
    crs = _graph_crs(G)
    nodes = pd.Index(list(G.nodes))
    n = len(nodes)
    x = np.fromiter((d["x"] for _, d in G.nodes(data=True)), float, n)
    y = np.fromiter((d["y"] for _, d in G.nodes(data=True)), float, n)
    if crs.is_geographic:
        _check_coordinates_fit(G, crs)
        x, y = pyproj.Transformer.from_crs(crs, projected_crs(), always_xy=True).transform(x, y)
    u = nodes.get_indexer([e[0] for e in G.edges()])
    v = nodes.get_indexer([e[1] for e in G.edges()])
    length = np.fromiter((_as_float(d.get("length")) for _, _, d in G.edges(data=True)), float)
    times = np.fromiter((_as_float(d.get(TIME_ATTR, 0.0)) for _, _, d in G.edges(data=True)), float)
    bad = ~np.isfinite(length) | (length < 0)
    length[bad] = np.hypot(x[v[bad]] - x[u[bad]], y[v[bad]] - y[u[bad]])
    keep = (u != v) & ~np.isposinf(times)
    # shortest of parallel edges (a plain sparse constructor would sum duplicates)
    order = np.lexsort((length[keep], v[keep], u[keep]))
    uu, vv, ll = u[keep][order], v[keep][order], length[keep][order]
    first = np.ones(len(uu), bool)
    first[1:] = (uu[1:] != uu[:-1]) | (vv[1:] != vv[:-1])
    W = sparse.csr_matrix((ll[first], (uu[first], vv[first])), shape=(n, n))
    rng = np.random.default_rng(seed)
    n_src = min(n, max(10, math.ceil(math.sqrt(n_pairs)) * 2))
    sources = rng.choice(n, size=n_src, replace=False)
    net = dijkstra(W, directed=True, indices=sources)
    straight = np.hypot(x[None, :] - x[sources, None], y[None, :] - y[sources, None])
    ok = np.isfinite(net) & (straight >= max(min_distance_m, 1e-9))
    r, c = np.nonzero(ok)
    if r.size < 10:
        msg = (
            f"Only {r.size} connected node pairs at least {min_distance_m:g} m apart: the "
            "network is too small or too fragmented to calibrate a circuity factor."
        )
        raise NetworkError(msg)
    pick = rng.choice(r.size, size=min(int(n_pairs), r.size), replace=False)
    ratio = float(net[r[pick], c[pick]].sum() / straight[r[pick], c[pick]].sum())
    logger.info("circuity %.3f from %d node pairs", ratio, pick.size)
    return ratio
