"""Geocoding of addresses with a persistent cache.

Head-office and branch coordinates are not available offline. A user with internet can
replace stand-in locations by geocoded coordinates (OpenStreetMap Nominatim through
:func:`osmnx.geocode`); every answer is cached on disk (``settings.cache_dir /
"geocode.json"``), so later runs, and runs on machines without internet that share the
cache file, need no network. pointplan only goes online when
``pointplan.settings.allow_downloads`` is ``True`` (``--allow-downloads`` on the CLI).

Examples
--------
>>> import pointplan
>>> pointplan.settings.allow_downloads = True            # doctest: +SKIP
>>> pts = pointplan.geocode_points(pointplan.load_points())  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from pointplan import settings
from pointplan._errors import GeocodingError, InputError, OfflineError
from pointplan._text import normalize_name
from pointplan._validate import check_columns, check_geometries, ensure_gdf, projected_crs
from pointplan.points import STAND_IN_PRECISIONS

__all__ = ["cache_path", "geocode", "geocode_points"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


def cache_path() -> Path:
    """Return the geocoding cache file (``settings.cache_dir / "geocode.json"``)."""
    return Path(settings.cache_dir) / "geocode.json"


def _key(query: str) -> str:
    return hashlib.sha256(normalize_name(query).casefold().encode("utf-8")).hexdigest()[:20]


def _load_cache(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        logger.warning("ignoring unreadable geocode cache %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(path: Path, cache: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(cache, f, ensure_ascii=False, indent=1, sort_keys=True)
        Path(tmp).replace(path)
    except BaseException:  # interrupted: keep the previous cache, leave no temporary file
        Path(tmp).unlink(missing_ok=True)
        raise


def _geocode_online(query: str) -> tuple[float, float]:
    import osmnx as ox

    ox.settings.cache_folder = str(Path(settings.cache_dir) / "osmnx")
    try:
        lat, lon = ox.geocode(query)
    except Exception as exc:  # osmnx raises InsufficientResponseError, HTTP errors...
        msg = f"Could not geocode {query!r}: {exc}"
        raise GeocodingError(msg) from exc
    return float(lon), float(lat)


def geocode(query: str, *, cache: Path | None = None) -> tuple[float, float]:
    """Geocode one address to (lon, lat), from the cache when possible.

    Parameters
    ----------
    query
        The address, e.g. ``"85 Dịch Vọng Hậu, Cầu Giấy, Hà Nội, Việt Nam"``.
    cache
        The cache file (default :func:`cache_path`).

    Returns
    -------
    tuple of float
        Longitude and latitude (EPSG:4326).

    Raises
    ------
    OfflineError
        The address is not cached and downloads are not allowed.
    GeocodingError
        The geocoder found nothing.
    """
    if not isinstance(query, str) or not query.strip():
        msg = f"geocode needs a non-empty address string, got {query!r}."
        raise InputError(msg)
    path = cache or cache_path()
    store = _load_cache(path)
    key = _key(query)
    if key in store:
        hit = store[key]
        if hit.get("lon") is None:
            msg = f"Geocoding {query!r} found nothing (cached answer from {hit.get('when', '?')})."
            raise GeocodingError(msg)
        return float(hit["lon"]), float(hit["lat"])
    if not settings.allow_downloads:
        msg = (
            f"{query!r} is not in the geocoding cache ({path}) and pointplan is offline. "
            "Set pointplan.settings.allow_downloads = True (CLI: --allow-downloads) on a "
            "machine with internet, or give real coordinates in a points file "
            "(pointplan.read_points)."
        )
        raise OfflineError(msg)
    try:
        lon, lat = _geocode_online(query)
    except GeocodingError:
        store[key] = {"query": query, "lon": None, "lat": None}
        _save_cache(path, store)
        raise
    store[key] = {"query": query, "lon": lon, "lat": lat}
    _save_cache(path, store)
    return lon, lat


def geocode_points(
    points: gpd.GeoDataFrame,
    *,
    only_standins: bool = True,
    suffix: str = ", Hà Nội, Việt Nam",
    max_shift_m: float = 15000.0,
    cache: Path | None = None,
) -> gpd.GeoDataFrame:
    """Replace stand-in locations by geocoded addresses where the geocoder finds them.

    Parameters
    ----------
    points
        Points with ``address`` and ``location_precision`` columns.
    only_standins
        Geocode only rows whose precision is a stand-in (``old_unit_reference`` or
        ``unit_representative_point``).
    suffix
        Appended to each address to keep the geocoder in Hanoi.
    max_shift_m
        A geocoded point farther than this from the stand-in is rejected (a geocoder
        mismatch, e.g. a street of the same name elsewhere) and the stand-in kept.
    cache
        The cache file (default :func:`cache_path`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy; geocoded rows get ``location_precision="geocoded"``. ``attrs["geocoding"]``
        counts geocoded, not found, rejected and offline rows.
    """
    ensure_gdf(points, "points")
    check_columns(points, ["address", "location_precision"], "points")
    check_geometries(points, "points", types=("Point",))
    out = points.copy()
    stats = {"geocoded": 0, "not_found": 0, "rejected": 0, "offline": 0}
    standin = out["location_precision"].isin(STAND_IN_PRECISIONS)
    todo = out.index[standin] if only_standins else out.index
    proj_src = out.geometry.to_crs(projected_crs())
    for idx in todo:
        address = str(out.at[idx, "address"]).strip()
        if not address:
            stats["not_found"] += 1
            continue
        try:
            lon, lat = geocode(address + suffix, cache=cache)
        except OfflineError:
            stats["offline"] += 1
            continue
        except GeocodingError:
            stats["not_found"] += 1
            continue
        new = gpd.GeoSeries([shapely.Point(lon, lat)], crs=settings.geographic_crs)
        shift = float(new.to_crs(proj_src.crs).distance(proj_src.loc[idx]).iloc[0])
        if shift > max_shift_m:
            stats["rejected"] += 1
            continue
        out.loc[[idx], "geometry"] = new.to_crs(out.crs).values
        out.at[idx, "location_precision"] = "geocoded"
        out.at[idx, "source"] = f"{out.at[idx, 'source']}; geocoded (OSM Nominatim)"
        stats["geocoded"] += 1
    if "unit_code" in out.columns and stats["geocoded"]:
        from pointplan.points import assign_units

        out["unit_code"] = assign_units(out).to_numpy()
    out.attrs = {**points.attrs, "geocoding": stats}
    return out
