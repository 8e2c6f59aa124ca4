"""Time to service: travel to the nearest point plus the expected wait there."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pointplan._errors import MissingColumnError
from pointplan.staffing.queue import PointQueues, point_queues

__all__ = ["time_to_service"]


def time_to_service(assessment: Any, queues: PointQueues | None = None, *, at: str = "week") -> pd.DataFrame:
    """Travel minutes + expected wait at the chosen (nearest) point, per unit.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment`: its demand points carry ``minutes`` to and
        ``nearest_point``.
    queues
        The queues (default :func:`~pointplan.staffing.point_queues` of the assessment with
        its assumed counters).
    at
        ``"week"``: the arrival-weighted mean wait over the week (what a visitor can expect);
        ``"peak"``: the mean wait at the peak hour.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``population``, ``travel_minutes``, ``wait_minutes``,
        ``time_to_service_minutes`` (population-weighted means over the unit's demand
        points that reach a point) and ``population_at_overloaded_points``; a unit whose
        people go to an overloaded point has no finite wait (``NaN``).
        ``attrs["city"]`` holds the same figures for the whole city.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from pointplan.staffing import queue_table, time_to_service
    >>> demand = pd.DataFrame({"unit_code": ["A", "A", "B"], "population": [100.0, 300.0, 50.0],
    ...                        "minutes": [10.0, 20.0, 30.0], "nearest_point": ["P1", "P1", "P2"]})
    >>> q = queue_table({"P1": 24.0, "P2": 0.0}, {"P1": 3, "P2": 1})
    >>> t = time_to_service(SimpleNamespace(demand=demand), q)
    >>> t[["travel_minutes", "time_to_service_minutes"]].round(2).values.tolist()
    [[17.5, 17.94], [30.0, 30.0]]
    """
    dem = assessment.demand
    missing = [c for c in ("unit_code", "population", "minutes", "nearest_point") if c not in dem.columns]
    if missing:
        msg = f"the assessment's demand lacks {missing}: pass the result of pointplan.assess()."
        raise MissingColumnError(msg)
    if at not in ("week", "peak"):
        msg = f"at must be 'week' or 'peak', got {at!r}."
        raise ValueError(msg)
    q = queues if queues is not None else point_queues(assessment)
    col = "wait_mean_min_week" if at == "week" else "wait_mean_min_peak"
    wait = dem["nearest_point"].map(q.peak[col]).astype(float)
    over = dem["nearest_point"].map(q.peak["overloaded_peak"]).fillna(False).astype(bool)
    travel = pd.to_numeric(dem["minutes"], errors="coerce").astype(float)
    reach = dem["nearest_point"].notna() & np.isfinite(travel)
    d = pd.DataFrame(
        {
            "unit_code": dem["unit_code"],
            "population": dem["population"].astype(float).where(reach, 0.0),
            "travel": travel.where(reach, 0.0),
            "wait": wait.where(reach & (dem["population"].astype(float) > 0), 0.0),
            "over_pop": dem["population"].astype(float).where(over & reach, 0.0),
        }
    )
    out = d.groupby("unit_code").apply(_weighted, include_groups=False)
    out.index.name = "unit_code"
    out.attrs["city"] = _weighted(d).to_dict()
    return out


def _weighted(g: pd.DataFrame) -> pd.Series:
    w = g["population"].to_numpy()
    tot = w.sum()
    # numpy sums (not pandas'): a wait of NaN at an overloaded point must make the mean NaN.
    travel = float(np.sum(w * g["travel"].to_numpy()) / tot) if tot else np.nan
    wait = float(np.sum(w * g["wait"].to_numpy()) / tot) if tot else np.nan
    return pd.Series(
        {
            "population": float(tot),
            "travel_minutes": travel,
            "wait_minutes": wait,
            "time_to_service_minutes": travel + wait,
            "population_at_overloaded_points": float(g["over_pop"].sum()),
        }
    )
