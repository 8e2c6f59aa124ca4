"""The M/M/c figures against a discrete-event simulation with ciw (a peer library).

Each case simulates one long run, drops a warm-up, and splits the rest into batches: the
batch means give a standard error that accounts for the correlation between successive
customers' waits. The formulas must fall within 4 standard errors (plus a small floor).
"""

from __future__ import annotations

import ciw  # the dev extra (pyproject [dev])
import numpy as np
import pytest

from pointplan import staffing as st


def _simulate(lam_per_h: float, service_min: float, c: int, hours: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times and waits (minutes) of a ciw M/M/c run."""
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam_per_h / 60.0)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / service_min)],
        number_of_servers=[c],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(hours * 60.0)
    recs = sim.get_all_records()
    arrive = np.array([r.arrival_date for r in recs])
    wait = np.array([r.waiting_time for r in recs])
    order = np.argsort(arrive)
    return arrive[order], wait[order]


def _batch(values: np.ndarray, stat, n_batches: int = 20) -> tuple[float, float]:
    """Statistic over all values and its batch-means standard error."""
    parts = np.array_split(values, n_batches)
    b = np.array([stat(p) for p in parts])
    return float(stat(values)), float(b.std(ddof=1) / np.sqrt(n_batches))


@pytest.mark.parametrize(
    ("lam", "service", "c", "seed"),
    [
        (5.184, 15.0, 3, 11),  # a ward point at the Monday-morning peak, 3 counters (rho 0.43)
        pytest.param(10.3, 15.0, 3, 12, marks=pytest.mark.slow),  # a busy ward point (rho 0.86): ~5 s
        (14.0, 12.0, 4, 13),  # a branch-like point with shorter service (rho 0.70)
    ],
)
def test_formulas_agree_with_ciw(lam: float, service: float, c: int, seed: int) -> None:
    hours = 2500.0 if lam * service / 60 / c < 0.8 else 6000.0
    arrive, wait = _simulate(lam, service, c, hours, seed)
    keep = arrive > 50 * 60.0  # warm-up: the first 50 hours
    w = wait[keep]
    m = st.mmc_metrics(lam, c, service).iloc[0]
    for stat, theory, floor in (
        (np.mean, m["wait_mean_min"], 0.05),
        (lambda x: np.mean(x > 1e-9), m["prob_wait"], 0.005),
        (lambda x: np.quantile(x, 0.9), m["wait_p90_min"], 0.25),
    ):
        est, se = _batch(w, stat)
        assert abs(est - theory) <= 4 * se + floor, (est, theory, se)
