"""Routing that is right (issue 14 item 3), on a hand-made OSM fixture.

``tests/data/routing_fixture.osm`` (UTM 48N metres from X0, Y0; lon/lat in the file)::

    5 (0,400) ---- 7 (400,400) ---- 4 (800,400)      street B (residential), 4-7-5
    |              |  railway 2-7   |                footway 3-4
    | street C     |  building      | footway        motorway 1 -> 4 (one-way, diagonal)
    |              |  2-12-7-13     |
    1 (0,0) ------ 2 (400,0) ------ 3 (800,0) ------------------------- 14 (5800,0)
              street A (residential)          long rural road (unclassified), 5 km

and a separate street 20 (0,2000) - 21 (300,2000). Speeds (km/h): motorbike residential
18 (5 m/s), unclassified 22, access leg 15; walk 4.5 everywhere; car motorway 60.
Lengths are osmnx great-circle distances on a sphere (within 0.5 % of the UTM figures).

Every test here fails on the old behaviour (named in each docstring).
"""

from __future__ import annotations

import bz2
import gzip
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest

from pointplan import network as net
from pointplan import settings
from pointplan._errors import NetworkError, UnreachableWarning

FIXTURE = Path(__file__).parent / "data" / "routing_fixture.osm"
X0, Y0 = 585_000.0, 2_320_000.0
UTM = "EPSG:32648"
REL = 6e-3  # osmnx great-circle lengths (a sphere) vs UTM: -0.2 % east-west, +0.5 % north-south


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(settings, "network_cache_dir", None)  # this file checks the cache itself


def at(*xy: tuple[float, float], index=None) -> gpd.GeoDataFrame:
    a = np.asarray(xy, float)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(X0 + a[:, 0], Y0 + a[:, 1]), index=index, crs=UTM)


def seconds(G, mode, origin, dest, **kw) -> float:
    out = net.NetworkEngine(G, mode, **kw).nearest(at(origin), at(dest))
    return float(out["minutes"].iloc[0] * 60)


def raw_graph() -> nx.MultiDiGraph:
    import osmnx as ox

    return ox.graph_from_xml(FIXTURE, simplify=False, retain_all=True, bidirectional=False)


def write_pbf(path: Path) -> Path:
    """Write the fixture as OSM PBF with pyosmium's writer."""
    import osmium

    with osmium.SimpleWriter(str(path)) as writer:
        for obj in osmium.FileProcessor(str(FIXTURE)):
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
    return path


def fixture_as(kind: str, tmp_path: Path) -> object:
    """The fixture through one input path: a file of each format, or a graph passed in."""
    import osmnx as ox

    if kind == "osm":
        return FIXTURE
    if kind == "osm.gz":
        out = tmp_path / "f.osm.gz"
        with FIXTURE.open("rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return out
    if kind == "osm.bz2":
        out = tmp_path / "f.osm.bz2"
        with FIXTURE.open("rb") as src, bz2.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return out
    if kind == "osm.pbf":
        return write_pbf(tmp_path / "f.osm.pbf")
    if kind == "graph":
        return raw_graph()
    raw = raw_graph()
    if kind.startswith("graphml_simplified"):
        raw = ox.simplify_graph(raw)  # osmnx keeps the railway and the building as edges
    out = tmp_path / ("f.graphml.gz" if kind.endswith(".gz") else "f.graphml")
    ox.save_graphml(raw, out.with_suffix("") if kind.endswith(".gz") else out)
    if kind.endswith(".gz"):
        with out.with_suffix("").open("rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


KINDS = ["osm", "osm.gz", "osm.bz2", "osm.pbf", "graph", "graphml", "graphml_simplified", "graphml_simplified.gz"]


@pytest.mark.parametrize("kind", KINDS)
def test_non_streets_never_become_roads_on_any_input_path(kind, tmp_path):
    """Old: a simplified GraphML or a graph passed in kept the railway and the building as
    25 km/h roads (2 -> 7 in 58 s over the railway); .osm.gz/.bz2/.pbf did not load."""
    G = net.load_network(fixture_as(kind, tmp_path), mode="motorbike")
    for _, _, d in G.edges(data=True):
        assert "railway" not in d and "building" not in d
        assert net._highway_key(d.get("highway"))
    # (400,0) -> west to 1, north to 5, east to (400,400): 1,200 m at 5 m/s
    assert seconds(G, "motorbike", (400, 0), (400, 400)) == pytest.approx(240.0, rel=REL)


@pytest.mark.parametrize("kind", ["osm", "graphml_simplified", "osm.pbf"])
def test_snap_to_the_nearest_edge_pays_the_partial_edge(kind, tmp_path):
    """Old: snapped to the nearest node, 2.5 km away on the 5 km rural road: the point was
    'far from the network' and paid 2.5 km at the access speed."""
    G = net.load_network(fixture_as(kind, tmp_path), mode="motorbike")
    eng = net.NetworkEngine(G, "motorbike")
    snap = eng.snap(at((3300, 50)))
    assert snap["snap_m"].iloc[0] == pytest.approx(50.0, abs=0.5)  # the far rule's distance
    assert not snap["far"].iloc[0]
    # 50 m at 15 km/h (12 s) + 2,500 m of the road at 22 km/h (409.09 s)
    assert seconds(G, "motorbike", (3300, 50), (800, 0)) == pytest.approx(12.0 + 2500 / (22 / 3.6), rel=REL)
    # along one street: 400 m at 5 m/s + 30 m and 20 m of access at 15 km/h (old: via node 1, 172 s)
    assert seconds(G, "motorbike", (200, 30), (600, -20)) == pytest.approx(80.0 + 50 / (15 / 3.6), rel=REL)


def test_od_long_and_nearest_agree_with_partial_edges(tmp_path):
    G = net.load_network(FIXTURE, mode="motorbike")
    eng = net.NetworkEngine(G, "motorbike")
    origins, dests = at((3300, 50), (200, 30), (0, 200)), at((800, 0), (600, -20))
    near = eng.nearest(origins, dests)
    od = eng.od_long(origins, dests, 60)
    best = od.loc[od.groupby("i")["minutes"].idxmin()]
    np.testing.assert_allclose(best["minutes"].to_numpy(), near["minutes"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(best["distance_m"].to_numpy(), near["distance_m"].to_numpy(), rtol=1e-12)


def test_osmnx_speeds_are_honoured_unless_recomputed(tmp_path):
    """Old: osmnx's speed_kph / travel_time were ignored (the Hanoi table always won)."""
    import osmnx as ox

    raw = ox.simplify_graph(raw_graph())
    for _, _, d in raw.edges(data=True):  # as osmnx's add_edge_speeds / add_edge_travel_times write them
        d["speed_kph"] = 36.0
        d["travel_time"] = d["length"] / 10.0
    path = tmp_path / "speeds.graphml"
    ox.save_graphml(raw, path)
    G = net.load_network(path, mode="motorbike")
    assert seconds(G, "motorbike", (400, 0), (400, 400)) == pytest.approx(120.0, rel=REL)  # 10 m/s
    G = net.load_network(path, mode="motorbike", recompute=True)
    assert seconds(G, "motorbike", (400, 0), (400, 400)) == pytest.approx(240.0, rel=REL)  # the table's 18 km/h
    # osmnx's speeds are for motor vehicles: walking keeps its own
    G = net.load_network(path, mode="walk")
    assert seconds(G, "walk", (800, 0), (800, 400)) == pytest.approx(400 / 1.25, rel=REL)


def test_each_mode_has_its_own_graph(tmp_path):
    """Old: an engine for walking built on the motorbike graph had no footway
    (3 -> 4 on foot took 2,000 m = 1,600 s instead of 400 m = 320 s)."""
    moto = net.load_network(FIXTURE, mode="motorbike")
    assert not any(d.get("highway") == "footway" for _, _, d in moto.edges(data=True))
    walk_engine = net.make_engine(moto, mode="walk")  # what the assessment does for other modes
    G_walk = walk_engine.graph
    assert any(d.get("highway") == "footway" for _, _, d in G_walk.edges(data=True))
    assert seconds(G_walk, "walk", (800, 0), (800, 400)) == pytest.approx(320.0, rel=REL)
    assert seconds(G_walk, "walk", (800, 400), (800, 0)) == pytest.approx(320.0, rel=REL)  # both ways
    # no motorway on foot or by motorbike: 1,200 m round the block, not the 894 m diagonal
    assert seconds(G_walk, "walk", (0, 0), (800, 400)) == pytest.approx(1200 / 1.25, rel=REL)
    assert seconds(moto, "motorbike", (0, 0), (800, 400)) == pytest.approx(240.0, rel=REL)
    car = net.load_network(FIXTURE, mode="car")
    assert seconds(car, "car", (0, 0), (800, 400)) == pytest.approx(np.hypot(800, 400) / (60 / 3.6), rel=REL)


def test_unreachable_pairs_are_counted_never_inf(tmp_path):
    """Old: unreachable origins got inf minutes and distances, which reached the outputs."""
    G = net.load_network(FIXTURE, mode="motorbike", retain_all=True)
    eng = net.NetworkEngine(G, "motorbike")
    with pytest.warns(UnreachableWarning, match="1 of 2"):
        out = eng.nearest(at((150, 2000), (400, 0), index=["cut_off", "ok"]), at((800, 0)))
    assert out.attrs["n_unreachable"] == 1
    assert out["reachable"].tolist() == [False, True]
    assert np.isnan(out.loc["cut_off", "minutes"]) and not np.isinf(out[["minutes", "distance_m"]].to_numpy()).any()
    assert out.loc["ok", "minutes"] == pytest.approx(400 / 5 / 60, rel=REL)


def test_second_load_comes_from_the_cache_by_file_hash(tmp_path, monkeypatch):
    from pointplan.network import loading

    path = tmp_path / "copy.osm"
    shutil.copy(FIXTURE, path)
    G1 = net.load_network(path, mode="motorbike")
    entries = list((tmp_path / "cache" / "networks").glob("*.pickle"))
    assert len(entries) == 1
    build = loading._build
    with monkeypatch.context() as m:  # the second load must not read the file again
        m.setattr(loading, "_build", lambda *a, **k: pytest.fail("rebuilt instead of read from the cache"))
        G2 = net.load_network(path, mode="motorbike")
    assert loading._build is build
    assert G2 is not G1
    assert sorted(G2.edges(keys=True)) == sorted(G1.edges(keys=True))
    e1, e2 = [d for *_, d in G1.edges(data=True)], [d for *_, d in G2.edges(data=True)]
    assert [d["travel_time_s"] for d in e2] == [d["travel_time_s"] for d in e1]
    assert all(a.get("geometry") is None or a["geometry"].equals(b["geometry"]) for a, b in zip(e2, e1, strict=True))
    trip = ((3300, 50), (800, 0))
    assert seconds(G2, "motorbike", *trip) == pytest.approx(seconds(G1, "motorbike", *trip))
    # other bytes, other entry
    path.write_text(FIXTURE.read_text().replace("Phố A", "Phố A mới"))
    net.load_network(path, mode="motorbike")
    assert len(list((tmp_path / "cache" / "networks").glob("*.pickle"))) == 2


def test_a_graph_without_any_highway_tag_is_refused_clearly():
    G = nx.MultiDiGraph(crs=UTM)
    G.add_node(1, x=X0, y=Y0)
    G.add_node(2, x=X0 + 100, y=Y0)
    G.add_edge(1, 2, length=100.0, railway="rail")
    with pytest.raises(NetworkError, match="highway"):
        net.load_network(G, mode="walk")


@pytest.mark.slow
def test_the_real_inner_city_network_loads(tmp_path):
    """Old: data/osm/hanoi_inner_drive_2025.graphml.gz failed with KeyError: 'lat'."""
    path = Path(__file__).parents[1] / "data" / "osm" / "hanoi_inner_drive_2025.graphml.gz"
    G = net.load_network(path, mode="motorbike")
    assert 25_000 < G.number_of_nodes() <= 28_612
    eng = net.NetworkEngine(G, "motorbike")
    # Hoàn Kiếm lake (105.8524, 21.0288) to the Opera House (105.8577, 21.0243): about 1 km
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8524, 105.8577], [21.0288, 21.0243]), crs="EPSG:4326")
    near = eng.nearest(pts.iloc[[0]], pts.iloc[[1]])
    assert 1.0 < near["minutes"].iloc[0] < 10.0
    assert net.load_network(path, mode="motorbike").number_of_nodes() == G.number_of_nodes()  # from the cache
