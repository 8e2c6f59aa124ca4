"""Work overlapped on the second core: :class:`Background` (a forked child, or at once).

The Monte Carlo of the assessment needs only the assessment, so it can run while the run
proposes points. :class:`Background` runs a function in a forked child process (the child
starts with the parent's memory: nothing is copied or pickled on the way in) and hands its
pickled answer back through a pipe when :meth:`Background.result` is called. Where forking
is not safe or not possible (another thread running, a platform without ``fork``, or
:data:`pointplan.settings.run_in_parallel` off), the function runs at once in the calling
process and :meth:`~Background.result` returns its answer: the same answer either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pointplan import settings

__all__ = ["Background", "can_fork"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a child can be forked safely here: Linux, one thread, the setting on.

    Examples
    --------
    >>> isinstance(can_fork(), bool)
    True
    """
    return (
        settings.run_in_parallel
        and sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class Background(Generic[T]):
    """Run ``fn()`` in a forked child (or at once, where forking is not safe); :meth:`result` returns its answer.

    Parameters
    ----------
    fn
        What to run (no arguments: a closure over the inputs, which the child inherits).
    label
        Named in the log and in errors.

    Examples
    --------
    >>> job = Background(lambda: sum(range(10)), "a sum")
    >>> job.result(), job.result()
    (45, 45)
    >>> Background(lambda: 1 / 0, "a division").result()
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
    """

    def __init__(self, fn: Callable[[], T], label: str = "background work") -> None:
        self.label = label
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._proc: Any = None
        if can_fork():
            ctx = multiprocessing.get_context("fork")
            self._recv, send = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_child, args=(fn, send), name=f"pointplan {label}", daemon=True)
            self._proc.start()
            send.close()
            logger.debug("%s runs in process %s", label, self._proc.pid)
        else:
            self._settle(fn)

    def _settle(self, fn: Callable[[], T]) -> None:
        try:
            self._value = fn()
        except Exception as exc:  # raised again by result(), as the child's would be
            self._error = exc
        self._done = True

    def result(self) -> T:
        """Wait for the answer and return it (raise what ``fn`` raised)."""
        if not self._done:
            try:
                ok, value = self._recv.recv()
            except EOFError as exc:  # the child died without answering (killed, out of memory)
                self._proc.join()
                msg = f"{self.label} stopped without an answer (exit code {self._proc.exitcode}); run again."
                raise RuntimeError(msg) from exc
            self._proc.join()
            self._recv.close()
            self._value, self._error = (value, None) if ok else (None, value)
            self._done = True
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        """Stop the child if its answer is no longer wanted (nothing happens when it ran in place).

        Examples
        --------
        >>> job = Background(lambda: 2, "unwanted")
        >>> job.cancel()
        """
        if not self._done and self._proc is not None:
            self._proc.terminate()
            self._proc.join()
            self._recv.close()
            self._done = True


def _child(fn: Callable[[], Any], send: Any) -> None:
    """Run ``fn`` in the forked child and send ``(ok, answer or exception)``; never return into the parent's code."""
    code = 0
    try:
        try:
            answer: tuple[bool, Any] = (True, fn())
        except (Exception, KeyboardInterrupt) as exc:  # an interrupt in the child interrupts the run, as in place
            answer = (False, exc)
        send.send(answer)
    except BaseException:  # the answer could not be sent (it does not pickle): the parent says so
        code = 1
    finally:
        send.close()
        os._exit(code)
