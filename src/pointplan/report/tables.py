"""The per-unit and per-point tables of an assessment (``units.csv``, ``points.csv``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["POINT_TABLE_COLUMNS", "UNIT_COLUMNS", "points_table", "units_table"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Columns of ``units.csv`` (in order): code, name, kind, population, points, coverage
#: share, mean / p90 minutes to the nearest point, in-person visits per day, per-counter load.
UNIT_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "full_name",
    "kind",
    "population",
    "points",
    "points_all_kinds",
    "coverage_share",
    "population_beyond_standard",
    "mean_minutes",
    "median_minutes",
    "p90_minutes",
    "max_minutes",
    "share_beyond_15",
    "share_beyond_30",
    "share_beyond_45",
    "own_unit_mean_minutes",
    "walk_within_standard_minutes_share",
    "visits_per_day",
    "counters",
    "visits_per_counter",
    "two_sfca",
    "e2sfca",
    "gini_minutes",
    "nearest_point_precision",
    "travel_time_method",
    "network_population_share",
    "mode",
)

#: Columns of ``points.csv``.
POINT_TABLE_COLUMNS: tuple[str, ...] = (
    "point_id",
    "name",
    "kind",
    "unit_code",
    "declared_unit_code",
    "address",
    "lon",
    "lat",
    "location_precision",
    "counters_used",
    "counters_assumed",
    "population_served",
    "visits_per_day",
    "visits_per_day_huff",
    "capacity_per_day",
    "utilisation",
    "utilisation_huff",
    "load_status",
    "travel_time_method",
    "source",
)


def units_table(assessment: Any) -> pd.DataFrame:
    """Return the per-unit table written to ``units.csv`` (one row per unit).

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.

    Returns
    -------
    pandas.DataFrame
        One row per unit, columns :data:`UNIT_COLUMNS` (rounded to 4 decimals).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> t = units_table(demo_assessment())
    >>> t[["code", "population", "points"]].values.tolist()
    [['00001', 300, 1], ['00002', 100, 0]]
    """
    u = assessment.units
    cov = assessment.coverage
    t = pd.DataFrame(u.drop(columns="geometry")).rename(
        columns={"n_points": "points", "n_points_all": "points_all_kinds"}
    )
    t["code"] = u.index.astype(str)
    walk_col = next((c for c in cov.columns if c.startswith("within_") and c.endswith("_walk")), None)
    t["walk_within_standard_minutes_share"] = cov[walk_col].reindex(u.index) if walk_col else np.nan
    return t.reindex(columns=list(UNIT_COLUMNS)).reset_index(drop=True).round(4)


def points_table(assessment: Any) -> pd.DataFrame:
    """Return the per-point table written to ``points.csv`` (one row per point).

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.

    Returns
    -------
    pandas.DataFrame
        One row per point, columns :data:`POINT_TABLE_COLUMNS`; ``lon``/``lat`` in degrees.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> t = points_table(demo_assessment())
    >>> t[["point_id", "population_served", "visits_per_day"]].values.tolist()
    [['P1', 400.0, 40.0]]
    """
    p = assessment.points
    t = pd.DataFrame(p.drop(columns="geometry")).copy()
    t["lon"] = p.geometry.x.round(6)
    t["lat"] = p.geometry.y.round(6)
    for col in POINT_TABLE_COLUMNS:
        if col not in t:
            t[col] = None
    return t[list(POINT_TABLE_COLUMNS)].reset_index(drop=True).round(4)
