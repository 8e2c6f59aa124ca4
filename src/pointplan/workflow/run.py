""":func:`run`: check the configuration and the output folder, then call the steps in order."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pointplan import settings
from pointplan._errors import InputError
from pointplan.workflow.config import RunConfig, check_output_folder
from pointplan.workflow.outputs import RUN_OUTPUTS, write_step
from pointplan.workflow.steps import (
    RunState,
    assess_step,
    demand_step,
    engine_step,
    load_step,
    locate_points_step,
    propose_step,
    staff_step,
    start_uncertainty_step,
    uncertainty_step,
)

__all__ = ["OnceFilter", "Step", "check_outputs", "once_per_run", "run", "run_phases"]

logger = logging.getLogger("pointplan.workflow")
logger.addHandler(logging.NullHandler())

#: A step of a run: ``step(config, state) -> state``.
Step = Callable[[RunConfig, RunState], RunState]


def run_phases(config: RunConfig) -> list[tuple[str, tuple[Step, ...]]]:
    """Return the phases of a run (what the log and the progress bar show) and their steps, in order.

    Examples
    --------
    >>> phases = run_phases(RunConfig("out", add=0, uncertainty=False))
    >>> [(label, [s.__name__ for s in steps]) for label, steps in phases]  # doctest: +NORMALIZE_WHITESPACE
    [('Loading units and points', ['load_step', 'locate_points_step']),
     ('Assessing', ['demand_step', 'engine_step', 'assess_step', 'start_uncertainty_step']),
     ('Writing outputs', ['staff_step', 'write_step'])]
    """
    phases: list[tuple[str, tuple[Step, ...]]] = [
        ("Loading units and points", (load_step, locate_points_step)),
        ("Assessing", (demand_step, engine_step, assess_step, start_uncertainty_step)),  # then the second core's
    ]
    if config.add > 0:
        phases.append((f"Proposing {config.add} points ({config.objective})", (propose_step,)))
    if config.uncertainty:
        phases.append((f"Uncertainty ({config.draws_or_default()} draws)", (uncertainty_step,)))
    phases.append(("Writing outputs", (staff_step, write_step)))
    return phases


def check_outputs(config: RunConfig) -> None:
    """Check the output folder and the input files before anything long starts.

    Examples
    --------
    >>> check_outputs(RunConfig("out", points="no-such-points.csv", uncertainty=False))
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: Input file no-such-points.csv does not exist (or is a folder). Check the path.
    """
    from pointplan.io import check_output_path

    out, inputs = config.out, config.input_files
    check_output_folder(out, inputs)
    for inp in inputs:
        if not Path(inp).expanduser().is_file():
            msg = f"Input file {inp} does not exist (or is a folder). Check the path."
            raise InputError(msg)
    for name in RUN_OUTPUTS:
        check_output_path(out / name, inputs)


class OnceFilter(logging.Filter):
    """A logging filter that lets each line through once and counts the repeats it holds back.

    Examples
    --------
    >>> f = OnceFilter()
    >>> def rec():
    ...     return logging.LogRecord("pointplan", logging.INFO, "", 0, "dropped %d of %d", (14, 244), None)
    >>> f.filter(rec()), f.filter(rec()), f.filter(rec()), f.repeats
    (True, False, False, {'dropped 14 of 244': 2})
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, int, str]] = set()
        #: Line -> how many more times it was logged (and held back).
        self.repeats: dict[str, int] = {}
        self._last: logging.LogRecord | None = None
        self._last_answer = True

    def filter(self, record: logging.LogRecord) -> bool:
        """Return True the first time a (logger, level, message) is seen; count it otherwise."""
        if record is self._last:  # the same record reaching another handler: the same answer
            return self._last_answer
        self._last, self._last_answer = record, self._decide(record)
        return self._last_answer

    def _decide(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        key = (record.name, record.levelno, text)
        if key not in self.seen:
            self.seen.add(key)
            return True
        self.repeats[text] = self.repeats.get(text, 0) + 1
        return False


@contextlib.contextmanager
def once_per_run() -> Iterator[OnceFilter]:
    """Within the block, every handler of the ``pointplan`` and root loggers shows each line once.

    On leaving, one line says which lines were held back and how often
    (``"… logged 12 times; shown once"``).

    Examples
    --------
    >>> import io
    >>> handler = logging.StreamHandler(io.StringIO())
    >>> logging.getLogger("pointplan").addHandler(handler)
    >>> with once_per_run() as f:
    ...     for _ in range(3):
    ...         logging.getLogger("pointplan.x").warning("same")
    >>> f.repeats
    {'same': 2}
    >>> logging.getLogger("pointplan").removeHandler(handler)
    """
    f = OnceFilter()
    handlers = list(dict.fromkeys([*logging.getLogger("pointplan").handlers, *logging.getLogger().handlers]))
    for h in handlers:
        h.addFilter(f)
    try:
        yield f
    finally:
        for h in handlers:
            h.removeFilter(f)
        for text, n in f.repeats.items():
            short = text if len(text) <= 80 else text[:77] + "…"
            logger.info("(%s: logged %d times; shown once)", short, n + 1)


def _progress(label: str, bar: Any) -> Callable[[], None]:
    """Log the start of a phase; return what logs its end (and advances the tqdm bar)."""
    t0 = time.perf_counter()
    logger.info("%s …", label)
    if bar is not None:
        bar.set_postfix_str(label)

    def done() -> None:
        logger.info("%s: %.1f s", label, time.perf_counter() - t0)
        if bar is not None:
            bar.update(1)

    return done


def run(out_dir: str | Path | None = None, *, config: RunConfig | None = None, **options: Any) -> dict[str, Path]:
    """Run the whole workflow and write every output into the output folder.

    Parameters
    ----------
    out_dir
        Output folder (created); existing outputs are replaced atomically.
    config
        The whole configuration (:class:`RunConfig`); or give ``out_dir`` and the options.
    **options
        The fields of :class:`RunConfig` (``points``, ``scenario``, ``mode``, ``network``,
        ``add``, ``objective``, ``method``, ``candidates``, ``max_minutes``, ``formats``…).

    Returns
    -------
    dict
        Output name -> path (:data:`RUN_OUTPUTS`).

    Raises
    ------
    InputError
        An option or input is wrong (named in the message), before anything long starts.
    OutputError
        A document could not be replaced (open in another program or read-only); every
        other output was written.

    Examples
    --------
    What a run writes (the whole run of Hanoi takes about a minute; the test suite runs it):

    >>> [n for n in ("units.csv", "points.csv", "summary.json", "map.html") if n in RUN_OUTPUTS]
    ['units.csv', 'points.csv', 'summary.json', 'map.html']
    >>> paths = run("out", add=10)  # doctest: +SKIP
    >>> paths["summary.json"]  # doctest: +SKIP
    PosixPath('out/summary.json')
    """
    from pointplan.report.documents import raise_for_problems

    if config is None:
        if out_dir is None:
            msg = "run() needs the output folder: run('out') or run(config=RunConfig('out', ...))."
            raise InputError(msg)
        config = RunConfig.from_options(out_dir, options)
    elif out_dir is not None or options:
        msg = "Give run() either config=RunConfig(...) or the output folder and options, not both."
        raise InputError(msg)
    check_outputs(config)
    state = RunState()
    phases = run_phases(config)
    bar = None
    if settings.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(phases), desc="pointplan run", unit="step", leave=False)
    try:
        with once_per_run():
            for label, steps in phases:
                done = _progress(label, bar)
                for step in steps:
                    state = step(config, state)
                done()
    finally:
        if bar is not None:
            bar.close()
    raise_for_problems(list(state.problems), config.out)
    return state.paths
