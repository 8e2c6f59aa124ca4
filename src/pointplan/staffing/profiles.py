"""When dossiers arrive: hourly and weekly arrival profiles, and service times.

A profile spreads a point's *visits per working day* (the assessment's load) over the
opening hours of the week. :data:`DEFAULT_HOURLY` and :data:`DEFAULT_WEEKLY` describe an
ordinary Vietnamese one-stop office (8:00–12:00 and 13:00–17:00, Monday to Friday) with a
morning peak and a Monday peak. **They are assumptions**: no hourly or weekday dossier counts
are published for Hanoi's points. Replace them with :func:`profile_from_records` when your
dossier records carry timestamps.

Service time: :data:`DEFAULT_SERVICE_MINUTES` (15 minutes per dossier received and checked,
the same assumption as the assessment's 32 visits a counter a day) is overridable, and can be
given per procedure group (:func:`mean_service_minutes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pointplan._errors import InputError, MissingColumnError

__all__ = [
    "DAY_NAMES",
    "DEFAULT_HOURLY",
    "DEFAULT_SERVICE_MINUTES",
    "DEFAULT_WEEKLY",
    "ArrivalProfile",
    "default_profile",
    "group_shares_from_records",
    "mean_service_minutes",
    "profile_from_records",
]

#: Minutes an official spends on one in-person dossier (receive, check, digitise): 60/4,
#: consistent with :data:`pointplan.access.VISITS_PER_COUNTER_PER_DAY` (8 hours × 4). An
#: assumption, to replace with measured figures.
DEFAULT_SERVICE_MINUTES: float = 15.0

#: Share of a day's in-person arrivals in each opening hour (hour it starts, 0–23). Morning
#: peak at 9:00; 58 % of the day before noon; lunch break 12:00–13:00. Assumed.
DEFAULT_HOURLY: dict[int, float] = {
    8: 0.14,
    9: 0.18,
    10: 0.16,
    11: 0.10,
    13: 0.10,
    14: 0.13,
    15: 0.11,
    16: 0.08,
}

#: Share of a week's in-person arrivals on each working day: Monday peak. Assumed.
DEFAULT_WEEKLY: dict[str, float] = {"Mon": 0.24, "Tue": 0.20, "Wed": 0.19, "Thu": 0.19, "Fri": 0.18}

#: Day names in the order of :meth:`pandas.Timestamp.dayofweek` (0 = Monday).
DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_TOL = 1e-6


def _shares(values: Mapping[Any, float], what: str) -> pd.Series:
    s = pd.Series(dict(values), dtype=float)
    if len(s) == 0:
        msg = f"{what} is empty: give at least one share."
        raise InputError(msg)
    if not np.isfinite(s.to_numpy()).all() or (s < 0).any():
        msg = f"{what} has shares that are negative or not numbers: {s[~(s >= 0)].to_dict()}."
        raise InputError(msg)
    total = float(s.sum())
    if abs(total - 1.0) > _TOL:
        msg = (
            f"{what} sums to {total:.6g}, not 1. Give shares that add up to one "
            "(divide each by their total), or build the profile with profile_from_records()."
        )
        raise InputError(msg)
    return s


@dataclass(frozen=True)
class ArrivalProfile:
    """How a working day's in-person visits spread over the hours of the week.

    Parameters
    ----------
    hourly
        Share of a day's arrivals in each opening hour (key: the hour it starts, 0–23).
    weekly
        Share of a week's arrivals on each opening day (key: ``"Mon"`` … ``"Sun"``).
    source
        Where the shares come from (``"default"`` or ``"records"``).

    Examples
    --------
    >>> from pointplan.staffing import ArrivalProfile
    >>> p = ArrivalProfile({9: 0.5, 10: 0.5}, {"Mon": 0.5, "Tue": 0.5})
    >>> p.peak_factor  # the peak hour has the average hour's arrivals
    1.0
    >>> ArrivalProfile({9: 0.5, 10: 0.6}, {"Mon": 1.0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: hourly profile sums to 1.1, not 1. Give shares that add up to one ...
    """

    hourly: Mapping[int, float]
    weekly: Mapping[str, float]
    source: str = "default"

    def __post_init__(self) -> None:
        h = _shares(self.hourly, "hourly profile")
        w = _shares(self.weekly, "weekly profile")
        bad_h = [k for k in h.index if not (isinstance(k, (int, np.integer)) and 0 <= int(k) <= 23)]
        if bad_h:
            msg = f"hourly profile keys must be whole hours 0–23 (the hour the slot starts), got {bad_h}."
            raise InputError(msg)
        bad_d = [k for k in w.index if k not in DAY_NAMES]
        if bad_d:
            msg = f"weekly profile keys must be day names {list(DAY_NAMES)}, got {bad_d}."
            raise InputError(msg)
        object.__setattr__(self, "hourly", {int(k): float(v) for k, v in sorted(h.items())})
        order = {d: i for i, d in enumerate(DAY_NAMES)}
        object.__setattr__(self, "weekly", {str(k): float(w[k]) for k in sorted(w.index, key=order.__getitem__)})

    @property
    def n_days(self) -> int:
        """Opening days a week."""
        return len(self.weekly)

    def slots(self) -> pd.DataFrame:
        """One row per opening hour of the week: ``day``, ``hour``, ``factor``.

        ``factor`` is the slot's arrivals an hour divided by the visits of an average working
        day: ``n_days × weekly[day] × hourly[hour]``.

        Examples
        --------
        >>> from pointplan.staffing import default_profile
        >>> s = default_profile().slots()
        >>> len(s), round(float(s["factor"].sum()), 6)  # 40 hours; 5 days of visits
        (40, 5.0)
        """
        rows = [(d, h, self.n_days * wd * ph) for d, wd in self.weekly.items() for h, ph in self.hourly.items()]
        return pd.DataFrame(rows, columns=["day", "hour", "factor"])

    @property
    def peak_factor(self) -> float:
        """Arrivals in the peak hour ÷ the average opening hour's arrivals."""
        return float(self.slots()["factor"].max() * len(self.hourly))

    def factors(self) -> npt.NDArray[np.float64]:
        """Return the slot factors as an array (see :meth:`slots`)."""
        return self.slots()["factor"].to_numpy(dtype=float)


def default_profile() -> ArrivalProfile:
    """Return the documented default office profile (morning and Monday peaks; an assumption).

    Examples
    --------
    >>> from pointplan.staffing import default_profile
    >>> p = default_profile()
    >>> p.n_days, round(p.peak_factor, 3)  # Monday 9:00 has 1.728 × the average hour
    (5, 1.728)
    """
    return ArrivalProfile(DEFAULT_HOURLY, DEFAULT_WEEKLY, source="default")


def profile_from_records(records: pd.DataFrame, timestamp_col: str = "received_at") -> ArrivalProfile:
    """Build the arrival profile from dossier records that carry a timestamp.

    Hourly shares are the share of records starting in each hour; weekly shares use the mean
    count per *date* of each weekday (so a period with five Mondays and four Fridays is not
    biased towards Mondays).

    Parameters
    ----------
    records
        One row per in-person dossier.
    timestamp_col
        Column with the reception date and time (anything :func:`pandas.to_datetime` reads).

    Returns
    -------
    ArrivalProfile
        With ``source="records"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pointplan.staffing import profile_from_records
    >>> r = pd.DataFrame({"received_at": ["2025-09-01 08:10", "2025-09-01 09:20", "2025-09-02 09:05",
    ...                                   "2025-09-08 08:30"]})
    >>> p = profile_from_records(r)
    >>> p.hourly, p.weekly
    ({8: 0.5, 9: 0.5}, {'Mon': 0.6, 'Tue': 0.4})
    """
    if timestamp_col not in records.columns:
        msg = (
            f"records lack the timestamp column {timestamp_col!r}; they have {list(records.columns)}. "
            "Name the column with timestamp_col=..."
        )
        raise MissingColumnError(msg)
    ts = pd.to_datetime(records[timestamp_col], errors="coerce")
    if ts.notna().sum() == 0:
        msg = f"records[{timestamp_col!r}] has no readable date and time (e.g. '2025-09-01 08:10')."
        raise InputError(msg)
    ts = ts.dropna()
    hourly = ts.dt.hour.value_counts(normalize=True).sort_index()
    per_date = ts.dt.normalize().value_counts()
    by_day = per_date.groupby(per_date.index.day_of_week).mean()
    weekly = by_day / by_day.sum()
    return ArrivalProfile(
        {int(h): float(v) for h, v in hourly.items()},
        {DAY_NAMES[int(d)]: float(v) for d, v in weekly.items()},
        source="records",
    )


def group_shares_from_records(records: pd.DataFrame, group_col: str = "procedure_group") -> dict[str, float]:
    """Share of dossiers in each procedure group, from the user's records.

    Examples
    --------
    >>> import pandas as pd
    >>> from pointplan.staffing import group_shares_from_records
    >>> group_shares_from_records(pd.DataFrame({"procedure_group": ["ho_tich", "ho_tich", "dat_dai", "ho_tich"]}))
    {'dat_dai': 0.25, 'ho_tich': 0.75}
    """
    if group_col not in records.columns:
        msg = f"records lack the column {group_col!r}; they have {list(records.columns)}."
        raise MissingColumnError(msg)
    s = records[group_col].dropna().astype(str).value_counts(normalize=True).sort_index()
    return {str(k): float(v) for k, v in s.items()}


def mean_service_minutes(
    service_minutes: float | Mapping[str, float] = DEFAULT_SERVICE_MINUTES,
    group_shares: Mapping[str, float] | None = None,
) -> float:
    """Mean service time per dossier, minutes, possibly mixed over procedure groups.

    Parameters
    ----------
    service_minutes
        One figure for every dossier, or minutes by procedure group.
    group_shares
        Share of dossiers in each group (needed with minutes by group; must sum to one).

    Returns
    -------
    float
        The mean (M/M/c uses only the mean; with exponential times it is conservative
        for more regular services).

    Examples
    --------
    >>> from pointplan.staffing import mean_service_minutes
    >>> mean_service_minutes(12.0)
    12.0
    >>> mean_service_minutes({"ho_tich": 10.0, "dat_dai": 30.0}, {"ho_tich": 0.75, "dat_dai": 0.25})
    15.0
    """
    if isinstance(service_minutes, Mapping):
        if group_shares is None:
            msg = "service_minutes is given by procedure group: also give group_shares (share of dossiers by group)."
            raise InputError(msg)
        shares = _shares(group_shares, "group_shares")
        missing = sorted(set(shares.index) - set(service_minutes))
        if missing:
            msg = f"service_minutes has no figure for procedure group(s) {missing}; add them."
            raise InputError(msg)
        minutes = pd.Series({k: float(service_minutes[k]) for k in shares.index})
        if not (minutes > 0).all():
            msg = f"service_minutes must be > 0 for every group, got {minutes[~(minutes > 0)].to_dict()}."
            raise InputError(msg)
        return float((minutes * shares).sum())
    value = float(service_minutes)
    if not value > 0 or not np.isfinite(value):
        msg = f"service_minutes must be > 0 (minutes per dossier), got {service_minutes!r}."
        raise InputError(msg)
    return value
