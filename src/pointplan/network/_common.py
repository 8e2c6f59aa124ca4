"""Shared helpers of the network package: checks, small parsers, point input."""

# ruff: noqa: N803 - `G` for a graph and `A` for a matrix, as in osmnx/scipy

from __future__ import annotations

import logging
import math
import re
import warnings
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


def _points_xy(gdf: object, what: str, crs: pyproj.CRS | str) -> FloatArray:
    """Return validated (n, 2) coordinates of representative points in ``crs``."""
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
    taken = index[np.where(ok, pos, 0)]
    if ok.all():
        return taken
    if pd.api.types.is_integer_dtype(taken.dtype):
        taken = taken.astype("Int64")
    return pd.Series(taken).where(ok).array


def _warn_unreachable(n_bad: int, n_all: int) -> None:
    if n_bad:
        warnings.warn(
            f"{n_bad} of {n_all} origins cannot reach any destination on the network "
            "(a disconnected part or a one-way trap): their minutes, distance_m and dest "
            "are missing (reachable is False).",
            UnreachableWarning,
            stacklevel=3,
        )
