"""The figures of a :class:`pointplan.Scenario` after a point operation, recomputed where touched.

:class:`FastFigures` keeps, beside the scenario's travel times, every per-demand-place
figure (nearest minutes, straight line, the standard, own unit, 2SFCA/E2SFCA sums, Huff
denominators) and the unit table. After a point is moved, added, removed or given other
counters it updates:

* the nearest-point figures of the demand places whose nearest, second-nearest or
  straight-line nearest changed, and the travel figures of the units holding them;
* the catchment sums of the points that changed (2SFCA, E2SFCA and Huff are global
  figures: each place's sums are updated by the difference the changed points make,
  vectorised over the kept times);
* the load of every point (nearest: one bincount; Huff: the places whose denominator
  changed, times the kept attraction matrix);
* the headline figures from those arrays, with the same functions as :func:`pointplan.assess`.

The mode and the standard change every figure: those operations take the full path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan.assessment._kept import KeptTimes, _widen
from pointplan.assessment.coverage import coverage_by_mode, point_methods, unit_travel_table
from pointplan.assessment.defaults import E2SFCA_STEPS, EPS, IDLE_UTILISATION, OVERLOAD_UTILISATION
from pointplan.assessment.equity import unit_gini
from pointplan.assessment.fca import step_decay
from pointplan.assessment.inputs import projected_xy
from pointplan.assessment.load import _part_time_twins, supply_counters
from pointplan.assessment.options import AssessSettings
from pointplan.assessment.result import Assessment
from pointplan.assessment.rules import check_rules, load_findings, reach_findings, sort_findings
from pointplan.assessment.summary import build_summary

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Figures:
    """What a point operation returns: the summary, the unit table and the points with their load."""

    summary: dict[str, Any]
    units: gpd.GeoDataFrame
    points: gpd.GeoDataFrame


class FastFigures:
    """Per-place and per-point figures kept between point operations (see the module)."""

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
        self.index = dem.index
        self.pop = dem["population"].to_numpy(dtype=float)
        self.visits = dem["visits_per_day"].to_numpy(dtype=float)
        self.unit_code = dem["unit_code"].to_numpy()
        # a categorical groups four times faster than text; same groups, same order, same sums
        self.unit_cat = pd.Categorical(dem["unit_code"])
        self.codes, self.uniques = pd.factorize(dem["unit_code"])
        self.demand_method = str(dem.attrs.get("demand_method", "user"))
        self.u = a.units.copy()
        self.rules: pd.DataFrame | None = None
        self.rules_key: Any = None
        self.step_w = step_decay(E2SFCA_STEPS)
        self.e_max = float(max(E2SFCA_STEPS))
        self.cut = s.od_minutes
        self.xy = kept.xy
        self._rebuild()

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
        """Every kept sum from the kept times (at the start and after a mode or standard change)."""
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
        for j in slots:
            self._add_column(int(j), self._od_column(int(j)), +1)
        self.D = self.U.sum(axis=1)
        coef = np.divide(self.visits, self.D, out=np.zeros(n), where=self.D > 0)
        self.huff = np.zeros(cap)
        self.huff[slots] = coef @ self.U[:, slots]
        self.minutes = k.nearest_minutes()
        self.near = k.nearest_slots()
        tree = cKDTree(projected_xy(self.points_now()))
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
        """Add (``sign`` +1) or take away (-1) slot ``j``'s pairs (``_od_column``) from the access sums."""
        m, times = col
        in2, in_e, w_e, in_od = self._weights(m)
        in2, in_e, w_e = in2 * times, in_e * times, w_e * times
        if sign > 0:
            self.catch2[j] = float(in2 @ self.pop)
            self.catch_e[j] = float(w_e @ self.pop)
        r2 = self.supply[j] / self.catch2[j] if self.catch2[j] > 0 else 0.0
        r_e = self.supply[j] / self.catch_e[j] if self.catch_e[j] > 0 else 0.0
        self.acc2 += sign * in2 * r2
        self.acc_e += sign * w_e * r_e
        self.cnt2 += sign * in2
        self.cnt_e += sign * in_e
        if sign > 0:
            self.U[:, j] = self._huff_u(m, max(self.supply[j], 1e-9), in_od) * times
        else:
            self.U[:, j] = 0.0

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
        slots = self.slot_of()
        self.D = self.U.sum(axis=1)
        rows = np.flatnonzero(d_old != self.D)
        n = k.n
        coef_new = np.divide(self.visits, self.D, out=np.zeros(n), where=self.D > 0)
        coef_old = np.divide(self.visits, d_old, out=np.zeros(n), where=d_old > 0)
        keep = np.setdiff1d(slots, np.asarray(changed, np.int64))
        if len(rows) and len(keep):
            self.huff[keep] += (coef_new[rows] - coef_old[rows]) @ self.U[np.ix_(rows, keep)]
        for j in changed:
            self.huff[j] = float(coef_new @ self.U[:, j]) if k.active[j] else 0.0
        self._nearest_update(changed)

    def _nearest_update(self, changed: list[int]) -> None:
        """Straight-line nearest of the places whose straight-nearest point changed or came nearer."""
        k = self.kept
        self.minutes = k.nearest_minutes()
        self.near = k.nearest_slots()
        slots = self.slot_of()
        pxy = projected_xy(self._pts)
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

    # -- tables ---------------------------------------------------------------------------

    def demand_frame(self, ids: npt.NDArray[np.object_]) -> pd.DataFrame:
        """Return the demand columns the unit, coverage and summary steps read (every place)."""
        s = self.s
        k = self.kept
        near = self.near.copy()
        remap = _part_time_twins(self._pts, s.availability)
        labels = np.where(near >= 0, ids[np.maximum(near, 0)], np.array(None, dtype=object))
        if remap:
            labels = pd.Series(labels).replace(remap).to_numpy()
        within_min = self.minutes <= s.max_minutes + EPS
        within_dist = self.straight <= s.max_distance_m + EPS
        two = np.where(self.cnt2 > 0, self.acc2, np.nan) * 1e4
        e2 = np.where(self.cnt_e > 0, self.acc_e, np.nan) * 1e4
        near_frame = pd.DataFrame({"method": k.nearest_methods()})
        frame = pd.DataFrame(
            {
                "population": self.pop,
                "unit_code": self.unit_cat,
                "nearest_point": labels,
                "minutes": self.minutes,
                "straight_m": self.straight,
                "within_minutes": within_min,
                "within_distance": within_dist,
                "within_standard": within_min | within_dist,
                "travel_time_method": point_methods(near_frame, k.method),
                "own_unit_minutes": self.own,
                "two_sfca": two,
                "e2sfca": e2,
                "visits_per_day": self.visits,
            },
            index=self.index,
        )
        frame.attrs["demand_method"] = self.demand_method
        return frame

    def point_table(self, pts: gpd.GeoDataFrame, dem: pd.DataFrame, method: str) -> gpd.GeoDataFrame:
        """Return the points with their load (as :func:`~pointplan.assessment.load.point_load` writes it)."""
        slots = self.slot_of()
        pos = pd.Series(np.arange(len(pts)), index=pts.index)
        reach = dem["nearest_point"].notna().to_numpy()
        nearest_j = np.full(len(dem), -1, np.int64)
        nearest_j[reach] = pos.loc[dem.loc[reach, "nearest_point"].astype(str)].to_numpy()
        supply = self.supply[slots]
        pts["visits_per_day"] = np.bincount(nearest_j[reach], weights=self.visits[reach], minlength=len(pts))
        no_reach = (self.D <= 0) & (nearest_j >= 0)
        huff = self.huff[slots] + np.bincount(nearest_j[no_reach], weights=self.visits[no_reach], minlength=len(pts))
        pts["visits_per_day_huff"] = huff
        pts["population_served"] = np.bincount(nearest_j[reach], weights=self.pop[reach], minlength=len(pts))
        pts["capacity_per_day"] = supply * self.s.visits_per_counter
        with np.errstate(divide="ignore", invalid="ignore"):
            cap = pts["capacity_per_day"]
            pts["utilisation"] = np.where(cap > 0, pts["visits_per_day"] / cap, np.inf)
            pts["utilisation_huff"] = np.where(cap > 0, pts["visits_per_day_huff"] / cap, np.inf)
        pts["load_status"] = np.select(
            [pts["utilisation"] > OVERLOAD_UTILISATION, pts["utilisation"] < IDLE_UTILISATION],
            ["overloaded", "idle"],
            "ok",
        )
        pts["travel_time_method"] = method
        return pts

    def _unit_table(
        self, dem: pd.DataFrame, pts: gpd.GeoDataFrame, touched: list[str], method: str
    ) -> gpd.GeoDataFrame:
        """Return the unit table: travel figures of the ``touched`` units again, access and load of all."""
        from pointplan.assessment.fca import unit_access
        from pointplan.assessment.load import unit_load

        s = self.s
        assert s.units is not None
        u = self.u
        idx = [c for c in touched if c in u.index]
        if idx:
            rows = np.isin(self.unit_code, np.asarray(idx, dtype=object))
            sub = dem.loc[rows]
            ut = unit_travel_table(s.units.loc[idx], sub, pts, s.rule_kinds)
            for c in ut.columns:
                if c != ut.geometry.name and c in u.columns:
                    u.loc[idx, c] = ut[c].to_numpy()
            u.loc[idx, "gini_minutes"] = unit_gini(sub, pd.Index(idx)).to_numpy()
            prec = sub.assign(p=sub["nearest_point"].map(pts["location_precision"])).groupby("unit_code")["p"]
            u.loc[idx, "nearest_point_precision"] = (
                prec.agg(lambda x: ";".join(sorted(set(x.dropna())))).reindex(pd.Index(idx)).to_numpy()
            )
        u = unit_access(u, dem)
        u = unit_load(u, dem, pts, s.availability)
        u["travel_time_method"] = method
        return u

    def _findings(self, pts: gpd.GeoDataFrame, u: pd.DataFrame, dem: pd.DataFrame) -> pd.DataFrame:
        s = self.s
        assert s.units is not None
        cols = [c for c in ("kind", "unit_code", "declared_unit_code", "location_precision") if c in pts.columns]
        key = (
            tuple(pts.index),
            tuple(pts.geometry.x.round(9)),
            tuple(pts.geometry.y.round(9)),
            tuple(map(tuple, pts[cols].astype(str).to_numpy())),
        )
        if key != self.rules_key:
            self.rules = check_rules(pts, s.units, rule_kinds=s.rule_kinds)
            self.rules_key = key
        assert self.rules is not None
        extra = [*load_findings(pts), *reach_findings(u, dem, s.max_minutes, s.max_distance_m)]
        return sort_findings(self.rules, extra)

    def figures(self, ids: npt.NDArray[np.object_], touched: list[str]) -> Figures:
        """Return the summary, the unit table and the points of the current state."""
        from pointplan import settings
        from pointplan.assessment.core import _record_methods

        s = self.s
        assert s.engine is not None
        method = str(s.engine.method)
        dem = self.demand_frame(ids)
        pts = self.point_table(self._pts.copy(), dem, method)
        u = self._unit_table(dem, pts, touched, method)
        coverage, within = coverage_by_mode(
            u, dem, pts, s.engine, mode=s.mode, modes=s.modes, max_minutes=s.max_minutes, mode_minutes=self.mode_minutes
        )
        findings = self._findings(pts, u, dem)
        summary = build_summary(
            name=s.name,
            units=u,
            points=pts,
            demand=dem,
            findings=findings,
            coverage=coverage,
            within_minutes_by_mode=within,
            params=s.params(),
            method=method,
            demand_method=self.demand_method,
        )
        _record_methods(u, dem, summary, s.engine, s.mode)
        self.u = u
        return Figures(summary, u, pts.to_crs(settings.geographic_crs))
