"""Exceptions and warnings raised by pointplan.

Every pointplan exception subclasses :class:`PointplanError` *and* the builtin
exception a Python user would expect (``ValueError``, ``FileNotFoundError``...),
so ``except ValueError`` keeps working while ``except PointplanError`` catches
everything the library raises on purpose. Messages say what is wrong, where
(file, row, column) and how to fix it.
"""

from __future__ import annotations

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
]


class PointplanError(Exception):
    """Base class of every error pointplan raises on purpose.

    Examples
    --------
    >>> issubclass(MissingColumnError, PointplanError) and issubclass(MissingColumnError, ValueError)
    True
    """


class DataNotFoundError(PointplanError, FileNotFoundError):
    """A reference dataset (or the whole data folder) could not be found."""


class DataIntegrityError(PointplanError, ValueError):
    """A reference file exists but is truncated, altered or unreadable."""


class InputError(PointplanError, ValueError):
    """User input (a frame, a file, an argument) is not what pointplan needs."""


class MissingColumnError(InputError):
    """A required column is missing from a table."""


class CRSError(InputError):
    """A CRS is missing, geographic where a projected one is needed, or does not fit.

    For example longitude and latitude swapped, or metres declared as degrees.
    """


class GeometryError(InputError):
    """Geometries are invalid, empty, of the wrong type, overlap or leave gaps."""


class NetworkError(PointplanError, ValueError):
    """A road network is missing, empty or unusable for the requested analysis."""


class OfflineError(PointplanError, ConnectionError):
    """A download was needed but there is no network access (or it was not allowed)."""


class GeocodingError(PointplanError, LookupError):
    """An address could not be geocoded."""


class SolverError(PointplanError, RuntimeError):
    """An optimisation solver failed or returned no usable answer."""


class InfeasibleError(SolverError):
    """The optimisation problem has no feasible solution as posed."""


class OutputError(PointplanError, OSError):
    """An output could not be written (permissions, would overwrite an input...)."""


class PointplanWarning(UserWarning):
    """Base class of pointplan warnings."""


class PrecisionWarning(PointplanWarning):
    """Results rest on stand-in locations or approximate travel times."""


class UnreachableWarning(PointplanWarning):
    """Some demand locations cannot reach any service point on the network."""
