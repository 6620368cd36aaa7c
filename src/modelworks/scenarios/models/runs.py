"""Runs of a scenario: who or what started them, their outcome and the result of each step."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from modelworks.core.models import ProjectScopedQuerySet


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Skipped"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
ENDED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.SKIPPED)


class RunTrigger(models.TextChoices):
    CRON = "cron", "Schedule"
    DATASET_CHANGED = "dataset_changed", "Dataset changed"
    SCENARIO_FINISHED = "scenario_finished", "Scenario finished"
    MANUAL = "manual", "By hand"
    API = "api", "API call"


class ScenarioRunQuerySet(ProjectScopedQuerySet):
    def visible_to(self, user: object) -> ScenarioRunQuerySet:
        from modelworks.core.models import Project

        return self.filter(scenario__project__in=Project.objects.visible_to(user))

    def active(self) -> ScenarioRunQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)


class ScenarioRun(models.Model):
    """One run of a scenario (or one firing that was skipped, with the reason).

    At most one run per scenario is queued or running: a partial unique index enforces it, so a
    trigger firing meanwhile is recorded as ``skipped`` instead of queued twice.

    ``step_results`` is a list with one entry per step, in order: ``position``, ``name``, ``kind``,
    ``condition``, ``params`` (a copy), ``status`` (pending, running, succeeded, failed, skipped,
    cancelled), ``started_at``, ``ended_at``, ``duration_seconds``, ``message``, ``jobs`` (ids of the
    jobs the step started) and ``links`` (label → address of the build, job or dataset).
    """

    scenario = models.ForeignKey("scenarios.Scenario", on_delete=models.CASCADE, related_name="runs")
    number = models.PositiveIntegerField(help_text="1, 2, 3… within the scenario.")
    trigger_kind = models.CharField(max_length=20, choices=RunTrigger.choices)
    trigger_detail = models.CharField(max_length=500, blank=True)
    trigger = models.ForeignKey(
        "scenarios.Trigger", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    chain = models.JSONField(
        default=list, blank=True, help_text="Ids of the scenarios whose end started this run, in order."
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    reason = models.TextField(blank=True, help_text="Why it was skipped, failed or cancelled.")
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acting_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose permissions the steps use.",
    )
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step_results = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ScenarioRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "number"], name="unique_run_number"),
            models.UniqueConstraint(
                fields=["scenario"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_run_per_scenario",
                violation_error_message="This scenario already has a run queued or running.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scenario.name} run {self.number} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at
        if end is None:
            from django.utils import timezone

            end = timezone.now()
        return (end - self.started_at).total_seconds()
