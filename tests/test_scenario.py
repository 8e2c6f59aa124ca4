"""Scenario and reassess: every figure after any sequence of operations equals a fresh assessment."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

import pointplan
from pointplan import InputError, Scenario, reassess
from pointplan.assessment._demo import X0, Y0, tiny_assessment, tiny_city
from pointplan.network import CrowFliesEngine, HybridEngine, NetworkEngine

# -- comparing two assessments --------------------------------------------------------------


def _same_value(a: Any, b: Any, tol: float = 1e-9) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k], tol) for k in a)
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    return bool(a == b)


def assert_same_summary(a: dict[str, Any], b: dict[str, Any], skip: tuple[str, ...] = ("scenario",)) -> None:
    assert set(a) == set(b)
    bad = {k: (a[k], b[k]) for k in a if k not in skip and not _same_value(a[k], b[k])}
    assert not bad, bad


def assert_same_table(x: pd.DataFrame, y: pd.DataFrame, columns: list[str] | None = None) -> None:
    x = pd.DataFrame(x).drop(columns=[c for c in ("geometry",) if c in x.columns])
    y = pd.DataFrame(y).drop(columns=[c for c in ("geometry",) if c in y.columns])
    assert list(x.columns) == list(y.columns)
    assert list(x.index) == list(y.index)
    for c in columns or list(x.columns):
        u, v = x[c], y[c]
        if pd.api.types.is_numeric_dtype(u) and pd.api.types.is_numeric_dtype(v) and u.dtype != bool:
            np.testing.assert_allclose(u.to_numpy(float), v.to_numpy(float), rtol=1e-9, atol=1e-9, err_msg=c)
        else:
            assert (
                u.astype(object).where(u.notna(), None).tolist() == v.astype(object).where(v.notna(), None).tolist()
            ), c


def assert_same_assessment(a: pointplan.Assessment, b: pointplan.Assessment, *, demand: bool = True) -> None:
    assert_same_summary(a.summary, b.summary)
    assert_same_table(a.units, b.units)
    assert_same_table(a.points, b.points)
    assert_same_table(a.coverage, b.coverage)
    assert_same_table(a.equity, b.equity)
    assert_same_table(a.findings, b.findings)
    if demand:
        assert_same_table(a.demand, b.demand)


# -- a synthetic city with enough demand for what-ifs to show ----------------------------------


def _grid_city(engine: Any, modes: tuple[str, ...] = ()) -> pointplan.Assessment:
    """The tiny city's two units with 240 demand places on a 250 m grid and four points."""
    c = tiny_city()
    rng = np.random.default_rng(7)
    xs, ys = np.meshgrid(np.arange(X0 + 125, X0 + 12000, 250.0), np.arange(Y0 + 125, Y0 + 2000, 250.0))
    dem = gpd.GeoDataFrame(
        {"population": rng.integers(1, 400, xs.size).astype(float)},
        geometry=gpd.points_from_xy(xs.ravel(), ys.ravel()),
        crs="EPSG:32648",
    )
    dem["unit_code"] = np.where(xs.ravel() < X0 + 2000, "00001", "00002")
    pts = gpd.GeoDataFrame(
        {
            "point_id": ["P1", "P2", "K1", "M1"],
            "name": ["P1", "P2", "K1", "M1"],
            "kind": ["unit_point", "unit_point", "kiosk", "mobile"],
            "counters": [2, pd.NA, 1, 1],
            "location_precision": ["surveyed"] * 4,
        },
        geometry=gpd.points_from_xy(
            [X0 + 1000, X0 + 7000, X0 + 1500, X0 + 7003], [Y0 + 1000, Y0 + 900, Y0 + 300, Y0 + 900]
        ),
        crs="EPSG:32648",
    )
    return pointplan.assess(pts, c["units"], dem, engine=engine, visits=c["visits"], modes=modes, name="grid")


def _lattice_hybrid() -> HybridEngine:
    """A street lattice over the phường and the west of the xã (the east is off the network)."""
    G = nx.MultiDiGraph(crs="EPSG:32648")
    step = 500.0
    xs = np.arange(X0, X0 + 6001, step)
    ys = np.arange(Y0, Y0 + 2001, step)
    for x in xs:
        for y in ys:
            G.add_node((x, y), x=float(x), y=float(y))
    for x in xs:
        for y in ys:
            for nx_, ny_ in ((x + step, y), (x, y + step)):
                if (nx_, ny_) in G:
                    G.add_edge((x, y), (nx_, ny_), length=step, highway="primary" if y == Y0 + 1000 else "residential")
                    G.add_edge((nx_, ny_), (x, y), length=step, highway="primary" if y == Y0 + 1000 else "residential")
    G = nx.convert_node_labels_to_integers(G)
    return HybridEngine(NetworkEngine(G, "motorbike"), CrowFliesEngine("motorbike", circuity=1.3), snap_m=200)


def _random_ops(sc: Scenario, rng: np.random.Generator, n: int) -> list[str]:
    """Apply ``n`` random valid operations; return their names."""
    units = sc.settings.units.to_crs(4326)
    x0, y0, x1, y1 = units.total_bounds
    area = units.union_all()  # real units fill a fraction of their bounds: skip draws outside them
    done: list[str] = []
    while len(done) < n:
        op = rng.choice(["move", "move", "add", "remove", "set_counters", "undo", "redo", "set_thresholds"])
        ids = list(sc.points.index)
        lon, lat = float(rng.uniform(x0 + 1e-4, x1 - 1e-4)), float(rng.uniform(y0 + 1e-4, y1 - 1e-4))
        if op in ("move", "add") and not area.contains(shapely.Point(lon, lat)):
            continue
        if op == "move":
            sc.move(str(rng.choice(ids)), lon, lat)
        elif op == "add":
            sc.add(
                lon, lat, kind=str(rng.choice(["kiosk", "community", "unit_point"])), counters=int(rng.integers(1, 4))
            )
        elif op == "remove" and len(ids) > 2:
            sc.remove(str(rng.choice(ids)))
        elif op == "set_counters":
            sc.set_counters(str(rng.choice(ids)), int(rng.integers(1, 6)))
        elif op == "undo" and sc.can_undo:
            sc.undo()
        elif op == "redo" and sc.can_redo:
            sc.redo()
        elif op == "set_thresholds":
            sc.set_thresholds(max_minutes=float(rng.choice([15.0, 30.0, 45.0])), max_km=float(rng.choice([2.0, 5.0])))
        else:
            continue
        done.append(str(op))
    return done


def assert_scenario_is_fresh(sc: Scenario) -> None:
    """The scenario's kept figures and its full assessment both equal a fresh assessment."""
    fresh = _fresh(sc)
    assert_same_summary(sc.summary, fresh.summary)
    assert_same_table(sc.units, fresh.units)
    assert_same_assessment(sc.assessment(), fresh)


def _fresh(sc: Scenario) -> pointplan.Assessment:
    s = sc.settings
    return pointplan.assess(
        sc.points,
        s.units,
        s.demand,
        engine=s.engine,
        visits=s.visits,
        modes=s.modes,
        max_minutes=s.max_minutes,
        max_distance_m=s.max_distance_m,
        name=s.name,
    )


# -- reassess ----------------------------------------------------------------------------------


def test_reassess_same_points_gives_the_same_assessment() -> None:
    a = _grid_city(CrowFliesEngine("motorbike", circuity=1.3), modes=("walk",))
    assert_same_assessment(reassess(a, a.points), a)


def test_reassess_moved_points_equals_a_fresh_assess_with_the_same_settings() -> None:
    c = tiny_city()
    settings = {
        "engine": c["engine"],
        "visits": c["visits"],
        "modes": ("walk",),
        "max_minutes": 20,
        "huff_beta_per_min": 0.2,
        "visits_per_counter": 20,
        "availability": {"kiosk": 0.5},
        "counters_default": {"unit_point": 5},
        "name": "s",
    }
    a = pointplan.assess(c["points"], c["units"], c["demand"], **settings)
    moved = c["points"].copy()
    moved["geometry"] = moved.translate(xoff=1500.0)
    fresh = pointplan.assess(moved, c["units"], c["demand"], **settings)
    again = reassess(a, moved)
    assert_same_assessment(again, fresh)
    # by hand: the point moves from 1 to 2.5 km; demand at 0.5, 1.5, 4, 11.5 km -> 2, 1, 1.5, 9 km at 12 km/h
    assert again.demand["minutes"].round(9).tolist() == [10.0, 5.0, 7.5, 45.0]
    assert again.settings.max_minutes == 20.0 and again.params["huff_beta_per_min"] == 0.2


def test_reassess_can_change_a_setting_and_refuses_unknown_ones() -> None:
    a = tiny_assessment()
    b = reassess(a, a.points, max_minutes=60)  # the xã's far residents are 52.5 minutes away
    assert (b.summary["population_within_standard_share"], b.settings.max_minutes) == (1.0, 60.0)
    assert a.summary["population_within_standard_share"] == 0.9
    with pytest.raises(InputError, match="cannot change 'speed'"):
        reassess(a, a.points, speed=3)


def test_engine_mode_differing_from_mode_is_an_error() -> None:
    c = tiny_city()
    with pytest.raises(InputError, match="mode='walk' but the engine computes 'bike'"):
        pointplan.assess(c["points"], c["units"], c["demand"], mode="walk", engine=c["engine"], modes=())
    a = pointplan.assess(c["points"], c["units"], c["demand"], engine=c["engine"], modes=())
    assert a.mode == "bike" == a.summary["mode"]


def test_assessment_is_immutable_and_with_uncertainty_returns_a_copy() -> None:
    a = tiny_assessment()
    with pytest.raises(AttributeError):
        a.uncertainty = 1  # type: ignore[misc]
    b = a.with_uncertainty("u")
    assert (a.uncertainty, b.uncertainty, b.summary is a.summary) == (None, "u", True)


# -- Scenario ----------------------------------------------------------------------------------


def test_scenario_starts_equal_to_its_assessment() -> None:
    a = _grid_city(CrowFliesEngine("motorbike", circuity=1.3), modes=("walk",))
    sc = Scenario.from_assessment(a)
    assert_same_assessment(sc.assessment(), a)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_operations_equal_a_fresh_assessment_fallback(seed: int) -> None:
    sc = Scenario.from_assessment(_grid_city(CrowFliesEngine("motorbike", circuity=1.3), modes=("walk",)))
    done = _random_ops(sc, np.random.default_rng(seed), 24)
    assert len(done) >= 20
    assert_scenario_is_fresh(sc)


@pytest.mark.parametrize("seed", [3, 4])
def test_random_operations_equal_a_fresh_assessment_hybrid(seed: int) -> None:
    sc = Scenario.from_assessment(_grid_city(_lattice_hybrid()))
    assert set(sc.assessment().demand["travel_time_method"]) == {"network", "fallback"}
    rng = np.random.default_rng(seed)
    done = []
    for _ in range(6):  # 24 operations, compared every 4
        done += _random_ops(sc, rng, 4)
        fresh = _fresh(sc)
        assert_same_summary(sc.summary, fresh.summary)
        assert_same_table(sc.units, fresh.units)
    assert len(done) >= 20
    assert_scenario_is_fresh(sc)


def test_each_change_names_what_changed() -> None:
    sc = Scenario.from_assessment(_grid_city(CrowFliesEngine("motorbike", circuity=1.3)))
    before = sc.units
    before_points = sc.assessment().points
    ch = sc.set_counters("P2", 6)  # more counters in the xã: its load and access change, travel does not
    assert ch.points.loc["P2", "capacity_per_day"] == 6 * 32.0
    # the Huff load of every point follows the counters; the nearest-point load does not
    assert ch.points.index.tolist() == list(ch.changed_points) == ["P1", "P2", "K1", "M1"]
    assert ch.points["visits_per_day"].tolist() == before_points["visits_per_day"].tolist()
    assert ch.summary["mean_minutes_to_nearest"] == ch.summary_before["mean_minutes_to_nearest"]
    assert "00002" in ch.changed_units
    changed = [c for c in ch.changed_units]
    pd.testing.assert_frame_equal(
        pd.DataFrame(sc.units.drop(index=changed)).drop(columns="geometry"),
        pd.DataFrame(before.drop(index=changed)).drop(columns="geometry"),
    )
    assert ch.seconds > 0


def _state(sc: Scenario) -> tuple[Any, ...]:
    return (sc.points.to_json(), repr(sc.summary), sc.can_undo, sc.can_redo, sc.settings)


def test_rejected_operations_leave_the_scenario_unchanged() -> None:
    sc = Scenario.from_assessment(_grid_city(CrowFliesEngine("motorbike", circuity=1.3)))
    sc.set_counters("P1", 3)
    sc.undo()
    state = _state(sc)
    bad = [
        (lambda: sc.move("NOPE", 105.83, 21.03), "point_id='NOPE'"),
        (lambda: sc.move("P1", 2.35, 48.85), "lon=2.35, lat=48.85 lies outside"),
        (lambda: sc.move("P1", float("nan"), 21.03), "lon must be a number"),
        (lambda: sc.add(105.83, "21"), "lat must be a number"),
        (lambda: sc.add(105.83, 21.03, counters=0), "counters must be a whole number"),
        (lambda: sc.add(105.83, 21.03, kind=""), "kind must be"),
        (lambda: sc.set_counters("P1", 1.5), "n must be a whole number"),
        (lambda: sc.remove("NOPE"), "point_id='NOPE'"),
        (lambda: sc.set_mode("boat"), "mode must be one of"),
        (lambda: sc.set_thresholds(max_minutes=0), "max_minutes must be > 0"),
        (lambda: sc.set_thresholds(max_km=-1), "max_distance_m must be >= 0"),
    ]
    for call, message in bad:
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
            call()
        assert _state(sc) == state
    assert sc.points.loc["P1", "counters"] == 2
    sc.redo()  # the redo stack was kept: the P1 change can still be redone
    assert sc.points.loc["P1", "counters"] == 3


def test_set_mode_and_undo_equal_fresh_assessments() -> None:
    sc = Scenario.from_assessment(_grid_city(CrowFliesEngine("motorbike", circuity=1.3), modes=("walk",)))
    base = sc.summary
    ch = sc.set_mode("walk")
    assert ch.summary["mode"] == "walk" and sc.settings.engine.mode == "walk"
    assert_same_assessment(sc.assessment(), _fresh(sc))
    sc.undo()
    assert_same_summary(sc.summary, base)


def test_to_points_file_and_to_dict_round_trip(tmp_path) -> None:
    sc = Scenario.from_assessment(_grid_city(CrowFliesEngine("motorbike", circuity=1.3)))
    pid = str(sc.add(105.88, 21.03, kind="kiosk", counters=2))
    path = sc.to_points_file(tmp_path / "p.csv")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    back = pointplan.read_points(path)
    assert pid in set(back["point_id"]) and len(back) == 5
    c = tiny_city()
    again = Scenario.from_dict(sc.to_dict(), units=c["units"], demand=sc.settings.demand, engine=sc.settings.engine)
    assert again.points.index.tolist() == sc.points.index.tolist()
    assert again.summary["mean_minutes_to_nearest"] == pytest.approx(sc.summary["mean_minutes_to_nearest"], rel=1e-12)


@pytest.mark.slow
def test_random_operations_on_real_units_with_the_real_engine() -> None:
    from pointplan.demand import build_demand
    from pointplan.workflow import travel_engine  # as `pointplan run` builds it

    units = pointplan.load_units()
    study = units.loc[["00070", "00004", "00008", "00091"]] if "00091" in units.index else units.iloc[:4]
    pts = pointplan.load_points(units=units)
    pts = pts[pts["unit_code"].isin(study.index)]
    demand = build_demand(study, cell_m=250)
    engine = travel_engine(None, "motorbike")
    a = pointplan.assess(pts, study, demand, engine=engine, modes=())
    sc = Scenario.from_assessment(a)
    done = _random_ops(sc, np.random.default_rng(11), 22)
    assert len(done) >= 20
    assert_scenario_is_fresh(sc)


# -- the kept figures' own paths -------------------------------------------------------------


def _lonlat(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([shapely.Point(x, y)], crs="EPSG:32648").to_crs(4326).iloc[0]
    return float(p.x), float(p.y)


def _assert_kept_is_fresh(sc: Scenario) -> None:
    fresh = _fresh(sc)
    assert_same_summary(sc.summary, fresh.summary)
    assert_same_table(sc.units, fresh.units)


def test_a_unit_losing_its_only_points_equals_a_fresh_assessment() -> None:
    sc = Scenario.from_assessment(_grid_city(CrowFliesEngine("motorbike", circuity=1.3), modes=("walk",)))
    sc.remove("P1")
    ch = sc.remove("K1")  # the phường keeps no point: own-unit minutes become inf there
    assert ch.summary["units_without_point"] == 1 and sc.units.loc["00001", "n_points_all"] == 0
    assert math.isnan(sc.units.loc["00001", "own_unit_mean_minutes"])
    _assert_kept_is_fresh(sc)
    sc.undo()
    _assert_kept_is_fresh(sc)
    assert sc.units.loc["00001", "n_points_all"] == 1


def test_a_kiosk_in_a_unit_without_demand_equals_a_fresh_assessment() -> None:
    a = _grid_city(CrowFliesEngine("motorbike", circuity=1.3))
    demand = a.settings.demand
    east = demand[demand["unit_code"] == "00002"].to_crs(32648)
    c = tiny_city()
    b = pointplan.assess(a.points, c["units"], east, engine=a.settings.engine, visits=c["visits"], modes=())
    sc = Scenario.from_assessment(b)
    ch = sc.add(*_lonlat(X0 + 500, Y0 + 500), kind="kiosk", counters=2)  # in the phường, where nobody lives
    assert sc.units.loc["00001", "n_points_all"] == 3 and sc.units.loc["00001", "counters"] == 5.0
    assert math.isnan(sc.units.loc["00001", "coverage_share"])
    assert "00001" in ch.changed_units  # its points and counters changed, not its travel
    _assert_kept_is_fresh(sc)


def test_undo_after_add_and_moves_after_a_mode_change_equal_fresh_assessments() -> None:
    sc = Scenario.from_assessment(_grid_city(_lattice_hybrid(), modes=("walk",)))
    base = sc.summary
    sc.add(*_lonlat(X0 + 4000, Y0 + 1000), kind="kiosk", counters=1)
    sc.undo()
    assert_same_summary(sc.summary, base)
    _assert_kept_is_fresh(sc)
    sc.set_mode("walk")
    sc.move("P2", *_lonlat(X0 + 5000, Y0 + 1000))  # the kept figures start again from the walking ones
    _assert_kept_is_fresh(sc)
    sc.undo()
    sc.undo()
    assert_same_summary(sc.summary, base)


def test_changed_units_and_points_are_those_whose_rows_differ_after_many_operations() -> None:
    sc = Scenario.from_assessment(_grid_city(CrowFliesEngine("motorbike", circuity=1.3)))
    for x in (X0 + 3000, X0 + 9000, X0 + 500):
        before_units, before_points = sc.units, sc.assessment().points.set_index("point_id", drop=False)
        ch = sc.move("P2", *_lonlat(x, Y0 + 900))
        differs = [
            str(c)
            for c in sc.units.index
            if not sc.units.drop(columns="geometry").loc[[c]].equals(before_units.drop(columns="geometry").loc[[c]])
        ]
        assert sorted(ch.changed_units) == sorted(differs) and ch.changed_units
        load = ["visits_per_day", "visits_per_day_huff", "capacity_per_day"]
        now = sc.assessment().points.set_index("point_id", drop=False)
        moved = [
            p
            for p in now.index
            if not np.allclose(now.loc[p, load].astype(float), before_points.loc[p, load].astype(float), rtol=1e-12)
        ]
        assert set(moved) <= set(ch.changed_points)


def test_a_scenario_too_large_to_keep_its_times_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pointplan import settings

    a = tiny_assessment()  # 4 demand places x 1 point
    monkeypatch.setattr(settings, "scenario_max_pairs", 3)
    with pytest.raises(InputError, match=r"4 x 1 = 4 pairs.*scenario_max_pairs = 3.*pointplan.assess"):
        Scenario.from_assessment(a)
    monkeypatch.setattr(settings, "scenario_max_pairs", 4)
    assert Scenario.from_assessment(a).summary["points"] == 1
