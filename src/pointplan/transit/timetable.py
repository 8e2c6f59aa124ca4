"""Door-to-door walk + bus + walk times on a complete GTFS timetable (Đống Đa subset).

Only the Đống Đa / Thanh Xuân subset of the 2018 feed has ``stop_times``
(``data/transit/hanoi_bus_2018/dong_da_subset_complete``: 372 stops, 2,447 midday trips,
09:34–18:00). There, true travel times are computed; city-wide they are out of reach (no
timetable), see :mod:`pointplan.transit.access`.

Method
------
The feed is read with gtfs-kit (:func:`read_gtfs`) and compiled into *connections* (one
bus leaving stop *a* at time *t* and reaching the next stop *b* at *t'*), sorted by
departure (:func:`build_timetable`). For a traveller leaving an origin at time *t₀*, the
Connection Scan Algorithm (Dibbelt et al. 2013) gives the earliest arrival at every stop:

1. walk (straight line, ``walk_speed_kmh``) to every stop within ``walk_m``;
2. scan the connections leaving from *t₀* on: a bus can be taken if the traveller is on
   that trip already or stands at its stop by its departure; its arrival improves the
   stop and, by a walk of at most ``transfer_m``, the stops nearby (transfers; no minimum
   transfer time, one walk between two buses);
3. at the destination, the best of walking the whole way and arriving at a stop within
   ``walk_m`` then walking on.

Waiting at the first stop is included: :func:`transit_times` repeats the scan for
departures every ``every_min`` minutes over a window and reports the mean, best and
worst door-to-door minutes, as a traveller who does not time the bus would see.
Walking is in a straight line, so on streets walks are somewhat longer.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._errors import DataNotFoundError, InputError
from pointplan._validate import check_number, ensure_gdf, projected_crs
from pointplan.data import data_file

if TYPE_CHECKING:
    import gtfs_kit

__all__ = [
    "WALK_SPEED_KMH",
    "Timetable",
    "build_timetable",
    "earliest_arrival",
    "read_gtfs",
    "transit_times",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Walking speed (km/h): the project's planning walking speed (``pointplan.network``).
WALK_SPEED_KMH: float = 4.5

_SUBSET = "transit/hanoi_bus_2018/dong_da_subset_complete"


def read_gtfs(path: str | Path | None = None) -> gtfs_kit.Feed:
    """Read a complete GTFS feed (with ``stop_times``) with gtfs-kit.

    Parameters
    ----------
    path
        A GTFS folder or zip. Default: the project's Đống Đa subset
        (``data/transit/hanoi_bus_2018/dong_da_subset_complete``).

    Returns
    -------
    gtfs_kit.Feed
        The feed, distances in km.

    Raises
    ------
    DataNotFoundError
        No such folder or file.
    InputError
        A feed without ``stops`` or ``stop_times`` (such as the city-wide 2018 network:
        use :func:`pointplan.transit.load_bus_network` for its frequencies).

    Examples
    --------
    >>> feed = read_gtfs()
    >>> len(feed.stops), feed.trips["trip_id"].nunique(), len(feed.stop_times)
    (372, 2447, 14507)
    """
    try:
        import gtfs_kit  # imported here: it takes seconds and only timetables need it
    except ImportError as exc:
        msg = "Reading a GTFS timetable needs gtfs-kit: pip install gtfs-kit (a pointplan dependency)."
        raise ImportError(msg) from exc

    if path is None:
        folder = data_file(f"{_SUBSET}/stop_times.txt").parent
    else:
        folder = Path(path)
        if not folder.exists():
            msg = f"GTFS feed {folder} does not exist. Pass a GTFS folder or .zip."
            raise DataNotFoundError(msg)
    feed = gtfs_kit.read_feed(folder, dist_units="km")
    for table in ("stops", "trips", "stop_times"):
        if getattr(feed, table, None) is None or len(getattr(feed, table)) == 0:
            msg = (
                f"The GTFS feed {folder} has no {table}.txt: door-to-door times need a complete "
                "timetable. For a network without stop_times use "
                "pointplan.transit.load_bus_network() (stops and buses per hour)."
            )
            raise InputError(msg)
    return feed


def _seconds(times: pd.Series) -> npt.NDArray[np.float64]:
    """Seconds after midnight of GTFS ``HH:MM:SS`` strings (hours may pass 24); NaN if blank."""
    parts = times.astype("string").str.strip().str.extract(r"^(\d+):(\d{2}):(\d{2})$").astype(float)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy(dtype=float)


@dataclass
class Timetable:
    """A GTFS timetable compiled into connections sorted by departure time.

    Attributes
    ----------
    stops
        EPSG:4326 stop points indexed by ``stop_id`` (with ``stop_name`` when given).
    xy
        Projected stop coordinates (n × 2, EPSG:32648 metres), in the order of ``stops``.
    dep_stop, arr_stop
        Positions in ``stops`` of each connection's departure and arrival stop.
    dep_s, arr_s
        Departure and arrival times, seconds after midnight (sorted by ``dep_s``).
    trip
        Trip number of each connection (position in ``trip_ids``).
    trip_ids
        The GTFS ``trip_id`` of each trip number.

    Examples
    --------
    >>> tt = build_timetable(read_gtfs())
    >>> len(tt.stops), tt.n_connections, len(tt.trip_ids)
    (372, 12060, 2447)
    >>> bool((np.diff(tt.dep_s) >= 0).all() and (tt.arr_s >= tt.dep_s).all())
    True
    """

    stops: gpd.GeoDataFrame
    xy: npt.NDArray[np.float64]
    dep_stop: npt.NDArray[np.intp]
    arr_stop: npt.NDArray[np.intp]
    dep_s: npt.NDArray[np.float64]
    arr_s: npt.NDArray[np.float64]
    trip: npt.NDArray[np.intp]
    trip_ids: npt.NDArray[np.str_]

    @property
    def n_connections(self) -> int:
        """Number of connections (bus hops between consecutive stops)."""
        return int(self.dep_s.size)

    @functools.cached_property
    def _lists(self) -> tuple[list[int], list[int], list[float], list[float], list[int]]:
        """The connection arrays as Python lists, built once: the scan reads them item by item."""
        return (
            self.dep_stop.tolist(),
            self.arr_stop.tolist(),
            self.dep_s.tolist(),
            self.arr_s.tolist(),
            self.trip.tolist(),
        )


def build_timetable(feed: gtfs_kit.Feed, *, date: str | None = None) -> Timetable:
    """Compile a GTFS feed into connections sorted by departure time.

    Parameters
    ----------
    feed
        From :func:`read_gtfs`.
    date
        ``YYYYMMDD``: keep only the trips running that day (calendar and calendar dates).
        ``None`` keeps every trip (the Đống Đa feed has one service, every day of 2018).

    Returns
    -------
    Timetable
        Connections between consecutive stops of each trip.

    Raises
    ------
    InputError
        Stop times with unknown stops, or no trip running on ``date``.

    Examples
    --------
    >>> tt = build_timetable(read_gtfs(), date="20180615")
    >>> tt.n_connections
    12060
    """
    st = feed.stop_times
    if date is not None:
        trips = feed.get_trips(date)
        if trips is None or len(trips) == 0:
            msg = f"No trip runs on {date!r} in this feed; give a date of its calendar (YYYYMMDD)."
            raise InputError(msg)
        st = st[st["trip_id"].isin(trips["trip_id"])]
    stops = gpd.GeoDataFrame(
        feed.stops.drop(columns=["stop_lat", "stop_lon"]).set_index("stop_id"),
        geometry=gpd.points_from_xy(feed.stops["stop_lon"], feed.stops["stop_lat"]),
        crs=settings.geographic_crs,
    )
    unknown = sorted(set(st["stop_id"]) - set(stops.index))
    if unknown:
        msg = f"stop_times name stops absent from stops.txt: {unknown[:8]}. Repair the feed."
        raise InputError(msg)
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable")
    arr = _seconds(st["arrival_time"])
    dep = _seconds(st["departure_time"])
    dep = np.where(np.isnan(dep), arr, dep)
    arr = np.where(np.isnan(arr), dep, arr)
    trip = st["trip_id"].to_numpy()
    stop_pos = stops.index.get_indexer(st["stop_id"])
    same = trip[1:] == trip[:-1]
    ok = same & np.isfinite(dep[:-1]) & np.isfinite(arr[1:])
    trip_ids, trip_num = np.unique(trip[:-1][ok], return_inverse=True)
    order = np.lexsort((arr[1:][ok], dep[:-1][ok]))
    proj = stops.geometry.to_crs(projected_crs())
    return Timetable(
        stops=stops,
        xy=np.column_stack([proj.x.to_numpy(), proj.y.to_numpy()]),
        dep_stop=stop_pos[:-1][ok][order].astype(np.intp),
        arr_stop=stop_pos[1:][ok][order].astype(np.intp),
        dep_s=dep[:-1][ok][order],
        arr_s=arr[1:][ok][order],
        trip=trip_num[order].astype(np.intp),
        trip_ids=trip_ids.astype(str),
    )


def _footpaths(xy: npt.NDArray[np.float64], max_m: float, speed_ms: float) -> list[list[tuple[int, float]]]:
    """For each stop, the stops within ``max_m`` (itself included) and the walk in seconds."""
    tree = cKDTree(xy)
    pairs = tree.sparse_distance_matrix(tree, max_m, output_type="ndarray")
    out: list[list[tuple[int, float]]] = [[(s, 0.0)] for s in range(len(xy))]
    for i, j, d in zip(pairs["i"], pairs["j"], pairs["v"], strict=True):
        if i != j:
            out[int(i)].append((int(j), float(d) / speed_ms))
    return out


def earliest_arrival(
    timetable: Timetable,
    access: dict[int, float],
    depart_s: float,
    *,
    footpaths: list[list[tuple[int, float]]],
    max_s: float,
) -> npt.NDArray[np.float64]:
    """Earliest arrival (seconds after midnight) at every stop: the Connection Scan Algorithm.

    Parameters
    ----------
    timetable
        From :func:`build_timetable`.
    access
        Stops reachable on foot from the origin: stop position → walking seconds.
    depart_s
        Time the traveller leaves the origin, seconds after midnight.
    footpaths
        Transfer walks: for each stop, ``(stop, seconds)`` pairs, itself included
        (:func:`transit_times` builds them from ``transfer_m``).
    max_s
        Scan the connections leaving up to ``depart_s + max_s`` only.

    Returns
    -------
    numpy.ndarray
        Arrival time at each stop (``inf`` where not reached).

    Examples
    --------
    One bus: stop 0 at 08:00 → stop 1 at 08:10. Reaching stop 0 on foot in 2 minutes
    from a 07:55 start:

    >>> tt = Timetable(stops=gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 0], [0, 0])),
    ...     xy=np.zeros((2, 2)), dep_stop=np.array([0]), arr_stop=np.array([1]),
    ...     dep_s=np.array([8 * 3600.0]), arr_s=np.array([8 * 3600.0 + 600]),
    ...     trip=np.array([0]), trip_ids=np.array(["T1"]))
    >>> t = earliest_arrival(tt, {0: 120.0}, 7 * 3600 + 55 * 60, footpaths=[[(0, 0.0)], [(1, 0.0)]], max_s=3600)
    >>> [f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}" for s in t]
    ['07:57', '08:10']
    """
    best = [math.inf] * len(timetable.xy)  # Python lists: faster than numpy item access here
    for stop, secs in access.items():
        best[stop] = min(best[stop], depart_s + secs)
    on_trip = [False] * len(timetable.trip_ids)
    first = int(np.searchsorted(timetable.dep_s, depart_s, side="left"))
    last = int(np.searchsorted(timetable.dep_s, depart_s + max_s, side="right"))
    dep_stop, arr_stop, dep_s, arr_s, trip = timetable._lists
    for c in range(first, last):
        t = trip[c]
        if not on_trip[t]:
            if best[dep_stop[c]] > dep_s[c]:
                continue
            on_trip[t] = True
        arrive = arr_s[c]
        for stop, secs in footpaths[arr_stop[c]]:
            if arrive + secs < best[stop]:
                best[stop] = arrive + secs
    return np.asarray(best, dtype=float)


def _clock(value: str | float, what: str) -> float:
    """Seconds after midnight of ``"HH:MM"`` / ``"HH:MM:SS"`` or of a number of seconds."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    s = _seconds(pd.Series([f"{value}:00" if str(value).count(":") == 1 else str(value)]))[0]
    if not np.isfinite(s):
        msg = f"{what} must be a time 'HH:MM' or 'HH:MM:SS' (or seconds after midnight), got {value!r}."
        raise InputError(msg)
    return float(s)


def _xy_of(gdf: gpd.GeoDataFrame, what: str) -> npt.NDArray[np.float64]:
    ensure_gdf(gdf, what)
    geom = gdf.geometry.to_crs(projected_crs())
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def _options(**kw: Any) -> dict[str, float]:
    """Check the numeric options of :func:`transit_times`; return them as floats."""
    out = {}
    for name, value in kw.items():
        v = check_number(value, name, minimum=0, strict=True)
        assert v is not None
        out[name] = v
    return out


def _egress(
    tree: cKDTree, d_xy: npt.NDArray[np.float64], walk_m: float, speed_ms: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """(destination, stop, walking seconds) for every stop within ``walk_m`` of a destination."""
    pairs = cKDTree(d_xy).sparse_distance_matrix(tree, walk_m, output_type="ndarray")
    return pairs["i"].astype(np.intp), pairs["j"].astype(np.intp), pairs["v"] / speed_ms


def transit_times(
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    timetable: Timetable | None = None,
    *,
    depart_from: str | float = "10:00",
    depart_to: str | float = "11:00",
    every_min: float = 10.0,
    walk_m: float = 400.0,
    transfer_m: float = 250.0,
    walk_speed_kmh: float = WALK_SPEED_KMH,
    max_minutes: float = 90.0,
) -> pd.DataFrame:
    """Door-to-door minutes by walk + bus + walk (or on foot) from origins to destinations.

    Only where a complete timetable exists (the Đống Đa subset by default): city-wide the
    2018 network has no ``stop_times`` and door-to-door times cannot be computed.

    Parameters
    ----------
    origins, destinations
        Points (any CRS; polygons reduced to a representative point), e.g. demand points
        and service points inside the area the timetable covers.
    timetable
        From :func:`build_timetable` (default: the Đống Đa subset).
    depart_from, depart_to
        Window of departure times from the origin (``"HH:MM"``, ``"HH:MM:SS"`` or seconds
        after midnight); the Đống Đa timetable runs 09:34–18:00.
    every_min
        Departures are tried every ``every_min`` minutes over the window (both ends in).
    walk_m
        Longest straight-line walk (metres) from the origin to a stop, and on to the destination.
    transfer_m
        Longest walk between two stops when changing buses.
    walk_speed_kmh
        Walking speed (default 4.5 km/h, the project's).
    max_minutes
        Only buses leaving within this many minutes of the departure are scanned.

    Returns
    -------
    pandas.DataFrame
        One row per (origin, destination), indexed by the pair of their indices: ``walk_min``
        (on foot), ``transit_min_mean`` / ``_best`` / ``_worst`` (door-to-door minutes over the
        departures, waiting included; never above ``walk_min``: walking when no bus is faster),
        ``bus_faster_share`` (departures on which a bus beats walking) and ``n_departures``.
        A point with no stop within ``walk_m`` gets the walk: read ``bus_faster_share`` first.

    Raises
    ------
    InputError
        Bad points, times or options.

    Examples
    --------
    Origin and destination 3.2 km apart, each 100 m from a stop; a bus every 10 minutes takes
    8 minutes between the stops. Walking 100 m a minute, leaving at 07:00, 07:04 and 07:08 all
    catch the 07:10 bus (there at 07:19): 19, 15 and 11 minutes; on foot, 32 minutes.

    >>> stops = gpd.GeoDataFrame(index=pd.Index(["a", "b"], name="stop_id"), crs="EPSG:32648",
    ...     geometry=gpd.points_from_xy([585_000, 588_000], [2_320_000, 2_320_000]))
    >>> dep = np.arange(7 * 3600, 9 * 3600, 600.0)
    >>> tt = Timetable(stops=stops, xy=np.array([[585_000, 2_320_000], [588_000, 2_320_000.0]]),
    ...     dep_stop=np.zeros(dep.size, dtype=np.intp), arr_stop=np.ones(dep.size, dtype=np.intp),
    ...     dep_s=dep, arr_s=dep + 480, trip=np.arange(dep.size), trip_ids=np.arange(dep.size).astype(str))
    >>> o = gpd.GeoDataFrame(geometry=gpd.points_from_xy([584_900], [2_320_000]), crs="EPSG:32648")
    >>> d = gpd.GeoDataFrame(geometry=gpd.points_from_xy([588_100], [2_320_000]), crs="EPSG:32648")
    >>> res = transit_times(o, d, tt, depart_from="07:00", depart_to="07:08", every_min=4, walk_speed_kmh=6)
    >>> res[["walk_min", "transit_min_mean", "transit_min_best", "transit_min_worst"]].round(1).to_numpy().tolist()
    [[32.0, 15.0, 11.0, 19.0]]
    """
    opts = _options(every_min=every_min, walk_m=walk_m, transfer_m=transfer_m)
    opts |= _options(walk_speed_kmh=walk_speed_kmh, max_minutes=max_minutes)
    departures = _departures(depart_from, depart_to, opts["every_min"])
    tt = build_timetable(read_gtfs()) if timetable is None else timetable
    speed = opts["walk_speed_kmh"] / 3.6
    o_xy, d_xy = _xy_of(origins, "origins"), _xy_of(destinations, "destinations")
    walk_s = np.hypot(o_xy[:, None, 0] - d_xy[None, :, 0], o_xy[:, None, 1] - d_xy[None, :, 1]) / speed
    times = _scan(tt, o_xy, d_xy, departures, opts, speed)
    return _summarise(times, walk_s, origins.index, destinations.index)


def _departures(depart_from: str | float, depart_to: str | float, every_min: float) -> npt.NDArray[np.float64]:
    """Return the departure times tried (seconds after midnight), both ends of the window in."""
    t0, t1 = _clock(depart_from, "depart_from"), _clock(depart_to, "depart_to")
    if t1 < t0:
        msg = f"depart_to ({depart_to!r}) is before depart_from ({depart_from!r}); give a window in the day."
        raise InputError(msg)
    return np.arange(t0, t1 + 1e-6, every_min * 60.0)


def _scan(
    tt: Timetable,
    o_xy: npt.NDArray[np.float64],
    d_xy: npt.NDArray[np.float64],
    departures: npt.NDArray[np.float64],
    opts: dict[str, float],
    speed: float,
) -> npt.NDArray[np.float64]:
    """Door-to-door seconds by bus, origins × departures × destinations (inf: not reached)."""
    tree = cKDTree(tt.xy)
    foot = _footpaths(tt.xy, opts["transfer_m"], speed)
    e_dest, e_stop, e_secs = _egress(tree, d_xy, opts["walk_m"], speed)
    times = np.empty((len(o_xy), departures.size, len(d_xy)))
    for i, near in enumerate(tree.query_ball_point(o_xy, opts["walk_m"])):
        access = {int(s): float(np.hypot(*(tt.xy[s] - o_xy[i]))) / speed for s in near}
        for k, t in enumerate(departures):
            best = earliest_arrival(tt, access, float(t), footpaths=foot, max_s=opts["max_minutes"] * 60.0)
            via = np.full(len(d_xy), np.inf)
            np.minimum.at(via, e_dest, best[e_stop] + e_secs)
            times[i, k] = via - t
    return times


def _summarise(
    times: npt.NDArray[np.float64], walk_s: npt.NDArray[np.float64], o_index: pd.Index, d_index: pd.Index
) -> pd.DataFrame:
    """Door-to-door minutes per (origin, destination) from the scan's bus times and the walk."""
    door = np.minimum(times, walk_s[:, None, :]) / 60.0
    index = pd.MultiIndex.from_product([o_index, d_index], names=["origin", "destination"])
    return pd.DataFrame(
        {
            "walk_min": (walk_s / 60.0).ravel(),
            "transit_min_mean": door.mean(axis=1).ravel(),
            "transit_min_best": door.min(axis=1).ravel(),
            "transit_min_worst": door.max(axis=1).ravel(),
            "bus_faster_share": (times < walk_s[:, None, :]).mean(axis=1).ravel(),
            "n_departures": np.full(walk_s.size, times.shape[1], dtype=float),
        },
        index=index,
    )
