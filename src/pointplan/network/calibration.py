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
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from pointplan._errors import InputError, NetworkError
from pointplan.network._common import MODES, FloatArray, IntArray, Mode, _check_mode
from pointplan.network.engine import NetworkEngine
from pointplan.network.fallback_model import (
    DEFAULT_BANDS_M,
    DEFAULT_CALIBRATION_FILE,
    DEFAULT_CIRCUITY,
    FallbackCalibration,
    FallbackModel,
    _basis,
    load_calibration,
)
from pointplan.network.loading import load_network
from pointplan.network.speeds import DEFAULT_SPEEDS_KMH

__all__ = [
    "DEFAULT_BANDS_M",
    "DEFAULT_CALIBRATION_FILE",
    "FallbackCalibration",
    "FallbackModel",
    "fit_fallback",
    "load_calibration",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

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


def _abs_pct(pred: FloatArray, actual: FloatArray) -> dict[str, float]:
    err = np.abs(pred - actual) / actual * 100.0
    return {"median": round(float(np.median(err)), 2), "p90": round(float(np.percentile(err, 90)), 2)}


def _fit_mode(pairs: dict[str, FloatArray], mode: Mode, knots: FloatArray, test: np.ndarray) -> FallbackModel:
    """Fit one mode's model on the training pairs; held-out errors on the ``test`` pairs."""
    from scipy.optimize import nnls  # only when fitting (scipy.optimize is slow to import)

    train = ~test
    X = _basis(pairs["straight"][train], knots)
    net_m, sec = pairs["network"][train], pairs["seconds"][train]
    # relative errors (rows scaled by 1 / the answer): a short trip counts as much as a long one
    circuity, _ = nnls(X / net_m[:, None], np.ones(len(net_m)))
    sec_per_m, _ = nnls(X / sec[:, None], np.ones(len(sec)))
    used = X.sum(axis=0) > 0
    circuity = np.where(used, np.maximum(circuity, 1.0), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(used & (sec_per_m > 0), circuity / sec_per_m * 3.6, np.nan)
    # bands without pairs (or a degenerate fit) carry the previous band's values on
    for b in range(len(knots)):
        if not (np.isfinite(circuity[b]) and np.isfinite(speed[b])):
            circuity[b] = circuity[b - 1] if b else DEFAULT_CIRCUITY
            speed[b] = speed[b - 1] if b else DEFAULT_SPEEDS_KMH[mode]
    model = FallbackModel(mode, knots, circuity, speed)
    d, t = pairs["straight"][test], pairs["seconds"][test]
    baseline = d * DEFAULT_CIRCUITY / (DEFAULT_SPEEDS_KMH[mode] / 3.6)
    band_of = np.clip(np.searchsorted(knots, pairs["straight"], side="right") - 1, 0, len(knots) - 1)
    stats = {
        "n_pairs_train": int(train.sum()),
        "n_pairs_heldout": int(test.sum()),
        "n_pairs_by_band": np.bincount(band_of, minlength=len(knots)).tolist(),
        "heldout_abs_pct_error": _abs_pct(model.minutes(d) * 60.0, t),
        "heldout_abs_pct_error_circuity_1_3": _abs_pct(baseline, t),
    }
    return FallbackModel(mode, knots, circuity, speed, stats)


def fit_fallback(
    source: str | Path | nx.MultiDiGraph,
    *,
    modes: tuple[str, ...] = MODES,
    bands_m: tuple[float, ...] = DEFAULT_BANDS_M,
    n_targets: int = 300,
    n_origins: int = 400,
    heldout_share: float = 0.3,
    min_distance_m: float = 100.0,
    seed: int = 0,
) -> FallbackCalibration:
    """Fit the straight-line fallback on origin-destination pairs routed on a network.

    For each mode the network is loaded for that mode (:func:`load_network`), random
    target nodes are drawn, one Dijkstra pass per target gives the fastest trip from
    every node, and random origins among them make the pairs. The targets are split:
    ``heldout_share`` of them are kept out of the fit and give the error figures.

    Parameters
    ----------
    source
        A network file or graph, as :func:`load_network` accepts (a graph already set up
        for the mode by :func:`add_travel_times` is used as it is).
    modes
        Modes to fit.
    bands_m
        Distance band edges (m), starting at 0.
    n_targets, n_origins
        Targets drawn, and origins drawn per target (evenly across the bands: random
        pairs in a city are mostly long, and short trips matter most).
    heldout_share
        Share of the targets held out for the error figures.
    min_distance_m
        Pairs closer than this (straight line) are left out: there the snap to the
        street, not the route, makes the time.
    seed
        Random seed (the fit is reproducible).

    Returns
    -------
    FallbackCalibration
        Write it with :meth:`FallbackCalibration.write`; use it with
        ``CrowFliesEngine(mode, calibration=...)``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> for i in range(12):
    ...     for j in range(12):
    ...         G.add_node(i * 12 + j, x=100.0 * j, y=100.0 * i)
    >>> for i in range(12):
    ...     for j in range(12):
    ...         for a, b in ((i * 12 + j, i * 12 + j + 1), (i * 12 + j, (i + 1) * 12 + j)):
    ...             if b < 144 and (b == a + 12 or j < 11):
    ...                 _ = G.add_edge(a, b, length=100.0, highway="residential")
    ...                 _ = G.add_edge(b, a, length=100.0, highway="residential")
    >>> cal = fit_fallback(G, modes=("walk",), bands_m=(0.0, 500.0), n_targets=20, n_origins=60)
    >>> m = cal.models["walk"]
    >>> 1.1 < m.circuity[0] < 1.45 and round(float(m.speed_kmh[0]), 6) == 4.5  # a grid: about 4/pi
    True

    """
    knots = _check_fit(bands_m, heldout_share)
    sample = {"n_targets": n_targets, "n_origins": n_origins, "min_m": min_distance_m}
    models = {mode: _fit_on(source, mode, knots, heldout_share, seed, sample) for mode in modes}
    return FallbackCalibration(models, tuple(float(b) for b in knots), _meta(source, seed, n_targets, n_origins))


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
    pairs = _od_sample(G, mode, int(sample["n_targets"]), int(sample["n_origins"]), rng, float(sample["min_m"]), knots)
    n_t = int(pairs["target"].max()) + 1 if len(pairs["target"]) else 0
    if len(pairs["straight"]) < 50 or n_t < 4:
        msg = f"Too few routed pairs ({len(pairs['straight'])}) to fit the {mode} fallback: use a larger network."
        raise NetworkError(msg)
    held = rng.choice(n_t, size=max(1, round(heldout_share * n_t)), replace=False)
    model = _fit_mode(pairs, mode, knots, np.isin(pairs["target"], held))
    logger.info("fallback %s: %s", mode, model.to_dict())
    return model


def _check_fit(bands_m: tuple[float, ...], heldout_share: float) -> FloatArray:
    knots = np.asarray(bands_m, float)
    if knots[0] != 0 or (np.diff(knots) <= 0).any():
        msg = f"bands_m must start at 0 and increase, got {bands_m!r}."
        raise InputError(msg)
    if not 0 < heldout_share < 1:
        msg = f"heldout_share must be between 0 and 1, got {heldout_share!r}."
        raise InputError(msg)
    return knots


def _meta(source: object, seed: int, n_targets: int, n_origins: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "fitted": dt.datetime.now(dt.UTC).date().isoformat(),
        "fitted_on": str(source) if isinstance(source, str | Path) else "a networkx graph",
        "how": (
            "pointplan.network.fit_fallback: per mode, the network loaded for that mode; "
            f"{n_targets} random target nodes (seed {seed}), the fastest trip to each from up to "
            f"{n_origins} random origin nodes drawn evenly across the distance bands (scipy "
            "Dijkstra); pairs under 100 m straight left "
            "out; network distance and time fitted as increasing piecewise-linear functions of "
            "the straight-line distance (non-negative least squares on relative errors); 30 % of the targets held "
            "out for the error figures (absolute % error of the time)."
        ),
        "scope": (
            "Fitted on the inner city's drive network (about 41 of the 126 units). The outer xã "
            "lie outside the area it was fitted on: their roads are sparser, so the fallback "
            "there is likely optimistic. Walking and cycling are fitted on the drive network "
            "(no footpaths), so their circuity is an upper estimate."
        ),
    }
    if isinstance(source, str | Path) and Path(source).is_file():
        meta["file_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return meta
