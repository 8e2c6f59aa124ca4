"""A road graph as sparse arrays for scipy's Dijkstra, converted once and cached."""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import logging
import time
import warnings
import weakref
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from pointplan._errors import (
    NetworkError,
    PrecisionWarning,
)
from pointplan._results import digest
from pointplan._validate import projected_crs
from pointplan.network._common import (
    _MODE_KEY,
    _VERSION_KEY,
    TIME_ATTR,
    FloatArray,
    IntArray,
    Mode,
    _as_float,
    _check_coordinates_fit,
    _graph_crs,
)
from pointplan.network.snapping import StreetIndex
from pointplan.network.speeds import add_travel_times

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

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
    memo: dict[Any, object] = field(default_factory=dict, repr=False)  # derived arrays

    @property
    def n(self) -> int:
        return len(self.nodes)

    @cached_property
    def fingerprint(self) -> bytes:
        """Hash of what routing on this graph reads: node positions, arcs, times, lengths, geometries."""
        has = np.array([isinstance(g, shapely.LineString) for g in self.rev_geom], dtype=bool)
        coords, owner = shapely.get_coordinates(self.rev_geom[has], return_index=True)
        rev = self.rev
        return digest(
            "csr-graph",
            self.x,
            self.y,
            rev.indptr,
            rev.indices,
            rev.data,
            self.rev_len,
            has,
            coords,
            owner,
            self.crs.to_wkt(),
        )

    @cached_property
    def _int_lookup(self) -> tuple[IntArray, IntArray] | None:
        """Sorted integer node ids and their positions (osmnx ids are integers)."""
        values = self.nodes.to_numpy()
        if not np.issubdtype(values.dtype, np.integer):
            return None
        order = np.argsort(values, kind="stable")
        return values[order].astype(np.int64), order.astype(np.int64)

    @cached_property
    def forest(self) -> _Forest:
        """The trees hanging off the graph's 2-core (dead ends), worked out once."""
        return _Forest.build(self.rev)

    @cached_property
    def streets(self) -> StreetIndex:
        """The passable streets with a segment index, for snapping to the nearest edge."""
        t0 = time.perf_counter()
        index = StreetIndex.build(self)
        logger.debug("street index (%d streets) in %.3f s", len(index.a), time.perf_counter() - t0)
        return index

    def positions(self, ids: Sequence[Hashable]) -> IntArray:
        """Positions of node ids (-1 where absent); plain numpy for integer ids."""
        lookup = self._int_lookup
        arr = np.asarray(ids)
        if lookup is not None and arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
            keys, order = lookup
            loc = np.minimum(np.searchsorted(keys, arr), len(keys) - 1)
            return np.where(keys[loc] == arr, order[loc], -1)
        return self.nodes.get_indexer(list(ids)).astype(np.int64)


@dataclass(frozen=True)
class _Forest:
    """The trees hanging off a graph's 2-core: dead ends and the streets that lead only to them.

    A node of such a tree (ignoring directions) is reached from the rest of the graph
    only through its ``parent``, so a shortest-path pass that does not start inside its
    subtree gives it ``dist[parent] + w_in`` exactly (the same addition Dijkstra does),
    and its parent's source and predecessor. Those nodes are left out of the pass and
    filled in afterwards, round by round (:meth:`plan`, then :meth:`_FillPlan.fill`).

    Attributes
    ----------
    parent : numpy.ndarray
        Neighbour towards the core (-1 for core nodes and the roots of trees that hang
        from no core).
    tree : numpy.ndarray
        Whether each node is outside the 2-core.
    order : numpy.ndarray
        Tree nodes, a parent before its children.
    bounds : numpy.ndarray
        ``order[bounds[r]:bounds[r + 1]]`` is one round: none is another's parent.
    w_in : numpy.ndarray
        Weight of the search arc ``parent -> node`` (inf where there is none).

    Examples
    --------
    >>> from scipy import sparse
    >>> rows, cols = [0, 1, 1, 2, 2, 0, 3], [1, 0, 2, 1, 0, 2, 2]
    >>> A = sparse.csr_matrix(([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0], (rows, cols)), (5, 5))
    >>> f = _Forest.build(A)  # a triangle 0-1-2 with node 3 hanging off 2; node 4 alone
    >>> f.tree.tolist(), f.parent.tolist(), f.w_in.tolist()[3]
    ([False, False, False, True, True], [-1, -1, -1, 2, -1], inf)
    """

    parent: IntArray
    tree: npt.NDArray[np.bool_]
    order: IntArray
    bounds: IntArray
    w_in: FloatArray

    @classmethod
    def build(cls, rev: sparse.csr_matrix) -> _Forest:
        """Peel the leaves of the undirected graph of ``rev`` round by round."""
        n = rev.shape[0]
        und = (rev + rev.T).tocsr()
        und.setdiag(0)
        und.eliminate_zeros()
        und.data[:] = 1.0
        und.eliminate_zeros()
        row_of = np.repeat(np.arange(n), np.diff(und.indptr))
        nbr = und.indices.astype(np.int64)
        deg = np.diff(und.indptr).astype(np.int64)
        alive = np.ones(n, bool)
        parent = np.full(n, -1, np.int64)
        rounds: list[IntArray] = []
        leaf = deg == 1
        while leaf.any():
            arc = leaf[row_of] & alive[nbr]
            p = np.full(n, -1, np.int64)
            p[row_of[arc]] = nbr[arc]
            peel = leaf & ~(leaf[np.maximum(p, 0)] & (p >= 0) & (np.arange(n) > p))  # of two leaves, one stays
            v = np.flatnonzero(peel)
            alive[v], parent[v], deg[v] = False, p[v], 0
            np.subtract.at(deg, p[v], 1)
            rounds.append(v)
            leaf = alive & (deg == 1)
        tree = ~(alive & (deg >= 2))
        roots = np.flatnonzero(tree & alive)
        pieces = [roots, *rounds[::-1]]
        order = np.concatenate(pieces) if pieces else np.array([], np.int64)
        bounds = np.cumsum([0] + [len(x) for x in pieces])
        w_in = np.full(n, np.inf)
        child = np.flatnonzero(parent >= 0)
        w_in[child] = _arc_weights(rev, parent[child], child)
        return cls(parent, tree, order, bounds.astype(np.int64), w_in)

    def pruned(self, anchors: IntArray) -> npt.NDArray[np.bool_] | None:
        """Tree nodes whose subtree holds none of ``anchors`` (None: nothing to leave out)."""
        if not self.tree.any():
            return None
        keep = np.zeros(len(self.tree), bool)
        x = np.unique(anchors[self.tree[anchors]])
        while x.size:  # an anchor and the nodes between it and the core stay in the pass
            keep[x] = True
            x = self.parent[x]
            x = x[x >= 0]
            x = x[self.tree[x] & ~keep[x]]
        out = self.tree & ~keep
        return out if out.any() else None

    def plan(self, pruned: npt.NDArray[np.bool_]) -> _FillPlan:
        """Work out the rounds that fill the ``pruned`` nodes in (once per set of destinations)."""
        v = self.order[pruned[self.order]]
        p = self.parent[v]
        rounds = []
        cut = np.searchsorted(np.flatnonzero(pruned[self.order]), self.bounds)
        for r in range(len(self.bounds) - 1):
            a, b = cut[r], cut[r + 1]
            ok = p[a:b] >= 0
            if ok.any():
                vr = v[a:b][ok]
                rounds.append((vr, p[a:b][ok], self.w_in[vr]))
        return _FillPlan(pruned, v[p < 0], rounds)


@dataclass(frozen=True)
class _FillPlan:
    """How to fill in the nodes a pass left out: the nodes with no parent, then round by round.

    Attributes
    ----------
    mask : numpy.ndarray
        The nodes left out.
    orphans : numpy.ndarray
        Those with no parent: never reached.
    rounds : list of tuple
        Per round, the nodes, their parents and the weights of the arcs between, as
        arrays: every parent is reached by the pass or filled in an earlier round.
    """

    mask: npt.NDArray[np.bool_]
    orphans: IntArray
    rounds: list[tuple[IntArray, IntArray, FloatArray]]

    def fill(
        self,
        dist: FloatArray,
        pred: npt.NDArray[Any] | None = None,
        src: npt.NDArray[Any] | None = None,
        limit: float = np.inf,
    ) -> None:
        """Fill the left-out nodes' times (and predecessors, sources) from their parents, in place.

        ``dist`` holds one pass per row (or one pass); as scipy's Dijkstra, a node is
        reached when its time is within ``limit`` (inf, predecessor and source -9999
        otherwise). A node whose parent is unreached gets inf, the parent as predecessor
        and the parent's source.
        """
        v = self.orphans
        dist[..., v] = np.inf
        if pred is not None:
            pred[..., v] = -9999
        if src is not None:
            src[..., v] = -9999
        bounded = limit < np.inf
        for v, p, w in self.rounds:
            d = dist[..., p] + w
            if bounded:
                ok = d <= limit
                dist[..., v] = np.where(ok, d, np.inf)
                if pred is not None:
                    pred[..., v] = np.where(ok, p, -9999)
                if src is not None:
                    src[..., v] = np.where(ok, src[..., p], -9999)
                continue
            dist[..., v] = d
            if pred is not None:
                pred[..., v] = p
            if src is not None:
                src[..., v] = src[..., p]


def _arc_weights(rev: sparse.csr_matrix, rows: IntArray, cols: IntArray) -> FloatArray:
    """Weights of arcs ``rows -> cols`` of a CSR matrix with sorted indices (inf where absent)."""
    out = np.full(len(rows), np.inf)
    n = rev.shape[1]
    keys = np.repeat(np.arange(rev.shape[0], dtype=np.int64), np.diff(rev.indptr)) * n + rev.indices
    want = rows * n + cols
    loc = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
    ok = keys[loc] == want if len(keys) else np.zeros(len(rows), bool)
    out[ok] = rev.data[loc[ok]]
    return out


def _without_arcs_into(A: sparse.csr_matrix, pruned: npt.NDArray[np.bool_]) -> sparse.csr_matrix:
    """Return ``A`` without the arcs whose head is a ``pruned`` node (rows and columns kept)."""
    ext = np.zeros(A.shape[1], bool)
    ext[: len(pruned)] = pruned
    keep = ~ext[A.indices]
    cum = np.concatenate([[0], np.cumsum(keep)]).astype(A.indptr.dtype)
    out = sparse.csr_matrix((A.data[keep], A.indices[keep], cum[A.indptr]), shape=A.shape)
    out.has_sorted_indices = True
    return out


#: graph object -> {(mode, fingerprint): _CSRGraph}
_CSR_CACHE: weakref.WeakKeyDictionary[nx.Graph, dict[tuple[Any, ...], _CSRGraph]] = weakref.WeakKeyDictionary()


def clear_cache() -> None:
    """Forget every cached graph conversion (e.g. after editing edge attributes in place).

    Examples
    --------
    >>> from pointplan.network import NetworkEngine
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=500.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")  # 30 km/h by motorbike
    >>> first = NetworkEngine(G, "motorbike").conversion_seconds
    >>> NetworkEngine(G, "motorbike").conversion_seconds  # from the cache
    0.0
    >>> clear_cache()
    >>> NetworkEngine(G, "motorbike").conversion_seconds > 0
    True

    """
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
        untagged = not any("highway" in e[2] for e in edges)
        msg = "The road graph has no passable edge for this mode" + (
            ": no edge has a 'highway' tag, and a way without one (a building, a railway, "
            "landuse) is never a road. Tag the streets (e.g. highway='residential') or give "
            f"every edge a '{TIME_ATTR}' in seconds."
            if untagged
            else f"; check the highway types against pointplan.network.EXCLUDED_HIGHWAYS[{G.graph.get(_MODE_KEY)!r}]."
        )
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


def _engine_graph(G: nx.DiGraph, mode: Mode, cache: bool) -> tuple[_CSRGraph, bool]:
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


def _store_csr(G: nx.DiGraph, mode: Mode, csr: _CSRGraph | None) -> _CSRGraph:
    """Put the conversion of ``G`` (made now when ``csr`` is None) in the in-memory cache."""
    if csr is None:
        csr = _to_csr(G)
    _CSR_CACHE.setdefault(G, {})[(mode, _fingerprint(G))] = csr
    return csr
