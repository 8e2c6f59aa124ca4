"""Location-allocation (moved to :mod:`pointplan.locate`; this module re-exports it).

``from pointplan.optimize import propose, solve_mclp, ...`` keeps working; new code
imports from :mod:`pointplan.locate`.
"""

from __future__ import annotations

from pointplan.locate.coverage import solve_lscp, solve_mclp
from pointplan.locate.median import solve_pmedian
from pointplan.locate.proposal import PROPOSAL_COLUMNS, Proposal, TravelEngine, propose
from pointplan.locate.result import MIP_REL_GAP, SolveResult

__all__ = [
    "MIP_REL_GAP",
    "PROPOSAL_COLUMNS",
    "Proposal",
    "SolveResult",
    "TravelEngine",
    "propose",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
]
