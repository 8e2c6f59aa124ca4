"""Assessment: hand-worked answers on a tiny synthetic city, cross-checks on the real one."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import pointplan
from pointplan import InputError, MissingColumnError
from pointplan.access import assess, check_rules, weighted_gini, weighted_quantile
from pointplan.network import CrowFliesEngine

X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"


@pytest.fixture
def tiny(tiny_city):
    """``conftest.tiny_city`` as a tuple: units, demand, points, visits, engine.

    d0, d1 are 0.5 km from P1 (2.5 min), d2 is 3 km (15 min), d3 is 10.5 km (52.5 min).
    """
    t = tiny_city
    return t["units"], t["demand"], t["points"], t["visits"], t["engine"]


def _assess(tiny, points=None, **kw):
    units, demand, pts, visits, engine = tiny
    return assess(points if points is not None else pts, units, demand, engine=engine, visits=visits, modes=(), **kw)


def test_hand_worked_coverage_and_times(tiny) -> None:
    a = _assess(tiny)
    d = a.demand
    assert d["minutes"].to_numpy() == pytest.approx([2.5, 2.5, 15.0, 52.5])
    assert d["nearest_point"].tolist() == ["P1"] * 4
    assert d["within_standard"].tolist() == [True, True, True, False]
    u = a.units
    assert u.loc["00001", "coverage_share"] == pytest.approx(1.0)
    assert u.loc["00002", "coverage_share"] == pytest.approx(0.6)
    assert u.loc["00002", "population_beyond_standard"] == pytest.approx(40)
    assert u.loc["00002", "mean_minutes"] == pytest.approx(30.0)  # (60*15 + 40*52.5)/100
    assert u.loc["00002", "median_minutes"] == pytest.approx(15.0)
    assert u.loc["00002", "p90_minutes"] == pytest.approx(52.5)
    assert u.loc["00002", "max_minutes"] == pytest.approx(52.5)
    assert u.loc["00002", "share_beyond_30"] == pytest.approx(0.4)
    assert u.loc["00001", "n_points"] == 1 and u.loc["00002", "n_points"] == 0
    s = a.summary
    assert s["population_within_standard_share"] == pytest.approx(0.9)
    assert s["mean_minutes_to_nearest"] == pytest.approx(9.375)  # 3750 / 400
    assert s["share_beyond_30_min"] == pytest.approx(0.1)
    assert s["share_beyond_15_min"] == pytest.approx(0.1)  # 15 min is not beyond 15
    assert s["travel_time_method"] == "crow_flies_circuity"
    assert (a.units["travel_time_method"] == "crow_flies_circuity").all()


def test_or_rule_distance_alone_counts(tiny) -> None:
    # With 10 minutes only, d2 (15 min) is still within 5 km (3 km straight line).
    a = _assess(tiny, max_minutes=10)
    assert a.demand["within_standard"].tolist() == [True, True, True, False]
    b = _assess(tiny, max_minutes=10, max_distance_m=2000)
    assert b.demand["within_standard"].tolist() == [True, True, False, False]


def test_own_unit_view(tiny) -> None:
    a = _assess(tiny)
    own = a.demand["own_unit_minutes"].to_numpy()
    assert own[:2] == pytest.approx([2.5, 2.5])
    assert np.isinf(own[2:]).all()  # unit B has no point of its own
    assert math.isnan(a.units.loc["00002", "own_unit_mean_minutes"])


def test_two_sfca_and_e2sfca_by_hand(tiny) -> None:
    a = _assess(tiny)
    # 2SFCA (30 min): P1 reaches 100+200+60 = 360 people: 2 counters / 360 per person.
    # d3 (52.5 min) has no point within the catchment: NaN, not 0 (as PySAL access).
    two = a.demand["two_sfca"].to_numpy()
    assert two[:3] == pytest.approx([2 / 360 * 1e4] * 3)
    assert np.isnan(two[3])
    # E2SFCA: weights 1, 1, 0.68 (15 min), out of reach: 2 / 340.8.
    r = 2 / (100 + 200 + 0.68 * 60)
    e2 = a.demand["e2sfca"].to_numpy()
    assert e2[:3] == pytest.approx([r * 1e4, r * 1e4, 0.68 * r * 1e4])
    assert np.isnan(e2[3])
    # Unit B: 60 people at 0.68 r, 40 with no point in reach counting 0 counters.
    assert a.units.loc["00002", "e2sfca"] == pytest.approx(60 * 0.68 * r * 1e4 / 100)
    assert a.units.loc["00002", "two_sfca"] == pytest.approx(60 * 2 / 360 * 1e4 / 100)
    assert a.equity.loc["city", "e2sfca"] == pytest.approx((300 + 60 * 0.68) * r * 1e4 / 400)
    assert a.summary["population_without_point_in_catchment"] == 40


def test_load_by_hand(tiny) -> None:
    a = _assess(tiny)
    p = a.points.loc["P1"]
    assert a.demand["visits_per_day"].to_numpy() == pytest.approx([10, 20, 6, 4])
    assert p["visits_per_day"] == pytest.approx(40)
    assert p["capacity_per_day"] == pytest.approx(2 * 32)
    assert p["utilisation"] == pytest.approx(40 / 64)
    assert p["load_status"] == "ok"
    assert p["population_served"] == pytest.approx(400)
    # One point only: the Huff model sends everyone there too.
    assert p["visits_per_day_huff"] == pytest.approx(40)


def test_overload_and_huff_split(tiny) -> None:
    units, demand, pts, visits, engine = tiny
    two = pd.concat(
        [
            pts.assign(counters=1),
            gpd.GeoDataFrame(
                {
                    "point_id": ["P2"],
                    "name": ["P2"],
                    "kind": ["kiosk"],
                    "unit_code": ["00002"],
                    "counters": [1],
                    "location_precision": ["surveyed"],
                    "declared_unit_code": ["00002"],
                },
                geometry=[shapely.Point(X0 + 11000, Y0 + 1000)],
                crs=UTM,
            ),
        ]
    )
    a = assess(two, units, demand, engine=engine, visits=visits * 2, modes=(), visits_per_counter=30)
    # Nearest: d0, d1, d2 -> P1 (20+40+12 = 72 visits), d3 -> P2 (8 visits).
    assert a.points.loc["P1", "visits_per_day"] == pytest.approx(72)
    assert a.points.loc["P2", "visits_per_day"] == pytest.approx(8)
    assert a.points.loc["P1", "load_status"] == "overloaded"  # 72 > 30
    assert "point_overloaded" in set(a.findings["rule"])
    # Huff: d2 is 15 min from P1 and 35 min from P2 (beyond the 30-min catchment): P1 only;
    # so Huff equals nearest here. Total visits are conserved in any case.
    assert a.points["visits_per_day_huff"].sum() == pytest.approx(80)
    assert a.summary["population_within_standard_share"] == pytest.approx(1.0)


def test_compare_before_after(tiny) -> None:
    _units, _demand, pts, _visits, _engine = tiny
    before = _assess(tiny)
    extra = gpd.GeoDataFrame(
        {
            "point_id": ["P2"],
            "name": ["P2"],
            "kind": ["unit_point"],
            "unit_code": ["00002"],
            "counters": [1],
            "location_precision": ["surveyed"],
            "declared_unit_code": ["00002"],
        },
        geometry=[shapely.Point(X0 + 11000, Y0 + 1000)],
        crs=UTM,
    )
    after = _assess(tiny, points=pd.concat([pts, extra]), name="after")
    cmp = before.compare(after)
    assert cmp.loc["population_within_standard_share", "change"] == pytest.approx(0.1)
    assert cmp.loc["units_without_point", "scenario"] == 1
    assert cmp.loc["units_without_point", "after"] == 0


def test_rule_findings_tiny(tiny) -> None:
    a = _assess(tiny)
    f = a.findings
    assert set(f.loc[f["rule"] == "unit_without_point", "unit_code"]) == {"00002"}
    assert f.loc[f["rule"] == "too_few_points", "severity"].item() == "error"
    assert f["severity"].iloc[0] == "error"  # errors first
    assert (f["message"].str.len() > 0).all() and (f["message_en"].str.len() > 0).all()


def test_equity_table(tiny) -> None:
    a = _assess(tiny)
    eq = a.equity
    assert eq.loc["phuong", "coverage_share"] == pytest.approx(1.0)
    assert eq.loc["xa", "coverage_share"] == pytest.approx(0.6)
    assert eq.loc["xa", "mean_minutes"] == pytest.approx(30.0)
    x = a.demand["minutes"].to_numpy()
    w = a.demand["population"].to_numpy()
    assert eq.loc["city", "gini_minutes"] == pytest.approx(_gini_brute(x, w))


def _gini_brute(x, w):
    num = sum(wi * wj * abs(xi - xj) for (xi, wi), (xj, wj) in itertools.product(zip(x, w, strict=False), repeat=2))
    return num / (2 * sum(w) ** 2 * (np.dot(w, x) / sum(w)))


def test_weighted_gini_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.gamma(2, 10, size=30)
        w = rng.integers(1, 50, size=30).astype(float)
        assert weighted_gini(x, w) == pytest.approx(_gini_brute(x, w))


def test_weighted_quantile_matches_expansion() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 100, size=40).astype(float)
    w = rng.integers(1, 6, size=40)
    expanded = np.sort(np.repeat(x, w))
    for q in (0.1, 0.5, 0.9, 1.0):
        k = int(np.ceil(q * len(expanded))) - 1
        assert weighted_quantile(x, w, q) == expanded[max(k, 0)]


def test_nearest_equals_brute_force_on_real_points(units, points) -> None:
    demand = pointplan.demand.build_demand(units)
    sample = demand.iloc[::7]
    a = assess(
        points, units, sample, modes=(), visits=pointplan.demand.visits_per_day(units).loc[:, "visits_per_day"] * 0 + 1
    )
    eng = a.engine
    dxy = np.column_stack([sample.to_crs(UTM).geometry.x, sample.to_crs(UTM).geometry.y])
    pxy = np.column_stack([points.to_crs(UTM).geometry.x, points.to_crs(UTM).geometry.y])
    dist = np.linalg.norm(dxy[:, None, :] - pxy[None, :, :], axis=2)
    expect_min = eng.minutes_for(dist.min(axis=1)) * eng.nearest_factor  # the fallback's model, door to door
    assert a.demand["minutes"].to_numpy() == pytest.approx(expect_min)
    assert a.demand["straight_m"].to_numpy() == pytest.approx(dist.min(axis=1))


def test_real_rules(units, points) -> None:
    # "No unit without a point" and "at least 126" hold by construction on the generated
    # default; they are tested where they fail in test_assessment_rules.py.
    f = check_rules(points, units)
    br = f[f["rule"] == "branches_not_located"]
    assert "3/12" in br["message"].item()
    mism = f[f["rule"] == "declared_unit_mismatch"]
    assert {"CN01", "CN07"} <= set(mism["point_id"])
    assert (mism["severity"] == "info").all()  # stand-in locations: not an error
    shared = f[f["rule"] == "shared_location"]
    assert "DP10441,LD01" in set(shared["point_id"]) or "LD01,DP10441" in set(shared["point_id"])


def test_missing_unit_rule_on_real_units(units, points) -> None:
    f = check_rules(points.drop(index="DP00070"), units)
    miss = f[f["rule"] == "unit_without_point"]
    assert miss["unit_code"].tolist() == ["00070"]
    assert "Hoàn Kiếm" in miss["message"].item()
    assert f.loc[f["rule"] == "too_few_points", "message_en"].item().startswith("125 service points")


def test_bad_inputs(tiny) -> None:
    units, demand, pts, visits, engine = tiny
    with pytest.raises(InputError, match="GeoDataFrame"):
        assess(pd.DataFrame(pts), units, demand, engine=engine, visits=visits)
    with pytest.raises(MissingColumnError, match="population"):
        assess(pts, units, demand.drop(columns="population"), engine=engine, visits=visits)
    with pytest.raises(InputError, match="negative"):
        assess(pts, units, demand.assign(population=[-1.0, 1, 1, 1]), engine=engine, visits=visits)
    with pytest.raises(InputError, match="duplicate point_id"):
        assess(pd.concat([pts, pts]), units, demand, engine=engine, visits=visits)
    with pytest.raises(InputError, match="max_minutes"):
        assess(pts, units, demand, engine=engine, visits=visits, max_minutes=0)


def test_inputs_not_modified(tiny) -> None:
    units, demand, pts, _visits, _engine = tiny
    before = (units.copy(), demand.copy(), pts.copy())
    _assess(tiny)
    pd.testing.assert_frame_equal(units, before[0])
    pd.testing.assert_frame_equal(demand, before[1])
    pd.testing.assert_frame_equal(pts, before[2])


@pytest.mark.slow
def test_assess_on_a_real_network_matches_the_engine(units) -> None:
    """Văn Miếu extract: assess with a network gives the engine's times and says so."""
    from pointplan.data import data_file
    from pointplan.network import load_network, make_engine

    G = load_network(data_file("osm_vanmieu"), mode="walk")
    engine = make_engine(G, mode="walk")
    rng = np.random.default_rng(4)
    lon = rng.uniform(105.831, 105.841, size=25)
    lat = rng.uniform(21.024, 21.031, size=25)
    demand = gpd.GeoDataFrame(
        {"population": rng.integers(10, 100, size=25).astype(float)}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )
    pts = gpd.GeoDataFrame(
        {"point_id": ["A", "B"], "name": ["A", "B"], "kind": ["unit_point", "kiosk"], "counters": [2, 1]},
        geometry=gpd.points_from_xy([105.8335, 105.8390], [21.0270, 21.0290]),
        crs=4326,
    )
    demand["unit_code"] = pointplan.points.assign_units(demand, units).to_numpy()
    pts["unit_code"] = pointplan.points.assign_units(pts, units).to_numpy()
    visits = pd.Series(1.0, index=units.index)
    a = assess(pts, units, demand, engine=engine, visits=visits, modes=(), max_minutes=5)
    direct = engine.nearest(demand, pts.set_index("point_id", drop=False))
    assert a.travel_time_method == "network" and a.summary["travel_time_method"] == "network"
    assert a.demand["minutes"].to_numpy() == pytest.approx(direct["minutes"].to_numpy())
    assert a.demand["nearest_point"].tolist() == direct["dest"].tolist()
    # Walking on streets is slower than the straight line at walking speed.
    crow = CrowFliesEngine("walk", circuity=1.0).nearest(demand, pts)["minutes"].to_numpy()
    assert (a.demand["minutes"].to_numpy() >= crow - 1e-9).all()
    assert a.demand["within_minutes"].tolist() == (direct["minutes"] <= 5 + 1e-6).tolist()


def test_default_visits_follow_the_city_rate_for_a_subset(units, points) -> None:
    """Two units get their population's share of the city's 8,000 dossiers a day, not all of it."""
    sub = units.loc[["00190", "00226"]]
    demand = pointplan.build_demand(sub)
    a = assess(points[points["unit_code"].isin(sub.index)], sub, demand, modes=())
    expected = 8000 * 0.4005 * sub["population"].sum() / 8_807_523
    assert a.summary["visits_per_day"] == pytest.approx(expected, rel=1e-9)


def test_idle_points_are_listed(tiny) -> None:
    units, demand, pts, visits, engine = tiny
    a = assess(pts, units, demand, engine=engine, visits=visits * 0.1, modes=())
    assert a.points.loc["P1", "utilisation"] == pytest.approx(4 / 64)
    assert a.points.loc["P1", "load_status"] == "idle"
    idle = a.findings[a.findings["rule"] == "points_idle"]
    assert idle["point_id"].item() == "P1" and idle["severity"].item() == "info"
    assert a.summary["points_idle"] == 1


def test_service_areas_are_the_standard(tiny) -> None:
    """The area 'within the standard' is the 10-min area or the 5-km disc: d2 (3 km, 15 min) is in."""
    a = _assess(tiny, max_minutes=10)
    inside = a.demand.geometry.within(a.service_areas().union_all())
    assert inside.tolist() == a.demand["within_standard"].tolist() == [True, True, True, False]
    time_only = a.demand.geometry.within(a.service_areas(include_distance=False).union_all())
    assert time_only.tolist() == [True, True, False, False]
    assert a.service_areas().attrs["max_distance_m"] == 5000


def test_old_import_path_still_works() -> None:
    """``pointplan.access`` is a thin re-export of ``pointplan.assessment``: same objects."""
    import pointplan.access as old
    import pointplan.assessment as new

    for name in old.__all__:
        assert getattr(old, name) is getattr(new, name), name
    for name in ("assess", "Assessment", "check_rules", "e2sfca", "two_sfca", "DEFAULT_COUNTERS", "AVAILABILITY"):
        assert name in old.__all__
    assert pointplan.assess is new.assess and pointplan.Assessment is new.Assessment
    assert old.VISITS_PER_COUNTER_PER_DAY == 32.0
