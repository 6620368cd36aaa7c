"""The bases of the Lab's pages: one analysis (``pk``), one training of it (``number``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse

from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView
from modelworks.lab.models import Analysis, TrainingSession
from modelworks.lab.services import reconcile_session

__all__ = ["AnalysisPageView", "SessionPageView"]


class AnalysisPageView(ProjectPageView):
    """A page of one analysis (URL argument ``pk``). Contributors write, unless ``write_role`` says otherwise."""

    nav = "lab"
    write_role = Role.CONTRIBUTOR
    analysis: Analysis

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        analysis = (
            Analysis.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("project", "dataset", "created_by", "checked_version")
            .first()
        )
        if analysis is None:
            raise Http404(f"No analysis {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.analysis = analysis

    def get_title(self) -> str:
        return f"{self.analysis.name} · {self.project.name}"

    def design_url(self) -> str:
        return reverse("lab:design", args=[self.project.slug, self.analysis.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["analysis"] = self.analysis
        return context


class SessionPageView(AnalysisPageView):
    """A page of one training (URL argument ``number``)."""

    session: TrainingSession

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        session = (
            self.analysis.sessions.select_related("job", "dataset_version", "created_by", "parent_run")
            .filter(number=self.kwargs["number"])
            .first()
        )
        if session is None:
            raise Http404(f"'{self.analysis.name}' has no training {self.kwargs['number']}.")
        self.session = reconcile_session(session)

    def session_url(self) -> str:
        return reverse("lab:session", args=[self.project.slug, self.analysis.pk, self.session.number])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["session"] = self.session
        return context
