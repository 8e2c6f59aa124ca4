"""Whole maps: the units before any assessment, and an assessment with its proposals.

What :func:`assessment_map` adds from a run: when ``assessment.uncertainty`` is set
(:func:`pointplan.uncertainty.run_uncertainty`), each unit's popup shows the P5–P95 interval
beside its coverage and minutes, and a layer shows how uncertain each unit is
(``uncertainty_minutes``). The per-unit bus access (``assessment.derived["bus"]``,
:func:`pointplan.report.run_tables.bus_context`) and time to service
(``assessment.derived["time_to_service"]``) join the units when present, so ``extra_metrics`` may name
``bus_access`` or ``time_to_service_minutes``.

Several metrics are radio buttons (one shown at a time, with its one legend); the layer
control is collapsed and grouped (metrics, points, context). A unit study
(``assessment.params["study_units"]``, set by :func:`pointplan.run`) is framed on its units
and their neighbours, and its title names them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd

from pointplan import settings
from pointplan._errors import InputError
from pointplan.assessment.catchment import draws_service_areas
from pointplan.locate.points_proposal import TIME_ONLY_MODES
from pointplan.maps._html import check_frame, esc, text_column
from pointplan.maps.areas import service_areas_layer, standard_title, uncovered_layer
from pointplan.maps.context import base_map, roads_layer, unit_names_layer
from pointplan.maps.elements import Attribution, GroupedLayerControl, Legend
from pointplan.maps.labels import LABELS, attributions, fmt_number, fmt_value, labels
from pointplan.maps.markers import KIND_ORDER, point_flags, points_layer, points_legend, proposals_layer
from pointplan.maps.transit import bus_stops_layer
from pointplan.maps.units import unit_titles, units_layer
from pointplan.maps.waits import wait_points_layer

if TYPE_CHECKING:
    from pointplan.assessment import Assessment

__all__ = ["assessment_map", "study_codes", "units_map"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

_POLYGONS = ("Polygon", "MultiPolygon")
_TRANSIT_MODES = ("bus", "transit")


def title_html(title: str, lines: Sequence[str]) -> str:
    """HTML of the title box: a bold title and one line per fact (all escaped).

    Examples
    --------
    >>> title_html("Hà Nội", ["126 đơn vị"])
    '<b>Hà Nội</b><div>126 đơn vị</div>'

    """
    body = "".join(f"<div>{esc(line)}</div>" for line in lines)
    return f"<b>{esc(title)}</b>{body}"


def _standin_line(points: gpd.GeoDataFrame | None, lang: str) -> list[str]:
    if points is None or "location_precision" not in points:
        return []
    n = int(point_flags(points)["standin"].sum())
    return [LABELS[lang]["summary.standins"].format(n=n, total=len(points))] if n else []


def _context(m: folium.Map, units: gpd.GeoDataFrame, *, lang: str, roads: bool, names: bool, shared: bool) -> None:
    """Add the offline context layers: unit outlines with names, and the main roads."""
    if names:
        unit_names_layer(units, lang=lang, share="units", reuse_shared=shared).add_to(m)
    if roads:
        roads_layer(lang=lang).add_to(m)


def _finish(m: folium.Map, sources: set[str], lang: str, title: str, point_layers: Sequence[str] = ()) -> folium.Map:
    """Attribution of the data shown, title box and the layer control (collapsed, grouped)."""
    Attribution(attributions(sources, lang)).add_to(m)
    Legend(title, "topleft", "pp-title").add_to(m)
    control = folium.LayerControl(collapsed=True)
    control.add_to(m)
    lab = LABELS[lang]
    titles = {key: lab[f"control.{key}"] for key in ("metrics", "points", "context")}
    GroupedLayerControl(control, dict.fromkeys(point_layers, "points"), titles).add_to(m)
    return m


def _roads_legend_row(lang: str) -> str:
    return f'<div class="pp-row"><span class="pp-line"></span>{esc(LABELS[lang]["legend.roads"])}</div>'


def units_map(
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame | None = None,
    *,
    metric: str | None = None,
    lang: str = "vi",
    tiles: bool = True,
    roads: bool = True,
    unit_names: bool = True,
    sources: Sequence[str] = (),
) -> folium.Map:
    """Quick map of the model before any assessment: units and (optionally) points.

    Parameters
    ----------
    units
        Unit polygons indexed by code (e.g. :func:`pointplan.load_units`).
    points
        Service points (e.g. :func:`pointplan.load_points`).
    metric
        Unit column to colour by (e.g. ``"population"``, ``"density_per_km2"``); ``None``
        colours phường and xã apart.
    lang
        ``"vi"`` (default) or ``"en"``.
    tiles
        Add the OpenStreetMap base layer (drawn when there is internet).
    roads
        Add the main roads of the inner city (shipped with pointplan; works offline).
    unit_names
        Add the unit outlines with their names (works offline).
    sources
        More data sources to credit (e.g. ``["bus"]``), besides units and OpenStreetMap.

    Returns
    -------
    folium.Map
        Map with the units, the points by kind, legends, attribution and a layer control.

    Examples
    --------
    >>> import shapely
    >>> sq = [shapely.box(585000, 2325000, 587000, 2327000)]
    >>> units = gpd.GeoDataFrame({"name": ["A"], "kind": ["phuong"], "population": [300]},
    ...     geometry=sq, index=["00001"], crs="EPSG:32648")
    >>> m = units_map(units, lang="en", tiles=False, roads=False)
    >>> [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    ['Units', 'Unit outlines and names']

    """
    lab = labels(lang)
    check_frame(units, "units", types=_POLYGONS, nonempty=True)
    m = base_map(units.to_crs(settings.geographic_crs).total_bounds, tiles=tiles, lang=lang)
    units_layer(units, metric, lang=lang, share="units").add_to(m)
    point_layers = []
    if points is not None:
        for group in points_layer(points, lang=lang, units=units):
            group.add_to(m)
            point_layers.append(group.layer_name)
    _context(m, units, lang=lang, roads=roads, names=unit_names, shared=True)
    kinds = text_column(units, "kind")
    lines = []
    if "population" in units:
        population = fmt_value(units["population"].sum(), "count", lang)
        counts = {"phuong": int((kinds == "phuong").sum()), "xa": int((kinds == "xa").sum())}
        lines.append(lab["summary.units"].format(n=len(units), population=population, **counts))
    lines += _standin_line(points, lang)
    used = {"units"} | set(sources) | ({"osm"} if tiles or roads else set())
    return _finish(m, used, lang, title_html(lab["title.units"], lines), point_layers)


@dataclass
class _Standard:
    minutes: float
    mode: str
    km: float | None
    area_km: float | None = None


def _standard(assessment: Any) -> _Standard:
    summary = getattr(assessment, "summary", None) or {}
    params = getattr(assessment, "params", None) or {}
    minutes = float(
        summary.get("max_minutes")
        or params.get("max_minutes")
        or summary.get("standard_minutes")
        or settings.standard_minutes
    )
    mode = str(getattr(assessment, "mode", None) or summary.get("mode") or settings.default_mode)
    dist_m = summary.get("max_distance_m") or params.get("max_distance_m")
    return _Standard(minutes, mode, float(dist_m) / 1000.0 if dist_m else None)


def _check_assessment(assessment: Any, *, service_areas: bool, uncovered: bool) -> bool:
    """Check the assessment has what the layers asked for; return whether service areas are drawn."""
    for attr in ("units", "points"):
        if getattr(assessment, attr, None) is None:
            msg = (
                f"assessment has no {attr!r}: pass the result of pointplan.assess() "
                "(or an object with units, points, demand and service_areas())."
            )
            raise InputError(msg)
    if uncovered and getattr(assessment, "demand", None) is None:
        msg = "assessment has no 'demand' to show uncovered people: pass uncovered=False."
        raise InputError(msg)
    if service_areas and not callable(getattr(assessment, "service_areas", None)):
        msg = "assessment has no service_areas() method: pass service_areas=False."
        raise InputError(msg)
    check_frame(assessment.units, "assessment.units", types=_POLYGONS, nonempty=True)
    return service_areas and _draws_areas(assessment)


def _draws_areas(assessment: Any) -> bool:
    """Whether the map can draw the points' service areas (not above ``settings.service_areas_max_points``)."""
    if draws_service_areas(len(assessment.points)):
        return True
    logger.info(
        "%d points (more than settings.service_areas_max_points = %d): the map draws no service areas",
        len(assessment.points), settings.service_areas_max_points,
    )  # fmt: skip
    return False


def _area_layers(
    m: folium.Map, assessment: Any, std: _Standard, *, areas: bool, uncovered: bool, lang: str, show: bool = True
) -> None:
    """Add the area within the standard and the people beyond it (off at first when ``show`` is False)."""
    if areas:
        frame = assessment.service_areas()
        km = frame.attrs.get("max_distance_m") if hasattr(frame, "attrs") else None
        std.area_km = None if km is None else float(km) / 1000.0
        service_areas_layer(
            frame, lang=lang, max_minutes=std.minutes, mode=std.mode, max_km=std.area_km, show=show
        ).add_to(m)
    if uncovered:
        uncovered_layer(
            assessment.demand, lang=lang, max_minutes=std.minutes, units=assessment.units, max_km=std.km, show=show
        ).add_to(m)


def _swatch(style: str, text: str) -> str:
    return f'<div class="pp-row"><span class="pp-swatch" style="{style}"></span>{esc(text)}</div>'


def _assessment_legend(
    points: gpd.GeoDataFrame, std: _Standard, *, proposals: bool, areas: bool, uncovered: bool, roads: bool, lang: str
) -> str:
    kinds = list(dict.fromkeys(text_column(points, "kind")))
    kinds = [k for k in KIND_ORDER if k in kinds] + sorted(set(kinds) - set(KIND_ORDER))
    if proposals and "proposed" not in kinds:
        kinds.append("proposed")
    flags = point_flags(points)
    html = points_legend(kinds, lang, standin=bool(flags["standin"].any()), overloaded=bool(flags["overloaded"].any()))
    if areas:
        style = "background:rgba(38,166,154,0.25);border:1.5px dashed #00695c"
        html += _swatch(style, standard_title("layer.service_areas", std.minutes, std.area_km, lang))
    if uncovered:
        html += _swatch("background:#54278f;opacity:0.6", standard_title("layer.uncovered", std.minutes, std.km, lang))
    if roads:
        html += _roads_legend_row(lang)
    return html


def _walk_lines(assessment: Any, std: _Standard, lang: str) -> list[str]:
    """On foot: the 30-minute share as the headline, the distance clause as its own line."""
    lab = LABELS[lang]
    summary = getattr(assessment, "summary", None) or {}
    walk = (summary.get("within_minutes_share_by_mode") or {}).get("walk")
    dist = summary.get("population_within_5_km_share")
    lines = [
        lab["summary.walk_time"].format(minutes=fmt_number(std.minutes, 0, lang), share=fmt_value(walk, "share", lang))
    ]
    if std.km is not None and dist is not None:
        lines.append(
            lab["summary.walk_distance"].format(km=fmt_number(std.km, 0, lang), share=fmt_value(dist, "share", lang))
        )
    return lines


def _coverage_line(assessment: Any, lang: str, std: _Standard | None = None) -> list[str]:
    lab = LABELS[lang]
    units = assessment.units
    if std is not None and std.mode in TIME_ONLY_MODES:
        return _walk_lines(assessment, std, lang)
    headline = (getattr(assessment, "summary", None) or {}).get("population_within_standard_share")
    if isinstance(headline, (int, float)) and math.isfinite(headline):
        return [lab["summary.coverage"].format(share=fmt_value(headline, "share", lang))]
    if "coverage_share" in units and "population" in units:
        pop = pd.to_numeric(units["population"], errors="coerce")
        share = pd.to_numeric(units["coverage_share"], errors="coerce")
        ok = pop.notna() & share.notna()
        if ok.any() and pop[ok].sum() > 0:
            total = float((pop[ok] * share[ok]).sum() / pop[ok].sum())
            return [lab["summary.coverage"].format(share=fmt_value(total, "share", lang))]
    return []


def study_codes(assessment: Any) -> list[str]:
    """Return the codes of a unit study (``assessment.params["study_units"]``), or ``[]`` for the whole city.

    Examples
    --------
    >>> import types
    >>> study_codes(types.SimpleNamespace(params={"study_units": ["00235"]})), study_codes(object())
    (['00235'], [])
    """
    return [str(c) for c in (getattr(assessment, "params", None) or {}).get("study_units") or ()]


def _study_title(units: gpd.GeoDataFrame, codes: Sequence[str], lang: str) -> str:
    """Return the map's title for a unit study: its units named (three at most), or the first and a count."""
    lab = LABELS[lang]
    names = [str(n) for n in unit_titles(units.loc[[c for c in codes if c in units.index]])]
    shown = ", ".join(names) if len(names) <= 3 else lab["study.others"].format(first=names[0], n=len(names) - 1)
    return lab["title.study"].format(names=shown)


def _neighbours(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the units of the shipped map that touch ``units`` (and are not among them)."""
    from pointplan.data import load_units

    every = load_units().to_crs(settings.projected_crs)
    near = every.intersects(units.to_crs(settings.projected_crs).union_all().buffer(50.0))
    return every[near & ~every.index.isin(units.index)]


def _open_map(units: gpd.GeoDataFrame, study: bool, tiles: bool, lang: str) -> folium.Map:
    """Return the base map framed on the units; for a unit study, on them and their neighbours (drawn)."""
    if not study:
        return base_map(units.to_crs(settings.geographic_crs).total_bounds, tiles=tiles, lang=lang)
    near = _neighbours(units)
    frame = pd.concat([units.geometry.to_crs(near.crs), near.geometry])
    m = base_map(frame.to_crs(settings.geographic_crs).total_bounds, tiles=tiles, lang=lang)
    if len(near):
        unit_names_layer(near, lang=lang, name=LABELS[lang]["layer.neighbours"]).add_to(m)
    return m


def _assessment_title(assessment: Any, std: _Standard, lang: str) -> str:
    lab = LABELS[lang]
    mins, mode = fmt_number(std.minutes, 0, lang), lab.get(f"mode.{std.mode}", std.mode)
    if std.km is None:
        lines = [lab["summary.standard"].format(minutes=mins, mode=mode)]
    else:
        lines = [lab["summary.standard_km"].format(minutes=mins, mode=mode, km=fmt_number(std.km, 0, lang))]
    summary = getattr(assessment, "summary", None) or {}
    method = getattr(assessment, "travel_time_method", None) or summary.get("travel_time_method")
    if method:
        lines.append(lab["summary.method"].format(method=lab.get(f"method.{method}", method)))
    lines += _coverage_line(assessment, lang, std) + _standin_line(assessment.points, lang)
    codes = study_codes(assessment)
    title = _study_title(assessment.units, codes, lang) if codes else lab["title.assessment"]
    return title_html(title, lines)


def _join_columns(units: gpd.GeoDataFrame, table: object) -> gpd.GeoDataFrame:
    """Add the columns of ``table`` (indexed by unit code) that ``units`` lacks."""
    if isinstance(table, pd.Series):
        table = table.to_frame()
    if not isinstance(table, pd.DataFrame) or table.empty:
        return units
    extra = table.copy()
    extra.index = extra.index.astype(str)
    key = pd.Index(units.index.astype(str))
    out = units.copy()
    for col in extra.columns:
        if col not in out.columns and pd.api.types.is_numeric_dtype(extra[col]):
            out[col] = extra[col].reindex(key).to_numpy()
    return out


def _walk_coverage(assessment: Any) -> gpd.GeoDataFrame:
    """Return the units; on foot, ``coverage_share`` is the share within the minutes alone.

    On foot the distance clause (5 km in a straight line, over an hour's walk) is not part
    of the standard shown: Xã Cổ Đô would read 100 % while most of its people walk longer.
    """
    units = assessment.units
    cov = getattr(assessment, "coverage", None)
    mode = getattr(assessment, "mode", None)
    if mode not in TIME_ONLY_MODES or not isinstance(cov, pd.DataFrame) or "coverage_share" not in units:
        return units
    col = next((c for c in cov.columns if c.startswith("within_") and c.endswith(f"_min_share_{mode}")), None)
    if col is None:
        return units
    out = units.copy()
    out["coverage_share"] = cov[col].reindex(out.index.astype(str)).to_numpy()
    return out


def _with_run_figures(assessment: Any) -> gpd.GeoDataFrame:
    """Return the assessment's units with what a run attached to the assessment, per unit.

    Coverage, mean and P90 minutes are the central estimates when the draws ran
    (:func:`pointplan.uncertainty.central_units`). The intervals
    (``assessment.uncertainty.units``), the bus access
    (``assessment.derived["bus"].units``) and the time to service (``assessment.derived["time_to_service"]``),
    each when present.
    """
    units = _walk_coverage(assessment)
    units = _join_columns(units, getattr(getattr(assessment, "uncertainty", None), "units", None))
    derived = getattr(assessment, "derived", None) or {}
    units = _join_columns(units, getattr(derived.get("bus"), "units", None))
    return _join_columns(units, derived.get("time_to_service"))


def _unit_layers(m: folium.Map, units: gpd.GeoDataFrame, metric: str, extra_metrics: Sequence[str], lang: str) -> None:
    """Add the units coloured by ``metric``, then each extra metric and the uncertainty (off at first).

    With more than one metric, they are the layer control's base layers: radio buttons, one
    shown at a time, with its one legend.
    """
    extras = [x for x in dict.fromkeys(extra_metrics) if x not in (metric, "uncertainty_minutes")]
    with_unc = "uncertainty_minutes" in units.columns and metric != "uncertainty_minutes"
    overlay = not extras and not with_unc
    units_layer(units, metric, lang=lang, share="units", overlay=overlay).add_to(m)
    for extra in extras:
        units_layer(units, extra, lang=lang, show=False, share="units", reuse_shared=True, overlay=False).add_to(m)
    if with_unc:
        name = LABELS[lang]["layer.uncertainty"]
        units_layer(
            units, "uncertainty_minutes", lang=lang, show=False, share="units", reuse_shared=True, name=name,
            overlay=False,
        ).add_to(m)  # fmt: skip


def _add_point_layers(
    m: folium.Map,
    assessment: Any,
    units: gpd.GeoDataFrame,
    proposals: object | None,
    waits: bool,
    bus_stops: gpd.GeoDataFrame | None,
    bus_min_trips_per_hour: float,
    lang: str,
) -> list[str]:
    """Add the layers of the points, their waits, the bus stops and the proposals, in this order; return their names."""
    groups = list(points_layer(assessment.points, lang=lang, units=units, legend=False))
    if waits and len(assessment.points) > settings.map_markers_max_points:
        logger.info(
            "%d points (more than settings.map_markers_max_points = %d): the map has no layer of each point's wait",
            len(assessment.points), settings.map_markers_max_points,
        )  # fmt: skip
    elif waits:
        groups.append(wait_points_layer(assessment, lang=lang))
    if bus_stops is not None:
        groups.append(bus_stops_layer(bus_stops, lang=lang, min_trips_per_hour=bus_min_trips_per_hour))
    if proposals is not None:
        groups.append(proposals_layer(proposals, lang=lang, units=units))
    for group in groups:
        group.add_to(m)
    return [g.layer_name for g in groups]


def assessment_map(
    assessment: Assessment | Any,
    proposals: object | None = None,
    *,
    metric: str = "coverage_share",
    lang: str = "vi",
    service_areas: bool = True,
    uncovered: bool = True,
    tiles: bool = True,
    extra_metrics: Sequence[str] = (),
    roads: bool = True,
    unit_names: bool = True,
    sources: Sequence[str] = (),
    bus_stops: gpd.GeoDataFrame | None = None,
    bus_min_trips_per_hour: float = 0.0,
    waits: bool = False,
) -> folium.Map:
    """Map an assessment: units by a metric, points, service areas, uncovered demand, proposals.

    Parameters
    ----------
    assessment
        An ``Assessment`` (:func:`pointplan.assess`) or any object with ``units`` (with the
        metric column) and ``points``; ``demand``, ``service_areas()``, ``summary``, ``mode``
        and ``travel_time_method`` feed the optional layers and the title box.
    proposals
        A ``Proposal`` or a GeoDataFrame of proposed points (see :func:`proposals_layer`).
    metric, extra_metrics
        Unit column to colour by (see :data:`METRICS`); more, each a layer (off at first).
    lang
        ``"vi"`` (default) or ``"en"``.
    service_areas, uncovered
        Draw the area within the standard (up to ``settings.service_areas_max_points`` points); the demand beyond it.
    tiles, roads, unit_names
        Add the OpenStreetMap tiles (online); the main roads, the unit names (shipped, offline).
    sources
        More data sources to credit (``"bus"`` comes by itself with a bus mode or stops).
    bus_stops, bus_min_trips_per_hour
        Bus stops by frequency (:func:`pointplan.transit.stop_frequency`), drawn off at
        first: those with at least this many buses an hour at midday.
    waits
        Add the points coloured by their P90 wait at the peak (:mod:`~pointplan.maps.waits`).

    Returns
    -------
    folium.Map
        With legends, a title box, the attribution of the data shown and a layer control.

    Raises
    ------
    InputError
        If the assessment lacks ``units`` or ``points`` or a requested layer's data.

    Examples
    --------
    >>> import shapely, types
    >>> sq = [shapely.box(585000, 2325000, 587000, 2327000)]
    >>> units = gpd.GeoDataFrame({"name": ["A"], "population": [300], "coverage_share": [0.5]},
    ...     geometry=sq, index=["00001"], crs="EPSG:32648")
    >>> pts = gpd.GeoDataFrame({"name": ["P1"], "kind": ["unit_point"]},
    ...     geometry=[shapely.Point(586000, 2326000)], crs="EPSG:32648")
    >>> a = types.SimpleNamespace(units=units, points=pts, summary={"max_minutes": 30})
    >>> m = assessment_map(a, service_areas=False, uncovered=False, tiles=False, roads=False, lang="en")
    >>> [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    ['Units: Population share within the standard', 'Unit service point (1)', 'Unit outlines and names']
    """
    labels(lang)
    service_areas = _check_assessment(assessment, service_areas=service_areas, uncovered=uncovered)
    units, std = _with_run_figures(assessment), _standard(assessment)
    m = _open_map(units, bool(study_codes(assessment)), tiles, lang)
    _unit_layers(m, units, metric, extra_metrics, lang)
    one_metric = not [x for x in extra_metrics if x != metric]  # else areas and cells start off (they hide it)
    _area_layers(m, assessment, std, areas=service_areas, uncovered=uncovered, lang=lang, show=one_metric)
    point_layers = _add_point_layers(m, assessment, units, proposals, waits, bus_stops, bus_min_trips_per_hour, lang)
    _context(m, units, lang=lang, roads=roads, names=unit_names, shared=True)
    flags = {"proposals": proposals is not None, "areas": service_areas, "uncovered": uncovered, "roads": roads}
    Legend(_assessment_legend(assessment.points, std, lang=lang, **flags), "bottomleft", "pp-points-legend").add_to(m)
    bus = bus_stops is not None or std.mode in _TRANSIT_MODES
    used = {"units", "population"} | set(sources) | ({"osm"} if tiles or roads else set()) | ({"bus"} if bus else set())
    return _finish(m, used, lang, _assessment_title(assessment, std, lang), point_layers)
