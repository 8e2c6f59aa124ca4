"""A small fake Nominatim on 127.0.0.1 that answers from recorded replies (JSON fixtures).

The geocoding tests point pointplan at it, so the whole client runs over real HTTP:
URL building, headers, rate limiting, timeouts, retries, JSON parsing. Nothing is mocked.

A fixture is ``{"rules": [...]}``; each rule is

``{"match": {"q": "Trúc Bạch, Hà Nội"}, "replies": [reply, ...]}``

``match`` compares request parameters exactly (Unicode NFC, case-insensitive);
``match_contains`` does a substring test instead. The n-th request a rule matches gets
``replies[n]`` (the last one repeats). A reply is ``{"status": 200, "body": [...]}``, or
``{"status": 429, "headers": {"Retry-After": "0"}}``, or ``{"delay": 2.0, "body": [...]}``
(a timeout for a client that waits less), or ``{"raw": "<html>…"}`` (a malformed reply).
Requests no rule matches get ``[]`` (no match).
"""

from __future__ import annotations

import json
import threading
import time
import unicodedata
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "geocode_fixtures"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


class FakeNominatim:
    """Serve recorded replies; record every request (path, params, headers, time)."""

    def __init__(self, rules: list[dict[str, Any]]) -> None:
        self.rules = rules
        self.hits = [0] * len(rules)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._answer(self)

            def log_message(self, *args: object) -> None:  # keep test output clean
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @classmethod
    def from_fixture(cls, name: str) -> FakeNominatim:
        data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        return cls(data["rules"])

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeNominatim:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _rule_for(self, params: dict[str, str]) -> int | None:
        for i, rule in enumerate(self.rules):
            exact = rule.get("match", {})
            contains = rule.get("match_contains", {})
            if all(_norm(params.get(k, "")) == _norm(v) for k, v in exact.items()) and all(
                _norm(v) in _norm(params.get(k, "")) for k, v in contains.items()
            ):
                return i
        return None

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        params = dict(urllib.parse.parse_qsl(parsed.query))
        with self._lock:
            self.requests.append(
                {"path": parsed.path, "params": params, "headers": dict(handler.headers), "time": time.monotonic()}
            )
            i = self._rule_for(params)
            if i is None:
                reply: dict[str, Any] = {"body": []}
            else:
                replies = self.rules[i]["replies"]
                reply = replies[min(self.hits[i], len(replies) - 1)]
                self.hits[i] += 1
        if reply.get("delay"):
            time.sleep(float(reply["delay"]))
        status = int(reply.get("status", 200))
        body = reply["raw"].encode("utf-8") if "raw" in reply else json.dumps(reply.get("body", [])).encode("utf-8")
        try:
            handler.send_response(status)
            for k, v in reply.get("headers", {}).items():
                handler.send_header(k, v)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def searches(self, **params: str) -> list[dict[str, Any]]:
        """The recorded requests whose parameters equal ``params`` (NFC, case-insensitive)."""
        return [r for r in self.requests if all(_norm(r["params"].get(k, "")) == _norm(v) for k, v in params.items())]
