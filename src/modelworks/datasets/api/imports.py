"""Bringing data in through the API: upload a file (multipart), import from a connection, import
again with other column types. Each answers 202 with the import job to follow."""

# No ``from __future__ import annotations``: ninja reads ``File``/``Form`` parameters at runtime.

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from modelworks.connections.models import Connection
from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.core.schemas import JobOut
from modelworks.datasets import services
from modelworks.datasets.api.common import get_dataset, get_version
from modelworks.datasets.forms import default_name
from modelworks.datasets.models import Dataset
from modelworks.datasets.schemas import ConnectionImportIn, ReimportIn
from modelworks.datasets.storage import upload_path
from modelworks.datasets.uploads import keep_upload, too_large_response, upload_too_large

router = Router(tags=["datasets"])


def _target(project: Any, dataset_id: int | None) -> Dataset | None:
    if dataset_id is None:
        return None
    dataset = Dataset.objects.filter(project=project, pk=dataset_id).first()
    if dataset is None:
        raise ValidationError({"dataset_id": f"No dataset {dataset_id} in this project."})
    return dataset


@router.post(
    "/projects/{slug}/datasets/upload",
    response=responses({202: JobOut}, 403, 404, 413, 422),
    operation_id="datasets_upload",
    summary="Upload a file",
)
def datasets_upload(
    request: HttpRequest,
    slug: str,
    file: UploadedFile | None = File(None, description="The file (multipart field 'file')."),  # noqa: B008
    name: str | None = Form(None, description="Name of a new dataset (default: the file name)."),
    dataset_id: int | None = Form(None, description="Add a version to this dataset instead."),
    description: str = Form("", description="Description of a new dataset."),
    options: str = Form(
        "{}", description='Import options as JSON, e.g. {"delimiter": ";", "types": {"age": "integer"}}.'
    ),
) -> Any:
    """Upload a CSV, TSV, Parquet, Excel or JSON Lines file (contributors). It streams to disk; a file
    over the instance's limit is refused with 413. Answers 202 with the import job; its result names
    the dataset and version once it has succeeded."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    if upload_too_large(request):
        return too_large_response(request)
    if file is None:
        raise ValidationError({"file": "Send the file as the multipart form field 'file'."})
    try:
        parsed = json.loads(options or "{}")
    except json.JSONDecodeError as exc:
        raise ValidationError({"options": f"options must be a JSON object: {exc.msg}."}) from exc
    if not isinstance(parsed, dict):
        raise ValidationError({"options": "options must be a JSON object."})
    dataset = _target(project, dataset_id)
    upload_id = keep_upload(file)
    try:
        job = services.submit_upload_import(
            actor=request.user,
            project=project,
            upload_id=upload_id,
            file_name=file.name or "upload",
            dataset=dataset,
            name=None if dataset else (name or default_name(file.name or "")),
            description=description,
            options=parsed,
            request=request,
        )
    except BaseException:
        upload_path(upload_id).unlink(missing_ok=True)
        raise
    return Status(202, job)


@router.post(
    "/projects/{slug}/datasets/import",
    response=responses({202: JobOut}, 403, 404, 422),
    operation_id="datasets_import",
    summary="Import from a connection",
)
def datasets_import(request: HttpRequest, slug: str, payload: ConnectionImportIn) -> Status:
    """Import a table or SQL query (PostgreSQL) or a file (S3) into a new dataset or a new version
    (contributors). With ``keep_in_database`` (PostgreSQL tables), the version stays linked to the table
    so recipes can run inside the database. Answers 202 with the import job."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    connection = Connection.objects.usable_in(project).filter(pk=payload.connection_id).first()
    if connection is None:
        raise ValidationError(
            {"connection_id": f"No connection {payload.connection_id} usable in this project."}
        )
    job = services.submit_connection_import(
        actor=request.user,
        project=project,
        connection=connection,
        table=payload.table,
        query=payload.query,
        path=payload.path,
        dataset=_target(project, payload.dataset_id),
        name=payload.name,
        description=payload.description,
        options=payload.options.dict(exclude_none=True),
        keep_in_database=payload.keep_in_database,
        request=request,
    )
    return Status(202, job)


@router.post(
    "/projects/{slug}/datasets/{dataset_id}/reimport",
    response=responses({202: JobOut}, 403, 404, 422),
    operation_id="datasets_reimport",
    summary="Import again with other column types",
)
def datasets_reimport(request: HttpRequest, slug: str, dataset_id: int, payload: ReimportIn) -> Status:
    """Read the source of a version again with the given column types, as a new version (contributors)."""
    _, dataset = get_dataset(request.user, slug, dataset_id, Role.CONTRIBUTOR)
    version = get_version(dataset, payload.version)
    job = services.submit_reimport(
        actor=request.user, dataset=dataset, version=version, types=payload.types, request=request
    )
    return Status(202, job)
