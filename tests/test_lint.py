"""The code stays clean: ruff (lint and format) on everything, mypy on the library."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    path = str(exe) if exe.exists() else shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return path


def test_ruff_lint_and_format() -> None:
    ruff = _tool("ruff")
    for args in (["check", "src", "tests", "benchmarks"], ["format", "--check", "src", "tests", "benchmarks"]):
        res = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.slow
def test_mypy_on_the_library() -> None:
    mypy = _tool("mypy")
    res = subprocess.run([mypy, "src/pointplan"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
