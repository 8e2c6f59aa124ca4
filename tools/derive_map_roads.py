"""Derive the light road layer of pointplan's maps from the inner-city drive network.

Reads ``data/osm/hanoi_inner_drive_2025.graphml.gz`` (OpenStreetMap, ODbL 1.0) with osmnx,
keeps the main roads (motorway, trunk, primary, secondary, tertiary; no links), merges each
road's edges into lines (both directions once), simplifies them in EPSG:32648 and writes a
small GeoJSON into the package: ``src/pointplan/maps/data/hanoi_main_roads.geojson``.

Run from the repository root (about 30 s)::

    python tools/derive_map_roads.py [--tolerance-m 12] [--out PATH]

The output is deterministic (sorted features, coordinates rounded to 1e-5 degrees), so
re-running it on the same network gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import shapely

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "osm" / "hanoi_inner_drive_2025.graphml.gz"
OUT = ROOT / "src" / "pointplan" / "maps" / "data" / "hanoi_main_roads.geojson"
#: Road classes kept, from the most to the least important (the feature property "c").
CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary")


def _road_class(value: object) -> str | None:
    """Return the most important kept class among an edge's ``highway`` tag(s), or None."""
    tags = value if isinstance(value, list) else [value]
    ranks = [CLASSES.index(t) for t in tags if t in CLASSES]
    return CLASSES[min(ranks)] if ranks else None


def _edges(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Return the kept edges in EPSG:32648 with columns ``c`` (class) and ``n`` (name)."""
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True).reset_index()
    edges["c"] = edges["highway"].map(_road_class)
    edges = edges[edges["c"].notna()].copy()
    names = edges["name"] if "name" in edges else gpd.pd.Series("", index=edges.index)
    edges["n"] = names.map(lambda v: v[0] if isinstance(v, list) else ("" if v is None or v != v else str(v)))
    # A two-way road is two directed edges: keep one of each (u, v) pair.
    key = np.where(
        edges["u"] < edges["v"],
        edges["u"].astype(str) + "-" + edges["v"].astype(str),
        edges["v"].astype(str) + "-" + edges["u"].astype(str),
    )
    edges = edges.assign(_k=key).drop_duplicates("_k")
    return edges[["c", "n", "geometry"]].to_crs("EPSG:32648")


def derive(graph: nx.MultiDiGraph, tolerance_m: float) -> dict[str, Any]:
    """Merge, simplify and round the main roads of an osmnx graph into a GeoJSON FeatureCollection."""
    edges = _edges(graph)
    feats: list[dict[str, Any]] = []
    for (cls, name), group in sorted(edges.groupby(["c", "n"]), key=lambda kv: (CLASSES.index(kv[0][0]), kv[0][1])):
        merged = shapely.line_merge(shapely.union_all(group.geometry.values))
        simple = shapely.simplify(merged, tolerance_m, preserve_topology=False)
        geom = gpd.GeoSeries([simple], crs="EPSG:32648").to_crs("EPSG:4326").iloc[0]
        geom = shapely.transform(geom, lambda xy: np.round(xy, 5))
        if geom.is_empty:
            continue
        props = {"c": CLASSES.index(cls)}
        if name:
            props["n"] = name
        feats.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))})
    return {
        "type": "FeatureCollection",
        "classes": list(CLASSES),
        "source": "OpenStreetMap (Feb-May 2025) via data/osm/hanoi_inner_drive_2025.graphml.gz",
        "license": "ODbL 1.0, (c) OpenStreetMap contributors",
        "tolerance_m": tolerance_m,
        "features": feats,
    }


def main() -> None:
    """Command line: derive the file and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance-m", type=float, default=12.0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = derive(ox.load_graphml(SOURCE), args.tolerance_m)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    n_coords = sum(
        len(shapely.get_coordinates(shapely.from_geojson(json.dumps(f["geometry"])))) for f in data["features"]
    )
    print(f"{args.out}: {len(data['features'])} roads, {n_coords} vertices, {args.out.stat().st_size / 1e6:.3f} MB")


if __name__ == "__main__":
    main()
