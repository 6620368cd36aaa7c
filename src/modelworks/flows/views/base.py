"""The bases of the flow pages: the project's flow section, one recipe, one build."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from modelworks.core.views.base import ProjectPageView
from modelworks.flows.models import Build, Recipe

__all__ = ["BuildPageView", "FlowPageView", "RecipePageView", "safe_next"]


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` address posted with a form when it points inside this site, else ``fallback``."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    return fallback


class FlowPageView(ProjectPageView):
    """A page of the project's flow (menu entry "Flow")."""

    nav = "flow"


class RecipePageView(FlowPageView):
    """A page of one recipe (``pk`` in the address); 404 when the project has no such recipe."""

    recipe: Recipe

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        recipe = (
            Recipe.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .with_links()
            .select_related("created_by", "updated_by")
            .first()
        )
        if recipe is None:
            raise Http404(f"No recipe {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.recipe = recipe

    def get_title(self) -> str:
        return f"{self.recipe.name} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["recipe"] = self.recipe
        return context


class BuildPageView(FlowPageView):
    """A page of one build (``pk`` in the address); 404 when the project has no such build."""

    build: Build

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        build = (
            Build.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("created_by", "job")
            .first()
        )
        if build is None:
            raise Http404(f"No build {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.build = build

    def get_title(self) -> str:
        return f"Build {self.build.pk} · {self.project.name}"
