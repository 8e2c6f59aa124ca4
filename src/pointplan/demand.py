"""Population and visit demand: raster cells, dasymetric scaling, dossier volumes.

Coverage and access are weighted by people. This module turns a population raster and
unit polygons into **demand points**, and dossier figures into **in-person visits per day**.

Population demand (:func:`build_demand`)
    The WorldPop 2020 1 km raster (30 arc-second pixels, people per pixel) is read with a
    window on the bounds of the units only, so the all-Vietnam file works in bounded memory
    (row blocks of ``block_rows`` pixels). Every pixel is cut by the unit polygons; each
    *piece* (pixel ∩ unit) becomes one demand point with the pixel's people in proportion
    to the piece's share of the pixel's area (people are assumed evenly spread inside a
    pixel). The raster only gives the pattern inside a unit: each unit's pieces are then
    rescaled (dasymetric mapping) so that they sum to the unit's official population, so
    Hanoi's demand totals 8,807,523 (2025) although WorldPop 2020 counts 8.25 M inside the
    outline. A unit whose pieces hold no raster population (outside the raster, or all
    nodata/zero) gets its population spread by piece area and the flag
    ``"uniform_no_raster"``. ``cell_m=250`` cuts every pixel into sub-cells of at most
    250 m (4 × 4 at Hanoi's latitude) with the same per-unit totals: that is a finer
    *geometry* (points closer to where a unit's share of a pixel lies), not finer data —
    no population grid finer than 1 km is available offline. ``method="uniform"`` is the
    fallback without any raster: a grid of about ``points_per_unit`` cells per unit,
    people spread by area (flag ``"uniform_fallback"``).

Visit demand (:func:`visits_per_day`, :func:`demand_visits`)
    Commune-level dossiers per day spread over units by population (the default, from the
    city-wide figures below), or the user's own per-unit counts; times the in-person share.

Old addresses (:func:`convert_old_units`, :func:`aggregate_dossiers`)
    Dossier records often carry pre-2025 ward names or codes. They are converted to the 2025
    unit codes with the old→new mapping (``hanoi/old_to_new_units.csv``, from the
    ``vietnamadminunits`` 1.0.4 tables). The package itself is not called: for split wards
    its ``convert_address`` geocodes online (arcgis), which pointplan never does unasked.

Sources of the default figures
------------------------------
Lao Động (Sep 2025), restated in ``planning_context.md``: at commune level, 1 Jul – 23 Sep
2025, **531,269 dossiers** ("about 177,000 a month, over 8,000 a day"); **40.05 %** filed in
person, 59.71 % online, 0.24 % by post.

*Working days, not calendar days.* Counters receive on working days, so demand per day is
per working day. The article's "over 8,000 a day" is 531,269 / 3 months ≈ 177,000 a month
over ≈ 22 working days a month (≈ 8,050). :data:`DEFAULT_DOSSIERS_PER_DAY` keeps the
published 8,000. The strict count for the period is higher: 1 Jul – 23 Sep 2025 has 85
calendar days, 61 weekdays and **59 working days** (less the National Day holiday of 1–2
Sep), i.e. 531,269 / 59 ≈ 9,005 a working day (6,250 a calendar day). Pass
``dossiers_per_day=SOURCE_DOSSIERS / SOURCE_WORKING_DAYS`` for that upper reading.

Examples
--------
>>> from pointplan.demand import build_demand, visits_per_day  # doctest: +SKIP
>>> demand = build_demand()                       # Hanoi, WorldPop 1 km  # doctest: +SKIP
>>> round(demand["population"].sum())             # doctest: +SKIP
8807523
>>> visits = visits_per_day()                     # doctest: +SKIP
>>> round(visits["visits_per_day"].sum())         # 8,000 x 40.05 %  # doctest: +SKIP
3204
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import rasterio
import rasterio.errors
import rasterio.windows
import shapely

from pointplan import settings
from pointplan._errors import CRSError, DataNotFoundError, GeometryError, InputError
from pointplan._text import name_key, normalize_name
from pointplan._validate import projected_crs
from pointplan.data import data_file, load_old_to_new, load_units

__all__ = [
    "DEFAULT_DOSSIERS_PER_DAY",
    "FLAG_FALLBACK",
    "FLAG_NO_RASTER",
    "IN_PERSON_SHARE",
    "SOURCE_CALENDAR_DAYS",
    "SOURCE_DOSSIERS",
    "SOURCE_WORKING_DAYS",
    "ConversionResult",
    "aggregate_dossiers",
    "build_demand",
    "convert_old_units",
    "demand_for_units",
    "demand_visits",
    "iter_raster_cells",
    "visits_per_day",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Commune-level dossiers in Hanoi, 1 Jul – 23 Sep 2025 (Lao Động, Sep 2025).
SOURCE_DOSSIERS: int = 531_269
#: Calendar days of that period (1 Jul – 23 Sep 2025 inclusive).
SOURCE_CALENDAR_DAYS: int = 85
#: Working days of that period: 61 weekdays less the National Day holiday (1–2 Sep 2025).
SOURCE_WORKING_DAYS: int = 59
#: Commune-level dossiers per **working** day, city-wide: the published "over 8,000 a day"
#: (≈ 177,000 a month over ≈ 22 working days). See the module notes for the stricter 9,005.
DEFAULT_DOSSIERS_PER_DAY: float = 8_000.0
#: Share of dossiers filed in person at a counter (40.05 %, Lao Động, Sep 2025).
IN_PERSON_SHARE: float = 0.4005

#: Flag of demand points whose unit had no raster population (spread by area).
FLAG_NO_RASTER = "uniform_no_raster"
#: Flag of demand points built without a raster (``method="uniform"``).
FLAG_FALLBACK = "uniform_fallback"

_WORLDPOP_KEYS = ("worldpop_hanoi", "worldpop_vnm")
# Relative tolerance when comparing coordinates to pixel edges (pixel units).
_EDGE_EPS = 1e-6
# Pieces smaller than this share of a cell are slivers (digitising or reprojection noise
# along a unit edge that follows a cell edge) and are dropped: left in, a unit whose only
# raster people sit in a sliver would put its whole population on it.
_MIN_PIECE_FRAC = 1e-6


# ---------------------------------------------------------------------------------------
# Population demand
# ---------------------------------------------------------------------------------------


@dataclass
class _Pieces:
    """Demand pieces (cell ∩ unit) as parallel arrays, before allocation."""

    unit: npt.NDArray[np.intp]
    row: npt.NDArray[np.int64]
    col: npt.NDArray[np.int64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    raw: npt.NDArray[np.float64]
    area_km2: npt.NDArray[np.float64]
    shape: npt.NDArray[np.object_] = field(repr=False)  # piece polygon or None (full cell)

    @classmethod
    def concat(cls, parts: list[_Pieces]) -> _Pieces:
        if not parts:
            e_i = np.empty(0, dtype=np.intp)
            e_f = np.empty(0, dtype=np.float64)
            return cls(e_i, e_i.astype(np.int64), e_i.astype(np.int64), e_f, e_f, e_f, e_f, np.empty(0, dtype=object))
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("unit", "row", "col", "x", "y", "raw", "area_km2", "shape")
            )
        )


def _unit_codes(units: gpd.GeoDataFrame) -> pd.Index:
    """Return unit codes as strings: the index, or a ``code`` column beside a RangeIndex."""
    if isinstance(units.index, pd.RangeIndex) and "code" in units.columns:
        codes = pd.Index(units["code"].astype(str), name="code")
    else:
        codes = pd.Index(units.index.astype(str), name="code")
    if codes.has_duplicates:
        dup = sorted(set(codes[codes.duplicated()]))[:8]
        msg = f"units: unit codes must be unique; duplicated {dup}. Give each unit its own code."
        raise InputError(msg)
    return codes


def _check_units(units: object, population_col: str) -> tuple[gpd.GeoDataFrame, pd.Index, npt.NDArray[np.float64]]:
    """Validate the units frame; return it, its codes and populations."""
    if not isinstance(units, gpd.GeoDataFrame):
        msg = (
            f"units must be a geopandas GeoDataFrame of unit polygons, got "
            f"{type(units).__name__}. Load them with pointplan.load_units() or "
            "geopandas.read_file(path)."
        )
        raise InputError(msg)
    if len(units) == 0:
        msg = "units is empty: give at least one unit polygon."
        raise InputError(msg)
    if units.crs is None:
        msg = (
            "units has no CRS. Set the one its coordinates are in, e.g. "
            "units.set_crs('EPSG:4326') for longitude/latitude."
        )
        raise CRSError(msg)
    if population_col not in units.columns:
        msg = (
            f"units lacks the population column {population_col!r}; it has "
            f"{list(map(str, units.columns))}. Pass population_col=... naming the column "
            "with each unit's population."
        )
        raise InputError(msg)
    codes = _unit_codes(units)
    raw = units[population_col]
    pop = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        msg = (
            f"units: column {population_col!r} must hold finite numbers >= 0; units "
            f"{list(codes[bad][:8])} hold {raw[bad].head(3).tolist()}."
        )
        raise InputError(msg)
    geom = np.asarray(units.geometry.values, dtype=object)
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    if empty.any():
        msg = f"units {list(codes[empty][:8])} have no geometry; drop them or give polygons."
        raise GeometryError(msg)
    kinds = shapely.get_type_id(geom)
    not_poly = ~np.isin(kinds, (3, 6))
    if not_poly.any():
        msg = (
            f"units must be Polygon/MultiPolygon; units {list(codes[not_poly][:8])} are "
            f"{sorted(set(units.geometry[not_poly].geom_type))}. Keep the polygons only."
        )
        raise GeometryError(msg)
    invalid = ~shapely.is_valid(geom)
    if invalid.any():
        msg = (
            f"units {list(codes[invalid][:8])} have invalid polygons "
            f"({shapely.is_valid_reason(geom[invalid][0])}). Repair them with "
            "units.make_valid() or in QGIS (Fix geometries)."
        )
        raise GeometryError(msg)
    return units, codes, pop


def _polygonal(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Keep only the polygonal parts of intersection results (drop lines and points)."""
    kinds = shapely.get_type_id(geoms)
    mixed = np.flatnonzero(kinds == 7)  # GeometryCollection
    out = geoms.copy()
    lower = np.isin(kinds, (0, 1, 2, 4, 5))  # points/lines: touch only
    out[lower] = shapely.Polygon()
    if mixed.size:
        parts, idx = shapely.get_parts(geoms[mixed], return_index=True)
        sub, sub_idx = shapely.get_parts(parts, return_index=True)  # flatten MultiPolygons
        idx = idx[sub_idx]
        keep = shapely.get_type_id(sub) == 3
        res = np.full(mixed.size, None, dtype=object)
        if keep.any():
            shapely.multipolygons(sub[keep], indices=idx[keep], out=res)
        res[pd.isna(res)] = shapely.Polygon()
        out[mixed] = res
    return out


def _ellipsoid_band_area_km2(
    lat_top: npt.NDArray[np.float64],
    lat_bottom: npt.NDArray[np.float64],
    dlon_deg: float,
    crs: pyproj.CRS,
) -> npt.NDArray[np.float64]:
    """Exact area (km²) of a lon/lat quadrangle on the CRS's ellipsoid (authalic formula)."""
    ell = crs.ellipsoid
    a = ell.semi_major_metre if ell is not None else 6378137.0
    inv_f = ell.inverse_flattening if ell is not None else 298.257223563
    f = 1.0 / inv_f if inv_f else 0.0
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(lat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        s = np.sin(np.radians(lat))
        if e == 0:
            return 2 * s
        return (1 - e2) * (s / (1 - e2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))

    area_m2 = np.abs(np.radians(dlon_deg)) * a * a / 2.0 * np.abs(q(lat_top) - q(lat_bottom))
    return area_m2 / 1e6


def _pixel_size_m(transform: rasterio.Affine, crs: pyproj.CRS, lat: float) -> tuple[float, float]:
    """Pixel width and height in metres (at latitude ``lat`` for a geographic CRS)."""
    if crs.is_geographic:
        geod = crs.get_geod() or pyproj.Geod(ellps="WGS84")
        lon = 0.0
        _, _, width = geod.inv(lon, lat, lon + abs(transform.a), lat)
        _, _, height = geod.inv(lon, lat - abs(transform.e) / 2, lon, lat + abs(transform.e) / 2)
        return float(width), float(height)
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return abs(transform.a) * factor, abs(transform.e) * factor


@contextlib.contextmanager
def _open_raster(path: Path) -> Iterator[rasterio.DatasetReader]:
    """Open a raster; an unreadable or damaged file gives an InputError naming it.

    Errors raised while reading inside the ``with`` block are converted too.
    """
    try:
        with rasterio.open(path) as src:
            yield src
    except rasterio.errors.RasterioError as exc:
        msg = (
            f"Cannot read the population raster {path}: {exc}. Check that it is a complete "
            "GeoTIFF (open it in QGIS) or restore it from its source (see data/README.md)."
        )
        raise InputError(msg) from exc


def _default_raster(bounds_4326: tuple[float, float, float, float]) -> Path:
    """Pick the Hanoi WorldPop window when it covers the units, else the all-Vietnam raster."""
    path = data_file("worldpop_hanoi")
    with _open_raster(path) as src:
        b = src.bounds
    minx, miny, maxx, maxy = bounds_4326
    if minx >= b.left and maxx <= b.right and miny >= b.bottom and maxy <= b.top:
        return path
    try:
        return data_file("worldpop_vnm")
    except DataNotFoundError as exc:
        msg = (
            "The units reach beyond the Hanoi WorldPop window and the all-Vietnam raster "
            "'population/worldpop_2020_1km_vnm.tif' is not available. Pass raster=... (a "
            "population GeoTIFF covering your units) or method='uniform'."
        )
        raise DataNotFoundError(msg) from exc


def _method_name(path: Path, cell_m: float | None, subdivided: bool) -> str:
    source = "raster"
    for key in _WORLDPOP_KEYS:
        try:
            if Path(data_file(key, verify=False)).resolve() == path.resolve():
                source = "worldpop2020"
        except Exception:  # a missing reference file only changes the label
            continue
    res = f"{round(cell_m)}m" if (subdivided and cell_m is not None) else "1km"
    if source == "raster":
        res = f"{round(cell_m)}m" if (subdivided and cell_m is not None) else "native"
    return f"{source}_{res}_dasymetric"


def _read_rows(src: rasterio.io.DatasetReader, row0: int, row1: int, col0: int, col1: int) -> npt.NDArray[np.float64]:
    """Read rows/cols [row0,row1)×[col0,col1) of band 1, zero outside the raster and nodata."""
    out = np.zeros((row1 - row0, col1 - col0), dtype=np.float64)
    r0, r1 = max(row0, 0), min(row1, src.height)
    c0, c1 = max(col0, 0), min(col1, src.width)
    if r0 >= r1 or c0 >= c1:
        return out
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    data = src.read(1, window=window).astype(np.float64, copy=False)
    bad = ~np.isfinite(data) | (data < 0)
    if src.nodata is not None:
        bad |= data == src.nodata
    if bad.any():
        data = np.where(bad, 0.0, data)
    out[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = data
    return out


def _window_of(transform: rasterio.Affine, bounds: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """Pixel rows/cols (row0, row1, col0, col1) covering ``bounds`` (may exceed the raster)."""
    minx, miny, maxx, maxy = bounds
    col0 = math.floor((minx - transform.c) / transform.a + _EDGE_EPS)
    col1 = math.ceil((maxx - transform.c) / transform.a - _EDGE_EPS)
    row0 = math.floor((maxy - transform.f) / transform.e + _EDGE_EPS)
    row1 = math.ceil((miny - transform.f) / transform.e - _EDGE_EPS)
    return row0, max(row1, row0 + 1), col0, max(col1, col0 + 1)


def _cut_cells(
    boxes: npt.NDArray[np.object_],
    parents: npt.NDArray[np.object_],
    min_area: float,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.object_]]:
    """Classify cells against parent polygons: wholly inside, cut (with the piece), or out.

    ``parents`` must be prepared. Returns ``(whole, cut, pieces)``; ``pieces`` holds the
    cell ∩ parent polygon where ``cut`` (slivers under ``min_area`` count as out).
    """
    whole = shapely.contains_properly(parents, boxes)
    rest = np.flatnonzero(~whole)
    touching = rest[shapely.intersects(parents[rest], boxes[rest])]
    pieces = np.full(boxes.size, None, dtype=object)
    if touching.size:
        cut_geoms = _polygonal(shapely.intersection(boxes[touching], parents[touching]))
        big = shapely.area(cut_geoms) > min_area
        touching, cut_geoms = touching[big], cut_geoms[big]
        pieces[touching] = cut_geoms
    cut = np.zeros(boxes.size, dtype=bool)
    cut[touching] = True
    return whole, cut, pieces


def _block_pieces(
    values: npt.NDArray[np.float64],
    row0: int,
    col0: int,
    transform: rasterio.Affine,
    tree: shapely.STRtree,
    geoms: npt.NDArray[np.object_],
    pixel_km2_of_row: npt.NDArray[np.float64],
    ny: int,
    nx: int,
) -> _Pieces:
    """Cut one block of pixels by the units; return pieces of output cells.

    Output cells are the pixels (``ny = nx = 1``) or their ``ny × nx`` sub-cells. Pixels
    are matched to units by envelope (STRtree) and classified with prepared predicates:
    wholly inside (no geometry work), cut, or out. Sub-cells of a cut pixel are then cut by
    that pixel's small piece, not by the whole unit polygon. (A coarser first level of
    tiles was tried and did not pay: GEOS intersections cost about the same per call on
    the smaller pieces.)
    """
    nrows, ncols = values.shape
    dx = transform.a / nx
    dy = transform.e / ny  # negative: rows go south
    ox = transform.c + col0 * transform.a
    oy = transform.f + row0 * transform.e
    pixel_area = abs(transform.a * transform.e)
    min_area = _MIN_PIECE_FRAC * pixel_area

    def boxes_of(r: npt.NDArray[np.int64], c: npt.NDArray[np.int64], sy: int, sx: int) -> npt.NDArray[np.object_]:
        """Boxes of sy × sx output cells whose top-left output cell is (r, c)."""
        x0 = ox + c * dx
        y0 = oy + r * dy
        return shapely.box(x0, y0 + sy * dy, x0 + sx * dx, y0)

    # Pixels against whole units (STRtree on envelopes, prepared unit polygons). Indices
    # r, c count output cells from the block's top-left corner.
    pr, pc = np.divmod(np.arange(nrows * ncols, dtype=np.int64), ncols)
    r, c = pr * ny, pc * nx
    boxes = boxes_of(r, c, ny, nx)
    cell, unit = tree.query(boxes)
    r, c, boxes = r[cell], c[cell], boxes[cell]
    whole, cut, pieces = _cut_cells(boxes, geoms[unit], min_area)
    whole_parts = [(r[whole], c[whole], unit[whole], ny, nx)]
    r, c, unit, pieces = r[cut], c[cut], unit[cut], pieces[cut]
    if ny * nx > 1:
        # Sub-cells of cut pixels against the pixel's piece (small, prepared once).
        k = ny * nx
        sub = np.tile(np.arange(k, dtype=np.int64), r.size)
        r = np.repeat(r, k) + sub // nx
        c = np.repeat(c, k) + sub % nx
        unit = np.repeat(unit, k)
        parents = np.repeat(pieces, k)
        shapely.prepare(parents)
        boxes = boxes_of(r, c, 1, 1)
        whole, cut, pieces = _cut_cells(boxes, parents, min_area)
        shapely.destroy_prepared(parents)
        whole_parts.append((r[whole], c[whole], unit[whole], 1, 1))
        r, c, unit, pieces = r[cut], c[cut], unit[cut], pieces[cut]

    # Whole cells of any level -> output cells, no geometry needed.
    wr, wc, wu = [], [], []
    for whole_r, whole_c, whole_u, qy, qx in whole_parts:
        k = qy * qx
        sub = np.tile(np.arange(k, dtype=np.int64), whole_r.size)
        wr.append(np.repeat(whole_r, k) + sub // qx)
        wc.append(np.repeat(whole_c, k) + sub % qx)
        wu.append(np.repeat(whole_u, k))
    orow, ocol, ounit = np.concatenate(wr), np.concatenate(wc), np.concatenate(wu)
    prow, pcol = orow // ny, ocol // nx
    interior = _Pieces(
        unit=ounit.astype(np.intp),
        row=prow + row0,
        col=pcol + col0,
        x=ox + (ocol + 0.5) * dx,
        y=oy + (orow + 0.5) * dy,
        raw=values[prow, pcol] / (ny * nx),
        area_km2=pixel_km2_of_row[prow] / (ny * nx),
        shape=np.full(orow.size, None, dtype=object),
    )
    # Cut output cells: the piece's area share of its pixel, a point on its surface.
    prow, pcol = r // ny, c // nx
    frac = shapely.area(pieces) / pixel_area if pieces.size else np.empty(0)
    pts = shapely.point_on_surface(pieces) if pieces.size else np.empty(0, dtype=object)
    boundary = _Pieces(
        unit=unit.astype(np.intp),
        row=prow + row0,
        col=pcol + col0,
        x=shapely.get_x(pts) if pieces.size else np.empty(0),
        y=shapely.get_y(pts) if pieces.size else np.empty(0),
        raw=values[prow, pcol] * frac,
        area_km2=pixel_km2_of_row[prow] * frac,
        shape=pieces,
    )
    return _Pieces.concat([interior, boundary])


def _transformer(src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer | None:
    """Return an x/y-ordered transformer, or None when the CRSs are the same."""
    if src == dst:
        return None
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _to_units_crs(
    pieces: _Pieces,
    to_units: pyproj.Transformer | None,
    geoms_u: npt.NDArray[np.object_],
) -> _Pieces:
    """Move piece points into the units' CRS and make sure each lies inside its unit.

    A point on the surface of a piece is inside the piece, but a sliver piece or a
    reprojection can leave it on or just outside the unit's edge. Those rare points are
    moved onto the surface of (piece ∩ unit) in the units' CRS, or as a last resort onto
    the unit's own representative point. The piece shapes are released afterwards.
    ``geoms_u`` must be prepared.
    """
    if to_units is not None and pieces.x.size:
        x, y = to_units.transform(pieces.x, pieces.y)
        pieces.x, pieces.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    pts = shapely.points(pieces.x, pieces.y)
    inside = shapely.contains_properly(geoms_u[pieces.unit], pts)
    bad = np.flatnonzero(~inside)
    if bad.size:
        logger.debug("moving %d demand points that fell on or outside their unit", bad.size)
        unit_geoms = geoms_u[pieces.unit[bad]]
        shapes = pieces.shape[bad]
        have = ~pd.isna(shapes)
        fixed = np.full(bad.size, None, dtype=object)
        if have.any():
            cut = shapes[have]
            if to_units is not None:
                cut = shapely.transform(cut, lambda xy: np.column_stack(to_units.transform(xy[:, 0], xy[:, 1])))
            clipped = _polygonal(shapely.intersection(cut, unit_geoms[have]))
            fixed[have] = np.where(shapely.area(clipped) > 0, shapely.point_on_surface(clipped), None)
        ok = ~pd.isna(fixed)
        ok[ok] = shapely.contains_properly(unit_geoms[ok], fixed[ok].astype(object))
        fixed[~ok] = shapely.point_on_surface(unit_geoms[~ok])
        pieces.x[bad] = shapely.get_x(fixed)
        pieces.y[bad] = shapely.get_y(fixed)
    pieces.shape = np.full(pieces.x.size, None, dtype=object)
    return pieces


def _raster_pieces(
    geoms_u: npt.NDArray[np.object_],
    units_crs: pyproj.CRS,
    path: Path,
    cell_m: float | None,
    block_rows: int,
) -> tuple[_Pieces, dict[str, object]]:
    """Read the raster window of the units in row blocks and cut it into pieces.

    Returns pieces whose points are in the units' CRS (``geoms_u``, prepared).
    """
    with _open_raster(path) as src:
        transform = src.transform
        if src.crs is None:
            msg = f"The raster {path} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4326)."
            raise CRSError(msg)
        if transform.b != 0 or transform.d != 0 or transform.e >= 0 or transform.a <= 0:
            msg = (
                f"The raster {path} is rotated or not north-up; warp it first "
                "(gdalwarp -t_srs EPSG:4326 in.tif out.tif)."
            )
            raise InputError(msg)
        rcrs = pyproj.CRS.from_user_input(src.crs)
        if rcrs == units_crs:
            geoms = geoms_u
        else:
            geoms = np.asarray(gpd.GeoSeries(geoms_u, crs=units_crs).to_crs(rcrs).values, dtype=object)
            shapely.prepare(geoms)
        to_units = _transformer(rcrs, units_crs)
        b = shapely.total_bounds(geoms)
        bounds = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        row0, row1, col0, col1 = _window_of(transform, bounds)
        lat_mid = (bounds[1] + bounds[3]) / 2 if rcrs.is_geographic else 0.0
        width_m, height_m = _pixel_size_m(transform, rcrs, lat_mid)
        if cell_m is None:
            ny = nx = 1
        else:
            if cell_m > 1.05 * max(width_m, height_m):
                msg = (
                    f"cell_m={cell_m:g} is larger than the raster pixel "
                    f"({width_m:.0f} × {height_m:.0f} m); only finer sub-cells are supported. "
                    "Use cell_m=None for the native pixels."
                )
                raise InputError(msg)
            nx = max(1, math.ceil(width_m / cell_m - 1e-9))
            ny = max(1, math.ceil(height_m / cell_m - 1e-9))
        tree = shapely.STRtree(geoms)
        parts = []
        for r in range(row0, row1, block_rows):
            r_end = min(r + block_rows, row1)
            values = _read_rows(src, r, r_end, col0, col1)
            top = transform.f + np.arange(r, r_end) * transform.e
            if rcrs.is_geographic:
                km2 = _ellipsoid_band_area_km2(top, top + transform.e, transform.a, rcrs)
            else:
                factor = rcrs.axis_info[0].unit_conversion_factor if rcrs.axis_info else 1.0
                km2 = np.full(r_end - r, abs(transform.a * transform.e) * factor**2 / 1e6)
            block = _block_pieces(values, r, col0, transform, tree, geoms, km2, ny, nx)
            parts.append(_to_units_crs(block, to_units, geoms_u))
        if geoms is not geoms_u:
            shapely.destroy_prepared(geoms)
    meta: dict[str, object] = {
        "raster": str(path),
        "window": (row0, row1, col0, col1),
        "subcells": (ny, nx),
        "pixel_size_m": (round(width_m, 1), round(height_m, 1)),
        "subdivided": ny * nx > 1,
    }
    return _Pieces.concat(parts), meta


def _uniform_pieces(
    geoms_u: npt.NDArray[np.object_],
    units_crs: pyproj.CRS,
    cell_m: float | None,
    points_per_unit: int,
) -> _Pieces:
    """Cut each unit by a square grid of about ``points_per_unit`` cells (or of ``cell_m``).

    Built in the projected CRS; returns pieces whose points are in the units' CRS.
    """
    crs = projected_crs()
    proj = np.asarray(gpd.GeoSeries(geoms_u, crs=units_crs).to_crs(crs).values, dtype=object)
    area = shapely.area(proj)
    bounds = shapely.bounds(proj)
    side = np.full(len(proj), float(cell_m)) if cell_m else np.sqrt(area / points_per_unit)
    width = bounds[:, 2] - bounds[:, 0]
    height = bounds[:, 3] - bounds[:, 1]
    nx = np.maximum(1, np.ceil(width / side - 1e-9)).astype(np.int64)
    ny = np.maximum(1, np.ceil(height / side - 1e-9)).astype(np.int64)
    n = nx * ny
    unit = np.repeat(np.arange(len(proj)), n)
    local = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    r, c = np.divmod(local, nx[unit])
    x0 = bounds[unit, 0] + c * side[unit]
    y1 = bounds[unit, 3] - r * side[unit]
    boxes = shapely.box(x0, y1 - side[unit], x0 + side[unit], y1)
    shapely.prepare(proj)
    whole, cut, pieces = _cut_cells(boxes, proj[unit], 0.0)
    pieces[whole] = boxes[whole]
    a = np.zeros(boxes.size)
    a[whole | cut] = shapely.area(pieces[whole | cut])
    keep = a > _MIN_PIECE_FRAC * side[unit] ** 2
    unit, r, c, pieces, a = unit[keep], r[keep], c[keep], pieces[keep], a[keep]
    pts = shapely.point_on_surface(pieces)
    shapes = pieces.copy()
    shapes[whole[keep]] = None  # whole cells need no fixing later
    out = _Pieces(
        unit=unit.astype(np.intp),
        row=r.astype(np.int64),
        col=c.astype(np.int64),
        x=shapely.get_x(pts),
        y=shapely.get_y(pts),
        raw=np.full(unit.size, np.nan),
        area_km2=a / 1e6,
        shape=shapes,
    )
    return _to_units_crs(out, _transformer(crs, units_crs), geoms_u)


def _allocate(
    pieces: _Pieces,
    units: gpd.GeoDataFrame,
    geoms_u: npt.NDArray[np.object_],
    codes: pd.Index,
    pop: npt.NDArray[np.float64],
    *,
    fallback: bool,
    keep_empty: bool,
) -> gpd.GeoDataFrame:
    """Rescale pieces (points in the units' CRS) to unit populations; build the output."""
    n_units = len(codes)
    # Units with no piece at all (degenerate or sliver polygons): one point at the unit.
    counts = np.bincount(pieces.unit, minlength=n_units)
    empty_units = np.flatnonzero(counts == 0)
    if empty_units.size:
        rp = shapely.point_on_surface(geoms_u[empty_units])
        extra = _Pieces(
            unit=empty_units.astype(np.intp),
            row=np.full(empty_units.size, -1, dtype=np.int64),
            col=np.full(empty_units.size, -1, dtype=np.int64),
            x=shapely.get_x(rp),
            y=shapely.get_y(rp),
            raw=np.zeros(empty_units.size),
            area_km2=np.full(empty_units.size, 1e-12),
            shape=np.full(empty_units.size, None, dtype=object),
        )
        pieces = _Pieces.concat([pieces, extra])
    raw = np.nan_to_num(pieces.raw, nan=0.0)
    raw_sum = np.bincount(pieces.unit, raw, minlength=n_units)
    area_sum = np.bincount(pieces.unit, pieces.area_km2, minlength=n_units)
    by_area = np.ones(n_units, dtype=bool) if fallback else raw_sum <= 0
    weight = np.where(by_area[pieces.unit], pieces.area_km2, raw)
    weight_sum = np.where(by_area, area_sum, raw_sum)
    population = pop[pieces.unit] * weight / weight_sum[pieces.unit]
    flag_value = FLAG_FALLBACK if fallback else FLAG_NO_RASTER
    flags = np.where(by_area[pieces.unit], flag_value, "")
    if not fallback and by_area.any():
        logger.warning(
            "%d unit(s) have no raster population; their people are spread by area (flag %r): %s",
            int(by_area.sum()),
            FLAG_NO_RASTER,
            list(codes[by_area][:10]),
        )
    # Zero-population pieces weigh nothing: dropped unless keep_empty.
    keep = np.ones(population.size, dtype=bool) if keep_empty else population > 0
    order = np.lexsort((pieces.col[keep], pieces.row[keep], pieces.unit[keep]))
    idx = np.flatnonzero(keep)[order]
    units_crs = pyproj.CRS.from_user_input(units.crs)
    geo = pyproj.CRS.from_user_input(settings.geographic_crs)
    x, y = pieces.x[idx], pieces.y[idx]
    to_geo = _transformer(units_crs, geo)
    if to_geo is not None:
        x, y = to_geo.transform(x, y)
    frame = pd.DataFrame(
        {
            "unit_code": codes.to_numpy()[pieces.unit[idx]].astype(str),
            "population": population[idx],
            "raster_population": pieces.raw[idx] if not fallback else np.full(idx.size, np.nan),
            "cell_area_km2": pieces.area_km2[idx],
            "flag": flags[idx],
            "pixel_row": pieces.row[idx],
            "pixel_col": pieces.col[idx],
        },
        index=pd.RangeIndex(idx.size, name="demand_id"),
    )
    gdf = gpd.GeoDataFrame(frame, geometry=shapely.points(x, y), crs=settings.geographic_crs)
    gdf.attrs["units_no_raster"] = list(map(str, codes[by_area])) if not fallback else []
    return gdf


def build_demand(
    units: gpd.GeoDataFrame | None = None,
    *,
    raster: str | Path | None = None,
    cell_m: float | None = None,
    population_col: str = "population",
    method: Literal["raster", "uniform"] = "raster",
    points_per_unit: int = 25,
    keep_empty: bool = False,
    block_rows: int = 256,
) -> gpd.GeoDataFrame:
    """Build population demand points: one per raster cell ∩ unit, rescaled to unit totals.

    Parameters
    ----------
    units
        Unit polygons with a CRS, one row per unit, indexed by unit code (or with a ``code``
        column and a plain RangeIndex), holding ``population_col``. Default: Hanoi's 126
        units (:func:`pointplan.load_units`).
    raster
        Population-count GeoTIFF (people per pixel, north-up). Default: the WorldPop 2020
        1 km Hanoi window, or the all-Vietnam raster when the units reach beyond it. Only
        the window on the units' bounds is read, in blocks of ``block_rows`` rows.
    cell_m
        ``None``: the raster's own pixels (≈ 1 km for WorldPop). A smaller value cuts each
        pixel into sub-cells of at most ``cell_m`` metres (``250`` gives 4 × 4 at Hanoi's
        latitude); the pixel's people are split by the sub-cells' area inside the unit.
        With ``method="uniform"``: the side of the grid cells (instead of
        ``points_per_unit``).
    population_col
        Column of ``units`` with each unit's population; every unit's demand sums to it.
    method
        ``"raster"`` (dasymetric, default) or ``"uniform"``: no raster, people spread by
        area over a grid of about ``points_per_unit`` cells per unit.
    points_per_unit
        Target number of cells per unit for ``method="uniform"``.
    keep_empty
        Keep pieces with zero population (by default they are dropped: they weigh nothing).
    block_rows
        Raster rows read and processed at a time (bounds memory on large windows).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points indexed by ``demand_id`` (0..n-1, ordered by unit code, then raster
        row and column), with ``unit_code``, ``population`` (people; sums to the unit's
        ``population_col``), ``raster_population`` (the raw raster people of the piece,
        before rescaling; NaN for ``method="uniform"``), ``cell_area_km2`` (area of the
        piece), ``flag`` (``""``, ``"uniform_no_raster"`` or ``"uniform_fallback"``),
        ``pixel_row``/``pixel_col`` (the source pixel in the raster file; grid cell in the
        unit for ``"uniform"``) and the point geometry: the cell centre when the whole cell
        lies in the unit, else a point on the surface of the cell ∩ unit piece, so every
        point lies strictly inside its unit (checked in the units' CRS; the rare point a
        sliver or a reprojection leaves on an edge is moved inside).
        ``attrs["demand_method"]`` names the method (e.g.
        ``"worldpop2020_1km_dasymetric"``); ``attrs["units_no_raster"]`` lists the units
        spread by area.

    Raises
    ------
    InputError
        Bad arguments or units (missing population column, negative populations...).
    GeometryError
        Missing, non-polygonal or invalid unit geometries.
    CRSError
        Units or raster without a CRS.
    DataNotFoundError
        No raster given and the reference raster is not available.

    Examples
    --------
    >>> demand = build_demand(cell_m=250)  # doctest: +SKIP
    >>> demand.groupby("unit_code")["population"].sum().loc["00070"]  # doctest: +SKIP
    105301.0
    """
    if units is None:
        units = load_units()
    units, codes, pop = _check_units(units, population_col)
    if method not in ("raster", "uniform"):
        msg = f"method must be 'raster' or 'uniform', got {method!r}."
        raise InputError(msg)
    if cell_m is not None and (not np.isfinite(cell_m) or cell_m <= 0):
        msg = f"cell_m must be a positive number of metres or None, got {cell_m!r}."
        raise InputError(msg)
    if int(points_per_unit) != points_per_unit or points_per_unit < 1:
        msg = f"points_per_unit must be a positive integer, got {points_per_unit!r}."
        raise InputError(msg)
    if int(block_rows) != block_rows or block_rows < 1:
        msg = f"block_rows must be a positive integer, got {block_rows!r}."
        raise InputError(msg)
    units_crs = pyproj.CRS.from_user_input(units.crs)
    geoms_u = np.asarray(units.geometry.values, dtype=object)  # prepared, released below
    shapely.prepare(geoms_u)
    if method == "uniform":
        pieces = _uniform_pieces(geoms_u, units_crs, cell_m, int(points_per_unit))
        gdf = _allocate(pieces, units, geoms_u, codes, pop, fallback=True, keep_empty=keep_empty)
        shapely.destroy_prepared(geoms_u)
        gdf.attrs.update(
            demand_method="uniform_area_weighted",
            cell_m=cell_m,
            points_per_unit=int(points_per_unit),
        )
        return gdf
    if raster is None:
        b = units.geometry.to_crs(settings.geographic_crs).total_bounds
        path = _default_raster((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
    else:
        path = Path(raster)
        if not path.is_file():
            msg = f"Raster {path} does not exist. Pass the path of a population GeoTIFF."
            raise DataNotFoundError(msg)
    pieces, meta = _raster_pieces(geoms_u, units_crs, path, cell_m, int(block_rows))
    gdf = _allocate(pieces, units, geoms_u, codes, pop, fallback=False, keep_empty=keep_empty)
    shapely.destroy_prepared(geoms_u)
    gdf.attrs.update(
        demand_method=_method_name(path, cell_m, bool(meta["subdivided"])),
        cell_m=cell_m,
        **meta,
    )
    logger.info(
        "built %d demand points for %d units (%s)",
        len(gdf),
        len(codes),
        gdf.attrs["demand_method"],
    )
    return gdf


def demand_for_units(
    units: gpd.GeoDataFrame,
    raster: str | Path,
    *,
    cell_m: float | None = None,
    population_col: str = "population",
    keep_empty: bool = False,
    block_rows: int = 256,
) -> gpd.GeoDataFrame:
    """Build demand for any selection of units from a (national) raster.

    Only the window on the bounds of ``units`` is read, so a province's demand from the
    all-Vietnam raster costs about as much as Hanoi's. Same output as :func:`build_demand`.

    Parameters
    ----------
    units
        The selected unit polygons (any CRS), with ``population_col``.
    raster
        Population GeoTIFF covering them, e.g. ``pointplan.data.data_file("worldpop_vnm")``.
    cell_m, population_col, keep_empty, block_rows
        As in :func:`build_demand`.

    Returns
    -------
    geopandas.GeoDataFrame
        Demand points, as :func:`build_demand`.
    """
    return build_demand(
        units,
        raster=raster,
        cell_m=cell_m,
        population_col=population_col,
        keep_empty=keep_empty,
        block_rows=block_rows,
    )


def iter_raster_cells(
    raster: str | Path | None = None,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    block_rows: int = 256,
    min_population: float = 0.0,
) -> Iterator[gpd.GeoDataFrame]:
    """Yield raw raster cells as demand points, one row block at a time (no units).

    For country-wide work where no unit polygons are at hand: each populated pixel becomes
    a point at its centre with its raw people. Memory stays bounded by one block.

    Parameters
    ----------
    raster
        Population GeoTIFF. Default: the all-Vietnam WorldPop 2020 1 km raster.
    bounds
        ``(minx, miny, maxx, maxy)`` in the raster's CRS to read only that window.
    block_rows
        Raster rows per block.
    min_population
        Keep pixels with more people than this.

    Yields
    ------
    geopandas.GeoDataFrame
        Points in the raster's CRS with ``population``, ``cell_area_km2``, ``pixel_row``,
        ``pixel_col``.
    """
    if int(block_rows) != block_rows or block_rows < 1:
        msg = f"block_rows must be a positive integer, got {block_rows!r}."
        raise InputError(msg)
    path = data_file("worldpop_vnm") if raster is None else Path(raster)
    with _open_raster(path) as src:
        t = src.transform
        rcrs = pyproj.CRS.from_user_input(src.crs)
        if bounds is None:
            row0, row1, col0, col1 = 0, src.height, 0, src.width
        else:
            row0, row1, col0, col1 = _window_of(t, bounds)
            row0, row1 = max(row0, 0), min(row1, src.height)
            col0, col1 = max(col0, 0), min(col1, src.width)
        for r in range(row0, row1, int(block_rows)):
            r_end = min(r + int(block_rows), row1)
            values = _read_rows(src, r, r_end, col0, col1)
            rr, cc = np.nonzero(values > min_population)
            rows = rr + r
            cols = cc + col0
            top = t.f + rows * t.e
            if rcrs.is_geographic:
                km2 = _ellipsoid_band_area_km2(top, top + t.e, t.a, rcrs)
            else:
                factor = rcrs.axis_info[0].unit_conversion_factor if rcrs.axis_info else 1.0
                km2 = np.full(rows.size, abs(t.a * t.e) * factor**2 / 1e6)
            pts = shapely.points(t.c + (cols + 0.5) * t.a, top + 0.5 * t.e)
            yield gpd.GeoDataFrame(
                {
                    "population": values[rr, cc],
                    "cell_area_km2": km2,
                    "pixel_row": rows,
                    "pixel_col": cols,
                },
                geometry=pts,
                crs=rcrs,
            )


# ---------------------------------------------------------------------------------------
# Visit demand
# ---------------------------------------------------------------------------------------


def visits_per_day(
    units: gpd.GeoDataFrame | pd.DataFrame | None = None,
    *,
    dossiers_per_day: float = DEFAULT_DOSSIERS_PER_DAY,
    in_person_share: float = IN_PERSON_SHARE,
    counts: pd.Series | pd.DataFrame | None = None,
    period_days: float | None = None,
    population_col: str = "population",
) -> pd.DataFrame:
    """Compute the expected in-person visits per working day in each unit.

    By default the city-wide commune-level dossiers per working day
    (:data:`DEFAULT_DOSSIERS_PER_DAY`, 8,000) are spread over the units by population and
    multiplied by the in-person share (:data:`IN_PERSON_SHARE`, 40.05 %): about 3,204
    visits a day in Hanoi. With ``counts``, the user's own dossier counts per unit are used.

    Parameters
    ----------
    units
        Units indexed by code with ``population_col`` (default: Hanoi's 126 units).
    dossiers_per_day
        City-wide dossiers per working day (ignored when ``counts`` is given).
    in_person_share
        Share of dossiers filed in person, between 0 and 1.
    counts
        Per-unit dossiers, indexed by unit code: a Series of counts, or a DataFrame with a
        ``dossiers`` (or ``dossiers_per_day``) column and optionally its own
        ``in_person_share`` per unit. Units absent from ``counts`` get 0 (logged).
        :func:`aggregate_dossiers` makes such a Series from dossier records.
    period_days
        Working days the ``counts`` cover; they are divided by it. ``None``: ``counts`` are
        already per day.
    population_col
        Population column of ``units``.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``population``, ``dossiers_per_day``, ``in_person_share``,
        ``visits_per_day``, ``source`` (``"city_average_by_population"`` or
        ``"user_counts"``).

    Raises
    ------
    InputError
        Negative or non-finite figures, a share outside [0, 1], counts for unknown units.

    Examples
    --------
    >>> v = visits_per_day()  # doctest: +SKIP
    >>> round(v["visits_per_day"].sum(), 1)  # doctest: +SKIP
    3204.0
    """
    if units is None:
        units = load_units()
    if population_col not in units.columns:
        msg = f"units lacks the population column {population_col!r}; pass population_col=..."
        raise InputError(msg)
    codes = _unit_codes(units)
    pop = pd.Series(
        pd.to_numeric(units[population_col], errors="coerce").to_numpy(dtype=float),
        index=codes,
    )
    if not np.isfinite(pop).all() or (pop < 0).any():
        msg = f"units: {population_col!r} must hold finite numbers >= 0."
        raise InputError(msg)
    if not (0.0 <= in_person_share <= 1.0):
        msg = f"in_person_share must be between 0 and 1, got {in_person_share!r}."
        raise InputError(msg)
    if period_days is not None and (not np.isfinite(period_days) or period_days <= 0):
        msg = f"period_days must be a positive number of working days, got {period_days!r}."
        raise InputError(msg)
    share = pd.Series(float(in_person_share), index=codes)
    if counts is None:
        if not np.isfinite(dossiers_per_day) or dossiers_per_day < 0:
            msg = f"dossiers_per_day must be a number >= 0, got {dossiers_per_day!r}."
            raise InputError(msg)
        total = pop.sum()
        if total <= 0:
            msg = "units have zero total population: cannot spread dossiers by population."
            raise InputError(msg)
        dossiers = dossiers_per_day * pop / total
        source = "city_average_by_population"
    else:
        if isinstance(counts, pd.DataFrame):
            col = next((c for c in ("dossiers", "dossiers_per_day", "count") if c in counts), None)
            if col is None:
                msg = (
                    "counts must have a 'dossiers' (or 'dossiers_per_day') column; it has "
                    f"{list(map(str, counts.columns))}."
                )
                raise InputError(msg)
            given = counts[col]
            if "in_person_share" in counts:
                s = pd.to_numeric(counts["in_person_share"], errors="coerce")
                s.index = s.index.astype(str)
                if s.isna().any() or ((s < 0) | (s > 1)).any():
                    msg = "counts['in_person_share'] must be numbers between 0 and 1."
                    raise InputError(msg)
                share.loc[s.index.intersection(codes)] = s
        elif isinstance(counts, pd.Series):
            given = counts
        else:
            msg = f"counts must be a pandas Series or DataFrame, got {type(counts).__name__}."
            raise InputError(msg)
        given = pd.to_numeric(given, errors="coerce")
        if pd.api.types.is_integer_dtype(given.index) and codes.str.fullmatch(r"\d{5}").all():
            given.index = given.index.map(lambda v: f"{int(v):05d}")  # 4 -> "00004"
        given.index = given.index.astype(str)
        if given.index.has_duplicates:
            given = given.groupby(level=0).sum()
        if given.isna().any() or (given < 0).any() or not np.isfinite(given).all():
            msg = "counts must be finite numbers >= 0 (no NaN)."
            raise InputError(msg)
        unknown = given.index.difference(codes)
        if len(unknown):
            msg = (
                f"counts name {len(unknown)} unit code(s) not among the units: "
                f"{list(unknown[:8])}. Convert old ward codes first (convert_old_units)."
            )
            raise InputError(msg)
        missing = codes.difference(given.index)
        if len(missing):
            logger.warning("%d unit(s) have no dossier counts; set to 0: %s", len(missing), list(missing[:10]))
        dossiers = given.reindex(codes, fill_value=0.0).astype(float)
        if period_days is not None:
            dossiers = dossiers / period_days
        source = "user_counts"
    out = pd.DataFrame(
        {
            "population": pop,
            "dossiers_per_day": dossiers,
            "in_person_share": share,
            "visits_per_day": dossiers * share,
            "source": source,
        },
        index=codes,
    )
    out.attrs["dossiers_per_day_total"] = float(dossiers.sum())
    return out


def demand_visits(demand: pd.DataFrame, visits: pd.DataFrame | pd.Series) -> pd.Series:
    """Spread each unit's in-person visits over its demand points by population share.

    Parameters
    ----------
    demand
        Demand points from :func:`build_demand` (``unit_code``, ``population``).
    visits
        :func:`visits_per_day` output (or a Series of visits per day by unit code).

    Returns
    -------
    pandas.Series
        In-person visits per day at each demand point, with ``demand``'s index, named
        ``visits_per_day``. Per unit it sums to the unit's visits (a unit whose points all
        have zero population shares its visits equally among them).

    Raises
    ------
    InputError
        Missing columns; units with visits but no demand point, or demand points of units
        absent from ``visits``.
    """
    for col in ("unit_code", "population"):
        if col not in demand.columns:
            msg = f"demand lacks the column {col!r}: pass the output of build_demand()."
            raise InputError(msg)
    if isinstance(visits, pd.DataFrame):
        if "visits_per_day" not in visits.columns:
            msg = "visits lacks the column 'visits_per_day': pass visits_per_day(...) output."
            raise InputError(msg)
        v = visits["visits_per_day"]
    else:
        v = visits
    v = pd.to_numeric(v, errors="coerce").astype(float)
    v.index = v.index.astype(str)
    unit = demand["unit_code"].astype(str)
    absent = pd.Index(unit.unique()).difference(v.index)
    if len(absent):
        msg = f"demand has points in units absent from visits: {list(absent[:8])}."
        raise InputError(msg)
    lost = v.index.difference(pd.Index(unit.unique()))
    lost = lost[v.loc[lost].to_numpy() > 0]
    if len(lost):
        msg = f"visits for units {list(lost[:8])} have no demand point to go to; build demand for the same units."
        raise InputError(msg)
    pop = demand["population"].to_numpy(dtype=float)
    codes, inv = np.unique(unit.to_numpy(), return_inverse=True)
    pop_sum = np.bincount(inv, pop)
    n = np.bincount(inv)
    share = np.where(pop_sum[inv] > 0, pop / np.where(pop_sum[inv] > 0, pop_sum[inv], 1.0), 1.0 / n[inv])
    out = v.reindex(codes).to_numpy()[inv] * share
    return pd.Series(out, index=demand.index, name="visits_per_day")


# ---------------------------------------------------------------------------------------
# Pre-2025 addresses -> 2025 units
# ---------------------------------------------------------------------------------------


@dataclass
class ConversionResult:
    """Outcome of :func:`convert_old_units`.

    Attributes
    ----------
    records
        The matched records (input columns kept, input index kept; a record split over
        several new units appears once per unit) with ``old_ward_code``, ``old_ward``,
        ``new_unit_code``, ``new_unit_name``, ``match`` (``"code"``, ``"name"``,
        ``"name+district"``, ``"name_ascii"``, ``"new_name"``), ``whole_or_part``,
        ``share`` (fraction of the record given to that unit; sums to 1 per record) and
        ``note``.
    unmatched
        The records that could not be converted, input columns kept, with ``reason``.
    split
        The split rule used.
    """

    records: pd.DataFrame
    unmatched: pd.DataFrame
    split: str

    @property
    def n_records(self) -> int:
        """Number of input records."""
        return int(self.records.index.nunique()) + len(self.unmatched)

    @property
    def n_unmatched(self) -> int:
        """Number of input records not converted."""
        return len(self.unmatched)

    def summary(self) -> pd.Series:
        """Count records by match kind, plus ``unmatched`` and ``total``."""
        first = self.records[~self.records.index.duplicated()]
        s = first["match"].value_counts()
        s["unmatched"] = len(self.unmatched)
        s["total"] = self.n_records
        return s


_TYPE_PREFIXES = (
    ("thị trấn", "thi_tran"),
    ("tt.", "thi_tran"),
    ("phường", "phuong"),
    ("p.", "phuong"),
    ("xã", "xa"),
    ("x.", "xa"),
)
_DISTRICT_EXTRA = re.compile(r"^(thị xã|tx\.?|tp\.?|thành phố|quận|huyện|q\.|h\.)\s*", re.I)


def _unit_type(text: str) -> str | None:
    low = normalize_name(text).casefold()
    for prefix, kind in _TYPE_PREFIXES:
        if low.startswith(prefix) and (prefix.endswith(".") or low[len(prefix) :][:1].isspace()):
            return kind
    return None


def _ascii_key(key: str) -> str:
    s = unicodedata.normalize("NFD", key.replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^0-9a-z]+", " ", s.casefold()).strip()
    # Unit types typed without accents ("Phuong Xuan La"); not "xa", which starts real
    # names (phường Xa La).
    return re.sub(r"^(phuong|thi tran|quan|huyen)\s+", "", s)


def _district_key(text: str) -> str:
    key = normalize_name(text).casefold()
    key = _DISTRICT_EXTRA.sub("", key).strip()
    return name_key(key)


def _clean_code(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return None
    if isinstance(value, (int, np.integer)):
        return f"{int(value):05d}"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{int(value):05d}"
    s = str(value).strip()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    return s.zfill(5) if s.isdigit() else s or None


def _is_blank(value: object) -> bool:
    return (
        value is None
        or (not isinstance(value, str) and pd.isna(value))
        or (isinstance(value, str) and not value.strip())
    )


class _OldUnits:
    """Lookup tables over the mapping file (one row per old ward)."""

    def __init__(self, mapping: pd.DataFrame, new_names: pd.Series, new_kinds: pd.Series) -> None:
        need = [
            "old_district",
            "old_ward_code",
            "old_ward",
            "new_ward_code",
            "new_ward",
            "whole_or_part",
            "is_default_new_ward",
        ]
        missing = [c for c in need if c not in mapping.columns]
        if missing:
            msg = f"mapping lacks the column(s) {missing}; use pointplan.data.load_old_to_new()."
            raise InputError(msg)
        self.mapping = mapping.assign(
            old_ward_code=mapping["old_ward_code"].astype(str).str.zfill(5),
            new_ward_code=mapping["new_ward_code"].astype(str).str.zfill(5),
        )
        old = self.mapping.drop_duplicates("old_ward_code").set_index("old_ward_code")
        self.old = pd.DataFrame(
            {
                "old_ward": old["old_ward"],
                "key": old["old_ward"].map(name_key),
                "ascii": old["old_ward"].map(lambda s: _ascii_key(name_key(s))),
                "kind": old["old_ward"].map(_unit_type),
                "district": old["old_district"],
                "dkey": old["old_district"].map(_district_key),
                "dascii": old["old_district"].map(lambda s: _ascii_key(_district_key(s))),
            }
        )
        self.by_key = self.old.groupby("key").groups
        self.by_ascii = self.old.groupby("ascii").groups
        self.rows = self.mapping.groupby("old_ward_code").indices
        self.new_names = new_names
        nk = pd.Series(new_names.index, index=new_names.map(name_key).to_numpy())
        self.new_by_key = nk[~nk.index.duplicated(keep=False)]
        self.new_by_kind_key = {
            (kind, name_key(name)): str(code)
            for code, name, kind in zip(new_names.index, new_names, new_kinds, strict=True)
        }
        self.dkeys = set(self.old["dkey"]) | set(self.old["dascii"])

    def resolve(
        self, code: str | None, ward: object, district: object, accept_new: bool
    ) -> tuple[str | None, str, str, str]:
        """Return (old_code | new code, match, reason_if_unmatched, note)."""
        note = ""
        if code is not None:
            if code in self.rows:
                if not _is_blank(ward) and name_key(str(ward)) != self.old.at[code, "key"]:
                    note = (
                        f"name {ward!r} differs from the code's ward "
                        f"{self.old.at[code, 'old_ward']!r}; the code was used"
                    )
                return code, "code", "", note
            if _is_blank(ward):
                return None, "", f"unknown old ward code {code!r}", ""
            note = f"unknown old ward code {code!r}; matched by name"
        if _is_blank(ward):
            return None, "", "no ward name or code", ""
        ward_s = str(ward)
        key = name_key(ward_s)
        cands = list(self.by_key.get(key, []))
        match = "name"
        if not cands:
            cands = list(self.by_ascii.get(_ascii_key(key), []))
            match = "name_ascii"
        if not cands:
            if key in self.new_by_key.index:
                new_code = str(self.new_by_key[key])
                if accept_new:
                    return new_code, "new_name", "", note
                return (
                    None,
                    "",
                    (
                        f"{ward_s!r} is not a pre-2025 ward but the name of the 2025 unit "
                        f"{new_code}; pass accept_new=True if the records already use new names"
                    ),
                    "",
                )
            return None, "", f"unknown old ward name {ward_s!r}", ""
        old = self.old.loc[cands]
        if not _is_blank(district):
            dk = _district_key(str(district))
            hit = old[(old["dkey"] == dk) | (old["dascii"] == _ascii_key(dk))]
            if len(hit):
                old = hit
                match = "name+district" if match == "name" else match
            elif dk in self.dkeys or _ascii_key(dk) in self.dkeys:
                places = ", ".join(sorted(set(old["district"])))
                return None, "", (f"old ward {ward_s!r} is not in district {district!r} (it is in {places})"), ""
            else:
                note = (note + "; " if note else "") + f"unknown district {district!r} ignored"
        kind = _unit_type(ward_s)
        if kind is not None:
            same = old[old["kind"] == kind]
            if len(same):
                old = same
            else:
                kind_code = self.new_by_kind_key.get((kind, key))
                if kind_code is not None:
                    if accept_new:
                        return kind_code, "new_name", "", note
                    return (
                        None,
                        "",
                        (
                            f"{ward_s!r} is not a pre-2025 ward but the name of the 2025 unit "
                            f"{kind_code}; pass accept_new=True if the records already use new names"
                        ),
                        "",
                    )
                note = (note + "; " if note else "") + (
                    f"unit type of {ward_s!r} differs from the old unit {old['old_ward'].iloc[0]!r}"
                )
        if len(old) > 1:
            places = ", ".join(f"{w} ({d})" for w, d in zip(old["old_ward"], old["district"], strict=True))
            return (
                None,
                "",
                (
                    f"ambiguous: {len(old)} pre-2025 units are called {ward_s!r}: {places}; give "
                    "the old district (district_col) or the old ward code (code_col)"
                ),
                "",
            )
        return str(old.index[0]), match, "", note


def convert_old_units(
    records: pd.DataFrame,
    *,
    ward_col: str | None = "ward",
    district_col: str | None = None,
    code_col: str | None = None,
    split: Literal["default", "population", "all"] = "default",
    accept_new: bool = False,
    mapping: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
) -> ConversionResult:
    """Convert pre-2025 ward names or codes in records to the 2025 unit codes.

    Names are matched in any common spelling: with or without the unit type ("Phường",
    "P.", "Xã", "Thị trấn", "TT."), NFC or NFD Unicode, old or new tone placement
    ("Hoà"/"Hòa"), stray spaces and case; as a last resort without diacritics
    ("Xuan La", match ``"name_ascii"``). Names shared by several old wards are resolved by
    the old district (``district_col``) or the unit type ("Thị trấn Yên Viên" vs "Xã Yên
    Viên"); otherwise they are reported as ambiguous. Old ward codes (``code_col``) take
    precedence over names.

    A pre-2025 ward split between several 2025 units is handled by ``split``:

    - ``"default"``: the whole record goes to the mapping's default unit for that ward
      (``is_default_new_ward``; the unit holding the old ward's main part), ``share`` 1;
    - ``"all"``: one row per receiving unit, equal shares (1/k);
    - ``"population"``: one row per receiving unit, shares in proportion to the receiving
      units' official 2025 population. The size of each part is not published, so this is
      a proxy: it sends more of the record to the more populous unit.

    Parameters
    ----------
    records
        Dossier (or any) records, one row each.
    ward_col
        Column with the pre-2025 ward/commune name (``None`` when only codes are given).
    district_col
        Optional column with the pre-2025 district ("Quận Tây Hồ", "Tây Hồ", "TX. Sơn Tây").
    code_col
        Optional column with the pre-2025 5-digit ward code (``"00103"`` or ``103``).
    split
        ``"default"``, ``"all"`` or ``"population"`` (see above).
    accept_new
        Accept names that are not pre-2025 wards but 2025 unit names (records filed after
        1 July 2025), with match ``"new_name"``. Off by default, since many 2025 units
        reuse an old ward's name for a different area (old Ngọc Hà → default Ba Đình).
    mapping
        The old→new mapping (default :func:`pointplan.data.load_old_to_new`), e.g. another
        province's, with the same columns.
    units
        The 2025 units with ``name`` and ``population`` (default
        :func:`pointplan.load_units`), for new names and ``split="population"``.

    Returns
    -------
    ConversionResult
        ``records`` (converted rows, with ``new_unit_code``, ``new_unit_name``, ``match``,
        ``share``...) and ``unmatched`` (rows not converted, with ``reason``); every input
        record is in exactly one of them.

    Raises
    ------
    InputError
        Missing columns or an unknown ``split``.

    Examples
    --------
    >>> df = pd.DataFrame({"ward": ["P. Trúc Bạch", "Phường Xuân La", "Phường Atlantis"]})
    >>> res = convert_old_units(df)  # doctest: +SKIP
    >>> res.records["new_unit_code"].tolist()  # doctest: +SKIP
    ['00004', '00611']
    >>> res.unmatched["reason"].tolist()  # doctest: +SKIP
    ["unknown old ward name 'Phường Atlantis'"]
    """
    if not isinstance(records, pd.DataFrame):
        msg = f"records must be a pandas DataFrame, got {type(records).__name__}."
        raise InputError(msg)
    if split not in ("default", "population", "all"):
        msg = f"split must be 'default', 'population' or 'all', got {split!r}."
        raise InputError(msg)
    if ward_col is None and code_col is None:
        msg = "give ward_col (old ward names) and/or code_col (old ward codes)."
        raise InputError(msg)
    for col in (ward_col, district_col, code_col):
        if col is not None and col not in records.columns:
            msg = (
                f"records lacks the column {col!r}; it has {list(map(str, records.columns))}. "
                "Pass ward_col=/district_col=/code_col= naming your columns."
            )
            raise InputError(msg)
    if mapping is None:
        mapping = load_old_to_new()
    if units is None:
        units = load_units()
    ucodes = _unit_codes(units)
    new_names = pd.Series(units["name"].astype(str).to_numpy(), index=ucodes)
    new_pop = (
        pd.Series(pd.to_numeric(units["population"], errors="coerce").to_numpy(), index=ucodes)
        if "population" in units.columns
        else None
    )
    if split == "population" and new_pop is None:
        msg = "split='population' needs a 'population' column in units."
        raise InputError(msg)
    if "kind" in units.columns:
        new_kinds = units["kind"].astype(str).str.casefold().map(_ascii_key).to_numpy()
    elif "full_name" in units.columns:
        new_kinds = units["full_name"].astype(str).map(_unit_type).to_numpy()
    else:
        new_kinds = np.full(len(units), None, dtype=object)
    table = _OldUnits(mapping, new_names, pd.Series(new_kinds, index=ucodes))

    n = len(records)
    wards = records[ward_col] if ward_col else pd.Series([None] * n, index=records.index)
    dists = records[district_col] if district_col else pd.Series([None] * n, index=records.index)
    codes = records[code_col].map(_clean_code) if code_col else pd.Series([None] * n, index=records.index)
    key_df = pd.DataFrame(
        {"c": codes.to_numpy(dtype=object), "w": wards.to_numpy(dtype=object), "d": dists.to_numpy(dtype=object)}
    )
    # Resolve each distinct (code, ward, district) once: records may be millions of rows.
    key_df = key_df.astype(object).where(key_df.notna(), None)
    group = key_df.groupby(["c", "w", "d"], dropna=False, sort=False).ngroup().to_numpy()
    first_pos = pd.Series(np.arange(n)).groupby(group).first().to_numpy()
    uniq = key_df.iloc[first_pos].reset_index(drop=True)
    resolved = [table.resolve(c, w, d, accept_new) for c, w, d in uniq.itertuples(index=False)]
    res = pd.DataFrame(resolved, columns=["target", "match", "reason", "note"])

    per_record = res.iloc[group].reset_index(drop=True)
    ok = per_record["target"].notna().to_numpy()
    pos = np.arange(n)

    unmatched = records.iloc[pos[~ok]].copy()
    unmatched["reason"] = per_record.loc[~ok, "reason"].to_numpy()

    # Expand matched groups into (group, new unit, share) rows.
    rows = []
    for gi in np.flatnonzero(res["target"].notna().to_numpy()):
        target, match = res.at[gi, "target"], res.at[gi, "match"]
        if match == "new_name":
            rows.append((gi, target, target, "", "whole", 1.0))
            continue
        m = table.mapping.iloc[table.rows[target]]
        if len(m) == 1 or split == "default":
            if len(m) > 1:
                m = m[m["is_default_new_ward"].astype(bool)]
                if len(m) != 1:  # mapping without a single default: take the first
                    m = table.mapping.iloc[table.rows[target][:1]]
            rows.append(
                (gi, target, m["new_ward_code"].iloc[0], m["old_ward"].iloc[0], m["whole_or_part"].iloc[0], 1.0)
            )
            continue
        new_codes = m["new_ward_code"].to_numpy()
        if split == "all":
            shares = np.full(len(m), 1.0 / len(m))
        else:
            assert new_pop is not None
            w = new_pop.reindex(new_codes).fillna(0.0).to_numpy(dtype=float)
            shares = w / w.sum() if w.sum() > 0 else np.full(len(m), 1.0 / len(m))
        for nc, sh, part in zip(new_codes, shares, m["whole_or_part"], strict=True):
            rows.append((gi, target, nc, m["old_ward"].iloc[0], part, float(sh)))
    expand = pd.DataFrame(rows, columns=["g", "old_ward_code", "new_unit_code", "old_ward", "whole_or_part", "share"])
    matched_pos = pos[ok]
    rec_groups = pd.DataFrame({"pos": matched_pos, "g": group[ok]})
    joined = rec_groups.merge(expand, on="g", how="left", sort=False).sort_values("pos", kind="stable")
    out = records.iloc[joined["pos"].to_numpy()].copy()
    is_new = res["match"].to_numpy()[joined["g"].to_numpy()] == "new_name"
    out["old_ward_code"] = np.where(is_new, None, joined["old_ward_code"].to_numpy())
    out["old_ward"] = np.where(is_new, None, joined["old_ward"].to_numpy())
    out["new_unit_code"] = joined["new_unit_code"].to_numpy()
    out["new_unit_name"] = new_names.reindex(joined["new_unit_code"]).to_numpy()
    out["match"] = res["match"].to_numpy()[joined["g"].to_numpy()]
    out["whole_or_part"] = joined["whole_or_part"].to_numpy()
    out["share"] = joined["share"].to_numpy(dtype=float)
    out["note"] = res["note"].to_numpy()[joined["g"].to_numpy()]
    if len(unmatched):
        logger.warning(
            "%d of %d records could not be converted to 2025 units (see result.unmatched)",
            len(unmatched),
            n,
        )
    return ConversionResult(records=out, unmatched=unmatched, split=split)


def aggregate_dossiers(
    records: ConversionResult | pd.DataFrame,
    *,
    weight_col: str | None = None,
    units: pd.DataFrame | None = None,
) -> pd.Series:
    """Count converted dossier records per 2025 unit code.

    Parameters
    ----------
    records
        A :class:`ConversionResult` or its ``records`` frame (``new_unit_code``, ``share``).
    weight_col
        Column with the number of dossiers a row stands for (default: 1 per row).
    units
        When given, the result is reindexed to all its unit codes (zero where none).

    Returns
    -------
    pandas.Series
        Dossiers per new unit code (index ``code``), named ``dossiers``, ready for
        ``visits_per_day(counts=...)``. ``attrs["unmatched"]`` holds the number of records
        left out because they could not be converted.
    """
    unmatched = 0
    if isinstance(records, ConversionResult):
        unmatched = records.n_unmatched
        frame = records.records
    else:
        frame = records
    if "new_unit_code" not in frame.columns:
        msg = "records lacks 'new_unit_code': pass the result of convert_old_units()."
        raise InputError(msg)
    share = frame["share"].astype(float) if "share" in frame.columns else 1.0
    if weight_col is not None:
        if weight_col not in frame.columns:
            msg = f"records lacks the weight column {weight_col!r}."
            raise InputError(msg)
        weight = pd.to_numeric(frame[weight_col], errors="coerce")
        if weight.isna().any() or (weight < 0).any():
            msg = f"records[{weight_col!r}] must be numbers >= 0."
            raise InputError(msg)
    else:
        weight = 1.0
    values = pd.Series(np.ones(len(frame)), index=frame.index) * share * weight
    out = values.groupby(frame["new_unit_code"].astype(str).to_numpy()).sum()
    out.index.name = "code"
    if units is not None:
        out = out.reindex(_unit_codes(units), fill_value=0.0)
    if unmatched:
        logger.warning("%d unmatched records are not counted", unmatched)
    out.name = "dossiers"
    out.attrs["unmatched"] = unmatched
    return out.astype(float)
