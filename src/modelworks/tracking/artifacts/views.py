"""The ``mlflow-artifacts`` protocol: download, upload, list, delete, and proxied multipart uploads.

Request and response shapes are those of MLflow's own server (``mlflow/server/handlers.py``), as the
unmodified client (``HttpArtifactRepository``) sends and reads them:

===========================================  ===================================================
``GET    artifacts/<path>``                  the file, as an attachment (reader)
``PUT    artifacts/<path>``                  the request body becomes the file (contributor)
``DELETE artifacts/<path>``                  a file or a whole folder (contributor)
``GET    artifacts?path=<folder>``           ``{"files": [{"path", "is_dir", "file_size"}]}`` (reader)
``POST   mpu/create/<folder>``               ``{"upload_id", "credentials": [{"url", "part_number", "headers"}]}``
``PUT    mpu/part/<upload_id>/<n>``          one part, authorised by its token (see ``multipart``)
``POST   mpu/complete/<folder>``             assembles the parts into ``<folder>/<file name>``
``POST   mpu/abort/<folder>``                drops the staged parts
===========================================  ===================================================

Every path goes through :func:`~.services.resolve_artifact` (validated names, experiment of the
project, run or logged model of the experiment) before the store sees it.
"""

from __future__ import annotations

import mimetypes
import uuid
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from modelworks.core.audit import record
from modelworks.core.models import Project, Role
from modelworks.tracking.artifacts.multipart import (
    MAX_PARTS,
    TOKEN_HEADER,
    PartTokenError,
    issue_part_token,
    read_part_token,
)
from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError, check_segment
from modelworks.tracking.artifacts.services import (
    ArtifactTarget,
    artifact_store,
    max_artifact_bytes,
    resolve_artifact,
)
from modelworks.tracking.artifacts.storage import (
    ArtifactIsDirectoryError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    ArtifactTooLargeError,
    ArtifactWriteError,
    UploadNotFoundError,
)
from modelworks.tracking.protocol import MlflowCall, MlflowError, mlflow_endpoint

__all__ = [
    "abort_multipart_upload",
    "artifact_file",
    "complete_multipart_upload",
    "create_multipart_upload",
    "list_artifacts",
    "upload_part",
]

# Types a browser would run or render as a page: always served as opaque bytes.
_ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "text/xsl",
    "application/pdf",
}
_DOWNLOAD_CSP = "default-src 'none'; sandbox"


def _content_type(name: str) -> str:
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None or guessed in _ACTIVE_TYPES:
        return "application/octet-stream"
    return guessed


def _store_error(exc: ArtifactStoreError, target: ArtifactTarget) -> MlflowError:
    if isinstance(exc, ArtifactNotFoundError):
        return MlflowError("RESOURCE_DOES_NOT_EXIST", f"No artifact '{target.label}'.")
    if isinstance(exc, ArtifactTooLargeError):
        return MlflowError("RESOURCE_LIMIT_EXCEEDED", str(exc), status=413)
    if isinstance(exc, UploadNotFoundError):
        return MlflowError("RESOURCE_DOES_NOT_EXIST", str(exc))
    if isinstance(exc, ArtifactWriteError):
        return MlflowError("INTERNAL_ERROR", str(exc))
    return MlflowError("INVALID_PARAMETER_VALUE", str(exc))


def _announced_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META["CONTENT_LENGTH"])
    except (KeyError, ValueError):
        return None


def _body_length(request: HttpRequest, limit: int, what: str) -> int:
    """The announced length of an upload's body, refused when missing or over ``limit``.

    Django reads exactly ``Content-Length`` bytes of a body (a chunked body without it would look
    empty), and comparing what arrived with what was announced catches a client that went away.
    """
    announced = _announced_length(request)
    if announced is None or announced < 0:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"{what} was sent without a Content-Length header; send the file with its length.",
            status=411,
        )
    if announced > limit:
        from modelworks.engine.errors import human_bytes

        raise MlflowError(
            "RESOURCE_LIMIT_EXCEEDED",
            f"{what} ({human_bytes(announced)}) is larger than this instance's limit of {human_bytes(limit)}. "
            "Ask an administrator to raise MODELWORKS_MAX_ARTIFACT_BYTES.",
            status=413,
        )
    return announced


@mlflow_endpoint(Role.READER, methods=("GET", "PUT", "DELETE"), parse_body=False)
def artifact_file(call: MlflowCall, artifact_path: str) -> HttpResponseBase | dict[str, Any]:
    """``GET``/``PUT``/``DELETE <prefix>/artifacts/<path>``: download, upload, delete."""
    method = call.request.method
    if method != "GET":
        call.require_write()
    target = resolve_artifact(call.project, artifact_path, write=method != "GET")
    if method == "GET":
        return _download(target)
    if not target.relative and method == "PUT":
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", f"'{target.label}' is the artifact folder; name a file in it."
        )
    if method == "PUT":
        return _upload(call, target)
    return _delete(call, target)


def _download(target: ArtifactTarget) -> FileResponse:
    try:
        stream, _size = artifact_store().open(target.key)
    except ArtifactIsDirectoryError as exc:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", f"Artifact path refers to a folder, not a file: '{target.label}'."
        ) from exc
    except ArtifactStoreError as exc:
        raise _store_error(exc, target) from exc
    name = target.key[-1]
    response = FileResponse(stream, as_attachment=True, filename=name, content_type=_content_type(name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = _DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-cache"
    return response


def _upload(call: MlflowCall, target: ArtifactTarget) -> dict[str, Any]:
    limit = max_artifact_bytes()
    length = _body_length(call.request, limit, f"The artifact '{target.key[-1]}'")
    try:
        artifact_store().save_stream(target.key, call.request, max_bytes=limit, expected_bytes=length)  # type: ignore[arg-type]
    except ArtifactIsDirectoryError as exc:
        raise MlflowError("INVALID_PARAMETER_VALUE", str(exc)) from exc
    except ArtifactStoreError as exc:
        raise _store_error(exc, target) from exc
    return {}


def _delete(call: MlflowCall, target: ArtifactTarget) -> dict[str, Any]:
    try:
        deleted = artifact_store().delete(target.key)
    except ArtifactStoreError as exc:
        raise _store_error(exc, target) from exc
    if deleted:
        record(
            "artifact.deleted",
            actor=call.user,
            project=call.project,
            target=target.run or target.experiment,
            details={"path": target.label},
            request=call.request,
        )
    return {}


# -- listing ---------------------------------------------------------------------------------------
@mlflow_endpoint(Role.READER)
def list_artifacts(call: MlflowCall) -> dict[str, Any]:
    """``GET <prefix>/artifacts?path=<folder>``: the files and folders directly inside it."""
    path = call.get("path")
    if not isinstance(path, str) or not path:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            "Give the folder to list as ?path=<experiment_id>/<run_id>/artifacts[/<folder>].",
        )
    target = resolve_artifact(call.project, path, write=False)
    try:
        entries = artifact_store().list(target.key)
    except ArtifactStoreError as exc:
        raise _store_error(exc, target) from exc
    files = []
    for entry in entries:
        item: dict[str, Any] = {"path": entry.name, "is_dir": entry.is_dir}
        if not entry.is_dir:
            item["file_size"] = entry.size
        files.append(item)
    return {"files": files}


# -- multipart uploads -----------------------------------------------------------------------------
def _file_name(client_path: Any) -> str:
    """The artifact's name: the last part of the client's local file path (``/`` or ``\\`` separated)."""
    if not isinstance(client_path, str) or not client_path:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'path'.")
    name = client_path.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return check_segment(name)
    except UnsafeArtifactPathError as exc:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"The file name is not usable: {exc}") from exc


def _destination(call: MlflowCall, artifact_path: str) -> ArtifactTarget:
    folder = resolve_artifact(call.project, artifact_path, write=True)
    name = _file_name(call.get("path"))
    return resolve_artifact(call.project, f"{folder.label}/{name}", write=True)


def _upload_id(call: MlflowCall) -> str:
    upload_id = call.get("upload_id")
    if not isinstance(upload_id, str) or not upload_id:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'upload_id'.")
    return upload_id


def _check_upload(call: MlflowCall, upload_id: str, target: ArtifactTarget) -> dict[str, Any]:
    try:
        meta = artifact_store().upload_meta(upload_id)
    except UploadNotFoundError as exc:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", str(exc)) from exc
    if meta.get("project") != call.project.pk:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"No multipart upload '{upload_id}' in this project.")
    if meta.get("key") != list(target.key):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"Upload '{upload_id}' was created for '{'/'.join(meta.get('key', []))}', not '{target.label}'.",
        )
    return meta


@mlflow_endpoint(Role.CONTRIBUTOR, methods=("POST",))
def create_multipart_upload(call: MlflowCall, artifact_path: str) -> dict[str, Any]:
    """``POST <prefix>/mpu/create/<folder>`` with ``{"path": <local file>, "num_parts": n}``."""
    target = _destination(call, artifact_path)
    try:
        num_parts = int(call.get("num_parts", 1))
    except (TypeError, ValueError) as exc:
        raise MlflowError("INVALID_PARAMETER_VALUE", "'num_parts' must be a whole number.") from exc
    if not 1 <= num_parts <= MAX_PARTS:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"'num_parts' is {num_parts}; it must be between 1 and {MAX_PARTS}. "
            "Raise MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE for very large files.",
        )
    upload_id = uuid.uuid4().hex
    artifact_store().begin_upload(
        upload_id,
        {"project": call.project.pk, "key": list(target.key), "num_parts": num_parts, "user": call.user.pk},
    )
    path = call.request.path
    base = path[: path.rindex("/mpu/create/")]
    credentials = [
        {
            "url": call.request.build_absolute_uri(f"{base}/mpu/part/{upload_id}/{number}"),
            "part_number": number,
            "headers": {TOKEN_HEADER: issue_part_token(upload_id, number)},
        }
        for number in range(1, num_parts + 1)
    ]
    return {"upload_id": upload_id, "credentials": credentials}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=("POST",))
def complete_multipart_upload(call: MlflowCall, artifact_path: str) -> dict[str, Any]:
    """``POST <prefix>/mpu/complete/<folder>`` with ``{"path", "upload_id", "parts": [{part_number, etag}]}``."""
    target = _destination(call, artifact_path)
    upload_id = _upload_id(call)
    meta = _check_upload(call, upload_id, target)
    parts = call.get("parts")
    if not isinstance(parts, list) or not parts:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'parts'.")
    store = artifact_store()
    staged = store.staged_parts(upload_id)
    numbers: list[int] = []
    for part in parts:
        number = part.get("part_number") if isinstance(part, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or number in numbers:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE", f"Each part needs a distinct whole 'part_number'; got {part!r}."
            )
        if number not in staged:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"Part {number} of upload '{upload_id}' was never uploaded; upload it before completing.",
            )
        etag = str(part.get("etag") or "").strip('"')
        if etag and etag != staged[number][1]:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE", f"Part {number} has ETag {etag!r}, not what was uploaded."
            )
        numbers.append(number)
    if numbers != sorted(numbers) or numbers != list(range(1, len(numbers) + 1)):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", f"The parts must be numbered 1 to {meta.get('num_parts')} in order."
        )
    total = sum(staged[n][0] for n in numbers)
    if total > max_artifact_bytes():
        store.discard_upload(upload_id)
        raise _store_error(
            ArtifactTooLargeError(f"'{target.key[-1]}' is too large.", limit=max_artifact_bytes()), target
        )
    try:
        store.assemble(upload_id, numbers, target.key)
    except ArtifactStoreError as exc:
        raise _store_error(exc, target) from exc
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=("POST",))
def abort_multipart_upload(call: MlflowCall, artifact_path: str) -> dict[str, Any]:
    """``POST <prefix>/mpu/abort/<folder>`` with ``{"path", "upload_id"}``: drops the staged parts."""
    target = _destination(call, artifact_path)
    upload_id = _upload_id(call)
    try:
        _check_upload(call, upload_id, target)
    except MlflowError as exc:
        if exc.code != "RESOURCE_DOES_NOT_EXIST":
            raise
        return {}  # already completed, aborted or swept: aborting again changes nothing
    artifact_store().discard_upload(upload_id)
    return {}


def _part_error(exc: ArtifactStoreError) -> MlflowError:
    if isinstance(exc, ArtifactTooLargeError):
        return MlflowError("RESOURCE_LIMIT_EXCEEDED", str(exc), status=413)
    if isinstance(exc, UploadNotFoundError):
        return MlflowError("RESOURCE_DOES_NOT_EXIST", str(exc))
    if isinstance(exc, ArtifactWriteError):
        return MlflowError("INTERNAL_ERROR", str(exc))
    return MlflowError("INVALID_PARAMETER_VALUE", str(exc))


@csrf_exempt
def upload_part(request: HttpRequest, project: str, upload_id: str, part_number: int) -> HttpResponse:
    """``PUT <prefix>/mpu/part/<upload_id>/<n>``: one part, authorised by its signed single-use token."""
    try:
        if request.method != "PUT":
            raise MlflowError(
                "ENDPOINT_NOT_FOUND", f"{request.method} is not supported here; use PUT.", status=405
            )
        try:
            grant = read_part_token(
                request.headers.get(TOKEN_HEADER), upload_id=upload_id, part_number=part_number
            )
        except PartTokenError as exc:
            raise MlflowError(exc.code, exc.message) from exc
        store = artifact_store()
        try:
            meta = store.upload_meta(upload_id)
        except UploadNotFoundError as exc:
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", str(exc)) from exc
        if not Project.objects.filter(slug=project, pk=meta.get("project")).exists():
            raise MlflowError(
                "RESOURCE_DOES_NOT_EXIST", f"No multipart upload '{upload_id}' in project '{project}'."
            )
        if not 1 <= part_number <= int(meta.get("num_parts", 0)):
            raise MlflowError("INVALID_PARAMETER_VALUE", f"Upload '{upload_id}' has no part {part_number}.")
        staged = store.staged_parts(upload_id)
        room = max_artifact_bytes() - sum(size for n, (size, _) in staged.items() if n != part_number)
        length = _body_length(request, room, f"Part {part_number}")
        if not store.claim_part(upload_id, part_number, grant.nonce):
            raise MlflowError(
                "PERMISSION_DENIED", "This part upload link was already used; each link works once."
            )
        try:
            _size, etag = store.save_part(
                upload_id, part_number, request, max_bytes=room, expected_bytes=length
            )  # type: ignore[arg-type]
        except ArtifactStoreError as exc:
            raise _part_error(exc) from exc
    except MlflowError as exc:
        return exc.response()
    response = JsonResponse({})
    response["ETag"] = f'"{etag}"'
    return response
