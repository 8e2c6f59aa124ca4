"""The result of an assessment: :class:`Assessment`.

Examples
--------
>>> from pointplan.assessment import Assessment
>>> sorted(Assessment.__dataclass_fields__)[:3]
['coverage', 'demand', 'derived']
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pointplan import settings
from pointplan._errors import InputError
from pointplan.assessment._engine import TravelEngine

if TYPE_CHECKING:
    from pointplan.assessment.options import AssessSettings

__all__ = ["COMPARE_METRICS", "Assessment"]

#: Headline metrics put side by side by :meth:`Assessment.compare`.
COMPARE_METRICS: tuple[str, ...] = (
    "points",
    "population_within_standard",
    "population_within_standard_share",
    "population_within_30_min_share",
    "mean_minutes_to_nearest",
    "p90_minutes_to_nearest",
    "max_minutes_to_nearest",
    "share_beyond_15_min",
    "share_beyond_30_min",
    "share_beyond_45_min",
    "gini_minutes",
    "units_without_point",
    "points_overloaded",
    "mean_utilisation",
)


def _with_discs(areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame, dist_m: float) -> gpd.GeoDataFrame:
    """Union each point's area with its disc of ``dist_m`` (projected CRS)."""
    proj = areas.to_crs(settings.projected_crs)
    discs = points.geometry.to_crs(settings.projected_crs).buffer(dist_m, quad_segs=16).reindex(proj.index).to_numpy()
    geoms = np.asarray(proj.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    merged = np.where(missing, discs, shapely.union(geoms, discs))
    return proj.set_geometry(gpd.GeoSeries(merged, index=proj.index, crs=proj.crs))


@dataclass(frozen=True, eq=False)
class Assessment:
    """Result of :func:`pointplan.assess`: tidy tables and a summary.

    Attributes
    ----------
    units
        One row per unit (EPSG:4326 polygons): points, population, coverage, travel-time
        statistics, own-unit view, visits and load, 2SFCA/E2SFCA, method and precision.
    points
        One row per point: the input columns plus visits a day (nearest and Huff),
        capacity, utilisation, load status and the population it is nearest to.
    demand
        One row per demand point: nearest point, minutes, distances, within the standard,
        own-unit minutes, 2SFCA/E2SFCA (NaN where no point is in the catchment).
    findings
        Rule findings: ``rule``, ``severity`` (``error``/``warning``/``info``),
        ``unit_code``, ``point_id``, ``message`` (Vietnamese) and ``message_en``.
    coverage
        Coverage per unit and travel mode (share of people within the standard).
    equity
        Travel time and coverage by kind of unit (phường vs xã) and city-wide, with Gini.
    summary
        Headline figures (JSON-serialisable).
    mode, travel_time_method
        Main travel mode and how times were computed.
    params
        The parameters used (standard, counters, availability...).
    name
        Scenario name.
    engine
        The travel-time engine used (for service areas and re-assessments).
    uncertainty
        The intervals of :func:`pointplan.uncertainty.run_uncertainty` once computed: set
        with :meth:`with_uncertainty`, which returns a new assessment.
    settings
        Every setting of the assessment (:class:`~pointplan.assessment.options.AssessSettings`),
        carried to another set of points by :func:`pointplan.reassess`.

    The assessment is immutable (a frozen dataclass): what is learnt later comes back as
    a new object.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_city
    >>> import pointplan
    >>> c = tiny_city()
    >>> a = pointplan.assess(c["points"], c["units"], c["demand"], engine=c["engine"], visits=c["visits"], modes=())
    >>> a.summary["population_within_standard_share"], a.units["n_points"].tolist()
    (0.9, [1, 0])
    """

    units: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    findings: pd.DataFrame
    coverage: pd.DataFrame
    equity: pd.DataFrame
    summary: dict[str, Any]
    mode: str
    travel_time_method: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str = "scenario"
    engine: TravelEngine | None = field(default=None, repr=False)
    uncertainty: Any = field(default=None, repr=False)
    settings: AssessSettings | None = field(default=None, repr=False)
    #: Figures derived later from this very assessment and kept so they are computed once
    #: (e.g. ``"bus"``: :func:`pointplan.report.bus_context`; ``"time_to_service"``). Not an
    #: argument: a copy by :func:`dataclasses.replace` starts empty (``with_uncertainty`` keeps it).
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def with_uncertainty(self, uncertainty: Any) -> Assessment:
        """Return a copy of this assessment with its uncertainty intervals.

        Parameters
        ----------
        uncertainty
            The result of :func:`pointplan.uncertainty.run_uncertainty`.

        Returns
        -------
        Assessment
            A new assessment; this one is unchanged.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> a = tiny_assessment()
        >>> b = a.with_uncertainty({"draws": 0})
        >>> b.uncertainty, a.uncertainty, b.units is a.units
        ({'draws': 0}, None, True)
        """
        new = replace(self, uncertainty=uncertainty)
        new.derived.update(self.derived)  # the same points and figures: what was derived holds
        return new

    def service_areas(self, max_minutes: float | None = None, *, include_distance: bool = True) -> gpd.GeoDataFrame:
        """Return the area within the standard around each point (polygons).

        Parameters
        ----------
        max_minutes
            Default: the assessment's ``max_minutes``.
        include_distance
            Add the disc of ``max_distance_m`` (straight line) to the area reachable in
            ``max_minutes``, since the standard is "a 30-minute trip **or** 5 km": then a
            resident is within the standard exactly when they are inside the area.

        Returns
        -------
        geopandas.GeoDataFrame
            One polygon per point, indexed by point id, EPSG:4326, with ``method``;
            ``attrs["max_minutes"]`` and, with the distance, ``attrs["max_distance_m"]``.

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> a = tiny_assessment(max_minutes=10)  # 10 min at 12 km/h: a 2-km disc, inside the 5-km one
        >>> round(float(a.service_areas().to_crs(32648).area.iloc[0]) / 1e6)  # π × 5² km², polygonised
        78
        """
        if self.engine is None:
            msg = "this Assessment has no engine: pass engine=... to pointplan.assess() to draw service areas."
            raise InputError(msg)
        minutes = float(max_minutes or self.params["max_minutes"])
        key = f"service_areas:{minutes}:{bool(include_distance)}"
        if key not in self.derived:  # the same points and engine: computed once
            self.derived[key] = self._service_areas(minutes, include_distance)
        return self.derived[key].copy()

    def _service_areas(self, minutes: float, include_distance: bool) -> gpd.GeoDataFrame:
        assert self.engine is not None
        areas = self.engine.service_areas(self.points, minutes)
        attrs: dict[str, Any] = {"max_minutes": minutes}
        if include_distance and self.params.get("max_distance_m", 0) > 0:
            dist = float(self.params["max_distance_m"])
            areas = _with_discs(areas, self.points, dist)
            attrs["max_distance_m"] = dist
        out = areas.to_crs(settings.geographic_crs)
        out.attrs.update(attrs)
        return out

    def compare(self, other: Assessment) -> pd.DataFrame:
        """Put two scenarios side by side (e.g. before/after adding kiosks).

        Parameters
        ----------
        other
            Another assessment (normally of the same units and demand).

        Returns
        -------
        pandas.DataFrame
            One row per headline metric (:data:`COMPARE_METRICS`); columns: this
            scenario's name, the other's name, ``change`` (other − this).

        Examples
        --------
        >>> from pointplan.assessment._demo import tiny_assessment
        >>> a = tiny_assessment()
        >>> a.compare(a).loc["population_within_standard_share"].tolist()
        [0.9, 0.9, 0.0]
        """
        a_name = self.name
        b_name = other.name if other.name != self.name else f"{other.name} (2)"
        rows = []
        for k in COMPARE_METRICS:
            a, b = self.summary.get(k), other.summary.get(k)
            change = (b - a) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
            rows.append({"metric": k, a_name: a, b_name: b, "change": change})
        return pd.DataFrame(rows).set_index("metric")
