"""Build hook: ship the reference data inside the wheel.

The repository keeps the data in ``data/`` (one copy, with sources and licences). A built
wheel (``pip install .``, ``python -m build``) carries it as ``pointplan/_data`` so that an
installed pointplan runs with nothing beside it. An editable install reads ``data/`` in the
checkout directly, so nothing is copied there. Everything else is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
#: Data sub-folders that ship (the README beside them ships too).
SHIPPED = ("hanoi", "vietnam", "population", "osm", "poi", "transit")


class BuildPyWithData(build_py):
    """Copy ``data/`` into ``pointplan/_data`` of the build (not for editable installs)."""

    def run(self) -> None:
        """Build as usual, then copy the data."""
        super().run()
        if getattr(self, "editable_mode", False) or not DATA.is_dir():
            return
        target = Path(self.build_lib) / "pointplan" / "_data"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in SHIPPED:
            if (DATA / name).is_dir():
                shutil.copytree(DATA / name, target / name)
        for prose in ("README.md",):
            if (DATA / prose).is_file():
                shutil.copy2(DATA / prose, target / prose)


setup(cmdclass={"build_py": BuildPyWithData})
