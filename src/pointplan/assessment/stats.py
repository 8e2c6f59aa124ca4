"""Small weighted statistics, vectorised and exact.

Examples
--------
>>> from pointplan.assessment.stats import weighted_gini, weighted_quantile
>>> weighted_quantile([1, 2, 3], [1, 1, 2], 0.5), weighted_gini([1, 1], [1, 5])
(2.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["group_weighted_quantiles", "weighted_gini", "weighted_mean", "weighted_quantile"]


def weighted_quantile(values: npt.ArrayLike, weights: npt.ArrayLike, q: float) -> float:
    """Return the weighted ``q`` quantile (lower, no interpolation).

    The smallest value ``v`` such that the weight of values ``<= v`` is at least
    ``q`` × total weight.

    Examples
    --------
    >>> weighted_quantile([1, 2, 3], [1, 1, 2], 0.5)
    2.0
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.size == 0 or w.sum() <= 0:
        return math.nan
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(x[order][min(k, x.size - 1)])


def weighted_gini(values: npt.ArrayLike, weights: npt.ArrayLike) -> float:
    """Return the weighted Gini coefficient of non-negative ``values``.

    ``sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mean)``, computed in O(n log n); values
    that are not finite (nobody reached) are left out.

    Examples
    --------
    >>> weighted_gini([1, 1, 1], [1, 2, 3])
    0.0
    >>> round(weighted_gini([0, 1], [1, 1]), 3)
    0.5
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if x.size == 0:
        return math.nan
    total = w.sum()
    mean = float((w * x).sum() / total)
    if mean == 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    return float((w * x * (2 * cum - w - total)).sum() / (total**2 * mean))


def weighted_mean(values: npt.ArrayLike, weights: npt.ArrayLike) -> float:
    """Return the weighted mean of the finite ``values`` (NaN when no weight is left).

    Examples
    --------
    >>> weighted_mean([10.0, float("inf"), 20.0], [1, 5, 3])
    17.5
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    fin = np.isfinite(x)
    total = float(w[fin].sum())
    return float((w[fin] * x[fin]).sum() / total) if total else math.nan


def group_weighted_quantiles(
    groups: npt.NDArray[Any],
    values: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    qs: Sequence[float],
) -> pd.DataFrame:
    """Weighted quantiles of ``values`` per group, vectorised (one sort for all groups).

    Parameters
    ----------
    groups
        Group label of each value.
    values, weights
        The values and their weights.
    qs
        The quantiles wanted (as for :func:`weighted_quantile`).

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted), one column per quantile.

    Examples
    --------
    >>> g = np.array(["a", "a", "b"])
    >>> group_weighted_quantiles(g, np.array([1.0, 5.0, 2.0]), np.array([1.0, 3.0, 1.0]), [0.5])[0.5].tolist()
    [5.0, 2.0]
    """
    codes, uniques = pd.factorize(groups, sort=True)
    order = np.lexsort((values, codes))
    c, v, w = codes[order], values[order], weights[order]
    cum = np.cumsum(w)
    starts = np.searchsorted(c, np.arange(len(uniques)), side="left")
    ends = np.searchsorted(c, np.arange(len(uniques)), side="right")
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    base[starts == 0] = 0.0
    totals = cum[ends - 1] - base
    out = {}
    for q in qs:
        target = base + q * totals - 1e-9 * np.maximum(totals, 1)
        k = np.searchsorted(cum, target, side="left")
        k = np.clip(k, starts, ends - 1)
        out[q] = v[k]
    return pd.DataFrame(out, index=pd.Index(uniques))
