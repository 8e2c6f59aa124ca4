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
"""

from __future__ import annotations

import logging

from pointplan import settings
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
from pointplan.data import data_status, load_boundary, load_units
from pointplan.geocode import geocode_points
from pointplan.io import read_scenario, write_scenario, write_table
from pointplan.points import branch_report, load_points, read_points

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
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
    "SolverError",
    "UnreachableWarning",
    "__version__",
    "branch_report",
    "data_status",
    "geocode_points",
    "load_boundary",
    "load_points",
    "load_units",
    "name_key",
    "normalize_name",
    "read_points",
    "read_scenario",
    "settings",
    "write_scenario",
    "write_table",
]
