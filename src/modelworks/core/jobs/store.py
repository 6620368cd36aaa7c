"""The queue's database operations: claim, lease renewal, outcomes, reaping, log lines, workers.

Every write a worker makes about a job it runs is *fenced*: conditional on (id, attempt, worker_id,
state='running'). ``attempt`` grows by one at each claim, so once a job was re-queued (its worker's
lease expired) nothing from the old attempt can overwrite it; the write just matches no row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from modelworks.core.jobs.registry import job_type
from modelworks.core.models.jobs import Job, JobLogLine, JobState, Worker

__all__ = [
    "AttemptRef",
    "Outcome",
    "append_log_lines",
    "claim_next",
    "lease_seconds",
    "live_workers",
    "queue_has_work",
    "reap_expired",
    "renew_lease",
    "settle",
    "write_progress",
]

logger = logging.getLogger("modelworks.jobs")

# A worker that stopped reporting for this long is forgotten (its jobs were reaped long before).
FORGET_DEAD_WORKERS_AFTER = timedelta(days=1)


def lease_seconds() -> float:
    """The job lease (MODELWORKS_JOB_LEASE_SECONDS): how long a job survives its worker's silence."""
    return float(settings.MODELWORKS_JOB_LEASE_SECONDS)


@dataclass(frozen=True)
class AttemptRef:
    """One attempt of one job by one worker: the fencing key of every write about it."""

    job_id: UUID
    attempt: int
    worker_id: str

    def running(self) -> Any:
        return Job.objects.filter(
            id=self.job_id, attempt=self.attempt, worker_id=self.worker_id, state=JobState.RUNNING
        )


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended.

    ``state`` is one of: ``succeeded``; ``failed`` (final); ``retry`` (transient: re-queue with
    backoff while attempts remain); ``cancelled``; ``interrupted`` (the worker shut down: re-queue,
    not counted); ``lost`` (the worker died: re-queue while attempts remain).
    """

    state: str
    message: str = ""
    result: Any = None


# --------------------------------------------------------------------------------------- log lines


def append_log_lines(job_id: UUID, attempt: int, lines: list[tuple[datetime, str, str]]) -> None:
    """Append ``(time, level, message)`` lines to a job's log, after its last line.

    The web process (cancel, retry) and the worker may append at the same moment; ``seq`` is
    unique per job, so a clash is retried with the new last ``seq``.
    """
    if not lines:
        return
    for tries in range(5):
        try:
            with transaction.atomic():
                last = JobLogLine.objects.filter(job_id=job_id).aggregate(m=Max("seq"))["m"] or 0
                JobLogLine.objects.bulk_create(
                    JobLogLine(job_id=job_id, seq=last + i, time=t, level=lvl, attempt=attempt, message=msg)
                    for i, (t, lvl, msg) in enumerate(lines, start=1)
                )
            return
        except IntegrityError:
            if not Job.objects.filter(id=job_id).exists():
                return  # the job (or its project) was deleted meanwhile: nothing to log to
            if tries == 4:
                raise


def _log(job_id: UUID, attempt: int, level: str, message: str) -> None:
    append_log_lines(job_id, attempt, [(timezone.now(), level, message)])


# ------------------------------------------------------------------------------------------- claim


def claim_next(worker_id: str, kinds: list[str]) -> Job | None:
    """Claim the oldest queued job of one of ``kinds`` that is due, or return None.

    The claim is a conditional UPDATE (``WHERE id = ? AND state = 'queued'``): of two workers racing
    for a job exactly one matches the row. On PostgreSQL the candidate is also read ``FOR UPDATE SKIP
    LOCKED``, so concurrent workers pick different jobs instead of queueing on the same row; on SQLite
    the transaction is IMMEDIATE, which serialises claims anyway.
    """
    now = timezone.now()
    with transaction.atomic():
        candidates = (
            Job.objects.filter(state=JobState.QUEUED, kind__in=kinds)
            .filter(Q(run_after__isnull=True) | Q(run_after__lte=now))
            .order_by("created_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        job_id = candidates.values_list("id", flat=True).first()
        if job_id is None:
            return None
        won = Job.objects.filter(id=job_id, state=JobState.QUEUED).update(**_running(worker_id, now))
    if not won:
        return None
    return Job.objects.select_related("project").get(id=job_id)


def claim(job_id: UUID, worker_id: str) -> Job | None:
    """Claim one given job if it is still queued, due and not being cancelled; else return None.

    For a process that must run a job it waits for when no worker takes it (a scenario step, the
    ``modelworks build`` command): the same conditional UPDATE as :func:`claim_next`.
    """
    now = timezone.now()
    with transaction.atomic():
        won = (
            Job.objects.filter(pk=job_id, state=JobState.QUEUED, cancel_requested=False)
            .filter(Q(run_after__isnull=True) | Q(run_after__lte=now))
            .update(**_running(worker_id, now))
        )
    if not won:
        return None
    return Job.objects.select_related("project").get(pk=job_id)


def _running(worker_id: str, now: datetime) -> dict[str, Any]:
    """The fields a claim sets: a new attempt of ``worker_id``, with a fresh lease."""
    return {
        "state": JobState.RUNNING,
        "attempt": F("attempt") + 1,
        "worker_id": worker_id,
        "started_at": now,
        "finished_at": None,
        "heartbeat_at": now,
        "lease_expires_at": now + timedelta(seconds=lease_seconds()),
        "progress": 0.0,
        "progress_message": "Starting",
        "result": None,
    }


def queue_has_work(kinds: list[str]) -> bool:
    """Whether a queued job of one of ``kinds`` exists, due now or later (burst mode waits for it)."""
    return Job.objects.filter(state=JobState.QUEUED, kind__in=kinds).exists()


# ---------------------------------------------------------------------------------- while running


def renew_lease(ref: AttemptRef) -> bool:
    """Extend the lease of a running attempt; False if the job is no longer this attempt's."""
    now = timezone.now()
    return bool(
        ref.running().update(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_seconds()))
    )


def write_progress(ref: AttemptRef, percent: float, message: str) -> bool:
    """Record a running attempt's progress; False if the job is no longer this attempt's."""
    return bool(ref.running().update(progress=percent, progress_message=message[:300]))


# ---------------------------------------------------------------------------------------- outcomes


def _fmt_delay(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def settle(ref: AttemptRef, outcome: Outcome, *, extra: Q | None = None) -> str | None:
    """Write how an attempt ended; return the job's new state, or None if the attempt was fenced out.

    Args:
        ref: the attempt.
        outcome: how it ended.
        extra: a further condition on the row (the reaper passes "lease expired").
    """
    rows = ref.running()
    if extra is not None:
        rows = rows.filter(extra)
    job = rows.first()
    if job is None:
        return None
    now = timezone.now()
    fields: dict[str, Any] = {"lease_expires_at": None}
    state = outcome.state
    if state in ("retry", "lost", "interrupted") and job.cancel_requested:
        state, outcome = "cancelled", Outcome("cancelled", "Cancelled on request.")
    used = job.counted_attempts
    if state in ("retry", "lost") and used >= job.max_attempts:
        word = "attempt" if job.max_attempts == 1 else "attempts"
        state, outcome = "failed", Outcome("failed", f"{outcome.message} Gave up after {used} {word}.")
    if state == "succeeded":
        fields.update(
            state=JobState.SUCCEEDED, result=outcome.result, progress=100.0, error="", finished_at=now
        )
        took = f" in {(now - job.started_at).total_seconds():.1f} s" if job.started_at else ""
        level, line = "INFO", f"Succeeded{took}."
    elif state in ("failed", "cancelled"):
        fields.update(
            state=JobState.FAILED if state == "failed" else JobState.CANCELLED,
            error=outcome.message,
            finished_at=now,
        )
        level, line = ("ERROR" if state == "failed" else "WARNING"), outcome.message
    elif state in ("retry", "lost"):
        try:
            delay = job_type(job.kind).retry_delay(used) if state == "retry" else 0.0
        except Exception:  # a type removed from the settings still gets its retry; the claim skips it
            delay = 0.0
        when = now + timedelta(seconds=delay)
        nxt = f"attempt {used + 1} of {job.max_attempts}"
        fields.update(
            state=JobState.QUEUED,
            error=outcome.message,
            run_after=when,
            worker_id="",
            progress=0.0,
            progress_message=(
                f"Waiting to retry ({nxt}) at {when:%H:%M:%S} UTC" if delay else f"Queued ({nxt})"
            ),
        )
        level = "WARNING"
        then = f"Retrying in {_fmt_delay(delay)}" if delay else "Queued again"
        line = f"{outcome.message} {then} ({nxt})."
    elif state == "interrupted":
        fields.update(
            state=JobState.QUEUED,
            uncounted_attempts=F("uncounted_attempts") + 1,
            run_after=None,
            worker_id="",
            progress=0.0,
            progress_message="Queued again (its worker shut down)",
        )
        level, line = "WARNING", outcome.message
    else:
        raise ValueError(f"unknown outcome state {outcome.state!r}")
    if not rows.update(**fields):
        return None
    _log(ref.job_id, ref.attempt, level, line)
    return str(fields["state"])


def reap_expired() -> list[tuple[UUID, str]]:
    """Settle running jobs whose lease has expired: their worker died or hangs.

    Each is re-queued while attempts remain, else failed, with a message saying what happened.
    Returns ``(job id, new state)`` pairs.
    """
    now = timezone.now()
    expired = Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)
    settled = []
    for job in Job.objects.filter(state=JobState.RUNNING).filter(expired):
        beat = job.heartbeat_at or job.started_at
        when = f"{beat:%Y-%m-%d %H:%M:%S} UTC" if beat else "never"
        message = (
            f"The worker running this job stopped responding (last heartbeat {when}, worker "
            f"{job.worker_id or 'unknown'}); the process was probably killed or the machine restarted."
        )
        ref = AttemptRef(job.id, job.attempt, job.worker_id)
        state = settle(ref, Outcome("lost", message), extra=expired)
        if state is not None:
            logger.warning("Job %s (%s): lease expired; now %s.", job.id, job.kind, state)
            settled.append((job.id, state))
    return settled


# ----------------------------------------------------------------------------------------- workers


def register_worker(worker: Worker) -> None:
    """Add a starting worker to the list of workers."""
    worker.save(force_insert=True)


def report_worker(worker_id: str, running_jobs: int) -> None:
    """A worker's own heartbeat: it is alive and runs ``running_jobs`` jobs."""
    Worker.objects.filter(id=worker_id).update(last_seen_at=timezone.now(), running_jobs=running_jobs)


def unregister_worker(worker_id: str) -> None:
    """Remove a worker that stops cleanly."""
    Worker.objects.filter(id=worker_id).delete()


def forget_dead_workers() -> None:
    """Remove the rows of workers silent for a day (killed: they could not remove their own)."""
    Worker.objects.filter(last_seen_at__lt=timezone.now() - FORGET_DEAD_WORKERS_AFTER).delete()


def live_workers() -> list[Worker]:
    """Workers that reported within one lease: the ones that can run jobs right now."""
    since = timezone.now() - timedelta(seconds=lease_seconds())
    return list(Worker.objects.filter(last_seen_at__gte=since))
