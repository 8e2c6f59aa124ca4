"""A straight-line fallback calibrated on Hanoi's own roads.

Where no network covers a trip, its time is estimated from the straight-line distance
``d``. Instead of one literature circuity (1.3) and one speed, the model is fitted by
mode on origin-destination pairs routed on a real network: the network distance and
the travel time are continuous, increasing, piecewise-linear functions of ``d``::

    distance(d) = sum_b circuity_b * phi_b(d)        time(d) = sum_b circuity_b / speed_b * phi_b(d)

with ``phi_b(d)`` the part of ``d`` inside distance band ``b`` (so ``circuity_b`` and
``speed_b`` are the circuity and effective speed of the kilometres of a trip that fall in
that band). Both are fitted by non-negative least squares on relative errors (a short trip
weighs as much as a long one), which keeps them increasing:
a farther point is never reached sooner, so the nearest point by straight line stays the
nearest by time. The error is measured on held-out pairs (their destinations were not
used in the fit).

The parameters shipped with pointplan (``hanoi_fallback_2025.json``, next to this
module) were fitted on the inner city's drive network; the outer xã lie outside the area
they were fitted on. Refit them with :func:`fit_fallback`.

The model itself and its reading live in :mod:`~pointplan.network.fallback_model`
(re-exported here); this module fits it, on the network engine.
"""

# ruff: noqa: N803, N806 - `G` for a graph and `X` for a design matrix

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import warnings
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from pointplan._errors import InputError, NetworkError
from pointplan.network._common import MODES, FloatArray, IntArray, Mode, _check_mode, _highway_key, _points_xy
from pointplan.network.engine import NetworkEngine
from pointplan.network.fallback import CrowFliesEngine
from pointplan.network.fallback_model import (
    DEFAULT_BANDS_M,
    DEFAULT_CALIBRATION_FILE,
    DEFAULT_CIRCUITY,
    WALK_CORRECTION_KEY,
    FallbackCalibration,
    FallbackModel,
    load_calibration,
)
from pointplan.network.hybrid import HybridEngine
from pointplan.network.loading import load_network
from pointplan.network.speeds import DEFAULT_SPEEDS_KMH
from pointplan.network.walking import DRIVE_ONLY_EXCLUDED, WalkCorrection

__all__ = [
    "DEFAULT_BANDS_M",
    "DEFAULT_CALIBRATION_FILE",
    "FALLBACK_METHOD_TEXT",
    "FallbackCalibration",
    "FallbackModel",
    "calibration_summary",
    "fallback_log_sigma",
    "fit_fallback",
    "fit_walk_correction",
    "load_calibration",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: How the fitted trips are routed.
Trips = Literal["door_to_door", "node_to_node"]

# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


def _stratified(straight: FloatArray, knots: FloatArray, n: int, rng: np.random.Generator) -> IntArray:
    """Up to ``n`` node positions, drawn evenly across the distance bands (short trips are rare)."""
    band = np.searchsorted(knots, straight, side="right") - 1
    per = max(1, n // len(knots))
    picks = []
    for b in range(len(knots)):
        idx = np.flatnonzero(band == b)
        if len(idx):
            picks.append(rng.choice(idx, size=min(per, len(idx)), replace=False))
    return np.concatenate(picks) if picks else np.array([], np.int64)


def _od_sample(
    G: nx.MultiDiGraph,
    mode: Mode,
    n_targets: int,
    n_origins: int,
    rng: np.random.Generator,
    min_m: float,
    knots: FloatArray,
) -> dict[str, FloatArray]:
    """Routed pairs: straight metres, network metres, seconds and the target of each pair."""
    eng = NetworkEngine(G, mode)
    g = eng._g
    nodes = np.flatnonzero(np.diff(g.rev.indptr) > 0)  # nodes with an arc in
    targets = rng.choice(nodes, size=min(n_targets, len(nodes)), replace=False)
    cols: dict[str, list[FloatArray]] = {"straight": [], "network": [], "seconds": [], "target": []}
    for k, t in enumerate(targets.tolist()):
        sec, _, length = eng._node_pass(np.array([t]), lengths=True)
        assert length is not None
        all_straight = np.hypot(g.x - g.x[t], g.y - g.y[t])
        origins = _stratified(all_straight, knots, n_origins, rng)
        straight = all_straight[origins]
        ok = np.isfinite(sec[origins]) & (straight >= min_m)
        cols["straight"].append(straight[ok])
        cols["network"].append(length[origins][ok])
        cols["seconds"].append(sec[origins][ok])
        cols["target"].append(np.full(int(ok.sum()), k, float))
    return {k: np.concatenate(v) for k, v in cols.items()}


def _door_xy(eng: NetworkEngine, gdf: gpd.GeoDataFrame, what: str) -> tuple[FloatArray, FloatArray]:
    """Coordinates and weights (``population``, else 1) of the doors within the network's reach."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on = (eng.snap(gdf)["snap_m"] <= eng.max_snap_m).to_numpy()
    xy = _points_xy(gdf, what, eng.crs)
    w = pd.to_numeric(gdf["population"], errors="coerce").fillna(0.0).to_numpy(float) if "population" in gdf else None
    weight = np.ones(len(gdf)) if w is None else np.clip(w, 0.0, None)
    keep = on & (weight > 0)
    return xy[keep], weight[keep]


def _door_sample(
    eng: NetworkEngine,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    n_origins: int,
    rng: np.random.Generator,
    min_m: float,
    knots: FloatArray,
) -> dict[str, FloatArray]:
    """Door-to-door pairs routed by the engine itself (snap legs and partial streets included).

    Every origin (a populated place within the network's reach) to every destination is
    routed with :meth:`NetworkEngine.od_long`; then, per destination, up to ``n_origins``
    origins are drawn evenly across the distance bands, each with a probability
    proportional to its population.
    """
    o_xy, o_w = _door_xy(eng, origins, "origins")
    d_xy, _ = _door_xy(eng, destinations, "destinations")
    crs = eng.crs
    o_g = gpd.GeoDataFrame(geometry=gpd.points_from_xy(o_xy[:, 0], o_xy[:, 1]), crs=crs)
    d_g = gpd.GeoDataFrame(geometry=gpd.points_from_xy(d_xy[:, 0], d_xy[:, 1]), crs=crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        od = eng.od_long(o_g, d_g, 1e6, with_distance=True)
    sec = np.full((len(o_xy), len(d_xy)), np.inf)
    met = np.full_like(sec, np.inf)
    i, j = od["i"].to_numpy(), od["j"].to_numpy()
    sec[i, j], met[i, j] = od["minutes"].to_numpy() * 60.0, od["distance_m"].to_numpy()
    cols: dict[str, list[FloatArray]] = {"straight": [], "network": [], "seconds": [], "target": []}
    per = max(1, n_origins // len(knots))
    for t in range(len(d_xy)):
        straight = np.hypot(*(o_xy - d_xy[t]).T)
        band = np.searchsorted(knots, straight, side="right") - 1
        ok = np.isfinite(sec[:, t]) & (straight >= min_m) & (sec[:, t] > 0)
        for b in range(len(knots)):
            idx = np.flatnonzero(ok & (band == b))
            if not len(idx):
                continue
            pick = rng.choice(idx, size=min(per, len(idx)), replace=False, p=o_w[idx] / o_w[idx].sum())
            cols["straight"].append(straight[pick])
            cols["network"].append(met[pick, t])
            cols["seconds"].append(sec[pick, t])
            cols["target"].append(np.full(len(pick), t, float))
    if not cols["straight"]:
        return {k: np.array([], float) for k in cols}
    return {k: np.concatenate(v) for k, v in cols.items()}


def _pct_errors(pred: FloatArray, actual: FloatArray) -> dict[str, dict[str, float]]:
    """Held-out errors in % of the routed time: absolute (median, P90) and signed (P10, median, P90)."""
    signed = (pred - actual) / actual * 100.0
    err = np.abs(signed)

    def r(x: float) -> float:
        return round(float(x), 2)

    return {
        "abs": {"median": r(np.median(err)), "p90": r(np.percentile(err, 90))},
        "signed": {
            "median": r(np.median(signed)),
            "p10": r(np.percentile(signed, 10)),
            "p90": r(np.percentile(signed, 90)),
        },
    }


def _median_rates(straight: FloatArray, value: FloatArray, knots: FloatArray, min_pairs: int = 10) -> FloatArray:
    """Rate (value per straight metre) of each band such that half the pairs of every band lie above.

    The model is cumulative: ``f(d) = f(k_b) + rate_b * (d - k_b)`` for ``d`` in band
    ``b``. Going band by band, ``f(k_b)`` is known, and the fitted value of a pair is
    above its routed value exactly when ``rate_b`` is above ``(value - f(k_b)) / (d - k_b)``;
    the median of that quantity is the rate with no bias in the band (half the trips take
    longer, half less: a median, not a mean, which squared errors would give, pulled low
    by the quick trips). Rates are kept >= 0 so that a farther point is never reached
    sooner; a band with fewer than ``min_pairs`` pairs takes the previous band's rate.
    """
    rates = np.full(len(knots), np.nan)
    at_knot = 0.0
    for b in range(len(knots)):
        hi = knots[b + 1] if b + 1 < len(knots) else np.inf
        sel = (straight >= knots[b]) & (straight < hi) & (straight > knots[b])
        if sel.sum() >= min_pairs:
            rates[b] = max(0.0, float(np.median((value[sel] - at_knot) / (straight[sel] - knots[b]))))
        else:
            rates[b] = rates[b - 1] if b else np.nan
        if b + 1 < len(knots) and np.isfinite(rates[b]):
            at_knot += rates[b] * (knots[b + 1] - knots[b])
    return rates


def _fit_mode(pairs: dict[str, FloatArray], mode: Mode, knots: FloatArray, test: np.ndarray) -> FallbackModel:
    """Fit one mode's model on the training pairs; held-out errors on the ``test`` pairs."""
    train = ~test
    straight = pairs["straight"][train]
    circuity = _median_rates(straight, pairs["network"][train], knots)
    sec_per_m = _median_rates(straight, pairs["seconds"][train], knots)
    used = np.isfinite(circuity) & np.isfinite(sec_per_m)
    circuity = np.where(used, np.maximum(circuity, 1.0), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(used & (sec_per_m > 0), circuity / sec_per_m * 3.6, np.nan)
    # bands without pairs (or a degenerate fit) carry the previous band's values on
    for b in range(len(knots)):
        if not (np.isfinite(circuity[b]) and np.isfinite(speed[b])):
            circuity[b] = circuity[b - 1] if b else DEFAULT_CIRCUITY
            speed[b] = speed[b - 1] if b else DEFAULT_SPEEDS_KMH[mode]
    model = FallbackModel(mode, knots, circuity, speed)
    return FallbackModel(mode, knots, circuity, speed, _fit_stats(model, pairs, knots, test))


def _fit_stats(
    model: FallbackModel, pairs: dict[str, FloatArray], knots: FloatArray, test: np.ndarray
) -> dict[str, Any]:
    """Pair counts and held-out errors: overall, by distance band, and of the plain circuity 1.3."""
    d, t = pairs["straight"][test], pairs["seconds"][test]
    pred = model.minutes(d) * 60.0
    baseline = d * DEFAULT_CIRCUITY / (DEFAULT_SPEEDS_KMH[model.mode] / 3.6)
    band_of = np.clip(np.searchsorted(knots, pairs["straight"], side="right") - 1, 0, len(knots) - 1)
    held_band = band_of[test]
    by_band = []
    for b in range(len(knots)):
        sel = held_band == b
        if sel.sum() >= 10:
            e = _pct_errors(pred[sel], t[sel])
            by_band.append(
                {
                    "band_from_m": float(knots[b]),
                    "n": int(sel.sum()),
                    "signed_median": e["signed"]["median"],
                    "abs_median": e["abs"]["median"],
                }
            )
    errors, base = _pct_errors(pred, t), _pct_errors(baseline, t)
    return {
        "n_pairs_train": int((~test).sum()),
        "n_pairs_heldout": int(test.sum()),
        "n_pairs_by_band": np.bincount(band_of, minlength=len(knots)).tolist(),
        "heldout_abs_pct_error": errors["abs"],
        "heldout_signed_pct_error": errors["signed"],
        "heldout_abs_pct_error_circuity_1_3": base["abs"],
        "heldout_signed_pct_error_circuity_1_3": base["signed"],
        "heldout_by_band": by_band,
    }


def fit_fallback(
    source: str | Path | nx.MultiDiGraph,
    *,
    modes: tuple[str, ...] = MODES,
    trips: Trips = "door_to_door",
    origins: gpd.GeoDataFrame | None = None,
    destinations: gpd.GeoDataFrame | None = None,
    bands_m: tuple[float, ...] = DEFAULT_BANDS_M,
    n_targets: int = 300,
    n_origins: int = 400,
    heldout_share: float = 0.3,
    min_distance_m: float | None = None,
    walk_correction: float | WalkCorrection | None = None,
    points: gpd.GeoDataFrame | None = None,
    seed: int = 0,
) -> FallbackCalibration:
    """Fit the straight-line fallback on trips routed on a network.

    ``trips="door_to_door"`` (default): every origin (a populated place) to every
    destination (service points, populated places) within the network's reach is routed
    by :meth:`NetworkEngine.od_long` itself (snap legs and partial streets, the walking
    correction), so the fit target is what the engine reports; per destination, origins
    are drawn evenly across the bands, weighted by population. ``"node_to_node"``: the
    older fit on random graph nodes, without access legs (biased low door to door).
    Each band's rate is the median one (``_median_rates``: no bias in any band). The
    held-out destinations give ``heldout_signed_pct_error`` (median, P10, P90 of
    (fallback - routed) / routed), ``heldout_abs_pct_error`` and ``heldout_by_band``.

    Parameters
    ----------
    source
        A network file or graph, as :func:`load_network` accepts.
    modes, trips
        Modes to fit; ``"door_to_door"`` or ``"node_to_node"``.
    origins, destinations
        Door to door: the doors (points, any CRS); origins weighted by a ``population``
        column if any. Those beyond the engine's ``max_snap_m`` of a street are left out.
    bands_m, heldout_share
        Distance band edges (m), from 0; share of the destinations held out for the errors.
    n_targets, n_origins
        Node to node: target nodes drawn; origins drawn per destination (across the bands).
    min_distance_m
        Pairs closer than this are left out (default 100 m node to node, 1 m door to door).
    walk_correction
        For the walking :class:`NetworkEngine` (None: shipped); a ``WalkCorrection`` is also stored.
    points
        Door to door: the service points, to fit ``nearest_factor`` (``_nearest_factor``).
    seed
        Random seed (the fit is reproducible).

    Returns
    -------
    FallbackCalibration
        Write it with :meth:`FallbackCalibration.write`; use it in ``CrowFliesEngine(mode, calibration=...)``.

    Examples
    --------
    >>> import geopandas as gpd, networkx as nx, numpy as np
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> for i in range(1, 40):  # a straight street, doors 10 m off it every 50 m
    ...     _ = G.add_edge(i - 1, i, length=100.0, highway="residential")
    ...     _ = G.add_edge(i, i - 1, length=100.0, highway="residential")
    >>> nx.set_node_attributes(G, {i: {"x": 100.0 * i, "y": 0.0} for i in G})
    >>> xy = gpd.points_from_xy(np.arange(25.0, 3900, 50), [10.0] * 78)
    >>> doors = gpd.GeoDataFrame(geometry=xy, crs=G.graph["crs"])
    >>> m = fit_fallback(G, modes=("walk",), origins=doors, destinations=doors.iloc[::5], bands_m=(0.0, 500.0))
    >>> abs(m.models["walk"].stats["heldout_signed_pct_error"]["median"]) < 3
    True

    """
    knots = _check_fit(bands_m, heldout_share, trips, origins is not None and destinations is not None)
    min_m = (100.0 if trips == "node_to_node" else 1.0) if min_distance_m is None else float(min_distance_m)
    ratio = walk_correction.ratio if isinstance(walk_correction, WalkCorrection) else walk_correction
    sample: dict[str, Any] = dict(trips=trips, n_targets=n_targets, n_origins=n_origins, min_m=min_m, points=points)
    sample.update(origins=origins, destinations=destinations, walk_correction=ratio)
    models = {mode: _fit_on(source, mode, knots, heldout_share, seed, sample) for mode in modes}
    meta = _meta(source, seed, sample, heldout_share)
    if isinstance(walk_correction, WalkCorrection):
        meta[WALK_CORRECTION_KEY] = walk_correction.to_dict()
    return FallbackCalibration(models, tuple(float(b) for b in knots), meta)


def _fit_on(
    source: str | Path | nx.MultiDiGraph,
    mode_name: str,
    knots: FloatArray,
    heldout_share: float,
    seed: int,
    sample: dict[str, Any],
) -> FallbackModel:
    """Load the network for ``mode``, route the sample pairs and fit the mode's model."""
    mode = _check_mode(mode_name)
    rng = np.random.default_rng(seed)
    ready = isinstance(source, nx.MultiDiGraph) and source.graph.get("pointplan_mode") == mode
    G = source if ready else load_network(source, mode=mode)
    min_m = float(sample["min_m"])
    if sample["trips"] == "door_to_door":
        eng = NetworkEngine(G, mode, walk_correction=sample["walk_correction"])
        pairs = _door_sample(
            eng, sample["origins"], sample["destinations"], int(sample["n_origins"]), rng, min_m, knots
        )
    else:
        pairs = _od_sample(G, mode, int(sample["n_targets"]), int(sample["n_origins"]), rng, min_m, knots)
    n_t = int(pairs["target"].max()) + 1 if len(pairs["target"]) else 0
    if len(pairs["straight"]) < 50 or n_t < 4:
        msg = (
            f"Too few routed pairs ({len(pairs['straight'])}, to {n_t} destinations) to fit the {mode} "
            "fallback: use a larger network, or more origins and destinations within its reach."
        )
        raise NetworkError(msg)
    held = rng.choice(n_t, size=max(1, round(heldout_share * n_t)), replace=False)
    model = _fit_mode(pairs, mode, knots, np.isin(pairs["target"], held))
    if sample["trips"] == "door_to_door" and sample.get("points") is not None:
        model.stats.update(_nearest_factor(eng, model, sample["origins"], sample["points"]))
    logger.info("fallback %s: %s", mode, model.to_dict())
    return model


def _nearest_factor(
    eng: NetworkEngine, model: FallbackModel, origins: gpd.GeoDataFrame, points: gpd.GeoDataFrame
) -> dict[str, Any]:
    """Factor on the fallback's time to the nearest point, so that its mean is the network's.

    The fallback gives the median time to the point nearest *by straight line*; on the
    network the nearest point is the quickest one, often another, so the time to the
    nearest point is shorter than the time to the straight-line nearest one (a minimum
    over points). The factor is the ratio of the population-weighted mean minutes to the
    nearest point, routed as :class:`HybridEngine` does (points off the network by the
    fallback without the factor), to the fallback's, over the origins within the
    network's reach, to every point (``nearest_split_half_mean_pct_error``: fitted on half of them, the error of
    the mean on the other half).
    """
    from scipy.spatial import cKDTree

    o_xy, o_w = _door_xy(eng, origins, "origins")
    p_xy = _points_xy(points, "points", eng.crs)  # every point: the nearest may lie off the network
    o = gpd.GeoDataFrame(geometry=gpd.points_from_xy(o_xy[:, 0], o_xy[:, 1]), crs=eng.crs)
    p = gpd.GeoDataFrame(geometry=gpd.points_from_xy(p_xy[:, 0], p_xy[:, 1]), crs=eng.crs)
    plain = {k: v for k, v in model.stats.items() if not k.startswith("nearest_")}
    one = FallbackModel(model.mode, model.knots_m, model.circuity, model.speed_kmh, plain)
    crow_engine = CrowFliesEngine(eng.mode, calibration=FallbackCalibration({eng.mode: one}, tuple(model.knots_m), {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as the hybrid engine routes: points off the network by the fallback
        routed = HybridEngine(eng, crow_engine).nearest(o, p, with_distance=False)["minutes"].to_numpy(float)
    straight, _ = cKDTree(p_xy).query(o_xy)
    crow = model.minutes(straight)
    ok = np.isfinite(routed) & (crow > 0)
    half = np.random.default_rng(0).random(len(o_xy)) < 0.5

    def mean(x: FloatArray, sel: np.ndarray) -> float:
        return float((x[sel] * o_w[sel]).sum() / o_w[sel].sum())

    factor = mean(routed, ok) / mean(crow, ok)
    split = mean(routed, ok & half) / mean(crow, ok & half)  # fitted on half the origins...
    check = ok & ~half  # ... checked on the other half
    return {
        "nearest_factor": round(factor, 4),
        "nearest_n_origins": int(ok.sum()),
        "nearest_mean_minutes_routed": round(mean(routed, ok), 3),
        "nearest_mean_minutes_fallback": round(mean(crow, ok) * factor, 3),
        "nearest_split_half_mean_pct_error": round((mean(crow, check) * split / mean(routed, check) - 1) * 100, 2),
    }


def _check_fit(bands_m: tuple[float, ...], heldout_share: float, trips: str, doors: bool) -> FloatArray:
    knots = np.asarray(bands_m, float)
    if knots[0] != 0 or (np.diff(knots) <= 0).any():
        msg = f"bands_m must start at 0 and increase, got {bands_m!r}."
        raise InputError(msg)
    if not 0 < heldout_share < 1:
        msg = f"heldout_share must be between 0 and 1, got {heldout_share!r}."
        raise InputError(msg)
    if trips not in ("door_to_door", "node_to_node"):
        msg = f"trips must be 'door_to_door' or 'node_to_node', got {trips!r}."
        raise InputError(msg)
    if trips == "door_to_door" and not doors:
        msg = (
            "Door-to-door trips need origins (populated places, with a 'population' column) and "
            "destinations (service points): fit_fallback(G, origins=demand, destinations=points), "
            "or trips='node_to_node' for the older fit on graph nodes."
        )
        raise InputError(msg)
    return knots


_HOW = {
    "door_to_door": (
        "pointplan.network.fit_fallback(trips='door_to_door'): per mode, the network loaded for that "
        "mode; origins the populated places within {snap} m of a street, destinations the service "
        "points and populated places there; every pair routed door to door by NetworkEngine.od_long "
        "(snapped to the nearest street, the snap leg and the partial street paid at both ends; for "
        "walking on this drive-only network, the walking correction applied); per destination up to "
        "{n_origins} origins drawn evenly across the distance bands, weighted by population (seed "
        "{seed}); network distance and time fitted as increasing piecewise-linear functions of the "
        "straight-line distance band by band, each band's rate the median one (half the trips of "
        "the band take longer, half less: no bias); {held} % of the destinations held out for the "
        "error figures (signed and absolute % error of the time)."
    ),
    "node_to_node": (
        "pointplan.network.fit_fallback(trips='node_to_node'): per mode, the network loaded for that "
        "mode; {n_targets} random target nodes (seed {seed}), the fastest trip to each from up to "
        "{n_origins} random origin nodes drawn evenly across the distance bands (scipy Dijkstra), no "
        "access legs; pairs under {min_m:g} m straight left out; network distance and time fitted as "
        "increasing piecewise-linear functions of the straight-line distance, each band's rate "
        "the median one; {held} % of the targets held out for the error figures."
    ),
}


def _meta(source: object, seed: int, sample: dict[str, Any], heldout_share: float = 0.3) -> dict[str, Any]:
    how = _HOW[str(sample["trips"])].format(
        snap=500, seed=seed, held=round(heldout_share * 100), **{k: v for k, v in sample.items() if k != "trips"}
    )
    meta: dict[str, Any] = {
        "fitted": dt.datetime.now(dt.UTC).date().isoformat(),
        "fitted_on": str(source) if isinstance(source, str | Path) else "a networkx graph",
        "trips": sample["trips"],
        "how": how,
        "scope": (
            "Fitted on the inner city's drive network (about 41 of the 126 units). The outer xã "
            "lie outside the area it was fitted on: their roads are sparser, so the fallback "
            "there is likely optimistic. Walking is fitted on the drive network with the "
            "walking correction measured on the Văn Miếu extract (footways, alleys); cycling "
            "on the drive network (no footpaths), so its circuity is an upper estimate."
        ),
    }
    if isinstance(source, str | Path) and Path(source).is_file():
        meta["file_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return meta


# ---------------------------------------------------------------------------------------
# Walking on a drive-only network
# ---------------------------------------------------------------------------------------


def _building_doors(path: Path) -> gpd.GeoDataFrame:
    """Return the centre of every building (closed way tagged ``building``) of an OSM XML file, in EPSG:4326."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    lonlat = {n.get("id"): (float(n.get("lon", "nan")), float(n.get("lat", "nan"))) for n in root.iter("node")}
    xy = []
    for way in root.iter("way"):
        if not any(t.get("k") == "building" for t in way.iter("tag")):
            continue
        ring = [lonlat[r.get("ref")] for r in way.iter("nd") if r.get("ref") in lonlat]
        if len(ring) >= 3:
            xy.append(np.mean(np.array(ring[:-1] if ring[0] == ring[-1] else ring), axis=0))
    if not xy:
        msg = f"{path.name} holds no building (closed way tagged 'building') to walk from: pass doors=."
        raise InputError(msg)
    a = np.array(xy)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(a[:, 0], a[:, 1]), crs="EPSG:4326")


def _drive_subset(source: str | Path | nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return the ways of ``source`` that osmnx's ``drive`` network keeps, loaded for walking."""
    from pointplan.network.loading import _streets

    G = _streets(source, cache=True)
    drop = [
        (u, v, k)
        for u, v, k, d in G.edges(keys=True, data=True)
        if DRIVE_ONLY_EXCLUDED & set(_highway_key(d.get("highway")))
    ]
    G.remove_edges_from(drop)
    G.remove_nodes_from(list(nx.isolates(G)))
    return load_network(G, mode="walk")


def _all_minutes(eng: NetworkEngine, o: gpd.GeoDataFrame, d: gpd.GeoDataFrame) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        od = eng.od_long(o, d, 1e6, with_distance=False)
    out = np.full((len(o), len(d)), np.nan)
    out[od["i"].to_numpy(), od["j"].to_numpy()] = od["minutes"].to_numpy()
    return out


def _walk_stats(
    path: Path, log_r: FloatArray, ped: FloatArray, drv: FloatArray, n_doors: int, n_dest: int, seed: int, min_m: float
) -> dict[str, Any]:
    """How the walking correction was measured: pairs, quantiles, means, source file."""
    return {
        "n_doors": n_doors,
        "n_pairs": len(log_r),
        "ratio_p10": round(float(np.exp(np.percentile(log_r, 10))), 4),
        "ratio_p90": round(float(np.exp(np.percentile(log_r, 90))), 4),
        "share_longer_on_drive_only": round(float((log_r > 0).mean()), 4),
        "mean_minutes_pedestrian": round(float(ped.mean()), 3),
        "mean_minutes_drive_only": round(float(drv.mean()), 3),
        "fitted_on": f"data/osm/{path.name}" if path.parent.name == "osm" else path.name,
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "how": (
            "pointplan.network.fit_walk_correction: every building centre of the file an origin, "
            f"{n_dest} of them destinations (seed {seed}); each pair at least {min_m:g} m apart "
            "routed door to door for walking (NetworkEngine.od_long: snap legs and partial streets "
            "included) on the full network (footways, paths, steps, alleys, service ways) and on its "
            "drive-only subset (osmnx's drive filter); ratio = median of drive-only / pedestrian "
            "minutes; log_sigma = median absolute deviation of the log ratio / 0.6745."
        ),
    }


def fit_walk_correction(
    source: str | Path,
    doors: gpd.GeoDataFrame | None = None,
    *,
    n_destinations: int = 100,
    min_distance_m: float = 100.0,
    seed: int = 0,
) -> WalkCorrection:
    """Measure how much longer walking is on a drive-only network than where people walk.

    The same door-to-door trips are routed twice by :class:`NetworkEngine` for walking
    (snap legs and partial streets included): on the full network of ``source``
    (footways, paths, steps, alleys and service ways) and on its drive-only subset (the
    ways osmnx's ``drive`` network keeps, like the inner city's network shipped with
    pointplan). The ratio of the two times (drive-only / pedestrian) is the correction;
    its spread, the correction's error.

    Parameters
    ----------
    source
        A network with pedestrian ways (an OSM XML file, e.g. the shipped Văn Miếu extract).
    doors
        Origins and destinations (points, any CRS); default the centre of every building
        of the OSM file.
    n_destinations
        Doors drawn as destinations (every door is an origin).
    min_distance_m
        Pairs closer than this (straight line) are left out.
    seed
        Random seed of the destinations.

    Returns
    -------
    WalkCorrection
        ``ratio`` (median), ``log_sigma`` and ``stats`` (pairs, P10/P90 of the ratio,
        share of trips longer on the drive-only network, source file and its sha256).

    Examples
    --------
    >>> from pointplan.data import data_file
    >>> c = fit_walk_correction(data_file("osm/vanmieu.osm"), n_destinations=10)
    >>> c.ratio, c.stats["n_pairs"] > 1000  # the median trip: as long on the streets alone
    (1.0, True)
    >>> c.stats["mean_minutes_drive_only"] > c.stats["mean_minutes_pedestrian"]  # the mean: longer
    True

    """
    path = Path(source)
    door = _building_doors(path) if doors is None else doors
    ped = NetworkEngine(load_network(path, mode="walk"), "walk", walk_correction=1.0)
    drv = NetworkEngine(_drive_subset(path), "walk", walk_correction=1.0)
    xy = _points_xy(door, "doors", ped.crs)
    o = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=ped.crs)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(o), size=min(n_destinations, len(o)), replace=False))
    d = o.iloc[pick].reset_index(drop=True)
    a, b = _all_minutes(ped, o, d), _all_minutes(drv, o, d)
    straight = np.hypot(xy[:, None, 0] - xy[pick][None, :, 0], xy[:, None, 1] - xy[pick][None, :, 1])
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (straight >= min_distance_m)
    if ok.sum() < 50:
        msg = f"Only {int(ok.sum())} door pairs routed on both networks: too few to measure a correction."
        raise NetworkError(msg)
    log_r = np.log(b[ok] / a[ok])
    med = float(np.median(log_r))
    stats = _walk_stats(path, log_r, a[ok], b[ok], len(o), len(d), seed, min_distance_m)
    sigma = float(np.median(np.abs(log_r - med)) / 0.6745)
    return WalkCorrection(float(np.exp(med)), sigma, stats)


# ---------------------------------------------------------------------------------------
# What the outputs say
# ---------------------------------------------------------------------------------------

#: One paragraph for a report's method section, in Vietnamese and English.
FALLBACK_METHOD_TEXT: dict[str, str] = {
    "vi": (
        "Thời gian di chuyển được tính trên mạng đường nội thành (OpenStreetMap) từ cửa đến cửa: mỗi "
        "điểm dân cư và mỗi điểm phục vụ được nối vào con đường gần nhất, chặng nối và đoạn đường đến "
        "nút giao được tính vào thời gian. Ngoài vùng có mạng đường, thời gian được ước tính từ khoảng "
        "cách đường chim bay theo hệ số vòng và tốc độ hiệu quả theo từng khoảng cách, hiệu chỉnh trên "
        "chính các chuyến đi từ cửa đến cửa đã tính trên mạng đường (mỗi khoảng cách lấy trung vị: một "
        "nửa số chuyến lâu hơn, một nửa nhanh hơn). Sai số trên các điểm đến giữ lại không dùng để hiệu "
        "chỉnh được nêu theo từng phương tiện (sai lệch có dấu và sai số tuyệt đối). Mạng đường nội thành "
        "là mạng cho ô tô, không có ngõ và lối đi bộ: thời gian đi bộ trên đó được điều chỉnh theo tỷ lệ "
        "đo trên khu Văn Miếu, nơi có cả hai, và sai số của tỷ lệ này được đưa vào phân tích bất định."
    ),
    "en": (
        "Travel times are routed door to door on the inner city's road network (OpenStreetMap): every "
        "populated place and service point is joined to its nearest street, and that leg and the part "
        "of the street to the next junction count in the time. Beyond the network, times are estimated "
        "from the straight-line distance with a circuity and an effective speed per distance band, "
        "fitted on the same door-to-door trips routed on the network (each band at the median: half "
        "the trips take longer, half less). The error on held-out destinations is stated per mode "
        "(signed bias and absolute error). The inner network is a drive network without alleys or "
        "footways: walking times on it are corrected by the ratio measured on the Văn Miếu extract, "
        "where both exist, and the ratio's error enters the uncertainty analysis."
    ),
}


def fallback_log_sigma(mode: str, calibration: FallbackCalibration | None = None) -> float | None:
    """Log-error of the calibrated fallback's times for ``mode``: ``ln(1 + m) / 0.6745``.

    ``m`` is the held-out median absolute error (the median of ``|z|`` is 0.6745 for a
    normal law). None when the calibration has no figure for the mode.

    Parameters
    ----------
    mode
        Travel mode.
    calibration
        Default: the one shipped with pointplan.

    Returns
    -------
    float or None

    Examples
    --------
    >>> s = fallback_log_sigma("walk")
    >>> 0.05 < s < 0.3 and s != fallback_log_sigma("motorbike")
    True
    """
    cal = load_calibration() if calibration is None else calibration
    try:
        median = float(cal.models[mode].stats["heldout_abs_pct_error"]["median"])
    except (KeyError, TypeError, ValueError):
        return None
    return float(np.log1p(median / 100.0) / 0.6745)


def calibration_summary(
    engine: object | None = None,
    modes: tuple[str, ...] | None = None,
    calibration: FallbackCalibration | None = None,
) -> dict[str, Any]:
    """Return the fallback's held-out errors and the walking method, as entries of a summary.

    Parameters
    ----------
    engine
        The run's engine (its ``mode`` and ``walk_network_kind`` are read), or None.
    modes
        Modes to report (default the engine's mode, else every mode of the calibration).
    calibration
        Default: the one shipped with pointplan.

    Returns
    -------
    dict
        ``fallback_heldout_signed_pct_error_median``, ``fallback_heldout_abs_pct_error_median``
        and ``fallback_heldout_abs_pct_error_p90`` (a float for one mode, ``{mode: float}``
        for several), ``fallback_trips`` (``"door_to_door"`` or ``"node_to_node"``),
        ``walk_network_kind`` (``"pedestrian"``, ``"drive_corrected"``, ``"drive"``,
        ``"straight_line"`` or None) and, when walking is corrected,
        ``walk_drive_network_ratio`` and ``walk_drive_network_log_sigma``.

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> s = calibration_summary(CrowFliesEngine("walk"))
    >>> abs(s["fallback_heldout_signed_pct_error_median"]) <= 3, s["walk_network_kind"]
    (True, 'straight_line')
    >>> sorted(calibration_summary(modes=("walk", "car"))["fallback_heldout_abs_pct_error_median"])
    ['car', 'walk']
    """
    cal = load_calibration() if calibration is None else calibration
    use = modes or ((str(engine.mode),) if hasattr(engine, "mode") else tuple(cal.models))
    out: dict[str, Any] = {}
    for key, stat, part in (
        ("fallback_heldout_signed_pct_error_median", "heldout_signed_pct_error", "median"),
        ("fallback_heldout_abs_pct_error_median", "heldout_abs_pct_error", "median"),
        ("fallback_heldout_abs_pct_error_p90", "heldout_abs_pct_error", "p90"),
    ):
        per = {m: cal.models[m].stats.get(stat, {}).get(part) if m in cal.models else None for m in use}
        out[key] = per[use[0]] if len(use) == 1 else per
    out["fallback_trips"] = cal.meta.get("trips", "node_to_node")
    kind = getattr(engine, "walk_network_kind", None)
    out["walk_network_kind"] = kind
    corr = cal.walk_correction
    if kind == "drive_corrected" and corr is not None:
        out["walk_drive_network_ratio"] = round(corr.ratio, 4)
        out["walk_drive_network_log_sigma"] = round(corr.log_sigma, 4)
    return out
