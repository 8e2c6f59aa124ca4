"""Benchmark: the Monte Carlo draws of the whole-city assessment, against the previous ways.

Three ways of evaluating the same seeded draws, measured in the same run:

* **now**: :class:`~pointplan.uncertainty.DrawModel` as shipped: the demand places, their
  snapping to the streets and whether they lie on the road network are kept; a draw routes
  once per engine from the points it moved (:class:`~pointplan.uncertainty.nearest.NearestSearch`);
* **previous**: the same model asking the engine's ``nearest`` for every draw (the way before
  issue 25), on the same draws: the intervals must be the same;
* **naive**: re-running :func:`pointplan.assess` for every draw (a few draws, extrapolated).

Optionally (``--dask N``) the same draws on a local Dask cluster of N workers, checked to give
the same intervals. The last line is JSON.

    python benchmarks/bench_uncertainty.py [--draws 100] [--hybrid] [--dask 2]
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


def _timed(a, draws: int, *, shortcuts: bool):
    """Run the draws with or without the shortcuts; return (seconds, result)."""
    old = DrawModel.shortcuts
    DrawModel.shortcuts = shortcuts
    try:
        t = time.perf_counter()
        res = run_uncertainty(a, draws=draws, seed=2025, sensitivity_draws=0)
        return time.perf_counter() - t, res
    finally:
        DrawModel.shortcuts = old


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--dask", type=int, default=0, help="also run on a local Dask cluster of N workers")
    ap.add_argument("--hybrid", action="store_true", help="assess on the shipped roads (hybrid), as pointplan run does")
    ap.add_argument("--no-previous", action="store_true", help="skip the previous way (engine.nearest per draw)")
    args = ap.parse_args()
    units = pointplan.load_units()
    engine = travel_engine(None, "motorbike") if args.hybrid else None
    a = pointplan.assess(pointplan.load_points(units=units), units, engine=engine)
    t_draws, res = _timed(a, args.draws, shortcuts=True)
    print(f"{args.draws} draws, now                  {t_draws:8.2f} s")
    out = {
        "draws": args.draws,
        "draws_s": round(t_draws, 2),
        "per_draw_s": round(t_draws / args.draws, 4),
        "travel_time_method": a.travel_time_method,
        "intervals": res.intervals,
    }
    if not args.no_previous:
        t_prev, prev = _timed(a, args.draws, shortcuts=False)
        out["previous_s"] = round(t_prev, 2)
        out["ratio_vs_previous"] = round(t_prev / t_draws, 2)
        out["same_intervals_as_previous"] = prev.intervals == res.intervals
        print(f"{args.draws} draws, previous way         {t_prev:8.2f} s  (x{t_prev / t_draws:.2f} slower)")
        print(f"same intervals as the previous way: {out['same_intervals_as_previous']}")
    naive = _naive_seconds_per_draw(a)
    out["naive_per_draw_s"] = round(naive, 3)
    out["ratio_vs_naive"] = round(naive * args.draws / t_draws, 1)
    print(f"naive re-assessment, per draw       {naive:8.2f} s  (x{args.draws}: {naive * args.draws:.0f} s)")
    if args.dask:
        t = time.perf_counter()
        res_d = run_uncertainty(a, draws=args.draws, seed=2025, sensitivity_draws=0, workers=args.dask)
        out["dask_s"] = round(time.perf_counter() - t, 2)
        out["dask_same_intervals"] = res_d.intervals == res.intervals
        same = out["dask_same_intervals"]
        print(f"{args.draws} draws on Dask ({args.dask} workers)   {out['dask_s']:8.2f} s, same intervals: {same}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
