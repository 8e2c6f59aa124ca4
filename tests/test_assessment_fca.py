"""2SFCA / E2SFCA against PySAL ``access`` on shared instances, NaN where nothing is in reach."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from access import Access, weights

from pointplan import InputError, MissingColumnError
from pointplan.assessment import E2SFCA_STEPS, e2sfca, gaussian_decay, step_decay, two_sfca


def _instance(seed: int, n: int = 60, m: int = 7, size_m: float = 30_000.0):
    """Random demand and supply on a square; 3 minutes a km; pairs up to 90 minutes."""
    rng = np.random.default_rng(seed)
    dxy = rng.uniform(0, size_m, size=(n, 2))
    sxy = rng.uniform(0, size_m / 2, size=(m, 2))  # supply in one corner: far demand reaches none
    minutes = np.linalg.norm(dxy[:, None, :] - sxy[None, :, :], axis=2) / 1000 * 3
    pop = rng.integers(100, 5000, size=n).astype(float)
    counters = rng.integers(1, 6, size=m).astype(float)
    ii, jj = np.nonzero(minutes <= 90)
    od = pd.DataFrame({"i": ii, "j": jj, "minutes": minutes[ii, jj]})
    return od, pop, counters


def _access(od: pd.DataFrame, pop: np.ndarray, counters: np.ndarray) -> Access:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # access's own pandas deprecations
        return Access(
            demand_df=pd.DataFrame({"geoid": np.arange(pop.size), "pop": pop}),
            demand_index="geoid",
            demand_value="pop",
            supply_df=pd.DataFrame({"geoid": np.arange(counters.size), "counters": counters}),
            supply_index="geoid",
            supply_value="counters",
            cost_df=od.rename(columns={"i": "origin", "j": "dest", "minutes": "cost"}),
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )


def _theirs(A: Access, n: int, method: str, **kw) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(A, method)(name="x", **kw)["x_counters"]
    return out.reindex(range(n)).to_numpy(dtype=float)  # no fillna: NaN must match NaN


def _assert_same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    ok = ~np.isnan(ours)
    assert ours[ok] == pytest.approx(theirs[ok], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", [3, 11])
def test_two_sfca_and_step_e2sfca_equal_access_nan_included(seed) -> None:
    od, pop, counters = _instance(seed)
    A = _access(od, pop, counters)
    n = pop.size
    ours2 = two_sfca(od, pop, counters, 30.0)
    _assert_same(ours2, _theirs(A, n, "two_stage_fca", max_cost=30))
    ours_e = e2sfca(od, pop, counters)
    _assert_same(ours_e, _theirs(A, n, "enhanced_two_stage_fca", max_cost=30, weight_fn=weights.step_fn(E2SFCA_STEPS)))
    # Not vacuous: some demand reaches nothing within 30 min, most reaches something.
    assert 0 < np.isnan(ours_e).sum() < n // 2
    assert (ours_e > 0).sum() > n // 2


def test_gaussian_weight_equals_access() -> None:
    od, pop, counters = _instance(5)
    A = _access(od, pop, counters)
    theirs = _theirs(A, pop.size, "enhanced_two_stage_fca", max_cost=45, weight_fn=weights.gaussian(15))
    ours = e2sfca(od, pop, counters, weight=gaussian_decay(15), max_minutes=45)
    _assert_same(ours, theirs)
    assert np.isnan(ours).any() and (ours > 0).sum() > pop.size // 2
    # access's own (vectorised) function is accepted as is.
    _assert_same(e2sfca(od, pop, counters, weight=weights.gaussian(15), max_minutes=45), theirs)
    # Without max_minutes a weight function uses every pair given (90 min here).
    wide = e2sfca(od, pop, counters, weight=gaussian_decay(15))
    _assert_same(wide, _theirs(A, pop.size, "enhanced_two_stage_fca", weight_fn=weights.gaussian(15)))


def test_scalar_weight_function_is_applied_element_by_element() -> None:
    """``access.weights.step_fn`` takes one number at a time; it gives the step result."""
    od, pop, counters = _instance(7)
    steps = {10: 1.0, 20: 0.68, 30: 0.22}
    assert e2sfca(od, pop, counters, weight=weights.step_fn(steps), max_minutes=30) == pytest.approx(
        e2sfca(od, pop, counters, steps), nan_ok=True
    )


def test_in_reach_with_weight_zero_is_zero_not_nan() -> None:
    """Within the catchment but beyond the last step: 0 (as access), not 'no point in reach'."""
    od = pd.DataFrame({"i": [0, 1, 2], "j": [0, 0, 0], "minutes": [5.0, 15.0, 25.0]})
    pop, counters = np.array([100.0, 50.0, 10.0]), np.array([2.0])
    ours = e2sfca(od, pop, counters, {10: 1.0}, max_minutes=20)
    assert ours[0] == pytest.approx(2 / 100) and ours[1] == 0.0 and np.isnan(ours[2])
    theirs = _theirs(
        _access(od, pop, counters), 3, "enhanced_two_stage_fca", max_cost=20, weight_fn=weights.step_fn({10: 1.0})
    )
    _assert_same(ours, theirs)


def test_hand_worked_e2sfca() -> None:
    # Point 0 (2 counters): d0 at 5 min (w 1), d1 at 15 min (w 0.68); point 1 (1 counter): d1 at 5 min.
    od = pd.DataFrame({"i": [0, 1, 1], "j": [0, 0, 1], "minutes": [5.0, 15.0, 5.0]})
    r0, r1 = 2 / (100 + 0.68 * 100), 1 / 100
    out = e2sfca(od, [100, 100, 50], [2, 1])
    assert out[:2] == pytest.approx([r0, 0.68 * r0 + r1])
    assert np.isnan(out[2])


def test_two_sfca_conserves_supply() -> None:
    """sum_i P_i A_i = the supply of every point someone reaches (Luo & Wang's identity)."""
    od, pop, counters = _instance(9)
    a = two_sfca(od, pop, counters, 30.0)
    reached = np.unique(od.loc[od["minutes"] <= 30, "j"])
    assert np.nansum(pop * a) == pytest.approx(counters[reached].sum(), rel=1e-12)
    assert reached.size > 0 and np.isnan(a).any()  # some demand reaches nothing: NaN, left out


def test_step_and_gaussian_weights() -> None:
    w = step_decay({10: 1.0, 20: 0.68, 30: 0.22})(np.array([0.0, 10.0, 10.5, 20.0, 29.9, 30.0, 30.1]))
    assert w.tolist() == [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0]
    g = gaussian_decay(10)(np.array([0.0, 10.0, 20.0]))
    assert g == pytest.approx([1.0, np.exp(-0.5), np.exp(-2.0)])


def test_bad_inputs_are_refused() -> None:
    od = pd.DataFrame({"i": [0], "j": [0], "minutes": [5.0]})
    with pytest.raises(InputError, match="either steps or weight"):
        e2sfca(od, [1.0], [1.0], {10: 1.0}, weight=gaussian_decay(5))
    with pytest.raises(InputError, match="non-negative weights"):
        e2sfca(od, [1.0], [1.0], weight=lambda t: -t)
    with pytest.raises(MissingColumnError, match="minutes"):
        two_sfca(od.drop(columns="minutes"), [1.0], [1.0], 30)
    with pytest.raises(InputError, match="positions outside"):
        two_sfca(od.assign(j=[3]), [1.0], [1.0], 30)
    with pytest.raises(InputError, match="population"):
        two_sfca(od, [-1.0], [1.0], 30)
    with pytest.raises(InputError, match="sigma_minutes"):
        gaussian_decay(0)
    with pytest.raises(InputError, match="steps is empty"):
        step_decay({})
