"""Benchmark: bus access (pointplan.transit), time and figures on the project's data.

Cases (one process; wall and CPU seconds of each call, inputs loaded beforehand):

* ``load_network``   — :func:`pointplan.transit.load_bus_network` (7,670 stop ids);
* ``stop_layer``     — :func:`pointplan.transit.stop_frequency` with Hanoi's units (map layer);
* ``points``         — :func:`pointplan.transit.point_bus_access` on the scenario's points;
* ``units_250m``     — :func:`pointplan.transit.unit_bus_access` on the 250 m demand points
  (about 77 k; sparse pairs within 400 m, no dense matrix);
* ``dong_da_read``   — gtfs-kit read of the complete Đống Đa feed + connection build;
* ``dong_da_times``  — :func:`pointplan.transit.timetable.transit_times` from every 250 m
  demand point in the feed's box (lon 105.80–105.84, lat 21.00–21.02) to the service points
  there, departures every 10 min from 10:00 to 11:00.

Figures printed: points without a stop within 400 m (and how many of them are stand-in
locations), the city's share of people within 400 m of a stop and its population-weighted
midday buses per hour, and in Đống Đa the walk vs walk + bus + walk minutes. The last line
is one JSON object.

Run: ``python benchmarks/bench_transit.py``
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _timed(name: str, fn: Callable[[], Any], out: dict[str, Any]) -> Any:
    t0, c0 = time.perf_counter(), time.process_time()
    res = fn()
    out[name] = {"seconds": round(time.perf_counter() - t0, 3), "cpu_seconds": round(time.process_time() - c0, 3)}
    print(f"{name:<16} {out[name]['seconds']:7.2f} s (CPU {out[name]['cpu_seconds']:.2f} s)")
    return res


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    import pointplan
    from pointplan.points import is_stand_in
    from pointplan.transit import load_bus_network, point_bus_access, stop_frequency, unit_bus_access
    from pointplan.transit.timetable import build_timetable, read_gtfs, transit_times

    units, points = pointplan.load_units(), pointplan.load_points()
    demand = pointplan.demand.build_demand(units, cell_m=250)
    out: dict[str, Any] = {}
    net = _timed("load_network", load_bus_network, out)
    layer = _timed("stop_layer", lambda: stop_frequency(net, units), out)
    acc = _timed("points", lambda: point_bus_access(points, net), out)
    table = _timed("units_250m", lambda: unit_bus_access(units, net, demand=demand), out)
    far = acc["bus_stops_near"] == 0
    pop = units["population"].reindex(table.index)
    figures: dict[str, Any] = {
        "stop_places_in_hanoi": len(layer),
        "units_with_stops": int(layer["unit_code"].nunique()),
        "points": len(points),
        "points_without_stop_400m": int(far.sum()),
        "of_which_stand_in": int(is_stand_in(points.loc[far, "location_precision"]).sum()),
        "pop_share_within_400m": round(float(np.average(table["bus_pop_share_near"], weights=pop)), 3),
        "bus_access_city_midday": round(float(np.average(table["bus_access"], weights=pop)), 1),
        "units_bus_access_zero": int((table["bus_access"] == 0).sum()),
    }
    tt = _timed("dong_da_read", lambda: build_timetable(read_gtfs()), out)

    def in_box(g: Any) -> Any:
        return g[g.geometry.x.between(105.80, 105.84) & g.geometry.y.between(21.00, 21.02)]

    o, d = in_box(demand), in_box(points)
    res = _timed("dong_da_times", lambda: transit_times(o, d, tt, depart_from="10:00", depart_to="11:00"), out)
    long = res[res["walk_min"] > 2000 / 75]  # over 2 km apart (4.5 km/h = 75 m/min)
    figures.update(
        {
            "dong_da_origins": len(o),
            "dong_da_destinations": len(d),
            "dong_da_ms_per_scan": round(out["dong_da_times"]["seconds"] * 1000 / (len(o) * 7), 1),
            "dong_da_pairs_over_2km": len(long),
            "dong_da_over_2km_walk_min_median": round(float(long["walk_min"].median()), 1),
            "dong_da_over_2km_transit_min_median": round(float(long["transit_min_mean"].median()), 1),
            "dong_da_over_2km_bus_faster_share": round(float((long["bus_faster_share"] > 0.5).mean()), 2),
        }
    )
    for k, v in figures.items():
        print(f"  {k:<38} {v}")
    print(json.dumps({"cases": out, "figures": figures}))


if __name__ == "__main__":
    main()
