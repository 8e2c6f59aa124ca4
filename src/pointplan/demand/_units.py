"""Validation of the unit polygons shared by the demand modules (codes, populations)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from pointplan._errors import CRSError, GeometryError, InputError


def _unit_codes(units: gpd.GeoDataFrame) -> pd.Index:
    """Return unit codes as strings: the index, or a ``code`` column beside a RangeIndex."""
    if isinstance(units.index, pd.RangeIndex) and "code" in units.columns:
        codes = pd.Index(units["code"].astype(str), name="code")
    else:
        codes = pd.Index(units.index.astype(str), name="code")
    if codes.has_duplicates:
        dup = sorted(set(codes[codes.duplicated()]))[:8]
        msg = f"units: unit codes must be unique; duplicated {dup}. Give each unit its own code."
        raise InputError(msg)
    return codes


def _check_units(units: object, population_col: str) -> tuple[gpd.GeoDataFrame, pd.Index, npt.NDArray[np.float64]]:
    """Validate the units frame; return it, its codes and populations."""
    if not isinstance(units, gpd.GeoDataFrame):
        msg = (
            f"units must be a geopandas GeoDataFrame of unit polygons, got "
            f"{type(units).__name__}. Load them with pointplan.load_units() or "
            "geopandas.read_file(path)."
        )
        raise InputError(msg)
    if len(units) == 0:
        msg = "units is empty: give at least one unit polygon."
        raise InputError(msg)
    if units.crs is None:
        msg = (
            "units has no CRS. Set the one its coordinates are in, e.g. "
            "units.set_crs('EPSG:4326') for longitude/latitude."
        )
        raise CRSError(msg)
    if population_col not in units.columns:
        msg = (
            f"units lacks the population column {population_col!r}; it has "
            f"{list(map(str, units.columns))}. Pass population_col=... naming the column "
            "with each unit's population."
        )
        raise InputError(msg)
    codes = _unit_codes(units)
    raw = units[population_col]
    pop = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        msg = (
            f"units: column {population_col!r} must hold finite numbers >= 0; units "
            f"{list(codes[bad][:8])} hold {raw[bad].head(3).tolist()}."
        )
        raise InputError(msg)
    geom = np.asarray(units.geometry.values, dtype=object)
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    if empty.any():
        msg = f"units {list(codes[empty][:8])} have no geometry; drop them or give polygons."
        raise GeometryError(msg)
    kinds = shapely.get_type_id(geom)
    not_poly = ~np.isin(kinds, (3, 6))
    if not_poly.any():
        msg = (
            f"units must be Polygon/MultiPolygon; units {list(codes[not_poly][:8])} are "
            f"{sorted(set(units.geometry[not_poly].geom_type))}. Keep the polygons only."
        )
        raise GeometryError(msg)
    invalid = ~shapely.is_valid(geom)
    if invalid.any():
        msg = (
            f"units {list(codes[invalid][:8])} have invalid polygons "
            f"({shapely.is_valid_reason(geom[invalid][0])}). Repair them with "
            "units.make_valid() or in QGIS (Fix geometries)."
        )
        raise GeometryError(msg)
    return units, codes, pop
