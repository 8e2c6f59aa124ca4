"""A two-unit synthetic city for the docstring examples (mirrors ``tests/conftest.tiny_city``).

Two units: A (phường, 2×2 km) and B (xã, 10×2 km east of A); four demand points; one
point P1 (2 counters) in the middle of A. Straight-line travel at 12 km/h (5 minutes a
kilometre): d0, d1 are 2.5 min from P1, d2 15 min, d3 52.5 min.

Examples
--------
>>> c = tiny_city()
>>> len(c["units"]), len(c["demand"]), c["points"].index.tolist()
(2, 4, ['P1'])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

if TYPE_CHECKING:
    from pointplan.assessment.result import Assessment

__all__ = ["tiny_assessment", "tiny_city"]

X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"


def tiny_city() -> dict[str, Any]:
    """Return units, demand, points, visits and engine of the synthetic city.

    Examples
    --------
    >>> tiny_city()["demand"]["population"].tolist()
    [100.0, 200.0, 60.0, 40.0]
    """
    from pointplan.network import CrowFliesEngine

    units = gpd.GeoDataFrame(
        {"name": ["A", "B"], "full_name": ["Phường A", "Xã B"], "kind": ["phuong", "xa"], "population": [300, 100]},
        geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 2000), shapely.box(X0 + 2000, Y0, X0 + 12000, Y0 + 2000)],
        index=pd.Index(["00001", "00002"], name="code"),
        crs=UTM,
    )
    demand = gpd.GeoDataFrame(
        {"population": [100.0, 200.0, 60.0, 40.0], "unit_code": ["00001", "00001", "00002", "00002"]},
        geometry=gpd.points_from_xy([X0 + 500, X0 + 1500, X0 + 4000, X0 + 11500], [Y0 + 1000] * 4),
        crs=UTM,
    )
    points = gpd.GeoDataFrame(
        {
            "point_id": ["P1"],
            "name": ["P1"],
            "kind": ["unit_point"],
            "unit_code": ["00001"],
            "counters": [2],
            "location_precision": ["surveyed"],
            "declared_unit_code": ["00001"],
            "address": ["1 Phố A"],
        },
        geometry=[shapely.Point(X0 + 1000, Y0 + 1000)],
        index=["P1"],
        crs=UTM,
    )
    return {
        "units": units,
        "demand": demand,
        "points": points,
        "visits": pd.Series({"00001": 30.0, "00002": 10.0}),
        "engine": CrowFliesEngine("bike", speed_kmh=12.0, circuity=1.0),
    }


def tiny_assessment(**kw: Any) -> Assessment:
    """Return the assessment of :func:`tiny_city` (main mode only).

    Examples
    --------
    >>> tiny_assessment().demand["minutes"].round(6).tolist()
    [2.5, 2.5, 15.0, 52.5]
    """
    from pointplan.assessment.core import assess

    c = tiny_city()
    kw.setdefault("modes", ())
    return assess(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"], **kw)
