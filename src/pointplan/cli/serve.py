"""``pointplan serve``: the scenario editor in the browser (see :mod:`pointplan.serve`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pointplan._errors import InputError
from pointplan.cli._common import _common, _int_arg, _print

if TYPE_CHECKING:
    from pointplan.workflow.config import Mode

__all__ = ["add_parser", "cmd_serve"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``serve`` sub-command to the ``pointplan`` command's sub-parsers.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The sub-command's parser (its ``func`` is :func:`cmd_serve`).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pointplan")
    >>> p = add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["serve", "--port", "9000"])
    >>> args.port, args.host, args.func is cmd_serve
    (9000, '127.0.0.1', True)
    """
    p = subparsers.add_parser(
        "serve",
        help="the scenario editor in the browser: drag a point, see the city's figures move",
        description="Start a local web application to edit a scenario: move, add and close points, change "
        "counters and the travel mode, ask for proposals, undo and redo; the figures follow each change. "
        "Each browser session is saved in --state-dir after every change.",
    )
    _common(p)
    if "--province" not in p._option_string_actions:
        p.add_argument("--province", help="province (name or code; default Hà Nội)")
    p.add_argument("--port", type=_int_arg("--port"), default=8765, help="port (default 8765)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs the token)"
    )
    p.add_argument("--state-dir", default="pointplan-sessions", help="folder of the saved sessions")
    p.add_argument("--token", help="the token to require (default: generated when --host is not loopback)")
    p.add_argument(
        "--draws", type=_int_arg("--draws"), default=20, help="draws behind the intervals (default 20; 0 = none)"
    )
    p.add_argument("--no-details", action="store_true", help="skip walking share and travel + wait (faster)")
    p.set_defaults(func=cmd_serve)
    return p


def _config(args: argparse.Namespace) -> Any:
    """Load the starting scenario's inputs and return the editor's configuration.

    The units, points, demand and engine are those of ``pointplan run`` with the same options
    (its load, demand and engine steps), so a scenario saved in the editor gives the same
    figures through ``pointplan run --points``; ``--province`` opens another province.
    """
    from pointplan.serve import ServeConfig
    from pointplan.workflow import RunConfig, RunState
    from pointplan.workflow.steps import demand_step, engine_step, load_step

    if not 0 < args.port < 65536:
        msg = f"--port must be between 1 and 65535, got {args.port}."
        raise InputError(msg)
    if args.draws < 0:
        msg = f"--draws must be ≥ 0, got {args.draws}."
        raise InputError(msg)
    if args.points and not Path(args.points).expanduser().is_file():
        msg = f"Input file {args.points} does not exist (or is a folder). Check the path."
        raise InputError(msg)
    mode = args.mode or "motorbike"
    province = getattr(args, "province", None)
    run = RunConfig(
        Path(args.state_dir).expanduser(), points=args.points, scenario=args.scenario, mode=cast("Mode", mode),
        network=args.network, demand_cell_m=args.demand_cell_m, province=province, uncertainty=False,
    )  # fmt: skip
    state = engine_step(run, demand_step(run, load_step(run, RunState())))
    kw: dict[str, Any] = {}
    if args.max_minutes is not None:
        kw["max_minutes"] = args.max_minutes
    if args.max_km is not None:
        kw["max_distance_m"] = args.max_km * 1000
    title = "Hà Nội" if province is None else str(province)
    return ServeConfig(
        state.units, state.points, state.demand, state.engine, mode=mode,
        state_dir=Path(args.state_dir).expanduser(), token=args.token, draws=args.draws,
        details=not args.no_details, assess_kwargs=kw, title=title,
    )  # fmt: skip


def cmd_serve(args: argparse.Namespace) -> int:
    """Run ``pointplan serve``: load the scenario, print the address, serve until interrupted.

    Parameters
    ----------
    args
        The parsed options (see :func:`add_parser`).

    Returns
    -------
    int
        0 when the server stops (Ctrl+C).

    Examples
    --------
    >>> ns = argparse.Namespace(port=0, draws=0, points=None)
    >>> try:
    ...     cmd_serve(ns)
    ... except InputError as e:
    ...     print(e)
    --port must be between 1 and 65535, got 0.
    """
    from pointplan.serve import serve

    config = _config(args)
    _print("pointplan serve: the starting scenario is being assessed…")
    lang = getattr(args, "lang", "vi")

    def announce(url: str) -> None:
        if lang == "en":
            url += ("&" if "?" in url else "?") + "lang=en"
        _print(f"pointplan serve: open {url}  (Ctrl+C to stop; sessions saved in {config.state_dir})")

    serve(config, host=args.host, port=args.port, announce=announce)
    return 0
