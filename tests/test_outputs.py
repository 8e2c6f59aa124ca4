"""Outputs about the question asked (issue 29): unit studies, proposals where allowed, a quiet log."""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import pytest
import shapely

from pointplan._errors import InputError
from pointplan.assessment._demo import tiny_assessment
from pointplan.cli import build_parser
from pointplan.cli.analysis import run_config
from pointplan.locate.candidates import restrict_candidates
from pointplan.report.standards import standards_by_mode
from pointplan.report.summary_json import scope_items
from pointplan.workflow.run import OnceFilter, once_per_run
from pointplan.workflow.steps import add_points


def _units() -> gpd.GeoDataFrame:
    sq = [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000), shapely.box(2000, 0, 3000, 1000)]
    return gpd.GeoDataFrame({"kind": ["xa", "phuong", "xa"]}, geometry=sq, index=["00001", "00002", "00003"],
                            crs="EPSG:32648")  # fmt: skip


def test_restrict_candidates_by_units_and_kind() -> None:
    xs = [100, 500, 1500, 2500, 5000]  # 2 in unit 1, 1 in unit 2, 1 in unit 3, 1 outside
    c = gpd.GeoDataFrame({"candidate_id": list("abcde")}, geometry=[shapely.Point(x, 500) for x in xs],
                         crs="EPSG:32648")  # fmt: skip
    assert restrict_candidates(c, _units(), unit_kind="xa")["candidate_id"].tolist() == ["a", "b", "d"]
    out = restrict_candidates(c, _units(), in_units=["2", "3"])
    assert out["candidate_id"].tolist() == ["c", "d"] and out["unit_code"].tolist() == ["00002", "00003"]
    assert restrict_candidates(c, _units(), in_units=["3", "2"], unit_kind="phuong")["candidate_id"].tolist() == ["c"]
    with pytest.raises(InputError, match="No candidate site is left"):
        restrict_candidates(c, _units(), in_units=["2"], unit_kind="xa")
    with pytest.raises(InputError, match="Unknown unit code"):
        restrict_candidates(c, _units(), in_units=["99"])


def test_each_log_line_once_with_a_count(caplog: pytest.LogCaptureFixture) -> None:
    f = OnceFilter()

    def rec() -> logging.LogRecord:
        return logging.LogRecord("pointplan.x", logging.INFO, "", 0, "dropped %d of %d", (14, 244), None)

    assert [f.filter(rec()) for _ in range(12)] == [True] + [False] * 11
    assert f.repeats == {"dropped 14 of 244": 11}
    with caplog.at_level(logging.INFO, logger="pointplan"), once_per_run():
        for _ in range(3):
            logging.getLogger("pointplan.locate").info("clean_candidates dropped 3 of 37")
    lines = [r.getMessage() for r in caplog.records]
    assert lines.count("clean_candidates dropped 3 of 37") == 1
    assert any("logged 3 times; shown once" in line for line in lines)


def test_add_points_keeps_the_scenario_and_renames_taken_ids() -> None:
    a = gpd.GeoDataFrame({"point_id": ["P1"], "name": ["A"]}, geometry=[shapely.Point(105.8, 21.0)],
                         crs="EPSG:4326", index=["P1"])  # fmt: skip
    kiosks = [shapely.Point(105.9, 21.0), shapely.Point(105.7, 21.1)]
    b = gpd.GeoDataFrame({"point_id": ["P1", "K2"], "name": ["Ki-ốt 1", "Ki-ốt 2"]}, geometry=kiosks, crs="EPSG:4326")
    out = add_points(a, b)
    assert out.index.tolist() == ["P1", "P1-add", "K2"] and out["name"].tolist() == ["A", "Ki-ốt 1", "Ki-ốt 2"]


def test_cli_options_reach_the_run_config() -> None:
    args = build_parser().parse_args(
        ["run", "--out", "o", "--add-points", "k.csv", "--in-units", "235,229", "--unit-kind", "phuong"]
    )
    c = run_config(args)
    assert c.add_points == "k.csv" and c.proposal_codes == ["00235", "00229"] and c.propose_unit_kind == "phuong"
    assert "k.csv" in c.input_files
    with pytest.raises(SystemExit):
        build_parser().parse_args(["propose", "--out", "o", "--unit-kind", "town"])


def test_unit_study_summary_and_report_name_the_units() -> None:
    from pointplan.report._demo import demo_images
    from pointplan.report.content import build_document

    a = tiny_assessment()
    b = dataclasses.replace(a, params={**a.params, "study_units": ["00002"]})
    s = scope_items(b)
    assert s["study_units"] == ["00002"] and s["visits_counted"] == "study_units_only"
    assert s["points_serving_study"] == ["P1"]  # the one point is the nearest of xã B's people
    assert scope_items(a) == {"points_without_precision": 0, "visits_counted": "all_units"}
    doc = build_document(b, lang="en", images=demo_images("en"), bus=False)
    name = str(b.units.at["00002", "full_name"] if "full_name" in b.units else b.units.at["00002", "name"])
    assert name in doc.title
    assert any("Only the visits of the studied units' people" in str(x) for sec in doc.sections for x in sec.blocks)


def test_standards_per_mode_walk_headline_is_the_minutes() -> None:
    import types

    # Xã Cổ Đô on foot: everyone within 5 km, 12.6 % within 30 minutes (network 'none', measured).
    a = types.SimpleNamespace(summary={"max_minutes": 30.0, "max_distance_m": 5000.0,
        "population_within_5_km_share": 1.0, "within_minutes_share_by_mode": {"walk": 0.126, "motorbike": 1.0},
        "coverage_share_by_mode": {"walk": 1.0, "motorbike": 1.0}})  # fmt: skip
    s = standards_by_mode(a)
    assert s["standards_by_mode"]["motorbike"]["headline_share"] == 1.0
    assert s["standards_by_mode"]["walk"]["headline_share"] == 0.126
    walk = s["standards_by_mode"]["walk"]
    assert walk["rule"] == "time" and walk["headline_share"] == s["walk_within_minutes_share"]
    assert s["walk_within_minutes_share"] < s["walk_within_distance_share"]
