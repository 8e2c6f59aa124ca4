"""Vietnamese addresses: normalising, parsing, finding the unit they name, building queries.

Hanoi's published addresses mix conventions: "Số 79A ngõ 25 Vũ Ngọc Phan, phường Láng",
"2/224 đường Hoàng Mai", "Thôn Trạch Bái, xã Ứng Hòa", abbreviations ("P.", "Q.", "KĐT"),
the 2025 unit names beside the old district names people still write ("quận Cầu Giấy").
This module turns such text into a :class:`ParsedAddress` (house number, street, place,
unit, old district, province), resolves the unit(s) the address names to 2025 unit codes
(an old ward name resolves to every 2025 unit it was split into) and builds the Nominatim
queries, structured where the address parses into a house number and a street.

Examples
--------
>>> p = parse_address("Số 79A ngõ 25 Vũ Ngọc Phan, P. Láng, Q. Đống Đa, TP Hà Nội")
>>> p.house, p.street, p.unit, p.district, p.province
('79A', 'Ngõ 25 Vũ Ngọc Phan', 'Phường Láng', 'Quận Đống Đa', 'Hà Nội')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from pointplan._address import parse_street_part, starts_with_street_word
from pointplan._text import name_key, normalize_name

__all__ = [
    "OTHER_PROVINCES",
    "ParsedAddress",
    "build_queries",
    "normalize_address",
    "parse_address",
    "resolve_units",
]

_OTHER_PROVINCE_NAMES = (
    "Huế; Thừa Thiên Huế; Lai Châu; Điện Biên; Sơn La; Lạng Sơn; Quảng Ninh; Thanh Hóa; "
    "Nghệ An; Hà Tĩnh; Cao Bằng; Tuyên Quang; Lào Cai; Thái Nguyên; Phú Thọ; Bắc Ninh; "
    "Hưng Yên; Hải Phòng; Ninh Bình; Quảng Trị; Đà Nẵng; Quảng Ngãi; Gia Lai; Khánh Hòa; "
    "Lâm Đồng; Đắk Lắk; Hồ Chí Minh; Thành phố Hồ Chí Minh; Sài Gòn; Đồng Nai; Tây Ninh; "
    "Cần Thơ; Vĩnh Long; Đồng Tháp; Cà Mau; An Giang; Bắc Giang; Hải Dương; Vĩnh Phúc; "
    "Hòa Bình; Hà Nam; Nam Định; Thái Bình; Yên Bái; Hà Giang; Bắc Kạn; Quảng Bình; "
    "Kon Tum; Bình Định; Phú Yên; Ninh Thuận; Bình Thuận; Đắk Nông; Bình Phước; "
    "Bình Dương; Bà Rịa - Vũng Tàu; Long An; Tiền Giang; Bến Tre; Trà Vinh; Sóc Trăng; "
    "Hậu Giang; Bạc Liêu; Kiên Giang; Quảng Nam"
)
#: Province-level names other than Hà Nội (name keys): the 34 units of 2025 and the provinces
#: merged into them, so an address ending in one of them is reported as outside Hanoi.
OTHER_PROVINCES: frozenset[str] = frozenset(name_key(n) for n in _OTHER_PROVINCE_NAMES.split("; "))

_HANOI = frozenset({name_key("Hà Nội"), name_key("Hanoi"), name_key("Ha Noi")})

# Abbreviations -> full words. A trailing "." is part of the abbreviation; without one the
# abbreviation must end the word ("TP Hà Nội", "KĐT Văn Phú").
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"tp\.?\s*hcm", "thành phố Hồ Chí Minh"),
    (r"tp", "thành phố"),
    (r"tx", "thị xã"),
    (r"tt", "thị trấn"),
    (r"p\.", "phường"),
    (r"q\.", "quận"),
    (r"h\.", "huyện"),
    (r"x\.", "xã"),
    (r"kđt", "khu đô thị"),
    (r"tdp", "tổ dân phố"),
    (r"đ\.", "đường"),
    (r"hẻm", "ngõ"),  # southern word for an alley; Hanoi's OSM names say "Ngõ"
    (r"kiệt", "ngõ"),  # central Vietnam's word for an alley
)
_ABBREV_RE = [
    (re.compile(rf"(?i)(?<![\w.]){pat}" + (r"\s*" if pat.endswith(".") else r"(?:\.|(?!\w))\s*")), full + " ")
    for pat, full in _ABBREVIATIONS
]
_PARENS = re.compile(r"\([^)]*\)")
_COUNTRY = re.compile(r"(?i),?\s*(việt nam|vietnam|viet nam)\s*$")

_UNIT_RE = re.compile(r"(?i)(?:^|\s)(phường|thị trấn|(?<!thị )xã)\s+(.+)$")
_DISTRICT_RE = re.compile(r"(?i)(?:^|\s)(quận|huyện|thị xã)\s+(.+)$")
_PROVINCE_RE = re.compile(r"(?i)^(?:thành phố|tỉnh)\s+(.+)$")
# Words that introduce a village or area, most specific first.
_PLACE_RES = [
    re.compile(rf"(?i)(?:^|\s){kw}\s+(.+)$")
    for kw in ("thôn", "xóm", "tổ dân phố", "tổ", "khu đô thị mới", "khu đô thị", "tiểu khu", "khu dân cư", "khu")
]
_LOT_RE = re.compile(r"(?i)^(lô|tòa nhà|tòa|nhà|trụ sở)\b")


@dataclass(frozen=True)
class ParsedAddress:
    """An address split into the parts a geocoder can use (each ``None`` when absent).

    Attributes
    ----------
    text
        The normalised address (see :func:`normalize_address`).
    house
        House number, e.g. ``"79A"`` (leading zeros dropped).
    street
        Street or alley name without "phố"/"đường", e.g. ``"Ngõ 25 Vũ Ngọc Phan"``.
    place
        A village, residential group or urban area, e.g. ``"Trạch Bái"`` for "Thôn Trạch Bái".
    names
        Other named parts (a building, a mall), e.g. ``("Times City",)``.
    unit
        The commune-level unit as written, e.g. ``"Phường Láng"``.
    district
        The (pre-2025) district as written, e.g. ``"Quận Đống Đa"``.
    province
        The province or centrally-run city, e.g. ``"Hà Nội"``.

    Examples
    --------
    >>> ParsedAddress(text="Thôn Bặn, xã Yên Bài", place="Bặn", unit="Xã Yên Bài").place
    'Bặn'
    """

    text: str
    house: str | None = None
    street: str | None = None
    place: str | None = None
    names: tuple[str, ...] = field(default_factory=tuple)
    unit: str | None = None
    district: str | None = None
    province: str | None = None

    @property
    def in_other_province(self) -> bool:
        """True when the address names a province other than Hà Nội."""
        return self.province is not None and name_key(self.province) not in _HANOI


def normalize_address(text: str) -> str:
    """Normalise a Vietnamese address: Unicode, spaces, abbreviations, no notes in brackets.

    Parameters
    ----------
    text
        An address as published or typed.

    Returns
    -------
    str
        NFC text with the new tone-mark convention (:func:`pointplan.normalize_name`),
        abbreviations written out ("P." → "phường", "KĐT" → "khu đô thị", "hẻm" → "ngõ"),
        bracketed notes and a final "Việt Nam" removed, one space after each comma.

    Examples
    --------
    >>> normalize_address("  số 2/224 Đ. Hoàng Mai,P.Tương Mai (cũ: Q. Hoàng Mai) , Việt Nam")
    'số 2/224 đường Hoàng Mai, phường Tương Mai'
    """
    out = normalize_name(_PARENS.sub(" ", text))
    out = _COUNTRY.sub("", out)
    for pattern, full in _ABBREV_RE:
        out = pattern.sub(full, out)
    parts = [normalize_name(p) for p in out.split(",")]
    return ", ".join(p for p in parts if p)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _street_part(text: str) -> tuple[str | None, str | None]:
    """Split "79A ngõ 25 Vũ Ngọc Phan" style text into (house, street) with the address grammar.

    The street of a geocoding query keeps its alley ("Ngõ 25 Vũ Ngọc Phan"): Hanoi's
    OpenStreetMap names alleys that way.
    """
    found = parse_street_part(text)
    if found.street is None:
        return found.house, (f"Ngõ {found.alley}" if found.alley else None)
    street = f"Ngõ {found.alley} {found.street}" if found.alley else found.street
    return found.house, street


def _names_street(part: str) -> bool:
    return starts_with_street_word(part)


def _place_name(text: str) -> str | None:
    """Return the name of a village or area ("Thôn 4 - Hồng Kỳ" → "Hồng Kỳ"); None if only a number."""
    name = text.split(" - ")[-1].strip()
    name = re.sub(r"(?i)^(số\s+)?\d+\s*", "", name)
    name = re.sub(r"(?i)^trung tâm\s+", "", name).strip()
    return _capitalise(name) if name and not name.isdigit() else None


def parse_address(text: str) -> ParsedAddress:
    """Parse a Vietnamese address into house number, street, place, unit, district, province.

    Parameters
    ----------
    text
        The address, in any of the forms Hanoi publishes.

    Returns
    -------
    ParsedAddress
        The parts found; missing parts are ``None``.

    Examples
    --------
    >>> p = parse_address("Số 2/224 đường Hoàng Mai, phường Tương Mai")
    >>> p.house, p.street, p.unit
    ('2', 'Ngõ 224 Hoàng Mai', 'Phường Tương Mai')
    >>> p = parse_address("Đường Dương Đức Hiền, thôn Cừ Keo, xã Thuận An, huyện Gia Lâm")
    >>> p.street, p.place, p.unit, p.district
    ('Dương Đức Hiền', 'Cừ Keo', 'Xã Thuận An', 'Huyện Gia Lâm')
    >>> parse_address("12 Lạch Tray, Ngô Quyền, Hải Phòng").in_other_province
    True
    """
    norm = normalize_address(text)
    found: dict[str, str | None] = dict.fromkeys(("house", "street", "place", "unit", "district", "province"))
    names: list[str] = []
    for part in norm.split(", "):
        _parse_part(part, found, names)
    return ParsedAddress(text=norm, names=tuple(names), **found)


def _parse_part(part: str, found: dict[str, str | None], names: list[str]) -> None:
    """Parse one comma-separated part of an address into ``found`` and ``names``."""
    if m := _PROVINCE_RE.match(part):
        found["province"] = _capitalise(m.group(1))
        return
    if name_key(part) in _HANOI or name_key(part) in OTHER_PROVINCES:
        found["province"] = _capitalise(part)
        return
    if m := _DISTRICT_RE.search(part):
        found["district"] = _capitalise(f"{m.group(1).lower()} {m.group(2)}")
        part = part[: m.start()].strip()
    if m := _UNIT_RE.search(part):
        found["unit"] = _capitalise(f"{m.group(1).lower()} {m.group(2)}")
        part = part[: m.start()].strip()
    if not part:
        return
    for pattern in _PLACE_RES:
        if m := pattern.search(part):
            found["place"] = found["place"] or _place_name(m.group(1))
            part = part[: m.start()].strip(" -")
    if not part:
        return
    if _LOT_RE.match(part):
        return
    house, street = _street_part(part)
    if house is None and street is not None and found["street"] is None and not names and found["place"] is None:
        if any(ch.isdigit() for ch in street) or _names_street(part):
            found["street"] = street
        else:
            names.append(street)
        return
    if house is not None:
        found["house"] = found["house"] or house
    if street is not None:
        if found["street"] is None and (house is not None or _names_street(part)):
            found["street"] = street
        else:
            names.append(street)


def resolve_units(
    parsed: ParsedAddress,
    units: pd.DataFrame,
    old_to_new: pd.DataFrame,
    declared: str | None = None,
) -> tuple[tuple[str, ...], str]:
    """Return the 2025 unit codes an address names, and how they were found.

    Parameters
    ----------
    parsed
        The parsed address.
    units
        The 2025 units, indexed by code, with ``name`` and ``kind`` (``phuong``/``xa``).
    old_to_new
        The pre-2025 → 2025 mapping (:func:`pointplan.data.load_old_to_new`).
    declared
        The unit the address belongs to by other means (the unit whose head office it is),
        used when the address names no unit.

    Returns
    -------
    tuple
        ``(codes, how)``: the codes (one, or several for an old ward split in 2025) and a
        short explanation. ``codes`` is empty when the unit cannot be found.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"name": ["Láng"], "kind": ["phuong"]}, index=["00229"])
    >>> old = pd.DataFrame({"old_ward": ["Phường Láng Thượng"], "old_district": ["Quận Đống Đa"],
    ...                     "new_ward_code": ["00229"]})
    >>> resolve_units(parse_address("1 Chùa Láng, phường Láng"), units, old)
    (('00229',), 'the address names Phường Láng')
    >>> resolve_units(parse_address("1 Chùa Láng, P. Láng Thượng"), units, old)[0]
    ('00229',)
    >>> resolve_units(parse_address("Số 8 ngõ 6 phố Bùi Huy Bích"), units, old, "00229")
    (('00229',), 'the address names no unit; the point belongs to 00229')
    """
    if parsed.unit is None:
        if declared:
            return (declared,), f"the address names no unit; the point belongs to {declared}"
        return (), "the address names no unit and the point declares none"
    key = name_key(parsed.unit)
    kind = "xa" if parsed.unit.lower().startswith("xã") else "phuong"
    unit_keys = units["_name_key"] if "_name_key" in units.columns else units["name"].map(name_key)
    hits = units.index[(unit_keys == key).to_numpy()]
    if len(hits) > 1:
        hits = units.index[((unit_keys == key) & (units["kind"] == kind)).to_numpy()]
    if len(hits) >= 1:
        return (str(hits[0]),), f"the address names {parsed.unit}"
    old_keys = old_to_new["_name_key"] if "_name_key" in old_to_new.columns else old_to_new["old_ward"].map(name_key)
    old = old_to_new[(old_keys == key).to_numpy()]
    if parsed.district is not None and len(old):
        in_district = old[old["old_district"].map(name_key) == name_key(parsed.district)]
        old = in_district if len(in_district) else old
    codes = tuple(sorted({str(c) for c in old["new_ward_code"]}))
    if codes:
        return codes, f"the address names the former {parsed.unit}, now in {', '.join(codes)}"
    return (), (
        f"the address names {parsed.unit}, which is neither a 2025 unit of Hà Nội nor a ward of the "
        "pre-2025 → 2025 mapping"
    )


def build_queries(parsed: ParsedAddress) -> list[dict[str, str]]:
    """Return the Nominatim queries to try for an address, most precise first.

    A structured query (``street`` = house number and street) when both parsed; then the
    street alone; then the village or area and other named parts; then the whole address
    as free text. The unit is left out of the queries on purpose: OpenStreetMap may still
    use the pre-2025 names, and the candidates are checked against the unit's polygon.

    Parameters
    ----------
    parsed
        The parsed address.

    Returns
    -------
    list of dict
        Query parameters (``street``/``city``/``country`` or ``q``), without the common ones.

    Examples
    --------
    >>> build_queries(parse_address("Số 2, phố Trúc Bạch, phường Ba Đình"))
    [{'street': '2 Trúc Bạch', 'city': 'Hà Nội', 'country': 'Việt Nam'}, {'q': 'Trúc Bạch, Hà Nội'}]
    >>> build_queries(parse_address("Thôn Trạch Bái, xã Ứng Hòa"))
    [{'q': 'Trạch Bái, Hà Nội'}, {'q': 'Thôn Trạch Bái, Xã Ứng Hòa, Hà Nội'}]
    """
    queries: list[dict[str, str]] = []
    if parsed.house and parsed.street:
        queries.append({"street": f"{parsed.house} {parsed.street}", "city": "Hà Nội", "country": "Việt Nam"})
    for name in (parsed.street, parsed.place, *parsed.names):
        if name:
            queries.append({"q": f"{name}, Hà Nội"})
    if not parsed.street:
        parts = [p for p in parsed.text.split(", ") if name_key(p) not in _HANOI]
        if parts:
            queries.append({"q": _capitalise(", ".join(_capitalise(p) for p in parts)) + ", Hà Nội"})
    unique: list[dict[str, str]] = []
    for q in queries:
        if q not in unique:
            unique.append(q)
    return unique
