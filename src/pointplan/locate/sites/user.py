"""The user's own sites, every real site at once, and sites as candidates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan._errors import InputError
from pointplan._text import normalize_name
from pointplan.locate.sites._common import (
    _ADDRESS_COLS,
    _NAME_COLS,
    SITE_KINDS,
    _blank,
    _empty_sites,
    _find_col,
    _finish,
    _issue,
    _report,
)
from pointplan.locate.sites.hospitals import (
    hospital_sites,
)
from pointplan.locate.sites.streets import (
    locate_address_sites,
)
from pointplan.locate.sites.table import (
    load_located_table,
    post_office_rows,
)

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


def _address_sites(
    located: pd.DataFrame, units: gpd.GeoDataFrame, kinds: Sequence[str]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Sites (and the report) from located address rows, for the kinds wanted."""
    located = located[located["site_kind"].isin(kinds)].copy()
    lon = pd.to_numeric(located["lon"], errors="coerce")
    lat = pd.to_numeric(located["lat"], errors="coerce")
    issues = located[located["issue"].astype(str) != ""]
    report = _report(
        _issue(str(r["source"]), int(r["row"]), str(r["site_id"]), r["name"], r["issue"], r["detail"], r["action"])
        for _, r in issues.iterrows()
    )
    ok = lon.notna() & lat.notna()
    sites = gpd.GeoDataFrame(
        located.loc[ok].assign(_row=located.loc[ok, "row"]),
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs=settings.geographic_crs,
    )
    parts: list[tuple[gpd.GeoDataFrame, pd.DataFrame]] = [
        _finish(grp.copy(), units, str(src)) for src, grp in sites.groupby("source", sort=False)
    ]
    frames = [s for s, _ in parts if len(s)] or [_empty_sites()]
    return (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=settings.geographic_crs),
        pd.concat([report, *[r for _, r in parts]], ignore_index=True),
    )


def read_user_sites(
    source: str | Path | gpd.GeoDataFrame, units: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read the user's own sites (with names) as real candidate sites, and a report.

    Parameters
    ----------
    source
        A file :func:`pointplan.candidates.read_candidates` reads (CSV lon/lat, GeoJSON,
        GeoPackage...) or a GeoDataFrame, with a ``name`` (or ``ten``/``tên``) column and
        optionally ``address``, ``unit_code``, ``location_precision``.
    units
        Unit polygons indexed by code (default :func:`pointplan.load_units`).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Sites with ``site_kind="user"`` (precision from the file when it is one of
        :data:`pointplan.points.LOCATION_PRECISIONS`, else ``unknown``) and the report.

    Examples
    --------
    >>> import geopandas as gpd, shapely, pandas as pd
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(105.8, 21.0, 105.9, 21.1)],
    ...                          index=pd.Index(["00001"], name="code"), crs=4326)
    >>> mine = gpd.GeoDataFrame({"name": ["Nhà văn hoá A", None]},
    ...     geometry=gpd.points_from_xy([105.85, 105.86], [21.05, 21.05]), crs=4326)
    >>> s, rep = read_user_sites(mine, units)
    >>> s[["name", "location_precision", "unit_code"]].values.tolist(), rep["issue"].tolist()
    ([['Nhà văn hóa A', 'unknown', '00001']], ['no_name'])
    """
    from pointplan.data import load_units
    from pointplan.locate.candidates import read_candidates
    from pointplan.points import LOCATION_PRECISIONS

    units = load_units() if units is None else units
    if isinstance(source, gpd.GeoDataFrame):
        gdf, label = source.to_crs(settings.geographic_crs), "user sites"
    else:
        gdf, label = read_candidates(source), Path(source).name
    name_col = _find_col(gdf.columns, _NAME_COLS)
    addr_col = _find_col(gdf.columns, _ADDRESS_COLS)
    prec = gdf["location_precision"].astype(str) if "location_precision" in gdf else pd.Series("", index=gdf.index)
    ids = (
        gdf["candidate_id"].astype(str)
        if "candidate_id" in gdf
        else pd.Series([f"user-{i + 1}" for i in range(len(gdf))], index=gdf.index)
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ids.to_numpy(),
            "name": gdf[name_col].map(lambda v: None if _blank(v) else normalize_name(str(v))).to_numpy()
            if name_col
            else None,
            "site_kind": "user",
            "address": gdf[addr_col].fillna("").astype(str).to_numpy() if addr_col else "",
            "unit_code": gdf["unit_code"].to_numpy() if "unit_code" in gdf else None,
            "source": label,
            "location_precision": prec.where(prec.isin(LOCATION_PRECISIONS), "unknown").to_numpy(),
            "located_by": "user_file",
            "matched_street": "",
            "_row": np.arange(1, len(gdf) + 1),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=settings.geographic_crs,
    )
    return _finish(sites, units, label)


def real_sites(
    units: gpd.GeoDataFrame | None = None,
    *,
    user_sites: str | Path | gpd.GeoDataFrame | None = None,
    include: Sequence[str] = SITE_KINDS,
    hospitals_file: str | Path | None = None,
    post_offices_file: str | Path | None = None,
    network: str | Path | object | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Return the real candidate sites of the city (or of some units) and the report of problems.

    Parameters
    ----------
    units
        The units studied (default all 126); sites outside them are reported and left out.
    user_sites
        The user's own sites (file or GeoDataFrame, see :func:`read_user_sites`).
    include
        Kinds to include, among :data:`SITE_KINDS`.
    hospitals_file
        Another OSM hospitals file (default the shipped one).
    post_offices_file, network
        Another post-office list and/or road network: the offices (and planned sites) are then
        located now (about 6 s with the shipped network) instead of read from the shipped
        table ``tables/located_sites.csv``.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Sites with :data:`SITE_COLUMNS` (EPSG:4326, ``site_id`` unique) and the report
        (:data:`REPORT_COLUMNS`): rows dropped (no name, outside, duplicate, no unit, no
        location) and rows kept at a stand-in (no street match).

    Examples
    --------
    >>> sites, report = real_sites(include=("hospital", "clinic"))
    >>> len(sites) > 140, sorted(sites["site_kind"].unique())
    (True, ['clinic', 'hospital'])
    """
    from pointplan.data import load_units

    bad = sorted(set(include) - set(SITE_KINDS))
    if bad:
        msg = f"include has unknown site kind(s) {bad}; choose among {list(SITE_KINDS)}."
        raise InputError(msg)
    units = load_units() if units is None else units
    frames: list[gpd.GeoDataFrame] = []
    reports: list[pd.DataFrame] = []
    if {"hospital", "clinic"} & set(include):
        s, r = hospital_sites(hospitals_file, units)
        frames.append(s[s["site_kind"].isin(include)])
        reports.append(r)
    if {"post_office", "planned_site"} & set(include):
        if post_offices_file is None and network is None:
            located = load_located_table()
        else:
            from pointplan.data import data_file

            rows = post_office_rows(post_offices_file)
            located = locate_address_sites(rows, units, network=network or data_file("osm_inner_drive"))
            located["row"] = located["_row"]
            if post_offices_file is None:
                located = pd.concat([located, load_located_table().query("site_kind == 'planned_site'")])
        s, r = _address_sites(located, units, [k for k in ("post_office", "planned_site") if k in include])
        frames.append(s)
        reports.append(r)
    if user_sites is not None and "user" in include:
        s, r = read_user_sites(user_sites, units)
        frames.append(s)
        reports.append(r)
    frames = [f for f in frames if len(f)] or [_empty_sites()]
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=settings.geographic_crs)
    dup = out["site_id"].duplicated(keep=False)
    out.loc[dup, "site_id"] = (
        out.loc[dup, "site_id"] + "-" + out.loc[dup].groupby("site_id").cumcount().add(1).astype(str)
    )
    report = pd.concat([r for r in reports if len(r)] or [_report([])], ignore_index=True)
    logger.info("real_sites: %d sites, %d report rows", len(out), len(report))
    return out, report


def sites_to_candidates(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return real sites as candidates for :func:`pointplan.optimize.propose`.

    Parameters
    ----------
    sites
        A frame from :func:`real_sites`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (the site id), ``kind`` (the site kind, so ``budget_per_kind`` can
        say ``{"post_office": 3}``), ``source``, ``unit_code``, ``location_precision``,
        ``name``, ``site_kind``, ``address``, ``located_by``, ``matched_street``, EPSG:4326.

    Examples
    --------
    >>> import geopandas as gpd
    >>> s = gpd.GeoDataFrame({"site_id": ["a"], "name": ["BV A"], "site_kind": ["hospital"],
    ...     "address": [""], "unit_code": ["00001"], "source": ["osm"], "location_precision": ["surveyed"],
    ...     "located_by": ["osm_coordinates"], "matched_street": [""]},
    ...     geometry=gpd.points_from_xy([105.85], [21.05]), crs=4326)
    >>> sites_to_candidates(s)[["candidate_id", "kind", "name"]].values.tolist()
    [['a', 'hospital', 'BV A']]
    """
    out = sites.to_crs(settings.geographic_crs).copy()
    out["candidate_id"] = out["site_id"].astype(str)
    out["kind"] = out["site_kind"].astype(str)
    cols = [
        "candidate_id",
        "kind",
        "source",
        "unit_code",
        "location_precision",
        "name",
        "site_kind",
        "address",
        "located_by",
        "matched_street",
    ]
    return gpd.GeoDataFrame(out[[*cols, "geometry"]], geometry="geometry", crs=settings.geographic_crs)
