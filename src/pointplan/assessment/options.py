"""Every setting of an assessment in one typed, frozen record: :class:`AssessSettings`.

:func:`pointplan.assess` checks its parameters into an :class:`AssessSettings` and keeps it
on the result (:attr:`Assessment.settings`); :func:`pointplan.reassess` and
:class:`pointplan.Scenario` carry it, unchanged, to a new set of points.

Examples
--------
>>> from pointplan.assessment._demo import tiny_assessment
>>> s = tiny_assessment().settings
>>> s.mode, s.max_minutes, s.engine.method
('bike', 30.0, 'crow_flies_circuity')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from pointplan import settings
from pointplan._errors import InputError
from pointplan._validate import check_number, projected_crs
from pointplan.assessment._engine import TravelEngine
from pointplan.assessment.defaults import (
    AVAILABILITY,
    DEFAULT_COUNTERS,
    E2SFCA_STEPS,
    RULE_KINDS,
    VISITS_PER_COUNTER_PER_DAY,
)

__all__ = ["AssessSettings", "check_engine_mode", "make_settings"]


@dataclass(frozen=True, eq=False)
class AssessSettings:
    """The settings of one assessment, checked: what :func:`pointplan.reassess` carries over.

    Attributes
    ----------
    mode
        Main travel mode.
    max_minutes, max_distance_m
        The standard ("30 minutes or 5 km").
    modes
        Modes of the coverage-by-mode table.
    visits_per_counter
        In-person visits a counter serves a day.
    counters_default
        Counters assumed per kind where ``counters`` is missing.
    availability
        Share of days a kind is open.
    huff_beta_per_min
        Distance decay of the Huff model.
    rule_kinds
        Kinds counted by the "one point per unit" rule.
    max_off_network_share
        Largest share of people allowed off the road network.
    name
        Scenario name.
    engine
        The travel-time engine of ``mode``.
    network
        The road network given to :func:`pointplan.assess` (for the other modes' engines).
    units
        The units assessed.
    demand
        The checked demand (projected or as given; before any figure is added).
    visits
        Visits a day per unit as given (``None``: the city's rate per resident).

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> s = tiny_assessment().settings
    >>> s.params()["max_distance_m"], len(s.demand), list(s.units.index)
    (5000.0, 4, ['00001', '00002'])
    """

    mode: str
    max_minutes: float
    max_distance_m: float
    modes: tuple[str, ...]
    visits_per_counter: float
    counters_default: Mapping[str, int]
    availability: Mapping[str, float]
    huff_beta_per_min: float
    rule_kinds: tuple[str, ...]
    max_off_network_share: float
    name: str = "scenario"
    engine: TravelEngine | None = field(default=None, repr=False)
    network: Any = field(default=None, repr=False)
    units: gpd.GeoDataFrame | None = field(default=None, repr=False)
    demand: gpd.GeoDataFrame | None = field(default=None, repr=False)
    visits: pd.DataFrame | pd.Series | None = field(default=None, repr=False)

    @property
    def od_minutes(self) -> float:
        """Cut-off of the origin-destination pairs: the larger of the standard and the last E2SFCA step.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> tiny_assessment(max_minutes=45).settings.od_minutes
        45.0
        """
        return float(max(self.max_minutes, max(E2SFCA_STEPS)))

    def params(self) -> dict[str, Any]:
        """Return the parameters as stored in :attr:`Assessment.params` (JSON-serialisable).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> tiny_assessment().settings.params()["counters_default"]["kiosk"]
        1
        """
        return {
            "max_minutes": self.max_minutes,
            "max_distance_m": self.max_distance_m,
            "mode": self.mode,
            "modes": list(self.modes),
            "visits_per_counter": self.visits_per_counter,
            "counters_default": dict(self.counters_default),
            "availability": dict(self.availability),
            "huff_beta_per_min": self.huff_beta_per_min,
            "e2sfca_steps": dict(E2SFCA_STEPS),
            "rule_kinds": list(self.rule_kinds),
            "max_off_network_share": self.max_off_network_share,
        }


def check_engine_mode(engine: TravelEngine | None, mode: str | None) -> str:
    """Return the main mode: ``mode``, else the engine's, else the default; refuse a mismatch.

    Raises
    ------
    InputError
        ``mode`` is given and the engine computes times for another mode.

    Examples
    --------
    >>> from pointplan.network import CrowFliesEngine
    >>> check_engine_mode(CrowFliesEngine("walk"), None)
    'walk'
    >>> check_engine_mode(CrowFliesEngine("walk"), "car")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: mode='car' but the engine computes 'walk' times: ...
    """
    engine_mode = getattr(engine, "mode", None) if engine is not None else None
    if mode is not None and engine_mode is not None and str(engine_mode) != mode:
        msg = (
            f"mode={mode!r} but the engine computes {engine_mode!r} times: pass an engine built "
            f"for {mode!r} (e.g. pointplan.network.make_hybrid_engine(..., mode={mode!r})) or leave mode out."
        )
        raise InputError(msg)
    return str(mode or engine_mode or settings.default_mode)


def make_settings(
    *,
    mode: str | None = None,
    engine: TravelEngine | None = None,
    max_minutes: float | None = None,
    max_distance_m: float | None = None,
    modes: Sequence[str] = ("walk", "motorbike"),
    visits_per_counter: float = VISITS_PER_COUNTER_PER_DAY,
    counters_default: Mapping[str, int] | None = None,
    availability: Mapping[str, float] | None = None,
    huff_beta_per_min: float = math.log(2) / 10,
    rule_kinds: Sequence[str] = RULE_KINDS,
    max_off_network_share: float = 0.2,
    name: str = "scenario",
    network: Any = None,
    visits: pd.DataFrame | pd.Series | None = None,
) -> AssessSettings:
    """Check the parameters of :func:`pointplan.assess` and return them as :class:`AssessSettings`.

    The engine, units and demand are filled in by :func:`pointplan.assess` once ready.

    Parameters
    ----------
    mode, engine
        Main travel mode (default: the engine's, else ``settings.default_mode``) and the
        engine; a ``mode`` differing from the engine's is an :class:`InputError`.
    max_minutes, max_distance_m
        The standard (defaults ``settings.standard_minutes`` and ``standard_distance_m``).
    modes
        Modes for the coverage-by-mode table (``walk`` and ``motorbike`` by default).
    visits_per_counter
        In-person visits a counter serves a day (:data:`VISITS_PER_COUNTER_PER_DAY`).
    counters_default
        Counters assumed per kind where ``counters`` is missing (:data:`DEFAULT_COUNTERS`).
    availability
        Share of days a kind is open (:data:`AVAILABILITY`: the mobile truck 0.3).
    huff_beta_per_min
        Distance decay of the Huff model (default: attraction halves every 10 minutes).
    rule_kinds
        Kinds counted by the "one point per unit" rule.
    max_off_network_share
        Largest share of people farther than the engine's ``max_snap_m`` from its network.
    name, network
        Scenario name (reports, :meth:`Assessment.compare`); the road network (other modes).
    visits
        Visits a day per unit (:func:`pointplan.demand.visits_per_day`; ``None``: city rate).

    Examples
    --------
    >>> make_settings(max_minutes=20).max_minutes
    20.0
    >>> make_settings(max_minutes=-1)
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: max_minutes must be > 0, got -1.
    """
    minutes = settings.standard_minutes if max_minutes is None else max_minutes
    dist = settings.standard_distance_m if max_distance_m is None else max_distance_m
    check_number(minutes, "max_minutes", minimum=0, strict=True)
    check_number(dist, "max_distance_m", minimum=0)
    check_number(visits_per_counter, "visits_per_counter", minimum=0, strict=True)
    check_number(huff_beta_per_min, "huff_beta_per_min", minimum=0)
    projected_crs()  # distances are never measured in degrees
    return AssessSettings(
        mode=check_engine_mode(engine, mode),
        max_minutes=float(minutes),
        max_distance_m=float(dist),
        modes=tuple(modes),
        visits_per_counter=float(visits_per_counter),
        counters_default={**DEFAULT_COUNTERS, **(counters_default or {})},
        availability={**AVAILABILITY, **(availability or {})},
        huff_beta_per_min=float(huff_beta_per_min),
        rule_kinds=tuple(rule_kinds),
        max_off_network_share=float(max_off_network_share),
        name=name,
        engine=engine,
        network=network,
        visits=visits,
    )
