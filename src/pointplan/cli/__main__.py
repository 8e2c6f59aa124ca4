"""``python -m pointplan.cli``: the same as the ``pointplan`` command."""

from pointplan.cli import command

command()
