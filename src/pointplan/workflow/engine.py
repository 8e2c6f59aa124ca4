"""The travel-time engine of a run: the shipped roads with the calibrated fallback, a file, or none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pointplan import settings
from pointplan.workflow.config import is_network_keyword

if TYPE_CHECKING:
    from pointplan.network import TravelEngine

__all__ = ["travel_engine"]


def travel_engine(network: str | Path | Any | None = None, mode: str | None = None) -> TravelEngine:
    """Return the travel-time engine of a run: hybrid on a road network, or the fallback.

    Parameters
    ----------
    network
        ``None`` or ``"default"``: :data:`pointplan.settings.default_network` (the inner
        city's drive network shipped with pointplan) for the trips it covers, the calibrated
        straight-line fallback beyond it. ``"none"``: the fallback everywhere. A file or a
        graph: that network for its area, the fallback beyond.
    mode
        Travel mode (default ``settings.default_mode``).

    Returns
    -------
    TravelEngine
        A :class:`pointplan.network.HybridEngine`, or a
        :class:`pointplan.network.CrowFliesEngine` for the fallback.

    Examples
    --------
    >>> travel_engine("none", "walk").method
    'crow_flies_circuity'
    >>> travel_engine("default", "motorbike").method  # doctest: +SKIP
    'hybrid'
    """
    from pointplan.network import make_engine, make_hybrid_engine

    mode = mode or settings.default_mode
    if network is None or (is_network_keyword(network) and str(network).strip().lower() == "default"):
        if settings.default_network is None:
            return make_engine(None, mode=mode)
        from pointplan.data import DATASETS, data_file

        default = settings.default_network
        path = data_file(default) if default in DATASETS else Path(default)
        return make_hybrid_engine(path, mode=mode)
    if is_network_keyword(network):
        return make_engine(None, mode=mode)
    return make_hybrid_engine(network, mode=mode)
