"""Uncertainty: intervals with hand-worked answers on the tiny city, reproducible, on Dask too."""

from __future__ import annotations

import numpy as np
import pytest

import pointplan
from grids import grid_hybrid  # tests/grids.py
from pointplan import InputError
from pointplan.uncertainty import Assumptions, DrawModel, known_and_assumed, run_uncertainty


def _assess(city, **point_changes):
    pts = city["points"].copy()
    for k, v in point_changes.items():
        pts[k] = v
    return pointplan.assess(
        pts, city["units"], demand=city["demand"], engine=city["engine"], visits=city["visits"], modes=("bike",)
    )


def _run(a, city, assumptions, draws=60, seed=7):
    return run_uncertainty(
        a, draws=draws, seed=seed, assumptions=assumptions, sensitivity_draws=0, walk_engine=city["engine"]
    )


def test_nothing_varied_gives_the_assessment_itself(tiny_city) -> None:
    a = _assess(tiny_city)
    r = _run(a, tiny_city, Assumptions(vary=()), draws=5)
    s = a.summary
    assert r.intervals["population_within_standard_share"] == [pytest.approx(s["population_within_standard_share"])] * 3
    assert r.intervals["mean_minutes_to_nearest"] == [pytest.approx(s["mean_minutes_to_nearest"])] * 3
    assert r.intervals["p90_minutes_to_nearest"] == [pytest.approx(s["p90_minutes_to_nearest"])] * 3
    # by hand: d0, d1 2.5 min; d2 15; d3 52.5 (10.5 km: beyond 30 min and 5 km) -> 360 of 400 covered
    assert s["population_within_standard_share"] == pytest.approx(0.9)
    assert s["mean_minutes_to_nearest"] == pytest.approx((300 * 2.5 + 60 * 15 + 40 * 52.5) / 400)


def test_base_draw_reproduces_assess_per_unit(tiny_city) -> None:
    a = _assess(tiny_city)
    m = DrawModel(a, Assumptions(), walk_engine=tiny_city["engine"])
    out = m.evaluate(m.base_draw())
    assert np.allclose(out["unit_mean_minutes"], a.units.loc[m.unit_index, "mean_minutes"].to_numpy())
    assert np.allclose(out["unit_p90_minutes"], a.units.loc[m.unit_index, "p90_minutes"].to_numpy())
    assert np.allclose(out["unit_coverage_share"], a.units.loc[m.unit_index, "coverage_share"].to_numpy())


def _stand_in_at(city, precision, dx=1400.0):
    """P1 as a stand-in of ``precision`` at X0 + dx in unit A (100 m from d1 by default)."""
    import shapely

    from conftest import X0, Y0

    pts = city["points"].copy()
    pts["location_precision"] = precision
    pts = pts.set_geometry([shapely.Point(X0 + dx, Y0 + 1000)], crs=pts.crs)
    return pointplan.assess(
        pts, city["units"], demand=city["demand"], engine=city["engine"], visits=city["visits"], modes=("bike",)
    )


# P1 at X0+1400: d0 900 m (4.5 min), d1 100 m (0.5), d2 2.6 km (13), d3 10.1 km (50.5)
_AT_STANDIN = (100 * 4.5 + 200 * 0.5 + 60 * 13 + 40 * 50.5) / 400  # 8.375 min
_AT_D0 = (0 * 100 + 5 * 200 + 17.5 * 60 + 55 * 40) / 400  # 10.625 min


@pytest.mark.parametrize(("precision", "radius"), [("unit_population_centre", 1500.0), ("street_in_unit", 500.0)])
def test_stand_in_is_its_own_likeliest_site_by_hand(tiny_city, precision, radius) -> None:
    """The stand-in stands for d1 (100 m away, in its cell): weight 200; d0 (900 m): 100·e^(-900/r)."""
    a = _stand_in_at(tiny_city, precision)
    model = DrawModel(a, Assumptions(vary=("locations",)))
    w_d0 = 100 * np.exp(-900 / radius)
    mass = 200 / (200 + w_d0)  # 0.785 (centre), 0.924 (street)
    assert model.stand_in_mass()["P1"] == pytest.approx(mass)
    r = _run(a, tiny_city, Assumptions(vary=("locations",)), draws=400)
    values = set(np.round(r.draws["mean_minutes_to_nearest"], 6))
    assert values == {round(_AT_STANDIN, 6), round(_AT_D0, 6)}
    stayed = float(np.isclose(r.draws["mean_minutes_to_nearest"], _AT_STANDIN).mean())
    assert stayed == pytest.approx(mass, abs=0.06)  # 400 draws: sd of the share ≤ 0.021
    p5, p50, p95 = r.intervals["mean_minutes_to_nearest"]
    assert (p5, p50) == (pytest.approx(_AT_STANDIN), pytest.approx(_AT_STANDIN))
    assert p95 == pytest.approx(_AT_D0 if 1 - mass > 0.05 else _AT_STANDIN)


def test_stand_in_without_street_evidence_spreads_by_population(tiny_city) -> None:
    """A representative point: K = 1, so d0 weighs its full 100 people against the stand-in's 200."""
    a = _stand_in_at(tiny_city, "unit_representative_point")
    assert DrawModel(a, Assumptions()).stand_in_mass()["P1"] == pytest.approx(200 / 300)


def test_site_choices_keep_a_far_place_and_a_lonely_stand_in() -> None:
    from pointplan.uncertainty.sites import site_choices

    dem = np.array([[0.0, 0.0], [2000.0, 0.0]])
    pop = np.array([50.0, 150.0])
    # the nearest place is 2 km away, beyond the cell (0.75 × 1000 m): it stays a site of its own
    xy, cum = site_choices(np.array([-2000.0, 0.0]), dem, pop, np.ones(2, bool), np.inf, 1000.0)
    assert xy.tolist() == [[-2000.0, 0.0], [0.0, 0.0], [2000.0, 0.0]]
    assert np.diff(cum, prepend=0).tolist() == pytest.approx([50 / 250, 50 / 250, 150 / 250])
    # no populated place it may move to: it stays
    xy, cum = site_choices(np.array([5.0, 5.0]), dem, np.zeros(2), np.ones(2, bool), 500.0, 1000.0)
    assert xy.tolist() == [[5.0, 5.0]] and cum.tolist() == [1.0]


def test_surveyed_points_never_move(tiny_city) -> None:
    a = _assess(tiny_city)  # P1 is surveyed
    r = _run(a, tiny_city, Assumptions(vary=("locations",)), draws=30)
    assert r.draws["mean_minutes_to_nearest"].nunique() == 1


def test_counters_and_in_person_share_by_hand(tiny_city) -> None:
    """40 visits a day at 40 % in person; at 10 % in person: 10 a day for 2 counters × 32 → idle (< 0.2)."""
    a = _assess(tiny_city)
    r = _run(a, tiny_city, Assumptions(in_person_share=(0.1, 0.1, 0.1), vary=("in_person_share",)), draws=10)
    assert r.intervals["points_idle"] == [1.0, 1.0, 1.0]
    r = _run(a, tiny_city, Assumptions(in_person_share=(0.4, 0.4, 0.4), vary=("in_person_share",)), draws=10)
    assert r.intervals["points_idle"] == [0.0, 0.0, 0.0]
    # counters given (2) are never drawn; assumed ones are drawn in the range
    b = _assess(tiny_city, counters=[None])
    r = _run(b, tiny_city, Assumptions(counters_range=(40, 40), vary=("counters",)), draws=10)
    assert r.intervals["points_idle"] == [1.0, 1.0, 1.0]  # 40 / (40 × 32) < 0.2
    r = _run(a, tiny_city, Assumptions(counters_range=(40, 40), vary=("counters",)), draws=10)
    assert r.intervals["points_idle"] == [0.0, 0.0, 0.0]


def test_travel_time_error_moves_coverage_as_the_normal_law_says(tiny_city) -> None:
    """d3 is covered only when its unit's factor e^(σz) < 30/52.5: P = Φ(ln(0.571)/0.5) = 0.131."""
    a = _assess(tiny_city)
    r = _run(a, tiny_city, Assumptions(travel_time_sigma=0.5, vary=("travel_time",)), draws=400)
    covered_all = (r.draws["population_within_standard_share"] > 0.95).mean()
    assert covered_all == pytest.approx(0.131, abs=0.05)
    assert r.intervals["population_within_standard_share"][0] == pytest.approx(0.9)
    assert r.intervals["population_within_standard_share"][2] == pytest.approx(1.0)


def test_same_seed_same_intervals_other_seed_other_draws(tiny_city) -> None:
    a = _assess(tiny_city, location_precision=["unit_population_centre"], counters=[None])
    r1 = _run(a, tiny_city, Assumptions(travel_time_sigma=0.3), draws=40, seed=11)
    r2 = _run(a, tiny_city, Assumptions(travel_time_sigma=0.3), draws=40, seed=11)
    r3 = _run(a, tiny_city, Assumptions(travel_time_sigma=0.3), draws=40, seed=12)
    assert r1.draws.equals(r2.draws) and r1.intervals == r2.intervals
    assert not r1.draws.equals(r3.draws)
    items = r1.summary_items()
    assert items["uncertainty_draws"] == 40 and items["uncertainty_seed"] == 11
    assert set(items) >= {f"{m}_interval" for m in r1.draws.columns}


def test_sensitivity_names_the_assumption_that_moves_each_figure(tiny_city) -> None:
    a = _assess(tiny_city, location_precision=["unit_population_centre"], counters=[None])
    r = run_uncertainty(
        a,
        draws=20,
        seed=3,
        assumptions=Assumptions(travel_time_sigma=0.0, in_person_share=(0.39, 0.4, 0.41)),
        sensitivity_draws=40,
        walk_engine=tiny_city["engine"],
    )
    # travel-time error is off: only the location moves the minutes
    assert r.sensitivity.loc["mean_minutes_to_nearest", "most_sensitive_to"] == "locations"
    assert r.sensitivity.loc["mean_minutes_to_nearest", "travel_time"] == 0


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"draws": 0}, "--draws"),
        ({"draws": -5}, "--draws"),
        ({"draws": 2.5}, "--draws"),
        ({"seed": 1.5}, "--seed"),
        ({"seed": "abc"}, "--seed"),
        ({"seed": -1}, "--seed"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "--workers and --scheduler"),
        ({"workers": 0}, "--workers"),
    ],
)
def test_bad_options_are_named(tiny_city, kwargs, word) -> None:
    a = _assess(tiny_city)
    with pytest.raises(InputError, match=word):
        run_uncertainty(a, **{"draws": 5, "sensitivity_draws": 0, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"counters_range": (5, 2)}, "counters_range"),
        ({"in_person_share": (0.5, 0.4, 0.3)}, "in_person_share"),
        ({"travel_time_sigma": -0.1}, "travel_time_sigma"),
        ({"vary": ("weather",)}, "vary"),
    ],
)
def test_bad_ranges_are_named(kwargs, word) -> None:
    with pytest.raises(InputError, match=word):
        Assumptions(**kwargs)


def test_known_and_assumed_table(tiny_city) -> None:
    a = _assess(tiny_city, location_precision=["street_in_unit"], counters=[None])
    items = known_and_assumed(a).set_index("item")
    assert items.loc["Point locations (0 of 1 exact)", "status"] == "assumed"
    assert items.loc["Counters (0 of 1 given)", "status"] == "assumed"
    # the same city with a surveyed point and its counters given: both rows become known
    b = _assess(tiny_city)
    known = known_and_assumed(b).set_index("item")
    assert known.loc["Point locations (1 of 1 exact)", "status"] == "known"
    assert known.loc["Counters (1 of 1 given)", "status"] == "known"


@pytest.mark.slow
def test_dask_gives_the_same_intervals_as_in_process(tiny_city) -> None:
    pytest.importorskip("dask.distributed", reason="the parallel extra is not installed")
    a = _assess(tiny_city, location_precision=["unit_population_centre"], counters=[None])
    kw = {"draws": 30, "seed": 5, "assumptions": Assumptions(travel_time_sigma=0.3), "sensitivity_draws": 0}
    here = run_uncertainty(a, walk_engine=tiny_city["engine"], **kw)
    there = run_uncertainty(a, walk_engine=tiny_city["engine"], workers=1, **kw)
    assert here.intervals == there.intervals
    assert here.draws.equals(there.draws)


def test_proposal_robustness_by_hand(tiny_city) -> None:
    """Whatever site P1 really has in unit A, the best added site is the one by d3 (10 km east)."""
    import geopandas as gpd

    from conftest import X0, Y0
    from pointplan.optimize import propose
    from pointplan.uncertainty import proposal_robustness

    a = _assess(tiny_city, location_precision=["unit_population_centre"])
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["east", "middle"], "kind": ["proposed", "proposed"]},
        geometry=gpd.points_from_xy([X0 + 11400, X0 + 6000], [Y0 + 1000, Y0 + 1000]),
        crs=tiny_city["units"].crs,
    )
    prop = propose(a.demand, a.points, cands, 1, objective="pmedian", engine=tiny_city["engine"])
    assert prop.points["candidate_id"].tolist() == ["east"]
    r = proposal_robustness(a, prop, cands, draws=8, seed=1, objective="pmedian")
    assert r["robustness"].tolist() == [1.0] and r["robust"].all()
    # d3 used P1, a stand-in, before: the proposal relies on it for all the people it serves
    assert r["relies_on_point"].tolist() == ["P1"] and r["relies_on_share"].tolist() == [1.0]
    assert not r["depends_on_guess"].any()


def test_nearest_search_gives_the_engines_answer_as_points_move() -> None:
    """The hybrid shortcut (demand snapped once) equals the engine's own nearest, draw after draw."""
    import geopandas as gpd

    from pointplan.uncertainty.nearest import NearestSearch

    eng = grid_hybrid()
    rng = np.random.default_rng(3)
    # demand on the streets (within 100 m) and off them (up to 3 km east)
    dem_xy = np.column_stack([585000 + rng.uniform(0, 5000, 60), 2325000 + rng.uniform(-200, 2200, 60)])
    dem_xy[:20, 1] = 2325000 + 500 * rng.integers(0, 5, 20) + rng.uniform(-50, 50, 20)
    dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dem_xy[:, 0], dem_xy[:, 1]), crs=32648)
    pts = gpd.GeoDataFrame(
        {"kind": ["unit_point"] * 4},
        geometry=gpd.points_from_xy(dem_xy[:4, 0], dem_xy[:4, 1]),
        index=["A", "B", "C", "D"],
        crs=32648,
    )
    fast = NearestSearch(eng, dem, dem_xy, pts, dem_xy[:4])
    slow = NearestSearch(eng, dem, dem_xy, pts, dem_xy[:4], shortcuts=False)
    assert (fast.way, slow.way) == ("hybrid", "engine")
    assert 0 < fast.roads.o_on.sum() < len(dem_xy)  # both kinds of demand place
    assert len(fast.roads.site_on) == len(dem_xy)  # the demand places are known sites from the start
    for k in range(30):
        xy = dem_xy[rng.choice(len(dem_xy), 4, replace=False)]
        if k % 3 == 0:  # a point at a new site (snapped when first seen), another where a point stands
            xy[0] = (585000 + rng.uniform(-300, 5300), 2325000 + rng.uniform(-300, 2300))
            xy[1] = xy[2]
        fast.roads.monotone = k % 2 == 0  # with and without skipping the search among points off the network
        (jf, mf), (js, ms) = fast(xy), slow(xy)
        assert np.array_equal(jf, js)
        assert np.allclose(mf, ms, rtol=1e-12, equal_nan=True)
    assert len(fast.roads.site_on) == len(dem_xy) + 10


def test_nearest_search_goes_the_engines_way_when_the_network_has_no_arrays(monkeypatch) -> None:
    """The hybrid way reads the network engine's arrays; if they are not there, the engine's own nearest answers."""
    import geopandas as gpd

    from pointplan.uncertainty import nearest

    def renamed(self, rows):  # as a network engine whose multi-source pass has another name
        raise AttributeError("'NetworkEngine' object has no attribute '_from_destinations'")

    monkeypatch.setattr(nearest._RoadPass, "nearest", renamed)
    eng = grid_hybrid()
    dem_xy = np.array([[585000.0, 2325000.0], [586100.0, 2326000.0], [595000.0, 2325000.0]])
    dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dem_xy[:, 0], dem_xy[:, 1]), crs=32648)
    pts = gpd.GeoDataFrame(
        {"kind": ["unit_point"]}, geometry=gpd.points_from_xy([585000.0], [2326000.0]), index=["P"], crs=32648
    )
    s = nearest.NearestSearch(eng, dem, dem_xy, pts, np.array([[585000.0, 2326000.0]]))
    assert s.way == "engine"
    j, minutes = s(np.array([[585000.0, 2326000.0]]))
    assert j.tolist() == [0, 0, 0] and minutes[0] == pytest.approx(2.0)  # 1 km along one street at 30 km/h


def test_nearest_search_on_the_grid_by_hand() -> None:
    """Node 0 to a point at node 2 (1 km along one street at 30 km/h): 2 minutes on the network."""
    import geopandas as gpd

    from pointplan.uncertainty.nearest import NearestSearch

    eng = grid_hybrid()
    dem_xy = np.array([[585000.0, 2325000.0], [595000.0, 2325000.0]])  # on the grid; 10 km east of it
    dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dem_xy[:, 0], dem_xy[:, 1]), crs=32648)
    pts = gpd.GeoDataFrame(
        {"kind": ["unit_point"]}, geometry=gpd.points_from_xy([585000.0], [2326000.0]), index=["P"], crs=32648
    )
    s = NearestSearch(eng, dem, dem_xy, pts, np.array([[585000.0, 2326000.0]]))
    j, minutes = s(np.array([[585000.0, 2326000.0]]))
    assert j.tolist() == [0, 0]
    assert minutes[0] == pytest.approx(2.0)
    # off the network: the fallback, from the straight distance
    assert minutes[1] == pytest.approx(float(eng.fallback.minutes_for([np.hypot(10000.0, 1000.0)])[0]))


@pytest.mark.parametrize("seed", [1, 7, 2025])
@pytest.mark.parametrize(
    "scenario",
    [
        {"location_precision": ["unit_population_centre"]},
        {"location_precision": ["street_in_unit"], "counters": [None]},
        {"location_precision": ["unit_representative_point"], "counters": [None]},
        {},  # surveyed: only travel times, counters and the in-person share vary
    ],
)
def test_headline_figures_lie_within_their_interval_tiny_city(tiny_city, scenario, seed) -> None:
    from pointplan.uncertainty import HEADLINE_METRICS, INTEGER_METRICS, headline_figures

    a = _assess(tiny_city, **scenario)
    r = _run(a, tiny_city, Assumptions(travel_time_sigma=0.3), draws=40, seed=seed)
    h = headline_figures(a.summary, r)
    assert h["figures_basis"] == "monte_carlo_p50"
    for m in HEADLINE_METRICS:
        p5, p50, p95 = h[f"{m}_interval"]
        assert p5 <= h[m] <= p95 and h[m] == p50, m
        if m in INTEGER_METRICS:
            assert isinstance(h[m], int) and all(float(v).is_integer() for v in (p5, p95))
    assert h["mean_minutes_to_nearest_at_standins"] == pytest.approx(a.summary["mean_minutes_to_nearest"])
    assert h["walk_within_minutes_share_at_standins"] == a.summary["within_minutes_share_by_mode"].get("walk")


def test_headline_figures_within_their_interval_real_units(units, points) -> None:
    """Five real inner units (their points are stand-ins), two seeds: the central figure is inside."""
    from pointplan.uncertainty import HEADLINE_METRICS, headline_figures

    codes = sorted(points["unit_code"].dropna().unique())[:5]
    pts = points[points["unit_code"].isin(codes)]
    a = pointplan.assess(pts, units.loc[codes], modes=("walk",))
    for seed in (3, 4):
        r = run_uncertainty(a, draws=30, seed=seed, sensitivity_draws=0)
        h = headline_figures(a.summary, r)
        for m in HEADLINE_METRICS:
            p5, _, p95 = h[f"{m}_interval"]
            assert p5 <= h[m] <= p95, (m, seed)
        # the stand-ins are the likeliest sites, not a best case outside the range: the draws keep them often
        mass = DrawModel(a, Assumptions()).stand_in_mass()
        assert len(mass) == len(pts) and (mass > 0.05).all()


def test_without_draws_the_figures_say_they_are_at_the_stand_ins(tiny_city) -> None:
    from pointplan.uncertainty import central_units, headline_figures

    a = _assess(tiny_city)
    h = headline_figures(a.summary, None)
    assert h["figures_basis"] == "at_standins" and "at the stand-ins" in h["figures_note"]
    assert (
        h["mean_minutes_to_nearest"] == h["mean_minutes_to_nearest_at_standins"] == a.summary["mean_minutes_to_nearest"]
    )
    assert "mean_minutes_to_nearest_interval" not in h
    t = central_units(a.units, None)
    assert t.equals(a.units) and "mean_minutes_at_standins" not in t


def test_units_central_values_are_the_draws_p50(tiny_city) -> None:
    """Unit B's mean is d2/d3's travel time × its unit's error factor: the P50 of the draws, stand-in value beside."""
    from pointplan.uncertainty import central_units

    a = _assess(tiny_city)
    r = _run(a, tiny_city, Assumptions(travel_time_sigma=0.3, vary=("travel_time",)), draws=41, seed=5)
    t = central_units(a.units, r)
    at_b = (60 * 15 + 40 * 52.5) / 100  # 30 min at the stand-in (P1 surveyed: no move)
    assert t.loc["00002", "mean_minutes_at_standins"] == pytest.approx(at_b)
    model = DrawModel(a, r.assumptions, walk_engine=tiny_city["engine"])
    factors = [model.draw(np.random.default_rng(s)).unit_factor[1] for s in np.random.SeedSequence(5).spawn(41)]
    assert t.loc["00002", "mean_minutes"] == pytest.approx(at_b * np.median(factors))


def test_reused_site_times_answer_as_the_engine_does() -> None:
    """Subsets of demand and sites, in any order, at any cut-off: the engine's own pairs, from one table."""
    import geopandas as gpd

    from pointplan.uncertainty.robustness import ReusedSiteTimes

    eng = grid_hybrid()
    rng = np.random.default_rng(8)
    xy = np.column_stack([585000 + rng.uniform(-500, 3000, 40), 2325000 + rng.uniform(0, 2000, 40)])
    xy[:15, 1] = 2325000 + 500 * rng.integers(0, 5, 15)  # on the streets
    dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32648)
    sites = dem.iloc[::3].reset_index(drop=True)
    reused = ReusedSiteTimes(eng, dem, sites)
    for limit in (5.0, 12.0, 8.0):
        o = dem.iloc[np.sort(rng.choice(40, 25, replace=False))]
        d = sites.iloc[rng.permutation(len(sites))[:8]]
        got = reused.od_long(o, d, limit)
        want = eng.od_long(o, d, limit)
        assert len(want) > 0
        assert got[["i", "j", "method"]].equals(want[["i", "j", "method"]])
        assert np.allclose(got["minutes"], want["minutes"], rtol=1e-12)
    assert reused.hits == 3
    # a site it does not know: the engine answers (minutes only, as the table keeps them)
    other = gpd.GeoDataFrame(geometry=gpd.points_from_xy([586111.0], [2325000.0]), crs=32648)
    assert reused.od_long(dem, other, 10).equals(eng.od_long(dem, other, 10, with_distance=False))
    assert reused.hits == 3


def _grid_city():
    """The 5 x 5 grid (2 x 2 km) with 80 demand places to 3 km east of it, two units and five points.

    Four points are stand-ins (a mobile truck shares P1's site: they move together); P4 stays.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from pointplan.network import CrowFliesEngine, HybridEngine, NetworkEngine

    x0, y0 = 585000.0, 2325000.0
    eng = grid_hybrid()
    walk = HybridEngine(NetworkEngine(eng.graph, "walk"), CrowFliesEngine("walk", circuity=1.3), snap_m=100)
    rng = np.random.default_rng(11)
    xy = np.column_stack([x0 + rng.uniform(0, 4000, 80), y0 + rng.uniform(0, 2000, 80)])
    xy[:30, 1] = y0 + 500 * rng.integers(0, 5, 30) + rng.uniform(-60, 60, 30)  # by the streets
    units = gpd.GeoDataFrame(
        {"name": ["A", "B"], "kind": ["phuong", "xa"], "population": [1000, 1000]},
        geometry=[shapely.box(x0, y0, x0 + 1250, y0 + 2000), shapely.box(x0 + 1250, y0, x0 + 4000, y0 + 2000)],
        index=pd.Index(["00001", "00002"], name="code"),
        crs=32648,
    )
    unit = np.where(xy[:, 0] < x0 + 1250, "00001", "00002")
    dem = gpd.GeoDataFrame(
        {"population": rng.uniform(10, 100, 80).round(), "unit_code": unit},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=32648,
    )
    ids = ["P1", "T1", "P2", "P3", "P4"]
    pts = gpd.GeoDataFrame(
        {
            "point_id": ids,
            "name": ids,
            "kind": ["unit_point", "mobile", "unit_point", "unit_point", "unit_point"],
            "unit_code": ["00001", "00001", "00002", "00002", "00001"],
            "counters": [2, 1, None, None, 3],
            "location_precision": ["unit_population_centre"] * 2
            + ["street_in_unit", "unit_population_centre", "surveyed"],
        },
        geometry=gpd.points_from_xy(
            x0 + np.array([600.0, 600, 2000, 3500, 200]), y0 + np.array([1e3, 1e3, 500, 1500, 300])
        ),
        index=ids,
        crs=32648,
    )
    visits = pd.Series({"00001": 400.0, "00002": 300.0})
    return pointplan.assess(pts, units, demand=dem, engine=eng, visits=visits, modes=()), walk


def test_draws_with_reuse_give_the_engines_answers_on_a_road_grid() -> None:
    """Hybrid engine, stand-ins moving on and off the streets: the same draws and sensitivity as the slow way.

    The slow way asks the engine's ``nearest`` for every draw and remembers nothing but the
    points as given; the fast way keeps the snapping, the sites, the first draws' answers for
    the sensitivity and the given points' figures.
    """
    a, walk = _grid_city()
    assert set(a.demand["travel_time_method"]) == {"network", "fallback"}
    kw = {"draws": 30, "seed": 4, "sensitivity_draws": 10, "walk_engine": walk}
    kw["assumptions"] = Assumptions(travel_time_sigma=0.3)
    fast = run_uncertainty(a, **kw)
    try:
        DrawModel.shortcuts = False
        slow = run_uncertainty(a, **kw)
    finally:
        DrawModel.shortcuts = True
    assert fast.intervals == slow.intervals
    assert np.allclose(fast.draws.to_numpy(float), slow.draws.to_numpy(float), rtol=1e-12, atol=0)
    assert np.allclose(fast.units.to_numpy(float), slow.units.to_numpy(float), rtol=1e-12, atol=0, equal_nan=True)
    assert fast.sensitivity.equals(slow.sensitivity)
    # the draws move the points: the minutes and which points are overloaded (so who is nearest) change
    assert fast.draws["mean_minutes_to_nearest"].nunique() == 30
    assert fast.draws["points_overloaded"].nunique() > 1
    assert (fast.sensitivity.loc["mean_minutes_to_nearest", ["locations", "travel_time"]] > 0).all()
    # the model kept the first ten draws' layouts (for the sensitivity's locations row) and the given one
    model = DrawModel(a, kw["assumptions"], walk_engine=walk)
    model.keep_layouts = 3
    for s in np.random.SeedSequence(4).spawn(5):
        model.evaluate(model.draw(np.random.default_rng(s)))
    assert len(model._layouts) == 3 and {s.way for s in model._searches.values()} == {"hybrid"}


def test_p90_of_the_draws_is_the_assessments_weighted_quantile() -> None:
    """One sort for the whole and the units' P90: the answers of the assessment's own functions."""
    from pointplan.assessment.stats import group_weighted_quantiles, weighted_quantile
    from pointplan.uncertainty.model import _WeightedP90

    rng = np.random.default_rng(2)
    groups = rng.integers(0, 6, 500)  # unit 6 of 7 has no demand place
    weights = rng.integers(0, 50, 500).astype(float)
    p90 = _WeightedP90(groups, weights, 7)
    for _ in range(5):
        values = rng.integers(0, 40, 500).astype(float)  # many ties
        values[rng.choice(500, 20, replace=False)] = np.nan  # unreachable places
        whole, units = p90(values)
        assert whole == weighted_quantile(values, weights, 0.9)
        want = group_weighted_quantiles(groups, values, weights, [0.9])[0.9].reindex(range(7)).to_numpy()
        assert np.array_equal(units, want, equal_nan=True) and np.isnan(units[6])
    # by hand: weights 1, 3 on 5 and 1 in group 0 -> 5; group 1 holds 2 alone
    whole, units = _WeightedP90(np.array([0, 0, 1]), np.array([1.0, 3.0, 1.0]), 2)(np.array([5.0, 1.0, 2.0]))
    assert whole == 5.0 and units.tolist() == [5.0, 2.0]


def test_the_model_pickles_without_its_memos(tiny_city) -> None:
    """A model sent to Dask workers leaves its searches and remembered answers behind (they are rebuilt)."""
    import pickle

    a = _assess(tiny_city, location_precision=["unit_population_centre"])
    model = DrawModel(a, Assumptions(), walk_engine=tiny_city["engine"])
    model.keep_layouts = 5
    d = model.draw(np.random.default_rng(1))
    first = model.evaluate(d)
    assert model._searches and model._layouts
    copy = pickle.loads(pickle.dumps(model))
    assert not copy._searches and not copy._layouts and copy.keep_layouts == 5
    again = copy.evaluate(d)
    assert again["mean_minutes_to_nearest"] == first["mean_minutes_to_nearest"]
    assert np.array_equal(again["unit_p90_minutes"], first["unit_p90_minutes"], equal_nan=True)


@pytest.mark.slow
def test_dask_gives_the_same_draws_on_the_road_grid() -> None:
    """Workers get the model without its memos, rebuild them and give the draws and sensitivity of this process."""
    pytest.importorskip("dask.distributed", reason="the parallel extra is not installed")
    a, walk = _grid_city()
    kw = {"draws": 20, "seed": 9, "sensitivity_draws": 5, "walk_engine": walk}
    here = run_uncertainty(a, **kw)
    there = run_uncertainty(a, workers=1, **kw)
    assert here.intervals == there.intervals
    assert here.draws.equals(there.draws) and here.sensitivity.equals(there.sensitivity)


def test_road_pass_looks_up_only_the_points_that_moved() -> None:
    import geopandas as gpd

    from pointplan.uncertainty.nearest import NearestSearch

    eng = grid_hybrid()
    rng = np.random.default_rng(4)
    dem_xy = np.column_stack([585000 + rng.uniform(0, 5000, 40), 2325000 + rng.uniform(-200, 2200, 40)])
    dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy(dem_xy[:, 0], dem_xy[:, 1]), crs=32648)
    base = dem_xy[:6].copy()
    pts = gpd.GeoDataFrame(
        {"kind": ["kiosk"] * 6}, geometry=gpd.points_from_xy(base[:, 0], base[:, 1]), index=list("ABCDEF"), crs=32648
    )
    roads = NearestSearch(eng, dem, dem_xy, pts, base).roads
    calls: list[int] = []
    full = roads._site_rows
    roads._site_rows = lambda xy: calls.append(len(xy)) or full(xy)  # type: ignore[method-assign]
    for k in range(5):
        xy = base.copy()
        xy[k % 6] = dem_xy[10 + k]  # one point moves to a demand place ...
        xy[5] = (585000 + rng.uniform(0, 5000), 2325000 + rng.uniform(0, 2000)) if k else xy[5]  # ... one to a new site
        assert np.array_equal(roads.sites(xy), full(xy))
    assert calls == [1, 2, 2, 2, 2]  # the first coordinates asked about (the base) were looked up in the search's check
