"""The 2018 bus network without timetables: stops, routes and trips per period.

The feed (``data/transit/hanoi_bus_2018/network_without_stop_times``, World Bank / Arup
2018) has stops, routes and, for each route, the list of its trips in three periods of a
weekday (``trips_am.txt``, ``trips_midday.txt``, ``trips_pm.txt``), but no
``stop_times.txt``. What it says is *which routes stop where* and *how many trips a route
runs in each period*, so it gives service frequency; it cannot give travel times.

Reading the files
-----------------
- Every ``stop_id`` belongs to one route: ``"01_1_S3"`` is stop 3 of route-direction
  ``"01_1"`` (route 01, direction 1). Several routes stopping at the same place have
  several stop ids at the same coordinates (4,524 of the 7,670 ids share coordinates),
  so a *stop* below is a place (one set of coordinates), with the routes of all its ids.
- ``route_id`` is a route-direction: route 01 is ``"01_1"`` and ``"01_2"``. A stop's trips
  per hour count the buses of every route-direction that stops there (both directions).
- Period lengths are not in the files. Midday is 7 hours: in the complete Đống Đa feed
  (``dong_da_subset_complete``, midday only) every route's midday trips pass its busiest
  stop at a regular headway over 7 hours (median first-to-last span 7.0 h over its 63
  route-directions; route 01_1: 43 trips every 10 min, 10:08 → 17:08), and their counts
  equal ``trips_midday.txt``. The morning and afternoon peaks are taken
  as 3 hours each (06:00–09:00, 16:00–19:00), the usual peak windows of this feed's model;
  this is an assumption (:data:`PERIOD_HOURS`, overridable).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan import settings
from pointplan._errors import DataNotFoundError, InputError
from pointplan._validate import ensure_gdf
from pointplan.data import data_file

__all__ = [
    "FREQUENCY_CLASSES",
    "PERIODS",
    "PERIOD_HOURS",
    "BusNetwork",
    "load_bus_network",
    "stop_frequency",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: The three periods of the feed, in the order of the day.
PERIODS: tuple[str, ...] = ("am", "midday", "pm")
#: Hours each period lasts: midday checked against the complete Đống Đa timetable (7 h);
#: the morning and afternoon peaks assumed 3 h each (see the module notes).
PERIOD_HOURS: dict[str, float] = {"am": 3.0, "midday": 7.0, "pm": 3.0}
#: Classes of midday buses per hour for the map layer: (lower bound, Vietnamese, English).
FREQUENCY_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.0, "dưới 6 chuyến/giờ", "under 6 buses/hour"),
    (6.0, "6–12 chuyến/giờ", "6–12 buses/hour"),
    (12.0, "12–30 chuyến/giờ", "12–30 buses/hour"),
    (30.0, "từ 30 chuyến/giờ", "30+ buses/hour"),
)

_FOLDER = "transit/hanoi_bus_2018/network_without_stop_times"


@dataclass
class BusNetwork:
    """A bus network known by its stops and its trips per route and period.

    Attributes
    ----------
    stops
        One row per ``stop_id`` (EPSG:4326 points) with ``route_id``, ``stop_sequence``
        and ``place_id`` (the first stop id at the same coordinates: one id per place).
    route_trips
        Indexed by ``route_id``: ``trips_<period>`` for each period (0 where a route runs
        no trip in that period).
    period_hours
        Hours each period lasts; trips per hour = trips / hours.

    Examples
    --------
    >>> stops = gpd.GeoDataFrame(
    ...     {"stop_id": ["01_1_S1", "02_1_S4"], "route_id": ["01_1", "02_1"], "stop_sequence": [1, 4]},
    ...     geometry=gpd.points_from_xy([105.80, 105.80], [21.0, 21.0]), crs="EPSG:4326")
    >>> trips = pd.DataFrame({"trips_am": [6, 12], "trips_midday": [14, 7], "trips_pm": [6, 3]},
    ...                      index=pd.Index(["01_1", "02_1"], name="route_id"))
    >>> net = BusNetwork(stops, trips)
    >>> net.trips_per_hour().to_dict("index")
    {'01_1': {'am': 2.0, 'midday': 2.0, 'pm': 2.0}, '02_1': {'am': 4.0, 'midday': 1.0, 'pm': 1.0}}
    >>> net.stops["place_id"].tolist()  # both ids stand at the same place
    ['01_1_S1', '01_1_S1']
    """

    stops: gpd.GeoDataFrame
    route_trips: pd.DataFrame
    period_hours: dict[str, float] = field(default_factory=lambda: dict(PERIOD_HOURS))

    def __post_init__(self) -> None:
        ensure_gdf(self.stops, "stops")
        missing = [c for c in ("stop_id", "route_id") if c not in self.stops.columns]
        if missing:
            msg = f"stops lacks {missing}: give one row per stop id with the route it belongs to."
            raise InputError(msg)
        bad = [p for p in PERIODS if not (self.period_hours.get(p, 0) > 0)]
        if bad:
            msg = f"period_hours must give a positive number of hours for {bad}, got {self.period_hours}."
            raise InputError(msg)
        self.stops = self.stops.to_crs(settings.geographic_crs)
        if "place_id" not in self.stops.columns:
            self.stops["place_id"] = _place_ids(self.stops)
        cols = [f"trips_{p}" for p in PERIODS]
        self.route_trips = self.route_trips.reindex(columns=cols).fillna(0.0).astype(float)

    def trips_per_hour(self) -> pd.DataFrame:
        """Return trips per hour by route (rows) and period (columns ``am``, ``midday``, ``pm``)."""
        return pd.DataFrame(
            {p: self.route_trips[f"trips_{p}"] / self.period_hours[p] for p in PERIODS},
            index=self.route_trips.index,
        )


def _place_ids(stops: gpd.GeoDataFrame) -> npt.NDArray[np.object_]:
    """Return, for each stop id, the first stop id standing at the same coordinates."""
    key = pd.Series(list(zip(stops.geometry.x.round(6), stops.geometry.y.round(6), strict=True)), index=stops.index)
    first = (
        pd.Series(stops["stop_id"].astype(str).to_numpy(), index=stops.index).groupby(key.to_numpy()).transform("first")
    )
    return first.to_numpy(dtype=object)


def _network_folder(folder: str | Path | None) -> Path:
    if folder is None:
        return data_file(f"{_FOLDER}/stops.txt").parent
    path = Path(folder)
    if not (path / "stops.txt").is_file():
        msg = (
            f"{path} holds no stops.txt. Pass the folder of a GTFS-like bus network with stops.txt, "
            "routes.txt and trips_am.txt / trips_midday.txt / trips_pm.txt."
        )
        raise DataNotFoundError(msg)
    return path


def _read_trips(folder: Path) -> pd.DataFrame:
    counts = {}
    for period in PERIODS:
        path = folder / f"trips_{period}.txt"
        if not path.is_file():
            msg = f"{path} is missing: the network needs trips_am.txt, trips_midday.txt and trips_pm.txt."
            raise DataNotFoundError(msg)
        trips = pd.read_csv(path, dtype=str, usecols=["route_id", "trip_id"])
        counts[f"trips_{period}"] = trips.groupby("route_id")["trip_id"].nunique()
    out = pd.DataFrame(counts).fillna(0.0)
    out.index.name = "route_id"
    return out


def load_bus_network(folder: str | Path | None = None) -> BusNetwork:
    """Load the 2018 Hanoi bus network (stops, routes, trips per period; no timetables).

    Parameters
    ----------
    folder
        A folder with ``stops.txt`` and ``trips_am.txt`` / ``trips_midday.txt`` /
        ``trips_pm.txt``. Default: the project's
        ``data/transit/hanoi_bus_2018/network_without_stop_times``.

    Returns
    -------
    BusNetwork
        7,670 stop ids at 3,144 places; 224 route-directions with their trips per period.

    Raises
    ------
    DataNotFoundError
        The folder or one of its files is missing.
    InputError
        A stop id that does not name its route (``<route_id>_S<n>``).

    Examples
    --------
    >>> net = load_bus_network()
    >>> len(net.stops), net.stops["place_id"].nunique(), len(net.route_trips)
    (7670, 3144, 224)
    >>> net.route_trips.sum().astype(int).to_dict()
    {'trips_am': 3024, 'trips_midday': 6713, 'trips_pm': 3301}
    """
    path = _network_folder(folder)
    raw = pd.read_csv(path / "stops.txt", dtype={"stop_id": str})
    parts = raw["stop_id"].str.extract(r"^(?P<route_id>.+)_S(?P<seq>\d+)$")
    if parts["route_id"].isna().any():
        bad = raw.loc[parts["route_id"].isna(), "stop_id"].head(5).tolist()
        msg = f"stop ids {bad} do not name their route (expected '<route_id>_S<n>', e.g. '01_1_S3')."
        raise InputError(msg)
    stops = gpd.GeoDataFrame(
        {"stop_id": raw["stop_id"], "route_id": parts["route_id"], "stop_sequence": parts["seq"].astype(int)},
        geometry=gpd.points_from_xy(raw["stop_lon"], raw["stop_lat"]),
        crs=settings.geographic_crs,
    )
    trips = _read_trips(path)
    no_trips = sorted(set(stops["route_id"]) - set(trips.index))
    if no_trips:
        logger.info("%d route(s) have stops but no trips in any period: %s", len(no_trips), no_trips[:10])
    return BusNetwork(stops, trips.reindex(sorted(set(trips.index) | set(stops["route_id"]))).fillna(0.0))


def stop_frequency(
    network: BusNetwork,
    units: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return the bus stops (places) with their routes and buses per hour by period: a map layer.

    Parameters
    ----------
    network
        From :func:`load_bus_network`.
    units
        Unit polygons indexed by code: when given, each stop gets its ``unit_code`` and
        stops outside every unit are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points indexed by ``place_id`` with ``stop_ids`` (comma-separated),
        ``n_routes`` (route-directions stopping there), ``routes``, ``trips_per_hour_am``,
        ``trips_per_hour_midday``, ``trips_per_hour_pm`` (buses of all those routes, both
        directions), ``frequency_class`` / ``frequency_class_en`` (from the midday figure,
        :data:`FREQUENCY_CLASSES`) and, with ``units``, ``unit_code``.

    Examples
    --------
    >>> stops = gpd.GeoDataFrame(
    ...     {"stop_id": ["01_1_S1", "02_1_S4", "02_1_S5"], "route_id": ["01_1", "02_1", "02_1"]},
    ...     geometry=gpd.points_from_xy([105.80, 105.80, 105.81], [21.0, 21.0, 21.0]), crs="EPSG:4326")
    >>> trips = pd.DataFrame({"trips_am": [6, 30], "trips_midday": [14, 70], "trips_pm": [6, 30]},
    ...                      index=pd.Index(["01_1", "02_1"], name="route_id"))
    >>> layer = stop_frequency(BusNetwork(stops, trips))
    >>> layer[["n_routes", "routes", "trips_per_hour_midday", "frequency_class"]].to_numpy().tolist()
    [[2, '01_1,02_1', 12.0, '12–30 chuyến/giờ'], [1, '02_1', 10.0, '6–12 chuyến/giờ']]
    """
    tph = network.trips_per_hour()
    stops = network.stops
    pairs = stops[["place_id", "route_id"]].drop_duplicates()
    per_pair = tph.reindex(pairs["route_id"]).fillna(0.0).set_axis(pairs.index)
    grouped = per_pair.groupby(pairs["place_id"].to_numpy(), sort=False).sum()
    first = stops.drop_duplicates("place_id").set_index("place_id")
    out = gpd.GeoDataFrame(
        {
            "stop_ids": stops.groupby("place_id", sort=False)["stop_id"].agg(",".join),
            "n_routes": pairs.groupby("place_id", sort=False)["route_id"].nunique(),
            "routes": pairs.groupby("place_id", sort=False)["route_id"].agg(lambda r: ",".join(sorted(r))),
        },
        geometry=first.geometry,
        crs=settings.geographic_crs,
    )
    for p in PERIODS:
        out[f"trips_per_hour_{p}"] = grouped[p].reindex(out.index).to_numpy()
    bounds = [c[0] for c in FREQUENCY_CLASSES]
    cls = np.searchsorted(bounds, out["trips_per_hour_midday"].to_numpy(), side="right") - 1
    out["frequency_class"] = [FREQUENCY_CLASSES[i][1] for i in cls]
    out["frequency_class_en"] = [FREQUENCY_CLASSES[i][2] for i in cls]
    out.index.name = "place_id"
    if units is not None:
        out = _with_units(out, units)
    return out


def _with_units(stops: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``unit_code`` (the unit holding each stop); drop stops outside every unit."""
    ensure_gdf(units, "units")
    polys = units.geometry.to_crs(settings.geographic_crs)
    codes = np.asarray(units.index.astype(str))
    stop_idx, unit_idx = polys.sindex.query(stops.geometry, predicate="within")
    code = np.full(len(stops), None, dtype=object)
    code[stop_idx] = codes[unit_idx]
    out = stops.assign(unit_code=code)
    return out[out["unit_code"].notna()].copy()
