""":func:`reassess`: the one way to assess a new set of points with an assessment's settings.

Proposals, the uncertainty draws, staffing and every what-if go through it, so the mode,
engine, standard, demand, visits, counters, availability, Huff β and rule kinds of the
first assessment hold from start to finish.

Examples
--------
>>> from pointplan.assessment._demo import tiny_assessment
>>> a = tiny_assessment()
>>> b = reassess(a, a.points)
>>> b.summary["population_within_standard_share"] == a.summary["population_within_standard_share"]
True
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import geopandas as gpd

from pointplan._errors import InputError
from pointplan.assessment.core import EngineTravel, assessment_figures, prepare_inputs
from pointplan.assessment.coverage import engine_for_mode
from pointplan.assessment.options import AssessSettings, make_settings
from pointplan.assessment.result import Assessment

__all__ = ["DERIVED_POINT_COLUMNS", "reassess", "settings_with"]

#: Columns :func:`pointplan.assess` adds to the points; dropped before a re-assessment.
DERIVED_POINT_COLUMNS: tuple[str, ...] = (
    "counters_used",
    "counters_assumed",
    "visits_per_day",
    "visits_per_day_huff",
    "population_served",
    "capacity_per_day",
    "utilisation",
    "utilisation_huff",
    "load_status",
    "travel_time_method",
)

#: Settings a re-assessment may change (the rest, the engine's inputs, stay).
CHANGEABLE: tuple[str, ...] = (
    "name",
    "mode",
    "max_minutes",
    "max_distance_m",
    "modes",
    "visits_per_counter",
    "counters_default",
    "availability",
    "huff_beta_per_min",
    "rule_kinds",
    "visits",
)


def settings_with(s: AssessSettings, **changes: Any) -> AssessSettings:
    """Return ``s`` with some settings changed, checked as :func:`pointplan.assess` checks them.

    A new ``mode`` gets an engine of the same kind for that mode (the same network, or
    the fallback).

    Raises
    ------
    InputError
        An unknown setting, or a value :func:`pointplan.assess` would refuse.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> s = settings_with(tiny_assessment().settings, max_minutes=20, mode="walk")
    >>> s.max_minutes, s.mode, s.engine.mode
    (20.0, 'walk', 'walk')
    >>> settings_with(s, speed=3)
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: reassess() cannot change 'speed'; it can change ...
    """
    unknown = [k for k in changes if k not in CHANGEABLE]
    if unknown:
        msg = f"reassess() cannot change {unknown[0]!r}; it can change {list(CHANGEABLE)}."
        raise InputError(msg)
    if not changes:
        return s
    engine = s.engine
    mode = changes.get("mode", s.mode)
    if mode != s.mode and engine is not None:
        from pointplan.network import MODES

        if mode not in MODES:
            msg = f"mode must be one of {list(MODES)}, got {mode!r}."
            raise InputError(msg)
        engine = engine_for_mode(engine, mode, s.network)
    current = {f.name: getattr(s, f.name) for f in fields(s) if f.name in CHANGEABLE}
    checked = make_settings(**{**current, **changes, "mode": mode, "engine": engine, "network": s.network})
    return replace(checked, units=s.units, demand=s.demand)


def reassess(a: Assessment, points: gpd.GeoDataFrame, **changes: Any) -> Assessment:
    """Assess ``points`` with every setting of ``a``: the one re-assessment function.

    Parameters
    ----------
    a
        An assessment made by :func:`pointplan.assess` (it keeps its settings).
    points
        The new set of points (any CRS; the columns :func:`pointplan.read_points` gives).
        The load columns of an assessment's own points are recomputed.
    **changes
        Settings to change on the way (``name``, ``mode``, ``max_minutes``,
        ``max_distance_m``, ``modes``, ``visits_per_counter``, ``counters_default``,
        ``availability``, ``huff_beta_per_min``, ``rule_kinds``, ``visits``).

    Returns
    -------
    Assessment
        Equal to :func:`pointplan.assess` of ``points`` with the same units, demand,
        engine and settings.

    Raises
    ------
    InputError
        ``a`` carries no settings, or a change is not allowed.

    Examples
    --------
    Moving the tiny city's point 2 km east (to the border of the two units) lengthens the
    phường's trips more than it shortens the xã's: 2.5, 2.5, 15 and 52.5 minutes become 12.5,
    7.5, 5 and 42.5 (people 100, 200, 60, 40):

    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> moved = a.points.to_crs(32648).translate(xoff=2000.0)
    >>> b = reassess(a, a.points.set_geometry(moved.to_crs(4326)), name="moved")
    >>> b.name, a.summary["population_within_standard_share"], b.summary["population_within_standard_share"]
    ('moved', 0.9, 0.9)
    >>> round(a.summary["mean_minutes_to_nearest"], 3), round(b.summary["mean_minutes_to_nearest"], 3)
    (9.375, 11.875)
    """
    s = getattr(a, "settings", None)
    if s is None or s.units is None or s.demand is None:
        msg = "this Assessment carries no settings: reassess() needs the result of pointplan.assess()."
        raise InputError(msg)
    s = settings_with(s, **changes)
    if isinstance(points, gpd.GeoDataFrame):
        points = points.drop(columns=[c for c in DERIVED_POINT_COLUMNS if c in points.columns])
    s, pts, dem = prepare_inputs(points, s.units, None, s)
    return assessment_figures(s, pts, dem, EngineTravel(s, dem, pts))
