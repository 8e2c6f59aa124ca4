"""Constants, the problem report and the checks every source of real sites shares."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._text import name_key
from pointplan._validate import projected_crs

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Kinds of real candidate site.
SiteKind = Literal["hospital", "clinic", "post_office", "planned_site", "user"]
"""Kind of a real candidate site."""
SITE_KINDS: tuple[SiteKind, ...] = ("hospital", "clinic", "post_office", "planned_site", "user")
#: Columns of a sites frame (plus ``geometry``, EPSG:4326).
SITE_COLUMNS: tuple[str, ...] = (
    "site_id",
    "name",
    "site_kind",
    "address",
    "unit_code",
    "source",
    "location_precision",
    "located_by",
    "matched_street",
)
#: Columns of the report of problems, one row per input row with a problem.
REPORT_COLUMNS: tuple[str, ...] = ("source", "row", "site_id", "name", "issue", "detail", "action")
#: Two sites with the same name closer than this (m) are one site.
DUPLICATE_M = 150.0
#: The report says where the best unconstrained location has no real site within this (m).
NO_BUILDING_M = 1000.0
#: Unconstrained spots within this distance (m) of a real proposal are tried in its place.
NEARBY_M = 3000.0
#: At most this many spots (the nearest) are tried for each real proposal.
LOCAL_SPOTS = 8
#: File name of the shipped located post offices and planned sites (package table).
LOCATED_TABLE = "located_sites.csv"

_CLINIC = re.compile(r"\b(?:trạm y tế|phòng khám|tram y te|phong kham|clinic)\b", re.IGNORECASE)
_NAME_COLS = ("name", "ten", "tên", "site_name", "ten_diem", "tên điểm")
_ADDRESS_COLS = ("address", "dia_chi", "địa chỉ", "detailaddress")


def _empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in SITE_COLUMNS}, geometry=[], crs=settings.geographic_crs)


def _report(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(REPORT_COLUMNS))
    df["row"] = df["row"].astype("Int64")
    return df


def _issue(source: str, row: int, site_id: str, name: Any, issue: str, detail: str, action: str) -> dict[str, Any]:
    name_s = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    return {
        "source": source,
        "row": row,
        "site_id": site_id,
        "name": name_s,
        "issue": issue,
        "detail": detail,
        "action": action,
    }


def _find_col(columns: pd.Index, names: Sequence[str]) -> str | None:
    lower = {str(c).strip().lower(): str(c) for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip()


# --------------------------------------------------------------------------------------
# Checks shared by every source
# --------------------------------------------------------------------------------------
def _drop_unnamed(sites: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """Drop rows without a name (reported: a site must be named to be proposed)."""
    blank = sites["name"].map(_blank).to_numpy(dtype=bool)
    rows = [
        _issue(source, int(r), str(i), "", "no_name", "the row has no name", "dropped")
        for r, i in zip(sites.loc[blank, "_row"], sites.loc[blank, "site_id"], strict=True)
    ]
    return sites.loc[~blank], rows


def _drop_outside(
    sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame, source: str
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """Give each site its unit; drop (and report) those in no unit of the city."""
    from pointplan.points import assign_units

    if sites.empty:
        return sites, []
    code = assign_units(sites, units)
    out = code.isna().to_numpy()
    rows = [
        _issue(source, int(r), str(i), n, "outside_city", "not inside any of the units studied", "dropped")
        for r, i, n in zip(sites.loc[out, "_row"], sites.loc[out, "site_id"], sites.loc[out, "name"], strict=True)
    ]
    sites = sites.copy()
    given = sites["unit_code"].where(sites["unit_code"].map(lambda v: not _blank(v)), None)
    sites["unit_code"] = given.where(given.notna(), code)
    return sites.loc[~out], rows


def _why_duplicate(addr: str, first_addr: str) -> str:
    return "same address and unit" if addr and addr == first_addr else f"same name within {DUPLICATE_M:.0f} m"


def _drop_duplicates(sites: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """Keep the first of sites with the same name within DUPLICATE_M, or the same address and unit.

    Examples
    --------
    >>> import geopandas as gpd
    >>> s = gpd.GeoDataFrame({"site_id": ["a", "b", "c"], "name": ["BV X", "bv x", "BV X"],
    ...     "address": ["", "", ""], "unit_code": ["1", "1", "1"], "_row": [1, 2, 3]},
    ...     geometry=gpd.points_from_xy([105.80, 105.8005, 105.85], [21.0, 21.0, 21.0]), crs=4326)
    >>> kept, rows = _drop_duplicates(s, "test")
    >>> kept["site_id"].tolist(), [r["row"] for r in rows]
    (['a', 'c'], [2])
    """
    if len(sites) < 2:
        return sites, []
    xy = np.column_stack([sites.to_crs(projected_crs()).geometry.x, sites.to_crs(projected_crs()).geometry.y])
    names = sites["name"].map(lambda v: name_key(str(v))).to_numpy()
    addr = sites["address"].fillna("").map(lambda v: name_key(str(v))).to_numpy()
    units = sites["unit_code"].astype(str).to_numpy()
    ids = sites["site_id"].astype(str).to_numpy()
    dup_of = np.full(len(sites), -1)
    for i, j in sorted(cKDTree(xy).query_pairs(DUPLICATE_M)):
        if names[i] == names[j] and dup_of[j] < 0 and dup_of[i] < 0:
            dup_of[j] = i
    seen: dict[tuple[str, str], int] = {}
    for j in range(len(sites)):
        if dup_of[j] >= 0 or not addr[j]:
            continue
        first = seen.setdefault((addr[j], units[j]), j)
        if first != j:
            dup_of[j] = first
    dup = dup_of >= 0
    rows = [
        _issue(
            source,
            int(sites["_row"].iloc[j]),
            ids[j],
            sites["name"].iloc[j],
            "duplicate",
            f"same site as {ids[dup_of[j]]} ({_why_duplicate(addr[j], addr[dup_of[j]])})",
            "dropped",
        )
        for j in np.flatnonzero(dup)
    ]
    return sites.loc[~dup], rows


def _finish(sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Apply the shared checks (name, inside the city, duplicates) and order the columns."""
    report: list[dict[str, Any]] = []
    for step in (_drop_unnamed, lambda s, src: _drop_outside(s, units, src), _drop_duplicates):
        sites, rows = step(sites, source)
        report += rows
    out = gpd.GeoDataFrame(sites[[*SITE_COLUMNS, "geometry"]], geometry="geometry", crs=settings.geographic_crs)
    return out.reset_index(drop=True), _report(report)
