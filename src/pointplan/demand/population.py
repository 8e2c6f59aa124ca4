"""Population demand points: raster cells cut by units and rescaled to official totals.

The table :func:`build_demand` returns: EPSG:4326 points indexed by ``demand_id`` (0..n-1,
ordered by unit code, then raster row and column), with ``unit_code``, ``population`` (people;
sums to the unit's population), ``raster_population`` (the raw raster people of the piece,
before rescaling; NaN for ``method="uniform"``), ``cell_area_km2`` (area of the piece),
``flag`` (``""``, ``"uniform_no_raster"`` or ``"uniform_fallback"``),
``pixel_row``/``pixel_col`` (the source pixel in the raster file; grid cell in the unit for
``"uniform"``) and the point geometry: the cell centre when the whole cell lies in the unit,
else a point on the surface of the cell ∩ unit piece, so every point lies strictly inside its
unit (checked in the units' CRS; the rare point a sliver or a reprojection leaves on an edge
is moved inside). ``attrs["demand_method"]`` names the method (e.g.
``"worldpop2020_1km_dasymetric"``); ``attrs["units_no_raster"]`` lists the units spread by
area.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import rasterio
import rasterio.io
import shapely

from pointplan import settings
from pointplan._errors import CRSError, DataNotFoundError, InputError
from pointplan._results import cached, digest, frame_digest
from pointplan._validate import projected_crs
from pointplan.data import data_file, load_units
from pointplan.demand._pieces import (
    _MIN_PIECE_FRAC,
    _block_pieces,
    _cut_cells,
    _Pieces,
    _to_units_crs,
    _transformer,
)
from pointplan.demand._units import _check_units
from pointplan.demand.raster import (
    _default_raster,
    _open_raster,
    _pixel_size_m,
    _read_rows,
    _row_areas_km2,
    _window_of,
)

__all__ = [
    "DEFAULT_CELL_M",
    "DEFAULT_FINE_PER_KM2",
    "FLAG_FALLBACK",
    "FLAG_NO_RASTER",
    "build_demand",
    "demand_for_units",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Flag of demand points whose unit had no raster population (spread by area).
FLAG_NO_RASTER = "uniform_no_raster"
#: Flag of demand points built without a raster (``method="uniform"``).
FLAG_FALLBACK = "uniform_fallback"

_WORLDPOP_KEYS = ("worldpop_hanoi", "worldpop_vnm")

#: Demand cell (m) of ``pointplan run`` where people are dense (see :data:`DEFAULT_FINE_PER_KM2`):
#: at 250 m, Phường Đống Đa has about 60 demand places instead of 10, so moving its point
#: 300 m changes its figures.
DEFAULT_CELL_M = 250.0
#: Raster density (people per km²) from which ``pointplan run`` cuts a pixel into
#: :data:`DEFAULT_CELL_M` cells; sparser pixels stay whole (1 km). In Hanoi about 750 of
#: 6,500 pixel pieces, half of the people.
DEFAULT_FINE_PER_KM2 = 5_000.0


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


def _check_raster(src: rasterio.io.DatasetReader, path: Path) -> pyproj.CRS:
    """Return the raster's CRS; raise when it has none or is rotated / not north-up."""
    t = src.transform
    if src.crs is None:
        msg = f"The raster {path} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4326)."
        raise CRSError(msg)
    if t.b != 0 or t.d != 0 or t.e >= 0 or t.a <= 0:
        msg = f"The raster {path} is rotated or not north-up; warp it first (gdalwarp -t_srs EPSG:4326 in.tif out.tif)."
        raise InputError(msg)
    return pyproj.CRS.from_user_input(src.crs)


def _subcells(cell_m: float | None, width_m: float, height_m: float) -> tuple[int, int]:
    """Sub-cells per pixel ``(ny, nx)`` so that each side is at most ``cell_m`` metres."""
    if cell_m is None:
        return 1, 1
    if cell_m > 1.05 * max(width_m, height_m):
        msg = (
            f"cell_m={cell_m:g} is larger than the raster pixel ({width_m:.0f} × {height_m:.0f} m); "
            "only finer sub-cells are supported. Use cell_m=None for the native pixels."
        )
        raise InputError(msg)
    return max(1, math.ceil(height_m / cell_m - 1e-9)), max(1, math.ceil(width_m / cell_m - 1e-9))


def _raster_pieces(
    geoms_u: npt.NDArray[np.object_],
    units_crs: pyproj.CRS,
    path: Path,
    cell_m: float | None,
    block_rows: int,
    fine_per_km2: float | None = None,
) -> tuple[_Pieces, dict[str, object]]:
    """Read the raster window of the units in row blocks and cut it into pieces.

    Returns pieces whose points are in the units' CRS (``geoms_u``, prepared).
    """
    with _open_raster(path) as src:
        transform = src.transform
        rcrs = _check_raster(src, path)
        geoms = geoms_u
        if rcrs != units_crs:
            geoms = np.asarray(gpd.GeoSeries(geoms_u, crs=units_crs).to_crs(rcrs).values, dtype=object)
            shapely.prepare(geoms)
        to_units = _transformer(rcrs, units_crs)
        b = shapely.total_bounds(geoms)
        row0, row1, col0, col1 = _window_of(transform, (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
        lat_mid = float(b[1] + b[3]) / 2 if rcrs.is_geographic else 0.0
        width_m, height_m = _pixel_size_m(transform, rcrs, lat_mid)
        ny, nx = _subcells(cell_m, width_m, height_m)
        tree = shapely.STRtree(geoms)
        parts = []
        for r in range(row0, row1, block_rows):
            r_end = min(r + block_rows, row1)
            values = _read_rows(src, r, r_end, col0, col1)
            km2 = _row_areas_km2(transform, rcrs, np.arange(r, r_end, dtype=np.int64))
            fine = None
            if fine_per_km2 is not None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    fine = np.nan_to_num(values / km2[:, None], nan=0.0) >= fine_per_km2
            block = _block_pieces(values, r, col0, transform, tree, geoms, km2, ny, nx, fine)
            parts.append(_to_units_crs(block, to_units, geoms_u))
        if geoms is not geoms_u:
            shapely.destroy_prepared(geoms)
    meta: dict[str, object] = {
        "raster": str(path),
        "window": (row0, row1, col0, col1),
        "subcells": (ny, nx),
        "pixel_size_m": (round(width_m, 1), round(height_m, 1)),
        "subdivided": ny * nx > 1,
        "fine_per_km2": fine_per_km2,
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


def _with_empty_units(pieces: _Pieces, geoms_u: npt.NDArray[np.object_], n_units: int) -> _Pieces:
    """Give units with no piece at all (degenerate or sliver polygons) one point inside."""
    counts = np.bincount(pieces.unit, minlength=n_units)
    empty_units = np.flatnonzero(counts == 0)
    if not empty_units.size:
        return pieces
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
    return _Pieces.concat([pieces, extra])


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
    pieces = _with_empty_units(pieces, geoms_u, n_units)
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


def _demand_points(
    units: gpd.GeoDataFrame,
    codes: pd.Index,
    pop: npt.NDArray[np.float64],
    method: str,
    raster: str | Path | None,
    *,
    cell_m: float | None,
    points_per_unit: int,
    keep_empty: bool,
    block_rows: int,
    fine_per_km2: float | None = None,
) -> gpd.GeoDataFrame:
    """Cut the checked units into pieces (raster or uniform grid) and allocate their people."""
    units_crs = pyproj.CRS.from_user_input(units.crs)
    geoms_u = np.asarray(units.geometry.values, dtype=object)  # prepared, released below
    shapely.prepare(geoms_u)
    if method == "uniform":
        pieces = _uniform_pieces(geoms_u, units_crs, cell_m, points_per_unit)
        gdf = _allocate(pieces, units, geoms_u, codes, pop, fallback=True, keep_empty=keep_empty)
        shapely.destroy_prepared(geoms_u)
        gdf.attrs.update(demand_method="uniform_area_weighted", cell_m=cell_m, points_per_unit=points_per_unit)
        return gdf
    path = _raster_path(units, raster)
    pieces, meta = _raster_pieces(geoms_u, units_crs, path, cell_m, block_rows, fine_per_km2)
    gdf = _allocate(pieces, units, geoms_u, codes, pop, fallback=False, keep_empty=keep_empty)
    shapely.destroy_prepared(geoms_u)
    label = _method_name(path, cell_m, bool(meta["subdivided"]))
    if fine_per_km2 is not None and meta["subdivided"]:
        label = label.replace("_dasymetric", f"_from_{round(fine_per_km2)}_per_km2_dasymetric")
    gdf.attrs.update(demand_method=label, cell_m=cell_m, **meta)
    logger.info("built %d demand points for %d units (%s)", len(gdf), len(codes), gdf.attrs["demand_method"])
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
    fine_per_km2: float | None = None,
) -> gpd.GeoDataFrame:
    """Build population demand points: one per raster cell ∩ unit, rescaled to unit totals.

    Parameters
    ----------
    units
        Unit polygons (CRS; indexed by code or with ``code``); default Hanoi's 126 units.
    raster
        People-per-pixel GeoTIFF (north-up); default WorldPop 2020 1 km (Hanoi's window, or
        Vietnam's when the units reach beyond it), read on the units' bounds only.
    cell_m
        ``None``: the raster's pixels (≈ 1 km); else sub-cells of at most ``cell_m`` metres
        (``250``: 4 × 4 a pixel), split by area. ``method="uniform"``: the grid's side.
    population_col
        Column of ``units`` with the population each unit's demand sums to.
    method, points_per_unit
        ``"raster"`` (dasymetric) or ``"uniform"`` (by area, ~``points_per_unit`` cells a unit).
    keep_empty, block_rows
        Keep zero-population pieces (dropped by default); raster rows read at a time.
    fine_per_km2
        With ``cell_m``: cut only pixels of at least this many people per km² (``None``: all).
        ``pointplan run`` uses :data:`DEFAULT_CELL_M` with :data:`DEFAULT_FINE_PER_KM2`.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points strictly inside their units, summing to each unit's population
        (columns: see the module's notes).

    Raises
    ------
    InputError, GeometryError, CRSError, DataNotFoundError
        Bad arguments or units; invalid geometries; no CRS; no raster given and none shipped.

    Examples
    --------
    Pixels of 10 and 30 people; a unit of 100 covers one and half the other: 10 + 15, × 4:

    >>> import tempfile
    >>> import rasterio
    >>> path = Path(tempfile.mkdtemp()) / "people.tif"
    >>> profile = {"driver": "GTiff", "width": 2, "height": 1, "count": 1, "dtype": "float64",
    ...            "crs": "EPSG:32648", "transform": rasterio.Affine(100, 0, 500_000, 0, -100, 2_300_000)}
    >>> with rasterio.open(path, "w", **profile) as dst:
    ...     dst.write(np.array([[10.0, 30.0]]), 1)
    >>> units = gpd.GeoDataFrame(
    ...     {"population": [100.0]}, index=pd.Index(["00001"], name="code"),
    ...     geometry=[shapely.box(500_000, 2_299_900, 500_150, 2_300_000)], crs="EPSG:32648")
    >>> demand = build_demand(units, raster=path)
    >>> demand[["unit_code", "population", "raster_population", "pixel_col"]].to_numpy().tolist()
    [['00001', 40.0, 10.0, 0], ['00001', 60.0, 15.0, 1]]
    >>> demand.crs.to_epsg(), demand.attrs["demand_method"]
    (4326, 'raster_native_dasymetric')

    Sub-cells of 50 m (2 × 2 a pixel), then only the dense pixel (30 people per 0.01 km²) cut:

    >>> len(build_demand(units, raster=path, cell_m=50))
    6
    >>> dense = build_demand(units, raster=path, cell_m=50, fine_per_km2=2_000)
    >>> dense["pixel_col"].tolist(), dense["population"].round(1).tolist()
    ([0, 1, 1], [40.0, 30.0, 30.0])
    """
    units, codes, pop = _check_units(load_units() if units is None else units, population_col)
    _check_options(method, cell_m, points_per_unit, block_rows, fine_per_km2)
    sizes = {"points_per_unit": int(points_per_unit), "block_rows": int(block_rows)}
    options = {"cell_m": cell_m, "keep_empty": keep_empty, "fine_per_km2": fine_per_km2}
    key = _demand_key(units, raster, (method, population_col, *options.values(), *sizes.values()))
    return cached("demand", key, lambda: _demand_points(units, codes, pop, method, raster, **options, **sizes))  # type: ignore[arg-type]


def _demand_key(units: gpd.GeoDataFrame, raster: str | Path | None, options: tuple[Any, ...]) -> bytes | None:
    """Key of the demand kept on disk: the units, the raster's bytes, the options (None: not kept)."""
    try:
        path = _raster_path(units, raster)
        data = path.read_bytes()
    except Exception:
        return None
    h = hashlib.blake2b(data, digest_size=20).digest()
    frame = frame_digest(units)
    return None if frame is None else digest("demand", frame, h, repr(options))


def _check_options(
    method: str, cell_m: float | None, points_per_unit: int, block_rows: int, fine_per_km2: float | None = None
) -> None:
    """Raise an InputError for a bad ``method``, ``cell_m``, ``points_per_unit``, ``block_rows`` or ``fine_per_km2``."""
    if fine_per_km2 is not None and not (isinstance(fine_per_km2, (int, float)) and fine_per_km2 >= 0):
        msg = f"fine_per_km2 must be a number of people per km² >= 0 or None, got {fine_per_km2!r}."
        raise InputError(msg)
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


def _raster_path(units: gpd.GeoDataFrame, raster: str | Path | None) -> Path:
    """Return the raster to read: the user's (must exist) or the WorldPop file covering the units."""
    if raster is None:
        b = units.geometry.to_crs(settings.geographic_crs).total_bounds
        return _default_raster((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
    path = Path(raster)
    if not path.is_file():
        msg = f"Raster {path} does not exist. Pass the path of a population GeoTIFF."
        raise DataNotFoundError(msg)
    return path


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

    Examples
    --------
    One 1 km pixel of 400 people; a unit of 1,000 people covers its west half:

    >>> import tempfile
    >>> import rasterio
    >>> path = Path(tempfile.mkdtemp()) / "national.tif"
    >>> profile = {"driver": "GTiff", "width": 1, "height": 1, "count": 1, "dtype": "float32",
    ...            "crs": "EPSG:32648", "transform": rasterio.Affine(1000, 0, 500_000, 0, -1000, 2_300_000)}
    >>> with rasterio.open(path, "w", **profile) as dst:
    ...     dst.write(np.array([[400.0]], dtype="float32"), 1)
    >>> unit = gpd.GeoDataFrame({"code": ["00009"], "population": [1000]},
    ...     geometry=[shapely.box(500_000, 2_299_000, 500_500, 2_300_000)], crs="EPSG:32648")
    >>> d = demand_for_units(unit, path)
    >>> d[["unit_code", "population", "raster_population", "cell_area_km2"]].to_numpy().tolist()
    [['00009', 1000.0, 200.0, 0.5]]
    """
    return build_demand(
        units,
        raster=raster,
        cell_m=cell_m,
        population_col=population_col,
        keep_empty=keep_empty,
        block_rows=block_rows,
    )
