"""The national tables, map and report of a sweep, built from the provinces' results.

``national_provinces.csv``: one row per province (its record, failures included with their
error). ``national_units.csv``: one row per unit of every completed province, read from the
province's ``units.csv``. ``national_map.html``: provinces and units coloured by the gap
(people beyond the standard), one self-contained file. ``national_report.html``: a short
report (one page of figures, the provinces ranked by the gap, how the figures were made).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan.data import load_units
from pointplan.io import write_table, write_text
from pointplan.provinces import resolve_province

__all__ = [
    "PROVINCE_COLUMNS",
    "UNIT_COLUMNS",
    "national_provinces",
    "national_units",
    "write_national_map",
    "write_national_report",
    "write_tables",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Columns of ``national_provinces.csv`` (interval columns ``*_p5``/``*_p95`` when draws > 0).
PROVINCE_COLUMNS: tuple[str, ...] = (
    "province_code",
    "province_name",
    "status",
    "error",
    "units",
    "points",
    "population",
    "units_population_estimated",
    "population_beyond_standard",
    "population_beyond_standard_p5",
    "population_beyond_standard_p95",
    "population_within_standard_share",
    "mean_minutes",
    "mean_minutes_p5",
    "mean_minutes_p95",
    "p90_minutes",
    "p90_minutes_p5",
    "p90_minutes_p95",
    "lscp_points_needed",
    "lscp_bound",
    "lscp_status",
    "units_no_land_link",
    "population_no_land_link",
    "travel_time_method",
    "seconds",
    "resumed",
)

#: Columns of ``national_units.csv`` taken from each province's ``units.csv`` (when present).
UNIT_COLUMNS: tuple[str, ...] = (
    "province_code",
    "province_name",
    "code",
    "name",
    "kind",
    "population",
    "population_source",
    "population_beyond_standard",
    "coverage_share",
    "mean_minutes",
    "p90_minutes",
    "mean_minutes_p5",
    "mean_minutes_p95",
    "p90_minutes_p5",
    "p90_minutes_p95",
    "no_land_link",
    "travel_note",
    "travel_time_method",
    "nearest_point_precision",
)


def national_provinces(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per province from the sweep's records, in code order.

    Parameters
    ----------
    records
        The records :func:`pointplan.sweep.province_task` returned.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`PROVINCE_COLUMNS` (missing figures are empty).

    Examples
    --------
    >>> t = national_provinces([{"province_code": "12", "status": "failed", "error": "boom"},
    ...                         {"province_code": "46", "status": "ok", "population": 10}])
    >>> t[["province_code", "province_name", "status", "population"]].to_numpy().tolist()
    [['12', 'Tỉnh Lai Châu', 'failed', nan], ['46', 'Thành phố Huế', 'ok', 10.0]]
    """
    rows = []
    for rec in records:
        row = {col: rec.get(col) for col in PROVINCE_COLUMNS}
        row["province_name"] = row["province_name"] or resolve_province(rec["province_code"]).name
        row["error"] = row["error"] or ""
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(PROVINCE_COLUMNS))
    for col in PROVINCE_COLUMNS:
        if col not in (
            "province_code",
            "province_name",
            "status",
            "error",
            "lscp_status",
            "travel_time_method",
            "resumed",
        ):
            table[col] = pd.to_numeric(table[col], errors="coerce")
    return table.sort_values("province_code").reset_index(drop=True)


def national_units(out_dir: str | Path, provinces: pd.DataFrame) -> pd.DataFrame:
    """One row per unit of every completed province, from ``provinces/<code>/units.csv``.

    Parameters
    ----------
    out_dir
        The sweep's folder.
    provinces
        :func:`national_provinces` (only ``ok`` rows are read).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`UNIT_COLUMNS` that the provinces' tables hold; ``code`` kept
        as a 5-digit string.

    Examples
    --------
    >>> national_units("nowhere", national_provinces([])).shape[0]
    0
    """
    frames = []
    for row in provinces.itertuples(index=False):
        if row.status != "ok":
            continue
        path = Path(out_dir) / "provinces" / str(row.province_code) / "units.csv"
        if not path.is_file():
            logger.warning("province %s has no units.csv", row.province_code)
            continue
        t = pd.read_csv(path, dtype={"code": str}, encoding="utf-8-sig")
        t["code"] = t["code"].str.zfill(5)
        t.insert(0, "province_name", row.province_name)
        t.insert(0, "province_code", str(row.province_code))
        if "population_beyond_standard" not in t.columns and {"population", "coverage_share"} <= set(t.columns):
            t["population_beyond_standard"] = t["population"] * (1 - t["coverage_share"])
        frames.append(t[[c for c in UNIT_COLUMNS if c in t.columns]])
    if not frames:
        return pd.DataFrame(columns=list(UNIT_COLUMNS))
    return pd.concat(frames, ignore_index=True)


#: Classes of the national map: (upper limit of the share beyond the standard, colour, label).
GAP_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.001, "#1a9850", "< 0,1 %"),
    (0.01, "#91cf60", "0,1 – 1 %"),
    (0.03, "#fee08b", "1 – 3 %"),
    (0.1, "#fc8d59", "3 – 10 %"),
    (np.inf, "#d73027", "≥ 10 %"),
)


def _gap_colour(share: float) -> str:
    """Colour of a share of people beyond the standard (0 → green, ≥ 10 % → dark red)."""
    if not np.isfinite(share):
        return "#bdbdbd"
    return next(colour for limit, colour, _ in GAP_CLASSES if share < limit)


def _map_legend(provinces: pd.DataFrame, units: pd.DataFrame) -> str:
    """Return the national map's title and legend (HTML): what is shown and what it rests on."""
    ok = provinces[provinces["status"] == "ok"] if "status" in provinces else provinces
    beyond = pd.to_numeric(ok.get("population_beyond_standard"), errors="coerce").sum()
    need = pd.to_numeric(ok.get("lscp_points_needed"), errors="coerce").sum()
    est = int(pd.to_numeric(ok.get("units_population_estimated"), errors="coerce").fillna(0).sum())
    rows = "".join(
        f'<div><span style="background:{c};display:inline-block;width:14px;height:10px"></span> {label}</div>'
        for _, c, label in GAP_CLASSES
    )

    def vi(x: float) -> str:  # 698.434: the Vietnamese thousands separator
        return f"{x:,.0f}".replace(",", ".")

    return (
        "<b>Người dân ngoài chuẩn 30 phút hoặc 5 km</b><br>"
        f"{len(ok)} tỉnh/thành; {vi(beyond)} người (giá trị khả dĩ nhất); {vi(need)} điểm cần thêm (LSCP)<br>"
        f"{vi(est)} đơn vị dùng dân số ước tính (WorldPop)<br>"
        f"<i>Tỷ lệ dân ngoài chuẩn / share beyond the standard</i>{rows}"
    )


def _layer(gdf: gpd.GeoDataFrame, name: str, fields: list[str], aliases: list[str], weight: float) -> Any:
    import folium

    return folium.GeoJson(
        gdf.to_json(),
        name=name,
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#555555",
            "weight": weight,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
    )


def _unit_shapes(units: pd.DataFrame, codes: Sequence[str], tolerance_deg: float) -> gpd.GeoDataFrame:
    """Return the units of ``codes`` (simplified) with their national figures."""
    frames = [load_units(code)[["geometry"]] for code in codes]
    shapes = gpd.GeoDataFrame(pd.concat(frames), crs=frames[0].crs)
    shapes["geometry"] = shapes.geometry.simplify(tolerance_deg)
    u = units.set_index("code")
    shapes = shapes.join(
        u[["province_name", "name", "population", "population_beyond_standard", "population_source"]], how="inner"
    )
    shapes["share"] = (
        shapes["population_beyond_standard"] / shapes["population"].where(shapes["population"] > 0)
    ).fillna(0.0)
    shapes["colour"] = shapes["share"].map(_gap_colour)
    shapes["gap"] = shapes["population_beyond_standard"].round().astype("Int64").astype(str)
    shapes["share_pct"] = (100 * shapes["share"]).round(2).astype(str) + " %"
    return shapes.reset_index(names="code")


def write_national_map(
    path: str | Path, provinces: pd.DataFrame, units: pd.DataFrame, *, tolerance_deg: float = 0.002
) -> Path:
    """Write the national map: provinces and units coloured by the share beyond the standard.

    Parameters
    ----------
    path
        The ``.html`` file (self-contained: Leaflet inlined, works offline).
    provinces, units
        :func:`national_provinces` and :func:`national_units`.
    tolerance_deg
        Simplification of the outlines (degrees; 0.002 ≈ 200 m keeps the file small).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> p = national_provinces([{"province_code": "12", "status": "failed", "error": "x"}])
    >>> out = write_national_map(Path(tempfile.mkdtemp()) / "m.html", p, national_units("x", p))
    >>> "L.map(" in out.read_text(encoding="utf-8")
    True
    """
    import folium

    from pointplan.maps import ATTRIBUTION, save_map

    m = folium.Map(location=[16.0, 106.0], zoom_start=6, tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", attr=ATTRIBUTION).add_to(m)
    codes = sorted(units["province_code"].unique()) if len(units) else []
    shapes = _unit_shapes(units, codes, tolerance_deg) if codes else None
    if shapes is not None and len(shapes):
        shapes["province_code"] = shapes["code"].map(units.set_index("code")["province_code"])
        prov = shapes.dissolve("province_code", aggfunc={"population": "sum", "population_beyond_standard": "sum"})
        prov["geometry"] = prov.geometry.simplify(tolerance_deg * 2)
        prov = prov.join(provinces.set_index("province_code")[["province_name", "lscp_points_needed"]])
        prov["share"] = prov["population_beyond_standard"] / prov["population"].where(prov["population"] > 0)
        prov["colour"] = prov["share"].fillna(0.0).map(_gap_colour)
        prov["gap"] = prov["population_beyond_standard"].round().astype("Int64").astype(str)
        prov["need"] = prov["lscp_points_needed"].astype("Int64").astype(str)
        prov = prov.reset_index()
        _layer(
            prov[["province_name", "gap", "need", "colour", "geometry"]],
            "Tỉnh / thành phố (provinces)",
            ["province_name", "gap", "need"],
            ["Tỉnh", "Người ngoài chuẩn", "Điểm cần thêm (LSCP)"],
            1.5,
        ).add_to(m)
        _layer(
            shapes[["code", "name", "province_name", "gap", "share_pct", "population_source", "colour", "geometry"]],
            "Xã / phường (units)",
            ["name", "province_name", "gap", "share_pct", "population_source"],
            ["Đơn vị", "Tỉnh", "Người ngoài chuẩn", "Tỷ lệ", "Nguồn dân số"],
            0.3,
        ).add_to(m)
    from pointplan.maps.elements import Legend

    Legend(_map_legend(provinces, units), "bottomleft", "pp-legend").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return save_map(m, path)


def _fmt(value: Any, digits: int = 0) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if not np.isfinite(x) else f"{x:,.{digits}f}"


def write_national_report(path: str | Path, provinces: pd.DataFrame, units: pd.DataFrame) -> Path:
    """Write the short national report (one self-contained HTML file, Vietnamese first).

    Parameters
    ----------
    path
        The ``.html`` file.
    provinces, units
        :func:`national_provinces` and :func:`national_units`.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> p = national_provinces([{"province_code": "12", "status": "failed", "error": "<boom>"}])
    >>> page = write_national_report(Path(tempfile.mkdtemp()) / "r.html", p, national_units("x", p)).read_text()
    >>> "&lt;boom&gt;" in page, "<boom>" in page
    (True, False)
    """
    ok = provinces[provinces["status"] == "ok"]
    failed = provinces[provinces["status"] != "ok"]
    est = int((units["population_source"] == "worldpop_estimate").sum()) if "population_source" in units else 0
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                r.province_code,
                r.province_name,
                _fmt(r.population),
                _fmt(r.population_beyond_standard),
                _fmt(r.mean_minutes, 1),
                _fmt(r.p90_minutes, 1),
                _fmt(r.lscp_points_needed),
                _fmt(r.units_population_estimated),
            )
        )
        + "</tr>"
        for r in ok.sort_values("population_beyond_standard", ascending=False).itertuples()
    )
    fails = "".join(
        f"<li>{html.escape(str(r.province_code))} {html.escape(str(r.province_name))}: {html.escape(str(r.error))}</li>"
        for r in failed.itertuples()
    )
    page = _REPORT.format(
        done=len(ok),
        total=len(provinces),
        units=len(units),
        population=_fmt(ok["population"].sum()),
        beyond=_fmt(ok["population_beyond_standard"].sum()),
        need=_fmt(ok["lscp_points_needed"].sum()),
        estimated=est,
        rows=rows,
        failures=f"<h2>Tỉnh chưa chạy được (failed)</h2><ul>{fails}</ul>" if fails else "",
    )
    return write_text(path, page)


_REPORT = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Điểm phục vụ hành chính công — toàn quốc</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:right}}
td:nth-child(2),th:nth-child(2){{text-align:left}}th{{background:#f3f3f3}}.note{{color:#555;font-size:.9em}}</style>
</head><body>
<h1>Điểm phục vụ hành chính công — toàn quốc (national sweep)</h1>
<p>{done} / {total} tỉnh, thành phố; {units:,} xã, phường, đặc khu; {population} người.
<b>{beyond}</b> người ngoài chuẩn (people beyond the standard: 30 minutes or 5 km);
cần thêm ít nhất <b>{need}</b> điểm để mọi người trong chuẩn (points needed, exact LSCP).</p>
<table><thead><tr><th>Mã</th><th>Tỉnh / thành phố</th><th>Dân số</th><th>Ngoài chuẩn</th>
<th>Phút TB</th><th>Phút P90</th><th>Điểm cần thêm</th><th>ĐV dân số ước tính</th></tr></thead>
<tbody>{rows}</tbody></table>
{failures}
<h2>Cách tính (method)</h2>
<ul class="note">
<li>Dân số: số liệu chính thức của đề án sắp xếp 2025 đã được kiểm tra với WorldPop 2020; {estimated} đơn vị
có số liệu không hợp lý (dưới 0,3 × hoặc trên 3 × WorldPop) dùng ước tính WorldPop hiệu chỉnh theo tổng tin cậy của tỉnh
(population_source = worldpop_estimate).</li>
<li>Điểm phục vụ: một điểm mỗi đơn vị tại trung tâm dân cư (vị trí thay thế, chưa có toạ độ trụ sở).</li>
<li>Thời gian đi: đường chim bay hiệu chỉnh (fallback); sai số của nó chỉ được đo trong nội thành Hà Nội, không đo
ở các tỉnh khác. Đảo không có đường bộ nối: ghi chú, không tính thời gian.</li>
<li>Dữ liệu: bản đồ chính thức sapnhap.bando.com.vn qua thanglequoc/vietnamese-provinces-database (MIT);
WorldPop (CC-BY-4.0, doi 10.5258/SOTON/WP00671).</li>
</ul>
</body></html>
"""


def write_tables(out_dir: Path, records: Sequence[dict[str, Any]]) -> dict[str, Path]:
    """Write the national tables, map and report into ``out_dir``; return their paths.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_tables(Path(tempfile.mkdtemp()), [{"province_code": "12", "status": "failed", "error": "x"}])
    >>> sorted(paths)
    ['national_map.html', 'national_provinces.csv', 'national_report.html', 'national_units.csv']
    """
    provinces = national_provinces(records)
    units = national_units(out_dir, provinces)
    return {
        "national_provinces.csv": write_table(provinces, out_dir / "national_provinces.csv"),
        "national_units.csv": write_table(units, out_dir / "national_units.csv"),
        "national_map.html": write_national_map(out_dir / "national_map.html", provinces, units),
        "national_report.html": write_national_report(out_dir / "national_report.html", provinces, units),
    }
