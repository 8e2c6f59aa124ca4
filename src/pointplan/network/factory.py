"""One engine factory: :func:`travel_engine`, with one meaning of ``None`` (the shipped default).

``travel_engine(source, mode)`` builds every engine pointplan ships:

================================  =====================================================
``source``                        engine
================================  =====================================================
``None`` or ``"default"``         :data:`pointplan.settings.default_network` (the inner
                                  city's drive network) for the trips it covers, the
                                  calibrated straight line beyond (:class:`HybridEngine`);
                                  the straight line everywhere if that setting is ``None``
``"none"``                        the calibrated straight line everywhere
                                  (:class:`CrowFliesEngine`)
a graph, a file, a polygon, ...   that network for its area, the straight line beyond
                                  (``fallback=False``: the bare :class:`NetworkEngine`)
================================  =====================================================

:func:`make_engine` and :func:`make_hybrid_engine` are the older names, kept as thin
wrappers (their ``None`` keeps its old meaning, documented on each).
"""

# ruff: noqa: N806 - `G` for a graph

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import networkx as nx
import shapely

from pointplan import settings
from pointplan.data import DATASETS, data_file
from pointplan.network._common import Mode, _check_mode
from pointplan.network.deferred import DeferredNetworkEngine, entry_fingerprint
from pointplan.network.engine import NetworkEngine
from pointplan.network.fallback import CrowFliesEngine
from pointplan.network.hybrid import DEFAULT_NETWORK, HybridEngine
from pointplan.network.loading import cached_entry, entry_name, load_network
from pointplan.network.speeds import add_travel_times

__all__ = ["NETWORK_KEYWORDS", "EngineSource", "make_engine", "make_hybrid_engine", "travel_engine"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: The words ``source`` (and ``--network``) accept besides a graph or a file.
NETWORK_KEYWORDS: tuple[str, ...] = ("default", "none")

#: What :func:`travel_engine` builds an engine from.
EngineSource: TypeAlias = nx.MultiDiGraph | str | Path | shapely.Polygon | None

_NETWORK_ONLY = frozenset({"access_speed_kmh", "max_snap_m", "speeds_kmh", "cache", "retain_all", "walk_correction"})
_CROW_ONLY = frozenset({"speed_kmh", "circuity", "calibration"})


def _keyword(source: object) -> Literal["default", "none"] | None:
    if isinstance(source, str) and source.strip().lower() in NETWORK_KEYWORDS:
        return "default" if source.strip().lower() == "default" else "none"
    return None


def _straight_line(mode: Mode, kw: dict[str, Any]) -> CrowFliesEngine:
    ignored = sorted(set(kw) & _NETWORK_ONLY)
    if ignored:
        logger.debug("travel_engine: no network, ignoring %s", ignored)
    return CrowFliesEngine(mode, **{k: v for k, v in kw.items() if k not in _NETWORK_ONLY})


def _network(source: EngineSource, mode: Mode, kw: dict[str, Any]) -> NetworkEngine:
    ignored = sorted(set(kw) & _CROW_ONLY)
    if ignored:
        logger.debug("travel_engine: network given, ignoring %s", ignored)
    kw = {k: v for k, v in kw.items() if k not in _CROW_ONLY}
    speeds = kw.pop("speeds_kmh", None)
    retain_all = bool(kw.pop("retain_all", False))
    cache = bool(kw.pop("cache", True))
    if isinstance(source, nx.DiGraph):
        G = source if speeds is None else add_travel_times(source.copy(), mode, speeds)
        return NetworkEngine(G, mode, cache=cache, **kw)

    def build() -> NetworkEngine:
        G = load_network(source, mode=mode, speeds_kmh=speeds, cache=cache, retain_all=retain_all)
        return NetworkEngine(G, mode, cache=cache, **kw)

    name = entry_name(source, mode, speeds_kmh=speeds, retain_all=retain_all) if cache else None
    if name is None:  # not a file (a place name, a polygon), or no cache: as it is
        return build()

    for_mode = _SameRoads(source, speeds, retain_all)
    if cached_entry(source, mode, speeds_kmh=speeds, retain_all=retain_all) is not None:  # read when first needed
        return DeferredNetworkEngine(build, mode, name, for_mode=for_mode, **kw)
    engine = build()  # converted (and stored) now: the file's errors show here
    engine.entry_fingerprint = entry_fingerprint(
        name, mode, kw.get("access_speed_kmh"), kw.get("max_snap_m", 500.0), kw.get("walk_correction")
    )
    engine.for_mode, engine.from_file = for_mode, True
    return engine


@dataclass(frozen=True)
class _SameRoads:
    """The engine of the same road file for another mode, as ``graph_for_mode`` builds it (default options).

    A plain object, not a closure: an engine sent to another process keeps it.
    """

    source: Any
    speeds: Any
    retain_all: bool

    def __call__(self, other: str) -> NetworkEngine:
        return _network(self.source, _check_mode(other), {"speeds_kmh": self.speeds, "retain_all": self.retain_all})


def _default_source() -> Path | None:
    default = settings.default_network
    if default is None:
        return None
    return data_file(default) if default in DATASETS else Path(default)


def _downloaded_roads(mode: Mode, kw: dict[str, Any]) -> NetworkEngine | None:
    """Return the engine on roads downloaded by ``pointplan roads`` (default network, some cached), else None."""
    if settings.default_network is None:
        return None
    from pointplan.network.roadcache import cached_roads_engine

    return cached_roads_engine(mode, **{k: kw[k] for k in ("access_speed_kmh", "max_snap_m") if k in kw})


def travel_engine(
    source: EngineSource = None,
    mode: Mode | None = None,
    *,
    fallback: bool = True,
    snap_m: float | None = None,
    **kw: Any,
) -> NetworkEngine | CrowFliesEngine | HybridEngine:
    """Return the travel-time engine for ``source``: the one factory of pointplan's engines.

    Parameters
    ----------
    source
        ``None`` or ``"default"``: the shipped default network
        (:data:`pointplan.settings.default_network`) where it covers a trip, the
        calibrated straight line beyond; ``"none"``: the straight line everywhere; a road
        graph or anything :func:`load_network` accepts (file, polygon, place name): that
        network, the straight line beyond.
    mode
        Travel mode (default :data:`pointplan.settings.default_mode`).
    fallback
        With a network, add the straight-line fallback beyond it (a
        :class:`HybridEngine`); ``False`` returns the bare :class:`NetworkEngine`.
    snap_m
        Distance (m) within which a point counts as on the network (hybrid engine).
    **kw
        Options of the engines: ``speeds_kmh``, ``cache``, ``retain_all`` (for
        :func:`load_network`), ``access_speed_kmh``, ``max_snap_m``, ``walk_correction``
        (:class:`NetworkEngine`), ``speed_kmh``, ``circuity``, ``calibration``
        (:class:`CrowFliesEngine`, used when there is no network). Options of an engine
        not built are ignored (logged at debug level); unknown names raise ``TypeError``.

    Returns
    -------
    NetworkEngine, CrowFliesEngine or HybridEngine
        ``engine.method`` says which; ``engine.mode`` is ``mode``.

    Examples
    --------
    >>> import networkx as nx
    >>> travel_engine("none", "walk").method
    'crow_flies_circuity'
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=500.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")
    >>> eng = travel_engine(G, "motorbike")
    >>> eng.method, eng.mode, travel_engine(G, "motorbike", fallback=False).method
    ('hybrid', 'motorbike', 'network')

    """
    use_mode = _check_mode(mode or settings.default_mode)
    word = _keyword(source)
    engine = None
    if source is None or word == "default":
        engine = _downloaded_roads(use_mode, kw)  # `pointplan roads --download` first, when done
        source = _default_source() if engine is None else None
        if engine is None and source is None:
            return _straight_line(use_mode, kw)
    elif word == "none":
        return _straight_line(use_mode, kw)
    crow = {k: kw[k] for k in _CROW_ONLY & set(kw)}
    engine = engine or _network(source, use_mode, kw)
    if not fallback:
        return engine
    return HybridEngine(engine, CrowFliesEngine(use_mode, **crow), snap_m=snap_m)


def make_engine(
    network: EngineSource = None,
    mode: str = "motorbike",
    **kw: Any,
) -> NetworkEngine | CrowFliesEngine:
    """Return a network engine, or the straight line when ``network`` is ``None`` (older name).

    A thin wrapper of :func:`travel_engine`: ``make_engine(None, mode)`` is
    ``travel_engine("none", mode)`` and ``make_engine(G, mode)`` is
    ``travel_engine(G, mode, fallback=False)``.

    Parameters
    ----------
    network
        ``None`` for the straight-line engine; a road graph; or anything
        :func:`load_network` accepts.
    mode
        Travel mode.
    **kw
        As for :func:`travel_engine`.

    Returns
    -------
    NetworkEngine or CrowFliesEngine

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=500.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")  # 30 km/h by motorbike
    >>> make_engine(G, "motorbike").method, make_engine(None, "walk").method
    ('network', 'crow_flies_circuity')

    """
    engine = travel_engine("none" if network is None else network, _check_mode(mode), fallback=False, **kw)
    assert not isinstance(engine, HybridEngine)
    return engine


def make_hybrid_engine(
    network: EngineSource = None,
    mode: str = "motorbike",
    *,
    snap_m: float | None = None,
    **kw: Any,
) -> HybridEngine:
    """Return the hybrid engine: a network and the calibrated fallback (older name).

    A thin wrapper of :func:`travel_engine`; here ``None`` means the inner city's drive
    network shipped in ``data/osm`` whatever :data:`pointplan.settings.default_network` says.

    Parameters
    ----------
    network
        A road graph or anything :func:`load_network` accepts; default the inner
        city's drive network shipped in ``data/osm``.
    mode
        Travel mode.
    snap_m
        Distance (m) within which a point counts as on the network.
    **kw
        As for :func:`travel_engine` (``speeds_kmh``, ``access_speed_kmh``, ...).

    Returns
    -------
    HybridEngine

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=1000.0, highway="residential")
    >>> make_hybrid_engine(G, "walk", snap_m=200)
    HybridEngine(mode='walk', snap_m=200, fallback=CrowFliesEngine(mode='walk', calibrated by distance band))

    """
    use_mode = _check_mode(mode)
    source = data_file(DEFAULT_NETWORK) if network is None else network
    engine = travel_engine(source, use_mode, snap_m=snap_m, **{k: v for k, v in kw.items() if k not in _CROW_ONLY})
    assert isinstance(engine, HybridEngine)
    return engine
