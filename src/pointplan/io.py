"""Reading and writing scenarios and tables, atomically.

Every file pointplan writes goes to a temporary file in the same folder first and is then
moved into place with :func:`os.replace`, so an interrupted run never leaves a half-written
file and the previous version survives. Tables are written for Excel users: CSV as UTF-8
*with BOM* (Excel then shows Vietnamese correctly) or ``.xlsx``. Scenarios are GeoPackages
(layers ``units`` and ``points``) that QGIS opens directly.

Examples
--------
>>> import pointplan, tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "scenario.gpkg"
>>> units = pointplan.load_units()
>>> _ = pointplan.write_scenario(out, units, pointplan.load_points("units-only", units=units))
>>> units, points = pointplan.read_scenario(out)
>>> len(units), len(points)
(126, 126)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from pointplan._errors import InputError, OutputError

__all__ = [
    "atomic_path",
    "check_output_path",
    "read_scenario",
    "staged_folder",
    "write_json",
    "write_scenario",
    "write_table",
    "write_text",
]


def check_output_path(path: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Check that ``path`` may be written: not an input, folder writable.

    Parameters
    ----------
    path
        The output file.
    inputs
        Files the run reads; writing over one of them is refused.

    Returns
    -------
    pathlib.Path
        The resolved path.

    Raises
    ------
    OutputError
        The path is an input file, a folder, or its folder is not writable.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_output_path(folder / "new" / "table.csv").parent.is_dir()  # the folder is created
    True
    >>> check_output_path(folder / "in.csv", inputs=[folder / "in.csv"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.OutputError: Refusing to write ...: it is one of the inputs. ...
    """
    p = Path(path).expanduser().resolve()
    for inp in inputs:
        if inp is not None and Path(inp).expanduser().resolve() == p:
            msg = f"Refusing to write {p}: it is one of the inputs. Choose another output path."
            raise OutputError(msg)
    if p.is_dir():
        msg = f"Cannot write {p}: it is a folder."
        raise OutputError(msg)
    parent = p.parent
    blocker = next((a for a in (parent, *parent.parents) if a.exists()), None)
    if blocker is not None and not blocker.is_dir():
        msg = (
            f"Cannot write {p}: {blocker} is a file, not a folder. Choose an output folder that is not (inside) a file."
        )
        raise OutputError(msg)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"Cannot create the output folder {parent}: {exc.strerror}. Choose another folder."
        raise OutputError(msg) from exc
    if not os.access(parent, os.W_OK):
        msg = f"No permission to write in {parent}. Choose an output folder you can write to."
        raise OutputError(msg)
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place on success.

    On an exception (or an interruption) the temporary file is removed and any previous
    ``path`` is left untouched.

    Parameters
    ----------
    path
        The file to write.
    inputs
        Files the run reads; writing over one of them is refused.

    Yields
    ------
    pathlib.Path
        A path in the same folder that does not exist yet: write the file there.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "note.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("xin chào", encoding="utf-8")
    >>> out.read_text(encoding="utf-8")
    'xin chào'
    >>> with atomic_path(out) as tmp:  # an error half-way keeps the old file
    ...     _ = tmp.write_text("half", encoding="utf-8")
    ...     raise OSError("disk full")
    Traceback (most recent call last):
    ...
    OSError: disk full
    >>> out.read_text(encoding="utf-8"), sorted(p.name for p in out.parent.iterdir())
    ('xin chào', ['note.txt'])
    """
    final = check_output_path(path, inputs)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        tmp.replace(final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def staged_folder(out_dir: str | Path, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    r"""Yield a hidden staging folder inside ``out_dir``; move its files into place on success.

    Write a whole set of outputs into the staging folder; they replace the files of the
    same name in ``out_dir`` only when the block ends without an error. On an exception
    or an interruption (Ctrl+C) the staging folder is removed and every previous output
    in ``out_dir`` is left as it was, so a set of outputs is never half old, half new.

    Parameters
    ----------
    out_dir
        The output folder (created if needed).
    inputs
        Files the run reads; an output that would replace one of them is refused before
        anything is moved.

    Yields
    ------
    pathlib.Path
        The staging folder.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> with staged_folder(out) as stage:
    ...     _ = (stage / "a.csv").write_text("x\n1\n")
    ...     _ = (stage / "b.json").write_text("{}")
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv', 'b.json']
    """
    out = check_output_path(Path(out_dir).expanduser() / ".pointplan-write-check", inputs).parent
    stage = Path(tempfile.mkdtemp(prefix=".pointplan-staging-", dir=out))
    try:
        yield stage
        files = sorted(f for f in stage.rglob("*") if f.is_file() and not f.name.startswith("."))
        targets = [out / f.relative_to(stage) for f in files]
        for target in targets:  # refuse before anything is moved
            check_output_path(target, inputs)
        for f, target in zip(files, targets, strict=True):
            f.replace(target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


#: Text a spreadsheet would run as a formula ("=HYPERLINK(...)", "+cmd|..."), unless it
#: is just a signed number or phone number.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBERISH = re.compile(r"^[+-]?[\d\s.,()]*$")


def _defuse_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that Excel would evaluate as formulas with an apostrophe."""
    out = table
    for col in table.columns:
        values = table[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        risky = values.map(
            lambda v: isinstance(v, str) and v.startswith(_FORMULA_START) and not _NUMBERISH.match(v)
        ).astype(bool)
        if risky.any():
            if out is table:
                out = table.copy()
            out[col] = values.astype(object).where(~risky, "'" + values.astype(str))
    return out


def write_text(path: str | Path, text: str, *, inputs: Iterable[str | Path] = ()) -> Path:
    """Write UTF-8 text atomically; return the path.

    Examples
    --------
    >>> import tempfile
    >>> path = write_text(Path(tempfile.mkdtemp()) / "ghi_chu.txt", "Phường Hoàn Kiếm")
    >>> path.read_text(encoding="utf-8")
    'Phường Hoàn Kiếm'
    """
    with atomic_path(path, inputs) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def strict_json(obj: Any) -> Any:
    """Return ``obj`` with every value standard JSON can hold: NaN and ±Infinity become ``None``.

    numpy scalars become Python numbers, tuples and sets lists, ``pd.NA`` ``None``; keys
    become strings. Strict parsers (JavaScript's ``JSON.parse``, most databases) reject the
    ``NaN``/``Infinity`` that Python's :mod:`json` writes by default.

    Parameters
    ----------
    obj
        Nested dicts, lists and scalars.

    Returns
    -------
    object
        The same structure, safe for ``json.dumps(..., allow_nan=False)``.

    Examples
    --------
    >>> import numpy as np
    >>> strict_json({"max": float("inf"), "mean": np.float64(2.5), "ids": (1, 2), "x": float("nan")})
    {'max': None, 'mean': 2.5, 'ids': [1, 2], 'x': None}
    """
    if isinstance(obj, dict):
        return {str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [strict_json(v) for v in obj]
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if obj is pd.NA or obj is pd.NaT:
        return None
    if hasattr(obj, "item") and not isinstance(obj, (int, float)):
        try:
            obj = obj.item()
        except (TypeError, ValueError):
            return str(obj)
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, int):
        return int(obj)
    return _json_default(obj)


def write_json(path: str | Path, obj: Any, *, inputs: Iterable[str | Path] = ()) -> Path:
    """Write strict JSON (UTF-8, Vietnamese kept readable) atomically; return the path.

    Non-finite numbers are written as ``null`` (see :func:`strict_json`), never as the
    non-standard ``NaN``/``Infinity``.

    Examples
    --------
    >>> import tempfile
    >>> path = write_json(Path(tempfile.mkdtemp()) / "s.json", {"tên": "Ba Đình", "max": float("nan")})
    >>> print(path.read_text(encoding="utf-8"))
    {
      "tên": "Ba Đình",
      "max": null
    }
    <BLANKLINE>
    """
    text = json.dumps(strict_json(obj), ensure_ascii=False, indent=2, default=_json_default, allow_nan=False)
    return write_text(path, text + "\n", inputs=inputs)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if obj is pd.NA:
        return None
    return str(obj)


def write_table(
    df: pd.DataFrame,
    path: str | Path,
    *,
    index: bool = False,
    inputs: Iterable[str | Path] = (),
) -> Path:
    r"""Write a table for Excel users: ``.csv`` as UTF-8 with BOM, or ``.xlsx``.

    Geometry columns are dropped (use :func:`write_scenario` or GeoJSON for geodata).
    Text cells that a spreadsheet would evaluate as a formula (starting with ``=``, ``+``,
    ``-`` or ``@`` and not a number) are written with a leading apostrophe, so data is
    never run as code when the table is opened in Excel.

    Parameters
    ----------
    df
        The table.
    path
        ``.csv`` or ``.xlsx``.
    index
        Write the index as a column.
    inputs
        Input files that must not be overwritten.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile
    >>> table = pd.DataFrame({"name": ["Ba Đình", "=HYPERLINK(1)"], "minutes": [12, -3]})
    >>> path = write_table(table, Path(tempfile.mkdtemp()) / "t.csv")
    >>> path.read_bytes()[:3] == b"\xef\xbb\xbf"  # the BOM Excel needs for Vietnamese
    True
    >>> print(path.read_text(encoding="utf-8-sig"))
    name,minutes
    Ba Đình,12
    '=HYPERLINK(1),-3
    <BLANKLINE>
    """
    p = check_output_path(path, inputs)
    table = _defuse_formulas(pd.DataFrame(df.drop(columns="geometry", errors="ignore")))
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        msg = f"Unsupported table format {p.suffix!r} for {p}: use .csv or .xlsx."
        raise InputError(msg)
    with atomic_path(p, inputs) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=index, encoding="utf-8-sig", lineterminator="\r\n")
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                table.to_excel(writer, index=index, sheet_name="pointplan")
    return p


def write_scenario(
    path: str | Path,
    units: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    *,
    extra_layers: dict[str, gpd.GeoDataFrame] | None = None,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Write a scenario to a GeoPackage with layers ``units`` and ``points``.

    Parameters
    ----------
    path
        The ``.gpkg`` file (replaced atomically if it exists).
    units, points
        The frames; indexes are written as columns (``code``, ``point_id``).
    extra_layers
        More layers by name (e.g. ``{"proposals": gdf}``).
    inputs
        Input files that must not be overwritten.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, shapely
    >>> from pointplan.points import validate_points
    >>> units = gpd.GeoDataFrame(
    ...     {"name": ["Phường A"]},
    ...     geometry=[shapely.box(105.80, 21.00, 105.82, 21.02)],
    ...     index=pd.Index(["00001"], name="code"),
    ...     crs="EPSG:4326",
    ... )
    >>> raw = gpd.GeoDataFrame({"name": ["Điểm A"]}, geometry=[shapely.Point(105.81, 21.01)], crs=4326)
    >>> points = validate_points(raw, units=units)
    >>> path = write_scenario(Path(tempfile.mkdtemp()) / "s.gpkg", units, points)
    >>> import pyogrio
    >>> [name for name, _ in pyogrio.list_layers(path)]
    ['units', 'points']
    """
    layers = {"units": units, "points": points, **(extra_layers or {})}
    with atomic_path(path, inputs) as tmp:
        for name, gdf in layers.items():
            frame = gdf.copy()
            if name == "units":
                frame = frame.reset_index(names="code") if "code" not in frame else frame
            else:
                frame = frame.reset_index(drop="point_id" in frame.columns)
            for col in frame.columns:
                if col != "geometry" and frame[col].dtype == object:
                    frame[col] = frame[col].astype("string")
            frame.to_file(tmp, layer=name, driver="GPKG")
    return Path(path)


def read_scenario(path: str | Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a scenario GeoPackage written by :func:`write_scenario`.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        ``(units, points)``: units indexed by ``code``, points validated and indexed by
        ``point_id``.

    Raises
    ------
    InputError
        The file is missing, not a GeoPackage, or lacks the ``units`` or ``points`` layer.

    Examples
    --------
    >>> import tempfile, shapely
    >>> from pointplan.points import validate_points
    >>> units = gpd.GeoDataFrame(
    ...     {"name": ["Phường A"]},
    ...     geometry=[shapely.box(105.80, 21.00, 105.82, 21.02)],
    ...     index=pd.Index(["00001"], name="code"),
    ...     crs="EPSG:4326",
    ... )
    >>> raw = gpd.GeoDataFrame({"name": ["Điểm A"]}, geometry=[shapely.Point(105.81, 21.01)], crs=4326)
    >>> path = write_scenario(Path(tempfile.mkdtemp()) / "s.gpkg", units, validate_points(raw, units=units))
    >>> units2, points2 = read_scenario(path)
    >>> units2.index.tolist(), points2.loc["P0001", ["name", "unit_code"]].tolist()
    (['00001'], ['Điểm A', '00001'])
    """
    import pyogrio

    from pointplan.points import validate_points

    p = Path(path)
    if not p.is_file():
        msg = f"Scenario file {p} does not exist."
        raise InputError(msg)
    try:
        names = {name for name, _ in pyogrio.list_layers(p)}
    except Exception as exc:
        msg = f"{p} is not a readable GeoPackage: {exc}"
        raise InputError(msg) from exc
    missing = {"units", "points"} - names
    if missing:
        msg = f"{p} lacks the layer(s) {sorted(missing)}; it has {sorted(names)}."
        raise InputError(msg)
    units = gpd.read_file(p, layer="units")
    units["code"] = units["code"].astype(str).str.zfill(5)
    units = units.set_index("code")
    points = gpd.read_file(p, layer="points")
    points = validate_points(points, units=units, what=f"points layer of {p.name}")
    return units, points
