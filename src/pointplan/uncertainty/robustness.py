"""Proposals that survive the uncertainty: how often each proposed site is chosen across draws."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from pointplan._fork import Background, can_fork
from pointplan._validate import projected_crs
from pointplan.locate.proposal import reusable_candidates
from pointplan.locate.site_times import SiteTimes
from pointplan.points import STAND_IN_PRECISIONS
from pointplan.uncertainty.assumptions import Assumptions, check_draws, check_seed
from pointplan.uncertainty.model import DrawModel

__all__ = ["ReusedSiteTimes", "proposal_robustness"]

#: A site chosen in a draw within this distance (m) of a proposed site counts as "the same place".
SAME_PLACE_M = 300.0
#: A proposal chosen in fewer draws than this share is called fragile.
ROBUST_SHARE = 0.5


#: The table of demand x candidate-site times, reused across draws (moved to :mod:`pointplan.locate.site_times`).
ReusedSiteTimes = SiteTimes


def _chosen_in_draw(
    model: DrawModel, draw_xy: np.ndarray, candidates: gpd.GeoDataFrame, k: int, kw: dict[str, Any]
) -> np.ndarray:
    """Projected coordinates of the sites ``propose`` chooses with the points of one draw."""
    from pointplan.locate import propose

    pts = model.pts.copy()
    pts = pts.set_geometry(gpd.points_from_xy(draw_xy[:, 0], draw_xy[:, 1], crs=projected_crs()))
    kw = dict(kw)
    engine = kw.pop("engine", model.engine)
    prop = propose(model.dem, pts, candidates, k, engine=engine, method="greedy", compute_bound=False, **kw)
    g = prop.points.geometry.to_crs(projected_crs())
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def _reliance(model: DrawModel, proposed_xy: np.ndarray) -> tuple[list[str], list[float]]:
    """For each proposal: the stand-in point most of its people used before, and that share."""
    dem_j = np.asarray(model.a.demand["nearest_point"].astype(str))
    tree = cKDTree(proposed_xy)
    _, nearest_new = tree.query(model.dem_xy, k=1)
    prec = model.pts["location_precision"].astype(str)
    names, shares = [], []
    for r in range(len(proposed_xy)):
        mine = nearest_new == r
        w = model.pop[mine]
        if not mine.any() or w.sum() == 0:
            names.append("")
            shares.append(0.0)
            continue
        before = pd.Series(w, index=dem_j[mine]).groupby(level=0).sum().sort_values(ascending=False)
        top = str(before.index[0])
        stand = top in prec.index and prec[top] in STAND_IN_PRECISIONS
        names.append(top if stand else "")
        shares.append(float(before.iloc[0] / w.sum()) if stand else 0.0)
    return names, shares


def proposal_robustness(
    assessment: Any,
    proposal: Any,
    candidates: gpd.GeoDataFrame,
    *,
    draws: int = 20,
    seed: int = 2025,
    assumptions: Assumptions | None = None,
    same_place_m: float = SAME_PLACE_M,
    **propose_kwargs: Any,
) -> pd.DataFrame:
    """Count how often each proposed site is chosen again when the stand-ins move.

    Each draw moves the stand-in points (as :func:`~pointplan.uncertainty.run_uncertainty`
    does) and proposes the same number of sites from the same candidates with the greedy
    solver. A proposed site "survives" a draw when a site chosen in it lies within
    ``same_place_m`` of it.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment` the proposal was made on.
    proposal
        The :class:`pointplan.locate.Proposal` (its ``points``).
    candidates
        The candidate sites the proposal chose from.
    draws, seed
        Number of draws (positive) and seed (whole number ≥ 0).
    assumptions
        Ranges for the locations (only ``locations`` is varied here).
    same_place_m
        Distance within which a chosen site counts as the same place.
    **propose_kwargs
        Passed to :func:`pointplan.locate.propose` (``objective``, ``max_minutes``…).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``proposal.points``: ``robustness`` (share of draws in which the site, or
        one within ``same_place_m``, is chosen), ``robust`` (≥ 0.5), ``relies_on_point`` (the
        stand-in point most of the people it serves used before, if any),
        ``relies_on_share`` and ``depends_on_guess`` (fragile and relying on one stand-in).

    Examples
    --------
    The synthetic city with its one point P1 as a stand-in, and two candidate sites:

    >>> import geopandas as gpd, pointplan
    >>> from pointplan.assessment._demo import tiny_city
    >>> c = tiny_city()
    >>> c["points"]["location_precision"] = "unit_representative_point"
    >>> a = pointplan.assess(
    ...     c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=()
    ... )
    >>> sites = gpd.GeoDataFrame(
    ...     {"candidate_id": ["C1", "C2"], "kind": ["proposed", "proposed"]},
    ...     geometry=list(c["demand"].geometry.iloc[2:4]),
    ...     crs=c["demand"].crs,
    ... )
    >>> proposal = pointplan.propose_points(a, 1, candidates=sites, reassess=False)
    >>> r = proposal_robustness(a, proposal, sites, draws=10, seed=1)
    >>> r[["robustness", "robust", "relies_on_point"]].values.tolist()
    [[1.0, True, 'P1']]
    """
    n = check_draws(draws)
    seed = check_seed(seed)
    base = assumptions or Assumptions()
    model = DrawModel(assessment, base.only("locations"))
    props = proposal.points
    if len(props) == 0:
        return pd.DataFrame(
            columns=["robustness", "robust", "relies_on_point", "relies_on_share", "depends_on_guess"],
            index=props.index,
        )
    g = props.geometry.to_crs(projected_crs())
    pxy = np.column_stack([g.x.to_numpy(), g.y.to_numpy()])
    hits = _hits(model, proposal, pxy, candidates, np.random.SeedSequence(seed).spawn(n), propose_kwargs, same_place_m)
    out = pd.DataFrame(index=props.index)
    out["robustness"] = hits / n
    return _with_reliance(out, model, pxy)


def _hits(
    model: DrawModel,
    proposal: Any,
    pxy: np.ndarray,
    candidates: gpd.GeoDataFrame,
    seeds: list[np.random.SeedSequence],
    kw: dict[str, Any],
    same_place_m: float,
) -> np.ndarray:
    """Count the draws that choose a site within ``same_place_m`` of each proposed site.

    What does not move between draws is done once: the demand x candidate times (the
    proposal's own when they fit), the candidates outside the boundary, their units.
    """
    times = _site_times(model, proposal, candidates, kw)
    candidates = reusable_candidates(candidates, model.dem, kw.get("boundary"))
    kw = {**kw, "engine": times, "boundary": False}  # outside the boundary: dropped just above

    def count(part: list[np.random.SeedSequence]) -> np.ndarray:
        hits = np.zeros(len(pxy))
        for s in part:
            d = model.draw(np.random.default_rng(s))
            chosen = _chosen_in_draw(model, d.xy, candidates, len(pxy), kw)
            if len(chosen):
                dist, _ = cKDTree(chosen).query(pxy, k=1)
                hits += dist <= same_place_m
        return hits

    half = len(seeds) // 2
    if half < 2 or not can_fork():
        return count(seeds)
    first = Background(lambda: count(seeds[:half]), "robustness draws")  # the first half on the second core
    return count(seeds[half:]) + first.result()


def _site_times(model: DrawModel, proposal: Any, candidates: gpd.GeoDataFrame, kw: dict[str, Any]) -> SiteTimes:
    """Return the demand x candidate times for every draw: the proposal's own when they fit, else a new table."""
    engine = kw.get("engine", model.engine)
    times = getattr(proposal, "site_times", None)
    same_engine = engine is times or engine is getattr(times, "engine", None)
    if isinstance(times, SiteTimes) and same_engine and times.knows(model.dem, candidates):
        return times
    return SiteTimes(engine, model.dem, candidates)


def _with_reliance(out: pd.DataFrame, model: DrawModel, pxy: np.ndarray) -> pd.DataFrame:
    """Add ``robust``, ``relies_on_point``, ``relies_on_share`` and ``depends_on_guess``."""
    out["robust"] = out["robustness"] >= ROBUST_SHARE
    names, shares = _reliance(model, pxy)
    out["relies_on_point"] = names
    out["relies_on_share"] = np.round(shares, 3)
    out["depends_on_guess"] = (~out["robust"]) & (out["relies_on_share"] >= 0.8)
    return out
