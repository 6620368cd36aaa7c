"""Runs and what they log: params, metrics (full history and latest value), tags, dataset inputs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelworks.tracking.models.experiments import Experiment, LifecycleStage


class RunStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    SCHEDULED = "SCHEDULED", "Scheduled"
    FINISHED = "FINISHED", "Finished"
    FAILED = "FAILED", "Failed"
    KILLED = "KILLED", "Killed"


class Run(models.Model):
    """An MLflow run. ``run_uuid`` is the 32-hex run ID clients see."""

    run_uuid = models.CharField(max_length=32, primary_key=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=250, blank=True)
    user_id = models.CharField(max_length=256, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    start_time = models.BigIntegerField(null=True, blank=True)
    end_time = models.BigIntegerField(null=True, blank=True)
    deleted_time = models.BigIntegerField(null=True, blank=True)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE
    )

    class Meta:
        ordering = ["-start_time", "run_uuid"]
        indexes = [
            models.Index(
                fields=["experiment", "lifecycle_stage", "start_time"], name="tracking_run_exp_stage"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.run_uuid

    @property
    def artifact_uri(self) -> str:
        return f"mlflow-artifacts:/{self.experiment_id}/{self.run_uuid}/artifacts"


class RunTag(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "key"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="tracking_run_tag_unique")]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class Param(models.Model):
    """A run parameter: written once (MLflow refuses to change a logged param's value)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="params")
    key = models.CharField(max_length=250)
    value = models.TextField()

    class Meta:
        ordering = ["run", "key"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="tracking_param_unique")]
        indexes = [models.Index(fields=["key", "value"], name="tracking_param_key_value")]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class Metric(models.Model):
    """One logged metric point (the full history; MLflow keeps every point)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    key = models.CharField(max_length=250)
    value = models.FloatField(null=True)  # None stores NaN (databases disagree on NaN)
    is_nan = models.BooleanField(default=False)
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)
    # MLflow 3 links a metric to the logged model and the dataset it was computed for.
    model_id = models.CharField(max_length=64, blank=True)
    dataset_name = models.CharField(max_length=500, blank=True)
    dataset_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["run", "key", "step", "timestamp"]
        indexes = [models.Index(fields=["run", "key", "step", "timestamp"], name="tracking_metric_history")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}@{self.step}"


class LatestMetric(models.Model):
    """The latest point of each metric of a run (max step, then max timestamp): what searches read."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="latest_metrics")
    key = models.CharField(max_length=250)
    value = models.FloatField(null=True)
    is_nan = models.BooleanField(default=False)
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["run", "key"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="tracking_latest_metric_unique")]
        indexes = [models.Index(fields=["key", "value"], name="tracking_latest_key_value")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class TrackedDataset(models.Model):
    """A dataset a run used (MLflow's Dataset): unique per experiment by name and digest."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=500)
    digest = models.CharField(max_length=64)
    source_type = models.CharField(max_length=64, blank=True)
    source = models.TextField(blank=True)
    schema = models.TextField(blank=True)
    profile = models.TextField(blank=True)
    # Set when the source is a Modelworks dataset version: the lineage edge to the data.
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["experiment", "name", "digest"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "name", "digest"], name="tracking_dataset_unique_name_digest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.digest})"


class RunInput(models.Model):
    """A dataset used by a run, with the input tags (e.g. ``mlflow.data.context=training``)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="inputs")
    dataset = models.ForeignKey(TrackedDataset, on_delete=models.CASCADE, related_name="inputs")
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "dataset"], name="tracking_run_input_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} ← {self.dataset}"


class RunModelLink(models.Model):
    """A logged model a run used as input or produced as output (MLflow 3 ``log_inputs/log_outputs``)."""

    class Direction(models.TextChoices):
        INPUT = "input", "Input"
        OUTPUT = "output", "Output"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="model_links")
    model_id = models.CharField(max_length=64)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    step = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["run", "direction", "model_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "model_id", "direction"], name="tracking_run_model_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.direction} {self.model_id}"
