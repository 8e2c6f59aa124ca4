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
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan._errors import InputError
from pointplan.network._common import FloatArray, IntArray, _labels
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
        self, network: NetworkEngine, fallback: CrowFliesEngine | None = None, *, snap_m: float | None = None
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
        self.crs = network.crs
        self.graph = network.graph  # so callers can build the same engine for another mode

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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            snap = self.network.snap(gdf)
        return snap["snap_m"] <= self.snap_m

    def _nearest(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, *, with_distance: bool
    ) -> pd.DataFrame:
        """Network where both ends are on it; the fallback for the rest, keeping the quicker answer."""
        o_on = self.on_network(origins).to_numpy()
        d_on = self.on_network(destinations).to_numpy()
        n = len(origins)
        best = _Best(n)
        o_pos, d_all = np.arange(n), np.arange(len(destinations))
        dests = destinations.set_axis(d_all)  # results name destinations by position
        if o_on.any() and d_on.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unreachable ones fall back below
                best.take(
                    self.network.nearest(origins[o_on], dests[d_on], with_distance=with_distance), o_pos[o_on], NETWORK
                )
        rows = o_pos[~o_on | ~np.isfinite(best.minutes)]  # off the network, or no way on it
        if len(rows):
            best.take(self.fallback.nearest(origins.iloc[rows], dests), rows, FALLBACK)
        # an origin on the network may be nearer, by the fallback, to a destination off it
        both = o_pos[o_on & (best.used == NETWORK)]
        if len(both) and (~d_on).any():
            best.take(self.fallback.nearest(origins.iloc[both], dests[~d_on]), both, FALLBACK)
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
        """Network pairs where both ends are on it, fallback pairs for the rest (``method`` per pair)."""
        o_on = self.on_network(origins).to_numpy()
        d_on = self.on_network(destinations).to_numpy()
        parts = []
        if o_on.any() and d_on.any():
            net = self.network.od_long(origins[o_on], destinations[d_on], max_minutes, with_distance=with_distance)
            net["i"] = np.flatnonzero(o_on)[net["i"].to_numpy()]
            net["j"] = np.flatnonzero(d_on)[net["j"].to_numpy()]
            parts.append(net.assign(method=NETWORK))
        crow = self.fallback.od_long(origins, destinations, max_minutes)
        crow = crow[~(o_on[crow["i"].to_numpy()] & d_on[crow["j"].to_numpy()])]
        parts.append(crow.assign(method=FALLBACK))
        out = pd.concat(parts, ignore_index=True).sort_values(["i", "j"], kind="stable").reset_index(drop=True)
        out.attrs["method"] = self.method
        return out

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

    def take(self, res: pd.DataFrame, rows: IntArray, label: str) -> None:
        """Keep, row by row, the quicker of the current answer and ``res`` (dest = positions)."""
        m = res["minutes"].to_numpy(float)
        ok = np.isfinite(m) & (m < self.minutes[rows])
        r = rows[ok]
        self.minutes[r] = m[ok]
        self.dist[r] = res["distance_m"].to_numpy(float)[ok]
        self.dest[r] = res["dest"].to_numpy()[ok].astype(np.int64)
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
