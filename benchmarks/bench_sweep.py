"""Benchmark: one province's whole run, and the national sweep with 1 vs N workers.

1. The largest province by units (Thành phố Hồ Chí Minh, 168 units) without uncertainty:
   ``pointplan run --province 79 --no-uncertainty`` as a library call (goal ≤ 20 s on 2 cores),
   with the exact LSCP need that the sweep adds.
2. The sweep of ``--provinces`` (default all 34) on a local Dask cluster of 1 worker, then
   of ``--workers`` workers (default 2), each into a fresh folder: the speed-up, and whether
   the national tables are the same.

The last line is one JSON object with the figures.

    python benchmarks/bench_sweep.py [--provinces all] [--workers 2] [--draws 20] [--skip-sweep]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from pointplan.sweep import SweepOptions, sweep
from pointplan.sweep.province import province_task


def _one_province(code: str, options: SweepOptions) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        t, c = time.perf_counter(), time.process_time()
        rec = province_task(code, tmp, options)
        dt, cpu = time.perf_counter() - t, time.process_time() - c
    if rec["status"] != "ok":
        raise SystemExit(f"province {code} failed: {rec['error']}")
    print(
        f"province {code} ({rec['units']} units), no uncertainty: {dt:6.1f} s wall, {cpu:6.1f} s CPU — "
        f"{rec['population_beyond_standard']:,.0f} people beyond the standard, "
        f"mean {rec['mean_minutes']:.2f} min, P90 {rec['p90_minutes']:.2f} min, "
        f"{rec['lscp_points_needed']} points needed (LSCP {rec['lscp_status']})"
    )
    return dt, cpu


def _sweep(provinces: str, workers: int, options: SweepOptions) -> tuple[float, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as tmp:
        r = sweep(Path(tmp), provinces, options=options, workers=workers)
        table = r.provinces
    print(f"sweep {provinces} on {workers} worker(s): {r.seconds:7.1f} s, failed {r.failed}")
    return r.seconds, table


def main() -> None:
    """Run the benchmark and print its figures."""
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default="79", help="the single province timed (default 79, the largest)")
    parser.add_argument("--provinces", default="all")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--draws", type=int, default=SweepOptions().draws)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    wall, cpu = _one_province(args.province, SweepOptions(draws=0))
    figures.update(one_province_s=round(wall, 2), one_province_cpu_s=round(cpu, 2))
    if not args.skip_sweep:
        options = SweepOptions(draws=args.draws)
        t1, table1 = _sweep(args.provinces, 1, options)
        tn, tablen = _sweep(args.provinces, args.workers, options)
        cols = [
            "province_code",
            "status",
            "population_beyond_standard",
            "mean_minutes",
            "p90_minutes",
            "lscp_points_needed",
        ]
        same = table1[cols].equals(tablen[cols])
        print(f"speed-up with {args.workers} workers: {t1 / tn:.2f}×; same national table: {same}")
        figures.update(
            sweep_1_worker_s=t1,
            sweep_n_workers_s=tn,
            workers=args.workers,
            speedup=round(t1 / tn, 2),
            same_results=bool(same),
            draws=args.draws,
            provinces=args.provinces,
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
