"""Waiting layer: each service point coloured by the P90 wait at the morning peak.

The figures come from :func:`pointplan.staffing.staffing_plan` and the colours from
:func:`pointplan.staffing.wait_colour` (green ≤ 5 min, amber ≤ 15, red > 15, dark red when
overloaded at the peak). :func:`wait_points_layer` draws what :func:`wait_layer` draws, as one
pointplan layer, so the page stays self-contained (folium's own popups need jQuery);
:func:`wait_layer` uses folium's own markers.
"""

from __future__ import annotations

import html
import math
from typing import Any

import folium
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan.maps._html import esc, esc_many, features, table_html_many
from pointplan.maps.elements import GeoLayer, Legend
from pointplan.maps.labels import fmt_number, labels
from pointplan.staffing import StaffingPlan, staffing_plan, wait_colour
from pointplan.staffing.outputs import run_plan

__all__ = ["wait_layer", "wait_points_layer"]

_WORDS = {
    "vi": {
        "name": "Thời gian chờ lúc cao điểm (P90)",
        "p90": "P90 chờ lúc cao điểm",
        "mean": "Chờ trung bình lúc cao điểm",
        "counters": "Quầy hiện có → đề xuất",
        "over": "quá tải lúc cao điểm",
        "legend": ("≤ 5 phút", "5–15 phút", "> 15 phút", "quá tải lúc cao điểm"),
    },
    "en": {
        "name": "Waiting at the peak (P90)",
        "p90": "P90 wait at the peak",
        "mean": "Mean wait at the peak",
        "counters": "Counters now → recommended",
        "over": "overloaded at the peak",
        "legend": ("≤ 5 min", "5–15 min", "> 15 min", "overloaded at the peak"),
    },
}


def _minutes(value: object, lang: str) -> str:
    return "" if pd.isna(value) else fmt_number(float(value), 1, lang) + " " + labels(lang)["unit.minutes"]  # type: ignore[arg-type]


def _wait_props(table: pd.DataFrame, words: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Tooltip, popup and circle style of each point of the staffing table (built column by column)."""
    over = (table["queue_status"] == "overloaded at the peak").to_numpy(dtype=bool)
    p90 = pd.to_numeric(table["wait_p90_min_peak"], errors="coerce").to_numpy(dtype=float)
    colours = [wait_colour(None if math.isnan(v) else v, o) for v, o in zip(p90.tolist(), over.tolist(), strict=True)]
    p90_txt = np.where(over, words["over"], np.asarray(_minutes_many(table["wait_p90_min_peak"], lang), dtype=object))
    mean_txt = np.where(over, "", np.asarray(_minutes_many(table["wait_mean_min_peak"], lang), dtype=object))
    counters = (
        table["counters_assumed"].astype(int).astype(str)
        + " → "
        + table["counters_recommended"].astype(int).astype(str)
    )
    names = np.asarray(esc_many(table["name"]), dtype=object)
    rows = [
        (esc(words["p90"]), esc_many(p90_txt)),
        (esc(words["mean"]), esc_many(mean_txt)),
        (esc(words["counters"]), esc_many(counters)),
    ]
    popups = table_html_many(rows, names.tolist())
    tips = (names + ": " + np.asarray(esc_many(p90_txt), dtype=object)).tolist()
    visits = pd.to_numeric(table["visits_per_day"], errors="coerce").to_numpy(dtype=float)
    radius = np.where(np.isnan(visits), 4.0, 4.0 + np.minimum(visits / 10.0, 8.0))
    return [
        {"_id": str(pid), "_t": t, "_p": p, "_s": {"fillColor": c, "radius": round(r, 1)}}
        for pid, t, p, c, r in zip(table.index, tips, popups, colours, radius.tolist(), strict=True)
    ]


def _minutes_many(values: pd.Series, lang: str) -> list[str]:
    """:func:`_minutes` of each value (``""`` where missing)."""
    return [_minutes(v, lang) for v in values.tolist()]


def wait_points_layer(
    assessment: Any, plan: Any = None, *, lang: str = "vi", show: bool = False
) -> folium.FeatureGroup:
    """Draw the service points coloured by their P90 wait at the peak, with a popup each.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment` (its points give the positions).
    plan
        A :class:`pointplan.staffing.StaffingPlan` (default: planned from the assessment
        with the defaults; a point with visits but no counter is overloaded).
    lang
        ``"vi"`` (default) or ``"en"``.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        The points (its first child's ``data`` is the embedded FeatureCollection; each
        feature's ``_s.fillColor`` is the wait colour) and a legend that follows the layer.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> g = wait_points_layer(demo_assessment(), lang="en")
    >>> g.layer_name
    'Waiting at the peak (P90)'
    >>> feats = g._children[next(iter(g._children))].data["features"]
    >>> [f["properties"]["_s"]["fillColor"] for f in feats]  # 8.64 an hour at the peak > 2 counters x 4
    ['#67000d']
    """
    labels(lang)
    words = _WORDS[lang]
    p = plan if plan is not None else run_plan(assessment)
    table = p.points.reindex(assessment.points.index)
    geo = assessment.points.geometry.to_crs(settings.geographic_crs)
    props = _wait_props(table, words, lang)
    config = {
        "pane": "pp-waits",
        "z": 445,
        "circles": True,
        "style": {"color": "#222222", "weight": 1, "opacity": 0.9, "fillOpacity": 0.85},
    }
    group = folium.FeatureGroup(name=esc(words["name"]), show=show)
    GeoLayer(features(geo.values, props), config).add_to(group)
    swatches = zip(("#1a9850", "#fdae61", "#d73027", "#67000d"), words["legend"], strict=True)
    legend = f'<div class="pp-legend-title">{esc(words["name"])}</div>' + "".join(
        f'<div class="pp-row"><span class="pp-swatch" style="background:{c};border-radius:50%"></span>{esc(t)}</div>'
        for c, t in swatches
    )
    Legend(legend, "bottomright", "pp-waits-legend", follow=True).add_to(group)
    return group


def wait_layer(assessment: Any, plan: StaffingPlan | None = None, *, lang: str = "vi", show: bool = False) -> Any:
    """Build a folium layer: each point coloured by its P90 wait at the peak, with a popup.

    Folium's own markers (the maps of the notebooks); :func:`wait_points_layer` draws the
    same on pointplan's self-contained maps. Also importable as
    ``pointplan.staffing.wait_layer`` (its old home).

    Parameters
    ----------
    assessment
        The assessment (its points give the positions, EPSG:4326).
    plan
        The staffing plan (default :func:`~pointplan.staffing.staffing_plan` of the assessment).
    lang
        ``"vi"`` or ``"en"``.
    show
        Whether the layer is switched on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        Add it to a map with ``layer.add_to(m)`` before ``folium.LayerControl()``.

    Examples
    --------
    >>> import folium
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.maps.waits import wait_layer
    >>> layer = wait_layer(tiny_assessment(), lang="en")
    >>> isinstance(layer, folium.FeatureGroup), len(layer._children)  # one marker: P1
    (True, 1)
    >>> _ = layer.add_to(folium.Map(location=[21.03, 105.85]))
    """
    p = plan or staffing_plan(assessment)
    vi = lang == "vi"
    name = "Thời gian chờ lúc cao điểm (P90)" if vi else "Waiting at the peak (P90)"
    fg = folium.FeatureGroup(name=name, show=show)
    geo = assessment.points.geometry.to_crs("EPSG:4326")
    for pid, r in p.points.iterrows():
        over = r["queue_status"] == "overloaded at the peak"
        p90 = None if pd.isna(r["wait_p90_min_peak"]) else float(r["wait_p90_min_peak"])
        wait_txt = ("quá tải lúc cao điểm" if vi else "overloaded at the peak") if over else f"{p90:.1f} min"
        label = f"<b>{html.escape(str(r['name']))}</b><br>" + (
            f"P90 chờ: {wait_txt}<br>Quầy: {int(r['counters_assumed'])} → đề xuất {int(r['counters_recommended'])}"
            if vi
            else f"P90 wait: {wait_txt}<br>Counters: {int(r['counters_assumed'])} → recommended "
            f"{int(r['counters_recommended'])}"
        )
        pt = geo.loc[pid]
        folium.CircleMarker(
            location=(pt.y, pt.x),
            radius=4 + min(float(r["visits_per_day"]) / 10.0, 8.0),
            color=wait_colour(p90, over),
            fill=True,
            fill_opacity=0.85,
            weight=1,
            popup=folium.Popup(label, max_width=280),
            tooltip=f"{r['name']}: {wait_txt}",
        ).add_to(fg)
    return fg
