"""A session's details (walking share, travel + wait, intervals), computed away from the requests.

The details need a full assessment and Monte Carlo draws: seconds of CPU. Computed in the
server's own process, they hold Python's interpreter lock against the requests of every
other session (20 sessions editing at once queue behind them). :class:`DetailsRunner`
computes them in one child process instead (started with ``spawn``: the server's threads
are not forked), which holds its own copy of the inputs; the server's thread only waits for
the answer. Where the inputs cannot be sent to a child (an engine that does not pickle) or
the child fails, the details are computed in the server's thread, as before.

Examples
--------
>>> from pointplan.assessment.demo import tiny_city
>>> c = tiny_city()
>>> inputs = DetailsInputs(c["units"], c["demand"], c["engine"], {"visits": c["visits"]}, details=True, draws=0)
>>> det, loads = details_of(inputs, {}, c["points"], "bike")
>>> sorted(det), sorted(loads)
(['headline', 'units'], ['P1'])
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import pickle
import threading
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from pointplan.serve.figures import _finite, point_loads

logger = logging.getLogger(__name__)

__all__ = ["DetailsInputs", "DetailsRunner", "details_of"]

#: Point columns a full assessment reads (the rest are the scenario's own figures).
_KEEP = ("point_id", "name", "kind", "unit_code", "declared_unit_code", "address", "counters", "location_precision")


@dataclass
class DetailsInputs:
    """What the details of any session are computed from: the starting scenario's inputs and settings.

    Examples
    --------
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> DetailsInputs(c["units"], c["demand"], c["engine"], draws=0).details
    True
    """

    units: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame | None
    engine: Any
    assess_kwargs: dict[str, Any] = field(default_factory=dict)
    details: bool = True
    draws: int = 20


def details_of(
    inputs: DetailsInputs, engines: dict[str, Any], points: gpd.GeoDataFrame, mode: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Return the details (``units``, ``headline``, ``intervals``) and the points' loads of ``points``.

    ``engines`` keeps the engine of each mode between calls (filled here).

    Examples
    --------
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> inputs = DetailsInputs(c["units"], c["demand"], c["engine"], {"visits": c["visits"]}, draws=0)
    >>> det, loads = details_of(inputs, {}, c["points"], "bike")
    >>> det["units"]["walk_share"], loads["P1"]["visits"]
    ({'00001': 1.0, '00002': 0.0}, 40.0)
    """
    from pointplan.assessment import assess
    from pointplan.assessment.coverage import engine_for_mode

    if mode not in engines:
        engines[mode] = engine_for_mode(inputs.engine, mode, None)
    kw = {k: v for k, v in inputs.assess_kwargs.items() if k != "modes"}
    cols = [c for c in points.columns if c in (*_KEEP, points.geometry.name)]
    a = assess(points[cols], inputs.units, inputs.demand, mode=mode, engine=engines[mode], modes=("walk",), **kw)
    det: dict[str, Any] = {"units": {}, "headline": {}}
    if inputs.details:
        det["units"], det["headline"] = _detail_figures(a)
    if inputs.draws > 0:
        det["intervals"] = _intervals(a, inputs.draws)
    return det, point_loads(a.points)


def _detail_figures(a: Any) -> tuple[dict[str, dict[str, float | None]], dict[str, Any]]:
    """Return walking share and travel + wait per unit, and the walking headline, of an assessment."""
    from pointplan.staffing import time_to_service

    units: dict[str, dict[str, float | None]] = {}
    walk = [c for c in a.coverage.columns if c.startswith("within_") and c.endswith("_walk")]
    if walk:
        units["walk_share"] = {str(k): _finite(v) for k, v in a.coverage[walk[0]].items()}
    try:
        tts = time_to_service(a)["time_to_service_minutes"]
        units["time_to_service_minutes"] = {str(k): _finite(v) for k, v in tts.items()}
    except (ValueError, KeyError) as exc:
        logger.warning("travel + wait not computed: %s", exc)
    head = {"walk_within_minutes_share": (a.summary.get("within_minutes_share_by_mode") or {}).get("walk")}
    return units, head


def _intervals(a: Any, draws: int) -> dict[str, list[float | None]] | None:
    from pointplan.uncertainty import run_uncertainty

    try:
        r = run_uncertainty(a, draws=draws, seed=2025, sensitivity_draws=0)
    except (ValueError, KeyError) as exc:
        logger.warning("intervals not computed: %s", exc)
        return None
    return {k: [_finite(x) for x in v] for k, v in r.intervals.items()}


# ---- the child process ----------------------------------------------------------------------
_CHILD: dict[str, Any] = {}


def _child_start(payload: bytes, parent: int | None = None) -> None:
    """Initialise the child: its own copy of the inputs, at a lower priority than the requests.

    The child ends itself when the server's process is gone (killed without a chance to
    stop its pool), instead of computing on for no one.
    """
    import contextlib

    _CHILD["inputs"], _CHILD["engines"] = pickle.loads(payload), {}
    with contextlib.suppress(OSError):
        os.nice(19)  # the requests come first: the details use what the requests leave of the cores
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), name="pointplan-details-watch", daemon=True).start()


def _watch_parent(parent: int, every_s: float = 1.0) -> None:
    """End this process once ``parent`` is no longer its parent (the server exited or was killed)."""
    import time

    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(0)


def _child_job(points: gpd.GeoDataFrame, mode: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    return details_of(_CHILD["inputs"], _CHILD["engines"], points, mode)


class DetailsRunner:
    """Compute details in one child process (or, failing that, in the calling thread).

    Parameters
    ----------
    inputs
        The inputs of every session's details.
    in_process
        ``False``: always compute in the calling thread (no child).

    Examples
    --------
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> runner = DetailsRunner(DetailsInputs(c["units"], c["demand"], c["engine"], {"visits": c["visits"]}, draws=0),
    ...                        in_process=False)
    >>> sorted(runner.compute(c["points"], "bike")[0])
    ['headline', 'units']
    """

    def __init__(self, inputs: DetailsInputs, *, in_process: bool = True) -> None:
        self.inputs = inputs
        self._engines: dict[str, Any] = {}
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._use_child = in_process

    def _child(self) -> concurrent.futures.ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and self._use_child:
                try:
                    payload = pickle.dumps(self.inputs)
                except Exception as exc:  # an engine that cannot be sent: compute here
                    logger.info("details computed in the server's process (%s)", exc)
                    self._use_child = False
                    return None
                ctx = multiprocessing.get_context("spawn")
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    1, mp_context=ctx, initializer=_child_start, initargs=(payload, os.getpid())
                )
            return self._pool

    def start(self) -> bool:
        """Send the inputs to the child now (a second or two of pickling the roads), not at the first change.

        Returns whether a child process computes the details.
        """
        return self._child() is not None

    def compute(self, points: gpd.GeoDataFrame, mode: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Return the details and loads of ``points`` by ``mode`` (see :func:`details_of`)."""
        pool = self._child()
        if pool is not None:
            try:
                return pool.submit(_child_job, points, mode).result()
            except (concurrent.futures.process.BrokenProcessPool, pickle.PicklingError, RuntimeError) as exc:
                logger.warning("the details process failed (%s); computing details in the server", exc)
                self.stop()
                self._use_child = False
        return details_of(self.inputs, self._engines, points, mode)

    def stop(self) -> None:
        """Stop the child process (if any)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
