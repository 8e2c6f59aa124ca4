"""Travel modes and speeds: Hanoi defaults by OSM road type, travel times on edges."""

# ruff: noqa: N803 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from pointplan._errors import (
    InputError,
    NetworkError,
    PrecisionWarning,
)
from pointplan.network._common import (
    _MODE_KEY,
    _VERSION_KEY,
    _WALK_FLAG,
    SPEED_ATTR,
    TIME_ATTR,
    FloatArray,
    Mode,
    _as_float,
    _check_graph,
    _check_mode,
    _check_speed,
    _graph_crs,
    _highway_key,
    _parse_maxspeed,
    _truthy,
)

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

# ---------------------------------------------------------------------------------------
# Modes and speeds
# ---------------------------------------------------------------------------------------


#: Door-to-door planning speed of each mode in Hanoi (km/h). Used by the crow-flies
#: fallback and for network edges of a highway type the tables do not list.
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
#: Văn Miếu extract (1.3 x 0.8 km, ``data/osm``) it gives about 1.5 for walking
#: and 1.7 for motorbikes (one-way streets): trips of a few hundred metres inside a
#: window cut from the city are more circuitous than city-scale trips, so calibrate on a
#: network that covers the study area rather than reuse that figure.

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
        if not highway or any(t in self.excluded for t in highway):
            v = 0.0  # no highway tag: a building, railway, landuse... never a road
        elif self.uniform_kmh is not None:
            v = self.uniform_kmh
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


def _speeds_and_times(
    G: nx.MultiDiGraph, edges: list[Any], rule: _SpeedRule, *, osmnx_times: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Speed (km/h) and travel time (s) of each edge: type rule, maxspeed cap, osmnx's own times."""
    lengths = _edge_lengths(G, edges)
    speeds = np.fromiter((rule.speed(_highway_key(d.get("highway"))) for _, _, d in edges), float, len(edges))
    if rule.uniform_kmh is None:
        caps = np.fromiter((_parse_maxspeed(d.get("maxspeed")) for _, _, d in edges), float, len(edges))
        speeds = np.fmin(speeds, caps)  # fmin ignores NaN caps
    with np.errstate(divide="ignore"):
        times = np.where(speeds > 0, lengths * 3.6 / speeds, np.inf)
    if osmnx_times:
        _use_osmnx_times(edges, lengths, speeds, times)
    return speeds, times


def add_travel_times(
    G: nx.MultiDiGraph,
    mode: Mode = "motorbike",
    speeds_kmh: float | Mapping[str, float] | None = None,
    *,
    recompute: bool = False,
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
    recompute
        Ignore osmnx's own ``speed_kph`` / ``travel_time`` edge attributes. By default
        they are honoured, for ``car`` and ``motorbike`` only (osmnx's speeds are for
        motor vehicles), when no ``speeds_kmh`` override is given: ``travel_time``
        (seconds) when present, else ``length / speed_kph``. Impassable types stay
        impassable.

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
    speeds, times = _speeds_and_times(
        G, edges, rule, osmnx_times=not recompute and speeds_kmh is None and mode in _OSMNX_SPEED_MODES
    )
    for (_, _, d), s, t in zip(edges, speeds.tolist(), times.tolist(), strict=True):
        d[SPEED_ATTR] = s
        d[TIME_ATTR] = t
    G.graph[_MODE_KEY] = mode
    G.graph[_VERSION_KEY] = int(G.graph.get(_VERSION_KEY, 0)) + 1
    n_closed = int((speeds <= 0).sum())
    if n_closed:
        logger.info("%s: %d edges impassable (excluded highway types)", mode, n_closed)
    return G


#: Modes for which osmnx's ``speed_kph`` / ``travel_time`` (motor-vehicle speeds) apply.
_OSMNX_SPEED_MODES: frozenset[str] = frozenset({"car", "motorbike"})


def _use_osmnx_times(
    edges: Sequence[tuple[Any, Any, dict[str, Any]]], lengths: FloatArray, speeds: FloatArray, times: FloatArray
) -> None:
    """Overwrite ``speeds``/``times`` in place with osmnx's own, where given and passable."""
    m = len(edges)
    given_s = np.fromiter((_as_float(d.get("travel_time")) for _, _, d in edges), float, m)
    given_kph = np.fromiter((_as_float(d.get("speed_kph")) for _, _, d in edges), float, m)
    passable = speeds > 0
    use_s = passable & np.isfinite(given_s) & (given_s >= 0)
    use_kph = passable & ~use_s & np.isfinite(given_kph) & (given_kph > 0)
    if not (use_s.any() or use_kph.any()):
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        times[use_s] = given_s[use_s]
        speeds[use_s] = np.where(given_s[use_s] > 0, lengths[use_s] * 3.6 / given_s[use_s], speeds[use_s])
        times[use_kph] = lengths[use_kph] * 3.6 / given_kph[use_kph]
        speeds[use_kph] = given_kph[use_kph]
    logger.info("using osmnx's own travel times on %d edges", int(use_s.sum() + use_kph.sum()))
