"""Proposals that account for waiting: alternate location and staffing (a heuristic).

The location models of :mod:`pointplan.optimize` minimise travel only. Here each round
(1) proposes ``k`` points with demand weighted by how long its people spend travelling *and
waiting* in the previous round, (2) re-assesses the scenario with the true population,
(3) places the officials (greedy marginal allocation) and (4) measures the time to service
(travel + expected wait at the nearest point). Round 0 is the plain travel-only proposal; the
round with the smallest city-wide time to service is kept.

**This is a heuristic, not an optimum**: the reweighting is a rule of thumb (people who
wait long count more when siting), the rounds need not converge, and the result is only
guaranteed to be no worse than round 0 on the measured time to service. The history of
every round is returned so the gain (or its absence) is visible.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pointplan._errors import InputError
from pointplan.locate import default_candidates, propose_points
from pointplan.staffing.allocate import counter_bounds
from pointplan.staffing.plan import StaffingPlan, staffing_plan
from pointplan.staffing.queue import point_queues
from pointplan.staffing.service import time_to_service

__all__ = ["WaitAwareProposal", "propose_with_waiting"]

#: Wait (minutes) assumed for people whose nearest point is overloaded at the peak, when
#: reweighting demand for the next round.
OVERLOADED_WAIT_MIN = 60.0


@dataclass
class WaitAwareProposal:
    """Result of :func:`propose_with_waiting`.

    Attributes
    ----------
    proposal
        The kept round's :class:`pointplan.optimize.Proposal` (gains measured on the true
        population; ``before_after`` filled).
    plan
        The staffing plan of the scenario with the proposed points.
    history
        One row per round: ``round``, ``candidates`` (comma-joined ids), ``travel_minutes``,
        ``wait_minutes``, ``time_to_service_minutes`` (city, population-weighted),
        ``points_overloaded_at_peak`` and ``kept``.
    best_round
        The round kept (0 = the travel-only proposal).
    method
        ``"heuristic: alternating location and staffing"``.

    Examples
    --------
    The synthetic two-unit city (one overloaded point P1) and two candidate sites: travel
    alone picks the far site C2 (round 0), travel plus waiting picks C1, nearer P1's crowd.

    >>> import geopandas as gpd
    >>> from pointplan.assessment._demo import tiny_assessment, tiny_city
    >>> from pointplan.staffing import propose_with_waiting
    >>> demand = tiny_city()["demand"]
    >>> sites = gpd.GeoDataFrame(
    ...     {"candidate_id": ["C1", "C2"], "kind": ["proposed", "proposed"]},
    ...     geometry=list(demand.geometry.iloc[2:4]),
    ...     crs=demand.crs,
    ... )
    >>> r = propose_with_waiting(tiny_assessment(), 1, rounds=2, candidates=sites)
    >>> r.history[["round", "candidates", "kept"]].values.tolist()
    [[0, 'C2', False], [1, 'C1', True]]
    >>> r.best_round, r.proposal.points["candidate_id"].tolist(), r.plan.summary["officials_recommended"]
    (1, ['C1'], 4)
    """

    proposal: Any
    plan: StaffingPlan
    history: pd.DataFrame
    best_round: int
    method: str = "heuristic: alternating location and staffing"


def _reweight(after: Any, plan: StaffingPlan) -> pd.Series:
    """Weight each demand point by population × (travel + wait) / travel at its nearest point."""
    q = point_queues(after, plan.points["counters_recommended"], zero_counters="overloaded")
    dem = after.demand
    wait = dem["nearest_point"].map(q.peak["wait_mean_min_week"]).astype(float).fillna(OVERLOADED_WAIT_MIN)
    travel = pd.to_numeric(dem["minutes"], errors="coerce").astype(float)
    travel = travel.where(np.isfinite(travel), np.nan).fillna(travel[np.isfinite(travel)].max()).clip(lower=1.0)
    return dem["population"].astype(float) * (travel + wait) / travel


def _after(prop: Any, assessment: Any) -> Any:
    """Return the scenario with the proposed points (the assessment itself when none was proposed)."""
    ba = getattr(prop, "before_after", None)
    return ba["after"] if isinstance(ba, dict) else assessment


def _budget(after: Any, officials: int | None) -> int:
    """Officials for the scenario: the given number, else the counters it assumes (new points included)."""
    if officials is not None:
        return int(officials)
    b = counter_bounds(after.points)
    lo, hi = int(b["counters_min"].sum()), int(b["counters_max"].sum())
    assumed = int(pd.to_numeric(after.points["counters_used"], errors="coerce").fillna(0).sum())
    return min(max(assumed, lo), hi)


def _round(
    assessment: Any,
    weights: pd.Series,
    k: int,
    candidates: Any,
    officials: int | None,
    counters_proposed: int,
    propose_kwargs: Mapping[str, Any],
    staffing_kwargs: Mapping[str, Any],
) -> tuple[Any, StaffingPlan, dict[str, Any]]:
    """One round: site with weighted demand, re-assess with the true population, staff, measure."""
    weighted = dataclasses.replace(assessment, demand=assessment.demand.assign(population=weights.to_numpy()))
    chosen = propose_points(weighted, k, candidates=candidates, reassess=False, **propose_kwargs)
    ids = chosen.points["candidate_id"].astype(str).tolist()
    keep = candidates[candidates["candidate_id"].astype(str).isin(ids)]
    prop = propose_points(assessment, len(ids), candidates=keep, method="greedy", counters_proposed=counters_proposed)
    after = _after(prop, assessment)
    plan = staffing_plan(after, _budget(after, officials), zero_counters="overloaded", **staffing_kwargs)
    q = point_queues(after, plan.points["counters_recommended"], zero_counters="overloaded")
    city = time_to_service(after, q).attrs["city"]
    row = {
        "candidates": ",".join(prop.points["candidate_id"].astype(str)),
        "travel_minutes": city["travel_minutes"],
        "wait_minutes": city["wait_minutes"],
        "time_to_service_minutes": city["time_to_service_minutes"],
        "points_overloaded_at_peak": plan.summary["points_overloaded_at_peak_recommended"],
    }
    return prop, plan, row


def propose_with_waiting(
    assessment: Any,
    k: int,
    *,
    officials: int | None = None,
    rounds: int = 3,
    candidates: Any = None,
    counters_proposed: int = 2,
    staffing_kwargs: Mapping[str, Any] | None = None,
    **propose_kwargs: Any,
) -> WaitAwareProposal:
    """Propose ``k`` points accounting for waiting, by alternating location and staffing.

    A heuristic (see the module notes): round 0 is the travel-only proposal, later rounds
    weight each demand point by ``(travel + wait) / travel`` from the round before, and the
    round with the least city-wide time to service (travel + wait) is kept.

    Parameters
    ----------
    assessment
        The assessment of the current points.
    k
        Points to add.
    officials
        Officials to place in the scenario with the new points (default: the counters it
        assumes, i.e. today's plus ``counters_proposed`` per new point, within the bounds).
    rounds
        Rounds (>= 1; 1 = travel-only proposal, staffed and measured).
    candidates
        Candidate sites (default :func:`pointplan.locate.default_candidates`, computed once).
    counters_proposed
        Counters of a proposed point in the re-assessment.
    staffing_kwargs
        Passed to :func:`~pointplan.staffing.staffing_plan` (``service_minutes``...).
    **propose_kwargs
        Passed to :func:`pointplan.propose_points` (``objective``, ``method``...).

    Returns
    -------
    WaitAwareProposal

    Examples
    --------
    The synthetic city and two candidate sites; one round is the travel-only proposal
    (:class:`WaitAwareProposal` shows the second round choosing the other site):

    >>> import geopandas as gpd
    >>> from pointplan.assessment._demo import tiny_assessment, tiny_city
    >>> demand = tiny_city()["demand"]
    >>> sites = gpd.GeoDataFrame(
    ...     {"candidate_id": ["C1", "C2"], "kind": ["proposed", "proposed"]},
    ...     geometry=list(demand.geometry.iloc[2:4]),
    ...     crs=demand.crs,
    ... )
    >>> r = propose_with_waiting(tiny_assessment(), 1, rounds=1, candidates=sites)
    >>> r.history[["round", "candidates"]].values.tolist(), r.best_round  # travel only
    ([[0, 'C2']], 0)
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        msg = f"rounds must be a whole number >= 1, got {rounds!r}."
        raise InputError(msg)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        msg = f"k (points to add) must be a whole number >= 1, got {k!r}."
        raise InputError(msg)
    if candidates is None:
        candidates = default_candidates(assessment)
    weights = assessment.demand["population"].astype(float)
    rows: list[dict[str, Any]] = []
    best: tuple[float, int, Any, StaffingPlan] | None = None
    for r in range(rounds):
        prop, plan, row = _round(
            assessment, weights, k, candidates, officials, counters_proposed, propose_kwargs, staffing_kwargs or {}
        )
        rows.append({"round": r, **row})
        score = _finite_or_inf(row["time_to_service_minutes"])
        if best is None or score < best[0] - 1e-9:
            best = (score, r, prop, plan)
        # The re-assessment keeps the demand points in order: carry the weights by position.
        weights = pd.Series(_reweight(_after(prop, assessment), plan).to_numpy(), index=assessment.demand.index)
    return _kept(rows, best)


def _finite_or_inf(minutes: float | None) -> float:
    """Return the round's time to service, or infinity when it could not be measured."""
    return minutes if minutes is not None and math.isfinite(minutes) else math.inf


def _kept(rows: list[dict[str, Any]], best: tuple[float, int, Any, StaffingPlan] | None) -> WaitAwareProposal:
    """Return the best round's proposal and plan, with the history of every round."""
    if best is None:  # pragma: no cover - rounds >= 1
        msg = "no round was run"
        raise InputError(msg)
    history = pd.DataFrame(rows)
    history["kept"] = history["round"] == best[1]
    return WaitAwareProposal(proposal=best[2], plan=best[3], history=history, best_round=best[1])
