"""What is assumed, within which range: the inputs of the uncertainty analysis."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pointplan._errors import InputError

__all__ = ["ASSUMPTION_NAMES", "Assumptions", "check_draws", "check_seed"]

#: The assumptions a draw can vary, in the order the sensitivity table lists them.
ASSUMPTION_NAMES: tuple[str, ...] = ("locations", "travel_time", "counters", "in_person_share")


@dataclass(frozen=True)
class Assumptions:
    """The ranges an uncertainty draw samples from.

    Parameters
    ----------
    counters_range
        Counters at a point whose counters are assumed (not given): drawn uniformly among the
        whole numbers of this range. Plan 322/KH-UBND moves 2–5 officials into each point.
    in_person_share
        ``(low, mode, high)`` of the share of dossiers filed in person (triangular). About
        40 % today; the city's target is at least 60 % online (≤ 40 % in person).
    base_in_person_share
        The share the visits of the base assessment correspond to (visits scale with
        ``share / base_in_person_share``).
    travel_time_sigma
        Standard deviation of the log error of modelled travel times, drawn once per unit and
        draw (errors are alike within a unit's road pattern, independent between units).
        ``None``: taken from the calibration of the straight-line model (its held-out median
        error for the mode: 13 % by motorbike gives 0.18), else 0.15.
    network_travel_time_sigma
        The same for trips routed on the road network (speeds by road type are assumed):
        0.07, a median error of about 5 %.
    street_radius_m
        A stand-in on the street its address names: the real site is drawn among the unit's
        populated places, weighted by population × ``exp(-d / street_radius_m)`` from the
        stand-in.
    centre_radius_m
        The same for a stand-in at the unit's population centre (less is known: a wider
        radius). Other stand-ins (a point inside the polygon) are drawn by population only.
    reference_radius_m
        Points at the reference point of a pre-2025 ward (branches): drawn among populated
        places within this distance, by population.
    vary
        Which assumptions vary (the others stay at their base value): a subset of
        :data:`ASSUMPTION_NAMES`.

    Examples
    --------
    >>> a = Assumptions()
    >>> a.counters_range, a.in_person_share
    ((2, 5), (0.3, 0.4, 0.5))
    >>> a.only("counters").vary
    ('counters',)
    >>> Assumptions(counters_range=(5, 2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: counters_range: the minimum 5 is above the maximum 2. ...
    """

    counters_range: tuple[int, int] = (2, 5)
    in_person_share: tuple[float, float, float] = (0.3, 0.4, 0.5)
    base_in_person_share: float = 0.4
    travel_time_sigma: float | None = None
    network_travel_time_sigma: float = 0.07
    street_radius_m: float = 500.0
    centre_radius_m: float = 1500.0
    reference_radius_m: float = 1500.0
    vary: tuple[str, ...] = field(default=ASSUMPTION_NAMES)

    def __post_init__(self) -> None:
        lo, hi = self.counters_range
        if lo > hi:
            msg = f"counters_range: the minimum {lo} is above the maximum {hi}. Give (min, max) with min <= max, e.g. (2, 5)."  # noqa: E501
            raise InputError(msg)
        if lo < 0 or int(lo) != lo or int(hi) != hi:
            msg = f"counters_range: {self.counters_range} must be whole numbers >= 0, e.g. (2, 5)."
            raise InputError(msg)
        low, mode, high = self.in_person_share
        if not 0 < low <= mode <= high <= 1:
            msg = (
                f"in_person_share: {self.in_person_share} must be (low, mode, high) with "
                "0 < low <= mode <= high <= 1, e.g. (0.3, 0.4, 0.5)."
            )
            raise InputError(msg)
        if not 0 < self.base_in_person_share <= 1:
            msg = f"base_in_person_share: {self.base_in_person_share} must lie in (0, 1]."
            raise InputError(msg)
        if self.travel_time_sigma is not None and not self.travel_time_sigma >= 0:
            msg = f"travel_time_sigma: {self.travel_time_sigma} must be >= 0 (0 turns the travel-time error off)."
            raise InputError(msg)
        for name in ("street_radius_m", "centre_radius_m", "reference_radius_m"):
            if not getattr(self, name) > 0:
                msg = f"{name}: {getattr(self, name)} must be > 0 metres."
                raise InputError(msg)
        unknown = set(self.vary) - set(ASSUMPTION_NAMES)
        if unknown:
            msg = f"vary: unknown assumption(s) {sorted(unknown)}. Choose among {list(ASSUMPTION_NAMES)}."
            raise InputError(msg)

    def only(self, *names: str) -> Assumptions:
        """Return the same ranges with only ``names`` varying (for the sensitivity table)."""
        return replace(self, vary=tuple(names))


def check_draws(draws: object) -> int:
    """Return ``draws`` as a positive whole number, or raise a clear error naming ``--draws``.

    Examples
    --------
    >>> check_draws(200)
    200
    >>> check_draws(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: --draws / draws: 0 is not a positive whole number. ...
    """
    ok = isinstance(draws, int) and not isinstance(draws, bool) and draws > 0
    if not ok:
        msg = f"--draws / draws: {draws!r} is not a positive whole number. Give the number of draws, e.g. 200."
        raise InputError(msg)
    return int(draws)  # type: ignore[call-overload]


def check_seed(seed: object) -> int:
    """Return ``seed`` as a non-negative whole number, or raise a clear error naming ``--seed``.

    Examples
    --------
    >>> check_seed(42)
    42
    >>> check_seed(1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: --seed / seed: 1.5 is not a whole number >= 0. ...
    """
    ok = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
    if not ok:
        msg = (
            f"--seed / seed: {seed!r} is not a whole number >= 0. Give an integer such as 2025 "
            "(the same seed gives the same intervals)."
        )
        raise InputError(msg)
    return int(seed)  # type: ignore[call-overload]
