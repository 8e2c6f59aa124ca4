"""Headless Chromium for tests, driven over the DevTools protocol, with the network off.

One browser per test module; each :meth:`Chromium.open` loads a page in a fresh tab and
records what a person would want to know about it:

- ``errors``: uncaught JavaScript exceptions (``Runtime.exceptionThrown``);
- ``dialogs``: any ``alert``/``confirm``/``prompt`` (answered at once, so nothing hangs);
- ``blocked``: every request that tried to leave the machine (all are refused);
- ``console``: console and browser-log errors (e.g. a tile that could not load).

The network is off twice over: Chromium resolves no host name and talks only to a dead
proxy (``--host-resolver-rules``, ``--proxy-server=127.0.0.1:9``), and every request is
intercepted (``Fetch`` domain) and refused unless it is a ``file:``/``data:`` URL or listed
in ``serve`` (URL -> local file, to stand in for a CDN).

Needs the ``chromium`` executable (Debian package ``chromium``; or set
``POINTPLAN_CHROMIUM``) and the ``websocket-client`` package (a dependency of
jupyter_server); :func:`unavailable_reason` says what is missing so tests can skip.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

NETWORK_OFF_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)

_MIME = {".js": "application/javascript", ".css": "text/css", ".png": "image/png"}


def find_chromium() -> str | None:
    """Return the Chromium executable ($POINTPLAN_CHROMIUM first), or None."""
    env = os.environ.get("POINTPLAN_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def unavailable_reason() -> str | None:
    """Why browser tests cannot run here, or None if they can."""
    if find_chromium() is None:
        return (
            "headless browser tests need Chromium: apt-get install -y chromium "
            "(or set POINTPLAN_CHROMIUM to a Chrome/Chromium executable)"
        )
    try:
        import websocket  # noqa: F401
    except ImportError:
        return "headless browser tests need the websocket-client package"
    return None


class BrowserError(RuntimeError):
    """Chromium did not start or did not answer."""


@dataclass
class Page:
    """A loaded tab: what happened while loading, and ways to look at it."""

    browser: Chromium
    session: str
    target: str
    url: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    loaded: bool = False

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its (JSON) value."""
        res = self.browser.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        if "exceptionDetails" in res:
            raise BrowserError(f"evaluate({expression[:60]!r}) failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def count(self, selector: str) -> int:
        """Return the number of elements matching a CSS selector."""
        return int(self.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length"))

    def hover(self, x: float, y: float) -> None:
        """Move the mouse to viewport pixel (x, y), as a person would."""
        for dx in (-2.0, 0.0):  # two moves, so that "mouseover" fires on the target
            self.browser.call(
                "Input.dispatchMouseEvent",
                {"type": "mouseMoved", "x": x + dx, "y": y},
                session=self.session,
            )
        self.settle(0.2)

    def settle(self, seconds: float) -> None:
        """Keep processing events (errors, dialogs, requests) for a while."""
        self.browser.pump(seconds)

    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Write a PNG screenshot of the viewport."""
        res = self.browser.call("Page.captureScreenshot", {"format": "png"}, session=self.session)
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(res["data"]))
        return out

    def close(self) -> None:
        """Close the tab."""
        self.browser.call("Target.closeTarget", {"targetId": self.target})
        self.browser.pages.pop(self.session, None)


class Chromium:
    """A headless Chromium with the network off, used as a context manager."""

    def __init__(
        self,
        executable: str | None = None,
        *,
        window: tuple[int, int] = (1280, 900),
        timeout_s: float = 30.0,
    ) -> None:
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError(unavailable_reason() or "no chromium")
        self.window = window
        self.timeout_s = timeout_s
        self.pages: dict[str, Page] = {}
        self._serve: dict[str, Path] = {}
        self._next_id = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # -------------------------------------------------------------- start and stop
    def __enter__(self) -> Chromium:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Launch Chromium and connect to it."""
        import websocket

        self._tmp = tempfile.TemporaryDirectory(prefix="pointplan-chromium-")
        profile = Path(self._tmp.name) / "profile"
        args = [
            self.executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            f"--window-size={self.window[0]},{self.window[1]}",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            *NETWORK_OFF_FLAGS,
            "about:blank",
        ]
        log = (Path(self._tmp.name) / "chromium.log").open("wb")
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout_s
        while True:
            if port_file.is_file():
                lines = port_file.read_text().split()
                if len(lines) >= 2:
                    break
            if self._proc.poll() is not None or time.monotonic() > deadline:
                text = (Path(self._tmp.name) / "chromium.log").read_text(errors="replace")
                self.stop()
                raise BrowserError(f"Chromium did not start:\n{text[-2000:]}")
            time.sleep(0.05)
        url = f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        self._ws = websocket.create_connection(
            url, timeout=self.timeout_s, suppress_origin=True, enable_multithread=False
        )

    def stop(self) -> None:
        """Close the browser (politely first) and remove its profile."""
        if self._ws is not None:
            with contextlib.suppress(Exception):  # the browser may already be gone
                self._send("Browser.close", {})
            with contextlib.suppress(Exception):
                self._ws.close()
            self._ws = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=5)
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ------------------------------------------------------------------ protocol
    def _send(self, method: str, params: dict[str, Any], session: str | None = None) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self._ws.send(json.dumps(msg))
        return self._next_id

    def _receive(self, timeout_s: float) -> dict[str, Any] | None:
        import websocket

        self._ws.settimeout(max(timeout_s, 0.01))
        try:
            raw = self._ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        msg = json.loads(raw)
        if "method" in msg:
            self._on_event(msg)
        return msg

    def call(self, method: str, params: dict[str, Any], *, session: str | None = None) -> Any:
        """Send a command and wait for its result (handling events meanwhile)."""
        msg_id = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            msg = self._receive(deadline - time.monotonic())
            if msg is not None and msg.get("id") == msg_id:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error']}")
                return msg.get("result", {})
        raise BrowserError(f"{method}: no answer within {self.timeout_s} s")

    def pump(self, seconds: float) -> None:
        """Handle events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._receive(left)

    def _on_event(self, msg: dict[str, Any]) -> None:
        page = self.pages.get(msg.get("sessionId", ""))
        if page is None:
            return
        method, params = msg["method"], msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            det = params.get("exceptionDetails", {})
            exc = det.get("exception", {}) or {}
            page.errors.append(
                f"{exc.get('description') or det.get('text')} ({det.get('url', '')}:{det.get('lineNumber')})"
            )
        elif method == "Page.javascriptDialogOpening":
            page.dialogs.append(f"{params.get('type')}: {params.get('message')}")
            self._send("Page.handleJavaScriptDialog", {"accept": True}, page.session)
        elif method == "Fetch.requestPaused":
            self._on_request(page, params)
        elif method == "Page.loadEventFired":
            page.loaded = True
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args", [])
            page.console.append(" ".join(str(a.get("value", a.get("description"))) for a in args))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            page.console.append(f"{entry.get('text')} {entry.get('url', '')}".strip())

    def _on_request(self, page: Page, params: dict[str, Any]) -> None:
        url = params["request"]["url"]
        rid = params["requestId"]
        if url.startswith(("file:", "data:", "about:")):
            self._send("Fetch.continueRequest", {"requestId": rid}, page.session)
        elif (path := self._served_file(url)) is not None:
            page.served.append(url)
            headers = [
                {"name": "Content-Type", "value": _MIME.get(path.suffix, "text/plain")},
                {"name": "Access-Control-Allow-Origin", "value": "*"},
            ]
            body = base64.b64encode(path.read_bytes()).decode("ascii")
            self._send(
                "Fetch.fulfillRequest",
                {"requestId": rid, "responseCode": 200, "responseHeaders": headers, "body": body},
                page.session,
            )
        else:
            page.blocked.append(url)
            self._send(
                "Fetch.failRequest",
                {"requestId": rid, "errorReason": "InternetDisconnected"},
                page.session,
            )

    def _served_file(self, url: str) -> Path | None:
        """The local file answering ``url``: an exact key, or a key ending in ``*`` (a prefix)."""
        if url in self._serve:
            return self._serve[url]
        for key, path in self._serve.items():
            if key.endswith("*") and url.startswith(key[:-1]):
                return path
        return None

    # --------------------------------------------------------------------- pages
    def open(
        self,
        path: str | os.PathLike[str],
        *,
        serve: dict[str, Path] | None = None,
        settle_s: float = 0.5,
    ) -> Page:
        """Load a local HTML file in a new tab and wait for it to settle.

        ``serve`` maps URLs (e.g. a CDN's leaflet.js) to local files answered in their
        place (a URL ending in ``*`` stands for every URL it begins, e.g. map tiles); every
        other non-local request is refused and listed in ``page.blocked``.
        """
        self._serve = {k: Path(v) for k, v in (serve or {}).items()}
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        url = Path(path).resolve().as_uri()
        page = Page(self, session, target, url)
        self.pages[session] = page
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(method, {}, session=session)
        self.call(
            "Fetch.enable",
            {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]},
            session=session,
        )
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.window[0],
                "height": self.window[1],
                "deviceScaleFactor": 1,
                "mobile": False,
            },
            session=session,
        )
        page.loaded = False
        self.call("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + self.timeout_s
        while not page.loaded and time.monotonic() < deadline:
            self._receive(deadline - time.monotonic())
        if not page.loaded:
            raise BrowserError(f"{url} did not finish loading within {self.timeout_s} s")
        page.settle(settle_s)
        return page
