"""Benchmark: city-size road networks read straight into the engine's arrays (no networkx).

For each size (0.25, 0.5, 1 and 2 million OSM nodes by default) the benchmark writes a
grid-like road network over Hanoi as an OSM PBF (pyosmium's SimpleWriter): streets every
~60 m, ways of 10 segments, a mix of primary, residential, service, living streets and
footways, one street in seven one-way. Then, each step in a fresh subprocess so its peak
memory is its own (``resource.getrusage``, ``ru_maxrss``):

* ``convert``: PBF -> arrays for motorbike, car and walk, written to the checksummed cache
  (:func:`pointplan.network.roadcache.convert_file`); seconds and peak MB;
* ``load``: the motorbike arrays from the cache, checksum verified, into an engine
  (:func:`pointplan.network.roadcache.roads_engine`);
* ``nearest``: nearest point (of 130) and minutes for 77,000 demand places spread over the
  network (the size of the demand grid at 250 m), street index built on the way.

Goals at 2 million nodes: convert <= 120 s and <= 3 GB on 2 cores, load <= 5 s, nearest
<= 5 s. The last line printed is JSON: a list of
``{nodes, convert_s, convert_peak_mb, load_s, nearest_s}``.

Run: ``python benchmarks/bench_roads.py [--sizes 250000,500000,1000000,2000000] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LON0, LAT0 = 105.25, 20.6  # south-west corner, inside Hanoi's bounding box
SPAN_DEG = 0.8  # the grid covers at most 0.8 x 0.8 degrees (about 83 x 89 km)
N_DEMAND, N_POINTS = 77_000, 130


def _kind(k: int) -> str:
    if k % 20 == 0:
        return "primary"
    return ("residential", "service", "footway", "living_street")[k % 4]


def write_grid_pbf(path: Path, n_nodes: int) -> dict[str, float]:
    """Write a side x side grid network (side = ceil(sqrt(n_nodes))) as OSM PBF."""
    import osmium

    side = math.ceil(math.sqrt(n_nodes))
    step = min(0.0006, SPAN_DEG / side)
    t0 = time.perf_counter()
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as w:
        for j in range(side):
            lat = LAT0 + j * step
            for i in range(side):
                w.add_node(osmium.osm.mutable.Node(id=j * side + i + 1, location=(LON0 + i * step, lat)))
        way_id = 1
        for axis in range(2):  # rows, then columns
            for k in range(side):
                tags = {"highway": _kind(k)}
                if k % 7 == 3 and tags["highway"] != "footway":
                    tags["oneway"] = "yes"
                ids = [k * side + i + 1 for i in range(side)] if axis == 0 else [j * side + k + 1 for j in range(side)]
                for s in range(0, side - 1, 10):
                    w.add_way(osmium.osm.mutable.Way(id=way_id, nodes=ids[s : s + 11], tags=tags))
                    way_id += 1
    return {"side": side, "step_deg": step, "write_s": time.perf_counter() - t0, "mb": path.stat().st_size / 1e6}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def step_convert(pbf: Path, cache: Path) -> dict[str, float]:
    from pointplan.network.roadcache import convert_file

    t0, c0 = time.perf_counter(), time.process_time()
    convert_file(pbf, "bench", cache_dir=cache, modes=["motorbike", "car", "walk"])
    return {
        "convert_s": time.perf_counter() - t0, "convert_cpu_s": time.process_time() - c0,
        "convert_peak_mb": _peak_mb(),
    }  # fmt: skip


def step_query(cache: Path, side: int, step: float) -> dict[str, float]:
    import geopandas as gpd
    import numpy as np

    from pointplan.network.roadcache import roads_engine

    t0, c0 = time.perf_counter(), time.process_time()
    eng = roads_engine("motorbike", "bench", cache_dir=cache)
    load_s, load_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rng = np.random.default_rng(0)
    span = (side - 1) * step

    def places(n: int) -> gpd.GeoDataFrame:
        lon = LON0 + rng.uniform(0, span, n)
        lat = LAT0 + rng.uniform(0, span, n)
        return gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(eng.crs)

    demand, points = places(N_DEMAND), places(N_POINTS)
    t0, c0 = time.perf_counter(), time.process_time()
    out = eng.nearest(demand, points)
    nearest_s, nearest_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    reached = float(np.isfinite(out["minutes"]).mean())
    return {
        "load_s": load_s, "load_cpu_s": load_cpu_s, "nearest_s": nearest_s, "nearest_cpu_s": nearest_cpu_s,
        "query_peak_mb": _peak_mb(), "reached": reached,
        "median_min": float(np.nanmedian(out["minutes"])), "graph_nodes": eng._g.n,
    }  # fmt: skip


def _child(args: list[str]) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        sys.stderr.write(res.stdout + res.stderr)
        msg = f"step {args[0]} failed"
        raise RuntimeError(msg)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="250000,500000,1000000,2000000")
    p.add_argument("--workdir", default=None, help="keep the generated PBFs and caches here")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        kind, *rest = a.child
        out = (
            step_convert(Path(rest[0]), Path(rest[1]))
            if kind == "convert"
            else step_query(Path(rest[0]), int(rest[1]), float(rest[2]))
        )
        print(json.dumps(out))
        return
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="bench_roads_"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in (int(s) for s in a.sizes.split(",")):
        pbf = work / f"grid_{n}.osm.pbf"
        grid = write_grid_pbf(pbf, n)
        cache = work / f"cache_{n}"
        conv = _child(["convert", str(pbf), str(cache)])
        query = _child(["query", str(cache), str(grid["side"]), str(grid["step_deg"])])
        row = {"nodes": grid["side"] ** 2, **conv, **query, "pbf_mb": grid["mb"], "write_s": grid["write_s"]}
        print(
            f"{row['nodes']:>9,} nodes: convert {row['convert_s']:6.1f} s (CPU {row['convert_cpu_s']:.1f} s), "
            f"peak {row['convert_peak_mb']:6.0f} MB; load {row['load_s']:5.2f} s (CPU {row['load_cpu_s']:.2f}); "
            f"nearest {row['nearest_s']:5.2f} s (CPU {row['nearest_cpu_s']:.2f}; peak {row['query_peak_mb']:.0f} MB, "
            f"reached {row['reached']:.1%}); PBF {row['pbf_mb']:.1f} MB written in {row['write_s']:.0f} s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
        results.append(row)
    keys = ("nodes", "convert_s", "convert_peak_mb", "load_s", "nearest_s")
    print(json.dumps([{k: (round(r[k], 2) if isinstance(r[k], float) else r[k]) for k in keys} for r in results]))


if __name__ == "__main__":
    main()
