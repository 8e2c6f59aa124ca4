"""A network engine whose roads are read when first needed: :class:`DeferredNetworkEngine`.

A run that finds every travel time it needs among the results kept on disk
(:mod:`pointplan._results`) never routes, so it need not read the road graphs at all (about
0.3 s a mode for the inner city, more for larger roads). The engine of a road file whose
converted graph is in the disk cache is made at once with what keys its answers (the cache
entry's name, which hashes the file's bytes, the mode and the options); the roads are read the
first time the engine routes, snaps or is asked for its graph, and it then behaves exactly as
the :class:`~pointplan.network.NetworkEngine` of that file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pointplan._results import digest
from pointplan._validate import projected_crs
from pointplan.network._common import Mode
from pointplan.network.base import EngineBase
from pointplan.network.engine import NetworkEngine, _check_ratio, _checked_options
from pointplan.network.speeds import ACCESS_SPEEDS_KMH

__all__ = ["DeferredNetworkEngine", "entry_fingerprint"]

#: What a :class:`NetworkEngine` keeps on the instance once built: read from the roads.
_READ_ON_USE = frozenset({"graph", "_g", "conversion_seconds", "pedestrian_ways", "walk_correction"})


def entry_fingerprint(
    entry: str, mode: str, access_speed_kmh: float | None, max_snap_m: float, walk_correction: float | None
) -> bytes:
    """Fingerprint of the engine of a road file's disk-cache entry with these options (eager or deferred alike).

    Examples
    --------
    >>> entry_fingerprint("walk_1", "walk", None, 500.0, None) == entry_fingerprint("walk_1", "walk", None, 500, None)
    True
    """
    speed = ACCESS_SPEEDS_KMH[mode] if access_speed_kmh is None else float(access_speed_kmh)
    return digest("network-entry", entry, mode, float(speed), float(max_snap_m), walk_correction)


class DeferredNetworkEngine(NetworkEngine):
    """A :class:`~pointplan.network.NetworkEngine` that reads its roads the first time it needs them.

    Parameters
    ----------
    build
        Returns the engine of the same roads and options (called once, at first use).
    mode
        Travel mode.
    entry
        What identifies the converted roads (the disk-cache entry's name): with the options
        it makes :attr:`fingerprint`.
    access_speed_kmh, max_snap_m, walk_correction
        The options ``build`` uses (as for :class:`~pointplan.network.NetworkEngine`).
    for_mode
        ``for_mode(mode)``: the engine of the same roads for another mode.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32648")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=500.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=500.0, highway="primary")
    >>> eng = DeferredNetworkEngine(lambda: NetworkEngine(G, "motorbike"), "motorbike", "demo")
    >>> eng.loaded, eng.fingerprint == DeferredNetworkEngine(lambda: G, "motorbike", "demo").fingerprint
    (False, True)
    >>> eng.graph is G, eng.loaded  # the first use reads the roads
    (True, True)
    """

    def __init__(
        self,
        build: Callable[[], NetworkEngine],
        mode: Mode,
        entry: str,
        *,
        access_speed_kmh: float | None = None,
        max_snap_m: float = 500.0,
        walk_correction: float | None = None,
        for_mode: Callable[[str], NetworkEngine] | None = None,
    ) -> None:
        EngineBase.__init__(self, mode)
        self.__dict__["_build"] = build
        self.access_speed_kmh, self.max_snap_m = _checked_options(self.mode, access_speed_kmh, max_snap_m)
        if walk_correction is not None:
            _check_ratio(walk_correction)
        self.crs = projected_crs()  # load_network projects every graph to it
        self.for_mode = for_mode
        self.from_file = True
        self.entry_fingerprint = entry_fingerprint(entry, self.mode, self.access_speed_kmh, max_snap_m, walk_correction)

    @property
    def loaded(self) -> bool:
        """Whether the roads were read."""
        return "_build" not in self.__dict__

    def __getattr__(self, name: str) -> Any:
        """Read the roads when something only they give is asked for (then answer as the built engine)."""
        if name not in _READ_ON_USE or "_build" not in self.__dict__:
            raise AttributeError(name)
        built = self.__dict__["_build"]()  # a failed read leaves the builder: the next use tries again
        del self.__dict__["_build"]
        kept = ("for_mode", "_mode", "from_file", "entry_fingerprint")
        self.__dict__.update({k: v for k, v in vars(built).items() if k not in kept})
        return self.__dict__[name]

    def __getstate__(self) -> dict[str, Any]:
        """Read the roads before being copied or sent to another process (the builder stays here)."""
        if not self.loaded:
            self.__getattr__("_g")
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
