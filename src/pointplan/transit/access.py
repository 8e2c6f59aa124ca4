"""Bus access of service points and units: stops within walking distance, buses per hour.

Definitions
-----------
*Within walking distance*
    A stop is near a place when the straight line between them is at most ``walk_m``
    (400 m by default, about 5 minutes on foot), measured in EPSG:32648. Streets make the
    walk longer (≈ 500 m on foot for 400 m straight), so this is generous to the bus.
*Buses per hour near a place* (``bus_trips_per_hour_<period>``)
    The trips per hour of every distinct route-direction with at least one stop near the
    place, summed (a route with three stops nearby counts once; both directions count).
*Transit access of a unit* (``bus_access``, the indicator)
    The population-weighted mean of the buses per hour near where people live: for each
    demand point *d* of the unit (:func:`pointplan.demand.build_demand`), with population
    *p_d* and buses per hour *b_d* near it, ``Σ p_d b_d / Σ p_d``. ``bus_access`` is the
    midday figure (09:00–16:00, when the counters are open); ``bus_access_am`` and
    ``bus_access_pm`` give the peaks. 0 means nobody in the unit lives within ``walk_m``
    of a stop; ``bus_pop_share_near`` is the share of people who do.

What this cannot say
--------------------
The city-wide feed has no timetables (no ``stop_times``), so door-to-door bus travel
times — walk, wait, ride, transfer, walk — cannot be computed city-wide: these figures say
whether a bus is near and how often it runs, not how long the trip to a service point
takes. True walk + bus + walk times are computed only where a complete timetable exists
(the Đống Đa subset, :mod:`pointplan.transit.timetable`).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._errors import InputError
from pointplan._validate import check_columns, check_geometries, check_number, ensure_gdf, projected_crs
from pointplan.points import is_stand_in
from pointplan.transit.network import PERIODS, BusNetwork, load_bus_network

__all__ = [
    "DEFAULT_WALK_M",
    "no_bus_stop_findings",
    "point_bus_access",
    "unit_bus_access",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Default walking distance to a stop (metres, straight line): about 5 minutes on foot.
DEFAULT_WALK_M: float = 400.0
#: Rule name of the finding for points without a stop nearby.
RULE_NO_BUS_STOP = "no_bus_stop_nearby"

_TPH = [f"bus_trips_per_hour_{p}" for p in PERIODS]


def _xy(gdf: gpd.GeoDataFrame, what: str) -> npt.NDArray[np.float64]:
    """Return projected coordinates (n × 2) of the points (or representative points) of ``gdf``."""
    ensure_gdf(gdf, what)
    geom = gdf.geometry.to_crs(projected_crs())
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    if geom.is_empty.any() or geom.isna().any():
        msg = f"{what} has empty geometries in rows {list(gdf.index[geom.is_empty | geom.isna()][:8])}; drop them."
        raise InputError(msg)
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def _near(xy: npt.NDArray[np.float64], network: BusNetwork, walk_m: float) -> pd.DataFrame:
    """Count stops, routes and buses per hour within ``walk_m`` of each row of ``xy``; nearest stop.

    Sparse: only the (place, stop) pairs within reach are formed, never a dense matrix.
    """
    stops_xy = _xy(network.stops, "network.stops")
    route_codes, route_of_stop = np.unique(network.stops["route_id"].to_numpy(dtype=str), return_inverse=True)
    place_codes, place_of_stop = np.unique(network.stops["place_id"].to_numpy(dtype=str), return_inverse=True)
    tph = network.trips_per_hour().reindex(route_codes).fillna(0.0)
    tree = cKDTree(stops_xy)
    pairs = cKDTree(xy).sparse_distance_matrix(tree, walk_m, output_type="ndarray")  # keeps 0 m pairs
    dist0, idx0 = tree.query(xy, k=1)
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    n = len(xy)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    places = np.unique(i * len(place_codes) + place_of_stop[j])
    out["bus_stops_near"] = np.bincount(places // len(place_codes), minlength=n)
    routes = np.unique(i * len(route_codes) + route_of_stop[j])
    ri, rr = routes // len(route_codes), routes % len(route_codes)
    out["bus_routes_near"] = np.bincount(ri, minlength=n)
    for col, p in zip(_TPH, PERIODS, strict=True):
        out[col] = np.bincount(ri, weights=tph[p].to_numpy()[rr], minlength=n)
    out["nearest_bus_stop_m"] = dist0
    out["nearest_bus_stop_id"] = place_codes[place_of_stop[idx0]]
    return out


def point_bus_access(
    points: gpd.GeoDataFrame,
    network: BusNetwork | None = None,
    *,
    walk_m: float = DEFAULT_WALK_M,
) -> pd.DataFrame:
    """Count the bus stops within walking distance of each service point and their buses per hour.

    Door-to-door transit times are not computed: the city-wide feed has no timetables
    (see :mod:`pointplan.transit.access`).

    Parameters
    ----------
    points
        Service points (any CRS; polygons are reduced to a representative point).
    network
        From :func:`pointplan.transit.load_bus_network` (default: the 2018 network).
    walk_m
        Walking distance to a stop, metres in a straight line.

    Returns
    -------
    pandas.DataFrame
        With ``points``' index: ``bus_stops_near`` (stop places within ``walk_m``),
        ``bus_routes_near`` (distinct route-directions stopping there),
        ``bus_trips_per_hour_am`` / ``_midday`` / ``_pm`` (their buses per hour),
        ``nearest_bus_stop_m`` and ``nearest_bus_stop_id`` (its ``place_id``).
        ``attrs["walk_m"]`` holds ``walk_m``.

    Raises
    ------
    InputError
        Points that are not a GeoDataFrame with a CRS, or a bad ``walk_m``.

    Examples
    --------
    Two routes stop at one place; a service point 300 m east of it and one 1 km east:

    >>> from pointplan.transit.network import BusNetwork
    >>> stops = gpd.GeoDataFrame({"stop_id": ["A_S1", "B_S1"], "route_id": ["A", "B"]},
    ...     geometry=gpd.points_from_xy([585_000, 585_000], [2_320_000, 2_320_000]), crs="EPSG:32648")
    >>> trips = pd.DataFrame({"trips_am": [12, 6], "trips_midday": [21, 14], "trips_pm": [9, 3]},
    ...                      index=pd.Index(["A", "B"], name="route_id"))
    >>> pts = gpd.GeoDataFrame({"name": ["near", "far"]},
    ...     geometry=gpd.points_from_xy([585_300, 586_000], [2_320_000, 2_320_000]), crs="EPSG:32648")
    >>> acc = point_bus_access(pts, BusNetwork(stops, trips))
    >>> acc[["bus_stops_near", "bus_routes_near", "bus_trips_per_hour_midday"]].to_numpy().tolist()
    [[1.0, 2.0, 5.0], [0.0, 0.0, 0.0]]
    >>> acc["nearest_bus_stop_m"].round().tolist()
    [300.0, 1000.0]
    """
    walk = check_number(walk_m, "walk_m", minimum=0, strict=True)
    assert walk is not None
    network = load_bus_network() if network is None else network
    out = _near(_xy(points, "points"), network, walk)
    out.index = points.index
    out.attrs["walk_m"] = walk
    return out


def unit_bus_access(
    units: gpd.GeoDataFrame,
    network: BusNetwork | None = None,
    *,
    demand: gpd.GeoDataFrame | None = None,
    walk_m: float = DEFAULT_WALK_M,
) -> pd.DataFrame:
    """Measure bus service in each unit and its transit access indicator (where people live).

    Parameters
    ----------
    units
        Unit polygons indexed by code (with ``population`` when ``demand`` is not given).
    network
        From :func:`pointplan.transit.load_bus_network` (default: the 2018 network).
    demand
        Demand points with ``unit_code`` and ``population``. Default:
        :func:`pointplan.demand.build_demand` on ``units`` with ``cell_m=250``: a 400 m
        walk is finer than the 1 km pixels, whose centre may lie 700 m from their people.
    walk_m
        Walking distance to a stop, metres in a straight line.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``bus_stops`` (stop places inside the unit), ``bus_routes``
        (route-directions stopping inside), ``bus_trips_per_hour_am`` / ``_midday`` /
        ``_pm`` (their buses per hour), ``bus_pop_share_near`` (share of the people living
        within ``walk_m`` of a stop), ``bus_access_am`` / ``bus_access_midday`` /
        ``bus_access_pm`` (population-weighted buses per hour within ``walk_m``, see the
        module notes) and ``bus_access`` (= midday). Units without demand points have NaN
        access figures (no people to weigh); ``attrs["walk_m"]`` holds ``walk_m``.

    Raises
    ------
    InputError
        Bad units, demand (or demand points in units absent from ``units``) or ``walk_m``.

    Examples
    --------
    Unit U holds a stop of route A (14 buses midday = 2 per hour); 30 of its 40 people live
    150 m from it, 10 live 900 m away. Unit V has no stop and nobody near one:

    >>> import shapely
    >>> from pointplan.transit.network import BusNetwork
    >>> stops = gpd.GeoDataFrame({"stop_id": ["A_S1"], "route_id": ["A"]},
    ...     geometry=gpd.points_from_xy([585_000], [2_320_000]), crs="EPSG:32648")
    >>> trips = pd.DataFrame({"trips_am": [6], "trips_midday": [14], "trips_pm": [6]},
    ...                      index=pd.Index(["A"], name="route_id"))
    >>> units = gpd.GeoDataFrame(index=pd.Index(["U", "V"], name="code"), crs="EPSG:32648",
    ...     geometry=[shapely.box(584_000, 2_319_000, 586_000, 2_321_000),
    ...               shapely.box(586_000, 2_319_000, 588_000, 2_321_000)])
    >>> demand = gpd.GeoDataFrame({"unit_code": ["U", "U", "V"], "population": [30.0, 10.0, 50.0]},
    ...     geometry=gpd.points_from_xy([585_150, 585_900, 587_500], [2_320_000] * 3), crs="EPSG:32648")
    >>> table = unit_bus_access(units, BusNetwork(stops, trips), demand=demand)
    >>> table[["bus_stops", "bus_trips_per_hour_midday", "bus_pop_share_near", "bus_access"]].to_numpy().tolist()
    [[1.0, 2.0, 0.75, 1.5], [0.0, 0.0, 0.0, 0.0]]
    """
    walk = check_number(walk_m, "walk_m", minimum=0, strict=True)
    assert walk is not None
    ensure_gdf(units, "units")
    check_geometries(units, "units", types=("Polygon", "MultiPolygon"))
    network = load_bus_network() if network is None else network
    codes = pd.Index(units.index.astype(str), name="code")
    if demand is None:
        from pointplan.demand import build_demand  # the raster read is only needed here

        demand = build_demand(units, cell_m=250)
    check_columns(demand, ["unit_code", "population"], "demand")
    stray = pd.Index(demand["unit_code"].astype(str).unique()).difference(codes)
    if len(stray):
        msg = f"demand has points in units absent from units: {list(stray[:8])}. Build demand for the same units."
        raise InputError(msg)
    inside = _stops_inside(network, units, codes)
    near = _near(_xy(demand, "demand"), network, walk)
    out = pd.concat([inside, _weighted(near, demand, codes)], axis=1)
    out.index.name = "code"
    out.attrs["walk_m"] = walk
    return out


def _stops_inside(network: BusNetwork, units: gpd.GeoDataFrame, codes: pd.Index) -> pd.DataFrame:
    """Count stop places, route-directions and buses per hour of the stops inside each unit."""
    polys = units.geometry.to_crs(settings.geographic_crs)
    stop_idx, unit_idx = polys.sindex.query(network.stops.geometry, predicate="within")
    stops = network.stops.iloc[stop_idx]
    unit = codes.to_numpy()[unit_idx]
    tph = network.trips_per_hour()
    pairs = pd.DataFrame({"unit": unit, "route": stops["route_id"].to_numpy()}).drop_duplicates()
    per_route = tph.reindex(pairs["route"]).fillna(0.0).to_numpy()
    out = pd.DataFrame(index=codes)
    out["bus_stops"] = pd.Series(stops["place_id"].to_numpy()).groupby(unit).nunique().reindex(codes).fillna(0)
    out["bus_routes"] = pairs.groupby("unit")["route"].size().reindex(codes).fillna(0)
    sums = pd.DataFrame(per_route, columns=_TPH).groupby(pairs["unit"].to_numpy()).sum()
    for col in _TPH:
        out[col] = sums[col].reindex(codes).fillna(0.0) if len(sums) else 0.0
    return out.astype(float)


def _weighted(near: pd.DataFrame, demand: gpd.GeoDataFrame, codes: pd.Index) -> pd.DataFrame:
    """Weigh buses per hour near the demand points by population; share of people near a stop."""
    pop = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(pop).all() or (pop < 0).any():
        msg = "demand['population'] must hold finite numbers >= 0; pass build_demand() output."
        raise InputError(msg)
    unit = demand["unit_code"].astype(str).to_numpy()
    frame = pd.DataFrame({"pop": pop, "near": pop * (near["bus_stops_near"].to_numpy() > 0)})
    for p, col in zip(PERIODS, _TPH, strict=True):
        frame[p] = pop * near[col].to_numpy()
    sums = frame.groupby(unit).sum().reindex(codes)
    total = sums["pop"].where(sums["pop"] > 0)
    out = pd.DataFrame(index=codes)
    out["bus_pop_share_near"] = sums["near"] / total
    for p in PERIODS:
        out[f"bus_access_{p}"] = sums[p] / total
    out["bus_access"] = out["bus_access_midday"]
    return out


def no_bus_stop_findings(
    points: gpd.GeoDataFrame,
    network: BusNetwork | None = None,
    *,
    walk_m: float = DEFAULT_WALK_M,
    access: pd.DataFrame | None = None,
    by_unit: bool = False,
) -> pd.DataFrame:
    """Report the service points with no bus stop within walking distance (findings).

    Parameters
    ----------
    points
        Service points with ``point_id`` (else the index is used), optional ``name``,
        ``unit_code`` and ``location_precision``.
    network
        From :func:`pointplan.transit.load_bus_network` (default: the 2018 network).
    walk_m
        Walking distance to a stop, metres in a straight line.
    access
        :func:`point_bus_access` output for ``points`` if already computed.
    by_unit
        One finding per unit (how many of its points have no stop nearby, the farthest
        named, ``point_id`` empty) instead of one per point: for very many points.

    Returns
    -------
    pandas.DataFrame
        One row per point (or unit) without a stop nearby, in the columns of
        :attr:`pointplan.access.Assessment.findings` (``rule`` =
        ``"no_bus_stop_nearby"``, ``severity`` = ``"warning"``, ``unit_code``,
        ``point_id``, ``message`` in Vietnamese, ``message_en``) plus
        ``nearest_bus_stop_m``. A point whose location is a stand-in is said to be so.

    Examples
    --------
    >>> from pointplan.transit.network import BusNetwork
    >>> stops = gpd.GeoDataFrame({"stop_id": ["A_S1"], "route_id": ["A"]},
    ...     geometry=gpd.points_from_xy([585_000], [2_320_000]), crs="EPSG:32648")
    >>> trips = pd.DataFrame({"trips_midday": [14]}, index=pd.Index(["A"], name="route_id"))
    >>> pts = gpd.GeoDataFrame({"point_id": ["P1", "P2"], "name": ["UBND A", "UBND B"],
    ...     "unit_code": ["U", "V"]}, crs="EPSG:32648",
    ...     geometry=gpd.points_from_xy([585_100, 586_250], [2_320_000, 2_320_000]))
    >>> f = no_bus_stop_findings(pts, BusNetwork(stops, trips))
    >>> f[["point_id", "unit_code", "nearest_bus_stop_m"]].to_numpy().tolist()
    [['P2', 'V', 1250.0]]
    >>> print(f["message_en"].iloc[0])
    UBND B: no bus stop within 400 m (nearest 1,250 m; 2018 network).
    """
    walk = check_number(walk_m, "walk_m", minimum=0, strict=True)
    assert walk is not None
    if access is None:
        access = point_bus_access(points, network, walk_m=walk)
    if by_unit:
        return _findings_by_unit(points, access, walk)
    far = access.index[access["bus_stops_near"].to_numpy() == 0]
    rows = points.loc[far]
    ids = rows["point_id"].astype(str) if "point_id" in rows else pd.Series(rows.index.astype(str), index=far)
    names = rows["name"].astype(str) if "name" in rows else ids
    stand_in = is_stand_in(rows["location_precision"]) if "location_precision" in rows else pd.Series(False, far)
    dist = access.loc[far, "nearest_bus_stop_m"].round()
    records = []
    for k in far:
        d = f"{dist[k]:,.0f}"
        note_vi = " (vị trí điểm là vị trí thay thế, chưa phải địa chỉ thật)" if stand_in[k] else ""
        note_en = " (the point's location is a stand-in, not its address)" if stand_in[k] else ""
        records.append(
            {
                "rule": RULE_NO_BUS_STOP,
                "severity": "warning",
                "unit_code": str(rows.at[k, "unit_code"]) if "unit_code" in rows else None,
                "point_id": ids[k],
                "message": f"{names[k]}: không có điểm dừng xe buýt trong {walk:,.0f} m "
                f"(gần nhất {d.replace(',', '.')} m; mạng 2018){note_vi}.",
                "message_en": f"{names[k]}: no bus stop within {walk:,.0f} m (nearest {d} m; 2018 network){note_en}.",
                "nearest_bus_stop_m": float(dist[k]),
            }
        )
    cols = ["rule", "severity", "unit_code", "point_id", "message", "message_en", "nearest_bus_stop_m"]
    return pd.DataFrame(records, columns=cols)


def _findings_by_unit(points: gpd.GeoDataFrame, access: pd.DataFrame, walk: float) -> pd.DataFrame:
    """One ``no_bus_stop_nearby`` finding per unit: its points without a stop nearby, counted."""
    cols = ["rule", "severity", "unit_code", "point_id", "message", "message_en", "nearest_bus_stop_m"]
    unit = points["unit_code"].astype(str) if "unit_code" in points else pd.Series("", index=points.index)
    names = points["name"].astype(str) if "name" in points else pd.Series(points.index.astype(str), index=points.index)
    t = pd.DataFrame(
        {
            "unit": unit.to_numpy(),
            "far": access["bus_stops_near"].reindex(points.index).to_numpy() == 0,
            "m": access["nearest_bus_stop_m"].reindex(points.index).round().to_numpy(),
            "name": names.to_numpy(),
        }
    )
    total = t.groupby("unit", sort=True).size()
    far = t[t["far"]].sort_values(["unit", "m"], ascending=[True, False], kind="stable")
    records = []
    for code, g in far.groupby("unit", sort=True):
        n, top = len(g), g.iloc[0]
        d = f"{top['m']:,.0f}"
        records.append(
            {
                "rule": RULE_NO_BUS_STOP,
                "severity": "warning",
                "unit_code": None if code == "" else code,
                "point_id": None,
                "message": f"{n}/{total[code]} điểm của đơn vị không có điểm dừng xe buýt trong {walk:,.0f} m "
                f"(xa nhất: {top['name']}, {d.replace(',', '.')} m; mạng 2018).",
                "message_en": f"{n} of {total[code]} points of the unit: no bus stop within {walk:,.0f} m "
                f"(farthest: {top['name']}, {d} m; 2018 network).",
                "nearest_bus_stop_m": float(top["m"]),
            }
        )
    return pd.DataFrame(records, columns=cols)
