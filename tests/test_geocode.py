from __future__ import annotations

import json

import pytest

import pointplan
from pointplan import OfflineError, settings
from pointplan import geocode as gc


def _seed_cache(path, entries: dict[str, tuple[float, float] | None]) -> None:
    store = {}
    for query, ll in entries.items():
        store[gc._key(query)] = {
            "query": query,
            "lon": None if ll is None else ll[0],
            "lat": None if ll is None else ll[1],
        }
    path.write_text(json.dumps(store, ensure_ascii=False), encoding="utf-8")


def test_offline_without_cache_says_how_to_fix() -> None:
    with pytest.raises(OfflineError, match="allow_downloads"):
        gc.geocode("85 Dịch Vọng Hậu, Hà Nội")


def test_cached_answer_needs_no_network(monkeypatch) -> None:
    _seed_cache(gc.cache_path(), {"85 Dịch Vọng Hậu, Hà Nội": (105.7835, 21.0302)})
    monkeypatch.setattr(gc, "_geocode_online", lambda q: pytest.fail("went online"))
    # NFD and extra spaces hit the same cache entry.
    import unicodedata

    q = unicodedata.normalize("NFD", "85  Dịch Vọng Hậu, Hà Nội")
    assert gc.geocode(q) == (105.7835, 21.0302)


def test_online_answer_is_cached(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(settings, "allow_downloads", True)
    monkeypatch.setattr(gc, "_geocode_online", lambda q: calls.append(q) or (105.8, 21.0))
    assert gc.geocode("Số 2 phố Hà Cầu") == (105.8, 21.0)
    assert gc.geocode("Số 2 phố Hà Cầu") == (105.8, 21.0)
    assert len(calls) == 1
    monkeypatch.setattr(settings, "allow_downloads", False)
    assert gc.geocode("Số 2 phố Hà Cầu") == (105.8, 21.0)


def test_geocode_points_replaces_standins_and_rejects_far_matches(points) -> None:
    sub = points.loc[["CN02", "CN07", "DP00070"]]
    suffix = ", Hà Nội, Việt Nam"
    _seed_cache(
        gc.cache_path(),
        {
            sub.loc["CN02", "address"] + suffix: (105.7829, 21.0355),  # close to the stand-in
            sub.loc["CN07", "address"] + suffix: (106.6, 20.8),  # Hải Phòng: a mismatch
        },
    )
    out = pointplan.geocode_points(sub)
    assert out.attrs["geocoding"] == {"geocoded": 1, "not_found": 0, "rejected": 1, "offline": 1}
    assert out.loc["CN02", "location_precision"] == "geocoded"
    assert (out.loc["CN02", "geometry"].x, out.loc["CN02", "geometry"].y) == (105.7829, 21.0355)
    assert out.loc["CN07", "location_precision"] == "old_unit_reference"
    # The input is untouched.
    assert sub.loc["CN02", "location_precision"] == "old_unit_reference"
