"""The calibrated straight-line fallback and the hybrid engine (issue 14 items 1 and 2)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from pointplan import InputError
from pointplan import network as net
from pointplan.network.calibration import DEFAULT_CALIBRATION_FILE, FallbackModel

X0, Y0 = 585_000.0, 2_320_000.0
UTM = "EPSG:32648"


def pts(xy, index=None) -> gpd.GeoDataFrame:
    a = np.asarray(xy, float)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(X0 + a[:, 0], Y0 + a[:, 1]), index=index, crs=UTM)


def street(n: int, step: float, highway: str = "residential") -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs=UTM)
    for i in range(n):
        G.add_node(i, x=X0 + i * step, y=Y0)
    for i in range(n - 1):
        G.add_edge(i, i + 1, length=step, highway=highway)
        G.add_edge(i + 1, i, length=step, highway=highway)
    return G


def grid(side: int, block: float = 100.0) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs=UTM)
    for r in range(side):
        for c in range(side):
            G.add_node(r * side + c, x=X0 + c * block, y=Y0 + r * block)
    for r in range(side):
        for c in range(side):
            u = r * side + c
            for v in [u + 1] * (c + 1 < side) + [u + side] * (r + 1 < side):
                G.add_edge(u, v, length=block, highway="residential")
                G.add_edge(v, u, length=block, highway="residential")
    return G


# --------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------


def test_model_by_hand_and_its_inverse():
    # 0-1 km: circuity 1.5 at 18 km/h (0.3 s per straight metre); beyond: 1.2 at 30 km/h (0.144 s/m)
    m = FallbackModel("motorbike", np.array([0.0, 1000.0]), np.array([1.5, 1.2]), np.array([18.0, 30.0]))
    d = np.array([0.0, 500.0, 1000.0, 3000.0])
    np.testing.assert_allclose(m.minutes(d) * 60, [0.0, 150.0, 300.0, 300.0 + 2000 * 0.144])
    np.testing.assert_allclose(m.distance_m(d), [0.0, 750.0, 1500.0, 1500.0 + 2400.0])
    for minutes in (0.5, 5.0, 9.8, 30.0):
        assert m.minutes(np.array([m.max_straight_m(minutes)]))[0] == pytest.approx(minutes)
    assert (np.diff(m.minutes(np.linspace(0, 20_000, 500))) >= 0).all()  # farther is never sooner


def test_fit_recovers_a_straight_street_exactly():
    """On one straight street, every trip's circuity is 1 and its speed the table's."""
    for mode, speed in (("motorbike", 18.0), ("walk", 4.5)):
        G = net.add_travel_times(street(60, 100.0), mode)  # not simplified: 60 nodes to draw pairs from
        m = net.fit_fallback(G, modes=(mode,), trips="node_to_node", bands_m=(0.0, 1000.0), n_targets=30).models[mode]
        np.testing.assert_allclose(m.circuity, 1.0, rtol=1e-9)
        np.testing.assert_allclose(m.speed_kmh, speed, rtol=1e-9)
        assert m.stats["heldout_abs_pct_error"]["p90"] == pytest.approx(0.0, abs=1e-6)


def test_fit_on_a_grid_matches_networkx_on_heldout_pairs():
    G = grid(15)
    cal = net.fit_fallback(
        G, modes=("walk",), trips="node_to_node", bands_m=(0.0, 500.0), n_targets=40, n_origins=80, seed=3
    )
    m = cal.models["walk"]
    assert 1.1 < m.circuity[0] < 1.45 and 1.1 < m.circuity[1] < 1.45  # random pairs on a grid: about 4/pi
    # independent check: networkx shortest paths between fresh random nodes
    rng = np.random.default_rng(99)
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    err = []
    for a, b in rng.choice(G.number_of_nodes(), size=(200, 2)):
        straight = math.dist(xy[a], xy[b])
        if straight < 100:
            continue
        metres = nx.shortest_path_length(G, a, b, weight="length")
        err.append(abs(m.distance_m(np.array([straight]))[0] - metres) / metres)
    assert np.median(err) < 0.15
    stats = m.stats
    assert stats["n_pairs_train"] > 0 and stats["n_pairs_heldout"] > 0
    assert stats["heldout_abs_pct_error"]["median"] < 15  # a grid's 4/pi suits 1.3 too: no comparison here
    assert abs(stats["heldout_signed_pct_error"]["median"]) < 3  # the median trip: no bias


def test_door_to_door_needs_doors():
    with pytest.raises(InputError, match="Door-to-door"):
        net.fit_fallback(grid(5), modes=("walk",))


def test_the_shipped_calibration_states_how_it_was_fitted():
    data = json.loads(DEFAULT_CALIBRATION_FILE.read_text("utf-8"))
    assert data["fitted_on"] == "data/osm/hanoi_inner_drive_2025.graphml.gz"
    assert len(data["file_sha256"]) == 64 and data["fitted"][:2] == "20"
    assert "outer" in data["scope"] and "how" in data
    assert set(data["modes"]) == set(net.MODES)
    for mode, item in data["modes"].items():
        assert len(item["circuity"]) == len(item["speed_kmh"]) == len(data["bands_m"])
        assert all(1.0 <= c < 3.0 for c in item["circuity"]), mode
        assert all(0 < v < 80 for v in item["speed_kmh"]), mode
        assert item["n_pairs_train"] > 10_000 and item["n_pairs_heldout"] > 3_000
        err, base = item["heldout_abs_pct_error"], item["heldout_abs_pct_error_circuity_1_3"]
        assert 0 <= err["median"] <= err["p90"] < 100
        assert err["median"] < base["median"]  # better than circuity 1.3 on Hanoi's own roads
    # the test suite reads the file and finds no NaN or inf
    assert "NaN" not in DEFAULT_CALIBRATION_FILE.read_text() and "Infinity" not in DEFAULT_CALIBRATION_FILE.read_text()


def test_default_fallback_is_the_calibrated_one():
    cal = net.load_calibration()
    eng = net.CrowFliesEngine("motorbike")
    assert eng.calibrated and eng.circuity is None
    o, d = pts([(0, 0), (2500, 0), (0, 9000)]), pts([(0, 0)], index=["P"])
    near = eng.nearest(o, d)
    straight = np.array([0.0, 2500.0, 9000.0])
    factor = cal.models["motorbike"].stats["nearest_factor"]  # the nearest of several points: see fit_fallback
    assert 0.8 < factor < 1.0 and eng.nearest_factor == factor
    np.testing.assert_allclose(near["minutes"], cal.models["motorbike"].minutes(straight) * factor)
    np.testing.assert_allclose(near["distance_m"], cal.models["motorbike"].distance_m(straight))
    plain = net.CrowFliesEngine("motorbike", calibration=False)
    assert plain.circuity == net.DEFAULT_CIRCUITY
    np.testing.assert_allclose(plain.minutes_for(straight), straight * 1.3 / (25 / 3.6) / 60)


def test_calibrated_od_long_and_discs_match_brute_force():
    eng = net.CrowFliesEngine("walk")
    rng = np.random.default_rng(5)
    o, d = pts(rng.uniform(0, 4000, (60, 2))), pts(rng.uniform(0, 4000, (7, 2)))
    od = eng.od_long(o, d, 20.0)
    oxy = np.column_stack([o.geometry.x, o.geometry.y])
    dxy = np.column_stack([d.geometry.x, d.geometry.y])
    minutes = eng.minutes_for(np.linalg.norm(oxy[:, None] - dxy[None], axis=2).ravel()).reshape(60, 7)
    i, j = np.nonzero(minutes <= 20.0)
    assert od[["i", "j"]].values.tolist() == np.column_stack([i, j]).tolist()
    np.testing.assert_allclose(od["minutes"], minutes[i, j])
    disc = eng.service_areas(d.iloc[:1], 20.0).geometry.iloc[0]
    radius = math.sqrt(disc.area / math.pi)
    assert eng.minutes_for([radius])[0] == pytest.approx(20.0, rel=2e-3)


# --------------------------------------------------------------------------------------
# the hybrid engine
# --------------------------------------------------------------------------------------


@pytest.fixture
def hybrid():
    G = street(11, 100.0, highway="primary")  # 1 km of primary road at 30 km/h (8.33 m/s)
    network = net.NetworkEngine(G, "motorbike", access_speed_kmh=3.6)  # 1 m/s off the road
    fallback = net.CrowFliesEngine("motorbike", circuity=1.5, speed_kmh=18.0)  # 0.3 s per straight metre
    return net.HybridEngine(network, fallback, snap_m=100.0)


def test_hybrid_nearest_uses_the_network_only_where_both_ends_are_on_it(hybrid):
    origins = pts([(0, 20), (1000, -50), (500, 3000)], index=["on_a", "on_b", "off"])
    dests = pts([(1000, 0), (500, 2500)], index=["P_on", "Q_off"])
    out = hybrid.nearest(origins, dests)
    assert out["method"].tolist() == ["network", "network", "fallback"]
    assert out["dest"].tolist() == ["P_on", "P_on", "Q_off"]
    # on_a: 20 m at 1 m/s + 1,000 m at 30 km/h; on_b: 50 m at 1 m/s; off: 500 m straight x 0.3 s
    np.testing.assert_allclose(out["minutes"] * 60, [20 + 120.0, 50.0, 150.0])
    assert out.attrs["method"] == "hybrid" and out.attrs["n_network"] == 2 and out.attrs["n_fallback"] == 1
    assert isinstance(hybrid, net.TravelEngine)


def test_hybrid_prefers_a_nearer_off_network_point_by_the_fallback(hybrid):
    origins = pts([(0, 0)])
    dests = pts([(1000, 0), (0, 150)], index=["far_on", "near_off"])  # 150 m off: not on the network
    out = hybrid.nearest(origins, dests)
    assert out["dest"].iloc[0] == "near_off" and out["method"].iloc[0] == "fallback"
    assert out["minutes"].iloc[0] * 60 == pytest.approx(150 * 0.3)


def test_hybrid_od_long_and_service_areas_say_the_method(hybrid):
    origins = pts([(0, 0), (500, 3000)])
    dests = pts([(1000, 0), (500, 2500)])
    od = hybrid.od_long(origins, dests, 10.0)
    got = {(int(r.i), int(r.j)): (r.method, round(r.minutes * 60, 6)) for r in od.itertuples()}
    assert got == {(0, 0): ("network", 120.0), (1, 1): ("fallback", 150.0)}
    areas = hybrid.service_areas(dests, 1.0)
    assert areas["method"].tolist() == ["network", "fallback"]
    assert list(areas.index) == list(dests.index)


def test_summarise_methods_per_unit_and_overall():
    method = pd.Series(["network", "network", "fallback", "fallback", "network"])
    pop = pd.Series([30.0, 10.0, 20.0, 40.0, 0.0])
    unit = pd.Series(["A", "B", "B", "C", "D"])
    units, summary = net.summarise_methods(method, pop, unit)
    assert units["travel_time_method"].to_dict() == {"A": "network", "B": "mixed", "C": "fallback", "D": "network"}
    assert units["network_population_share"].round(4).to_dict() == {"A": 1.0, "B": 0.3333, "C": 0.0, "D": 1.0}
    assert summary == {"travel_time_method": "hybrid", "network_population_share": 0.4}
    _, only = net.summarise_methods(method.iloc[:1], pop.iloc[:1], unit.iloc[:1])
    assert only == {"travel_time_method": "network", "network_population_share": 1.0}
