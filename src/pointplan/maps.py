"""Interactive maps (folium/Leaflet) of units, service points, access and proposals.

Every map is built from pointplan's own small Leaflet layers, so a saved map needs only
Leaflet itself: no jQuery, Bootstrap or Font Awesome, and markers are inline SVG. With
``save_map(..., offline=True)`` Leaflet's code and styles are embedded from the installed
``xstatic-leaflet`` package and the file works with no internet at all (tiles, if any,
simply fail to load and leave a plain background).

All text that comes from data (names, addresses, notes, sources) is HTML-escaped before it
reaches a tooltip, popup or legend, and the embedded data is JSON-encoded so that it cannot
end the ``<script>`` it sits in: a point named ``<script>alert(1)</script>`` shows as text.

Unit polygons are simplified as a coverage (``shapely.coverage_simplify``) in the projected
CRS, so neighbouring units keep sharing their borders (no gaps, no overlaps) while the full
Hanoi map stays well under 3 MB of HTML.

Examples
--------
>>> import pointplan.maps as pm                                     # doctest: +SKIP
>>> from pointplan.data import load_units
>>> from pointplan.points import load_points
>>> m = pm.units_map(load_units(), load_points())                   # doctest: +SKIP
>>> pm.save_map(m, "out/hanoi_units.html", offline=True)            # doctest: +SKIP

"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import branca.colormap as bcm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from pointplan import settings
from pointplan._errors import (
    CRSError,
    GeometryError,
    InputError,
    MissingColumnError,
    OfflineError,
    OutputError,
)
from pointplan.points import STAND_IN_PRECISIONS

__all__ = [
    "ATTRIBUTION",
    "LABELS",
    "METRICS",
    "assessment_map",
    "points_layer",
    "proposals_layer",
    "save_map",
    "service_areas_layer",
    "simplify_coverage",
    "uncovered_layer",
    "units_layer",
    "units_map",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Data attribution shown on every map (Vietnamese; the English map uses its translation).
ATTRIBUTION: str = (
    "Ranh giới: bando/sapnhap.bando.com.vn qua thanglequoc/vietnamese-provinces-database (MIT)"
    " · Dân số: WorldPop 2020 (CC-BY-4.0) · Nền: © OpenStreetMap contributors"
)

_ATTRIBUTION_EN = (
    "Boundaries: bando/sapnhap.bando.com.vn via thanglequoc/vietnamese-provinces-database (MIT)"
    " · Population: WorldPop 2020 (CC-BY-4.0) · Base map: © OpenStreetMap contributors"
)

#: Label tables for legends, tooltips, popups and layer names: ``LABELS[lang][key]``.
#: Vietnamese (``"vi"``) is the default language; ``"en"`` has the same keys.
LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "attribution": ATTRIBUTION,
        "title.assessment": "Tiếp cận điểm phục vụ hành chính công — Hà Nội",
        "title.units": "Đơn vị hành chính cấp xã Hà Nội (từ 1/7/2025)",
        "layer.units": "Đơn vị hành chính",
        "layer.service_areas": "Vùng tới được trong {minutes} phút",
        "layer.uncovered": "Dân cư ngoài chuẩn {minutes} phút",
        "layer.service_areas_km": "Vùng trong chuẩn ({minutes} phút hoặc {km} km)",
        "layer.uncovered_km": "Dân cư ngoài chuẩn ({minutes} phút hoặc {km} km)",
        "layer.proposals": "Điểm đề xuất (xếp hạng)",
        "kind.branch": "Chi nhánh",
        "kind.unit_point": "Điểm phục vụ cấp xã",
        "kind.community": "Điểm phục vụ cộng đồng",
        "kind.mobile": "Điểm lưu động",
        "kind.kiosk": "Ki-ốt",
        "kind.head_office": "Trụ sở Trung tâm",
        "kind.proposed": "Điểm đề xuất",
        "kind.other": "Loại khác",
        "unit_kind.phuong": "Phường",
        "unit_kind.xa": "Xã",
        "precision.surveyed": "khảo sát thực địa",
        "precision.geocoded": "mã hoá từ địa chỉ",
        "precision.old_unit_reference": "điểm tham chiếu của phường/xã cũ (trước 2025)",
        "precision.unit_representative_point": "một điểm bên trong đơn vị",
        "standin.note": (
            "Vị trí thay thế: toạ độ thật chưa có, điểm được đặt tại {what}. Vị trí thật có thể cách đó vài km."
        ),
        "standin.short": "vị trí thay thế",
        "legend.standin": "Viền rỗng: vị trí thay thế (chưa có toạ độ thật)",
        "legend.overloaded": "Viền đỏ: quá tải",
        "legend.points": "Điểm phục vụ",
        "legend.no_data": "Không có dữ liệu",
        "field.code": "Mã",
        "field.name": "Tên",
        "field.kind": "Loại",
        "field.population": "Dân số",
        "field.address": "Địa chỉ",
        "field.unit": "Đơn vị",
        "field.counters": "Số quầy",
        "field.precision": "Vị trí",
        "field.source": "Nguồn",
        "field.notes": "Ghi chú",
        "field.visits_per_day": "Lượt/ngày",
        "field.capacity_per_day": "Năng lực (lượt/ngày)",
        "field.utilisation": "Mức sử dụng",
        "field.load_status": "Tình trạng tải",
        "field.population_served": "Dân số phục vụ",
        "field.rank": "Hạng",
        "field.candidate_id": "Mã ứng viên",
        "field.gain_people_covered": "Số dân được phục vụ thêm",
        "field.gain_person_minutes_saved": "Tiết kiệm (người·phút)",
        "field.serves_units": "Phục vụ các đơn vị",
        "field.minutes": "Thời gian tới điểm gần nhất",
        "field.nearest_point": "Điểm gần nhất",
        "load.overloaded": "quá tải",
        "load.ok": "bình thường",
        "load.idle": "ít việc",
        "unit.people": "người",
        "unit.minutes": "phút",
        "unit.km2": "km²",
        "unreachable": "không tới được",
        "proposal": "Đề xuất hạng {rank}",
        "summary.standard": "Chuẩn: {minutes} phút ({mode})",
        "summary.standard_km": "Chuẩn: {minutes} phút ({mode}) hoặc {km} km",
        "summary.method": "Thời gian đi: {method}",
        "summary.coverage": "Dân số trong chuẩn: {share}",
        "summary.standins": "{n}/{total} điểm ở vị trí thay thế",
        "summary.units": "{n} đơn vị ({phuong} phường, {xa} xã), dân số {population}",
        "mode.walk": "đi bộ",
        "mode.bike": "xe đạp",
        "mode.motorbike": "xe máy",
        "mode.car": "ô tô",
        "method.crow_flies_circuity": "ước lượng theo đường chim bay × hệ số đường vòng",
        "method.network": "theo mạng đường (OpenStreetMap)",
        "metric.coverage_share": "Tỷ lệ dân số trong chuẩn",
        "metric.mean_minutes": "Thời gian đi trung bình (phút)",
        "metric.median_minutes": "Thời gian đi trung vị (phút)",
        "metric.p90_minutes": "Thời gian đi bách phân vị 90 (phút)",
        "metric.max_minutes": "Thời gian đi lớn nhất (phút)",
        "metric.share_beyond_30": "Tỷ lệ dân số đi quá 30 phút",
        "metric.visits_per_day": "Lượt giao dịch/ngày",
        "metric.visits_per_counter": "Lượt/quầy/ngày",
        "metric.e2sfca": "Quầy trên 10.000 dân (E2SFCA)",
        "metric.gini_minutes": "Hệ số Gini thời gian đi",
        "metric.own_unit_mean_minutes": "Thời gian tới điểm của đơn vị mình (phút)",
        "metric.share_beyond_15": "Tỷ lệ dân số đi quá 15 phút",
        "metric.share_beyond_45": "Tỷ lệ dân số đi quá 45 phút",
        "metric.two_sfca": "Quầy trên 10.000 dân (2SFCA)",
        "metric.n_points": "Số điểm phục vụ",
        "metric.population": "Dân số",
        "metric.area_km2": "Diện tích (km²)",
        "metric.density_per_km2": "Mật độ dân số (người/km²)",
        "metric.kind": "Loại đơn vị",
    },
    "en": {
        "attribution": _ATTRIBUTION_EN,
        "title.assessment": "Access to public administrative service points — Hanoi",
        "title.units": "Hanoi's commune-level units (since 1 July 2025)",
        "layer.units": "Units",
        "layer.service_areas": "Reachable within {minutes} min",
        "layer.uncovered": "People beyond the {minutes}-min standard",
        "layer.service_areas_km": "Within the standard ({minutes} min or {km} km)",
        "layer.uncovered_km": "People beyond the standard ({minutes} min or {km} km)",
        "layer.proposals": "Proposed points (ranked)",
        "kind.branch": "Branch",
        "kind.unit_point": "Unit service point",
        "kind.community": "Community point",
        "kind.mobile": "Mobile point",
        "kind.kiosk": "Kiosk",
        "kind.head_office": "Centre head office",
        "kind.proposed": "Proposed point",
        "kind.other": "Other",
        "unit_kind.phuong": "Ward (phường)",
        "unit_kind.xa": "Commune (xã)",
        "precision.surveyed": "surveyed",
        "precision.geocoded": "geocoded from the address",
        "precision.old_unit_reference": "reference point of the pre-2025 ward",
        "precision.unit_representative_point": "a point inside the unit",
        "standin.note": (
            "Stand-in location: the real coordinates are not known; the point is placed at "
            "{what}. The real site may be several km away."
        ),
        "standin.short": "stand-in location",
        "legend.standin": "Hollow: stand-in location (no real coordinates yet)",
        "legend.overloaded": "Red ring: overloaded",
        "legend.points": "Service points",
        "legend.no_data": "No data",
        "field.code": "Code",
        "field.name": "Name",
        "field.kind": "Kind",
        "field.population": "Population",
        "field.address": "Address",
        "field.unit": "Unit",
        "field.counters": "Counters",
        "field.precision": "Location",
        "field.source": "Source",
        "field.notes": "Notes",
        "field.visits_per_day": "Visits/day",
        "field.capacity_per_day": "Capacity (visits/day)",
        "field.utilisation": "Utilisation",
        "field.load_status": "Load",
        "field.population_served": "Population served",
        "field.rank": "Rank",
        "field.candidate_id": "Candidate",
        "field.gain_people_covered": "Extra people covered",
        "field.gain_person_minutes_saved": "Person-minutes saved",
        "field.serves_units": "Serves units",
        "field.minutes": "Minutes to the nearest point",
        "field.nearest_point": "Nearest point",
        "load.overloaded": "overloaded",
        "load.ok": "ok",
        "load.idle": "idle",
        "unit.people": "people",
        "unit.minutes": "min",
        "unit.km2": "km²",
        "unreachable": "unreachable",
        "proposal": "Proposal ranked {rank}",
        "summary.standard": "Standard: {minutes} min ({mode})",
        "summary.standard_km": "Standard: {minutes} min ({mode}) or {km} km",
        "summary.method": "Travel times: {method}",
        "summary.coverage": "Population within the standard: {share}",
        "summary.standins": "{n}/{total} points at stand-in locations",
        "summary.units": "{n} units ({phuong} wards, {xa} communes), population {population}",
        "mode.walk": "walking",
        "mode.bike": "bicycle",
        "mode.motorbike": "motorbike",
        "mode.car": "car",
        "method.crow_flies_circuity": "estimated from straight-line distance × circuity",
        "method.network": "on the road network (OpenStreetMap)",
        "metric.coverage_share": "Population share within the standard",
        "metric.mean_minutes": "Mean travel time (min)",
        "metric.median_minutes": "Median travel time (min)",
        "metric.p90_minutes": "90th percentile travel time (min)",
        "metric.max_minutes": "Longest travel time (min)",
        "metric.share_beyond_30": "Population share beyond 30 min",
        "metric.visits_per_day": "Visits per day",
        "metric.visits_per_counter": "Visits per counter per day",
        "metric.e2sfca": "Counters per 10,000 people (E2SFCA)",
        "metric.gini_minutes": "Gini coefficient of travel times",
        "metric.own_unit_mean_minutes": "Mean time to the own unit's point (min)",
        "metric.share_beyond_15": "Population share beyond 15 min",
        "metric.share_beyond_45": "Population share beyond 45 min",
        "metric.two_sfca": "Counters per 10,000 people (2SFCA)",
        "metric.n_points": "Service points",
        "metric.population": "Population",
        "metric.area_km2": "Area (km²)",
        "metric.density_per_km2": "Population density (people/km²)",
        "metric.kind": "Unit kind",
    },
}


@dataclass(frozen=True)
class _Metric:
    """How a unit metric is formatted and coloured."""

    fmt: str  # "share", "minutes", "count", "number", "ratio"
    better: str  # "high", "low" or "none" (sequential palette)
    fixed_range: tuple[float, float] | None = None


#: Unit metrics pointplan knows how to label, format and colour. Any other numeric
#: column of the units frame can be mapped too (labelled with its column name).
METRICS: dict[str, _Metric] = {
    "coverage_share": _Metric("share", "high", (0.0, 1.0)),
    "mean_minutes": _Metric("minutes", "low"),
    "median_minutes": _Metric("minutes", "low"),
    "p90_minutes": _Metric("minutes", "low"),
    "max_minutes": _Metric("minutes", "low"),
    "share_beyond_30": _Metric("share", "low", (0.0, 1.0)),
    "visits_per_day": _Metric("number", "none"),
    "visits_per_counter": _Metric("number", "low"),
    "e2sfca": _Metric("ratio", "high"),
    "gini_minutes": _Metric("ratio", "low"),
    "own_unit_mean_minutes": _Metric("minutes", "low"),
    "share_beyond_15": _Metric("share", "low", (0.0, 1.0)),
    "share_beyond_45": _Metric("share", "low", (0.0, 1.0)),
    "two_sfca": _Metric("ratio", "high"),
    "n_points": _Metric("count", "high"),
    "population": _Metric("count", "none"),
    "area_km2": _Metric("number", "none"),
    "density_per_km2": _Metric("count", "none"),
}

_STANDIN_PRECISIONS = STAND_IN_PRECISIONS
_KIND_ORDER = ("head_office", "branch", "unit_point", "community", "mobile", "kiosk", "proposed")
_NO_DATA_COLOUR = "#bdbdbd"
# ColorBrewer palettes (colour-blind safe): diverging red-yellow-blue, sequential YlGnBu.
_RDYLBU = (
    "#a50026", "#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf",
    "#e0f3f8", "#abd9e9", "#74add1", "#4575b4", "#313695",
)  # fmt: skip
_YLGNBU = (
    "#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4",
    "#1d91c0", "#225ea8", "#253494", "#081d58",
)  # fmt: skip
_UNIT_KIND_COLOURS = {"phuong": "#fdd49e", "xa": "#c7e9c0"}
_OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_COORD_DECIMALS = 5  # ~1 m at Hanoi's latitude
_SIMPLIFIED: dict[tuple[str, str, float], np.ndarray] = {}

# Marker shapes (inline SVG in a 20x20 box): colour, SVG element (without fill/stroke), px.
_SHAPES: dict[str, tuple[str, str, int]] = {
    "unit_point": ("#252525", '<circle cx="10" cy="10" r="6.5"', 15),
    "branch": ("#6a3d9a", '<rect x="3.5" y="3.5" width="13" height="13"', 18),
    "community": ("#1a7837", '<path d="M10 2.5 L18 17 L2 17 Z"', 19),
    "mobile": ("#e66101", '<path d="M10 1.5 L18.5 10 L10 18.5 L1.5 10 Z"', 19),
    "kiosk": ("#c51b7d", '<path d="M10 2 L18 8 L15 18 L5 18 L2 8 Z"', 18),
    "head_office": (
        "#b2182b",
        '<path d="M10 1.5 L12.4 7.2 L18.5 7.6 L13.8 11.6 L15.3 17.6 L10 14.3 L4.7 17.6 L6.2 11.6 L1.5 7.6 L7.6 7.2 Z"',
        22,
    ),
    "other": ("#4d4d4d", '<path d="M4 4 L16 16 M16 4 L4 16" stroke-linecap="round"', 15),
}
_PROPOSED_COLOUR = "#ffd700"

_CSS = """
.leaflet-container { background: #f3f1ec; }
.pp-marker { background: none; border: none; }
.pp-marker svg { display: block; overflow: visible; }
.pp-overloaded svg { filter: drop-shadow(0 0 1.5px #d7191c) drop-shadow(0 0 1.5px #d7191c); }
.pp-legend { background: rgba(255,255,255,0.93); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 "DejaVu Sans", Arial, sans-serif;
  color: #222; max-width: 300px; }
.pp-legend-title { font-weight: bold; margin-bottom: 4px; }
.pp-ramp { height: 11px; width: 220px; border: 1px solid #999; margin: 0 18px; }
.pp-ticks { position: relative; height: 15px; width: 220px; margin: 0 18px 2px 18px; }
.leaflet-control-attribution { font-size: 11px; line-height: 1.4; }
.leaflet-control-layers { font-size: 13px; }
.pp-ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.pp-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.pp-row svg { flex: none; }
.pp-swatch { display: inline-block; width: 16px; height: 11px; border: 1px solid #888; }
.pp-title { font-size: 13px; max-width: 340px; }
.pp-title b { font-size: 14px; }
.pp-tip td, .pp-pop td { padding: 0 4px 0 0; vertical-align: top; }
.pp-pop { font: 12px/1.35 "DejaVu Sans", Arial, sans-serif; }
.pp-pop .pp-note { color: #a50026; margin-top: 4px; }
"""

_JS = """
var pointplan = window.pointplan || (function () {
  function pane(map, name, z) {
    if (!name) { return; }
    if (!map.getPane(name)) { map.createPane(name); map.getPane(name).style.zIndex = z; }
  }
  var shared = {};
  function layer(map, group, data, cfg) {
    pane(map, cfg.pane, cfg.z);
    if (cfg.share) {
      // Layers of the same units share one copy of the shapes and popups in the page.
      var feats = data.features || [];
      var base = shared[cfg.share];
      if (base) {
        for (var i = 0; i < feats.length && i < base.length; i++) {
          if (!feats[i].geometry) { feats[i].geometry = base[i].geometry; }
          if (feats[i].properties && feats[i].properties._p === undefined) {
            feats[i].properties._p = base[i].properties._p;
          }
        }
      } else { shared[cfg.share] = feats; }
    }
    var gj = L.geoJSON(data, {
      pane: cfg.pane || 'overlayPane',
      style: function (f) {
        var s = Object.assign({}, cfg.style || {});
        if (f && f.properties && f.properties._s) { Object.assign(s, f.properties._s); }
        return s;
      },
      pointToLayer: function (f, ll) {
        var mk = L.marker(ll, {icon: L.divIcon(cfg.icons[f.properties._i]), riseOnHover: true});
        mk.once('add', function () {
          var el = mk.getElement();
          if (el && f.properties._id != null) { el.setAttribute('data-pid', f.properties._id); }
        });
        return mk;
      },
      onEachFeature: function (f, l) {
        var p = f.properties || {};
        var sticky = f.geometry.type !== 'Point';
        if (p._t) { l.bindTooltip(p._t, {sticky: sticky, className: 'pp-tip'}); }
        if (p._p) { l.bindPopup(p._p, {maxWidth: 360, className: 'pp-pop'}); }
        if (cfg.hover && l.setStyle) {
          l.on('mouseover', function () { l.setStyle(cfg.hover); l.bringToFront(); });
          l.on('mouseout', function () { gj.resetStyle(l); });
        }
      }
    });
    gj.addTo(group);
    return gj;
  }
  function legend(map, html, position, cls, group) {
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      var d = L.DomUtil.create('div', 'pp-legend ' + (cls || ''));
      d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    if (!group) { ctl.addTo(map); } else {
      // The group is put on the map after its children's scripts: look once it is.
      setTimeout(function () { if (map.hasLayer(group) && !ctl._map) { ctl.addTo(map); } }, 0);
    }
    if (group) {
      map.on('overlayadd', function (e) { if (e.layer === group) { ctl.addTo(map); } });
      map.on('overlayremove', function (e) { if (e.layer === group) { ctl.remove(); } });
    }
    return ctl;
  }
  function attribution(map, text) {
    if (map.attributionControl) { map.attributionControl.addAttribution(text); }
  }
  return {layer: layer, legend: legend, attribution: attribution};
})();
window.pointplan = pointplan;
"""


# ----------------------------------------------------------------------------- helpers


def _esc(value: object) -> str:
    """Escape data text for HTML, and for JavaScript template literals as well."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _script_json(obj: object) -> str:
    """JSON for inclusion inside ``<script>``: it can never close the script element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def _labels(lang: str) -> dict[str, str]:
    if lang not in LABELS:
        msg = f"Unknown language {lang!r}: use one of {sorted(LABELS)} ('vi' is the default)."
        raise InputError(msg)
    return LABELS[lang]


def _fmt_number(value: float, decimals: int, lang: str) -> str:
    text = f"{value:,.{decimals}f}"
    if lang == "vi":  # 1.234.567,8
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _fmt_value(value: object, fmt: str, lang: str) -> str:
    """Format a number for display (``fmt`` as in :class:`_Metric`)."""
    if _is_missing(value):
        return LABELS[lang]["legend.no_data"]
    x = float(value)  # type: ignore[arg-type]
    if math.isinf(x):
        return LABELS[lang]["unreachable"]
    if fmt == "share":
        return _fmt_number(100.0 * x, 1, lang) + "%"
    if fmt == "minutes":
        return _fmt_number(x, 1, lang) + " " + LABELS[lang]["unit.minutes"]
    if fmt == "count":
        return _fmt_number(round(x), 0, lang)
    if fmt == "ratio":
        return _fmt_number(x, 2, lang)
    return _fmt_number(x, 1, lang)


def _metric_label(metric: str, lang: str) -> str:
    return LABELS[lang].get(f"metric.{metric}", metric)


def _table_html(rows: Sequence[tuple[str, str]], title: str | None = None) -> str:
    """Rows of (label, value) as an HTML table; both parts must already be escaped."""
    head = f"<b>{title}</b>" if title else ""
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows if v != "")
    return f"{head}<table>{body}</table>" if body else head


def _round_coords(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, _COORD_DECIMALS))


def _features(geoms: np.ndarray, props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection from EPSG:4326 geometries and property dicts."""
    texts = shapely.to_geojson(_round_coords(np.asarray(geoms, dtype=object)))
    feats = [{"type": "Feature", "geometry": json.loads(t), "properties": p} for t, p in zip(texts, props, strict=True)]
    return {"type": "FeatureCollection", "features": feats}


def _check_frame(
    gdf: object, what: str, *, types: tuple[str, ...], columns: Sequence[str] = (), nonempty: bool = False
) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{what} must be a GeoDataFrame, got {type(gdf).__name__}."
        raise InputError(msg)
    if nonempty and len(gdf) == 0:
        msg = f"{what} has no rows: there is nothing to draw."
        raise InputError(msg)
    if gdf.crs is None:
        msg = f"{what} has no CRS: set it first, e.g. gdf.set_crs('EPSG:4326')."
        raise CRSError(msg)
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        msg = f"{what} lacks the column(s) {missing}; it has {[str(c) for c in gdf.columns]}."
        raise MissingColumnError(msg)
    geom = gdf.geometry
    bad = geom.isna() | geom.is_empty
    if bad.any():
        msg = f"{what}: rows {list(gdf.index[bad][:8])} have no geometry. Drop them or give them a location first."
        raise GeometryError(msg)
    wrong = ~geom.geom_type.isin(types)
    if wrong.any():
        msg = (
            f"{what} must hold {'/'.join(types)} geometries; rows {list(gdf.index[wrong][:8])} "
            f"are {sorted(set(geom.geom_type[wrong]))}."
        )
        raise GeometryError(msg)
    return gdf


def _as_str(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


# ------------------------------------------------------------------- folium elements


def _find_map(element: Element) -> folium.Map:
    node: Element | None = element
    while node is not None:
        if isinstance(node, folium.Map):
            return node
        node = getattr(node, "_parent", None)
    msg = "Add the pointplan layer to a folium.Map before rendering or saving it."
    raise InputError(msg)


class _Assets(MacroElement):
    """Adds pointplan's CSS and JS helpers to the page header (once per page)."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = "Add the pointplan layer to a folium.Map before rendering or saving it."
            raise InputError(msg)
        figure.header.add_child(Element(f"<style>{_CSS}</style>\n<script>{_JS}</script>"), name="pointplan_assets")
        super().render(**kwargs)


class _GeoLayer(_Assets):
    """A GeoJSON layer drawn by pointplan's helper, added to its parent FeatureGroup."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
pointplan.layer({{ this.map_name }}, {{ this._parent.get_name() }},
  {{ this.data_json }}, {{ this.config_json }});
{% endmacro %}
"""
    )

    def __init__(self, data: dict[str, Any], config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "PointplanLayer"
        #: The FeatureCollection (EPSG:4326) as embedded in the page; for inspection.
        self.data = data
        self.config = config
        self.map_name = ""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.map_name = _find_map(self).get_name()
        self.data_json = _script_json(self.data)
        self.config_json = _script_json(self.config)
        super().render(**kwargs)


class _Legend(_Assets):
    """A Leaflet control holding ready-made (escaped) HTML."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
pointplan.legend({{ this.map_name }}, {{ this.html_json }}, {{ this.position_json }},
  {{ this.cls_json }}, {{ this.group_name }});
{% endmacro %}
"""
    )

    def __init__(self, html_text: str, position: str, cls: str = "", follow: bool = False) -> None:
        super().__init__()
        self._name = "PointplanLegend"
        #: The legend's HTML (escaped where it carries data); for inspection.
        self.html = html_text
        self.position = position
        self.cls = cls
        self.follow = follow
        self.map_name = ""
        self.group_name = "null"

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.map_name = _find_map(self).get_name()
        parent = self._parent
        follow = self.follow and isinstance(parent, folium.FeatureGroup)
        self.group_name = parent.get_name() if follow and parent is not None else "null"
        self.html_json = _script_json(self.html)
        self.position_json = _script_json(self.position)
        self.cls_json = _script_json(self.cls)
        super().render(**kwargs)


class _Attribution(_Assets):
    _template = Template(
        """
{% macro script(this, kwargs) %}
pointplan.attribution({{ this._parent.get_name() }}, {{ this.text_json }});
{% endmacro %}
"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "PointplanAttribution"
        self.text = text
        self.text_json = _script_json(_esc(text))


# ----------------------------------------------------------------------- simplification


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
    if key in _SIMPLIFIED:
        return gpd.GeoSeries(_SIMPLIFIED[key], index=units.index, crs=proj.crs)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        logger.info("repairing %d invalid unit geometries before simplifying", invalid.sum())
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    if tolerance_m == 0:
        out = geoms
    elif hasattr(shapely, "coverage_simplify"):
        out = shapely.coverage_simplify(geoms, tolerance_m, simplify_boundary=True)
    else:  # pragma: no cover - shapely < 2.1
        logger.warning(
            "shapely.coverage_simplify needs shapely >= 2.1; simplifying units one by one "
            "(neighbours may show slivers). Upgrade shapely for seamless borders."
        )
        out = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    if len(_SIMPLIFIED) >= 4:  # a small cache: maps of several metrics reuse the shapes
        _SIMPLIFIED.pop(next(iter(_SIMPLIFIED)))
    _SIMPLIFIED[key] = out
    return gpd.GeoSeries(out, index=units.index, crs=proj.crs)


# ----------------------------------------------------------------------------- colours


def _colormap(metric: str, values: np.ndarray) -> bcm.LinearColormap:
    spec = METRICS.get(metric, _Metric("number", "none"))
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
        colours = list(_YLGNBU)
    else:
        colours = list(_RDYLBU)  # red (bad) ... blue (good)
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
    return _fmt_number(value, decimals, lang) + ("%" if fmt == "share" else "")


def _ramp_legend(title: str, cmap: bcm.LinearColormap, fmt: str, lang: str, nodata: bool) -> str:
    stops = ", ".join(cmap.rgb_hex_str(cmap.vmin + (cmap.vmax - cmap.vmin) * i / 10) for i in range(11))
    ticks = []
    span = cmap.vmax - cmap.vmin
    for i in range(5):
        v = cmap.vmin + span * i / 4
        ticks.append(f'<span style="left:{i * 25}%">{_esc(_tick_text(v, span, fmt, lang))}</span>')
    parts = [
        f'<div class="pp-legend-title">{_esc(title)}</div>',
        f'<div class="pp-ramp" style="background:linear-gradient(to right, {stops})"></div>',
        f'<div class="pp-ticks">{"".join(ticks)}</div>',
    ]
    if nodata:
        parts.append(
            f'<div class="pp-row"><span class="pp-swatch" style="background:{_NO_DATA_COLOUR}">'
            f"</span>{_esc(LABELS[lang]['legend.no_data'])}</div>"
        )
    return "".join(parts)


# -------------------------------------------------------------------------------- units


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
        A key under which the page keeps one copy of the shapes and popups, so that
        several metric layers of the same units do not repeat them.
    reuse_shared
        Take shapes and popups from the layer added earlier with the same ``share`` key
        (same units, same order) instead of embedding them again.

    Returns
    -------
    folium.FeatureGroup
        The group holding the unit shapes and the legend (the legend follows the layer's
        visibility). Its first child's ``data`` attribute is the embedded FeatureCollection.

    Raises
    ------
    InputError, MissingColumnError, CRSError, GeometryError
        Unknown language, missing or non-numeric metric column, no CRS, bad geometries.

    """
    lab = _labels(lang)
    _check_frame(units, "units", types=("Polygon", "MultiPolygon"), nonempty=True)
    units = units.copy()
    if metric == "density_per_km2" and metric not in units.columns:
        _check_frame(units, "units", types=("Polygon", "MultiPolygon"), columns=("population", "area_km2"))
        units[metric] = units["population"] / units["area_km2"].where(units["area_km2"] > 0)
    if metric is not None:
        if metric not in units.columns:
            numeric = [str(c) for c in units.columns if pd.api.types.is_numeric_dtype(units[c])]
            msg = (
                f"units have no column {metric!r} to map. Numeric columns: {numeric}. "
                "Run pointplan.access.assess() first for access metrics."
            )
            raise MissingColumnError(msg)
        if not pd.api.types.is_numeric_dtype(units[metric]) or pd.api.types.is_bool_dtype(units[metric]):
            msg = f"units column {metric!r} must be numeric to colour a map by it."
            raise InputError(msg)

    geoms = None if reuse_shared else simplify_coverage(units, simplify_tolerance_m).to_crs(settings.geographic_crs)
    full = _as_str(units["full_name"]) if "full_name" in units else pd.Series("", units.index)
    short = _as_str(units["name"]) if "name" in units else pd.Series("", units.index)
    codes = pd.Series(units.index.astype(str), index=units.index)
    title_names = full.where(full != "", short).where(lambda s: s != "", codes)
    kinds = _as_str(units["kind"]) if "kind" in units else pd.Series("", units.index)
    kind_txt = kinds.map(lambda k: lab.get(f"unit_kind.{k}", k))
    pop_txt = (
        units["population"].map(lambda v: _fmt_value(v, "count", lang))
        if "population" in units
        else pd.Series("", units.index)
    )

    if metric is None:
        fills = kinds.map(lambda k: _UNIT_KIND_COLOURS.get(k, _NO_DATA_COLOUR))
        metric_txt = pd.Series("", units.index)
        present = [k for k in ("phuong", "xa") if (kinds == k).any()]
        legend_html = f'<div class="pp-legend-title">{_esc(lab["metric.kind"])}</div>' + "".join(
            f'<div class="pp-row"><span class="pp-swatch" style="background:'
            f'{_UNIT_KIND_COLOURS[k]}"></span>{_esc(lab[f"unit_kind.{k}"])} '
            f"({int((kinds == k).sum())})</div>"
            for k in present
        )
        layer_name = name or lab["layer.units"]
    else:
        values = pd.to_numeric(units[metric], errors="coerce").to_numpy(dtype=float)
        spec = METRICS.get(metric, _Metric("number", "none"))
        cmap = _colormap(metric, values)
        clipped = np.clip(values, cmap.vmin, cmap.vmax)
        fills = pd.Series(
            [cmap.rgb_hex_str(v) if math.isfinite(v) else _NO_DATA_COLOUR for v in clipped],
            index=units.index,
        )
        metric_txt = pd.Series([_fmt_value(v, spec.fmt, lang) for v in units[metric]], index=units.index)
        label = _metric_label(metric, lang)
        legend_html = _ramp_legend(label, cmap, spec.fmt, lang, bool(np.isnan(values).any()))
        layer_name = name or f"{lab['layer.units']}: {label}"

    # Popup: every known metric present in the frame.
    shown = [m for m in METRICS if m in units.columns and m not in ("area_km2",)]
    props = []
    for code in units.index:
        tip_rows = [
            (_esc(lab["field.kind"]), _esc(kind_txt[code])),
            (_esc(lab["field.population"]), _esc(pop_txt[code])),
        ]
        if metric is not None and metric != "population":
            tip_rows.append((_esc(_metric_label(metric, lang)), _esc(metric_txt[code])))
        pop_rows = [(_esc(lab["field.code"]), _esc(code))] + [
            (
                _esc(_metric_label(m, lang)),
                _esc(_fmt_value(units.at[code, m], METRICS[m].fmt, lang)),
            )
            for m in shown
        ]
        props.append(
            {
                "_id": str(code),
                "_t": _table_html(tip_rows, _esc(title_names[code])),
                "_p": _table_html(pop_rows, _esc(title_names[code])),
                "_s": {"fillColor": fills[code]},
            }
        )
    if reuse_shared:
        if share is None:
            msg = "reuse_shared=True needs the share key of an earlier units layer."
            raise InputError(msg)
        for p in props:
            p.pop("_p", None)
        data = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": None, "properties": p} for p in props],
        }
    else:
        assert geoms is not None
        data = _features(geoms.values, props)
    config = {
        "share": share,
        "pane": "pp-units",
        "z": 405,
        "style": {
            "color": "#555555",
            "weight": 0.8,
            "opacity": 0.9,
            "fillOpacity": 0.62,
            "className": "pp-unit",
        },
        "hover": {"weight": 2.5, "color": "#111111"},
    }
    group = folium.FeatureGroup(name=_esc(layer_name), show=show)
    _GeoLayer(data, config).add_to(group)
    _Legend(legend_html, "bottomright", "pp-units-legend", follow=True).add_to(group)
    return group


# ------------------------------------------------------------------------------- points


def _svg(kind: str, *, standin: bool, label: str = "") -> tuple[str, int]:
    """SVG markup and pixel size of a marker (no data text inside)."""
    if kind == "proposed":
        size = 24
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            'viewBox="0 0 24 24"><circle cx="12" cy="12" r="10.5" '
            f'fill="{_PROPOSED_COLOUR}" stroke="#222" stroke-width="1.8"/>'
            '<text x="12" y="16.2" text-anchor="middle" font-size="11.5" font-weight="bold" '
            f'font-family="DejaVu Sans, Arial, sans-serif" fill="#222">{label}</text></svg>'
        )
        return svg, size
    colour, shape, size = _SHAPES.get(kind, _SHAPES["other"])
    if standin:
        paint = f'fill="#ffffff" fill-opacity="0.55" stroke="{colour}" stroke-width="2.6"'
    else:
        paint = f'fill="{colour}" stroke="#ffffff" stroke-width="1.6"'
    if kind not in _SHAPES:
        paint = f'fill="none" stroke="{colour}" stroke-width="3"'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 20 20">{shape} {paint}/></svg>'
    )
    return svg, size


def _icon(kind: str, *, standin: bool, overloaded: bool = False, label: str = "") -> dict[str, Any]:
    svg, size = _svg(kind, standin=standin, label=label)
    cls = f"pp-marker pp-kind-{kind if kind in _SHAPES or kind == 'proposed' else 'other'}"
    if standin:
        cls += " pp-standin"
    if overloaded:
        cls += " pp-overloaded"
    half = size // 2
    return {
        "className": cls,
        "html": svg,
        "iconSize": [size, size],
        "iconAnchor": [half, half],
        "popupAnchor": [0, -half],
        "tooltipAnchor": [half, 0],
    }


def _as_list(value: object) -> list[str]:
    """Return a list of codes from a list/array or a comma/semicolon-separated string."""
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        return [str(v) for v in value if not _is_missing(v)]
    if _is_missing(value):
        return []
    return [s.strip() for s in re.split(r"[,;]", str(value)) if s.strip()]


def _unit_names(units: gpd.GeoDataFrame | None) -> dict[str, str]:
    if units is None or len(units) == 0:
        return {}
    col = "full_name" if "full_name" in units else ("name" if "name" in units else None)
    if col is None:
        return {}
    return dict(zip(units.index.astype(str), _as_str(units[col]), strict=True))


def _unit_text(code: object, names: Mapping[str, str]) -> str:
    if _is_missing(code) or str(code) == "":
        return ""
    code = str(code)
    return f"{names[code]} ({code})" if code in names else code


def _kind_key(kind: str) -> str:
    return kind if kind in _SHAPES or kind == "proposed" else "other"


def points_layer(
    points: gpd.GeoDataFrame,
    *,
    lang: str = "vi",
    units: gpd.GeoDataFrame | None = None,
    legend: bool = True,
) -> list[folium.FeatureGroup]:
    """Draw service points, one layer per kind, with distinct icons and a legend.

    Parameters
    ----------
    points
        Points with at least ``name`` and ``kind`` (see :data:`pointplan.points.POINT_KINDS`);
        ``address``, ``unit_code``, ``counters``, ``location_precision``, ``source`` and
        ``notes`` are shown when present, and so are the assessment's ``visits_per_day``,
        ``capacity_per_day``, ``utilisation``, ``load_status`` and ``population_served``.
    lang
        ``"vi"`` (default) or ``"en"``.
    units
        Units indexed by code, to show unit names next to codes.
    legend
        Add the marker legend (bottom left) to the first group.

    Returns
    -------
    list of folium.FeatureGroup
        One group per kind present, in a fixed order (head office, branches, unit points,
        community, mobile, kiosks, proposed, others). Markers are inline-SVG ``DivIcon`` s
        (no icon font or CDN); a stand-in location (``old_unit_reference``,
        ``unit_representative_point``) is drawn hollow and its popup says so; an
        ``overloaded`` point gets a red ring.

    Raises
    ------
    InputError, MissingColumnError, CRSError, GeometryError
        For an unusable points frame.

    """
    lab = _labels(lang)
    _check_frame(points, "points", types=("Point",), columns=("name", "kind"))
    pts = points.to_crs(settings.geographic_crs)
    names = _unit_names(units)
    kinds = _as_str(pts["kind"])
    precision = _as_str(pts["location_precision"]) if "location_precision" in pts else pd.Series("", index=pts.index)
    standin = precision.isin(_STANDIN_PRECISIONS).to_numpy()
    load = _as_str(pts["load_status"]) if "load_status" in pts else pd.Series("", pts.index)
    overloaded = (load == "overloaded").to_numpy()

    order = [k for k in _KIND_ORDER if (kinds == k).any()]
    order += sorted(set(kinds) - set(order))
    groups: list[folium.FeatureGroup] = []
    for kind in order:
        sel = np.flatnonzero((kinds == kind).to_numpy())
        sub = pts.iloc[sel]
        kind_label = lab.get(f"kind.{kind}", kind)
        icons: dict[str, dict[str, Any]] = {}
        props = []
        for j, (pid, row) in enumerate(sub.iterrows()):
            is_standin = bool(standin[sel[j]])
            is_over = bool(overloaded[sel[j]])
            key = f"{int(is_standin)}{int(is_over)}"
            if key not in icons:
                icons[key] = _icon(_kind_key(kind), standin=is_standin, overloaded=is_over)
            props.append(
                {
                    "_id": str(row["point_id"]) if "point_id" in sub else str(pid),
                    "_i": key,
                    "_t": _point_tooltip(row, kind_label, is_standin, lab),
                    "_p": _point_popup(row, kind_label, is_standin, names, lab, lang),
                }
            )
        data = _features(sub.geometry.values, props)
        group = folium.FeatureGroup(name=_esc(f"{kind_label} ({len(sub)})"))
        _GeoLayer(data, {"icons": icons}).add_to(group)
        groups.append(group)
    if legend and groups:
        _Legend(
            _points_legend(order, lang, standin=bool(standin.any()), overloaded=bool(overloaded.any())),
            "bottomleft",
            "pp-points-legend",
        ).add_to(groups[0])
    return groups


def _point_tooltip(row: pd.Series, kind_label: str, standin: bool, lab: Mapping[str, str]) -> str:
    extra = f" · <i>{_esc(lab['standin.short'])}</i>" if standin else ""
    return f"<b>{_esc(row['name'])}</b><br>{_esc(kind_label)}{extra}"


def _get(row: pd.Series, col: str) -> object:
    return row[col] if col in row.index else None


def _point_popup(
    row: pd.Series,
    kind_label: str,
    standin: bool,
    names: Mapping[str, str],
    lab: Mapping[str, str],
    lang: str,
) -> str:
    prec = _get(row, "location_precision")
    prec_txt = "" if _is_missing(prec) else lab.get(f"precision.{prec}", str(prec))
    load = _get(row, "load_status")
    rows = [
        (lab["field.kind"], _esc(kind_label)),
        (lab["field.address"], _esc(_get(row, "address"))),
        (lab["field.unit"], _esc(_unit_text(_get(row, "unit_code"), names))),
        (
            lab["field.counters"],
            "" if _is_missing(_get(row, "counters")) else _esc(_fmt_value(_get(row, "counters"), "count", lang)),
        ),
        (
            lab["field.visits_per_day"],
            ""
            if _is_missing(_get(row, "visits_per_day"))
            else _esc(_fmt_value(_get(row, "visits_per_day"), "number", lang)),
        ),
        (
            lab["field.capacity_per_day"],
            ""
            if _is_missing(_get(row, "capacity_per_day"))
            else _esc(_fmt_value(_get(row, "capacity_per_day"), "number", lang)),
        ),
        (
            lab["field.utilisation"],
            "" if _is_missing(_get(row, "utilisation")) else _esc(_fmt_value(_get(row, "utilisation"), "share", lang)),
        ),
        (
            lab["field.load_status"],
            "" if _is_missing(load) else _esc(lab.get(f"load.{load}", str(load))),
        ),
        (
            lab["field.population_served"],
            ""
            if _is_missing(_get(row, "population_served"))
            else _esc(_fmt_value(_get(row, "population_served"), "count", lang)),
        ),
        (lab["field.precision"], _esc(prec_txt)),
        (lab["field.notes"], _esc(_get(row, "notes"))),
        (lab["field.source"], _esc(_get(row, "source"))),
    ]
    out = _table_html([(_esc(k), v) for k, v in rows], _esc(row["name"]))
    if standin:
        note = lab["standin.note"].format(what=prec_txt)
        out += f'<div class="pp-note">{_esc(note)}</div>'
    return out


def _points_legend(kinds: Sequence[str], lang: str, *, standin: bool, overloaded: bool) -> str:
    lab = LABELS[lang]
    rows = [f'<div class="pp-legend-title">{_esc(lab["legend.points"])}</div>']
    for kind in kinds:
        svg = _svg(_kind_key(kind), standin=False, label="1")[0]
        rows.append(f'<div class="pp-row">{svg}{_esc(lab.get(f"kind.{kind}", kind))}</div>')
    if standin:
        svg = _svg("unit_point", standin=True)[0]
        rows.append(f'<div class="pp-row">{svg}{_esc(lab["legend.standin"])}</div>')
    if overloaded:
        svg = _svg("unit_point", standin=False)[0]
        rows.append(
            f'<div class="pp-row"><span class="pp-overloaded">{svg}</span>{_esc(lab["legend.overloaded"])}</div>'
        )
    return "".join(rows)


# ---------------------------------------------------------------------------- proposals


def _proposal_frame(proposals: object) -> gpd.GeoDataFrame:
    gdf = getattr(proposals, "points", proposals)
    gdf = _check_frame(gdf, "proposals", types=("Point",), columns=("rank",))
    rank = pd.to_numeric(gdf["rank"], errors="coerce")
    if rank.isna().any():
        msg = f"proposals: 'rank' must be a number in every row; rows {list(gdf.index[rank.isna()][:8])} are not."
        raise InputError(msg)
    return gdf


def proposals_layer(
    proposals: object,
    *,
    lang: str = "vi",
    units: gpd.GeoDataFrame | None = None,
) -> folium.FeatureGroup:
    """Draw proposed points, numbered by rank, each popup with its gain.

    Parameters
    ----------
    proposals
        A ``Proposal`` (its ``.points`` is used) or a GeoDataFrame with ``rank`` and,
        when known, ``candidate_id``, ``kind``, ``unit_code``, ``gain_people_covered``,
        ``gain_person_minutes_saved``, ``serves_units`` and ``source``.
    lang
        ``"vi"`` (default) or ``"en"``.
    units
        Units indexed by code, to show unit names.

    Returns
    -------
    folium.FeatureGroup
        The proposals, ordered by rank.

    """
    lab = _labels(lang)
    gdf = _proposal_frame(proposals).to_crs(settings.geographic_crs)
    gdf = gdf.sort_values("rank", kind="stable")
    names = _unit_names(units)
    icons: dict[str, dict[str, Any]] = {}
    props = []
    for pid, row in gdf.iterrows():
        rank = int(row["rank"])
        key = str(rank)
        icons[key] = _icon("proposed", standin=False, label=str(rank))
        gain = _get(row, "gain_people_covered")
        saved = _get(row, "gain_person_minutes_saved")
        serves_list = _as_list(_get(row, "serves_units"))
        kind = _get(row, "kind")
        title = lab["proposal"].format(rank=rank)
        rows = [
            (
                lab["field.kind"],
                "" if _is_missing(kind) else _esc(lab.get(f"kind.{kind}", str(kind))),
            ),
            (lab["field.candidate_id"], _esc(_get(row, "candidate_id"))),
            (lab["field.unit"], _esc(_unit_text(_get(row, "unit_code"), names))),
            (
                lab["field.gain_people_covered"],
                "" if _is_missing(gain) else _esc(_fmt_value(gain, "count", lang) + " " + lab["unit.people"]),
            ),
            (
                lab["field.gain_person_minutes_saved"],
                "" if _is_missing(saved) else _esc(_fmt_value(saved, "count", lang)),
            ),
            (lab["field.serves_units"], _esc(", ".join(_unit_text(s, names) for s in serves_list))),
            (lab["field.source"], _esc(_get(row, "source"))),
        ]
        tip = f"<b>#{rank}</b>"
        if not _is_missing(gain):
            tip += " · +" + _esc(_fmt_value(gain, "count", lang) + " " + lab["unit.people"])
        props.append(
            {
                "_id": str(_get(row, "candidate_id") or pid),
                "_i": key,
                "_t": tip,
                "_p": _table_html([(_esc(k), v) for k, v in rows], _esc(title)),
            }
        )
    data = _features(gdf.geometry.values, props)
    group = folium.FeatureGroup(name=_esc(f"{lab['layer.proposals']} ({len(gdf)})"))
    _GeoLayer(data, {"icons": icons}).add_to(group)
    return group


# -------------------------------------------------------------- service areas, uncovered


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

    """
    lab = _labels(lang)
    if isinstance(areas, gpd.GeoDataFrame) and len(areas):
        # A point that reaches nothing (e.g. far off the network) has no area: nothing to draw.
        geoms = np.asarray(areas.geometry.values, dtype=object)
        areas = areas[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    _check_frame(areas, "service areas", types=("Polygon", "MultiPolygon"))
    minutes = settings.standard_minutes if max_minutes is None else max_minutes
    mode = settings.default_mode if mode is None else mode
    proj = areas.geometry.to_crs(settings.projected_crs).values
    union = shapely.union_all(shapely.make_valid(proj))
    if simplify_m > 0:
        union = shapely.simplify(union, simplify_m, preserve_topology=True)
    area_txt = _fmt_value(shapely.area(union) / 1e6, "number", lang) + " " + lab["unit.km2"]
    geom = gpd.GeoSeries([union], crs=settings.projected_crs).to_crs(settings.geographic_crs)
    mins = _fmt_number(float(minutes), 0, lang)
    if max_km is None:
        title = lab["layer.service_areas"].format(minutes=mins)
    else:
        title = lab["layer.service_areas_km"].format(minutes=mins, km=_fmt_number(float(max_km), 0, lang))
    title += f" ({lab.get(f'mode.{mode}', mode)}, {area_txt})"
    # Not interactive: the shape covers most units and must not hide their tooltips.
    data = _features(geom.values, [{}])
    config = {
        "pane": "pp-areas",
        "z": 410,
        "style": {
            "color": "#00695c",
            "weight": 1.6,
            "dashArray": "5 4",
            "fillColor": "#26a69a",
            "fillOpacity": 0.10,
            "className": "pp-area",
            "interactive": False,
        },
    }
    group = folium.FeatureGroup(name=_esc(title), show=show)
    _GeoLayer(data, config).add_to(group)
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


def uncovered_layer(
    demand: gpd.GeoDataFrame,
    *,
    lang: str = "vi",
    max_minutes: float | None = None,
    cell_m: float | None = None,
    max_cells: int = 5000,
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
        Upper bound on the number of cells drawn (keeps the HTML small).
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
        point and units. The embedded data's ``cell_m`` gives the cell size used.

    """
    lab = _labels(lang)
    _check_frame(demand, "demand", types=("Point",), columns=("population", "within_standard"))
    if max_cells < 1:
        msg = f"max_cells must be ≥ 1, got {max_cells}."
        raise InputError(msg)
    minutes_std = settings.standard_minutes if max_minutes is None else max_minutes
    if max_km is None:
        title = lab["layer.uncovered"].format(minutes=_fmt_number(float(minutes_std), 0, lang))
    else:
        title = lab["layer.uncovered_km"].format(
            minutes=_fmt_number(float(minutes_std), 0, lang), km=_fmt_number(float(max_km), 0, lang)
        )
    proj = demand.geometry.to_crs(settings.projected_crs)
    xy_all = shapely.get_coordinates(proj.values)
    if cell_m is not None and not (cell_m > 0 and math.isfinite(cell_m)):
        msg = f"cell_m must be a positive number of metres, got {cell_m!r}."
        raise InputError(msg)
    size = np.array((float(cell_m), float(cell_m)) if cell_m is not None else _cell_size_m(demand, xy_all))

    within = demand["within_standard"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    pop = pd.to_numeric(demand["population"], errors="coerce").fillna(0.0).to_numpy(float)
    keep = ~within & (pop > 0)
    xy = xy_all[keep]
    frame = pd.DataFrame({"pop": pop[keep]})
    if "minutes" in demand:
        mins = pd.to_numeric(demand["minutes"], errors="coerce").to_numpy(float)[keep]
    else:
        mins = np.full(len(frame), np.nan)
    finite = np.isfinite(mins)
    frame["wmin"] = np.where(finite, mins, 0.0) * frame["pop"]
    frame["wpop"] = np.where(finite, frame["pop"], 0.0)
    frame["unreach"] = np.where(np.isinf(mins), frame["pop"], 0.0)
    frame["unit"] = _as_str(demand["unit_code"]).to_numpy()[keep] if "unit_code" in demand else ""
    origin = xy_all.min(axis=0) - size / 2 if len(xy_all) else np.zeros(2)
    if len(xy) == 0:
        frame["i"] = frame["j"] = np.zeros(0, dtype=np.int64)
    while len(xy):
        ij = np.floor((xy - origin) / size).astype(np.int64)
        frame["i"], frame["j"] = ij[:, 0], ij[:, 1]
        n_cells = len(frame[["i", "j"]].drop_duplicates())
        if n_cells <= max_cells:
            break
        size = size * 2.0
    cells = frame.groupby(["i", "j"], sort=True).agg(
        pop=("pop", "sum"),
        wmin=("wmin", "sum"),
        wpop=("wpop", "sum"),
        unreach=("unreach", "sum"),
        units=("unit", lambda s: sorted({u for u in s if u})),
    )
    names = _unit_names(units)
    i = cells.index.get_level_values("i").to_numpy()
    j = cells.index.get_level_values("j").to_numpy()
    x0, y0 = origin[0] + i * size[0], origin[1] + j * size[1]
    boxes = shapely.box(x0, y0, x0 + size[0], y0 + size[1])
    geoms = gpd.GeoSeries(boxes, crs=settings.projected_crs).to_crs(settings.geographic_crs)
    scale = float(np.quantile(cells["pop"], 0.95)) if len(cells) else 1.0
    scale = scale if scale > 0 else 1.0
    props = []
    for k, cell in enumerate(cells.itertuples()):
        if cell.wpop > 0:
            mtxt = _fmt_value(cell.wmin / cell.wpop, "minutes", lang)
        elif cell.unreach > 0:
            mtxt = lab["unreachable"]
        else:
            mtxt = ""
        rows = [
            (
                _esc(lab["field.population"]),
                _esc(_fmt_value(cell.pop, "count", lang) + " " + lab["unit.people"]),
            ),
            (_esc(lab["field.minutes"]), _esc(mtxt)),
            (_esc(lab["field.unit"]), _esc(", ".join(_unit_text(u, names) for u in cell.units))),
        ]
        opacity = round(0.25 + 0.55 * min(1.0, cell.pop / scale), 2)
        props.append(
            {
                "_id": f"cell{k}",
                "_t": _table_html(rows, _esc(title)),
                "_s": {"fillOpacity": opacity},
            }
        )
    data = _features(geoms.values, props)
    data["cell_m"] = [float(size[0]), float(size[1])]
    config = {
        "pane": "pp-cells",
        "z": 415,
        "style": {
            "color": "#54278f",
            "weight": 0.4,
            "opacity": 0.6,
            "fillColor": "#54278f",
            "className": "pp-cell",
        },
    }
    people = _fmt_value(frame["pop"].sum(), "count", lang) + " " + lab["unit.people"]
    group = folium.FeatureGroup(name=_esc(f"{title} ({people})"), show=show)
    _GeoLayer(data, config).add_to(group)
    return group


# ---------------------------------------------------------------------------------- maps


def _base_map(bounds: np.ndarray, *, tiles: bool, lang: str) -> folium.Map:
    west, south, east, north = (float(b) for b in bounds)
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=True,
    )
    if tiles:
        folium.TileLayer(
            tiles=_OSM_TILES,
            attr=_esc(LABELS[lang]["attribution"]),
            name="OpenStreetMap",
            max_zoom=19,
        ).add_to(m)
    _Attribution(LABELS[lang]["attribution"]).add_to(m)
    m.fit_bounds([[south, west], [north, east]])
    return m


def _title_html(title: str, lines: Sequence[str]) -> str:
    body = "".join(f"<div>{_esc(line)}</div>" for line in lines)
    return f"<b>{_esc(title)}</b>{body}"


def _standin_line(points: gpd.GeoDataFrame | None, lang: str) -> list[str]:
    if points is None or "location_precision" not in points:
        return []
    n = int(points["location_precision"].isin(_STANDIN_PRECISIONS).sum())
    if n == 0:
        return []
    return [LABELS[lang]["summary.standins"].format(n=n, total=len(points))]


def units_map(
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame | None = None,
    *,
    metric: str | None = None,
    lang: str = "vi",
    tiles: bool = True,
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
        Add the OpenStreetMap base layer (it needs internet; without it the background
        stays plain).

    Returns
    -------
    folium.Map
        Map with the units, the points by kind, legends, attribution and a layer control.

    """
    lab = _labels(lang)
    _check_frame(units, "units", types=("Polygon", "MultiPolygon"), nonempty=True)
    m = _base_map(units.to_crs(settings.geographic_crs).total_bounds, tiles=tiles, lang=lang)
    units_layer(units, metric, lang=lang).add_to(m)
    if points is not None:
        for group in points_layer(points, lang=lang, units=units):
            group.add_to(m)
    kinds = _as_str(units["kind"]) if "kind" in units else pd.Series(dtype=str)
    lines = []
    if "population" in units:
        lines.append(
            lab["summary.units"].format(
                n=len(units),
                phuong=int((kinds == "phuong").sum()),
                xa=int((kinds == "xa").sum()),
                population=_fmt_value(units["population"].sum(), "count", lang),
            )
        )
    lines += _standin_line(points, lang)
    _Legend(_title_html(lab["title.units"], lines), "topleft", "pp-title").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def assessment_map(
    assessment: Any,
    proposals: object | None = None,
    *,
    metric: str = "coverage_share",
    lang: str = "vi",
    service_areas: bool = True,
    uncovered: bool = True,
    tiles: bool = True,
    extra_metrics: Sequence[str] = (),
) -> folium.Map:
    """Map an assessment: units by a metric, points, service areas, uncovered demand, proposals.

    Parameters
    ----------
    assessment
        An ``Assessment`` (from :func:`pointplan.access.assess`), or any object with the
        same attributes: ``units`` (with the metric column), ``points``, and for the optional
        layers ``demand`` and ``service_areas()``; ``summary``, ``mode`` and
        ``travel_time_method`` feed the title box.
    proposals
        A ``Proposal`` or a GeoDataFrame of proposed points (see :func:`proposals_layer`).
    metric
        Unit column to colour by (see :data:`METRICS`).
    lang
        ``"vi"`` (default) or ``"en"``.
    service_areas
        Draw the area reachable within the standard (calls ``assessment.service_areas()``).
    uncovered
        Draw the demand beyond the standard as cells (needs ``assessment.demand``).
    tiles
        Add the OpenStreetMap base layer.
    extra_metrics
        More unit metrics, each as its own layer (off at first; switch it on in the layer
        control; its legend follows the layer).

    Returns
    -------
    folium.Map
        The map, with legends, a title box, the data attribution and a layer control.

    Raises
    ------
    InputError
        If the assessment lacks ``units`` or ``points`` or a requested layer's data.

    """
    lab = _labels(lang)
    for attr in ("units", "points"):
        if getattr(assessment, attr, None) is None:
            msg = (
                f"assessment has no {attr!r}: pass the result of pointplan.access.assess() "
                "(or an object with units, points, demand and service_areas())."
            )
            raise InputError(msg)
    units = assessment.units
    points = assessment.points
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
    std_km = float(dist_m) / 1000.0 if dist_m else None
    area_km: float | None = None
    demand = getattr(assessment, "demand", None)
    if uncovered and demand is None:
        msg = "assessment has no 'demand' to show uncovered people: pass uncovered=False."
        raise InputError(msg)
    if service_areas and not callable(getattr(assessment, "service_areas", None)):
        msg = "assessment has no service_areas() method: pass service_areas=False."
        raise InputError(msg)
    _check_frame(units, "assessment.units", types=("Polygon", "MultiPolygon"), nonempty=True)

    m = _base_map(units.to_crs(settings.geographic_crs).total_bounds, tiles=tiles, lang=lang)
    units_layer(units, metric, lang=lang, share="units").add_to(m)
    for extra in dict.fromkeys(extra_metrics):
        if extra != metric:
            units_layer(units, extra, lang=lang, show=False, share="units", reuse_shared=True).add_to(m)
    if service_areas:
        areas = assessment.service_areas()
        km = areas.attrs.get("max_distance_m") if hasattr(areas, "attrs") else None
        area_km = None if km is None else float(km) / 1000.0
        service_areas_layer(areas, lang=lang, max_minutes=minutes, mode=mode, max_km=area_km).add_to(m)
    if uncovered:
        uncovered_layer(demand, lang=lang, max_minutes=minutes, units=units, max_km=std_km).add_to(m)
    groups = points_layer(points, lang=lang, units=units, legend=False)
    for group in groups:
        group.add_to(m)
    kinds = list(dict.fromkeys(_as_str(points["kind"])))
    kinds = [k for k in _KIND_ORDER if k in kinds] + sorted(set(kinds) - set(_KIND_ORDER))
    if proposals is not None:
        proposals_layer(proposals, lang=lang, units=units).add_to(m)
        if "proposed" not in kinds:
            kinds.append("proposed")
    standin = (
        bool(points["location_precision"].isin(_STANDIN_PRECISIONS).any()) if "location_precision" in points else False
    )
    overloaded = bool((points["load_status"] == "overloaded").any()) if "load_status" in points else False
    legend_html = _points_legend(kinds, lang, standin=standin, overloaded=overloaded)
    mins_txt = _fmt_number(minutes, 0, lang)
    km_txt = None if std_km is None else _fmt_number(std_km, 0, lang)
    if service_areas:
        legend_html += (
            '<div class="pp-row"><span class="pp-swatch" style="background:rgba(38,166,154,0.25);'
            'border:1.5px dashed #00695c"></span>'
            + _esc(
                lab["layer.service_areas"].format(minutes=mins_txt)
                if area_km is None
                else lab["layer.service_areas_km"].format(minutes=mins_txt, km=_fmt_number(area_km, 0, lang))
            )
            + "</div>"
        )
    if uncovered:
        legend_html += (
            '<div class="pp-row"><span class="pp-swatch" style="background:#54278f;'
            'opacity:0.6"></span>'
            + _esc(
                lab["layer.uncovered"].format(minutes=mins_txt)
                if km_txt is None
                else lab["layer.uncovered_km"].format(minutes=mins_txt, km=km_txt)
            )
            + "</div>"
        )
    _Legend(legend_html, "bottomleft", "pp-points-legend").add_to(m)

    mode_txt = lab.get(f"mode.{mode}", mode)
    if km_txt is None:
        lines = [lab["summary.standard"].format(minutes=mins_txt, mode=mode_txt)]
    else:
        lines = [lab["summary.standard_km"].format(minutes=mins_txt, mode=mode_txt, km=km_txt)]
    method = getattr(assessment, "travel_time_method", None) or summary.get("travel_time_method")
    if method:
        lines.append(lab["summary.method"].format(method=lab.get(f"method.{method}", method)))
    headline = summary.get("population_within_standard_share")
    if isinstance(headline, (int, float)) and math.isfinite(headline):
        lines.append(lab["summary.coverage"].format(share=_fmt_value(headline, "share", lang)))
    elif "coverage_share" in units and "population" in units:
        pop = pd.to_numeric(units["population"], errors="coerce")
        share = pd.to_numeric(units["coverage_share"], errors="coerce")
        ok = pop.notna() & share.notna()
        if ok.any() and pop[ok].sum() > 0:
            total = float((pop[ok] * share[ok]).sum() / pop[ok].sum())
            lines.append(lab["summary.coverage"].format(share=_fmt_value(total, "share", lang)))
    lines += _standin_line(points, lang)
    _Legend(_title_html(lab["title.assessment"], lines), "topleft", "pp-title").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


# ---------------------------------------------------------------------------------- save

_SCRIPT_RE = re.compile(r'<script\s+src="(?P<url>https?://[^"]+)"\s*>\s*</script>\s*')
_LINK_RE = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>https?://[^"]+)"\s*/?>\s*')
_REMOTE_REF_RE = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I)
# folium's default CDN libraries pointplan maps do not need, and how to tell they are used.
_JQUERY_LIBS = ("jquery", "bootstrap")
_AWESOME_LIBS = ("awesome-markers", "awesome.rotate", "fontawesome", "font-awesome", "glyphicons")


def _leaflet_dir() -> Path:
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:  # pragma: no cover - a declared dependency
        msg = "Saving an offline map needs the 'xstatic-leaflet' package: pip install xstatic-leaflet."
        raise OfflineError(msg) from exc
    return Path(xleaflet.BASE_DIR)


def _leaflet_css(base: Path) -> str:
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        img = base / match.group(1)
        if not img.is_file():
            return match.group(0)
        b64 = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    return re.sub(r"url\((images/[^)]+\.png)\)", inline, css)


def _leaflet_js(base: Path) -> str:
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    return js.replace("</script", "<\\/script")


def _rewrite_assets(page: str, *, offline: bool) -> str:
    """Drop unused CDN libraries; with ``offline`` embed Leaflet and refuse any other URL."""
    inline_code = _SCRIPT_RE.sub("", _LINK_RE.sub("", page))
    needs_jquery = bool(re.search(r"\$\(|jQuery", inline_code))
    needs_awesome = "AwesomeMarkers" in inline_code
    base = _leaflet_dir() if offline else None

    def lib_needed(url: str) -> bool:
        low = url.lower()
        if any(k in low for k in _AWESOME_LIBS):
            return needs_awesome
        if any(k in low for k in _JQUERY_LIBS):
            return needs_jquery
        return True

    def replace(match: re.Match[str], kind: str) -> str:
        url = match.group("url")
        low = url.lower()
        if not lib_needed(url):
            return ""
        if not offline:
            return match.group(0)
        assert base is not None
        if kind == "js" and re.search(r"/leaflet(-src)?\.js$", low):
            return f"<script>{_leaflet_js(base)}</script>\n"
        if kind == "css" and re.search(r"/leaflet\.css$", low):
            return f"<style>{_leaflet_css(base)}</style>\n"
        msg = (
            f"The map needs {url}, which cannot be embedded from an installed package. "
            "Remove the element that uses it (folium.Icon/Popup need Font Awesome and jQuery; "
            "use pointplan.maps layers instead) or save with offline=False."
        )
        raise OfflineError(msg)

    page = _SCRIPT_RE.sub(lambda mt: replace(mt, "js"), page)
    page = _LINK_RE.sub(lambda mt: replace(mt, "css"), page)
    if offline:
        left = _REMOTE_REF_RE.search(page)
        if left is not None:
            msg = (
                f"The map still loads {left.group(0)[:120]!r} from the internet, which an offline "
                "file cannot do. Remove that element or save with offline=False."
            )
            raise OfflineError(msg)
    return page


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = False) -> Path:
    """Write a map to an HTML file, atomically, optionally self-contained for offline use.

    Parameters
    ----------
    m
        The map (from :func:`assessment_map`, :func:`units_map` or any folium map).
    path
        The ``.html`` file to write (its folder is created if needed).
    offline
        Embed Leaflet's JavaScript and CSS (with its images) from the installed
        ``xstatic-leaflet`` package so the file needs no internet; folium's unused CDN
        libraries (jQuery, Bootstrap, Font Awesome, awesome-markers) are dropped. Tiles
        stay referenced: where they cannot load the background stays plain.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OfflineError
        With ``offline=True`` when the map uses a library that cannot be embedded (e.g.
        folium's own ``Icon`` markers or ``Popup``).
    OutputError
        When the file cannot be written.

    """
    if not isinstance(m, folium.Map):
        msg = f"save_map needs a folium.Map, got {type(m).__name__}."
        raise InputError(msg)
    path = Path(path)
    page = _rewrite_assets(m.get_root().render(), offline=offline)
    data = page.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        msg = f"Cannot write the map to {path}: {exc}. Choose a writable folder."
        raise OutputError(msg) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)  # atomic (os.replace)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        msg = f"Cannot write the map to {path}: {exc}. Choose a writable folder."
        raise OutputError(msg) from exc
    except BaseException:  # interrupted: the previous map stays, no temporary file is left
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("wrote %s (%.2f MB%s)", path, len(data) / 1e6, ", offline" if offline else "")
    return path
