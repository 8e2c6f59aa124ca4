"""Shared helpers of the network package: checks, small parsers, point input."""

# ruff: noqa: N803 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import ctypes
import hashlib
import logging
import math
import re
import threading
import warnings
from collections import OrderedDict
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from pointplan._errors import (
    CRSError,
    InputError,
    NetworkError,
    UnreachableWarning,
)
from pointplan._validate import check_geometries, ensure_gdf

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Travel modes understood by pointplan.
#: A travel mode, as a type.
Mode = Literal["walk", "bike", "motorbike", "car"]

MODES: tuple[Mode, ...] = ("walk", "bike", "motorbike", "car")

#: Edge attribute holding the travel time in seconds.
TIME_ATTR = "travel_time_s"
#: Edge attribute holding the speed in km/h.
SPEED_ATTR = "speed_kmh"
_WALK_FLAG = "pointplan_walk_reverse"
_MODE_KEY = "pointplan_mode"
_VERSION_KEY = "pointplan_tt_version"

_NETWORK = "network"
_CROW = "crow_flies_circuity"


def _check_mode(mode: str) -> Mode:
    if mode not in MODES:
        msg = f"Unknown travel mode {mode!r}: use one of {', '.join(MODES)}."
        raise InputError(msg)
    return mode


def _check_speed(value: object, what: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        msg = f"{what} must be a number (km/h), got {value!r}."
        raise InputError(msg) from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        req = ">= 0" if allow_zero else "> 0"
        msg = f"{what} must be a finite speed {req} km/h, got {value!r}."
        raise InputError(msg)
    return v


def _check_minutes(max_minutes: float) -> float:
    try:
        v = float(max_minutes)
    except (TypeError, ValueError):
        msg = f"max_minutes must be a number, got {max_minutes!r}."
        raise InputError(msg) from None
    if not math.isfinite(v) or v < 0:
        msg = f"max_minutes must be a finite number >= 0, got {max_minutes!r}."
        raise InputError(msg)
    return v


def _truthy(value: object) -> bool:
    if isinstance(value, list | tuple):
        return any(_truthy(v) for v in value)
    if isinstance(value, str):
        return value.strip().lower() in {"yes", "true", "1", "-1", "reverse"}
    return bool(value) if value is not None else False


def _highway_key(value: object) -> tuple[str, ...]:
    """Return the highway type(s) of an edge as a tuple (osmnx may merge them in lists)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, list | tuple | set):
        return tuple(str(v) for v in value)
    text = str(value)
    if text.startswith("[") and text.endswith("]"):  # list stored as text (GraphML)
        return tuple(t.strip(" '\"") for t in text[1:-1].split(",") if t.strip(" '\""))
    return (text,)


_MAXSPEED_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(mph)?")


def _parse_maxspeed(value: object) -> float:
    """Return a maxspeed tag in km/h (the lowest of several), or NaN."""
    if value is None:
        return math.nan
    items = value if isinstance(value, list | tuple) else [value]
    speeds = []
    for item in items:
        m = _MAXSPEED_RE.search(str(item))
        if m:
            v = float(m.group(1)) * (1.609344 if m.group(2) else 1.0)
            if v > 0:
                speeds.append(v)
    return min(speeds) if speeds else math.nan


def _as_float(value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return v


def _graph_crs(G: nx.Graph) -> pyproj.CRS:
    crs = G.graph.get("crs")
    if crs is None:
        msg = (
            "The road graph has no CRS (G.graph['crs'] is missing). Set it to the CRS of "
            "the node x/y coordinates, e.g. G.graph['crs'] = 'EPSG:4326' for lon/lat."
        )
        raise CRSError(msg)
    return pyproj.CRS.from_user_input(crs)


def _check_coordinates_fit(G: nx.Graph, crs: pyproj.CRS) -> None:
    """Raise CRSError when a graph said to be in lon/lat has coordinates out of range."""
    if not crs.is_geographic:
        return
    xy = np.array([(_as_float(d.get("x")), _as_float(d.get("y"))) for _, d in G.nodes(data=True)])
    bad = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if bad.any():
        x, y = xy[np.flatnonzero(bad)[0]]
        msg = (
            f"The road graph's CRS is {crs.to_string()} (longitude/latitude in degrees) but "
            f"{int(bad.sum())} nodes have coordinates out of that range (e.g. x={x:g}, y={y:g}): "
            "they look like metres. Set G.graph['crs'] to the CRS the coordinates are in, e.g. "
            "'EPSG:32648' (UTM 48N)."
        )
        raise CRSError(msg)


def _check_graph(G: object) -> nx.DiGraph:
    if not isinstance(G, nx.DiGraph):
        msg = (
            f"Expected a directed networkx graph (osmnx MultiDiGraph), got "
            f"{type(G).__name__}. Load one with pointplan.network.load_network(...)."
        )
        raise NetworkError(msg)
    if G.number_of_nodes() == 0 or not any(len(nbrs) for nbrs in G.adj.values()):
        msg = "The road graph is empty (no nodes or no edges)."
        raise NetworkError(msg)
    return G


#: Sets of places with at least this many rows have their projected coordinates kept.
_XY_MEMO_MIN_ROWS = 100
#: Most sets of places whose projected coordinates are kept, and most rows over all of them.
_XY_MEMO_ENTRIES, _XY_MEMO_ROWS = 8, 2_000_000
_XY_MEMO: OrderedDict[bytes, FloatArray] = OrderedDict()
_XY_LOCK = threading.Lock()


def points_key(gdf: object) -> bytes | None:
    """Memo key of a frame of finite points in its own CRS (None for anything else).

    A hash of the coordinate bytes and the CRS: two frames with the same point
    coordinates in the same CRS give the same key, whatever their index or other
    columns. Frames with other geometries, missing or non-finite points get None (they
    go the long way, and are validated there).

    Examples
    --------
    >>> import geopandas as gpd
    >>> a = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0, 2.0], [3.0, 4.0]), crs=32648)
    >>> b = a.set_index(pd.Index(["x", "y"]))
    >>> points_key(a) == points_key(b), points_key(a) == points_key(a.to_crs(4326))
    (True, False)
    >>> points_key(a.buffer(1.0)) is None
    True
    """
    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries):
        return None
    geom = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if geom.crs is None or len(geom) == 0:
        return None
    values = np.asarray(geom.values)
    srs = str(geom.crs.srs).encode()
    same = _same_objects(values, srs)
    with _XY_LOCK:
        hit = _KEY_MEMO.get(same) if same is not None else None
        if hit is not None:
            _KEY_MEMO.move_to_end(same)  # type: ignore[arg-type]
            return hit[0]
    if not (shapely.get_type_id(values) == 0).all() or shapely.is_empty(values).any():
        return None
    xy = np.column_stack((shapely.get_x(values), shapely.get_y(values)))  # as get_coordinates, quicker
    if not np.isfinite(xy).all():
        return None
    h = hashlib.blake2b(xy.tobytes(), digest_size=16)
    h.update(srs)
    key = h.digest()
    if same is not None:
        with _XY_LOCK:
            _KEY_MEMO[same] = (key, values.copy())  # the copy keeps the geometries (and their addresses)
            while len(_KEY_MEMO) > _KEY_MEMO_ENTRIES or sum(len(v) for _, v in _KEY_MEMO.values()) > _KEY_MEMO_ROWS:
                _KEY_MEMO.popitem(last=False)
    return key


#: Keys of the last few sets of places by the identity of their geometry objects (see :func:`_same_objects`),
#: at most this many rows in all (the geometries they keep alive take about 100 bytes each).
_KEY_MEMO_ENTRIES, _KEY_MEMO_ROWS = 16, 500_000
_KEY_MEMO: OrderedDict[bytes, tuple[bytes, npt.NDArray[np.object_]]] = OrderedDict()


def _same_objects(values: npt.NDArray[Any], srs: bytes) -> bytes | None:
    """Return the addresses of an object array's elements, and ``srs``: who holds them holds these very objects.

    Shapely geometries cannot change, so a set of places whose geometry array holds the
    same objects as one seen before (kept alive in :data:`_KEY_MEMO`, so no address is
    reused) has the same coordinates: its key is found without reading them again.
    """
    if values.dtype != object or values.ndim != 1 or not values.flags.c_contiguous:
        return None
    return ctypes.string_at(values.ctypes.data, values.nbytes) + srs


def clear_points_memo() -> None:
    """Forget the projected coordinates kept by :func:`_points_xy`, and the keys of :func:`points_key`."""
    with _XY_LOCK:
        _XY_MEMO.clear()
        _KEY_MEMO.clear()


def _points_xy(gdf: object, what: str, crs: pyproj.CRS | str, key: bytes | None = None) -> FloatArray:
    """Return validated (n, 2) coordinates of representative points in ``crs``.

    The coordinates of big sets of finite points (:func:`points_key`, or ``key`` when
    the caller has it) are kept for the last few sets, read-only, so the same places
    asked about again are neither validated nor reprojected again.
    """
    if key is None:
        key = points_key(gdf)
    full = None
    if key is not None and len(gdf) >= _XY_MEMO_MIN_ROWS:  # type: ignore[arg-type]
        full = key + str(crs.srs if isinstance(crs, pyproj.CRS) else crs).encode()
        with _XY_LOCK:
            hit = _XY_MEMO.get(full)
            if hit is not None:
                _XY_MEMO.move_to_end(full)
                return hit
    xy = _project_points(gdf, what, crs)
    if full is not None:
        xy.flags.writeable = False
        with _XY_LOCK:
            _XY_MEMO[full] = xy
            while len(_XY_MEMO) > _XY_MEMO_ENTRIES or sum(map(len, _XY_MEMO.values())) > _XY_MEMO_ROWS:
                _XY_MEMO.popitem(last=False)
    return xy


def _project_points(gdf: object, what: str, crs: pyproj.CRS | str) -> FloatArray:
    """Validate ``gdf`` and return its representative points' coordinates in ``crs``."""
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    frame = ensure_gdf(gdf, what)
    check_geometries(frame, what)
    geom = frame.geometry
    if not pyproj.CRS.from_user_input(geom.crs).equals(pyproj.CRS.from_user_input(crs)):
        geom = geom.to_crs(crs)
    values = geom.values
    if not (shapely.get_type_id(values) == 0).all():
        values = shapely.point_on_surface(values)
    xy = shapely.get_coordinates(values)
    if len(xy) != len(frame):  # pragma: no cover - defensive
        msg = f"{what}: could not take one point per row."
        raise InputError(msg)
    return xy


def _labels(index: pd.Index, pos: IntArray) -> Any:
    """Labels of ``index`` at ``pos`` (negative -> missing), keeping integers integer.

    Returns an array-like for a DataFrame column: the labels' own dtype when all are
    present, nullable ``Int64`` for integer labels with gaps, NaN gaps otherwise.
    """
    ok = pos >= 0
    if ok.all():
        return index[pos]
    if isinstance(index.dtype, pd.StringDtype):
        return index.take(np.where(ok, pos, -1), allow_fill=True, fill_value=np.nan)  # the same, faster
    taken = index[np.where(ok, pos, 0)]
    if pd.api.types.is_integer_dtype(taken.dtype):
        taken = taken.astype("Int64")
    return pd.Series(taken).where(ok).array


_CONSTANT_COLUMNS: OrderedDict[tuple[str, int], Any] = OrderedDict()


def _constant_column(value: str, n: int) -> Any:
    """Return a column of ``n`` times ``value``, as a DataFrame would make of the scalar (a fresh copy).

    Making a string column from a scalar checks every element; the last few are kept
    and copied, which is much quicker.
    """
    key = (value, n)
    with _XY_LOCK:
        col = _CONSTANT_COLUMNS.get(key)
        if col is None:
            col = pd.Series(value, index=pd.RangeIndex(n)).array
            _CONSTANT_COLUMNS[key] = col
            while len(_CONSTANT_COLUMNS) > 8:
                _CONSTANT_COLUMNS.popitem(last=False)
        return col.copy()


def _warn_unreachable(n_bad: int, n_all: int) -> None:
    if n_bad:
        warnings.warn(
            f"{n_bad} of {n_all} origins cannot reach any destination on the network "
            "(a disconnected part or a one-way trap): their minutes, distance_m and dest "
            "are missing (reachable is False).",
            UnreachableWarning,
            stacklevel=3,
        )
