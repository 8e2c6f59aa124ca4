"""Snapping kept per set of places, dead ends left out of the passes, and the fallback's shortcuts.

Every answer is checked against a fresh computation or an independent one (networkx on
the same graph), never against itself.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from pointplan import network as net
from pointplan._errors import UnreachableWarning
from pointplan.network import _common
from pointplan.network.engine import SNAP_MEMO_ENTRIES
from pointplan.network.graph import _Forest

UTM = "EPSG:32648"


def pts(xy, index=None, crs=UTM) -> gpd.GeoDataFrame:
    a = np.asarray(xy, float)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(a[:, 0], a[:, 1]), index=index, crs=crs)


def tree_city(side: int = 6, seed: int = 0) -> nx.MultiDiGraph:
    """A grid (the 2-core) with dead-end trees hanging off it, some one-way, irregular lengths."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=UTM)
    for r in range(side):
        for c in range(side):
            G.add_node(r * side + c, x=100.0 * c + rng.uniform(-9, 9), y=100.0 * r + rng.uniform(-9, 9))

    def link(u, v, oneway=False):
        length = float(np.hypot(G.nodes[u]["x"] - G.nodes[v]["x"], G.nodes[u]["y"] - G.nodes[v]["y"])) * 1.07
        G.add_edge(u, v, length=length, highway="residential")
        if not oneway:
            G.add_edge(v, u, length=length, highway="residential")

    for r in range(side):
        for c in range(side):
            u = r * side + c
            if c + 1 < side:
                link(u, u + 1)
            if r + 1 < side:
                link(u, u + side, oneway=c == 2)
    nxt = side * side
    for k, base in enumerate([0, 7, 14, 20, 35, 17]):  # chains of dead ends, with branches
        prev = base
        for depth in range(1 + k % 3):
            G.add_node(nxt, x=G.nodes[prev]["x"] + 30.0 + 11 * k, y=G.nodes[prev]["y"] + 40.0 - 3 * depth)
            link(prev, nxt, oneway=(k == 3 and depth == 0))
            if depth == 1:  # a branch
                G.add_node(nxt + 1, x=G.nodes[nxt]["x"] - 25.0, y=G.nodes[nxt]["y"] + 33.0)
                link(nxt, nxt + 1)
                nxt += 1
            prev, nxt = nxt, nxt + 1
    return G


def test_forest_is_the_dead_ends_with_their_parents():
    G = tree_city()
    eng = net.NetworkEngine(G, "motorbike", cache=False)
    f = eng._g.forest
    nodes = eng._g.nodes
    core = set(nx.k_core(nx.Graph(G.to_undirected()), 2))
    assert {nodes[i] for i in np.flatnonzero(~f.tree)} == core
    for v in np.flatnonzero(f.tree):  # each tree node hangs from a neighbour, parents before children
        p = f.parent[v]
        assert p >= 0 and G.has_edge(nodes[v], nodes[p]) | G.has_edge(nodes[p], nodes[v])
        pos = {x: i for i, x in enumerate(f.order)}
        assert f.tree[p] is np.False_ or pos[p] < pos[v]


def test_node_times_with_dead_ends_left_out_equal_networkx():
    G = tree_city()
    net.add_travel_times(G, "motorbike")
    eng = net.NetworkEngine(G, "motorbike", cache=False)
    assert eng._g.forest.tree.sum() > 8  # the case under test
    R = G.reverse(copy=True)
    rng = np.random.default_rng(3)
    xy = np.column_stack([eng._g.x, eng._g.y])
    core = np.flatnonzero(~eng._g.forest.tree)
    targets = xy[core[[3, 20, 31]]] + [1.0, 0.0]  # points on core streets: the dead ends are left out
    o = pts(xy + rng.uniform(-3, 3, xy.shape))
    with pytest.warns(UnreachableWarning):  # the far end of a one-way dead end
        got = eng.nearest(o, pts(targets), with_distance=True)
    assert eng._g.memo["search"]  # the pass ran without the dead ends
    d = eng._snap(pts(targets), "d")
    pruned = next(iter(eng._g.memo["search"].values()))[1][2].mask
    assert pruned is not None and pruned.sum() == eng._g.forest.tree.sum()
    # the dead ends' times are those of a full pass (networkx, from the street ends)
    node_s, _, _ = eng._from_destinations(d, lengths=False)
    ends = d.nodes
    reach_s, _ = d.reach()
    access = d.snap_m / eng._access_mps
    best = np.full(eng._g.n, np.inf)
    for j in range(len(targets)):
        for e in range(2):
            if np.isfinite(reach_s[j, e]):
                lengths = nx.single_source_dijkstra_path_length(R, eng._g.nodes[ends[j, e]], weight="travel_time_s")
                for node, sec in lengths.items():
                    p = eng._g.nodes.get_loc(node)
                    best[p] = min(best[p], sec + reach_s[j, e] + access[j])
    np.testing.assert_allclose(node_s, best, rtol=1e-12)
    assert np.isinf(best).sum() == 1 and got["reachable"].sum() >= len(o) - 2


@pytest.mark.filterwarnings("ignore::pointplan.UnreachableWarning")
def test_pruned_passes_equal_a_pass_without_pruning():
    G = tree_city(seed=2)
    eng = net.NetworkEngine(G, "motorbike", cache=False)
    rng = np.random.default_rng(5)
    xy = np.column_stack([eng._g.x, eng._g.y])
    o = pts(xy[rng.choice(len(xy), 40, replace=False)] + rng.uniform(-20, 20, (40, 2)))
    d = pts(xy[rng.choice(len(xy), 4, replace=False)] + rng.uniform(-20, 20, (4, 2)))
    near = eng.nearest(o, d)
    od = eng.od_long(o, d, 3.0)
    assert next(iter(eng._g.memo["search"].values()))[1][2] is not None  # dead ends were left out
    eng._g.forest.__dict__["tree"] = np.zeros(eng._g.n, bool)  # nothing to leave out
    eng._g.memo.clear()
    pd.testing.assert_frame_equal(near, eng.nearest(o, d))
    pd.testing.assert_frame_equal(od, eng.od_long(o, d, 3.0))


def test_snap_memo_serves_the_same_set_and_not_a_changed_one():
    G = tree_city()
    eng = net.NetworkEngine(G, "motorbike", cache=False)
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 500, (300, 2))
    a = pts(xy)
    first = eng.snap(a)
    assert eng._snap(a, "x") is eng._snap(a.copy(), "x")  # the same places: no new snap
    eng._g.memo.clear()
    _common.clear_points_memo()
    pd.testing.assert_frame_equal(first, eng.snap(a))  # cached == fresh
    moved = xy.copy()
    moved[7] += [150.0, -40.0]
    b = eng.snap(pts(moved))
    fresh = net.NetworkEngine(G, "motorbike", cache=False).snap(pts(moved))
    pd.testing.assert_frame_equal(b, fresh)
    assert b.iloc[7].tolist() != first.iloc[7].tolist()  # the changed set is not served stale
    assert b.drop(index=7).equals(first.drop(index=7))


def test_snap_memo_is_bounded_and_keeps_the_set_in_use():
    G = tree_city()
    eng = net.NetworkEngine(G, "motorbike", cache=False)
    demand = pts(np.random.default_rng(0).uniform(0, 500, (50, 2)))
    kept = eng._snap(demand, "demand")
    for k in range(3 * SNAP_MEMO_ENTRIES):
        eng._snap(pts([(10.0 * k, 5.0)]), "points")
        assert eng._snap(demand, "demand") is kept  # used every call: never evicted
    assert len(eng._g.memo["snaps"]) <= 2 * SNAP_MEMO_ENTRIES


def test_projected_points_are_kept_read_only_and_keyed_by_crs():
    _common.clear_points_memo()
    a = pts(np.random.default_rng(2).uniform(0, 500, (200, 2)) + [585_000.0, 2_320_000.0])
    xy = _common._points_xy(a, "a", "EPSG:4326")
    assert _common._points_xy(a.copy(), "a", "EPSG:4326") is xy
    assert not xy.flags.writeable
    back = _common._points_xy(a.to_crs(4326), "a", UTM)
    np.testing.assert_allclose(back, _common._project_points(a, "a", UTM), atol=1e-6)
    np.testing.assert_array_equal(xy, a.to_crs(4326).get_coordinates().to_numpy())


def test_fallback_od_long_skips_distances_only_when_not_asked():
    eng = net.CrowFliesEngine("motorbike")
    rng = np.random.default_rng(4)
    o = pts(rng.uniform(0, 8000, (60, 2)) + [585_000.0, 2_320_000.0])
    d = pts(rng.uniform(0, 8000, (9, 2)) + [585_000.0, 2_320_000.0])
    full = eng.od_long(o, d, 20)
    quick = eng.od_long(o, d, 20, with_distance=False)
    pd.testing.assert_frame_equal(full.drop(columns="distance_m"), quick.drop(columns="distance_m"))
    assert quick["distance_m"].isna().all() and full["distance_m"].notna().all()
    # the times by hand: straight line through the calibrated bands
    oxy, dxy = o.get_coordinates().to_numpy(), d.get_coordinates().to_numpy()
    straight = np.hypot(*(oxy[full["i"]] - dxy[full["j"]]).T)
    np.testing.assert_allclose(full["minutes"], eng.model.minutes(straight), rtol=1e-12)


def test_minutes_and_distance_match_the_separate_figures():
    m = net.load_calibration().models["walk"]
    d = np.array([0.0, 120.0, 250.0, 999.0, 4321.0, 12000.0])
    minutes, dist = m.minutes_and_distance(d)
    np.testing.assert_array_equal(minutes, m.minutes(d))
    np.testing.assert_array_equal(dist, m.distance_m(d))
    # one distance taken out of a longer array keeps its value there
    assert m.minutes(d[3:4], min_rows=2)[0] == m.minutes(d)[3]


def test_hybrid_od_long_times_only_equals_with_distance():
    G = tree_city()
    hy = net.HybridEngine(net.NetworkEngine(G, "motorbike", cache=False), snap_m=60)
    rng = np.random.default_rng(6)
    o = pts(rng.uniform(-150, 650, (80, 2)))  # some off the network, some in the handover band
    d = pts(rng.uniform(-100, 600, (7, 2)))
    full = hy.od_long(o, d, 4.0)
    quick = hy.od_long(o, d, 4.0, with_distance=False)
    assert set(full["method"]) == {"network", "fallback"}
    pd.testing.assert_frame_equal(full.drop(columns="distance_m"), quick.drop(columns="distance_m"))
    assert full["distance_m"].notna().all() and quick["distance_m"].isna().all()


def test_forest_of_a_triangle_with_a_tail():
    from scipy import sparse

    A = sparse.csr_matrix(
        ([4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 2.0, 3.0], ([0, 1, 1, 2, 2, 0, 3, 2], [1, 0, 2, 1, 0, 2, 2, 3])), (4, 4)
    )
    f = _Forest.build(A)
    assert f.tree.tolist() == [False, False, False, True]
    assert f.parent[3] == 2 and f.w_in[3] == pytest.approx(3.0)


def test_a_large_set_close_to_a_kept_one_snaps_only_its_changed_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from pointplan.network import engine as engine_module

    monkeypatch.setattr(engine_module, "SNAP_REUSE_MIN_ROWS", 20)
    eng = net.NetworkEngine(tree_city(), "motorbike")
    fresh = net.NetworkEngine(tree_city(), "motorbike")  # its own memo: every set snapped in full
    rng = np.random.default_rng(8)
    base = rng.uniform(-50, 600, (40, 2))
    eng._snap(pts(base), "points")
    sets, xy = [], base
    for k in range(3):
        xy = xy.copy()
        xy[[k, 10 + k]] = rng.uniform(-50, 600, (2, 2))  # two more places move
        sets.append((xy, fresh._snap(pts(xy), "points")))
    cls = type(eng._g.streets)
    asked: list[int] = []
    snap = cls.snap
    monkeypatch.setattr(cls, "snap", lambda self, xy: asked.append(len(xy)) or snap(self, xy))
    for xy, want in sets:
        got = eng._snap(pts(xy), "points")
        for name in ("street", "frac", "snap_m", "proj_xy"):
            assert np.array_equal(getattr(got, name), getattr(want, name))
    assert asked == [2, 2, 2]  # only the rows moved since the closest kept set were snapped
    eng._snap(pts(rng.uniform(-50, 600, (40, 2))), "points")  # a set unlike any kept: snapped in full
    assert asked[-1] == 40


def test_places_all_among_a_kept_set_take_its_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from pointplan.network import engine as engine_module

    monkeypatch.setattr(engine_module, "SNAP_REUSE_MIN_ROWS", 20)
    eng = net.NetworkEngine(tree_city(), "motorbike")
    fresh = net.NetworkEngine(tree_city(), "motorbike")
    rng = np.random.default_rng(9)
    base = rng.uniform(-50, 600, (40, 2))
    base[7] = base[3]  # a place twice
    eng._snap(pts(base), "points")
    part = base[[33, 7, 3, 0, 21, 21]]  # some places of the set, in another order, one twice
    other = np.vstack([base[:5], [[250.0, 250.0]]])  # one place the set does not have
    want_part, want_other = fresh._snap(pts(part), "points"), fresh._snap(pts(other), "points")
    cls = type(eng._g.streets)
    asked: list[int] = []
    snap = cls.snap
    monkeypatch.setattr(cls, "snap", lambda self, xy: asked.append(len(xy)) or snap(self, xy))
    for xy, want in ((part, want_part), (other, want_other)):
        got = eng._snap(pts(xy), "points")
        for name in ("street", "frac", "snap_m", "proj_xy"):
            assert np.array_equal(getattr(got, name), getattr(want, name))
    assert asked == [6]  # the part took the kept rows; the other set was snapped in full


def test_points_key_known_by_its_objects_is_the_key_of_its_coordinates():
    """A set seen before is known by its geometry objects; any change gives the fresh key."""
    _common.clear_points_memo()
    rng = np.random.default_rng(11)
    a = pts(rng.uniform(0, 500, (300, 2)) + [585_000.0, 2_320_000.0])
    first = _common.points_key(a)
    assert _common._KEY_MEMO  # kept by its objects
    assert _common.points_key(a) == first == _common.points_key(a.copy())
    fresh = pts(a.get_coordinates().to_numpy())  # other objects, same coordinates
    assert _common.points_key(fresh) == first
    b = a.copy()
    b.loc[b.index[5], "geometry"] = shapely.Point(585_001.0, 2_320_001.0)  # one place moved in place
    _common.clear_points_memo()
    moved = _common.points_key(b)
    assert moved != first and moved == _common.points_key(pts(b.get_coordinates().to_numpy()))
    assert _common.points_key(b) == moved  # now from the memo
    assert _common.points_key(a.to_crs(4326)) != first  # the CRS is part of the key
    with_empty = a.copy()
    with_empty.loc[with_empty.index[0], "geometry"] = shapely.Point()
    assert _common.points_key(with_empty) is None


def test_nearest_frame_labels_and_method_are_fresh_and_typed():
    """String labels with gaps are missing, integer labels stay integers; no two frames share a column."""
    idx = pd.Index(["P1", "P2", "P3"], dtype="str")
    pos = np.array([2, -1, 0])
    got = pd.Series(_common._labels(idx, pos))
    assert got.isna().tolist() == [False, True, False] and got.dropna().tolist() == ["P3", "P1"]
    assert isinstance(got.dtype, pd.StringDtype)
    ints = pd.Series(_common._labels(pd.Index([7, 8, 9]), pos))
    assert str(ints.dtype) == "Int64" and ints.tolist()[0] == 9 and ints.isna().tolist() == [False, True, False]
    a, b = _common._constant_column("network", 4), _common._constant_column("network", 4)
    a[0] = "changed"
    assert list(b) == ["network"] * 4
    assert (
        pd.DataFrame({"m": _common._constant_column("network", 2)})["m"].dtype
        == pd.DataFrame({"m": "network"}, index=range(2))["m"].dtype
    )


@pytest.mark.filterwarnings("ignore::pointplan.UnreachableWarning")
def test_fill_plan_equals_round_by_round_parents():
    """The kept plan fills each left-out node with its parent's time plus the arc, as a pass would."""
    G = tree_city(seed=4)
    eng = net.NetworkEngine(G, "motorbike", cache=False)
    f = eng._g.forest
    anchors = np.flatnonzero(~f.tree)[:3]
    mask = f.pruned(anchors)
    assert mask is not None and mask.sum() > 5
    plan = f.plan(mask)
    from scipy.sparse.csgraph import dijkstra

    dist, pred, src = dijkstra(eng._g.rev, indices=anchors, min_only=True, return_predecessors=True)
    want = dist.copy()
    filled = dist.copy()
    filled[mask] = -1.0  # the plan must write every left-out node
    plan.fill(filled, pred.copy(), src.copy())
    np.testing.assert_array_equal(filled, want)  # dead ends reached only through their parents: the same sums
    ok = mask & np.isfinite(want) & (f.parent >= 0)
    np.testing.assert_array_equal(want[ok], want[f.parent[ok]] + f.w_in[ok])


@pytest.mark.parametrize(
    ("option", "value", "word"), [("max_snap_m", -1, "max_snap_m"), ("access_speed_kmh", 0, "access_speed_kmh")]
)
def test_engine_options_are_checked_with_the_argument_named(option, value, word):
    from pointplan._errors import InputError

    with pytest.raises(InputError, match=word):
        net.NetworkEngine(tree_city(), "motorbike", **{option: value})
