"""Travel times kept between the operations of a :class:`pointplan.Scenario`.

One :class:`KeptTimes` per travel mode holds a demand × point-slot matrix of minutes with
the meaning of the engine's ``od_long`` without a cut-off (``inf`` where no route), and
each demand place's nearest and second-nearest slot with the meaning of the engine's
``nearest``. A new or moved point costs ONE routing call for that point (the straight-line
part is vectorised); the nearest of a demand place is recomputed only where the point
that changed was its nearest or second-nearest, or where it becomes nearer.

A hybrid engine's rules are reproduced exactly: a trip is on the network when both ends
are; an origin on the network that reaches no destination on it uses the fallback for
every destination.

Examples
--------
>>> from pointplan.assessment._demo import tiny_city
>>> c = tiny_city()
>>> k = KeptTimes(c["engine"], c["demand"])
>>> k.set_columns([0], c["points"].to_crs(4326))
>>> k.nearest_minutes().round(6).tolist()
[2.5, 2.5, 15.0, 52.5]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.inputs import projected_xy

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Cut-off (minutes) standing for "no cut-off" in the engines' ``od_long``.
UNLIMITED_MINUTES = 1e7


def _widen(a: FloatArray, width: int, fill: float) -> FloatArray:
    """Return ``a`` (column-major) with columns added up to ``width``, filled with ``fill``."""
    out = np.full((a.shape[0], width), fill, order="F")
    out[:, : a.shape[1]] = a
    return out


class KeptTimes:
    """Minutes from every demand place to every point slot for one engine, kept up to date."""

    def __init__(self, engine: TravelEngine, demand: gpd.GeoDataFrame, capacity: int = 16) -> None:
        self.engine = engine
        self.method = str(engine.method)
        self.demand = demand
        self.n = len(demand)
        self.xy = projected_xy(demand)
        self.fallback = getattr(engine, "fallback", engine) if self.method != "network" else None
        if self.method == "hybrid":
            self.o_on = engine.on_network(demand).to_numpy(dtype=bool)  # type: ignore[attr-defined]
        else:
            self.o_on = np.full(self.n, self.method == "network")
        self.on_rows = np.flatnonzero(self.o_on)
        self.on_index = np.full(self.n, -1, np.int64)
        self.on_index[self.on_rows] = np.arange(len(self.on_rows))
        self.n_net = np.zeros(len(self.on_rows), np.int64)
        self.dem_on = demand.iloc[self.on_rows]
        # column-major: an operation reads and writes whole columns (one point's times)
        self.M = np.full((self.n, capacity), np.inf, order="F")
        self.FB = np.full((len(self.on_rows), capacity), np.inf, order="F") if self.method == "hybrid" else None
        self.d_on = np.zeros(capacity, bool)
        self.active = np.zeros(capacity, bool)
        self.near = np.full(self.n, -1, np.int64)
        self.second = np.full(self.n, -1, np.int64)
        self.near_min = np.full(self.n, np.inf)
        self.second_min = np.full(self.n, np.inf)

    # -- columns -------------------------------------------------------------------------

    def _grow(self, slot: int) -> None:
        cap = self.M.shape[1]
        if slot < cap:
            return
        new = max(2 * cap, slot + 1)
        self.M = _widen(self.M, new, np.inf)
        if self.FB is not None:
            self.FB = _widen(self.FB, new, np.inf)
        self.d_on = np.concatenate([self.d_on, np.zeros(new - cap, bool)])
        self.active = np.concatenate([self.active, np.zeros(new - cap, bool)])

    def _fallback_minutes(self, points: gpd.GeoDataFrame) -> FloatArray:
        """Fallback minutes (n, k) from the straight lines, vectorised."""
        pxy = projected_xy(points)
        dx = self.xy[:, 0, None] - pxy[None, :, 0]
        dy = self.xy[:, 1, None] - pxy[None, :, 1]
        straight = np.sqrt(dx * dx + dy * dy)
        assert self.fallback is not None
        out: FloatArray = self.fallback.minutes_for(straight.ravel()).reshape(straight.shape)  # type: ignore[attr-defined]
        return out

    def _network_minutes(self, origins: gpd.GeoDataFrame, points: gpd.GeoDataFrame, engine: TravelEngine) -> FloatArray:
        """Network minutes (len(origins), k), ``inf`` where no route: one routing call."""
        out = np.full((len(origins), len(points)), np.inf)
        if len(origins) == 0 or len(points) == 0:
            return out
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            od = engine.od_long(origins, points, UNLIMITED_MINUTES, with_distance=False)
        out[od["i"].to_numpy(), od["j"].to_numpy()] = od["minutes"].to_numpy(dtype=float)
        return out

    def columns(self, points: gpd.GeoDataFrame) -> tuple[FloatArray, FloatArray | None, npt.NDArray[np.bool_]]:
        """Route ``points``: the od minutes (n, k), the fallback minutes of on-network rows, d_on.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> m, fb, on = KeptTimes(c["engine"], c["demand"]).columns(c["points"])
        >>> m[:, 0].round(6).tolist(), fb, on.tolist()
        ([2.5, 2.5, 15.0, 52.5], None, [False])
        """
        if self.method == "network":
            return self._network_minutes(self.demand, points, self.engine), None, np.ones(len(points), bool)
        fb = self._fallback_minutes(points)
        if self.method != "hybrid":
            return fb, None, np.zeros(len(points), bool)
        d_on = self.engine.on_network(points).to_numpy(dtype=bool)  # type: ignore[attr-defined]
        m = fb.copy()
        fb_on = fb[self.on_rows]
        if d_on.any() and len(self.on_rows):
            net = self._network_minutes(self.dem_on, points[d_on], self.engine.network)  # type: ignore[attr-defined]
            cols = np.flatnonzero(d_on)
            m[np.ix_(self.on_rows, cols)] = net
        return m, fb_on, d_on

    # -- nearest -------------------------------------------------------------------------

    def effective(self, rows: IntArray, slots: IntArray) -> FloatArray:
        """Return the minutes ``nearest`` compares for ``rows`` × ``slots`` (the hybrid's fallback rule).

        An origin on the network that reaches none of ``slots`` on it compares fallback
        minutes for all of them.
        """
        e = self.M[np.ix_(rows, slots)]
        if self.FB is None or len(rows) == 0:
            return e
        on_pos = self.on_index[rows]
        is_on = on_pos >= 0
        net_slots = self.d_on[slots]
        reach = np.isfinite(e[:, net_slots]).any(axis=1) if net_slots.any() else np.zeros(len(rows), bool)
        fb_rows = is_on & ~reach
        if fb_rows.any():
            e[fb_rows] = self.FB[np.ix_(on_pos[fb_rows], slots)]
        return e

    def recompute_rows(self, rows: IntArray) -> None:
        """Nearest and second-nearest of ``rows`` over every active slot, from scratch."""
        if len(rows) == 0:
            return
        slots = np.flatnonzero(self.active)
        if len(slots) == 0:
            self.near[rows], self.second[rows] = -1, -1
            self.near_min[rows], self.second_min[rows] = np.inf, np.inf
            return
        e = self.effective(rows, slots)
        first = np.argmin(e, axis=1)
        r = np.arange(len(rows))
        self.near[rows] = slots[first]
        self.near_min[rows] = e[r, first]
        if len(slots) > 1:
            e[r, first] = np.inf
            sec = np.argmin(e, axis=1)
            self.second[rows] = slots[sec]
            self.second_min[rows] = e[r, sec]
        else:
            self.second[rows], self.second_min[rows] = -1, np.inf
        self.near[rows[~np.isfinite(self.near_min[rows])]] = -1

    def _net_reach(self, rows: IntArray) -> npt.NDArray[np.bool_]:
        """Whether each on-network row reaches an active on-network slot by the network."""
        return self.n_net[self.on_index[rows]] > 0

    def _count_net(self, slots: IntArray, sign: int) -> None:
        """Add (+1) or take away (-1) the network routes of ``slots`` from each on-network row's count."""
        live = slots[self.active[slots] & self.d_on[slots]]
        if len(live) and len(self.on_rows):
            self.n_net += sign * np.isfinite(self.M[np.ix_(self.on_rows, live)]).sum(axis=1)

    def set_columns(self, slots: Sequence[int], points: gpd.GeoDataFrame | None) -> None:
        """Give ``slots`` the points ``points`` (routed now), or deactivate them (``None``).

        Only the rows whose nearest or second-nearest was one of ``slots``, whose
        network reach changes, or that a new column brings nearer are recomputed.
        """
        slots_a = np.asarray(list(slots), np.int64)
        cols = None if points is None else self.columns(points)
        self.put_columns(slots_a, cols)

    def put_columns(
        self,
        slots: IntArray,
        cols: tuple[FloatArray, FloatArray | None, npt.NDArray[np.bool_]] | None,
    ) -> None:
        """As :meth:`set_columns`, with columns already routed (``columns`` or ``take``)."""
        if len(slots):
            self._grow(int(slots.max()))
        hybrid = self.FB is not None and len(self.on_rows) > 0
        reach_before = self.n_net > 0 if hybrid else None
        self._count_net(slots, -1)
        touched = np.isin(self.near, slots) | np.isin(self.second, slots)
        if cols is None:
            self.M[:, slots] = np.inf
            if self.FB is not None:
                self.FB[:, slots] = np.inf
            self.d_on[slots] = False
            self.active[slots] = False
        else:
            m, fb, d_on = cols
            self.M[:, slots] = m
            if self.FB is not None and fb is not None:
                self.FB[:, slots] = fb
            self.d_on[slots] = d_on
            self.active[slots] = True
        self._count_net(slots, +1)
        if hybrid:
            flipped = self.on_rows[reach_before != (self.n_net > 0)]
            touched[flipped] = True
        if cols is not None:
            touched |= self._brought_nearer(slots)
        self.recompute_rows(np.flatnonzero(touched))

    def _brought_nearer(self, slots: IntArray) -> npt.NDArray[np.bool_]:
        """Rows to which a slot is now nearer than their second-nearest (an upper bound)."""
        e = self.M[:, slots]
        if self.FB is not None and len(self.on_rows):
            e = e.copy()
            e[self.on_rows] = np.minimum(e[self.on_rows], self.FB[:, slots])
        return (e < self.second_min[:, None]).any(axis=1) | (e <= self.near_min[:, None]).any(axis=1)

    def take(self, slots: IntArray) -> tuple[FloatArray, FloatArray | None, npt.NDArray[np.bool_]]:
        """Return copies of the columns of ``slots`` (to restore them on undo without routing)."""
        fb = None if self.FB is None else self.FB[:, slots].copy()
        return self.M[:, slots].copy(), fb, self.d_on[slots].copy()

    # -- answers -------------------------------------------------------------------------

    def nearest_minutes(self) -> FloatArray:
        """Minutes to the nearest point (NaN where none is reached, as the engines say)."""
        return np.where(np.isfinite(self.near_min), self.near_min, np.nan)

    def nearest_methods(self) -> npt.NDArray[np.object_]:
        """``network`` or ``fallback`` per demand place (how its nearest trip was timed)."""
        if self.method == "network":
            return np.full(self.n, "network", dtype=object)
        if self.method != "hybrid":
            return np.full(self.n, "fallback", dtype=object)
        ok = self.near >= 0
        by_net = np.zeros(self.n, bool)
        by_net[ok] = self.o_on[ok] & self.d_on[self.near[ok]]
        if len(self.on_rows):
            by_net[self.on_rows] &= self.n_net > 0
        return np.where(by_net, "network", "fallback").astype(object)

    def own_unit(self, rows: IntArray, slots: IntArray) -> FloatArray:
        """Minutes from ``rows`` to the nearest of ``slots`` (their unit's points).

        ``inf`` without slots; NaN where none is reached (as the engines say).
        """
        if len(slots) == 0:
            return np.full(len(rows), np.inf)
        m = self.effective(rows, slots).min(axis=1)
        return np.where(np.isfinite(m), m, np.nan)

    def od(self, slots: IntArray, cutoff: float) -> pd.DataFrame:
        """Pairs within ``cutoff`` minutes: ``i``, ``j`` (position among ``slots``), ``minutes``."""
        sub = self.M[:, slots]
        i, j = np.nonzero(sub <= cutoff)
        return pd.DataFrame({"i": i.astype(np.int64), "j": j.astype(np.int64), "minutes": sub[i, j]})
