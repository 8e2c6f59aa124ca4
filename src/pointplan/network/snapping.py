"""Snapping points to the nearest street (edge), not the nearest node.

A point is projected on the nearest street; the trip starts (or ends) at that
projection and pays the part of the street between it and the street's end nodes, in
the street's direction(s) of travel. The straight leg from the point to the projection
is the "snap" distance, the same one the far-from-network rule measures. Rural streets
are kilometres long, so snapping to a node would add or drop whole kilometres.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from pointplan.network._common import FloatArray, IntArray

if TYPE_CHECKING:
    from pointplan.network.graph import _CSRGraph

__all__ = ["Snapped", "StreetIndex"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


_AT_NODE_M = 1e-6


@dataclass(frozen=True)
class StreetIndex:
    """The passable streets of a converted graph, oriented ``a -> b``, with a segment index.

    Attributes
    ----------
    a, b : numpy.ndarray
        Node positions of each street's ends (``a < b``).
    t_ab, t_ba : numpy.ndarray
        Travel time (s) of the street in each direction (inf where that way is closed).
    len_ab, len_ba : numpy.ndarray
        Length (m) of the street in each direction (inf where closed).
    geom : numpy.ndarray
        LineString of each street from ``a`` to ``b``.

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> from pointplan.network import NetworkEngine
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")  # one-way, 120 s
    >>> streets = NetworkEngine(G, "motorbike")._g.streets
    >>> s = streets.snap(np.array([[250.0, 30.0]]))
    >>> s.frac.tolist(), s.snap_m.tolist(), [x.tolist() for x in s.leave()]  # to a: closed; to b: 90 s
    ([0.25], [30.0], [[[inf, 90.0]], [[inf, 750.0]]])

    """

    a: IntArray
    b: IntArray
    t_ab: FloatArray
    t_ba: FloatArray
    len_ab: FloatArray
    len_ba: FloatArray
    geom: np.ndarray
    geom_len: FloatArray
    seg_street: IntArray
    seg_xy0: FloatArray
    seg_xy1: FloatArray
    seg_along0: FloatArray
    tree: shapely.STRtree

    @classmethod
    def build(cls, g: _CSRGraph) -> StreetIndex:
        """Index the streets of a converted graph (one row per pair of connected nodes)."""
        heads = np.repeat(np.arange(g.n), np.diff(g.rev.indptr))  # original edge tail -> head
        tails = g.rev.indices.astype(np.int64)
        lo, hi = np.minimum(tails, heads), np.maximum(tails, heads)
        keys, street = np.unique(lo * g.n + hi, return_inverse=True)
        s = len(keys)
        a, b = keys // g.n, keys % g.n
        forward = tails == lo  # the arc runs a -> b
        t_ab, t_ba, len_ab, len_ba = (np.full(s, np.inf) for _ in range(4))
        t_ab[street[forward]], len_ab[street[forward]] = g.rev.data[forward], g.rev_len[forward]
        t_ba[street[~forward]], len_ba[street[~forward]] = g.rev.data[~forward], g.rev_len[~forward]
        geom = cls._geometries(g, street, forward, a, b)
        return cls._with_segments(a, b, t_ab, t_ba, len_ab, len_ba, geom)

    @staticmethod
    def _geometries(g: _CSRGraph, street: IntArray, forward: np.ndarray, a: IntArray, b: IntArray) -> np.ndarray:
        """Each street's LineString from a to b (edge geometry, else the straight line)."""
        geom = np.empty(len(a), dtype=object)
        arc_geom = g.rev_geom
        has = np.array([isinstance(x, shapely.LineString) for x in arc_geom], dtype=bool)
        back = has & ~forward
        geom[street[back]] = shapely.reverse(arc_geom[back].astype(object))
        fwd = has & forward
        geom[street[fwd]] = arc_geom[fwd]  # a -> b geometry wins over a reversed one
        missing = np.array([x is None for x in geom], dtype=bool)
        if missing.any():
            p = np.column_stack([g.x[a[missing]], g.y[a[missing]]])
            q = np.column_stack([g.x[b[missing]], g.y[b[missing]]])
            geom[missing] = shapely.linestrings(np.stack([p, q], axis=1))
        return geom

    @classmethod
    def _with_segments(
        cls,
        a: IntArray,
        b: IntArray,
        t_ab: FloatArray,
        t_ba: FloatArray,
        len_ab: FloatArray,
        len_ba: FloatArray,
        geom: np.ndarray,
    ) -> StreetIndex:
        xy, owner = shapely.get_coordinates(geom, return_index=True)
        same = owner[1:] == owner[:-1]
        seg_street = owner[:-1][same].astype(np.int64)
        xy0, xy1 = xy[:-1][same], xy[1:][same]
        seg_len = np.hypot(*(xy1 - xy0).T)
        cum = np.cumsum(seg_len) - seg_len
        first = np.zeros(len(seg_street), dtype=bool)
        first[0:1] = True
        first[1:] = seg_street[1:] != seg_street[:-1]
        start_of = np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))
        along0 = cum - cum[start_of]
        geom_len = np.zeros(len(a))
        np.add.at(geom_len, seg_street, seg_len)
        tree = shapely.STRtree(shapely.linestrings(np.stack([xy0, xy1], axis=1)))
        return cls(a, b, t_ab, t_ba, len_ab, len_ba, geom, geom_len, seg_street, xy0, xy1, along0, tree)

    def snap(self, xy: FloatArray) -> Snapped:
        """Project points (n, 2) on their nearest street.

        Parameters
        ----------
        xy
            Coordinates in the graph's CRS.

        Returns
        -------
        Snapped
            Street, position along it and distance of each point.

        """
        if len(xy) == 0:
            e = np.array([], np.int64)
            return Snapped(self, e, np.array([]), np.array([]), np.empty((0, 2)))
        _, seg = self.tree.query_nearest(shapely.points(xy), all_matches=False)
        p0, p1 = self.seg_xy0[seg], self.seg_xy1[seg]
        d = p1 - p0
        dd = (d * d).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(np.where(dd > 0, ((xy - p0) * d).sum(axis=1) / dd, 0.0), 0.0, 1.0)
        proj = p0 + t[:, None] * d
        street = self.seg_street[seg]
        along = self.seg_along0[seg] + t * np.sqrt(dd)
        total = self.geom_len[street]
        frac = np.clip(np.where(total > 0, along / np.where(total > 0, total, 1.0), 0.0), 0.0, 1.0)
        # a projection within a micrometre of an end is on that end node (rounding, not a position)
        frac = np.where(along <= _AT_NODE_M, 0.0, np.where(total - along <= _AT_NODE_M, 1.0, frac))
        return Snapped(self, street, frac, np.hypot(*(xy - proj).T), proj)


@dataclass(frozen=True)
class Snapped:
    """Points projected on streets.

    Attributes
    ----------
    streets : StreetIndex
        The index the points were snapped with.
    street : numpy.ndarray
        Street of each point.
    frac : numpy.ndarray
        Position of the projection along the street, 0 at ``a`` and 1 at ``b``.
    snap_m : numpy.ndarray
        Straight-line distance from the point to its projection.
    proj_xy : numpy.ndarray
        The projections (n, 2).

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> from pointplan.network import NetworkEngine
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")
    >>> s = NetworkEngine(G, "motorbike")._g.streets.snap(np.array([[400.0, -20.0]]))
    >>> isinstance(s, Snapped), s.frac.round(2).tolist(), s.snap_m.tolist(), s.proj_xy.tolist()
    (True, [0.4], [20.0], [[400.0, 0.0]])
    """

    streets: StreetIndex
    street: IntArray
    frac: FloatArray
    snap_m: FloatArray
    proj_xy: FloatArray

    def take(self, rows: IntArray) -> Snapped:
        """Return the points at positions ``rows``, in that order.

        Examples
        --------
        >>> import networkx as nx, numpy as np
        >>> from pointplan.network import NetworkEngine
        >>> G = nx.MultiDiGraph(crs="EPSG:32648")
        >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
        >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")
        >>> s = NetworkEngine(G, "motorbike")._g.streets.snap(np.array([[400.0, -20.0], [900.0, 5.0]]))
        >>> s.take(np.array([1])).snap_m.tolist()
        [5.0]
        """
        return Snapped(self.streets, self.street[rows], self.frac[rows], self.snap_m[rows], self.proj_xy[rows])

    @cached_property
    def nodes(self) -> IntArray:
        """(n, 2) end nodes of each point's street: ``a`` then ``b`` (worked out once, read-only)."""
        s = self.streets
        out = np.column_stack([s.a[self.street], s.b[self.street]])
        out.flags.writeable = False
        return out

    @property
    def nearest_node(self) -> IntArray:
        """The street end nearer along the street (the ``node`` of :meth:`NetworkEngine.snap`)."""
        nodes = self.nodes
        return np.where(self.frac <= 0.5, nodes[:, 0], nodes[:, 1])

    def leave(self) -> tuple[FloatArray, FloatArray]:
        """Seconds and metres from the projection to each end node, (n, 2): ``a`` then ``b``.

        From the projection to ``a`` goes ``b -> a`` over the fraction ``frac``; to ``b``
        goes ``a -> b`` over ``1 - frac``; inf where that direction is closed.
        """
        return self._leave

    @cached_property
    def _leave(self) -> tuple[FloatArray, FloatArray]:
        s, f = self.streets, self.frac
        i = self.street
        with np.errstate(invalid="ignore"):
            sec = np.column_stack([f * s.t_ba[i], (1 - f) * s.t_ab[i]])
            met = np.column_stack([f * s.len_ba[i], (1 - f) * s.len_ab[i]])
        sec, met = _inf_nan(sec), _inf_nan(met)
        sec.flags.writeable = met.flags.writeable = False
        return sec, met

    def reach(self) -> tuple[FloatArray, FloatArray]:
        """Seconds and metres from each end node to the projection, (n, 2): ``a`` then ``b``."""
        s, f = self.streets, self.frac
        i = self.street
        with np.errstate(invalid="ignore"):
            sec = np.column_stack([f * s.t_ab[i], (1 - f) * s.t_ba[i]])
            met = np.column_stack([f * s.len_ab[i], (1 - f) * s.len_ba[i]])
        return _inf_nan(sec), _inf_nan(met)


def _inf_nan(x: FloatArray) -> FloatArray:
    """0 x inf (NaN): the projection is on the end node itself, which costs nothing."""
    return np.where(np.isnan(x), 0.0, x)


def same_street_trips(o: Snapped, d: Snapped) -> pd.DataFrame:
    """Trips from origins to destinations on the same street, along it (no end node).

    Parameters
    ----------
    o, d
        Snapped origins and destinations (same :class:`StreetIndex`).

    Returns
    -------
    pandas.DataFrame
        Columns ``i``, ``j`` (positions), ``seconds`` and ``metres`` between the two
        projections, for pairs whose street allows the trip in its direction.

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> from pointplan.network import NetworkEngine
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")  # one-way, 120 s
    >>> streets = NetworkEngine(G, "motorbike")._g.streets
    >>> o, d = streets.snap(np.array([[200.0, 0.0], [900.0, 0.0]])), streets.snap(np.array([[500.0, 0.0]]))
    >>> same_street_trips(o, d)  # 200 -> 500 m with the one-way street; 900 -> 500 m against it: none
       i  j  seconds  metres
    0  0  0     36.0   300.0

    """
    order = np.argsort(d.street, kind="stable")  # destinations grouped by street
    lo = np.searchsorted(d.street[order], o.street, side="left")
    hi = np.searchsorted(d.street[order], o.street, side="right")
    count = hi - lo
    i = np.repeat(np.arange(len(o.street)), count)
    j = order[np.repeat(lo, count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)]
    s = o.street[i]
    fo, fd = o.frac[i], d.frac[j]
    st = o.streets
    ahead = fd >= fo  # travel a -> b
    span = np.abs(fd - fo)
    with np.errstate(invalid="ignore"):
        sec = np.where(ahead, span * st.t_ab[s], span * st.t_ba[s])
        met = np.where(ahead, span * st.len_ab[s], span * st.len_ba[s])
    ok = np.isfinite(sec) & np.isfinite(met)
    return pd.DataFrame({"i": i[ok], "j": j[ok], "seconds": sec[ok], "metres": met[ok]})
