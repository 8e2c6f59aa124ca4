from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shapely

import pointplan
from pointplan import DataIntegrityError, DataNotFoundError, settings
from pointplan.data import DATASETS, data_dirs, data_file, data_status, load_old_to_new


def test_units_match_official_figures(units) -> None:
    assert len(units) == 126
    assert units.crs.to_epsg() == 4326
    assert units.index.name == "code"
    assert units["kind"].value_counts().to_dict() == {"xa": 75, "phuong": 51}
    assert int(units["population"].sum()) == 8_807_523
    assert units.index.str.fullmatch(r"\d{5}").all()
    assert units.loc["00070", "full_name"] == "Phường Hoàn Kiếm"
    assert units.geometry.is_valid.all()
    for col in ("name", "full_name", "kind", "area_km2", "population", "hq_address", "merged_from"):
        assert col in units.columns


def test_units_are_normalised_to_one_tone_convention(units) -> None:
    # The source spells "Ứng Hoà"; the loader uses the new convention.
    assert "Ứng Hòa" in set(units["name"])
    assert not units["name"].str.contains(r"[oO][àáảãạ]\b|[uU][ỳýỷỹỵ]\b", regex=True).any()


def test_units_area_close_to_official(units) -> None:
    drawn = units.geometry.to_crs(settings.projected_crs).area / 1e6
    rel = (drawn - units["area_km2"]).abs() / units["area_km2"]
    # The data README lists two known exceptions; all others are within 5 %.
    off = set(units.loc[rel > 0.05, "name"])
    assert off == {"Yên Xuân", "Hòa Lạc"}


def test_units_do_not_overlap(units) -> None:
    proj = units.geometry.to_crs(settings.projected_crs)
    total = proj.area.sum()
    union = shapely.union_all(proj.values).area
    assert abs(total - union) / union < 1e-4


def test_load_units_returns_independent_copies() -> None:
    a = pointplan.load_units()
    a.loc["00070", "population"] = -1
    assert pointplan.load_units().loc["00070", "population"] == 105301


def test_boundary_and_mapping() -> None:
    outline = pointplan.load_boundary()
    area_km2 = outline.to_crs(settings.projected_crs).area.sum() / 1e6
    assert area_km2 == pytest.approx(3359.84, rel=0.01)
    m = load_old_to_new()
    assert len(m) == 794
    assert m["old_ward_code"].str.fullmatch(r"\d{5}").all()


def test_data_status_lists_every_dataset() -> None:
    st = data_status()
    assert set(st["key"]) == set(DATASETS)
    assert (st["status"] == "ok").all()


def test_env_var_is_searched_first(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("POINTPLAN_DATA_DIR", str(tmp_path))
    assert data_dirs()[0] == tmp_path.resolve()


def test_missing_file_names_file_and_folders(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("pointplan.data.data_dirs", lambda: [tmp_path / "nowhere"])
    with pytest.raises(DataNotFoundError) as err:
        data_file("units")
    text = str(err.value)
    assert "hanoi/units_2025.geojson" in text
    assert str(tmp_path / "nowhere") in text
    assert "POINTPLAN_DATA_DIR" in text
    assert isinstance(err.value, FileNotFoundError)


def _copy_to(tmp_path: Path, key: str) -> Path:
    src = data_file(key)
    dst = tmp_path / DATASETS[key].relpath
    dst.parent.mkdir(parents=True)
    shutil.copy(src, dst)
    dst.chmod(0o644)
    return dst


def test_altered_file_is_reported(tmp_path, monkeypatch) -> None:
    dst = _copy_to(tmp_path, "known_sites")
    raw = bytearray(dst.read_bytes())
    raw[100] = ord("X") if raw[100] != ord("X") else ord("Y")
    dst.write_bytes(bytes(raw))
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    with pytest.raises(DataIntegrityError, match="altered: sha256"):
        data_file("known_sites")
    # The user can deliberately accept a newer version.
    monkeypatch.setattr(settings, "verify_checksums", False)
    assert data_file("known_sites") == dst.resolve()


def test_truncated_file_is_reported(tmp_path, monkeypatch) -> None:
    dst = _copy_to(tmp_path, "known_sites")
    dst.write_bytes(dst.read_bytes()[:1000])
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    with pytest.raises(DataIntegrityError, match="truncated"):
        data_file("known_sites")
    assert data_status().set_index("key").loc["known_sites", "status"] == "corrupt"


def test_repository_holds_the_data_once_and_stays_lean() -> None:
    """The reference data is tracked in data/ only (one copy), and the repository stays lean."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    files = [root / f for f in tracked if f and (root / f).is_file()]
    sizes = {ds.size for ds in DATASETS.values() if ds.size > 20000}
    copies = [f for f in files if f.stat().st_size in sizes and f.parts[len(root.parts)] != "data"]
    assert copies == [], f"copies of reference data outside data/: {copies}"
    registered = {root / "data" / ds.relpath for ds in DATASETS.values()}
    assert registered <= set(files), "every registered dataset is committed in data/"
    total_mb = sum(f.stat().st_size for f in files) / 1e6
    # Hanoi's data (~16 MB), the national units (16.6 MB) and the code: lean, with room to spare.
    assert total_mb < 40, f"the repository holds {total_mb:.1f} MB"


# --- every province (issue 28) ------------------------------------------------------------


def test_hanoi_is_the_default_and_unchanged_but_says_where_its_populations_come_from(units) -> None:
    assert pointplan.load_units("Hà Nội").equals(units)
    assert pointplan.load_units(1).index.equals(units.index)
    corrected = units.index[units["population_corrected"]]
    assert len(corrected) == 8
    assert (units.loc[corrected, "population_source"] == "official_corrected").all()
    assert (units.drop(corrected)["population_source"] == "official").all()
    # Hanoi's own figures are kept: Xuân Mai's corrected 67,310, not a WorldPop estimate.
    assert units.loc["10045", "population"] == 67_310


def test_a_province_loads_in_hanois_schema() -> None:
    th = pointplan.load_units("Thanh Hoá")
    assert len(th) == 166 and th.crs.to_epsg() == 4326 and th.index.name == "code"
    assert th.attrs["province_code"] == "38"
    assert set(th["kind"]) <= {"xa", "phuong", "dac_khu"}
    for col in ("name", "full_name", "kind", "area_km2", "population", "population_source", "hq_address", "geometry"):
        assert col in th.columns
    assert th.index.str.fullmatch(r"\d{5}").all()
    assert th.geometry.is_valid.all()
    # a known unit: Phường Hạc Thành, the provincial capital's ward
    row = th[th["full_name"] == "Phường Hạc Thành"].iloc[0]
    assert row["name"] == "Hạc Thành" and row["kind"] == "phuong"
    assert row["hq_address"] != ""


def test_every_province_loads_with_its_unit_count_and_populations_sum_consistently() -> None:
    from pointplan.provinces import PROVINCES

    total_units, kinds = 0, {}
    for p in PROVINCES:
        u = pointplan.load_units(p.code)
        assert len(u) == p.units
        assert (u["population"] >= 0).all()
        total_units += len(u)
        for k, n in u["kind"].value_counts().items():
            kinds[k] = kinds.get(k, 0) + int(n)
    # the figures of the data's README: 3,321 units, 2,621 xã, 687 phường, 13 đặc khu
    assert total_units == 3321
    assert kinds == {"xa": 2621, "phuong": 687, "dac_khu": 13}


def test_special_zone_names_drop_their_prefix() -> None:
    qn = pointplan.load_units("quang-ninh")
    van_don = qn.loc["06994"]
    assert van_don["full_name"] == "Đặc khu Vân Đồn" and van_don["name"] == "Vân Đồn"
    assert van_don["kind"] == "dac_khu"
    # no official figure: a WorldPop estimate, flagged missing
    assert van_don["population_source"] == "worldpop_estimate" and van_don["population_flag"] == "missing"
    assert van_don["population"] > 0


def test_a_damaged_national_file_is_reported(tmp_path, monkeypatch) -> None:
    target = tmp_path / "vietnam"
    target.mkdir()
    (target / "units_2025_vn.gpkg").write_bytes(b"x" * 10)
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    with pytest.raises((DataIntegrityError, DataNotFoundError)):
        pointplan.load_units("38")
