"""A tiny synthetic city, assessed, for the runnable examples of :mod:`pointplan.report`.

Two units: A (phường, 2 × 2 km, 300 people) and B (xã, 10 × 2 km east of A, 100 people);
four demand points; one point P1 (2 counters) in the middle of A. Travel is a straight line
at 12 km/h (5 minutes a kilometre). The same city as the tests' ``conftest.tiny_city``.
"""

from __future__ import annotations

import functools
from typing import Any

import geopandas as gpd

__all__: list[str] = []

#: Origin of the synthetic city (UTM 48N, central Hanoi).
X0, Y0 = 585_000.0, 2_325_000.0


def demo_inputs() -> dict[str, Any]:
    """Return the tiny city's units, demand, points, visits and travel engine (fresh frames).

    The one definition is :func:`pointplan.assessment._demo.tiny_city`; here the points keep a
    plain 0..n-1 index, as a points file read by a user has.
    """
    from pointplan.assessment.demo import tiny_city

    city = tiny_city()
    city["points"] = city["points"].reset_index(drop=True)
    return city


@functools.cache
def demo_assessment() -> Any:
    """Return the tiny city's :class:`pointplan.Assessment` (cached: do not modify it)."""
    from pointplan.assessment import assess

    t = demo_inputs()
    return assess(t["points"], t["units"], t["demand"], engine=t["engine"], visits=t["visits"], modes=("walk",))


@functools.cache
def demo_proposal() -> Any:
    """Return a proposal of one new point for the tiny city (at d3, 10.5 km east of P1)."""
    from pointplan.locate import propose_points

    a = demo_assessment()
    cand = gpd.GeoDataFrame(
        {"candidate_id": ["c1", "c2"], "kind": ["proposed", "proposed"], "source": ["demo", "demo"]},
        geometry=gpd.points_from_xy([X0 + 4000, X0 + 11500], [Y0 + 1000] * 2),
        crs="EPSG:32648",
    ).to_crs("EPSG:4326")
    return propose_points(a, 1, candidates=cand)


@functools.cache
def demo_images(lang: str = "vi") -> dict[str, bytes]:
    """Return the tiny city's charts (with the proposal) as PNG bytes (cached)."""
    from pointplan.report.charts import chart_images

    return chart_images(demo_assessment(), demo_proposal(), lang=lang)
