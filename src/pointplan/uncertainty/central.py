"""The likely value first: headline figures as the central estimate of the draws.

An assessment computes its figures with every point at its stand-in: a best case, because
stand-ins sit where travel is least for the unit's people. The figures a run reports are
instead the central estimate (P50) of the Monte Carlo draws
(:func:`~pointplan.uncertainty.run_uncertainty`), with the P5–P95 interval beside them; the
figure at the stand-ins stays available as ``<metric>_at_standins`` ("if every head office
stood at its stand-in"). Without the draws (``--no-uncertainty``) the figures stay at the
stand-ins and ``figures_basis`` says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from pointplan.uncertainty.model import HEADLINE_METRICS, UNIT_METRICS

__all__ = ["FIGURES_BASIS", "FIGURES_NOTES", "INTEGER_METRICS", "at_standins", "central_units", "headline_figures"]

#: What the headline figures are: the P50 of the draws, or the figures at the stand-ins.
FIGURES_BASIS: tuple[str, ...] = ("monte_carlo_p50", "at_standins")
Basis = Literal["monte_carlo_p50", "at_standins"]

#: Headline metrics that count points (their interval and central value are draws' own values).
INTEGER_METRICS: frozenset[str] = frozenset({"points_overloaded", "points_idle"})

#: The note ``summary.json`` carries for each basis (``figures_note``).
FIGURES_NOTES: dict[str, str] = {
    "monte_carlo_p50": (
        "Headline figures are the central estimate: the P50 of the Monte Carlo draws over what is "
        "assumed (stand-in locations, travel-time error, assumed counters, in-person share), with "
        "<metric>_interval = [P5, P50, P95] beside them. <metric>_at_standins is the figure if every "
        "head office stood at its stand-in (a best case: stand-ins sit where travel is least)."
    ),
    "at_standins": (
        "Headline figures are at the stand-ins (no Monte Carlo draws were run): the figures if every "
        "head office stood at its stand-in, a best case. Run without --no-uncertainty for the likely "
        "values and their P5–P95 intervals."
    ),
}


def at_standins(summary: Mapping[str, Any], metric: str) -> Any:
    """Return the at-stand-in value of a headline metric from an assessment's summary.

    ``walk_within_minutes_share`` is read from ``within_minutes_share_by_mode["walk"]``
    (``None`` when walking was not assessed).

    Examples
    --------
    >>> at_standins({"mean_minutes_to_nearest": 6.0}, "mean_minutes_to_nearest")
    6.0
    >>> at_standins({"within_minutes_share_by_mode": {"walk": 0.56}}, "walk_within_minutes_share")
    0.56
    """
    if metric in summary:
        return summary[metric]
    if metric == "walk_within_minutes_share":
        return dict(summary.get("within_minutes_share_by_mode", {}) or {}).get("walk")
    return None


def headline_figures(summary: Mapping[str, Any], result: Any | None) -> dict[str, Any]:
    """Return the headline keys of ``summary.json``: central values, at-stand-in values, intervals.

    Parameters
    ----------
    summary
        The assessment's summary (figures at the stand-ins).
    result
        The :class:`~pointplan.uncertainty.UncertaintyResult`, or ``None`` without draws.

    Returns
    -------
    dict
        For every metric of :data:`~pointplan.uncertainty.HEADLINE_METRICS`: ``<metric>``
        (the P50 of the draws, or the at-stand-in value without them), ``<metric>_at_standins``
        and, with draws, ``<metric>_interval`` ``[p5, p50, p95]``; ``figures_basis``
        (``"monte_carlo_p50"`` or ``"at_standins"``) and ``figures_note``.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.uncertainty import Assumptions, run_uncertainty
    >>> a = tiny_assessment()
    >>> r = run_uncertainty(a, draws=20, seed=1, sensitivity_draws=0, assumptions=Assumptions(vary=("travel_time",)))
    >>> h = headline_figures(a.summary, r)
    >>> h["figures_basis"], round(h["mean_minutes_to_nearest_at_standins"], 3), round(h["mean_minutes_to_nearest"], 3)
    ('monte_carlo_p50', 9.375, 9.635)
    >>> h["mean_minutes_to_nearest"] == h["mean_minutes_to_nearest_interval"][1]
    True
    >>> headline_figures(a.summary, None)["figures_basis"]
    'at_standins'
    """
    basis: Basis = "at_standins" if result is None else "monte_carlo_p50"
    out: dict[str, Any] = {}
    for m in HEADLINE_METRICS:
        at = at_standins(summary, m)
        out[f"{m}_at_standins"] = at
        if result is None or m not in result.intervals:
            out[m] = at
            continue
        p50 = result.intervals[m][1]
        out[m] = int(p50) if m in INTEGER_METRICS and np.isfinite(p50) else p50
        out[f"{m}_interval"] = result.intervals[m]
    out["figures_basis"] = basis
    out["figures_note"] = FIGURES_NOTES[basis]
    return out


def central_units(table: pd.DataFrame, result: Any | None, *, key: pd.Series | None = None) -> pd.DataFrame:
    """Return a units table whose coverage, mean and P90 minutes are the central estimates.

    Parameters
    ----------
    table
        A units table with :data:`~pointplan.uncertainty.UNIT_METRICS` columns at the stand-ins
        (``units.csv``, or an assessment's ``units``).
    result
        The :class:`~pointplan.uncertainty.UncertaintyResult` (its ``units`` hold
        ``<metric>_p50``), or ``None``: the table is returned as it is (at the stand-ins).
    key
        The unit code of each row (default: the table's index).

    Returns
    -------
    pandas.DataFrame
        A copy: ``<metric>`` is the P50 of the draws (where the draws give one; the at-stand-in
        value otherwise) and ``<metric>_at_standins`` the figure at the stand-ins, placed right
        after it.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"mean_minutes": [6.0, 9.0]}, index=["00001", "00002"])
    >>> r = SimpleNamespace(units=pd.DataFrame({"mean_minutes_p50": [7.5]}, index=["00001"]))
    >>> central_units(t, r).values.tolist()
    [[7.5, 6.0], [9.0, 9.0]]
    >>> central_units(t, r).columns.tolist(), central_units(t, None).columns.tolist()
    (['mean_minutes', 'mean_minutes_at_standins'], ['mean_minutes'])
    """
    out = table.copy()
    units = getattr(result, "units", None)
    if units is None:  # no draws: the figures are at the stand-ins (summary.json's figures_basis says so)
        return out
    codes = pd.Series(out.index, index=out.index) if key is None else pd.Series(key.to_numpy(), index=out.index)
    codes = codes.astype(str)
    for m in UNIT_METRICS:
        if m not in out.columns or f"{m}_at_standins" in out.columns:
            continue
        at = out[m].copy()
        if f"{m}_p50" in units.columns:
            p50 = pd.Series(units[f"{m}_p50"].to_numpy(), index=units.index.astype(str))
            out[m] = codes.map(p50).astype(float).fillna(at.astype(float))
        out.insert(out.columns.get_loc(m) + 1, f"{m}_at_standins", at)
    return out
