"""Property-based tests (hypothesis): generated bad frames, files and geometries.

Each property throws generated inputs at a public function and accepts exactly two
outcomes: a pointplan error (that also subclasses a builtin) with a message, or a result
that is checked against an independent computation (brute-force distances, rectangle
arithmetic, the shapely predicate). Anything else (a bare pandas/shapely/numpy error, a
wrong number, a modified input) fails. Examples are derandomised and no example database
is written, so a run is reproducible and leaves nothing in the checkout.
"""

from __future__ import annotations

import math
import re
import tempfile
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import pointplan
from pointplan import GeometryError, PointplanError, PointplanWarning
from pointplan._validate import VIETNAM_BBOX, check_nonnegative
from pointplan.access import assess
from pointplan.data import validate_units
from pointplan.network import CrowFliesEngine
from pointplan.points import LOCATION_PRECISIONS, POINT_COLUMNS, POINT_KINDS, read_points, validate_points

X0, Y0 = 585_000.0, 2_325_000.0
UTM = "EPSG:32648"
BUILTINS = (ValueError, LookupError, OSError, RuntimeError)

PROPS = settings(
    max_examples=40,
    deadline=3000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

UNITS = gpd.GeoDataFrame(
    {"name": ["A", "B"], "full_name": ["Phường A", "Xã B"], "kind": ["phuong", "xa"], "population": [300, 100]},
    geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 2000), shapely.box(X0 + 2000, Y0, X0 + 12000, Y0 + 2000)],
    index=pd.Index(["00001", "00002"], name="code"),
    crs=UTM,
)
UNITS_LONLAT_BOUNDS = tuple(UNITS.to_crs(4326).total_bounds)


def accept_error(err: BaseException) -> None:
    """An error is acceptable only as a pointplan error, also a builtin, with a message."""
    assert isinstance(err, PointplanError), f"bare {type(err).__name__}: {err}"
    assert isinstance(err, BUILTINS), f"{type(err).__name__} subclasses no builtin"
    assert str(err).strip()


def call(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call ``fn``; return its result or the pointplan error; fail on numpy RuntimeWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kw)
        except Exception as err:
            accept_error(err)
            event(f"{getattr(fn, '__name__', fn)}: {type(err).__name__}")
            return err
    event(f"{getattr(fn, '__name__', fn)}: result")
    noisy = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not noisy, [str(w.message) for w in noisy]
    assert not any(w.category is PointplanWarning for w in caught)  # only specific subclasses
    return result


# ---------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------

lon_lat = st.one_of(
    st.tuples(
        st.floats(UNITS_LONLAT_BOUNDS[0] - 0.05, UNITS_LONLAT_BOUNDS[2] + 0.05),
        st.floats(UNITS_LONLAT_BOUNDS[1] - 0.05, UNITS_LONLAT_BOUNDS[3] + 0.05),
    ),  # in/near the units
    st.tuples(st.floats(-180, 180), st.floats(-90, 90)),  # anywhere on Earth
    st.tuples(st.floats(20.9, 21.1), st.floats(105.7, 105.95)),  # latitude/longitude swapped
    st.tuples(st.floats(5e5, 7e5), st.floats(2.2e6, 2.4e6)),  # UTM metres declared as degrees
    st.tuples(st.sampled_from([math.nan, math.inf, -math.inf]), st.floats(20, 22)),
)
geometry = st.one_of(
    lon_lat.map(lambda xy: shapely.Point(*xy)),
    lon_lat.map(lambda xy: shapely.Point(*xy)),
    st.sampled_from(
        [
            None,
            shapely.Point(),
            shapely.box(105.8, 21.0, 105.81, 21.01),
            shapely.Polygon([(105.8, 21.0), (105.81, 21.01), (105.81, 21.0), (105.8, 21.01)]),  # bow-tie
            shapely.LineString([(105.8, 21.0), (105.81, 21.01)]),
            shapely.MultiPoint([(105.8, 21.0), (105.81, 21.01)]),
        ]
    ),
)
numberish = st.one_of(
    st.integers(-5, 50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "3", "-1", "1.5", "abc", "2,5", None]),
    st.text(max_size=4),
)
textish = st.one_of(
    st.text(max_size=12),
    st.none(),
    st.integers(-3, 3),
    st.sampled_from(["  Điểm  A ", unicodedata.normalize("NFD", "Phường Hoà"), "P.Thuỵ Khuê"]),
)
kindish = st.one_of(st.sampled_from([*POINT_KINDS, "chi nhánh", "Lưu Động", "cafe", "", None]), st.text(max_size=6))
column_values = {
    "name": textish,
    "point_id": st.one_of(st.sampled_from(["A", "B", " A ", "", None]), st.integers(0, 3), st.text(max_size=3)),
    "kind": kindish,
    "counters": numberish,
    "location_precision": st.sampled_from([*LOCATION_PRECISIONS, "gps", None]),
    "address": textish,
    "declared_unit_code": st.one_of(st.sampled_from(["00001", "1", 2, None]), st.text(max_size=5)),
}
crs_choice = st.sampled_from([None, "EPSG:4326", "EPSG:4326", "EPSG:32648", "EPSG:3857", "EPSG:4756"])


inside_lon_lat = st.tuples(
    st.floats(UNITS_LONLAT_BOUNDS[0] + 1e-4, UNITS_LONLAT_BOUNDS[2] - 1e-4),
    st.floats(UNITS_LONLAT_BOUNDS[1] + 1e-4, UNITS_LONLAT_BOUNDS[3] - 1e-4),
)
n_mutations = st.sampled_from([0, 0, 1, 1, 1, 2, 3])


@st.composite
def point_frames(draw: st.DrawFn) -> gpd.GeoDataFrame:
    """A clean points frame, then 0-3 mutations of the kind a planner's file has."""
    n = draw(st.integers(1, 5))
    data: dict[str, list[Any]] = {
        "name": [f"Điểm {i}" for i in range(n)],
        "point_id": [f"P{i}" for i in range(n)],
        "kind": [draw(st.sampled_from(POINT_KINDS)) for _ in range(n)],
        "counters": [draw(st.integers(0, 12)) for _ in range(n)],
        "location_precision": ["surveyed"] * n,
    }
    geoms: list[Any] = [shapely.Point(*draw(inside_lon_lat)) for _ in range(n)]
    crs: Any = "EPSG:4326"
    for _ in range(draw(n_mutations)):
        what = draw(
            st.sampled_from(
                ["drop_columns", "cell", "cell", "geometry", "geometry", "crs", "no_rows", "swap", "add_column"]
            )
        )
        row = draw(st.integers(0, n - 1))
        if what == "drop_columns" and data:
            for c in draw(st.sets(st.sampled_from(sorted(data)))):
                data.pop(c, None)
        elif what == "cell" and data:
            col = draw(st.sampled_from(sorted(data)))
            data[col][row] = draw(column_values[col])
        elif what == "add_column":
            col = draw(st.sampled_from(sorted(column_values)))
            data[col] = [draw(column_values[col]) for _ in range(n)]
        elif what == "geometry":
            geoms[row] = draw(geometry)
        elif what == "swap":
            geoms = [shapely.Point(g.y, g.x) if isinstance(g, shapely.Point) and not g.is_empty else g for g in geoms]
        elif what == "crs":
            crs = draw(crs_choice)
        elif what == "no_rows":
            data = {c: [] for c in data}
            geoms = []
            break
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, dtype="geometry"), crs=crs)


def check_valid_points(out: gpd.GeoDataFrame, given_frame: gpd.GeoDataFrame) -> None:
    """What a validated points frame must be, checked independently."""
    assert list(out.columns) == [*POINT_COLUMNS, "geometry"]
    assert out.crs.to_epsg() == 4326
    assert len(out) == len(given_frame)
    assert out.index.is_unique and list(out.index) == list(out["point_id"])
    assert (out.geometry.geom_type == "Point").all()
    xy = shapely.get_coordinates(out.geometry.values)
    assert np.isfinite(xy).all()
    xmin, ymin, xmax, ymax = VIETNAM_BBOX
    assert ((xy[:, 0] >= xmin) & (xy[:, 0] <= xmax) & (xy[:, 1] >= ymin) & (xy[:, 1] <= ymax)).all()
    assert out["kind"].isin(POINT_KINDS).all()
    assert out["location_precision"].isin(LOCATION_PRECISIONS).all()
    counters = out["counters"].dropna()
    assert (counters >= 0).all()
    # unit_code: the unit whose polygon covers the point (shapely predicate, in UTM)
    proj = out.geometry.to_crs(UTM)
    for pt, code in zip(proj, out["unit_code"], strict=True):
        inside = [c for c, poly in UNITS.geometry.items() if poly.buffer(1e-6).covers(pt)]
        if code is None or (isinstance(code, float) and math.isnan(code)):
            assert not [c for c, poly in UNITS.geometry.items() if poly.buffer(-1e-3).contains(pt)]
        else:
            assert code in inside


# ---------------------------------------------------------------------------------------
# validate_points
# ---------------------------------------------------------------------------------------


@PROPS
@given(frame=point_frames())
def test_validate_points_accepts_only_pointplan_errors_or_valid_points(frame: gpd.GeoDataFrame) -> None:
    """Generated bad frames (column subsets, NaN/negative/text numbers, any CRS or none,
    swapped/out-of-range coordinates, empty/invalid/wrong geometries) give a pointplan
    error or a valid frame; the input is never modified."""
    before = frame.copy(deep=True)
    out = call(validate_points, frame, units=UNITS)
    if not isinstance(out, Exception):
        check_valid_points(out, frame)
    pd.testing.assert_frame_equal(frame, before)


# ---------------------------------------------------------------------------------------
# read_points through temporary CSV files
# ---------------------------------------------------------------------------------------

cell = st.one_of(
    st.sampled_from(["105.85", "105,85", "21.03", "21,03", "", " ", "abc", "Điểm A", "chi nhánh", "-1", "3", "NA"]),
    st.floats(-200, 200).map(lambda v: f"{v:.5f}"),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=6),
)
header_names = ["point_id", "name", "kind", "counters", "lon", "lat", "kinh độ", "vĩ độ", "x", "y", "ghi chú"]


@st.composite
def csv_texts(draw: st.DrawFn) -> tuple[str, str]:
    """A clean points CSV (random separator and column names), then 0-3 typing mistakes."""
    lon_name, lat_name = draw(
        st.sampled_from([("lon", "lat"), ("kinh độ", "vĩ độ"), ("x", "y"), ("Longitude", "Latitude")])
    )
    header = [
        "point_id",
        "name",
        lon_name,
        lat_name,
        *draw(st.lists(st.sampled_from(["kind", "counters", "ghi chú"]), unique=True)),
    ]
    sep = draw(st.sampled_from([",", ";", "\t"]))
    good = {
        "point_id": lambda i: f"P{i}",
        "name": lambda i: f"Điểm {i}",
        lon_name: lambda i: f"105.8{5 + i % 3}",
        lat_name: lambda i: "21.01",
        "kind": lambda i: "chi nhánh",
        "counters": lambda i: str(i),
        "ghi chú": lambda i: "ngõ 12",
    }
    rows = [[good[h](i) for h in header] for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(n_mutations)):
        what = draw(st.sampled_from(["cell", "cell", "extra_field", "drop_header", "blank_line", "no_rows"]))
        if what == "cell" and any(rows):
            r = draw(st.sampled_from([i for i, row in enumerate(rows) if row]))
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(cell)
        elif what == "extra_field" and rows:
            rows[draw(st.integers(0, len(rows) - 1))].append("extra")
        elif what == "drop_header" and header:
            k = draw(st.integers(0, len(header) - 1))
            header = header[:k] + header[k + 1 :]
            rows = [r[:k] + r[k + 1 :] for r in rows]
        elif what == "blank_line":
            rows.insert(draw(st.integers(0, len(rows))), [" "])
        elif what == "no_rows":
            rows = []
    lines = [sep.join(header), *(sep.join(r) for r in rows)]
    eol = draw(st.sampled_from(["\n", "\r\n"]))  # Excel on Windows writes CRLF
    return eol.join(lines) + eol, draw(st.sampled_from(["utf-8", "utf-8-sig"]))


@PROPS
@given(content=csv_texts())
def test_read_points_accepts_only_pointplan_errors_or_valid_points(content: tuple[str, str]) -> None:
    """Generated CSV files (random headers, separators, text in coordinates, extra fields,
    blank lines) give a pointplan error naming the file, or valid points, one per data line."""
    text, encoding = content
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "points.csv"
        path.write_bytes(text.encode(encoding))
        raw = path.read_bytes()
        out = call(read_points, path, units=UNITS)
        assert path.read_bytes() == raw
    if isinstance(out, Exception):
        assert str(path) in str(out)  # the message names the file
        return
    data_lines = [ln for ln in re.split(r"\r\n|\n", text)[1:] if ln.strip()]
    if '"' not in text:
        assert len(out) == len(data_lines)
    check_valid_points(out, out)


# ---------------------------------------------------------------------------------------
# assess on a tiny synthetic city, cross-checked by brute force
# ---------------------------------------------------------------------------------------

DEMAND = gpd.GeoDataFrame(
    {"unit_code": ["00001", "00001", "00002", "00002"]},
    geometry=gpd.points_from_xy([X0 + 500, X0 + 1500, X0 + 4000, X0 + 11500], [Y0 + 1000] * 4),
    crs=UTM,
)
VISITS = pd.Series({"00001": 30.0, "00002": 10.0})
finite_utm_xy = st.one_of(
    st.tuples(st.floats(X0 - 5000, X0 + 20000), st.floats(Y0 - 5000, Y0 + 7000)),  # around the city
    st.tuples(st.floats(X0 - 1000, X0 + 1000), st.floats(Y0 + 150_000, Y0 + 250_000)),  # far, still Vietnam
)
utm_xy = st.one_of(
    finite_utm_xy,
    st.tuples(st.sampled_from([math.nan, math.inf]), st.just(Y0)),
    st.tuples(st.floats(-2e7, 2e7), st.floats(-1e7, 1e7)),  # anywhere (metres)
)


@st.composite
def assess_inputs(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Clean points (1-4) and demand around the tiny city, then 0-3 mutations."""
    n = draw(st.integers(1, 4))
    xy = [draw(finite_utm_xy) for _ in range(n)]
    cols: dict[str, list[Any]] = {
        "point_id": [f"P{i}" for i in range(n)],
        "name": [f"Điểm {i}" for i in range(n)],
        "kind": [draw(st.sampled_from(["unit_point", "branch", "mobile", "proposed"])) for _ in range(n)],
        "counters": [draw(st.integers(0, 12)) for _ in range(n)],
    }
    pop: list[Any] = [draw(st.floats(1, 1e4)) for _ in range(4)]
    crs: Any = UTM
    lonlat = False
    for _ in range(draw(n_mutations)):
        what = draw(
            st.sampled_from(
                [
                    "xy",
                    "kind",
                    "counters",
                    "duplicate_id",
                    "population",
                    "population",
                    "lonlat",
                    "no_crs",
                    "zero_counters",
                ]
            )
        )
        i = draw(st.integers(0, n - 1))
        if what == "xy":
            xy[i] = draw(utm_xy)
        elif what == "kind":
            cols["kind"][i] = draw(st.sampled_from(["cafe", "", "chi nhánh"]))
        elif what == "counters":
            cols["counters"][i] = draw(st.sampled_from([None, -1, 1.5, math.nan, "x", "3"]))
        elif what == "zero_counters":
            cols["counters"] = [0] * n
        elif what == "duplicate_id":
            cols["point_id"][i] = cols["point_id"][0]
        elif what == "population":
            pop[draw(st.integers(0, 3))] = draw(st.sampled_from([0.0, math.nan, -5.0, math.inf, "many"]))
        elif what == "lonlat":
            lonlat = True
        elif what == "no_crs":
            crs = None
    pts = gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy]), crs=UTM)
    if lonlat and np.isfinite(shapely.get_coordinates(pts.geometry.values)).all():
        pts = pts.to_crs(4326)  # the same places in lon/lat
    if crs is None:
        pts = pts.set_crs(None, allow_override=True)
    return pts, DEMAND.assign(population=pd.Series(pop, dtype=object))


@PROPS
@given(inputs=assess_inputs())
def test_assess_accepts_only_pointplan_errors_or_correct_results(
    inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    """Generated points and demand thrown at assess (crow flies, 12 km/h, circuity 1): a
    pointplan error, or minutes and coverage equal to a brute-force computation."""
    pts, demand = inputs
    before = (pts.copy(deep=True), demand.copy(deep=True))
    engine = CrowFliesEngine("bike", speed_kmh=12.0, circuity=1.0)
    a = call(assess, pts, UNITS, demand, engine=engine, visits=VISITS, modes=())
    pd.testing.assert_frame_equal(pts, before[0])
    pd.testing.assert_frame_equal(demand, before[1])
    if isinstance(a, Exception):
        return
    pxy = shapely.get_coordinates(pts.to_crs(UTM).geometry.values)
    dxy = shapely.get_coordinates(DEMAND.geometry.values)
    dist = np.hypot(dxy[:, None, 0] - pxy[None, :, 0], dxy[:, None, 1] - pxy[None, :, 1]).min(axis=1)
    expected_minutes = dist / 1000.0 * 5.0
    np.testing.assert_allclose(a.demand["minutes"].to_numpy(), expected_minutes, rtol=1e-9, atol=1e-6)
    within = (expected_minutes <= 30 + 1e-6) | (dist <= 5000 + 1e-6)
    assert a.demand["within_standard"].tolist() == within.tolist()
    pop = demand["population"].to_numpy(dtype=float)
    assert a.summary["population"] == pytest.approx(pop.sum())
    assert a.summary["population_within_standard"] == pytest.approx(pop[within].sum())
    assert a.summary["points"] == len(pts)
    # every visit goes to some point (nearest and Huff), 40 a day when every unit has people
    total = a.demand["visits_per_day"].sum()
    assert a.points["visits_per_day"].sum() == pytest.approx(total)
    assert a.points["visits_per_day_huff"].sum() == pytest.approx(total)
    if (demand.groupby("unit_code")["population"].sum() > 0).all():
        assert total == pytest.approx(40.0)


def test_assess_with_nobody_within_reach() -> None:
    """Regression (found by the property above): a point 200 km from all demand. Nobody is
    within the catchment, so every visit goes to the nearest point; once raised a numpy
    casting error in the Huff model."""
    far = gpd.GeoDataFrame(
        {"point_id": ["P"], "name": ["P"], "kind": ["unit_point"], "counters": [2]},
        geometry=[shapely.Point(X0 + 500, Y0 + 201_000)],
        crs=UTM,
    )
    a = assess(
        far,
        UNITS,
        DEMAND.assign(population=[1.0, 1.0, 1.0, 1.0]),
        engine=CrowFliesEngine("bike", speed_kmh=12.0, circuity=1.0),
        visits=VISITS,
        modes=(),
    )
    assert a.demand["minutes"].iloc[0] == pytest.approx(1000.0)  # 200 km at 5 min/km
    assert a.summary["population_within_standard_share"] == 0.0
    assert a.points.loc["P", "visits_per_day"] == pytest.approx(40.0)
    assert a.points.loc["P", "visits_per_day_huff"] == pytest.approx(40.0)
    assert a.points.loc["P", "utilisation"] == pytest.approx(40.0 / 64.0)


# ---------------------------------------------------------------------------------------
# validate_units on generated tilings (overlaps by rectangle arithmetic)
# ---------------------------------------------------------------------------------------


@st.composite
def tilings(draw: st.DrawFn) -> tuple[list[tuple[float, float, float, float]], bool]:
    boxes = [(i * 1000.0, j * 1000.0, (i + 1) * 1000.0, (j + 1) * 1000.0) for i in range(3) for j in range(3)]
    drop_centre = draw(st.booleans())
    k = draw(st.integers(0, 8))
    dx = draw(st.sampled_from([0.0, 0.3, -0.4, 5.0, -20.0, 150.0, -400.0]))
    dy = draw(st.sampled_from([0.0, 0.2, 30.0, -250.0]))
    x1, y1, x2, y2 = boxes[k]
    boxes[k] = (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
    if drop_centre:
        boxes[4] = None  # type: ignore[call-overload]
    return [b for b in boxes if b is not None], drop_centre and k == 4


def _rect_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


@PROPS
@given(tiling=tilings())
def test_validate_units_on_generated_tilings(tiling: tuple[list[tuple[float, ...]], bool]) -> None:
    """Overlaps above 0.1 ha give a GeometryError naming exactly the pairs at fault (areas by
    rectangle arithmetic); a clean 3x3 tiling passes; a missing centre is a gap."""
    boxes, _ = tiling
    codes = [f"{i:05d}" for i in range(len(boxes))]
    units = gpd.GeoDataFrame(
        {"population": [1] * len(boxes)},
        geometry=[shapely.box(X0 + b[0], Y0 + b[1], X0 + b[2], Y0 + b[3]) for b in boxes],
        index=pd.Index(codes, name="code"),
        crs=UTM,
    )
    bad_pairs = {
        f"{codes[i]}/{codes[j]}"
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if _rect_overlap(boxes[i], boxes[j]) > 1000.0
    }
    out = call(validate_units, units)
    if bad_pairs:
        assert isinstance(out, GeometryError) and "overlap" in str(out)
        assert set(re.findall(r"\d{5}/\d{5}", str(out))) == bad_pairs
    elif isinstance(out, Exception):
        assert isinstance(out, GeometryError) and "gap" in str(out)
    else:
        assert out is units
    untouched = len(boxes) == 9 and all(
        b == (i * 1000.0, j * 1000.0, (i + 1) * 1000.0, (j + 1) * 1000.0)
        for b, (i, j) in zip(boxes, [(i, j) for i in range(3) for j in range(3)], strict=True)
    )
    if untouched:
        assert out is units
    if len(boxes) == 8 and not bad_pairs and all(abs(b[0] % 1000) < 1e-9 and abs(b[1] % 1000) < 1e-9 for b in boxes):
        assert isinstance(out, GeometryError) and "gap" in str(out)


# ---------------------------------------------------------------------------------------
# Numeric columns and names
# ---------------------------------------------------------------------------------------


@PROPS
@given(values=st.lists(numberish, min_size=1, max_size=6), allow_na=st.booleans())
def test_check_nonnegative_returns_finite_nonnegative_numbers_or_errors(values: list[Any], allow_na: bool) -> None:
    """Typed-by-hand numbers: an InputError naming the column, or the same numbers as floats."""
    df = pd.DataFrame({"population": pd.Series(values, dtype=object)})
    out = call(check_nonnegative, df, "population", "demand", allow_na=allow_na)
    if isinstance(out, Exception):
        assert "'population'" in str(out)
        return
    for v, got in zip(values, out, strict=True):
        if v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and math.isnan(v)):
            assert allow_na and math.isnan(got)
        else:
            assert got == pytest.approx(float(v)) and got >= 0 and math.isfinite(got)


vietnamese = st.text(
    alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ HP.",
    max_size=20,
)


@PROPS
@given(name=vietnamese)
def test_name_key_ignores_unicode_form_spaces_and_case(name: str) -> None:
    """NFD/NFC, surrounding and repeated spaces, and case never change a join key."""
    key = pointplan.name_key(name)
    assert pointplan.name_key(unicodedata.normalize("NFD", name)) == key
    assert pointplan.name_key("  " + name.replace(" ", "  ") + " \t") == key
    assert pointplan.name_key(name.upper()) == key
