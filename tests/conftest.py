"""Shared fixtures: the real Hanoi model (read once per session) and small synthetic data."""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """Keep every test offline and away from the user's cache; restore settings after."""
    monkeypatch.setattr(settings, "allow_downloads", False)
    monkeypatch.setattr(settings, "cache_dir", tmp_path_factory.mktemp("cache"))
    monkeypatch.setattr(settings, "data_dir", settings.data_dir)
    monkeypatch.setattr(settings, "verify_checksums", settings.verify_checksums)
    yield
