"""Loading road graphs: OSM XML/PBF, GraphML (plain or gzipped), osmnx downloads and caches."""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import hashlib
import json
import logging
import warnings
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import shapely

from pointplan import settings
from pointplan._errors import (
    DataNotFoundError,
    InputError,
    NetworkError,
    OfflineError,
    PointplanError,
    PrecisionWarning,
)
from pointplan._validate import projected_crs
from pointplan.network._common import (
    Mode,
    _check_coordinates_fit,
    _check_graph,
    _check_mode,
    _graph_crs,
    _highway_key,
    _truthy,
)
from pointplan.network.readers import file_kind, read_raw
from pointplan.network.speeds import _NON_ROUTABLE, _speed_rule, add_travel_times

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

# ---------------------------------------------------------------------------------------
# Loading networks
# ---------------------------------------------------------------------------------------


def _routable(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Keep ways with a routable ``highway`` tag (drop buildings, landuse, areas...).

    Like osmnx's download filter, areas and private ways are dropped too.
    """
    drop = []
    for u, v, k, d in G.edges(keys=True, data=True):
        hw = _highway_key(d.get("highway"))
        private = "private" in _highway_key(d.get("access")) + _highway_key(d.get("service"))
        if not hw or any(t in _NON_ROUTABLE for t in hw) or _truthy(d.get("area")) or private:
            drop.append((u, v, k))
    G.remove_edges_from(drop)
    G.remove_nodes_from(list(nx.isolates(G)))
    if G.number_of_edges() == 0:
        msg = "The OSM data holds no routable ways (no 'highway' tags)."
        raise NetworkError(msg)
    return G


def _simplify(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    import osmnx as ox

    if G.graph.get("simplified"):
        return G
    # keep nodes where the highway type changes so a mode filter never cuts a merged edge
    return ox.simplify_graph(G, edge_attrs_differ=["highway"])


def _for_mode(
    G: nx.MultiDiGraph,
    mode: Mode,
    speeds_kmh: float | Mapping[str, float] | None,
    retain_all: bool,
    recompute: bool = False,
) -> nx.MultiDiGraph:
    """Mode subgraph: drop impassable edges, small components; project; travel times."""
    import osmnx as ox

    rule = _speed_rule(mode, speeds_kmh)
    drop = [
        (u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if rule.speed(_highway_key(d.get("highway"))) <= 0
    ]
    G.remove_edges_from(drop)
    G.remove_nodes_from(list(nx.isolates(G)))
    if G.number_of_edges() == 0:
        msg = f"The network has no edges usable by mode {mode!r}."
        raise NetworkError(msg)
    if not retain_all:
        G = ox.truncate.largest_component(G, strongly=False)
    target = projected_crs()
    crs = _graph_crs(G)
    if not target.equals(crs):
        _check_coordinates_fit(G, crs)
        G = ox.project_graph(G, to_crs=target)
    return add_travel_times(G, mode, speeds_kmh, recompute=recompute)


def _request_key(kind: str, query: str) -> str:
    payload = json.dumps({"kind": kind, "query": query, "network_type": "all", "pipeline": 1}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


@contextmanager
def _osmnx_cache(folder: Path, use_cache: bool) -> Iterator[None]:
    """Point osmnx's HTTP cache at pointplan's cache folder for the duration of a call."""
    import osmnx as ox

    old = (ox.settings.cache_folder, ox.settings.use_cache)
    ox.settings.cache_folder = folder
    ox.settings.use_cache = use_cache
    try:
        yield
    finally:
        ox.settings.cache_folder, ox.settings.use_cache = old


def _download(source: object, *, cache: bool) -> nx.MultiDiGraph:
    """Unsimplified-then-simplified 'all' network for a place/polygon, cached as GraphML."""
    import osmnx as ox

    if isinstance(source, shapely.Polygon | shapely.MultiPolygon):
        kind, query = "polygon", shapely.to_wkt(source, rounding_precision=7)
        what = "the polygon"
    else:
        kind, query = "place", str(source).strip()
        what = f"place {query!r}"
    cache_root = Path(settings.cache_dir) / "osmnx"
    graph_path = cache_root / "graphs" / f"{kind}_{_request_key(kind, query)}.graphml"
    if cache and graph_path.is_file():
        logger.info("loading cached network for %s from %s", what, graph_path)
        try:
            return ox.load_graphml(graph_path)
        except Exception as exc:
            if not settings.allow_downloads:
                msg = (
                    f"The cached road network for {what}, {graph_path.name} ({graph_path}), is "
                    f"unreadable ({type(exc).__name__}: {exc}). Delete that file, then download the "
                    "network again (pointplan.settings.allow_downloads = True) or pass an OSM XML "
                    "or GraphML file instead."
                )
                raise NetworkError(msg) from exc
            logger.warning("cached network %s is unreadable (%s): downloading it again", graph_path, exc)
    if not settings.allow_downloads:
        msg = (
            f"Downloading the road network for {what} needs internet access, which "
            "pointplan does not use unless asked. Set pointplan.settings.allow_downloads = "
            "True to download it with osmnx (it is then cached under "
            f"{cache_root}), or pass an OSM XML (.osm) or GraphML (.graphml) file to "
            "load_network instead."
        )
        raise OfflineError(msg)
    import requests

    logger.info("downloading the road network for %s with osmnx", what)
    with _osmnx_cache(cache_root / "http", cache):
        try:
            if kind == "polygon":
                raw = ox.graph_from_polygon(source, network_type="all", simplify=False, retain_all=True)
            else:
                raw = ox.graph_from_place(query, network_type="all", simplify=False, retain_all=True)
        except requests.exceptions.RequestException as exc:
            msg = f"Could not download the road network for {what}: {exc}"
            raise OfflineError(msg) from exc
        except Exception as exc:
            msg = f"osmnx could not build the road network for {what}: {exc}"
            raise NetworkError(msg) from exc
    G = _simplify(_routable(raw))
    if cache:
        graph_path.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(G, graph_path)
        logger.info("cached the network for %s at %s", what, graph_path)
    return G


def _read_network_file(path: Path) -> nx.MultiDiGraph:
    """Read any network file into its simplified streets; a NetworkError naming the file if unusable."""
    try:
        stat = path.stat()
        return _file_streets(path.resolve(), stat.st_mtime_ns, stat.st_size).copy()
    except NetworkError as exc:
        msg = f"{path.name}: {exc}"
        raise NetworkError(msg) from exc
    except PointplanError:
        raise
    except Exception as exc:
        msg = (
            f"Could not read the road network file {path.name} ({path}): "
            f"{type(exc).__name__}: {exc}. Check that it is a complete OSM XML (.osm, .osm.gz, "
            ".osm.bz2), OSM PBF (.osm.pbf) or GraphML (.graphml, .graphml.gz) file, e.g. export it again."
        )
        raise NetworkError(msg) from exc


@lru_cache(maxsize=2)
def _file_streets(path: Path, mtime_ns: int, size: int) -> nx.MultiDiGraph:
    """Return the streets of a network file, simplified (cached: parsing is the slow part).

    Every input path goes through :func:`_routable`, simplified GraphML included: a way
    without a ``highway`` tag (a building, a railway) never becomes a road.
    """
    return _simplify(_routable(read_raw(path)))


def _streets_of_graph(source: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return the streets of a graph passed in (a copy): the same filter as for files."""
    G = source.copy()
    if not any("highway" in d for _, _, d in G.edges(data=True)):
        msg = (
            "No edge of the graph has a 'highway' tag, so none can be a road (a way without one "
            "is a building, a railway or landuse). Tag the streets (e.g. highway='residential'), "
            "or give every edge a 'travel_time_s' in seconds and pass the graph to "
            "NetworkEngine(G, mode) directly."
        )
        raise NetworkError(msg)
    return _simplify(_routable(G))


#: mode graph -> (source, options) to build the same network for another mode
_SOURCES: weakref.WeakKeyDictionary[nx.Graph, tuple[Any, dict[str, Any]]] = weakref.WeakKeyDictionary()
#: The graphs :func:`graph_for_mode` built from a graph's source, by mode (kept while the graph lives).
_FOR_MODE: weakref.WeakKeyDictionary[nx.Graph, dict[str, nx.MultiDiGraph]] = weakref.WeakKeyDictionary()
#: Graph attribute naming the mode a graph was filtered for by :func:`load_network`.
FILTERED_KEY = "pointplan_filtered_for"


def _streets(source: object, cache: bool) -> nx.MultiDiGraph:
    """Simplified streets of any source :func:`load_network` accepts."""
    if isinstance(source, nx.MultiDiGraph):
        return _streets_of_graph(source)
    if isinstance(source, shapely.Polygon | shapely.MultiPolygon):
        return _download(source, cache=cache)
    if isinstance(source, str | Path) and (file_kind(source) is not None or Path(source).is_file()):
        path = Path(source).expanduser()
        if not path.is_file():
            msg = f"Network file {path} does not exist. Check the path."
            raise DataNotFoundError(msg)
        return _read_network_file(path)
    if isinstance(source, str):
        return _download(source, cache=cache)
    msg = (
        f"Cannot load a network from {type(source).__name__}: pass a file path (.osm, .osm.gz, "
        ".osm.bz2, .osm.pbf, .graphml, .graphml.gz), a shapely Polygon in EPSG:4326, a place name "
        "or a networkx graph."
    )
    raise InputError(msg)


def load_network(
    source: str | Path | shapely.Polygon | shapely.MultiPolygon | nx.MultiDiGraph,
    *,
    mode: Mode = "motorbike",
    speeds_kmh: float | Mapping[str, float] | None = None,
    cache: bool = True,
    retain_all: bool = False,
    recompute: bool = False,
) -> nx.MultiDiGraph:
    """Load a road graph for a travel mode, projected and with travel times.

    Each mode gets its own graph, built from all the streets of the source: walking keeps
    footways, paths and steps in both directions and drops motorways; motorbikes drop
    footways and expressways. A way without a ``highway`` tag (a building, a railway,
    landuse) is never a road, whatever the input.

    Parameters
    ----------
    source
        An OSM XML file (``.osm``, ``.osm.gz``, ``.osm.bz2``), an OSM PBF file
        (``.osm.pbf``, read with pyosmium), a GraphML file (``.graphml``,
        ``.graphml.gz``), a networkx graph (copied), a shapely (Multi)Polygon in
        EPSG:4326 or a place name (``"Hoàn Kiếm, Hà Nội"``). Polygons and places are
        downloaded with osmnx only if :data:`pointplan.settings.allow_downloads` is
        True, and cached under ``settings.cache_dir / "osmnx"``.
    mode
        Travel mode (:data:`MODES`): edges the mode may not use are dropped.
    speeds_kmh
        Speed override, see :func:`add_travel_times`.
    cache
        Read and write the on-disk caches: downloaded graphs, and for files the graph
        converted for ``mode`` (keyed by a hash of the file's bytes, under
        ``settings.cache_dir / "networks"``), so the second load of a file is fast.
    retain_all
        Keep every connected part of the network; by default (as in osmnx) only the
        largest weakly connected part is kept.
    recompute
        Ignore osmnx's own ``speed_kph`` / ``travel_time``, see :func:`add_travel_times`.

    Returns
    -------
    networkx.MultiDiGraph
        Graph in :data:`pointplan.settings.projected_crs` with edge ``speed_kmh`` and
        ``travel_time_s`` for ``mode``.

    Raises
    ------
    OfflineError
        A download is needed and not allowed (or there is no connection).
    DataNotFoundError
        The file does not exist.
    NetworkError
        The source holds no usable network for the mode.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=585000.0, y=2320000.0); G.add_node(2, x=585300.0, y=2320000.0)
    >>> G.add_node(3, x=585300.0, y=2320400.0)
    >>> _ = G.add_edge(1, 2, length=300.0, highway="residential")
    >>> _ = G.add_edge(2, 3, length=400.0, railway="rail")  # no highway: never a road
    >>> H = load_network(G, mode="walk")
    >>> sorted(H.edges()), H[1][2][0]["travel_time_s"]
    ([(1, 2), (2, 1)], 240.0)

    """
    _check_mode(mode)
    options = {"speeds_kmh": speeds_kmh, "retain_all": retain_all, "recompute": recompute}
    path = Path(source).expanduser() if isinstance(source, str | Path) else None
    if cache and path is not None and path.is_file():
        G = _disk_cached(path, mode, options)
    else:
        G = _build(source, mode, cache, options)
    _SOURCES[G] = (source, {"cache": cache, **options})
    _log_loaded(G, mode)
    return G


def _log_loaded(G: nx.MultiDiGraph, mode: Mode) -> None:
    if logger.isEnabledFor(logging.INFO):  # counting edges walks the whole graph
        logger.info(
            "network for %s: %d nodes, %d edges (%s)",
            mode, G.number_of_nodes(), G.number_of_edges(), settings.projected_crs,
        )  # fmt: skip


def _build(source: object, mode: Mode, cache: bool, options: dict[str, Any]) -> nx.MultiDiGraph:
    G = _streets(source, cache)
    _check_graph(G)
    G = _for_mode(G, mode, options["speeds_kmh"], options["retain_all"], options["recompute"])
    G.graph[FILTERED_KEY] = mode
    return G


def cached_entry(source: object, mode: Mode, *, speeds_kmh: Any = None, retain_all: bool = False) -> str | None:
    """Name of the disk-cache entry holding ``source``'s graph for ``mode``, if it is stored (else None).

    The name hashes the file's bytes, the mode and the options: the same name, the same graph.

    Examples
    --------
    >>> cached_entry("no-such-file.graphml", "walk") is None
    True
    """
    name = entry_name(source, mode, speeds_kmh=speeds_kmh, retain_all=retain_all)
    folder = Path(settings.network_cache_dir or Path(settings.cache_dir) / "networks")
    return name if name is not None and (folder / f"{name}.pickle").is_file() else None


def entry_name(source: object, mode: Mode, *, speeds_kmh: Any = None, retain_all: bool = False) -> str | None:
    """Name of the disk-cache entry of a road file's graph for ``mode`` (None: ``source`` is not a file).

    Examples
    --------
    >>> entry_name("no-such-file.graphml", "walk") is None
    True
    """
    path = Path(source).expanduser() if isinstance(source, str | Path) else None
    if path is None or not path.is_file():
        return None
    return _file_key(path, mode, {"speeds_kmh": speeds_kmh, "retain_all": retain_all, "recompute": False})


def _disk_cached(path: Path, mode: Mode, options: dict[str, Any]) -> nx.MultiDiGraph:
    """Load the mode graph of a file from the disk cache, or build and store it."""
    from pointplan.network.cache import read_entry, write_entry
    from pointplan.network.graph import _store_csr

    folder = Path(settings.network_cache_dir or Path(settings.cache_dir) / "networks")
    entry = folder / f"{_file_key(path, mode, options)}.pickle"
    if entry.is_file():
        try:
            G, csr = read_entry(entry)
            _store_csr(G, mode, csr)
            logger.info("loaded the %s network of %s from the cache (%s)", mode, path.name, entry.name)
            return G
        except Exception as exc:  # a stale or broken cache entry is rebuilt
            logger.warning("cache entry %s is unreadable (%s): rebuilding it", entry, exc)
    G = _build(path, mode, True, options)
    csr = _store_csr(G, mode, None)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_entry(entry, G, csr)
    except OSError as exc:
        logger.warning("could not write the network cache %s: %s", entry, exc)
    return G


def _file_key(path: Path, mode: Mode, options: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    payload = json.dumps(
        {
            "file": digest.hexdigest(),
            "mode": mode,
            "options": repr(sorted(options.items())),
            "crs": projected_crs().to_string(),
            "pipeline": _PIPELINE,
        },
        sort_keys=True,
    )
    return f"{mode}_{hashlib.sha256(payload.encode()).hexdigest()[:24]}"


#: Bump when the loading pipeline changes what a cached graph holds.
_PIPELINE = 2


def graph_for_mode(G: nx.MultiDiGraph, mode: Mode) -> nx.MultiDiGraph:
    """Return the network of ``G`` built for ``mode`` (``G`` itself when it already is).

    A graph from :func:`load_network` was filtered for one mode (a motorbike graph has
    no footways). For another mode, the same source is loaded again for that mode, so
    walking uses the ways pedestrians may use. A graph that was not loaded by
    :func:`load_network` is returned as it is.

    Parameters
    ----------
    G
        Road graph.
    mode
        Travel mode (:data:`MODES`).

    Returns
    -------
    networkx.MultiDiGraph
        The graph for ``mode``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=585000.0, y=2320000.0); G.add_node(2, x=585300.0, y=2320000.0)
    >>> _ = G.add_edge(1, 2, length=300.0, highway="footway")
    >>> _ = G.add_edge(2, 1, length=300.0, highway="residential")
    >>> moto = load_network(G, mode="motorbike")
    >>> sorted(moto.edges()), sorted(graph_for_mode(moto, "walk").edges())
    ([(2, 1)], [(1, 2), (2, 1)])

    """
    _check_mode(mode)
    filtered = G.graph.get(FILTERED_KEY)
    if filtered is None or filtered == mode:
        return G
    known = _SOURCES.get(G)
    if known is None:
        warnings.warn(
            f"This graph was filtered for {filtered!r} and is used for {mode!r}: ways only "
            f"{mode!r} may use are missing. Load the network for {mode!r} with "
            f"load_network(source, mode={mode!r}).",
            PrecisionWarning,
            stacklevel=3,
        )
        return G
    source, options = known
    per_mode = _FOR_MODE.setdefault(G, {})
    if mode not in per_mode:  # the same source and options give the same graph: build it once
        per_mode[mode] = load_network(source, mode=mode, **options)
    return per_mode[mode]
