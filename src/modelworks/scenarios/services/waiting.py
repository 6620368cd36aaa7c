"""Waiting for the job a scenario step started, and running it here when no worker takes it.

A scenario run is a job that waits for other jobs (a build, a quality check…). With a small pool of
workers that could deadlock: two scenario runs hold both slots of a ``--concurrency 2`` worker while
their builds wait in the queue. So a step's job still queued after
``MODELWORKS_SCENARIO_INLINE_AFTER_SECONDS`` is claimed (the same conditional UPDATE a worker uses)
and run inside the scenario's own process: its log, progress, lease and outcome go to its own job
row exactly as a worker would write them, and a cancel of the scenario reaches it.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.utils import timezone

from modelworks.core.jobs import (
    BaseJob,
    JobCancelled,
    JobFailed,
    JobStateError,
    RetryableJobError,
    job_type,
    request_cancel,
    store,
)
from modelworks.core.models import Job, JobState
from modelworks.core.models.jobs import FINISHED_STATES

__all__ = ["run_inline", "wait_for_job"]

MAX_POLL_SECONDS = 2.0


class _InlineReporter:
    """A ``JobReporter`` writing to the job's own row, fenced by its attempt like a worker's writes."""

    def __init__(self, ref: store.AttemptRef, parent_cancelled: Callable[[], bool]) -> None:
        self.ref = ref
        self._parent_cancelled = parent_cancelled
        self._progress_at = 0.0
        self._checked_at = 0.0
        self._cancel = False

    def log(self, level: str, message: str) -> None:
        store.append_log_lines(self.ref.job_id, self.ref.attempt, [(timezone.now(), level, message)])

    def progress(self, percent: float, message: str) -> None:
        now = time.monotonic()
        if now - self._progress_at >= 0.5 or percent >= 100:
            self._progress_at = now
            store.write_progress(self.ref, percent, message)

    def cancel_requested(self) -> bool:
        if self._cancel or self._parent_cancelled():
            return True
        now = time.monotonic()
        if now - self._checked_at >= 1.0:
            self._checked_at = now
            self._cancel = Job.objects.filter(pk=self.ref.job_id, cancel_requested=True).exists()
        return self._cancel


def _renew(ref: store.AttemptRef, stop: threading.Event) -> None:
    try:
        while not stop.wait(store.lease_seconds() / 3):
            store.renew_lease(ref)
    finally:
        connection.close()


def run_inline(job: Job, parent: BaseJob, parent_cancelled: Callable[[], bool]) -> bool:
    """Claim ``job`` if it is still queued and due, and run it in this process; False if not claimed."""
    worker_id = f"{parent.job.worker_id or 'inline'}/scenario"[:100]
    claimed = store.claim(job.pk, worker_id)
    if claimed is None:
        return False
    job = claimed
    ref = store.AttemptRef(job.id, job.attempt, worker_id)
    reporter = _InlineReporter(ref, parent_cancelled)
    reporter.log(
        "INFO",
        f"No worker took this job, so scenario job {parent.job.pk} runs it in its own process "
        f"(attempt {job.attempt}).",
    )
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(ref, stop), daemon=True)
    renewer.start()
    try:
        result = job_type(job.kind)(job, reporter).run()
        if result is not None and not isinstance(result, dict):
            raise TypeError(f"run() must return a dict or None, not {type(result).__name__}")
        outcome = store.Outcome("succeeded", result=json.loads(json.dumps(result, allow_nan=False)))
    except JobCancelled as exc:
        outcome = store.Outcome("cancelled", str(exc) or "Cancelled on request.")
    except JobFailed as exc:
        outcome = store.Outcome("failed", str(exc) or f"The job failed ({type(exc).__name__}).")
    except RetryableJobError as exc:
        outcome = store.Outcome("retry", str(exc) or "A temporary problem stopped the job.")
    except Exception as exc:
        reporter.log("ERROR", traceback.format_exc().rstrip())
        outcome = store.Outcome("failed", f"Internal error: {type(exc).__name__}: {exc}")
    finally:
        stop.set()
        renewer.join(timeout=5)
    store.settle(ref, outcome)
    return True


def wait_for_job(
    job_id: UUID,
    *,
    parent: BaseJob,
    cancelled: Callable[[], bool],
    on_wait: Callable[[Job], None] | None = None,
) -> Job:
    """Wait until job ``job_id`` has ended and return it.

    Polls the job's row (0.2 s at first, then up to every 2 s). When ``cancelled()`` turns true, the
    job is cancelled too and ``JobCancelled`` is raised once it has stopped (or after the cancel
    grace period). A job still queued after ``MODELWORKS_SCENARIO_INLINE_AFTER_SECONDS`` is run here.

    Raises:
        JobCancelled: the scenario run was cancelled.
    """
    inline_after = float(getattr(settings, "MODELWORKS_SCENARIO_INLINE_AFTER_SECONDS", 10))
    began = time.monotonic()
    delay = 0.2
    while True:
        job = Job.objects.get(pk=job_id)
        if cancelled():  # before "finished?": a job that ended because we cancelled it is a cancel
            _cancel_and_wait(job)
            raise JobCancelled("Cancelled on request.")
        if job.state in FINISHED_STATES:
            return job
        if on_wait is not None:
            on_wait(job)
        if job.state == JobState.QUEUED and time.monotonic() - began >= inline_after:
            if run_inline(job, parent, cancelled):
                continue
        time.sleep(delay)
        delay = min(delay * 1.5, MAX_POLL_SECONDS)


def _cancel_and_wait(job: Job) -> Any:
    try:
        request_cancel(job, actor=None)
    except JobStateError:
        return job
    deadline = time.monotonic() + float(settings.MODELWORKS_JOB_CANCEL_GRACE_SECONDS) + 5
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in FINISHED_STATES:
            break
        time.sleep(0.3)
    return job
