from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pointplan import name_key, normalize_name
from pointplan._text import strip_unit_prefix


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ứng Hoà", "Ứng Hòa"),
        ("Thuỵ Khuê", "Thụy Khuê"),
        ("Khoẻ", "Khỏe"),
        ("HOÀ", "HÒA"),
        ("Hoàng Liệt", "Hoàng Liệt"),  # tone before a final consonant stays
        ("Quý", "Quý"),  # "qu" is a consonant: no move
        ("Xã Thuận An", "Xã Thuận An"),  # "uâ" is no oa/oe/uy pair: the dot stays
        ("Hiệp Thuận", "Hiệp Thuận"),
        ("Thuyết", "Thuyết"),
        ("  Xã   Dương  Hoà ", "Xã Dương Hòa"),
        (unicodedata.normalize("NFD", "Hoàn Kiếm"), "Hoàn Kiếm"),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("P. Thuỵ Khuê", "Phường Thụy Khuê"),
        ("xã ứng hoà", "Ứng Hòa"),
        ("P.Tây Hồ", "phường tây hồ"),
        ("TT. Chúc Sơn", "Thị trấn Chúc Sơn"),
        (unicodedata.normalize("NFD", "Phường Hoàng Liệt"), "Hoàng Liệt"),
    ],
)
def test_name_key_equal(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_name_key_keeps_distinct_names_apart() -> None:
    assert name_key("Phường Hoà Bình") != name_key("Phường Hoà Khánh")
    assert name_key("Xã Tây Hồ", keep_prefix=True) != name_key("Phường Tây Hồ", keep_prefix=True)


def test_strip_prefix_does_not_cut_names_that_start_like_a_prefix() -> None:
    # "Xã" followed by no space inside a word must not be stripped.
    assert strip_unit_prefix("Xãnh") == "Xãnh"
    assert strip_unit_prefix("Phường Xá") == "Xá"


def test_normalize_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="expects a string"):
        normalize_name(None)  # type: ignore[arg-type]


@given(st.text())
def test_normalize_is_idempotent_and_nfc(s: str) -> None:
    once = normalize_name(s)
    assert normalize_name(once) == once
    assert unicodedata.is_normalized("NFC", once)
