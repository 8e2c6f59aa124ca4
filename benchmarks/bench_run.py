"""Benchmark: the whole ``pointplan run``, step by step, against the previous way of doing it.

Runs ``pointplan -v run`` of this checkout and of an earlier version of the project (a git
revision, ``--baseline``; default the commit before this wave's speed work) with the same
options, one after the other in the same session, each ``--repeat`` times. The earlier
version runs from its own source tree (``git archive`` into a temporary folder) on the same
installed dependencies. Each run's ``-v`` log gives the seconds of each step ("Assessing:
5.2 s"); the peak memory is the child process's own ``ru_maxrss``.

Prints, per step, the median seconds of the previous version, of this one computing
everything afresh (``--no-cache``), and of this one with the results of an earlier run of the
same inputs kept on disk (``pointplan._results``; one untimed run first), with each ratio
(previous / now); the last line is one JSON object.

    python benchmarks/bench_run.py                         # default run (100 draws), 1 repeat
    python benchmarks/bench_run.py --no-uncertainty --repeat 3
    python benchmarks/bench_run.py --baseline HEAD~5 -- --add 0   # options after -- go to run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The last commit before this wave's speed work on the run (assess via Scenario, one table of site times).
DEFAULT_BASELINE = "b379fe1"
#: The child: ``pointplan`` of the source on PYTHONPATH, then its own peak memory on stderr.
#: Both versions end as the ``pointplan`` command now does (``os._exit`` once the outputs are
#: written): the table compares the work, not the interpreter's teardown.
CHILD = (
    "import os, resource, sys\nfrom pointplan.cli import main\nrc = main()\n"
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.stdout.flush(); sys.stderr.flush(); os._exit(rc)"
)
STEP = re.compile(r"^(?P<label>[A-Z][^:…]*?(?:\([^)]*\))?): (?P<s>[0-9.]+) s$")


def _source_of(rev: str, into: Path) -> Path:
    """Extract ``src/`` of git revision ``rev`` into ``into``; return the folder to put on PYTHONPATH."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def _run_once(src: Path, out: Path, options: list[str]) -> tuple[dict[str, float], float, float]:
    """One ``pointplan -v run``: seconds per step, wall seconds and peak memory (MB) of the child."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.setdefault("POINTPLAN_DATA_DIR", str(ROOT / "data"))  # an extracted source tree has no data/ beside it
    cmd = [sys.executable, "-c", CHILD, "-v", "run", "--out", str(out), *options]
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if res.returncode not in (0, 1):  # 1: the run wrote its outputs and found rule breaches
        sys.exit(f"run failed ({src}):\n{res.stderr[-3000:]}")
    steps, peak = {}, float("nan")
    for line in res.stderr.splitlines():
        m = STEP.match(line.strip())
        if m:
            steps[m["label"]] = float(m["s"])
        elif line.startswith("PEAK_KB "):
            peak = float(line.split()[1]) / 1024.0
    return steps, wall, peak


def _series(src: Path, options: list[str], repeat: int, tmp: Path, tag: str) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    for k in range(repeat):
        steps, wall, peak = _run_once(src, tmp / f"{tag}{k}", options)
        for label, s in {**steps, "whole run (wall)": wall, "peak memory (MB)": peak}.items():
            rows.setdefault(label, []).append(s)
        print(f"{tag} run {k + 1}: {wall:.1f} s", flush=True)
    return rows


def main() -> None:
    """Time both versions and print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision of the previous way")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--no-uncertainty", action="store_true", help="pass --no-uncertainty to both runs")
    p.add_argument("run_options", nargs="*", help="more options for pointplan run (after --)")
    args = p.parse_args()
    options = [*args.run_options, *(["--no-uncertainty"] if args.no_uncertainty else [])]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        old_src = _source_of(args.baseline, tmp / "baseline")
        old = _series(old_src, options, args.repeat, tmp, "previous")
        fresh = _series(ROOT / "src", [*options, "--no-cache"], args.repeat, tmp, "now-fresh")
        _run_once(ROOT / "src", tmp / "warm-up", options)  # keeps this version's results for the next runs
        new = _series(ROOT / "src", options, args.repeat, tmp, "now")
    head = f"{'step':<44s} {'previous s':>11s} {'fresh s':>8s} {'ratio':>6s} {'kept s':>7s} {'ratio':>6s}"
    print(f"\n{head}")
    result = {}
    for label in dict.fromkeys([*new, *fresh, *old]):
        a, f, b = (statistics.median(x[label]) if label in x else float("nan") for x in (old, fresh, new))
        rf, rb = (a / v if v > 0 else float("nan") for v in (f, b))
        result[label] = {"previous": round(a, 2), "now_fresh": round(f, 2), "ratio_fresh": round(rf, 2),
                         "now": round(b, 2), "ratio": round(rb, 2)}  # fmt: skip
        print(f"{label:<44s} {a:11.2f} {f:8.2f} {rf:6.2f} {b:7.2f} {rb:6.2f}")
    print(json.dumps({"baseline": args.baseline, "options": options, "steps": result}, ensure_ascii=False))


if __name__ == "__main__":
    main()
