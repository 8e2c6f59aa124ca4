"""Copy-on-write copies of the large arrays inside an object: :class:`SharedArrays`.

The editor gives every browser session its own copy of the starting scenario. Most of a
scenario's memory is a few large arrays (the kept travel times: places × point slots), and an
edit writes only the columns of the points it touches. :class:`SharedArrays` moves each large
array of an object into one shared, read-only memory file; :meth:`SharedArrays.memo` then
gives, for :func:`copy.deepcopy`, a private copy-on-write mapping of each (``MAP_PRIVATE``):
the copy costs microseconds and no memory until a page is written, and only the pages
written are ever copied. The object the arrays came from keeps them read-only, so that a
stray write to the shared original fails loudly instead of reaching every copy.

Where memory mapping is not available the arrays are left alone and :meth:`~SharedArrays.memo`
is empty: :func:`copy.deepcopy` then copies them as before (the same copies, only slower).
"""

from __future__ import annotations

import copy
import logging
import mmap
import os
import tempfile
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

__all__ = ["SharedArrays", "cow_deepcopy"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Libraries whose objects are not looked into (their arrays are theirs to manage).
_OPAQUE = frozenset({"pandas", "geopandas", "shapely", "networkx", "scipy", "pyproj"})

#: Arrays smaller than this are copied as usual (a mapping costs a file descriptor's worth).
MIN_BYTES = 1 << 20


def _owners(obj: Any, depth: int, skip: Any) -> Iterator[tuple[Any, Any, np.ndarray]]:
    """``(container, key, array)`` for each array reachable from ``obj`` through attributes and dicts."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(obj, depth)]
    while stack:
        x, d = stack.pop()
        if id(x) in seen or d < 0 or skip(x) or type(x).__module__.split(".")[0] in _OPAQUE:
            continue
        seen.add(id(x))
        if isinstance(x, dict):
            items = list(x.items())
        elif hasattr(x, "__dict__") and not isinstance(x, type):
            items = list(vars(x).items())
        else:
            continue
        for k, v in items:
            if isinstance(v, np.ndarray):
                yield x, k, v
            elif not isinstance(v, (str, bytes, int, float, np.generic)):
                stack.append((v, d - 1))


def _set(container: Any, key: Any, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    else:
        setattr(container, key, value)


class SharedArrays:
    """The large arrays of ``obj``, moved into shared read-only memory files.

    Parameters
    ----------
    obj
        Object whose attributes (and the attributes of what they hold, through dicts, to
        ``depth`` levels) hold the arrays. Arrays of at least ``min_bytes`` that own their
        data are replaced in place by read-only arrays over the shared files.
    depth
        How deep to look.
    min_bytes
        Smaller arrays are left alone (default :data:`MIN_BYTES`).
    skip
        ``skip(x) -> bool``: objects not to look into (shared engines and graphs).

    Examples
    --------
    >>> import copy
    >>> class Box:
    ...     pass
    >>> b = Box(); b.big = np.arange(300_000, dtype=float); b.small = np.zeros(3)
    >>> shared = SharedArrays(b, min_bytes=1000)
    >>> len(shared), b.big.flags.writeable
    (1, False)
    >>> c = copy.deepcopy(b, shared.memo())
    >>> c.big[0] = -1.0                      # only the copy sees it
    >>> float(c.big[0]), float(b.big[0]), float(c.big[-1])
    (-1.0, 0.0, 299999.0)
    """

    def __init__(self, obj: Any, *, depth: int = 6, min_bytes: int | None = None, skip: Any = None) -> None:
        self._files: dict[int, tuple[Any, tuple[int, ...], np.dtype[Any], Literal["C", "F"]]] = {}
        skip = skip or (lambda x: False)
        min_bytes = MIN_BYTES if min_bytes is None else min_bytes
        done: dict[int, np.ndarray] = {}
        try:
            for container, key, arr in list(_owners(obj, depth, skip)):
                if id(arr) in done:
                    _set(container, key, done[id(arr)])
                    continue
                if arr.nbytes < min_bytes or arr.base is not None or arr.dtype.hasobject:
                    continue
                shared = self._share(arr)
                done[id(arr)] = shared
                _set(container, key, shared)
        except (OSError, ValueError) as exc:  # no memory files here: copies stay ordinary copies
            logger.info("sharing arrays failed (%s); copies are full copies", exc)

    def _share(self, arr: np.ndarray) -> np.ndarray:
        order: Literal["C", "F"] = "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"
        f = _memory_file()
        f.write(arr.tobytes(order=order))
        f.flush()
        mm = mmap.mmap(f.fileno(), arr.nbytes, access=mmap.ACCESS_READ)
        out: np.ndarray = np.ndarray(arr.shape, arr.dtype, buffer=mm, order=order)
        self._files[id(out)] = (f, arr.shape, arr.dtype, order)
        return out

    def __len__(self) -> int:
        return len(self._files)

    def memo(self) -> dict[int, Any]:
        """Return a :func:`copy.deepcopy` memo: each shared array → its own private copy-on-write mapping."""
        memo: dict[int, Any] = {}
        for key, (f, shape, dtype, order) in self._files.items():
            mm = mmap.mmap(f.fileno(), int(np.prod(shape)) * dtype.itemsize, access=mmap.ACCESS_COPY)
            memo[key] = np.ndarray(shape, dtype, buffer=mm, order=order)
        return memo


def _memory_file() -> Any:
    """Return an anonymous file in memory (Linux ``memfd``), else an unlinked temporary file."""
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("pointplan-shared"), "w+b")
    return tempfile.TemporaryFile()


def cow_deepcopy(obj: Any, shared: SharedArrays | None, memo: dict[int, Any] | None = None) -> Any:
    """:func:`copy.deepcopy` of ``obj``, its shared arrays copied on write.

    Examples
    --------
    >>> class Box:
    ...     pass
    >>> b = Box(); b.big = np.ones(200_000)
    >>> c = cow_deepcopy(b, SharedArrays(b, min_bytes=1000))
    >>> c.big[:3] = 0; float(c.big.sum()), float(b.big.sum())
    (199997.0, 200000.0)
    """
    m = dict(memo or {})
    if shared is not None:
        m.update(shared.memo())
    return copy.deepcopy(obj, m)
