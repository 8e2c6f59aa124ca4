"""The analysis sub-commands: ``run``, ``check``, ``assess``, ``propose`` and ``map``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pointplan.cli._common import (
    _assess_cli,
    _check_cli_output,
    _cli_inputs,
    _common,
    _in_units,
    _load_for_cli,
    _print,
    _uncertainty_options,
    _where_options,
    _with_downloads,
)
from pointplan.locate import propose_points
from pointplan.report.run_tables import run_points_table
from pointplan.report.summary_json import sites_report_table, summary_json
from pointplan.workflow import CANDIDATE_SITES, DEFAULT_ADD, MAP_METRICS, RunConfig, run
from pointplan.workflow.config import METHODS, OBJECTIVES

if TYPE_CHECKING:
    from pointplan.locate import Proposal


def run_config(args: argparse.Namespace) -> RunConfig:
    """Return the :class:`~pointplan.workflow.RunConfig` of ``pointplan run``'s options (checked).

    Examples
    --------
    >>> from pointplan.cli import build_parser
    >>> args = build_parser().parse_args(["run", "--out", "o", "--max-km", "4", "--units", "70,71"])
    >>> c = run_config(args)
    >>> c.max_distance_m, c.study_codes, c.uncertainty
    (4000.0, ['00070', '00071'], True)
    """
    return RunConfig(
        args.out,
        points=args.points,
        scenario=args.scenario,
        mode=args.mode,
        network=args.network,
        add=args.add,
        objective=args.objective,
        method=args.method,
        candidates=args.candidates,
        sites=args.sites,
        max_minutes=args.max_minutes,
        max_distance_m=None if args.max_km is None else args.max_km * 1000,
        demand_cell_m=args.demand_cell_m,
        dossiers=args.dossiers,
        offline_map=args.offline_map,
        cdn=args.cdn,
        lang=args.lang,
        geocode=args.geocode,
        map_metric=args.metric,
        study_units=args.units.split(",") if args.units else None,
        max_off_network_share=args.max_off_network,
        uncertainty=not args.no_uncertainty,
        draws=args.draws,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        formats=args.formats,
        add_points=args.add_points,
        propose_in_units=_in_units(args),
        propose_unit_kind=args.unit_kind,
        coverage_rule=args.coverage_rule,
        province=getattr(args, "province", None),
    )


def _cmd_run(args: argparse.Namespace) -> int:
    import json

    config = run_config(args)
    paths = run(config.out_dir, **config.options())

    s = json.loads(paths["summary.json"].read_text(encoding="utf-8"))
    walk = s.get("walk_within_minutes_share")
    walk = s["within_minutes_share_by_mode"].get("walk") if walk is None else walk
    basis = "likely values, P50 of the draws" if s.get("figures_basis") == "monte_carlo_p50" else "at the stand-ins"
    _print(
        f"{s['points']} points, {s['units']} units ({basis}); within the standard "
        f"{100 * s['population_within_standard_share']:.2f} %; mean {s['mean_minutes_to_nearest']:.1f} min "
        f"({s['travel_time_method']}); walking ≤ {s['max_minutes']:g} min "
        f"{100 * (float('nan') if walk is None else walk):.1f} %; "
        f"findings {s['rule_findings']}; {len(s['proposals'])} proposals"
    )
    for name, p in sorted(paths.items()):
        _print(f"  {name:<22s} {p}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from pointplan.assessment import check_rules

    units, pts = _load_for_cli(args)
    f = check_rules(pts, units)
    col = "message" if args.lang == "vi" else "message_en"
    for _, r in f.iterrows():
        _print(f"[{r['severity']:<7s}] {r['rule']}: {r[col]}")
    errors = int((f["severity"] == "error").sum())
    _print(f"{errors} error(s), {int((f['severity'] == 'warning').sum())} warning(s)")
    return 1 if (errors and args.strict) else 0


def _cmd_assess(args: argparse.Namespace) -> int:
    from pointplan.io import staged_folder, write_json, write_table
    from pointplan.report.run_tables import run_units_table

    out = _check_cli_output(args, ("units.csv", "points.csv", "summary.json"))
    a = _assess_cli(args)
    inputs = _cli_inputs(args)
    with staged_folder(out, inputs) as stage:
        write_table(run_units_table(a), stage / "units.csv", inputs=inputs)
        write_table(run_points_table(a), stage / "points.csv", inputs=inputs)
        write_json(stage / "summary.json", summary_json(a, None), inputs=inputs)
    s = a.summary
    _print(
        f"within the standard {100 * s['population_within_standard_share']:.2f} %, mean "
        f"{s['mean_minutes_to_nearest']:.1f} min, p90 {s['p90_minutes_to_nearest']:.1f} min "
        f"({s['travel_time_method']}); tables in {out}"
    )
    return 0


def _print_proposals(prop: Proposal) -> None:
    """Print each proposal with its place and what it costs against the best spot nearby."""
    import pandas as pd

    points = prop.points
    summary = prop.summary
    for _, r in points.iterrows():
        place = f"{r['site_name']} [{r['site_kind']}, {r['location_precision']}] " if r.get("site_name") else ""
        cost = ""
        if "cost_person_minutes" in r:
            cost = (
                f"; vs best spot {r['best_spot_m']:,.0f} m away: {r['cost_person_minutes']:,.0f} person-minutes"
                if pd.notna(r["cost_person_minutes"])
                else "; no unconstrained spot within 3 km"
            )
        _print(
            f"#{int(r['rank'])} {r['candidate_id']} {place}({r['unit_code']}): "
            f"+{r['gain_people_covered']:,.0f} people covered, "
            f"{r['gain_person_minutes_saved']:,.0f} person-minutes saved{cost}"
        )
    if "tradeoff" in summary:
        t = summary["tradeoff"]
        _print(
            f"the chosen sites cost {t['price_person_minutes']:,.0f} person-minutes against the unconstrained "
            f"solution; {t['unconstrained_without_building_1km']} of its picks have no public building within 1 km"
        )


def _cmd_propose(args: argparse.Namespace) -> int:
    from pointplan.data import load_units
    from pointplan.io import atomic_path, write_table
    from pointplan.workflow.steps import check_codes

    out = _check_cli_output(args, ("proposals.geojson", "sites_report.csv"))
    where = RunConfig(
        args.out, propose_in_units=_in_units(args), propose_unit_kind=args.unit_kind, mode=args.mode,
        coverage_rule=args.coverage_rule, uncertainty=False,
    )  # fmt: skip
    check_codes(load_units(), where.proposal_codes, "--in-units")
    a = _assess_cli(args)
    user_cand = None
    if args.candidates:
        from pointplan.locate import read_candidates

        user_cand = read_candidates(args.candidates)
    prop = propose_points(
        a, args.add, objective=args.objective, method=args.method, user_candidates=user_cand, sites=args.sites,
        in_units=where.proposal_codes, unit_kind=where.propose_unit_kind,
        coverage_rule=where.coverage_rule_or_default(),
    )  # fmt: skip
    with atomic_path(out / "proposals.geojson", _cli_inputs(args)) as tmp:
        prop.points.to_file(tmp, driver="GeoJSON", layer="proposals")
    if prop.summary.get("sites_report"):
        write_table(sites_report_table(prop), out / "sites_report.csv", inputs=_cli_inputs(args))
    _print_proposals(prop)
    _print(f"proposals written to {out / 'proposals.geojson'}")
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    from pointplan import maps

    out = _check_cli_output(args)
    a = _assess_cli(args)
    m = maps.assessment_map(a, lang=args.lang, tiles=not args.offline, metric=args.metric)
    path = maps.save_map(m, out, cdn=args.cdn)
    _print(f"map written to {path}")
    return 0


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add ``run``, ``check``, ``assess``, ``propose`` and ``map`` to the CLI parser."""
    p = sub.add_parser("run", help="everything: assessment, proposals, map, tables and report")
    _common(p)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--add", type=int, default=DEFAULT_ADD, help=f"points to propose (default {DEFAULT_ADD}; 0 = none)")
    p.add_argument("--objective", choices=OBJECTIVES, default="pmedian")
    p.add_argument("--method", choices=METHODS, default="greedy+swap")
    p.add_argument("--candidates", help="your candidate sites (CSV lon/lat, GeoJSON, GeoPackage)")
    p.add_argument(
        "--sites",
        choices=CANDIDATE_SITES,
        default="real",
        help="candidate sites: real (named public buildings, default), grid (grid cells) or both",
    )
    p.add_argument("--dossiers", help="dossier records CSV (column 'ward', optional 'district'; old names accepted)")
    p.add_argument("--offline-map", action="store_true", help="also write map_offline.html (no base tiles at all)")
    p.add_argument("--cdn", action="store_true", help="link map.html to Leaflet's CDN (smaller; needs internet)")
    p.add_argument("--geocode", action="store_true", help="geocode stand-in addresses (needs --allow-downloads)")
    p.add_argument(
        "--metric", default=MAP_METRICS[0], help=f"unit metric shown first on the map (default {MAP_METRICS[0]})"
    )
    p.add_argument("--units", help="comma-separated unit codes to study (default: all 126)")
    _where_options(p)
    p.add_argument(
        "--province",
        default=None,
        help="any of the 34 provinces by code or name (38, 'Thanh Hoá', thanh-hoa; default Hà Nội)",
    )
    p.add_argument(
        "--max-off-network",
        type=float,
        default=0.2,
        help="with --network: largest share of people allowed more than 500 m off it (default 0.2)",
    )
    _uncertainty_options(p)
    p.add_argument(
        "--formats",
        default=None,
        help="documents to write, comma-separated from html, docx, xlsx, md (default html,xlsx; "
        "the map and the CSV/JSON/GeoPackage outputs are always written)",
    )
    p.set_defaults(func=_with_downloads(_cmd_run))

    p = sub.add_parser("check", help="check the rules (one point per unit, at least 126, branches)")
    _common(p)
    p.add_argument("--strict", action="store_true", help="exit 1 when a rule is broken")
    p.set_defaults(func=_with_downloads(_cmd_check))  # --no-cache as for the other commands

    p = sub.add_parser("assess", help="coverage, travel times and load tables")
    _common(p)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_with_downloads(_cmd_assess))

    p = sub.add_parser("propose", help="propose new points")
    _common(p)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--add", type=int, default=DEFAULT_ADD)
    p.add_argument("--objective", choices=OBJECTIVES, default="pmedian")
    p.add_argument("--method", choices=METHODS, default="greedy+swap")
    p.add_argument("--candidates", help="your candidate sites")
    p.add_argument(
        "--sites",
        choices=CANDIDATE_SITES,
        default="real",
        help="candidate sites: real (named public buildings, default), grid (grid cells) or both",
    )
    _where_options(p)
    p.set_defaults(func=_with_downloads(_cmd_propose))

    p = sub.add_parser("map", help="write the interactive map")
    _common(p)
    p.add_argument("--out", required=True, help="output HTML file")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--offline", action="store_true", help="no base tiles: nothing is requested from the internet")
    how.add_argument("--cdn", action="store_true", help="link Leaflet from its CDN (smaller file; needs internet)")
    p.add_argument("--metric", default="coverage_share", help="unit metric to colour")
    p.set_defaults(func=_with_downloads(_cmd_map))
