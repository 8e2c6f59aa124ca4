"""The editor in a real headless Chromium (Playwright), served by uvicorn on 127.0.0.1.

On the tiny synthetic city: drag P1, check the headline figure and unit A's colour against
``pointplan.assess`` of the same move, add a kiosk by clicking the map, undo it, show a
name full of markup as text, download the points file and re-assess it.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import pointplan
from pointplan.assessment._demo import X0, Y0, tiny_city
from pointplan.serve import ServeConfig, colour_for, create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip

pytestmark = pytest.mark.browser


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        return "the editor's browser test needs Chromium: apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the editor's browser test needs the playwright package (pip install -e '.[dev]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    import uvicorn

    c = tiny_city()
    cfg = ServeConfig(c["units"], c["points"], c["demand"], c["engine"], state_dir=tmp_path_factory.mktemp("state"),
                      draws=0, details=False, assess_kwargs={"visits": c["visits"]},
                      allowed_hosts=("127.0.0.1", "localhost"))  # fmt: skip
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _lonlat(x_km: float, y_km: float = 1.0) -> tuple[float, float]:
    p = gpd.GeoSeries([shapely.Point(X0 + 1000 * x_km, Y0 + 1000 * y_km)], crs=32648).to_crs(4326).iloc[0]
    return float(p.x), float(p.y)


def _pixel(page: object, lon: float, lat: float) -> tuple[float, float]:
    xy = page.evaluate(  # type: ignore[attr-defined]
        """([lat, lon]) => { const p = ppEditor.map.latLngToContainerPoint([lat, lon]);
             const r = document.getElementById('map').getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""",
        [lat, lon],
    )
    return float(xy[0]), float(xy[1])


def _wait_version(page: object, v: int) -> None:
    page.wait_for_selector(f"body[data-version='{v}']", timeout=20_000)  # type: ignore[attr-defined]


def _headline(page: object, key: str) -> float:
    return float(page.get_attribute(f"#headline td[data-key='{key}']", "data-value"))  # type: ignore[attr-defined]


def _fill(page: object, code: str) -> str:
    return str(page.get_attribute(f"path[data-unit='{code}']", "fill"))  # type: ignore[attr-defined]


def _assess(points: gpd.GeoDataFrame) -> pointplan.Assessment:
    c = tiny_city()
    return pointplan.assess(points, c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=())


def test_drag_add_undo_download_in_chromium(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
            left: list[str] = []
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith(server) else (left.append(r.request.url), r.abort())
                ),
            )
            page.goto(server + "/")
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            _check_editor(page, tmp_path)
            assert not errors, errors
            assert not left, f"the page asked the internet for {left}"
        finally:
            browser.close()


def _check_editor(page: object, tmp_path: Path) -> None:
    assert _headline(page, "mean_minutes_to_nearest") == pytest.approx(9.375)
    assert _fill(page, "00001") == colour_for("mean_minutes", 2.5)
    # 1. drag P1 about 3 km east, into unit B
    box = page.locator(".pp-marker[data-point='P1']").bounding_box()  # type: ignore[attr-defined]
    tx, ty = _pixel(page, *_lonlat(4.0))
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    page.mouse.move(tx, ty, steps=12)  # type: ignore[attr-defined]
    page.mouse.up()  # type: ignore[attr-defined]
    _wait_version(page, 1)
    st = page.evaluate("ppEditor.state")  # type: ignore[attr-defined]
    p1 = next(q for q in st["points"] if q["id"] == "P1")
    moved = tiny_city()["points"].to_crs(4326)
    moved.loc["P1", "geometry"] = shapely.Point(p1["lon"], p1["lat"])
    moved["unit_code"] = None
    a = _assess(moved)
    assert p1["unit"] == "00002" and abs(p1["lon"] - _lonlat(4.0)[0]) < 0.003  # where the mouse let go
    assert _headline(page, "mean_minutes_to_nearest") == pytest.approx(a.summary["mean_minutes_to_nearest"], rel=1e-6)
    unit_a = float(a.units.loc["00001", "mean_minutes"])
    assert unit_a > 10  # unit A is now 2.5–3.5 km from its point
    assert _fill(page, "00001") == colour_for("mean_minutes", unit_a) != colour_for("mean_minutes", 2.5)
    assert page.get_attribute("path[data-unit='00001']", "data-changed") == "1"  # type: ignore[attr-defined]
    # 2. add a kiosk by clicking on the map, then undo it
    page.click("#add-toggle")  # type: ignore[attr-defined]
    page.mouse.click(*_pixel(page, *_lonlat(11.5)))  # type: ignore[attr-defined]
    _wait_version(page, 2)
    assert page.locator(".pp-marker.pp-kind-kiosk").count() == 1  # type: ignore[attr-defined]
    assert _headline(page, "population_within_standard_share") == pytest.approx(1.0)
    page.click("#undo")  # type: ignore[attr-defined]
    _wait_version(page, 3)
    assert page.locator(".pp-marker.pp-kind-kiosk").count() == 0  # type: ignore[attr-defined]
    assert _headline(page, "mean_minutes_to_nearest") == pytest.approx(a.summary["mean_minutes_to_nearest"], rel=1e-6)
    # 3. a name full of markup is shown as text, never run
    evil = '<img src=x onerror="window.pwned=1">Ki-ốt'
    page.evaluate("([lon, lat, n]) => ppEditor.add(lon, lat, n)", [*_lonlat(6.0), evil])  # type: ignore[attr-defined]
    _wait_version(page, 4)
    assert page.text_content("#sel-name") == evil  # type: ignore[attr-defined]
    assert page.evaluate("window.pwned === undefined && !document.querySelector('#panel img')")  # type: ignore[attr-defined]
    page.click("#undo")  # type: ignore[attr-defined]
    _wait_version(page, 5)
    # 4. the downloaded points file reproduces the page's figures
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#dl-points")  # type: ignore[attr-defined]
    path = tmp_path / "points.csv"
    dl.value.save_as(path)
    again = _assess(pointplan.read_points(path, units=tiny_city()["units"]))
    assert again.summary["mean_minutes_to_nearest"] == pytest.approx(
        _headline(page, "mean_minutes_to_nearest"), rel=1e-6
    )
    assert again.summary["population_within_standard_share"] == pytest.approx(
        _headline(page, "population_within_standard_share")
    )
