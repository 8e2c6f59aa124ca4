"""Cutting raster cells by unit polygons into demand *pieces* (cell ∩ unit).

A piece is one output cell (a raster pixel, or one of its sub-cells) clipped to one unit,
kept as parallel arrays (:class:`_Pieces`) until the allocation in
:mod:`pointplan.demand.population` turns them into demand points.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import rasterio
import shapely

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


# Pieces smaller than this share of a cell are slivers (digitising or reprojection noise
# along a unit edge that follows a cell edge) and are dropped: left in, a unit whose only
# raster people sit in a sliver would put its whole population on it.
_MIN_PIECE_FRAC = 1e-6


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


@dataclass(frozen=True)
class _BlockGrid:
    """Output cells of one raster block: origin, cell size and sub-cells per pixel."""

    ox: float  # x of the block's left edge
    oy: float  # y of the block's top edge
    dx: float  # output cell width (pixel width / nx)
    dy: float  # output cell height (negative: rows go south)
    ny: int
    nx: int
    row0: int
    col0: int
    pixel_area: float  # area of one pixel in the raster's units

    def boxes(self, r: npt.NDArray[np.int64], c: npt.NDArray[np.int64], sy: int, sx: int) -> npt.NDArray[np.object_]:
        """Boxes of ``sy × sx`` output cells whose top-left output cell is ``(r, c)``."""
        x0 = self.ox + c * self.dx
        y0 = self.oy + r * self.dy
        return np.asarray(shapely.box(x0, y0 + sy * self.dy, x0 + sx * self.dx, y0), dtype=object)


def _expand(
    r: npt.NDArray[np.int64], c: npt.NDArray[np.int64], unit: npt.NDArray[np.intp], qy: int, qx: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """Expand cells of ``qy × qx`` output cells into their output cells (row, col, unit)."""
    k = qy * qx
    sub = np.tile(np.arange(k, dtype=np.int64), r.size)
    return np.repeat(r, k) + sub // qx, np.repeat(c, k) + sub % qx, np.repeat(unit, k)


def _interior(
    parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.intp], int, int]],
    grid: _BlockGrid,
    values: npt.NDArray[np.float64],
    pixel_km2_of_row: npt.NDArray[np.float64],
) -> _Pieces:
    """Pieces of the output cells lying wholly inside a unit (no geometry needed)."""
    expanded = [_expand(r, c, u, qy, qx) for r, c, u, qy, qx in parts]
    orow = np.concatenate([e[0] for e in expanded])
    ocol = np.concatenate([e[1] for e in expanded])
    ounit = np.concatenate([e[2] for e in expanded])
    prow, pcol = orow // grid.ny, ocol // grid.nx
    k = grid.ny * grid.nx
    return _Pieces(
        unit=ounit.astype(np.intp),
        row=prow + grid.row0,
        col=pcol + grid.col0,
        x=grid.ox + (ocol + 0.5) * grid.dx,
        y=grid.oy + (orow + 0.5) * grid.dy,
        raw=values[prow, pcol] / k,
        area_km2=pixel_km2_of_row[prow] / k,
        shape=np.full(orow.size, None, dtype=object),
    )


def _boundary(
    cut: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.intp], npt.NDArray[np.object_]],
    grid: _BlockGrid,
    values: npt.NDArray[np.float64],
    pixel_km2_of_row: npt.NDArray[np.float64],
) -> _Pieces:
    """Pieces of cut output cells: the piece's area share of its pixel, a point on it."""
    r, c, unit, pieces = cut
    prow, pcol = r // grid.ny, c // grid.nx
    frac = shapely.area(pieces) / grid.pixel_area if pieces.size else np.empty(0)
    pts = shapely.point_on_surface(pieces) if pieces.size else np.empty(0, dtype=object)
    return _Pieces(
        unit=unit.astype(np.intp),
        row=prow + grid.row0,
        col=pcol + grid.col0,
        x=shapely.get_x(pts) if pieces.size else np.empty(0),
        y=shapely.get_y(pts) if pieces.size else np.empty(0),
        raw=values[prow, pcol] * frac,
        area_km2=pixel_km2_of_row[prow] * frac,
        shape=pieces,
    )


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
    fine: npt.NDArray[np.bool_] | None = None,
) -> _Pieces:
    """Cut one block of pixels by the units; return pieces of output cells.

    Output cells are the pixels (``ny = nx = 1``) or their ``ny × nx`` sub-cells; with
    ``fine`` (a mask of the block's pixels), only those pixels are cut into sub-cells and
    the others stay whole (same people and area, one point at the pixel's centre). Pixels
    are matched to units by envelope (STRtree) and classified with prepared predicates:
    wholly inside (no geometry work), cut, or out. Sub-cells of a cut pixel are then cut by
    that pixel's small piece, not by the whole unit polygon. (A coarser first level of
    tiles was tried and did not pay: GEOS intersections cost about the same per call on
    the smaller pieces.)
    """
    nrows, ncols = values.shape
    grid = _BlockGrid(
        ox=transform.c + col0 * transform.a,
        oy=transform.f + row0 * transform.e,
        dx=transform.a / nx,
        dy=transform.e / ny,
        ny=ny,
        nx=nx,
        row0=row0,
        col0=col0,
        pixel_area=abs(transform.a * transform.e),
    )
    min_area = _MIN_PIECE_FRAC * grid.pixel_area
    # Pixels against whole units; r, c count output cells from the block's top-left corner.
    pr, pc = np.divmod(np.arange(nrows * ncols, dtype=np.int64), ncols)
    r, c = pr * ny, pc * nx
    boxes = grid.boxes(r, c, ny, nx)
    cell, unit = tree.query(boxes)
    r, c = r[cell], c[cell]
    whole, cut, pieces = _cut_cells(boxes[cell], geoms[unit], min_area)
    coarse: list[_Pieces] = []
    if fine is not None and ny * nx > 1:
        is_fine = fine.ravel()[cell]
        coarse.append(_coarse_whole(r[whole & ~is_fine], c[whole & ~is_fine], unit[whole & ~is_fine], grid, values,
                                    pixel_km2_of_row))  # fmt: skip
        coarse.append(_boundary((r[cut & ~is_fine], c[cut & ~is_fine], unit[cut & ~is_fine], pieces[cut & ~is_fine]),
                                grid, values, pixel_km2_of_row))  # fmt: skip
        whole, cut = whole & is_fine, cut & is_fine
    whole_parts = [(r[whole], c[whole], unit[whole], ny, nx)]
    r, c, unit, pieces = r[cut], c[cut], unit[cut], pieces[cut]
    if ny * nx > 1:
        # Sub-cells of cut pixels against the pixel's piece (small, prepared once).
        k = ny * nx
        r, c, unit = _expand(r, c, unit, ny, nx)
        parents = np.repeat(pieces, k)
        shapely.prepare(parents)
        whole, cut, pieces = _cut_cells(grid.boxes(r, c, 1, 1), parents, min_area)
        shapely.destroy_prepared(parents)
        whole_parts.append((r[whole], c[whole], unit[whole], 1, 1))
        r, c, unit, pieces = r[cut], c[cut], unit[cut], pieces[cut]
    return _Pieces.concat(
        [
            *coarse,
            _interior(whole_parts, grid, values, pixel_km2_of_row),
            _boundary((r, c, unit, pieces), grid, values, pixel_km2_of_row),
        ]
    )


def _coarse_whole(
    r: npt.NDArray[np.int64],
    c: npt.NDArray[np.int64],
    unit: npt.NDArray[np.intp],
    grid: _BlockGrid,
    values: npt.NDArray[np.float64],
    pixel_km2_of_row: npt.NDArray[np.float64],
) -> _Pieces:
    """Pieces of whole pixels left uncut (``r, c`` count output cells: ``r = pixel row × ny``)."""
    prow, pcol = r // grid.ny, c // grid.nx
    return _Pieces(
        unit=unit.astype(np.intp),
        row=prow + grid.row0,
        col=pcol + grid.col0,
        x=np.asarray(grid.ox + (c + grid.nx / 2) * grid.dx, dtype=np.float64),
        y=np.asarray(grid.oy + (r + grid.ny / 2) * grid.dy, dtype=np.float64),
        raw=values[prow, pcol],
        area_km2=pixel_km2_of_row[prow],
        shape=np.full(r.size, None, dtype=object),
    )


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
