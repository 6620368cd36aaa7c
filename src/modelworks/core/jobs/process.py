"""``JobProcess``: the worker's side of one attempt running in a forked child process.

It forks the child (see ``child.py`` for the other side), reads the child's two pipes without
blocking (structured messages, and raw output of file descriptors 1 and 2), turns them into log
lines, progress and the outcome, signals the child, and collects its exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import sys
import time
from datetime import UTC, datetime

from django.db import connections
from django.utils import timezone

from modelworks.core.jobs.child import run_child
from modelworks.core.jobs.store import AttemptRef, Outcome
from modelworks.core.models.jobs import Job

__all__ = ["MAX_LOG_LINES_PER_ATTEMPT", "JobProcess"]

MAX_LOG_LINES_PER_ATTEMPT = 10_000  # a job printing in a loop must not fill the database
MAX_LINE_CHARS = 20_000
READ_CHUNK = 65536
LONG_OUTPUT_LINE = 8192  # output without a newline for this long is logged as it is


class JobProcess:
    """One attempt of one job, running in a child process of this worker.

    Attributes the worker reads and sets: ``lines`` (not yet written), ``progress`` (latest, not
    yet written), ``outcome`` (from the child's "done" message), ``stop_reason`` (``"cancel"``,
    ``"shutdown"`` or ``"lost"`` once the worker decided to stop it), ``escalate_at`` and
    ``signal_sent`` (the SIGTERM-then-SIGKILL schedule).
    """

    def __init__(
        self, ref: AttemptRef, kind: str, pid: int, fds: dict[int, str], selector: selectors.BaseSelector
    ):
        self.ref = ref
        self.kind = kind
        self.pid = pid
        self.fds = fds  # fd → "msg" | "out"
        self.selector = selector
        self.started = time.monotonic()
        self.buffers = {"msg": b"", "out": b""}
        self.lines: list[tuple[datetime, str, str]] = []
        self.line_count = 0
        self.progress: tuple[float, str] | None = None
        self.progress_written_at = 0.0
        self.outcome: Outcome | None = None
        self.stop_reason: str | None = None
        self.escalate_at: float | None = None
        self.signal_sent = 0

    @classmethod
    def fork(
        cls, job: Job, worker_id: str, selector: selectors.BaseSelector, inherited: list[int]
    ) -> JobProcess:
        """Start the attempt ``job.attempt`` of ``job`` in a new child process.

        Args:
            job: the claimed job.
            worker_id: this worker's id (the attempt's fencing key).
            selector: where the child's pipes are registered for reading.
            inherited: descriptors of this worker the child must close (other children's pipes…).
        """
        msg_r, msg_w = os.pipe()
        out_r, out_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        # The child must open its own connections: a connection shared across fork corrupts both.
        connections.close_all()
        worker_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns from run_child
            run_child(job.id, worker_pid, msg_w, out_w, [msg_r, out_r, *inherited])
        os.close(msg_w)
        os.close(out_w)
        process = cls(
            AttemptRef(job.id, job.attempt, worker_id), job.kind, pid, {msg_r: "msg", out_r: "out"}, selector
        )
        for fd in process.fds:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ, process)
        process.add_line(
            timezone.now(),
            "INFO",
            f"Attempt {job.counted_attempts} of {job.max_attempts} started on worker {worker_id} (process {pid}).",
        )
        return process

    # ------------------------------------------------------------------------------------- reading

    def read(self, fd: int, drain: bool = False) -> None:
        """Read what the child wrote on ``fd`` (everything available if ``drain``)."""
        while True:
            try:
                data = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._close(fd)
                return
            which = self.fds[fd]
            *complete, rest = (self.buffers[which] + data).split(b"\n")
            if which == "out" and len(rest) > LONG_OUTPUT_LINE:
                complete.append(rest)
                rest = b""
            self.buffers[which] = rest
            for raw in complete:
                self._handle(which, raw)
            if not drain:
                return

    def _close(self, fd: int) -> None:
        self.selector.unregister(fd)
        os.close(fd)
        which = self.fds.pop(fd)
        if self.buffers[which]:  # a last line without a newline
            self._handle(which, self.buffers[which])
            self.buffers[which] = b""

    def _handle(self, which: str, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace")
        if which == "out":
            text = text.rstrip("\r").rsplit("\r", 1)[-1]  # what a terminal shows of a redrawn line
            if text.strip():
                self.add_line(timezone.now(), "INFO", text)
            return
        try:
            msg = json.loads(text)
            kind = msg["t"]
        except (ValueError, KeyError, TypeError):
            self.add_line(timezone.now(), "INFO", text)
            return
        if kind == "log":
            when = datetime.fromtimestamp(float(msg.get("time", time.time())), tz=UTC)
            self.add_line(when, str(msg.get("level", "INFO")), str(msg.get("msg", "")))
        elif kind == "progress":
            self.progress = (float(msg.get("pct", 0.0)), str(msg.get("msg", "")))
        elif kind == "done":
            self.outcome = Outcome(str(msg.get("state")), str(msg.get("msg", "")), msg.get("result"))

    def add_line(self, when: datetime, level: str, message: str) -> None:
        self.line_count += 1
        if self.line_count <= MAX_LOG_LINES_PER_ATTEMPT:
            if len(message) > MAX_LINE_CHARS:
                message = (
                    message[:MAX_LINE_CHARS] + f" … [{len(message) - MAX_LINE_CHARS} more characters cut]"
                )
            self.lines.append((when, level, message))
        elif self.line_count == MAX_LOG_LINES_PER_ATTEMPT + 1:
            self.lines.append(
                (
                    when,
                    "WARNING",
                    f"Log limit of {MAX_LOG_LINES_PER_ATTEMPT} lines reached; "
                    "further output of this attempt is not kept.",
                )
            )

    # --------------------------------------------------------------------------- signals and exit

    def send(self, signum: int, group: bool = True) -> None:
        """Signal the child, or (``group``) the child and every process it started."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)

    def collect_exit(self) -> int | None:
        """If the child has exited: read its last output, clean up, return its exit code (negative
        for a signal). Otherwise None."""
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            info = None
        if info is None:
            return None
        # Until it is waited for, the child is a zombie and its process group id cannot be reused:
        # anything the job started and left behind is stopped with it.
        self.send(signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        for fd in list(self.fds):
            self.read(fd, drain=True)
            if fd in self.fds:  # still open: a leftover process holds it; stop listening
                self._close(fd)
        return os.waitstatus_to_exitcode(status)
