"""Shared fixtures: the real Hanoi model (read once per session) and small synthetic data."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest

import pointplan
from pointplan import settings


@pytest.fixture(scope="session")
def units() -> gpd.GeoDataFrame:
    """The 126 real units (a fresh copy is cheap: the loader caches the file read)."""
    return pointplan.load_units()


@pytest.fixture(scope="session")
def points(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The default Hanoi 2025 scenario."""
    return pointplan.load_points(units=units)


@pytest.fixture(scope="session")
def network_cache(tmp_path_factory):
    """One folder of converted road networks for the whole session (a second load is fast)."""
    return tmp_path_factory.mktemp("networks")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch, network_cache):
    """Keep every test offline and away from the user's cache; restore settings after."""
    monkeypatch.setattr(settings, "allow_downloads", False)
    monkeypatch.setattr(settings, "result_cache", False)  # tests of the kept results turn it on
    monkeypatch.setattr(settings, "cache_dir", tmp_path_factory.mktemp("cache"))
    monkeypatch.setattr(settings, "data_dir", settings.data_dir)
    monkeypatch.setattr(settings, "verify_checksums", settings.verify_checksums)
    # runs keep their intervals and robustness columns, with few draws (the uncertainty
    # tests check the Monte Carlo itself)
    monkeypatch.setattr(settings, "uncertainty_draws", 12)
    # the straight-line fallback unless a test asks for the shipped road network (tests of the
    # default hybrid run set it back: see test_workflow.run_dir)
    monkeypatch.setattr(settings, "default_network", None)
    monkeypatch.setattr(settings, "network_cache_dir", network_cache)
    monkeypatch.setattr(settings, "robustness_draws", 2)
    yield


#: Origin of the synthetic city (UTM 48N, central Hanoi: lon 105.82, lat 21.02).
X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"


@pytest.fixture
def tiny_city() -> dict[str, Any]:
    """A synthetic city with hand-worked answers (fresh frames for every test).

    Two units: A (phường, 2×2 km) and B (xã, 10×2 km east of A); 4 demand points; one
    point P1 (2 counters) in the middle of A. Travel: straight line, circuity 1, 12 km/h,
    i.e. 5 minutes a kilometre. d0 and d1 are 0.5 km from P1 (2.5 min), d2 is 3 km
    (15 min), d3 is 10.5 km (52.5 min). Visits a day: A 30, B 10. One definition, shared
    with the library's runnable examples (:func:`pointplan.assessment._demo.tiny_city`).
    """
    from pointplan.report._demo import demo_inputs

    return demo_inputs()
