"""Candidate sites (moved to :mod:`pointplan.locate.candidates`; re-exported here).

``from pointplan.candidates import grid_candidates, ...`` keeps working; new code imports
from :mod:`pointplan.locate`.
"""

from __future__ import annotations

from pointplan.locate.candidates import (
    CANDIDATE_COLUMNS,
    clean_candidates,
    cluster_candidates,
    grid_candidates,
    read_candidates,
    unit_candidates,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "clean_candidates",
    "cluster_candidates",
    "grid_candidates",
    "read_candidates",
    "unit_candidates",
]
