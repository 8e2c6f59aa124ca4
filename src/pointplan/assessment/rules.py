"""The rules of Plan 322/KH-UBND and Decree 118/2025, and the findings of an assessment.

Each finding is a row of ``rule``, ``severity`` (``error``/``warning``/``info``),
``unit_code``, ``point_id``, ``message`` (Vietnamese) and ``message_en``.

Examples
--------
>>> import geopandas as gpd, shapely
>>> units = gpd.GeoDataFrame({"full_name": ["Phường A", "Xã B"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2,
...                          index=["A", "B"], crs=32648)
>>> pts = gpd.GeoDataFrame({"kind": ["unit_point"], "unit_code": ["A"]},
...                        geometry=gpd.points_from_xy([585000.0], [2325000.0]), index=["P1"], crs=32648)
>>> f = check_rules(pts, units, min_points=2, branches_expected=0)
>>> f["rule"].tolist(), f["unit_code"].iloc[0]
(['unit_without_point', 'too_few_points'], 'B')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan import settings
from pointplan.assessment.catchment import per_point_findings
from pointplan.assessment.defaults import IDLE_UTILISATION, RULE_KINDS
from pointplan.assessment.inputs import projected_xy
from pointplan.points import is_stand_in

__all__ = [
    "FINDING_COLUMNS",
    "check_rules",
    "finding",
    "load_findings",
    "load_reach_counts",
    "reach_findings",
    "rule_counts",
    "sort_findings",
]

#: Columns of the findings table.
FINDING_COLUMNS: tuple[str, ...] = ("rule", "severity", "unit_code", "point_id", "message", "message_en")

Finding = dict[str, Any]


def finding(
    rule: str,
    severity: str,
    message: str,
    message_en: str,
    unit_code: str | None = None,
    point_id: str | None = None,
) -> Finding:
    """Return one finding as a dict (a row of the findings table).

    Examples
    --------
    >>> finding("r", "info", "Tiếng Việt", "English")["severity"]
    'info'
    """
    return {
        "rule": rule,
        "severity": severity,
        "unit_code": unit_code,
        "point_id": point_id,
        "message": message,
        "message_en": message_en,
    }


def _units_without_point(rule_pts: pd.DataFrame, units: gpd.GeoDataFrame) -> list[Finding]:
    served = set(rule_pts["unit_code"].dropna())
    rows = []
    for code in units.index:
        if code not in served:
            nm = units.loc[code, "full_name"] if "full_name" in units else code
            rows.append(
                finding(
                    "unit_without_point",
                    "error",
                    f"{nm} ({code}) chưa có điểm phục vụ hành chính công nào trong địa bàn.",
                    f"{nm} ({code}) has no service point inside the unit.",
                    unit_code=code,
                )
            )
    return rows


def _point_count(n_rule: int, min_points: int) -> list[Finding]:
    if n_rule < min_points:
        return [
            finding(
                "too_few_points",
                "error",
                f"Có {n_rule} điểm phục vụ, ít hơn mức tối thiểu {min_points}.",
                f"{n_rule} service points, fewer than the minimum of {min_points}.",
            )
        ]
    return [
        finding(
            "min_points",
            "info",
            f"Có {n_rule} điểm phục vụ (tối thiểu {min_points}).",
            f"{n_rule} service points (minimum {min_points}).",
        )
    ]


def _branches(points: pd.DataFrame, expected: int) -> list[Finding]:
    n = int((points["kind"] == "branch").sum())
    if n >= expected:
        return []
    return [
        finding(
            "branches_not_located",
            "warning",
            f"Mới xác định vị trí {n}/{expected} chi nhánh; "
            f"{expected - n} chi nhánh chưa công bố địa chỉ nên không được tính.",
            f"{n} of {expected} branches located; the other "
            f"{expected - n} have no published address and are not counted.",
        )
    ]


def _outside(points: pd.DataFrame) -> list[Finding]:
    return [
        finding(
            "point_outside_hanoi",
            "error",
            f"Điểm {pid} nằm ngoài địa bàn Hà Nội: kiểm tra toạ độ.",
            f"Point {pid} lies outside Hanoi: check its coordinates.",
            point_id=str(pid),
        )
        for pid in points.index[points["unit_code"].isna()]
    ]


def _declared_mismatch(points: pd.DataFrame) -> list[Finding]:
    if "declared_unit_code" not in points.columns:
        return []
    dec, unit = points["declared_unit_code"], points["unit_code"]
    mism = dec.notna() & unit.notna() & (dec.astype(str) != unit.astype(str))
    if "location_precision" in points.columns:
        stand_in = is_stand_in(points["location_precision"])
    else:
        stand_in = pd.Series(False, index=points.index)
    rows = []
    for pid in points.index[mism]:
        standin = bool(stand_in.loc[pid])
        d, u = dec.loc[pid], unit.loc[pid]
        rows.append(
            finding(
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
    return rows


def _stand_ins(points: pd.DataFrame) -> list[Finding]:
    if "location_precision" not in points.columns:
        return []
    n = int(is_stand_in(points["location_precision"]).sum())
    if not n:
        return []
    return [
        finding(
            "standin_locations",
            "info",
            f"{n}/{len(points)} điểm dùng vị trí thay thế (chưa có toạ độ thật).",
            f"{n} of {len(points)} points use stand-in locations (no real coordinates).",
        )
    ]


def _pair_units(points: gpd.GeoDataFrame, pairs: npt.NDArray[np.int64]) -> pd.Series:
    """Return the unit of the first point of each pair (one finding per unit for very many points)."""
    return pd.Series(points["unit_code"].to_numpy(dtype=object)[pairs[:, 0]] if len(pairs) else [], dtype=object)


def _shared_by_unit(points: gpd.GeoDataFrame, pairs: npt.NDArray[np.int64], duplicate_m: float) -> list[Finding]:
    """One ``shared_location`` finding per unit: how many pairs, the first named (very many points)."""
    units = _pair_units(points, pairs).fillna("")
    rows = []
    for code, where in units.groupby(units, sort=True).groups.items():
        a, b = pairs[where[0]]
        pa, pb, n = points.index[a], points.index[b], len(where)
        rows.append(
            finding(
                "shared_location",
                "info",
                f"{n} cặp điểm trùng vị trí (cách nhau < {duplicate_m:g} m), ví dụ {pa} và {pb}.",
                f"{n} pairs of points share a location (< {duplicate_m:g} m apart), e.g. {pa} and {pb}.",
                unit_code=code or None,
                point_id=f"{pa},{pb}",
            )
        )
    return rows


def _shared_locations(points: gpd.GeoDataFrame, duplicate_m: float) -> list[Finding]:
    pairs = cKDTree(projected_xy(points)).query_pairs(duplicate_m, output_type="ndarray")
    if not per_point_findings(len(points)):
        return _shared_by_unit(points, pairs, duplicate_m)
    rows = []
    for a, b in pairs:
        pa, pb = points.index[a], points.index[b]
        rows.append(
            finding(
                "shared_location",
                "info",
                f"Điểm {pa} và {pb} trùng vị trí (cách nhau < {duplicate_m:g} m).",
                f"Points {pa} and {pb} share a location (< {duplicate_m:g} m apart).",
                unit_code=points.loc[pa, "unit_code"],
                point_id=f"{pa},{pb}",
            )
        )
    return rows


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
        ``location_precision``), indexed by point id.
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
        Findings (:data:`FINDING_COLUMNS`): units without a point, too few points,
        branches not located, points outside the city, declared unit mismatches,
        stand-in locations, shared locations.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], index=["A"], crs=32648)
    >>> pts = gpd.GeoDataFrame({"kind": ["unit_point", "kiosk"], "unit_code": ["A", "A"]},
    ...                        geometry=gpd.points_from_xy([585000.0, 585003.0], [2325000.0] * 2),
    ...                        index=["P1", "K1"], crs=32648)
    >>> f = check_rules(pts, units, min_points=1, branches_expected=0)
    >>> f["rule"].tolist(), f["point_id"].iloc[-1]
    (['min_points', 'shared_location'], 'P1,K1')
    """
    min_points = settings.min_points if min_points is None else min_points
    branches_expected = settings.branches_expected if branches_expected is None else branches_expected
    rule_pts = points[points["kind"].isin(list(rule_kinds))]
    rows = [
        *_units_without_point(rule_pts, units),
        *_point_count(len(rule_pts), min_points),
        *_branches(points, branches_expected),
        *_outside(points),
        *_declared_mismatch(points),
        *_stand_ins(points),
        *_shared_locations(points, duplicate_m),
    ]
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def rule_counts(
    points: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    min_points: int | None = None,
    branches_expected: int | None = None,
    rule_kinds: Sequence[str] = RULE_KINDS,
    duplicate_m: float = 10.0,
    xy: npt.NDArray[np.float64] | None = None,
) -> dict[str, int]:
    """Return how many findings of each severity :func:`check_rules` gives, without the table.

    The same rules and arguments as :func:`check_rules`, from arrays (a
    :class:`pointplan.Scenario` asks after each operation); ``xy`` are the points'
    projected coordinates when known (:func:`~pointplan.assessment.inputs.projected_xy`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)] * 2, index=["A", "B"], crs=32648)
    >>> pts = gpd.GeoDataFrame({"kind": ["unit_point", "kiosk"], "unit_code": ["A", None]},
    ...                        geometry=gpd.points_from_xy([585000.0, 585003.0], [2325000.0] * 2),
    ...                        index=["P1", "K1"], crs=32648)
    >>> f = check_rules(pts, units, min_points=1, branches_expected=1)
    >>> rule_counts(pts, units, min_points=1, branches_expected=1) == f["severity"].value_counts().reindex(
    ...     ["error", "warning", "info"], fill_value=0).to_dict()
    True
    """
    min_points = settings.min_points if min_points is None else min_points
    branches_expected = settings.branches_expected if branches_expected is None else branches_expected
    kind = points["kind"].to_numpy(dtype=object)
    unit = points["unit_code"].to_numpy(dtype=object)
    rule = np.isin(kind, np.asarray(list(rule_kinds), dtype=object))
    served = set(pd.Series(unit[rule]).dropna())
    n_rule = int(rule.sum())
    errors = sum(code not in served for code in units.index) + int(pd.isna(unit).sum()) + int(n_rule < min_points)
    warnings_ = int(int((kind == "branch").sum()) < branches_expected)
    infos = int(n_rule >= min_points)
    if "declared_unit_code" in points.columns:
        dec, un = points["declared_unit_code"], points["unit_code"]
        mism = (dec.notna() & un.notna() & (dec.astype(str) != un.astype(str))).to_numpy()
        if "location_precision" in points.columns:
            stand = is_stand_in(points["location_precision"]).to_numpy(dtype=bool)
        else:
            stand = np.zeros(len(points), bool)
        infos += int((mism & stand).sum())
        warnings_ += int((mism & ~stand).sum())
    if "location_precision" in points.columns:
        infos += int(bool(is_stand_in(points["location_precision"]).any()))
    xy = projected_xy(points) if xy is None else xy
    pairs = cKDTree(xy).query_pairs(duplicate_m, output_type="ndarray")
    infos += len(pairs) if per_point_findings(len(points)) else _pair_units(points, pairs).fillna("").nunique()
    return {"error": int(errors), "warning": warnings_, "info": infos}


def load_reach_counts(
    load_status: npt.NDArray[np.object_],
    coverage_share: npt.NDArray[np.float64],
    minutes: npt.NDArray[np.float64],
    population: npt.NDArray[np.float64],
) -> dict[str, int]:
    """Return how many findings of each severity :func:`load_findings` and :func:`reach_findings` give.

    From the points' ``load_status``, the units' ``coverage_share`` and the demand's
    ``minutes`` and ``population``, without building the findings.

    Examples
    --------
    >>> p = pd.DataFrame({"load_status": ["overloaded", "idle", "idle"], "visits_per_day": [90.0, 1.0, 1.0],
    ...                   "capacity_per_day": [64.0] * 3, "unit_code": ["A", "B", "B"]}, index=["P1", "P2", "P3"])
    >>> u = pd.DataFrame({"coverage_share": [1.0, 0.5], "population_beyond_standard": [0.0, 40.0]}, index=["A", "B"])
    >>> d = pd.DataFrame({"minutes": [5.0, np.inf], "population": [1.0, 2.0]})
    >>> found = [f["severity"] for f in [*load_findings(p), *reach_findings(u, d, 30, 5000)]]
    >>> counts = load_reach_counts(p["load_status"].to_numpy(), u["coverage_share"].to_numpy(),
    ...                            d["minutes"].to_numpy(), d["population"].to_numpy())
    >>> counts == {s: found.count(s) for s in ("error", "warning", "info")}, counts
    (True, {'error': 0, 'warning': 3, 'info': 1})
    """
    overloaded = int((load_status == "overloaded").sum())
    idle = int(bool((load_status == "idle").any()))
    beyond = int((coverage_share < 1 - 1e-9).sum())
    unreachable = int(bool((~np.isfinite(minutes) & (population > 0)).any()))
    return {"error": 0, "warning": overloaded + beyond + unreachable, "info": idle}


def load_findings(points: pd.DataFrame) -> list[Finding]:
    """Return findings on the load of each point: overloaded points, idle points (one line).

    Parameters
    ----------
    points
        Points with ``load_status``, ``visits_per_day``, ``capacity_per_day``, ``unit_code``.

    Returns
    -------
    list of dict
        Findings.

    Examples
    --------
    >>> p = pd.DataFrame({"load_status": ["overloaded", "idle"], "visits_per_day": [90.0, 1.0],
    ...                   "capacity_per_day": [64.0, 64.0], "unit_code": ["A", "B"]}, index=["P1", "P2"])
    >>> [f["rule"] for f in load_findings(p)]
    ['point_overloaded', 'points_idle']
    """
    rows = []
    for pid in points.index[points["load_status"] == "overloaded"]:
        r = points.loc[pid]
        rows.append(
            finding(
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
    idle = points.index[points["load_status"] == "idle"]
    if len(idle):
        shown = ", ".join(map(str, idle[:10])) + (f" … (+{len(idle) - 10})" if len(idle) > 10 else "")
        rows.append(
            finding(
                "points_idle",
                "info",
                f"{len(idle)} điểm dùng dưới {IDLE_UTILISATION:.0%} công suất: {shown}.",
                f"{len(idle)} points use less than {IDLE_UTILISATION:.0%} of their capacity: {shown}.",
                point_id=",".join(map(str, idle if per_point_findings(len(points)) else idle[:10])),
            )
        )
    return rows


def reach_findings(
    units: pd.DataFrame, demand: pd.DataFrame, max_minutes: float, max_distance_m: float
) -> list[Finding]:
    """Return findings on reach: people beyond the standard per unit, demand that reaches no point.

    Parameters
    ----------
    units
        Units with ``coverage_share`` and ``population_beyond_standard``.
    demand
        Demand with ``minutes`` and ``population``.
    max_minutes, max_distance_m
        The standard, quoted in the messages.

    Returns
    -------
    list of dict
        Findings.

    Examples
    --------
    >>> u = pd.DataFrame({"coverage_share": [1.0, 0.5], "population_beyond_standard": [0.0, 40.0]}, index=["A", "B"])
    >>> d = pd.DataFrame({"minutes": [5.0, np.inf], "population": [1.0, 2.0]})
    >>> [(f["rule"], f["unit_code"]) for f in reach_findings(u, d, 30, 5000)]
    [('people_beyond_standard', 'B'), ('unreachable_demand', None)]
    """
    rows = []
    for code in units.index[units["coverage_share"] < 1 - 1e-9]:
        r = units.loc[code]
        rows.append(
            finding(
                "people_beyond_standard",
                "warning",
                f"{r.get('full_name', code)}: {r['population_beyond_standard']:,.0f} người ở xa hơn chuẩn "
                f"({max_minutes:g} phút hoặc {max_distance_m / 1000:g} km).",
                f"{r.get('full_name', code)}: {r['population_beyond_standard']:,.0f} people beyond the standard "
                f"({max_minutes:g} min or {max_distance_m / 1000:g} km).",
                unit_code=code,
            )
        )
    pop = demand["population"].to_numpy(dtype=float)
    unreachable = ~np.isfinite(demand["minutes"].to_numpy(dtype=float)) & (pop > 0)
    if unreachable.any():
        rows.append(
            finding(
                "unreachable_demand",
                "warning",
                f"{int(unreachable.sum())} điểm dân cư ({pop[unreachable].sum():,.0f} người) "
                "không tới được điểm phục vụ nào trên mạng lưới.",
                f"{int(unreachable.sum())} demand points ({pop[unreachable].sum():,.0f} people) "
                "cannot reach any point on the network.",
            )
        )
    return rows


def sort_findings(findings: pd.DataFrame, extra: Sequence[Finding] = ()) -> pd.DataFrame:
    """Append ``extra`` findings and order them errors, then warnings, then info (stable).

    Examples
    --------
    >>> f = sort_findings(pd.DataFrame([finding("a", "info", "", "")]), [finding("b", "error", "", "")])
    >>> f["rule"].tolist()
    ['b', 'a']
    """
    if extra:
        findings = pd.concat([findings, pd.DataFrame(list(extra), columns=list(FINDING_COLUMNS))], ignore_index=True)
    order = {"error": 0, "warning": 1, "info": 2}
    return findings.sort_values("severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
