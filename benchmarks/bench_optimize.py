"""Benchmark: pointplan location-allocation solvers against spopt (PySAL), same run.

Instance: 5,000 demand points x 500 candidates, p = 150, with *network-like* travel
times: shortest paths (scipy.sparse.csgraph.dijkstra) over a synthetic road graph (a
Delaunay triangulation of 4,000 junctions over 60 x 60 km with a dense "urban" core,
random road speeds, removed links standing for rivers), plus an access leg from each
point to its nearest junction. Demand weights are clustered (log-normal around town
centres), and the service radius is set so that the optimal coverage is far from
trivial (about 80 % of the population with 150 points; greedy alone is not optimal).

Measured (wall clock, same process, same machine):
* spopt ``MCLP.from_cost_matrix(...).solve(pulp.HiGHS)`` (model build + solve);
* pointplan ``solve_mclp(method="exact")`` and ``method="greedy+swap"``;
* pointplan ``solve_pmedian`` (greedy + swap + Lagrangian bound), time and peak memory
  (tracemalloc peak of the call). spopt's p-median on this instance is only run with
  ``--spopt-pmedian`` (it needs several GB and did not finish in 300 s when tried).

Run: ``python benchmarks/bench_optimize.py [--quick] [--spopt-pmedian]``.
The last line printed is one JSON object with the figures.

Large site layers (issue 16): ``--propose-sites N`` instead proposes 10 points among
``N`` candidate sites (random populated 250 m cells, jittered) against Hanoi's 250 m
demand grid with ``pointplan.propose`` (crow-flies engine, existing 2025 points), and
prints the time and peak memory of the ``propose`` call (tracemalloc peak, and the
process's maximum resident set). ``--memory-limit-gb`` caps the address space so that
a run too big for the machine fails with MemoryError instead of swapping.

Measured 2026-11-29 on the shared 2-core machine (load average about 6), 76,789 demand
cells, 131 existing points, crow-flies engine:
* ``--propose-sites 100000`` (MCLP, 30 min on foot or 1 km): 17.5 s, tracemalloc peak
  631 MB, max RSS 1,001 MB (share 58.5 % -> 62.5 %);
* ``--propose-sites 100000 --mode motorbike --max-distance-m 5000``: 3.6 s, 16 MB (the
  existing points already cover everyone: no pair is needed);
* ``--propose-sites 100000 --objective pmedian --median-neighbours 20``: 291 s, peak
  579 MB, max RSS 1,198 MB (time: travel times up to the 120 min cut-off, then the
  Lagrangian bound on 1.5 M pairs per 10,000 sites; the 60 s goal is not met here).

Reused site times: ``--site-times N`` proposes ``--draws`` times (10) among ``N`` sites with
the existing points moved a little each time, as the robustness draws do: once asking the
engine every time (with the bound), once with one
:class:`~pointplan.locate.site_times.SiteTimes` table, the candidates prepared once
(:func:`~pointplan.locate.proposal.reusable_candidates`) and no bound; it prints the CPU
seconds of both (same process) and checks that they choose the same sites.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import Delaunay, cKDTree

from pointplan.optimize import solve_mclp, solve_pmedian


def make_instance(n_demand: int = 5000, n_cand: int = 500, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Return (weights, minutes) with minutes a dense n_demand x n_cand matrix."""
    rng = np.random.default_rng(seed)
    size_m = 60_000.0
    # junctions: an urban core plus satellite towns plus sparse rural roads
    centres = rng.uniform(0.15 * size_m, 0.85 * size_m, size=(12, 2))
    centres[0] = (size_m / 2, size_m / 2)
    spread = np.r_[6_000.0, rng.uniform(1_500, 3_500, 11)]
    share = np.r_[0.35, np.full(11, 0.04)]
    n_nodes = 4000
    k = rng.choice(12, size=int(n_nodes * 0.75), p=share / share.sum())
    urban = centres[k] + rng.normal(size=(k.size, 2)) * spread[k, None]
    rural = rng.uniform(0, size_m, size=(n_nodes - k.size, 2))
    nodes = np.clip(np.vstack([urban, rural]), 0, size_m)
    tri = Delaunay(nodes)
    e = np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]])
    e = np.unique(np.sort(e, axis=1), axis=0)
    length = np.linalg.norm(nodes[e[:, 0]] - nodes[e[:, 1]], axis=1)
    keep = rng.random(e.shape[0]) > 0.25  # missing links: rivers, dead ends
    # a "river" crossing the map with 6 bridges
    mid = (nodes[e[:, 0]] + nodes[e[:, 1]]) / 2
    river_y = 0.45 * size_m + 0.1 * (mid[:, 0] - size_m / 2)
    crosses = (nodes[e[:, 0], 1] - river_y) * (nodes[e[:, 1], 1] - river_y) < 0
    bridge = np.zeros(e.shape[0], dtype=bool)
    for bx in rng.uniform(0.1 * size_m, 0.9 * size_m, 6):
        near = np.flatnonzero(crosses)[np.argsort(np.abs(mid[crosses, 0] - bx))[:1]]
        bridge[near] = True
    keep &= ~crosses | bridge
    # keep the graph connected: always keep the minimum spanning tree edges
    mst = sp.csgraph.minimum_spanning_tree(
        sp.coo_matrix((length, (e[:, 0], e[:, 1])), shape=(n_nodes, n_nodes))
    ).tocoo()
    speed_kmh = rng.uniform(12, 40, e.shape[0])
    minutes = length / 1000 / speed_kmh * 60 * np.where(crosses & ~bridge, 3.0, 1.0)
    g = sp.coo_matrix((minutes[keep], (e[keep, 0], e[keep, 1])), shape=(n_nodes, n_nodes))
    g_mst = sp.coo_matrix((mst.data / 1000 / 15 * 60, (mst.row, mst.col)), shape=(n_nodes, n_nodes))
    graph = (g + g_mst).tocsr()
    # demand: clustered like population; candidates: spread over populated land
    kd = rng.choice(12, size=n_demand, p=share / share.sum())
    demand = np.clip(centres[kd] + rng.normal(size=(n_demand, 2)) * spread[kd, None] * 1.2, 0, size_m)
    weights = np.round(rng.lognormal(mean=7.0, sigma=0.9, size=n_demand))
    kc = rng.choice(12, size=int(n_cand * 0.8), p=share / share.sum())
    cand = np.vstack(
        [
            centres[kc] + rng.normal(size=(kc.size, 2)) * spread[kc, None] * 1.5,
            rng.uniform(0, size_m, size=(n_cand - kc.size, 2)),
        ]
    )
    cand = np.clip(cand, 0, size_m)
    tree = cKDTree(nodes)
    dd, dn = tree.query(demand)
    cd, cn = tree.query(cand)
    walk_min = 60 / 1000 / 5  # access legs at 5 km/h
    from_cand = dijkstra(graph, directed=False, indices=cn)  # n_cand x n_nodes
    mins = from_cand[:, dn].T + dd[:, None] * walk_min + cd[None, :] * walk_min
    return weights, mins


def _spopt_mclp(
    minutes: np.ndarray, weights: np.ndarray, radius: float, p: int
) -> tuple[float, float, float, np.ndarray]:
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    model = MCLP.from_cost_matrix(minutes, weights, service_radius=radius, p_facilities=p)
    t_build = time.perf_counter() - t0
    model.solve(pulp.HiGHS(msg=False, timeLimit=600), results=False)
    t_total = time.perf_counter() - t0
    chosen = np.array([j for j, v in enumerate(model.fac_vars) if v.value() and v.value() > 0.5])
    covered = float(weights[(minutes[:, chosen] <= radius).any(axis=1)].sum())
    return t_total, t_build, covered, chosen


def _spopt_pmedian_child(minutes: np.ndarray, weights: np.ndarray, p: int, q: mp.Queue) -> None:
    import pulp
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(minutes, weights, p_facilities=p)
    model.solve(pulp.HiGHS(msg=False), results=False)
    q.put((time.perf_counter() - t0, float(pulp.value(model.problem.objective))))


def _run_spopt_pmedian(minutes: np.ndarray, weights: np.ndarray, p: int, timeout_s: float) -> dict:
    q: mp.Queue = mp.Queue()
    proc = mp.get_context("fork").Process(target=_spopt_pmedian_child, args=(minutes, weights, p, q))
    t0 = time.perf_counter()
    proc.start()
    proc.join(timeout_s)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return {"finished": False, "seconds": time.perf_counter() - t0}
    secs, obj = q.get()
    return {"finished": True, "seconds": secs, "objective": obj}


def bench_propose(
    n_sites: int,
    k: int = 10,
    seed: int = 0,
    objective: str = "mclp",
    mode: str = "walk",
    max_distance_m: float = 1000.0,
    median_neighbours: int | None = None,
) -> dict:
    """Propose ``k`` points among ``n_sites`` sites against the 250 m demand grid.

    The default standard (30 min on foot or 1 km) leaves part of the city uncovered by
    the existing points, so that the proposal has something to gain.
    """
    import geopandas as gpd

    import pointplan
    from pointplan.demand import build_demand
    from pointplan.network import make_engine

    t0 = time.perf_counter()
    units = pointplan.load_units()
    demand = build_demand(units, cell_m=250)
    demand = demand[demand["population"] > 0]
    points = pointplan.load_points()
    rng = np.random.default_rng(seed)
    dxy = demand.geometry.to_crs(32648)
    pick = rng.integers(0, len(demand), n_sites)
    x = dxy.x.to_numpy()[pick] + rng.uniform(-125, 125, n_sites)
    y = dxy.y.to_numpy()[pick] + rng.uniform(-125, 125, n_sites)
    sites = gpd.GeoDataFrame(
        {"candidate_id": [f"s-{i:06d}" for i in range(n_sites)], "kind": "proposed"},
        geometry=gpd.points_from_xy(x, y),
        crs=32648,
    )
    t_setup = time.perf_counter() - t0
    print(f"{len(demand):,} demand cells, {len(points)} points, {n_sites:,} sites; set up in {t_setup:.1f} s")
    engine = make_engine(None, mode)
    tracemalloc.start()
    t0 = time.perf_counter()
    prop = pointplan.propose(
        demand, points, sites, k, objective=objective, engine=engine, boundary=False, max_distance_m=max_distance_m,
        median_neighbours=median_neighbours if objective == "pmedian" else None,
    )  # fmt: skip
    secs = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = {
        "n_demand": len(demand),
        "n_sites": n_sites,
        "k": k,
        "objective": objective,
        "mode": mode,
        "median_neighbours": median_neighbours,
        "max_distance_m": max_distance_m,
        "propose_s": round(secs, 2),
        "propose_peak_mb": round(peak / 2**20, 1),
        "process_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "n_added": prop.summary["n_added"],
        "share_before": prop.summary["share_before"],
        "share_after": prop.summary["share_after"],
        "gap_pct": prop.summary["gap_pct"],
    }
    print(
        f"propose {objective} k={k} among {n_sites:,} sites: {secs:.1f} s, peak {peak / 2**20:,.0f} MB "
        f"(tracemalloc), max RSS {out['process_maxrss_mb']:,.0f} MB"
    )
    return out


def bench_site_times(n_sites: int, draws: int = 10, k: int = 10, seed: int = 0, mode: str = "motorbike") -> dict:
    """CPU seconds of ``draws`` p-median re-proposals among ``n_sites``: the engine each time, or the table once."""
    import geopandas as gpd

    import pointplan
    from pointplan.demand import build_demand
    from pointplan.locate.proposal import reusable_candidates
    from pointplan.locate.site_times import SiteTimes
    from pointplan.network import make_engine

    units = pointplan.load_units()
    demand = build_demand(units, cell_m=250)
    demand = demand[demand["population"] > 0]
    points = pointplan.load_points().to_crs(32648)
    rng = np.random.default_rng(seed)
    dxy = demand.geometry.to_crs(32648)
    pick = rng.integers(0, len(demand), n_sites)
    sites = gpd.GeoDataFrame(
        {"candidate_id": [f"s-{i:06d}" for i in range(n_sites)], "kind": "proposed"},
        geometry=gpd.points_from_xy(dxy.x.to_numpy()[pick], dxy.y.to_numpy()[pick]),
        crs=32648,
    )
    moved = [points.translate(*rng.normal(0, 300, 2)) for _ in range(draws)]
    engine = make_engine(None, mode)
    kw = {"objective": "pmedian", "method": "greedy", "boundary": False}
    t0 = time.process_time()
    slow = [pointplan.propose(demand, points.set_geometry(g), sites, k, engine=engine, **kw) for g in moved]
    t_slow = time.process_time() - t0
    t0 = time.process_time()
    times, ready = SiteTimes(engine, demand, sites), reusable_candidates(sites, demand, False)
    fast = [
        pointplan.propose(demand, points.set_geometry(g), ready, k, engine=times, compute_bound=False, **kw)
        for g in moved
    ]
    t_fast = time.process_time() - t0
    same = all(
        a.points["candidate_id"].tolist() == b.points["candidate_id"].tolist() for a, b in zip(slow, fast, strict=True)
    )
    print(f"{draws} re-proposals among {n_sites:,} sites: engine {t_slow:.1f} s CPU, table {t_fast:.1f} s CPU")
    return {"n_demand": len(demand), "n_sites": n_sites, "draws": draws, "engine_cpu_s": round(t_slow, 2),
            "table_cpu_s": round(t_fast, 2), "same_sites": same}  # fmt: skip


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--propose-sites", type=int, default=0, help="propose among N sites on the 250 m grid")
    ap.add_argument("--objective", default="mclp", choices=["mclp", "pmedian"], help="with --propose-sites")
    ap.add_argument("--mode", default="walk", help="travel mode with --propose-sites (crow-flies engine)")
    ap.add_argument("--max-distance-m", type=float, default=1000.0, help="distance standard with --propose-sites")
    ap.add_argument("--median-neighbours", type=int, default=None, help="p-median: nearest sites per demand")
    ap.add_argument("--site-times", type=int, default=0, help="re-propose among N sites: engine vs one table")
    ap.add_argument("--draws", type=int, default=10, help="re-proposals with --site-times")
    ap.add_argument("--memory-limit-gb", type=float, default=0.0, help="cap the address space (GB)")
    ap.add_argument("--quick", action="store_true", help="smaller instance (1,000 x 200, p = 40)")
    ap.add_argument("--spopt-pmedian", action="store_true", help="also run spopt's p-median (slow, GBs)")
    ap.add_argument("--spopt-timeout", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    if args.memory_limit_gb:
        cap = int(args.memory_limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    if args.site_times:
        print(json.dumps(bench_site_times(args.site_times, draws=args.draws)))
        return
    if args.propose_sites:
        out = bench_propose(
            args.propose_sites, objective=args.objective, mode=args.mode, max_distance_m=args.max_distance_m,
            median_neighbours=args.median_neighbours,
        )  # fmt: skip
        print(json.dumps(out))
        return
    n, m, p = (1000, 200, 40) if args.quick else (5000, 500, 150)

    t0 = time.perf_counter()
    weights, minutes = make_instance(n, m, args.seed)
    print(f"instance {n} x {m}, p = {p}: built in {time.perf_counter() - t0:.1f} s")
    # radius: a candidate covers ~1 % of the demand on average, so that 150 points can
    # not cover everything and greedy alone is not optimal (coverage is not trivial)
    radius = float(np.quantile(minutes, 0.01))
    cov = sp.csr_matrix(minutes <= radius)
    coverable = weights[cov.getnnz(axis=1) > 0].sum() / weights.sum()
    print(
        f"radius {radius:.1f} min; coverage density {cov.nnz / (n * m):.3%}; "
        f"demand coverable by some candidate {coverable:.1%}"
    )

    t_sp, t_build, sp_obj, _ = _spopt_mclp(minutes, weights, radius, p)
    print(f"spopt MCLP: {t_sp:.2f} s ({t_build:.2f} s building the PuLP model), objective {sp_obj:,.0f}")

    # pointplan takes the sparse coverage (what propose() builds); its construction
    # from the dense matrix is timed with the solve
    t0 = time.perf_counter()
    cov_pp = sp.csr_matrix(minutes <= radius)
    ex = solve_mclp(weights, cov_pp, p, method="exact", time_limit_s=120)
    t_ex = time.perf_counter() - t0
    print(
        f"pointplan exact MCLP: {t_ex:.3f} s, objective {ex.objective:,.0f}, status {ex.status}, gap {ex.gap_pct:.4f} %"
    )
    t0 = time.perf_counter()
    cov_pp = sp.csr_matrix(minutes <= radius)
    he = solve_mclp(weights, cov_pp, p, method="greedy+swap")
    t_he = time.perf_counter() - t0
    he_gap = 100 * (ex.objective - he.objective) / ex.objective
    print(
        f"pointplan greedy+swap MCLP: {t_he:.3f} s, objective {he.objective:,.0f} "
        f"({he_gap:.3f} % below the optimum, {he.details['swaps']} swaps)"
    )

    # p-median: pointplan heuristic + Lagrangian bound on the full (dense) matrix
    tracemalloc.start()
    t0 = time.perf_counter()
    pmed = solve_pmedian(weights, minutes, p, method="greedy+swap", time_limit_s=10)
    t_pm = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"pointplan p-median: {t_pm:.2f} s, objective {pmed.objective:,.0f} person-min, "
        f"Lagrangian bound {pmed.bound:,.0f}, gap {pmed.gap_pct:.3f} %, peak {peak / 2**20:.0f} MB "
        f"(tracemalloc), {pmed.details['swaps']} swaps"
    )
    sp_pm: dict = {"finished": None}
    if args.spopt_pmedian:
        sp_pm = _run_spopt_pmedian(minutes, weights, p, args.spopt_timeout)
        print(f"spopt p-median: {sp_pm}")
    else:
        print("spopt p-median: not run (pass --spopt-pmedian; needs GBs and minutes)")
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "n_demand": n,
        "n_candidates": m,
        "p": p,
        "radius_min": round(radius, 3),
        "spopt_mclp_s": round(t_sp, 3),
        "spopt_mclp_build_s": round(t_build, 3),
        "mclp_exact_s": round(t_ex, 4),
        "mclp_exact_speedup_vs_spopt": round(t_sp / t_ex, 1),
        "mclp_exact_equal_objective": bool(abs(ex.objective - sp_obj) <= 1e-6 * max(1.0, sp_obj)),
        "mclp_heuristic_s": round(t_he, 4),
        "mclp_heuristic_speedup_vs_spopt": round(t_sp / t_he, 1),
        "mclp_heuristic_gap_pct": round(he_gap, 4),
        "pmedian_s": round(t_pm, 3),
        "pmedian_gap_pct": round(float(pmed.gap_pct), 4),
        "pmedian_peak_mb": round(peak / 2**20, 1),
        "process_maxrss_mb": round(maxrss_mb, 1),
        "spopt_pmedian": sp_pm,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
