"""Bases of the monitoring pages: one monitor (``pk``), one back-test (``pk``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView
from modelworks.monitoring.api.common import monitors_of
from modelworks.monitoring.models import Monitor

__all__ = ["MonitorPageView", "MonitoringPageView"]


class MonitoringPageView(ProjectPageView):
    """A monitoring page; contributors write unless ``write_role`` says otherwise."""

    nav = "monitoring"
    write_role = Role.CONTRIBUTOR


class MonitorPageView(MonitoringPageView):
    """A page of one monitor (URL argument ``pk``)."""

    monitor: Monitor

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        monitor = monitors_of(self.project).filter(pk=self.kwargs["pk"]).first()
        if monitor is None:
            raise Http404(f"No monitor {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.monitor = monitor

    def get_title(self) -> str:
        return f"{self.monitor.name} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["monitor"] = self.monitor
        return context
