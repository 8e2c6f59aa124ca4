"""Candidate sites for new service points.

Generated candidates:

* :func:`grid_candidates`: one site per populated grid cell (population-weighted
  centroid of the demand in the cell, so it sits on populated land);
* :func:`unit_candidates`: a stand-in for each unit's head office (a point guaranteed
  inside the unit polygon: the head-office coordinates are not available offline);
* :func:`cluster_candidates`: centroids of underserved demand found by k-means weighted
  by population (scikit-learn ``KMeans`` / ``MiniBatchKMeans``).

User-supplied candidates (malls, community houses...) come from :func:`read_candidates`.
:func:`clean_candidates` drops sites outside the city or on top of an existing point and
says why.

Every function returns a GeoDataFrame in EPSG:4326 with the columns ``candidate_id``,
``kind``, ``source``, ``unit_code``, ``location_precision`` and geometry, the input of
:func:`pointplan.locate.propose`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from pointplan import settings
from pointplan._errors import CRSError, GeometryError, InputError, MissingColumnError
from pointplan._validate import HANOI_BBOX, check_columns, check_nonnegative, ensure_gdf, projected_crs

__all__ = [
    "UNIT_KINDS",
    "candidate_units",
    "clean_candidates",
    "cluster_candidates",
    "grid_candidates",
    "read_candidates",
    "restrict_candidates",
    "unit_candidates",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

CANDIDATE_COLUMNS = ["candidate_id", "kind", "source", "unit_code", "location_precision"]

_LON_NAMES = ("lon", "lng", "long", "longitude")
_LAT_NAMES = ("lat", "latitude")
_X_NAMES = ("x", "easting")
_Y_NAMES = ("y", "northing")


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Projected coordinates (n x 2) of point geometries (representative points else)."""
    geom = gdf.geometry.to_crs(projected_crs())
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def _frame(data: dict[str, Any], xy: np.ndarray, index: Any = None) -> gpd.GeoDataFrame:
    pts = gpd.GeoSeries(shapely.points(xy), crs=settings.projected_crs)
    out = gpd.GeoDataFrame(data, geometry=pts.values, crs=settings.projected_crs, index=index)
    return out.to_crs(settings.geographic_crs)


def _demand_points(demand: object, what: str = "demand") -> tuple[gpd.GeoDataFrame, np.ndarray]:
    gdf = ensure_gdf(demand, what)
    check_columns(gdf, ["population"], what)
    pop = check_nonnegative(gdf, "population", what).to_numpy()
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        msg = f"{what} has missing or empty geometries; drop those rows first."
        raise GeometryError(msg)
    return gdf, pop


# --------------------------------------------------------------------------------------
# Generated candidates
# --------------------------------------------------------------------------------------
def grid_candidates(
    demand: gpd.GeoDataFrame,
    spacing_m: float = 2000.0,
    min_population: float = 500.0,
) -> gpd.GeoDataFrame:
    """One candidate per populated cell of a square grid.

    The grid is laid in :data:`pointplan.settings.projected_crs`; each cell holding at
    least ``min_population`` people gets one candidate at the population-weighted
    centroid of its demand points (so it stands on populated land, not in a river).

    Parameters
    ----------
    demand
        Demand points with a ``population`` column (and ``unit_code`` if known).
    spacing_m
        Cell size in metres.
    min_population
        Cells with fewer people get no candidate.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``grid-0001``... by decreasing population), ``kind``
        ("proposed"), ``source`` ("grid"), ``unit_code`` (the unit with most people in
        the cell), ``population``, ``location_precision`` ("grid_weighted_centroid"),
        EPSG:4326.

    Examples
    --------
    >>> import geopandas as gpd
    >>> d = gpd.GeoDataFrame({"population": [100, 300, 50]},
    ...     geometry=gpd.points_from_xy([585000, 585500, 590000], [2320000, 2320000, 2320000]),
    ...     crs="EPSG:32648")
    >>> grid_candidates(d, spacing_m=2000, min_population=100)["population"].tolist()
    [400.0]

    """
    if not spacing_m > 0:
        msg = f"spacing_m must be > 0, got {spacing_m}."
        raise InputError(msg)
    gdf, pop = _demand_points(demand)
    xy = _xy(gdf)
    cell = np.floor(xy / float(spacing_m)).astype(np.int64)
    key, inv = np.unique(cell, axis=0, return_inverse=True)
    inv = inv.ravel()
    cell_pop = np.bincount(inv, weights=pop, minlength=len(key))
    keep = (cell_pop >= min_population) & (cell_pop > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.bincount(inv, weights=pop * xy[:, 0], minlength=len(key)) / cell_pop
        cy = np.bincount(inv, weights=pop * xy[:, 1], minlength=len(key)) / cell_pop
    ids = np.flatnonzero(keep)
    ids = ids[np.argsort(-cell_pop[ids], kind="stable")]
    if "unit_code" in gdf.columns:
        df = pd.DataFrame({"cell": inv, "unit": gdf["unit_code"].to_numpy(), "pop": pop})
        by = df.groupby(["cell", "unit"], sort=False)["pop"].sum().reset_index()
        by = by.sort_values(["cell", "pop"], ascending=[True, False]).drop_duplicates("cell")
        unit = pd.Series(by["unit"].to_numpy(), index=by["cell"].to_numpy()).reindex(ids)
        units = unit.to_numpy(dtype=object)
    else:
        units = np.full(ids.size, None, dtype=object)
    width = max(4, len(str(ids.size)))
    data = {
        "candidate_id": [f"grid-{i + 1:0{width}d}" for i in range(ids.size)],
        "kind": "proposed",
        "source": "grid",
        "unit_code": units,
        "population": cell_pop[ids],
        "location_precision": "grid_weighted_centroid",
    }
    logger.info("grid_candidates: %d of %d cells have >= %s people", ids.size, len(key), min_population)
    return _frame(data, np.column_stack([cx[ids], cy[ids]]))


def unit_candidates(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make a head-office stand-in for each unit: a point guaranteed inside its polygon.

    The head offices' coordinates are not available offline (only addresses), so the
    candidate is the unit polygon's representative point, computed in the projected CRS
    and flagged ``location_precision="unit_representative_point"``.

    Parameters
    ----------
    units
        Unit polygons indexed by unit code (as :func:`pointplan.load_units` returns); a
        ``code`` column is used instead when present.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``unit-<code>``), ``kind`` ("proposed"), ``source``
        ("unit_representative_point"), ``unit_code``, ``name`` (when given),
        ``location_precision``, EPSG:4326; index is the unit code.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> units = gpd.GeoDataFrame(
    ...     geometry=[box(585_000, 2_320_000, 586_000, 2_321_000)], index=["00004"], crs="EPSG:32648"
    ... )
    >>> c = unit_candidates(units)
    >>> c["candidate_id"].tolist(), bool(units.to_crs(4326).geometry.iloc[0].contains(c.geometry.iloc[0]))
    (['unit-00004'], True)

    """
    gdf = ensure_gdf(units, "units")
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        msg = "units has missing or empty geometries; repair the unit layer first."
        raise GeometryError(msg)
    codes = gdf["code"] if "code" in gdf.columns else pd.Series(gdf.index, index=gdf.index)
    codes = codes.astype(str)
    proj = gdf.geometry.to_crs(projected_crs())
    pts = shapely.point_on_surface(proj.values)
    xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
    data: dict[str, Any] = {
        "candidate_id": ("unit-" + codes).to_numpy(),
        "kind": "proposed",
        "source": "unit_representative_point",
        "unit_code": codes.to_numpy(),
        "location_precision": "unit_representative_point",
    }
    if "name" in gdf.columns:
        data["name"] = gdf["name"].to_numpy()
    out = _frame(data, xy, index=pd.Index(codes.to_numpy(), name="code"))
    return out


def _cluster_mask(gdf: gpd.GeoDataFrame, pop: np.ndarray, underserved_mask: Any) -> np.ndarray:
    """Return the demand rows to cluster: underserved (all when no mask) and with people."""
    if isinstance(underserved_mask, pd.Series):
        mask = underserved_mask.reindex(gdf.index).fillna(False).to_numpy(dtype=bool)
    elif underserved_mask is None:
        mask = np.ones(len(gdf), dtype=bool)
    else:
        mask = np.asarray(underserved_mask, dtype=bool).ravel()
        if mask.size != len(gdf):
            msg = f"underserved_mask has {mask.size} entries for {len(gdf)} demand rows."
            raise InputError(msg)
    return mask & (pop > 0)


def _check_clusters(n_clusters: object, n_pts: int) -> None:
    """Refuse a cluster count that is not a positive integer, or more than the points."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, int | np.integer) or n_clusters < 1:
        msg = f"n_clusters must be a positive integer, got {n_clusters!r}."
        raise InputError(msg)
    if n_pts == 0:
        msg = "no (underserved) demand with population > 0 to cluster."
        raise InputError(msg)
    if n_clusters > n_pts:
        msg = f"n_clusters = {n_clusters} but only {n_pts} underserved demand points have people; lower n_clusters."
        raise InputError(msg)


def cluster_candidates(
    demand: gpd.GeoDataFrame,
    n_clusters: int,
    *,
    underserved_mask: Any = None,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Centroids of (underserved) demand from k-means weighted by population.

    Parameters
    ----------
    demand
        Demand points with ``population`` (and ``unit_code`` if known).
    n_clusters
        Number of candidates to produce.
    underserved_mask
        Boolean per demand row (array or Series aligned on the index): cluster only these
        (e.g. demand outside the 30 min / 5 km standard). ``None``: all demand.
    seed
        Random seed of k-means (results are reproducible for a given seed).

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``cluster-01``... by decreasing population), ``kind``
        ("proposed"), ``source`` ("cluster"), ``unit_code`` (unit of the demand point
        nearest to the centroid), ``population`` (people in the cluster),
        ``location_precision`` ("cluster_centroid"), EPSG:4326.

    Examples
    --------
    Two groups of houses 5 km apart give one centroid each, the larger first:

    >>> import geopandas as gpd
    >>> d = gpd.GeoDataFrame(
    ...     {"population": [100, 100, 300, 300], "unit_code": ["A", "A", "B", "B"]},
    ...     geometry=gpd.points_from_xy([585_000, 585_200, 590_000, 590_200], [2_320_000] * 4),
    ...     crs="EPSG:32648",
    ... )
    >>> c = cluster_candidates(d, 2)
    >>> c["unit_code"].tolist(), c["population"].tolist()
    (['B', 'A'], [600.0, 200.0])

    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    gdf, pop = _demand_points(demand)
    mask = _cluster_mask(gdf, pop, underserved_mask)
    n_pts = int(mask.sum())
    _check_clusters(n_clusters, n_pts)
    xy_all = _xy(gdf)
    xy, w = xy_all[mask], pop[mask]
    if n_pts > 20_000:
        km: Any = MiniBatchKMeans(n_clusters=n_clusters, random_state=seed, n_init=3, batch_size=4096)
    else:
        km = KMeans(n_clusters=n_clusters, random_state=seed, n_init=4)
    km.fit(xy, sample_weight=w)
    labels = km.labels_
    cl_pop = np.bincount(labels, weights=w, minlength=n_clusters)
    centres = np.asarray(km.cluster_centers_)
    order = np.argsort(-cl_pop, kind="stable")
    order = order[cl_pop[order] > 0]
    centres = centres[order]
    _, nearest = cKDTree(xy).query(centres)
    if "unit_code" in gdf.columns:
        units = gdf["unit_code"].to_numpy(dtype=object)[mask][nearest]
    else:
        units = np.full(order.size, None, dtype=object)
    width = max(2, len(str(order.size)))
    data = {
        "candidate_id": [f"cluster-{i + 1:0{width}d}" for i in range(order.size)],
        "kind": "proposed",
        "source": "cluster",
        "unit_code": units,
        "population": cl_pop[order],
        "location_precision": "cluster_centroid",
    }
    return _frame(data, centres)


# --------------------------------------------------------------------------------------
# User-supplied candidates
# --------------------------------------------------------------------------------------
def _find(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in lower:
            return str(lower[n])
    return None


def _read_table_candidates(p: Path, crs: Any) -> gpd.GeoDataFrame:
    """Read candidates from a CSV/TSV with lon/lat (or x/y and a CRS) columns."""
    df = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",", dtype={"unit_code": str})
    xcol, ycol = _find(df.columns, _LON_NAMES), _find(df.columns, _LAT_NAMES)
    geographic = xcol is not None and ycol is not None
    if not geographic:
        xcol, ycol = _find(df.columns, _X_NAMES), _find(df.columns, _Y_NAMES)
    if xcol is None or ycol is None:
        msg = (
            f"{p.name}: no coordinate columns found among {list(map(str, df.columns))}. "
            "Name them lon/lat (WGS84 degrees) or x/y (and pass crs=...)."
        )
        raise MissingColumnError(msg)
    xs = pd.to_numeric(df[xcol], errors="coerce")
    ys = pd.to_numeric(df[ycol], errors="coerce")
    bad = xs.isna() | ys.isna()
    if bad.any():
        rows = (df.index[bad] + 2).tolist()[:8]
        msg = f"{p.name}: missing or non-numeric coordinates on lines {rows}."
        raise InputError(msg)
    if geographic:
        the_crs = crs if crs is not None else settings.geographic_crs
    elif crs is None:
        msg = (
            f"{p.name}: columns {xcol}/{ycol} are not longitude/latitude; say which CRS "
            f"they are in, e.g. read_candidates(path, crs='{settings.projected_crs}')."
        )
        raise CRSError(msg)
    else:
        the_crs = crs
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xs, ys), crs=the_crs)
    return gdf


def _read_vector_candidates(p: Path, crs: Any, precision: str) -> tuple[gpd.GeoDataFrame, str]:
    """Read candidates from a vector file; polygons become a point inside them."""
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:
        msg = f"could not read {p}: {exc}"
        raise InputError(msg) from exc
    if gdf.crs is None:
        if crs is None:
            msg = f"{p.name} has no CRS; pass crs=... (e.g. 'EPSG:4326')."
            raise CRSError(msg)
        gdf = gdf.set_crs(crs)
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        msg = f"{p.name}: features {gdf.index[empty].tolist()[:8]} have no geometry."
        raise GeometryError(msg)
    if not (geom.geom_type == "Point").all():
        proj = geom.to_crs(settings.projected_crs)
        pts = gpd.GeoSeries(shapely.point_on_surface(proj.values), crs=proj.crs, index=gdf.index)
        gdf = gdf.set_geometry(pts.to_crs(gdf.crs))
        precision = "representative_point"
    return gdf, precision


def _fill_candidate_columns(
    gdf: gpd.GeoDataFrame, p: Path, kind: str, source: str | None, precision: str
) -> gpd.GeoDataFrame:
    """Fill ids (unique), kind, source, unit_code and location_precision where the file has none."""
    stem = p.stem
    if "candidate_id" not in gdf.columns:
        gdf["candidate_id"] = [f"{stem}-{i + 1}" for i in range(len(gdf))]
    gdf["candidate_id"] = gdf["candidate_id"].astype(str)
    if gdf["candidate_id"].duplicated().any():
        dup = sorted(set(gdf["candidate_id"][gdf["candidate_id"].duplicated()]))
        msg = f"{p.name}: candidate_id must be unique; duplicated {dup[:8]}."
        raise InputError(msg)
    gdf["kind"] = gdf["kind"].fillna(kind) if "kind" in gdf.columns else kind
    src = source if source is not None else stem
    gdf["source"] = gdf["source"].fillna(src) if "source" in gdf.columns else src
    if "unit_code" not in gdf.columns:
        gdf["unit_code"] = None
    if "location_precision" not in gdf.columns:
        gdf["location_precision"] = precision
    return gdf


def read_candidates(
    path: str | Path,
    *,
    crs: Any = None,
    kind: str = "proposed",
    source: str | None = None,
) -> gpd.GeoDataFrame:
    """Read user-supplied candidate sites (CSV, GeoJSON, GeoPackage, Shapefile).

    Parameters
    ----------
    path
        A CSV with ``lon``/``lat`` (or ``longitude``/``latitude``) columns in WGS84, or
        ``x``/``y`` columns in the CRS given by ``crs``; or any vector file geopandas
        reads (it must carry its CRS). Polygons (e.g. mall footprints) become their
        representative point.
    crs
        CRS of ``x``/``y`` CSV columns (required for them), or to assign to a vector
        file that lacks one.
    kind
        Kind for rows without a ``kind`` column/value ("proposed", "kiosk", "community",
        "mobile"...).
    source
        Source label for rows without a ``source`` value (default: the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        Input columns plus ``candidate_id`` (kept if present, else ``<stem>-1``...),
        ``kind``, ``source``, ``unit_code`` (if present, else missing) and
        ``location_precision``, EPSG:4326.

    Raises
    ------
    MissingColumnError
        The CSV has no coordinate columns.
    CRSError
        No CRS is known, or longitude/latitude look swapped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "malls.csv"
    >>> _ = path.write_text("name,lon,lat" + chr(10) + "AEON Long Bien,105.8997,21.0272" + chr(10))
    >>> c = read_candidates(path, kind="community")
    >>> c[["candidate_id", "kind", "source"]].to_numpy().tolist()
    [['malls-1', 'community', 'malls']]

    """
    p = Path(path)
    if not p.exists():
        msg = f"candidate file {p} does not exist."
        raise InputError(msg)
    precision = "user_supplied"
    if p.suffix.lower() in {".csv", ".txt", ".tsv"}:
        gdf = _read_table_candidates(p, crs)
    else:
        gdf, precision = _read_vector_candidates(p, crs, precision)
    gdf = gdf.to_crs(settings.geographic_crs)
    _check_lonlat(gdf, p.name)
    return _fill_candidate_columns(gdf, p, kind, source, precision)


def _check_lonlat(gdf: gpd.GeoDataFrame, what: str) -> None:
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    xmin, ymin, xmax, ymax = HANOI_BBOX
    inside = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    swapped = (y >= xmin) & (y <= xmax) & (x >= ymin) & (x <= ymax)
    if not inside.any() and swapped.all():
        msg = (
            f"{what}: longitude and latitude look swapped (first point x={x[0]:.4f}, "
            f"y={y[0]:.4f}; Hanoi is near lon 105.8, lat 21.0). Swap the columns."
        )
        raise CRSError(msg)


# --------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------
def _boundary_geometry(boundary: Any) -> BaseGeometry | None:
    if boundary is None:
        return None
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            msg = "boundary has no CRS; set it (e.g. .set_crs('EPSG:4326'))."
            raise CRSError(msg)
        geom = boundary.to_crs(settings.projected_crs).geometry.union_all()
    elif isinstance(boundary, BaseGeometry):
        tr = pyproj.Transformer.from_crs(settings.geographic_crs, settings.projected_crs, always_xy=True)
        geom = shapely.transform(boundary, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    else:
        msg = (
            "boundary must be a GeoDataFrame/GeoSeries (with CRS), a shapely geometry in "
            f"lon/lat, or None; got {type(boundary).__name__}."
        )
        raise InputError(msg)
    if geom.is_empty:
        msg = "boundary geometry is empty."
        raise GeometryError(msg)
    return geom


def _near_points(
    points: Any, xy: np.ndarray, ok: np.ndarray, min_separation_m: float, reason: np.ndarray, detail: np.ndarray
) -> np.ndarray:
    """Mark (in ``reason``/``detail``) and return the candidates within min_separation_m of a point."""
    n = len(xy)
    pts = ensure_gdf(points, "points")
    pxy = _xy(pts[~(pts.geometry.isna() | pts.geometry.is_empty)])
    d, j = cKDTree(pxy).query(xy[ok])
    near = np.zeros(n, dtype=bool)
    near[ok] = d <= min_separation_m
    ids = pts["point_id"].astype(str).to_numpy() if "point_id" in pts.columns else pts.index.astype(str).to_numpy()
    idx = np.flatnonzero(near)
    dd = np.zeros(n)
    dd[ok] = d
    jj = np.zeros(n, dtype=np.int64)
    jj[ok] = j
    reason[idx] = "near_existing_point"
    detail[idx] = [f"{dd[i]:.0f} m from existing point {ids[jj[i]]}" for i in idx]
    return near


def _mark_outside(
    bgeom: BaseGeometry, xy: np.ndarray, ok: np.ndarray, reason: np.ndarray, detail: np.ndarray
) -> np.ndarray:
    """Mark (in ``reason``/``detail``) the candidates outside the boundary; return the inside mask."""
    inside = np.zeros(len(xy), dtype=bool)
    inside[ok] = shapely.covers(bgeom, shapely.points(xy[ok]))
    out = ok & ~inside
    reason[out] = "outside_boundary"
    detail[out] = "outside the city boundary"
    return inside


def _mark_duplicates(
    cand: gpd.GeoDataFrame, xy: np.ndarray, ok: np.ndarray, reason: np.ndarray, detail: np.ndarray
) -> None:
    """Mark (in place) every candidate at the same place as an earlier one."""
    pos = np.flatnonzero(ok)
    pairs = cKDTree(xy[pos]).query_pairs(1.0, output_type="ndarray")
    if len(pairs):
        later = np.maximum(pairs[:, 0], pairs[:, 1])
        earlier = np.minimum(pairs[:, 0], pairs[:, 1])
        first_of = pd.Series(earlier).groupby(later).min()
        ids = cand["candidate_id"].astype(str).to_numpy()
        for later_i, earlier_i in first_of.items():
            reason[pos[later_i]] = "duplicate_candidate"
            detail[pos[later_i]] = f"same place as candidate {ids[pos[earlier_i]]}"
        ok[pos[first_of.index.to_numpy()]] = False


def clean_candidates(
    candidates: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame | None,
    boundary: Any,
    min_separation_m: float = 50.0,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Drop candidates outside the city, on top of an existing point, or duplicated.

    Checks, in order (a dropped candidate gets the first reason that applies):
    ``missing_geometry``, ``outside_boundary``, ``near_existing_point`` (within
    ``min_separation_m`` of an existing point) and ``duplicate_candidate`` (within 1 m
    of an earlier candidate).

    Parameters
    ----------
    candidates
        Candidate sites with ``candidate_id`` (points, any CRS).
    points
        Existing (fixed) service points, or ``None`` / empty.
    boundary
        City outline: a GeoDataFrame/GeoSeries with CRS, a shapely geometry in lon/lat
        (e.g. ``pointplan.data.load_boundary()``), or ``None`` to skip that check.
    min_separation_m
        Distance under which a candidate counts as on top of an existing point.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Kept candidates (same columns and index) and the dropped ones with
        ``candidate_id``, ``kind``, ``source``, ``reason``, ``detail``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> cands = gpd.GeoDataFrame(
    ...     {"candidate_id": ["a", "b", "c"]},
    ...     geometry=gpd.points_from_xy([585_000, 585_020, 590_000], [2_320_000] * 3),
    ...     crs="EPSG:32648",
    ... )
    >>> points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([585_010], [2_320_000]), crs="EPSG:32648")
    >>> kept, dropped = clean_candidates(cands, points, None)
    >>> kept["candidate_id"].tolist(), dropped["reason"].tolist()
    (['c'], ['near_existing_point', 'near_existing_point'])

    """
    cand = ensure_gdf(candidates, "candidates")
    check_columns(cand, ["candidate_id"], "candidates")
    if not min_separation_m >= 0:
        msg = f"min_separation_m must be >= 0, got {min_separation_m}."
        raise InputError(msg)
    n = len(cand)
    reason = np.full(n, None, dtype=object)
    detail = np.full(n, "", dtype=object)
    geom = cand.geometry
    missing = (geom.isna() | geom.is_empty).to_numpy()
    reason[missing] = "missing_geometry"
    ok = ~missing
    xy = np.full((n, 2), np.nan)
    if ok.any():
        xy[ok] = _xy(cand[ok])
    bgeom = _boundary_geometry(boundary)
    if bgeom is not None and ok.any():
        ok &= _mark_outside(bgeom, xy, ok, reason, detail)
    if points is not None and len(points) > 0 and ok.any():
        ok &= ~_near_points(points, xy, ok, min_separation_m, reason, detail)
    if ok.sum() > 1:
        _mark_duplicates(cand, xy, ok, reason, detail)
    dropped_mask = reason != None  # noqa: E711 (object array comparison)
    cols = [c for c in ("candidate_id", "kind", "source") if c in cand.columns]
    dropped = pd.DataFrame(cand.loc[dropped_mask, cols]).copy()
    dropped["reason"] = reason[dropped_mask]
    dropped["detail"] = detail[dropped_mask]
    if dropped_mask.any():  # debug: the rows are in sites_report.csv; the draws re-clean many times
        logger.debug(
            "clean_candidates dropped %d of %d: %s",
            int(dropped_mask.sum()),
            n,
            dropped["reason"].value_counts().to_dict(),
        )
    return cand.loc[~dropped_mask].copy(), dropped


#: Kinds of unit a proposal may be restricted to (``--unit-kind``).
UNIT_KINDS = ("xa", "phuong")


def candidate_units(candidates: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.Series:
    """Return the code of the unit each candidate falls in (by its geometry; missing outside every unit).

    Examples
    --------
    >>> sq = [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)]
    >>> units = gpd.GeoDataFrame({"kind": ["xa", "phuong"]}, geometry=sq, index=["00001", "00002"],
    ...                          crs="EPSG:32648")
    >>> c = gpd.GeoDataFrame(geometry=[shapely.Point(500, 500), shapely.Point(1500, 500),
    ...                                shapely.Point(5000, 5000)], crs="EPSG:32648")
    >>> candidate_units(c, units).tolist()
    ['00001', '00002', None]
    """
    pts = candidates.geometry.to_crs(projected_crs()).representative_point()
    polys = units.geometry.to_crs(projected_crs())
    tree_idx = shapely.STRtree(polys.to_numpy())
    hit_pt, hit_poly = tree_idx.query(pts.to_numpy(), predicate="within")
    codes = np.full(len(pts), None, dtype=object)
    codes[hit_pt] = units.index.astype(str).to_numpy()[hit_poly]
    return pd.Series(codes, index=candidates.index, dtype=object)


def restrict_candidates(
    candidates: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    in_units: list[str] | tuple[str, ...] | None = None,
    unit_kind: str | None = None,
) -> gpd.GeoDataFrame:
    """Keep only the candidates that fall in the listed units and/or in units of one kind.

    Parameters
    ----------
    candidates
        Candidate sites (any CRS).
    units
        Unit polygons indexed by 5-digit code, with ``kind`` (``"xa"``/``"phuong"``) for ``unit_kind``.
    in_units
        Unit codes (``"70"`` is ``"00070"``) where proposals may go; None: anywhere.
    unit_kind
        ``"xa"`` or ``"phuong"``: only units of that kind; None: both.

    Returns
    -------
    geopandas.GeoDataFrame
        The candidates kept, with ``unit_code`` set to the unit each falls in.

    Raises
    ------
    InputError
        An unknown code or kind, or no candidate left (the message says how many were in each filter).

    Examples
    --------
    >>> sq = [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)]
    >>> units = gpd.GeoDataFrame({"kind": ["xa", "phuong"]}, geometry=sq, index=["00001", "00002"],
    ...                          crs="EPSG:32648")
    >>> c = gpd.GeoDataFrame({"candidate_id": ["a", "b"]},
    ...                      geometry=[shapely.Point(500, 500), shapely.Point(1500, 500)], crs="EPSG:32648")
    >>> restrict_candidates(c, units, unit_kind="xa")["candidate_id"].tolist()
    ['a']
    >>> restrict_candidates(c, units, in_units=["2"])["unit_code"].tolist()
    ['00002']
    >>> restrict_candidates(c, units, in_units=["1"], unit_kind="phuong")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: No candidate site is left where proposals may go (in units ['00001']: 1 of 2 ...
    """
    if in_units is None and unit_kind is None:
        return candidates
    where = candidate_units(candidates, units)
    keep = pd.Series(True, index=candidates.index)
    said = []
    if in_units is not None:
        codes = [str(c).strip().zfill(5) for c in in_units if str(c).strip()]
        unknown = [c for c in codes if c not in units.index]
        if unknown or not codes:
            msg = f"Unknown unit code(s) {unknown or in_units} in --in-units; use the 5-digit codes of units.csv."
            raise InputError(msg)
        inside = where.isin(codes)
        keep &= inside
        said.append(f"in units {codes}: {int(inside.sum())} of {len(where)} sites")
    if unit_kind is not None:
        if unit_kind not in UNIT_KINDS:
            msg = f"unit_kind (--unit-kind) must be one of {list(UNIT_KINDS)}, got {unit_kind!r}."
            raise InputError(msg)
        if "kind" not in units.columns:
            msg = "units lack the column 'kind' (xa/phuong) needed by --unit-kind."
            raise MissingColumnError(msg)
        kinds = units["kind"].astype(str)
        of_kind = where.map(kinds).eq(unit_kind)
        keep &= of_kind
        said.append(f"in {unit_kind} units: {int(of_kind.sum())} of {len(where)} sites")
    if not keep.any():
        msg = (
            f"No candidate site is left where proposals may go ({'; '.join(said)}). "
            "Widen --in-units / --unit-kind, or give your own --candidates there."
        )
        raise InputError(msg)
    out = candidates[keep.to_numpy()].copy()
    out["unit_code"] = where[keep].to_numpy()
    return out
