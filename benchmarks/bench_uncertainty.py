"""Benchmark: the Monte Carlo draws of the whole-city assessment, against the previous ways.

Three ways of evaluating the same seeded draws, measured in the same run:

* **now**: :func:`~pointplan.uncertainty.run_uncertainty` as shipped: the demand places, their
  snapping to the streets and whether they lie on the road network are kept, and so is every
  site a point has stood at; a draw runs one multi-source pass per engine on the road network
  from where its points stand and one k-d tree query shared by the engines
  (:class:`~pointplan.uncertainty.nearest.NearestSearch`); the sensitivity table reuses the
  first draws' answers;
* **previous**: the same model asking the engine's ``nearest`` for every draw and remembering
  nothing but the points as given (the way before issue 25), on the same draws: the intervals
  must be the same;
* **naive**: re-running :func:`pointplan.assess` for every draw (a few draws, extrapolated).

Times are CPU seconds of this process (``time.process_time``), which other work on the machine
does not inflate; wall-clock seconds are printed beside. Optionally (``--dask N``) the same
draws on a local Dask cluster of N workers, checked to give the same intervals. The last line
is JSON.

    python benchmarks/bench_uncertainty.py [--draws 100] [--sensitivity 25] [--hybrid] [--dask 2]
"""

from __future__ import annotations

import argparse
import json
import time

import geopandas as gpd
import numpy as np

import pointplan
from pointplan.network import travel_engine
from pointplan.uncertainty import Assumptions, DrawModel, run_uncertainty


def _naive_seconds_per_draw(a, n: int = 3) -> float:
    """Full re-assessment per draw (the peer): points moved as a draw moves them."""
    model = DrawModel(a, Assumptions())
    t = time.perf_counter()
    for s in np.random.SeedSequence(1).spawn(n):
        d = model.draw(np.random.default_rng(s))
        pts = a.points.copy().to_crs(32648)
        pts = pts.set_geometry(gpd.points_from_xy(d.xy[:, 0], d.xy[:, 1], crs=32648))
        pts["counters"] = d.counters.astype(int)
        dem = a.demand[["population", "unit_code", "geometry"]]
        pointplan.assess(pts, a.units, dem, visits=a.units["visits_per_day"], engine=a.engine)
    return (time.perf_counter() - t) / n


def _timed(a, draws: int, sensitivity: int, *, shortcuts: bool):
    """Run the draws with or without the shortcuts; return (CPU seconds, wall seconds, result)."""
    old = DrawModel.shortcuts
    DrawModel.shortcuts = shortcuts
    try:
        t, w = time.process_time(), time.perf_counter()
        res = run_uncertainty(a, draws=draws, seed=2025, sensitivity_draws=sensitivity)
        return time.process_time() - t, time.perf_counter() - w, res
    finally:
        DrawModel.shortcuts = old


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--sensitivity", type=int, default=25, help="draws per assumption of the sensitivity table")
    ap.add_argument("--dask", type=int, default=0, help="also run on a local Dask cluster of N workers")
    ap.add_argument("--hybrid", action="store_true", help="assess on the shipped roads (hybrid), as pointplan run does")
    ap.add_argument("--no-previous", action="store_true", help="skip the previous way (engine.nearest per draw)")
    args = ap.parse_args()
    units = pointplan.load_units()
    engine = travel_engine(None, "motorbike") if args.hybrid else None
    a = pointplan.assess(pointplan.load_points(units=units), units, engine=engine)
    cpu, wall, res = _timed(a, args.draws, args.sensitivity, shortcuts=True)
    print(f"{args.draws} draws + sensitivity, now    {cpu:8.2f} s CPU ({wall:.2f} s wall)")
    out = {
        "draws": args.draws,
        "sensitivity_draws": args.sensitivity,
        "cpu_s": round(cpu, 2),
        "draws_s": round(wall, 2),
        "per_draw_cpu_s": round(cpu / args.draws, 4),
        "travel_time_method": a.travel_time_method,
        "intervals": res.intervals,
    }
    if not args.no_previous:
        cpu_prev, wall_prev, prev = _timed(a, args.draws, args.sensitivity, shortcuts=False)
        out["previous_cpu_s"] = round(cpu_prev, 2)
        out["previous_s"] = round(wall_prev, 2)
        out["ratio_vs_previous"] = round(cpu_prev / cpu, 2)
        same = prev.intervals == res.intervals and prev.sensitivity.equals(res.sensitivity)
        out["same_intervals_as_previous"] = same
        print(f"{args.draws} draws + sensitivity, previous {cpu_prev:8.2f} s CPU (x{cpu_prev / cpu:.2f} slower)")
        print(f"same intervals and sensitivity as the previous way: {same}")
    naive = _naive_seconds_per_draw(a)
    out["naive_per_draw_s"] = round(naive, 3)
    out["ratio_vs_naive"] = round(naive * args.draws / wall, 1)
    print(f"naive re-assessment, per draw       {naive:8.2f} s  (x{args.draws}: {naive * args.draws:.0f} s)")
    if args.dask:
        t = time.perf_counter()
        res_d = run_uncertainty(a, draws=args.draws, seed=2025, sensitivity_draws=args.sensitivity, workers=args.dask)
        out["dask_s"] = round(time.perf_counter() - t, 2)
        out["dask_same_intervals"] = res_d.intervals == res.intervals
        same = out["dask_same_intervals"]
        print(f"{args.draws} draws on Dask ({args.dask} workers)   {out['dask_s']:8.2f} s, same intervals: {same}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
