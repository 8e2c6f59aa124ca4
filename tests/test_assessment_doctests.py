"""The docstring examples of ``pointplan.assessment`` run (with the README's plain ``pytest``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pointplan.access
import pointplan.assessment

MODULES = [
    pointplan.access.__name__,
    pointplan.assessment.__name__,
    *(m.name for m in pkgutil.iter_modules(pointplan.assessment.__path__, "pointplan.assessment.")),
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has no examples"
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed (see the output above)"
