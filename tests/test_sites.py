"""Real candidate sites: hand-worked fixtures (tiny POI files, duplicates, unmatched addresses,
sites outside the city) and checks on the shipped data."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from pointplan.locate.sites import (
    constraint_cost,
    hospital_sites,
    load_located_table,
    locate_address_sites,
    match_street,
    post_office_rows,
    read_user_sites,
    real_sites,
)

X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"


def _units() -> gpd.GeoDataFrame:
    """Two 1 km squares side by side: 00001 (west) and 00002 (east)."""
    return gpd.GeoDataFrame(
        geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
        index=pd.Index(["00001", "00002"], name="code"),
        crs=UTM,
    )


def _lonlat(x: float, y: float) -> list[float]:
    p = gpd.GeoSeries([shapely.Point(x, y)], crs=UTM).to_crs(4326).iloc[0]
    return [p.x, p.y]


def _poi_file(tmp_path: Path, feats: list[tuple[dict, tuple[float, float]]]) -> Path:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": _lonlat(*xy)}, "properties": props}
        for props, xy in feats
    ]
    p = tmp_path / "poi.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return p


def test_tiny_poi_file_reports_no_name_outside_and_duplicate_by_row(tmp_path) -> None:
    p = _poi_file(
        tmp_path,
        [
            ({"name": "Bệnh viện A", "osm_type": "node", "osm_id": 1}, (X0 + 500, Y0 + 500)),
            ({"name": "Trạm y tế phường B", "osm_type": "node", "osm_id": 2}, (X0 + 1500, Y0 + 500)),
            ({"name": None, "osm_type": "node", "osm_id": 3}, (X0 + 600, Y0 + 600)),
            ({"name": "Bệnh viện Xa", "osm_type": "node", "osm_id": 4}, (X0 + 9000, Y0 + 500)),
            ({"name": "bệnh viện a", "osm_type": "way", "osm_id": 5}, (X0 + 560, Y0 + 580)),  # 100 m from row 1
            ({"name": "Bệnh viện A", "osm_type": "node", "osm_id": 6}, (X0 + 1700, Y0 + 500)),  # 1.2 km: a campus
        ],
    )
    sites, report = hospital_sites(p, _units())
    assert sites["site_id"].tolist() == ["osm-node-1", "osm-node-2", "osm-node-6"]
    assert sites["site_kind"].tolist() == ["hospital", "clinic", "hospital"]
    assert sites["unit_code"].tolist() == ["00001", "00002", "00002"]
    assert set(sites["location_precision"]) == {"osm_mapped"}  # as mapped in OSM, never "surveyed"
    assert report[["row", "issue"]].values.tolist() == [[3, "no_name"], [4, "outside_city"], [5, "duplicate"]]
    assert "osm-node-1" in report.loc[report["issue"] == "duplicate", "detail"].iloc[0]


def test_poi_file_without_names_reports_every_row(tmp_path) -> None:
    p = _poi_file(tmp_path, [({"osm_id": i}, (X0 + 100 * i, Y0 + 500)) for i in range(1, 4)])
    sites, report = hospital_sites(p, _units())
    assert sites.empty
    assert report["row"].tolist() == [1, 2, 3]
    assert set(report["issue"]) == {"no_name"}
    assert "add 'name'" in report["detail"].iloc[0]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("218 Đội Cấn, Cống Vị", "đội cấn"),
        ("Số 51 Vũ Trọng Phụng Thanh Xuân, Thanh Xuân Trung", "vũ trọng phụng"),
        ("Times City, 458 Minh Khai, phường Vĩnh Tuy", "minh khai"),
        ("Số 01 Bắc Sơn - Thị trấn Chúc Sơn", None),  # the unit name after the dash is no street
        ("Khu đô thị Đại Thanh, xã Đại Thanh", None),  # an urban area, not a street
        ("75 Đinh Tiên Hoàng, Tràng Tiền", None),  # the ward after the comma is not searched
    ],
)
def test_match_street(address, expected) -> None:
    keys = ["đội cấn", "vũ trọng phụng", "thanh xuân", "minh khai", "chúc sơn", "đại thanh", "tràng tiền"]
    assert match_street(address, keys) == expected


def _network() -> nx.MultiDiGraph:
    """Phố Hàng Trống along y = Y0+900 in unit 00001 only; Phố Lò Đúc along y = Y0+100 in 00002."""
    G = nx.MultiDiGraph(crs=UTM)
    for n, (x, y) in enumerate(
        [(X0 + 100, Y0 + 900), (X0 + 900, Y0 + 900), (X0 + 1100, Y0 + 100), (X0 + 1900, Y0 + 100)]
    ):
        G.add_node(n, x=x, y=y)
    G.add_edge(0, 1, name="Phố Hàng Trống", highway="residential")
    G.add_edge(2, 3, name="Phố Lò Đúc", highway="residential")
    return G


def _standins(prec: str = "unit_population_centre") -> pd.DataFrame:
    ll = [_lonlat(X0 + 300, Y0 + 500), _lonlat(X0 + 1600, Y0 + 500)]
    return pd.DataFrame(
        {"lon": [p[0] for p in ll], "lat": [p[1] for p in ll], "location_precision": [prec, "street_in_unit"]},
        index=["00001", "00002"],
    )


def _xy(out: pd.DataFrame) -> list[tuple[int, int]]:
    pts = gpd.GeoSeries(gpd.points_from_xy(out["lon"], out["lat"]), crs=4326).to_crs(UTM)
    return [(round(p.x - X0), round(p.y - Y0)) for p in pts]


def test_addresses_by_street_in_unit_else_standin_else_reported() -> None:
    rows = pd.DataFrame(
        {
            "site_id": ["a", "b", "c", "d", "e"],
            "name": ["BC A", "BC B", "BC C", "BC D", "BC E"],
            "site_kind": "post_office",
            "address": ["12 Hàng Trống", "Thôn Đông", "5 Lò Đúc, X", "9 Lò Đúc", "3 Hàng Trống"],
            "unit_code": ["00001", "00001", "00001", "", "00002"],
            "other_units": ["", "", "00002", "", ""],
            "source": "t",
        }
    )
    out = locate_address_sites(rows, _units(), network=_network(), standins=_standins())
    # a: street in its unit, the point of the street nearest the stand-in (300, 500) -> (300, 900)
    # b: no street -> the unit's stand-in, with its precision
    # c: Lò Đúc is not in 00001 but in 00002, which took part of the old ward -> moved, reported
    # d: no unit -> dropped; e: Hàng Trống is not in 00002 -> 00002's stand-in; that stand-in is on
    #    the head office's street, so for a post office it is only a point inside the unit
    assert out["location_precision"].tolist() == [
        "street_in_unit",
        "unit_population_centre",
        "street_in_unit",
        "",
        "unit_representative_point",
    ]
    assert out["issue"].tolist() == ["", "no_street_match", "unit_changed", "no_unit", "no_street_match"]
    assert out["unit_code"].tolist() == ["00001", "00001", "00002", "", "00002"]
    located = out[out["lon"].notna()]
    assert _xy(located) == [(300, 900), (300, 500), (1600, 100), (1600, 500)]
    assert out.loc[0, "matched_street"] == "Phố Hàng Trống"


def test_real_sites_from_files_report_and_dedupe(tmp_path) -> None:
    csv = tmp_path / "po.csv"
    csv.write_text(
        "id,name,detailAddress,new_unit_code\n"
        "1,Trung tâm,12 Hàng Trống,00001\n"
        "2,Trung tâm 2,12 Hàng Trống,00001\n"  # same address, same unit: a duplicate
        "3,,7 Hàng Trống,00001\n"  # no name
        "4,Xa,1 Phố Khác,00099\n",  # a unit outside the study
        encoding="utf-8",
    )
    poi = _poi_file(tmp_path, [({"name": "BV Xa", "osm_id": 1}, (X0 + 50_000, Y0))])
    sites, report = real_sites(
        _units(), include=("hospital", "post_office"), hospitals_file=poi, post_offices_file=csv, network=_network()
    )
    assert sites["site_id"].tolist() == ["vnpost-1"]
    assert sites["name"].tolist() == ["Bưu cục Trung tâm"]
    issues = sorted(zip(report["source"].str.slice(0, 6), report["row"], report["issue"], strict=True))
    assert issues == [
        ("VNPost", 2, "duplicate"),
        ("VNPost", 3, "no_name"),
        ("VNPost", 4, "no_unit"),
        ("poi.ge", 1, "outside_city"),
    ]


def test_user_sites_need_names_and_keep_a_known_precision(tmp_path) -> None:
    p = tmp_path / "mine.csv"
    lon_in, lat_in = _lonlat(X0 + 500, Y0 + 500)
    lon_out, lat_out = _lonlat(X0 + 5000, Y0 + 500)
    p.write_text(
        "name,lon,lat,location_precision\n"
        f"Nhà văn hoá,{lon_in},{lat_in},surveyed\n"
        f"Chợ,{lon_in + 0.003},{lat_in},approximately\n"
        f"Xa,{lon_out},{lat_out},surveyed\n",
        encoding="utf-8",
    )
    sites, report = read_user_sites(p, _units())
    assert sites[["name", "location_precision", "unit_code"]].values.tolist() == [
        ["Nhà văn hóa", "surveyed", "00001"],
        ["Chợ", "unknown", "00001"],
    ]
    assert report[["row", "issue"]].values.tolist() == [[3, "outside_city"]]


class _KmEngine:
    """Minutes = straight-line kilometres."""

    def od_long(self, o, d, cutoff):
        oxy = o.to_crs(UTM).get_coordinates().to_numpy()
        dxy = d.to_crs(UTM).get_coordinates().to_numpy()
        m = np.hypot(oxy[:, None, 0] - dxy[None, :, 0], oxy[:, None, 1] - dxy[None, :, 1]) / 1000
        i, j = np.nonzero(m <= cutoff)
        return pd.DataFrame({"i": i, "j": j, "minutes": m[i, j]})


def _pts(xs, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy([X0 + x for x in xs], [Y0] * len(xs)), crs=UTM)


def test_constraint_cost_by_hand() -> None:
    # A (10 people) at 0 and B (5) at 20 km, both 30 min from their point. Real picks r1 at 3 km,
    # r2 at 23 km, r3 at 40 km; unconstrained picks f1 at 0, f2 at 21 km; spots s1 at 1 km,
    # s2 at 5 km, s3 at 21 km, s4 at 22 km.
    # real: A saves 27 x 10 = 270, B 27 x 5 = 135 -> 405; unconstrained: 300 + 145 = 445 (price 40)
    # r1 tries s1 (2 km away; A saves 29 -> 290 + 135 = 425) and s2 (2 km; A 25 -> 385): s1, cost 20
    # r2 tries s3 (2 km; B 29 -> 270 + 145 = 415) and s4 (1 km; B 28 -> 410): s3, cost 10
    # r3: no spot within NEARBY_M (3 km): no cost (NaN)
    demand = _pts([0, 20_000], population=[10.0, 5.0], minutes=[30.0, 30.0], within_standard=[False, False])
    real = _pts([3000, 23_000, 40_000], candidate_id=["r1", "r2", "r3"])
    free = _pts([0, 21_000], candidate_id=["f1", "f2"])
    spots = _pts([1000, 5000, 21_000, 22_000], candidate_id=["s1", "s2", "s3", "s4"])
    sites = _pts([3000, 23_000, 21_500], site_id=["r1", "r2", "h3"], name=["A", "B", "C"], site_kind=["hospital"] * 3)
    r, f, tot = constraint_cost(
        demand,
        real,
        free,
        sites,
        engine=_KmEngine(),
        max_minutes=5,
        max_distance_m=2000,
        cutoff_minutes=60,
        spots=spots,
    )
    assert r["best_spot_id"].tolist() == ["s1", "s3", ""]
    np.testing.assert_array_equal(r["best_spot_m"].to_numpy(float), [2000.0, 2000.0, np.nan])
    np.testing.assert_array_equal(r["cost_person_minutes"].to_numpy(float), [20.0, 10.0, np.nan])
    np.testing.assert_array_equal(r["cost_people_covered"].to_numpy(float), [0.0, 0.0, np.nan])  # within 5 min anyway
    assert f["nearest_site_id"].tolist() == ["r1", "h3"]
    assert f["no_public_building_within_1km"].tolist() == [True, False]
    assert (tot["real_person_minutes_saved"], tot["unconstrained_person_minutes_saved"]) == (405.0, 445.0)
    assert tot["price_person_minutes"] == 40.0
    assert tot["unconstrained_without_building_1km"] == 1


def test_propose_points_names_real_places_and_states_the_cost(tiny_city, monkeypatch) -> None:
    import pointplan.locate.sites as sites_mod
    from pointplan.assessment import assess
    from pointplan.workflow import propose_points

    c = tiny_city
    a = assess(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"])
    # one real site 1 km east of d3 (the far demand point at x = 11.5 km), one next to d2
    site = _pts(
        [10_500, 4500], site_id=["bc-1", "bv-2"], name=["Bưu cục Xa", "BV Gần"], site_kind=["post_office", "hospital"]
    )
    for col, v in {"address": "", "unit_code": "00002", "source": "t", "location_precision": "street_in_unit",
                   "located_by": "street_match", "matched_street": ""}.items():  # fmt: skip
        site[col] = v
    monkeypatch.setattr(
        sites_mod, "real_sites", lambda units, user_sites=None: (site.to_crs(4326), sites_mod._report([]))
    )
    prop = propose_points(a, 1, objective="pmedian", reassess=False)
    p = prop.points.iloc[0]
    assert (p["candidate_id"], p["site_name"], p["site_kind"]) == ("bc-1", "Bưu cục Xa", "post_office")
    assert p["location_precision"] == "street_in_unit"
    from pointplan.locate.sites import NEARBY_M

    assert np.isfinite(p["cost_person_minutes"]) == (p["best_spot_m"] <= NEARBY_M)
    assert (
        prop.summary["tradeoff"]["unconstrained_person_minutes_saved"]
        >= prop.summary["tradeoff"]["real_person_minutes_saved"]
    )


# ---------------------------------------------------------------------------------- real data
def test_hospitals_in_hanoi_match_the_data_readme() -> None:
    from pointplan.data import data_file, load_units
    from pointplan.points import assign_units

    raw = gpd.read_file(data_file("poi_hospitals"))
    inside = assign_units(raw, load_units()).notna()
    assert len(raw) == 252 and int(inside.sum()) == 157  # data/README.md
    sites, report = hospital_sites()
    counts = report["issue"].value_counts().to_dict()
    # 157 inside = kept + unnamed inside + duplicates; 252 - 157 = 95 outside (3 of them unnamed)
    assert len(sites) + int((raw["name"].isna() & inside).sum()) + counts["duplicate"] == 157
    assert counts["outside_city"] + int((raw["name"].isna() & ~inside).sum()) == 95
    assert counts["no_name"] == int(raw["name"].isna().sum()) == 10


def test_post_offices_never_sit_at_the_old_ward_reference() -> None:
    from pointplan.data import data_file

    t = load_located_table()
    po = t[t["site_kind"] == "post_office"]
    assert len(po) == 109
    raw = pd.read_csv(data_file("poi_vnpost"), dtype=str)
    ref = raw.set_index("id")[["old_ward_ref_lon", "old_ward_ref_lat"]].astype(float)
    po = po[po["lon"] != ""].assign(id=lambda d: d["site_id"].str.removeprefix("vnpost-"))
    d = np.hypot(
        po["lon"].astype(float).to_numpy() - ref.loc[po["id"], "old_ward_ref_lon"].to_numpy(),
        po["lat"].astype(float).to_numpy() - ref.loc[po["id"], "old_ward_ref_lat"].to_numpy(),
    )
    assert (d > 1e-5).all()
    assert set(po["location_precision"]) <= {"street_in_unit", "unit_population_centre", "unit_representative_point"}
    assert (po["matched_street"] != "").sum() == (po["location_precision"] == "street_in_unit").sum()


def test_real_sites_default_counts() -> None:
    sites, report = real_sites()
    kinds = sites["site_kind"].value_counts().to_dict()
    assert kinds["hospital"] + kinds["clinic"] == 149
    assert kinds["post_office"] == 89  # 109 - 10 without a 2025 unit - 10 duplicates
    assert sites["site_id"].is_unique
    assert int((report["issue"] == "no_unit").sum()) == 10


@pytest.mark.slow
def test_shipped_located_table_recomputes_a_few_rows() -> None:
    from pointplan.data import data_file, load_units

    rows = post_office_rows().iloc[[0, 6, 21, 60, 107]]
    out = locate_address_sites(rows, load_units(), network=data_file("osm_inner_drive"))
    t = load_located_table().set_index("site_id").loc[out["site_id"]]
    assert out["location_precision"].tolist() == t["location_precision"].tolist()
    assert out["matched_street"].tolist() == t["matched_street"].tolist()
    np.testing.assert_allclose(out["lon"].to_numpy(float), t["lon"].to_numpy(float), atol=1e-6)
    np.testing.assert_allclose(out["lat"].to_numpy(float), t["lat"].to_numpy(float), atol=1e-6)


def test_grid_sites_stay_available_and_bad_choice_is_refused(tiny_city) -> None:
    from pointplan._errors import InputError
    from pointplan.assessment import assess
    from pointplan.workflow import default_candidates, propose_points

    c = tiny_city
    a = assess(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"])
    prop = propose_points(a, 1, objective="pmedian", reassess=False, sites="grid")
    assert "site_name" not in prop.points and "cost_person_minutes" not in prop.points
    assert "tradeoff" not in prop.summary
    with pytest.raises(InputError, match=r"real.*grid.*both"):
        default_candidates(a, sites="buildings")


@pytest.mark.slow
def test_cli_propose_names_real_places_and_writes_the_report(tmp_path, capsys) -> None:
    from pointplan.cli import main

    out = tmp_path / "out"
    assert main(["propose", "--add", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    props = gpd.read_file(out / "proposals.geojson")
    assert props["site_name"].str.len().gt(0).all()
    assert set(props["site_kind"]) <= {"hospital", "clinic", "post_office", "planned_site"}
    assert {"best_spot_id", "best_spot_m", "cost_person_minutes", "address", "location_precision"} <= set(props)
    report = pd.read_csv(out / "sites_report.csv", encoding="utf-8-sig")
    assert {"no_unit", "no_street_match", "outside_city", "duplicate", "no_name"} <= set(report["issue"])
    assert "no public building within 1 km" in printed


# ---------------------------------------------------------------------------------- layout (issue 23)
def test_sites_package_keeps_its_public_names_and_imports_no_shim() -> None:
    import ast
    import pathlib

    import pointplan.locate.sites as sites_mod

    for name in sites_mod.__all__:
        assert hasattr(sites_mod, name), name
    folder = pathlib.Path(sites_mod.__file__).parent
    for f in folder.glob("*.py"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "pointplan.candidates" not in mods, f.name
        assert len(f.read_text(encoding="utf-8").splitlines()) < 400, f.name


def test_standins_does_not_import_points() -> None:
    import ast
    import pathlib

    import pointplan.standins

    tree = ast.parse(pathlib.Path(pointplan.standins.__file__).read_text(encoding="utf-8"))
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "pointplan.points" not in mods


def test_an_early_comparison_is_used_only_on_the_same_inputs(caplog: pytest.LogCaptureFixture) -> None:
    """The unconstrained comparison started before the assessment gives the same proposal as the one started after."""
    import logging

    import pointplan
    from pointplan.assessment._demo import tiny_city
    from pointplan.locate import propose_points, start_comparison

    c = tiny_city()

    def tiny_assessment() -> pointplan.Assessment:  # on the same engine as the comparisons
        return pointplan.assess(
            c["points"], c["units"], c["demand"], engine=c["engine"], mode="bike", visits=c["visits"]
        )

    plain = propose_points(tiny_assessment(), 1)
    same = start_comparison(
        c["demand"], c["points"], c["units"], c["engine"], 1, max_minutes=30.0, max_distance_m=5000.0
    )
    other = start_comparison(
        c["demand"], c["points"], c["units"], c["engine"], 1, max_minutes=20.0, max_distance_m=5000.0
    )
    with caplog.at_level(logging.INFO, logger="pointplan.locate.points_proposal"):
        early = propose_points(tiny_assessment(), 1, comparison=same)
        assert "other inputs" not in caplog.text
        again = propose_points(tiny_assessment(), 1, comparison=other)  # another standard: started again
        assert "other inputs" in caplog.text
    # xã B's 100 people (d2, d3 at 4 and 11.5 km): the best spot is d3's cell, 2,100 person-minutes saved
    assert plain.summary["unconstrained_picks"][0]["candidate_id"] == "spot-0004"
    for p in (early, again):
        assert p.summary["unconstrained_picks"] == plain.summary["unconstrained_picks"]
        assert p.summary["tradeoff"] == plain.summary["tradeoff"]
