"""Loading road graphs: OSM XML/PBF, GraphML (plain or gzipped), osmnx downloads and caches."""

# ruff: noqa: N803, N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import networkx as nx
import shapely

from pointplan import settings
from pointplan._errors import (
    DataNotFoundError,
    InputError,
    NetworkError,
    OfflineError,
    PointplanError,
)
from pointplan._validate import projected_crs
from pointplan.network._common import (
    _check_coordinates_fit,
    _check_graph,
    _check_mode,
    _graph_crs,
    _highway_key,
    _truthy,
)
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
    mode: str,
    speeds_kmh: float | Mapping[str, float] | None,
    retain_all: bool,
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
    return add_travel_times(G, mode, speeds_kmh)


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
    """Read an OSM XML or GraphML file; a NetworkError naming the file if it is unusable."""
    try:
        if path.suffix.lower() == ".graphml":
            import osmnx as ox

            G = ox.load_graphml(path)
            if not G.graph.get("simplified"):
                G = _simplify(_routable(G))
            return G
        stat = path.stat()
        return _xml_all(path.resolve(), stat.st_mtime_ns, stat.st_size).copy()
    except NetworkError as exc:
        msg = f"{path.name}: {exc}"
        raise NetworkError(msg) from exc
    except PointplanError:
        raise
    except Exception as exc:
        msg = (
            f"Could not read the road network file {path.name} ({path}): "
            f"{type(exc).__name__}: {exc}. Check that it is a complete OSM XML (.osm) or "
            "GraphML (.graphml) file, e.g. export it again."
        )
        raise NetworkError(msg) from exc


@lru_cache(maxsize=2)
def _xml_all(path: Path, mtime_ns: int, size: int) -> nx.MultiDiGraph:
    """All routable ways of an OSM XML file, simplified (cached: parsing is the slow part)."""
    import osmnx as ox

    raw = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
    return _simplify(_routable(raw))


def load_network(
    source: str | Path | shapely.Polygon | shapely.MultiPolygon | nx.MultiDiGraph,
    *,
    mode: str = "motorbike",
    speeds_kmh: float | Mapping[str, float] | None = None,
    cache: bool = True,
    retain_all: bool = False,
) -> nx.MultiDiGraph:
    """Load a road graph for a travel mode, projected and with travel times.

    Parameters
    ----------
    source
        An OSM XML file (``.osm``/``.xml``, read with ``osmnx.graph_from_xml``), a
        GraphML file (``.graphml``, ``osmnx.load_graphml``), a networkx graph (copied),
        a shapely (Multi)Polygon in EPSG:4326 or a place name (``"Hoàn Kiếm, Hà Nội"``).
        Polygons and places are downloaded with osmnx (all OSM highways, then filtered
        per mode) only if :data:`pointplan.settings.allow_downloads` is True; the HTTP
        responses and the resulting graph (GraphML, keyed by a hash of the request) are
        cached under ``settings.cache_dir / "osmnx"`` so a later call works offline.
    mode
        Travel mode (:data:`MODES`): edges the mode may not use are dropped.
    speeds_kmh
        Speed override, see :func:`add_travel_times`.
    cache
        Read and write the on-disk cache of downloaded graphs (downloads only).
    retain_all
        Keep every connected part of the network; by default (as in osmnx) only the
        largest weakly connected part is kept.

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

    """
    _check_mode(mode)
    if isinstance(source, nx.MultiDiGraph):
        G = source.copy()
        tagged = any("highway" in d for _, _, d in G.edges(data=True))
        if tagged and not G.graph.get("simplified"):
            G = _simplify(_routable(G))
    elif isinstance(source, shapely.Polygon | shapely.MultiPolygon):
        G = _download(source, cache=cache)
    elif isinstance(source, str | Path) and (
        Path(source).suffix.lower() in {".osm", ".xml", ".graphml"} or Path(source).is_file()
    ):
        path = Path(source).expanduser()
        if not path.is_file():
            msg = f"Network file {path} does not exist. Check the path."
            raise DataNotFoundError(msg)
        G = _read_network_file(path)
    elif isinstance(source, str):
        G = _download(source, cache=cache)
    else:
        msg = (
            f"Cannot load a network from {type(source).__name__}: pass a file path (.osm, "
            ".graphml), a shapely Polygon in EPSG:4326, a place name or a networkx graph."
        )
        raise InputError(msg)
    _check_graph(G)
    G = _for_mode(G, mode, speeds_kmh, retain_all)
    logger.info(
        "network for %s: %d nodes, %d edges (%s)",
        mode, G.number_of_nodes(), G.number_of_edges(), settings.projected_crs,
    )  # fmt: skip
    return G
