"""Results kept on disk between runs: :func:`cached` and :func:`digest`.

Routing every demand place to every point takes seconds, and a planner runs the same city
again and again with most points unchanged. A result that is a pure function of its inputs
(travel times between two sets of coordinates on one engine, say) is stored under
``settings.cache_dir / "results"`` by a key: a hash of everything it depends on, and of
pointplan's own source code. A changed input, engine or pointplan gives another key and is
computed afresh; the stored result is the very object the computation returned, so a
result read back equals the one computed. Entries are signed with a key of the cache's own
(``results/.key``, readable by the user only): a file this cache did not write is never
unpickled, only computed again.

The folder is kept under :data:`pointplan.settings.result_cache_mb` (the least recently used
entries go first). ``pointplan.settings.result_cache = False`` (or the environment variable
``POINTPLAN_RESULT_CACHE=0``, or ``pointplan run --no-cache``) computes everything afresh and
stores nothing. An unreadable entry is computed again and replaced.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from pointplan import settings
>>> old = settings.cache_dir, settings.result_cache
>>> settings.cache_dir, settings.result_cache = Path(tempfile.mkdtemp()), True
>>> calls = []
>>> def slow():
...     calls.append(1)
...     return {"minutes": [2.5, 4.0]}
>>> key = digest("demo", [1.0, 2.0])
>>> cached("demo", key, slow, min_seconds=0), cached("demo", key, slow), len(calls)  # the second is read back
({'minutes': [2.5, 4.0]}, {'minutes': [2.5, 4.0]}, 1)
>>> _ = cached("demo", None, slow); len(calls)  # no key: always computed
2
>>> settings.cache_dir, settings.result_cache = old
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import pickle
import secrets
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from pointplan import settings

__all__ = ["cached", "digest", "frame_digest", "settings_digest"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

T = TypeVar("T")

#: Bump when the layout of a stored entry changes.
FORMAT = 1

#: A result computed in less than this (s) is not stored (:func:`cached`'s ``min_seconds``).
MIN_SECONDS = 0.1

#: The folder is pruned at most this often (s) by one process.
PRUNE_EVERY_S = 30.0

#: A result larger than this (MB, pickled) is not stored: reading it would cost about as much.
MAX_ENTRY_MB = 512.0


def compute_afresh() -> None:
    """Keep no results and read none back, in this process and in the processes it starts.

    For timing the computing itself (the benchmarks): kept results would answer repeats
    at once.

    Examples
    --------
    >>> saved_env, saved = dict(os.environ), settings.result_cache
    >>> compute_afresh()
    >>> settings.result_cache, os.environ["POINTPLAN_RESULT_CACHE"]
    (False, '0')
    >>> os.environ.clear(); os.environ.update(saved_env); settings.result_cache = saved
    """
    settings.result_cache = False
    os.environ["POINTPLAN_RESULT_CACHE"] = "0"


@lru_cache(maxsize=1)
def code_digest() -> bytes:
    """Hash of pointplan's own Python source files: a changed pointplan keys its results afresh."""
    root = Path(__file__).resolve().parent
    h = hashlib.blake2b(digest_size=16)
    h.update(str(FORMAT).encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.digest()


def _update(h: Any, part: object) -> None:
    if part is None:
        h.update(b"\x00none")
    elif isinstance(part, bytes):
        h.update(b"\x01" + len(part).to_bytes(8, "little") + part)
    elif isinstance(part, str):
        _update(h, part.encode())
    elif isinstance(part, bool | int | float | np.generic):
        h.update(b"\x02" + repr((type(part).__name__, part)).encode())
    elif isinstance(part, np.ndarray):
        a = np.ascontiguousarray(part)
        if a.dtype == object:
            raise TypeError("digest: object arrays have no stable bytes; pass their values instead")
        h.update(b"\x03" + str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    elif isinstance(part, list | tuple):
        h.update(b"\x04" + str(len(part)).encode())
        for p in part:
            _update(h, p)
    else:
        raise TypeError(f"digest: cannot key a {type(part).__name__}")


def digest(*parts: object) -> bytes:
    """Hash of ``parts`` (bytes, str, numbers, None, numpy arrays, lists and tuples of them).

    Examples
    --------
    >>> import numpy as np
    >>> digest("a", np.arange(3)) == digest("a", np.arange(3)), digest("a", 1) == digest("a", 1.0)
    (True, False)
    """
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        _update(h, p)
    return h.digest()


def frame_digest(frame: object) -> bytes | None:
    """Hash of a (Geo)DataFrame's index, columns, values and geometries (None: not a frame).

    Examples
    --------
    >>> import geopandas as gpd
    >>> a = gpd.GeoDataFrame({"population": [5.0]}, geometry=gpd.points_from_xy([1.0], [2.0]), crs=32648)
    >>> b = a.copy()
    >>> frame_digest(a) == frame_digest(b)
    True
    >>> b.loc[0, "population"] = 6.0
    >>> frame_digest(a) == frame_digest(b)
    False
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    if not isinstance(frame, pd.DataFrame):
        return None
    h = hashlib.blake2b(digest_size=20)
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    geo_cols = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    plain = frame.drop(columns=geo_cols)
    try:
        h.update(pd.util.hash_pandas_object(plain, index=True).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists, dicts): their text
        h.update(repr(plain.to_dict("list")).encode())
        h.update(pd.util.hash_pandas_object(frame.index.to_series(), index=False).to_numpy().tobytes())
    for c in geo_cols:
        g = frame[c]
        h.update(str(getattr(g, "crs", None)).encode())
        h.update(b"".join(shapely.to_wkb(np.asarray(g.values), hex=False, include_srid=False).tolist()))
    return h.digest()


#: Settings that change how pointplan works, never what it computes (left out of :func:`settings_digest`).
_NOT_RESULTS = frozenset(
    {
        "progress", "run_in_parallel", "allow_downloads", "result_cache", "result_cache_mb", "cache_dir",
        "network_cache_dir", "data_dir", "verify_checksums", "geocode_min_interval_s", "geocode_timeout_s",
        "geocode_max_retries", "geocode_backoff_s",
    }
)  # fmt: skip


def settings_digest() -> bytes:
    """Hash of :mod:`pointplan.settings`' plain values that can change a result: a changed one keys afresh.

    Settings of how pointplan works (progress bars, the second core, downloads, folders) are
    left out: a run with ``-q`` reads back what a run in a terminal kept.

    Examples
    --------
    >>> from pointplan import settings
    >>> before = settings_digest()
    >>> old, settings.uncertainty_draws = settings.uncertainty_draws, settings.uncertainty_draws + 1
    >>> settings_digest() == before
    False
    >>> settings.uncertainty_draws = old
    """
    plain = {
        k: repr(v)
        for k, v in vars(settings).items()
        if not k.startswith("_")
        and k not in _NOT_RESULTS
        and isinstance(v, bool | int | float | str | Path | type(None))
    }
    return digest("settings", repr(sorted(plain.items())))


def _folder() -> Path:
    return Path(settings.cache_dir) / "results"


_KEYS: dict[Path, bytes] = {}


def _secret() -> bytes:
    """Return the cache's own key (made once, readable by the user only): entries are signed with it."""
    path = _folder() / ".key"
    if path in _KEYS:
        return _KEYS[path]
    with contextlib.suppress(FileNotFoundError):
        _KEYS[path] = path.read_bytes()
        return _KEYS[path]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)  # the first process to make one wins; the others read it
    Path(tmp).unlink(missing_ok=True)
    _KEYS[path] = path.read_bytes()
    return _KEYS[path]


def _tag(data: bytes) -> bytes:
    return hmac.new(_secret(), data, hashlib.sha256).digest()


def _read(path: Path) -> tuple[bool, Any]:
    """Read an entry back; only what this cache signed is ever unpickled (anything else: computed again)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False, None
    tag, data = raw[:32], raw[32:]
    try:
        if not hmac.compare_digest(tag, _tag(data)):
            raise ValueError("not signed by this cache")
        value = pickle.loads(data)
    except Exception as exc:
        logger.warning("the stored result %s could not be read (%s): computed again", path.name, exc)
        path.unlink(missing_ok=True)
        return False, None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return True, value


def _store(path: Path, value: object) -> None:
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        logger.debug("not stored (%s)", exc)
        return
    if len(data) > MAX_ENTRY_MB * 1e6:
        logger.debug("not stored: %.0f MB is more than %g MB", len(data) / 1e6, MAX_ENTRY_MB)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_tag(data))
            f.write(data)
        Path(tmp).replace(path)
    except OSError as exc:  # a full or read-only disk: the result is still returned
        logger.warning("could not store a result under %s (%s)", path.parent, exc)
        return
    if time.monotonic() - _last_prune[0] >= PRUNE_EVERY_S:
        _last_prune[0] = time.monotonic()
        _prune(_folder(), settings.result_cache_mb * 1e6)


_last_prune = [-float("inf")]

#: How many kept computations this thread is inside (a result computed inside another is read
#: back when it was kept on its own, but stored only as part of the outer one).
_NESTED = threading.local()


def _prune(folder: Path, limit: float) -> None:
    """Remove the least recently used entries until ``folder`` holds at most ``limit`` bytes."""
    try:
        files = [(p.stat().st_mtime, p.stat().st_size, p) for p in folder.rglob("*.pkl")]
    except OSError:
        return
    total = sum(s for _, s, _ in files)
    for _, size, path in sorted(files, key=lambda t: t[0]):
        if total <= limit:
            break
        path.unlink(missing_ok=True)
        total -= size


def cached(namespace: str, key: bytes | None, compute: Callable[[], T], *, min_seconds: float | None = None) -> T:
    """Return ``compute()``, read back from disk when a result of the same ``key`` is stored.

    Warnings that ``compute`` raised are stored with the result and raised again when it is
    read back, so a stored result says what the computed one said. A result computed inside
    another kept computation is read back if it was kept on its own, but not stored: the outer
    result holds it.

    Parameters
    ----------
    namespace
        A folder of the results folder (the kind of result: ``"od_long"``...).
    key
        :func:`digest` of everything the result depends on; ``None``: compute, store nothing.
    compute
        The computation (no arguments).
    min_seconds
        A result computed quicker than this is not stored (reading it back would gain
        little); default :data:`MIN_SECONDS`.

    Returns
    -------
    object
        The result.

    Examples
    --------
    >>> cached("demo", None, lambda: 42)
    42
    """
    if key is None or not settings.result_cache:
        return compute()
    name = hashlib.blake2b(code_digest() + key, digest_size=20).hexdigest()
    path = _folder() / namespace / f"{name}.pkl"
    hit, stored = _read(path)
    if hit:
        value, caught = stored
        logger.debug("%s: read back %s", namespace, name[:12])
    else:
        t0 = time.perf_counter()
        depth = getattr(_NESTED, "depth", 0)
        _NESTED.depth = depth + 1
        try:
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                value = compute()
        finally:
            _NESTED.depth = depth
        caught = [(w.category, str(w.message)) for w in record]
        if depth == 0 and time.perf_counter() - t0 >= (MIN_SECONDS if min_seconds is None else min_seconds):
            _store(path, (value, caught))  # a result computed inside another is kept with that one only
    for category, message in caught:
        warnings.warn(message, category, stacklevel=3)
    return value
