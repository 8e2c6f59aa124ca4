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

from pointplan import settings
from pointplan._results import cached, digest
from pointplan.network._common import Mode, _check_minutes, _check_mode, points_key

__all__ = ["EngineBase"]


#: Answers for at least this many origin-destination pairs are kept on disk however quickly
#: they came (the first such question of a run also pays for indexing the streets).
KEEP_PAIRS = 100_000


def _quick(origins: object, destinations: object) -> float | None:
    """Seconds under which an answer is not kept: 0 for big questions, else the default (None)."""
    try:
        pairs = len(origins) * len(destinations)  # type: ignore[arg-type]
    except TypeError:
        return None
    return 0.0 if pairs >= KEEP_PAIRS else None


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

    @property
    def fingerprint(self) -> bytes | None:
        """Hash of everything the engine's answers depend on (``None``: not known, never stored).

        Two engines with the same fingerprint give the same times for the same places, so
        :meth:`od_long` keeps its answers on disk under it (:mod:`pointplan._results`).

        Examples
        --------
        >>> from pointplan.network import CrowFliesEngine
        >>> a, b = CrowFliesEngine("walk", circuity=1.5), CrowFliesEngine("walk", circuity=1.5)
        >>> a.fingerprint == b.fingerprint, a.fingerprint == CrowFliesEngine("walk", circuity=1.4).fingerprint
        (True, False)
        """
        return None

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
        dist = bool(with_distance)
        key = self._answer_key("_nearest", origins, destinations, 0.0, dist)
        quick = _quick(origins, destinations)
        out = cached(
            "nearest", key, lambda: self._nearest(origins, destinations, with_distance=dist), min_seconds=quick
        )
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
        dist = bool(with_distance)
        key = self._answer_key("_od_long", origins, destinations, limit, dist)
        quick = _quick(origins, destinations)
        out = cached(
            "od_long", key, lambda: self._od_long(origins, destinations, limit, with_distance=dist), min_seconds=quick
        )
        out.attrs["method"] = self.method
        return out

    def _answer_key(self, how: str, origins: object, destinations: object, limit: float, dist: bool) -> bytes | None:
        """Key of an answer of ``how`` (``_nearest``, ``_od_long``) kept on disk (None: not kept).

        The engine's fingerprint, both sets of points and the options; an engine whose
        ``how`` was replaced on the instance computes afresh.
        """
        if not settings.result_cache:
            return None
        fp = self.fingerprint
        if fp is None or how in vars(self):
            return None
        o, d = points_key(origins), points_key(destinations)
        if o is None or d is None:
            return None
        return digest(type(self).__name__, how, fp, o, d, float(limit), dist)

    def _nearest(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, *, with_distance: bool
    ) -> pd.DataFrame:
        raise NotImplementedError

    def _od_long(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float, *, with_distance: bool
    ) -> pd.DataFrame:
        raise NotImplementedError
