"""Former home of the assessment; every name now lives in :mod:`pointplan.assessment`.

Kept so that ``from pointplan.access import assess`` (and every other name it offered)
keeps working.

Examples
--------
>>> from pointplan.access import assess
>>> from pointplan.assessment import assess as new
>>> assess is new
True
"""

from __future__ import annotations

from pointplan.assessment import (
    AVAILABILITY,
    BEYOND_MINUTES,
    DEFAULT_COUNTERS,
    E2SFCA_STEPS,
    EPS,
    IDLE_UTILISATION,
    OVERLOAD_UTILISATION,
    RULE_KINDS,
    VISITS_PER_COUNTER_PER_DAY,
    Assessment,
    TravelEngine,
    WeightFunction,
    assess,
    check_rules,
    e2sfca,
    gaussian_decay,
    step_decay,
    two_sfca,
    weighted_gini,
    weighted_quantile,
)

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
    "Assessment",
    "TravelEngine",
    "WeightFunction",
    "assess",
    "check_rules",
    "e2sfca",
    "gaussian_decay",
    "step_decay",
    "two_sfca",
    "weighted_gini",
    "weighted_quantile",
]
