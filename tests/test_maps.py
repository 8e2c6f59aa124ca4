"""Tests of pointplan.maps: layers, labels, escaping, size, offline files, a real browser.

Maps of assessments use the real :func:`pointplan.assess` (on the tiny city of conftest for
hand-worked answers, on Hanoi for sizes and the browser), never a stand-in assessment.
"""

from __future__ import annotations

import json
import math
import re
import sys
import types
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import pointplan
import pointplan.maps as pm
from pointplan import settings
from pointplan._errors import (
    CRSError,
    InputError,
    MissingColumnError,
    OfflineError,
    OutputError,
)
from pointplan.maps._html import esc, script_json
from pointplan.maps.elements import GeoLayer, Legend
from pointplan.maps.labels import fmt_value
from pointplan.maps.units import NO_DATA_COLOUR, UNIT_KIND_COLOURS
from pointplan.points import POINT_KINDS
from pointplan.workflow import MAP_METRICS

sys.path.insert(0, str(Path(__file__).parent))
import browser  # tests/browser.py, the shared headless-browser helper

ARTIFACTS = Path(__file__).parent / "_artifacts"
XSS_NAME = "<script>alert(1)</script>"
XSS_NOTES = "<img src=x onerror=alert(2)>"
XSS_ADDRESS = "`${alert(3)}` \\ '\""
PROJ = settings.projected_crs
MAX_MAP_BYTES = 3_000_000


# ------------------------------------------------------------------------- fixtures


def _square(x: float, y: float, side_m: float) -> shapely.Polygon:
    return shapely.box(x, y, x + side_m, y + side_m)


@pytest.fixture
def tiny_units() -> gpd.GeoDataFrame:
    """Three 1 km squares side by side near Hoàn Kiếm (UTM 48N)."""
    x0, y0 = 586_000.0, 2_326_000.0
    geoms = [_square(x0 + i * 1000, y0, 1000) for i in range(3)]
    gdf = gpd.GeoDataFrame(
        {
            "name": ["Alpha", "Beta", XSS_NAME],
            "full_name": ["Phường Alpha", "Xã Beta", "Phường " + XSS_NAME],
            "kind": ["phuong", "xa", "phuong"],
            "area_km2": [1.0, 1.0, 1.0],
            "population": [12345, 678, 1_000_000],
            "coverage_share": [0.0, 1.0, np.nan],
            "mean_minutes": [5.0, 20.0, 10.0],
        },
        index=pd.Index(["00001", "00002", "00003"], name="code"),
        geometry=geoms,
        crs=PROJ,
    )
    return gdf.to_crs(settings.geographic_crs)


@pytest.fixture
def tiny_points(tiny_units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    x0, y0 = 586_000.0, 2_326_000.0
    xy = [(x0 + 500, y0 + 500), (x0 + 1500, y0 + 500), (x0 + 2500, y0 + 500), (x0 + 700, y0 + 300)]
    gdf = gpd.GeoDataFrame(
        {
            "point_id": ["B1", "DP1", "XSS", "K1"],
            "name": ["Chi nhánh số 1", "Điểm Beta", XSS_NAME, "Ki-ốt Alpha"],
            "kind": ["branch", "unit_point", "unit_point", "kiosk"],
            "unit_code": ["00001", "00002", "00003", "00001"],
            "address": ["258 Võ Chí Công", "", XSS_ADDRESS, "Aeon Mall"],
            "counters": pd.array([11, pd.NA, 3, 1], dtype="Int64"),
            "location_precision": [
                "surveyed",
                "unit_representative_point",
                "old_unit_reference",
                "geocoded",
            ],
            "source": ["test", "test", "test", "test"],
            "notes": ["", "", XSS_NOTES, ""],
            "load_status": ["overloaded", "ok", "idle", "ok"],
            "utilisation": [1.25, 0.5, 0.1, np.nan],
        },
        geometry=gpd.points_from_xy(*zip(*xy, strict=True)),
        crs=PROJ,
    )
    return gdf.set_index("point_id", drop=False).to_crs(settings.geographic_crs)


def _tiny_assessment(tiny: dict[str, Any], **kw: Any) -> pointplan.Assessment:
    """The real assessment of conftest's tiny city (crow flies, 12 km/h, circuity 1)."""
    return pointplan.assess(
        tiny["points"], tiny["units"], tiny["demand"], engine=tiny["engine"], visits=tiny["visits"], modes=(), **kw
    )


@pytest.fixture(scope="module")
def hanoi_points_xss(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The Hanoi points plus one hostile point (a surveyed kiosk in Hoàn Kiếm)."""
    extra = gpd.GeoDataFrame(
        {
            "point_id": ["XSS"],
            "name": [XSS_NAME],
            "kind": ["kiosk"],
            "unit_code": ["00070"],
            "declared_unit_code": ["00070"],
            "address": [XSS_ADDRESS],
            "counters": pd.array([2], dtype="Int64"),
            "location_precision": ["surveyed"],
            "source": ["test"],
            "notes": [XSS_NOTES],
        },
        geometry=gpd.points_from_xy([105.852], [21.028]),
        crs=settings.geographic_crs,
    ).set_index("point_id", drop=False)
    return pd.concat([points, extra])


@pytest.fixture(scope="module")
def hanoi_assessment(units: gpd.GeoDataFrame, hanoi_points_xss: gpd.GeoDataFrame) -> pointplan.Assessment:
    """The real assessment of the Hanoi scenario plus a hostile point, by a strict standard.

    Walking, 15 min or 1 km: a planner's what-if that leaves many people beyond it (with
    the default 30 min or 5 km by motorbike everyone in Hanoi is within it).
    """
    return pointplan.assess(hanoi_points_xss, units, mode="walk", max_minutes=15, max_distance_m=1000)


@pytest.fixture(scope="module")
def proposals() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "rank": [2, 1, 3],
            "candidate_id": ["C9", "C4", "C7"],
            "kind": ["kiosk", "unit_point", "community"],
            "unit_code": ["00070", "00004", "99999"],
            "gain_people_covered": [12000.0, 45678.4, np.nan],
            "gain_person_minutes_saved": [1.0e5, 3.2e5, 2.0e3],
            "serves_units": [["00070", "00004"], "00004", []],
            "source": ["test"] * 3,
        },
        geometry=gpd.points_from_xy([105.85, 105.60, 105.83], [21.03, 20.90, 21.04]),
        crs=settings.geographic_crs,
    )


def _layers(element: object) -> list[GeoLayer]:
    """All pointplan GeoJSON layers below a folium element, in order."""
    found = []
    for child in getattr(element, "_children", {}).values():
        if isinstance(child, GeoLayer):
            found.append(child)
        found.extend(_layers(child))
    return found


def _legends(element: object) -> list[Legend]:
    found = []
    for child in getattr(element, "_children", {}).values():
        if isinstance(child, Legend):
            found.append(child)
        found.extend(_legends(child))
    return found


def _geoms(layer: GeoLayer) -> np.ndarray:
    texts = [json.dumps(f["geometry"]) for f in layer.data["features"]]
    return shapely.from_geojson(texts)


# ------------------------------------------------------------------- labels, format


def test_labels_have_the_same_keys_in_both_languages() -> None:
    assert set(pm.LABELS["vi"]) == set(pm.LABELS["en"])
    for kind in POINT_KINDS:
        assert pm.LABELS["vi"][f"kind.{kind}"] != pm.LABELS["en"][f"kind.{kind}"]
    for metric in pm.METRICS:
        assert f"metric.{metric}" in pm.LABELS["vi"]
    assert pm.LABELS["vi"]["attribution"] == pm.ATTRIBUTION
    for word in ("bando", "thanglequoc/vietnamese-provinces-database", "WorldPop", "OpenStreetMap"):
        assert word in pm.ATTRIBUTION
        assert word in pm.LABELS["en"]["attribution"]


@pytest.mark.parametrize(
    ("value", "fmt", "lang", "expected"),
    [
        (8_807_523, "count", "vi", "8.807.523"),
        (8_807_523, "count", "en", "8,807,523"),
        (0.8534, "share", "vi", "85,3%"),
        (0.8534, "share", "en", "85.3%"),
        (12.26, "minutes", "vi", "12,3 phút"),
        (1234.5678, "ratio", "en", "1,234.57"),
        (float("inf"), "minutes", "vi", "không tới được"),
        (np.nan, "share", "en", "No data"),
        (pd.NA, "count", "vi", "Không có dữ liệu"),
    ],
)
def test_number_formatting(value: float, fmt: str, lang: str, expected: str) -> None:
    assert fmt_value(value, fmt, lang) == expected


def test_escape_covers_html_and_javascript_templates() -> None:
    assert esc(XSS_NAME) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert esc("`${x}`\\") == "&#96;&#36;{x}&#96;&#92;"
    assert esc(None) == esc(np.nan) == esc(pd.NA) == ""
    js = script_json({"a": "</script><!--", "b": "\u2028"})
    assert "</" not in js and "<!--" not in js and "\u2028" not in js
    assert json.loads(js) == {"a": "</script><!--", "b": "\u2028"}


# ----------------------------------------------------------------------- simplification


def test_coverage_simplification_keeps_hanoi_seamless(units: gpd.GeoDataFrame) -> None:
    orig = units.geometry.to_crs(PROJ).values
    simp = pm.simplify_coverage(units, 40.0)
    assert simp.crs == PROJ and simp.index.equals(units.index)
    s = simp.values
    assert shapely.is_valid(s).all()
    assert shapely.get_num_coordinates(s).sum() * 5 < shapely.get_num_coordinates(orig).sum()
    # No gaps: the union covers what the units covered, as one polygon without holes (the
    # source has no overlaps, so the sum of its areas is the area of its union).
    union = shapely.union_all(s)
    area_orig = shapely.area(orig).sum()
    assert abs(union.area - area_orig) / area_orig < 1e-4
    assert shapely.get_num_geometries(union) == 1
    assert shapely.get_num_interior_rings(union) == 0
    # No overlaps: pairwise intersections are empty but for the source's own
    # sub-square-metre digitising noise, and the areas add up to the union's.
    left, right = shapely.STRtree(s).query(s, predicate="intersects")
    pair = left < right
    overlap = shapely.area(shapely.intersection(s[left[pair]], s[right[pair]])).sum()
    assert overlap < 1.0  # m², over all 126 units
    assert shapely.area(s).sum() - union.area < 1.0
    # Each unit keeps its area within 1 %.
    assert (np.abs(shapely.area(s) / shapely.area(orig) - 1) < 0.01).all()


def test_embedded_unit_shapes_are_seamless_after_rounding(units: gpd.GeoDataFrame) -> None:
    """What the browser draws (rounded to 1e-5°) still tiles Hanoi without gaps/overlaps."""
    layer = _layers(pm.units_layer(units, None))[0]
    assert len(layer.data["features"]) == 126
    assert [f["properties"]["_id"] for f in layer.data["features"]] == list(units.index)
    drawn = gpd.GeoSeries(_geoms(layer), crs=settings.geographic_crs).to_crs(PROJ).values
    area_orig = shapely.area(units.geometry.to_crs(PROJ).values).sum()
    union = shapely.union_all(drawn)
    assert abs(union.area - area_orig) / area_orig < 1e-4
    assert shapely.get_num_interior_rings(union) == 0
    left, right = shapely.STRtree(drawn).query(drawn, predicate="intersects")
    pair = left < right
    assert shapely.area(shapely.intersection(drawn[left[pair]], drawn[right[pair]])).sum() < 5.0
    coords = shapely.get_coordinates(_geoms(layer))
    assert np.allclose(coords, np.round(coords, 5))


def test_simplify_rejects_negative_tolerance(tiny_units: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="tolerance_m"):
        pm.simplify_coverage(tiny_units, -1.0)
    same = pm.simplify_coverage(tiny_units, 0.0)
    assert same.geom_equals(tiny_units.geometry.to_crs(PROJ)).all()


# ------------------------------------------------------------------------- unit layer


def test_units_layer_colours_tooltips_and_legend(tiny_units: gpd.GeoDataFrame) -> None:
    group = pm.units_layer(tiny_units, "coverage_share")
    assert isinstance(group, folium.FeatureGroup)
    assert group.layer_name == "Đơn vị hành chính: Tỷ lệ dân số trong chuẩn"
    feats = _layers(group)[0].data["features"]
    fills = [f["properties"]["_s"]["fillColor"] for f in feats]
    # RdYlBu: 0 % covered is the red end, 100 % the blue end, missing is grey.
    assert fills == ["#a50026", "#313695", NO_DATA_COLOUR]
    tip0 = feats[0]["properties"]["_t"]
    assert "<b>Phường Alpha</b>" in tip0
    assert "Dân số</td><td>12.345</td>" in tip0
    assert "Tỷ lệ dân số trong chuẩn</td><td>0,0%</td>" in tip0
    assert "Loại</td><td>Xã</td>" in feats[1]["properties"]["_t"]
    tip2 = feats[2]["properties"]["_t"]
    assert "&lt;script&gt;" in tip2 and "<script>" not in tip2
    assert "Không có dữ liệu" in tip2
    legend = _legends(group)[0]
    assert legend.follow and legend.position == "bottomright"
    for tick in (">0%<", ">25%<", ">50%<", ">75%<", ">100%<", "Không có dữ liệu"):
        assert tick in legend.html


def test_units_layer_reverses_colours_when_lower_is_better(tiny_units: gpd.GeoDataFrame) -> None:
    feats = _layers(pm.units_layer(tiny_units, "mean_minutes", lang="en"))[0].data["features"]
    fills = [f["properties"]["_s"]["fillColor"] for f in feats]
    assert fills[0] == "#313695"  # 5 min, the shortest: blue
    assert fills[1] == "#a50026"  # 20 min, the longest: red
    assert "Mean travel time (min)</td><td>5.0 min</td>" in feats[0]["properties"]["_t"]


def test_units_layer_by_kind_and_density(tiny_units: gpd.GeoDataFrame) -> None:
    feats = _layers(pm.units_layer(tiny_units, None))[0].data["features"]
    fills = [f["properties"]["_s"]["fillColor"] for f in feats]
    assert fills == [UNIT_KIND_COLOURS[k] for k in ("phuong", "xa", "phuong")]
    layer = pm.units_layer(tiny_units, "density_per_km2", lang="en")
    assert "density" in layer.layer_name
    assert "Population density (people/km²)" in _legends(layer)[0].html


def test_units_layer_errors(tiny_units: gpd.GeoDataFrame) -> None:
    with pytest.raises(MissingColumnError, match=r"e2sfca.*Numeric columns"):
        pm.units_layer(tiny_units, "e2sfca")
    with pytest.raises(InputError, match="numeric"):
        pm.units_layer(tiny_units, "name")
    with pytest.raises(InputError, match="language"):
        pm.units_layer(tiny_units, lang="fr")
    with pytest.raises(CRSError):
        pm.units_layer(tiny_units.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="GeoDataFrame"):
        pm.units_layer(pd.DataFrame(tiny_units))
    with pytest.raises(InputError, match="no rows"):
        pm.units_map(tiny_units.iloc[:0])


# ------------------------------------------------------------------------------ points


def test_points_layer_groups_icons_and_standins(tiny_points: gpd.GeoDataFrame, tiny_units: gpd.GeoDataFrame) -> None:
    groups = pm.points_layer(tiny_points, units=tiny_units)
    assert [g.layer_name for g in groups] == [
        "Chi nhánh (1)",
        "Điểm phục vụ cấp xã (2)",
        "Ki-ốt (1)",
    ]
    layers = [_layers(g)[0] for g in groups]
    branch, unit_pts, kiosk = (lay.data["features"] for lay in layers)
    assert [f["properties"]["_id"] for f in unit_pts] == ["DP1", "XSS"]
    # Branch: surveyed and overloaded -> filled, red ring.
    icon = layers[0].config["icons"][branch[0]["properties"]["_i"]]
    assert "pp-kind-branch" in icon["className"] and "pp-overloaded" in icon["className"]
    assert "pp-standin" not in icon["className"] and 'fill="#6a3d9a"' in icon["html"]
    assert "vị trí thay thế" not in branch[0]["properties"]["_p"]
    assert "Mức sử dụng</td><td>125,0%</td>" in branch[0]["properties"]["_p"]
    assert "Đơn vị</td><td>Phường Alpha (00001)</td>" in branch[0]["properties"]["_p"]
    # Both unit points are stand-ins: hollow icons, and the popup says so.
    for feat in unit_pts:
        icon = layers[1].config["icons"][feat["properties"]["_i"]]
        assert "pp-standin" in icon["className"] and 'fill="#ffffff"' in icon["html"]
        assert "Vị trí thay thế" in feat["properties"]["_p"]
        assert "vị trí thay thế" in feat["properties"]["_t"]
    assert "điểm tham chiếu của phường/xã cũ" in unit_pts[1]["properties"]["_p"]
    assert "một điểm bên trong đơn vị" in unit_pts[0]["properties"]["_p"]
    # Geocoded is not a stand-in.
    assert "pp-standin" not in layers[2].config["icons"][kiosk[0]["properties"]["_i"]]["className"]
    # Distinct shapes per kind.
    htmls = {lay.config["icons"][next(iter(lay.config["icons"]))]["html"][:200] for lay in layers}
    assert len(htmls) == 3
    legend = _legends(groups[0])[0]
    assert "Viền rỗng" in legend.html and "Viền đỏ: quá tải" in legend.html
    en = pm.points_layer(tiny_points, lang="en")
    assert en[0].layer_name == "Branch (1)"
    assert "Stand-in location" in _layers(en[1])[0].data["features"][0]["properties"]["_p"]


def test_points_layer_validates(tiny_points: gpd.GeoDataFrame) -> None:
    with pytest.raises(MissingColumnError, match="kind"):
        pm.points_layer(tiny_points.drop(columns="kind"))
    bad = tiny_points.copy()
    bad.loc["B1", "geometry"] = None
    with pytest.raises(InputError, match="B1"):
        pm.points_layer(bad)


def _many_kiosks(n: int) -> gpd.GeoDataFrame:
    """``n`` kiosks on a grid 25 m apart around Hoàn Kiếm, every tenth a stand-in."""
    side = math.ceil(math.sqrt(n))
    i = np.arange(n)
    x, y = 586_000.0 + 25.0 * (i % side), 2_326_000.0 + 25.0 * (i // side)
    prec = np.where(i % 10 == 0, "unit_representative_point", "surveyed")
    return gpd.GeoDataFrame(
        {"point_id": [f"K{k:06d}" for k in i], "name": [f"Ki-ốt {k}" for k in i], "kind": "kiosk",
         "location_precision": prec, "counters": i % 3, "unit_code": "00001"},
        geometry=gpd.points_from_xy(x, y), crs=PROJ,
    ).to_crs(settings.geographic_crs)  # fmt: skip


def test_many_points_are_clustered_and_all_kept(tmp_path: Path, tiny_units: gpd.GeoDataFrame) -> None:
    n = pm.markers.CLUSTER_MIN_POINTS + 1
    kiosks = _many_kiosks(n)
    m = pm.units_map(tiny_units, kiosks, tiles=False, roads=False)
    page = pm.save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
    calls = re.findall(r"pointplan\.layer\([^,]+, [^,]+,\s*(\{.*?\}), (\{.*?\})\);\n", page, flags=re.S)
    kiosk_layers = [(json.loads(d), json.loads(c)) for d, c in calls if '"K000000"' in d]
    assert len(kiosk_layers) == 1
    data, config = kiosk_layers[0]
    assert config["cluster"] == {"px": 60, "maxZoom": 17}
    assert [f["properties"]["_id"] for f in data["features"]] == kiosks["point_id"].tolist()  # every point, in order
    # Each point keeps its own marker, tooltip and popup, as without clusters.
    first, second = data["features"][0]["properties"], data["features"][1]["properties"]
    assert config["icons"][first["_i"]]["className"] == "pp-marker pp-kind-kiosk pp-standin"
    assert config["icons"][second["_i"]]["className"] == "pp-marker pp-kind-kiosk"
    assert first["_t"] == "<b>Ki-ốt 0</b><br>Ki-ốt · <i>vị trí thay thế</i>"
    assert "Số quầy</td><td>1</td>" in second["_p"] and "Phường Alpha (00001)" in second["_p"]
    lon, lat = data["features"][-1]["geometry"]["coordinates"]
    assert (lon, lat) == (round(kiosks.geometry.x.iloc[-1], 5), round(kiosks.geometry.y.iloc[-1], 5))
    # One fewer point: drawn one by one, without clusters.
    few = pm.points_layer(kiosks.iloc[:-1], lang="vi")
    assert "cluster" not in _layers(few[0])[0].config and len(_layers(few[0])[0].data["features"]) == n - 1


def test_data_text_is_escaped_everywhere(tiny_units: gpd.GeoDataFrame, tiny_points: gpd.GeoDataFrame) -> None:
    m = pm.units_map(tiny_units, tiny_points, metric="coverage_share")
    # Every tooltip, popup and legend holds the data as text only.
    texts = [lg.html for lg in _legends(m)] + [
        f["properties"].get(key, "") for lay in _layers(m) for f in lay.data["features"] for key in ("_t", "_p", "_l")
    ]
    assert sum(XSS_NAME in t for t in texts) == 0
    assert all("<script" not in t and "<img" not in t and "${" not in t for t in texts)
    assert sum(esc(XSS_NAME) in t for t in texts) == 5  # unit & point: tooltip and popup; unit label
    page = m.get_root().render()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "alert(1)</script>" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "<img src=x" not in page
    assert "${alert(3)}" not in page and "&#96;&#36;{alert(3)}&#96;" in page
    # The data sits in JSON that cannot close its <script>: only our own tags remain.
    n_open = len(re.findall(r"<script\b", page))
    assert n_open == len(re.findall(r"</script>", page))


# --------------------------------------------------------------------------- proposals


def test_proposals_layer_ranks_and_gains(proposals: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> None:
    group = pm.proposals_layer(types.SimpleNamespace(points=proposals), units=units)
    assert group.layer_name == "Điểm đề xuất (xếp hạng) (3)"
    layer = _layers(group)[0]
    feats = layer.data["features"]
    assert [f["properties"]["_id"] for f in feats] == ["C4", "C9", "C7"]
    pop1 = feats[0]["properties"]["_p"]
    assert "<b>Đề xuất hạng 1</b>" in pop1
    assert "Số dân được phục vụ thêm</td><td>45.678 người</td>" in pop1
    assert "Tiết kiệm (người·phút)</td><td>320.000</td>" in pop1
    assert "Phục vụ các đơn vị</td><td>Phường Ba Đình (00004)</td>" in pop1
    assert "Phường Hoàn Kiếm (00070), Phường Ba Đình (00004)" in feats[1]["properties"]["_p"]
    assert "Số dân được phục vụ thêm" not in feats[2]["properties"]["_p"]  # gain unknown
    assert feats[0]["properties"]["_t"] == "<b>#1</b> · +45.678 người"
    assert ">1</text>" in layer.config["icons"]["1"]["html"]
    with pytest.raises(MissingColumnError, match="rank"):
        pm.proposals_layer(proposals.drop(columns="rank"))
    with pytest.raises(InputError, match="rank"):
        pm.proposals_layer(proposals.assign(rank=[1, None, 3]))


# ------------------------------------------------------------- service areas, uncovered


def test_service_areas_layer_draws_the_union() -> None:
    x0, y0 = 586_000.0, 2_326_000.0
    areas = gpd.GeoDataFrame(geometry=[_square(x0, y0, 2000), _square(x0 + 1000, y0, 2000)], crs=PROJ).to_crs(
        settings.geographic_crs
    )
    group = pm.service_areas_layer(areas, max_minutes=30, mode="walk")
    assert group.layer_name == "Vùng tới được trong 30 phút (đi bộ, 6,0 km²)"
    feats = _layers(group)[0].data["features"]
    assert len(feats) == 1
    drawn = gpd.GeoSeries(_geoms(_layers(group)[0]), crs=settings.geographic_crs).to_crs(PROJ)
    assert drawn.area.iloc[0] == pytest.approx(6e6, rel=1e-3)  # 3 km x 2 km
    assert _layers(group)[0].config["style"]["interactive"] is False


def test_uncovered_layer_hand_example() -> None:
    x0, y0 = 586_000.0, 2_326_000.0
    demand = gpd.GeoDataFrame(
        {
            "population": [100.0, 300.0, 50.0, 70.0, 0.0],
            "minutes": [40.0, 60.0, 10.0, np.inf, 90.0],
            "within_standard": [False, False, True, False, False],
            "unit_code": ["00001", "00001", "00001", "00002", "00002"],
        },
        # Two points in one 1 km cell, one covered, one unreachable 3 km east, one empty.
        geometry=gpd.points_from_xy(
            [x0 + 100, x0 + 500, x0 + 300, x0 + 3100, x0 + 3200], [y0 + 100, y0 + 400] + [y0] * 3
        ),
        crs=PROJ,
    ).to_crs(settings.geographic_crs)
    demand.attrs["cell_m"] = 1000.0
    group = pm.uncovered_layer(demand, max_minutes=30)
    assert group.layer_name == "Dân cư ngoài chuẩn 30 phút (470 người)"
    layer = _layers(group)[0]
    assert layer.data["cell_m"] == [1000.0, 1000.0]
    tips = [f["properties"]["_t"] for f in layer.data["features"]]
    assert len(tips) == 2
    assert "Dân số</td><td>400 người</td>" in tips[0]
    assert "55,0 phút" in tips[0]  # (100 x 40 + 300 x 60) / 400
    assert "Dân số</td><td>70 người</td>" in tips[1] and "không tới được" in tips[1]
    cells = gpd.GeoSeries(_geoms(layer), crs=settings.geographic_crs).to_crs(PROJ)
    assert cells.area.to_numpy() == pytest.approx([1e6, 1e6], rel=5e-3)  # 1e-5° rounding
    # Capped cell count: cells double in size, people are kept.
    capped = _layers(pm.uncovered_layer(demand, cell_m=500.0, max_cells=1))[0]
    assert capped.data["cell_m"] == [4000.0, 4000.0] and len(capped.data["features"]) == 1
    assert "470 người" in capped.data["features"][0]["properties"]["_t"]


def test_uncovered_layer_sums_the_uncovered_population(hanoi_assessment: pointplan.Assessment) -> None:
    demand = hanoi_assessment.demand
    layer = _layers(pm.uncovered_layer(demand, lang="en", max_cells=10_000))[0]
    # the demand's own cell (250 m where people are dense, as pointplan run), else the WorldPop pixel
    cell = [float(demand.attrs["cell_m"])] * 2 if demand.attrs.get("cell_m") else list(demand.attrs["pixel_size_m"])
    assert layer.data["cell_m"] == cell
    coarse = _layers(pm.uncovered_layer(demand, lang="en"))[0]  # at most 2,500 cells
    assert coarse.data["cell_m"][0] >= 2 * cell[0] and coarse.data["cell_m"][0] / coarse.data["cell_m"][
        1
    ] == pytest.approx(cell[0] / cell[1])
    assert len(layer.data["features"]) > 2500 >= len(coarse.data["features"])
    shown = sum(
        float(re.search(r"Population</td><td>([\d,]+) people", f["properties"]["_t"])[1].replace(",", ""))
        for f in layer.data["features"]
    )
    expected = demand.loc[~demand["within_standard"], "population"].sum()
    assert expected > 100_000
    assert shown == pytest.approx(expected, abs=len(layer.data["features"]))  # rounding


# ------------------------------------------------------------------- the tiny city


def _group_names(m: folium.Map) -> list[str]:
    return [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]


def test_tiny_city_map_follows_the_or_5_km_rule(tiny_city: dict[str, Any]) -> None:
    """Real assess: d2 is 3 km away (15 min > 10 min) yet within 5 km, so it is covered."""
    a = _tiny_assessment(tiny_city, max_minutes=10, max_distance_m=5000)
    m = pm.assessment_map(a, lang="en", tiles=False)
    names = _group_names(m)
    assert names[0] == "Units: Population share within the standard"
    assert names[1].startswith("Within the standard (10 min or 5 km) (")
    # Only d3 (40 people, 10.5 km, 52.5 min) is beyond the standard; without the 5 km part
    # d2 (60 people) would be too.
    assert names[2] == "People beyond the standard (10 min or 5 km) (40 people)"
    assert names[3:] == [
        "Unit service point (1)",
        "Unit outlines and names",
        "Main roads of the inner city (OpenStreetMap 2025)",
    ]
    units_lay, area_lay, cell_lay = _layers(m)[:3]
    # Unit A: all 300 covered (blue end); unit B: 60 of 100 -> 0.6, the 7th of 11 stops.
    fills = [f["properties"]["_s"]["fillColor"] for f in units_lay.data["features"]]
    assert fills == ["#313695", "#e0f3f8"]
    assert (
        "Population share within the standard</td><td>60.0%</td>" in units_lay.data["features"][1]["properties"]["_t"]
    )
    # The service area is the 5 km disc around P1 (10 min at 12 km/h is only 2 km).
    disc = gpd.GeoSeries(_geoms(area_lay), crs=settings.geographic_crs).to_crs(PROJ)
    assert disc.area.iloc[0] == pytest.approx(math.pi * 5000**2, rel=0.01)
    assert disc.iloc[0].contains(shapely.Point(585_000 + 4000, 2_325_000 + 1000))  # d2
    (cell,) = cell_lay.data["features"]
    assert "40 people" in cell["properties"]["_t"] and "52.5 min" in cell["properties"]["_t"]
    title = next(lg for lg in _legends(m) if lg.position == "topleft").html
    assert "Population within the standard: 90.0%" in title  # (300 + 60) / 400
    assert "or 5 km" in title
    point = _layers(m)[3].data["features"][0]["properties"]["_p"]
    assert "Visits/day</td><td>40.0</td>" in point  # A 30 + B 10, one point
    page = m.get_root().render()
    for source in ("units", "population", "osm"):
        assert json.dumps(pm.SOURCES["en"][source], ensure_ascii=False)[1:-1] in page
    assert "GTFS" not in page


def test_tiny_city_map_without_the_distance_rule_shows_more_people(tiny_city: dict[str, Any]) -> None:
    """The same city with a 5 km rule that reaches no one further: d2 and d3 are beyond."""
    a = _tiny_assessment(tiny_city, max_minutes=10, max_distance_m=1)
    names = _group_names(pm.assessment_map(a, lang="en", tiles=False, roads=False))
    assert names[2] == "People beyond the standard (10 min or 0 km) (100 people)"


# ------------------------------------------------------------------ offline context


def test_unit_names_layer_labels_and_outlines(tiny_units: gpd.GeoDataFrame) -> None:
    group = pm.unit_names_layer(tiny_units)
    assert group.layer_name == "Ranh giới và tên đơn vị"
    outlines, names = _layers(group)
    assert outlines.config["interactive"] is False and outlines.config["style"]["fill"] is False
    assert len(outlines.data["features"]) == 3 and outlines.data["features"][0]["geometry"]["type"] == "Polygon"
    labels = [f["properties"] for f in names.data["features"]]
    assert [p["_l"] for p in labels] == ["Phường Alpha", "Xã Beta", "Phường " + esc(XSS_NAME)]
    # A 1 km square is 70 px wide from zoom log2(70 x 156543 x cos 21° / 1000) = 13.3 -> 14.
    assert [p["_z"] for p in labels] == [14, 14, 14]
    anchors = gpd.GeoSeries(_geoms(names), crs=settings.geographic_crs).to_crs(PROJ)
    assert all(tiny_units.to_crs(PROJ).geometry.iloc[i].contains(anchors.iloc[i]) for i in range(3))
    shared = _layers(pm.unit_names_layer(tiny_units, share="units", reuse_shared=True))[0]
    assert shared.config["share"] == "units"
    assert all(f["geometry"] is None for f in shared.data["features"])
    with pytest.raises(InputError, match="share key"):
        pm.unit_names_layer(tiny_units, reuse_shared=True)


def test_shipped_roads_are_the_small_main_roads_of_the_inner_city() -> None:
    roads = pm.load_roads()
    assert roads["classes"] == ["motorway", "trunk", "primary", "secondary", "tertiary"]
    assert roads["license"].startswith("ODbL")
    classes = [f["properties"]["c"] for f in roads["features"]]
    assert set(classes) == {0, 1, 2, 3, 4}
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in roads["features"]])
    assert set(shapely.get_type_id(geoms)) <= {1, 5}  # LineString, MultiLineString
    xy = shapely.get_coordinates(geoms)
    # Within the inner-city network's bbox (data/SOURCES.md gives it to 1e-3 degree), and
    # rounded to 1e-5 degree.
    assert xy[:, 0].min() >= 105.6915 and xy[:, 0].max() <= 106.0285
    assert xy[:, 1].min() >= 20.8375 and xy[:, 1].max() <= 21.1225
    assert np.allclose(xy, np.round(xy, 5))
    km = gpd.GeoSeries(geoms, crs=settings.geographic_crs).to_crs(PROJ).length.sum() / 1000
    assert 700 < km < 2500
    from importlib import resources

    size = resources.files("pointplan.maps").joinpath(pm.context.ROADS_FILE).stat().st_size  # type: ignore[attr-defined]
    assert size < 400_000


@pytest.mark.slow
def test_shipped_roads_follow_the_network_they_come_from() -> None:
    """The shipped file is what tools/derive_map_roads.py makes, and it lies on the roads."""
    import importlib.util

    import osmnx as ox

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("derive_map_roads", root / "tools" / "derive_map_roads.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    graph = ox.load_graphml(root / "data" / "osm" / "hanoi_inner_drive_2025.graphml.gz")
    assert tool.derive(graph, 12.0) == pm.load_roads()
    # Independently: the trunk-to-tertiary edges of the graph, straight from networkx.
    kept = []
    for u, v, d in graph.edges(data=True):
        tags = d["highway"] if isinstance(d["highway"], list) else [d["highway"]]
        if set(tags) & {"motorway", "trunk", "primary", "secondary", "tertiary"}:
            kept.append(
                d.get("geometry") or shapely.LineString([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)])
            )
    edges = gpd.GeoSeries(kept, crs="EPSG:4326").to_crs(PROJ)
    shipped = gpd.GeoSeries(
        shapely.from_geojson([json.dumps(f["geometry"]) for f in pm.load_roads()["features"]]), crs="EPSG:4326"
    ).to_crs(PROJ)
    # Simplified by 12 m and rounded to ~1 m: every point of it lies within 15 m of an
    # edge, and (but for fragments the merge drops) every edge within 15 m of it.
    assert np.quantile(_distances(shipped.values, edges.values), 0.999) < 15.0
    assert np.quantile(_distances(edges.values, shipped.values), 0.99) < 15.0


def _distances(lines: np.ndarray, targets: np.ndarray, step_m: float = 25.0) -> np.ndarray:
    """Distance from points every ``step_m`` along ``lines`` to the nearest of ``targets``."""
    parts = shapely.get_parts(lines)
    samples = [shapely.line_interpolate_point(g, np.arange(0.0, g.length, step_m)) for g in parts]
    points = np.concatenate(samples)
    _, dist = shapely.STRtree(targets).query_nearest(points, return_distance=True, all_matches=False)
    return dist


def test_attributions_follow_what_the_map_shows(tiny_units: gpd.GeoDataFrame, tmp_path: Path) -> None:
    def credited(m: folium.Map) -> list[str]:
        return next(c for c in m._children.values() if isinstance(c, pm.elements.Attribution)).texts

    bare = pm.units_map(tiny_units, tiles=False, roads=False, lang="en")
    assert credited(bare) == [pm.SOURCES["en"]["units"]]
    assert credited(pm.units_map(tiny_units, tiles=False)) == [pm.SOURCES["vi"]["units"], pm.SOURCES["vi"]["osm"]]
    assert "OpenStreetMap" in pm.SOURCES["vi"]["osm"] and "ODbL" in pm.SOURCES["vi"]["osm"]
    assert "WorldPop" in pm.SOURCES["en"]["population"] and "CC-BY-4.0" in pm.SOURCES["en"]["population"]
    assert "sapnhap.bando.com.vn" in pm.SOURCES["en"]["units"] and "MIT" in pm.SOURCES["en"]["units"]
    assert "CC-BY" in pm.SOURCES["en"]["bus"]
    with_bus = pm.units_map(tiny_units, tiles=False, roads=False, sources=["bus"])
    assert credited(with_bus)[-1] == pm.SOURCES["vi"]["bus"]
    with pytest.raises(InputError, match="source"):
        pm.units_map(tiny_units, sources=["ferries"])


# -------------------------------------------------------------------------- whole maps


def test_assessment_map_layers_and_title(hanoi_assessment: pointplan.Assessment, proposals: gpd.GeoDataFrame) -> None:
    m = pm.assessment_map(hanoi_assessment, proposals)
    names = _group_names(m)
    assert names[0] == "Đơn vị hành chính: Tỷ lệ dân số trong chuẩn"
    assert names[1].startswith("Vùng trong chuẩn (15 phút hoặc 1 km) (đi bộ, ")
    assert names[2].startswith("Dân cư ngoài chuẩn (15 phút hoặc 1 km) (")
    assert names[3:] == [
        "Chi nhánh (3)",
        "Điểm phục vụ cấp xã (126)",
        "Điểm phục vụ cộng đồng (1)",
        "Điểm lưu động (1)",
        "Ki-ốt (1)",
        "Điểm đề xuất (xếp hạng) (3)",
        "Ranh giới và tên đơn vị",
        "Đường chính nội thành (OpenStreetMap 2025)",
    ]
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())
    title = next(lg for lg in _legends(m) if lg.position == "topleft").html
    # On foot the standard is the minutes alone; the distance clause is its own line.
    s = hanoi_assessment.summary
    walk, within_km = s["within_minutes_share_by_mode"]["walk"], s["population_within_5_km_share"]
    assert 0.05 < walk < within_km < 0.95
    assert f"Đi bộ ≤ 15 phút (chuẩn khi đi bộ): {fmt_value(walk, 'share', 'vi')}" in title
    assert f"≤ 1 km đường chim bay (tính riêng): {fmt_value(within_km, 'share', 'vi')}" in title
    assert "Dân số trong chuẩn" not in title
    assert "Chuẩn: 15 phút (đi bộ) hoặc 1 km" in title and "đường chim bay" in title
    assert "131/132 điểm ở vị trí thay thế" in title
    legend = next(lg for lg in _legends(m) if lg.position == "bottomleft").html
    assert "Điểm đề xuất" in legend and "Vùng trong chuẩn (15 phút hoặc 1 km)" in legend
    assert "Đường chính (nội thành)" in legend
    page = m.get_root().render()
    for source in ("units", "population", "osm"):
        assert json.dumps(pm.SOURCES["vi"][source], ensure_ascii=False)[1:-1] in page


def test_extra_metric_layers_share_the_unit_shapes(hanoi_assessment: pointplan.Assessment) -> None:
    """More metric layers add their colours and tooltips, not another copy of the shapes."""
    kw: dict[str, Any] = {"service_areas": False, "uncovered": False, "tiles": False, "roads": False}
    one = pm.assessment_map(hanoi_assessment, **kw)
    three = pm.assessment_map(hanoi_assessment, extra_metrics=("mean_minutes", "population"), **kw)
    unit_layers = [lay for lay in _layers(three) if lay.config.get("pane") == "pp-units"]
    assert len(unit_layers) == 3
    assert all(f["geometry"] is not None for f in unit_layers[0].data["features"])
    for lay in unit_layers[1:]:
        assert lay.config["share"] == unit_layers[0].config["share"] == "units"
        assert all(f["geometry"] is None and "_p" not in f["properties"] for f in lay.data["features"])
        # Each extra layer has its own colours.
        assert [f["properties"]["_s"] for f in lay.data["features"]] != [
            f["properties"]["_s"] for f in unit_layers[0].data["features"]
        ]
    outlines = next(lay for lay in _layers(three) if lay.config.get("pane") == "pp-outlines")
    assert outlines.config["share"] == "units" and all(f["geometry"] is None for f in outlines.data["features"])
    groups = [c for c in three._children.values() if isinstance(c, folium.FeatureGroup)]
    assert [g.show for g in groups[:3]] == [True, False, False]
    size_one = len(one.get_root().render())
    size_three = len(three.get_root().render())
    assert size_three < size_one * 1.35


def test_assessment_map_needs_what_it_draws(units: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="assess"):
        pm.assessment_map(types.SimpleNamespace(units=units))
    bare = types.SimpleNamespace(units=units, points=None)
    with pytest.raises(InputError, match="points"):
        pm.assessment_map(bare)
    no_demand = types.SimpleNamespace(units=units, points=units.representative_point())
    with pytest.raises(InputError, match="uncovered=False"):
        pm.assessment_map(no_demand)


def _run_map(assessment: pointplan.Assessment, proposals: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The map of `pointplan run` (first metric shown, the others as layers)."""
    return pm.assessment_map(assessment, proposals, metric=MAP_METRICS[0], extra_metrics=MAP_METRICS[1:])


def test_full_hanoi_maps_stay_small(
    tmp_path: Path,
    hanoi_assessment: pointplan.Assessment,
    proposals: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
) -> None:
    default = pointplan.assess(points, units)  # 30 min or 5 km, as `pointplan run`
    sizes = {}
    for name, m in {
        "run": _run_map(default, proposals),
        "strict": _run_map(hanoi_assessment, proposals),
        "units": pm.units_map(units, points, metric="population"),
    }.items():
        sizes[name] = pm.save_map(m, tmp_path / f"{name}.html").stat().st_size
        sizes[name + "_cdn"] = pm.save_map(m, tmp_path / f"{name}_cdn.html", cdn=True).stat().st_size
    print("map sizes (bytes):", sizes)
    for name in ("run", "strict", "units"):
        assert sizes[name] <= MAX_MAP_BYTES, (name, sizes[name])
        # The CDN file lacks Leaflet's code and CSS (about 150 kB), nothing else.
        assert 100_000 < sizes[name] - sizes[name + "_cdn"] < 250_000


# ------------------------------------------------------------------------------ saving


_REMOTE = re.compile(r"<(?:script|link)\b[^>]*(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)


def test_save_map_is_self_contained_by_default(
    tmp_path: Path, tiny_units: gpd.GeoDataFrame, tiny_points: gpd.GeoDataFrame
) -> None:
    m = pm.units_map(tiny_units, tiny_points)
    target = tmp_path / "sub" / "map.html"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    path = pm.save_map(m, target)
    assert path == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["map.html"]  # no temp left
    page = path.read_text(encoding="utf-8")
    assert not _REMOTE.search(page)
    for lib in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers"):
        assert lib not in page.lower()
    assert 't.version="1.9.3"' in page  # Leaflet's own code, from xstatic-leaflet
    assert ".leaflet-control-layers-toggle" in page  # Leaflet's CSS ...
    assert "url(data:image/png;base64," in page and "url(images/" not in page  # ... its images
    assert "sourceMappingURL" not in page
    assert ".pp-label span" in page and "window.pointplan" in page  # the package's templates
    legacy = pm.save_map(m, tmp_path / "legacy.html", offline=True).read_text(encoding="utf-8")
    assert not _REMOTE.search(legacy) and 't.version="1.9.3"' in legacy


def test_save_map_cdn_links_only_leaflet(tmp_path: Path, tiny_units: gpd.GeoDataFrame) -> None:
    page = pm.save_map(pm.units_map(tiny_units), tmp_path / "m.html", cdn=True).read_text("utf-8")
    urls = re.findall(r'(?:src|href)="(https?://[^"]+)"', page)
    assert urls == [
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
    ]
    same = pm.save_map(pm.units_map(tiny_units), tmp_path / "legacy.html", offline=False).read_text("utf-8")
    assert re.findall(r'(?:src|href)="(https?://[^"]+)"', same) == urls
    with pytest.raises(InputError, match="contradict"):
        pm.save_map(pm.units_map(tiny_units), tmp_path / "x.html", cdn=True, offline=True)


def test_save_map_refuses_what_it_cannot_embed(tmp_path: Path, tiny_units: gpd.GeoDataFrame) -> None:
    m = pm.units_map(tiny_units, tiles=False)
    folium.Marker([21.03, 105.85], icon=folium.Icon(icon="home"), popup="x").add_to(m)
    online = pm.save_map(m, tmp_path / "online.html", cdn=True).read_text("utf-8")
    assert "leaflet.awesome-markers" in online and "jquery" in online  # still needed online
    with pytest.raises(OfflineError, match="cdn=True"):
        pm.save_map(m, tmp_path / "offline.html")
    assert not (tmp_path / "offline.html").exists()
    for tag in (
        '<script src="https://example.org/plugin.js"></script>',
        '<script type="module" src="//example.org/plugin.js"></script>',
        "<link href='https://example.org/x.css' rel='stylesheet'>",
    ):
        m = pm.units_map(tiny_units, tiles=False)
        m.get_root().header.add_child(folium.Element(tag))
        with pytest.raises(OfflineError, match=r"example\.org"):
            pm.save_map(m, tmp_path / "offline.html")


def test_save_map_errors(tmp_path: Path, tiny_units: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match=r"folium\.Map"):
        pm.save_map(pm.units_layer(tiny_units), tmp_path / "x.html")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="writable"):
        pm.save_map(pm.units_map(tiny_units), blocker / "map.html")


@pytest.mark.slow
def test_cli_map_is_self_contained_unless_cdn(tmp_path: Path) -> None:
    from pointplan import cli

    assert cli.main(["-q", "map", "--out", str(tmp_path / "map.html")]) == 0
    assert cli.main(["-q", "map", "--cdn", "--out", str(tmp_path / "map_cdn.html")]) == 0
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    cdn = (tmp_path / "map_cdn.html").read_text(encoding="utf-8")
    assert not _REMOTE.search(page) and 't.version="1.9.3"' in page
    assert re.findall(r'<script src="(https?://[^"]+)"', cdn) == [
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
    ]
    assert len(cdn) < len(page) - 100_000
    with pytest.raises(SystemExit):
        cli.main(["-q", "map", "--cdn", "--offline", "--out", str(tmp_path / "x.html")])


@pytest.mark.slow
def test_run_writes_a_self_contained_map_unless_cdn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pointplan import cli
    from pointplan.cli import analysis

    assert cli.main(["-q", "run", "--out", str(tmp_path / "out"), "--add", "0"]) == 0
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert not _REMOTE.search(page) and 't.version="1.9.3"' in page
    assert (tmp_path / "out" / "map.html").stat().st_size <= MAX_MAP_BYTES
    assert '"pane":"pp-roads"' in page and '"pane":"pp-labels"' in page
    # --cdn reaches run() (checked without a second run).
    seen: dict[str, Any] = {}

    def fake_run(out: Path, **kw: Any) -> dict[str, Path]:
        seen.update(kw)
        raise SystemExit(0)

    monkeypatch.setattr(analysis, "run", fake_run)
    for argv, cdn in ((["run", "--cdn"], True), (["run"], False)):
        seen.clear()
        with pytest.raises(SystemExit):
            cli.main(["-q", *argv, "--out", str(tmp_path / "x")])
        assert seen["cdn"] is cdn


# ---------------------------------------------------------------------- real browser


_BROWSER_SKIP = browser.unavailable_reason()


@pytest.fixture(scope="module")
def chromium() -> browser.Chromium:
    if _BROWSER_SKIP:
        pytest.skip(_BROWSER_SKIP)
    with browser.Chromium() as b:
        yield b


@pytest.mark.browser
def test_browser_harness_sees_dialogs_errors_and_requests(chromium: browser.Chromium, tmp_path: Path) -> None:
    """The checks below can fail: the harness does catch an alert, an error, a download."""
    page_file = tmp_path / "bad.html"
    page_file.write_text(
        '<html><body><img src="https://example.org/x.png">'
        "<script>alert('hi'); throw new Error('boom');</script></body></html>",
        encoding="utf-8",
    )
    page = chromium.open(page_file, settle_s=0.2)
    assert page.dialogs == ["alert: hi"]
    assert len(page.errors) == 1 and "boom" in page.errors[0]
    assert page.blocked == ["https://example.org/x.png"]
    page.close()


_HOVER_UNIT = """(function () {
    var paths = document.querySelectorAll('path.pp-unit');
    for (var i = 0; i < paths.length; i++) {
        var r = paths[i].getBoundingClientRect();
        var x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (document.elementFromPoint(x, y) === paths[i]) { return [x, y]; }
    }
    return null;
})()"""

_CLICK_XSS = """(function () {
    document.querySelector('.leaflet-marker-icon[data-pid="XSS"]').click();
    var c = document.querySelector('.leaflet-popup-content');
    return {text: c.innerText, scripts: c.querySelectorAll('script,img').length};
})()"""

_TOGGLE = """(function (name) {
    var labels = document.querySelectorAll('.leaflet-control-layers label');  // collapsed: use textContent
    var box = Array.from(labels).find(function (l) { return l.textContent.indexOf(name) >= 0; });
    box.querySelector('input').click();
    return true;
})"""

_EXPAND_CONTROL = (
    "document.querySelectorAll('.leaflet-control-layers').forEach("
    "function (c) { c.classList.add('leaflet-control-layers-expanded'); })"
)

_VISIBLE_LABELS = "document.querySelectorAll('.pp-label:not(.pp-hidden)').length"


def _map_var(page: browser.Page) -> str:
    return str(page.evaluate("Object.keys(window).find(function (k) { return /^map_[0-9a-f]+$/.test(k); })"))


@pytest.mark.browser
@pytest.mark.slow
def test_self_contained_assessment_map_offline_in_headless_chromium(
    chromium: browser.Chromium,
    tmp_path: Path,
    hanoi_assessment: pointplan.Assessment,
    proposals: gpd.GeoDataFrame,
) -> None:
    m = _run_map(hanoi_assessment, proposals)
    path = pm.save_map(m, tmp_path / "map.html")
    page = chromium.open(path, settle_s=1.0)
    assert page.errors == [] and page.dialogs == []
    # The only requests that tried to leave the machine are map tiles (refused).
    assert page.blocked and all(u.startswith("https://tile.openstreetmap.org/") for u in page.blocked)
    layers = _layers(m)
    cells = len(next(lay for lay in layers if lay.config.get("pane") == "pp-cells").data["features"])
    roads = len(pm.load_roads()["features"])
    assert cells > 10
    # One thing at a time: the first metric and the points; areas and people beyond the standard wait
    assert page.count("path.pp-unit.leaflet-interactive") == 126
    assert page.count("path.pp-area") == 0 and page.count("path.pp-cell") == 0
    assert page.count("path.pp-outline") == 126 and page.count("path.pp-road") == roads
    n_markers = len(hanoi_assessment.points) + 3
    assert page.count(".leaflet-marker-icon.pp-marker") == n_markers
    assert page.count(".pp-marker.pp-standin") == 131
    assert page.count(".pp-kind-proposed") == 3
    assert page.count(".pp-legend") == 3 and page.count(".pp-units-legend") == 1  # title, points, one ramp
    assert page.count(".leaflet-control-layers-base input") == len(MAP_METRICS)  # metrics: radio buttons
    assert page.count(".leaflet-control-layers-overlays input") == 11
    page.evaluate(_TOGGLE + "('Vùng ')")
    page.evaluate(_TOGGLE + "('Dân cư ngoài chuẩn')")
    assert page.count("path.pp-area") == 1 and page.count("path.pp-cell") == cells
    # Areas, outlines and roads take no mouse events: the units' tooltips stay reachable.
    assert page.count("path.leaflet-interactive") == 126 + cells
    # Secondary and tertiary roads wait for zoom 11 and 12.
    minor = sum(f["properties"]["c"] >= 3 for f in pm.load_roads()["features"])
    assert 0 < minor < roads
    assert page.count('path.pp-road[stroke-opacity="0"]') == minor
    # Names: none at the opening zoom (no unit is 70 px wide), the big xã from zoom 11,
    # the small inner phường from 13-14 (see label_min_zoom).
    assert page.count(".pp-label") == 126
    opening = page.evaluate(_VISIBLE_LABELS)
    assert page.evaluate(f"{_map_var(page)}.getZoom()") <= 10
    page.evaluate(f"{_map_var(page)}.setZoom(11, {{animate: false}}) && true")
    page.settle(0.3)
    at_11 = page.evaluate(_VISIBLE_LABELS)
    assert opening < at_11 < 126
    page.evaluate(_EXPAND_CONTROL)  # the layer control is collapsed: open it as a hover would
    text = page.evaluate("document.body.innerText")
    assert "Thời gian đi trung bình (phút)" in text and "Điểm phục vụ cấp xã (126)" in text
    assert "Đường chính nội thành (OpenStreetMap 2025)" in text and "Đường chính (nội thành)" in text
    for source in ("units", "population", "osm"):
        assert pm.SOURCES["vi"][source] in text
    shot = page.screenshot(ARTIFACTS / "map_offline_vi.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A person hovering over a unit gets its tooltip.
    xy = page.evaluate(_HOVER_UNIT)
    assert xy is not None
    page.hover(*xy)
    tips = page.evaluate("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(e => e.innerText)")
    assert len(tips) == 1 and "Dân số" in tips[0] and "Thời gian đi trung bình (phút)" in tips[0]
    assert tips[0].split("\n")[0].startswith(("Phường ", "Xã "))
    page.hover(5, 450)  # away again: the tooltip closes
    # The first proposal's popup gives its rank and gain.
    proposal = page.evaluate(
        """(function () {
            document.querySelector('.leaflet-marker-icon[data-pid="C4"]').click();
            return document.querySelector('.leaflet-popup-content').innerText;
        })()"""
    )
    assert "Đề xuất hạng 1" in proposal and "45.678 người" in proposal
    page.evaluate(f"{_map_var(page)}.closePopup() && true")
    page.settle(0.5)
    # The hostile point's popup shows its name as text and runs nothing.
    popup = page.evaluate(_CLICK_XSS)
    page.settle(0.3)
    assert XSS_NAME in popup["text"] and XSS_NOTES in popup["text"]
    assert "`${alert(3)}`" in popup["text"]
    assert popup["scripts"] == 0
    assert page.dialogs == [] and page.errors == []
    # Zoomed in on Hoàn Kiếm (offline: roads, outlines and names give the context).
    page.evaluate(f"{_map_var(page)}.closePopup().setView([21.028, 105.852], 14, {{animate: false}}) && true")
    page.settle(0.5)
    assert page.evaluate(_VISIBLE_LABELS) > 0
    visible = page.evaluate(
        "Array.from(document.querySelectorAll('.pp-label:not(.pp-hidden)')).map(e => e.innerText).join('|')"
    )
    assert "Hoàn Kiếm" in visible
    assert page.count('path.pp-road[stroke-opacity="0"]') == 0
    page.screenshot(ARTIFACTS / "map_offline_vi_zoom14.png")
    # Another metric: one units layer and one legend, which follows the choice; hiding the
    # names hides the labels.
    page.evaluate(_TOGGLE + "('Tỷ lệ dân số trong chuẩn')")
    legends = page.evaluate("Array.from(document.querySelectorAll('.pp-units-legend')).map(e => e.textContent)")
    assert len(legends) == 1 and "Tỷ lệ dân số trong chuẩn" in legends[0]
    assert page.count("path.pp-unit") == 126
    page.evaluate(_TOGGLE + "('Ranh giới và tên đơn vị')")
    assert page.count(".pp-label") == 0 and page.count("path.pp-outline") == 0
    assert page.count("path.pp-road") == roads
    page.screenshot(ARTIFACTS / "map_offline_vi_roads_only.png")
    assert page.errors == []
    page.close()


@pytest.mark.browser
def test_clustered_points_open_when_zoomed_in(
    chromium: browser.Chromium, tmp_path: Path, tiny_units: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 20_000
    monkeypatch.setattr(settings, "map_markers_max_points", n)  # one marker per point (not per grid cell)
    kiosks = _many_kiosks(n)
    m = pm.units_map(tiny_units, kiosks, tiles=False, roads=False, unit_names=False)
    page = chromium.open(pm.save_map(m, tmp_path / "many.html"), settle_s=1.0)
    assert page.errors == [] and page.dialogs == []
    west, south, east, north = kiosks.total_bounds
    page.evaluate(f"{_map_var(page)}.fitBounds([[{south}, {west}], [{north}, {east}]], {{animate: false}}) && true")
    page.settle(0.5)
    counts = page.evaluate(
        "Array.from(document.querySelectorAll('.pp-cluster span')).map(e => parseInt(e.textContent, 10))"
    )
    assert counts and page.count(".pp-marker") < 50  # the city-wide view: numbered circles, few markers
    assert sum(counts) + page.count(".pp-marker") == n  # ... that together hold every point
    lon, lat = kiosks.geometry.x.iloc[n // 2], kiosks.geometry.y.iloc[n // 2]
    page.evaluate(f"{_map_var(page)}.setView([{lat}, {lon}], 18, {{animate: false}}) && true")
    page.settle(0.5)
    assert page.count(".pp-cluster") == 0 and 0 < page.count(".pp-marker") < n  # one marker per point in view
    page.evaluate("document.querySelector('.pp-marker').click() && true")
    assert page.errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_cdn_map_needs_only_leaflet(
    chromium: browser.Chromium,
    tmp_path: Path,
    units: gpd.GeoDataFrame,
    hanoi_points_xss: gpd.GeoDataFrame,
) -> None:
    """The CDN file "online": Leaflet and the tiles served locally, all else refused."""
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    cdn = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/"
    tile = base / "images" / "layers.png"  # any PNG stands in for a tile
    m = pm.units_map(units, hanoi_points_xss, metric="density_per_km2", lang="en")
    path = pm.save_map(m, tmp_path / "units_cdn_en.html", cdn=True)
    page = chromium.open(
        path,
        serve={
            cdn + "leaflet.js": base / "leaflet.js",
            cdn + "leaflet.css": base / "leaflet.css",
            cdn + "images/layers.png": tile,  # the collapsed layer control's icon
            cdn + "images/layers-2x.png": base / "images" / "layers-2x.png",
            "https://tile.openstreetmap.org/*": tile,
        },
    )
    assert page.errors == [] and page.dialogs == [] and page.blocked == []
    served = {u for u in page.served if u.startswith(cdn)}
    assert {cdn + "leaflet.css", cdn + "leaflet.js"} <= served
    assert served <= {cdn + "leaflet.css", cdn + "leaflet.js", cdn + "images/layers.png", cdn + "images/layers-2x.png"}
    # Reachable tiles are drawn under the layers.
    tiles = [u for u in page.served if u.startswith("https://tile.openstreetmap.org/")]
    assert tiles and page.count("img.leaflet-tile-loaded") == len(set(tiles))
    assert page.count("path.pp-unit") == 126 and page.count("path.pp-outline") == 126
    assert page.count(".pp-marker") == len(hanoi_points_xss)
    page.evaluate(_EXPAND_CONTROL)
    text = page.evaluate("document.body.innerText")
    assert "Population density (people/km²)" in text and "Unit service point (126)" in text
    assert pm.SOURCES["en"]["osm"] in text and "WorldPop" not in text
    page.screenshot(ARTIFACTS / "units_cdn_en.png")
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_map_without_tiles_uses_no_network_at_all(
    chromium: browser.Chromium,
    tmp_path: Path,
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
) -> None:
    m = pm.units_map(units, points, tiles=False)
    path = pm.save_map(m, tmp_path / "units_offline_vi.html")
    page = chromium.open(path)
    assert page.errors == [] and page.dialogs == []
    assert page.blocked == [] and page.console == []
    assert page.count("path.pp-unit") == 126
    assert page.count(".pp-marker") == len(points)
    assert page.count("path.pp-road") == len(pm.load_roads()["features"])
    page.screenshot(ARTIFACTS / "units_offline_vi.png")
    page.close()


def test_very_many_points_of_a_kind_are_drawn_by_grid_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    # 40 kiosks in four clumps 3 km apart (10 each, 1-2 counters), 1 unit point; at most 8 markers a kind
    monkeypatch.setattr(settings, "map_markers_max_points", 8)
    rng = np.random.default_rng(2)
    x = np.repeat(585_000.0 + 3000.0 * np.arange(4), 10) + rng.uniform(0, 50, 40)
    counters = rng.integers(1, 3, 40)
    kiosks = gpd.GeoDataFrame(
        {"name": [f"K{i}" for i in range(40)], "kind": "kiosk", "counters": counters, "visits_per_day": 2.5},
        geometry=gpd.points_from_xy(x, np.full(40, 2_325_000.0)),
        crs="EPSG:32648",
    )
    unit = gpd.GeoDataFrame({"name": ["U"], "kind": ["unit_point"]}, geometry=[shapely.Point(590_000, 2_326_000)],
                            crs="EPSG:32648")  # fmt: skip
    groups = pm.points_layer(pd.concat([kiosks, unit], ignore_index=True), lang="en")
    names = [g.layer_name for g in groups]
    assert names == ["Unit service point (1)", "Kiosk (40)"]  # the layer still counts every point
    feats = _layers(groups[1])[0].data["features"]
    assert len(feats) == 4  # one marker per clump (250-m cells)
    popups = [f["properties"]["_p"] for f in feats]
    assert all("<td>Points</td><td>10</td>" in p for p in popups)
    shown = sum(int(re.search(r"<td>Counters</td><td>(\d+)</td>", p).group(1)) for p in popups)
    assert shown == int(counters.sum())
    assert all("<td>Visits/day</td><td>25.0</td>" in p for p in popups)  # 10 x 2.5
    assert all("<td>Points overloaded</td><td>0</td>" in p for p in popups)
    assert len(_layers(groups[0])[0].data["features"]) == 1  # a small kind keeps its marker
