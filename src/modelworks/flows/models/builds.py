"""Builds: one run of (part of) a project's flow, as a background job, with one step per recipe."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from modelworks.core.models import ProjectScopedModel, ProjectScopedQuerySet

__all__ = [
    "FINISHED_BUILD_STATES",
    "LOG_CAP",
    "Build",
    "BuildQuerySet",
    "BuildStatus",
    "BuildStep",
    "BuildTrigger",
    "StepEngine",
    "StepStatus",
]

#: The most characters of log kept per step (the job log keeps everything up to its own limits).
LOG_CAP = 64_000


class BuildStatus(models.TextChoices):
    """Where a build is; mirrors its job, plus ``succeeded`` for a build that had nothing to do."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_BUILD_STATES = (BuildStatus.SUCCEEDED, BuildStatus.FAILED, BuildStatus.CANCELLED)


class BuildTrigger(models.TextChoices):
    """Who asked for the build."""

    MANUAL = "manual", "Manual"
    API = "api", "API"
    SCENARIO = "scenario", "Scenario"
    SCHEDULE = "schedule", "Schedule"


class StepStatus(models.TextChoices):
    """The outcome of one recipe in a build."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (an upstream step failed)"
    CANCELLED = "cancelled", "Cancelled"
    UP_TO_DATE = "up_to_date", "Up to date"


class StepEngine(models.TextChoices):
    """Where a step's work runs."""

    DUCKDB = "duckdb", "DuckDB"
    POSTGRES = "postgres", "PostgreSQL"
    PYTHON = "python", "Python sandbox"
    SCORING = "scoring", "Model scoring"


class BuildQuerySet(ProjectScopedQuerySet):
    """Query logic for builds (``visible_to`` and ``with_role`` come from the project tier)."""

    def unfinished(self) -> BuildQuerySet:
        """Builds still queued or running."""
        return self.exclude(status__in=FINISHED_BUILD_STATES)


class Build(ProjectScopedModel):
    """One build of a project's flow, run by the ``flows.build`` job.

    ``targets`` lists the dataset IDs asked for (empty: every output of the flow); ``plan`` holds
    what the planner decided when the job started (steps with the reason each runs, and the
    up-to-date recipes), and ``scope`` the recipe IDs the build may write (used to refuse a second,
    overlapping build while this one is unfinished).
    """

    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    targets = models.JSONField(default=list, blank=True, help_text="Dataset IDs; empty: the whole flow.")
    force = models.BooleanField(default=False, help_text="Rebuild even the recipes that are up to date.")
    trigger = models.CharField(max_length=16, choices=BuildTrigger.choices, default=BuildTrigger.MANUAL)
    status = models.CharField(
        max_length=16, choices=BuildStatus.choices, default=BuildStatus.QUEUED, db_index=True
    )
    scope = models.JSONField(default=list, blank=True, help_text="IDs of the recipes this build may run.")
    plan = models.JSONField(default=dict, blank=True, help_text="Steps and reasons, as planned.")
    error = models.TextField(blank=True, help_text="Why the build failed, in plain words.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = BuildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Build {self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_BUILD_STATES

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to end (to now while running); None before it starts."""
        if self.started_at is None:
            return None
        end = self.ended_at
        if end is None:
            from django.utils import timezone

            end = timezone.now()
        return (end - self.started_at).total_seconds()


class BuildStep(models.Model):
    """What one recipe did in a build: status, why it ran, timings, rows, log and new versions.

    ``recipe_name`` keeps the name shown when the recipe is later deleted (``recipe`` becomes null).
    ``rows`` maps each output dataset name to its row count. ``log`` is capped at ``LOG_CAP``
    characters. ``output_versions`` are the ``DatasetVersion``s the step registered. ``details``
    holds structured findings of a succeeded step: ``join_report`` for a join (see
    ``modelworks.flows.services.join_report``).
    """

    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="steps")
    recipe = models.ForeignKey(
        "flows.Recipe", null=True, blank=True, on_delete=models.SET_NULL, related_name="build_steps"
    )
    recipe_name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0, help_text="Order in the plan.")
    status = models.CharField(
        max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING, db_index=True
    )
    reason = models.CharField(max_length=300, blank=True, help_text="Why it runs, or why it did not.")
    engine = models.CharField(max_length=16, choices=StepEngine.choices, default=StepEngine.DUCKDB)
    fingerprint = models.CharField(max_length=80, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    rows = models.JSONField(default=dict, blank=True, help_text="Output dataset name → rows written.")
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    error_details = models.JSONField(
        default=dict, blank=True, help_text="Code, column, recipe… of the error."
    )
    details = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the step found out besides its rows, e.g. a join's unmatched rows (join_report).",
    )
    output_versions = models.ManyToManyField(
        "datasets.DatasetVersion", blank=True, related_name="build_steps"
    )

    class Meta:
        ordering = ["build", "position", "id"]

    def __str__(self) -> str:
        return f"{self.recipe_name}: {self.get_status_display()}"

    def append_log(self, text: str) -> None:
        """Add lines to ``log``, keeping it under ``LOG_CAP`` characters (the end is kept)."""
        joined = f"{self.log}\n{text}" if self.log else text
        if len(joined) > LOG_CAP:
            joined = "[… earlier lines cut …]\n" + joined[-(LOG_CAP - 30) :]
        self.log = joined

    def as_summary(self) -> dict[str, Any]:
        """A small JSON view (for job results and audit details)."""
        return {"recipe": self.recipe_name, "status": self.status, "rows": self.rows}
