"""Moved: the ``pointplan staff`` command lives in :mod:`pointplan.cli.staff` (kept importable here)."""

from pointplan.cli.staff import add_staff_subcommand, cmd_staff

__all__ = ["add_staff_subcommand", "cmd_staff"]
