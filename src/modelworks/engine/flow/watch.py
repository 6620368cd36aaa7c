"""Stop a running step on timeout or cancel: a watcher thread that interrupts the database.

DuckDB's ``interrupt()`` and PostgreSQL's cancel request only stop a statement that is running, so
the watcher repeats the interrupt (DuckDB) while the work goes on, and the work calls
:meth:`StepWatch.check` between statements so that a stop seen between two statements counts too.
The deadline is checked every 50 ms; ``cancelled`` (often a database query) at most 4 times a
second by the watcher, and once more at each :meth:`StepWatch.check`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from modelworks.engine.flow.errors import ExecutionError, StepCancelledError, StepTimeoutError

__all__ = ["StepStopped", "StepWatch", "stopped_error"]

_POLL_SECONDS = 0.05
_CANCEL_POLL_SECONDS = 0.25


class StepStopped(Exception):
    """Raised by :meth:`StepWatch.check`: ``reason`` is ``"timeout"`` or ``"cancel"``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def stopped_error(reason: str, recipe: str, timeout_s: float | None) -> ExecutionError:
    """The error for the user when a step was stopped: a timeout or a cancel."""
    if reason == "timeout":
        return StepTimeoutError(
            f"recipe {recipe!r} ran longer than its {timeout_s:g} s time limit and was stopped; "
            "filter its inputs earlier or raise the build's time limit",
            recipe=recipe,
            timeout_s=timeout_s,
        )
    return StepCancelledError(f"recipe {recipe!r} was stopped: the build was cancelled", recipe=recipe)


class StepWatch:
    """A thread that interrupts the running query on timeout or cancel.

    DuckDB's ``interrupt`` only stops a query that is running, so with ``repeat`` the watcher
    repeats it every poll until the work ends; the work calls :meth:`check` between statements.
    """

    def __init__(
        self,
        interrupt: Callable[[], None],
        timeout_s: float | None,
        cancelled: Callable[[], bool] | None,
        *,
        repeat: bool = True,
    ) -> None:
        self._interrupt = interrupt
        self._repeat = repeat
        self._interrupted = False
        self._timeout = timeout_s
        self._cancelled = cancelled
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._next_cancel_check = 0.0
        self._deadline = None if timeout_s is None else _monotonic() + timeout_s
        self.reason: str | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StepWatch:
        if self._timeout is not None or self._cancelled is not None:
            self._thread = threading.Thread(target=self._watch, name="flow-step-watch", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the watcher (no interrupt comes after this returns)."""
        self._done.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def check(self) -> None:
        """Raise :class:`StepStopped` if the time is up or the build was cancelled."""
        self._update()
        if self.reason is not None:
            raise StepStopped(self.reason)

    def _update(self, *, throttle: bool = False) -> None:
        with self._lock:
            if self.reason is not None:
                return
            now = _monotonic()
            if self._deadline is not None and now >= self._deadline:
                self.reason = "timeout"
            elif self._cancelled is not None and (not throttle or now >= self._next_cancel_check):
                # `cancelled` may be a database query: the watcher asks a few times a second only.
                self._next_cancel_check = now + _CANCEL_POLL_SECONDS
                if _safe(self._cancelled):
                    self.reason = "cancel"

    def _watch(self) -> None:
        deadline = self._deadline
        while not self._done.is_set():
            self._update(throttle=True)
            if self.reason is not None and (self._repeat or not self._interrupted):
                self._interrupted = True
                with contextlib.suppress(Exception):
                    self._interrupt()
            wait = _POLL_SECONDS
            if deadline is not None and self.reason is None:
                wait = max(0.001, min(_POLL_SECONDS, deadline - _monotonic()))
            self._done.wait(wait)


def _safe(cancelled: Callable[[], bool]) -> bool:
    try:
        return bool(cancelled())
    except Exception:
        return True


def _monotonic() -> float:
    return time.monotonic()
