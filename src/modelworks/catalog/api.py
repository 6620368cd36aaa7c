"""``/lineage`` (OpenLineage ingestion), ``/projects/{slug}/lineage/…`` (the graph) and ``/catalog/search``.

Reading lineage needs the reader role in the project; sending events needs the contributor role in
the project the event is filed under (see ``modelworks.catalog.lineage.ingest``).
"""

# No ``from __future__ import annotations``: ninja evaluates the annotations of ``@paginate`` views
# in the pagination wrapper's namespace (see ``modelworks.core.api.jobs``).

from typing import Any, Literal

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.catalog.lineage import graph as lineage_graph
from modelworks.catalog.lineage.ingest import (
    PROJECT_HEADER,
    ingest,
    parse_event,
    read_event_body,
    resolve_project,
)
from modelworks.catalog.models import LineageDataset, LineageJob
from modelworks.catalog.schemas import (
    CatalogSearchOut,
    ColumnLineageOut,
    LineageDatasetOut,
    LineageGraphOut,
    LineageIngestOut,
    LineageJobOut,
)
from modelworks.catalog.search import SearchQuery, facets, search_datasets
from modelworks.core.api.errors import responses
from modelworks.core.api.pagination import MAX_LIMIT
from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project

__all__ = ["router"]

router = Router(tags=["lineage and catalog"])

Direction = Literal["upstream", "downstream", "both"]

_EVENT_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "One OpenLineage RunEvent, JobEvent or DatasetEvent (spec 2-0-x), "
                    "optionally gzip-compressed with Content-Encoding: gzip.",
                }
            }
        },
    }
}


@router.post(
    "/lineage",
    response=responses({201: LineageIngestOut}, 400, 403, 404, 413, 415, 422),
    operation_id="lineage_ingest",
    summary="Receive an OpenLineage event",
    openapi_extra=_EVENT_BODY_DOC,
)
def lineage_ingest(request: HttpRequest) -> Status:
    """Store one OpenLineage event, as the OpenLineage HTTP transport sends it (gzip accepted).

    The event is filed under the project named by the header `X-Modelworks-Project`, or else by the
    **job namespace**, which must be the short name of a project you contribute to (a DatasetEvent
    without the header must use the dataset namespace `modelworks://<project>`). Facets stored:
    schema, columnLineage, dataSource, documentation, sql, jobType; the raw event is kept too.
    """
    body = read_event_body(request)
    event, payload = parse_event(body)
    project = resolve_project(request.user, event, request.headers.get(PROJECT_HEADER))
    stored = ingest(project, event, payload, user=request.user)
    return Status(
        201,
        {
            "id": stored.pk,
            "project": project.slug,
            "kind": stored.kind,
            "event_type": stored.event_type,
            "job": stored.job_name or None,
            "run_id": str(stored.run_id) if stored.run_id else None,
        },
    )


def _dataset_node(project: Project, node_id: int) -> LineageDataset:
    node = (
        LineageDataset.objects.filter(project=project, pk=node_id)
        .select_related("dataset", "project")
        .first()
    )
    if node is None:
        raise Http404(f"No lineage dataset {node_id} in project '{project.slug}'.")
    return node


@router.get(
    "/projects/{slug}/lineage/datasets",
    response=responses({200: list[LineageDatasetOut]}, 404, 422),
    operation_id="lineage_datasets_list",
    summary="List a project's lineage datasets",
)
@paginate
def lineage_datasets_list(
    request: HttpRequest,
    slug: str,
    namespace: str | None = Query(None, description="Only datasets in this namespace."),
    name: str | None = Query(None, description="Only datasets whose name contains this."),
    dataset_id: int | None = Query(None, description="Only the node of this Modelworks dataset."),
) -> QuerySet:
    """The dataset nodes of the project's lineage, by namespace and name (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    nodes = LineageDataset.objects.filter(project=project).select_related("project", "dataset")
    if namespace:
        nodes = nodes.filter(namespace=namespace)
    if name:
        nodes = nodes.filter(name__icontains=name)
    if dataset_id is not None:
        nodes = nodes.filter(dataset_id=dataset_id)
    return nodes.order_by("namespace", "name", "pk")


@router.get(
    "/projects/{slug}/lineage/datasets/{node_id}",
    response=responses({200: LineageDatasetOut}, 404),
    operation_id="lineage_dataset_get",
    summary="Get a lineage dataset",
)
def lineage_dataset_get(request: HttpRequest, slug: str, node_id: int) -> LineageDataset:
    """One dataset node, with its schema as last reported."""
    project, _ = get_project(request.user, slug, Role.READER)
    return _dataset_node(project, node_id)


def _graph_out(graph: lineage_graph.LineageGraph, direction: str) -> dict[str, Any]:
    nodes = [
        {
            "key": lineage_graph.dataset_key(d.pk),
            "kind": "dataset",
            "id": d.pk,
            "namespace": d.namespace,
            "name": d.name,
            "label": d.label,
            "dataset_id": d.dataset_id,
        }
        for d in graph.datasets.values()
    ]
    nodes += [
        {
            "key": lineage_graph.job_key(j.pk),
            "kind": "job",
            "id": j.pk,
            "namespace": j.namespace,
            "name": j.name,
            "label": j.label,
        }
        for j in graph.jobs.values()
    ]
    return {
        "root": graph.root,
        "depth": graph.depth,
        "direction": direction,
        "nodes": sorted(nodes, key=lambda n: n["key"]),
        "edges": [{"source": s, "target": t} for s, t in sorted(graph.edges)],
        "truncated": graph.truncated,
    }


@router.get(
    "/projects/{slug}/lineage/graph",
    response=responses({200: LineageGraphOut}, 404),
    operation_id="lineage_project_graph",
    summary="Get a project's whole lineage graph",
)
def lineage_project_graph(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Every dataset and job of the project's lineage and the edges between them (at most 250 nodes)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return _graph_out(lineage_graph.project_graph(project), "both")


@router.get(
    "/projects/{slug}/lineage/datasets/{node_id}/graph",
    response=responses({200: LineageGraphOut}, 404, 422),
    operation_id="lineage_dataset_graph",
    summary="Get the lineage graph around a dataset",
)
def lineage_dataset_graph(
    request: HttpRequest,
    slug: str,
    node_id: int,
    depth: int = Query(2, ge=1, le=lineage_graph.MAX_DEPTH, description="How many jobs away to go."),
    direction: Direction = Query("both", description="upstream, downstream or both."),  # noqa: B008
) -> dict[str, Any]:
    """The datasets and jobs upstream and/or downstream of a dataset, up to `depth` jobs away."""
    project, _ = get_project(request.user, slug, Role.READER)
    node = _dataset_node(project, node_id)
    graph = lineage_graph.neighbourhood(
        project, lineage_graph.dataset_key(node.pk), depth=depth, direction=direction
    )
    return _graph_out(graph, direction)


def _column_ref(node: LineageDataset, column: str) -> dict[str, Any]:
    return {"dataset": node.pk, "namespace": node.namespace, "name": node.name, "column": column}


def _column_edges(found: list[tuple[Any, int]]) -> list[dict[str, Any]]:
    return [
        {
            "output": _column_ref(edge.output_dataset, edge.output_column),
            "input": _column_ref(edge.input_dataset, edge.input_column),
            "transformation_type": edge.transformation_type,
            "transformation_subtype": edge.transformation_subtype,
            "description": edge.description,
            "masking": edge.masking,
            "job": edge.job.name if edge.job_id else None,
            "depth": depth,
        }
        for edge, depth in found
    ]


@router.get(
    "/projects/{slug}/lineage/datasets/{node_id}/column-lineage",
    response=responses({200: ColumnLineageOut}, 404, 422),
    operation_id="lineage_column_lineage",
    summary="Get the lineage of a column",
)
def lineage_column_lineage(
    request: HttpRequest,
    slug: str,
    node_id: int,
    column: str | None = Query(None, min_length=1, max_length=1000, description="The column to trace."),
    depth: int = Query(
        lineage_graph.MAX_DEPTH, ge=1, le=lineage_graph.MAX_DEPTH, description="Steps each way."
    ),
) -> dict[str, Any]:
    """Where a column comes from (upstream) and what is derived from it (downstream), `depth` steps
    each way. Without `column`: the direct column edges into and out of every column of the dataset."""
    project, _ = get_project(request.user, slug, Role.READER)
    node = _dataset_node(project, node_id)
    if column:
        trace = lineage_graph.trace_column(project, node.pk, column, depth=depth)
    else:
        trace = lineage_graph.direct_column_edges(project, node.pk)
    return {
        "dataset": node.pk,
        "column": column,
        "upstream": _column_edges(trace.upstream),
        "downstream": _column_edges(trace.downstream),
        "truncated": trace.truncated,
    }


@router.get(
    "/projects/{slug}/lineage/jobs",
    response=responses({200: list[LineageJobOut]}, 404, 422),
    operation_id="lineage_jobs_list",
    summary="List a project's lineage jobs",
)
@paginate
def lineage_jobs_list(request: HttpRequest, slug: str) -> QuerySet:
    """The jobs of the project's lineage, Modelworks' own and those reported by OpenLineage producers."""
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        LineageJob.objects.filter(project=project)
        .select_related("project")
        .order_by("namespace", "name", "pk")
    )


@router.get(
    "/projects/{slug}/lineage/jobs/{job_id}",
    response=responses({200: LineageJobOut}, 404),
    operation_id="lineage_job_get",
    summary="Get a lineage job and its latest runs",
)
def lineage_job_get(request: HttpRequest, slug: str, job_id: int) -> LineageJob:
    """One job, with its SQL and description as last reported and its 20 latest runs."""
    project, _ = get_project(request.user, slug, Role.READER)
    job = LineageJob.objects.filter(project=project, pk=job_id).select_related("project").first()
    if job is None:
        raise Http404(f"No lineage job {job_id} in project '{slug}'.")
    return job


@router.get(
    "/catalog/search",
    response=responses({200: CatalogSearchOut}, 422),
    operation_id="catalog_search",
    summary="Search the catalog",
)
def catalog_search(
    request: HttpRequest,
    q: str = Query(
        "", max_length=200, description="Words to find in names, descriptions, columns, tags, owners."
    ),
    project: str = Query("", max_length=64, description="Only datasets of this project (short name)."),
    tag: str = Query("", max_length=200, description="Only datasets with this tag."),
    owner: str = Query("", max_length=150, description="Only datasets owned by this user name."),
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}."),
    offset: int = Query(0, ge=0, description="How many items to skip."),
) -> dict[str, Any]:
    """Datasets of every project you may read, best matches first (name matches rank highest), with
    counts per project, tag and owner. Other projects' datasets are never counted nor returned."""
    query = SearchQuery(q=q.strip(), project=project.strip(), tag=tag.strip(), owner=owner.strip())
    results = search_datasets(request.user, query)
    page = list(results[offset : offset + limit])
    found = facets(request.user, query)
    return {
        "items": [_hit(d) for d in page],
        "count": results.count(),
        "limit": limit,
        "offset": offset,
        "facets": {"projects": found.projects, "tags": found.tags, "owners": found.owners},
    }


def _hit(dataset: Any) -> dict[str, Any]:
    return {
        "id": dataset.pk,
        "project": dataset.project.slug,
        "project_name": dataset.project.name,
        "name": dataset.name,
        "description": dataset.description,
        "tags": [t.tag for t in dataset.catalog_tags.all()],
        "owner": dataset.owner.username if dataset.owner_id else None,
        "matched_columns": [c.name for c in dataset.matched_columns],
        "latest_version": dataset.latest_number,
        "row_count": dataset.latest_rows,
        "quality_status": dataset.latest_quality,
        "url": reverse("datasets:detail", args=[dataset.project.slug, dataset.pk]),
        "documentation_url": reverse("catalog:dataset_doc", args=[dataset.project.slug, dataset.pk]),
    }
