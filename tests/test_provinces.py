"""The 34 provinces: naming, population checks on the real data, stand-in points (issue 28)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import pointplan
from pointplan import InputError
from pointplan.data import data_file
from pointplan.provinces import (
    PROVINCES,
    check_populations,
    province_slug,
    resolve_province,
    unit_worldpop,
)
from pointplan.workflow.province import province_points

ROOT = Path(__file__).resolve().parents[1]


# --- naming ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [38, "38", " 38 ", "Thanh Hoá", "Thanh Hóa", "thanh hoa", "THANH HOA", "thanh-hoa", "Tỉnh Thanh Hoá"]
)
def test_a_province_is_named_by_code_name_or_slug(value: object) -> None:
    assert resolve_province(value).code == "38"


def test_every_province_resolves_by_its_own_names() -> None:
    assert len(PROVINCES) == 34 and len({p.code for p in PROVINCES}) == 34
    assert len({p.slug for p in PROVINCES}) == 34
    for p in PROVINCES:
        assert resolve_province(p.name) is p
        assert resolve_province(p.short_name) is p
        assert resolve_province(p.slug) is p
        assert resolve_province(int(p.code)) is p


def test_names_with_d_stroke_and_city_prefix() -> None:
    assert province_slug("Đắk Lắk") == "dak-lak"
    assert resolve_province("Da Nang").code == "48"
    assert resolve_province("TP Hồ Chí Minh").code == "79"
    assert resolve_province("Thành phố Huế").code == "46"


def test_unknown_province_suggests_the_closest_names() -> None:
    with pytest.raises(InputError, match=r"Unknown province 'Thanh Hao'.*38 Tỉnh Thanh Hóa"):
        resolve_province("Thanh Hao")
    with pytest.raises(InputError, match=r"Did you mean.*Quảng Ninh"):
        resolve_province("quang nin")
    with pytest.raises(InputError, match="Unknown province '99'"):
        resolve_province(99)
    with pytest.raises(InputError, match="code or name"):
        resolve_province(3.5)  # type: ignore[arg-type]


def test_load_units_rejects_an_unknown_province() -> None:
    with pytest.raises(InputError, match="Did you mean"):
        pointplan.load_units("Thanh Hoa Province X")


# --- populations -----------------------------------------------------------------------------


def test_the_rule_by_hand() -> None:
    off = pd.Series([1000.0, 20_000, 290, 3100, np.nan, 50, 12_000], index=list("abcdefg"))
    wp = pd.Series([1000.0, 20_000, 1000, 1000, 5000, 100, 8000], index=off.index)
    r = check_populations(off, wp)
    # c: 0.29 × → low; d: 3.1 × → high; e: missing; f: WorldPop too small to judge → kept
    assert r["population_flag"].tolist() == [
        "",
        "",
        "below_0.3x_worldpop",
        "above_3x_worldpop",
        "missing",
        "",
        "",
    ]
    # trusted: a, b, f, g → (1000 + 20000 + 50 + 12000) / (1000 + 20000 + 100 + 8000)
    factor = 33_050 / 29_100
    assert r.attrs["rescale_factor"] == pytest.approx(factor)
    assert r.loc["c", "population"] == round(1000 * factor)
    assert r.loc["e", "population"] == round(5000 * factor)
    assert r.loc["a", "population"] == 1000 and r.loc["f", "population"] == 50
    assert r["population_source"].tolist() == ["official"] * 2 + ["worldpop_estimate"] * 3 + ["official"] * 2


def test_corrected_figures_keep_their_evidence() -> None:
    off = pd.Series([67_310.0, 5_000.0], index=["10045", "x"])
    wp = pd.Series([75_467.0, 60_000.0], index=off.index)
    r = check_populations(off, wp, corrected=pd.Series([True, True], index=off.index))
    assert r["population_source"].tolist() == ["official_corrected", "worldpop_estimate"]


def test_the_readme_example_is_flagged_and_replaced() -> None:
    """Xã Hiệp Hòa (Bắc Ninh): 43 people officially, about 70,000 by WorldPop."""
    bn = pointplan.load_units("Bắc Ninh")
    row = bn.loc["07840"]
    assert row["full_name"] == "Xã Hiệp Hòa"
    assert row["population_official"] == 43
    assert 65_000 < row["worldpop2020_1km_zonal_sum"] < 75_000
    assert row["population_flag"] == "below_0.3x_worldpop"
    assert row["population_source"] == "worldpop_estimate"
    # replaced by its WorldPop count × Bắc Ninh's trusted official / WorldPop ratio
    factor = bn.attrs["population_rescale_factor"]
    trusted = bn["population_source"] == "official"
    assert factor == pytest.approx(
        bn.loc[trusted, "population_official"].sum() / unit_worldpop(bn.index[trusted]).sum()
    )
    assert row["population"] == round(unit_worldpop(["07840"]).iloc[0] * factor)


def test_counts_per_province_agree_with_an_independent_count() -> None:
    """The loader's flags, recounted straight from the file and the WorldPop table."""
    raw = gpd.read_file(data_file("units_vn")).set_index("code")
    wp = unit_worldpop(raw.index)
    ratio = raw["population"] / wp
    judged = wp >= 1000
    implausible = raw["population"].isna() | (judged & ((ratio < 0.3) | (ratio > 3)))
    expected = implausible.groupby(raw["province_code"]).sum()
    # the data's README: about 370 units below 0.3 ×, about 50 above 3 ×, 2 without a figure
    assert 360 <= int((ratio < 0.3).sum()) <= 380
    assert int(raw["population"].isna().sum()) == 2
    counts = {}
    for p in PROVINCES:
        u = pointplan.load_units(p.code)
        counts[p.code] = int((u["population_source"] == "worldpop_estimate").sum())
        assert set(u["population_source"]) <= {"official", "official_corrected", "worldpop_estimate"}
    expected["01"] = 0  # Hanoi's 8 low figures were corrected with evidence
    assert counts == {k: int(v) for k, v in expected.items()}
    assert counts["24"] == 55 and counts["38"] == 15 and sum(counts.values()) == 430


def test_estimates_keep_province_totals_near_trusted_figures() -> None:
    """A replaced unit is estimated on the same footing as its trusted neighbours."""
    for code in ("24", "79"):
        u = pointplan.load_units(code)
        trusted = u["population_source"] == "official"
        est = ~trusted
        per_wp_trusted = u.loc[trusted, "population"].sum() / u.loc[trusted, "worldpop2020_1km_zonal_sum"].sum()
        per_wp_est = u.loc[est, "population"].sum() / u.loc[est, "worldpop2020_1km_zonal_sum"].sum()
        assert per_wp_est == pytest.approx(per_wp_trusted, rel=0.01)


@pytest.mark.slow
def test_shipped_worldpop_table_matches_the_demand_code() -> None:
    """Recompute two provinces' WorldPop sums with pointplan.demand and compare with the table."""
    from pointplan.demand import demand_for_units

    raw = gpd.read_file(data_file("units_vn"))
    for code in ("12", "46"):
        units = raw[raw["province_code"] == code].set_index("code")[["geometry"]].copy()
        units["population"] = 1.0
        d = demand_for_units(units, data_file("worldpop_vnm"), keep_empty=True)
        sums = d.groupby("unit_code")["raster_population"].sum().reindex(units.index).fillna(0)
        np.testing.assert_allclose(unit_worldpop(units.index).to_numpy(), sums.to_numpy(), atol=0.06)


# --- stand-in points ----------------------------------------------------------------------------


def test_province_points_one_per_unit_at_its_population_centre() -> None:
    from pointplan.points import POINT_COLUMNS

    units = pointplan.load_units("Lai Châu")
    demand = pointplan.build_demand(units)
    pts = province_points(units, demand)
    assert len(pts) == len(units) == 38
    assert list(pts.columns) == [*POINT_COLUMNS, "geometry"]
    assert pts.crs.to_epsg() == 4326
    assert (pts["location_precision"] == "unit_population_centre").all()
    assert pts["address"].tolist() == units["hq_address"].tolist()
    # each point lies in its unit, on one of the unit's demand points (a populated place)
    proj = units.to_crs(32648)
    inside = pts.to_crs(32648).geometry.values.within(proj.geometry.buffer(1.0).values)
    assert inside.all()
    code = units.index[0]
    own = demand[demand["unit_code"] == code].to_crs(32648)
    xy = np.column_stack([own.geometry.x, own.geometry.y])
    cost = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) @ own["population"].to_numpy()
    best = own.geometry.iloc[int(np.argmin(cost))]
    assert pts.to_crs(32648).geometry.iloc[0].distance(best) < 1.0


def test_province_points_for_a_unit_without_people() -> None:
    units = gpd.GeoDataFrame(
        {"full_name": ["Đặc khu X"], "hq_address": [""]},
        geometry=[shapely.box(585000, 2325000, 586000, 2326000)],
        index=pd.Index(["99999"], name="code"),
        crs=32648,
    )
    demand = gpd.GeoDataFrame({"unit_code": [], "population": []}, geometry=[], crs=32648)
    pts = province_points(units, demand)
    assert pts["location_precision"].tolist() == ["unit_representative_point"]


# --- islands ----------------------------------------------------------------------------------


def test_islands_without_a_land_link_on_the_real_data() -> None:
    from pointplan.provinces import unlinked_units

    ag = pointplan.load_units("An Giang")
    island = ag.loc[unlinked_units(ag), "full_name"]
    assert {"Đặc khu Phú Quốc", "Đặc khu Thổ Châu", "Đặc khu Kiên Hải"} <= set(island)
    assert unlinked_units(ag).sum() == 6
    hcm = pointplan.load_units("79")
    assert hcm.loc[unlinked_units(hcm), "full_name"].tolist() == ["Đặc khu Côn Đảo"]
    # Lai Châu is inland: every unit linked by land
    assert not unlinked_units(pointplan.load_units("12")).any()


@pytest.mark.slow
def test_sea_trips_get_a_note_not_a_time() -> None:
    from pointplan.network import make_engine
    from pointplan.provinces import SEA_TRIP_NOTE, land_groups, mark_sea_trips, sea_trips, unlinked_units

    units = pointplan.load_units("Quảng Ngãi")  # Đặc khu Lý Sơn, 30 km offshore
    demand = pointplan.build_demand(units)
    pts = province_points(units, demand)
    a = pointplan.assess(pts, units, demand, engine=make_engine(None), name="51")
    groups = land_groups(units)
    crossing = sea_trips(a.demand, a.points, groups)
    ly_son = units.index[units["full_name"] == "Đặc khu Lý Sơn"][0]
    assert groups[ly_son] != 0
    # Lý Sơn's people reach Lý Sơn's own point: no sea crossing for them
    assert not crossing[a.demand["unit_code"] == ly_son].any()
    table = a.units.reset_index()
    table["code"] = table["code"].astype(str) if "code" in table else table.iloc[:, 0].astype(str)
    out = mark_sea_trips(table, a.demand, crossing, unlinked_units(units))
    row = out.set_index("code").loc[ly_son]
    assert bool(row["no_land_link"]) and row["travel_note"] == "island: travel within the island only"
    assert (out.loc[out["population_sea_trip"] > 0, "travel_note"] == SEA_TRIP_NOTE).all()
    assert out.loc[out["population_sea_trip"] > 0, "mean_minutes"].isna().all()


# --- points from another province ----------------------------------------------------------------


def test_points_from_another_province_are_refused() -> None:
    from pointplan.data import check_points_province, provinces_of

    hanoi_pts = pointplan.load_points("units-only")
    assert set(provinces_of(hanoi_pts)) == {"01"}
    check_points_province(hanoi_pts, "Hà Nội")  # fine
    with pytest.raises(
        InputError, match=r"lies in Thành phố Hà Nội \(126 of 126 points\), not in Tỉnh Lai Châu.*--province 01"
    ):
        check_points_province(hanoi_pts, "12")
    at_sea = gpd.GeoDataFrame(geometry=gpd.points_from_xy([112.0], [12.0]), crs=4326)
    with pytest.raises(InputError, match="no province of Vietnam"):
        check_points_province(at_sea, "12")
    # swapped lon/lat land nowhere either
    swapped = gpd.GeoDataFrame(geometry=gpd.points_from_xy([21.03], [105.85]), crs=4326)
    with pytest.raises(InputError, match="swapped"):
        check_points_province(swapped, "01")


def test_a_province_outline_is_the_union_of_its_units() -> None:
    from pointplan.data import load_boundary

    units = pointplan.load_units("46")
    outline = load_boundary("Huế")
    assert len(outline) == 1
    assert outline.to_crs(32648).area.iloc[0] == pytest.approx(units.to_crs(32648).area.sum(), rel=1e-3)


@pytest.mark.slow
def test_the_sea_aware_engine_keeps_every_trip_on_land() -> None:
    from pointplan.network import make_engine
    from pointplan.provinces import SeaAwareEngine, land_groups, sea_trips

    units = pointplan.load_units("Quảng Ninh")  # Cô Tô and two island xã
    demand = pointplan.build_demand(units)
    pts = province_points(units, demand)
    plain = pointplan.assess(pts, units, demand, engine=make_engine(None), name="22")
    groups = land_groups(units)
    assert sea_trips(plain.demand, plain.points, groups).sum() > 0  # the straight line crosses the sea
    sea = pointplan.assess(pts, units, demand, engine=SeaAwareEngine(make_engine(None), units), name="22")
    assert sea_trips(sea.demand, sea.points, groups).sum() == 0
    # the people who crossed the sea now travel farther (on their own land), never less
    crossed = sea_trips(plain.demand, plain.points, groups).to_numpy()
    assert (sea.demand["minutes"].to_numpy()[crossed] >= plain.demand["minutes"].to_numpy()[crossed] - 1e-9).all()
    # everyone else is unchanged
    np.testing.assert_allclose(sea.demand["minutes"].to_numpy()[~crossed], plain.demand["minutes"].to_numpy()[~crossed])


def test_sea_aware_engine_places_rows_without_unit_codes_by_their_polygon() -> None:
    from pointplan.network import CrowFliesEngine
    from pointplan.provinces import SeaAwareEngine

    units = gpd.GeoDataFrame(
        {"population": [100, 200, 50]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000), shapely.box(7000, 0, 8000, 1000)],
        index=pd.Index(["a", "b", "c"], name="code"),
        crs=32648,
    )
    eng = SeaAwareEngine(CrowFliesEngine("motorbike"), units)
    # a point at sea next to the island belongs to the island's group (nearest unit)
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy([500, 7500, 9000], [500, 500, 500]), crs=32648)
    assert eng.group_of(sites).tolist() == [0, 1, 1]
    places = gpd.GeoDataFrame(
        {"unit_code": ["b", "c"]}, geometry=gpd.points_from_xy([1500, 7600], [500, 500]), crs=32648
    )
    pairs = eng.od_long(places, sites, 600)
    # b reaches site 0 only; c reaches sites 1 and 2 (its island), never site 0 across the sea
    assert sorted(zip(pairs["i"], pairs["j"], strict=True)) == [(0, 0), (1, 1), (1, 2)]
    assert eng.method == "crow_flies_circuity" and eng.mode == "motorbike"


# --- pointplan run --province ----------------------------------------------------------------------


@pytest.mark.slow
def test_run_the_largest_province_and_one_with_islands_far_out(tmp_path: Path) -> None:
    """HCMC (168 units, the most) and Khánh Hòa (Trường Sa, lon 114): whole runs, with proposals."""
    import json

    from pointplan.data import load_units
    from pointplan.workflow import run

    for code, n in (("79", 168), ("56", len(load_units("56")))):
        out = tmp_path / code
        run(out, province=code, uncertainty=False, add=1, formats="html")
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        units = pd.read_csv(out / "units.csv", dtype={"code": str}, encoding="utf-8-sig")
        assert s["province_code"] == code and s["units"] == n == len(units) and s["points"] == n
        assert set(units["population_source"]) <= {"official", "worldpop_estimate"}
        assert len(s["proposals"]) == 1


@pytest.mark.slow
def test_run_a_small_province(tmp_path: Path) -> None:
    import json

    from pointplan.data import load_boundary
    from pointplan.workflow import run

    out = tmp_path / "lai_chau"
    paths = run(out, province="Lai Châu", uncertainty=False, add=2, formats="html")
    assert {"units.csv", "summary.json", "map.html", "report.html"} <= set(paths)
    units = pd.read_csv(out / "units.csv", dtype={"code": str}, encoding="utf-8-sig")
    assert len(units) == 38 and units["code"].str.startswith("03").all()
    assert units["population_source"].value_counts().to_dict() == {"official": 37, "worldpop_estimate": 1}
    assert units.set_index("code").loc["03487", "population_source"] == "worldpop_estimate"  # Xã Lê Lợi
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["province_code"] == "12" and s["units"] == 38 and s["points"] == 38
    assert s["branches_expected"] is None  # Hanoi's 12 branches are Hanoi's
    assert s["population"] == pytest.approx(units["population"].sum())
    assert "Hanoi's inner city" in s["fallback_note"]
    assert s["travel_time_method"] == "crow_flies_circuity"
    # the proposals lie inside Lai Châu
    props = gpd.read_file(out / "proposals.geojson")
    assert len(props) == 2
    outline = load_boundary("12").to_crs(32648).buffer(10).iloc[0]
    assert props.to_crs(32648).within(outline).all()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "rest on a WorldPop estimate" in report


def test_a_points_file_from_another_province_writes_nothing(tmp_path: Path) -> None:
    from pointplan.workflow import run

    pts = pointplan.load_points("units-only")
    csv = tmp_path / "hanoi_points.csv"
    pd.DataFrame({"name": pts["name"], "lon": pts.geometry.x, "lat": pts.geometry.y}).to_csv(csv, index=False)
    out = tmp_path / "out"
    with pytest.warns(UserWarning), pytest.raises(InputError, match=r"lies in Thành phố Hà Nội.*not in Tỉnh Lai Châu"):
        run(out, province="12", points=csv, uncertainty=False, add=0)
    assert not out.exists() or not any(out.iterdir())


def test_cli_unknown_province_exit_2_suggests_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pointplan.cli import main

    assert main(["run", "--province", "Thanh Hao", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Did you mean: 38 Tỉnh Thanh Hóa" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["info", "--province", "lai-chau"]) == 0
    assert "Tỉnh Lai Châu (code 12, slug lai-chau): 38 units" in capsys.readouterr().out
