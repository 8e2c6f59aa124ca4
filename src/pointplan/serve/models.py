"""Validated request bodies of the editor's API (pydantic).

Examples
--------
>>> Move(point_id="P1", lon=105.8, lat=21.0).lon
105.8
>>> Counters.model_validate({"point_id": "P1", "counters": -3})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Counters
...
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Add", "Counters", "Empty", "Mode", "Move", "Propose", "Remove"]

Kind = Literal["kiosk", "community", "unit_point", "branch", "mobile"]
TravelMode = Literal["walk", "bike", "motorbike", "car"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class Move(_Body):
    """Move a point to lon/lat (EPSG:4326).

    Examples
    --------
    >>> Move(point_id="P1", lon=105.8, lat=21.0).point_id
    'P1'
    """

    point_id: str = Field(min_length=1, max_length=100)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class Add(_Body):
    """Open a point at lon/lat.

    Examples
    --------
    >>> Add(lon=105.8, lat=21.0).kind, Add(lon=105.8, lat=21.0).counters
    ('kiosk', 1)
    """

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    kind: Kind = "kiosk"
    counters: int = Field(default=1, ge=1, le=50)
    name: str | None = Field(default=None, max_length=200)


class Remove(_Body):
    """Close a point.

    Examples
    --------
    >>> Remove(point_id="P1").point_id
    'P1'
    """

    point_id: str = Field(min_length=1, max_length=100)


class Counters(_Body):
    """Set a point's counters (1 to 50).

    Examples
    --------
    >>> Counters(point_id="P1", counters=4).counters
    4
    """

    point_id: str = Field(min_length=1, max_length=100)
    counters: int = Field(ge=1, le=50)


class Mode(_Body):
    """Switch the travel mode.

    Examples
    --------
    >>> Mode(mode="walk").mode
    'walk'
    """

    mode: TravelMode


class Propose(_Body):
    """Ask for ``n`` proposals (1 to 20).

    Examples
    --------
    >>> Propose().n
    5
    """

    n: int = Field(default=5, ge=1, le=20)


class Empty(_Body):
    """No parameters (undo, redo).

    Examples
    --------
    >>> Empty().model_dump()
    {}
    """
