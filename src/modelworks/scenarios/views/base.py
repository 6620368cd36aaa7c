"""The base of every page about one scenario: finds it in the project (404 otherwise)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse

from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView
from modelworks.scenarios.models import Scenario

__all__ = ["ScenarioPageView"]


class ScenarioPageView(ProjectPageView):
    """A page of one scenario (URL argument ``pk``). Contributors write, unless ``write_role`` says otherwise."""

    nav = "scenarios"
    write_role = Role.CONTRIBUTOR
    scenario: Scenario

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        scenario = (
            Scenario.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("project", "run_as", "created_by")
            .first()
        )
        if scenario is None:
            raise Http404(f"No scenario {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.scenario = scenario

    def get_title(self) -> str:
        return f"{self.scenario.name} · {self.project.name}"

    def detail_url(self) -> str:
        return reverse("scenarios:detail", args=[self.project.slug, self.scenario.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["scenario"] = self.scenario
        return context
