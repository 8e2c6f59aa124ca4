"""Snapping on networks whose streets are straight segments (unsimplified OSM), at city scale.

:mod:`~pointplan.network.osm_stream` keeps every OSM node, so each street (a pair of
connected nodes) is one straight segment. The general
:class:`~pointplan.network.snapping.StreetIndex` builds a shapely LineString per street and
an STRtree over them; for two million nodes that alone takes longer than the whole
nearest-point question should. :class:`StraightStreetIndex` answers the same question
with numpy and a k-d tree of points along the segments, exactly: it finds the nearest
segment (the same distance as the STRtree's answer) and projects on it the same way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from pointplan.network._common import FloatArray, IntArray
from pointplan.network.graph import _CSRGraph
from pointplan.network.snapping import _AT_NODE_M, Snapped, StreetIndex

__all__ = ["ArrayGraph", "StraightStreetIndex", "street_arrays"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Pieces of a segment indexed by their midpoint are at most this long (m).
PIECE_M = 100.0
#: Candidate pieces looked at per point before the exactness check.
K = 6


@dataclass(frozen=True)
class StraightStreetIndex(StreetIndex):
    """A :class:`~pointplan.network.snapping.StreetIndex` for straight streets, without shapely.

    Each street is its own segment (``seg_street[i] == i``); ``geom`` holds None (the
    street is the line from ``a`` to ``b``); ``tree`` is a k-d tree of the midpoints of
    pieces at most :data:`PIECE_M` long.

    Examples
    --------
    >>> import numpy as np
    >>> from pointplan.network.osm_stream import read_overpass_json, build_mode
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.0, "lon": 105.81},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "primary"}}]}])
    >>> g = build_mode(w, "motorbike")
    >>> mid = np.array([[(g.x[0] + g.x[1]) / 2, (g.y[0] + g.y[1]) / 2 + 30.0]])
    >>> s = g.streets.snap(mid)
    >>> type(g.streets).__name__, s.frac.round(3).tolist(), s.snap_m.round(1).tolist()
    ('StraightStreetIndex', [0.5], [30.0])

    """

    piece_street: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    half_piece_m: float = 0.0

    @classmethod
    def build(cls, g: _CSRGraph) -> StraightStreetIndex:
        """Index the streets of converted arrays whose arcs have no geometry."""
        pre = getattr(g, "street_arrays", None) or street_arrays(g)
        a, b, t_ab, t_ba, len_ab, len_ba = (pre[k] for k in _STREET_KEYS)
        s = len(a)
        p = np.column_stack([g.x[a], g.y[a]])
        q = np.column_stack([g.x[b], g.y[b]])
        seg_len = np.hypot(*(q - p).T)
        n_pieces = np.maximum(1, np.ceil(seg_len / PIECE_M)).astype(np.int64)
        piece_street = np.repeat(np.arange(s), n_pieces)
        first = np.cumsum(n_pieces) - n_pieces
        k = np.arange(len(piece_street)) - np.repeat(first, n_pieces)
        f = (k + 0.5) / n_pieces[piece_street]
        mid = p[piece_street] + f[:, None] * (q - p)[piece_street]
        half = float((seg_len / n_pieces).max() / 2) if s else 0.0
        return cls(
            a, b, t_ab, t_ba, len_ab, len_ba, np.full(s, None, dtype=object), seg_len, np.arange(s), p, q,
            np.zeros(s), _kdtree(mid), piece_street=piece_street, half_piece_m=half,
        )  # fmt: skip

    def _distances(self, xy: FloatArray, street: IntArray) -> tuple[FloatArray, FloatArray]:
        """Distance from points to streets and the projection's position ``t`` along each."""
        p0, p1 = self.seg_xy0[street], self.seg_xy1[street]
        d = p1 - p0
        dd = (d * d).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(np.where(dd > 0, ((xy - p0) * d).sum(axis=-1) / dd, 0.0), 0.0, 1.0)
        proj = p0 + t[..., None] * d
        return np.hypot(*np.moveaxis(xy - proj, -1, 0)), t

    def _candidates(self, xy: FloatArray, k: int) -> tuple[IntArray, FloatArray, npt.NDArray[np.bool_]]:
        """Nearest street among the ``k`` nearest pieces, its distance, and whether that is sure."""
        tree: Any = self.tree
        k = min(k, tree.n)
        d_mid, idx = tree.query(xy, k=k, workers=-1)
        d_mid, idx = d_mid.reshape(len(xy), k), idx.reshape(len(xy), k)
        cand = self.piece_street[idx]
        dist, _ = self._distances(xy[:, None, :], cand)
        j = np.argmin(dist, axis=1)
        rows = np.arange(len(xy))
        best = dist[rows, j]
        # a piece not looked at has its midpoint beyond the k-th: its street is farther than
        # best unless that midpoint lies within best + half a piece
        sure = (d_mid[:, -1] > best + self.half_piece_m) | (k >= tree.n)
        return cand[rows, j], best, sure

    def _nearest(self, xy: FloatArray) -> IntArray:
        """Nearest street of each point (exact: candidates checked against the piece bound)."""
        street, best, sure = self._candidates(xy, K)
        unsure = np.flatnonzero(~sure)
        if unsure.size:  # more candidates for the few in doubt, then a radius search
            street[unsure], best[unsure], sure2 = self._candidates(xy[unsure], 8 * K)
            unsure = unsure[~sure2]
        tree: Any = self.tree
        for r in unsure.tolist():
            pieces = tree.query_ball_point(xy[r], best[r] + self.half_piece_m + 1e-9)
            streets = np.unique(self.piece_street[np.asarray(pieces, dtype=np.int64)])
            dr, _ = self._distances(np.broadcast_to(xy[r], (len(streets), 2)), streets)
            street[r] = streets[int(np.argmin(dr))]
        return street

    def snap(self, xy: FloatArray) -> Snapped:
        """Project points (n, 2) on their nearest street (see :meth:`StreetIndex.snap`)."""
        if len(xy) == 0:
            e = np.array([], np.int64)
            return Snapped(self, e, np.array([]), np.array([]), np.empty((0, 2)))
        xy = np.asarray(xy, dtype=float)
        street = self._nearest(xy)
        snap_m, t = self._distances(xy, street)
        p0, p1 = self.seg_xy0[street], self.seg_xy1[street]
        proj = p0 + t[:, None] * (p1 - p0)
        total = self.geom_len[street]
        along = t * total
        frac = np.where(total > 0, t, 0.0)
        frac = np.where(along <= _AT_NODE_M, 0.0, np.where(total - along <= _AT_NODE_M, 1.0, frac))
        return Snapped(self, street, frac, snap_m, proj)


_STREET_KEYS = ("a", "b", "t_ab", "t_ba", "len_ab", "len_ba")


def street_arrays(g: _CSRGraph) -> dict[str, np.ndarray]:
    """Return the streets of converted arrays: one row per pair of connected nodes.

    Parameters
    ----------
    g
        Converted arrays.

    Returns
    -------
    dict
        ``a``, ``b`` (node positions, ``a < b``), ``t_ab``, ``t_ba`` (seconds, inf where
        closed), ``len_ab``, ``len_ba`` (metres): what :class:`StraightStreetIndex` needs,
        stored with the arrays so a load does not work them out again.

    Examples
    --------
    >>> from pointplan.network.osm_stream import read_overpass_json, build_mode
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.0, "lon": 105.81},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "primary", "oneway": "yes"}}]}])
    >>> st = street_arrays(build_mode(w, "motorbike"))
    >>> st["a"].tolist(), st["b"].tolist(), st["t_ba"].tolist()  # one-way a -> b: closed b -> a
    ([0], [1], [inf])

    """
    heads = np.repeat(np.arange(g.n), np.diff(g.rev.indptr))  # original edge tail -> head
    tails = g.rev.indices.astype(np.int64)
    lo, hi = np.minimum(tails, heads), np.maximum(tails, heads)
    keys, street = _unique_inverse(lo * g.n + hi)
    s = len(keys)
    forward = tails == lo  # the arc runs a -> b
    t_ab, t_ba, len_ab, len_ba = (np.full(s, np.inf) for _ in range(4))
    t_ab[street[forward]], len_ab[street[forward]] = g.rev.data[forward], g.rev_len[forward]
    t_ba[street[~forward]], len_ba[street[~forward]] = g.rev.data[~forward], g.rev_len[~forward]
    return {"a": keys // g.n, "b": keys % g.n, "t_ab": t_ab, "t_ba": t_ba, "len_ab": len_ab, "len_ba": len_ba}


def _kdtree(xy: FloatArray) -> cKDTree:
    """Build a k-d tree fast (unbalanced: about three times faster to build, as fast to query here)."""
    return cKDTree(xy, balanced_tree=False, compact_nodes=False)


def _unique_inverse(key: IntArray) -> tuple[IntArray, IntArray]:
    """Sorted unique keys and each key's position among them (by one argsort)."""
    order = np.argsort(key, kind="stable")
    k = key[order]
    new = np.ones(len(k), dtype=bool)
    new[1:] = k[1:] != k[:-1]
    inverse = np.empty(len(k), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return k[new], inverse


@dataclass
class ArrayGraph(_CSRGraph):
    """Converted arrays whose streets are straight segments: snapping with :class:`StraightStreetIndex`.

    Examples
    --------
    >>> from pointplan.network.osm_stream import read_overpass_json, build_mode
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.0, "lon": 105.81},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "footway"}}]}])
    >>> g = build_mode(w, "walk")
    >>> type(g).__name__, g.tree.n, type(g.streets).__name__  # the node tree is built when asked for
    ('ArrayGraph', 2, 'StraightStreetIndex')
    """

    #: :func:`street_arrays`, when read from the cache with the arrays.
    street_arrays: dict[str, np.ndarray] | None = None

    @property  # type: ignore[misc]  # a lazy field of the base dataclass
    def tree(self) -> cKDTree:
        """k-d tree of the nodes with an edge (built on first use: the engine does not need it)."""
        got = self.__dict__.get("_tree")
        if got is None:
            got = _kdtree(np.column_stack([self.x[self.snap_nodes], self.y[self.snap_nodes]]))
            self.__dict__["_tree"] = got
        return got

    @tree.setter
    def tree(self, value: cKDTree | None) -> None:
        self.__dict__["_tree"] = value

    @cached_property
    def streets(self) -> StreetIndex:
        """The streets with a k-d tree of pieces, for snapping to the nearest street."""
        t0 = time.perf_counter()
        index = StraightStreetIndex.build(self)
        logger.debug("straight street index (%d streets) in %.3f s", len(index.a), time.perf_counter() - t0)
        return index
