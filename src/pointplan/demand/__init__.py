"""Population and visit demand: raster cells, dasymetric scaling, dossier volumes.

Coverage and access are weighted by people. This module turns a population raster and
unit polygons into **demand points**, and dossier figures into **in-person visits per day**.

Population demand (:func:`build_demand`)
    The WorldPop 2020 1 km raster (30 arc-second pixels, people per pixel) is read with a
    window on the bounds of the units only, so the all-Vietnam file works in bounded memory
    (row blocks of ``block_rows`` pixels). Every pixel is cut by the unit polygons; each
    *piece* (pixel ∩ unit) becomes one demand point with the pixel's people in proportion
    to the piece's share of the pixel's area (people are assumed evenly spread inside a
    pixel). The raster only gives the pattern inside a unit: each unit's pieces are then
    rescaled (dasymetric mapping) so that they sum to the unit's official population, so
    Hanoi's demand totals 8,807,523 (2025) although WorldPop 2020 counts 8.25 M inside the
    outline. A unit whose pieces hold no raster population (outside the raster, or all
    nodata/zero) gets its population spread by piece area and the flag
    ``"uniform_no_raster"``. ``cell_m=250`` cuts every pixel into sub-cells of at most
    250 m (4 × 4 at Hanoi's latitude) with the same per-unit totals: that is a finer
    *geometry* (points closer to where a unit's share of a pixel lies), not finer data —
    no population grid finer than 1 km is available offline. ``method="uniform"`` is the
    fallback without any raster: a grid of about ``points_per_unit`` cells per unit,
    people spread by area (flag ``"uniform_fallback"``).

Visit demand (:func:`visits_per_day`, :func:`demand_visits`)
    Commune-level dossiers per day spread over units by population (the default, from the
    city-wide figures below), or the user's own per-unit counts; times the in-person share.

Old addresses (:func:`convert_old_units`, :func:`aggregate_dossiers`)
    Dossier records often carry pre-2025 ward names or codes. They are converted to the 2025
    unit codes with the old→new mapping (``hanoi/old_to_new_units.csv``, from the
    ``vietnamadminunits`` 1.0.4 tables). The package itself is not called: for split wards
    its ``convert_address`` geocodes online (arcgis), which pointplan never does unasked.

How the package is laid out
---------------------------
========================================  ===============================================
:mod:`pointplan.demand.population`        :func:`build_demand`, :func:`demand_for_units`
:mod:`pointplan.demand.raster`            windowed raster reads, pixel areas,
                                          :func:`iter_raster_cells`
:mod:`pointplan.demand._pieces`           cutting pixels (and sub-cells) by the units
:mod:`pointplan.demand.visits`            :func:`visits_per_day`, :func:`demand_visits`
:mod:`pointplan.demand.addresses`         :func:`convert_old_units`,
                                          :func:`aggregate_dossiers`
========================================  ===============================================

Every name is importable from :mod:`pointplan.demand` as before the split.

Sources of the default figures
------------------------------
Lao Động (Sep 2025), restated in ``planning_context.md``: at commune level, 1 Jul – 23 Sep
2025, **531,269 dossiers** ("about 177,000 a month, over 8,000 a day"); **40.05 %** filed in
person, 59.71 % online, 0.24 % by post.

*Working days, not calendar days.* Counters receive on working days, so demand per day is
per working day. The article's "over 8,000 a day" is 531,269 / 3 months ≈ 177,000 a month
over ≈ 22 working days a month (≈ 8,050). :data:`DEFAULT_DOSSIERS_PER_DAY` keeps the
published 8,000. The strict count for the period is higher: 1 Jul – 23 Sep 2025 has 85
calendar days, 61 weekdays and **59 working days** (less the National Day holiday of 1–2
Sep), i.e. 531,269 / 59 ≈ 9,005 a working day (6,250 a calendar day). Pass
``dossiers_per_day=SOURCE_DOSSIERS / SOURCE_WORKING_DAYS`` for that upper reading.

Examples
--------
>>> from pointplan.demand import DEFAULT_DOSSIERS_PER_DAY, IN_PERSON_SHARE
>>> round(DEFAULT_DOSSIERS_PER_DAY * IN_PERSON_SHARE)  # in-person visits a working day
3204
"""

from __future__ import annotations

from pointplan.demand.addresses import ConversionResult, aggregate_dossiers, convert_old_units
from pointplan.demand.population import (
    DEFAULT_CELL_M,
    DEFAULT_FINE_PER_KM2,
    FLAG_FALLBACK,
    FLAG_NO_RASTER,
    build_demand,
    demand_for_units,
)
from pointplan.demand.raster import iter_raster_cells
from pointplan.demand.visits import (
    DEFAULT_DOSSIERS_PER_DAY,
    IN_PERSON_SHARE,
    SOURCE_CALENDAR_DAYS,
    SOURCE_DOSSIERS,
    SOURCE_WORKING_DAYS,
    demand_visits,
    visits_per_day,
)

__all__ = [
    "DEFAULT_CELL_M",
    "DEFAULT_DOSSIERS_PER_DAY",
    "DEFAULT_FINE_PER_KM2",
    "FLAG_FALLBACK",
    "FLAG_NO_RASTER",
    "IN_PERSON_SHARE",
    "SOURCE_CALENDAR_DAYS",
    "SOURCE_DOSSIERS",
    "SOURCE_WORKING_DAYS",
    "ConversionResult",
    "aggregate_dossiers",
    "build_demand",
    "convert_old_units",
    "demand_for_units",
    "demand_visits",
    "iter_raster_cells",
    "visits_per_day",
]
