"""Bus access (pointplan.transit): hand-worked fixtures, the 2018 data, an independent router."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import pointplan
from pointplan._errors import InputError
from pointplan.data import data_file
from pointplan.transit import (
    PERIOD_HOURS,
    BusNetwork,
    load_bus_network,
    no_bus_stop_findings,
    point_bus_access,
    stop_frequency,
    unit_bus_access,
)
from pointplan.transit.timetable import (
    _footpaths,
    build_timetable,
    earliest_arrival,
    read_gtfs,
    transit_times,
)

UTM = "EPSG:32648"


def _pts(xs: list[float], ys: list[float], **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xs, ys), crs=UTM)


def _square() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(index=pd.Index(["U"], name="code"), geometry=[shapely.box(0, 0, 10, 10)], crs=UTM)


# ---------------------------------------------------------------------------------------
# Frequencies and access on a hand-made network
# ---------------------------------------------------------------------------------------
#
# Place P (585000, 2320000): stops of routes A and B (same coordinates, two stop ids).
# Place Q (585500, 2320000): a second stop of route A and a stop of route C.
# Trips: A 12/21/9, B 6/14/3, C 0/7/0 (am/midday/pm) -> per hour (3 h, 7 h, 3 h):
#   A 4/3/3, B 2/2/1, C 0/1/0.


@pytest.fixture
def small_net() -> BusNetwork:
    stops = _pts(
        [585_000, 585_000, 585_500, 585_500],
        [2_320_000] * 4,
        stop_id=["A_S1", "B_S1", "A_S2", "C_S1"],
        route_id=["A", "B", "A", "C"],
    )
    trips = pd.DataFrame(
        {"trips_am": [12, 6, 0], "trips_midday": [21, 14, 7], "trips_pm": [9, 3, 0]},
        index=pd.Index(["A", "B", "C"], name="route_id"),
    )
    return BusNetwork(stops, trips)


def test_stop_frequency_hand_worked(small_net):
    layer = stop_frequency(small_net)
    assert layer.index.tolist() == ["A_S1", "A_S2"]  # two places
    assert layer["routes"].tolist() == ["A,B", "A,C"]
    assert layer["trips_per_hour_am"].tolist() == [6.0, 4.0]
    assert layer["trips_per_hour_midday"].tolist() == [5.0, 4.0]
    assert layer["trips_per_hour_pm"].tolist() == [4.0, 3.0]
    assert layer.crs.to_epsg() == 4326


def test_point_access_counts_each_route_once(small_net):
    # X between P and Q (250 m from each): routes A (twice), B, C -> A once.
    # Y 100 m east of Q: only Q. Z 2 km away: nothing.
    pts = _pts([585_250, 585_600, 587_500], [2_320_000] * 3)
    pts.index = pd.Index(["x", "y", "z"])
    acc = point_bus_access(pts, small_net)
    assert acc.index.tolist() == ["x", "y", "z"]
    assert acc["bus_stops_near"].tolist() == [2, 1, 0]
    assert acc["bus_routes_near"].tolist() == [3, 2, 0]
    assert acc["bus_trips_per_hour_midday"].tolist() == pytest.approx([6.0, 4.0, 0.0])
    assert acc["bus_trips_per_hour_am"].tolist() == pytest.approx([6.0, 4.0, 0.0])
    assert acc["nearest_bus_stop_m"].tolist() == pytest.approx([250.0, 100.0, 2000.0])
    # A shorter walk loses the stops 250 m away.
    short = point_bus_access(pts, small_net, walk_m=200)
    assert short["bus_stops_near"].tolist() == [0, 1, 0]


def test_unit_access_is_population_weighted(small_net):
    units = gpd.GeoDataFrame(
        index=pd.Index(["U", "V", "W"], name="code"),
        geometry=[
            shapely.box(584_000, 2_319_000, 585_250, 2_321_000),  # holds P
            shapely.box(585_250, 2_319_000, 587_000, 2_321_000),  # holds Q
            shapely.box(587_000, 2_319_000, 589_000, 2_321_000),  # no stop, no demand point
        ],
        crs=UTM,
    )
    # U: 60 people at P (5/h midday), 40 people 1 km west (none). V: 100 people at Q (4/h).
    demand = _pts(
        [585_000, 584_000, 585_500], [2_320_000] * 3, unit_code=["U", "U", "V"], population=[60.0, 40.0, 100.0]
    )
    t = unit_bus_access(units, small_net, demand=demand)
    assert t.loc["U", "bus_stops"] == 1 and t.loc["V", "bus_stops"] == 1 and t.loc["W", "bus_stops"] == 0
    assert t.loc["U", "bus_trips_per_hour_midday"] == pytest.approx(5.0)
    assert t.loc["V", "bus_routes"] == 2
    assert t.loc["U", "bus_pop_share_near"] == pytest.approx(0.6)
    assert t.loc["U", "bus_access"] == pytest.approx(0.6 * 5.0)
    assert t.loc["U", "bus_access_am"] == pytest.approx(0.6 * 6.0)
    # V's people at Q have P 500 m away: too far; Q's routes A and C: 4/h.
    assert t.loc["V", "bus_access_midday"] == pytest.approx(4.0)
    assert np.isnan(t.loc["W", "bus_access"])  # no people to weigh: undefined, not 0
    assert t.attrs["walk_m"] == 400.0


def test_findings_name_far_points_and_stand_ins(small_net):
    pts = _pts(
        [585_100, 586_500, 588_000],
        [2_320_000] * 3,
        point_id=["P1", "P2", "P3"],
        name=["Điểm 1", "Điểm 2", "Điểm 3"],
        unit_code=["U", "V", "W"],
        location_precision=["surveyed", "unit_representative_point", "geocoded"],
    )
    f = no_bus_stop_findings(pts, small_net)
    assert f["point_id"].tolist() == ["P2", "P3"]
    assert f["nearest_bus_stop_m"].tolist() == [1000.0, 2500.0]
    assert set(f["rule"]) == {"no_bus_stop_nearby"} and set(f["severity"]) == {"warning"}
    assert "stand-in" in f["message_en"].iloc[0] and "stand-in" not in f["message_en"].iloc[1]
    assert "1.000 m" in f["message"].iloc[0]  # Vietnamese thousands separator
    assert no_bus_stop_findings(pts, small_net, walk_m=3000).empty


def test_findings_by_unit_count_the_points_per_unit(small_net):
    # the same three places, two more points in V: one far (1,000 m), one next to the stop
    pts = _pts(
        [585_100, 586_500, 588_000, 586_500, 585_050],
        [2_320_000] * 5,
        point_id=["P1", "P2", "P3", "P4", "P5"],
        name=["Điểm 1", "Điểm 2", "Điểm 3", "Điểm 4", "Điểm 5"],
        unit_code=["U", "V", "W", "V", "V"],
    )
    per_point = no_bus_stop_findings(pts, small_net)
    f = no_bus_stop_findings(pts, small_net, by_unit=True)
    assert per_point["unit_code"].tolist() == ["V", "W", "V"]
    assert f["unit_code"].tolist() == ["V", "W"]  # one finding per unit, as many as the per-point ones in all
    assert f["point_id"].isna().all()
    assert f["nearest_bus_stop_m"].tolist() == [1000.0, 2500.0]  # the farthest point of each unit
    assert f["message_en"].iloc[0].startswith("2 of 3 points of the unit")
    assert "Điểm 2" in f["message"].iloc[0] and "1.000 m" in f["message"].iloc[0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda net: point_bus_access(pd.DataFrame({"x": [1]}), net), "GeoDataFrame"),
        (lambda net: point_bus_access(_pts([0], [0]), net, walk_m=0), "walk_m"),
        (lambda net: point_bus_access(gpd.GeoDataFrame(geometry=gpd.points_from_xy([0], [0])), net), "CRS"),
        (lambda net: BusNetwork(net.stops, net.route_trips, period_hours={"am": 3.0}), "period_hours"),
        (lambda net: unit_bus_access(_pts([0], [0]), net, demand=_pts([0], [0])), "Polygon"),
        (lambda net: unit_bus_access(_square(), net, demand=_pts([0], [0])), "unit_code"),
        (lambda net: unit_bus_access(_square(), net, demand=_pts([0], [0], unit_code=["X"], population=[1])), "X"),
    ],
)
def test_bad_input_raises(small_net, call, match):
    with pytest.raises(InputError, match=match):
        call(small_net)


def test_stop_ids_must_name_their_route(tmp_path):
    folder = tmp_path / "net"
    folder.mkdir()
    (folder / "stops.txt").write_text("stop_id,stop_name,stop_lat,stop_lon\nXYZ,x,21.0,105.8\n")
    for p in ("am", "midday", "pm"):
        (folder / f"trips_{p}.txt").write_text("route_id,service_id,trip_id\n")
    with pytest.raises(InputError, match="name their route"):
        load_bus_network(folder)


# ---------------------------------------------------------------------------------------
# The 2018 network (data/)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def net2018() -> BusNetwork:
    return load_bus_network()


@pytest.fixture(scope="module")
def hanoi_units() -> gpd.GeoDataFrame:
    return pointplan.load_units()


def test_network_2018_matches_the_sources_note(net2018, hanoi_units):
    # data/SOURCES.md: 7,670 stops, 7,565 inside Hanoi in 118 of the 126 units; 224
    # route-directions; 3,024 / 6,713 / 3,301 trips.
    assert len(net2018.stops) == 7670
    assert len(net2018.route_trips) == 224
    assert net2018.route_trips.sum().tolist() == [3024, 6713, 3301]
    layer = stop_frequency(net2018, hanoi_units)
    assert layer["stop_ids"].str.split(",").str.len().sum() == 7565
    assert layer["unit_code"].nunique() == 118
    # Independent count: stop ids within the unit polygons by a plain spatial join.
    joined = gpd.sjoin(net2018.stops, hanoi_units.to_crs(4326), predicate="within")
    assert len(joined) == 7565


@pytest.mark.slow
def test_midday_is_seven_hours_in_the_complete_timetable(net2018):
    """PERIOD_HOURS['midday'] = 7: the complete timetable's midday departures span 7 hours."""
    feed = read_gtfs()
    st = feed.stop_times.merge(feed.trips[["trip_id", "route_id"]], on="trip_id")
    st["t"] = st["departure_time"].str.split(":", expand=True).astype(int).to_numpy() @ np.array([3600, 60, 1])
    spans = []
    for route, g in st.groupby("route_id"):
        busiest = g["stop_id"].value_counts().index[0]
        t = np.sort(g.loc[g["stop_id"] == busiest, "t"].to_numpy())
        # Every midday trip of the network passes the route's busiest stop in the subset.
        assert len(t) == net2018.route_trips.loc[route, "trips_midday"]
        spans.append((t[-1] - t[0]) / 3600)
    assert len(spans) == 63
    assert np.median(spans) == pytest.approx(PERIOD_HOURS["midday"], abs=0.05)


def test_point_access_matches_brute_force_on_real_points(net2018):
    points = pointplan.load_points()
    acc = point_bus_access(points, net2018)
    # Independent: dense distances point x stop id, then distinct routes within 400 m.
    p = points.to_crs(UTM).geometry
    s = net2018.stops.to_crs(UTM)
    d = np.hypot(
        p.x.to_numpy()[:, None] - s.geometry.x.to_numpy()[None], p.y.to_numpy()[:, None] - s.geometry.y.to_numpy()[None]
    )
    tph = net2018.trips_per_hour()["midday"]
    expect = [tph.loc[sorted(set(s["route_id"].to_numpy()[row <= 400]))].sum() for row in d]
    assert acc["bus_trips_per_hour_midday"].to_numpy() == pytest.approx(np.array(expect))
    assert acc["nearest_bus_stop_m"].to_numpy() == pytest.approx(d.min(axis=1))
    assert acc.index.equals(points.index)


@pytest.mark.slow
def test_unit_access_on_hanoi(net2018, hanoi_units):
    demand = pointplan.demand.build_demand(hanoi_units)
    t = unit_bus_access(hanoi_units, net2018, demand=demand)
    assert len(t) == 126
    assert (t["bus_stops"] > 0).sum() == 118
    assert t["bus_access"].notna().all()
    assert ((t["bus_pop_share_near"] >= 0) & (t["bus_pop_share_near"] <= 1)).all()
    # City-wide weighted mean from the per-unit figures = from the demand points directly.
    near = point_bus_access(demand, net2018)
    city = np.average(near["bus_trips_per_hour_midday"], weights=demand["population"])
    pop = hanoi_units["population"].reindex(t.index)
    assert np.average(t["bus_access"], weights=pop) == pytest.approx(city, rel=1e-9)


# ---------------------------------------------------------------------------------------
# Timetable: a hand-made GTFS feed with a hand-computed answer
# ---------------------------------------------------------------------------------------
#
# Metres in UTM 48N. Stops A (585000, 2320000), B (588000, 2320000), B2 120 m north of B,
# C (591000, 2320120). Origin O 200 m west of A, destination D 80 m east of C.
# Walking 4.8 km/h = 80 m a minute: O->A 2.5 min, B->B2 1.5 min, C->D 1 min.
# Route R1: T1 A 08:00 -> B 08:10; T2 A 08:20 -> B 08:30.
# Route R2: U1 B2 08:15 -> C 08:25; U2 B2 08:35 -> C 08:45.
# Route R3: V1 A 08:40 -> B 08:50 -> C 09:00 (one trip, three stops).
# Leave 07:55: A 07:57:30, T1, B 08:10, B2 08:11:30, U1, C 08:25, D 08:26 -> 31 min.
# Leave 08:05: A 08:07:30, T2, B 08:30, B2 08:31:30, U2, C 08:45, D 08:46 -> 41 min.
# Leave 08:30: A 08:32:30, V1 (stays on board at B), C 09:00, D 09:01 -> 31 min.
# On foot: hypot(6280, 120) = 6281.15 m -> 78.514 min.

XY = {"A": (585_000, 2_320_000), "B": (588_000, 2_320_000), "B2": (588_000, 2_320_120), "C": (591_000, 2_320_120)}
TRIPS = {
    "T1": ("R1", [("A", "08:00:00"), ("B", "08:10:00")]),
    "T2": ("R1", [("A", "08:20:00"), ("B", "08:30:00")]),
    "U1": ("R2", [("B2", "08:15:00"), ("C", "08:25:00")]),
    "U2": ("R2", [("B2", "08:35:00"), ("C", "08:45:00")]),
    "V1": ("R3", [("A", "08:40:00"), ("B", "08:50:00"), ("C", "09:00:00")]),
}


@pytest.fixture
def tiny_feed(tmp_path: Path) -> Path:
    to_ll = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    folder = tmp_path / "gtfs"
    folder.mkdir()
    (folder / "agency.txt").write_text("agency_id,agency_name,agency_url,agency_timezone\n1,X,http://x,Asia/Bangkok\n")
    (folder / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WD,1,1,1,1,1,0,0,20180101,20181231\n"
    )
    rows = ["stop_id,stop_name,stop_lat,stop_lon"]
    for sid, (x, y) in XY.items():
        lon, lat = to_ll.transform(x, y)
        rows.append(f"{sid},{sid},{lat:.9f},{lon:.9f}")
    (folder / "stops.txt").write_text("\n".join(rows) + "\n")
    (folder / "routes.txt").write_text(
        "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        + "".join(f"R{i},1,R{i},R{i},3\n" for i in (1, 2, 3))
    )
    trips = ["route_id,service_id,trip_id"] + [f"{r},WD,{t}" for t, (r, _) in TRIPS.items()]
    (folder / "trips.txt").write_text("\n".join(trips) + "\n")
    st = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for t, (_, calls) in TRIPS.items():
        st += [f"{t},{hhmm},{hhmm},{sid},{k + 1}" for k, (sid, hhmm) in enumerate(calls)]
    (folder / "stop_times.txt").write_text("\n".join(st) + "\n")
    return folder


def _od() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    o = _pts([584_800], [2_320_000])
    o.index = pd.Index(["O"])
    d = _pts([591_080], [2_320_120])
    d.index = pd.Index(["D"])
    return o, d


def test_tiny_feed_door_to_door_hand_computed(tiny_feed):
    tt = build_timetable(read_gtfs(tiny_feed))
    assert tt.n_connections == 6
    o, d = _od()
    kw = {"walk_speed_kmh": 4.8, "every_min": 5}
    res = transit_times(o, d, tt, depart_from="07:55", depart_to="08:05", **kw)
    # 07:55 -> 31 min; 08:00 misses T1 (at A 08:02:30): T2 ... D 08:46 -> 46 min; 08:05 -> 41.
    row = res.loc[("O", "D")]
    assert row["transit_min_best"] == pytest.approx(31.0)
    assert row["transit_min_worst"] == pytest.approx(46.0)
    assert row["transit_min_mean"] == pytest.approx((31 + 46 + 41) / 3)
    assert row["walk_min"] == pytest.approx(np.hypot(6280, 120) / 80)
    assert row["bus_faster_share"] == 1.0 and row["n_departures"] == 3
    # Staying on board V1 through B.
    late = transit_times(o, d, tt, depart_from="08:30", depart_to="08:30", **kw)
    assert late.loc[("O", "D"), "transit_min_best"] == pytest.approx(31.0)


def test_tiny_feed_limits_walk_and_direction(tiny_feed):
    tt = build_timetable(read_gtfs(tiny_feed))
    o, d = _od()
    walk = np.hypot(6280, 120) / 80
    # A is 200 m from O: with walk_m=150 no stop is in reach -> walk the whole way.
    res = transit_times(o, d, tt, depart_from="07:55", depart_to="07:55", walk_speed_kmh=4.8, walk_m=150)
    assert res.loc[("O", "D"), "transit_min_best"] == pytest.approx(walk)
    assert res.loc[("O", "D"), "bus_faster_share"] == 0.0
    # No bus runs from C back to A.
    back = transit_times(d, o, tt, depart_from="07:55", depart_to="07:55", walk_speed_kmh=4.8)
    assert back.loc[("D", "O"), "transit_min_best"] == pytest.approx(walk)
    # B -> B2 is 120 m: with transfer_m=100 the change at B is impossible; V1 at 08:40 remains.
    no_change = transit_times(o, d, tt, depart_from="07:55", depart_to="07:55", walk_speed_kmh=4.8, transfer_m=100)
    assert no_change.loc[("O", "D"), "transit_min_best"] == pytest.approx(66.0)  # D at 09:01


def test_timetable_bad_input(tiny_feed):
    tt = build_timetable(read_gtfs(tiny_feed))
    o, d = _od()
    with pytest.raises(InputError, match="before depart_from"):
        transit_times(o, d, tt, depart_from="09:00", depart_to="08:00")
    with pytest.raises(InputError, match="depart_from"):
        transit_times(o, d, tt, depart_from="nine")
    with pytest.raises(InputError, match="walk_m"):
        transit_times(o, d, tt, walk_m=-1)
    with pytest.raises(InputError, match="No trip runs"):
        build_timetable(read_gtfs(tiny_feed), date="20180106")  # a Saturday
    assert build_timetable(read_gtfs(tiny_feed), date="20180105").n_connections == 6
    # The city-wide network has no stop_times: a clear message, not a traceback.
    folder = data_file("transit/hanoi_bus_2018/network_without_stop_times/stops.txt").parent
    with pytest.raises(InputError, match="load_bus_network"):
        read_gtfs(folder)


# ---------------------------------------------------------------------------------------
# The complete Đống Đa feed: cross-check against a time-expanded graph (networkx)
# ---------------------------------------------------------------------------------------


def _time_expanded_arrivals(tt, accesses, t0, t1, footpaths):
    """Earliest arrival per stop by Dijkstra on a time-expanded graph (independent of CSA).

    Nodes: ("ev", stop, time) events chained by waiting edges at each stop; ("c", k) a
    ride on connection k (leaving in [t0, t1]), boarded from its departure event;
    ("off", k) alighting from it, from where walks of one footpath lead to events at
    nearby stops (the stop itself too); ("origin", i) walks to the stops of ``accesses[i]``.
    """
    G = nx.DiGraph()
    events: dict[int, set[float]] = {}
    for c in np.flatnonzero((tt.dep_s >= t0) & (tt.dep_s <= t1)):
        s_dep, s_arr = int(tt.dep_stop[c]), int(tt.arr_stop[c])
        t_dep, t_arr = float(tt.dep_s[c]), float(tt.arr_s[c])
        G.add_edge(("ev", s_dep, t_dep), ("c", c), weight=0.0)
        G.add_edge(("c", c), ("off", c), weight=t_arr - t_dep)
        events.setdefault(s_dep, set()).add(t_dep)
        for s2, w in footpaths[s_arr]:
            G.add_edge(("off", c), ("ev", s2, t_arr + w), weight=w)
            events.setdefault(s2, set()).add(t_arr + w)
    for i, access in enumerate(accesses):
        for s, secs in access.items():
            G.add_edge(("origin", i), ("ev", s, t0 + secs), weight=secs)
            events.setdefault(s, set()).add(t0 + secs)
    for s, times in events.items():
        for a, b in itertools.pairwise(sorted(times)):
            G.add_edge(("ev", s, a), ("ev", s, b), weight=b - a)
    out = []
    for i in range(len(accesses)):
        best = np.full(len(tt.xy), np.inf)
        for node, dd in nx.single_source_dijkstra_path_length(G, ("origin", i)).items():
            if node[0] == "ev":
                best[node[1]] = min(best[node[1]], t0 + dd)
        out.append(best)
    return out


@pytest.mark.slow
def test_csa_matches_time_expanded_dijkstra_on_dong_da():
    tt = build_timetable(read_gtfs())
    speed = 4.5 / 3.6
    foot = _footpaths(tt.xy, 250.0, speed)
    busy = np.argsort(-np.bincount(tt.dep_stop, minlength=len(tt.xy)))[:60]  # stops with departures
    rng = np.random.default_rng(7)
    accesses = [{int(s): 0.0} for s in rng.choice(busy, size=3, replace=False)]
    accesses.append({int(busy[0]): 90.0, int(busy[1]): 200.0})  # two stops on foot
    window = 40 * 60.0
    for t0 in (10 * 3600.0, 13 * 3600 + 17 * 60.0):
        refs = _time_expanded_arrivals(tt, accesses, t0, t0 + window, foot)
        for access, ref in zip(accesses, refs, strict=True):
            csa = earliest_arrival(tt, access, t0, footpaths=foot, max_s=window)
            reached = np.isfinite(ref)
            assert np.array_equal(np.isfinite(csa), reached)
            assert csa[reached] == pytest.approx(ref[reached], abs=1e-6)
            assert reached.sum() > 30  # a real test: many stops reached


@pytest.mark.slow
def test_dong_da_times_are_sane():
    feed_tt = build_timetable(read_gtfs())
    # A 4 x 4 grid of origins and destinations over the subset's core (EPSG:4326 box).
    lon = np.linspace(105.805, 105.835, 4)
    lat = np.linspace(21.003, 21.017, 4)
    xx, yy = np.meshgrid(lon, lat)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xx.ravel(), yy.ravel()), crs="EPSG:4326")
    res = transit_times(pts, pts, feed_tt, depart_from="10:00", depart_to="10:30", every_min=10)
    assert (res["transit_min_mean"] <= res["walk_min"] + 1e-9).all()
    far = res[res["walk_min"] > 30]  # over 2.25 km apart
    assert len(far) > 20
    assert far["bus_faster_share"].mean() > 0.5  # the bus usually beats a long walk
    # Door-to-door speed never exceeds a bus's: straight-line km / hours < 40 km/h.
    km = res["walk_min"] / 60 * 4.5
    assert (km / (res["transit_min_best"] / 60)).max() < 40
