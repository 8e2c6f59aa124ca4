"""Running draws on Dask: a local cluster (``--workers N``) or an existing scheduler.

Draws are seeded one by one from a :class:`numpy.random.SeedSequence`, so the result does not
depend on how the draws are split between workers: the same seed gives the same intervals
in-process and on Dask. Dask is optional: ``pip install "pointplan[parallel]"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pointplan._errors import InputError

__all__ = ["run_on_dask"]


def _client(workers: int | None, scheduler: str | None) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # optional dependency
        msg = (
            'Running draws on Dask needs dask.distributed: pip install "pointplan[parallel]" '
            "(or leave out --workers/--scheduler to run in this process)."
        )
        raise InputError(msg) from exc
    if scheduler is not None:
        try:
            return Client(scheduler, timeout="10s"), None
        except OSError as exc:
            msg = f"--scheduler: could not reach the Dask scheduler at {scheduler!r} ({exc}). Check the address."
            raise InputError(msg) from exc
    cluster = LocalCluster(n_workers=int(workers or 1), threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def run_on_dask(
    model: Any,
    seeds: Sequence[np.random.SeedSequence],
    run_chunk: Callable[[Any, Sequence[np.random.SeedSequence]], list[dict[str, Any]]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk: int = 10,
) -> list[dict[str, Any]]:
    """Evaluate the draws of ``seeds`` on Dask, in chunks; return the results in seed order.

    Parameters
    ----------
    model
        The :class:`~pointplan.uncertainty.model.DrawModel` (sent once to every worker).
    seeds
        One seed sequence per draw.
    run_chunk
        ``run_chunk(model, seeds) -> list of results``.
    workers
        Start a local cluster with this many worker processes.
    scheduler
        Or the address of an existing scheduler.
    chunk
        Draws per task.

    Returns
    -------
    list of dict
        One result per seed, in the order of ``seeds``.

    Raises
    ------
    InputError
        dask.distributed is not installed, or the scheduler cannot be reached.

    Examples
    --------
    The same seeds give the same results on Dask as in this process (here a small
    in-process cluster stands for ``--scheduler``):

    >>> from dask.distributed import LocalCluster
    >>> def run_chunk(model, seeds):
    ...     return [{"x": model * np.random.default_rng(s).random()} for s in seeds]
    >>> seeds = np.random.SeedSequence(7).spawn(5)
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
    ...     out = run_on_dask(2.0, seeds, run_chunk, scheduler=cluster.scheduler_address, chunk=2)
    >>> out == run_chunk(2.0, seeds)
    True
    """
    client, cluster = _client(workers, scheduler)
    try:
        remote = client.scatter(model, broadcast=True)
        parts = [list(seeds[i : i + chunk]) for i in range(0, len(seeds), chunk)]
        futures = client.map(run_chunk, [remote] * len(parts), parts, pure=False)
        out: list[dict[str, Any]] = []
        for part in client.gather(futures):
            out.extend(part)
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
