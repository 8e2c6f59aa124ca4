"""Hospitals and clinics from OpenStreetMap, at their mapped coordinates."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan._text import normalize_name
from pointplan._validate import projected_crs
from pointplan.locate.sites._common import (
    _CLINIC,
    _NAME_COLS,
    _blank,
    _empty_sites,
    _find_col,
    _finish,
    _issue,
    _report,
)

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


# --------------------------------------------------------------------------------------
# Hospitals and clinics (coordinates)
# --------------------------------------------------------------------------------------
def _hospital_frame(raw: gpd.GeoDataFrame, name_col: str, source: str) -> gpd.GeoDataFrame:
    """Return the OSM features as a sites frame: names, hospital or clinic, address from the addr: tags."""
    names = raw[name_col].where(raw[name_col].notna(), raw.get("name"))
    osm = raw.get("osm_type", pd.Series("node", index=raw.index)).astype(str)
    ids = raw.get("osm_id", pd.Series(range(len(raw)), index=raw.index)).astype(str)
    tags = (
        raw.get("healthcare", pd.Series("", index=raw.index)).fillna("").astype(str)
        + " "
        + raw.get("amenity", pd.Series("", index=raw.index)).fillna("").astype(str)
    )
    clinic = names.fillna("").astype(str).str.contains(_CLINIC) | tags.str.contains("clinic")
    street = raw.get("addr:street", pd.Series(None, index=raw.index))
    house = raw.get("addr:housenumber", pd.Series(None, index=raw.index))
    address = [" ".join(str(v) for v in (h, s) if not _blank(v)) for h, s in zip(house, street, strict=True)]
    sites = gpd.GeoDataFrame(
        {
            "site_id": ("osm-" + osm + "-" + ids).to_numpy(),
            "name": names.map(lambda v: None if _blank(v) else normalize_name(str(v))).to_numpy(),
            "site_kind": np.where(clinic, "clinic", "hospital"),
            "address": address,
            "unit_code": None,
            "source": "OpenStreetMap (" + source + ")",
            "location_precision": "osm_mapped",
            "located_by": "osm_coordinates",
            "matched_street": "",
            "_row": np.arange(1, len(raw) + 1),
        },
        geometry=raw.geometry.to_numpy(),
        crs=settings.geographic_crs,
    )
    return sites


def hospital_sites(
    path: str | Path | None = None, units: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Return the hospitals and clinics of an OSM POI file that lie in the units, and a report.

    Parameters
    ----------
    path
        A GeoJSON (or any vector file) of points with OSM tags (``name``, ``amenity``,
        ``healthcare``, ``addr:street``...); default the shipped
        ``poi/hanoi_osm_hospitals_2024-09.geojson``.
    units
        Unit polygons indexed by code (default :func:`pointplan.load_units`).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Sites with :data:`SITE_COLUMNS` (``site_kind`` ``hospital`` or ``clinic``, precision
        ``surveyed``, EPSG:4326) and the report of dropped rows (no name, outside the city,
        duplicate). A file without any name column reports every row and returns no site.

    Examples
    --------
    >>> import json, tempfile, pathlib, geopandas as gpd, shapely, pandas as pd
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(105.8, 21.0, 105.9, 21.1)],
    ...                          index=pd.Index(["00001"], name="code"), crs=4326)
    >>> feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": xy},
    ...           "properties": {"name": n, "osm_type": "node", "osm_id": i}}
    ...          for i, (n, xy) in enumerate([("Bệnh viện A", [105.85, 21.05]),
    ...              ("Trạm y tế B", [105.86, 21.05]), ("Bệnh viện C", [106.5, 21.0])])]
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.geojson"
    >>> _ = p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    >>> sites, report = hospital_sites(p, units)
    >>> sites[["name", "site_kind", "unit_code"]].values.tolist()
    [['Bệnh viện A', 'hospital', '00001'], ['Trạm y tế B', 'clinic', '00001']]
    >>> report[["row", "issue"]].values.tolist()
    [[3, 'outside_city']]
    """
    from pointplan.data import data_file, load_units

    units = load_units() if units is None else units
    p = Path(path) if path is not None else data_file("poi_hospitals")
    source = p.name
    raw = gpd.read_file(p).to_crs(settings.geographic_crs)
    raw = raw[~(raw.geometry.isna() | raw.geometry.is_empty)]
    if not (raw.geom_type == "Point").all():
        raw = raw.set_geometry(raw.to_crs(projected_crs()).geometry.representative_point().to_crs(raw.crs))
    name_col = _find_col(raw.columns, ("name:vi", *_NAME_COLS))
    if name_col is None:
        rows = [
            _issue(source, i + 1, "", "", "no_name", f"{source} has no name column; add 'name'", "dropped")
            for i in range(len(raw))
        ]
        return _empty_sites(), _report(rows)
    sites = _hospital_frame(raw, name_col, source)
    return _finish(sites, units, source)
