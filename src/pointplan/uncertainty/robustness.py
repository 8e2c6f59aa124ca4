"""Proposals that survive the uncertainty: how often each proposed site is chosen across draws."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from pointplan._validate import projected_crs
from pointplan.points import STAND_IN_PRECISIONS
from pointplan.uncertainty.assumptions import Assumptions, check_draws, check_seed
from pointplan.uncertainty.model import DrawModel

__all__ = ["ReusedSiteTimes", "proposal_robustness"]

#: A site chosen in a draw within this distance (m) of a proposed site counts as "the same place".
SAME_PLACE_M = 300.0
#: A proposal chosen in fewer draws than this share is called fragile.
ROBUST_SHARE = 0.5


#: Above this many demand × site pairs the table is not kept (memory): the engine answers each time.
_MAX_PAIRS = 20_000_000


class ReusedSiteTimes:
    """A travel engine whose candidate sites' times are computed once and reused across draws.

    A robustness draw moves the stand-ins and proposes again from the same candidate sites:
    the travel times between the demand places and the candidate sites do not change, only
    which pairs the solver keeps. ``od_long`` between (a subset of) the demand places and (a
    subset of) the candidate sites is answered from one table computed at the first request
    (with the longest cut-off asked so far; a longer one recomputes it); anything else, and
    ``nearest``, goes to the engine. A pair's time does not depend on the other points, so the
    answers are the engine's own.

    Parameters
    ----------
    engine
        The travel engine.
    demand, sites
        The demand places and the candidate sites (any CRS; matched by coordinates).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from pointplan.network import CrowFliesEngine
    >>> eng = CrowFliesEngine("walk", circuity=1.5)
    >>> dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 900.0], [0.0, 0.0]), crs=32648)
    >>> sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 900.0, 1800.0], [0.0, 0.0, 0.0]), crs=32648)
    >>> reused = ReusedSiteTimes(eng, dem, sites)
    >>> reused.od_long(dem.iloc[[1]], sites.iloc[[2, 1]], 30)[["i", "j", "minutes"]].values.tolist()
    [[0.0, 0.0, 18.0], [0.0, 1.0, 0.0]]
    >>> reused.od_long(dem, sites, 30).equals(eng.od_long(dem, sites, 30)), reused.hits
    (True, 2)
    """

    def __init__(self, engine: Any, demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> None:
        self.engine = engine
        self.mode = engine.mode
        self.method = getattr(engine, "method", "")
        self._demand, self._sites = demand, sites
        self._dem_pos = _positions(demand)
        self._site_pos = _positions(sites)
        self._table: pd.DataFrame | None = None
        self._limit = -np.inf
        self.hits = 0

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, **kw: Any) -> pd.DataFrame:
        """Return the engine's ``nearest``."""
        return self.engine.nearest(origins, destinations, **kw)

    def od_long(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float, **kw: Any
    ) -> pd.DataFrame:
        """Pairs within ``max_minutes``, from the table when both ends are known places."""
        oi = _lookup(self._dem_pos, origins)
        dj = _lookup(self._site_pos, destinations)
        big = len(self._demand) * len(self._sites) > _MAX_PAIRS
        if big or oi is None or dj is None or len(set(oi.tolist())) < len(oi) or kw.get("with_distance") is False:
            return self.engine.od_long(origins, destinations, max_minutes, **kw)
        if self._table is None or max_minutes > self._limit:
            self._table = self.engine.od_long(self._demand, self._sites, max_minutes)
            self._limit = float(max_minutes)
        self.hits += 1
        t = self._table
        inv_i = np.full(len(self._demand), -1, dtype=np.int64)
        inv_i[oi] = np.arange(len(oi))
        cols: dict[int, list[int]] = {}
        for k, site in enumerate(dj.tolist()):
            cols.setdefault(site, []).append(k)
        keep = (
            (inv_i[t["i"].to_numpy()] >= 0) & np.isin(t["j"].to_numpy(), dj) & (t["minutes"].to_numpy() <= max_minutes)
        )
        sub = t[keep]
        parts = []
        for site, ks in cols.items():
            rows = sub[sub["j"].to_numpy() == site]
            parts += [rows.assign(j=k) for k in ks]
        out = pd.concat(parts, ignore_index=True) if parts else sub.iloc[:0].copy()
        out["i"] = inv_i[out["i"].to_numpy()]
        out = out.sort_values(["i", "j"], kind="stable").reset_index(drop=True)
        out.attrs["method"] = self.method
        return out


def _positions(gdf: gpd.GeoDataFrame) -> dict[bytes, int]:
    """Position of each point by its projected coordinates (the first of equal ones)."""
    g = gdf.geometry.to_crs(projected_crs())
    xy = np.column_stack([g.x.to_numpy(), g.y.to_numpy()])
    out: dict[bytes, int] = {}
    for k, p in enumerate(xy):
        out.setdefault(p.tobytes(), k)
    return out


def _lookup(positions: dict[bytes, int], gdf: gpd.GeoDataFrame) -> np.ndarray | None:
    """Positions of ``gdf``'s points among known places, or ``None`` if one is not known."""
    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries) or len(gdf) == 0:
        return None
    g = gdf.geometry.to_crs(projected_crs()) if isinstance(gdf, gpd.GeoDataFrame) else gdf.to_crs(projected_crs())
    if not (g.geom_type == "Point").all():
        return None
    out = [positions.get(p.tobytes()) for p in np.column_stack([g.x.to_numpy(), g.y.to_numpy()])]
    return None if any(k is None for k in out) else np.asarray(out, dtype=np.int64)


def _chosen_in_draw(
    model: DrawModel, draw_xy: np.ndarray, candidates: gpd.GeoDataFrame, k: int, kw: dict[str, Any]
) -> np.ndarray:
    """Projected coordinates of the sites ``propose`` chooses with the points of one draw."""
    from pointplan.locate import propose

    pts = model.pts.copy()
    pts = pts.set_geometry(gpd.points_from_xy(draw_xy[:, 0], draw_xy[:, 1], crs=projected_crs()))
    kw = dict(kw)
    engine = kw.pop("engine", model.engine)
    prop = propose(model.dem, pts, candidates, k, engine=engine, method="greedy", **kw)
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
    hits = _hits(model, pxy, candidates, np.random.SeedSequence(seed).spawn(n), propose_kwargs, same_place_m)
    out = pd.DataFrame(index=props.index)
    out["robustness"] = hits / n
    return _with_reliance(out, model, pxy)


def _hits(
    model: DrawModel,
    pxy: np.ndarray,
    candidates: gpd.GeoDataFrame,
    seeds: list[np.random.SeedSequence],
    kw: dict[str, Any],
    same_place_m: float,
) -> np.ndarray:
    """How many draws choose a site within ``same_place_m`` of each proposed site."""
    hits = np.zeros(len(pxy))
    engine = kw.get("engine", model.engine)
    kw = {**kw, "engine": ReusedSiteTimes(engine, model.dem, candidates)}  # one table of site times for all draws
    for s in seeds:
        d = model.draw(np.random.default_rng(s))
        chosen = _chosen_in_draw(model, d.xy, candidates, len(pxy), kw)
        if len(chosen):
            dist, _ = cKDTree(chosen).query(pxy, k=1)
            hits += dist <= same_place_m
    return hits


def _with_reliance(out: pd.DataFrame, model: DrawModel, pxy: np.ndarray) -> pd.DataFrame:
    """Add ``robust``, ``relies_on_point``, ``relies_on_share`` and ``depends_on_guess``."""
    out["robust"] = out["robustness"] >= ROBUST_SHARE
    names, shares = _reliance(model, pxy)
    out["relies_on_point"] = names
    out["relies_on_share"] = np.round(shares, 3)
    out["depends_on_guess"] = (~out["robust"]) & (out["relies_on_share"] >= 0.8)
    return out
