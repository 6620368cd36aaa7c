"""Following a build from the terminal, as ``modelworks build --wait`` and the headless demo do.

:func:`wait_for_build` prints a queued build's progress until it ends; when no worker of the
instance is alive, it claims the build's job the way a worker does and runs it in this process.
:func:`build_table` prints the steps of a build.
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
from typing import TextIO

from django.db import connections
from django.utils import timezone

from modelworks.core.jobs import JobCancelled, JobFailed, job_type, live_workers, store
from modelworks.core.models import Job, JobState
from modelworks.flows.models import Build
from modelworks.flows.services import sync_build_status

__all__ = ["FINISHED_JOB_STATES", "build_table", "wait_for_build"]

FINISHED_JOB_STATES = [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED]


def build_table(build: Build) -> str:
    """The steps of a build as a plain-text table: recipe, status, time, rows written."""
    lines = [f"  {'recipe':<24} {'status':<12} {'time':>8}  rows written"]
    for step in build.steps.order_by("position", "id"):
        seconds = f"{step.duration_seconds:.1f} s" if step.duration_seconds is not None else "-"
        rows = ", ".join(f"{name} {count:,}" for name, count in (step.rows or {}).items()) or "-"
        lines.append(f"  {step.recipe_name:<24} {step.status:<12} {seconds:>8}  {rows}")
        if step.error:
            lines.append(f"      {step.error}")
    return "\n".join(lines)


def wait_for_build(build: Build, out: TextIO, *, timeout: float, run_here_after: float = 0.0) -> Build:
    """Follow a queued build to its end, printing its progress.

    A worker of the instance runs it; when none is alive and the build is still queued after
    ``run_here_after`` seconds, it runs in this process (the jobs it queues, such as profiles,
    wait for a worker).
    """
    began = time.monotonic()
    said = ""
    while time.monotonic() - began < timeout:
        build.refresh_from_db()
        job = Job.objects.get(pk=build.job_id) if build.job_id else None
        if build.is_finished or job is None or job.state in FINISHED_JOB_STATES:
            break
        message = f"[{job.progress:3.0f}%] {job.progress_message}"
        if message != said:
            out.write(f"  {message}\n")
            out.flush()
            said = message
        if job.state == JobState.QUEUED and time.monotonic() - began >= run_here_after and not live_workers():
            out.write("  No worker is running, so this command runs the build itself.\n")
            _run_job_here(job, out)
            # …and writes the lineage the build left to its own job (a moment's work).
            for lineage in Job.objects.filter(
                kind="flows.lineage", params__build_id=build.pk, state=JobState.QUEUED
            ):
                _run_job_here(lineage, io.StringIO())  # its progress is not worth printing
            waiting = Job.objects.filter(
                project=build.project_id, state=JobState.QUEUED, created_at__gte=job.created_at
            ).count()
            if waiting:
                out.write(
                    f"  {waiting} job(s) it queued (profiles, checks) wait for a worker: modelworks worker\n"
                )
            continue
        time.sleep(0.5)
    build.refresh_from_db()
    return sync_build_status(build)


class _PrintingReporter:
    """A JobReporter writing to the job's row (fenced by its attempt) and echoing progress."""

    def __init__(self, ref: store.AttemptRef, out: TextIO) -> None:
        self.ref, self.out, self.said = ref, out, ""
        self.written_at = self.checked_at = 0.0
        self.cancel = False

    def log(self, level: str, message: str) -> None:
        store.append_log_lines(self.ref.job_id, self.ref.attempt, [(timezone.now(), level, message)])

    def progress(self, percent: float, message: str) -> None:
        if message != self.said:
            self.out.write(f"  [{percent:3.0f}%] {message}\n")
            self.out.flush()
            self.said = message
        now = time.monotonic()
        if now - self.written_at >= 0.5 or percent >= 100:
            self.written_at = now
            store.write_progress(self.ref, percent, message)

    def cancel_requested(self) -> bool:
        now = time.monotonic()
        if not self.cancel and now - self.checked_at >= 1.0:
            self.checked_at = now
            self.cancel = Job.objects.filter(pk=self.ref.job_id, cancel_requested=True).exists()
        return self.cancel


def _run_job_here(job: Job, out: TextIO) -> None:
    """Claim ``job`` (if still queued) the way a worker does and run it in this process."""
    worker_id = f"cli:{socket.gethostname()}:{os.getpid()}"[:100]
    claimed = store.claim(job.pk, worker_id)
    if claimed is None:
        return
    job = claimed
    ref = store.AttemptRef(job.id, job.attempt, worker_id)
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(store.lease_seconds() / 3):
                store.renew_lease(ref)
        finally:
            connections.close_all()

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()
    try:
        result = job_type(job.kind)(job, _PrintingReporter(ref, out)).run()
        outcome = store.Outcome("succeeded", result=json.loads(json.dumps(result, default=str)))
    except JobCancelled as exc:
        outcome = store.Outcome("cancelled", str(exc) or "Cancelled on request.")
    except JobFailed as exc:
        outcome = store.Outcome("failed", str(exc))
    except Exception as exc:
        outcome = store.Outcome("failed", f"Internal error: {type(exc).__name__}: {exc}")
    finally:
        stop.set()
        renewer.join(timeout=5)
    store.settle(ref, outcome)
