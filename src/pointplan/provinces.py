"""Vietnam's 34 provinces: naming them, checking their units' populations, their stand-in points.

Since 1 July 2025 Vietnam has 34 provinces (28 tỉnh, 6 thành phố) and 3,321 commune-level
units (phường, xã and 13 đặc khu). pointplan ships them all (``data/vietnam/units_2025_vn.gpkg``);
:func:`pointplan.load_units` with ``province=...`` loads any one in the schema of Hanoi's units.

Naming a province (:func:`resolve_province`)
    By its 2-digit code (``38``, ``"38"``), its name with or without diacritics or the
    ``Tỉnh``/``Thành phố`` prefix (``"Thanh Hoá"``, ``"thanh hoa"``, ``"Tỉnh Thanh Hóa"``), or
    its slug (``thanh-hoa``). An unknown name raises an :class:`~pointplan.InputError` that
    suggests the closest names.

Checking populations (:func:`check_populations`)
    The official populations of the 2025 arrangement scheme, as scraped from the official map,
    are dirty: about 370 units hold a figure below 0.3 × the WorldPop 2020 people inside their
    polygon (e.g. Xã Hiệp Hòa, Bắc Ninh: 43 against 68,797 — digits lost in scraping), and
    about 70 more than 3 ×. Each official figure is compared with the WorldPop sum inside its
    polygon (shipped as ``tables/vn_units_worldpop.csv``, derived with pointplan's demand code
    by ``tools/derive_unit_worldpop.py``). **The rule:** a figure is implausible when it is
    missing, or when WorldPop counts at least :data:`MIN_WORLDPOP_FOR_CHECK` people in the
    unit and the figure is below :data:`LOW_RATIO` × or above :data:`HIGH_RATIO` × that count.
    (Below 1,000 WorldPop people — small islands, where the 1 km raster is mostly sea — the
    raster cannot contradict the official figure, which is kept.) **The replacement:** the
    unit's WorldPop count rescaled to its province's trustworthy total, i.e. times the ratio
    (sum of the province's trusted official figures) / (their WorldPop sum), so the estimates
    are on the same footing as their neighbours' official figures. Every unit carries
    ``population_source``: ``official``, ``official_corrected`` (Hanoi's 8 figures corrected
    from a second copy of the official source) or ``worldpop_estimate``.

Islands (:func:`land_groups`, :class:`SeaAwareEngine`)
    Units that no land links to the rest of their province; travel times never cross the sea.

A province's stand-in points (one per unit at its population centre) are made by
:func:`pointplan.workflow.province.province_points`.

Examples
--------
>>> resolve_province("thanh-hoa").code, resolve_province(38).name
('38', 'Tỉnh Thanh Hóa')
>>> len(PROVINCES), sum(p.units for p in PROVINCES)
(34, 3321)
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import InputError
from pointplan._text import normalize_name

__all__ = [
    "HANOI_CODE",
    "HIGH_RATIO",
    "LOW_RATIO",
    "MIN_WORLDPOP_FOR_CHECK",
    "POPULATION_SOURCES",
    "PROVINCES",
    "SEA_TRIP_NOTE",
    "Province",
    "SeaAwareEngine",
    "check_populations",
    "land_groups",
    "mark_sea_trips",
    "province_slug",
    "resolve_province",
    "sea_trips",
    "unit_worldpop",
    "unlinked_units",
]

#: Code of Hà Nội, the default province (its own data: branches, roads, buses, sites).
HANOI_CODE = "01"
#: An official figure below this multiple of the WorldPop count in its polygon is implausible.
LOW_RATIO = 0.3
#: An official figure above this multiple of the WorldPop count in its polygon is implausible.
HIGH_RATIO = 3.0
#: The WorldPop count must reach this many people before it can contradict an official figure.
MIN_WORLDPOP_FOR_CHECK = 1000.0
#: Where a unit's population figure comes from.
POPULATION_SOURCES: tuple[str, ...] = ("official", "official_corrected", "worldpop_estimate")
#: Package table of the WorldPop 2020 people inside each unit.
WORLDPOP_TABLE = "vn_units_worldpop.csv"

PopulationSource = Literal["official", "official_corrected", "worldpop_estimate"]


def province_slug(name: str) -> str:
    """Return the ASCII slug of a name: no diacritics, ``đ`` → ``d``, words joined by ``-``.

    Parameters
    ----------
    name
        Any Vietnamese name.

    Returns
    -------
    str
        Lower-case ASCII words joined by hyphens.

    Examples
    --------
    >>> province_slug("Tỉnh Thanh Hoá"), province_slug("Đắk  Lắk")
    ('tinh-thanh-hoa', 'dak-lak')
    """
    text = normalize_name(name).replace("đ", "d").replace("Đ", "D")
    ascii_ = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in ascii_.lower()).split()
    return "-".join(words)


@dataclass(frozen=True)
class Province:
    """One of the 34 provinces (since 1 July 2025).

    Examples
    --------
    >>> p = resolve_province("Hà Nội")
    >>> p.code, p.short_name, p.slug, p.units
    ('01', 'Hà Nội', 'ha-noi', 126)
    """

    code: str
    name: str
    units: int

    @property
    def short_name(self) -> str:
        """The name without ``Tỉnh``/``Thành phố`` (e.g. ``Thanh Hóa``)."""
        for prefix in ("Thành phố ", "Tỉnh "):
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return self.name

    @property
    def slug(self) -> str:
        """ASCII slug of the short name (e.g. ``thanh-hoa``)."""
        return province_slug(self.short_name)

    @property
    def is_hanoi(self) -> bool:
        """True for Hà Nội (code ``01``)."""
        return self.code == HANOI_CODE


#: The 34 provinces with their official codes and unit counts (the shipped national units).
PROVINCES: tuple[Province, ...] = tuple(
    Province(code, name, units)
    for code, name, units in (
        ("01", "Thành phố Hà Nội", 126),
        ("04", "Tỉnh Cao Bằng", 56),
        ("08", "Tỉnh Tuyên Quang", 124),
        ("11", "Tỉnh Điện Biên", 45),
        ("12", "Tỉnh Lai Châu", 38),
        ("14", "Tỉnh Sơn La", 75),
        ("15", "Tỉnh Lào Cai", 99),
        ("19", "Tỉnh Thái Nguyên", 92),
        ("20", "Tỉnh Lạng Sơn", 65),
        ("22", "Tỉnh Quảng Ninh", 54),
        ("24", "Tỉnh Bắc Ninh", 99),
        ("25", "Tỉnh Phú Thọ", 148),
        ("31", "Thành phố Hải Phòng", 114),
        ("33", "Tỉnh Hưng Yên", 104),
        ("37", "Tỉnh Ninh Bình", 129),
        ("38", "Tỉnh Thanh Hóa", 166),
        ("40", "Tỉnh Nghệ An", 130),
        ("42", "Tỉnh Hà Tĩnh", 69),
        ("44", "Tỉnh Quảng Trị", 78),
        ("46", "Thành phố Huế", 40),
        ("48", "Thành phố Đà Nẵng", 94),
        ("51", "Tỉnh Quảng Ngãi", 96),
        ("52", "Tỉnh Gia Lai", 135),
        ("56", "Tỉnh Khánh Hòa", 65),
        ("66", "Tỉnh Đắk Lắk", 102),
        ("68", "Tỉnh Lâm Đồng", 124),
        ("75", "Thành phố Đồng Nai", 95),
        ("79", "Thành phố Hồ Chí Minh", 168),
        ("80", "Tỉnh Tây Ninh", 96),
        ("82", "Tỉnh Đồng Tháp", 102),
        ("86", "Tỉnh Vĩnh Long", 124),
        ("91", "Tỉnh An Giang", 102),
        ("92", "Thành phố Cần Thơ", 103),
        ("96", "Tỉnh Cà Mau", 64),
    )
)

_BY_CODE = {p.code: p for p in PROVINCES}


def _keys(p: Province) -> set[str]:
    """Every spelling that names ``p``: slugs of the full and short name, code."""
    return {p.slug, province_slug(p.name), p.code, p.code.lstrip("0")} | (
        {"hn", "hanoi"} if p.is_hanoi else {"hcm", "hcmc", "tphcm", "sai-gon", "saigon"} if p.code == "79" else set()
    )


_BY_KEY = {key: p for p in PROVINCES for key in _keys(p)}


def resolve_province(value: str | int | Province) -> Province:
    """Return the province a code, name or slug names.

    Parameters
    ----------
    value
        A 2-digit code (``"38"``, ``38``), a name with or without diacritics and prefix
        (``"Thanh Hoá"``, ``"thanh hoa"``, ``"Tỉnh Thanh Hóa"``), a slug (``thanh-hoa``) or
        a :class:`Province`.

    Returns
    -------
    Province
        The province.

    Raises
    ------
    InputError
        No province has that code or name; the message suggests the closest names.

    Examples
    --------
    >>> resolve_province("Thanh Hoá") == resolve_province("thanh-hoa") == resolve_province(38)
    True
    >>> resolve_province("Thanh Hoa city")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: Unknown province 'Thanh Hoa city'. Did you mean: 38 Tỉnh Thanh Hóa, ...
    """
    if isinstance(value, Province):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = f"{int(value):02d}"
    if not isinstance(value, str):
        msg = f"A province is named by its code or name (a string), got {type(value).__name__}: {value!r}."
        raise InputError(msg)
    text = value.strip()
    key = text.zfill(2) if text.isdigit() else province_slug(text)
    for prefix in ("tinh-", "thanh-pho-", "tp-"):
        if key not in _BY_KEY and key.startswith(prefix):
            key = key[len(prefix) :]
    if key in _BY_KEY:
        return _BY_KEY[key]
    close = difflib.get_close_matches(key, [p.slug for p in PROVINCES], n=3, cutoff=0.5)
    hint = "Did you mean: " + ", ".join(f"{_BY_KEY[c].code} {_BY_KEY[c].name}" for c in close) + "? " if close else ""
    msg = (
        f"Unknown province {value!r}. {hint}Name a province by its 2-digit code or its name, with "
        "or without diacritics (e.g. 38, 'Thanh Hoá', thanh-hoa); `pointplan info --province list` "
        "lists all 34."
    )
    raise InputError(msg)


@lru_cache(maxsize=1)
def _worldpop_table() -> pd.DataFrame:
    with resources.files("pointplan.tables").joinpath(WORLDPOP_TABLE).open(encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"code": str, "province_code": str}).set_index("code")


def unit_worldpop(codes: pd.Index | list[str] | None = None) -> pd.Series:
    """Return the WorldPop 2020 people inside each unit's polygon (the population check's evidence).

    Parameters
    ----------
    codes
        Unit codes (default: all 3,321).

    Returns
    -------
    pandas.Series
        People (float), indexed by unit code; NaN for a code not in the table.

    Examples
    --------
    >>> round(unit_worldpop(["07840"]).iloc[0])  # Xã Hiệp Hòa, Bắc Ninh
    68797
    """
    wp = _worldpop_table()["worldpop2020_1km"]
    return wp.copy() if codes is None else wp.reindex(pd.Index(codes, dtype=str))


def check_populations(
    official: pd.Series,
    worldpop: pd.Series,
    *,
    corrected: pd.Series | None = None,
    low_ratio: float = LOW_RATIO,
    high_ratio: float = HIGH_RATIO,
    min_worldpop: float = MIN_WORLDPOP_FOR_CHECK,
) -> pd.DataFrame:
    """Check official unit populations against WorldPop; replace the implausible ones.

    Parameters
    ----------
    official
        The official figures of one province's units (NaN where missing), indexed by code.
    worldpop
        The WorldPop people inside each unit, same index (:func:`unit_worldpop`).
    corrected
        Booleans: figures already corrected with evidence (Hanoi's 8); kept and marked
        ``official_corrected`` unless implausible.
    low_ratio, high_ratio, min_worldpop
        The rule (see the module's docstring).

    Returns
    -------
    pandas.DataFrame
        Same index: ``population`` (the figure to use, people, int), ``population_official``,
        ``worldpop2020_1km``, ``population_ratio`` (official / WorldPop), ``population_flag``
        (``""``, ``missing``, ``below_0.3x_worldpop``, ``above_3x_worldpop``) and
        ``population_source``. ``attrs["rescale_factor"]`` is the province's trusted
        official total over its WorldPop count.

    Examples
    --------
    Three units; the third lost digits (43 against 70,000 WorldPop people). The trusted two
    count 1.1 × WorldPop, so the third is estimated at 1.1 × 70,000:

    >>> off = pd.Series([11_000, 22_000, 43], index=["a", "b", "c"])
    >>> wp = pd.Series([10_000.0, 20_000.0, 70_000.0], index=off.index)
    >>> r = check_populations(off, wp)
    >>> r["population"].tolist(), r["population_source"].tolist()
    ([11000, 22000, 77000], ['official', 'official', 'worldpop_estimate'])
    >>> r.loc["c", "population_flag"]
    'below_0.3x_worldpop'
    """
    off = pd.to_numeric(official, errors="coerce").astype(float)
    wp = pd.to_numeric(worldpop.reindex(off.index), errors="coerce").astype(float).fillna(0.0)
    ratio = off / wp.where(wp > 0)
    checked = wp >= min_worldpop
    flag = pd.Series("", index=off.index, dtype=object)
    flag[checked & (ratio < low_ratio)] = f"below_{low_ratio:g}x_worldpop"
    flag[checked & (ratio > high_ratio)] = f"above_{high_ratio:g}x_worldpop"
    flag[off.isna()] = "missing"
    trusted = flag == ""
    factor = float(off[trusted].sum() / wp[trusted].sum()) if wp[trusted].sum() > 0 else 1.0
    source = pd.Series("official", index=off.index, dtype=object)
    if corrected is not None:
        source[corrected.reindex(off.index).fillna(False).astype(bool).to_numpy()] = "official_corrected"
    source[~trusted] = "worldpop_estimate"
    population = off.where(trusted, wp * factor).round().astype("int64")
    out = pd.DataFrame(
        {
            "population": population,
            "population_official": off,
            "worldpop2020_1km": wp,
            "population_ratio": ratio.round(4),
            "population_flag": flag,
            "population_source": source,
        },
        index=off.index,
    )
    out.attrs["rescale_factor"] = factor
    return out


#: Units whose polygons lie farther apart than this (m) are not linked by land.
LAND_LINK_GAP_M = 100.0


def land_groups(units: gpd.GeoDataFrame, *, gap_m: float = LAND_LINK_GAP_M) -> pd.Series:
    """Group units that land links: 0 for the mainland (the group with most people), 1, 2… for islands.

    Units are linked when their polygons lie within ``gap_m`` of each other. The shipped data
    holds no ferries and no bridges, so this is a proxy for a road link.

    Parameters
    ----------
    units
        A province's units (any CRS), indexed by code, with ``population``.
    gap_m
        Largest gap between two linked units' polygons (m).

    Returns
    -------
    pandas.Series
        Integer group of each unit, indexed by unit code.

    Examples
    --------
    Two touching units and a third 5 km offshore:

    >>> import shapely
    >>> u = gpd.GeoDataFrame({"population": [100, 200, 50]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000),
    ...               shapely.box(7000, 0, 8000, 1000)], index=["a", "b", "c"], crs=32648)
    >>> land_groups(u).tolist()
    [0, 0, 1]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    geoms = np.asarray(units.geometry.to_crs(settings.projected_crs).values, dtype=object)
    n = len(geoms)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=gap_m)
    graph = coo_matrix((np.ones(left.size), (left, right)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    people = pd.Series(pd.to_numeric(units["population"], errors="coerce").fillna(0).to_numpy()).groupby(label).sum()
    order = {int(g): i for i, g in enumerate(people.sort_values(ascending=False, kind="stable").index)}
    return pd.Series([order[int(g)] for g in label], index=units.index, name="land_group", dtype="int64")


def unlinked_units(units: gpd.GeoDataFrame, *, gap_m: float = LAND_LINK_GAP_M) -> pd.Series:
    """Return which units no land route links to the rest of their province (islands).

    The linked group of units holding the most people is the mainland (:func:`land_groups`);
    every unit outside it is an island (or an island group, e.g. most đặc khu): a
    straight-line travel time between it and the mainland would cross the sea, and
    pointplan gives a note instead of a time.

    Parameters
    ----------
    units
        A province's units (any CRS), indexed by code, with ``population``.
    gap_m
        Largest gap between two linked units' polygons (m).

    Returns
    -------
    pandas.Series
        Booleans indexed by unit code: True for a unit with no land link.

    Examples
    --------
    >>> import shapely
    >>> u = gpd.GeoDataFrame({"population": [100, 200, 50]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000),
    ...               shapely.box(7000, 0, 8000, 1000)], index=["a", "b", "c"], crs=32648)
    >>> unlinked_units(u).tolist()
    [False, False, True]
    """
    return (land_groups(units, gap_m=gap_m) != 0).rename("no_land_link")


def sea_trips(demand: pd.DataFrame, points: pd.DataFrame, groups: pd.Series) -> pd.Series:
    """Return which demand places' nearest point lies across the sea (another land group).

    Parameters
    ----------
    demand
        Assessed demand with ``unit_code`` and ``nearest_point`` (a point id).
    points
        The points, indexed by point id, with ``unit_code``.
    groups
        :func:`land_groups` of the units.

    Returns
    -------
    pandas.Series
        Booleans with the demand's index (False where a unit or point is unknown).

    Examples
    --------
    >>> groups = pd.Series([0, 1], index=["a", "c"])
    >>> demand = pd.DataFrame({"unit_code": ["a", "c", "c"], "nearest_point": ["Pa", "Pa", "Pc"]})
    >>> points = pd.DataFrame({"unit_code": ["a", "c"]}, index=["Pa", "Pc"])
    >>> sea_trips(demand, points, groups).tolist()
    [False, True, False]
    """
    here = demand["unit_code"].astype(str).map(groups)
    there = demand["nearest_point"].map(points["unit_code"].astype(str)).map(groups)
    return (here.notna() & there.notna() & (here != there)).rename("sea_trip")


#: The note an island's unit carries instead of a travel time.
SEA_TRIP_NOTE = "no road link: the nearest point is across the sea; travel time not computed"


def mark_sea_trips(
    units_table: pd.DataFrame, demand: pd.DataFrame, crossing: pd.Series, unlinked: pd.Series
) -> pd.DataFrame:
    """Return the units table with islands noted and no travel time where trips cross the sea.

    Parameters
    ----------
    units_table
        One row per unit (indexed by code, or with a ``code`` column): the run's units table.
    demand
        The assessed demand (``unit_code``, ``population``).
    crossing
        :func:`sea_trips` of the demand.
    unlinked
        :func:`unlinked_units`.

    Returns
    -------
    pandas.DataFrame
        A copy with ``no_land_link``, ``population_sea_trip`` and ``travel_note``; the minutes
        columns (``*minutes*``) of a unit with any sea trip are empty.

    Examples
    --------
    >>> t = pd.DataFrame({"code": ["a", "c"], "mean_minutes": [5.0, 80.0]})
    >>> d = pd.DataFrame({"unit_code": ["a", "c"], "population": [10.0, 4.0]})
    >>> out = mark_sea_trips(t, d, pd.Series([False, True]), pd.Series([False, True], index=["a", "c"]))
    >>> out["mean_minutes"].tolist(), out["population_sea_trip"].tolist(), out["no_land_link"].tolist()
    ([5.0, nan], [0.0, 4.0], [False, True])
    """
    out = units_table.copy()
    codes = out["code"].astype(str) if "code" in out.columns else out.index.to_series().astype(str)
    people = demand["population"].where(crossing.to_numpy(), 0.0).groupby(demand["unit_code"].astype(str)).sum()
    out["no_land_link"] = codes.map(unlinked).fillna(False).astype(bool).to_numpy()
    out["population_sea_trip"] = codes.map(people).fillna(0.0).to_numpy()
    sea = out["population_sea_trip"] > 0
    out["travel_note"] = np.where(
        sea, SEA_TRIP_NOTE, np.where(out["no_land_link"], "island: travel within the island only", "")
    )
    minutes = [c for c in out.columns if "minutes" in c and pd.api.types.is_numeric_dtype(out[c])]
    out.loc[sea.to_numpy(), minutes] = np.nan
    return out


class SeaAwareEngine:
    """A travel-time engine that never crosses the sea: trips stay within a land group.

    Wraps any engine (:class:`pointplan.network.TravelEngine`): the nearest point of a place
    is searched among the points of its own land group (:func:`land_groups`: the mainland,
    or an island); a place whose group holds no point has no travel time (``inf``, reported
    as unreachable) rather than a straight line over the water. Pairs across the sea are
    dropped from :meth:`od_long`. Everything else is the wrapped engine's.

    Parameters
    ----------
    engine
        The engine to wrap.
    units
        The units whose land groups apply (indexed by code, with ``population``).

    Examples
    --------
    Two units on the mainland and an island 5 km off; a point on the mainland only:

    >>> import shapely
    >>> from pointplan.network import CrowFliesEngine
    >>> units = gpd.GeoDataFrame({"population": [100, 200, 50]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000),
    ...               shapely.box(7000, 0, 8000, 1000)], index=["a", "b", "c"], crs=32648)
    >>> places = gpd.GeoDataFrame({"unit_code": ["b", "c"]},
    ...     geometry=gpd.points_from_xy([1500, 7500], [500, 500]), crs=32648)
    >>> point = gpd.GeoDataFrame({"unit_code": ["a"]}, geometry=gpd.points_from_xy([500], [500]),
    ...     index=["P"], crs=32648)
    >>> near = SeaAwareEngine(CrowFliesEngine("motorbike"), units).nearest(places, point)
    >>> near["dest"].tolist(), bool(np.isinf(near["minutes"].iloc[1]))
    (['P', None], True)
    """

    def __init__(self, engine: object, units: gpd.GeoDataFrame) -> None:
        self._engine = engine
        self._groups = land_groups(units)
        polys = units[["geometry"]].to_crs(settings.projected_crs)
        self._units = gpd.GeoDataFrame(
            {"land_unit": polys.index.astype(str)}, geometry=polys.geometry.to_numpy(), crs=polys.crs
        )

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    @property
    def method(self) -> str:
        """The wrapped engine's method."""
        return str(self._engine.method)  # type: ignore[attr-defined]

    @property
    def mode(self) -> str:
        """The wrapped engine's mode."""
        return str(self._engine.mode)  # type: ignore[attr-defined]

    def group_of(self, gdf: gpd.GeoDataFrame) -> npt.NDArray[np.int64]:
        """Land group of each row: by ``unit_code`` when known, else the unit it lies in (or nearest)."""
        group = pd.Series(np.nan, index=range(len(gdf)), dtype=float)
        if "unit_code" in gdf.columns:
            group[:] = gdf["unit_code"].astype(str).map(self._groups).to_numpy(dtype=float)
        todo = group.isna().to_numpy()
        if todo.any():
            pts = gpd.GeoDataFrame(
                geometry=gdf.geometry.to_crs(settings.projected_crs).to_numpy()[todo], crs=settings.projected_crs
            )
            hit = gpd.sjoin_nearest(pts, self._units, how="left")
            hit = hit[~hit.index.duplicated()]
            group[todo] = hit["land_unit"].map(self._groups).to_numpy(dtype=float)
        return group.fillna(0).to_numpy(dtype=np.int64)

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame) -> pd.DataFrame:
        """Nearest destination within each origin's land group (``inf`` minutes where none)."""
        go, gd = self.group_of(origins), self.group_of(destinations)
        if len(go) == 0 or len(gd) == 0 or ((go == go[0]).all() and (gd == go[0]).all()):
            return self._engine.nearest(origins, destinations)  # type: ignore[attr-defined]
        out = pd.DataFrame(
            {
                "dest": pd.Series([None] * len(origins), dtype=object),
                "minutes": np.inf,
                "distance_m": np.inf,
                "method": self.method,
            }
        )
        for g in np.unique(go):
            o, d = np.flatnonzero(go == g), np.flatnonzero(gd == g)
            if d.size == 0:
                continue
            part = self._engine.nearest(origins.iloc[o], destinations.iloc[d])  # type: ignore[attr-defined]
            for col in ("dest", "minutes", "distance_m", "method"):
                if col in part.columns:
                    out.loc[o, col] = part[col].to_numpy()
        out.index = origins.index
        return out

    def od_long(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        with_distance: bool = True,
    ) -> pd.DataFrame:
        """Return the wrapped engine's pairs within ``max_minutes``, less those across the sea."""
        pairs = self._engine.od_long(origins, destinations, max_minutes, with_distance=with_distance)  # type: ignore[attr-defined]
        go, gd = self.group_of(origins), self.group_of(destinations)
        keep = go[pairs["i"].to_numpy(dtype=np.int64)] == gd[pairs["j"].to_numpy(dtype=np.int64)]
        return pairs[keep].reset_index(drop=True)

    def service_areas(self, points: gpd.GeoDataFrame, max_minutes: float) -> gpd.GeoDataFrame:
        """Return the wrapped engine's service areas (drawn as they are: maps only)."""
        return self._engine.service_areas(points, max_minutes)  # type: ignore[attr-defined]
