"""The tiny synthetic city of the docstring examples, for other subpackages' examples.

The one definition lives in :mod:`pointplan.assessment._demo`; this public module lets the
report's and maps' examples use it without importing a private module of another subpackage.

Examples
--------
>>> from pointplan.assessment.demo import tiny_city
>>> sorted(tiny_city())[:3]
['demand', 'engine', 'points']
"""

from __future__ import annotations

from pointplan.assessment._demo import tiny_assessment, tiny_city

__all__ = ["tiny_assessment", "tiny_city"]
