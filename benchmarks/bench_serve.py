"""Benchmark: 20 simultaneous editor sessions against ``pointplan serve`` on the whole city.

Starts the editor (uvicorn on 127.0.0.1, a free port) in a child process on Hanoi's 126
units and default points, then drives ``--sessions`` browser-like sessions at once (asyncio
+ httpx, each with its own cookie): every round a session moves a point, opens a kiosk,
undoes it, and once asks for 3 proposals; before each edit it waits ``--think`` seconds on
average (0.5–1.5 ×; a person reads the answer; ``--think 0`` fires back to back). The number
of requests is bounded (sessions × (3 × rounds + 1)) and so is the time (``--time-limit``:
what is not answered by then counts as an error). Prints the median and P95 answer time per
operation and overall and the error count (goal: P95 ≤ 1 s, 0 errors); the last line is one
JSON object.

    python benchmarks/bench_serve.py                       # 20 sessions × 3 rounds, shipped roads
    python benchmarks/bench_serve.py --network none        # the calibrated straight line only
    python benchmarks/bench_serve.py --screenshot docs/editor.png   # also the editor at 1400×900

``--serve-only`` runs just the server (used for the child process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_only(args: argparse.Namespace) -> None:
    import pointplan
    from pointplan.network import travel_engine
    from pointplan.serve import ServeConfig, serve

    units = pointplan.load_units()
    points = pointplan.load_points(units=units)
    from pointplan.demand import DEFAULT_CELL_M, DEFAULT_FINE_PER_KM2

    # the demand `pointplan serve` and `pointplan run` use: 250 m cells where people are dense, 1 km elsewhere
    demand = pointplan.build_demand(units, cell_m=DEFAULT_CELL_M, fine_per_km2=DEFAULT_FINE_PER_KM2)
    cfg = ServeConfig(units, points, demand, travel_engine(args.network, "motorbike"), state_dir=args.state_dir,
                      draws=args.draws, details=not args.no_details)  # fmt: skip
    serve(cfg, host="127.0.0.1", port=args.port, announce=lambda url: print(f"READY {url}", flush=True))


def _targets(n: int, seed: int) -> list[tuple[float, float]]:
    """Places inside the city: random unit representative points, jittered by up to 100 m."""
    import pointplan

    units = pointplan.load_units().to_crs(32648)
    rng = random.Random(seed)
    reps = units.geometry.representative_point()
    out = []
    for _ in range(n):
        p = reps.iloc[rng.randrange(len(reps))]
        q = p.buffer(100).intersection(units.union_all()).representative_point()
        out.append((q.x + rng.uniform(-30, 30), q.y + rng.uniform(-30, 30)))
    import geopandas as gpd

    g = gpd.GeoSeries(gpd.points_from_xy([x for x, _ in out], [y for _, y in out]), crs=32648).to_crs(4326)
    return [(float(p.x), float(p.y)) for p in g]


async def _session(i: int, base: str, rounds: int, targets: list, times: dict, errors: list, think: float) -> float:
    import httpx

    rng = random.Random(i)
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        t0 = time.perf_counter()
        st = (await c.get("/api/state")).json()
        created = time.perf_counter() - t0
        ids = [p["id"] for p in st["points"]]

        async def call(op: str, path: str, body: dict) -> None:
            if think > 0:  # a person looks at the answer before the next edit
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
            t = time.perf_counter()
            try:
                r = await c.post(path, json=body)
                ok = r.status_code == 200
                msg = "" if ok else f"{r.status_code} {r.text[:120]}"
            except Exception as exc:  # counted, never fatal
                ok, msg = False, f"{type(exc).__name__}: {exc}"
            times.setdefault(op, []).append(time.perf_counter() - t)
            if not ok:
                errors.append(f"session {i} {op}: {msg}")

        for k in range(rounds):
            lon, lat = targets[rng.randrange(len(targets))]
            await call("move", "/api/move", {"point_id": rng.choice(ids), "lon": lon, "lat": lat})
            lon, lat = targets[rng.randrange(len(targets))]
            await call("add", "/api/add", {"lon": lon, "lat": lat, "kind": "kiosk", "counters": 2})
            await call("undo", "/api/undo", {})
            if k == 0:
                await call("propose", "/api/propose", {"n": 3})
        return created


async def drive(base: str, sessions: int, rounds: int, time_limit: float, think: float) -> dict:
    targets = _targets(200, 2025)
    times: dict[str, list[float]] = {}
    errors: list[str] = []
    tasks = [asyncio.create_task(_session(i, base, rounds, targets, times, errors, think)) for i in range(sessions)]
    t0 = time.perf_counter()
    done, pending = await asyncio.wait(tasks, timeout=time_limit)
    for t in pending:
        t.cancel()
    wall = time.perf_counter() - t0
    planned = sessions * (3 * rounds + 1)
    answered = sum(len(v) for v in times.values())
    if pending:
        errors.append(f"{len(pending)} sessions not finished within {time_limit:g} s ({planned - answered} requests)")
    created = [t.result() for t in done if not t.exception()]
    return {"times": times, "errors": errors, "wall_s": wall, "planned": planned, "answered": answered,
            "unanswered": planned - answered, "session_start_s": created}  # fmt: skip


def _stats(xs: list[float]) -> tuple[float, float, float]:
    a = np.asarray(xs)
    return float(np.median(a)), float(np.percentile(a, 95)), float(a.max())


def screenshot(base: str, path: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium",
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run"])  # fmt: skip
        page = b.new_page(viewport={"width": 1400, "height": 900})
        page.goto(base + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        st = page.evaluate("ppEditor.state")
        pid = next(q["id"] for q in st["points"] if q["kind"] == "unit_point" and q["unit"] == "00004")
        p1 = next(q for q in st["points"] if q["id"] == pid)
        page.evaluate("([id, lon, lat]) => ppEditor.move(id, lon, lat)", [pid, p1["lon"] + 0.012, p1["lat"] - 0.006])
        page.wait_for_selector("body[data-version='1']", timeout=120_000)
        page.click("#prop-run")
        page.wait_for_selector("#prop-list li", timeout=120_000)
        page.wait_for_function("() => ppEditor.state.intervals && !ppEditor.state.details_pending", timeout=300_000)
        page.evaluate("ppEditor.map.setView([21.03, 105.83], 11)")
        page.wait_for_timeout(800)
        page.screenshot(path=path)
        b.close()
    print(f"screenshot: {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument(
        "--think", type=float, default=2.0, help="mean seconds a session waits before each edit (0: back to back)"
    )
    ap.add_argument("--network", default=None, help="'none' for the straight line only (default: shipped roads)")
    ap.add_argument("--draws", type=int, default=20, help="draws behind the intervals (server default 20)")
    ap.add_argument("--no-details", action="store_true")
    ap.add_argument("--screenshot", help="also write a 1400×900 screenshot of the editor here")
    ap.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--state-dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_only:
        serve_only(args)
        return
    port = _free_port()
    state = tempfile.mkdtemp(prefix="bench-serve-")
    cmd = [sys.executable, __file__, "--serve-only", "--port", str(port), "--state-dir", state,
           "--draws", str(args.draws)] + (["--network", args.network] if args.network else []) + (
           ["--no-details"] if args.no_details else [])  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = ""
        while not line.startswith("READY"):
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise SystemExit("the server did not start")
        base = line.split()[1].rstrip("/")
        time.sleep(0.5)
        startup = time.perf_counter() - t0
        print(f"server ready in {startup:.1f} s at {base} (scenario class: {_scenario_class()})")
        if args.screenshot:
            screenshot(base, args.screenshot)
        res = asyncio.run(drive(base, args.sessions, args.rounds, args.time_limit, args.think))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    report(args, res, startup)


def _scenario_class() -> str:
    from pointplan.serve import scenario_class

    return scenario_class().__qualname__


def report(args: argparse.Namespace, res: dict, startup: float) -> None:
    every = [t for v in res["times"].values() for t in v]
    out = {"sessions": args.sessions, "rounds": args.rounds, "network": args.network or "default",
           "draws": args.draws, "details": not args.no_details, "think_s": args.think,
           "server_start_s": round(startup, 1),
           "requests": res["answered"], "unanswered": res["unanswered"], "errors": len(res["errors"]),
           "wall_s": round(res["wall_s"], 1), "scenario_class": _scenario_class()}  # fmt: skip
    if res["session_start_s"]:
        out["session_start_median_s"] = round(statistics.median(res["session_start_s"]), 3)
    print(f"{'operation':<10s} {'n':>5s} {'median s':>9s} {'P95 s':>9s} {'max s':>9s}")
    for op, xs in sorted(res["times"].items()):
        med, p95, mx = _stats(xs)
        print(f"{op:<10s} {len(xs):5d} {med:9.3f} {p95:9.3f} {mx:9.3f}")
        out[f"{op}_median_s"], out[f"{op}_p95_s"] = round(med, 3), round(p95, 3)
    if every:
        med, p95, mx = _stats(every)
        print(f"{'all':<10s} {len(every):5d} {med:9.3f} {p95:9.3f} {mx:9.3f}")
        out["median_s"], out["p95_s"] = round(med, 3), round(p95, 3)
        out["goal_met"] = bool(p95 <= 1.0 and not res["errors"])
    for e in res["errors"][:10]:
        print("error:", e)
    print(f"errors: {len(res['errors'])}; wall {res['wall_s']:.1f} s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
