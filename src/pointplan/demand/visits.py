"""In-person visits per working day: dossier volumes spread over units and demand points."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan._errors import InputError
from pointplan.data import load_units
from pointplan.demand._units import _unit_codes

__all__ = [
    "DEFAULT_DOSSIERS_PER_DAY",
    "IN_PERSON_SHARE",
    "SOURCE_CALENDAR_DAYS",
    "SOURCE_DOSSIERS",
    "SOURCE_WORKING_DAYS",
    "demand_visits",
    "visits_per_day",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


#: Commune-level dossiers in Hanoi, 1 Jul – 23 Sep 2025 (Lao Động, Sep 2025).
SOURCE_DOSSIERS: int = 531_269
#: Calendar days of that period (1 Jul – 23 Sep 2025 inclusive).
SOURCE_CALENDAR_DAYS: int = 85
#: Working days of that period: 61 weekdays less the National Day holiday (1–2 Sep 2025).
SOURCE_WORKING_DAYS: int = 59
#: Commune-level dossiers per **working** day, city-wide: the published "over 8,000 a day"
#: (≈ 177,000 a month over ≈ 22 working days). See the module notes for the stricter 9,005.
DEFAULT_DOSSIERS_PER_DAY: float = 8_000.0
#: Share of dossiers filed in person at a counter (40.05 %, Lao Động, Sep 2025).
IN_PERSON_SHARE: float = 0.4005


def visits_per_day(
    units: gpd.GeoDataFrame | pd.DataFrame | None = None,
    *,
    dossiers_per_day: float = DEFAULT_DOSSIERS_PER_DAY,
    in_person_share: float = IN_PERSON_SHARE,
    counts: pd.Series | pd.DataFrame | None = None,
    period_days: float | None = None,
    population_col: str = "population",
) -> pd.DataFrame:
    """Compute the expected in-person visits per working day in each unit.

    By default the city-wide commune-level dossiers per working day
    (:data:`DEFAULT_DOSSIERS_PER_DAY`, 8,000) are spread over the units by population and
    multiplied by the in-person share (:data:`IN_PERSON_SHARE`, 40.05 %): about 3,204
    visits a day in Hanoi. With ``counts``, the user's own dossier counts per unit are used.

    Parameters
    ----------
    units
        Units indexed by code with ``population_col`` (default: Hanoi's 126 units).
    dossiers_per_day
        City-wide dossiers per working day (ignored when ``counts`` is given).
    in_person_share
        Share of dossiers filed in person, between 0 and 1.
    counts
        Per-unit dossiers, indexed by unit code: a Series of counts, or a DataFrame with a
        ``dossiers`` (or ``dossiers_per_day``) column and optionally its own
        ``in_person_share`` per unit. Units absent from ``counts`` get 0 (logged).
        :func:`aggregate_dossiers` makes such a Series from dossier records.
    period_days
        Working days the ``counts`` cover; they are divided by it. ``None``: ``counts`` are
        already per day.
    population_col
        Population column of ``units``.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``population``, ``dossiers_per_day``, ``in_person_share``,
        ``visits_per_day``, ``source`` (``"city_average_by_population"`` or
        ``"user_counts"``).

    Raises
    ------
    InputError
        Negative or non-finite figures, a share outside [0, 1], counts for unknown units.

    Examples
    --------
    Two units of 300 and 100 people; 1,000 dossiers a day city-wide, 40 % in person:

    >>> units = pd.DataFrame({"population": [300, 100]}, index=pd.Index(["00001", "00002"], name="code"))
    >>> v = visits_per_day(units, dossiers_per_day=1000, in_person_share=0.4)
    >>> v[["dossiers_per_day", "visits_per_day"]].to_numpy().tolist()
    [[750.0, 300.0], [250.0, 100.0]]

    The user's own counts over 20 working days (a unit absent from them gets 0):

    >>> counts = pd.Series({"00001": 200.0})
    >>> visits_per_day(units, counts=counts, period_days=20, in_person_share=0.5)["visits_per_day"].tolist()
    [5.0, 0.0]
    """
    if units is None:
        units = load_units()
    codes, pop = _unit_populations(units, population_col)
    _check_share_and_period(in_person_share, period_days)
    share = pd.Series(float(in_person_share), index=codes)
    if counts is None:
        dossiers = _city_dossiers(pop, dossiers_per_day)
        source = "city_average_by_population"
    else:
        given = _counts_series(counts, codes, share)
        dossiers = _user_dossiers(given, codes)
        if period_days is not None:
            dossiers = dossiers / period_days
        source = "user_counts"
    return _visits_frame(codes, pop, dossiers, share, source)


def _check_share_and_period(in_person_share: float, period_days: float | None) -> None:
    """Raise :class:`InputError` for a share outside [0, 1] or a period that is not > 0 days."""
    if not (0.0 <= in_person_share <= 1.0):
        msg = f"in_person_share must be between 0 and 1, got {in_person_share!r}."
        raise InputError(msg)
    if period_days is not None and (not np.isfinite(period_days) or period_days <= 0):
        msg = f"period_days must be a positive number of working days, got {period_days!r}."
        raise InputError(msg)


def _visits_frame(codes: pd.Index, pop: pd.Series, dossiers: pd.Series, share: pd.Series, source: str) -> pd.DataFrame:
    """Return the table of :func:`visits_per_day` (with the city's total in ``attrs``)."""
    out = pd.DataFrame(
        {
            "population": pop,
            "dossiers_per_day": dossiers,
            "in_person_share": share,
            "visits_per_day": dossiers * share,
            "source": source,
        },
        index=codes,
    )
    out.attrs["dossiers_per_day_total"] = float(dossiers.sum())
    return out


def _unit_populations(units: pd.DataFrame, population_col: str) -> tuple[pd.Index, pd.Series]:
    """Return the unit codes and populations (finite, >= 0) of ``units``."""
    if population_col not in units.columns:
        msg = f"units lacks the population column {population_col!r}; pass population_col=..."
        raise InputError(msg)
    codes = _unit_codes(units)
    pop = pd.Series(pd.to_numeric(units[population_col], errors="coerce").to_numpy(dtype=float), index=codes)
    if not np.isfinite(pop).all() or (pop < 0).any():
        msg = f"units: {population_col!r} must hold finite numbers >= 0."
        raise InputError(msg)
    return codes, pop


def _city_dossiers(pop: pd.Series, dossiers_per_day: float) -> pd.Series:
    """Spread the city-wide dossiers per day over the units by population."""
    if not np.isfinite(dossiers_per_day) or dossiers_per_day < 0:
        msg = f"dossiers_per_day must be a number >= 0, got {dossiers_per_day!r}."
        raise InputError(msg)
    total = pop.sum()
    if total <= 0:
        msg = "units have zero total population: cannot spread dossiers by population."
        raise InputError(msg)
    return dossiers_per_day * pop / total


def _counts_series(counts: object, codes: pd.Index, share: pd.Series) -> pd.Series:
    """Return the dossier counts of ``counts``; fill ``share`` from its ``in_person_share`` column."""
    if isinstance(counts, pd.Series):
        return counts
    if not isinstance(counts, pd.DataFrame):
        msg = f"counts must be a pandas Series or DataFrame, got {type(counts).__name__}."
        raise InputError(msg)
    col = next((c for c in ("dossiers", "dossiers_per_day", "count") if c in counts), None)
    if col is None:
        msg = f"counts must have a 'dossiers' (or 'dossiers_per_day') column; it has {list(map(str, counts.columns))}."
        raise InputError(msg)
    if "in_person_share" in counts:
        s = pd.to_numeric(counts["in_person_share"], errors="coerce")
        s.index = s.index.astype(str)
        if s.isna().any() or ((s < 0) | (s > 1)).any():
            msg = "counts['in_person_share'] must be numbers between 0 and 1."
            raise InputError(msg)
        share.loc[s.index.intersection(codes)] = s
    return counts[col]


def _user_dossiers(given: pd.Series, codes: pd.Index) -> pd.Series:
    """Check the user's counts (numbers >= 0, known unit codes); reindex them on ``codes``."""
    given = pd.to_numeric(given, errors="coerce")
    if pd.api.types.is_integer_dtype(given.index) and codes.str.fullmatch(r"\d{5}").all():
        given.index = given.index.map(lambda v: f"{int(v):05d}")  # 4 -> "00004"
    given.index = given.index.astype(str)
    if given.index.has_duplicates:
        given = given.groupby(level=0).sum()
    if given.isna().any() or (given < 0).any() or not np.isfinite(given).all():
        msg = "counts must be finite numbers >= 0 (no NaN)."
        raise InputError(msg)
    unknown = given.index.difference(codes)
    if len(unknown):
        msg = (
            f"counts name {len(unknown)} unit code(s) not among the units: "
            f"{list(unknown[:8])}. Convert old ward codes first (convert_old_units)."
        )
        raise InputError(msg)
    missing = codes.difference(given.index)
    if len(missing):
        logger.warning("%d unit(s) have no dossier counts; set to 0: %s", len(missing), list(missing[:10]))
    return given.reindex(codes, fill_value=0.0).astype(float)


def demand_visits(demand: pd.DataFrame, visits: pd.DataFrame | pd.Series) -> pd.Series:
    """Spread each unit's in-person visits over its demand points by population share.

    Parameters
    ----------
    demand
        Demand points from :func:`build_demand` (``unit_code``, ``population``).
    visits
        :func:`visits_per_day` output (or a Series of visits per day by unit code).

    Returns
    -------
    pandas.Series
        In-person visits per day at each demand point, with ``demand``'s index, named
        ``visits_per_day``. Per unit it sums to the unit's visits (a unit whose points all
        have zero population shares its visits equally among them).

    Raises
    ------
    InputError
        Missing columns; units with visits but no demand point, or demand points of units
        absent from ``visits``.

    Examples
    --------
    Unit 00001 has 12 visits a day and two demand points of 100 and 300 people:

    >>> demand = pd.DataFrame({"unit_code": ["00001", "00001"], "population": [100.0, 300.0]})
    >>> demand_visits(demand, pd.Series({"00001": 12.0})).tolist()
    [3.0, 9.0]
    """
    for col in ("unit_code", "population"):
        if col not in demand.columns:
            msg = f"demand lacks the column {col!r}: pass the output of build_demand()."
            raise InputError(msg)
    if isinstance(visits, pd.DataFrame):
        if "visits_per_day" not in visits.columns:
            msg = "visits lacks the column 'visits_per_day': pass visits_per_day(...) output."
            raise InputError(msg)
        v = visits["visits_per_day"]
    else:
        v = visits
    v = pd.to_numeric(v, errors="coerce").astype(float)
    v.index = v.index.astype(str)
    unit = demand["unit_code"].astype(str)
    absent = pd.Index(unit.unique()).difference(v.index)
    if len(absent):
        msg = f"demand has points in units absent from visits: {list(absent[:8])}."
        raise InputError(msg)
    lost = v.index.difference(pd.Index(unit.unique()))
    lost = lost[v.loc[lost].to_numpy() > 0]
    if len(lost):
        msg = f"visits for units {list(lost[:8])} have no demand point to go to; build demand for the same units."
        raise InputError(msg)
    pop = demand["population"].to_numpy(dtype=float)
    codes, inv = np.unique(unit.to_numpy(), return_inverse=True)
    pop_sum = np.bincount(inv, pop)
    n = np.bincount(inv)
    share = np.where(pop_sum[inv] > 0, pop / np.where(pop_sum[inv] > 0, pop_sum[inv], 1.0), 1.0 / n[inv])
    out = v.reindex(codes).to_numpy()[inv] * share
    return pd.Series(out, index=demand.index, name="visits_per_day")
