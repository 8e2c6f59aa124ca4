"""Geocoding without the network: addresses, units, precision, the cache, old import paths.

The HTTP path is tested in test_geocode_http.py, the review loop in test_geocode_review.py.
"""

from __future__ import annotations

import json
import unicodedata

import pandas as pd
import pytest

import pointplan
from pointplan import OfflineError, settings
from pointplan import geocode as gc
from pointplan.data import load_old_to_new
from pointplan.geocode import answer_precision, build_queries, normalize_address, parse_address, resolve_units


@pytest.mark.parametrize(
    ("address", "house", "street", "place", "unit", "district"),
    [
        ("Số 2, phố Trúc Bạch, phường Ba Đình", "2", "Trúc Bạch", None, "Phường Ba Đình", None),
        ("Số 79A ngõ 25 Vũ Ngọc Phan, phường Láng", "79A", "Ngõ 25 Vũ Ngọc Phan", None, "Phường Láng", None),
        ("Số 2/224 đường Hoàng Mai, P. Tương Mai", "2", "Ngõ 224 Hoàng Mai", None, "Phường Tương Mai", None),
        ("số 5 ngách 4B ngõ 25 phố Vũ Ngọc Phan, Q.Đống Đa", "5", "Ngõ 25 Vũ Ngọc Phan", None, None, "Quận Đống Đa"),
        ("12 hẻm 40 Lê Lợi, phường Hà Đông", "12", "Ngõ 40 Lê Lợi", None, "Phường Hà Đông", None),
        (
            "Số 01 đường Bích Hòa - Cao Viên, thôn Mùi, xã Bình Minh",
            "1",
            "Bích Hòa - Cao Viên",
            "Mùi",
            "Xã Bình Minh",
            None,
        ),
        ("Thôn 4 - Hồng Kỳ, xã Trung Giã", None, None, "Hồng Kỳ", "Xã Trung Giã", None),
        ("Số 45 khu trung tâm thôn Tảo Dương, xã Dân Hòa", "45", None, "Tảo Dương", "Xã Dân Hòa", None),
        ("Lô C3, KĐT Văn Phú, phường Kiến Hưng", None, None, "Văn Phú", "Phường Kiến Hưng", None),
        ("Số 10, đường 17/8, xã Quốc Oai", "10", "Đường 17/8", None, "Xã Quốc Oai", None),
        ("Số 125 tỉnh lộ 422, xã Hoài Đức", "125", "Tỉnh lộ 422", None, "Xã Hoài Đức", None),
        ("Phố Văn Hội, tổ dân phố số 2 phường Đông Ngạc", None, "Văn Hội", None, "Phường Đông Ngạc", None),
        (
            "Thôn Yên Kiện, xã Đông Phương Yên, huyện Chương Mỹ",
            None,
            None,
            "Yên Kiện",
            "Xã Đông Phương Yên",
            "Huyện Chương Mỹ",
        ),
        (
            "258 Võ Chí Công, P.Xuân La, TX. Sơn Tây, TP Hà Nội",
            "258",
            "Võ Chí Công",
            None,
            "Phường Xuân La",
            "Thị xã Sơn Tây",
        ),
    ],
)
def test_parse_address(address, house, street, place, unit, district) -> None:
    p = parse_address(address)
    assert (p.house, p.street, p.place, p.unit, p.district) == (house, street, place, unit, district)


def test_normalise_address_unicode_and_abbreviations() -> None:
    nfd = unicodedata.normalize("NFD", "Số 2  phố Hà Cầu,P.Hà Đông (trụ sở cũ), Hà Nội, Việt Nam")
    assert normalize_address(nfd) == "Số 2 phố Hà Cầu, phường Hà Đông, Hà Nội"
    assert normalize_address("Thuỵ Khuê, Q. Tây Hồ") == "Thụy Khuê, quận Tây Hồ"


@pytest.mark.parametrize(
    ("address", "other"),
    [
        ("12 Lạch Tray, Ngô Quyền, Hải Phòng", True),
        ("Số 3 đường Trần Phú, tỉnh Bắc Ninh", True),
        ("1 Lê Lợi, TP.HCM", True),
        ("Số 2 phố Thái Bình, phường Hà Đông, Hà Nội", False),  # a street named after a province
        ("Số 1 phố Vạn Hạnh, phường Việt Hưng", False),
    ],
)
def test_other_province(address: str, other: bool) -> None:
    assert parse_address(address).in_other_province is other


def test_queries_structured_first_unit_left_out() -> None:
    q = build_queries(parse_address("Số 66 đường Thanh Mỹ, thôn Thủ Trung, phường Tùng Thiện"))
    assert q == [
        {"street": "66 Thanh Mỹ", "city": "Hà Nội", "country": "Việt Nam"},
        {"q": "Thanh Mỹ, Hà Nội"},
        {"q": "Thủ Trung, Hà Nội"},
    ]


def test_resolve_units_new_old_and_split(units) -> None:
    old = load_old_to_new()
    # the 2025 unit the address names
    assert resolve_units(parse_address("85 Dịch Vọng Hậu, phường Cầu Giấy"), units, old)[0] == ("00166",)
    # a pre-2025 ward (split in 2025): every unit it went to, as the mapping file says
    assert resolve_units(parse_address("85 Dịch Vọng Hậu, P. Dịch Vọng Hậu"), units, old)[0] == ("00160", "00166")
    expected = tuple(sorted(set(old.loc[old["old_ward"] == "Phường Hàng Trống", "new_ward_code"])))
    assert len(expected) == 2
    assert resolve_units(parse_address("1 Hàng Trống, phường Hàng Trống"), units, old)[0] == expected
    # a name that is both a phường and a xã in 2025? the kind decides (xã vs phường)
    assert resolve_units(parse_address("Thôn Bầu, xã Thiên Lộc"), units, old)[0] == tuple(
        units.index[(units["name"] == "Thiên Lộc")].astype(str)
    )


def test_every_head_office_address_names_its_own_unit(units) -> None:
    """The 126 published head-office addresses resolve to their own unit (or name none)."""
    old = load_old_to_new()
    pts = pointplan.load_points("units-only", units=units)
    wrong = {}
    for pid, address in pts["address"].items():
        codes, _ = resolve_units(parse_address(address), units, old, pid[2:])
        if codes != (pid[2:],):
            wrong[pid] = (address, codes)
    # one head office is written with an old commune that now lies in two units, both including its own
    assert all(pid[2:] in codes for pid, (_, codes) in wrong.items()), wrong
    assert len(wrong) <= 1


@pytest.mark.parametrize(
    ("result", "precision"),
    [
        ({"category": "building", "type": "yes", "addresstype": "building"}, "house"),
        ({"category": "place", "type": "house"}, "house"),
        ({"category": "amenity", "type": "townhall"}, "poi"),
        ({"category": "office", "type": "government"}, "poi"),
        ({"category": "highway", "type": "residential", "addresstype": "road"}, "street"),
        ({"class": "highway", "type": "service"}, "street"),  # format=json says "class"
        ({"category": "place", "type": "village"}, "place"),
        ({"category": "place", "type": "hamlet"}, "place"),
        ({"category": "landuse", "type": "residential"}, "place"),
        ({"category": "boundary", "type": "administrative", "addresstype": "suburb"}, "area"),
        ({"category": "place", "type": "city"}, "area"),
        ({"category": "natural", "type": "water", "place_rank": 22}, "place"),
        ({"category": "natural", "type": "peak"}, "other"),
    ],
)
def test_answer_precision_from_the_answer(result, precision) -> None:
    assert answer_precision(result) == precision


def test_offline_without_cache_says_how_to_fix() -> None:
    with pytest.raises(OfflineError, match="allow_downloads"):
        gc.geocode("85 Dịch Vọng Hậu, Hà Nội")


def test_legacy_cached_answer_needs_no_network() -> None:
    """A cache file written by pointplan 0.1 (query → lon/lat) still answers `geocode`."""
    key = gc._key("85 Dịch Vọng Hậu, Hà Nội")
    gc.cache_path().parent.mkdir(parents=True, exist_ok=True)
    gc.cache_path().write_text(json.dumps({key: {"query": "x", "lon": 105.7835, "lat": 21.0302}}), encoding="utf-8")
    q = unicodedata.normalize("NFD", "85  Dịch Vọng Hậu, Hà Nội")  # NFD and extra spaces: same entry
    assert gc.geocode(q) == (105.7835, 21.0302)


def test_bad_service_url_is_refused() -> None:
    with pytest.raises(pointplan.InputError, match="not an http"):
        gc.NominatimClient("nominatim.openstreetmap.org")


def test_refused_connection_is_transient_and_not_cached(monkeypatch, tmp_path) -> None:
    """A service that is down: retried, then a TransientGeocodingError; nothing cached."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(settings, "allow_downloads", True)
    monkeypatch.setattr(settings, "geocode_backoff_s", 0.0)
    monkeypatch.setattr(settings, "geocode_min_interval_s", 0.0)
    client = gc.NominatimClient(f"http://127.0.0.1:{port}", cache=tmp_path / "g.json")
    with pytest.raises(gc.TransientGeocodingError, match=r"failed 5 times.*cannot reach the service"):
        client.search({"q": "Hà Cầu, Hà Nội"})
    assert client.requests_made == 5 and not (tmp_path / "g.json").exists()


def test_post_offices_are_addresses_with_their_former_wards_units() -> None:
    po = gc.post_office_addresses()
    assert len(po) == 109 and po["point_id"].is_unique
    # 8 post offices name wards merged away before 2025 and have no 2025 unit in the file:
    # they are reported invalid (the address names no unit of 2025), never guessed
    assert (po["unit_codes"] == "").sum() == 8
    row = po.set_index("point_id").loc["BC100000"]
    assert row["address"] == "75 Đinh Tiên Hoàng, Tràng Tiền, Hoàn Kiếm, Hà Nội"
    assert row["unit_codes"] == "00070;00082"  # Tràng Tiền was split between Hoàn Kiếm and Cửa Nam


def test_old_import_paths_still_work() -> None:
    from pointplan.geocode import cache_path, geocode, geocode_points

    assert pointplan.geocode_points is geocode_points
    assert callable(geocode) and cache_path().name == "geocode.json"


def test_address_list_of_the_scenario(points) -> None:
    a = gc.address_list(points=points)
    assert len(a) == len(points)
    dp = a.set_index("point_id").loc["DP00070"]
    assert dp["declared_unit_code"] == "00070" and dp["address"] == "Số 126 Hàng Trống, phường Hoàn Kiếm"
    assert isinstance(a, pd.DataFrame) and {"lon", "lat", "location_precision"} <= set(a.columns)
