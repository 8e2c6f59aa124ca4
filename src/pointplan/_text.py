"""Vietnamese text normalisation used for every name join.

Two conventions for tone-mark placement coexist in Vietnamese text: the "old" one
(``Hoà``, ``Thuỷ``) and the "new" one (``Hòa``, ``Thủy``) used by the Ministry of Education
since 2018 and by most government documents. The reference data mixes them. pointplan
normalises to **Unicode NFC with the new convention** (tone on the first vowel of a
final ``oa``/``oe``/``uy`` without a following consonant), so ``Hoà`` and ``Hòa`` compare
equal.

Examples
--------
>>> from pointplan import normalize_name, name_key
>>> normalize_name("  Xã  Ứng Hoà ")
'Xã Ứng Hòa'
>>> name_key("P. Thuỵ Khuê") == name_key("Phường Thụy Khuê")
True
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["name_key", "normalize_name", "strip_unit_prefix"]

# Tone marks (combining) and the base vowels they sit on.
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}

# Old-style -> new-style placement for a syllable that ends in oa/oe/uy (no final consonant).
_PAIR = re.compile(r"(?<![qQ])([oO][aAeE]|[uU][yY])([\u0300\u0301\u0303\u0309\u0323])(?=$|[^\w\u0300-\u036f])")

_PREFIXES = (
    "thành phố",
    "thị trấn",
    "phường",
    "xã",
    "quận",
    "huyện",
    "tp.",
    "tt.",
    "p.",
    "x.",
    "q.",
    "h.",
)

_SPACES = re.compile(r"\s+")

# Invisible characters that web pages and Excel leave in copied names: zero-width space,
# non-joiner, joiner, word joiner, byte-order mark, soft hyphen.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def normalize_name(text: str) -> str:
    """Normalise a Vietnamese name for display and comparison.

    NFC, the new tone-mark convention, single spaces, no leading or trailing space, no
    invisible characters (zero-width spaces, byte-order marks).
    Case and prefixes ("Phường", "Xã") are kept.

    Parameters
    ----------
    text
        Any name or address.

    Returns
    -------
    str
        The normalised text.

    Examples
    --------
    >>> normalize_name("Hoa\u0300ng Liê\u0323t")  # NFD input
    'Hoàng Liệt'
    """
    if not isinstance(text, str):
        msg = f"normalize_name expects a string, got {type(text).__name__}: {text!r}"
        raise TypeError(msg)
    decomposed = unicodedata.normalize("NFD", _INVISIBLE.sub("", text))
    # In NFD, "oà" is o, a, U+0300: move the tone onto the first vowel.
    moved = _PAIR.sub(lambda m: m.group(1)[0] + m.group(2) + m.group(1)[1], decomposed)
    out = unicodedata.normalize("NFC", moved)
    return _SPACES.sub(" ", out).strip()


def strip_unit_prefix(text: str) -> str:
    """Remove a leading unit type ("Phường", "P.", "Xã", "TT.", ...) from a name.

    Examples
    --------
    >>> strip_unit_prefix("Phường Hoàn Kiếm")
    'Hoàn Kiếm'
    >>> strip_unit_prefix("P.Tây Hồ")
    'Tây Hồ'
    """
    name = normalize_name(text)
    low = name.lower()
    for prefix in _PREFIXES:
        if low.startswith(prefix):
            rest = name[len(prefix) :]
            if prefix.endswith(".") or rest[:1].isspace():
                return rest.strip()
    return name


def name_key(text: str, *, keep_prefix: bool = False) -> str:
    """Return the join key of a name: normalised, lower case, without unit prefix.

    Parameters
    ----------
    text
        A unit name in any common form ("Phường Hoàn Kiếm", "P. Hoàn Kiếm", "hoàn kiếm").
    keep_prefix
        Keep the unit type ("phường"/"xã") in the key, for sources where a phường and
        a xã share a name.

    Returns
    -------
    str
        A key for joins; equal keys mean the same name.
    """
    name = normalize_name(text)
    if not keep_prefix:
        name = strip_unit_prefix(name)
    return name.casefold()
