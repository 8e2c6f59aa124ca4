"""The headline figures of an assessment (JSON-serialisable).

Examples
--------
>>> from pointplan.assessment._demo import tiny_assessment
>>> s = tiny_assessment().summary
>>> round(s["mean_minutes_to_nearest"], 6), s["share_beyond_30_min"], s["population_without_point_in_catchment"]
(9.375, 0.1, 40.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan import settings
from pointplan.assessment.defaults import BEYOND_MINUTES, EPS
from pointplan.assessment.load import mean_utilisation
from pointplan.assessment.stats import weighted_mean

__all__ = ["assemble_summary", "build_summary", "travel_figures"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _share(pop: np.ndarray, mask: np.ndarray) -> float:
    total = float(pop.sum())
    return float(pop[mask].sum() / total) if total else math.nan


def _travel_figures(demand: pd.DataFrame) -> dict[str, Any]:
    return travel_figures(
        demand["population"].to_numpy(dtype=float),
        demand["minutes"].to_numpy(dtype=float),
        demand["own_unit_minutes"].to_numpy(dtype=float),
        demand["within_minutes"].to_numpy(dtype=bool),
        demand["within_distance"].to_numpy(dtype=bool),
        demand["e2sfca"].to_numpy(dtype=float),
        within=demand["within_standard"].to_numpy(dtype=bool),
    )


def travel_figures(
    pop: FloatArray,
    minutes: FloatArray,
    own: FloatArray,
    within_minutes: BoolArray,
    within_distance: BoolArray,
    e2sfca: FloatArray,
    within: BoolArray | None = None,
) -> dict[str, Any]:
    """Return the city-wide travel figures of the summary from the demand's arrays.

    The standard is ``within_minutes | within_distance``; ``population_without_point_in_catchment``
    counts the people whose ``e2sfca`` is NaN (:func:`build_summary` leaves it last).
    ``within`` (default ``within_minutes | within_distance``) is the standard per place.

    Examples
    --------
    >>> pop, x = np.array([100.0, 300.0]), np.array([10.0, 40.0])
    >>> inside = np.array([True, False])
    >>> t = travel_figures(pop, x, x, inside, inside, np.array([1.0, np.nan]))
    >>> t["mean_minutes_to_nearest"], t["population_within_standard_share"], t["population_without_point_in_catchment"]
    (32.5, 0.25, 300.0)
    """
    within = within_minutes | within_distance if within is None else within
    median, p90, gini = _quantiles_and_gini(minutes, pop)
    return {
        "population": float(pop.sum()),
        "population_within_standard": float(pop[within].sum()),
        "population_within_standard_share": _share(pop, within),
        "population_within_30_min_share": _share(pop, within_minutes),
        "population_within_5_km_share": _share(pop, within_distance),
        "mean_minutes_to_nearest": weighted_mean(minutes, pop),
        "median_minutes_to_nearest": median,
        "p90_minutes_to_nearest": p90,
        "max_minutes_to_nearest": float(minutes[pop > 0].max()),
        "mean_minutes_own_unit": weighted_mean(own, pop),
        **{f"share_beyond_{t}_min": _share(pop, minutes > t + EPS) for t in BEYOND_MINUTES},
        "gini_minutes": gini,
        "population_without_point_in_catchment": float(pop[np.isnan(e2sfca)].sum()),
    }


def _quantiles_and_gini(x: FloatArray, w: FloatArray) -> tuple[float, float, float]:
    """Weighted median, 90th percentile and Gini of ``x`` with one sort.

    The arithmetic of :func:`~pointplan.assessment.stats.weighted_quantile` and
    :func:`~pointplan.assessment.stats.weighted_gini`, step for step (the same values).

    Examples
    --------
    >>> from pointplan.assessment.stats import weighted_gini, weighted_quantile
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.integers(0, 9, 50).astype(float), rng.random(50)
    >>> x[3] = np.nan
    >>> _quantiles_and_gini(x, w) == (weighted_quantile(x, w, 0.5), weighted_quantile(x, w, 0.9), weighted_gini(x, w))
    True
    """
    order = np.argsort(x, kind="stable")
    if x.size == 0 or w.sum() <= 0:
        median = p90 = math.nan
    else:
        cum, xs = np.cumsum(w[order]), x[order]
        k = np.searchsorted(cum, np.array([0.5, 0.9]) * cum[-1] - 1e-9 * cum[-1], side="left")
        median, p90 = float(xs[min(int(k[0]), x.size - 1)]), float(xs[min(int(k[1]), x.size - 1)])
    ok = np.isfinite(x) & (w > 0)
    if not ok.any():
        return median, p90, math.nan
    total = w[ok].sum()
    mean = float((w[ok] * x[ok]).sum() / total)
    if mean == 0:
        return median, p90, 0.0
    sub = order[ok[order]]
    xg, wg = x[sub], w[sub]
    cum = np.cumsum(wg)
    return median, p90, float((wg * xg * (2 * cum - wg - total)).sum() / (total**2 * mean))


def _point_figures(points: pd.DataFrame, rule_kinds: Sequence[str]) -> dict[str, Any]:
    return {
        "points": len(points),
        "points_by_kind": {str(k): int(v) for k, v in points["kind"].value_counts().items()},
        "rule_points": int(points["kind"].isin(list(rule_kinds)).sum()),
        "branches_expected": settings.branches_expected,
        "branches_located": int((points["kind"] == "branch").sum()),
    }


def _load_figures(points: pd.DataFrame) -> dict[str, Any]:
    return {
        "visits_per_day": float(points["visits_per_day"].sum()),
        "capacity_per_day": float(points["capacity_per_day"].sum()),
        "mean_utilisation": mean_utilisation(points),
        "points_overloaded": int((points["load_status"] == "overloaded").sum()),
        "points_idle": int((points["load_status"] == "idle").sum()),
    }


def build_summary(
    *,
    name: str,
    units: pd.DataFrame,
    points: pd.DataFrame,
    demand: pd.DataFrame,
    findings: pd.DataFrame,
    coverage: pd.DataFrame,
    within_minutes_by_mode: dict[str, float],
    params: dict[str, Any],
    method: str,
    demand_method: str,
) -> dict[str, Any]:
    """Return the headline figures of an assessment.

    Minutes are population-weighted over the people who reach a point; shares are of
    all people. ``population_without_point_in_catchment`` counts the people with no
    point within the E2SFCA catchment (the last step, 30 minutes): their E2SFCA is NaN
    in the demand table and counts as 0 counters in the unit and equity tables.

    Examples
    --------
    The assessment's own tables give back its summary:

    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> s = build_summary(
    ...     name="demo", units=a.units, points=a.points, demand=a.demand, findings=a.findings,
    ...     coverage=a.coverage, within_minutes_by_mode={}, params=a.params,
    ...     method=a.travel_time_method, demand_method="user",
    ... )
    >>> s["population"], s["population_within_standard_share"], s["units_without_point"]
    (400.0, 0.9, 1)
    >>> s["rule_findings"], s["mean_utilisation"]
    ({'error': 2, 'warning': 2, 'info': 0}, 0.625)
    """
    pop_u = units["demand_population"]
    modes = [c.removeprefix("coverage_share_") for c in coverage.columns if c.startswith("coverage_share_")]
    return assemble_summary(
        name=name,
        n_units=len(units),
        points=points,
        travel=_travel_figures(demand),
        within_minutes_by_mode=within_minutes_by_mode,
        coverage_share_by_mode={m: float((coverage[f"coverage_share_{m}"] * pop_u).sum() / pop_u.sum()) for m in modes},
        units_without_point=int((units["n_points"] == 0).sum()),
        rule_findings={s: int((findings["severity"] == s).sum()) for s in ("error", "warning", "info")},
        params=params,
        method=method,
        demand_points=len(demand),
        demand_method=demand_method,
    )


def assemble_summary(
    *,
    name: str,
    n_units: int,
    points: pd.DataFrame,
    travel: dict[str, Any],
    within_minutes_by_mode: dict[str, float],
    coverage_share_by_mode: dict[str, float],
    units_without_point: int,
    rule_findings: dict[str, int],
    params: dict[str, Any],
    method: str,
    demand_points: int,
    demand_method: str,
) -> dict[str, Any]:
    """Return the summary from its parts (the keys in the order of :func:`build_summary`).

    ``travel`` is :func:`travel_figures`; the point and load figures are read from
    ``points`` (with the load columns). :class:`pointplan.Scenario` gives the parts it
    keeps as arrays; :func:`build_summary` computes them from the tables.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> s = assemble_summary(
    ...     name="demo", n_units=2, points=a.points, travel=_travel_figures(a.demand), within_minutes_by_mode={},
    ...     coverage_share_by_mode={}, units_without_point=1, rule_findings={"error": 0, "warning": 0, "info": 0},
    ...     params=a.params, method=a.travel_time_method, demand_points=4, demand_method="user",
    ... )
    >>> {k: s[k] == a.summary[k] for k in ("mean_minutes_to_nearest", "points_by_kind", "mean_utilisation")}
    {'mean_minutes_to_nearest': True, 'points_by_kind': True, 'mean_utilisation': True}
    """
    points_part = _point_figures(points, params["rule_kinds"])
    return {
        "scenario": name,
        "units": n_units,
        **points_part,
        **{k: v for k, v in travel.items() if k != "population_without_point_in_catchment"},
        "within_minutes_share_by_mode": within_minutes_by_mode,
        "coverage_share_by_mode": coverage_share_by_mode,
        "units_without_point": units_without_point,
        **_load_figures(points),
        "rule_findings": rule_findings,
        "travel_time_method": method,
        "mode": params["mode"],
        "max_minutes": params["max_minutes"],
        "max_distance_m": params["max_distance_m"],
        "demand_points": demand_points,
        "demand_method": demand_method,
        "location_precision": {str(k): int(v) for k, v in points["location_precision"].value_counts().items()},
        "counters_assumed": int(points["counters_assumed"].sum()),
        "population_without_point_in_catchment": travel["population_without_point_in_catchment"],
    }
