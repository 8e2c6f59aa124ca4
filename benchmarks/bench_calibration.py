"""Refit the straight-line fallback on door-to-door trips, and measure its bias (issue 24).

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_calibration.py            # fit, print, write nothing
    PYTHONPATH=src python benchmarks/bench_calibration.py --write    # ... and ship the refit
    PYTHONPATH=src python benchmarks/bench_calibration.py --bias --old old.json   # before/after table

1. The walking correction: door-to-door walking on the Văn Miếu extract's full pedestrian
   network against its drive-only subset (``fit_walk_correction``).
2. ``fit_fallback(trips="door_to_door")`` on the inner city's drive network: origins the
   populated places within its reach (``build_demand(load_units())``, weighted by
   population), destinations the service points (``load_points()``) and the populated
   places; every pair routed by the network engine itself. Prints the held-out signed
   median, absolute median and P90 % error per mode.
3. ``--bias``: on the inner units (>= 99 % of their people within reach of the network),
   mean minutes to the nearest point by motorbike and on foot, the straight line
   everywhere (``travel_engine("none", mode)``) against the default engine (network,
   straight line beyond), with the calibration given by ``--old`` (before) and the new one.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import pandas as pd

import pointplan
from pointplan import network as net
from pointplan.data import data_file
from pointplan.network.calibration import DEFAULT_CALIBRATION_FILE, fit_walk_correction
from pointplan.network.fallback_model import FallbackCalibration, load_calibration

INNER = "osm/hanoi_inner_drive_2025.graphml.gz"


def doors() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    demand = pointplan.build_demand(pointplan.load_units())
    points = pointplan.load_points()
    dest = pd.concat([points[["geometry"]], demand[["geometry"]].to_crs(points.crs)], ignore_index=True)
    return demand, dest, points


def add_nearest(cal: FallbackCalibration) -> FallbackCalibration:
    """Fit each mode's ``nearest_factor`` on an already fitted calibration (step 3 of the refit)."""
    from pointplan.network.calibration import _nearest_factor

    demand, _, points = doors()
    for mode, model in cal.models.items():
        eng = net.NetworkEngine(net.load_network(data_file(INNER), mode=mode), mode, walk_correction=None)
        model.stats.pop("nearest_heldout_mean_pct_error", None)  # an older key
        model.stats.update(_nearest_factor(eng, model, demand, points))
        print(mode, {k: v for k, v in model.stats.items() if k.startswith("nearest")})
    return cal


def refit(seed: int, modes: tuple[str, ...], n_origins: int) -> FallbackCalibration:
    t0 = time.perf_counter()
    corr = fit_walk_correction(data_file("osm/vanmieu.osm"), seed=seed)
    print(f"walking correction (drive-only / pedestrian minutes): {corr.to_dict()} [{time.perf_counter() - t0:.0f} s]")
    demand, dest, points = doors()
    cal = net.fit_fallback(
        data_file(INNER),
        modes=modes,
        origins=demand,
        destinations=dest,
        n_origins=n_origins,
        walk_correction=corr,
        points=points,
        seed=seed,
    )
    cal.meta["fitted_on"] = "data/osm/hanoi_inner_drive_2025.graphml.gz"
    print(f"fitted in {time.perf_counter() - t0:.0f} s")
    return cal


def table(cal: FallbackCalibration) -> pd.DataFrame:
    rows = {}
    for mode, m in cal.models.items():
        s = m.stats
        rows[mode] = {
            "heldout_signed_median_pct": s["heldout_signed_pct_error"]["median"],
            "heldout_abs_median_pct": s["heldout_abs_pct_error"]["median"],
            "heldout_abs_p90_pct": s["heldout_abs_pct_error"]["p90"],
            "n_pairs_heldout": s["n_pairs_heldout"],
            "nearest_factor": s.get("nearest_factor"),
            "signed_median_by_band": [b["signed_median"] for b in s["heldout_by_band"]],
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def inner_bias(cal_path: Path | None, before: bool) -> pd.DataFrame:
    """Mean minutes on the inner units: straight line everywhere vs the default engine.

    ``before``: walking not corrected and no handover blend (the engine before issue 24).
    """
    units = pointplan.load_units()
    demand = pointplan.build_demand(units)
    points = pointplan.load_points()
    kw = {} if cal_path is None else {"calibration": cal_path}
    rows = {}
    for mode in ("motorbike", "walk"):
        hybrid = net.travel_engine(None, mode, **kw)
        if before:
            network = net.NetworkEngine(hybrid.network.graph, mode, walk_correction=1.0)
            hybrid = net.HybridEngine(network, net.CrowFliesEngine(mode, **kw), handover_from=1.0)
        on = hybrid.on_network(demand).to_numpy()
        pop = demand["population"].to_numpy(float)
        share = (
            pd.Series(on * pop).groupby(demand["unit_code"].to_numpy()).sum()
            / pd.Series(pop).groupby(demand["unit_code"].to_numpy()).sum()
        )
        inner = demand["unit_code"].isin(share.index[share >= 0.99]).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = hybrid.nearest(demand, points, with_distance=False)["minutes"].to_numpy()
            b = net.travel_engine("none", mode, **kw).nearest(demand, points)["minutes"].to_numpy()
        w = pop[inner]
        rows[mode] = {
            "inner_units": int((share >= 0.99).sum()),
            "network_share_of_people": round(float((on * pop)[inner].sum() / w.sum()), 4),
            "mean_min_default_engine": round(float((a[inner] * w).sum() / w.sum()), 3),
            "mean_min_straight_line": round(float((b[inner] * w).sum() / w.sum()), 3),
        }
        r = rows[mode]
        r["straight_line_vs_network_pct"] = round(
            (r["mean_min_straight_line"] / r["mean_min_default_engine"] - 1) * 100, 1
        )
    return pd.DataFrame.from_dict(rows, orient="index")


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the refit to the shipped calibration file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", default=",".join(net.MODES))
    ap.add_argument("--n-origins", type=int, default=700)
    ap.add_argument("--bias", action="store_true", help="only measure the bias on the inner units")
    ap.add_argument("--old", type=Path, help="calibration file of the 'before' column (with --bias)")
    ap.add_argument("--nearest", action="store_true", help="only fit nearest_factor on the shipped calibration")
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    if args.nearest:
        cal = add_nearest(FallbackCalibration.from_dict(load_calibration().to_dict()))
        if args.write:
            cal.write(DEFAULT_CALIBRATION_FILE)
            print("wrote", DEFAULT_CALIBRATION_FILE)
        return
    if args.bias:
        if args.old is not None:
            print("before (calibration", args.old, ", walking not corrected):")
            print(inner_bias(args.old, True).to_string())
        print("after (shipped calibration):")
        print(inner_bias(None, False).to_string())
        return
    cal = refit(args.seed, tuple(args.modes.split(",")), args.n_origins)
    print(table(cal).to_string())
    if args.write:
        cal.write(DEFAULT_CALIBRATION_FILE)
        print("wrote", DEFAULT_CALIBRATION_FILE)
    else:
        print(json.dumps({m: x.stats["heldout_signed_pct_error"] for m, x in cal.models.items()}))


if __name__ == "__main__":
    main()
