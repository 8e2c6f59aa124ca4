"""A fake Overpass API on 127.0.0.1 for the road download tests (no internet).

It answers osmnx's network queries (``POST /api/interpreter`` with ``data=<query>``) from
the shipped inner-city Overpass answer (``data/osm/hanoi_inner_drive_overpass_2025.json.gz``),
clipped to the query's ``poly:"lat lon ..."`` (its bounding box) or ``(s,w,n,e)`` bbox:
the ways with a node inside, with all their nodes, as Overpass's ``(way(...);>;);out;``
gives them. ``GET /api/status`` answers as Overpass does (slots available), so osmnx's
polite pause works.

Behaviours, consumed one per interpreter request from :attr:`FakeOverpass.plan` (then
``"ok"``): ``"ok"``, ``"429"``, ``"504"``, ``"500"``, ``"timeout"`` (sleeps
:attr:`FakeOverpass.slow_s` before answering), ``"truncated"`` (the first half of the
JSON, status 200), ``"remark"`` (Overpass's runtime-error remark: a partial answer).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data" / "osm" / "hanoi_inner_drive_overpass_2025.json.gz"

_STATUS = (
    "Connected as: 1234\nCurrent time: 2026-01-01T00:00:00Z\nAnnounced endpoint: none\n"
    "Rate limit: 2\n2 slots available now.\nCurrently running queries (pid, space limit, time limit, start time):\n"
)


class OsmData:
    """The shipped answer as arrays, clipped by bbox quickly (numpy)."""

    def __init__(self, path: Path = DATA) -> None:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            elements = json.load(f)["elements"]
        self.nodes = [e for e in elements if e["type"] == "node"]
        self.ways = [e for e in elements if e["type"] == "way"]
        self.node_ids = np.array([n["id"] for n in self.nodes], dtype=np.int64)
        order = np.argsort(self.node_ids)
        self.node_ids = self.node_ids[order]
        self.nodes = [self.nodes[i] for i in order]
        self.lon = np.array([n["lon"] for n in self.nodes])
        self.lat = np.array([n["lat"] for n in self.nodes])
        refs = [w["nodes"] for w in self.ways]
        self.offsets = np.cumsum([0] + [len(r) for r in refs])
        self.refs_pos = np.searchsorted(self.node_ids, np.concatenate(refs))

    def clip(self, bbox: tuple[float, float, float, float]) -> dict[str, Any]:
        """Overpass's answer for the ways with a node inside ``bbox`` (w, s, e, n), and all their nodes."""
        w, s, e, n = bbox
        inside = (self.lon >= w) & (self.lon <= e) & (self.lat >= s) & (self.lat <= n)
        hit = np.add.reduceat(inside[self.refs_pos].astype(np.int64), self.offsets[:-1]) > 0
        ways = [self.ways[i] for i in np.flatnonzero(hit)]
        pos = (
            np.unique(
                np.concatenate([self.refs_pos[self.offsets[i] : self.offsets[i + 1]] for i in np.flatnonzero(hit)])
            )
            if ways
            else []
        )
        nodes = [self.nodes[i] for i in pos]
        return {
            "version": 0.6,
            "generator": "fake Overpass (pointplan tests)",
            "osm3s": {"timestamp_osm_base": "2025-05-01T00:00:00Z", "copyright": "ODbL"},
            "elements": nodes + ways,
        }


_POLY = re.compile(r"poly:['\"]([^'\"]+)['\"]")
_BBOX = re.compile(r"\((-?[\d.]+),(-?[\d.]+),(-?[\d.]+),(-?[\d.]+)\)")


def query_bbox(query: str) -> tuple[float, float, float, float]:
    """(w, s, e, n) of an Overpass query's polygon or bbox filter."""
    m = _POLY.search(query)
    if m:
        nums = [float(v) for v in m.group(1).split()]
        lats, lons = nums[0::2], nums[1::2]
        return min(lons), min(lats), max(lons), max(lats)
    m = _BBOX.search(query)
    if m:
        s, w, n, e = (float(v) for v in m.groups())
        return w, s, e, n
    msg = f"no area in the query: {query[:200]}"
    raise ValueError(msg)


class FakeOverpass:
    """The server; use as a context manager. ``url`` is what osmnx's ``overpass_url`` takes."""

    _data: OsmData | None = None

    def __init__(self, plan: list[str] | None = None, slow_s: float = 2.0) -> None:
        self.plan = list(plan or [])
        self.slow_s = slow_s
        self.queries: list[str] = []  # every interpreter query received
        self.answered: list[tuple[float, float, float, float]] = []  # bboxes answered "ok"
        self.user_agents: list[str] = []
        self.lock = threading.Lock()
        if FakeOverpass._data is None:
            FakeOverpass._data = OsmData()
        self.data = FakeOverpass._data
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOverpass:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next_behaviour(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/status"):
                    self._send(200, _STATUS.encode(), "text/plain")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(size).decode("utf-8"))
                query = form.get("data", [""])[0]
                with fake.lock:
                    fake.queries.append(query)
                    fake.user_agents.append(self.headers.get("User-Agent", ""))
                what = fake.next_behaviour()
                if what in {"429", "504", "500"}:
                    self._send(int(what), b'{"error": "fake"}')
                    return
                if what == "timeout":
                    time.sleep(fake.slow_s)
                bbox = query_bbox(query)
                answer = fake.data.clip(bbox)
                if what == "remark":
                    answer["remark"] = 'runtime error: Query timed out in "query" at line 1 after 25 seconds.'
                body = json.dumps(answer).encode("utf-8")
                if what == "truncated":
                    body = body[: len(body) // 2]
                elif what == "ok":
                    with fake.lock:
                        fake.answered.append(bbox)
                self._send(200, body)

        return Handler
