"""A seeded Monte Carlo over what is assumed: intervals, sensitivity, in-process or on Dask."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pointplan._errors import InputError
from pointplan.points import STAND_IN_PRECISIONS
from pointplan.uncertainty.assumptions import ASSUMPTION_NAMES, Assumptions, check_draws, check_seed
from pointplan.uncertainty.central import INTEGER_METRICS
from pointplan.uncertainty.model import HEADLINE_METRICS, UNIT_METRICS, DrawModel

__all__ = ["QUANTILES", "UNCERTAINTY_NOTE", "UncertaintyResult", "known_and_assumed", "run_uncertainty"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: The interval reported beside every figure: P5, P50, P95.
QUANTILES: tuple[float, float, float] = (0.05, 0.5, 0.95)

#: How to read an interval that does not contain its figure (written into ``summary.json``).
UNCERTAINTY_NOTE = (
    "Intervals are P5/P50/P95 over draws of what is assumed (stand-in locations, travel-time "
    "error, assumed counters, in-person share). Each draw keeps a stand-in at its own site or "
    "moves it among the populated places around it, by what its evidence allows (surveyed and "
    "reviewed points never move). The headline figures are the P50 (figures_basis: "
    "monte_carlo_p50); <metric>_at_standins is the figure if every head office stood at its "
    "stand-in. Points overloaded and idle are counts: their P5/P50/P95 are counts of actual draws."
)


@dataclass
class UncertaintyResult:
    """Intervals of the headline and per-unit figures, and what moves them.

    Attributes
    ----------
    draws
        One row per draw, one column per headline metric (:data:`HEADLINE_METRICS`).
    intervals
        ``metric -> [p5, p50, p95]``.
    units
        Per unit (indexed by code): ``<metric>_p5``, ``<metric>_p50``, ``<metric>_p95`` for
        :data:`UNIT_METRICS`, and ``uncertainty_minutes`` (P95 − P5 of the mean minutes).
    sensitivity
        Metric × assumption: the P5–P95 width when only that assumption varies (empty when
        not computed), and ``most_sensitive_to``.
    n_draws, seed
        The number of draws and the seed (the same seed gives the same intervals, in-process
        and on Dask).
    assumptions
        The ranges drawn from.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> from pointplan.uncertainty import run_uncertainty
    >>> r = run_uncertainty(tiny_assessment(), draws=20, seed=1, sensitivity_draws=0)
    >>> r.n_draws, r.seed, r.draws.shape
    (20, 1, (20, 6))
    >>> r.intervals["population_within_standard_share"]
    [0.9, 0.9, 0.9]
    >>> r.units.loc["00002", ["mean_minutes_p5", "mean_minutes_p95"]].round(1).tolist()
    [24.3, 38.3]
    >>> r.summary_items()["uncertainty_travel_time_sigma"]
    0.1282
    """

    draws: pd.DataFrame
    intervals: dict[str, list[float]]
    units: pd.DataFrame
    sensitivity: pd.DataFrame
    n_draws: int
    seed: int
    assumptions: Assumptions
    sigma: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def summary_items(self) -> dict[str, Any]:
        """Return the keys ``summary.json`` gains: ``<metric>_interval``, draws and seed.

        Returns
        -------
        dict
            ``{"<metric>_interval": [p5, p50, p95], ..., "uncertainty_draws": n,
            "uncertainty_seed": seed}``.
        """
        out: dict[str, Any] = {f"{m}_interval": v for m, v in self.intervals.items()}
        out["uncertainty_draws"] = self.n_draws
        out["uncertainty_seed"] = self.seed
        out["uncertainty_travel_time_sigma"] = round(self.sigma, 4)
        out["uncertainty_note"] = UNCERTAINTY_NOTE
        if not self.sensitivity.empty:
            out["uncertainty_most_sensitive_to"] = self.sensitivity["most_sensitive_to"].to_dict()
        return out


def _quantiles(values: np.ndarray, axis: int = 0) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.nanquantile(values, QUANTILES, axis=axis)


def _seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    return list(np.random.SeedSequence(seed).spawn(n))


def _run_chunk(model: DrawModel, seeds: Sequence[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Evaluate the draws of ``seeds`` in order (a task on a Dask worker, or in-process)."""
    return [model.evaluate(model.draw(np.random.default_rng(s))) for s in seeds]


def _run_draws(
    model: DrawModel, seeds: list[np.random.SeedSequence], workers: int | None, scheduler: str | None
) -> list[dict[str, Any]]:
    if workers is None and scheduler is None:
        return _run_chunk(model, seeds)
    from pointplan.uncertainty.parallel import run_on_dask

    return run_on_dask(model, seeds, _run_chunk, workers=workers, scheduler=scheduler)


def _collect(results: list[dict[str, Any]], unit_index: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    draws = pd.DataFrame([{m: r[m] for m in HEADLINE_METRICS} for r in results])
    draws.index.name = "draw"
    cols = {}
    for metric in UNIT_METRICS:
        stack = np.vstack([r[f"unit_{metric}"] for r in results])
        q = _quantiles(stack)
        for k, name in enumerate(("p5", "p50", "p95")):
            cols[f"{metric}_{name}"] = q[k]
    units = pd.DataFrame(cols, index=unit_index)
    units.index.name = "code"
    units["uncertainty_minutes"] = units["mean_minutes_p95"] - units["mean_minutes_p5"]
    return draws, units


def _intervals(draws: pd.DataFrame) -> dict[str, list[float]]:
    """P5/P50/P95 of each metric; counts of points take values of actual draws (whole numbers)."""
    q = _quantiles(draws.to_numpy(dtype=float))
    out = {m: [round(float(v), 6) for v in q[:, i]] for i, m in enumerate(draws.columns)}
    for m in INTEGER_METRICS & set(draws.columns):
        values = draws[m].dropna().to_numpy(dtype=float)
        if len(values):
            out[m] = [float(v) for v in np.quantile(values, QUANTILES, method="inverted_cdf")]
    return out


def _sensitivity(model: DrawModel, seed: int, draws: int, workers: int | None, scheduler: str | None) -> pd.DataFrame:
    """Width of each metric's interval when one assumption varies alone (one at a time)."""
    rows = {}
    base = model.assumptions
    for name in ASSUMPTION_NAMES:
        if name not in base.vary:
            continue
        model.assumptions = base.only(name)
        try:
            res = _run_draws(model, _seeds(seed, draws), workers, scheduler)
        finally:
            model.assumptions = base
        q = _quantiles(pd.DataFrame([{m: r[m] for m in HEADLINE_METRICS} for r in res]).to_numpy(dtype=float))
        rows[name] = q[2] - q[0]
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows, index=list(HEADLINE_METRICS))
    table.index.name = "metric"
    table["most_sensitive_to"] = table.idxmax(axis=1).where(table.max(axis=1) > 0, "none")
    return table


def _check_dask(workers: int | None, scheduler: str | None) -> None:
    """Raise :class:`InputError` for both ``workers`` and ``scheduler``, or a bad worker count."""
    if workers is not None and scheduler is not None:
        msg = "--workers and --scheduler: give one, not both (workers start a local cluster; scheduler uses yours)."
        raise InputError(msg)
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        msg = f"--workers: {workers!r} is not a positive whole number of Dask workers."
        raise InputError(msg)


def run_uncertainty(
    assessment: Any,
    *,
    draws: int = 200,
    seed: int = 2025,
    assumptions: Assumptions | None = None,
    sensitivity_draws: int | None = 50,
    workers: int | None = None,
    scheduler: str | None = None,
    walk_engine: Any | None = None,
) -> UncertaintyResult:
    """Run a seeded Monte Carlo over what the assessment assumed; return P5/P50/P95 intervals.

    Each draw keeps every stand-in point at its own site or moves it to a populated place
    around it, as far as its evidence allows (:mod:`pointplan.uncertainty.sites`: near the
    street its address names, among its unit's places weighted towards the population
    centre; surveyed and reviewed points never move), draws the
    travel-time model's error per unit, the counters of points whose counters are assumed
    (Plan 322: 2–5 officials) and the in-person share of dossiers, then recomputes the
    headline figures (:data:`~pointplan.uncertainty.model.HEADLINE_METRICS`) and the per-unit
    coverage, mean and P90 minutes. Demand, visits and engines are reused between draws.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment`.
    draws
        Number of draws (a positive whole number).
    seed
        Seed of the draws (a whole number ≥ 0): the same seed gives the same intervals, with
        or without Dask.
    assumptions
        The ranges (default :class:`Assumptions`).
    sensitivity_draws
        Draws per assumption for the one-at-a-time sensitivity table (``None`` or 0: skip).
    workers
        Start a local ``dask.distributed`` cluster with this many workers.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``) to run the draws on.
    walk_engine
        Engine for the walking share (default: like the assessment's, for walking).

    Returns
    -------
    UncertaintyResult

    Raises
    ------
    InputError
        For zero or negative draws, a non-integer seed, a range with min > max, or both
        ``workers`` and ``scheduler``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely, pointplan
    >>> units = gpd.GeoDataFrame({"name": ["A"], "kind": ["xa"], "population": [1000]},
    ...     geometry=[shapely.box(585000, 2325000, 590000, 2330000)], index=pd.Index(["00001"], name="code"),
    ...     crs=32648)
    >>> pts = gpd.GeoDataFrame({"point_id": ["P1"], "name": ["P1"], "kind": ["unit_point"],
    ...     "unit_code": ["00001"], "location_precision": ["unit_population_centre"]},
    ...     geometry=[shapely.Point(587500, 2327500)], crs=32648)
    >>> demand = gpd.GeoDataFrame({"unit_code": ["00001"] * 3, "population": [500.0, 300.0, 200.0]},
    ...     geometry=gpd.points_from_xy([586000, 588000, 589500], [2326000, 2328000, 2329500]), crs=32648)
    >>> a = pointplan.assess(pts, units, demand=demand)
    >>> r = run_uncertainty(a, draws=20, seed=1, sensitivity_draws=0)
    >>> r.intervals["population_within_standard_share"]
    [1.0, 1.0, 1.0]
    >>> r.summary_items()["uncertainty_draws"]
    20
    """
    n = check_draws(draws)
    seed = check_seed(seed)
    _check_dask(workers, scheduler)
    n_sens = check_draws(sensitivity_draws) if sensitivity_draws else 0
    model = DrawModel(assessment, assumptions or Assumptions(), walk_engine=walk_engine)
    model.keep_layouts = n_sens  # the sensitivity's "locations" rows draw the first draws' sites again
    results = _run_draws(model, _seeds(seed, n), workers, scheduler)
    table, units = _collect(results, model.unit_index)
    sens = _sensitivity(model, seed, n_sens, workers, scheduler) if n_sens else pd.DataFrame()
    return UncertaintyResult(table, _intervals(table), units, sens, n, seed, model.assumptions, model.sigma())


def known_and_assumed(assessment: Any, result: UncertaintyResult | None = None) -> pd.DataFrame:
    """Return the "known / assumed" table: what each figure rests on.

    Parameters
    ----------
    assessment
        A :class:`pointplan.Assessment`.
    result
        The uncertainty result, for the ranges drawn (optional).

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``status`` (``known``/``assumed``), ``basis``, ``range_drawn``
        (Vietnamese labels are added by the report).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> table = known_and_assumed(tiny_assessment())
    >>> table[["item", "status"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['Unit population (official 2025 figures)', 'known'],
     ['Where people live within a unit', 'assumed'],
     ['Point locations (1 of 1 exact)', 'known'],
     ['Travel times', 'assumed'],
     ['Counters (1 of 1 given)', 'known'],
     ['In-person share of dossiers', 'assumed']]
    >>> table.loc[5, "range_drawn"]
    '30%–50% (mode 40%)'
    """
    pts = assessment.points
    n = len(pts)
    stand = int(pts["location_precision"].isin(STAND_IN_PRECISIONS).sum())
    unknown = int((pts["location_precision"] == "unknown").sum())
    assumed = int(pts["counters_assumed"].sum()) if "counters_assumed" in pts else 0
    a = result.assumptions if result is not None else Assumptions()
    sigma = f"log-error σ = {result.sigma:.2f} per unit" if result is not None else ""
    rows = [
        ("Unit population (official 2025 figures)", "known", "Resolution 1656 scheme, sapnhap.bando", ""),
        ("Where people live within a unit", "assumed", "WorldPop 2020 1 km, rescaled to official totals", ""),
        (
            f"Point locations ({n - stand - unknown} of {n} exact)",
            "known" if stand + unknown == 0 else "assumed",
            f"{stand} stand-ins, {unknown} of unknown precision",
            f"populated places of the unit (street ±{a.street_radius_m:g} m, centre ±{a.centre_radius_m:g} m)",
        ),
        ("Travel times", "assumed", str(getattr(assessment, "travel_time_method", "")), sigma),
        (
            f"Counters ({n - assumed} of {n} given)",
            "known" if assumed == 0 else "assumed",
            "Plan 322: 2–5 officials move into each point",
            f"{a.counters_range[0]}–{a.counters_range[1]} where assumed",
        ),
        (
            "In-person share of dossiers",
            "assumed",
            "about 40 % today; target ≥ 60 % online",
            f"{a.in_person_share[0]:.0%}–{a.in_person_share[2]:.0%} (mode {a.in_person_share[1]:.0%})",
        ),
    ]
    return pd.DataFrame(rows, columns=["item", "status", "basis", "range_drawn"])
