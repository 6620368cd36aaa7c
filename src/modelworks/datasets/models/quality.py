"""Quality rules of a dataset and the history of their runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelworks.core.models import TimestampedModel


class QualityRule(TimestampedModel):
    """One check (an engine rule kind with its parameters), optionally blocking.

    ``params`` holds the engine rule's fields without ``kind``, e.g. ``{"column": "age", "min": 0}``.
    """

    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    blocking = models.BooleanField(
        default=False, help_text="When it fails, the version is marked unusable for later builds."
    )
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["dataset", "created_at", "id"]

    def __str__(self) -> str:
        return self.name or f"{self.kind} rule"

    def engine_dict(self) -> dict[str, object]:
        """The JSON form the engine's ``rule_from_dict`` reads."""
        return {"kind": self.kind, **self.params}


class QualityRun(models.Model):
    """One run of a dataset's enabled rules against one version."""

    version = models.ForeignKey(
        "datasets.DatasetVersion", on_delete=models.CASCADE, related_name="quality_runs"
    )
    trigger = models.CharField(
        max_length=20, choices=[("version_created", "New version"), ("on_demand", "On demand")]
    )
    status = models.CharField(max_length=16, help_text="A QualityStatus value.")
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"quality run of {self.version} ({self.status})"


class QualityResultStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Could not run"


class QualityResult(models.Model):
    """The outcome of one rule in one run, with a sample of failing rows.

    The rule's description and parameters are copied so history stays readable after the rule
    is edited or deleted.
    """

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="results")
    rule = models.ForeignKey(
        QualityRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )
    rule_description = models.CharField(max_length=500)
    kind = models.CharField(max_length=32)
    blocking = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=QualityResultStatus.choices)
    message = models.TextField(blank=True)
    failing_count = models.BigIntegerField(default=0)
    failing_sample = models.JSONField(default=list, blank=True, help_text="A few failing rows.")

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.rule_description}: {self.status}"
