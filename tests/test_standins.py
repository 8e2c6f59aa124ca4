"""Stand-ins placed on the evidence: the street named in the address, else the population centre."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from pointplan import load_units
from pointplan.points import STAND_IN_PRECISIONS, load_points, unit_point_addresses
from pointplan.standins import (
    compute_standins,
    load_standins,
    parse_street,
    population_centre,
)

UTM = 32648


@pytest.mark.parametrize(
    ("address", "street"),
    [
        ("Số 126 Hàng Trống, phường Hoàn Kiếm", "Hàng Trống"),
        ("Số 2, phố Trúc Bạch, phường Ba Đình", "Trúc Bạch"),
        ("Số 199 đường Bát Khối, phường Long Biên", "Bát Khối"),
        ("Số 12 ngõ 5 phố Vạn Hạnh, phường Việt Hưng", "Vạn Hạnh"),
        ("Tổ 6, phường Phúc Lợi", None),
        ("Thôn Thắng Trí, xã Kim Anh", None),
        ("", None),
    ],
)
def test_parse_street(address, street) -> None:
    assert parse_street(address) == street


def test_population_centre_is_the_weighted_1_median() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 5000, size=(60, 2))
    w = rng.uniform(0, 100, size=60)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    assert population_centre(xy, w) == int(np.argmin(d @ w))  # brute force, independent


def _unit_and_network():
    sq = shapely.box(0, 0, 2000, 2000)
    units = gpd.GeoDataFrame(
        {"hq_address": ["Số 9 phố Lý Thái Tổ, phường A", "Thôn Đông, xã B"]},
        geometry=[sq, shapely.box(2000, 0, 4000, 2000)],
        index=pd.Index(["00001", "00002"], name="code"),
        crs=UTM,
    )
    G = nx.MultiDiGraph(crs=f"EPSG:{UTM}")
    for n, (x, y) in {1: (100, 1800), 2: (1900, 1800), 3: (2100, 1000), 4: (3900, 1000)}.items():
        G.add_node(n, x=float(x), y=float(y))
    G.add_edge(1, 2, name="Lý Thái Tổ", highway="tertiary")  # OSM without the type word
    G.add_edge(3, 4, name="Đường Làng", highway="residential")
    # unit 1: people at (1000, 200) ×100 and (1500, 300) ×20; unit 2: (3000, 1100) ×50, (3500, 200) ×5
    demand = gpd.GeoDataFrame(
        {"unit_code": ["00001", "00001", "00002", "00002"], "population": [100.0, 20.0, 50.0, 5.0]},
        geometry=gpd.points_from_xy([1000, 1500, 3000, 3500], [200, 300, 1100, 200]),
        crs=UTM,
    )
    return units, G, demand


def test_street_in_unit_and_population_centre_by_hand() -> None:
    units, G, demand = _unit_and_network()
    s = compute_standins(units, network=G, demand=demand)
    # unit 1: the named street y = 1800, nearest to the population centre (1000, 200) → (1000, 1800)
    assert s.loc["00001", "location_precision"] == "street_in_unit"
    assert s.loc["00001", "matched_street"] == "Lý Thái Tổ"
    assert (s.geometry["00001"].x, s.geometry["00001"].y) == pytest.approx((1000, 1800))
    # unit 2: no street in the address; centre (3000, 1100) is 100 m from the road y = 1000 → snapped
    assert s.loc["00002", "location_precision"] == "unit_population_centre"
    assert (s.geometry["00002"].x, s.geometry["00002"].y) == pytest.approx((3000, 1000))
    # moved_m is measured from point_on_surface of the polygon (the previous stand-in)
    old = shapely.point_on_surface(units.geometry["00002"])
    assert s.loc["00002", "moved_m"] == pytest.approx(old.distance(shapely.Point(3000, 1000)), abs=0.1)


def test_street_outside_the_unit_is_not_matched() -> None:
    units, G, demand = _unit_and_network()
    units.loc["00002", "hq_address"] = "Số 1 phố Lý Thái Tổ, xã B"  # that street lies in unit 1 only
    s = compute_standins(units, network=G, demand=demand)
    assert s.loc["00002", "location_precision"] == "unit_population_centre"


def test_without_people_or_streets_the_stand_in_says_so() -> None:
    units, _, demand = _unit_and_network()
    s = compute_standins(units, network=None, demand=demand[demand["unit_code"] == "00001"])
    assert s.loc["00002", "location_precision"] == "unit_representative_point"
    assert s.loc["00002", "moved_m"] == 0


def test_shipped_table_is_consistent_with_the_units() -> None:
    units = load_units()
    t = load_standins()
    assert sorted(t.index) == sorted(units.index)
    assert set(t["location_precision"]) <= STAND_IN_PRECISIONS
    pts = gpd.GeoSeries(gpd.points_from_xy(t["lon"], t["lat"]), index=t.index, crs=4326).to_crs(UTM)
    polys = units.geometry.to_crs(UTM).loc[t.index]
    assert pts.within(polys.buffer(1)).all()
    street = t["location_precision"] == "street_in_unit"
    assert (t.loc[street, "matched_street"] != "").all()
    assert (t.loc[~street, "matched_street"] == "").all()
    # the matched street is the one the address names
    addr = unit_point_addresses(units)
    for code in t.index[street]:
        assert t.loc[code, "street_parsed"] == parse_street(addr[code])
    # in the xã, the old point_on_surface was a median 845 m from the population centre
    xa = units.index[units["kind"] == "xa"]
    assert 300 < t.loc[xa, "moved_m"].median() < 2000


@pytest.mark.slow
def test_shipped_table_recomputes(tmp_path) -> None:
    """The package table is what compute_standins gives on the shipped data (a few units)."""
    from pointplan.data import data_file
    from pointplan.demand import build_demand

    units = load_units().loc[["00070", "00004", "00376"]]
    st = compute_standins(
        units,
        addresses=unit_point_addresses(units),
        network=data_file("osm_inner_drive"),
        demand=build_demand(load_units(), cell_m=250).query("unit_code in @units.index"),
    ).to_crs(4326)
    t = load_standins().loc[units.index]
    assert list(st["location_precision"]) == list(t["location_precision"])
    assert np.allclose(st.geometry.x, t["lon"], atol=1e-5) and np.allclose(st.geometry.y, t["lat"], atol=1e-5)


def test_points_carry_the_stand_in_precision_and_note() -> None:
    p = load_points("units-only")
    assert p.loc["DP00070", "location_precision"] == "street_in_unit"
    assert "Hàng Trống" in p.loc["DP00070", "notes"]
