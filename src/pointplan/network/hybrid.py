"""Hybrid travel times: on the road network where it covers a trip, the calibrated fallback elsewhere.

A trip is routed on the network when both its origin and its destination lie within
``snap_m`` of a street; any other trip uses the straight-line fallback calibrated on
Hanoi's roads (:class:`~pointplan.network.CrowFliesEngine`). Every result says, per
origin (or per pair), which method produced it: ``"network"`` or ``"fallback"``, so the
assessment can report a ``travel_time_method`` per demand point and per unit
(:func:`summarise_methods`).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError
from pointplan._results import cached, digest
from pointplan.network._common import FloatArray, IntArray, _check_minutes, _labels, _points_xy, points_key
from pointplan.network.base import EngineBase
from pointplan.network.engine import NetworkEngine
from pointplan.network.fallback import CrowFliesEngine

__all__ = ["DEFAULT_NETWORK", "FALLBACK", "HYBRID", "NETWORK", "HybridEngine", "summarise_methods"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Per-origin / per-pair method labels, and the engine's own ``method``.
NETWORK, FALLBACK, HYBRID = "network", "fallback", "hybrid"

#: The inner city's drive network shipped in ``data/osm``.
DEFAULT_NETWORK = "osm/hanoi_inner_drive_2025.graphml.gz"


class HybridEngine(EngineBase):
    """Network times where the network covers a trip, the calibrated fallback elsewhere.

    Implements :class:`~pointplan.network.TravelEngine`.

    Parameters
    ----------
    network
        The :class:`NetworkEngine` for the area its network covers.
    fallback
        The engine for the rest (default: ``CrowFliesEngine(network.mode)``, calibrated
        on Hanoi's roads).
    snap_m
        A point is "on the network" when it lies within this distance of a street
        (default: the network engine's ``max_snap_m``).
    handover_from
        Share of ``snap_m`` from which an origin's time moves from the network's towards
        the fallback's (reaching it at ``snap_m``): no jump in time where the network
        hands over (:meth:`handover_weight`). ``1.0`` turns the blend off.

    Attributes
    ----------
    method : str
        ``"hybrid"``; the ``method`` column of results holds ``"network"`` or
        ``"fallback"`` per row.

    Notes
    -----
    An origin on the network that cannot reach any destination on it (a separate
    fragment, a one-way trap) falls back too, with method ``"fallback"``.

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")
    >>> _ = G.add_edge(2, 1, length=1000.0, highway="primary")
    >>> eng = HybridEngine(NetworkEngine(G, "motorbike"), CrowFliesEngine("motorbike", circuity=1.3), snap_m=100)
    >>> o = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 0.0], [0.0, 5000.0]), crs="EPSG:32648")
    >>> d = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1000.0], [0.0]), crs="EPSG:32648")
    >>> out = eng.nearest(o, d)
    >>> out["method"].tolist(), out["minutes"].round(2).tolist()  # 1 km at 30 km/h; 5.1 km x 1.3 at 25
    (['network', 'fallback'], [2.0, 15.91])

    """

    method: ClassVar[str] = HYBRID

    def __init__(
        self,
        network: NetworkEngine,
        fallback: CrowFliesEngine | None = None,
        *,
        snap_m: float | None = None,
        handover_from: float = 0.5,
    ) -> None:
        if not isinstance(network, NetworkEngine):
            msg = f"network must be a NetworkEngine, got {type(network).__name__}."
            raise InputError(msg)
        super().__init__(network.mode)
        self.network = network
        self.fallback = CrowFliesEngine(self.mode) if fallback is None else fallback
        if self.fallback.mode != self.mode:
            msg = f"The fallback is for {self.fallback.mode!r}, the network for {self.mode!r}: use one mode."
            raise InputError(msg)
        self.snap_m = float(network.max_snap_m if snap_m is None else snap_m)
        if not 0.0 <= float(handover_from) <= 1.0:
            msg = f"handover_from must be a share of snap_m between 0 and 1, got {handover_from!r}."
            raise InputError(msg)
        self.handover_from = float(handover_from)
        self.crs = network.crs

    @property
    def graph(self) -> Any:
        """The network engine's road graph, so callers can build the same engine for another mode."""
        return self.network.graph

    @property
    def fingerprint(self) -> bytes | None:
        """Hash of both engines and the hand-over (see :attr:`EngineBase.fingerprint`)."""
        net, fb = self.network.fingerprint, self.fallback.fingerprint
        if net is None or fb is None:
            return None
        return digest("hybrid", net, fb, self.snap_m, self.handover_from)

    @property
    def walk_network_kind(self) -> str | None:
        """How walking times are computed on the network part (None for other modes).

        ``"pedestrian"``, ``"drive_corrected"`` or ``"drive"``, as
        :attr:`NetworkEngine.walk_network_kind`; beyond the network the straight line.
        """
        return self.network.walk_network_kind

    def __repr__(self) -> str:
        return f"HybridEngine(mode={self.mode!r}, snap_m={self.snap_m:g}, fallback={self.fallback!r})"

    def on_network(self, gdf: gpd.GeoDataFrame) -> pd.Series:
        """Whether each point lies within ``snap_m`` of a street (index of ``gdf``).

        Parameters
        ----------
        gdf
            Locations with a CRS.

        Returns
        -------
        pandas.Series
            Booleans.

        """
        return pd.Series(self._snap_distance(gdf) <= self.snap_m, index=gdf.index, name="snap_m")

    def _snap_distance(self, gdf: gpd.GeoDataFrame) -> FloatArray:
        """Distance (m) from each point to the nearest street (snapped once per set of places).

        Kept on disk for big sets (:mod:`pointplan._results`): a run that asks about the same
        places again need not index the streets at all.
        """
        fp, pts = self.network.fingerprint, points_key(gdf)
        key = None if fp is None or pts is None else digest("snap_m", fp, pts)
        quick = 0.0 if len(gdf) > 1 else None  # sets of places: kept even when the streets are indexed
        out: FloatArray = cached("snap_m", key, lambda: self.network._snap(gdf, "points").snap_m, min_seconds=quick)
        return out

    def handover_weight(self, gdf: gpd.GeoDataFrame) -> pd.Series:
        """Weight of the fallback in each point's time: 0 near a street, 1 off the network.

        A point between ``handover_from * snap_m`` and ``snap_m`` from the nearest street
        gets a time that moves linearly from the network's to the fallback's, so the time
        does not jump where one method hands over to the other (at ``snap_m`` a network trip
        would pay a long straight leg to the street that the fallback, fitted on typical
        doors, does not).

        Parameters
        ----------
        gdf
            Locations with a CRS.

        Returns
        -------
        pandas.Series
            Weights in [0, 1], index of ``gdf``.

        Examples
        --------
        >>> import geopandas as gpd, networkx as nx
        >>> G = nx.MultiDiGraph(crs="EPSG:32648")
        >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
        >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")
        >>> eng = HybridEngine(NetworkEngine(G, "motorbike"), snap_m=400)
        >>> xy = gpd.points_from_xy([500.0] * 4, [100.0, 300.0, 400.0, 600.0])
        >>> o = gpd.GeoDataFrame(geometry=xy, crs="EPSG:32648")
        >>> eng.handover_weight(o).round(2).tolist()
        [0.0, 0.5, 1.0, 1.0]
        """
        return pd.Series(self._weight(self._snap_distance(gdf)), index=gdf.index)

    def _weight(self, snap: FloatArray) -> FloatArray:
        start = self.handover_from * self.snap_m
        if self.snap_m <= start:
            return np.where(snap <= self.snap_m, 0.0, 1.0)
        return np.clip((snap - start) / (self.snap_m - start), 0.0, 1.0)

    def _nearest(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, *, with_distance: bool
    ) -> pd.DataFrame:
        """Network where both ends are on it; the fallback for the rest, keeping the quicker answer."""
        o_snap = self._snap_distance(origins)
        o_on = o_snap <= self.snap_m
        d_on = self._snap_distance(destinations) <= self.snap_m
        n = len(origins)
        best = _Best(n)
        o_pos, d_all = np.arange(n), np.arange(len(destinations))
        if o_on.any() and d_on.any():
            dests = destinations.set_axis(d_all)  # results name destinations by position
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unreachable ones fall back below
                res = self.network.nearest(origins[o_on], dests[d_on], with_distance=with_distance)
            best.take(
                res["dest"].to_numpy(),
                res["minutes"].to_numpy(float),
                res["distance_m"].to_numpy(float),
                o_pos[o_on],
                NETWORK,
            )
        fb = self.fallback
        o_xy = _points_xy(origins, "origins", fb.crs)
        d_xy = _points_xy(destinations, "destinations", fb.crs)
        rows = o_pos[~o_on | ~np.isfinite(best.minutes)]  # off the network, or no way on it
        if len(rows):
            best.take(*fb._nearest_xy(o_xy[rows], d_xy), rows, FALLBACK)
        # an origin on the network may be nearer, by the fallback, to a destination off it
        both = o_pos[o_on & (best.used == NETWORK)]
        off = np.flatnonzero(~d_on)
        if len(both) and len(off):
            j, minutes, dist = fb._nearest_xy(o_xy[both], d_xy[off])
            best.take(off[j], minutes, dist, both, FALLBACK)
        w = self._weight(o_snap)
        mix = o_pos[(w > 0) & (best.used == NETWORK)]
        if len(mix):
            best.blend(*fb._nearest_xy(o_xy[mix], d_xy), mix, w[mix])
        return self._frame(origins, destinations, best)

    def _frame(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, best: _Best) -> pd.DataFrame:
        minutes, dist, dest, used = best.minutes, best.dist, best.dest, best.used
        bad = ~np.isfinite(minutes)
        out = pd.DataFrame(
            {
                "dest": _labels(destinations.index, np.where(bad, -1, dest)),
                "minutes": np.where(bad, np.nan, minutes),
                "distance_m": np.where(bad, np.nan, dist),
                "reachable": ~bad,
                "method": used,
            },
            index=origins.index,
        )
        out.attrs["method"] = self.method
        out.attrs["n_network"] = int((used == NETWORK).sum())
        out.attrs["n_fallback"] = int((used == FALLBACK).sum())
        out.attrs["n_unreachable"] = int(bad.sum())
        return out

    def _od_long(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float, *, with_distance: bool
    ) -> pd.DataFrame:
        """Network pairs where both ends are on it, fallback pairs for the rest (``method`` per pair).

        Origins in the handover band get the blend of both times (:meth:`handover_weight`);
        their network trips are searched up to twice the cut-off. ``distance_m`` is NaN
        unless ``with_distance``.
        """
        o_snap = self._snap_distance(origins)
        o_on = o_snap <= self.snap_m
        d_on = self._snap_distance(destinations) <= self.snap_m
        w = self._weight(o_snap)
        o_xy = _points_xy(origins, "origins", self.fallback.crs)
        d_xy = _points_xy(destinations, "destinations", self.fallback.crs)
        net = self._network_pairs(origins, destinations, (o_on, d_on, w), max_minutes, with_distance)
        if len(net[0]):
            net = self._blend_pairs(net, (o_xy, d_xy), w, max_minutes)
        crow = self.fallback._od_xy(o_xy, d_xy, max_minutes, with_distance=with_distance, skip=(o_on, d_on))
        i, j, minutes, dist = (np.concatenate([a, b]) for a, b in zip(net, crow, strict=True))
        method = np.repeat(np.array([NETWORK, FALLBACK], dtype=object), [len(net[0]), len(crow[0])])
        order = np.argsort(i * len(destinations) + j, kind="stable")  # a pair is listed once
        out = pd.DataFrame(
            {
                "i": i[order],
                "j": j[order],
                "minutes": minutes[order],
                "distance_m": dist[order],
                "method": method[order],
            }
        )
        out.attrs["method"] = self.method
        return out

    def _network_pairs(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        on: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], FloatArray],
        max_minutes: float,
        with_distance: bool,
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Pairs through the network from origins on it to destinations on it (twice the cut-off in the band)."""
        o_on, d_on, w = on
        rows, cols = np.flatnonzero(o_on), np.flatnonzero(d_on)
        if len(rows) == 0 or len(cols) == 0:
            e = np.array([], np.int64)
            return e, e.copy(), np.array([], float), np.array([], float)
        eng = self.network
        o = eng._snap(origins, "origins").take(rows)
        d = eng._snap(destinations, "destinations").take(cols)
        band = w[rows] > 0
        for sel in (~band, band):  # as two calls of the network engine would warn
            if sel.any():
                eng._warn_far(o.snap_m[sel], "origins")
                eng._warn_far(d.snap_m, "destinations")
        limit_s = np.where(band, _check_minutes(2 * max_minutes) * 60.0, _check_minutes(max_minutes) * 60.0)
        i, j, minutes, met = eng._od_arrays(o, d, limit_s, with_distance)
        return rows[i], cols[j], minutes, met

    def _blend_pairs(
        self,
        net: tuple[IntArray, IntArray, FloatArray, FloatArray],
        xy: tuple[FloatArray, FloatArray],
        w: FloatArray,
        limit: float,
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Network pairs with the handover applied (blended minutes), within ``limit``."""
        i, j, minutes, dist = net
        wi = w[i]
        mix = np.flatnonzero(wi > 0)
        if len(mix):
            minutes, dist = minutes.copy(), dist.copy()
            o, d = xy[0][i[mix]], xy[1][j[mix]]
            straight = np.hypot(*(o - d).T)
            rows = 2 if len(i) > 1 else 1  # the values they have among all the pairs
            wm = wi[mix]
            minutes[mix] = (1 - wm) * minutes[mix] + wm * self.fallback.model.minutes(straight, min_rows=rows)
            if np.isfinite(dist[mix]).any():
                dist[mix] = (1 - wm) * dist[mix] + wm * self.fallback.model.distance_m(straight, min_rows=rows)
        keep = minutes <= limit
        return i[keep], j[keep], minutes[keep], dist[keep]

    def service_areas(self, points: gpd.GeoDataFrame, max_minutes: float) -> gpd.GeoDataFrame:
        """Area reached from each point: along the network for points on it, a disc otherwise.

        Parameters
        ----------
        points
            Service points.
        max_minutes
            Time budget.

        Returns
        -------
        geopandas.GeoDataFrame
            Index and CRS of ``points``; columns ``max_minutes`` and ``method``.

        """
        on = self.on_network(points).to_numpy()
        parts = []
        if on.any():
            parts.append(self.network.service_areas(points[on], max_minutes).assign(method=NETWORK))
        if (~on).any():
            parts.append(self.fallback.service_areas(points[~on], max_minutes).assign(method=FALLBACK))
        out = gpd.GeoDataFrame(pd.concat(parts), crs=points.crs).loc[points.index]
        out.attrs["method"] = self.method
        return out


class _Best:
    """The quickest answer so far for each origin, and the method that gave it."""

    def __init__(self, n: int) -> None:
        self.minutes: FloatArray = np.full(n, np.inf)
        self.dist: FloatArray = np.full(n, np.nan)
        self.dest: IntArray = np.full(n, -1, np.int64)
        self.used = np.full(n, FALLBACK, dtype=object)

    def blend(self, dest: npt.ArrayLike, minutes: FloatArray, dist: FloatArray, rows: IntArray, w: FloatArray) -> None:
        """Move the answers of ``rows`` towards the fallback's by the weights ``w`` (the handover)."""
        ok = np.isfinite(minutes)
        r, w = rows[ok], w[ok]
        self.minutes[r] = (1 - w) * self.minutes[r] + w * minutes[ok]
        self.dist[r] = (1 - w) * self.dist[r] + w * dist[ok]
        self.dest[r] = np.where(w >= 0.5, np.asarray(dest)[ok].astype(np.int64), self.dest[r])

    def take(self, dest: npt.ArrayLike, minutes: FloatArray, dist: FloatArray, rows: IntArray, label: str) -> None:
        """Keep, row by row, the quicker of the current answer and the new one (dest = positions)."""
        ok = np.isfinite(minutes) & (minutes < self.minutes[rows])
        r = rows[ok]
        self.minutes[r] = minutes[ok]
        self.dist[r] = dist[ok]
        self.dest[r] = np.asarray(dest)[ok].astype(np.int64)
        self.used[r] = label


def summarise_methods(
    method: pd.Series, population: pd.Series, unit: pd.Series
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Travel-time method per unit and overall, from the method of each demand point.

    Parameters
    ----------
    method
        ``"network"`` or ``"fallback"`` per demand point (the ``method`` column of
        :meth:`HybridEngine.nearest`).
    population
        People per demand point (same index).
    unit
        Unit code per demand point (same index).

    Returns
    -------
    tuple
        A table indexed by unit with ``travel_time_method`` (``network``,
        ``fallback`` or ``mixed``) and ``network_population_share`` (0-1), and the
        summary entries: ``travel_time_method`` (``network``, ``fallback`` or
        ``hybrid`` when mixed) and ``network_population_share``.

    Examples
    --------
    >>> m = pd.Series(["network", "network", "fallback", "fallback"])
    >>> units, summary = summarise_methods(m, pd.Series([30, 10, 20, 40]), pd.Series(["A", "B", "B", "C"]))
    >>> units["travel_time_method"].tolist(), units["network_population_share"].round(2).tolist()
    (['network', 'mixed', 'fallback'], [1.0, 0.33, 0.0])
    >>> summary
    {'travel_time_method': 'hybrid', 'network_population_share': 0.4}

    """
    pop = pd.to_numeric(population, errors="coerce").fillna(0.0).clip(lower=0)
    on = (method == NETWORK).astype(float)
    frame = pd.DataFrame({"unit": unit, "pop": pop, "on": on * pop, "n": 1.0, "n_on": on})
    g = frame.groupby("unit", sort=True)[["pop", "on", "n", "n_on"]].sum()
    share = np.where(g["pop"] > 0, g["on"] / g["pop"].where(g["pop"] > 0, 1.0), g["n_on"] / g["n"])
    label = np.where(share >= 1.0, NETWORK, np.where(share <= 0.0, FALLBACK, "mixed"))
    units = pd.DataFrame({"travel_time_method": label, "network_population_share": share}, index=g.index)
    total = float(pop.sum())
    overall = float((on * pop).sum() / total) if total > 0 else float(on.mean()) if len(on) else 0.0
    kind = NETWORK if overall >= 1.0 else FALLBACK if overall <= 0.0 else HYBRID
    return units, {"travel_time_method": kind, "network_population_share": round(overall, 4)}
