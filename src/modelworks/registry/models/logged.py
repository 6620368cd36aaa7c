"""MLflow 3 logged models: the model an experiment's run produced, before (or without) registration."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from modelworks.tracking.models import Experiment, LifecycleStage, Metric, Run


def new_model_id() -> str:
    """A fresh logged model ID in MLflow's shape: ``m-`` and 32 hex digits."""
    return f"m-{secrets.token_hex(16)}"


class LoggedModelStatus(models.TextChoices):
    """The upload state of a logged model (MLflow's ``LOGGED_MODEL_*`` values on the wire)."""

    PENDING = "PENDING", "Uploading"
    READY = "READY", "Ready"
    FAILED = "FAILED", "Upload failed"


class LoggedModel(models.Model):
    """A model logged in an experiment (``mlflow.<flavor>.log_model``): MLflow 3's ``LoggedModel``.

    Its artifacts live in the tracking store under ``<experiment>/models/<model_id>/artifacts``; the
    URI handed to clients is ``mlflow-artifacts:/<experiment>/models/<model_id>/artifacts``, never a
    server path. Metrics are the tracking metrics logged with this ``model_id``. Deleting one through
    the protocol only marks it deleted, as MLflow does.
    """

    model_id = models.CharField(max_length=34, primary_key=True, default=new_model_id, editable=False)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="logged_models")
    name = models.CharField(max_length=500)
    source_run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="logged_models"
    )
    status = models.CharField(
        max_length=8, choices=LoggedModelStatus.choices, default=LoggedModelStatus.PENDING
    )
    status_message = models.TextField(blank=True)
    model_type = models.CharField(max_length=500, blank=True)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Milliseconds since the epoch, as the protocol carries them.
    creation_timestamp_ms = models.BigIntegerField()
    last_updated_timestamp_ms = models.BigIntegerField()

    class Meta:
        ordering = ["-creation_timestamp_ms", "model_id"]
        indexes = [
            models.Index(fields=["experiment", "lifecycle_stage", "name"], name="registry_lm_exp_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"

    @property
    def artifact_location(self) -> str:
        return f"mlflow-artifacts:/{self.experiment_id}/models/{self.model_id}/artifacts"

    def metrics(self) -> models.QuerySet[Metric]:
        """Every metric point logged for this model (tracking metrics carrying its ``model_id``)."""
        return Metric.objects.filter(model_id=self.model_id, run__experiment_id=self.experiment_id).order_by(
            "key", "timestamp", "step"
        )


class LoggedModelParam(models.Model):
    """A parameter of a logged model (e.g. the estimator's hyperparameters)."""

    logged_model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="params")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["logged_model", "key"]
        constraints = [
            models.UniqueConstraint(fields=["logged_model", "key"], name="registry_lm_param_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class LoggedModelTag(models.Model):
    """A tag of a logged model (MLflow keeps e.g. ``mlflow.modelVersions`` here)."""

    logged_model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["logged_model", "key"]
        constraints = [
            models.UniqueConstraint(fields=["logged_model", "key"], name="registry_lm_tag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"
