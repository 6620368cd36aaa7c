"""The catalog pages: one search across every readable project, and each dataset's documentation page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from modelworks.catalog.forms import SearchForm
from modelworks.catalog.models import LineageDataset, internal_namespace
from modelworks.catalog.search import SearchQuery, facets, search_datasets
from modelworks.catalog.views.lineage import dataset_lineage_context
from modelworks.core.views.base import ListPageMixin, PageView, ProjectPageView


class SearchView(ListPageMixin, PageView):
    """Datasets of every project the user may read, by name, description, column, tag and owner."""

    template_name = "catalog/search.html"
    fragment_template_name = "catalog/partials/search_results.html"
    title = "Catalog"
    nav = "catalog"
    filter_form_class = SearchForm
    paginate_by = 20

    def get_queryset(self) -> QuerySet:
        return search_datasets(self.request.user, SearchQuery())

    def filter_queryset(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        self.query = SearchQuery(**{k: str(v).strip() for k, v in filters.items()})
        return search_datasets(self.request.user, self.query)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        self.query = SearchQuery()
        context.update(self.list_context())
        context["query"] = self.query
        context["facets"] = found = facets(self.request.user, self.query)
        for name, values in (("project", found.projects), ("tag", found.tags), ("owner", found.owners)):
            for facet in values:
                facet.url = self._toggle_url(name, facet.value, facet.selected)
        return context

    def _toggle_url(self, name: str, value: str, selected: bool) -> str:
        """This search with facet ``name`` set to ``value``, or without it when it is the current one."""
        params = self.request.GET.copy()
        params.pop("page", None)
        params.pop(name, None)
        if not selected:
            params[name] = value
        query = params.urlencode()
        return f"{self.request.path}?{query}" if query else self.request.path


def lineage_node_of(dataset: Any) -> LineageDataset | None:
    """The lineage node standing for a Modelworks dataset, if it was ever read or written by a job."""
    node = LineageDataset.objects.filter(project_id=dataset.project_id, dataset=dataset).first()
    if node is None:
        node = LineageDataset.objects.filter(
            project_id=dataset.project_id,
            namespace=internal_namespace(dataset.project.slug),
            name=dataset.name,
        ).first()
    return node


def dataset_lineage_panel(project: Any, dataset: Any) -> dict[str, Any]:
    """The context of ``catalog/partials/dataset_lineage_panel.html`` for a ``datasets.Dataset``.

    The datasets app's own dataset page can include that partial with this context.
    """
    node = lineage_node_of(dataset)
    if node is None:
        return {"lineage_node": None}
    return dataset_lineage_context(project, node)


class DatasetDocView(ProjectPageView):
    """A dataset's documentation: description, columns, tags, owner, versions, quality, lineage, usage."""

    template_name = "catalog/dataset_doc.html"
    title = "Documentation"
    nav = "catalog"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from modelworks.datasets.models import Dataset

        context = super().get_context_data(**kwargs)
        dataset = (
            Dataset.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("owner", "created_by", "pinned_version", "project")
            .first()
        )
        if dataset is None:
            raise Http404(f"No dataset {self.kwargs['pk']} in project '{self.project.slug}'.")
        versions = list(dataset.versions.select_related("created_by").order_by("-number")[:50])
        current = dataset.pinned_version or (versions[0] if versions else None)
        described = dataset.column_descriptions if isinstance(dataset.column_descriptions, dict) else {}
        schema = current.schema if current is not None else [{"name": n} for n in described]
        columns = [
            {
                "name": c.get("name", ""),
                "type": c.get("type", ""),
                "nullable": c.get("nullable"),
                "description": described.get(c.get("name", ""), ""),
            }
            for c in schema
            if isinstance(c, dict)
        ]
        context.update(dataset_lineage_panel(self.project, dataset))
        context.update(
            dataset=dataset,
            title=f"{dataset.name} · {self.project.name}",
            versions=versions,
            version_count=dataset.versions.count(),
            current_version=current,
            columns=columns,
            tags=[str(t) for t in dataset.tags] if isinstance(dataset.tags, list) else [],
        )
        return context
