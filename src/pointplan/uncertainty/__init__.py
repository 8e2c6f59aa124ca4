"""Honest uncertainty: how far each headline figure could move because of what is assumed.

Most point locations are stand-ins, most counters are assumed, travel times come from a
model, and the in-person share of dossiers is an estimate. :func:`run_uncertainty` draws
these within their plausible ranges (seeded, reproducible) and gives a P5/P50/P95 interval
beside every headline figure, per unit intervals, a sensitivity table (which assumption
moves each figure most), and :func:`proposal_robustness` says how often each proposed site
survives the draws.

The headline figures a run reports are the central estimate of the draws (their P50), with
the P5–P95 interval beside them and the figure at the stand-ins kept as
``<metric>_at_standins`` (:func:`headline_figures`, :func:`central_units`).

Modules: ``assumptions`` (the ranges, validated), ``sites`` (where a stand-in may really be:
itself first, then the populated places around it), ``nearest`` (the nearest point as the
points move, reusing the demand's snapping), ``model`` (one draw, re-evaluated fast),
``montecarlo`` (the draws, intervals, sensitivity), ``central`` (the likely value first),
``parallel`` (Dask), ``robustness`` (proposals across draws).
"""

from __future__ import annotations

from pointplan.uncertainty.assumptions import ASSUMPTION_NAMES, Assumptions, check_draws, check_seed
from pointplan.uncertainty.central import FIGURES_BASIS, INTEGER_METRICS, at_standins, central_units, headline_figures
from pointplan.uncertainty.model import HEADLINE_METRICS, UNIT_METRICS, Draw, DrawModel
from pointplan.uncertainty.montecarlo import QUANTILES, UncertaintyResult, known_and_assumed, run_uncertainty
from pointplan.uncertainty.robustness import proposal_robustness

__all__ = [
    "ASSUMPTION_NAMES",
    "FIGURES_BASIS",
    "HEADLINE_METRICS",
    "INTEGER_METRICS",
    "QUANTILES",
    "UNIT_METRICS",
    "Assumptions",
    "Draw",
    "DrawModel",
    "UncertaintyResult",
    "at_standins",
    "central_units",
    "check_draws",
    "check_seed",
    "headline_figures",
    "known_and_assumed",
    "proposal_robustness",
    "run_uncertainty",
]
