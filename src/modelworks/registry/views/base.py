"""The base of every page about one registered model (``pk``) and, optionally, one version (``number``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from modelworks.core.views.base import ProjectPageView
from modelworks.registry.models import ModelVersion, RegisteredModel

__all__ = ["ModelPageView", "VersionPageView"]


class ModelPageView(ProjectPageView):
    """A page of one registered model of the project (404 when it is not there)."""

    nav = "models"
    model: RegisteredModel

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        model = RegisteredModel.objects.filter(project=self.project, pk=self.kwargs["pk"]).first()
        if model is None:
            raise Http404(f"No registered model {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.model = model

    def get_title(self) -> str:
        return f"{self.model.name} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["model"] = self.model
        return context


class VersionPageView(ModelPageView):
    """A page of one version (``number``) of the model."""

    version: ModelVersion

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        version = (
            self.model.versions.filter(version=self.kwargs["number"])
            .select_related(
                "registered_model__project",
                "run__experiment",
                "logged_model",
                "training_dataset_version__dataset",
                "recipe",
                "created_by",
            )
            .first()
        )
        if version is None:
            raise Http404(f"'{self.model.name}' has no version {self.kwargs['number']}.")
        self.version = version

    def get_title(self) -> str:
        return f"{self.model.name} v{self.version.version} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["version"] = self.version
        return context
