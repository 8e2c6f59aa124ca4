"""Derive the WorldPop 2020 sum inside each of Vietnam's 3,321 units (the population check's evidence).

Reads ``data/vietnam/units_2025_vn.gpkg`` and ``data/population/worldpop_2020_1km_vnm.tif``
and cuts the raster by the unit polygons with pointplan's own demand code
(:func:`pointplan.demand.demand_for_units`: every pixel ∩ unit piece gets the pixel's people
in proportion to its share of the pixel's area), then sums the raw raster people of each
unit (``raster_population``, before any rescaling). Writes a small table into the package:
``src/pointplan/tables/vn_units_worldpop.csv`` (``code``, ``province_code``,
``worldpop2020_1km``, people rounded to 0.1), which :func:`pointplan.load_units` reads to check
the official populations (:func:`pointplan.provinces.check_populations`).

Run from the repository root (about 20 s)::

    python tools/derive_unit_worldpop.py [--out PATH]

``tests/test_provinces.py`` recomputes the sums of two provinces and checks the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pointplan.demand import demand_for_units

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "data" / "vietnam" / "units_2025_vn.gpkg"
RASTER = ROOT / "data" / "population" / "worldpop_2020_1km_vnm.tif"
OUT = ROOT / "src" / "pointplan" / "tables" / "vn_units_worldpop.csv"


def unit_worldpop(units: gpd.GeoDataFrame, raster: Path = RASTER) -> pd.Series:
    """Return the raw WorldPop people inside each unit (indexed by code; 0 where none)."""
    frame = units[["code", "geometry"]].set_index("code")
    frame["population"] = 1.0  # any positive figure: only the raw raster people are kept
    demand = demand_for_units(frame, raster, keep_empty=True)
    sums = demand.groupby("unit_code")["raster_population"].sum()
    return sums.reindex(frame.index.astype(str)).fillna(0.0).rename("worldpop2020_1km")


def main() -> None:
    """Write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    units = gpd.read_file(UNITS)
    out = []
    for province, grp in units.groupby("province_code", sort=True):
        wp = unit_worldpop(grp)
        out.append(
            pd.DataFrame({"code": wp.index, "province_code": province, "worldpop2020_1km": wp.round(1).to_numpy()})
        )
    table = pd.concat(out, ignore_index=True).sort_values("code")
    table.to_csv(args.out, index=False, encoding="utf-8", lineterminator="\n")
    print(f"wrote {len(table)} units, {table['worldpop2020_1km'].sum():,.0f} people, to {args.out}")


if __name__ == "__main__":
    main()
