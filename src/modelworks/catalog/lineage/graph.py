"""Reading the lineage store as a graph: a project's whole graph, a node's neighbourhood up to a depth,
and the upstream and downstream of one column.

Data flows ``dataset → job → dataset``. Depth counts jobs: depth 1 around a dataset shows the jobs
that read or wrote it and the datasets on their other side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Q

from modelworks.catalog.models import (
    ColumnLineageEdge,
    EdgeDirection,
    LineageDataset,
    LineageEdge,
    LineageJob,
)
from modelworks.core.models import Project

__all__ = [
    "MAX_NODES",
    "ColumnTrace",
    "LineageGraph",
    "dataset_key",
    "direct_column_edges",
    "job_key",
    "neighbourhood",
    "parse_key",
    "project_graph",
    "trace_column",
]

MAX_NODES = 250
MAX_TRACED_COLUMNS = 2000
MAX_DEPTH = 10


def dataset_key(pk: int) -> str:
    return f"dataset:{pk}"


def job_key(pk: int) -> str:
    return f"job:{pk}"


def parse_key(key: str) -> tuple[str, int] | None:
    """``("dataset", 12)`` from ``"dataset:12"``; None when ``key`` is not a node key."""
    kind, _, pk = key.partition(":")
    if kind in ("dataset", "job") and pk.isdigit():
        return kind, int(pk)
    return None


@dataclass
class LineageGraph:
    """Nodes and the edges between them, in the direction data flows."""

    datasets: dict[int, LineageDataset] = field(default_factory=dict)
    jobs: dict[int, LineageJob] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    root: str | None = None
    depth: int | None = None
    truncated: bool = False

    @property
    def node_count(self) -> int:
        return len(self.datasets) + len(self.jobs)

    def column_edges(self) -> list[ColumnLineageEdge]:
        """The column edges between datasets of this graph."""
        ids = list(self.datasets)
        if not ids:
            return []
        return list(
            ColumnLineageEdge.objects.filter(
                output_dataset_id__in=ids, input_dataset_id__in=ids
            ).select_related("job")
        )


def _edge_rows(query: Q) -> list[tuple[int, int, str]]:
    return list(LineageEdge.objects.filter(query).values_list("job_id", "dataset_id", "direction").distinct())


def _add(graph: LineageGraph, rows: Iterable[tuple[int, int, str]]) -> None:
    for job_id, dataset_id, direction in rows:
        if direction == EdgeDirection.INPUT:
            graph.edges.add((dataset_key(dataset_id), job_key(job_id)))
        else:
            graph.edges.add((job_key(job_id), dataset_key(dataset_id)))


def _load_nodes(graph: LineageGraph, dataset_ids: set[int], job_ids: set[int]) -> None:
    datasets = LineageDataset.objects.filter(pk__in=dataset_ids).select_related("dataset", "project")
    graph.datasets = {d.pk: d for d in datasets}
    graph.jobs = {j.pk: j for j in LineageJob.objects.filter(pk__in=job_ids).select_related("project")}


def project_graph(project: Project, *, limit: int = MAX_NODES) -> LineageGraph:
    """The whole lineage of ``project`` (at most ``limit`` nodes; ``truncated`` says when more exist)."""
    graph = LineageGraph()
    rows = sorted(_edge_rows(Q(project=project)))
    dataset_ids: set[int] = set()
    job_ids: set[int] = set()
    kept = []
    for row in rows:
        job_id, dataset_id, _ = row
        new = (job_id not in job_ids) + (dataset_id not in dataset_ids)
        if len(dataset_ids) + len(job_ids) + new > limit:
            graph.truncated = True
            continue
        job_ids.add(job_id)
        dataset_ids.add(dataset_id)
        kept.append(row)
    # Datasets nobody reads or writes yet (known from a DatasetEvent) are nodes too.
    if not graph.truncated:
        lone = LineageDataset.objects.filter(project=project).exclude(pk__in=dataset_ids)
        for pk in lone.values_list("pk", flat=True)[: max(0, limit - len(dataset_ids) - len(job_ids))]:
            dataset_ids.add(pk)
    _add(graph, kept)
    _load_nodes(graph, dataset_ids, job_ids)
    return graph


def neighbourhood(
    project: Project, root: str, *, depth: int = 2, direction: str = "both", limit: int = MAX_NODES
) -> LineageGraph:
    """The nodes within ``depth`` jobs of ``root`` (``"dataset:<id>"`` or ``"job:<id>"``).

    Args:
        project: the project whose lineage is read; nodes of other projects are never reached.
        root: the node key to start from.
        depth: how many jobs away to go, 1 to ``MAX_DEPTH``.
        direction: ``"upstream"``, ``"downstream"`` or ``"both"``.
        limit: the most nodes to return; ``truncated`` says when more were in reach.
    """
    parsed = parse_key(root)
    if parsed is None:
        raise ValueError(f"not a node key: {root!r}")
    depth = max(1, min(depth, MAX_DEPTH))
    graph = LineageGraph(root=root, depth=depth)
    kind, pk = parsed
    seen_datasets = {pk} if kind == "dataset" else set()
    seen_jobs = {pk} if kind == "job" else set()
    ways = [w for w in ("upstream", "downstream") if direction in (w, "both")]
    for way in ways:
        # Reading "downstream": datasets lead to the jobs reading them, jobs to the datasets they write.
        to_job = EdgeDirection.INPUT if way == "downstream" else EdgeDirection.OUTPUT
        to_dataset = EdgeDirection.OUTPUT if way == "downstream" else EdgeDirection.INPUT
        datasets = {pk} if kind == "dataset" else set()
        jobs = {pk} if kind == "job" else set()
        steps = 2 * depth if kind == "dataset" else 2 * depth - 1
        for step in range(steps):
            from_datasets = (step % 2 == 0) == (kind == "dataset")
            if from_datasets:
                rows = _edge_rows(Q(project=project, dataset_id__in=datasets, direction=to_job))
                jobs = {r[0] for r in rows} - seen_jobs
                datasets = set()
            else:
                rows = _edge_rows(Q(project=project, job_id__in=jobs, direction=to_dataset))
                datasets = {r[1] for r in rows} - seen_datasets
                jobs = set()
            if len(seen_datasets) + len(seen_jobs) + len(jobs) + len(datasets) > limit:
                graph.truncated = True
                break
            seen_jobs |= jobs
            seen_datasets |= datasets
            _add(graph, [r for r in rows if r[0] in seen_jobs and r[1] in seen_datasets])
            if not jobs and not datasets:
                break
    _load_nodes(graph, seen_datasets, seen_jobs)
    return graph


@dataclass
class ColumnTrace:
    """Where one column comes from (upstream) and where it goes (downstream), edge by edge."""

    dataset_id: int
    column: str
    upstream: list[tuple[ColumnLineageEdge, int]] = field(default_factory=list)
    downstream: list[tuple[ColumnLineageEdge, int]] = field(default_factory=list)
    truncated: bool = False

    @property
    def columns(self) -> set[tuple[int, str]]:
        """Every column reached, including the traced one."""
        found = {(self.dataset_id, self.column)}
        found |= {(e.input_dataset_id, e.input_column) for e, _ in self.upstream}
        found |= {(e.output_dataset_id, e.output_column) for e, _ in self.downstream}
        return found

    @property
    def edge_ids(self) -> set[int]:
        return {e.pk for e, _ in self.upstream} | {e.pk for e, _ in self.downstream}


def trace_column(project: Project, dataset_id: int, column: str, *, depth: int = MAX_DEPTH) -> ColumnTrace:
    """Follow column edges from ``column`` of dataset node ``dataset_id``, up to ``depth`` steps each way."""
    trace = ColumnTrace(dataset_id=dataset_id, column=column)
    for upstream in (True, False):
        found = trace.upstream if upstream else trace.downstream
        frontier = {(dataset_id, column)}
        seen = set(frontier)
        for level in range(1, max(1, min(depth, MAX_DEPTH)) + 1):
            if upstream:
                query = reduce(or_, (Q(output_dataset_id=d, output_column=c) for d, c in frontier))
            else:
                query = reduce(or_, (Q(input_dataset_id=d, input_column=c) for d, c in frontier))
            edges = list(
                ColumnLineageEdge.objects.filter(query, project=project).select_related(
                    "job", "input_dataset__dataset", "output_dataset__dataset"
                )
            )
            frontier = set()
            for edge in edges:
                found.append((edge, level))
                nxt = (
                    (edge.input_dataset_id, edge.input_column)
                    if upstream
                    else (edge.output_dataset_id, edge.output_column)
                )
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.add(nxt)
            if len(seen) > MAX_TRACED_COLUMNS:
                trace.truncated = True
                break
            if not frontier:
                break
    return trace


def direct_column_edges(project: Project, dataset_id: int) -> ColumnTrace:
    """The column edges into (upstream) and out of (downstream) every column of one dataset node."""
    related = ("job", "input_dataset__dataset", "output_dataset__dataset")
    edges = ColumnLineageEdge.objects.filter(project=project).select_related(*related)
    trace = ColumnTrace(dataset_id=dataset_id, column="")
    trace.upstream = [(e, 1) for e in edges.filter(output_dataset_id=dataset_id)[:MAX_TRACED_COLUMNS]]
    trace.downstream = [(e, 1) for e in edges.filter(input_dataset_id=dataset_id)[:MAX_TRACED_COLUMNS]]
    return trace
