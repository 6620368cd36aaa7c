"""Writes to the lineage store: the Python API other domains call, and the OpenLineage ingestion's.

``record_run`` is the entry point: one call per run (or per state change of a run) saying which job
read which datasets and wrote which, and optionally how each output column derives from input
columns. Calls are idempotent: the same run reported twice (START, then COMPLETE) updates one run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from modelworks.catalog.errors import LineageError, RunConflictError
from modelworks.catalog.lineage.refs import ColumnEdge, DatasetRef, as_ref
from modelworks.catalog.models import (
    ColumnLineageEdge,
    EdgeDirection,
    JobKind,
    LineageDataset,
    LineageEdge,
    LineageJob,
    LineageRun,
    RunState,
    internal_namespace,
    node_key,
)
from modelworks.catalog.models.lineage import NAME_MAX_LENGTH
from modelworks.core.models import Project

__all__ = [
    "JobSpec",
    "RunReport",
    "apply_run_report",
    "make_run_report",
    "record_dataset",
    "record_job",
    "record_run",
]


@dataclass(frozen=True)
class JobSpec:
    """A job as reported: its name and, when known, what it does (``None`` keeps what is stored)."""

    namespace: str
    name: str
    kind: str = JobKind.INTERNAL
    description: str | None = None
    sql: str | None = None
    sql_dialect: str | None = None
    job_type: str | None = None
    facets: dict[str, Any] = field(default_factory=dict)


def _check_name(field_name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LineageError({field_name: "Give a non-empty name."})
    if len(value) > NAME_MAX_LENGTH:
        raise LineageError(
            {field_name: f"Names are at most {NAME_MAX_LENGTH} characters; this one has {len(value)}."}
        )
    if "\x00" in value:
        raise LineageError({field_name: "Names may not contain NUL characters."})
    return value


def _parse_state(state: RunState | str) -> RunState:
    try:
        return RunState(state)
    except ValueError:
        choices = ", ".join(s.value for s in RunState)
        raise LineageError({"state": f"Unknown run state {state!r}; use one of {choices}."}) from None


def _parse_run_id(run_id: uuid.UUID | str | None) -> uuid.UUID:
    if run_id is None:
        return uuid.uuid4()
    if isinstance(run_id, uuid.UUID):
        return run_id
    try:
        return uuid.UUID(str(run_id))
    except ValueError:
        raise LineageError({"run_id": f"Run ids are UUIDs, e.g. {uuid.uuid4()}; got {run_id!r}."}) from None


def _merge_facets(stored: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    """Stored facets updated with the reported ones; a facet reported as ``{"_deleted": true}`` is removed."""
    merged = dict(stored)
    for name, value in reported.items():
        if isinstance(value, dict) and value.get("_deleted") is True:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _link_internal_dataset(project: Project, ref: DatasetRef) -> int | None:
    """The Modelworks dataset a ref stands for: its own id, or by name in the project's namespace.

    Datasets of other projects are never linked (the node would reveal them to this project).
    """
    from modelworks.datasets.models import Dataset

    if ref.dataset_id is not None:
        if not Dataset.objects.filter(pk=ref.dataset_id, project=project).exists():
            raise LineageError({"dataset": f"Dataset {ref.dataset_id} is not in project '{project.slug}'."})
        return ref.dataset_id
    if ref.namespace == internal_namespace(project.slug):
        return Dataset.objects.filter(project=project, name=ref.name).values_list("pk", flat=True).first()
    return None


#: Nodes already written while storing several reports at once (``record_run(node_cache=…)``).
NodeCache = dict[DatasetRef, LineageDataset]


def upsert_dataset(project: Project, ref: DatasetRef, cache: NodeCache | None = None) -> LineageDataset:
    """The project's node for ``ref``, created or updated with what the ref knows.

    With a ``cache``, a ref equal to one already written through it (facets aside) is not written
    again: a batch of reports naming the same datasets writes each node once. A node the ref does not
    change is not written at all.
    """
    if cache is not None and ref in cache:
        return cache[ref]
    _check_name("namespace", ref.namespace)
    _check_name("name", ref.name)
    node = None
    if ref.dataset_id is not None:
        # A node already linked to the dataset proves it is one of the project's (a link is only
        # made after the check of ``_link_internal_dataset``): one query instead of two.
        node = LineageDataset.objects.filter(project=project, dataset_id=ref.dataset_id).first()
    dataset_id = ref.dataset_id if node is not None else _link_internal_dataset(project, ref)
    if node is None and dataset_id is not None and ref.dataset_id is None:
        node = LineageDataset.objects.filter(project=project, dataset_id=dataset_id).first()
    if node is None:
        node, _ = LineageDataset.objects.get_or_create(
            project=project,
            key=node_key(ref.namespace, ref.name),
            defaults={"namespace": ref.namespace, "name": ref.name},
        )
    before = _node_state(node)
    if dataset_id is not None and node.dataset_id is None:
        node.dataset_id = dataset_id
    if ref.columns is not None:
        node.columns = [c.as_dict() for c in ref.columns]
    elif dataset_id is not None and not node.columns:
        # A producer naming a Modelworks dataset rarely sends its schema: the dataset knows it.
        known = DatasetRef.of(node.dataset).columns
        node.columns = [c.as_dict() for c in known or ()]
    if ref.description:
        node.description = ref.description
    if ref.source_name:
        node.source_name = ref.source_name
    if ref.source_uri:
        node.source_uri = ref.source_uri
    node.facets = _merge_facets(node.facets, ref.facets)
    if _node_state(node) != before:
        node.save()
    if cache is not None:
        cache[ref] = node
    return node


def _node_state(node: LineageDataset) -> tuple[Any, ...]:
    # Every change above assigns a new value, so the old values compared here stay as they were.
    return (node.dataset_id, node.columns, node.description, node.source_name, node.source_uri, node.facets)


def upsert_job(project: Project, spec: JobSpec) -> LineageJob:
    """The project's node for the job ``spec`` names, created or updated."""
    _check_name("job_namespace", spec.namespace)
    _check_name("job_name", spec.name)
    job, _ = LineageJob.objects.get_or_create(
        project=project,
        key=node_key(spec.namespace, spec.name),
        defaults={"namespace": spec.namespace, "name": spec.name, "kind": spec.kind},
    )
    fields = ("description", "sql", "sql_dialect", "job_type", "facets")
    before = tuple(getattr(job, attr) for attr in fields)
    for attr in fields[:-1]:
        value = getattr(spec, attr)
        if value is not None:
            setattr(job, attr, value)
    job.facets = _merge_facets(job.facets, spec.facets)
    if tuple(getattr(job, attr) for attr in fields) != before:  # a job reported as it was: no write
        job.save()
    return job


def upsert_run(
    project: Project,
    job: LineageJob,
    run_id: uuid.UUID,
    state: RunState,
    *,
    event_time: datetime,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    facets: dict[str, Any] | None = None,
) -> LineageRun:
    """The run ``run_id`` of ``job``, moved to ``state`` unless it already ended (events may arrive late)."""
    run = LineageRun.objects.select_for_update().filter(project=project, run_id=run_id).first()
    if run is None:
        run = LineageRun(project=project, job=job, run_id=run_id, state=state)
    elif run.job_id != job.pk:
        raise RunConflictError(
            {"run_id": f"Run {run_id} belongs to job '{run.job.name}', not '{job.name}'; use a new run id."}
        )
    elif state.is_final or not (RunState(run.state).is_final or state == RunState.OTHER):
        # A late START/RUNNING does not reopen an ended run; OTHER only adds facets.
        run.state = state
    run.started_at = run.started_at or started_at
    run.ended_at = ended_at or run.ended_at
    if run.last_event_at is None or event_time > run.last_event_at:
        run.last_event_at = event_time
    run.facets = _merge_facets(run.facets, facets or {})
    run.save()
    return run


def _link(
    project: Project,
    job: LineageJob,
    run: LineageRun | None,
    links: Iterable[tuple[LineageDataset, dict[str, Any], EdgeDirection]],
) -> None:
    """Edges between ``job`` (its ``run``) and each node, read or written: one query for those
    already there, one insert for the others (a node named twice in one direction gets one edge,
    with both facets merged)."""
    links = list(links)
    if not links:
        return
    existing = {
        (edge.dataset_id, edge.direction): edge
        for edge in LineageEdge.objects.filter(
            project=project, job=job, run=run, dataset__in={n.pk for n, _, _ in links}
        )
    }
    new: dict[tuple[int, str], LineageEdge] = {}
    changed: dict[tuple[int, str], LineageEdge] = {}
    for node, facets, direction in links:
        key = (node.pk, str(direction))
        edge = existing.get(key) or new.get(key)
        if edge is None:
            new[key] = LineageEdge(
                project=project, job=job, run=run, dataset=node, direction=direction, facets=facets
            )
        elif facets:
            edge.facets = _merge_facets(edge.facets, facets)
            if key in existing:
                changed[key] = edge
    # A report of the same run arriving at the same moment may have written an edge meanwhile:
    # it is the same edge, so a conflict is skipped rather than failing the report.
    LineageEdge.objects.bulk_create(new.values(), ignore_conflicts=True)
    for edge in changed.values():
        edge.save(update_fields=["facets", "updated_at"])


def _directed(
    nodes: Iterable[tuple[LineageDataset, dict[str, Any]]], direction: EdgeDirection
) -> list[tuple[LineageDataset, dict[str, Any], EdgeDirection]]:
    return [(node, facets, direction) for node, facets in nodes]


def _replace_column_edges(
    project: Project,
    job: LineageJob | None,
    run: LineageRun | None,
    edges: Sequence[ColumnEdge],
    cache: NodeCache | None = None,
) -> None:
    """Store ``edges``; for each output dataset they describe, they replace the job's earlier ones."""
    nodes: dict[tuple[str, str], LineageDataset] = {}
    by_dataset: dict[int, LineageDataset] = {}  # Modelworks datasets by primary key

    def node_of(value: Any) -> LineageDataset:
        # Every column edge names its datasets again: resolve each Modelworks dataset once (its ref
        # reads the current version's schema), not once per column.
        pk = None if isinstance(value, DatasetRef) else getattr(value, "pk", None)
        if pk is not None and pk in by_dataset:
            return by_dataset[pk]
        ref = as_ref(value)
        if ref.identity not in nodes:
            nodes[ref.identity] = upsert_dataset(project, ref, cache)
        if pk is not None:
            by_dataset[pk] = nodes[ref.identity]
        return nodes[ref.identity]

    rows: list[ColumnLineageEdge] = []
    outputs: set[int] = set()
    for edge in edges:
        output = node_of(edge.output)
        outputs.add(output.pk)
        _check_name("column", edge.column)
        for source in edge.inputs:
            _check_name("input column", source.column)
            rows.append(
                ColumnLineageEdge(
                    project=project,
                    job=job,
                    run=run,
                    output_dataset=output,
                    output_column=edge.column,
                    input_dataset=node_of(source.dataset),
                    input_column=source.column,
                    transformation_type=(source.transformation_type or "")[:32].upper(),
                    transformation_subtype=(source.transformation_subtype or "")[:32].upper(),
                    description=source.description or "",
                    masking=bool(source.masking),
                )
            )
    ColumnLineageEdge.objects.filter(project=project, job=job, output_dataset_id__in=outputs).delete()
    ColumnLineageEdge.objects.bulk_create(rows)


def _datasets(
    project: Project,
    refs: Sequence[Any],
    facets: Sequence[dict[str, Any]] | None,
    cache: NodeCache | None = None,
) -> list[tuple[LineageDataset, dict[str, Any]]]:
    return [
        (upsert_dataset(project, as_ref(ref), cache), (facets[i] if facets else {}) or {})
        for i, ref in enumerate(refs)
    ]


@dataclass(frozen=True)
class RunReport:
    """One report of a run, with every time explicit (see ``record_run`` for the fields)."""

    job: JobSpec
    run_id: uuid.UUID
    state: RunState
    event_time: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    inputs: Sequence[DatasetRef | Any] = ()
    outputs: Sequence[DatasetRef | Any] = ()
    column_lineage: Sequence[ColumnEdge] = ()
    run_facets: dict[str, Any] = field(default_factory=dict)
    input_facets: Sequence[dict[str, Any]] | None = None
    output_facets: Sequence[dict[str, Any]] | None = None


@transaction.atomic
def apply_run_report(
    project: Project, report: RunReport, *, node_cache: NodeCache | None = None
) -> LineageRun:
    """Store one report of a run: its job, its state, the datasets it read and wrote, column edges.

    ``node_cache``: see :func:`upsert_dataset` (for callers storing several reports at once).
    """
    job_node = upsert_job(project, report.job)
    run = upsert_run(
        project,
        job_node,
        report.run_id,
        report.state,
        event_time=report.event_time,
        started_at=report.started_at,
        ended_at=report.ended_at,
        facets=report.run_facets,
    )
    inputs = _datasets(project, report.inputs, report.input_facets, node_cache)
    outputs = _datasets(project, report.outputs, report.output_facets, node_cache)
    _link(
        project,
        job_node,
        run,
        [*_directed(inputs, EdgeDirection.INPUT), *_directed(outputs, EdgeDirection.OUTPUT)],
    )
    if report.column_lineage:
        _replace_column_edges(project, job_node, run, report.column_lineage, node_cache)
    return run


def record_run(
    project: Project,
    job_name: str,
    *,
    inputs: Sequence[DatasetRef | Any] = (),
    outputs: Sequence[DatasetRef | Any] = (),
    column_lineage: Sequence[ColumnEdge] = (),
    run_id: uuid.UUID | str | None = None,
    state: RunState | str = RunState.COMPLETED,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    job: JobSpec | None = None,
    description: str | None = None,
    sql: str | None = None,
    node_cache: NodeCache | None = None,
) -> LineageRun:
    """Record that a run of job ``job_name`` read ``inputs`` and wrote ``outputs``.

    Args:
        project: the project the job, the run and every node belong to.
        job_name: the job, e.g. ``"recipe/prepare_flights"``, in namespace ``modelworks://<slug>``.
        inputs: datasets read: ``DatasetRef`` or ``datasets.Dataset`` objects.
        outputs: datasets written.
        column_lineage: how output columns derive from input columns (``ColumnEdge``).
        run_id: the run's UUID; a new one when omitted. Reporting the same id again updates the run.
        state: ``running``, ``completed``, ``failed``, ``aborted`` or ``other``; an ended run keeps
            its final state when a late ``running`` report arrives.
        started_at: when the run started (default: now, for a run not seen before).
        ended_at: when it ended (default: now, for a final state).
        job: the job's namespace, kind and facets, to report a job outside ``modelworks://<slug>``.
        description: what the job does (kept on the job).
        sql: the job's query, when it is SQL (kept on the job).
        node_cache: a dict shared by calls that store several runs at once: a dataset ref equal to
            one already written through it is not written again (:func:`upsert_dataset`).

    Returns:
        The run.

    Raises:
        LineageError: a name is empty or too long, the state is unknown, the run id is not a UUID,
            or a Modelworks dataset belongs to another project.
        RunConflictError: the run id already belongs to another job of the project.
    """
    report = make_run_report(
        project,
        job_name,
        inputs=inputs,
        outputs=outputs,
        column_lineage=column_lineage,
        run_id=run_id,
        state=state,
        started_at=started_at,
        ended_at=ended_at,
        job=job,
        description=description,
        sql=sql,
    )
    return apply_run_report(project, report, node_cache=node_cache)


def make_run_report(
    project: Project,
    job_name: str,
    *,
    inputs: Sequence[DatasetRef | Any] = (),
    outputs: Sequence[DatasetRef | Any] = (),
    column_lineage: Sequence[ColumnEdge] = (),
    run_id: uuid.UUID | str | None = None,
    state: RunState | str = RunState.COMPLETED,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    job: JobSpec | None = None,
    description: str | None = None,
    sql: str | None = None,
) -> RunReport:
    """The report :func:`record_run` stores for its arguments (same defaults: times default to now).

    Raises:
        LineageError: the state is unknown or the run id is not a UUID.
    """
    now = timezone.now()
    run_state = _parse_state(state)
    spec = job or JobSpec(
        namespace=internal_namespace(project.slug), name=job_name, description=description, sql=sql
    )
    return RunReport(
        job=spec,
        run_id=_parse_run_id(run_id),
        state=run_state,
        event_time=ended_at or now,
        started_at=started_at or now,
        ended_at=ended_at or (now if run_state.is_final else None),
        inputs=inputs,
        outputs=outputs,
        column_lineage=column_lineage,
    )


@transaction.atomic
def record_job(
    project: Project,
    job: JobSpec,
    *,
    inputs: Sequence[DatasetRef | Any] = (),
    outputs: Sequence[DatasetRef | Any] = (),
    column_lineage: Sequence[ColumnEdge] = (),
) -> LineageJob:
    """Record what a job reads and writes, independently of any run (OpenLineage ``JobEvent``)."""
    job_node = upsert_job(project, job)
    _link(
        project,
        job_node,
        None,
        [
            *_directed(_datasets(project, inputs, None), EdgeDirection.INPUT),
            *_directed(_datasets(project, outputs, None), EdgeDirection.OUTPUT),
        ],
    )
    if column_lineage:
        _replace_column_edges(project, job_node, None, column_lineage)
    return job_node


@transaction.atomic
def record_dataset(
    project: Project, dataset: DatasetRef, *, column_lineage: Sequence[ColumnEdge] = ()
) -> LineageDataset:
    """Record what is known of a dataset (OpenLineage ``DatasetEvent``): schema, description, source."""
    node = upsert_dataset(project, dataset)
    if column_lineage:
        _replace_column_edges(project, None, None, column_lineage)
    return node
