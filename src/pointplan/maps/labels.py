"""Labels and translations of the maps (Vietnamese first), number formats, attributions.

Every word a map shows comes from :data:`LABELS` (``"vi"``, the default, and ``"en"``,
with the same keys); unit metrics are formatted and coloured as :data:`METRICS` says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pointplan._errors import InputError
from pointplan.maps._html import is_missing

__all__ = [
    "ATTRIBUTION",
    "LABELS",
    "METRICS",
    "SOURCES",
    "MetricStyle",
    "attributions",
    "fmt_number",
    "fmt_value",
    "labels",
    "metric_label",
]

#: Attribution of each data source a map may display, by language: ``units`` (boundaries,
#: names and official populations), ``population`` (WorldPop demand), ``osm`` (road layer
#: and base tiles) and ``bus`` (the 2018 GTFS feed).
_SOURCES: dict[str, dict[str, str]] = {
    "vi": {
        "units": (
            "Ranh giới: bản đồ chính thức sapnhap.bando.com.vn qua thanglequoc/vietnamese-provinces-database (MIT)"
        ),
        "population": "Dân số: WorldPop 2020 (CC-BY-4.0)",
        "osm": "Đường: © OpenStreetMap contributors (ODbL)",
        "bus": "Xe buýt: GTFS Hà Nội 2018, World Bank/Arup (CC-BY-4.0)",
    },
    "en": {
        "units": "Boundaries: official map sapnhap.bando.com.vn via thanglequoc/vietnamese-provinces-database (MIT)",
        "population": "Population: WorldPop 2020 (CC-BY-4.0)",
        "osm": "Roads: © OpenStreetMap contributors (ODbL)",
        "bus": "Bus: Hanoi GTFS 2018, World Bank/Arup (CC-BY-4.0)",
    },
}
#: Public view of the attributions per source and language (``SOURCES[lang][source]``).
SOURCES: Mapping[str, Mapping[str, str]] = _SOURCES

#: Attribution of the data an assessment map shows (units, population, OpenStreetMap), in
#: Vietnamese; ``LABELS["en"]["attribution"]`` is its translation.
ATTRIBUTION: str = " · ".join(_SOURCES["vi"][k] for k in ("units", "population", "osm"))
_ATTRIBUTION_EN = " · ".join(_SOURCES["en"][k] for k in ("units", "population", "osm"))

#: Label tables for legends, tooltips, popups and layer names: ``LABELS[lang][key]``.
#: Vietnamese (``"vi"``) is the default language; ``"en"`` has the same keys.
LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "attribution": ATTRIBUTION,
        "source.units": _SOURCES["vi"]["units"],
        "source.population": _SOURCES["vi"]["population"],
        "source.osm": _SOURCES["vi"]["osm"],
        "source.bus": _SOURCES["vi"]["bus"],
        "layer.tiles": "Nền OpenStreetMap (cần internet)",
        "control.metrics": "Tô màu đơn vị theo (chọn một)",
        "layer.neighbours": "Đơn vị lân cận (ngoài phạm vi nghiên cứu)",
        "title.study": "Tiếp cận điểm phục vụ hành chính công — {names}",
        "study.others": "{first} và {n} đơn vị khác",
        "control.points": "Điểm",
        "control.context": "Bối cảnh",
        "layer.roads": "Đường chính nội thành (OpenStreetMap 2025)",
        "layer.unit_names": "Ranh giới và tên đơn vị",
        "legend.roads": "Đường chính (nội thành)",
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
        "precision.osm_mapped": "vị trí trên OpenStreetMap",
        "precision.old_unit_reference": "điểm tham chiếu của phường/xã cũ (trước 2025)",
        "precision.unit_representative_point": "một điểm bên trong đơn vị",
        "precision.reviewed": "mã hoá từ địa chỉ, đã được người kiểm tra",
        "precision.street_in_unit": "trên con phố ghi trong địa chỉ trụ sở, bên trong đơn vị",
        "precision.place_in_unit": "thôn/khu dân cư ghi trong địa chỉ, bên trong đơn vị",
        "precision.unit_population_centre": "nơi đông dân giúp người dân của đơn vị đi ít nhất",
        "precision.proposed": "vị trí đề xuất (chưa phải điểm thật)",
        "precision.unknown": "không rõ cách xác định vị trí",
        "field.interval": "P5–P95",
        "layer.uncertainty": "Độ bất định của từng đơn vị (khoảng P5–P95 thời gian TB, phút)",
        "layer.bus_stops": "Điểm dừng xe buýt theo tần suất (buổi trưa, 2018)",
        "layer.bus_stops_min": "Điểm dừng xe buýt từ {n} chuyến/giờ (buổi trưa, 2018)",
        "legend.bus_stops": "Xe buýt buổi trưa (chuyến/giờ)",
        "field.bus_routes": "Số tuyến",
        "field.bus_trips_per_hour": "Chuyến/giờ (trưa)",
        "field.bus_stop": "Điểm dừng xe buýt",
        "metric.uncertainty_minutes": "Độ bất định thời gian TB (P95 − P5, phút)",
        "metric.time_to_service_minutes": "Thời gian đi + chờ (phút)",
        "metric.bus_access": "Xe buýt trong 400 m (chuyến/giờ, theo dân)",
        "metric.bus_pop_share_near": "Tỷ lệ dân số trong 400 m tới điểm dừng xe buýt",
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
        "summary.walk_time": "Đi bộ ≤ {minutes} phút (chuẩn khi đi bộ): {share}",
        "summary.walk_distance": "≤ {km} km đường chim bay (tính riêng): {share}",
        "summary.standins": "{n}/{total} điểm ở vị trí thay thế",
        "summary.units": "{n} đơn vị ({phuong} phường, {xa} xã), dân số {population}",
        "mode.walk": "đi bộ",
        "mode.bike": "xe đạp",
        "mode.motorbike": "xe máy",
        "mode.car": "ô tô",
        "method.crow_flies_circuity": "ước lượng theo đường chim bay × hệ số đường vòng",
        "method.network": "theo mạng đường (OpenStreetMap)",
        "method.hybrid": "mạng đường nội thành nơi có, đường chim bay đã hiệu chỉnh ở nơi khác",
        "method.fallback": "đường chim bay × hệ số vòng đã hiệu chỉnh",
        "method.mixed": "một phần theo mạng đường",
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
        "source.units": _SOURCES["en"]["units"],
        "source.population": _SOURCES["en"]["population"],
        "source.osm": _SOURCES["en"]["osm"],
        "source.bus": _SOURCES["en"]["bus"],
        "layer.tiles": "OpenStreetMap tiles (need internet)",
        "control.metrics": "Colour units by (one at a time)",
        "layer.neighbours": "Neighbouring units (outside the study)",
        "title.study": "Access to public administrative service points — {names}",
        "study.others": "{first} and {n} other units",
        "control.points": "Points",
        "control.context": "Context",
        "layer.roads": "Main roads of the inner city (OpenStreetMap 2025)",
        "layer.unit_names": "Unit outlines and names",
        "legend.roads": "Main roads (inner city)",
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
        "precision.osm_mapped": "as mapped in OpenStreetMap",
        "precision.old_unit_reference": "reference point of the pre-2025 ward",
        "precision.unit_representative_point": "a point inside the unit",
        "precision.reviewed": "geocoded from the address and checked by a person",
        "precision.street_in_unit": "on the street the head-office address names, inside the unit",
        "precision.place_in_unit": "the village or neighbourhood the address names, inside the unit",
        "precision.unit_population_centre": "the populated place that minimises travel for the unit's people",
        "precision.proposed": "a proposed site (not a real point yet)",
        "precision.unknown": "unknown how it was located",
        "field.interval": "P5–P95",
        "layer.uncertainty": "How uncertain each unit is (P5–P95 range of the mean minutes)",
        "layer.bus_stops": "Bus stops by frequency (midday, 2018)",
        "layer.bus_stops_min": "Bus stops with {n}+ buses an hour (midday, 2018)",
        "legend.bus_stops": "Buses at midday (per hour)",
        "field.bus_routes": "Routes",
        "field.bus_trips_per_hour": "Buses an hour (midday)",
        "field.bus_stop": "Bus stop",
        "metric.uncertainty_minutes": "Uncertainty of the mean time (P95 − P5, min)",
        "metric.time_to_service_minutes": "Travel + wait (min)",
        "metric.bus_access": "Buses within 400 m (per hour, by people)",
        "metric.bus_pop_share_near": "Population share within 400 m of a bus stop",
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
        "summary.walk_time": "Walking ≤ {minutes} min (the standard on foot): {share}",
        "summary.walk_distance": "≤ {km} km in a straight line (on its own): {share}",
        "summary.standins": "{n}/{total} points at stand-in locations",
        "summary.units": "{n} units ({phuong} wards, {xa} communes), population {population}",
        "mode.walk": "walking",
        "mode.bike": "bicycle",
        "mode.motorbike": "motorbike",
        "mode.car": "car",
        "method.crow_flies_circuity": "estimated from straight-line distance × circuity",
        "method.network": "on the road network (OpenStreetMap)",
        "method.hybrid": "the inner city's road network where it is, the calibrated straight line elsewhere",
        "method.fallback": "calibrated straight line × circuity",
        "method.mixed": "partly on the road network",
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
class MetricStyle:
    """How a unit metric is formatted and coloured.

    Parameters
    ----------
    fmt
        ``"share"``, ``"minutes"``, ``"count"``, ``"number"`` or ``"ratio"``.
    better
        ``"high"`` or ``"low"`` (a diverging red-to-blue palette, blue is better) or
        ``"none"`` (a sequential palette).
    fixed_range
        Colour range, when the metric has a natural one (shares: 0 to 1).

    Examples
    --------
    >>> METRICS["coverage_share"]
    MetricStyle(fmt='share', better='high', fixed_range=(0.0, 1.0))

    """

    fmt: str
    better: str
    fixed_range: tuple[float, float] | None = None


#: Unit metrics pointplan knows how to label, format and colour. Any other numeric
#: column of the units frame can be mapped too (labelled with its column name).
METRICS: dict[str, MetricStyle] = {
    "coverage_share": MetricStyle("share", "high", (0.0, 1.0)),
    "mean_minutes": MetricStyle("minutes", "low"),
    "median_minutes": MetricStyle("minutes", "low"),
    "p90_minutes": MetricStyle("minutes", "low"),
    "max_minutes": MetricStyle("minutes", "low"),
    "share_beyond_30": MetricStyle("share", "low", (0.0, 1.0)),
    "visits_per_day": MetricStyle("number", "none"),
    "visits_per_counter": MetricStyle("number", "low"),
    "e2sfca": MetricStyle("ratio", "high"),
    "gini_minutes": MetricStyle("ratio", "low"),
    "own_unit_mean_minutes": MetricStyle("minutes", "low"),
    "share_beyond_15": MetricStyle("share", "low", (0.0, 1.0)),
    "share_beyond_45": MetricStyle("share", "low", (0.0, 1.0)),
    "two_sfca": MetricStyle("ratio", "high"),
    "n_points": MetricStyle("count", "high"),
    "population": MetricStyle("count", "none"),
    "area_km2": MetricStyle("number", "none"),
    "density_per_km2": MetricStyle("count", "none"),
    "uncertainty_minutes": MetricStyle("minutes", "none"),
    "time_to_service_minutes": MetricStyle("minutes", "low"),
    "bus_access": MetricStyle("number", "high"),
    "bus_pop_share_near": MetricStyle("share", "high", (0.0, 1.0)),
}
_DEFAULT_STYLE = MetricStyle("number", "none")


def metric_style(metric: str) -> MetricStyle:
    """Return the style of a metric (a plain number for a column pointplan does not know).

    Examples
    --------
    >>> metric_style("mean_minutes").better, metric_style("my_column").fmt
    ('low', 'number')

    """
    return METRICS.get(metric, _DEFAULT_STYLE)


def labels(lang: str) -> dict[str, str]:
    """Return the label table of a language.

    Raises
    ------
    InputError
        For a language pointplan has no labels in.

    Examples
    --------
    >>> labels("en")["kind.branch"]
    'Branch'
    >>> labels("fr")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: Unknown language 'fr': use one of ['en', 'vi'] ('vi' is the default).

    """
    if lang not in LABELS:
        msg = f"Unknown language {lang!r}: use one of {sorted(LABELS)} ('vi' is the default)."
        raise InputError(msg)
    return LABELS[lang]


def fmt_number(value: float, decimals: int, lang: str) -> str:
    """Write a number with thousands separators as the language writes them.

    Examples
    --------
    >>> fmt_number(1234567.89, 1, "vi"), fmt_number(1234567.89, 1, "en")
    ('1.234.567,9', '1,234,567.9')

    """
    text = f"{value:,.{decimals}f}"
    if lang == "vi":  # 1.234.567,8
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def fmt_value(value: object, fmt: str, lang: str) -> str:
    """Format a value for display (``fmt`` as in :class:`MetricStyle`).

    Missing values read "no data", infinite ones "unreachable".

    Examples
    --------
    >>> fmt_value(0.8534, "share", "vi"), fmt_value(12.26, "minutes", "en")
    ('85,3%', '12.3 min')
    >>> fmt_value(float("inf"), "minutes", "vi"), fmt_value(None, "count", "en")
    ('không tới được', 'No data')

    """
    if is_missing(value):
        return LABELS[lang]["legend.no_data"]
    x = float(value)  # type: ignore[arg-type]
    if math.isinf(x):
        return LABELS[lang]["unreachable"]
    if fmt == "share":
        return fmt_number(100.0 * x, 1, lang) + "%"
    if fmt == "minutes":
        return fmt_number(x, 1, lang) + " " + LABELS[lang]["unit.minutes"]
    if fmt == "count":
        return fmt_number(round(x), 0, lang)
    if fmt == "ratio":
        return fmt_number(x, 2, lang)
    return fmt_number(x, 1, lang)


def fmt_values(values: Iterable[object], fmt: str, lang: str) -> list[str]:
    """Format many values at once, each exactly as :func:`fmt_value` formats it.

    Parameters
    ----------
    values
        Numbers (a Series, an array or a list); missing values read "no data", infinite
        ones "unreachable".
    fmt, lang
        As in :func:`fmt_value`.

    Returns
    -------
    list of str
        One text per value, in order.

    Examples
    --------
    >>> fmt_values([0.8534, None, float("inf")], "share", "vi")
    ['85,3%', 'Không có dữ liệu', 'không tới được']
    >>> fmt_values(pd.Series([1234.5, 2.5]), "count", "en")
    ['1,234', '2']

    """
    arr = pd.Series(values, dtype=object).to_numpy(dtype=float, na_value=np.nan)
    lab = LABELS[lang]
    scale, decimals, suffix = {
        "share": (100.0, 1, "%"),
        "minutes": (1.0, 1, " " + lab["unit.minutes"]),
        "count": (1.0, 0, ""),
        "ratio": (1.0, 2, ""),
    }.get(fmt, (1.0, 1, ""))
    spec = f",.{decimals}f"
    table = str.maketrans(",.", ".,") if lang == "vi" else str.maketrans("", "")
    out = [
        format(round(x) if fmt == "count" else scale * x, spec).translate(table) + suffix
        for x in np.where(np.isfinite(arr), arr, 0.0).tolist()
    ]
    for i in np.flatnonzero(~np.isfinite(arr)).tolist():  # the few values without a number
        out[i] = lab["legend.no_data"] if math.isnan(arr[i]) else lab["unreachable"]
    return out


def metric_label(metric: str, lang: str) -> str:
    """Return the label of a unit metric (its column name when pointplan does not know it).

    Examples
    --------
    >>> metric_label("p90_minutes", "en"), metric_label("my_column", "vi")
    ('90th percentile travel time (min)', 'my_column')

    """
    return LABELS[lang].get(f"metric.{metric}", metric)


def attributions(sources: Iterable[str], lang: str = "vi") -> list[str]:
    """Return the attribution lines of the data sources a map displays, in a fixed order.

    Parameters
    ----------
    sources
        Any of ``"units"``, ``"population"``, ``"osm"`` and ``"bus"``.
    lang
        ``"vi"`` (default) or ``"en"``.

    Raises
    ------
    InputError
        For an unknown source.

    Examples
    --------
    >>> attributions({"osm", "units"}, "en")[1]
    'Roads: © OpenStreetMap contributors (ODbL)'

    """
    labels(lang)
    table = _SOURCES[lang]
    wanted = set(sources)
    unknown = wanted - set(table)
    if unknown:
        msg = f"Unknown data source(s) {sorted(unknown)}: use some of {list(table)}."
        raise InputError(msg)
    return [text for key, text in table.items() if key in wanted]
