"""The demand x candidate-site times routed once (:class:`pointplan.locate.site_times.SiteTimes`)."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import pointplan
from conftest import X0, Y0
from grids import grid_hybrid  # tests/grids.py
from pointplan.locate import propose
from pointplan.locate.site_times import SiteTimes


def _places(seed: int = 8, n: int = 60) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = np.column_stack([585000 + rng.uniform(-500, 3000, n), 2325000 + rng.uniform(0, 2000, n)])
    xy[: n // 3, 1] = 2325000 + 500 * rng.integers(0, 5, n // 3)  # on the streets
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32648)


def test_random_subsets_are_the_engines_answers() -> None:
    """Subsets of demand and sites in any order, with repeats (or in another CRS): the engine's own pairs."""
    eng = grid_hybrid()
    dem = _places()
    sites = dem.iloc[::3].reset_index(drop=True)
    times = SiteTimes(eng, dem, sites)
    rng = np.random.default_rng(3)
    for limit in (12.0, 5.0, 8.0, 12.0):
        o = dem.iloc[rng.choice(len(dem), 35, replace=True)]  # repeats, any order
        d = sites.iloc[rng.choice(len(sites), 9, replace=True)]
        if limit == 8.0:
            o, d = o.to_crs(4326), d.to_crs(4326)  # the same places in another CRS
        want = eng.od_long(o, d, limit, with_distance=False)
        got = times.od_long(o, d, limit)
        assert len(want) > 20
        pd.testing.assert_frame_equal(got, want)
        i, j, m = times.pairs(o, d, limit)
        assert np.array_equal(i, want["i"].to_numpy()) and np.array_equal(j, want["j"].to_numpy())
        assert np.array_equal(m, want["minutes"].to_numpy())
    assert times.hits == 6 and times.routed == 1  # the shorter cut-offs come from the first table


def test_longer_cutoff_routes_again_and_unknown_sites_go_to_the_engine() -> None:
    eng = grid_hybrid()
    dem = _places(seed=2, n=30)
    sites = dem.iloc[:10]
    times = SiteTimes(eng, dem, sites)
    pd.testing.assert_frame_equal(times.od_long(dem, sites, 4.0), eng.od_long(dem, sites, 4.0, with_distance=False))
    pd.testing.assert_frame_equal(times.od_long(dem, sites, 9.0), eng.od_long(dem, sites, 9.0, with_distance=False))
    assert times.routed == 2
    # sites 20..24 are not in the table: routed by the engine, merged in order
    mixed = dem.iloc[[24, 3, 20, 3]]
    pd.testing.assert_frame_equal(times.od_long(dem, mixed, 9.0), eng.od_long(dem, mixed, 9.0, with_distance=False))
    assert times.routed == 2 and times.hits == 3
    # with path lengths, or from places it does not know: the engine answers
    assert times.od_long(dem, sites, 9.0, with_distance=True).equals(eng.od_long(dem, sites, 9.0))
    other = dem.iloc[:5].translate(xoff=7.0)
    assert times.od_long(other, sites, 9.0).equals(eng.od_long(other, sites, 9.0, with_distance=False))
    assert times.hits == 3 and not times.knows(other, sites) and times.knows(dem.iloc[::-1], sites)


def test_old_name_still_imports() -> None:
    from pointplan.uncertainty.robustness import ReusedSiteTimes

    assert ReusedSiteTimes is SiteTimes


def _city(tiny_city):
    pts = tiny_city["points"].copy()
    pts["location_precision"] = "unit_representative_point"  # a stand-in: the draws move it
    a = pointplan.assess(
        pts, tiny_city["units"], demand=tiny_city["demand"], engine=tiny_city["engine"], visits=tiny_city["visits"],
        modes=(),
    )  # fmt: skip
    xs = X0 + np.array([-1000.0, 1500.0, 4000.0, 6000.0, 9000.0, 11400.0, 13000.0])
    cands = gpd.GeoDataFrame(
        {"candidate_id": [f"c{k}" for k in range(len(xs))], "kind": "proposed"},
        geometry=gpd.points_from_xy(xs, np.full(len(xs), Y0 + 1000.0)),
        crs=tiny_city["units"].crs,
    )
    return a, cands


def test_propose_with_site_times_chooses_as_the_engine(tiny_city) -> None:
    """The same proposal, figure for figure; the table rides on the proposal, outside its repr and equality."""
    a, cands = _city(tiny_city)
    for objective in ("pmedian", "mclp"):
        times = SiteTimes(a.engine, a.demand, cands)
        slow = propose(a.demand, a.points, cands, 2, objective=objective, engine=a.engine, boundary=False)
        fast = propose(a.demand, a.points, cands, 2, objective=objective, engine=times, boundary=False)
        pd.testing.assert_frame_equal(fast.points, slow.points)
        assert {k: v for k, v in fast.summary.items() if k != "runtime_s"} == {
            k: v for k, v in slow.summary.items() if k != "runtime_s"
        }
        assert fast.site_times is times and slow.site_times is None and times.hits >= 2
        assert "site_times" not in repr(fast)
        assert dataclasses.replace(fast, site_times=None).site_times is None


def test_robustness_equals_the_slow_way(tiny_city) -> None:
    """Draw by draw, proposing again with the engine itself gives the same robustness column."""
    from pointplan.uncertainty import Assumptions, proposal_robustness
    from pointplan.uncertainty.model import DrawModel

    a, cands = _city(tiny_city)
    prop = pointplan.propose_points(a, 2, candidates=cands, reassess=False)
    assert prop.site_times is not None
    got = proposal_robustness(a, prop, prop.candidates, draws=12, seed=4, objective="pmedian")
    model = DrawModel(a, Assumptions().only("locations"))
    g = prop.points.geometry.to_crs(32648)
    pxy = np.column_stack([g.x, g.y])
    hits = np.zeros(len(pxy))
    for s in np.random.SeedSequence(4).spawn(12):
        d = model.draw(np.random.default_rng(s))
        pts = model.pts.set_geometry(gpd.points_from_xy(d.xy[:, 0], d.xy[:, 1], crs=32648))
        chosen = propose(model.dem, pts, cands, 2, engine=a.engine, method="greedy", objective="pmedian")
        c = chosen.points.geometry.to_crs(32648)
        dist = np.hypot(pxy[:, None, 0] - c.x.to_numpy()[None], pxy[:, None, 1] - c.y.to_numpy()[None]).min(axis=1)
        hits += dist <= 300.0
    assert got["robustness"].tolist() == (hits / 12).tolist()
    assert 0 < hits.sum() < 24  # the draws disagree sometimes: the test can tell
    assert prop.site_times.hits >= 2 + 12  # the draws asked the proposal's table (routed again for a longer cut-off)


def test_after_assessment_from_the_scenario_equals_reassessing(tiny_city) -> None:
    """``scenario=``: the assessment with the proposed points from the scenario's kept times, same figures and name."""
    from pointplan.assessment import Scenario

    a, cands = _city(tiny_city)
    slow = pointplan.propose_points(a, 2, candidates=cands)
    fast = pointplan.propose_points(a, 2, candidates=cands, scenario=Scenario.from_assessment(a))
    before, after = slow.before_after["after"], fast.before_after["after"]
    assert after.name == before.name == f"{a.name} + 2 pmedian"
    assert after.summary.keys() == before.summary.keys()
    for key, value in before.summary.items():  # the kept times may differ in the last bits (summed in another order)
        if isinstance(value, float):
            assert after.summary[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
        else:
            assert after.summary[key] == value, key
    assert len(after.points) == len(a.points) + 2
