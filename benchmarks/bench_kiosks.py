"""Benchmark: ``pointplan run`` with a very large set of added kiosks (issue 25: 200,000 in ≤ 180 s, ≤ 4 GB).

Writes a kiosk file (random kiosks inside Hanoi's units, as many per unit as its share of
the population, seeded; ``location_precision`` "surveyed", one counter each), then runs
``pointplan -v run --out OUT --add-points FILE`` (default options; more after ``--``) in a
child process. Prints each step's seconds (from the ``-v`` log), the wall time, the CPU time
(user + system, the child and what it forked) and the peak memory: the largest resident
set of the child and of any process it forked. The last line is one JSON object.

    python benchmarks/bench_kiosks.py                     # 200,000 kiosks
    python benchmarks/bench_kiosks.py --n 5000 -- --no-uncertainty
    python benchmarks/bench_kiosks.py --n 20000 --keep kiosks20k.csv   # keep the kiosk file
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
#: The child: ``pointplan`` of this checkout, then its own and its children's peak memory on stderr.
CHILD = (
    "import resource, sys\nfrom pointplan.cli import main\ntry:\n    sys.exit(main())\nfinally:\n"
    "    print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
    " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)"
)
STEP = re.compile(r"^(?P<label>[A-Z][^:…]*?(?:\([^)]*\))?): (?P<s>[0-9.]+) s$")


def make_kiosks(n: int, seed: int = 7) -> pd.DataFrame:
    """Return ``n`` random kiosks inside Hanoi's units, spread by population (seeded)."""
    import pointplan

    units = pointplan.load_units().to_crs(32648)
    rng = np.random.default_rng(seed)
    pop = units["population"].to_numpy(float)
    per_unit = rng.multinomial(n, pop / pop.sum())
    parts = []
    for geom, m in zip(units.geometry, per_unit, strict=True):
        got: list[np.ndarray] = []
        minx, miny, maxx, maxy = geom.bounds
        while sum(len(a) for a in got) < m:
            xy = rng.uniform([minx, miny], [maxx, maxy], size=(max(2 * m, 16), 2))
            inside = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1])).within(geom).to_numpy()
            got.append(xy[inside])
        if m:
            parts.append(np.vstack(got)[:m])
    xy = np.vstack(parts)
    ll = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32648).to_crs(4326)
    return pd.DataFrame(
        {
            "name": [f"Kiosk {i + 1}" for i in range(n)],
            "kind": "kiosk",
            "lon": ll.x.round(6),
            "lat": ll.y.round(6),
            "counters": 1,
            "location_precision": "surveyed",
        }
    )


def run_once(kiosks: Path, out: Path, options: list[str]) -> dict[str, object]:
    """One ``pointplan -v run --add-points``: seconds per step, wall, CPU seconds and peak memory (MB)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.setdefault("POINTPLAN_DATA_DIR", str(ROOT / "data"))
    cmd = [sys.executable, "-c", CHILD, "-v", "run", "--out", str(out), "--add-points", str(kiosks), *options]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode not in (0, 1):  # 1: the run wrote its outputs and found rule breaches
        sys.exit(f"run failed:\n{res.stderr[-3000:]}")
    steps: dict[str, float] = {}
    peak = float("nan")
    for line in res.stderr.splitlines():
        m = STEP.match(line.strip())
        if m:
            steps[m["label"]] = float(m["s"])
        elif line.startswith("PEAK_KB "):
            peak = max(float(x) for x in line.split()[1:]) / 1024.0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    keys = (
        "catchment_method",
        "catchment_groups",
        "catchment_cell_m",
        "service_areas_drawn",
        "point_findings_by_unit",
        "map_markers_by_cell",
        "xlsx_points_in_csv_only",
    )
    return {
        "steps": steps,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_mb": round(peak, 1),
        "summary": {k: summary[k] for k in keys if k in summary},
    }


def main() -> None:
    """Write the kiosks, run, print the figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200_000, help="number of kiosks")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", type=Path, default=None, help="also write the kiosk file here")
    p.add_argument("run_options", nargs="*", help="more options for pointplan run (after --)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        kiosks = tmp / "kiosks.csv"
        t = time.perf_counter()
        make_kiosks(args.n, args.seed).to_csv(kiosks, index=False)
        print(f"wrote {args.n} kiosks in {time.perf_counter() - t:.1f} s", flush=True)
        if args.keep is not None:
            args.keep.write_bytes(kiosks.read_bytes())
        r = run_once(kiosks, tmp / "out", args.run_options)
    steps = r["steps"]
    assert isinstance(steps, dict)
    for label, s in steps.items():
        print(f"{label:<44s} {s:8.1f} s")
    print(f"{'whole run (wall)':<44s} {r['wall_s']:8.1f} s")
    print(f"{'CPU (user + system, with children)':<44s} {r['cpu_s']:8.1f} s")
    print(f"{'peak memory (largest process)':<44s} {r['peak_mb']:8.1f} MB")
    print(json.dumps({"n": args.n, "seed": args.seed, "options": args.run_options, **r}, ensure_ascii=False))


if __name__ == "__main__":
    main()
