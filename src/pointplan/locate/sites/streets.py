"""Sites known by address: the street the address names, inside its unit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pointplan import settings
from pointplan._address import match_address_key, parse_street_address
from pointplan._validate import projected_crs
from pointplan.locate.sites._common import (
    _blank,
)

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


# --------------------------------------------------------------------------------------
# Addresses: street match inside the unit
# --------------------------------------------------------------------------------------
def match_street(address: str, street_keys: Iterable[str]) -> str | None:
    """Return the longest street key that the address names, or ``None``.

    The street is read with the address grammar (:func:`pointplan._address.parse_street_address`,
    the same reading as stand-ins and geocoding); the longest key it starts with (whole
    words) is the match. An address naming an area ("khu", "KĐT", "thôn", "lô"...) names no
    street.

    Parameters
    ----------
    address
        An address, e.g. ``"Số 51 Vũ Trọng Phụng Thanh Xuân"``.
    street_keys
        Comparable street names (:func:`pointplan.standins.street_edges` ``street_key``).

    Returns
    -------
    str or None
        The matched key.

    Examples
    --------
    >>> keys = ["vũ trọng phụng", "thanh xuân", "đội cấn", "cấn", "minh khai", "đại thanh"]
    >>> match_street("Số 51 Vũ Trọng Phụng Thanh Xuân", keys)
    'vũ trọng phụng'
    >>> match_street("218 Đội Cấn, Ba Đình", keys)
    'đội cấn'
    >>> match_street("Times City, 458 Minh Khai, phường Vĩnh Tuy", keys)
    'minh khai'
    >>> match_street("Khu đô thị Đại Thanh, xã Đại Thanh", keys) is None
    True
    >>> match_street("Số 04 Quang Trung Phường Thanh Xuân", keys) is None
    True
    """
    return match_address_key(parse_street_address(address), street_keys)


class _UnitStreets:
    """Named street pieces clipped to a unit (projected), computed once per unit on demand."""

    def __init__(self, units_p: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> None:
        self.units_p, self.streets = units_p, streets
        self.tree = shapely.STRtree(np.asarray(streets.geometry.values)) if len(streets) else None
        self.cache: dict[str, gpd.GeoDataFrame | None] = {}

    def get(self, code: str) -> gpd.GeoDataFrame | None:
        if code not in self.cache:
            part = None
            if self.tree is not None and code in self.units_p.index:
                geom = self.units_p.geometry.loc[code]
                idx = self.tree.query(geom, predicate="intersects")
                part = self.streets.iloc[idx].copy()
                part["geometry"] = part.geometry.intersection(geom)
                part = part[~part.geometry.is_empty & (part.geometry.length > 0)]
            self.cache[code] = part
        return self.cache[code]


def _street_point(
    address: str, pieces: gpd.GeoDataFrame | None, anchor: shapely.Point
) -> tuple[shapely.Point, str] | None:
    """Return the point of the street the address names (inside the unit) nearest the anchor."""
    if pieces is None or pieces.empty:
        return None
    key = match_street(address, pieces["street_key"].unique())
    if key is None:
        return None
    lines = pieces[pieces["street_key"] == key]
    geom = shapely.union_all(np.asarray(lines.geometry.values))
    return shapely.ops.nearest_points(geom, anchor)[0], str(lines["name"].iloc[0])


def _anchors(units: gpd.GeoDataFrame, standins: pd.DataFrame | None) -> tuple[gpd.GeoSeries, pd.Series]:
    """Each unit's stand-in (projected) and its precision; a point inside the unit if none."""
    from pointplan.standins import load_standins

    table = load_standins() if standins is None else standins
    units_p = units.to_crs(projected_crs())
    pts = gpd.GeoSeries(
        shapely.point_on_surface(np.asarray(units_p.geometry.values)), index=units.index, crs=units_p.crs
    )
    prec = pd.Series("unit_representative_point", index=units.index, dtype=object)
    hit = units.index.intersection(table.index)
    if len(hit):
        t = table.loc[hit]
        pts.loc[hit] = gpd.GeoSeries(gpd.points_from_xy(t["lon"], t["lat"]), index=hit, crs=4326).to_crs(units_p.crs)
        prec.loc[hit] = t["location_precision"].astype(str)
    return pts, prec


def _locate_one(
    row: pd.Series, pieces: gpd.GeoDataFrame | None, anchor: shapely.Point, anchor_prec: str
) -> tuple[shapely.Point, dict[str, Any]]:
    """Locate one address row: the named street in its unit, else its fallback point, else the stand-in."""
    hit = _street_point(str(row["address"]), pieces, anchor)
    if hit is not None:
        return hit[0], {"location_precision": "street_in_unit", "located_by": "street_match", "matched_street": hit[1]}
    if not _blank(row.get("fallback_lon")):
        xy = gpd.GeoSeries(gpd.points_from_xy([float(row["fallback_lon"])], [float(row["fallback_lat"])]), crs=4326)
        return xy.to_crs(projected_crs()).iloc[0], {
            "location_precision": "old_unit_reference",
            "located_by": "old_unit_reference",
            "matched_street": "",
            "issue": "no_street_match",
            "detail": "the address names no street of the road network inside the unit",
            "action": "kept at the reference point of the old ward (old_unit_reference)",
        }
    # A stand-in on the head office's street is not on the post office's street.
    prec = "unit_representative_point" if anchor_prec == "street_in_unit" else anchor_prec
    return anchor, {
        "location_precision": prec,
        "located_by": "unit_standin",
        "matched_street": "",
        "issue": "no_street_match",
        "detail": "the address names no street of the road network inside the unit",
        "action": f"kept at the unit's stand-in ({prec})",
    }


def _with_location_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of the rows with empty location and report columns."""
    out = rows.copy().reset_index(drop=True)
    for col in ("lon", "lat"):
        out[col] = np.nan
    for col in ("location_precision", "located_by", "matched_street", "issue", "detail", "action"):
        out[col] = ""
    return out


def _in_other_unit(
    row: pd.Series, code: str, codes: pd.Index, pieces: _UnitStreets, anchors: gpd.GeoSeries
) -> tuple[str, shapely.Point, dict[str, Any]] | None:
    """Find the address's street in another unit that took part of its old ward, if any."""
    for alt in str(row.get("other_units") or "").split(";"):
        hit = _street_point(str(row["address"]), pieces.get(alt), anchors[alt]) if alt in codes else None
        if hit is not None:
            return (
                alt,
                hit[0],
                {
                    "location_precision": "street_in_unit",
                    "located_by": "street_match",
                    "matched_street": hit[1],
                    "issue": "unit_changed",
                    "detail": f"the street is in unit {alt}, which also took part of the old ward (not {code})",
                    "action": f"kept in unit {alt}",
                },
            )
    return None


def locate_address_sites(
    rows: pd.DataFrame,
    units: gpd.GeoDataFrame,
    *,
    network: str | Path | object | None = None,
    standins: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Locate sites known by address: the named street inside their unit, else a stand-in.

    Parameters
    ----------
    rows
        ``site_id``, ``name``, ``site_kind``, ``address``, ``unit_code``, ``source`` and
        optionally ``fallback_lon``/``fallback_lat`` (a better point than the unit's stand-in
        when no street matches, e.g. the old ward of a planned site) and ``_row``.
    units
        Unit polygons indexed by code, with a CRS.
    network
        Road network (file or graph) whose named streets are matched; ``None``: no match.
    standins
        Unit stand-ins (``lon``, ``lat``, ``location_precision`` by code; default the shipped
        :func:`pointplan.standins.load_standins`). A street match takes the point of the
        street nearest the stand-in.

    Returns
    -------
    pandas.DataFrame
        The rows with ``lon``, ``lat`` (empty when not located), ``location_precision``,
        ``located_by``, ``matched_street`` and ``issue``/``detail``/``action`` (empty when
        nothing to report): a row without a unit is ``no_unit`` (not located).

    Examples
    --------
    >>> import networkx as nx, geopandas as gpd, shapely, pandas as pd
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(585000, 2325000, 586000, 2326000)],
    ...                          index=pd.Index(["00001"], name="code"), crs=32648)
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=585100.0, y=2325900.0); G.add_node(2, x=585900.0, y=2325900.0)
    >>> _ = G.add_edge(1, 2, name="Phố Hàng Trống", highway="residential")
    >>> st = pd.DataFrame({"lon": [105.8], "lat": [21.0], "location_precision": ["unit_population_centre"]},
    ...                   index=["00001"])
    >>> st[["lon", "lat"]] = gpd.GeoSeries(gpd.points_from_xy([585500], [2325500]), crs=32648).to_crs(4326
    ...     ).get_coordinates().to_numpy()
    >>> rows = pd.DataFrame({"site_id": ["a", "b"], "name": ["BC A", "BC B"], "site_kind": "post_office",
    ...     "address": ["12 Hàng Trống", "Thôn Đông"], "unit_code": "00001", "source": "t"})
    >>> out = locate_address_sites(rows, units, network=G, standins=st)
    >>> out[["location_precision", "matched_street", "issue"]].values.tolist()
    [['street_in_unit', 'Phố Hàng Trống', ''], ['unit_population_centre', '', 'no_street_match']]
    >>> xy = gpd.GeoSeries(gpd.points_from_xy(out["lon"], out["lat"]), crs=4326).to_crs(32648)
    >>> [(round(p.x), round(p.y)) for p in xy]
    [(585500, 2325900), (585500, 2325500)]
    """
    from pointplan.standins import street_edges

    units_p = units.to_crs(projected_crs())
    streets = street_edges(network) if network is not None else gpd.GeoDataFrame(geometry=[], crs=projected_crs())
    pieces = _UnitStreets(units_p, streets)
    anchors, anchor_prec = _anchors(units, standins)
    out = _with_location_columns(rows)
    for i, row in out.iterrows():
        code = "" if _blank(row["unit_code"]) else str(row["unit_code"]).zfill(5)
        if code not in units.index:
            out.loc[i, ["issue", "detail", "action"]] = [
                "no_unit",
                f"no 2025 unit is known for this address (unit code {code or 'missing'})",
                "dropped",
            ]
            continue
        out.loc[i, "unit_code"] = code
        pt, info = _locate_one(row, pieces.get(code), anchors[code], str(anchor_prec[code]))
        if info.get("issue") == "no_street_match":
            moved = _in_other_unit(row, code, units.index, pieces, anchors)
            if moved is not None:
                alt, pt, info = moved
                out.loc[i, "unit_code"] = alt
        lonlat = gpd.GeoSeries([pt], crs=projected_crs()).to_crs(settings.geographic_crs).iloc[0]
        out.loc[i, ["lon", "lat"]] = [round(lonlat.x, 6), round(lonlat.y, 6)]
        for k, v in info.items():
            out.loc[i, k] = v
    return out
