"""Assessment of a set of service points: rules, coverage, accessibility, load, equity.

:func:`assess` answers the planner's core question — does this set of points serve
everyone, by the rules and by the city's standard, and who is left behind? — and returns
an :class:`Assessment` of tidy tables that the maps, the report and the command line use.

How the subpackage is laid out:

* :mod:`~pointplan.assessment.core` — :func:`assess`, a short sequence of named steps;
* :mod:`~pointplan.assessment.options` — :class:`AssessSettings`, every setting, checked;
* :mod:`~pointplan.assessment.reassess` — :func:`reassess`, the same settings on new points;
* :mod:`~pointplan.assessment.scenario` — :class:`Scenario`, what-ifs answered incrementally;
* :mod:`~pointplan.assessment.inputs` — checking the points, demand and network coverage;
* :mod:`~pointplan.assessment.rules` — the rules (:func:`check_rules`) and findings;
* :mod:`~pointplan.assessment.coverage` — nearest point, the standard, own unit, modes;
* :mod:`~pointplan.assessment.fca` — 2SFCA / E2SFCA (step or function weights);
* :mod:`~pointplan.assessment.load` — visits, nearest and Huff load, utilisation;
* :mod:`~pointplan.assessment.equity` — phường vs xã, Gini;
* :mod:`~pointplan.assessment.stats` — weighted quantiles, Gini;
* :mod:`~pointplan.assessment.result` — :class:`Assessment`;
* :mod:`~pointplan.assessment.summary` — the headline figures;
* :mod:`~pointplan.assessment.defaults` — counters, availability, steps, thresholds.

Definitions (all configurable):

* **Standard** (Hanoi's design standard for the Centre): a resident is served when the
  nearest point is within ``max_minutes`` (30) of travel **or** within ``max_distance_m``
  (5 km) in a straight line (the "bán kính phục vụ").
* **No administrative boundary** (Decree 118/2025): citizens may use any point, so the
  nearest point anywhere is the main measure; the nearest point in one's own unit is a
  second view (``own_unit_minutes``).
* **Load**: expected in-person visits a day (:func:`pointplan.demand.visits_per_day`),
  assigned to the nearest point or by a Huff (gravity) model, against a capacity of
  ``counters × visits a counter serves a day × availability``.
* **2SFCA / E2SFCA**: counters per 10,000 people within the catchment, with the step
  decay of Luo & Qi (2009) for the enhanced version (weights 1, 0.68, 0.22 at 10, 20 and
  30 minutes), equal to PySAL ``access`` on the same inputs; ``NaN`` where no point is
  within the catchment (as in ``access``).

Examples
--------
>>> from pointplan.assessment import assess
>>> from pointplan.assessment._demo import tiny_city
>>> c = tiny_city()
>>> a = assess(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=())
>>> a.summary["population_within_standard_share"]
0.9
"""

from __future__ import annotations

from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.core import assess
from pointplan.assessment.defaults import (
    AVAILABILITY,
    BEYOND_MINUTES,
    DEFAULT_COUNTERS,
    E2SFCA_STEPS,
    EPS,
    IDLE_UTILISATION,
    OVERLOAD_UTILISATION,
    RULE_KINDS,
    VISITS_PER_COUNTER_PER_DAY,
)
from pointplan.assessment.fca import WeightFunction, e2sfca, gaussian_decay, step_decay, two_sfca
from pointplan.assessment.load import huff_visits
from pointplan.assessment.options import AssessSettings
from pointplan.assessment.reassess import reassess
from pointplan.assessment.result import Assessment
from pointplan.assessment.rules import check_rules
from pointplan.assessment.scenario import Change, Scenario
from pointplan.assessment.stats import weighted_gini, weighted_quantile

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
    "AssessSettings",
    "Assessment",
    "Change",
    "Scenario",
    "TravelEngine",
    "WeightFunction",
    "assess",
    "check_rules",
    "e2sfca",
    "gaussian_decay",
    "huff_visits",
    "reassess",
    "step_decay",
    "two_sfca",
    "weighted_gini",
    "weighted_quantile",
]
