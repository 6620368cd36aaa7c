"""The lineage pages of a project: the graph, a dataset node and a job.

The graph is drawn on the server as SVG (``lineage.drawing``), so it shows without JavaScript; the
small ``catalog/js/lineage.js`` only adds panning and zooming. Choosing a column in the columns view
reloads just the graph (HTMX), highlighting where the column comes from and where it goes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.http import Http404
from django.urls import reverse

from modelworks.catalog.forms import LineageGraphForm
from modelworks.catalog.lineage.drawing import draw
from modelworks.catalog.lineage.graph import (
    LineageGraph,
    dataset_key,
    job_key,
    neighbourhood,
    parse_key,
    project_graph,
    trace_column,
)
from modelworks.catalog.models import (
    ColumnLineageEdge,
    EdgeDirection,
    LineageDataset,
    LineageEdge,
    LineageJob,
)
from modelworks.core.views.base import ProjectPageView

FOCUS_CHOICES_LIMIT = 500


def node_url(kind: str, node: Any) -> str:
    """Where a node of the graph leads: a Modelworks dataset's documentation, else the node's page."""
    slug = node.project.slug
    if kind == "job":
        return reverse("catalog:lineage_job", args=[slug, node.pk])
    if node.dataset_id is not None:
        return reverse("catalog:dataset_doc", args=[slug, node.dataset_id])
    return reverse("catalog:lineage_dataset", args=[slug, node.pk])


def graph_url(slug: str, **params: Any) -> str:
    """The graph page with ``params`` (empty values left out)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    base = reverse("catalog:lineage", args=[slug])
    return f"{base}?{query}" if query else base


def drawing_context(
    graph: LineageGraph, *, view: str = "datasets", trace: Any = None, link: Any = None
) -> dict[str, Any]:
    """The context of ``catalog/partials/lineage_svg.html`` for ``graph``."""

    def column_link(dataset_pk: int, column: str) -> str:
        return link(dataset_pk, column) if link else ""

    drawing = draw(graph, view=view, trace=trace, node_url=node_url, column_url=column_link)
    return {"drawing": drawing, "graph": graph}


class LineageView(ProjectPageView):
    """The project's lineage graph: whole, or around one node; datasets and jobs, or columns."""

    template_name = "catalog/lineage.html"
    fragment_template_name = "catalog/partials/lineage_graph.html"
    title = "Lineage"
    nav = "lineage"

    def _choices(self) -> list[tuple[str, str]]:
        datasets = LineageDataset.objects.filter(project=self.project).select_related("dataset")
        jobs = LineageJob.objects.filter(project=self.project)
        choices = [(dataset_key(d.pk), f"Dataset · {d.label}") for d in datasets[:FOCUS_CHOICES_LIMIT]]
        choices += [(job_key(j.pk), f"Job · {j.name}") for j in jobs[:FOCUS_CHOICES_LIMIT]]
        return choices

    def _focus_label(self, focus: str) -> str:
        """The label of a node past the list's limit; 404 when ``focus`` is no node of this project."""
        parsed = parse_key(focus)
        model = LineageDataset if parsed and parsed[0] == "dataset" else LineageJob
        node = model.objects.filter(project=self.project, pk=parsed[1]).first() if parsed else None
        if node is None:
            raise Http404(f"No node '{focus[:60]}' in the lineage of project '{self.project.slug}'.")
        return f"{parsed[0].title()} · {node.label}"  # type: ignore[index]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        focus_choices = self._choices()
        focus = params.get("focus", "")
        if focus and focus not in dict(focus_choices):
            focus_choices.append((focus, self._focus_label(focus)))
        try:
            depth = max(1, min(int(params.get("depth") or 2), 10))
        except ValueError:
            depth = 2
        direction = (
            params.get("direction") if params.get("direction") in ("upstream", "downstream") else "both"
        )
        view = "columns" if params.get("view") == "columns" else "datasets"
        if focus:
            graph = neighbourhood(self.project, focus, depth=depth, direction=direction)
        else:
            graph = project_graph(self.project)

        column_choices = [
            (f"{pk}:{name}", f"{node.label} · {name}")
            for pk, node in sorted(graph.datasets.items(), key=lambda item: item[1].label)
            for name in node.column_names
        ]
        trace = None
        selected = params.get("column", "")
        dataset_part, _, column = selected.partition(":")
        if view == "columns" and dataset_part.isdigit() and column and int(dataset_part) in graph.datasets:
            trace = trace_column(self.project, int(dataset_part), column)
            if selected not in dict(column_choices):
                column_choices.append((selected, f"{graph.datasets[int(dataset_part)].label} · {column}"))

        def link(dataset_pk: int, name: str) -> str:
            return graph_url(
                self.project.slug,
                focus=focus,
                depth=depth,
                direction=direction,
                view="columns",
                column=f"{dataset_pk}:{name}",
            )

        form = LineageGraphForm(
            {
                "focus": focus,
                "depth": depth,
                "direction": direction,
                "view": view,
                "column": selected if trace else "",
            },
            focus_choices=focus_choices,
            column_choices=column_choices,
        )
        form.is_valid()
        context.update(drawing_context(graph, view=view, trace=trace, link=link))
        context.update(
            form=form,
            view=view,
            trace=trace,
            focus=focus,
            graph_page_url=reverse("catalog:lineage", args=[self.project.slug]),
            ingest_url=self.request.build_absolute_uri("/api/v1/lineage"),
            server_url=self.request.build_absolute_uri("/"),
        )
        return context


class LineageDatasetView(ProjectPageView):
    """One dataset node: where it lives, its schema, the jobs reading and writing it, its neighbourhood."""

    template_name = "catalog/lineage_dataset.html"
    title = "Lineage dataset"
    nav = "lineage"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        node = (
            LineageDataset.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("dataset")
            .first()
        )
        if node is None:
            raise Http404(f"No lineage dataset {self.kwargs['pk']} in project '{self.project.slug}'.")
        context.update(dataset_lineage_context(self.project, node))
        context.update(node=node, title=f"{node.label} · Lineage · {self.project.name}")
        return context


def dataset_lineage_context(project: Any, node: LineageDataset, *, depth: int = 1) -> dict[str, Any]:
    """What a dataset's lineage panel shows: its neighbourhood drawn, and the jobs reading and writing it."""
    edges = (
        LineageEdge.objects.filter(project=project, dataset=node)
        .values("job_id", "direction")
        .annotate(runs=Count("run", distinct=True))
    )
    by_job: dict[int, dict[str, Any]] = {}
    for row in edges:
        entry = by_job.setdefault(row["job_id"], {"reads": False, "writes": False, "runs": 0})
        entry["reads" if row["direction"] == EdgeDirection.INPUT else "writes"] = True
        entry["runs"] += row["runs"]
    jobs = list(LineageJob.objects.filter(pk__in=by_job).select_related("project").order_by("name"))
    for job in jobs:
        job.usage = by_job[job.pk]
        job.latest_run = job.runs.order_by("-created_at", "-id").first()
    graph = neighbourhood(project, dataset_key(node.pk), depth=depth)
    column_edges = ColumnLineageEdge.objects.filter(project=project, output_dataset=node).select_related(
        "input_dataset__dataset", "job"
    )
    return {
        "lineage_node": node,
        "writers": [j for j in jobs if j.usage["writes"]],
        "readers": [j for j in jobs if j.usage["reads"]],
        "column_sources": list(column_edges[:200]),
        "lineage_graph_url": graph_url(project.slug, focus=dataset_key(node.pk), depth=2),
        "lineage_columns_url": graph_url(project.slug, focus=dataset_key(node.pk), depth=2, view="columns"),
        **drawing_context(graph),
    }


class LineageJobView(ProjectPageView):
    """One job: what it is, what it reads and writes, its runs and its column edges."""

    template_name = "catalog/lineage_job.html"
    title = "Lineage job"
    nav = "lineage"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job = LineageJob.objects.filter(project=self.project, pk=self.kwargs["pk"]).first()
        if job is None:
            raise Http404(f"No lineage job {self.kwargs['pk']} in project '{self.project.slug}'.")
        edges = LineageEdge.objects.filter(job=job).select_related("dataset__dataset")
        inputs = {e.dataset_id: e.dataset for e in edges if e.direction == EdgeDirection.INPUT}
        outputs = {e.dataset_id: e.dataset for e in edges if e.direction == EdgeDirection.OUTPUT}
        for node in [*inputs.values(), *outputs.values()]:
            node.url = node_url("dataset", node)
        graph = neighbourhood(self.project, job_key(job.pk), depth=1)
        context.update(drawing_context(graph))
        context.update(
            job=job,
            title=f"{job.name} · Lineage · {self.project.name}",
            inputs=sorted(inputs.values(), key=lambda n: n.label),
            outputs=sorted(outputs.values(), key=lambda n: n.label),
            runs=list(job.runs.order_by("-created_at", "-id")[:50]),
            run_count=job.runs.count(),
            column_edges=list(
                job.column_edges.select_related("input_dataset__dataset", "output_dataset__dataset")[:500]
            ),
            lineage_graph_url=graph_url(self.project.slug, focus=job_key(job.pk), depth=2),
        )
        return context
