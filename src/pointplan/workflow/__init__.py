"""The planner's workflow end to end: load, assess, propose, map, report.

:func:`run` is what ``pointplan run --out DIR`` does, and what a notebook calls to get the
same outputs. It builds a :class:`RunConfig` (every option, typed and checked) and calls the
named steps in order, each ``step(config, state) -> state`` on a frozen :class:`RunState`:

1. :func:`load_step` (units, limited to ``study_units``; points),
2. :func:`locate_points_step` (geocoding, on request),
3. :func:`demand_step` (demand points; visits from dossiers),
4. :func:`engine_step` (travel times: :func:`travel_engine`),
5. :func:`assess_step` (:func:`pointplan.assess`, read from a :class:`~pointplan.assessment.Scenario`),
   then :func:`start_uncertainty_step` (the Monte Carlo starts on the second core),
6. :func:`propose_step` (:func:`propose_points`),
7. :func:`uncertainty_step` (intervals, collected; robustness),
8. :func:`staff_step` (queues and officials),
9. :func:`write_step` (every output, staged and moved into place together).

Outputs of :func:`run` (:data:`RUN_OUTPUTS`, never over an input; written together into a
hidden staging folder and moved into place only when all are ready, so an interrupted run
leaves the previous outputs as they were): ``map.html`` (and ``map_offline.html`` on
request), ``units.csv``, ``points.csv``, ``proposals.geojson``, ``summary.json``,
``findings.csv``, ``scenario.gpkg`` (layers units, points, proposals, demand for QGIS),
``sites_report.csv`` when the proposals are among real sites, and the documents chosen with
``formats`` (:data:`pointplan.report.REPORT_FORMATS`; default ``report.html`` and
``tables.xlsx``). A document that is open in another program or read-only keeps its
previous version and is reported in an error raised after every other output was written.

Proposals are made among real, named places by default (:mod:`pointplan.locate.sites`);
:func:`propose_points` and :func:`default_candidates` live in
:mod:`pointplan.locate.points_proposal` and are re-exported here.

Examples
--------
>>> from pointplan.workflow import RunConfig, run_phases
>>> [label for label, _ in run_phases(RunConfig("out", uncertainty=False))]
['Loading units and points', 'Assessing', 'Proposing 10 points (pmedian)', 'Writing outputs']
"""

from __future__ import annotations

from pointplan.locate.points_proposal import (
    CANDIDATE_SITES,
    DEFAULT_ADD,
    default_candidates,
    propose_points,
)
from pointplan.report.run_tables import run_points_table as _points_csv  # noqa: F401 (former name)
from pointplan.report.run_tables import run_units_table as _units_csv  # noqa: F401 (former name)
from pointplan.report.summary_json import SUMMARY_KEYS
from pointplan.report.summary_json import sites_report_table as _sites_report  # noqa: F401 (former name)
from pointplan.report.summary_json import summary_json as _summary_json  # noqa: F401 (former name)
from pointplan.report.summary_json import unreachable_counts as _unreachable_counts  # noqa: F401 (former name)
from pointplan.workflow.config import (
    DEFAULT_SEED,
    MAP_METRICS,
    NETWORK_KEYWORDS,
    RunConfig,
    check_output_folder,
    is_network_keyword,
)
from pointplan.workflow.engine import travel_engine
from pointplan.workflow.outputs import RUN_OUTPUTS, write_step
from pointplan.workflow.run import check_outputs, run, run_phases
from pointplan.workflow.steps import (
    RunState,
    assess_step,
    demand_step,
    engine_step,
    load_step,
    locate_points_step,
    propose_step,
    staff_step,
    start_uncertainty_step,
    uncertainty_step,
)

# Former private names, kept for code that imported them from ``pointplan.workflow``.
_keyword = is_network_keyword
_check_output_folder = check_output_folder


__all__ = [
    "CANDIDATE_SITES",
    "DEFAULT_ADD",
    "DEFAULT_SEED",
    "MAP_METRICS",
    "NETWORK_KEYWORDS",
    "RUN_OUTPUTS",
    "SUMMARY_KEYS",
    "RunConfig",
    "RunState",
    "assess_step",
    "check_output_folder",
    "check_outputs",
    "default_candidates",
    "demand_step",
    "engine_step",
    "is_network_keyword",
    "load_step",
    "locate_points_step",
    "propose_points",
    "propose_step",
    "run",
    "run_phases",
    "staff_step",
    "start_uncertainty_step",
    "travel_engine",
    "uncertainty_step",
    "write_step",
]
