"""The on-disk cache of converted networks, keyed by a hash of the source file.

Loading a city's network (parsing GraphML or OSM XML, simplifying, projecting) takes
seconds to a minute; the result for a mode is stored once under
``settings.cache_dir / "networks"`` so the next load of the same file (same bytes, same
mode and options) takes well under a second. Edge geometries, the slow part of a pickled
graph, are stored as flat coordinate arrays and rebuilt in one vectorised call.
"""

# ruff: noqa: N803, N806 - `G` for a graph, as in osmnx

from __future__ import annotations

import copy
import gc
import logging
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import shapely

if TYPE_CHECKING:
    from pointplan.network.graph import _CSRGraph

__all__ = ["read_entry", "write_entry"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Bump when the layout of a cache entry changes.
FORMAT = 1


def _edge_dicts(G: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """Edge attribute dicts in ``G.edges`` order (straight from the adjacency: faster)."""
    return [d for nbrs in G._succ.values() for keyed in nbrs.values() for d in keyed.values()]


def _pop_geometries(G: nx.MultiDiGraph) -> tuple[list[dict[str, Any]], list[shapely.Geometry | None]]:
    dicts = _edge_dicts(G)
    return dicts, [d.pop("geometry", None) for d in dicts]


def _pack(geoms: list[shapely.Geometry | None]) -> dict[str, Any]:
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    has = np.array([isinstance(g, shapely.LineString) for g in geoms], dtype=bool)
    coords, owner = shapely.get_coordinates(arr[has], return_index=True)
    return {"has": has, "coords": coords, "owner": owner}


def _unpack(packed: dict[str, Any]) -> np.ndarray:
    has = packed["has"]
    out = np.full(len(has), None, dtype=object)
    if has.any():
        out[has] = shapely.linestrings(packed["coords"], indices=packed["owner"])
    return out


def write_entry(path: Path, G: nx.MultiDiGraph, csr: _CSRGraph) -> None:
    """Store a mode graph and its conversion (atomically; ``G`` is left as it was).

    Parameters
    ----------
    path
        Cache file to write.
    G
        The graph :func:`pointplan.network.load_network` returns.
    csr
        Its conversion (:func:`pointplan.network.graph._to_csr`).

    Examples
    --------
    >>> import tempfile, pathlib, networkx as nx, shapely
    >>> from pointplan.network.graph import _to_csr
    >>> G = nx.MultiDiGraph(crs="EPSG:32648", pointplan_mode="walk")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=90.0, y=0.0)
    >>> line = shapely.LineString([(0, 0), (45, 10), (90, 0)])
    >>> _ = G.add_edge(1, 2, length=92.2, travel_time_s=80.0, geometry=line)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     entry = pathlib.Path(tmp) / "g.pickle"
    ...     write_entry(entry, G, _to_csr(G))
    ...     H, csr = read_entry(entry)
    >>> H[1][2][0]["geometry"].equals(line), csr.rev_geom[0].equals(line), "geometry" in G[1][2][0]
    (True, True, True)

    """
    dicts, geoms = _pop_geometries(G)
    try:
        ids = {id(g): i for i, g in enumerate(geoms) if g is not None}
        slim = copy.copy(csr)
        slim.__dict__.pop("streets", None)  # derived, rebuilt on demand
        slim.memo = {}
        geom_idx = np.array([ids.get(id(g), -1) for g in csr.rev_geom], dtype=np.int64)
        slim.rev_geom = np.empty(0, dtype=object)
        payload = {"format": FORMAT, "graph": G, "csr": slim, "geom_idx": geom_idx, "geoms": _pack(geoms)}
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    finally:
        for d, g in zip(dicts, geoms, strict=True):
            if g is not None:
                d["geometry"] = g


def read_entry(path: Path) -> tuple[nx.MultiDiGraph, _CSRGraph]:
    """Read a cache entry written by :func:`write_entry`.

    Parameters
    ----------
    path
        Cache file.

    Returns
    -------
    tuple
        The graph (geometries restored) and its conversion.

    Raises
    ------
    ValueError
        The file is of another format version.

    Examples
    --------
    A round trip (see :func:`write_entry`):

    >>> import tempfile, pathlib, networkx as nx
    >>> from pointplan.network.graph import _to_csr
    >>> G = nx.MultiDiGraph(crs="EPSG:32648", pointplan_mode="walk")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=90.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=90.0, travel_time_s=72.0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "g.pkl"
    ...     write_entry(path, G, _to_csr(G))
    ...     H, csr = read_entry(path)
    >>> sorted(H.nodes), H[1][2][0]["travel_time_s"]
    ([1, 2], 72.0)
    """
    enabled = gc.isenabled()
    gc.disable()  # unpickling ~10^5 dicts would run the cyclic collector many times for nothing
    try:
        with path.open("rb") as f:
            payload = pickle.load(f)  # pointplan's own cache file, written by write_entry
    finally:
        if enabled:
            gc.enable()
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        msg = f"{path.name} is not a network cache entry of format {FORMAT}."
        raise ValueError(msg)
    G, csr = payload["graph"], payload["csr"]
    geoms = _unpack(payload["geoms"])
    for d, g in zip(_edge_dicts(G), geoms.tolist(), strict=True):
        if g is not None:
            d["geometry"] = g
    idx = payload["geom_idx"]
    rev_geom = np.full(len(idx), None, dtype=object)
    rev_geom[idx >= 0] = geoms[idx[idx >= 0]]
    csr.rev_geom = rev_geom
    return G, csr
