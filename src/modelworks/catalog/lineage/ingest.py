"""OpenLineage ingestion: read the request body safely, validate the event, file it under a project.

Which project an event belongs to (documented in the API description and the user guide):

1. the header ``X-Modelworks-Project: <project short name>``, when sent; otherwise
2. for run and job events, the **job namespace**, which must be the short name of the project
   (``OPENLINEAGE_NAMESPACE=flight-delays`` for most integrations); otherwise
3. for a dataset event, a dataset namespace ``modelworks://<project short name>``.

The caller must be a contributor of that project. A project that does not exist and one the caller
cannot see both answer 404, so names of other projects do not leak.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja.errors import HttpError
from pydantic import ValidationError as PydanticValidationError

from modelworks.catalog.lineage.events import DatasetEvent, JobEvent, OLDataset, RunEvent, event_kind
from modelworks.catalog.lineage.refs import ColumnEdge, ColumnInput, ColumnRef, DatasetRef
from modelworks.catalog.lineage.store import JobSpec, RunReport, apply_run_report, record_dataset, record_job
from modelworks.catalog.models import INTERNAL_NAMESPACE_PREFIX, JobKind, LineageEvent, RunState
from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project

__all__ = ["PROJECT_HEADER", "ingest", "max_event_bytes", "parse_event", "read_event_body", "resolve_project"]

PROJECT_HEADER = "X-Modelworks-Project"
DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024
_STATES = {
    "START": RunState.RUNNING,
    "RUNNING": RunState.RUNNING,
    "COMPLETE": RunState.COMPLETED,
    "FAIL": RunState.FAILED,
    "ABORT": RunState.ABORTED,
    "OTHER": RunState.OTHER,
    None: RunState.OTHER,
}

Event = RunEvent | JobEvent | DatasetEvent


def max_event_bytes() -> int:
    """The largest event accepted, compressed or not (setting ``MODELWORKS_LINEAGE_MAX_EVENT_BYTES``)."""
    return int(getattr(settings, "MODELWORKS_LINEAGE_MAX_EVENT_BYTES", DEFAULT_MAX_EVENT_BYTES))


def _too_large(limit: int, what: str) -> HttpError:
    return HttpError(
        413,
        f"The {what} is larger than {limit:,} bytes, the most this server accepts for one lineage event. "
        "Send smaller events (fewer datasets or facets per event).",
    )


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip ``data`` without ever holding more than ``limit + 1`` bytes (gzip bombs)."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise HttpError(
                400, f"The body is not valid gzip ({exc}); compress it with gzip or drop Content-Encoding."
            ) from exc
        if len(out) > limit:
            raise _too_large(limit, "decompressed body")
        if inflater.unconsumed_tail:
            raise _too_large(limit, "decompressed body")
        if not inflater.eof:
            raise HttpError(400, "The gzip body ends early; send the whole compressed event.")
        data = inflater.unused_data  # a further gzip member, if any
    return bytes(out)


def read_event_body(request: HttpRequest) -> bytes:
    """The event's JSON bytes: size-capped before and after decompression.

    Raises:
        HttpError: 413 over the cap, 415 for an encoding other than gzip, 400 for broken gzip.
    """
    limit = max_event_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_large(limit, "request body")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(limit, "request body")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return _gunzip(raw, limit)
    if encoding not in ("", "identity"):
        raise HttpError(
            415, f"Content-Encoding '{encoding[:40]}' is not supported; send gzip or no encoding."
        )
    return raw


def _location(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as the event's field path, e.g. ``inputs[0].facets.schema``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "__all__"


def parse_event(body: bytes) -> tuple[Event, dict[str, Any]]:
    """The validated event and its raw JSON object.

    Raises:
        HttpError: 400 when the body is not JSON or nests too deeply to be read.
        ValidationError: 422, with one message per field of the event that is wrong.
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpError(
            400, f"The body is not valid JSON ({exc}); send one OpenLineage event as JSON."
        ) from exc
    except RecursionError as exc:  # json.loads gives up on deeply nested bodies; not a server fault
        raise HttpError(
            400, "The body nests objects or lists too deeply to be read; send one OpenLineage event as JSON."
        ) from exc
    if not isinstance(payload, dict):
        raise ValidationError(
            {"__all__": "Send one OpenLineage event: a JSON object, not a list or a value."}
        )
    kind = event_kind(payload)
    if kind is None:
        raise ValidationError(
            {
                "__all__": "Not an OpenLineage event: a RunEvent has 'run' and 'job', a JobEvent 'job', a DatasetEvent 'dataset'."
            }
        )
    try:
        return kind.model_validate(payload), payload
    except PydanticValidationError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            fields.setdefault(_location(error["loc"]), []).append(f"{error['msg']} ({kind.__name__})")
        raise ValidationError(fields) from None


def resolve_project(user: Any, event: Event, header: str | None) -> Project:
    """The project the event is filed under (see the module docstring); the caller must contribute to it."""
    if header and header.strip():
        slug, source = header.strip(), f"the {PROJECT_HEADER} header"
    elif isinstance(event, RunEvent | JobEvent):
        slug, source = event.job.namespace, "the job namespace"
        if slug.startswith(INTERNAL_NAMESPACE_PREFIX):
            raise ValidationError(
                {
                    "job.namespace": f"Namespaces starting with '{INTERNAL_NAMESPACE_PREFIX}' are Modelworks' own; "
                    "use the project's short name as the job namespace."
                }
            )
    elif event.dataset.namespace.startswith(INTERNAL_NAMESPACE_PREFIX):
        slug, source = (
            event.dataset.namespace.removeprefix(INTERNAL_NAMESPACE_PREFIX),
            "the dataset namespace",
        )
    else:
        raise ValidationError(
            {
                "dataset.namespace": f"A DatasetEvent about an external dataset names no project: send the header "
                f"'{PROJECT_HEADER}: <project short name>'."
            }
        )
    try:
        project, _ = get_project(user, slug, Role.CONTRIBUTOR)
    except Http404:
        raise Http404(
            f"No project '{slug[:100]}' that you can see ({source}). Lineage events are filed under the project "
            "whose short name is the job namespace: set your producer's namespace (e.g. OPENLINEAGE_NAMESPACE) "
            f"to the short name of a project you contribute to, or send the header '{PROJECT_HEADER}'."
        ) from None
    return project


def _dataset_ref(dataset: OLDataset, raw: dict[str, Any]) -> DatasetRef:
    facets = dataset.facets
    columns = None
    if facets.schema_ is not None:
        columns = tuple(
            ColumnRef(f.name, f.type or "", f.description or "") for f in facets.schema_.fields or []
        )
    return DatasetRef(
        namespace=dataset.namespace,
        name=dataset.name,
        columns=columns,
        description=facets.documentation.description if facets.documentation else "",
        source_name=(facets.dataSource.name or "") if facets.dataSource else "",
        source_uri=(facets.dataSource.uri or "") if facets.dataSource else "",
        facets=dict(raw.get("facets") or {}),
    )


def _column_edges(dataset: OLDataset, ref: DatasetRef) -> list[ColumnEdge]:
    facet = dataset.facets.columnLineage
    if facet is None:
        return []
    edges = []
    for column, spec in facet.fields.items():
        inputs = []
        for source in spec.inputFields:
            source_ref = DatasetRef(namespace=source.namespace, name=source.name)
            # Before spec 1-1 the transformation was given once per output column.
            for t in source.transformations or [None]:
                inputs.append(
                    ColumnInput(
                        dataset=source_ref,
                        column=source.field,
                        transformation_type=t.type if t else (spec.transformationType or ""),
                        transformation_subtype=(t.subtype or "") if t else "",
                        description=(t.description if t else None) or spec.transformationDescription or "",
                        masking=bool(t.masking) if t else False,
                    )
                )
        edges.append(ColumnEdge(output=ref, column=column, inputs=inputs))
    return edges


def _job_spec(event: RunEvent | JobEvent, raw: dict[str, Any]) -> JobSpec:
    facets = event.job.facets
    job_type = None
    if facets.jobType is not None:
        parts = (facets.jobType.processingType, facets.jobType.integration, facets.jobType.jobType)
        job_type = " · ".join(p for p in parts if p)
    return JobSpec(
        namespace=event.job.namespace,
        name=event.job.name,
        kind=JobKind.OPENLINEAGE,
        description=facets.documentation.description if facets.documentation else None,
        sql=facets.sql.query if facets.sql else None,
        sql_dialect=(facets.sql.dialect or "") if facets.sql else None,
        job_type=job_type,
        facets=dict((raw.get("job") or {}).get("facets") or {}),
    )


def _refs(datasets: list[OLDataset], raws: list[dict[str, Any]]) -> list[DatasetRef]:
    return [_dataset_ref(d, r) for d, r in zip(datasets, raws, strict=True)]


@transaction.atomic
def ingest(project: Project, event: Event, payload: dict[str, Any], *, user: Any) -> LineageEvent:
    """Apply ``event`` to the project's lineage and keep it as received."""
    inputs = _refs(getattr(event, "inputs", []), payload.get("inputs") or [])
    outputs = _refs(getattr(event, "outputs", []), payload.get("outputs") or [])
    out_models = getattr(event, "outputs", [])
    columns = [edge for d, ref in zip(out_models, outputs, strict=True) for edge in _column_edges(d, ref)]
    if isinstance(event, RunEvent):
        state = _STATES[event.eventType]
        report = RunReport(
            job=_job_spec(event, payload),
            run_id=event.run.runId,
            state=state,
            event_time=event.eventTime,
            started_at=event.eventTime if event.eventType == "START" else None,
            ended_at=event.eventTime if state.is_final else None,
            inputs=inputs,
            outputs=outputs,
            column_lineage=columns,
            run_facets=dict(payload["run"].get("facets") or {}),
            input_facets=[d.inputFacets for d in event.inputs],
            output_facets=[d.outputFacets for d in event.outputs],
        )
        apply_run_report(project, report)
    elif isinstance(event, JobEvent):
        record_job(project, _job_spec(event, payload), inputs=inputs, outputs=outputs, column_lineage=columns)
    else:
        ref = _dataset_ref(event.dataset, payload["dataset"])
        record_dataset(project, ref, column_lineage=_column_edges(event.dataset, ref))
    job = getattr(event, "job", None)
    run = getattr(event, "run", None)
    return LineageEvent.objects.create(
        project=project,
        kind=type(event).__name__,
        event_type=getattr(event, "eventType", None) or "",
        event_time=event.eventTime,
        job_namespace=job.namespace if job else "",
        job_name=job.name if job else "",
        run_id=run.runId if run else None,
        producer=event.producer,
        received_by=user if getattr(user, "is_authenticated", False) else None,
        payload=payload,
    )
