"""Benchmark: what-ifs with :class:`pointplan.Scenario` against a fresh assessment, whole city.

The whole city (126 units, the hanoi-2025 points, demand at 250 m cells by default), the
hybrid engine as ``pointplan run`` builds it (the inner-city network, the calibrated
fallback beyond), the default modes (motorbike, and walk for coverage by mode). Then 100
random operations: moves of a random point by up to 800 m and adds of a kiosk at a random
demand place (half each). For each: the seconds of the operation. Then a fresh
:func:`pointplan.reassess` of the scenario's points (the same settings), timed in the same
run, whose summary must equal the scenario's.

Prints the median and P95 seconds per operation, the fresh assessment's seconds and the
ratio; the last line is one JSON object.

    python benchmarks/bench_scenario.py            # 250 m demand, 100 operations
    python benchmarks/bench_scenario.py --cell-m 1000 --ops 30
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings

import numpy as np

import pointplan
from pointplan.demand import DEFAULT_FINE_PER_KM2, build_demand
from pointplan.workflow import travel_engine  # as `pointplan run` builds it


def _timed(label: str, fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    dt = time.perf_counter() - t
    print(f"{label:<44s} {dt:8.3f} s", flush=True)
    return out, dt


def _ops(sc: pointplan.Scenario, n: int, seed: int) -> tuple[list[float], list[float], list[float]]:
    """Apply ``n`` random moves and adds; return the seconds of all, of moves, of adds."""
    rng = np.random.default_rng(seed)
    dem = sc.settings.demand.to_crs(4326)
    dlon, dlat = dem.geometry.x.to_numpy(), dem.geometry.y.to_numpy()
    secs, moves, adds = [], [], []
    while len(secs) < n:
        if rng.random() < 0.5:
            pts = sc.points
            pid = str(rng.choice(pts.index))
            r, th = 800 * math.sqrt(rng.random()), 2 * math.pi * rng.random()
            lon = float(pts.geometry.x[pid] + r * math.cos(th) / 104_000)
            lat = float(pts.geometry.y[pid] + r * math.sin(th) / 111_000)
            try:
                t = time.perf_counter()
                sc.move(pid, lon, lat)
            except pointplan.InputError:  # moved out of the city: not an operation
                continue
            moves.append(time.perf_counter() - t)
            secs.append(moves[-1])
        else:
            k = int(rng.integers(len(dlon)))
            t = time.perf_counter()
            sc.add(float(dlon[k]), float(dlat[k]), kind="kiosk", counters=1)
            adds.append(time.perf_counter() - t)
            secs.append(adds[-1])
    return secs, moves, adds


def _max_summary_gap(a: dict, b: dict) -> float:
    gap = 0.0
    for k, v in a.items():
        w = b.get(k)
        if isinstance(v, float) and isinstance(w, float) and not (math.isnan(v) and math.isnan(w)):
            gap = max(gap, abs(v - w) / max(1.0, abs(w)))
        elif k != "scenario" and v != w and not isinstance(v, float):
            gap = math.inf
    return gap


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell-m", type=float, default=250.0, help="demand cell size (m); default 250")
    p.add_argument(
        "--run-demand",
        action="store_true",
        help="the demand of `pointplan run`: 250 m cells where >= 5,000 people/km2, 1 km elsewhere",
    )
    p.add_argument("--ops", type=int, default=100, help="random operations (default 100)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    warnings.simplefilter("ignore")
    units, _ = _timed("load units", pointplan.load_units)
    points, _ = _timed("load points (hanoi-2025)", pointplan.load_points, units=units)
    fine = DEFAULT_FINE_PER_KM2 if args.run_demand else None
    label = f"demand {args.cell_m:g} m" + (" where dense (pointplan run's)" if fine else "")
    demand, _ = _timed(label, build_demand, units, cell_m=args.cell_m, fine_per_km2=fine)
    engine, _ = _timed("engine (hybrid, as pointplan run)", travel_engine, None, "motorbike")
    a, t_first = _timed("assess (first, motorbike + walk)", pointplan.assess, points, units, demand, engine=engine)
    sc, t_build = _timed("Scenario.from_assessment (route all)", pointplan.Scenario.from_assessment, a)
    secs, moves, adds = _ops(sc, args.ops, args.seed)
    fresh, t_fresh = _timed("fresh reassess of the same points", pointplan.reassess, a, sc.points)
    gap = _max_summary_gap(sc.summary, fresh.summary)
    med, p95 = float(np.median(secs)), float(np.percentile(secs, 95))
    print(f"demand places {len(demand):,}; points {len(points)} -> {len(sc.points)}; operations {len(secs)}")
    print(
        f"per operation: median {med:.3f} s, P95 {p95:.3f} s (moves median {np.median(moves):.3f} s, "
        f"adds median {np.median(adds):.3f} s)"
    )
    print(f"fresh assessment {t_fresh:.2f} s: median operation is {t_fresh / med:.0f}x faster (goal median <= 0.1 s)")
    print(f"largest relative gap between the scenario's and the fresh summary: {gap:.2e}")
    print(
        json.dumps(
            {
                "cell_m": args.cell_m,
                "run_demand": bool(args.run_demand),
                "demand_places": len(demand),
                "ops": len(secs),
                "op_median_s": round(med, 4),
                "op_p95_s": round(p95, 4),
                "move_median_s": round(float(np.median(moves)), 4),
                "add_median_s": round(float(np.median(adds)), 4),
                "fresh_assess_s": round(t_fresh, 3),
                "first_assess_s": round(t_first, 3),
                "scenario_build_s": round(t_build, 3),
                "speedup_median": round(t_fresh / med, 1),
                "summary_max_rel_gap": gap,
                "goal_median_s": 0.1,
            }
        )
    )


if __name__ == "__main__":
    main()
