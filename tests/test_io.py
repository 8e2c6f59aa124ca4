from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pointplan
from pointplan import OutputError
from pointplan.io import atomic_path, write_table


def test_scenario_roundtrip(tmp_path, units, points) -> None:
    path = tmp_path / "scenario.gpkg"
    pointplan.write_scenario(path, units, points)
    u2, p2 = pointplan.read_scenario(path)
    assert list(u2.index) == list(units.index)
    assert (u2["population"] == units["population"]).all()
    assert u2.geometry.geom_equals_exact(units.geometry, 1e-9).all()
    assert list(p2.index) == list(points.index)
    for col in ("kind", "unit_code", "location_precision", "address"):
        assert (p2[col] == points[col]).all(), col
    assert p2.loc["CN07", "counters"] == 11
    assert p2.geometry.geom_equals_exact(points.geometry, 1e-9).all()
    assert not list(tmp_path.glob(".*tmp*"))


def test_csv_has_bom_and_vietnamese(tmp_path) -> None:
    df = pd.DataFrame({"tên": ["Phường Hoàn Kiếm"], "số": [1]})
    p = write_table(df, tmp_path / "t.csv")
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Phường Hoàn Kiếm" in raw.decode("utf-8-sig")
    x = write_table(df, tmp_path / "t.xlsx")
    assert pd.read_excel(x).iloc[0, 0] == "Phường Hoàn Kiếm"


def test_interrupted_write_keeps_previous_file(tmp_path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("previous", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_refuses_to_overwrite_an_input(tmp_path) -> None:
    inp = tmp_path / "points.csv"
    inp.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="one of the inputs"):
        write_table(pd.DataFrame({"a": [1]}), inp, inputs=[inp])
    assert inp.read_text(encoding="utf-8") == "x"


def test_refuses_folder_and_unwritable(tmp_path, monkeypatch) -> None:
    with pytest.raises(OutputError, match="folder"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path)
    # A folder's parent that is a file: the folder cannot be made (true even for root).
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write_table(pd.DataFrame({"a": [1]}), blocker / "sub" / "t.csv")
    # No write permission (root ignores folder modes, so the check is simulated).
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr("pointplan.io.os.access", lambda path, mode: Path(path) != ro)
    with pytest.raises(OutputError, match="permission"):
        write_table(pd.DataFrame({"a": [1]}), ro / "t.csv")
    assert not list(ro.iterdir())
