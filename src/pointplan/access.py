"""Assessment of a set of service points: rules, coverage, accessibility, load, equity.

:func:`assess` answers the planner's core question — does this set of points serve
everyone, by the rules and by the city's standard, and who is left behind? — and returns
an :class:`Assessment` of tidy tables that the maps, the report and the command line use.

Definitions (all configurable):

* **Standard** (Hanoi's design standard for the Centre): a resident is served when the
  nearest point is within ``max_minutes`` (30) of travel **or** within ``max_distance_m``
  (5 km) in a straight line (the "bán kính phục vụ").
* **No administrative boundary** (Decree 118/2025): citizens may use any point, so the
  nearest point anywhere is the main measure; the nearest point in one's own unit is a
  second view (``own_unit_minutes``).
* **Load**: expected in-person visits a day (:func:`pointplan.demand.visits_per_day`),
  assigned to the nearest point or by a Huff (gravity) model, against a capacity of
  ``counters × visits a counter serves a day × availability``.
* **2SFCA / E2SFCA**: counters per 10,000 people within the catchment, with the step
  decay of Luo & Qi (2009) for the enhanced version (weights 1, 0.68, 0.22 at 10, 20 and
  30 minutes), equal to PySAL ``access`` on the same inputs.

Examples
--------
>>> import pointplan
>>> a = pointplan.assess(pointplan.load_points())          # doctest: +SKIP
>>> a.summary["population_within_standard_share"]          # doctest: +SKIP
0.99...
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan._errors import InputError, MissingColumnError, NetworkError
from pointplan._validate import (
    VIETNAM_BBOX,
    check_crs,
    check_geometries,
    check_in_area,
    check_nonnegative,
    check_number,
    projected_crs,
)
from pointplan.points import STAND_IN_PRECISIONS

__all__ = [
    "AVAILABILITY",
    "DEFAULT_COUNTERS",
    "E2SFCA_STEPS",
    "VISITS_PER_COUNTER_PER_DAY",
    "Assessment",
    "assess",
    "e2sfca",
    "two_sfca",
    "weighted_gini",
    "weighted_quantile",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Counters assumed per kind of point where the data gives none. No numeric norm exists
#: (Decree 118/2025 gives none): a branch gets 11, the one published figure (Branch No. 7);
#: a unit point 3, as 2–5 officials per unit move to the Centre (Plan 322/KH-UBND);
#: community points, kiosks and the mobile truck 1. Replace with real counts in the
#: ``counters`` column of the points.
DEFAULT_COUNTERS: dict[str, int] = {
    "branch": 11,
    "unit_point": 3,
    "community": 1,
    "mobile": 1,
    "kiosk": 1,
    "head_office": 0,
    "proposed": 2,
}

#: In-person visits one counter serves in a working day: 8 hours × 4 dossiers an hour
#: (about 15 minutes per dossier received and checked). An assumption, documented as such.
VISITS_PER_COUNTER_PER_DAY: float = 32.0

#: Share of working days a kind of point is open: the mobile truck makes 1–2 trips a week
#: (planning context), i.e. about 1.5 of 5 days.
AVAILABILITY: dict[str, float] = {"mobile": 0.3}

#: E2SFCA step weights (upper bound in minutes -> weight), Luo & Qi (2009).
E2SFCA_STEPS: dict[float, float] = {10.0: 1.0, 20.0: 0.68, 30.0: 0.22}

#: Utilisation above which a point is "overloaded", and below which it is "idle".
OVERLOAD_UTILISATION = 1.0
IDLE_UTILISATION = 0.2

#: Kinds of point that count towards the rule "one point in every unit, at least 126".
RULE_KINDS: tuple[str, ...] = ("unit_point",)

#: Tolerance (minutes / metres) for threshold comparisons, so that 15.000000000000002
#: minutes counts as 15.
EPS = 1e-6

#: Thresholds (minutes) reported as "share of people beyond".
BEYOND_MINUTES: tuple[int, ...] = (15, 30, 45)


# ---------------------------------------------------------------------------------------
# Small statistics, vectorised and exact.
# ---------------------------------------------------------------------------------------


def weighted_quantile(values: npt.ArrayLike, weights: npt.ArrayLike, q: float) -> float:
    """Return the weighted ``q`` quantile (lower, no interpolation).

    The smallest value ``v`` such that the weight of values ``<= v`` is at least
    ``q`` × total weight.

    Examples
    --------
    >>> weighted_quantile([1, 2, 3], [1, 1, 2], 0.5)
    2.0
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.size == 0 or w.sum() <= 0:
        return math.nan
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(x[order][min(k, x.size - 1)])


def weighted_gini(values: npt.ArrayLike, weights: npt.ArrayLike) -> float:
    """Return the weighted Gini coefficient of non-negative ``values``.

    ``sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mean)``, computed in O(n log n).

    Examples
    --------
    >>> weighted_gini([1, 1, 1], [1, 2, 3])
    0.0
    >>> round(weighted_gini([0, 1], [1, 1]), 3)
    0.5
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if x.size == 0:
        return math.nan
    total = w.sum()
    mean = float((w * x).sum() / total)
    if mean == 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    return float((w * x * (2 * cum - w - total)).sum() / (total**2 * mean))


def _group_weighted_quantiles(
    groups: npt.NDArray[Any], values: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], qs: Sequence[float]
) -> pd.DataFrame:
    """Weighted quantiles of ``values`` per group, vectorised (one sort for all groups)."""
    codes, uniques = pd.factorize(groups, sort=True)
    order = np.lexsort((values, codes))
    c, v, w = codes[order], values[order], weights[order]
    cum = np.cumsum(w)
    starts = np.searchsorted(c, np.arange(len(uniques)), side="left")
    ends = np.searchsorted(c, np.arange(len(uniques)), side="right")
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    base[starts == 0] = 0.0
    totals = cum[ends - 1] - base
    out = {}
    for q in qs:
        target = base + q * totals - 1e-9 * np.maximum(totals, 1)
        k = np.searchsorted(cum, target, side="left")
        k = np.clip(k, starts, ends - 1)
        out[q] = v[k]
    return pd.DataFrame(out, index=pd.Index(uniques))


# ---------------------------------------------------------------------------------------
# Floating catchment areas.
# ---------------------------------------------------------------------------------------


def _fca(
    od: pd.DataFrame,
    population: npt.NDArray[np.float64],
    supply: npt.NDArray[np.float64],
    weight: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]],
    max_minutes: float,
) -> npt.NDArray[np.float64]:
    od = od[od["minutes"] <= max_minutes + EPS]
    i = od["i"].to_numpy()
    j = od["j"].to_numpy()
    wgt = weight(od["minutes"].to_numpy(dtype=float))
    demand_j = np.bincount(j, weights=wgt * population[i], minlength=supply.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand_j > 0, supply / demand_j, 0.0)
    return np.bincount(i, weights=wgt * ratio[j], minlength=population.size).astype(np.float64)


def two_sfca(
    od: pd.DataFrame,
    population: npt.ArrayLike,
    supply: npt.ArrayLike,
    max_minutes: float,
) -> npt.NDArray[np.float64]:
    """Two-step floating catchment area (Luo & Wang 2003) access ratio per demand point.

    Parameters
    ----------
    od
        Sparse origin–destination times: columns ``i`` (demand position), ``j`` (supply
        position), ``minutes``.
    population
        Demand at each origin.
    supply
        Supply (e.g. counters) at each destination.
    max_minutes
        Catchment size.

    Returns
    -------
    numpy.ndarray
        Supply per person reachable from each demand point (multiply by 10,000 for "per
        10,000 people").

    Examples
    --------
    >>> od = pd.DataFrame({"i": [0, 1, 1], "j": [0, 0, 1], "minutes": [5.0, 5.0, 5.0]})
    >>> two_sfca(od, [100, 100], [2, 1], 30).round(4).tolist()
    [0.01, 0.02]
    """
    pop = np.asarray(population, dtype=float)
    sup = np.asarray(supply, dtype=float)
    return _fca(od, pop, sup, lambda t: np.ones_like(t), max_minutes)


def e2sfca(
    od: pd.DataFrame,
    population: npt.ArrayLike,
    supply: npt.ArrayLike,
    steps: Mapping[float, float] | None = None,
) -> npt.NDArray[np.float64]:
    """Enhanced 2SFCA (Luo & Qi 2009) with step distance decay.

    Parameters
    ----------
    od, population, supply
        As for :func:`two_sfca`.
    steps
        Upper bound (minutes) -> weight; a time at or below a bound takes its weight
        (default :data:`E2SFCA_STEPS`: 10 -> 1, 20 -> 0.68, 30 -> 0.22). The catchment is
        the largest bound.

    Returns
    -------
    numpy.ndarray
        Weighted supply per person for each demand point.
    """
    st = dict(sorted((steps or E2SFCA_STEPS).items()))
    bounds = np.array(list(st.keys()), dtype=float)
    wts = np.array([*st.values(), 0.0], dtype=float)

    def weight(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return wts[np.searchsorted(bounds, t - EPS, side="left")]

    pop = np.asarray(population, dtype=float)
    sup = np.asarray(supply, dtype=float)
    return _fca(od, pop, sup, weight, float(bounds[-1]))


# ---------------------------------------------------------------------------------------
# The assessment.
# ---------------------------------------------------------------------------------------


@dataclass
class Assessment:
    """Result of :func:`assess`: tidy tables and a summary.

    Attributes
    ----------
    units
        One row per unit (EPSG:4326 polygons): points, population, coverage, travel-time
        statistics, own-unit view, visits and load, 2SFCA/E2SFCA, method and precision.
    points
        One row per point: the input columns plus visits a day (nearest and Huff),
        capacity, utilisation, load status and the population it is nearest to.
    demand
        One row per demand point: nearest point, minutes, distances, within the standard,
        own-unit minutes, 2SFCA/E2SFCA.
    findings
        Rule findings: ``rule``, ``severity`` (``error``/``warning``/``info``),
        ``unit_code``, ``point_id``, ``message`` (Vietnamese) and ``message_en``.
    coverage
        Coverage per unit and travel mode (share of people within the standard).
    equity
        Travel time and coverage by kind of unit (phường vs xã) and city-wide, with Gini.
    summary
        Headline figures (JSON-serialisable).
    """

    units: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    findings: pd.DataFrame
    coverage: pd.DataFrame
    equity: pd.DataFrame
    summary: dict[str, Any]
    mode: str
    travel_time_method: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str = "scenario"
    engine: Any = field(default=None, repr=False)

    def service_areas(self, max_minutes: float | None = None, *, include_distance: bool = True) -> gpd.GeoDataFrame:
        """Return the area within the standard around each point (polygons).

        Parameters
        ----------
        max_minutes
            Default: the assessment's ``max_minutes``.
        include_distance
            Add the disc of ``max_distance_m`` (straight line) to the area reachable in
            ``max_minutes``, since the standard is "a 30-minute trip **or** 5 km": then a
            resident is within the standard exactly when they are inside the area.

        Returns
        -------
        geopandas.GeoDataFrame
            One polygon per point, indexed by point id, EPSG:4326, with ``method``;
            ``attrs["max_minutes"]`` and, with the distance, ``attrs["max_distance_m"]``.
        """
        minutes = float(max_minutes or self.params["max_minutes"])
        areas = self.engine.service_areas(self.points, minutes)
        attrs: dict[str, Any] = {"max_minutes": minutes}
        if include_distance and self.params.get("max_distance_m", 0) > 0:
            dist = float(self.params["max_distance_m"])
            proj = areas.to_crs(settings.projected_crs)
            discs = self.points.geometry.to_crs(settings.projected_crs).buffer(dist, quad_segs=16)
            geoms = np.asarray(proj.geometry.values, dtype=object)
            missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
            merged = np.where(
                missing,
                discs.reindex(proj.index).to_numpy(),
                shapely.union(geoms, discs.reindex(proj.index).to_numpy()),
            )
            areas = proj.set_geometry(gpd.GeoSeries(merged, index=proj.index, crs=proj.crs))
            attrs["max_distance_m"] = dist
        out = areas.to_crs(settings.geographic_crs)
        out.attrs.update(attrs)
        return out

    def compare(self, other: Assessment) -> pd.DataFrame:
        """Put two scenarios side by side (e.g. before/after adding kiosks).

        Parameters
        ----------
        other
            Another assessment (normally of the same units and demand).

        Returns
        -------
        pandas.DataFrame
            One row per headline metric; columns: this scenario's name, the other's
            name, ``change`` (other − this).
        """
        keys = [
            "points",
            "population_within_standard",
            "population_within_standard_share",
            "population_within_30_min_share",
            "mean_minutes_to_nearest",
            "p90_minutes_to_nearest",
            "max_minutes_to_nearest",
            "share_beyond_15_min",
            "share_beyond_30_min",
            "share_beyond_45_min",
            "gini_minutes",
            "units_without_point",
            "points_overloaded",
            "mean_utilisation",
        ]
        a_name = self.name
        b_name = other.name if other.name != self.name else f"{other.name} (2)"
        rows = []
        for k in keys:
            a, b = self.summary.get(k), other.summary.get(k)
            change = (b - a) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
            rows.append({"metric": k, a_name: a, b_name: b, "change": change})
        return pd.DataFrame(rows).set_index("metric")


def _prepare_points(points: gpd.GeoDataFrame, counters_default: Mapping[str, int]) -> gpd.GeoDataFrame:
    if not isinstance(points, gpd.GeoDataFrame):
        msg = (
            f"points must be a GeoDataFrame, got {type(points).__name__}. Use "
            "pointplan.load_points() or pointplan.read_points(path)."
        )
        raise InputError(msg)
    if len(points) == 0:
        msg = "points is empty: an assessment needs at least one service point."
        raise InputError(msg)
    check_crs(points, "points")
    missing = [c for c in ("kind",) if c not in points.columns]
    if missing:
        msg = (
            f"points lack the column(s) {missing}. Load them with pointplan.read_points() "
            "or pointplan.points.validate_points(), which fill the schema."
        )
        raise MissingColumnError(msg)
    pts = points.copy()
    if "point_id" not in pts.columns:
        pts["point_id"] = pts.index.astype(str)
    if pts["point_id"].duplicated().any():
        dup = sorted(set(pts.loc[pts["point_id"].duplicated(), "point_id"].astype(str)))
        msg = f"points: duplicate point_id {dup[:8]}. Give each point its own id."
        raise InputError(msg)
    pts.index = pd.Index(pts["point_id"].astype(str), name=None)
    check_geometries(pts, "points", types=("Point",))
    check_in_area(pts, "points", bbox=VIETNAM_BBOX, area_name="Vietnam")
    for col, default in (("location_precision", "surveyed"), ("unit_code", None), ("name", "")):
        if col not in pts.columns:
            pts[col] = default
    if "counters" not in pts.columns:
        pts["counters"] = pd.NA
    counters = check_nonnegative(pts, "counters", "points", allow_na=True)
    assumed = counters.isna()
    unknown_kind = ~pts["kind"].isin(list(counters_default))
    if (assumed & unknown_kind).any():
        bad = sorted(set(pts.loc[assumed & unknown_kind, "kind"].astype(str)))
        msg = f"points: no default number of counters for kind(s) {bad}; give 'counters'."
        raise InputError(msg)
    pts["counters_used"] = counters.fillna(pts["kind"].map(counters_default)).astype(float)
    pts["counters_assumed"] = assumed.to_numpy()
    return pts


def _default_demand(units: gpd.GeoDataFrame, cell_m: float | None) -> gpd.GeoDataFrame:
    from pointplan.demand import build_demand

    return build_demand(units, cell_m=cell_m)


def _prepare_demand(demand: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(demand, gpd.GeoDataFrame):
        msg = (
            f"demand must be a GeoDataFrame of points with 'population' and 'unit_code', got "
            f"{type(demand).__name__}. Build it with pointplan.demand.build_demand()."
        )
        raise InputError(msg)
    if len(demand) == 0:
        msg = "demand is empty: give at least one demand point (pointplan.demand.build_demand())."
        raise InputError(msg)
    check_crs(demand, "demand")
    check_geometries(demand, "demand")
    if "population" not in demand.columns:
        msg = "demand lacks the column 'population' (people at each demand point)."
        raise MissingColumnError(msg)
    dem = demand.copy()
    dem["population"] = check_nonnegative(dem, "population", "demand")
    if not (dem["population"] > 0).any():
        msg = (
            "demand: every 'population' is 0, so there is nobody to assess. Check the "
            "column (or the units' populations it was built from)."
        )
        raise InputError(msg)
    if "unit_code" not in dem.columns:
        from pointplan.points import assign_units

        dem["unit_code"] = assign_units(dem, units).to_numpy()
    if not (dem.geometry.geom_type == "Point").all():
        dem = dem.set_geometry(dem.geometry.representative_point())
    return dem


def _xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> npt.NDArray[np.float64]:
    geo = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    proj = geo.to_crs(projected_crs())
    return np.column_stack([proj.x.to_numpy(), proj.y.to_numpy()])


def _finding(
    rule: str,
    severity: str,
    message: str,
    message_en: str,
    unit_code: str | None = None,
    point_id: str | None = None,
) -> dict[str, Any]:
    return {
        "rule": rule,
        "severity": severity,
        "unit_code": unit_code,
        "point_id": point_id,
        "message": message,
        "message_en": message_en,
    }


def check_rules(
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    min_points: int | None = None,
    branches_expected: int | None = None,
    rule_kinds: Sequence[str] = RULE_KINDS,
    duplicate_m: float = 10.0,
) -> pd.DataFrame:
    """Check the rules of Plan 322/KH-UBND and Decree 118/2025 on a set of points.

    Parameters
    ----------
    points
        The points (``kind``, ``unit_code``, optional ``declared_unit_code`` and
        ``location_precision``).
    units
        The units, indexed by code.
    min_points
        At least this many rule points in all (default ``settings.min_points``, 126).
    branches_expected
        Branches the Centre keeps (default ``settings.branches_expected``, 12).
    rule_kinds
        Kinds that count as "the point of a unit".
    duplicate_m
        Two points closer than this are reported as sharing a location.

    Returns
    -------
    pandas.DataFrame
        Findings: ``rule``, ``severity``, ``unit_code``, ``point_id``, ``message``,
        ``message_en``.
    """
    min_points = settings.min_points if min_points is None else min_points
    branches_expected = settings.branches_expected if branches_expected is None else branches_expected
    rows: list[dict[str, Any]] = []
    rule_pts = points[points["kind"].isin(list(rule_kinds))]
    n_rule = len(rule_pts)
    served = set(rule_pts["unit_code"].dropna())
    for code in units.index:
        if code not in served:
            nm = units.loc[code, "full_name"] if "full_name" in units else code
            rows.append(
                _finding(
                    "unit_without_point",
                    "error",
                    f"{nm} ({code}) chưa có điểm phục vụ hành chính công nào trong địa bàn.",
                    f"{nm} ({code}) has no service point inside the unit.",
                    unit_code=code,
                )
            )
    if n_rule < min_points:
        rows.append(
            _finding(
                "too_few_points",
                "error",
                f"Có {n_rule} điểm phục vụ, ít hơn mức tối thiểu {min_points}.",
                f"{n_rule} service points, fewer than the minimum of {min_points}.",
            )
        )
    else:
        rows.append(
            _finding(
                "min_points",
                "info",
                f"Có {n_rule} điểm phục vụ (tối thiểu {min_points}).",
                f"{n_rule} service points (minimum {min_points}).",
            )
        )
    n_branch = int((points["kind"] == "branch").sum())
    if n_branch < branches_expected:
        rows.append(
            _finding(
                "branches_not_located",
                "warning",
                f"Mới xác định vị trí {n_branch}/{branches_expected} chi nhánh; "
                f"{branches_expected - n_branch} chi nhánh chưa công bố địa chỉ nên không được tính.",
                f"{n_branch} of {branches_expected} branches located; the other "
                f"{branches_expected - n_branch} have no published address and are not counted.",
            )
        )
    outside = points["unit_code"].isna()
    for pid in points.index[outside]:
        rows.append(
            _finding(
                "point_outside_hanoi",
                "error",
                f"Điểm {pid} nằm ngoài địa bàn Hà Nội: kiểm tra toạ độ.",
                f"Point {pid} lies outside Hanoi: check its coordinates.",
                point_id=str(pid),
            )
        )
    if "declared_unit_code" in points.columns:
        dec = points["declared_unit_code"]
        mism = dec.notna() & points["unit_code"].notna() & (dec.astype(str) != points["unit_code"].astype(str))
        for pid in points.index[mism]:
            standin = points.loc[pid, "location_precision"] in STAND_IN_PRECISIONS
            d, u = points.loc[pid, "declared_unit_code"], points.loc[pid, "unit_code"]
            rows.append(
                _finding(
                    "declared_unit_mismatch",
                    "info" if standin else "warning",
                    f"Điểm {pid} thuộc {d} theo địa chỉ nhưng toạ độ nằm ở {u}"
                    + (" (vị trí tạm thay thế, chưa chính xác)." if standin else "."),
                    f"Point {pid} is declared in unit {d} but lies in {u}"
                    + (" (a stand-in location, not exact)." if standin else "."),
                    unit_code=str(u),
                    point_id=str(pid),
                )
            )
    if "location_precision" in points.columns:
        standins = points["location_precision"].isin(STAND_IN_PRECISIONS)
        if standins.any():
            rows.append(
                _finding(
                    "standin_locations",
                    "info",
                    f"{int(standins.sum())}/{len(points)} điểm dùng vị trí thay thế (chưa có toạ độ thật).",
                    f"{int(standins.sum())} of {len(points)} points use stand-in locations (no real coordinates).",
                )
            )
    xy = _xy(points)
    pairs = cKDTree(xy).query_pairs(duplicate_m, output_type="ndarray")
    for a, b in pairs:
        pa, pb = points.index[a], points.index[b]
        rows.append(
            _finding(
                "shared_location",
                "info",
                f"Điểm {pa} và {pb} trùng vị trí (cách nhau < {duplicate_m:g} m).",
                f"Points {pa} and {pb} share a location (< {duplicate_m:g} m apart).",
                unit_code=points.loc[pa, "unit_code"],
                point_id=f"{pa},{pb}",
            )
        )
    return pd.DataFrame(rows, columns=["rule", "severity", "unit_code", "point_id", "message", "message_en"])


def _huff_visits(
    od: pd.DataFrame,
    visits: npt.NDArray[np.float64],
    attractiveness: npt.NDArray[np.float64],
    nearest_j: npt.NDArray[np.int64],
    beta_per_min: float,
) -> npt.NDArray[np.float64]:
    """Huff model: P_ij ∝ A_j exp(-β t_ij) over points in reach; else the nearest point."""
    i = od["i"].to_numpy()
    j = od["j"].to_numpy()
    u = attractiveness[j] * np.exp(-beta_per_min * od["minutes"].to_numpy(dtype=float))
    denom = np.bincount(i, weights=u, minlength=visits.size)
    share = np.where(denom[i] > 0, u / np.where(denom[i] > 0, denom[i], 1.0), 0.0)
    # float even when nobody is in reach (bincount of nothing is an integer array)
    out = np.bincount(j, weights=share * visits[i], minlength=attractiveness.size).astype(float)
    orphan = denom <= 0  # nobody in reach: they go to the nearest point
    ok = orphan & (nearest_j >= 0)
    out += np.bincount(nearest_j[ok], weights=visits[ok], minlength=attractiveness.size)
    return out


def assess(
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None = None,
    demand: gpd.GeoDataFrame | None = None,
    mode: str | None = None,
    network: Any = None,
    *,
    engine: Any = None,
    max_minutes: float | None = None,
    max_distance_m: float | None = None,
    modes: Sequence[str] = ("walk", "motorbike"),
    visits: pd.DataFrame | pd.Series | None = None,
    demand_cell_m: float | None = None,
    counters_default: Mapping[str, int] | None = None,
    visits_per_counter: float = VISITS_PER_COUNTER_PER_DAY,
    availability: Mapping[str, float] | None = None,
    huff_beta_per_min: float = math.log(2) / 10,
    rule_kinds: Sequence[str] = RULE_KINDS,
    name: str = "scenario",
    max_off_network_share: float = 0.2,
) -> Assessment:
    """Assess a set of service points: rules, coverage, accessibility, load and equity.

    Parameters
    ----------
    points
        Service points (see :data:`pointplan.points.POINT_COLUMNS`), any CRS.
    units
        The units (default :func:`pointplan.load_units`).
    demand
        Demand points with ``population`` and ``unit_code`` (default: the 1 km WorldPop
        demand rescaled to official populations, :func:`pointplan.demand.build_demand`).
    mode
        Travel mode for the main view: ``walk``, ``bike``, ``motorbike`` (default) or ``car``.
    network
        A road network (osmnx graph or a ``.osm``/``.graphml`` path). ``None``: straight-line
        distance × circuity ÷ speed (every table says which method was used).
    engine
        A ready travel-time engine (overrides ``network``/``mode``).
    max_minutes, max_distance_m
        The standard: within ``max_minutes`` **or** ``max_distance_m`` (defaults 30 min, 5 km).
    modes
        Modes for the coverage-by-mode table (``walk`` and ``motorbike`` by default).
    visits
        In-person visits a day per unit (the output of
        :func:`pointplan.demand.visits_per_day`); default city figures spread by population.
    demand_cell_m
        Cell size of the default demand (``None`` = 1 km, e.g. ``250``).
    counters_default
        Counters assumed per kind where ``counters`` is missing (:data:`DEFAULT_COUNTERS`).
    visits_per_counter
        In-person visits a counter serves a day (:data:`VISITS_PER_COUNTER_PER_DAY`).
    availability
        Share of days a kind is open (:data:`AVAILABILITY`: the mobile truck 0.3).
    huff_beta_per_min
        Distance decay of the Huff model (default: attraction halves every 10 minutes).
    rule_kinds
        Kinds counted by the "one point per unit" rule.
    name
        Scenario name used by :meth:`Assessment.compare` and reports.
    max_off_network_share
        With a road network: the largest share of people that may lie farther from it
        than the engine's ``max_snap_m`` (their trip there is counted as a straight line).
        Above it the network does not cover the study area and a :class:`NetworkError`
        says so, instead of results made mostly of straight lines.

    Returns
    -------
    Assessment
        Tables and summary.

    Raises
    ------
    InputError, CRSError, MissingColumnError
        For unusable inputs, with the fix in the message.
    """
    from pointplan.data import validate_units
    from pointplan.network import make_engine

    mode = mode or settings.default_mode
    max_minutes = float(
        check_number(
            settings.standard_minutes if max_minutes is None else max_minutes,
            "max_minutes",
            minimum=0,
            strict=True,
        )  # type: ignore[arg-type]
    )
    max_distance_m = float(
        check_number(
            settings.standard_distance_m if max_distance_m is None else max_distance_m,
            "max_distance_m",
            minimum=0,
        )  # type: ignore[arg-type]
    )
    check_number(visits_per_counter, "visits_per_counter", minimum=0, strict=True)
    check_number(huff_beta_per_min, "huff_beta_per_min", minimum=0)
    projected_crs()  # distances are never measured in degrees
    counters_default = {**DEFAULT_COUNTERS, **(counters_default or {})}
    availability = {**AVAILABILITY, **(availability or {})}

    if units is None:
        from pointplan.data import load_units

        units = load_units()
    validate_units(units, topology=False)
    pts = _prepare_points(points, counters_default)
    if pts["unit_code"].isna().all() or "unit_code" not in points.columns:
        from pointplan.points import assign_units

        pts["unit_code"] = assign_units(pts, units).to_numpy()
    dem = _prepare_demand(_default_demand(units, demand_cell_m) if demand is None else demand, units)
    if engine is None:
        engine = make_engine(network, mode=mode)
    method = str(getattr(engine, "method", "unknown"))
    if method == "network" and hasattr(engine, "snap"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            far = engine.snap(dem)["far"].to_numpy(dtype=bool)
        pop_all = dem["population"].to_numpy(dtype=float)
        far_share = float(pop_all[far].sum() / pop_all.sum()) if pop_all.sum() > 0 else 0.0
        if far_share > max_off_network_share:
            msg = (
                f"The road network does not cover the study area: {100 * far_share:.1f} % of the people "
                f"({int(far.sum())} of {len(dem)} demand points) lie more than "
                f"{getattr(engine, 'max_snap_m', 0):g} m from it. Use a network of the whole area "
                "(pointplan.load_network(polygon) with downloads allowed, or a larger .osm/.graphml "
                "file), or restrict the demand and units to the area the network covers."
            )
            raise NetworkError(msg)

    # --- nearest point anywhere (no administrative boundary) ---------------------------
    near = engine.nearest(dem, pts)
    dem["nearest_point"] = near["dest"].to_numpy()
    dem["minutes"] = near["minutes"].to_numpy(dtype=float)
    dem["distance_m"] = near["distance_m"].to_numpy(dtype=float)
    pxy, dxy = _xy(pts), _xy(dem)
    straight_m, _ = cKDTree(pxy).query(dxy, k=1)
    dem["straight_m"] = straight_m
    dem["within_minutes"] = dem["minutes"] <= max_minutes + EPS
    dem["within_distance"] = dem["straight_m"] <= max_distance_m + EPS
    dem["within_standard"] = dem["within_minutes"] | dem["within_distance"]
    dem["method"] = method

    # --- own-unit view -----------------------------------------------------------------
    own = np.full(len(dem), np.inf)
    dem_units = dem["unit_code"].to_numpy()
    for code, pgroup in pts.groupby("unit_code"):
        mask = dem_units == code
        if mask.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unreachable counted in the main view
                res = engine.nearest(dem.loc[mask], pgroup)
            own[mask] = res["minutes"].to_numpy(dtype=float)
    dem["own_unit_minutes"] = own

    # --- accessibility ratios (2SFCA, E2SFCA) ------------------------------------------
    catch = max(max_minutes, max(E2SFCA_STEPS))
    od = engine.od_long(dem, pts, catch)
    pop = dem["population"].to_numpy(dtype=float)
    supply = pts["counters_used"].to_numpy(dtype=float) * pts["kind"].map(lambda k: availability.get(k, 1.0)).to_numpy(
        dtype=float
    )
    dem["two_sfca"] = two_sfca(od, pop, supply, max_minutes) * 1e4
    dem["e2sfca"] = e2sfca(od, pop, supply) * 1e4

    # --- visits and load ---------------------------------------------------------------
    from pointplan.demand import demand_visits, visits_per_day

    if visits is None:
        # The city's dossier rate per resident (8,000 a day for Hanoi's 8,807,523 people),
        # so a study of some units (or another province) gets its share, not the whole city's.
        from pointplan.data import HANOI_POPULATION
        from pointplan.demand import DEFAULT_DOSSIERS_PER_DAY

        upop = pd.to_numeric(units["population"], errors="coerce").sum() if "population" in units else 0.0
        if not upop > 0:
            upop = float(dem["population"].sum())
        rate = DEFAULT_DOSSIERS_PER_DAY * float(upop) / HANOI_POPULATION
        unit_visits = visits_per_day(units, dossiers_per_day=rate)
    else:
        unit_visits = visits
    # A study of part of the city: only the units that have demand points take visits.
    present = pd.Index(dem["unit_code"].dropna().astype(str).unique())
    unit_visits = unit_visits.loc[unit_visits.index.astype(str).isin(present)]
    dem["visits_per_day"] = demand_visits(dem, unit_visits).reindex(dem.index).fillna(0.0).to_numpy()
    pos = pd.Series(np.arange(len(pts)), index=pts.index)
    # A part-time point (the mobile truck) that shares its location with a permanent point
    # never takes the nearest-point load: ties go to the permanent point.
    part_time = pts["kind"].map(lambda k: availability.get(k, 1.0) < 1.0).to_numpy()
    if part_time.any():
        twins = cKDTree(pxy).query_pairs(10.0, output_type="ndarray")
        remap = {}
        for a_, b_ in twins:
            if part_time[a_] and not part_time[b_]:
                remap[pts.index[a_]] = pts.index[b_]
            elif part_time[b_] and not part_time[a_]:
                remap[pts.index[b_]] = pts.index[a_]
        if remap:
            dem["nearest_point"] = dem["nearest_point"].replace(remap)
    reach = dem["nearest_point"].notna().to_numpy()
    nearest_j = np.full(len(dem), -1, dtype=np.int64)
    nearest_j[reach] = pos.loc[dem.loc[reach, "nearest_point"].astype(str)].to_numpy()
    v = dem["visits_per_day"].to_numpy(dtype=float)
    pts["visits_per_day"] = np.bincount(nearest_j[reach], weights=v[reach], minlength=len(pts))
    pts["visits_per_day_huff"] = _huff_visits(od, v, np.maximum(supply, 1e-9), nearest_j, huff_beta_per_min)
    pts["population_served"] = np.bincount(nearest_j[reach], weights=pop[reach], minlength=len(pts))
    pts["capacity_per_day"] = supply * visits_per_counter
    with np.errstate(divide="ignore", invalid="ignore"):
        pts["utilisation"] = np.where(
            pts["capacity_per_day"] > 0, pts["visits_per_day"] / pts["capacity_per_day"], np.inf
        )
        pts["utilisation_huff"] = np.where(
            pts["capacity_per_day"] > 0, pts["visits_per_day_huff"] / pts["capacity_per_day"], np.inf
        )
    pts["load_status"] = np.select(
        [pts["utilisation"] > OVERLOAD_UTILISATION, pts["utilisation"] < IDLE_UTILISATION],
        ["overloaded", "idle"],
        "ok",
    )
    pts["travel_time_method"] = method

    # --- per-unit table ----------------------------------------------------------------
    u = units.copy()
    u["population"] = pd.to_numeric(u["population"]) if "population" in u else np.nan
    g = dem.groupby("unit_code")
    popu = g["population"].sum()
    finite = np.isfinite(dem["minutes"].to_numpy())
    pm = dem["population"] * np.where(finite, dem["minutes"], 0.0)
    fin_pop = dem["population"].where(finite, 0.0)
    u["demand_population"] = popu.reindex(u.index).fillna(0.0)
    u["n_points"] = (
        pts[pts["kind"].isin(list(rule_kinds))].groupby("unit_code").size().reindex(u.index).fillna(0).astype(int)
    )
    u["n_points_all"] = pts.groupby("unit_code").size().reindex(u.index).fillna(0).astype(int)
    cov = dem["population"].where(dem["within_standard"], 0.0).groupby(dem["unit_code"]).sum()
    u["population_within_standard"] = cov.reindex(u.index).fillna(0.0)
    u["coverage_share"] = (u["population_within_standard"] / u["demand_population"]).where(u["demand_population"] > 0)
    u["population_beyond_standard"] = u["demand_population"] - u["population_within_standard"]
    u["mean_minutes"] = (pm.groupby(dem["unit_code"]).sum() / fin_pop.groupby(dem["unit_code"]).sum()).reindex(u.index)
    qs = _group_weighted_quantiles(
        dem_units, dem["minutes"].to_numpy(dtype=float), dem["population"].to_numpy(dtype=float), (0.5, 0.9)
    )
    u["median_minutes"] = qs[0.5].reindex(u.index)
    u["p90_minutes"] = qs[0.9].reindex(u.index)
    u["max_minutes"] = dem.loc[dem["population"] > 0].groupby("unit_code")["minutes"].max().reindex(u.index)
    for t in BEYOND_MINUTES:
        beyond = dem["population"].where(dem["minutes"] > t + EPS, 0.0).groupby(dem["unit_code"]).sum()
        u[f"share_beyond_{t}"] = (beyond.reindex(u.index).fillna(0) / u["demand_population"]).where(
            u["demand_population"] > 0
        )
    own_fin = np.isfinite(own)
    u["own_unit_mean_minutes"] = (
        (dem["population"] * np.where(own_fin, own, 0.0)).groupby(dem["unit_code"]).sum()
        / dem["population"].where(own_fin, 0.0).groupby(dem["unit_code"]).sum()
    ).reindex(u.index)
    u["two_sfca"] = ((dem["two_sfca"] * dem["population"]).groupby(dem["unit_code"]).sum() / popu).reindex(u.index)
    u["e2sfca"] = ((dem["e2sfca"] * dem["population"]).groupby(dem["unit_code"]).sum() / popu).reindex(u.index)
    u["visits_per_day"] = dem.groupby("unit_code")["visits_per_day"].sum().reindex(u.index).fillna(0.0)
    cap_unit = (
        (pts["counters_used"] * pts["kind"].map(lambda k: availability.get(k, 1.0))).groupby(pts["unit_code"]).sum()
    )
    u["counters"] = cap_unit.reindex(u.index).fillna(0.0)
    u["visits_per_counter"] = (u["visits_per_day"] / u["counters"]).where(u["counters"] > 0)
    u["gini_minutes"] = pd.Series(
        {c: weighted_gini(gr["minutes"].to_numpy(), gr["population"].to_numpy()) for c, gr in g},
        dtype=float,
    ).reindex(u.index)
    prec = dem.assign(p=dem["nearest_point"].map(pts["location_precision"])).groupby("unit_code")["p"]
    u["nearest_point_precision"] = prec.agg(lambda s: ";".join(sorted(set(s.dropna())))).reindex(u.index)
    u["travel_time_method"] = method
    u["mode"] = mode

    # --- coverage by mode --------------------------------------------------------------
    cov_rows = {}
    time_only = {}
    city_time_only = {}
    for m in dict.fromkeys([mode, *modes]):
        if m == mode:
            within = dem["within_standard"].to_numpy()
            mins = dem["minutes"].to_numpy(dtype=float)
        else:
            eng_m = _same_engine_other_mode(engine, m, network)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mins = eng_m.nearest(dem, pts)["minutes"].to_numpy(dtype=float)
            within = (mins <= max_minutes + EPS) | dem["within_distance"].to_numpy()
        in_time = mins <= max_minutes + EPS
        t_m = dem["population"].where(in_time, 0.0).groupby(dem["unit_code"]).sum()
        time_only[m] = (t_m.reindex(u.index).fillna(0) / u["demand_population"]).where(u["demand_population"] > 0)
        city_time_only[m] = float(pop[in_time].sum() / pop.sum()) if pop.sum() else math.nan
        cov_m = dem["population"].where(within, 0.0).groupby(dem["unit_code"]).sum()
        cov_rows[m] = (cov_m.reindex(u.index).fillna(0) / u["demand_population"]).where(u["demand_population"] > 0)
    coverage = pd.DataFrame(cov_rows)
    coverage.columns = [f"coverage_share_{c}" for c in coverage.columns]
    for m, share in time_only.items():
        coverage[f"within_{max_minutes:g}_min_share_{m}"] = share
    coverage.index.name = "code"
    # Modes other than the main one use the same kind of engine (network or fallback).
    coverage["travel_time_method"] = method

    # --- equity: phường vs xã and city ---------------------------------------------------
    kind_of = dem["unit_code"].map(u["kind"]) if "kind" in u else pd.Series("all", index=dem.index)
    eq_rows = []
    for label, sel in [("city", np.ones(len(dem), bool)), *[(k, (kind_of == k).to_numpy()) for k in ("phuong", "xa")]]:
        d = dem.loc[sel]
        w = d["population"].to_numpy(dtype=float)
        x = d["minutes"].to_numpy(dtype=float)
        fin = np.isfinite(x)
        tot = w.sum()
        eq_rows.append(
            {
                "group": label,
                "population": tot,
                "coverage_share": float(w[d["within_standard"].to_numpy()].sum() / tot) if tot else math.nan,
                "mean_minutes": float((w[fin] * x[fin]).sum() / w[fin].sum()) if w[fin].sum() else math.nan,
                "median_minutes": weighted_quantile(x, w, 0.5),
                "p90_minutes": weighted_quantile(x, w, 0.9),
                "share_beyond_30": float(w[x > 30 + EPS].sum() / tot) if tot else math.nan,
                "gini_minutes": weighted_gini(x, w),
                "e2sfca": float((w * d["e2sfca"].to_numpy()).sum() / tot) if tot else math.nan,
            }
        )
    equity = pd.DataFrame(eq_rows).set_index("group")
    equity["travel_time_method"] = method

    # --- findings ------------------------------------------------------------------------
    findings = check_rules(pts, units, rule_kinds=rule_kinds)
    extra = []
    for pid in pts.index[pts["load_status"] == "overloaded"]:
        r = pts.loc[pid]
        extra.append(
            _finding(
                "point_overloaded",
                "warning",
                f"Điểm {pid} quá tải: {r['visits_per_day']:.0f} lượt/ngày so với "
                f"công suất {r['capacity_per_day']:.0f}.",
                f"Point {pid} is overloaded: {r['visits_per_day']:.0f} visits a day for a "
                f"capacity of {r['capacity_per_day']:.0f}.",
                unit_code=r["unit_code"],
                point_id=str(pid),
            )
        )
    idle = pts.index[pts["load_status"] == "idle"]
    if len(idle):
        shown = ", ".join(map(str, idle[:10])) + (f" … (+{len(idle) - 10})" if len(idle) > 10 else "")
        extra.append(
            _finding(
                "points_idle",
                "info",
                f"{len(idle)} điểm dùng dưới {IDLE_UTILISATION:.0%} công suất: {shown}.",
                f"{len(idle)} points use less than {IDLE_UTILISATION:.0%} of their capacity: {shown}.",
                point_id=",".join(map(str, idle)),
            )
        )
    for code in u.index[u["coverage_share"] < 1 - 1e-9]:
        r = u.loc[code]
        extra.append(
            _finding(
                "people_beyond_standard",
                "warning",
                f"{r.get('full_name', code)}: {r['population_beyond_standard']:,.0f} người ở xa hơn chuẩn "
                f"({max_minutes:g} phút hoặc {max_distance_m / 1000:g} km).",
                f"{r.get('full_name', code)}: {r['population_beyond_standard']:,.0f} people beyond the standard "
                f"({max_minutes:g} min or {max_distance_m / 1000:g} km).",
                unit_code=code,
            )
        )
    unreachable = ~np.isfinite(dem["minutes"].to_numpy()) & (dem["population"].to_numpy() > 0)
    if unreachable.any():
        extra.append(
            _finding(
                "unreachable_demand",
                "warning",
                f"{int(unreachable.sum())} điểm dân cư ({pop[unreachable].sum():,.0f} người) "
                "không tới được điểm phục vụ nào trên mạng lưới.",
                f"{int(unreachable.sum())} demand points ({pop[unreachable].sum():,.0f} people) "
                "cannot reach any point on the network.",
            )
        )
    if extra:
        findings = pd.concat([findings, pd.DataFrame(extra)], ignore_index=True)
    sev_order = {"error": 0, "warning": 1, "info": 2}
    findings = findings.sort_values("severity", key=lambda s: s.map(sev_order), kind="stable").reset_index(drop=True)

    # --- summary -------------------------------------------------------------------------
    total_pop = float(pop.sum())
    w_fin = pop[finite]
    x_fin = dem["minutes"].to_numpy()[finite]
    summary: dict[str, Any] = {
        "scenario": name,
        "units": len(u),
        "points": len(pts),
        "points_by_kind": {str(k): int(v) for k, v in pts["kind"].value_counts().items()},
        "rule_points": int(pts["kind"].isin(list(rule_kinds)).sum()),
        "branches_expected": settings.branches_expected,
        "branches_located": int((pts["kind"] == "branch").sum()),
        "population": total_pop,
        "population_within_standard": float(pop[dem["within_standard"].to_numpy()].sum()),
        "population_within_standard_share": float(pop[dem["within_standard"].to_numpy()].sum() / total_pop)
        if total_pop
        else math.nan,
        "population_within_30_min_share": float(pop[dem["within_minutes"].to_numpy()].sum() / total_pop)
        if total_pop
        else math.nan,
        "population_within_5_km_share": float(pop[dem["within_distance"].to_numpy()].sum() / total_pop)
        if total_pop
        else math.nan,
        "mean_minutes_to_nearest": float((w_fin * x_fin).sum() / w_fin.sum()) if w_fin.sum() else math.nan,
        "median_minutes_to_nearest": weighted_quantile(dem["minutes"], pop, 0.5),
        "p90_minutes_to_nearest": weighted_quantile(dem["minutes"], pop, 0.9),
        "max_minutes_to_nearest": float(dem.loc[dem["population"] > 0, "minutes"].max()),
        "mean_minutes_own_unit": float(
            (pop[np.isfinite(own)] * own[np.isfinite(own)]).sum() / pop[np.isfinite(own)].sum()
        )
        if np.isfinite(own).any()
        else math.nan,
        **{
            f"share_beyond_{t}_min": float(pop[dem["minutes"].to_numpy() > t + EPS].sum() / total_pop)
            if total_pop
            else math.nan
            for t in BEYOND_MINUTES
        },
        "gini_minutes": weighted_gini(dem["minutes"], pop),
        "within_minutes_share_by_mode": city_time_only,
        "coverage_share_by_mode": {
            m: float((coverage[f"coverage_share_{m}"] * u["demand_population"]).sum() / u["demand_population"].sum())
            for m in cov_rows
        },
        "units_without_point": int((u["n_points"] == 0).sum()),
        "visits_per_day": float(pts["visits_per_day"].sum()),
        "capacity_per_day": float(pts["capacity_per_day"].sum()),
        "mean_utilisation": float(pts["visits_per_day"].sum() / pts["capacity_per_day"].sum())
        if pts["capacity_per_day"].sum()
        else math.nan,
        "points_overloaded": int((pts["load_status"] == "overloaded").sum()),
        "points_idle": int((pts["load_status"] == "idle").sum()),
        "rule_findings": {s: int((findings["severity"] == s).sum()) for s in ("error", "warning", "info")},
        "travel_time_method": method,
        "mode": mode,
        "max_minutes": max_minutes,
        "max_distance_m": max_distance_m,
        "demand_points": len(dem),
        "demand_method": str(
            dem.attrs.get("demand_method", demand.attrs.get("demand_method", "user") if demand is not None else "")
        ),
        "location_precision": {str(k): int(v) for k, v in pts["location_precision"].value_counts().items()},
        "counters_assumed": int(pts["counters_assumed"].sum()),
    }
    params = {
        "max_minutes": max_minutes,
        "max_distance_m": max_distance_m,
        "mode": mode,
        "modes": list(modes),
        "visits_per_counter": visits_per_counter,
        "counters_default": dict(counters_default),
        "availability": dict(availability),
        "huff_beta_per_min": huff_beta_per_min,
        "e2sfca_steps": dict(E2SFCA_STEPS),
        "rule_kinds": list(rule_kinds),
        "max_off_network_share": max_off_network_share,
    }
    pts = pts.to_crs(settings.geographic_crs)
    dem = dem.to_crs(settings.geographic_crs)
    u = u.to_crs(settings.geographic_crs)
    return Assessment(
        units=u,
        points=pts,
        demand=dem,
        findings=findings,
        coverage=coverage,
        equity=equity,
        summary=summary,
        mode=mode,
        travel_time_method=method,
        params=params,
        name=name,
        engine=engine,
    )


def _same_engine_other_mode(engine: Any, mode: str, network: Any) -> Any:
    """Return an engine like ``engine`` for another travel mode (same network or fallback)."""
    from pointplan.network import make_engine

    graph = getattr(engine, "graph", None)
    if graph is not None:
        return make_engine(graph, mode=mode)
    circuity = getattr(engine, "circuity", None)
    kwargs = {"circuity": circuity} if circuity is not None else {}
    return make_engine(network, mode=mode, **kwargs)
