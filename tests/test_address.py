"""One address grammar: stand-ins, geocoding and site matching read the same street (issue 23).

The table holds real Hanoi addresses: head offices of the shipped units (``load_units()``
``hq_address``) and post offices (``data/poi/hanoi_vnpost_offices_pre2025.csv``). The house
number, alley and street of each were written by hand from the address itself.
"""

from __future__ import annotations

import pytest

from pointplan._address import (
    PLACE_WORDS,
    match_address_key,
    match_street_key,
    parse_street_address,
    street_key,
)
from pointplan.geocode.address import parse_address
from pointplan.locate.sites import match_street
from pointplan.standins import parse_street

# (address, house, alley, street); None where the address names none.
REAL_ADDRESSES: list[tuple[str, str | None, str | None, str | None]] = [
    # head offices (units_2025 hq_address)
    ("Số 126 Hàng Trống, phường Hoàn Kiếm", "126", None, "Hàng Trống"),
    ("Số 33 Đại Cồ Việt, phường Bạch Mai", "33", None, "Đại Cồ Việt"),
    ("Số 9 Khuất Duy Tiến, phường Thanh Xuân", "9", None, "Khuất Duy Tiến"),
    ("Số 2 ngõ 4B phố Đặng Văn Ngữ, phường Kim Liên", "2", "4B", "Đặng Văn Ngữ"),
    ("Số 1 ngõ 282 đường Kim Giang, phường Định Công", "1", "282", "Kim Giang"),
    ("Số 525, phố Kim Mã, phường Giảng Võ", "525", None, "Kim Mã"),
    ("Số 12, Đường Nguyễn Bặc, xã Thanh Trì", "12", None, "Nguyễn Bặc"),
    ("Số 28 đường Foresa 4B, KĐT Xuân Phương, phường Xuân Phương", "28", None, "Foresa 4B"),
    ("Đường Dương Đức Hiền, thôn Cừ Keo, xã Thuận An", None, None, "Dương Đức Hiền"),
    ("Phố Văn Hội, tổ dân phố số 2 phường Đông Ngạc", None, None, "Văn Hội"),
    ("Số 01 đường Bích Hòa - Cao Viên, thôn Mùi, xã Bình Minh", "1", None, "Bích Hòa - Cao Viên"),
    ("Số 188 Kim Hoa, phường Văn Miếu - Quốc Tử Giám", "188", None, "Kim Hoa"),
    ("Số 125 tỉnh lộ 422, xã Hoài Đức", "125", None, "Tỉnh lộ 422"),
    ("Số 10, đường 17/8, xã Quốc Oai", "10", None, "Đường 17/8"),
    ("Đường 419, xã Thạch Thất", None, None, "Đường 419"),
    ("Thôn Trạch Bái, xã Ứng Hòa", None, None, None),
    ("Tổ dân phố Ngọa Long 2, phường Tây Tựu", None, None, None),
    ("Lô C3, khu đô thị Văn Phú, phường Kiến Hưng", None, None, None),
    ("Số 65 thôn Gia Vĩnh, xã Tam Hưng", "65", None, None),
    ("Khu trung tâm Mỹ Thành, xã Phúc Sơn", None, None, None),
    ("Lô HC01 - khu A khu đô thị mới Dương Nội, phường Dương Nội", None, None, None),
    # post offices (VNPost detailAddress)
    ("75 Đinh Tiên Hoàng, Tràng Tiền", "75", None, "Đinh Tiên Hoàng"),
    ("Số 31, Quốc lộ 3, thị trấn Sóc Sơn", "31", None, "Quốc lộ 3"),
    ("D2 Giảng Võ, Ba Đình", "D2", None, "Giảng Võ"),
    ("A17 phố Tạ Quang Bửu, Bách Khoa", "A17", None, "Tạ Quang Bửu"),
    ("Số 5 ngõ 405 Ngọc Hồi thị trấn Văn Điển", "5", "405", "Ngọc Hồi"),
    ("Số 32 Phố Quang Trung - TT Vân Đình", "32", None, "Quang Trung"),
    ("Số nhà 36A ngõ 647 Lạc Long Quân, Xuân La", "36A", "647", "Lạc Long Quân"),
    ("CT4-5 ngõ 6 Dương Đình Nghệ, P.Yên Hòa", "CT4-5", "6", "Dương Đình Nghệ"),
    ("39 Phố Đại Đồng, TT Tế Tiêu", "39", None, "Đại Đồng"),
    ("Số 51 Tòa Nhà HH 3C Linh Đàm, Hoàng Liệt", "51", None, None),
    ("TK Mỹ Lâm Thị trấn Phú Xuyên", None, None, None),
]


@pytest.mark.parametrize(("address", "house", "alley", "street"), REAL_ADDRESSES)
def test_grammar_reads_real_hanoi_addresses(
    address: str, house: str | None, alley: str | None, street: str | None
) -> None:
    found = parse_street_address(address)
    assert (found.house, found.alley, found.street) == (house, alley, street)


@pytest.mark.parametrize(("address", "house", "alley", "street"), REAL_ADDRESSES)
def test_the_three_callers_read_the_same_street(
    address: str, house: str | None, alley: str | None, street: str | None
) -> None:
    # stand-ins: the street without its alley
    assert parse_street(address) == street
    # geocoding: the same street, with its alley as Nominatim's "Ngõ N Street"
    parsed = parse_address(address)
    assert parsed.street == (f"Ngõ {alley} {street}" if alley and street else street)
    assert parsed.house == (house if street else parsed.house)
    # site matching: the street's key among distractors (a shorter key and another street)
    keys = ["hà", "zzz phố khác"] + ([street_key(street)] if street else [])
    assert match_street(address, keys) == (street_key(street) if street else None)


def test_old_parsers_disagreed_here_and_the_grammar_decides() -> None:
    # "Khuất" starts with "khu" (an area word): the old stand-in parser saw no street
    assert parse_street("Số 9 Khuất Duy Tiến, phường Thanh Xuân") == "Khuất Duy Tiến"
    # "Đội Cấn" is a street, "Đội 5" a production team
    assert parse_street("218 Đội Cấn, Ba Đình") == "Đội Cấn"
    assert parse_street("Đội 5, thôn Đông, xã Phú Cát") is None
    # "Phố Xã Đàn": a unit word right after a street word belongs to the street
    assert parse_street_address("Số 8 Phố Xã Đàn, phường Kim Liên").street == "Xã Đàn"


def test_alley_is_matched_before_its_street() -> None:
    found = parse_street_address("Số 2 ngõ 4B phố Đặng Văn Ngữ, phường Kim Liên")
    assert match_address_key(found, ["đặng văn ngữ", "ngõ 4b đặng văn ngữ"]) == "ngõ 4b đặng văn ngữ"
    assert match_address_key(found, ["đặng văn ngữ"]) == "đặng văn ngữ"


def test_street_key_drops_only_the_type_word() -> None:
    assert street_key("Phố Hàng Trống") == street_key("hàng trống") == "hàng trống"
    assert street_key("Đường 419") == "đường 419" and street_key("Quốc lộ 3") == "quốc lộ 3"
    assert match_street_key("Vũ Trọng Phụng Thanh Xuân", ["vũ trọng phụng", "vũ"]) == "vũ trọng phụng"
    assert match_street_key("Vũ Trọng", ["vũ trọng phụng"]) is None


def test_one_word_list_covers_the_place_words() -> None:
    for word in ("phố", "đường", "ngõ", "ngách", "hẻm", "số", "tổ", "thôn", "xóm", "phường", "xã", "quận",
                 "huyện", "thị xã", "thành phố", "hà nội"):  # fmt: skip
        assert word in PLACE_WORDS
    assert PLACE_WORDS["thị xã"] == "district" and PLACE_WORDS["xã"] == "unit"
