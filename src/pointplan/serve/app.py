"""The editor's web application (FastAPI): the page, its static files and the JSON API.

Routes (the API is described at ``/openapi.json``):

* ``GET /`` the page; ``/static/…`` its script and style; ``/leaflet/…`` Leaflet (from
  the ``xstatic-leaflet`` package: nothing is fetched from the internet);
* ``GET /api/meta`` labels, metrics with their colour classes, markers;
  ``GET /api/units`` the units as simplified GeoJSON; ``GET /api/state`` the session's
  points and figures;
* ``POST /api/move``, ``/api/add``, ``/api/remove``, ``/api/counters``, ``/api/mode``,
  ``/api/undo``, ``/api/redo``: a change, answered with the new state and the units it
  changed; ``POST /api/propose`` ranked proposals (no change);
* ``GET /api/download/points.csv`` (a points file ``pointplan run --points`` reads),
  ``/api/download/report.html``, ``/api/download/tables.xlsx``.

Every refused request gets a 4xx answer ``{"error": message}``; the scenario is unchanged.

Examples
--------
>>> import tempfile
>>> from fastapi.testclient import TestClient
>>> from pointplan.assessment.demo import tiny_city
>>> c = tiny_city()
>>> app = create_app(ServeConfig(c["units"], c["points"], c["demand"], c["engine"], state_dir=tempfile.mkdtemp(),
...                              draws=0, details=False, assess_kwargs={"visits": c["visits"]}))
>>> with TestClient(app, base_url="http://127.0.0.1") as client:
...     r = client.post("/api/counters", json={"point_id": "P1", "counters": 4})
...     r.status_code, r.json()["state"]["points"][0]["counters"]
(200, 4)
"""

from __future__ import annotations

import contextlib
import html
import logging
import threading
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import xstatic.pkg.leaflet as leaflet
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from pointplan._errors import PointplanError
from pointplan._version import __version__
from pointplan.report import write_html, write_xlsx
from pointplan.serve.figures import meta, units_geojson
from pointplan.serve.guard import SESSION_COOKIE, Guard
from pointplan.serve.models import Add, Counters, Empty, Mode, Move, Propose, Remove
from pointplan.serve.sessions import ServeConfig, Session, SessionStore

logger = logging.getLogger(__name__)

__all__ = ["DOWNLOADS", "ApiError", "create_app"]

#: The files a session can download (nothing else: no path is ever taken from a request).
DOWNLOADS: dict[str, str] = {
    "points.csv": "text/csv; charset=utf-8",
    "report.html": "text/html; charset=utf-8",
    "tables.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


_DOCUMENTS = threading.Lock()


class ApiError(Exception):
    """A refused request: HTTP status and a message the page shows.

    Examples
    --------
    >>> ApiError(404, "no such point").status
    404
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        if e.get("type") == "json_invalid":
            return f"Malformed JSON: {e.get('ctx', {}).get('error', e.get('msg', ''))}."
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "Invalid request."


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(PointplanError)
    async def domain_error(_: Request, exc: PointplanError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("internal error")
        return _error(500, f"Internal error ({type(exc).__name__}); the scenario is unchanged.")


def _static_dir() -> Path:
    return Path(str(resources.files("pointplan.serve").joinpath("static")))


def _leaflet_dir() -> Path:
    return Path(leaflet.BASE_DIR)


def _session(request: Request) -> Session:
    """Return the request's session (its cookie), or a new one whose cookie the answer sets."""
    store: SessionStore = request.app.state.store
    s = store.get(request.cookies.get(SESSION_COOKIE))
    if s is None:
        s = store.create()
        request.scope.setdefault("pointplan", {})["new_session"] = s.id
    return s


SessionDep = Annotated[Session, Depends(_session)]


def _check_point(s: Session, point_id: str) -> None:
    pts = s.scenario.points
    ids = set(map(str, pts.index)) | (set(map(str, pts["point_id"])) if "point_id" in pts.columns else set())
    if point_id not in ids:
        raise ApiError(404, f"Unknown point {point_id!r}: it may have been closed; reload the page.")


def _answer(store: SessionStore, s: Session, change: Any) -> dict[str, Any]:
    return {
        "op": getattr(change, "op", None),
        "point_id": getattr(change, "point_id", None),
        "changed_units": [str(c) for c in getattr(change, "changed_units", ())],
        "seconds": float(getattr(change, "seconds", 0.0) or 0.0),
        "state": store.state(s),
    }


def _do(store: SessionStore, s: Session, op: Callable[[Any], Any]) -> dict[str, Any]:
    try:
        change = store.change(s, op)
    except (PointplanError, ValueError) as exc:
        raise ApiError(400, str(exc)) from exc
    return _answer(store, s, change)


#: Modules the routes reach through deferred imports: imported once, before any request,
#: because two threads importing packages that import each other (folium and branca) can
#: deadlock Python's import locks.
_WARM_MODULES = ("openpyxl", "matplotlib", "pointplan.maps", "pointplan.locate", "pointplan.network")


def _warm_up() -> None:
    import importlib

    for name in _WARM_MODULES:
        importlib.import_module(name)
    import matplotlib

    matplotlib.use("Agg", force=True)
    importlib.import_module("matplotlib.pyplot")


def create_app(config: ServeConfig, *, store: SessionStore | None = None, warm: bool = False) -> FastAPI:
    """Build the editor's application for ``config`` (sessions kept in ``config.state_dir``).

    Parameters
    ----------
    config
        What to serve (:class:`~pointplan.serve.ServeConfig`).
    store
        Reuse a session store (default: a new one on ``config``).
    warm
        Route the candidate sites of the proposals now, in the background.

    Returns
    -------
    fastapi.FastAPI
        Ready for ``uvicorn.run`` or ``fastapi.testclient.TestClient``; ``app.state.store``
        is its :class:`~pointplan.serve.SessionStore`.

    Examples
    --------
    >>> import tempfile
    >>> from fastapi.testclient import TestClient
    >>> from pointplan.assessment.demo import tiny_city
    >>> c = tiny_city()
    >>> app = create_app(ServeConfig(c["units"], c["points"], c["demand"], c["engine"], state_dir=tempfile.mkdtemp(),
    ...                              draws=0, details=False, assess_kwargs={"visits": c["visits"]}))
    >>> with TestClient(app, base_url="http://127.0.0.1") as client:
    ...     client.post("/api/counters", json={"point_id": "P1", "counters": -3}).json()["error"]
    'counters: Input should be greater than or equal to 1'
    """
    _warm_up()
    store = store or SessionStore(config)
    if warm:
        store.prepare_proposals()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.stop()

    app = FastAPI(
        title="pointplan scenario editor",
        version=__version__,
        description="Move, add and close service points and see the city's figures follow.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's documentation pages load their scripts from a CDN: only /openapi.json
        redoc_url=None,
    )
    app.state.store = store
    _install_handlers(app)
    app.mount("/static", StaticFiles(directory=_static_dir()), name="static")
    app.mount("/leaflet", StaticFiles(directory=_leaflet_dir()), name="leaflet")
    _page_routes(app, store)
    _change_routes(app, store)
    _download_routes(app, store)
    return Guard(app, token=config.token, allowed_hosts=config.allowed_hosts)  # type: ignore[return-value]


def _page_routes(app: FastAPI, store: SessionStore) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        html = (_static_dir() / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(html.replace("{{title}}", _escape(store.config.title)))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(_static_dir() / "favicon.svg", media_type="image/svg+xml")

    @app.get("/api/meta", summary="Labels, unit figures with their colour classes, markers")
    def api_meta(lang: Literal["vi", "en"] = "vi") -> dict[str, Any]:
        return {**meta(lang), "title": store.config.title, "version": __version__}

    @app.get("/api/units", summary="The units as GeoJSON, simplified for display")
    def api_units() -> JSONResponse:
        if store.units_geojson is None:
            store.units_geojson = units_geojson(store.config.units)
        return JSONResponse(store.units_geojson, headers={"Cache-Control": "max-age=3600"})

    @app.get("/api/state", summary="The session's points, headline figures (and intervals) and units' figures")
    def api_state(s: SessionDep) -> dict[str, Any]:
        return store.state(s)

    @app.post("/api/propose", summary="N proposed sites ranked by gain (the scenario is unchanged)")
    def api_propose(body: Propose, s: SessionDep) -> dict[str, Any]:
        try:
            return {"proposals": store.propose(s, body.n)}
        except (PointplanError, ValueError) as exc:
            raise ApiError(400, str(exc)) from exc


def _change_routes(app: FastAPI, store: SessionStore) -> None:
    @app.post("/api/move", summary="Move a point")
    def api_move(body: Move, s: SessionDep) -> dict[str, Any]:
        _check_point(s, body.point_id)
        return _do(store, s, lambda sc: sc.move(body.point_id, body.lon, body.lat))

    @app.post("/api/add", summary="Open a point")
    def api_add(body: Add, s: SessionDep) -> dict[str, Any]:
        return _do(store, s, lambda sc: sc.add(body.lon, body.lat, kind=body.kind, counters=body.counters,
                                               name=body.name))  # fmt: skip

    @app.post("/api/remove", summary="Close a point")
    def api_remove(body: Remove, s: SessionDep) -> dict[str, Any]:
        _check_point(s, body.point_id)
        return _do(store, s, lambda sc: sc.remove(body.point_id))

    @app.post("/api/counters", summary="Set a point's counters")
    def api_counters(body: Counters, s: SessionDep) -> dict[str, Any]:
        _check_point(s, body.point_id)
        return _do(store, s, lambda sc: sc.set_counters(body.point_id, body.counters))

    @app.post("/api/mode", summary="Switch the travel mode")
    def api_mode(body: Mode, s: SessionDep) -> dict[str, Any]:
        return _do(store, s, lambda sc: sc.set_mode(body.mode))

    @app.post("/api/undo", summary="Undo the last change")
    def api_undo(s: SessionDep, body: Empty | None = None) -> dict[str, Any]:
        if not s.scenario.can_undo:
            raise ApiError(409, "Nothing to undo.")
        return _do(store, s, lambda sc: sc.undo())

    @app.post("/api/redo", summary="Redo the last undone change")
    def api_redo(s: SessionDep, body: Empty | None = None) -> dict[str, Any]:
        if not s.scenario.can_redo:
            raise ApiError(409, "Nothing to redo.")
        return _do(store, s, lambda sc: sc.redo())


def _download_routes(app: FastAPI, store: SessionStore) -> None:
    @app.get("/api/download/{name}", summary="points.csv, report.html or tables.xlsx of the session's scenario")
    def api_download(name: str, s: SessionDep, lang: Literal["vi", "en"] = "vi") -> FileResponse:
        if name not in DOWNLOADS:
            raise ApiError(404, f"No download {name!r}: choose one of {', '.join(DOWNLOADS)}.")
        path = s.dir / name  # a fixed name inside the session's own folder
        with s.lock:
            if name == "points.csv":
                s.scenario.to_points_file(path)
                a = None
            else:
                a = s.scenario.assessment()
        if a is not None:
            with _DOCUMENTS:  # charts (matplotlib) are drawn one document at a time
                _write_document(name, a, path, lang)
        return FileResponse(path, media_type=DOWNLOADS[name], filename=name)


def _write_document(name: str, a: Any, path: Path, lang: str) -> None:
    if name == "report.html":
        write_html(a, path, lang=lang, map_href=None)
    else:
        write_xlsx(a, path, lang=lang)


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
