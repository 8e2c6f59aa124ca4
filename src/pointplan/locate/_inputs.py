"""Checks of the matrix solvers' inputs (weights, coverage, masks, p, method)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from pointplan._errors import InputError
from pointplan.locate.result import METHODS, BoolArray, FloatArray


def check_method(method: str) -> None:
    if method not in METHODS:
        msg = f"method must be one of {list(METHODS)}, got {method!r}."
        raise InputError(msg)


def as_weights(weights: npt.ArrayLike, what: str = "weights") -> FloatArray:
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0:
        msg = f"{what} is empty: give one weight (population) per demand location."
        raise InputError(msg)
    if not np.isfinite(w).all() or (w < 0).any():
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        msg = (
            f"{what} must be finite and >= 0; positions {bad[:8].tolist()} are not "
            f"(e.g. {w[bad[0]]}). Fill missing population with 0."
        )
        raise InputError(msg)
    return w


def as_coverage(coverage: Any, n: int) -> sp.csr_matrix:
    if sp.issparse(coverage):
        a = sp.csr_matrix(coverage, dtype=bool)
    else:
        arr = np.asarray(coverage)
        if arr.ndim != 2:
            msg = "coverage must be a 2-D (n demand x m candidates) boolean matrix."
            raise InputError(msg)
        a = sp.csr_matrix(arr.astype(bool))
    if a.shape[0] != n:
        msg = (
            f"coverage has {a.shape[0]} rows but weights has {n} entries: rows are demand "
            "locations, columns candidates."
        )
        raise InputError(msg)
    a.eliminate_zeros()
    a.sum_duplicates()
    a.sort_indices()
    return a


def as_mask(mask: npt.ArrayLike | None, n: int, what: str) -> BoolArray:
    if mask is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(mask, dtype=bool).ravel()
    if arr.size != n:
        msg = f"{what} must have one entry per demand location ({n}), got {arr.size}."
        raise InputError(msg)
    return arr


def check_p(p: int, m: int) -> int:
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        msg = f"p (number of points to add) must be an integer, got {p!r}."
        raise InputError(msg)
    if p < 0:
        msg = f"p (number of points to add) must be >= 0, got {p}."
        raise InputError(msg)
    if p > m:
        msg = (
            f"p = {p} points requested but only {m} candidates given. Add candidates (pointplan.candidates) or lower p."
        )
        raise InputError(msg)
    return int(p)
