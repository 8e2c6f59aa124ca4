"""Candidate generation, reading and cleaning."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pointplan._errors import CRSError, InputError, MissingColumnError
from pointplan.candidates import (
    clean_candidates,
    cluster_candidates,
    grid_candidates,
    read_candidates,
    unit_candidates,
)

X0, Y0 = 585_000.0, 2_320_000.0  # UTM 48N, central Hanoi


def _pts(xy, crs="EPSG:32648", **cols):
    xy = np.asarray(xy, dtype=float)
    g = gpd.points_from_xy(X0 + xy[:, 0], Y0 + xy[:, 1])
    return gpd.GeoDataFrame(cols, geometry=g, crs=crs)


def _utm(gdf):
    g = gdf.geometry.to_crs("EPSG:32648")
    return np.column_stack([g.x - X0, g.y - Y0])


# --------------------------------------------------------------------------------------
# grid
# --------------------------------------------------------------------------------------
def test_grid_candidates_weighted_centroids():
    demand = _pts(
        [(100, 100), (900, 100), (2500, 500), (5100, 5100)],
        population=[300, 100, 1000, 10],
        unit_code=["A", "B", "C", "D"],
    )
    out = grid_candidates(demand, spacing_m=1000, min_population=50)
    # cell (0,0): 400 people at x = (300*100 + 100*900)/400 = 300; cell (2,0): 1000 people;
    # the 10 people of cell (5,5) are below the threshold
    assert out["population"].tolist() == [1000.0, 400.0]
    assert out["candidate_id"].tolist() == ["grid-0001", "grid-0002"]
    assert out["unit_code"].tolist() == ["C", "A"]  # unit with most people in the cell
    np.testing.assert_allclose(_utm(out), [[2500, 500], [300, 100]], atol=0.01)
    assert out.crs.to_epsg() == 4326
    assert set(out["source"]) == {"grid"} and set(out["kind"]) == {"proposed"}
    assert out["location_precision"].eq("grid_weighted_centroid").all()


def test_grid_candidates_validation():
    demand = _pts([(0, 0)], population=[1.0])
    with pytest.raises(InputError, match="spacing_m"):
        grid_candidates(demand, spacing_m=0)
    with pytest.raises(MissingColumnError):
        grid_candidates(demand.drop(columns="population"))
    assert len(grid_candidates(demand, min_population=5)) == 0


# --------------------------------------------------------------------------------------
# units
# --------------------------------------------------------------------------------------
def test_unit_candidates_inside_polygons():
    # a U-shaped unit whose centroid falls outside it
    u = shapely.Polygon([(0, 0), (3000, 0), (3000, 3000), (2000, 3000), (2000, 1000),
                         (1000, 1000), (1000, 3000), (0, 3000)])  # fmt: skip
    sq = shapely.box(5000, 0, 6000, 1000)
    polys = gpd.GeoSeries([u, sq]).translate(X0, Y0)
    units = gpd.GeoDataFrame(
        {"name": ["U", "Square"]}, geometry=polys.values, crs="EPSG:32648",
        index=pd.Index(["00001", "00002"], name="code"),
    ).to_crs("EPSG:4326")  # fmt: skip
    assert not u.contains(u.centroid)
    out = unit_candidates(units)
    assert out.index.tolist() == ["00001", "00002"]
    assert out["candidate_id"].tolist() == ["unit-00001", "unit-00002"]
    assert out["unit_code"].tolist() == ["00001", "00002"]
    assert out["location_precision"].eq("unit_representative_point").all()
    inside = units.to_crs("EPSG:32648").geometry.values.contains(out.to_crs("EPSG:32648").geometry.values)
    assert inside.all()


def test_unit_candidates_real_units(units):
    out = unit_candidates(units)
    assert len(out) == 126
    joined = units.geometry.values.covers(out.loc[units.index].geometry.values)
    assert joined.all()


# --------------------------------------------------------------------------------------
# clusters
# --------------------------------------------------------------------------------------
@pytest.mark.slow  # the first scikit-learn import alone takes ~3 s
def test_cluster_candidates_weighted_and_masked():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 100, (40, 2))
    b = rng.normal(0, 100, (40, 2)) + np.array([8000.0, 0.0])
    xy = np.vstack([a, b, [(8000, 6000)]])
    pop = np.r_[np.full(40, 10.0), np.full(40, 5.0), 0.0]
    units = ["A"] * 40 + ["B"] * 40 + ["Z"]
    demand = _pts(xy, population=pop, unit_code=units)
    out = cluster_candidates(demand, 2, seed=1)
    assert out["candidate_id"].tolist() == ["cluster-01", "cluster-02"]
    assert out["population"].tolist() == [400.0, 200.0]  # ordered by population
    assert out["unit_code"].tolist() == ["A", "B"]
    np.testing.assert_allclose(_utm(out), [a.mean(axis=0), b.mean(axis=0)], atol=1e-3)
    # population weights pull the centroid: a heavy point moves cluster A's centre
    heavy = pop.copy()
    heavy[0] = 400.0
    c = cluster_candidates(demand.assign(population=heavy), 2, seed=1)
    expected = (a * heavy[:40, None]).sum(axis=0) / heavy[:40].sum()
    np.testing.assert_allclose(_utm(c)[0], expected, atol=1e-3)
    # only the underserved demand (cluster B) is clustered
    only_b = cluster_candidates(demand, 1, underserved_mask=np.r_[np.zeros(40), np.ones(41)].astype(bool))
    np.testing.assert_allclose(_utm(only_b)[0], b.mean(axis=0), atol=1e-3)
    # reproducible for a seed
    pd.testing.assert_frame_equal(cluster_candidates(demand, 2, seed=1), out)


def test_cluster_candidates_validation():
    demand = _pts([(0, 0), (10, 0)], population=[1.0, 0.0])
    with pytest.raises(InputError, match="only 1 underserved"):
        cluster_candidates(demand, 2)
    with pytest.raises(InputError, match="positive integer"):
        cluster_candidates(demand, 0)
    with pytest.raises(InputError, match="no \\(underserved\\) demand"):
        cluster_candidates(demand, 1, underserved_mask=[False, True])


# --------------------------------------------------------------------------------------
# read
# --------------------------------------------------------------------------------------
def test_read_candidates_csv_lonlat(tmp_path):
    p = tmp_path / "malls.csv"
    p.write_text(
        "name,Longitude,Latitude,kind\nAeon Mall Long Bien,105.8997,21.0270,kiosk\nTimes City,105.8687,20.9953,\n",
        encoding="utf-8",
    )
    out = read_candidates(p)
    assert out.crs.to_epsg() == 4326
    assert out["candidate_id"].tolist() == ["malls-1", "malls-2"]
    assert out["kind"].tolist() == ["kiosk", "proposed"]
    assert out["source"].tolist() == ["malls", "malls"]
    assert out.geometry.x.tolist() == [105.8997, 105.8687]
    assert out["location_precision"].eq("user_supplied").all()


def test_read_candidates_csv_xy_needs_crs(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text(f"candidate_id,x,y\nS1,{X0},{Y0}\n", encoding="utf-8")
    with pytest.raises(CRSError, match="crs="):
        read_candidates(p)
    out = read_candidates(p, crs="EPSG:32648", kind="community")
    assert out["candidate_id"].tolist() == ["S1"] and out["kind"].tolist() == ["community"]
    np.testing.assert_allclose(_utm(out), [[0, 0]], atol=1e-6)


def test_read_candidates_errors(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("name,a,b\nX,1,2\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="lon/lat"):
        read_candidates(p)
    p.write_text("lon,lat\n105.8,\n", encoding="utf-8")
    with pytest.raises(InputError, match="lines \\[2\\]"):
        read_candidates(p)
    p.write_text("lon,lat\n21.02,105.85\n20.99,105.87\n", encoding="utf-8")
    with pytest.raises(CRSError, match="swapped"):
        read_candidates(p)
    with pytest.raises(InputError, match="does not exist"):
        read_candidates(tmp_path / "nope.csv")


def test_read_candidates_geojson_polygons(tmp_path):
    poly = shapely.box(X0, Y0, X0 + 200, Y0 + 100)
    gdf = gpd.GeoDataFrame({"candidate_id": ["mall"], "kind": ["kiosk"]}, geometry=[poly], crs="EPSG:32648").to_crs(
        "EPSG:4326"
    )
    p = tmp_path / "footprints.geojson"
    gdf.to_file(p, driver="GeoJSON")
    out = read_candidates(p)
    assert (out.geom_type == "Point").all()
    assert out["location_precision"].tolist() == ["representative_point"]
    assert poly.contains(out.to_crs("EPSG:32648").geometry.iloc[0])


# --------------------------------------------------------------------------------------
# clean
# --------------------------------------------------------------------------------------
def test_clean_candidates_reasons():
    cands = _pts(
        [(0, 0), (30, 0), (1000, 0), (1000.5, 0), (0, 50_000), (2000, 0)],
        candidate_id=["a", "ontop", "b", "b-dup", "outside", "c"],
        kind="proposed",
    )
    cands.loc[5, "geometry"] = None
    cands = cands.to_crs("EPSG:4326")
    points = _pts([(10, 0)], point_id=["P1"]).to_crs("EPSG:4326")
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)], crs="EPSG:32648")
    kept, dropped = clean_candidates(cands, points, boundary, min_separation_m=50)
    assert kept["candidate_id"].tolist() == ["b"]
    reasons = dict(zip(dropped["candidate_id"], dropped["reason"], strict=True))
    assert reasons == {
        "a": "near_existing_point",
        "ontop": "near_existing_point",
        "b-dup": "duplicate_candidate",
        "outside": "outside_boundary",
        "c": "missing_geometry",
    }
    detail = dict(zip(dropped["candidate_id"], dropped["detail"], strict=True))
    assert detail["a"] == "10 m from existing point P1"
    assert detail["b-dup"] == "same place as candidate b"
    # shapely geometry in lon/lat works as boundary too; None skips the check
    lonlat_box = boundary.to_crs("EPSG:4326").geometry.iloc[0]
    kept2, _ = clean_candidates(cands, points, lonlat_box, min_separation_m=5)
    assert kept2["candidate_id"].tolist() == ["a", "ontop", "b"]
    kept3, _ = clean_candidates(cands, None, None)
    assert kept3["candidate_id"].tolist() == ["a", "ontop", "b", "outside"]


def test_clean_candidates_real_boundary():
    from pointplan.data import load_boundary

    try:
        boundary = load_boundary()
    except FileNotFoundError:
        pytest.skip("reference data (boundary_2025.geojson) not available")
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["hoan-kiem", "hai-phong"]},
        geometry=gpd.points_from_xy([105.8525, 106.6881], [21.0285, 20.8449]),
        crs="EPSG:4326",
    )
    kept, dropped = clean_candidates(cands, None, boundary)
    assert kept["candidate_id"].tolist() == ["hoan-kiem"]
    assert dropped["reason"].tolist() == ["outside_boundary"]
