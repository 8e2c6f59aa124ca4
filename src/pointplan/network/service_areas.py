"""Service areas: the streets reached within a time budget, drawn as polygons."""

# ruff: noqa: N806 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from pointplan._errors import (
    InputError,
)
from pointplan.network._common import FloatArray, IntArray, _check_minutes, _points_xy
from pointplan.network.snapping import Snapped, StreetIndex

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
    fill_holes_m2: float = 100_000.0,
) -> gpd.GeoDataFrame:
    """Area from which each point is reached within ``max_minutes`` (for maps).

    The area is the network reached in time (whole streets and the reachable part
    of the last ones, following their geometry) plus the point's snap leg, widened
    by ``buffer_m``. Times are towards the point, as everywhere in this module. The
    band is drawn on a raster of ``cell_m`` cells and turned into polygons, all points
    sharing one raster frame (vectorised: no per-point line interpolation); edges are
    therefore accurate to about one cell.

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
        Raster cell size. By default half of ``buffer_m``, or 1/300 of the widest area
        reachable in time when that is larger (a city-wide area is drawn with cells of
        about 50 m, and stays fast).
    fill_holes_m2
        Holes smaller than this (m², default 10 ha) are filled: a city block ringed by
        reached streets is served (its people walk out to them); larger holes (a lake,
        a park) stay out. ``0`` keeps every hole.

    Returns
    -------
    geopandas.GeoDataFrame
        One (Multi)Polygon per point (empty if even the snap leg exceeds the
        budget), index of ``points``, CRS of ``points``; columns ``max_minutes`` and
        ``method``.

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx
    >>> from pointplan.network import NetworkEngine
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=1000.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=1000.0, highway="primary")
    >>> _ = G.add_edge(2, 1, length=1000.0, highway="primary")
    >>> p = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]), crs="EPSG:32648")
    >>> area = network_service_areas(NetworkEngine(G, "motorbike"), p, 1.0, buffer_m=10, cell_m=1)
    >>> 509 <= area.geometry.iloc[0].bounds[2] <= 512  # 1 minute at 30 km/h: 500 m of street, + 10 m (a cell)
    True

    """
    limit_s = _check_minutes(max_minutes) * 60.0
    if not (isinstance(buffer_m, int | float) and buffer_m > 0):
        msg = f"buffer_m must be a number > 0, got {buffer_m!r}."
        raise InputError(msg)
    cell = _default_cell(engine, limit_s, float(buffer_m)) if cell_m is None else float(cell_m)
    if not (math.isfinite(cell) and cell > 0):
        msg = f"cell_m must be a number > 0, got {cell_m!r}."
        raise InputError(msg)
    d = engine._snap(points, "points")
    xy = _points_xy(points, "points", engine.crs)
    geoms = _areas(engine, d, xy, limit_s, float(buffer_m), cell, float(fill_holes_m2))
    out = gpd.GeoDataFrame(
        {"max_minutes": float(max_minutes), "method": engine.method},
        geometry=gpd.GeoSeries(geoms, crs=engine.crs).values,
        index=points.index,
        crs=engine.crs,
    )
    out = out.to_crs(points.crs)
    out.attrs["method"] = engine.method
    return out


def _default_cell(engine: NetworkEngine, limit_s: float, buffer_m: float) -> float:
    """Half the buffer, or 1/300 of the widest area reachable in time (city-wide areas stay fast)."""
    g = engine._g
    with np.errstate(divide="ignore", invalid="ignore"):
        mps = np.where(g.rev.data > 0, g.rev_len / g.rev.data, 0.0)
    reach_m = 2 * limit_s * float(np.nanmax(mps, initial=0.0))
    extent = min(reach_m, float(max(np.ptp(g.x), np.ptp(g.y))))
    return max(buffer_m / 2, extent / 300.0)


@dataclass(frozen=True)
class _Samples:
    """Points every ``step`` metres along every street, with what decides if they are reached."""

    xy: FloatArray  # (S, 2)
    street: IntArray  # street of each sample
    frac: FloatArray  # position along the street from a (0) to b (1)
    start: IntArray  # first sample of each street
    count: IntArray  # samples per street
    a: IntArray  # the street's end nodes
    b: IntArray
    to_a_s: FloatArray  # seconds from the sample to a along the street (inf if closed)
    to_b_s: FloatArray


def _samples(engine: NetworkEngine, step: float) -> _Samples:
    """Sample every street once (cached per converted graph and step)."""
    g = engine._g
    memo = g.memo.get(("samples", step))
    if isinstance(memo, _Samples):
        return memo
    st = g.streets
    n_s = np.maximum(2, np.ceil(st.geom_len / step).astype(np.int64) + 1)
    street = np.repeat(np.arange(len(n_s)), n_s)
    start = np.cumsum(n_s) - n_s
    frac = (np.arange(int(n_s.sum())) - start[street]) / (n_s[street] - 1)
    # positions along each street's segments, in numpy (no per-point shapely call)
    along = frac * st.geom_len[street]
    seg_first = np.searchsorted(st.seg_street, np.arange(len(n_s)))
    seg_count = np.bincount(st.seg_street, minlength=len(n_s))
    cum_end = st.seg_along0 + np.hypot(*(st.seg_xy1 - st.seg_xy0).T)
    seg = seg_first[street] + _segment_of(cum_end, seg_first, seg_count, street, along)
    seg_len = np.hypot(*(st.seg_xy1[seg] - st.seg_xy0[seg]).T)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(np.where(seg_len > 0, (along - st.seg_along0[seg]) / seg_len, 0.0), 0.0, 1.0)
    xy = st.seg_xy0[seg] + t[:, None] * (st.seg_xy1[seg] - st.seg_xy0[seg])
    with np.errstate(invalid="ignore"):
        to_a = np.nan_to_num(frac * st.t_ba[street], nan=0.0, posinf=np.inf)
        to_b = np.nan_to_num((1 - frac) * st.t_ab[street], nan=0.0, posinf=np.inf)
    out = _Samples(xy, street, frac, start, n_s, st.a[street], st.b[street], to_a, to_b)
    g.memo[("samples", step)] = out
    return out


def _segment_of(
    cum_end: FloatArray, seg_first: IntArray, seg_count: IntArray, street: IntArray, along: FloatArray
) -> IntArray:
    """Index, within its street, of the segment holding each position ``along``."""
    # search in the street's own slice of the (per street increasing) segment ends
    offset = np.zeros(len(street), dtype=np.int64)
    base = seg_first[street]
    count = seg_count[street]
    lo, hi = np.zeros(len(street), dtype=np.int64), count - 1
    while True:  # vectorised binary search: O(log max segments per street) passes
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        go_right = active & (cum_end[base + mid] < along)
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
    offset[:] = lo
    return offset


def _reached_times(smp: _Samples, dist: FloatArray) -> FloatArray:
    """Seconds from every sample to the point, through either end of its street: (rows, S)."""
    return np.fmin(dist[:, smp.a] + smp.to_a_s, dist[:, smp.b] + smp.to_b_s)


def _areas(
    engine: NetworkEngine, d: Snapped, xy: FloatArray, limit_s: float, buffer_m: float, cell: float, fill_m2: float
) -> list[shapely.Geometry]:
    """One polygon per point: reached samples, own street and snap leg, rasterised.

    All points share one raster frame, so two points that reach the same cells (at
    city scale, many reach the whole network) share one polygon, drawn once.
    """
    g = engine._g
    st = g.streets
    smp = _samples(engine, cell)  # a sample per cell: the buffer closes any diagonal gap
    n, k = g.n, len(d.street)
    A, _ = engine._augmented(d)
    access_s = d.snap_m / engine._access_mps
    frame = _Frame.around(np.vstack([smp.xy, xy]), buffer_m + 2 * cell, cell)
    sample_cell = frame.cells(smp.xy)
    drawn: dict[bytes, shapely.Geometry] = {}
    geoms: list[shapely.Geometry] = []
    for js in engine._chunks(k, max(n + k, len(smp.street))):
        dist = dijkstra(A, directed=True, indices=n + js, limit=limit_s)[:, :n]
        reached = _reached_times(smp, dist) <= limit_s
        for r, j in enumerate(js.tolist()):
            if access_s[j] > limit_s:
                geoms.append(shapely.Polygon())
                continue
            own = _own_street(st, smp, d, j, limit_s - access_s[j])
            extra = frame.cells(np.vstack([own, _leg(xy[j], d.proj_xy[j], cell / 2)]))
            grid = frame.empty()
            grid.ravel()[sample_cell[reached[r]]] = True
            grid.ravel()[extra] = True
            key = hashlib.blake2b(np.packbits(grid).tobytes(), digest_size=16).digest()
            if key not in drawn:
                drawn[key] = _rasterise(grid, frame, buffer_m, fill_m2)
            geoms.append(drawn[key])
    logger.debug("service areas: %d points, %d distinct polygons", k, len(drawn))
    return geoms


@dataclass(frozen=True)
class _Frame:
    """A raster frame: origin, cell size and shape (rows, cols)."""

    x0: float
    y0: float
    cell: float
    rows: int
    cols: int

    @classmethod
    def around(cls, xy: FloatArray, pad: float, cell: float) -> _Frame:
        x0, y0 = xy.min(axis=0) - pad
        cols, rows = np.ceil((xy.max(axis=0) + pad - (x0, y0)) / cell).astype(int)
        return cls(float(x0), float(y0), cell, int(rows), int(cols))

    def cells(self, xy: FloatArray) -> IntArray:
        col = ((xy[:, 0] - self.x0) / self.cell).astype(np.int64)
        row = ((xy[:, 1] - self.y0) / self.cell).astype(np.int64)
        return row * self.cols + col

    def empty(self) -> np.ndarray:
        return np.zeros((self.rows, self.cols), dtype=bool)


def _own_street(st: StreetIndex, smp: _Samples, d: Snapped, j: int, budget_s: float) -> FloatArray:
    """Return the samples of the point's own street reached along it directly."""
    s = int(d.street[j])
    sl = slice(int(smp.start[s]), int(smp.start[s] + smp.count[s]))
    f = smp.frac[sl]
    gap = f - d.frac[j]
    with np.errstate(invalid="ignore"):
        sec = np.where(gap <= 0, -gap * st.t_ab[s], gap * st.t_ba[s])  # sample before f drives a -> b
    return smp.xy[sl][np.nan_to_num(sec, nan=0.0) <= budget_s]


def _leg(p: FloatArray, q: FloatArray, step: float) -> FloatArray:
    n_leg = max(2, math.ceil(float(np.hypot(*(q - p))) / step) + 1)
    return p[None, :] + np.linspace(0.0, 1.0, n_leg)[:, None] * (q - p)


def _fill_small_holes(grid: np.ndarray, max_cells: float) -> np.ndarray:
    """Fill the holes of ``grid`` smaller than ``max_cells`` (blocks ringed by reached streets)."""
    from scipy import ndimage

    if max_cells <= 0:
        return grid
    label, n = ndimage.label(~grid)  # the unreached parts; those touching the edge are outside
    size = np.bincount(label.ravel(), minlength=n + 1)
    small = size <= max_cells
    small[0] = False
    small[np.unique(np.concatenate([label[0], label[-1], label[:, 0], label[:, -1]]))] = False
    return grid | small[label]


def _rasterise(grid: np.ndarray, frame: _Frame, buffer_m: float, fill_m2: float) -> shapely.Geometry:
    """Draw the marked cells, widened by ``buffer_m``, small holes filled, as (Multi)Polygons."""
    import affine
    import rasterio.features

    cell = frame.cell
    r = math.ceil(buffer_m / cell)
    rows, cols = np.flatnonzero(grid.any(axis=1)), np.flatnonzero(grid.any(axis=0))
    r0, r1 = max(rows[0] - r - 1, 0), min(rows[-1] + r + 2, frame.rows)
    c0, c1 = max(cols[0] - r - 1, 0), min(cols[-1] + r + 2, frame.cols)
    crop = _dilate_disc(grid[r0:r1, c0:c1], buffer_m / cell)
    crop = _fill_small_holes(crop, fill_m2 / cell**2)
    transform = affine.Affine(cell, 0.0, frame.x0 + c0 * cell, 0.0, cell, frame.y0 + r0 * cell)
    polys = [
        _polygon(shp["coordinates"])
        for shp, _ in rasterio.features.shapes(crop.astype(np.uint8), mask=crop, transform=transform)
    ]
    if len(polys) == 1:
        return polys[0]
    # the pieces of one raster never overlap (at most they touch at a corner): no union needed
    return shapely.multipolygons(polys)


def _dilate_disc(grid: np.ndarray, radius: float) -> np.ndarray:
    """Dilate by a disc of ``radius`` cells: one running maximum per row offset (separable, fast)."""
    from scipy import ndimage

    r = math.floor(radius)
    src = grid.view(np.uint8)
    out = np.zeros_like(src)
    for dy in range(-r, r + 1):
        half = math.floor(math.sqrt(max(radius**2 - dy**2, 0.0)))
        row = ndimage.maximum_filter1d(src, 2 * half + 1, axis=1, mode="constant")
        if dy > 0:
            out[dy:] |= row[:-dy]
        elif dy < 0:
            out[:dy] |= row[-dy:]
        else:
            out |= row
    return out.view(bool)


def _polygon(rings: list[list[tuple[float, float]]]) -> shapely.Polygon:
    """Return a GeoJSON polygon's rings as a shapely Polygon (numpy, no per-vertex Python)."""
    shell, *holes = (shapely.linearrings(np.asarray(r, float)) for r in rings)
    if not holes:
        return shapely.polygons(shell)
    hole_arr = np.empty(len(holes), dtype=object)
    hole_arr[:] = holes
    return shapely.polygons(shell, holes=hole_arr)
