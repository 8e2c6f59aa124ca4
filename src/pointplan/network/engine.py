"""The network routing engine: snapping, nearest point, origin-destination times."""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import dataclasses
import hashlib
import logging
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from pointplan import settings
from pointplan._errors import (
    InputError,
    PrecisionWarning,
)
from pointplan._results import cached, digest, frame_digest
from pointplan.network._common import (
    _NETWORK,
    FloatArray,
    IntArray,
    Mode,
    _check_graph,
    _check_minutes,
    _check_speed,
    _constant_column,
    _labels,
    _points_xy,
    _warn_unreachable,
    points_key,
)
from pointplan.network.base import EngineBase
from pointplan.network.fallback_model import load_calibration
from pointplan.network.graph import _CSRGraph, _engine_graph, _FillPlan, _tree_sum, _without_arcs_into
from pointplan.network.loading import graph_for_mode
from pointplan.network.snapping import Snapped, same_street_trips
from pointplan.network.speeds import ACCESS_SPEEDS_KMH
from pointplan.network.walking import walk_kind

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


#: Sets of places whose snapping an engine keeps (the least recently used goes first).
SNAP_MEMO_ENTRIES = 8
#: Most places, over every kept set, whose snapping an engine keeps.
SNAP_MEMO_ROWS = 1_000_000
#: A set of at least this many places is kept with its coordinates (the last
#: :data:`SNAP_REUSE_SETS` such sets): a later set whose places are all among a kept set's
#: (the points of one unit) takes their rows, and one of as many places that differs in at most
#: a tenth of the rows (a draw moving a few stand-ins among 200,000 kiosks) snaps only those.
SNAP_REUSE_MIN_ROWS = 10_000
#: How many large sets of places an engine keeps with their coordinates.
SNAP_REUSE_SETS = 4


class _KeptSet:
    """A large set of places with its snapping, and (worked out when first asked) its rows sorted."""

    def __init__(self, xy: FloatArray, snapped: Snapped) -> None:
        self.xy, self.snapped = np.array(xy, dtype=float), snapped
        self._sorted: tuple[npt.NDArray[np.complex128], IntArray] | None = None

    def rows_of(self, xy: FloatArray) -> IntArray | None:
        """Position in this set of each place of ``xy`` (None if one of them is not in it)."""
        if self._sorted is None:
            keys = self.xy[:, 0] + 1j * self.xy[:, 1]
            order = np.argsort(keys, kind="stable")
            self._sorted = (keys[order], order)
        keys, order = self._sorted
        q = xy[:, 0] + 1j * xy[:, 1]
        pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
        if not len(keys) or not bool((keys[pos] == q).all()):
            return None
        return order[pos]


def _with_rows(prev: Snapped, rows: IntArray, new: Snapped) -> Snapped:
    """Return ``prev`` with the places at ``rows`` snapped as ``new`` (snapping is place by place)."""
    parts = {}
    for name in ("street", "frac", "snap_m", "proj_xy"):
        arr = getattr(prev, name).copy()
        arr[rows] = getattr(new, name)
        parts[name] = arr
    return dataclasses.replace(prev, **parts)


def _memo_get(memo: OrderedDict[bytes, Snapped], key: bytes | None) -> Snapped | None:
    """Return the memo's entry for ``key`` (None if absent), now the most recently used."""
    if key is None:
        return None
    hit = memo.get(key)
    if hit is not None:
        memo.move_to_end(key)
    return hit


def _walk_kind(G: nx.MultiDiGraph, g: _CSRGraph) -> tuple[bool, bool]:
    """Whether ``G`` has pedestrian ways, and whether it is drive-only (worked out once per conversion)."""
    hit = g.memo.get("walk_kind")
    if not isinstance(hit, tuple):
        hit = walk_kind(G)
        g.memo["walk_kind"] = hit
    return hit


def _checked_options(mode: str, access_speed_kmh: float | None, max_snap_m: float) -> tuple[float, float]:
    """Return a network engine's access speed (the mode's default if None) and largest snap, checked."""
    speed = _check_speed(ACCESS_SPEEDS_KMH[mode] if access_speed_kmh is None else access_speed_kmh, "access_speed_kmh")
    if not (isinstance(max_snap_m, int | float) and max_snap_m >= 0):
        msg = f"max_snap_m must be a number >= 0, got {max_snap_m!r}."
        raise InputError(msg)
    return speed, float(max_snap_m)


def _check_ratio(walk_correction: float | None) -> float:
    if walk_correction is None:
        shipped = load_calibration().walk_correction
        return 1.0 if shipped is None else shipped.ratio
    ratio = float(walk_correction)
    if not (np.isfinite(ratio) and ratio > 0):
        msg = f"walk_correction must be a ratio > 0 (1.0 turns it off), got {walk_correction!r}."
        raise InputError(msg)
    return ratio


def _scaled(g: _CSRGraph, factor: float) -> _CSRGraph:
    """Return the converted graph with every travel time multiplied by ``factor`` (kept with the original)."""
    key = ("scaled", factor)
    hit = g.memo.get(key)
    if isinstance(hit, _CSRGraph):
        return hit
    rev = g.rev.copy()
    rev.data = rev.data * factor
    out = dataclasses.replace(g, rev=rev, memo={})
    g.memo[key] = out
    return out


def _by_origin(
    parts: list[tuple[IntArray, IntArray, FloatArray, FloatArray]],
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Join pieces each sorted by origin then destination, whose origins or destinations do not overlap.

    Pieces for other destinations (chunks) or other origins (limits) hold no pair twice;
    a stable sort by origin, in the order of the pieces, sorts by origin then destination
    when each piece's destinations follow the previous one's.
    """
    if not parts:
        e = np.array([], np.int64)
        return e, e.copy(), np.array([], float), np.array([], float)
    i, j, minutes, met = (np.concatenate([p[c] for p in parts]) for c in range(4))
    if len(parts) > 1:
        order = np.argsort(i, kind="stable")
        i, j, minutes, met = i[order], j[order], minutes[order], met[order]
    return i, j, minutes, met


def _with_direct(
    net: tuple[IntArray, IntArray, FloatArray, FloatArray],
    direct: tuple[IntArray, IntArray, FloatArray, FloatArray],
    k: int,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Add the same-street pairs to the network pairs (both unique, by origin then destination).

    A pair found both ways keeps the quicker trip (the network's on a tie).

    Examples
    --------
    >>> net = (np.array([0, 1]), np.array([1, 0]), np.array([5.0, 3.0]), np.array([50.0, 30.0]))
    >>> direct = (np.array([1, 0]), np.array([0, 0]), np.array([2.0, 1.0]), np.array([20.0, 10.0]))
    >>> [x.tolist() for x in _with_direct(net, direct, 2)]
    [[0, 0, 1], [0, 1, 0], [1.0, 5.0, 2.0], [10.0, 50.0, 20.0]]
    """
    i, j, minutes, met = (x.copy() for x in net)
    di, dj, dm, dd = direct
    key = i * k + j
    dkey = di * k + dj
    order = np.argsort(dkey)
    di, dj, dm, dd, dkey = di[order], dj[order], dm[order], dd[order], dkey[order]
    pos = np.searchsorted(key, dkey)
    found = pos < len(key)
    found[found] = key[pos[found]] == dkey[found]
    better = np.zeros(len(dkey), bool)
    better[found] = dm[found] < minutes[pos[found]]
    minutes[pos[better]], met[pos[better]] = dm[better], dd[better]
    new, at = ~found, pos[~found]
    return (
        np.insert(i, at, di[new]),
        np.insert(j, at, dj[new]),
        np.insert(minutes, at, dm[new]),
        np.insert(met, at, dd[new]),
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

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=500.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")  # 30 km/h by motorbike
    >>> NetworkEngine(G, "motorbike").node_times([2]).to_frame()
       target  seconds
    1       2     60.0
    2       2      0.0

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


class NetworkEngine(EngineBase):
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
        Speed of the straight-line leg between a point and its nearest street (default
        :data:`ACCESS_SPEEDS_KMH` for the mode).
    max_snap_m
        Points farther than this from the network are flagged ``far`` and counted in a
        :class:`~pointplan.PrecisionWarning`.
    walk_correction
        For walking on a drive-only network (:func:`~pointplan.network.walking.is_drive_only`:
        no footways, paths, steps), the ratio of door-to-door minutes on it to minutes on a
        network with pedestrian ways; every time (streets and access legs) is divided by it.
        ``None``: the ratio shipped in the fallback calibration (measured on the Văn Miếu
        extract); ``1.0`` turns it off. Ignored for other modes and for networks with
        pedestrian ways.
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
    pedestrian_ways : bool
        Whether the graph holds pedestrian ways (footways, paths, steps...).
    walk_correction : float
        The ratio walking times were divided by (1.0: none).
    walk_network_kind : str or None
        For walking: ``"pedestrian"`` (a network with pedestrian ways),
        ``"drive_corrected"`` (a drive-only network, corrected) or ``"drive"`` (not
        corrected); None for other modes.

    Notes
    -----
    Points snap to the nearest passable street (edge): a trip starts at the point's
    projection on it and pays the part of the street to its end, plus the straight leg
    to the street at ``access_speed_kmh``; ``max_snap_m`` applies to that same leg. A
    graph :func:`load_network` built for another mode is built again for ``mode`` (so
    walking uses footways). An origin on a street from which no destination can be reached (a separate part of the
    network, the far end of a one-way street leaving the area) is reported unreachable;
    load networks with ``retain_all=False`` (the default) to keep only the main part.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=500.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")  # 30 km/h by motorbike
    >>> eng = NetworkEngine(G, "motorbike")
    >>> o = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]), crs="EPSG:32648")
    >>> d = gpd.GeoDataFrame(geometry=gpd.points_from_xy([500.0], [0.0]), index=["P"], crs="EPSG:32648")
    >>> eng.nearest(o, d)[["dest", "minutes", "distance_m"]]
      dest  minutes  distance_m
    0    P      1.0       500.0

    """

    method: ClassVar[str] = _NETWORK

    def __init__(
        self,
        G: nx.MultiDiGraph,
        mode: Mode = "motorbike",
        *,
        access_speed_kmh: float | None = None,
        max_snap_m: float = 500.0,
        walk_correction: float | None = None,
        cache: bool = True,
    ) -> None:
        _check_graph(G)
        super().__init__(mode)
        self.access_speed_kmh, self.max_snap_m = _checked_options(self.mode, access_speed_kmh, max_snap_m)
        G = graph_for_mode(G, self.mode)
        self.graph = G
        self._g, cached = _engine_graph(G, mode, cache)
        self.conversion_seconds = 0.0 if cached else self._g.seconds
        self.crs = self._g.crs
        self.pedestrian_ways, drive_only = _walk_kind(G, self._g)
        self.walk_correction = 1.0
        if self.mode == "walk" and drive_only:
            self.walk_correction = _check_ratio(walk_correction)
            if self.walk_correction != 1.0:
                self._g = _scaled(self._g, 1.0 / self.walk_correction)

    #: Set for an engine of a road file (:func:`~pointplan.network.travel_engine`): the hash of
    #: the file's disk-cache entry name and the options, used as :attr:`fingerprint`.
    entry_fingerprint: bytes | None = None
    #: Set for an engine of a road file: ``for_mode(mode)`` gives the engine of the same roads for another mode.
    for_mode: Callable[[str], NetworkEngine] | None = None
    #: Whether :attr:`for_mode` is the way to another mode of these roads (rather than :attr:`graph`).
    from_file: bool = False

    @property
    def fingerprint(self) -> bytes | None:
        """Hash of the converted graph and the engine's options (see :attr:`EngineBase.fingerprint`)."""
        if self.entry_fingerprint is not None:
            return self.entry_fingerprint
        return digest(
            "network", self.mode, self.access_speed_kmh, self.max_snap_m, self.walk_correction, self._g.fingerprint
        )

    @property
    def walk_network_kind(self) -> str | None:
        """How walking times are computed (None for other modes): see the class attributes."""
        if self.mode != "walk":
            return None
        if self.pedestrian_ways:
            return "pedestrian"
        return "drive_corrected" if self.walk_correction != 1.0 else "drive"

    def __repr__(self) -> str:
        return (
            f"NetworkEngine(mode={self.mode!r}, nodes={self._g.n}, arcs={self._g.rev.nnz}, "
            f"access_speed_kmh={self.access_speed_kmh}, max_snap_m={self.max_snap_m})"
        )

    # -- snapping ------------------------------------------------------------------------

    @property
    def _access_mps(self) -> float:
        return self.access_speed_kmh / 3.6 * self.walk_correction

    def _snap(self, gdf: object, what: str) -> Snapped:
        """Snap to the nearest street, keeping the answers for the last few sets of places.

        The assessment asks about the same demand places many times. A set of finite
        points is keyed by its coordinates and CRS (:func:`points_key`) before it is
        reprojected, then by its projected coordinates (the same places in another CRS);
        a changed set has another key. The memo is bounded (:data:`SNAP_MEMO_ENTRIES`
        sets, :data:`SNAP_MEMO_ROWS` rows in all) and lives with the converted graph.
        """
        memo = self._g.memo.setdefault("snaps", OrderedDict())
        assert isinstance(memo, OrderedDict)
        raw = points_key(gdf)  # finite points: keyed before reprojection and validation
        raw_key = None if raw is None else b"raw:" + raw
        hit = _memo_get(memo, raw_key)
        if hit is not None:
            return hit
        xy = _points_xy(gdf, what, self.crs, key=raw)
        key = hashlib.blake2b(np.ascontiguousarray(xy).tobytes(), digest_size=16).digest()
        snapped = _memo_get(memo, key)
        if snapped is None:
            snapped = self._snap_new(xy, key)
        memo[key] = snapped
        if raw_key is not None:
            memo[raw_key] = snapped
        while len(memo) > 2 * SNAP_MEMO_ENTRIES or sum(len(x.street) for x in memo.values()) > 2 * SNAP_MEMO_ROWS:
            memo.popitem(last=False)  # each set is there twice at most (raw and projected keys)
        return snapped

    def _snap_new(self, xy: FloatArray, key: bytes) -> Snapped:
        """Snap places not seen as a set, reusing a kept large set (snapping is place by place).

        Places all among a kept set's take its rows; a large set close to a kept one snaps
        only its changed rows; anything else is snapped in full.
        """
        streets = self._g.streets
        kept = self._g.memo.setdefault("snap_xy", OrderedDict())
        assert isinstance(kept, OrderedDict)
        for entry in reversed(kept.values()):
            rows = entry.rows_of(xy) if len(xy) <= len(entry.xy) else None
            if rows is not None:
                return entry.snapped.take(rows)
        if len(xy) < SNAP_REUSE_MIN_ROWS:
            return streets.snap(xy)
        best: tuple[IntArray, Snapped] | None = None  # the kept set with the fewest changed rows
        for entry in kept.values():
            if entry.xy.shape == xy.shape:
                moved = np.flatnonzero((xy != entry.xy).any(axis=1))
                if len(moved) <= len(xy) // 10 and (best is None or len(moved) < len(best[0])):
                    best = (moved, entry.snapped)
        if best is None:
            snapped = streets.snap(xy)
        else:
            moved, prev = best
            snapped = _with_rows(prev, moved, streets.snap(xy[moved])) if len(moved) else prev
        kept[key] = _KeptSet(xy, snapped)
        while len(kept) > SNAP_REUSE_SETS:
            kept.popitem(last=False)
        return snapped

    def _same_street(self, o: Snapped, d: Snapped) -> pd.DataFrame:
        """Trips along one street (:func:`same_street_trips`), kept for the last few snapped pairs."""
        memo = self._g.memo.setdefault("same_street", {})
        assert isinstance(memo, dict)
        key = (id(o), id(d))
        hit = memo.get(key)
        if hit is not None and hit[0] is o and hit[1] is d:  # the entry holds o and d: ids are not reused
            return hit[2]
        direct = same_street_trips(o, d)
        while len(memo) >= 8:
            memo.pop(next(iter(memo)))
        memo[key] = (o, d, direct)
        return direct

    def _direct_best(self, o: Snapped, d: Snapped) -> tuple[IntArray, IntArray, FloatArray, FloatArray] | None:
        """Return the quickest same-street trip of each origin that has one: ``i``, ``j``, seconds, metres.

        Seconds and metres include the destination's snap leg (not the origin's); None
        when no origin shares a street with a destination. Kept for the last few pairs of sets.
        """
        direct = self._same_street(o, d)
        if not len(direct):
            return None
        memo = self._g.memo.setdefault("direct_best", {})
        assert isinstance(memo, dict)
        key = (id(o), id(d), self._access_mps)
        hit = memo.get(key)
        if hit is not None and hit[0] is o and hit[1] is d:  # the entry holds o and d: ids are not reused
            return hit[2]
        v = self._access_mps
        i, j = direct["i"].to_numpy(), direct["j"].to_numpy()
        dsec = direct["seconds"].to_numpy() + d.snap_m[j] / v
        dmet = direct["metres"].to_numpy() + d.snap_m[j]
        first = np.lexsort((dsec, i))
        first = first[np.r_[True, i[first][1:] != i[first][:-1]]]  # fastest per origin
        out = (i[first], j[first], dsec[first], dmet[first])
        for x in out:
            x.flags.writeable = False
        while len(memo) >= 8:
            memo.pop(next(iter(memo)))
        memo[key] = (o, d, out)
        return out

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
        """Snap points (representative points of other geometries) to the nearest street.

        Parameters
        ----------
        gdf
            Locations with a CRS.

        Returns
        -------
        pandas.DataFrame
            Index of ``gdf``; columns ``u`` and ``v`` (end nodes of the nearest street),
            ``fraction`` (position of the projection from ``u`` to ``v``), ``node`` (the
            end nearer along the street), ``snap_m`` (straight-line distance from the
            point to the street) and ``far`` (``snap_m > max_snap_m``).

        Examples
        --------
        >>> import geopandas as gpd, networkx as nx
        >>> G = nx.MultiDiGraph(crs="EPSG:32648")
        >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=3000.0, y=0.0)
        >>> _ = G.add_edge(1, 2, length=3000.0, highway="unclassified")
        >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1000.0], [40.0]), crs="EPSG:32648")
        >>> NetworkEngine(G, "motorbike").snap(pts)[["u", "v", "fraction", "snap_m", "far"]]
           u  v  fraction  snap_m    far
        0  1  2  0.333333    40.0  False

        """
        s = self._snap(gdf, "points")
        nodes = self._g.nodes
        ends = s.nodes
        return pd.DataFrame(
            {
                "u": nodes.take(ends[:, 0]).to_numpy(),
                "v": nodes.take(ends[:, 1]).to_numpy(),
                "fraction": s.frac,
                "node": nodes.take(s.nearest_node).to_numpy(),
                "snap_m": s.snap_m,
                "far": s.snap_m > self.max_snap_m,
            },
            index=gdf.index,
        )

    # -- core ----------------------------------------------------------------------------

    def _augmented(self, d: Snapped) -> tuple[sparse.csr_matrix, FloatArray]:
        """Reversed graph plus one virtual node per destination.

        The virtual node of destination ``j`` (row ``n + j``) has an arc to each end of
        its street that can reach the projection: cost = the partial street + the snap
        leg. Returns the matrix and the metres of those arcs, (k, 2): ``a`` then ``b``.
        """
        g = self._g
        n, k = g.n, len(d.street)
        sec, met = d.reach()
        sec = sec + (d.snap_m / self._access_mps)[:, None]
        met = met + d.snap_m[:, None]
        ok = np.isfinite(sec)
        counts = ok.sum(axis=1)
        rev = g.rev
        idx_dtype = np.dtype(np.int64) if n + k + rev.nnz + 2 * k >= 2**31 - 1 else rev.indices.dtype
        indptr = np.concatenate([rev.indptr, rev.indptr[-1] + np.cumsum(counts)]).astype(idx_dtype, copy=False)
        indices = np.concatenate([rev.indices, d.nodes[ok].astype(idx_dtype)])
        data = np.concatenate([rev.data, sec[ok]])
        A = sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
        A.has_sorted_indices = True  # a < b within each virtual row
        return A, met

    def _arc_length(self, parent: IntArray, child: IntArray, d: Snapped | None, d_met: FloatArray) -> FloatArray:
        """Length of arcs parent -> child of the (augmented) reversed graph."""
        g = self._g
        n = g.n
        out = np.zeros(len(parent), float)
        virtual = parent >= n
        if virtual.any():
            assert d is not None
            j = parent[virtual] - n
            out[virtual] = np.where(child[virtual] == d.nodes[j, 0], d_met[j, 0], d_met[j, 1])
        real = ~virtual & (parent >= 0)
        if real.any():
            loc = np.searchsorted(g.rev_keys, parent[real] * n + child[real])
            out[real] = g.rev_len[loc]
        return out

    def _from_destinations(self, d: Snapped, *, lengths: bool) -> tuple[FloatArray, IntArray, FloatArray | None]:
        """One multi-source pass: per graph node, seconds to the nearest destination.

        Returns the seconds (the destination's partial street and snap leg included),
        that destination's position (-1 if unreachable) and, if ``lengths``, the
        network length of the path (snap leg included).
        """
        n, k = self._g.n, len(d.street)
        A, d_met, pruned = self._search_graph(d)
        sources = np.arange(n, n + k)
        dist, pred, src = dijkstra(A, directed=True, indices=sources, min_only=True, return_predecessors=True)
        if pruned is not None:  # the dead ends left out of the pass
            pruned.fill(dist, pred, src)
        which = np.where(src[:n] >= 0, src[:n] - n, -1).astype(np.int64)
        if not lengths:
            return dist[:n], which, None
        parent = np.where(pred >= 0, pred, -1).astype(np.int64)
        value = self._arc_length(parent, np.arange(n + k), d, d_met)
        value[parent < 0] = 0.0
        total = _tree_sum(parent, value)[:n]
        total[~np.isfinite(dist[:n])] = np.inf
        return dist[:n], which, total

    def _search_graph(self, d: Snapped) -> tuple[sparse.csr_matrix, FloatArray, _FillPlan | None]:
        """Return the augmented graph of :meth:`_augmented` without the dead ends no destination lies in.

        Kept for the last few destination sets (the same points are asked about again):
        the matrix, the metres of the virtual arcs and how to fill in the nodes left out.
        """
        memo = self._g.memo.setdefault("search", {})
        assert isinstance(memo, dict)
        hit = memo.get(id(d))
        if hit is not None and hit[0] is d:  # the entry holds d: its id is not reused
            return hit[1]
        A, d_met = self._augmented(d)
        mask = self._g.forest.pruned(d.nodes.ravel())
        pruned = None
        if mask is not None:
            A = _without_arcs_into(A, mask)
            pruned = self._g.forest.plan(mask)
        while len(memo) >= 4:
            memo.pop(next(iter(memo)))
        memo[id(d)] = (d, (A, d_met, pruned))
        return A, d_met, pruned

    def _node_pass(self, pos: IntArray, *, lengths: bool) -> tuple[FloatArray, IntArray, FloatArray | None]:
        """Multi-source pass from graph nodes themselves (no snapping)."""
        g = self._g
        n, k = g.n, len(pos)
        dist, pred, src = dijkstra(g.rev, directed=True, indices=pos, min_only=True, return_predecessors=True)
        first = np.full(n, -1, dtype=np.int64)
        first[pos[::-1]] = np.arange(k - 1, -1, -1)  # first target at each node
        which = np.where(src >= 0, first[np.maximum(src, 0)], -1)
        if not lengths:
            return dist, which, None
        parent = np.where(pred >= 0, pred, -1).astype(np.int64)
        value = self._arc_length(parent, np.arange(n), None, np.empty((0, 2)))
        value[parent < 0] = 0.0
        total = _tree_sum(parent, value)
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

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.MultiDiGraph(crs="EPSG:32648")
        >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=500.0, y=0.0)
        >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")  # 30 km/h by motorbike
        >>> NetworkEngine(G, "motorbike").node_times([2]).seconds.tolist()
        [60.0, 0.0]

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
        seconds, which, length = self._node_pass(pos, lengths=True)
        return NodeTimes(g.nodes, seconds, length, targets, _which=which)

    def _pick_end(
        self, o: Snapped, node_s: FloatArray, node_m: FloatArray | None, which: IntArray
    ) -> tuple[FloatArray, FloatArray, IntArray]:
        """Best way out of each origin's street: seconds, metres and destination."""
        leave_s, leave_m = o.leave()
        ends = o.nodes
        cand = node_s[ends] + leave_s  # (m, 2)
        c = np.argmin(cand, axis=1)
        rows = np.arange(len(c))
        sec = cand[rows, c]
        met = (node_m[ends] + leave_m)[rows, c] if node_m is not None else np.full(len(c), np.nan)
        return sec, met, which[ends[rows, c]]

    def _nearest(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, *, with_distance: bool
    ) -> pd.DataFrame:
        """Nearest destination and travel time from every origin, in one pass (see :meth:`EngineBase.nearest`).

        Points are snapped to their nearest street; a trip pays the part of the street
        between the point's projection and the street's ends, and the straight snap leg
        at :attr:`access_speed_kmh`. A trip along one street (origin and destination on
        the same one) goes straight along it.

        Parameters
        ----------
        origins
            Demand locations (points, or polygons: their representative points).
        destinations
            Service points.
        with_distance
            Compute ``distance_m`` (NaN otherwise; about half the time).

        Returns
        -------
        pandas.DataFrame
            Index of ``origins``; columns ``dest`` (index label of the nearest
            destination, missing if unreachable), ``minutes`` (origin -> destination,
            snap legs included; missing (NaN) if unreachable, never inf),
            ``distance_m`` (network length of that trip including snap legs; NaN if
            unreachable), ``reachable`` and ``method``. ``attrs["n_unreachable"]``
            counts the unreachable origins.

        Warns
        -----
        UnreachableWarning
            Some origins reach no destination.
        PrecisionWarning
            Some points lie farther than ``max_snap_m`` from the network.

        Examples
        --------
        >>> import geopandas as gpd, networkx as nx
        >>> G = nx.MultiDiGraph(crs="EPSG:32648")
        >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=3000.0, y=0.0)
        >>> _ = G.add_edge(1, 2, length=3000.0, highway="unclassified")
        >>> _ = G.add_edge(2, 1, length=3000.0, highway="unclassified")
        >>> eng = NetworkEngine(G, "motorbike", access_speed_kmh=3.6)  # 1 m/s on foot to the road
        >>> o = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1000.0], [30.0]), crs="EPSG:32648")
        >>> d = gpd.GeoDataFrame(geometry=gpd.points_from_xy([2100.0], [-20.0]), crs="EPSG:32648")
        >>> round(float(eng.nearest(o, d)["minutes"].iloc[0] * 60), 1)  # 50 s walk + 1100 m at 22 km/h
        230.0

        """
        o = self._snap(origins, "origins")
        d = self._snap(destinations, "destinations")
        self._warn_far(o.snap_m, "origins")
        self._warn_far(d.snap_m, "destinations")
        node_s, which, node_m = self._from_destinations(d, lengths=with_distance)
        sec, met, dest = self._pick_end(o, node_s, node_m, which)
        direct = self._direct_best(o, d)
        if direct is not None:
            i, j, dsec, dmet = direct
            better = dsec < sec[i]
            sec[i[better]], met[i[better]], dest[i[better]] = dsec[better], dmet[better], j[better]
        sec = sec + o.snap_m / self._access_mps
        met = met + o.snap_m
        return self._nearest_frame(origins, destinations, sec, met, dest)

    def _nearest_frame(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        sec: FloatArray,
        met: FloatArray,
        dest: IntArray,
    ) -> pd.DataFrame:
        bad = ~np.isfinite(sec)
        dest = np.where(bad, -1, dest)
        _warn_unreachable(int(bad.sum()), len(sec))
        out = pd.DataFrame(
            {
                "dest": _labels(destinations.index, dest),
                "minutes": np.where(bad, np.nan, sec / 60.0),
                "distance_m": np.where(bad, np.nan, met),
                "reachable": ~bad,
                "method": _constant_column(self.method, len(sec)),
            },
            index=origins.index,
            copy=False,  # every column is made here
        )
        out.attrs["method"] = self.method
        out.attrs["n_unreachable"] = int(bad.sum())
        return out

    def _chunks(self, k: int, width: int) -> Iterator[npt.NDArray[np.int64]]:
        per = max(1, min(k, int(4e6 // max(1, width))))  # ~32 MB per array
        starts = range(0, k, per)
        if settings.progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="travel times", unit="chunk")
        for s in starts:
            yield np.arange(s, min(k, s + per), dtype=np.int64)

    def _od_long(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float, *, with_distance: bool
    ) -> pd.DataFrame:
        """Origin-destination travel times within a cut-off (see :meth:`EngineBase.od_long`).

        One Dijkstra limited to ``max_minutes`` runs per destination on the reversed
        graph; origins are read off at both ends of their street, as in :meth:`nearest`.

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

        Examples
        --------
        >>> import geopandas as gpd, networkx as nx
        >>> G = nx.MultiDiGraph(crs="EPSG:32648")
        >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
        >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")  # 30 km/h, one-way
        >>> eng = NetworkEngine(G, "motorbike")
        >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 1000.0], [0.0, 0.0]), crs="EPSG:32648")
        >>> eng.od_long(pts, pts, 5)[["i", "j", "minutes", "distance_m"]]
           i  j  minutes  distance_m
        0  0  0      0.0         0.0
        1  0  1      2.0      1000.0
        2  1  1      0.0         0.0

        """
        limit_s = _check_minutes(max_minutes) * 60.0
        o = self._snap(origins, "origins")
        d = self._snap(destinations, "destinations")
        self._warn_far(o.snap_m, "origins")
        self._warn_far(d.snap_m, "destinations")
        i, j, minutes, met = self._od_arrays(o, d, np.full(len(o.street), limit_s), with_distance)
        out = pd.DataFrame({"i": i, "j": j, "minutes": minutes, "distance_m": met})
        out.attrs["method"] = self.method
        return out

    def _od_arrays(
        self, o: Snapped, d: Snapped, limit_s: FloatArray, with_distance: bool
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Pairs ``(i, j, minutes, metres)`` within each origin's ``limit_s`` (seconds), sorted by ``i`` then ``j``.

        The quicker of the trip through the network and along one street. Times only:
        one pass up to the longest limit (a shorter limit finds the same times within
        it); with path lengths, one pass per limit, so the trees are those of that limit.
        """
        groups = [np.arange(len(limit_s))]
        if with_distance and len(limit_s):
            levels, which = np.unique(limit_s, return_inverse=True)
            groups = [np.flatnonzero(which == g) for g in range(len(levels))]
        parts = []
        for rows in groups:
            sub = o if len(rows) == len(limit_s) else o.take(rows)
            for i, j, minutes, met in self._od_parts(sub, d, limit_s[rows], with_distance):
                parts.append((rows[i], j, minutes, met))
        i, j, minutes, met = _by_origin(parts)
        direct = self._same_street(o, d)
        if len(direct):
            v = self._access_mps
            di, dj = direct["i"].to_numpy(), direct["j"].to_numpy()
            sec = direct["seconds"].to_numpy() + (o.snap_m[di] + d.snap_m[dj]) / v
            dmet = direct["metres"].to_numpy() + o.snap_m[di] + d.snap_m[dj]
            ok = sec <= limit_s[di]
            dmet = dmet[ok] if with_distance else np.full(int(ok.sum()), np.nan)
            i, j, minutes, met = _with_direct(
                (i, j, minutes, met), (di[ok], dj[ok], sec[ok] / 60.0, dmet), len(d.street)
            )
        return i, j, minutes, met

    def _od_parts(
        self, o: Snapped, d: Snapped, limit_s: FloatArray, with_distance: bool
    ) -> Iterator[tuple[IntArray, IntArray, FloatArray, FloatArray]]:
        """Pairs within ``limit_s`` (per origin) through the network, chunk by chunk of destinations.

        Each chunk's pairs come sorted by origin, then destination.
        """
        n, k = self._g.n, len(d.street)
        if len(limit_s) == 0:
            return
        A, d_met, pruned = self._search_graph(d)
        leave_s, leave_m = o.leave()
        o_s = o.snap_m / self._access_mps
        ends = o.nodes
        uniq, inv = np.unique(ends, return_inverse=True)
        inv = inv.reshape(ends.shape)
        top = float(limit_s.max())
        for js in self._chunks(k, max(n + k, len(o.street))):
            pred = None
            if with_distance:
                dist, pred = dijkstra(A, directed=True, indices=n + js, limit=top, return_predecessors=True)
            else:
                dist = dijkstra(A, directed=True, indices=n + js, limit=top)
            if pruned is not None:  # the dead ends left out of the passes
                pruned.fill(dist, pred, limit=top)
            at = dist[:, uniq]
            cand = np.stack([at[:, inv[:, 0]] + leave_s[:, 0], at[:, inv[:, 1]] + leave_s[:, 1]])  # (2, chunk, m)
            c = np.argmin(cand, axis=0)
            sec = np.take_along_axis(cand, c[None], axis=0)[0] + o_s
            i, r = np.nonzero((sec <= limit_s).T)  # by origin, then destination
            if r.size == 0:
                continue
            if pred is not None:
                length = self._chunk_lengths(dist, pred, d, d_met)[:, uniq]
                cc = c[r, i]
                met = length[r, inv[i, cc]] + leave_m[i, cc] + o.snap_m[i]
            else:
                met = np.full(r.size, np.nan)
            yield i.astype(np.int64), js[r], sec[r, i] / 60.0, met

    def _chunk_lengths(
        self, dist: FloatArray, pred: npt.NDArray[np.int32], d: Snapped, d_met: FloatArray
    ) -> FloatArray:
        """Path lengths (m) for a chunk of limited trees, the destination's snap leg included."""
        n_cols = dist.shape[1]
        n = self._g.n
        flat = np.flatnonzero(np.isfinite(dist))
        rows, child = np.divmod(flat, n_cols)
        parent = pred.ravel()[flat].astype(np.int64)
        has_parent = parent >= 0
        value = np.zeros(flat.size)
        value[has_parent] = self._arc_length(parent[has_parent], child[has_parent], d, d_met)
        # parent as a position in `flat`
        parent_flat = np.where(has_parent, rows * n_cols + parent, -1)
        parent_idx = np.full(flat.size, -1, dtype=np.int64)
        parent_idx[has_parent] = np.searchsorted(flat, parent_flat[has_parent])
        total = _tree_sum(parent_idx, value)
        out = np.full(dist.shape, np.inf)
        out.ravel()[flat] = total
        return out[:, :n]

    def service_areas(
        self,
        points: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        buffer_m: float = 50.0,
        cell_m: float | None = None,
        fill_holes_m2: float = 100_000.0,
    ) -> gpd.GeoDataFrame:
        """Area from which each point is reached within ``max_minutes`` (for maps).

        See :func:`pointplan.network.service_areas.network_service_areas`.

        Parameters
        ----------
        points
            Service points.
        max_minutes
            Time budget.
        buffer_m
            Width of the band around reached streets counted as served.
        cell_m
            Raster cell size (default ``buffer_m / 2``, coarser for city-wide areas).
        fill_holes_m2
            Holes smaller than this (m²) are filled (city blocks ringed by reached
            streets); ``0`` keeps every hole.

        Returns
        -------
        geopandas.GeoDataFrame
            One (Multi)Polygon per point, index and CRS of ``points``.

        """
        from pointplan.network.service_areas import network_service_areas

        def areas() -> gpd.GeoDataFrame:
            return network_service_areas(
                self, points, max_minutes, buffer_m=buffer_m, cell_m=cell_m, fill_holes_m2=fill_holes_m2
            )

        pts = points_key(points)
        labels = frame_digest(pd.DataFrame(index=points.index)) if isinstance(points, pd.DataFrame) else None
        options = (float(max_minutes), float(buffer_m), cell_m, float(fill_holes_m2))
        key = None if pts is None or labels is None else digest("areas", self.fingerprint, pts, labels, *options)
        out: gpd.GeoDataFrame = cached("service_areas", key, areas)
        return out
