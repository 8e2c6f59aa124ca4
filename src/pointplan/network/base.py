"""What every shipped engine shares: the public ``nearest``/``od_long`` and a read-only ``mode``.

:class:`EngineBase` writes the signatures, the checks and the docstrings of
:meth:`~EngineBase.nearest` and :meth:`~EngineBase.od_long` once; the engines
(:class:`~pointplan.network.NetworkEngine`, :class:`~pointplan.network.CrowFliesEngine`,
:class:`~pointplan.network.HybridEngine`) only compute, in ``_nearest`` and ``_od_long``.
"""

from __future__ import annotations

from typing import ClassVar

import geopandas as gpd
import pandas as pd

from pointplan.network._common import Mode, _check_minutes, _check_mode

__all__ = ["EngineBase"]


class EngineBase:
    """Base of the shipped travel-time engines (implements :class:`~pointplan.network.TravelEngine`).

    Parameters
    ----------
    mode
        Travel mode (:data:`~pointplan.network.MODES`); read back from :attr:`mode`, which
        cannot be changed afterwards (an engine built for another mode than the one asked
        for is detectable by ``engine.mode != mode``).

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> eng = CrowFliesEngine("walk")
    >>> isinstance(eng, EngineBase), eng.mode
    (True, 'walk')
    >>> eng.mode = "car"
    Traceback (most recent call last):
    ...
    AttributeError: property 'mode' of 'CrowFliesEngine' object has no setter

    """

    method: ClassVar[str] = ""

    def __init__(self, mode: Mode) -> None:
        self._mode: Mode = _check_mode(mode)

    @property
    def mode(self) -> Mode:
        """Travel mode the engine computes times for (read-only)."""
        return self._mode

    def nearest(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, *, with_distance: bool = True
    ) -> pd.DataFrame:
        """Nearest destination and travel time from every origin.

        Parameters
        ----------
        origins
            Demand locations (points, or polygons: their representative points).
        destinations
            Service points.
        with_distance
            Compute ``distance_m`` (on a network, NaN otherwise and about half the time;
            the straight-line fallback always computes it).

        Returns
        -------
        pandas.DataFrame
            Index of ``origins``; columns ``dest`` (index label of the nearest
            destination, missing if unreachable), ``minutes`` (origin -> destination;
            NaN if unreachable, never inf), ``distance_m``, ``method`` (per origin: the
            engine's method, or ``"network"``/``"fallback"`` for the hybrid engine) and,
            for the network and hybrid engines, ``reachable``. ``attrs["method"]`` is the
            engine's :attr:`method`.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from pointplan.network import CrowFliesEngine
        >>> o = gpd.GeoDataFrame(geometry=gpd.points_from_xy([585000.0], [2320000.0]), crs="EPSG:32648")
        >>> d = gpd.GeoDataFrame(geometry=gpd.points_from_xy([586000.0], [2320000.0]), index=["P"], crs="EPSG:32648")
        >>> CrowFliesEngine("walk", circuity=1.5).nearest(o, d)[["dest", "minutes", "distance_m"]]  # 1.5 km at 4.5 km/h
          dest  minutes  distance_m
        0    P     20.0      1500.0

        """
        out = self._nearest(origins, destinations, with_distance=bool(with_distance))
        out.attrs["method"] = self.method
        return out

    def od_long(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        with_distance: bool = True,
    ) -> pd.DataFrame:
        """Origin-destination travel times within a cut-off, in sparse long format.

        Parameters
        ----------
        origins
            Demand locations.
        destinations
            Service points.
        max_minutes
            Cut-off: only pairs with ``minutes <= max_minutes`` are returned.
        with_distance
            Compute ``distance_m`` on a network (NaN otherwise; about a third faster).

        Returns
        -------
        pandas.DataFrame
            Columns ``i`` (origin position), ``j`` (destination position), ``minutes``,
            ``distance_m`` (and ``method`` per pair for the hybrid engine); sorted by ``i``
            then ``j``. ``attrs["method"]`` is the engine's :attr:`method`.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from pointplan.network import CrowFliesEngine
        >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 900.0], [0.0, 0.0]), crs="EPSG:32648")
        >>> CrowFliesEngine("walk", circuity=1.5).od_long(pts, pts, 10)[["i", "j", "minutes"]]  # 18 min apart
           i  j  minutes
        0  0  0      0.0
        1  1  1      0.0

        """
        limit = _check_minutes(max_minutes)
        out = self._od_long(origins, destinations, limit, with_distance=bool(with_distance))
        out.attrs["method"] = self.method
        return out

    def _nearest(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, *, with_distance: bool
    ) -> pd.DataFrame:
        raise NotImplementedError

    def _od_long(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float, *, with_distance: bool
    ) -> pd.DataFrame:
        raise NotImplementedError
