"""Candidate sites from real places: hospitals, clinics, post offices, planned sites, yours.

A planner chooses among buildings, not grid cells. This module turns the places shipped with
pointplan (and the user's own file) into named, typed and precision-flagged candidate sites:

``hospital`` / ``clinic``
    OpenStreetMap ``amenity=hospital`` features (``data/poi/hanoi_osm_hospitals_2024-09.geojson``)
    at their mapped coordinates (``location_precision="osm_mapped"``: the position mapped in OSM,
    a building or its centre). Features outside the 126 units are left out and reported. A
    commune health station (*trạm y tế*), a *phòng khám* or an OSM ``clinic`` tag is a clinic.
``post_office``
    VNPost offices (``data/poi/hanoi_vnpost_offices_pre2025.csv``) have addresses only. An
    office is placed on the street its address names when the road network has a street of
    that name inside the office's 2025 unit (``street_in_unit``, the street is recorded), at
    the point of that street nearest to the unit's stand-in; otherwise at the unit's stand-in
    (its precision; a stand-in that sits on the *head office's* street is flagged
    ``unit_representative_point`` for a post office, because it is not the office's street).
    The old ward's reference point in the file is never used as the office's location.
``planned_site``
    The planned kiosks in malls and the urban-area community point of
    ``tables/hanoi_2025_sites.csv``: a street match when the address names a street of the
    unit, else the reference point of the old ward the table names (``old_unit_reference``).
``user``
    The user's own file (any format :func:`pointplan.candidates.read_candidates` reads, with a
    ``name`` column); precision from its ``location_precision`` column, else ``unknown``.

Problems are reported by row, never fatal: a file with no names, rows without a name,
duplicate sites (same name within :data:`DUPLICATE_M`, or the same address in the same unit),
sites outside the city, addresses that match no street. The report is a DataFrame with the
columns :data:`REPORT_COLUMNS`.

Matching streets needs the inner-city road network (about 6 s to read), so the located post
offices and planned sites are shipped as a package table (``tables/located_sites.csv``) that
:func:`real_sites` reads; :func:`locate_address_sites` recomputes it (``python -m
pointplan.locate.sites`` rewrites it) and a test checks a few rows.

:func:`constraint_cost` states what choosing a real building costs against the best
unconstrained spot (see its Notes for the method).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._address import match_street_key, parse_street_address
from pointplan._errors import InputError
from pointplan._text import name_key, normalize_name
from pointplan._validate import projected_crs

__all__ = [
    "DUPLICATE_M",
    "LOCAL_SPOTS",
    "NEARBY_M",
    "NO_BUILDING_M",
    "REPORT_COLUMNS",
    "SITE_COLUMNS",
    "SITE_KINDS",
    "constraint_cost",
    "hospital_sites",
    "locate_address_sites",
    "match_street",
    "post_office_rows",
    "read_user_sites",
    "real_sites",
    "sites_to_candidates",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Kinds of real candidate site.
SITE_KINDS: tuple[str, ...] = ("hospital", "clinic", "post_office", "planned_site", "user")
#: Columns of a sites frame (plus ``geometry``, EPSG:4326).
SITE_COLUMNS: tuple[str, ...] = (
    "site_id",
    "name",
    "site_kind",
    "address",
    "unit_code",
    "source",
    "location_precision",
    "located_by",
    "matched_street",
)
#: Columns of the report of problems, one row per input row with a problem.
REPORT_COLUMNS: tuple[str, ...] = ("source", "row", "site_id", "name", "issue", "detail", "action")
#: Two sites with the same name closer than this (m) are one site.
DUPLICATE_M = 150.0
#: The report says where the best unconstrained location has no real site within this (m).
NO_BUILDING_M = 1000.0
#: Unconstrained spots within this distance (m) of a real proposal are tried in its place.
NEARBY_M = 3000.0
#: At most this many spots (the nearest) are tried for each real proposal.
LOCAL_SPOTS = 8
#: File name of the shipped located post offices and planned sites (package table).
LOCATED_TABLE = "located_sites.csv"

_CLINIC = re.compile(r"\b(?:trạm y tế|phòng khám|tram y te|phong kham|clinic)\b", re.IGNORECASE)
_NAME_COLS = ("name", "ten", "tên", "site_name", "ten_diem", "tên điểm")
_ADDRESS_COLS = ("address", "dia_chi", "địa chỉ", "detailaddress")


def _empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in SITE_COLUMNS}, geometry=[], crs=settings.geographic_crs)


def _report(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(REPORT_COLUMNS))
    df["row"] = df["row"].astype("Int64")
    return df


def _issue(source: str, row: int, site_id: str, name: Any, issue: str, detail: str, action: str) -> dict[str, Any]:
    name_s = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    return {
        "source": source,
        "row": row,
        "site_id": site_id,
        "name": name_s,
        "issue": issue,
        "detail": detail,
        "action": action,
    }


def _find_col(columns: pd.Index, names: Sequence[str]) -> str | None:
    lower = {str(c).strip().lower(): str(c) for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip()


# --------------------------------------------------------------------------------------
# Checks shared by every source
# --------------------------------------------------------------------------------------
def _drop_unnamed(sites: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """Drop rows without a name (reported: a site must be named to be proposed)."""
    blank = sites["name"].map(_blank).to_numpy(dtype=bool)
    rows = [
        _issue(source, int(r), str(i), "", "no_name", "the row has no name", "dropped")
        for r, i in zip(sites.loc[blank, "_row"], sites.loc[blank, "site_id"], strict=True)
    ]
    return sites.loc[~blank], rows


def _drop_outside(
    sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame, source: str
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """Give each site its unit; drop (and report) those in no unit of the city."""
    from pointplan.points import assign_units

    if sites.empty:
        return sites, []
    code = assign_units(sites, units)
    out = code.isna().to_numpy()
    rows = [
        _issue(source, int(r), str(i), n, "outside_city", "not inside any of the units studied", "dropped")
        for r, i, n in zip(sites.loc[out, "_row"], sites.loc[out, "site_id"], sites.loc[out, "name"], strict=True)
    ]
    sites = sites.copy()
    given = sites["unit_code"].where(sites["unit_code"].map(lambda v: not _blank(v)), None)
    sites["unit_code"] = given.where(given.notna(), code)
    return sites.loc[~out], rows


def _why_duplicate(addr: str, first_addr: str) -> str:
    return "same address and unit" if addr and addr == first_addr else f"same name within {DUPLICATE_M:.0f} m"


def _drop_duplicates(sites: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """Keep the first of sites with the same name within DUPLICATE_M, or the same address and unit.

    Examples
    --------
    >>> import geopandas as gpd
    >>> s = gpd.GeoDataFrame({"site_id": ["a", "b", "c"], "name": ["BV X", "bv x", "BV X"],
    ...     "address": ["", "", ""], "unit_code": ["1", "1", "1"], "_row": [1, 2, 3]},
    ...     geometry=gpd.points_from_xy([105.80, 105.8005, 105.85], [21.0, 21.0, 21.0]), crs=4326)
    >>> kept, rows = _drop_duplicates(s, "test")
    >>> kept["site_id"].tolist(), [r["row"] for r in rows]
    (['a', 'c'], [2])
    """
    if len(sites) < 2:
        return sites, []
    xy = np.column_stack([sites.to_crs(projected_crs()).geometry.x, sites.to_crs(projected_crs()).geometry.y])
    names = sites["name"].map(lambda v: name_key(str(v))).to_numpy()
    addr = sites["address"].fillna("").map(lambda v: name_key(str(v))).to_numpy()
    units = sites["unit_code"].astype(str).to_numpy()
    ids = sites["site_id"].astype(str).to_numpy()
    dup_of = np.full(len(sites), -1)
    for i, j in sorted(cKDTree(xy).query_pairs(DUPLICATE_M)):
        if names[i] == names[j] and dup_of[j] < 0 and dup_of[i] < 0:
            dup_of[j] = i
    seen: dict[tuple[str, str], int] = {}
    for j in range(len(sites)):
        if dup_of[j] >= 0 or not addr[j]:
            continue
        first = seen.setdefault((addr[j], units[j]), j)
        if first != j:
            dup_of[j] = first
    dup = dup_of >= 0
    rows = [
        _issue(
            source,
            int(sites["_row"].iloc[j]),
            ids[j],
            sites["name"].iloc[j],
            "duplicate",
            f"same site as {ids[dup_of[j]]} ({_why_duplicate(addr[j], addr[dup_of[j]])})",
            "dropped",
        )
        for j in np.flatnonzero(dup)
    ]
    return sites.loc[~dup], rows


def _finish(sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Apply the shared checks (name, inside the city, duplicates) and order the columns."""
    report: list[dict[str, Any]] = []
    for step in (_drop_unnamed, lambda s, src: _drop_outside(s, units, src), _drop_duplicates):
        sites, rows = step(sites, source)
        report += rows
    out = gpd.GeoDataFrame(sites[[*SITE_COLUMNS, "geometry"]], geometry="geometry", crs=settings.geographic_crs)
    return out.reset_index(drop=True), _report(report)


# --------------------------------------------------------------------------------------
# Hospitals and clinics (coordinates)
# --------------------------------------------------------------------------------------
def hospital_sites(
    path: str | Path | None = None, units: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Return the hospitals and clinics of an OSM POI file that lie in the units, and a report.

    Parameters
    ----------
    path
        A GeoJSON (or any vector file) of points with OSM tags (``name``, ``amenity``,
        ``healthcare``, ``addr:street``...); default the shipped
        ``poi/hanoi_osm_hospitals_2024-09.geojson``.
    units
        Unit polygons indexed by code (default :func:`pointplan.load_units`).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Sites with :data:`SITE_COLUMNS` (``site_kind`` ``hospital`` or ``clinic``, precision
        ``surveyed``, EPSG:4326) and the report of dropped rows (no name, outside the city,
        duplicate). A file without any name column reports every row and returns no site.

    Examples
    --------
    >>> import json, tempfile, pathlib, geopandas as gpd, shapely, pandas as pd
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(105.8, 21.0, 105.9, 21.1)],
    ...                          index=pd.Index(["00001"], name="code"), crs=4326)
    >>> feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": xy},
    ...           "properties": {"name": n, "osm_type": "node", "osm_id": i}}
    ...          for i, (n, xy) in enumerate([("Bệnh viện A", [105.85, 21.05]),
    ...              ("Trạm y tế B", [105.86, 21.05]), ("Bệnh viện C", [106.5, 21.0])])]
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.geojson"
    >>> _ = p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    >>> sites, report = hospital_sites(p, units)
    >>> sites[["name", "site_kind", "unit_code"]].values.tolist()
    [['Bệnh viện A', 'hospital', '00001'], ['Trạm y tế B', 'clinic', '00001']]
    >>> report[["row", "issue"]].values.tolist()
    [[3, 'outside_city']]
    """
    from pointplan.data import data_file, load_units

    units = load_units() if units is None else units
    p = Path(path) if path is not None else data_file("poi_hospitals")
    source = p.name
    raw = gpd.read_file(p).to_crs(settings.geographic_crs)
    raw = raw[~(raw.geometry.isna() | raw.geometry.is_empty)]
    if not (raw.geom_type == "Point").all():
        raw = raw.set_geometry(raw.to_crs(projected_crs()).geometry.representative_point().to_crs(raw.crs))
    name_col = _find_col(raw.columns, ("name:vi", *_NAME_COLS))
    if name_col is None:
        rows = [
            _issue(source, i + 1, "", "", "no_name", f"{source} has no name column; add 'name'", "dropped")
            for i in range(len(raw))
        ]
        return _empty_sites(), _report(rows)
    names = raw[name_col].where(raw[name_col].notna(), raw.get("name"))
    osm = raw.get("osm_type", pd.Series("node", index=raw.index)).astype(str)
    ids = raw.get("osm_id", pd.Series(range(len(raw)), index=raw.index)).astype(str)
    tags = (
        raw.get("healthcare", pd.Series("", index=raw.index)).fillna("").astype(str)
        + " "
        + raw.get("amenity", pd.Series("", index=raw.index)).fillna("").astype(str)
    )
    clinic = names.fillna("").astype(str).str.contains(_CLINIC) | tags.str.contains("clinic")
    street = raw.get("addr:street", pd.Series(None, index=raw.index))
    house = raw.get("addr:housenumber", pd.Series(None, index=raw.index))
    address = [" ".join(str(v) for v in (h, s) if not _blank(v)) for h, s in zip(house, street, strict=True)]
    sites = gpd.GeoDataFrame(
        {
            "site_id": ("osm-" + osm + "-" + ids).to_numpy(),
            "name": names.map(lambda v: None if _blank(v) else normalize_name(str(v))).to_numpy(),
            "site_kind": np.where(clinic, "clinic", "hospital"),
            "address": address,
            "unit_code": None,
            "source": "OpenStreetMap (" + source + ")",
            "location_precision": "osm_mapped",
            "located_by": "osm_coordinates",
            "matched_street": "",
            "_row": np.arange(1, len(raw) + 1),
        },
        geometry=raw.geometry.to_numpy(),
        crs=settings.geographic_crs,
    )
    return _finish(sites, units, source)


# --------------------------------------------------------------------------------------
# Addresses: street match inside the unit
# --------------------------------------------------------------------------------------
def match_street(address: str, street_keys: Iterable[str]) -> str | None:
    """Return the longest street key that the address names, or ``None``.

    The street is read with the address grammar (:func:`pointplan._address.parse_street_address`,
    the same reading as stand-ins and geocoding); the longest key it starts with (whole
    words) is the match. An address naming an area ("khu", "KĐT", "thôn", "lô"...) names no
    street.

    Parameters
    ----------
    address
        An address, e.g. ``"Số 51 Vũ Trọng Phụng Thanh Xuân"``.
    street_keys
        Comparable street names (:func:`pointplan.standins.street_edges` ``street_key``).

    Returns
    -------
    str or None
        The matched key.

    Examples
    --------
    >>> keys = ["vũ trọng phụng", "thanh xuân", "đội cấn", "cấn", "minh khai", "đại thanh"]
    >>> match_street("Số 51 Vũ Trọng Phụng Thanh Xuân", keys)
    'vũ trọng phụng'
    >>> match_street("218 Đội Cấn, Ba Đình", keys)
    'đội cấn'
    >>> match_street("Times City, 458 Minh Khai, phường Vĩnh Tuy", keys)
    'minh khai'
    >>> match_street("Khu đô thị Đại Thanh, xã Đại Thanh", keys) is None
    True
    >>> match_street("Số 04 Quang Trung Phường Thanh Xuân", keys) is None
    True
    """
    return match_street_key(parse_street_address(address).street, street_keys)


class _UnitStreets:
    """Named street pieces clipped to a unit (projected), computed once per unit on demand."""

    def __init__(self, units_p: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> None:
        self.units_p, self.streets = units_p, streets
        self.tree = shapely.STRtree(np.asarray(streets.geometry.values)) if len(streets) else None
        self.cache: dict[str, gpd.GeoDataFrame | None] = {}

    def get(self, code: str) -> gpd.GeoDataFrame | None:
        if code not in self.cache:
            part = None
            if self.tree is not None and code in self.units_p.index:
                geom = self.units_p.geometry.loc[code]
                idx = self.tree.query(geom, predicate="intersects")
                part = self.streets.iloc[idx].copy()
                part["geometry"] = part.geometry.intersection(geom)
                part = part[~part.geometry.is_empty & (part.geometry.length > 0)]
            self.cache[code] = part
        return self.cache[code]


def _street_point(
    address: str, pieces: gpd.GeoDataFrame | None, anchor: shapely.Point
) -> tuple[shapely.Point, str] | None:
    """Return the point of the street the address names (inside the unit) nearest the anchor."""
    if pieces is None or pieces.empty:
        return None
    key = match_street(address, pieces["street_key"].unique())
    if key is None:
        return None
    lines = pieces[pieces["street_key"] == key]
    geom = shapely.union_all(np.asarray(lines.geometry.values))
    return shapely.ops.nearest_points(geom, anchor)[0], str(lines["name"].iloc[0])


def _anchors(units: gpd.GeoDataFrame, standins: pd.DataFrame | None) -> tuple[gpd.GeoSeries, pd.Series]:
    """Each unit's stand-in (projected) and its precision; a point inside the unit if none."""
    from pointplan.standins import load_standins

    table = load_standins() if standins is None else standins
    units_p = units.to_crs(projected_crs())
    pts = gpd.GeoSeries(
        shapely.point_on_surface(np.asarray(units_p.geometry.values)), index=units.index, crs=units_p.crs
    )
    prec = pd.Series("unit_representative_point", index=units.index, dtype=object)
    hit = units.index.intersection(table.index)
    if len(hit):
        t = table.loc[hit]
        pts.loc[hit] = gpd.GeoSeries(gpd.points_from_xy(t["lon"], t["lat"]), index=hit, crs=4326).to_crs(units_p.crs)
        prec.loc[hit] = t["location_precision"].astype(str)
    return pts, prec


def _locate_one(
    row: pd.Series, pieces: gpd.GeoDataFrame | None, anchor: shapely.Point, anchor_prec: str
) -> tuple[shapely.Point, dict[str, Any]]:
    """Locate one address row: the named street in its unit, else its fallback point, else the stand-in."""
    hit = _street_point(str(row["address"]), pieces, anchor)
    if hit is not None:
        return hit[0], {"location_precision": "street_in_unit", "located_by": "street_match", "matched_street": hit[1]}
    if not _blank(row.get("fallback_lon")):
        xy = gpd.GeoSeries(gpd.points_from_xy([float(row["fallback_lon"])], [float(row["fallback_lat"])]), crs=4326)
        return xy.to_crs(projected_crs()).iloc[0], {
            "location_precision": "old_unit_reference",
            "located_by": "old_unit_reference",
            "matched_street": "",
            "issue": "no_street_match",
            "detail": "the address names no street of the road network inside the unit",
            "action": "kept at the reference point of the old ward (old_unit_reference)",
        }
    # A stand-in on the head office's street is not on the post office's street.
    prec = "unit_representative_point" if anchor_prec == "street_in_unit" else anchor_prec
    return anchor, {
        "location_precision": prec,
        "located_by": "unit_standin",
        "matched_street": "",
        "issue": "no_street_match",
        "detail": "the address names no street of the road network inside the unit",
        "action": f"kept at the unit's stand-in ({prec})",
    }


def locate_address_sites(
    rows: pd.DataFrame,
    units: gpd.GeoDataFrame,
    *,
    network: str | Path | object | None = None,
    standins: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Locate sites known by address: the named street inside their unit, else a stand-in.

    Parameters
    ----------
    rows
        ``site_id``, ``name``, ``site_kind``, ``address``, ``unit_code``, ``source`` and
        optionally ``fallback_lon``/``fallback_lat`` (a better point than the unit's stand-in
        when no street matches, e.g. the old ward of a planned site) and ``_row``.
    units
        Unit polygons indexed by code, with a CRS.
    network
        Road network (file or graph) whose named streets are matched; ``None``: no match.
    standins
        Unit stand-ins (``lon``, ``lat``, ``location_precision`` by code; default the shipped
        :func:`pointplan.standins.load_standins`). A street match takes the point of the
        street nearest the stand-in.

    Returns
    -------
    pandas.DataFrame
        The rows with ``lon``, ``lat`` (empty when not located), ``location_precision``,
        ``located_by``, ``matched_street`` and ``issue``/``detail``/``action`` (empty when
        nothing to report): a row without a unit is ``no_unit`` (not located).

    Examples
    --------
    >>> import networkx as nx, geopandas as gpd, shapely, pandas as pd
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(585000, 2325000, 586000, 2326000)],
    ...                          index=pd.Index(["00001"], name="code"), crs=32648)
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=585100.0, y=2325900.0); G.add_node(2, x=585900.0, y=2325900.0)
    >>> _ = G.add_edge(1, 2, name="Phố Hàng Trống", highway="residential")
    >>> st = pd.DataFrame({"lon": [105.8], "lat": [21.0], "location_precision": ["unit_population_centre"]},
    ...                   index=["00001"])
    >>> st[["lon", "lat"]] = gpd.GeoSeries(gpd.points_from_xy([585500], [2325500]), crs=32648).to_crs(4326
    ...     ).get_coordinates().to_numpy()
    >>> rows = pd.DataFrame({"site_id": ["a", "b"], "name": ["BC A", "BC B"], "site_kind": "post_office",
    ...     "address": ["12 Hàng Trống", "Thôn Đông"], "unit_code": "00001", "source": "t"})
    >>> out = locate_address_sites(rows, units, network=G, standins=st)
    >>> out[["location_precision", "matched_street", "issue"]].values.tolist()
    [['street_in_unit', 'Phố Hàng Trống', ''], ['unit_population_centre', '', 'no_street_match']]
    >>> xy = gpd.GeoSeries(gpd.points_from_xy(out["lon"], out["lat"]), crs=4326).to_crs(32648)
    >>> [(round(p.x), round(p.y)) for p in xy]
    [(585500, 2325900), (585500, 2325500)]
    """
    from pointplan.standins import street_edges

    units_p = units.to_crs(projected_crs())
    streets = street_edges(network) if network is not None else gpd.GeoDataFrame(geometry=[], crs=projected_crs())
    pieces = _UnitStreets(units_p, streets)
    anchors, anchor_prec = _anchors(units, standins)
    out = rows.copy().reset_index(drop=True)
    for col in ("lon", "lat"):
        out[col] = np.nan
    for col in ("location_precision", "located_by", "matched_street", "issue", "detail", "action"):
        out[col] = ""
    for i, row in out.iterrows():
        code = "" if _blank(row["unit_code"]) else str(row["unit_code"]).zfill(5)
        if code not in units.index:
            out.loc[i, ["issue", "detail", "action"]] = [
                "no_unit",
                f"no 2025 unit is known for this address (unit code {code or 'missing'})",
                "dropped",
            ]
            continue
        out.loc[i, "unit_code"] = code
        pt, info = _locate_one(row, pieces.get(code), anchors[code], str(anchor_prec[code]))
        if info.get("issue") == "no_street_match":
            for alt in str(row.get("other_units") or "").split(";"):
                hit = _street_point(str(row["address"]), pieces.get(alt), anchors[alt]) if alt in units.index else None
                if hit is not None:
                    pt, info = (
                        hit[0],
                        {
                            "location_precision": "street_in_unit",
                            "located_by": "street_match",
                            "matched_street": hit[1],
                            "issue": "unit_changed",
                            "detail": f"the street is in unit {alt}, which also took part of the old ward (not {code})",
                            "action": f"kept in unit {alt}",
                        },
                    )
                    out.loc[i, "unit_code"] = alt
                    break
        lonlat = gpd.GeoSeries([pt], crs=projected_crs()).to_crs(settings.geographic_crs).iloc[0]
        out.loc[i, ["lon", "lat"]] = [round(lonlat.x, 6), round(lonlat.y, 6)]
        for k, v in info.items():
            out.loc[i, k] = v
    return out


def _other_units(df: pd.DataFrame, unit: Any) -> list[str]:
    """Return the other 2025 units that took part of each row's old ward (``;``-joined)."""
    from pointplan.data import load_old_to_new

    if not {"ward", "district"} <= set(df.columns):
        return [""] * len(df)
    m = load_old_to_new()
    key = m["old_ward"].map(name_key) + "|" + m["old_district"].map(name_key)
    by = pd.Series(m["new_ward_code"].astype(str).str.zfill(5).to_numpy(), index=key).groupby(level=0).agg(list)
    units = pd.Series(unit, index=df.index) if not isinstance(unit, pd.Series) else unit
    out = []
    for w, d, u in zip(df["ward"], df["district"], units, strict=True):
        codes = by.get(name_key(str(w)) + "|" + name_key(str(d)), [])
        out.append(";".join(dict.fromkeys(c for c in codes if c != u)))
    return out


def post_office_rows(path: str | Path | None = None) -> pd.DataFrame:
    r"""Read a post-office list (addresses only) into rows for :func:`locate_address_sites`.

    Parameters
    ----------
    path
        A CSV with ``name``, ``detailAddress`` (or ``address``) and ``new_unit_code`` (the
        2025 unit); default the shipped ``poi/hanoi_vnpost_offices_pre2025.csv``. The old
        ward's reference coordinates in that file are not read: they are not the office's
        location.

    Returns
    -------
    pandas.DataFrame
        ``site_id`` (``vnpost-<id>``), ``name`` ("Bưu cục <name>"; empty when the file has no
        name), ``site_kind`` (``post_office``), ``address``, ``unit_code``, ``source``, ``_row``.

    Examples
    --------
    >>> import io
    >>> csv = io.StringIO("id,name,detailAddress,ward,new_unit_code\n7,Quốc Tế,6 Đinh Lễ,Tràng Tiền,82\n")
    >>> post_office_rows(csv)[["site_id", "name", "address", "unit_code"]].values.tolist()
    [['vnpost-7', 'Bưu cục Quốc Tế', '6 Đinh Lễ, Tràng Tiền', '00082']]
    """
    from pointplan.data import data_file

    src = path if path is not None else data_file("poi_vnpost")
    label = Path(str(src)).name if isinstance(src, (str, Path)) else "post offices"
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8")
    name_col = _find_col(df.columns, _NAME_COLS)
    addr_col = _find_col(df.columns, _ADDRESS_COLS)
    ids = df["id"] if "id" in df.columns else pd.Series(range(1, len(df) + 1), index=df.index).astype(str)
    names = df[name_col].map(lambda v: "" if _blank(v) else "Bưu cục " + normalize_name(v)) if name_col else ""
    address = df[addr_col].map(normalize_name) if addr_col else pd.Series("", index=df.index)
    if "ward" in df.columns:  # the old ward helps a reader find the office
        ward = df["ward"].map(normalize_name)
        add = np.array(
            [bool(w) and name_key(w) not in name_key(a) for a, w in zip(address, ward, strict=True)], dtype=bool
        )
        address = address.where(~add, address + ", " + ward)
    unit = df["new_unit_code"].map(lambda v: "" if _blank(v) else str(v).zfill(5)) if "new_unit_code" in df else ""
    return pd.DataFrame(
        {
            "other_units": _other_units(df, unit),
            "site_id": "vnpost-" + ids.astype(str),
            "name": names,
            "site_kind": "post_office",
            "address": address,
            "unit_code": unit,
            "source": f"VNPost ({label})",
            "_row": np.arange(1, len(df) + 1),
        }
    )


def _planned_rows() -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Return the planned kiosks (malls) and the urban-area community point of the sites table."""
    from pointplan.data import old_unit_reference
    from pointplan.standins import read_package_table as _table

    t = _table("hanoi_2025_sites.csv")
    t = t[t["kind"].isin(("kiosk", "community"))].reset_index(drop=True)
    report = [
        _issue(
            "hanoi_2025_sites.csv",
            int(i) + 1,
            r["point_id"],
            r["name"],
            "no_location",
            r["notes"] or "no address",
            "dropped",
        )
        for i, r in t.iterrows()
        if r.locate_by == "missing"
    ]
    t = t[t["locate_by"] != "missing"]
    ref = [
        old_unit_reference(w, d) if lb == "old_unit" else (np.nan, np.nan)
        for w, d, lb in zip(t["old_ward"], t["old_district"], t["locate_by"], strict=True)
    ]
    rows = pd.DataFrame(
        {
            "site_id": "plan-" + t["point_id"],
            "name": t["name"].map(normalize_name),
            "site_kind": "planned_site",
            "address": t["address"].map(normalize_name),
            "unit_code": t["declared_unit_code"],
            "source": t["source"],
            "fallback_lon": [x for x, _ in ref],
            "fallback_lat": [y for _, y in ref],
            "_row": t.index + 1,
        }
    )
    return rows, report


def compute_located_sites(network: str | Path | object | None = None) -> pd.DataFrame:
    """Locate the shipped post offices and planned sites (the package table's content).

    Parameters
    ----------
    network
        Road network (default the shipped inner-city drive network, about 6 s to read).

    Returns
    -------
    pandas.DataFrame
        One row per input row (post offices, then planned sites): the columns of
        :func:`locate_address_sites` with ``row`` (line in its source) instead of ``_row``.

    Examples
    --------
    Reads the inner-city road network (about a minute in all):

    >>> t = compute_located_sites()  # doctest: +SKIP
    >>> t["location_precision"].value_counts()["street_in_unit"]  # doctest: +SKIP
    42
    """
    from pointplan.data import data_file, load_units

    units = load_units()
    net = data_file("osm_inner_drive") if network is None else network
    planned, planned_report = _planned_rows()
    located = locate_address_sites(pd.concat([post_office_rows(), planned], ignore_index=True), units, network=net)
    missing = pd.DataFrame(
        [
            {
                **{k: r[k] for k in ("site_id", "name", "issue", "detail", "action")},
                "row": r["row"],
                "site_kind": "planned_site",
                "source": "hanoi_2025_sites.csv",
            }
            for r in planned_report
        ]
    )
    out = pd.concat([located, missing], ignore_index=True)
    out["row"] = out["_row"].fillna(out.get("row")).astype(int)
    cols = [*[c for c in SITE_COLUMNS if c != "geometry"], "lon", "lat", "issue", "detail", "action", "row"]
    return out[cols].fillna({"location_precision": "", "located_by": "", "matched_street": "", "address": ""})


def write_located_table(path: str | Path | None = None) -> Path:
    """Recompute the located post offices and planned sites and write the package table.

    Parameters
    ----------
    path
        Where to write (default the package's ``tables/located_sites.csv``).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> write_located_table("/tmp/located_sites.csv")  # doctest: +SKIP
    PosixPath('/tmp/located_sites.csv')
    """
    target = Path(path) if path is not None else Path(__file__).resolve().parents[1] / "tables" / LOCATED_TABLE
    compute_located_sites().to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
    return target


def load_located_table() -> pd.DataFrame:
    """Read the shipped located post offices and planned sites.

    Returns
    -------
    pandas.DataFrame
        The table written by :func:`write_located_table` (codes as strings).

    Examples
    --------
    >>> t = load_located_table()
    >>> sorted(t["site_kind"].unique())
    ['planned_site', 'post_office']
    """
    ref = resources.files("pointplan") / "tables" / LOCATED_TABLE
    with resources.as_file(ref) as p:
        return pd.read_csv(p, dtype={"unit_code": str}, keep_default_na=False, encoding="utf-8")


def _address_sites(
    located: pd.DataFrame, units: gpd.GeoDataFrame, kinds: Sequence[str]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Sites (and the report) from located address rows, for the kinds wanted."""
    located = located[located["site_kind"].isin(kinds)].copy()
    lon = pd.to_numeric(located["lon"], errors="coerce")
    lat = pd.to_numeric(located["lat"], errors="coerce")
    issues = located[located["issue"].astype(str) != ""]
    report = _report(
        _issue(str(r["source"]), int(r["row"]), str(r["site_id"]), r["name"], r["issue"], r["detail"], r["action"])
        for _, r in issues.iterrows()
    )
    ok = lon.notna() & lat.notna()
    sites = gpd.GeoDataFrame(
        located.loc[ok].assign(_row=located.loc[ok, "row"]),
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs=settings.geographic_crs,
    )
    parts: list[tuple[gpd.GeoDataFrame, pd.DataFrame]] = [
        _finish(grp.copy(), units, str(src)) for src, grp in sites.groupby("source", sort=False)
    ]
    frames = [s for s, _ in parts if len(s)] or [_empty_sites()]
    return (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=settings.geographic_crs),
        pd.concat([report, *[r for _, r in parts]], ignore_index=True),
    )


def read_user_sites(
    source: str | Path | gpd.GeoDataFrame, units: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read the user's own sites (with names) as real candidate sites, and a report.

    Parameters
    ----------
    source
        A file :func:`pointplan.candidates.read_candidates` reads (CSV lon/lat, GeoJSON,
        GeoPackage...) or a GeoDataFrame, with a ``name`` (or ``ten``/``tên``) column and
        optionally ``address``, ``unit_code``, ``location_precision``.
    units
        Unit polygons indexed by code (default :func:`pointplan.load_units`).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Sites with ``site_kind="user"`` (precision from the file when it is one of
        :data:`pointplan.points.LOCATION_PRECISIONS`, else ``unknown``) and the report.

    Examples
    --------
    >>> import geopandas as gpd, shapely, pandas as pd
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(105.8, 21.0, 105.9, 21.1)],
    ...                          index=pd.Index(["00001"], name="code"), crs=4326)
    >>> mine = gpd.GeoDataFrame({"name": ["Nhà văn hoá A", None]},
    ...     geometry=gpd.points_from_xy([105.85, 105.86], [21.05, 21.05]), crs=4326)
    >>> s, rep = read_user_sites(mine, units)
    >>> s[["name", "location_precision", "unit_code"]].values.tolist(), rep["issue"].tolist()
    ([['Nhà văn hóa A', 'unknown', '00001']], ['no_name'])
    """
    from pointplan.locate.candidates import read_candidates
    from pointplan.data import load_units
    from pointplan.points import LOCATION_PRECISIONS

    units = load_units() if units is None else units
    if isinstance(source, gpd.GeoDataFrame):
        gdf, label = source.to_crs(settings.geographic_crs), "user sites"
    else:
        gdf, label = read_candidates(source), Path(source).name
    name_col = _find_col(gdf.columns, _NAME_COLS)
    addr_col = _find_col(gdf.columns, _ADDRESS_COLS)
    prec = gdf["location_precision"].astype(str) if "location_precision" in gdf else pd.Series("", index=gdf.index)
    ids = (
        gdf["candidate_id"].astype(str)
        if "candidate_id" in gdf
        else pd.Series([f"user-{i + 1}" for i in range(len(gdf))], index=gdf.index)
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ids.to_numpy(),
            "name": gdf[name_col].map(lambda v: None if _blank(v) else normalize_name(str(v))).to_numpy()
            if name_col
            else None,
            "site_kind": "user",
            "address": gdf[addr_col].fillna("").astype(str).to_numpy() if addr_col else "",
            "unit_code": gdf["unit_code"].to_numpy() if "unit_code" in gdf else None,
            "source": label,
            "location_precision": prec.where(prec.isin(LOCATION_PRECISIONS), "unknown").to_numpy(),
            "located_by": "user_file",
            "matched_street": "",
            "_row": np.arange(1, len(gdf) + 1),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=settings.geographic_crs,
    )
    return _finish(sites, units, label)


def real_sites(
    units: gpd.GeoDataFrame | None = None,
    *,
    user_sites: str | Path | gpd.GeoDataFrame | None = None,
    include: Sequence[str] = SITE_KINDS,
    hospitals_file: str | Path | None = None,
    post_offices_file: str | Path | None = None,
    network: str | Path | object | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Return the real candidate sites of the city (or of some units) and the report of problems.

    Parameters
    ----------
    units
        The units studied (default all 126); sites outside them are reported and left out.
    user_sites
        The user's own sites (file or GeoDataFrame, see :func:`read_user_sites`).
    include
        Kinds to include, among :data:`SITE_KINDS`.
    hospitals_file
        Another OSM hospitals file (default the shipped one).
    post_offices_file, network
        Another post-office list and/or road network: the offices (and planned sites) are then
        located now (about 6 s with the shipped network) instead of read from the shipped
        table ``tables/located_sites.csv``.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Sites with :data:`SITE_COLUMNS` (EPSG:4326, ``site_id`` unique) and the report
        (:data:`REPORT_COLUMNS`): rows dropped (no name, outside, duplicate, no unit, no
        location) and rows kept at a stand-in (no street match).

    Examples
    --------
    >>> sites, report = real_sites(include=("hospital", "clinic"))
    >>> len(sites) > 140, sorted(sites["site_kind"].unique())
    (True, ['clinic', 'hospital'])
    """
    from pointplan.data import load_units

    bad = sorted(set(include) - set(SITE_KINDS))
    if bad:
        msg = f"include has unknown site kind(s) {bad}; choose among {list(SITE_KINDS)}."
        raise InputError(msg)
    units = load_units() if units is None else units
    frames: list[gpd.GeoDataFrame] = []
    reports: list[pd.DataFrame] = []
    if {"hospital", "clinic"} & set(include):
        s, r = hospital_sites(hospitals_file, units)
        frames.append(s[s["site_kind"].isin(include)])
        reports.append(r)
    if {"post_office", "planned_site"} & set(include):
        if post_offices_file is None and network is None:
            located = load_located_table()
        else:
            from pointplan.data import data_file

            rows = post_office_rows(post_offices_file)
            located = locate_address_sites(rows, units, network=network or data_file("osm_inner_drive"))
            located["row"] = located["_row"]
            if post_offices_file is None:
                located = pd.concat([located, load_located_table().query("site_kind == 'planned_site'")])
        s, r = _address_sites(located, units, [k for k in ("post_office", "planned_site") if k in include])
        frames.append(s)
        reports.append(r)
    if user_sites is not None and "user" in include:
        s, r = read_user_sites(user_sites, units)
        frames.append(s)
        reports.append(r)
    frames = [f for f in frames if len(f)] or [_empty_sites()]
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=settings.geographic_crs)
    dup = out["site_id"].duplicated(keep=False)
    out.loc[dup, "site_id"] = (
        out.loc[dup, "site_id"] + "-" + out.loc[dup].groupby("site_id").cumcount().add(1).astype(str)
    )
    report = pd.concat([r for r in reports if len(r)] or [_report([])], ignore_index=True)
    logger.info("real_sites: %d sites, %d report rows", len(out), len(report))
    return out, report


def sites_to_candidates(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return real sites as candidates for :func:`pointplan.optimize.propose`.

    Parameters
    ----------
    sites
        A frame from :func:`real_sites`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (the site id), ``kind`` (the site kind, so ``budget_per_kind`` can
        say ``{"post_office": 3}``), ``source``, ``unit_code``, ``location_precision``,
        ``name``, ``site_kind``, ``address``, ``located_by``, ``matched_street``, EPSG:4326.

    Examples
    --------
    >>> import geopandas as gpd
    >>> s = gpd.GeoDataFrame({"site_id": ["a"], "name": ["BV A"], "site_kind": ["hospital"],
    ...     "address": [""], "unit_code": ["00001"], "source": ["osm"], "location_precision": ["surveyed"],
    ...     "located_by": ["osm_coordinates"], "matched_street": [""]},
    ...     geometry=gpd.points_from_xy([105.85], [21.05]), crs=4326)
    >>> sites_to_candidates(s)[["candidate_id", "kind", "name"]].values.tolist()
    [['a', 'hospital', 'BV A']]
    """
    out = sites.to_crs(settings.geographic_crs).copy()
    out["candidate_id"] = out["site_id"].astype(str)
    out["kind"] = out["site_kind"].astype(str)
    cols = [
        "candidate_id",
        "kind",
        "source",
        "unit_code",
        "location_precision",
        "name",
        "site_kind",
        "address",
        "located_by",
        "matched_street",
    ]
    return gpd.GeoDataFrame(out[[*cols, "geometry"]], geometry="geometry", crs=settings.geographic_crs)


# --------------------------------------------------------------------------------------
# What a real building costs against the best unconstrained spot
# --------------------------------------------------------------------------------------
def _pick_columns(
    demand: gpd.GeoDataFrame, picks: gpd.GeoDataFrame, engine: Any, cutoff: float, max_minutes: float, max_m: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Minutes (inf beyond the cut-off) and within-standard flags of each demand row to each pick.

    ``(n, p)`` arrays for the p sites compared only (the proposals of both solutions and at
    most :data:`LOCAL_SPOTS` spots per real proposal), never for all candidates.
    """
    n, p = len(demand), len(picks)
    minutes = np.full((n, p), np.inf)
    if p:
        od = engine.od_long(demand, picks, cutoff)
        i = od["i"].to_numpy(dtype=np.int64)
        j = od["j"].to_numpy(dtype=np.int64)
        m = od["minutes"].to_numpy(dtype=np.float64)
        good = np.isfinite(m) & (m <= cutoff)
        minutes[i[good], j[good]] = m[good]
    dxy = demand.to_crs(projected_crs()).get_coordinates().to_numpy()
    pxy = picks.to_crs(projected_crs()).get_coordinates().to_numpy()
    within = minutes <= max_minutes
    for j in range(p):  # one column at a time: no (n, p) distance temporary
        within[:, j] |= np.hypot(dxy[:, 0] - pxy[j, 0], dxy[:, 1] - pxy[j, 1]) <= max_m
    return minutes, within


def _evaluate(
    before: npt.NDArray[np.float64],
    covered: npt.NDArray[np.bool_],
    pop: npt.NDArray[np.float64],
    minutes: npt.NDArray[np.float64],
    within: npt.NDArray[np.bool_],
    cols: Sequence[int],
) -> tuple[float, float]:
    """Person-minutes saved and people newly within the standard when the columns ``cols`` are added.

    Examples
    --------
    Two people 20 min from their point; a new site 5 min from the first:

    >>> import numpy as np
    >>> _evaluate(np.array([20.0, 20]), np.array([False, False]), np.array([1.0, 1]),
    ...           np.array([[5.0], [np.inf]]), np.array([[True], [False]]), [0])
    (15.0, 1.0)
    """
    cur = before.copy()
    cov = covered.copy()
    for j in cols:
        cur = np.minimum(cur, minutes[:, j])
        cov |= within[:, j]
    return float((pop * (before - cur)).sum()), float(pop[cov & ~covered].sum())


def _nearest_sites(free: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the nearest real site to each unconstrained pick, and whether it is within 1 km."""
    out = free.copy()
    fxy = free.to_crs(projected_crs()).get_coordinates().to_numpy()
    sxy = sites.to_crs(projected_crs()).get_coordinates().to_numpy()
    if len(sxy) and len(fxy):
        sd, si = cKDTree(sxy).query(fxy)
        out["nearest_site_id"] = sites["site_id"].to_numpy()[si]
        out["nearest_site_name"] = sites["name"].to_numpy()[si]
        out["nearest_site_kind"] = sites["site_kind"].to_numpy()[si]
        out["nearest_site_m"] = np.round(sd, 0)
    else:
        for c in ("nearest_site_id", "nearest_site_name", "nearest_site_kind"):
            out[c] = ""
        out["nearest_site_m"] = np.inf
    out["no_public_building_within_1km"] = out["nearest_site_m"] > NO_BUILDING_M
    return out


def _local_spots(real: gpd.GeoDataFrame, spots: gpd.GeoDataFrame) -> list[npt.NDArray[np.int64]]:
    """Positions in ``spots`` of the (at most LOCAL_SPOTS) nearest within NEARBY_M of each real pick."""
    if spots.empty:
        return [np.zeros(0, dtype=np.int64) for _ in range(len(real))]
    sxy = spots.to_crs(projected_crs()).get_coordinates().to_numpy()
    rxy = real.to_crs(projected_crs()).get_coordinates().to_numpy()
    d, idx = cKDTree(sxy).query(rxy, k=min(LOCAL_SPOTS, len(sxy)), distance_upper_bound=NEARBY_M)
    d, idx = np.atleast_2d(d).reshape(len(rxy), -1), np.atleast_2d(idx).reshape(len(rxy), -1)
    return [idx[r][np.isfinite(d[r])].astype(np.int64) for r in range(len(rxy))]


def constraint_cost(
    demand: gpd.GeoDataFrame,
    real: gpd.GeoDataFrame,
    free: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    engine: Any,
    max_minutes: float,
    max_distance_m: float,
    cutoff_minutes: float,
    spots: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """State what choosing real buildings costs against the best unconstrained spots nearby.

    Parameters
    ----------
    demand
        The assessed demand: ``population``, ``minutes`` (to the nearest existing point,
        ``inf``/NaN when none is reached) and ``within_standard``.
    real
        Proposals among real sites (``candidate_id``, geometry).
    free
        Proposals of the same objective and number among unconstrained candidates.
    sites
        All real candidate sites (``site_id``, ``name``, ``site_kind``), to say which
        unconstrained pick has none within :data:`NO_BUILDING_M`.
    engine
        The travel-time engine of the assessment (``od_long``).
    max_minutes, max_distance_m
        The standard.
    cutoff_minutes
        Travel times are computed up to this; people who reach no existing point count from
        this value (as in the p-median).
    spots
        The unconstrained candidates (``candidate_id``) searched around each real proposal
        (default ``free``).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, geopandas.GeoDataFrame, dict)
        ``real`` with ``best_spot_id``, ``best_spot_m``, ``cost_person_minutes``,
        ``cost_people_covered`` (NaN when no spot lies within :data:`NEARBY_M`);
        ``free`` with ``nearest_site_id``/``_name``/``_kind``/``_m`` and
        ``no_public_building_within_1km``; and totals (JSON-safe).

    Notes
    -----
    For each real proposal, the :data:`LOCAL_SPOTS` unconstrained candidates nearest to it
    within :data:`NEARBY_M` are tried in its place, the other real proposals staying, on the
    same travel times; the best spot (most person-minutes saved) is reported, and the cost is
    its saving minus the saving of the proposals as chosen (person-minutes, and people newly
    within the standard, for that same spot). A negative cost means no spot nearby does
    better than the building. The totals compare the whole unconstrained solution with the
    whole real one: that difference also counts picks the unconstrained solution places in
    areas where no building is. Spots are grid cells, so "unconstrained" is up to the grid.

    Examples
    --------
    One person 20 min from the existing point; a real site 10 min away, a spot 2 min away
    (engine stub: minutes = km):

    >>> import geopandas as gpd, pandas as pd, numpy as np
    >>> class Eng:
    ...     def od_long(self, o, d, cutoff):
    ...         oxy, dxy = o.get_coordinates().to_numpy(), d.get_coordinates().to_numpy()
    ...         m = np.hypot(*(oxy[:, None] - dxy[None]).transpose(2, 0, 1)) / 1000
    ...         i, j = np.nonzero(m <= cutoff)
    ...         return pd.DataFrame({"i": i, "j": j, "minutes": m[i, j]})
    >>> pt = lambda x, **k: gpd.GeoDataFrame(k, geometry=gpd.points_from_xy(x, [2325000] * len(x)), crs=32648)
    >>> demand = pt([585000], population=[1.0], minutes=[20.0], within_standard=[False])
    >>> real = pt([595000], candidate_id=["bv"]); free = pt([587000], candidate_id=["g1"])
    >>> spots = pt([587000, 593000], candidate_id=["g1", "g2"])
    >>> sites = pt([595000], site_id=["bv"], name=["BV"], site_kind=["hospital"])
    >>> r, f, tot = constraint_cost(demand, real, free, sites, engine=Eng(), max_minutes=5,
    ...     max_distance_m=5000, cutoff_minutes=60, spots=spots)
    >>> r[["best_spot_id", "best_spot_m", "cost_person_minutes"]].values.tolist()
    [['g2', 2000.0, 2.0]]
    >>> bool(f["no_public_building_within_1km"].iloc[0]), tot["price_person_minutes"]
    (True, 8.0)
    """
    spots = free if spots is None else spots
    pop = demand["population"].to_numpy(dtype=float)
    before = pd.to_numeric(demand["minutes"], errors="coerce").to_numpy(dtype=float)
    before = np.where(np.isfinite(before), before, float(cutoff_minutes))
    covered = demand["within_standard"].fillna(False).to_numpy(dtype=bool)
    local = _local_spots(real, spots)
    used = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *local]))
    parts = [real.to_crs(projected_crs()).geometry, free.to_crs(projected_crs()).geometry]
    parts.append(spots.to_crs(projected_crs()).geometry.iloc[used])
    picks = gpd.GeoDataFrame(geometry=pd.concat(parts, ignore_index=True).to_numpy(), crs=projected_crs())
    minutes, within = _pick_columns(demand, picks, engine, cutoff_minutes, max_minutes, max_distance_m)
    nr, nf = len(real), len(free)
    col_of = {int(s): nr + nf + k for k, s in enumerate(used)}
    real_cols = list(range(nr))
    base = _evaluate(before, covered, pop, minutes, within, real_cols)
    rxy = picks.geometry.iloc[:nr].get_coordinates().to_numpy()
    sxy = picks.geometry.iloc[nr + nf :].get_coordinates().to_numpy()
    best: list[tuple[str, float, float, float]] = []
    for r in range(nr):
        others = [c for c in real_cols if c != r]
        tried = [
            (_evaluate(before, covered, pop, minutes, within, [*others, col_of[int(s)]]), int(s)) for s in local[r]
        ]
        if not tried:
            best.append(("", np.nan, np.nan, np.nan))
            continue
        (saved, cov), s = max(tried, key=lambda t: t[0][0])
        dist = float(np.hypot(*(sxy[col_of[s] - nr - nf] - rxy[r])))
        best.append(
            (str(spots["candidate_id"].iloc[s]), round(dist, 0), round(saved - base[0], 1), round(cov - base[1], 1))
        )
    real_out = real.copy()
    for k, col in enumerate(("best_spot_id", "best_spot_m", "cost_person_minutes", "cost_people_covered")):
        real_out[col] = [b[k] for b in best]
    free_out = _nearest_sites(free, sites)
    free_total = _evaluate(before, covered, pop, minutes, within, list(range(nr, nr + nf)))
    summary = {
        "method": (
            f"each proposal swapped with the best of the {LOCAL_SPOTS} nearest unconstrained spots within "
            f"{NEARBY_M:.0f} m on the same travel times; totals: whole unconstrained vs whole real solution"
        ),
        "real_person_minutes_saved": round(base[0], 1),
        "unconstrained_person_minutes_saved": round(free_total[0], 1),
        "price_person_minutes": round(free_total[0] - base[0], 1),
        "real_people_covered": round(base[1], 1),
        "unconstrained_people_covered": round(free_total[1], 1),
        "price_people_covered": round(free_total[1] - base[1], 1),
        "unconstrained_without_building_1km": int(free_out["no_public_building_within_1km"].sum()),
    }
    return real_out, free_out, summary


if __name__ == "__main__":  # pragma: no cover
    print(write_located_table())
