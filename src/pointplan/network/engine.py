"""The network routing engine: snapping, nearest point, origin-destination times."""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
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
    _check_graph,
    _check_minutes,
    _check_mode,
    _check_speed,
    _labels,
    _points_xy,
    _warn_unreachable,
)
from pointplan.network.fallback import CrowFliesEngine
from pointplan.network.graph import _engine_graph, _tree_sum
from pointplan.network.loading import load_network
from pointplan.network.speeds import ACCESS_SPEEDS_KMH, add_travel_times

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

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
            Raster cell size (default ``buffer_m / 2``).

        Returns
        -------
        geopandas.GeoDataFrame
            One (Multi)Polygon per point, index and CRS of ``points``.

        """
        from pointplan.network.service_areas import network_service_areas

        return network_service_areas(self, points, max_minutes, buffer_m=buffer_m, cell_m=cell_m)


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
