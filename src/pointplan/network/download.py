"""Downloading a city's roads and footpaths from OpenStreetMap, in tiles, politely and resumably.

The area is cut into square tiles on a fixed lon/lat grid (so a tile has the same key
from one run to the next). Each tile is one Overpass query built with osmnx (its query
settings, its ``"all"`` way filter: every highway in use, footways, steps, service ways
and alleys included, so one download serves the drive and the pedestrian networks), sent
with osmnx's settings: ``ox.settings.overpass_url``, ``requests_timeout``,
``overpass_rate_limit`` (the server's slot status is asked before each query) and a
descriptive ``http_user_agent``.

Every answer is parsed and checked (a JSON object with an ``elements`` list and no
Overpass runtime error) before it is kept; it is then written gzip-compressed to a
temporary file and renamed into place, its sha256 recorded in the area's
``manifest.json`` (tile bbox, sha256, date, source, licence). A download interrupted
half-way (a lost connection, Ctrl-C) resumes where it stopped: tiles whose file matches
its checksum are not fetched again. 429 and 504 answers, other 5xx errors, timeouts and
lost connections are retried with exponential back-off; after the last try the error
says which tile failed and how to resume.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from pointplan import settings
from pointplan._errors import InputError, NetworkError, OfflineError
from pointplan.network.osm_stream import LICENCE

__all__ = [
    "MANIFEST",
    "Tile",
    "download_roads",
    "plan_tiles",
    "read_manifest",
    "roads_dir",
    "sha256_file",
    "tile_files",
    "user_agent",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Name of an area's manifest file.
MANIFEST = "manifest.json"
#: Bump when the layout of the manifest or the tiles changes.
FORMAT = 1
#: Default tile side in degrees (about 5.5 x 5.2 km in Hanoi): a tile of the dense inner
#: city with every footway and alley is a few MB of JSON, well within Overpass's limits.
TILE_DEG = 0.05
#: HTTP statuses worth another try (rate limit, gateway timeout, transient server errors).
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def user_agent() -> str:
    """Return the descriptive HTTP user agent sent to Overpass.

    Returns
    -------
    str

    Examples
    --------
    >>> user_agent().startswith("pointplan/")
    True

    """
    from pointplan._version import __version__

    return f"pointplan/{__version__} (road network for planning Hanoi's public service points; via osmnx)"


def roads_dir(cache_dir: str | Path | None = None) -> Path:
    """Return the folder holding downloaded roads: ``cache_dir / "roads"`` (default :data:`settings.cache_dir`).

    Parameters
    ----------
    cache_dir
        Another cache folder.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> roads_dir("/tmp/pp").as_posix()
    '/tmp/pp/roads'

    """
    return Path(cache_dir if cache_dir is not None else settings.cache_dir).expanduser() / "roads"


@dataclass(frozen=True)
class Tile:
    """One square of the download grid.

    Attributes
    ----------
    key : str
        Stable name: grid size and cell indices, e.g. ``"0.05_2116_420"``.
    bbox : tuple of float
        (west, south, east, north) in degrees.

    Examples
    --------
    >>> t = Tile.at(2116, 420, 0.05)
    >>> t.key, [round(v, 2) for v in t.bbox]
    ('0.05_2116_420', [105.8, 21.0, 105.85, 21.05])

    """

    key: str
    bbox: tuple[float, float, float, float]

    @classmethod
    def at(cls, ix: int, iy: int, size: float) -> Tile:
        """Return the tile in grid column ``ix`` and row ``iy`` of cells ``size`` degrees wide."""
        w, s = round(ix * size, 9), round(iy * size, 9)
        return cls(f"{size:g}_{ix}_{iy}", (w, s, round(w + size, 9), round(s + size, 9)))

    @property
    def polygon(self) -> shapely.Polygon:
        """The tile as a polygon (lon/lat)."""
        return shapely.box(*self.bbox)


def plan_tiles(area: shapely.Geometry, tile_deg: float = TILE_DEG) -> list[Tile]:
    """Return the grid tiles that cover an area.

    Parameters
    ----------
    area
        (Multi)Polygon in lon/lat (EPSG:4326).
    tile_deg
        Tile side in degrees.

    Returns
    -------
    list of Tile
        Tiles touching the area, row by row.

    Examples
    --------
    >>> [t.key for t in plan_tiles(shapely.box(105.84, 21.02, 105.849, 21.029), 0.005)]
    ['0.005_21168_4204', '0.005_21169_4204', '0.005_21168_4205', '0.005_21169_4205']

    """
    if not (isinstance(tile_deg, int | float) and 0 < tile_deg <= 1):
        msg = f"tile_deg must be a number of degrees in (0, 1], got {tile_deg!r}."
        raise InputError(msg)
    if area is None or area.is_empty:
        msg = "The area to download is empty."
        raise InputError(msg)
    w, s, e, n = area.bounds
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        msg = f"The area's bounds {area.bounds} are not lon/lat degrees: give the area in EPSG:4326."
        raise InputError(msg)
    eps = 1e-9
    tiles = []
    shapely.prepare(area)
    for iy in range(math.floor(s / tile_deg + eps), math.ceil(n / tile_deg - eps)):
        for ix in range(math.floor(w / tile_deg + eps), math.ceil(e / tile_deg - eps)):
            tile = Tile.at(ix, iy, tile_deg)
            if area.intersects(tile.polygon):
                tiles.append(tile)
    return tiles


# ---------------------------------------------------------------------------------------
# One tile
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _osmnx_settings(overpass_url: str | None, timeout_s: float | None) -> Iterator[Any]:
    """Osmnx's settings for the download (URL, timeout, user agent, no osmnx cache), restored after."""
    import osmnx as ox

    s = ox.settings
    old = (s.overpass_url, s.requests_timeout, s.http_user_agent, s.use_cache)
    if overpass_url:
        s.overpass_url = overpass_url.rstrip("/")
    if timeout_s is not None:
        s.requests_timeout = timeout_s
    if s.http_user_agent.startswith("OSMnx Python package"):  # osmnx's default: say who we are
        s.http_user_agent = user_agent()
    s.use_cache = False  # pointplan keeps verified tiles itself
    try:
        yield s
    finally:
        s.overpass_url, s.requests_timeout, s.http_user_agent, s.use_cache = old


def _query(tile: Tile) -> str:
    """Return the Overpass query for a tile, as osmnx writes it for ``network_type="all"``."""
    from osmnx import _overpass

    coords = _overpass._make_overpass_polygon_coord_strs(tile.polygon)[0]
    way_filter = _overpass._get_network_filter("all")
    return f"{_overpass._make_overpass_settings()};(way{way_filter}(poly:{coords!r});>;);out;"


def _validate(body: bytes) -> dict[str, Any]:
    """Return the parsed answer; raise ValueError when it is truncated, not Overpass JSON, or an error."""
    data = json.loads(body.decode("utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        msg = "not an Overpass JSON answer (no 'elements' list)"
        raise ValueError(msg)
    remark = str(data.get("remark", ""))
    if "error" in remark.lower():
        msg = f"Overpass reported an error, so the answer may be partial: {remark[:200]}"
        raise ValueError(msg)
    for el in data["elements"]:
        if not isinstance(el, dict) or el.get("type") not in {"node", "way", "relation"} or "id" not in el:
            msg = f"an element is malformed: {str(el)[:100]}"
            raise ValueError(msg)
        if el["type"] == "node" and not ("lat" in el and "lon" in el):
            msg = f"node {el['id']} has no location"
            raise ValueError(msg)
    return data


def _post(tile: Tile) -> tuple[int, bytes]:
    """Send one tile's query (after osmnx's polite pause); return status and body."""
    import osmnx as ox
    import requests
    from osmnx import _http, _overpass

    url = ox.settings.overpass_url.rstrip("/")
    pause = _overpass._get_overpass_pause(url, recursion_pause=1, default_pause=5)
    if pause:
        logger.info("Overpass asks to wait %s s before the next query", pause)
        time.sleep(pause)
    response = requests.post(
        url + "/interpreter",
        data={"data": _query(tile)},
        timeout=ox.settings.requests_timeout,
        headers=_http._get_http_headers(),
        **ox.settings.requests_kwargs,
    )
    return response.status_code, response.content


def fetch_tile(tile: Tile, *, retries: int = 4, backoff_s: float = 10.0) -> tuple[bytes, dict[str, Any]]:
    """Fetch and check one tile's answer, retrying transient failures with back-off.

    Parameters
    ----------
    tile
        The tile.
    retries
        Further tries after the first (429, 5xx, timeouts, lost connections, truncated
        or invalid answers).
    backoff_s
        Wait before the first retry; doubled at each further one (at most 10 minutes).

    Returns
    -------
    tuple
        The answer's bytes and its parsed JSON.

    Raises
    ------
    OfflineError
        No valid answer after the last try (the message names the tile and how to resume).
    """
    import requests

    problem = ""
    for attempt in range(retries + 1):
        if attempt:
            wait = min(backoff_s * 2 ** (attempt - 1), 600.0)
            logger.warning("tile %s: %s; retry %d of %d in %.1f s", tile.key, problem, attempt, retries, wait)
            time.sleep(wait)
        try:
            status, body = _post(tile)
        except requests.exceptions.Timeout:
            problem = "no answer within the timeout"
            continue
        except requests.exceptions.RequestException as exc:
            problem = f"connection failed ({type(exc).__name__})"
            continue
        if status in RETRY_STATUS:
            problem = f"HTTP {status}"
            continue
        if status != 200:
            msg = f"The Overpass server refused tile {tile.key} {tile.bbox}: HTTP {status} {body[:200]!r}."
            raise NetworkError(msg)
        try:
            return body, _validate(body)
        except (ValueError, UnicodeDecodeError) as exc:
            problem = f"invalid answer ({str(exc)[:120]})"
    msg = (
        f"Could not download roads tile {tile.key} {tile.bbox} after {retries + 1} tries: {problem}. "
        "The tiles already downloaded are kept: run the same command again later to resume, or "
        "use another Overpass server (--overpass-url, e.g. https://overpass.kumi.systems/api)."
    )
    raise OfflineError(msg)


# ---------------------------------------------------------------------------------------
# Files: atomic writes, checksums, the manifest
# ---------------------------------------------------------------------------------------


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    """Return the sha256 of a file's bytes (hex).

    Parameters
    ----------
    path
        File.

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "a"
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:12]
    'ba7816bf8f01'

    """
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(area_dir: str | Path) -> dict[str, Any]:
    """Read an area's manifest (an empty one when there is none yet).

    Parameters
    ----------
    area_dir
        ``roads_dir() / name``.

    Returns
    -------
    dict
        ``name``, ``source``, ``licence``, ``created``, ``complete``, ``tiles`` (key ->
        ``bbox``, ``file``, ``sha256``, ``date``, ``bytes``, ``elements``), ``planned``.

    Examples
    --------
    >>> read_manifest("/nonexistent")["tiles"]
    {}

    """
    path = Path(area_dir) / MANIFEST
    if not path.is_file():
        return {"format": FORMAT, "tiles": {}, "complete": False}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"The roads manifest {path} is unreadable ({exc}). Delete it and run `pointplan roads --download` again."
        raise NetworkError(msg) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = f"The roads manifest {path} is of another format. Delete its folder and download again."
        raise NetworkError(msg)
    return data


def _write_manifest(area_dir: Path, manifest: dict[str, Any]) -> None:
    _atomic_write(area_dir / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))


def tile_files(area_dir: str | Path, *, verify: bool = True) -> list[Path]:
    """Return the files of a complete download, each checked against its recorded sha256.

    Parameters
    ----------
    area_dir
        ``roads_dir() / name``.
    verify
        Check every file's checksum.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    NetworkError
        The download is incomplete, or a tile is missing or altered (the message says
        to run the download again, which fetches only what is missing).

    Examples
    --------
    >>> try:
    ...     tile_files("/nonexistent")
    ... except NetworkError as e:
    ...     print(str(e)[:34])
    No complete roads download in /non

    """
    area_dir = Path(area_dir)
    manifest = read_manifest(area_dir)
    if not manifest.get("complete"):
        msg = (
            f"No complete roads download in {area_dir}: run `pointplan roads --download` (it resumes "
            "an interrupted download)."
        )
        raise NetworkError(msg)
    out = []
    for key, info in manifest["tiles"].items():
        path = area_dir / info["file"]
        if verify and (not path.is_file() or sha256_file(path) != info["sha256"]):
            msg = (
                f"Roads tile {key} ({path}) is missing or altered since it was downloaded. Run "
                "`pointplan roads --download` again: it fetches that tile again."
            )
            raise NetworkError(msg)
        out.append(path)
    return out


# ---------------------------------------------------------------------------------------
# The whole area
# ---------------------------------------------------------------------------------------


def _tile_ok(area_dir: Path, info: dict[str, Any] | None) -> bool:
    if not info:
        return False
    path = area_dir / info.get("file", "")
    return path.is_file() and sha256_file(path) == info.get("sha256")


def _store_tile(area_dir: Path, tile: Tile, body: bytes, data: dict[str, Any], source: str) -> dict[str, Any]:
    packed = gzip.compress(body, compresslevel=6, mtime=0)
    rel = f"tiles/{tile.key}.json.gz"
    _atomic_write(area_dir / rel, packed)
    return {
        "bbox": list(tile.bbox),
        "file": rel,
        "sha256": hashlib.sha256(packed).hexdigest(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "osm_base": str(data.get("osm3s", {}).get("timestamp_osm_base", "")),
        "bytes": len(packed),
        "elements": len(data["elements"]),
        "source": source,
    }


def download_roads(
    area: shapely.Geometry,
    *,
    name: str = "hanoi",
    cache_dir: str | Path | None = None,
    overpass_url: str | None = None,
    tile_deg: float = TILE_DEG,
    retries: int = 4,
    backoff_s: float = 10.0,
    timeout_s: float | None = None,
    progress: Callable[[int, int, Tile, bool], None] | None = None,
) -> Path:
    """Download the roads and footpaths of an area from Overpass, in tiles, resumably.

    Parameters
    ----------
    area
        (Multi)Polygon in lon/lat (EPSG:4326): the city, some units, a province.
    name
        Name of the download (its folder under :func:`roads_dir`).
    cache_dir
        Cache folder (default :data:`pointplan.settings.cache_dir`).
    overpass_url
        Another Overpass API (default ``osmnx.settings.overpass_url``).
    tile_deg
        Tile side in degrees.
    retries, backoff_s
        See :func:`fetch_tile`.
    timeout_s
        Seconds to wait for one answer (default ``osmnx.settings.requests_timeout``).
    progress
        Called after each tile with (tiles done, tiles in all, the tile, whether it was
        fetched now rather than kept from before).

    Returns
    -------
    pathlib.Path
        The area's folder (``manifest.json`` and ``tiles/``).

    Raises
    ------
    OfflineError
        A tile could not be downloaded (what was fetched is kept; run again to resume).

    Examples
    --------
    Against a real server: ``download_roads(area, overpass_url="https://overpass-api.de/api")``
    (the tests use a fake one). The area is checked before anything is sent:

    >>> try:
    ...     download_roads(shapely.Polygon())
    ... except InputError as e:
    ...     print(e)
    The area to download is empty.

    """
    if not name or any(c in name for c in "/\\:") or name.startswith("."):
        msg = f"name must be a plain folder name, got {name!r}."
        raise InputError(msg)
    tiles = plan_tiles(area, tile_deg)
    area_dir = roads_dir(cache_dir) / name
    manifest = read_manifest(area_dir)
    with _osmnx_settings(overpass_url, timeout_s) as ox_settings:
        manifest.update(
            format=FORMAT, name=name, source=ox_settings.overpass_url, licence=LICENCE, tile_deg=tile_deg,
            planned=[t.key for t in tiles], complete=False, area_bounds=list(area.bounds),
            user_agent=ox_settings.http_user_agent,
        )  # fmt: skip
        manifest.setdefault("created", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        logger.info("roads %s: %d tiles from %s", name, len(tiles), ox_settings.overpass_url)
        _fetch_missing(area_dir, manifest, tiles, {"retries": retries, "backoff_s": backoff_s}, progress)
    manifest["tiles"] = {k: v for k, v in manifest["tiles"].items() if k in set(manifest["planned"])}
    manifest["complete"] = True
    manifest["completed"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    _write_manifest(area_dir, manifest)
    return area_dir


def _fetch_missing(
    area_dir: Path,
    manifest: dict[str, Any],
    tiles: list[Tile],
    retry: dict[str, Any],
    progress: Callable[[int, int, Tile, bool], None] | None,
) -> None:
    """Fetch the tiles not on disk with a matching checksum, recording each in the manifest."""
    for done, tile in enumerate(tiles, start=1):
        fetched = not _tile_ok(area_dir, manifest["tiles"].get(tile.key))
        if fetched:
            body, data = fetch_tile(tile, **retry)
            manifest["tiles"][tile.key] = _store_tile(area_dir, tile, body, data, manifest["source"])
            _write_manifest(area_dir, manifest)  # a tile counts once its file and checksum are on disk
        if progress is not None:
            progress(done, len(tiles), tile, fetched)
