"""Checking geocoder candidates: their precision, and whether they lie in the named unit.

A candidate is *accepted* only if it lies inside the polygon of the unit its address names
(or of one of the 2025 units an old ward was split into), or at most
:data:`pointplan.settings.geocode_edge_tolerance_m` (100 m by default) outside its edge:
a house across a boundary street, a street point drawn on the boundary itself. Its
precision comes from what the service says the answer is (``category``/``class``, ``type``,
``addresstype``, ``place_rank``), never from what was asked:

=========== ===================================================== ======================
precision   the answer is                                          point precision
=========== ===================================================== ======================
``house``   a building or an address point                         ``geocoded``
``poi``     a named site (amenity, office, shop…)                  ``geocoded``
``street``  a road or alley                                        ``street_in_unit``
``place``   a village, hamlet, neighbourhood, residential area     ``place_in_unit`` (a stand-in)
``area``    an administrative area or a larger place               (kept as a stand-in)
``other``   anything else                                          (kept as a stand-in)
=========== ===================================================== ======================

Examples
--------
>>> answer_precision({"category": "highway", "type": "residential", "place_rank": 26})
'street'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from pointplan import settings
from pointplan._validate import projected_crs

__all__ = [
    "GEOCODE_PRECISIONS",
    "POINT_PRECISION",
    "Candidate",
    "UnitChecker",
    "answer_precision",
    "choose",
    "to_candidate",
]

#: Precision of a geocoder answer, best first (see the module's table).
GEOCODE_PRECISIONS: tuple[str, ...] = ("house", "poi", "street", "place", "area", "other")

#: The points' ``location_precision`` an accepted answer of each precision gives; answers
#: coarser than a place (administrative areas) leave the stand-in in place until a person reviews them.
POINT_PRECISION: dict[str, str] = {
    "house": "geocoded",
    "poi": "geocoded",
    "street": "street_in_unit",
    "place": "place_in_unit",
}

_POI = frozenset(
    {"amenity", "office", "shop", "tourism", "leisure", "healthcare", "craft", "historic", "man_made", "club"}
)
_PLACES = frozenset(
    {"village", "hamlet", "neighbourhood", "quarter", "isolated_dwelling", "locality", "farm", "city_block", "plot"}
)
_AREAS = frozenset(
    {"suburb", "city", "town", "county", "state", "province", "district", "municipality", "borough", "region"}
)


def answer_precision(result: dict[str, Any]) -> str:
    """Return the precision of one Nominatim result (one of :data:`GEOCODE_PRECISIONS`).

    Parameters
    ----------
    result
        A result object of ``format=jsonv2`` (``category``) or ``json`` (``class``).

    Returns
    -------
    str
        ``house``, ``poi``, ``street``, ``place``, ``area`` or ``other``.

    Examples
    --------
    >>> answer_precision({"category": "building", "type": "yes"})
    'house'
    >>> answer_precision({"category": "place", "type": "village", "addresstype": "village"})
    'place'
    >>> answer_precision({"class": "amenity", "type": "townhall"})
    'poi'
    >>> answer_precision({"category": "boundary", "type": "administrative"})
    'area'
    """
    category = str(result.get("category") or result.get("class") or "")
    kind = str(result.get("type") or "")
    address_type = str(result.get("addresstype") or "")
    if category == "building" or kind in ("house", "building") or address_type in ("house", "building"):
        return "house"
    if category == "highway" or address_type == "road":
        return "street"
    if category in _POI:
        return "poi"
    if (category == "place" and kind in _PLACES) or address_type in _PLACES:
        return "place"
    if category == "landuse" and kind == "residential":
        return "place"
    if category == "boundary" or kind in _AREAS or address_type in _AREAS:
        return "area"
    return _precision_from_rank(result.get("place_rank"))


def _precision_from_rank(rank: object) -> str:
    """Nominatim's search rank when the class says nothing (30 = address, 26–27 = street)."""
    try:
        value = int(str(rank))
    except ValueError:
        return "other"
    if value >= 30:
        return "house"
    if value >= 26:
        return "street"
    if value >= 19:
        return "place"
    return "area"


@dataclass(frozen=True)
class Candidate:
    """One candidate answer for an address, and the result of its unit check.

    Attributes
    ----------
    lon, lat
        Coordinates (EPSG:4326).
    precision
        One of :data:`GEOCODE_PRECISIONS`.
    label
        The service's ``display_name``.
    kind
        ``category/type`` as the service gave them.
    osm
        The OpenStreetMap object (``N123``, ``W456``, ``R789``) or ``""``.
    inside
        True when accepted by the unit check (``None`` before the check).
    distance_m
        Metres from the nearest allowed unit (0 inside it).
    in_unit
        The code of the unit the candidate lies in (``None`` outside Hanoi).

    Examples
    --------
    >>> Candidate(105.85, 21.03, "house", "1 Hàng Trống", "building/yes").inside is None
    True
    """

    lon: float
    lat: float
    precision: str
    label: str
    kind: str
    osm: str = ""
    inside: bool | None = None
    distance_m: float | None = None
    in_unit: str | None = None


def to_candidate(result: dict[str, Any]) -> Candidate:
    """Turn a Nominatim result into a :class:`Candidate` (not yet checked).

    Examples
    --------
    >>> c = to_candidate({"lat": "21.03", "lon": "105.85", "category": "highway", "type": "primary",
    ...                   "display_name": "Hàng Trống", "osm_type": "way", "osm_id": 7})
    >>> c.precision, c.osm, c.lon
    ('street', 'W7', 105.85)
    """
    osm_type = str(result.get("osm_type") or "")[:1].upper()
    osm = f"{osm_type}{result['osm_id']}" if osm_type and result.get("osm_id") is not None else ""
    category = result.get("category") or result.get("class") or ""
    return Candidate(
        lon=float(result["lon"]),
        lat=float(result["lat"]),
        precision=answer_precision(result),
        label=str(result.get("display_name") or result.get("name") or ""),
        kind=f"{category}/{result.get('type') or ''}",
        osm=osm,
    )


class UnitChecker:
    """Check points against unit polygons, in :data:`pointplan.settings.projected_crs`.

    Parameters
    ----------
    units
        Unit polygons indexed by code, with ``full_name`` (or ``name``) and a CRS.
    tolerance_m
        Metres a point may lie outside its unit's edge (default
        :data:`pointplan.settings.geocode_edge_tolerance_m`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> units = gpd.GeoDataFrame({"full_name": ["Phường A"]}, index=["00001"],
    ...     geometry=[shapely.box(585000, 2325000, 587000, 2327000)], crs="EPSG:32648")
    >>> chk = UnitChecker(units, tolerance_m=100)
    >>> lon, lat = chk.to_lonlat(587050, 2326000)   # 50 m east of the edge
    >>> c = chk.check(Candidate(lon, lat, "house", "", ""), ("00001",))
    >>> c.inside, round(c.distance_m), c.in_unit
    (True, 50, None)
    """

    def __init__(self, units: gpd.GeoDataFrame, tolerance_m: float | None = None) -> None:
        crs = projected_crs()
        proj = units.geometry.to_crs(crs)
        self.codes = [str(c) for c in units.index]
        self.geoms = dict(zip(self.codes, proj.values, strict=True))
        names = units["full_name"] if "full_name" in units.columns else units.get("name", units.index.to_series())
        self.names = {str(c): str(n) for c, n in zip(units.index, names, strict=True)}
        self.tree = shapely.STRtree(proj.values)
        self.tolerance_m = float(settings.geocode_edge_tolerance_m if tolerance_m is None else tolerance_m)
        self._fwd = pyproj.Transformer.from_crs(settings.geographic_crs, crs, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(crs, settings.geographic_crs, always_xy=True)

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Project (x, y) metres back to (lon, lat)."""
        lon, lat = self._inv.transform(x, y)
        return float(lon), float(lat)

    def name(self, code: str) -> str:
        """Return the unit's full name, or the code if unknown."""
        return self.names.get(code, code)

    def locate(self, lon: float, lat: float) -> str | None:
        """Return the code of the unit a point lies in (lowest code on a border), or None."""
        x, y = self._fwd.transform(lon, lat)
        hits = self.tree.query(shapely.Point(x, y), predicate="intersects")
        return min((self.codes[i] for i in hits), default=None)

    def distance_m(self, lon: float, lat: float, codes: tuple[str, ...]) -> float:
        """Metres from a point to the nearest of the given units (0 inside)."""
        x, y = self._fwd.transform(lon, lat)
        if not (np.isfinite(x) and np.isfinite(y)):
            return float("inf")
        pt = shapely.Point(x, y)
        return min(float(self.geoms[c].distance(pt)) for c in codes)

    def check(self, candidate: Candidate, codes: tuple[str, ...]) -> Candidate:
        """Return the candidate with ``inside``, ``distance_m`` and ``in_unit`` filled."""
        dist = self.distance_m(candidate.lon, candidate.lat, codes)
        return replace(
            candidate,
            inside=dist <= self.tolerance_m,
            distance_m=dist,
            in_unit=self.locate(candidate.lon, candidate.lat),
        )

    def verdict(self, candidate: Candidate, codes: tuple[str, ...]) -> str:
        """Describe in a short sentence where a checked candidate lies relative to its unit(s)."""
        want = " / ".join(self.name(c) for c in codes)
        where = self.name(candidate.in_unit) if candidate.in_unit else "outside Hà Nội"
        dist = candidate.distance_m or 0.0
        if dist == 0.0:
            return f"inside {want}"
        if candidate.inside:
            return f"{dist:.0f} m outside {want} (within the {self.tolerance_m:.0f} m tolerance; in {where})"
        return f"{dist / 1000:.1f} km outside {want} (in {where})"


def choose(candidates: list[Candidate]) -> int | None:
    """Return the index of the best accepted candidate, or ``None`` if none is accepted.

    The most precise accepted candidate wins (:data:`GEOCODE_PRECISIONS` order); among equals
    the service's own ranking (list order) decides.

    Examples
    --------
    >>> a = Candidate(105.8, 21.0, "street", "", "", inside=True)
    >>> b = Candidate(105.8, 21.0, "house", "", "", inside=False)
    >>> c = Candidate(105.8, 21.0, "house", "", "", inside=True)
    >>> choose([a, b, c]), choose([b])
    (2, None)
    """
    accepted = [i for i, c in enumerate(candidates) if c.inside]
    if not accepted:
        return None
    return min(accepted, key=lambda i: (GEOCODE_PRECISIONS.index(candidates[i].precision), i))
