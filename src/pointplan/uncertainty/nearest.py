"""Nearest point for every demand place, asked again and again as the points move.

A Monte Carlo draw moves the stand-in points among a few populated places; the demand places,
their snapping to the streets and whether each lies on the road network never change, and the
places a point moves to come back draw after draw. :class:`NearestSearch` keeps those and,
per set of point coordinates, does only what the new coordinates require:

* the straight-line fallback (:class:`~pointplan.network.CrowFliesEngine`): one k-d tree query
  of the demand against the points (shared by every engine of a draw, see
  :func:`straight_nearest`) and the calibrated minutes of the straight distance;
* the hybrid engine (:class:`~pointplan.network.HybridEngine`): the demand places on the
  network are snapped once, each site a point stands at is snapped the first time it is
  used, and one multi-source pass on the network from the points on it answers every demand
  place on it (the network engine's own pass, on arrays: no frames, no snapping); the
  straight-line part reuses the draw's k-d tree query. The answers are combined by the
  hybrid's own rule (the quicker of the network answer and the fallback to a point off the
  network; the fallback to any point where the network has no answer);
* any other engine: its ``nearest``, as before.

The fast ways are checked once, against the engine's own ``nearest`` on the points as given:
if they disagree (an engine that works differently), every search goes the engine's way.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
from scipy.spatial import cKDTree

from pointplan._validate import projected_crs

__all__ = ["NearestSearch", "straight_nearest"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Result = tuple[IntArray, FloatArray]
#: Straight distance (m) from each demand place to its nearest point, and that point's position.
Straight = tuple[FloatArray, IntArray]


def straight_nearest(xy: FloatArray, dem_xy: FloatArray) -> Straight:
    """Return the straight distance from each demand place to its nearest point, and the point.

    Parameters
    ----------
    xy
        The points (n, 2), projected metres.
    dem_xy
        The demand places (m, 2).

    Returns
    -------
    tuple of numpy.ndarray
        Distances (m) and positions in ``xy`` (one k-d tree query, as the fallback engine's).

    Examples
    --------
    >>> import numpy as np
    >>> d, k = straight_nearest(np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([[900.0, 0.0], [-30.0, 40.0]]))
    >>> d.tolist(), k.tolist()
    ([100.0, 50.0], [1, 0])
    """
    dist, k = cKDTree(xy).query(dem_xy, k=1)
    return np.asarray(dist, dtype=float), np.asarray(k, dtype=np.int64)


class NearestSearch:
    """Nearest point and minutes for every demand place, for any coordinates of the points.

    Parameters
    ----------
    engine
        The travel engine (any :class:`~pointplan.network.TravelEngine`).
    demand
        The demand places (origins), unchanged between searches.
    dem_xy
        Their projected coordinates (metres).
    points
        The points as given (their index and ``kind`` are kept; coordinates change).
    base_xy
        The points' projected coordinates as given (the search checks its fast way on them).
    shortcuts
        ``False``: always the engine's own ``nearest`` (the previous way, for benchmarks).

    Attributes
    ----------
    way : str
        ``"fallback"``, ``"hybrid"`` or ``"engine"`` (the engine's own ``nearest``).

    Examples
    --------
    The straight-line engine at 12 km/h (5 minutes a kilometre), two demand places, one point
    moved 1 km east:

    >>> import geopandas as gpd, numpy as np
    >>> from pointplan.network import CrowFliesEngine
    >>> dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 3000.0], [0.0, 0.0]), crs=32648)
    >>> pts = gpd.GeoDataFrame({"kind": ["unit_point"]}, geometry=gpd.points_from_xy([1000.0], [0.0]),
    ...     index=["P1"], crs=32648)
    >>> xy = np.array([[1000.0, 0.0]])
    >>> eng = CrowFliesEngine("bike", speed_kmh=12, circuity=1)
    >>> s = NearestSearch(eng, dem, np.array([[0.0, 0], [3000, 0]]), pts, xy)
    >>> s.way, s(np.array([[2000.0, 0.0]]))[1].round(6).tolist()
    ('fallback', [10.0, 5.0])
    """

    def __init__(
        self,
        engine: Any,
        demand: gpd.GeoDataFrame,
        dem_xy: FloatArray,
        points: gpd.GeoDataFrame,
        base_xy: FloatArray,
        *,
        shortcuts: bool = True,
    ) -> None:
        from pointplan.network import CrowFliesEngine, HybridEngine

        self.engine = engine
        self.dem = demand
        self.dem_xy = dem_xy
        self.kind = points["kind"].to_numpy()
        self.index = points.index
        self.way = "engine"
        if not shortcuts:
            return
        if isinstance(engine, HybridEngine) and self._same_crs(engine.network.crs):
            self.way = "hybrid"
        elif isinstance(engine, CrowFliesEngine) and self._same_crs(engine.crs):
            self.way = "fallback"
        if self.way != "engine":
            self._check(base_xy, demand)

    @staticmethod
    def _same_crs(crs: Any) -> bool:
        """Whether the engine works in the projected CRS of the coordinates (the fast ways need it)."""
        return bool(pyproj.CRS.from_user_input(crs).equals(pyproj.CRS.from_user_input(projected_crs())))

    def _check(self, base_xy: FloatArray, demand: gpd.GeoDataFrame) -> None:
        """Use the engine's own ``nearest`` when the fast way does not give its answer (or cannot run).

        The hybrid way reads the network engine's arrays (its streets, its multi-source pass):
        an engine without them goes the engine's way.
        """
        try:
            if self.way == "hybrid":
                self.roads = _RoadPass(self.engine, demand, self.dem_xy)
            j_fast, m_fast = self(base_xy)
        except (AttributeError, TypeError) as exc:
            logger.info("uncertainty: the %s shortcut cannot run (%s); using the engine's nearest", self.way, exc)
            self.way = "engine"
            return
        way, self.way = self.way, "engine"
        j_slow, m_slow = self(base_xy)
        same_m = np.allclose(m_fast, m_slow, rtol=1e-9, atol=1e-9, equal_nan=True)
        if same_m and np.array_equal(j_fast, j_slow):
            self.way = way
            return
        logger.info("uncertainty: the %s shortcut differs from the engine's nearest; using the engine's", way)

    def frame(self, xy: FloatArray) -> gpd.GeoDataFrame:
        """Return the points at coordinates ``xy`` (projected CRS), as a frame the engines take."""
        return gpd.GeoDataFrame(
            {"kind": self.kind}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), index=self.index, crs=projected_crs()
        )

    def __call__(self, xy: FloatArray, straight: Straight | None = None) -> Result:
        """Return, per demand place, the position of its nearest point (-1: none) and the minutes (NaN: none).

        ``straight`` is :func:`straight_nearest` of ``xy`` when the caller has it already.
        """
        if self.way == "engine":
            return self._engine(xy)
        dist, k = straight_nearest(xy, self.dem_xy) if straight is None else straight
        if self.way == "fallback":
            return k, self._fallback_minutes(self.engine, dist)
        return self._hybrid(xy, k, self._fallback_minutes(self.engine.fallback, dist))

    def _engine(self, xy: FloatArray) -> Result:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unreachable demand is counted, not warned per draw
            near = self.engine.nearest(self.dem, self.frame(xy))
        pos = pd.Series(np.arange(len(xy)), index=self.index)
        dest = near["dest"]
        j = np.full(len(dest), -1, dtype=np.int64)
        ok = dest.notna().to_numpy()
        j[ok] = pos.loc[dest[ok].astype(str)].to_numpy()
        return j, near["minutes"].to_numpy(dtype=float)

    @staticmethod
    def _fallback_minutes(engine: Any, straight: FloatArray) -> FloatArray:
        """Minutes of the straight-line engine to the nearest point (door to door, as its ``nearest``)."""
        return engine.minutes_for(straight) * float(getattr(engine, "nearest_factor", 1.0))

    def _hybrid(self, xy: FloatArray, k: IntArray, fb_m: FloatArray) -> Result:
        """Apply the hybrid engine's rule (see :meth:`pointplan.network.HybridEngine.nearest`), reusing the demand.

        ``k`` and ``fb_m``: the nearest point by straight line and the fallback's minutes to it.
        """
        roads = self.roads
        n = len(self.dem_xy)
        minutes, j = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        net = np.zeros(n, dtype=bool)
        sites = roads.sites(xy)
        d_on = roads.site_on[sites]
        if len(roads.o_pos) and d_on.any():
            cols = np.flatnonzero(d_on)
            dest, m = roads.nearest(sites[cols])
            ok = np.isfinite(m)
            rows = roads.o_pos[ok]
            minutes[rows], j[rows], net[rows] = m[ok], cols[dest[ok]], True
        rows = np.flatnonzero(~roads.o_on | ~np.isfinite(minutes))  # off the network, or no way on it
        if len(rows):
            net[rows[_take(minutes, j, rows, k[rows], fb_m[rows])]] = False
        both = np.flatnonzero(roads.o_on & net)  # on the network, but a point off it may be quicker
        if roads.monotone:  # no quicker than the nearest point of all by straight line: not quicker
            both = both[fb_m[both] <= minutes[both] * (1 + 1e-9)]
        off = np.flatnonzero(~d_on)
        if len(both) and len(off):
            straight, kk = cKDTree(xy[off]).query(self.dem_xy[both], k=1)
            m_off = self._fallback_minutes(self.engine.fallback, np.asarray(straight, dtype=float))
            net[both[_take(minutes, j, both, off[np.asarray(kk, dtype=np.int64)], m_off)]] = False
        mix = np.flatnonzero((roads.handover > 0) & net)  # the hand-over band: towards the fallback's time
        if len(mix):
            w, jf, mf = roads.handover[mix], k[mix], fb_m[mix]
            ok = np.isfinite(mf)
            r, w, jf, mf = mix[ok], w[ok], jf[ok], mf[ok]
            minutes[r] = (1 - w) * minutes[r] + w * mf
            j[r] = np.where(w >= 0.5, jf, j[r])
        bad = ~np.isfinite(minutes)
        return np.where(bad, -1, j), np.where(bad, np.nan, minutes)


class _RoadPass:
    """The network side of a hybrid engine, for fixed origins and destinations that come back.

    The origins on the network are snapped once; each site (coordinates) a destination stands
    at is snapped the first time it is seen and remembered. :meth:`nearest` is the network
    engine's ``nearest`` (its multi-source pass :meth:`NetworkEngine._from_destinations`, the
    best street end, the trips along one street, the snap legs) on those arrays.
    """

    def __init__(self, engine: Any, demand: gpd.GeoDataFrame, dem_xy: FloatArray) -> None:
        net = engine.network
        self.net, self.snap_m = net, float(engine.snap_m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.o_on = engine.on_network(demand).to_numpy(dtype=bool)
            self.handover = np.asarray(engine.handover_weight(demand).to_numpy(dtype=float))  # 0 on, 1 off
            o = net._snap(demand, "origins")
        self.o_pos = np.flatnonzero(self.o_on)
        self.o = _rows(o, self.o_pos)
        self.ends = self.o.nodes
        self.leave_s = self.o.leave()[0]
        self.o_leg_s = self.o.snap_m / net._access_mps
        self.monotone = _grows_with_distance(engine.fallback)
        self._row: dict[bytes, int] = {}
        self._snapped = net._g.streets.snap(np.empty((0, 2)))
        self.site_on = np.zeros(0, dtype=bool)
        self._ref: tuple[FloatArray, IntArray] | None = None  # the first coordinates asked about, and their rows
        self._seed(o, dem_xy)

    def _seed(self, o: Any, dem_xy: FloatArray) -> None:
        """Take the demand places as known sites (points move to them), if they snap as the sites would."""
        sample = np.unique(np.linspace(0, len(dem_xy) - 1, min(len(dem_xy), 256)).astype(np.int64))
        s = self.net._g.streets.snap(dem_xy[sample])
        same = np.array_equal(s.street, o.street[sample]) and np.array_equal(s.frac, o.frac[sample])
        if not (same and np.array_equal(s.snap_m, o.snap_m[sample])):
            return  # the demand went through another projection: its sites are snapped when used
        self._snapped = o
        for r, p in enumerate(np.ascontiguousarray(dem_xy, dtype=float)):
            self._row.setdefault(p.tobytes(), r)
        self.site_on = o.snap_m <= self.snap_m

    def sites(self, xy: FloatArray) -> IntArray:
        """Row of each point's site in the table of snapped sites (new sites snapped and added).

        Only the points that moved since the first coordinates asked about are looked up (a draw
        moves a few stand-ins among 200,000 kiosks); the others keep their rows.
        """
        xy = np.ascontiguousarray(xy, dtype=float)
        ref = self._ref
        if ref is None or ref[0].shape != xy.shape:
            rows = self._site_rows(xy)
            self._ref = (xy.copy(), rows)
            return rows.copy()
        moved = np.flatnonzero((xy != ref[0]).any(axis=1))
        rows = ref[1].copy()
        if len(moved):
            rows[moved] = self._site_rows(xy[moved])
        return rows

    def _site_rows(self, xy: FloatArray) -> IntArray:
        """Row of each of these coordinates in the table of snapped sites (new sites snapped and added)."""
        keys = [p.tobytes() for p in np.ascontiguousarray(xy, dtype=float)]
        new = {}
        for i, key in enumerate(keys):
            if key not in self._row and key not in new:
                new[key] = i
        if new:
            first = len(self._snapped.street)
            s = self.net._g.streets.snap(xy[list(new.values())])
            old = self._snapped
            self._snapped = dataclasses.replace(
                old,
                street=np.concatenate([old.street, s.street]),
                frac=np.concatenate([old.frac, s.frac]),
                snap_m=np.concatenate([old.snap_m, s.snap_m]),
                proj_xy=np.concatenate([old.proj_xy, s.proj_xy]),
            )
            self._row.update({key: first + r for r, key in enumerate(new)})
            self.site_on = self._snapped.snap_m <= self.snap_m
        return np.array([self._row[key] for key in keys], dtype=np.int64)

    def nearest(self, rows: IntArray) -> Result:
        """Nearest of the sites ``rows`` (position among them) and minutes, for each origin on the network."""
        from pointplan.network.snapping import same_street_trips

        net, o, s = self.net, self.o, self._snapped
        d = _rows(s, rows)
        node_s, which, _ = net._from_destinations(d, lengths=False)
        cand = node_s[self.ends] + self.leave_s  # (m, 2): out of each origin's street by either end
        c = np.argmin(cand, axis=1)
        at = np.arange(len(c))
        sec, dest = cand[at, c], which[self.ends[at, c]]
        along = np.flatnonzero(np.isin(o.street, d.street))  # the origins on a destination's street
        direct = same_street_trips(_rows(o, along), d)
        if len(direct):
            i, jj = along[direct["i"].to_numpy()], direct["j"].to_numpy()
            dsec = direct["seconds"].to_numpy() + d.snap_m[jj] / net._access_mps
            first = np.lexsort((dsec, i))
            first = first[np.r_[True, i[first][1:] != i[first][:-1]]]  # fastest per origin
            i, jj, dsec = i[first], jj[first], dsec[first]
            better = dsec < sec[i]
            sec[i[better]], dest[i[better]] = dsec[better], jj[better]
        sec = sec + self.o_leg_s
        bad = ~np.isfinite(sec)
        return np.where(bad, -1, dest).astype(np.int64), np.where(bad, np.nan, sec / 60.0)


def _rows(snapped: Any, rows: IntArray) -> Any:
    """Return the snapped points at positions ``rows`` (a :class:`~pointplan.network.snapping.Snapped`)."""
    s = snapped
    return dataclasses.replace(
        s, street=s.street[rows], frac=s.frac[rows], snap_m=s.snap_m[rows], proj_xy=s.proj_xy[rows]
    )


def _grows_with_distance(fallback: Any) -> bool:
    """Whether the fallback's minutes never fall as the straight distance grows (every band's pace >= 0).

    Then a point farther by straight line is never quicker by the fallback, and the demand
    places whose nearest point of all is not quicker than their network answer need no search
    among the points off the network.

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> _grows_with_distance(CrowFliesEngine("walk", circuity=1.5)), _grows_with_distance(object())
    (True, False)
    """
    model = getattr(fallback, "model", None)
    circuity, speed = getattr(model, "circuity", None), getattr(model, "speed_kmh", None)
    if circuity is None or speed is None:
        return False
    factor = float(getattr(fallback, "nearest_factor", 1.0))
    return bool(np.all(np.asarray(circuity) >= 0) and np.all(np.asarray(speed) > 0) and factor > 0)


def _take(minutes: FloatArray, j: IntArray, rows: IntArray, jj: IntArray, m: FloatArray) -> npt.NDArray[np.bool_]:
    """Keep, row by row, the strictly quicker of the current answer and ``(jj, m)`` (in place); return where taken."""
    ok = np.isfinite(m) & (m < minutes[rows])
    minutes[rows[ok]] = m[ok]
    j[rows[ok]] = jj[ok]
    return np.asarray(ok)
