"""Global settings of pointplan.

Module-level, typed and documented, in the style of ``osmnx.settings``: change them
by assignment, e.g. ``pointplan.settings.default_mode = "walk"``. Functions read them
at call time, so a change applies to every later call.

Examples
--------
>>> import pointplan
>>> pointplan.settings.projected_crs
'EPSG:32648'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

#: Folder holding the reference data (``hanoi/``, ``population/``, ``osm/``). ``None``
#: means "look it up": the ``POINTPLAN_DATA_DIR`` environment variable, else the data
#: installed with the package (a wheel's ``pointplan/_data``), else the checkout's own
#: ``data/`` folder. See :func:`pointplan.data.data_dirs`.
data_dir: Path | None = None

#: Folder for downloads and geocoding caches. Defaults to ``$POINTPLAN_CACHE_DIR``
#: or ``~/.cache/pointplan``.
cache_dir: Path = Path(os.environ.get("POINTPLAN_CACHE_DIR", Path.home() / ".cache" / "pointplan"))

#: Projected CRS used for every distance and area computation (UTM zone 48N).
projected_crs: str = "EPSG:32648"

#: Geographic CRS of inputs and outputs (WGS84 longitude/latitude).
geographic_crs: str = "EPSG:4326"

#: Verify the sha256 of reference files on load (size is always checked).
verify_checksums: bool = True

#: Allow code to reach the internet (osmnx downloads, geocoding). Off by default:
#: pointplan never goes online unless asked.
allow_downloads: bool = False

#: A travel mode on the road network, as a type (the one definition; see ``MODES``).
Mode = Literal["walk", "bike", "motorbike", "car"]

#: A language of labels and reports, as a type: Vietnamese first, English second.
Lang = Literal["vi", "en"]

#: Default travel mode: one of ``"walk"``, ``"bike"``, ``"motorbike"``, ``"car"``.
default_mode: Mode = "motorbike"

#: City standard (Hanoi): every resident within this many minutes of a point ...
standard_minutes: float = 30.0

#: ... or within this distance (metres) of a point.
standard_distance_m: float = 5000.0

#: Expected number of service points by the rules (one per unit, Plan 322/KH-UBND).
min_points: int = 126

#: Branches the Centre keeps (Plan 322/KH-UBND).
branches_expected: int = 12

#: Above this many service points, an assessment routes its floating catchments (2SFCA,
#: E2SFCA) and Huff loads to the points grouped into grid cells
#: (:mod:`pointplan.assessment.catchment`) instead of to every point: the nearest point,
#: its travel time and the loads via the nearest point stay exact. The summary's
#: ``catchment_method`` says so. Ordinary scenarios (a few hundred points) route every pair.
catchment_max_points: int = 2000

#: Above this many service points, no per-point service area is drawn (a run's map shows
#: the demand's own travel times instead); the summary's ``service_areas_drawn`` says so.
service_areas_max_points: int = 2000

#: Above this many service points, findings come one per unit instead of one per point:
#: points without a bus stop nearby (how many, the farthest named) and points sharing a
#: location (how many pairs, the first named); the idle points' finding lists the first 10
#: ids (``load_status`` in the points table has them all). The summary's
#: ``point_findings_by_unit`` says so.
point_findings_max_points: int = 2000

#: Above this many points of one kind, a map draws that kind as one marker per grid cell
#: (how many points, their counters and load) instead of one per point, and above this many
#: points in all it leaves out the layer of each point's wait; the summary's
#: ``map_markers_by_cell`` says so.
map_markers_max_points: int = 5000

#: A table of more than this many rows (the points of a city of kiosks) is left out of
#: ``tables.xlsx``: its sheet names the CSV file that holds it (the summary's
#: ``xlsx_points_in_csv_only`` says so for the points).
xlsx_max_rows: int = 20_000

#: Most demand places × points a :class:`pointplan.Scenario` accepts: it keeps a dense matrix
#: of travel times per mode (8 bytes a pair, room for twice the points). Above it, assess with
#: :func:`pointplan.assess` (``pointplan run`` keeps no times above 5 million pairs).
scenario_max_pairs: int = 100_000_000

#: Language of labels: ``"vi"`` (default) or ``"en"``.
language: Lang = "vi"

#: Show tqdm progress bars in long loops.
progress: bool = False

#: Address-search service (Nominatim API) used by :mod:`pointplan.geocode`: the public
#: OpenStreetMap Nominatim by default; point it at a self-hosted Nominatim for large runs
#: (CLI: ``pointplan geocode --service-url``). Requests go to ``<url>/search``.
geocode_service_url: str = "https://nominatim.openstreetmap.org"

#: Minimum seconds between two requests to the geocoding service (the public Nominatim's
#: usage policy allows at most one request a second).
geocode_min_interval_s: float = 1.0

#: Seconds to wait for one geocoding answer before the try counts as a (transient) failure.
geocode_timeout_s: float = 20.0

#: Retries of a transient geocoding failure (timeout, HTTP 429/5xx, malformed reply).
geocode_max_retries: int = 4

#: First backoff delay in seconds; it doubles after each failed try (2, 4, 8, 16 s).
geocode_backoff_s: float = 2.0

#: Candidates asked for per query (Nominatim ``limit``, at most 40).
geocode_candidates: int = 8

#: A geocoded candidate is accepted when it lies inside the unit its address names or
#: at most this many metres outside the unit's edge (a house across a boundary street).
geocode_edge_tolerance_m: float = 100.0

#: Monte Carlo draws behind the intervals of ``pointplan run`` (``--draws``); the
#: one-at-a-time sensitivity table uses a quarter of them per assumption.
uncertainty_draws: int = 100

#: Draws used to measure how robust each proposal is (each one re-solves the proposal).
robustness_draws: int = 10

#: ``pointplan run`` overlaps independent steps on a second core: the Monte Carlo of the
#: assessment runs in a forked child process while the run proposes points (Linux only; the
#: same answers either way). ``False`` runs every step one after the other.
run_in_parallel: bool = True

#: Keep results that take seconds to compute (travel times between the same places on the
#: same roads) on disk under ``cache_dir / "results"``, keyed by their inputs and pointplan's
#: own source, so the next run reads them back (:mod:`pointplan._results`). ``False`` (or the
#: environment variable ``POINTPLAN_RESULT_CACHE=0``, or ``pointplan run --no-cache``)
#: computes everything afresh.
result_cache: bool = os.environ.get("POINTPLAN_RESULT_CACHE", "1") != "0"

#: Size (MB) the results folder is kept under; the least recently used go first.
result_cache_mb: float = 2048.0

#: The road network that ``pointplan run`` and ``assess`` use by default: hybrid travel
#: times, on this network where a trip lies on it and the calibrated straight-line fallback
#: elsewhere. A key of :data:`pointplan.data.DATASETS` or a file path; ``None`` uses the
#: fallback everywhere (``--network none``). Default: the inner city's drive network.
default_network: str | None = "osm_inner_drive"

#: Folder of converted road networks (keyed by the file's bytes, so a second load takes
#: under a second). ``None``: ``cache_dir / "networks"``.
network_cache_dir: Path | None = None
