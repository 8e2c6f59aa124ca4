"""Bus access: stops near service points and where people live, buses per hour, timetables.

Two sources, two kinds of answer (``data/transit/hanoi_bus_2018``, World Bank / Arup 2018):

- the **whole network without timetables** (7,670 stop ids, 224 route-directions, trips
  per route in the morning peak, midday and afternoon peak) gives *frequency*: which stops
  lie within walking distance of a point or of the people of a unit, and how many buses an
  hour serve them (:mod:`pointplan.transit.network`, :mod:`pointplan.transit.access`);
- the **complete Đống Đa feed** (372 stops, midday timetable) gives *travel times*: walk +
  wait + bus (+ transfer) + walk, by an earliest-arrival scan of the timetable read with
  gtfs-kit (:mod:`pointplan.transit.timetable`).

Door-to-door bus travel times are out of reach city-wide: without ``stop_times`` there is
no timetable to ride. City-wide figures say whether a bus is near and how often it runs.

How the package is laid out
---------------------------
=======================================  ================================================
:mod:`pointplan.transit.network`         :func:`load_bus_network`, :func:`stop_frequency`
                                         (map layer), :class:`BusNetwork`, periods
:mod:`pointplan.transit.access`          :func:`point_bus_access`, :func:`unit_bus_access`
                                         (the indicator), :func:`no_bus_stop_findings`
:mod:`pointplan.transit.timetable`       :func:`read_gtfs`, :func:`build_timetable`,
                                         :func:`transit_times`
=======================================  ================================================

Examples
--------
>>> from pointplan.transit import PERIOD_HOURS, load_bus_network
>>> net = load_bus_network()
>>> tph = net.trips_per_hour()
>>> round(float(tph.loc["01_1", "midday"]), 2)  # 43 midday trips over 7 hours
6.14
"""

from __future__ import annotations

from pointplan.transit.access import DEFAULT_WALK_M, no_bus_stop_findings, point_bus_access, unit_bus_access
from pointplan.transit.network import (
    FREQUENCY_CLASSES,
    PERIOD_HOURS,
    PERIODS,
    BusNetwork,
    load_bus_network,
    stop_frequency,
)

__all__ = [
    "DEFAULT_WALK_M",
    "FREQUENCY_CLASSES",
    "PERIODS",
    "PERIOD_HOURS",
    "BusNetwork",
    "load_bus_network",
    "no_bus_stop_findings",
    "point_bus_access",
    "stop_frequency",
    "unit_bus_access",
]
