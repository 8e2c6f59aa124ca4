"""The network routing engine: snapping, nearest point, origin-destination times."""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from pointplan import settings
from pointplan._errors import (
    InputError,
    PrecisionWarning,
)
from pointplan.network._common import (
    _NETWORK,
    FloatArray,
    IntArray,
    Mode,
    _check_graph,
    _check_minutes,
    _check_speed,
    _labels,
    _points_xy,
    _warn_unreachable,
)
from pointplan.network.base import EngineBase
from pointplan.network.graph import _engine_graph, _tree_sum
from pointplan.network.loading import graph_for_mode
from pointplan.network.snapping import Snapped, same_street_trips
from pointplan.network.speeds import ACCESS_SPEEDS_KMH

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


def _raw_points_key(gdf: object) -> bytes | None:
    """Memo key of a frame of finite points in its own CRS (None for anything else).

    Two frames with the same point coordinates in the same CRS snap alike, so a repeated
    question skips reprojection, validation and snapping. Frames with other geometries,
    missing or non-finite points go the long way (and are validated there).
    """
    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries):
        return None
    geom = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if geom.crs is None:
        return None
    values = geom.values
    if not (shapely.get_type_id(values) == 0).all():
        return None
    xy = shapely.get_coordinates(values)
    if len(xy) != len(values) or not np.isfinite(xy).all():
        return None
    h = hashlib.blake2b(np.ascontiguousarray(xy).tobytes(), digest_size=16)
    h.update(str(geom.crs.srs).encode())
    return b"raw:" + h.digest()


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
        cache: bool = True,
    ) -> None:
        _check_graph(G)
        super().__init__(mode)
        self.access_speed_kmh = _check_speed(
            ACCESS_SPEEDS_KMH[mode] if access_speed_kmh is None else access_speed_kmh,
            "access_speed_kmh",
        )
        if not (isinstance(max_snap_m, int | float) and max_snap_m >= 0):
            msg = f"max_snap_m must be a number >= 0, got {max_snap_m!r}."
            raise InputError(msg)
        self.max_snap_m = float(max_snap_m)
        G = graph_for_mode(G, self.mode)
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

    def _snap(self, gdf: object, what: str) -> Snapped:
        """Snap to the nearest street, keeping the last few answers.

        The assessment asks about the same demand points several times.
        """
        memo = self._g.memo.setdefault("snaps", {})
        assert isinstance(memo, dict)
        raw_key = _raw_points_key(gdf)  # finite points: keyed before reprojection and validation
        hit = memo.get(raw_key) if raw_key is not None else None
        if isinstance(hit, Snapped):
            return hit
        xy = _points_xy(gdf, what, self.crs)
        key = hashlib.blake2b(np.ascontiguousarray(xy).tobytes(), digest_size=16).digest()
        hit = memo.get(key)
        snapped = hit if isinstance(hit, Snapped) else self._g.streets.snap(xy)
        while len(memo) >= 16:
            memo.pop(next(iter(memo)))
        memo[key] = snapped
        if raw_key is not None:
            memo[raw_key] = snapped
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
        A, d_met = self._augmented(d)
        sources = np.arange(n, n + k)
        dist, pred, src = dijkstra(A, directed=True, indices=sources, min_only=True, return_predecessors=True)
        which = np.where(src[:n] >= 0, src[:n] - n, -1).astype(np.int64)
        if not lengths:
            return dist[:n], which, None
        parent = np.where(pred >= 0, pred, -1).astype(np.int64)
        value = self._arc_length(parent, np.arange(n + k), d, d_met)
        value[parent < 0] = 0.0
        total = _tree_sum(parent, value)[:n]
        total[~np.isfinite(dist[:n])] = np.inf
        return dist[:n], which, total

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
        direct = self._same_street(o, d)
        if len(direct):
            v = self._access_mps
            dsec = direct["seconds"].to_numpy() + d.snap_m[direct["j"].to_numpy()] / v
            dmet = direct["metres"].to_numpy() + d.snap_m[direct["j"].to_numpy()]
            i, j = direct["i"].to_numpy(), direct["j"].to_numpy()
            first = np.lexsort((dsec, i))
            first = first[np.r_[True, i[first][1:] != i[first][:-1]]]  # fastest per origin
            i, j, dsec, dmet = i[first], j[first], dsec[first], dmet[first]
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
                "method": self.method,
            },
            index=origins.index,
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
        parts = list(self._od_parts(o, d, limit_s, with_distance))
        direct = self._same_street(o, d)
        if len(direct):
            v = self._access_mps
            i, j = direct["i"].to_numpy(), direct["j"].to_numpy()
            sec = direct["seconds"].to_numpy() + (o.snap_m[i] + d.snap_m[j]) / v
            met = direct["metres"].to_numpy() + o.snap_m[i] + d.snap_m[j]
            ok = sec <= limit_s
            parts.append((i[ok], j[ok], sec[ok] / 60.0, met[ok] if with_distance else np.full(int(ok.sum()), np.nan)))
        return self._od_frame(parts, len(d.street))

    def _od_parts(
        self, o: Snapped, d: Snapped, limit_s: float, with_distance: bool
    ) -> Iterator[tuple[IntArray, IntArray, FloatArray, FloatArray]]:
        """Pairs within ``limit_s`` through the network, chunk by chunk of destinations."""
        n, k = self._g.n, len(d.street)
        A, d_met = self._augmented(d)
        leave_s, leave_m = o.leave()
        o_s = o.snap_m / self._access_mps
        ends = o.nodes
        uniq, inv = np.unique(ends, return_inverse=True)
        inv = inv.reshape(ends.shape)
        for js in self._chunks(k, max(n + k, len(o.street))):
            dist, pred = dijkstra(A, directed=True, indices=n + js, limit=limit_s, return_predecessors=True)
            at = dist[:, uniq]
            cand = np.stack([at[:, inv[:, 0]] + leave_s[:, 0], at[:, inv[:, 1]] + leave_s[:, 1]])  # (2, chunk, m)
            c = np.argmin(cand, axis=0)
            sec = np.take_along_axis(cand, c[None], axis=0)[0] + o_s
            r, i = np.nonzero(sec <= limit_s)
            if r.size == 0:
                continue
            if with_distance:
                length = self._chunk_lengths(dist, pred, d, d_met)[:, uniq]
                cc = c[r, i]
                met = length[r, inv[i, cc]] + leave_m[i, cc] + o.snap_m[i]
            else:
                met = np.full(r.size, np.nan)
            yield i.astype(np.int64), js[r], sec[r, i] / 60.0, met

    def _od_frame(self, parts: list[tuple[IntArray, IntArray, FloatArray, FloatArray]], k: int) -> pd.DataFrame:
        if parts:
            i_all = np.concatenate([p[0] for p in parts])
            j_all = np.concatenate([p[1] for p in parts])
            out = pd.DataFrame(
                {
                    "i": i_all,
                    "j": j_all,
                    "minutes": np.concatenate([p[2] for p in parts]),
                    "distance_m": np.concatenate([p[3] for p in parts]),
                }
            )
            # the shortest of a network and a same-street trip; by origin, then destination
            out = out.sort_values(["i", "j", "minutes"], kind="stable").drop_duplicates(["i", "j"])
            out = out.reset_index(drop=True)
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

        return network_service_areas(
            self, points, max_minutes, buffer_m=buffer_m, cell_m=cell_m, fill_holes_m2=fill_holes_m2
        )
