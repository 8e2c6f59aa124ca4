"""The typed configuration of a run: :class:`RunConfig`, checked when it is made.

The command line (``pointplan run``) and the library (:func:`pointplan.run`) both build a
:class:`RunConfig`; every option is checked before anything long starts, with an
:class:`~pointplan._errors.InputError` that names the option and how to fix it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pointplan import settings
from pointplan._errors import InputError, OutputError
from pointplan._validate import check_number
from pointplan.locate.points_proposal import CANDIDATE_SITES, DEFAULT_ADD, CandidateSites

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "DEFAULT_SEED",
    "MAP_METRICS",
    "METHODS",
    "MODES",
    "NETWORK_KEYWORDS",
    "OBJECTIVES",
    "Lang",
    "Method",
    "Mode",
    "Objective",
    "RunConfig",
    "UnitKind",
    "check_output_folder",
    "is_network_keyword",
]

Mode = Literal["walk", "bike", "motorbike", "car"]
Objective = Literal["pmedian", "mclp", "lscp"]
Method = Literal["greedy+swap", "greedy", "exact"]
Lang = Literal["vi", "en"]
UnitKind = Literal["xa", "phuong"]
MODES: tuple[Mode, ...] = ("walk", "bike", "motorbike", "car")
OBJECTIVES: tuple[Objective, ...] = ("pmedian", "mclp", "lscp")
METHODS: tuple[Method, ...] = ("greedy+swap", "greedy", "exact")

#: Seed of the Monte Carlo draws behind the intervals of ``pointplan run`` (the number of
#: draws is :data:`pointplan.settings.uncertainty_draws`).
DEFAULT_SEED = 2025

#: Unit metrics drawn on the map of ``pointplan run``: the first is shown, the others are
#: layers to switch on. Mean minutes first: by motorbike the 30-min/5-km standard is met
#: almost everywhere, so coverage alone shows a uniform map.
MAP_METRICS = ("mean_minutes", "coverage_share", "p90_minutes", "visits_per_counter", "e2sfca")

#: ``--network`` values that are not files: the fallback everywhere, or the default network.
NETWORK_KEYWORDS = ("none", "default")


def is_network_keyword(value: object) -> bool:
    """Return True for a ``--network`` keyword (``none``/``default``), False for a file.

    Examples
    --------
    >>> is_network_keyword(" None"), is_network_keyword("roads.osm")
    (True, False)
    """
    return isinstance(value, str) and value.strip().lower() in NETWORK_KEYWORDS


def _choice(value: object, name: str, choices: Sequence[object]) -> None:
    if value not in choices:
        msg = f"{name} must be one of {list(choices)}, got {value!r}."
        raise InputError(msg)


@dataclass(frozen=True)
class RunConfig:
    """Every option of a run (:func:`pointplan.run`, ``pointplan run``), checked when made.

    Parameters
    ----------
    out_dir
        Output folder (created). Existing outputs are replaced atomically.
    points
        The user's points file (CSV lon/lat, GeoJSON, GeoPackage) or frame; default the ``scenario``.
    scenario
        Built-in scenario when ``points`` is not given.
    mode
        Travel mode (default ``settings.default_mode``).
    network
        ``None`` (default): the inner city's roads shipped with pointplan where they cover
        a trip, the calibrated straight-line fallback elsewhere; ``"none"``: the fallback
        everywhere; a file (``.osm``, ``.graphml``, ``.pbf``, also compressed): your network
        for its area (see :func:`pointplan.workflow.travel_engine`).
    add
        Number of points to propose (0: no proposal).
    objective, method
        Proposal objective and solver (:func:`pointplan.propose_points`).
    candidates
        The user's candidate sites file, added to the generated ones.
    max_minutes, max_distance_m
        The standard.
    demand_cell_m
        Demand cell size in metres (default: 250 m where people are dense, at least 5,000 per km²,
        the raster's 1 km elsewhere; a number: that cell everywhere).
    dossiers
        CSV of dossier records (column ``ward``, optionally ``district``; old or new names)
        for visits per unit instead of the city average.
    offline_map, cdn
        Also write ``map_offline.html`` (no base tiles); link ``map.html`` to Leaflet's CDN.
    lang
        ``"vi"`` or ``"en"`` labels.
    geocode
        Geocode stand-in addresses (needs ``settings.allow_downloads``).
    map_metric
        Unit metric shown first on the map (the others of :data:`MAP_METRICS` are layers).
    study_units
        Codes of the units to study (default all 126); their people may still use any point.
    max_off_network_share
        With a network: the largest share of people farther than the snap limit from it.
    sites
        Candidate sites: ``"real"`` (named public buildings, default), ``"grid"`` or ``"both"``.
    uncertainty, draws, seed, workers, scheduler
        P5/P50/P95 intervals (seeded Monte Carlo, default
        :data:`pointplan.settings.uncertainty_draws` draws), optionally on Dask.
    formats
        Documents to write (:data:`pointplan.report.REPORT_FORMATS`; default html and xlsx).
    add_points
        More points (a file or frame, read like ``points``) added to the scenario's points
        instead of replacing them: kiosks, a second point in a xã (``--add-points``).
    propose_in_units, propose_unit_kind
        Where proposals may go: only in these unit codes, and/or in units of this kind
        (``"xa"`` or ``"phuong"``) (``--in-units``, ``--unit-kind``).
    coverage_rule
        Who MCLP/LSCP proposals count as covered: ``"time_or_distance"`` (the city's "30 minutes
        or 5 km"), ``"time"`` (the minutes alone), or ``None`` (default): ``"time"`` on foot,
        where 5 km in a straight line is over an hour's walk, the full standard otherwise
        (:func:`pointplan.locate.points_proposal.mode_rule`; ``--coverage-rule``).
    province
        The province to plan: ``None`` (Hà Nội, with everything that is Hanoi's own) or any of
        the 34 by code or name (``38``, ``"Thanh Hoá"``, ``thanh-hoa``; see
        :mod:`pointplan.workflow.province`).

    Examples
    --------
    >>> c = RunConfig("out", mode="walk", add=3, study_units=["70"])
    >>> c.mode, c.add, c.study_codes, c.draws_or_default() > 0
    ('walk', 3, ['00070'], True)
    >>> RunConfig("out", objective="fastest")
    Traceback (most recent call last):
    ...
    pointplan._errors.InputError: objective must be one of ['pmedian', 'mclp', 'lscp'], got 'fastest'.
    """

    out_dir: str | Path
    points: str | Path | gpd.GeoDataFrame | None = None
    scenario: str = "hanoi-2025"
    mode: Mode | None = None
    network: str | Path | None = None
    add: int = DEFAULT_ADD
    objective: Objective = "pmedian"
    method: Method = "greedy+swap"
    candidates: str | Path | None = None
    max_minutes: float | None = None
    max_distance_m: float | None = None
    demand_cell_m: float | None = None
    dossiers: str | Path | None = None
    offline_map: bool = False
    cdn: bool = False
    lang: Lang = "vi"
    geocode: bool = False
    map_metric: str = MAP_METRICS[0]
    study_units: Sequence[str] | None = None
    max_off_network_share: float = 0.2
    sites: CandidateSites = "real"
    uncertainty: bool = True
    draws: int | None = None
    seed: int = DEFAULT_SEED
    workers: int | None = None
    scheduler: str | None = None
    formats: str | Sequence[str] | None = None
    add_points: str | Path | gpd.GeoDataFrame | None = None
    propose_in_units: Sequence[str] | None = None
    propose_unit_kind: UnitKind | None = None
    coverage_rule: Literal["time", "time_or_distance"] | None = None
    province: str | int | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every option; raise :class:`~pointplan._errors.InputError` naming the one at fault.

        Examples
        --------
        >>> RunConfig("out", add=-1)
        Traceback (most recent call last):
        ...
        pointplan._errors.InputError: add (points to propose) must be a whole number >= 0, got -1.
        """
        if self.mode is not None:
            _choice(self.mode, "mode", MODES)
        add = self.add
        if isinstance(add, bool) or not isinstance(add, int) or add < 0:
            msg = f"add (points to propose) must be a whole number >= 0, got {add!r}."
            raise InputError(msg)
        check_number(self.max_minutes, "max_minutes (--max-minutes)", minimum=0, strict=True, allow_none=True)
        check_number(self.max_distance_m, "max_distance_m (--max-km)", minimum=0, allow_none=True)
        check_number(self.demand_cell_m, "demand_cell_m (--demand-cell-m)", minimum=0, strict=True, allow_none=True)
        if self.uncertainty:
            from pointplan.uncertainty import check_seed

            self.draws_or_default()
            check_seed(self.seed)
        self.format_list()
        _choice(self.lang, "lang", ("vi", "en"))
        _choice(self.sites, "sites", CANDIDATE_SITES)
        _choice(self.objective, "objective", OBJECTIVES)
        _choice(self.method, "method", METHODS)
        if self.province is not None:
            from pointplan.provinces import resolve_province

            if not resolve_province(self.province).is_hanoi and self.scenario != "hanoi-2025":
                msg = f"--scenario {self.scenario} is one of Hanoi's; other provinces use --points or their stand-ins."
                raise InputError(msg)
        if self.study_units is not None and not self.study_codes:
            msg = "--units is empty: give at least one unit code."
            raise InputError(msg)
        if self.propose_unit_kind is not None:
            _choice(self.propose_unit_kind, "propose_unit_kind (--unit-kind)", ("xa", "phuong"))
        if self.coverage_rule is not None:
            _choice(self.coverage_rule, "coverage_rule (--coverage-rule)", ("time", "time_or_distance"))
        if self.propose_in_units is not None and not self.proposal_codes:
            msg = "--in-units is empty: give at least one unit code where proposals may go."
            raise InputError(msg)

    @property
    def out(self) -> Path:
        """The output folder as a path (``~`` expanded)."""
        return Path(self.out_dir).expanduser()

    @property
    def study_codes(self) -> list[str] | None:
        """The study units as 5-digit codes (``"70"`` is ``"00070"``), or None for all."""
        if self.study_units is None:
            return None
        return [str(c).strip().zfill(5) for c in self.study_units if str(c).strip()]

    @property
    def proposal_codes(self) -> list[str] | None:
        """The units where proposals may go as 5-digit codes, or None for anywhere.

        Examples
        --------
        >>> RunConfig("out", propose_in_units=["70", " 71"], uncertainty=False).proposal_codes
        ['00070', '00071']
        """
        if self.propose_in_units is None:
            return None
        return [str(c).strip().zfill(5) for c in self.propose_in_units if str(c).strip()]

    @property
    def input_files(self) -> list[str | Path]:
        """The input files named (points, network, candidates, dossiers, added points): never overwritten."""
        named = (self.points, self.network, self.candidates, self.dossiers, self.add_points)
        return [p for p in named if isinstance(p, (str, Path)) and not is_network_keyword(p)]

    def draws_or_default(self) -> int:
        """Return the checked number of Monte Carlo draws (default ``settings.uncertainty_draws``)."""
        from pointplan.uncertainty import check_draws

        return check_draws(settings.uncertainty_draws if self.draws is None else self.draws)

    def format_list(self) -> tuple[str, ...]:
        """Return the checked document formats (``formats`` parsed; default html and xlsx)."""
        from pointplan.report import parse_formats

        return parse_formats(self.formats)

    def coverage_rule_or_default(self) -> Literal["time", "time_or_distance"]:
        """Return the coverage rule of the proposals: the one given, else the mode's.

        Examples
        --------
        >>> RunConfig("out", mode="walk", uncertainty=False).coverage_rule_or_default()
        'time'
        >>> RunConfig("out", mode="walk", coverage_rule="time_or_distance", uncertainty=False).coverage_rule
        'time_or_distance'
        """
        from pointplan.locate.points_proposal import mode_rule

        return self.coverage_rule or mode_rule(self.mode or settings.default_mode)

    def options(self) -> dict[str, Any]:
        """Return the options as keywords of :func:`pointplan.run` (every field but ``out_dir``).

        Examples
        --------
        >>> RunConfig("out", add=2).options()["add"]
        2
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "out_dir"}

    @classmethod
    def from_options(cls, out_dir: str | Path, options: dict[str, Any]) -> RunConfig:
        """Return the config of :func:`pointplan.run`'s keywords; an unknown keyword is an InputError.

        Examples
        --------
        >>> RunConfig.from_options("out", {"ad": 2})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        pointplan._errors.InputError: Unknown run option(s) ['ad']; the options are ...
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            msg = f"Unknown run option(s) {unknown}; the options are the fields of RunConfig: {sorted(names)}."
            raise InputError(msg)
        return cls(out_dir, **options)


def check_output_folder(out: Path, inputs: Sequence[str | Path] = ()) -> None:
    """Refuse an output folder that is an input file, a file, or inside a file.

    Examples
    --------
    >>> check_output_folder(Path("out"), ["points.csv"])
    """
    for inp in inputs:
        if Path(inp).expanduser().resolve() == out.expanduser().resolve():
            msg = f"--out {out} is one of the input files; writing there would destroy it. Choose another --out folder."
            raise OutputError(msg)
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file, not a folder. Choose a folder for the outputs."
        raise OutputError(msg)
