"""The server's gate: host check, token, JSON-only bodies of at most 64 KB, session cookie.

A pure ASGI middleware, so a refused request never reaches the application and never
touches a scenario.

Examples
--------
>>> MAX_BODY_BYTES
65536
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import JSONResponse

__all__ = ["MAX_BODY_BYTES", "SESSION_COOKIE", "TOKEN_COOKIE", "TOKEN_HEADER", "Guard"]

MAX_BODY_BYTES = 64 * 1024
SESSION_COOKIE = "pp_session"
TOKEN_COOKIE = "pp_token"
TOKEN_HEADER = "x-pointplan-token"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is ignored, not fatal
        return {}
    return {k: m.value for k, m in jar.items()}


def _cookie_header(name: str, value: str) -> tuple[bytes, bytes]:
    return b"set-cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000".encode("latin-1")


class Guard:
    """ASGI middleware: refuse what the editor never accepts before the application sees it.

    * a ``Host`` header not in ``allowed_hosts`` → 400 (no DNS rebinding onto 127.0.0.1);
    * without the token (when one is set) → 401; ``?token=`` once sets a cookie;
    * a body on POST that is not ``application/json`` → 415, larger than ``max_body`` → 413.

    It also writes the session cookie the application chose (``scope["pointplan"]["new_session"]``).

    Examples
    --------
    >>> g = Guard(None, token="t")
    >>> g.token, g.max_body
    ('t', 65536)
    """

    def __init__(
        self,
        app: Any,
        *,
        token: str | None = None,
        max_body: int = MAX_BODY_BYTES,
        allowed_hosts: tuple[str, ...] | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request; pass it on, or answer the refusal."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        extra: list[tuple[bytes, bytes]] = []
        problem = self._check_host(headers) or self._check_token(scope, headers, extra)
        if problem is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            problem, receive = await self._check_body(headers, receive)
        if problem is not None:
            status, message = problem
            await JSONResponse({"error": message, "status": status}, status_code=status)(scope, receive, send)
            return
        state: dict[str, str] = {}
        scope["pointplan"] = state

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                hs = list(message.get("headers", [])) + extra
                if "new_session" in state:
                    hs.append(_cookie_header(SESSION_COOKIE, state["new_session"]))
                hs += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                message["headers"] = hs
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    def _check_host(self, headers: dict[str, str]) -> tuple[int, str] | None:
        if self.allowed_hosts is None:
            return None
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.strip("[]") not in self.allowed_hosts:
            return 400, f"Host {host!r} is not served here: open the address the server printed."
        return None

    def _check_token(
        self, scope: Scope, headers: dict[str, str], extra: list[tuple[bytes, bytes]]
    ) -> tuple[int, str] | None:
        if not self.token:
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = headers.get(TOKEN_HEADER) or _cookies(headers).get(TOKEN_COOKIE)
        from_query = (query.get("token") or [None])[0]
        if given and secrets.compare_digest(given.encode(), self.token.encode()):
            return None
        if from_query and secrets.compare_digest(from_query.encode(), self.token.encode()):
            extra.append(_cookie_header(TOKEN_COOKIE, self.token))
            return None
        return 401, "This server needs its token: open the address with ?token=… that `pointplan serve` printed."

    async def _check_body(self, headers: dict[str, str], receive: Receive) -> tuple[tuple[int, str] | None, Receive]:
        too_big = 413, f"The request body is larger than {self.max_body // 1024} KB."
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return too_big, receive
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return (400, "The client went away."), receive
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > self.max_body:
                return too_big, receive
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if body and ctype != "application/json":
            return (415, "Send the request body as JSON (Content-Type: application/json)."), receive
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return None, replay
