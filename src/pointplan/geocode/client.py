"""The HTTP client of a Nominatim service, with a cache that tells answers from failures.

Plain HTTP (:mod:`urllib.request`), so it works with any Nominatim: the public
``nominatim.openstreetmap.org`` (the default, :data:`pointplan.settings.geocode_service_url`)
or a self-hosted one. The public service's usage policy is respected: at most one request a
second (:data:`pointplan.settings.geocode_min_interval_s`), a User-Agent naming pointplan,
every answer cached.

What is cached (``settings.cache_dir / "geocode.json"``, one JSON object): answers with
candidates and "no match" answers, each with the date and the service URL they came from.
What is never cached: transient failures (timeouts, refused connections, HTTP 429 and 5xx,
malformed replies); they are retried with exponential backoff
(:data:`~pointplan.settings.geocode_backoff_s` doubling, up to
:data:`~pointplan.settings.geocode_max_retries` retries) and, if they persist, raise
:class:`TransientGeocodingError`, so the next run asks again. An interrupted run resumes from
the cache: each answer is saved the moment it arrives.

Examples
--------
>>> import tempfile, pathlib
>>> client = NominatimClient(cache=pathlib.Path(tempfile.mkdtemp()) / "geocode.json")
>>> client.service_url
'https://nominatim.openstreetmap.org'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pointplan import settings
from pointplan._errors import GeocodingError, InputError, OfflineError
from pointplan._text import normalize_name
from pointplan._version import __version__

__all__ = ["Answer", "NominatimClient", "TransientGeocodingError", "cache_path", "user_agent"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Parameters every search sends: several candidates, Vietnam only, inside Hanoi's box.
_COMMON_PARAMS: dict[str, str] = {
    "format": "jsonv2",
    "countrycodes": "vn",
    "viewbox": "105.2,21.45,106.1,20.5",
    "bounded": "1",
    "accept-language": "vi",
}

_LAST_REQUEST: dict[str, float] = {}
_LOCK = threading.Lock()


class TransientGeocodingError(GeocodingError):
    """The geocoding service failed for a passing reason (timeout, HTTP 429/5xx, bad reply).

    Never cached: the next run asks again. ``retry_after`` holds the seconds the service
    asked to wait (HTTP ``Retry-After``), 0 when it did not say.

    Examples
    --------
    >>> from pointplan._errors import GeocodingError
    >>> err = TransientGeocodingError("Nominatim answered HTTP 429: too many requests")
    >>> err.retry_after = 30.0
    >>> isinstance(err, GeocodingError), err.retry_after
    (True, 30.0)
    """

    retry_after: float = 0.0


def cache_path() -> Path:
    """Return the geocoding cache file (``settings.cache_dir / "geocode.json"``).

    Examples
    --------
    >>> cache_path().name
    'geocode.json'
    """
    return Path(settings.cache_dir) / "geocode.json"


def user_agent() -> str:
    """Return the User-Agent pointplan sends (names pointplan, its version and its purpose).

    Examples
    --------
    >>> user_agent().startswith("pointplan/")
    True
    """
    return (
        f"pointplan/{__version__} (Hanoi public administrative service point planning; "
        "https://pypi.org/project/pointplan/)"
    )


@dataclass(frozen=True)
class Answer:
    """One answer of the service to one query (from the network or the cache).

    Attributes
    ----------
    results
        The raw result objects (``jsonv2``), best first; empty for "no match".
    service
        The service URL that gave the answer.
    date
        ISO date and time (UTC) the answer was received.
    from_cache
        True when read from the cache.

    Examples
    --------
    >>> Answer(results=[], service="http://localhost", date="2025-10-01T00:00:00+00:00").found
    False
    """

    results: list[dict[str, Any]]
    service: str
    date: str
    from_cache: bool = False

    @property
    def found(self) -> bool:
        """True when the service returned at least one candidate."""
        return bool(self.results)


def _request_key(service: str, params: dict[str, str]) -> str:
    text = (
        service.rstrip("/") + "?" + "&".join(f"{k}={normalize_name(v).casefold()}" for k, v in sorted(params.items()))
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _load_cache(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        logger.warning("ignoring unreadable geocode cache %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(path: Path, cache: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        # one entry a line: readable, and fast to write (the C encoder) however large the cache
        lines = (
            f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}" for k, v in sorted(cache.items())
        )
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("{\n" + ",\n".join(lines) + "\n}\n")
        Path(tmp).replace(path)
    except BaseException:  # interrupted: keep the previous cache, leave no temporary file
        Path(tmp).unlink(missing_ok=True)
        raise


def _valid_results(payload: object) -> list[dict[str, Any]]:
    """Return the results of a reply, or raise TransientGeocodingError if it is malformed."""
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        msg = f"the service replied with {type(payload).__name__}, not a list of results"
        raise TransientGeocodingError(msg)
    for r in payload:
        try:
            float(r["lat"]), float(r["lon"])
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"a result lacks numeric lat/lon: {str(r)[:120]}"
            raise TransientGeocodingError(msg) from exc
    return payload


class NominatimClient:
    """Search a Nominatim service politely, caching answers and retrying transient failures.

    Parameters
    ----------
    service_url
        The service (default :data:`pointplan.settings.geocode_service_url`); ``/search``
        is appended unless the URL already ends with it.
    cache
        The cache file (default :func:`cache_path`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> c = NominatimClient("http://127.0.0.1:8080/search", cache=pathlib.Path(tempfile.mkdtemp()) / "g.json")
    >>> c.endpoint
    'http://127.0.0.1:8080/search'
    >>> c.cached({"q": "Hoàn Kiếm, Hà Nội"}) is None
    True
    """

    def __init__(self, service_url: str | None = None, *, cache: Path | None = None) -> None:
        url = (service_url or settings.geocode_service_url or "").strip()
        if not url.startswith(("http://", "https://")):
            msg = (
                f"The geocoding service URL {url!r} is not an http(s) URL. Give e.g. "
                "'https://nominatim.openstreetmap.org' or your own Nominatim "
                "(settings.geocode_service_url, CLI --service-url)."
            )
            raise InputError(msg)
        url = url.rstrip("/")
        self.service_url = url.removesuffix("/search")
        self.endpoint = self.service_url + "/search"
        self.cache_file = Path(cache) if cache is not None else cache_path()
        self._store = _load_cache(self.cache_file)
        self.requests_made = 0

    def cached(self, params: dict[str, str]) -> Answer | None:
        """Return the cached answer to a query, or ``None`` when it was never answered."""
        hit = self._store.get(_request_key(self.service_url, params))
        if not isinstance(hit, dict) or hit.get("status") not in ("found", "no_match"):
            return None
        return Answer(list(hit.get("results", [])), str(hit.get("service")), str(hit.get("date")), from_cache=True)

    def search(self, params: dict[str, str]) -> Answer:
        """Answer a query from the cache, else from the service (then cache the answer).

        Parameters
        ----------
        params
            Query parameters (``q``, or ``street``/``city``/``country``); the common ones
            (``format=jsonv2``, ``limit``, ``countrycodes=vn``, Hanoi's viewbox) are added.

        Returns
        -------
        Answer
            The candidates (possibly none).

        Raises
        ------
        OfflineError
            Not cached and :data:`pointplan.settings.allow_downloads` is False.
        TransientGeocodingError
            The service kept failing (timeouts, 429, 5xx, malformed replies) after the retries.
        GeocodingError
            The service refused the request (another HTTP 4xx error).
        """
        hit = self.cached(params)
        if hit is not None:
            return hit
        if not settings.allow_downloads:
            msg = (
                f"{_describe(params)} is not in the geocoding cache ({self.cache_file}) and pointplan is "
                "offline. Set pointplan.settings.allow_downloads = True (CLI: --allow-downloads) on a "
                "machine with internet, or share a geocode.json cache, or give real coordinates in a "
                "points file (pointplan.read_points)."
            )
            raise OfflineError(msg)
        results = self._fetch_with_retries(params)
        answer = Answer(results, self.service_url, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        self._store[_request_key(self.service_url, params)] = {
            "params": params,
            "status": "found" if results else "no_match",
            "results": results,
            "service": answer.service,
            "date": answer.date,
        }
        _save_cache(self.cache_file, self._store)
        return answer

    def _fetch_with_retries(self, params: dict[str, str]) -> list[dict[str, Any]]:
        delay = float(settings.geocode_backoff_s)
        tries = int(settings.geocode_max_retries) + 1
        for attempt in range(1, tries + 1):
            try:
                return self._fetch(params)
            except TransientGeocodingError as exc:
                if attempt == tries:
                    msg = (
                        f"The geocoding service {self.service_url} failed {tries} times for "
                        f"{_describe(params)} (last: {exc}). Nothing was cached; run again later, or "
                        "raise pointplan.settings.geocode_max_retries / geocode_timeout_s."
                    )
                    raise TransientGeocodingError(msg) from exc
                wait = max(delay, exc.retry_after)
                logger.info("geocoding: %s; retry %d in %.2f s", exc, attempt, wait)
                time.sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_turn(self) -> None:
        """Sleep so that requests to one service are at least min_interval apart."""
        with _LOCK:
            last = _LAST_REQUEST.get(self.service_url)
            now = time.monotonic()
            gap = float(settings.geocode_min_interval_s)
            if last is not None and now - last < gap:
                time.sleep(gap - (now - last))
            _LAST_REQUEST[self.service_url] = time.monotonic()

    def _done(self) -> None:
        """Count the interval from the end of a request too, so the service never sees two closer."""
        with _LOCK:
            _LAST_REQUEST[self.service_url] = time.monotonic()

    def _fetch(self, params: dict[str, str]) -> list[dict[str, Any]]:
        query = {**_COMMON_PARAMS, "limit": str(int(settings.geocode_candidates)), **params}
        url = self.endpoint + "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers={"User-Agent": user_agent(), "Accept": "application/json"})
        self._wait_turn()
        self.requests_made += 1
        try:
            with urllib.request.urlopen(request, timeout=float(settings.geocode_timeout_s)) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            _raise_http_error(exc, self.service_url)
        except TimeoutError as exc:
            msg = f"no answer within {settings.geocode_timeout_s} s"
            raise TransientGeocodingError(msg) from exc
        except (urllib.error.URLError, ConnectionError) as exc:
            msg = f"cannot reach the service ({getattr(exc, 'reason', exc)})"
            raise TransientGeocodingError(msg) from exc
        finally:
            self._done()
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            msg = f"malformed reply (not JSON): {body[:80]!r}"
            raise TransientGeocodingError(msg) from exc
        return _valid_results(payload)


def _raise_http_error(exc: urllib.error.HTTPError, service: str) -> None:
    """Turn an HTTP error into a transient (429, 5xx) or a definitive GeocodingError."""
    if exc.code == 429 or exc.code >= 500:
        err = TransientGeocodingError(f"HTTP {exc.code} {exc.reason}")
        retry_after = exc.headers.get("Retry-After") if exc.headers else None
        try:  # honour Retry-After (seconds), capped at a minute
            err.retry_after = min(60.0, float(retry_after)) if retry_after else 0.0
        except ValueError:
            err.retry_after = 0.0
        raise err from exc
    hint = (
        " The service blocks this client: check its usage policy, or use your own Nominatim "
        "(settings.geocode_service_url, --service-url)."
        if exc.code == 403
        else ""
    )
    msg = f"The geocoding service {service} refused the request: HTTP {exc.code} {exc.reason}.{hint}"
    raise GeocodingError(msg) from exc


def _describe(params: dict[str, str]) -> str:
    return "the query " + ", ".join(f"{k}={v!r}" for k, v in params.items())
