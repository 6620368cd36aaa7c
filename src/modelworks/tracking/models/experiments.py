"""Experiments: named groups of runs inside a project (MLflow's experiment)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelworks.core.models.base import ProjectScopedModel


class LifecycleStage(models.TextChoices):
    ACTIVE = "active", "Active"
    DELETED = "deleted", "Deleted"


class Experiment(ProjectScopedModel):
    """An MLflow experiment. Its MLflow ID is the primary key rendered as a string.

    Names are unique per project (deleted experiments keep their name until purged, as in MLflow).
    The artifact location handed to clients is ``mlflow-artifacts:/<id>``: never a server path.
    """

    name = models.CharField(max_length=500)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # MLflow times are milliseconds since the epoch; kept as given so the protocol round-trips them.
    creation_time = models.BigIntegerField()
    last_update_time = models.BigIntegerField()
    deleted_time = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="tracking_experiment_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def mlflow_id(self) -> str:
        return str(self.pk)

    @property
    def artifact_location(self) -> str:
        return f"mlflow-artifacts:/{self.pk}"


class ExperimentTag(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["experiment", "key"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="tracking_experiment_tag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"
