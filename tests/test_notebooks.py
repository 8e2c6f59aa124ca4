"""The numbered notebooks: committed with outputs stripped, library calls only, and they run.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (the interpreter
running the tests), with the working directory set to ``notebooks/`` and ``TMPDIR`` and
pointplan's cache folder pointed at a temporary folder, so nothing is written into the
repository. The selected notebooks run once per session, two kernels at a time; a notebook
passes when every cell runs without error or warning and its last code cell displays a map
or a table (``text/html``).
"""

from __future__ import annotations

import ast
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import pointplan

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]

#: Seconds a single cell may take before the run is failed.
CELL_TIMEOUT_S = 300

#: Kernels run at the same time (the notebooks are independent; CI has 2 cores).
WORKERS = min(2, os.cpu_count() or 1)

#: Modules a notebook may import: the library, and pandas / tempfile / pathlib to display
#: tables and write the tiny example input files.
ALLOWED_IMPORTS = frozenset({"pointplan", "pandas", "tempfile", "pathlib"})

#: Constructs that would be logic of the notebook's own (loops, functions, comprehensions).
FORBIDDEN = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)

#: Optional reference files a notebook needs (beyond the required ones), by number.
EXTRA_DATA = {"06": ("osm_vanmieu",)}


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_notebooks_are_numbered_01_to_08() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 9)], NOTEBOOKS
    for p in NOTEBOOKS:
        assert p.name.isascii(), f"{p.name}: use ASCII file names"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_outputs_are_stripped(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(_code_cells(nb)):
        assert cell.outputs == [], f"{path.name}: code cell {i} has outputs; strip them"
        assert cell.execution_count is None, f"{path.name}: code cell {i} has an execution count"
        assert "execution" not in cell.metadata, f"{path.name}: code cell {i} has timings"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_calls_the_library_only(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown", f"{path.name}: start with a markdown title"
    assert nb.cells[0].source.startswith(f"# {int(path.name[:2])}. ")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            # Vietnamese first, then a short English line.
            assert cell.source.find("*English:") > 0, f"{path.name}: markdown cell {i}"
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, FORBIDDEN), (
                f"{path.name}: cell {i} defines logic ({type(node).__name__}); call pointplan"
            )
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= ALLOWED_IMPORTS, f"{path.name}: cell {i} imports {roots}"


def _missing_data(number: str) -> dict[str, str]:
    """Reference datasets a notebook needs that are not usable here (key -> status)."""
    status = pointplan.data_status().set_index("key")
    needed = status.index[status["required"]].tolist() + list(EXTRA_DATA.get(number, ()))
    bad = status.loc[needed, "status"]
    return bad[bad != "ok"].to_dict()


@dataclass
class Run:
    """One notebook executed: the notebook with outputs, or the error, and the time taken."""

    nb: nbformat.NotebookNode | None
    error: BaseException | None
    seconds: float


def _execute(path: Path, tmp: Path) -> Run:
    # The kernel gets this environment: temporary files and caches go to ``tmp``.
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "POINTPLAN_CACHE_DIR": str(tmp / "cache"),
        "MPLBACKEND": "Agg",
    }
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=env)  # CellExecutionError names the cell and its traceback
    except Exception as exc:  # reported by the notebook's own test
        return Run(None, exc, time.perf_counter() - start)
    return Run(nb, None, time.perf_counter() - start)


@pytest.fixture(scope="session")
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Run], bool]:
    """Execute every selected notebook once, :data:`WORKERS` kernels at a time.

    Returns the runs by file name and whether ``notebooks/`` was left untouched.
    """
    selected = [
        item.callspec.params["path"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_notebook_runs" and hasattr(item, "callspec")
    ]
    todo = [p for p in selected if not _missing_data(p.name[:2])]
    before = _snapshot(NOTEBOOK_DIR)
    with ThreadPoolExecutor(max_workers=max(1, min(WORKERS, len(todo)))) as pool:
        futures = {p.name: pool.submit(_execute, p, tmp_path_factory.mktemp(p.stem)) for p in todo}
        runs = {name: f.result() for name, f in futures.items()}
    return runs, _snapshot(NOTEBOOK_DIR) == before


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path: Path, executed: tuple[dict[str, Run], bool]) -> None:
    missing = _missing_data(path.name[:2])
    if missing:
        pytest.skip(f"reference data not available: {missing}")
    runs, untouched = executed
    run = runs[path.name]
    if run.error is not None:
        raise run.error
    assert untouched, "a notebook wrote into notebooks/"
    assert run.nb is not None
    cells = _code_cells(run.nb)
    assert all(c.execution_count is not None for c in cells)
    stderr = [o.text for c in cells for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{path.name} printed warnings or errors: {stderr}"
    last = cells[-1]
    html = [o for o in last.outputs if o.output_type in ("execute_result", "display_data") and "text/html" in o.data]
    assert html, f"{path.name}: the last code cell must display a map or a table"
