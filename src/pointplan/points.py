"""Service points: the Hanoi 2025 scenario, users' own point files, and their schema.

Every points frame pointplan returns or accepts has the columns of :data:`POINT_COLUMNS`.
Where a location is not known (head-office and branch coordinates are not published), the
point is placed at an honest stand-in and says so in ``location_precision``:

============================== =========================================================
``location_precision``         meaning
============================== =========================================================
``surveyed``                   coordinates supplied by the user (GPS, cadastral survey)
``geocoded``                   geocoded from the address (OpenStreetMap Nominatim)
``old_unit_reference``         the reference point of the pre-2025 ward named in the
                               address (typically within 0.5–1.5 km of the real site)
``unit_representative_point``  a point inside the unit's polygon; the real head office
                               may be several km away in a large rural commune
============================== =========================================================

Examples
--------
>>> import pointplan
>>> pts = pointplan.load_points()
>>> pts["kind"].value_counts().to_dict()
{'unit_point': 126, 'branch': 3, 'community': 1, 'mobile': 1}
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import warnings
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from pointplan import settings
from pointplan._errors import (
    CRSError,
    InputError,
    MissingColumnError,
    PrecisionWarning,
)
from pointplan._text import normalize_name
from pointplan._validate import (
    VIETNAM_BBOX,
    check_crs,
    check_geometries,
    check_in_area,
    check_nonnegative,
    check_unique,
    projected_crs,
)
from pointplan.data import load_units, old_unit_reference, representative_points, validate_units
from pointplan.standins import (
    LOCATION_PRECISIONS,
    STAND_IN_PRECISIONS,  # noqa: F401  (re-exported: pointplan.points is where users import it)
    LocationPrecision,
    is_stand_in,  # noqa: F401
    load_standins,
    read_package_table,
    unit_point_addresses,
)

__all__ = [
    "COLUMN_ALIASES",
    "LOCATION_PRECISIONS",
    "POINT_COLUMNS",
    "POINT_KINDS",
    "SCENARIOS",
    "PointKind",
    "assign_units",
    "branch_report",
    "load_points",
    "read_points",
    "rename_point_columns",
    "unknown_precision_count",
    "validate_points",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

PointKind = Literal["branch", "unit_point", "community", "mobile", "kiosk", "head_office", "proposed"]
"""Kind of a service point (see :data:`POINT_KINDS`)."""

#: Kinds of service point.
POINT_KINDS: tuple[PointKind, ...] = (
    "branch",
    "unit_point",
    "community",
    "mobile",
    "kiosk",
    "head_office",
    "proposed",
)

#: Columns of every points frame (plus ``geometry``).
POINT_COLUMNS: tuple[str, ...] = (
    "point_id",
    "name",
    "kind",
    "unit_code",
    "declared_unit_code",
    "address",
    "counters",
    "location_precision",
    "source",
    "notes",
)

#: Scenarios :func:`load_points` knows.
SCENARIOS: dict[str, str] = {
    "hanoi-2025": "126 unit points at head-office stand-ins, the 3 located branches, the "
    "Đại Thanh community point and the Mỹ Đức mobile point",
    "hanoi-2025-kiosks": "hanoi-2025 plus the planned mall kiosks that can be placed",
    "units-only": "only the 126 unit points (one per unit, the legal minimum)",
}

# Vietnamese and English aliases users type for kinds.
_KIND_ALIASES = {
    "branch": "branch",
    "chi nhánh": "branch",
    "chi nhanh": "branch",
    "unit_point": "unit_point",
    "unit point": "unit_point",
    "điểm": "unit_point",
    "điểm phục vụ": "unit_point",
    "ward_point": "unit_point",
    "community": "community",
    "cộng đồng": "community",
    "mobile": "mobile",
    "lưu động": "mobile",
    "kiosk": "kiosk",
    "head_office": "head_office",
    "trụ sở": "head_office",
    "proposed": "proposed",
    "đề xuất": "proposed",
}

_LON_NAMES = ("lon", "lng", "long", "longitude", "kinh_do", "kinh độ", "x")
_LAT_NAMES = ("lat", "latitude", "vi_do", "vĩ độ", "y")

#: Vietnamese (and other) names accepted for the columns of :data:`POINT_COLUMNS`. Matching
#: ignores case, diacritics and ``_``/``-``/spaces: ``Tên điểm``, ``ten_diem`` and ``TEN DIEM``
#: all name the ``name`` column.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "point_id": ("mã điểm", "mã", "id"),
    "name": ("tên điểm", "tên", "tên điểm phục vụ"),
    "kind": ("loại", "loại điểm"),
    "address": ("địa chỉ",),
    "counters": ("số quầy",),
    "location_precision": ("độ chính xác", "độ chính xác vị trí"),
    "declared_unit_code": ("mã đơn vị", "mã phường xã"),
    "source": ("nguồn",),
    "notes": ("ghi chú",),
}


def _column_key(name: object) -> str:
    """Compare column names without case, diacritics or separators ("Tên điểm" = "ten_diem")."""
    text = unicodedata.normalize("NFD", normalize_name(str(name))).replace("đ", "d").replace("Đ", "d")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-]+", " ", text.casefold()).strip()


def _table(name: str) -> pd.DataFrame:
    return read_package_table(name)


def assign_units(points: gpd.GeoDataFrame, units: gpd.GeoDataFrame | None = None) -> pd.Series:
    """Return the code of the unit each point lies in (spatial join).

    Parameters
    ----------
    points
        Points with a CRS.
    units
        Unit polygons indexed by code (default :func:`pointplan.load_units`).

    Returns
    -------
    pandas.Series
        Index of ``points``; the unit code, missing (NaN) for points outside every unit.

    Examples
    --------
    >>> import shapely
    >>> from pointplan import load_units
    >>> pts = gpd.GeoDataFrame(
    ...     {"name": ["Hoàn Kiếm", "Bangkok"]},
    ...     geometry=[shapely.Point(105.852, 21.028), shapely.Point(100.5, 13.75)],
    ...     crs="EPSG:4326",
    ... )
    >>> codes = assign_units(pts, load_units())
    >>> codes[0], bool(codes.isna()[1])
    ('00070', True)
    """
    units = load_units() if units is None else units
    check_crs(points, "points")
    check_crs(units, "units")
    pts = points.geometry.to_crs(units.crs)
    left, right = units.geometry.sindex.query(pts.values, predicate="intersects")
    codes = np.full(len(points), None, dtype=object)
    # A point on a shared border touches two units: keep the first (lowest code).
    order = np.lexsort((right, left))
    left, right = left[order], right[order]
    first = np.unique(left, return_index=True)[1]
    codes[left[first]] = np.asarray(units.index)[right[first]]
    return pd.Series(codes, index=points.index, name="unit_code")


def _scenario_sites(scenario: str) -> pd.DataFrame:
    sites = _table("hanoi_2025_sites.csv")
    wanted = {"hanoi-2025": {"hanoi-2025"}, "hanoi-2025-kiosks": {"hanoi-2025", "hanoi-2025-kiosks"}}
    return sites[sites["scenario"].isin(wanted.get(scenario, set()))]


def branch_report() -> pd.DataFrame:
    """Report the Centre's 12 branches: which are located, where, and how precisely.

    Returns
    -------
    pandas.DataFrame
        One row per branch (12): ``point_id``, ``name``, ``address``, ``located``,
        ``location_precision``, ``source``, ``notes``.

    Examples
    --------
    >>> rep = branch_report()
    >>> int(rep["located"].sum()), len(rep)
    (3, 12)
    """
    sites = _table("hanoi_2025_sites.csv")
    br = sites[sites["kind"] == "branch"].copy()
    br["located"] = br["locate_by"] != "missing"
    br["location_precision"] = np.where(br["locate_by"] == "old_unit", "old_unit_reference", "")
    cols = ["point_id", "name", "address", "located", "location_precision", "source", "notes"]
    return br[cols].reset_index(drop=True)


def _unit_standins(units: gpd.GeoDataFrame) -> tuple[gpd.GeoSeries, pd.Series, pd.Series]:
    """Stand-in point, precision and note for each unit (the shipped table, else a point inside)."""
    rep = representative_points(units).to_crs(settings.geographic_crs)
    precision = pd.Series("unit_representative_point", index=units.index, dtype=object)
    notes = pd.Series("", index=units.index, dtype=object)
    table = load_standins()
    hit = units.index.intersection(table.index)
    if len(hit):
        t = table.loc[hit]
        inside = gpd.GeoSeries(gpd.points_from_xy(t["lon"], t["lat"]), index=hit, crs=settings.geographic_crs)
        polys = units.geometry.loc[hit].to_crs(projected_crs()).buffer(1.0)
        ok = inside.to_crs(projected_crs()).within(polys)
        hit = hit[ok.to_numpy()]
        rep.loc[hit] = inside.loc[hit]
        precision.loc[hit] = table.loc[hit, "location_precision"]
        street = table.loc[hit, "matched_street"]
        notes.loc[hit] = np.where(
            street != "",
            "stand-in on " + street + " (street named in the address)",
            "stand-in at the unit's population centre",
        )
    return rep, precision, notes


def _unit_point_rows(units: gpd.GeoDataFrame, precision: pd.Series, standin_notes: pd.Series) -> pd.DataFrame:
    """One row per unit point: name, address (overrides applied), precision and notes."""
    overrides = _table("unit_point_overrides.csv").set_index("unit_code")

    unit_pts = pd.DataFrame(
        {
            "point_id": "DP" + units.index.astype(str),
            "name": "Điểm Phục vụ hành chính công " + units["full_name"],
            "kind": "unit_point",
            "declared_unit_code": units.index.astype(str),
            "address": unit_point_addresses(units),
            "counters": pd.NA,
            "location_precision": precision,
            "source": "units_2025.geojson hq_address (sapnhap.bando)",
            "notes": standin_notes,
        },
        index=units.index,
    )
    hit = unit_pts.index.intersection(overrides.index)
    unit_pts.loc[hit, "source"] = overrides.loc[hit, "source"]
    unit_pts.loc[hit, "notes"] = overrides.loc[hit, "notes"] + "; " + standin_notes.loc[hit]
    return unit_pts


def _scenario_rows(
    scenario: str, rep: gpd.GeoSeries, unit_pts: pd.DataFrame
) -> tuple[list[dict[str, object]], list[object], list[str]]:
    """Rows and points of a scenario's branches and other sites; ids of sites that cannot be placed."""
    rows: list[dict[str, object]] = []
    geoms: list[object] = []
    missing: list[str] = []
    for site in _scenario_sites(scenario).itertuples(index=False):
        if site.locate_by == "missing":
            missing.append(site.point_id)
            continue
        if site.locate_by == "old_unit":
            lon, lat = old_unit_reference(site.old_ward, site.old_district)
            site_precision = "old_unit_reference"
            geom = gpd.points_from_xy([lon], [lat])[0]
        else:  # unit_point: the unit's stand-in
            geom = rep.loc[site.declared_unit_code]
            site_precision = str(unit_pts.loc[site.declared_unit_code, "location_precision"])
        rows.append(
            {
                "point_id": site.point_id,
                "name": normalize_name(site.name),
                "kind": site.kind,
                "declared_unit_code": site.declared_unit_code or None,
                "address": normalize_name(site.address),
                "counters": int(site.counters) if site.counters else pd.NA,
                "location_precision": site_precision,
                "source": site.source,
                "notes": site.notes,
            }
        )
        geoms.append(geom)
    return rows, geoms, missing


def load_points(scenario: str = "hanoi-2025", *, units: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Load the service points of a scenario.

    Parameters
    ----------
    scenario
        One of :data:`SCENARIOS`: ``"hanoi-2025"`` (default), ``"hanoi-2025-kiosks"`` or
        ``"units-only"``.
    units
        The units (default :func:`pointplan.load_units`).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with the columns of :data:`POINT_COLUMNS`, indexed by
        ``point_id``. ``attrs`` holds ``scenario``, ``branches_expected`` (12),
        ``branches_located`` and ``missing_sites`` (ids of sites that could not be placed).

    Raises
    ------
    InputError
        For an unknown scenario.

    Notes
    -----
    Head-office and branch coordinates are not available offline: unit points sit at a
    point inside their unit (``unit_representative_point``) and located branches at the
    reference point of the pre-2025 ward their address names (``old_unit_reference``).
    Nothing is invented: the 9 branches whose addresses were not published are reported
    in ``attrs["missing_sites"]`` and by :func:`branch_report`. Replace stand-ins with
    real coordinates via :func:`read_points` or :func:`pointplan.geocode.geocode_points`.

    Examples
    --------
    >>> pts = load_points("units-only")
    >>> len(pts), pts["kind"].unique().tolist()
    (126, ['unit_point'])
    >>> pts.crs.to_string(), pts.index[0]
    ('EPSG:4326', 'DP00004')
    """
    if scenario not in SCENARIOS:
        msg = f"Unknown scenario {scenario!r}. Choose one of {sorted(SCENARIOS)}."
        raise InputError(msg)
    units = load_units() if units is None else units
    rep, precision, standin_notes = _unit_standins(units)
    unit_pts = _unit_point_rows(units, precision, standin_notes)
    geoms = list(rep.values)
    frames = [unit_pts]

    missing: list[str] = []
    if scenario != "units-only":
        rows, site_geoms, missing = _scenario_rows(scenario, rep, unit_pts)
        frames.append(pd.DataFrame(rows))
        geoms.extend(site_geoms)
    df = pd.concat(frames, ignore_index=True)
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=settings.geographic_crs)
    gdf["counters"] = gdf["counters"].astype("Int64")
    gdf["unit_code"] = assign_units(gdf, units).to_numpy()
    gdf = gdf[[*POINT_COLUMNS, "geometry"]].set_index("point_id", drop=False)
    gdf.index.name = None
    located = int((gdf["kind"] == "branch").sum())
    gdf.attrs.update(
        scenario=scenario,
        branches_expected=settings.branches_expected,
        branches_located=located,
        missing_sites=missing,
    )
    return gdf


def _normalise_kind(values: pd.Series, what: str) -> pd.Series:
    blank = values.isna() | (values.astype(str).str.strip() == "")
    if blank.any():
        msg = (
            f"{what}: kind is empty in rows {list(values.index[blank][:8])}. Give each point "
            f"a kind, one of {list(POINT_KINDS)}, or drop the 'kind' column to make every "
            "point a unit_point."
        )
        raise InputError(msg)
    keys = values.fillna("").astype(str).map(lambda s: normalize_name(s).lower().replace("-", "_"))
    out = keys.map(_KIND_ALIASES)
    bad = out.isna()
    if bad.any():
        msg = (
            f"{what}: unknown kind(s) {sorted(set(values[bad].astype(str)))} in rows "
            f"{list(values.index[bad][:8])}. Use one of {list(POINT_KINDS)} "
            "(Vietnamese forms such as 'chi nhánh', 'cộng đồng', 'lưu động' are accepted)."
        )
        raise InputError(msg)
    return out


def _find_col(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    lookup: dict[str, str] = {}
    for c in columns:
        lookup.setdefault(_column_key(c), str(c))
    for n in names:
        if _column_key(n) in lookup:
            return lookup[_column_key(n)]
    return None


def rename_point_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the frame with Vietnamese column names renamed to pointplan's English ones.

    A column already named in English wins; of several aliases of one column the first
    (in the file's order) is used, the others are left as they are.

    Parameters
    ----------
    frame
        A points table as read from a user's file.

    Returns
    -------
    pandas.DataFrame
        A new frame (the input is not modified) whose columns follow :data:`COLUMN_ALIASES`.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame(columns=["Mã điểm", "Tên điểm", "LOAI", "Địa chỉ", "So quay", "Độ chính xác"])
    >>> rename_point_columns(raw).columns.tolist()
    ['point_id', 'name', 'kind', 'address', 'counters', 'location_precision']
    """
    renames: dict[str, str] = {}
    present = {_column_key(c) for c in frame.columns}
    for target, aliases in COLUMN_ALIASES.items():
        if _column_key(target) in present:
            continue
        keys = {_column_key(a) for a in aliases}
        hit = next((c for c in frame.columns if _column_key(c) in keys and c not in renames), None)
        if hit is not None:
            renames[hit] = target
    return frame.rename(columns=renames)


def unknown_precision_count(points: pd.DataFrame) -> int:
    """Return how many points have no known location precision (``unknown``).

    A user's point without a precision is marked ``unknown`` by :func:`validate_points`,
    which warns once with this count; the run summary reports it.

    Parameters
    ----------
    points
        A points frame with ``location_precision``.

    Returns
    -------
    int
        The number of ``unknown`` rows (0 when the column is absent).

    Examples
    --------
    >>> import pandas as pd
    >>> unknown_precision_count(pd.DataFrame({"location_precision": ["surveyed", "unknown"]}))
    1
    """
    if "location_precision" not in points.columns:
        return 0
    return int((points["location_precision"].astype(str) == "unknown").sum())


def validate_points(
    points: gpd.GeoDataFrame,
    *,
    units: gpd.GeoDataFrame | None = None,
    what: str = "points",
    source: str = "user",
    default_precision: LocationPrecision = "unknown",
) -> gpd.GeoDataFrame:
    """Validate a points frame against the schema and complete it (returns a new frame).

    Parameters
    ----------
    points
        A GeoDataFrame of points with a CRS and at least ``name`` (``point_id`` and
        ``kind`` are filled when absent: ids ``P0001``…, kind ``unit_point``).
    units
        The units, to fill ``unit_code`` (default :func:`pointplan.load_units`).
    what
        How to name the input in error messages (e.g. the file name).
    source
        Value for ``source`` where it is missing.
    default_precision
        Value for ``location_precision`` where it is missing (``"unknown"``: pointplan never
        assumes a location is more precise than the file says; a log warning
        then says how many points it marked, and :func:`unknown_precision_count` counts them).

    Notes
    -----
    Columns may be named in Vietnamese (:data:`COLUMN_ALIASES`: ``Tên``/``Tên điểm``,
    ``Loại``, ``Địa chỉ``, ``Số quầy``, ``Độ chính xác``, ``Mã điểm``...), with or without
    diacritics, in any case.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns of :data:`POINT_COLUMNS`, indexed by ``point_id``; the input is
        never modified.

    Raises
    ------
    InputError, MissingColumnError, CRSError, GeometryError
        With the rows and columns at fault and how to fix them.

    Examples
    --------
    >>> import shapely
    >>> from pointplan import load_units
    >>> raw = gpd.GeoDataFrame(
    ...     {"name": ["Điểm A"]}, geometry=[shapely.Point(105.852, 21.028)], crs="EPSG:4326"
    ... )
    >>> pts = validate_points(raw, units=load_units())
    >>> pts.loc["P0001", ["kind", "unit_code", "location_precision", "source"]].tolist()
    ['unit_point', '00070', 'unknown', 'user']
    >>> validate_points(raw.drop(columns="name"), units=load_units())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.MissingColumnError: ...
    """
    _check_points_frame(points, what)
    if units is not None:
        validate_units(units, topology=False)
    gdf = rename_point_columns(points)
    if gdf.columns.has_duplicates:
        dup = sorted({str(c) for c in gdf.columns[gdf.columns.duplicated()]})
        msg = f"{what} has the column(s) {dup} more than once. Keep one of each."
        raise InputError(msg)
    check_geometries(gdf, what, types=("Point",))
    if "name" not in gdf.columns:
        msg = (
            f"{what} lacks the column 'name' (or 'Tên'/'Tên điểm'); it has {[str(c) for c in gdf.columns]}. "
            "Add a 'name' column (e.g. 'Điểm Phục vụ hành chính công phường X')."
        )
        raise MissingColumnError(msg)
    gdf = _fill_point_columns(gdf, what, source, default_precision)
    dec = gdf["declared_unit_code"]
    gdf["declared_unit_code"] = dec.where(dec.isna(), dec.astype(str).str.strip().str.zfill(5))
    gdf = _place_in_units(gdf.to_crs(settings.geographic_crs), units, what)
    gdf = gdf[[*POINT_COLUMNS, "geometry"]].set_index("point_id", drop=False)
    gdf.index.name = None
    return gdf


def _place_in_units(gdf: gpd.GeoDataFrame, units: gpd.GeoDataFrame | None, what: str) -> gpd.GeoDataFrame:
    """Check the points lie in Vietnam, fill ``unit_code`` and warn about points outside Hanoi."""
    check_in_area(gdf, what, bbox=VIETNAM_BBOX, area_name="Vietnam")
    gdf["unit_code"] = assign_units(gdf, units).to_numpy()
    outside = gdf["unit_code"].isna()
    if outside.any():
        warnings.warn(
            f"{what}: {int(outside.sum())} point(s) lie outside Hanoi's units "
            f"({list(gdf['point_id'][outside][:8])}); they keep unit_code=None and the "
            "assessment reports them.",
            PrecisionWarning,
            stacklevel=3,
        )
    return gdf


def _check_points_frame(points: object, what: str) -> None:
    """Refuse what is not a non-empty GeoDataFrame with a CRS."""
    if not isinstance(points, gpd.GeoDataFrame):
        msg = f"{what} must be a GeoDataFrame, got {type(points).__name__}."
        raise InputError(msg)
    if len(points) == 0:
        msg = f"{what} has no rows: give at least one point."
        raise InputError(msg)
    if points.crs is None:
        msg = (
            f"{what} has no CRS. If the coordinates are longitude/latitude, set "
            "gdf.set_crs('EPSG:4326'); if they are UTM 48N metres, 'EPSG:32648'."
        )
        raise CRSError(msg)


def _fill_point_columns(gdf: gpd.GeoDataFrame, what: str, source: str, default_precision: str) -> gpd.GeoDataFrame:
    """Fill ids, names, kinds, counters and the defaults of the schema's columns (in place)."""
    if "point_id" not in gdf.columns:
        gdf["point_id"] = [f"P{i:04d}" for i in range(1, len(gdf) + 1)]
    gdf["point_id"] = gdf["point_id"].astype(str).str.strip()
    check_unique(gdf, "point_id", what)
    name = gdf["name"].astype(object)
    gdf["name"] = name.where(name.notna(), "").astype(str).map(normalize_name)
    gdf["kind"] = _normalise_kind(gdf["kind"], what) if "kind" in gdf else "unit_point"
    if "counters" in gdf.columns:
        gdf["counters"] = check_nonnegative(gdf, "counters", what, allow_na=True, integer=True).astype("Int64")
    no_precision = _missing(gdf, "location_precision")
    for col, default in (
        ("address", ""),
        ("location_precision", default_precision),
        ("source", source),
        ("notes", ""),
        ("declared_unit_code", None),
        ("counters", pd.NA),
    ):
        if col not in gdf.columns:
            gdf[col] = default
        elif default is not None and default is not pd.NA:
            values = gdf[col].astype(object)
            gdf[col] = values.where(values.notna(), default).astype(str)
    bad_prec = ~gdf["location_precision"].isin(LOCATION_PRECISIONS)
    if bad_prec.any():
        msg = (
            f"{what}: location_precision must be one of {list(LOCATION_PRECISIONS)}; rows "
            f"{list(gdf.index[bad_prec][:8])} have {sorted(set(gdf['location_precision'][bad_prec]))}."
        )
        raise InputError(msg)
    if no_precision and default_precision == "unknown":
        # A log warning, not warnings.warn: a file without precisions is valid input, and
        # scripts that turn warnings into errors must still read it.
        logger.warning(
            "%s: %d of %d point(s) have no location precision; they are marked 'unknown' (add a "
            "'location_precision' / 'Độ chính xác' column, e.g. 'surveyed').",
            what,
            no_precision,
            len(gdf),
        )
    return gdf


def _missing(frame: pd.DataFrame, col: str) -> int:
    """Rows where a column is absent, empty or NA."""
    if col not in frame.columns:
        return len(frame)
    values = frame[col].astype(object)
    return int((values.isna() | (values.astype(str).str.strip() == "")).sum())


def _sniff_separator(header: str) -> str:
    """Return the separator of a CSV header line: the most frequent of , ; tab | (default ,)."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else ","


def _check_field_counts(text: str, sep: str, what: str) -> None:
    """Refuse lines with more fields than the header (a stray separator), naming them."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    width = None
    long_lines = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        while row and not row[-1].strip():  # Excel may add empty trailing fields
            row = row[:-1]
        if width is None:
            width = len(row)
        elif len(row) > width:
            long_lines.append(reader.line_num)
    if long_lines:
        msg = (
            f"{what}: lines {long_lines[:8]} have more fields than the header ({width}). "
            f"Check for a stray separator '{sep}' (e.g. a comma inside a name: put the name "
            "in double quotes) or a missing column name."
        )
        raise InputError(msg)


def _coordinates(df: pd.DataFrame, cols: tuple[str, str], what: str) -> dict[str, pd.Series]:
    """Read the coordinate columns as numbers (a decimal comma is accepted), refusing text."""
    xy = {}
    for col in cols:
        txt = df[col].astype(str).str.strip().str.replace(",", ".", regex=False)
        vals = pd.to_numeric(txt.where(df[col].notna(), None), errors="coerce")
        bad = vals.isna() | ~np.isfinite(vals.astype(float))
        if bad.any():
            lines = [int(i) for i in df.index[bad][:8]]
            msg = (
                f"{what}: column '{col}' must hold numbers; lines {lines} hold "
                f"{df[col][bad].head(3).tolist()}. Fix or remove those lines."
            )
            raise InputError(msg)
        xy[col] = vals.astype(float)
    return xy


def _read_points_csv(
    path: Path, what: str, lon_col: str | None, lat_col: str | None, crs: str | None
) -> gpd.GeoDataFrame:
    """Read a points CSV (index = line numbers in the file) into a GeoDataFrame."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = (
            f"{what} is not UTF-8 text (byte {exc.start} cannot be decoded). Save it from "
            "Excel as 'CSV UTF-8 (Comma delimited)'."
        )
        raise InputError(msg) from exc
    if not text.strip():
        msg = f"{what} is empty: it holds only blank lines or spaces. Give a header and rows."
        raise InputError(msg)
    lines = re.split(r"\r\n|\r|\n", text)  # as csv/pandas split them (not str.splitlines)
    header = next(line for line in lines if line.strip())
    sep = _sniff_separator(header)
    _check_field_counts(text, sep, what)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            index_col=False,
            skip_blank_lines=False,
            keep_default_na=False,
        )
    except pd.errors.ParserError as exc:
        msg = (
            f"{what} could not be parsed as CSV ({exc}). Check that every line has as many "
            "fields as the header and that quotes are closed."
        )
        raise InputError(msg) from exc
    except pd.errors.EmptyDataError as exc:
        msg = f"{what} has no header or rows."
        raise InputError(msg) from exc
    # line numbers in the file (header on the first non-blank line)
    first = lines.index(header)
    df.index = pd.RangeIndex(first + 2, first + 2 + len(df))
    empty_cell = df.apply(lambda col: col.astype(str).str.strip() == "")
    df = df[~empty_cell.all(axis=1)].mask(empty_cell)
    if len(df) == 0:
        msg = f"{what} has a header but no rows: give at least one point."
        raise InputError(msg)
    df.columns = [str(c).strip() for c in df.columns]
    lon = lon_col or _find_col(df.columns, _LON_NAMES)
    lat = lat_col or _find_col(df.columns, _LAT_NAMES)
    if lon is None or lat is None or lon not in df.columns or lat not in df.columns:
        msg = (
            f"{what} needs longitude and latitude columns (e.g. 'lon' and 'lat'); it has "
            f"{list(df.columns)}. Rename them or pass lon_col=/lat_col= "
            "(--lon-col/--lat-col on the command line)."
        )
        raise MissingColumnError(msg)
    xy = _coordinates(df, (lon, lat), what)
    df = df.drop(columns=[lon, lat])
    return gpd.GeoDataFrame(
        df,
        geometry=gpd.points_from_xy(xy[lon], xy[lat]),
        index=df.index,
        crs=crs or settings.geographic_crs,
    )


def read_points(
    path: str | Path,
    *,
    lon_col: str | None = None,
    lat_col: str | None = None,
    crs: str | None = None,
    layer: str | None = None,
    units: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    r"""Read a user's service points from CSV (lon/lat columns), GeoJSON or GeoPackage.

    Parameters
    ----------
    path
        The file. CSV is read as UTF-8 (with or without BOM, as Excel writes it).
    lon_col, lat_col
        Coordinate columns of a CSV (default: the first of ``lon``/``lng``/``longitude``/
        ``kinh_do``/``x`` and ``lat``/``latitude``/``vi_do``/``y``).
    crs
        CRS of CSV coordinates (default EPSG:4326); for GeoJSON/GeoPackage the file's own.
    layer
        GeoPackage layer (default: ``points`` if present, else the first).
    units
        The units used to fill ``unit_code``.

    Returns
    -------
    geopandas.GeoDataFrame
        Validated points (see :func:`validate_points`), ``location_precision`` defaulting
        to ``surveyed`` and ``source`` to the file name.

    Examples
    --------
    >>> import io, tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "pts.csv"
    >>> _ = tmp.write_text("name,kind,lon,lat\nĐiểm A,unit_point,105.85,21.03\n", encoding="utf-8")
    >>> read_points(tmp)[["name", "unit_code"]].iloc[0].tolist()
    ['Điểm A', '00070']
    """
    path = Path(path)
    what = f"points file {path}"
    if not path.is_file():
        msg = f"{what} does not exist. Check the path (current folder: {Path.cwd()})."
        raise InputError(msg)
    if path.stat().st_size == 0:
        msg = f"{what} is empty (0 bytes)."
        raise InputError(msg)
    suffix = path.suffix.lower()
    if crs is not None:
        try:
            crs = pyproj.CRS.from_user_input(crs).to_string()
        except pyproj.exceptions.CRSError as exc:
            msg = (
                f"crs={crs!r} for {what} is not a CRS pyproj knows. Give e.g. 'EPSG:4326' "
                "(longitude/latitude) or 'EPSG:32648' (UTM 48N metres)."
            )
            raise CRSError(msg) from exc
    if suffix in (".csv", ".txt", ".tsv"):
        gdf = _read_points_csv(path, what, lon_col, lat_col, crs)
        what = f"{what} (rows are line numbers)"
    elif suffix in (".geojson", ".json", ".gpkg", ".shp"):
        import pyogrio

        try:
            if suffix == ".gpkg" and layer is None:
                layers = [name for name, _ in pyogrio.list_layers(path)]
                layer = "points" if "points" in layers else layers[0]
            gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
        except Exception as exc:
            msg = f"{what} could not be read as {suffix[1:]}: {exc}"
            raise InputError(msg) from exc
        if crs is not None and gdf.crs is None:
            gdf = gdf.set_crs(crs)
    else:
        msg = f"{what}: unsupported format {suffix!r}. Use .csv, .geojson or .gpkg."
        raise InputError(msg)
    return validate_points(gdf, units=units, what=what, source=path.name)
