"""Road networks and travel times: the engine every accessibility analysis uses.

Accessibility is measured in travel time, not crow-flies distance. The package is laid
out by concern:

* :mod:`~pointplan.network.speeds` - travel modes, speeds by mode and OSM road type,
  travel times on edges (:func:`add_travel_times`);
* :mod:`~pointplan.network.loading` - road graphs from OSM XML, GraphML or an osmnx
  download (cached) (:func:`load_network`);
* :mod:`~pointplan.network.graph` - the graph as sparse arrays for scipy's compiled
  Dijkstra, converted once and cached;
* :mod:`~pointplan.network.engine` - the routing engine (:class:`NetworkEngine`):
  snapping, nearest point, origin-destination times;
* :mod:`~pointplan.network.factory` - :func:`travel_engine`, the one factory of engines
  (``None``: the shipped default network with the fallback beyond it; ``"none"``: the
  straight line); :func:`make_engine`, :func:`make_hybrid_engine` are older wrappers;
* :mod:`~pointplan.network.base` - :class:`EngineBase`: the engines' shared ``nearest``
  and ``od_long`` (one signature, one docstring) and read-only ``mode``;
* :mod:`~pointplan.network.service_areas` - the area reached within a time budget;
* :mod:`~pointplan.network.snapping` - points onto the nearest street (edge);
* :mod:`~pointplan.network.readers` and :mod:`~pointplan.network.cache` - network files
  (OSM XML/PBF, GraphML, compressed) and the on-disk cache of converted graphs;
* :mod:`~pointplan.network.fallback` - the straight-line fallback
  (:class:`CrowFliesEngine`); :mod:`~pointplan.network.fallback_model` - its model and
  the shipped calibration; :mod:`~pointplan.network.calibration` - fitting it on
  Hanoi's roads (:func:`fit_fallback`);
* :mod:`~pointplan.network.hybrid` - :class:`HybridEngine`: the network where it covers
  a trip, the calibrated fallback elsewhere, with the method recorded per origin;
* :mod:`~pointplan.network.protocol` - :class:`TravelEngine`, what the assessment needs
  from any engine;
* :mod:`~pointplan.network.download`, :mod:`~pointplan.network.osm_stream`,
  :mod:`~pointplan.network.roadcache` - the city's roads downloaded from OpenStreetMap in
  tiles, read straight into the engine's arrays and cached (``pointplan roads``).

Every result says which method produced it (column and ``DataFrame.attrs["method"]``):
``"network"`` or ``"crow_flies_circuity"``.

Direction
---------
Times are for a citizen travelling *from* a demand location (origin) *to* a service
point (destination). On a network with one-way streets this differs from the trip back;
the engine runs Dijkstra on the reversed graph so one pass from all the points gives
every origin's time *to* its nearest point.

Unreachable
-----------
Origins that cannot reach any destination (a disconnected part of the network, a
one-way trap) get ``inf`` minutes and distance and a missing ``dest`` in the engine's
low-level tables, and an :class:`~pointplan.UnreachableWarning` counts them.
"""

from __future__ import annotations

from pointplan.network._common import MODES, SPEED_ATTR, TIME_ATTR, Mode, _highway_key, points_key
from pointplan.network.base import EngineBase
from pointplan.network.calibration import (
    FALLBACK_METHOD_TEXT,
    FallbackCalibration,
    FallbackModel,
    calibration_summary,
    fallback_log_sigma,
    fit_fallback,
    fit_walk_correction,
    load_calibration,
)
from pointplan.network.deferred import DeferredNetworkEngine
from pointplan.network.engine import NetworkEngine, NodeTimes
from pointplan.network.factory import NETWORK_KEYWORDS, make_engine, make_hybrid_engine, travel_engine
from pointplan.network.fallback import DEFAULT_CIRCUITY, CrowFliesEngine, calibrate_circuity
from pointplan.network.graph import clear_cache
from pointplan.network.hybrid import HybridEngine, summarise_methods
from pointplan.network.loading import _request_key, graph_for_mode, load_network
from pointplan.network.protocol import TravelEngine
from pointplan.network.readers import NETWORK_SUFFIXES
from pointplan.network.speeds import (
    ACCESS_SPEEDS_KMH,
    DEFAULT_SPEEDS_KMH,
    EXCLUDED_HIGHWAYS,
    HIGHWAY_SPEEDS_KMH,
    add_travel_times,
)
from pointplan.network.walking import WalkCorrection, has_pedestrian_ways, is_drive_only

__all__ = [
    "ACCESS_SPEEDS_KMH",
    "DEFAULT_CIRCUITY",
    "DEFAULT_SPEEDS_KMH",
    "EXCLUDED_HIGHWAYS",
    "FALLBACK_METHOD_TEXT",
    "HIGHWAY_SPEEDS_KMH",
    "MODES",
    "NETWORK_KEYWORDS",
    "NETWORK_SUFFIXES",
    "SPEED_ATTR",
    "TIME_ATTR",
    "CrowFliesEngine",
    "DeferredNetworkEngine",
    "EngineBase",
    "FallbackCalibration",
    "FallbackModel",
    "HybridEngine",
    "Mode",
    "NetworkEngine",
    "NodeTimes",
    "TravelEngine",
    "WalkCorrection",
    "add_travel_times",
    "calibrate_circuity",
    "calibration_summary",
    "clear_cache",
    "fallback_log_sigma",
    "fit_fallback",
    "fit_walk_correction",
    "graph_for_mode",
    "has_pedestrian_ways",
    "is_drive_only",
    "load_calibration",
    "load_network",
    "make_engine",
    "make_hybrid_engine",
    "points_key",
    "summarise_methods",
    "travel_engine",
]
# private names kept importable for callers and tests that use them today
_PRIVATE = (_highway_key, _request_key)
