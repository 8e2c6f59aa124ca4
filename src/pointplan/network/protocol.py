"""What the assessment needs from a travel-time engine: the :class:`TravelEngine` protocol."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd

__all__ = ["TravelEngine"]


@runtime_checkable
class TravelEngine(Protocol):
    """A travel-time engine, as the assessment and the solvers use it.

    :class:`~pointplan.network.NetworkEngine`, :class:`~pointplan.network.CrowFliesEngine`
    and :class:`~pointplan.network.HybridEngine` implement it; so can any user object
    with these members (structural typing: no need to inherit).

    Attributes
    ----------
    method : str
        How times are computed: ``"network"``, ``"crow_flies_circuity"`` or
        ``"hybrid"``; also the ``method`` column and ``attrs["method"]`` of results.
    mode : str
        Travel mode (one of :data:`pointplan.network.MODES`).

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine, TravelEngine
    >>> isinstance(CrowFliesEngine("walk"), TravelEngine)
    True
    >>> isinstance(object(), TravelEngine)
    False

    """

    @property
    def method(self) -> str:
        """How times are computed (read-only: a class or an instance attribute satisfies it)."""
        ...

    @property
    def mode(self) -> str:
        """Travel mode."""
        ...

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame) -> pd.DataFrame:
        """Nearest destination of every origin: columns ``dest``, ``minutes``, ``distance_m``, ``method``."""
        ...

    def od_long(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        with_distance: bool = True,
    ) -> pd.DataFrame:
        """Pairs within ``max_minutes``: columns ``i``, ``j`` (positions), ``minutes``, ``distance_m``."""
        ...

    def service_areas(self, points: gpd.GeoDataFrame, max_minutes: float) -> gpd.GeoDataFrame:
        """Area reached from each point within ``max_minutes`` (index and CRS of ``points``)."""
        ...
