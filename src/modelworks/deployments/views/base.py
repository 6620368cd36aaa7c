"""The base of the pages of one deployment (URL argument ``name``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse

from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView
from modelworks.deployments.models import Deployment

__all__ = ["DeploymentPageView"]


class DeploymentPageView(ProjectPageView):
    """A page of one deployment. Readers see it; writes need ``write_role`` (contributor unless a
    view says otherwise: tokens and deletion are the admin's)."""

    nav = "deployments"
    write_role = Role.CONTRIBUTOR
    deployment: Deployment

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        deployment = (
            Deployment.objects.filter(project=self.project, name=self.kwargs["name"])
            .select_related("project", "created_by")
            .first()
        )
        if deployment is None:
            raise Http404(f"No deployment '{self.kwargs['name'][:80]}' in project '{self.project.slug}'.")
        self.deployment = deployment

    def get_title(self) -> str:
        return f"{self.deployment.title or self.deployment.name} · {self.project.name}"

    def detail_url(self) -> str:
        return reverse("deployments:detail", args=[self.project.slug, self.deployment.name])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["deployment"] = self.deployment
        return context
