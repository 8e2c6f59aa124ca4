"""The editor's API (``pointplan serve``) on the tiny synthetic city and a few real units.

Tiny city (``assessment.demo``): units A (x 0–2 km) and B (2–12 km), demand d0..d3 at x =
0.5, 1.5, 4, 11.5 km (100, 200, 60, 40 people), one point P1 at x = 1 km, 5 minutes a km.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

import pointplan
from pointplan.assessment._demo import X0, Y0, tiny_city
from pointplan.serve import ServeConfig, colour_for, create_app
from pointplan.serve.guard import SESSION_COOKIE

BASE = "http://127.0.0.1"


def lonlat(x_km: float, y_km: float = 1.0) -> tuple[float, float]:
    """lon/lat of a tiny-city position (km east/north of its corner)."""
    p = gpd.GeoSeries([shapely.Point(X0 + 1000 * x_km, Y0 + 1000 * y_km)], crs=32648).to_crs(4326).iloc[0]
    return float(p.x), float(p.y)


def tiny_config(tmp_path: Path, **kw: object) -> ServeConfig:
    c = tiny_city()
    kw.setdefault("draws", 0)
    kw.setdefault("details", False)
    return ServeConfig(
        c["units"],
        c["points"],
        c["demand"],
        c["engine"],
        state_dir=tmp_path,
        assess_kwargs={"visits": c["visits"]},
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    with TestClient(create_app(tiny_config(tmp_path)), base_url=BASE) as c:
        yield c


def state(client: TestClient) -> dict:
    r = client.get("/api/state")
    assert r.status_code == 200
    return r.json()


def test_page_meta_units_openapi_and_leaflet_from_the_package(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/leaflet/leaflet.js" in page.text and "http" not in page.text.split("<body>")[1]
    assert client.get("/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/editor.js").status_code == 200
    meta_vi, meta_en = client.get("/api/meta").json(), client.get("/api/meta?lang=en").json()
    assert meta_vi["metrics"][0]["label"].startswith("Thời gian") and meta_en["metrics"][0]["label"].startswith("Mean")
    assert {m["key"] for m in meta_vi["metrics"]} == {
        "mean_minutes", "p90_minutes", "coverage_share", "walk_share", "visits_per_counter", "time_to_service_minutes"
    }  # fmt: skip
    units = client.get("/api/units").json()
    assert [f["id"] for f in units["features"]] == ["00001", "00002"]
    assert units["features"][1]["properties"]["name"] == "Xã B"
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("move", "add", "remove", "counters", "mode", "undo", "redo", "propose", "state", "units", "meta"):
        assert f"/api/{route}" in paths
    assert "/api/download/{name}" in paths
    assert client.get("/docs").status_code == 404  # its pages would load scripts from a CDN


def test_initial_state_is_the_hand_computed_assessment(client: TestClient) -> None:
    s = state(client)
    # mean = (100·2.5 + 200·2.5 + 60·15 + 40·52.5) / 400 = 9.375 min; d3 beyond 30 min and 5 km
    assert s["headline"]["mean_minutes_to_nearest"] == pytest.approx(9.375)
    assert s["headline"]["population_within_standard_share"] == pytest.approx(0.9)
    assert s["units"]["00002"]["mean_minutes"] == pytest.approx(30.0)
    assert [p["id"] for p in s["points"]] == ["P1"] and s["points"][0]["counters"] == 2
    # P1 takes all 40 visits a day; capacity 2 counters x 32 visits
    assert s["points"][0]["visits"] == pytest.approx(40.0) and s["points"][0]["utilisation"] == pytest.approx(0.625)
    assert not s["can_undo"] and s["version"] == 0


def test_move_answers_the_moved_figures_and_is_saved_and_restored(tmp_path: Path) -> None:
    app = create_app(tiny_config(tmp_path))
    with TestClient(app, base_url=BASE) as c:
        lon, lat = lonlat(4.0)  # onto d2: d0 3.5 km, d1 2.5 km, d2 0, d3 7.5 km
        r = c.post("/api/move", json={"point_id": "P1", "lon": lon, "lat": lat})
        assert r.status_code == 200, r.text
        body = r.json()
        # (100·17.5 + 200·12.5 + 60·0 + 40·37.5) / 400 = 14.375; unit A 4250/300, unit B 1500/100
        assert body["state"]["headline"]["mean_minutes_to_nearest"] == pytest.approx(14.375)
        assert body["state"]["units"]["00001"]["mean_minutes"] == pytest.approx(4250 / 300)
        assert body["state"]["units"]["00002"]["mean_minutes"] == pytest.approx(15.0)
        assert set(body["changed_units"]) == {"00001", "00002"}
        assert body["state"]["points"][0]["unit"] == "00002" and body["state"]["can_undo"]
        sid = c.cookies[SESSION_COOKIE]
    saved = json.loads((tmp_path / "sessions" / sid / "scenario.json").read_text(encoding="utf-8"))
    assert saved["version"] == 1
    # a restarted server (a new app on the same folder) gives the session back
    with TestClient(create_app(tiny_config(tmp_path)), base_url=BASE, cookies={SESSION_COOKIE: sid}) as c2:
        s = state(c2)
        assert s["headline"]["mean_minutes_to_nearest"] == pytest.approx(14.375) and s["version"] == 1
        undo = c2.post("/api/undo")
        if s["can_undo"]:  # a scenario class that saves its undo stack
            assert undo.json()["state"]["headline"]["mean_minutes_to_nearest"] == pytest.approx(9.375)
        else:  # the restored state starts a new undo stack
            assert undo.status_code == 409


def test_add_counters_remove_mode_undo_redo(client: TestClient) -> None:
    lon, lat = lonlat(11.5)  # a kiosk on d3: everyone within the standard, mean (250+500+900+0)/400
    r = client.post("/api/add", json={"lon": lon, "lat": lat, "kind": "kiosk", "counters": 2, "name": "Ki-ốt <b>"})
    assert r.status_code == 200, r.text
    new_id = r.json()["point_id"]
    s = r.json()["state"]
    assert s["headline"]["population_within_standard_share"] == pytest.approx(1.0)
    assert s["headline"]["mean_minutes_to_nearest"] == pytest.approx(4.125)
    kiosk = next(p for p in s["points"] if p["id"] == new_id)
    assert (kiosk["kind"], kiosk["name"], kiosk["counters"], kiosk["unit"]) == ("kiosk", "Ki-ốt <b>", 2, "00002")
    # unit B's 10 visits split by population: d2 (6, nearer P1) and d3 (4, at the kiosk)
    assert kiosk["visits"] == pytest.approx(4.0)
    assert next(p for p in s["points"] if p["id"] == "P1")["visits"] == pytest.approx(36.0)
    r = client.post("/api/counters", json={"point_id": "P1", "counters": 5})
    assert next(p for p in r.json()["state"]["points"] if p["id"] == "P1")["counters"] == 5
    # P1's load: 30 visits a day from unit A over 5 counters (the kiosk takes unit B's 10)
    assert r.json()["state"]["units"]["00001"]["visits_per_counter"] == pytest.approx(6.0)
    r = client.post("/api/remove", json={"point_id": new_id})
    assert [p["id"] for p in r.json()["state"]["points"]] == ["P1"]
    assert r.json()["state"]["headline"]["mean_minutes_to_nearest"] == pytest.approx(9.375)
    r = client.post("/api/mode", json={"mode": "walk"})
    assert r.status_code == 200 and r.json()["state"]["mode"] == "walk"
    walk = r.json()["state"]["headline"]["mean_minutes_to_nearest"]
    assert walk > 9.375  # walking is slower than the 12 km/h bicycle
    u = client.post("/api/undo").json()["state"]
    assert u["mode"] == "bike" and u["headline"]["mean_minutes_to_nearest"] == pytest.approx(9.375)
    assert u["can_redo"]
    assert client.post("/api/redo").json()["state"]["mode"] == "walk"


def test_bad_requests_get_a_4xx_message_and_leave_the_scenario_unchanged(client: TestClient) -> None:
    before = state(client)
    lon, lat = lonlat(4.0)
    as_json, as_text = {"Content-Type": "application/json"}, {"Content-Type": "text/plain"}
    cases = [
        (client.post("/api/move", content=b"{not json", headers=as_json), 422, "Malformed"),
        (client.post("/api/move", json={"point_id": "NOPE", "lon": lon, "lat": lat}), 404, "NOPE"),
        (client.post("/api/move", json={"point_id": "P1", "lon": 2.35, "lat": 48.85}), 400, "outside"),
        (client.post("/api/add", json={"lon": 2.35, "lat": 48.85}), 400, "outside"),
        (client.post("/api/move", json={"point_id": "P1", "lon": -200, "lat": lat}), 422, "lon"),
        (client.post("/api/counters", json={"point_id": "P1", "counters": -3}), 422, "counters"),
        (client.post("/api/counters", json={"point_id": "P1", "counters": "x"}), 422, "counters"),
        (client.post("/api/add", json={"lon": lon, "lat": lat, "kind": "castle"}), 422, "kind"),
        (client.post("/api/mode", json={"mode": "teleport"}), 422, "mode"),
        (client.post("/api/move", json={"point_id": "P1", "lon": lon, "lat": lat, "x": 1}), 422, "x"),
        (client.post("/api/remove", content=b'{"point_id": "P1"}', headers=as_text), 415, "JSON"),
        (client.post("/api/add", content=b"[" + b"1," * 40_000 + b"1]", headers=as_json),
         413, "64 KB"),
        (client.post("/api/undo"), 409, "undo"),
        (client.post("/api/propose", json={"n": 0}), 422, "n"),
        (client.get("/api/download/..%2Fscenario.json"), 404, ""),
        (client.get("/api/download/scenario.json"), 404, "scenario.json"),
    ]  # fmt: skip
    for r, status, word in cases:
        assert r.status_code == status, (r.status_code, r.text)
        assert "application/json" in r.headers["content-type"]
        assert word.lower() in r.json()["error"].lower()
    after = state(client)
    assert after["version"] == before["version"] and after["headline"] == before["headline"]
    assert after["points"] == before["points"]
    assert client.post("/api/counters", json={"point_id": "P1", "counters": 3}).status_code == 200  # still serving


def test_sessions_are_separate(tmp_path: Path) -> None:
    app = create_app(tiny_config(tmp_path))
    with TestClient(app, base_url=BASE) as a, TestClient(app, base_url=BASE) as b:
        a.post("/api/counters", json={"point_id": "P1", "counters": 7})
        assert state(a)["points"][0]["counters"] == 7
        assert state(b)["points"][0]["counters"] == 2
        assert a.cookies[SESSION_COOKIE] != b.cookies[SESSION_COOKIE]
    with TestClient(app, base_url=BASE, cookies={SESSION_COOKIE: "../../etc"}) as c:
        r = c.get("/api/state")  # a made-up id starts a new session and reads nothing
        assert r.json()["points"][0]["counters"] == 2
        assert r.headers["set-cookie"].startswith(SESSION_COOKIE + "=") and "etc" not in r.headers["set-cookie"]


def test_token_and_host_are_checked_on_every_request(tmp_path: Path) -> None:
    app = create_app(tiny_config(tmp_path, token="s3cret", allowed_hosts=("127.0.0.1", "localhost")))
    with TestClient(app, base_url=BASE) as c:
        for path in ("/", "/api/state", "/static/editor.js", "/openapi.json"):
            assert c.get(path).status_code == 401
        assert c.get("/api/state?token=wrong").status_code == 401
        assert c.post("/api/undo", headers={"X-Pointplan-Token": "s3cret"}).status_code == 409  # checked, then refused
        assert c.get("/?token=s3cret").status_code == 200  # once in the address, then a cookie
        assert c.get("/api/state").status_code == 200
    with TestClient(app, base_url="http://evil.example") as c:
        r = c.get("/api/state", headers={"X-Pointplan-Token": "s3cret"})
        assert r.status_code == 400 and "Host" in r.json()["error"]


def test_downloads_reproduce_the_figures(client: TestClient, tmp_path: Path) -> None:
    lon, lat = lonlat(4.0)
    s = client.post("/api/move", json={"point_id": "P1", "lon": lon, "lat": lat}).json()["state"]
    r = client.get("/api/download/points.csv")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    path = tmp_path / "points.csv"
    path.write_bytes(r.content)
    c = tiny_city()
    pts = pointplan.read_points(path, units=c["units"])
    a = pointplan.assess(pts, c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=())
    assert a.summary["mean_minutes_to_nearest"] == pytest.approx(s["headline"]["mean_minutes_to_nearest"])
    assert a.units["mean_minutes"].tolist() == pytest.approx(
        [s["units"][k]["mean_minutes"] for k in ("00001", "00002")]
    )
    html = client.get("/api/download/report.html?lang=en")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html") and "<html" in html.text
    xlsx = client.get("/api/download/tables.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_propose_ranks_sites_with_their_gain(client: TestClient) -> None:
    r = client.post("/api/propose", json={"n": 2})
    assert r.status_code == 200, r.text
    props = r.json()["proposals"]
    assert [p["rank"] for p in props] == [1, 2]
    # brute force: each candidate's saving alone = sum of people x max(0, minutes now - 5 min/km to it)
    c = tiny_city()
    dem = c["demand"]
    now = np.array([2.5, 2.5, 15.0, 52.5])
    cands = client.app.app.state.store.sites.candidates.to_crs(32648)
    dist_km = (
        np.hypot(
            dem.geometry.x.to_numpy()[:, None] - cands.geometry.x.to_numpy()[None, :],
            dem.geometry.y.to_numpy()[:, None] - cands.geometry.y.to_numpy()[None, :],
        )
        / 1000
    )
    saving = (dem["population"].to_numpy()[:, None] * np.maximum(0, now[:, None] - 5 * dist_km)).sum(axis=0)
    best = int(np.argmax(saving))
    assert props[0]["candidate_id"] == cands["candidate_id"].iloc[best]
    assert props[0]["gain_person_minutes_saved"] == pytest.approx(saving[best], rel=1e-6)
    assert props[1]["gain_person_minutes_saved"] <= props[0]["gain_person_minutes_saved"]
    assert state(client)["version"] == 0  # proposing changes nothing


def test_details_walking_share_and_intervals(tmp_path: Path) -> None:
    app = create_app(tiny_config(tmp_path, details=True, draws=5))
    with TestClient(app, base_url=BASE) as c:
        s = state(c)
        store = app.app.state.store
        session = store.get(c.cookies[SESSION_COOKIE])
        store.compute_details(session)
        s = state(c)
        # walking at 5 km/h (circuity 1): unit A's demand is 0.5 km from P1 (6 min), unit B's 3 and 10.5 km
        assert s["units"]["00001"]["walk_share"] == pytest.approx(1.0)
        assert s["units"]["00002"]["walk_share"] == pytest.approx(0.0)
        assert s["headline"]["walk_within_minutes_share"] == pytest.approx(0.75)
        lo, mid, hi = s["intervals"]["population_within_standard_share"]
        assert lo <= mid <= hi and not s["details_pending"]


def test_details_from_the_child_process_equal_those_computed_in_the_server(tmp_path: Path) -> None:
    from pointplan.serve.details import DetailsInputs, DetailsRunner

    c = tiny_city()
    inputs = DetailsInputs(c["units"], c["demand"], c["engine"], {"visits": c["visits"]}, details=True, draws=5)
    moved = c["points"].copy()
    moved.geometry = moved.geometry.translate(0.01, 0.0)  # about 1 km east: other figures than the start's
    child = DetailsRunner(inputs)
    try:
        far = child.compute(moved, "bike")
        assert child._pool is not None  # answered by the child process
    finally:
        child.stop()
    here = DetailsRunner(inputs, in_process=False).compute(moved, "bike")
    assert far == here
    assert far[0]["intervals"]["population_within_standard_share"][0] is not None


def test_details_of_an_engine_that_cannot_be_sent_are_computed_in_the_server(tmp_path: Path) -> None:
    import threading

    from pointplan.serve.details import DetailsInputs, DetailsRunner

    c = tiny_city()
    engine = c["engine"]
    engine.unpicklable = threading.Lock()  # a user's engine holding a lock: it cannot go to a child
    runner = DetailsRunner(DetailsInputs(c["units"], c["demand"], engine, {"visits": c["visits"]}, draws=0))
    det, loads = runner.compute(c["points"], "bike")
    assert runner._pool is None and not runner._use_child
    assert det["units"]["walk_share"]["00001"] == pytest.approx(1.0) and "P1" in loads


def test_colour_for_matches_the_classes() -> None:
    assert colour_for("mean_minutes", 2.5) == "#4575b4"  # best class
    assert colour_for("mean_minutes", 4250 / 300) == "#fc8d59"  # 10–15 min
    assert colour_for("mean_minutes", 30.0) == "#d73027"  # ≥ 15 min
    assert colour_for("coverage_share", 0.6) == "#fc8d59"  # high is better: 0.5–0.8 is the worst but one
    assert colour_for("coverage_share", 0.4) == "#d73027"
    assert colour_for("walk_share", float("nan")) == "#bdbdbd"


@pytest.mark.slow
def test_real_units_move_equals_a_fresh_assessment(tmp_path: Path) -> None:
    units = pointplan.load_units()
    codes = units.index[:3]
    few = units.loc[codes]
    pts = pointplan.load_points(units=units)
    pts = pts[pts["unit_code"].isin(codes)]
    demand = pointplan.build_demand(few)
    engine = pointplan.make_engine(None, mode="motorbike")
    cfg = ServeConfig(few, pts, demand, engine, state_dir=tmp_path, draws=0, details=False)
    with TestClient(create_app(cfg), base_url=BASE) as c:
        s0 = state(c)
        assert len(s0["units"]) == 3
        pid = s0["points"][0]["id"]
        target = few.to_crs(4326).geometry.iloc[1].representative_point()
        r = c.post("/api/move", json={"point_id": pid, "lon": target.x, "lat": target.y})
        assert r.status_code == 200, r.text
        s = r.json()["state"]
    moved = pts.to_crs(4326).copy()
    moved.loc[moved["point_id"] == pid, "geometry"] = target
    moved["unit_code"] = None
    a = pointplan.assess(moved, few, demand, engine=engine, mode="motorbike", modes=())
    assert s["headline"]["mean_minutes_to_nearest"] == pytest.approx(a.summary["mean_minutes_to_nearest"])
    for code in codes:
        assert s["units"][code]["mean_minutes"] == pytest.approx(float(a.units.loc[code, "mean_minutes"]))


@pytest.mark.slow
def test_a_scenario_saved_in_the_editor_gives_the_same_figures_through_run(tmp_path: Path) -> None:
    """Issue 26: `pointplan serve` and `pointplan run --points` rest on the same inputs.

    The editor is configured by the command line (its load, demand and engine steps are the
    run's); a point is moved 300 m, the session's points.csv is run, and the figures agree.
    """
    from pointplan import cli
    from pointplan.cli.serve import _config

    args = cli.build_parser().parse_args(["serve", "--state-dir", str(tmp_path / "s"), "--draws", "0", "--no-details"])
    cfg = _config(args)
    with TestClient(create_app(cfg), base_url=BASE) as c:
        dd = cfg.points.to_crs(4326).geometry["DP00235"]
        r = c.post("/api/move", json={"point_id": "DP00235", "lon": dd.x + 0.0029, "lat": dd.y})
        assert r.status_code == 200, r.text
        editor = r.json()["state"]
        csv = tmp_path / "points.csv"
        csv.write_bytes(c.get("/api/download/points.csv").content)
    out = tmp_path / "run"
    argv = ["-q", "run", "--out", str(out), "--points", str(csv), "--no-uncertainty", "--add", "0"]
    assert cli.main([*argv, "--formats", "html"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["points"] == editor["headline"]["points"] == 131
    assert s["mean_minutes_to_nearest"] == pytest.approx(editor["headline"]["mean_minutes_to_nearest"], rel=1e-9)
    units = pd.read_csv(out / "units.csv", encoding="utf-8-sig", dtype={"code": str})
    dong_da = units.set_index("code").loc["00235", "mean_minutes"]
    assert dong_da == pytest.approx(editor["units"]["00235"]["mean_minutes"], rel=1e-6)
