"""Tests of pointplan.maps: layers, labels, escaping, size, offline files, a real browser."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

import pointplan.maps as pm
from pointplan import settings
from pointplan._errors import (
    CRSError,
    DataNotFoundError,
    InputError,
    MissingColumnError,
    OfflineError,
    OutputError,
)
from pointplan.points import POINT_KINDS

sys.path.insert(0, str(Path(__file__).parent))
import browser  # tests/browser.py, the shared headless-browser helper

ARTIFACTS = Path(__file__).parent / "_artifacts"
XSS_NAME = "<script>alert(1)</script>"
XSS_NOTES = "<img src=x onerror=alert(2)>"
XSS_ADDRESS = "`${alert(3)}` \\ '\""
PROJ = settings.projected_crs


# ------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def units() -> gpd.GeoDataFrame:
    from pointplan.data import load_units

    try:
        return load_units()
    except DataNotFoundError as exc:
        pytest.skip(f"reference data not found: {exc}")


@pytest.fixture(scope="module")
def points(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from pointplan.points import load_points

    return load_points(units=units)


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


def _fake_assessment(
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    *,
    cell_m: float = 2000.0,
    standard_minutes: float = 15.0,
    speed_kmh: float = 25.0,
) -> types.SimpleNamespace:
    """A duck-typed Assessment: grid demand, crow-flies minutes, per-unit statistics."""
    proj_units = units.to_crs(PROJ)
    xmin, ymin, xmax, ymax = proj_units.total_bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, cell_m), np.arange(ymin, ymax, cell_m))
    gx, gy = gx.ravel(), gy.ravel()
    pts = shapely.points(gx, gy)
    left, right = proj_units.sindex.query(pts, predicate="within")
    left, first = np.unique(left, return_index=True)
    codes = np.asarray(proj_units.index)[right[first]]
    demand = gpd.GeoDataFrame({"unit_code": codes}, geometry=gpd.GeoSeries(pts[left], crs=PROJ), crs=PROJ)
    n_in_unit = demand.groupby("unit_code")["unit_code"].transform("size")
    demand["population"] = units["population"].reindex(demand["unit_code"]).to_numpy() / n_in_unit.to_numpy()
    pxy = shapely.get_coordinates(points.to_crs(PROJ).geometry.values)
    dist, idx = cKDTree(pxy).query(shapely.get_coordinates(demand.geometry.values))
    demand["nearest_point"] = np.asarray(points.index)[idx]
    demand["distance_m"] = dist * 1.3
    demand["minutes"] = demand["distance_m"] / (speed_kmh * 1000 / 60)
    demand["within_standard"] = demand["minutes"] <= standard_minutes
    demand = demand.to_crs(settings.geographic_crs)

    w = demand["population"]
    g = demand.assign(wp=w, wm=w * demand["minutes"], wc=w * demand["within_standard"], n=1).groupby("unit_code")
    stats = g[["wp", "wm", "wc"]].sum()
    out_units = units.copy()
    out_units["coverage_share"] = (stats["wc"] / stats["wp"]).reindex(units.index)
    out_units["mean_minutes"] = (stats["wm"] / stats["wp"]).reindex(units.index)
    out_units["n_points"] = points.groupby("unit_code").size().reindex(units.index).fillna(0)
    out_points = points.copy()
    out_points["visits_per_day"] = 20.0
    out_points["capacity_per_day"] = 40.0
    out_points["utilisation"] = 0.5
    out_points["load_status"] = "ok"
    out_points["population_served"] = (
        demand.groupby("nearest_point")["population"].sum().reindex(points.index).fillna(0.0)
    )

    def service_areas(max_minutes: float | None = None) -> gpd.GeoDataFrame:
        radius_m = (max_minutes or standard_minutes) * speed_kmh * 1000 / 60 / 1.3
        geoms = points.to_crs(PROJ).geometry.buffer(radius_m, quad_segs=8)
        return gpd.GeoDataFrame(geometry=geoms, crs=PROJ).to_crs(settings.geographic_crs)

    return types.SimpleNamespace(
        units=out_units,
        points=out_points,
        demand=demand,
        findings=pd.DataFrame(),
        summary={"max_minutes": standard_minutes, "mode": "motorbike"},
        mode="motorbike",
        travel_time_method="crow_flies_circuity",
        service_areas=service_areas,
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
def hanoi_assessment(units: gpd.GeoDataFrame, hanoi_points_xss: gpd.GeoDataFrame) -> types.SimpleNamespace:
    return _fake_assessment(units, hanoi_points_xss)


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


def _layers(element: object) -> list[pm._GeoLayer]:
    """All pointplan GeoJSON layers below a folium element, in order."""
    found = []
    for child in getattr(element, "_children", {}).values():
        if isinstance(child, pm._GeoLayer):
            found.append(child)
        found.extend(_layers(child))
    return found


def _legends(element: object) -> list[pm._Legend]:
    found = []
    for child in getattr(element, "_children", {}).values():
        if isinstance(child, pm._Legend):
            found.append(child)
        found.extend(_legends(child))
    return found


def _geoms(layer: pm._GeoLayer) -> np.ndarray:
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
    assert pm._fmt_value(value, fmt, lang) == expected


def test_escape_covers_html_and_javascript_templates() -> None:
    assert pm._esc(XSS_NAME) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert pm._esc("`${x}`\\") == "&#96;&#36;{x}&#96;&#92;"
    assert pm._esc(None) == pm._esc(np.nan) == pm._esc(pd.NA) == ""
    js = pm._script_json({"a": "</script><!--", "b": "\u2028"})
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
    assert fills == ["#a50026", "#313695", pm._NO_DATA_COLOUR]
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
    assert fills == [pm._UNIT_KIND_COLOURS[k] for k in ("phuong", "xa", "phuong")]
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


def test_data_text_is_escaped_everywhere(tiny_units: gpd.GeoDataFrame, tiny_points: gpd.GeoDataFrame) -> None:
    m = pm.units_map(tiny_units, tiny_points, metric="coverage_share")
    # Every tooltip, popup and legend holds the data as text only.
    texts = [lg.html for lg in _legends(m)] + [
        f["properties"][key] for lay in _layers(m) for f in lay.data["features"] for key in ("_t", "_p")
    ]
    assert sum(XSS_NAME in t for t in texts) == 0
    assert all("<script" not in t and "<img" not in t and "${" not in t for t in texts)
    assert sum(pm._esc(XSS_NAME) in t for t in texts) == 4  # unit & point: tooltip and popup
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


def test_uncovered_layer_sums_the_uncovered_population(
    hanoi_assessment: types.SimpleNamespace,
) -> None:
    demand = hanoi_assessment.demand
    layer = _layers(pm.uncovered_layer(demand, lang="en"))[0]
    assert layer.data["cell_m"] == [2000.0, 2000.0]  # inferred from the 2 km grid spacing
    shown = sum(
        float(re.search(r"Population</td><td>([\d,]+) people", f["properties"]["_t"])[1].replace(",", ""))
        for f in layer.data["features"]
    )
    expected = demand.loc[~demand["within_standard"], "population"].sum()
    assert expected > 0
    assert shown == pytest.approx(expected, abs=len(layer.data["features"]))  # rounding


# -------------------------------------------------------------------------- whole maps


def test_assessment_map_layers_and_title(hanoi_assessment: types.SimpleNamespace, proposals: gpd.GeoDataFrame) -> None:
    m = pm.assessment_map(hanoi_assessment, proposals)
    names = [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert names[0] == "Đơn vị hành chính: Tỷ lệ dân số trong chuẩn"
    assert names[1].startswith("Vùng tới được trong 15 phút (xe máy, ")
    assert names[2].startswith("Dân cư ngoài chuẩn 15 phút (")
    assert names[3:] == [
        "Chi nhánh (3)",
        "Điểm phục vụ cấp xã (126)",
        "Điểm phục vụ cộng đồng (1)",
        "Điểm lưu động (1)",
        "Ki-ốt (1)",
        "Điểm đề xuất (xếp hạng) (3)",
    ]
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())
    title = next(lg for lg in _legends(m) if lg.position == "topleft").html
    units = hanoi_assessment.units.dropna(subset=["coverage_share"])
    share = (units["coverage_share"] * units["population"]).sum() / units["population"].sum()
    assert f"Dân số trong chuẩn: {pm._fmt_value(share, 'share', 'vi')}" in title
    assert "Chuẩn: 15 phút (xe máy)" in title and "đường chim bay" in title
    assert "131/132 điểm ở vị trí thay thế" in title
    legend = next(lg for lg in _legends(m) if lg.position == "bottomleft").html
    assert "Điểm đề xuất" in legend and "Vùng tới được trong 15 phút" in legend
    page = m.get_root().render()
    assert pm.ATTRIBUTION in page


def test_extra_metric_layers_share_the_unit_shapes(hanoi_assessment: types.SimpleNamespace) -> None:
    """More metric layers add their colours and tooltips, not another copy of the shapes."""
    one = pm.assessment_map(hanoi_assessment, service_areas=False, uncovered=False, tiles=False)
    three = pm.assessment_map(
        hanoi_assessment,
        service_areas=False,
        uncovered=False,
        tiles=False,
        extra_metrics=("mean_minutes", "population"),
    )
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


def test_full_hanoi_maps_stay_small(
    tmp_path: Path,
    hanoi_assessment: types.SimpleNamespace,
    proposals: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
) -> None:
    for name, m in {
        "assessment": pm.assessment_map(hanoi_assessment, proposals),
        "units": pm.units_map(units, points, metric="population"),
    }.items():
        path = pm.save_map(m, tmp_path / f"{name}.html", offline=True)
        assert path.stat().st_size <= 3_000_000, (name, path.stat().st_size)


# ------------------------------------------------------------------------------ saving


_REMOTE = re.compile(r"<(?:script|link)\b[^>]*(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)


def test_save_map_offline_is_self_contained(
    tmp_path: Path, tiny_units: gpd.GeoDataFrame, tiny_points: gpd.GeoDataFrame
) -> None:
    m = pm.units_map(tiny_units, tiny_points)
    target = tmp_path / "sub" / "map.html"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    path = pm.save_map(m, target, offline=True)
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


def test_save_map_online_drops_unused_cdn_libraries(tmp_path: Path, tiny_units: gpd.GeoDataFrame) -> None:
    page = pm.save_map(pm.units_map(tiny_units), tmp_path / "m.html").read_text("utf-8")
    urls = re.findall(r'(?:src|href)="(https?://[^"]+)"', page)
    assert urls == [
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
    ]


def test_save_map_refuses_what_it_cannot_embed(tmp_path: Path, tiny_units: gpd.GeoDataFrame) -> None:
    m = pm.units_map(tiny_units, tiles=False)
    folium.Marker([21.03, 105.85], icon=folium.Icon(icon="home"), popup="x").add_to(m)
    online = pm.save_map(m, tmp_path / "online.html").read_text("utf-8")
    assert "leaflet.awesome-markers" in online and "jquery" in online  # still needed online
    with pytest.raises(OfflineError, match="offline=False"):
        pm.save_map(m, tmp_path / "offline.html", offline=True)
    assert not (tmp_path / "offline.html").exists()
    for tag in (
        '<script src="https://example.org/plugin.js"></script>',
        '<script type="module" src="//example.org/plugin.js"></script>',
        "<link href='https://example.org/x.css' rel='stylesheet'>",
    ):
        m = pm.units_map(tiny_units, tiles=False)
        m.get_root().header.add_child(folium.Element(tag))
        with pytest.raises(OfflineError, match=r"example\.org"):
            pm.save_map(m, tmp_path / "offline.html", offline=True)


def test_save_map_errors(tmp_path: Path, tiny_units: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match=r"folium\.Map"):
        pm.save_map(pm.units_layer(tiny_units), tmp_path / "x.html")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="writable"):
        pm.save_map(pm.units_map(tiny_units), blocker / "map.html")


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


@pytest.mark.browser
@pytest.mark.slow
def test_offline_assessment_map_in_headless_chromium(
    chromium: browser.Chromium,
    tmp_path: Path,
    hanoi_assessment: types.SimpleNamespace,
    proposals: gpd.GeoDataFrame,
) -> None:
    m = pm.assessment_map(hanoi_assessment, proposals)
    path = pm.save_map(m, tmp_path / "assessment_offline.html", offline=True)
    page = chromium.open(path)
    assert page.errors == []
    assert page.dialogs == []
    # The only requests that tried to leave the machine are map tiles (refused).
    assert page.blocked and all(u.startswith("https://tile.openstreetmap.org/") for u in page.blocked)
    cells = len(_layers(m)[2].data["features"])
    assert cells > 10
    assert page.count("path.pp-unit.leaflet-interactive") == 126
    assert page.count("path.pp-area") == 1
    assert page.count("path.pp-cell") == cells
    assert page.count("path.leaflet-interactive") == 126 + cells  # the area takes no events
    n_markers = len(hanoi_assessment.points) + 3
    assert page.count(".leaflet-marker-icon.pp-marker") == n_markers
    assert page.count(".pp-marker.pp-standin") == 131
    assert page.count(".pp-kind-proposed") == 3
    assert page.count(".pp-legend") == 3  # title, points, units colour ramp
    assert page.count(".leaflet-control-layers-overlays input") == 9
    text = page.evaluate("document.body.innerText")
    assert "Tỷ lệ dân số trong chuẩn" in text and "Điểm phục vụ cấp xã (126)" in text
    assert "OpenStreetMap contributors" in text and "WorldPop" in text
    # A person hovering over a unit gets its tooltip (no layer above swallows the mouse).
    xy = page.evaluate(
        """(function () {
            var paths = document.querySelectorAll('path.pp-unit');
            for (var i = 0; i < paths.length; i++) {
                var r = paths[i].getBoundingClientRect();
                var x = r.left + r.width / 2, y = r.top + r.height / 2;
                if (document.elementFromPoint(x, y) === paths[i]) { return [x, y]; }
            }
            return null;
        })()"""
    )
    assert xy is not None
    page.hover(*xy)
    tips = page.evaluate("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(e => e.innerText)")
    assert len(tips) == 1 and "Dân số" in tips[0] and "Tỷ lệ dân số trong chuẩn" in tips[0]
    assert tips[0].split("\n")[0].startswith(("Phường ", "Xã "))
    page.hover(5, 450)  # away again: the tooltip closes
    shot = page.screenshot(ARTIFACTS / "assessment_offline_vi.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The hostile point's popup shows its name as text and runs nothing.
    popup = page.evaluate(
        """(function () {
            document.querySelector('.leaflet-marker-icon[data-pid="XSS"]').click();
            var c = document.querySelector('.leaflet-popup-content');
            return {text: c.innerText, scripts: c.querySelectorAll('script,img').length};
        })()"""
    )
    page.settle(0.3)
    assert XSS_NAME in popup["text"] and XSS_NOTES in popup["text"]
    assert "`${alert(3)}`" in popup["text"]
    assert popup["scripts"] == 0
    assert page.dialogs == [] and page.errors == []
    # Hiding the units layer hides its legend too.
    legends = page.evaluate(
        """(function () {
            var labels = document.querySelectorAll('.leaflet-control-layers-overlays label');
            var box = Array.from(labels).find(function (l) {
                return l.innerText.indexOf('Đơn vị hành chính') >= 0;
            });
            box.querySelector('input').click();
            return document.querySelectorAll('.pp-units-legend').length;
        })()"""
    )
    assert legends == 0
    assert page.count("path.pp-unit") == 0
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_online_map_needs_only_leaflet(
    chromium: browser.Chromium,
    tmp_path: Path,
    units: gpd.GeoDataFrame,
    hanoi_points_xss: gpd.GeoDataFrame,
) -> None:
    """The CDN file, with Leaflet served locally in place of the CDN and all else refused."""
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    cdn = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/"
    m = pm.units_map(units, hanoi_points_xss, metric="density_per_km2", lang="en")
    path = pm.save_map(m, tmp_path / "units_online_en.html")
    page = chromium.open(
        path,
        serve={cdn + "leaflet.js": base / "leaflet.js", cdn + "leaflet.css": base / "leaflet.css"},
    )
    assert page.errors == [] and page.dialogs == []
    assert sorted(page.served) == [cdn + "leaflet.css", cdn + "leaflet.js"]
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in page.blocked)
    assert page.count("path.pp-unit") == 126
    assert page.count(".pp-marker") == len(hanoi_points_xss)
    text = page.evaluate("document.body.innerText")
    assert "Population density (people/km²)" in text and "Unit service point (126)" in text
    page.screenshot(ARTIFACTS / "units_online_en.png")
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_offline_map_without_tiles_uses_no_network_at_all(
    chromium: browser.Chromium,
    tmp_path: Path,
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
) -> None:
    m = pm.units_map(units, points, tiles=False)
    path = pm.save_map(m, tmp_path / "units_offline_vi.html", offline=True)
    page = chromium.open(path)
    assert page.errors == [] and page.dialogs == []
    assert page.blocked == [] and page.console == []
    assert page.count("path.pp-unit") == 126
    assert page.count(".pp-marker") == len(points)
    page.screenshot(ARTIFACTS / "units_offline_vi.png")
    page.close()


@pytest.mark.slow
def test_assessment_map_from_real_assess(tmp_path: Path, units: gpd.GeoDataFrame) -> None:
    """The real Assessment (pointplan.access.assess) fits the interface the maps expect."""
    access = pytest.importorskip("pointplan.access")
    from pointplan.points import load_points

    assessment = access.assess(load_points(units=units), units)
    m = pm.assessment_map(assessment, metric="mean_minutes", lang="en")
    layers = _layers(m)
    assert len(layers[0].data["features"]) == 126
    path = pm.save_map(m, tmp_path / "real.html", offline=True)
    assert path.stat().st_size <= 3_000_000
