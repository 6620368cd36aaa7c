"""The project's registered models, and one model's page: versions with metrics and aliases, and
the history of alias moves."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, QuerySet

from modelworks.core.views.base import ListPageMixin, ProjectPageView
from modelworks.registry.models import AliasEvent, RegisteredModel
from modelworks.registry.services import version_metrics
from modelworks.registry.views.base import ModelPageView

__all__ = ["ModelListView", "ModelView"]

METRIC_COLUMNS = 6


class ModelListView(ListPageMixin, ProjectPageView):
    """Registered models of the project with their version count and aliases, newest change first."""

    template_name = "registry/list.html"
    fragment_template_name = "registry/partials/model_table.html"
    title = "Models"
    nav = "models"

    def get_queryset(self) -> QuerySet:
        return (
            RegisteredModel.objects.filter(project=self.project)
            .annotate(version_count=Count("versions"), latest=Max("versions__version"))
            .prefetch_related("aliases__model_version")
            .order_by("-updated_at", "name")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.list_context())
        return context


class ModelView(ModelPageView):
    """Versions (metrics, aliases, training data), the aliases and their history."""

    template_name = "registry/model.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        versions = list(
            self.model.versions.select_related(
                "created_by", "training_dataset_version__dataset", "run", "logged_model"
            )
            .prefetch_related("aliases")
            .order_by("-version")
        )
        metric_names: list[str] = []
        for version in versions:
            version.metric_values = version_metrics(version)  # type: ignore[attr-defined]
            for key in version.metric_values:  # type: ignore[attr-defined]
                if key not in metric_names:
                    metric_names.append(key)
        metric_names = sorted(metric_names)[:METRIC_COLUMNS]
        for version in versions:
            version.metric_row = [version.metric_values.get(k) for k in metric_names]  # type: ignore[attr-defined]
        context.update(
            versions=versions,
            metric_names=metric_names,
            aliases=self.model.aliases.select_related("model_version").order_by("alias"),
            alias_events=AliasEvent.objects.filter(registered_model=self.model).select_related("actor")[:50],
            tags=self.model.tags.all(),
        )
        return context
