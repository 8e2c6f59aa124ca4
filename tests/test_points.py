from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import pointplan
from pointplan import CRSError, GeometryError, InputError, MissingColumnError, PrecisionWarning
from pointplan.points import (
    POINT_COLUMNS,
    STAND_IN_PRECISIONS,
    branch_report,
    rename_point_columns,
    unknown_precision_count,
    validate_points,
)


def test_default_scenario_counts_and_flags(points, units) -> None:
    assert points.crs.to_epsg() == 4326
    assert points["kind"].value_counts().to_dict() == {
        "unit_point": 126,
        "branch": 3,
        "community": 1,
        "mobile": 1,
    }
    assert list(points.columns) == [*POINT_COLUMNS, "geometry"]
    assert points["point_id"].is_unique
    up = points[points["kind"] == "unit_point"]
    # One unit point per unit, inside its own unit, flagged as a stand-in.
    assert sorted(up["unit_code"]) == sorted(units.index)
    assert (up["unit_code"] == up["declared_unit_code"]).all()
    assert up["location_precision"].isin(STAND_IN_PRECISIONS).all()
    # the stand-ins follow the evidence: a street named in the address, else the population centre
    assert set(up["location_precision"]) == {"street_in_unit", "unit_population_centre"}
    assert up.loc["DP00070", "location_precision"] == "street_in_unit"  # Số 126 Hàng Trống
    br = points[points["kind"] == "branch"]
    assert set(br.index) == {"CN01", "CN02", "CN07"}
    assert (br["location_precision"] == "old_unit_reference").all()
    assert br.loc["CN07", "counters"] == 11
    assert points.attrs["branches_expected"] == 12
    assert points.attrs["branches_located"] == 3
    assert len(points.attrs["missing_sites"]) == 9


def test_branch_placed_at_old_ward_reference(points) -> None:
    # 85 Dịch Vọng Hậu -> reference point of former phường Dịch Vọng Hậu.
    p = points.loc["CN02", "geometry"]
    assert (p.x, p.y) == pytest.approx((105.785002, 21.033953))


def test_known_point_away_from_head_office(points) -> None:
    assert "71 Tôn Đức Thắng" in points.loc["DP00235", "address"]


def test_branch_report() -> None:
    rep = branch_report()
    assert len(rep) == 12
    assert rep["located"].sum() == 3
    assert set(rep.loc[~rep["located"], "point_id"]) == {f"CN{i:02d}" for i in (3, 4, 5, 6, 8, 9, 10, 11, 12)}


def test_kiosk_scenario_adds_only_placeable_kiosks(units) -> None:
    pts = pointplan.load_points("hanoi-2025-kiosks", units=units)
    kiosks = pts[pts["kind"] == "kiosk"]
    assert len(kiosks) == 5
    assert "KI06" in pts.attrs["missing_sites"]
    assert kiosks["unit_code"].notna().all()


def test_units_only_scenario(units) -> None:
    pts = pointplan.load_points("units-only", units=units)
    assert len(pts) == 126


def test_unknown_scenario() -> None:
    with pytest.raises(InputError, match="Unknown scenario 'hanoi-2030'"):
        pointplan.load_points("hanoi-2030")


def _write(tmp_path, text: str, name: str = "pts.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8-sig")
    return p


def test_read_points_csv_fills_unit_code(tmp_path, units) -> None:
    p = _write(
        tmp_path,
        "point_id,name,kind,lon,lat,counters\n"
        "A,Điểm Hoàn Kiếm,Điểm,105.8504,21.0320,4\n"
        "B,Kiosk,kiosk,105.8700,20.9985,\n",
    )
    pts = pointplan.read_points(p, units=units)
    assert list(pts.index) == ["A", "B"]
    assert pts.loc["A", "unit_code"] == "00070"  # Phường Hoàn Kiếm
    assert pts.loc["A", "kind"] == "unit_point"
    assert pts.loc["A", "counters"] == 4 and pd.isna(pts.loc["B", "counters"])
    assert (pts["location_precision"] == "unknown").all()  # never assumed precise
    assert (pts["source"] == "pts.csv").all()


def test_read_points_geojson_and_gpkg(tmp_path, units) -> None:
    gdf = gpd.GeoDataFrame(
        {"name": ["X"], "kind": ["community"]},
        geometry=[shapely.Point(105.8504, 21.0320)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32648")
    gdf.to_file(tmp_path / "p.geojson")
    gdf.to_file(tmp_path / "p.gpkg", layer="points")
    for name in ("p.geojson", "p.gpkg"):
        pts = pointplan.read_points(tmp_path / name, units=units)
        assert pts.crs.to_epsg() == 4326
        assert pts.iloc[0]["unit_code"] == "00070"
        assert pts.iloc[0]["point_id"] == "P0001"


def test_read_points_swapped_lonlat(tmp_path, units) -> None:
    p = _write(tmp_path, "name,lon,lat\nA,21.03,105.85\n")
    with pytest.raises(CRSError, match="swapped"):
        pointplan.read_points(p, units=units)


def test_read_points_missing_coordinates(tmp_path, units) -> None:
    p = _write(tmp_path, "name,x_coord\nA,1\n")
    with pytest.raises(MissingColumnError, match="longitude and latitude"):
        pointplan.read_points(p, units=units)


def test_read_points_non_numeric_coordinate_names_line(tmp_path, units) -> None:
    p = _write(tmp_path, "name,lon,lat\nA,105.85,21.03\nB,abc,21.0\n")
    with pytest.raises(InputError, match=r"lines \[3\]"):
        pointplan.read_points(p, units=units)


def test_read_points_duplicate_ids(tmp_path, units) -> None:
    p = _write(tmp_path, "point_id,name,lon,lat\nA,x,105.85,21.03\nA,y,105.86,21.03\n")
    with pytest.raises(InputError, match="unique"):
        pointplan.read_points(p, units=units)


def test_read_points_outside_hanoi_warns_and_keeps_row(tmp_path, units) -> None:
    p = _write(tmp_path, "name,lon,lat\nHải Phòng,106.68,20.86\nHà Nội,105.85,21.03\n")
    with pytest.warns(PrecisionWarning, match="outside Hanoi"):
        pts = pointplan.read_points(p, units=units)
    assert pts["unit_code"].isna().tolist() == [True, False]


def test_validate_points_requires_crs_and_points(units) -> None:
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(105.85, 21.03)])
    with pytest.raises(CRSError, match="no CRS"):
        validate_points(gdf, units=units)
    poly = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(105.8, 21, 105.9, 21.1)], crs=4326)
    with pytest.raises(GeometryError, match="Point"):
        validate_points(poly, units=units)


def test_validate_points_does_not_modify_input(units) -> None:
    gdf = gpd.GeoDataFrame(
        {"name": ["  Điểm  A "], "kind": ["chi nhánh"]},
        geometry=[shapely.Point(105.85, 21.03)],
        crs=4326,
    )
    before = gdf.copy()
    out = validate_points(gdf, units=units)
    pd.testing.assert_frame_equal(gdf, before)
    assert out.iloc[0]["name"] == "Điểm A" and out.iloc[0]["kind"] == "branch"


def test_unknown_kind(units) -> None:
    gdf = gpd.GeoDataFrame({"name": ["a"], "kind": ["cafe"]}, geometry=[shapely.Point(105.85, 21.03)], crs=4326)
    with pytest.raises(InputError, match="unknown kind"):
        validate_points(gdf, units=units)


# ------------------------------------------------------------------ Vietnamese column names (issue 29)
def test_read_points_csv_with_vietnamese_headers(tmp_path, units, caplog) -> None:
    p = _write(
        tmp_path,
        "Mã điểm,Tên điểm,Loại,Địa chỉ,Số quầy,Kinh độ,Vĩ độ\n"
        "K1,Ki-ốt Tràng Tiền,kiosk,Số 6 Tràng Tiền,2,105.8543,21.0245\n"
        "K2,Điểm lưu động,lưu động,,,105.8520,21.0280\n",
    )
    with caplog.at_level("WARNING", logger="pointplan.points"):
        pts = pointplan.read_points(p, units=units)
    assert pts.index.tolist() == ["K1", "K2"]
    assert pts["name"].tolist() == ["Ki-ốt Tràng Tiền", "Điểm lưu động"]
    assert pts["kind"].tolist() == ["kiosk", "mobile"]
    assert pts.loc["K1", "address"] == "Số 6 Tràng Tiền" and int(pts.loc["K1", "counters"]) == 2
    assert pts["unit_code"].tolist() == ["00082", "00070"]  # Cửa Nam, Hoàn Kiếm
    # no precision column: both are marked unknown, counted, and said once with the count
    assert pts["location_precision"].tolist() == ["unknown", "unknown"]
    assert unknown_precision_count(pts) == 2
    said = [r.getMessage() for r in caplog.records if "no location precision" in r.getMessage()]
    assert len(said) == 1 and "2 of 2 point(s)" in said[0]


def test_vietnamese_headers_without_diacritics_any_case(tmp_path, units) -> None:
    p = _write(tmp_path, "TEN,do chinh xac,kinh_do,VI_DO\nA,surveyed,105.852,21.028\nB,,105.8543,21.0245\n")
    pts = pointplan.read_points(p, units=units)
    assert pts["name"].tolist() == ["A", "B"]
    assert pts["location_precision"].tolist() == ["surveyed", "unknown"]
    assert unknown_precision_count(pts) == 1


def test_english_column_wins_over_its_vietnamese_alias() -> None:
    raw = pd.DataFrame({"Tên": ["x"], "name": ["y"], "Tên điểm": ["z"]})
    assert rename_point_columns(raw).columns.tolist() == ["Tên", "name", "Tên điểm"]
    raw = pd.DataFrame({"Tên điểm": ["x"], "Tên": ["y"]})
    assert rename_point_columns(raw).columns.tolist() == ["name", "Tên"]


def test_missing_name_error_names_the_vietnamese_alias(tmp_path, units) -> None:
    p = _write(tmp_path, "Ghi chú,Kinh độ,Vĩ độ\nA,105.852,21.028\n")
    with pytest.raises(MissingColumnError, match="Tên điểm"):
        pointplan.read_points(p, units=units)
