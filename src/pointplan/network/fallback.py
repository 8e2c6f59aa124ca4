"""The straight-line fallback (distance x circuity / speed) and its calibration."""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import ClassVar

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

from pointplan._errors import (
    InputError,
    NetworkError,
)
from pointplan._results import digest
from pointplan._validate import projected_crs
from pointplan.network._common import (
    _CROW,
    TIME_ATTR,
    FloatArray,
    IntArray,
    Mode,
    _as_float,
    _check_coordinates_fit,
    _check_graph,
    _check_minutes,
    _check_speed,
    _graph_crs,
    _labels,
    _points_xy,
)
from pointplan.network.base import EngineBase
from pointplan.network.fallback_model import DEFAULT_CIRCUITY, FallbackCalibration, FallbackModel, load_calibration
from pointplan.network.speeds import DEFAULT_SPEEDS_KMH

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


class CrowFliesEngine(EngineBase):
    """Fallback without a network: travel time from the straight-line distance.

    By default the time and the network distance come from the calibration fitted on
    Hanoi's inner-city roads (:func:`~pointplan.network.calibration.load_calibration`):
    circuity and effective speed by mode and distance band, with the held-out error
    stated in the calibration file. Give ``speed_kmh`` and/or ``circuity`` (or
    ``calibration=False``) for the plain model: straight line x circuity / speed.
    Distances are measured in :data:`pointplan.settings.projected_crs` with a k-d tree
    (vectorised; fast for tens of thousands of origins and thousands of points).

    Parameters
    ----------
    mode
        Travel mode (:data:`MODES`).
    speed_kmh
        Speed of the plain model (default :data:`DEFAULT_SPEEDS_KMH` for the mode).
    circuity
        Network / straight-line distance ratio of the plain model (default
        :data:`DEFAULT_CIRCUITY`); measure it on a network with :func:`calibrate_circuity`.
    calibration
        A :class:`~pointplan.network.calibration.FallbackCalibration` or the path of one
        (default: the one shipped with pointplan); ``False`` for the plain model.

    Attributes
    ----------
    method : str
        ``"crow_flies_circuity"``.
    model : FallbackModel
        The straight-line model in use.
    circuity, speed_kmh : float or None
        The plain model's figures (None when calibrated: they vary by distance band).
    nearest_factor : float
        Factor on the time to the nearest point in :meth:`nearest` (calibrated: the
        fitted ``nearest_factor``, see :func:`~pointplan.network.fit_fallback`; else 1):
        the quickest of several points is often not the nearest by straight line, so the
        time to the nearest point is shorter than the median time of one trip.
        :meth:`od_long` gives the time of each trip, without it.

    Examples
    --------
    >>> import geopandas as gpd
    >>> o = gpd.GeoDataFrame(geometry=gpd.points_from_xy([585000.0], [2320000.0]), crs="EPSG:32648")
    >>> d = gpd.GeoDataFrame(geometry=gpd.points_from_xy([588000.0], [2324000.0]), crs="EPSG:32648")
    >>> plain = CrowFliesEngine("motorbike", circuity=1.3)  # 5 km x 1.3 at 25 km/h
    >>> round(float(plain.nearest(o, d)["minutes"].iloc[0]), 2)
    15.6
    >>> calibrated = CrowFliesEngine("motorbike")  # fitted on Hanoi's inner-city roads
    >>> calibrated.circuity is None and 10 < float(calibrated.nearest(o, d)["minutes"].iloc[0]) < 40
    True

    """

    method: ClassVar[str] = _CROW

    def __init__(
        self,
        mode: Mode = "motorbike",
        *,
        speed_kmh: float | None = None,
        circuity: float | None = None,
        calibration: FallbackCalibration | str | Path | bool | None = None,
    ) -> None:
        super().__init__(mode)
        self.calibrated = speed_kmh is None and circuity is None and calibration is not False
        if self.calibrated:
            cal = calibration if isinstance(calibration, FallbackCalibration) else None
            if cal is None:
                cal = load_calibration(None if calibration in (None, True) else calibration)  # type: ignore[arg-type]
            if self.mode not in cal.models:
                msg = f"The fallback calibration has no model for {self.mode!r}: refit it with fit_fallback(...)."
                raise InputError(msg)
            self.model = cal.models[self.mode]
            self.nearest_factor = float(self.model.stats.get("nearest_factor", 1.0))
            self.circuity: float | None = None
            self.speed_kmh: float | None = None
            return
        v = _check_speed(DEFAULT_SPEEDS_KMH[mode] if speed_kmh is None else speed_kmh, "speed_kmh")
        c = _as_float(DEFAULT_CIRCUITY if circuity is None else circuity)
        if not (math.isfinite(c) and c >= 1.0):
            msg = f"circuity must be a number >= 1 (network / straight line), got {circuity!r}."
            raise InputError(msg)
        self.circuity, self.speed_kmh = c, v
        self.nearest_factor = 1.0
        self.model = FallbackModel(self.mode, np.array([0.0]), np.array([c]), np.array([v]))

    @property
    def fingerprint(self) -> bytes | None:
        """Hash of the model and the options (see :attr:`EngineBase.fingerprint`)."""
        m = self.model
        return digest(
            "crow",
            self.mode,
            self.calibrated,
            self.circuity,
            self.speed_kmh,
            self.nearest_factor,
            m.mode,
            m.knots_m,
            m.circuity,
            m.speed_kmh,
            str(self.crs),
        )

    @property
    def walk_network_kind(self) -> str | None:
        """``"straight_line"`` for walking (None for other modes).

        Examples
        --------
        >>> CrowFliesEngine("walk").walk_network_kind, CrowFliesEngine("car").walk_network_kind
        ('straight_line', None)
        """
        return "straight_line" if self.mode == "walk" else None

    @property
    def crs(self) -> pyproj.CRS:
        """CRS distances are measured in: :data:`pointplan.settings.projected_crs`."""
        return projected_crs()

    def __repr__(self) -> str:
        if self.calibrated:
            return f"CrowFliesEngine(mode={self.mode!r}, calibrated by distance band)"
        return f"CrowFliesEngine(mode={self.mode!r}, speed_kmh={self.speed_kmh}, circuity={self.circuity})"

    def _minutes(self, straight_m: FloatArray) -> FloatArray:
        return self.model.minutes(straight_m)

    def minutes_for(self, straight_m: npt.ArrayLike) -> FloatArray:
        """Travel minutes this engine gives for straight-line distances (m).

        Parameters
        ----------
        straight_m
            Straight-line distances in metres.

        Returns
        -------
        numpy.ndarray
            Minutes.

        Examples
        --------
        >>> CrowFliesEngine("walk", circuity=1.5).minutes_for([900.0]).tolist()  # 1,350 m at 4.5 km/h
        [18.0]

        """
        return self._minutes(np.atleast_1d(np.asarray(straight_m, float)))

    def _nearest(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, *, with_distance: bool
    ) -> pd.DataFrame:
        """Nearest destination by straight line, with its estimated time (``distance_m`` always computed)."""
        o = _points_xy(origins, "origins", self.crs)
        d = _points_xy(destinations, "destinations", self.crs)
        j, minutes, dist = self._nearest_xy(o, d)
        out = pd.DataFrame(
            {
                "dest": _labels(destinations.index, j),
                "minutes": minutes,
                "distance_m": dist,
                "method": self.method,
            },
            index=origins.index,
        )
        out.attrs["method"] = self.method
        return out

    def _nearest_xy(self, o: FloatArray, d: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest of ``d`` (position), minutes (x ``nearest_factor``) and metres from each of ``o`` (projected)."""
        straight, j = cKDTree(d).query(o)
        minutes, dist = self.model.minutes_and_distance(straight)
        return np.asarray(j, np.int64), minutes * self.nearest_factor, dist

    def _od_long(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float, *, with_distance: bool
    ) -> pd.DataFrame:
        """Pairs within ``max_minutes`` by straight line (a k-d tree within the longest reach).

        ``distance_m`` is NaN unless ``with_distance``.
        """
        limit = _check_minutes(max_minutes)
        o = _points_xy(origins, "origins", self.crs)
        d = _points_xy(destinations, "destinations", self.crs)
        i, j, minutes, dist = self._od_xy(o, d, limit, with_distance=with_distance)
        out = pd.DataFrame({"i": i, "j": j, "minutes": minutes, "distance_m": dist})
        out.attrs["method"] = self.method
        return out

    def _od_xy(
        self,
        o: FloatArray,
        d: FloatArray,
        limit: float,
        *,
        with_distance: bool,
        skip: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None = None,
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Pairs ``(i, j, minutes, metres)`` within ``limit`` minutes, sorted by ``i`` then ``j``.

        ``skip = (o_mask, d_mask)`` leaves out the pairs with both masks true (before their
        times are worked out); the others get the times they have among all pairs.
        """
        radius_m = self.model.max_straight_m(limit)
        pairs = cKDTree(o).sparse_distance_matrix(cKDTree(d), radius_m * (1 + 1e-12), output_type="ndarray")
        i = pairs["i"].astype(np.int64)
        j = pairs["j"].astype(np.int64)
        straight = pairs["v"].astype(float)
        rows = 2 if len(i) > 1 else 1  # the values of a longer array, whatever is skipped
        skipped = np.array([])
        if skip is not None:
            keep = ~(skip[0][i] & skip[1][j])
            skipped = straight[~keep]
            i, j, straight = i[keep], j[keep], straight[keep]
        minutes = self.model.minutes(straight, min_rows=rows)
        ok = minutes <= limit
        i, j, straight, minutes = i[ok], j[ok], straight[ok], minutes[ok]
        order = np.argsort(i * len(d) + j)  # keys are unique
        if not with_distance:
            return i[order], j[order], minutes[order], np.full(len(order), np.nan)
        dist_rows = 1  # one pair left: was its distance worked out among other pairs within the limit?
        if len(order) == 1 and len(skipped) and (self.model.minutes(skipped, min_rows=rows) <= limit).any():
            dist_rows = 2
        dist = self.model.distance_m(straight[order], min_rows=dist_rows)
        return i[order], j[order], minutes[order], dist

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
            One disc per point: the farthest straight line reached in time (+ ``buffer_m``), index
            and CRS of ``points``.

        """
        limit = _check_minutes(max_minutes)
        xy = _points_xy(points, "points", self.crs)
        radius_m = self.model.max_straight_m(limit) + float(buffer_m)
        discs = shapely.buffer(shapely.points(xy), radius_m, quad_segs=16)
        out = gpd.GeoDataFrame(
            {"max_minutes": limit, "method": self.method},
            geometry=gpd.GeoSeries(discs, crs=self.crs).values,
            index=points.index,
            crs=self.crs,
        ).to_crs(points.crs)
        out.attrs["method"] = self.method
        return out


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

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> for i in range(30):
    ...     G.add_node(i, x=100.0 * i, y=0.0)
    >>> for i in range(29):
    ...     _ = G.add_edge(i, i + 1, length=100.0, highway="residential")
    ...     _ = G.add_edge(i + 1, i, length=100.0, highway="residential")
    >>> round(calibrate_circuity(G, n_pairs=100), 6)  # a straight street
    1.0

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
    W = _length_matrix(G, nodes, x, y)
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


def _length_matrix(G: nx.MultiDiGraph, nodes: pd.Index, x: FloatArray, y: FloatArray) -> sparse.csr_matrix:
    """Edge lengths as a sparse matrix: the shortest of parallel edges, impassable ones left out."""
    n = len(nodes)
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
    return W
