"""A stand-in for :class:`pointplan.Scenario` while it is not in the library: full re-assessment.

It follows the Scenario contract (move, add, remove, set_counters, set_mode, undo, redo,
to_dict/from_dict, to_points_file) by calling :func:`pointplan.assess` on the
whole point set after each change, so it is correct but slow on the whole city (seconds a
change). :func:`pointplan.serve.scenario_class` picks the library's class when it exists.

Examples
--------
>>> from pointplan.assessment.demo import tiny_city
>>> c = tiny_city()
>>> s = AssessScenario.from_inputs(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"])
>>> s.summary["population_within_standard_share"]
0.9
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import InputError
from pointplan.assessment import assess
from pointplan.assessment.coverage import engine_for_mode
from pointplan.io import write_table
from pointplan.network import make_engine
from pointplan.points import assign_units

__all__ = ["AssessScenario", "Change"]

_KINDS = ("unit_point", "branch", "community", "mobile", "kiosk", "head_office")
_MODES = ("walk", "bike", "motorbike", "car")
_DIFF_UNIT = ("mean_minutes", "p90_minutes", "coverage_share", "visits_per_counter", "n_points", "e2sfca")
_DIFF_POINT = ("visits_per_day", "utilisation", "counters_used")
_COLUMNS = ("point_id", "name", "kind", "unit_code", "declared_unit_code", "address", "counters",
            "location_precision", "source", "notes")  # fmt: skip


@dataclass(frozen=True)
class Change:
    """What one operation changed (the contract's ``Change``).

    Examples
    --------
    >>> c = Change("add", "new-1", {}, {}, pd.DataFrame(), pd.DataFrame(), (), (), 0.1)
    >>> str(c)
    'new-1'
    """

    op: str
    point_id: str | None
    summary: dict[str, Any]
    summary_before: dict[str, Any]
    units: pd.DataFrame
    points: pd.DataFrame
    changed_units: tuple[str, ...]
    changed_points: tuple[str, ...]
    seconds: float

    def __str__(self) -> str:
        return str(self.point_id)


def _changed(before: pd.DataFrame, after: pd.DataFrame, cols: tuple[str, ...]) -> list[str]:
    """Index labels whose ``cols`` differ (new and dropped rows count as changed)."""
    cols_ = [c for c in cols if c in before.columns and c in after.columns]
    idx = before.index.union(after.index)
    b = before.reindex(idx)[cols_].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    a = after.reindex(idx)[cols_].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    same = np.isclose(a, b, rtol=1e-9, atol=1e-9) | (np.isnan(a) & np.isnan(b))
    return [str(i) for i in idx[~same.all(axis=1)]]


class AssessScenario:
    """The Scenario contract on top of a full :func:`pointplan.assess` after each change.

    Examples
    --------
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> s = AssessScenario.from_inputs(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"])
    >>> ch = s.move("P1", *s.points.loc["P1", "geometry"].coords[0])
    >>> ch.changed_units, s.can_undo
    ((), True)
    """

    def __init__(
        self,
        points: gpd.GeoDataFrame,
        units: gpd.GeoDataFrame,
        demand: gpd.GeoDataFrame | None,
        mode: str,
        engine: Any,
        assess_kwargs: dict[str, Any],
    ) -> None:
        self._units = units
        self._demand = demand
        self._kw = dict(assess_kwargs)
        self._engines: dict[str, Any] = {}
        if engine is not None:
            self._engines[getattr(engine, "mode", mode)] = engine
        self._area = shapely.union_all(units.to_crs(settings.geographic_crs).geometry.to_numpy()).buffer(0.002)
        self._points = self._clean(points)
        self._mode = mode
        self._undo: list[tuple[gpd.GeoDataFrame, str]] = []
        self._redo: list[tuple[gpd.GeoDataFrame, str]] = []
        self._next = 1
        self._a = self._assess(self._points, mode)

    @staticmethod
    def _clean(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        pts = points.to_crs(settings.geographic_crs).copy()
        for col in _COLUMNS:
            if col not in pts.columns:
                pts[col] = None
        pts["point_id"] = pts["point_id"].astype(str)
        pts = pts[[*_COLUMNS, "geometry"]].set_index("point_id", drop=False)
        pts.index.name = None
        return pts

    @classmethod
    def from_inputs(
        cls,
        points: gpd.GeoDataFrame,
        units: gpd.GeoDataFrame,
        demand: gpd.GeoDataFrame | None = None,
        *,
        mode: str = "motorbike",
        engine: Any = None,
        **assess_kwargs: Any,
    ) -> AssessScenario:
        """Start a scenario from points, units and demand.

        Examples
        --------
        >>> from pointplan.assessment.demo import tiny_city
        >>> c = tiny_city()
        >>> AssessScenario.from_inputs(c["points"], c["units"], c["demand"], engine=c["engine"]).points.index.tolist()
        ['P1']
        """
        mode = getattr(engine, "mode", None) or mode
        return cls(points, units, demand, mode, engine, assess_kwargs)

    def _engine(self, mode: str) -> Any:
        if mode not in self._engines:
            if not self._engines:
                self._engines[mode] = make_engine(None, mode=mode)
            else:
                self._engines[mode] = engine_for_mode(next(iter(self._engines.values())), mode, None)
        return self._engines[mode]

    def _assess(self, points: gpd.GeoDataFrame, mode: str, **extra: Any) -> Any:
        kw = {"modes": (), **self._kw, **extra}
        return assess(points, self._units, self._demand, mode=mode, engine=self._engine(mode), **kw)

    # ---- state -------------------------------------------------------------------------
    @property
    def summary(self) -> dict[str, Any]:
        """City-wide headline figures of the current state."""
        return dict(self._a.summary)

    @property
    def points(self) -> gpd.GeoDataFrame:
        """Current points with their load (EPSG:4326)."""
        return self._a.points.copy()

    @property
    def units(self) -> gpd.GeoDataFrame:
        """Current unit figures (EPSG:4326)."""
        return self._a.units.copy()

    @property
    def mode(self) -> str:
        """The current travel mode."""
        return self._mode

    @property
    def can_undo(self) -> bool:
        """Whether there is a change to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone change to redo."""
        return bool(self._redo)

    def assessment(self) -> Any:
        """Return a full assessment of the current state (modes walk and motorbike)."""
        return self._assess(self._points, self._mode, modes=("walk", "motorbike"))

    # ---- operations --------------------------------------------------------------------
    def _apply(self, op: str, pid: str | None, points: gpd.GeoDataFrame, mode: str, *, record: bool = True) -> Change:
        t0 = time.perf_counter()
        before = self._a
        after = self._assess(points, mode)
        if record:
            self._undo.append((self._points, self._mode))
            self._redo.clear()
        self._points, self._mode, self._a = points, mode, after
        cu = _changed(before.units, after.units, _DIFF_UNIT)
        cp = _changed(before.points, after.points, _DIFF_POINT)
        return Change(
            op, pid, dict(after.summary), dict(before.summary),
            pd.DataFrame(after.units.drop(columns="geometry").reindex([c for c in cu if c in after.units.index])),
            pd.DataFrame(after.points.drop(columns="geometry").reindex([p for p in cp if p in after.points.index])),
            tuple(cu), tuple(cp), time.perf_counter() - t0,
        )  # fmt: skip

    def _check_point(self, point_id: str) -> str:
        if str(point_id) not in self._points.index:
            msg = f"point_id {point_id!r} is not a point of this scenario."
            raise InputError(msg)
        return str(point_id)

    def _check_lonlat(self, lon: float, lat: float) -> shapely.Point:
        if not (isinstance(lon, (int, float)) and isinstance(lat, (int, float))) or not (
            math.isfinite(lon) and math.isfinite(lat)
        ):
            msg = f"lon/lat must be finite numbers, got {lon!r}, {lat!r}."
            raise InputError(msg)
        p = shapely.Point(float(lon), float(lat))
        if not self._area.contains(p):
            msg = f"lon/lat ({lon:.5f}, {lat:.5f}) lie outside the units' area: place the point inside the province."
            raise InputError(msg)
        return p

    @staticmethod
    def _check_counters(n: Any) -> int:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            msg = f"counters must be a whole number ≥ 1, got {n!r}."
            raise InputError(msg)
        return int(n)

    def move(self, point_id: str, lon: float, lat: float) -> Change:
        """Move a point to lon/lat."""
        pid = self._check_point(point_id)
        geom = self._check_lonlat(lon, lat)
        pts = self._points.copy()
        pts.loc[pid, "geometry"] = geom
        pts.loc[pid, "unit_code"] = None
        return self._apply("move", pid, self._reunit(pts), self._mode)

    def _reunit(self, pts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        pts["unit_code"] = assign_units(pts, self._units).to_numpy()
        return pts

    def add(self, lon: float, lat: float, *, kind: str = "kiosk", counters: int = 1, name: str | None = None) -> Change:
        """Add a point; the change's ``point_id`` is the new id."""
        geom = self._check_lonlat(lon, lat)
        if kind not in _KINDS:
            msg = f"kind must be one of {', '.join(_KINDS)}, got {kind!r}."
            raise InputError(msg)
        n = self._check_counters(counters)
        while f"new-{self._next}" in self._points.index:
            self._next += 1
        pid = f"new-{self._next}"
        row: dict[str, Any] = dict.fromkeys(_COLUMNS)
        row.update(
            point_id=pid, name=name or pid, kind=kind, counters=n, location_precision="proposed", source="editor"
        )
        new = gpd.GeoDataFrame([row], geometry=[geom], index=[pid], crs=settings.geographic_crs)
        pts = pd.concat([self._points, new])
        return self._apply("add", pid, self._reunit(gpd.GeoDataFrame(pts, crs=settings.geographic_crs)), self._mode)

    def remove(self, point_id: str) -> Change:
        """Close a point."""
        pid = self._check_point(point_id)
        if len(self._points) == 1:
            msg = "point_id: cannot remove the last point of the scenario."
            raise InputError(msg)
        return self._apply("remove", pid, self._points.drop(index=pid), self._mode)

    def set_counters(self, point_id: str, n: int) -> Change:
        """Set a point's counters."""
        pid = self._check_point(point_id)
        k = self._check_counters(n)
        pts = self._points.copy()
        pts["counters"] = pts["counters"].astype(object)
        pts.loc[pid, "counters"] = k
        return self._apply("set_counters", pid, pts, self._mode)

    def set_mode(self, mode: str) -> Change:
        """Switch the travel mode."""
        if mode not in _MODES:
            msg = f"mode must be one of {', '.join(_MODES)}, got {mode!r}."
            raise InputError(msg)
        return self._apply("set_mode", None, self._points, mode)

    def undo(self) -> Change:
        """Undo the last change."""
        if not self._undo:
            msg = "undo: there is nothing to undo."
            raise InputError(msg)
        pts, mode = self._undo.pop()
        self._redo.append((self._points, self._mode))
        return self._apply("undo", None, pts, mode, record=False)

    def redo(self) -> Change:
        """Redo the last undone change."""
        if not self._redo:
            msg = "redo: there is nothing to redo."
            raise InputError(msg)
        pts, mode = self._redo.pop()
        self._undo.append((self._points, self._mode))
        return self._apply("redo", None, pts, mode, record=False)

    # ---- saving ------------------------------------------------------------------------
    @staticmethod
    def _records(pts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
        out = []
        for pid, r in pts.iterrows():
            rec = {c: (None if pd.isna(r[c]) else r[c]) for c in _COLUMNS if not isinstance(r[c], (list, dict))}
            n = rec.get("counters")
            rec["counters"] = None if n is None else int(n)
            rec["point_id"] = str(pid)
            rec["lon"], rec["lat"] = float(r.geometry.x), float(r.geometry.y)
            out.append(rec)
        return out

    @staticmethod
    def _frame(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
        df = pd.DataFrame(records)
        geom = gpd.points_from_xy(df.pop("lon"), df.pop("lat"))
        gdf = gpd.GeoDataFrame(df, geometry=geom, crs=settings.geographic_crs)
        return gdf.set_index(gdf["point_id"].astype(str).to_numpy())

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: points, mode, settings and history."""
        return {
            "version": 1,
            "mode": self._mode,
            "points": self._records(self._points),
            "undo": [{"mode": m, "points": self._records(p)} for p, m in self._undo],
            "redo": [{"mode": m, "points": self._records(p)} for p, m in self._redo],
            "next_id": self._next,
            "assess_kwargs": {k: v for k, v in self._kw.items() if k in ("max_minutes", "max_distance_m")},
        }

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], *, units: gpd.GeoDataFrame, demand: gpd.GeoDataFrame | None = None,
        engine: Any = None, **assess_kwargs: Any,
    ) -> AssessScenario:  # fmt: skip
        """Rebuild a scenario saved by :meth:`to_dict`."""
        kw = {**d.get("assess_kwargs", {}), **assess_kwargs}
        s = cls(cls._frame(d["points"]), units, demand, d.get("mode", "motorbike"), engine, kw)
        s._undo = [(cls._frame(h["points"]), h["mode"]) for h in d.get("undo", [])]
        s._redo = [(cls._frame(h["points"]), h["mode"]) for h in d.get("redo", [])]
        s._next = int(d.get("next_id", 1))
        return s

    def to_points_file(self, path: str | Path) -> Path:
        """Write the points as a CSV (UTF-8 with BOM) that ``pointplan run --points`` reads."""
        df = pd.DataFrame(self._records(self._points))
        return write_table(df, path)
