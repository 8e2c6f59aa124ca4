"""What the editor shows: unit figures and their colours, headline figures, points, labels.

The page colours units from the bins and colours defined here (sent by ``GET /api/meta``),
so :func:`colour_for` gives, in Python, the exact colour the page paints.

Examples
--------
>>> colour_for("mean_minutes", 3.0), colour_for("coverage_share", 1.0), colour_for("p90_minutes", None)
('#4575b4', '#4575b4', '#bdbdbd')
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan.maps.markers import SHAPES, marker_svg
from pointplan.maps.units import simplify_coverage

__all__ = [
    "HEADLINES",
    "NO_DATA_COLOUR",
    "PALETTE",
    "UNIT_METRICS",
    "UnitMetric",
    "changed_units",
    "colour_for",
    "headline_figures",
    "meta",
    "point_loads",
    "point_records",
    "unit_figures",
    "units_geojson",
    "with_details",
]

#: Six classes of ColorBrewer RdYlBu, best (blue) first.
PALETTE: tuple[str, ...] = ("#4575b4", "#91bfdb", "#e0f3f8", "#fee090", "#fc8d59", "#d73027")
NO_DATA_COLOUR = "#bdbdbd"


@dataclass(frozen=True)
class UnitMetric:
    """A unit figure the page can colour by.

    Parameters
    ----------
    key
        The figure's key in the state (a column of the scenario's units, or a detail).
    label_vi, label_en
        Legend titles.
    fmt
        ``"minutes"``, ``"share"`` or ``"number"``.
    better
        ``"low"`` or ``"high"``: which end is coloured blue.
    breaks
        Five ascending class limits (six classes); a value equal to a limit falls in the upper class.
    detail
        ``True`` when the figure needs a full assessment (computed a moment after a change).

    Examples
    --------
    >>> UNIT_METRICS["mean_minutes"].breaks
    (4.0, 6.0, 8.0, 10.0, 15.0)
    """

    key: str
    label_vi: str
    label_en: str
    fmt: Literal["minutes", "share", "number"]
    better: Literal["low", "high"]
    breaks: tuple[float, float, float, float, float]
    detail: bool = False


UNIT_METRICS: dict[str, UnitMetric] = {
    m.key: m
    for m in (
        UnitMetric("mean_minutes", "Thời gian trung bình đến điểm gần nhất (phút)",
                   "Mean minutes to the nearest point", "minutes", "low", (4.0, 6.0, 8.0, 10.0, 15.0)),
        UnitMetric("p90_minutes", "Thời gian P90 (phút)", "P90 minutes", "minutes", "low",
                   (6.0, 9.0, 12.0, 15.0, 30.0)),
        UnitMetric("coverage_share", "Tỷ lệ dân trong chuẩn (30 phút hoặc 5 km)",
                   "Share of people within the standard", "share", "high", (0.5, 0.8, 0.9, 0.95, 0.999)),
        UnitMetric("walk_share", "Tỷ lệ dân đi bộ ≤ 30 phút", "Share within 30 minutes on foot", "share", "high",
                   (0.2, 0.4, 0.6, 0.8, 0.95), detail=True),
        UnitMetric("visits_per_counter", "Tải: lượt/quầy/ngày", "Load: visits per counter a day", "number", "low",
                   (8.0, 16.0, 24.0, 32.0, 40.0)),
        UnitMetric("time_to_service_minutes", "Đi lại + chờ (phút)", "Travel + wait (minutes)", "minutes", "low",
                   (10.0, 15.0, 20.0, 30.0, 45.0), detail=True),
    )
}  # fmt: skip

#: Headline figures: key → (Vietnamese label, English label, format).
HEADLINES: dict[str, tuple[str, str, str]] = {
    "population_within_standard_share": ("Dân trong chuẩn (30 phút hoặc 5 km)", "People within the standard", "share"),
    "mean_minutes_to_nearest": ("Thời gian TB đến điểm gần nhất", "Mean minutes to the nearest point", "minutes"),
    "p90_minutes_to_nearest": ("Thời gian P90", "P90 minutes", "minutes"),
    "walk_within_minutes_share": ("Dân đi bộ ≤ 30 phút", "People within 30 min on foot", "share"),
    "points": ("Số điểm", "Points", "count"),
    "points_overloaded": ("Điểm quá tải", "Points overloaded", "count"),
    "points_idle": ("Điểm ít việc", "Points idle", "count"),
    "mean_utilisation": ("Mức sử dụng TB", "Mean utilisation", "share"),
}


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def colour_for(metric: str, value: Any) -> str:
    """Return the colour the page paints a unit with ``value`` of ``metric``.

    Parameters
    ----------
    metric
        A key of :data:`UNIT_METRICS`.
    value
        The unit's figure (``None``/NaN: no data).

    Returns
    -------
    str
        A hex colour of :data:`PALETTE`, or :data:`NO_DATA_COLOUR`.

    Examples
    --------
    >>> colour_for("mean_minutes", 6.0), colour_for("coverage_share", 0.85)
    ('#e0f3f8', '#fee090')
    """
    m = UNIT_METRICS[metric]
    v = _finite(value)
    if v is None:
        return NO_DATA_COLOUR
    k = int(np.searchsorted(np.asarray(m.breaks), v, side="right"))
    return PALETTE[k] if m.better == "low" else PALETTE[len(PALETTE) - 1 - k]


def unit_figures(units: pd.DataFrame, details: dict[str, dict[str, float | None]] | None = None) -> dict[str, Any]:
    """Return ``{code: {metric: value}}`` for every unit and every figure known now.

    Parameters
    ----------
    units
        The scenario's units (index = unit code).
    details
        Figures of a full assessment by metric (``walk_share``, ``time_to_service_minutes``).

    Returns
    -------
    dict
        Plain numbers (``None`` for no data), JSON-ready.

    Examples
    --------
    >>> u = pd.DataFrame({"mean_minutes": [4.0, float("nan")]}, index=["00001", "00002"])
    >>> unit_figures(u)["00002"]["mean_minutes"] is None
    True
    """
    cols = [k for k, m in UNIT_METRICS.items() if not m.detail and k in units.columns]
    values = units[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(values)
    out: dict[str, Any] = {
        str(code): {k: (float(v) if good else None) for k, v, good in zip(cols, row, okrow, strict=True)}
        for code, row, okrow in zip(units.index, values, ok, strict=True)
    }
    return with_details(out, details)


def with_details(figures: dict[str, Any], details: dict[str, dict[str, float | None]] | None) -> dict[str, Any]:
    """Return ``figures`` with the figures of a full assessment added (a new dict).

    Examples
    --------
    >>> with_details({"A": {"mean_minutes": 4.0}}, {"walk_share": {"A": 0.5}})
    {'A': {'mean_minutes': 4.0, 'walk_share': 0.5}}
    """
    out = {code: dict(v) for code, v in figures.items()}
    for key, values in (details or {}).items():
        for code, v in values.items():
            out.setdefault(str(code), {})[key] = v
    return out


def point_loads(points: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """Return ``{point_id: {visits, utilisation, load_status}}`` from a frame with the load columns.

    Empty when the frame has none (the points of a scenario, as opposed to an assessment's).

    Examples
    --------
    >>> p = pd.DataFrame({"visits_per_day": [40.0], "utilisation": [0.625], "load_status": ["ok"]}, index=["P1"])
    >>> point_loads(p)
    {'P1': {'visits': 40.0, 'utilisation': 0.625, 'load_status': 'ok'}}
    """
    if points is None or "visits_per_day" not in getattr(points, "columns", ()):
        return {}
    out = {}
    for pid, v, u, st in zip(
        points.index, points["visits_per_day"], points.get("utilisation", pd.Series(np.nan, index=points.index)),
        points.get("load_status", pd.Series("", index=points.index)), strict=True,
    ):  # fmt: skip
        out[str(pid)] = {"visits": _finite(v), "utilisation": _finite(u), "load_status": _text(st) or ""}
    return out


def changed_units(before: dict[str, Any], after: dict[str, Any], rel: float = 1e-4) -> tuple[str, ...]:
    """Return the codes of the units whose figures on the page changed (beyond ``rel``).

    Parameters
    ----------
    before, after
        Outputs of :func:`unit_figures` before and after a change.
    rel
        Relative change below which a figure is taken as unchanged (a re-assessment may
        differ in the last digits).

    Examples
    --------
    >>> changed_units({"A": {"mean_minutes": 5.0}, "B": {"mean_minutes": 7.0}},
    ...               {"A": {"mean_minutes": 5.0}, "B": {"mean_minutes": 6.0}})
    ('B',)
    """
    out = []
    for code in sorted(set(before) | set(after)):
        b, a = before.get(code, {}), after.get(code, {})
        for key in set(b) | set(a):
            x, y = b.get(key), a.get(key)
            if (x is None) != (y is None) or (x is not None and abs(y - x) > rel * max(1.0, abs(x))):
                out.append(code)
                break
    return tuple(out)


def headline_figures(summary: dict[str, Any], details: dict[str, Any] | None = None) -> dict[str, float | None]:
    """Return the headline figures of :data:`HEADLINES` from a summary (and details).

    Examples
    --------
    >>> headline_figures({"points": 3, "within_minutes_share_by_mode": {"walk": 0.5}})["walk_within_minutes_share"]
    0.5
    """
    out: dict[str, float | None] = {}
    for key in HEADLINES:
        out[key] = _finite(summary.get(key))
    walk = (summary.get("within_minutes_share_by_mode") or {}).get("walk")
    if out["walk_within_minutes_share"] is None and walk is not None:
        out["walk_within_minutes_share"] = _finite(walk)
    for key, v in (details or {}).items():
        if key in HEADLINES and out.get(key) is None:
            out[key] = _finite(v)
    return out


def _text(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else str(v)


def point_records(
    points: gpd.GeoDataFrame, stand_in: frozenset[str], loads: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Return the points as JSON records for the page (lon/lat, kind, precision, load).

    Parameters
    ----------
    points
        The scenario's points (any CRS).
    stand_in
        The location precisions that mark a stand-in (drawn hollow).
    loads
        Load per point id (:func:`point_loads`), when ``points`` carries none.

    Examples
    --------
    >>> import shapely
    >>> p = gpd.GeoDataFrame({"point_id": ["a"], "name": ["<b>A</b>"], "kind": ["kiosk"], "counters": [2]},
    ...                      geometry=[shapely.Point(105.8, 21.0)], crs=4326)
    >>> r = point_records(p, frozenset())[0]
    >>> r["id"], r["name"], r["standin"], r["counters"]
    ('a', '<b>A</b>', False, 2)
    """
    pts = points.to_crs(settings.geographic_crs)
    loads = {**(loads or {}), **point_loads(pts)}
    n = len(pts)

    def col(name: str, default: Any = None) -> list[Any]:
        return pts[name].tolist() if name in pts.columns else [default] * n

    ids = [_text(p) or str(i) for p, i in zip(col("point_id"), pts.index, strict=True)]
    counters = col("counters_used") if "counters_used" in pts.columns else col("counters")
    c_ = {name: col(name) for name in ("name", "kind", "location_precision", "address", "unit_code")}
    xs, ys = pts.geometry.x.to_numpy(dtype=float), pts.geometry.y.to_numpy(dtype=float)
    rows = []
    for k, pid in enumerate(ids):
        prec = _text(c_["location_precision"][k]) or "unknown"
        c = _finite(counters[k])
        load = loads.get(pid, {})
        rows.append(
            {
                "id": pid,
                "name": _text(c_["name"][k]) or "",
                "kind": _text(c_["kind"][k]) or "other",
                "precision": prec,
                "standin": prec in stand_in,
                "counters": None if c is None else int(c),
                "address": _text(c_["address"][k]) or "",
                "unit": _text(c_["unit_code"][k]) or "",
                "lon": float(xs[k]),
                "lat": float(ys[k]),
                "visits": load.get("visits"),
                "utilisation": load.get("utilisation"),
                "load_status": load.get("load_status", ""),
            }
        )
    return rows


def units_geojson(units: gpd.GeoDataFrame, tolerance_m: float = 60.0) -> dict[str, Any]:
    """Return the units as GeoJSON for display: simplified, 5-decimal coordinates, names.

    Examples
    --------
    >>> from pointplan.assessment.demo import tiny_city
    >>> g = units_geojson(tiny_city()["units"])
    >>> g["features"][0]["id"], g["features"][0]["properties"]["name"]
    ('00001', 'Phường A')
    """
    geoms = simplify_coverage(units, tolerance_m).to_crs(settings.geographic_crs)
    names = units["full_name"] if "full_name" in units.columns else units.get("name", pd.Series("", index=units.index))
    frame = gpd.GeoDataFrame(
        {"code": units.index.astype(str), "name": names.astype(str).to_numpy(), "kind": units.get("kind")},
        geometry=geoms.to_numpy(),
        crs=settings.geographic_crs,
    )
    data = json.loads(frame.to_json(drop_id=True, to_wgs84=False))
    for f, code in zip(data["features"], frame["code"], strict=True):
        f["id"] = code
        f["geometry"] = _round(f["geometry"])
    return data


def _round(geom: dict[str, Any]) -> dict[str, Any]:
    def r(c: Any) -> Any:
        return [round(float(c[0]), 5), round(float(c[1]), 5)] if isinstance(c[0], (int, float)) else [r(x) for x in c]

    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}


def meta(lang: str = "vi") -> dict[str, Any]:
    """Return what the page needs to draw: metrics (labels, bins, colours), headlines, markers.

    Examples
    --------
    >>> m = meta("en")
    >>> m["metrics"][0]["key"], m["palette"][0], "kiosk" in m["markers"]
    ('mean_minutes', '#4575b4', True)
    """
    en = lang == "en"
    metrics = [
        {"key": m.key, "label": m.label_en if en else m.label_vi, "fmt": m.fmt, "better": m.better,
         "breaks": list(m.breaks), "detail": m.detail}
        for m in UNIT_METRICS.values()
    ]  # fmt: skip
    markers = {
        kind: {"svg": marker_svg(kind, standin=False)[0], "svg_standin": marker_svg(kind, standin=True)[0],
               "size": marker_svg(kind, standin=False)[1]}
        for kind in SHAPES
    }  # fmt: skip
    markers["proposed"] = {"svg": marker_svg("proposed", standin=False, label="")[0], "size": 24}
    ranks = [marker_svg("proposed", standin=False, label=str(k))[0] for k in range(1, 21)]
    return {
        "lang": "en" if en else "vi",
        "metrics": metrics,
        "palette": list(PALETTE),
        "no_data": NO_DATA_COLOUR,
        "headlines": [{"key": k, "label": v[1] if en else v[0], "fmt": v[2]} for k, v in HEADLINES.items()],
        "markers": markers,
        "proposal_markers": ranks,
        "modes": ["walk", "bike", "motorbike", "car"],
        "kinds": ["kiosk", "community", "unit_point", "branch", "mobile"],
    }
