"""Benchmark: assess the default Hanoi scenario (1 km and 250 m demand, fallback times).

Prints the time of each stage; the last line is one JSON object with ``assess_s`` (the
assessment of the 1 km scenario) and the other stage times.

    python benchmarks/bench_assess.py
"""

from __future__ import annotations

import json
import time
import tracemalloc

import pointplan
from pointplan.access import assess
from pointplan.demand import build_demand, visits_per_day


def _timed(label: str, fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    dt = time.perf_counter() - t
    print(f"{label:<34s} {dt:8.3f} s")
    return out, dt


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    units, t_units = _timed("load units (126, validated)", pointplan.load_units)
    points, t_points = _timed("load points (hanoi-2025)", pointplan.load_points, units=units)
    demand, t_demand = _timed("demand 1 km", build_demand, units)
    visits = visits_per_day(units)
    a, t_assess = _timed("assess 1 km (motorbike + walk)", assess, points, units, demand, visits=visits)
    tracemalloc.start()  # a second, untimed run: tracemalloc slows Python code down
    assess(points, units, demand, visits=visits)
    peak_1km = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{'assess 1 km peak traced memory':<34s} {peak_1km:8.1f} MB")
    demand250, t_demand250 = _timed("demand 250 m", build_demand, units, cell_m=250)
    a250, t_assess250 = _timed("assess 250 m (motorbike + walk)", assess, points, units, demand250, visits=visits)
    print(f"demand points: 1 km {len(demand):,}, 250 m {len(demand250):,}; points {len(points)}")
    print(
        f"within standard: 1 km {a.summary['population_within_standard_share']:.4f}, "
        f"250 m {a250.summary['population_within_standard_share']:.4f}; walk ≤30 min "
        f"{a.summary['within_minutes_share_by_mode']['walk']:.3f} / "
        f"{a250.summary['within_minutes_share_by_mode']['walk']:.3f}"
    )
    print(
        json.dumps(
            {
                "assess_s": round(t_assess, 3),
                "assess_250m_s": round(t_assess250, 3),
                "load_units_s": round(t_units, 3),
                "load_points_s": round(t_points, 3),
                "demand_1km_s": round(t_demand, 3),
                "demand_250m_s": round(t_demand250, 3),
                "total_s": round(t_units + t_points + t_demand + t_assess, 3),
                "assess_peak_mb": round(peak_1km, 1),
                "demand_points_1km": len(demand),
                "demand_points_250m": len(demand250),
                "points": len(points),
                "travel_time_method": a.travel_time_method,
            }
        )
    )


if __name__ == "__main__":
    main()
