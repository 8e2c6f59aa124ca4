"""Results kept on disk between runs (``pointplan._results``): keys, read-back, warnings, limits."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from grids import grid_hybrid
from pointplan import InputError, _results, settings
from pointplan.network import CrowFliesEngine, HybridEngine, NetworkEngine


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Turn the results cache on (the suite runs with it off) and keep everything, however quick."""
    monkeypatch.setattr(settings, "result_cache", True)
    monkeypatch.setattr(_results, "MIN_SECONDS", 0.0)
    return Path(settings.cache_dir) / "results"


def _files(folder: Path, namespace: str) -> list[Path]:
    return sorted((folder / namespace).glob("*.pkl")) if (folder / namespace).exists() else []


def _places(xs: list[float], ys: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs="EPSG:32648")


def test_a_result_is_computed_once_and_read_back_equal(kept: Path) -> None:
    calls: list[int] = []

    def compute() -> dict[str, list[float]]:
        calls.append(1)
        return {"minutes": [1.5, 2.0]}

    key = _results.digest("t", np.arange(3))
    first = _results.cached("t", key, compute, min_seconds=0.0)
    second = _results.cached("t", key, compute, min_seconds=0.0)
    assert first == second == {"minutes": [1.5, 2.0]}
    assert len(calls) == 1
    assert len(_files(kept, "t")) == 1
    other = _results.cached("t", _results.digest("t", np.arange(4)), compute, min_seconds=0.0)
    assert other == first and len(calls) == 2  # another key: computed


def test_off_none_key_and_quick_results_store_nothing(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 7

    assert _results.cached("t", None, compute) == 7
    assert _results.cached("quick", b"k", compute, min_seconds=60.0) == 7  # quicker than a minute
    monkeypatch.setattr(settings, "result_cache", False)
    assert _results.cached("off", b"k", compute, min_seconds=0.0) == 7
    assert _results.cached("off", b"k", compute, min_seconds=0.0) == 7
    assert len(calls) == 4
    assert not kept.exists() or not any(kept.rglob("*.pkl"))


def test_warnings_are_raised_again_when_read_back(kept: Path) -> None:
    def compute() -> int:
        warnings.warn("3 points are far from any street", UserWarning, stacklevel=1)
        return 1

    for _ in range(2):
        with pytest.warns(UserWarning, match="3 points are far"):
            assert _results.cached("w", b"key", compute, min_seconds=0.0) == 1
    assert len(_files(kept, "w")) == 1


def test_an_unreadable_entry_is_computed_again(kept: Path, caplog: pytest.LogCaptureFixture) -> None:
    _results.cached("bad", b"key", lambda: [1, 2], min_seconds=0.0)
    (path,) = _files(kept, "bad")
    path.write_bytes(b"not a pickle")
    assert _results.cached("bad", b"key", lambda: [3], min_seconds=0.0) == [3]
    assert "could not be read" in caplog.text
    assert _results.cached("bad", b"key", lambda: [4], min_seconds=0.0) == [3]  # replaced, read back


def test_prune_drops_the_least_recently_used_first(tmp_path: Path) -> None:
    import os

    for i, name in enumerate(["old", "mid", "new"]):
        p = tmp_path / "ns" / f"{name}.pkl"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"x" * 1000)
        os.utime(p, (1000.0 + i, 1000.0 + i))
    _results._prune(tmp_path, 2500)
    assert sorted(p.stem for p in tmp_path.rglob("*.pkl")) == ["mid", "new"]


def test_digests_tell_values_and_types_apart() -> None:
    d = _results.digest
    assert d("a", 1) != d("a", 1.0)
    assert d(np.array([1.0, 2.0])) != d(np.array([1.0, 2.0], dtype=np.float32))
    assert d(("a", "b")) != d("ab")
    with pytest.raises(TypeError, match="cannot key"):
        d(object())
    frame = pd.DataFrame({"population": [1.0, 2.0]}, index=["a", "b"])
    assert _results.frame_digest(frame) != _results.frame_digest(frame.set_axis(["a", "c"]))
    assert _results.frame_digest([1, 2]) is None


def _line_graph(minutes_per_km: float) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs="EPSG:32648")
    G.add_node(1, x=585000.0, y=2325000.0)
    G.add_node(2, x=586000.0, y=2325000.0)
    for u, v in ((1, 2), (2, 1)):
        G.add_edge(u, v, length=1000.0, highway="primary", travel_time=60.0 * minutes_per_km)
    return G


def test_engine_fingerprints_change_with_what_the_times_depend_on() -> None:
    a, b = grid_hybrid(), grid_hybrid()
    assert a.fingerprint == b.fingerprint  # the same roads and options, built twice
    assert isinstance(a.fingerprint, bytes)
    other_snap = HybridEngine(a.network, a.fallback, snap_m=50)
    assert other_snap.fingerprint != a.fingerprint
    other_fallback = HybridEngine(a.network, CrowFliesEngine("motorbike", circuity=1.4), snap_m=100)
    assert other_fallback.fingerprint != a.fingerprint
    slow, fast = NetworkEngine(_line_graph(4.0), "motorbike"), NetworkEngine(_line_graph(2.0), "motorbike")
    assert slow.fingerprint != fast.fingerprint
    assert NetworkEngine(_line_graph(2.0), "motorbike", access_speed_kmh=4.0).fingerprint != fast.fingerprint


def test_od_long_and_nearest_are_read_back_equal_and_recomputed_for_other_places(kept: Path) -> None:
    eng = grid_hybrid()
    dem = _places([585100.0, 586400.0, 590000.0], [2325050.0, 2326000.0, 2325000.0])
    pts = _places([585000.0, 587000.0], [2325000.0, 2327000.0])
    fresh_od = eng.od_long(dem, pts, 60)
    fresh_near = eng.nearest(dem, pts)
    counts = (len(_files(kept, "od_long")), len(_files(kept, "nearest")))
    assert min(counts) >= 1
    pd.testing.assert_frame_equal(eng.od_long(dem, pts, 60), fresh_od)
    pd.testing.assert_frame_equal(grid_hybrid().nearest(dem, pts), fresh_near)  # another engine, same roads
    assert (len(_files(kept, "od_long")), len(_files(kept, "nearest"))) == counts  # both read back
    moved = _places([585000.0, 587500.0], [2325000.0, 2327000.0])
    near_moved = eng.nearest(dem, moved)
    assert len(_files(kept, "nearest")) > counts[1]
    with settings_off():
        pd.testing.assert_frame_equal(eng.nearest(dem, moved), near_moved)
        pd.testing.assert_frame_equal(eng.nearest(dem, pts), fresh_near)
    assert eng.od_long(dem, pts, 5).shape[0] < fresh_od.shape[0]  # another cut-off: another answer


class settings_off:  # noqa: N801 - used as a context manager
    def __enter__(self) -> None:
        self.old = settings.result_cache
        settings.result_cache = False

    def __exit__(self, *exc: object) -> None:
        settings.result_cache = self.old


def test_a_patched_engine_is_not_answered_from_disk(kept: Path) -> None:
    eng = grid_hybrid()
    dem = _places([585100.0], [2325050.0])
    pts = _places([585000.0], [2325000.0])
    eng.od_long(dem, pts, 60)
    eng._od_long = lambda *a, **k: pd.DataFrame({"i": [], "j": [], "minutes": [], "distance_m": []})  # type: ignore[method-assign]
    assert len(eng.od_long(dem, pts, 60)) == 0


def test_a_scenario_from_kept_times_equals_a_fresh_one(kept: Path) -> None:
    from pointplan.assessment._demo import tiny_city

    c = tiny_city()
    eng = grid_hybrid()
    demand = c["demand"]
    points = gpd.GeoDataFrame(
        {"name": ["A", "B"], "counters": [2, 3]},
        geometry=gpd.points_from_xy([585000.0, 586500.0], [2325000.0, 2326000.0]),
        index=pd.Index(["A", "B"], name="point_id"),
        crs="EPSG:32648",
    ).to_crs(4326)
    from pointplan.assessment._kept import KeptTimes

    def nearest_of(k: KeptTimes) -> tuple[list[float], list[int]]:
        return k.nearest_minutes().round(9).tolist(), k.nearest_slots().tolist()

    with settings_off():
        plain = KeptTimes(eng, demand)
        plain.set_columns([0, 1], points)
    first = KeptTimes(eng, demand)
    first.set_columns([0, 1], points, keep=True)
    again = KeptTimes(grid_hybrid(), demand)
    again.set_columns([0, 1], points, keep=True)
    assert len(_files(kept, "kept_columns")) == 1
    assert nearest_of(plain) == nearest_of(first) == nearest_of(again)
    np.testing.assert_array_equal(again.M[:, :2], plain.M[:, :2])
    single = KeptTimes(eng, demand)
    single.set_columns([0], points.iloc[[0]])  # one edit's point: not kept
    assert len(_files(kept, "kept_columns")) == 1


@pytest.mark.slow
def test_a_second_run_reads_its_routing_back_and_writes_the_same_tables(kept: Path, tmp_path: Path) -> None:
    """Two runs on the Văn Miếu streets: the second routes nothing and writes the same tables."""
    import json
    import os

    from pointplan import cli
    from pointplan.data import data_file

    osm = str(data_file("osm_vanmieu"))
    common = ["--network", osm, "--mode", "walk", "--units", "00226,00070", "--demand-cell-m", "250"]
    common += ["--add", "2", "--no-uncertainty", "--formats", "xlsx"]
    assert cli.main(["-q", "run", "--out", str(tmp_path / "a"), *common]) == 0
    stored = sorted(p.relative_to(kept) for p in kept.rglob("*.pkl"))
    assert {p.parts[0] for p in stored} >= {"od_long", "kept_columns", "kept_reach"}
    for p in kept.rglob("*.pkl"):
        os.utime(p, (1.0, 1.0))
    from pointplan.network import cache as network_cache

    reads: list[object] = []
    real_read = network_cache.read_entry
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(network_cache, "read_entry", lambda path: reads.append(path) or real_read(path))
        assert cli.main(["-q", "run", "--out", str(tmp_path / "b"), *common]) == 0
    assert reads == []  # every answer read back: the roads were never read
    assert sorted(p.relative_to(kept) for p in kept.rglob("*.pkl")) == stored  # nothing new to keep
    read = {p.parts[0] for p in stored if (kept / p).stat().st_mtime > 1.0}  # read back: touched
    assert read >= {"od_long", "kept_columns", "kept_reach"}
    for name in ("units.csv", "points.csv", "findings.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    a, b = (json.loads((tmp_path / d / "summary.json").read_text(encoding="utf-8")) for d in "ab")
    a.pop("proposals_summary", None), b.pop("proposals_summary", None)  # the solver's own seconds
    assert a == b
    assert cli.main(["-q", "run", "--out", str(tmp_path / "c"), "--no-cache", *common]) == 0
    assert (tmp_path / "a" / "units.csv").read_bytes() == (tmp_path / "c" / "units.csv").read_bytes()


def test_a_file_the_cache_did_not_sign_is_never_unpickled(kept: Path, tmp_path: Path) -> None:
    """A planted entry (a pickle that would run a command) is refused: computed again, nothing runs."""
    import os
    import pickle

    _results.cached("p", b"key", lambda: 1, min_seconds=0.0)
    (path,) = _files(kept, "p")
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps((Evil(), []))
    path.write_bytes(b"\0" * 32 + payload)  # a wrong signature
    assert _results.cached("p", b"key", lambda: 2, min_seconds=0.0) == 2
    assert not marker.exists()
    assert (kept / ".key").stat().st_mode & 0o077 == 0  # the key is the user's alone


def _vanmieu_engines() -> tuple[object, object]:
    from pointplan.data import data_file
    from pointplan.network import load_network, travel_engine

    osm = data_file("osm_vanmieu")
    eager = NetworkEngine(load_network(osm, mode="walk"), "walk")  # also stores the converted roads
    return eager, travel_engine(osm, "walk", fallback=False)


def test_a_deferred_engine_reads_its_roads_at_first_use_and_answers_as_the_eager_one() -> None:
    from pointplan.network import DeferredNetworkEngine

    eager, lazy = _vanmieu_engines()
    assert isinstance(lazy, DeferredNetworkEngine) and not lazy.loaded
    _, again = _vanmieu_engines()
    assert again.fingerprint == lazy.fingerprint  # the same file, mode and options
    dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8355, 105.8372], [21.0285, 21.0262]), crs=4326)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8362], [21.0275]), index=["P"], crs=4326)
    assert not lazy.loaded
    pd.testing.assert_frame_equal(lazy.nearest(dem, pts), eager.nearest(dem, pts))
    assert lazy.loaded and lazy.graph.number_of_edges() == eager.graph.number_of_edges()
    pd.testing.assert_frame_equal(lazy.od_long(dem, pts, 30), eager.od_long(dem, pts, 30))
    assert lazy.walk_network_kind == eager.walk_network_kind
    import pickle

    copy = pickle.loads(pickle.dumps(again))  # read before it is sent anywhere
    pd.testing.assert_frame_equal(copy.nearest(dem, pts), eager.nearest(dem, pts))


def test_another_mode_of_a_deferred_hybrid_is_the_one_the_graph_gives() -> None:
    from pointplan.assessment.coverage import engine_for_mode
    from pointplan.data import data_file
    from pointplan.network import DeferredNetworkEngine, load_network, make_hybrid_engine, travel_engine

    osm = data_file("osm_vanmieu")
    load_network(osm, mode="motorbike"), load_network(osm, mode="walk")  # both stored
    hybrid = travel_engine(osm, "motorbike")
    walk = engine_for_mode(hybrid, "walk", None)
    assert isinstance(walk.network, DeferredNetworkEngine) and not hybrid.network.loaded
    eager = make_hybrid_engine(load_network(osm, mode="motorbike"), mode="walk")
    dem = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([105.8355, 105.8372, 105.85], [21.0285, 21.0262, 21.03]), crs=4326
    )
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8362], [21.0275]), index=["P"], crs=4326)
    pd.testing.assert_frame_equal(walk.nearest(dem, pts), eager.nearest(dem, pts))
    assert (walk.snap_m, walk.handover_from, walk.fallback.fingerprint) == (
        eager.snap_m,
        eager.handover_from,
        eager.fallback.fingerprint,
    )
    with pytest.raises(InputError, match="max_snap_m"):
        travel_engine(osm, "walk", max_snap_m=-1)


def test_a_result_computed_inside_another_is_kept_with_it_only(kept: Path) -> None:
    def inner() -> int:
        return _results.cached("inner", b"i", lambda: 1, min_seconds=0.0)

    assert _results.cached("outer", b"o", lambda: inner() + 1, min_seconds=0.0) == 2
    assert _files(kept, "inner") == [] and len(_files(kept, "outer")) == 1
    assert _results.cached("inner", b"i", lambda: 5, min_seconds=0.0) == 5  # on its own: kept
    assert _results.cached("outer", b"other", lambda: inner() + 1, min_seconds=0.0) == 6  # read back inside


def test_settings_of_how_pointplan_works_do_not_key_results(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _results.settings_digest()
    monkeypatch.setattr(settings, "progress", not settings.progress)  # a terminal or -q
    monkeypatch.setattr(settings, "run_in_parallel", not settings.run_in_parallel)
    assert _results.settings_digest() == before
    monkeypatch.setattr(settings, "standard_minutes", 45.0)  # the standard changes the figures
    assert _results.settings_digest() != before


def test_a_deferred_engine_whose_roads_fail_to_read_tries_again() -> None:
    from pointplan.network import DeferredNetworkEngine

    G = _line_graph(2.0)
    tries: list[int] = []

    def build() -> NetworkEngine:
        tries.append(1)
        if len(tries) == 1:
            raise OSError("the cache file is being written")
        return NetworkEngine(G, "motorbike")

    eng = DeferredNetworkEngine(build, "motorbike", "line")
    with pytest.raises(OSError, match="being written"):
        _ = eng.graph
    assert not eng.loaded and eng.graph is G and eng.loaded and len(tries) == 2
