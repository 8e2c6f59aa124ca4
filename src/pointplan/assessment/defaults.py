"""Defaults and thresholds of the assessment (all overridable through :func:`assess`).

Examples
--------
>>> from pointplan.assessment.defaults import DEFAULT_COUNTERS, E2SFCA_STEPS
>>> DEFAULT_COUNTERS["branch"], E2SFCA_STEPS[20.0]
(11, 0.68)
"""

from __future__ import annotations

__all__ = [
    "AVAILABILITY",
    "BEYOND_MINUTES",
    "DEFAULT_COUNTERS",
    "E2SFCA_STEPS",
    "EPS",
    "IDLE_UTILISATION",
    "OVERLOAD_UTILISATION",
    "RULE_KINDS",
    "VISITS_PER_COUNTER_PER_DAY",
]

#: Counters assumed per kind of point where the data gives none. No numeric norm exists
#: (Decree 118/2025 gives none): a branch gets 11, the one published figure (Branch No. 7);
#: a unit point 3, as 2–5 officials per unit move to the Centre (Plan 322/KH-UBND);
#: community points, kiosks and the mobile truck 1. Replace with real counts in the
#: ``counters`` column of the points.
DEFAULT_COUNTERS: dict[str, int] = {
    "branch": 11,
    "unit_point": 3,
    "community": 1,
    "mobile": 1,
    "kiosk": 1,
    "head_office": 0,
    "proposed": 2,
}

#: In-person visits one counter serves in a working day: 8 hours × 4 dossiers an hour
#: (about 15 minutes per dossier received and checked). An assumption, documented as such.
VISITS_PER_COUNTER_PER_DAY: float = 32.0

#: Share of working days a kind of point is open: the mobile truck makes 1–2 trips a week
#: (planning context), i.e. about 1.5 of 5 days.
AVAILABILITY: dict[str, float] = {"mobile": 0.3}

#: E2SFCA step weights (upper bound in minutes -> weight), Luo & Qi (2009).
E2SFCA_STEPS: dict[float, float] = {10.0: 1.0, 20.0: 0.68, 30.0: 0.22}

#: Utilisation above which a point is "overloaded".
OVERLOAD_UTILISATION: float = 1.0
#: Utilisation below which a point is "idle".
IDLE_UTILISATION: float = 0.2

#: Kinds of point that count towards the rule "one point in every unit, at least 126".
RULE_KINDS: tuple[str, ...] = ("unit_point",)

#: Tolerance (minutes / metres) for threshold comparisons, so that 15.000000000000002
#: minutes counts as 15.
EPS: float = 1e-6

#: Thresholds (minutes) reported as "share of people beyond".
BEYOND_MINUTES: tuple[int, ...] = (15, 30, 45)
