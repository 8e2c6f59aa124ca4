"""The rules on scenarios where they fail: a unit with no point, too few points, shared locations..."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from pointplan import settings
from pointplan.assessment import assess, check_rules
from pointplan.points import STAND_IN_PRECISIONS

X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"


def _point(pid, x, y, *, kind="unit_point", unit="00001", precision="surveyed", declared=None, counters=2):
    return gpd.GeoDataFrame(
        {
            "point_id": [pid],
            "name": [pid],
            "kind": [kind],
            "unit_code": [unit],
            "counters": [counters],
            "location_precision": [precision],
            "declared_unit_code": [declared if declared is not None else unit],
        },
        geometry=[shapely.Point(x, y)],
        index=[pid],
        crs=UTM,
    )


def _points(*frames):
    return pd.concat(frames)


def _rules(f, rule):
    return f[f["rule"] == rule]


def test_unit_without_point_found_and_fixed(tiny_city) -> None:
    units, p1 = tiny_city["units"], tiny_city["points"].set_index("point_id", drop=False)
    f = check_rules(p1, units, min_points=1, branches_expected=0)
    miss = _rules(f, "unit_without_point")
    assert miss["unit_code"].tolist() == ["00002"] and miss["severity"].item() == "error"
    assert "Xã B (00002)" in miss["message"].item()
    # A kiosk in B is not "the point of a unit": still missing.
    kiosk = _point("K2", X0 + 5000, Y0 + 1000, kind="kiosk", unit="00002")
    assert _rules(check_rules(_points(p1, kiosk), units, min_points=1), "unit_without_point")["unit_code"].tolist() == [
        "00002"
    ]
    # Unless kiosks count as rule points; and a unit point in B fixes it.
    f2 = check_rules(_points(p1, kiosk), units, min_points=1, rule_kinds=("unit_point", "kiosk"))
    assert _rules(f2, "unit_without_point").empty
    up = _point("P2", X0 + 5000, Y0 + 1000, unit="00002")
    assert _rules(check_rules(_points(p1, up), units, min_points=1), "unit_without_point").empty


def test_too_few_points_at_the_boundary(tiny_city) -> None:
    units = tiny_city["units"]
    pts = _points(*[_point(f"P{k}", X0 + 100 * k, Y0 + 1000, unit="00001" if k < 2 else "00002") for k in range(3)])
    at_min = check_rules(pts, units, min_points=3)
    assert _rules(at_min, "too_few_points").empty
    assert _rules(at_min, "min_points")["message_en"].item() == "3 service points (minimum 3)."
    below = check_rules(pts, units, min_points=4)
    few = _rules(below, "too_few_points")
    assert few["severity"].item() == "error"
    assert few["message_en"].item() == "3 service points, fewer than the minimum of 4."
    # The default minimum is the city's 126.
    assert "minimum of 126" in _rules(check_rules(pts, units), "too_few_points")["message_en"].item()
    assert settings.min_points == 126


def test_shared_location_within_duplicate_m(tiny_city) -> None:
    units = tiny_city["units"]
    a = _point("A", X0 + 1000, Y0 + 1000)
    near = _point("B", X0 + 1006, Y0 + 1008, kind="kiosk")  # 10 m away
    far = _point("C", X0 + 1015, Y0 + 1000, kind="kiosk")  # 15 m away
    f = check_rules(_points(a, near, far), units, min_points=1)
    shared = _rules(f, "shared_location")
    # A-B is exactly 10 m (counted: the limit is inclusive); B-C is 12 m and A-C 15 m (not counted).
    assert set(shared["point_id"]) == {"A,B"}
    assert _rules(check_rules(_points(a, far), units, min_points=1), "shared_location").empty
    wide = check_rules(_points(a, near, far), units, min_points=1, duplicate_m=20)
    assert set(_rules(wide, "shared_location")["point_id"]) == {"A,B", "A,C", "B,C"}


def test_branches_not_located(tiny_city) -> None:
    units = tiny_city["units"]
    branches = _points(*[_point(f"CN{k}", X0 + 300 * k, Y0 + 500, kind="branch") for k in range(3)])
    f = check_rules(branches, units, min_points=0)
    br = _rules(f, "branches_not_located")
    assert br["severity"].item() == "warning" and "3/12" in br["message"].item()
    assert _rules(check_rules(branches, units, min_points=0, branches_expected=3), "branches_not_located").empty


def test_point_outside_and_declared_mismatch(tiny_city) -> None:
    units = tiny_city["units"]
    outside = _point("X", X0 - 5000, Y0, unit=None, declared="00001")
    surveyed = _point("S", X0 + 5000, Y0 + 1000, unit="00002", declared="00001")
    stand_in = _point(
        "T", X0 + 6000, Y0 + 1000, unit="00002", declared="00001", precision=sorted(STAND_IN_PRECISIONS)[0]
    )
    f = check_rules(_points(outside, surveyed, stand_in), units, min_points=0, branches_expected=0)
    out = _rules(f, "point_outside_hanoi")
    assert out["point_id"].tolist() == ["X"] and out["severity"].item() == "error"
    mism = _rules(f, "declared_unit_mismatch").set_index("point_id")
    assert mism.loc["S", "severity"] == "warning"  # surveyed: the address or the coordinates are wrong
    assert mism.loc["T", "severity"] == "info"  # stand-in location: expected
    assert "X" not in mism.index  # no unit to compare with (reported as outside)
    assert _rules(f, "standin_locations")["message_en"].item().startswith("1 of 3 points")


def test_assess_passes_the_rules_through(tiny_city) -> None:
    """In ``assess`` the same rules apply, with the point assigned to its unit."""
    t = tiny_city
    twin = _point("K1", X0 + 1003, Y0 + 1004, kind="kiosk", counters=1)  # 5 m from P1
    pts = pd.concat([t["points"], twin.reset_index(drop=True)], ignore_index=True)
    a = assess(pts, t["units"], t["demand"], engine=t["engine"], visits=t["visits"], modes=())
    f = a.findings
    assert set(_rules(f, "shared_location")["point_id"]) == {"P1,K1"}
    assert _rules(f, "unit_without_point")["unit_code"].tolist() == ["00002"]
    assert list(f["severity"]) == sorted(f["severity"], key=["error", "warning", "info"].index)
    assert a.summary["units_without_point"] == 1 and a.summary["rule_points"] == 1


@pytest.mark.parametrize("n_drop", [1, 5])
def test_rules_on_the_real_scenario_with_points_removed(units, points, n_drop) -> None:
    rule_pts = points[points["kind"] == "unit_point"]
    dropped = rule_pts.index[:n_drop]
    f = check_rules(points.drop(index=dropped), units)
    miss = set(_rules(f, "unit_without_point")["unit_code"])
    assert miss == set(rule_pts.loc[dropped, "unit_code"])
    assert _rules(f, "too_few_points")["message_en"].item().startswith(f"{len(rule_pts) - n_drop} service points")
