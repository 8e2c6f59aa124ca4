"""The command line and the end-to-end run on the real Hanoi data."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pointplan import cli

REQUIRED_SUMMARY_KEYS = {
    "units",
    "points",
    "branches_expected",
    "branches_located",
    "population",
    "population_within_standard_share",
    "mean_minutes_to_nearest",
    "rule_findings",
    "travel_time_method",
    "proposals",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, network_cache):
    """The default run, as a user gets it: hybrid travel times on the shipped inner-city roads."""
    from pointplan import settings

    out = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "default_network", "osm_inner_drive")
        mp.setattr(settings, "network_cache_dir", network_cache)
        mp.setattr(settings, "cache_dir", tmp_path_factory.mktemp("cache"))
        mp.setattr(settings, "allow_downloads", False)
        mp.setattr(settings, "uncertainty_draws", 12)
        mp.setattr(settings, "robustness_draws", 2)
        rc = cli.main(["-q", "run", "--out", str(out), "--add", "3", "--offline-map", "--formats", "html,docx,xlsx,md"])
    assert rc == 0
    return out


@pytest.mark.slow
def test_default_run_uses_the_roads_where_they_are(run_dir) -> None:
    """Issue 14: network times in the inner city, the calibrated fallback elsewhere, and it says so."""
    s = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert s["travel_time_method"] == "hybrid"
    assert 0.3 < s["network_population_share"] < 0.7  # the inner city holds about 3.5 of 8.8 M people
    assert s["fallback_heldout_abs_pct_error_median"] > 0 and "outer" in s["fallback_calibration_scope"]
    units = pd.read_csv(run_dir / "units.csv", encoding="utf-8-sig", dtype={"code": str}).set_index("code")
    assert set(units["travel_time_method"]) == {"network", "fallback", "mixed"}
    assert units.loc["00070", "travel_time_method"] == "network"  # Hoàn Kiếm
    assert units.loc["00376", "travel_time_method"] == "fallback"  # Sóc Sơn, outside the network
    assert units["network_population_share"].between(0, 1).all()


@pytest.mark.slow
def test_run_writes_every_output(run_dir) -> None:
    names = {p.name for p in run_dir.iterdir()}
    for name in (
        "map.html",
        "map_offline.html",
        "units.csv",
        "points.csv",
        "proposals.geojson",
        "summary.json",
        "report.md",
        "report.html",
        "report.docx",
        "tables.xlsx",
        "scenario.gpkg",
        "findings.csv",
    ):
        assert name in names, name
    assert any(n.endswith(".png") for n in names)
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]


@pytest.mark.slow
def test_run_summary_contract(run_dir) -> None:
    s = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert set(s) >= REQUIRED_SUMMARY_KEYS
    assert s["units"] == 126
    assert s["points"] == 131
    assert (s["branches_expected"], s["branches_located"]) == (12, 3)
    assert s["population"] == pytest.approx(8_807_523)
    assert 0.95 <= s["population_within_standard_share"] <= 1.0
    assert s["travel_time_method"] == "hybrid"  # the default: the shipped roads where they are
    assert s["rule_findings"]["error"] == 0
    assert len(s["proposals"]) == 3
    assert [p["rank"] for p in s["proposals"]] == [1, 2, 3]
    gains = [p["gain_person_minutes_saved"] for p in s["proposals"]]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    assert s["proposals_summary"]["after"]["mean_minutes_to_nearest"] < s["mean_minutes_to_nearest"]


@pytest.mark.slow
def test_run_tables_open_in_excel_with_vietnamese(run_dir) -> None:
    raw = (run_dir / "units.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    units = pd.read_csv(run_dir / "units.csv", encoding="utf-8-sig", dtype={"code": str})
    assert len(units) == 126
    for col in (
        "code",
        "name",
        "kind",
        "population",
        "points",
        "coverage_share",
        "mean_minutes",
        "p90_minutes",
        "visits_per_day",
        "visits_per_counter",
    ):
        assert col in units.columns, col
    assert "Hoàn Kiếm" in set(units["name"])
    assert units["population"].sum() == 8_807_523
    assert units["visits_per_day"].sum() == pytest.approx(8000 * 0.4005, rel=1e-6)
    points = pd.read_csv(run_dir / "points.csv", encoding="utf-8-sig")
    assert len(points) == 131
    assert {"visits_per_day", "location_precision", "utilisation"} <= set(points.columns)
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Báo cáo") and "![](chart_minutes_cdf.png)" in report


def test_info_lists_datasets_and_branches(capsys) -> None:
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "hanoi/units_2025.geojson" in out
    assert "3 of 12 located" in out
    assert "CN03 missing" in out


def test_check_exit_codes(tmp_path, capsys) -> None:
    assert cli.main(["check"]) == 0
    assert "0 error(s)" in capsys.readouterr().out
    pts = tmp_path / "two.csv"
    pts.write_text("name,lon,lat\nA,105.85,21.03\nB,105.80,21.00\n", encoding="utf-8")
    assert cli.main(["check", "--points", str(pts), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "too_few_points" in out and "unit_without_point" in out


def test_user_error_has_no_traceback(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon,lat\nA,21.03,105.85\n", encoding="utf-8")
    assert cli.main(["check", "--points", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "swapped" in err and "Traceback" not in err


def test_no_command_prints_help(capsys) -> None:
    assert cli.main([]) == 2
    assert "usage" in capsys.readouterr().out


@pytest.mark.slow
def test_run_with_a_network_file_uses_it_for_its_area_and_the_fallback_beyond(tmp_path) -> None:
    """--network FILE: that network where it covers a trip, the calibrated fallback beyond; none: fallback."""
    from pointplan.data import data_file

    osm = str(data_file("osm_vanmieu"))  # about 1.3 x 0.8 km around Văn Miếu, in unit 00226
    common = ["--mode", "walk", "--units", "00226,00070", "--demand-cell-m", "250", "--add", "1", "--no-uncertainty"]
    out = tmp_path / "net"
    assert cli.main(["-q", "run", "--out", str(out), "--network", osm, *common]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["travel_time_method"] == "hybrid" and s["mode"] == "walk"
    assert 0 < s["network_population_share"] < 1
    units = pd.read_csv(out / "units.csv", encoding="utf-8-sig", dtype={"code": str}).set_index("code")
    assert sorted(units.index) == ["00070", "00226"]
    share = units["network_population_share"]
    assert share["00226"] > share["00070"]  # the extract lies in Văn Miếu - Quốc Tử Giám
    assert s["population"] == pytest.approx(units["population"].sum())
    assert len(s["proposals"]) == 1
    out2 = tmp_path / "none"
    assert cli.main(["-q", "run", "--out", str(out2), "--network", "none", *common]) == 0
    s2 = json.loads((out2 / "summary.json").read_text(encoding="utf-8"))
    assert s2["travel_time_method"] == "crow_flies_circuity" and s2["network_population_share"] == 0


def test_unknown_unit_code_is_a_clear_error(tmp_path, capsys) -> None:
    assert cli.main(["run", "--out", str(tmp_path / "o"), "--units", "00070,99999", "--add", "0"]) == 2
    assert "99999" in capsys.readouterr().err


@pytest.mark.slow
def test_every_json_output_is_strict(run_dir) -> None:
    """No NaN or Infinity in summary.json, GeoJSON or any JSON the run writes."""

    def reject(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    files = sorted([*run_dir.glob("*.json"), *run_dir.glob("*.geojson")])
    assert any(f.name == "summary.json" for f in files)
    for f in files:
        json.loads(f.read_text(encoding="utf-8"), parse_constant=reject)
    s = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert s["unreachable_population"] == 0 and s["unreachable_demand_points"] == 0
