"""Geocoding through the real HTTP path, against a fake Nominatim on 127.0.0.1.

Every test here sends real requests to :class:`fake_nominatim.FakeNominatim`, which answers
from the recorded replies in ``tests/geocode_fixtures``; nothing below HTTP is mocked.
Coordinates in the fixtures are units' ``point_on_surface``, so the expected answers are
known by construction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import pointplan
from fake_nominatim import FakeNominatim
from pointplan import OfflineError, settings
from pointplan.geocode import NominatimClient, address_list, cache_path, geocode, geocode_addresses, geocode_points


@pytest.fixture
def online(monkeypatch):
    """Downloads allowed, fast backoff and no wait between requests (tests only)."""
    monkeypatch.setattr(settings, "allow_downloads", True)
    monkeypatch.setattr(settings, "geocode_min_interval_s", 0.0)
    monkeypatch.setattr(settings, "geocode_backoff_s", 0.01)
    monkeypatch.setattr(settings, "geocode_timeout_s", 0.4)
    monkeypatch.setattr(settings, "geocode_max_retries", 2)


@pytest.fixture
def fake(online, monkeypatch):
    with FakeNominatim.from_fixture("nominatim_cases.json") as server:
        monkeypatch.setattr(settings, "geocode_service_url", server.url)
        yield server


def _addresses(points, *ids: str) -> pd.DataFrame:
    return address_list(points=points.loc[list(ids)])


def _cache() -> dict:
    return json.loads(cache_path().read_text(encoding="utf-8"))


def test_several_candidates_the_one_in_the_unit_wins(fake, points, units) -> None:
    t = geocode_addresses(_addresses(points, "DP00070"), units=units).iloc[0]
    assert t["status"] == "accepted" and t["chosen"] == 2 and t["match_precision"] == "house"
    assert (t["lon"], t["lat"]) == (105.849724, 21.032568)
    assert [c.inside for c in t["candidates"]] == [False, True, True]
    assert t["candidates"][0].in_unit == "00166"  # the same house number in Cầu Giấy
    # one structured request (a house was found), polite and well-formed
    (req,) = fake.requests
    assert req["path"] == "/search"
    p = req["params"]
    assert p["street"] == "126 Hàng Trống" and p["city"] == "Hà Nội" and "q" not in p
    assert (p["format"], p["countrycodes"], p["limit"], p["bounded"]) == ("jsonv2", "vn", "8", "1")
    assert req["headers"]["User-Agent"].startswith("pointplan/") and "Hanoi" in req["headers"]["User-Agent"]
    assert t["service"] == fake.url


def test_match_only_in_another_unit_is_rejected_the_street_in_the_unit_accepted(fake, points, units) -> None:
    t = geocode_addresses(_addresses(points, "DP00004"), units=units).iloc[0]
    # candidates: the house in Tây Hồ, the suburb in Tây Hồ, the street in Ba Đình
    assert [c.precision for c in t["candidates"]] == ["house", "area", "street"]
    assert [c.inside for c in t["candidates"]] == [False, False, True]
    assert t["status"] == "accepted" and t["chosen"] == 3 and t["match_precision"] == "street"
    assert "inside Phường Ba Đình" in t["reason"]
    assert len(fake.requests) == 2  # the street query followed the rejected house


def test_only_wrong_unit_matches_are_rejected_with_the_distance(fake, points, units) -> None:
    """Láng's alley house is found in Đống Đa, 617 m beyond Láng's edge; the alley itself is in Láng."""
    t = geocode_addresses(_addresses(points, "DP00199"), units=units).iloc[0]
    house, alley = t["candidates"]
    where = gpd.GeoSeries(gpd.points_from_xy([105.818362], [21.011183]), crs=4326).to_crs(32648)
    expected = float(units.loc[["00199"]].to_crs(32648).distance(where.iloc[0]).iloc[0])
    assert 600 < expected < 640
    assert house.inside is False and house.in_unit == "00235" and house.distance_m == pytest.approx(expected, abs=0.5)
    assert "0.6 km outside Phường Láng (in Phường Đống Đa)" in t["reason"] or t["status"] == "accepted"
    assert alley.inside is True and t["chosen"] == 2 and t["match_precision"] == "street"


def test_http_429_is_retried_and_never_cached(fake, points, units) -> None:
    t = geocode_addresses(_addresses(points, "DP09556"), units=units).iloc[0]
    assert t["status"] == "accepted" and t["match_precision"] == "house"
    assert len(fake.searches(street="2 Hà Cầu")) == 2  # the 429, then the answer
    entries = list(_cache().values())
    assert [e["status"] for e in entries] == ["found"] and entries[0]["results"][0]["osm_id"] == 921


def test_timeout_is_retried(fake, points, units) -> None:
    t = geocode_addresses(_addresses(points, "DP00166"), units=units).iloc[0]
    assert t["status"] == "accepted" and t["match_precision"] == "poi"
    first, second = fake.searches(street="96 Trần Thái Tông")
    # the client gave up after its 0.4 s timeout, before the fake's 1.5 s reply
    assert 0.35 < second["time"] - first["time"] < 1.5


def test_malformed_replies_fail_uncached_and_the_next_run_asks_again(fake, points, units, monkeypatch) -> None:
    t = geocode_addresses(_addresses(points, "DP00103"), units=units).iloc[0]
    assert t["status"] == "failed"
    assert "failed 3 times" in t["reason"] and "malformed reply" in t["reason"]
    assert len(fake.searches(street="657 Lạc Long Quân")) == 3  # 1 + geocode_max_retries
    assert not cache_path().exists()  # nothing remembered
    good = {"lat": "21.062052", "lon": "105.818433", "category": "building", "type": "yes", "osm_type": "way"}
    rules = [{"match": {"street": "657 Lạc Long Quân"}, "replies": [{"body": [{**good, "osm_id": 5}]}]}]
    with FakeNominatim(rules) as fixed:
        monkeypatch.setattr(settings, "geocode_service_url", fixed.url)
        again = geocode_addresses(_addresses(points, "DP00103"), units=units).iloc[0]
        assert again["status"] == "accepted" and len(fixed.requests) == 1


def test_no_match_is_cached_with_date_and_service(fake, points, units) -> None:
    t = geocode_addresses(_addresses(points, "DP00082"), units=units).iloc[0]
    assert t["status"] == "no_match" and t["candidates"] == []
    entries = _cache()
    assert len(entries) == 2 == len(fake.requests)  # "29 Quang Trung" and "Quang Trung, Hà Nội"
    for e in entries.values():
        assert e["status"] == "no_match" and e["service"] == fake.url and e["results"] == []
        assert dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(e["date"]) < dt.timedelta(minutes=5)
    again = geocode_addresses(_addresses(points, "DP00082"), units=units)
    assert again.iloc[0]["status"] == "no_match" and len(fake.requests) == 2  # from the cache
    assert again.attrs["geocoding"]["requests"] == 0


def test_offline_answers_from_the_cache_only(fake, points, units, monkeypatch) -> None:
    geocode_addresses(_addresses(points, "DP00070"), units=units)
    n = len(fake.requests)
    monkeypatch.setattr(settings, "allow_downloads", False)
    t = geocode_addresses(_addresses(points, "DP00070", "DP00004"), units=units)
    assert t["status"].tolist() == ["accepted", "offline"] and len(fake.requests) == n
    assert "--allow-downloads" in t.iloc[1]["reason"]
    with pytest.raises(OfflineError, match="allow_downloads = True"):
        geocode("2 Trúc Bạch, Hà Nội")


def test_at_most_one_request_per_interval(fake, points, units, monkeypatch) -> None:
    monkeypatch.setattr(settings, "geocode_min_interval_s", 0.25)
    geocode_addresses(_addresses(points, "DP00082", "DP00004"), units=units)  # 4 requests
    times = [r["time"] for r in fake.requests]
    assert len(times) == 4
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.24


def test_interrupted_run_resumes_from_the_cache(fake, points, units, monkeypatch) -> None:
    """Each answer is on disk the moment it arrives; a new run asks only what is missing."""
    rules = [
        *fake.rules,
        {"match": {"street": "30 Tứ Liên"}, "replies": [{"delay": 0.6, "body": []}]},
    ]
    monkeypatch.setattr(settings, "geocode_timeout_s", 2.0)
    with FakeNominatim(rules) as slow:
        monkeypatch.setattr(settings, "geocode_service_url", slow.url)
        ids = ["DP00070", "DP09556", "DP00097"]
        run = threading.Thread(target=geocode_addresses, args=(_addresses(points, *ids),), kwargs={"units": units})
        run.start()
        deadline = time.monotonic() + 5
        while not slow.searches(street="30 Tứ Liên") and time.monotonic() < deadline:
            time.sleep(0.02)
        on_disk = _cache()  # the state an interruption now would leave
        run.join()
        assert len(on_disk) == 2  # Hàng Trống and Hà Cầu already saved
        before = len(slow.requests)
        again = geocode_addresses(_addresses(points, *ids), units=units)
        assert len(slow.requests) == before  # everything came from the cache
        assert again["status"].tolist() == ["accepted", "accepted", "no_match"]


def test_bad_addresses_are_reported_by_row_without_requests(fake, units) -> None:
    rows = pd.DataFrame(
        {
            "point_id": ["E", "HP", "XX", "OLD"],
            "address": ["  ", "12 Lạch Tray, Ngô Quyền, Hải Phòng", "Số 5 phố Huế, phường Không Có", "1 Nghi Tàm"],
            "declared_unit_code": [None, None, None, "99999"],
        }
    )
    t = geocode_addresses(rows, units=units).set_index("point_id")
    assert (t["status"] == "invalid").all() and fake.requests == []
    assert "empty address" in t.loc["E", "reason"]
    assert "in Hải Phòng, not Hà Nội" in t.loc["HP", "reason"]
    assert "Phường Không Có, which is neither a 2025 unit of Hà Nội nor a ward of the pre-2025" in t.loc["XX", "reason"]
    assert "unknown unit code(s) ['99999']" in t.loc["OLD", "reason"]


def test_old_ward_names_resolve_to_the_units_they_went_to(fake, units) -> None:
    """An address written with the pre-2025 ward (and district) is checked against its 2025 unit(s)."""
    rows = pd.DataFrame({"point_id": ["A"], "address": ["Số 126 Hàng Trống, P. Hàng Trống, Q. Hoàn Kiếm"]})
    t = geocode_addresses(rows, units=units).iloc[0]
    assert t["unit_code"] == "00070;00082"  # the old ward was split between Hoàn Kiếm and Cửa Nam
    assert t["unit_name"] == "Phường Hoàn Kiếm; Phường Cửa Nam"
    assert t["status"] == "accepted" and t["chosen"] == 2


@pytest.mark.slow
def test_the_126_head_offices_every_accepted_answer_inside_its_unit(online, monkeypatch, units) -> None:
    """Issue 19's 'done when': against the fake service, the head-office list comes back with
    every accepted answer inside its unit, and wrong-unit answers rejected."""
    fixture = json.loads((Path(__file__).parent / "geocode_fixtures" / "headoffice_replies.json").read_text("utf-8"))
    with FakeNominatim(fixture["rules"]) as server:
        monkeypatch.setattr(settings, "geocode_service_url", server.url)
        table = geocode_addresses(address_list("units-only", units=units), units=units)
    assert len(table) == 126
    ok = table[table["status"] == "accepted"]
    assert sorted(ok["point_id"]) == sorted(fixture["expected"]["accepted"])
    assert sorted(table.loc[table["status"] == "rejected", "point_id"]) == sorted(fixture["expected"]["rejected"])
    # every accepted answer lies in the unit whose head office it is (independent spatial join)
    located = pointplan.read_points(_as_csv(ok, Path(settings.cache_dir) / "ok.csv"), units=units)
    assert (located["unit_code"] == ok["point_id"].str[2:].to_numpy()).all()


def _as_csv(table: pd.DataFrame, path: Path) -> Path:
    table[["point_id", "lon", "lat"]].assign(name=table["point_id"]).to_csv(path, index=False)
    return path


def test_geocode_points_moves_only_checked_precise_answers(fake, points, units) -> None:
    sub = points.loc[["DP00070", "DP00004", "DP10402", "DP00082"]].copy()
    sub.loc["DP00082", "location_precision"] = "reviewed"  # a person's answer: never touched
    out = geocode_points(sub, units=units)
    assert out["location_precision"].to_dict() == {
        "DP00070": "geocoded",
        "DP00004": "street_in_unit",
        "DP10402": "place_in_unit",  # a village answer inside the unit: still a stand-in, a better one
        "DP00082": "reviewed",
    }
    assert (out.loc["DP00070"].geometry.x, out.loc["DP00070"].geometry.y) == (105.849724, 21.032568)
    assert out.loc["DP00082"].geometry.equals(sub.loc["DP00082"].geometry)
    assert not fake.searches(street="29 Quang Trung")
    stats = out.attrs["geocoding"]
    assert (stats["geocoded"], stats["place_in_unit"], stats["coarse"]) == (1, 1, 0)
    assert stats["not_better"] == 1  # DP00004: a street answer never replaces the stand-in already on that street
    assert sub.loc["DP00070", "location_precision"] == points.loc["DP00070", "location_precision"]  # input untouched


def test_service_url_with_search_suffix(fake, units, points) -> None:
    client = NominatimClient(fake.url + "/search/")
    assert client.endpoint == fake.url + "/search"
    assert client.search({"q": "Trúc Bạch, Hà Nội"}).found
