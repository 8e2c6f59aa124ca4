"""Equity: travel time and coverage by kind of unit (phường vs xã) and city-wide, with Gini."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pointplan.assessment.defaults import EPS
from pointplan.assessment.stats import weighted_gini, weighted_mean, weighted_quantile

__all__ = ["equity_table", "unit_gini"]


def _group_row(label: str, d: pd.DataFrame) -> dict[str, Any]:
    w = d["population"].to_numpy(dtype=float)
    x = d["minutes"].to_numpy(dtype=float)
    tot = w.sum()
    # Residents with no point in the catchment (E2SFCA NaN) count as 0 counters.
    e2 = np.nan_to_num(d["e2sfca"].to_numpy(dtype=float), nan=0.0)
    return {
        "group": label,
        "population": tot,
        "coverage_share": float(w[d["within_standard"].to_numpy(dtype=bool)].sum() / tot) if tot else math.nan,
        "mean_minutes": weighted_mean(x, w),
        "median_minutes": weighted_quantile(x, w, 0.5),
        "p90_minutes": weighted_quantile(x, w, 0.9),
        "share_beyond_30": float(w[x > 30 + EPS].sum() / tot) if tot else math.nan,
        "gini_minutes": weighted_gini(x, w),
        "e2sfca": float((w * e2).sum() / tot) if tot else math.nan,
    }


def equity_table(demand: pd.DataFrame, units: pd.DataFrame, method: str) -> pd.DataFrame:
    """Travel time, coverage and E2SFCA for the city, the phường and the xã.

    Parameters
    ----------
    demand
        Demand with ``population``, ``minutes``, ``within_standard``, ``e2sfca``,
        ``unit_code``.
    units
        Units with ``kind`` (``phuong``/``xa``); without it only the city row is filled.
    method
        Travel-time method, copied to the ``travel_time_method`` column.

    Returns
    -------
    pandas.DataFrame
        Rows ``city``, ``phuong``, ``xa``: ``population``, ``coverage_share``,
        ``mean_minutes``, ``median_minutes``, ``p90_minutes``, ``share_beyond_30``,
        ``gini_minutes``, ``e2sfca`` (population-weighted, residents with no point in
        the catchment counting 0 counters) and ``travel_time_method``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"population": [100.0, 100.0], "minutes": [10.0, 30.0], "within_standard": [True, True],
    ...                   "e2sfca": [5.0, float("nan")], "unit_code": ["A", "B"]})
    >>> u = pd.DataFrame({"kind": ["phuong", "xa"]}, index=["A", "B"])
    >>> eq = equity_table(d, u, "crow_flies_circuity")
    >>> eq.loc["city", ["mean_minutes", "gini_minutes", "e2sfca"]].tolist()
    [20.0, 0.25, 2.5]
    """
    kind_of = demand["unit_code"].map(units["kind"]) if "kind" in units else pd.Series("all", index=demand.index)
    groups = [("city", np.ones(len(demand), bool)), *[(k, (kind_of == k).to_numpy()) for k in ("phuong", "xa")]]
    equity = pd.DataFrame([_group_row(label, demand.loc[sel]) for label, sel in groups]).set_index("group")
    equity["travel_time_method"] = method
    return equity


def unit_gini(demand: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Gini coefficient of the travel times within each unit (population-weighted).

    Examples
    --------
    >>> d = pd.DataFrame({"unit_code": ["A", "A", "B"], "minutes": [0.0, 10.0, 5.0], "population": [1.0, 1.0, 1.0]})
    >>> unit_gini(d, pd.Index(["A", "B", "C"])).tolist()
    [0.5, 0.0, nan]
    """
    gini = {
        c: weighted_gini(g["minutes"].to_numpy(), g["population"].to_numpy()) for c, g in demand.groupby("unit_code")
    }
    return pd.Series(gini, dtype=float).reindex(index)
