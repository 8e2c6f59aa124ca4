"""Checking and preparing the inputs of an assessment: points, demand, network coverage.

Examples
--------
>>> import geopandas as gpd
>>> from pointplan.assessment.inputs import prepare_points
>>> pts = gpd.GeoDataFrame({"kind": ["branch"]}, geometry=gpd.points_from_xy([105.85], [21.03]), crs=4326)
>>> prepare_points(pts)[["point_id", "counters_used", "counters_assumed"]].to_dict("records")
[{'point_id': '0', 'counters_used': 11.0, 'counters_assumed': True}]
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError, MissingColumnError, NetworkError
from pointplan._validate import (
    VIETNAM_BBOX,
    check_crs,
    check_geometries,
    check_in_area,
    check_nonnegative,
    projected_crs,
)
from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.defaults import DEFAULT_COUNTERS
from pointplan.network import points_key

__all__ = ["check_network_covers", "prepare_demand", "prepare_points", "projected_xy"]


def projected_xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> npt.NDArray[np.float64]:
    """Return the ``(n, 2)`` projected coordinates (metres) of point geometries.

    Examples
    --------
    >>> s = gpd.GeoSeries(gpd.points_from_xy([585000.0], [2325000.0]), crs=32648)
    >>> projected_xy(s).tolist()
    [[585000.0, 2325000.0]]
    """
    geo = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    crs = projected_crs()
    key = points_key(geo) if len(geo) >= _XY_MIN_ROWS else None
    if key is not None:
        key += str(crs.srs).encode()
        with _XY_LOCK:
            hit = _XY_KEPT.get(key)
            if hit is not None:
                _XY_KEPT.move_to_end(key)
                return hit.copy()
    proj = geo.to_crs(crs)
    xy = np.column_stack([proj.x.to_numpy(), proj.y.to_numpy()])
    if key is not None:
        with _XY_LOCK:
            _XY_KEPT[key] = xy.copy()
            while len(_XY_KEPT) > _XY_ENTRIES:
                _XY_KEPT.popitem(last=False)
    return xy


#: The projected coordinates of the last few sets of at least ``_XY_MIN_ROWS`` points are kept
#: (the demand places are asked about many times in one run).
_XY_MIN_ROWS, _XY_ENTRIES = 1000, 6
_XY_KEPT: OrderedDict[bytes, npt.NDArray[np.float64]] = OrderedDict()
_XY_LOCK = threading.Lock()


def _check_points_frame(points: object) -> gpd.GeoDataFrame:
    if not isinstance(points, gpd.GeoDataFrame):
        msg = (
            f"points must be a GeoDataFrame, got {type(points).__name__}. Use "
            "pointplan.load_points() or pointplan.read_points(path)."
        )
        raise InputError(msg)
    if len(points) == 0:
        msg = "points is empty: an assessment needs at least one service point."
        raise InputError(msg)
    check_crs(points, "points")
    if "kind" not in points.columns:
        msg = (
            "points lack the column(s) ['kind']. Load them with pointplan.read_points() "
            "or pointplan.points.validate_points(), which fill the schema."
        )
        raise MissingColumnError(msg)
    return points


def _counters(pts: gpd.GeoDataFrame, counters_default: Mapping[str, int]) -> gpd.GeoDataFrame:
    """Add ``counters_used`` (given, else the kind's default) and ``counters_assumed``."""
    if "counters" not in pts.columns:
        pts["counters"] = pd.NA
    counters = check_nonnegative(pts, "counters", "points", allow_na=True)
    assumed = counters.isna()
    unknown_kind = ~pts["kind"].isin(list(counters_default))
    if (assumed & unknown_kind).any():
        bad = sorted(set(pts.loc[assumed & unknown_kind, "kind"].astype(str)))
        msg = f"points: no default number of counters for kind(s) {bad}; give 'counters'."
        raise InputError(msg)
    pts["counters_used"] = counters.fillna(pts["kind"].map(counters_default)).astype(float)
    pts["counters_assumed"] = assumed.to_numpy()
    return pts


def prepare_points(
    points: gpd.GeoDataFrame, counters_default: Mapping[str, int] = DEFAULT_COUNTERS
) -> gpd.GeoDataFrame:
    """Check the points and return a copy indexed by ``point_id`` with counters filled.

    Parameters
    ----------
    points
        Service points with ``kind`` (any CRS; inside Vietnam).
    counters_default
        Counters assumed per kind where ``counters`` is missing.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``point_id`` (the index too), ``location_precision``, ``unit_code``,
        ``name``, ``counters_used`` and ``counters_assumed``.

    Raises
    ------
    InputError, MissingColumnError, CRSError
        Not a GeoDataFrame, empty, no ``kind``, duplicate ids, bad geometries or counters.

    Examples
    --------
    >>> xy = gpd.points_from_xy([105.8], [21.0])
    >>> pts = gpd.GeoDataFrame({"kind": ["kiosk"], "counters": [2]}, geometry=xy, crs=4326)
    >>> prepare_points(pts)[["counters_used", "counters_assumed"]].to_dict("records")
    [{'counters_used': 2.0, 'counters_assumed': False}]
    """
    pts = _check_points_frame(points).copy()
    if "point_id" not in pts.columns:
        pts["point_id"] = pts.index.astype(str)
    if pts["point_id"].duplicated().any():
        dup = sorted(set(pts.loc[pts["point_id"].duplicated(), "point_id"].astype(str)))
        msg = f"points: duplicate point_id {dup[:8]}. Give each point its own id."
        raise InputError(msg)
    pts.index = pd.Index(pts["point_id"].astype(str), name=None)
    check_geometries(pts, "points", types=("Point",))
    check_in_area(pts, "points", bbox=VIETNAM_BBOX, area_name="Vietnam")
    for col, default in (("location_precision", "unknown"), ("unit_code", None), ("name", "")):
        if col not in pts.columns:
            pts[col] = default
    return _counters(pts, counters_default)


def prepare_demand(demand: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check the demand points and return a copy with ``unit_code`` and point geometries.

    Parameters
    ----------
    demand
        Demand with ``population`` (non-negative, not all 0), optional ``unit_code``.
    units
        The units, used to find ``unit_code`` where it is missing.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy; polygons are replaced by a representative point.

    Examples
    --------
    >>> xy = gpd.points_from_xy([105.8], [21.0])
    >>> d = gpd.GeoDataFrame({"population": [5.0], "unit_code": ["00001"]}, geometry=xy, crs=4326)
    >>> prepare_demand(d, None)["population"].tolist()
    [5.0]
    """
    if not isinstance(demand, gpd.GeoDataFrame):
        msg = (
            f"demand must be a GeoDataFrame of points with 'population' and 'unit_code', got "
            f"{type(demand).__name__}. Build it with pointplan.demand.build_demand()."
        )
        raise InputError(msg)
    if len(demand) == 0:
        msg = "demand is empty: give at least one demand point (pointplan.demand.build_demand())."
        raise InputError(msg)
    check_crs(demand, "demand")
    check_geometries(demand, "demand")
    if "population" not in demand.columns:
        msg = "demand lacks the column 'population' (people at each demand point)."
        raise MissingColumnError(msg)
    dem = demand.copy()
    dem["population"] = check_nonnegative(dem, "population", "demand")
    if not (dem["population"] > 0).any():
        msg = (
            "demand: every 'population' is 0, so there is nobody to assess. Check the "
            "column (or the units' populations it was built from)."
        )
        raise InputError(msg)
    if "unit_code" not in dem.columns:
        from pointplan.points import assign_units

        dem["unit_code"] = assign_units(dem, units).to_numpy()
    if not (dem.geometry.geom_type == "Point").all():
        dem = dem.set_geometry(dem.geometry.representative_point())
    return dem


def check_network_covers(engine: TravelEngine, demand: gpd.GeoDataFrame, max_off_network_share: float) -> None:
    """Refuse a road network that leaves more than ``max_off_network_share`` of people off it.

    Only engines with ``method == "network"`` and a ``snap`` method are checked (the
    straight-line fallback covers everything).

    Raises
    ------
    NetworkError
        Too many people lie farther than the engine's ``max_snap_m`` from the network.

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> check_network_covers(CrowFliesEngine("walk"), None, 0.2) is None
    True
    """
    snap = getattr(engine, "snap", None)
    if engine.method != "network" or snap is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        far = snap(demand)["far"].to_numpy(dtype=bool)
    pop_all = demand["population"].to_numpy(dtype=float)
    far_share = float(pop_all[far].sum() / pop_all.sum()) if pop_all.sum() > 0 else 0.0
    if far_share > max_off_network_share:
        msg = (
            f"The road network does not cover the study area: {100 * far_share:.1f} % of the people "
            f"({int(far.sum())} of {len(demand)} demand points) lie more than "
            f"{getattr(engine, 'max_snap_m', 0):g} m from it. Use a network of the whole area "
            "(pointplan.load_network(polygon) with downloads allowed, or a larger .osm/.graphml "
            "file), or restrict the demand and units to the area the network covers."
        )
        raise NetworkError(msg)
