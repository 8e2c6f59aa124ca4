"""The scenario editor in the browser: ``pointplan serve``.

A planner drags a point, opens a kiosk, closes a point, changes counters or the travel
mode, asks for proposals, undoes and redoes, and sees the city's figures and the units'
colours follow. Each browser session has its own scenario, saved to disk after every
change; it downloads as a points file ``pointplan run --points`` reads, and as the report
and workbook of ``pointplan run``.

* :mod:`~pointplan.serve.app` — :func:`create_app` (FastAPI) and the routes;
* :mod:`~pointplan.serve.sessions` — :class:`ServeConfig`, :class:`SessionStore`;
* :mod:`~pointplan.serve.figures` — what the page shows and how it is coloured;
* :mod:`~pointplan.serve.guard` — host, token, body size and type checks;
* :mod:`~pointplan.serve.models` — the request bodies;
* :mod:`~pointplan.serve.server` — :func:`serve`: run it with uvicorn.

Examples
--------
>>> from pointplan import serve
>>> serve.colour_for("mean_minutes", 7.0)
'#e0f3f8'
"""

from __future__ import annotations

from pointplan.serve.app import DOWNLOADS, create_app
from pointplan.serve.figures import UNIT_METRICS, colour_for
from pointplan.serve.server import is_loopback, serve
from pointplan.serve.sessions import ServeConfig, SessionStore, scenario_class

__all__ = [
    "DOWNLOADS",
    "UNIT_METRICS",
    "ServeConfig",
    "SessionStore",
    "colour_for",
    "create_app",
    "is_loopback",
    "scenario_class",
    "serve",
]
