"""The national sweep: every province's planning on Dask, and the national tables, map and report.

Each province is one Dask task (:func:`province_task`) that runs pointplan's whole job for
that province into ``OUT/provinces/<code>/`` and writes a completion marker last; a rerun
skips the provinces already complete, and a failed province is reported in the national
table while the others complete. :func:`sweep` runs them on a local cluster
(``dask.distributed.LocalCluster``, one thread per worker, memory bounded per worker) or on
an existing scheduler, then writes ``national_provinces.csv``, ``national_units.csv``,
``national_map.html`` and ``national_report.html``.

Examples
--------
>>> from pointplan.sweep import SweepOptions, check_codes
>>> check_codes("Lai Châu,46"), SweepOptions().draws
(['12', '46'], 20)
"""

from __future__ import annotations

from pointplan.sweep.engine import DEFAULT_MEMORY_LIMIT, SweepResult, sweep
from pointplan.sweep.national import (
    PROVINCE_COLUMNS,
    UNIT_COLUMNS,
    national_provinces,
    national_units,
    write_national_map,
    write_national_report,
    write_tables,
)
from pointplan.sweep.province import MARKER, SweepOptions, check_codes, points_needed, province_task, run_province

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "MARKER",
    "PROVINCE_COLUMNS",
    "UNIT_COLUMNS",
    "SweepOptions",
    "SweepResult",
    "check_codes",
    "national_provinces",
    "national_units",
    "points_needed",
    "province_task",
    "run_province",
    "sweep",
    "write_national_map",
    "write_national_report",
    "write_tables",
]
