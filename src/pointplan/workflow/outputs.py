"""The last step of a run: write every output into the output folder, together.

The data outputs and the map are written into a staging folder and moved into place
together at the end, so an interrupted run leaves the previous outputs as they were. The
documents (``formats``) are then moved one by one: one left open in Word or Excel (or
read-only) keeps its previous version and is reported, and holds back nothing else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from pointplan import settings
from pointplan.workflow.config import MAP_METRICS, RunConfig
from pointplan.workflow.state import RunState, collect_service_areas, need

if TYPE_CHECKING:
    from pointplan._fork import Background
    from pointplan.assessment import Assessment
    from pointplan.demand import ConversionResult as Conversion
    from pointplan.locate import Proposal

__all__ = ["RUN_OUTPUTS", "write_step"]

logger = logging.getLogger("pointplan.workflow")
logger.addHandler(logging.NullHandler())

#: Files :func:`pointplan.run` may write into its output folder (charts are ``chart_*.png``).
RUN_OUTPUTS: tuple[str, ...] = (
    "units.csv",
    "points.csv",
    "findings.csv",
    "proposals.geojson",
    "summary.json",
    "dossiers_unmatched.csv",
    "sites_report.csv",
    "map.html",
    "map_offline.html",
    "scenario.gpkg",
    "report.md",
    "report.html",
    "report.docx",
    "tables.xlsx",
    "chart_overview.png",
    "chart_minutes_cdf.png",
    "chart_p90_units.png",
    "chart_utilisation.png",
    "chart_proposal_gains.png",
)


def write_step(config: RunConfig, state: RunState) -> RunState:
    """Write every output into ``config.out``; the state gains ``paths`` and ``problems``.

    ``problems`` names the documents that could not be replaced (open in another program);
    :func:`pointplan.run` raises for them after everything else was written.

    Examples
    --------
    >>> import tempfile
    >>> from pointplan.report._demo import demo_assessment
    >>> out = Path(tempfile.mkdtemp()) / "out"
    >>> s = write_step(RunConfig(out, formats="md", uncertainty=False), RunState(assessment=demo_assessment()))
    >>> sorted(n for n in s.paths if not n.startswith("chart_")), s.problems  # doctest: +NORMALIZE_WHITESPACE
    (['findings.csv', 'map.html', 'points.csv', 'proposals.geojson', 'report.md', 'scenario.gpkg',
      'summary.json', 'units.csv'], ())
    """
    from pointplan.io import staged_folder
    from pointplan.report.documents import FORMAT_FILES, document_stage, publish_documents, write_documents
    from pointplan.workflow.province import report_lines

    state = collect_service_areas(state)  # drawn on the second core while the run proposed
    a = need(state.assessment, "assessment")
    out, formats = config.out, config.format_list()
    with document_stage(out) as doc_stage:
        with staged_folder(out, config.input_files) as stage, _quiet("pointplan.maps.package"):
            map_job = _start_maps(stage, config, state)  # drawn on the second core meanwhile
            written = _write_data(stage, config, state)
            outputs = sorted([*written, *_map_names(config), *(FORMAT_FILES[fmt][0] for fmt in formats)])
            extra = [*report_lines(config, state), f"Outputs: {', '.join(outputs)}."]
            docs = write_documents(
                a, doc_stage, state.proposal, formats=formats, lang=config.lang, extra_lines=extra, images=None
            )
            written.update(map_job.result())
        published, problems = publish_documents(doc_stage, out, docs)
    paths = {name: out / Path(path).name for name, path in {**written, **published}.items()}
    for name in ("map.html", "map_offline.html"):
        if name in paths and paths[name].is_file():
            logger.info("wrote %s (%.2f MB)", paths[name], paths[name].stat().st_size / 1e6)
    logger.info("wrote %d outputs into %s", len(paths), out)
    return dataclasses.replace(state, paths=paths, problems=tuple(problems))


def _start_maps(out: Path, config: RunConfig, state: RunState) -> Background[dict[str, Path]]:
    """Start drawing the map into ``out`` in a forked child (or draw it at once); the job's answer is its paths.

    The bus figures and the time to service the map shows are worked out first, here, so the
    tables read the same ones (the child's memory is its own).
    """
    from pointplan._fork import Background
    from pointplan.report.run_tables import bus_context, unit_time_to_service

    a = need(state.assessment, "assessment")
    bus_context(a)
    unit_time_to_service(a)  # the map's units show it (the tables would work it out, but in this process)
    return Background(lambda: _write_maps(out, config, a, state.proposal), "the map")


def _map_names(config: RunConfig) -> list[str]:
    return ["map.html", "map_offline.html"] if config.offline_map else ["map.html"]


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Hold back the INFO lines of one logger (e.g. paths inside the staging folder, which moves)."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        log.setLevel(level)


def _write_data(out: Path, config: RunConfig, state: RunState) -> dict[str, Path]:
    """Write the tables, JSON, GeoJSON and GeoPackage into ``out`` (the staging folder; the map: ``_start_maps``)."""
    a = need(state.assessment, "assessment")
    paths = _write_tables(out, config, a, state.proposal, state.conversion, state.staffing)
    paths["scenario.gpkg"] = _write_scenario(out, config, a, state.proposal)
    return paths


def _write_tables(
    out: Path,
    config: RunConfig,
    a: Assessment,
    proposal: Proposal | None,
    conversion: Conversion | None,
    staffing: Mapping[str, Any] | None,
) -> dict[str, Path]:
    """Write the tables, ``proposals.geojson`` and ``summary.json`` (and the reports of sites and dossiers)."""
    from pointplan.io import atomic_path, write_json, write_table
    from pointplan.locate import PROPOSAL_COLUMNS
    from pointplan.report.run_tables import run_findings, run_points_table, run_units_table
    from pointplan.report.summary_json import sites_report_table, summary_json

    inputs = config.input_files
    paths: dict[str, Path] = {}
    from pointplan.workflow.province import province_summary, province_units_table

    state = RunState(units=a.units, assessment=a)
    paths["units.csv"] = write_table(province_units_table(run_units_table(a), state), out / "units.csv", inputs=inputs)
    paths["points.csv"] = write_table(run_points_table(a), out / "points.csv", inputs=inputs)
    paths["findings.csv"] = write_table(run_findings(a), out / "findings.csv", inputs=inputs)
    prop_gdf = (
        proposal.points
        if proposal is not None
        else gpd.GeoDataFrame(
            {c: [] for c in PROPOSAL_COLUMNS}, geometry=gpd.GeoSeries([], crs=settings.geographic_crs)
        )
    )
    with atomic_path(out / "proposals.geojson", inputs) as tmp:
        gj = prop_gdf.copy()
        for col in gj.columns:
            if col != "geometry" and gj[col].dtype == object:
                gj[col] = gj[col].astype(str)
        gj.to_file(tmp, driver="GeoJSON", layer="proposals")
    paths["proposals.geojson"] = out / "proposals.geojson"
    summary = {**summary_json(a, proposal, staffing=staffing), **province_summary(config, state)}
    paths["summary.json"] = write_json(out / "summary.json", summary, inputs=inputs)
    if proposal is not None and proposal.summary.get("sites_report"):
        paths["sites_report.csv"] = write_table(sites_report_table(proposal), out / "sites_report.csv", inputs=inputs)
    if conversion is not None:
        paths["dossiers_unmatched.csv"] = write_table(
            conversion.unmatched, out / "dossiers_unmatched.csv", inputs=inputs
        )
    return paths


def _write_maps(out: Path, config: RunConfig, a: Assessment, proposal: Proposal | None) -> dict[str, Path]:
    """Write ``map.html`` (and ``map_offline.html`` when asked)."""
    from pointplan import maps
    from pointplan.maps.transit import BUS_MAP_MIN_TRIPS_PER_HOUR
    from pointplan.report.run_tables import bus_context

    metric = config.map_metric
    extra = [x for x in (*MAP_METRICS, "time_to_service_minutes", "bus_access") if x != metric]
    prop_pts = proposal.points if proposal is not None else None
    layers: dict[str, Any] = {
        "bus_stops": bus_context(a).stops,
        "bus_min_trips_per_hour": BUS_MAP_MIN_TRIPS_PER_HOUR,
        "waits": True,
    }
    paths: dict[str, Path] = {}
    m = maps.assessment_map(a, prop_pts, lang=config.lang, metric=metric, extra_metrics=extra, **layers)
    paths["map.html"] = maps.save_map(m, out / "map.html", cdn=config.cdn)
    if config.offline_map:
        m_off = maps.assessment_map(
            a, prop_pts, lang=config.lang, tiles=False, metric=metric, extra_metrics=extra, **layers
        )
        paths["map_offline.html"] = maps.save_map(m_off, out / "map_offline.html", offline=True)
    return paths


def _write_scenario(out: Path, config: RunConfig, a: Assessment, proposal: Proposal | None) -> Path:
    """Write ``scenario.gpkg``: units, points, demand and the proposals, for QGIS."""
    from pointplan.io import write_scenario

    extra_layers = {"demand": a.demand[["population", "unit_code", "minutes", "within_standard", "geometry"]]}
    if proposal is not None and len(proposal.points):
        extra_layers["proposals"] = proposal.points
    pts_layer = a.points.drop(columns=[c for c in ("counters_used", "counters_assumed") if c in a.points])
    return write_scenario(
        out / "scenario.gpkg", a.units, pts_layer, extra_layers=extra_layers, inputs=config.input_files
    )
