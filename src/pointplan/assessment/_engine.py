"""The travel-time engine the assessment needs, as a typing Protocol.

:mod:`pointplan.network` provides the engines (``CrowFliesEngine`` and the road-network
engine); any object with these members works. When ``pointplan.network.TravelEngine``
exists, this Protocol is meant to be replaced by it (one definition).

Examples
--------
>>> from pointplan.assessment import TravelEngine
>>> from pointplan.network import CrowFliesEngine
>>> isinstance(CrowFliesEngine("walk"), TravelEngine)
True
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd

__all__ = ["TravelEngine"]


@runtime_checkable
class TravelEngine(Protocol):
    """What :func:`pointplan.assess` needs from a travel-time engine.

    Attributes
    ----------
    method
        How times are computed (``"network"``, ``"crow_flies_circuity"``...), reported
        in every table.

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> engine: TravelEngine = CrowFliesEngine("walk")
    >>> engine.method
    'crow_flies_circuity'
    """

    @property
    def method(self) -> str:
        """How times are computed, e.g. ``"network"`` or ``"crow_flies_circuity"``."""
        ...

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame) -> pd.DataFrame:
        """Nearest destination per origin: ``dest``, ``minutes``, ``distance_m``."""
        ...

    def od_long(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float) -> pd.DataFrame:
        """Origin–destination pairs within ``max_minutes``: ``i``, ``j``, ``minutes``."""
        ...

    def service_areas(self, points: gpd.GeoDataFrame, max_minutes: float) -> gpd.GeoDataFrame:
        """Area reachable within ``max_minutes`` of each point (polygons)."""
        ...
