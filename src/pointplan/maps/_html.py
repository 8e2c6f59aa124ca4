"""Safe text, JSON and GeoJSON for map pages, and the checks of the frames drawn.

All text that comes from data (names, addresses, notes, sources) is HTML-escaped before it
reaches a tooltip, popup or legend, and the embedded data is JSON-encoded so that it cannot
end the ``<script>`` it sits in: a point named ``<script>alert(1)</script>`` shows as text.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pointplan._errors import CRSError, GeometryError, InputError, MissingColumnError

#: Decimals of the coordinates embedded in a page (1e-5 degree is about 1 m in Hanoi).
COORD_DECIMALS = 5


def is_missing(value: object) -> bool:
    """Tell whether a value is missing (None, NaN, NA).

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0), is_missing("")
    (True, True, False, False)

    """
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def esc(value: object) -> str:
    """Escape data text for HTML, and for JavaScript template literals as well.

    Examples
    --------
    >>> esc("<b>Hà Nội</b> `${x}`")
    '&lt;b&gt;Hà Nội&lt;/b&gt; &#96;&#36;{x}&#96;'
    >>> esc(None)
    ''

    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def esc_many(values: Any) -> list[str]:
    """Escape many values at once (:func:`esc` of each), each distinct text once.

    Examples
    --------
    >>> esc_many(["<b>", None, "<b>", 3, float("nan")])
    ['&lt;b&gt;', '', '&lt;b&gt;', '3', '']

    """
    texts = as_str(pd.Series(list(values), dtype=object))
    codes, uniques = pd.factorize(texts)
    return np.array([esc(t) for t in uniques], dtype=object)[codes].tolist() if len(codes) else []


def script_json(obj: object) -> str:
    r"""Encode strict JSON for inclusion inside ``<script>``: it can never close the script element.

    Examples
    --------
    >>> script_json({"a": "</script>"})
    '{"a":"\\u003c/script\\u003e"}'

    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, safe in (("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, safe)
    return text


def table_html(rows: Sequence[tuple[str, str]], title: str | None = None) -> str:
    """Rows of (label, value) as an HTML table; both parts must already be escaped.

    Rows with an empty value are left out.

    Examples
    --------
    >>> table_html([("Mã", "00001"), ("Tên", "")], "A")
    '<b>A</b><table><tr><td>Mã</td><td>00001</td></tr></table>'

    """
    head = f"<b>{title}</b>" if title else ""
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows if v != "")
    return f"{head}<table>{body}</table>" if body else head


def table_html_many(rows: Sequence[tuple[str, Sequence[str]]], titles: Sequence[str]) -> list[str]:
    """Many tables at once: :func:`table_html` of each item, built column by column.

    ``rows`` holds (label, values) pairs, one value per table; all parts already escaped.

    Examples
    --------
    >>> table_html_many([("Mã", ["00001", "00002"]), ("Tên", ["", "B"])], ["A", ""])
    ['<b>A</b><table><tr><td>Mã</td><td>00001</td></tr></table>', \
'<table><tr><td>Mã</td><td>00002</td></tr><tr><td>Tên</td><td>B</td></tr></table>']

    """
    head = np.array([f"<b>{t}</b>" if t else "" for t in titles], dtype=object)
    body = np.full(len(head), "", dtype=object)
    for label, values in rows:
        vals = np.asarray(values, dtype=object)
        body = body + np.where(vals != "", f"<tr><td>{label}</td><td>" + vals + "</td></tr>", "")
    return np.where(body != "", head + "<table>" + body + "</table>", head).tolist()


def features(geoms: Any, props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection from EPSG:4326 geometries and property dicts.

    Coordinates are rounded to :data:`COORD_DECIMALS` decimals.

    Examples
    --------
    >>> fc = features([shapely.Point(105.8512345, 21.0287654)], [{"_id": "P1"}])
    >>> fc["features"][0]["geometry"]
    {'type': 'Point', 'coordinates': [105.85123, 21.02877]}

    """
    arr = np.asarray(geoms, dtype=object)
    if (
        len(arr) and (shapely.get_type_id(arr) == 0).all() and not shapely.has_z(arr).any()
    ):  # points: no JSON round trip
        xy = np.round(shapely.get_coordinates(arr), COORD_DECIMALS).tolist()
        feats = [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": c}, "properties": p}
            for c, p in zip(xy, props, strict=True)
        ]
        return {"type": "FeatureCollection", "features": feats}
    rounded = shapely.transform(arr, lambda xy: np.round(xy, COORD_DECIMALS))
    texts = shapely.to_geojson(rounded)
    feats = [{"type": "Feature", "geometry": json.loads(t), "properties": p} for t, p in zip(texts, props, strict=True)]
    return {"type": "FeatureCollection", "features": feats}


def check_frame(
    gdf: object, what: str, *, types: tuple[str, ...], columns: Sequence[str] = (), nonempty: bool = False
) -> gpd.GeoDataFrame:
    """Check that ``gdf`` is a GeoDataFrame with a CRS, the columns and geometry types needed.

    Raises
    ------
    InputError, CRSError, MissingColumnError, GeometryError
        Naming what is wrong and how to fix it.

    Examples
    --------
    >>> gdf = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    >>> len(check_frame(gdf, "points", types=("Point",), columns=("name",)))
    1
    >>> check_frame(gdf, "points", types=("Point",), columns=("kind",))
    Traceback (most recent call last):
    ...
    pointplan._errors.MissingColumnError: points lacks the column(s) ['kind']; it has ['name', 'geometry'].

    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{what} must be a GeoDataFrame, got {type(gdf).__name__}."
        raise InputError(msg)
    if nonempty and len(gdf) == 0:
        msg = f"{what} has no rows: there is nothing to draw."
        raise InputError(msg)
    if gdf.crs is None:
        msg = f"{what} has no CRS: set it first, e.g. gdf.set_crs('EPSG:4326')."
        raise CRSError(msg)
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        msg = f"{what} lacks the column(s) {missing}; it has {[str(c) for c in gdf.columns]}."
        raise MissingColumnError(msg)
    geom = gdf.geometry
    bad = geom.isna() | geom.is_empty
    if bad.any():
        msg = f"{what}: rows {list(gdf.index[bad][:8])} have no geometry. Drop them or give them a location first."
        raise GeometryError(msg)
    wrong = ~geom.geom_type.isin(types)
    if wrong.any():
        msg = (
            f"{what} must hold {'/'.join(types)} geometries; rows {list(gdf.index[wrong][:8])} "
            f"are {sorted(set(geom.geom_type[wrong]))}."
        )
        raise GeometryError(msg)
    return gdf


def as_str(series: pd.Series) -> pd.Series:
    """Return the series as text, missing values as ``""``.

    Examples
    --------
    >>> as_str(pd.Series(["a", None, 3])).tolist()
    ['a', '', '3']

    """
    return series.astype(object).where(series.notna(), "").astype(str)


def text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return a column as text (see :func:`as_str`), or ``""`` everywhere if the frame lacks it.

    Examples
    --------
    >>> text_column(pd.DataFrame({"a": [1]}), "b").tolist()
    ['']

    """
    if column in frame:
        return as_str(frame[column])
    return pd.Series("", index=frame.index, dtype=object)


def get(row: pd.Series, col: str) -> object:
    """Return a row's value, or None when the row has no such column.

    Examples
    --------
    >>> get(pd.Series({"a": 1}), "b") is None
    True

    """
    return row[col] if col in row.index else None


def as_list(value: object) -> list[str]:
    """Return a list of codes from a list/array or a comma/semicolon-separated string.

    Examples
    --------
    >>> as_list("00001; 00002,"), as_list(["00003", None]), as_list(None)
    (['00001', '00002'], ['00003'], [])

    """
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        return [str(v) for v in value if not is_missing(v)]
    if is_missing(value):
        return []
    return [s.strip() for s in re.split(r"[,;]", str(value)) if s.strip()]
