"""The folium elements pointplan's maps are built of, and the page templates they use.

The CSS, the JavaScript helpers and the small Jinja templates of these elements are package
files in ``pointplan/maps/templates/`` (read with :mod:`importlib.resources`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from pointplan._errors import InputError
from pointplan.maps._html import esc, script_json

_NOT_ON_MAP = "Add the pointplan layer to a folium.Map before rendering or saving it."


@cache
def template_text(name: str) -> str:
    """Return the text of a template file shipped in ``pointplan/maps/templates``.

    Examples
    --------
    >>> "window.pointplan" in template_text("pointplan.js")
    True

    """
    return resources.files("pointplan.maps").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def _jinja(name: str) -> Template:
    """Return a template file compiled once (a jinja2 Template renders any number of times)."""
    return Template(template_text(name))


@cache
def _assets_element_text() -> str:
    return _jinja("assets.html").render(css=template_text("pointplan.css"), js=template_text("pointplan.js"))


def find_map(element: Element) -> folium.Map:
    """Return the folium map an element has been added to.

    Raises
    ------
    InputError
        When the element is not (yet) part of a map.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> group = folium.FeatureGroup().add_to(m)
    >>> find_map(group) is m
    True

    """
    node: Element | None = element
    while node is not None:
        if isinstance(node, folium.Map):
            return node
        node = getattr(node, "_parent", None)
    raise InputError(_NOT_ON_MAP)


class Assets(MacroElement):
    """Adds pointplan's CSS and JS helpers to the page header (once per page).

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> _ = Assets().add_to(m)
    >>> "window.pointplan" in m.get_root().render()
    True

    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Put the assets into the page header, then render the element."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise InputError(_NOT_ON_MAP)
        if "pointplan_assets" not in figure.header._children:  # once per page, however many layers
            figure.header.add_child(_AssetsText(), name="pointplan_assets")
        super().render(**kwargs)


class _AssetsText(Element):
    """The page header's ``<style>`` and ``<script>`` of pointplan (plain text, not a template)."""

    def render(self, **kwargs: Any) -> str:
        """Return the assets' HTML."""
        return _assets_element_text()


class GeoLayer(Assets):
    """A GeoJSON layer drawn by pointplan's helper, added to its parent FeatureGroup.

    Parameters
    ----------
    data
        A FeatureCollection in EPSG:4326. Feature properties the helper reads: ``_t``
        (tooltip HTML), ``_p`` (popup HTML), ``_s`` (style), ``_i`` (icon key), ``_id``
        (marker id, as ``data-pid``), ``_l``/``_z`` (a text label shown from zoom ``_z``)
        and ``c`` (a class for ``byClass`` styles).
    config
        ``pane``/``z`` (a map pane and its z-index), ``style``, ``hover``, ``byClass``,
        ``icons``, ``share`` (a key to share shapes between layers), ``labels``.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> group = folium.FeatureGroup(name="x").add_to(m)
    >>> layer = GeoLayer({"type": "FeatureCollection", "features": []}, {"pane": "p", "z": 401})
    >>> _ = layer.add_to(group)
    >>> "pointplan.layer(" in m.get_root().render()
    True

    """

    def __init__(self, data: dict[str, Any], config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "PointplanLayer"
        self._template = _jinja("layer.html")
        #: The FeatureCollection (EPSG:4326) as embedded in the page; for inspection.
        self.data = data
        self.config = config
        self.map_name = ""
        self.data_json = ""
        self.config_json = ""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Encode the data and render the layer's script."""
        self.map_name = find_map(self).get_name()
        self.data_json = script_json(self.data)
        self.config_json = script_json(self.config)
        super().render(**kwargs)


class Legend(Assets):
    """A Leaflet control holding ready-made (escaped) HTML.

    Parameters
    ----------
    html_text
        The control's HTML; data text in it must already be escaped.
    position
        ``"topleft"``, ``"topright"``, ``"bottomleft"`` or ``"bottomright"``.
    cls
        Extra CSS class of the control.
    follow
        Show the control only while its parent FeatureGroup is on the map.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> _ = Legend("<b>Chú giải</b>", "bottomleft").add_to(m)
    >>> "Chú giải" in m.get_root().render()
    True

    """

    def __init__(self, html_text: str, position: str, cls: str = "", follow: bool = False) -> None:
        super().__init__()
        self._name = "PointplanLegend"
        self._template = _jinja("legend.html")
        #: The legend's HTML (escaped where it carries data); for inspection.
        self.html = html_text
        self.position = position
        self.cls = cls
        self.follow = follow
        self.map_name = ""
        self.group_name = "null"
        self.html_json = self.position_json = self.cls_json = ""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Encode the HTML and render the control's script."""
        self.map_name = find_map(self).get_name()
        parent = self._parent
        follow = self.follow and isinstance(parent, folium.FeatureGroup)
        self.group_name = parent.get_name() if follow and parent is not None else "null"
        self.html_json = script_json(self.html)
        self.position_json = script_json(self.position)
        self.cls_json = script_json(self.cls)
        super().render(**kwargs)


class Attribution(Assets):
    """Adds data attributions (plain text, escaped here) to the map's attribution control.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> _ = Attribution(["© OpenStreetMap contributors (ODbL)"]).add_to(m)
    >>> "OpenStreetMap contributors (ODbL)" in m.get_root().render()
    True

    """

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self._name = "PointplanAttribution"
        self._template = _jinja("attribution.html")
        #: The attribution lines (plain text).
        self.texts = list(texts)
        self.texts_json = script_json([esc(t) for t in self.texts])


_GROUP_CONTROL_TEMPLATE = Template(
    "{% macro script(this, kwargs) %}"
    "pointplan.groupControl({{ this.control.get_name() }}, {{ this.sections_json }}, {{ this.titles_json }});"
    "{% endmacro %}"
)


class GroupedLayerControl(Assets):
    """Groups the entries of a map's layer control under headings: metrics, points, context.

    The metric layers are the control's base layers (radio buttons: one at a time); the
    overlays are sorted by section (``points`` first, then ``context``), each under its
    heading. Add it to the map after the :class:`folium.LayerControl`.

    Parameters
    ----------
    control
        The map's layer control.
    sections
        Overlay name -> section (``"points"`` or ``"context"``; names not listed are context).
    titles
        Section -> heading text (``"metrics"``, ``"points"``, ``"context"``), plain text.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> ctl = folium.LayerControl().add_to(m)
    >>> _ = GroupedLayerControl(ctl, {"A": "points"}, {"points": "Điểm"}).add_to(m)
    >>> "pointplan.groupControl(" in m.get_root().render()
    True

    """

    def __init__(self, control: folium.LayerControl, sections: dict[str, str], titles: dict[str, str]) -> None:
        super().__init__()
        self._name = "PointplanGroupedLayerControl"
        self._template = _GROUP_CONTROL_TEMPLATE
        self.control = control
        #: Overlay name -> section, and section -> heading.
        self.sections = dict(sections)
        self.titles = dict(titles)
        self.sections_json = script_json(self.sections)
        self.titles_json = script_json(self.titles)
