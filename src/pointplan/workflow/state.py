"""What the steps of a run share: :class:`RunState`, the results so far, and :func:`need`.

A module of its own so that the steps (:mod:`pointplan.workflow.steps`), the province's
steps (:mod:`pointplan.workflow.province`) and the writing step
(:mod:`pointplan.workflow.outputs`) import it without importing each other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from pointplan._fork import Background
    from pointplan.assessment import Assessment, Scenario
    from pointplan.demand import ConversionResult as Conversion
    from pointplan.locate import Proposal, UnconstrainedComparison
    from pointplan.network import TravelEngine
    from pointplan.uncertainty import UncertaintyResult

__all__ = ["RunState", "collect_service_areas", "need"]

T = TypeVar("T")


@dataclass(frozen=True)
class RunState:
    """What the steps of a run have produced so far (each step returns a new state).

    Attributes
    ----------
    units, points
        The units studied and the service points (:func:`load_step`, :func:`locate_points_step`).
    conversion, visits, demand
        The dossiers matched to units, visits per unit per day, the demand points (:func:`demand_step`).
    engine
        The travel-time engine (:func:`engine_step`).
    assessment, proposal
        The assessment and the proposal (:func:`assess_step`, :func:`propose_step`,
        :func:`uncertainty_step`).
    scenario
        The :class:`~pointplan.assessment.Scenario` the assessment was read from: its kept
        travel times answer the later steps' what-ifs (the proposals' after-assessment).
    monte_carlo
        The Monte Carlo of the assessment, started by :func:`start_uncertainty_step` (a
        :class:`~pointplan._fork.Background`), collected by :func:`uncertainty_step`.
    service_areas
        Without a Monte Carlo, the map's service areas drawn on the second core while the run
        proposes (:func:`start_uncertainty_step`), collected by the write step.
    comparison
        The proposals' unconstrained comparison, started on the second core while the
        scenario is assessed (:func:`assess_step`), used by :func:`propose_step`.
    staffing
        The staffing figures of ``summary.json`` (:func:`staff_step`).
    paths, problems
        Outputs written and the documents that could not be replaced (the write step).

    Examples
    --------
    >>> s = RunState()
    >>> s.assessment is None, s.paths
    (True, {})
    """

    units: gpd.GeoDataFrame | None = None
    points: gpd.GeoDataFrame | None = None
    conversion: Conversion | None = None
    visits: pd.Series | None = None
    demand: gpd.GeoDataFrame | None = None
    engine: TravelEngine | None = None
    assessment: Assessment | None = None
    proposal: Proposal | None = None
    scenario: Scenario | None = None
    monte_carlo: Background[tuple[UncertaintyResult, dict[str, Any]]] | None = None
    service_areas: Background[dict[str, Any]] | None = None
    comparison: UnconstrainedComparison | None = None
    staffing: dict[str, Any] | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def need(value: T | None, what: str) -> T:
    """Return ``value``; raise a clear error when an earlier step has not produced it.

    Examples
    --------
    >>> need(3, "units")
    3
    >>> need(None, "units")
    Traceback (most recent call last):
    ...
    RuntimeError: units is not computed yet: run the steps of pointplan.run in order.
    """
    if value is None:
        msg = f"{what} is not computed yet: run the steps of pointplan.run in order."
        raise RuntimeError(msg)
    return value


def collect_service_areas(state: RunState) -> RunState:
    """Put the service areas drawn beside the run (:func:`start_uncertainty_step`) into the assessment.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> s = collect_service_areas(RunState(assessment=tiny_assessment()))  # none were started
    >>> s.service_areas is None
    True
    """
    if state.service_areas is None:
        return state
    areas = state.service_areas.result()
    if state.assessment is not None:
        state.assessment.derived.update(areas)
    return dataclasses.replace(state, service_areas=None)
