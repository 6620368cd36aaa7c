"""What runs inside the job's own process, forked by the worker for one attempt.

The child talks to its worker over two pipes:

* *messages*: JSON lines ``{"t": "log" | "progress" | "done", ...}`` from ``BaseJob.log/progress``,
  ``print`` and the ``logging`` module (so levels and order are kept), and the final outcome;
* *output*: file descriptors 1 and 2, so output of C code and of subprocesses the job starts is
  captured too.

The child writes nothing about its job's state to the database: the worker does, fenced by the
attempt number. Cancellation reaches the child as SIGUSR1 (a flag ``check_cancelled`` reads); a hard
stop is SIGTERM (raises, so ``finally`` blocks run) and then SIGKILL to the whole process group.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any, NoReturn
from uuid import UUID

__all__ = ["EXIT_OK", "run_child"]

EXIT_OK = 0
EXIT_STOPPED = 3  # stopped by SIGTERM (cancel or shutdown): the worker knows why and settles the job
EXIT_BROKEN = 70  # the child could not even start the job; the traceback is on its output

_PR_SET_PDEATHSIG = 1


class _Stop(BaseException):
    """Raised by SIGTERM in the child. A BaseException so ``except Exception`` in a job does not eat it."""


class ChildChannel:
    """The child's end of the message pipe. Thread-safe: a job may log from its own threads."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._cancel = False
        self._last_progress = 0.0
        self._progress_shown = ""

    def _send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, default=str) + "\n").encode("utf-8", "replace")
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]

    # JobReporter
    def log(self, level: str, message: str) -> None:
        self._send({"t": "log", "time": time.time(), "level": level, "msg": message})

    def progress(self, percent: float, message: str) -> None:
        # A job may call this in a tight loop: percent-only updates are thinned out here, a new
        # message always goes through (it may be the last one for a long while).
        now = time.monotonic()
        if message == self._progress_shown and now - self._last_progress < 0.2 and percent < 100:
            return
        self._last_progress, self._progress_shown = now, message
        self._send({"t": "progress", "pct": percent, "msg": message})

    def cancel_requested(self) -> bool:
        return self._cancel

    def mark_cancel_requested(self, *_: object) -> None:
        self._cancel = True

    def done(self, state: str, message: str = "", result: Any = None) -> None:
        self._send({"t": "done", "state": state, "msg": message, "result": result})


class _LineStream:
    """Stands in for ``sys.stdout``/``sys.stderr``: each complete line becomes a log line."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, channel: ChildChannel, fd: int) -> None:
        self._channel = channel
        self._fd = fd
        self._buf = ""

    def write(self, text: str) -> int:
        self._buf += text
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            self._emit(line)
        if len(self._buf) > 8192:
            self.close()
        return len(text)

    def _emit(self, line: str) -> None:
        # Keep what a terminal would show of a line rewritten with carriage returns (progress bars).
        line = line.rstrip("\r").rsplit("\r", 1)[-1]
        if line.strip():
            self._channel.log("INFO", line)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._buf:
            buf, self._buf = self._buf, ""
            self._emit(buf)

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


_LEVELS = (
    (logging.CRITICAL, "CRITICAL"),
    (logging.ERROR, "ERROR"),
    (logging.WARNING, "WARNING"),
    (logging.INFO, "INFO"),
    (-(10**9), "DEBUG"),
)


class _ChannelHandler(logging.Handler):
    def __init__(self, channel: ChildChannel) -> None:
        super().__init__(level=logging.DEBUG)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if record.name not in ("root", "py.warnings") and not record.name.startswith("modelworks.jobs."):
                text = f"{record.name}: {text}"
            level = next(name for no, name in _LEVELS if record.levelno >= no)
            self._channel.log(level, text)
        except Exception:
            self.handleError(record)


def _detach(worker_pid: int, channel: ChildChannel) -> None:
    """Own process group; die with the worker; the job's own signal handlers."""
    os.setpgid(
        0, 0
    )  # a hard stop kills the job's subprocesses too; Ctrl-C on the worker's terminal does not reach it
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(worker_pid,), daemon=True).start()
    if os.getppid() != worker_pid:  # the worker died before the line above took effect
        os._exit(EXIT_BROKEN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGUSR1, channel.mark_cancel_requested)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def _watch_parent(worker_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != worker_pid:
            os._exit(EXIT_BROKEN)


def _raise_stop(*_: object) -> None:
    raise _Stop


def _capture_output(channel: ChildChannel, out_fd: int) -> list[_LineStream]:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    streams = [_LineStream(channel, 1), _LineStream(channel, 2)]
    sys.stdout, sys.stderr = streams  # type: ignore[assignment]
    handler = _ChannelHandler(channel)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    loggers = [
        root,
        *(lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)),
    ]
    for lg in loggers:
        had_console = False
        for h in list(lg.handlers):
            if type(h) is logging.StreamHandler:  # console handlers; file handlers stay
                lg.removeHandler(h)
                had_console = True
        if lg is root or (had_console and not lg.propagate):
            lg.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return streams


def _execute(job_id: UUID, channel: ChildChannel) -> None:
    from modelworks.core.jobs.exceptions import JobCancelled, JobFailed, RetryableJobError
    from modelworks.core.jobs.registry import job_type
    from modelworks.core.models import Job

    job = Job.objects.select_related("project").get(id=job_id)
    try:
        instance = job_type(job.kind)(job, channel)
        result = instance.run()
        if result is not None and not isinstance(result, dict):
            raise TypeError(f"run() must return a dict or None, not {type(result).__name__}")
        result = json.loads(json.dumps(result, allow_nan=False))
    except JobCancelled as exc:
        channel.done("cancelled", str(exc) or "Cancelled on request.")
    except JobFailed as exc:
        channel.done("failed", str(exc) or f"The job failed ({type(exc).__name__}).")
    except RetryableJobError as exc:
        channel.done("retry", str(exc) or "A temporary problem stopped the job.")
    except Exception as exc:
        channel.log("ERROR", traceback.format_exc().rstrip())
        channel.done("failed", f"Internal error: {type(exc).__name__}: {exc}")
    else:
        channel.done("succeeded", result=result)


def run_child(job_id: UUID, worker_pid: int, msg_fd: int, out_fd: int, inherited: list[int]) -> NoReturn:
    """Run one attempt of a job in this (freshly forked) process, then exit without returning."""
    code = EXIT_BROKEN
    # Everything inherited from the worker (Django, the preloaded libraries: millions of objects)
    # lives as long as this process: keep it out of the cyclic garbage collector, whose full passes
    # over it would otherwise stall the job ~0.1 s each and copy the shared memory pages.
    gc.freeze()
    try:
        signal.set_wakeup_fd(-1)  # the worker's wake-up pipe is about to be closed here
        for fd in inherited:  # the worker's ends of other jobs' pipes, its selector, its wake-up pipe
            with contextlib.suppress(OSError):
                os.close(fd)
        channel = ChildChannel(msg_fd)
        _detach(worker_pid, channel)
        streams = _capture_output(channel, out_fd)
        try:
            _execute(job_id, channel)
            code = EXIT_OK
        finally:
            for stream in streams:
                stream.close()
    except _Stop:
        code = EXIT_STOPPED
    except BaseException:
        with contextlib.suppress(BaseException):
            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
    finally:
        with contextlib.suppress(BaseException):
            from django.db import connections

            connections.close_all()
        os._exit(code)
