"""Monitors of deployed models and batch-scoring recipes, the points they compute per time window,
and the alerts raised when a point crosses its threshold."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelworks.core.models.base import ProjectScopedModel

__all__ = [
    "Alert",
    "AlertStatus",
    "LabelsSource",
    "Metric",
    "Monitor",
    "MonitorPoint",
    "Window",
]


class Window(models.TextChoices):
    """How production data is cut into periods to compare with the reference."""

    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"


class LabelsSource(models.TextChoices):
    """Where the true outcomes (ground truth) of scored rows come from."""

    NONE = "none", "No labels"
    FEEDBACK = "feedback", "Feedback sent to the deployment"
    DATASET = "dataset", "A labels dataset"


class Metric(models.TextChoices):
    """What a monitor point measures."""

    ROWS = "rows", "Rows scored"
    DATA_DRIFT = "data_drift", "Data drift"
    DRIFT_SHARE = "drift_share", "Share of drifted features"
    PREDICTION_DRIFT = "prediction_drift", "Prediction drift"
    QUALITY = "quality", "Data quality"
    PERFORMANCE = "performance", "Performance"


class Monitor(ProjectScopedModel):
    """Watches one source of predictions (a deployment or a ``score`` recipe) window by window.

    Each window of the prediction log is compared with the reference dataset version: data drift per
    feature, prediction drift, data quality, and performance once true labels are known. Empty
    settings mean "the sensible default", resolved when the monitor is computed:

    * ``reference_version`` empty: the training dataset version of the model version that scored;
    * ``features`` empty: the inputs of the model's signature (or every shared column);
    * ``drift_tests`` / ``drift_thresholds`` empty for a feature: the engine's choice by sample size;
    * ``performance_metric`` empty: the task's default metric (ROC AUC, log loss, RMSE).
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    deployment = models.ForeignKey(
        "deployments.Deployment", null=True, blank=True, on_delete=models.CASCADE, related_name="monitors"
    )
    recipe = models.ForeignKey(
        "flows.Recipe", null=True, blank=True, on_delete=models.CASCADE, related_name="monitors"
    )
    reference_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_column = models.CharField(
        max_length=300,
        blank=True,
        help_text="The reference column holding the outcome, for prediction drift.",
    )
    features = models.JSONField(
        default=list, blank=True, help_text="Columns watched; empty: the model's inputs."
    )
    window = models.CharField(max_length=8, choices=Window.choices, default=Window.DAY)
    labels_source = models.CharField(max_length=10, choices=LabelsSource.choices, default=LabelsSource.NONE)
    labels_dataset = models.ForeignKey(
        "datasets.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labels_id_column = models.CharField(max_length=300, blank=True)
    labels_label_column = models.CharField(max_length=300, blank=True)
    drift_tests = models.JSONField(
        default=dict, blank=True, help_text="Feature → test, overriding the default."
    )
    drift_thresholds = models.JSONField(default=dict, blank=True, help_text="Feature → threshold.")
    performance_metric = models.CharField(max_length=40, blank=True)
    performance_margin = models.FloatField(
        default=0.1, help_text="Relative drop from the registered holdout metric that raises an alert."
    )
    quality_tolerance = models.FloatField(
        default=0.05, help_text="Share of rows with a quality problem (beyond the reference's) tolerated."
    )
    webhook_url = models.CharField(max_length=500, blank=True)
    email_recipients = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    computed_until = models.DateTimeField(
        null=True, blank=True, help_text="End of the last complete window computed."
    )
    last_computed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="monitoring_monitor_unique_name"),
            models.CheckConstraint(
                condition=models.Q(deployment__isnull=False, recipe__isnull=True)
                | models.Q(deployment__isnull=True, recipe__isnull=False),
                name="monitoring_monitor_one_source",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def source_key(self) -> str:
        """The prediction log's folder name of the source (``deployment-<id>`` or ``recipe-<id>``)."""
        return f"deployment-{self.deployment_id}" if self.deployment_id else f"recipe-{self.recipe_id}"

    @property
    def health(self) -> str:
        """``error`` (the last computation failed), ``alert`` (an unresolved alert), ``pending`` (never
        computed) or ``ok``. Reads the ``open_alerts`` annotation when the queryset has it."""
        if self.last_error:
            return "error"
        open_alerts = getattr(self, "open_alerts", None)
        if open_alerts is None:
            open_alerts = self.alerts.filter(resolved_at__isnull=True).count()
        if open_alerts:
            return "alert"
        return "pending" if self.last_computed_at is None else "ok"

    @property
    def source_label(self) -> str:
        if self.deployment_id:
            return f"Deployment {self.deployment}"
        return f"Batch scoring recipe {self.recipe}"


class MonitorPoint(models.Model):
    """One measure of one window: a feature's drift, a quality check, a performance metric…

    ``test`` names what was computed: the statistical test (drift: ``ks``, ``psi``…), the check
    (quality: ``nulls``, ``out_of_range``, ``unseen_category``) or the metric (performance:
    ``roc_auc``…). Recomputing a window replaces all of its points.
    """

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="points")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    feature = models.CharField(max_length=300, blank=True)
    test = models.CharField(max_length=40, blank=True)
    value = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    breached = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True, help_text="Histograms, counts, messages.")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["monitor", "window_start", "metric", "feature", "test"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "window_start", "metric", "feature", "test"],
                name="monitoring_point_unique",
            )
        ]
        indexes = [models.Index(fields=["monitor", "metric", "window_start"])]

    def __str__(self) -> str:
        what = ":".join(p for p in (self.metric, self.feature, self.test) if p)
        return f"{self.monitor} {self.window_start:%Y-%m-%d} {what}"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Alert(ProjectScopedModel):
    """A threshold crossed by a monitor: raised once per breach, however many windows it lasts.

    The breach is keyed by (metric, feature, test). While it lasts (``resolved_at`` empty), later
    breached windows only extend ``last_window_end``; the first window within the limits resolves it.
    ``notifications`` records each webhook / e-mail attempt (a failure is recorded, never raised).
    """

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alerts")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    feature = models.CharField(max_length=300, blank=True)
    test = models.CharField(max_length=40, blank=True)
    window_start = models.DateTimeField(help_text="Start of the first breached window.")
    last_window_end = models.DateTimeField()
    windows = models.PositiveIntegerField(default=1, help_text="Breached windows so far.")
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    message = models.TextField()
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    notifications = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["monitor", "metric", "feature", "test"])]

    def __str__(self) -> str:
        what = " ".join(p for p in (self.get_metric_display(), self.feature) if p)
        return f"{self.monitor}: {what} since {self.window_start:%Y-%m-%d}"
