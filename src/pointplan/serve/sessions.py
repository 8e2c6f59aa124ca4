"""Browser sessions: one scenario each, saved to disk after every change, restored on restart.

Each session lives in ``<state_dir>/sessions/<id>/`` (``scenario.json`` written atomically
after every change, downloads written beside it). The figures that need a full assessment
(walking share, travel + wait, the intervals) are computed by one background worker a
moment after a change, without holding the session.

Examples
--------
>>> import tempfile
>>> from pointplan.assessment.demo import tiny_city
>>> c = tiny_city()
>>> cfg = ServeConfig(c["units"], c["points"], c["demand"], c["engine"], state_dir=tempfile.mkdtemp(),
...                   draws=0, details=False, assess_kwargs={"visits": c["visits"]})
>>> store = SessionStore(cfg)
>>> s = store.create()
>>> store.get(s.id) is s, s.version
(True, 0)
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from pointplan._cow import SharedArrays, cow_deepcopy
from pointplan.assessment.coverage import engine_for_mode
from pointplan.demand import build_demand
from pointplan.io import write_json
from pointplan.points import STAND_IN_PRECISIONS
from pointplan.serve.details import DetailsInputs, DetailsRunner
from pointplan.serve.figures import (
    changed_units,
    headline_figures,
    point_loads,
    point_records,
    unit_figures,
    with_details,
)
from pointplan.serve.proposals import CandidateSites, default_candidates

logger = logging.getLogger(__name__)

__all__ = ["SESSION_ID", "FifoLock", "ServeConfig", "Session", "SessionStore", "scenario_class"]

#: What a session id looks like (anything else is refused and a new session started).
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def scenario_class() -> Any:
    """Return the class behind the editor's sessions: :class:`pointplan.assessment.Scenario`.

    Examples
    --------
    >>> scenario_class().__name__, hasattr(scenario_class(), "from_inputs")
    ('Scenario', True)
    """
    from pointplan.assessment import Scenario

    return Scenario


@dataclass
class ServeConfig:
    """What the editor serves: the inputs of the starting scenario and how sessions are kept.

    Parameters
    ----------
    units, points, demand, engine
        The starting scenario's inputs (as for :func:`pointplan.assess`).
    mode
        Travel mode of the starting scenario.
    state_dir
        Folder of the sessions (created if missing).
    token
        When set, every request must carry it (header ``X-Pointplan-Token``, ``?token=``
        once, then a cookie).
    draws
        Monte Carlo draws behind the intervals (0: no intervals).
    details
        Compute the figures that need a full assessment (walking share, travel + wait).
    assess_kwargs
        More keyword arguments of the scenario (``max_minutes``...).
    allowed_hosts
        ``Host`` headers accepted (``None``: any).
    title
        Shown in the page's header.
    candidates
        Sites proposals are chosen from (default: the real public buildings of the units).
    details_process
        Compute the details in a child process (on another core, not competing with the
        requests for Python's interpreter lock); ``False``: in the server's thread.

    Examples
    --------
    >>> ServeConfig(None, None, None, None, state_dir="x").draws
    20
    """

    units: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame | None
    engine: Any
    mode: str = "motorbike"
    state_dir: str | Path = "pointplan-sessions"
    token: str | None = None
    draws: int = 20
    details: bool = True
    assess_kwargs: dict[str, Any] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] | None = None
    title: str = "Hà Nội"
    candidates: gpd.GeoDataFrame | None = None
    details_process: bool = True


@dataclass
class Session:
    """One browser session: its scenario, a lock, a version counted up at each change.

    Examples
    --------
    >>> Session("a" * 22, Path("."), None).version
    0
    """

    id: str
    dir: Path
    scenario: Any
    lock: threading.RLock = field(default_factory=threading.RLock)
    version: int = 0
    details: dict[str, Any] | None = None
    last_changed: tuple[str, ...] = ()
    changed_at: float = 0.0
    figures: dict[str, Any] | None = None
    loads: dict[str, dict[str, Any]] = field(default_factory=dict)


class FifoLock:
    """A lock granted in the order it was asked for (first come, first served).

    The editor's requests run in a pool of threads that share one interpreter lock: twenty
    edits computed at once all finish late (each gets a twentieth of the processor), while
    computed one after the other the first answers at once and the last no later than
    before. Edits and proposals take this lock; reading a session's state does not.

    Examples
    --------
    >>> lock = FifoLock()
    >>> with lock:
    ...     lock.locked()
    True
    >>> lock.locked()
    False
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: collections.deque[threading.Lock] = collections.deque()
        self._held = False

    def acquire(self) -> None:
        """Wait for every earlier caller, then hold the lock."""
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder before us, which hands the lock over

    def release(self) -> None:
        """Hand the lock to the longest waiting caller (or free it)."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False

    def locked(self) -> bool:
        """Whether someone holds the lock."""
        return self._held

    def __enter__(self) -> FifoLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SessionStore:
    """The sessions of one server, in memory (most recent ``max_in_memory``) and on disk.

    Examples
    --------
    >>> import tempfile
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> cfg = ServeConfig(c["units"], c["points"], c["demand"], c["engine"], state_dir=tempfile.mkdtemp(),
    ...                   draws=0, details=False, assess_kwargs={"visits": c["visits"]})
    >>> store = SessionStore(cfg)
    >>> s = store.create()
    >>> ch = store.change(s, lambda sc: sc.set_counters("P1", 3))
    >>> store.forget_memory(); int(store.get(s.id).scenario.points.loc["P1", "counters"])
    3
    """

    def __init__(self, config: ServeConfig, *, max_in_memory: int = 64) -> None:
        self.config = config
        self.root = Path(config.state_dir).expanduser() / "sessions"
        self.root.mkdir(parents=True, exist_ok=True)
        self.cls = scenario_class()
        self._kw = dict(config.assess_kwargs)
        self.base = self.cls.from_inputs(
            config.points, config.units, config.demand, mode=config.mode, engine=config.engine, **self._kw
        )
        self._base_dict = self.base.to_dict()
        self._base_loads = point_loads(self.base.points)
        if not self._base_loads:  # a scenario whose points carry no load: ask its assessment once
            self._base_loads = point_loads(self.base.assessment().points)
        # the kept times (read-only from here on), shared by every session's copy until it writes a column
        self._shared = SharedArrays(self.base, skip=_looks_read_only)
        self._copy_lock = threading.Lock()
        #: Edits and proposals are computed one at a time, in the order they came.
        self.compute_lock = FifoLock()
        self._sessions: collections.OrderedDict[str, Session] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._engines: dict[str, Any] = {}
        self._jobs: collections.deque[str] = collections.deque()
        self._wake = threading.Condition()
        self._stop = False
        self._max = max_in_memory
        self._worker: threading.Thread | None = None
        self.units_geojson: dict[str, Any] | None = None
        self._sites: CandidateSites | None = None
        self._sites_lock = threading.Lock()
        #: Seconds without a change before a session's details are computed.
        self.settle_s = 0.5
        inputs = DetailsInputs(config.units, config.demand, config.engine, self._kw, config.details, config.draws)
        self.details = DetailsRunner(inputs, in_process=config.details_process)
        if config.details or config.draws > 0:
            self.details.start()  # pickling the roads holds the interpreter: before any request, not during one

    # ---- proposals -------------------------------------------------------------------
    @property
    def sites(self) -> CandidateSites:
        """The candidate sites of the proposals (their travel minutes kept per mode)."""
        with self._sites_lock:
            if self._sites is None:
                demand = self.config.demand if self.config.demand is not None else build_demand(self.config.units)
                cands = self.config.candidates
                if cands is None:
                    cands = default_candidates(self.config.units, demand)
                self._sites = CandidateSites(cands, demand)
            return self._sites

    def prepare_proposals(self) -> threading.Thread:
        """Route the candidate sites for the starting mode in the background (the first proposal is then quick)."""

        def run() -> None:
            with contextlib.suppress(AttributeError, OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            try:
                self.sites.cost(self._engine(self.mode_of(self.base)))
            except Exception:  # the request will say what is wrong
                logger.exception("routing the candidate sites failed")

        t = threading.Thread(target=run, name="pointplan-serve-sites", daemon=True)
        t.start()
        return t

    def propose(self, s: Session, n: int) -> list[dict[str, Any]]:
        """Rank ``n`` sites for the session's current points (the scenario is unchanged)."""
        with s.lock:
            points, mode = s.scenario.points, self.mode_of(s.scenario)
        with self.compute_lock:
            return self.sites.propose(points, self._engine(mode), n)

    def mode_of(self, scenario: Any) -> str:
        """Return the scenario's current travel mode."""
        mode = getattr(scenario, "mode", None) or scenario.summary.get("mode") or self.config.mode
        return str(mode)

    # ---- sessions ------------------------------------------------------------------
    def _restore(self, d: dict[str, Any]) -> Any:
        return self.cls.from_dict(d, units=self.config.units, demand=self.config.demand, engine=self.config.engine,
                                  **self._restore_kwargs())  # fmt: skip

    def _restore_kwargs(self) -> dict[str, Any]:
        """Return what a saved session does not keep: the visits table given to the editor."""
        return {k: v for k, v in self._kw.items() if k == "visits"}

    def _keep(self, s: Session) -> Session:
        with self._lock:
            self._sessions[s.id] = s
            self._sessions.move_to_end(s.id)
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
        return s

    def create(self) -> Session:
        """Start a new session from the starting scenario (saved at once)."""
        sid = secrets.token_urlsafe(24)
        folder = self.root / sid
        folder.mkdir(parents=True, exist_ok=False)
        s = Session(sid, folder, self._fresh(), loads=dict(self._base_loads))
        self.save(s)
        return self._keep(s)

    def _fresh(self) -> Any:
        """Copy the starting scenario, sharing what no edit changes (units, demand, engines, graphs).

        The kept travel times are copied on write: a session's copy costs no memory until an
        edit writes a column, and then only the pages of that column.
        """
        shared = [self.config.engine, self.config.units, self.config.demand, *self._engines.values()]
        shared += _read_only_parts(self.base)
        memo = {id(x): x for x in shared if x is not None}
        with self._copy_lock:  # not the sessions' lock: requests of other sessions go on meanwhile
            try:
                return cow_deepcopy(self.base, self._shared, memo)
            except Exception as exc:  # a scenario that cannot be copied is rebuilt from its saved form
                logger.info("copying the starting scenario failed (%s); rebuilding it", exc)
        return self._restore(self._base_dict)

    def get(self, sid: str | None) -> Session | None:
        """Return the session ``sid`` (from memory, else from its saved file), ``None`` if unknown."""
        if not sid or not SESSION_ID.match(sid):
            return None
        with self._lock:
            s = self._sessions.get(sid)
        if s is not None:
            return self._keep(s)
        path = self.root / sid / "scenario.json"
        if not path.is_file():
            return None
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            s = Session(sid, path.parent, self._restore(d["scenario"]), version=int(d.get("version", 0)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("session %s could not be restored (%s); a new one is started", sid, exc)
            return None
        s.loads = point_loads(s.scenario.points)
        self.schedule(s)  # the points' load (and the details) follow a moment later
        return self._keep(s)

    def forget_memory(self) -> None:
        """Drop every session from memory (they are read back from disk when asked for)."""
        with self._lock:
            self._sessions.clear()

    def save(self, s: Session) -> Path:
        """Write the session's scenario to ``scenario.json`` atomically."""
        return write_json(s.dir / "scenario.json", {"version": s.version, "scenario": s.scenario.to_dict()})

    def change(self, s: Session, op: Callable[[Any], Any]) -> Any:
        """Apply ``op(scenario)`` under the session's lock; save; schedule the details.

        Changes are computed one at a time, first come first served (:class:`FifoLock`).
        """
        with self.compute_lock, s.lock:
            before = s.figures if s.figures is not None else unit_figures(pd.DataFrame(s.scenario.units))
            change = op(s.scenario)
            s.version += 1
            s.figures = unit_figures(pd.DataFrame(s.scenario.units))
            s.last_changed = changed_units(before, s.figures)
            s.loads.update(point_loads(getattr(change, "points", None)))
            s.changed_at = time.monotonic()
            self.save(s)
        self.schedule(s)
        return change

    # ---- state -----------------------------------------------------------------------
    def state(self, s: Session) -> dict[str, Any]:
        """Return what the page shows: points, headline figures, units' figures, intervals."""
        with s.lock:
            sc = s.scenario
            summary, points = sc.summary, sc.points
            if s.figures is None:
                s.figures = unit_figures(pd.DataFrame(sc.units))
            figures, loads = s.figures, dict(s.loads)
            version, can_undo, can_redo = s.version, bool(sc.can_undo), bool(sc.can_redo)
            mode = self.mode_of(sc)
        det = s.details or {}
        fresh = det.get("version") == version
        return {
            "version": version,
            "mode": mode,
            "can_undo": can_undo,
            "can_redo": can_redo,
            "headline": headline_figures(summary, det.get("headline") if fresh else None),
            "intervals": det.get("intervals") if fresh else None,
            "details_version": det.get("version"),
            "details_pending": bool(self.config.details or self.config.draws) and not fresh,
            "units": with_details(figures, det.get("units")),
            "points": point_records(points, frozenset(STAND_IN_PRECISIONS), loads),
            "changed_units": list(s.last_changed),
        }

    # ---- details in the background ---------------------------------------------------------
    def schedule(self, s: Session) -> None:
        """Queue the session for its details (coalesced: one job per session)."""
        if not (self.config.details or self.config.draws > 0):
            return
        with self._wake:
            if s.id not in self._jobs:
                self._jobs.append(s.id)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run_jobs, name="pointplan-serve-details", daemon=True)
                self._worker.start()
            self._wake.notify()

    def stop(self) -> None:
        """Stop the background worker."""
        with self._wake:
            self._stop = True
            self._wake.notify_all()
        self.details.stop()

    def _run_jobs(self) -> None:
        with contextlib.suppress(AttributeError, OSError):  # Linux: answering requests comes first
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while True:
            with self._wake:
                while not self._jobs and not self._stop:
                    self._wake.wait()
                if self._stop:
                    return
                sid = self._jobs.popleft()
            s = self.get(sid)
            if s is None:
                continue
            wait = s.changed_at + self.settle_s - time.monotonic()
            if wait > 0:  # a burst of changes (a drag, a series of clicks) is assessed once, at its end
                with self._wake:
                    self._jobs.append(sid)
                    self._wake.wait(min(wait, 0.25))
                continue
            try:
                self.compute_details(s)
            except Exception:  # never let one session's details stop the worker
                logger.exception("details of session %s failed", sid)

    def _engine(self, mode: str) -> Any:
        if mode not in self._engines:
            self._engines[mode] = engine_for_mode(self.config.engine, mode, None)
        return self._engines[mode]

    def compute_details(self, s: Session) -> dict[str, Any]:
        """Full assessment of the session's current points; walking share, travel + wait, intervals.

        Computed by :class:`~pointplan.serve.details.DetailsRunner` (a child process when the
        configuration allows it), without holding the session.
        """
        with s.lock:
            version, points = s.version, s.scenario.points
            mode = self.mode_of(s.scenario)
        det, loads = self.details.compute(points, mode)
        det = {"version": version, **det}
        if det.get("version") == s.version:
            s.details = det
            with s.lock:
                s.loads.update(loads)
        else:
            self.schedule(s)
        return det


def _looks_read_only(x: Any) -> bool:
    """Travel engines (``nearest`` and ``od_long``) and road graphs: shared, never copied."""
    engine = callable(getattr(x, "nearest", None)) and callable(getattr(x, "od_long", None))
    graph = hasattr(x, "adj") and hasattr(x, "nodes") and hasattr(x, "edges")
    return engine or graph


def _read_only_parts(obj: Any, depth: int = 4) -> list[Any]:
    """Engines and graphs reachable from ``obj`` (attributes, dataclass fields, containers)."""
    found: list[Any] = []
    seen: set[int] = set()

    def walk(x: Any, d: int) -> None:
        if id(x) in seen or d < 0 or isinstance(x, (str, bytes, int, float, pd.DataFrame, pd.Series)):
            return
        seen.add(id(x))
        if _looks_read_only(x):
            found.append(x)
            return
        if isinstance(x, dict):
            children: list[Any] = list(x.values())
        elif isinstance(x, (list, tuple, set)):
            children = list(x)
        else:
            children = list(getattr(x, "__dict__", {}).values())
            children += [getattr(x, f) for f in getattr(x, "__dataclass_fields__", {}) if hasattr(x, f)]
        for c in children:
            walk(c, d - 1)

    walk(obj, depth)
    return found
