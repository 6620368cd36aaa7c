"""Creating, changing and deleting monitors (validated, atomic, audited), and queueing computations."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Job, Project
from modelworks.monitoring.models import LabelsSource, Monitor, Window

__all__ = ["MONITOR_FIELDS", "create_monitor", "delete_monitor", "request_compute", "update_monitor"]

DRIFT_TESTS = ("psi", "ks", "wasserstein", "chisquare", "jensenshannon")
MONITOR_FIELDS = (
    "name",
    "description",
    "deployment",
    "recipe",
    "reference_version",
    "target_column",
    "features",
    "window",
    "labels_source",
    "labels_dataset",
    "labels_id_column",
    "labels_label_column",
    "drift_tests",
    "drift_thresholds",
    "performance_metric",
    "performance_margin",
    "quality_tolerance",
    "webhook_url",
    "email_recipients",
    "enabled",
)


def _check(monitor: Monitor) -> None:
    """Every invariant of a monitor, as field-keyed ``ValidationError``s (the form and the API show them)."""
    from modelworks.engine.automl.evaluation import METRICS
    from modelworks.scenarios.services.notify import NotificationError, check_webhook_url, validate_recipients

    errors: dict[str, str] = {}
    monitor.name = str(monitor.name or "").strip()
    if not monitor.name:
        errors["name"] = "Give the monitor a name."
    elif Monitor.objects.filter(project=monitor.project, name=monitor.name).exclude(pk=monitor.pk).exists():
        errors["name"] = f"A monitor named '{monitor.name}' already exists in this project."
    if bool(monitor.deployment_id) == bool(monitor.recipe_id):
        errors["deployment"] = "Choose exactly one source: a deployment or a batch-scoring recipe."
    if monitor.deployment_id and monitor.deployment.project_id != monitor.project_id:  # type: ignore[union-attr]
        errors["deployment"] = "That deployment is not in this project."
    if monitor.recipe_id:
        recipe = monitor.recipe
        if recipe.project_id != monitor.project_id:  # type: ignore[union-attr]
            errors["recipe"] = "That recipe is not in this project."
        elif recipe.kind != "score":  # type: ignore[union-attr]
            errors["recipe"] = (
                f"Recipe '{recipe}' is a '{recipe.kind}' recipe; choose a batch-scoring ('score') recipe."  # type: ignore[union-attr]
            )
    if monitor.reference_version_id and monitor.reference_version.dataset.project_id != monitor.project_id:  # type: ignore[union-attr]
        errors["reference_version"] = "That dataset version is not in this project."
    if monitor.window not in Window.values:
        errors["window"] = f"'{monitor.window}' is not a window; use {', '.join(Window.values)}."
    if not isinstance(monitor.features, list) or not all(isinstance(f, str) and f for f in monitor.features):
        errors["features"] = "Give the features as a list of column names."
    if monitor.labels_source not in LabelsSource.values:
        errors["labels_source"] = f"Use one of {', '.join(LabelsSource.values)}."
    elif monitor.labels_source == LabelsSource.FEEDBACK and not monitor.deployment_id:
        errors["labels_source"] = (
            "Feedback only exists for deployments; use a labels dataset for batch scoring."
        )
    elif monitor.labels_source == LabelsSource.DATASET:
        if monitor.labels_dataset_id is None:
            errors["labels_dataset"] = "Choose the dataset holding the true labels."
        elif monitor.labels_dataset.project_id != monitor.project_id:  # type: ignore[union-attr]
            errors["labels_dataset"] = "That dataset is not in this project."
        if not monitor.labels_id_column:
            errors["labels_id_column"] = (
                "Name the column holding the row ID (matched with the prediction log's row ID)."
            )
        if not monitor.labels_label_column:
            errors["labels_label_column"] = "Name the column holding the true label."
    tests = monitor.drift_tests
    if not isinstance(tests, dict) or any(v not in DRIFT_TESTS for v in tests.values()):
        errors["drift_tests"] = f"Map features to one of the tests {', '.join(DRIFT_TESTS)}."
    thresholds = monitor.drift_thresholds
    if not isinstance(thresholds, dict) or any(
        isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 for v in thresholds.values()
    ):
        errors["drift_thresholds"] = (
            "Map features to a positive number (a p-value for ks/chisquare, a distance otherwise)."
        )
    if monitor.performance_metric and monitor.performance_metric not in METRICS:
        errors["performance_metric"] = (
            f"'{monitor.performance_metric}' is not a metric; use one of {', '.join(METRICS)}."
        )
    if not 0 <= float(monitor.performance_margin) <= 1:
        errors["performance_margin"] = "Give the tolerated drop as a share between 0 and 1 (0.1 = 10 %)."
    if not 0 <= float(monitor.quality_tolerance) <= 1:
        errors["quality_tolerance"] = "Give the tolerated share of rows between 0 and 1 (0.05 = 5 %)."
    monitor.webhook_url = str(monitor.webhook_url or "").strip()
    if monitor.webhook_url:
        try:
            check_webhook_url(monitor.webhook_url, resolve=False)
        except NotificationError as exc:
            errors["webhook_url"] = str(exc)
    if monitor.email_recipients:
        try:
            monitor.email_recipients = validate_recipients(list(monitor.email_recipients))
        except ValidationError as exc:
            errors["email_recipients"] = " ".join(exc.message_dict.get("recipients", exc.messages))
        except TypeError:
            errors["email_recipients"] = "Give the recipients as a list of e-mail addresses."
    if errors:
        raise ValidationError(errors)


def create_monitor(
    project: Project, *, actor: Any, request: HttpRequest | None = None, **values: Any
) -> Monitor:
    """Create a monitor from ``values`` (keys of ``MONITOR_FIELDS``; omitted ones take their defaults).

    Raises:
        ValidationError: keyed by field, naming what to fix.
    """
    unknown = set(values) - set(MONITOR_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown setting."})
    monitor = Monitor(project=project, created_by=actor, **values)
    _check(monitor)
    with transaction.atomic():
        monitor.save()
        audit.record(
            "monitoring.monitor_created",
            actor=actor,
            project=project,
            target=monitor,
            details={"source": monitor.source_key, "window": monitor.window},
            request=request,
        )
    return monitor


def update_monitor(
    monitor: Monitor, *, actor: Any, request: HttpRequest | None = None, **changes: Any
) -> Monitor:
    """Change some settings; a change of what is measured makes the next computation redo every window."""
    unknown = set(changes) - set(MONITOR_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown setting."})
    for key, value in changes.items():
        setattr(monitor, key, value)
    _check(monitor)
    measured = set(changes) - {"name", "description", "webhook_url", "email_recipients", "enabled"}
    with transaction.atomic():
        if measured:
            monitor.computed_until = None  # recompute everything with the new settings
            monitor.next_run_at = None
        monitor.save()
        audit.record(
            "monitoring.monitor_updated",
            actor=actor,
            project=monitor.project,
            target=monitor,
            details={"changed": sorted(changes)},
            request=request,
        )
    return monitor


def delete_monitor(monitor: Monitor, *, actor: Any, request: HttpRequest | None = None) -> None:
    """Delete a monitor with its points and alerts (the prediction log stays)."""
    with transaction.atomic():
        audit.record(
            "monitoring.monitor_deleted",
            actor=actor,
            project=monitor.project,
            target=monitor,
            details={"source": monitor.source_key},
            request=request,
        )
        monitor.delete()


def request_compute(
    monitor: Monitor,
    *,
    actor: Any,
    recompute: bool = False,
    scheduled: bool = False,
    request: HttpRequest | None = None,
) -> Job:
    """Queue a ``monitoring.compute`` job for ``monitor`` and remember it."""
    from modelworks.core.jobs import enqueue

    with transaction.atomic():
        job = enqueue(
            "monitoring.compute",
            title=f"Compute monitor {monitor.name}" + (" (scheduled)" if scheduled else ""),
            project=monitor.project,
            created_by=actor,
            params={"monitor": monitor.pk, "recompute": bool(recompute)},
            request=request,
        )
        Monitor.objects.filter(pk=monitor.pk).update(last_job=job)
        monitor.last_job = job
    return job
