"""The straight-line fallback model and the calibration shipped with pointplan.

The model (circuity and effective speed by straight-line distance band, see
:mod:`pointplan.network.calibration` for how it is fitted) and its reading live here,
below both the engines that use it (:mod:`~pointplan.network.fallback`) and the fitting
that needs the network engine (:mod:`~pointplan.network.calibration`), so neither imports
the other.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pointplan._errors import InputError
from pointplan.network._common import FloatArray
from pointplan.network.walking import WalkCorrection

__all__ = [
    "DEFAULT_BANDS_M",
    "DEFAULT_CALIBRATION_FILE",
    "DEFAULT_CIRCUITY",
    "WALK_CORRECTION_KEY",
    "FallbackCalibration",
    "FallbackModel",
    "load_calibration",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Circuity (network / straight-line distance) of the plain, uncalibrated model.
DEFAULT_CIRCUITY: float = 1.3

#: Distance band edges (m) of the fitted model; the last band runs on without end.
DEFAULT_BANDS_M: tuple[float, ...] = (0.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0)

#: Key of the walking correction (:class:`~pointplan.network.walking.WalkCorrection`) in a calibration file.
WALK_CORRECTION_KEY = "walk_drive_network_correction"

#: The calibration shipped with pointplan (fitted on the inner city's drive network).
DEFAULT_CALIBRATION_FILE = Path(__file__).with_name("data") / "hanoi_fallback_2025.json"


def _basis(straight_m: FloatArray, knots_m: FloatArray, min_rows: int = 1) -> FloatArray:
    """Part of each distance inside each band: (n, bands); the last band has no end.

    ``min_rows`` pads the table with zero distances up to that many rows: a one-row
    product takes another path through BLAS than a longer one (last-bit differences), so
    a distance taken out of a longer array keeps the value it has there.
    """
    d = np.asarray(straight_m, float)
    if len(d) < min_rows:
        d = np.concatenate([d, np.zeros(min_rows - len(d))])
    lo = knots_m[None, :]
    hi = np.append(knots_m[1:], np.inf)[None, :]
    out = np.maximum(d[:, None], lo)  # np.clip's values, in place (fewer passes over the table)
    np.minimum(out, hi, out=out)
    out -= lo
    return out


@dataclass(frozen=True)
class FallbackModel:
    """Straight-line model for one mode: circuity and effective speed by distance band.

    Attributes
    ----------
    mode : str
        Travel mode.
    knots_m : numpy.ndarray
        Band edges (m), starting at 0.
    circuity : numpy.ndarray
        Network metres per straight metre within each band.
    speed_kmh : numpy.ndarray
        Effective speed (km/h) over the network metres of each band.

    Examples
    --------
    >>> m = FallbackModel("walk", np.array([0.0, 1000.0]), np.array([1.5, 1.2]), np.array([4.5, 4.5]))
    >>> m.minutes(np.array([1000.0, 2000.0])).round(2).tolist()  # 1.5 km, then 1.5 + 1.2 km at 4.5 km/h
    [20.0, 36.0]
    >>> float(m.max_straight_m(36.0))
    2000.0

    """

    mode: str
    knots_m: FloatArray
    circuity: FloatArray
    speed_kmh: FloatArray
    stats: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def _sec_per_m(self) -> FloatArray:
        return self.circuity / (self.speed_kmh / 3.6)

    def minutes(self, straight_m: FloatArray, *, min_rows: int = 1) -> FloatArray:
        """Travel minutes for straight-line distances (m) (``min_rows``: see :meth:`minutes_and_distance`)."""
        n = len(np.atleast_1d(straight_m))
        return (_basis(straight_m, self.knots_m, min_rows) @ self._sec_per_m / 60.0)[:n]

    def distance_m(self, straight_m: FloatArray, *, min_rows: int = 1) -> FloatArray:
        """Network distance (m) for straight-line distances (m)."""
        n = len(np.atleast_1d(straight_m))
        return (_basis(straight_m, self.knots_m, min_rows) @ self.circuity)[:n]

    def minutes_and_distance(self, straight_m: FloatArray, *, min_rows: int = 1) -> tuple[FloatArray, FloatArray]:
        """Minutes and network distance (m) for straight-line distances (m), the bands worked out once.

        Parameters
        ----------
        straight_m
            Straight-line distances (m).
        min_rows
            Compute as if there were at least this many distances (2: the values a distance
            has inside a longer array, when it was taken out of one).

        Returns
        -------
        tuple of numpy.ndarray
            The same values as :meth:`minutes` and :meth:`distance_m`.

        Examples
        --------
        >>> m = FallbackModel("walk", np.array([0.0, 1000.0]), np.array([1.5, 1.2]), np.array([4.5, 4.5]))
        >>> [x.round(2).tolist() for x in m.minutes_and_distance(np.array([1000.0, 2000.0]))]
        [[20.0, 36.0], [1500.0, 2700.0]]

        """
        n = len(np.atleast_1d(straight_m))
        basis = _basis(straight_m, self.knots_m, min_rows)
        return (basis @ self._sec_per_m / 60.0)[:n], (basis @ self.circuity)[:n]

    def max_straight_m(self, minutes: float) -> float:
        """Longest straight-line distance reached within ``minutes`` (the inverse of :meth:`minutes`)."""
        target = float(minutes) * 60.0
        knots_s = np.concatenate([[0.0], np.cumsum(np.diff(self.knots_m) * self._sec_per_m[:-1])])
        b = int(np.searchsorted(knots_s, target, side="right") - 1)
        b = min(max(b, 0), len(self.knots_m) - 1)
        rate = self._sec_per_m[b]
        if rate <= 0:
            return math.inf
        return float(self.knots_m[b] + (target - knots_s[b]) / rate)

    def to_dict(self) -> dict[str, Any]:
        """Return the model as JSON-ready lists (no NaN or inf)."""
        return {
            "circuity": [round(float(c), 4) for c in self.circuity],
            "speed_kmh": [round(float(v), 3) for v in self.speed_kmh],
            **self.stats,
        }


@dataclass(frozen=True)
class FallbackCalibration:
    """Fitted straight-line models for every mode, and how they were fitted.

    Examples
    --------
    >>> cal = load_calibration()
    >>> sorted(cal.models) == ["bike", "car", "motorbike", "walk"] and cal.bands_m[0] == 0.0
    True
    >>> bool(1.0 < cal.models["motorbike"].minutes(np.array([3000.0]))[0] < 30.0)
    True

    """

    models: dict[str, FallbackModel]
    bands_m: tuple[float, ...]
    meta: dict[str, Any]

    @property
    def walk_correction(self) -> WalkCorrection | None:
        """The walking correction for drive-only networks shipped with this calibration (None if absent).

        Examples
        --------
        >>> c = load_calibration().walk_correction
        >>> c is not None and c.ratio > 0 and c.log_sigma > 0
        True
        """
        data = self.meta.get(WALK_CORRECTION_KEY)
        return WalkCorrection.from_dict(data) if isinstance(data, dict) else None

    def to_dict(self) -> dict[str, Any]:
        """Return the calibration as JSON-ready data."""
        return {**self.meta, "bands_m": list(self.bands_m), "modes": {m: x.to_dict() for m, x in self.models.items()}}

    def error_table(self) -> pd.DataFrame:
        """Return the held-out error per mode: median and P90 absolute %, calibrated and with circuity 1.3.

        Examples
        --------
        >>> t = load_calibration().error_table()
        >>> list(t.columns)
        ['calibrated_median', 'calibrated_p90', 'circuity_1_3_median', 'circuity_1_3_p90']
        >>> bool((t["calibrated_median"] <= t["circuity_1_3_median"]).all())
        True
        """
        rows = {}
        for mode, model in self.models.items():
            cal = model.stats.get("heldout_abs_pct_error", {})
            old = model.stats.get("heldout_abs_pct_error_circuity_1_3", {})
            rows[mode] = {
                "calibrated_median": cal.get("median"),
                "calibrated_p90": cal.get("p90"),
                "circuity_1_3_median": old.get("median"),
                "circuity_1_3_p90": old.get("p90"),
            }
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "mode"
        return table

    def write(self, path: str | Path) -> Path:
        """Write the calibration as JSON; return the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False) + "\n", "utf-8")
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FallbackCalibration:
        """Build a calibration from :meth:`to_dict` data."""
        bands = tuple(float(b) for b in data["bands_m"])
        models = {}
        for mode, item in data["modes"].items():
            stats = {k: v for k, v in item.items() if k not in {"circuity", "speed_kmh"}}
            models[mode] = FallbackModel(
                mode, np.array(bands), np.array(item["circuity"], float), np.array(item["speed_kmh"], float), stats
            )
        meta = {k: v for k, v in data.items() if k not in {"bands_m", "modes"}}
        return cls(models, bands, meta)


@lru_cache(maxsize=4)
def _read(path: str) -> FallbackCalibration:
    return FallbackCalibration.from_dict(json.loads(Path(path).read_text("utf-8")))


def load_calibration(path: str | Path | None = None) -> FallbackCalibration:
    """Read a fallback calibration (the one shipped with pointplan by default).

    Parameters
    ----------
    path
        JSON file written by :meth:`FallbackCalibration.write`.

    Returns
    -------
    FallbackCalibration

    Examples
    --------
    >>> load_calibration().meta["fitted_on"]
    'data/osm/hanoi_inner_drive_2025.graphml.gz'

    """
    p = DEFAULT_CALIBRATION_FILE if path is None else Path(path)
    if not p.is_file():
        msg = f"Fallback calibration file {p} does not exist. Refit it with pointplan.network.fit_fallback(...)."
        raise InputError(msg)
    return _read(str(p.resolve()))
