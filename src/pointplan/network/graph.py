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
from scipy import sparse
from scipy.spatial import cKDTree

from pointplan._errors import (
    NetworkError,
    PrecisionWarning,
)
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
    def _int_lookup(self) -> tuple[IntArray, IntArray] | None:
        """Sorted integer node ids and their positions (osmnx ids are integers)."""
        values = self.nodes.to_numpy()
        if not np.issubdtype(values.dtype, np.integer):
            return None
        order = np.argsort(values, kind="stable")
        return values[order].astype(np.int64), order.astype(np.int64)

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
