"""The national sweep on Dask: tables, resume, failures, national map and report (issue 28)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pointplan import InputError
from pointplan.sweep import MARKER, SweepOptions, check_codes, province_task, sweep

CALLS: list[str] = []


def fake_job(code: str, folder: Path, options: SweepOptions) -> dict[str, Any]:
    """Writes a units.csv of two units and returns figures computed from it."""
    CALLS.append(code)
    units = pd.DataFrame(
        {
            "code": [f"{code}001", f"{code}002"],
            "name": ["A", "B"],
            "kind": ["xa", "phuong"],
            "population": [1000, 3000],
            "population_source": ["official", "worldpop_estimate"],
            "coverage_share": [0.5, 1.0],
            "mean_minutes": [20.0, 5.0],
            "p90_minutes": [40.0, 9.0],
        }
    )
    units.to_csv(folder / "units.csv", index=False, encoding="utf-8-sig")
    return {"population": 4000, "population_beyond_standard": 500.0, "lscp_points_needed": 1, "draws": options.draws}


def failing_job(code: str, folder: Path, options: SweepOptions) -> dict[str, Any]:
    if code == "46":
        msg = "forced failure"
        raise RuntimeError(msg)
    return fake_job(code, folder, options)


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


def test_codes_of_the_provinces_option() -> None:
    assert check_codes("all")[:3] == ["01", "04", "08"] and len(check_codes("all")) == 34
    assert check_codes("Lai Châu, hue, 12") == ["12", "46"]
    with pytest.raises(InputError, match="Did you mean"):
        check_codes("12,Thanh Hao")
    with pytest.raises(InputError, match="empty"):
        check_codes(" , ")


def test_a_sweep_of_two_provinces_on_a_local_cluster(tmp_path: Path) -> None:
    r = sweep(tmp_path, "12,46", job=fake_job, workers=2, processes=False, options=SweepOptions(draws=0))
    assert sorted(CALLS) == ["12", "46"] and r.failed == []
    prov = pd.read_csv(tmp_path / "national_provinces.csv", dtype={"province_code": str}, encoding="utf-8-sig")
    assert prov["province_code"].tolist() == ["12", "46"]
    assert prov["province_name"].tolist() == ["Tỉnh Lai Châu", "Thành phố Huế"]
    assert prov["status"].tolist() == ["ok", "ok"]
    assert prov["population_beyond_standard"].tolist() == [500.0, 500.0]
    units = pd.read_csv(
        tmp_path / "national_units.csv", dtype={"code": str, "province_code": str}, encoding="utf-8-sig"
    )
    assert units["code"].tolist() == ["12001", "12002", "46001", "46002"]
    # people beyond the standard per unit: population × (1 − coverage share)
    assert units["population_beyond_standard"].tolist() == [500.0, 0.0, 500.0, 0.0]
    assert units["population_source"].tolist() == ["official", "worldpop_estimate"] * 2
    for code in ("12", "46"):
        marker = json.loads((tmp_path / "provinces" / code / MARKER).read_text(encoding="utf-8"))
        assert marker["status"] == "ok" and marker["province_code"] == code and marker["options"]["draws"] == 0


def test_a_rerun_resumes_from_what_is_done(tmp_path: Path) -> None:
    sweep(tmp_path, "12", job=fake_job, processes=False)
    assert CALLS == ["12"]
    r = sweep(tmp_path, "12,46", job=fake_job, processes=False)
    assert CALLS == ["12", "46"]  # 12 was not run again
    assert r.skipped == ("12",)
    assert r.provinces["status"].tolist() == ["ok", "ok"]
    # a damaged marker is not a complete result: the province runs again
    (tmp_path / "provinces" / "46" / MARKER).write_text("{not json", encoding="utf-8")
    r = sweep(tmp_path, "12,46", job=fake_job, processes=False)
    assert CALLS == ["12", "46", "46"] and r.skipped == ("12",)


def test_a_failed_province_is_reported_and_the_rest_complete(tmp_path: Path) -> None:
    r = sweep(tmp_path, "12,46", job=failing_job, workers=2, processes=False)
    assert r.failed == ["46"]
    prov = pd.read_csv(tmp_path / "national_provinces.csv", dtype={"province_code": str}, encoding="utf-8-sig")
    failed = prov.set_index("province_code").loc["46"]
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: forced failure"
    assert prov.set_index("province_code").loc["12", "status"] == "ok"
    assert not (tmp_path / "provinces" / "46" / MARKER).exists()
    units = pd.read_csv(tmp_path / "national_units.csv", dtype={"code": str}, encoding="utf-8-sig")
    assert units["code"].tolist() == ["12001", "12002"]
    report = (tmp_path / "national_report.html").read_text(encoding="utf-8")
    assert "RuntimeError: forced failure" in report and "1 / 2" in report
    # the next sweep retries the failed province only
    CALLS.clear()
    r = sweep(tmp_path, "12,46", job=fake_job, processes=False)
    assert CALLS == ["46"] and r.failed == []


def test_province_task_records_a_failure_without_raising(tmp_path: Path) -> None:
    rec = province_task("46", tmp_path, SweepOptions(), failing_job)
    assert rec["status"] == "failed" and rec["error"].startswith("RuntimeError")
    assert "forced failure" in rec["traceback"]


def test_the_national_map_is_self_contained_and_coloured_by_the_gap(tmp_path: Path) -> None:
    def real_codes_job(code: str, folder: Path, options: SweepOptions) -> dict[str, Any]:
        from pointplan import load_units

        u = load_units(code)[["name", "kind", "population", "population_source"]].reset_index()
        u["coverage_share"] = 1.0
        u.loc[0, "coverage_share"] = 0.0  # the first unit: everyone beyond the standard
        u.to_csv(folder / "units.csv", index=False, encoding="utf-8-sig")
        return {"population": float(u["population"].sum())}

    sweep(tmp_path, "12", job=real_codes_job, processes=False)
    page = (tmp_path / "national_map.html").read_text(encoding="utf-8")
    assert not re.search(r'<(script|link)[^>]*(src|href)="https?://', page)
    assert "Lai Ch\\u00e2u" in page and "#d73027" in page and "#1a9850" in page  # names as JSON escapes
    assert (tmp_path / "national_map.html").stat().st_size < 5_000_000


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not both"):
        sweep(tmp_path, "12", workers=2, scheduler="tcp://127.0.0.1:1", job=fake_job)
    with pytest.raises(InputError, match="positive"):
        sweep(tmp_path, "12", workers=0, job=fake_job)
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        sweep(tmp_path / "f", "12", job=fake_job)
    with pytest.raises(InputError, match="Unknown province"):
        sweep(tmp_path, "Atlantis", job=fake_job)
    assert CALLS == []


@pytest.mark.slow
def test_a_real_sweep_of_two_small_provinces(tmp_path: Path) -> None:
    """The library's run for Lai Châu and Huế on a local cluster of 2 workers, with draws."""
    import pointplan

    r = sweep(tmp_path, "lai-chau,46", workers=2, processes=False, options=SweepOptions(draws=3, add=2))
    assert r.failed == [], r.records
    prov = pd.read_csv(tmp_path / "national_provinces.csv", dtype={"province_code": str}, encoding="utf-8-sig")
    units = pd.read_csv(
        tmp_path / "national_units.csv", dtype={"code": str, "province_code": str}, encoding="utf-8-sig"
    )
    assert prov["province_code"].tolist() == ["12", "46"]
    assert units.groupby("province_code").size().to_dict() == {"12": 38, "46": 40}
    for row in prov.itertuples():
        official = pointplan.load_units(row.province_code)
        assert row.population == pytest.approx(official["population"].sum())
        assert row.units_population_estimated == (official["population_source"] == "worldpop_estimate").sum()
        # the province's figure is its run's headline (P50 of the draws of the whole province);
        # the units' P50s need not add up to it, the figures at the stand-ins do
        summary = json.loads((tmp_path / "provinces" / row.province_code / "summary.json").read_text(encoding="utf-8"))
        share = summary["population_within_standard_share"]
        assert row.population_beyond_standard == pytest.approx(row.population * (1 - share), rel=1e-9)
        assert row.population_beyond_standard_p5 <= row.population_beyond_standard <= row.population_beyond_standard_p95
        assert row.lscp_status == "optimal" and row.lscp_points_needed == row.lscp_bound
        assert (row.lscp_points_needed == 0) == (row.population_beyond_standard < 1e-6)
        assert row.mean_minutes_p5 <= row.mean_minutes_p95 and row.p90_minutes_p5 <= row.p90_minutes_p95
    for code in ("12", "46"):
        assert (tmp_path / "provinces" / code / "map.html").is_file()
        assert (tmp_path / "provinces" / code / MARKER).is_file()
    assert "Lai Ch\\u00e2u" in (tmp_path / "national_map.html").read_text(encoding="utf-8")
