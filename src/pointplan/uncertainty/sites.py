"""Where a stand-in's head office may really be: its own site first, then the populated places.

A stand-in is the best guess the evidence allows, so the draws treat it as the most likely
site and spread it only as far as the evidence leaves room for. The real site is drawn from a
discrete distribution over the stand-in itself and the populated places (demand places with
people) around it. Each place ``k`` weighs

    w_k = population_k × K(d_k)

where ``d_k`` is its distance from the stand-in and ``K`` the kernel of the stand-in's
precision (below). The stand-in stands for the place nearest to it (the cell it lies in): it
takes that place's population at distance 0, ``w_0 = population_nearest × K(0)``, and that
place leaves the list when it lies within the stand-in's cell (closer than 0.75 × the typical
spacing of the demand places; farther places stay). The stand-in is then the mode of the
density "people × closeness to the evidence": the single most likely site.

By precision (:data:`pointplan.points.LOCATION_PRECISIONS`):

* ``street_in_unit``, ``place_in_unit``: the address names the street (or place); its
  populated places of the unit with ``K(d) = exp(-d / street_radius_m)`` (500 m);
* ``unit_population_centre``: among the populated places of its unit, weighted towards it,
  ``K(d) = exp(-d / centre_radius_m)`` (1,500 m);
* ``old_unit_reference``: the reference point of a pre-2025 ward; populated places within
  ``reference_radius_m`` (1,500 m), by population (``K = 1`` inside);
* ``unit_representative_point`` and ``unknown``: the populated places of the unit, by
  population only (``K = 1``);
* ``surveyed``, ``reviewed``, ``geocoded``, ``osm_mapped``: never move.

Examples
--------
>>> import numpy as np
>>> dem_xy = np.array([[0.0, 0.0], [1000.0, 0.0], [3000.0, 0.0]])
>>> pop = np.array([100.0, 200.0, 60.0])
>>> xy, cum = site_choices(np.array([100.0, 0.0]), dem_xy, pop, np.ones(3, bool), 500.0, 1000.0)
>>> xy.tolist()  # the stand-in (for the place 100 m away, in its cell), then the other places
[[100.0, 0.0], [1000.0, 0.0], [3000.0, 0.0]]
>>> np.diff(cum, prepend=0).round(3).tolist()  # 100, 200 e^-1.8, 60 e^-5.8
[0.751, 0.248, 0.001]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

__all__ = ["STREET_PRECISIONS", "demand_spacing", "kernel_radius", "site_choices"]

FloatArray = npt.NDArray[np.float64]

#: Precisions whose address names a street or a place of the unit (spread by ``street_radius_m``).
STREET_PRECISIONS: frozenset[str] = frozenset({"street_in_unit", "place_in_unit"})

#: A place closer than this share of the demand spacing holds the stand-in in its cell.
_CELL_SHARE = 0.75


def demand_spacing(dem_xy: FloatArray) -> float:
    """Return the typical distance (m) between neighbouring demand places (their median).

    Examples
    --------
    >>> demand_spacing(np.array([[0.0, 0.0], [250.0, 0.0], [500.0, 0.0]]))
    250.0
    """
    if len(dem_xy) < 2:
        return 0.0
    d, _ = cKDTree(dem_xy).query(dem_xy, k=2)
    return float(np.median(d[:, 1]))


def kernel_radius(precision: str, street_radius_m: float, centre_radius_m: float) -> float:
    """Return the radius (m) of ``K(d) = exp(-d / radius)`` for a precision (inf: ``K = 1``).

    Examples
    --------
    >>> kernel_radius("street_in_unit", 500, 1500), kernel_radius("unit_representative_point", 500, 1500)
    (500.0, inf)
    """
    if precision in STREET_PRECISIONS:
        return float(street_radius_m)
    if precision == "unit_population_centre":
        return float(centre_radius_m)
    return float(np.inf)


def site_choices(
    stand_in: FloatArray,
    dem_xy: FloatArray,
    pop: FloatArray,
    candidate: npt.NDArray[np.bool_],
    radius_m: float,
    spacing_m: float,
) -> tuple[FloatArray, FloatArray]:
    """Return the sites a stand-in may really stand at and their cumulative probabilities.

    Parameters
    ----------
    stand_in
        The stand-in's projected coordinates (metres).
    dem_xy, pop
        The demand places' coordinates and people.
    candidate
        Which demand places it may move to (populated, of its unit or within reach).
    radius_m
        Kernel radius (:func:`kernel_radius`; ``inf``: by population only).
    spacing_m
        Typical spacing of the demand places (:func:`demand_spacing`).

    Returns
    -------
    tuple of numpy.ndarray
        ``(k, 2)`` coordinates, the stand-in first, and the cumulative probabilities (the last
        is 1). A stand-in with no populated place around stays where it is: ``([stand_in], [1])``.

    Examples
    --------
    A stand-in on a place of 30 people, another place of 10 people 1 km away, an empty one:
    it stays with probability 30/40, moves with 10/40 (population only, ``radius_m=inf``).

    >>> xy = np.array([[0.0, 0.0], [1000.0, 0.0], [2000.0, 0.0]])
    >>> sites, cum = site_choices(np.zeros(2), xy, np.array([30.0, 10.0, 0.0]), np.ones(3, bool), np.inf, 250.0)
    >>> sites.tolist(), cum.tolist()
    ([[0.0, 0.0], [1000.0, 0.0]], [0.75, 1.0])
    """
    idx = np.flatnonzero(candidate & (pop > 0))
    here = np.asarray(stand_in, dtype=float).reshape(1, 2)
    if len(idx) == 0:
        return here, np.ones(1)
    d = np.hypot(*(dem_xy[idx] - here).T)
    weight = pop[idx] * (np.exp(-d / radius_m) if np.isfinite(radius_m) else 1.0)
    near = int(np.argmin(d))
    own = pop[idx[near]]  # the density where the stand-in is, at distance 0
    keep = np.ones(len(idx), dtype=bool)
    if d[near] < _CELL_SHARE * spacing_m:
        keep[near] = False
    w = np.concatenate([[own], weight[keep]])
    cum = np.cumsum(w)
    return np.vstack([here, dem_xy[idx[keep]]]), cum / cum[-1]
