"""Words of the report in Vietnamese and English, column meanings, and number formatting.

The column dictionary (``templates/columns.csv``, a package file) gives every column of the
tables a Vietnamese and an English label, a unit, a meaning and a display format; the
workbook, the HTML and Word reports all read it, so a column is named the same everywhere.
"""

from __future__ import annotations

import functools
import math
import numbers
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from pointplan._errors import InputError

__all__ = ["LANGS", "FormatKind", "check_lang", "column_dictionary", "column_label", "format_value", "text"]

#: Languages of the documents: Vietnamese first.
LANGS: tuple[str, ...] = ("vi", "en")

#: Display formats of the column dictionary.
FormatKind = Literal["text", "int", "num1", "num2", "pct", "minutes", "coord"]

_T: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Báo cáo mạng lưới điểm Phục vụ hành chính công Hà Nội",
        "summary": "Tóm tắt",
        "rules": "Kiểm tra quy định",
        "coverage": "Độ bao phủ theo chuẩn",
        "access": "Khả năng tiếp cận",
        "equity": "Công bằng giữa phường và xã",
        "left_behind": "Những nơi còn xa điểm phục vụ",
        "load": "Tải của các điểm",
        "proposals": "Đề xuất điểm mới",
        "method": "Phương pháp và độ chính xác",
        "data": "Nguồn dữ liệu",
        "minutes": "phút",
        "cdf_title": "Thời gian tới điểm gần nhất (tỷ lệ dân số tích luỹ)",
        "cdf_x": "Thời gian (phút)",
        "cdf_y": "Tỷ lệ dân số",
        "p90_title": "15 đơn vị có thời gian P90 lớn nhất",
        "util_title": "Mức sử dụng công suất của các điểm",
        "util_x": "Lượt/ngày ÷ công suất",
        "util_y": "Số điểm",
        "gain_title": "Lợi ích của từng điểm đề xuất",
        "gain_x": "Thứ tự đề xuất",
        "gain_people": "Số người thêm vào chuẩn",
        "gain_minutes": "Người·phút tiết kiệm",
        "overview_title": "Tổng quan: thời gian TB tới điểm gần nhất theo đơn vị",
        "overview_points": "Điểm phục vụ",
        "overview_proposed": "Điểm đề xuất",
        "phuong": "phường",
        "xa": "xã",
        "city": "toàn thành phố",
        "mode.walk": "đi bộ",
        "mode.bike": "xe đạp",
        "mode.motorbike": "xe máy",
        "mode.car": "ô tô",
        "map_link": "Bản đồ tương tác (map.html, mở trong trình duyệt)",
        "map_link_note": "Bản đồ tương tác nằm cùng thư mục với báo cáo này:",
        "no_findings": "Không có vi phạm hay cảnh báo.",
        "rows_shown": "Hiển thị {shown}/{total} dòng; đầy đủ trong tables.xlsx.",
        "page": "Trang",
        "generated": "Lập bởi pointplan {version}, kịch bản «{scenario}».",
        "item": "Chỉ tiêu",
        "value": "Giá trị",
        "units": "Đơn vị cấp xã",
        "points": "Điểm phục vụ",
        "branches": "Chi nhánh xác định được",
        "population": "Dân số",
        "within_standard": "Trong chuẩn ({minutes:g} phút hoặc {km:g} km)",
        "walk_within": "Đi bộ ≤ {minutes:g} phút",
        "mean_minutes": "Thời gian TB tới điểm gần nhất (phút)",
        "p90_minutes": "Thời gian P90 (phút)",
        "visits": "Lượt trực tiếp/ngày",
        "overloaded": "Điểm quá tải trong ngày",
        "overloaded_peak": "Điểm quá tải lúc cao điểm",
        "basis_p50": (
            "Các con số là giá trị có khả năng nhất: trung vị (P50) của {n} lần mô phỏng trên những gì còn là "
            "giả định, khoảng P5–P95 bên cạnh. Nếu mọi trụ sở đặt đúng vị trí thay thế: trong chuẩn {within}, "
            "thời gian TB {mean} phút, P90 {p90} phút (trường hợp tốt nhất)."
        ),
        "basis_standins": (
            "Các con số tính với mọi trụ sở đặt đúng vị trí thay thế (không chạy mô phỏng): trường hợp tốt "
            "nhất, vì vị trí thay thế được đặt ở nơi đi lại ít nhất."
        ),
        "method_name": "Phương pháp thời gian",
        "objective": "Mục tiêu",
        "solver": "Phương pháp giải",
        "status": "Trạng thái",
        "gap": "Khoảng cách tới cận (%)",
        "before_after_mean": "Thời gian TB trước → sau (phút)",
        "before_after": "So sánh trước và sau khi thêm điểm đề xuất",
        "m_network": "Phương tiện «{mode}», phương pháp «{method}»: đường ngắn nhất trên mạng đường.",
        "m_crow": (
            "Phương tiện «{mode}», phương pháp «{method}»: khoảng cách đường chim bay × hệ số vòng ÷ tốc độ, "
            "không dùng mạng đường."
        ),
        "m_hybrid": (
            "Phương tiện «{mode}», phương pháp kết hợp: đường ngắn nhất trên mạng đường nội thành "
            "(OpenStreetMap 2025) cho {share} dân số; ở nơi khác, đường chim bay × hệ số vòng đã hiệu chỉnh "
            "trên chính mạng đường đó."
        ),
        "m_fallback_error": (
            "Sai số của đường chim bay hiệu chỉnh trên các cặp điểm giữ lại để kiểm tra: trung vị {med} %, "
            "P90 {p90} %. Các xã ngoại thành nằm ngoài vùng hiệu chỉnh (đường thưa hơn): thời gian ở đó có "
            "thể lạc quan."
        ),
        "m_precision": (
            "Độ chính xác vị trí các điểm: {precision}. Vị trí thay thế (stand-in) không phải toạ độ thật."
        ),
        "m_counters": (
            "Số quầy được giả định (mặc định {defaults}) cho {n} điểm chưa rõ; {per:g} lượt mỗi quầy mỗi ngày."
        ),
        "m_demand": "Nhu cầu: {n} điểm dân cư ({method}).",
        "title_study": "Báo cáo điểm Phục vụ hành chính công: {names}",
        "standards": "Chuẩn của từng phương thức (mỗi điều khoản một con số):",
        "std_time": (
            "{mode}: chuẩn là {minutes:g} phút ({share} dân số, con số chính); điều khoản {km:g} km "
            "đường chim bay tính riêng: {dist} (đi bộ {km:g} km mất hơn một giờ, nên không gộp vào "
            "chuẩn)."
        ),
        "std_either": (
            "{mode}: chuẩn {minutes:g} phút hoặc {km:g} km: {share} dân số (chỉ ≤ {minutes:g} phút: "
            "{tshare}; chỉ ≤ {km:g} km: {dist})."
        ),
        "study_line": (
            "Nghiên cứu {n} đơn vị (danh sách ở phần Phương pháp): các con số là về người dân của các "
            "đơn vị này; {k} trong {total} điểm của thành phố phục vụ họ (điểm gần nhất của một phần "
            "dân cư, hoặc nằm trong các đơn vị)."
        ),
        "study_points": "Điểm phục vụ các đơn vị này",
        "m_study": "Đơn vị nghiên cứu ({n}): {listing}.",
        "load_study": (
            "Chỉ tính lượt đến của người dân các đơn vị nghiên cứu; các điểm còn phục vụ người ở nơi "
            "khác, nên tải thực tế cao hơn. Bảng và biểu đồ chỉ gồm {k} điểm phục vụ các đơn vị này; "
            "{idle} trong số đó dưới {threshold} công suất theo cách tính này."
        ),
        "overview_study": "Các đơn vị nghiên cứu (viền đậm) và lân cận",
        "m_no_precision": "{n} điểm không có độ chính xác vị trí (ghi «unknown»): thêm cột «Độ chính xác».",
        "data_text": (
            "Ranh giới: bản đồ chính thức sapnhap.bando.com.vn qua thanglequoc/vietnamese-provinces-database "
            "(MIT); dân số: WorldPop 2020 (CC-BY-4.0); mạng đường: © OpenStreetMap contributors (ODbL)."
        ),
        "interval": "Khoảng P5–P95",
        "uncertainty": "Điều đã biết, điều giả định và độ bất định",
        "uncertainty_text": (
            "Khoảng P5–P95 bên cạnh mỗi con số: {n} lần mô phỏng Monte Carlo (hạt giống {seed}) trên những gì "
            "còn là giả định (vị trí thay thế của các điểm, sai số thời gian đi, số quầy, tỷ lệ nộp trực tiếp). "
            "Vị trí thay thế được đặt ở nơi đi lại ít nhất cho dân của đơn vị (hoặc trên con phố ghi trong địa "
            "chỉ); mỗi lần mô phỏng giữ điểm tại đó hoặc dời tới khu dân cư lân cận, theo mức bằng chứng cho "
            "phép (điểm đã khảo sát không dời). Con số chính là trung vị P50 của các lần mô phỏng."
        ),
        "known_assumed": "Điều đã biết và điều giả định",
        "sensitivity": "Giả định nào làm mỗi chỉ tiêu thay đổi nhiều nhất (độ rộng P5–P95 khi chỉ nó thay đổi)",
        "known": "đã biết",
        "assumed": "giả định",
        "none": "không",
        "assumption.locations": "vị trí điểm",
        "assumption.travel_time": "thời gian đi",
        "assumption.counters": "số quầy",
        "assumption.in_person_share": "tỷ lệ nộp trực tiếp",
        "robust_note": (
            "Độ vững: tỷ lệ lần mô phỏng (vị trí thay thế dịch chuyển) chọn lại vị trí này. "
            "{n} đề xuất phụ thuộc vào vị trí phỏng đoán của một điểm."
        ),
        "queues": "Hàng đợi và cán bộ",
        "queues_text": (
            "Mỗi điểm là một hàng đợi M/M/c (Erlang C) theo giờ; 15 phút mỗi hồ sơ; mục tiêu P90 chờ lúc cao điểm "
            "≤ 15 phút; 2–5 quầy mỗi điểm (Kế hoạch 322)."
        ),
        "queues_city": "Toàn thành phố",
        "queues_points": "Các điểm chờ lâu nhất lúc cao điểm",
        "queues_online": "Nếu nhiều hồ sơ nộp trực tuyến hơn: chờ và cán bộ được giải phóng",
        "bus": "Tiếp cận xe buýt",
        "bus_text": (
            "{share} dân số sống trong {walk:g} m tới một điểm dừng xe buýt (mạng 2018, World Bank/Arup, "
            "CC-BY-4.0). Không có lịch chạy cho toàn thành phố nên không tính được thời gian đi xe buýt "
            "từ nhà tới điểm; chỉ biết xe buýt có ở gần không và chạy dày thế nào."
        ),
        "bus_lowest": "Các đơn vị tiếp cận xe buýt kém nhất",
        "bus_no_stop": "{n} điểm không có điểm dừng xe buýt trong {walk:g} m",
        "bus_all_near": "Mọi điểm đều có điểm dừng xe buýt trong {walk:g} m.",
        "tts": "Thời gian tới khi được phục vụ (đi + chờ)",
        "tts_text": (
            "Thời gian đi tới điểm gần nhất cộng thời gian chờ trung bình ở đó trong tuần; "
            "{n} đơn vị có người dân tới điểm quá tải lúc cao điểm (không có thời gian chờ hữu hạn)."
        ),
        "tts_top": "Các đơn vị có thời gian đi + chờ lớn nhất",
        "sheet.units": "Đơn vị",
        "sheet.points": "Điểm",
        "sheet.proposals": "Đề xuất",
        "sheet.findings": "Phát hiện",
        "sheet.compare": "Trước - sau",
        "sheet.equity": "Công bằng",
        "sheet.columns": "Giải thích cột",
        "col.sheet": "Trang tính",
        "col.header": "Tiêu đề cột",
        "col.name": "Tên cột (máy)",
        "col.unit": "Đơn vị đo",
        "col.meaning": "Ý nghĩa",
    },
    "en": {
        "title": "Hanoi public administrative service points: report",
        "summary": "Summary",
        "rules": "Rule checks",
        "coverage": "Coverage of the standard",
        "access": "Accessibility",
        "equity": "Equity between phường and xã",
        "left_behind": "Who is left behind",
        "load": "Load of the points",
        "proposals": "Proposed new points",
        "method": "Method and precision",
        "data": "Data sources",
        "minutes": "min",
        "cdf_title": "Travel time to the nearest point (cumulative share of people)",
        "cdf_x": "Minutes",
        "cdf_y": "Share of people",
        "p90_title": "15 units with the largest 90th-percentile time",
        "util_title": "Utilisation of the points",
        "util_x": "Visits a day ÷ capacity",
        "util_y": "Points",
        "gain_title": "Gain of each proposed point",
        "gain_x": "Rank of the proposal",
        "gain_people": "People newly within the standard",
        "gain_minutes": "Person-minutes saved",
        "overview_title": "Overview: mean minutes to the nearest point by unit",
        "overview_points": "Service points",
        "overview_proposed": "Proposed points",
        "phuong": "phường",
        "xa": "xã",
        "city": "city",
        "mode.walk": "walking",
        "mode.bike": "bicycle",
        "mode.motorbike": "motorbike",
        "mode.car": "car",
        "map_link": "Interactive map (map.html, open it in a browser)",
        "map_link_note": "The interactive map is in the same folder as this report:",
        "no_findings": "No rule is broken and there is no warning.",
        "rows_shown": "{shown} of {total} rows shown; all of them in tables.xlsx.",
        "page": "Page",
        "generated": "Written by pointplan {version}, scenario “{scenario}”.",
        "item": "Item",
        "value": "Value",
        "units": "Commune-level units",
        "points": "Service points",
        "branches": "Branches located",
        "population": "Population",
        "within_standard": "Within the standard ({minutes:g} min or {km:g} km)",
        "walk_within": "Walking ≤ {minutes:g} min",
        "mean_minutes": "Mean minutes to the nearest point",
        "p90_minutes": "90th-percentile minutes",
        "visits": "In-person visits a day",
        "overloaded": "Points overloaded over the day",
        "overloaded_peak": "Points overloaded at the peak hour",
        "basis_p50": (
            "Figures are the likely values: the median (P50) of {n} draws over what is assumed, with the "
            "P5–P95 range beside them. If every head office stood at its stand-in: within the standard "
            "{within}, mean {mean} min, P90 {p90} min (the best case)."
        ),
        "basis_standins": (
            "Figures are with every head office at its stand-in (no draws were run): the best case, as "
            "stand-ins sit where travel is least."
        ),
        "method_name": "Travel-time method",
        "objective": "Objective",
        "solver": "Solver",
        "status": "Status",
        "gap": "Gap to the bound (%)",
        "before_after_mean": "Mean minutes before → after",
        "before_after": "Before and after the proposed points",
        "m_network": "Travel mode “{mode}”, method “{method}”: shortest paths on the road network.",
        "m_crow": (
            "Travel mode “{mode}”, method “{method}”: straight-line distance × circuity ÷ speed, no road network."
        ),
        "m_hybrid": (
            "Travel mode “{mode}”, hybrid method: shortest paths on the inner city's road network "
            "(OpenStreetMap 2025) for {share} of the people; elsewhere the straight line × circuity "
            "calibrated on that network."
        ),
        "m_fallback_error": (
            "Error of the calibrated straight line on held-out pairs: median {med} %, P90 {p90} %. The "
            "outer xã lie outside the area it was fitted on (sparser roads): times there may be optimistic."
        ),
        "m_precision": "Location precision of the points: {precision}. Stand-ins are not real coordinates.",
        "m_counters": (
            "Counters assumed where unknown for {n} points (defaults {defaults}); {per:g} visits per counter a day."
        ),
        "m_demand": "Demand: {n} points ({method}).",
        "title_study": "Public administrative service points: {names}",
        "standards": "The standard of each mode (one figure per clause):",
        "std_time": (
            "{mode}: the standard is {minutes:g} min ({share} of people, the headline); the {km:g} km "
            "straight-line clause on its own: {dist} (walking {km:g} km takes over an hour, so it is "
            "not part of the standard)."
        ),
        "std_either": (
            "{mode}: {minutes:g} min or {km:g} km: {share} of people ({minutes:g} min alone: "
            "{tshare}; {km:g} km alone: {dist})."
        ),
        "study_line": (
            "A study of {n} units (listed in the method section): the figures are about their people; "
            "{k} of the city's {total} points serve them (the nearest point of some of their people, "
            "or inside the units)."
        ),
        "study_points": "Points serving these units",
        "m_study": "Units studied ({n}): {listing}.",
        "load_study": (
            "Only the visits of the studied units' people are counted; the points also serve people "
            "from elsewhere, so their real load is higher. The table and chart hold the {k} points "
            "serving these units; {idle} of them are under {threshold} of capacity on this count."
        ),
        "overview_study": "The units studied (bold outline) and their neighbours",
        "m_no_precision": (
            "{n} points have no location precision (written 'unknown'): add a 'location_precision' column."
        ),
        "data_text": (
            "Boundaries: official reference map sapnhap.bando.com.vn via thanglequoc/vietnamese-provinces-database "
            "(MIT); population: WorldPop 2020 (CC-BY-4.0); roads: © OpenStreetMap contributors (ODbL)."
        ),
        "interval": "P5–P95 range",
        "uncertainty": "What is known, what is assumed, and how far figures could move",
        "uncertainty_text": (
            "The P5–P95 range beside each figure: {n} Monte Carlo draws (seed {seed}) over what is assumed "
            "(stand-in point locations, travel-time error, counters, in-person share of dossiers). "
            "Stand-ins sit where travel is least for the unit's people (or on the street the address names); "
            "each draw keeps a stand-in there or moves it to a populated place nearby, as far as its evidence "
            "allows (surveyed points never move). The headline figures are the P50 of the draws."
        ),
        "known_assumed": "Known and assumed",
        "sensitivity": "Which assumption moves each figure most (P5–P95 width when only it varies)",
        "known": "known",
        "assumed": "assumed",
        "none": "none",
        "assumption.locations": "point locations",
        "assumption.travel_time": "travel times",
        "assumption.counters": "counters",
        "assumption.in_person_share": "in-person share",
        "robust_note": (
            "Robustness: share of draws (stand-ins moved) that choose this site again. "
            "{n} proposal(s) depend on one guessed point location."
        ),
        "queues": "Queues and staff",
        "queues_text": (
            "Each point is an M/M/c queue (Erlang C) hour by hour; 15 minutes a dossier; target P90 wait at "
            "the peak ≤ 15 minutes; 2–5 counters a point (Plan 322)."
        ),
        "queues_city": "City totals",
        "queues_points": "Longest waits at the peak",
        "queues_online": "If more dossiers go online: waits and officials freed",
        "bus": "Bus access",
        "bus_text": (
            "{share} of the people live within {walk:g} m of a bus stop (2018 network, World Bank/Arup, "
            "CC-BY-4.0). With no city-wide timetable, door-to-door bus times are out of reach: these "
            "figures say whether a bus is near and how often it runs."
        ),
        "bus_lowest": "Units with the lowest bus access",
        "bus_no_stop": "{n} points with no bus stop within {walk:g} m",
        "bus_all_near": "Every point has a bus stop within {walk:g} m.",
        "tts": "Time to service (travel + wait)",
        "tts_text": (
            "Travel to the nearest point plus the expected wait there over the week; "
            "{n} unit(s) send people to a point overloaded at the peak (no finite wait)."
        ),
        "tts_top": "Units with the longest travel + wait",
        "sheet.units": "Units",
        "sheet.points": "Points",
        "sheet.proposals": "Proposals",
        "sheet.findings": "Findings",
        "sheet.compare": "Before - after",
        "sheet.equity": "Equity",
        "sheet.columns": "Columns",
        "col.sheet": "Sheet",
        "col.header": "Header",
        "col.name": "Column (machine name)",
        "col.unit": "Unit",
        "col.meaning": "Meaning",
    },
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``"vi"`` or ``"en"``; raise a clear error otherwise.

    Examples
    --------
    >>> check_lang("en")
    'en'
    >>> check_lang("fr")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: lang must be 'vi' (Vietnamese, the default) or 'en' (English), got 'fr'.
    """
    if lang not in LANGS:
        msg = f"lang must be 'vi' (Vietnamese, the default) or 'en' (English), got {lang!r}."
        raise InputError(msg)
    return lang


def text(key: str, lang: str = "vi", **values: Any) -> str:
    """Return the report's words for ``key`` in ``lang``, with ``values`` filled in.

    Examples
    --------
    >>> text("within_standard", "en", minutes=30, km=5)
    'Within the standard (30 min or 5 km)'
    >>> text("mode.motorbike")
    'xe máy'
    """
    words = _T[check_lang(lang)][key]
    return words.format(**values) if values else words


@functools.cache
def column_dictionary() -> pd.DataFrame:
    """Return the column dictionary: labels, unit, meaning and format of every table column.

    Rows are keyed by ``table`` (``*`` for any table, or ``units``, ``metric``, ...) and
    ``column``. Read from the package file ``templates/columns.csv``.

    Examples
    --------
    >>> d = column_dictionary()
    >>> d.loc[("*", "mean_minutes"), ["label_vi", "unit_en", "format"]].tolist()
    ['Thời gian TB', 'min', 'minutes']
    """
    path = resources.files("pointplan.report").joinpath("templates/columns.csv")
    with path.open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return table.set_index(["table", "column"]).sort_index()


def column_info(column: str, table: str = "*") -> dict[str, str]:
    """Return the dictionary row of ``column`` (the table's own row first), or a plain one."""
    d = column_dictionary()
    for key in ((table, column), ("*", column)):
        if key in d.index:
            return dict(d.loc[key])
    return {
        "format": "text",
        "label_vi": column,
        "label_en": column,
        "unit_vi": "",
        "unit_en": "",
        "meaning_vi": "",
        "meaning_en": "",
    }


def column_label(column: str, lang: str = "vi", table: str = "*", *, with_unit: bool = False) -> str:
    """Return the header of ``column`` in ``lang`` (optionally with its unit in brackets).

    Examples
    --------
    >>> column_label("p90_minutes", "vi", with_unit=True)
    'Thời gian P90 (phút)'
    >>> column_label("visits_per_day", "en", table="units")
    'In-person visits a day'
    >>> column_label("unknown_column")
    'unknown_column'
    """
    info = column_info(column, table)
    label = info[f"label_{check_lang(lang)}"]
    unit = info[f"unit_{lang}"]
    return f"{label} ({unit})" if with_unit and unit and unit.lower() not in label.lower() else label


def format_value(value: Any, kind: str = "num1", lang: str = "vi") -> str:
    """Return ``value`` as text for a reader of ``lang`` (Vietnamese: 1.234,5; English: 1,234.5).

    Missing or infinite numbers are shown as a dash.

    Examples
    --------
    >>> format_value(8807523.0, "int", "vi"), format_value(8807523.0, "int", "en")
    ('8.807.523', '8,807,523')
    >>> format_value(0.9851, "pct", "vi"), format_value(5.369, "minutes", "en")
    ('98,5 %', '5.4')
    >>> format_value(float("nan")), format_value(None), format_value("xã")
    ('–', '–', 'xã')
    """
    is_number = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if value is None or value is pd.NA or (is_number and not math.isfinite(float(value))):
        return "–"
    if not is_number or kind == "text":
        return str(value)
    number = float(value)
    if kind == "pct":
        number, digits, suffix = 100 * number, 1, " %"
    else:
        digits = {"int": 0, "num1": 1, "minutes": 1, "num2": 2, "coord": 6}.get(kind, 2)
        suffix = ""
    body = f"{number:,.{digits}f}"
    if lang == "vi":
        body = body.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return body + suffix
