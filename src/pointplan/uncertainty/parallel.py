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
