"""Helpers shared by the sub-commands: common options, loading, output checks, printing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pointplan import settings
from pointplan._errors import InputError
from pointplan.workflow import DEFAULT_SEED, RunConfig, check_output_folder, is_network_keyword

if TYPE_CHECKING:
    import geopandas as gpd

    from pointplan.assessment import Assessment


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="compute every travel time afresh and keep none for the next run (see settings.result_cache)",
    )
    p.add_argument("--points", help="your points file (CSV with lon/lat, GeoJSON, GeoPackage): replaces the scenario's")
    p.add_argument(
        "--add-points",
        help="more points (same formats) added to the scenario's or --points' points: kiosks, a second point in a xã",
    )
    p.add_argument(
        "--scenario", default="hanoi-2025", help="built-in scenario (hanoi-2025, hanoi-2025-kiosks, units-only)"
    )
    p.add_argument(
        "--mode", choices=("walk", "bike", "motorbike", "car"), default=None, help="travel mode (default motorbike)"
    )
    p.add_argument(
        "--network",
        help="road network: a file (.osm, .graphml, .pbf, also .gz/.bz2) used for its area with the calibrated "
        "straight-line fallback beyond; 'none' for the fallback everywhere; default: the inner city's roads",
    )
    p.add_argument("--max-minutes", type=float, default=None, help="standard: minutes (default 30)")
    p.add_argument("--max-km", type=float, default=None, help="standard: straight-line km (default 5)")
    p.add_argument(
        "--demand-cell-m",
        type=float,
        default=None,
        help="demand grid cell in metres everywhere (default 250 m where people are dense, 1 km elsewhere)",
    )
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="labels (Vietnamese by default)")
    p.add_argument("--allow-downloads", action="store_true", help="allow osmnx downloads and geocoding")


def _load_for_cli(args: argparse.Namespace) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from pointplan.data import load_units
    from pointplan.points import load_points, read_points
    from pointplan.workflow.steps import add_points

    units = load_units()
    pts = read_points(args.points, units=units) if args.points else load_points(args.scenario, units=units)
    if getattr(args, "add_points", None):
        pts = add_points(pts, read_points(args.add_points, units=units))
    return units, pts


def _where_options(p: argparse.ArgumentParser) -> None:
    """``--in-units`` and ``--unit-kind``: where proposals may go."""
    p.add_argument("--in-units", help="comma-separated unit codes where proposals may go (default: anywhere)")
    p.add_argument("--unit-kind", choices=("xa", "phuong"), default=None, help="proposals only in xã or only in phường")
    p.add_argument(
        "--coverage-rule",
        choices=("time", "time_or_distance"),
        default=None,
        help="who mclp/lscp count as covered: the minutes alone, or minutes or distance "
        "(default: time on foot, time_or_distance otherwise)",
    )


def _in_units(args: argparse.Namespace) -> list[str] | None:
    """Return the ``--in-units`` codes as given (checked later), or None."""
    text = getattr(args, "in_units", None)
    return None if text is None else text.split(",")


def _cli_inputs(args: argparse.Namespace) -> list[str | Path]:
    """Input files named on the command line (never overwritten by an output)."""
    names = ("points", "network", "candidates", "dossiers", "add_points")
    return [getattr(args, n) for n in names if getattr(args, n, None) and not is_network_keyword(getattr(args, n))]


def _check_cli_output(args: argparse.Namespace, files: Sequence[str] = ()) -> Path:
    """Check ``--out`` before any long computation; return it.

    ``files`` are the names written inside the ``--out`` folder; without them ``--out``
    is the output file itself.
    """
    from pointplan.io import check_output_path

    max_m = None if args.max_km is None else args.max_km * 1000
    RunConfig(  # checks the shared options
        args.out,
        mode=args.mode,
        add=0,
        max_minutes=args.max_minutes,
        max_distance_m=max_m,
        demand_cell_m=args.demand_cell_m,
        uncertainty=False,
    )
    out = Path(args.out).expanduser()
    inputs = _cli_inputs(args)
    for inp in inputs:
        if not Path(inp).expanduser().is_file():
            msg = f"Input file {inp} does not exist (or is a folder). Check the path."
            raise InputError(msg)
    if files:
        check_output_folder(out, inputs)
        for name in files:
            check_output_path(out / name, inputs)
    else:
        check_output_path(out, inputs)
    return out


def _assess_cli(args: argparse.Namespace) -> Assessment:
    from pointplan.assessment import assess
    from pointplan.demand import build_demand
    from pointplan.workflow import travel_engine

    units, pts = _load_for_cli(args)

    return assess(
        pts,
        units,
        build_demand(units, cell_m=args.demand_cell_m),
        mode=args.mode,
        engine=travel_engine(args.network, args.mode),
        max_minutes=args.max_minutes,
        max_distance_m=None if args.max_km is None else args.max_km * 1000,
    )


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _uncertainty_options(p: argparse.ArgumentParser) -> None:
    """Options of the Monte Carlo behind the intervals (checked by :func:`run`)."""
    g = p.add_argument_group("uncertainty (intervals beside every headline figure)")
    g.add_argument(
        "--draws",
        type=_int_arg("--draws"),
        default=None,
        help=f"Monte Carlo draws (default {settings.uncertainty_draws})",
    )
    g.add_argument(
        "--seed", type=_int_arg("--seed"), default=DEFAULT_SEED, help=f"seed of the draws (default {DEFAULT_SEED})"
    )
    g.add_argument("--workers", type=_int_arg("--workers"), help="run the draws on a local Dask cluster of N workers")
    g.add_argument("--scheduler", help="run the draws on an existing Dask scheduler (tcp://host:8786)")
    g.add_argument("--no-uncertainty", action="store_true", help="skip the intervals (faster)")


def _int_arg(option: str) -> Callable[[str], int]:
    """Return an argparse type that names the option in its error (``--seed: 'x' is not a whole number``)."""

    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            msg = f"{option}: {text!r} is not a whole number"
            raise argparse.ArgumentTypeError(msg) from None

    return parse


def _with_downloads(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        if getattr(args, "allow_downloads", False):
            settings.allow_downloads = True
        kept = settings.result_cache
        settings.result_cache = kept and not getattr(args, "no_cache", False)
        try:
            return func(args)
        finally:
            settings.result_cache = kept

    return wrapped
