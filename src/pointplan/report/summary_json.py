"""``summary.json`` and ``sites_report.csv`` of a run: the headline figures, findings and proposals.

:func:`summary_json` is what ``pointplan run`` and ``pointplan assess`` write as
``summary.json`` (strict JSON: NaN and infinity as ``null``); :func:`sites_report_table` is
``sites_report.csv`` (the real candidate sites dropped or kept at a stand-in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pointplan.io import strict_json
from pointplan.report.standards import standards_by_mode

if TYPE_CHECKING:
    from pointplan.assessment import Assessment
    from pointplan.locate import Proposal

__all__ = ["SUMMARY_KEYS", "scope_items", "sites_report_table", "summary_json", "unreachable_counts"]

#: Keys every ``summary.json`` has (the documented contract).
SUMMARY_KEYS = (
    "units",
    "points",
    "branches_expected",
    "branches_located",
    "population",
    "population_within_standard_share",
    "mean_minutes_to_nearest",
    "rule_findings",
    "travel_time_method",
    "proposals",
)

#: Proposal columns of real sites written to ``summary.json`` when present.
_PROPOSAL_EXTRA = (
    "site_name",
    "site_kind",
    "address",
    "location_precision",
    "located_by",
    "best_spot_id",
    "best_spot_m",
    "cost_person_minutes",
    "cost_people_covered",
    "robustness",
    "robust",
    "relies_on_point",
    "depends_on_guess",
)

#: Figures of the scenario with the proposals that ``summary.json`` repeats.
_AFTER_KEYS = (
    "population_within_standard_share",
    "mean_minutes_to_nearest",
    "p90_minutes_to_nearest",
    "within_minutes_share_by_mode",
    "points_overloaded",
)


def unreachable_counts(assessment: Assessment) -> dict[str, Any]:
    """Return the people and demand points that reach no service point (minutes not finite).

    ``summary.json`` writes such minutes as ``null``; these counts say how many people that is.

    Parameters
    ----------
    assessment
        An assessment.

    Returns
    -------
    dict
        ``unreachable_population`` (people, rounded to 0.1) and ``unreachable_demand_points``.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> unreachable_counts(tiny_assessment())
    {'unreachable_population': 0.0, 'unreachable_demand_points': 0}
    """
    dem = getattr(assessment, "demand", None)
    if dem is None or "minutes" not in dem or "population" not in dem:
        return {"unreachable_population": 0, "unreachable_demand_points": 0}
    minutes = pd.to_numeric(dem["minutes"], errors="coerce").to_numpy(dtype=float)
    pop = pd.to_numeric(dem["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
    bad = ~np.isfinite(minutes) & (pop > 0)
    return {"unreachable_population": round(float(pop[bad].sum()), 1), "unreachable_demand_points": int(bad.sum())}


def sites_report_table(proposal: Proposal) -> pd.DataFrame:
    """Return ``sites_report.csv``: the real candidate sites dropped or kept at a stand-in.

    Parameters
    ----------
    proposal
        A proposal among real sites (its ``summary["sites_report"]``).

    Returns
    -------
    pandas.DataFrame
        One row per problem, columns :data:`pointplan.locate.sites.REPORT_COLUMNS`.

    Examples
    --------
    >>> from pointplan.report._demo import demo_proposal
    >>> sites_report_table(demo_proposal()).columns.tolist()
    ['source', 'row', 'site_id', 'name', 'issue', 'detail', 'action']
    """
    from pointplan.locate.sites import REPORT_COLUMNS

    return pd.DataFrame(proposal.summary.get("sites_report", []), columns=list(REPORT_COLUMNS))


def _proposal_records(proposal: Proposal) -> list[dict[str, Any]]:
    """Return one record per proposed point (rank, place, gains and the real-site columns)."""
    extra = [c for c in _PROPOSAL_EXTRA if c in proposal.points.columns]
    return [
        {
            "rank": int(r["rank"]),
            "candidate_id": str(r["candidate_id"]),
            "kind": str(r["kind"]),
            "unit_code": None if pd.isna(r["unit_code"]) else str(r["unit_code"]),
            "lon": round(float(r.geometry.x), 6),
            "lat": round(float(r.geometry.y), 6),
            "gain_people_covered": float(r["gain_people_covered"]),
            "gain_person_minutes_saved": float(r["gain_person_minutes_saved"]),
            "serves_units": str(r["serves_units"]),
            **{c: r[c] for c in extra},
        }
        for _, r in proposal.points.iterrows()
    ]


def _proposal_summary(proposal: Proposal) -> dict[str, Any]:
    """Return ``proposals_summary``: the objective, the plain figures, the scenario after, the trade-off."""
    ps: dict[str, Any] = {
        k: v for k, v in proposal.summary.items() if isinstance(v, (int, float, str, bool, type(None)))
    }
    ba = getattr(proposal, "before_after", None)
    if isinstance(ba, dict):
        after = ba["after"].summary
        ps["after"] = {k: after[k] for k in _AFTER_KEYS}
    for key in ("tradeoff", "unconstrained_picks"):
        if key in proposal.summary:
            ps[key] = proposal.summary[key]
    if "sites_report" in proposal.summary:  # the rows are in sites_report.csv
        issues = pd.Series([r["issue"] for r in proposal.summary["sites_report"]], dtype=object)
        ps["sites_report_issues"] = {str(k): int(v) for k, v in issues.value_counts().items()}
    return {"objective": proposal.objective, **ps}


def scope_items(assessment: Assessment) -> dict[str, Any]:
    """Return what ``summary.json`` says of the scope: the points without precision, and a unit study.

    ``points_without_precision`` always; for a unit study (``assessment.params["study_units"]``)
    also ``study_units`` (codes), ``study_unit_names``, ``points_serving_study`` (ids) and
    ``visits_counted`` (``"study_units_only"``: the load figures count only the study's people).

    Examples
    --------
    >>> import dataclasses
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> scope_items(a)
    {'points_without_precision': 0, 'visits_counted': 'all_units'}
    >>> b = dataclasses.replace(a, params={**a.params, "study_units": ["00002"]})
    >>> s = scope_items(b)
    >>> s["study_units"], s["points_serving_study"], s["visits_counted"]
    (['00002'], ['P1'], 'study_units_only')
    """
    from pointplan.points import unknown_precision_count
    from pointplan.report.study import study_scope

    out: dict[str, Any] = {"points_without_precision": unknown_precision_count(assessment.points)}
    scope = study_scope(assessment)
    if scope is None:
        out["visits_counted"] = "all_units"
        return out
    out["study_units"] = list(scope.codes)
    out["study_unit_names"] = list(scope.names)
    out["points_serving_study"] = list(scope.serving)
    out["visits_counted"] = "study_units_only"
    return out


def summary_json(
    assessment: Assessment,
    proposal: Proposal | None,
    *,
    staffing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return ``summary.json`` of a run: headline figures, intervals, staffing, findings, proposals.

    The headline figures (:data:`pointplan.uncertainty.HEADLINE_METRICS`) are the central
    estimate (P50 of the draws) when ``assessment.uncertainty`` is set, with
    ``<metric>_interval`` and ``<metric>_at_standins`` beside them; ``figures_basis`` says
    which (``"monte_carlo_p50"`` or ``"at_standins"``, :func:`pointplan.uncertainty.headline_figures`).

    Parameters
    ----------
    assessment
        The assessment (with its ``uncertainty`` when the run computed the intervals).
    proposal
        The proposal, or None.
    staffing
        The staffing keys (``officials_assumed``, ``officials_needed``,
        ``wait_p90_min_peak_max``…) when already computed
        (:func:`pointplan.staffing.outputs.run_outputs`); computed here otherwise.

    Returns
    -------
    dict
        Strict-JSON values (NaN/inf as None, numpy scalars as Python), with every key of
        :data:`SUMMARY_KEYS`.

    Examples
    --------
    >>> from pointplan.report._demo import demo_assessment, demo_proposal
    >>> s = summary_json(demo_assessment(), demo_proposal())
    >>> s["points"], sum(s["rule_findings"].values()) == len(s["findings"]), [p["candidate_id"] for p in s["proposals"]]
    (1, True, ['c2'])
    """
    from pointplan.report.run_tables import bus_population_share_near, run_findings
    from pointplan.uncertainty.central import headline_figures

    s = dict(assessment.summary)
    s.update(unreachable_counts(assessment))
    unc = getattr(assessment, "uncertainty", None)
    if unc is not None:
        s.update(unc.summary_items())
    s.update(standards_by_mode(assessment))  # each mode's clauses; on foot the 30-min share is the headline
    s.update(headline_figures(assessment.summary, unc))  # the likely values first (issue 24), over the above
    if staffing is None:
        from pointplan.staffing.outputs import run_outputs

        staffing = run_outputs(assessment)[1]
    s.update(staffing)  # officials_assumed, officials_needed, wait_p90_min_peak_max (issue 17)
    s["bus_population_share_near"] = bus_population_share_near(assessment)  # issue 16
    f = run_findings(assessment)
    s["rule_findings"] = {sev: int((f["severity"] == sev).sum()) for sev in ("error", "warning", "info")}
    s["findings"] = f[["rule", "severity", "unit_code", "point_id", "message", "message_en"]].to_dict("records")
    s.update(scope_items(assessment))
    if proposal is not None:
        s["proposals_summary"] = _proposal_summary(proposal)
    s["proposals"] = _proposal_records(proposal) if proposal is not None else []
    missing = [k for k in SUMMARY_KEYS if k not in s]
    if missing:  # pragma: no cover - guards the contract
        msg = f"summary lacks {missing}"
        raise RuntimeError(msg)
    return strict_json(s)  # NaN/inf -> null, numpy scalars -> Python (what write_json writes)
