"""Stores many run reports at once, in a number of queries that does not grow with the reports.

``apply_run_reports(project, reports)`` stores exactly what calling ``apply_run_report`` once per
report would (in order, in one transaction, sharing one node cache that a failed report clears): it
reads every job, run, dataset node and edge the reports name up front, applies the reports to those
rows in memory with the rules of :mod:`modelworks.catalog.lineage.store`, then writes what is new
and what changed with a few bulk statements. A build's steps report this way
(``flows.services.lineage.LineageRecorder``): per report, the store's SQL round trips were the
largest Python cost of a build.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from modelworks.catalog.errors import LineageError, RunConflictError
from modelworks.catalog.lineage.refs import ColumnRef, DatasetRef, as_ref
from modelworks.catalog.lineage.store import (
    NodeCache,
    RunReport,
    _check_name,
    _merge_facets,
    _node_state,
    apply_run_report,
)
from modelworks.catalog.models import (
    ColumnLineageEdge,
    EdgeDirection,
    LineageDataset,
    LineageEdge,
    LineageJob,
    LineageRun,
    RunState,
    internal_namespace,
    node_key,
)
from modelworks.core.models import Project

__all__ = ["OnError", "apply_run_reports"]

#: Called for each report that breaks a rule (its index, the report, the error); it is skipped.
OnError = Callable[[int, RunReport, Exception], None]

_JOB_FIELDS = ("description", "sql", "sql_dialect", "job_type", "facets")
_NODE_FIELDS = ("dataset", "columns", "description", "source_name", "source_uri", "facets")
_RUN_FIELDS = ("state", "started_at", "ended_at", "last_event_at", "facets")


def apply_run_reports(
    project: Project, reports: Sequence[RunReport], *, on_error: OnError | None = None
) -> list[LineageRun | None]:
    """Store ``reports`` in one transaction, as ``apply_run_report`` once per report would.

    Args:
        project: the project every job, run and node belongs to.
        reports: the reports, in the order they happened (a run reported twice ends in the state
            the rules of ``upsert_run`` give, e.g. a late ``running`` does not reopen it).
        on_error: without it, the first report breaking a rule raises and nothing is stored; with
            it, such a report is skipped (``on_error`` is told why) and the others are stored.

    Returns:
        The run of each report (``None`` for a skipped one), in the order of ``reports``.

    Raises:
        LineageError: a report breaks a rule (see ``record_run``) and ``on_error`` is not given.
        RunConflictError: a run id belongs to another job of the project (same condition).
    """
    reports = list(reports)
    if not reports:
        return []
    with transaction.atomic():
        batch = _Batch(project, reports)
        errors = batch.plan(raise_first=on_error is None)
        try:
            with transaction.atomic():
                batch.write()
        except (LineageError, ValueError, IntegrityError):
            # A rule the plan cannot see (e.g. a NUL character PostgreSQL refuses in a query text) or
            # a node written by another transaction meanwhile: store the reports one by one, as
            # before, so the faulty one alone is skipped.
            return _one_by_one(project, reports, on_error)
        if on_error is not None:
            for index, exc in errors:
                on_error(index, reports[index], exc)
        return batch.runs


def _one_by_one(
    project: Project, reports: Sequence[RunReport], on_error: OnError | None
) -> list[LineageRun | None]:
    cache: NodeCache = {}
    runs: list[LineageRun | None] = []
    for index, report in enumerate(reports):
        try:
            runs.append(apply_run_report(project, report, node_cache=cache))
        except (LineageError, ValueError) as exc:
            if on_error is None:
                raise
            on_error(index, report, exc)
            cache.clear()  # nodes this report wrote were rolled back with it
            runs.append(None)
    return runs


def _valid_key(namespace: Any, name: Any) -> str | None:
    """The node key of a name pair, or ``None`` when the names break a rule (checked later)."""
    try:
        _check_name("namespace", namespace)
        _check_name("name", name)
    except LineageError:
        return None
    return node_key(namespace, name)


@dataclass
class _Plan:
    """A report's refs in the order ``apply_run_report`` resolves them, and its column edges."""

    inputs: list[DatasetRef]
    outputs: list[DatasetRef]
    # Column edges: each step is ("ref", DatasetRef) — a node to upsert — or ("name", field, value).
    column_steps: list[tuple[Any, ...]] = field(default_factory=list)
    # (output identity, column, [(input identity, ColumnInput)]) for each column edge.
    column_rows: list[tuple[tuple[str, str], str, list[tuple[tuple[str, str], Any]]]] = field(
        default_factory=list
    )


class _Batch:
    """The rows a batch of reports touches, loaded once, updated in memory, written at the end."""

    def __init__(self, project: Project, reports: list[RunReport]) -> None:
        self.project = project
        self.reports = reports
        self.internal = internal_namespace(project.slug)
        self._refs_of: dict[int, DatasetRef] = {}  # Modelworks dataset (by pk) → its ref
        self.plans = [self._plan(report) for report in reports]
        self.runs: list[LineageRun | None] = []

    # -- reading ---------------------------------------------------------------------------------

    def _ref(self, value: Any) -> DatasetRef:
        if isinstance(value, DatasetRef):
            return value
        pk = getattr(value, "pk", None)
        if pk is None:
            return as_ref(value)
        if pk not in self._refs_of:
            self._refs_of[pk] = as_ref(value)
        return self._refs_of[pk]

    def _plan(self, report: RunReport) -> _Plan:
        plan = _Plan([self._ref(v) for v in report.inputs], [self._ref(v) for v in report.outputs])
        seen: set[tuple[str, str]] = set()  # ``_replace_column_edges`` upserts each identity once

        def node_of(value: Any) -> tuple[str, str]:
            ref = self._ref(value)
            if ref.identity not in seen:
                seen.add(ref.identity)
                plan.column_steps.append(("ref", ref))
            return ref.identity

        for edge in report.column_lineage:
            output = node_of(edge.output)
            plan.column_steps.append(("name", "column", edge.column))
            sources = []
            for source in edge.inputs:
                plan.column_steps.append(("name", "input column", source.column))
                sources.append((node_of(source.dataset), source))
            plan.column_rows.append((output, edge.column, sources))
        return plan

    def _all_refs(self) -> list[DatasetRef]:
        refs = []
        for plan in self.plans:
            refs += plan.inputs + plan.outputs
            refs += [step[1] for step in plan.column_steps if step[0] == "ref"]
        return refs

    def _load(self) -> None:
        from modelworks.datasets.models import Dataset

        project = self.project
        refs = self._all_refs()
        ids = {ref.dataset_id for ref in refs if ref.dataset_id is not None}
        names = {ref.name for ref in refs if ref.dataset_id is None and ref.namespace == self.internal}
        self.in_project: set[int] = set()
        self.by_name: dict[str, int] = {}  # the project's Modelworks datasets named by internal refs
        if ids or names:
            for pk, name in (
                Dataset.objects.filter(project=project)
                .filter(Q(pk__in=ids) | Q(name__in=names))
                .values_list("pk", "name")
            ):
                self.in_project.add(pk)
                self.by_name[name] = pk
        keys = {key for ref in refs if (key := _valid_key(ref.namespace, ref.name)) is not None}
        self.nodes: dict[str, LineageDataset] = {}  # by key
        self.linked: dict[int, list[LineageDataset]] = {}  # Modelworks dataset id → its nodes
        self.node_before: dict[str, tuple[Any, ...]] = {}
        for node in LineageDataset.objects.filter(project=project).filter(
            Q(key__in=keys) | Q(dataset_id__in=ids | self.in_project)
        ):
            self.nodes[node.key] = node
            self.node_before[node.key] = _node_state(node)
            if node.dataset_id is not None:
                self.linked.setdefault(node.dataset_id, []).append(node)
        self.db_linked = set(self.linked)
        job_keys = {
            key for report in self.reports if (key := _valid_key(report.job.namespace, report.job.name))
        }
        self.jobs: dict[str, LineageJob] = {
            job.key: job for job in LineageJob.objects.filter(project=project, key__in=job_keys)
        }
        self.job_before = {key: self._job_state(job) for key, job in self.jobs.items()}
        self.run_rows: dict[uuid.UUID, LineageRun] = {
            run.run_id: run
            for run in LineageRun.objects.select_for_update().filter(
                project=project, run_id__in={r.run_id for r in self.reports}
            )
        }
        self.loaded_runs = set(self.run_rows)
        self.run_job: dict[uuid.UUID, str] = {}  # run id → key of its job, for runs new in the batch
        self._job_names: dict[int, str] | None = None
        self._columns: dict[int, tuple[ColumnRef, ...] | None] | None = None

    @staticmethod
    def _job_state(job: LineageJob) -> tuple[Any, ...]:
        return tuple(getattr(job, attr) for attr in _JOB_FIELDS)

    def _job_name(self, job_id: int) -> str:
        if self._job_names is None:  # only when a run conflicts: one query for all of them
            ids = {run.job_id for run in self.run_rows.values() if run.run_id in self.loaded_runs}
            self._job_names = dict(LineageJob.objects.filter(pk__in=ids).values_list("pk", "name"))
        return self._job_names.get(job_id, "")

    def _columns_of(self, dataset_id: int) -> tuple[ColumnRef, ...] | None:
        """``DatasetRef.of(dataset).columns`` of a Modelworks dataset, for all candidates at once."""
        from modelworks.datasets.models import Dataset, DatasetVersion

        if self._columns is None:
            wanted = self.in_project | set(self.linked)
            rows = list(
                Dataset.objects.filter(pk__in=wanted).values("pk", "column_descriptions", "pinned_version_id")
            )
            latest = (
                DatasetVersion.objects.filter(dataset=OuterRef("dataset"))
                .order_by("-number")
                .values("pk")[:1]
            )
            pinned = {r["pinned_version_id"] for r in rows if r["pinned_version_id"]}
            schemas: dict[int, list[dict[str, Any]]] = {}
            latest_of: dict[int, tuple[int, int]] = {}  # dataset id → (number, id) of its latest
            for pk, owner, number, schema in DatasetVersion.objects.filter(
                Q(dataset_id__in=wanted, pk=Subquery(latest)) | Q(pk__in=pinned)
            ).values_list("pk", "dataset_id", "number", "schema"):
                schemas[pk] = schema
                if owner not in latest_of or number > latest_of[owner][0]:
                    latest_of[owner] = (number, pk)
            self._columns = {}
            for row in rows:
                latest_pk = latest_of[row["pk"]][1] if row["pk"] in latest_of else None
                current = row["pinned_version_id"] or latest_pk
                described = row["column_descriptions"] or {}
                self._columns[row["pk"]] = (
                    None
                    if current is None
                    else tuple(
                        ColumnRef(str(c["name"]), str(c.get("type", "")), str(described.get(c["name"], "")))
                        for c in schemas[current]
                    )
                )
        return self._columns.get(dataset_id)

    # -- planning: the rules of ``apply_run_report``, applied in memory ---------------------------

    def plan(self, *, raise_first: bool) -> list[tuple[int, LineageError]]:
        """Apply every report in memory; the reports breaking a rule are left out (or raise)."""
        self._load()
        self.cache: NodeCache = {}
        self.new_jobs: list[LineageJob] = []
        self.new_nodes: list[LineageDataset] = []
        self.new_runs: list[LineageRun] = []
        self.edges: dict[tuple[str, uuid.UUID, str, str], LineageEdge] = {}
        self.changed_edges: dict[int, LineageEdge] = {}
        self._load_edges()
        self.column_edges: list[tuple[str, str, ColumnLineageEdge]] = []  # (job key, output key, row)
        self.replaced: set[tuple[str, str]] = set()  # (job key, output key) whose stored rows go
        errors: list[tuple[int, LineageError]] = []
        for index, (report, plan) in enumerate(zip(self.reports, self.plans, strict=True)):
            try:
                self._check(report, plan)
            except LineageError as exc:
                if raise_first:
                    raise
                errors.append((index, exc))
                self.cache.clear()  # as ``LineageRecorder`` did after a failed report
                self.runs.append(None)
                continue
            self.runs.append(self._apply(report, plan))
        return errors

    def _load_edges(self) -> None:
        pks = {run.pk: run for run in self.run_rows.values()}
        if not pks:
            return
        job_keys = {job.pk: key for key, job in self.jobs.items()}
        node_keys = {node.pk: key for key, node in self.nodes.items()}
        for edge in LineageEdge.objects.filter(project=self.project, run__in=list(pks)):
            if edge.job_id in job_keys and edge.dataset_id in node_keys:
                run_id = pks[edge.run_id].run_id
                key = (job_keys[edge.job_id], run_id, node_keys[edge.dataset_id], edge.direction)
                self.edges[key] = edge

    def _check(self, report: RunReport, plan: _Plan) -> None:
        """Raise what ``apply_run_report`` would raise for ``report``, in the same order."""
        _check_name("job_namespace", report.job.namespace)
        _check_name("job_name", report.job.name)
        job_key = node_key(report.job.namespace, report.job.name)
        run = self.run_rows.get(report.run_id)
        owner = None  # the name of the other job the run belongs to
        if run is not None and report.run_id in self.loaded_runs:
            job = self.jobs.get(job_key)
            if job is None or run.job_id != job.pk:
                owner = self._job_name(run.job_id)
        elif run is not None and self.run_job[report.run_id] != job_key:
            owner = self.jobs[self.run_job[report.run_id]].name
        if owner is not None:
            raise RunConflictError(
                {
                    "run_id": f"Run {report.run_id} belongs to job '{owner}', not "
                    f"'{report.job.name}'; use a new run id."
                }
            )
        for ref in plan.inputs + plan.outputs:
            self._check_ref(ref)
        for step in plan.column_steps:
            if step[0] == "ref":
                self._check_ref(step[1])
            else:
                _check_name(step[1], step[2])

    def _check_ref(self, ref: DatasetRef) -> None:
        if ref in self.cache:
            return
        _check_name("namespace", ref.namespace)
        _check_name("name", ref.name)
        # A node linked to the dataset proves it is one of the project's (see ``upsert_dataset``).
        if (
            ref.dataset_id is not None
            and ref.dataset_id not in self.in_project
            and ref.dataset_id not in self.db_linked
        ):
            raise LineageError(
                {"dataset": f"Dataset {ref.dataset_id} is not in project '{self.project.slug}'."}
            )

    def _apply(self, report: RunReport, plan: _Plan) -> LineageRun:
        job = self._upsert_job(report)
        run = self._upsert_run(report, job)
        links = [(self._upsert_node(ref), EdgeDirection.INPUT) for ref in plan.inputs]
        links += [(self._upsert_node(ref), EdgeDirection.OUTPUT) for ref in plan.outputs]
        facets = [
            *_facets(report.input_facets, len(plan.inputs)),
            *_facets(report.output_facets, len(plan.outputs)),
        ]
        for (node, direction), edge_facets in zip(links, facets, strict=True):
            self._link(job, run, node, direction, edge_facets)
        if report.column_lineage:
            self._replace_column_edges(job, run, plan)
        return run

    def _upsert_job(self, report: RunReport) -> LineageJob:
        spec = report.job
        key = node_key(spec.namespace, spec.name)
        job = self.jobs.get(key)
        if job is None:
            job = LineageJob(
                project=self.project, key=key, namespace=spec.namespace, name=spec.name, kind=spec.kind
            )
            self.jobs[key] = job
            self.new_jobs.append(job)
        for attr in _JOB_FIELDS[:-1]:
            value = getattr(spec, attr)
            if value is not None:
                setattr(job, attr, value)
        job.facets = _merge_facets(job.facets, spec.facets)
        return job

    def _upsert_run(self, report: RunReport, job: LineageJob) -> LineageRun:
        state = report.state
        run = self.run_rows.get(report.run_id)
        if run is None:
            run = LineageRun(project=self.project, job=job, run_id=report.run_id, state=state)
            self.run_rows[report.run_id] = run
            self.run_job[report.run_id] = job.key
            self.new_runs.append(run)
        elif state.is_final or not (RunState(run.state).is_final or state == RunState.OTHER):
            run.state = state  # a late START/RUNNING does not reopen an ended run
        run.started_at = run.started_at or report.started_at
        run.ended_at = report.ended_at or run.ended_at
        if run.last_event_at is None or report.event_time > run.last_event_at:
            run.last_event_at = report.event_time
        run.facets = _merge_facets(run.facets, report.run_facets or {})
        return run

    def _linked_node(self, dataset_id: int) -> LineageDataset | None:
        # ``.first()`` of the nodes linked to the dataset, in the model's order (namespace, name).
        nodes = self.linked.get(dataset_id)
        return min(nodes, key=lambda n: (n.namespace, n.name)) if nodes else None

    def _upsert_node(self, ref: DatasetRef) -> LineageDataset:
        if ref in self.cache:
            return self.cache[ref]
        node = self._linked_node(ref.dataset_id) if ref.dataset_id is not None else None
        if node is not None or ref.dataset_id is not None:
            dataset_id: int | None = ref.dataset_id  # checked by ``_check_ref``
        elif ref.namespace == self.internal:
            dataset_id = self.by_name.get(ref.name)
        else:
            dataset_id = None
        if node is None and dataset_id is not None and ref.dataset_id is None:
            node = self._linked_node(dataset_id)
        if node is None:
            key = node_key(ref.namespace, ref.name)
            node = self.nodes.get(key)
            if node is None:
                node = LineageDataset(project=self.project, key=key, namespace=ref.namespace, name=ref.name)
                self.nodes[key] = node
                self.new_nodes.append(node)
        if dataset_id is not None and node.dataset_id is None:
            node.dataset_id = dataset_id
            self.linked.setdefault(dataset_id, []).append(node)
        if ref.columns is not None:
            node.columns = [c.as_dict() for c in ref.columns]
        elif dataset_id is not None and not node.columns:
            # A producer naming a Modelworks dataset rarely sends its schema: the dataset knows it.
            node.columns = [c.as_dict() for c in self._columns_of(node.dataset_id) or ()]
        if ref.description:
            node.description = ref.description
        if ref.source_name:
            node.source_name = ref.source_name
        if ref.source_uri:
            node.source_uri = ref.source_uri
        node.facets = _merge_facets(node.facets, ref.facets)
        self.cache[ref] = node
        return node

    def _link(
        self, job: LineageJob, run: LineageRun, node: LineageDataset, direction: str, facets: dict[str, Any]
    ) -> None:
        key = (job.key, run.run_id, node.key, str(direction))
        edge = self.edges.get(key)
        if edge is None:
            self.edges[key] = LineageEdge(
                project=self.project, job=job, run=run, dataset=node, direction=direction, facets=facets
            )
        elif facets:
            edge.facets = _merge_facets(edge.facets, facets)
            if edge.pk is not None:
                self.changed_edges[edge.pk] = edge

    def _replace_column_edges(self, job: LineageJob, run: LineageRun, plan: _Plan) -> None:
        nodes: dict[tuple[str, str], LineageDataset] = {}
        for step in plan.column_steps:
            if step[0] == "ref":
                nodes[step[1].identity] = self._upsert_node(step[1])
        # This report's edges replace the job's earlier ones for each output they describe.
        replaced = {(job.key, nodes[output].key) for output, _, _ in plan.column_rows}
        self.column_edges = [row for row in self.column_edges if (row[0], row[1]) not in replaced]
        self.replaced |= replaced
        for output, column, sources in plan.column_rows:
            for identity, source in sources:
                row = ColumnLineageEdge(
                    project=self.project,
                    job=job,
                    run=run,
                    output_dataset=nodes[output],
                    output_column=column,
                    input_dataset=nodes[identity],
                    input_column=source.column,
                    transformation_type=(source.transformation_type or "")[:32].upper(),
                    transformation_subtype=(source.transformation_subtype or "")[:32].upper(),
                    description=source.description or "",
                    masking=bool(source.masking),
                )
                self.column_edges.append((job.key, nodes[output].key, row))

    # -- writing ---------------------------------------------------------------------------------

    def write(self) -> None:
        """Insert what is new, update what changed: a few statements, whatever the reports."""
        now = timezone.now()
        jobs = [
            j
            for k, j in self.jobs.items()
            if k in self.job_before and self._job_state(j) != self.job_before[k]
        ]
        LineageJob.objects.bulk_create(self.new_jobs)
        _bulk_update(LineageJob, jobs, _JOB_FIELDS, now)
        nodes = [
            n
            for k, n in self.nodes.items()
            if k in self.node_before and _node_state(n) != self.node_before[k]
        ]
        LineageDataset.objects.bulk_create(self.new_nodes)
        _bulk_update(LineageDataset, nodes, _NODE_FIELDS, now)
        LineageRun.objects.bulk_create(self.new_runs)
        touched = {id(r): r for r in self.runs if r is not None and r.run_id in self.loaded_runs}
        _bulk_update(LineageRun, list(touched.values()), _RUN_FIELDS, now)
        LineageEdge.objects.bulk_create(
            [e for e in self.edges.values() if e.pk is None], ignore_conflicts=True
        )
        _bulk_update(LineageEdge, list(self.changed_edges.values()), ("facets",), now)
        stored: dict[int, set[int]] = {}
        for job_key, output_key in self.replaced:
            job, node = self.jobs[job_key], self.nodes[output_key]
            if job_key in self.job_before and output_key in self.node_before:
                stored.setdefault(job.pk, set()).add(node.pk)
        if stored:
            condition = Q()
            for job_id, outputs in stored.items():
                condition |= Q(job_id=job_id, output_dataset_id__in=outputs)
            ColumnLineageEdge.objects.filter(condition, project=self.project).delete()
        ColumnLineageEdge.objects.bulk_create([row for _, _, row in self.column_edges])


def _facets(facets: Sequence[dict[str, Any]] | None, count: int) -> list[dict[str, Any]]:
    return [(facets[i] if facets else {}) or {} for i in range(count)]


def _bulk_update(model: Any, objs: list[Any], fields: Sequence[str], now: Any) -> None:
    """Write ``fields`` of rows already stored, in one statement.

    An ``INSERT … ON CONFLICT (id) DO UPDATE`` of the rows as they are: the same result as
    ``bulk_update``, whose ``CASE WHEN id = …`` per field and row cost more CPU to build than the
    rest of a batch.
    """
    if not objs:
        return
    created = [obj.created_at for obj in objs]
    for obj in objs:
        obj.updated_at = now  # what ``save()`` does for ``auto_now``
    model.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=[model._meta.pk.name],
        update_fields=[*fields, "updated_at"],
    )
    for obj, created_at in zip(objs, created, strict=True):
        obj.created_at = created_at  # the insert's ``auto_now_add`` (not written: the row exists)
