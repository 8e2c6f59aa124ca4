"""Interactive maps (folium/Leaflet) of units, service points, access and proposals.

The package is laid out by concern:

- :mod:`~pointplan.maps.labels` — labels and translations (Vietnamese first), number
  formats, metric styles, the attribution of each data source;
- :mod:`~pointplan.maps.units`, :mod:`~pointplan.maps.markers`, :mod:`~pointplan.maps.areas`,
  :mod:`~pointplan.maps.context` — the layers: unit choropleths, service points and
  proposals, service areas and uncovered people, and the offline context (main roads,
  unit outlines with names); :mod:`~pointplan.maps.transit` — bus stops by frequency;
  :mod:`~pointplan.maps.waits` — points by their wait at the peak;
- :mod:`~pointplan.maps.compose` — whole maps (:func:`units_map`, :func:`assessment_map`);
- :mod:`~pointplan.maps.package` — saving: :func:`save_map` writes one self-contained file
  (Leaflet inlined, no internet needed) unless ``cdn=True``;
- :mod:`~pointplan.maps.elements` and ``templates/`` — the folium elements and the CSS, JS
  and HTML templates they put into the page.

Examples
--------
>>> import pointplan
>>> from pointplan import maps
>>> a = pointplan.assess(pointplan.load_points())                  # doctest: +SKIP
>>> maps.save_map(maps.assessment_map(a), "out/map.html")          # doctest: +SKIP

The same on the synthetic two-unit city, quickly:

>>> import pathlib, tempfile
>>> from pointplan.assessment._demo import tiny_assessment
>>> path = maps.save_map(maps.assessment_map(tiny_assessment()), pathlib.Path(tempfile.mkdtemp()) / "map.html")
>>> path.name, path.stat().st_size > 10_000
('map.html', True)

"""

from __future__ import annotations

from pointplan.maps.areas import service_areas_layer, uncovered_layer
from pointplan.maps.compose import assessment_map, units_map
from pointplan.maps.context import load_roads, roads_layer, unit_names_layer
from pointplan.maps.labels import ATTRIBUTION, LABELS, METRICS, SOURCES, MetricStyle, attributions
from pointplan.maps.markers import points_layer, proposals_layer
from pointplan.maps.package import save_map
from pointplan.maps.transit import bus_stops_layer
from pointplan.maps.units import simplify_coverage, units_layer
from pointplan.maps.waits import wait_layer, wait_points_layer

__all__ = [
    "ATTRIBUTION",
    "LABELS",
    "METRICS",
    "SOURCES",
    "MetricStyle",
    "assessment_map",
    "attributions",
    "bus_stops_layer",
    "load_roads",
    "points_layer",
    "proposals_layer",
    "roads_layer",
    "save_map",
    "service_areas_layer",
    "simplify_coverage",
    "uncovered_layer",
    "unit_names_layer",
    "units_layer",
    "units_map",
    "wait_layer",
    "wait_points_layer",
]
