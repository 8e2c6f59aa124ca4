"""Converted road networks on disk: one ``.npz`` of engine arrays per mode, checksummed.

An area downloaded by :func:`~pointplan.network.download.download_roads` (or an OSM
file converted with :func:`convert_file`) is converted once per mode by
:mod:`~pointplan.network.osm_stream` into the arrays the engine routes on, and kept as
``roads/<name>/<mode>.npz`` with a sidecar ``<mode>.json`` (sha256 of the ``.npz``, the
checksum of what it was built from, nodes, arcs, date, source, licence). Loading checks
the sha256 first: an altered or half-written file is rebuilt from the tiles, never used.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from pointplan._errors import NetworkError
from pointplan._validate import projected_crs
from pointplan.network._common import MODES, _check_mode
from pointplan.network.download import (
    _atomic_write,
    read_manifest,
    roads_dir,
    sha256_file,
    tile_files,
)
from pointplan.network.graph import _CSRGraph
from pointplan.network.osm_stream import (
    LICENCE,
    ArrayNetworkEngine,
    Ways,
    build_mode,
    read_osm_file,
    read_overpass_json,
)
from pointplan.network.straight_streets import _STREET_KEYS, ArrayGraph, street_arrays

__all__ = [
    "DEFAULT_MODES",
    "build_roads",
    "cached_roads_engine",
    "convert_file",
    "list_roads",
    "load_arrays",
    "roads_engine",
    "save_arrays",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Modes converted by default: the drive networks (motorbike, car) and the pedestrian one.
DEFAULT_MODES: tuple[str, ...] = ("motorbike", "car", "walk")
#: Bump when the arrays stored change meaning.
FORMAT = 2

_ARRAYS = ("node_ids", "x", "y", "indptr", "indices", "data", "rev_len", "snap_nodes")


def save_arrays(path: str | Path, g: _CSRGraph, meta: dict[str, Any]) -> dict[str, Any]:
    """Write a mode's arrays (``.npz``, atomically) and its sidecar JSON with the sha256.

    Parameters
    ----------
    path
        ``<mode>.npz``.
    g
        From :func:`~pointplan.network.osm_stream.build_mode`.
    meta
        Recorded in the sidecar (mode, source, its checksum...).

    Returns
    -------
    dict
        The sidecar's content.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pointplan.network.osm_stream import read_overpass_json, build_mode
    >>> w = read_overpass_json([{"elements": [
    ...     {"type": "node", "id": 1, "lat": 21.0, "lon": 105.8},
    ...     {"type": "node", "id": 2, "lat": 21.0, "lon": 105.81},
    ...     {"type": "way", "id": 9, "nodes": [1, 2], "tags": {"highway": "footway"}}]}])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "walk.npz"
    ...     side = save_arrays(p, build_mode(w, "walk"), {"mode": "walk"})
    ...     g = load_arrays(p)
    >>> side["nodes"], side["arcs"], g.rev.nnz
    (2, 2, 2)

    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rev = g.rev
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:  # straight to disk: no copy of the file in memory
            arrays: dict[str, Any] = {
                "node_ids": np.asarray(g.nodes.to_numpy(), dtype=np.int64), "x": g.x, "y": g.y,
                "indptr": rev.indptr, "indices": rev.indices, "data": rev.data, "rev_len": g.rev_len,
                "snap_nodes": g.snap_nodes, "crs": np.array(g.crs.to_string()),
                **{f"st_{k}": v for k, v in street_arrays(g).items()},
            }  # fmt: skip
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        digest = sha256_file(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    side = {
        "format": FORMAT,
        **meta,
        "file": path.name,
        "sha256": digest,
        "nodes": int(g.n),
        "arcs": int(rev.nnz),
        "crs": g.crs.to_string(),
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "licence": LICENCE,
    }
    _atomic_write(path.with_suffix(".json"), json.dumps(side, indent=1, ensure_ascii=False).encode("utf-8"))
    return side


def _sidecar(path: Path) -> dict[str, Any]:
    side_path = path.with_suffix(".json")
    try:
        side = json.loads(side_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{side_path} is missing or unreadable ({exc})"
        raise NetworkError(msg) from exc
    if not isinstance(side, dict) or side.get("format") != FORMAT or "sha256" not in side:
        msg = f"{side_path} is not a roads cache record of format {FORMAT}"
        raise NetworkError(msg)
    return side


def load_arrays(path: str | Path, *, verify: bool = True) -> _CSRGraph:
    """Read a mode's arrays written by :func:`save_arrays`, after checking their sha256.

    Parameters
    ----------
    path
        ``<mode>.npz``.
    verify
        Check the file against the sha256 of its sidecar first.

    Returns
    -------
    pointplan.network.graph._CSRGraph

    Raises
    ------
    NetworkError
        The file is missing, altered (checksum mismatch) or unreadable: rebuild it
        (:func:`roads_engine` does so by itself).

    Examples
    --------
    See :func:`save_arrays`.

    >>> try:
    ...     load_arrays("/nonexistent/walk.npz")
    ... except NetworkError as e:
    ...     print(str(e)[:28])
    /nonexistent/walk.json is mi

    """
    t0 = time.perf_counter()
    path = Path(path)
    side = _sidecar(path)
    if verify and (not path.is_file() or sha256_file(path) != side["sha256"]):
        msg = f"{path} is missing or altered since it was written (sha256 differs): it must be rebuilt"
        raise NetworkError(msg)
    try:
        with np.load(path, allow_pickle=False) as z:
            a = {k: z[k] for k in (*_ARRAYS, "crs", *(f"st_{k}" for k in _STREET_KEYS))}
    except (OSError, ValueError, KeyError) as exc:
        msg = f"{path} is unreadable ({type(exc).__name__}: {exc}): it must be rebuilt"
        raise NetworkError(msg) from exc
    if str(a["crs"]) != projected_crs().to_string():
        msg = f"{path} is in {a['crs']}, not the projected CRS {projected_crs().to_string()}: it must be rebuilt"
        raise NetworkError(msg)
    n = len(a["node_ids"])
    rev = sparse.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=(n, n))
    rev.has_sorted_indices = True
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(a["indptr"]))
    snap = a["snap_nodes"]
    g = ArrayGraph(
        nodes=pd.Index(a["node_ids"]), x=a["x"], y=a["y"], crs=projected_crs(), rev=rev,
        rev_len=a["rev_len"], rev_keys=rows * n + a["indices"], rev_geom=np.full(rev.nnz, None, dtype=object),
        snap_nodes=snap, tree=None, seconds=0.0,
        street_arrays={k: a[f"st_{k}"] for k in _STREET_KEYS},
    )  # fmt: skip
    logger.info("loaded %s (%d nodes) in %.2f s", path.name, n, time.perf_counter() - t0)
    return g


# ---------------------------------------------------------------------------------------
# Areas: build, load, list
# ---------------------------------------------------------------------------------------


def _source_checksum(manifest: dict[str, Any]) -> str:
    tiles = sorted((k, v["sha256"]) for k, v in manifest.get("tiles", {}).items())
    return hashlib.sha256(json.dumps(tiles).encode()).hexdigest()


def build_roads(
    name: str = "hanoi", *, cache_dir: str | Path | None = None, modes: Sequence[str] = DEFAULT_MODES
) -> dict[str, dict[str, Any]]:
    """Convert a downloaded area's tiles into each mode's arrays (once; verified tiles only).

    Parameters
    ----------
    name
        The download's name (its folder under :func:`~pointplan.network.download.roads_dir`).
    cache_dir
        Cache folder (default :data:`pointplan.settings.cache_dir`).
    modes
        Modes to build.

    Returns
    -------
    dict
        Mode -> its sidecar record.

    Raises
    ------
    NetworkError
        The download is incomplete or a tile was altered.

    Examples
    --------
    >>> try:
    ...     build_roads("nothing-here", cache_dir="/nonexistent")
    ... except NetworkError as e:
    ...     print(str(e)[:25])
    No complete roads downloa

    """
    area_dir = roads_dir(cache_dir) / name
    files = tile_files(area_dir)  # complete and verified, or a NetworkError saying how to fix it
    manifest = read_manifest(area_dir)
    ways = read_overpass_json(files)
    meta = {"name": name, "source": manifest.get("source", ""), "from_sha256": _source_checksum(manifest)}
    meta["downloaded"] = manifest.get("completed", "")
    return _build_modes(ways, area_dir, modes, meta)


def _build_modes(ways: Ways, area_dir: Path, modes: Sequence[str], meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for mode in modes:
        g = build_mode(ways, _check_mode(mode))
        out[mode] = save_arrays(area_dir / f"{mode}.npz", g, {**meta, "mode": mode, "convert_s": round(g.seconds, 2)})
    return out


def convert_file(
    path: str | Path,
    name: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    modes: Sequence[str] = DEFAULT_MODES,
) -> Path:
    """Convert an OSM PBF/XML file (e.g. a province clipped from Viet Nam's extract) into cached arrays.

    Parameters
    ----------
    path
        OSM file (see :func:`~pointplan.network.osm_stream.read_osm_file`).
    name
        Name of the cached network (default: the file's name without its endings).
    cache_dir
        Cache folder (default :data:`pointplan.settings.cache_dir`).
    modes
        Modes to build.

    Returns
    -------
    pathlib.Path
        The network's folder.

    Examples
    --------
    >>> import tempfile
    >>> from pointplan.data import data_file
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = convert_file(data_file("osm/vanmieu.osm"), cache_dir=tmp, modes=["walk"])
    ...     sorted(p.name for p in folder.iterdir())
    ['walk.json', 'walk.npz']

    """
    path = Path(path)
    name = name or path.name.split(".")[0]
    area_dir = roads_dir(cache_dir) / name
    ways = read_osm_file(path)
    meta = {"name": name, "source": path.name, "from_sha256": sha256_file(path), "downloaded": ""}
    _build_modes(ways, area_dir, modes, meta)
    return area_dir


def roads_engine(
    mode: str = "motorbike", name: str = "hanoi", *, cache_dir: str | Path | None = None, **kw: Any
) -> ArrayNetworkEngine:
    """Return the engine on a cached road network; an altered or missing mode file is rebuilt first.

    Parameters
    ----------
    mode
        Travel mode.
    name
        The cached network's name.
    cache_dir
        Cache folder (default :data:`pointplan.settings.cache_dir`).
    **kw
        ``access_speed_kmh``, ``max_snap_m`` (see :class:`~pointplan.network.NetworkEngine`).

    Returns
    -------
    ArrayNetworkEngine

    Raises
    ------
    NetworkError
        Nothing cached under that name, or the file is altered and there are no tiles
        to rebuild it from (the message says what to run).

    Examples
    --------
    >>> import tempfile
    >>> from pointplan.data import data_file
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = convert_file(data_file("osm/vanmieu.osm"), "vanmieu", cache_dir=tmp, modes=["walk"])
    ...     roads_engine("walk", "vanmieu", cache_dir=tmp).mode
    'walk'

    """
    mode = _check_mode(mode)
    area_dir = roads_dir(cache_dir) / name
    path = area_dir / f"{mode}.npz"
    try:
        g = _load_once(path)
    except NetworkError as exc:
        if not (area_dir / "manifest.json").is_file():
            msg = (
                f"No usable cached {mode} roads {name!r} ({exc}). Run `pointplan roads --download` "
                "(or convert an OSM file again with `pointplan roads --from-file FILE`)."
            )
            raise NetworkError(msg) from exc
        logger.warning("%s; rebuilding it from the downloaded tiles", exc)
        build_roads(name, cache_dir=cache_dir, modes=[mode])
        g = load_arrays(path)
    eng = ArrayNetworkEngine(g, mode, source=f"roads {name!r} ({path})", **kw)
    eng.for_mode = functools.partial(roads_engine, name=name, cache_dir=cache_dir, **kw)
    return eng


#: Arrays loaded in this process, by (file, modification time, size): a run asks for the
#: same mode several times, and the street index built on the first snap is kept with them.
_LOADED: dict[tuple[str, int, int], _CSRGraph] = {}


def _load_once(path: Path) -> _CSRGraph:
    """Load arrays (checksum verified) once per process and file version."""
    try:
        stat = path.stat()
    except OSError:
        return load_arrays(path)  # raises the NetworkError saying what is missing
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _LOADED:
        if len(_LOADED) >= 4:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = load_arrays(path)
    return _LOADED[key]


def list_roads(cache_dir: str | Path | None = None) -> pd.DataFrame:
    """List the road networks cached: one row per name and mode.

    Parameters
    ----------
    cache_dir
        Cache folder (default :data:`pointplan.settings.cache_dir`).

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``mode``, ``status`` (``ok``, ``altered``, ``not built``,
        ``incomplete download``), ``nodes``, ``arcs``, ``source``, ``downloaded``,
        ``built``, ``tiles``, ``licence``, ``path``.

    Examples
    --------
    >>> list_roads("/nonexistent").empty
    True

    """
    rows = []
    root = roads_dir(cache_dir)
    for area_dir in sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []:
        manifest = read_manifest(area_dir) if (area_dir / "manifest.json").is_file() else {}
        for mode in MODES:
            rows.append(_row(area_dir, mode, manifest))
    cols = ["name", "mode", "status", "nodes", "arcs", "source", "downloaded", "built", "tiles", "licence", "path"]
    return pd.DataFrame([r for r in rows if r is not None], columns=cols)


def _row(area_dir: Path, mode: str, manifest: dict[str, Any]) -> dict[str, Any] | None:
    path = area_dir / f"{mode}.npz"
    base = {"name": area_dir.name, "mode": mode, "tiles": len(manifest.get("tiles", {})), "path": str(path)}
    try:
        side = _sidecar(path)
    except NetworkError:
        if not manifest or mode not in DEFAULT_MODES:
            return None
        status = "not built" if manifest.get("complete") else "incomplete download"
        return {**base, "status": status, "source": manifest.get("source", ""), "licence": LICENCE}
    ok = path.is_file() and sha256_file(path) == side["sha256"]
    return {
        **base, "status": "ok" if ok else "altered", "nodes": side.get("nodes"), "arcs": side.get("arcs"),
        "source": side.get("source", ""), "downloaded": side.get("downloaded", ""), "built": side.get("built", ""),
        "licence": side.get("licence", LICENCE),
    }  # fmt: skip


def cached_roads_engine(
    mode: str = "motorbike", name: str = "hanoi", *, cache_dir: str | Path | None = None, **kw: Any
) -> ArrayNetworkEngine | None:
    """Return the engine on downloaded roads when some are cached, else None (quietly).

    What ``pointplan run`` uses by default: a mode not converted yet is built from the
    downloaded tiles; an altered file is rebuilt.

    Parameters
    ----------
    mode
        Travel mode.
    name
        The cached network's name.
    cache_dir
        Cache folder (default :data:`pointplan.settings.cache_dir`).
    **kw
        ``access_speed_kmh``, ``max_snap_m``.

    Returns
    -------
    ArrayNetworkEngine or None
        None when nothing is cached under ``name`` (or its download is incomplete).

    Examples
    --------
    >>> cached_roads_engine("walk", cache_dir="/nonexistent") is None
    True

    """
    area_dir = roads_dir(cache_dir) / name
    has_arrays = (area_dir / f"{_check_mode(mode)}.json").is_file()
    if not has_arrays and not read_manifest(area_dir).get("complete"):
        return None
    eng = roads_engine(mode, name, cache_dir=cache_dir, **kw)
    logger.info("using the downloaded roads %r for %s: %s", name, mode, eng)
    return eng
