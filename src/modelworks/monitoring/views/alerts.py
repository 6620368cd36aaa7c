"""The alerts inbox of a project, and acknowledging an alert."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.views.base import done
from modelworks.monitoring import services
from modelworks.monitoring.models import Alert, AlertStatus
from modelworks.monitoring.views.base import MonitoringPageView

__all__ = ["AlertAcknowledgeView", "AlertsView"]


class AlertsView(MonitoringPageView):
    """Alerts of every monitor, open ones first; ``?status=`` filters."""

    template_name = "monitoring/alerts.html"
    title = "Alerts"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        alerts = Alert.objects.filter(project=self.project).select_related("monitor", "acknowledged_by")
        if status in AlertStatus.values:
            alerts = alerts.filter(status=status)
        context.update(alerts=list(alerts[:200]), status=status, statuses=AlertStatus.choices)
        return context


class AlertAcknowledgeView(MonitoringPageView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        alert = (
            Alert.objects.filter(project=self.project, pk=kwargs["alert_id"])
            .select_related("monitor")
            .first()
        )
        if alert is None:
            raise Http404(f"No alert {kwargs['alert_id']} in project '{self.project.slug}'.")
        services.acknowledge_alert(alert, actor=request.user, request=request)
        return done(request, reverse("monitoring:alerts", args=[self.project.slug]), "Alert acknowledged.")
