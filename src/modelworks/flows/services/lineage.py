"""Lineage of build steps: each step is a run of the catalog job ``recipe/<name>``.

Every step reports to the catalog's lineage store (``record_run``: inputs, outputs, column edges
from the compiled recipe, its SQL), which the catalog's lineage graph shows, and keeps the same
facts as OpenLineage-shaped run events (START, then COMPLETE or FAIL) in the catalog's event log
(``LineageEvent``). Nothing is sent anywhere: the events only live in this instance's database.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import modelworks
from modelworks.catalog.lineage import ColumnEdge, ColumnInput, LineageError, record_run
from modelworks.catalog.models import LineageEvent, internal_namespace
from modelworks.core.models import Project
from modelworks.datasets.models import Dataset

__all__ = ["column_edges", "job_name", "record_step"]

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


def _dataset_payload(dataset: Dataset, project: Project) -> dict[str, Any]:
    version = dataset.latest_version
    fields = [{"name": c["name"], "type": c.get("type", "")} for c in (version.schema if version else [])]
    return {
        "namespace": internal_namespace(project.slug),
        "name": dataset.name,
        "facets": {"schema": {"fields": fields}} if fields else {},
    }


def _event(
    project: Project,
    *,
    state: str,
    recipe_name: str,
    run_id: uuid.UUID,
    event_time: datetime,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset],
    edges: Sequence[ColumnEdge],
    sql: str,
    error: str,
) -> dict[str, Any]:
    job_facets: dict[str, Any] = {
        "jobType": {"processingType": "BATCH", "integration": "MODELWORKS", "jobType": "RECIPE"}
    }
    if sql:
        job_facets["sql"] = {"query": sql, "dialect": "duckdb"}
    run_facets: dict[str, Any] = {}
    if error:
        run_facets["errorMessage"] = {"message": error, "programmingLanguage": "SQL" if sql else "PYTHON"}
    out_payloads = []
    for dataset in outputs:
        payload = _dataset_payload(dataset, project)
        fields = {
            edge.column: {
                "inputFields": [
                    {
                        "namespace": internal_namespace(project.slug),
                        "name": source.dataset.name,
                        "field": source.column,
                        "transformations": [
                            {"type": source.transformation_type, "subtype": source.transformation_subtype}
                        ],
                    }
                    for source in edge.inputs
                ]
            }
            for edge in edges
            if edge.output == dataset
        }
        if fields:
            payload["facets"]["columnLineage"] = {"fields": fields}
        out_payloads.append(payload)
    return {
        "eventType": _EVENT_TYPES[state],
        "eventTime": event_time.isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(run_id), "facets": run_facets},
        "job": {
            "namespace": internal_namespace(project.slug),
            "name": job_name(recipe_name),
            "facets": job_facets,
        },
        "inputs": [_dataset_payload(d, project) for d in inputs],
        "outputs": out_payloads,
    }


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
    """Report one state of a step's run (``running``, ``completed``, ``failed``, ``aborted``).

    Lineage must never fail a build: a problem is logged and the build goes on.
    """
    payload = _event(
        project,
        state=state,
        recipe_name=recipe_name,
        run_id=run_id,
        event_time=event_time,
        inputs=inputs,
        outputs=outputs,
        edges=edges,
        sql=sql,
        error=error,
    )
    try:
        record_run(
            project,
            job_name(recipe_name),
            inputs=list(inputs),
            outputs=list(outputs),
            column_lineage=list(edges),
            run_id=run_id,
            state=state,
            started_at=started_at,
            ended_at=event_time if state != "running" else None,
            description=description or None,
            sql=sql or None,
        )
        LineageEvent.objects.create(
            project=project,
            kind="RunEvent",
            event_type=payload["eventType"],
            event_time=event_time,
            job_namespace=payload["job"]["namespace"],
            job_name=payload["job"]["name"],
            run_id=run_id,
            producer=PRODUCER,
            payload=payload,
        )
    except (LineageError, ValueError) as exc:
        logger.warning("lineage of recipe %r could not be recorded: %s", recipe_name, exc)
