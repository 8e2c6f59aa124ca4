"""Uncertainty: intervals with hand-worked answers on the tiny city, reproducible, on Dask too."""

from __future__ import annotations

import numpy as np
import pytest

import pointplan
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


def test_stand_in_moves_among_populated_places_by_hand(tiny_city) -> None:
    """P1 as a stand-in at the population centre: drawn at d0 (weight 100) or d1 (weight 200)."""
    a = _assess(tiny_city, location_precision=["unit_population_centre"])
    r = _run(a, tiny_city, Assumptions(vary=("locations",)), draws=300)
    at_d0 = (0 * 100 + 5 * 200 + 17.5 * 60 + 55 * 40) / 400  # 10.625 min
    at_d1 = (5 * 100 + 0 * 200 + 12.5 * 60 + 50 * 40) / 400  # 8.125 min
    values = set(np.round(r.draws["mean_minutes_to_nearest"], 6))
    assert values == {round(at_d0, 6), round(at_d1, 6)}
    share_d1 = float(np.isclose(r.draws["mean_minutes_to_nearest"], at_d1).mean())
    assert share_d1 == pytest.approx(2 / 3, abs=0.08)  # 300 draws: sd of the share ≈ 0.027
    assert r.intervals["mean_minutes_to_nearest"] == [pytest.approx(at_d1), pytest.approx(at_d1), pytest.approx(at_d0)]


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
