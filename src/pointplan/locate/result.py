"""The answer every solver returns, and the checks on its bound and gap.

A solver's ``bound`` is a proven bound on its objective: an upper bound on the covered
weight (MCLP), a lower bound on the person-minutes (p-median) or on the number of points
(LSCP). It is reported as found, never clamped to the objective: a bound on the wrong side
of the objective is a bug and :func:`check_bound` raises :class:`SolverError`.

Gaps are ``100 * |objective - bound| / |objective|`` (the HiGHS convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pointplan._errors import SolverError

__all__ = ["MIP_REL_GAP", "SolveResult", "check_bound", "gap_pct"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Relative MIP gap HiGHS is asked to close (tighter than its 1e-4 default so that
#: "optimal" means optimal for planning-sized weights).
MIP_REL_GAP = 1e-7

#: Relative tolerance of :func:`check_bound` (solver and floating-point noise).
BOUND_REL_TOL = 1e-6

#: How a solver works: a greedy pass, greedy then swaps, or the exact MILP (HiGHS).
SolveMethod = Literal["greedy", "greedy+swap", "exact"]

#: What a proposal optimises: most people within the standard, fewest points, least person-minutes.
Objective = Literal["mclp", "lscp", "pmedian"]

METHODS: tuple[SolveMethod, ...] = ("greedy", "greedy+swap", "exact")


@dataclass(frozen=True)
class SolveResult:
    """Answer of a location-allocation solver.

    Attributes
    ----------
    selected
        Candidate positions (columns) chosen, excluding the fixed points, in the order of
        marginal gain.
    objective
        Covered weight including demand already covered by the fixed points (MCLP, LSCP)
        or population-weighted cost ``sum_i w_i * min(fixed_cost_i, min_j cost_ij)``
        (p-median).
    bound
        Best proven bound on the objective (exact: the MILP dual bound; heuristic: a
        Lagrangian / submodular bound when one is computed). For LSCP it bounds the number
        of added points from below.
    gap_pct
        ``100 * |objective - bound| / |objective|`` (LSCP: on the number of points).
    method
        ``"greedy"``, ``"greedy+swap"``, ``"milp-highs"``...
    status
        ``"optimal"``, ``"time_limit"``, ``"heuristic"``...
    runtime_s
        Wall time of the solve.
    gains
        Marginal gain of each selected candidate in order: people newly covered (MCLP,
        LSCP) or person-minutes saved (p-median). They add up: ``gains.sum()`` is the
        covered weight beyond the fixed points (MCLP, LSCP) or
        ``details["start_cost"] - objective`` (uncapacitated p-median; see
        :func:`~pointplan.locate.solve_pmedian` for the starting cost).
    assignment
        p-median: the candidate column serving each demand, ``-1`` for the fallback
        (an existing point or ``unassigned_cost``). ``None`` for covering problems.
    details
        Extra figures (uncoverable weight, LSCP count bound, pruned points...).

    Examples
    --------
    >>> import numpy as np
    >>> gains = np.array([60.0, 30.0])
    >>> r = SolveResult(np.array([2, 0]), 90.0, 100.0, gap_pct(90.0, 100.0), "greedy", "heuristic", 0.01, gains)
    >>> r.gap_pct, float(r.gains.sum())
    (11.11111111111111, 90.0)

    """

    selected: IntArray
    objective: float
    bound: float | None
    gap_pct: float | None
    method: str
    status: str
    runtime_s: float
    gains: FloatArray
    assignment: IntArray | None = None
    details: dict[str, Any] = field(default_factory=dict)


def gap_pct(objective: float, bound: float | None) -> float | None:
    """Relative gap in percent between an objective and its bound.

    Parameters
    ----------
    objective
        Objective value of the solution.
    bound
        Proven bound on the optimum (``None`` when there is none).

    Returns
    -------
    float or None
        ``100 * |objective - bound| / |objective|``; ``None`` without a finite bound
        (or when the objective is 0 and the bound is not).

    Examples
    --------
    >>> gap_pct(200.0, 190.0)
    5.0
    >>> gap_pct(0.0, 0.0), gap_pct(10.0, None)
    (0.0, None)

    """
    if bound is None or not np.isfinite(bound) or not np.isfinite(objective):
        return None
    if objective == 0:
        return 0.0 if bound == 0 else None
    return float(100.0 * abs(objective - bound) / abs(objective))


def check_bound(objective: float, bound: float | None, sense: Literal["min", "max"], what: str) -> None:
    """Raise when a bound lies on the wrong side of the objective.

    A lower bound (``sense="min"``) may not exceed the objective of a feasible solution,
    an upper bound (``sense="max"``) may not fall below it, beyond a relative tolerance
    of :data:`BOUND_REL_TOL`. Bounds are never clamped: this is a bug to report.

    Parameters
    ----------
    objective
        Objective of the solution found.
    bound
        The bound (``None``: nothing to check).
    sense
        ``"min"`` (minimisation, lower bound) or ``"max"`` (maximisation, upper bound).
    what
        Name of the bound in the message, e.g. ``"p-median Lagrangian bound"``.

    Raises
    ------
    SolverError
        When the bound is on the wrong side of the objective.

    Examples
    --------
    >>> check_bound(100.0, 95.0, "min", "lower bound")
    >>> try:
    ...     check_bound(100.0, 120.0, "min", "lower bound")
    ... except SolverError as err:
    ...     print(str(err)[:59])
    lower bound 120 is above the objective 100 of a feasible so

    """
    if bound is None or not np.isfinite(bound) or not np.isfinite(objective):
        return
    tol = BOUND_REL_TOL * max(1.0, abs(objective))
    wrong = bound > objective + tol if sense == "min" else bound < objective - tol
    if wrong:
        side = "above" if sense == "min" else "below"
        msg = (
            f"{what} {bound:.12g} is {side} the objective {objective:.12g} of a feasible "
            "solution, which is impossible: this is a bug in pointplan.locate; please "
            "report it with the input (the solution itself is valid)."
        )
        raise SolverError(msg)
