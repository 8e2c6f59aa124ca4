"""Nearest point for every demand place, asked again and again as the points move.

A Monte Carlo draw moves a few points; the demand places, their snapping to the streets and
whether each lies on the road network never change. :class:`NearestSearch` keeps those and,
per set of point coordinates, does only what the new coordinates require:

* the straight-line fallback (:class:`~pointplan.network.CrowFliesEngine`): one k-d tree of
  the points and the calibrated minutes of the straight distance (vectorised);
* the hybrid engine (:class:`~pointplan.network.HybridEngine`): one multi-source pass on the
  network from the points that lie on it, for the demand places on it, and k-d trees for the
  rest, combined by the hybrid's own rule (the quicker of the network answer and the
  fallback to a point off the network; the fallback to any point where the network has no
  answer);
* any other engine: its ``nearest``, as before.

The fast ways are checked once, against the engine's own ``nearest`` on the points as given:
if they disagree (an engine that works differently), every search goes the engine's way.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from pointplan._validate import projected_crs

__all__ = ["NearestSearch"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Result = tuple[IntArray, FloatArray]


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
        if isinstance(engine, HybridEngine):
            self._prepare_hybrid(engine)
            self.way = "hybrid"
        elif isinstance(engine, CrowFliesEngine):
            self.way = "fallback"
        if self.way != "engine":
            self._check(base_xy)

    def _prepare_hybrid(self, engine: Any) -> None:
        """Which demand places lie on the network (once), and a memo of it for the sites points move to."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.o_on = engine.on_network(self.dem).to_numpy(dtype=bool)
        self.o_pos = np.flatnonzero(self.o_on)
        self.handover = np.asarray(engine.handover_weight(self.dem).to_numpy(dtype=float))  # 0 on, 1 off
        self._crs = projected_crs()
        self.dem_on = self.dem.iloc[self.o_pos]
        self._on: dict[bytes, bool] = {_key(xy): bool(on) for xy, on in zip(self.dem_xy, self.o_on, strict=True)}

    def _points_on(self, xy: FloatArray) -> npt.NDArray[np.bool_]:
        """Whether each point lies on the network: remembered by coordinates, new sites snapped once."""
        keys = [_key(p) for p in xy]
        new = [i for i, k in enumerate(keys) if k not in self._on]
        if new:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                on = self.engine.on_network(self.frame(xy).iloc[new]).to_numpy(dtype=bool)
            self._on.update({keys[i]: bool(o) for i, o in zip(new, on, strict=True)})
        return np.array([self._on[k] for k in keys], dtype=bool)

    def _check(self, base_xy: FloatArray) -> None:
        """Use the engine's own ``nearest`` when the fast way does not give its answer."""
        j_fast, m_fast = self(base_xy)
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

    def __call__(self, xy: FloatArray) -> Result:
        """Return, per demand place, the position of its nearest point (-1: none) and the minutes (NaN: none)."""
        if self.way == "fallback":
            return self._fallback(self.engine, xy, np.arange(len(self.dem_xy)))
        if self.way == "hybrid":
            return self._hybrid(xy)
        return self._engine(xy)

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

    def _fallback(self, engine: Any, xy: FloatArray, rows: IntArray, cols: IntArray | None = None) -> Result:
        """Straight-line nearest among the points ``cols`` (all by default) for demand ``rows``."""
        cols = np.arange(len(xy)) if cols is None else cols
        straight, k = cKDTree(xy[cols]).query(self.dem_xy[rows], k=1)
        factor = float(getattr(engine, "nearest_factor", 1.0))  # as the engine's nearest (door to door)
        return cols[np.asarray(k, dtype=np.int64)], engine.minutes_for(straight) * factor

    def _hybrid(self, xy: FloatArray) -> Result:
        """Apply the hybrid engine's rule (see :meth:`pointplan.network.HybridEngine.nearest`), reusing the demand."""
        eng = self.engine
        n = len(self.dem_xy)
        minutes, j = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        net = np.zeros(n, dtype=bool)
        d_on = self._points_on(xy)
        if len(self.o_pos) and d_on.any():
            cols = np.flatnonzero(d_on)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pts = gpd.GeoSeries(gpd.points_from_xy(xy[cols, 0], xy[cols, 1]), crs=self._crs)
                near = eng.network.nearest(self.dem_on, pts, with_distance=False)
                m = near["minutes"].to_numpy(dtype=float)
                ok = np.isfinite(m)
                rows = self.o_pos[ok]
                minutes[rows], j[rows], net[rows] = m[ok], cols[near["dest"].to_numpy()[ok].astype(np.int64)], True
        rows = np.flatnonzero(~self.o_on | ~np.isfinite(minutes))  # off the network, or no way on it
        if len(rows):
            net[rows[_take(minutes, j, rows, *self._fallback(eng.fallback, xy, rows))]] = False
        both = np.flatnonzero(self.o_on & net)  # on the network, but a point off it may be quicker
        off = np.flatnonzero(~d_on)
        if len(both) and len(off):
            net[both[_take(minutes, j, both, *self._fallback(eng.fallback, xy, both, off))]] = False
        mix = np.flatnonzero((self.handover > 0) & net)  # the hand-over band: towards the fallback's time
        if len(mix):
            jf, mf = self._fallback(eng.fallback, xy, mix)
            w = self.handover[mix]
            ok = np.isfinite(mf)
            r, w, jf, mf = mix[ok], w[ok], jf[ok], mf[ok]
            minutes[r] = (1 - w) * minutes[r] + w * mf
            j[r] = np.where(w >= 0.5, jf, j[r])
        bad = ~np.isfinite(minutes)
        return np.where(bad, -1, j), np.where(bad, np.nan, minutes)


def _key(xy: FloatArray) -> bytes:
    """Memo key of one point's coordinates."""
    return np.ascontiguousarray(xy, dtype=float).tobytes()


def _take(minutes: FloatArray, j: IntArray, rows: IntArray, jj: IntArray, m: FloatArray) -> npt.NDArray[np.bool_]:
    """Keep, row by row, the strictly quicker of the current answer and ``(jj, m)`` (in place); return where taken."""
    ok = np.isfinite(m) & (m < minutes[rows])
    minutes[rows[ok]] = m[ok]
    j[rows[ok]] = jj[ok]
    return np.asarray(ok)
