"""The editor under load: cheap session copies, edits served in order, the details child's life.

Tiny city (``assessment.demo``): units A (x 0–2 km) and B (2–12 km), demand d0..d3 at x =
0.5, 1.5, 4, 11.5 km (100, 200, 60, 40 people), one point P1 at x = 1 km, 5 minutes a km.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import pointplan
from pointplan import _cow
from pointplan.assessment import Scenario
from pointplan.assessment._demo import tiny_city
from pointplan.serve import ServeConfig
from pointplan.serve.sessions import FifoLock, SessionStore
from test_serve_api import lonlat  # tests/test_serve_api.py


def _store(tmp_path: Path) -> SessionStore:
    c = tiny_city()
    cfg = ServeConfig(c["units"], c["points"], c["demand"], c["engine"], state_dir=tmp_path, draws=0,
                      details=False, assess_kwargs={"visits": c["visits"]})  # fmt: skip
    return SessionStore(cfg)


def test_fifo_lock_is_granted_in_the_order_asked() -> None:
    lock, order = FifoLock(), []

    def take(k: int) -> None:
        with lock:
            order.append(k)

    lock.acquire()
    threads = []
    for k in range(6):
        t = threading.Thread(target=take, args=(k,))
        t.start()
        deadline = time.monotonic() + 10
        while len(lock._waiting) < k + 1 and time.monotonic() < deadline:  # thread k is queued
            time.sleep(0.001)
        threads.append(t)
    assert len(lock._waiting) == 6
    lock.release()
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2, 3, 4, 5]
    assert not lock.locked()


def test_shared_arrays_copy_on_write_keeps_the_original_and_the_copies_apart() -> None:
    c = tiny_city()
    base = Scenario.from_inputs(c["points"], c["units"], c["demand"], engine=c["engine"], mode="bike",
                                visits=c["visits"])  # fmt: skip
    before = dict(base.summary)
    shared = _cow.SharedArrays(base, min_bytes=0)
    assert len(shared) > 0
    a = _cow.cow_deepcopy(base, shared, {id(c["engine"]): c["engine"]})
    b = _cow.cow_deepcopy(base, shared, {id(c["engine"]): c["engine"]})
    lon, lat = lonlat(8.0)
    a.move("P1", lon, lat)
    b.add(*lonlat(11.5), kind="kiosk", counters=1)
    assert base.summary == before  # the original is untouched
    fresh_a = pointplan.assess(a.points, c["units"], c["demand"], engine=c["engine"], mode="bike", visits=c["visits"])
    fresh_b = pointplan.assess(b.points, c["units"], c["demand"], engine=c["engine"], mode="bike", visits=c["visits"])
    # P1 at 8 km: d0..d3 are 7.5, 6.5, 4, 3.5 km away → 37.5, 32.5, 20, 17.5 min
    assert a.summary["mean_minutes_to_nearest"] == pytest.approx((100 * 37.5 + 200 * 32.5 + 60 * 20 + 40 * 17.5) / 400)
    for s, fresh in ((a, fresh_a), (b, fresh_b)):
        assert s.summary["mean_minutes_to_nearest"] == pytest.approx(fresh.summary["mean_minutes_to_nearest"])
        assert s.summary["population_within_standard"] == pytest.approx(fresh.summary["population_within_standard"])


def test_shared_original_refuses_writes() -> None:
    class Box:
        pass

    box = Box()
    box.big = np.zeros((1000, 200), order="F")
    shared = _cow.SharedArrays(box, min_bytes=1)
    with pytest.raises(ValueError, match="read-only"):
        box.big[0, 0] = 1.0
    copy = _cow.cow_deepcopy(box, shared)
    copy.big[:, 3] = 7.0
    assert copy.big.flags.f_contiguous and float(copy.big.sum()) == 7000.0 and float(box.big.sum()) == 0.0


def test_sessions_share_the_kept_times_until_they_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cow, "MIN_BYTES", 0)  # the tiny city's arrays are small: share them all
    store = _store(tmp_path)
    assert len(store._shared) > 0
    s1, s2 = store.create(), store.create()
    store.change(s1, lambda sc: sc.move("P1", *lonlat(8.0)))
    st1, st2 = store.state(s1), store.state(s2)
    assert st1["headline"]["mean_minutes_to_nearest"] != st2["headline"]["mean_minutes_to_nearest"]
    assert st2["headline"]["mean_minutes_to_nearest"] == pytest.approx(store.base.summary["mean_minutes_to_nearest"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a killed parent is noticed through getppid")
def test_details_child_ends_when_the_server_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import multiprocessing, os, sys
        if __name__ == "__main__":
            from pointplan.assessment.demo import tiny_city
            from pointplan.serve.details import DetailsInputs, DetailsRunner
            c = tiny_city()
            r = DetailsRunner(DetailsInputs(c["units"], c["demand"], c["engine"], {"visits": c["visits"]}, draws=0))
            assert r.start()
            r.compute(c["points"], "bike")
            print(multiprocessing.active_children()[0].pid, flush=True)
            os.kill(os.getpid(), 9)  # no chance to stop the pool
        """
    )
    path = tmp_path / "server.py"
    path.write_text(script, encoding="utf-8")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":  # ended, waiting to be reaped
            break
        time.sleep(0.2)
    else:
        os.kill(child, 9)
        pytest.fail("the details child outlived the killed server")
