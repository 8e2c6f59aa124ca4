"""pointplan: plan Hanoi's public administrative service points.

Model the 126 commune-level units, the Centre's branches and every service point as
geodata; check the rules and the city's standard (a 30-minute trip or 5 km); measure
travel time, load and who is left behind; propose where new points should go; and show it
all on interactive maps.

Examples
--------
>>> import pointplan
>>> units = pointplan.load_units()      # doctest: +SKIP
>>> points = pointplan.load_points()    # doctest: +SKIP
>>> a = pointplan.assess(points, units)  # doctest: +SKIP
>>> a.summary["population_within_standard_share"]  # doctest: +SKIP
1.0
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

if "numpy" not in sys.modules:  # before numpy loads OpenBLAS (see pointplan._blas)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ.get("POINTPLAN_BLAS_THREADS", "1"))

from pointplan import access, candidates, demand, network, optimize, settings, staffing  # old module paths kept
from pointplan._errors import (
    CRSError,
    DataIntegrityError,
    DataNotFoundError,
    GeocodingError,
    GeometryError,
    InfeasibleError,
    InputError,
    MissingColumnError,
    NetworkError,
    OfflineError,
    OutputError,
    PointplanError,
    PointplanWarning,
    PrecisionWarning,
    SolverError,
    UnreachableWarning,
)
from pointplan._text import name_key, normalize_name
from pointplan._version import __version__
from pointplan.assessment import Assessment, Scenario, assess, check_rules, reassess
from pointplan.data import data_status, load_boundary, load_units
from pointplan.demand import build_demand, convert_old_units, visits_per_day
from pointplan.geocode import geocode_points
from pointplan.io import read_scenario, write_scenario, write_table
from pointplan.locate import Proposal, SolveResult, propose, solve_lscp, solve_mclp, solve_pmedian
from pointplan.network import load_network, make_engine
from pointplan.points import branch_report, load_points, read_points
from pointplan.workflow import default_candidates, propose_points, run

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: Names that left ``pointplan.staffing`` for the layers above it (issue 23): still found there.
_MOVED_FROM_STAFFING = {
    "wait_layer": ("pointplan.maps.waits", "wait_layer"),
    "report_tables": ("pointplan.report.queues", "staffing_tables"),
}


def _moved_from_staffing(name: str) -> Any:
    """Find ``pointplan.staffing.<name>`` in its new home (loaded on first use, not at import)."""
    if name in _MOVED_FROM_STAFFING:
        module, attr = _MOVED_FROM_STAFFING[name]
        return getattr(importlib.import_module(module), attr)
    msg = f"module 'pointplan.staffing' has no attribute {name!r}"
    raise AttributeError(msg)


# staffing sits below maps and report and does not import them; the package points it there.
staffing.__dict__["__getattr__"] = _moved_from_staffing

__all__ = [
    "Assessment",
    "CRSError",
    "DataIntegrityError",
    "DataNotFoundError",
    "GeocodingError",
    "GeometryError",
    "InfeasibleError",
    "InputError",
    "MissingColumnError",
    "NetworkError",
    "OfflineError",
    "OutputError",
    "PointplanError",
    "PointplanWarning",
    "PrecisionWarning",
    "Proposal",
    "Scenario",
    "SolveResult",
    "SolverError",
    "UnreachableWarning",
    "__version__",
    "access",
    "assess",
    "branch_report",
    "build_demand",
    "candidates",
    "check_rules",
    "convert_old_units",
    "data_status",
    "default_candidates",
    "demand",
    "geocode_points",
    "load_boundary",
    "load_network",
    "load_points",
    "load_units",
    "make_engine",
    "name_key",
    "network",
    "normalize_name",
    "optimize",
    "propose",
    "propose_points",
    "read_points",
    "read_scenario",
    "reassess",
    "run",
    "settings",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
    "visits_per_day",
    "write_scenario",
    "write_table",
]
