"""Point layers: service points by kind (inline-SVG markers) and ranked proposals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from pointplan import settings
from pointplan._errors import InputError
from pointplan.maps._html import (
    as_list,
    check_frame,
    esc,
    esc_many,
    features,
    get,
    is_missing,
    table_html,
    table_html_many,
    text_column,
)
from pointplan.maps.elements import GeoLayer, Legend
from pointplan.maps.labels import LABELS, fmt_value, fmt_values, labels
from pointplan.points import STAND_IN_PRECISIONS

__all__ = ["CLUSTER_MIN_POINTS", "points_layer", "proposals_layer"]

#: Above this many points, a layer of one kind draws them in clusters (numbered circles that
#: open when zoomed in): a browser stays quick with 200,000 kiosks.
CLUSTER_MIN_POINTS = 2000
#: Points closer than this many pixels are drawn as one cluster, up to zoom CLUSTER_MAX_ZOOM.
CLUSTER_PX = 60
CLUSTER_MAX_ZOOM = 17
#: Order of the point layers (and of the legend rows).
KIND_ORDER = ("head_office", "branch", "unit_point", "community", "mobile", "kiosk", "proposed")
PROPOSED_COLOUR = "#ffd700"
# Marker shapes (inline SVG in a 20x20 box): colour, SVG element (without fill/stroke), px.
SHAPES: dict[str, tuple[str, str, int]] = {
    "unit_point": ("#252525", '<circle cx="10" cy="10" r="6.5"', 15),
    "branch": ("#6a3d9a", '<rect x="3.5" y="3.5" width="13" height="13"', 18),
    "community": ("#1a7837", '<path d="M10 2.5 L18 17 L2 17 Z"', 19),
    "mobile": ("#e66101", '<path d="M10 1.5 L18.5 10 L10 18.5 L1.5 10 Z"', 19),
    "kiosk": ("#c51b7d", '<path d="M10 2 L18 8 L15 18 L5 18 L2 8 Z"', 18),
    "head_office": (
        "#b2182b",
        '<path d="M10 1.5 L12.4 7.2 L18.5 7.6 L13.8 11.6 L15.3 17.6 L10 14.3 L4.7 17.6 L6.2 11.6 L1.5 7.6 L7.6 7.2 Z"',
        22,
    ),
    "other": ("#4d4d4d", '<path d="M4 4 L16 16 M16 4 L4 16" stroke-linecap="round"', 15),
}


def kind_key(kind: str) -> str:
    """Return the marker shape of a point kind (``"other"`` for a kind pointplan does not know).

    Examples
    --------
    >>> kind_key("branch"), kind_key("ferry")
    ('branch', 'other')

    """
    return kind if kind in SHAPES or kind == "proposed" else "other"


def marker_svg(kind: str, *, standin: bool, label: str = "") -> tuple[str, int]:
    """SVG markup and pixel size of a marker (no data text inside but a rank number).

    Examples
    --------
    >>> svg, size = marker_svg("branch", standin=True)
    >>> size, 'fill="#ffffff"' in svg
    (18, True)

    """
    if kind == "proposed":
        size = 24
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            'viewBox="0 0 24 24"><circle cx="12" cy="12" r="10.5" '
            f'fill="{PROPOSED_COLOUR}" stroke="#222" stroke-width="1.8"/>'
            '<text x="12" y="16.2" text-anchor="middle" font-size="11.5" font-weight="bold" '
            f'font-family="DejaVu Sans, Arial, sans-serif" fill="#222">{label}</text></svg>'
        )
        return svg, size
    colour, shape, size = SHAPES.get(kind, SHAPES["other"])
    if kind not in SHAPES:
        paint = f'fill="none" stroke="{colour}" stroke-width="3"'
    elif standin:
        paint = f'fill="#ffffff" fill-opacity="0.55" stroke="{colour}" stroke-width="2.6"'
    else:
        paint = f'fill="{colour}" stroke="#ffffff" stroke-width="1.6"'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 20 20">{shape} {paint}/></svg>'
    )
    return svg, size


def marker_icon(kind: str, *, standin: bool, overloaded: bool = False, label: str = "") -> dict[str, Any]:
    """Leaflet ``DivIcon`` options of a marker (its CSS classes say kind and state).

    Examples
    --------
    >>> marker_icon("kiosk", standin=False, overloaded=True)["className"]
    'pp-marker pp-kind-kiosk pp-overloaded'

    """
    svg, size = marker_svg(kind, standin=standin, label=label)
    cls = f"pp-marker pp-kind-{kind_key(kind)}"
    if standin:
        cls += " pp-standin"
    if overloaded:
        cls += " pp-overloaded"
    half = size // 2
    return {
        "className": cls,
        "html": svg,
        "iconSize": [size, size],
        "iconAnchor": [half, half],
        "popupAnchor": [0, -half],
        "tooltipAnchor": [half, 0],
    }


def unit_names(units: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Map unit code → display name (``full_name``, else ``name``), empty without units.

    Examples
    --------
    >>> unit_names(pd.DataFrame({"name": ["A"]}, index=["00001"]))
    {'00001': 'A'}

    """
    if units is None or len(units) == 0:
        return {}
    col = "full_name" if "full_name" in units else ("name" if "name" in units else None)
    if col is None:
        return {}
    return dict(zip(units.index.astype(str), text_column(units, col), strict=True))


def unit_text(code: object, names: Mapping[str, str]) -> str:
    """``"Name (code)"`` for a unit code, the code alone if its name is unknown.

    Examples
    --------
    >>> unit_text("00001", {"00001": "Phường A"}), unit_text("00009", {}), unit_text(None, {})
    ('Phường A (00001)', '00009', '')

    """
    if is_missing(code) or str(code) == "":
        return ""
    code = str(code)
    return f"{names[code]} ({code})" if code in names else code


def _num(row: pd.Series, col: str, fmt: str, lang: str) -> str:
    value = get(row, col)
    return "" if is_missing(value) else esc(fmt_value(value, fmt, lang))


def points_legend(kinds: Sequence[str], lang: str, *, standin: bool, overloaded: bool) -> str:
    """HTML of the marker legend: one row per kind, hollow and red-ring rows if used.

    Examples
    --------
    >>> "Ki-ốt" in points_legend(["kiosk"], "vi", standin=False, overloaded=False)
    True

    """
    lab = LABELS[lang]
    rows = [f'<div class="pp-legend-title">{esc(lab["legend.points"])}</div>']
    for kind in kinds:
        svg = marker_svg(kind_key(kind), standin=False, label="1")[0]
        rows.append(f'<div class="pp-row">{svg}{esc(lab.get(f"kind.{kind}", kind))}</div>')
    if standin:
        svg = marker_svg("unit_point", standin=True)[0]
        rows.append(f'<div class="pp-row">{svg}{esc(lab["legend.standin"])}</div>')
    if overloaded:
        svg = marker_svg("unit_point", standin=False)[0]
        rows.append(
            f'<div class="pp-row"><span class="pp-overloaded">{svg}</span>{esc(lab["legend.overloaded"])}</div>'
        )
    return "".join(rows)


def _num_texts(pts: pd.DataFrame, col: str, fmt: str, lang: str) -> list[str]:
    """Return a numeric column formatted for the popups (escaped), ``""`` where missing or absent."""
    if col not in pts:
        return [""] * len(pts)
    texts = fmt_values(pts[col], fmt, lang)
    return esc_many(np.where(pts[col].isna().to_numpy(), "", np.asarray(texts, dtype=object)))


def _label_texts(pts: pd.DataFrame, col: str, prefix: str, lang: str) -> list[str]:
    """Return a coded column as its label (``prefix.code``, else the code), ``""`` where missing."""
    lab = LABELS[lang]
    codes = text_column(pts, col)
    return codes.map(lambda c: lab.get(f"{prefix}.{c}", c) if c else "").tolist()


def _point_popups(
    pts: pd.DataFrame, kind_label: str, standin: np.ndarray, names: Mapping[str, str], lang: str
) -> list[str]:
    """Return the popup of each point (a table of its known fields), built column by column."""
    lab = LABELS[lang]
    prec_txt = _label_texts(pts, "location_precision", "precision", lang)
    units = text_column(pts, "unit_code").map(lambda c: unit_text(c, names))
    rows = [
        (lab["field.kind"], [esc(kind_label)] * len(pts)),
        (lab["field.address"], esc_many(text_column(pts, "address"))),
        (lab["field.unit"], esc_many(units)),
        (lab["field.counters"], _num_texts(pts, "counters", "count", lang)),
        (lab["field.visits_per_day"], _num_texts(pts, "visits_per_day", "number", lang)),
        (lab["field.capacity_per_day"], _num_texts(pts, "capacity_per_day", "number", lang)),
        (lab["field.utilisation"], _num_texts(pts, "utilisation", "share", lang)),
        (lab["field.load_status"], esc_many(_label_texts(pts, "load_status", "load", lang))),
        (lab["field.population_served"], _num_texts(pts, "population_served", "count", lang)),
        (lab["field.precision"], esc_many(prec_txt)),
        (lab["field.notes"], esc_many(text_column(pts, "notes"))),
        (lab["field.source"], esc_many(text_column(pts, "source"))),
    ]
    out = np.asarray(table_html_many([(esc(k), v) for k, v in rows], esc_many(pts["name"])), dtype=object)
    notes = np.asarray(esc_many([lab["standin.note"].format(what=t) for t in prec_txt]), dtype=object)
    return np.where(standin, out + '<div class="pp-note">' + notes + "</div>", out).tolist()


#: Words of the grid-cell markers (a kind of more than ``settings.map_markers_max_points`` points).
_CELL_WORDS = {
    "vi": {"points": "Số điểm", "cell": "ô lưới {m} m", "over": "Điểm quá tải"},
    "en": {"points": "Points", "cell": "grid cell of {m} m", "over": "Points overloaded"},
}


def _cell_group(sub: gpd.GeoDataFrame, kind: str, flags: pd.DataFrame, lang: str) -> folium.FeatureGroup:
    """One kind's layer for very many points: one marker per grid cell (its count, counters and load).

    The cells are those of :func:`pointplan.assessment.catchment.group_points` (at most
    ``settings.map_markers_max_points``), each marker at the cell's representative point.
    """
    from pointplan.assessment.catchment import group_points

    lab, words = LABELS[lang], _CELL_WORDS[lang]
    kind_label = lab.get(f"kind.{kind}", kind)
    proj = sub.geometry.to_crs(settings.projected_crs)
    counters = pd.to_numeric(sub.get("counters", pd.Series(1.0, index=sub.index)), errors="coerce").fillna(0.0)
    g = group_points(np.column_stack([proj.x, proj.y]), counters.to_numpy(dtype=float), settings.map_markers_max_points)
    n = np.bincount(g.of_point, minlength=g.n_groups)
    over = np.bincount(g.of_point, weights=flags["overloaded"].reindex(sub.index).to_numpy(dtype=float))
    visits = pd.to_numeric(sub.get("visits_per_day", pd.Series(np.nan, index=sub.index)), errors="coerce")
    cols = [
        (words["points"], n.astype(float), "count"),
        (lab["field.counters"], g.group_sum(counters.to_numpy(dtype=float)), "count"),
        (lab["field.visits_per_day"], g.group_sum(visits.fillna(0.0).to_numpy(dtype=float)), "number"),
        (words["over"], over, "count"),
    ]
    rows = [(esc(k), esc_many(fmt_values(pd.Series(v), f, lang))) for k, v, f in cols]
    title = f"{kind_label} · {words['cell'].format(m=f'{g.cell_m:,.0f}')}"
    popups = table_html_many(rows, [esc(title)] * g.n_groups)
    tips = [f"<b>{k}</b> × {esc(kind_label)}" for k in n.tolist()]
    props = [
        {"_id": f"cell-{k}", "_i": "00", "_t": t, "_p": p} for k, (t, p) in enumerate(zip(tips, popups, strict=True))
    ]
    config = {"icons": {"00": marker_icon(kind_key(kind), standin=False)}, "cluster": {"px": CLUSTER_PX, "maxZoom": 14}}
    group = folium.FeatureGroup(name=esc(f"{kind_label} ({len(sub)})"))
    GeoLayer(features(sub.geometry.values[g.representative], props), config).add_to(group)
    return group


def _kind_group(
    sub: gpd.GeoDataFrame, kind: str, flags: pd.DataFrame, names: Mapping[str, str], lang: str
) -> folium.FeatureGroup:
    """One kind's layer: markers with tooltip and popup (clustered above :data:`CLUSTER_MIN_POINTS`).

    A kind of more than ``settings.map_markers_max_points`` points: one marker per grid cell.
    """
    if len(sub) > settings.map_markers_max_points:
        return _cell_group(sub, kind, flags, lang)
    lab = LABELS[lang]
    kind_label = lab.get(f"kind.{kind}", kind)
    standin = flags["standin"].reindex(sub.index).to_numpy(dtype=bool)
    over = flags["overloaded"].reindex(sub.index).to_numpy(dtype=bool)
    keys = np.char.add(standin.astype(int).astype(str), over.astype(int).astype(str)).tolist()
    icons = {k: marker_icon(kind_key(kind), standin=k[0] == "1", overloaded=k[1] == "1") for k in dict.fromkeys(keys)}
    ids = (sub["point_id"] if "point_id" in sub else pd.Series(sub.index, index=sub.index)).astype(str).tolist()
    extra = np.where(standin, f" · <i>{esc(lab['standin.short'])}</i>", "")
    tips = ("<b>" + np.asarray(esc_many(sub["name"]), dtype=object) + f"</b><br>{esc(kind_label)}" + extra).tolist()
    popups = _point_popups(sub, kind_label, standin, names, lang)
    props = [{"_id": i, "_i": k, "_t": t, "_p": p} for i, k, t, p in zip(ids, keys, tips, popups, strict=True)]
    config: dict[str, Any] = {"icons": icons}
    if len(sub) > CLUSTER_MIN_POINTS:
        config["cluster"] = {"px": CLUSTER_PX, "maxZoom": CLUSTER_MAX_ZOOM}
    group = folium.FeatureGroup(name=esc(f"{kind_label} ({len(sub)})"))
    GeoLayer(features(sub.geometry.values, props), config).add_to(group)
    return group


def point_flags(points: pd.DataFrame) -> pd.DataFrame:
    """Per point: ``standin`` (located at a stand-in) and ``overloaded`` (by the assessment).

    Examples
    --------
    >>> pts = pd.DataFrame({"location_precision": ["surveyed", "unit_representative_point"]})
    >>> point_flags(pts)["standin"].tolist()
    [False, True]

    """
    precision = text_column(points, "location_precision")
    load = text_column(points, "load_status")
    return pd.DataFrame(
        {"standin": precision.isin(STAND_IN_PRECISIONS), "overloaded": load == "overloaded"}, index=points.index
    )


def points_layer(
    points: gpd.GeoDataFrame,
    *,
    lang: str = "vi",
    units: gpd.GeoDataFrame | None = None,
    legend: bool = True,
) -> list[folium.FeatureGroup]:
    """Draw service points, one layer per kind, with distinct icons and a legend.

    Parameters
    ----------
    points
        Points with at least ``name`` and ``kind`` (see :data:`pointplan.points.POINT_KINDS`);
        ``address``, ``unit_code``, ``counters``, ``location_precision``, ``source`` and
        ``notes`` are shown when present, and so are the assessment's ``visits_per_day``,
        ``capacity_per_day``, ``utilisation``, ``load_status`` and ``population_served``.
    lang
        ``"vi"`` (default) or ``"en"``.
    units
        Units indexed by code, to show unit names next to codes.
    legend
        Add the marker legend (bottom left) to the first group.

    Returns
    -------
    list of folium.FeatureGroup
        One group per kind present, in a fixed order (head office, branches, unit points,
        community, mobile, kiosks, proposed, others). Markers are inline-SVG ``DivIcon`` s
        (no icon font or CDN); a stand-in location (``old_unit_reference``,
        ``unit_representative_point``) is drawn hollow and its popup says so; an
        ``overloaded`` point gets a red ring.

    Raises
    ------
    InputError, MissingColumnError, CRSError, GeometryError
        For an unusable points frame.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"name": ["A", "B"], "kind": ["kiosk", "branch"]},
    ...     geometry=gpd.points_from_xy([105.85, 105.80], [21.03, 21.00]), crs="EPSG:4326")
    >>> [g.layer_name for g in points_layer(pts, lang="en")]
    ['Branch (1)', 'Kiosk (1)']

    """
    labels(lang)
    check_frame(points, "points", types=("Point",), columns=("name", "kind"))
    pts = points.to_crs(settings.geographic_crs)
    if not pts.index.is_unique:
        pts = pts.reset_index(drop=True)
    names = unit_names(units)
    kinds = text_column(pts, "kind")
    flags = point_flags(pts)
    order = [k for k in KIND_ORDER if (kinds == k).any()]
    order += sorted(set(kinds) - set(order))
    groups = [_kind_group(pts[(kinds == kind).to_numpy()], kind, flags, names, lang) for kind in order]
    if legend and groups:
        html = points_legend(
            order, lang, standin=bool(flags["standin"].any()), overloaded=bool(flags["overloaded"].any())
        )
        Legend(html, "bottomleft", "pp-points-legend").add_to(groups[0])
    return groups


def _proposal_frame(proposals: object) -> gpd.GeoDataFrame:
    gdf = getattr(proposals, "points", proposals)
    gdf = check_frame(gdf, "proposals", types=("Point",), columns=("rank",))
    rank = pd.to_numeric(gdf["rank"], errors="coerce")
    if rank.isna().any():
        msg = f"proposals: 'rank' must be a number in every row; rows {list(gdf.index[rank.isna()][:8])} are not."
        raise InputError(msg)
    return gdf


def _proposal_props(row: pd.Series, pid: object, names: Mapping[str, str], lang: str) -> dict[str, Any]:
    lab = LABELS[lang]
    rank = int(row["rank"])
    gain, kind = get(row, "gain_people_covered"), get(row, "kind")
    gain_txt = "" if is_missing(gain) else esc(fmt_value(gain, "count", lang) + " " + lab["unit.people"])
    serves = ", ".join(unit_text(s, names) for s in as_list(get(row, "serves_units")))
    rows = [
        (lab["field.kind"], "" if is_missing(kind) else esc(lab.get(f"kind.{kind}", str(kind)))),
        (lab["field.candidate_id"], esc(get(row, "candidate_id"))),
        (lab["field.unit"], esc(unit_text(get(row, "unit_code"), names))),
        (lab["field.gain_people_covered"], gain_txt),
        (lab["field.gain_person_minutes_saved"], _num(row, "gain_person_minutes_saved", "count", lang)),
        (lab["field.serves_units"], esc(serves)),
        (lab["field.source"], esc(get(row, "source"))),
    ]
    return {
        "_id": str(get(row, "candidate_id") or pid),
        "_i": str(rank),
        "_t": f"<b>#{rank}</b>" + (f" · +{gain_txt}" if gain_txt else ""),
        "_p": table_html([(esc(k), v) for k, v in rows], esc(lab["proposal"].format(rank=rank))),
    }


def proposals_layer(
    proposals: object,
    *,
    lang: str = "vi",
    units: gpd.GeoDataFrame | None = None,
) -> folium.FeatureGroup:
    """Draw proposed points, numbered by rank, each popup with its gain.

    Parameters
    ----------
    proposals
        A ``Proposal`` (its ``.points`` is used) or a GeoDataFrame with ``rank`` and,
        when known, ``candidate_id``, ``kind``, ``unit_code``, ``gain_people_covered``,
        ``gain_person_minutes_saved``, ``serves_units`` and ``source``.
    lang
        ``"vi"`` (default) or ``"en"``.
    units
        Units indexed by code, to show unit names.

    Returns
    -------
    folium.FeatureGroup
        The proposals, ordered by rank.

    Examples
    --------
    >>> prop = gpd.GeoDataFrame({"rank": [2, 1], "gain_people_covered": [10.0, 2500.0]},
    ...     geometry=gpd.points_from_xy([105.85, 105.80], [21.03, 21.00]), crs="EPSG:4326")
    >>> group = proposals_layer(prop, lang="en")
    >>> [f["properties"]["_t"] for f in group._children[next(iter(group._children))].data["features"]]
    ['<b>#1</b> · +2,500 people', '<b>#2</b> · +10 people']

    """
    lab = labels(lang)
    gdf = _proposal_frame(proposals).to_crs(settings.geographic_crs).sort_values("rank", kind="stable")
    names = unit_names(units)
    props = [_proposal_props(row, pid, names, lang) for pid, row in gdf.iterrows()]
    icons = {p["_i"]: marker_icon("proposed", standin=False, label=p["_i"]) for p in props}
    group = folium.FeatureGroup(name=esc(f"{lab['layer.proposals']} ({len(gdf)})"))
    GeoLayer(features(gdf.geometry.values, props), {"icons": icons}).add_to(group)
    return group
