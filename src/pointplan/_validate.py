"""Input checks shared by all public functions.

Each check raises a specific :mod:`pointplan._errors` exception whose message names the
frame, the column or the rows at fault and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from pointplan import settings
from pointplan._errors import CRSError, GeometryError, InputError, MissingColumnError

__all__ = [
    "check_columns",
    "check_crs",
    "check_geometries",
    "check_in_area",
    "check_nonnegative",
    "check_number",
    "check_projected",
    "check_unique",
    "ensure_gdf",
    "projected_crs",
    "to_projected",
]

#: Rough bounding box of Vietnam (lon/lat) used to spot swapped coordinates: the mainland and
#: the island units, the special zones of Hoàng Sa and Trường Sa included (their units reach
#: lon 117.8, lat 7.2).
VIETNAM_BBOX = (102.0, 6.5, 118.5, 23.5)
#: Bounding box of Hanoi (lon/lat) with a small margin.
HANOI_BBOX = (105.2, 20.5, 106.1, 21.45)


def _rows(index: Iterable[object], limit: int = 8) -> str:
    items = list(index)
    shown = ", ".join(repr(i) for i in items[:limit])
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return shown + more


def ensure_gdf(obj: object, what: str) -> gpd.GeoDataFrame:
    """Check that ``obj`` is a non-empty GeoDataFrame with a CRS."""
    if not isinstance(obj, gpd.GeoDataFrame):
        msg = (
            f"{what} must be a geopandas GeoDataFrame, got {type(obj).__name__}. "
            "Build one with geopandas.GeoDataFrame(df, geometry=..., crs='EPSG:4326') or load a "
            "file with pointplan.read_points(path)."
        )
        raise InputError(msg)
    if len(obj) == 0:
        msg = f"{what} is empty: it has no rows."
        raise InputError(msg)
    check_crs(obj, what)
    return obj


def check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`MissingColumnError` naming every missing column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{what} lacks the column(s) {missing}; it has {list(map(str, df.columns))}. Add or rename the columns."
        raise MissingColumnError(msg)


def check_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> pyproj.CRS:
    """Check a CRS is set; return it."""
    if gdf.crs is None:
        msg = (
            f"{what} has no CRS. Set the one its coordinates are in, e.g. "
            "gdf.set_crs('EPSG:4326') for longitude/latitude or gdf.set_crs('EPSG:32648') for "
            "UTM 48N metres."
        )
        raise CRSError(msg)
    return pyproj.CRS.from_user_input(gdf.crs)


def check_projected(crs: object, what: str) -> pyproj.CRS:
    """Check that ``crs`` is projected (in metres) so distances make sense."""
    c = pyproj.CRS.from_user_input(crs)
    if not c.is_projected:
        msg = (
            f"{what} uses the geographic CRS {c.to_string()} (degrees): distances would be "
            "wrong. Use a projected CRS in metres such as 'EPSG:32648' (UTM 48N, Hanoi's zone)."
        )
        raise CRSError(msg)
    return c


def projected_crs() -> pyproj.CRS:
    """Return :data:`pointplan.settings.projected_crs`, checked to be projected (metres).

    Every distance and area pointplan computes is measured in this CRS, so a user who
    sets it to a geographic CRS (degrees) gets a :class:`CRSError` instead of distances
    in degrees.
    """
    try:
        crs = pyproj.CRS.from_user_input(settings.projected_crs)
    except pyproj.exceptions.CRSError as exc:
        msg = (
            f"pointplan.settings.projected_crs = {settings.projected_crs!r} is not a CRS pyproj "
            "knows. Use a projected CRS in metres such as 'EPSG:32648' (UTM 48N)."
        )
        raise CRSError(msg) from exc
    return check_projected(crs, "pointplan.settings.projected_crs")


def to_projected(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in :data:`pointplan.settings.projected_crs` (a copy, never in place)."""
    check_crs(gdf, what)
    return gdf.to_crs(projected_crs())


def check_geometries(
    gdf: gpd.GeoDataFrame,
    what: str,
    *,
    types: Sequence[str] | None = None,
) -> None:
    """Check geometries are present, non-empty, valid and of the allowed types."""
    geom = gdf.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        msg = (
            f"{what} has missing or empty geometries in rows {_rows(gdf.index[missing])}. "
            "Give those rows coordinates or drop them."
        )
        raise GeometryError(msg)
    coords, which = shapely.get_coordinates(geom.values, include_z=False, return_index=True)
    not_finite = ~np.isfinite(coords).all(axis=1)
    if not_finite.any():
        rows = gdf.index[np.unique(which[not_finite])]
        msg = (
            f"{what} has coordinates that are not finite numbers (NaN or infinity) in rows "
            f"{_rows(rows)}. Give those rows real coordinates or drop them."
        )
        raise GeometryError(msg)
    if types is not None:
        bad = ~geom.geom_type.isin(list(types))
        if bad.any():
            found = sorted(set(geom.geom_type[bad]))
            msg = f"{what} must hold {'/'.join(types)} geometries; rows {_rows(gdf.index[bad])} are {found}."
            if "Point" in types:
                msg += " Use representative points (gdf.representative_point()) for polygons."
            raise GeometryError(msg)
    invalid = ~geom.is_valid
    if invalid.any():
        reasons = shapely.is_valid_reason(geom[invalid].values)
        msg = (
            f"{what} has invalid geometries in rows {_rows(gdf.index[invalid])} "
            f"({reasons[0]}). Repair them with gdf.make_valid() or in QGIS (Fix geometries)."
        )
        raise GeometryError(msg)


def check_in_area(
    gdf: gpd.GeoDataFrame,
    what: str,
    bbox: tuple[float, float, float, float] = HANOI_BBOX,
    area_name: str = "Hanoi",
) -> None:
    """Check points fall in a lon/lat box; detect swapped longitude/latitude."""
    geo = gdf.geometry.to_crs(settings.geographic_crs)
    x = np.asarray(geo.x if (geo.geom_type == "Point").all() else geo.representative_point().x)
    y = np.asarray(geo.y if (geo.geom_type == "Point").all() else geo.representative_point().y)
    xmin, ymin, xmax, ymax = bbox
    # NaN/inf (e.g. metres declared as degrees) compare False: they count as outside.
    inside = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    if inside.all():
        return
    swapped = (y >= xmin) & (y <= xmax) & (x >= ymin) & (x <= ymax)
    out = ~inside
    if swapped[out].all():
        msg = (
            f"{what}: longitude and latitude look swapped in rows {_rows(gdf.index[out])} "
            f"(e.g. x={x[out][0]:.4f}, y={y[out][0]:.4f}; {area_name} is near lon "
            f"{(xmin + xmax) / 2:.2f}, lat {(ymin + ymax) / 2:.2f}). Swap the columns "
            "(longitude is x, latitude is y)."
        )
        raise CRSError(msg)
    msg = (
        f"{what}: rows {_rows(gdf.index[out])} lie outside {area_name} (e.g. x={x[out][0]:.4f}, "
        f"y={y[out][0]:.4f} in lon/lat). Check the coordinates and the CRS they were given in."
    )
    raise CRSError(msg)


def check_unique(df: pd.DataFrame, column: str, what: str) -> None:
    """Check a column has no duplicates or missing values."""
    col = df[column]
    if col.isna().any():
        msg = f"{what}: column '{column}' is empty in rows {_rows(df.index[col.isna()])}. Give every row a value."
        raise InputError(msg)
    dup = col.duplicated(keep=False)
    if dup.any():
        msg = (
            f"{what}: column '{column}' must be unique; duplicated values "
            f"{_rows(sorted(set(col[dup].astype(str))))}. Give each row its own id."
        )
        raise InputError(msg)


def check_nonnegative(
    df: pd.DataFrame,
    column: str,
    what: str,
    *,
    allow_na: bool = False,
    integer: bool = False,
) -> pd.Series:
    """Check a numeric column is a finite number >= 0 in every row; return it as float.

    With ``integer`` the numbers must also be whole (e.g. counters).
    """
    raw = df[column]
    if isinstance(raw, pd.DataFrame):
        msg = f"{what}: the column '{column}' appears more than once. Keep one of them."
        raise InputError(msg)
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        # blank cells typed in a spreadsheet count as missing, not as "not a number"
        blank = raw.map(lambda v: isinstance(v, str) and not v.strip())
        raw = raw.astype(object).where(~blank, None)
    values = pd.to_numeric(raw, errors="coerce")
    not_number = values.isna() & raw.notna()
    if not_number.any():
        bad = raw[not_number]
        msg = (
            f"{what}: column '{column}' must be numeric; rows {_rows(bad.index)} hold "
            f"{_rows(bad.tolist(), 3)}. Type plain numbers (e.g. 3, with a dot for decimals "
            "and no units or thousands separators)."
        )
        raise InputError(msg)
    if not allow_na and values.isna().any():
        msg = (
            f"{what}: column '{column}' is missing (NaN) in rows {_rows(df.index[values.isna()])}. "
            "Fill those cells in or drop the rows."
        )
        raise InputError(msg)
    values = values.astype(float)
    infinite = np.isinf(values)
    if infinite.any():
        msg = f"{what}: column '{column}' is infinite in rows {_rows(df.index[infinite])}. Give finite numbers."
        raise InputError(msg)
    neg = values < 0
    if neg.any():
        msg = (
            f"{what}: column '{column}' is negative in rows {_rows(df.index[neg])} "
            f"({_rows(values[neg].tolist(), 3)}). Give numbers >= 0."
        )
        raise InputError(msg)
    if integer:
        frac = values.notna() & (values != np.round(values))
        if frac.any():
            msg = (
                f"{what}: column '{column}' must hold whole numbers; rows "
                f"{_rows(df.index[frac])} hold {_rows(values[frac].tolist(), 3)}."
            )
            raise InputError(msg)
    return values


def check_number(
    value: object,
    what: str,
    *,
    minimum: float | None = None,
    strict: bool = False,
    allow_none: bool = False,
) -> float | None:
    """Check a scalar argument is a finite number (>= or > ``minimum``); return it as float."""
    if value is None and allow_none:
        return None
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        msg = f"{what} must be a number, got {value!r}."
        raise InputError(msg) from None
    if not np.isfinite(v):
        msg = f"{what} must be a finite number, got {value!r}."
        raise InputError(msg)
    if minimum is not None and (v <= minimum if strict else v < minimum):
        msg = f"{what} must be {'>' if strict else '>='} {minimum:g}, got {value!r}."
        raise InputError(msg)
    return v
