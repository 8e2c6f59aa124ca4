"""Population rasters read in windows: pixel areas, row blocks, raw cells.

The WorldPop file (all Vietnam) is never read whole: :func:`_window_of` gives the pixel
window on the bounds asked for and :func:`_read_rows` reads it one block of rows at a time
(nodata, negative and non-finite values read as 0; outside the raster is 0).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import rasterio
import rasterio.errors
import rasterio.windows
import shapely

from pointplan._errors import DataNotFoundError, InputError
from pointplan.data import data_file

__all__ = ["iter_raster_cells"]

# Relative tolerance when comparing coordinates to pixel edges (pixel units).
_EDGE_EPS = 1e-6


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


def _row_areas_km2(transform: rasterio.Affine, crs: pyproj.CRS, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Area (km²) of one pixel in each of ``rows``: exact on the ellipsoid for lon/lat."""
    top = transform.f + rows * transform.e
    if crs.is_geographic:
        return _ellipsoid_band_area_km2(top, top + transform.e, transform.a, crs)
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return np.full(rows.size, abs(transform.a * transform.e) * factor**2 / 1e6)


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

    Raises
    ------
    InputError
        A bad ``block_rows`` or an unreadable raster.

    Examples
    --------
    A 2 × 2 raster of 100 m pixels (one empty pixel), read one row at a time:

    >>> import tempfile
    >>> import rasterio
    >>> path = Path(tempfile.mkdtemp()) / "people.tif"
    >>> profile = {"driver": "GTiff", "width": 2, "height": 2, "count": 1, "dtype": "float64",
    ...            "crs": "EPSG:32648", "transform": rasterio.Affine(100, 0, 500_000, 0, -100, 2_300_000)}
    >>> with rasterio.open(path, "w", **profile) as dst:
    ...     dst.write(np.array([[10.0, 0.0], [30.0, 40.0]]), 1)
    >>> blocks = list(iter_raster_cells(path, block_rows=1))
    >>> [len(b) for b in blocks], [b["population"].sum() for b in blocks]
    ([1, 2], [np.float64(10.0), np.float64(70.0)])
    >>> blocks[1][["pixel_row", "pixel_col", "cell_area_km2"]].to_numpy().tolist()
    [[1.0, 0.0, 0.01], [1.0, 1.0, 0.01]]
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
            rows, cols = rr + r, cc + col0
            pts = shapely.points(t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e)
            yield gpd.GeoDataFrame(
                {
                    "population": values[rr, cc],
                    "cell_area_km2": _row_areas_km2(t, rcrs, rows),
                    "pixel_row": rows,
                    "pixel_col": cols,
                },
                geometry=pts,
                crs=rcrs,
            )
