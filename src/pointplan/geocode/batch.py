"""Geocoding many addresses: the address list, checked answers, and points updated from them.

Examples
--------
>>> import pointplan
>>> table = geocode_addresses(address_list())   # doctest: +SKIP
>>> table["status"].value_counts()               # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.auto import tqdm

from pointplan import settings
from pointplan._errors import GeocodingError, InputError, OfflineError
from pointplan._text import name_key, normalize_name
from pointplan._validate import check_columns, check_geometries, ensure_gdf
from pointplan.geocode.address import ParsedAddress, build_queries, normalize_address, parse_address, resolve_units
from pointplan.geocode.check import POINT_PRECISION, Candidate, UnitChecker, choose, to_candidate
from pointplan.geocode.client import NominatimClient, _load_cache, cache_path
from pointplan.points import is_stand_in

__all__ = [
    "REVIEW_COLUMNS",
    "STATUSES",
    "address_list",
    "geocode",
    "geocode_addresses",
    "geocode_points",
    "post_office_addresses",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Columns of a geocoding table and of the review file (plus ``candidate_1``…).
REVIEW_COLUMNS: tuple[str, ...] = (
    "point_id",
    "kind",
    "name",
    "address",
    "unit_code",
    "unit_name",
    "status",
    "reviewed",
    "chosen",
    "lon",
    "lat",
    "match_precision",
    "reason",
    "service",
    "date",
)

#: What happened to each address.
STATUSES: dict[str, str] = {
    "accepted": "a candidate lies in the unit the address names",
    "rejected": "candidates were found, none in the unit the address names",
    "no_match": "the service found nothing",
    "failed": "the service kept failing (timeouts, HTTP 429/5xx, bad replies); not cached, ask again later",
    "offline": "not in the cache and pointplan is offline",
    "invalid": "the address is empty, in another province, or names no unit of Hà Nội",
    "kept": "reviewed or surveyed coordinates: never overwritten by an automatic run",
}

#: Points with these precisions are never geocoded again.
_KEEP = frozenset({"reviewed", "surveyed"})


def address_list(
    scenario: str = "hanoi-2025",
    *,
    points: gpd.GeoDataFrame | None = None,
    post_offices: bool = False,
    units: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Return the addresses to geocode: the scenario's points (or yours), optionally post offices.

    Parameters
    ----------
    scenario
        A scenario of :func:`pointplan.load_points` (its 126 head offices, the branches and
        other points with an address); ignored when ``points`` is given.
    points
        Your points (e.g. from :func:`pointplan.read_points`), with ``address``.
    post_offices
        Add the post offices of ``data/poi/hanoi_vnpost_offices_pre2025.csv``.
    units
        The units (default :func:`pointplan.load_units`).

    Returns
    -------
    pandas.DataFrame
        ``point_id``, ``kind``, ``name``, ``address``, ``declared_unit_code`` (else the
        unit the point lies in),
        ``unit_codes`` (allowed units when known beforehand, ``;``-separated),
        ``location_precision``, ``lon``, ``lat``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoDataFrame({"point_id": ["P1"], "address": ["Số 2 phố Hà Cầu, phường Hà Đông"],
    ...     "location_precision": ["unit_representative_point"]},
    ...     geometry=[shapely.Point(105.778, 20.974)], crs="EPSG:4326")
    >>> row = address_list(points=pts).iloc[0]
    >>> row["point_id"], row["address"], float(row["lon"])
    ('P1', 'Số 2 phố Hà Cầu, phường Hà Đông', 105.778)
    """
    from pointplan.points import load_points

    pts = load_points(scenario, units=units) if points is None else points
    ensure_gdf(pts, "points")
    check_columns(pts, ["address"], "points")
    geo = pts.geometry.to_crs(settings.geographic_crs)
    out = pd.DataFrame(
        {
            "point_id": pts["point_id"].astype(str) if "point_id" in pts else pts.index.astype(str),
            "kind": pts.get("kind", "unit_point"),
            "name": pts.get("name", ""),
            "address": pts["address"].fillna("").astype(str),
            "declared_unit_code": _declared_units(pts),
            "unit_codes": "",
            "location_precision": pts.get("location_precision", "unknown"),
            "lon": geo.x.to_numpy(),
            "lat": geo.y.to_numpy(),
        }
    ).reset_index(drop=True)
    if post_offices:
        out = pd.concat([out, post_office_addresses()], ignore_index=True)
    return out


def _declared_units(pts: gpd.GeoDataFrame) -> pd.Series | None:
    """Each point's declared unit, else the unit it now lies in (its stand-in's unit)."""
    declared = pts.get("declared_unit_code")
    if "unit_code" not in pts.columns:
        return declared
    located = pts["unit_code"].astype(object)
    return located if declared is None else declared.astype(object).where(declared.notna(), located)


def post_office_addresses() -> pd.DataFrame:
    """Return the pre-2025 post offices of Hanoi as addresses to geocode.

    Their addresses name the old ward ("75 Đinh Tiên Hoàng, Tràng Tiền"); the allowed units
    are every 2025 unit that old ward went to.

    Returns
    -------
    pandas.DataFrame
        Same columns as :func:`address_list`; ``point_id`` is ``BC`` + the postal code.

    Examples
    --------
    >>> po = post_office_addresses()
    >>> po.loc[0, ["point_id", "kind", "unit_codes"]].tolist()
    ['BC100000', 'post_office', '00070;00082']
    """
    from pointplan.data import data_dirs, load_old_to_new

    path = next((d / "poi" / "hanoi_vnpost_offices_pre2025.csv" for d in data_dirs() if (d / "poi").is_dir()), None)
    if path is None or not path.is_file():
        msg = "The post-office list data/poi/hanoi_vnpost_offices_pre2025.csv was not found (see data/README.md)."
        raise InputError(msg)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    old = load_old_to_new()
    old_key = old["old_ward"].map(name_key) + "|" + old["old_district"].map(_district_key)
    codes = old.groupby(old_key)["new_ward_code"].agg(lambda s: ";".join(sorted(set(map(str, s)))))
    key = df["ward"].map(name_key) + "|" + df["district"].map(_district_key)
    # wards merged away before 2025 (e.g. Đống Mác) are not in the mapping: the file's new unit
    fallback = df["new_unit_code"].where(df["new_unit_code"] != "", "")
    return pd.DataFrame(
        {
            "point_id": "BC" + df["code"],
            "kind": "post_office",
            "name": df["name"].map(normalize_name),
            "address": (df["detailAddress"] + ", " + df["district"] + ", Hà Nội").map(normalize_name),
            "declared_unit_code": df["new_unit_code"].replace("", None),
            "unit_codes": key.map(codes).fillna(fallback),
            "location_precision": "unknown",
            "lon": np.nan,
            "lat": np.nan,
        }
    )


def _district_key(name: str) -> str:
    """Join key of a pre-2025 district with or without its type ("Thị xã Sơn Tây" = "Sơn Tây")."""
    return re.sub(r"^(thị xã|quận|huyện)\s+", "", name_key(name))


def _units_for(row: Any, parsed: ParsedAddress, units: pd.DataFrame, old: pd.DataFrame) -> tuple[tuple[str, ...], str]:
    """Return the units an address must lie in (given beforehand, else named by the address)."""
    given = str(getattr(row, "unit_codes", "") or "")
    if given:
        return tuple(c for c in given.split(";") if c), "the post office's former ward"
    declared = getattr(row, "declared_unit_code", None)
    declared = str(declared).strip().zfill(5) if declared is not None and not pd.isna(declared) else None
    codes, how = resolve_units(parsed, units, old, declared or None)
    if declared and codes and declared not in codes:
        how += f" (the point is declared in {declared}; the address wins)"
    return codes, how


def _precheck(row: Any, units: pd.DataFrame, old: pd.DataFrame) -> tuple[ParsedAddress | None, tuple[str, ...], str]:
    """Parse and resolve one address; return (parsed, codes, reason) — parsed None if invalid."""
    address = normalize_name(str(row.address or ""))
    if not address:
        return None, (), "empty address: fill in the address (or give coordinates in a points file)"
    parsed = parse_address(address)
    if parsed.in_other_province:
        return None, (), f"the address is in {parsed.province}, not Hà Nội: check it"
    codes, how = _units_for(row, parsed, units, old)
    unknown = [c for c in codes if c not in units.index]
    if not codes or unknown:
        bad = f" (unknown unit code(s) {unknown})" if unknown else ""
        return None, codes, f"{how}{bad}: write the 2025 phường/xã in the address"
    return parsed, codes, how


def _search_all(
    client: NominatimClient, parsed: ParsedAddress, codes: tuple[str, ...], checker: UnitChecker
) -> tuple[list[Candidate], str, str]:
    """Run the queries of one address until a house-level answer in its unit is found.

    Returns the checked candidates (deduplicated, in order of arrival), the service and
    the date of the last answer.
    """
    candidates: list[Candidate] = []
    seen: set[tuple[str, float, float]] = set()
    service = date = ""
    for params in build_queries(parsed):
        answer = client.search(params)
        service, date = answer.service, answer.date
        for result in answer.results:
            cand = checker.check(to_candidate(result), codes)
            key = (cand.osm, round(cand.lon, 6), round(cand.lat, 6))
            if key not in seen:
                seen.add(key)
                candidates.append(cand)
        best = choose(candidates)
        if best is not None and candidates[best].precision in ("house", "poi"):
            break
    return candidates, service, date


def _geocode_row(
    row: Any, client: NominatimClient, checker: UnitChecker, units: pd.DataFrame, old: pd.DataFrame
) -> dict[str, Any]:
    """Geocode one address row into a review-table row (with a ``candidates`` list)."""
    out: dict[str, Any] = {
        "point_id": row.point_id,
        "kind": row.kind,
        "name": row.name,
        "address": row.address,
        "unit_code": "",
        "unit_name": "",
        "reviewed": "",
        "chosen": None,
        "lon": None,
        "lat": None,
        "match_precision": "",
        "service": "",
        "date": "",
        "candidates": [],
    }
    if str(getattr(row, "location_precision", "")) in _KEEP:
        lon, lat = float(row.lon), float(row.lat)
        code = checker.locate(lon, lat)
        reason = f"location_precision is {row.location_precision}: never overwritten by an automatic run"
        return {**out, "status": "kept", "lon": lon, "lat": lat, "unit_code": code or "", "reason": reason}
    parsed, codes, how = _precheck(row, units, old)
    out["unit_code"] = ";".join(codes)
    out["unit_name"] = "; ".join(checker.name(c) for c in codes)
    if parsed is None:
        return {**out, "status": "invalid", "reason": how}
    try:
        cands, out["service"], out["date"] = _search_all(client, parsed, codes, checker)
    except OfflineError:
        return {**out, "status": "offline", "reason": "not in the cache and pointplan is offline (--allow-downloads)"}
    except GeocodingError as exc:  # transient failures after retries, or a refusal: not cached
        return {**out, "status": "failed", "reason": str(exc)}
    out["candidates"] = cands
    best = choose(cands)
    if best is None:
        status = "rejected" if cands else "no_match"
        why = "; ".join(f"#{i + 1} {c.precision} {checker.verdict(c, codes)}" for i, c in enumerate(cands[:3]))
        reason = f"{how}; no candidate in the unit: {why}" if cands else f"{how}; the service found nothing"
        return {**out, "status": status, "reason": reason}
    c = cands[best]
    coarse = "" if c.precision in POINT_PRECISION else "; coarser than a street: the stand-in stays until reviewed"
    reason = f"{how}; candidate {best + 1} of {len(cands)}, {c.precision} ({c.kind}), {checker.verdict(c, codes)}"
    return {
        **out,
        "status": "accepted",
        "chosen": best + 1,
        "lon": round(c.lon, 7),
        "lat": round(c.lat, 7),
        "match_precision": c.precision,
        "reason": reason + coarse,
    }


def geocode_addresses(
    addresses: pd.DataFrame,
    *,
    units: gpd.GeoDataFrame | None = None,
    service_url: str | None = None,
    cache: Path | None = None,
) -> pd.DataFrame:
    """Geocode addresses into checked answers, one row per address, ready for review.

    Parameters
    ----------
    addresses
        As :func:`address_list` returns: ``point_id`` and ``address`` at least.
    units
        The units (default :func:`pointplan.load_units`).
    service_url
        The Nominatim service (default :data:`pointplan.settings.geocode_service_url`).
    cache
        The cache file (default :func:`pointplan.geocode.cache_path`).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`REVIEW_COLUMNS` plus ``candidates`` (the checked
        :class:`~pointplan.geocode.check.Candidate` list). ``status`` is one of
        :data:`STATUSES`; ``attrs["geocoding"]`` counts statuses and requests.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> units = gpd.GeoDataFrame({"name": ["A"], "full_name": ["Phường A"], "kind": ["phuong"]}, index=["00001"],
    ...     geometry=[shapely.box(585000, 2325000, 587000, 2327000)], crs="EPSG:32648")
    >>> addresses = pd.DataFrame({"point_id": ["X"], "address": ["12 Lạch Tray, Hải Phòng"]})
    >>> t = geocode_addresses(addresses, units=units)
    >>> t.loc[0, "status"], t.loc[0, "reason"]
    ('invalid', 'the address is in Hải Phòng, not Hà Nội: check it')
    """
    from pointplan.data import load_old_to_new, load_units

    check_columns(addresses, ["point_id", "address"], "addresses")
    units = load_units() if units is None else units
    checker = UnitChecker(units)
    client = NominatimClient(service_url, cache=cache)
    old = load_old_to_new()
    # name keys computed once, not once per address
    old["_name_key"] = old["old_ward"].map(name_key)
    keyed = pd.DataFrame(units.drop(columns="geometry")).assign(_name_key=units["name"].map(name_key))
    rows = addresses.copy()
    for col, default in (("kind", ""), ("name", ""), ("declared_unit_code", None), ("unit_codes", "")):
        if col not in rows.columns:
            rows[col] = default
    records = []
    bar = tqdm(total=len(rows), desc="geocoding", unit="address", disable=not settings.progress)
    with bar:
        for row in rows.itertuples(index=False):
            records.append(_geocode_row(row, client, checker, keyed, old))
            bar.update(1)
    table = pd.DataFrame(records, columns=[*REVIEW_COLUMNS, "candidates"])
    counts = {s: int((table["status"] == s).sum()) for s in STATUSES}
    table.attrs["geocoding"] = {**counts, "requests": client.requests_made}
    return table


def geocode_points(
    points: gpd.GeoDataFrame,
    *,
    only_standins: bool = True,
    units: gpd.GeoDataFrame | None = None,
    service_url: str | None = None,
    cache: Path | None = None,
) -> gpd.GeoDataFrame:
    """Replace stand-in locations by checked geocoded answers where the service finds them.

    Only answers inside the unit the address names are used: a house or named site gives
    ``location_precision="geocoded"``, a street ``"street_in_unit"``; coarser answers (a
    village, an area) leave the stand-in for a person to review (``pointplan geocode --out``).
    Points located ``reviewed`` or ``surveyed`` are never changed.

    Parameters
    ----------
    points
        Points with ``address`` and ``location_precision`` columns.
    only_standins
        Geocode only stand-ins (default); else every point except reviewed/surveyed ones.
    units
        The units (default :func:`pointplan.load_units`).
    service_url
        The Nominatim service (default :data:`pointplan.settings.geocode_service_url`).
    cache
        The cache file (default :func:`pointplan.geocode.cache_path`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy; ``attrs["geocoding"]`` counts each :data:`STATUSES` and ``geocoded``,
        ``street_in_unit`` (points moved) and ``coarse`` (accepted but left as stand-ins).

    Examples
    --------
    Offline (``settings.allow_downloads`` off, the default; an empty cache) nothing is asked and every
    point keeps its location; the stand-in is counted as ``offline``:

    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> pts = gpd.GeoDataFrame(
    ...     {"point_id": ["P1", "P2"], "name": ["A", "B"],
    ...      "address": ["Số 2 phố Hà Cầu, phường Hà Đông", "1 Tràng Tiền"],
    ...      "location_precision": ["unit_representative_point", "surveyed"]},
    ...     geometry=[shapely.Point(105.778, 20.974), shapely.Point(105.855, 21.025)],
    ...     crs="EPSG:4326",
    ... )
    >>> out = geocode_points(pts, cache=pathlib.Path(tempfile.mkdtemp()) / "g.json")
    >>> out["location_precision"].tolist(), out.attrs["geocoding"]["offline"]
    (['unit_representative_point', 'surveyed'], 1)

    With downloads allowed, the whole scenario (a request a second, cached):

    >>> import pointplan
    >>> pointplan.settings.allow_downloads = True              # doctest: +SKIP
    >>> pts = geocode_points(pointplan.load_points())          # doctest: +SKIP
    """
    from pointplan.data import load_units
    from pointplan.points import assign_units

    ensure_gdf(points, "points")
    check_columns(points, ["address", "location_precision"], "points")
    check_geometries(points, "points", types=("Point",))
    units = load_units() if units is None else units
    UnitChecker(units)  # checks settings.projected_crs before any request
    out = points.copy()
    todo = is_stand_in(out["location_precision"]) if only_standins else ~out["location_precision"].isin(_KEEP)
    stats: dict[str, int] = {"geocoded": 0, "street_in_unit": 0, "place_in_unit": 0, "coarse": 0, "not_better": 0}
    if todo.any():
        sub = out[todo.to_numpy()]
        table = geocode_addresses(address_list(points=sub), units=units, service_url=service_url, cache=cache)
        stats.update(table.attrs["geocoding"])
        _apply_answers(out, sub.index, table, stats)
        if "unit_code" in out.columns and stats["geocoded"] + stats["street_in_unit"] + stats["place_in_unit"]:
            out["unit_code"] = assign_units(out, units).to_numpy()
    out.attrs = {**points.attrs, "geocoding": stats}
    return out


def _apply_answers(out: gpd.GeoDataFrame, index: pd.Index, table: pd.DataFrame, stats: dict[str, int]) -> None:
    """Move each point of ``index`` (in ``out``, in place) to its answer when better; count them."""
    for idx, rec in zip(index, table.itertuples(index=False), strict=True):
        precision = POINT_PRECISION.get(rec.match_precision) if rec.status == "accepted" else None
        if precision is None:
            stats["coarse"] += int(rec.status == "accepted")
            continue
        if not _better(precision, str(out.at[idx, "location_precision"])):
            stats["not_better"] += 1  # e.g. a village answer never replaces a stand-in on the named street
            continue
        geom = gpd.GeoSeries([shapely.Point(rec.lon, rec.lat)], crs=settings.geographic_crs).to_crs(out.crs)
        out.loc[[idx], "geometry"] = geom.values
        out.at[idx, "location_precision"] = precision
        if "source" in out.columns:
            out.at[idx, "source"] = f"{out.at[idx, 'source']}; geocoded ({rec.service}, {rec.match_precision})"
        stats[precision] += 1


def _better(new: str, current: str) -> bool:
    """Return True when precision ``new`` ranks above ``current`` (LOCATION_PRECISIONS is best first)."""
    from pointplan.points import LOCATION_PRECISIONS

    rank: dict[str, int] = {str(p): i for i, p in enumerate(LOCATION_PRECISIONS)}
    return rank.get(new, len(rank)) < rank.get(current, len(rank))


def _key(query: str) -> str:
    """Cache key of a free-text query in the cache format before checked answers (kept readable)."""
    import hashlib

    return hashlib.sha256(normalize_name(query).casefold().encode("utf-8")).hexdigest()[:20]


def geocode(query: str, *, cache: Path | None = None, service_url: str | None = None) -> tuple[float, float]:
    """Geocode one free-text address to the service's first answer, from the cache when possible.

    No unit check is made: use :func:`geocode_addresses` for checked answers.

    Parameters
    ----------
    query
        The address, e.g. ``"85 Dịch Vọng Hậu, Cầu Giấy, Hà Nội"``.
    cache
        The cache file (default :func:`pointplan.geocode.cache_path`).
    service_url
        The Nominatim service (default :data:`pointplan.settings.geocode_service_url`).

    Returns
    -------
    tuple of float
        Longitude and latitude (EPSG:4326).

    Raises
    ------
    InputError
        The address is empty.
    OfflineError
        The address is not cached and downloads are not allowed.
    GeocodingError
        The service found nothing (a cached answer), or kept failing (not cached).

    Examples
    --------
    >>> geocode("   ")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: geocode needs a non-empty address string, got '   '.
    """
    if not isinstance(query, str) or not query.strip():
        msg = f"geocode needs a non-empty address string, got {query!r}."
        raise InputError(msg)
    path = Path(cache) if cache is not None else cache_path()
    legacy = _load_cache(path).get(_key(query))
    if isinstance(legacy, dict) and "status" not in legacy and legacy.get("lon") is not None:
        return float(legacy["lon"]), float(legacy["lat"])  # an answer cached by pointplan ≤ 0.1
    client = NominatimClient(service_url, cache=path)
    answer = client.search({"q": normalize_address(query)})
    if not answer.found:
        msg = f"Geocoding {query!r} found nothing ({answer.service}, answer of {answer.date})."
        raise GeocodingError(msg)
    first = answer.results[0]
    return float(first["lon"]), float(first["lat"])
