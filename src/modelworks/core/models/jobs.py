"""Durable background jobs and their log lines. The queue logic lives in ``modelworks.core.jobs``."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from modelworks.core.models.base import ProjectScopedQuerySet


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobQuerySet(ProjectScopedQuerySet):
    def visible_to(self, user: Any) -> JobQuerySet:
        if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
            return self.all()
        return super().visible_to(user)

    def unfinished(self) -> JobQuerySet:
        return self.exclude(state__in=FINISHED_STATES)


class Job(models.Model):
    """One unit of background work, run by a ``modelworks worker`` process.

    ``attempt`` doubles as a fencing token: a worker may only write the outcome of the attempt it
    claimed, so a stale process can never overwrite a job that was re-queued after its lease expired.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "core.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(max_length=100, help_text="Registered job type, e.g. 'core.self_check'.")
    title = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Plain-language reason of the last failure.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    run_after = models.DateTimeField(null=True, blank=True, help_text="Not claimed before this time.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0, help_text="Times this job was claimed by a worker.")
    max_attempts = models.PositiveIntegerField(
        default=3, help_text="Attempts allowed per submission or retry."
    )
    uncounted_attempts = models.PositiveIntegerField(
        default=0,
        help_text="Attempts not counted against max_attempts: those before a manual retry and those "
        "interrupted by a worker shutdown.",
    )
    worker_id = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "run_after", "created_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def counted_attempts(self) -> int:
        """Attempts used from the current budget of ``max_attempts``."""
        return max(self.attempt - self.uncounted_attempts, 0)

    @property
    def can_cancel(self) -> bool:
        return not self.is_finished

    @property
    def can_retry(self) -> bool:
        return self.state in (JobState.FAILED, JobState.CANCELLED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at
        if end is None:
            from django.utils import timezone

            end = timezone.now()
        return (end - self.started_at).total_seconds()


class JobLogLine(models.Model):
    """A line a job logged, in order. Appended by the worker while the job runs."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveIntegerField()
    time = models.DateTimeField()
    level = models.CharField(max_length=10, default="INFO")
    attempt = models.PositiveIntegerField(default=1)
    message = models.TextField()

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="unique_job_log_seq")]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:80]}"


class Worker(models.Model):
    """A running ``modelworks worker`` process, as last reported by its own heartbeat.

    Rows of workers that stopped cleanly are deleted; a row whose ``last_seen_at`` is older than the
    job lease belongs to a worker that died, and is removed by the other workers after a day.
    """

    id = models.CharField(
        primary_key=True, max_length=100, help_text="Unique per process: name plus a suffix."
    )
    name = models.CharField(max_length=100)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    concurrency = models.PositiveIntegerField()
    running_jobs = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name", "started_at"]

    def __str__(self) -> str:
        return f"worker {self.id}"
