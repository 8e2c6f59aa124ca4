"""Locating, verifying and loading the reference data; the Hanoi 2025 model.

The reference files are public data that the project ships with itself (``data/`` in the
repository, copied into the package as ``pointplan/_data`` when a wheel is built; sources,
licences and attributions in ``data/README.md``). pointplan finds them in the first of these
folders that holds them:

1. ``pointplan.settings.data_dir`` if set (``pointplan --data-dir DIR``);
2. the ``POINTPLAN_DATA_DIR`` environment variable;
3. the data installed with the package (``pointplan/_data``, in a wheel);
4. the checkout's own ``data/`` folder (a source tree or an editable install).

Nothing outside the project is searched: no environment variable is needed.

Every file is checked against a registry of sizes and sha256 digests, so a truncated or
altered copy is reported instead of giving wrong answers.

Examples
--------
>>> import pointplan
>>> units = pointplan.load_units()
>>> len(units), int(units["population"].sum())
(126, 8807523)
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import (
    CRSError,
    DataIntegrityError,
    DataNotFoundError,
    GeometryError,
    InputError,
)
from pointplan._results import cached, digest, frame_digest
from pointplan._text import name_key, normalize_name, strip_unit_prefix
from pointplan._validate import check_nonnegative, projected_crs
from pointplan.provinces import HANOI_CODE, check_populations, province_slug, resolve_province, unit_worldpop

__all__ = [
    "DATASETS",
    "Dataset",
    "check_points_province",
    "data_dirs",
    "data_file",
    "data_status",
    "load_boundary",
    "load_known_sites",
    "load_old_to_new",
    "load_units",
    "old_unit_reference",
    "provinces_of",
    "representative_points",
    "validate_units",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Official figures the loaded units are validated against (Resolution 1656/NQ-UBTVQH15).
HANOI_UNITS = 126
HANOI_PHUONG = 51
HANOI_XA = 75
HANOI_POPULATION = 8_807_523


#: Attribution the official unit map requires wherever the units are shown.
_UNITS_ATTRIBUTION = (
    "Official map sapnhap.bando.com.vn (NXB Tài nguyên – Môi trường và Bản đồ Việt Nam); "
    "thanglequoc/vietnamese-provinces-database (MIT)"
)


@dataclass(frozen=True)
class Dataset:
    """One reference file: where it lives below the data folder, how to verify it, and its provenance.

    Examples
    --------
    >>> DATASETS["units"].relpath
    'hanoi/units_2025.geojson'
    >>> DATASETS["osm_inner_drive"].attribution
    '© OpenStreetMap contributors (ODbL 1.0)'
    """

    key: str
    relpath: str
    size: int
    sha256: str
    title: str
    licence: str
    required: bool = True
    source: str = ""
    date: str = ""
    attribution: str = ""


#: Registry of the reference files the project ships in ``data/`` (size in bytes, sha256,
#: source, date, licence and the attribution to show; see ``data/README.md``).
DATASETS: dict[str, Dataset] = {
    d.key: d
    for d in (
        Dataset(
            "units",
            "hanoi/units_2025.geojson",
            3399403,
            "9a7e69b8ebd5119305fc9846365f14ce3b8bca5cf10a0732806c62b1b1c711d9",
            "126 commune-level units of Hanoi (2025), official map (bando/sapnhap)",
            "MIT (thanglequoc/vietnamese-provinces-database), data © bando/sapnhap",
            required=True,
            source="sapnhap.bando.com.vn via github.com/thanglequoc/vietnamese-provinces-database (cd58063)",
            date="2025-07",
            attribution=_UNITS_ATTRIBUTION,
        ),
        Dataset(
            "boundary",
            "hanoi/boundary_2025.geojson",
            29060,
            "19c05ec84b0951b48bb58e08a0ce7b35a3b1d35cde5851f75f056a6bacc3d208",
            "Hanoi city outline (2025)",
            "MIT (thanglequoc/vietnamese-provinces-database), data © bando/sapnhap",
            required=True,
            source="sapnhap.bando.com.vn via github.com/thanglequoc/vietnamese-provinces-database (cd58063)",
            date="2025-07",
            attribution=_UNITS_ATTRIBUTION,
        ),
        Dataset(
            "nq1656",
            "hanoi/nq1656_units.csv",
            116718,
            "9d2501a4242a904a12b352d3a1db94d8a202331bba9265c9d60e2563e883b24a",
            "Units as listed in Resolution 1656/NQ-UBTVQH15",
            "public legal text; figures from sapnhap.bando.com.vn",
            required=True,
            source="Resolution 1656/NQ-UBTVQH15 via github.com/dvhcvn/20250701",
            date="2025-06",
            attribution="Nghị quyết 1656/NQ-UBTVQH15; sapnhap.bando.com.vn",
        ),
        Dataset(
            "old_to_new",
            "hanoi/old_to_new_units.csv",
            82886,
            "0b758bbc71a024326512446ed98b967e4085cfcade794b40bceb6da0a70a805d",
            "Pre-2025 wards/communes -> 2025 units (794 rows)",
            "MIT (vietnamadminunits 1.0.4)",
            required=True,
            source="PyPI vietnamadminunits 1.0.4",
            date="2025-07",
            attribution="vietnamadminunits (MIT)",
        ),
        Dataset(
            "known_sites",
            "hanoi/known_service_sites.csv",
            4128,
            "72222d3b13ef8076fbd3134e39c2c19dd676b22426aacb4e52e92777775cb1b0",
            "Known sites of the Centre (addresses only, with sources)",
            "compiled from public news and government pages",
            required=True,
            source="public news and government pages (links in the file)",
            date="2025",
            attribution="sources linked in the file",
        ),
        Dataset(
            "units_vn",
            "vietnam/units_2025_vn.gpkg",
            16564224,
            "88e944b5be52989755db514e510b6f11529e4576146409f25551af9ff9597584",
            "All 3,321 commune-level units of Vietnam's 34 provinces (2025), official map (bando/sapnhap)",
            "MIT (thanglequoc/vietnamese-provinces-database), data © bando/sapnhap",
            required=False,
            source="sapnhap.bando.com.vn raw unit files via github.com/thanglequoc/vietnamese-provinces-database "
            "(cd58063), joined on bando_id to the official codes; coverage-simplified 0.0005°",
            date="2025-07",
            attribution=_UNITS_ATTRIBUTION,
        ),
        Dataset(
            "worldpop_hanoi",
            "population/worldpop_2020_1km_hanoi.tif",
            35169,
            "48e56d2c4adcb3b868981f5fdbe30aeb7b069481abebe0626fd873c6120201aa",
            "WorldPop 2020 1 km population, Hanoi window",
            "CC-BY-4.0, WorldPop (doi 10.5258/SOTON/WP00671)",
            required=True,
            source="WorldPop 2020 UN-adjusted 1 km via github.com/kraemer-lab/geoglue (e83cf4e)",
            date="2020",
            attribution="WorldPop (www.worldpop.org), CC-BY-4.0, doi 10.5258/SOTON/WP00671",
        ),
        Dataset(
            "worldpop_vnm",
            "population/worldpop_2020_1km_vnm.tif",
            1897702,
            "55cc3fb948c9afec65d674f3ae43f2e47c7cdd2ab89e232b66d52959dcc92415",
            "WorldPop 2020 1 km population, all of Vietnam",
            "CC-BY-4.0, WorldPop (doi 10.5258/SOTON/WP00671)",
            required=False,
            source="WorldPop 2020 UN-adjusted 1 km via github.com/kraemer-lab/geoglue (e83cf4e)",
            date="2020",
            attribution="WorldPop (www.worldpop.org), CC-BY-4.0, doi 10.5258/SOTON/WP00671",
        ),
        Dataset(
            "osm_vanmieu",
            "osm/vanmieu.osm",
            2070773,
            "574ac8ef3b0efe8502de79edaccfff438eb5457cf03a8fe4d1f4d7381d801a95",
            "OpenStreetMap extract around Văn Miếu (central Hanoi)",
            "ODbL 1.0, © OpenStreetMap contributors",
            required=False,
            source="OpenStreetMap export",
            date="2023-12",
            attribution="© OpenStreetMap contributors (ODbL 1.0)",
        ),
        Dataset(
            "osm_vanmieu_bike",
            "osm/vanmieu_bike.graphml",
            631305,
            "f3b4d7f04fc5953e7a50e0d9f623ae7203f635aa0495df03ab1e8865568d9619",
            "osmnx bike graph of the Văn Miếu extract",
            "ODbL 1.0, © OpenStreetMap contributors",
            required=False,
            source="OpenStreetMap export, osmnx",
            date="2023-12",
            attribution="© OpenStreetMap contributors (ODbL 1.0)",
        ),
        Dataset(
            "osm_inner_drive",
            "osm/hanoi_inner_drive_2025.graphml.gz",
            3660548,
            "f37fb5c9ab85407757a2ad944dd60a866c715225ecb9322952f0ac066461623f",
            "Inner-city drive network (osmnx GraphML, 28,612 nodes, 69,316 edges)",
            "ODbL 1.0, © OpenStreetMap contributors",
            required=False,
            source="OSM Overpass answers via github.com/truntain/Finding-path-and-street-map (3c2ceaa), osmnx 2.1.1",
            date="2025-02/2025-05",
            attribution="© OpenStreetMap contributors (ODbL 1.0)",
        ),
        Dataset(
            "osm_inner_overpass",
            "osm/hanoi_inner_drive_overpass_2025.json.gz",
            2279318,
            "52937c28a5887fa00a5a42eb14d235dc14b4fb42f19336b1ef306568e8cd86ef",
            "Overpass answers behind the inner-city drive network",
            "ODbL 1.0, © OpenStreetMap contributors",
            required=False,
            source="OpenStreetMap Overpass via github.com/truntain/Finding-path-and-street-map (3c2ceaa)",
            date="2025-02/2025-05",
            attribution="© OpenStreetMap contributors (ODbL 1.0)",
        ),
        Dataset(
            "poi_hospitals",
            "poi/hanoi_osm_hospitals_2024-09.geojson",
            101381,
            "c611f6df4c6c5b3e7204d44f0a797305271abec1ad53db0fc874086d7aa2cf03",
            "Hospitals and clinics (OSM amenity=hospital, 252 points, 157 in Hanoi)",
            "ODbL 1.0, © OpenStreetMap contributors",
            required=False,
            source="OpenStreetMap Overpass via github.com/TrieuThanhTung/location-based-service (0d6b76f)",
            date="2024-09-27",
            attribution="© OpenStreetMap contributors (ODbL 1.0)",
        ),
        Dataset(
            "poi_vnpost",
            "poi/hanoi_vnpost_offices_pre2025.csv",
            16283,
            "5974959c6ff0d4c433e3e42a90992ff55bdd5519d56ab9c39f266b618e51280f",
            "VNPost post offices in Hanoi (109, addresses only)",
            "factual directory data, cite VNPost",
            required=False,
            source="VNPost office list via github.com/HThanh-how/order-management (58a9379)",
            date="before 2025",
            attribution="VNPost (Tổng công ty Bưu điện Việt Nam)",
        ),
        Dataset(
            "bus_agency",
            "transit/hanoi_bus_2018/network_without_stop_times/agency.txt",
            111,
            "9a8912469c9dae211732e91d889df748abd43ca2f4405218e31ab2d080ab8273",
            "Hanoi bus network 2018 (no timetables): agency.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_calendar",
            "transit/hanoi_bus_2018/network_without_stop_times/calendar.txt",
            126,
            "358c3692e7fb5c68ea65940c044f3ef2b6811fbdaab0301127014741ca738e0a",
            "Hanoi bus network 2018 (no timetables): calendar.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_routes",
            "transit/hanoi_bus_2018/network_without_stop_times/routes.txt",
            7545,
            "6eb8be3c1591a85f04cd4d7b52de454e2d99c9a8365202eb6b02b8f02d0dec76",
            "Hanoi bus network 2018 (no timetables): routes.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_stops",
            "transit/hanoi_bus_2018/network_without_stop_times/stops.txt",
            391202,
            "69336330346031be42f54e0fa586cbe1eaabce28810b72093c5c590566471424",
            "Hanoi bus network 2018 (no timetables): stops.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_trips_am",
            "transit/hanoi_bus_2018/network_without_stop_times/trips_am.txt",
            82074,
            "f8a64276e2c5811b07c62b5846507bf6efe5fd4e3eb135aed3a9abba3737d103",
            "Hanoi bus network 2018 (no timetables): trips_am.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_trips_midday",
            "transit/hanoi_bus_2018/network_without_stop_times/trips_midday.txt",
            177599,
            "fe5bd96c4d357252d870d704a4a7ba3899cf14577d358d9f05b65c13a4f52636",
            "Hanoi bus network 2018 (no timetables): trips_midday.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_trips_pm",
            "transit/hanoi_bus_2018/network_without_stop_times/trips_pm.txt",
            86426,
            "9c409048ecdee64d7c5d0a34aa1c75100b53f43246cb40ac82754db67268c2fd",
            "Hanoi bus network 2018 (no timetables): trips_pm.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_dongda_agency",
            "transit/hanoi_bus_2018/dong_da_subset_complete/agency.txt",
            93,
            "f6319d57eeebff4ecf3b9f6ed6a13e5036c4e98d69049014a8325fa7d4fbcae9",
            "Hanoi bus 2018, complete Đống Đa feed: agency.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_dongda_calendar",
            "transit/hanoi_bus_2018/dong_da_subset_complete/calendar.txt",
            126,
            "358c3692e7fb5c68ea65940c044f3ef2b6811fbdaab0301127014741ca738e0a",
            "Hanoi bus 2018, complete Đống Đa feed: calendar.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_dongda_routes",
            "transit/hanoi_bus_2018/dong_da_subset_complete/routes.txt",
            1962,
            "5be91847ea1a5f5f5d380bfc372ae65105d258f06b311e480fd6edac59d7fb6b",
            "Hanoi bus 2018, complete Đống Đa feed: routes.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_dongda_shapes",
            "transit/hanoi_bus_2018/dong_da_subset_complete/shapes.txt",
            399440,
            "03ec8a849bd6241f408a131ca8ce985d2ccbf2f75e16ba14eaa24b9046b6bc78",
            "Hanoi bus 2018, complete Đống Đa feed: shapes.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_dongda_stop_times",
            "transit/hanoi_bus_2018/dong_da_subset_complete/stop_times.txt",
            613683,
            "f12f3c9feed29f99c1576f911018020b114dd89fd1b89b097927b0112d6217e7",
            "Hanoi bus 2018, complete Đống Đa feed: stop_times.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_dongda_stops",
            "transit/hanoi_bus_2018/dong_da_subset_complete/stops.txt",
            16506,
            "f595f13e9948c74b485aa65918de20a86814530f79397b343ef7c955dc67f6cf",
            "Hanoi bus 2018, complete Đống Đa feed: stops.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
        Dataset(
            "bus_dongda_trips",
            "transit/hanoi_bus_2018/dong_da_subset_complete/trips.txt",
            76359,
            "d9f37a7ae4a608a79c1701cd7db22214caad77d57eb1173cbcf2ce03733e6868",
            "Hanoi bus 2018, complete Đống Đa feed: trips.txt",
            "CC-BY-4.0 (World Bank / Arup Hanoi GTFS)",
            required=False,
            source="World Bank / Arup Hanoi GTFS 2018 via github.com/Promagicshow95/plugin_MIDOC (cea878a)",
            date="2018",
            attribution="World Bank / Arup, Hanoi GTFS 2018, CC-BY-4.0",
        ),
    )
}

_ENV = "POINTPLAN_DATA_DIR"


def _project_root() -> Path | None:
    """Return the checkout root when pointplan runs from a source tree (src layout)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "pointplan").is_dir():
            return parent
    return None


def _explicit_dirs() -> list[tuple[str, Path]]:
    """Folders the user named explicitly (setting, ``--data-dir``, environment variable)."""
    named: list[tuple[str, Path]] = []
    if settings.data_dir is not None:
        named.append(("pointplan.settings.data_dir (--data-dir)", Path(settings.data_dir)))
    env = os.environ.get(_ENV)
    if env:
        named.append((f"the environment variable {_ENV}", Path(env)))
    return named


def packaged_data_dir() -> Path:
    """Return the folder of the data installed inside the package (a wheel's ``pointplan/_data``).

    Returns
    -------
    pathlib.Path
        The folder; it exists only in a built wheel or a non-editable install.

    Examples
    --------
    >>> packaged_data_dir().name
    '_data'
    """
    return Path(__file__).resolve().parent / "_data"


def data_dirs() -> list[Path]:
    """Return the folders searched for reference data, in order of preference.

    Returns
    -------
    list of pathlib.Path
        Candidate folders (they need not exist): the setting, the environment variable, the
        data installed with the package, the checkout's ``data/``. Nothing outside the project.

    Examples
    --------
    >>> any(d.name == "_data" for d in data_dirs())
    True
    """
    dirs: list[Path] = [folder for _, folder in _explicit_dirs()]
    dirs.append(packaged_data_dir())
    root = _project_root()
    if root is not None:
        dirs.append(root / "data")
    seen: set[Path] = set()
    out = []
    for d in dirs:
        r = d.expanduser().resolve()
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


@lru_cache(maxsize=64)
def _sha256(path: Path, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _how_to_fix() -> str:
    return (
        f"Set the environment variable {_ENV} to the folder that holds 'hanoi/', "
        "'population/' and 'osm/' (the project's reference data, see data/README.md), "
        "or set pointplan.settings.data_dir. The data ships with pointplan (data/ in the "
        "repository, pointplan/_data in a wheel): reinstall pointplan or restore the checkout's data/."
    )


def data_file(key_or_relpath: str, *, verify: bool | None = None) -> Path:
    """Return the path of a reference file, verified.

    Parameters
    ----------
    key_or_relpath
        A key of :data:`DATASETS` (``"units"``) or a path below the data folder
        (``"hanoi/units_2025.geojson"``).
    verify
        Check size and sha256 against the registry (default: ``settings.verify_checksums``;
        the size is always checked).

    Returns
    -------
    pathlib.Path
        The file's absolute path.

    Raises
    ------
    DataNotFoundError
        The file is in none of the searched folders (the message lists them).
    DataIntegrityError
        The file's size or checksum differs from the registry.

    Examples
    --------
    >>> data_file("units").name
    'units_2025.geojson'
    >>> data_file("hanoi/units_2025.geojson") == data_file("units")
    True
    """
    ds = DATASETS.get(key_or_relpath)
    if ds is None:
        ds = next((d for d in DATASETS.values() if d.relpath == key_or_relpath), None)
    relpath = ds.relpath if ds else key_or_relpath
    for origin, folder in _explicit_dirs():
        if not folder.expanduser().is_dir():
            msg = (
                f"The data folder {folder} given by {origin} does not exist (or is not a "
                "folder). Point it at the folder that holds 'hanoi/', 'population/' and "
                "'osm/', or unset it to use the default places (see data/README.md)."
            )
            raise DataNotFoundError(msg)
    searched = data_dirs()
    for folder in searched:
        path = folder / relpath
        if path.is_file():
            break
    else:
        listing = "\n".join(f"  - {d}" for d in searched)
        msg = f"Reference file '{relpath}' was not found. Folders searched:\n{listing}\n" + _how_to_fix()
        raise DataNotFoundError(msg)
    if ds is not None:
        stat = path.stat()
        if stat.st_size != ds.size:
            msg = (
                f"Reference file {path} has {stat.st_size} bytes but {ds.size} were expected: "
                "it is truncated or a different version. Restore the original file "
                "(see data/README.md for its source)."
            )
            raise DataIntegrityError(msg)
        if settings.verify_checksums if verify is None else verify:
            digest = _sha256(path, stat.st_mtime_ns, stat.st_size)
            if digest != ds.sha256:
                msg = (
                    f"Reference file {path} is altered: sha256 {digest[:12]}… differs from the "
                    f"registered {ds.sha256[:12]}…. Restore the original file (see "
                    "data/README.md for its source) or, if you deliberately use a newer "
                    "version, set pointplan.settings.verify_checksums = False."
                )
                raise DataIntegrityError(msg)
    return path


def data_status() -> pd.DataFrame:
    """Report every registered dataset: found or missing, where, and whether it verifies.

    Returns
    -------
    pandas.DataFrame
        One row per dataset: ``key``, ``relpath``, ``title``, ``source``, ``date``,
        ``licence``, ``attribution``, ``required``, ``status`` (``ok``, ``missing``,
        ``corrupt``), ``path`` (where it was found), ``detail``.

    Examples
    --------
    >>> st = data_status()
    >>> bool((st.loc[st["required"], "status"] == "ok").all())
    True
    """
    rows = []
    for ds in DATASETS.values():
        row = {
            "key": ds.key,
            "relpath": ds.relpath,
            "title": ds.title,
            "source": ds.source,
            "date": ds.date,
            "licence": ds.licence,
            "attribution": ds.attribution,
            "required": ds.required,
        }
        try:
            path = data_file(ds.key)
            row.update(status="ok", path=str(path), detail="")
        except DataNotFoundError:
            row.update(status="missing", path="", detail="not found in any data folder")
        except DataIntegrityError as exc:
            row.update(status="corrupt", path="", detail=str(exc))
        rows.append(row)
    return pd.DataFrame(rows)


def _read_vector(path: Path) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        msg = f"Could not read {path}: {exc}. Restore the original file (see data/README.md)."
        raise DataIntegrityError(msg) from exc
    if gdf.crs is None:
        gdf = gdf.set_crs(settings.geographic_crs)
    return gdf


@lru_cache(maxsize=2)
def _load_units_cached(path: Path, validate: bool) -> gpd.GeoDataFrame:
    raw = _read_vector(path)
    gdf = raw.rename(columns={"type": "kind"})
    gdf["code"] = gdf["code"].astype(str).str.zfill(5)
    for col in ("name", "full_name", "hq_address", "merged_from"):
        gdf[col] = gdf[col].fillna("").map(normalize_name)
    gdf["population"] = gdf["population"].astype("int64")
    gdf["area_km2"] = gdf["area_km2"].astype(float)
    gdf = gdf.to_crs(settings.geographic_crs).set_index("code").sort_index()
    gdf.index.name = "code"
    keep = [
        "name",
        "full_name",
        "name_en",
        "kind",
        "area_km2",
        "population",
        "hq_address",
        "merged_from",
        "population_corrected",
        "worldpop2020_1km_zonal_sum",
        "bando_id",
        "geometry",
    ]
    gdf = gdf[[c for c in keep if c in gdf.columns]]
    corrected = gdf["population_corrected"].astype(bool) if "population_corrected" in gdf.columns else None
    source = pd.Series("official", index=gdf.index, dtype=object)
    if corrected is not None:
        source[corrected] = "official_corrected"
    gdf.insert(gdf.columns.get_loc("population") + 1, "population_source", source)
    if validate:
        _validate_units(gdf, path)
    return gdf


def _validate_units(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Raise a DataIntegrityError unless ``gdf`` matches the official figures (checked once per file)."""
    frame = frame_digest(gdf)
    key = None if frame is None else digest("units-check", frame)
    problems: list[str] = cached("units_check", key, lambda: _unit_problems(gdf), min_seconds=0.0)
    if problems:
        msg = (
            f"The units file {path} does not match the official 2025 figures: "
            + "; ".join(problems)
            + ". Restore the original file (see data/README.md)."
        )
        raise DataIntegrityError(msg)


def _unit_problems(gdf: gpd.GeoDataFrame) -> list[str]:
    """List what keeps ``gdf`` from matching the official 2025 figures (counts, population, geometry)."""
    problems = []
    if len(gdf) != HANOI_UNITS:
        problems.append(f"{len(gdf)} units instead of {HANOI_UNITS}")
    kinds = gdf["kind"].value_counts()
    if kinds.get("phuong", 0) != HANOI_PHUONG or kinds.get("xa", 0) != HANOI_XA:
        problems.append(f"unit kinds {kinds.to_dict()} instead of 51 phuong + 75 xa")
    total = int(gdf["population"].sum())
    if total != HANOI_POPULATION:
        problems.append(f"population sum {total:,} instead of {HANOI_POPULATION:,}")
    if gdf.index.duplicated().any():
        problems.append(f"duplicate codes {sorted(gdf.index[gdf.index.duplicated()])}")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        problems.append(f"invalid geometry in units {list(gdf.index[invalid])}")
    else:
        proj = np.asarray(gdf.geometry.to_crs(projected_crs()).values, dtype=object)
        overlaps = _overlap_pairs(proj, gdf.index, GAP_OVERLAP_TOLERANCE_M2)
        if overlaps:
            problems.append("overlapping units " + ", ".join(overlaps[:10]))
        gaps = _gaps(proj, gdf.index, GAP_OVERLAP_TOLERANCE_M2)
        if gaps:
            problems.append("gaps between units " + "; ".join(gaps[:10]))
    return problems


#: Overlaps and gaps smaller than this (m²) are digitising noise, not errors (0.1 ha).
GAP_OVERLAP_TOLERANCE_M2 = 1000.0


def _overlap_pairs(proj: np.ndarray, codes: pd.Index, tolerance_m2: float) -> list[str]:
    """Pairs of units (projected polygons) whose intersection exceeds ``tolerance_m2``."""
    tree = shapely.STRtree(proj)
    left, right = tree.query(proj, predicate="intersects")
    mask = left < right
    if not mask.any():
        return []
    left, right = left[mask], right[mask]
    areas = shapely.area(shapely.intersection(proj[left], proj[right]))
    bad = areas > tolerance_m2
    return [
        f"{codes[a]}/{codes[b]} ({ar / 1e6:.3f} km²)"
        for a, b, ar in zip(left[bad], right[bad], areas[bad], strict=True)
    ]


def _gaps(proj: np.ndarray, codes: pd.Index, tolerance_m2: float) -> list[str]:
    """Holes in the union of the units (land enclosed by units that none of them holds)."""
    try:
        union = shapely.make_valid(shapely.coverage_union_all(proj))
    except shapely.errors.GEOSException:  # not a clean coverage: the general union
        union = shapely.union_all(proj)
    parts = shapely.get_parts(union)
    polys = parts[shapely.get_type_id(parts) == 3]
    rings = [ring for poly in polys for ring in poly.interiors]
    if not rings:
        return []
    holes = shapely.polygons(rings)
    areas = shapely.area(holes)
    holes, areas = holes[areas > tolerance_m2], areas[areas > tolerance_m2]
    if len(holes) == 0:
        return []
    tree = shapely.STRtree(proj)
    where = gpd.GeoSeries(shapely.point_on_surface(holes), crs=projected_crs()).to_crs(settings.geographic_crs)
    out = []
    for hole, area, pt in zip(holes, areas, where, strict=True):
        around = tree.query(shapely.buffer(hole, 1.0), predicate="intersects")
        names = ", ".join(str(codes[i]) for i in sorted(around))
        out.append(f"a gap of {area / 1e6:.3f} km² near lon {pt.x:.4f}, lat {pt.y:.4f} between units {names}")
    return out


def _unit_codes(units: gpd.GeoDataFrame) -> pd.Index:
    if isinstance(units.index, pd.RangeIndex) and "code" in units.columns:
        return pd.Index(units["code"].astype(str), name="code")
    return pd.Index(units.index.astype(str), name="code")


def validate_units(
    units: gpd.GeoDataFrame,
    *,
    what: str = "units",
    topology: bool = True,
    tolerance_m2: float = GAP_OVERLAP_TOLERANCE_M2,
    population_col: str | None = "population",
) -> gpd.GeoDataFrame:
    """Check user-supplied unit polygons before any analysis uses them.

    Parameters
    ----------
    units
        Unit polygons with a CRS, indexed by unit code (or with a ``code`` column and a
        plain RangeIndex).
    what
        How to name the frame in messages (e.g. the file name).
    topology
        Also check that units neither overlap nor leave gaps (holes enclosed by units that
        no unit holds). A gap open to the outside cannot be told from the city's edge and
        is not reported. About 1.5 s for Hanoi's 126 detailed units.
    tolerance_m2
        Overlaps and gaps up to this area (m², default 0.1 ha) are digitising noise.
    population_col
        Check this column holds finite numbers >= 0 when present (``None``: skip).

    Returns
    -------
    geopandas.GeoDataFrame
        ``units`` itself, unchanged (for chaining).

    Raises
    ------
    InputError
        Not a GeoDataFrame, no rows, duplicate or missing codes, bad populations.
    CRSError
        No CRS.
    GeometryError
        Missing, empty, non-polygonal or invalid (e.g. self-intersecting) polygons, and
        units that overlap or leave gaps, naming the unit codes and saying how to fix them.

    Examples
    --------
    >>> import shapely
    >>> u = gpd.GeoDataFrame(
    ...     {"population": [10, 20]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(500, 0, 1500, 1000)],
    ...     index=pd.Index(["00001", "00002"], name="code"), crs="EPSG:32648")
    >>> validate_units(u)
    Traceback (most recent call last):
    ...
    pointplan._errors.GeometryError: units overlap: 00001/00002 (0.500 km²). ...
    """
    _check_units_frame(units, what)
    codes = _checked_codes(units, what)
    _check_unit_geometries(units, codes, what)
    if population_col is not None and population_col in units.columns:
        check_nonnegative(units.set_axis(codes), population_col, what)
    if topology:
        _check_topology(units, codes, what, tolerance_m2)
    return units


def _check_units_frame(units: object, what: str) -> None:
    """Raise unless ``units`` is a non-empty GeoDataFrame with a CRS."""
    if not isinstance(units, gpd.GeoDataFrame):
        msg = (
            f"{what} must be a geopandas GeoDataFrame of unit polygons, got "
            f"{type(units).__name__}. Load them with pointplan.load_units() or "
            "geopandas.read_file(path)."
        )
        raise InputError(msg)
    if len(units) == 0:
        msg = f"{what} is empty: give at least one unit polygon."
        raise InputError(msg)
    if units.crs is None:
        msg = (
            f"{what} has no CRS. Set the one its coordinates are in, e.g. "
            "units.set_crs('EPSG:4326') for longitude/latitude or 'EPSG:32648' for UTM 48N."
        )
        raise CRSError(msg)


def _checked_codes(units: gpd.GeoDataFrame, what: str) -> pd.Index:
    """Return the unit codes; raise for blank or duplicated ones."""
    codes = _unit_codes(units)
    blank = codes.isna() | (codes.str.strip() == "") | codes.isin(["nan", "None", "<NA>"])
    if blank.any():
        msg = (
            f"{what}: units at positions {list(np.flatnonzero(blank)[:8])} have no code. "
            "Give every unit its code (the index, or a 'code' column)."
        )
        raise InputError(msg)
    if codes.has_duplicates:
        dup = sorted(set(codes[codes.duplicated()]))[:8]
        msg = f"{what}: unit codes must be unique; duplicated {dup}. Give each unit its own code."
        raise InputError(msg)
    return codes


def _check_unit_geometries(units: gpd.GeoDataFrame, codes: pd.Index, what: str) -> None:
    """Raise for missing, empty, non-polygonal, non-finite or invalid unit geometries."""
    geom = np.asarray(units.geometry.values, dtype=object)
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    if empty.any():
        msg = f"{what} {list(codes[empty][:8])} have no geometry; drop them or give polygons."
        raise GeometryError(msg)
    not_poly = ~np.isin(shapely.get_type_id(geom), (3, 6))
    if not_poly.any():
        found = sorted(set(units.geometry[not_poly].geom_type))
        msg = (
            f"{what} must be Polygon/MultiPolygon; {list(codes[not_poly][:8])} are "
            f"{found}. Keep only their polygons (e.g. units.explode() and drop lines/points)."
        )
        raise GeometryError(msg)
    coords, which = shapely.get_coordinates(geom, return_index=True)
    not_finite = ~np.isfinite(coords).all(axis=1)
    if not_finite.any():
        bad = codes[np.unique(which[not_finite])]
        msg = f"{what} {list(bad[:8])} have NaN or infinite coordinates. Fix or drop them."
        raise GeometryError(msg)
    invalid = ~shapely.is_valid(geom)
    if invalid.any():
        reason = shapely.is_valid_reason(geom[invalid][0])
        msg = (
            f"{what} {list(codes[invalid][:8])} have invalid polygons ({reason}, in "
            f"{codes[invalid][0]}). Repair them with units.make_valid() (geopandas) or in "
            "QGIS (Vector > Geometry Tools > Fix geometries), then check the result."
        )
        raise GeometryError(msg)


def _check_topology(units: gpd.GeoDataFrame, codes: pd.Index, what: str, tolerance_m2: float) -> None:
    """Raise when units overlap or leave enclosed gaps larger than ``tolerance_m2``."""
    proj = np.asarray(units.geometry.to_crs(projected_crs()).values, dtype=object)
    overlaps = _overlap_pairs(proj, codes, tolerance_m2)
    if overlaps:
        msg = (
            f"{what} overlap: {', '.join(overlaps[:10])}"
            + (f" and {len(overlaps) - 10} more pairs" if len(overlaps) > 10 else "")
            + ". Each place must belong to one unit: clip one unit by the other (e.g. "
            "QGIS Difference) or snap the shared borders (QGIS Snap geometries to layer)."
        )
        raise GeometryError(msg)
    gaps = _gaps(proj, codes, tolerance_m2)
    if gaps:
        msg = (
            f"{what} leave {len(gaps)} gap(s): {'; '.join(gaps[:10])}. Every place must "
            "belong to a unit: extend the neighbouring units over the gap (QGIS "
            "Topology checker / Snap geometries to layer)."
        )
        raise GeometryError(msg)


def load_units(province: str | int | None = None, *, validate: bool = True) -> gpd.GeoDataFrame:
    """Load a province's commune-level units (since 1 July 2025); Hanoi's 126 by default.

    Parameters
    ----------
    province
        ``None`` or Hà Nội (``"01"``, ``"Hà Nội"``, ``ha-noi``): Hanoi's own units file, with
        its 8 corrected populations. Any other of the 34 provinces, by code or name with or
        without diacritics (``38``, ``"Thanh Hoá"``, ``thanh-hoa``; see
        :func:`pointplan.provinces.resolve_province`): its units from the national file, in
        the same schema.
    validate
        Check the units on load. Hanoi: 126 units, 51 phường + 75 xã, population 8,807,523,
        valid geometry, no overlaps or gaps. Other provinces: the province's unit count and
        valid polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, indexed by ``code`` (5-digit string, leading zeros kept), with columns
        ``name``, ``full_name``, ``name_en``, ``kind`` (``phuong``/``xa``/``dac_khu``),
        ``area_km2``, ``population``, ``population_source`` (``official``,
        ``official_corrected`` or ``worldpop_estimate``: see
        :func:`pointplan.provinces.check_populations`), ``hq_address``, ``merged_from`` and
        the polygon geometry. Hanoi keeps ``population_corrected``; other provinces add
        ``population_official`` (the scraped figure), ``population_flag``,
        ``worldpop2020_1km_zonal_sum``, ``province_code`` and ``province_name``.
        ``attrs`` holds ``province_code`` and ``province_name``. Names are normalised with
        :func:`pointplan.normalize_name`. A fresh copy is returned each call.

    Raises
    ------
    InputError
        An unknown province (the message suggests the closest names).
    DataNotFoundError, DataIntegrityError
        The file is missing, altered, or does not match the official figures.

    Examples
    --------
    >>> units = load_units()
    >>> len(units), int(units["population"].sum())
    (126, 8807523)
    >>> units.loc["00070", "full_name"]
    'Phường Hoàn Kiếm'
    >>> units["population_source"].value_counts().to_dict()
    {'official': 118, 'official_corrected': 8}
    >>> bn = load_units("Bắc Ninh")
    >>> hiep_hoa = bn.loc["07840"]  # 43 people officially, about 70,000 by WorldPop
    >>> len(bn), int(hiep_hoa["population_official"]), hiep_hoa["population_source"]
    (99, 43, 'worldpop_estimate')
    """
    prov = resolve_province(HANOI_CODE if province is None else province)
    if prov.is_hanoi:
        gdf = _load_units_cached(data_file("units"), validate).copy()
        gdf.attrs.update(province_code=prov.code, province_name=prov.name)
        return gdf
    gdf = _load_province_cached(data_file("units_vn"), prov.code, validate).copy()
    gdf.attrs.update(province_code=prov.code, province_name=prov.name)
    return gdf


@lru_cache(maxsize=1)
def _read_national(path: Path) -> gpd.GeoDataFrame:
    """Read the national units file (about 0.5 s), kept for the next province."""
    gdf = _read_vector(path)
    gdf["code"] = gdf["code"].astype(str).str.zfill(5)
    gdf["province_code"] = gdf["province_code"].astype(str).str.zfill(2)
    return gdf


def _short_unit_name(full_name: str) -> str:
    """``Xã X``/``Phường X``/``Đặc khu X`` → ``X``."""
    if full_name.startswith("Đặc khu "):
        return full_name[len("Đặc khu ") :]
    return strip_unit_prefix(full_name)


@lru_cache(maxsize=4)
def _load_province_cached(path: Path, code: str, validate: bool) -> gpd.GeoDataFrame:
    raw = _read_national(path)
    gdf = raw[raw["province_code"] == code].copy()
    full = gdf["name"].fillna("").map(normalize_name)
    gdf["full_name"] = full
    gdf["name"] = full.map(_short_unit_name)
    gdf["name_en"] = gdf["name"].map(lambda n: province_slug(n).replace("-", " ").title())
    gdf["province_name"] = gdf["province_name"].fillna("").map(normalize_name)
    for col in ("hq_address", "merged_from"):
        gdf[col] = gdf[col].fillna("").map(normalize_name)
    gdf["area_km2"] = gdf["area_km2"].astype(float)
    gdf = gdf.to_crs(settings.geographic_crs).set_index("code").sort_index()
    gdf.index.name = "code"
    checked = check_populations(gdf["population"], unit_worldpop(gdf.index))
    gdf["population"] = checked["population"]
    gdf["population_official"] = checked["population_official"]
    gdf["population_source"] = checked["population_source"]
    gdf["population_flag"] = checked["population_flag"]
    gdf["worldpop2020_1km_zonal_sum"] = checked["worldpop2020_1km"].round().astype("int64")
    keep = [
        "name",
        "full_name",
        "name_en",
        "kind",
        "area_km2",
        "population",
        "population_source",
        "population_official",
        "population_flag",
        "worldpop2020_1km_zonal_sum",
        "hq_address",
        "merged_from",
        "bando_id",
        "province_code",
        "province_name",
        "geometry",
    ]
    gdf = gpd.GeoDataFrame(gdf[keep], geometry="geometry", crs=settings.geographic_crs)
    gdf.attrs["population_rescale_factor"] = checked.attrs["rescale_factor"]
    if validate:
        _validate_province(gdf, code, path)
    return gdf


def _validate_province(gdf: gpd.GeoDataFrame, code: str, path: Path) -> None:
    """Raise a DataIntegrityError when a province's units do not match the registry."""
    expected = resolve_province(code).units
    if len(gdf) != expected:
        msg = (
            f"The national units file {path} holds {len(gdf)} units for province {code} instead "
            f"of {expected}. Restore the original file (see data/README.md)."
        )
        raise DataIntegrityError(msg)
    try:
        validate_units(gdf, what=f"units of province {code}", topology=False)
    except InputError as exc:
        msg = f"The national units file {path} is damaged: {exc} Restore the original file (see data/README.md)."
        raise DataIntegrityError(msg) from exc


def load_boundary(province: str | int | None = None) -> gpd.GeoDataFrame:
    """Load a province's outline (one polygon, EPSG:4326); Hanoi's by default.

    Parameters
    ----------
    province
        ``None`` or Hà Nội: the city outline file. Another province (code or name): the
        union of its units.

    Returns
    -------
    geopandas.GeoDataFrame
        A one-row frame with the outline.

    Examples
    --------
    >>> city = load_boundary()
    >>> len(city), city.crs.to_string()
    (1, 'EPSG:4326')
    >>> round(float(load_boundary("Lai Châu").to_crs(32648).area.iloc[0]) / 1e6, -2)
    9100.0
    """
    prov = resolve_province(HANOI_CODE if province is None else province)
    if not prov.is_hanoi:
        units = load_units(prov.code, validate=False)
        return gpd.GeoDataFrame(geometry=[shapely.union_all(np.asarray(units.geometry.values))], crs=units.crs)
    gdf = _read_vector(data_file("boundary"))
    return gdf.to_crs(settings.geographic_crs)[["geometry"]]


def load_old_to_new() -> pd.DataFrame:
    """Load the pre-2025 → 2025 unit mapping (794 rows; codes as strings).

    Returns
    -------
    pandas.DataFrame
        Columns ``old_district_code``, ``old_district``, ``old_ward_code``, ``old_ward``,
        ``new_ward_code``, ``new_ward``, ``whole_or_part``, ``is_default_new_ward`` (bool),
        ``old_ward_lat``, ``old_ward_lon``; names normalised.

    Examples
    --------
    >>> old = load_old_to_new()
    >>> len(old)
    794
    >>> old.loc[0, ["old_ward", "new_ward"]].tolist()
    ['Phường Phúc Xá', 'Phường Hồng Hà']
    """
    path = data_file("old_to_new")
    df = pd.read_csv(
        path,
        dtype={"old_district_code": str, "old_ward_code": str, "new_ward_code": str},
        encoding="utf-8",
    )
    for col in ("old_district", "old_ward", "new_ward"):
        df[col] = df[col].fillna("").map(normalize_name)
    df["is_default_new_ward"] = df["is_default_new_ward"].map(lambda v: str(v).strip().lower() == "true")
    return df


def load_known_sites() -> pd.DataFrame:
    """Load the Centre's known sites as published (addresses and sources, no coordinates).

    Returns
    -------
    pandas.DataFrame
        Columns ``kind``, ``name``, ``address``, ``status``, ``source``.

    Examples
    --------
    >>> sites = load_known_sites()
    >>> len(sites), sites.loc[0, "kind"]
    (12, 'head_office')
    """
    df = pd.read_csv(data_file("known_sites"), dtype=str, encoding="utf-8").fillna("")
    for col in ("name", "address"):
        df[col] = df[col].map(normalize_name)
    return df


def old_unit_reference(old_ward: str, old_district: str | None = None) -> tuple[float, float]:
    """Return the (lon, lat) reference point of a pre-2025 ward from the mapping file.

    Parameters
    ----------
    old_ward
        Name of the pre-2025 ward or commune, e.g. ``"Phường Xuân La"``.
    old_district
        Its pre-2025 district, to disambiguate names that occur twice.

    Returns
    -------
    tuple of float
        Longitude and latitude (EPSG:4326) of the old unit's reference point.

    Examples
    --------
    >>> old_unit_reference("Phường Xuân La")
    (105.80408, 21.059676)
    """
    df = load_old_to_new()
    keys = df["old_ward"].map(lambda s: name_key(s, keep_prefix=True))
    mask = keys == name_key(old_ward, keep_prefix=True)
    if not mask.any():
        mask = df["old_ward"].map(name_key) == name_key(old_ward)
    if old_district is not None:
        mask &= df["old_district"].map(name_key) == name_key(old_district)
    hits = df.loc[mask, ["old_ward_lon", "old_ward_lat"]].drop_duplicates()
    if len(hits) != 1:
        msg = (
            f"Old unit {old_ward!r}{' in ' + old_district if old_district else ''} matches "
            f"{len(hits)} reference points in the old→new mapping; give the old district too."
        )
        raise InputError(msg)
    lon, lat = hits.iloc[0]
    return float(lon), float(lat)


def representative_points(units: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return a point guaranteed inside each unit (computed in the projected CRS).

    Parameters
    ----------
    units
        Unit polygons with a CRS.

    Returns
    -------
    geopandas.GeoSeries
        Points in the units' CRS, same index.

    Examples
    --------
    An L-shaped unit, whose centroid falls outside it:

    >>> import shapely
    >>> ell = shapely.Polygon([(0, 0), (4, 0), (4, 1), (1, 1), (1, 4), (0, 4)])
    >>> units = gpd.GeoDataFrame(geometry=[ell], index=["L"], crs="EPSG:32648")
    >>> ell.contains(ell.centroid), bool(representative_points(units).within(ell).all())
    (False, True)
    """
    proj = units.geometry.to_crs(projected_crs())
    pts = gpd.GeoSeries(shapely.point_on_surface(proj.values), index=units.index, crs=proj.crs)
    return pts.to_crs(units.crs)


def provinces_of(points: gpd.GeoDataFrame) -> pd.Series:
    """Return the province (2-digit code) each point lies in, from the national units.

    Parameters
    ----------
    points
        Points with a CRS.

    Returns
    -------
    pandas.Series
        Province codes with the points' index; missing (None) outside every unit (at sea,
        abroad).

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8522, 105.7769, 0.0], [21.0287, 19.8067, 0.0]),
    ...                        crs="EPSG:4326")
    >>> provinces_of(pts).tolist()
    ['01', '38', None]
    """
    national = _read_national(data_file("units_vn"))
    geoms = np.asarray(points.geometry.to_crs(national.crs).values, dtype=object)
    tree = shapely.STRtree(np.asarray(national.geometry.values, dtype=object))
    which_point, which_unit = tree.query(geoms, predicate="within")
    out = pd.Series([None] * len(points), index=points.index, dtype=object)
    first = pd.Series(which_unit).groupby(which_point).first()
    out.iloc[first.index.to_numpy()] = national["province_code"].to_numpy()[first.to_numpy()]
    return out


def check_points_province(points: gpd.GeoDataFrame, province: str | int) -> None:
    """Raise an InputError when a points file belongs to another province (or to none).

    Parameters
    ----------
    points
        The user's points, with a CRS.
    province
        The province being planned (code or name).

    Raises
    ------
    InputError
        No point lies in the province, or most of them lie in another one; the message
        names where they are and how to fix the command.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([105.8522], [21.0287]), crs="EPSG:4326")
    >>> check_points_province(pts, "01")
    >>> check_points_province(pts, "Thanh Hoá")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: The points file lies in Thành phố Hà Nội (1 of 1 points), not in Tỉnh Thanh Hóa. ...
    """
    prov = resolve_province(province)
    where = provinces_of(points)
    inside = int((where == prov.code).sum())
    counts = where.dropna().value_counts()
    if inside == 0 or (len(counts) and counts.index[0] != prov.code and counts.iloc[0] > len(points) / 2):
        if len(counts):
            top = resolve_province(str(counts.index[0]))
            found = f"lies in {top.name} ({int(counts.iloc[0])} of {len(points)} points)"
            fix = f"run with --province {top.code} ({top.slug}), or give the points of {prov.name}."
        else:
            found = "lies in no province of Vietnam (check the coordinates: lon/lat swapped? the CRS?)"
            fix = "fix the coordinates of the file."
        msg = f"The points file {found}, not in {prov.name}. {'Nothing was written: ' + fix}"
        raise InputError(msg)
