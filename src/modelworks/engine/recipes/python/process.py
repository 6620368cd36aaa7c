"""Supervising the recipe's process from the platform's side, and turning how it ended into an error.

The process is started in its own process group (``start_new_session``) so that a timeout or a
cancel kills it with one ``killpg``; with bubblewrap, killing ``bwrap`` also ends the sandbox's
pid namespace (``--die-with-parent``), i.e. every process the recipe started.

The working folder is measured every second and once more when the recipe ends (a burst written
just before exiting counts too): its bytes, its number of entries (empty files cost no bytes but
exhaust the disk's inodes), and whether every folder in it can be read at all. A folder nested
beyond the longest path, or one the recipe made unreadable, could hide any amount of data from the
count, so it stops the recipe as a too-large output would.
"""

from __future__ import annotations

import enum
import os
import select
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelworks.engine.errors import human_bytes
from modelworks.engine.recipes.python.errors import (
    PythonCancelledError,
    PythonKilledError,
    PythonOutOfMemoryError,
    PythonOutputError,
    PythonOutputTooLargeError,
    PythonRecipeError,
    PythonSyntaxError,
    PythonTimeoutError,
    PythonUserCodeError,
    SandboxUnavailableError,
)
from modelworks.engine.recipes.python.limits import PythonLimits

__all__ = ["Outcome", "RecipeProcess", "Stop", "diagnose"]

_POLL_S = 0.2
_FOLDER_CHECK_S = 1.0
#: Most files and folders the working folder may hold (outputs are a few files; a recipe creating
#: millions of empty ones would exhaust the inodes of the platform's disk without using its bytes).
MAX_WORK_ENTRIES = 100_000
_OOM_MARKERS = ("memory allocation of", "std::bad_alloc", "Cannot allocate memory", "MemoryError")


class Stop(enum.Enum):
    """Why the platform killed the recipe (if it did)."""

    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    FOLDER_TOO_LARGE = "folder_too_large"
    TOO_MANY_FILES = "too_many_files"
    FOLDER_HIDDEN = "folder_hidden"


@dataclass(frozen=True)
class Outcome:
    """How the process ended: its exit code, whether we stopped it, its log and its duration."""

    returncode: int
    stop: Stop | None
    log: str
    duration_s: float


class _LogCollector(threading.Thread):
    """Drains the recipe's output (so it never blocks on a full pipe) keeping head and tail."""

    def __init__(self, fd: int, cap: int) -> None:
        super().__init__(name="python-recipe-log", daemon=True)
        self._fd = fd
        self._half = cap // 2
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_bytes = 0
        self._total = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._total += len(chunk)
            room = self._half - len(self._head)
            if room > 0:
                self._head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self._tail.append(chunk)
                self._tail_bytes += len(chunk)
                while self._tail_bytes - len(self._tail[0]) >= self._half:
                    self._tail_bytes -= len(self._tail.popleft())

    def text(self) -> str:
        tail = b"".join(self._tail)
        omitted = self._total - len(self._head) - len(tail)
        if omitted > 0:
            cut = len(tail) - self._half
            tail = tail[max(cut, 0) :]
            omitted = self._total - len(self._head) - len(tail)
            marker = (
                f"\n[… {human_bytes(omitted)} of output omitted: the log keeps the first and last "
                f"{human_bytes(self._half)} …]\n"
            ).encode()
            data = bytes(self._head) + marker + tail
        else:
            data = bytes(self._head) + tail
        return data.decode("utf-8", errors="replace")


class RecipeProcess:
    """One run of the recipe's command line, supervised from the platform's side."""

    def __init__(self, command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_bytes: int) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.cwd = cwd
        self.log_bytes = log_bytes

    def supervise(
        self,
        *,
        timeout_s: float,
        cancelled: Callable[[], bool] | None,
        folder: Path,
        folder_bytes: int,
    ) -> Outcome:
        """Start the process and wait for it, killing it on timeout, cancel, or when ``folder``
        grows past ``folder_bytes``."""
        started = time.monotonic()
        read_fd, write_fd = os.pipe()
        try:
            process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                env=self.env,
                cwd=self.cwd,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            os.close(read_fd)
            raise SandboxUnavailableError(f"the Python recipe could not be started: {exc}") from exc
        finally:
            os.close(write_fd)
        collector = _LogCollector(read_fd, self.log_bytes)
        collector.start()
        stop: Stop | None = None
        try:
            stop = self._wait(process, started, timeout_s, cancelled, folder, folder_bytes)
            if stop is None:
                stop = _check_folder(folder, folder_bytes)
        finally:
            if process.returncode is None:
                _kill_group(process)
            process.wait()
            collector.join(timeout=5)
            if not collector.is_alive():
                os.close(read_fd)
        duration = time.monotonic() - started
        return Outcome(process.returncode, stop, collector.text(), duration)

    @staticmethod
    def _wait(
        process: subprocess.Popen[bytes],
        started: float,
        timeout_s: float,
        cancelled: Callable[[], bool] | None,
        folder: Path,
        folder_bytes: int,
    ) -> Stop | None:
        pidfd = _pidfd(process.pid)
        next_folder_check = started + _FOLDER_CHECK_S
        try:
            while process.poll() is None:
                if pidfd is not None:
                    select.select([pidfd], [], [], _POLL_S)
                else:
                    time.sleep(0.05)
                if process.poll() is not None:
                    break
                now = time.monotonic()
                stop = None
                if cancelled is not None and cancelled():
                    stop = Stop.CANCELLED
                elif now - started > timeout_s:
                    stop = Stop.TIMEOUT
                elif now >= next_folder_check:
                    next_folder_check = now + _FOLDER_CHECK_S
                    stop = _check_folder(folder, folder_bytes)
                if stop is not None:
                    _kill_group(process)
                    return stop
            return None
        finally:
            if pidfd is not None:
                os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _check_folder(folder: Path, max_bytes: int) -> Stop | None:
    """Why ``folder`` breaks its limits (see the module docstring), or None. Never follows a link;
    stops counting at the first limit passed."""
    total = 0
    entries = 0
    stack = [str(folder)]
    while stack:
        try:
            listing = list(os.scandir(stack.pop()))
        except FileNotFoundError:
            continue  # removed by the recipe while we counted
        except OSError:
            return Stop.FOLDER_HIDDEN  # too long a path, unreadable permissions, a loop…
        entries += len(listing)
        if entries > MAX_WORK_ENTRIES:
            return Stop.TOO_MANY_FILES
        for entry in listing:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
            if total > max_bytes:
                return Stop.FOLDER_TOO_LARGE
    return None


def _signal_of(returncode: int, *, sandboxed: bool) -> int | None:
    if returncode < 0:
        return -returncode
    if sandboxed and returncode > 128:  # bwrap reports a child killed by signal N as 128 + N
        return returncode - 128
    return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def diagnose(
    outcome: Outcome, status: Mapping[str, Any] | None, *, limits: PythonLimits, who: str, sandboxed: bool
) -> Mapping[str, Any]:
    """Raise the error that explains a run, or return its status when it succeeded."""
    common: dict[str, Any] = {"log": outcome.log, "duration_s": round(outcome.duration_s, 3)}
    if outcome.stop is Stop.CANCELLED:
        raise PythonCancelledError(f"{who} was cancelled while running", **common)
    if outcome.stop is Stop.TIMEOUT:
        raise PythonTimeoutError(
            f"{who} did not finish within its time limit of {limits.timeout_s:g} s and was stopped; make it "
            "faster (less data, vectorised pandas or Polars) or ask an administrator to raise "
            "MODELWORKS_PYTHON_TIMEOUT",
            limit_s=limits.timeout_s,
            **common,
        )
    if outcome.stop is Stop.FOLDER_TOO_LARGE:
        raise _too_large(who, limits, common)
    if outcome.stop is Stop.TOO_MANY_FILES:
        raise PythonOutputTooLargeError(
            f"{who} created more than {MAX_WORK_ENTRIES:,} files and folders in its working folder and "
            "was stopped; write your results as outputs rather than as many small files",
            limit_entries=MAX_WORK_ENTRIES,
            **common,
        )
    if outcome.stop is Stop.FOLDER_HIDDEN:
        raise PythonOutputTooLargeError(
            f"{who} made a folder the platform cannot measure (nested too deeply, or unreadable) and was "
            "stopped; keep files in /work readable and a few folders deep",
            **common,
        )
    if status is None:
        raise _silent_end_error(outcome, limits=limits, who=who, sandboxed=sandboxed, common=common)
    state = status.get("status")
    line = status.get("line")
    where = f" at line {line}" if line else ""
    if state == "ok":
        return status
    if state == "syntax_error":
        raise PythonSyntaxError(
            f"{who} is not valid Python{where}, column {status.get('column')}: {status.get('message')}",
            line=line,
            column=status.get("column"),
            **common,
        )
    if state == "missing_outputs":
        missing = [str(name) for name in status.get("missing", [])]
        calls = "; ".join(f"outputs[{name!r}].write(df)" for name in missing)
        raise PythonOutputError(
            f"{who} finished without writing output {', '.join(repr(n) for n in missing)}; call {calls}",
            outputs=missing,
            **common,
        )
    kind = status.get("kind")
    if kind == "memory":
        raise _out_of_memory(who, limits, {**common, "line": line})
    if kind == "output_too_large":
        raise _too_large(who, limits, {**common, "line": line})
    details = {
        "line": line,
        "exception": status.get("exception"),
        "traceback": status.get("traceback"),
        **common,
    }
    if kind == "api":
        message = f"{who} failed{where}: {status.get('message')}"
        if status.get("about") == "output":
            raise PythonOutputError(message, **details)
        raise PythonUserCodeError(message, **details)
    raise PythonUserCodeError(
        f"{who} failed{where}: {status.get('exception')}: {status.get('message')}", **details
    )


def _silent_end_error(
    outcome: Outcome, *, limits: PythonLimits, who: str, sandboxed: bool, common: dict[str, Any]
) -> PythonRecipeError:
    """The process ended without writing its status: explain from its exit code and last words."""
    number = _signal_of(outcome.returncode, sandboxed=sandboxed)
    log_tail = outcome.log[-4000:]
    first_line = outcome.log.lstrip().splitlines()[0] if outcome.log.strip() else ""
    if sandboxed and first_line.startswith("bwrap:"):
        return SandboxUnavailableError(
            f"the sandbox for {who} could not start ({first_line}); run 'modelworks check'", **common
        )
    if number == signal.SIGXCPU:
        return PythonTimeoutError(
            f"{who} used more than its CPU time limit of {limits.effective_cpu_s} s and was stopped; make it "
            "faster or ask an administrator to raise MODELWORKS_PYTHON_CPU",
            limit_s=limits.effective_cpu_s,
            **common,
        )
    if number == signal.SIGXFSZ:
        return _too_large(who, limits, common)
    if any(marker in log_tail for marker in _OOM_MARKERS):
        return _out_of_memory(who, limits, common)
    if number is not None:
        hint = " (the machine may have run out of memory)" if number == signal.SIGKILL else ""
        return PythonKilledError(
            f"{who} was killed by {_signal_name(number)}{hint}", signal=_signal_name(number), **common
        )
    return PythonKilledError(
        f"{who} stopped with exit code {outcome.returncode} before reporting its result "
        "(did it call os._exit()?); see its log",
        exit_code=outcome.returncode,
        **common,
    )


def _out_of_memory(who: str, limits: PythonLimits, details: Mapping[str, Any]) -> PythonOutOfMemoryError:
    return PythonOutOfMemoryError(
        f"{who} ran out of memory (limit {human_bytes(limits.memory_bytes)}); process the data in chunks "
        "(inputs[name].batches()) or ask an administrator to raise MODELWORKS_PYTHON_MEMORY",
        limit=limits.memory_bytes,
        **details,
    )


def _too_large(who: str, limits: PythonLimits, details: Mapping[str, Any]) -> PythonOutputTooLargeError:
    return PythonOutputTooLargeError(
        f"{who} wrote more than its output limit of {human_bytes(limits.output_bytes)}; write fewer rows "
        "or columns, or ask an administrator to raise MODELWORKS_PYTHON_OUTPUT_BYTES",
        limit=limits.output_bytes,
        **details,
    )
