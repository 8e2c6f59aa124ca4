"""``pointplan staff``: the queue at each point, officials needed, and the online what-if.

Registered by :func:`pointplan.cli.build_parser` (see :func:`add_staff_subcommand`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from pointplan._errors import InputError

__all__ = ["add_staff_subcommand", "cmd_staff"]

#: Points listed on screen (the longest P90 wait at the peak first); ``--out`` has them all.
SHOWN = 20


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _fmt(x: Any, spec: str = ".1f", missing: str = "—") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return missing
    return format(v, spec) if math.isfinite(v) else missing


def _in_person(online_share: float | None) -> float | None:
    if online_share is None:
        return None
    if not 0.0 <= online_share <= 1.0:
        msg = f"--online-share must be between 0 and 1 (e.g. 0.6 for 60 % online), got {online_share!r}."
        raise InputError(msg)
    return 1.0 - online_share


def _profile(args: argparse.Namespace) -> Any:
    if not args.dossiers:
        return None
    from pointplan.staffing.profiles import profile_from_records

    path = Path(args.dossiers).expanduser()
    if not path.is_file():
        msg = f"--dossiers {path} does not exist. Give a CSV with a '{args.timestamp_col}' column."
        raise InputError(msg)
    return profile_from_records(pd.read_csv(path, dtype=str, encoding="utf-8-sig"), args.timestamp_col)


def _plan_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "target_p90_min": args.target_p90,
        "service_minutes": args.service_minutes,
        "allocation": args.allocation,
        "profile": _profile(args),
    }


def _print_points(t: pd.DataFrame) -> None:
    t = t.assign(_over=t["queue_status"].eq("overloaded at the peak"))
    t = t.sort_values(["_over", "wait_p90_min_peak"], ascending=False, na_position="first")
    _print(
        f"{'point':<10s} {'visits/d':>8s} {'peak/h':>6s} {'ctr':>3s} {'P90 now':>8s} {'need':>4s} {'rec':>3s} "
        f"{'P90 rec':>8s}"
    )
    for pid, r in t.head(SHOWN).iterrows():
        now = "overload" if r["_over"] else _fmt(r["wait_p90_min_peak"])
        after = "overload" if r["queue_status_recommended"] != "ok" and r["visits_per_day"] > 0 else None
        _print(
            f"{str(pid)[:10]:<10s} {r['visits_per_day']:8.1f} {r['arrivals_per_hour_peak']:6.2f} "
            f"{int(r['counters_assumed']):3d} {now:>8s} {int(r['counters_needed']):4d} "
            f"{int(r['counters_recommended']):3d} {after or _fmt(r['wait_p90_min_peak_recommended']):>8s}"
        )
    if len(t) > SHOWN:
        _print(f"… {len(t) - SHOWN} more points (all in --out)")


def cmd_staff(args: argparse.Namespace) -> int:
    """Run ``pointplan staff``: print the plan and the what-if; write ``--out`` if given.

    Parameters
    ----------
    args
        The parsed ``pointplan staff`` arguments (see :func:`add_staff_subcommand`).

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    InputError
        For an impossible option value (negative officials, service minutes not above 0…).

    Examples
    --------
    >>> from pointplan.cli import build_parser
    >>> cmd_staff(build_parser().parse_args(["staff", "--officials", "-5"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: --officials must be a whole number >= 0, got -5.
    """
    from pointplan import settings
    from pointplan.cli._common import _assess_cli
    from pointplan.demand import IN_PERSON_SHARE
    from pointplan.io import check_output_path, write_table
    from pointplan.staffing.plan import DEFAULT_IN_PERSON_SHARES, online_whatif, staffing_plan

    if getattr(args, "allow_downloads", False):
        settings.allow_downloads = True
    share = _in_person(args.online_share)
    if args.officials is not None and args.officials < 0:
        msg = f"--officials must be a whole number >= 0, got {args.officials}."
        raise InputError(msg)
    if not (args.service_minutes > 0 and math.isfinite(args.service_minutes)):
        msg = f"--service-minutes must be > 0 (minutes per dossier), got {args.service_minutes}."
        raise InputError(msg)
    if not (args.target_p90 >= 0 and math.isfinite(args.target_p90)):
        msg = f"--target-p90 must be >= 0 minutes, got {args.target_p90}."
        raise InputError(msg)
    if args.out:
        check_output_path(Path(args.out).expanduser(), [p for p in (args.points, args.dossiers) if p])
    kw = _plan_kwargs(args)
    a = _assess_cli(args)
    plan = staffing_plan(a, args.officials, objective=args.objective, in_person_share=share, **kw)
    s = plan.summary
    shown = IN_PERSON_SHARE if share is None else share
    _print(
        f"Cán bộ / officials: assumed {s['officials_assumed']}, needed {s['officials_needed']} "
        f"(P90 wait at the peak ≤ {args.target_p90:g} min), recommended {s['officials_recommended']}"
        + ("" if args.officials is None else f" of {args.officials} ({s['officials_spare']} spare)")
    )
    _print(
        f"In person {100 * shown:.1f} %: largest P90 wait at the peak {_fmt(s['wait_p90_min_peak_max'])} min now, "
        f"{_fmt(s['wait_p90_min_peak_max_recommended'])} min as recommended; overloaded at the peak: "
        f"{s['points_overloaded_at_peak']} now, {s['points_overloaded_at_peak_recommended']} as recommended"
    )
    _print()
    _print_points(plan.points)
    shares = sorted({*DEFAULT_IN_PERSON_SHARES, round(shown, 4)}, reverse=True)
    w = online_whatif(a, shares, **kw).totals
    _print()
    _print("What-if / nếu chuyển trực tuyến (officials freed against today's 40.05 % in person):")
    _print(
        f"{'in person':>9s} {'visits/d':>9s} {'needed':>6s} {'freed':>5s} {'spare':>5s} {'P90 max':>8s} {'overl.':>6s}"
    )
    for sh, r in w.iterrows():
        _print(
            f"{100 * float(sh):8.1f}% {r['visits_per_day']:9.0f} {int(r['officials_needed']):6d} "
            f"{int(r['officials_freed']):5d} {int(r['officials_spare']):5d} {_fmt(r['wait_p90_min_peak_max']):>8s} "
            f"{int(r['points_overloaded_at_peak']):6d}"
        )
    if args.out:
        path = write_table(plan.points.rename_axis("point_id").round(4), Path(args.out).expanduser(), index=True)
        _print(f"\nplan written to {path}")
    return 0


def add_staff_subcommand(sub: argparse._SubParsersAction) -> None:
    """Add ``staff`` to the ``pointplan`` parser.

    Parameters
    ----------
    sub
        The sub-parsers of the ``pointplan`` parser (``parser.add_subparsers()``).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="pointplan")
    >>> add_staff_subcommand(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["staff", "--online-share", "0.6"])
    >>> args.online_share, args.target_p90, args.func is cmd_staff
    (0.6, 15.0, True)
    """
    from pointplan.cli._common import _common
    from pointplan.staffing.allocate import TARGET_P90_MIN
    from pointplan.staffing.profiles import DEFAULT_SERVICE_MINUTES

    p = sub.add_parser("staff", help="queues at the peak, officials needed, and what the online target frees")
    _common(p)
    p.add_argument("--officials", type=int, default=None, help="officials to place city-wide (one per counter)")
    p.add_argument("--online-share", type=float, default=None, help="share filed online, e.g. 0.6 (default today's)")
    p.add_argument("--objective", choices=("wait", "target"), default="wait", help="with --officials (default wait)")
    p.add_argument(
        "--target-p90", type=float, default=TARGET_P90_MIN, help="P90 wait at the peak, minutes (default 15)"
    )
    p.add_argument(
        "--service-minutes", type=float, default=DEFAULT_SERVICE_MINUTES, help="minutes per dossier (default 15)"
    )
    p.add_argument("--allocation", choices=("nearest", "huff"), default="nearest", help="which load to queue")
    p.add_argument("--dossiers", help="dossier records CSV with timestamps: replaces the default arrival profile")
    p.add_argument("--timestamp-col", default="received_at", help="timestamp column of --dossiers")
    p.add_argument("--out", help="write the per-point plan (.csv or .xlsx)")
    p.set_defaults(func=cmd_staff)
