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
    assert total_mb < 25, f"the repository holds {total_mb:.1f} MB"
