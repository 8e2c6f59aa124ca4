"""Bus layer: stops coloured and sized by how many buses an hour serve them at midday.

The layer is drawn from :func:`pointplan.transit.stop_frequency` (the 2018 World Bank / Arup
network, CC-BY-4.0: a map that draws it credits the source ``"bus"``). Stops are small
circles of four frequency classes (:data:`pointplan.transit.FREQUENCY_CLASSES`); the
rarest ones can be left out with ``min_trips_per_hour`` to keep a page small.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan._errors import InputError
from pointplan.maps._html import check_frame, esc, features
from pointplan.maps.elements import GeoLayer, Legend
from pointplan.maps.labels import fmt_number, labels

__all__ = ["BUS_CLASS_STYLES", "BUS_MAP_MIN_TRIPS_PER_HOUR", "bus_stops_layer"]

#: Stops drawn on the map of ``pointplan run``: those with at least this many buses an hour
#: at midday (0: every stop; raise it if the page grows too large).
BUS_MAP_MIN_TRIPS_PER_HOUR: float = 0.0

#: Circle style of each frequency class (rarest first): colour and radius in pixels.
BUS_CLASS_STYLES: tuple[tuple[str, float], ...] = (
    ("#9ecae1", 2.5),
    ("#4292c6", 3.2),
    ("#08519c", 4.0),
    ("#08306b", 5.0),
)


def _classes(tph: np.ndarray) -> np.ndarray:
    from pointplan.transit import FREQUENCY_CLASSES

    bounds = [c[0] for c in FREQUENCY_CLASSES]
    return np.clip(np.searchsorted(bounds, tph, side="right") - 1, 0, len(bounds) - 1)


def _legend(lang: str, present: set[int]) -> str:
    from pointplan.transit import FREQUENCY_CLASSES

    lab = labels(lang)
    rows = "".join(
        f'<div class="pp-row"><span class="pp-swatch" style="background:{colour};border-radius:50%"></span>'
        f"{esc(FREQUENCY_CLASSES[i][1 if lang == 'vi' else 2])}</div>"
        for i, (colour, _) in enumerate(BUS_CLASS_STYLES)
        if i in present
    )
    return f'<div class="pp-legend-title">{esc(lab["legend.bus_stops"])}</div>{rows}'


def bus_stops_layer(
    stops: gpd.GeoDataFrame,
    *,
    lang: str = "vi",
    min_trips_per_hour: float = 0.0,
    show: bool = False,
) -> folium.FeatureGroup:
    """Draw bus stops as small circles by their buses an hour at midday.

    Parameters
    ----------
    stops
        :func:`pointplan.transit.stop_frequency` output: points with
        ``trips_per_hour_midday`` and ``n_routes``.
    lang
        ``"vi"`` (default) or ``"en"``.
    min_trips_per_hour
        Leave out the stops served by fewer buses an hour at midday (0: draw every stop).
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        The stops (its first child's ``data`` is the embedded FeatureCollection) and a
        legend that follows the layer. Credit the source ``"bus"`` on the map.

    Raises
    ------
    InputError, MissingColumnError
        A negative threshold, or stops without the frequency columns.

    Examples
    --------
    >>> stops = gpd.GeoDataFrame({"trips_per_hour_midday": [2.0, 14.0, 40.0], "n_routes": [1, 3, 9]},
    ...     geometry=gpd.points_from_xy([105.80, 105.81, 105.82], [21.0, 21.0, 21.0]), crs="EPSG:4326")
    >>> g = bus_stops_layer(stops, lang="en", min_trips_per_hour=6)
    >>> g.layer_name
    'Bus stops with 6+ buses an hour (midday, 2018)'
    >>> [f["properties"]["c"] for f in g._children[next(iter(g._children))].data["features"]]
    ['2', '3']
    """
    lab = labels(lang)
    check_frame(stops, "stops", types=("Point",), columns=("trips_per_hour_midday", "n_routes"))
    if not (min_trips_per_hour >= 0):
        msg = f"min_trips_per_hour must be a number ≥ 0, got {min_trips_per_hour!r}."
        raise InputError(msg)
    tph = pd.to_numeric(stops["trips_per_hour_midday"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    keep = tph >= min_trips_per_hour
    shown = stops.loc[keep]
    cls = _classes(tph[keep])
    routes = pd.to_numeric(shown["n_routes"], errors="coerce").fillna(0).astype(int).to_numpy()
    trips, n_routes = esc(lab["field.bus_trips_per_hour"]), esc(lab["field.bus_routes"])
    props = [
        {
            "c": str(c),
            "_t": f"{trips}: {fmt_number(t, 1, lang)} · {n_routes}: {r}",
        }
        for c, t, r in zip(cls, tph[keep], routes, strict=True)
    ]
    data = features(shown.geometry.to_crs(settings.geographic_crs).values, props)
    by_class = {
        str(i): {"color": colour, "fillColor": colour, "radius": radius}
        for i, (colour, radius) in enumerate(BUS_CLASS_STYLES)
    }
    config = {
        "pane": "pp-bus",
        "z": 440,
        "circles": True,
        "style": {"weight": 0.6, "opacity": 0.9, "fillOpacity": 0.8},
        "byClass": by_class,
    }
    key = "layer.bus_stops_min" if min_trips_per_hour > 0 else "layer.bus_stops"
    name = lab[key].format(n=fmt_number(min_trips_per_hour, 0, lang))
    group = folium.FeatureGroup(name=esc(name), show=show)
    GeoLayer(data, config).add_to(group)
    Legend(_legend(lang, set(cls.tolist())), "bottomright", "pp-bus-legend", follow=True).add_to(group)
    return group
