"""Analyses (what to predict, from which data, how) and their training sessions (one per "Train")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from modelworks.core.models import ProjectScopedModel, ProjectScopedQuerySet


class TaskKind(models.TextChoices):
    BINARY = "binary", "Binary classification (two outcomes)"
    MULTICLASS = "multiclass", "Multiclass classification (several outcomes)"
    REGRESSION = "regression", "Regression (a number)"


class Analysis(ProjectScopedModel):
    """What to predict and how: the design the user edits on the design page.

    ``features`` is a list of FeatureHandling dicts (``column``, ``kind``, ``impute``, ``encode``,
    ``scale``, ``reason``), one per column of the dataset, in the dataset's column order.
    ``validation`` is a Validation dict (``kind``: kfold or time, ``folds``, ``time_column``,
    ``holdout_fraction``). ``checks`` caches the findings of the data checks on the dataset version
    ``checked_version`` (recomputed when the design changes), so the design page opens fast.
    """

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    dataset = models.ForeignKey(
        "datasets.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=500)
    task = models.CharField(max_length=16, choices=TaskKind.choices)
    time_column = models.CharField(max_length=500, blank=True)
    features = models.JSONField(default=list, blank=True)
    algorithms = models.JSONField(default=list, blank=True)
    time_budget_s = models.PositiveIntegerField(default=60)
    max_trials = models.PositiveIntegerField(
        null=True, blank=True, help_text="Stop after this many trials even if time is left (empty: no limit)."
    )
    validation = models.JSONField(default=dict, blank=True)
    metric = models.CharField(max_length=40)
    checks = models.JSONField(default=list, blank=True, help_text="LabWarning dicts of the last check.")
    checked_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ["project", "name"]
        verbose_name_plural = "analyses"
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="lab_analysis_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def blocking_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c.get("severity") == "error"]

    @property
    def latest_session(self) -> TrainingSession | None:
        return self.sessions.order_by("-number").first()


class SessionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Training"
    SUCCEEDED = "succeeded", "Trained"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_SESSION_STATUSES = (SessionStatus.QUEUED, SessionStatus.RUNNING)


class TrainingSessionQuerySet(ProjectScopedQuerySet):
    def visible_to(self, user: Any) -> TrainingSessionQuerySet:
        from modelworks.core.models import Project

        return self.filter(analysis__project__in=Project.objects.visible_to(user))


class TrainingSession(models.Model):
    """One training of an analysis: the exact data, the spec, every trial, the best model and why.

    * ``spec``: the TrainingSpec dict that was run (a snapshot: editing the analysis later does not
      change it); ``warnings``: the LabWarning dicts found on the data trained on.
    * ``leaderboard``: TrialResult dicts in trial order, each with ``run_id`` (its tracked run).
    * ``best_trial``: the winning TrialResult dict; ``holdout``: the Evaluation dict of the best model
      on rows it never saw; ``explanations``: ``permutation`` and ``shap`` importances (lists of
      ``{column, importance, std}``), ``partial_dependence`` (``{column, kind, values, averages}``
      of the top features), ``rows`` (per-row explanations of a few holdout rows).
    * ``model_uri``: where MLflow clients find the model (``mlflow-artifacts:/<exp>/models/<id>/artifacts``);
      ``model_dir``: the same folder relative to ``MODELWORKS_ARTIFACTS_DIR`` (never a user path).
    * ``timings``: seconds spent reading, checking, searching, explaining, saving.
    """

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveIntegerField(help_text="1, 2, 3… within the analysis.")
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.QUEUED)
    error = models.TextField(blank=True, help_text="Why it failed or stopped, in plain words.")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spec = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    rows_total = models.BigIntegerField(null=True, blank=True)
    rows_used = models.BigIntegerField(null=True, blank=True, help_text="Fewer than rows_total when sampled.")
    experiment = models.ForeignKey(
        "tracking.Experiment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent_run = models.ForeignKey(
        "tracking.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    leaderboard = models.JSONField(default=list, blank=True)
    best_trial = models.JSONField(null=True, blank=True)
    holdout = models.JSONField(null=True, blank=True)
    explanations = models.JSONField(default=dict, blank=True)
    classes = models.JSONField(null=True, blank=True)
    example_rows = models.JSONField(
        default=list, blank=True, help_text="A few real rows (JSON values) to prefill the what-if form."
    )
    model_uri = models.CharField(max_length=500, blank=True)
    model_dir = models.CharField(max_length=500, blank=True)
    logged_model_id = models.CharField(max_length=64, blank=True)
    registered_model_name = models.CharField(max_length=256, blank=True)
    registered_version = models.PositiveIntegerField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["analysis", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["analysis", "number"], name="lab_session_unique_number"),
            models.UniqueConstraint(
                fields=["analysis"],
                condition=Q(status__in=["queued", "running"]),
                name="lab_one_active_session",
                violation_error_message="This analysis is already training; wait for it or cancel it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analysis.name} training {self.number} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_SESSION_STATUSES

    @property
    def has_model(self) -> bool:
        return self.status == SessionStatus.SUCCEEDED and bool(self.model_dir)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        from django.utils import timezone

        return ((self.ended_at or timezone.now()) - self.started_at).total_seconds()
