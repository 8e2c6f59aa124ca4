"""Benchmark: 200 Monte Carlo draws of the whole-city assessment (goal ≤ 60 s on 2 cores).

The peer is the naive way: re-running :func:`pointplan.assess` for every draw with the
perturbed points. It is measured on a few draws in the same run and extrapolated; the
ratio says how much reusing what does not change between draws saves. Optionally
(``--dask N``) the same draws on a local Dask cluster of N workers, checked to give the same
intervals. The last line is JSON.

    python benchmarks/bench_uncertainty.py [--draws 200] [--dask 2]
"""

from __future__ import annotations

import argparse
import json
import time

import geopandas as gpd
import numpy as np

import pointplan
from pointplan.uncertainty import Assumptions, DrawModel, run_uncertainty
from pointplan.workflow import travel_engine


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--dask", type=int, default=0, help="also run on a local Dask cluster of N workers")
    ap.add_argument("--hybrid", action="store_true", help="assess on the shipped roads (hybrid), as pointplan run does")
    args = ap.parse_args()
    units = pointplan.load_units()
    engine = travel_engine(None, "motorbike") if args.hybrid else None
    a = pointplan.assess(pointplan.load_points(units=units), units, engine=engine)
    t = time.perf_counter()
    res = run_uncertainty(a, draws=args.draws, seed=2025, sensitivity_draws=0)
    t_draws = time.perf_counter() - t
    print(f"{args.draws} draws in process            {t_draws:8.2f} s")
    naive = _naive_seconds_per_draw(a)
    print(f"naive re-assessment, per draw       {naive:8.2f} s  (x{args.draws}: {naive * args.draws:.0f} s)")
    out = {
        "draws": args.draws,
        "draws_s": round(t_draws, 2),
        "per_draw_s": round(t_draws / args.draws, 4),
        "naive_per_draw_s": round(naive, 3),
        "ratio_vs_naive": round(naive * args.draws / t_draws, 1),
        "goal_s": 60,
        "travel_time_method": a.travel_time_method,
        "intervals": res.intervals,
    }
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
