"""Lineage of build steps: each step is a run of the catalog job ``recipe/<name>``.

Every step reports to the catalog's lineage store (``record_run``: inputs, outputs, column edges
from the compiled recipe, its SQL), which the catalog's lineage graph shows, and keeps the same
facts as OpenLineage-shaped run events (START, then COMPLETE or FAIL) in the catalog's event log
(``LineageEvent``). Nothing is sent anywhere: the events only live in this instance's database.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

import modelworks
from modelworks.catalog.lineage import ColumnEdge, ColumnInput, LineageError
from modelworks.catalog.lineage.batch import apply_run_reports
from modelworks.catalog.lineage.refs import ColumnRef, DatasetRef
from modelworks.catalog.lineage.store import RunReport, make_run_report
from modelworks.catalog.models import LineageEvent, internal_namespace
from modelworks.core.models import Project
from modelworks.datasets.models import Dataset, DatasetVersion

__all__ = ["LineageRecorder", "StepReport", "column_edges", "job_name", "record_step", "reports_from_json"]

logger = logging.getLogger("modelworks.flows")

PRODUCER = f"urn:modelworks:flows:{modelworks.__version__}"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_EVENT_TYPES = {"running": "START", "completed": "COMPLETE", "failed": "FAIL", "aborted": "ABORT"}
_SUBTYPES = {
    "identity": ("DIRECT", "IDENTITY"),
    "transformation": ("DIRECT", "TRANSFORMATION"),
    "aggregation": ("DIRECT", "AGGREGATION"),
    "filter": ("INDIRECT", "FILTER"),
}


def job_name(recipe_name: str) -> str:
    """The catalog job of a recipe: ``recipe/<name>``."""
    return f"recipe/{recipe_name}"


def column_edges(
    lineage: Sequence[Any], inputs: Mapping[str, Dataset], outputs: Mapping[str, Dataset]
) -> list[ColumnEdge]:
    """The catalog's column edges from a compiled recipe's ``LineageEdge``s (by dataset name)."""
    grouped: dict[tuple[str, str], list[ColumnInput]] = {}
    for edge in lineage:
        if edge.output not in outputs or edge.input not in inputs:
            continue
        kind, subtype = _SUBTYPES.get(edge.transformation, ("DIRECT", "TRANSFORMATION"))
        grouped.setdefault((edge.output, edge.output_column), []).append(
            ColumnInput(inputs[edge.input], edge.input_column, kind, subtype)
        )
    return [ColumnEdge(outputs[output], column, sources) for (output, column), sources in grouped.items()]


def _dataset_payload(name: str, fields: list[dict[str, Any]], project: Project) -> dict[str, Any]:
    return {
        "namespace": internal_namespace(project.slug),
        "name": name,
        "facets": {"schema": {"fields": fields}} if fields else {},
    }


@dataclass(frozen=True)
class StepReport:
    """One state of a step's run, as :func:`record_step` takes it."""

    recipe_name: str
    run_id: uuid.UUID
    state: str
    event_time: datetime
    inputs: Sequence[Dataset]
    outputs: Sequence[Dataset] = ()
    edges: Sequence[ColumnEdge] = ()
    sql: str = ""
    description: str = ""
    started_at: datetime | None = None
    error: str = ""


@dataclass
class _Known:
    """What a flush knows of each dataset: its name, its current ref, its latest schema."""

    refs: dict[int, DatasetRef] = field(default_factory=dict)
    latest_fields: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


def _known(project: Project, datasets: Iterable[Dataset]) -> _Known:
    """Refs (with the current version's columns, as ``DatasetRef.of``) and the latest versions'
    schemas (for the events) of ``datasets``, in two queries rather than several per dataset."""
    ids = {d.pk for d in datasets}
    found = _Known()
    if not ids:
        return found
    rows = list(
        Dataset.objects.filter(pk__in=ids).values(
            "pk", "name", "description", "column_descriptions", "pinned_version_id"
        )
    )
    latest = DatasetVersion.objects.filter(dataset=OuterRef("dataset")).order_by("-number").values("pk")[:1]
    wanted = {r["pinned_version_id"] for r in rows if r["pinned_version_id"]}
    schemas: dict[int, list[dict[str, Any]]] = {}  # version id → its schema
    latest_of: dict[int, tuple[int, int]] = {}  # dataset id → (number, version id) of its latest
    for pk, dataset_id, number, schema in DatasetVersion.objects.filter(
        Q(dataset_id__in=ids, pk=Subquery(latest)) | Q(pk__in=wanted)
    ).values_list("pk", "dataset_id", "number", "schema"):
        schemas[pk] = schema or []
        if dataset_id not in latest_of or number > latest_of[dataset_id][0]:
            latest_of[dataset_id] = (number, pk)
    namespace = internal_namespace(project.slug)
    for row in rows:
        pk = row["pk"]
        found.names[pk] = row["name"]
        latest_pk = latest_of[pk][1] if pk in latest_of else None
        latest_schema = schemas.get(latest_pk, []) if latest_pk is not None else []
        found.latest_fields[pk] = [{"name": c["name"], "type": c.get("type", "")} for c in latest_schema]
        current = row["pinned_version_id"] or latest_pk
        described = row["column_descriptions"] or {}
        columns = (
            tuple(
                ColumnRef(str(c["name"]), str(c.get("type", "")), str(described.get(c["name"], "")))
                for c in schemas[current]
            )
            if current in schemas
            else None
        )
        found.refs[pk] = DatasetRef(
            namespace=namespace,
            name=row["name"],
            columns=columns,
            description=row["description"],
            dataset_id=pk,
        )
    return found


def _event(project: Project, report: StepReport, known: _Known) -> dict[str, Any]:
    job_facets: dict[str, Any] = {
        "jobType": {"processingType": "BATCH", "integration": "MODELWORKS", "jobType": "RECIPE"}
    }
    if report.sql:
        job_facets["sql"] = {"query": report.sql, "dialect": "duckdb"}
    run_facets: dict[str, Any] = {}
    if report.error:
        run_facets["errorMessage"] = {
            "message": report.error,
            "programmingLanguage": "SQL" if report.sql else "PYTHON",
        }

    def payload(dataset: Dataset) -> dict[str, Any]:
        name = known.names.get(dataset.pk, dataset.name)
        return _dataset_payload(name, known.latest_fields.get(dataset.pk, []), project)

    out_payloads = []
    for dataset in report.outputs:
        described = payload(dataset)
        fields = {
            edge.column: {
                "inputFields": [
                    {
                        "namespace": internal_namespace(project.slug),
                        "name": known.names.get(source.dataset.pk, source.dataset.name),
                        "field": source.column,
                        "transformations": [
                            {"type": source.transformation_type, "subtype": source.transformation_subtype}
                        ],
                    }
                    for source in edge.inputs
                ]
            }
            for edge in report.edges
            if edge.output == dataset
        }
        if fields:
            described["facets"]["columnLineage"] = {"fields": fields}
        out_payloads.append(described)
    return {
        "eventType": _EVENT_TYPES[report.state],
        "eventTime": report.event_time.isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(report.run_id), "facets": run_facets},
        "job": {
            "namespace": internal_namespace(project.slug),
            "name": job_name(report.recipe_name),
            "facets": job_facets,
        },
        "inputs": [payload(d) for d in report.inputs],
        "outputs": out_payloads,
    }


class LineageRecorder:
    """Collects the lineage of a build's steps and writes it in one transaction when asked.

    A build reports each step's run as it goes (:meth:`add`: ``running`` when it starts, then
    ``completed``, ``failed`` or ``aborted``) and calls :meth:`flush` when its thread would otherwise
    wait for a step to finish, and at the end: the writes never hold up the next step. A run whose
    start and end are flushed together is stored once, in its final state (the catalog keeps the
    same facts as with two reports); each report still becomes its own OpenLineage event, in order.
    Lineage must never fail a build: a problem is logged and the build goes on.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self.pending: list[StepReport] = []

    def add(self, **report: Any) -> None:
        """Queue one report (the arguments of :class:`StepReport`)."""
        self.pending.append(StepReport(**report))

    def flush(self) -> None:
        """Write every queued report (job thread)."""
        reports, self.pending = self.pending, []
        if not reports:
            return
        try:
            self.write(reports)
        except Exception:
            logger.exception("the lineage of %d build step report(s) could not be recorded", len(reports))

    def take(self) -> list[dict[str, Any]]:
        """Every queued report as JSON (for :func:`reports_from_json`), and none queued any more.

        A build hands what is left at its end to a ``flows.lineage`` job: its own time ends when
        its versions are committed, and the lineage follows within a moment.
        """
        reports, self.pending = self.pending, []
        return [_report_json(r) for r in reports]

    def write(self, reports: Sequence[StepReport]) -> None:
        """Write ``reports`` now, in one transaction; errors are raised (``flush`` logs them)."""
        project = self.project
        datasets: dict[int, Dataset] = {}
        for report in reports:
            for dataset in (*report.inputs, *report.outputs):
                datasets[dataset.pk] = dataset
            for edge in report.edges:
                datasets[edge.output.pk] = edge.output
                for source in edge.inputs:
                    datasets[source.dataset.pk] = source.dataset
        known = _known(project, datasets.values())
        by_run: dict[uuid.UUID, list[StepReport]] = {}
        for report in reports:
            by_run.setdefault(report.run_id, []).append(report)
        runs: list[RunReport] = []
        recipes: list[str] = []
        for run_id, states in by_run.items():
            last = states[-1]
            try:
                runs.append(
                    make_run_report(
                        project,
                        job_name(last.recipe_name),
                        inputs=[self._ref(d, known) for d in last.inputs],
                        outputs=[self._ref(d, known) for d in last.outputs],
                        column_lineage=[self._edge(e, known) for e in last.edges],
                        run_id=run_id,
                        state=last.state,
                        started_at=states[0].started_at or last.started_at,
                        ended_at=last.event_time if last.state != "running" else None,
                        description=last.description or None,
                        sql=last.sql or None,
                    )
                )
            except (LineageError, ValueError) as exc:
                logger.warning("lineage of recipe %r could not be recorded: %s", last.recipe_name, exc)
                continue
            recipes.append(last.recipe_name)

        def skipped(index: int, report: RunReport, exc: Exception) -> None:
            logger.warning("lineage of recipe %r could not be recorded: %s", recipes[index], exc)

        with transaction.atomic():
            # Every run in one batch: a few queries whatever the number of steps and datasets.
            stored = apply_run_reports(project, runs, on_error=skipped)
            recorded = {report.run_id for report, run in zip(runs, stored, strict=True) if run is not None}
            events = []
            for report in reports:
                if report.run_id not in recorded:
                    continue
                payload = _event(project, report, known)
                events.append(
                    LineageEvent(
                        project=project,
                        kind="RunEvent",
                        event_type=payload["eventType"],
                        event_time=report.event_time,
                        job_namespace=payload["job"]["namespace"],
                        job_name=payload["job"]["name"],
                        run_id=report.run_id,
                        producer=PRODUCER,
                        payload=payload,
                    )
                )
            LineageEvent.objects.bulk_create(events)

    @staticmethod
    def _ref(dataset: Dataset, known: _Known) -> DatasetRef | Dataset:
        return known.refs.get(dataset.pk, dataset)

    def _edge(self, edge: ColumnEdge, known: _Known) -> ColumnEdge:
        return ColumnEdge(
            self._ref(edge.output, known),
            edge.column,
            [replace(source, dataset=self._ref(source.dataset, known)) for source in edge.inputs],
        )


def _report_json(report: StepReport) -> dict[str, Any]:
    return {
        "recipe": report.recipe_name,
        "run_id": str(report.run_id),
        "state": report.state,
        "event_time": report.event_time.isoformat(),
        "started_at": report.started_at.isoformat() if report.started_at else None,
        "inputs": [d.pk for d in report.inputs],
        "outputs": [d.pk for d in report.outputs],
        "edges": [
            [
                edge.output.pk,
                edge.column,
                [
                    [
                        s.dataset.pk,
                        s.column,
                        s.transformation_type,
                        s.transformation_subtype,
                        s.description,
                        s.masking,
                    ]
                    for s in edge.inputs
                ],
            ]
            for edge in report.edges
        ],
        "sql": report.sql,
        "description": report.description,
        "error": report.error,
    }


def reports_from_json(project: Project, payload: Sequence[Mapping[str, Any]]) -> list[StepReport]:
    """The reports :meth:`LineageRecorder.take` gave, with their datasets read in one query.

    A dataset deleted since the build is left out of the reports (its lineage went with it).

    Raises:
        ValueError: ``payload`` is not what ``take`` writes.
    """
    ids: set[int] = set()
    for item in payload:
        ids.update(item["inputs"], item["outputs"])
        for output, _column, sources in item["edges"]:
            ids.add(output)
            ids.update(source[0] for source in sources)
    found = Dataset.objects.filter(project=project, pk__in=ids).in_bulk()
    reports = []
    for item in payload:
        edges = []
        for output, column, sources in item["edges"]:
            inputs = [
                ColumnInput(found[pk], str(name), str(kind), str(subtype), str(described), bool(masking))
                for pk, name, kind, subtype, described, masking in sources
                if pk in found
            ]
            if output in found and inputs:
                edges.append(ColumnEdge(found[output], str(column), inputs))
        reports.append(
            StepReport(
                recipe_name=str(item["recipe"]),
                run_id=uuid.UUID(str(item["run_id"])),
                state=str(item["state"]),
                event_time=datetime.fromisoformat(item["event_time"]),
                started_at=datetime.fromisoformat(item["started_at"]) if item["started_at"] else None,
                inputs=[found[pk] for pk in item["inputs"] if pk in found],
                outputs=[found[pk] for pk in item["outputs"] if pk in found],
                edges=edges,
                sql=str(item["sql"]),
                description=str(item["description"]),
                error=str(item["error"]),
            )
        )
    return reports


def record_step(
    project: Project,
    *,
    recipe_name: str,
    run_id: uuid.UUID,
    state: str,
    event_time: datetime,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset] = (),
    edges: Sequence[ColumnEdge] = (),
    sql: str = "",
    description: str = "",
    started_at: datetime | None = None,
    error: str = "",
) -> None:
    """Report one state of a step's run (``running``, ``completed``, ``failed``, ``aborted``) now.

    Lineage must never fail a build: a problem is logged and the build goes on. A build queues its
    reports on a :class:`LineageRecorder` instead.
    """
    recorder = LineageRecorder(project)
    recorder.add(
        recipe_name=recipe_name,
        run_id=run_id,
        state=state,
        event_time=event_time,
        inputs=inputs,
        outputs=outputs,
        edges=edges,
        sql=sql,
        description=description,
        started_at=started_at,
        error=error,
    )
    recorder.flush()
