"""The planner's workflow end to end: load, assess, propose, map, report.

:func:`run` is what ``pointplan run --out DIR`` does, and what a notebook calls to get the
same outputs. :func:`propose_points` proposes new points for an assessment and re-assesses
the scenario with them (the before/after comparison).

Outputs of :func:`run` (never over an input; written together into a hidden staging folder
and moved into place only when all are ready, so an interrupted run leaves the previous
outputs as they were):

``map.html`` (and ``map_offline.html`` on request), ``units.csv``, ``points.csv``,
``proposals.geojson``, ``summary.json``, ``findings.csv``, ``scenario.gpkg`` (layers units,
points, proposals, demand for QGIS), ``sites_report.csv`` when the proposals are among real
sites (the candidate sites dropped or kept at a stand-in, by row of their source), and the
documents chosen with ``formats`` (:data:`pointplan.report.REPORT_FORMATS`; default
``report.html`` and ``tables.xlsx``; also ``report.docx`` and ``report.md`` with PNG charts).
A document that is open in another program or read-only keeps its previous version and is
reported in an error raised after every other output was written.

Proposals are made among real, named places by default (hospitals and clinics, post
offices, planned sites: :mod:`pointplan.locate.sites`); each says what choosing the
building costs against the best unconstrained spot nearby. ``sites="grid"`` (CLI
``--sites grid``) proposes grid cells as before, ``"both"`` mixes them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan._errors import InputError, OutputError
from pointplan.io import strict_json

__all__ = ["CANDIDATE_SITES", "DEFAULT_ADD", "default_candidates", "propose_points", "run", "travel_engine"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Number of points ``pointplan run`` proposes by default.
DEFAULT_ADD = 10

#: Unit metrics drawn on the map of ``pointplan run``: the first is shown, the others are
#: layers to switch on. Mean minutes first: by motorbike the 30-min/5-km standard is met
#: almost everywhere, so coverage alone shows a uniform map.
MAP_METRICS = ("mean_minutes", "coverage_share", "p90_minutes", "visits_per_counter", "e2sfca")

#: Files :func:`run` may write into its output folder (charts are ``chart_*.png``).
RUN_OUTPUTS: tuple[str, ...] = (
    "units.csv",
    "points.csv",
    "findings.csv",
    "proposals.geojson",
    "summary.json",
    "dossiers_unmatched.csv",
    "sites_report.csv",
    "map.html",
    "map_offline.html",
    "scenario.gpkg",
    "report.md",
    "report.html",
    "report.docx",
    "tables.xlsx",
    "chart_overview.png",
    "chart_minutes_cdf.png",
    "chart_p90_units.png",
    "chart_utilisation.png",
    "chart_proposal_gains.png",
)

SUMMARY_KEYS = (
    "units",
    "points",
    "branches_expected",
    "branches_located",
    "population",
    "population_within_standard_share",
    "mean_minutes_to_nearest",
    "rule_findings",
    "travel_time_method",
    "proposals",
)


#: Which candidate sites ``propose``/``run`` use: real places, grid cells, or both.
CANDIDATE_SITES = ("real", "grid", "both")
#: Seed of the Monte Carlo draws behind the intervals of ``pointplan run`` (the number of
#: draws is :data:`pointplan.settings.uncertainty_draws`).
DEFAULT_SEED = 2025


def default_candidates(
    assessment: Any,
    *,
    spacing_m: float = 1500.0,
    n_clusters: int = 40,
    user_candidates: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    sites: str = "real",
) -> gpd.GeoDataFrame:
    """Return candidate sites for new points: real places (default), or a grid, stand-ins, clusters.

    ``sites="real"``: the named public buildings of :func:`pointplan.locate.sites.real_sites`
    (hospitals and clinics, post offices, planned sites) in the assessment's units; the report
    of problems (rows dropped or kept at a stand-in) is in ``attrs["sites_report"]`` (records).
    ``sites="grid"``: the grid covers populated land; one stand-in per unit (a point inside
    it, for a point at or near the head office); the clusters are population-weighted
    k-means centroids of the least-served demand. ``"both"``: all of them.

    Parameters
    ----------
    assessment
        The assessment of the current points (its demand gives weights and who is
        least served).
    spacing_m
        Grid spacing of the generated candidates.
    n_clusters
        Number of k-means centroids over the least-served demand (travel time above the
        city's 75th percentile, or beyond the standard).
    user_candidates
        Sites supplied by the user (malls, community houses), kept as given.
    seed
        Random seed of k-means.
    sites
        ``"real"`` (default), ``"grid"`` or ``"both"``.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 candidates with ``candidate_id``, ``kind``, ``source`` (and, for real
        sites, ``name``, ``site_kind``, ``address``, ``location_precision``...).

    Examples
    --------
    On the synthetic two-unit city (no public buildings there, so the generated kinds):

    >>> from pointplan.assessment._demo import tiny_assessment
    >>> c = default_candidates(tiny_assessment(), sites="grid", spacing_m=2000, n_clusters=2)
    >>> c["source"].value_counts().to_dict()
    {'unit_representative_point': 2, 'cluster': 1}
    """
    if sites not in CANDIDATE_SITES:
        msg = f"sites must be one of {list(CANDIDATE_SITES)}, got {sites!r}."
        raise InputError(msg)
    frames: list[gpd.GeoDataFrame] = []
    report: list[dict[str, Any]] = []
    if sites in ("real", "both"):
        from pointplan.locate.sites import real_sites, sites_to_candidates

        named = user_candidates is not None and any(
            str(c).strip().lower() in ("name", "ten", "tên", "site_name") for c in user_candidates.columns
        )
        real, rep = real_sites(assessment.units, user_sites=user_candidates if named else None)
        frames.append(sites_to_candidates(real))
        report = rep.astype(object).where(rep.notna(), None).to_dict("records")
        if user_candidates is not None and not named:  # kept as given, as before
            frames.append(user_candidates.to_crs(settings.geographic_crs))
        user_candidates = None
    if sites in ("grid", "both"):
        frames += _grid_candidates(assessment, spacing_m, n_clusters, user_candidates, seed)
    cand = pd.concat(frames, ignore_index=True)
    cand["candidate_id"] = cand["candidate_id"].astype(str)
    dup = cand["candidate_id"].duplicated(keep="first")
    cand.loc[dup, "candidate_id"] = [f"{c}_{i}" for i, c in enumerate(cand.loc[dup, "candidate_id"])]
    out = gpd.GeoDataFrame(cand, geometry="geometry", crs=settings.geographic_crs)
    out.attrs["sites_report"] = report
    return out


def _grid_candidates(
    assessment: Any, spacing_m: float, n_clusters: int, user_candidates: gpd.GeoDataFrame | None, seed: int
) -> list[gpd.GeoDataFrame]:
    """Return the generated candidates: grid, unit stand-ins, clusters of the least served, user sites."""
    from pointplan.access import weighted_quantile
    from pointplan.candidates import cluster_candidates, grid_candidates, unit_candidates

    d = assessment.demand
    grid = grid_candidates(d, spacing_m=spacing_m)
    q75 = weighted_quantile(d["minutes"], d["population"], 0.75)
    under = (d["minutes"] > q75) | ~d["within_standard"]
    n = int(min(n_clusters, max(1, under.sum() // 3)))
    # Unit head-office stand-ins: dropped (with a report) where a point already stands.
    frames = [grid, unit_candidates(assessment.units)]
    if under.sum() >= 1:
        frames.append(cluster_candidates(d, n, underserved_mask=under.to_numpy().copy(), seed=seed))
    if user_candidates is not None:
        frames.append(user_candidates.to_crs(settings.geographic_crs))
    return frames


def propose_points(
    assessment: Any,
    k: int | None = DEFAULT_ADD,
    *,
    objective: str = "pmedian",
    candidates: gpd.GeoDataFrame | None = None,
    user_candidates: gpd.GeoDataFrame | None = None,
    method: str = "greedy+swap",
    time_limit_s: float = 60.0,
    target_share: float = 1.0,
    require_unit_coverage: bool = False,
    budget_per_kind: Mapping[str, int] | None = None,
    reassess: bool = True,
    counters_proposed: int | None = None,
    sites: str = "real",
    compare_unconstrained: bool = True,
) -> Any:
    """Propose new points for an assessed scenario and assess the scenario with them.

    Parameters
    ----------
    assessment
        The assessment of the current points (:func:`pointplan.assess`).
    k
        Points to add (``None`` with ``objective="lscp"``: as few as reach ``target_share``).
    objective
        ``"pmedian"`` (minimise population-weighted travel time; default, because in Hanoi
        the 30-minute/5-km standard is met by motorbike almost everywhere), ``"mclp"``
        (maximise people within the standard) or ``"lscp"``.
    candidates
        Candidate sites (default :func:`default_candidates`).
    user_candidates
        Extra user sites added to the default candidates.
    method
        ``"greedy+swap"`` (fast), ``"greedy"`` or ``"exact"`` (HiGHS MILP with a time limit).
    time_limit_s
        Time limit of the exact solver.
    target_share
        LSCP coverage target.
    require_unit_coverage
        Require a new point in every unit that has none.
    budget_per_kind
        At most this many new points of each candidate kind.
    reassess
        Assess the scenario with the proposed points and attach the comparison.
    counters_proposed
        Counters of each proposed point for the re-assessment (default the assessment's
        default for ``proposed``).
    sites
        Default candidates when ``candidates`` is not given: ``"real"`` (named public
        buildings, default), ``"grid"`` or ``"both"`` (see :func:`default_candidates`).
    compare_unconstrained
        With real sites: solve again among grid candidates and state, for each proposal,
        what the real building costs against the nearest unconstrained pick
        (:func:`pointplan.locate.sites.constraint_cost`; the unconstrained candidates are
        the populated cells of a 1 km grid): columns ``best_spot_id``, ``best_spot_m``,
        ``cost_person_minutes``, ``cost_people_covered``; ``summary["tradeoff"]`` (totals)
        and ``summary["unconstrained_picks"]`` (each pick, with
        ``no_public_building_within_1km``).

    Returns
    -------
    pointplan.optimize.Proposal
        Ranked proposed points with their gains; ``before_after`` holds ``{"before",
        "after", "compare"}`` when ``reassess``.

    Examples
    --------
    One point added to the synthetic city goes to xã B, where 100 people were 15 and 52.5
    minutes away; the mean trip falls from 9.4 to 6.4 minutes:

    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> cands = default_candidates(a, sites="grid", spacing_m=2000, n_clusters=2)
    >>> prop = propose_points(a, 1, candidates=cands, compare_unconstrained=False)
    >>> prop.points["candidate_id"].tolist(), round(float(prop.points["gain_person_minutes_saved"].iloc[0]), 3)
    (['unit-00002'], 1200.0)
    >>> after = prop.before_after["after"].summary
    >>> round(a.summary["mean_minutes_to_nearest"], 2), round(after["mean_minutes_to_nearest"], 2)
    (9.38, 6.37)
    """
    from pointplan.access import assess
    from pointplan.optimize import propose

    real_mode = candidates is None and sites in ("real", "both")
    if candidates is None:
        candidates = default_candidates(assessment, user_candidates=user_candidates, sites=sites)
    params = assessment.params

    def solve(cands: gpd.GeoDataFrame) -> Any:
        return propose(
            assessment.demand,
            assessment.points,
            cands,
            k,
            objective=objective,  # type: ignore[arg-type]
            engine=assessment.engine,
            max_minutes=params["max_minutes"],
            max_distance_m=params["max_distance_m"],
            target_share=target_share,
            method=method,  # type: ignore[arg-type]
            time_limit_s=time_limit_s,
            require_unit_coverage=require_unit_coverage,
            budget_per_kind=budget_per_kind,
        )

    prop = solve(candidates)
    prop = dataclasses.replace(prop, points=_name_proposals(prop.points, candidates))
    prop.summary["sites_report"] = list(candidates.attrs.get("sites_report", []))
    if real_mode and compare_unconstrained and len(prop.points):
        spots = _unconstrained_candidates(assessment)
        prop = _compare_unconstrained(prop, solve(spots), candidates, spots, assessment)
    prop = dataclasses.replace(prop, candidates=candidates)  # the sites it chose from
    if reassess and len(prop.points):
        new = prop.points.copy()
        new_pts = gpd.GeoDataFrame(
            {
                "point_id": "DX" + new["rank"].astype(int).astype(str).str.zfill(2),
                "name": "Điểm đề xuất #" + new["rank"].astype(int).astype(str),
                "kind": "proposed",
                "unit_code": new["unit_code"],
                "declared_unit_code": new["unit_code"],
                "address": "",
                "counters": counters_proposed if counters_proposed is not None else pd.NA,
                "location_precision": "proposed",
                "source": "pointplan proposal (" + new["candidate_id"].astype(str) + ")",
                "notes": "",
            },
            geometry=new.geometry.values,
            crs=new.crs,
        ).set_index("point_id", drop=False)
        base_cols = [c for c in assessment.points.columns if c in new_pts.columns or c == "geometry"]
        before_pts = assessment.points[base_cols]
        after_pts = pd.concat([before_pts, new_pts.to_crs(before_pts.crs)[base_cols]])
        after_pts.index.name = None
        demand_cols = ["population", "unit_code", "geometry"]
        after = assess(
            gpd.GeoDataFrame(after_pts, geometry="geometry", crs=before_pts.crs),
            assessment.units,
            gpd.GeoDataFrame(assessment.demand[demand_cols].copy(), geometry="geometry"),
            engine=assessment.engine,
            max_minutes=params["max_minutes"],
            max_distance_m=params["max_distance_m"],
            modes=params["modes"],
            visits=assessment.units["visits_per_day"],
            counters_default=params["counters_default"],
            visits_per_counter=params["visits_per_counter"],
            availability=params["availability"],
            rule_kinds=params["rule_kinds"],
            max_off_network_share=params.get("max_off_network_share", 0.2),
            name=f"{assessment.name} + {len(new_pts)} {objective}",
        )
        prop = dataclasses.replace(
            prop, before_after={"before": assessment, "after": after, "compare": assessment.compare(after)}
        )
    return prop


#: Columns of a real site that a proposal carries (named after the place).
_SITE_COLUMNS = {
    "name": "site_name",
    "site_kind": "site_kind",
    "address": "address",
    "located_by": "located_by",
    "matched_street": "matched_street",
}


def _name_proposals(points: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the place's name, kind, address and how it was located to each proposal."""
    have = [c for c in _SITE_COLUMNS if c in candidates.columns]
    if "site_kind" not in candidates.columns or points.empty:  # grid cells have no place to name
        return points
    info = candidates.drop_duplicates("candidate_id").set_index("candidate_id")[have].rename(columns=_SITE_COLUMNS)
    out = points.copy()
    for col in info.columns:
        out[col] = out["candidate_id"].map(info[col]).fillna("").astype(str).to_numpy()
    return out


#: Cell size (m) of the unconstrained candidates real proposals are compared with.
UNCONSTRAINED_SPACING_M = 1000.0


def _unconstrained_candidates(assessment: Any) -> gpd.GeoDataFrame:
    """Return one candidate per populated cell of a fine grid (the population-weighted centre)."""
    from pointplan.candidates import grid_candidates

    grid = grid_candidates(assessment.demand, spacing_m=UNCONSTRAINED_SPACING_M, min_population=1.0)
    grid["candidate_id"] = grid["candidate_id"].str.replace("grid-", "spot-", regex=False)
    return grid


def _compare_unconstrained(
    prop: Any, free: Any, candidates: gpd.GeoDataFrame, spots: gpd.GeoDataFrame, assessment: Any
) -> Any:
    """Return ``prop`` with what the real buildings cost against the unconstrained (grid) solution."""
    from pointplan.locate.sites import constraint_cost

    if "site_kind" not in candidates.columns:
        return prop
    kind = candidates["site_kind"]
    real_sites = candidates[kind.notna() & (kind.astype(str) != "")].rename(columns={"candidate_id": "site_id"})
    params = assessment.params
    pts, picks, totals = constraint_cost(
        assessment.demand,
        prop.points,
        free.points,
        real_sites,
        engine=assessment.engine,
        max_minutes=params["max_minutes"],
        max_distance_m=params["max_distance_m"],
        cutoff_minutes=float(prop.summary["od_cutoff_minutes"]),
        spots=spots,
    )
    prop = dataclasses.replace(prop, points=pts)
    prop.summary["tradeoff"] = totals
    cols = ["rank", "candidate_id", "gain_person_minutes_saved", "gain_people_covered", "nearest_site_id",
            "nearest_site_name", "nearest_site_kind", "nearest_site_m", "no_public_building_within_1km"]  # fmt: skip
    recs = picks[cols].copy()
    recs["lon"] = picks.geometry.x.round(6).to_numpy()
    recs["lat"] = picks.geometry.y.round(6).to_numpy()
    prop.summary["unconstrained_picks"] = strict_json(recs.to_dict("records"))
    return prop


def _sites_report(proposal: Any) -> pd.DataFrame:
    """Return the report of the real candidate sites (rows dropped or kept at a stand-in)."""
    from pointplan.locate.sites import REPORT_COLUMNS

    return pd.DataFrame(proposal.summary.get("sites_report", []), columns=list(REPORT_COLUMNS))


def _unreachable_counts(assessment: Any) -> dict[str, Any]:
    """People and demand points that reach no service point (their minutes are not finite).

    ``summary.json`` writes such minutes as ``null``; these counts say how many people that is.
    """
    dem = getattr(assessment, "demand", None)
    if dem is None or "minutes" not in dem or "population" not in dem:
        return {"unreachable_population": 0, "unreachable_demand_points": 0}
    minutes = pd.to_numeric(dem["minutes"], errors="coerce").to_numpy(dtype=float)
    pop = pd.to_numeric(dem["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
    bad = ~np.isfinite(minutes) & (pop > 0)
    return {"unreachable_population": round(float(pop[bad].sum()), 1), "unreachable_demand_points": int(bad.sum())}


#: Proposal columns of real sites written to ``summary.json`` when present.
_PROPOSAL_EXTRA = (
    "site_name",
    "site_kind",
    "address",
    "location_precision",
    "located_by",
    "best_spot_id",
    "best_spot_m",
    "cost_person_minutes",
    "cost_people_covered",
    "robustness",
    "robust",
    "relies_on_point",
    "depends_on_guess",
)


def _points_csv(assessment: Any) -> pd.DataFrame:
    """``points.csv``: the report's point table plus the queue (issue 17) and bus (issue 16) columns."""
    from pointplan.report.run_tables import run_points_table

    return run_points_table(assessment)


def _summary_json(assessment: Any, proposal: Any | None) -> dict[str, Any]:
    from pointplan.report.run_tables import bus_population_share_near, run_findings
    from pointplan.staffing.outputs import run_outputs

    s = dict(assessment.summary)
    s.update(_unreachable_counts(assessment))
    unc = getattr(assessment, "uncertainty", None)
    if unc is not None:
        s.update(unc.summary_items())
    s.update(run_outputs(assessment)[1])  # officials_assumed, officials_needed, wait_p90_min_peak_max (issue 17)
    s["bus_population_share_near"] = bus_population_share_near(assessment)  # issue 16
    f = run_findings(assessment)
    s["rule_findings"] = {sev: int((f["severity"] == sev).sum()) for sev in ("error", "warning", "info")}
    s["findings"] = f[["rule", "severity", "unit_code", "point_id", "message", "message_en"]].to_dict("records")
    props: list[dict[str, Any]] = []
    if proposal is not None:
        for _, r in proposal.points.iterrows():
            props.append(
                {
                    "rank": int(r["rank"]),
                    "candidate_id": str(r["candidate_id"]),
                    "kind": str(r["kind"]),
                    "unit_code": None if pd.isna(r["unit_code"]) else str(r["unit_code"]),
                    "lon": round(float(r.geometry.x), 6),
                    "lat": round(float(r.geometry.y), 6),
                    "gain_people_covered": float(r["gain_people_covered"]),
                    "gain_person_minutes_saved": float(r["gain_person_minutes_saved"]),
                    "serves_units": str(r["serves_units"]),
                    **{c: r[c] for c in _PROPOSAL_EXTRA if c in proposal.points.columns},
                }
            )
        ps: dict[str, Any] = {
            k: v for k, v in proposal.summary.items() if isinstance(v, (int, float, str, bool, type(None)))
        }
        ba = getattr(proposal, "before_after", None)
        if isinstance(ba, dict):
            after = ba["after"].summary
            ps["after"] = {
                k: after[k]
                for k in (
                    "population_within_standard_share",
                    "mean_minutes_to_nearest",
                    "p90_minutes_to_nearest",
                    "within_minutes_share_by_mode",
                    "points_overloaded",
                )
            }
        for key in ("tradeoff", "unconstrained_picks"):
            if key in proposal.summary:
                ps[key] = proposal.summary[key]
        if "sites_report" in proposal.summary:  # the rows are in sites_report.csv
            issues = pd.Series([r["issue"] for r in proposal.summary["sites_report"]], dtype=object)
            ps["sites_report_issues"] = {str(k): int(v) for k, v in issues.value_counts().items()}
        s["proposals_summary"] = {"objective": proposal.objective, **ps}
    s["proposals"] = props
    missing = [k for k in SUMMARY_KEYS if k not in s]
    if missing:  # pragma: no cover - guards the contract
        msg = f"summary lacks {missing}"
        raise RuntimeError(msg)
    return strict_json(s)  # NaN/inf -> null, numpy scalars -> Python (what write_json writes)


_STEPS = ("Loading units and points", "Assessing", "Proposing", "Writing outputs")
_BAR: Any = None


def _step(label: str, progress: bool) -> Callable[[], None]:
    """Log a step of :func:`run`; with ``settings.progress`` also advance a tqdm bar."""
    global _BAR
    t0 = time.perf_counter()
    logger.info("%s …", label)
    if progress and _BAR is None:
        from tqdm.auto import tqdm

        _BAR = tqdm(total=len(_STEPS), desc="pointplan run", unit="step", leave=False)
    if _BAR is not None:
        _BAR.set_postfix_str(label)

    def done() -> None:
        global _BAR
        logger.info("%s: %.1f s", label, time.perf_counter() - t0)
        if _BAR is not None:
            _BAR.update(1)
            if _BAR.n >= _BAR.total or label == _STEPS[-1]:
                _BAR.close()
                _BAR = None

    return done


def run(
    out_dir: str | Path,
    *,
    points: str | Path | gpd.GeoDataFrame | None = None,
    scenario: str = "hanoi-2025",
    mode: str | None = None,
    network: str | Path | None = None,
    add: int = DEFAULT_ADD,
    objective: str = "pmedian",
    method: str = "greedy+swap",
    candidates: str | Path | None = None,
    max_minutes: float | None = None,
    max_distance_m: float | None = None,
    demand_cell_m: float | None = None,
    dossiers: str | Path | None = None,
    offline_map: bool = False,
    cdn: bool = False,
    lang: str = "vi",
    geocode: bool = False,
    map_metric: str = MAP_METRICS[0],
    study_units: Sequence[str] | None = None,
    max_off_network_share: float = 0.2,
    sites: str = "real",
    uncertainty: bool = True,
    draws: int | None = None,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    scheduler: str | None = None,
    formats: str | Sequence[str] | None = None,
) -> dict[str, Path]:
    """Run the whole workflow and write every output into ``out_dir``.

    Parameters
    ----------
    out_dir
        Output folder (created). Existing outputs are replaced atomically.
    points
        The user's points file (CSV lon/lat, GeoJSON, GeoPackage) or frame; default the
        ``scenario``.
    scenario
        Built-in scenario when ``points`` is not given.
    mode
        Travel mode (default ``settings.default_mode``).
    network
        ``None`` (default): the inner city's road network shipped with pointplan where it
        covers a trip, the straight-line fallback calibrated on it elsewhere (hybrid);
        ``"none"``: the fallback everywhere; a file (``.osm``, ``.graphml``, ``.pbf``, also
        compressed): your network for its area, the fallback beyond. See
        :func:`travel_engine`.
    add
        Number of points to propose (0: no proposal).
    objective, method
        Proposal objective (``pmedian``/``mclp``/``lscp``) and solver.
    candidates
        The user's candidate sites file, added to the generated ones.
    max_minutes, max_distance_m
        The standard.
    demand_cell_m
        Demand cell size (default 1 km; e.g. 250).
    dossiers
        CSV of dossier records (columns ``ward`` and optionally ``district``, old or new
        names) to compute visits per unit instead of the city average.
    offline_map
        Also write ``map_offline.html`` (self-contained, and no base tiles requested).
    cdn
        Link ``map.html`` to Leaflet's CDN (smaller, needs internet); by default it is
        self-contained and works with no internet.
    lang
        ``"vi"`` or ``"en"`` labels.
    geocode
        Geocode stand-in addresses (needs ``settings.allow_downloads``).
    map_metric
        Unit metric shown first on the map (the others of :data:`MAP_METRICS` are layers).
    study_units
        Codes of the units to study (default all 126): demand, coverage and proposals are
        limited to them, while their people may still use any point of the city (no
        administrative boundary). Use it with a road network that covers only part of Hanoi.
    max_off_network_share
        With a network: the largest share of people allowed farther than the snap limit
        from it (see :func:`pointplan.assess`).
    sites
        Candidate sites of the proposals: ``"real"`` (named public buildings, default; each
        proposal states its cost against the best unconstrained spot), ``"grid"`` or ``"both"``.
    uncertainty
        Put a P5/P50/P95 interval beside every headline figure (seeded Monte Carlo over what
        is assumed, :func:`pointplan.uncertainty.run_uncertainty`), and the robustness of
        each proposal.
    draws, seed
        Number of Monte Carlo draws (default :data:`pointplan.settings.uncertainty_draws`)
        and their seed (the same seed gives the same intervals).
    workers, scheduler
        Run the draws on a local Dask cluster of ``workers`` processes, or on the Dask
        scheduler at ``scheduler`` (``pip install "pointplan[parallel]"``).
    formats
        Documents to write: names of :data:`pointplan.report.REPORT_FORMATS` (``"html"``,
        ``"docx"``, ``"xlsx"``, ``"md"``) as a list or a comma-separated string; default
        ``html`` and ``xlsx``. The map and the CSV/JSON/GeoJSON/GeoPackage outputs are
        always written.

    Returns
    -------
    dict
        Output name -> path.

    Raises
    ------
    OutputError
        A document could not be replaced (open in another program or read-only); every
        other output was written.

    Examples
    --------
    What a run writes (the whole run of Hanoi takes about a minute; the test suite runs it):

    >>> [n for n in ("units.csv", "points.csv", "summary.json", "map.html") if n in RUN_OUTPUTS]
    ['units.csv', 'points.csv', 'summary.json', 'map.html']
    >>> paths = run("out", add=10)  # doctest: +SKIP
    >>> paths["summary.json"]  # doctest: +SKIP
    PosixPath('out/summary.json')
    """
    from pointplan.access import assess
    from pointplan.data import load_units
    from pointplan.demand import aggregate_dossiers, convert_old_units, visits_per_day
    from pointplan.io import check_output_path
    from pointplan.points import load_points, read_points
    from pointplan.report import parse_formats

    _check_run_arguments(mode, add, max_minutes, max_distance_m, demand_cell_m)
    if uncertainty:
        from pointplan.uncertainty import check_draws, check_seed

        n_draws = check_draws(settings.uncertainty_draws if draws is None else draws)
        check_seed(seed)
    chosen_formats = parse_formats(formats)
    out = Path(out_dir).expanduser()
    inputs = [p for p in (points, network, candidates, dossiers) if isinstance(p, (str, Path)) and not _keyword(p)]
    _check_output_folder(out, inputs)
    for inp in inputs:
        if not Path(inp).expanduser().is_file():
            msg = f"Input file {inp} does not exist (or is a folder). Check the path."
            raise InputError(msg)
    for name in RUN_OUTPUTS:
        check_output_path(out / name, inputs)
    if lang not in ("vi", "en"):
        msg = f"lang must be 'vi' or 'en', got {lang!r}."
        raise InputError(msg)
    if sites not in CANDIDATE_SITES:
        msg = f"sites must be one of {list(CANDIDATE_SITES)}, got {sites!r}."
        raise InputError(msg)

    done = _step("Loading units and points", settings.progress)
    units = load_units()
    if points is None:
        pts = load_points(scenario, units=units)
    elif isinstance(points, gpd.GeoDataFrame):
        pts = points
    else:
        pts = read_points(points, units=units)
    if study_units is not None:
        codes = [str(c).strip().zfill(5) for c in study_units if str(c).strip()]
        unknown = [c for c in codes if c not in units.index]
        if not codes or unknown:
            msg = (
                f"Unknown unit code(s) {unknown} in --units; use the 5-digit codes of units.csv "
                "or `pointplan info` (e.g. 00070 for Phường Hoàn Kiếm)."
                if unknown
                else "--units is empty: give at least one unit code."
            )
            raise InputError(msg)
        units = units.loc[list(dict.fromkeys(codes))]
    if geocode:
        from pointplan.geocode import geocode_points

        pts = geocode_points(pts)
    done()

    visits = None
    conversion = None
    if dossiers is not None:
        records = _read_records(Path(dossiers))
        district_col = "district" if "district" in records.columns else None
        conversion = convert_old_units(records, ward_col="ward", district_col=district_col)
        counts = aggregate_dossiers(conversion)
        visits = visits_per_day(units, counts=counts)

    done = _step("Assessing", settings.progress)
    engine = travel_engine(network, mode)
    from pointplan.demand import build_demand

    demand = build_demand(units, cell_m=demand_cell_m)
    a = assess(
        pts,
        units,
        demand,
        mode=mode,
        engine=engine,
        max_minutes=max_minutes,
        max_distance_m=max_distance_m,
        visits=visits,
        name=scenario
        if points is None
        else Path(str(points)).stem
        if not isinstance(points, gpd.GeoDataFrame)
        else "user",
        max_off_network_share=max_off_network_share,
    )
    done()

    proposal = None
    if add and add > 0:
        done = _step(f"Proposing {add} points ({objective})", settings.progress)
        user_cand = None
        if candidates is not None:
            from pointplan.candidates import read_candidates

            user_cand = read_candidates(candidates)
        proposal = propose_points(a, add, objective=objective, method=method, user_candidates=user_cand, sites=sites)
        done()

    if uncertainty:
        _attach_uncertainty(a, proposal, draws=n_draws, seed=seed, workers=workers, scheduler=scheduler)

    done = _step("Writing outputs", settings.progress)
    written, problems = _write_everything(
        out,
        a,
        proposal,
        conversion,
        inputs=inputs,
        lang=lang,
        offline_map=offline_map,
        map_metric=map_metric,
        formats=chosen_formats,
        cdn=cdn,
    )
    done()
    from pointplan.report.documents import raise_for_problems

    raise_for_problems(problems, out)
    return written


def _write_everything(
    out: Path,
    a: Any,
    proposal: Any | None,
    conversion: Any | None,
    *,
    inputs: list[str | Path],
    lang: str,
    offline_map: bool,
    map_metric: str,
    formats: Sequence[str],
    cdn: bool = False,
) -> tuple[dict[str, Path], list[str]]:
    """Write every output of :func:`run` into ``out``; return their paths and the documents not updated.

    The data outputs and the map are written into a staging folder and moved into place
    together at the end, so an interrupted run leaves the previous outputs as they were.
    The documents (``formats``) are then moved one by one: one left open in Word or Excel
    (or read-only) keeps its previous version and is reported, and holds back nothing else.
    """
    from pointplan.io import staged_folder
    from pointplan.report.documents import FORMAT_FILES, document_stage, publish_documents, write_documents

    with document_stage(out) as doc_stage:
        with staged_folder(out, inputs) as stage:
            written = _write_outputs(
                stage,
                a,
                proposal,
                conversion,
                inputs=inputs,
                lang=lang,
                offline_map=offline_map,
                map_metric=map_metric,
                cdn=cdn,
            )
            outputs = sorted([*written, *(FORMAT_FILES[fmt][0] for fmt in formats)])
            extra = [f"Outputs: {', '.join(outputs)}."]
            docs = write_documents(a, doc_stage, proposal, formats=formats, lang=lang, extra_lines=extra)
        published, problems = publish_documents(doc_stage, out, docs)
    paths = {name: out / Path(path).name for name, path in {**written, **published}.items()}
    return paths, problems


def _attach_uncertainty(
    a: Any, proposal: Any | None, *, draws: int, seed: int, workers: int | None, scheduler: str | None
) -> None:
    """Run the Monte Carlo and attach it: ``a.uncertainty``; robustness columns on the proposals."""
    from pointplan.uncertainty import proposal_robustness, run_uncertainty

    done = _step(f"Uncertainty ({draws} draws)", settings.progress)
    a.uncertainty = run_uncertainty(
        a,
        draws=draws,
        seed=seed,
        sensitivity_draws=max(10, draws // 4),
        workers=workers,
        scheduler=scheduler,
    )
    if proposal is not None and len(proposal.points):
        cands = getattr(proposal, "candidates", None)
        if cands is not None:
            rob = proposal_robustness(
                a, proposal, cands, draws=min(settings.robustness_draws, draws), seed=seed, objective=proposal.objective
            )
            for col in rob.columns:
                proposal.points[col] = rob[col].to_numpy()
    done()


def _write_outputs(
    out: Path,
    a: Any,
    proposal: Any | None,
    conversion: Any | None,
    *,
    inputs: list[str | Path],
    lang: str,
    offline_map: bool,
    map_metric: str = MAP_METRICS[0],
    cdn: bool = False,
) -> dict[str, Path]:
    """Write the outputs of :func:`run` into ``out`` (the staging folder)."""
    from pointplan import maps
    from pointplan.io import atomic_path, write_json, write_scenario, write_table
    from pointplan.maps.transit import BUS_MAP_MIN_TRIPS_PER_HOUR
    from pointplan.optimize import PROPOSAL_COLUMNS
    from pointplan.report.run_tables import bus_context, run_findings, unit_time_to_service

    paths: dict[str, Path] = {}
    paths["units.csv"] = write_table(_units_csv(a), out / "units.csv", inputs=inputs)
    paths["points.csv"] = write_table(_points_csv(a), out / "points.csv", inputs=inputs)
    paths["findings.csv"] = write_table(run_findings(a), out / "findings.csv", inputs=inputs)
    prop_gdf = (
        proposal.points
        if proposal is not None
        else gpd.GeoDataFrame(
            {c: [] for c in PROPOSAL_COLUMNS}, geometry=gpd.GeoSeries([], crs=settings.geographic_crs)
        )
    )
    with atomic_path(out / "proposals.geojson", inputs) as tmp:
        gj = prop_gdf.copy()
        for col in gj.columns:
            if col != "geometry" and gj[col].dtype == object:
                gj[col] = gj[col].astype(str)
        gj.to_file(tmp, driver="GeoJSON", layer="proposals")
    paths["proposals.geojson"] = out / "proposals.geojson"
    paths["summary.json"] = write_json(out / "summary.json", _summary_json(a, proposal), inputs=inputs)
    if proposal is not None and proposal.summary.get("sites_report"):
        paths["sites_report.csv"] = write_table(_sites_report(proposal), out / "sites_report.csv", inputs=inputs)
    if conversion is not None:
        paths["dossiers_unmatched.csv"] = write_table(
            conversion.unmatched, out / "dossiers_unmatched.csv", inputs=inputs
        )
    unit_time_to_service(a)  # joins the map's units, with the bus access (issues 16, 17)
    extra = [x for x in (*MAP_METRICS, "time_to_service_minutes", "bus_access") if x != map_metric]
    prop_pts = proposal.points if proposal is not None else None
    layers: dict[str, Any] = {
        "bus_stops": bus_context(a).stops,
        "bus_min_trips_per_hour": BUS_MAP_MIN_TRIPS_PER_HOUR,
        "waits": True,
    }
    m = maps.assessment_map(a, prop_pts, lang=lang, metric=map_metric, extra_metrics=extra, **layers)
    paths["map.html"] = maps.save_map(m, out / "map.html", cdn=cdn)
    if offline_map:
        m_off = maps.assessment_map(
            a, prop_pts, lang=lang, tiles=False, metric=map_metric, extra_metrics=extra, **layers
        )
        paths["map_offline.html"] = maps.save_map(m_off, out / "map_offline.html", offline=True)
    extra_layers = {"demand": a.demand[["population", "unit_code", "minutes", "within_standard", "geometry"]]}
    if proposal is not None and len(proposal.points):
        extra_layers["proposals"] = proposal.points
    pts_layer = a.points.drop(columns=[c for c in ("counters_used", "counters_assumed") if c in a.points])
    paths["scenario.gpkg"] = write_scenario(
        out / "scenario.gpkg", a.units, pts_layer, extra_layers=extra_layers, inputs=inputs
    )
    return paths


def _units_csv(a: Any) -> pd.DataFrame:
    """Return ``units.csv``: the units table and what a run adds.

    ``population_corrected``, the P5/P50/P95 interval columns (issue 15), the bus access
    columns (issue 16) and the time to service (issue 17).
    """
    from pointplan.report.run_tables import run_units_table

    return run_units_table(a)


def _read_records(path: Path) -> pd.DataFrame:
    """Read a dossier-records CSV (UTF-8, with or without BOM) with clear errors."""
    what = f"dossiers file {path}"
    try:
        records = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{what} is not UTF-8 text. Save it from Excel as 'CSV UTF-8 (Comma delimited)'."
        raise InputError(msg) from exc
    except pd.errors.EmptyDataError as exc:
        msg = f"{what} is empty or has no header line ({exc}). Give a 'ward' column and rows."
        raise InputError(msg) from exc
    except pd.errors.ParserError as exc:
        msg = f"{what} could not be parsed as CSV: {exc}"
        raise InputError(msg) from exc
    if "ward" not in records.columns:
        msg = (
            f"{what} lacks the column 'ward' (old or new ward name of each dossier); it has "
            f"{list(records.columns)}. Rename the column."
        )
        raise InputError(msg)
    return records


#: ``--network`` values that are not files: the fallback everywhere, or the default network.
NETWORK_KEYWORDS = ("none", "default")


def _keyword(value: object) -> bool:
    """Return True for a ``--network`` keyword (``none``/``default``), False for a file."""
    return isinstance(value, str) and value.strip().lower() in NETWORK_KEYWORDS


def travel_engine(network: str | Path | Any | None = None, mode: str | None = None) -> Any:
    """Return the travel-time engine of a run: hybrid on a road network, or the fallback.

    Parameters
    ----------
    network
        ``None`` or ``"default"``: :data:`pointplan.settings.default_network` (the inner
        city's drive network shipped with pointplan) for the trips it covers, the calibrated
        straight-line fallback beyond it. ``"none"``: the fallback everywhere. A file or a
        graph: that network for its area, the fallback beyond.
    mode
        Travel mode (default ``settings.default_mode``).

    Returns
    -------
    TravelEngine
        A :class:`pointplan.network.HybridEngine`, or a
        :class:`pointplan.network.CrowFliesEngine` for the fallback.

    Examples
    --------
    >>> travel_engine("none", "walk").method
    'crow_flies_circuity'
    >>> travel_engine("default", "motorbike").method  # doctest: +SKIP
    'hybrid'
    """
    from pointplan.network import make_engine, make_hybrid_engine

    mode = mode or settings.default_mode
    if network is None or (_keyword(network) and str(network).strip().lower() == "default"):
        if settings.default_network is None:
            return make_engine(None, mode=mode)
        from pointplan.data import DATASETS, data_file

        default = settings.default_network
        path = data_file(default) if default in DATASETS else Path(default)
        return make_hybrid_engine(path, mode=mode)
    if _keyword(network):
        return make_engine(None, mode=mode)
    return make_hybrid_engine(network, mode=mode)


def _check_output_folder(out: Path, inputs: Sequence[str | Path] = ()) -> None:
    """Refuse an output folder that is an input file, a file, or inside a file."""
    for inp in inputs:
        if Path(inp).expanduser().resolve() == out.expanduser().resolve():
            msg = f"--out {out} is one of the input files; writing there would destroy it. Choose another --out folder."
            raise OutputError(msg)
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file, not a folder. Choose a folder for the outputs."
        raise OutputError(msg)


def _check_run_arguments(
    mode: str | None,
    add: int,
    max_minutes: float | None,
    max_distance_m: float | None,
    demand_cell_m: float | None,
) -> None:
    """Validate the numeric arguments of :func:`run` before any long computation."""
    from pointplan._validate import check_number

    if mode is not None and mode not in ("walk", "bike", "motorbike", "car"):
        msg = f"mode must be one of walk, bike, motorbike, car; got {mode!r}."
        raise InputError(msg)
    if isinstance(add, bool) or not isinstance(add, int) or add < 0:
        msg = f"add (points to propose) must be a whole number >= 0, got {add!r}."
        raise InputError(msg)
    check_number(max_minutes, "max_minutes (--max-minutes)", minimum=0, strict=True, allow_none=True)
    check_number(max_distance_m, "max_distance_m (--max-km)", minimum=0, allow_none=True)
    check_number(demand_cell_m, "demand_cell_m (--demand-cell-m)", minimum=0, strict=True, allow_none=True)
