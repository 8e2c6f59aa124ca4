"""Running the provinces on Dask: a local cluster by default, or an existing scheduler."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pointplan._errors import InputError
from pointplan.sweep.national import national_provinces, write_tables
from pointplan.sweep.province import ProvinceJob, SweepOptions, check_codes, province_task

__all__ = ["DEFAULT_MEMORY_LIMIT", "SweepResult", "sweep"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Memory each local worker may use before Dask pauses, then restarts it.
DEFAULT_MEMORY_LIMIT = "2GiB"


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: the records of the provinces and the national files.

    Examples
    --------
    >>> r = SweepResult(records=({"province_code": "12", "status": "failed", "error": "x"},), paths={})
    >>> r.failed, r.provinces["status"].tolist()
    (['12'], ['failed'])
    """

    records: tuple[dict[str, Any], ...]
    paths: dict[str, Path]
    seconds: float = 0.0
    workers: int | None = None
    scheduler: str | None = None
    skipped: tuple[str, ...] = field(default_factory=tuple)

    @property
    def provinces(self) -> pd.DataFrame:
        """The national provinces table (one row per province)."""
        return national_provinces(self.records)

    @property
    def failed(self) -> list[str]:
        """Codes of the provinces that failed."""
        return [r["province_code"] for r in self.records if r.get("status") != "ok"]


def _client(workers: int | None, scheduler: str | None, memory_limit: str | None, processes: bool) -> tuple[Any, Any]:
    """Return a Dask client (and the local cluster it owns, or None for an existing scheduler)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        msg = 'The national sweep runs on Dask: pip install "pointplan[parallel]".'
        raise InputError(msg) from exc
    if scheduler is not None:
        return Client(scheduler), None
    cluster = LocalCluster(
        n_workers=workers or 1,
        threads_per_worker=1,
        processes=processes,
        memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT,
        dashboard_address=None,
    )
    return Client(cluster), cluster


def _check(workers: int | None, scheduler: str | None, out: Path) -> None:
    if workers is not None and scheduler is not None:
        msg = "Give --workers (a local cluster) or --scheduler (an existing one), not both."
        raise InputError(msg)
    if workers is not None and (int(workers) != workers or workers < 1):
        msg = f"--workers must be a positive whole number, got {workers!r}."
        raise InputError(msg)
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file; give a folder for the sweep's outputs."
        raise InputError(msg)


def _gather(client: Any, futures: dict[Any, str]) -> list[dict[str, Any]]:
    """Collect the records as they finish; a lost task (worker killed) becomes a failure."""
    from dask.distributed import as_completed

    records = []
    for fut in as_completed(list(futures)):
        code = futures[fut]
        try:
            rec = fut.result()
        except Exception as exc:  # a worker died (memory limit) or the task was lost
            rec = {"province_code": code, "status": "failed", "resumed": False, "error": f"{type(exc).__name__}: {exc}"}
        logger.info("province %s: %s (%s s)", code, rec.get("status"), rec.get("seconds"))
        records.append(rec)
    return records


def sweep(
    out_dir: str | Path,
    provinces: str | Sequence[str] = "all",
    *,
    options: SweepOptions | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    processes: bool = True,
    job: ProvinceJob | None = None,
) -> SweepResult:
    """Run every province (one Dask task each) and write the national tables, map and report.

    Parameters
    ----------
    out_dir
        The sweep's folder: ``provinces/<code>/`` per province, ``national_units.csv``,
        ``national_provinces.csv``, ``national_map.html``, ``national_report.html``.
    provinces
        ``"all"`` or codes / names (a list or a comma-separated string).
    options, job
        What each province is run with (:class:`SweepOptions`); the per-province work
        (default :func:`pointplan.sweep.province.run_province`).
    workers, scheduler
        Workers of the local cluster (default 1, one province each at a time), or the address
        of an existing Dask scheduler (``tcp://host:8786``) instead.
    memory_limit, processes
        Memory of each local worker (e.g. ``"2GiB"``); processes (default) or threads (tests).

    Returns
    -------
    SweepResult
        The records (completed, resumed and failed provinces) and the national files.

    Raises
    ------
    InputError
        An unknown province (checked before any worker starts), both ``workers`` and
        ``scheduler``, a bad ``workers``.

    Examples
    --------
    >>> sweep("vn", "Atlantis")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: Unknown province 'Atlantis'. Did you mean: ...

    >>> r = sweep("vn", "12,thanh-hoa", workers=2)  # doctest: +SKIP
    >>> r.provinces["status"].tolist(), r.failed  # doctest: +SKIP
    (['ok', 'ok'], [])
    """
    out = Path(out_dir).expanduser()
    _check(workers, scheduler, out)
    codes = check_codes(provinces)
    opts = options or SweepOptions()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    client, cluster = _client(workers, scheduler, memory_limit, processes)
    try:
        futures = {
            client.submit(
                province_task, code, str(out), opts, job, pure=False, key=f"province-{code}-{time.time_ns()}"
            ): code
            for code in codes
        }
        records = _gather(client, futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    records.sort(key=lambda r: r["province_code"])
    paths = write_tables(out, records)
    return SweepResult(
        records=tuple(records),
        paths=paths,
        seconds=round(time.perf_counter() - t0, 2),
        workers=workers,
        scheduler=scheduler,
        skipped=tuple(r["province_code"] for r in records if r.get("resumed")),
    )
