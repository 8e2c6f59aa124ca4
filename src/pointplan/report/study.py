"""A unit study: a run limited to some units (``pointplan run --units``, ``run(study_units=…)``).

The workflow records the studied codes in ``assessment.params["study_units"]``. The report,
``summary.json`` and the overview chart then speak of those units: the title names them
(or counts them, with the list in the method section), the points shown are those that
serve their people (the nearest point of some of their people, or a point inside them), and
the load figures say that only the study's people were counted as visitors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["StudyScope", "serving_points", "study_scope"]

#: At most this many unit names in a title; more are counted (the list is in the method section).
MAX_NAMES_IN_TITLE = 3


@dataclass(frozen=True)
class StudyScope:
    """What a unit study covers.

    Attributes
    ----------
    codes
        The studied unit codes, in the order given.
    names
        Their display names (``full_name``, e.g. ``"Phường Đống Đa"``), same order.
    serving
        The ids of the points that serve them (nearest point of some of their people, or inside them).
    points_total
        How many points the scenario has in all (the city's).

    Examples
    --------
    >>> s = StudyScope(("00235",), ("Phường Đống Đa",), ("DP00235",), 131)
    >>> s.label("vi"), s.label("en")
    ('Phường Đống Đa', 'Phường Đống Đa')
    """

    codes: tuple[str, ...]
    names: tuple[str, ...]
    serving: tuple[str, ...]
    points_total: int

    def label(self, lang: str) -> str:
        """Return the units named (up to :data:`MAX_NAMES_IN_TITLE`), else the first and a count.

        Examples
        --------
        >>> s = StudyScope(tuple("abcd"), ("A", "B", "C", "D"), (), 0)
        >>> s.label("vi"), s.label("en")
        ('A và 3 đơn vị khác', 'A and 3 other units')
        """
        if len(self.names) <= MAX_NAMES_IN_TITLE:
            return ", ".join(self.names)
        rest = len(self.names) - 1
        return f"{self.names[0]} và {rest} đơn vị khác" if lang == "vi" else f"{self.names[0]} and {rest} other units"

    def listing(self) -> str:
        """Every studied unit with its code, for the method section.

        Examples
        --------
        >>> StudyScope(("00235", "00229"), ("Phường Đống Đa", "Phường Kim Liên"), (), 0).listing()
        'Phường Đống Đa (00235), Phường Kim Liên (00229)'
        """
        return ", ".join(f"{n} ({c})" for n, c in zip(self.names, self.codes, strict=True))


def serving_points(assessment: Any) -> pd.Index:
    """Return the ids of the points that serve the assessed units' people.

    A point serves them when it is the nearest point of some demand point with people, or
    when it stands inside one of the units.

    Examples
    --------
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> serving_points(tiny_assessment()).tolist()  # the one point is nearest to all
    ['P1']
    """
    pts = assessment.points
    dem = assessment.demand
    used: set[str] = set()
    if "nearest_point" in dem.columns:
        people = pd.to_numeric(dem.get("population", 1), errors="coerce").fillna(0) > 0
        used = {str(p) for p in dem.loc[people, "nearest_point"].dropna()}
    inside = set(assessment.units.index.astype(str))
    codes = pts["unit_code"].astype(str) if "unit_code" in pts.columns else pd.Series("", index=pts.index)
    keep = pts.index.astype(str).isin(used) | codes.isin(inside).to_numpy()
    return pts.index[keep]


def study_scope(assessment: Any) -> StudyScope | None:
    """Return the scope of a unit study (None when the run studied every unit).

    Examples
    --------
    >>> import dataclasses
    >>> from pointplan.assessment._demo import tiny_assessment
    >>> a = tiny_assessment()
    >>> study_scope(a) is None
    True
    >>> b = dataclasses.replace(a, params={**a.params, "study_units": ["00002"]})
    >>> s = study_scope(b)
    >>> s.codes, s.points_total
    (('00002',), 1)
    """
    codes = (getattr(assessment, "params", None) or {}).get("study_units")
    if not codes:
        return None
    units = assessment.units
    codes = tuple(str(c) for c in codes if str(c) in units.index)
    col = "full_name" if "full_name" in units.columns else ("name" if "name" in units.columns else None)
    names = tuple(str(units.at[c, col]) if col else c for c in codes)
    serving = tuple(str(p) for p in serving_points(assessment))
    return StudyScope(codes, names, serving, len(assessment.points))
