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
def test_every_headline_figure_lies_within_its_interval(run_dir) -> None:
    """Issue 24: the first figure is the likely value (P50 of the draws), inside its P5-P95."""
    s = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert s["figures_basis"] == "monte_carlo_p50"
    intervals = {k[: -len("_interval")]: v for k, v in s.items() if k.endswith("_interval")}
    assert {"mean_minutes_to_nearest", "walk_within_minutes_share", "points_idle"} <= set(intervals)
    for metric, (p5, p50, p95) in intervals.items():
        assert s[metric] == pytest.approx(p50), metric
        assert p5 <= s[metric] <= p95, metric
        assert f"{metric}_at_standins" in s, metric
    assert abs(s["fallback_heldout_signed_pct_error_median"]) <= 3  # the fallback is unbiased


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


# ------------------------------------------------------------------ RunConfig and the steps


def test_run_config_checks_each_option_by_name(tmp_path) -> None:
    import dataclasses

    from pointplan._errors import InputError
    from pointplan.workflow import RunConfig

    for bad, name in (
        ({"objective": "fastest"}, "objective"),
        ({"method": "magic"}, "method"),
        ({"sites": "parks"}, "sites"),
        ({"lang": "fr"}, "lang"),
        ({"mode": "boat"}, "mode"),
        ({"add": -1}, "add"),
        ({"add": True}, "add"),
        ({"max_minutes": 0}, "max_minutes"),
        ({"formats": "pdf"}, "pdf"),
        ({"draws": 0}, "draws"),
        ({"study_units": [" "]}, "--units"),
    ):
        with pytest.raises(InputError, match=name):
            RunConfig(tmp_path, **bad)
    c = RunConfig(tmp_path, study_units=["70", "00070", "226"], draws=0, uncertainty=False)  # draws unused
    assert c.study_codes == ["00070", "00070", "00226"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.add = 3  # type: ignore[misc]
    assert RunConfig(tmp_path, **c.options()) == c
    assert RunConfig(tmp_path, network="None", candidates="c.csv").input_files == ["c.csv"]


def test_run_takes_a_config_or_keywords_not_both(tmp_path) -> None:
    from pointplan._errors import InputError
    from pointplan.workflow import RunConfig, run

    with pytest.raises(InputError, match=r"Unknown run option\(s\) \['ad'\]"):
        run(tmp_path, ad=3)
    with pytest.raises(InputError, match="not both"):
        run(tmp_path, config=RunConfig(tmp_path))
    with pytest.raises(InputError, match="output folder"):
        run()


def test_cli_builds_the_same_run_config() -> None:
    from pointplan.cli.analysis import run_config
    from pointplan.workflow import RunConfig

    args = cli.build_parser().parse_args(
        ["run", "--out", "o", "--max-km", "4", "--units", "70,226", "--no-uncertainty", "--sites", "grid"]
    )
    expected = RunConfig("o", max_distance_m=4000.0, study_units=["70", "226"], uncertainty=False, sites="grid")
    assert run_config(args) == expected


def test_run_phases_call_the_steps_in_order() -> None:
    from pointplan.workflow import RunConfig, run_phases

    names = [s.__name__ for _, steps in run_phases(RunConfig("o", add=2, draws=5)) for s in steps]
    assert names == [
        "load_step", "locate_points_step", "demand_step", "engine_step", "assess_step", "start_uncertainty_step",
        "propose_step", "uncertainty_step", "staff_step", "write_step",
    ]  # fmt: skip
    labels = [label for label, _ in run_phases(RunConfig("o", add=0, draws=5))]
    assert labels == ["Loading units and points", "Assessing", "Uncertainty (5 draws)", "Writing outputs"]


def test_load_step_limits_the_units_and_keeps_every_point() -> None:
    from pointplan._errors import InputError
    from pointplan.points import load_points
    from pointplan.workflow import RunConfig, RunState, load_step

    s = load_step(RunConfig("o", study_units=["70", "226", "70"], uncertainty=False), RunState())
    assert s.units.index.tolist() == ["00070", "00226"]
    assert len(s.points) == len(load_points("hanoi-2025"))  # people may use any point of the city
    with pytest.raises(InputError, match="99999"):
        load_step(RunConfig("o", study_units=["70", "99999"], uncertainty=False), RunState())


def test_locate_and_demand_steps_on_the_tiny_city(tmp_path) -> None:
    from pointplan._errors import InputError
    from pointplan.assessment._demo import tiny_city
    from pointplan.workflow import RunConfig, RunState, demand_step, locate_points_step

    units = tiny_city()["units"]
    state = RunState(units=units, points=tiny_city()["points"])
    config = RunConfig("o", uncertainty=False)
    assert locate_points_step(config, state) is state  # no geocoding asked
    s = demand_step(config, state)
    assert s.units is units and s.visits is None and s.conversion is None
    assert s.demand["population"].sum() == pytest.approx(300 + 100)  # the units' populations
    assert set(s.demand["unit_code"]) == {"00001", "00002"}
    bad = tmp_path / "dossiers.csv"
    bad.write_text("phuong\nX\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks the column 'ward'"):
        demand_step(RunConfig("o", dossiers=bad, uncertainty=False), state)


def test_engine_and_assess_steps_on_the_tiny_city() -> None:
    from pointplan.assessment._demo import tiny_city
    from pointplan.workflow import RunConfig, RunState, assess_step, engine_step

    t = tiny_city()
    assert engine_step(RunConfig("o", network="none", mode="car", uncertainty=False), RunState()).engine.mode == "car"
    state = RunState(units=t["units"], points=t["points"], demand=t["demand"], engine=t["engine"])
    a = assess_step(RunConfig("o", mode="bike", uncertainty=False), state).assessment
    assert a.summary["mean_minutes_to_nearest"] == pytest.approx(9.375)  # the tiny city's figure (docs: 9.38)
    assert a.name == "hanoi-2025"
    user = RunConfig("o", points=t["points"], mode="bike", uncertainty=False)
    assert assess_step(user, state).assessment.name == "user"


def test_assess_step_reads_a_scenario_equal_to_a_fresh_assessment_and_proposals_use_it() -> None:
    import numpy as np

    import pointplan
    from pointplan.assessment._demo import tiny_city
    from pointplan.workflow import RunConfig, RunState, assess_step, propose_step

    t = tiny_city()
    state = RunState(units=t["units"], points=t["points"], demand=t["demand"], engine=t["engine"])
    s = assess_step(RunConfig("o", mode="bike", uncertainty=False), state)
    fresh = pointplan.assess(t["points"], t["units"], t["demand"], engine=t["engine"], name="hanoi-2025")
    a = s.assessment
    assert s.scenario is not None and s.scenario.summary["points"] == 1
    assert set(a.summary) == set(fresh.summary)
    for key, value in fresh.summary.items():
        if isinstance(value, float):
            assert a.summary[key] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), key
        else:
            assert a.summary[key] == value, key
    num = fresh.units.select_dtypes("number").columns
    np.testing.assert_allclose(a.units[num].to_numpy(float), fresh.units[num].to_numpy(float), rtol=1e-9, atol=1e-9)
    # the proposal's after-assessment comes from the scenario's kept times, equal to a fresh one
    p = propose_step(RunConfig("o", mode="bike", add=1, sites="grid", uncertainty=False), s).proposal
    after = p.before_after["after"]
    again = pointplan.reassess(a, after.points, name=after.name)
    assert after.summary["mean_minutes_to_nearest"] == pytest.approx(again.summary["mean_minutes_to_nearest"], rel=1e-9)
    assert after.summary["points"] == 2 and s.scenario.summary["points"] == 1  # the scenario is unchanged


def test_propose_uncertainty_and_staff_steps_return_new_results() -> None:
    from pointplan.assessment._demo import tiny_assessment
    from pointplan.workflow import RunConfig, RunState, propose_step, staff_step, uncertainty_step

    a = tiny_assessment()
    config = RunConfig("o", add=1, sites="grid", draws=4)
    assert propose_step(RunConfig("o", add=0, uncertainty=False), RunState(assessment=a)).proposal is None
    s = propose_step(config, RunState(assessment=a))
    p = s.proposal
    assert p.points["candidate_id"].tolist() == ["unit-00002"]
    assert float(p.points["gain_person_minutes_saved"].iloc[0]) == pytest.approx(1200.0)
    s2 = uncertainty_step(config, s)
    assert a.uncertainty is None and s.assessment is a  # the old results are untouched
    assert len(s2.assessment.uncertainty.draws) == 4
    assert "robustness" in s2.proposal.points and "robustness" not in p.points
    s3 = staff_step(config, s2)
    assert s3.staffing["officials_needed"] == 4  # as pointplan.staffing.outputs.run_outputs
    assert s3.assessment is s2.assessment


def test_write_step_writes_the_tiny_city(tmp_path) -> None:
    from pointplan.report._demo import demo_assessment, demo_proposal
    from pointplan.workflow import RunConfig, RunState, write_step

    out = tmp_path / "out"
    s = write_step(
        RunConfig(out, formats="md", uncertainty=False),
        RunState(assessment=demo_assessment(), proposal=demo_proposal()),
    )
    assert s.problems == ()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["points"] == 1 and [p["candidate_id"] for p in summary["proposals"]] == ["c2"]
    assert s.paths["report.md"] == out / "report.md" and (out / "report.md").is_file()
    units = pd.read_csv(out / "units.csv", encoding="utf-8-sig", dtype={"code": str})
    assert units["code"].tolist() == ["00001", "00002"]


def test_proposed_points_follow_the_points_schema() -> None:
    from pointplan.locate.points_proposal import proposed_points
    from pointplan.points import POINT_COLUMNS
    from pointplan.report._demo import demo_proposal

    pts = proposed_points(demo_proposal(), counters=3)
    assert pts.columns.tolist() == [*POINT_COLUMNS, "geometry"]
    assert pts.crs.to_epsg() == 4326 and pts.index.tolist() == ["DX01"]
    assert pts["counters"].tolist() == [3] and pts["source"].iloc[0] == "pointplan proposal (c2)"


def test_old_import_paths_still_work() -> None:
    import pointplan
    from pointplan import locate, workflow

    assert workflow.propose_points is locate.propose_points is pointplan.propose_points
    assert workflow.default_candidates is locate.default_candidates is pointplan.default_candidates
    assert workflow.run is pointplan.run


def test_the_after_of_a_proposal_keeps_the_mode_and_the_engine() -> None:
    """Issue 24: the re-assessment with the proposals is in the run's mode, on its engine."""
    from pointplan.assessment._demo import tiny_assessment
    from pointplan.locate import default_candidates, propose_points

    a = tiny_assessment()  # by bike, walking figures beside
    cands = default_candidates(a, sites="grid", spacing_m=2000, n_clusters=2)
    after = propose_points(a, 1, candidates=cands, compare_unconstrained=False).before_after["after"]
    assert after.mode == a.mode == "bike" and after.engine is a.engine
    assert set(after.summary["within_minutes_share_by_mode"]) == set(a.summary["within_minutes_share_by_mode"])
    assert after.summary["mean_minutes_to_nearest"] < a.summary["mean_minutes_to_nearest"]


# The forking paths run in a fresh interpreter: the test process may hold other threads (the
# editor's tests start some), and then pointplan rightly runs the work in place instead.
_FORKED_MONTE_CARLO = """
import sys
import pandas as pd
from pointplan import settings
from pointplan._fork import can_fork
from pointplan.assessment._demo import tiny_assessment
from pointplan.workflow import RunConfig, RunState, start_uncertainty_step, uncertainty_step

assert can_fork()
a = tiny_assessment()
config = RunConfig("o", draws=6)
started = start_uncertainty_step(config, RunState(assessment=a))
assert started.monte_carlo is not None and started.monte_carlo._proc is not None  # a forked child
forked = uncertainty_step(config, started)
assert forked.monte_carlo is None
settings.run_in_parallel = False
assert start_uncertainty_step(config, RunState(assessment=a)).monte_carlo is None
here = uncertainty_step(config, RunState(assessment=a))
pd.testing.assert_frame_equal(forked.assessment.uncertainty.draws, here.assessment.uncertainty.draws)
assert forked.assessment.uncertainty.intervals == here.assessment.uncertainty.intervals
assert any(k.startswith("service_areas:") for k in forked.assessment.derived)  # drawn in the child too
print("same")
"""

_DYING_CHILD = """
import os
from pointplan._fork import Background

job = Background(lambda: os._exit(3), "the Monte Carlo")
try:
    job.result()
except RuntimeError as exc:
    print(exc)
print(Background(lambda: {"draws": [1, 2]}, "x").result())
"""


_FORKED_PROPOSAL = """
import pandas as pd
from pointplan import settings
from pointplan._fork import Background, can_fork
from pointplan.assessment._demo import tiny_assessment
from pointplan.locate import propose_points
from pointplan.workflow import RunConfig, RunState, start_uncertainty_step
from pointplan.workflow.state import collect_service_areas

assert can_fork()
a = tiny_assessment()
forked = propose_points(a, 1)  # the unconstrained comparison in a forked child
started = start_uncertainty_step(RunConfig("o", uncertainty=False), RunState(assessment=a))
assert started.service_areas is not None and started.service_areas._proc is not None
areas = {k: v for k, v in collect_service_areas(started).assessment.derived.items() if k.startswith("service_areas:")}
import io, logging
from pointplan.assessment._demo import tiny_city
from pointplan.workflow.steps import assess_step, propose_step
t = tiny_city()
cfg = RunConfig("o", mode="bike", add=1, uncertainty=False)
st = assess_step(cfg, RunState(units=t["units"], points=t["points"], demand=t["demand"], engine=t["engine"]))
assert st.comparison is not None and st.comparison.job._proc is not None  # started beside the assessment
log = io.StringIO()
logging.getLogger("pointplan.locate.points_proposal").addHandler(logging.StreamHandler(log))
logging.getLogger("pointplan.locate.points_proposal").setLevel(logging.INFO)
assert propose_step(cfg, st).proposal.summary["unconstrained_picks"]
assert "other inputs" not in log.getvalue(), log.getvalue()  # the early comparison was the one used
job = Background(lambda: __import__("time").sleep(60), "unwanted")
job.cancel()  # stopped at once, not waited for
assert not job._proc.is_alive()
settings.run_in_parallel = False
b = tiny_assessment()
here = propose_points(b, 1)
assert forked.summary["unconstrained_picks"] == here.summary["unconstrained_picks"]
assert forked.summary["tradeoff"] == here.summary["tradeoff"]
pd.testing.assert_frame_equal(forked.points.drop(columns="geometry"), here.points.drop(columns="geometry"))
assert start_uncertainty_step(RunConfig("o", uncertainty=False), RunState(assessment=b)).service_areas is None
b.service_areas()
assert sorted(areas) == sorted(k for k in b.derived if k.startswith("service_areas:")) and areas
for k in areas:
    assert areas[k].geometry.geom_equals(b.derived[k].geometry).all()
print("same")
"""


def _fresh_python(code: str) -> str:
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forking is used on Linux only")
def test_the_monte_carlo_forked_beside_the_proposals_equals_the_one_run_in_place() -> None:
    assert _fresh_python(_FORKED_MONTE_CARLO).strip() == "same"


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forking is used on Linux only")
def test_the_unconstrained_comparison_and_the_service_areas_forked_equal_those_run_in_place() -> None:
    assert _fresh_python(_FORKED_PROPOSAL).strip() == "same"


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forking is used on Linux only")
def test_background_work_that_dies_is_a_clear_error() -> None:
    out = _fresh_python(_DYING_CHILD).splitlines()
    assert out == ["the Monte Carlo stopped without an answer (exit code 3); run again.", "{'draws': [1, 2]}"]


def test_background_work_runs_in_place_where_it_cannot_fork(monkeypatch) -> None:
    from pointplan import settings
    from pointplan._fork import Background, can_fork

    monkeypatch.setattr(settings, "run_in_parallel", False)
    assert not can_fork()
    job = Background(lambda: sum(range(10)), "a sum")
    assert job._proc is None and job.result() == 45
    with pytest.raises(ZeroDivisionError):
        Background(lambda: 1 / 0, "a division").result()


def test_the_command_ends_with_main_s_exit_code_and_flushed_output(tmp_path) -> None:
    """The console script (`command`) exits at once after `main`: same codes, nothing lost on the way out."""
    import subprocess
    import sys

    code = "import sys; from pointplan.cli import command; sys.argv[0] = 'pointplan'; command()"
    usage = subprocess.run([sys.executable, "-c", code, "run"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "--out" in usage.stderr
    info = subprocess.run([sys.executable, "-c", code, "info"], capture_output=True, text=True, timeout=120)
    assert info.returncode == 0 and "units_2025" in info.stdout + info.stderr
