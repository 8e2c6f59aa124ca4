"""Benchmark: population demand points, time and peak memory.

Cases (each in its own subprocess, so peak memory is the case's own):

* ``hanoi_1km``   — :func:`pointplan.demand.build_demand` on Hanoi's 126 units, WorldPop
  1 km window (6.5 k points);
* ``peer_overlay_1km`` — the textbook way to the same numbers: every pixel as a polygon
  GeoDataFrame, ``geopandas.overlay(..., how="intersection")`` with the units, area
  weights, per-unit rescaling. Its totals are checked against pointplan's;
* ``hanoi_250m``  — the same with 250 m sub-cells (4 × 4 per pixel, 77 k points);
* ``vietnam_cells`` — all of Vietnam without unit polygons (none are available offline):
  the 879 × 1781 national raster read in row blocks by
  :func:`pointplan.demand.iter_raster_cells`, one point per populated pixel; total ≈ 97.3 M;
* ``vietnam_units_1km`` — the full dasymetric model on the national raster with
  **synthetic** units: 3,321 Voronoi cells (Vietnam's commune-level units since July 2025)
  seeded at population-weighted random pixels, clipped to the raster's data outline and
  densified to Hanoi's vertex density (~37 vertices per km of boundary), each given the
  people of the pixels whose centres it holds. It shows the cost of a real national run;
  only the polygons are made up.

Reported per case: wall time and CPU time of the process (best of ``--repeat`` runs where
cheap; CPU time is the steadier figure on a shared machine), peak resident memory
of the subprocess (``resource`` ``ru_maxrss``, includes GEOS and GDAL allocations) and its
growth over the baseline after imports and input loading, and the Python-heap peak
(``tracemalloc``; numpy included, GEOS not). The last line is one JSON object.

Run: ``python benchmarks/bench_demand.py [--repeat 3] [--skip-peer]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import numpy as np

N_UNITS_VIETNAM = 3321


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _peer_overlay(units: Any, raster_path: Any) -> Any:
    """Area-weighted dasymetric demand with geopandas.overlay (the common approach)."""
    import geopandas as gpd
    import rasterio
    import shapely

    with rasterio.open(raster_path) as src:
        values = src.read(1).astype(float)
        t = src.transform
        values[(values == src.nodata) | ~np.isfinite(values) | (values < 0)] = 0.0
    rows, cols = np.indices(values.shape)
    x0 = t.c + cols.ravel() * t.a
    y0 = t.f + rows.ravel() * t.e
    cells = gpd.GeoDataFrame(
        {"value": values.ravel(), "cell": np.arange(values.size)},
        geometry=shapely.box(x0, y0 + t.e, x0 + t.a, y0),
        crs=src.crs,
    )
    cells = cells.to_crs("EPSG:32648")
    cells["cell_area"] = cells.area
    u = units[["population", "geometry"]].reset_index().to_crs("EPSG:32648")
    pieces = gpd.overlay(cells, u, how="intersection", keep_geom_type=True)
    pieces["raw"] = pieces["value"] * pieces.area / pieces["cell_area"]
    raw_sum = pieces.groupby("code")["raw"].transform("sum")
    pieces["pop"] = pieces["population"] * pieces["raw"] / raw_sum
    pieces["geometry"] = pieces.representative_point()
    return pieces.to_crs("EPSG:4326")


def _synthetic_vietnam_units(raster_path: Any, n_units: int, seed: int = 0) -> Any:
    """Voronoi 'communes' over Vietnam's populated land, densified like Hanoi's polygons."""
    import geopandas as gpd
    import rasterio
    import rasterio.features
    import shapely

    with rasterio.open(raster_path) as src:
        values = src.read(1)
        t = src.transform
        nodata = src.nodata
        crs = src.crs
    data = (values != nodata) & np.isfinite(values)
    shapes = [
        shapely.geometry.shape(g)
        for g, v in rasterio.features.shapes(data.astype("uint8"), mask=data, transform=t)
        if v == 1
    ]
    land = shapely.union_all(shapes)
    pop = np.where(data & (values > 0), values, 0.0).astype(float)
    rng = np.random.default_rng(seed)
    flat = rng.choice(pop.size, size=n_units, replace=False, p=pop.ravel() / pop.sum())
    r, c = np.divmod(flat, pop.shape[1])
    jitter = rng.uniform(0.1, 0.9, size=(2, n_units))
    seeds = shapely.points(t.c + (c + jitter[0]) * t.a, t.f + (r + jitter[1]) * t.e)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=land))
    cells = shapely.intersection(cells, land)
    cells = cells[~shapely.is_empty(cells) & (shapely.area(cells) > 0)]
    # Densify to Hanoi's ~37 vertices per km (≈ 27 m apart ≈ 0.00025°).
    cells = shapely.make_valid(shapely.segmentize(cells, 0.00025))
    cells = np.array(
        [shapely.union_all(shapely.get_parts(g)[shapely.get_type_id(shapely.get_parts(g)) == 3]) for g in cells],
        dtype=object,
    )
    # Population: people of the pixels whose centres fall in the cell.
    rr, cc = np.nonzero(pop > 0)
    centres = shapely.points(t.c + (cc + 0.5) * t.a, t.f + (rr + 0.5) * t.e)
    tree = shapely.STRtree(cells)
    pi, ui = tree.query(centres, predicate="within")
    population = np.bincount(ui, pop[rr[pi], cc[pi]], minlength=len(cells))
    units = gpd.GeoDataFrame(
        {"population": population},
        index=[f"S{i:05d}" for i in range(len(cells))],
        geometry=cells,
        crs=crs,
    )
    units.index.name = "code"
    return units


def run_case(case: str, repeat: int) -> dict[str, Any]:
    """Run one case in this process; return its figures."""
    import shapely

    from pointplan.data import data_file, load_units
    from pointplan.demand import build_demand, iter_raster_cells

    out: dict[str, Any] = {"case": case}
    if case.startswith("hanoi") or case.startswith("peer"):
        units = load_units()
        hanoi = data_file("worldpop_hanoi")
    if case == "hanoi_1km":

        def fn() -> Any:
            return build_demand(units, raster=hanoi)
    elif case == "hanoi_250m":

        def fn() -> Any:
            return build_demand(units, raster=hanoi, cell_m=250)
    elif case == "peer_overlay_1km":

        def fn() -> Any:
            return _peer_overlay(units, hanoi)
    elif case == "vietnam_cells":
        vnm = data_file("worldpop_vnm")

        def fn() -> Any:
            total, n = 0.0, 0
            for block in iter_raster_cells(vnm, block_rows=256):
                total += float(block["population"].sum())
                n += len(block)
            return total, n
    elif case == "vietnam_units_1km":
        vnm = data_file("worldpop_vnm")
        t0 = time.perf_counter()
        units = _synthetic_vietnam_units(vnm, N_UNITS_VIETNAM)
        out["setup_s"] = round(time.perf_counter() - t0, 2)
        out["units"] = len(units)
        out["unit_vertices"] = int(shapely.get_num_coordinates(units.geometry.values).sum())

        def fn() -> Any:
            return build_demand(units, raster=vnm, block_rows=128)
    else:
        msg = f"unknown case {case}"
        raise ValueError(msg)

    base = _rss_mb()
    times, cpu = [], []
    result = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out["seconds"] = round(min(times), 3)
    out["cpu_seconds"] = round(min(cpu), 3)
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    out["rss_growth_mb"] = round(_rss_mb() - base, 1)
    tracemalloc.start()
    fn()
    out["py_heap_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    tracemalloc.stop()

    if case == "vietnam_cells":
        total, n = result  # type: ignore[misc]
        out["points"] = n
        out["population"] = round(total)
    elif case == "peer_overlay_1km":
        out["points"] = len(result)
        out["population"] = round(float(result["pop"].sum()), 3)
        ours = build_demand(units, raster=hanoi)
        mine = ours.groupby("unit_code")["population"].sum()
        theirs = result.groupby("code")["pop"].sum()
        out["max_unit_diff_vs_pointplan"] = float((mine - theirs.loc[mine.index]).abs().max())
        raw_mine = ours.groupby("unit_code")["raster_population"].sum()
        raw_theirs = result.groupby("code")["raw"].sum()
        out["max_unit_raw_rel_diff"] = float(((raw_mine - raw_theirs.loc[raw_mine.index]) / raw_mine).abs().max())
    else:
        out["points"] = len(result)
        out["population"] = round(float(result["population"].sum()), 3)
        out["demand_method"] = result.attrs.get("demand_method")
        if case == "vietnam_units_1km":
            out["units_no_raster"] = len(result.attrs.get("units_no_raster", []))
    return out


def main() -> None:
    from pointplan._results import compute_afresh

    compute_afresh()  # time the computing itself, here and in the processes it starts
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the cheap cases")
    parser.add_argument("--skip-peer", action="store_true", help="skip the geopandas peer")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.repeat)))
        return

    cases = [
        ("hanoi_1km", args.repeat),
        ("peer_overlay_1km", 1),
        ("hanoi_250m", args.repeat),
        ("vietnam_cells", args.repeat),
        ("vietnam_units_1km", 1),
    ]
    if args.skip_peer:
        cases = [c for c in cases if not c[0].startswith("peer")]
    results: dict[str, dict[str, Any]] = {}
    for case, rep in cases:
        proc = subprocess.run(
            [sys.executable, __file__, "--case", case, "--repeat", str(rep)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"{case}: FAILED\n{proc.stderr[-2000:]}")
            results[case] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        results[case] = res
        line = (
            f"{case:<20} {res['seconds']:>8.2f} s (CPU {res['cpu_seconds']:.2f} s)  "
            f"peak RSS {res['peak_rss_mb']:>7.1f} MB (+{res['rss_growth_mb']:.1f})  "
            f"py heap {res['py_heap_peak_mb']:>6.1f} MB  "
            f"{res.get('points', 0):>8,} points  {res.get('population', 0):>14,.1f} people"
        )
        print(line)
        extra = {
            k: v
            for k, v in res.items()
            if k
            in (
                "setup_s",
                "units",
                "unit_vertices",
                "units_no_raster",
                "max_unit_diff_vs_pointplan",
                "max_unit_raw_rel_diff",
            )
        }
        if extra:
            print(f"{'':<20} {extra}")
    ours, peer = results.get("hanoi_1km", {}), results.get("peer_overlay_1km", {})
    if "cpu_seconds" in ours and "cpu_seconds" in peer:
        ratio = peer["cpu_seconds"] / ours["cpu_seconds"]
        results["speedup_vs_geopandas_overlay_1km"] = round(ratio, 2)
        print(f"pointplan vs geopandas.overlay (Hanoi 1 km, CPU time): {ratio:.1f}x faster")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
