"""Service areas: the streets reached within a time budget, drawn as polygons."""

# ruff: noqa: N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse.csgraph import dijkstra

from pointplan._errors import (
    InputError,
)
from pointplan.network._common import FloatArray, IntArray, _check_minutes, _points_xy

if TYPE_CHECKING:
    from pointplan.network.engine import NetworkEngine

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


def network_service_areas(
    engine: NetworkEngine,
    points: gpd.GeoDataFrame,
    max_minutes: float,
    *,
    buffer_m: float = 50.0,
    cell_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Area from which each point is reached within ``max_minutes`` (for maps).

    The area is the network reached in time (whole streets and the reachable part
    of the last ones, following their geometry) plus the point's snap leg, widened
    by ``buffer_m``. Times are towards the point, as everywhere in this module. The
    band is drawn on a raster of ``cell_m`` cells and turned into polygons, which
    keeps city-wide areas (tens of thousands of streets) to a fraction of a second;
    edges are therefore accurate to about one cell.

    Parameters
    ----------
    engine
        The network engine (its graph, mode and snapping).
    points
        Service points.
    max_minutes
        Time budget.
    buffer_m
        Width of the band around reached streets counted as served.
    cell_m
        Raster cell size (default ``buffer_m / 2``).

    Returns
    -------
    geopandas.GeoDataFrame
        One (Multi)Polygon per point (empty if even the snap leg exceeds the
        budget), index of ``points``, CRS of ``points``; columns ``max_minutes`` and
        ``method``.

    """
    limit_s = _check_minutes(max_minutes) * 60.0
    if not (isinstance(buffer_m, int | float) and buffer_m > 0):
        msg = f"buffer_m must be a number > 0, got {buffer_m!r}."
        raise InputError(msg)
    cell = float(buffer_m) / 2 if cell_m is None else float(cell_m)
    if not (math.isfinite(cell) and cell > 0):
        msg = f"cell_m must be a number > 0, got {cell_m!r}."
        raise InputError(msg)
    g = engine._g
    xy = _points_xy(points, "points", engine.crs)
    dist_snap, kk = g.tree.query(xy)
    d_pos = g.snap_nodes[kk]
    v = engine._access_mps
    n, k = g.n, len(d_pos)
    A = engine._augmented(d_pos, np.asarray(dist_snap) / v)
    arcs = _arc_geometries(engine)
    geoms: list[shapely.Geometry] = []
    for js in engine._chunks(k):
        dist = dijkstra(A, directed=True, indices=n + js, limit=limit_s)
        for r, j in enumerate(js):
            geoms.append(_area_one(engine, dist[r, :n], limit_s, xy[j], int(d_pos[j]), arcs, buffer_m, cell))
    out = gpd.GeoDataFrame(
        {"max_minutes": float(max_minutes), "method": engine.method},
        geometry=gpd.GeoSeries(geoms, crs=engine.crs).values,
        index=points.index,
        crs=engine.crs,
    )
    out = out.to_crs(points.crs)
    out.attrs["method"] = engine.method
    return out


def _arc_geometries(engine: NetworkEngine) -> tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.object_]]:
    """Heads, tails, times and geometries (tail -> head) of the reversed arcs."""
    g = engine._g
    heads = np.repeat(np.arange(g.n), np.diff(g.rev.indptr))  # arc a -> b: a
    tails = g.rev.indices.astype(np.int64)  # b (original edge b -> a)
    geom = g.rev_geom
    missing = np.array([not isinstance(x, shapely.Geometry) for x in geom], dtype=bool)
    if missing.any():
        straight = shapely.linestrings(
            np.stack(
                [
                    np.column_stack([g.x[tails[missing]], g.y[tails[missing]]]),
                    np.column_stack([g.x[heads[missing]], g.y[heads[missing]]]),
                ],
                axis=1,
            )
        )
        geom = geom.copy()
        geom[missing] = straight
    return heads, tails, g.rev.data, geom


def _area_one(
    engine: NetworkEngine,
    dist: FloatArray,
    limit_s: float,
    point_xy: FloatArray,
    node: int,
    arcs: tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.object_]],
    buffer_m: float,
    cell: float,
) -> shapely.Geometry:
    import affine
    import rasterio.features
    from scipy import ndimage

    g = engine._g
    if not np.isfinite(dist[node]):
        return shapely.Polygon()
    heads, tails, arc_t, geom = arcs
    sel = np.flatnonzero(np.isfinite(dist[heads]))
    h, t, at = heads[sel], tails[sel], arc_t[sel]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(at > 0, (limit_s - dist[h]) / at, 1.0)
    frac = np.clip(frac, 0.0, 1.0)
    # a two-way street reached whole appears twice (one arc per direction): keep one
    full = frac >= 1.0
    lo, hi = np.minimum(h, t), np.maximum(h, t)
    _, once = np.unique(lo[full] * g.n + hi[full], return_index=True)
    keep = np.concatenate([np.flatnonzero(full)[once], np.flatnonzero(~full & (frac > 0))])
    lines, frac = geom[sel[keep]], frac[keep]
    # sample the reached part of each street (the end next to the head, which is
    # nearer the point in time) every half cell
    step = cell / 2
    n_s = np.maximum(2, np.ceil(shapely.length(lines) * frac / step).astype(np.int64) + 1)
    rep = np.repeat(np.arange(len(lines)), n_s)
    start = np.cumsum(n_s) - n_s
    local = (np.arange(int(n_s.sum())) - start[rep]) / (n_s[rep] - 1)
    along = 1.0 - frac[rep] + frac[rep] * local
    pts = shapely.get_coordinates(shapely.line_interpolate_point(lines[rep], along, normalized=True))
    node_xy = np.array([g.x[node], g.y[node]])
    n_leg = max(2, math.ceil(float(np.hypot(*(node_xy - point_xy))) / step) + 1)
    leg = point_xy[None, :] + np.linspace(0.0, 1.0, n_leg)[:, None] * (node_xy - point_xy)
    pts = np.vstack([pts.reshape(-1, 2), leg])
    # rasterise, widen by buffer_m, polygonise
    pad = buffer_m + 2 * cell
    x0, y0 = pts.min(axis=0) - pad
    shape = np.ceil((pts.max(axis=0) + pad - (x0, y0)) / cell).astype(int)
    grid = np.zeros((shape[1], shape[0]), dtype=bool)
    grid[((pts[:, 1] - y0) / cell).astype(int), ((pts[:, 0] - x0) / cell).astype(int)] = True
    r = math.ceil(buffer_m / cell)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    grid = ndimage.binary_dilation(grid, structure=(xx**2 + yy**2) * cell**2 <= buffer_m**2)
    transform = affine.Affine(cell, 0.0, x0, 0.0, cell, y0)
    polys = [
        shapely.geometry.shape(shp)
        for shp, _ in rasterio.features.shapes(grid.astype(np.uint8), mask=grid, transform=transform)
    ]
    return shapely.union_all(polys)
