"""The base of every page about one dataset: finds it in the project (404 otherwise) and the
version the page shows (``?version=N``, default: the pinned version, else the latest)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from modelworks.core.views.base import ProjectPageView
from modelworks.datasets.models import Dataset, DatasetVersion

__all__ = ["DatasetPageView"]


class DatasetPageView(ProjectPageView):
    """A page of one dataset. Attributes: those of ``ProjectPageView`` plus ``tab`` (the dataset tab)."""

    tab: str = "overview"
    nav = "datasets"
    dataset: Dataset

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        dataset = (
            Dataset.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("owner", "pinned_version", "created_by", "source_connection")
            .first()
        )
        if dataset is None:
            raise Http404(f"No dataset {self.kwargs['pk']} in project '{self.project.slug}'.")
        self.dataset = dataset

    def get_title(self) -> str:
        return f"{self.dataset.name} · {self.project.name}"

    def get_version(self) -> DatasetVersion | None:
        """The version asked for in the address (``?version=3``), or the current one."""
        number = self.request.GET.get("version") or self.kwargs.get("number")
        if number in (None, ""):
            return self.dataset.current_version
        try:
            return self.dataset.versions.get(number=int(number))
        except (ValueError, DatasetVersion.DoesNotExist) as exc:
            raise Http404(f"'{self.dataset.name}' has no version {str(number)[:20]}.") from exc

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if "version" not in context:
            context["version"] = self.get_version()
        context.update(dataset=self.dataset, tab=self.tab)
        return context
