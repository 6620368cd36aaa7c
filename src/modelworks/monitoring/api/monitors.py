"""``/projects/{slug}/monitors``: monitors, their computed points, and ``/alerts`` with acknowledge."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.monitoring import services
from modelworks.monitoring.api.common import get_monitor, monitor_values, monitors_of
from modelworks.monitoring.models import Alert, Monitor
from modelworks.monitoring.schemas import (
    AlertOut,
    ComputeIn,
    JobRef,
    MonitorIn,
    MonitorOut,
    MonitorPatch,
    PointOut,
)

router = Router(tags=["monitoring"])

_LIST = "/projects/{slug}/monitors"
_ONE = _LIST + "/{monitor_id}"
_ALERTS = "/projects/{slug}/alerts"


@router.get(
    _LIST,
    response=responses({200: list[MonitorOut]}, 404, 422),
    operation_id="monitoring_monitors_list",
    summary="List a project's monitors",
)
@paginate
def monitoring_monitors_list(request: HttpRequest, slug: str) -> QuerySet:
    """Monitors by name, each with its health: ok, alert (an unresolved alert), error, pending (readers)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return monitors_of(project).order_by("name", "id")


@router.post(
    _LIST,
    response=responses({201: MonitorOut}, 403, 404, 422),
    operation_id="monitoring_monitors_create",
    summary="Create a monitor",
)
def monitoring_monitors_create(request: HttpRequest, slug: str, payload: MonitorIn) -> Status:
    """Watch a deployment or a batch-scoring recipe; omitted settings take sensible defaults (contributors)."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    values = monitor_values(project, payload.dict())
    monitor = services.create_monitor(project, actor=request.user, request=request, **values)
    return Status(201, get_monitor(request.user, slug, monitor.pk)[1])


@router.get(
    _ONE,
    response=responses({200: MonitorOut}, 404),
    operation_id="monitoring_monitors_get",
    summary="Get a monitor",
)
def monitoring_monitors_get(request: HttpRequest, slug: str, monitor_id: int) -> Monitor:
    return get_monitor(request.user, slug, monitor_id)[1]


@router.patch(
    _ONE,
    response=responses({200: MonitorOut}, 403, 404, 422),
    operation_id="monitoring_monitors_update",
    summary="Change a monitor",
)
def monitoring_monitors_update(
    request: HttpRequest, slug: str, monitor_id: int, payload: MonitorPatch
) -> Monitor:
    """Change settings; changing what is measured recomputes every window at the next run (contributors)."""
    project, monitor = get_monitor(request.user, slug, monitor_id, Role.CONTRIBUTOR)
    changes = monitor_values(project, payload.dict(exclude_unset=True))
    services.update_monitor(monitor, actor=request.user, request=request, **changes)
    return get_monitor(request.user, slug, monitor_id)[1]


@router.delete(
    _ONE,
    response=responses({204: None}, 403, 404),
    operation_id="monitoring_monitors_delete",
    summary="Delete a monitor",
)
def monitoring_monitors_delete(request: HttpRequest, slug: str, monitor_id: int) -> Status:
    """Delete a monitor with its history and alerts; the prediction log stays (project admins)."""
    _, monitor = get_monitor(request.user, slug, monitor_id, Role.ADMIN)
    services.delete_monitor(monitor, actor=request.user, request=request)
    return Status(204, None)


@router.post(
    _ONE + "/compute",
    response=responses({202: JobRef}, 403, 404, 422),
    operation_id="monitoring_monitors_compute",
    summary="Compute a monitor now",
)
def monitoring_monitors_compute(
    request: HttpRequest, slug: str, monitor_id: int, payload: ComputeIn | None = None
) -> Status:
    """Queue a computation of the new windows (every window with ``recompute``) (contributors)."""
    _, monitor = get_monitor(request.user, slug, monitor_id, Role.CONTRIBUTOR)
    job = services.request_compute(
        monitor, actor=request.user, recompute=bool(payload and payload.recompute), request=request
    )
    return Status(202, {"job": str(job.pk)})


@router.get(
    _ONE + "/points",
    response=responses({200: list[PointOut]}, 404, 422),
    operation_id="monitoring_points_list",
    summary="List a monitor's computed points",
)
@paginate
def monitoring_points_list(
    request: HttpRequest,
    slug: str,
    monitor_id: int,
    metric: str = "",
    feature: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet:
    """Points by window (oldest first), filtered by metric (data_drift, drift_share, prediction_drift,
    quality, performance, rows), feature and window start (readers)."""
    _, monitor = get_monitor(request.user, slug, monitor_id)
    points = monitor.points.all().order_by("window_start", "metric", "feature", "test")
    if metric:
        points = points.filter(metric=metric)
    if feature:
        points = points.filter(feature=feature)
    if start is not None:
        points = points.filter(window_start__gte=start)
    if end is not None:
        points = points.filter(window_start__lt=end)
    return points


@router.get(
    _ALERTS,
    response=responses({200: list[AlertOut]}, 404, 422),
    operation_id="monitoring_alerts_list",
    summary="List a project's alerts",
)
@paginate
def monitoring_alerts_list(
    request: HttpRequest, slug: str, status: str = "", monitor: int | None = None
) -> QuerySet:
    """Alerts, newest first; ``status`` open, acknowledged or resolved (readers)."""
    project, _ = get_project(request.user, slug, Role.READER)
    alerts = Alert.objects.filter(project=project).select_related("project", "monitor", "acknowledged_by")
    if status:
        alerts = alerts.filter(status=status)
    if monitor is not None:
        alerts = alerts.filter(monitor_id=monitor)
    return alerts.order_by("-created_at", "-id")


@router.post(
    _ALERTS + "/{alert_id}/acknowledge",
    response=responses({200: AlertOut}, 403, 404),
    operation_id="monitoring_alerts_acknowledge",
    summary="Acknowledge an alert",
)
def monitoring_alerts_acknowledge(request: HttpRequest, slug: str, alert_id: int) -> Alert:
    """Say you have seen an alert; it stays in the history and resolves on its own (contributors)."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    alert = Alert.objects.filter(project=project, pk=alert_id).select_related("project", "monitor").first()
    if alert is None:
        raise Http404(f"No alert {alert_id} in project '{slug}'.")
    services.acknowledge_alert(alert, actor=request.user, request=request)
    return Alert.objects.select_related("project", "monitor", "acknowledged_by").get(pk=alert.pk)
