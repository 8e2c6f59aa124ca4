"""Floating catchments of very many points: grid groups against every pair (pointplan.assessment.catchment)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pointplan import settings
from pointplan._errors import InputError
from pointplan.assessment import assess
from pointplan.assessment._demo import X0, Y0, tiny_city
from pointplan.assessment.catchment import group_points
from pointplan.assessment.load import huff_visits


def _points(xs: list[float], counters: list[int]) -> gpd.GeoDataFrame:
    ids = [f"K{k}" for k in range(len(xs))]
    return gpd.GeoDataFrame(
        {
            "point_id": ids,
            "name": ids,
            "kind": ["kiosk"] * len(xs),
            "unit_code": ["00001" if x < X0 + 2000 else "00002" for x in xs],
            "counters": counters,
            "location_precision": ["surveyed"] * len(xs),
        },
        geometry=[shapely.Point(x, Y0 + 1000) for x in xs],
        index=ids,
        crs=tiny_city()["units"].crs,
    )


def _assess(points: gpd.GeoDataFrame, limit: int, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(settings, "catchment_max_points", limit)
    c = tiny_city()
    return assess(points, c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=())


def test_co_located_points_grouped_equal_every_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    # three kiosks at one place and two at another, 6 km apart: two groups, each exact
    pts = _points([X0 + 1000] * 3 + [X0 + 7000] * 2, [1, 2, 3, 1, 1])
    dense = _assess(pts, 100, monkeypatch)
    grouped = _assess(pts, 2, monkeypatch)
    assert "catchment_method" not in dense.summary
    assert grouped.summary["catchment_method"] == "grid cells"
    assert grouped.summary["catchment_groups"] == 2
    assert grouped.summary["catchment_points"] == 5
    for col in ("two_sfca", "e2sfca", "minutes"):
        np.testing.assert_allclose(grouped.demand[col], dense.demand[col], rtol=1e-12)
    for col in ("visits_per_day", "visits_per_day_huff", "population_served"):
        np.testing.assert_allclose(grouped.points[col], dense.points[col], rtol=1e-12)
    np.testing.assert_allclose(grouped.units["two_sfca"], dense.units["two_sfca"], rtol=1e-12)
    # hand-computed at 12 km/h (5 min a km): the first place's 6 counters serve the 100 + 200 + 60
    # people within 30 min of it, the second's 2 counters the 200 + 60 + 40 within 30 min of it;
    # the place at X0+500 reaches only the first (the second is 32.5 min off), X0+1500 both
    assert grouped.demand["two_sfca"].iloc[0] == pytest.approx(6 / 360 * 1e4)
    assert grouped.demand["two_sfca"].iloc[1] == pytest.approx((6 / 360 + 2 / 300) * 1e4)


def test_spread_points_grouped_stay_close(monkeypatch: pytest.MonkeyPatch) -> None:
    # points 100 m apart (one 250-m cell): catchment figures move by at most the time across the cell
    pts = _points([X0 + 1000, X0 + 1100, X0 + 6000], [1, 1, 2])
    dense = _assess(pts, 100, monkeypatch)
    grouped = _assess(pts, 2, monkeypatch)
    assert grouped.summary["catchment_cell_m"] == 250.0
    np.testing.assert_allclose(grouped.demand["minutes"], dense.demand["minutes"])  # the nearest stays exact
    np.testing.assert_allclose(grouped.points["visits_per_day"], dense.points["visits_per_day"])
    huff_total = grouped.points["visits_per_day_huff"].sum()
    assert huff_total == pytest.approx(dense.points["visits_per_day_huff"].sum())
    np.testing.assert_allclose(grouped.demand["two_sfca"], dense.demand["two_sfca"], rtol=0.05)


def test_group_points_doubles_the_cell_until_few_enough() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 10_000, size=(5000, 2))
    g = group_points(xy, np.ones(len(xy)), 100)
    assert g.n_groups <= 100
    assert g.cell_m == 1000.0  # 250 m and 500 m leave 1600 and 400 cells; 1000 m the 10 x 10 of the square
    members = np.bincount(g.of_point)
    assert members.sum() == 5000 and (members > 0).all()
    assert (g.of_point[g.representative] == np.arange(g.n_groups)).all()  # each represents its own group


def test_group_points_bad_input() -> None:
    with pytest.raises(InputError, match="max_groups"):
        group_points(np.zeros((2, 2)), np.ones(2), 0)
    with pytest.raises(InputError, match="finite"):
        group_points(np.array([[np.nan, 0.0]]), np.ones(1), 5)


def test_huff_groups_share_by_counters() -> None:
    # two groups 0 and 10 minutes away: the first holds points of 1 and 3 counters
    od = pd.DataFrame({"i": [0, 0], "j": [0, 1], "minutes": [0.0, 10.0]})
    out = huff_visits(od, np.array([12.0]), np.array([1.0, 3.0, 4.0]), np.array([0]), np.log(2) / 10,
                      group_of=np.array([0, 0, 1]))  # fmt: skip
    # group 0: 4 x 1, group 1: 4 x 1/2 -> 8 and 4 visits; group 0 split 1:3
    np.testing.assert_allclose(out, [2.0, 6.0, 4.0])


def test_very_many_points_shared_locations_one_finding_per_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    from pointplan.assessment.rules import check_rules, rule_counts

    c = tiny_city()
    # three pairs within 10 m: two in unit 00001, one in unit 00002; one lone point
    pts = _points([X0 + 100, X0 + 105, X0 + 900, X0 + 903, X0 + 5000, X0 + 5004, X0 + 9000], [1] * 7)
    per_point = check_rules(pts, c["units"], min_points=1, branches_expected=0)
    monkeypatch.setattr(settings, "point_findings_max_points", 6)
    by_unit = check_rules(pts, c["units"], min_points=1, branches_expected=0)
    shared = by_unit[by_unit["rule"] == "shared_location"]
    assert (per_point["rule"] == "shared_location").sum() == 3
    assert shared["unit_code"].tolist() == ["00001", "00002"]
    assert shared["message_en"].str.startswith("2 pairs").tolist() == [True, False]
    assert shared["point_id"].tolist() == ["K0,K1", "K4,K5"]
    counts = rule_counts(pts, c["units"], min_points=1, branches_expected=0)
    assert counts == by_unit["severity"].value_counts().reindex(["error", "warning", "info"], fill_value=0).to_dict()


def test_very_many_points_the_idle_finding_names_the_first_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    from pointplan.assessment.rules import load_findings

    ids = [f"K{k}" for k in range(12)]
    p = pd.DataFrame({"load_status": ["idle"] * 12, "visits_per_day": 1.0, "capacity_per_day": 64.0, "unit_code": "A"},
                     index=ids)  # fmt: skip
    assert load_findings(p)[0]["point_id"] == ",".join(ids)
    monkeypatch.setattr(settings, "point_findings_max_points", 11)
    f = load_findings(p)[0]
    assert f["point_id"] == ",".join(ids[:10]) and "12 points" in f["message_en"] and "(+2)" in f["message_en"]
