"""Floating catchments of very many points: the points grouped into grid cells.

The 2SFCA, the E2SFCA and the Huff load need every pair of a demand place and a point
within the catchment (30 minutes): with a few hundred points that is cheap, but a city
covered by 200,000 kiosks would need billions of routed pairs. Above
:data:`pointplan.settings.catchment_max_points` points, :func:`group_points` puts the
points into square grid cells (250 m, doubled until there are at most that many
occupied cells) and the catchment pairs are routed to one point per cell (the one
nearest the cell's counter-weighted centre):

* the 2SFCA/E2SFCA count each cell as one point holding the cell's counters, so a
  demand place's figure is that of all the points moved onto their cell's
  representative: exact where the points of a cell share one place, and off by at most
  the time across a cell otherwise;
* the Huff visits of a cell are shared among its points by their counters (exact for
  co-located points, since they are equally far from everyone);
* everything read from the nearest point (travel times, the standard, loads via the
  nearest point) stays exact: the nearest point is always found among all the points.

The summary records what the figures rest on (:func:`catchment_summary`).

Examples
--------
>>> import numpy as np
>>> g = group_points(np.array([[10.0, 10.0], [20.0, 30.0], [900.0, 10.0]]), np.ones(3), 2)
>>> g.of_point.tolist(), g.representative.tolist(), g.cell_m
([0, 0, 1], [0, 2], 250.0)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pointplan import settings
from pointplan._errors import InputError

__all__ = [
    "FIRST_CELL_M",
    "PointGroups",
    "catchment_summary",
    "draws_service_areas",
    "group_points",
    "per_point_findings",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Side (metres) of the first grid tried by :func:`group_points`; doubled until few enough cells.
FIRST_CELL_M = 250.0


@dataclass(frozen=True)
class PointGroups:
    """Points grouped into grid cells for the floating catchments.

    Attributes
    ----------
    of_point
        Group (0-based) of each point, in the points' order.
    representative
        Position of each group's representative point (routed for the whole group).
    cell_m
        Side of the grid cells (metres).

    Examples
    --------
    >>> g = PointGroups(np.array([0, 0, 1]), np.array([1, 2]), 500.0)
    >>> g.n_groups, g.group_sum(np.array([1.0, 2.0, 4.0])).tolist()
    (2, [3.0, 4.0])
    """

    of_point: IntArray
    representative: IntArray
    cell_m: float

    @property
    def n_groups(self) -> int:
        """Number of groups (occupied cells)."""
        return len(self.representative)

    def group_sum(self, values: FloatArray) -> FloatArray:
        """Sum ``values`` (one per point) over each group.

        Examples
        --------
        >>> PointGroups(np.array([1, 0, 1]), np.array([1, 0]), 250.0).group_sum(np.array([1.0, 2.0, 3.0])).tolist()
        [2.0, 4.0]
        """
        return np.bincount(self.of_point, weights=values, minlength=self.n_groups).astype(float)


def group_points(
    xy: FloatArray, weights: FloatArray, max_groups: int, *, first_cell_m: float = FIRST_CELL_M
) -> PointGroups:
    """Group points into square grid cells: ``first_cell_m``, doubled until at most ``max_groups`` are occupied.

    Parameters
    ----------
    xy
        Projected coordinates (metres), one row per point.
    weights
        Non-negative weight of each point (its counters) for the cell's centre.
    max_groups
        Most groups wanted (at least 1).
    first_cell_m
        Side of the first grid tried (metres).

    Returns
    -------
    PointGroups
        Each point's group and each group's representative: the member nearest the
        group's weighted centre (the first such member on a tie).

    Raises
    ------
    InputError
        ``max_groups`` below 1, coordinates that are not finite, or mismatched lengths.

    Examples
    --------
    Four points, two of them in one 250-m cell, at most three groups:

    >>> xy = np.array([[0.0, 0.0], [100.0, 0.0], [600.0, 0.0], [1200.0, 0.0]])
    >>> g = group_points(xy, np.array([1.0, 3.0, 1.0, 1.0]), 3)
    >>> g.of_point.tolist(), g.representative.tolist()
    ([0, 0, 1, 2], [1, 2, 3])
    >>> group_points(xy, np.ones(4), 2).cell_m  # 500 m still leaves three cells
    1000.0
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    w = np.asarray(weights, dtype=float)
    if int(max_groups) < 1 or len(w) != len(xy) or not np.isfinite(xy).all() or not first_cell_m > 0:
        msg = (
            f"group_points needs finite coordinates, one weight per point ({len(xy)} points, {len(w)} "
            f"weights), max_groups >= 1 (got {max_groups}) and first_cell_m > 0 (got {first_cell_m})."
        )
        raise InputError(msg)
    cell = float(first_cell_m)
    origin = xy.min(axis=0) if len(xy) else np.zeros(2)
    while True:
        keys = np.floor((xy - origin) / cell).astype(np.int64)
        _, of_point = np.unique(keys, axis=0, return_inverse=True)
        of_point = of_point.reshape(-1).astype(np.int64)
        n = int(of_point.max()) + 1 if len(of_point) else 0
        if n <= max_groups:
            break
        cell *= 2.0
    return PointGroups(of_point, _representatives(xy, np.maximum(w, 1e-9), of_point, n), cell)


def _representatives(xy: FloatArray, w: FloatArray, of_point: IntArray, n: int) -> IntArray:
    """Return the member of each group nearest its weighted centre (the first on a tie)."""
    if n == 0:
        return np.zeros(0, np.int64)
    total = np.bincount(of_point, weights=w, minlength=n)
    centre = np.column_stack([np.bincount(of_point, weights=w * xy[:, c], minlength=n) / total for c in (0, 1)])
    d2 = ((xy - centre[of_point]) ** 2).sum(axis=1)
    order = np.lexsort((np.arange(len(xy)), d2, of_point))
    first = np.r_[0, np.flatnonzero(np.diff(of_point[order])) + 1]
    return order[first].astype(np.int64)


def catchment_summary(n_points: int, groups: PointGroups | None) -> dict[str, Any]:
    """Return the summary's keys saying what the floating catchments and Huff loads rest on.

    None for every pair routed (the summary of an ordinary scenario stays as it was).

    Examples
    --------
    >>> catchment_summary(131, None)
    {}
    >>> s = catchment_summary(3, PointGroups(np.array([0, 0, 1]), np.array([0, 2]), 500.0))
    >>> s["catchment_method"], s["catchment_groups"], s["catchment_cell_m"], "service_areas_drawn" in s
    ('grid cells', 2, 500.0, False)
    >>> catchment_summary(200_000, None)
    {'service_areas_drawn': False, 'point_findings_by_unit': True, 'map_markers_by_cell': True, \
'xlsx_points_in_csv_only': True}
    """
    out: dict[str, Any] = {}
    if groups is not None:
        out = {
            "catchment_method": "grid cells",
            "catchment_points": int(n_points),
            "catchment_groups": groups.n_groups,
            "catchment_cell_m": float(groups.cell_m),
        }
    if not draws_service_areas(n_points):
        out["service_areas_drawn"] = False
    if not per_point_findings(n_points):
        out["point_findings_by_unit"] = True
    if int(n_points) > int(settings.map_markers_max_points):
        out["map_markers_by_cell"] = True
    if int(n_points) > int(settings.xlsx_max_rows):
        out["xlsx_points_in_csv_only"] = True
    return out


def per_point_findings(n_points: int) -> bool:
    """Say whether a run reports points without a bus stop nearby one by one (else one finding per unit).

    Not above :data:`pointplan.settings.point_findings_max_points`.

    Examples
    --------
    >>> per_point_findings(131), per_point_findings(200_000)
    (True, False)
    """
    return int(n_points) <= int(settings.point_findings_max_points)


def draws_service_areas(n_points: int) -> bool:
    """Say whether per-point service areas are drawn for ``n_points`` points.

    Not above :data:`pointplan.settings.service_areas_max_points`.

    Examples
    --------
    >>> draws_service_areas(131), draws_service_areas(200_000)
    (True, False)
    """
    return int(n_points) <= int(settings.service_areas_max_points)
