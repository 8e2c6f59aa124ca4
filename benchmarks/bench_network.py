"""Benchmark: nearest-point travel times, pointplan's engine vs networkx.

A synthetic street grid of about 20,000 nodes (UTM 48N, 100 m blocks with jitter,
arterials, one-way streets and parallel service roads) with 150 service points. Both
sides compute, for every node, the travel time to its nearest point:

* peer: ``networkx.multi_source_dijkstra`` on the reversed graph (reversal done
  beforehand, not timed);
* pointplan: ``NetworkEngine.node_times`` (one scipy multi-source pass) after the graph
  conversion, which is reported separately and cached.

It also times the GeoDataFrame path (``NetworkEngine.nearest`` with every node as an
origin, snapping included) and the bare scipy kernel, and checks the times equal
networkx's. Medians of repeated calls in wall-clock and CPU time (steadier on a shared
machine); the headline ratio is the lower of the two. A "cold" column repeats each call
after a full ``gc.collect()`` (cold CPU caches). The last line is one JSON object.

Run: ``python benchmarks/bench_network.py [--side 141] [--points 150]``
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np

from pointplan import network as net


def street_grid(side: int, seed: int = 0) -> nx.MultiDiGraph:
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs="EPSG:32648")
    x0, y0, block = 580_000.0, 2_320_000.0, 100.0
    jitter = rng.uniform(-15, 15, size=(side, side, 2))
    for r in range(side):
        for c in range(side):
            G.add_node(r * side + c, x=x0 + c * block + jitter[r, c, 0], y=y0 + r * block + jitter[r, c, 1])

    def street_type(k: int) -> str:
        return "primary" if k % 10 == 0 else "secondary" if k % 5 == 0 else "residential"

    def add(a: int, b: int, highway: str, oneway: int) -> None:
        xa, ya = G.nodes[a]["x"], G.nodes[a]["y"]
        xb, yb = G.nodes[b]["x"], G.nodes[b]["y"]
        length = float(np.hypot(xb - xa, yb - ya))
        if oneway >= 0:
            G.add_edge(a, b, length=length, highway=highway, oneway=oneway == 1)
        if oneway <= 0:
            G.add_edge(b, a, length=length, highway=highway, oneway=oneway == 1)

    for r in range(side):
        for c in range(side):
            u = r * side + c
            if c + 1 < side:  # east-west street number r
                ow = (1 if r % 2 else -1) if r % 7 == 3 else 0  # every 7th street one-way
                add(u, u + 1, street_type(r), ow)
            if r + 1 < side:  # north-south street number c
                ow = (1 if c % 2 else -1) if c % 7 == 3 else 0
                add(u, u + side, street_type(c), ow)
            if r % 9 == 4 and c + 1 < side:  # a slower parallel service road, two-way
                xa, ya = G.nodes[u]["x"], G.nodes[u]["y"]
                xb, yb = G.nodes[u + 1]["x"], G.nodes[u + 1]["y"]
                length = float(np.hypot(xb - xa, yb - ya)) * 1.05
                for a, b in ((u, u + 1), (u + 1, u)):
                    G.add_edge(a, b, length=length, highway="service", oneway=False)
    return G


def timed(fn, calls: int, wall: list[float], cpu: list[float], *, cold: bool = False):
    """Call ``fn`` ``calls`` times; record wall-clock and CPU time of each call.

    Garbage collection stays on (a user running networkx pays for it) and the previous
    result is dropped before each call, so no side carries another's garbage. The heap
    is collected (untimed) before the block, or before every call if ``cold``, which
    also leaves the CPU caches cold for each call.
    """
    res = None
    gc.collect()
    for _ in range(calls):
        res = None
        if cold:
            gc.collect()
        w0, c0 = time.perf_counter(), time.thread_time()
        res = fn()
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=141)
    ap.add_argument("--points", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3, help="networkx calls per round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    G = street_grid(args.side)
    net.add_travel_times(G, "motorbike")
    n_nodes, n_edges = G.number_of_nodes(), G.number_of_edges()
    rng = np.random.default_rng(1)
    nodes = list(G.nodes)
    targets = [nodes[i] for i in rng.choice(len(nodes), size=args.points, replace=False)]
    print(f"grid: {n_nodes} nodes, {n_edges} edges, {args.points} points (motorbike)")

    # conversion (once) and its cache
    net.clear_cache()
    t0 = time.perf_counter()
    engine = net.NetworkEngine(G, "motorbike")
    conversion_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.NetworkEngine(G, "motorbike")
    conversion_cached_s = time.perf_counter() - t0
    print(f"graph conversion: {conversion_s * 1e3:.1f} ms (cached rebuild {conversion_cached_s * 1e3:.3f} ms)")

    # peer: networkx on the reversed graph (time to the point). Each side is timed in
    # its own block of calls, the blocks alternate over several rounds so background
    # load hits both alike; medians over all calls.
    from scipy.sparse.csgraph import dijkstra

    R = G.reverse(copy=True)
    pos = engine._g.nodes.get_indexer(targets)  # for the bare-kernel reference
    keys = ("networkx", "pointplan", "with_distance", "kernel", "nearest_gdf")
    t = {k: ([], []) for k in keys}
    tc = {k: ([], []) for k in keys}  # cold: a full gc.collect() before every call
    xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes])
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:32648")
    dests = origins.iloc[[nodes.index(x) for x in targets]].reset_index(drop=True)
    ours_calls = 5 * args.repeat
    calls = {
        "networkx": (lambda: nx.multi_source_dijkstra(R, targets, weight="travel_time_s"), args.repeat),
        "pointplan": (lambda: engine.node_times(targets), ours_calls),
        "with_distance": (lambda: engine.node_times(targets, with_distance=True), ours_calls),
        "kernel": (
            lambda: dijkstra(engine._g.rev, indices=pos, min_only=True, return_predecessors=True),
            ours_calls,
        ),
        "nearest_gdf": (lambda: engine.nearest(origins, dests), args.repeat),
    }
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(args.rounds):
            for key, (fn, n_calls) in calls.items():
                out[key] = timed(fn, n_calls, *t[key])
            for key, (fn, n_calls) in calls.items():
                timed(fn, max(3, n_calls // 3), *tc[key], cold=True)
    nx_dist, _ = out["networkx"]
    res, near = out["pointplan"], out["nearest_gdf"]
    wall = {k: statistics.median(v[0]) for k, v in t.items()}
    cpu = {k: statistics.median(v[1]) for k, v in t.items()}
    cold = {k: statistics.median(v[0]) for k, v in tc.items()}

    def line(label: str, key: str) -> None:
        print(
            f"{label:<46} {wall[key] * 1e3:8.2f} ms {wall['networkx'] / wall[key]:6.1f}x | "
            f"cpu {cpu['networkx'] / cpu[key]:6.1f}x | cold {cold[key] * 1e3:8.2f} ms "
            f"{cold['networkx'] / cold[key]:6.1f}x"
        )

    print(
        f"medians of {len(t['networkx'][0])} networkx and {len(t['pointplan'][0])} pointplan calls "
        "(wall-clock; ratio to networkx also in CPU time and with a gc.collect() before each call)"
    )
    line("networkx multi_source_dijkstra", "networkx")
    line("pointplan node_times (times + nearest point)", "pointplan")
    line("pointplan node_times (+ network distance)", "with_distance")
    line("bare scipy dijkstra kernel (reference)", "kernel")
    line(f"pointplan nearest() on {n_nodes} GeoDataFrame rows", "nearest_gdf")

    ref = np.array([nx_dist.get(n, np.inf) for n in res.nodes])
    got = res.seconds
    same_reach = bool((np.isfinite(ref) == np.isfinite(got)).all())
    fin = np.isfinite(ref)
    max_abs_diff = float(np.abs(got[fin] - ref[fin]).max())
    gdf_diff = float(np.abs(near["minutes"].to_numpy() * 60 - got).max())
    print(f"equal to networkx: max |diff| = {max_abs_diff:.3g} s, same reachability: {same_reach}")
    print(f"nearest() on GeoDataFrames vs node_times: max |diff| = {gdf_diff:.3g} s")

    speedup_wall = wall["networkx"] / wall["pointplan"]
    speedup_cpu = cpu["networkx"] / cpu["pointplan"]
    # headline: the lower of the two, since background load on a shared machine can
    # inflate either side's wall-clock time
    speedup = min(speedup_wall, speedup_cpu)
    result = {
        "benchmark": "nearest_point_times",
        "nodes": n_nodes,
        "edges": n_edges,
        "points": args.points,
        "networkx_s": round(wall["networkx"], 5),
        "pointplan_s": round(wall["pointplan"], 5),
        "speedup_vs_networkx": round(speedup, 1),
        "speedup_wall_clock_vs_networkx": round(speedup_wall, 1),
        "speedup_cpu_time_vs_networkx": round(speedup_cpu, 1),
        "speedup_cold_vs_networkx": round(cold["networkx"] / cold["pointplan"], 1),
        "kernel_only_s": round(wall["kernel"], 5),
        "kernel_speedup_vs_networkx": round(wall["networkx"] / wall["kernel"], 1),
        "pointplan_with_distance_s": round(wall["with_distance"], 5),
        "speedup_with_distance_vs_networkx": round(wall["networkx"] / wall["with_distance"], 1),
        "pointplan_nearest_gdf_s": round(wall["nearest_gdf"], 5),
        "speedup_nearest_gdf_vs_networkx": round(wall["networkx"] / wall["nearest_gdf"], 1),
        "conversion_s": round(conversion_s, 4),
        "conversion_cached_s": round(conversion_cached_s, 6),
        "max_abs_diff_s": max_abs_diff,
        "same_reachability": same_reach,
        "target_speedup": 50,
        "passed": bool(speedup >= 50 and same_reach and max_abs_diff < 1e-6),
    }
    print(
        f"speed-up vs networkx: {speedup:.1f}x ({speedup_wall:.1f}x wall-clock, {speedup_cpu:.1f}x CPU time, "
        f"{cold['networkx'] / cold['pointplan']:.1f}x cold); target >= 50x"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
