"""The project's set-up files agree with each other."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = {_name(d): d.replace(" ", "") for d in pyproject["project"]["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda, pip = {}, []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip = item["pip"]
        else:
            conda[_name(item)] = item.replace(" ", "")
    pip_specs = {_name(p): p.replace(" ", "") for p in pip if not p.startswith("-e")}
    listed = {**conda, **pip_specs}
    listed.pop("python", None)
    listed.pop("pip", None)
    assert set(listed) == set(deps), set(listed) ^ set(deps)
    for name, spec in deps.items():
        assert listed[name] == spec, f"{name}: pyproject {spec} vs environment.yml {listed[name]}"
    assert any(p.replace(" ", "") == "-e.[dev]" for p in pip), "environment.yml must install pointplan itself"
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert py.replace(" ", "") == "python" + pyproject["project"]["requires-python"]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- test-command -->", 1)[1].split("```")[1]
    command = block.split("\n", 1)[1].strip()
    out = subprocess.run(
        [
            "awk",
            "/<!-- test-command -->/{f=1; next} f && /^```/{if (started) exit; started=1; next} f && started {print}",
            "README.md",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "test-command" in ci and "pytest collected no tests" in ci
    assert "pytest" in command


def test_readme_has_the_run_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- run-command -->", 1)[1].split("```")[1]
    assert "pointplan run --out" in block
