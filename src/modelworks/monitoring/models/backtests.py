"""Back-tests: how registered model versions would have performed on past windows of labelled data."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelworks.core.models.base import ProjectScopedModel
from modelworks.monitoring.models.monitors import Window

__all__ = ["Backtest", "BacktestStatus"]


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Backtest(ProjectScopedModel):
    """Scores a labelled dataset version with one or several model versions, window by window.

    ``result``: ``{"task", "metric", "metrics", "windows": [{"start", "end", "rows"}], "versions":
    [{"id", "label", "values": [{metric: value} | null per window], "error"}]}``.
    """

    name = models.CharField(max_length=200)
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    time_column = models.CharField(max_length=300)
    target_column = models.CharField(max_length=300)
    window = models.CharField(max_length=8, choices=Window.choices, default=Window.MONTH)
    metric = models.CharField(
        max_length=40, blank=True, help_text="Charted metric; empty: the task's default."
    )
    model_versions = models.ManyToManyField("registry.ModelVersion", related_name="+")
    status = models.CharField(max_length=10, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
