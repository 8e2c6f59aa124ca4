"""``pointplan sweep``: every province's planning on Dask, and the national tables, map and report."""

from __future__ import annotations

import argparse

from pointplan.cli._common import _print
from pointplan.cli.codes import EXIT_FINDINGS, EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``sweep`` to the ``pointplan`` parser.

    Parameters
    ----------
    sub
        The sub-parsers of the ``pointplan`` parser (``parser.add_subparsers()``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pointplan")
    >>> add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["sweep", "--provinces", "all", "--out", "vn", "--workers", "2"])
    >>> args.provinces, args.out, args.workers, args.draws, args.func is cmd_sweep
    ('all', 'vn', 2, 20, True)
    """
    from pointplan.sweep import DEFAULT_MEMORY_LIMIT, SweepOptions

    defaults = SweepOptions()
    p = sub.add_parser(
        "sweep",
        help="run every province (or some) on Dask; national tables, map and report",
        description="Run pointplan's whole job for each province (one Dask task each) into "
        "OUT/provinces/<code>/, then write OUT/national_units.csv, national_provinces.csv, "
        "national_map.html and national_report.html. A rerun skips the provinces already complete.",
    )
    p.add_argument("--provinces", default="all", help="'all' or codes / names, comma-separated (e.g. 12,46,thanh-hoa)")
    p.add_argument("--out", required=True, help="output folder")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="workers of a local Dask cluster (default 1)")
    where.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (tcp://host:8786)")
    p.add_argument(
        "--memory-limit", default=DEFAULT_MEMORY_LIMIT, help=f"memory per local worker (default {DEFAULT_MEMORY_LIMIT})"
    )
    p.add_argument(
        "--draws",
        type=int,
        default=defaults.draws,
        help=f"Monte Carlo draws per province (0: none; default {defaults.draws})",
    )
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed of the draws")
    p.add_argument("--mode", choices=("walk", "bike", "motorbike", "car"), default=defaults.mode, help="travel mode")
    p.add_argument("--max-minutes", type=float, default=defaults.max_minutes, help="standard: minutes (default 30)")
    p.add_argument("--max-km", type=float, default=defaults.max_distance_m / 1000, help="standard: km (default 5)")
    p.add_argument(
        "--add",
        type=int,
        default=defaults.add,
        help="points each province's run proposes (default 0: the table needs only the LSCP count)",
    )
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep; exit 1 when a province failed (the others are complete).

    Examples
    --------
    >>> import tempfile
    >>> parser = argparse.ArgumentParser(prog="pointplan")
    >>> add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["sweep", "--provinces", "Atlantis", "--out", tempfile.mkdtemp()])
    >>> cmd_sweep(args)
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: Unknown province 'Atlantis'. ...
    """
    from pointplan.sweep import SweepOptions, check_codes, sweep

    codes = check_codes(args.provinces)  # unknown names fail before any cluster starts
    options = SweepOptions(
        draws=args.draws,
        seed=args.seed,
        mode=args.mode,
        max_minutes=args.max_minutes,
        max_distance_m=args.max_km * 1000,
        add=args.add,
    )
    result = sweep(
        args.out,
        codes,
        options=options,
        workers=args.workers,
        scheduler=args.scheduler,
        memory_limit=args.memory_limit,
    )
    table = result.provinces
    ok = table[table["status"] == "ok"]
    _print(
        f"{len(ok)} of {len(table)} provinces complete ({len(result.skipped)} resumed) in {result.seconds:.0f} s; "
        f"{ok['population_beyond_standard'].sum():,.0f} people beyond the standard; "
        f"{ok['lscp_points_needed'].sum():,.0f} points needed (exact LSCP)."
    )
    for row in table[table["status"] != "ok"].itertuples():
        _print(f"  failed: {row.province_code} {row.province_name}: {row.error}")
    for name, path in result.paths.items():
        _print(f"  {name}: {path}")
    return EXIT_FINDINGS if result.failed else EXIT_OK
