"""Travel times kept between the operations of a :class:`pointplan.Scenario`.

One :class:`KeptTimes` per travel mode holds a demand × point-slot matrix of minutes with
the meaning of the engine's ``od_long`` without a cut-off (``inf`` where no route), and
each demand place's nearest and second-nearest slot with the meaning of the engine's
``nearest``. A new or moved point costs ONE routing call for that point (the straight-line
part is vectorised); the nearest of a demand place is recomputed only where the point
that changed was its nearest or second-nearest, or where it becomes nearer.

The engines' rules are reproduced exactly:

* the straight-line fallback times the nearest point door to door: ``nearest`` multiplies
  its minutes by the fallback's ``nearest_factor``, ``od_long`` (each trip) does not;
* a hybrid trip is on the network when both ends are; an origin on the network that
  reaches no destination on it uses the fallback for every destination;
* a hybrid origin in the handover band (:meth:`~pointplan.network.HybridEngine.handover_weight`
  ``w > 0``; weights computed once per demand place) whose nearest trip is on the network
  gets ``(1 - w) * network + w * fallback`` minutes, the fallback being its nearest point
  over all points; the fallback's point when ``w >= 0.5``. Its od pairs to points on the
  network are blended pair by pair, kept where the network trip is within twice the
  cut-off and the blend within it;
* the pairs the hybrid's ``od_long`` lists more than once are counted as often (measured
  once from the engine, :meth:`KeptTimes.od_minutes`).

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
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._results import cached, digest
from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.inputs import projected_xy
from pointplan.network import points_key

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
        # ``nearest`` times the fallback door to door (x nearest_factor); ``od_long`` does not
        self.factor = float(getattr(self.fallback, "nearest_factor", 1.0)) if self.fallback is not None else 1.0
        self.w = np.zeros(self.n)  # the hybrid's handover weight per demand place
        self.pair_count = 1.0  # times the hybrid's od_long lists a pair of ``dup_rows``
        if self.method == "hybrid":
            self.o_on, self.w = cached("kept_reach", self._key("reach"), self._reach)
        else:
            self.o_on = np.full(self.n, self.method == "network")
        self.band_rows = np.flatnonzero(self.o_on & (self.w > 0)) if self.method == "hybrid" else np.empty(0, np.int64)
        self.dup_rows = np.flatnonzero(self.o_on & (self.w == 0)) if len(self.band_rows) else np.empty(0, np.int64)
        self.on_rows = np.flatnonzero(self.o_on)
        self.on_index = np.full(self.n, -1, np.int64)
        self.on_index[self.on_rows] = np.arange(len(self.on_rows))
        self.n_net = np.zeros(len(self.on_rows), np.int64)
        self.dem_on = demand.iloc[self.on_rows]
        if len(self.dup_rows):
            self.pair_count = cached("kept_pairs", self._key("pairs"), self._count_pairs, min_seconds=0.0)
        # column-major: an operation reads and writes whole columns (one point's times)
        self.M = np.full((self.n, capacity), np.inf, order="F")
        self.FB = np.full((len(self.on_rows), capacity), np.inf, order="F") if self.method == "hybrid" else None
        self.d_on = np.zeros(capacity, bool)
        self.active = np.zeros(capacity, bool)
        self.near = np.full(self.n, -1, np.int64)
        self.second = np.full(self.n, -1, np.int64)
        self.near_min = np.full(self.n, np.inf)
        self.second_min = np.full(self.n, np.inf)
        # the fallback's nearest point over all points (kept for ``band_rows`` only), unfactored
        self.fb_near = np.full(self.n, -1, np.int64)
        self.fb_min = np.full(self.n, np.inf)

    def _key(self, *parts: object) -> bytes | None:
        """Key of a result kept on disk: the engine, the demand places, ``parts`` (None: not kept)."""
        fp = getattr(self.engine, "fingerprint", None)
        dem = points_key(self.demand)
        if not isinstance(fp, bytes) or dem is None:
            return None
        return digest("kept", type(self.engine).__name__, fp, dem, *parts)

    def _reach(self) -> tuple[npt.NDArray[np.bool_], FloatArray]:
        """Whether each demand place is on the hybrid's network, and its hand-over weight."""
        engine: Any = self.engine
        on = engine.on_network(self.demand).to_numpy(dtype=bool)
        return on, np.asarray(engine.handover_weight(self.demand).to_numpy(dtype=float))

    def _count_pairs(self) -> float:
        """How many times the hybrid's ``od_long`` lists a network pair of an origin outside the band.

        Measured once on two demand places (one outside the band, one in it) and the first
        as the destination: the engine lists such pairs twice when its demand holds origins
        of both kinds (``HybridEngine._od_long`` blends every network part again).
        """
        probe = self.demand.iloc[[int(self.dup_rows[0]), int(self.band_rows[0])]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            od = self.engine.od_long(probe, probe.iloc[[0]], UNLIMITED_MINUTES, with_distance=False)
        n = int(((od["i"].to_numpy() == 0) & (od["j"].to_numpy() == 0)).sum())
        return float(max(n, 1))

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
        """Fallback minutes (n, k) from the straight lines, vectorised (each trip: no ``nearest_factor``)."""
        pxy = projected_xy(points)
        dx = self.xy[:, 0, None] - pxy[None, :, 0]
        dy = self.xy[:, 1, None] - pxy[None, :, 1]
        straight = np.sqrt(dx * dx + dy * dy)
        assert self.fallback is not None
        fallback: Any = self.fallback  # a fallback engine: minutes_for is not in the TravelEngine protocol
        out: FloatArray = fallback.minutes_for(straight.ravel()).reshape(straight.shape)
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

    def columns(
        self, points: gpd.GeoDataFrame, *, keep: bool = False
    ) -> tuple[FloatArray, FloatArray | None, npt.NDArray[np.bool_]]:
        """Route ``points``: the od minutes (n, k), the fallback minutes of on-network rows, d_on.

        The od minutes are those of ``od_long`` without a cut-off and before the hybrid's
        handover blend (:meth:`od_minutes` applies it). ``keep``: keep the answer on disk
        for the next run (:mod:`pointplan._results`; many points at once, not one edit's).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> m, fb, on = KeptTimes(c["engine"], c["demand"]).columns(c["points"])
        >>> m[:, 0].round(6).tolist(), fb, on.tolist()
        ([2.5, 2.5, 15.0, 52.5], None, [False])
        """
        pts = points_key(points) if keep else None
        key = None if pts is None else self._key("columns", pts)
        return cached("kept_columns", key, lambda: self._columns(points), min_seconds=0.0)

    def _columns(self, points: gpd.GeoDataFrame) -> tuple[FloatArray, FloatArray | None, npt.NDArray[np.bool_]]:
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

    def _view(
        self, rows: IntArray, slots: IntArray, reach: npt.NDArray[np.bool_] | None = None
    ) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Minutes ``nearest`` compares for ``rows`` × ``slots``, and which rows compare network trips.

        Fallback trips count ``nearest_factor``; an origin on the network that reaches
        none of ``slots`` on it (``reach``: whether it does, computed when ``None``)
        compares fallback minutes for all of them.
        """
        e = self.M[np.ix_(rows, slots)]
        if self.method == "network":
            return e, np.ones(len(rows), bool)
        if self.FB is None or len(rows) == 0:
            return e * self.factor, np.zeros(len(rows), bool)
        on_pos = self.on_index[rows]
        is_on = on_pos >= 0
        net_slots = self.d_on[slots]
        e = np.where(is_on[:, None] & net_slots[None, :], e, e * self.factor)
        if reach is None:
            reach = np.isfinite(e[:, net_slots]).any(axis=1) if net_slots.any() else np.zeros(len(rows), bool)
        fb_rows = is_on & ~reach
        if fb_rows.any():
            e[fb_rows] = self.FB[np.ix_(on_pos[fb_rows], slots)] * self.factor
        return e, is_on & reach

    def effective(self, rows: IntArray, slots: IntArray) -> FloatArray:
        """Return the minutes ``nearest`` compares for ``rows`` × ``slots`` (before the handover blend).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> k = KeptTimes(c["engine"], c["demand"])
        >>> k.set_columns([0], c["points"])
        >>> k.effective(np.arange(4), np.array([0]))[:, 0].round(6).tolist()
        [2.5, 2.5, 15.0, 52.5]
        """
        return self._view(rows, slots)[0]

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

    def _recompute_fallback(self, rows: IntArray) -> None:
        """Find the fallback's nearest active slot (unfactored minutes) of the band ``rows``, from scratch."""
        if len(rows) == 0:
            return
        slots = np.flatnonzero(self.active)
        if len(slots) == 0 or self.FB is None:
            self.fb_near[rows], self.fb_min[rows] = -1, np.inf
            return
        fb = self.FB[np.ix_(self.on_index[rows], slots)]
        first = np.argmin(fb, axis=1)
        self.fb_min[rows] = fb[np.arange(len(rows)), first]
        self.fb_near[rows] = np.where(np.isfinite(self.fb_min[rows]), slots[first], -1)

    def _count_net(self, slots: IntArray, sign: int) -> None:
        """Add (+1) or take away (-1) the network routes of ``slots`` from each on-network row's count."""
        live = slots[self.active[slots] & self.d_on[slots]]
        if len(live) and len(self.on_rows):
            self.n_net += sign * np.isfinite(self.M[np.ix_(self.on_rows, live)]).sum(axis=1)

    def set_columns(
        self, slots: Sequence[int] | IntArray, points: gpd.GeoDataFrame | None, *, keep: bool = False
    ) -> None:
        """Give ``slots`` the points ``points`` (routed now), or deactivate them (``None``).

        Only the rows whose nearest or second-nearest was one of ``slots``, whose
        network reach changes, or that a new column brings nearer are recomputed.
        ``keep``: keep the routed columns on disk for the next run (see :meth:`columns`).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> k = KeptTimes(c["engine"], c["demand"])
        >>> k.set_columns([0], c["points"])
        >>> k.set_columns([0], None)
        >>> k.nearest_slots().tolist()
        [-1, -1, -1, -1]
        """
        slots_a = np.asarray(list(slots), np.int64)
        cols = None if points is None else self.columns(points, keep=keep)
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
        self._update_fallback(slots, refresh=cols is not None)

    def _update_fallback(self, slots: IntArray, *, refresh: bool) -> None:
        """Recompute the fallback's nearest of the band rows that ``slots`` had or now bring nearer."""
        band = self.band_rows
        if len(band) == 0 or self.FB is None:
            return
        redo = np.isin(self.fb_near[band], slots)
        if refresh:
            fb = self.FB[np.ix_(self.on_index[band], slots)]
            redo |= (fb <= self.fb_min[band, None]).any(axis=1)
        self._recompute_fallback(band[redo])

    def _brought_nearer(self, slots: IntArray) -> npt.NDArray[np.bool_]:
        """Rows to which a slot is now nearer than their second-nearest (or as near as their nearest)."""
        reach = np.zeros(self.n, bool)
        if len(self.on_rows):
            reach[self.on_rows] = self.n_net > 0
        e, _ = self._view(np.arange(self.n), slots, reach)
        return np.asarray((e < self.second_min[:, None]).any(axis=1) | (e <= self.near_min[:, None]).any(axis=1))

    def take(self, slots: IntArray) -> tuple[FloatArray, FloatArray | None, npt.NDArray[np.bool_]]:
        """Return copies of the columns of ``slots`` (to restore them on undo without routing)."""
        fb = None if self.FB is None else self.FB[:, slots].copy()
        return self.M[:, slots].copy(), fb, self.d_on[slots].copy()

    # -- answers -------------------------------------------------------------------------

    def _by_network(self, rows: IntArray) -> npt.NDArray[np.bool_]:
        """Whether the (unblended) nearest trip of each of ``rows`` is on the network."""
        if self.method == "network":
            return np.asarray(self.near[rows] >= 0)
        if self.method != "hybrid":
            return np.zeros(len(rows), bool)
        near = self.near[rows]
        ok = near >= 0
        by_net = self.o_on[rows] & ok & self.d_on[np.maximum(near, 0)]
        on_pos = self.on_index[rows]
        by_net[by_net] &= self.n_net[on_pos[by_net]] > 0
        return np.asarray(by_net)

    def _handover(
        self,
        rows: IntArray,
        by_net: npt.NDArray[np.bool_],
        near: IntArray,
        minutes: FloatArray,
        fb: tuple[IntArray, FloatArray],
    ) -> None:
        """Blend, in place, the network answers (``near``, ``minutes``) of ``rows`` towards the fallback's ``fb``.

        As the hybrid's ``nearest``: ``(1 - w) * network + w * fallback`` minutes, the
        fallback's point when ``w >= 0.5``; ``fb`` holds its slot and unfactored minutes.
        """
        fb_slot, fb_min = fb
        w = self.w[rows]
        mix = by_net & (w > 0) & np.isfinite(fb_min)
        w = w[mix]
        minutes[mix] = (1 - w) * minutes[mix] + w * (fb_min[mix] * self.factor)
        near[mix] = np.where(w >= 0.5, fb_slot[mix], near[mix])

    def _answer(self) -> tuple[IntArray, FloatArray]:
        """Nearest slot (-1: none) and minutes (``inf``: none) of every demand place, as ``nearest``."""
        near, minutes = self.near.copy(), self.near_min.copy()
        b = self.band_rows
        if len(b):
            bn, bm = near[b], minutes[b]
            self._handover(b, self._by_network(b), bn, bm, (self.fb_near[b], self.fb_min[b]))
            near[b], minutes[b] = bn, bm
        return near, minutes

    def nearest_slots(self) -> IntArray:
        """Slot of the nearest point per demand place (-1 where none is reached), as ``nearest`` names it.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> k = KeptTimes(c["engine"], c["demand"])
        >>> k.set_columns([3], c["points"])
        >>> k.nearest_slots().tolist()
        [3, 3, 3, 3]
        """
        near, minutes = self._answer()
        return np.where(np.isfinite(minutes), near, -1)

    def nearest_minutes(self) -> FloatArray:
        """Minutes to the nearest point (NaN where none is reached, as the engines say)."""
        minutes = self._answer()[1]
        return np.where(np.isfinite(minutes), minutes, np.nan)

    def nearest_methods(self) -> npt.NDArray[np.object_]:
        """``network`` or ``fallback`` per demand place (how its nearest trip was timed)."""
        if self.method == "network":
            return np.full(self.n, "network", dtype=object)
        if self.method != "hybrid":
            return np.full(self.n, "fallback", dtype=object)
        return np.where(self.network_rows(), "network", "fallback").astype(object)

    def network_rows(self) -> npt.NDArray[np.bool_]:
        """Whether each demand place's nearest trip is on the network (:meth:`nearest_methods` is ``network``).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> k = KeptTimes(c["engine"], c["demand"])
        >>> k.set_columns([0], c["points"])
        >>> k.network_rows().tolist(), k.nearest_methods().tolist()[0]
        ([False, False, False, False], 'fallback')
        """
        if self.method != "hybrid":
            return np.full(self.n, self.method == "network")
        return self._by_network(np.arange(self.n))

    def own_unit(self, rows: IntArray, slots: IntArray) -> FloatArray:
        """Minutes from ``rows`` to the nearest of ``slots`` (their unit's points), as ``nearest``.

        ``inf`` without slots; NaN where none is reached (as the engines say).
        """
        if len(slots) == 0:
            return np.full(len(rows), np.inf)
        e, net_ok = self._view(rows, slots)
        first = np.argmin(e, axis=1)
        m = e[np.arange(len(rows)), first]
        if len(self.band_rows) and self.FB is not None:
            near = slots[first]
            by_net = net_ok & self.d_on[near] & np.isfinite(m)
            band = by_net & (self.w[rows] > 0)
            if band.any():
                fb_slot, fb_min = np.full(len(rows), -1, np.int64), np.full(len(rows), np.inf)
                fb = self.FB[np.ix_(self.on_index[rows[band]], slots)]
                fb_first = np.argmin(fb, axis=1)
                fb_slot[band], fb_min[band] = slots[fb_first], fb[np.arange(len(fb)), fb_first]
                self._handover(rows, by_net, near, m, (fb_slot, fb_min))
        return np.where(np.isfinite(m), m, np.nan)

    def od_minutes(self, slots: IntArray, cutoff: float) -> tuple[FloatArray, FloatArray]:
        """Return the od of ``slots`` as ``od_long(cutoff)`` gives it: minutes (``inf``: none), times listed.

        A hybrid origin in the handover band gets, to each point on the network, the blend
        ``(1 - w) * network + w * fallback`` of the trip's times where the network trip is
        within twice ``cutoff``; the pairs ``od_long`` lists twice (:meth:`_count_pairs`)
        count 2.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_city
        >>> c = tiny_city()
        >>> k = KeptTimes(c["engine"], c["demand"])
        >>> k.set_columns([0], c["points"])
        >>> m, times = k.od_minutes(np.array([0]), 30.0)
        >>> m[:, 0].round(6).tolist(), times[:, 0].tolist()
        ([2.5, 2.5, 15.0, inf], [1.0, 1.0, 1.0, 1.0])
        """
        m = np.array(self.M[:, slots], order="F")
        times = np.ones(m.shape, order="F")
        net = np.flatnonzero(self.d_on[slots])
        if self.FB is not None and len(net):
            b = self.band_rows
            if len(b):
                raw = m[np.ix_(b, net)]
                fb = self.FB[np.ix_(self.on_index[b], slots[net])]
                wb = self.w[b, None]
                ok = raw <= 2 * cutoff
                m[np.ix_(b, net)] = np.where(ok, (1 - wb) * np.where(ok, raw, 0.0) + wb * fb, np.inf)
            if len(self.dup_rows):
                times[np.ix_(self.dup_rows, net)] = self.pair_count
        m[~(m <= cutoff)] = np.inf
        return m, times

    def od(self, slots: IntArray, cutoff: float) -> pd.DataFrame:
        """Pairs within ``cutoff`` minutes: ``i``, ``j`` (position among ``slots``), ``minutes``, as ``od_long``."""
        m, times = self.od_minutes(slots, cutoff)
        i, j = np.nonzero(m <= cutoff)
        rep = times[i, j].astype(np.int64)
        i, j = np.repeat(i, rep), np.repeat(j, rep)
        return pd.DataFrame({"i": i.astype(np.int64), "j": j.astype(np.int64), "minutes": m[i, j]})
