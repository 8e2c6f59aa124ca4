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
from typing import Any

from pointplan import __version__, settings
from pointplan._errors import DataIntegrityError, DataNotFoundError, PointplanError
from pointplan.cli.analysis import add_subcommands
from pointplan.cli.codes import (
    EXIT_DATA,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)
from pointplan.cli.geocode import add_geocode_subcommand, cmd_geocode
from pointplan.cli.info import cmd_info
from pointplan.cli.roads import add_parser as add_roads_subcommand
from pointplan.cli.serve import add_parser as add_serve_subcommand
from pointplan.cli.staff import add_staff_subcommand
from pointplan.cli.sweep import add_parser as add_sweep_subcommand

__all__ = [
    "EXIT_DATA",
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "cmd_geocode",
    "cmd_info",
    "command",
    "main",
]

logger = logging.getLogger("pointplan")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``pointplan`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser with every sub-command; each sets ``func``, the function that runs it.

    Examples
    --------
    >>> args = build_parser().parse_args(["run", "--out", "out", "--mode", "motorbike"])
    >>> args.command, args.out, args.mode, args.lang
    ('run', 'out', 'motorbike', 'vi')
    """
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
    p_info.add_argument("--province", help="a province's units and populations (code or name; 'list': all 34)")
    p_info.set_defaults(func=cmd_info)
    add_geocode_subcommand(sub)
    add_subcommands(sub)
    add_staff_subcommand(sub)
    add_sweep_subcommand(sub)
    add_roads_subcommand(sub)
    add_serve_subcommand(sub)
    return parser


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


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Write to the ``sys.stderr`` of the moment (not the one at creation, which a caller may close)."""

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ sets it: ignored
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv
        The arguments after ``pointplan`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: :data:`EXIT_OK`, :data:`EXIT_FINDINGS`, :data:`EXIT_USAGE`,
        :data:`EXIT_DATA`, :data:`EXIT_INTERNAL` or :data:`EXIT_INTERRUPTED`. Errors are
        reported on standard error as one plain line, never a traceback (unless ``-v``).

    Examples
    --------
    >>> main(["staff", "--service-minutes", "0"]) == EXIT_USAGE  # a bad value: message, code 2
    True
    >>> main(["--data-dir", "/no/such/folder", "info"]) == EXIT_DATA
    True
    """
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        return _main(argv)
    finally:  # the library's logging as it was (a caller's own handlers, pytest's caplog)
        logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def command() -> None:
    """Run the ``pointplan`` command and end the process at once (the console script).

    :func:`main` does the work; then the outputs are flushed, any child process left is
    ended, and the process exits without tearing down the interpreter's objects one by one
    (freeing a run's hundreds of MB of small objects took about 0.8 s after the run was done).
    Every file was already written and closed by then; nothing is lost.

    Examples
    --------
    >>> import subprocess, sys
    >>> code = "import sys; sys.argv = ['pointplan', '--version']; from pointplan.cli import command; command()"
    >>> subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.startswith("pointplan")
    True
    """
    import multiprocessing
    import os

    code = EXIT_INTERNAL
    try:
        code = main()
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    finally:
        for child in multiprocessing.active_children():
            child.terminate()
            child.join(timeout=5)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _main(argv: Sequence[str] | None) -> int:
    """Run the command line (see :func:`main`); leaves the ``pointplan`` logger configured."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else (logging.DEBUG if args.verbose else logging.INFO)
    handler = _StderrHandler()
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
