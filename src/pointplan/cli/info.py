"""``pointplan info``: the data found, each dataset's source and licence, how points were located."""

from __future__ import annotations

import argparse

from pointplan import __version__, settings
from pointplan.cli._common import _print
from pointplan.cli.codes import EXIT_DATA, EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    """Print the data folders, each dataset's status and the located/missing sites."""
    if getattr(args, "province", None):
        from pointplan.cli.provinces import print_province

        return print_province(args.province)
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
    from pointplan.cli.roads import roads_summary

    _print(roads_summary())
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
