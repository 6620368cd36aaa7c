"""Alerts: raised once per breach, notified in-app, by webhook and by e-mail, acknowledged by people.

A breach is one (metric, feature, test) of one monitor crossing its threshold. While it lasts, later
breached windows extend the same alert; the first window back within the limits resolves it, and a
later breach raises a new alert. Recomputing a window never raises a second alert for it.
Notifications go through ``modelworks.scenarios.services.notify`` (allow-listed webhooks, the
configured SMTP server); a failure is recorded on the alert, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from modelworks.core import audit
from modelworks.monitoring.models import Alert, AlertStatus, Metric, Monitor, MonitorPoint

__all__ = ["acknowledge_alert", "alert_message", "notify_alerts", "record_breaches"]

logger = logging.getLogger("modelworks.monitoring")

_ADVICE = {
    Metric.DATA_DRIFT: (
        "The values of this input no longer look like the data the model learned from. Check whether "
        "the source system or the business changed; if the change is real and lasting, retrain the model "
        "on recent data."
    ),
    Metric.DRIFT_SHARE: (
        "Many inputs changed at once: often a change upstream (a new data feed, a unit or format change). "
        "Check the data pipeline before trusting the predictions."
    ),
    Metric.PREDICTION_DRIFT: (
        "The model's answers are distributed differently than before. If the inputs drifted too, the "
        "world changed; otherwise check the model version that is answering."
    ),
    Metric.QUALITY: (
        "Production inputs have more problems than the reference data (missing values, values outside "
        "the known range, categories never seen). Fix the source, or the model may answer badly."
    ),
    Metric.PERFORMANCE: (
        "The model is measurably less accurate than when it was registered. Compare with a retrained "
        "version (back-test it) and promote the better one."
    ),
}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def alert_message(monitor: Monitor, point: MonitorPoint) -> str:
    """A sentence saying what crossed which limit, and what to do about it."""
    metric = Metric(point.metric)
    if metric in (Metric.DATA_DRIFT, Metric.PREDICTION_DRIFT) and point.p_value is not None:
        from modelworks.engine.monitoring import P_VALUE_TESTS

        if point.test in P_VALUE_TESTS:  # decided on the p-value: say that one
            subject = f"Input '{point.feature}'" if metric == Metric.DATA_DRIFT else "Predictions"
            what = (
                f"{subject} drifted ({point.test} p-value = {_fmt(point.p_value)}, drift below "
                f"{_fmt(point.threshold)})"
            )
            return (
                f"{monitor.name}: {what} in the window from {point.window_start:%Y-%m-%d}. {_ADVICE[metric]}"
            )
    if metric == Metric.DATA_DRIFT:
        what = f"Input '{point.feature}' drifted ({point.test} = {_fmt(point.value)}, limit {_fmt(point.threshold)})"
    elif metric == Metric.DRIFT_SHARE:
        what = f"{_fmt((point.value or 0) * 100)} % of the inputs drifted (limit {_fmt((point.threshold or 0) * 100)} %)"
    elif metric == Metric.PREDICTION_DRIFT:
        what = f"Predictions drifted ({point.test} = {_fmt(point.value)}, limit {_fmt(point.threshold)})"
    elif metric == Metric.QUALITY:
        what = (
            f"Data quality of '{point.feature}': {point.test.replace('_', ' ')} in {_fmt((point.value or 0) * 100)} % "
            f"of rows (tolerated {_fmt((point.threshold or 0) * 100)} %)"
        )
    else:
        what = f"Performance dropped: {point.test} = {_fmt(point.value)} (limit {_fmt(point.threshold)})"
    return f"{monitor.name}: {what} in the window from {point.window_start:%Y-%m-%d}. {_ADVICE[metric]}"


def record_breaches(
    monitor: Monitor, window_start: datetime, window_end: datetime, points: Sequence[MonitorPoint]
) -> list[Alert]:
    """Raise, extend or resolve alerts from the points of one window; return the alerts raised now.

    Call inside the transaction that stored the points.
    """
    raised: list[Alert] = []
    watched = [p for p in points if p.metric != Metric.ROWS and p.threshold is not None]
    for point in watched:
        key = {"monitor": monitor, "metric": point.metric, "feature": point.feature, "test": point.test}
        active = Alert.objects.select_for_update().filter(resolved_at__isnull=True, **key).first()
        if point.breached:
            if Alert.objects.filter(window_start=window_start, **key).exists():
                continue  # this window's breach was already raised (a recomputation)
            if active is not None:
                if window_end > active.last_window_end:
                    active.windows += 1
                    active.last_window_end = window_end
                    active.value = point.value
                    active.save(update_fields=["windows", "last_window_end", "value", "updated_at"])
                continue
            raised.append(
                Alert.objects.create(
                    project=monitor.project,
                    window_start=window_start,
                    last_window_end=window_end,
                    value=point.value,
                    threshold=point.threshold,
                    message=alert_message(monitor, point),
                    **key,
                )
            )
        elif active is not None and window_start >= active.last_window_end:
            active.resolved_at = timezone.now()
            if active.status == AlertStatus.OPEN or active.status == AlertStatus.ACKNOWLEDGED:
                active.status = AlertStatus.RESOLVED
            active.save(update_fields=["resolved_at", "status", "updated_at"])
    return raised


def _monitor_url(monitor: Monitor) -> str:
    path = reverse("monitoring:detail", args=[monitor.project.slug, monitor.pk])
    base = str(getattr(settings, "MODELWORKS_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else path


def notify_alerts(monitor: Monitor, alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    """Send one webhook and one e-mail for the alerts raised by a computation; record the outcomes.

    Never raises: a refused or failed notification is logged and stored on each alert.
    """
    from modelworks.scenarios.services.notify import NotificationError, send_email, send_webhook

    if not alerts:
        return []
    url = _monitor_url(monitor)
    outcomes: list[dict[str, Any]] = [
        {"channel": "in-app", "ok": True, "detail": "Shown in the alerts inbox."}
    ]
    if monitor.webhook_url:
        payload = {
            "event": "monitoring.alert",
            "project": monitor.project.slug,
            "monitor": monitor.name,
            "url": url,
            "alerts": [
                {
                    "id": a.pk,
                    "metric": a.metric,
                    "feature": a.feature,
                    "test": a.test,
                    "value": a.value,
                    "threshold": a.threshold,
                    "window_start": a.window_start.isoformat(),
                    "message": a.message,
                }
                for a in alerts
            ],
        }
        outcomes.append(
            _attempt("webhook", lambda: send_webhook(monitor.webhook_url, payload), NotificationError)
        )
    if monitor.email_recipients:
        subject = f"[Modelworks] {monitor.name}: {len(alerts)} new alert{'s' if len(alerts) != 1 else ''}"
        text = "\n\n".join(a.message for a in alerts) + f"\n\nDetails: {url}\n"
        outcomes.append(
            _attempt(
                "email", lambda: send_email(list(monitor.email_recipients), subject, text), NotificationError
            )
        )
    stamp = timezone.now().isoformat()
    for alert in alerts:
        alert.notifications = [*alert.notifications, *({**o, "at": stamp} for o in outcomes)]
        Alert.objects.filter(pk=alert.pk).update(notifications=alert.notifications)
    return outcomes


def _attempt(channel: str, send: Any, expected: type[Exception]) -> dict[str, Any]:
    try:
        return {"channel": channel, "ok": True, "detail": str(send())}
    except expected as exc:
        logger.warning("Monitoring %s notification failed: %s", channel, exc)
        return {"channel": channel, "ok": False, "detail": str(exc)}
    except Exception as exc:  # never let a notification crash the computation
        logger.exception("Monitoring %s notification failed unexpectedly", channel)
        return {"channel": channel, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}


def acknowledge_alert(alert: Alert, *, actor: Any, request: HttpRequest | None = None) -> Alert:
    """Mark an open alert as seen by ``actor`` (audited). Acknowledging twice changes nothing."""
    with transaction.atomic():
        if alert.status != AlertStatus.OPEN:
            return alert
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by = actor
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "updated_at"])
        audit.record(
            "monitoring.alert_acknowledged",
            actor=actor,
            project=alert.project,
            target=alert,
            details={"monitor": alert.monitor.name, "metric": alert.metric, "feature": alert.feature},
            request=request,
        )
    return alert
