"""The figures of a :class:`pointplan.Scenario` after a point operation, recomputed where touched.

:class:`FastFigures` keeps, beside the scenario's travel times, every per-demand-place
figure (nearest minutes, straight line, the standard, own unit, 2SFCA/E2SFCA sums, Huff
denominators) and every column of the unit table as arrays. After a point is moved,
added, removed or given other counters it updates:

* the catchment sums of the points that changed (2SFCA, E2SFCA and Huff are global
  figures: each place's sums are updated by the difference the changed points make,
  vectorised over the kept times; no multithreaded BLAS call, which waits for a free
  core on a busy machine);
* the load of every point (nearest: one bincount; Huff: the places whose denominator
  changed, times the kept attraction matrix);
* the travel columns of the units holding a demand place whose nearest point, minutes,
  straight line or own-unit minutes changed (the other units keep theirs), and the
  columns every operation changes (access, counters, points, travel method) with one
  ``np.bincount`` over the demand's unit positions;
* coverage by mode, the findings' counts and the headline figures from those arrays,
  with the formulas of :func:`pointplan.assess` (:func:`~pointplan.assessment.summary.travel_figures`,
  :func:`~pointplan.assessment.rules.rule_counts`).

The mode and the standard change every figure: those operations take the full path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan.assessment._kept import KeptTimes, _widen
from pointplan.assessment.defaults import BEYOND_MINUTES, E2SFCA_STEPS, EPS, IDLE_UTILISATION, OVERLOAD_UTILISATION
from pointplan.assessment.fca import step_decay
from pointplan.assessment.inputs import projected_xy
from pointplan.assessment.load import _part_time_twins, supply_counters
from pointplan.assessment.options import AssessSettings
from pointplan.assessment.result import Assessment
from pointplan.assessment.rules import load_reach_counts, rule_counts
from pointplan.assessment.stats import group_weighted_quantiles, weighted_gini
from pointplan.assessment.summary import assemble_summary, travel_figures

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Unit columns computed from the demand places of the unit only (recomputed where those change).
TRAVEL_COLUMNS: tuple[str, ...] = (
    "population_within_standard",
    "coverage_share",
    "population_beyond_standard",
    "mean_minutes",
    "median_minutes",
    "p90_minutes",
    "max_minutes",
    *(f"share_beyond_{t}" for t in BEYOND_MINUTES),
    "own_unit_mean_minutes",
    "gini_minutes",
    "nearest_point_precision",
)
#: Unit columns that any point operation may change everywhere (recomputed each time).
GLOBAL_COLUMNS: tuple[str, ...] = (
    "n_points",
    "n_points_all",
    "two_sfca",
    "e2sfca",
    "counters",
    "visits_per_counter",
    "network_population_share",
    "travel_time_method",
)


@dataclass
class Figures:
    """What a point operation returns: the summary, the unit table and the points with their load."""

    summary: dict[str, Any]
    units: gpd.GeoDataFrame
    points: gpd.GeoDataFrame


class FastFigures:
    """Per-place, per-point and per-unit figures kept between point operations (see the module)."""

    def __init__(
        self,
        s: AssessSettings,
        a: Assessment,
        kept: KeptTimes,
        slot_of: Callable[[], IntArray],
        pts: gpd.GeoDataFrame,
        own: FloatArray,
        mode_minutes: Callable[[str], FloatArray],
    ) -> None:
        self.s, self.kept, self.slot_of, self._pts, self.own = s, kept, slot_of, pts, own
        self.mode_minutes = mode_minutes
        dem = a.demand
        self.pop = dem["population"].to_numpy(dtype=float)
        self.visits = dem["visits_per_day"].to_numpy(dtype=float)
        self.demand_method = str(dem.attrs.get("demand_method", "user"))
        self.u = a.units
        # each demand place's unit as a position in the unit table (-1: none), its rows by unit
        self.upos = np.asarray(self.u.index.get_indexer(pd.Index(dem["unit_code"])), np.int64)
        self.in_unit = self.upos >= 0
        self.n_units = len(self.u.index)
        self.unit_rows = np.argsort(self.upos, kind="stable")
        self.unit_bounds = np.searchsorted(self.upos[self.unit_rows], np.arange(self.n_units + 1))
        self.dpop = self.u["demand_population"].to_numpy(dtype=float)
        hybrid = str(getattr(s.engine, "method", "")) == "hybrid"
        cols = [c for c in (*TRAVEL_COLUMNS, *GLOBAL_COLUMNS) if c != "travel_time_method" or hybrid]
        self.ucols = {c: self.u[c].to_numpy(copy=True) for c in cols}
        self.step_w = step_decay(E2SFCA_STEPS)
        self.e_max = float(max(E2SFCA_STEPS))
        self.cut = s.od_minutes
        self.xy = kept.xy
        self._fallback: dict[str, Any] | None = None
        self._rebuild()
        self.prev = self._state()

    # -- whole state ---------------------------------------------------------------------

    def _weights(self, m: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
        """For minutes ``m``: 2SFCA in/weight, E2SFCA in, E2SFCA weight (pairs of the od only)."""
        in_od = m <= self.cut
        in2 = in_od & (m <= self.s.max_minutes + EPS)
        in_e = in_od & (m <= self.e_max + EPS)
        w_e = np.where(in_e, self.step_w(np.where(in_e, m, 0.0)), 0.0)
        return in2.astype(float), in_e.astype(float), w_e, in_od

    def _huff_u(self, m: FloatArray, attract: float | FloatArray, in_od: BoolArray) -> FloatArray:
        with np.errstate(over="ignore"):
            return np.where(in_od, attract * np.exp(-self.s.huff_beta_per_min * np.where(in_od, m, 0.0)), 0.0)

    def _rebuild(self) -> None:
        """Every kept sum from the kept times (at the start)."""
        k = self.kept
        cap = k.M.shape[1]
        self.supply = np.zeros(cap)
        self._set_supply()
        slots = self.slot_of()
        n = k.n
        self.acc2, self.acc_e = np.zeros(n), np.zeros(n)
        self.cnt2, self.cnt_e = np.zeros(n), np.zeros(n)
        self.catch2, self.catch_e = np.zeros(cap), np.zeros(cap)
        self.U = np.zeros((n, cap), order="F")
        self.D, self.n_u = np.zeros(n), np.zeros(n, np.int64)
        for j in slots:
            self._add_column(int(j), self._od_column(int(j)), +1)
        self.D = self.U.sum(axis=1)
        coef = np.divide(self.visits, self.D, out=np.zeros(n), where=self.D > 0)
        self.huff = np.zeros(cap)
        self.huff[slots] = np.einsum("i,ij->j", coef, self.U[:, slots])
        self.minutes = k.nearest_minutes()
        self.near = k.nearest_slots()
        self.pxy = projected_xy(self.points_now())
        tree = cKDTree(self.pxy)
        self.straight, pos = tree.query(self.xy, k=1)
        self.straight_slot = slots[np.asarray(pos, np.int64)]

    def points_now(self) -> gpd.GeoDataFrame:
        """Return the current checked points (set by the scenario before each update)."""
        return self._pts

    def _set_supply(self) -> None:
        self.supply[:] = 0.0
        self.supply[self.slot_of()] = supply_counters(self._pts, self.s.availability)

    def _od_column(self, j: int) -> tuple[FloatArray, FloatArray]:
        """Slot ``j``'s od pairs: minutes (``inf``: no pair) and how many times ``od_long`` lists each."""
        m, times = self.kept.od_minutes(np.array([j], np.int64), self.cut)
        return m[:, 0], times[:, 0]

    def _add_column(self, j: int, col: tuple[FloatArray, FloatArray], sign: int) -> None:
        """Add (``sign`` +1) or take away (-1) slot ``j``'s pairs (``_od_column``) from the access sums.

        Dot products by ``einsum``: OpenBLAS threads a dot of this length, and a thread
        waiting for a core on a busy machine costs milliseconds.
        """
        m, times = col
        in2, in_e, w_e, in_od = self._weights(m)
        in2, in_e, w_e = in2 * times, in_e * times, w_e * times
        if sign > 0:
            self.catch2[j] = float(np.einsum("i,i->", in2, self.pop))
            self.catch_e[j] = float(np.einsum("i,i->", w_e, self.pop))
        r2 = self.supply[j] / self.catch2[j] if self.catch2[j] > 0 else 0.0
        r_e = self.supply[j] / self.catch_e[j] if self.catch_e[j] > 0 else 0.0
        self.acc2 += sign * in2 * r2
        self.acc_e += sign * w_e * r_e
        self.cnt2 += sign * in2
        self.cnt_e += sign * in_e
        col_u = self._huff_u(m, max(self.supply[j], 1e-9), in_od) * times if sign > 0 else self.U[:, j]
        self.D += sign * col_u
        self.n_u += sign * (col_u > 0)
        self.U[:, j] = col_u if sign > 0 else 0.0

    # -- one operation -------------------------------------------------------------------

    def before_change(self, slots: IntArray) -> dict[str, Any]:
        """Remember the columns of ``slots`` before their times or counters change."""
        k = self.kept
        old = {int(j): (self._od_column(int(j)) if j < k.M.shape[1] and k.active[j] else None) for j in slots}
        return {"cols": old, "supply": {int(j): float(self.supply[j]) if j < len(self.supply) else 0.0 for j in slots}}

    def _grow(self) -> None:
        cap = self.kept.M.shape[1]
        if cap > len(self.supply):
            extra = cap - len(self.supply)
            self.supply = np.concatenate([self.supply, np.zeros(extra)])
            self.catch2 = np.concatenate([self.catch2, np.zeros(extra)])
            self.catch_e = np.concatenate([self.catch_e, np.zeros(extra)])
            self.huff = np.concatenate([self.huff, np.zeros(extra)])
            self.U = _widen(self.U, cap, 0.0)

    def after_change(self, pts: gpd.GeoDataFrame, old: dict[str, Any]) -> None:
        """Update the access and Huff sums for the slots that changed (times or counters)."""
        self._grow()
        self._pts = pts
        k = self.kept
        d_old = self.D.copy()
        for j, m_old in old["cols"].items():
            supply_now = self.supply[j]
            self.supply[j] = old["supply"][j]
            if m_old is not None:
                self._add_column(j, m_old, -1)
            self.supply[j] = supply_now
        self._set_supply()
        changed = list(old["cols"])
        for j in changed:
            if k.active[j]:
                self._add_column(j, self._od_column(j), +1)
        self.D[self.n_u == 0] = 0.0  # no pair left: exactly none, whatever the rounding of the updates
        slots = self.slot_of()
        rows = np.flatnonzero(d_old != self.D)
        n = k.n
        coef_new = np.divide(self.visits, self.D, out=np.zeros(n), where=self.D > 0)
        coef_old = np.divide(self.visits, d_old, out=np.zeros(n), where=d_old > 0)
        keep = np.setdiff1d(slots, np.asarray(changed, np.int64))
        if len(rows) and len(keep):
            delta = coef_new[rows] - coef_old[rows]
            self.huff[keep] += np.einsum("i,ij->j", delta, self.U[np.ix_(rows, keep)])
        for j in changed:
            self.huff[j] = float(np.einsum("i,i->", coef_new, self.U[:, j])) if k.active[j] else 0.0
        self._nearest_update(changed)

    def _nearest_update(self, changed: list[int]) -> None:
        """Straight-line nearest of the places whose straight-nearest point changed or came nearer."""
        k = self.kept
        self.minutes = k.nearest_minutes()
        self.near = k.nearest_slots()
        slots = self.slot_of()
        pxy = self.pxy = projected_xy(self._pts)
        pos_of = {int(s): p for p, s in enumerate(slots)}
        redo = np.isin(self.straight_slot, changed)
        for j in changed:
            if j in pos_of:
                d = pxy[pos_of[j]]
                dx, dy = self.xy[:, 0] - d[0], self.xy[:, 1] - d[1]
                dist = np.sqrt(dx * dx + dy * dy)
                nearer = (dist < self.straight) & ~redo
                self.straight[nearer] = dist[nearer]
                self.straight_slot[nearer] = j
        rows = np.flatnonzero(redo)
        if len(rows):
            dist, pos = cKDTree(pxy).query(self.xy[rows], k=1)
            self.straight[rows] = dist
            self.straight_slot[rows] = slots[np.asarray(pos, np.int64)]

    # -- demand places -------------------------------------------------------------------

    def _nearest_named(self) -> IntArray:
        """Slot of each place's nearest point as the demand names it (-1: none).

        A part-time point sharing its place with a permanent point gives way to it
        (:func:`~pointplan.assessment.load.nearest_positions`).
        """
        near = self.near
        remap = _part_time_twins(self._pts, self.s.availability)
        if not remap:
            return near.copy()
        slots, idx = self.slot_of(), self._pts.index
        slot_map = np.arange(max(len(self.supply), int(slots.max()) + 1), dtype=np.int64)
        slot_map[slots[idx.get_indexer(list(remap))]] = slots[idx.get_indexer(list(remap.values()))]
        return np.where(near >= 0, slot_map[np.maximum(near, 0)], -1)

    def _state(self) -> tuple[FloatArray, ...]:
        """Return what a unit's travel columns read from its places: nearest, minutes, straight line, own unit."""
        return (self._nearest_named().astype(float), self.minutes.copy(), self.straight.copy(), self.own.copy())

    def _touched_units(self, now: tuple[FloatArray, ...], extra: Sequence[str]) -> IntArray:
        """Positions of the units with a place whose :meth:`_state` changed, and of ``extra`` (with places)."""
        diff = np.zeros(len(self.pop), bool)
        for a, b in zip(self.prev, now, strict=True):
            diff |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
        codes = np.unique(self.upos[diff & self.in_unit])
        more = np.asarray(self.u.index.get_indexer(pd.Index(list(extra), dtype=object)), np.int64)
        codes = np.union1d(codes, more[more >= 0])
        return codes[self.unit_bounds[codes + 1] > self.unit_bounds[codes]]

    def _demand(self, named: IntArray) -> dict[str, Any]:
        """Return the demand's columns the unit, coverage and summary steps read, as arrays."""
        s, k = self.s, self.kept
        within_min = self.minutes <= s.max_minutes + EPS
        within_dist = self.straight <= s.max_distance_m + EPS
        on = k.network_rows() if k.method == "hybrid" else np.full(k.n, k.method == "network")
        return {
            "named": named,
            "minutes": self.minutes,
            "within_minutes": within_min,
            "within_distance": within_dist,
            "within_standard": within_min | within_dist,
            "two_sfca": np.where(self.cnt2 > 0, self.acc2, np.nan) * 1e4,
            "e2sfca": np.where(self.cnt_e > 0, self.acc_e, np.nan) * 1e4,
            "on_network": on,
        }

    # -- tables ---------------------------------------------------------------------------

    def point_table(self, pts: gpd.GeoDataFrame, named: IntArray, method: str) -> gpd.GeoDataFrame:
        """Return the points with their load (as :func:`~pointplan.assessment.load.point_load` writes it)."""
        slots = self.slot_of()
        pos = np.full(len(self.supply), -1, np.int64)
        pos[slots] = np.arange(len(slots))
        nearest_j = np.where(named >= 0, pos[np.maximum(named, 0)], -1)
        reach = nearest_j >= 0
        supply = self.supply[slots]
        pts["visits_per_day"] = np.bincount(nearest_j[reach], weights=self.visits[reach], minlength=len(pts))
        no_reach = (self.D <= 0) & reach
        huff = self.huff[slots] + np.bincount(nearest_j[no_reach], weights=self.visits[no_reach], minlength=len(pts))
        pts["visits_per_day_huff"] = huff
        pts["population_served"] = np.bincount(nearest_j[reach], weights=self.pop[reach], minlength=len(pts))
        cap = supply * self.s.visits_per_counter
        pts["capacity_per_day"] = cap
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(cap > 0, pts["visits_per_day"].to_numpy() / cap, np.inf)
            pts["utilisation"] = util
            pts["utilisation_huff"] = np.where(cap > 0, huff / cap, np.inf)
        pts["load_status"] = np.select(
            [util > OVERLOAD_UTILISATION, util < IDLE_UTILISATION], ["overloaded", "idle"], "ok"
        )
        pts["travel_time_method"] = method
        return pts

    def _unit_travel(self, out: dict[str, Any], d: dict[str, Any], units: IntArray, pts: pd.DataFrame) -> None:
        """Write into ``out`` the travel columns of ``units`` (positions, each with places).

        As :func:`~pointplan.assessment.coverage.unit_travel_table` computes them.
        """
        if len(units) == 0:
            return
        parts = [self.unit_rows[self.unit_bounds[c] : self.unit_bounds[c + 1]] for c in units]
        rows = np.concatenate(parts)
        g = np.repeat(np.arange(len(units)), [len(p) for p in parts])
        pop, x = self.pop[rows], d["minutes"][rows]
        # shares of totals summed as their parts are: everybody within gives exactly 1 and 0 beyond
        total = np.bincount(g, pop, minlength=len(units))
        within = np.bincount(g, np.where(d["within_standard"][rows], pop, 0.0), minlength=len(units))
        out["population_within_standard"][units] = within
        out["coverage_share"][units] = _share(within, total)
        out["population_beyond_standard"][units] = total - within
        out["mean_minutes"][units] = _weighted_mean(g, x, pop, len(units))
        qs = group_weighted_quantiles(g, x, pop, (0.5, 0.9))
        out["median_minutes"][units] = qs[0.5].to_numpy()
        out["p90_minutes"][units] = qs[0.9].to_numpy()
        top = np.full(len(units), np.nan)
        some = pop > 0
        np.fmax.at(top, g[some], x[some])
        out["max_minutes"][units] = top
        for t in BEYOND_MINUTES:
            beyond = np.bincount(g, np.where(x > t + EPS, pop, 0.0), minlength=len(units))
            out[f"share_beyond_{t}"][units] = _share(beyond, total)
        out["own_unit_mean_minutes"][units] = _weighted_mean(g, self.own[rows], pop, len(units))
        out["gini_minutes"][units] = [weighted_gini(d["minutes"][r], self.pop[r]) for r in parts]
        out["nearest_point_precision"][units] = self._precision(g, d["named"][rows], len(units), pts)

    def _precision(self, g: IntArray, named: IntArray, k: int, pts: pd.DataFrame) -> list[str]:
        """Return the ``;``-joined sorted precisions of the nearest points of each group of places."""
        prec = pts["location_precision"]
        ok = prec.notna().to_numpy()
        words, code = np.unique(prec[ok].astype(str).to_numpy(dtype=object), return_inverse=True)
        of_slot = np.full(len(self.supply), -1, np.int64)
        of_slot[self.slot_of()[ok]] = code
        c = np.where(named >= 0, of_slot[np.maximum(named, 0)], -1)
        pairs = np.unique(g[c >= 0] * len(words) + c[c >= 0])
        found: list[list[str]] = [[] for _ in range(k)]
        for grp, w in zip(pairs // max(len(words), 1), pairs % max(len(words), 1), strict=True):
            found[int(grp)].append(str(words[w]))
        return [";".join(f) for f in found]

    def _unit_global(self, out: dict[str, Any], d: dict[str, Any], pts: pd.DataFrame) -> dict[str, Any]:
        """Write into ``out`` the unit columns every operation may change; return the summary's method entries."""
        nu, ok, up = self.n_units, self.in_unit, self.upos[self.in_unit]
        pop = self.pop[ok]
        for col in ("two_sfca", "e2sfca"):
            v = d[col][ok]
            with np.errstate(divide="ignore", invalid="ignore"):
                out[col] = np.bincount(up, np.where(np.isnan(v), 0.0, v) * pop, minlength=nu) / self.dpop
        p_unit = np.asarray(self.u.index.get_indexer(pd.Index(pts["unit_code"])), np.int64)
        in_u = p_unit >= 0
        counters = np.bincount(p_unit[in_u], self.supply[self.slot_of()][in_u], minlength=nu)
        out["counters"] = counters
        with np.errstate(divide="ignore", invalid="ignore"):
            out["visits_per_counter"] = np.where(counters > 0, self.u["visits_per_day"].to_numpy() / counters, np.nan)
        rule = pts["kind"].isin(list(self.s.rule_kinds)).to_numpy() & in_u
        out["n_points"] = np.bincount(p_unit[rule], minlength=nu).astype(np.int64)
        out["n_points_all"] = np.bincount(p_unit[in_u], minlength=nu).astype(np.int64)
        return self._methods(out, d["on_network"].astype(float))

    def _methods(self, out: dict[str, Any], on: FloatArray) -> dict[str, Any]:
        """Network share per unit and overall (:func:`pointplan.network.summarise_methods`)."""
        nu, ok, up = self.n_units, self.in_unit, self.upos[self.in_unit]
        pop = np.clip(np.nan_to_num(self.pop, nan=0.0), 0.0, None)
        g_pop = np.bincount(up, pop[ok], minlength=nu)
        g_on = np.bincount(up, (on * pop)[ok], minlength=nu)
        g_n = np.bincount(up, minlength=nu).astype(float)
        g_non = np.bincount(up, on[ok], minlength=nu)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(g_pop > 0, g_on / np.where(g_pop > 0, g_pop, 1.0), g_non / g_n)
        share[g_n == 0] = np.nan
        out["network_population_share"] = share
        if "travel_time_method" in out:
            label = np.where(share >= 1.0, "network", np.where(share <= 0.0, "fallback", "mixed")).astype(object)
            label[g_n == 0] = np.nan
            out["travel_time_method"] = label
        total = float(pop.sum())
        overall = float((on * pop).sum() / total) if total > 0 else float(on.mean()) if len(on) else 0.0
        kind = "network" if overall >= 1.0 else "fallback" if overall <= 0.0 else "hybrid"
        return {"travel_time_method": kind, "network_population_share": round(overall, 4)}

    def _modes(self, d: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
        """City-wide share within the minutes, and coverage share, per mode (as :func:`coverage_by_mode`)."""
        s, pop, ok = self.s, self.pop, self.in_unit
        total = np.bincount(self.upos[ok], pop[ok], minlength=self.n_units)  # summed as the parts are
        city, cover = {}, {}
        for m in dict.fromkeys([s.mode, *s.modes]):
            mins = d["minutes"] if m == s.mode else self.mode_minutes(m)
            in_time = mins <= s.max_minutes + EPS
            within = in_time | d["within_distance"]
            city[m] = float(pop[in_time].sum() / pop.sum()) if pop.sum() else math.nan
            part = np.bincount(self.upos[ok], np.where(within, pop, 0.0)[ok], minlength=self.n_units)
            cover[m] = float(np.nansum(_share(part, total) * self.dpop) / self.dpop.sum())
        return city, cover

    def figures(self, touched: Sequence[str] = ()) -> Figures:
        """Return the summary, the unit table and the points of the current state.

        The travel columns are recomputed for the units whose places changed since the
        last call and for the units ``touched``.
        """
        from pointplan import settings

        s = self.s
        assert s.engine is not None
        method = str(s.engine.method)
        now = self._state()
        units = self._touched_units(now, touched)
        self.prev = now
        d = self._demand(now[0].astype(np.int64))
        pts = self.point_table(self._pts.copy(), d["named"], method)
        out = {c: a.copy() for c, a in self.ucols.items()}
        self._unit_travel(out, d, units, pts)
        entries = self._unit_global(out, d, pts)
        summary = self._summary(d, pts, out, method)
        summary["network_population_share"] = entries["network_population_share"]
        if method == "hybrid":
            summary["travel_time_method"] = entries["travel_time_method"]
        if not d["on_network"].all():
            summary.update(self._fallback_entries())
        u = self._unit_frame(out)
        return Figures(summary, u, pts.to_crs(settings.geographic_crs))

    def _summary(self, d: dict[str, Any], pts: gpd.GeoDataFrame, out: dict[str, Any], method: str) -> dict[str, Any]:
        s = self.s
        assert s.units is not None
        travel = travel_figures(
            self.pop,
            d["minutes"],
            self.own,
            d["within_minutes"],
            d["within_distance"],
            d["e2sfca"],
            within=d["within_standard"],
        )
        city, cover = self._modes(d)
        rules = rule_counts(pts, s.units, rule_kinds=s.rule_kinds, xy=self.pxy)
        more = load_reach_counts(pts["load_status"].to_numpy(), out["coverage_share"], d["minutes"], self.pop)
        return assemble_summary(
            name=s.name,
            n_units=self.n_units,
            points=pts,
            travel=travel,
            within_minutes_by_mode=city,
            coverage_share_by_mode=cover,
            units_without_point=int((out["n_points"] == 0).sum()),
            rule_findings={k: rules[k] + more[k] for k in ("error", "warning", "info")},
            params=s.params(),
            method=method,
            demand_points=len(self.pop),
            demand_method=self.demand_method,
        )

    def _fallback_entries(self) -> dict[str, Any]:
        """Return the fallback's held-out error entries of the summary (read once)."""
        from pointplan.assessment.core import _fallback_error

        if self._fallback is None:
            assert self.s.engine is not None
            self._fallback = _fallback_error(self.s.engine, self.s.mode)
        return dict(self._fallback)

    def _unit_frame(self, out: dict[str, Any]) -> gpd.GeoDataFrame:
        """Return the unit table with the columns of ``out`` that changed (a new frame; the last one is kept)."""
        u = self.u.copy(deep=False)
        for c, new in out.items():
            if not _same(self.ucols[c], new):
                u[c] = pd.Series(new, index=u.index, dtype=self.u[c].dtype)
        self.u, self.ucols = u, out
        return u


def _same(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:
    """Whether two arrays hold the same values (NaN equal to NaN)."""
    if a.dtype.kind in "fc":
        return bool(((a == b) | (np.isnan(a) & np.isnan(b))).all())
    na, nb = pd.isna(a), pd.isna(b)
    return bool(((na & nb) | (~na & ~nb & (a == b))).all())


def _share(part: npt.NDArray[Any], total: npt.NDArray[Any]) -> FloatArray:
    """``part / total`` where ``total > 0``, NaN elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, part / total, np.nan)


def _weighted_mean(g: IntArray, x: FloatArray, w: FloatArray, k: int) -> FloatArray:
    """Weighted mean of the finite ``x`` per group ``g`` (NaN where none is finite)."""
    fin = np.isfinite(x)
    num = np.bincount(g, w * np.where(fin, x, 0.0), minlength=k)
    den = np.bincount(g, np.where(fin, w, 0.0), minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = num / den
    return out
