"""Map context that works offline: the main roads and the unit outlines with names.

The road layer is a small GeoJSON shipped in the package
(``pointplan/maps/data/hanoi_main_roads.geojson``): the motorway, trunk, primary, secondary
and tertiary roads of the inner-city drive network (OpenStreetMap 2025, ODbL), merged and
simplified by ``tools/derive_map_roads.py``. With internet the OpenStreetMap tiles are drawn
underneath; without it these layers still show where things are.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

import folium
import geopandas as gpd
import numpy as np

from pointplan import settings
from pointplan._errors import InputError
from pointplan.maps._html import check_frame, esc, features
from pointplan.maps.elements import GeoLayer
from pointplan.maps.labels import labels
from pointplan.maps.units import simplify_coverage, unit_titles

__all__ = ["ROADS_FILE", "load_roads", "roads_layer", "unit_names_layer"]

#: The shipped road file, relative to the ``pointplan.maps`` package.
ROADS_FILE = "data/hanoi_main_roads.geojson"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
# Road classes in the file ("c" 0..4: motorway, trunk, primary, secondary, tertiary).
_ROAD_STYLES = [
    {"weight": 3.2, "color": "#7a4a2a"},
    {"weight": 2.8, "color": "#7a4a2a"},
    {"weight": 2.2, "color": "#6b5a4a"},
    {"weight": 1.6, "color": "#75695f"},
    {"weight": 1.0, "color": "#8a8078"},
]
# From which zoom each class is drawn: the arteries always, secondary and tertiary roads
# once zoomed in (at the city-wide zoom they would hide the units).
_ROAD_MIN_ZOOM = [0, 0, 0, 11, 12]
_OUTLINE_STYLE = {"color": "#3a3a3a", "weight": 1.0, "opacity": 0.8, "fill": False, "className": "pp-outline"}
# A name is shown once its unit is about this many pixels wide (Web Mercator at Hanoi).
_LABEL_PX = 70.0
_M_PER_PX_Z0 = 156_543.03 * math.cos(math.radians(21.0))


@cache
def _roads_text() -> str:
    return resources.files("pointplan.maps").joinpath(ROADS_FILE).read_text(encoding="utf-8")


def load_roads() -> dict[str, Any]:
    """Return the shipped main roads as a GeoJSON FeatureCollection (EPSG:4326).

    Returns
    -------
    dict
        ``features`` are (Multi)LineStrings with properties ``c`` (class index into
        ``classes``) and ``n`` (street name, when OSM has one); ``license`` and ``source``
        say where the data comes from.

    Examples
    --------
    >>> roads = load_roads()
    >>> roads["classes"]
    ['motorway', 'trunk', 'primary', 'secondary', 'tertiary']
    >>> len(roads["features"]) > 500, roads["license"].startswith("ODbL")
    (True, True)

    """
    return json.loads(_roads_text())


def roads_layer(*, lang: str = "vi", show: bool = True) -> folium.FeatureGroup:
    """Draw the inner city's main roads, thicker for the more important classes.

    The lines take no mouse events, so the tooltips of the units below stay reachable.
    Secondary roads are drawn from zoom 11 and tertiary roads from zoom 12.

    Parameters
    ----------
    lang
        ``"vi"`` (default) or ``"en"``.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        The roads (without street names, to keep the page small).

    Examples
    --------
    >>> roads_layer(lang="en").layer_name
    'Main roads of the inner city (OpenStreetMap 2025)'

    """
    lab = labels(lang)
    roads = load_roads()
    data = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": {"c": f["properties"]["c"]}}
            for f in roads["features"]
        ],
    }
    config = {
        "pane": "pp-roads",
        "z": 420,
        "interactive": False,
        "style": {"opacity": 0.75, "lineCap": "round", "className": "pp-road", "interactive": False},
        "byClass": _ROAD_STYLES,
        "minZoom": _ROAD_MIN_ZOOM,
    }
    group = folium.FeatureGroup(name=esc(lab["layer.roads"]), show=show)
    GeoLayer(data, config).add_to(group)
    return group


def label_min_zoom(area_m2: np.ndarray) -> np.ndarray:
    """Return the zoom from which a unit of this area is wide enough on screen for its name.

    Examples
    --------
    >>> label_min_zoom(np.array([4e6, 4e7, 2e8])).tolist()
    [13, 11, 10]

    """
    width_m = np.sqrt(np.maximum(np.asarray(area_m2, dtype=float), 1.0))
    return np.clip(np.ceil(np.log2(_LABEL_PX * _M_PER_PX_Z0 / width_m)), 9, 16).astype(int)


def unit_names_layer(
    units: gpd.GeoDataFrame,
    *,
    lang: str = "vi",
    simplify_tolerance_m: float = 40.0,
    share: str | None = None,
    reuse_shared: bool = False,
    show: bool = True,
    name: str | None = None,
) -> folium.FeatureGroup:
    """Draw unit outlines and names (each name appears once the unit is big enough on screen).

    Parameters
    ----------
    units
        Unit polygons indexed by code, with ``full_name`` or ``name``.
    lang
        ``"vi"`` (default) or ``"en"``.
    simplify_tolerance_m
        Coverage simplification tolerance in metres.
    share, reuse_shared
        As in :func:`pointplan.maps.units_layer`: with ``reuse_shared`` the outlines take
        the shapes of the units layer added earlier under the same ``share`` key.
    show
        Whether the layer is on when the map opens.
    name
        Layer name (default "Unit outlines and names" in ``lang``), plain text.

    Returns
    -------
    folium.FeatureGroup
        Outlines (no fill, no mouse events) and name labels; a label's ``_z`` property is
        the zoom from which it shows (see :func:`label_min_zoom`).

    Examples
    --------
    >>> import shapely
    >>> sq = [shapely.box(585000, 2325000, 587000, 2327000), shapely.box(587000, 2325000, 597000, 2327000)]
    >>> units = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=sq, index=["00001", "00002"], crs="EPSG:32648")
    >>> group = unit_names_layer(units, lang="en")
    >>> layers = list(group._children.values())
    >>> [f["properties"]["_l"] for f in layers[1].data["features"]]
    ['A', 'B']

    """
    lab = labels(lang)
    check_frame(units, "units", types=("Polygon", "MultiPolygon"), nonempty=True)
    if reuse_shared and share is None:
        msg = "reuse_shared=True needs the share key of an earlier units layer."
        raise InputError(msg)
    group = folium.FeatureGroup(name=esc(name or lab["layer.unit_names"]), show=show)
    if reuse_shared:
        outlines = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": None, "properties": {}} for _ in range(len(units))],
        }
    else:
        geoms = simplify_coverage(units, simplify_tolerance_m).to_crs(settings.geographic_crs)
        outlines = features(geoms.values, [{} for _ in range(len(units))])
    GeoLayer(
        outlines, {"share": share, "pane": "pp-outlines", "z": 425, "interactive": False, "style": _OUTLINE_STYLE}
    ).add_to(group)
    proj = units.geometry.to_crs(settings.projected_crs)
    anchors = gpd.GeoSeries(proj.representative_point(), crs=proj.crs).to_crs(settings.geographic_crs)
    zooms = label_min_zoom(proj.area.to_numpy())
    props = [{"_l": esc(t), "_z": int(z)} for t, z in zip(unit_titles(units), zooms, strict=True)]
    GeoLayer(features(anchors.values, props), {"pane": "pp-labels", "z": 620, "labels": True}).add_to(group)
    return group


def base_map(bounds: np.ndarray, *, tiles: bool, lang: str) -> folium.Map:
    """Return an empty map fitted to ``bounds`` (west, south, east, north), with OSM tiles if asked.

    Examples
    --------
    >>> m = base_map(np.array([105.3, 20.5, 106.0, 21.4]), tiles=False, lang="vi")
    >>> type(m).__name__
    'Map'

    """
    west, south, east, north = (float(b) for b in bounds)
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10, tiles=None, control_scale=True)
    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES,
            attr=esc(labels(lang)["source.osm"]),
            name=esc(labels(lang)["layer.tiles"]),
            max_zoom=19,
            overlay=True,  # context: the radio buttons are the unit metrics
        ).add_to(m)
    m.fit_bounds([[south, west], [north, east]])
    return m
