"""Floating catchment access: 2SFCA (Luo & Wang 2003) and E2SFCA (Luo & Qi 2009).

The ratios are counters per person (multiply by 10,000 for "counters per 10,000
people"), computed like PySAL ``access`` (``Access.two_stage_fca`` and
``Access.enhanced_two_stage_fca``) and equal to it on the same inputs.

**No point in reach.** A demand point with no service point within the catchment gets
``NaN`` (as in ``access``), not 0: "nobody to measure against" is kept apart from "a
share of zero counters". :func:`pointplan.assess` keeps the NaN in its demand table and,
when it averages over a unit or the city, counts those residents as having no counter
(0), which it states in each table it writes.

Examples
--------
>>> import pandas as pd
>>> from pointplan.assessment.fca import e2sfca
>>> od = pd.DataFrame({"i": [0, 1], "j": [0, 0], "minutes": [5.0, 15.0]})
>>> (e2sfca(od, [100, 50, 10], [1]) * 1e4).round(2).tolist()
[74.63, 50.75, nan]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError, MissingColumnError
from pointplan.assessment.defaults import E2SFCA_STEPS, EPS

__all__ = ["WeightFunction", "demand_access", "e2sfca", "gaussian_decay", "step_decay", "two_sfca", "unit_access"]

FloatArray = npt.NDArray[np.float64]

#: A distance-decay weight: minutes -> weight in [0, ∞). Vectorised functions (taking
#: and returning an array) are applied once; scalar ones (as ``access.weights.step_fn``)
#: are applied element by element.
WeightFunction = Callable[[FloatArray], npt.ArrayLike] | Callable[[float], float]


def step_decay(steps: Mapping[float, float]) -> Callable[[FloatArray], FloatArray]:
    """Return a step weight: a time at or below a bound takes that bound's weight.

    Times above the largest bound weigh 0 (as ``access.weights.step_fn``).

    Parameters
    ----------
    steps
        Upper bound (minutes) -> weight (non-negative).

    Returns
    -------
    callable
        Vectorised weight function of the minutes.

    Examples
    --------
    >>> step_decay({10: 1.0, 20: 0.68, 30: 0.22})(np.array([0.0, 10.0, 15.0, 30.0, 31.0])).tolist()
    [1.0, 1.0, 0.68, 0.22, 0.0]
    """
    if not steps:
        msg = "steps is empty: give at least one bound -> weight, e.g. {10: 1.0, 20: 0.68, 30: 0.22}."
        raise InputError(msg)
    st = dict(sorted((float(k), float(v)) for k, v in steps.items()))
    if any(not np.isfinite(v) or v < 0 for v in st.values()):
        msg = f"steps weights must be finite and non-negative, got {st}."
        raise InputError(msg)
    bounds = np.array(list(st.keys()), dtype=float)
    wts = np.array([*st.values(), 0.0], dtype=float)

    def weight(minutes: FloatArray) -> FloatArray:
        t = np.asarray(minutes, dtype=float)
        out: FloatArray = wts[np.searchsorted(bounds, t - EPS, side="left")]
        return out

    return weight


def gaussian_decay(sigma_minutes: float) -> Callable[[FloatArray], FloatArray]:
    """Return the Gaussian weight ``exp(-t² / (2 σ²))`` (``access.weights.gaussian``).

    Parameters
    ----------
    sigma_minutes
        Width σ in minutes (> 0); the weight is 1 at 0 minutes, 0.61 at σ, 0.14 at 2σ.

    Returns
    -------
    callable
        Vectorised weight function of the minutes.

    Examples
    --------
    >>> gaussian_decay(10)(np.array([0.0, 10.0, 20.0])).round(4).tolist()
    [1.0, 0.6065, 0.1353]
    """
    sigma = float(sigma_minutes)
    if not (np.isfinite(sigma) and sigma > 0):
        msg = f"sigma_minutes must be a positive number of minutes, got {sigma_minutes!r}."
        raise InputError(msg)

    def weight(minutes: FloatArray) -> FloatArray:
        t = np.asarray(minutes, dtype=float)
        out: FloatArray = np.exp(-t * t / (2 * sigma**2))
        return out

    return weight


def _apply_weight(weight: WeightFunction, minutes: FloatArray) -> FloatArray:
    """Weights of ``minutes``: vectorised call first, element by element otherwise."""
    w: FloatArray | None = None
    try:
        w = np.asarray(weight(minutes), dtype=float)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # a scalar function given an array
        w = None
    if w is None or w.shape != minutes.shape:
        w = np.fromiter((float(weight(float(t))) for t in minutes), dtype=float, count=minutes.size)  # type: ignore[arg-type]
    if not np.isfinite(w).all() or (w < 0).any():
        msg = "the weight function must return finite, non-negative weights for every travel time."
        raise InputError(msg)
    return w


def _check_inputs(od: pd.DataFrame, population: npt.ArrayLike, supply: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    missing = [c for c in ("i", "j", "minutes") if c not in od.columns]
    if missing:
        msg = f"od lacks the column(s) {missing}: give i (demand position), j (supply position), minutes."
        raise MissingColumnError(msg)
    pop = np.asarray(population, dtype=float)
    sup = np.asarray(supply, dtype=float)
    for arr, what in ((pop, "population"), (sup, "supply")):
        if arr.ndim != 1 or not np.isfinite(arr).all() or (arr < 0).any():
            msg = f"{what} must be a 1-D array of finite, non-negative numbers."
            raise InputError(msg)
    if len(od) and (od["i"].max() >= pop.size or od["j"].max() >= sup.size or min(od["i"].min(), od["j"].min()) < 0):
        msg = (
            f"od refers to positions outside the inputs ({pop.size} demand points, {sup.size} supply "
            "points): i and j are 0-based positions into population and supply."
        )
        raise InputError(msg)
    return pop, sup


def _fca(
    od: pd.DataFrame,
    population: FloatArray,
    supply: FloatArray,
    weight: WeightFunction,
    max_minutes: float | None,
) -> FloatArray:
    """Both steps of a floating catchment; NaN for demand with no supply in reach."""
    if max_minutes is not None:
        od = od[od["minutes"].to_numpy(dtype=float) <= max_minutes + EPS]
    i = od["i"].to_numpy(dtype=np.int64)
    j = od["j"].to_numpy(dtype=np.int64)
    wgt = _apply_weight(weight, od["minutes"].to_numpy(dtype=float))
    demand_j = np.bincount(j, weights=wgt * population[i], minlength=supply.size)
    # A point whose catchment holds nobody serves nobody: ratio 0 (access gives inf).
    ratio = np.divide(supply, demand_j, out=np.zeros_like(supply), where=demand_j > 0)
    out = np.bincount(i, weights=wgt * ratio[j], minlength=population.size).astype(np.float64)
    in_reach = np.bincount(i, minlength=population.size) > 0
    out[~in_reach] = np.nan
    return out


def two_sfca(
    od: pd.DataFrame,
    population: npt.ArrayLike,
    supply: npt.ArrayLike,
    max_minutes: float,
) -> FloatArray:
    """Two-step floating catchment area (Luo & Wang 2003) access ratio per demand point.

    Parameters
    ----------
    od
        Sparse origin–destination times: columns ``i`` (demand position), ``j`` (supply
        position), ``minutes``.
    population
        Demand at each origin.
    supply
        Supply (e.g. counters) at each destination.
    max_minutes
        Catchment size: pairs farther than this are dropped.

    Returns
    -------
    numpy.ndarray
        Supply per person reachable from each demand point (multiply by 10,000 for "per
        10,000 people"); ``NaN`` where no supply point is within ``max_minutes``.

    Examples
    --------
    >>> od = pd.DataFrame({"i": [0, 1, 1, 2], "j": [0, 0, 1, 1], "minutes": [5.0, 5.0, 5.0, 45.0]})
    >>> two_sfca(od, [100, 100, 50], [2, 1], 30).round(4).tolist()
    [0.01, 0.02, nan]
    """
    pop, sup = _check_inputs(od, population, supply)
    return _fca(od, pop, sup, np.ones_like, float(max_minutes))


def e2sfca(
    od: pd.DataFrame,
    population: npt.ArrayLike,
    supply: npt.ArrayLike,
    steps: Mapping[float, float] | None = None,
    *,
    weight: WeightFunction | None = None,
    max_minutes: float | None = None,
) -> FloatArray:
    """Enhanced 2SFCA (Luo & Qi 2009): 2SFCA with a distance-decay weight.

    Equal to PySAL ``Access.enhanced_two_stage_fca(max_cost=max_minutes,
    weight_fn=...)`` on the same inputs (tested), including ``NaN`` for no point in reach.

    Parameters
    ----------
    od, population, supply
        As for :func:`two_sfca`.
    steps
        Step weights, upper bound (minutes) -> weight (default :data:`E2SFCA_STEPS`:
        10 -> 1, 20 -> 0.68, 30 -> 0.22). Not together with ``weight``.
    weight
        A weight function of the minutes instead of steps, e.g.
        :func:`gaussian_decay` or ``access.weights.gaussian(sigma)``.
    max_minutes
        Catchment size. Default: the largest step bound with steps; every pair in
        ``od`` with a weight function.

    Returns
    -------
    numpy.ndarray
        Weighted supply per person for each demand point; ``NaN`` where no supply point
        is within the catchment (a point within it whose weight is 0 still gives 0).

    Examples
    --------
    >>> od = pd.DataFrame({"i": [0, 1, 1], "j": [0, 0, 1], "minutes": [5.0, 15.0, 5.0]})
    >>> (e2sfca(od, [100, 100, 50], [2, 1]) * 1e4).round(1).tolist()
    [119.0, 181.0, nan]
    >>> (e2sfca(od, [100, 100, 50], [2, 1], weight=gaussian_decay(10), max_minutes=30) * 1e4).round(1).tolist()
    [146.2, 153.8, nan]
    """
    if steps is not None and weight is not None:
        msg = "give either steps or weight to e2sfca, not both."
        raise InputError(msg)
    pop, sup = _check_inputs(od, population, supply)
    if weight is None:
        st = steps if steps is not None else E2SFCA_STEPS
        weight = step_decay(st)
        if max_minutes is None:
            max_minutes = float(max(st))
    return _fca(od, pop, sup, weight, None if max_minutes is None else float(max_minutes))


def demand_access(
    demand: pd.DataFrame,
    od: pd.DataFrame,
    supply: npt.ArrayLike,
    max_minutes: float,
    steps: Mapping[float, float] = E2SFCA_STEPS,
) -> pd.DataFrame:
    """Add ``two_sfca`` and ``e2sfca`` (counters per 10,000 people) to the demand.

    ``NaN`` where no point is within the catchment (see the module's note).

    Parameters
    ----------
    demand
        Demand with ``population``, in the order of ``od``'s ``i``.
    od
        Origin–destination pairs (``i``, ``j``, ``minutes``) up to at least the larger
        of ``max_minutes`` and the last step.
    supply
        Counters (open-day weighted) of each point.
    max_minutes
        Catchment of the 2SFCA.
    steps
        Step weights of the E2SFCA.

    Examples
    --------
    >>> d = pd.DataFrame({"population": [100.0, 50.0]})
    >>> od = pd.DataFrame({"i": [0], "j": [0], "minutes": [5.0]})
    >>> demand_access(d, od, [1.0], 30)[["two_sfca", "e2sfca"]].values.tolist()
    [[100.0, 100.0], [nan, nan]]
    """
    pop = demand["population"].to_numpy(dtype=float)
    demand["two_sfca"] = two_sfca(od, pop, supply, max_minutes) * 1e4
    demand["e2sfca"] = e2sfca(od, pop, supply, steps) * 1e4
    return demand


def unit_access(units: pd.DataFrame, demand: pd.DataFrame) -> pd.DataFrame:
    """Add ``two_sfca`` and ``e2sfca`` per unit: the population-weighted mean.

    Residents with no point in the catchment (``NaN`` in the demand) count as 0
    counters, so a unit's figure is the counters per 10,000 of **all** its residents.

    Examples
    --------
    >>> d = pd.DataFrame({"unit_code": ["A", "A"], "population": [100.0, 100.0],
    ...                   "two_sfca": [10.0, float("nan")], "e2sfca": [8.0, float("nan")]})
    >>> unit_access(pd.DataFrame(index=["A", "B"]), d)[["two_sfca", "e2sfca"]].values.tolist()
    [[5.0, 4.0], [nan, nan]]
    """
    pop = demand["population"]
    total = pop.groupby(demand["unit_code"]).sum()
    for col in ("two_sfca", "e2sfca"):
        weighted = (demand[col].fillna(0.0) * pop).groupby(demand["unit_code"]).sum()
        units[col] = (weighted / total).reindex(units.index)
    return units
