"""What choosing a real building costs against the best unconstrained spot.

For each real proposal, the :data:`LOCAL_SPOTS` unconstrained candidates nearest to it
within :data:`NEARBY_M` are tried in its place, the other real proposals staying, on the
same travel times; the best spot (most person-minutes saved) is reported, and the cost is
its saving minus the saving of the proposals as chosen (person-minutes, and people newly
within the standard, for that same spot). A negative cost means no spot nearby does
better than the building. The totals compare the whole unconstrained solution with the
whole real one: that difference also counts picks the unconstrained solution places in
areas where no building is. Spots are grid cells, so "unconstrained" is up to the grid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan._validate import projected_crs
from pointplan.locate.sites._common import (
    LOCAL_SPOTS,
    NEARBY_M,
    NO_BUILDING_M,
)
from pointplan.network.base import EngineBase

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


# --------------------------------------------------------------------------------------
# What a real building costs against the best unconstrained spot
# --------------------------------------------------------------------------------------
def _pick_columns(
    demand: gpd.GeoDataFrame, picks: gpd.GeoDataFrame, engine: Any, cutoff: float, max_minutes: float, max_m: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Minutes (inf beyond the cut-off) and within-standard flags of each demand row to each pick.

    ``(n, p)`` arrays for the p sites compared only (the proposals of both solutions and at
    most :data:`LOCAL_SPOTS` spots per real proposal), never for all candidates.
    """
    n, p = len(demand), len(picks)
    minutes = np.full((n, p), np.inf)
    if p:
        if isinstance(engine, EngineBase):  # pointplan's engines: skip the path lengths (only minutes are read)
            od = engine.od_long(demand, picks, cutoff, with_distance=False)
        else:  # a SiteTimes keeps no path lengths; a user's engine may not take with_distance
            od = engine.od_long(demand, picks, cutoff)
        i = od["i"].to_numpy(dtype=np.int64)
        j = od["j"].to_numpy(dtype=np.int64)
        m = od["minutes"].to_numpy(dtype=np.float64)
        good = np.isfinite(m) & (m <= cutoff)
        minutes[i[good], j[good]] = m[good]
    dxy = demand.to_crs(projected_crs()).get_coordinates().to_numpy()
    pxy = picks.to_crs(projected_crs()).get_coordinates().to_numpy()
    within = minutes <= max_minutes
    for j in range(p):  # one column at a time: no (n, p) distance temporary
        within[:, j] |= np.hypot(dxy[:, 0] - pxy[j, 0], dxy[:, 1] - pxy[j, 1]) <= max_m
    return minutes, within


def _evaluate(
    before: npt.NDArray[np.float64],
    covered: npt.NDArray[np.bool_],
    pop: npt.NDArray[np.float64],
    minutes: npt.NDArray[np.float64],
    within: npt.NDArray[np.bool_],
    cols: Sequence[int],
) -> tuple[float, float]:
    """Person-minutes saved and people newly within the standard when the columns ``cols`` are added.

    Examples
    --------
    Two people 20 min from their point; a new site 5 min from the first:

    >>> import numpy as np
    >>> _evaluate(np.array([20.0, 20]), np.array([False, False]), np.array([1.0, 1]),
    ...           np.array([[5.0], [np.inf]]), np.array([[True], [False]]), [0])
    (15.0, 1.0)
    """
    cur = before.copy()
    cov = covered.copy()
    for j in cols:
        cur = np.minimum(cur, minutes[:, j])
        cov |= within[:, j]
    return float((pop * (before - cur)).sum()), float(pop[cov & ~covered].sum())


def _nearest_sites(free: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the nearest real site to each unconstrained pick, and whether it is within 1 km."""
    out = free.copy()
    fxy = free.to_crs(projected_crs()).get_coordinates().to_numpy()
    sxy = sites.to_crs(projected_crs()).get_coordinates().to_numpy()
    if len(sxy) and len(fxy):
        sd, si = cKDTree(sxy).query(fxy)
        out["nearest_site_id"] = sites["site_id"].to_numpy()[si]
        out["nearest_site_name"] = sites["name"].to_numpy()[si]
        out["nearest_site_kind"] = sites["site_kind"].to_numpy()[si]
        out["nearest_site_m"] = np.round(sd, 0)
    else:
        for c in ("nearest_site_id", "nearest_site_name", "nearest_site_kind"):
            out[c] = ""
        out["nearest_site_m"] = np.inf
    out["no_public_building_within_1km"] = out["nearest_site_m"] > NO_BUILDING_M
    return out


def _local_spots(real: gpd.GeoDataFrame, spots: gpd.GeoDataFrame) -> list[npt.NDArray[np.int64]]:
    """Positions in ``spots`` of the (at most LOCAL_SPOTS) nearest within NEARBY_M of each real pick."""
    if spots.empty:
        return [np.zeros(0, dtype=np.int64) for _ in range(len(real))]
    sxy = spots.to_crs(projected_crs()).get_coordinates().to_numpy()
    rxy = real.to_crs(projected_crs()).get_coordinates().to_numpy()
    d, idx = cKDTree(sxy).query(rxy, k=min(LOCAL_SPOTS, len(sxy)), distance_upper_bound=NEARBY_M)
    d, idx = np.atleast_2d(d).reshape(len(rxy), -1), np.atleast_2d(idx).reshape(len(rxy), -1)
    return [idx[r][np.isfinite(d[r])].astype(np.int64) for r in range(len(rxy))]


@dataclass(frozen=True)
class _SwapTimes:
    """Travel times from demand to the real picks, the free picks and the spots tried (in that column order)."""

    before: npt.NDArray[np.float64]
    covered: npt.NDArray[np.bool_]
    pop: npt.NDArray[np.float64]
    minutes: Any
    within: Any
    n_real: int
    n_free: int
    col_of: dict[int, int]
    real_xy: npt.NDArray[np.float64]
    spot_xy: npt.NDArray[np.float64]

    def evaluate(self, cols: list[int]) -> tuple[float, float]:
        return _evaluate(self.before, self.covered, self.pop, self.minutes, self.within, cols)


def _swap_times(
    demand: gpd.GeoDataFrame,
    real: gpd.GeoDataFrame,
    free: gpd.GeoDataFrame,
    spots: gpd.GeoDataFrame,
    local: list[npt.NDArray[np.int64]],
    engine: Any,
    standard: tuple[float, float, float],
) -> _SwapTimes:
    """Compute, once, the travel times every swap is evaluated on."""
    max_minutes, max_distance_m, cutoff_minutes = standard
    pop = demand["population"].to_numpy(dtype=float)
    before = pd.to_numeric(demand["minutes"], errors="coerce").to_numpy(dtype=float)
    before = np.where(np.isfinite(before), before, float(cutoff_minutes))
    covered = demand["within_standard"].fillna(False).to_numpy(dtype=bool)
    used = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *local]))
    parts = [real.to_crs(projected_crs()).geometry, free.to_crs(projected_crs()).geometry]
    parts.append(spots.to_crs(projected_crs()).geometry.iloc[used])
    picks = gpd.GeoDataFrame(geometry=pd.concat(parts, ignore_index=True).to_numpy(), crs=projected_crs())
    minutes, within = _pick_columns(demand, picks, engine, cutoff_minutes, max_minutes, max_distance_m)
    nr, nf = len(real), len(free)
    return _SwapTimes(
        before=before,
        covered=covered,
        pop=pop,
        minutes=minutes,
        within=within,
        n_real=nr,
        n_free=nf,
        col_of={int(s): nr + nf + k for k, s in enumerate(used)},
        real_xy=picks.geometry.iloc[:nr].get_coordinates().to_numpy(),
        spot_xy=picks.geometry.iloc[nr + nf :].get_coordinates().to_numpy(),
    )


def _best_swaps(
    t: _SwapTimes, local: list[npt.NDArray[np.int64]], spots: gpd.GeoDataFrame, base: tuple[float, float]
) -> list[tuple[str, float, float, float]]:
    """For each real pick, the best nearby spot: (id, distance m, person-minutes, people covered)."""
    real_cols = list(range(t.n_real))
    best: list[tuple[str, float, float, float]] = []
    for r in range(t.n_real):
        others = [c for c in real_cols if c != r]
        tried = [(t.evaluate([*others, t.col_of[int(s)]]), int(s)) for s in local[r]]
        if not tried:
            best.append(("", np.nan, np.nan, np.nan))
            continue
        (saved, cov), s = max(tried, key=lambda x: x[0][0])
        dist = float(np.hypot(*(t.spot_xy[t.col_of[s] - t.n_real - t.n_free] - t.real_xy[r])))
        best.append(
            (str(spots["candidate_id"].iloc[s]), round(dist, 0), round(saved - base[0], 1), round(cov - base[1], 1))
        )
    return best


def _cost_summary(
    base: tuple[float, float], free_total: tuple[float, float], free_out: gpd.GeoDataFrame
) -> dict[str, Any]:
    """Return the totals of the real and the unconstrained solutions (JSON-safe)."""
    summary = {
        "method": (
            f"each proposal swapped with the best of the {LOCAL_SPOTS} nearest unconstrained spots within "
            f"{NEARBY_M:.0f} m on the same travel times; totals: whole unconstrained vs whole real solution"
        ),
        "real_person_minutes_saved": round(base[0], 1),
        "unconstrained_person_minutes_saved": round(free_total[0], 1),
        "price_person_minutes": round(free_total[0] - base[0], 1),
        "real_people_covered": round(base[1], 1),
        "unconstrained_people_covered": round(free_total[1], 1),
        "price_people_covered": round(free_total[1] - base[1], 1),
        "unconstrained_without_building_1km": int(free_out["no_public_building_within_1km"].sum()),
    }
    return summary


def constraint_cost(
    demand: gpd.GeoDataFrame,
    real: gpd.GeoDataFrame,
    free: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    engine: Any,
    max_minutes: float,
    max_distance_m: float,
    cutoff_minutes: float,
    spots: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """State what choosing real buildings costs against the best unconstrained spots nearby.

    Parameters
    ----------
    demand
        The assessed demand: ``population``, ``minutes`` (to the nearest existing point,
        ``inf``/NaN when none is reached) and ``within_standard``.
    real
        Proposals among real sites (``candidate_id``, geometry).
    free
        Proposals of the same objective and number among unconstrained candidates.
    sites
        All real sites (``site_id``, ``name``, ``site_kind``): which free pick has none nearby.
    engine
        The assessment's travel-time engine (``od_long``).
    max_minutes, max_distance_m
        The standard.
    cutoff_minutes
        Travel times are computed up to this; people who reach no point count from it.
    spots
        The unconstrained candidates (``candidate_id``) tried near each real one (default ``free``).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, geopandas.GeoDataFrame, dict)
        ``real`` with ``best_spot_id``, ``best_spot_m``, ``cost_person_minutes``,
        ``cost_people_covered`` (NaN when no spot lies within :data:`NEARBY_M`);
        ``free`` with ``nearest_site_id``/``_name``/``_kind``/``_m`` and
        ``no_public_building_within_1km``; and totals (JSON-safe).

    Notes
    -----
    The method is in the module's docstring (:mod:`pointplan.locate.sites.cost`).

    Examples
    --------
    One person 20 min from the existing point; a real site 10 min away, a spot 2 min away
    (engine stub: minutes = km):

    >>> import geopandas as gpd, pandas as pd, numpy as np
    >>> class Eng:
    ...     def od_long(self, o, d, cutoff):
    ...         oxy, dxy = o.get_coordinates().to_numpy(), d.get_coordinates().to_numpy()
    ...         m = np.hypot(*(oxy[:, None] - dxy[None]).transpose(2, 0, 1)) / 1000
    ...         i, j = np.nonzero(m <= cutoff)
    ...         return pd.DataFrame({"i": i, "j": j, "minutes": m[i, j]})
    >>> pt = lambda x, **k: gpd.GeoDataFrame(k, geometry=gpd.points_from_xy(x, [2325000] * len(x)), crs=32648)
    >>> demand = pt([585000], population=[1.0], minutes=[20.0], within_standard=[False])
    >>> real = pt([595000], candidate_id=["bv"]); free = pt([587000], candidate_id=["g1"])
    >>> spots = pt([587000, 593000], candidate_id=["g1", "g2"])
    >>> sites = pt([595000], site_id=["bv"], name=["BV"], site_kind=["hospital"])
    >>> r, f, tot = constraint_cost(demand, real, free, sites, engine=Eng(), max_minutes=5,
    ...     max_distance_m=5000, cutoff_minutes=60, spots=spots)
    >>> r[["best_spot_id", "best_spot_m", "cost_person_minutes"]].values.tolist()
    [['g2', 2000.0, 2.0]]
    >>> bool(f["no_public_building_within_1km"].iloc[0]), tot["price_person_minutes"]
    (True, 8.0)
    """
    spots = free if spots is None else spots
    local = _local_spots(real, spots)
    t = _swap_times(demand, real, free, spots, local, engine, (max_minutes, max_distance_m, cutoff_minutes))
    base = t.evaluate(list(range(len(real))))
    best = _best_swaps(t, local, spots, base)
    cols = ("best_spot_id", "best_spot_m", "cost_person_minutes", "cost_people_covered")
    real_out = real.assign(**{col: [b[k] for b in best] for k, col in enumerate(cols)})
    free_out = _nearest_sites(free, sites)
    free_total = t.evaluate(list(range(len(real), len(real) + len(free))))
    return real_out, free_out, _cost_summary(base, free_total, free_out)
