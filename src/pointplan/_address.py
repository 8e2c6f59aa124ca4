"""The one address grammar: streets, house numbers and place words of Vietnamese addresses.

Stand-ins (:func:`pointplan.standins.parse_street`), geocoding
(:func:`pointplan.geocode.parse_address`) and real-site matching
(:func:`pointplan.locate.sites.match_street`) all read the street of an address here, with
one word list (:data:`PLACE_WORDS`), so they cannot disagree on the same address.

An address is read part by part (parts are separated by commas). Within a part the text
after a unit, district or province word ("phường", "xã", "quận", "huyện", "thị xã",
"thành phố"...) or after a " - " is not the street. The street part is the first part that
carries a house number, an alley or a street word; failing that, the first part, unless it
starts with an area word ("thôn", "tổ", "khu đô thị", "lô"...), which names a place, not a
street.

Examples
--------
>>> s = parse_street_address("Số 79A ngõ 25 Vũ Ngọc Phan, phường Láng")
>>> s.house, s.alley, s.street
('79A', '25', 'Vũ Ngọc Phan')
>>> parse_street_address("Thôn Trạch Bái, xã Ứng Hòa").street is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pointplan._text import name_key, normalize_name

__all__ = [
    "PLACE_WORDS",
    "PlaceWordKind",
    "StreetAddress",
    "match_address_key",
    "match_street_key",
    "parse_street_address",
    "parse_street_part",
    "starts_with_street_word",
    "street_key",
]

PlaceWordKind = Literal["house", "alley", "street", "area", "unit", "district", "province"]
"""What a place word introduces."""

#: The one word list: each place word (lower case, with diacritics) and what it introduces.
#: Longer words are tried first, so "tổ dân phố" wins over "tổ" and "thị xã" over "xã".
PLACE_WORDS: dict[str, PlaceWordKind] = {
    "số nhà": "house",
    "số": "house",
    "ngách": "alley",
    "ngõ": "alley",
    "hẻm": "alley",
    "kiệt": "alley",
    "phố": "street",
    "đường": "street",
    "đại lộ": "street",
    "quốc lộ": "street",
    "tỉnh lộ": "street",
    "pho": "street",
    "duong": "street",
    "street": "street",
    "road": "street",
    "thôn": "area",
    "xóm": "area",
    "tổ dân phố": "area",
    "tổ": "area",
    "khu đô thị mới": "area",
    "khu đô thị": "area",
    "khu dân cư": "area",
    "khu công nghiệp": "area",
    "tiểu khu": "area",
    "tk": "area",
    "khu": "area",
    "kđt": "area",
    "kcn": "area",
    "cụm": "area",
    "ấp": "area",
    "bản": "area",
    "làng": "area",
    "lô": "area",
    "tòa nhà": "area",
    "tòa": "area",
    "trụ sở": "area",
    "phường": "unit",
    "xã": "unit",
    "thị trấn": "unit",
    "p.": "unit",
    "x.": "unit",
    "tt": "unit",
    "quận": "district",
    "huyện": "district",
    "thị xã": "district",
    "q.": "district",
    "h.": "district",
    "thành phố": "province",
    "tỉnh": "province",
    "tp": "province",
    "hà nội": "province",
}

#: Type words a street name may carry ("phố Hàng Trống" and "Hàng Trống" are one street).
_STREET_WORDS = tuple(sorted((w for w, k in PLACE_WORDS.items() if k == "street"), key=len, reverse=True))
#: Road words kept in the name: "Quốc lộ 6" is not "6", "Đại lộ Thăng Long" is a road of its own.
_ROAD_WORDS = ("đại lộ", "quốc lộ", "tỉnh lộ")


def _words_re(kinds: tuple[PlaceWordKind, ...]) -> str:
    words = sorted((w for w, k in PLACE_WORDS.items() if k in kinds), key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)


# Text from a unit/district/province word on (or a " - ") is not the street.
_CUT_RE = re.compile(
    r"\s[-–]\s|(?<![\w.])(?:" + _words_re(("unit", "district", "province")) + r")(?:\s|(?<=\.)|$)(?!lộ\b)",
    re.IGNORECASE,
)
# "Đội 5" is a production team (an area); "Đội Cấn" is a street.
_AREA_RE = re.compile(r"^(?:(?:" + _words_re(("area",)) + r")(?:\s|$)|đội\s+\d)", re.IGNORECASE)
# A house number may carry a block's letters: "36A", "A17", "CT4-5", "2/224".
_HOUSE_RE = re.compile(
    r"^(?:(?:số\s*nhà|số)\s*)?([a-z]{0,3}\d+[a-z]?(?:[/-][a-z]{0,3}\d+[a-z]?)*)(?=[\s,]|$)\s*,?\s*", re.IGNORECASE
)
_ALLEY_RE = re.compile(r"^(?:" + _words_re(("alley",)) + r")\s+(\d+[a-z]?)\s*,?\s*", re.IGNORECASE)
_STREET_WORD_RE = re.compile(r"^(" + "|".join(re.escape(w) for w in _STREET_WORDS) + r")\s+", re.IGNORECASE)


@dataclass(frozen=True)
class StreetAddress:
    """The street of an address: house number, alley and street name (``None`` when absent).

    Attributes
    ----------
    house
        House number as written, without "số" and leading zeros, e.g. ``"79A"``, ``"12-14"``.
    alley
        The alley (ngõ) number, e.g. ``"25"`` for "ngõ 25"; for "ngách 3 ngõ 12" the ngõ
        (``"12"``), which is what the road network names. "2/224 Hoàng Mai" is house 2 in
        alley 224.
    street
        The street name without "phố"/"đường" (``"Hàng Trống"``); a numbered road or a
        "lộ" keeps its word (``"Đường 419"``, ``"Quốc lộ 6"``, ``"Đại lộ Thăng Long"``).

    Examples
    --------
    >>> StreetAddress(house="126", street="Hàng Trống").street
    'Hàng Trống'
    """

    house: str | None = None
    alley: str | None = None
    street: str | None = None


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _house(text: str) -> tuple[str | None, str | None, str]:
    """Strip a house number: (house, alley from "2/224", rest)."""
    m = _HOUSE_RE.match(text)
    if not m:
        return None, None, text
    house, rest, alley = m.group(1), text[m.end() :], None
    if "/" in house:  # "2/224 Hoàng Mai": house 2 in alley 224
        first, *alleys = house.split("/")
        house, alley = first, alleys[-1]
    return (house.lstrip("0") or "0"), alley, rest


def _cut(text: str) -> str:
    """Drop the text from the first unit/district/province word (or " - ") that follows a name.

    A unit word right after a street word is part of the street's name ("Phố Xã Đàn"), and
    so is a dash after one ("đường Bích Hòa - Cao Viên", a road between two places) unless a
    unit or area follows it ("Phố Quang Trung - TT Vân Đình").
    """
    for m in _CUT_RE.finditer(text + " "):
        before = _house(text[: m.start()].strip())[2].strip()
        if m.group(0).strip() in ("-", "–"):
            after = text[m.end() :]
            if not _STREET_WORD_RE.match(before) or _CUT_RE.match(after) or _AREA_RE.match(after):
                return text[: m.start()].strip()
        elif not before or not _STREET_WORD_RE.match(before + " "):
            return text[: m.start()].strip()
    return text.strip()


def parse_street_part(part: str) -> StreetAddress:
    """Read house number, alley and street from one part of an address (no commas).

    Parameters
    ----------
    part
        One comma-free part, e.g. ``"Số 5 ngõ 12 phố Vạn Hạnh"``.

    Returns
    -------
    StreetAddress
        The parts found; ``street`` is ``None`` when the part names an area ("Thôn Bặn") or
        only a unit.

    Examples
    --------
    >>> parse_street_part("Số 5 ngõ 12 phố Vạn Hạnh")
    StreetAddress(house='5', alley='12', street='Vạn Hạnh')
    >>> parse_street_part("ngách 3 ngõ 12 Láng Hạ").alley
    '12'
    >>> parse_street_part("Số 04 Quang Trung Phường Thanh Xuân").street
    'Quang Trung'
    >>> parse_street_part("218 Đội Cấn").street, parse_street_part("Đội 5").street
    ('Đội Cấn', None)
    >>> parse_street_part("Phố Xã Đàn").street
    'Xã Đàn'
    >>> parse_street_part("2/224 đường Hoàng Mai")
    StreetAddress(house='2', alley='224', street='Hoàng Mai')
    """
    text = _cut(normalize_name(part))
    house, alley, text = _house(text)
    while m := _ALLEY_RE.match(text):  # "ngách 3 ngõ 12 X": keep the last (the ngõ)
        alley, text = m.group(1), text[m.end() :]
        if house is None:
            house, _, text = _house(text)
    text = text.strip(" ,-–")
    if not text or _AREA_RE.match(text):
        return StreetAddress(house, alley, None)
    if m := _STREET_WORD_RE.match(text):
        word, name = m.group(1), text[m.end() :].strip()
        keep = name[:1].isdigit() or word.lower() in _ROAD_WORDS
        text = f"{word} {name}" if keep else name
    return StreetAddress(house, alley, _capitalise(text) if text else None)


def starts_with_street_word(part: str) -> bool:
    """Return True when a part of an address starts with an alley or a street word.

    Parameters
    ----------
    part
        One comma-free part of an address.

    Returns
    -------
    bool
        True for "ngõ 25 Vũ Ngọc Phan", "phố Kim Mã", "Quốc lộ 6"; False for "Kim Mã".

    Examples
    --------
    >>> starts_with_street_word("phố Kim Mã"), starts_with_street_word("Kim Mã")
    (True, False)
    """
    text = normalize_name(part)
    return bool(_ALLEY_RE.match(text) or _STREET_WORD_RE.match(text))


def _names_street(part: str) -> bool:
    """Tell whether a part starts with a house number, an alley or a street word."""
    return bool(_HOUSE_RE.match(normalize_name(part))) or starts_with_street_word(part)


def parse_street_address(address: str) -> StreetAddress:
    """Read the house number, alley and street of a whole address.

    Parameters
    ----------
    address
        A Vietnamese address, e.g. ``"Số 126 Hàng Trống, phường Hoàn Kiếm"``.

    Returns
    -------
    StreetAddress
        From the first part with a house number, an alley or a street word (a part that is
        only a house number, "Số 126, Hàng Trống", lends it to the next part); else from the
        first part, unless that names an area.

    Examples
    --------
    >>> parse_street_address("Số 525, phố Kim Mã, phường Giảng Võ")
    StreetAddress(house='525', alley=None, street='Kim Mã')
    >>> parse_street_address("Times City, 458 Minh Khai, phường Vĩnh Tuy").street
    'Minh Khai'
    >>> parse_street_address("Đường Dương Đức Hiền, thôn Cừ Keo, xã Thuận An").street
    'Dương Đức Hiền'
    >>> parse_street_address("D2 Giảng Võ, Ba Đình")
    StreetAddress(house='D2', alley=None, street='Giảng Võ')
    >>> parse_street_address("Số 51 Tòa Nhà HH 3C Linh Đàm, Hoàng Liệt").street is None
    True
    >>> parse_street_address("Tổ dân phố 4, phường Phú Lương")
    StreetAddress(house=None, alley=None, street=None)
    """
    parts = [p.strip() for p in normalize_name(str(address or "")).split(",") if p.strip()]
    if not parts:
        return StreetAddress()
    for i, part in enumerate(parts):
        if not _names_street(part):
            continue
        found = parse_street_part(part)
        only_house = not _house(_cut(normalize_name(part)))[2].strip(" ,")
        if found.street is None and only_house and found.house is not None and i + 1 < len(parts):
            nxt = parse_street_part(parts[i + 1])
            if nxt.street is not None and nxt.house is None:
                return StreetAddress(found.house, nxt.alley or found.alley, nxt.street)
        return found
    return parse_street_part(parts[0])


def street_key(name: str) -> str:
    """Return the comparable form of a street name: type word dropped, case folded.

    Parameters
    ----------
    name
        A street name as written or as mapped in OpenStreetMap.

    Returns
    -------
    str
        The key; equal keys name the same street.

    Examples
    --------
    >>> street_key("Phố Hàng Trống") == street_key("hàng trống")
    True
    >>> street_key("Đại lộ Thăng Long"), street_key("Đường 419")
    ('đại lộ thăng long', 'đường 419')
    """
    key = name_key(name)
    for word in _STREET_WORDS:
        if key.startswith(word + " "):
            rest = key[len(word) + 1 :]
            # as the grammar reads them: "Quốc lộ 3" and "Đường 419" keep their word
            return key if word in _ROAD_WORDS or rest[:1].isdigit() else rest
    return key


def match_address_key(found: StreetAddress, street_keys: Iterable[str]) -> str | None:
    """Return the street key an address names: its alley when the network names it, else its street.

    Parameters
    ----------
    found
        The street of an address (:func:`parse_street_address`).
    street_keys
        Comparable street names (:func:`street_key`).

    Returns
    -------
    str or None
        The matched key.

    Examples
    --------
    >>> found = parse_street_address("Số nhà 36A ngõ 647 Lạc Long Quân, Xuân La")
    >>> match_address_key(found, ["lạc long quân", "ngõ 647 lạc long quân"])
    'ngõ 647 lạc long quân'
    >>> match_address_key(found, ["lạc long quân"])
    'lạc long quân'
    """
    keys = [str(k) for k in street_keys]
    if found.alley and found.street:
        hit = match_street_key(f"ngõ {found.alley} {found.street}", keys)
        if hit is not None:
            return hit
    return match_street_key(found.street, keys)


def match_street_key(street: str | None, street_keys: Iterable[str]) -> str | None:
    """Return the longest key that the street name starts with (whole words), or ``None``.

    An address without commas runs its street into the next name ("51 Vũ Trọng Phụng Thanh
    Xuân"); the road network's keys say where the street ends.

    Parameters
    ----------
    street
        A street name (:attr:`StreetAddress.street`).
    street_keys
        Comparable street names (:func:`street_key`).

    Returns
    -------
    str or None
        The matched key.

    Examples
    --------
    >>> match_street_key("Vũ Trọng Phụng Thanh Xuân", ["vũ trọng phụng", "thanh xuân", "vũ"])
    'vũ trọng phụng'
    >>> match_street_key("Khương Hạ", ["khương đình"]) is None
    True
    """
    if not street:
        return None
    key = street_key(street)
    best: str | None = None
    for k in street_keys:
        k = str(k)
        if len(k) >= 3 and (key == k or key.startswith(k + " ")) and (best is None or len(k) > len(best)):
            best = k
    return best
