""":class:`Scenario`: what-ifs answered incrementally (move, add, remove, counters, mode, standard).

A scenario keeps what does not change between operations: the travel times from every
demand place to every current point (one routing call per new or moved point), each
demand place's nearest and second-nearest point, the own-unit view of the units whose
points did not change. The figures are then computed from those kept times by the same
steps as :func:`pointplan.assess` (:func:`~pointplan.assessment.core.assessment_figures`),
so after any sequence of operations they equal a fresh assessment of the same points.

Examples
--------
>>> from pointplan.assessment._demo import tiny_assessment
>>> s = Scenario.from_assessment(tiny_assessment())
>>> ch = s.add(105.88, 21.03, kind="kiosk", counters=1)
>>> str(ch), ch.summary_before["points"], ch.summary["points"]
('N001', 1, 2)
>>> s.undo().summary["points"], s.can_redo
(1, True)
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import InputError
from pointplan.assessment._engine import TravelEngine
from pointplan.assessment._fast import FastFigures, Figures
from pointplan.assessment._kept import KeptTimes
from pointplan.assessment.core import assessment_figures, prepare_points_for
from pointplan.assessment.options import AssessSettings
from pointplan.assessment.reassess import DERIVED_POINT_COLUMNS, settings_with
from pointplan.assessment.result import Assessment

__all__ = ["Change", "Scenario"]

#: Point columns compared to say whose load changed.
LOAD_COLUMNS: tuple[str, ...] = (
    "visits_per_day",
    "visits_per_day_huff",
    "population_served",
    "capacity_per_day",
    "utilisation",
    "utilisation_huff",
    "load_status",
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Change:
    """What one operation of a :class:`Scenario` changed.

    Attributes
    ----------
    op
        ``move``, ``add``, ``remove``, ``set_counters``, ``set_mode``, ``set_thresholds``,
        ``undo`` or ``redo``.
    point_id
        The point the operation touched (for ``add``: the new id); ``None`` otherwise.
    summary, summary_before
        City-wide headline figures after and before (the keys of :attr:`Assessment.summary`).
    units
        Rows of the units whose figures changed (index unit code; no geometry).
    points
        Rows of the points whose load changed (index point id).
    changed_units, changed_points
        Their ids (``changed_points`` also names a removed point).
    seconds
        Time the operation took.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> s = Scenario.from_assessment(tiny_assessment())
    >>> ch = s.set_counters("P1", 4)
    >>> ch.op, str(ch), ch.changed_points, float(ch.points.loc["P1", "capacity_per_day"])
    ('set_counters', 'P1', ('P1',), 128.0)
    """

    op: str
    point_id: str | None
    summary: dict[str, Any]
    summary_before: dict[str, Any]
    units: pd.DataFrame
    points: pd.DataFrame
    changed_units: tuple[str, ...]
    changed_points: tuple[str, ...]
    seconds: float = 0.0

    def __str__(self) -> str:
        return "" if self.point_id is None else str(self.point_id)


@dataclass
class _Step:
    """One undoable operation: the points and settings before and after, and the columns."""

    op: str
    point_id: str | None
    points_before: gpd.GeoDataFrame
    points_after: gpd.GeoDataFrame
    settings_before: AssessSettings
    settings_after: AssessSettings
    slots: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    cols_before: dict[str, Any] = field(default_factory=dict)
    cols_after: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    fast_slots: IntArray = field(default_factory=lambda: np.empty(0, np.int64))


def _strip(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the points as a user gives them: EPSG:4326, indexed by id, no assessment columns."""
    pts = points.drop(columns=[c for c in DERIVED_POINT_COLUMNS if c in points.columns])
    pts = pts.to_crs(settings.geographic_crs)
    if "point_id" not in pts.columns:
        pts["point_id"] = pts.index.astype(str)
    pts.index = pd.Index(pts["point_id"].astype(str), name=None)
    return pts


class Scenario:
    """A set of points being edited, with its figures kept up to date operation by operation.

    Build one with :meth:`from_assessment` (or :meth:`from_inputs`); edit it with
    :meth:`move`, :meth:`add`, :meth:`remove`, :meth:`set_counters`, :meth:`set_mode`,
    :meth:`set_thresholds`, :meth:`undo` and :meth:`redo`. Each operation validates its
    arguments first (an :class:`~pointplan.InputError` naming the argument leaves the
    scenario unchanged) and returns a :class:`Change`. :attr:`summary`, :attr:`points`,
    :attr:`units` and :meth:`assessment` read the current state; :meth:`assessment` equals
    a fresh :func:`pointplan.assess` of :attr:`points` with the same settings.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> s = Scenario.from_assessment(tiny_assessment())
    >>> lon, lat = s.points.geometry.x.iloc[0], s.points.geometry.y.iloc[0]
    >>> ch = s.move("P1", lon + 0.0193, lat)  # about 2 km east, to the border of the two units
    >>> round(ch.summary_before["mean_minutes_to_nearest"], 2), round(ch.summary["mean_minutes_to_nearest"], 2)
    (9.38, 11.89)
    >>> s.can_undo, s.undo().summary["mean_minutes_to_nearest"] == ch.summary_before["mean_minutes_to_nearest"]
    (True, True)
    """

    def __init__(self, settings_: AssessSettings, points: gpd.GeoDataFrame) -> None:
        if settings_.units is None or settings_.demand is None or settings_.engine is None:
            msg = "a Scenario needs complete settings: build it with Scenario.from_assessment(pointplan.assess(...))."
            raise InputError(msg)
        _check_pairs(len(settings_.demand), len(points))
        self._s = settings_
        self._points = _strip(points)
        self._slot_of = {pid: k for k, pid in enumerate(self._points.index)}
        self._next_slot = len(self._points)
        self._ids = np.array(list(self._points.index), dtype=object)
        self._unit_rows = self._rows_by_unit(settings_.demand)
        self._times: dict[str, KeptTimes] = {}
        self._own = np.full(len(settings_.demand), np.inf)
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []
        self._history: list[dict[str, Any]] = []
        for m in self._modes(settings_):
            self._kept(m)
        self._own_units(None)
        self._fast: FastFigures | None = None
        self._geo_units: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None
        self._fig = self._full()

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_assessment(cls, a: Assessment) -> Scenario:
        """Start a scenario from an assessment: its points, units, demand, engine and settings.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).summary["points"]
        1
        """
        if a.settings is None:
            msg = "this Assessment carries no settings: build the Scenario from the result of pointplan.assess()."
            raise InputError(msg)
        return cls(a.settings, a.points)

    @classmethod
    def from_inputs(
        cls,
        points: gpd.GeoDataFrame,
        units: gpd.GeoDataFrame | None = None,
        demand: gpd.GeoDataFrame | None = None,
        *,
        mode: str | None = "motorbike",
        engine: TravelEngine | None = None,
        **assess_kwargs: Any,
    ) -> Scenario:
        """Start a scenario from the inputs of :func:`pointplan.assess`.

        The inputs are checked as :func:`pointplan.assess` checks them; the figures then come
        from the kept times (no separate fresh assessment), so :meth:`assessment` is what
        :func:`pointplan.assess` of the same inputs returns. ``assess_kwargs`` are
        :func:`pointplan.assess`'s settings (``max_minutes``, ``visits``, ``modes``, ``name``…).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> s = Scenario.from_inputs(c["points"], c["units"], c["demand"], mode=None, engine=c["engine"],
        ...                          visits=c["visits"], modes=())
        >>> s.summary["population_within_standard_share"]
        0.9
        """
        from pointplan.assessment.core import SETTING_NAMES, prepare_inputs
        from pointplan.assessment.options import make_settings

        if engine is not None and mode is not None and getattr(engine, "mode", mode) != mode:
            mode = None if mode == "motorbike" else mode  # the default gives way to the engine's mode
        unknown = sorted(set(assess_kwargs) - set(SETTING_NAMES) - {"demand_cell_m"})
        if unknown:
            msg = f"Scenario.from_inputs got unknown setting(s) {unknown}; it takes pointplan.assess's settings."
            raise InputError(msg)
        cell = assess_kwargs.pop("demand_cell_m", None)
        s = make_settings(mode=mode, engine=engine, **assess_kwargs)
        s, pts, _ = prepare_inputs(points, units, demand, s, cell)
        return cls(s, pts)

    # -- state ---------------------------------------------------------------------------

    @property
    def summary(self) -> dict[str, Any]:
        """Headline figures of the current state (the keys of :attr:`Assessment.summary`).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).summary["share_beyond_30_min"]
        0.1
        """
        return dict(self._fig.summary)

    @property
    def points(self) -> gpd.GeoDataFrame:
        """Current points (EPSG:4326), with the columns :func:`pointplan.read_points` gives.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).points.index.tolist()
        ['P1']
        """
        return self._points.copy()

    @property
    def units(self) -> gpd.GeoDataFrame:
        """Current figures of every unit (EPSG:4326).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).units["coverage_share"].tolist()
        [1.0, 0.6]
        """
        return self._fig.units.copy()

    @property
    def settings(self) -> AssessSettings:
        """The settings every figure uses (:class:`~pointplan.assessment.options.AssessSettings`).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).settings.max_minutes
        30.0
        """
        return self._s

    @property
    def can_undo(self) -> bool:
        """Whether there is an operation to undo.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).can_undo
        False
        """
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone operation to redo.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).can_redo
        False
        """
        return bool(self._redo)

    def assessment(self) -> Assessment:
        """Return the full :class:`Assessment` of the current state (equal to a fresh assessment).

        The demand's ``distance_m`` (network length of each nearest trip) is asked of the
        engine here; every other figure comes from the kept times.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> a = Scenario.from_assessment(tiny_assessment()).assessment()
        >>> a.demand["distance_m"].round(1).tolist()
        [500.0, 500.0, 3000.0, 10500.0]
        """
        return self._figures(with_distance=True)

    def assessment_with(self, points: gpd.GeoDataFrame, *, name: str | None = None) -> Assessment:
        """Return the full :class:`Assessment` of the current points and ``points``; the scenario is unchanged.

        The added points are routed once (as :meth:`add` routes one point); every other
        time comes from the kept times. Equal to a fresh :func:`pointplan.assess` of the
        current points and ``points`` with the same settings. Nothing is added to the
        history or the undo list.

        Parameters
        ----------
        points
            Points to add (any CRS; the columns :func:`pointplan.read_points` gives); their
            ``point_id`` (or index) must differ from the current points'.
        name
            Name of the returned assessment (default the scenario's).

        Raises
        ------
        InputError
            ``points`` is not a GeoDataFrame with a CRS, is empty, or reuses a current id.

        Examples
        --------
        >>> import shapely
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> kiosk = gpd.GeoDataFrame({"point_id": ["K1"], "kind": ["kiosk"], "counters": [1]},
        ...                          geometry=[shapely.Point(105.88, 21.03)], crs="EPSG:4326")
        >>> a = s.assessment_with(kiosk, name="with a kiosk")
        >>> a.name, a.summary["points"], s.summary["points"], s.can_undo
        ('with a kiosk', 2, 1, False)
        """
        new = self._added_points(points)
        after = pd.concat([self._points, new])
        after = gpd.GeoDataFrame(after, geometry=self._points.geometry.name, crs=self._points.crs)
        first = self._next_slot
        slots = list(range(first, first + len(new)))
        self._next_slot += len(new)
        self._grow_ids(slots[-1])
        self._ids[slots] = np.array(list(new.index), dtype=object)
        before_history, before_redo = list(self._history), list(self._redo)
        self._do(self._step("add", None, after, slots=slots), time.perf_counter())
        try:
            return self._figures(with_distance=True, name=name)
        finally:
            self.undo()
            self._history, self._redo = before_history, before_redo

    def _added_points(self, points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Check the points of :meth:`assessment_with`; return them in the scenario's columns and CRS."""
        if not isinstance(points, gpd.GeoDataFrame) or points.crs is None or len(points) == 0:
            msg = "points must be a non-empty GeoDataFrame with a CRS (e.g. read_points('kiosks.csv'))."
            raise InputError(msg)
        new = _strip(points)
        taken = sorted(set(new.index) & (set(self._points.index) | {str(p) for p in self._ids if p is not None}))
        if taken or new.index.has_duplicates:
            msg = f"points reuse point ids {taken or sorted(new.index[new.index.duplicated()])}: give new ids."
            raise InputError(msg)
        cols = [c for c in self._points.columns if c in new.columns or c == self._points.geometry.name]
        if new.geometry.name != self._points.geometry.name:
            new = new.rename_geometry(self._points.geometry.name)
        new = new.reindex(columns=cols)
        missing = new["unit_code"].isna().to_numpy() if "unit_code" in new.columns else np.ones(len(new), bool)
        if missing.any():
            from pointplan.points import assign_units

            assert self._s.units is not None
            new.loc[missing, "unit_code"] = assign_units(new[missing], self._s.units).to_numpy()
        return new

    # -- operations ----------------------------------------------------------------------

    def move(self, point_id: str, lon: float, lat: float) -> Change:
        """Move a point to ``lon``, ``lat`` (EPSG:4326); its unit follows its new place.

        Raises
        ------
        InputError
            Unknown ``point_id``; ``lon``/``lat`` not numbers or outside the units' area.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> s.move("P9", 105.86, 21.01)
        Traceback (most recent call last):
        ...
        pointplan._errors.InputError: point_id='P9' is not a point of this scenario ...
        """
        t0 = time.perf_counter()
        pid = self._check_id(point_id)
        geom, unit = self._check_location(lon, lat)
        after = self._points.copy()
        after.loc[pid, after.geometry.name] = geom
        after.loc[pid, "unit_code"] = unit
        step = self._step("move", pid, after, slots=[self._slot_of[pid]])
        step.record = {"op": "move", "point_id": pid, "lon": float(lon), "lat": float(lat)}
        return self._do(step, t0)

    def add(self, lon: float, lat: float, *, kind: str = "kiosk", counters: int = 1, name: str | None = None) -> Change:
        """Add a point at ``lon``, ``lat``; :attr:`Change.point_id` (and ``str(change)``) is its new id.

        Raises
        ------
        InputError
            ``lon``/``lat`` outside the units' area, ``counters`` < 1, an empty ``kind``.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> pid = str(s.add(105.88, 21.03, counters=2, name="Ki-ốt chợ"))
        >>> s.points.loc[pid, ["kind", "unit_code"]].tolist(), int(s.points.loc[pid, "counters"])
        (['kiosk', '00002'], 2)
        >>> s.add(2.35, 48.85)  # Paris
        Traceback (most recent call last):
        ...
        pointplan._errors.InputError: lon=2.35, lat=48.85 lies outside the units' area ...
        """
        t0 = time.perf_counter()
        geom, unit = self._check_location(lon, lat)
        n = self._check_counters(counters)
        if not isinstance(kind, str) or not kind.strip():
            msg = f"kind must be a non-empty text such as 'kiosk', got {kind!r}."
            raise InputError(msg)
        pid = self._new_id()
        row = {c: pd.NA for c in self._points.columns if c != self._points.geometry.name}
        row.update(
            point_id=pid,
            name=name if name is not None else f"Điểm mới {pid}",
            kind=kind,
            counters=n,
            unit_code=unit,
            location_precision="proposed",
        )
        new = gpd.GeoDataFrame([row], geometry=[geom], index=[pid], crs=self._points.crs)
        if self._points.geometry.name != "geometry":
            new = new.rename_geometry(self._points.geometry.name)
        after = pd.concat([self._points, new[[*row.keys(), new.geometry.name]]])
        after = gpd.GeoDataFrame(after, geometry=self._points.geometry.name, crs=self._points.crs)
        slot = self._next_slot
        self._next_slot += 1
        self._grow_ids(slot)
        self._ids[slot] = pid
        step = self._step("add", pid, after, slots=[slot])
        step.record = {"op": "add", "point_id": pid, "lon": float(lon), "lat": float(lat), "kind": kind, "counters": n}
        return self._do(step, t0)

    def remove(self, point_id: str) -> Change:
        """Remove a point.

        Raises
        ------
        InputError
            Unknown ``point_id``, or the last point (an assessment needs one).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> pid = str(s.add(105.88, 21.03))
        >>> s.remove(pid).changed_points, s.summary["points"]
        (('P1', 'N001'), 1)
        """
        t0 = time.perf_counter()
        pid = self._check_id(point_id)
        if len(self._points) == 1:
            msg = f"point_id={pid!r} is the scenario's last point: an assessment needs at least one; add another first."
            raise InputError(msg)
        step = self._step("remove", pid, self._points.drop(index=pid), slots=[self._slot_of[pid]])
        step.record = {"op": "remove", "point_id": pid}
        return self._do(step, t0)

    def set_counters(self, point_id: str, n: int) -> Change:
        """Set the number of counters of a point (``n`` ≥ 1).

        Raises
        ------
        InputError
            Unknown ``point_id``, or ``n`` not a whole number ≥ 1.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> s.set_counters("P1", 0)
        Traceback (most recent call last):
        ...
        pointplan._errors.InputError: n must be a whole number of counters >= 1, got 0.
        """
        t0 = time.perf_counter()
        pid = self._check_id(point_id)
        k = self._check_counters(n, "n")
        after = self._points.copy()
        after["counters"] = after["counters"].astype(object)
        after.loc[pid, "counters"] = k
        step = self._step("set_counters", pid, after)
        step.record = {"op": "set_counters", "point_id": pid, "n": k}
        return self._do(step, t0)

    def set_mode(self, mode: str) -> Change:
        """Change the main travel mode (an engine of the same kind is built for it).

        Raises
        ------
        InputError
            ``mode`` is not one of :data:`pointplan.network.MODES`.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> s.set_mode("walk").summary["mode"]
        'walk'
        >>> s.set_mode("boat")
        Traceback (most recent call last):
        ...
        pointplan._errors.InputError: mode must be one of [...], got 'boat'.
        """
        t0 = time.perf_counter()
        new = settings_with(self._s, mode=mode)
        step = self._step("set_mode", None, self._points, settings_after=new)
        step.record = {"op": "set_mode", "mode": mode}
        return self._do(step, t0)

    def set_thresholds(self, *, max_minutes: float | None = None, max_km: float | None = None) -> Change:
        """Change the standard: ``max_minutes`` of travel or ``max_km`` in a straight line.

        Raises
        ------
        InputError
            ``max_minutes`` ≤ 0 or ``max_km`` < 0.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> s.set_thresholds(max_minutes=60).summary["population_within_standard_share"]
        1.0
        """
        t0 = time.perf_counter()
        changes: dict[str, float] = {}
        if max_minutes is not None:
            changes["max_minutes"] = max_minutes
        if max_km is not None:
            if not isinstance(max_km, int | float) or isinstance(max_km, bool) or not math.isfinite(max_km):
                msg = f"max_km must be a number of kilometres, got {max_km!r}."
                raise InputError(msg)
            changes["max_distance_m"] = float(max_km) * 1000.0
        new = settings_with(self._s, **changes)
        step = self._step("set_thresholds", None, self._points, settings_after=new)
        step.record = {"op": "set_thresholds", "max_minutes": max_minutes, "max_km": max_km}
        return self._do(step, t0)

    def undo(self) -> Change:
        """Undo the last operation.

        Raises
        ------
        InputError
            Nothing to undo.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> Scenario.from_assessment(tiny_assessment()).undo()
        Traceback (most recent call last):
        ...
        pointplan._errors.InputError: nothing to undo: no operation was made (or all were undone).
        """
        if not self._undo:
            msg = "nothing to undo: no operation was made (or all were undone)."
            raise InputError(msg)
        t0 = time.perf_counter()
        step = self._undo.pop()
        before = self._fig
        self._apply(step.points_before, step.settings_before, step.slots, step.cols_before, step.fast_slots)
        self._redo.append(step)
        self._history.append({"op": "undo"})
        return self._change("undo", step.point_id, before, t0)

    def redo(self) -> Change:
        """Redo the last undone operation.

        Raises
        ------
        InputError
            Nothing to redo.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> _ = s.set_counters("P1", 5); _ = s.undo()
        >>> float(s.redo().points.loc["P1", "capacity_per_day"])
        160.0
        """
        if not self._redo:
            msg = "nothing to redo: undo an operation first."
            raise InputError(msg)
        t0 = time.perf_counter()
        step = self._redo.pop()
        before = self._fig
        self._apply(step.points_after, step.settings_after, step.slots, step.cols_after, step.fast_slots)
        self._undo.append(step)
        self._history.append({"op": "redo"})
        return self._change("redo", step.point_id, before, t0)

    # -- saving --------------------------------------------------------------------------

    def to_points_file(self, path: str | Path) -> Path:
        """Write the current points as a CSV (UTF-8 with BOM) that ``pointplan run --points`` reads.

        Examples
        --------
        >>> import tempfile, pathlib, pointplan
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> p = s.to_points_file(pathlib.Path(tempfile.mkdtemp()) / "points.csv")
        >>> pointplan.read_points(p)["point_id"].tolist()
        ['P1']
        """
        from pointplan.io import write_table

        return write_table(self._table(), path)

    def _table(self) -> pd.DataFrame:
        pts = self._points
        table = pd.DataFrame(pts.drop(columns=pts.geometry.name))
        table["lon"] = pts.geometry.x.to_numpy()
        table["lat"] = pts.geometry.y.to_numpy()
        return table

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: the points, the settings and the operations made.

        The visits given to :func:`pointplan.assess` (a table) are not saved: give them
        again, or the city's rate applies.

        Examples
        --------
        >>> import json
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> _ = s.set_counters("P1", 3)
        >>> d = json.loads(json.dumps(s.to_dict()))
        >>> d["points"][0]["counters"], d["history"], d["settings"]["mode"]
        (3, [{'op': 'set_counters', 'point_id': 'P1', 'n': 3}], 'bike')
        """
        from pointplan.io import strict_json

        records = self._table().astype(object).where(self._table().notna(), None).to_dict("records")
        return strict_json(
            {
                "points": records,
                "settings": {**self._s.params(), "name": self._s.name},
                "history": list(self._history),
            }
        )

    @classmethod
    def from_dict(
        cls,
        d: dict[str, Any],
        *,
        units: gpd.GeoDataFrame,
        demand: gpd.GeoDataFrame | None = None,
        engine: TravelEngine | None = None,
        **assess_kwargs: Any,
    ) -> Scenario:
        """Rebuild a scenario saved with :meth:`to_dict` (its current state; the undo stack starts empty).

        ``assess_kwargs`` give again what :meth:`to_dict` does not save (``visits``); they
        override the saved settings of the same name.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment, tiny_city
        >>> s = Scenario.from_assessment(tiny_assessment())
        >>> _ = s.add(105.88, 21.03)
        >>> c = tiny_city()
        >>> t = Scenario.from_dict(s.to_dict(), units=c["units"], demand=c["demand"], engine=c["engine"])
        >>> t.points.index.tolist(), t.summary["mean_minutes_to_nearest"] == s.summary["mean_minutes_to_nearest"]
        (['P1', 'N001'], True)
        """
        try:
            table = pd.DataFrame(d["points"])
            st = dict(d["settings"])
        except (KeyError, TypeError) as exc:
            msg = "d must be the result of Scenario.to_dict(): a dict with 'points' and 'settings'."
            raise InputError(msg) from exc
        geom = gpd.points_from_xy(table.pop("lon"), table.pop("lat"))
        points = gpd.GeoDataFrame(table, geometry=geom, crs=settings.geographic_crs)
        keys: tuple[str, ...] = ("max_minutes", "max_distance_m", "modes", "visits_per_counter", "counters_default")
        keys += ("availability", "huff_beta_per_min", "rule_kinds", "max_off_network_share", "name")
        kwargs = {**{k: st[k] for k in keys if k in st}, **assess_kwargs}
        sc = cls.from_inputs(points, units, demand, mode=st.get("mode"), engine=engine, **kwargs)
        sc._history = list(d.get("history", []))
        return sc

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _modes(s: AssessSettings) -> list[str]:
        return list(dict.fromkeys([s.mode, *s.modes]))

    @staticmethod
    def _rows_by_unit(demand: gpd.GeoDataFrame) -> dict[str, IntArray]:
        codes, uniques = pd.factorize(demand["unit_code"])
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        return {str(u): order[bounds[k] : bounds[k + 1]] for k, u in enumerate(uniques)}

    def _active_slots(self) -> IntArray:
        return np.array([self._slot_of[p] for p in self._points.index], dtype=np.int64)

    def _grow_ids(self, slot: int) -> None:
        if slot >= len(self._ids):
            self._ids = np.concatenate([self._ids, np.full(max(slot + 1, 2 * len(self._ids)) - len(self._ids), None)])

    def _engine_for(self, mode: str) -> TravelEngine:
        from pointplan.assessment.coverage import engine_for_mode

        assert self._s.engine is not None
        if mode == self._s.mode:
            return self._s.engine
        return engine_for_mode(self._s.engine, mode, self._s.network)

    def _kept(self, mode: str) -> KeptTimes:
        """Return the kept times of ``mode``, routed for the current points when first needed."""
        if mode not in self._times:
            assert self._s.demand is not None
            k = KeptTimes(self._engine_for(mode), self._s.demand, capacity=max(16, 2 * self._next_slot))
            k.set_columns(self._active_slots(), self._points, keep=True)
            self._times[mode] = k
        return self._times[mode]

    def _own_units(self, codes: Sequence[str] | None) -> None:
        """Own-unit minutes of the demand in ``codes`` (every unit when ``None``)."""
        main = self._kept(self._s.mode)
        unit_of = self._points["unit_code"]
        if codes is None:
            self._own[:] = np.inf
            codes = [str(c) for c in unit_of.dropna().unique()]
        for code in codes:
            rows = self._unit_rows.get(str(code))
            if rows is None or len(rows) == 0:
                continue
            ids = self._points.index[(unit_of.astype(str) == str(code)).to_numpy() & unit_of.notna().to_numpy()]
            slots = np.array([self._slot_of[p] for p in ids], dtype=np.int64)
            self._own[rows] = main.own_unit(rows, slots)

    def _figures(self, *, with_distance: bool = False, name: str | None = None) -> Assessment:
        s = self._s if name is None else dataclasses.replace(self._s, name=name)
        assert s.units is not None and s.demand is not None
        pts = prepare_points_for(self._points, s.units, s)
        dem = s.demand.copy()
        return assessment_figures(s, pts, dem, _KeptTravel(self, pts, dem, with_distance=with_distance))

    def _step(
        self,
        op: str,
        pid: str | None,
        after: gpd.GeoDataFrame,
        *,
        slots: Sequence[int] = (),
        settings_after: AssessSettings | None = None,
    ) -> _Step:
        return _Step(
            op=op,
            point_id=pid,
            points_before=self._points,
            points_after=after,
            settings_before=self._s,
            settings_after=self._s if settings_after is None else settings_after,
            slots=np.asarray(list(slots), np.int64),
            fast_slots=np.asarray([self._slot_of[pid]] if pid in self._slot_of else list(slots), np.int64)
            if settings_after is None
            else np.empty(0, np.int64),
        )

    def _do(self, step: _Step, t0: float) -> Change:
        """Apply a new operation (routing what it moves), keep it for undo, return the change."""
        before = self._fig
        step.cols_before = {m: self._columns_of(k, step.slots) for m, k in self._times.items()}
        self._apply(step.points_after, step.settings_after, step.slots, None, step.fast_slots)
        step.cols_after = {m: self._columns_of(k, step.slots) for m, k in self._times.items()}
        self._undo.append(step)
        self._redo.clear()
        self._history.append(step.record)
        return self._change(step.op, step.point_id, before, t0)

    @staticmethod
    def _columns_of(k: KeptTimes, slots: IntArray) -> Any:
        if len(slots) == 0 or not bool(k.active[slots].all()) if len(slots) and slots.max() < len(k.active) else True:
            return None
        return k.take(slots)

    def _apply(
        self,
        points: gpd.GeoDataFrame,
        settings_: AssessSettings,
        slots: IntArray,
        cols: dict[str, Any] | None,
        fast_slots: IntArray,
    ) -> None:
        """Make ``points`` and ``settings_`` current, updating only the kept times and figures they touch."""
        old_points, old_s = self._points, self._s
        grouped = len(points) > settings.catchment_max_points  # the catchments of grouped points: the full path
        fast = self._fast if settings_ is old_s and not grouped else None
        old = fast.before_change(fast_slots) if fast is not None else None
        self._points, self._s = points, settings_
        for pid, slot in zip(self._ids[slots], slots, strict=True):
            if pid in points.index:
                self._slot_of[str(pid)] = int(slot)
        self._slot_of = {p: self._slot_of[p] for p in points.index}
        for m in [m for m in self._times if m not in self._modes(settings_)]:
            del self._times[m]  # a mode no longer shown: routed again if it comes back
        for m, k in self._times.items():
            if cols is not None and m in cols:
                k.put_columns(slots, cols[m])
            elif len(slots):
                ids = [str(p) for p in self._ids[slots] if p in points.index]
                k.set_columns(slots, points.loc[ids] if ids else None, keep=len(ids) > 1)  # many at once: kept
        for m in self._modes(settings_):
            self._kept(m)
        if settings_.mode != old_s.mode:
            self._own_units(None)
        elif len(slots):
            self._own_units(self._point_units(old_points, points, slots))
        if fast is None or old is None:
            self._fig = self._full()
            return
        assert settings_.units is not None
        fast.after_change(prepare_points_for(points, settings_.units, settings_), old)
        self._fig = fast.figures(self._point_units(old_points, points, fast_slots))

    def _point_units(self, before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, slots: IntArray) -> list[str]:
        """Units of the points in ``slots``, before and after."""
        codes = set()
        for df in (before, after):
            for p in self._ids[slots]:
                if p in df.index and pd.notna(df.loc[p, "unit_code"]):
                    codes.add(str(df.loc[p, "unit_code"]))
        return sorted(codes)

    def _full(self) -> Figures:
        """Every figure by the full path; (re)start the kept figures from it."""
        a = self._figures()
        s = self._s
        assert s.units is not None
        self._fast = FastFigures(
            s,
            a,
            self._kept(s.mode),
            self._active_slots,
            prepare_points_for(self._points, s.units, s),
            self._own,
            lambda m: self._kept(m).nearest_minutes(),
        )
        return Figures(a.summary, a.units, a.points)

    def _change(self, op: str, pid: str | None, before: Figures, t0: float) -> Change:
        after = self._fig
        ub, ua = before.units, after.units
        geometry = ua.geometry.name
        cols = [c for c in ua.columns if c != geometry]
        changed_units = tuple(str(c) for c in ua.index[~_same_rows(ub, ua, cols)])
        pb, pa = before.points, after.points
        load = [c for c in LOAD_COLUMNS if c in pa.columns]
        moved = ~_same_rows(pb, pa, load)
        changed = {str(p) for p in pa.index[moved]} | {str(p) for p in pb.index.difference(pa.index)}
        order = {p: k for k, p in enumerate([*pa.index, *pb.index.difference(pa.index)])}
        changed_points = tuple(sorted(changed, key=lambda p: order.get(p, 0)))
        rows = pa.index.get_indexer([p for p in changed_points if p in pa.index])
        return Change(
            op=op,
            point_id=pid,
            summary=dict(after.summary),
            summary_before=dict(before.summary),
            units=pd.DataFrame(ua.iloc[ua.index.get_indexer(list(changed_units))][cols]),
            points=pd.DataFrame(pa.iloc[rows].drop(columns=pa.geometry.name)),
            changed_units=changed_units,
            changed_points=changed_points,
            seconds=time.perf_counter() - t0,
        )

    def _check_id(self, point_id: object) -> str:
        pid = str(point_id)
        if pid not in self._points.index:
            known = ", ".join(map(str, self._points.index[:8]))
            msg = f"point_id={point_id!r} is not a point of this scenario (its points: {known}…)."
            raise InputError(msg)
        return pid

    def _check_location(self, lon: object, lat: object) -> tuple[shapely.Point, str]:
        for v, what in ((lon, "lon"), (lat, "lat")):
            if isinstance(v, bool) or not isinstance(v, int | float | np.number) or not math.isfinite(float(v)):
                msg = f"{what} must be a number of degrees (EPSG:4326), got {v!r}."
                raise InputError(msg)
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
        units = self._s.units
        assert units is not None
        if self._geo_units is None or self._geo_units[0] is not units:
            self._geo_units = (units, units.to_crs(settings.geographic_crs))
        geo = self._geo_units[1]
        x0, y0, x1, y1 = geo.total_bounds
        point = shapely.Point(x, y)
        hit = (
            geo.index[geo.contains(point).to_numpy() | geo.touches(point).to_numpy()]
            if x0 <= x <= x1 and y0 <= y <= y1
            else []
        )
        if len(hit) == 0:
            msg = (
                f"lon={lon!r}, lat={lat!r} lies outside the units' area (lon {x0:.3f}–{x1:.3f}, lat "
                f"{y0:.3f}–{y1:.3f}): give lon/lat in degrees (EPSG:4326) inside one of the units."
            )
            raise InputError(msg)
        return point, str(hit[0])

    @staticmethod
    def _check_counters(n: object, what: str = "counters") -> int:
        ok = isinstance(n, int | np.integer | float) and not isinstance(n, bool) and math.isfinite(float(n))
        if not ok or float(n) != int(float(n)) or int(float(n)) < 1:  # type: ignore[arg-type]
            msg = f"{what} must be a whole number of counters >= 1, got {n!r}."
            raise InputError(msg)
        return int(float(n))  # type: ignore[arg-type]

    def _new_id(self) -> str:
        used = set(self._points.index) | {str(p) for p in self._ids if p is not None}
        k = 1
        while f"N{k:03d}" in used:
            k += 1
        return f"N{k:03d}"


def _same_rows(before: pd.DataFrame, after: pd.DataFrame, columns: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Whether each row of ``after`` equals the row in the same place of ``before`` in ``columns`` (NaN = NaN).

    Rows ``before`` lacks (a different index) count as changed.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1.0, np.nan, 3.0], "k": ["a", "b", None]}, index=["A", "B", "C"])
    >>> b = a.assign(x=[1.0, np.nan, 4.0])
    >>> _same_rows(a, b, ["x", "k"]).tolist()
    [True, True, False]
    """
    same = np.ones(len(after), bool)
    pos = None
    if len(before) != len(after) or not before.index.equals(after.index):
        pos = before.index.get_indexer(after.index)
        same[pos < 0] = False
        pos = np.maximum(pos, 0)
    for c in columns:
        if c not in before.columns:
            same[:] = False
            continue
        a, b = before[c].to_numpy(), after[c].to_numpy()
        if pos is not None:
            a = a[pos]
        if a.dtype.kind in "fc" and b.dtype.kind in "fc":
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            na, nb = pd.isna(a), pd.isna(b)
            eq = np.zeros(len(a), bool)
            eq[~na & ~nb] = a[~na & ~nb] == b[~na & ~nb]
            same &= (na & nb) | eq
    return same


def _check_pairs(n_demand: int, n_points: int) -> None:
    """Refuse a scenario whose kept times would not fit (``settings.scenario_max_pairs``), with the way out."""
    pairs = n_demand * n_points
    if pairs > settings.scenario_max_pairs:
        gb = pairs * 8 * 2 / 1e9
        msg = (
            f"a Scenario keeps a travel time for every demand place and point ({n_demand:,} x {n_points:,} = "
            f"{pairs:,} pairs, about {gb:,.0f} GB a mode), more than settings.scenario_max_pairs = "
            f"{settings.scenario_max_pairs:,}. Assess these points with pointplan.assess (or pointplan run), "
            "which keeps no such matrix, or use a coarser demand."
        )
        raise InputError(msg)


class _KeptTravel:
    """The travel times of a scenario's current points, read from its kept times."""

    def __init__(self, sc: Scenario, pts: gpd.GeoDataFrame, dem: gpd.GeoDataFrame, *, with_distance: bool) -> None:
        self.sc, self.pts, self.dem, self.with_distance = sc, pts, dem, with_distance
        self.main = sc._kept(sc._s.mode)

    def nearest(self) -> pd.DataFrame:
        k = self.main
        slot = k.nearest_slots()
        labels = np.where(slot >= 0, self.sc._ids[np.maximum(slot, 0)], np.array(None, dtype=object))
        dist = np.full(k.n, np.nan)
        if self.with_distance:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dist = k.engine.nearest(self.dem, self.pts)["distance_m"].to_numpy(dtype=float)
        near = {"dest": labels, "minutes": k.nearest_minutes(), "distance_m": dist, "method": k.nearest_methods()}
        return pd.DataFrame(near, index=self.dem.index)

    def own_unit(self) -> FloatArray:
        return self.sc._own.copy()

    def od(self) -> pd.DataFrame:
        return self.main.od(self.sc._active_slots(), self.sc._s.od_minutes)

    def od_to(self, positions: IntArray) -> pd.DataFrame:
        return self.main.od(self.sc._active_slots()[positions], self.sc._s.od_minutes)

    def mode_minutes(self, mode: str) -> FloatArray:
        return self.sc._kept(mode).nearest_minutes()
