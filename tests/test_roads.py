"""Downloaded roads: tiled Overpass download (against a fake server), streaming conversion, cache.

Everything runs offline: :mod:`fake_overpass` serves the shipped inner-city Overpass answer
on 127.0.0.1, clipped to each query's area, with failures on demand.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from pointplan._errors import NetworkError, OfflineError
from pointplan.data import data_file
from pointplan.network import NetworkEngine, load_network
from pointplan.network.download import download_roads, plan_tiles, read_manifest, sha256_file, tile_files
from pointplan.network.osm_stream import ArrayNetworkEngine, build_mode, read_osm_file, read_overpass_json
from pointplan.network.roadcache import build_roads, convert_file, list_roads, load_arrays, roads_engine

sys.path.insert(0, str(Path(__file__).parent))
from fake_overpass import FakeOverpass, OsmData

#: About 1 x 1 km of Hoàn Kiếm: four tiles of 0.005 degrees.
AREA = shapely.box(105.84, 21.02, 105.849, 21.029)
TILE = 0.005
FAST = {"tile_deg": TILE, "backoff_s": 0.01, "timeout_s": 2.0}


@pytest.fixture(scope="module")
def osm() -> OsmData:
    return OsmData()


def _to_xml(answer: dict, path: Path) -> Path:
    """Write an Overpass JSON answer as OSM XML (what the networkx route reads)."""
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n')
        for e in answer["elements"]:
            if e["type"] == "node":
                f.write(f'<node id="{e["id"]}" version="1" lat="{e["lat"]}" lon="{e["lon"]}"/>\n')
        for e in answer["elements"]:
            if e["type"] == "way":
                nds = "".join(f'<nd ref="{r}"/>' for r in e["nodes"])
                tags = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in e.get("tags", {}).items())
                f.write(f'<way id="{e["id"]}" version="1">{nds}{tags}</way>\n')
        f.write("</osm>\n")
    return path


def _od_times(g, dest, orig) -> np.ndarray:
    """Seconds from each of ``orig`` to each of ``dest`` (node ids) on converted arrays."""
    return dijkstra(g.rev, indices=g.nodes.get_indexer(dest))[:, g.nodes.get_indexer(orig)]


# ---------------------------------------------------------------------------------------
# Streaming conversion = the networkx route
# ---------------------------------------------------------------------------------------


@pytest.mark.slow  # the networkx route is the slow part (osmnx reads, simplifies, projects)
@pytest.mark.parametrize("mode", ["motorbike", "car", "walk"])
def test_stream_matches_networkx_route(osm, tmp_path, mode):
    """200 OD pairs of the inner city: the same shortest times both ways (to 1e-6 s)."""
    answer = osm.clip((105.838, 21.018, 105.855, 21.035))
    G = load_network(_to_xml(answer, tmp_path / "clip.osm"), mode=mode, cache=False)
    ref = NetworkEngine(G, mode, cache=False)._g
    got = build_mode(read_overpass_json([answer]), mode)
    common = np.intersect1d(ref.nodes.to_numpy(), got.nodes.to_numpy())
    assert len(common) == ref.n  # every node of the simplified graph is kept (unsimplified: more)
    assert got.n > ref.n
    rng = np.random.default_rng(7)
    dest, orig = rng.choice(common, 20, replace=False), rng.choice(common, 10, replace=False)
    a, b = _od_times(ref, dest, orig), _od_times(got, dest, orig)
    assert np.array_equal(np.isinf(a), np.isinf(b))
    assert np.isfinite(a).sum() > 150
    np.testing.assert_allclose(b[np.isfinite(a)], a[np.isfinite(a)], rtol=1e-9, atol=1e-6)


def test_stream_pyosmium_matches_networkx_walk_with_footways():
    """Văn Miếu's OSM XML through pyosmium: footways, steps and alleys walked as networkx does."""
    path = data_file("osm/vanmieu.osm")
    ref = NetworkEngine(load_network(path, mode="walk", cache=False), "walk", cache=False)._g
    ways = read_osm_file(path)
    assert {"footway", "steps", "service", "residential"} <= set(ways.vocabulary)
    got = build_mode(ways, "walk")
    common = np.intersect1d(ref.nodes.to_numpy(), got.nodes.to_numpy())
    assert len(common) == ref.n
    rng = np.random.default_rng(3)
    dest, orig = rng.choice(common, 20, replace=False), rng.choice(common, 10, replace=False)
    np.testing.assert_allclose(_od_times(got, dest, orig), _od_times(ref, dest, orig), rtol=1e-9, atol=1e-6)
    moto = build_mode(ways, "motorbike")
    assert moto.rev.nnz < got.rev.nnz  # no footways, one-way streets


def test_array_engine_nearest_equals_network_engine():
    path = data_file("osm/vanmieu.osm")
    ref = NetworkEngine(load_network(path, mode="walk", cache=False), "walk", cache=False)
    eng = ArrayNetworkEngine(build_mode(read_osm_file(path), "walk"), "walk")
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = 105.832, 21.024, 105.842, 21.032
    o = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(x0, x1, 60), rng.uniform(y0, y1, 60)), crs=4326)
    d = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(x0, x1, 4), rng.uniform(y0, y1, 4)), crs=4326)
    a, b = ref.nearest(o, d), eng.nearest(o, d)
    # within 0.1 %: a point snapped inside a merged (simplified) street pays its share of the
    # street's length by projected geometry; unsimplified, each segment has its own length
    np.testing.assert_allclose(b["minutes"], a["minutes"], rtol=1e-3)
    assert (a["dest"] == b["dest"]).all()


# ---------------------------------------------------------------------------------------
# The download
# ---------------------------------------------------------------------------------------


def test_download_in_four_tiles_checksummed(tmp_path):
    with FakeOverpass() as fake:
        area_dir = download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, **FAST)
    assert len(plan_tiles(AREA, TILE)) == 4 and len(fake.answered) == 4
    assert all(ua.startswith("pointplan/") for ua in fake.user_agents)
    m = read_manifest(area_dir)
    assert m["complete"] and m["source"] == fake.url and "OpenStreetMap" in m["licence"]
    assert len(m["tiles"]) == 4
    for info in m["tiles"].values():
        path = area_dir / info["file"]
        assert sha256_file(path) == info["sha256"]
        answer = json.loads(gzip.decompress(path.read_bytes()))
        assert len(answer["elements"]) == info["elements"] > 0
    assert len(tile_files(area_dir)) == 4
    # tiles overlap where ways cross their edges: each way kept once
    ways = read_overpass_json(tile_files(area_dir))
    ids = [
        e["id"]
        for f in tile_files(area_dir)
        for e in json.loads(gzip.decompress(f.read_bytes()))["elements"]
        if e["type"] == "way"
    ]
    assert ways.n_ways <= len(set(ids)) < len(ids)


def test_429_then_success_is_retried(tmp_path):
    with FakeOverpass(plan=["429", "504"]) as fake:
        download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, **FAST)
    assert len(fake.queries) == 6 and len(fake.answered) == 4


def test_timeout_retried_then_clear_error(tmp_path):
    with FakeOverpass(plan=["timeout"], slow_s=1.0) as fake:  # one timeout, then answers
        download_roads(AREA, cache_dir=tmp_path / "a", overpass_url=fake.url, **{**FAST, "timeout_s": 0.3})
    assert len(fake.queries) == 5
    with FakeOverpass(plan=["timeout"] * 3, slow_s=1.0) as fake, pytest.raises(OfflineError) as err:
        download_roads(AREA, cache_dir=tmp_path / "b", overpass_url=fake.url, retries=2, **{**FAST, "timeout_s": 0.3})
    msg = str(err.value)
    assert "0.005_21168_4204" in msg and "timeout" in msg and "run the same command again" in msg
    assert not read_manifest(tmp_path / "b" / "roads" / "hanoi")["tiles"]


@pytest.mark.parametrize("bad", ["truncated", "remark", "500"])
def test_bad_answer_rejected_never_cached(tmp_path, bad):
    area_dir = tmp_path / "roads" / "hanoi"
    with FakeOverpass(plan=[bad] * 2) as fake, pytest.raises(OfflineError, match="after 2 tries"):
        download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, retries=1, **FAST)
    assert not (area_dir / "tiles").exists() or not any((area_dir / "tiles").iterdir())  # no half-written file
    with pytest.raises(NetworkError, match="No complete roads download"):
        tile_files(area_dir)
    with FakeOverpass(plan=[bad]) as fake:  # once: retried, and what is kept is the good answer
        download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, **FAST)
    assert len(fake.queries) == 5 and len(tile_files(area_dir)) == 4


def test_interrupted_download_resumes_with_only_the_rest(tmp_path):
    def stop_after_two(done, total, tile, fetched):
        if done == 2:
            raise KeyboardInterrupt

    with FakeOverpass() as fake, pytest.raises(KeyboardInterrupt):
        download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, progress=stop_after_two, **FAST)
    first = list(fake.answered)
    assert len(first) == 2
    seen = []
    with FakeOverpass() as fake:
        download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, progress=lambda *a: seen.append(a[3]), **FAST)
    assert len(fake.answered) == 2 and not set(fake.answered) & set(first)
    assert seen == [False, False, True, True]


def test_altered_tile_refetched(tmp_path):
    with FakeOverpass() as fake:
        area_dir = download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, **FAST)
    info = next(iter(read_manifest(area_dir)["tiles"].values()))
    path = area_dir / info["file"]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(NetworkError, match="missing or altered"):
        tile_files(area_dir)
    with FakeOverpass() as fake:
        download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, **FAST)
    assert len(fake.answered) == 1 and sha256_file(path) == info["sha256"]


# ---------------------------------------------------------------------------------------
# The converted cache
# ---------------------------------------------------------------------------------------


@pytest.fixture
def downloaded(tmp_path) -> Path:
    with FakeOverpass() as fake:
        download_roads(AREA, cache_dir=tmp_path, overpass_url=fake.url, **FAST)
    build_roads(cache_dir=tmp_path, modes=["motorbike", "walk"])
    return tmp_path


def test_altered_cache_is_rebuilt_never_used(downloaded, caplog):
    path = downloaded / "roads" / "hanoi" / "motorbike.npz"
    good = load_arrays(path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte in the arrays
    path.write_bytes(bytes(raw))
    with pytest.raises(NetworkError, match="altered"):
        load_arrays(path)
    assert list_roads(downloaded).set_index("mode").loc["motorbike", "status"] == "altered"
    with caplog.at_level("WARNING"):
        eng = roads_engine("motorbike", cache_dir=downloaded)
    assert "rebuilding" in caplog.text
    assert np.array_equal(eng._g.rev.data, good.rev.data) and eng._g.n == good.n
    assert list_roads(downloaded).set_index("mode").loc["motorbike", "status"] == "ok"


def test_list_roads(downloaded):
    table = list_roads(downloaded).set_index("mode")
    assert table.loc["walk", "status"] == "ok" and table.loc["car", "status"] == "not built"
    assert table.loc["walk", "nodes"] >= table.loc["motorbike", "nodes"]
    assert table.loc["walk", "tiles"] == 4 and "ODbL" in table.loc["walk", "licence"]


def test_no_cache_says_what_to_run(tmp_path):
    with pytest.raises(NetworkError, match="pointplan roads --download"):
        roads_engine("walk", cache_dir=tmp_path)


# ---------------------------------------------------------------------------------------
# Bad OSM files
# ---------------------------------------------------------------------------------------


def _write_pbf(path: Path, lon0: float, lat0: float, *, ways: bool) -> Path:
    import osmium

    with osmium.SimpleWriter(str(path)) as w:
        for i in range(4):
            w.add_node(osmium.osm.mutable.Node(id=i + 1, location=(lon0 + 0.001 * i, lat0)))
        if ways:
            w.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2, 3, 4], tags={"highway": "residential"}))
    return path


def test_pbf_without_ways_names_file_and_fix(tmp_path):
    path = _write_pbf(tmp_path / "nodes_only.osm.pbf", 105.85, 21.03, ways=False)
    with pytest.raises(NetworkError) as err:
        read_osm_file(path)
    assert "nodes_only.osm.pbf" in str(err.value) and "osmium extract" in str(err.value)


@pytest.mark.parametrize(
    ("lon", "lat", "where"), [(2.35, 48.85, "outside Viet Nam"), (106.7, 10.78, "in Viet Nam but outside Hanoi")]
)
def test_network_elsewhere_names_file_and_fix(tmp_path, lon, lat, where):
    path = _write_pbf(tmp_path / "elsewhere.osm.pbf", lon, lat, ways=True)
    with pytest.raises(NetworkError) as err:
        convert_file(path, cache_dir=tmp_path)
    msg = str(err.value)
    assert "elsewhere.osm.pbf" in msg and where in msg and "pointplan roads --download" in msg


def test_pbf_in_hanoi_converts(tmp_path):
    path = _write_pbf(tmp_path / "street.osm.pbf", 105.85, 21.03, ways=True)
    eng = roads_engine("motorbike", "street", cache_dir=convert_file(path, cache_dir=tmp_path).parents[1])
    # 3 edges of 0.001 degree of longitude at 21.03 N, both ways, at 18 km/h (residential)
    g = eng._g
    assert g.n == 4 and g.rev.nnz == 6
    np.testing.assert_allclose(g.rev_len.sum(), 6 * 103.88, rtol=1e-3)
    np.testing.assert_allclose(g.rev.data, g.rev_len * 3.6 / 18.0)


# ---------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    from pointplan.cli.roads import add_parser

    parser = argparse.ArgumentParser(prog="pointplan")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_download_then_list(tmp_path, capsys):
    with FakeOverpass() as fake:
        code = _cli(
            ["roads", "--download", "--overpass-url", fake.url, "--bbox", "105.84,21.02,105.849,21.029",
             "--tile-deg", "0.005", "--cache-dir", str(tmp_path), "--modes", "motorbike,walk"]
        )  # fmt: skip
    assert code == 0 and len(fake.answered) == 4
    out = capsys.readouterr().out
    assert "4 tiles" in out and "walk" in out
    assert _cli(["roads", "--list", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hanoi" in out and "ODbL" in out and "ok" in out


def test_straight_street_index_snaps_as_the_general_one():
    """The k-d tree snapping of unsimplified arrays = the STRtree snapping, point for point."""
    from pointplan.network.snapping import StreetIndex
    from pointplan.network.straight_streets import StraightStreetIndex

    g = build_mode(read_osm_file(data_file("osm/vanmieu.osm")), "walk")
    fast, general = g.streets, StreetIndex.build(g)
    assert isinstance(fast, StraightStreetIndex)
    rng = np.random.default_rng(5)
    xy = np.column_stack(
        [rng.uniform(g.x.min() - 300, g.x.max() + 300, 3000), rng.uniform(g.y.min() - 300, g.y.max() + 300, 3000)]
    )
    a, b = general.snap(xy), fast.snap(xy)
    np.testing.assert_allclose(b.snap_m, a.snap_m, atol=1e-6)
    np.testing.assert_allclose(b.proj_xy, a.proj_xy, atol=1e-6)
    # ties (a point whose nearest spot is a node shared by streets, common for points beyond
    # the network's edge) may pick either street: the same projection, checked above
    same = a.street == b.street
    assert same.mean() > 0.9
    np.testing.assert_allclose(b.reach()[0][same], a.reach()[0][same], rtol=1e-9)


# ---------------------------------------------------------------------------------------
# Used by default once downloaded
# ---------------------------------------------------------------------------------------


def test_default_engine_uses_downloaded_roads(downloaded, monkeypatch, capsys):
    from pointplan import settings
    from pointplan.cli.roads import roads_summary
    from pointplan.network import HybridEngine, travel_engine

    monkeypatch.setattr(settings, "cache_dir", downloaded)
    monkeypatch.setattr(settings, "default_network", None)  # the straight line is the default: roads unused
    assert travel_engine(None, "motorbike").method == "crow_flies_circuity"
    monkeypatch.setattr(settings, "default_network", "osm_inner_drive")
    eng = travel_engine(None, "motorbike")
    assert isinstance(eng, HybridEngine) and isinstance(eng.network, ArrayNetworkEngine)
    # a mode not converted yet is built from the downloaded tiles; walking has the pedestrian network
    car, walk = travel_engine("default", "car"), travel_engine(None, "walk")
    assert car.network.mode == "car" and walk.network._g.rev.nnz > eng.network._g.rev.nnz
    # a motorbike run's walking figures walk on the same downloaded roads
    from pointplan.assessment.coverage import engine_for_mode

    on_foot = engine_for_mode(eng, "walk", None)
    assert isinstance(on_foot.network, ArrayNetworkEngine) and on_foot.walk_network_kind == "pedestrian"
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8425, 105.8465], [21.0235, 21.0265]), crs=4326)
    out = eng.nearest(pts.iloc[[0]], pts.iloc[[1]])
    assert out["method"].tolist() == ["network"] and 1 < out["minutes"].iloc[0] < 5
    assert "hanoi motorbike: ok" in roads_summary(str(downloaded)) and "ODbL" in roads_summary(str(downloaded))


@pytest.mark.slow
def test_roads_then_run_routes_on_the_downloaded_roads(downloaded, monkeypatch, tmp_path):
    """Issue 27: `pointplan roads --download` then `pointplan run`: the run routes on those roads.

    The fake Overpass serves the Văn Miếu extract, whose streets reach every populated place of
    Phường Cửa Nam (00082): all of its people are routed on them (motorbike on the drive ways,
    walking on the footways too), none on the straight line, and the run says so.
    """

    from pointplan import cli, settings

    monkeypatch.setattr(settings, "cache_dir", downloaded)
    monkeypatch.setattr(settings, "default_network", "osm_inner_drive")
    summaries = {}
    for mode in ("motorbike", "walk"):
        out = tmp_path / mode
        argv = ["-q", "run", "--out", str(out), "--units", "00082", "--mode", mode, "--no-uncertainty"]
        assert cli.main([*argv, "--add", "0", "--formats", "html"]) == 0
        summaries[mode] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        units = pd.read_csv(out / "units.csv", encoding="utf-8-sig", dtype={"code": str}).set_index("code")
        assert units.loc["00082", "travel_time_method"] == "network"
    for s in summaries.values():
        assert s["travel_time_method"] == "network" and s["network_population_share"] == 1.0
