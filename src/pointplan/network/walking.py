"""Walking where people walk: pedestrian ways, and the correction for a drive-only network.

A network downloaded for cars (osmnx's ``drive`` network, like the inner city's network
shipped with pointplan) has no footways, paths, steps or alleys (ngõ tagged
``service``). Walking on it goes round blocks that people cut through, and the walk from
a door to the nearest car street is counted as a straight line. The correction is
measured where both exist: on the Văn Miếu extract shipped in ``data/osm`` (footways,
alleys and service ways), door-to-door walking minutes on the full pedestrian network
against the same trips on its drive-only subset (:func:`pointplan.network.calibration.fit_walk_correction`).
The ratio (drive-only / pedestrian minutes) is shipped in the fallback calibration file;
a :class:`~pointplan.network.NetworkEngine` for walking divides its times by it when its
graph has no pedestrian ways, and says so (``walk_network_kind``).
"""

# ruff: noqa: N803 - `G` for a graph

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx

from pointplan.network._common import _highway_key

__all__ = [
    "DRIVE_ONLY_EXCLUDED",
    "PEDESTRIAN_HIGHWAYS",
    "WalkCorrection",
    "WalkNetworkKind",
    "has_pedestrian_ways",
    "is_drive_only",
    "walk_kind",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: How walking times were computed: on a network with pedestrian ways, on a drive-only
#: network with the measured correction, on a drive network without it (too small to
#: tell, or the correction turned off), or by the straight-line fallback.
WalkNetworkKind = Literal["pedestrian", "drive_corrected", "drive", "straight_line"]

#: Ways that only a network for pedestrians holds (osmnx's ``walk``/``all`` networks).
PEDESTRIAN_HIGHWAYS: frozenset[str] = frozenset({"footway", "path", "pedestrian", "steps", "corridor", "bridleway"})

#: Ways osmnx's ``drive`` network leaves out (its filter), used to cut the drive-only
#: subset out of a full network when the correction is measured.
DRIVE_ONLY_EXCLUDED: frozenset[str] = frozenset(
    {
        "abandoned", "bridleway", "bus_guideway", "construction", "corridor", "cycleway",
        "elevator", "escalator", "footway", "no", "path", "pedestrian", "planned", "platform",
        "proposed", "raceway", "razed", "service", "steps", "track",
    }
)  # fmt: skip

#: A graph with fewer passable edges than this is too small to call drive-only.
DRIVE_ONLY_MIN_EDGES = 1000


def has_pedestrian_ways(G: nx.MultiDiGraph, *, min_share: float = 0.01) -> bool:
    """Whether a road graph holds pedestrian ways (footways, paths, steps...).

    Parameters
    ----------
    G
        Road graph with ``highway`` edge tags.
    min_share
        Share of the edges that must be pedestrian ways (a stray footway in a drive
        network does not make it one).

    Returns
    -------
    bool

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> _ = G.add_edge(1, 2, highway="residential"); _ = G.add_edge(2, 3, highway="footway")
    >>> has_pedestrian_ways(G), has_pedestrian_ways(nx.MultiDiGraph([(1, 2, {"highway": "primary"})]))
    (True, False)

    """
    return _pedestrian(*_edge_tally(G), min_share)


def _pedestrian(m: int, n_ped: int, min_share: float = 0.01) -> bool:
    return m > 0 and n_ped >= max(1.0, min_share * m)


def walk_kind(G: nx.MultiDiGraph) -> tuple[bool, bool]:
    """Return ``(has_pedestrian_ways(G), is_drive_only(G))`` from one reading of the edges.

    Examples
    --------
    >>> import networkx as nx
    >>> walk_kind(nx.MultiDiGraph([(1, 2, {"highway": "footway"})]))
    (True, False)
    """
    m, n_ped = _edge_tally(G)
    ped = _pedestrian(m, n_ped)
    return ped, m >= DRIVE_ONLY_MIN_EDGES and not ped


def _edge_tally(G: nx.MultiDiGraph) -> tuple[int, int]:
    """Return (edges, pedestrian edges) of ``G``, read once from its adjacency.

    Each distinct ``highway`` tag (a few dozen values) is looked up once, not once per edge
    (170,000 on the inner city); the adjacency is read directly, as networkx's own
    ``number_of_edges`` does through slower views.
    """
    raw = getattr(G, "_adj", None)  # networkx's own dicts: its views wrap every entry read
    if G.is_multigraph() and isinstance(raw, dict):
        data = (d for nbrs in raw.values() for keydict in nbrs.values() for d in keydict.values())
    else:
        data = (d for _, _, d in G.edges(data=True))
    tags = Counter([_hashable(d.get("highway")) for d in data])
    m = sum(tags.values())
    n_ped = sum(n for tag, n in tags.items() if PEDESTRIAN_HIGHWAYS & set(_highway_key(tag)))
    return m, n_ped


def _hashable(tag: Any) -> Any:
    """Return a ``highway`` tag as a dictionary key (osmnx gives a list where ways were merged)."""
    return tuple(tag) if isinstance(tag, list | set) else tag


def is_drive_only(G: nx.MultiDiGraph) -> bool:
    """Whether walking on ``G`` needs the drive-only correction.

    True for a graph of at least :data:`DRIVE_ONLY_MIN_EDGES` edges without pedestrian
    ways (:func:`has_pedestrian_ways`); a smaller graph is too small to tell.

    Parameters
    ----------
    G
        Road graph.

    Returns
    -------
    bool

    Examples
    --------
    >>> import networkx as nx
    >>> is_drive_only(nx.MultiDiGraph([(1, 2, {"highway": "primary"})]))  # too small to tell
    False

    """
    return walk_kind(G)[1]


@dataclass(frozen=True)
class WalkCorrection:
    """Door-to-door walking minutes on a drive-only network over those on the pedestrian network.

    Attributes
    ----------
    ratio
        Median ratio (drive-only / pedestrian); walking times on a drive-only network are
        divided by it.
    log_sigma
        Spread of the log ratio around its median, as a normal standard deviation
        (median absolute deviation / 0.6745): the correction's error for one trip.
    stats
        How it was measured (pairs, quantiles, source file and its sha256).

    Examples
    --------
    >>> c = WalkCorrection(1.25, 0.1)
    >>> c.minutes(12.5), c.to_dict()["ratio"]
    (10.0, 1.25)

    """

    ratio: float
    log_sigma: float
    stats: dict[str, Any] | None = None

    def minutes(self, drive_minutes: float) -> float:
        """Return walking minutes for minutes routed on a drive-only network."""
        return float(drive_minutes) / self.ratio

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data (as stored in the calibration file)."""
        return {"ratio": round(self.ratio, 4), "log_sigma": round(self.log_sigma, 4), **(self.stats or {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WalkCorrection:
        """Build it from :meth:`to_dict` data."""
        ratio, sigma = float(data["ratio"]), float(data["log_sigma"])
        if not (math.isfinite(ratio) and ratio > 0 and math.isfinite(sigma) and sigma >= 0):
            msg = f"A walking correction needs a ratio > 0 and a log_sigma >= 0, got {ratio!r}, {sigma!r}."
            raise ValueError(msg)
        return cls(ratio, sigma, {k: v for k, v in data.items() if k not in {"ratio", "log_sigma"}})
