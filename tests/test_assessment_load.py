"""Load on the synthetic city, worked by hand: nearest, Huff, the part-time truck."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pointplan.assessment import assess, huff_visits

X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"


def _with(tiny_city, pid, x, kind, counters):
    extra = gpd.GeoDataFrame(
        {"point_id": [pid], "name": [pid], "kind": [kind], "unit_code": ["00001"], "counters": [counters]},
        geometry=[shapely.Point(x, Y0 + 1000)],
        crs=UTM,
    )
    return pd.concat([tiny_city["points"], extra], ignore_index=True)


def _assess(tiny_city, pts):
    t = tiny_city
    return assess(pts, t["units"], t["demand"], engine=t["engine"], visits=t["visits"], modes=())


def test_huff_split_by_hand(tiny_city) -> None:
    """P1 (2 counters) and a kiosk P2 (1 counter) 2 km east; attraction halves every 10 minutes.

    Minutes (5 a km): d0 2.5 / 12.5, d1 2.5 / 7.5, d2 15 / 5, d3 52.5 / 42.5 (nothing in reach:
    its 4 visits go to the nearest, P2). Shares of P1: d0 2/(2 + 2^-1) = 0.8,
    d1 2/(2 + 2^-0.5), d2 (2·2^-1.5)/(2·2^-1.5 + 2^-0.5) = 0.5.
    """
    a = _assess(tiny_city, _with(tiny_city, "P2", X0 + 3000, "kiosk", 1))
    p = a.points
    p1 = 10 * 0.8 + 20 * 2 / (2 + 2**-0.5) + 6 * 0.5
    assert p.loc["P1", "visits_per_day_huff"] == pytest.approx(p1)
    assert p.loc["P2", "visits_per_day_huff"] == pytest.approx(40 - p1)
    assert p.loc["P1", "visits_per_day"] == pytest.approx(30)  # nearest: d0, d1
    assert p.loc["P2", "visits_per_day"] == pytest.approx(10)  # nearest: d2, d3
    assert p.loc["P2", "utilisation_huff"] == pytest.approx((40 - p1) / 32)


def test_part_time_truck_at_a_point_takes_no_nearest_load(tiny_city) -> None:
    """The mobile truck parked 1 m from P1 (towards d0) would be d0's nearest; P1 takes it."""
    a = _assess(tiny_city, _with(tiny_city, "M", X0 + 999, "mobile", 1))
    assert a.demand["nearest_point"].tolist() == ["P1"] * 4
    assert a.points.loc["M", "visits_per_day"] == 0.0
    assert a.points.loc["P1", "visits_per_day"] == pytest.approx(40)
    assert a.points.loc["M", "capacity_per_day"] == pytest.approx(1 * 32 * 0.3)
    # 50 m away it is a separate place: d0 goes to the truck.
    b = _assess(tiny_city, _with(tiny_city, "M", X0 + 950, "mobile", 1))
    assert b.demand["nearest_point"].tolist() == ["M", "P1", "P1", "P1"]
    assert b.points.loc["M", "visits_per_day"] == pytest.approx(10)


def test_huff_orphans_go_to_the_nearest_point() -> None:
    od = pd.DataFrame({"i": [0, 0], "j": [0, 1], "minutes": [0.0, 10.0]})
    out = huff_visits(od, np.array([9.0, 5.0]), np.array([1.0, 1.0]), np.array([0, 1]), np.log(2) / 10)
    assert out.tolist() == pytest.approx([6.0, 3.0 + 5.0])  # 1 : 1/2 split; the orphan to point 1
