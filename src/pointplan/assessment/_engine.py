"""The travel-time engine the assessment needs: one definition, :class:`pointplan.network.TravelEngine`.

Examples
--------
>>> from pointplan.assessment import TravelEngine
>>> from pointplan.network import CrowFliesEngine
>>> isinstance(CrowFliesEngine("walk"), TravelEngine)
True
"""

from __future__ import annotations

from pointplan.network.protocol import TravelEngine

__all__ = ["TravelEngine"]
