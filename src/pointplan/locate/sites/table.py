"""Post offices and planned sites, located once and shipped as ``tables/located_sites.csv``."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pointplan import settings
from pointplan._text import name_key, normalize_name
from pointplan.locate.sites._common import (
    _ADDRESS_COLS,
    _NAME_COLS,
    LOCATED_TABLE,
    SITE_COLUMNS,
    _blank,
    _find_col,
    _issue,
)
from pointplan.locate.sites.streets import (
    locate_address_sites,
)
from pointplan.standins import STANDIN_TABLE, compute_standins, unit_point_addresses

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


def _other_units(df: pd.DataFrame, unit: Any) -> list[str]:
    """Return the other 2025 units that took part of each row's old ward (``;``-joined)."""
    from pointplan.data import load_old_to_new

    if not {"ward", "district"} <= set(df.columns):
        return [""] * len(df)
    m = load_old_to_new()
    key = m["old_ward"].map(name_key) + "|" + m["old_district"].map(name_key)
    by = pd.Series(m["new_ward_code"].astype(str).str.zfill(5).to_numpy(), index=key).groupby(level=0).agg(list)
    units = pd.Series(unit, index=df.index) if not isinstance(unit, pd.Series) else unit
    out = []
    for w, d, u in zip(df["ward"], df["district"], units, strict=True):
        codes = by.get(name_key(str(w)) + "|" + name_key(str(d)), [])
        out.append(";".join(dict.fromkeys(c for c in codes if c != u)))
    return out


def post_office_rows(path: str | Path | None = None) -> pd.DataFrame:
    r"""Read a post-office list (addresses only) into rows for :func:`locate_address_sites`.

    Parameters
    ----------
    path
        A CSV with ``name``, ``detailAddress`` (or ``address``) and ``new_unit_code`` (the
        2025 unit); default the shipped ``poi/hanoi_vnpost_offices_pre2025.csv``. The old
        ward's reference coordinates in that file are not read: they are not the office's
        location.

    Returns
    -------
    pandas.DataFrame
        ``site_id`` (``vnpost-<id>``), ``name`` ("Bưu cục <name>"; empty when the file has no
        name), ``site_kind`` (``post_office``), ``address``, ``unit_code``, ``source``, ``_row``.

    Examples
    --------
    >>> import io
    >>> csv = io.StringIO("id,name,detailAddress,ward,new_unit_code\n7,Quốc Tế,6 Đinh Lễ,Tràng Tiền,82\n")
    >>> post_office_rows(csv)[["site_id", "name", "address", "unit_code"]].values.tolist()
    [['vnpost-7', 'Bưu cục Quốc Tế', '6 Đinh Lễ, Tràng Tiền', '00082']]
    """
    from pointplan.data import data_file

    src = path if path is not None else data_file("poi_vnpost")
    label = Path(str(src)).name if isinstance(src, (str, Path)) else "post offices"
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8")
    name_col = _find_col(df.columns, _NAME_COLS)
    addr_col = _find_col(df.columns, _ADDRESS_COLS)
    ids = df["id"] if "id" in df.columns else pd.Series(range(1, len(df) + 1), index=df.index).astype(str)
    names = df[name_col].map(lambda v: "" if _blank(v) else "Bưu cục " + normalize_name(v)) if name_col else ""
    address = df[addr_col].map(normalize_name) if addr_col else pd.Series("", index=df.index)
    if "ward" in df.columns:  # the old ward helps a reader find the office
        ward = df["ward"].map(normalize_name)
        add = np.array(
            [bool(w) and name_key(w) not in name_key(a) for a, w in zip(address, ward, strict=True)], dtype=bool
        )
        address = address.where(~add, address + ", " + ward)
    unit = df["new_unit_code"].map(lambda v: "" if _blank(v) else str(v).zfill(5)) if "new_unit_code" in df else ""
    return pd.DataFrame(
        {
            "other_units": _other_units(df, unit),
            "site_id": "vnpost-" + ids.astype(str),
            "name": names,
            "site_kind": "post_office",
            "address": address,
            "unit_code": unit,
            "source": f"VNPost ({label})",
            "_row": np.arange(1, len(df) + 1),
        }
    )


def _planned_rows() -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Return the planned kiosks (malls) and the urban-area community point of the sites table."""
    from pointplan.data import old_unit_reference
    from pointplan.standins import read_package_table as _table

    t = _table("hanoi_2025_sites.csv")
    t = t[t["kind"].isin(("kiosk", "community"))].reset_index(drop=True)
    report = [
        _issue(
            "hanoi_2025_sites.csv",
            int(i) + 1,
            r["point_id"],
            r["name"],
            "no_location",
            r["notes"] or "no address",
            "dropped",
        )
        for i, r in t.iterrows()
        if r.locate_by == "missing"
    ]
    t = t[t["locate_by"] != "missing"]
    ref = [
        old_unit_reference(w, d) if lb == "old_unit" else (np.nan, np.nan)
        for w, d, lb in zip(t["old_ward"], t["old_district"], t["locate_by"], strict=True)
    ]
    rows = pd.DataFrame(
        {
            "site_id": "plan-" + t["point_id"],
            "name": t["name"].map(normalize_name),
            "site_kind": "planned_site",
            "address": t["address"].map(normalize_name),
            "unit_code": t["declared_unit_code"],
            "source": t["source"],
            "fallback_lon": [x for x, _ in ref],
            "fallback_lat": [y for _, y in ref],
            "_row": t.index + 1,
        }
    )
    return rows, report


def compute_located_sites(network: str | Path | object | None = None) -> pd.DataFrame:
    """Locate the shipped post offices and planned sites (the package table's content).

    Parameters
    ----------
    network
        Road network (default the shipped inner-city drive network, about 6 s to read).

    Returns
    -------
    pandas.DataFrame
        One row per input row (post offices, then planned sites): the columns of
        :func:`locate_address_sites` with ``row`` (line in its source) instead of ``_row``.

    Examples
    --------
    Reads the inner-city road network (about a minute in all):

    >>> t = compute_located_sites()  # doctest: +SKIP
    >>> t["location_precision"].value_counts()["street_in_unit"]  # doctest: +SKIP
    42
    """
    from pointplan.data import data_file, load_units

    units = load_units()
    net = data_file("osm_inner_drive") if network is None else network
    planned, planned_report = _planned_rows()
    located = locate_address_sites(pd.concat([post_office_rows(), planned], ignore_index=True), units, network=net)
    missing = pd.DataFrame(
        [
            {
                **{k: r[k] for k in ("site_id", "name", "issue", "detail", "action")},
                "row": r["row"],
                "site_kind": "planned_site",
                "source": "hanoi_2025_sites.csv",
            }
            for r in planned_report
        ]
    )
    out = pd.concat([located, missing], ignore_index=True)
    out["row"] = out["_row"].fillna(out.get("row")).astype(int)
    cols = [*[c for c in SITE_COLUMNS if c != "geometry"], "lon", "lat", "issue", "detail", "action", "row"]
    return out[cols].fillna({"location_precision": "", "located_by": "", "matched_street": "", "address": ""})


def write_located_table(path: str | Path | None = None) -> Path:
    """Recompute the located post offices and planned sites and write the package table.

    Parameters
    ----------
    path
        Where to write (default the package's ``tables/located_sites.csv``).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> write_located_table("/tmp/located_sites.csv")  # doctest: +SKIP
    PosixPath('/tmp/located_sites.csv')
    """
    target = Path(path) if path is not None else Path(__file__).resolve().parents[2] / "tables" / LOCATED_TABLE
    compute_located_sites().to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
    return target


def load_located_table() -> pd.DataFrame:
    """Read the shipped located post offices and planned sites.

    Returns
    -------
    pandas.DataFrame
        The table written by :func:`write_located_table` (codes as strings).

    Examples
    --------
    >>> t = load_located_table()
    >>> sorted(t["site_kind"].unique())
    ['planned_site', 'post_office']
    """
    ref = resources.files("pointplan") / "tables" / LOCATED_TABLE
    with resources.as_file(ref) as p:
        return pd.read_csv(p, dtype={"unit_code": str}, keep_default_na=False, encoding="utf-8")


def write_standins_table(path: str | Path | None = None) -> Path:
    """Recompute the Hanoi stand-ins from the shipped data and write the package table.

    Parameters
    ----------
    path
        Where to write (default: the package's ``tables/unit_standins.csv``).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from pointplan.data import data_file, load_units
    from pointplan.demand import build_demand

    units = load_units()
    st = compute_standins(
        units,
        addresses=unit_point_addresses(units),
        network=data_file("osm_inner_drive"),
        demand=build_demand(units, cell_m=250),
    )
    st = st.to_crs(settings.geographic_crs)
    table = pd.DataFrame(
        {
            "code": st.index.astype(str),
            "lon": st.geometry.x.round(6),
            "lat": st.geometry.y.round(6),
            "location_precision": st["location_precision"],
            "matched_street": st["matched_street"],
            "street_parsed": st["street_parsed"],
            "moved_m": st["moved_m"],
        }
    )
    target = Path(path) if path is not None else Path(__file__).resolve().parents[2] / "tables" / STANDIN_TABLE
    table.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
    return target
