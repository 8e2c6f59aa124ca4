"""Uncertainty, queues and bus access surfaced in the map, the report and the run outputs.

The tiny city (conftest): units A (phường, 2 × 2 km) and B (xã, 10 × 2 km east of A); demand
d0..d3 on the line y = Y0 + 1 km at x = X0 + 0.5, 1.5, 4 and 11.5 km (100, 200, 60, 40
people); one point P1 at X0 + 1 km. A bus stop is put by hand where each answer can be worked
out on paper.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import browser  # tests/browser.py, the shared headless-browser helper
import pointplan
from pointplan import maps as pm
from pointplan.maps.labels import LABELS
from pointplan.points import LOCATION_PRECISIONS
from pointplan.report.content import build_document
from pointplan.report.labels import column_dictionary
from pointplan.report.run_tables import (
    bus_context,
    bus_population_share_near,
    run_findings,
    run_points_table,
    run_units_table,
)
from pointplan.transit.network import BusNetwork

X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"


def _assess(tiny: dict[str, Any], counters: int = 2) -> pointplan.Assessment:
    pts = tiny["points"].copy()
    pts["counters"] = counters
    return pointplan.assess(
        pts, tiny["units"], tiny["demand"], engine=tiny["engine"], visits=tiny["visits"], modes=("walk",)
    )


def _network(x: float, midday_trips: int = 14) -> BusNetwork:
    """One stop of route A at (x, Y0 + 1 km): ``midday_trips`` over 7 hours."""
    stops = gpd.GeoDataFrame(
        {"stop_id": ["A_S1"], "route_id": ["A"]}, geometry=gpd.points_from_xy([x], [Y0 + 1000]), crs=UTM
    )
    trips = pd.DataFrame(
        {"trips_am": [6], "trips_midday": [midday_trips], "trips_pm": [6]}, index=pd.Index(["A"], name="route_id")
    )
    return BusNetwork(stops, trips)


def _fake_uncertainty(units: pd.Index) -> types.SimpleNamespace:
    """Hand-set intervals (the shape of pointplan.uncertainty.UncertaintyResult)."""
    per_unit = pd.DataFrame(
        {
            "coverage_share_p5": [0.8, 0.5],
            "coverage_share_p50": [0.9, 0.6],
            "coverage_share_p95": [1.0, 0.7],
            "mean_minutes_p5": [2.0, 25.0],
            "mean_minutes_p50": [2.5, 30.0],
            "mean_minutes_p95": [3.25, 41.5],
            "uncertainty_minutes": [1.25, 16.5],
        },
        index=units.astype(str),
    )
    return types.SimpleNamespace(
        units=per_unit,
        intervals={"mean_minutes_to_nearest": [8.0, 9.4, 12.25], "population_within_standard_share": [0.85, 0.9, 0.95]},
        sensitivity=pd.DataFrame(),
        n_draws=7,
        seed=11,
    )


# ------------------------------------------------------------------------------ map


def test_every_location_precision_has_a_map_label() -> None:
    for lang in ("vi", "en"):
        missing = [p for p in LOCATION_PRECISIONS if f"precision.{p}" not in LABELS[lang]]
        assert missing == [], (lang, missing)
    assert LABELS["vi"]["precision.unknown"] != LABELS["en"]["precision.unknown"]


def _first_units_features(m: Any) -> list[dict[str, Any]]:
    # the first layer is the metric shown ("Units: …" alone, or the first radio of several metrics)
    group = next(c for c in m._children.values() if getattr(c, "layer_name", None))
    return group._children[next(iter(group._children))].data["features"]


def test_unit_popup_shows_the_interval_and_an_uncertainty_layer(tiny_city: dict[str, Any]) -> None:
    a = _assess(tiny_city)
    a = a.with_uncertainty(_fake_uncertainty(a.units.index))
    m = pm.assessment_map(a, metric="mean_minutes", lang="en", service_areas=False, uncovered=False, tiles=False)
    popups = {f["properties"]["_id"]: f["properties"]["_p"] for f in _first_units_features(m)}
    # unit A: mean 2.5 min (d0 and d1 at 0.5 km, 5 min a km), interval 2.0–3.25
    assert "2.5 min (P5–P95: 2.0 min – 3.2 min)" in popups["00001"]
    assert "90.0% (P5–P95: 50.0% – 70.0%)" not in popups["00001"]
    assert "(P5–P95: 50.0% – 70.0%)" in popups["00002"]
    names = [c.layer_name for c in m._children.values() if hasattr(c, "layer_name")]
    assert LABELS["en"]["layer.uncertainty"] in names
    # without uncertainty: no interval, no layer
    b = _assess(tiny_city)
    m2 = pm.assessment_map(b, metric="mean_minutes", lang="en", service_areas=False, uncovered=False, tiles=False)
    assert all("P5–P95" not in f["properties"]["_p"] for f in _first_units_features(m2))
    assert LABELS["en"]["layer.uncertainty"] not in [getattr(c, "layer_name", "") for c in m2._children.values()]


def test_bus_stop_layer_classes_and_attribution(tiny_city: dict[str, Any], tmp_path: Path) -> None:
    from pointplan.transit import stop_frequency

    stops = gpd.GeoDataFrame(
        {"stop_id": ["A_S1", "B_S1", "C_S1"], "route_id": ["A", "B", "C"]},
        geometry=gpd.points_from_xy([X0 + 100, X0 + 900, X0 + 1500], [Y0 + 500] * 3),
        crs=UTM,
    )
    # 7 midday hours: 14 trips = 2/h (class 0), 56 = 8/h (class 1), 280 = 40/h (class 3)
    trips = pd.DataFrame({"trips_midday": [14, 56, 280]}, index=pd.Index(["A", "B", "C"], name="route_id"))
    layer = stop_frequency(BusNetwork(stops, trips))
    a = _assess(tiny_city)
    kw: dict[str, Any] = {"service_areas": False, "uncovered": False, "tiles": False, "roads": False, "lang": "en"}
    m = pm.assessment_map(a, bus_stops=layer, bus_min_trips_per_hour=6, **kw)
    group = next(c for c in m._children.values() if getattr(c, "layer_name", "").startswith("Bus stops"))
    feats = group._children[next(iter(group._children))].data["features"]
    assert sorted(f["properties"]["c"] for f in feats) == ["1", "3"]  # the 2/h stop is left out
    assert any("40.0" in f["properties"]["_t"] for f in feats)
    page = pm.save_map(m, tmp_path / "bus.html").read_text(encoding="utf-8")
    assert "World Bank/Arup (CC-BY-4.0)" in page
    plain = pm.save_map(pm.assessment_map(a, **kw), tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "World Bank/Arup" not in plain


def test_wait_layer_marks_the_overloaded_point(tiny_city: dict[str, Any]) -> None:
    from pointplan.staffing import staffing_plan

    a = _assess(tiny_city)  # 40 visits a day; 2 counters × 4 dossiers an hour < peak arrivals
    plan = staffing_plan(a, zero_counters="overloaded")
    assert plan.points.loc["P1", "arrivals_per_hour_peak"] > 2 * 60 / 15
    m = pm.assessment_map(a, waits=True, service_areas=False, uncovered=False, tiles=False, roads=False)
    group = next(c for c in m._children.values() if getattr(c, "layer_name", "").startswith("Thời gian chờ"))
    (feat,) = group._children[next(iter(group._children))].data["features"]
    assert feat["properties"]["_s"]["fillColor"] == "#67000d"
    assert "quá tải lúc cao điểm" in feat["properties"]["_p"] and "2 → 4" in feat["properties"]["_p"]


# ------------------------------------------------------------------------------ run tables


def test_bus_columns_hand_worked(tiny_city: dict[str, Any]) -> None:
    a = _assess(tiny_city)
    bus_context(a, _network(X0 + 1300))  # 300 m east of P1; d1 is 200 m away, d0 800 m, d2 2.7 km
    pts = run_points_table(a)
    row = pts.set_index("point_id").loc["P1"]
    assert (row["bus_stops_near"], row["bus_trips_per_hour_midday"], row["nearest_bus_stop_m"]) == (1.0, 2.0, 300.0)
    units = run_units_table(a).set_index("code")
    assert units.loc["00001", "bus_pop_share_near"] == pytest.approx(200 / 300, abs=1e-4)
    assert units.loc["00002", "bus_pop_share_near"] == 0.0
    assert units.loc["00001", "bus_access"] == pytest.approx(2.0 * 200 / 300, abs=1e-4)
    assert (units.loc["00001", "bus_stops"], units.loc["00002", "bus_stops"]) == (1.0, 0.0)
    assert bus_population_share_near(a) == 0.5  # 200 of 400 people
    assert "no_bus_stop_nearby" not in set(run_findings(a)["rule"])


def test_a_point_without_a_stop_is_a_finding_in_the_summary(tiny_city: dict[str, Any]) -> None:
    from pointplan.report import summary_json

    a = _assess(tiny_city)
    bus_context(a, _network(X0 + 1500))  # 500 m from P1 (> 400 m)
    found = run_findings(a)
    hit = found[found["rule"] == "no_bus_stop_nearby"]
    assert hit["point_id"].tolist() == ["P1"]
    s = summary_json(a, None)
    json.dumps(s, allow_nan=False)
    assert s["bus_population_share_near"] == 0.5  # d1 lies on the stop
    assert [f["point_id"] for f in s["findings"] if f["rule"] == "no_bus_stop_nearby"] == ["P1"]


def test_time_to_service_is_travel_plus_the_same_wait(tiny_city: dict[str, Any]) -> None:
    a = _assess(tiny_city, counters=4)  # 4 counters: not overloaded, a finite wait at P1
    bus_context(a, _network(X0 + 1300))
    t = run_units_table(a).set_index("code")["time_to_service_minutes"]
    # travel: A = 2.5 min for everyone; B = (60 × 15 + 40 × 52.5) / 100 = 30 min
    wait_a, wait_b = t["00001"] - 2.5, t["00002"] - 30.0
    assert wait_a == pytest.approx(wait_b, abs=1e-3) and wait_a > 0
    overloaded = _assess(tiny_city, counters=2)
    bus_context(overloaded, _network(X0 + 1300))
    assert run_units_table(overloaded)["time_to_service_minutes"].isna().all()


def test_units_table_keeps_population_corrected_and_intervals(tiny_city: dict[str, Any]) -> None:
    units = tiny_city["units"].copy()
    units["population_corrected"] = [True, False]
    tiny = {**tiny_city, "units": units}
    a = _assess(tiny)
    a = a.with_uncertainty(_fake_uncertainty(a.units.index))
    bus_context(a, _network(X0 + 1300))
    t = run_units_table(a).set_index("code")
    assert t["population_corrected"].tolist() == [True, False]
    assert t.loc["00002", "mean_minutes_p95"] == 41.5 and t.loc["00001", "uncertainty_minutes"] == 1.25


def test_every_new_column_has_a_label() -> None:
    d = column_dictionary()
    labelled = {c for _, c in d.index}
    wanted = {
        "population_corrected",
        "coverage_share_p5",
        "mean_minutes_p95",
        "p90_minutes_p50",
        "uncertainty_minutes",
        "bus_access",
        "bus_stops",
        "bus_pop_share_near",
        "time_to_service_minutes",
        "wait_mean_min_peak",
        "wait_p90_min_peak",
        "prob_wait_peak",
        "counters_recommended",
        "bus_stops_near",
        "bus_trips_per_hour_midday",
        "nearest_bus_stop_m",
        "robustness",
        "depends_on_guess",
    }
    assert wanted - labelled == set()


# ------------------------------------------------------------------------------ report


def test_report_shows_intervals_known_assumed_queues_bus(tiny_city: dict[str, Any]) -> None:
    from pointplan.uncertainty import run_uncertainty

    a = _assess(tiny_city, counters=4)
    bus_context(a, _network(X0 + 1300))
    a = a.with_uncertainty(run_uncertainty(a, draws=8, seed=3, sensitivity_draws=4))
    doc = build_document(a, lang="en", images={"minutes_cdf": b"", "p90_units": b"", "utilisation": b""})
    keys = [s.key for s in doc.sections]
    assert keys[:3] == ["summary", "uncertainty", "rules"]
    assert {"queues", "time_to_service", "bus"} <= set(keys)
    summary = doc.tables()[0]
    assert summary.headers[-1] == "P5–P95 range"
    rows = {r[0]: r for r in summary.rows}
    p5, _, p95 = a.uncertainty.intervals["mean_minutes_to_nearest"]
    assert rows["Mean minutes to the nearest point"][2] == f"{p5:.1f} – {p95:.1f}"
    unc = next(s for s in doc.sections if s.key == "uncertainty")
    known = next(b for b in unc.blocks if getattr(b, "title", "") == "Known and assumed")
    assert known.headers == ("Item", "Known / assumed", "Basis", "Range drawn")
    bus = next(s for s in doc.sections if s.key == "bus")
    assert bus.blocks[0].startswith("50.0 % of the people live within 400 m")
    assert bus.blocks[-1] == "Every point has a bus stop within 400 m."
    queues = next(s for s in doc.sections if s.key == "queues")
    assert [b.title for b in queues.blocks[1:]][:2] == ["City totals", "Longest waits at the peak"]


def test_report_proposals_show_robustness() -> None:
    from pointplan.report._demo import demo_proposal
    from pointplan.report.content import Table, _proposals

    prop = demo_proposal()
    shown = types.SimpleNamespace(**vars(prop))
    shown.points = prop.points.assign(robustness=[0.25], depends_on_guess=[True])
    section = _proposals(shown, "en", {})
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.headers[-2:] == ("Robustness (%)", "Depends on a guess")
    assert table.rows[0][-2:] == ("25.0 %", "yes")
    assert any(isinstance(b, str) and "1 proposal(s) depend on one guessed" in b for b in section.blocks)


# ------------------------------------------------------------------------------ Hanoi


@pytest.mark.slow
def test_full_hanoi_run_map_with_bus_waits_and_uncertainty_stays_under_3_mb(
    tmp_path: Path, units: gpd.GeoDataFrame, points: gpd.GeoDataFrame
) -> None:
    from pointplan.maps.transit import BUS_MAP_MIN_TRIPS_PER_HOUR
    from pointplan.report.run_tables import unit_time_to_service
    from pointplan.uncertainty import run_uncertainty
    from pointplan.workflow import MAP_METRICS

    a = pointplan.assess(points, units)
    a = a.with_uncertainty(run_uncertainty(a, draws=5, seed=1, sensitivity_draws=None))
    ctx = bus_context(a)
    assert len(ctx.stops) > 3000  # every stop place inside Hanoi's units
    unit_time_to_service(a)
    extra = [*MAP_METRICS[1:], "time_to_service_minutes", "bus_access"]
    m = pm.assessment_map(
        a,
        metric=MAP_METRICS[0],
        extra_metrics=extra,
        bus_stops=ctx.stops,
        bus_min_trips_per_hour=BUS_MAP_MIN_TRIPS_PER_HOUR,
        waits=True,
    )
    size = pm.save_map(m, tmp_path / "map.html").stat().st_size
    print("full Hanoi run map (bytes):", size)
    assert size <= 3_000_000
    share = bus_population_share_near(a)
    assert share is not None and 0.3 < share < 0.7
    assert np.isfinite(run_units_table(a)["bus_access"]).sum() == 126


# ------------------------------------------------------------------------------ browser

_BROWSER_SKIP = browser.unavailable_reason()


@pytest.mark.browser
@pytest.mark.skipif(_BROWSER_SKIP is not None, reason=_BROWSER_SKIP or "")
def test_new_layers_draw_in_headless_chromium(tiny_city: dict[str, Any], tmp_path: Path) -> None:
    from pointplan.transit import stop_frequency

    a = _assess(tiny_city)
    a = a.with_uncertainty(_fake_uncertainty(a.units.index))
    net = _network(X0 + 1300)
    layer = stop_frequency(net)
    m = pm.assessment_map(a, waits=True, bus_stops=layer, tiles=False, service_areas=False, uncovered=False)
    path = pm.save_map(m, tmp_path / "map.html")
    with browser.Chromium() as b:
        page = b.open(path, settle_s=0.5)
        assert page.errors == [] and page.blocked == []
        page.evaluate(
            "document.querySelectorAll('.leaflet-control-layers-overlays input').forEach("
            "function (i) { if (!i.checked) { i.click(); } })"
        )
        page.settle(0.5)
        assert page.errors == []
        # one wait circle (P1, dark red: overloaded) and one bus stop circle (2 buses/h)
        assert page.count('path.leaflet-interactive[fill="#67000d"]') == 1
        assert page.count('path.leaflet-interactive[fill="#9ecae1"]') == 1
        assert page.count(".pp-bus-legend") == 1 and page.count(".pp-waits-legend") == 1
