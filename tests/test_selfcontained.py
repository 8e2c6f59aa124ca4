"""A fresh clone or an installed wheel runs on its own: the data ships with the project.

Nothing in the project may read the folder of shared raw data that sits beside a developer's
checkout; these tests prove the loader, the suite and an installed wheel need nothing outside
the project, and that every JSON output is strict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pointplan import data as ppdata
from pointplan.io import strict_json, write_json

ROOT = Path(__file__).resolve().parents[1]
#: The forbidden folder name, built so that this file does not match its own search.
OUTSIDE = "../" + "shared"
_SHOW_WHERE = "import pointplan, pointplan.data as d; print(pointplan.__file__); print(d.data_dirs())"


def _project_text_files() -> list[Path]:
    files: list[Path] = []
    for sub in ("src", "tests", "notebooks", "benchmarks", ".ci", "docs"):
        files += [
            p
            for p in (ROOT / sub).rglob("*")
            if p.is_file() and p.suffix in {".py", ".ipynb", ".md", ""} and ".egg-info" not in str(p)
        ]
    files += [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "setup.py", ROOT / "environment.yml"]
    return [f for f in files if f.is_file() and "__pycache__" not in f.parts]


def test_nothing_in_the_project_points_outside_it() -> None:
    offenders = []
    for f in _project_text_files():
        text = f.read_text(encoding="utf-8", errors="replace")
        if OUTSIDE in text or "shared" + "/data" in text:
            offenders.append(str(f.relative_to(ROOT)))
    assert offenders == [], f"files that name the outside data folder: {offenders}"


def test_loader_searches_only_the_project(monkeypatch) -> None:
    monkeypatch.delenv("POINTPLAN_DATA_DIR", raising=False)
    dirs = ppdata.data_dirs()
    pkg = Path(ppdata.__file__).resolve().parent
    assert dirs == [pkg / "_data", ROOT / "data"]
    # and every registered dataset is found inside the checkout, verified
    st = ppdata.data_status()
    assert (st["status"] == "ok").all(), st.loc[st["status"] != "ok", ["relpath", "detail"]]
    assert all(Path(p).is_relative_to(ROOT / "data") for p in st["path"])
    assert st["licence"].str.len().gt(0).all() and st["source"].str.len().gt(0).all()


def test_registry_matches_the_files_shipped() -> None:
    """Every file under data/ (but prose) is registered, so the checksum check covers it."""
    shipped = {
        str(p.relative_to(ROOT / "data")) for p in (ROOT / "data").rglob("*") if p.is_file() and p.suffix != ".md"
    }
    registered = {d.relpath for d in ppdata.DATASETS.values()}
    assert shipped == registered


def test_strict_json_never_writes_nan_or_infinity(tmp_path) -> None:
    obj = {"max_minutes": float("inf"), "share": float("nan"), "n": 3, "nested": [{"x": -float("inf")}]}
    path = write_json(tmp_path / "s.json", obj)

    def reject(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    back = json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)
    assert back == {"max_minutes": None, "share": None, "n": 3, "nested": [{"x": None}]}
    assert strict_json((1, {2})) == [1, [2]]


@pytest.mark.slow
def test_wheel_installed_elsewhere_runs(tmp_path) -> None:
    """Build the wheel, install it away from the checkout, run info and a small run there."""
    wheels = tmp_path / "wheels"
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("pointplan-*.whl")
    inst = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert inst.returncode == 0, inst.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("POINTPLAN_DATA_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            _SHOW_WHERE,
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(site) in where.splitlines()[0] and str(ROOT) not in where
    info = subprocess.run(
        [sys.executable, "-m", "pointplan.cli", "info"], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    assert info.returncode == 0, info.stdout[-1500:] + info.stderr[-1500:]
    assert str(site) in info.stdout and "MISSING" not in info.stdout and "CORRUPT" not in info.stdout
    run = subprocess.run(
        [sys.executable, "-m", "pointplan.cli", "-q", "run", "--out", "out", "--units", "00004,00008", "--add", "1"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-1500:]
    summary = json.loads((work / "out" / "summary.json").read_text(encoding="utf-8"))
    units = ppdata.load_units().loc[["00004", "00008"]]
    assert summary["population"] == pytest.approx(float(units["population"].sum()))
    assert (work / "out" / "map.html").stat().st_size > 10_000
