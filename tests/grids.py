"""Synthetic road grids shared by the tests (tests/grids.py)."""

from __future__ import annotations

import networkx as nx

from pointplan.network import CrowFliesEngine, HybridEngine, NetworkEngine


def grid_hybrid() -> HybridEngine:
    """A 5 × 5 street grid, 500 m apart (30 km/h on primary roads), and the calibrated straight line beside it."""
    G = nx.MultiDiGraph(crs="EPSG:32648")
    for i in range(5):
        for k in range(5):
            G.add_node(i * 5 + k, x=585000.0 + 500 * i, y=2325000.0 + 500 * k)
    for i in range(5):
        for k in range(5):
            for di, dk in ((1, 0), (0, 1)):
                if i + di < 5 and k + dk < 5:
                    a, b = i * 5 + k, (i + di) * 5 + k + dk
                    G.add_edge(a, b, length=500.0, highway="primary")
                    G.add_edge(b, a, length=500.0, highway="primary")
    return HybridEngine(NetworkEngine(G, "motorbike"), CrowFliesEngine("motorbike", circuity=1.3), snap_m=100)
