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
import pandas as pd

from pointplan import settings
from pointplan.assessment.defaults import BEYOND_MINUTES, EPS
from pointplan.assessment.load import mean_utilisation
from pointplan.assessment.stats import weighted_gini, weighted_mean, weighted_quantile

__all__ = ["build_summary"]


def _share(pop: np.ndarray, mask: np.ndarray) -> float:
    total = float(pop.sum())
    return float(pop[mask].sum() / total) if total else math.nan


def _travel_figures(demand: pd.DataFrame) -> dict[str, Any]:
    pop = demand["population"].to_numpy(dtype=float)
    x = demand["minutes"].to_numpy(dtype=float)
    own = demand["own_unit_minutes"].to_numpy(dtype=float)
    within = demand["within_standard"].to_numpy(dtype=bool)
    return {
        "population": float(pop.sum()),
        "population_within_standard": float(pop[within].sum()),
        "population_within_standard_share": _share(pop, within),
        "population_within_30_min_share": _share(pop, demand["within_minutes"].to_numpy(dtype=bool)),
        "population_within_5_km_share": _share(pop, demand["within_distance"].to_numpy(dtype=bool)),
        "mean_minutes_to_nearest": weighted_mean(x, pop),
        "median_minutes_to_nearest": weighted_quantile(x, pop, 0.5),
        "p90_minutes_to_nearest": weighted_quantile(x, pop, 0.9),
        "max_minutes_to_nearest": float(x[pop > 0].max()),
        "mean_minutes_own_unit": weighted_mean(own, pop),
        **{f"share_beyond_{t}_min": _share(pop, x > t + EPS) for t in BEYOND_MINUTES},
        "gini_minutes": weighted_gini(x, pop),
        "population_without_point_in_catchment": float(pop[np.isnan(demand["e2sfca"].to_numpy(dtype=float))].sum()),
    }


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
    travel = _travel_figures(demand)
    points_part = _point_figures(points, params["rule_kinds"])
    return {
        "scenario": name,
        "units": len(units),
        **points_part,
        **{k: v for k, v in travel.items() if k != "population_without_point_in_catchment"},
        "within_minutes_share_by_mode": within_minutes_by_mode,
        "coverage_share_by_mode": {
            m: float((coverage[f"coverage_share_{m}"] * pop_u).sum() / pop_u.sum()) for m in modes
        },
        "units_without_point": int((units["n_points"] == 0).sum()),
        **_load_figures(points),
        "rule_findings": {s: int((findings["severity"] == s).sum()) for s in ("error", "warning", "info")},
        "travel_time_method": method,
        "mode": params["mode"],
        "max_minutes": params["max_minutes"],
        "max_distance_m": params["max_distance_m"],
        "demand_points": len(demand),
        "demand_method": demand_method,
        "location_precision": {str(k): int(v) for k, v in points["location_precision"].value_counts().items()},
        "counters_assumed": int(points["counters_assumed"].sum()),
        "population_without_point_in_catchment": travel["population_without_point_in_catchment"],
    }
