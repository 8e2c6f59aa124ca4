"""Where to add service points: location-allocation models (after spopt's ``locate``).

Modules, by subject:

* :mod:`~pointplan.locate.coverage`: maximal covering (:func:`solve_mclp`) and set
  covering (:func:`solve_lscp`) on a boolean coverage matrix;
* :mod:`~pointplan.locate.median`: p-median, optionally capacitated
  (:func:`solve_pmedian`) on a sparse travel-cost matrix;
* :mod:`~pointplan.locate.result`: :class:`SolveResult`, bounds and gaps;
* :mod:`~pointplan.locate.bounds`: HiGHS solves (exact models, LP relaxations);
* :mod:`~pointplan.locate.heuristics` and :mod:`~pointplan.locate.rules`: greedy and
  ranking shared by the models; units that require a point, budgets per kind;
* :mod:`~pointplan.locate.candidates`: candidate sites (grid, unit stand-ins, clusters,
  the user's file) and their cleaning;
* :mod:`~pointplan.locate.proposal`: the GeoDataFrame front end :func:`propose` and its
  :class:`Proposal`.

The matrix solvers take no geodata. All of them return a :class:`SolveResult`:
``selected`` lists candidate positions in the order of marginal gain, ``gains`` each
one's gain given the fixed points and the points ranked before it, so that
``gains.sum()`` is the whole improvement from the documented starting value.
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
from pointplan.locate.coverage import solve_lscp, solve_mclp
from pointplan.locate.median import solve_pmedian
from pointplan.locate.points_proposal import (
    UnconstrainedComparison,
    default_candidates,
    propose_points,
    start_comparison,
)
from pointplan.locate.proposal import PROPOSAL_COLUMNS, Proposal, TravelEngine, propose
from pointplan.locate.result import MIP_REL_GAP, SolveResult, check_bound, gap_pct
from pointplan.locate.sites import SITE_KINDS, constraint_cost, real_sites

__all__ = [
    "CANDIDATE_COLUMNS",
    "MIP_REL_GAP",
    "PROPOSAL_COLUMNS",
    "SITE_KINDS",
    "Proposal",
    "SolveResult",
    "TravelEngine",
    "UnconstrainedComparison",
    "check_bound",
    "clean_candidates",
    "cluster_candidates",
    "constraint_cost",
    "default_candidates",
    "gap_pct",
    "grid_candidates",
    "propose",
    "propose_points",
    "read_candidates",
    "real_sites",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
    "start_comparison",
    "unit_candidates",
]
