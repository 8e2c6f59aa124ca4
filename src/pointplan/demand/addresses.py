"""Pre-2025 ward names and codes in records converted to the 2025 units.

Dossier records often carry pre-2025 ward names or codes. They are converted to the 2025
unit codes with the old→new mapping (``hanoi/old_to_new_units.csv``, from the
``vietnamadminunits`` 1.0.4 tables). The package itself is not called: for split wards its
``convert_address`` geocodes online (arcgis), which pointplan never does unasked.

How :func:`convert_old_units` matches and splits:

Names are matched in any common spelling: with or without the unit type ("Phường",
"P.", "Xã", "Thị trấn", "TT."), NFC or NFD Unicode, old or new tone placement
("Hoà"/"Hòa"), stray spaces and case; as a last resort without diacritics
("Xuan La", match ``"name_ascii"``). Names shared by several old wards are resolved by
the old district (``district_col``) or the unit type ("Thị trấn Yên Viên" vs "Xã Yên
Viên"); otherwise they are reported as ambiguous. Old ward codes (``code_col``) take
precedence over names.

A pre-2025 ward split between several 2025 units is handled by ``split``:

- ``"default"``: the whole record goes to the mapping's default unit for that ward
  (``is_default_new_ward``; the unit holding the old ward's main part), ``share`` 1;
- ``"all"``: one row per receiving unit, equal shares (1/k);
- ``"population"``: one row per receiving unit, shares in proportion to the receiving
  units' official 2025 population. The size of each part is not published, so this is
  a proxy: it sends more of the record to the more populous unit.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError
from pointplan._text import name_key, normalize_name
from pointplan.data import load_old_to_new, load_units
from pointplan.demand._units import _unit_codes

__all__ = ["ConversionResult", "aggregate_dossiers", "convert_old_units"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


@dataclass
class ConversionResult:
    """Outcome of :func:`convert_old_units`.

    Attributes
    ----------
    records
        The matched records (input columns kept, input index kept; a record split over
        several new units appears once per unit) with ``old_ward_code``, ``old_ward``,
        ``new_unit_code``, ``new_unit_name``, ``match`` (``"code"``, ``"name"``,
        ``"name+district"``, ``"name_ascii"``, ``"new_name"``), ``whole_or_part``,
        ``share`` (fraction of the record given to that unit; sums to 1 per record) and
        ``note``.
    unmatched
        The records that could not be converted, input columns kept, with ``reason``.
    split
        The split rule used.

    Examples
    --------
    >>> records = pd.DataFrame({"match": ["name", "code"], "share": [1.0, 1.0]}, index=[0, 1])
    >>> unmatched = pd.DataFrame({"reason": ["unknown old ward name 'X'"]}, index=[2])
    >>> res = ConversionResult(records=records, unmatched=unmatched, split="default")
    >>> res.n_records, res.n_unmatched
    (3, 1)
    >>> res.summary().to_dict()
    {'name': 1, 'code': 1, 'unmatched': 1, 'total': 3}
    """

    records: pd.DataFrame
    unmatched: pd.DataFrame
    split: str

    @property
    def n_records(self) -> int:
        """Number of input records."""
        return int(self.records.index.nunique()) + len(self.unmatched)

    @property
    def n_unmatched(self) -> int:
        """Number of input records not converted."""
        return len(self.unmatched)

    def summary(self) -> pd.Series:
        """Count records by match kind, plus ``unmatched`` and ``total``."""
        first = self.records[~self.records.index.duplicated()]
        s = first["match"].value_counts()
        s["unmatched"] = len(self.unmatched)
        s["total"] = self.n_records
        return s


_TYPE_PREFIXES = (
    ("thị trấn", "thi_tran"),
    ("tt.", "thi_tran"),
    ("phường", "phuong"),
    ("p.", "phuong"),
    ("xã", "xa"),
    ("x.", "xa"),
)
_DISTRICT_EXTRA = re.compile(r"^(thị xã|tx\.?|tp\.?|thành phố|quận|huyện|q\.|h\.)\s*", re.I)


def _unit_type(text: str) -> str | None:
    low = normalize_name(text).casefold()
    for prefix, kind in _TYPE_PREFIXES:
        if low.startswith(prefix) and (prefix.endswith(".") or low[len(prefix) :][:1].isspace()):
            return kind
    return None


def _ascii_key(key: str) -> str:
    s = unicodedata.normalize("NFD", key.replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^0-9a-z]+", " ", s.casefold()).strip()
    # Unit types typed without accents ("Phuong Xuan La"); not "xa", which starts real
    # names (phường Xa La).
    return re.sub(r"^(phuong|thi tran|quan|huyen)\s+", "", s)


def _district_key(text: str) -> str:
    key = normalize_name(text).casefold()
    key = _DISTRICT_EXTRA.sub("", key).strip()
    return name_key(key)


def _clean_code(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return None
    if isinstance(value, (int, np.integer)):
        return f"{int(value):05d}"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{int(value):05d}"
    s = str(value).strip()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    return s.zfill(5) if s.isdigit() else s or None


def _is_blank(value: object) -> bool:
    return (
        value is None
        or (not isinstance(value, str) and pd.isna(value))
        or (isinstance(value, str) and not value.strip())
    )


class _OldUnits:
    """Lookup tables over the mapping file (one row per old ward)."""

    def __init__(self, mapping: pd.DataFrame, new_names: pd.Series, new_kinds: pd.Series) -> None:
        need = [
            "old_district",
            "old_ward_code",
            "old_ward",
            "new_ward_code",
            "new_ward",
            "whole_or_part",
            "is_default_new_ward",
        ]
        missing = [c for c in need if c not in mapping.columns]
        if missing:
            msg = f"mapping lacks the column(s) {missing}; use pointplan.data.load_old_to_new()."
            raise InputError(msg)
        self.mapping = mapping.assign(
            old_ward_code=mapping["old_ward_code"].astype(str).str.zfill(5),
            new_ward_code=mapping["new_ward_code"].astype(str).str.zfill(5),
        )
        old = self.mapping.drop_duplicates("old_ward_code").set_index("old_ward_code")
        self.old = pd.DataFrame(
            {
                "old_ward": old["old_ward"],
                "key": old["old_ward"].map(name_key),
                "ascii": old["old_ward"].map(lambda s: _ascii_key(name_key(s))),
                "kind": old["old_ward"].map(_unit_type),
                "district": old["old_district"],
                "dkey": old["old_district"].map(_district_key),
                "dascii": old["old_district"].map(lambda s: _ascii_key(_district_key(s))),
            }
        )
        self.by_key = self.old.groupby("key").groups
        self.by_ascii = self.old.groupby("ascii").groups
        self.rows = self.mapping.groupby("old_ward_code").indices
        self.new_names = new_names
        nk = pd.Series(new_names.index, index=new_names.map(name_key).to_numpy())
        self.new_by_key = nk[~nk.index.duplicated(keep=False)]
        self.new_by_kind_key = {
            (kind, name_key(name)): str(code)
            for code, name, kind in zip(new_names.index, new_names, new_kinds, strict=True)
        }
        self.dkeys = set(self.old["dkey"]) | set(self.old["dascii"])

    def resolve(self, code: str | None, ward: object, district: object, accept_new: bool) -> _Resolved:
        """Return (old_code | new code, match, reason_if_unmatched, note)."""
        note = ""
        if code is not None:
            if code in self.rows:
                if not _is_blank(ward) and name_key(str(ward)) != self.old.at[code, "key"]:
                    old_name = self.old.at[code, "old_ward"]
                    note = f"name {ward!r} differs from the code's ward {old_name!r}; the code was used"
                return code, "code", "", note
            if _is_blank(ward):
                return None, "", f"unknown old ward code {code!r}", ""
            note = f"unknown old ward code {code!r}; matched by name"
        if _is_blank(ward):
            return None, "", "no ward name or code", ""
        ward_s = str(ward)
        key = name_key(ward_s)
        cands = list(self.by_key.get(key, []))
        match = "name"
        if not cands:
            cands = list(self.by_ascii.get(_ascii_key(key), []))
            match = "name_ascii"
        if not cands:
            if key in self.new_by_key.index:
                return _new_name(str(self.new_by_key[key]), ward_s, accept_new, note)
            return None, "", f"unknown old ward name {ward_s!r}", ""
        old = self.old.loc[cands]
        if not _is_blank(district):
            old, match, note, reason = self._in_district(old, str(district), ward_s, match, note)
            if reason:
                return None, "", reason, ""
        kind = _unit_type(ward_s)
        if kind is not None:
            same = old[old["kind"] == kind]
            if len(same):
                old = same
            elif (kind, key) in self.new_by_kind_key:
                return _new_name(self.new_by_kind_key[(kind, key)], ward_s, accept_new, note)
            else:
                note = _join(note, f"unit type of {ward_s!r} differs from the old unit {old['old_ward'].iloc[0]!r}")
        if len(old) > 1:
            places = ", ".join(f"{w} ({d})" for w, d in zip(old["old_ward"], old["district"], strict=True))
            reason = (
                f"ambiguous: {len(old)} pre-2025 units are called {ward_s!r}: {places}; give "
                "the old district (district_col) or the old ward code (code_col)"
            )
            return None, "", reason, ""
        return str(old.index[0]), match, "", note

    def _in_district(
        self, old: pd.DataFrame, district: str, ward_s: str, match: str, note: str
    ) -> tuple[pd.DataFrame, str, str, str]:
        """Keep the candidates in ``district``: (candidates, match, note, reason if none)."""
        dk = _district_key(district)
        hit = old[(old["dkey"] == dk) | (old["dascii"] == _ascii_key(dk))]
        if len(hit):
            return hit, ("name+district" if match == "name" else match), note, ""
        if dk in self.dkeys or _ascii_key(dk) in self.dkeys:
            places = ", ".join(sorted(set(old["district"])))
            return old, match, note, f"old ward {ward_s!r} is not in district {district!r} (it is in {places})"
        return old, match, _join(note, f"unknown district {district!r} ignored"), ""


#: One resolved key: (old ward code or new unit code, match, reason if unmatched, note).
_Resolved = tuple[str | None, str, str, str]


def _join(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


def _new_name(new_code: str, ward_s: str, accept_new: bool, note: str) -> _Resolved:
    """Resolve a 2025 unit name given as an old ward: accepted only with ``accept_new``."""
    if accept_new:
        return new_code, "new_name", "", note
    reason = (
        f"{ward_s!r} is not a pre-2025 ward but the name of the 2025 unit {new_code}; "
        "pass accept_new=True if the records already use new names"
    )
    return None, "", reason, ""


def _unmatched(
    records: pd.DataFrame, res: pd.DataFrame, pos: npt.NDArray[np.int64], group: npt.NDArray[np.int64]
) -> pd.DataFrame:
    """Return the records not converted, with their ``reason`` (logged when there are any)."""
    unmatched = records.iloc[pos].copy()
    unmatched["reason"] = res["reason"].to_numpy()[group]
    if len(unmatched):
        logger.warning(
            "%d of %d records could not be converted to 2025 units (see result.unmatched)", len(unmatched), len(records)
        )
    return unmatched


def _converted(
    records: pd.DataFrame,
    res: pd.DataFrame,
    expand: pd.DataFrame,
    pos: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    new_names: pd.Series,
) -> pd.DataFrame:
    """Return the converted rows: each matched record once per receiving unit, in input order."""
    rec_groups = pd.DataFrame({"pos": pos, "g": group})
    joined = rec_groups.merge(expand, on="g", how="left", sort=False).sort_values("pos", kind="stable")
    out = records.iloc[joined["pos"].to_numpy()].copy()
    g = joined["g"].to_numpy()
    is_new = res["match"].to_numpy()[g] == "new_name"
    out["old_ward_code"] = np.where(is_new, None, joined["old_ward_code"].to_numpy())
    out["old_ward"] = np.where(is_new, None, joined["old_ward"].to_numpy())
    out["new_unit_code"] = joined["new_unit_code"].to_numpy()
    out["new_unit_name"] = new_names.reindex(joined["new_unit_code"]).to_numpy()
    out["match"] = res["match"].to_numpy()[g]
    out["whole_or_part"] = joined["whole_or_part"].to_numpy()
    out["share"] = joined["share"].to_numpy(dtype=float)
    out["note"] = res["note"].to_numpy()[g]
    return out


def convert_old_units(
    records: pd.DataFrame,
    *,
    ward_col: str | None = "ward",
    district_col: str | None = None,
    code_col: str | None = None,
    split: Literal["default", "population", "all"] = "default",
    accept_new: bool = False,
    mapping: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
) -> ConversionResult:
    """Convert pre-2025 ward names or codes in records to the 2025 unit codes.

    Names match in any common spelling, codes before names, and a split ward follows
    ``split`` (see the module's notes on both).

    Parameters
    ----------
    records
        Dossier (or any) records, one row each.
    ward_col
        Column with the pre-2025 ward/commune name (``None`` when only codes are given).
    district_col, code_col
        Optional columns: the pre-2025 district ("Quận Tây Hồ", "Tây Hồ", "TX. Sơn Tây") and
        5-digit ward code (``"00103"`` or ``103``).
    split
        ``"default"``, ``"all"`` or ``"population"`` (see the module's notes).
    accept_new
        Accept 2025 unit names too (records filed after 1 July 2025; match ``"new_name"``).
        Off by default: many 2025 units reuse an old ward's name (old Ngọc Hà → Ba Đình).
    mapping
        The old→new mapping (default :func:`pointplan.data.load_old_to_new`), e.g. another
        province's, with the same columns.
    units
        The 2025 units with ``name`` and ``population`` (default :func:`pointplan.load_units`).

    Returns
    -------
    ConversionResult
        ``records`` (converted rows: ``new_unit_code``, ``new_unit_name``, ``match``,
        ``share``...) and ``unmatched`` (with ``reason``); each input row is in exactly one.

    Raises
    ------
    InputError
        Missing columns or an unknown ``split``.

    Examples
    --------
    Old Trúc Bạch went whole into 00004; old Kim Mã was split between 00004 (its default)
    and 00008, so with ``split="population"`` its record is shared 300 : 100:

    >>> mapping = pd.DataFrame({
    ...     "old_district": ["Quận Ba Đình"] * 3,
    ...     "old_ward_code": ["00001", "00002", "00002"],
    ...     "old_ward": ["Phường Trúc Bạch", "Phường Kim Mã", "Phường Kim Mã"],
    ...     "new_ward_code": ["00004", "00004", "00008"],
    ...     "new_ward": ["Phường Ba Đình", "Phường Ba Đình", "Phường Giảng Võ"],
    ...     "whole_or_part": ["whole", "part", "part"],
    ...     "is_default_new_ward": [False, True, False]})
    >>> units = pd.DataFrame({"name": ["Ba Đình", "Giảng Võ"], "population": [300, 100]},
    ...                      index=pd.Index(["00004", "00008"], name="code"))
    >>> df = pd.DataFrame({"ward": ["P. Trúc Bạch", "Kim Ma", "Phường Atlantis"]})
    >>> res = convert_old_units(df, split="population", mapping=mapping, units=units)
    >>> res.records[["new_unit_code", "match", "share"]].to_numpy().tolist()
    [['00004', 'name', 1.0], ['00004', 'name_ascii', 0.75], ['00008', 'name_ascii', 0.25]]
    >>> res.unmatched["reason"].tolist()
    ["unknown old ward name 'Phường Atlantis'"]
    >>> convert_old_units(df, mapping=mapping, units=units).records["new_unit_code"].tolist()
    ['00004', '00004']
    """
    _check_request(records, split, ward_col, district_col, code_col)
    new_names, new_pop, new_kinds = _new_units(load_units() if units is None else units, split)
    table = _OldUnits(load_old_to_new() if mapping is None else mapping, new_names, new_kinds)
    group, res = _resolve_records(records, table, (ward_col, district_col, code_col), accept_new)
    ok = res["target"].notna().to_numpy()[group]
    pos = np.arange(len(records))
    unmatched = _unmatched(records, res, pos[~ok], group[~ok])
    out = _converted(records, res, _expand_groups(res, table, split, new_pop), pos[ok], group[ok], new_names)
    return ConversionResult(records=out, unmatched=unmatched, split=split)


def _check_request(
    records: object, split: str, ward_col: str | None, district_col: str | None, code_col: str | None
) -> None:
    """Raise an InputError for a bad ``records`` frame, ``split`` or column names."""
    if not isinstance(records, pd.DataFrame):
        msg = f"records must be a pandas DataFrame, got {type(records).__name__}."
        raise InputError(msg)
    if split not in ("default", "population", "all"):
        msg = f"split must be 'default', 'population' or 'all', got {split!r}."
        raise InputError(msg)
    if ward_col is None and code_col is None:
        msg = "give ward_col (old ward names) and/or code_col (old ward codes)."
        raise InputError(msg)
    for col in (ward_col, district_col, code_col):
        if col is not None and col not in records.columns:
            msg = (
                f"records lacks the column {col!r}; it has {list(map(str, records.columns))}. "
                "Pass ward_col=/district_col=/code_col= naming your columns."
            )
            raise InputError(msg)


def _new_units(units: pd.DataFrame, split: str) -> tuple[pd.Series, pd.Series | None, pd.Series]:
    """Names, populations (or None) and unit types of the 2025 units, by unit code."""
    ucodes = _unit_codes(units)
    new_names = pd.Series(units["name"].astype(str).to_numpy(), index=ucodes)
    new_pop = None
    if "population" in units.columns:
        new_pop = pd.Series(pd.to_numeric(units["population"], errors="coerce").to_numpy(), index=ucodes)
    if split == "population" and new_pop is None:
        msg = "split='population' needs a 'population' column in units."
        raise InputError(msg)
    if "kind" in units.columns:
        new_kinds = units["kind"].astype(str).str.casefold().map(_ascii_key).to_numpy()
    elif "full_name" in units.columns:
        new_kinds = units["full_name"].astype(str).map(_unit_type).to_numpy()
    else:
        new_kinds = np.full(len(units), None, dtype=object)
    return new_names, new_pop, pd.Series(new_kinds, index=ucodes)


def _resolve_records(
    records: pd.DataFrame,
    table: _OldUnits,
    cols: tuple[str | None, str | None, str | None],
    accept_new: bool,
) -> tuple[npt.NDArray[np.intp], pd.DataFrame]:
    """Resolve each distinct (code, ward, district) once: records may be millions of rows.

    Returns the group of each record and one row per group: ``target``, ``match``,
    ``reason``, ``note``.
    """
    ward_col, district_col, code_col = cols
    n = len(records)
    none = pd.Series([None] * n, index=records.index)
    wards = records[ward_col] if ward_col else none
    dists = records[district_col] if district_col else none
    codes = records[code_col].map(_clean_code) if code_col else none
    key_df = pd.DataFrame(
        {"c": codes.to_numpy(dtype=object), "w": wards.to_numpy(dtype=object), "d": dists.to_numpy(dtype=object)}
    )
    key_df = key_df.astype(object).where(key_df.notna(), None)
    group = key_df.groupby(["c", "w", "d"], dropna=False, sort=False).ngroup().to_numpy()
    first_pos = pd.Series(np.arange(n)).groupby(group).first().to_numpy()
    uniq = key_df.iloc[first_pos].reset_index(drop=True)
    resolved = [table.resolve(c, w, d, accept_new) for c, w, d in uniq.itertuples(index=False)]
    return group, pd.DataFrame(resolved, columns=["target", "match", "reason", "note"])


def _expand_groups(res: pd.DataFrame, table: _OldUnits, split: str, new_pop: pd.Series | None) -> pd.DataFrame:
    """One row per (matched group, receiving 2025 unit) with the share of the record."""
    rows = []
    for gi in np.flatnonzero(res["target"].notna().to_numpy()):
        target, match = res.at[gi, "target"], res.at[gi, "match"]
        if match == "new_name":
            rows.append((gi, target, target, "", "whole", 1.0))
            continue
        m = table.mapping.iloc[table.rows[target]]
        if len(m) == 1 or split == "default":
            if len(m) > 1:
                m = m[m["is_default_new_ward"].astype(bool)]
                if len(m) != 1:  # mapping without a single default: take the first
                    m = table.mapping.iloc[table.rows[target][:1]]
            rows.append(
                (gi, target, m["new_ward_code"].iloc[0], m["old_ward"].iloc[0], m["whole_or_part"].iloc[0], 1.0)
            )
            continue
        new_codes = m["new_ward_code"].to_numpy()
        if split == "all" or new_pop is None:
            shares = np.full(len(m), 1.0 / len(m))
        else:
            w = new_pop.reindex(new_codes).fillna(0.0).to_numpy(dtype=float)
            shares = w / w.sum() if w.sum() > 0 else np.full(len(m), 1.0 / len(m))
        for nc, sh, part in zip(new_codes, shares, m["whole_or_part"], strict=True):
            rows.append((gi, target, nc, m["old_ward"].iloc[0], part, float(sh)))
    return pd.DataFrame(rows, columns=["g", "old_ward_code", "new_unit_code", "old_ward", "whole_or_part", "share"])


def aggregate_dossiers(
    records: ConversionResult | pd.DataFrame,
    *,
    weight_col: str | None = None,
    units: pd.DataFrame | None = None,
) -> pd.Series:
    """Count converted dossier records per 2025 unit code.

    Parameters
    ----------
    records
        A :class:`ConversionResult` or its ``records`` frame (``new_unit_code``, ``share``).
    weight_col
        Column with the number of dossiers a row stands for (default: 1 per row).
    units
        When given, the result is reindexed to all its unit codes (zero where none).

    Returns
    -------
    pandas.Series
        Dossiers per new unit code (index ``code``), named ``dossiers``, ready for
        ``visits_per_day(counts=...)``. ``attrs["unmatched"]`` holds the number of records
        left out because they could not be converted.

    Raises
    ------
    InputError
        ``records`` without ``new_unit_code``, or a bad ``weight_col``.

    Examples
    --------
    Three converted rows: a whole record in 00004 standing for 10 dossiers, and a
    record of 4 dossiers split 75 % / 25 % between 00004 and 00008:

    >>> rows = pd.DataFrame({"new_unit_code": ["00004", "00004", "00008"],
    ...                      "share": [1.0, 0.75, 0.25], "n": [10, 4, 4]})
    >>> aggregate_dossiers(rows, weight_col="n").to_dict()
    {'00004': 13.0, '00008': 1.0}
    """
    unmatched = 0
    if isinstance(records, ConversionResult):
        unmatched = records.n_unmatched
        frame = records.records
    else:
        frame = records
    if "new_unit_code" not in frame.columns:
        msg = "records lacks 'new_unit_code': pass the result of convert_old_units()."
        raise InputError(msg)
    share = frame["share"].astype(float) if "share" in frame.columns else 1.0
    if weight_col is not None:
        if weight_col not in frame.columns:
            msg = f"records lacks the weight column {weight_col!r}."
            raise InputError(msg)
        weight = pd.to_numeric(frame[weight_col], errors="coerce")
        if weight.isna().any() or (weight < 0).any():
            msg = f"records[{weight_col!r}] must be numbers >= 0."
            raise InputError(msg)
    else:
        weight = 1.0
    values = pd.Series(np.ones(len(frame)), index=frame.index) * share * weight
    out = values.groupby(frame["new_unit_code"].astype(str).to_numpy()).sum()
    out.index.name = "code"
    if units is not None:
        out = out.reindex(_unit_codes(units), fill_value=0.0)
    if unmatched:
        logger.warning("%d unmatched records are not counted", unmatched)
    out.name = "dossiers"
    out.attrs["unmatched"] = unmatched
    return out.astype(float)
