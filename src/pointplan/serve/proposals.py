"""Proposals in the editor: ranked sites for new points, each with what it saves.

The travel minutes from every demand point to every candidate site do not change while a
planner edits the points, so they are routed once per travel mode and kept; a request then
costs one nearest-point search for the current points and a greedy p-median
(:func:`pointplan.locate.solve_pmedian`): seconds on the whole city instead of the tens of
seconds of :func:`pointplan.locate.propose` from scratch.

Examples
--------
>>> from pointplan.assessment.demo import tiny_city
>>> c = tiny_city()
>>> sites = CandidateSites(default_candidates(c["units"], c["demand"]), c["demand"])
>>> best = sites.propose(c["points"], c["engine"], 1)
>>> best[0]["rank"], best[0]["gain_person_minutes_saved"] > 0
(1, True)
"""

from __future__ import annotations

import math
import threading
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from pointplan import settings
from pointplan._errors import InputError, PointplanError
from pointplan.locate import grid_candidates, real_sites, solve_pmedian
from pointplan.locate.sites import sites_to_candidates

__all__ = ["CUTOFF_MINUTES", "CandidateSites", "default_candidates"]

#: Candidates farther than this from a demand point are not routed to it.
CUTOFF_MINUTES = 90.0


def default_candidates(units: gpd.GeoDataFrame, demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the real public buildings of ``units`` as candidates, else populated grid cells.

    Examples
    --------
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> cands = default_candidates(c["units"], c["demand"])  # the synthetic units lie over central Hanoi
    >>> len(cands) > 0, "candidate_id" in cands.columns
    (True, True)
    """
    try:
        sites, _ = real_sites(units)
        cands = sites_to_candidates(sites) if len(sites) else None
    except (PointplanError, ValueError, KeyError, OSError):
        cands = None
    if cands is None or cands.empty:
        cands = grid_candidates(demand, spacing_m=1000.0)
        if cands.empty:
            cands = grid_candidates(demand, spacing_m=1000.0, min_population=0.0)
    return cands.to_crs(settings.geographic_crs).reset_index(drop=True)


class CandidateSites:
    """Candidate sites and, per travel mode, the minutes from every demand point to each.

    Parameters
    ----------
    candidates
        Sites with ``candidate_id`` (and ``name`` where known), any CRS.
    demand
        Demand points with ``population``.

    Examples
    --------
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> sites = CandidateSites(default_candidates(c["units"], c["demand"]), c["demand"])
    >>> sites.cost(c["engine"]).shape[0]  # one row per demand point
    4
    """

    def __init__(self, candidates: gpd.GeoDataFrame, demand: gpd.GeoDataFrame) -> None:
        if candidates is None or len(candidates) == 0:
            msg = "candidates: there are no candidate sites to propose from."
            raise InputError(msg)
        self.candidates = candidates.to_crs(settings.geographic_crs).reset_index(drop=True)
        self.demand = demand
        self.weights = demand["population"].to_numpy(dtype=float)
        self._cost: dict[str, sp.csr_matrix] = {}
        self._lock = threading.Lock()

    def cost(self, engine: Any) -> sp.csr_matrix:
        """Return the demand × candidate minutes of ``engine``'s mode (routed on first use)."""
        mode = str(getattr(engine, "mode", ""))
        with self._lock:
            if mode not in self._cost:
                od = engine.od_long(self.demand, self.candidates, CUTOFF_MINUTES, with_distance=False)
                shape = (len(self.demand), len(self.candidates))
                m = sp.csr_matrix((od["minutes"].to_numpy(float), (od["i"].to_numpy(), od["j"].to_numpy())), shape)
                self._cost[mode] = m
            return self._cost[mode]

    def propose(self, points: gpd.GeoDataFrame, engine: Any, n: int) -> list[dict[str, Any]]:
        """Rank up to ``n`` sites by the person-minutes a day each saves (greedy p-median).

        Parameters
        ----------
        points
            The current points (fixed).
        engine
            The travel-time engine of the current mode.
        n
            How many sites.

        Returns
        -------
        list of dict
            ``rank``, ``lon``, ``lat``, ``name``, ``candidate_id``, ``unit``,
            ``gain_person_minutes_saved`` (given the points and the sites ranked before it).
        """
        cost = self.cost(engine)
        fixed = engine.nearest(self.demand, points)["minutes"].to_numpy(dtype=float)
        fixed = np.where(np.isfinite(fixed), fixed, np.inf)
        res = solve_pmedian(self.weights, cost, int(n), fixed_cost=fixed, method="greedy", compute_bound=False)
        out = []
        for rank, (j, gain) in enumerate(zip(res.selected, res.gains, strict=True), start=1):
            row = self.candidates.iloc[int(j)]
            out.append(
                {
                    "rank": rank,
                    "lon": float(row.geometry.x),
                    "lat": float(row.geometry.y),
                    "name": _text(row.get("name")) or _text(row.get("candidate_id")) or f"#{rank}",
                    "candidate_id": _text(row.get("candidate_id")) or "",
                    "unit": _text(row.get("unit_code")) or "",
                    "gain_person_minutes_saved": float(gain) if math.isfinite(float(gain)) else None,
                }
            )
        return out


def _text(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else str(v)
