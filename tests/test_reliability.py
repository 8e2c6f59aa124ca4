"""The reliability catalogue: every bad input of the reliability issue, in one place.

One test (or one parametrised test) per case of the issue "Planners will feed pointplan
spreadsheets typed by hand, files from other offices and odd projections". Each bad input
must raise a *specific* pointplan error that also subclasses the builtin one a Python user
expects, with a message naming the row / column / file and saying how to fix it, never a
bare pandas/shapely/numpy traceback. Parametrised cases carry an id naming the variant.

Sections: A tables · B CRS and coordinates · C geometries · D Vietnamese text · E road
networks · F reference data · G command line · H inputs never modified · I atomic outputs
· J safety (escaping, no code from data, offline by default).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

import pointplan
from pointplan import (
    CRSError,
    DataIntegrityError,
    DataNotFoundError,
    GeometryError,
    InputError,
    MissingColumnError,
    NetworkError,
    OfflineError,
    PointplanError,
    PrecisionWarning,
    UnreachableWarning,
    cli,
    settings,
)
from pointplan.access import assess, check_rules
from pointplan.data import DATASETS, data_file, representative_points, validate_units
from pointplan.io import write_scenario, write_table
from pointplan.network import CrowFliesEngine, NetworkEngine
from pointplan.points import read_points, validate_points

X0, Y0 = 585_000.0, 2_325_000.0  # UTM 48N, central Hanoi (lon 105.82, lat 21.02)
UTM = "EPSG:32648"
SRC = Path(pointplan.__file__).resolve().parent


# ---------------------------------------------------------------------------------------
# Helpers and tiny fixtures (hand-checkable)
# ---------------------------------------------------------------------------------------


def check_error(excinfo: pytest.ExceptionInfo[BaseException], builtin: type[BaseException], *fragments: str) -> str:
    """The error is a pointplan error, also the builtin, and its message has every fragment."""
    err = excinfo.value
    assert isinstance(err, PointplanError), f"{type(err).__name__} is not a PointplanError: {err}"
    assert isinstance(err, builtin), f"{type(err).__name__} does not subclass {builtin.__name__}"
    text = str(err)
    for frag in fragments:
        assert frag.lower() in text.lower(), f"{frag!r} not in message: {text}"
    assert "Traceback" not in text
    return text


def write_csv(tmp_path: Path, text: str | bytes, name: str = "points.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def pts_frame(xy: list[tuple[float, float]], crs: Any = "EPSG:4326", **cols: Any) -> gpd.GeoDataFrame:
    data = {"name": [f"Điểm {i}" for i in range(len(xy))], **cols}
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(x, y) for x, y in xy], crs=crs)


@pytest.fixture
def tiny(tiny_city: dict[str, Any]) -> dict[str, Any]:
    """The synthetic city of ``conftest.tiny_city`` (hand-worked answers there)."""
    return tiny_city


def run_assess(t: dict[str, Any], **change: Any) -> pointplan.Assessment:
    args = {k: t[k] for k in ("points", "units", "demand")}
    kw = {k: v for k, v in change.items() if k not in args}
    args.update({k: v for k, v in change.items() if k in args})
    return assess(args["points"], args["units"], args["demand"], engine=t["engine"], visits=t["visits"], modes=(), **kw)


def line_graph(n: int = 4, step_m: float = 1000.0, *, crs: str = UTM, **edge: Any) -> nx.MultiDiGraph:
    """Nodes 0..n-1 on a straight street every ``step_m``; two-way primary edges."""
    G = nx.MultiDiGraph(crs=crs)
    for i in range(n):
        G.add_node(i, x=X0 + i * step_m, y=Y0)
    attrs = {"length": step_m, "highway": "primary", **edge}
    for i in range(n - 1):
        G.add_edge(i, i + 1, **attrs)
        G.add_edge(i + 1, i, **attrs)
    return G


def at(xs: list[float], ys: list[float] | None = None) -> gpd.GeoDataFrame:
    ys = [Y0] * len(xs) if ys is None else ys
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=UTM)


def grid_units(n: int = 3, size_m: float = 1000.0, *, skip: tuple[int, int] | None = None) -> gpd.GeoDataFrame:
    cells, codes = [], []
    for i in range(n):
        for j in range(n):
            if (i, j) == skip:
                continue
            cells.append(shapely.box(X0 + i * size_m, Y0 + j * size_m, X0 + (i + 1) * size_m, Y0 + (j + 1) * size_m))
            codes.append(f"{10 * i + j:05d}")
    return gpd.GeoDataFrame(
        {"population": [100] * len(cells)}, geometry=cells, index=pd.Index(codes, name="code"), crs=UTM
    )


# =======================================================================================
# A. Tables typed by hand
# =======================================================================================


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        pytest.param(
            "points_frame_without_name", ["lacks the column 'name'", "add a 'name' column"], id="points-no-name"
        ),
        pytest.param("csv_without_lon_lat", ["needs longitude and latitude", "lon_col="], id="csv-no-lon-lat"),
        pytest.param("assess_points_without_kind", ["['kind']", "validate_points"], id="assess-points-no-kind"),
        pytest.param("demand_without_population", ["lacks the column 'population'"], id="demand-no-population"),
        pytest.param("records_without_ward", ["lacks the column 'ward'", "ward_col="], id="records-no-ward"),
    ],
)
def test_missing_columns(case: str, fragments: list[str], tmp_path, tiny, units) -> None:
    """Missing columns: MissingColumnError/InputError (a ValueError) naming the column and the fix."""
    calls: dict[str, Callable[[], object]] = {
        "points_frame_without_name": lambda: validate_points(
            pts_frame([(105.85, 21.03)]).drop(columns="name"), units=units
        ),
        "csv_without_lon_lat": lambda: read_points(write_csv(tmp_path, "name,x_coord\nA,1\n"), units=units),
        "assess_points_without_kind": lambda: run_assess(tiny, points=tiny["points"].drop(columns="kind")),
        "demand_without_population": lambda: run_assess(tiny, demand=tiny["demand"].drop(columns="population")),
        "records_without_ward": lambda: pointplan.convert_old_units(pd.DataFrame({"phuong": ["Xuân La"]}), units=units),
    }
    with pytest.raises(InputError) as e:
        calls[case]()
    check_error(e, ValueError, *fragments)
    if case != "records_without_ward":
        assert isinstance(e.value, MissingColumnError)


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        pytest.param("counters_text", ["'counters' must be numeric", "rows 0", "'abc'"], id="counters-text"),
        pytest.param("counters_fraction", ["whole numbers", "1.5"], id="counters-fraction"),
        pytest.param(
            "csv_coordinate_text", ["column 'lon' must hold numbers", "lines [3]", "'abc'"], id="csv-lon-text"
        ),
        pytest.param(
            "csv_extra_field", ["lines [2]", "more fields than the header", "double quotes"], id="csv-extra-field"
        ),
        pytest.param("demand_population_text", ["'population' must be numeric", "'many'"], id="population-text"),
        pytest.param("max_minutes_text", ["max_minutes must be a number", "'thirty'"], id="max-minutes-text"),
    ],
)
def test_wrong_types(case: str, fragments: list[str], tmp_path, tiny, units) -> None:
    """Wrong types (text in numbers, fractions of counters): InputError naming column and row/line."""
    calls: dict[str, Callable[[], object]] = {
        "counters_text": lambda: validate_points(pts_frame([(105.85, 21.03)], counters=["abc"]), units=units),
        "counters_fraction": lambda: validate_points(pts_frame([(105.85, 21.03)], counters=[1.5]), units=units),
        "csv_coordinate_text": lambda: read_points(
            write_csv(tmp_path, "name,lon,lat\nA,105.85,21.03\nB,abc,21.0\n"), units=units
        ),
        "csv_extra_field": lambda: read_points(
            write_csv(tmp_path, "name,lon,lat\nPhường A, Hà Nội,105.85,21.03\n"), units=units
        ),
        "demand_population_text": lambda: run_assess(tiny, demand=tiny["demand"].assign(population=["many", 1, 1, 1])),
        "max_minutes_text": lambda: run_assess(tiny, max_minutes="thirty"),
    }
    with pytest.raises(InputError) as e:
        calls[case]()
    check_error(e, ValueError, *fragments)


@pytest.mark.parametrize(
    ("name", "content", "fragments"),
    [
        pytest.param("zero.csv", b"", ["is empty (0 bytes)"], id="csv-0-bytes"),
        pytest.param("blank.csv", "\n \n\t\n", ["holds only blank lines"], id="csv-blank-lines"),
        pytest.param("header.csv", "name,lon,lat\n", ["header but no rows"], id="csv-header-only"),
        pytest.param(
            "empty.geojson", '{"type": "FeatureCollection", "features": []}', ["has no rows"], id="geojson-no-features"
        ),
        pytest.param("garbage.geojson", b"\x00\x01not json", ["could not be read as geojson"], id="geojson-garbage"),
        pytest.param(
            "latin1.csv",
            "name,lon,lat\nPh\xf9\xf4ng,105.85,21.03\n".encode("latin-1"),
            ["not UTF-8", "CSV UTF-8"],
            id="csv-not-utf8",
        ),
    ],
)
def test_empty_files(name: str, content: str | bytes, fragments: list[str], tmp_path, units) -> None:
    """Empty (or unreadable) files: InputError naming the file, never a pandas/pyogrio error."""
    path = write_csv(tmp_path, content, name)
    with pytest.raises(InputError) as e:
        read_points(path, units=units)
    check_error(e, ValueError, str(path), *fragments)


def test_empty_frames(tiny, units) -> None:
    """Empty frames (no points, no demand) and an unreadable scenario file: InputError."""
    with pytest.raises(InputError) as e:
        validate_points(pts_frame([]), units=units)
    check_error(e, ValueError, "no rows")
    with pytest.raises(InputError) as e:
        run_assess(tiny, demand=tiny["demand"].iloc[:0])
    check_error(e, ValueError, "demand is empty")
    with pytest.raises(InputError) as e:
        run_assess(tiny, points=tiny["points"].iloc[:0])
    check_error(e, ValueError, "points is empty")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param("", "is empty or has no header line", id="dossiers-empty"),
        pytest.param("phuong\nXuân La\n", "lacks the column 'ward'", id="dossiers-no-ward-column"),
        pytest.param("ward\nPh\xf9\xf4ng\n".encode("latin-1"), "not UTF-8", id="dossiers-not-utf8"),
    ],
)
def test_empty_or_bad_dossier_records(content: str | bytes, fragment: str, tmp_path, capsys, monkeypatch) -> None:
    """An empty or malformed dossier-records file given to `pointplan run --dossiers`: exit 2,
    a message naming the file, before any long computation."""
    _no_long_work(monkeypatch)
    path = write_csv(tmp_path, content, "dossiers.csv")
    rc, _, err = _cli(["run", "--dossiers", str(path), "--out", str(tmp_path / "out")], capsys)
    assert rc == 2
    assert str(path) in err and fragment in err and "Traceback" not in err


def test_duplicate_point_ids(tmp_path, tiny, units) -> None:
    """Duplicate point ids: InputError naming the duplicated id, in files and frames."""
    path = write_csv(tmp_path, "point_id,name,lon,lat\nA,x,105.85,21.03\n B ,y,105.86,21.03\nB,z,105.87,21.03\n")
    with pytest.raises(InputError) as e:
        read_points(path, units=units)
    check_error(e, ValueError, "'point_id' must be unique", "'B'", "own id")  # " B " is B after stripping
    with pytest.raises(InputError) as e:
        run_assess(tiny, points=pd.concat([tiny["points"], tiny["points"]]))
    check_error(e, ValueError, "duplicate point_id", "P1")


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        pytest.param("demand_nan", ["'population' is missing (NaN)", "rows 2"], id="population-nan"),
        pytest.param("demand_negative", ["'population' is negative", "rows 1", "-5"], id="population-negative"),
        pytest.param("demand_infinite", ["'population' is infinite", "rows 0"], id="population-infinite"),
        pytest.param("demand_all_zero", ["every 'population' is 0"], id="population-all-zero"),
        pytest.param("counters_negative", ["'counters' is negative", "'P1'"], id="capacity-negative"),
        pytest.param(
            "units_population_negative", ["'population' is negative", "'00002'"], id="units-population-negative"
        ),
        pytest.param(
            "build_demand_units_nan", ["'population' must hold finite numbers", "'00001'"], id="build-demand-units-nan"
        ),
    ],
)
def test_nan_or_negative_population_or_capacity(case: str, fragments: list[str], tiny) -> None:
    """NaN/negative/infinite population or capacity: InputError naming the column and the rows."""
    d = tiny["demand"]
    calls: dict[str, Callable[[], object]] = {
        "demand_nan": lambda: run_assess(tiny, demand=d.assign(population=[1.0, 2.0, np.nan, 4.0])),
        "demand_negative": lambda: run_assess(tiny, demand=d.assign(population=[1.0, -5.0, 3.0, 4.0])),
        "demand_infinite": lambda: run_assess(tiny, demand=d.assign(population=[np.inf, 2.0, 3.0, 4.0])),
        "demand_all_zero": lambda: run_assess(tiny, demand=d.assign(population=0.0)),
        "counters_negative": lambda: run_assess(tiny, points=tiny["points"].assign(counters=[-2])),
        "units_population_negative": lambda: validate_units(tiny["units"].assign(population=[300, -100])),
        "build_demand_units_nan": lambda: pointplan.build_demand(
            tiny["units"].assign(population=[np.nan, 100]), method="uniform"
        ),
    }
    with pytest.raises(InputError) as e:
        calls[case]()
    check_error(e, ValueError, *fragments)


# =======================================================================================
# B. CRS and coordinates
# =======================================================================================


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        pytest.param("points", ["points has no CRS", "set_crs('EPSG:4326')"], id="points"),
        pytest.param("assess_units", ["units has no CRS", "set_crs"], id="units"),
        pytest.param("assess_demand", ["demand has no CRS"], id="demand"),
        pytest.param("graph", ["G.graph['crs']"], id="road-graph"),
    ],
)
def test_crs_missing(case: str, fragments: list[str], tiny, units) -> None:
    """CRS missing: CRSError (a ValueError) naming the frame and how to set the CRS."""
    no_crs = {k: tiny[k].set_crs(None, allow_override=True) for k in ("points", "units", "demand")}
    G = line_graph()
    del G.graph["crs"]
    calls: dict[str, Callable[[], object]] = {
        "points": lambda: validate_points(pts_frame([(105.85, 21.03)], crs=None), units=units),
        "assess_units": lambda: run_assess(tiny, units=no_crs["units"]),
        "assess_demand": lambda: run_assess(tiny, demand=no_crs["demand"]),
        "graph": lambda: NetworkEngine(G, "motorbike"),
    }
    with pytest.raises(CRSError) as e:
        calls[case]()
    check_error(e, ValueError, *fragments)


_DEGREES_DEFECT = (
    "computes distances in degrees when settings.projected_crs is geographic; call pointplan._validate.projected_crs()"
)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param("assess", id="assess"),
        pytest.param("representative_points", id="representative-points"),
        pytest.param("validate_units", id="validate-units"),
        pytest.param("geocode_points", id="geocode-points"),
        pytest.param("crow_flies_engine", id="crow-flies-engine"),
        pytest.param("grid_candidates", id="grid-candidates"),
        pytest.param("uniform_demand", id="uniform-demand"),
    ],
)
def test_geographic_crs_for_distances(case: str, tiny, monkeypatch) -> None:
    """A geographic CRS set for distances (settings.projected_crs = EPSG:4326): CRSError, not degrees."""
    from pointplan.candidates import grid_candidates
    from pointplan.geocode import geocode_points

    monkeypatch.setattr(settings, "projected_crs", "EPSG:4326")
    calls: dict[str, Callable[[], object]] = {
        "assess": lambda: run_assess(tiny),
        "representative_points": lambda: representative_points(tiny["units"]),
        "validate_units": lambda: validate_units(tiny["units"]),
        "geocode_points": lambda: geocode_points(tiny["points"].assign(location_precision="unit_representative_point")),
        "crow_flies_engine": lambda: CrowFliesEngine("bike").nearest(tiny["demand"], tiny["points"]),
        "grid_candidates": lambda: grid_candidates(tiny["demand"], spacing_m=500),
        "uniform_demand": lambda: pointplan.build_demand(tiny["units"], method="uniform"),
    }
    try:
        calls[case]()
    except CRSError as err:
        assert isinstance(err, ValueError)
        assert "pointplan.settings.projected_crs" in str(err) and "EPSG:32648" in str(err)
    else:
        msg = f"{case} measured distances in a geographic CRS without an error"
        raise AssertionError(msg)


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        pytest.param("csv", ["look swapped", "rows 2", "swap the columns"], id="csv-lat-lon"),
        pytest.param("frame", ["look swapped", "longitude is x"], id="frame-lat-lon"),
        pytest.param("assess", ["look swapped", "'P1'"], id="assess-points"),
        pytest.param(
            "utm_as_degrees", ["outside vietnam", "the crs they were given in"], id="metres-declared-as-degrees"
        ),
        pytest.param("other_country", ["outside vietnam", "x=100.5000"], id="another-country"),
    ],
)
def test_lon_lat_swapped(case: str, fragments: list[str], tmp_path, tiny, units) -> None:
    """Longitude/latitude swapped (or in the wrong CRS, landing in another country): CRSError."""
    swapped_p1 = tiny["points"].to_crs(4326)
    swapped_p1 = swapped_p1.set_geometry(gpd.points_from_xy(swapped_p1.geometry.y, swapped_p1.geometry.x), crs=4326)
    calls: dict[str, Callable[[], object]] = {
        "csv": lambda: read_points(write_csv(tmp_path, "name,lon,lat\nA,21.03,105.85\n"), units=units),
        "frame": lambda: validate_points(pts_frame([(21.03, 105.85), (21.0, 105.8)]), units=units),
        "assess": lambda: run_assess(tiny, points=swapped_p1),
        "utm_as_degrees": lambda: read_points(write_csv(tmp_path, "name,lon,lat\nA,585000,2325000\n"), units=units),
        "other_country": lambda: validate_points(pts_frame([(100.5, 13.75)]), units=units),  # Bangkok
    }
    with pytest.raises(CRSError) as e:
        calls[case]()
    check_error(e, ValueError, *fragments)


def test_points_outside_hanoi(tmp_path, tiny, units) -> None:
    """Points outside Hanoi (in the sea, Hải Phòng): kept with a PrecisionWarning naming them,
    unit_code None, and reported as an error finding by the rule checks."""
    path = write_csv(
        tmp_path,
        "point_id,name,lon,lat\nHP,Hải Phòng,106.68,20.86\nSEA,Vịnh Bắc Bộ,107.5,20.0\nHN,Hà Nội,105.85,21.03\n",
    )
    with pytest.warns(PrecisionWarning, match=r"2 point\(s\) lie outside Hanoi.*'HP', 'SEA'"):
        pts = read_points(path, units=units)
    assert pts["unit_code"].isna().tolist() == [True, True, False]
    assert pts.loc["HN", "unit_code"] == "00070"  # Phường Hoàn Kiếm
    f = check_rules(pts, units)
    outside = f[f["rule"] == "point_outside_hanoi"]
    assert sorted(outside["point_id"]) == ["HP", "SEA"] and (outside["severity"] == "error").all()


# =======================================================================================
# C. Geometries
# =======================================================================================

_BOWTIE = shapely.Polygon([(X0, Y0), (X0 + 2000, Y0 + 2000), (X0 + 2000, Y0), (X0, Y0 + 2000)])


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        pytest.param(
            "unit_self_intersection", ["'00001'", "self-intersection", "make_valid()"], id="unit-self-intersection"
        ),
        pytest.param("assess_invalid_unit", ["'00001'", "self-intersection", "make_valid()"], id="assess-invalid-unit"),
        pytest.param("unit_empty", ["'00002'", "no geometry"], id="unit-empty"),
        pytest.param("unit_wrong_type", ["'00002'", "LineString", "Polygon/MultiPolygon"], id="unit-line"),
        pytest.param("point_empty", ["missing or empty geometries", "rows 1"], id="point-empty"),
        pytest.param("point_none", ["missing or empty geometries", "rows 0"], id="point-none"),
        pytest.param(
            "point_is_polygon", ["must hold Point geometries", "Polygon", "representative_point"], id="point-polygon"
        ),
        pytest.param("point_nan_coordinate", ["not finite numbers", "rows 0"], id="point-nan"),
        pytest.param("assess_point_polygon", ["must hold Point", "'P1'"], id="assess-point-polygon"),
    ],
)
def test_invalid_geometries(case: str, fragments: list[str], tiny, units) -> None:
    """Invalid geometries (self-intersections, empty, wrong type, NaN): GeometryError naming the
    unit code or row, suggesting make_valid for invalid polygons."""
    u = tiny["units"]
    calls: dict[str, Callable[[], object]] = {
        "unit_self_intersection": lambda: validate_units(u.set_geometry([_BOWTIE, u.geometry.iloc[1]], crs=UTM)),
        "assess_invalid_unit": lambda: run_assess(tiny, units=u.set_geometry([_BOWTIE, u.geometry.iloc[1]], crs=UTM)),
        "unit_empty": lambda: validate_units(u.set_geometry([u.geometry.iloc[0], shapely.Polygon()], crs=UTM)),
        "unit_wrong_type": lambda: validate_units(
            u.set_geometry([u.geometry.iloc[0], shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], crs=UTM)
        ),
        "point_empty": lambda: validate_points(
            gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(105.85, 21.03), shapely.Point()], crs=4326),
            units=units,
        ),
        "point_none": lambda: validate_points(
            gpd.GeoDataFrame({"name": ["a"]}, geometry=[None], crs=4326), units=units
        ),
        "point_is_polygon": lambda: validate_points(
            gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(105.8, 21.0, 105.9, 21.1)], crs=4326), units=units
        ),
        "point_nan_coordinate": lambda: validate_points(pts_frame([(np.nan, 21.03)]), units=units),
        "assess_point_polygon": lambda: run_assess(
            tiny, points=tiny["points"].set_geometry([shapely.box(X0, Y0, X0 + 10, Y0 + 10)], crs=UTM)
        ),
    }
    with pytest.raises(GeometryError) as e:
        calls[case]()
    check_error(e, ValueError, *fragments)


def test_units_that_overlap() -> None:
    """Units that overlap: GeometryError naming both unit codes and the overlap area."""
    u = grid_units(2)

    def shifted(xoff: float) -> gpd.GeoDataFrame:
        geoms = u.geometry.copy()
        geoms.loc["00010"] = shapely.affinity.translate(geoms.loc["00010"], xoff=xoff)
        return u.set_geometry(geoms)

    with pytest.raises(GeometryError) as e:
        validate_units(shifted(-300.0))  # 300 m into 00000: 0.3 km²
    text = check_error(e, ValueError, "overlap", "00000/00010 (0.300 km²)", "clip")
    assert re.findall(r"\d{5}/\d{5}", text) == ["00000/00010"]  # only the pair at fault
    # a sliver below the 0.1 ha tolerance (digitising noise) is accepted
    assert validate_units(shifted(-0.5)) is not None


def test_units_that_leave_gaps(units) -> None:
    """Units that leave gaps: GeometryError naming the units around the gap and where it is;
    a clean tiling and the real 126 units pass."""
    with pytest.raises(GeometryError) as e:
        validate_units(grid_units(3, skip=(1, 1)))  # the centre cell is missing
    text = check_error(e, ValueError, "1 gap(s)", "1.000 km²", "between units")
    for neighbour in ("00001", "00010", "00012", "00021"):
        assert neighbour in text
    assert validate_units(grid_units(3)) is not None
    assert validate_units(units) is units  # no false positive on the real data (slivers < 0.1 ha)


# =======================================================================================
# D. Vietnamese text used for joins
# =======================================================================================

_FORMS = {
    "nfc": "Phường Xuân La",
    "nfd": unicodedata.normalize("NFD", "Phường Xuân La"),
    "stray-spaces": "  Phường   Xuân\u00a0La \t",
    "p-dot": "P. Xuân La",
    "p-dot-no-space": "P.Xuân La",
    "lower-case": "phường xuân la",
}


@pytest.mark.parametrize("form", list(_FORMS), ids=list(_FORMS))
def test_vietnamese_name_forms_join(form: str) -> None:
    """NFD vs NFC, stray spaces, 'P.'/'Phường' forms: the same join key and the same 2025 unit."""
    text = _FORMS[form]
    assert pointplan.name_key(text) == pointplan.name_key("Phường Xuân La") == "xuân la"
    res = pointplan.convert_old_units(pd.DataFrame({"ward": [text]}))
    assert res.n_unmatched == 0
    assert res.records["new_unit_code"].tolist() == ["00611"]  # Phường Xuân Đỉnh (2025)


def test_vietnamese_tone_placement_joins() -> None:
    """'Hoà' vs 'Hòa' (old and new tone placement) and NFD: the same key and the same unit."""
    forms = ["Xã Hòa Thạch", "Xã Hoà Thạch", unicodedata.normalize("NFD", "xã  hoà thạch")]
    assert len({pointplan.name_key(f) for f in forms}) == 1
    assert pointplan.normalize_name("Ứng Hoà") == "Ứng Hòa"
    res = pointplan.convert_old_units(
        pd.DataFrame({"ward": forms, "district": ["Quốc Oai", "H. Quốc Oai", "huyện Quốc Oai"]}),
        district_col="district",
    )
    assert res.n_unmatched == 0 and res.records["new_unit_code"].nunique() == 1


def test_vietnamese_text_in_point_files(tmp_path, units) -> None:
    """NFD headers ('kinh độ'/'vĩ độ') and kinds ('chi nhánh') typed in a points file are understood."""
    text = "name,kinh độ,vĩ độ,kind\nChi nhánh 1,105.85,21.03,Chi Nhánh\n"
    path = write_csv(tmp_path, unicodedata.normalize("NFD", text))
    pts = read_points(path, units=units)
    assert pts.iloc[0]["kind"] == "branch"
    assert pts.iloc[0]["name"] == "Chi nhánh 1" and unicodedata.is_normalized("NFC", pts.iloc[0]["name"])


def test_vietnamese_invisible_characters_join() -> None:
    """Zero-width spaces and a BOM pasted with a name: the same join key."""
    assert pointplan.name_key("Phường Hoàn\u200b Kiếm") == "hoàn kiếm"
    assert pointplan.name_key("\ufeffPhường Hoàn Kiếm") == "hoàn kiếm"


# =======================================================================================
# E. Road networks
# =======================================================================================


def test_network_with_disconnected_parts() -> None:
    """A disconnected part: its origins get missing minutes (never inf), no destination, and an UnreachableWarning
    with the count; the others get the right time (3 km at 30 km/h = 6 min)."""
    G = line_graph()
    G.add_node(10, x=X0 + 50_000, y=Y0)
    G.add_node(11, x=X0 + 51_000, y=Y0)
    G.add_edge(10, 11, length=1000.0, highway="primary")
    G.add_edge(11, 10, length=1000.0, highway="primary")
    eng = NetworkEngine(G, "motorbike")
    with pytest.warns(UnreachableWarning, match="2 of 3 origins cannot reach"):
        out = eng.nearest(at([X0, X0 + 50_000, X0 + 51_000]), at([X0 + 3000]))
    assert out["minutes"].iloc[0] == pytest.approx(6.0) and out["minutes"].iloc[1:].isna().all()
    assert out["dest"].isna().tolist() == [False, True, True]


def test_network_zero_length_edge_between_coincident_nodes() -> None:
    """A zero-length edge joining two nodes at the same place: time 0 on it, answers unchanged."""
    G = line_graph()
    G.add_node(9, x=X0, y=Y0 + 0.0)
    G.add_edge(9, 0, length=0.0, highway="primary")
    G.add_edge(0, 9, length=0.0, highway="primary")
    out = NetworkEngine(G, "motorbike").nearest(at([X0]), at([X0 + 3000]))
    assert out["minutes"].iloc[0] == pytest.approx(6.0)
    assert out["distance_m"].iloc[0] == pytest.approx(3000.0)


def test_network_zero_length_edge_between_distant_nodes() -> None:
    """A zero-length edge between distant nodes (a data error): PrecisionWarning, no teleport."""
    G = line_graph()
    G.add_edge(0, 3, length=0.0, highway="primary")
    with pytest.warns(PrecisionWarning, match="length"):
        out = NetworkEngine(G, "motorbike").nearest(at([X0]), at([X0 + 3000]))
    assert out["minutes"].iloc[0] == pytest.approx(6.0)


def test_network_missing_speed_and_length() -> None:
    """Edges without a highway type are not roads (issue 14: never the default speed), so a
    graph without any is refused clearly; an edge without a length gets its node distance,
    with a PrecisionWarning."""
    G = line_graph()
    for _, _, d in G.edges(data=True):
        del d["highway"]
    with pytest.raises(NetworkError, match="highway"):
        NetworkEngine(G, "motorbike")
    G2 = line_graph()
    del G2[0][1][0]["length"]
    with pytest.warns(PrecisionWarning, match="1 of 6 edges"):
        out = NetworkEngine(G2, "motorbike").nearest(at([X0]), at([X0 + 3000]))
    assert out["minutes"].iloc[0] == pytest.approx(6.0)


def test_network_partly_missing_travel_times() -> None:
    """User travel times on some edges only: a PrecisionWarning saying how many edges lack one."""
    G = line_graph()
    for _, _, d in G.edges(data=True):
        d["travel_time_s"] = 60.0
    del G[0][1][0]["travel_time_s"]
    with pytest.warns(PrecisionWarning, match="1 of 6"):
        NetworkEngine(G, "motorbike").nearest(at([X0]), at([X0 + 3000]))


def _graph_with(change: str) -> nx.MultiDiGraph:
    G = line_graph()
    if change == "empty":
        return nx.MultiDiGraph(crs=UTM)
    if change == "undirected":
        return nx.Graph(line_graph())
    if change == "no_xy":
        for n in G.nodes:
            del G.nodes[n]["x"]
    if change == "nan_times":
        for _, _, d in G.edges(data=True):
            d["travel_time_s"] = np.nan
    if change == "text_x":
        G.nodes[0]["x"] = "585 000"  # typed with a thousands space
    return G


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param("empty", "is empty", id="empty"),
        pytest.param("undirected", "directed networkx graph", id="undirected"),
        pytest.param("no_xy", "'x' and 'y'", id="nodes-without-xy"),
        pytest.param("nan_times", "add_travel_times", id="nan-travel-times"),
        pytest.param("text_x", "non-numeric 'x' ('585 000')", id="text-coordinates"),
    ],
)
def test_network_unusable(change: str, fragment: str) -> None:
    """An unusable road graph: NetworkError (a ValueError) saying what is wrong and how to fix it."""
    with pytest.raises(NetworkError) as e:
        NetworkEngine(_graph_with(change), "motorbike").nearest(at([X0]), at([X0 + 3000]))
    check_error(e, ValueError, fragment)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("broken.graphml", "<graphml><graph", id="graphml-truncated"),
        pytest.param("broken.osm", "<osm version='0.6'><node", id="osm-truncated"),
        pytest.param("empty.osm", "", id="osm-empty"),
    ],
)
def test_network_file_unreadable(name: str, content: str, tmp_path) -> None:
    """A truncated or empty network file: NetworkError naming the file."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NetworkError) as e:
        pointplan.load_network(path)
    check_error(e, ValueError, str(path))


def test_network_crs_does_not_fit_coordinates() -> None:
    """A graph declared EPSG:4326 with UTM metres as x/y: CRSError saying they look like metres."""
    with pytest.raises(CRSError) as e:
        NetworkEngine(line_graph(crs="EPSG:4326"), "motorbike").nearest(at([X0]), at([X0 + 3000]))
    check_error(e, ValueError, "EPSG:4326", "metres", "G.graph['crs']")


def test_points_that_snap_far_away() -> None:
    """Points far from the network are flagged (snap()['far']) with their distance, and a
    PrecisionWarning counts them when times are computed."""
    eng = NetworkEngine(line_graph(), "motorbike", max_snap_m=500)
    snap = eng.snap(at([X0, X0 + 1000], [Y0 + 100, Y0 + 5000]))
    assert snap["node"].tolist() == [0, 1]
    assert snap["snap_m"].tolist() == [pytest.approx(100.0), pytest.approx(5000.0)]
    assert snap["far"].tolist() == [False, True]
    with pytest.warns(PrecisionWarning, match=r"1 of 2 origins lie more than 500 m from the network \(up to 5000 m\)"):
        out = eng.nearest(at([X0, X0 + 1000], [Y0 + 100, Y0 + 5000]), at([X0 + 3000]))
    # 5 km off the network at the access speed (15 km/h: 20 min) + 2 km on it (4 min)
    assert out["minutes"].iloc[1] == pytest.approx(24.0)


# =======================================================================================
# F. Reference data
# =======================================================================================


def test_missing_data_folder(tmp_path, monkeypatch, capsys) -> None:
    """A missing data folder (setting, environment variable, --data-dir, or none found):
    DataNotFoundError (a FileNotFoundError) naming the folder and how to fix it; CLI exit 3."""
    nowhere = tmp_path / "nowhere"
    real_dirs = pointplan.data.data_dirs
    monkeypatch.setattr(settings, "data_dir", nowhere)
    with pytest.raises(DataNotFoundError) as e:
        pointplan.load_units()
    check_error(e, FileNotFoundError, str(nowhere), "does not exist", "settings.data_dir")
    monkeypatch.setattr(settings, "data_dir", None)
    monkeypatch.setenv("POINTPLAN_DATA_DIR", str(nowhere))
    with pytest.raises(DataNotFoundError) as e:
        data_file("units")
    check_error(e, FileNotFoundError, str(nowhere), "POINTPLAN_DATA_DIR")
    monkeypatch.delenv("POINTPLAN_DATA_DIR")
    monkeypatch.setattr("pointplan.data.data_dirs", lambda: [nowhere])
    with pytest.raises(DataNotFoundError) as e:
        data_file("units")
    check_error(
        e, FileNotFoundError, "hanoi/units_2025.geojson", "folders searched", str(nowhere), "POINTPLAN_DATA_DIR"
    )
    monkeypatch.setattr("pointplan.data.data_dirs", real_dirs)
    assert cli.main(["--data-dir", str(nowhere), "info"]) == 3
    err = capsys.readouterr().err
    assert str(nowhere) in err and "Traceback" not in err


def _copy_dataset(key: str, folder: Path) -> Path:
    dst = folder / DATASETS[key].relpath
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(data_file(key), dst)
    dst.chmod(0o644)
    return dst


@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_truncated_or_altered_data_file(damage: str, tmp_path, monkeypatch, capsys) -> None:
    """A truncated or altered reference file (size/sha256 check): DataIntegrityError naming the
    file and how to restore it; `pointplan info` reports it CORRUPT and exits 3."""
    dst = _copy_dataset("known_sites", tmp_path)
    raw = dst.read_bytes()
    if damage == "truncated":
        dst.write_bytes(raw[: len(raw) // 2])
    else:
        altered = raw.replace("Võ Chí Công".encode(), b"Vo Chi Cong".ljust(len("Võ Chí Công".encode())))
        assert altered != raw and len(altered) == len(raw)
        dst.write_bytes(altered)
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    with pytest.raises(DataIntegrityError) as e:
        pointplan.data.load_known_sites()
    check_error(
        e, ValueError, str(dst.resolve()), "truncated" if damage == "truncated" else "altered: sha256", "Restore"
    )
    assert cli.main(["--data-dir", str(tmp_path), "info"]) == 3
    assert "CORRUPT" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"GIF89a garbage, not a GeoTIFF" * 10, id="garbage-bytes"),
        pytest.param(b"", id="empty-file"),
        pytest.param(b"II*\x00" + bytes(200), id="truncated-tiff"),
    ],
)
def test_unreadable_raster(content: bytes, tmp_path, tiny) -> None:
    """An unreadable population raster: a pointplan error naming the file."""
    path = tmp_path / "population.tif"
    path.write_bytes(content)
    with pytest.raises(PointplanError, match=r"population\.tif"):
        pointplan.build_demand(tiny["units"], raster=path)


def test_missing_raster(tmp_path, tiny) -> None:
    """A raster path that does not exist: DataNotFoundError naming it."""
    with pytest.raises(DataNotFoundError) as e:
        pointplan.build_demand(tiny["units"], raster=tmp_path / "nope.tif")
    check_error(e, FileNotFoundError, "nope.tif")


# =======================================================================================
# G. Command line
# =======================================================================================


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        rc = cli.main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(["run", "--out", "OUT", "--bogus"], "unrecognized arguments: --bogus", id="unknown-option"),
        pytest.param(["frobnicate"], "invalid choice: 'frobnicate'", id="unknown-command"),
        pytest.param(["run"], "the following arguments are required: --out", id="missing-out"),
        pytest.param(["run", "--out", "OUT", "--mode", "plane"], "invalid choice: 'plane'", id="bad-mode"),
        pytest.param(
            ["run", "--out", "OUT", "--max-minutes", "thirty"], "invalid float value: 'thirty'", id="text-number"
        ),
    ],
)
def test_cli_unknown_options(argv: list[str], fragment: str, tmp_path, capsys) -> None:
    """CLI misuse: argparse exits with code 2 and a usage message; nothing is written."""
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    rc, _, err = _cli(argv, capsys)
    assert rc == 2
    assert fragment in err and "usage: pointplan" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.fixture
def user_points(tmp_path) -> Path:
    path = tmp_path / "points.csv"
    path.write_text("point_id,name,lon,lat\nA,Điểm A,105.85,21.03\nB,Điểm B,105.78,21.00\n", encoding="utf-8")
    return path


def _no_long_work(monkeypatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        msg = "the CLI should have refused before any computation"
        raise AssertionError(msg)

    monkeypatch.setattr("pointplan.demand.build_demand", boom)


@pytest.mark.parametrize("command", ["run", "assess", "propose", "map"])
def test_cli_output_is_an_input_file(command: str, user_points, capsys, monkeypatch) -> None:
    """--out naming an input file: exit 2 before any computation, a clear message, input untouched."""
    _no_long_work(monkeypatch)
    before = (user_points.read_bytes(), user_points.stat().st_mtime_ns)
    rc, _, err = _cli([command, "--points", str(user_points), "--out", str(user_points)], capsys)
    assert rc == 2
    assert str(user_points) in err and "Traceback" not in err
    assert any(s in err for s in ("one of the input", "is a file, not a folder"))
    assert (user_points.read_bytes(), user_points.stat().st_mtime_ns) == before


def test_cli_output_folder_inside_a_file(user_points, capsys, monkeypatch) -> None:
    """An output folder whose parent is a file: exit 2 naming the file."""
    _no_long_work(monkeypatch)
    rc, _, err = _cli(["run", "--points", str(user_points), "--out", str(user_points / "out")], capsys)
    assert rc == 2
    assert f"{user_points} is a file, not a folder" in err and "Traceback" not in err


def test_cli_no_write_permission(tmp_path, user_points, capsys, monkeypatch) -> None:
    """No permission to write the output folder: exit 2 with the folder and the fix (os.access is
    mocked: root ignores permissions); as a normal user, a read-only folder too."""
    _no_long_work(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **k: False if Path(p) == out.resolve() else real_access(p, mode, **k)
    )
    rc, _, err = _cli(["run", "--points", str(user_points), "--out", str(out)], capsys)
    assert rc == 2
    assert f"No permission to write in {out.resolve()}" in err and "Choose an output folder" in err
    monkeypatch.setattr(os, "access", real_access)
    if os.geteuid() != 0:
        out.chmod(0o500)
        try:
            rc, _, err = _cli(["run", "--points", str(user_points), "--out", str(out)], capsys)
            assert rc == 2 and "permission" in err.lower()
        finally:
            out.chmod(0o700)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(["--max-minutes", "-5"], "max_minutes (--max-minutes) must be > 0", id="negative-minutes"),
        pytest.param(["--max-minutes", "nan"], "must be a finite number", id="nan-minutes"),
        pytest.param(["--add", "-3"], "whole number >= 0", id="negative-add"),
        pytest.param(["--demand-cell-m", "0"], "demand_cell_m (--demand-cell-m) must be > 0", id="zero-cell"),
    ],
)
def test_cli_bad_numbers_refused_early(argv: list[str], fragment: str, tmp_path, capsys, monkeypatch) -> None:
    """Impossible numbers on the command line: exit 2 before any long computation."""
    _no_long_work(monkeypatch)
    rc, _, err = _cli(["run", "--out", str(tmp_path / "out"), *argv], capsys)
    assert rc == 2 and fragment in err and "Traceback" not in err


def _quick_run(monkeypatch, units: gpd.GeoDataFrame) -> None:
    """Make `pointplan run` fast: one demand point per unit, a bare map and a short report."""
    import folium

    from pointplan.io import write_text

    coarse = gpd.GeoDataFrame(
        {"population": units["population"].astype(float).to_numpy(), "unit_code": units.index.to_numpy()},
        geometry=representative_points(units).to_numpy(),
        crs=units.crs,
    )
    monkeypatch.setattr("pointplan.demand.build_demand", lambda *a, **k: coarse.copy())
    monkeypatch.setattr("pointplan.maps.assessment_map", lambda *a, **k: folium.Map(tiles=None))

    def short_documents(a: object, out: Path, *r: object, formats: Any = None, **k: object) -> dict[str, Path]:
        from pointplan.report import FORMAT_FILES, parse_formats

        names = [FORMAT_FILES[f][0] for f in parse_formats(formats)]
        return {n: write_text(Path(out) / n, "new report\n") for n in names}

    monkeypatch.setattr("pointplan.report.documents.write_documents", short_documents)


def test_run_interrupted_keeps_previous_outputs(tmp_path, user_points, units, capsys, monkeypatch) -> None:
    """`pointplan run` interrupted at a late step (Ctrl+C after the tables are written): exit
    130, no traceback, the previous outputs intact, no staging or temporary file left."""
    _quick_run(monkeypatch, units)
    out = tmp_path / "out"
    out.mkdir()
    previous = {
        n: f"previous {n}".encode() for n in ("units.csv", "points.csv", "summary.json", "map.html", "report.md")
    }
    for name, data in previous.items():
        (out / name).write_bytes(data)

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("pointplan.maps.assessment_map", interrupted)
    rc, _, err = _cli(["-q", "run", "--points", str(user_points), "--out", str(out), "--add", "0"], capsys)
    assert rc == 130
    assert "interrupted" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous


def test_run_replaces_outputs_together(tmp_path, user_points, units, capsys, monkeypatch) -> None:
    """A run that completes replaces the previous outputs (all of them, from one staging folder)."""
    _quick_run(monkeypatch, units)
    out = tmp_path / "out"
    out.mkdir()
    (out / "units.csv").write_text("previous", encoding="utf-8")
    (out / "my_notes.txt").write_text("mine", encoding="utf-8")
    rc, stdout, _ = _cli(["-q", "run", "--points", str(user_points), "--out", str(out), "--add", "0"], capsys)
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "units.csv",
        "points.csv",
        "findings.csv",
        "summary.json",
        "map.html",
        "report.html",
        "tables.xlsx",
        "proposals.geojson",
        "scenario.gpkg",
        "my_notes.txt",
    } == names
    assert (out / "my_notes.txt").read_text(encoding="utf-8") == "mine"
    assert len(pd.read_csv(out / "units.csv", encoding="utf-8-sig")) == 126
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["points"] == 2 and s["demand_points"] == 126
    assert str(out / "summary.json") in stdout


# =======================================================================================
# H. Inputs are never modified (frames and files)
# =======================================================================================


def _snapshot(obj: Any) -> Any:
    if isinstance(obj, pd.DataFrame):
        return obj.copy(deep=True), dict(obj.attrs), getattr(obj, "crs", None)
    if isinstance(obj, nx.Graph):
        return (dict(obj.graph), sorted(map(repr, obj.nodes(data=True))), sorted(map(repr, obj.edges(data=True))))
    if isinstance(obj, Path):
        return obj.read_bytes(), obj.stat().st_mtime_ns
    raise TypeError(type(obj))


def _assert_same(before: Any, obj: Any) -> None:
    if isinstance(obj, pd.DataFrame):
        frame, attrs, crs = before
        pd.testing.assert_frame_equal(obj, frame, check_exact=True)
        assert dict(obj.attrs) == attrs and getattr(obj, "crs", None) == crs
    else:
        assert _snapshot(obj) == before


def _inputs_case(
    case: str, t: dict[str, Any], tmp_path: Path, units: gpd.GeoDataFrame
) -> tuple[Callable[[], object], list[Any]]:
    pts_file = write_csv(tmp_path, "name,kind,counters,lon,lat\n Điểm  A ,chi nhánh,3,105.85,21.03\n")
    raw_pts = pts_frame([(105.85, 21.03)], kind=["chi nhánh"], counters=["3"], point_id=[" A "])
    raw_pts.attrs["source"] = "survey"
    records = pd.DataFrame({"ward": [unicodedata.normalize("NFD", " P. Xuân La "), "Atlantis"]})
    G = line_graph(maxspeed="40")  # the engine copies before it adds walking's reverse edges
    standin = t["points"].assign(location_precision="unit_representative_point")
    cases: dict[str, tuple[Callable[[], object], list[Any]]] = {
        "validate_points": (lambda: validate_points(raw_pts, units=units), [raw_pts]),
        "read_points": (lambda: read_points(pts_file, units=units), [pts_file]),
        "assess": (lambda: run_assess(t), [t["points"], t["units"], t["demand"]]),
        "check_rules": (lambda: check_rules(t["points"], t["units"]), [t["points"], t["units"]]),
        "validate_units": (lambda: validate_units(t["units"]), [t["units"]]),
        "build_demand": (lambda: pointplan.build_demand(t["units"], method="uniform"), [t["units"]]),
        "convert_old_units": (lambda: pointplan.convert_old_units(records), [records]),
        "write_table": (lambda: write_table(t["points"], tmp_path / "t.xlsx"), [t["points"]]),
        "write_scenario": (
            lambda: write_scenario(tmp_path / "s.gpkg", t["units"], t["points"]),
            [t["units"], t["points"]],
        ),
        "geocode_points": (lambda: pointplan.geocode_points(standin), [standin]),
        "network_engine": (lambda: NetworkEngine(G, "walk").nearest(at([X0]), at([X0 + 3000])), [G]),
        "make_engine_speeds": (lambda: pointplan.make_engine(G, "bike", speeds_kmh=10.0), [G]),
    }
    return cases[case]


@pytest.mark.parametrize(
    "case",
    [
        "validate_points",
        "read_points",
        "assess",
        "check_rules",
        "validate_units",
        "build_demand",
        "convert_old_units",
        "write_table",
        "write_scenario",
        "geocode_points",
        "network_engine",
        "make_engine_speeds",
    ],
)
def test_inputs_never_modified(case: str, tiny, tmp_path, units) -> None:
    """Public functions never modify their input frames, graphs or files in place."""
    call, objs = _inputs_case(case, tiny, tmp_path, units)
    before = [_snapshot(o) for o in objs]
    call()
    for b, o in zip(before, objs, strict=True):
        _assert_same(b, o)


# =======================================================================================
# I. Outputs are written atomically
# =======================================================================================


def test_interrupted_table_write_keeps_previous(tmp_path, monkeypatch) -> None:
    """write_table interrupted after the data is written: the previous file is intact, no temp file."""
    target = tmp_path / "units.csv"
    target.write_bytes(b"previous")
    real = pd.DataFrame.to_csv

    def half(self: pd.DataFrame, path: Any, *a: Any, **k: Any) -> None:
        real(self, path, *a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half)
    with pytest.raises(KeyboardInterrupt):
        write_table(pd.DataFrame({"a": range(1000)}), target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["units.csv"]


def test_interrupted_scenario_write_keeps_previous(tmp_path, tiny, monkeypatch) -> None:
    """write_scenario interrupted between layers: the previous GeoPackage is intact, no temp file."""
    target = tmp_path / "scenario.gpkg"
    write_scenario(target, tiny["units"], tiny["points"])
    before = target.read_bytes()
    real = gpd.GeoDataFrame.to_file

    def layer_then_stop(self: gpd.GeoDataFrame, path: Any, *a: Any, layer: str | None = None, **k: Any) -> None:
        real(self, path, *a, layer=layer, **k)
        if layer == "units":
            raise KeyboardInterrupt

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", layer_then_stop)
    with pytest.raises(KeyboardInterrupt):
        write_scenario(target, tiny["units"].assign(population=0), tiny["points"])
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.gpkg"]


def test_interrupted_map_write_keeps_previous(tmp_path, monkeypatch) -> None:
    """maps.save_map interrupted before the move: the previous map is intact."""
    import folium

    from pointplan import maps

    target = tmp_path / "map.html"
    target.write_text("previous", encoding="utf-8")

    def stop(*_a: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", stop)
    with pytest.raises(KeyboardInterrupt):
        maps.save_map(folium.Map(tiles=None), target)
    assert target.read_text(encoding="utf-8") == "previous"


def test_interrupted_map_write_leaves_no_temporary_file(tmp_path, monkeypatch) -> None:
    """maps.save_map interrupted: no temporary file left in the output folder."""
    import folium

    from pointplan import maps

    def stop(*_a: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", stop)
    with pytest.raises(KeyboardInterrupt):
        maps.save_map(folium.Map(tiles=None), tmp_path / "map.html")
    assert list(tmp_path.iterdir()) == []


# =======================================================================================
# J. Safety
# =======================================================================================

_EVIL = {
    "script": '<script>alert("pp")</script>',
    "img": "<img src=x onerror=alert(1)>",
    "close": "</script><script>alert(2)</script>",
}


def test_map_html_escapes_data_text(tiny) -> None:
    """Text from data (point and unit names, addresses, notes) is HTML-escaped in the map."""
    from pointplan import maps

    pts = tiny["points"].assign(name=[_EVIL["script"]], address=[_EVIL["img"]], notes=[_EVIL["close"]])
    units = tiny["units"].assign(full_name=[_EVIL["img"], "Xã <b>B</b>"], name=[_EVIL["script"], "B"])
    html = maps.assessment_map(run_assess(tiny, points=pts, units=units), lang="en").get_root().render()
    for raw in (*_EVIL.values(), "<b>B</b>"):
        assert raw not in html
    assert "&lt;script&gt;alert(&quot;pp&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


_DANGEROUS_CALLS = {"eval", "exec", "compile", "__import__", "input", "breakpoint"}
_DANGEROUS_ATTRS = {
    ("os", "system"),
    ("os", "popen"),
    ("pickle", "load"),
    ("pickle", "loads"),
    ("marshal", "loads"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("subprocess", "run"),
    ("subprocess", "call"),
    ("subprocess", "Popen"),
    ("subprocess", "check_output"),
}


def _code_from_data_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in _DANGEROUS_CALLS:
            found.append(f"{path.name}:{node.lineno} {f.id}()")
        elif isinstance(f, ast.Attribute):
            if isinstance(f.value, ast.Name) and (f.value.id, f.attr) in _DANGEROUS_ATTRS:
                found.append(f"{path.name}:{node.lineno} {f.value.id}.{f.attr}()")
            # pandas DataFrame.eval/query evaluate a string expression
            first = node.args[0] if node.args else None
            stringy = isinstance(first, ast.JoinedStr) or (
                isinstance(first, ast.Constant) and isinstance(first.value, str)
            )
            if f.attr in {"eval", "query"} and stringy:
                found.append(f"{path.name}:{node.lineno} .{f.attr}(<string>)")
    return found


def test_data_is_never_evaluated_as_code(tmp_path, units) -> None:
    """No eval/exec/pickle/shell/DataFrame.query in the library; text that looks like code is
    kept as text; tables defuse spreadsheet formulas (=, +, -, @) so Excel never runs them."""
    found = [hit for p in sorted(SRC.glob("*.py")) for hit in _code_from_data_calls(p)]
    # the one exception: results this cache wrote itself, unpickled only when its signature checks out
    # (tests/test_results.py: a planted file runs nothing)
    assert [h for h in found if not h.startswith("_results.py:") or "pickle.loads" not in h] == []
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    pts = read_points(write_csv(tmp_path, f'name,lon,lat\n"{code}",105.85,21.03\n'), units=units)
    assert pts.iloc[0]["name"] == code and not marker.exists()
    df = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2", "+84 24 3825 3536", "ok"]}
    )
    csv_text = write_table(df, tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert [line.strip('"')[:1] for line in csv_text] == ["'", "'", "'", "-", "+", "o"]
    import openpyxl

    ws = openpyxl.load_workbook(write_table(df, tmp_path / "t.xlsx")).active
    cells = [c for c in ws["A"]][1:]
    assert all(c.data_type != "f" for c in cells)
    assert cells[0].value == "'" + df.iloc[0, 0] and cells[3].value == "-2"
    assert df.iloc[0, 0].startswith("=")  # the caller's frame is untouched


@pytest.fixture
def no_sockets(monkeypatch) -> list[Any]:
    """Record (and refuse) every attempt to open a network connection."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any, *a: Any) -> None:
        attempts.append(address)
        msg = f"network access attempted: {address}"
        raise OSError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))  # type: ignore[arg-type]
    return attempts


def test_no_network_access_unless_asked(tmp_path, tiny, units, no_sockets) -> None:
    """Offline by default: loading, reading, assessing work with sockets blocked; what needs the
    internet (a network for a place, geocoding) raises OfflineError saying how to allow it."""
    assert settings.allow_downloads is False
    pointplan.load_points(units=units)
    read_points(write_csv(tmp_path, "name,lon,lat\nA,105.85,21.03\n"), units=units)
    run_assess(tiny)
    with pytest.raises(OfflineError) as e:
        pointplan.load_network("Hoàn Kiếm, Hà Nội")
    check_error(e, ConnectionError, "allow_downloads = True", ".graphml")
    with pytest.raises(OfflineError) as e:
        pointplan.geocode.geocode("85 Dịch Vọng Hậu, Hà Nội")
    check_error(e, ConnectionError, "allow_downloads = True")
    assert no_sockets == []


def test_downloads_are_cached_and_verified(tmp_path, no_sockets) -> None:
    """A download made once is served from the cache with no network: a cached network for a
    place and a cached geocode; an unreadable geocode cache is ignored, not trusted."""
    import osmnx as ox

    from pointplan import geocode as gc
    from pointplan import network as net

    place = "Văn Miếu, Hà Nội"
    cached = Path(settings.cache_dir) / "osmnx" / "graphs" / f"place_{net._request_key('place', place)}.graphml"
    cached.parent.mkdir(parents=True)
    G = line_graph(n=6, step_m=200.0)
    G.graph["simplified"] = True
    ox.save_graphml(G, cached)
    loaded = pointplan.load_network(place, mode="motorbike")
    assert loaded.number_of_nodes() == 6 and no_sockets == []
    cache = tmp_path / "geocode.json"
    key = gc._key("85 Dịch Vọng Hậu")
    cache.write_text(json.dumps({key: {"query": "85 Dịch Vọng Hậu", "lon": 105.78, "lat": 21.03}}), encoding="utf-8")
    assert gc.geocode("85  Dịch Vọng Hậu ", cache=cache) == (105.78, 21.03)
    cache.write_text("{truncated", encoding="utf-8")
    with pytest.raises(OfflineError):
        gc.geocode("85 Dịch Vọng Hậu", cache=cache)
    assert no_sockets == []


def test_corrupted_download_cache_is_reported(no_sockets) -> None:
    """A corrupted cached network download: NetworkError naming the cache file and how to fix it."""
    from pointplan import network as net

    place = "Văn Miếu, Hà Nội"
    cached = Path(settings.cache_dir) / "osmnx" / "graphs" / f"place_{net._request_key('place', place)}.graphml"
    cached.parent.mkdir(parents=True)
    cached.write_text("<graphml><gra", encoding="utf-8")
    with pytest.raises(NetworkError) as e:
        pointplan.load_network(place)
    check_error(e, ValueError, str(cached), "Delete that file")
    assert no_sockets == []
