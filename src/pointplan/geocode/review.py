"""The review loop: a CSV a person checks in Excel, turned back into the points' coordinates.

``pointplan geocode --out review.csv`` writes one row per address (UTF-8 with BOM, so Excel
shows Vietnamese): its candidates (``candidate_1``…, each ``precision | lon=… lat=… | where |
kind | name``), the chosen one (``chosen``, ``lon``, ``lat``), its precision and the reason.
A person then, row by row:

- accepts the choice: writes ``yes`` (or ``x``, ``ok``, ``có``) in ``reviewed``;
- picks another candidate: writes its number in ``chosen`` and marks ``reviewed``
  (pointplan's own choice is the candidate starting with ``*``);
- or types the right coordinates in ``lon``/``lat`` (e.g. read off a map) and marks ``reviewed``.

``pointplan geocode --apply review.csv`` (:func:`apply_review`) moves every marked row's
point there with ``location_precision="reviewed"``, after checking the row: numbers, not
swapped, inside the row's ``unit_code`` (or within the edge tolerance). A failing row is
reported with its line number and nothing of it is applied. Rows not marked are left alone.
A later ``pointplan geocode --out review.csv`` keeps every marked row of the existing file
as it is: reviewed answers are never overwritten by an automatic run.

Examples
--------
>>> REVIEWED_MARKS >= {"yes", "x", "có"}
True
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import InputError, MissingColumnError
from pointplan.geocode.batch import REVIEW_COLUMNS
from pointplan.geocode.check import Candidate, UnitChecker
from pointplan.io import write_table

__all__ = [
    "REVIEWED_MARKS",
    "apply_review",
    "format_candidate",
    "is_reviewed",
    "read_review",
    "review_frame",
    "write_points_csv",
    "write_review",
]

#: What a person may write in ``reviewed`` to mark a row as checked (case-insensitive).
REVIEWED_MARKS: frozenset[str] = frozenset(
    {"yes", "y", "x", "ok", "1", "true", "reviewed", "có", "co", "đã xem", "da xem", "đồng ý", "dong y"}
)

_COORDS = re.compile(r"lon=(-?\d+(?:\.\d+)?)\s+lat=(-?\d+(?:\.\d+)?)")
_REQUIRED = ("point_id", "unit_code", "reviewed", "chosen", "lon", "lat")


def is_reviewed(value: object) -> bool:
    """Return True when a ``reviewed`` cell holds one of :data:`REVIEWED_MARKS`.

    Examples
    --------
    >>> is_reviewed(" Có "), is_reviewed(""), is_reviewed(None)
    (True, False, False)
    """
    return isinstance(value, str) and value.strip().casefold() in REVIEWED_MARKS


def format_candidate(c: Candidate) -> str:
    """Return the text of one candidate in the review file (coordinates readable back).

    Examples
    --------
    >>> format_candidate(Candidate(105.85, 21.03, "house", "1 Hàng Trống", "building/yes", "W1",
    ...                            inside=True, distance_m=0.0, in_unit="00070"))
    'house | lon=105.8500000 lat=21.0300000 | inside | building/yes W1 | 1 Hàng Trống'
    """
    dist = c.distance_m or 0.0
    if c.inside and dist == 0.0:
        where = "inside"
    elif c.inside:
        where = f"{dist:.0f} m outside (tolerated)"
    else:
        where = f"REJECTED {dist / 1000:.1f} km outside, in {c.in_unit or 'no unit of Hà Nội'}"
    return f"{c.precision} | lon={c.lon:.7f} lat={c.lat:.7f} | {where} | {c.kind} {c.osm}".rstrip() + f" | {c.label}"


def _is_choice(chosen: object, k: int) -> bool:
    return chosen is not None and not pd.isna(chosen) and int(chosen) == k + 1  # type: ignore[call-overload]


def review_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Turn a geocoding table (:func:`~pointplan.geocode.geocode_addresses`) into review-file columns.

    pointplan's choice is the candidate whose text starts with ``*``.

    Examples
    --------
    >>> import pandas as pd
    >>> c = Candidate(105.8, 21.0, "street", "Phố X", "highway/primary")
    >>> t = pd.DataFrame({"point_id": ["A"], "candidates": [[c]]})
    >>> review_frame(t)["candidate_1"].iloc[0]
    'street | lon=105.8000000 lat=21.0000000 | REJECTED 0.0 km outside, in no unit of Hà Nội | highway/primary | Phố X'
    """
    out = table.reindex(columns=list(REVIEW_COLUMNS)).copy()
    cands = table["candidates"] if "candidates" in table.columns else pd.Series([[]] * len(table), index=table.index)
    width = max([len(c) for c in cands] + [1])
    chosen = out["chosen"].tolist()
    for k in range(width):
        out[f"candidate_{k + 1}"] = [
            ("* " if _is_choice(ch, k) else "") + format_candidate(c[k]) if k < len(c) else ""
            for c, ch in zip(cands, chosen, strict=True)
        ]
    out["chosen"] = out["chosen"].astype("Int64")
    return out


def read_review(path: str | Path) -> pd.DataFrame:
    r"""Read a review file (as written by :func:`write_review`, edited in Excel or by hand).

    Parameters
    ----------
    path
        The CSV (UTF-8 with or without BOM; comma, semicolon or tab separated).

    Returns
    -------
    pandas.DataFrame
        All cells as text; the index is the line number in the file (header = line 1).

    Raises
    ------
    InputError, MissingColumnError
        The file is missing, not UTF-8, or lacks the review columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> text = "point_id;unit_code;reviewed;chosen;lon;lat\nDP1;00070;x;;105,85;21,03\n"
    >>> _ = p.write_text(text, encoding="utf-8-sig")
    >>> read_review(p).loc[2, ["point_id", "lon"]].tolist()
    ['DP1', '105,85']
    """
    from pointplan.points import _sniff_separator

    p = Path(path)
    if not p.is_file():
        msg = f"The review file {p} does not exist. Write one with `pointplan geocode --out {p.name}`."
        raise InputError(msg)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"The review file {p} is not UTF-8 text. Save it from Excel as 'CSV UTF-8 (Comma delimited)'."
        raise InputError(msg) from exc
    if not text.strip():
        msg = f"The review file {p} is empty."
        raise InputError(msg)
    sep = _sniff_separator(text.splitlines()[0])
    import io

    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        msg = (
            f"The review file {p} lacks the column(s) {missing}. Keep the columns pointplan wrote "
            "(edit cells, do not delete or rename columns)."
        )
        raise MissingColumnError(msg)
    df.index = pd.RangeIndex(2, 2 + len(df))
    return df.map(lambda v: v.strip().removeprefix("'") if isinstance(v, str) else v)


def write_review(table: pd.DataFrame, path: str | Path, *, inputs: tuple[Path, ...] = ()) -> pd.DataFrame:
    r"""Write the review file; rows already marked reviewed in an existing file are kept as they are.

    Parameters
    ----------
    table
        A geocoding table (:func:`~pointplan.geocode.geocode_addresses`).
    path
        The CSV to write (UTF-8 with BOM, so Excel shows Vietnamese).
    inputs
        Files that must not be overwritten.

    Returns
    -------
    pandas.DataFrame
        What was written; ``attrs["kept_reviewed"]`` counts rows kept from the existing file.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "review.csv"
    >>> first = pd.DataFrame({"point_id": ["A", "B"], "status": ["accepted", "no_match"], "lon": [105.8, None]})
    >>> _ = write_review(first, p)
    >>> p.read_bytes()[:3] == b"\xef\xbb\xbf"     # the BOM Excel needs
    True
    >>> edited = read_review(p); edited.loc[2, "reviewed"] = "x"; edited.loc[2, "lon"] = "105.81"
    >>> _ = write_table(edited, p)
    >>> again = write_review(first.assign(lon=[105.9, None]), p)   # a later automatic run
    >>> again.set_index("point_id").loc["A", "lon"], again.attrs["kept_reviewed"]
    ('105.81', 1)
    """
    p = Path(path)
    new = review_frame(table).astype(object)
    kept = 0
    if p.is_file():
        old = read_review(p)
        marked = old[old["reviewed"].map(is_reviewed)]
        if len(marked):
            kept = len(marked)
            new = new[~new["point_id"].astype(str).isin(set(marked["point_id"]))]
            new = pd.concat([marked.reset_index(drop=True), new.astype(object)], ignore_index=True)
            cands = sorted((c for c in new.columns if c.startswith("candidate_")), key=lambda c: int(c.split("_")[1]))
            others = [c for c in new.columns if c not in REVIEW_COLUMNS and c not in cands]
            new = new[[c for c in REVIEW_COLUMNS if c in new.columns] + cands + others]
    write_table(new, p, inputs=inputs)
    new.attrs["kept_reviewed"] = kept
    return new


class _RowError(ValueError):
    """One review row that fails its check (collected, reported by line)."""


def _number(text: str, column: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        msg = f"{column} {text!r} is not a number"
        raise _RowError(msg) from None
    if not math.isfinite(value):
        msg = f"{column} {text!r} is not a finite number"
        raise _RowError(msg)
    return value


def _candidate_coords(row: pd.Series, k: int) -> tuple[float, float]:
    cell = str(row.get(f"candidate_{k}", "") or "")
    m = _COORDS.search(cell)
    if not m:
        msg = f"chosen = {k}, but there is no candidate_{k} with coordinates"
        raise _RowError(msg)
    return float(m.group(1)), float(m.group(2))


def _coords_equal(cell: object, lon: float, lat: float) -> bool:
    m = _COORDS.search(str(cell or ""))
    if m is None:
        return False
    return abs(float(m.group(1)) - lon) < 1e-6 and abs(float(m.group(2)) - lat) < 1e-6


def _row_coordinates(row: pd.Series) -> tuple[float, float, str]:
    """Return the (lon, lat) a reviewed row asks for, and how it was given.

    ``lon``/``lat`` win when the person typed them; when they are still those of
    pointplan's choice (the candidate marked ``*``) and ``chosen`` names another candidate,
    the person picked that candidate.
    """
    chosen = row["chosen"].strip()
    k = None
    if chosen:
        try:
            k = int(float(chosen))
        except ValueError:
            msg = f"chosen {chosen!r} is not a candidate number"
            raise _RowError(msg) from None
    lon_txt, lat_txt = row["lon"].strip(), row["lat"].strip()
    if bool(lon_txt) != bool(lat_txt):
        msg = "give both lon and lat (or empty both and give chosen)"
        raise _RowError(msg)
    if not lon_txt:
        if k is None:
            msg = "no coordinates: fill in lon and lat, or the number of a candidate in chosen"
            raise _RowError(msg)
        lon, lat = _candidate_coords(row, k)
        return lon, lat, f"candidate {k}"
    lon, lat = _number(lon_txt, "lon"), _number(lat_txt, "lat")
    if k is not None:
        auto = next((c for c in row.index if c.startswith("candidate_") and str(row[c]).startswith("* ")), None)
        if auto is not None and auto != f"candidate_{k}" and _coords_equal(row[auto], lon, lat):
            lon, lat = _candidate_coords(row, k)  # `chosen` changed, lon/lat left as written
            return lon, lat, f"candidate {k}"
        if _coords_equal(row.get(f"candidate_{k}", ""), lon, lat):
            return lon, lat, f"candidate {k}"
    return lon, lat, "coordinates typed in"


def _check_row(row: pd.Series, checker: UnitChecker, point_ids: set[str]) -> tuple[float, float, str]:
    """Check one reviewed row; return (lon, lat, how) or raise _RowError."""
    pid = row["point_id"]
    if pid not in point_ids:
        msg = f"point_id {pid!r} is not one of the points; keep the ids pointplan wrote"
        raise _RowError(msg)
    lon, lat, how = _row_coordinates(row)
    lo_x, lo_y, hi_x, hi_y = 102.0, 8.0, 110.0, 23.5
    if not (lo_x <= lon <= hi_x and lo_y <= lat <= hi_y):
        swapped = lo_x <= lat <= hi_x and lo_y <= lon <= hi_y
        hint = "lon and lat look swapped (lon is about 105.8 in Hà Nội)" if swapped else "outside Vietnam"
        msg = f"lon={lon}, lat={lat}: {hint}"
        raise _RowError(msg)
    codes = tuple(c.strip().zfill(5) for c in row["unit_code"].split(";") if c.strip())
    unknown = [c for c in codes if c not in checker.geoms]
    if not codes or unknown:
        msg = f"unit_code {row['unit_code']!r} is not a unit of Hà Nội; give the 5-digit code of the 2025 unit"
        raise _RowError(msg)
    dist = checker.distance_m(lon, lat, codes)
    if dist > checker.tolerance_m:
        where = checker.locate(lon, lat)
        names = " / ".join(checker.name(c) for c in codes)
        in_unit = checker.name(where) if where else "no unit"
        msg = (
            f"({lon}, {lat}) lies {dist / 1000:.2f} km outside {names} (in {in_unit}); "
            "fix the coordinates, or the unit_code if the address's unit is wrong"
        )
        raise _RowError(msg)
    return lon, lat, how


def _reviewed_moves(
    df: pd.DataFrame, checker: UnitChecker, ids: dict[str, Any], index_of: dict[str, Any], report: dict[str, Any]
) -> list[tuple[Any, float, float, str]]:
    """Return the checked moves of the rows marked reviewed; count and explain the others in ``report``."""
    moves: list[tuple[Any, float, float, str]] = []
    for line, row in df.iterrows():
        if not is_reviewed(row["reviewed"]):
            report["not_marked"] += 1
            continue
        if row["point_id"] not in ids and str(row.get("kind", "")) == "post_office":
            report["not_points"] += 1
            continue
        try:
            lon, lat, how = _check_row(row, checker, set(ids))
        except _RowError as exc:
            report["problems"].append({"line": int(line), "point_id": row["point_id"], "problem": str(exc)})
            continue
        moves.append((index_of[row["point_id"]], lon, lat, how))
    return moves


def apply_review(
    review: str | Path | pd.DataFrame,
    points: gpd.GeoDataFrame | None = None,
    *,
    units: gpd.GeoDataFrame | None = None,
    scenario: str = "hanoi-2025",
) -> gpd.GeoDataFrame:
    """Move the points of every reviewed row of a review file, after checking each row.

    Parameters
    ----------
    review
        The review file (or :func:`read_review`'s frame).
    points
        The points to update (default ``load_points(scenario)``).
    units
        The units (default :func:`pointplan.load_units`).
    scenario
        Scenario to load when ``points`` is not given.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of the points; applied rows get their coordinates, ``location_precision``
        ``"reviewed"`` and their unit re-assigned. ``attrs["review"]`` holds ``applied``
        (point ids), ``problems`` (``{"line", "point_id", "problem"}`` dicts: rows not
        applied), ``not_marked`` and ``not_points`` (post offices) counts.

    Examples
    --------
    A unit of 2 × 2 km, two points; the second row's coordinates lie 3 km outside the unit:

    >>> import geopandas as gpd, pandas as pd, shapely
    >>> units = gpd.GeoDataFrame({"full_name": ["Phường A"]}, index=["00001"],
    ...     geometry=[shapely.box(585000, 2325000, 587000, 2327000)], crs="EPSG:32648")
    >>> pts = gpd.GeoDataFrame({"point_id": ["P1", "P2"], "location_precision": "unit_representative_point"},
    ...     index=["P1", "P2"], geometry=[shapely.Point(586000, 2326000)] * 2, crs="EPSG:32648")
    >>> review = pd.DataFrame({"point_id": ["P1", "P2"], "unit_code": ["00001", "00001"],
    ...     "reviewed": ["x", "x"], "chosen": ["", ""], "lon": ["105.8230", "105.8500"],
    ...     "lat": ["21.0240", "21.0240"]}, index=[2, 3])
    >>> out = apply_review(review, pts, units=units)
    >>> out.attrs["review"]["applied"], out.loc["P1", "location_precision"]
    (['P1'], 'reviewed')
    >>> out.attrs["review"]["problems"][0]["line"], out.loc["P2", "location_precision"]
    (3, 'unit_representative_point')
    """
    from pointplan.data import load_units
    from pointplan.points import assign_units, load_points

    df = read_review(review) if not isinstance(review, pd.DataFrame) else review.astype(str).replace("nan", "")
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        msg = f"The review table lacks the column(s) {missing}; keep the columns pointplan wrote."
        raise MissingColumnError(msg)
    units = load_units() if units is None else units
    pts = load_points(scenario, units=units) if points is None else points
    checker = UnitChecker(units)
    out = pts.copy()
    ids = {str(i): i for i in (out["point_id"] if "point_id" in out.columns else out.index)}
    index_of = dict(zip(ids, out.index, strict=True))
    report: dict[str, Any] = {"applied": [], "problems": [], "not_marked": 0, "not_points": 0}
    moves = _reviewed_moves(df, checker, ids, index_of, report)
    source = Path(review).name if not isinstance(review, pd.DataFrame) else "a review table"
    for idx, lon, lat, how in moves:
        geom = gpd.GeoSeries([shapely.Point(lon, lat)], crs=settings.geographic_crs).to_crs(out.crs)
        out.loc[[idx], "geometry"] = geom.values
        out.at[idx, "location_precision"] = "reviewed"
        if "source" in out.columns:
            out.at[idx, "source"] = f"{out.at[idx, 'source']}; reviewed in {source} ({how})"
        report["applied"].append(str(out.at[idx, "point_id"]) if "point_id" in out.columns else str(idx))
    if moves and "unit_code" in out.columns:
        out["unit_code"] = assign_units(out, units).to_numpy()
    out.attrs = {**pts.attrs, "review": report}
    return out


def write_points_csv(points: gpd.GeoDataFrame, path: str | Path, *, inputs: tuple[Path, ...] = ()) -> Path:
    """Write points as a CSV that :func:`pointplan.read_points` reads back (``lon``/``lat`` columns).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely, tempfile, pathlib
    >>> pts = gpd.GeoDataFrame({"point_id": ["P1"], "name": ["Điểm A"], "location_precision": ["reviewed"]},
    ...                        geometry=[shapely.Point(105.85, 21.03)], crs="EPSG:4326")
    >>> p = write_points_csv(pts, pathlib.Path(tempfile.mkdtemp()) / "pts.csv")
    >>> row = pd.read_csv(p, encoding="utf-8-sig").iloc[0]
    >>> row["name"], row["location_precision"], float(row["lon"]), float(row["lat"])
    ('Điểm A', 'reviewed', 105.85, 21.03)
    """
    from pointplan.points import POINT_COLUMNS

    geo = points.geometry.to_crs(settings.geographic_crs)
    table = pd.DataFrame(points.drop(columns="geometry")).reindex(columns=list(POINT_COLUMNS))
    table["lon"] = geo.x.round(7).to_numpy()
    table["lat"] = geo.y.round(7).to_numpy()
    return write_table(table, path, inputs=inputs)
