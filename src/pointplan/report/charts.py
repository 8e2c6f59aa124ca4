"""The report's charts and its static overview map, as PNG files or PNG bytes.

Every chart is drawn by a small function returning a matplotlib figure; :func:`chart_images`
renders them to PNG bytes (embedded in ``report.html`` and ``report.docx``) and
:func:`charts` writes them as ``chart_*.png`` files beside ``report.md``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pointplan._results import cached, digest, frame_digest
from pointplan.io import atomic_path
from pointplan.report.labels import text

__all__ = ["CHART_FILES", "chart_images", "charts", "overview_map"]

#: Chart name -> file name written by :func:`charts` (``proposal_gains`` only with proposals).
CHART_FILES: dict[str, str] = {
    "overview": "chart_overview.png",
    "minutes_cdf": "chart_minutes_cdf.png",
    "p90_units": "chart_p90_units.png",
    "utilisation": "chart_utilisation.png",
    "proposal_gains": "chart_proposal_gains.png",
}

_DPI = 150


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, dpi=_DPI, bbox_inches="tight", format="png", metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def _minutes_cdf(assessment: Any, lang: str) -> Any:
    fig, ax = _plt().subplots(figsize=(7, 4))
    d = assessment.demand
    kinds = d["unit_code"].map(assessment.units["kind"])
    for label, sel in (
        (text("city", lang), np.ones(len(d), bool)),
        (text("phuong", lang), (kinds == "phuong").to_numpy()),
        (text("xa", lang), (kinds == "xa").to_numpy()),
    ):
        x = d.loc[sel, "minutes"].to_numpy(dtype=float)
        w = d.loc[sel, "population"].to_numpy(dtype=float)
        ok = np.isfinite(x)
        if not ok.any():
            continue
        order = np.argsort(x[ok])
        ax.plot(x[ok][order], np.cumsum(w[ok][order]) / w.sum(), label=label)
    ax.axvline(assessment.params["max_minutes"], color="grey", ls="--", lw=1)
    ax.set_xlabel(text("cdf_x", lang))
    ax.set_ylabel(text("cdf_y", lang))
    mode = text(f"mode.{assessment.mode}", lang) if assessment.mode in ("walk", "bike", "motorbike", "car") else ""
    ax.set_title(f"{text('cdf_title', lang)} — {mode or assessment.mode}")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def _p90_units(assessment: Any, lang: str) -> Any:
    u = assessment.units.sort_values("p90_minutes", ascending=False).head(15)
    fig, ax = _plt().subplots(figsize=(7, 5))
    ax.barh(u["full_name"].astype(str)[::-1], u["p90_minutes"][::-1], color="#c0504d")
    ax.set_xlabel(text("cdf_x", lang))
    ax.set_title(text("p90_title", lang))
    ax.grid(alpha=0.3, axis="x")
    return fig


def _utilisation(assessment: Any, lang: str) -> Any:
    from pointplan.report.study import study_scope

    scope = study_scope(assessment)
    points = assessment.points if scope is None else assessment.points.loc[list(scope.serving)]
    util = points["utilisation"].replace([np.inf, -np.inf], np.nan).dropna()
    fig, ax = _plt().subplots(figsize=(7, 4))
    ax.hist(util, bins=30, color="#4f81bd")
    ax.axvline(1.0, color="red", ls="--", lw=1)
    ax.set_xlabel(text("util_x", lang))
    ax.set_ylabel(text("util_y", lang))
    ax.set_title(text("util_title", lang))
    return fig


def _proposal_gains(proposal: Any, lang: str) -> Any:
    pp = proposal.points.sort_values("rank")
    pmedian = proposal.objective == "pmedian"
    col = "gain_person_minutes_saved" if pmedian else "gain_people_covered"
    fig, ax = _plt().subplots(figsize=(7, 4))
    ax.bar(pp["rank"].astype(int), pp[col], color="#9bbb59")
    ax.set_xlabel(text("gain_x", lang))
    ax.set_ylabel(text("gain_minutes" if pmedian else "gain_people", lang))
    ax.set_xticks(pp["rank"].astype(int))
    ax.set_title(text("gain_title", lang))
    return fig


def overview_map(assessment: Any, proposal: Any = None, *, lang: str = "vi", metric: str = "mean_minutes") -> Any:
    """Draw a static overview map: units coloured by ``metric``, the points and proposals.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    proposal
        A :class:`pointplan.optimize.Proposal` whose points are drawn as stars (optional).
    lang
        ``"vi"`` (default) or ``"en"``.
    metric
        A numeric column of ``assessment.units`` (default mean minutes to the nearest point).

    Returns
    -------
    matplotlib.figure.Figure
        The map (in EPSG:32648), ready to save.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> fig = overview_map(demo_assessment(), lang="en")
    >>> fig.axes[0].get_title()
    'Overview: mean minutes to the nearest point by unit'
    """
    from pointplan._validate import to_projected
    from pointplan.report.labels import column_label
    from pointplan.report.study import study_scope

    plt = _plt()
    units = to_projected(assessment.units, "units")
    scope = study_scope(assessment)
    fig, ax = plt.subplots(figsize=(7, 7))
    if scope is not None:
        _study_context(ax, units)
    units.plot(
        column=metric,
        ax=ax,
        cmap="YlOrRd",
        edgecolor="white",
        linewidth=0.3,
        legend=True,
        legend_kwds={"label": column_label(metric, lang, "units", with_unit=True), "shrink": 0.6},
        missing_kwds={"color": "lightgrey"},
    )
    pts = to_projected(assessment.points, "points")
    size = 6
    if scope is not None:  # the points that serve the study, larger (the frame is a few km wide)
        pts, size = pts.loc[list(scope.serving)], 24
        units.boundary.plot(ax=ax, color="black", linewidth=1.2, zorder=2)
        for geom, name in zip(units.geometry, units["name"].astype(str), strict=True):
            pt = geom.representative_point()
            box = {"fc": "white", "alpha": 0.6, "lw": 0, "pad": 0.5}
            ax.annotate(
                name, (pt.x, pt.y), fontsize=7, ha="center", va="top", xytext=(0, -4), textcoords="offset points",
                zorder=5, bbox=box,
            )  # fmt: skip
    ax.scatter(pts.geometry.x, pts.geometry.y, s=size, c="#1f3b73", label=text("overview_points", lang), zorder=3)
    if proposal is not None and len(proposal.points):
        new = to_projected(proposal.points, "proposals")
        ax.scatter(
            new.geometry.x, new.geometry.y, s=60, marker="*", c="#2ca02c", edgecolors="black", linewidths=0.4, zorder=4
        )
        ax.scatter([], [], s=60, marker="*", c="#2ca02c", edgecolors="black", label=text("overview_proposed", lang))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8, frameon=True)
    title = text("overview_title", lang)
    if metric != "mean_minutes":
        title = column_label(metric, lang, "units", with_unit=True)
    if scope is not None:
        title = f"{title}\n{scope.label(lang)}. {text('overview_study', lang)}"
        _frame(ax, units)
    ax.set_title(title, fontsize=10 if scope is not None else None)
    return fig


def _frame(ax: Any, units: Any, margin: float = 0.35) -> None:
    """Frame the axes on ``units`` with a margin (a share of the larger side), where neighbours show."""
    west, south, east, north = units.total_bounds
    pad = margin * max(east - west, north - south)
    ax.set_xlim(west - pad, east + pad)
    ax.set_ylim(south - pad, north + pad)


def _study_context(ax: Any, units: Any) -> None:
    """Draw the units around a study in grey, with their names (the study itself is drawn on top)."""
    from pointplan.data import load_units

    every = load_units().to_crs(units.crs)
    near = every[every.intersects(units.union_all().buffer(3000)) & ~every.index.isin(units.index)]
    near.plot(ax=ax, color="#eeeeee", edgecolor="#999999", linewidth=0.5, zorder=0)
    for geom, name in zip(near.geometry, near["name"].astype(str), strict=True):
        pt = geom.representative_point()
        ax.annotate(name, (pt.x, pt.y), fontsize=6, color="#777777", ha="center", zorder=1, annotation_clip=True)


def chart_images(assessment: Any, proposal: Any = None, *, lang: str = "vi") -> dict[str, bytes]:
    r"""Return the report's charts as PNG bytes, by name (the keys of :data:`CHART_FILES`).

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment
    >>> images = chart_images(demo_assessment())
    >>> sorted(images), images["overview"][:4]
    (['minutes_cdf', 'overview', 'p90_units', 'utilisation'], b'\x89PNG')
    """
    return cached("charts", _charts_key(assessment, proposal, lang), lambda: _draw_all(assessment, proposal, lang))


def _charts_key(assessment: Any, proposal: Any, lang: str) -> bytes | None:
    """Key of the charts kept on disk: every table they draw, the options, matplotlib's version (None: not kept)."""
    import matplotlib

    try:
        frames = [frame_digest(getattr(assessment, n)) for n in ("units", "points", "demand")]
        frames.append(frame_digest(proposal.points) if proposal is not None else b"none")
        params = repr(sorted((str(k), repr(v)) for k, v in dict(assessment.params).items()))
    except (AttributeError, TypeError):
        return None
    if any(f is None for f in frames):
        return None
    return digest("charts", *frames, params, str(assessment.mode), lang, matplotlib.__version__)


def _draw_all(assessment: Any, proposal: Any, lang: str) -> dict[str, bytes]:
    draw: dict[str, Callable[[], Any]] = {
        "overview": lambda: overview_map(assessment, proposal, lang=lang),
        "minutes_cdf": lambda: _minutes_cdf(assessment, lang),
        "p90_units": lambda: _p90_units(assessment, lang),
        "utilisation": lambda: _utilisation(assessment, lang),
    }
    if proposal is not None and len(proposal.points):
        draw["proposal_gains"] = lambda: _proposal_gains(proposal, lang)
    return {name: _png(make()) for name, make in draw.items()}


def _write_images(images: dict[str, bytes], out_dir: str | Path) -> dict[str, Path]:
    """Write PNG bytes by chart name as the files of :data:`CHART_FILES` (atomically)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, png in images.items():
        path = out / CHART_FILES[name]
        with atomic_path(path) as tmp:
            tmp.write_bytes(png)
        paths[name] = path
    return paths


def charts(assessment: Any, out_dir: str | Path, proposal: Any = None, *, lang: str = "vi") -> dict[str, Path]:
    """Draw the report's PNG charts into ``out_dir``; return their paths by name.

    Parameters
    ----------
    assessment
        The :class:`pointplan.Assessment`.
    out_dir
        Output folder (created if needed).
    proposal
        A :class:`pointplan.optimize.Proposal` (adds the chart of its gains).
    lang
        ``"vi"`` (default) or ``"en"``.

    Returns
    -------
    dict
        Chart name -> path of its ``chart_*.png`` file.

    Examples
    --------
    >>> import tempfile
    >>> from pointplan.report._demo import demo_assessment
    >>> paths = charts(demo_assessment(), tempfile.mkdtemp())
    >>> paths["minutes_cdf"].name
    'chart_minutes_cdf.png'
    """
    return _write_images(chart_images(assessment, proposal, lang=lang), out_dir)
