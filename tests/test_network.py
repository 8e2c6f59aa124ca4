"""Tests of the travel-time engine (pointplan.network).

Hand-worked answers on tiny synthetic networks (UTM 48N metres), and cross-checks
against networkx (``multi_source_dijkstra``) and osmnx snapping on the real Văn Miếu
extract shipped in data/osm. Everything offline.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from pointplan import network as net
from pointplan import settings
from pointplan._errors import (
    CRSError,
    InputError,
    NetworkError,
    OfflineError,
    PrecisionWarning,
    UnreachableWarning,
)

X0, Y0 = 585_000.0, 2_320_000.0
UTM = "EPSG:32648"


# --------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------


def make_graph(coords, edges, crs=UTM):
    G = nx.MultiDiGraph(crs=crs)
    for n, (x, y) in coords.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v, d in edges:
        G.add_edge(u, v, **d)
    return G


def two_way(u, v, length, highway="residential"):
    return [
        (u, v, {"length": float(length), "highway": highway, "oneway": False}),
        (v, u, {"length": float(length), "highway": highway, "oneway": False}),
    ]


def one_way(u, v, length, highway="residential"):
    return [(u, v, {"length": float(length), "highway": highway, "oneway": True})]


def points(xy, index=None, crs=UTM):
    xy = np.asarray(xy, float)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(X0 + xy[:, 0], Y0 + xy[:, 1]), index=index, crs=crs)


LATTICE_SPEEDS = {"residential": 36.0, "primary": 72.0}  # 10 m/s and 20 m/s


def lattice():
    """3 x 3 grid, 100 m blocks. Nodes (row-major from the bottom-left):

    6 - 7 - 8
    |   |   |
    3 ==4 - 5      3 -> 4 has a second, primary edge (5 s instead of 10 s)
    |   ^   |
    0 - 1 - 2      1 -> 4 is one-way (no 4 -> 1)
    """
    coords = {r * 3 + c: (100.0 * c, 100.0 * r) for r in range(3) for c in range(3)}
    edges = []
    for r in range(3):
        for c in range(3):
            u = r * 3 + c
            if c < 2:
                edges += two_way(u, u + 1, 100)
            if r < 2 and u != 1:
                edges += two_way(u, u + 3, 100)
    edges += one_way(1, 4, 100)
    edges += one_way(3, 4, 100, highway="primary")
    return make_graph(coords, edges)


# seconds from each node TO node 4, worked by hand (10 s per residential block, 5 s on
# the primary 3 -> 4, no 4 -> 1)
LATTICE_TO_4 = {0: 15.0, 1: 10.0, 2: 20.0, 3: 5.0, 4: 0.0, 5: 10.0, 6: 15.0, 7: 10.0, 8: 20.0}
LATTICE_TO_4_M = {0: 200, 1: 100, 2: 200, 3: 100, 4: 0, 5: 100, 6: 200, 7: 100, 8: 200}


def line():
    """Nodes on a straight street at x = 0, 100, 250, 450, 700 m (two-way)."""
    xs = [0.0, 100.0, 250.0, 450.0, 700.0]
    coords = {i: (x, 0.0) for i, x in enumerate(xs)}
    edges = []
    for i in range(4):
        edges += two_way(i, i + 1, xs[i + 1] - xs[i])
    return make_graph(coords, edges)


def line_engine(**kw):
    G = net.add_travel_times(line(), "motorbike", 36.0)  # 10 m/s
    return net.NetworkEngine(G, "motorbike", access_speed_kmh=3.6, **kw)  # 1 m/s


# --------------------------------------------------------------------------------------
# speeds and travel times
# --------------------------------------------------------------------------------------


def test_constants_cover_every_mode():
    assert net.MODES == ("walk", "bike", "motorbike", "car")
    for mode in net.MODES:
        assert net.DEFAULT_SPEEDS_KMH[mode] > 0
        assert net.ACCESS_SPEEDS_KMH[mode] > 0
        assert set(net.HIGHWAY_SPEEDS_KMH[mode]).isdisjoint(net.EXCLUDED_HIGHWAYS[mode])
    assert net.DEFAULT_SPEEDS_KMH["walk"] == 4.5
    assert "motorway" in net.EXCLUDED_HIGHWAYS["motorbike"]  # banned on expressways
    assert "footway" in net.EXCLUDED_HIGHWAYS["car"]
    assert 1.0 < net.DEFAULT_CIRCUITY < 2.0


def test_add_travel_times_by_highway_maxspeed_and_exclusion():
    coords = {0: (0, 0), 1: (500, 0), 2: (1000, 0), 3: (1000, 500)}
    G = make_graph(
        coords,
        [
            (0, 1, {"length": 500.0, "highway": "primary"}),
            (1, 2, {"length": 500.0, "highway": "primary", "maxspeed": "20"}),
            (2, 3, {"length": 500.0, "highway": "footway"}),
            (3, 0, {"length": 1200.0, "highway": "unknown_type"}),  # not in the table: the mode's default
            (0, 3, {"length": 1200.0, "railway": "rail"}),  # no highway tag: never a road
            (1, 3, {"length": 750.0, "highway": ["residential", "primary"]}),
        ],
    )
    net.add_travel_times(G, "motorbike")
    tt = {(u, v): d["travel_time_s"] for u, v, d in G.edges(data=True)}
    assert tt[(0, 1)] == pytest.approx(500 / (30 / 3.6))  # primary 30 km/h
    assert tt[(1, 2)] == pytest.approx(500 / (20 / 3.6))  # capped by maxspeed 20
    assert tt[(2, 3)] == math.inf  # motorbikes may not use footways
    assert tt[(3, 0)] == pytest.approx(1200 / (25 / 3.6))  # DEFAULT_SPEEDS_KMH
    assert tt[(0, 3)] == math.inf  # a railway is not a road (it was 25 km/h before)
    assert tt[(0, 3)] == math.inf  # a railway is not a road (it was 25 km/h before)
    assert tt[(1, 3)] == pytest.approx(750 / (((18 + 30) / 2) / 3.6))  # merged: mean
    assert G.graph["pointplan_mode"] == "motorbike"
    net.add_travel_times(G, "walk")
    assert G[2][3][0]["travel_time_s"] == pytest.approx(500 / (4.5 / 3.6))


def test_add_travel_times_overrides():
    G = make_graph({0: (0, 0), 1: (360, 0)}, one_way(0, 1, 360, "primary"))
    net.add_travel_times(G, "car", 36.0)  # uniform: 10 m/s
    assert G[0][1][0]["travel_time_s"] == pytest.approx(36.0)
    assert G[0][1][0]["speed_kmh"] == 36.0
    net.add_travel_times(G, "car", {"primary": 72.0})
    assert G[0][1][0]["travel_time_s"] == pytest.approx(18.0)
    net.add_travel_times(G, "car", {"primary": 0})  # 0 closes a type
    assert G[0][1][0]["travel_time_s"] == math.inf
    with pytest.raises(InputError, match="mode"):
        net.add_travel_times(G, "boat")
    with pytest.raises(InputError, match="speeds_kmh"):
        net.add_travel_times(G, "car", -5.0)


def test_missing_length_is_imputed_with_a_warning():
    G = make_graph({0: (0, 0), 1: (300, 400)}, [(0, 1, {"highway": "primary"})])
    with pytest.warns(PrecisionWarning, match="1 of 1 edges"):
        net.add_travel_times(G, "motorbike", 36.0)
    assert G[0][1][0]["length"] == pytest.approx(500.0)
    assert G[0][1][0]["travel_time_s"] == pytest.approx(50.0)


def test_lengths_shorter_than_the_straight_line_are_replaced():
    # 0 m between nodes 3 km apart would be a teleport; 90 m for 100 m is kept (>= 0.9 x)
    G = make_graph({0: (0, 0), 1: (3000, 0), 2: (3100, 0)}, one_way(0, 1, 0.0) + one_way(1, 2, 95.0))
    with pytest.warns(PrecisionWarning, match=r"1 of 2 edges had a 'length' shorter .* 0 m for 3000 m"):
        net.add_travel_times(G, "motorbike", 36.0)
    assert G[0][1][0]["length"] == pytest.approx(3000.0)
    assert G[0][1][0]["travel_time_s"] == pytest.approx(300.0)
    assert G[1][2][0]["length"] == 95.0


def test_walking_ignores_one_way_and_switching_back_restores_the_graph():
    G = lattice()
    n_edges = G.number_of_edges()
    net.add_travel_times(G, "walk", 3.6)  # 1 m/s
    assert G.has_edge(4, 1)
    walk = net.NetworkEngine(G, "walk", cache=False)
    assert walk.node_times([1]).seconds[walk._g.nodes.get_loc(4)] == 100.0
    net.add_travel_times(G, "motorbike", LATTICE_SPEEDS)
    assert G.number_of_edges() == n_edges and not G.has_edge(4, 1)
    moto = net.NetworkEngine(G, "motorbike")
    # by motorbike 4 -> 1 goes round: 4 -> 3 -> 0 -> 1 (or via 5, 2)
    assert moto.node_times([1]).seconds[moto._g.nodes.get_loc(4)] == 30.0


# --------------------------------------------------------------------------------------
# the engine on hand-worked networks
# --------------------------------------------------------------------------------------


def test_lattice_times_one_way_and_parallel_edges_by_hand():
    G = net.add_travel_times(lattice(), "motorbike", LATTICE_SPEEDS)
    eng = net.NetworkEngine(G, "motorbike")
    res = eng.node_times([4], with_distance=True).to_frame()
    assert res["seconds"].to_dict() == LATTICE_TO_4
    assert res["distance_m"].to_dict() == pytest.approx(LATTICE_TO_4_M)
    assert (res["target"] == 4).all()
    # the same through GeoDataFrames, points exactly on the nodes
    xy = [(G.nodes[n]["x"] - X0, G.nodes[n]["y"] - Y0) for n in range(9)]
    origins = points(xy, index=[f"n{n}" for n in range(9)])
    dest = points([(100, 100)], index=["centre"])
    out = eng.nearest(origins, dest)
    assert list(out.columns) == ["dest", "minutes", "distance_m", "reachable", "method"]
    assert out.attrs["method"] == "network" and (out["method"] == "network").all()
    assert (out["dest"] == "centre").all()
    np.testing.assert_allclose(out["minutes"], [LATTICE_TO_4[n] / 60 for n in range(9)])
    np.testing.assert_allclose(out["distance_m"], [LATTICE_TO_4_M[n] for n in range(9)])


def test_multi_source_with_snap_legs_by_hand():
    eng = line_engine()
    # A sits 40 m off node 0, B on node 4; access legs at 1 m/s, the street at 10 m/s
    dests = points([(0, -40), (700, 0)], index=["A", "B"])
    origins = points([(100, 0), (250, 30), (450, 0), (0, -40)], index=[10, 11, 12, 13])
    out = eng.nearest(origins, dests)
    assert out["dest"].tolist() == ["A", "B", "B", "A"]
    # node 1: 10 s + 40 s to A (B: 60 s); (250, 30): 30 + 45 s to B (A: 30 + 25 + 40);
    # node 3: 25 s to B; an origin on A itself: the two snap legs, 40 + 40 s
    np.testing.assert_allclose(out["minutes"] * 60, [50.0, 75.0, 25.0, 80.0])
    np.testing.assert_allclose(out["distance_m"], [140.0, 480.0, 250.0, 80.0])
    snap = eng.snap(origins)
    assert snap["node"].tolist() == [1, 2, 3, 0]
    np.testing.assert_allclose(snap["snap_m"], [0, 30, 0, 40])
    assert not snap["far"].any()


def test_node_times_nearest_target_with_and_without_distance():
    eng = line_engine()
    lean = eng.node_times([4, 0])
    full = eng.node_times([4, 0], with_distance=True)
    assert lean.target.tolist() == full.target.tolist() == [1, 1, 1, 0, 0]
    np.testing.assert_array_equal(lean.seconds, [0, 10, 25, 25, 0])
    np.testing.assert_array_equal(full.seconds, lean.seconds)
    np.testing.assert_allclose(full.distance_m, [0, 100, 250, 250, 0])
    assert lean.distance_m is None
    frame = lean.to_frame()
    assert frame["target"].tolist() == [0, 0, 0, 4, 4] and frame.attrs["method"] == "network"


def test_integer_destination_labels_stay_integer():
    eng = line_engine()
    out = eng.nearest(points([(100, 0)]), points([(0, 0), (700, 0)], index=[7, 9]))
    assert out["dest"].tolist() == [7]
    assert pd.api.types.is_integer_dtype(out["dest"])


def test_far_points_are_reported():
    eng = line_engine(max_snap_m=50.0)
    origins = points([(100, 0), (250, 80)])
    assert eng.snap(origins)["far"].tolist() == [False, True]
    with pytest.warns(PrecisionWarning, match="1 of 2 origins lie more than 50 m"):
        out = eng.nearest(origins, points([(0, 0)]))
    np.testing.assert_allclose(out["minutes"] * 60, [10.0, 80.0 + 25.0])


def test_unreachable_components_and_one_way_traps_are_missing_and_counted():
    coords = {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (0, 500), 4: (100, 500), 5: (200, 100)}
    edges = two_way(0, 1, 100) + two_way(1, 2, 100) + two_way(3, 4, 100)
    edges += one_way(2, 5, 100)  # 5 can be entered, never left
    G = net.add_travel_times(make_graph(coords, edges), "motorbike", 36.0)
    eng = net.NetworkEngine(G, "motorbike")
    origins = points([(100, 0), (100, 500), (200, 100)], index=["a", "b", "c"])
    dest = points([(0, 0)], index=["P"])
    with pytest.warns(UnreachableWarning, match="2 of 3 origins"):
        out = eng.nearest(origins, dest)
    assert out.loc["a", "minutes"] == pytest.approx(10 / 60)
    # missing, never inf (an inf would reach JSON and CSV outputs), and counted
    assert out.loc[["b", "c"], "minutes"].isna().all() and out.loc[["b", "c"], "distance_m"].isna().all()
    assert not np.isinf(out[["minutes", "distance_m"]].to_numpy()).any()
    assert out["reachable"].tolist() == [True, False, False]
    assert out.attrs["n_unreachable"] == 2
    assert out["dest"].isna().tolist() == [False, True, True]
    od = eng.od_long(origins, dest, max_minutes=60)
    assert od[["i", "j"]].values.tolist() == [[0, 0]]


def test_od_long_by_hand_with_inclusive_cutoff():
    eng = line_engine()
    origins = points([(100, 0), (250, 0), (450, 0)])
    dests = points([(0, 0), (700, 0)])
    od = eng.od_long(origins, dests, max_minutes=0.5)
    assert od[["i", "j"]].values.tolist() == [[0, 0], [1, 0], [2, 1]]
    np.testing.assert_allclose(od["minutes"] * 60, [10, 25, 25])
    np.testing.assert_allclose(od["distance_m"], [100, 250, 250])
    od = eng.od_long(origins, dests, max_minutes=0.75)  # 45 s exactly is in
    assert od[["i", "j"]].values.tolist() == [[0, 0], [1, 0], [1, 1], [2, 0], [2, 1]]
    np.testing.assert_allclose(od["minutes"] * 60, [10, 25, 45, 45, 25])
    assert od.attrs["method"] == "network"
    assert eng.od_long(origins, dests, max_minutes=0.1).empty
    fast = eng.od_long(origins, dests, max_minutes=0.75, with_distance=False)
    np.testing.assert_allclose(fast["minutes"], od["minutes"])
    assert fast["distance_m"].isna().all()


def test_od_long_counts_snap_legs_at_both_ends():
    eng = line_engine()
    od = eng.od_long(points([(250, 30)]), points([(0, -40), (700, 0)]), max_minutes=1.6)
    # to A: 30 + 25 + 40 = 95 s; to B: 30 + 45 = 75 s
    assert od["j"].tolist() == [0, 1]
    np.testing.assert_allclose(od["minutes"] * 60, [95, 75])
    np.testing.assert_allclose(od["distance_m"], [320, 480])


def test_service_area_by_hand():
    eng = line_engine()
    areas = eng.service_areas(points([(0, 0)], index=["P"]), max_minutes=0.5, buffer_m=10, cell_m=0.5)
    assert list(areas.index) == ["P"] and areas.crs == UTM
    poly = areas.geometry.iloc[0]
    # 30 s at 10 m/s: the street from x = 0 to x = 300, a 10 m band around it (drawn on
    # 0.5 m cells: the band's edges are good to a cell)
    assert poly.area == pytest.approx(300 * 20 + math.pi * 100, rel=0.06)
    assert poly.contains(shapely.Point(X0 + 290, Y0))
    assert not poly.intersects(shapely.Point(X0 + 315, Y0))
    assert areas.attrs["method"] == "network"


def test_service_area_follows_one_way_streets_towards_the_point():
    G = net.add_travel_times(lattice(), "motorbike", LATTICE_SPEEDS)
    eng = net.NetworkEngine(G, "motorbike")
    # who reaches node 1 within 10 s? nodes 0 and 2, not node 4 (no 4 -> 1)
    poly = eng.service_areas(points([(100, 0)]), max_minutes=10 / 60, buffer_m=5).geometry[0]
    assert poly.contains(shapely.Point(X0 + 1, Y0)) and poly.contains(shapely.Point(X0 + 199, Y0))
    assert not poly.intersects(shapely.Point(X0 + 100, Y0 + 50))


def test_service_area_in_lon_lat_and_empty_when_out_of_reach():
    eng = line_engine()
    pts = points([(0, 0), (0, 500)]).to_crs("EPSG:4326")
    areas = eng.service_areas(pts, max_minutes=1.0)
    assert areas.crs == "EPSG:4326"
    assert not areas.geometry.iloc[0].is_empty
    assert areas.geometry.iloc[1].is_empty  # 500 s of walking to the street alone


def test_polygons_use_representative_points_and_inputs_are_reprojected():
    eng = line_engine()
    square = shapely.box(X0 + 240, Y0 - 10, X0 + 260, Y0 + 10)
    origins = gpd.GeoDataFrame(geometry=[square], crs=UTM).to_crs("EPSG:4326")
    out = eng.nearest(origins, points([(0, 0)]).to_crs("EPSG:4326"))
    rp = shapely.point_on_surface(square)
    snap = math.dist((rp.x, rp.y), (X0 + 250, Y0))
    assert out["minutes"].iloc[0] * 60 == pytest.approx(25 + snap, abs=1e-3)


def test_inputs_are_validated():
    eng = line_engine()
    no_crs = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)])
    with pytest.raises(CRSError):
        eng.nearest(no_crs, points([(0, 0)]))
    with pytest.raises(InputError, match="max_minutes"):
        eng.od_long(points([(0, 0)]), points([(0, 0)]), max_minutes=-1)
    G = line()
    del G.graph["crs"]
    with pytest.raises(CRSError):
        net.NetworkEngine(G)
    with pytest.raises(NetworkError):
        net.NetworkEngine(nx.MultiDiGraph(crs=UTM))
    with pytest.raises(InputError):
        eng.node_times(["no such node"])


def test_unusable_graphs_raise_clear_errors():
    G = line()
    G.nodes[0]["x"] = "585 000"
    with pytest.raises(NetworkError, match="non-numeric 'x'"):
        net.NetworkEngine(net.add_travel_times(G, "motorbike", 36.0))
    G = line()
    G.graph["crs"] = "EPSG:4326"  # but the coordinates are UTM metres
    with pytest.raises(CRSError, match="look like metres"):
        net.NetworkEngine(G)


def test_partly_given_travel_times_are_recomputed_with_a_warning():
    G = line()
    for _, _, d in G.edges(data=True):
        d["travel_time_s"] = 1.0
    del G[0][1][0]["travel_time_s"]
    with pytest.warns(PrecisionWarning, match="missing on 1 of 8 edges"):
        eng = net.NetworkEngine(G, "motorbike")
    assert eng.node_times([0]).seconds[1] == pytest.approx(100 / (18 / 3.6))  # residential
    G2 = line()
    for _, _, d in G2.edges(data=True):
        d["travel_time_s"] = 1.0  # all given, no mode tag: used as they are
    assert net.NetworkEngine(G2, "motorbike").node_times([0]).seconds[4] == 4.0


def test_conversion_is_cached_per_graph_and_invalidated_by_new_times():
    G = net.add_travel_times(line(), "motorbike", 36.0)
    first = net.NetworkEngine(G, "motorbike")
    second = net.NetworkEngine(G, "motorbike")
    assert second._g is first._g and second.conversion_seconds == 0.0
    net.add_travel_times(G, "motorbike", 72.0)
    third = net.NetworkEngine(G, "motorbike")
    assert third._g is not first._g
    assert third.node_times([0]).seconds[1] == pytest.approx(5.0)


def test_engine_recomputes_times_for_another_mode_on_a_copy():
    G = net.add_travel_times(lattice(), "motorbike", LATTICE_SPEEDS)
    walk = net.NetworkEngine(G, "walk")
    assert G.graph["pointplan_mode"] == "motorbike" and not G.has_edge(4, 1)
    # default walking speed 4.5 km/h and the one-way ignored: 4 -> 1 is 100 m
    assert walk.node_times([1]).seconds[walk._g.nodes.get_loc(4)] == pytest.approx(80.0)


@pytest.mark.slow  # the first test to import osmnx pays ~2 s
def test_graph_in_lon_lat_is_projected_with_the_same_answers():
    G = net.add_travel_times(lattice(), "motorbike", LATTICE_SPEEDS)
    import osmnx as ox

    G_ll = ox.project_graph(G, to_latlong=True)
    eng = net.NetworkEngine(G_ll, "motorbike")
    assert eng.crs.equals(settings.projected_crs)
    res = eng.node_times([4]).to_frame()
    assert res["seconds"].to_dict() == LATTICE_TO_4


# --------------------------------------------------------------------------------------
# crow flies and circuity
# --------------------------------------------------------------------------------------


def test_crow_flies_by_hand():
    eng = net.CrowFliesEngine("motorbike", circuity=1.3)  # 25 km/h, circuity 1.3: the plain model
    dests = points([(0, 0), (10_000, 0)], index=["P", "Q"])
    origins = points([(3000, 4000), (0, 0), (9000, 0)], index=["a", "b", "c"])
    out = eng.nearest(origins, dests)
    assert out["dest"].tolist() == ["P", "P", "Q"]
    # 5 km straight x 1.3 = 6.5 km at 25 km/h = 15.6 min
    np.testing.assert_allclose(out["minutes"], [15.6, 0.0, 1300 / (25 / 3.6) / 60])
    np.testing.assert_allclose(out["distance_m"], [6500, 0, 1300])
    assert (out["method"] == "crow_flies_circuity").all()
    assert out.attrs["method"] == "crow_flies_circuity"
    od = eng.od_long(origins, dests, max_minutes=15.6)
    assert od[["i", "j"]].values.tolist() == [[0, 0], [1, 0], [2, 1]]  # 15.6 is in
    assert eng.od_long(origins, dests, max_minutes=15.5)[["i", "j"]].values.tolist() == [
        [1, 0],
        [2, 1],
    ]
    walk = net.CrowFliesEngine("walk", circuity=1.0)
    assert walk.nearest(origins.iloc[:1], dests)["minutes"].iloc[0] == pytest.approx(5000 / (4.5 / 3.6) / 60)
    with pytest.raises(InputError, match="circuity"):
        net.CrowFliesEngine(circuity=0.5)


def test_crow_flies_od_matches_brute_force():
    rng = np.random.default_rng(5)
    origins = points(rng.uniform(0, 20_000, size=(400, 2)))
    dests = points(rng.uniform(0, 20_000, size=(30, 2)))
    eng = net.CrowFliesEngine("bike", circuity=1.25)
    od = eng.od_long(origins, dests, max_minutes=20)
    o = np.column_stack([origins.geometry.x, origins.geometry.y])
    d = np.column_stack([dests.geometry.x, dests.geometry.y])
    minutes = np.hypot(*(o[:, None, :] - d[None, :, :]).transpose(2, 0, 1)) * 1.25 / (12 / 3.6)
    minutes /= 60
    i, j = np.nonzero(minutes <= 20)
    assert od[["i", "j"]].values.tolist() == np.column_stack([i, j]).tolist()
    np.testing.assert_allclose(od["minutes"], minutes[i, j])


def test_crow_flies_service_area_radius():
    eng = net.CrowFliesEngine("walk", circuity=1.5)
    disc = eng.service_areas(points([(0, 0)]), max_minutes=10).geometry.iloc[0]
    radius = 10 * 60 * 4.5 / 3.6 / 1.5  # 500 m
    assert disc.area == pytest.approx(math.pi * radius**2, rel=0.01)


def test_make_engine_picks_the_method():
    crow = net.make_engine(None, "walk", max_snap_m=100, circuity=1.4)
    assert isinstance(crow, net.CrowFliesEngine) and crow.circuity == 1.4
    G = net.add_travel_times(line(), "motorbike", 36.0)
    eng = net.make_engine(G, "motorbike", access_speed_kmh=3.6)
    assert isinstance(eng, net.NetworkEngine) and eng.method == "network"
    eng = net.make_engine(line(), "motorbike", speeds_kmh=36.0)
    assert eng.node_times([0]).seconds[1] == pytest.approx(10.0)


def test_travel_engine_none_means_the_shipped_default(monkeypatch):
    # None and "default" follow settings.default_network; "none" is always the straight line
    monkeypatch.setattr(settings, "default_network", None)
    assert net.travel_engine(None, "walk").method == "crow_flies_circuity"
    assert net.travel_engine("default", "walk").method == "crow_flies_circuity"
    assert net.travel_engine("none", "car").mode == "car"
    G = net.add_travel_times(line(), "motorbike", 36.0)
    hybrid = net.travel_engine(G, "motorbike", snap_m=50)
    assert isinstance(hybrid, net.HybridEngine) and hybrid.mode == "motorbike" and hybrid.snap_m == 50
    bare = net.travel_engine(G, "motorbike", fallback=False, access_speed_kmh=3.6)
    assert isinstance(bare, net.NetworkEngine)
    # the older names are wrappers with their documented meaning of None
    assert net.make_engine(None, "walk").method == "crow_flies_circuity"
    assert isinstance(net.make_hybrid_engine(G, "motorbike"), net.HybridEngine)


def test_engine_mode_is_read_only_and_shared_base():
    eng = line_engine()
    crow = net.CrowFliesEngine("walk")
    for e in (eng, crow, net.HybridEngine(eng)):
        assert isinstance(e, net.EngineBase) and isinstance(e, net.TravelEngine)
        with pytest.raises(AttributeError):
            e.mode = "car"
    assert eng.mode == "motorbike" and crow.mode == "walk"
    with pytest.raises(InputError, match="max_minutes"):
        crow.od_long(gpd.GeoDataFrame(geometry=[], crs=32648), gpd.GeoDataFrame(geometry=[], crs=32648), -1)


def test_snap_memo_gives_the_same_answer_in_another_crs():
    # same places given in lon/lat and in UTM: the raw-coordinate memo keys on the CRS too
    eng = line_engine()
    utm = gpd.GeoDataFrame(geometry=gpd.points_from_xy([X0 + 120.0, X0 + 600.0], [Y0 + 30.0, Y0 - 10.0]), crs=UTM)
    dest = gpd.GeoDataFrame(geometry=gpd.points_from_xy([X0 + 450.0], [Y0]), index=["P"], crs=UTM)
    first = eng.nearest(utm, dest)
    again = eng.nearest(utm.copy(), dest)  # a hit of the memo
    lonlat = eng.nearest(utm.to_crs(4326), dest)
    pd.testing.assert_frame_equal(first, again)
    assert np.allclose(first["minutes"], lonlat["minutes"], atol=1e-6)
    # 120 m: 30 s walk to the street, 330 m at 10 m/s; 600 m: 10 s walk, 150 m at 10 m/s
    assert first["minutes"].mul(60).round(6).tolist() == [63.0, 25.0]


def grid(side, block=100.0, scale=1.0):
    coords = {r * side + c: (block * c, block * r) for r in range(side) for c in range(side)}
    edges = []
    for r in range(side):
        for c in range(side):
            u = r * side + c
            if c + 1 < side:
                edges += two_way(u, u + 1, block * scale)
            if r + 1 < side:
                edges += two_way(u, u + side, block * scale)
    return make_graph(coords, edges)


def test_calibrate_circuity_straight_street_is_one():
    coords = {i: (100.0 * i, 0.0) for i in range(25)}
    edges = [e for i in range(24) for e in two_way(i, i + 1, 100)]
    assert net.calibrate_circuity(make_graph(coords, edges)) == pytest.approx(1.0, abs=1e-12)


def test_calibrate_circuity_on_a_manhattan_grid():
    side = 12
    c = net.calibrate_circuity(grid(side), n_pairs=3000, seed=1)
    # exact ratio of sums over all pairs >= 200 m apart: Manhattan / Euclidean
    xy = np.array([(c_ * 100.0, r * 100.0) for r in range(side) for c_ in range(side)])
    d = xy[:, None, :] - xy[None, :, :]
    euclid = np.hypot(d[..., 0], d[..., 1])
    manhattan = np.abs(d).sum(axis=2)
    far = euclid >= 200
    expected = manhattan[far].sum() / euclid[far].sum()
    assert 1.2 < expected < 1.3  # close to 4/pi for random directions
    assert c == pytest.approx(expected, rel=0.03)
    doubled = net.calibrate_circuity(grid(side, scale=2.0), n_pairs=3000, seed=1)
    assert doubled == pytest.approx(2 * c, rel=1e-12)
    with pytest.raises(NetworkError):
        net.calibrate_circuity(grid(2))


# --------------------------------------------------------------------------------------
# real data: the Văn Miếu extract
# --------------------------------------------------------------------------------------


def _osm_file(name: str) -> Path:
    """A shipped OSM file (data/osm); a missing one is a failure, not a skip."""
    from pointplan.data import data_file

    return data_file(f"osm/{name}")


@pytest.fixture(scope="module")
def vanmieu():
    """Motorbike and walk graphs from the OSM XML, bike graph from the GraphML."""
    xml, graphml = _osm_file("vanmieu.osm"), _osm_file("vanmieu_bike.graphml")
    return {
        "motorbike": net.load_network(xml, mode="motorbike"),
        "walk": net.load_network(xml, mode="walk"),
        "bike": net.load_network(graphml, mode="bike"),
    }


def _nx_to_targets(G, targets):
    """Independent answer: networkx multi-source Dijkstra on the reversed graph."""
    dist, paths = nx.multi_source_dijkstra(G.reverse(copy=True), targets, weight="travel_time_s")
    length = {}
    for node, path in paths.items():
        fwd = path[::-1]  # node -> ... -> target
        length[node] = sum(
            min(
                d["length"]
                for d in G[a][b].values()
                if d["travel_time_s"] == min(e["travel_time_s"] for e in G[a][b].values())
            )
            for a, b in itertools.pairwise(fwd)
        )
    return dist, length


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["motorbike", "walk", "bike"])
def test_vanmieu_times_equal_networkx(vanmieu, mode):
    G = vanmieu[mode]
    eng = net.NetworkEngine(G, mode)
    rng = np.random.default_rng(7)
    nodes = list(G.nodes)
    targets = [nodes[i] for i in rng.choice(len(nodes), size=6, replace=False)]
    res = eng.node_times(targets, with_distance=True)
    dist, length = _nx_to_targets(G, targets)
    ref = np.array([dist.get(n, np.inf) for n in res.nodes])
    assert np.array_equal(np.isfinite(ref), np.isfinite(res.seconds))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(res.seconds[fin], ref[fin], rtol=1e-12, atol=0)
    ref_len = np.array([length.get(n, np.inf) for n in res.nodes])
    np.testing.assert_allclose(res.distance_m[fin], ref_len[fin], rtol=1e-9)
    # the nearest target is one at that time
    frame = res.to_frame()
    assert set(frame["target"].dropna()) <= set(targets)


@pytest.mark.slow
def test_vanmieu_networks_per_mode(vanmieu):
    for mode, G in vanmieu.items():
        assert pyproj_equal(G.graph["crs"], settings.projected_crs)
        tt = np.array([d["travel_time_s"] for _, _, d in G.edges(data=True)])
        assert np.isfinite(tt).all() and (tt > 0).all()
        types = {t for _, _, d in G.edges(data=True) for t in net._highway_key(d.get("highway"))}
        assert not types & net.EXCLUDED_HIGHWAYS[mode], mode
    walk_types = {d.get("highway") for _, _, d in vanmieu["walk"].edges(data=True)}
    assert "footway" in walk_types
    walk = vanmieu["walk"]
    assert all(walk.has_edge(v, u) for u, v in walk.edges())  # walking ignores one-ways
    moto = vanmieu["motorbike"]
    assert not all(moto.has_edge(v, u) for u, v in moto.edges())  # one-way streets kept


@pytest.mark.slow
def test_vanmieu_retain_all_keeps_the_fragments(vanmieu):
    xml = _osm_file("vanmieu.osm")
    everything = net.load_network(xml, mode="motorbike", retain_all=True)
    main = vanmieu["motorbike"]
    assert everything.number_of_nodes() > main.number_of_nodes()
    assert nx.number_weakly_connected_components(main) == 1
    assert nx.number_weakly_connected_components(everything) > 1


def pyproj_equal(a, b):
    import pyproj

    return pyproj.CRS.from_user_input(a).equals(pyproj.CRS.from_user_input(b))


@pytest.fixture(scope="module")
def vanmieu_points(vanmieu):
    G = vanmieu["motorbike"]
    x = np.array([d["x"] for _, d in G.nodes(data=True)])
    y = np.array([d["y"] for _, d in G.nodes(data=True)])
    rng = np.random.default_rng(11)
    # the middle 70 % of the extract, where every point is well within 500 m of a street
    lo_x, hi_x = np.quantile(x, [0.15, 0.85])
    lo_y, hi_y = np.quantile(y, [0.15, 0.85])
    o = np.column_stack([rng.uniform(lo_x, hi_x, 40), rng.uniform(lo_y, hi_y, 40)])
    d = np.column_stack([rng.uniform(lo_x, hi_x, 4), rng.uniform(lo_y, hi_y, 4)])
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(o[:, 0], o[:, 1]), crs=UTM)
    dests = gpd.GeoDataFrame(geometry=gpd.points_from_xy(d[:, 0], d[:, 1]), index=list("ABCD"), crs=UTM)
    return origins.to_crs("EPSG:4326"), dests


def _edge_snap(G, xy):
    """Nearest edge of every point by brute force (shapely distance to every edge).

    Returns, per point, the snap distance and the ways out of / into its projection:
    lists of (node, seconds) to leave towards and to arrive from, and (edge key, fraction).
    """
    best = {}
    for u, v, d in G.edges(data=True):
        if not np.isfinite(d["travel_time_s"]) or u == v:
            continue
        if (u, v) not in best or d["travel_time_s"] < best[(u, v)]["travel_time_s"]:
            best[(u, v)] = d
    keys = list(best)
    lines = np.array(
        [
            best[k].get("geometry")
            or shapely.LineString([(G.nodes[k[0]]["x"], G.nodes[k[0]]["y"]), (G.nodes[k[1]]["x"], G.nodes[k[1]]["y"])])
            for k in keys
        ]
    )
    out = []
    for x, y in xy:
        p = shapely.Point(x, y)
        dist = shapely.distance(lines, p)
        u, v = keys[int(np.argmin(dist))]
        leave, arrive, on = [], [], []
        for a, b in ((u, v), (v, u)):
            if (a, b) in best:
                line = lines[keys.index((a, b))]
                f = line.line_locate_point(p, normalized=True)
                t = best[(a, b)]["travel_time_s"]
                leave.append((b, (1 - f) * t))
                arrive.append((a, f * t))
                on.append(((a, b), f, t))
        out.append((float(dist.min()), leave, arrive, on))
    return out


def _brute_force_seconds(G, origins, dests, access_mps):
    """Full origin x destination matrix: brute-force edge snapping and networkx Dijkstra."""
    o = _edge_snap(G, shapely.get_coordinates(origins.to_crs(UTM).geometry.values))
    d = _edge_snap(G, shapely.get_coordinates(dests.to_crs(UTM).geometry.values))
    R = G.reverse(copy=True)
    M = np.full((len(o), len(d)), np.inf)
    for j, (d_snap, _, arrive, d_on) in enumerate(d):
        to_dest = {}
        for node, cost in arrive:  # seconds from every node to the destination's projection
            for n, t in nx.single_source_dijkstra_path_length(R, node, weight="travel_time_s").items():
                to_dest[n] = min(to_dest.get(n, np.inf), t + cost)
        for i, (o_snap, leave, _, o_on) in enumerate(o):
            best = min((cost + to_dest.get(n, np.inf) for n, cost in leave), default=np.inf)
            for (e1, f1, t1), (e2, f2, _) in itertools.product(o_on, d_on):
                if e1 == e2 and f2 >= f1:  # along the same street, in its direction
                    best = min(best, (f2 - f1) * t1)
            M[i, j] = best + (o_snap + d_snap) / access_mps
    return M, np.array([s[0] for s in o])


@pytest.mark.slow
def test_vanmieu_nearest_and_od_equal_brute_force(vanmieu, vanmieu_points):
    G = vanmieu["motorbike"]
    origins, dests = vanmieu_points
    eng = net.NetworkEngine(G, "motorbike")
    M, o_snap = _brute_force_seconds(G, origins, dests, eng.access_speed_kmh / 3.6)
    # the far-from-network rule measures the same distance as the snap (to the nearest street)
    np.testing.assert_allclose(eng.snap(origins)["snap_m"], o_snap, rtol=1e-6, atol=1e-6)
    with pytest.warns(UnreachableWarning) if np.isinf(M.min(axis=1)).any() else _Nothing():
        near = eng.nearest(origins, dests)
    np.testing.assert_allclose(near["minutes"] * 60, M.min(axis=1), rtol=1e-6)
    fin = np.isfinite(M.min(axis=1))
    assert near["dest"][fin].tolist() == [dests.index[j] for j in M.argmin(axis=1)[fin]]
    od = eng.od_long(origins, dests, max_minutes=3.0)
    i, j = np.nonzero(M <= 180.0)
    assert od[["i", "j"]].values.tolist() == np.column_stack([i, j]).tolist()
    np.testing.assert_allclose(od["minutes"] * 60, M[i, j], rtol=1e-6)
    # od_long and nearest agree on the nearest pair's distance
    best = od.loc[od.groupby("i")["minutes"].idxmin()]
    np.testing.assert_allclose(best["distance_m"].to_numpy(), near["distance_m"].to_numpy()[best["i"]], rtol=1e-9)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.slow
def test_vanmieu_service_areas_and_circuity(vanmieu, vanmieu_points):
    G = vanmieu["walk"]
    _, dests = vanmieu_points
    eng = net.NetworkEngine(G, "walk")
    areas = eng.service_areas(dests, max_minutes=5)
    assert len(areas) == 4 and areas.crs == UTM
    assert (areas.area > 0).all()
    # 5 minutes of walking cannot reach farther than 375 m (+ the 50 m band)
    for point, poly in zip(dests.geometry, areas.geometry, strict=True):
        assert shapely.hausdorff_distance(point, poly) <= 375 + 50 + 1
    # every origin node reached within 5 minutes lies inside its area
    res = eng.node_times(eng.snap(dests.iloc[:1])["node"].tolist())
    inside = res.seconds + eng.snap(dests.iloc[:1])["snap_m"].iloc[0] / (4.5 / 3.6) <= 300
    xy = np.column_stack([eng._g.x[inside], eng._g.y[inside]])
    assert shapely.contains_xy(areas.geometry.iloc[0].buffer(1e-6), xy[:, 0], xy[:, 1]).all()
    c = net.calibrate_circuity(G)
    assert 1.3 < c < 1.7  # the value quoted in DEFAULT_CIRCUITY's documentation


# --------------------------------------------------------------------------------------
# downloads (never live: osmnx's download function is replaced)
# --------------------------------------------------------------------------------------


def raw_osm_like_graph():
    """What osmnx returns unsimplified for a tiny place: lon/lat, highway tags."""
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    G = nx.MultiDiGraph(crs="epsg:4326")
    lon0, lat0, step = 105.835, 21.028, 0.001
    for r in range(3):
        for c in range(3):
            G.add_node(100 + r * 3 + c, x=lon0 + c * step, y=lat0 + r * step, street_count=2)
    osmid = 1
    for r in range(3):
        for c in range(3):
            u = 100 + r * 3 + c
            for v in ([u + 1] if c < 2 else []) + ([u + 3] if r < 2 else []):
                a, b = G.nodes[u], G.nodes[v]
                length = geod.inv(a["x"], a["y"], b["x"], b["y"])[2]
                for s, t, rev in ((u, v, False), (v, u, True)):
                    G.add_edge(
                        s,
                        t,
                        osmid=osmid,
                        highway="residential",
                        oneway=False,
                        reversed=rev,
                        length=length,
                    )
                osmid += 1
    return G


@pytest.mark.slow
def test_download_is_cached_and_used_offline(monkeypatch):
    import osmnx as ox

    calls = []

    def fake_place(query, **kw):
        calls.append((query, kw))
        return raw_osm_like_graph()

    monkeypatch.setattr(ox, "graph_from_place", fake_place)
    with pytest.raises(OfflineError, match="allow_downloads"):
        net.load_network("Phường Văn Miếu - Quốc Tử Giám, Hà Nội")
    assert calls == []
    old_folder = ox.settings.cache_folder
    monkeypatch.setattr(settings, "allow_downloads", True)
    G1 = net.load_network("Phường Văn Miếu - Quốc Tử Giám, Hà Nội", mode="motorbike")
    assert len(calls) == 1 and calls[0][1]["network_type"] == "all"
    assert ox.settings.cache_folder == old_folder  # osmnx settings restored
    cached = list((Path(settings.cache_dir) / "osmnx" / "graphs").glob("place_*.graphml"))
    assert len(cached) == 1
    # second call: no internet, no downloads allowed -> the cached graph
    monkeypatch.setattr(settings, "allow_downloads", False)

    def no_network(*a, **kw):
        raise AssertionError("must not download")

    monkeypatch.setattr(ox, "graph_from_place", no_network)
    G2 = net.load_network("Phường Văn Miếu - Quốc Tử Giám, Hà Nội", mode="motorbike")
    assert G2.number_of_nodes() == G1.number_of_nodes() == 5  # corners simplified away
    assert pyproj_equal(G2.graph["crs"], settings.projected_crs)
    t1 = sorted(d["travel_time_s"] for _, _, d in G1.edges(data=True))
    t2 = sorted(d["travel_time_s"] for _, _, d in G2.edges(data=True))
    np.testing.assert_allclose(t1, t2)
    # another place is another cache entry
    with pytest.raises(OfflineError):
        net.load_network("Phường Hoàn Kiếm, Hà Nội")


@pytest.mark.slow
def test_polygon_download_and_connection_errors(monkeypatch):
    import osmnx as ox
    import requests

    monkeypatch.setattr(settings, "allow_downloads", True)
    poly = shapely.box(105.83, 21.02, 105.84, 21.03)

    def down(*a, **kw):
        raise requests.exceptions.ConnectionError("no route to host")

    monkeypatch.setattr(ox, "graph_from_polygon", down)
    with pytest.raises(OfflineError, match="no route to host"):
        net.load_network(poly)
    monkeypatch.setattr(ox, "graph_from_polygon", lambda *a, **kw: raw_osm_like_graph())
    G = net.load_network(poly, mode="walk", cache=False)
    assert G.graph["pointplan_mode"] == "walk"
    assert not list((Path(settings.cache_dir) / "osmnx" / "graphs").glob("*.graphml"))


def test_load_network_rejects_missing_files_and_odd_sources(tmp_path):
    with pytest.raises(FileNotFoundError):
        net.load_network(tmp_path / "nowhere.osm")
    with pytest.raises(InputError):
        net.load_network(42)


@pytest.mark.slow
def test_unreadable_files_and_cache_name_the_file(tmp_path, monkeypatch):
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm version='0.6'><node", encoding="utf-8")
    with pytest.raises(NetworkError, match=r"broken\.osm"):
        net.load_network(broken)
    place = "Phường Văn Miếu - Quốc Tử Giám, Hà Nội"
    cached = Path(settings.cache_dir) / "osmnx" / "graphs" / f"place_{net._request_key('place', place)}.graphml"
    cached.parent.mkdir(parents=True)
    cached.write_text("<graphml><gra", encoding="utf-8")
    with pytest.raises(NetworkError, match=re.escape(cached.name)):
        net.load_network(place)
    # with downloads allowed, a corrupted cache entry is simply downloaded again
    import osmnx as ox

    monkeypatch.setattr(settings, "allow_downloads", True)
    monkeypatch.setattr(ox, "graph_from_place", lambda *a, **kw: raw_osm_like_graph())
    assert net.load_network(place).number_of_nodes() == 5
    assert ox.load_graphml(cached).number_of_nodes() == 5
