"""Uploads stream to disk under ``MODELWORKS_HOME`` and are refused early when too large.

* ``UploadSizeLimitMiddleware`` answers **413** before reading anything when a request announces
  (``Content-Length``) more than ``MODELWORKS_MAX_UPLOAD_BYTES`` plus a little room for the form.
* ``LimitedUploadHandler`` (the only entry of ``FILE_UPLOAD_HANDLERS``) writes every uploaded file
  in chunks to ``MODELWORKS_HOME/uploads`` (never whole in memory), and stops as soon as one file
  passes the limit; the view then answers 413 (:func:`upload_too_large`). The partial file is removed.
* :func:`keep_upload` moves an uploaded file out of the request's reach, under a generated ID, for
  the import job.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from modelworks.datasets.storage import new_upload_path, uploads_dir
from modelworks.engine.errors import human_bytes

__all__ = [
    "FORM_ROOM_BYTES",
    "LimitedUploadHandler",
    "UploadSizeLimitMiddleware",
    "keep_upload",
    "too_large_response",
    "upload_too_large",
]

#: Room for the multipart envelope and the other form fields on top of the file itself.
FORM_ROOM_BYTES = 1024 * 1024
_FLAG = "_modelworks_upload_too_large"


def _limit() -> int:
    return int(settings.MODELWORKS_MAX_UPLOAD_BYTES)


def too_large_message(size: int | None = None) -> str:
    what = f"The upload ({human_bytes(size)})" if size else "The upload"
    return (
        f"{what} is larger than this instance's limit of {human_bytes(_limit())}. Split the file, "
        "or ask an administrator to raise MODELWORKS_MAX_UPLOAD_BYTES."
    )


def too_large_response(request: HttpRequest, size: int | None = None) -> HttpResponse:
    """413, as the API's error body for ``/api/`` and as a page otherwise."""
    message = too_large_message(size)
    if request.path.startswith("/api/"):
        body = {"code": "payload_too_large", "message": message, "details": {"limit_bytes": _limit()}}
        return JsonResponse(body, status=413)
    return render(request, "datasets/upload_too_large.html", {"message": message}, status=413)


class UploadSizeLimitMiddleware:
    """Refuse a request body announced as too large, before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    # The MLflow artifact proxy streams its bodies to disk itself, under its own limit
    # (MODELWORKS_MAX_ARTIFACT_BYTES), and answers in MLflow's JSON error shape.
    EXEMPT_PREFIXES = ("/mlflow/",)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.EXEMPT_PREFIXES):
            return self.get_response(request)
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        if announced > _limit() + FORM_ROOM_BYTES:
            return too_large_response(request, announced)
        return self.get_response(request)


class _DiskUpload(UploadedFile):
    """An uploaded file written to ``MODELWORKS_HOME/uploads`` under a temporary random name.

    Removed when closed unless :func:`keep_upload` took it.
    """

    def __init__(self, name: str, content_type: str, size: int, charset: str | None, extra: Any) -> None:
        handle = tempfile.NamedTemporaryFile(
            prefix=".receiving-", suffix=".upload", dir=uploads_dir(), delete=True
        )
        super().__init__(handle, name, content_type, size, charset, extra)

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self) -> None:
        try:
            self.file.close()
        except FileNotFoundError:
            pass  # moved away by keep_upload: nothing left to delete


class LimitedUploadHandler(FileUploadHandler):
    """Stream each uploaded file to disk; stop the upload once a file passes the size limit."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.file = _DiskUpload(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > _limit():
            if self.request is not None:
                setattr(self.request, _FLAG, self.received)
            raise StopUpload(connection_reset=False)  # the parser closes (and so removes) the file
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()


def upload_too_large(request: HttpRequest) -> bool:
    """Whether this request's upload was stopped for passing the size limit (after reading the files)."""
    _ = request.FILES  # parse the body first, if nobody did
    return bool(getattr(request, _FLAG, False))


def keep_upload(uploaded: UploadedFile) -> str:
    """Move an uploaded file to its own generated name for the import job; return its upload ID."""
    upload_id, target = new_upload_path()
    source = getattr(uploaded, "temporary_file_path", None)
    if source is not None:
        uploaded.file.flush()
        os.replace(source(), target)
    else:  # another handler produced it (tests may); copy it in chunks
        with open(target, "wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
    os.chmod(target, 0o600)
    return upload_id
