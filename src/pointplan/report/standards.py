"""The standard of each travel mode, stated with its clauses, and the figure of each clause.

The service standard reads "30 minutes or 5 km". By motorbike, bike or car the two clauses
are one standard (within either). On foot they are not the same promise: 5 km in a straight
line is over an hour's walk, so the distance clause would call "covered" people who walk
far beyond 30 minutes (Xã Cổ Đô: everyone within 5 km, most of them over 30 minutes on
foot). On foot the headline is therefore the 30-minute share, and the 5-km clause is shown
as its own figure (``walk_within_minutes_share``, ``walk_within_distance_share``).
"""

from __future__ import annotations

import math
from typing import Any

from pointplan.locate.points_proposal import TIME_ONLY_MODES, CoverageRule, mode_rule

__all__ = ["TIME_ONLY_MODES", "CoverageRule", "mode_rule", "standards_by_mode"]


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def standards_by_mode(assessment: Any) -> dict[str, Any]:
    """Return each assessed mode's standard with its clauses and figures, and the walking keys.

    Returns
    -------
    dict
        ``standards_by_mode``: mode -> ``rule`` (``"time"`` or ``"time_or_distance"``),
        ``max_minutes``, ``max_distance_km``, ``headline_share`` (the share of people within
        the mode's standard), ``within_minutes_share`` and ``within_distance_share`` (each
        clause alone; the distance clause is a straight line, the same for every mode);
        ``walk_within_minutes_share`` (the headline on foot) and ``walk_within_distance_share``
        (the 5-km clause, its own figure), when walking was assessed.

    Examples
    --------
    >>> import types
    >>> a = types.SimpleNamespace(summary={"max_minutes": 30.0, "max_distance_m": 5000.0,
    ...     "population_within_5_km_share": 1.0,
    ...     "within_minutes_share_by_mode": {"walk": 0.13, "motorbike": 1.0},
    ...     "coverage_share_by_mode": {"walk": 1.0, "motorbike": 1.0}})
    >>> s = standards_by_mode(a)
    >>> s["walk_within_minutes_share"], s["walk_within_distance_share"]
    (0.13, 1.0)
    >>> s["standards_by_mode"]["walk"]["headline_share"], s["standards_by_mode"]["motorbike"]["rule"]
    (0.13, 'time_or_distance')
    """
    s = assessment.summary
    minutes = _num(s.get("max_minutes"))
    dist_m = _num(s.get("max_distance_m"))
    by_time = s.get("within_minutes_share_by_mode") or {}
    either = s.get("coverage_share_by_mode") or {}
    in_dist = _num(s.get("population_within_5_km_share"))
    out: dict[str, Any] = {"standards_by_mode": {}}
    for mode, share in by_time.items():
        rule = mode_rule(mode)
        time_share = _num(share)
        out["standards_by_mode"][mode] = {
            "rule": rule,
            "max_minutes": minutes,
            "max_distance_km": None if dist_m is None else dist_m / 1000.0,
            "headline_share": time_share if rule == "time" else _num(either.get(mode)),
            "within_minutes_share": time_share,
            "within_distance_share": in_dist,
        }
    if "walk" in by_time:
        out["walk_within_minutes_share"] = _num(by_time["walk"])
        out["walk_within_distance_share"] = in_dist
    return out
