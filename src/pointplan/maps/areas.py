"""Area layers: where the standard is met (service areas) and the people beyond it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import InputError
from pointplan.maps._html import check_frame, esc, features, table_html, text_column
from pointplan.maps.elements import GeoLayer
from pointplan.maps.labels import LABELS, fmt_number, fmt_value, labels
from pointplan.maps.markers import unit_names, unit_text

__all__ = ["service_areas_layer", "standard_title", "uncovered_layer", "union_areas"]

_AREA_STYLE = {
    "color": "#00695c",
    "weight": 1.6,
    "dashArray": "5 4",
    "fillColor": "#26a69a",
    "fillOpacity": 0.10,
    "className": "pp-area",
    "interactive": False,
}
_CELL_STYLE = {"color": "#54278f", "weight": 0.4, "opacity": 0.6, "fillColor": "#54278f", "className": "pp-cell"}


def standard_title(key: str, minutes: float, max_km: float | None, lang: str) -> str:
    """Return a layer title naming the standard: ``key`` alone, or its ``_km`` form with a distance.

    Examples
    --------
    >>> standard_title("layer.uncovered", 30, 5, "en")
    'People beyond the standard (30 min or 5 km)'
    >>> standard_title("layer.service_areas", 30, None, "vi")
    'Vùng tới được trong 30 phút'

    """
    lab = labels(lang)
    mins = fmt_number(float(minutes), 0, lang)
    if max_km is None:
        return lab[key].format(minutes=mins)
    return lab[f"{key}_km"].format(minutes=mins, km=fmt_number(float(max_km), 0, lang))


def union_areas(geoms: Any) -> shapely.Geometry:
    """Return the union of overlapping areas, the simplest shapes first.

    The service areas of a city are mostly plain discs (the distance part of the standard)
    and a few detailed network areas made of many raster pieces. Unioning the discs is
    cheap; each detailed area then only adds what lies outside that union. This gives the
    union of :func:`shapely.union_all` several times faster. The result is normalised
    (:func:`shapely.normalize`), so it does not depend on the order of the areas.

    Parameters
    ----------
    geoms
        Polygons or MultiPolygons (invalid ones are repaired first).

    Returns
    -------
    shapely.Geometry
        Their union, normalised.

    Examples
    --------
    >>> import shapely
    >>> disc = shapely.Point(0, 0).buffer(10.0)
    >>> detailed = shapely.MultiPolygon([shapely.box(0, 0, 5, 5), shapely.box(8, -1, 30, 1)])
    >>> u = union_areas([disc, detailed, shapely.Point(5, 0).buffer(10.0)])
    >>> u.equals(shapely.union_all([disc, detailed, shapely.Point(5, 0).buffer(10.0)]))
    True

    """
    arr = shapely.make_valid(np.asarray(geoms, dtype=object))
    arr = arr[~(shapely.is_missing(arr) | shapely.is_empty(arr))]
    if len(arr) < 3:
        return shapely.normalize(shapely.union_all(arr))
    n = shapely.get_num_coordinates(arr)
    simple = n <= 2 * n.min()
    base = shapely.union_all(arr[simple])
    rest = shapely.difference(arr[~simple], base)  # mostly empty: inside the discs already
    return shapely.normalize(shapely.union_all(np.concatenate([[base], rest])))


def service_areas_layer(
    areas: gpd.GeoDataFrame,
    *,
    lang: str = "vi",
    max_minutes: float | None = None,
    mode: str | None = None,
    simplify_m: float = 30.0,
    show: bool = True,
    max_km: float | None = None,
) -> folium.FeatureGroup:
    """Draw the area reachable within the standard (the union of the points' areas).

    Parameters
    ----------
    areas
        Service-area polygons (one per point), e.g. ``Assessment.service_areas()``.
    lang
        ``"vi"`` (default) or ``"en"``.
    max_minutes
        The time limit the areas stand for (default ``settings.standard_minutes``).
    mode
        Travel mode, for the layer name (default ``settings.default_mode``).
    simplify_m
        Simplification tolerance in metres of the union's outline.
    show
        Whether the layer is on when the map opens.
    max_km
        The distance part of the standard, when the areas include it (``Assessment.
        service_areas()`` does): the layer is then named "within the standard (N min or
        D km)".

    Returns
    -------
    folium.FeatureGroup
        One dashed, lightly filled shape: the union of all service areas. It takes no
        mouse events (the units' tooltips stay reachable); its name gives mode and area.

    Examples
    --------
    >>> import shapely
    >>> sq = [shapely.box(585000, 2325000, 587000, 2327000), shapely.box(586000, 2325000, 588000, 2327000)]
    >>> areas = gpd.GeoDataFrame(geometry=sq, crs="EPSG:32648")
    >>> service_areas_layer(areas, max_minutes=30, mode="walk", lang="en").layer_name
    'Reachable within 30 min (walking, 6.0 km²)'

    """
    lab = labels(lang)
    if isinstance(areas, gpd.GeoDataFrame) and len(areas):
        # A point that reaches nothing (e.g. far off the network) has no area: nothing to draw.
        geoms = np.asarray(areas.geometry.values, dtype=object)
        areas = areas[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    check_frame(areas, "service areas", types=("Polygon", "MultiPolygon"))
    minutes = settings.standard_minutes if max_minutes is None else max_minutes
    mode = settings.default_mode if mode is None else mode
    union = union_areas(areas.geometry.to_crs(settings.projected_crs).values)
    if simplify_m > 0:
        union = shapely.simplify(union, simplify_m, preserve_topology=True)
    area_txt = fmt_value(shapely.area(union) / 1e6, "number", lang) + " " + lab["unit.km2"]
    geom = gpd.GeoSeries([union], crs=settings.projected_crs).to_crs(settings.geographic_crs)
    title = standard_title("layer.service_areas", minutes, max_km, lang)
    title += f" ({lab.get(f'mode.{mode}', mode)}, {area_txt})"
    # Not interactive: the shape covers most units and must not hide their tooltips.
    group = folium.FeatureGroup(name=esc(title), show=show)
    GeoLayer(features(geom.values, [{}]), {"pane": "pp-areas", "z": 410, "style": _AREA_STYLE}).add_to(group)
    return group


def _cell_size_m(demand: gpd.GeoDataFrame, xy: np.ndarray) -> tuple[float, float]:
    """Cell width and height (m): from ``demand.attrs`` if it says, else the point spacing."""
    attrs = getattr(demand, "attrs", {}) or {}
    cell = attrs.get("cell_m")
    if isinstance(cell, (int, float)) and cell > 0:
        return float(cell), float(cell)
    pixel = attrs.get("pixel_size_m")
    if (
        isinstance(pixel, (tuple, list))
        and len(pixel) == 2
        and all(isinstance(v, (int, float)) and v > 0 for v in pixel)
    ):
        return float(pixel[0]), float(pixel[1])
    if len(xy) < 2:
        return 1000.0, 1000.0
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(xy).query(xy, k=2)
    # An upper quantile: demand split along unit borders sits closer than the grid step.
    spacing = float(np.quantile(dist[:, 1], 0.9))
    spacing = float(np.clip(round(spacing / 10.0) * 10.0, 100.0, 5000.0))
    return spacing, spacing


def _uncovered_frame(demand: gpd.GeoDataFrame, keep: np.ndarray, pop: np.ndarray) -> pd.DataFrame:
    """People, weighted minutes, unreachable people and unit of each uncovered point."""
    frame = pd.DataFrame({"pop": pop[keep]})
    if "minutes" in demand:
        mins = pd.to_numeric(demand["minutes"], errors="coerce").to_numpy(float)[keep]
    else:
        mins = np.full(len(frame), np.nan)
    finite = np.isfinite(mins)
    frame["wmin"] = np.where(finite, mins, 0.0) * frame["pop"]
    frame["wpop"] = np.where(finite, frame["pop"], 0.0)
    frame["unreach"] = np.where(np.isinf(mins), frame["pop"], 0.0)
    frame["unit"] = text_column(demand, "unit_code").to_numpy()[keep]
    return frame


def _grid(frame: pd.DataFrame, xy: np.ndarray, origin: np.ndarray, size: np.ndarray, max_cells: int) -> np.ndarray:
    """Assign grid cells (columns ``i``, ``j``), doubling the cell until few enough remain."""
    frame["i"] = frame["j"] = np.zeros(len(frame), dtype=np.int64)
    while len(xy):
        ij = np.floor((xy - origin) / size).astype(np.int64)
        frame["i"], frame["j"] = ij[:, 0], ij[:, 1]
        if len(frame[["i", "j"]].drop_duplicates()) <= max_cells:
            break
        size = size * 2.0
    return size


def _cell_props(cells: pd.DataFrame, names: Mapping[str, str], lang: str) -> list[dict[str, Any]]:
    lab = LABELS[lang]
    scale = float(np.quantile(cells["pop"], 0.95)) if len(cells) else 1.0
    scale = scale if scale > 0 else 1.0
    props = []
    for cell in cells.itertuples():
        if cell.wpop > 0:
            mtxt = fmt_value(cell.wmin / cell.wpop, "minutes", lang)
        else:
            mtxt = lab["unreachable"] if cell.unreach > 0 else ""
        rows = [
            (esc(lab["field.population"]), esc(fmt_value(cell.pop, "count", lang) + " " + lab["unit.people"])),
            (esc(lab["field.minutes"]), esc(mtxt)),
            (esc(lab["field.unit"]), esc(", ".join(unit_text(u, names) for u in cell.units))),
        ]
        opacity = round(0.25 + 0.55 * min(1.0, cell.pop / scale), 2)
        props.append({"_t": table_html(rows), "_s": {"fillOpacity": opacity}})
    return props


def _check_cells(max_cells: int, cell_m: float | None) -> None:
    """Raise :class:`InputError` for a cell count below 1 or a cell size that is not > 0."""
    if max_cells < 1:
        msg = f"max_cells must be ≥ 1, got {max_cells}."
        raise InputError(msg)
    if cell_m is not None and not (cell_m > 0 and math.isfinite(cell_m)):
        msg = f"cell_m must be a positive number of metres, got {cell_m!r}."
        raise InputError(msg)


def _cell_features(
    frame: pd.DataFrame, origin: np.ndarray, size: np.ndarray, units: gpd.GeoDataFrame | None, lang: str
) -> dict[str, Any]:
    """Sum the uncovered points by grid cell; return the cells as a FeatureCollection with ``cell_m``."""
    cells = frame.groupby(["i", "j"], sort=True).agg(
        pop=("pop", "sum"),
        wmin=("wmin", "sum"),
        wpop=("wpop", "sum"),
        unreach=("unreach", "sum"),
        units=("unit", lambda s: sorted({u for u in s if u})),
    )
    x0 = origin[0] + cells.index.get_level_values("i").to_numpy() * size[0]
    y0 = origin[1] + cells.index.get_level_values("j").to_numpy() * size[1]
    boxes = gpd.GeoSeries(shapely.box(x0, y0, x0 + size[0], y0 + size[1]), crs=settings.projected_crs)
    data = features(boxes.to_crs(settings.geographic_crs).values, _cell_props(cells, unit_names(units), lang))
    data["cell_m"] = [float(size[0]), float(size[1])]
    return data


def uncovered_layer(
    demand: gpd.GeoDataFrame,
    *,
    lang: str = "vi",
    max_minutes: float | None = None,
    cell_m: float | None = None,
    max_cells: int = 2500,
    units: gpd.GeoDataFrame | None = None,
    show: bool = True,
    max_km: float | None = None,
) -> folium.FeatureGroup:
    """Draw demand beyond the standard as grid cells, darker where more people live.

    Parameters
    ----------
    demand
        Demand points with ``population`` and ``within_standard`` (bool), and optionally
        ``minutes``, ``unit_code`` and ``nearest_point`` (as ``Assessment.demand``).
    lang
        ``"vi"`` (default) or ``"en"``.
    max_minutes
        The standard, for the layer name (default ``settings.standard_minutes``).
    cell_m
        Cell side in metres. Default: ``demand.attrs["cell_m"]`` or
        ``demand.attrs["pixel_size_m"]`` (as :func:`pointplan.demand.build_demand` sets
        them), else the 90th percentile of the points' nearest-neighbour spacing. Doubled
        until at most ``max_cells`` cells remain.
    max_cells
        Upper bound on the number of cells drawn (keeps the HTML small: the full Hanoi
        map stays under 3 MB even when most people are beyond a strict standard).
    units
        Units indexed by code, to name the units a cell lies in.
    show
        Whether the layer is on when the map opens.
    max_km
        The distance part of the standard, for the layer name.

    Returns
    -------
    folium.FeatureGroup
        Grid cells (in the projected CRS) summing the population of the uncovered demand
        points inside; tooltip with people, population-weighted minutes to the nearest
        point and units (headed by the layer title, kept once in the layer's ``tipTitle``).
        The embedded data's ``cell_m`` gives the cell size used.

    Examples
    --------
    >>> demand = gpd.GeoDataFrame({"population": [100.0, 300.0], "within_standard": [False, True],
    ...     "minutes": [45.0, 10.0]}, geometry=gpd.points_from_xy([585500, 586500], [2325500, 2325500]),
    ...     crs="EPSG:32648")
    >>> uncovered_layer(demand, lang="en", cell_m=1000).layer_name
    'People beyond the 30-min standard (100 people)'

    """
    lab = labels(lang)
    check_frame(demand, "demand", types=("Point",), columns=("population", "within_standard"))
    _check_cells(max_cells, cell_m)
    minutes = settings.standard_minutes if max_minutes is None else max_minutes
    title = standard_title("layer.uncovered", minutes, max_km, lang)
    xy_all = shapely.get_coordinates(demand.geometry.to_crs(settings.projected_crs).values)
    size = np.array((float(cell_m), float(cell_m)) if cell_m is not None else _cell_size_m(demand, xy_all))
    within = demand["within_standard"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    pop = pd.to_numeric(demand["population"], errors="coerce").fillna(0.0).to_numpy(float)
    keep = ~within & (pop > 0)
    frame = _uncovered_frame(demand, keep, pop)
    origin = xy_all.min(axis=0) - size / 2 if len(xy_all) else np.zeros(2)
    size = _grid(frame, xy_all[keep], origin, size, max_cells)
    data = _cell_features(frame, origin, size, units, lang)
    people = fmt_value(frame["pop"].sum(), "count", lang) + " " + lab["unit.people"]
    group = folium.FeatureGroup(name=esc(f"{title} ({people})"), show=show)
    # The title heads every tooltip; it is written once, in the layer's configuration.
    config = {"pane": "pp-cells", "z": 415, "style": _CELL_STYLE, "tipTitle": f"<b>{esc(title)}</b>"}
    GeoLayer(data, config).add_to(group)
    return group
