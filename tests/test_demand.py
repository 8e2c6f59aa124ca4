"""Tests of pointplan.demand: hand-worked tiny rasters, the real Hanoi data, old→new units."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

from pointplan._errors import CRSError, DataNotFoundError, GeometryError, InputError
from pointplan.data import HANOI_POPULATION, data_file, load_units
from pointplan.demand import (
    DEFAULT_DOSSIERS_PER_DAY,
    FLAG_FALLBACK,
    FLAG_NO_RASTER,
    IN_PERSON_SHARE,
    SOURCE_DOSSIERS,
    SOURCE_WORKING_DAYS,
    aggregate_dossiers,
    build_demand,
    convert_old_units,
    demand_for_units,
    demand_visits,
    iter_raster_cells,
    visits_per_day,
)
from pointplan.demand._pieces import _Pieces, _to_units_crs
from pointplan.demand.raster import _ellipsoid_band_area_km2

# ---------------------------------------------------------------------------------------
# A tiny raster with a hand-worked answer
# ---------------------------------------------------------------------------------------
#
# 3 x 3 pixels of 100 m in UTM 48N, top-left corner (X0, Y0). People per pixel:
#
#     row 0:  1  2  3
#     row 1:  4  5  6
#     row 2:  7  8  nodata
#
# Unit A = x 0..150 m, all rows (column 0 and the left half of column 1), population 100.
# Unit B = x 150..300 m, the top two rows, population 50.
# Unit C = x 200..300 m, the bottom row (only the nodata pixel), population 30.
#
# Raw (pixel people x share of the pixel's area):
#   A: 1 + 4 + 7 + (2 + 5 + 8) / 2 = 19.5  -> scale 100 / 19.5
#   B: (2 + 5) / 2 + 3 + 6 = 12.5          -> scale 50 / 12.5 = 4: pieces 4, 12, 10, 24
#   C: 0 (nodata)                          -> uniform: one piece with all 30 people

X0, Y0 = 500_000.0, 2_300_300.0
VALUES = np.array([[1, 2, 3], [4, 5, 6], [7, 8, -99999]], dtype="float32")


def _write_raster(path: Path, values: np.ndarray = VALUES, crs: str = "EPSG:32648") -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=Affine(100.0, 0.0, X0, 0.0, -100.0, Y0),
        nodata=-99999,
    ) as dst:
        dst.write(values, 1)
    return path


@pytest.fixture
def tiny_raster(tmp_path: Path) -> Path:
    return _write_raster(tmp_path / "tiny.tif")


@pytest.fixture
def tiny_units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"population": [100.0, 50.0, 30.0]},
        index=pd.Index(["A", "B", "C"], name="code"),
        geometry=[
            shapely.box(X0, Y0 - 300, X0 + 150, Y0),
            shapely.box(X0 + 150, Y0 - 200, X0 + 300, Y0),
            shapely.box(X0 + 200, Y0 - 300, X0 + 300, Y0 - 200),
        ],
        crs="EPSG:32648",
    )


def _local_xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Point coordinates relative to the raster's bottom-left corner, in metres."""
    g = gdf.geometry.to_crs("EPSG:32648")
    return np.column_stack([g.x - X0, g.y - (Y0 - 300)]).round(6)


def test_tiny_raster_native_hand_worked(tiny_raster, tiny_units):
    d = build_demand(tiny_units, raster=tiny_raster)
    assert d.crs == "EPSG:4326"
    assert d.index.name == "demand_id"
    assert list(d.index) == list(range(11))
    s = 100 / 19.5
    expected = {
        # (row, col): (raw, population, x, y)
        ("A", 0, 0): (1.0, 1 * s, 50, 250),
        ("A", 0, 1): (1.0, 1 * s, 125, 250),
        ("A", 1, 0): (4.0, 4 * s, 50, 150),
        ("A", 1, 1): (2.5, 2.5 * s, 125, 150),
        ("A", 2, 0): (7.0, 7 * s, 50, 50),
        ("A", 2, 1): (4.0, 4 * s, 125, 50),
        ("B", 0, 1): (1.0, 4.0, 175, 250),
        ("B", 0, 2): (3.0, 12.0, 250, 250),
        ("B", 1, 1): (2.5, 10.0, 175, 150),
        ("B", 1, 2): (6.0, 24.0, 250, 150),
        ("C", 2, 2): (0.0, 30.0, 250, 50),
    }
    xy = _local_xy(d)
    assert len(d) == len(expected)
    for i, row in enumerate(d.itertuples()):
        raw, pop, x, y = expected[(row.unit_code, row.pixel_row, row.pixel_col)]
        assert row.raster_population == pytest.approx(raw)
        assert row.population == pytest.approx(pop)
        assert xy[i] == pytest.approx([x, y], abs=1e-3)
    area = d.set_index(["unit_code", "pixel_row", "pixel_col"])["cell_area_km2"]
    assert area[("A", 0, 0)] == pytest.approx(0.01)
    assert area[("A", 0, 1)] == pytest.approx(0.005)
    flags = d.groupby("unit_code")["flag"].first()
    assert flags.to_dict() == {"A": "", "B": "", "C": FLAG_NO_RASTER}
    assert d.attrs["units_no_raster"] == ["C"]
    assert d.attrs["demand_method"] == "raster_native_dasymetric"


def test_tiny_raster_subcells_same_totals(tiny_raster, tiny_units):
    d = build_demand(tiny_units, raster=tiny_raster, cell_m=50)
    assert d.attrs["subcells"] == (2, 2)
    assert d.attrs["demand_method"] == "raster_50m_dasymetric"
    sums = d.groupby("unit_code")["population"].sum()
    assert sums.to_dict() == pytest.approx({"A": 100.0, "B": 50.0, "C": 30.0})
    # A: 4 quarter sub-cells in column 0, 2 in the left half of column 1, per row: 18.
    assert d["unit_code"].value_counts().to_dict() == {"A": 18, "B": 12, "C": 4}
    assert np.allclose(d["cell_area_km2"], 0.0025)
    by = d.set_index(["unit_code", "pixel_row", "pixel_col"])
    # B's sub-cells of pixel (1, 2) (6 people): 6/4 raw each, x4 -> 6 people each.
    assert by.loc[("B", 1, 2), "population"].tolist() == pytest.approx([6.0] * 4)
    # C's nodata pixel: 30 people spread over 4 equal sub-cells.
    assert by.loc[("C", 2, 2), "population"].tolist() == pytest.approx([7.5] * 4)
    # Sub-cell raw people add back to the native pieces' raw people.
    native = build_demand(tiny_units, raster=tiny_raster)
    raw_sub = d.groupby(["unit_code", "pixel_row", "pixel_col"])["raster_population"].sum()
    raw_nat = native.set_index(["unit_code", "pixel_row", "pixel_col"])["raster_population"]
    pd.testing.assert_series_equal(raw_sub, raw_nat, check_names=False)
    pts = sorted(map(tuple, _local_xy(d[d["unit_code"] == "C"])))
    assert pts == [(225, 25), (225, 75), (275, 25), (275, 75)]


def test_units_in_other_crs_and_outside_raster(tiny_raster, tiny_units):
    # Unit D lies wholly east of the raster: no raster people -> uniform spread, flagged.
    # The units go through EPSG:4326, so their edges no longer sit exactly on pixel edges:
    # the sliver pieces this creates must not capture a unit's people (C keeps 30 people
    # spread uniformly, not on a 1e-12 sliver of pixel (2, 1)).
    units = pd.concat(
        [
            tiny_units,
            gpd.GeoDataFrame(
                {"population": [12.0]},
                index=pd.Index(["D"], name="code"),
                geometry=[shapely.box(X0 + 300, Y0 - 200, X0 + 500, Y0 - 100)],
                crs="EPSG:32648",
            ),
        ]
    ).to_crs("EPSG:4326")
    d = build_demand(units, raster=tiny_raster)
    sums = d.groupby("unit_code")["population"].sum()
    assert sums.to_dict() == pytest.approx({"A": 100, "B": 50, "C": 30, "D": 12})
    dd = d[d["unit_code"] == "D"]
    assert (dd["flag"] == FLAG_NO_RASTER).all()
    assert d.loc[d["unit_code"] == "C", ["pixel_row", "pixel_col", "flag"]].values.tolist() == [[2, 2, FLAG_NO_RASTER]]
    assert dd["pixel_col"].tolist() == [3, 4]  # beyond the raster's 3 columns
    assert dd["population"].tolist() == pytest.approx([6.0, 6.0], rel=1e-6)
    inside = shapely.within(d.geometry.values, units.geometry.loc[d["unit_code"]].values)
    assert inside.all()


def test_uniform_fallback(tiny_units):
    d = build_demand(tiny_units, method="uniform", points_per_unit=4)
    assert (d["flag"] == FLAG_FALLBACK).all()
    assert d["raster_population"].isna().all()
    assert d.attrs["demand_method"] == "uniform_area_weighted"
    sums = d.groupby("unit_code")["population"].sum()
    assert sums.to_dict() == pytest.approx({"A": 100, "B": 50, "C": 30})
    # C is a 100 m square: 4 cells of 50 m, 7.5 people each.
    c = d[d["unit_code"] == "C"]
    assert c["population"].tolist() == pytest.approx([7.5] * 4)
    assert c["cell_area_km2"].sum() == pytest.approx(0.01, rel=1e-3)
    # People follow area: density is the same in every piece of a unit.
    dens = d["population"] / d["cell_area_km2"]
    assert dens.groupby(d["unit_code"]).agg(np.ptp).max() < 1e-6 * dens.max()
    units4326 = tiny_units.to_crs("EPSG:4326")
    assert shapely.within(d.geometry.values, units4326.geometry.loc[d["unit_code"]].values).all()


@pytest.mark.parametrize(
    ("change", "exc"),
    [
        (lambda u: u.drop(columns="population"), InputError),
        (lambda u: u.assign(population=[-1.0, 2.0, 3.0]), InputError),
        (lambda u: u.set_crs(None, allow_override=True), CRSError),
        (lambda u: u.set_geometry([shapely.Point(0, 0)] * 3, crs=u.crs), GeometryError),
        (
            lambda u: u.set_geometry([shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])] * 3, crs=u.crs),
            GeometryError,
        ),
    ],
)
def test_bad_units_raise(tiny_raster, tiny_units, change, exc):
    with pytest.raises(exc):
        build_demand(change(tiny_units), raster=tiny_raster)


def test_bad_arguments_raise(tiny_raster, tiny_units, tmp_path):
    with pytest.raises(InputError, match="larger than the raster pixel"):
        build_demand(tiny_units, raster=tiny_raster, cell_m=500)
    with pytest.raises(InputError):
        build_demand(tiny_units, raster=tiny_raster, method="kde")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        build_demand(tiny_units, raster=tiny_raster, cell_m=-5)
    with pytest.raises(DataNotFoundError):
        build_demand(tiny_units, raster=tmp_path / "missing.tif")


def test_cell_area_formula_matches_geod():
    lat_top = np.array([21.0 + 1 / 120])
    km2 = _ellipsoid_band_area_km2(lat_top, lat_top - 1 / 120, 1 / 120, pyproj.CRS(4326))
    geod = pyproj.Geod(ellps="WGS84")
    lons = [105.0, 105.0 + 1 / 120, 105.0 + 1 / 120, 105.0]
    lats = [21.0, 21.0, 21.0 + 1 / 120, 21.0 + 1 / 120]
    area_m2, _ = geod.polygon_area_perimeter(lons, lats)
    assert km2[0] == pytest.approx(abs(area_m2) / 1e6, rel=1e-6)
    assert km2[0] == pytest.approx(0.8001, rel=1e-3)  # ≈ 0.927 km x 0.863 km


# ---------------------------------------------------------------------------------------
# Real Hanoi data
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hanoi_units() -> gpd.GeoDataFrame:
    try:
        return load_units()
    except DataNotFoundError as exc:
        pytest.skip(f"reference data not available: {exc}")


@pytest.fixture(scope="module")
def hanoi_demand(hanoi_units) -> gpd.GeoDataFrame:
    return build_demand(hanoi_units, keep_empty=True)


def _check_totals_and_inside(demand: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> None:
    sums = demand.groupby("unit_code")["population"].sum()
    assert set(sums.index) == set(units.index)
    np.testing.assert_allclose(sums.loc[units.index].to_numpy(), units["population"].to_numpy(), rtol=1e-9)
    assert demand["population"].sum() == pytest.approx(HANOI_POPULATION, abs=1e-3)
    inside = shapely.within(demand.geometry.values, units.geometry.loc[demand["unit_code"]].values)
    assert inside.all(), f"{(~inside).sum()} demand points outside their unit"


def test_hanoi_1km_totals_and_inside(hanoi_demand, hanoi_units):
    assert hanoi_demand.attrs["demand_method"] == "worldpop2020_1km_dasymetric"
    _check_totals_and_inside(hanoi_demand, hanoi_units)
    assert (hanoi_demand["flag"] == "").all()  # every unit has WorldPop people
    assert hanoi_demand.index.is_unique
    assert 6000 < len(hanoi_demand) < 7000


def test_hanoi_raster_read_matches_zonal_sum(hanoi_demand, hanoi_units):
    # The units file carries an independent WorldPop zonal sum per unit. Ours shares each
    # boundary pixel between units by area; a zonal tool may assign pixels differently,
    # so units agree only to a few percent, while the city total agrees to 0.01 %.
    raw = hanoi_demand.groupby("unit_code")["raster_population"].sum()
    zonal = hanoi_units["worldpop2020_1km_zonal_sum"].astype(float)
    ratio = raw.loc[zonal.index] / zonal
    assert ratio.between(0.97, 1.03).all()
    assert raw.sum() == pytest.approx(zonal.sum(), rel=1e-4)
    assert raw.sum() == pytest.approx(8.25e6, rel=0.01)


def test_hanoi_piece_areas_add_up_to_unit_areas(hanoi_demand, hanoi_units):
    # Independent area check: pieces (ellipsoid cell areas x area shares) vs the polygons'
    # own area in UTM 48N (scale factor ≈ 0.9996^2 near the central meridian: < 0.3 %).
    pieces = hanoi_demand.groupby("unit_code")["cell_area_km2"].sum()
    utm = hanoi_units.geometry.to_crs("EPSG:32648").area / 1e6
    ratio = pieces.loc[utm.index] / utm
    assert ratio.between(0.995, 1.005).all()


@pytest.mark.slow
def test_hanoi_250m_same_totals_and_pixels(hanoi_demand, hanoi_units):
    fine = build_demand(hanoi_units, cell_m=250, keep_empty=True)
    assert fine.attrs["subcells"] == (4, 4)
    assert fine.attrs["demand_method"] == "worldpop2020_250m_dasymetric"
    _check_totals_and_inside(fine, hanoi_units)
    # Cross-resolution check: sub-cells of a (unit, pixel) carry the native piece's people.
    # Not to the last digit: sub-cell slivers below 1e-6 of a pixel are dropped.
    keys = ["unit_code", "pixel_row", "pixel_col"]
    sub = fine.groupby(keys)["population"].sum()
    nat = hanoi_demand.set_index(keys)["population"]
    assert set(sub.index) == set(nat.index)
    np.testing.assert_allclose(sub.to_numpy(), nat.loc[sub.index].to_numpy(), rtol=1e-4)
    assert len(fine) > 10 * len(hanoi_demand)


def test_national_raster_window_matches_hanoi_window(hanoi_demand, hanoi_units):
    try:
        vnm = data_file("worldpop_vnm")
    except DataNotFoundError as exc:
        pytest.skip(f"national raster not available: {exc}")
    nat = demand_for_units(hanoi_units, vnm, keep_empty=True)
    assert nat.attrs["demand_method"] == "worldpop2020_1km_dasymetric"
    # Same pixels (the Hanoi file is a window of the national one), read through a window.
    assert len(nat) == len(hanoi_demand)
    np.testing.assert_allclose(nat["raster_population"], hanoi_demand["raster_population"], rtol=1e-6, atol=1e-6)
    # Pixel indices refer to each file: offset by the Hanoi window's place in Vietnam's.
    with rasterio.open(vnm) as a, rasterio.open(data_file("worldpop_hanoi")) as b:
        drow = round((b.transform.f - a.transform.f) / a.transform.e)
        dcol = round((b.transform.c - a.transform.c) / a.transform.a)
    assert (drow, dcol) == (239, 374)
    assert (nat["pixel_row"] - hanoi_demand["pixel_row"]).unique().tolist() == [drow]
    assert (nat["pixel_col"] - hanoi_demand["pixel_col"]).unique().tolist() == [dcol]


def test_iter_raster_cells_blocks_sum_to_raster(tiny_raster):
    blocks = list(iter_raster_cells(tiny_raster, block_rows=2))
    assert len(blocks) == 2
    cells = pd.concat(blocks)
    assert cells["population"].sum() == pytest.approx(36.0)  # 1+..+8, nodata dropped
    assert len(cells) == 8


def test_hanoi_uniform_fallback(hanoi_units):
    d = build_demand(hanoi_units, method="uniform", points_per_unit=9)
    _check_totals_and_inside(d, hanoi_units)
    assert (d["flag"] == FLAG_FALLBACK).all()


# ---------------------------------------------------------------------------------------
# Visits
# ---------------------------------------------------------------------------------------


def test_visits_default_spread_by_population(hanoi_units):
    v = visits_per_day(hanoi_units)
    assert v["visits_per_day"].sum() == pytest.approx(DEFAULT_DOSSIERS_PER_DAY * IN_PERSON_SHARE)
    assert v["visits_per_day"].sum() == pytest.approx(3204.0)
    assert (v["source"] == "city_average_by_population").all()
    per_person = v["visits_per_day"] / v["population"]
    assert per_person.agg(np.ptp) < 1e-12
    # Hoàn Kiếm: 105,301 people of 8,807,523 -> 8000 x 105301/8807523 x 0.4005 visits.
    assert v.loc["00070", "visits_per_day"] == pytest.approx(8000 * 105301 / 8807523 * 0.4005)
    assert round(SOURCE_DOSSIERS / SOURCE_WORKING_DAYS, 1) == 9004.6


def test_visits_user_counts():
    units = pd.DataFrame({"population": [100.0, 300.0, 50.0]}, index=["u1", "u2", "u3"])
    counts = pd.Series({"u1": 40.0, "u2": 10.0})
    v = visits_per_day(units, counts=counts, in_person_share=0.5, period_days=10)
    assert v["dossiers_per_day"].tolist() == [4.0, 1.0, 0.0]
    assert v["visits_per_day"].tolist() == [2.0, 0.5, 0.0]
    assert (v["source"] == "user_counts").all()
    frame = pd.DataFrame({"dossiers": [10.0, 20.0, 30.0], "in_person_share": [1.0, 0.5, 0.0]}, index=["u1", "u2", "u3"])
    v = visits_per_day(units, counts=frame)
    assert v["visits_per_day"].tolist() == [10.0, 10.0, 0.0]
    with pytest.raises(InputError, match="not among the units"):
        visits_per_day(units, counts=pd.Series({"zz": 1.0}))
    with pytest.raises(InputError):
        visits_per_day(units, in_person_share=1.5)


def test_demand_visits_hand_worked():
    demand = pd.DataFrame(
        {"unit_code": ["a", "a", "a", "b", "b"], "population": [1.0, 3.0, 0.0, 0.0, 0.0]},
        index=pd.RangeIndex(5, name="demand_id"),
    )
    visits = pd.Series({"a": 8.0, "b": 3.0})
    out = demand_visits(demand, visits)
    assert out.tolist() == pytest.approx([2.0, 6.0, 0.0, 1.5, 1.5])
    assert out.index.equals(demand.index)
    with pytest.raises(InputError, match="no demand point"):
        demand_visits(demand, pd.Series({"a": 1.0, "b": 1.0, "c": 2.0}))
    with pytest.raises(InputError, match="absent from visits"):
        demand_visits(demand, pd.Series({"a": 1.0}))


def test_demand_visits_on_hanoi(hanoi_demand, hanoi_units):
    v = visits_per_day(hanoi_units)
    per_point = demand_visits(hanoi_demand, v)
    per_unit = per_point.groupby(hanoi_demand["unit_code"]).sum()
    np.testing.assert_allclose(per_unit.loc[v.index], v["visits_per_day"], rtol=1e-9)


# ---------------------------------------------------------------------------------------
# Old -> new units
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def old_records(hanoi_units) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ward": [
                "Phường Trúc Bạch",  # whole -> Ba Đình
                "P. Trúc Bạch",
                unicodedata.normalize("NFD", "Phường Trúc Bạch"),
                "  phường   trúc  bạch ",
                "Phường Xuân La",  # split in 4, default Xuân Đỉnh
                "Xã Đức Hoà",  # old tone placement; whole -> Đa Phúc
                "Phường Atlantis",  # unknown
                "Phường Quang Trung",  # two old phường of that name
                "Phường Quang Trung",
                None,
                "Phường Hồng Hà",  # a 2025 name, not an old ward
            ],
            "district": [None, "Q. Ba Đình", None, None, "Quận Tây Hồ", None, None, None, "Hà Đông", None, None],
        },
        index=pd.Index([f"r{i}" for i in range(11)], name="record"),
    )


def test_convert_default(old_records):
    res = convert_old_units(old_records, district_col="district")
    rec = res.records
    assert rec.index.is_unique  # split="default": one row per matched record
    assert rec.loc[["r0", "r1", "r2", "r3"], "new_unit_code"].tolist() == ["00004"] * 4
    assert rec.loc["r0", "new_unit_name"] == "Ba Đình"
    assert rec.loc["r1", "match"] == "name+district"
    assert rec.loc["r0", "match"] == "name"
    assert rec.loc["r4", "new_unit_code"] == "00611"  # Xuân Đỉnh
    assert rec.loc["r4", "whole_or_part"] == "part"
    assert rec.loc["r5", "new_unit_code"] == "00430"  # Đa Phúc
    assert rec.loc["r8", "new_unit_code"] == "09556"  # Hà Đông
    assert (rec["share"] == 1.0).all()
    un = res.unmatched
    assert sorted(un.index) == ["r10", "r6", "r7", "r9"]
    assert "unknown old ward name" in un.loc["r6", "reason"]
    assert un.loc["r7", "reason"].startswith("ambiguous")
    assert "2025 unit 00097" in un.loc["r10", "reason"]
    # Nothing dropped silently.
    assert len(rec) + len(un) == len(old_records) == res.n_records
    assert res.summary()["unmatched"] == 4


def test_convert_split_all_and_population(old_records, hanoi_units):
    res = convert_old_units(old_records, district_col="district", split="all")
    xl = res.records.loc[["r4"]]
    assert sorted(xl["new_unit_code"]) == ["00091", "00103", "00160", "00611"]
    assert xl["share"].tolist() == pytest.approx([0.25] * 4)
    shares = res.records.groupby(level=0)["share"].sum()
    assert np.allclose(shares, 1.0)
    pop = convert_old_units(old_records, district_col="district", split="population").records
    xl = pop.loc[["r4"]].set_index("new_unit_code")["share"]
    expected = hanoi_units.loc[xl.index, "population"] / hanoi_units.loc[xl.index, "population"].sum()
    np.testing.assert_allclose(xl.to_numpy(), expected.to_numpy())


def test_convert_codes_ascii_and_new_names(hanoi_units):
    df = pd.DataFrame({"code": [103, "00004", "4", "99999"]})
    res = convert_old_units(df, ward_col=None, code_col="code")
    assert res.records["new_unit_code"].tolist() == ["00611", "00004", "00004"]
    assert (res.records["match"] == "code").all()
    assert res.unmatched["reason"].tolist() == ["unknown old ward code '99999'"]
    res = convert_old_units(pd.DataFrame({"ward": ["Xuan La", "Phường Hồng Hà"]}), accept_new=True)
    assert res.records["new_unit_code"].tolist() == ["00611", "00097"]
    assert res.records["match"].tolist() == ["name_ascii", "new_name"]
    # A town and a commune of the same name in one district: the unit type decides.
    df = pd.DataFrame({"ward": ["Thị trấn Yên Viên", "Yên Viên"], "d": ["Gia Lâm", "Gia Lâm"]})
    res = convert_old_units(df, district_col="d")
    assert res.records["old_ward"].tolist() == ["Thị trấn Yên Viên"]
    assert res.unmatched["reason"].iloc[0].startswith("ambiguous")
    with pytest.raises(InputError):
        convert_old_units(df, ward_col="nope")


def test_aggregate_dossiers_feeds_visits(old_records, hanoi_units):
    res = convert_old_units(old_records, district_col="district", split="all")
    counts = aggregate_dossiers(res, units=hanoi_units)
    assert counts.attrs["unmatched"] == 4
    assert counts.sum() == pytest.approx(7.0)  # 7 matched records, shares sum to 1 each
    assert counts["00004"] == pytest.approx(4.0)
    assert counts["00611"] == pytest.approx(0.25)
    as_int = pd.Series({4: 2.0, 70: 1.0})  # codes that lost their leading zeros
    assert visits_per_day(hanoi_units, counts=as_int).loc[["00004", "00070"], "dossiers_per_day"].tolist() == [2, 1]
    v = visits_per_day(hanoi_units, counts=counts, period_days=1.0)
    assert v["visits_per_day"].sum() == pytest.approx(7.0 * IN_PERSON_SHARE)
    assert (v["source"] == "user_counts").all()


def test_points_falling_outside_are_moved_inside():
    # Private helper, tested directly: a sliver piece's point can land on the unit's edge.
    unit = np.array([shapely.box(0, 0, 10, 10)], dtype=object)
    shapely.prepare(unit)
    pieces = _Pieces(
        unit=np.array([0, 0, 0], dtype=np.intp),
        row=np.zeros(3, dtype=np.int64),
        col=np.zeros(3, dtype=np.int64),
        x=np.array([5.0, 10.0, 12.0]),  # inside, on the edge (with a piece), outside (none)
        y=np.array([5.0, 5.0, 5.0]),
        raw=np.ones(3),
        area_km2=np.ones(3),
        shape=np.array([None, shapely.box(8, 0, 12, 10), None], dtype=object),
    )
    out = _to_units_crs(pieces, None, unit)
    assert (out.x[0], out.y[0]) == (5.0, 5.0)  # untouched
    assert 8.0 < out.x[1] < 10.0  # onto (piece ∩ unit) = box(8, 0, 10, 10)
    assert shapely.contains_properly(unit[0], shapely.points(out.x, out.y)).all()
    assert pd.isna(out.shape).all()  # shapes released


def test_unit_type_without_accents_is_stripped() -> None:
    """'Phuong Xuan La' (no accents) is the same ward as 'Phường Xuân La'."""
    res = convert_old_units(pd.DataFrame({"ward": ["Phuong Xuan La", "Phường Xuân La"]}))
    assert res.records["new_unit_code"].tolist() == ["00611", "00611"]
    assert len(res.unmatched) == 0


def test_every_public_name_still_importable_from_pointplan_demand() -> None:
    """The split into pointplan/demand/ keeps the old import path of every public name."""
    import pointplan.demand as demand
    from pointplan.demand import addresses, population, raster, visits

    homes = {
        "build_demand": population,
        "demand_for_units": population,
        "FLAG_FALLBACK": population,
        "FLAG_NO_RASTER": population,
        "DEFAULT_CELL_M": population,
        "DEFAULT_FINE_PER_KM2": population,
        "iter_raster_cells": raster,
        "visits_per_day": visits,
        "demand_visits": visits,
        "DEFAULT_DOSSIERS_PER_DAY": visits,
        "IN_PERSON_SHARE": visits,
        "SOURCE_DOSSIERS": visits,
        "SOURCE_CALENDAR_DAYS": visits,
        "SOURCE_WORKING_DAYS": visits,
        "convert_old_units": addresses,
        "aggregate_dossiers": addresses,
        "ConversionResult": addresses,
    }
    assert set(demand.__all__) == set(homes)
    for name, module in homes.items():
        assert getattr(demand, name) is getattr(module, name), name


# ---------------------------------------------------------------------------------------
# Fine cells only where people are dense (the run's default demand)
# ---------------------------------------------------------------------------------------


def test_tiny_raster_fine_only_where_dense(tiny_raster, tiny_units):
    # Pixels of 100 m (0.01 km²): 100 people per km² per person in the pixel. From 450 per
    # km² (4.5 people), pixels 5, 6, 7, 8 are cut in 2 x 2 sub-cells; 1, 2, 3, 4 stay whole.
    d = build_demand(tiny_units, raster=tiny_raster, cell_m=50, fine_per_km2=450)
    assert d.attrs["demand_method"] == "raster_50m_from_450_per_km2_dasymetric"
    sums = d.groupby("unit_code")["population"].sum()
    assert sums.to_dict() == pytest.approx({"A": 100.0, "B": 50.0, "C": 30.0})
    pieces = d.groupby(["unit_code", "pixel_row", "pixel_col"]).size().to_dict()
    assert pieces == {
        ("A", 0, 0): 1, ("A", 0, 1): 1, ("A", 1, 0): 1, ("A", 1, 1): 2, ("A", 2, 0): 4, ("A", 2, 1): 2,
        ("B", 0, 1): 1, ("B", 0, 2): 1, ("B", 1, 1): 2, ("B", 1, 2): 4,
        ("C", 2, 2): 1,
    }  # fmt: skip
    # Same raw people per pixel piece as the native pieces (the split keeps the people).
    native = build_demand(tiny_units, raster=tiny_raster)
    raw = d.groupby(["unit_code", "pixel_row", "pixel_col"])["raster_population"].sum()
    pd.testing.assert_series_equal(
        raw, native.set_index(["unit_code", "pixel_row", "pixel_col"])["raster_population"], check_names=False
    )
    # Whole coarse pixels keep the pixel's centre; the dense pixel (2, 0) of A has 4 quarter points.
    xy = {tuple(p) for p in _local_xy(d[(d["unit_code"] == "A") & (d["pixel_row"] == 2) & (d["pixel_col"] == 0)])}
    assert xy == {(25, 25), (25, 75), (75, 25), (75, 75)}
    assert tuple(_local_xy(d[(d["unit_code"] == "B") & (d["pixel_col"] == 2) & (d["pixel_row"] == 0)])[0]) == (250, 250)
    with pytest.raises(InputError, match="fine_per_km2"):
        build_demand(tiny_units, raster=tiny_raster, cell_m=50, fine_per_km2=-1)


@pytest.fixture(scope="module")
def hanoi_default_demand(hanoi_units) -> gpd.GeoDataFrame:
    from pointplan.demand import DEFAULT_CELL_M, DEFAULT_FINE_PER_KM2

    return build_demand(hanoi_units, cell_m=DEFAULT_CELL_M, fine_per_km2=DEFAULT_FINE_PER_KM2)


def test_hanoi_default_demand_fine_where_dense(hanoi_default_demand, hanoi_demand, hanoi_units):
    _check_totals_and_inside(hanoi_default_demand, hanoi_units)
    assert 10_000 < len(hanoi_default_demand) < 16_000  # 6,507 at 1 km, 76,789 at 250 m everywhere
    # Phường Đống Đa (00235) is dense throughout: exactly the 250 m demand of the ward.
    dd = hanoi_default_demand[hanoi_default_demand["unit_code"] == "00235"].reset_index(drop=True)
    fine = build_demand(hanoi_units.loc[["00235"]], cell_m=250).reset_index(drop=True)
    assert len(dd) == len(fine) == 66
    np.testing.assert_allclose(dd["population"], fine["population"], rtol=1e-9)
    assert shapely.equals_exact(dd.geometry.values, fine.geometry.values, tolerance=1e-9).all()
    # A sparse commune keeps the 1 km pieces.
    sparse = hanoi_units["population"].div(hanoi_units["area_km2"]).idxmin()
    a = hanoi_default_demand[hanoi_default_demand["unit_code"] == sparse]
    b = hanoi_demand[(hanoi_demand["unit_code"] == sparse) & (hanoi_demand["population"] > 0)]
    assert len(a) == len(b)
    np.testing.assert_allclose(a["population"].to_numpy(), b["population"].to_numpy(), rtol=1e-9)


def test_moving_dong_da_point_300m_changes_its_mean(hanoi_default_demand, hanoi_units):
    # The what-if the default demand is for: the ward's point moved 300 m north, south, east
    # or west changes the ward's mean minutes (at 1 km, 10 places, it did not move for 500 m).
    from pointplan import assess, load_points
    from pointplan.network import travel_engine

    units = hanoi_units.loc[["00235"]]
    pts = load_points(units=hanoi_units)
    pts = pts[pts["unit_code"] == "00235"]
    demand = hanoi_default_demand[hanoi_default_demand["unit_code"] == "00235"]
    engine = travel_engine(None, "motorbike")

    def mean_at(dx: float, dy: float) -> float:
        moved = pts.copy()
        xy = moved.geometry.to_crs(32648)
        moved.geometry = gpd.GeoSeries(gpd.points_from_xy(xy.x + dx, xy.y + dy), crs=32648).to_crs(pts.crs).values
        a = assess(moved, units, demand, engine=engine, modes=("motorbike",))
        return float(a.units.loc["00235", "mean_minutes"])

    base = mean_at(0, 0)
    means = [mean_at(dx, dy) for dx, dy in ((0, 300), (0, -300), (300, 0), (-300, 0))]
    assert all(abs(m - base) > 0.01 for m in means), (base, means)
