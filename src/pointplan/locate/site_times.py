"""The travel times between the demand places and the candidate sites, computed once.

A proposal, its comparison with real buildings and every robustness draw ask the same
pairs (demand place, candidate site): :class:`SiteTimes` routes them once, keeps them as
numpy arrays (rows of the demand, by site) and answers any sub-selection from them. A
pair's time depends only on its two ends, so the answers are the engine's own.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._validate import projected_crs
from pointplan.network.base import EngineBase

__all__ = ["MAX_PAIRS", "SiteTimes"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Above this many demand x site pairs no table is kept (memory): the engine answers each time.
MAX_PAIRS = 20_000_000


class _Places:
    """Known places, found again by their projected coordinates (the first of equal ones)."""

    def __init__(self, gdf: gpd.GeoDataFrame) -> None:
        self.n = len(gdf)
        self.frame = gdf
        z = _keys(gdf)
        self.keys: npt.NDArray[np.complex128] | None = z
        self.first: IntArray = np.zeros(0, dtype=np.int64)
        if z is not None:
            self.keys, first = np.unique(z, return_index=True)
            self.first = first.astype(np.int64)

    def find(self, gdf: Any) -> IntArray | None:
        """Positions of ``gdf``'s points among the known places, or ``None`` if one is not known."""
        if gdf is self.frame:
            return np.arange(self.n, dtype=np.int64)
        z = _keys(gdf)
        if z is None or self.keys is None or self.keys.size == 0:
            return None
        k = np.minimum(np.searchsorted(self.keys, z), self.keys.size - 1)
        if not (self.keys[k] == z).all():
            return None
        return np.asarray(self.first[k], dtype=np.int64)


def _keys(gdf: Any) -> npt.NDArray[np.complex128] | None:
    """Projected coordinates as ``x + iy`` (sorted lexicographically by numpy), ``None`` if not points."""
    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries) or len(gdf) == 0:
        return None
    g = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if g.crs is None or not (g.geom_type == "Point").all():
        return None
    g = g.to_crs(projected_crs())
    z = g.x.to_numpy(dtype=np.float64) + 1j * g.y.to_numpy(dtype=np.float64)
    return None if np.isnan(z).any() else z


def _expand(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """For ragged runs ``[starts[r], starts[r] + counts[r])``: the owner ``r`` and the position of each item."""
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    offset = np.arange(owner.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, starts[owner] + offset


class SiteTimes:
    """A travel engine whose demand x candidate-site times are computed once and reused.

    ``od_long`` between (a subset of) the demand places and (a subset of) the candidate
    sites, in any order and with repeats, is answered from one table routed at the first
    request (up to the longest cut-off asked so far: a longer one routes it again); sites
    it does not know are routed by the engine, and so is anything else (other origins,
    ``with_distance=True``: the table keeps minutes, not path lengths). ``nearest`` and
    every other attribute are the engine's. A pair's time does not depend on the other
    places, so the answers are the engine's own (without path lengths).

    Parameters
    ----------
    engine
        The travel engine.
    demand, sites
        The demand places and the candidate sites (points, any CRS; matched by coordinates).

    Attributes
    ----------
    hits
        Requests answered from the table.
    routed
        Times the table was routed.

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> eng = CrowFliesEngine("walk", circuity=1.5)
    >>> dem = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 900.0], [0.0, 0.0]), crs=32648)
    >>> sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 900.0, 1800.0], [0.0, 0.0, 0.0]), crs=32648)
    >>> times = SiteTimes(eng, dem, sites)
    >>> times.od_long(dem.iloc[[1]], sites.iloc[[2, 1, 2]], 30)[["i", "j", "minutes"]].values.tolist()
    [[0.0, 0.0, 18.0], [0.0, 1.0, 0.0], [0.0, 2.0, 18.0]]
    >>> times.od_long(dem, sites, 30).equals(eng.od_long(dem, sites, 30, with_distance=False)), times.hits
    (True, 2)
    >>> [a.tolist() for a in times.pairs(dem, sites.iloc[[0]], 10)], times.routed  # i, j, minutes
    ([[0], [0], [0.0]], 1)
    """

    def __init__(self, engine: Any, demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> None:
        self.engine: Any = engine.engine if isinstance(engine, SiteTimes) else engine
        self.mode = getattr(self.engine, "mode", None)
        self.method = getattr(self.engine, "method", "")
        self._demand, self._sites = _Places(demand), _Places(sites)
        self._big = len(demand) * len(sites) > MAX_PAIRS
        self._limit = -np.inf
        self._indptr = np.zeros(len(demand) + 1, dtype=np.int64)
        self._col = np.zeros(0, dtype=np.int64)
        self._data: dict[str, np.ndarray] = {}
        self._columns: list[str] = ["i", "j", "minutes"]
        self.hits = 0
        self.routed = 0

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "engine":
            raise AttributeError(name)
        return getattr(self.engine, name)

    def nearest(self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, **kw: Any) -> pd.DataFrame:
        """Return the engine's ``nearest``."""
        return self.engine.nearest(origins, destinations, **kw)

    def knows(self, demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> bool:
        """Whether every place of ``demand`` and of ``sites`` is in the table.

        Examples
        --------
        >>> from pointplan.network import CrowFliesEngine
        >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 900.0], [0.0, 0.0]), crs=32648)
        >>> t = SiteTimes(CrowFliesEngine("walk"), pts, pts.iloc[:1])
        >>> t.knows(pts, pts.iloc[:1]), t.knows(pts, pts)
        (True, False)
        """
        oi, dj = self._demand.find(demand), self._sites.find(sites)
        return oi is not None and dj is not None

    def od_long(
        self,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        max_minutes: float,
        *,
        with_distance: bool = False,
    ) -> pd.DataFrame:
        """Pairs within ``max_minutes`` (the engine's ``od_long``, sorted by ``i`` then ``j``), from the table."""
        oi = None if with_distance or self._big else self._demand.find(origins)
        dj = self._site_positions(destinations) if oi is not None else None
        if oi is None or dj is None:
            return self._engine_od(origins, destinations, max_minutes, with_distance=with_distance)
        known = np.flatnonzero(dj >= 0)
        r, jr, idx = self._select(oi, dj[known], float(max_minutes))
        cols = {"i": r, "j": known[jr], **{c: v[idx] for c, v in self._data.items()}}
        out = pd.DataFrame({c: cols[c] for c in self._columns})
        if known.size < dj.size:  # sites it does not know: the engine routes them
            unknown = np.flatnonzero(dj < 0)
            other = self._engine_od(origins, destinations.iloc[unknown], max_minutes, with_distance=False)
            other["j"] = unknown[other["j"].to_numpy(dtype=np.int64)]
            parts = [p for p in (out, other[[c for c in self._columns if c in other.columns]]) if len(p)]
            out = pd.concat(parts, ignore_index=True) if parts else out
            out = out.sort_values(["i", "j"], kind="stable").reset_index(drop=True)
        out.attrs["method"] = self.method
        return out

    def pairs(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Pairs ``(i, j, minutes)`` within ``max_minutes`` as arrays (sorted by ``i`` then ``j``): no frame."""
        oi = None if self._big else self._demand.find(origins)
        dj = self._site_positions(destinations) if oi is not None else None
        if oi is None or dj is None or (dj < 0).any():
            od = self.od_long(origins, destinations, max_minutes)
            return (
                od["i"].to_numpy(dtype=np.int64),
                od["j"].to_numpy(dtype=np.int64),
                od["minutes"].to_numpy(dtype=np.float64),
            )
        r, jr, idx = self._select(oi, dj, float(max_minutes))
        return r, jr, np.asarray(self._data["minutes"][idx], dtype=np.float64)

    def _site_positions(self, destinations: Any) -> IntArray | None:
        """Positions of the destinations among the sites (-1: not a known site), ``None`` if not points."""
        z = _keys(destinations)
        keys = self._sites.keys
        if z is None or keys is None or keys.size == 0:
            return None
        k = np.minimum(np.searchsorted(keys, z), keys.size - 1)
        return np.where(keys[k] == z, self._sites.first[k], -1).astype(np.int64)

    def _select(self, oi: IntArray, dj: IntArray, limit: float) -> tuple[IntArray, IntArray, IntArray]:
        """Return the requested origin ``r``, requested site and table position of each pair within ``limit``.

        ``oi`` and ``dj`` are table positions of the requested origins and sites (repeats
        allowed); the pairs come sorted by ``r`` then requested site.
        """
        if dj.size == 0 or oi.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        self._ensure(limit)
        self.hits += 1
        order = np.argsort(dj, kind="stable")
        first = np.searchsorted(dj[order], np.arange(self._sites.n), side="left")
        count = np.searchsorted(dj[order], np.arange(self._sites.n), side="right") - first
        owner, pos = _expand(self._indptr[oi], self._indptr[oi + 1] - self._indptr[oi])
        col = self._col[pos]
        keep = (count[col] > 0) & (self._data["minutes"][pos] <= limit)
        owner, pos, col = owner[keep], pos[keep], col[keep]
        if (count[col] == 1).all():  # each site asked once: no repeats to expand
            jr = order[first[col]]
        else:
            rep, at = _expand(first[col], count[col])
            owner, pos, jr = owner[rep], pos[rep], order[at]
        if jr.size > 1 and not (np.diff(dj) > 0).all():  # table rows are by site: reorder by requested site
            srt = np.argsort(owner * dj.size + jr, kind="stable")
            owner, pos, jr = owner[srt], pos[srt], jr[srt]
        return owner, jr, pos

    def _ensure(self, limit: float) -> None:
        """Route the table up to ``limit`` unless it already reaches that far."""
        if limit <= self._limit:
            return
        od = self._engine_od(self._demand.frame, self._sites.frame, limit, with_distance=False)
        i = od["i"].to_numpy(dtype=np.int64)
        j = od["j"].to_numpy(dtype=np.int64)
        srt = np.lexsort((j, i)) if i.size > 1 and not (np.diff(i * self._sites.n + j) > 0).all() else None
        self._columns = list(od.columns)
        self._data = {c: od[c].to_numpy() for c in self._columns if c not in ("i", "j")}
        if srt is not None:
            i, j = i[srt], j[srt]
            self._data = {c: v[srt] for c, v in self._data.items()}
        self._indptr = np.searchsorted(i, np.arange(self._demand.n + 1), side="left").astype(np.int64)
        self._col = j
        self._limit = float(limit)
        self.routed += 1

    def _engine_od(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame, max_minutes: float, *, with_distance: bool
    ) -> pd.DataFrame:
        """Ask the engine's ``od_long`` (path lengths only when asked and the engine can skip them)."""
        if isinstance(self.engine, EngineBase):
            return self.engine.od_long(origins, destinations, max_minutes, with_distance=with_distance)
        return self.engine.od_long(origins, destinations, max_minutes)  # a user's engine may not take it
