"""The review loop: review file → a person's edits → the points' coordinates (``reviewed``).

Also the ``pointplan geocode`` command end to end against the fake Nominatim, and
``pointplan info`` counting geocoded, reviewed and stand-in points.
"""

from __future__ import annotations

import pandas as pd
import pytest

import pointplan
from fake_nominatim import FakeNominatim
from pointplan import settings
from pointplan.cli import main
from pointplan.geocode import Candidate, apply_review, read_review, write_points_csv, write_review
from pointplan.io import write_table

# Points of the fixture (each unit's point_on_surface, see tests/geocode_fixtures).
HOAN_KIEM = (105.849724, 21.032568)  # 00070
CAU_GIAY = (105.790252, 21.029979)  # 00166
BA_DINH = (105.836365, 21.039432)  # 00004
TAY_HO = (105.818433, 21.062052)  # 00103


def _cand(lonlat: tuple[float, float], precision: str, unit: str, inside: bool) -> Candidate:
    return Candidate(*lonlat, precision, f"a {precision}", "building/yes", inside=inside, distance_m=0.0, in_unit=unit)


def _table() -> pd.DataFrame:
    """A geocoding table as geocode_addresses returns it, for four head offices."""
    rows = [
        (
            "DP00070",
            "00070",
            "accepted",
            2,
            HOAN_KIEM,
            [_cand(CAU_GIAY, "house", "00166", False), _cand(HOAN_KIEM, "house", "00070", True)],
        ),
        (
            "DP00004",
            "00004",
            "accepted",
            2,
            BA_DINH,
            [_cand(TAY_HO, "house", "00103", False), _cand(BA_DINH, "street", "00004", True)],
        ),
        ("DP00166", "00166", "no_match", None, None, []),
        ("DP00103", "00103", "accepted", 1, TAY_HO, [_cand(TAY_HO, "house", "00103", True)]),
    ]
    return pd.DataFrame(
        {
            "point_id": [r[0] for r in rows],
            "kind": "unit_point",
            "name": "Điểm Phục vụ hành chính công",
            "address": "Số 1 phố Hàng Trống, phường Hoàn Kiếm",
            "unit_code": [r[1] for r in rows],
            "unit_name": "",
            "status": [r[2] for r in rows],
            "reviewed": "",
            "chosen": [r[3] for r in rows],
            "lon": [r[4][0] if r[4] else None for r in rows],
            "lat": [r[4][1] if r[4] else None for r in rows],
            "match_precision": "house",
            "reason": "",
            "service": "http://127.0.0.1",
            "date": "2025-11-01T00:00:00+00:00",
            "candidates": [r[5] for r in rows],
        }
    )


def _edit(path, edits: dict[str, dict[str, str]]) -> None:
    """Edit the review file as a person would (cell by cell) and save it as Excel does."""
    df = read_review(path)
    for pid, cells in edits.items():
        line = df.index[df["point_id"] == pid][0]
        for col, value in cells.items():
            df.loc[line, col] = value
    write_table(df, path)


def test_review_file_is_excel_ready(tmp_path) -> None:
    path = tmp_path / "review.csv"
    write_review(_table(), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to show Vietnamese
    text = raw.decode("utf-8-sig")
    assert "Điểm Phục vụ hành chính công" in text
    df = read_review(path)
    assert list(df.index) == [2, 3, 4, 5]  # line numbers in the file
    assert df.loc[2, "candidate_1"].startswith("house | lon=105.7902520 lat=21.0299790 | REJECTED")
    assert df.loc[2, "candidate_2"].startswith("* house | lon=105.8497240 lat=21.0325680 | inside")
    assert (df.loc[2, "chosen"], df.loc[4, "chosen"], df.loc[4, "candidate_1"]) == ("2", "", "")


def test_reviewed_rows_become_the_points_coordinates(tmp_path, points, units) -> None:
    path = tmp_path / "review.csv"
    write_review(_table(), path)
    _edit(
        path,
        {
            "DP00070": {"reviewed": "x"},  # accept the choice
            "DP00004": {"reviewed": "Có", "chosen": "1"},  # pick another candidate (in Tây Hồ: fails)
            "DP00166": {"reviewed": "yes", "lon": "105,7903", "lat": "21,0300"},  # typed in, decimal commas
            "DP00103": {"chosen": "1"},  # not marked: left alone
        },
    )
    out = apply_review(path, points, units=units)
    rep = out.attrs["review"]
    assert rep["applied"] == ["DP00070", "DP00166"] and rep["not_marked"] == 1
    (problem,) = rep["problems"]
    assert problem["line"] == 3 and problem["point_id"] == "DP00004"
    assert "outside Phường Ba Đình (in Phường Tây Hồ)" in problem["problem"]
    assert (out.loc["DP00070"].geometry.x, out.loc["DP00070"].geometry.y) == HOAN_KIEM
    assert (out.loc["DP00166"].geometry.x, out.loc["DP00166"].geometry.y) == (105.7903, 21.03)
    assert out.loc[["DP00070", "DP00166"], "location_precision"].tolist() == ["reviewed", "reviewed"]
    assert (
        out.loc["DP00070", "unit_code"] == "00070"
        and "reviewed in review.csv (candidate 2)" in out.loc["DP00070", "source"]
    )
    assert "coordinates typed in" in out.loc["DP00166", "source"]
    for pid in ("DP00004", "DP00103"):  # the failing and the unmarked rows: untouched
        assert out.loc[pid].geometry.equals(points.loc[pid].geometry)
        assert out.loc[pid, "location_precision"] == points.loc[pid, "location_precision"]
    # the points file the rest of pointplan reads
    back = pointplan.read_points(write_points_csv(out, tmp_path / "pts.csv"), units=units)
    assert back.loc["DP00070", "location_precision"] == "reviewed" and len(back) == len(points)
    assert (back.loc["DP00166"].geometry.x, back.loc["DP00166"].geometry.y) == (105.7903, 21.03)


def test_picking_another_candidate_without_touching_lon_lat(tmp_path, points, units) -> None:
    table = _table()
    # a second candidate for Tây Hồ that is also inside Tây Hồ
    table.at[3, "candidates"] = [*table.at[3, "candidates"], _cand((105.8185, 21.0621), "street", "00103", True)]
    path = tmp_path / "review.csv"
    write_review(table, path)
    _edit(path, {"DP00103": {"reviewed": "ok", "chosen": "2"}})
    out = apply_review(path, points, units=units)
    assert out.attrs["review"]["applied"] == ["DP00103"]
    assert (out.loc["DP00103"].geometry.x, out.loc["DP00103"].geometry.y) == (105.8185, 21.0621)


def _east_of_unit(units, code: str, metres: float) -> tuple[float, float]:
    """A point `metres` east of the unit's easternmost vertex: exactly that far from the unit."""
    import geopandas as gpd
    import shapely

    geom = units.loc[[code]].to_crs(32648).geometry.iloc[0]
    coords = shapely.get_coordinates(geom)
    x, y = coords[coords[:, 0].argmax()]
    pt = gpd.GeoSeries([shapely.Point(x + metres, y)], crs=32648).to_crs(4326).iloc[0]
    return round(pt.x, 7), round(pt.y, 7)


@pytest.mark.parametrize(
    ("cells", "fragment"),
    [
        pytest.param({"lon": "abc", "lat": "21.03"}, "lon 'abc' is not a number", id="not-a-number"),
        pytest.param({"lon": "21.0325", "lat": "105.8497"}, "look swapped", id="swapped"),
        pytest.param({"lon": "100.5", "lat": "13.75"}, "outside Vietnam", id="bangkok"),
        pytest.param({"lon": "105.8497", "lat": ""}, "give both lon and lat", id="only-lon"),
        pytest.param({"lon": "", "lat": "", "chosen": ""}, "no coordinates", id="nothing"),
        pytest.param({"lon": "", "lat": "", "chosen": "7"}, "no candidate_7", id="no-such-candidate"),
        pytest.param({"lon": "nan", "lat": "21.03"}, "not a finite number", id="nan"),
        pytest.param({"unit_code": "99999"}, "not a unit of Hà Nội", id="unknown-unit"),
        pytest.param({"point_id": "DP12345"}, "not one of the points", id="unknown-point"),
        pytest.param(
            {"lon": str(CAU_GIAY[0]), "lat": str(CAU_GIAY[1])},
            "outside Phường Hoàn Kiếm (in Phường Cầu Giấy)",
            id="other-unit",
        ),
    ],
)
def test_bad_review_rows_are_reported_by_line_and_not_applied(cells, fragment, tmp_path, points, units) -> None:
    path = tmp_path / "review.csv"
    write_review(_table(), path)
    _edit(path, {"DP00070": {"reviewed": "x", **cells}, "DP00103": {"reviewed": "x"}})
    out = apply_review(path, points, units=units)
    rep = out.attrs["review"]
    (problem,) = rep["problems"]
    assert problem["line"] == 2 and fragment in problem["problem"]
    assert rep["applied"] == ["DP00103"]  # the good row is still applied
    assert out.loc["DP00070"].geometry.equals(points.loc["DP00070"].geometry)
    assert out.loc["DP00070", "location_precision"] == points.loc["DP00070", "location_precision"]  # unchanged


def test_edge_tolerance(tmp_path, points, units) -> None:
    """50 m outside the unit's edge is accepted (tolerance 100 m); 300 m is not."""
    path = tmp_path / "review.csv"
    write_review(_table(), path)
    near, far = _east_of_unit(units, "00103", 50.0), _east_of_unit(units, "00070", 300.0)
    _edit(
        path,
        {
            "DP00103": {"reviewed": "x", "lon": str(near[0]), "lat": str(near[1])},
            "DP00070": {"reviewed": "x", "lon": str(far[0]), "lat": str(far[1])},
        },
    )
    rep = apply_review(path, points, units=units).attrs["review"]
    assert rep["applied"] == ["DP00103"]
    assert (
        rep["problems"][0]["point_id"] == "DP00070"
        and "0.30 km outside Phường Hoàn Kiếm" in rep["problems"][0]["problem"]
    )


def test_review_file_without_its_columns_is_refused(tmp_path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("point_id,lon\nDP00070,105.8\n", encoding="utf-8")
    with pytest.raises(pointplan.MissingColumnError, match=r"lacks the column\(s\) \['unit_code', 'reviewed'"):
        apply_review(path)


# --- the command line, end to end against the fake Nominatim ----------------------------


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(settings, "geocode_min_interval_s", 0.0)
    monkeypatch.setattr(settings, "geocode_backoff_s", 0.01)
    monkeypatch.setattr(settings, "geocode_timeout_s", 0.4)
    monkeypatch.setattr(settings, "geocode_max_retries", 1)
    with FakeNominatim.from_fixture("nominatim_cases.json") as server:
        yield server


def test_cli_geocode_review_apply_info(fake, tmp_path, points, units, capsys) -> None:
    pts_file = write_points_csv(points.loc[["DP00070", "DP00004", "DP00082", "CN02"]], tmp_path / "mine.csv")
    review = tmp_path / "review.csv"
    args = ["geocode", "--points", str(pts_file), "--out", str(review), "--service-url", fake.url]
    assert main([*args, "--allow-downloads"]) == 0
    out = capsys.readouterr().out
    assert "accepted 2, rejected 0, no_match 2, failed 0, offline 0, invalid 0, kept 0, requests 7" in out
    df = read_review(review).set_index("point_id")
    assert df.loc["DP00070", "status"] == "accepted" and df.loc["DP00070", "chosen"] == "2"
    assert df.loc["DP00082", "status"] == "no_match"
    assert df.loc["CN02", "status"] == "no_match"  # "85 Dịch Vọng Hậu": the fake knows nothing
    assert all(r["headers"]["User-Agent"].startswith("pointplan/") for r in fake.requests)

    # a person accepts DP00070 and types CN02's coordinates in
    _edit(review, {"DP00070": {"reviewed": "x"}, "CN02": {"reviewed": "x", "lon": "105.7835", "lat": "21.0302"}})
    n = len(fake.requests)
    # a later automatic run keeps the reviewed rows and geocodes only the two others (from the cache)
    assert main([*args, "--allow-downloads"]) == 0
    out = capsys.readouterr().out
    assert "(4 addresses, 2 reviewed rows kept)" in out
    assert "accepted 1, rejected 0, no_match 1, failed 0, offline 0, invalid 0, kept 0, requests 0" in out
    assert len(fake.requests) == n
    again = read_review(review).set_index("point_id")
    assert again.loc["CN02", ["reviewed", "lon", "lat"]].tolist() == ["x", "105.7835", "21.0302"]

    # --apply writes the points file read_points reads; info counts reviewed points
    reviewed_pts = tmp_path / "reviewed.csv"
    code = main(["geocode", "--apply", str(review), "--points", str(pts_file), "--points-out", str(reviewed_pts)])
    assert code == 0
    back = pointplan.read_points(reviewed_pts, units=units)
    before = pointplan.read_points(pts_file, units=units)["location_precision"].tolist()
    assert back["location_precision"].tolist() == ["reviewed", before[1], before[2], "reviewed"]
    assert back.loc["CN02", "unit_code"] == "00166"
    capsys.readouterr()
    assert main(["info", "--points", str(reviewed_pts)]) == 0
    assert "geocoded 0, reviewed 2, surveyed 0, stand-ins 2 of 4" in capsys.readouterr().out


def test_cli_apply_reports_failing_rows(tmp_path, points, capsys) -> None:
    review = tmp_path / "review.csv"
    write_review(_table(), review)
    _edit(review, {"DP00070": {"reviewed": "x", "lon": "21.03", "lat": "105.85"}})
    assert main(["geocode", "--apply", str(review)]) == 1
    err = capsys.readouterr().err
    assert "review.csv line 2 (DP00070): lon=21.03, lat=105.85: lon and lat look swapped" in err
    assert (tmp_path / "review_points.csv").is_file()


def test_cli_geocode_offline_without_cache_says_how(tmp_path, capsys) -> None:
    pts = tmp_path / "one.csv"
    pts.write_text(
        "point_id,name,address,location_precision,lon,lat\n"
        "A,A,Số 2 phố Hà Cầu,unit_representative_point,105.7779,20.9743\n",
        encoding="utf-8",
    )
    assert main(["geocode", "--points", str(pts), "--out", str(tmp_path / "r.csv")]) == 2
    assert "--allow-downloads" in capsys.readouterr().err
    assert main(["geocode", "--out", "x.csv", "--service-url", "ftp://example.org"]) == 2
