"""Runs of any of the 34 provinces: its units, stand-in points, travel times and what they rest on.

``pointplan run --province 38`` (:class:`~pointplan.workflow.RunConfig` ``province``) runs the
whole job for a province other than Hà Nội:

- units from the national file (:func:`pointplan.load_units` with ``province``), populations
  checked against WorldPop (``population_source`` on every unit);
- points: the user's file (refused when it lies in another province:
  :func:`pointplan.data.check_points_province`), else one stand-in per unit at its population
  centre (:func:`pointplan.provinces.province_points`);
- travel times: the straight-line fallback calibrated on Hanoi's inner-city roads (or the
  user's ``--network`` where it covers), never across the sea
  (:class:`pointplan.provinces.SeaAwareEngine`);
- proposals among a grid of sites inside the province (Hanoi's named buildings are Hanoi's);
- ``summary.json`` says which province, how many units rest on a population estimate, which
  units have no land link, and how far the fallback is carried from where it was measured.

Hà Nội (the default) keeps everything that is Hanoi's own: its units file with the 8
corrected populations, branches, community and mobile points, roads, bus network and sites.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan.provinces import HANOI_CODE, Province, resolve_province

if TYPE_CHECKING:
    from pointplan.workflow.config import RunConfig
    from pointplan.workflow.state import RunState

__all__ = [
    "FALLBACK_NOTE",
    "is_other_province",
    "load_province",
    "province_boundary",
    "province_engine",
    "province_points",
    "province_proposal_options",
    "province_summary",
    "province_units_table",
    "report_lines",
]

#: Spacing (m) of the grid of candidate sites of a province's proposals.
PROPOSAL_GRID_M = 2000.0

#: What summary.json says of travel times beyond Hanoi.
FALLBACK_NOTE = (
    "Travel times are the straight-line fallback calibrated on Hanoi's inner-city roads; its "
    "stated error was measured in Hanoi's inner city, not in this province, where roads, "
    "terrain and speeds differ: read the minutes as indicative. Give the province's roads "
    "(--network FILE.osm.pbf) for network times where they cover."
)


def province_points(units: gpd.GeoDataFrame, demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one stand-in service point per unit, at the unit's population centre.

    Parameters
    ----------
    units
        A province's units (:func:`pointplan.load_units` with ``province=...``), indexed by
        code, with ``full_name`` and ``hq_address``.
    demand
        Their demand points (:func:`pointplan.build_demand`): the centre is the populated
        place that minimises the straight-line person-metres to the unit's own people.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, indexed by ``point_id`` (``DP`` + unit code), with the columns of
        :data:`pointplan.points.POINT_COLUMNS`: kind ``unit_point``, ``location_precision``
        ``unit_population_centre`` (``unit_representative_point`` for a unit without people),
        ``address`` = the head-office address (for geocoding), counters unknown.

    Examples
    --------
    >>> import shapely
    >>> units = gpd.GeoDataFrame({"full_name": ["Xã A"], "hq_address": ["Thôn 1, xã A"]},
    ...     geometry=[shapely.box(585000, 2325000, 587000, 2326000)],
    ...     index=pd.Index(["99001"], name="code"), crs=32648)
    >>> demand = gpd.GeoDataFrame({"unit_code": ["99001"] * 3, "population": [10.0, 50, 20]},
    ...     geometry=gpd.points_from_xy([585100, 586000, 586900], [2325500] * 3), crs=32648)
    >>> pts = province_points(units, demand)
    >>> pts.loc["DP99001", ["location_precision", "address"]].tolist()
    ['unit_population_centre', 'Thôn 1, xã A']
    >>> round(pts.to_crs(32648).geometry.iloc[0].x)
    586000
    """
    from pointplan.standins import compute_standins

    standins = compute_standins(units, network=None, demand=demand).to_crs(settings.geographic_crs)
    codes = units.index.astype(str)
    frame = pd.DataFrame(
        {
            "point_id": "DP" + codes,
            "name": "Điểm Phục vụ hành chính công " + units["full_name"].astype(str).to_numpy(),
            "kind": "unit_point",
            "unit_code": codes,
            "declared_unit_code": codes,
            "address": units["hq_address"].astype(str).to_numpy(),
            "counters": pd.array([pd.NA] * len(units), dtype="Int64"),
            "location_precision": standins["location_precision"].to_numpy(),
            "source": "units_2025_vn.gpkg hq_address (sapnhap.bando); head office not located",
            "notes": np.where(
                standins["location_precision"].to_numpy() == "unit_population_centre",
                "stand-in at the unit's population centre",
                "stand-in inside the unit (no population)",
            ),
        }
    )
    from pointplan.points import POINT_COLUMNS

    gdf = gpd.GeoDataFrame(frame, geometry=standins.geometry.to_numpy(), crs=settings.geographic_crs)
    gdf = gdf[[c for c in POINT_COLUMNS if c in gdf.columns] + ["geometry"]]
    return gdf.set_index(pd.Index(gdf["point_id"].to_numpy()))


def province_of(config: RunConfig) -> Province:
    """Return the province of a run (Hà Nội when none is given).

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> province_of(RunConfig("out", uncertainty=False)).code
    '01'
    """
    return resolve_province(getattr(config, "province", None) or HANOI_CODE)


def is_other_province(config: RunConfig) -> bool:
    """Return True when the run is for a province other than Hà Nội.

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> is_other_province(RunConfig("out", uncertainty=False))
    False
    >>> is_other_province(RunConfig("out", province="12", uncertainty=False))
    True
    """
    return not province_of(config).is_hanoi


def load_province(config: RunConfig, state: RunState) -> RunState:
    """Load a province other than Hà Nội: units, demand and points.

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> from pointplan.workflow.state import RunState
    >>> s = load_province(RunConfig("out", province="Lai Châu", uncertainty=False), RunState())
    >>> len(s.units), len(s.points), s.points["location_precision"].unique().tolist()
    (38, 38, ['unit_population_centre'])
    """
    from pointplan._errors import InputError
    from pointplan.data import check_points_province, load_units
    from pointplan.demand import build_demand
    from pointplan.points import read_points

    prov = province_of(config)
    units = load_units(prov.code)
    codes = config.study_codes
    if codes is not None:
        unknown = [c for c in codes if c not in units.index]
        if unknown:
            msg = f"Unknown unit code(s) {unknown} in --units for {prov.name};"
            msg += f" see `pointplan info --province {prov.code}`."
            raise InputError(msg)
        units = units.loc[list(dict.fromkeys(codes))]
    demand = None
    if config.points is None:
        demand = build_demand(units, cell_m=config.demand_cell_m)
        pts = province_points(units, demand)
        pts.attrs.update(scenario=f"province-{prov.code}", branches_expected=0, branches_located=0, missing_sites=[])
    else:
        pts = config.points if isinstance(config.points, gpd.GeoDataFrame) else read_points(config.points, units=units)
        check_points_province(pts, prov.code)
    return dataclasses.replace(state, units=units, points=pts, demand=demand)


def province_engine(config: RunConfig, units: gpd.GeoDataFrame) -> Any:
    """Return the engine of a province: the fallback (or the user's network), never across the sea.

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> from pointplan import load_units
    >>> province_engine(RunConfig("out", province="12", uncertainty=False), load_units("12")).method
    'crow_flies_circuity'
    """
    from pointplan.provinces import SeaAwareEngine
    from pointplan.workflow.engine import travel_engine

    network = "none" if config.network is None else config.network
    return SeaAwareEngine(travel_engine(network, config.mode), units)


def province_units_table(table: pd.DataFrame, state: RunState) -> pd.DataFrame:
    """``units.csv`` of a province: where each population comes from, and which units are islands.

    Examples
    --------
    >>> from pointplan.workflow.state import RunState
    >>> from pointplan import load_units
    >>> units = load_units("12")
    >>> t = province_units_table(pd.DataFrame({"code": units.index[:2]}), RunState(units=units))
    >>> t.columns.tolist()
    ['code', 'population_source', 'no_land_link']
    """
    from pointplan.provinces import unlinked_units

    units = state.units
    if units is None:
        return table
    out = table.copy()
    key = out["code"].astype(str)
    src = units["population_source"] if "population_source" in units else pd.Series("official", index=units.index)
    pos = out.columns.get_loc("population") + 1 if "population" in out.columns else len(out.columns)
    out.insert(pos, "population_source", key.map(src).to_numpy())
    out["no_land_link"] = key.map(unlinked_units(units)).fillna(False).astype(bool).to_numpy()
    return out


def province_summary(config: RunConfig, state: RunState) -> dict[str, Any]:
    """Return what ``summary.json`` adds for a province: population sources, islands, the fallback's reach.

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> from pointplan.workflow.state import RunState
    >>> from pointplan import load_units
    >>> s = province_summary(RunConfig("out", province="24", uncertainty=False), RunState(units=load_units("24")))
    >>> s["province_code"], s["units_population_estimated"], s["population_sources"]
    ('24', 55, {'official': 44, 'worldpop_estimate': 55})
    """
    from pointplan.provinces import unlinked_units

    prov = province_of(config)
    units = state.units
    out: dict[str, Any] = {"province_code": prov.code, "province_name": prov.name}
    if units is not None and "population_source" in units:
        counts = units["population_source"].value_counts().sort_index()
        out["population_sources"] = {str(k): int(v) for k, v in counts.items()}
        out["units_population_estimated"] = int(counts.get("worldpop_estimate", 0))
        if "population_rescale_factor" in units.attrs:
            out["population_rescale_factor"] = float(units.attrs["population_rescale_factor"])
    if prov.is_hanoi:
        return out
    island = unlinked_units(units) if units is not None else pd.Series(dtype=bool)
    out.update(
        units_no_land_link=[str(c) for c in island.index[island]],
        population_no_land_link=float(units.loc[island, "population"].sum()) if units is not None else 0.0,
        no_land_link_note="Units with no land link (islands) are reached only from points on their own "
        "land; a straight line over the sea is never used as a travel time.",
        fallback_note=FALLBACK_NOTE,
        branches_expected=None,
    )
    return out


def province_boundary(config: RunConfig) -> dict[str, Any]:
    """``{"boundary": outline}`` of another province for the proposal solvers (``{}`` for Hà Nội).

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> province_boundary(RunConfig("out", uncertainty=False))
    {}
    >>> len(province_boundary(RunConfig("out", province="12", uncertainty=False))["boundary"])
    1
    """
    if not is_other_province(config):
        return {}
    from pointplan.data import load_boundary

    return {"boundary": load_boundary(province_of(config).code)}


def province_proposal_options(config: RunConfig, state: RunState) -> dict[str, Any]:
    """Where a run's proposals may go: Hanoi's named sites, or a grid inside another province.

    Hanoi's candidate buildings (hospitals, post offices, planned sites) are Hanoi's: in another
    province the proposals are made on a grid of populated places inside its outline.

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> from pointplan.workflow.state import RunState
    >>> province_proposal_options(RunConfig("out", uncertainty=False), RunState())
    {'sites': 'real'}
    >>> sorted(province_proposal_options(RunConfig("out", province="12", uncertainty=False), RunState()))
    ['boundary', 'sites']
    """
    if not is_other_province(config):
        return {"sites": config.sites}
    options: dict[str, Any] = {"sites": "grid", **province_boundary(config)}
    if config.candidates is None and state.assessment is not None:
        from pointplan.locate.candidates import grid_candidates

        # one site per populated 2 km cell (Hanoi's runs add clusters of the least served: slow here)
        options["candidates"] = grid_candidates(state.assessment.demand, spacing_m=PROPOSAL_GRID_M)
    return options


def report_lines(config: RunConfig, state: RunState) -> list[str]:
    """Lines the province's report adds (populations on an estimate, the fallback's reach).

    Examples
    --------
    >>> from pointplan.workflow.config import RunConfig
    >>> from pointplan.workflow.state import RunState
    >>> report_lines(RunConfig("out", uncertainty=False), RunState())
    []
    """
    if not is_other_province(config) or state.units is None:
        return []
    prov = province_of(config)
    s = province_summary(config, state)
    return [
        f"{prov.name}: {len(state.units)} units; {s.get('units_population_estimated', 0)} rest on a WorldPop "
        "estimate of their population (official figure implausible or missing; population_source in units.csv).",
        FALLBACK_NOTE,
    ]
