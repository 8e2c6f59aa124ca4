"""The ``pointplan`` command line.

Sub-commands: ``info`` (what data was found), ``geocode`` (head-office and branch addresses
to checked, reviewable coordinates), ``check`` (the rules), ``assess`` (coverage, access and
load tables), ``propose`` (new points), ``map`` (interactive map), ``staff`` (queues at the
peak, officials needed, the online what-if) and ``run`` (everything, into one output
folder). Exit codes: 0 success, 1 a finding of severity
"error" with ``check --strict``, 2 a usage or input error (with a message, never a
traceback), 3 missing or corrupt reference data, 4 an internal error (a bug: rerun with
``-v`` for the traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pointplan import __version__, settings
from pointplan._errors import DataIntegrityError, DataNotFoundError, OfflineError, PointplanError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130

logger = logging.getLogger("pointplan")


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def cmd_info(args: argparse.Namespace) -> int:
    """Print the data folders, each dataset's status and the located/missing sites."""
    from pointplan.data import data_dirs, data_status
    from pointplan.points import SCENARIOS, branch_report, load_points

    _print(f"pointplan {__version__}")
    _print("Data folders searched (first match wins):")
    for d in data_dirs():
        _print(f"  {'✓' if d.is_dir() else '·'} {d}")
    st = data_status()
    _print("\nReference datasets:")
    for row in st.itertuples():
        flag = {"ok": "OK     ", "missing": "MISSING", "corrupt": "CORRUPT"}[row.status]
        need = "" if row.required else " (optional)"
        where = row.path or row.detail
        _print(f"  [{flag}] {row.relpath}{need} — {row.title}")
        _print(f"            source: {row.source} ({row.date}); licence: {row.licence}")
        _print(f"            found at: {where}")
    missing_required = st[(st["status"] != "ok") & st["required"]]
    if len(missing_required):
        _print(
            "\nRequired data is missing or corrupt. The data ships with pointplan: restore the "
            "checkout's data/ folder or reinstall pointplan, or set POINTPLAN_DATA_DIR to a folder "
            "holding hanoi/, population/ and osm/ (see data/README.md)."
        )
        return EXIT_DATA
    pts = load_points(args.scenario)
    if getattr(args, "points", None):
        from pointplan.points import read_points

        pts = read_points(args.points)
    br = branch_report()
    _print(f"\nScenario {args.scenario!r}: {SCENARIOS[args.scenario]}")
    _print(f"  points: {len(pts)} — " + ", ".join(f"{k} {v}" for k, v in pts["kind"].value_counts().items()))
    _print(f"  branches: {int(br['located'].sum())} of {settings.branches_expected} located")
    for row in br.itertuples():
        state = f"located ({row.location_precision})" if row.located else "missing: address not published"
        _print(f"    {row.point_id} {state}")
    prec = pts["location_precision"].value_counts()
    _print("  location precision: " + ", ".join(f"{k} {v}" for k, v in prec.items()))
    _print(_located_line(pts["location_precision"], args))
    if pts.attrs.get("missing_sites"):
        _print("  sites not placed (no published address): " + ", ".join(pts.attrs["missing_sites"]))
    _print(
        "\nNot available offline: head-office and branch coordinates (stand-ins are used and "
        "flagged), a city-wide road network (travel times fall back to straight-line × "
        "circuity), per-unit dossier counts (city averages are spread by population)."
    )
    return EXIT_OK


def _located_line(precision: object, args: argparse.Namespace) -> str:
    """One line: how many points are geocoded, reviewed, surveyed or stand-ins."""
    import pandas as pd

    from pointplan.points import is_stand_in

    prec = pd.Series(precision)
    counts = {k: int((prec == k).sum()) for k in ("geocoded", "reviewed", "surveyed")}
    where = f"points file {args.points}" if getattr(args, "points", None) else "scenario"
    return (
        f"  located ({where}): geocoded {counts['geocoded']}, reviewed {counts['reviewed']}, "
        f"surveyed {counts['surveyed']}, stand-ins {int(is_stand_in(prec).sum())} of {len(prec)}"
    )


def cmd_geocode(args: argparse.Namespace) -> int:
    """Geocode the addresses into a review file (--out), or apply a reviewed file (--apply)."""
    from pathlib import Path

    from pointplan import geocode as gc
    from pointplan.data import load_units
    from pointplan.points import read_points

    if args.allow_downloads:
        settings.allow_downloads = True
    if args.service_url:
        gc.NominatimClient(args.service_url)  # refuses a URL that is not http(s)
        settings.geocode_service_url = args.service_url
    units = load_units()
    points = read_points(args.points, units=units) if args.points else None
    if args.apply:
        return _geocode_apply(args, points, units)
    out = Path(args.out)
    addresses = gc.address_list(args.scenario, points=points, post_offices=args.post_offices, units=units)
    if out.is_file():  # a person's reviewed rows are never geocoded again
        done = gc.read_review(out)
        done_ids = set(done.loc[done["reviewed"].map(gc.is_reviewed), "point_id"])
        addresses = addresses[~addresses["point_id"].isin(done_ids)]
    table = gc.geocode_addresses(addresses, units=units)
    counts = table.attrs["geocoding"]
    answered = sum(counts[s] for s in ("accepted", "rejected", "no_match"))
    if counts["offline"] and not answered:
        msg = (
            f"{counts['offline']} addresses are not in the geocoding cache ({gc.cache_path()}) and pointplan "
            "is offline: nothing to review. Run again with --allow-downloads on a machine with internet."
        )
        raise OfflineError(msg)
    written = gc.write_review(table, out, inputs=tuple(p for p in (args.points,) if p))
    _print(f"Wrote {out} ({len(written)} addresses, {written.attrs['kept_reviewed']} reviewed rows kept).")
    _print("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if counts["offline"]:
        logger.warning(
            "%d addresses were not in the cache and pointplan is offline; rerun with --allow-downloads.",
            counts["offline"],
        )
    _print("Review it: mark 'reviewed' (yes/x), change 'chosen' or type lon/lat; then `pointplan geocode --apply`.")
    return EXIT_OK


def _geocode_apply(args: argparse.Namespace, points: gpd.GeoDataFrame | None, units: gpd.GeoDataFrame) -> int:
    """Apply a reviewed file; write the points; report failing rows by line."""
    from pathlib import Path

    from pointplan import geocode as gc

    review = Path(args.apply)
    pts = gc.apply_review(review, points, units=units, scenario=args.scenario)
    out = Path(args.points_out) if args.points_out else review.with_name(f"{review.stem}_points.csv")
    gc.write_points_csv(pts, out, inputs=tuple(Path(p) for p in (args.apply, args.points) if p))
    rep = pts.attrs["review"]
    _print(
        f"Wrote {out}: {len(rep['applied'])} points moved to reviewed coordinates; {rep['not_marked']} rows "
        f"not marked reviewed were left alone; {rep['not_points']} post-office rows are not service points; "
        f"{len(rep['problems'])} rows failed their check."
    )
    for p in rep["problems"]:
        sys.stderr.write(f"pointplan: {review.name} line {p['line']} ({p['point_id']}): {p['problem']}; not applied\n")
    if rep["problems"]:
        return EXIT_FINDINGS
    return EXIT_OK


def _add_geocode(sub: argparse._SubParsersAction) -> None:
    """Add the ``geocode`` sub-command."""
    p = sub.add_parser(
        "geocode",
        help="geocode head offices and branches into a review file, or apply a reviewed file",
        description=(
            "--out review.csv: geocode every address (checked against its unit) into a CSV to review "
            "in Excel; --apply review.csv: move the points of the rows marked reviewed."
        ),
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", help="review file to write (CSV, UTF-8 with BOM); reviewed rows in it are kept")
    mode.add_argument("--apply", help="reviewed file to apply to the points")
    p.add_argument("--scenario", default="hanoi-2025", help="scenario whose points to geocode or update")
    p.add_argument("--points", help="your points file instead of the scenario")
    p.add_argument("--post-offices", action="store_true", help="also geocode the pre-2025 post offices")
    p.add_argument("--points-out", help="with --apply: points CSV to write (default <review>_points.csv)")
    p.add_argument("--service-url", help="Nominatim service (default settings.geocode_service_url)")
    p.add_argument("--allow-downloads", action="store_true", help="ask the service (else: cache only)")
    p.set_defaults(func=cmd_geocode)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``pointplan`` command."""
    parser = argparse.ArgumentParser(
        prog="pointplan",
        description="Plan Hanoi's public administrative service points (Điểm Phục vụ hành chính công).",
    )
    parser.add_argument("--version", action="version", version=f"pointplan {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("--data-dir", help="folder with the reference data (else POINTPLAN_DATA_DIR, ...)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_info = sub.add_parser("info", help="what data was found, where, and what is missing")
    p_info.add_argument("--scenario", default="hanoi-2025", help="scenario to describe")
    p_info.add_argument("--points", help="also count how your points file's points were located")
    p_info.set_defaults(func=cmd_info)
    _add_geocode(sub)
    _extend(sub)
    _extend_staff(sub)
    return parser


def _extend_staff(sub: argparse._SubParsersAction) -> None:
    """Add ``staff`` (queues and officials, :mod:`pointplan.staffing`)."""
    from pointplan.staffing.cli import add_staff_subcommand

    add_staff_subcommand(sub)


def _extend(sub: argparse._SubParsersAction) -> None:
    """Add the analysis sub-commands (defined in :mod:`pointplan.workflow`)."""
    try:
        from pointplan.workflow import add_subcommands
    except ImportError:  # pragma: no cover - during development only
        return
    add_subcommands(sub)


def _show_warnings_plainly(quiet: bool) -> None:
    """Print each distinct pointplan warning once as one line (no file and line numbers)."""
    seen: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        text = str(message)
        if quiet or text in seen:
            return
        seen.add(text)
        sys.stderr.write(f"pointplan: warning: {text}\n")

    warnings.showwarning = show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else (logging.DEBUG if args.verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [h for h in logger.handlers if isinstance(h, logging.NullHandler)] + [handler]
    logger.setLevel(level)
    logger.propagate = False
    settings.progress = not args.quiet and sys.stderr.isatty()
    if args.data_dir:
        from pathlib import Path

        data_dir = Path(args.data_dir).expanduser()
        if not data_dir.is_dir():
            sys.stderr.write(
                f"pointplan: data problem: --data-dir {data_dir} does not exist or is not a "
                "folder. Give the folder that holds 'hanoi/', 'population/' and 'osm/' (see "
                "data/README.md), or leave --data-dir out to use the default places.\n"
            )
            return EXIT_DATA
        settings.data_dir = data_dir
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        with warnings.catch_warnings():
            # The command line shows every warning, once, as one plain line.
            warnings.simplefilter("always")
            _show_warnings_plainly(args.quiet)
            return func(args)
    except (DataNotFoundError, DataIntegrityError) as exc:
        sys.stderr.write(f"pointplan: data problem: {exc}\n")
        return EXIT_DATA
    except PointplanError as exc:
        sys.stderr.write(f"pointplan: error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        sys.stderr.write(f"pointplan: cannot read or write a file: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write(
            "pointplan: interrupted; no output was changed: the previous outputs (if any) are as they were\n"
        )
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug, not a user mistake: short message, traceback on -v
        if args.verbose:
            raise
        sys.stderr.write(
            f"pointplan: unexpected internal error ({type(exc).__name__}: {exc}). "
            "Run again with -v to see the traceback and report it.\n"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
