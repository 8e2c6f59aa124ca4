"""Exact solves and bounds through HiGHS (:func:`scipy.optimize.milp`).

:func:`solve_milp` runs a MILP (or, with no integer column, an LP) and returns the
solution with HiGHS' dual bound. The LP relaxations of the models (the bounds the
heuristics are held to) are solved by the models with ``relax=True``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp

from pointplan._errors import InfeasibleError, SolverError
from pointplan.locate.result import FloatArray


def solve_milp(
    c: FloatArray,
    constraints: list[LinearConstraint],
    lb: FloatArray,
    ub: FloatArray,
    integrality: npt.NDArray[np.int_],
    time_limit_s: float,
    mip_rel_gap: float,
) -> tuple[FloatArray, float, float | None, str]:
    """Minimise ``c @ x`` with HiGHS; return (x, objective, dual bound, status).

    Parameters
    ----------
    c
        Objective coefficients.
    constraints
        Linear constraints (sparse rows welcome).
    lb, ub
        Bounds of the columns.
    integrality
        1 for integer columns, 0 for continuous ones (all 0: an LP).
    time_limit_s
        HiGHS time limit.
    mip_rel_gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    tuple
        ``(x, objective, dual bound or None, status)``; status is ``"optimal"``,
        ``"time_limit"`` or ``"other"``.

    Raises
    ------
    InfeasibleError
        When HiGHS proves the problem infeasible.
    SolverError
        When no feasible solution was found in time.

    Examples
    --------
    Choose one of two sites covering 3 and 2 people (maximise, so minimise minus):

    >>> import numpy as np
    >>> from scipy.optimize import LinearConstraint
    >>> one = [LinearConstraint(np.ones((1, 2)), -np.inf, 1)]
    >>> x, fun, bound, status = solve_milp(np.array([-3.0, -2.0]), one, np.zeros(2), np.ones(2), np.ones(2, int), 10, 0)
    >>> x.round().tolist(), fun, status
    ([1.0, 0.0], -3.0, 'optimal')

    """
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        constraints=constraints,
        options={
            "time_limit": float(time_limit_s),
            "mip_rel_gap": float(mip_rel_gap),
            "disp": False,
            "presolve": True,
        },
    )
    if res.status == 2:
        msg = f"the problem is infeasible as posed (HiGHS: {res.message})."
        raise InfeasibleError(msg)
    if res.x is None:
        msg = (
            f"HiGHS found no feasible solution (status {res.status}: {res.message}). "
            "Raise time_limit_s or use method='greedy+swap'."
        )
        raise SolverError(msg)
    status = "optimal" if res.status == 0 else ("time_limit" if res.status == 1 else "other")
    bound = getattr(res, "mip_dual_bound", None)
    bound_f = float(bound) if bound is not None and np.isfinite(bound) else None
    return np.asarray(res.x), float(res.fun), bound_f, status
