"""Scenarios: what runs (ordered steps) and when (triggers)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from modelworks.connections.models import validate_label
from modelworks.core.models import ProjectScopedModel, ProjectScopedQuerySet, TimestampedModel


class ScenarioQuerySet(ProjectScopedQuerySet):
    """Query logic for scenarios (``visible_to`` and ``with_role`` come from the project tier)."""


class Scenario(ProjectScopedModel):
    """A named automation of a project: triggers start a run, a run executes the steps in order.

    Automatic runs (cron, dataset changed, another scenario finished) act with the permissions of
    ``run_as`` (the creator by default); a run started by hand or through the API acts as the person
    who started it. A run refuses to start when that user is no longer a contributor of the project.
    """

    name = models.CharField(max_length=200, validators=[validate_label])
    description = models.TextField(blank=True)
    enabled = models.BooleanField(
        default=True, help_text="When off, triggers do not fire; the scenario can still be run by hand."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose permissions automatic runs use; must stay a contributor of the project.",
    )

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                name="unique_scenario_name_in_project",
                violation_error_message="A scenario with this name already exists in the project.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TriggerKind(models.TextChoices):
    """What starts a run. Manual and API runs need no trigger row: every scenario can be run by hand."""

    CRON = "cron", "Schedule (cron, UTC)"
    DATASET_CHANGED = "dataset_changed", "Dataset changed"
    SCENARIO_FINISHED = "scenario_finished", "Another scenario finished"


class OutcomeFilter(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ANY = "any", "Any outcome"


class Trigger(TimestampedModel):
    """One way a scenario starts by itself.

    * ``cron``: ``cron`` holds a five-field expression evaluated in UTC; ``next_fire_at`` is when it
      is next due (the scheduler moves it forward with a conditional UPDATE, so two workers never
      fire the same period twice).
    * ``dataset_changed``: a new version of ``dataset`` was committed.
    * ``scenario_finished``: a run of ``upstream`` ended with an outcome matching ``outcome``.
    """

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="triggers")
    kind = models.CharField(max_length=20, choices=TriggerKind.choices)
    cron = models.CharField(max_length=120, blank=True, help_text="Five fields, UTC, e.g. '0 6 * * 1-5'.")
    dataset = models.ForeignKey(
        "datasets.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    upstream = models.ForeignKey(
        Scenario, null=True, blank=True, on_delete=models.CASCADE, related_name="downstream_triggers"
    )
    outcome = models.CharField(max_length=10, choices=OutcomeFilter.choices, default=OutcomeFilter.SUCCEEDED)
    enabled = models.BooleanField(default=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["scenario", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.describe()}"

    def describe(self) -> str:
        """A short sentence for lists and run histories."""
        if self.kind == TriggerKind.CRON:
            return f"cron '{self.cron}' (UTC)"
        if self.kind == TriggerKind.DATASET_CHANGED:
            return f"new version of '{self.dataset.name if self.dataset else '?'}'"
        name = self.upstream.name if self.upstream else "?"
        return f"'{name}' {self.get_outcome_display().lower() if self.outcome != 'any' else 'finished'}"


class StepKind(models.TextChoices):
    BUILD = "build", "Build datasets"
    QUALITY = "quality", "Run quality rules"
    JOB = "job", "Run a job"
    NOTIFY = "notify", "Send a notification"


class RunCondition(models.TextChoices):
    ALWAYS = "always", "Always"
    ON_SUCCESS = "on_success", "If all earlier steps succeeded"
    ON_FAILURE = "on_failure", "If an earlier step failed"


class Step(TimestampedModel):
    """One step of a scenario, run in ``position`` order.

    ``params`` by kind (checked by ``modelworks.scenarios.services.definitions.clean_step_params``):

    * build: ``{"datasets": [ids] (empty: the whole flow), "force": bool}``
    * quality: ``{"datasets": [ids]}``
    * job: ``{"job_type": kind from MODELWORKS_SCENARIO_JOB_TYPES, "params": {...}}``
    * notify: ``{"channel": "webhook" | "email", "url": str, "recipients": [addresses],
      "message": text with {placeholders}}``
    """

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    params = models.JSONField(default=dict, blank=True)
    run_condition = models.CharField(
        max_length=12, choices=RunCondition.choices, default=RunCondition.ON_SUCCESS
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["scenario", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "position"], name="unique_step_position"),
        ]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()

    @property
    def label(self) -> str:
        return self.name or self.get_kind_display()

    def snapshot(self) -> dict[str, Any]:
        """What a run keeps of this step, so its history stays readable after the step changes."""
        return {
            "step_id": self.pk,
            "position": self.position,
            "name": self.label,
            "kind": self.kind,
            "condition": self.run_condition,
            "params": self.params,
        }
