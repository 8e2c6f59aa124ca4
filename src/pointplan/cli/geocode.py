"""``pointplan geocode``: addresses to checked, reviewable coordinates (``--out``, ``--apply``)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from pointplan import settings
from pointplan._errors import OfflineError
from pointplan.cli._common import _print
from pointplan.cli.codes import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger("pointplan")


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


def add_geocode_subcommand(sub: argparse._SubParsersAction) -> None:
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
