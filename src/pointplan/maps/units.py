"""Unit layers: coverage simplification and the choropleth of a unit metric.

Unit polygons are simplified as a coverage (:func:`shapely.coverage_simplify`) in the
projected CRS, so neighbouring units keep sharing their borders (no gaps, no overlaps)
while the full Hanoi map stays well under 3 MB of HTML.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Any

import branca.colormap as bcm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import InputError, MissingColumnError
from pointplan.maps._html import check_frame, esc, esc_many, features, table_html, text_column
from pointplan.maps.elements import GeoLayer, Legend
from pointplan.maps.labels import LABELS, METRICS, fmt_number, fmt_values, labels, metric_label, metric_style

logger = logging.getLogger(__name__)

NO_DATA_COLOUR = "#bdbdbd"
# ColorBrewer palettes (colour-blind safe): diverging red-yellow-blue, sequential YlGnBu.
RDYLBU = (
    "#a50026", "#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf",
    "#e0f3f8", "#abd9e9", "#74add1", "#4575b4", "#313695",
)  # fmt: skip
YLGNBU = (
    "#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4",
    "#1d91c0", "#225ea8", "#253494", "#081d58",
)  # fmt: skip
UNIT_KIND_COLOURS = {"phuong": "#fdd49e", "xa": "#c7e9c0"}
_POLYGONS = ("Polygon", "MultiPolygon")
_SIMPLIFIED: dict[tuple[str, str, float], np.ndarray] = {}
_UNIT_STYLE = {"color": "#555555", "weight": 0.8, "opacity": 0.9, "fillOpacity": 0.62, "className": "pp-unit"}


def simplify_coverage(units: gpd.GeoDataFrame, tolerance_m: float = 40.0) -> gpd.GeoSeries:
    """Simplify unit polygons as a coverage, keeping shared borders shared.

    Parameters
    ----------
    units
        Unit polygons (any CRS) that tile the area without overlaps.
    tolerance_m
        Simplification tolerance in metres (about the square root of the area of the
        triangles removed); 0 returns the geometries unchanged.

    Returns
    -------
    geopandas.GeoSeries
        Simplified geometries in the projected CRS (``settings.projected_crs``), same index.

    Notes
    -----
    Uses :func:`shapely.coverage_simplify` (GEOS ≥ 3.12, shapely ≥ 2.1), which simplifies
    each shared edge once, so neighbours neither overlap nor leave gaps. With an older
    shapely the polygons are simplified one by one (topology-preserving per polygon), which
    may open slivers between neighbours; a log message says so.

    Examples
    --------
    >>> sq = [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)]
    >>> units = gpd.GeoDataFrame(geometry=sq, crs="EPSG:32648")
    >>> out = simplify_coverage(units, 10.0)
    >>> round(float(out.area.sum())), str(out.crs)
    (2000000, 'EPSG:32648')

    """
    if tolerance_m < 0 or not math.isfinite(tolerance_m):
        msg = f"tolerance_m must be a finite number ≥ 0, got {tolerance_m!r}."
        raise InputError(msg)
    proj = units.geometry.to_crs(settings.projected_crs)
    geoms = np.asarray(proj.values, dtype=object)
    digest = hashlib.sha1(usedforsecurity=False)
    for wkb in shapely.to_wkb(geoms):
        digest.update(wkb)
    key = (digest.hexdigest(), str(proj.crs), float(tolerance_m))
    if key not in _SIMPLIFIED:
        if len(_SIMPLIFIED) >= 4:  # a small cache: maps of several metrics reuse the shapes
            _SIMPLIFIED.pop(next(iter(_SIMPLIFIED)))
        _SIMPLIFIED[key] = _simplify(geoms, tolerance_m)
    return gpd.GeoSeries(_SIMPLIFIED[key], index=units.index, crs=proj.crs)


def _simplify(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        logger.info("repairing %d invalid unit geometries before simplifying", invalid.sum())
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    if tolerance_m == 0:
        return geoms
    if hasattr(shapely, "coverage_simplify"):
        return np.asarray(shapely.coverage_simplify(geoms, tolerance_m, simplify_boundary=True), dtype=object)
    logger.warning(  # pragma: no cover - shapely < 2.1
        "shapely.coverage_simplify needs shapely >= 2.1; simplifying units one by one "
        "(neighbours may show slivers). Upgrade shapely for seamless borders."
    )
    return np.asarray(shapely.simplify(geoms, tolerance_m, preserve_topology=True), dtype=object)  # pragma: no cover


def colormap(metric: str, values: np.ndarray) -> bcm.LinearColormap:
    """Return the colour ramp of a metric over its values: red is worse, blue better.

    Examples
    --------
    >>> cm = colormap("mean_minutes", np.array([5.0, 20.0]))
    >>> cm.rgb_hex_str(5.0), cm.rgb_hex_str(20.0)
    ('#313695', '#a50026')

    """
    spec = metric_style(metric)
    finite = values[np.isfinite(values)]
    if spec.fixed_range is not None:
        vmin, vmax = spec.fixed_range
    elif finite.size:
        vmin, vmax = float(finite.min()), float(finite.max())
    else:
        vmin, vmax = 0.0, 1.0
    if vmax <= vmin:
        vmax = vmin + 1.0
    if spec.better == "none":
        colours = list(YLGNBU)
    else:
        colours = list(RDYLBU)  # red (bad) ... blue (good)
        if spec.better == "low":
            colours = colours[::-1]
    return bcm.LinearColormap(colours, vmin=vmin, vmax=vmax)


def _tick_text(value: float, span: float, fmt: str, lang: str) -> str:
    """Short legend tick: as few decimals as the tick spacing needs."""
    if fmt == "share":
        value, span = 100.0 * value, 100.0 * span
    step = span / 4
    decimals = 0 if step >= 5 else (1 if step >= 0.5 else 2)
    if fmt == "count":
        decimals = 0
    return fmt_number(value, decimals, lang) + ("%" if fmt == "share" else "")


def ramp_legend(title: str, cmap: bcm.LinearColormap, fmt: str, lang: str, nodata: bool) -> str:
    """HTML of a colour-ramp legend with five ticks (and a no-data swatch).

    Examples
    --------
    >>> html = ramp_legend("Tỷ lệ", colormap("coverage_share", np.array([0.5])), "share", "vi", False)
    >>> ">50%<" in html and ">100%<" in html
    True

    """
    stops = ", ".join(cmap.rgb_hex_str(cmap.vmin + (cmap.vmax - cmap.vmin) * i / 10) for i in range(11))
    span = cmap.vmax - cmap.vmin
    ticks = "".join(
        f'<span style="left:{i * 25}%">{esc(_tick_text(cmap.vmin + span * i / 4, span, fmt, lang))}</span>'
        for i in range(5)
    )
    parts = [
        f'<div class="pp-legend-title">{esc(title)}</div>',
        f'<div class="pp-ramp" style="background:linear-gradient(to right, {stops})"></div>',
        f'<div class="pp-ticks">{ticks}</div>',
    ]
    if nodata:
        parts.append(
            f'<div class="pp-row"><span class="pp-swatch" style="background:{NO_DATA_COLOUR}">'
            f"</span>{esc(LABELS[lang]['legend.no_data'])}</div>"
        )
    return "".join(parts)


def _check_units(units: gpd.GeoDataFrame, metric: str | None) -> gpd.GeoDataFrame:
    """Validate the units (and the metric column) and add a computed density if asked."""
    check_frame(units, "units", types=_POLYGONS, nonempty=True)
    if metric == "density_per_km2" and metric not in units.columns:
        check_frame(units, "units", types=_POLYGONS, columns=("population", "area_km2"))
        units = units.assign(**{metric: units["population"] / units["area_km2"].where(units["area_km2"] > 0)})
    if metric is None:
        return units
    if metric not in units.columns:
        numeric = [str(c) for c in units.columns if pd.api.types.is_numeric_dtype(units[c])]
        msg = (
            f"units have no column {metric!r} to map. Numeric columns: {numeric}. "
            "Run pointplan.assess() first for access metrics."
        )
        raise MissingColumnError(msg)
    if not pd.api.types.is_numeric_dtype(units[metric]) or pd.api.types.is_bool_dtype(units[metric]):
        msg = f"units column {metric!r} must be numeric to colour a map by it."
        raise InputError(msg)
    return units


def unit_titles(units: pd.DataFrame) -> pd.Series:
    """Each unit's display name: ``full_name``, else ``name``, else its code.

    Examples
    --------
    >>> unit_titles(pd.DataFrame({"name": ["A", ""]}, index=["00001", "00002"])).tolist()
    ['A', '00002']

    """
    full = text_column(units, "full_name")
    short = text_column(units, "name")
    codes = pd.Series(units.index.astype(str), index=units.index)
    return full.where(full != "", short).where(lambda s: s != "", codes)


@dataclass
class _Colouring:
    fills: pd.Series
    values: pd.Series  # formatted metric text per unit ("" without a metric)
    legend: str
    name: str


def _colour_by_kind(units: gpd.GeoDataFrame, lab: dict[str, str]) -> _Colouring:
    kinds = text_column(units, "kind")
    present = [k for k in ("phuong", "xa") if (kinds == k).any()]
    legend = f'<div class="pp-legend-title">{esc(lab["metric.kind"])}</div>' + "".join(
        f'<div class="pp-row"><span class="pp-swatch" style="background:{UNIT_KIND_COLOURS[k]}"></span>'
        f"{esc(lab[f'unit_kind.{k}'])} ({int((kinds == k).sum())})</div>"
        for k in present
    )
    fills = kinds.map(lambda k: UNIT_KIND_COLOURS.get(k, NO_DATA_COLOUR))
    return _Colouring(fills, pd.Series("", index=units.index), legend, lab["layer.units"])


def _colour_by_metric(units: gpd.GeoDataFrame, metric: str, lang: str) -> _Colouring:
    values = pd.to_numeric(units[metric], errors="coerce").to_numpy(dtype=float)
    spec = metric_style(metric)
    cmap = colormap(metric, values)
    clipped = np.clip(values, cmap.vmin, cmap.vmax)
    fills = pd.Series([cmap.rgb_hex_str(v) if math.isfinite(v) else NO_DATA_COLOUR for v in clipped], index=units.index)
    texts = pd.Series(fmt_values(units[metric], spec.fmt, lang), index=units.index)
    label = metric_label(metric, lang)
    legend = ramp_legend(label, cmap, spec.fmt, lang, bool(np.isnan(values).any()))
    return _Colouring(fills, texts, legend, f"{LABELS[lang]['layer.units']}: {label}")


def _interval_texts(units: pd.DataFrame, metric: str, lang: str) -> list[str]:
    """Return each unit's value of a metric, with its P5–P95 interval when the units carry one.

    The interval columns are those of :attr:`pointplan.uncertainty.UncertaintyResult.units`
    (``<metric>_p5`` and ``<metric>_p95``).

    Examples
    --------
    >>> u = pd.DataFrame({"mean_minutes": [12.0, 8.0], "mean_minutes_p5": [10.25, None],
    ...                   "mean_minutes_p95": [15.0, 9.0]}, index=["00001", "00002"])
    >>> _interval_texts(u, "mean_minutes", "en")
    ['12.0 min (P5–P95: 10.2 min – 15.0 min)', '8.0 min']
    """
    fmt = METRICS[metric].fmt if metric in METRICS else "number"
    texts = fmt_values(units[metric], fmt, lang)
    lo, hi = f"{metric}_p5", f"{metric}_p95"
    if lo not in units.columns or hi not in units.columns:
        return texts
    both = (units[lo].notna() & units[hi].notna()).tolist()
    label = LABELS[lang]["field.interval"]
    lows, highs = fmt_values(units[lo], fmt, lang), fmt_values(units[hi], fmt, lang)
    return [f"{t} ({label}: {a} – {b})" if ok else t for t, a, b, ok in zip(texts, lows, highs, both, strict=True)]


def _unit_props(
    units: gpd.GeoDataFrame, metric: str | None, colouring: _Colouring, lang: str, popups: bool = True
) -> list[dict[str, Any]]:
    """Tooltip, popup (unless ``popups`` is False: a layer that reuses shared ones) and fill of each unit."""
    lab = LABELS[lang]
    titles = esc_many(unit_titles(units))
    kinds = text_column(units, "kind").map(lambda k: lab.get(f"unit_kind.{k}", k))
    tip_cols = [(esc(lab["field.kind"]), esc_many(kinds))]
    if "population" in units:
        tip_cols.append((esc(lab["field.population"]), esc_many(fmt_values(units["population"], "count", lang))))
    if metric is not None and metric != "population":
        tip_cols.append((esc(metric_label(metric, lang)), esc_many(colouring.values)))
    codes = [str(c) for c in units.index]
    pop_cols = [(esc(lab["field.code"]), esc_many(codes))]
    if popups:
        shown = [m for m in METRICS if m in units.columns and m != "area_km2"]
        pop_cols += [(esc(metric_label(m, lang)), esc_many(_interval_texts(units, m, lang))) for m in shown]
    props: list[dict[str, Any]] = []
    for i, (code, fill) in enumerate(zip(codes, colouring.fills.tolist(), strict=True)):
        prop: dict[str, Any] = {"_id": code, "_t": table_html([(k, col[i]) for k, col in tip_cols], titles[i])}
        if popups:
            prop["_p"] = table_html([(k, col[i]) for k, col in pop_cols], titles[i])
        prop["_s"] = {"fillColor": fill}
        props.append(prop)
    return props


def _unit_features(
    units: gpd.GeoDataFrame, props: list[dict[str, Any]], reuse_shared: bool, simplify_tolerance_m: float
) -> dict[str, Any]:
    """Return the units as a FeatureCollection (without shapes and popups when they are shared)."""
    if reuse_shared:
        data = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": None, "properties": p} for p in props],
        }
    else:
        geoms = simplify_coverage(units, simplify_tolerance_m).to_crs(settings.geographic_crs)
        data = features(geoms.values, props)
    return data


def units_layer(
    units: gpd.GeoDataFrame,
    metric: str | None = "coverage_share",
    *,
    lang: str = "vi",
    simplify_tolerance_m: float = 40.0,
    name: str | None = None,
    show: bool = True,
    share: str | None = None,
    reuse_shared: bool = False,
    overlay: bool = True,
) -> folium.FeatureGroup:
    """Draw units as a choropleth of a metric, with a legend and a tooltip per unit.

    Parameters
    ----------
    units
        Unit polygons indexed by unit code, with ``population`` and (ideally) ``name``,
        ``full_name`` and ``kind``; for a metric, that numeric column (see :data:`METRICS`;
        ``density_per_km2`` is computed from ``population`` and ``area_km2`` if absent).
    metric
        Column to colour by, or ``None`` to colour phường and xã apart.
    lang
        ``"vi"`` (default) or ``"en"``.
    simplify_tolerance_m
        Coverage simplification tolerance in metres (0: draw the full detail).
    name
        Layer name in the layer control (default: the metric's label).
    show
        Whether the layer is on when the map opens.
    share
        A key under which the page keeps one copy of the shapes and popups (shared by layers).
    reuse_shared
        Take shapes and popups from the layer added earlier under ``share`` (same units, order).
    overlay
        An overlay (a checkbox); False: a base layer (a radio button: one metric at a time).

    Returns
    -------
    folium.FeatureGroup
        The group holding the unit shapes and the legend (the legend follows the layer's
        visibility). Its first child's ``data`` attribute is the embedded FeatureCollection.

    Raises
    ------
    InputError, MissingColumnError, CRSError, GeometryError
        Unknown language, missing or non-numeric metric column, no CRS, bad geometries.

    Examples
    --------
    >>> sq = [shapely.box(585000, 2325000, 587000, 2327000), shapely.box(587000, 2325000, 597000, 2327000)]
    >>> units = gpd.GeoDataFrame({"name": ["A", "B"], "population": [300, 100],
    ...     "mean_minutes": [2.5, 20.0]}, geometry=sq, index=["00001", "00002"], crs="EPSG:32648")
    >>> group = units_layer(units, "mean_minutes", lang="en")
    >>> group.layer_name
    'Units: Mean travel time (min)'
    >>> [f["properties"]["_s"]["fillColor"] for f in group._children[next(iter(group._children))].data["features"]]
    ['#313695', '#a50026']

    """
    lab = labels(lang)
    units = _check_units(units, metric)
    if reuse_shared and share is None:
        msg = "reuse_shared=True needs the share key of an earlier units layer."
        raise InputError(msg)
    colouring = _colour_by_kind(units, lab) if metric is None else _colour_by_metric(units, metric, lang)
    props = _unit_props(units, metric, colouring, lang, popups=not reuse_shared)
    data = _unit_features(units, props, reuse_shared, simplify_tolerance_m)
    config = {
        "share": share,
        "pane": "pp-units",
        "z": 405,
        "style": _UNIT_STYLE,
        "hover": {"weight": 2.5, "color": "#111111"},
    }
    default = colouring.name if overlay or metric is None else metric_label(metric, lang)  # a radio: the metric alone
    group = folium.FeatureGroup(name=esc(name or default), show=show, overlay=overlay)
    GeoLayer(data, config).add_to(group)
    Legend(colouring.legend, "bottomright", "pp-units-legend", follow=True).add_to(group)
    return group
