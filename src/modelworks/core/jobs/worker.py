"""``modelworks worker``: claims queued jobs and runs each attempt in its own child process.

Why a child process per attempt: a job can then be hard-stopped (cancel, shutdown) without stopping
the worker, and a job that crashes or is killed for using too much memory takes only itself down.
Fork rather than spawn: the child starts in milliseconds with Django already set up (spawn would
re-import Django and the job's libraries for every attempt, ~1.5 s of CPU each). Fork is safe here
because the worker is single-threaded and closes its database connections just before forking, so
parent and child never share a socket or an SQLite handle.

The loop is single-threaded and multiplexes everything with a selector: claim while slots are free →
read the children's pipes (log lines, progress, outcome) → write them in batches → every second,
read the flags of the running jobs (cancel requested? still ours?) → every lease/3 seconds, renew
the leases and reap the jobs of dead workers → every MODELWORKS_PERIODIC_INTERVAL_SECONDS, call the
MODELWORKS_PERIODIC_TASKS functions (e.g. the scenarios' scheduler tick). SIGTERM/SIGINT stop claiming, let running jobs finish
for a grace period, then stop them and queue them again (a second signal stops them at once).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import secrets
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.module_loading import import_string

from modelworks.core.jobs import store
from modelworks.core.jobs.base import BaseJob
from modelworks.core.jobs.process import JobProcess
from modelworks.core.jobs.registry import registered_job_types
from modelworks.core.jobs.store import AttemptRef, Outcome
from modelworks.core.models.jobs import Job, JobState, Worker

__all__ = ["JobWorker", "preload_modules", "run_worker"]

logger = logging.getLogger("modelworks.jobs")

KILL_AFTER_TERM_SECONDS = 2.0  # SIGTERM lets a job's cleanup run; SIGKILL follows if it takes longer
LOG_FLUSH_SECONDS = 0.25
PROGRESS_WRITE_SECONDS = 0.5


class JobWorker:
    """One worker process. ``run()`` returns when stopped by a signal or, in burst mode, when idle."""

    def __init__(
        self, concurrency: int = 2, burst: bool = False, name: str | None = None, poll_interval: float = 1.0
    ):
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        self.concurrency = concurrency
        self.burst = burst
        self.poll_interval = poll_interval
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}")[:90]
        # Unique per process even when several workers are given the same --name: it is a fencing key.
        self.id = f"{self.name}/{secrets.token_hex(3)}"
        types = registered_job_types()
        self.kinds = list(types)
        preload_modules(types.values())
        self.lease = store.lease_seconds()
        self.cancel_grace = float(settings.MODELWORKS_JOB_CANCEL_GRACE_SECONDS)
        self.shutdown_grace = float(settings.MODELWORKS_JOB_SHUTDOWN_GRACE_SECONDS)
        self.running: dict[int, JobProcess] = {}  # by pid
        self.periodic = _periodic_tasks()
        self.periodic_interval = float(getattr(settings, "MODELWORKS_PERIODIC_INTERVAL_SECONDS", 30))
        self.selector = selectors.DefaultSelector()
        self._signals = 0
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, None)

    # ----------------------------------------------------------------------------------- main loop

    def run(self) -> int:
        restore = self._install_signal_handlers()
        now = timezone.now()
        store.register_worker(
            Worker(
                id=self.id,
                name=self.name,
                hostname=socket.gethostname()[:255],
                pid=os.getpid(),
                concurrency=self.concurrency,
                started_at=now,
                last_seen_at=now,
            )
        )
        logger.info(
            "Worker %s started: concurrency %d, %d job types, lease %.0f s%s.",
            self.id,
            self.concurrency,
            len(self.kinds),
            self.lease,
            ", burst mode" if self.burst else "",
        )
        try:
            self._loop()
        finally:
            self._abandon_all()
            with contextlib.suppress(DatabaseError):
                store.unregister_worker(self.id)
            restore()
            self.selector.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            logger.info("Worker %s stopped.", self.id)
        return 0

    def _loop(self) -> None:
        now = time.monotonic()
        next_claim = next_beat = next_periodic = now
        next_poll = now + min(self.poll_interval, 1.0)
        next_flush = now + LOG_FLUSH_SECONDS
        shutdown_at: float | None = None
        while True:
            now = time.monotonic()
            if self._signals and shutdown_at is None:
                shutdown_at = now + self.shutdown_grace
                if self.running:
                    logger.info(
                        "Stopping: no new jobs; waiting up to %.0f s for %d running job(s) "
                        "(signal again to stop them now).",
                        self.shutdown_grace,
                        len(self.running),
                    )
            if self._signals >= 2 and shutdown_at is not None:
                shutdown_at = min(shutdown_at, now)
            if shutdown_at is not None and now >= shutdown_at:
                self._stop_all(now, "shutdown")
            if shutdown_at is not None and not self.running:
                return
            while shutdown_at is None and len(self.running) < self.concurrency and now >= next_claim:
                job = self._guard(store.claim_next, self.id, self.kinds)
                if job is None:
                    next_claim = now + self.poll_interval
                    if (
                        self.burst
                        and not self.running
                        and not self._guard(store.queue_has_work, self.kinds, default=True)
                    ):
                        return
                    break
                self._start(job)

            deadlines = [next_beat, next_poll, next_flush]
            deadlines += [p.escalate_at for p in self.running.values() if p.escalate_at is not None]
            if shutdown_at is not None:
                deadlines.append(shutdown_at)
            elif len(self.running) < self.concurrency:
                deadlines.append(next_claim)
            self._wait(max(0.0, min(min(deadlines) - now, 1.0)))

            now = time.monotonic()
            if self._collect_exits():
                next_claim = now  # a slot is free: look for the next job straight away
            if now >= next_flush:
                self._flush(now, list(self.running.values()))
                next_flush = now + LOG_FLUSH_SECONDS
            if now >= next_poll:
                self._guard(self._poll_jobs, now)
                next_poll = now + min(self.poll_interval, 1.0)
            self._escalate(now)
            if now >= next_beat:
                self._guard(self._heartbeat)
                next_beat = now + self.lease / 3
            if self.periodic and shutdown_at is None and now >= next_periodic:
                self._run_periodic()
                next_periodic = time.monotonic() + self.periodic_interval

    def _guard(self, func: Callable[..., Any], *args: Any, default: Any = None) -> Any:
        """Run a database step; if the database is briefly unavailable, log it and carry on."""
        try:
            return func(*args)
        except DatabaseError as exc:
            logger.error("Database error in worker %s (%s): %s; will retry.", self.id, func.__name__, exc)
            connections.close_all()
            time.sleep(min(self.poll_interval, 1.0))
            return default

    def _wait(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            if key.data is None:  # a signal arrived; the loop looks at self._signals
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._wake_r, 512):
                        pass
            else:
                key.data.read(key.fd)

    # ------------------------------------------------------------------------------ job processes

    def _start(self, job: Job) -> None:
        if job.cancel_requested:
            store.settle(
                AttemptRef(job.id, job.attempt, self.id), Outcome("cancelled", "Cancelled on request.")
            )
            return
        inherited = [self._wake_r, self._wake_w, *(fd for p in self.running.values() for fd in p.fds)]
        selector_fd = getattr(self.selector, "fileno", lambda: -1)()
        if selector_fd >= 0:
            inherited.append(selector_fd)
        process = JobProcess.fork(job, self.id, self.selector, inherited)
        self.running[process.pid] = process
        logger.info(
            "Job %s (%s) attempt %d started in process %d.", job.id, job.kind, job.attempt, process.pid
        )

    def _flush(self, now: float, processes: list[JobProcess], force: bool = False) -> None:
        """Write buffered log lines and the latest progress (progress at most every 0.5 s)."""
        for process in processes:
            if process.lines:
                lines, process.lines = process.lines, []
                ref = process.ref
                if (
                    self._guard(store.append_log_lines, ref.job_id, ref.attempt, lines, default=False)
                    is False
                ):
                    process.lines = lines + process.lines  # kept for the next try
            due = force or now - process.progress_written_at >= PROGRESS_WRITE_SECONDS
            if process.progress is not None and due and process.stop_reason != "lost":
                percent, message = process.progress
                process.progress, process.progress_written_at = None, now
                self._guard(store.write_progress, process.ref, percent, message)

    def _collect_exits(self) -> bool:
        finished = False
        for pid, process in list(self.running.items()):
            exit_code = process.collect_exit()
            if exit_code is None:
                continue
            del self.running[pid]
            self._finish(process, exit_code)
            finished = True
        return finished

    def _finish(self, process: JobProcess, exit_code: int) -> None:
        self._flush(time.monotonic(), [process], force=True)
        ref = process.ref
        if process.stop_reason == "lost":
            logger.warning(
                "Job %s attempt %d was stopped: it is no longer this worker's.", ref.job_id, ref.attempt
            )
            return
        outcome = process.outcome or self._unreported_outcome(process, exit_code)
        state = self._guard(store.settle, ref, outcome)
        logger.info(
            "Job %s (%s) attempt %d: %s in %.1f s.",
            ref.job_id,
            process.kind,
            ref.attempt,
            state or "outcome not written (the job was taken over)",
            time.monotonic() - process.started,
        )

    def _unreported_outcome(self, process: JobProcess, exit_code: int) -> Outcome:
        """How an attempt ended whose process exited without saying."""
        if process.stop_reason == "cancel":
            return Outcome(
                "cancelled",
                f"Cancelled on request. The job did not stop by itself within {self.cancel_grace:.0f} s, "
                "so its process was stopped.",
            )
        if process.stop_reason == "shutdown":
            return Outcome(
                "interrupted",
                f"Interrupted: worker {self.id} shut down before the job finished. It was queued again; "
                "this attempt does not count.",
            )
        if exit_code < 0:
            how = f"it was killed by {signal.Signals(-exit_code).name}"
            if -exit_code == signal.SIGKILL:
                how += " (often the machine running out of memory)"
        else:
            how = f"it exited with code {exit_code}"
        return Outcome("failed", f"The job's process ended before reporting a result: {how}. See the log.")

    # ------------------------------------------------------------------------------ stop, cancel

    def _poll_jobs(self, now: float) -> None:
        """Read the flags of the running jobs: is cancellation asked? are they still ours?"""
        if not self.running:
            return
        ids = [p.ref.job_id for p in self.running.values()]
        rows = {
            r["id"]: r
            for r in Job.objects.filter(id__in=ids).values(
                "id", "attempt", "worker_id", "state", "cancel_requested"
            )
        }
        for process in self.running.values():
            if process.outcome is not None or process.stop_reason == "lost":
                continue
            row = rows.get(process.ref.job_id)
            ours = (
                row is not None
                and row["attempt"] == process.ref.attempt
                and row["worker_id"] == self.id
                and row["state"] == JobState.RUNNING
            )
            if not ours:
                self._lose(process)
            elif row["cancel_requested"] and process.stop_reason is None:
                process.stop_reason, process.escalate_at = "cancel", now + self.cancel_grace
                process.send(signal.SIGUSR1, group=False)
                logger.info("Job %s: cancellation requested; asking the job to stop.", process.ref.job_id)
            elif process.stop_reason == "cancel" and not process.signal_sent:
                process.send(signal.SIGUSR1, group=False)  # in case the first one came too early

    def _lose(self, process: JobProcess) -> None:
        """The job was re-queued, cancelled or deleted behind our back: stop the process, write nothing."""
        process.stop_reason, process.escalate_at = "lost", None
        process.send(signal.SIGKILL)

    def _escalate(self, now: float) -> None:
        for process in self.running.values():
            if process.escalate_at is None or now < process.escalate_at:
                continue
            if not process.signal_sent:
                process.send(signal.SIGTERM)
                process.signal_sent, process.escalate_at = signal.SIGTERM, now + KILL_AFTER_TERM_SECONDS
                logger.info("Job %s: stopping its process (%s).", process.ref.job_id, process.stop_reason)
            else:
                process.send(signal.SIGKILL)
                process.signal_sent, process.escalate_at = signal.SIGKILL, None

    def _stop_all(self, now: float, reason: str) -> None:
        for process in self.running.values():
            if process.stop_reason is None and process.outcome is None:
                process.stop_reason, process.escalate_at = reason, now

    def _abandon_all(self) -> None:
        """Last resort on the way out: kill every child still running and queue its job again."""
        for process in self.running.values():
            process.stop_reason = process.stop_reason or "shutdown"
            process.send(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.running and time.monotonic() < deadline:
            self._collect_exits()
            time.sleep(0.05)

    def _heartbeat(self) -> None:
        for process in self.running.values():
            if (
                process.stop_reason != "lost"
                and not store.renew_lease(process.ref)
                and process.outcome is None
            ):
                self._lose(process)
        store.report_worker(self.id, len(self.running))
        store.reap_expired()
        store.forget_dead_workers()

    def _run_periodic(self) -> None:
        """Call each MODELWORKS_PERIODIC_TASKS function; one failing is logged and does not stop the others."""
        for path, func in self.periodic:
            try:
                func()
            except Exception:
                logger.exception("Periodic task %s failed in worker %s; it runs again later.", path, self.id)
                connections.close_all()

    # -------------------------------------------------------------------------------------- signals

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None  # only the main thread can handle signals; the caller stops us then

        def on_signal(signum: int, frame: object) -> None:
            self._signals += 1

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        # A child that has not yet installed its own handler must not die of an early cancel signal.
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        previous_wakeup = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

        def restore() -> None:
            signal.set_wakeup_fd(previous_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore


def preload_modules(types: Iterable[type[BaseJob]]) -> list[str]:
    """Import the ``preload`` modules of these job types (see ``BaseJob.preload``); return their names.

    Raises:
        ImproperlyConfigured: a module cannot be imported (a wrong name in a job type's ``preload``).
    """
    names = sorted({name for cls in types for name in cls.preload})
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"a job type's preload module '{name}' cannot be imported: {exc}"
            ) from exc
    return names


def _periodic_tasks() -> list[tuple[str, Callable[[], Any]]]:
    """The MODELWORKS_PERIODIC_TASKS functions (dotted paths), imported."""
    tasks = []
    for path in getattr(settings, "MODELWORKS_PERIODIC_TASKS", []) or []:
        try:
            tasks.append((path, import_string(path)))
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"MODELWORKS_PERIODIC_TASKS entry '{path}' cannot be imported: {exc}; fix the dotted path."
            ) from exc
    return tasks


def run_worker(
    concurrency: int = 2, burst: bool = False, name: str | None = None, poll_interval: float = 1.0
) -> int:
    """Run a job worker until SIGTERM/SIGINT (or, with ``burst``, until there is nothing left to do).

    Args:
        concurrency: jobs run at the same time, each in its own process.
        burst: exit once nothing runs here and no job this worker can run is queued (due now or later).
        name: shown on job pages; default ``host:pid``.
        poll_interval: seconds between looks at the queue while idle.

    Returns:
        The process exit code: 0, or 2 when the worker cannot start (misconfigured job types).
    """
    try:
        worker = JobWorker(concurrency=concurrency, burst=burst, name=name, poll_interval=poll_interval)
    except (ImproperlyConfigured, ValueError) as exc:
        logger.error("Cannot start the worker: %s", exc)
        return 2
    # Django, the job types and their preloaded libraries stay loaded for the worker's life: move
    # them out of the garbage collector's reach once (its full passes over them cost ~0.1 s each).
    gc.collect()
    gc.freeze()
    try:
        return worker.run()
    finally:
        gc.unfreeze()  # so that the interpreter can free them on the way out
