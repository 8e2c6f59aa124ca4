"""Stand-in locations for the unit points, placed on the evidence at hand.

The 126 head offices have published addresses but no coordinates. Until real coordinates
arrive (a surveyed file, or geocoding reviewed by a person: ``pointplan geocode``), each unit
point needs a stand-in, and the figures that depend on it (who is left behind, minutes to the
nearest point) move with it. This module places stand-ins on the best evidence available
offline, and says which evidence each one rests on:

``street_in_unit``
    The head-office address names a street ("Số 126 Hàng Trống") and the road network has a
    street of that name inside the unit: the stand-in is the point of that street nearest to
    the unit's population centre. The matched street is recorded.
``unit_population_centre``
    Otherwise, the populated place (a demand cell of the unit) that minimises the straight-line
    person-metres to the unit's own population (a 1-median), moved onto the nearest road when
    the road network reaches it.
``unit_representative_point``
    Only when neither is possible (no demand, no street): a point inside the polygon.

The previous stand-in (``shapely.point_on_surface`` of the polygon) sits a median 845 m from
the population-weighted centre in the xã: every stand-in records how far it moved from it
(``moved_m``).

Computing stand-ins reads the inner-city road network (about 6 s) and the 250 m demand, so
the result for Hanoi is shipped as a table (``pointplan/tables/unit_standins.csv``) that
:func:`pointplan.load_points` reads; :func:`compute_standins` recomputes it
(``python -m pointplan.locate.sites`` rewrites the table) and a test checks it agrees.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from pointplan._address import StreetAddress, match_address_key, parse_street_address, street_key
from pointplan._errors import InputError
from pointplan._text import normalize_name
from pointplan._validate import check_crs, projected_crs

__all__ = [
    "LOCATION_PRECISIONS",
    "STANDIN_TABLE",
    "STAND_IN_PRECISIONS",
    "LocationPrecision",
    "compute_standins",
    "is_stand_in",
    "load_standins",
    "parse_street",
    "population_centre",
    "read_package_table",
    "street_edges",
    "unit_point_addresses",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: File name of the shipped Hanoi stand-ins (package table).
STANDIN_TABLE = "unit_standins.csv"

LocationPrecision = Literal[
    "surveyed",
    "reviewed",
    "geocoded",
    "osm_mapped",
    "street_in_unit",
    "place_in_unit",
    "unit_population_centre",
    "old_unit_reference",
    "unit_representative_point",
    "proposed",
    "unknown",
]
"""How a point's coordinates were obtained (see :data:`LOCATION_PRECISIONS`)."""

#: Location precision flags, best first.
#:
#: - ``surveyed``: measured on site or given by the user as exact;
#: - ``reviewed``: a geocoded answer a person checked and corrected (``pointplan geocode --apply``);
#: - ``geocoded``: an address-search answer that lies inside the unit the address names;
#: - ``osm_mapped``: the position of a building as mapped in OpenStreetMap (not surveyed by us);
#: - ``street_in_unit``: a stand-in on the street the head-office address names, inside the unit;
#: - ``place_in_unit``: the village or neighbourhood the address names, found inside the unit
#:   (a geocoded answer at place level: the building is somewhere in that place);
#: - ``unit_population_centre``: a stand-in at the populated place that minimises travel for the unit;
#: - ``old_unit_reference``: the reference point of the pre-2025 ward named in the address;
#: - ``unit_representative_point``: a point inside the unit polygon (the weakest stand-in);
#: - ``proposed``: a site proposed by the optimiser (not a real point yet);
#: - ``unknown``: nothing is known of how it was located.
LOCATION_PRECISIONS: tuple[LocationPrecision, ...] = get_args(LocationPrecision)

#: Precisions whose coordinates are stand-ins, not the real site: the one definition the
#: assessment, maps, reports and the uncertainty analysis share.
STAND_IN_PRECISIONS: frozenset[str] = frozenset(
    {"street_in_unit", "place_in_unit", "unit_population_centre", "old_unit_reference", "unit_representative_point"}
)


def is_stand_in(precision: pd.Series) -> pd.Series:
    """Return a boolean Series: True where a location precision marks a stand-in.

    Parameters
    ----------
    precision
        The ``location_precision`` column of a points frame.

    Returns
    -------
    pandas.Series
        Boolean, with the input's index. ``unknown`` is not a stand-in but is not precise either.

    Examples
    --------
    >>> import pandas as pd
    >>> is_stand_in(pd.Series(["surveyed", "unit_representative_point", "unknown"])).tolist()
    [False, True, False]
    """
    return precision.isin(STAND_IN_PRECISIONS)


def read_package_table(name: str) -> pd.DataFrame:
    """Read a table shipped in the package (``pointplan/tables``), every column as text.

    Parameters
    ----------
    name
        File name inside ``pointplan/tables``, e.g. ``"unit_point_overrides.csv"``.

    Returns
    -------
    pandas.DataFrame
        The table; empty cells are empty strings.

    Examples
    --------
    >>> sorted(read_package_table("unit_point_overrides.csv").columns)[:2]
    ['address', 'notes']
    """
    ref = resources.files("pointplan") / "tables" / name
    with resources.as_file(ref) as path:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def unit_point_addresses(units: gpd.GeoDataFrame) -> pd.Series:
    """Return the published address of each unit's service point.

    The head-office address (``hq_address``), except where a published source gives the
    unit's point another address (``tables/unit_point_overrides.csv``: Đống Đa, Phú Thượng,
    Tây Hồ).

    Parameters
    ----------
    units
        The units, indexed by code, with ``hq_address``.

    Returns
    -------
    pandas.Series
        Address strings indexed by unit code.

    Examples
    --------
    >>> from pointplan import load_units
    >>> unit_point_addresses(load_units()).loc["00070"]
    'Số 126 Hàng Trống, phường Hoàn Kiếm'
    """
    overrides = read_package_table("unit_point_overrides.csv").set_index("unit_code")
    addr = units["hq_address"].astype(str).copy()
    hit = addr.index.intersection(overrides.index)
    addr.loc[hit] = overrides.loc[hit, "address"].map(normalize_name)
    return addr


#: A point is "on the road network" when a road lies within this distance (m).
ROAD_SNAP_M = 300.0


def parse_street(address: str) -> str | None:
    """Return the street an address names, or ``None`` when it names none.

    Parameters
    ----------
    address
        A Vietnamese address such as ``"Số 126 Hàng Trống, phường Hoàn Kiếm"``.

    Returns
    -------
    str or None
        The street name without its type word (``"Hàng Trống"``), or ``None`` for an address
        that starts with a hamlet, a residential group or the unit itself.

    Examples
    --------
    >>> parse_street("Số 126 Hàng Trống, phường Hoàn Kiếm")
    'Hàng Trống'
    >>> parse_street("Số 270, đường Ngọc Thụy, phường Bồ Đề")
    'Ngọc Thụy'
    >>> parse_street("Số 5 ngõ 12 phố Vạn Hạnh, phường Việt Hưng")
    'Vạn Hạnh'
    >>> parse_street("Thôn Đức Hậu, xã Đa Phúc") is None
    True
    """
    return parse_street_address(address).street


def _street_key(name: str) -> str:
    """Return a comparable street name (:func:`pointplan._address.street_key`)."""
    return street_key(name)


def street_edges(network: str | Path | object) -> gpd.GeoDataFrame:
    """Return the named road segments of a network, in the projected CRS.

    Parameters
    ----------
    network
        A GraphML/OSM file path, or a networkx graph with ``x``/``y`` node coordinates.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per named edge: ``name`` (as in OSM), ``street_key`` (comparable form) and
        the line geometry in :func:`pointplan._validate.projected_crs`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=100.0, y=0.0)
    >>> _ = G.add_edge(1, 2, name="Phố Hàng Trống", highway="residential")
    >>> street_edges(G)[["name", "street_key"]].values.tolist()
    [['Phố Hàng Trống', 'hàng trống']]
    """
    import osmnx as ox

    graph = ox.load_graphml(network) if isinstance(network, (str, Path)) else network
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    if "name" not in edges:
        return gpd.GeoDataFrame({"name": [], "street_key": []}, geometry=[], crs=projected_crs())
    names = edges["name"].map(lambda v: v[0] if isinstance(v, list) and v else v)
    keep = names.notna() & (names.astype(str).str.strip() != "")
    out = gpd.GeoDataFrame(
        {"name": names[keep].astype(str).to_numpy()},
        geometry=edges.geometry[keep].to_numpy(),
        crs=edges.crs,
    ).to_crs(projected_crs())
    out["street_key"] = out["name"].map(_street_key)
    return out


def population_centre(xy: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> int:
    """Return the index of the populated place that minimises weighted distance to all others.

    A discrete 1-median: the candidate places are the populated places themselves, so the
    result is always somewhere people live (never an empty field between two villages).

    Parameters
    ----------
    xy
        ``(n, 2)`` projected coordinates (m).
    weights
        People at each place (``n``).

    Returns
    -------
    int
        Position of the chosen place in ``xy``.

    Examples
    --------
    Three villages on a line; most people live in the middle one:

    >>> import numpy as np
    >>> population_centre(np.array([[0.0, 0], [1000, 0], [5000, 0]]), np.array([10.0, 50, 20]))
    1
    """
    xy = np.asarray(xy, dtype=float)
    w = np.asarray(weights, dtype=float)
    if len(xy) == 0:
        msg = "population_centre needs at least one populated place."
        raise InputError(msg)
    best, best_cost = 0, np.inf
    for start in range(0, len(xy), 512):  # blocks keep memory at 512 × n
        d = np.hypot(
            xy[start : start + 512, None, 0] - xy[None, :, 0], xy[start : start + 512, None, 1] - xy[None, :, 1]
        )
        cost = d @ w
        i = int(np.argmin(cost))
        if cost[i] < best_cost:
            best, best_cost = start + i, float(cost[i])
    return best


def _nearest_on(lines: gpd.GeoSeries, point: shapely.Point) -> shapely.Point:
    """Return the point of ``lines`` nearest to ``point`` (all projected)."""
    geom = shapely.union_all(np.asarray(lines.values)) if len(lines) > 1 else lines.iloc[0]
    return shapely.ops.nearest_points(geom, point)[0]


def _centres(units_p: gpd.GeoDataFrame, demand_p: gpd.GeoDataFrame) -> dict[str, shapely.Point]:
    """Return the population 1-median of each unit's demand points (projected)."""
    out: dict[str, shapely.Point] = {}
    for code, grp in demand_p.groupby("unit_code"):
        grp = grp[grp["population"] > 0]
        if len(grp):
            xy = np.column_stack([grp.geometry.x, grp.geometry.y])
            out[str(code)] = grp.geometry.iloc[population_centre(xy, grp["population"].to_numpy(float))]
    return out


def _street_standin(
    unit_geom: shapely.Geometry, found: StreetAddress, streets: gpd.GeoDataFrame, centre: shapely.Point
) -> tuple[shapely.Point, str] | None:
    """Return the point of the named street (or alley) in the unit nearest the centre, with its OSM name."""
    if found.street is None or streets.empty:
        return None
    near = streets.iloc[np.sort(streets.sindex.query(unit_geom, predicate="intersects"))]
    key = match_address_key(found, near["street_key"].unique())
    if key is None:
        return None
    cand = near[near["street_key"] == key]
    inside = cand.geometry.intersection(unit_geom)
    inside = inside[~inside.is_empty & (inside.length > 0)]
    if inside.empty:
        return None
    return _nearest_on(inside, centre), str(cand.loc[inside.index[0], "name"])


def _on_road(point: shapely.Point, unit_geom: shapely.Geometry, streets_tree: tuple) -> shapely.Point:
    """Move ``point`` onto the nearest road inside its unit when one lies within ROAD_SNAP_M."""
    tree, geoms = streets_tree
    if tree is None:
        return point
    idx = tree.query(point.buffer(ROAD_SNAP_M), predicate="intersects")
    if len(idx) == 0:
        return point
    near = shapely.intersection(geoms[idx], unit_geom)
    near = near[~shapely.is_empty(near)]
    if len(near) == 0:
        return point
    snapped = shapely.ops.nearest_points(shapely.union_all(near), point)[0]
    return snapped if snapped.distance(point) <= ROAD_SNAP_M else point


def _place_one(
    geom: shapely.Geometry,
    found: StreetAddress,
    streets: gpd.GeoDataFrame,
    tree: tuple,
    centre: shapely.Point | None,
    inside: shapely.Point,
) -> tuple[shapely.Point, str, LocationPrecision]:
    """Place one unit's stand-in: its street, else its population centre (on a road), else inside it."""
    hit = _street_standin(geom, found, streets, centre or inside)
    if hit is not None:
        return hit[0], hit[1], "street_in_unit"
    if centre is not None:
        return _on_road(centre, geom, tree), "", "unit_population_centre"
    return inside, "", "unit_representative_point"


def compute_standins(
    units: gpd.GeoDataFrame,
    *,
    addresses: pd.Series | None = None,
    network: str | Path | object | None = None,
    demand: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Place a stand-in for each unit's point on the best evidence available.

    Parameters
    ----------
    units
        Unit polygons with a CRS, indexed by code, with ``hq_address`` (used when
        ``addresses`` is not given).
    addresses
        The address of each unit's point, indexed by unit code (default ``hq_address``).
    network
        A road network (file or graph) whose named streets are matched; ``None`` skips the
        street match (every stand-in is then a population centre).
    demand
        Demand points with ``unit_code`` and ``population``
        (:func:`pointplan.demand.build_demand` at 250 m for the shipped table); required.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by unit code, in the units' CRS: ``location_precision`` (``street_in_unit``,
        ``unit_population_centre`` or ``unit_representative_point``), ``matched_street``,
        ``street_parsed``, ``moved_m`` (distance from the polygon's ``point_on_surface``, the
        previous stand-in) and the point geometry.

    Examples
    --------
    A square unit whose address names a street of the network:

    >>> import networkx as nx, geopandas as gpd, shapely, pandas as pd
    >>> sq = shapely.box(585000, 2325000, 586000, 2326000)
    >>> units = gpd.GeoDataFrame({"hq_address": ["Số 1 phố Hàng Trống, phường X"]},
    ...                          geometry=[sq], index=pd.Index(["00001"], name="code"), crs=32648)
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=585100.0, y=2325900.0); G.add_node(2, x=585900.0, y=2325900.0)
    >>> _ = G.add_edge(1, 2, name="Phố Hàng Trống", highway="residential")
    >>> demand = gpd.GeoDataFrame({"unit_code": ["00001"] * 2, "population": [100.0, 10.0]},
    ...     geometry=gpd.points_from_xy([585500, 585200], [2325500, 2325200]), crs=32648)
    >>> s = compute_standins(units, network=G, demand=demand)
    >>> s.loc["00001", "location_precision"], s.loc["00001", "matched_street"]
    ('street_in_unit', 'Phố Hàng Trống')
    >>> (round(s.geometry.iloc[0].x), round(s.geometry.iloc[0].y))
    (585500, 2325900)
    """
    check_crs(units, "units")
    crs = projected_crs()
    units_p = units.to_crs(crs)
    addresses = units["hq_address"] if addresses is None else addresses
    if demand is None:  # standins sits below demand: the caller builds it
        msg = "compute_standins needs the demand points: pass demand=pointplan.demand.build_demand(units, cell_m=250)."
        raise InputError(msg)
    demand_p = demand.to_crs(crs)
    streets = (
        street_edges(network)
        if network is not None
        else gpd.GeoDataFrame({"name": [], "street_key": []}, geometry=[], crs=crs)
    )
    geoms = np.asarray(streets.geometry.values)
    tree = (shapely.STRtree(geoms), geoms) if len(geoms) else (None, geoms)
    centres = _centres(units_p, demand_p)
    old = gpd.GeoSeries(shapely.point_on_surface(np.asarray(units_p.geometry.values)), index=units_p.index, crs=crs)
    rows, points = [], []
    for code, geom in units_p.geometry.items():
        found = parse_street_address(str(addresses.get(code, "") or ""))
        pt, matched, precision = _place_one(geom, found, streets, tree, centres.get(str(code)), old[code])
        rows.append({"location_precision": precision, "matched_street": matched, "street_parsed": found.street or ""})
        points.append(pt)
    out = gpd.GeoDataFrame(rows, geometry=points, index=units_p.index, crs=crs)
    out["moved_m"] = out.geometry.distance(old).round(1)
    return out.to_crs(units.crs)


def load_standins() -> pd.DataFrame:
    """Read the shipped Hanoi stand-ins table.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code (string): ``lon``, ``lat`` (EPSG:4326), ``location_precision``,
        ``matched_street``, ``street_parsed``, ``moved_m``.

    Examples
    --------
    >>> t = load_standins()
    >>> len(t), sorted(t["location_precision"].unique())
    (126, ['street_in_unit', 'unit_population_centre'])
    """
    ref = resources.files("pointplan") / "tables" / STANDIN_TABLE
    with resources.as_file(ref) as path:
        t = pd.read_csv(path, dtype={"code": str}, keep_default_na=False, encoding="utf-8")
    return t.set_index("code")


if __name__ == "__main__":  # pragma: no cover
    print("The stand-ins table is rewritten by: python -m pointplan.locate.sites (stand-ins, then located sites)")
