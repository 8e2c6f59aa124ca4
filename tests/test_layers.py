"""The package's layers, checked over its import graph.

The graph is read from the source with :mod:`ast` (nothing is imported): every ``import`` and
``from … import`` counts, including the deferred ones inside functions and the string given to
``importlib.import_module``; imports under ``if TYPE_CHECKING:`` do not. On that graph the test
fails on

* an import loop between modules, or between subjects (``report`` ↔ ``staffing``);
* a subject importing one from a higher layer (:data:`LAYERS`, bottom last);
* anything outside ``pointplan.cli`` importing ``pointplan.cli``;
* a private name (``_x``, or a name from a ``_x`` module) imported from another subpackage;
* library code importing the compatibility shims ``pointplan.access``, ``pointplan.optimize``,
  ``pointplan.candidates`` (they are kept for users only);
* a function over :data:`MAX_FUNCTION_LINES` lines (docstrings count).

Each failure prints the whole list, one problem a line, so that it can be fixed in one pass.
The checker itself is tested on small synthetic package trees built in ``tmp_path``.

The same layers are written as an import-linter contract in ``pyproject.toml``
(``lint-imports`` checks them too); this test needs nothing beyond the standard library.
"""

from __future__ import annotations

import ast
import functools
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pointplan"

#: Subjects by layer, top first. A subject may import its own layer and those below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli", "workflow", "sweep"),
    ("serve",),
    ("report", "maps"),
    ("locate", "staffing", "uncertainty"),
    ("assessment",),
    ("network", "demand", "transit", "geocode"),
    ("data", "points", "standins", "provinces", "io"),
    ("_version", "_errors", "settings", "_validate", "_text", "_address", "_fork", "_cow", "_results"),
)

#: The old import paths, kept for users; the library never imports them.
SHIMS = ("access", "optimize", "candidates")

MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Edge:
    """One import: ``source`` imports ``target`` (and, for ``from`` imports, ``names``)."""

    source: str
    target: str
    names: tuple[str, ...]
    target_is_package: bool
    path: str
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


# --------------------------------------------------------------------------- reading the graph


def module_names(root: Path) -> dict[str, Path]:
    """Map every module of the package at ``root`` to its file (``pkg.sub`` → ``pkg/sub/__init__.py``)."""
    package = root.name
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([package, *parts])] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Walk ``tree`` but skip the bodies of ``if TYPE_CHECKING:`` blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(reversed(node.orelse))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a relative import made in ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` is or lies in (``None`` outside the package)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in modules:
            return candidate
    return None


def _import_module_arg(node: ast.Call) -> str | None:
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called != "import_module" or not node.args:
        return None
    arg = node.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def _edges_of_node(
    node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]
) -> Iterator[tuple[str, tuple[str, ...], int]]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = _target(alias.name, modules)
            if target:
                yield target, (), node.lineno
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(module, is_package, node.level, node.module)
        plain: list[str] = []
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in modules:  # ``from pkg import submodule``
                yield sub, (), node.lineno
            else:
                plain.append(alias.name)
        target = _target(base, modules)
        if target and (plain or base != target):
            yield target, tuple(plain), node.lineno
    elif isinstance(node, ast.Call):
        name = _import_module_arg(node)
        target = _target(name, modules) if name else None
        if target:
            yield target, (), node.lineno


def import_edges(root: Path) -> list[Edge]:
    """Every import between the modules of the package at ``root`` (see the module docstring)."""
    modules = module_names(root)
    edges: list[Edge] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        rel = str(path.relative_to(root.parent))
        for node in _runtime_nodes(tree):
            for target, names, line in _edges_of_node(node, module, is_package, modules):
                if target != module:
                    is_pkg = modules[target].name == "__init__.py"
                    edges.append(Edge(module, target, names, is_pkg, rel, line))
    return edges


# --------------------------------------------------------------------------- the rules


def subject(module: str) -> str:
    """``pointplan.report.sections`` → ``report``; ``pointplan`` itself → ``pointplan``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    nodes = sorted(set(graph) | {t for ts in graph.values() for t in ts})
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(out)


def _cycle_problems(edges: list[Edge], key: str) -> list[str]:
    graph: dict[str, set[str]] = {}
    for e in edges:
        a, b = (e.source, e.target) if key == "module" else (subject(e.source), subject(e.target))
        if a != b:
            graph.setdefault(a, set()).add(b)
    problems = []
    for component in find_cycles(graph):
        members = set(component)
        inside = sorted(
            {
                f"{e.source} → {e.target} ({e.where()})"
                for e in edges
                if (e.source if key == "module" else subject(e.source)) in members
                and (e.target if key == "module" else subject(e.target)) in members
                and (e.source if key == "module" else subject(e.source))
                != (e.target if key == "module" else subject(e.target))
            }
        )
        problems.append(f"{key} loop {' ↔ '.join(component)}:\n      " + "\n      ".join(inside))
    return problems


def layer_of(name: str, layers: tuple[tuple[str, ...], ...] = LAYERS) -> int | None:
    """The layer number of a subject (0 = top), or ``None`` when it is not listed."""
    for i, members in enumerate(layers):
        if name in members:
            return i
    return None


def _layer_problems(edges: list[Edge], package: str, layers: tuple[tuple[str, ...], ...]) -> list[str]:
    problems = []
    for e in edges:
        a, b = subject(e.source), subject(e.target)
        if a in (b, package) or a in SHIMS:
            continue  # the package's own __init__ and the shims re-export for users
        la, lb = layer_of(a, layers), layer_of(b, layers)
        if la is None:
            problems.append(f"{e.where()}: subject {a!r} is in no layer (add it to LAYERS)")
        elif b == package:
            if la > 0:  # the top layer may use the package's public namespace
                msg = f"{e.where()}: {e.source} imports the package itself ({package}), which loads everything"
                problems.append(msg)
        elif lb is None:
            if b not in SHIMS:  # the shim rule reports those
                problems.append(f"{e.where()}: subject {b!r} is in no layer (add it to LAYERS)")
        elif lb < la:
            problems.append(f"{e.where()}: {e.source} ({a}) imports {e.target} ({b}), a higher layer")
    return problems


def _private_problems(edges: list[Edge]) -> list[str]:
    problems = []
    for e in edges:
        parts = e.target.split(".")
        for i, part in enumerate(parts):
            owner = ".".join(parts[:i])
            if part.startswith("_") and not part.startswith("__") and not _inside(e.source, owner):
                problems.append(f"{e.where()}: {e.source} imports the private module {e.target}")
                break
        owner = e.target if e.target_is_package else e.target.rpartition(".")[0]
        for name in e.names:
            if name.startswith("_") and not name.startswith("__") and not _inside(e.source, owner):
                problems.append(f"{e.where()}: {e.source} imports the private name {name} from {e.target}")
    return problems


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _cli_problems(edges: list[Edge]) -> list[str]:
    return [
        f"{e.where()}: {e.source} imports {e.target} (nothing outside cli imports cli)"
        for e in edges
        if subject(e.target) == "cli" and subject(e.source) != "cli"
    ]


def _shim_problems(edges: list[Edge], package: str) -> list[str]:
    return [
        f"{e.where()}: {e.source} imports the shim {e.target} (import from its new home instead)"
        for e in edges
        if e.target.count(".") == 1
        and subject(e.target) in SHIMS
        and subject(e.source) not in SHIMS
        and e.source != package
    ]


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Every function (methods and nested ones included) longer than ``limit`` lines."""
    out = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > limit:
                    out.append(f"{path.relative_to(root.parent)}:{node.lineno}: {node.name} is {n} lines (> {limit})")
    return out


def problems(root: Path, layers: tuple[tuple[str, ...], ...] = LAYERS) -> dict[str, list[str]]:
    """Every broken rule in the package at ``root``, by rule."""
    edges = import_edges(root)
    package = root.name
    return {
        "module loops": _cycle_problems(edges, "module"),
        "subject loops": _cycle_problems(edges, "subject"),
        "layers": _layer_problems(edges, package, layers),
        "cli": _cli_problems(edges),
        "private names": _private_problems(edges),
        "shims": _shim_problems(edges, package),
        "long functions": long_functions(root),
    }


def _report(found: Iterable[str], rule: str) -> str:
    found = list(found)
    return f"{len(found)} problem(s) with {rule}:\n  - " + "\n  - ".join(found)


# --------------------------------------------------------------------------- the package itself


@functools.cache
def _package_problems() -> dict[str, list[str]]:
    return problems(SRC)


@pytest.mark.parametrize(
    "rule", ["module loops", "subject loops", "layers", "cli", "private names", "shims", "long functions"]
)
def test_package_follows_the_rule(rule: str) -> None:
    found = _package_problems()[rule]
    assert not found, _report(found, rule)


def test_every_subject_has_a_layer() -> None:
    subjects = {subject(m) for m in module_names(SRC)} - {"pointplan", *SHIMS}
    missing = sorted(s for s in subjects if layer_of(s) is None)
    assert not missing, f"subjects in no layer: {missing} (add them to LAYERS and to pyproject's contract)"


def test_the_version_module_imports_nothing() -> None:
    tree = ast.parse((SRC / "_version.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [ast.unparse(n) for n in imports] in ([], ["from __future__ import annotations"])


def test_pyproject_contract_lists_the_same_layers() -> None:
    import tomllib

    config = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layered = next(c for c in contracts if c["type"] == "layers")
    written = [set(row.replace(":", " ").split()) for row in layered["layers"]]
    existing = {subject(m) for m in module_names(SRC)}
    expected = [{s for s in row if s in existing} for row in LAYERS]
    assert written == [row for row in expected if row]


# --------------------------------------------------------------------------- the checker itself


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    for d in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        (d / "__init__.py").touch()
    return root


SMALL_LAYERS: tuple[tuple[str, ...], ...] = (("cli", "top"), ("mid", "other"), ("low", "_core"))


def test_checker_reads_deferred_relative_and_string_imports(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "mid/a.py": """
                from typing import TYPE_CHECKING
                from ..low import b
                from . import c
                if TYPE_CHECKING:
                    from pkg.top import hidden
                def f():
                    from pkg.low.b import g
                    import importlib
                    return importlib.import_module("pkg.other")
            """,
            "mid/c.py": "",
            "low/b.py": "def g(): ...",
            "other.py": "",
        },
    )
    got = {(e.source, e.target, e.names) for e in import_edges(root)}
    assert got == {
        ("pkg.mid.a", "pkg.low.b", ()),
        ("pkg.mid.a", "pkg.mid.c", ()),
        ("pkg.mid.a", "pkg.low.b", ("g",)),
        ("pkg.mid.a", "pkg.other", ()),
    }


def test_checker_finds_module_and_subject_loops(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "mid/a.py": "def f():\n    from pkg.other.x import y\n",
            "other/x.py": "from pkg.mid.b import z\ny = 1\n",
            "mid/b.py": "z = 1\n",
            "low/p.py": "from pkg.low.q import w\nv = 1\n",
            "low/q.py": "def g():\n    from pkg.low.p import v\nw = 1\n",
        },
    )
    found = problems(root, SMALL_LAYERS)
    assert len(found["module loops"]) == 1 and "pkg.low.p ↔ pkg.low.q" in found["module loops"][0]
    # mid.a → other.x → mid.b is no module loop, but mid ↔ other is a subject loop
    assert len(found["subject loops"]) == 1 and "mid ↔ other" in found["subject loops"][0]
    assert found["layers"] == []  # mid and other share a layer


def test_checker_finds_layer_cli_private_and_shim_problems(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "optimize.py": "from pkg.mid.a import f\n",
            "low/a.py": "from pkg.mid.a import f\nfrom pkg import _core\n",
            "mid/a.py": "from pkg.cli.main import run\nfrom pkg.low._h import k\nfrom pkg.low import _j\n"
            "from pkg.low.a import _m\nfrom pkg import optimize\nfrom pkg.mid._own import ok\nf = 1\n",
            "mid/_own.py": "ok = 1\n",
            "low/_h.py": "k = 1\n_m = 2\n",
            "low/_j.py": "",
            "cli/main.py": "from pkg.top import x\nrun = 1\n",
            "top.py": "x = 1\n",
            "_core.py": "",
        },
    )
    found = problems(root, SMALL_LAYERS)
    assert found["layers"] == [
        "pkg/low/a.py:1: pkg.low.a (low) imports pkg.mid.a (mid), a higher layer",
        "pkg/mid/a.py:1: pkg.mid.a (mid) imports pkg.cli.main (cli), a higher layer",
    ]
    assert found["cli"] == ["pkg/mid/a.py:1: pkg.mid.a imports pkg.cli.main (nothing outside cli imports cli)"]
    private = "\n".join(found["private names"])
    assert "pkg.mid.a imports the private module pkg.low._h" in private
    assert "pkg.mid.a imports the private module pkg.low._j" in private
    assert "private name _m from pkg.low.a" in private
    assert "_own" not in private and "_core" not in private  # own subpackage; the package's core
    assert len(found["private names"]) == 3
    assert found["shims"] == [
        "pkg/mid/a.py:5: pkg.mid.a imports the shim pkg.optimize (import from its new home instead)"
    ]


def test_checker_counts_long_functions_with_docstrings(tmp_path: Path) -> None:
    body = "    x = 1\n" * 77
    root = _tree(
        tmp_path,
        {
            "ok.py": f'def fits():\n    """Doc."""\n{body}    return x\n',  # 80 lines
            "long.py": 'class K:\n    def too_long(self):\n        """Doc.\n\n        More."""\n'
            + textwrap.indent(body, "    ")
            + "        return x\n",  # 82 lines
        },
    )
    assert long_functions(root) == ["pkg/long.py:2: too_long is 82 lines (> 80)"]
