"""Where dataset files live: the engine's object store under ``MODELWORKS_HOME/data``, and the
folder where uploads wait for their import job (``MODELWORKS_HOME/uploads``).

Every file is named by a generated ID; a user's file or dataset name never becomes part of a path.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

from django.conf import settings

from modelworks.engine.io import LocalStore

__all__ = ["clean_stale_uploads", "data_store", "new_upload_path", "upload_path", "uploads_dir"]

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_SUFFIX = ".upload"


def data_store() -> LocalStore:
    """The store holding every dataset version (Parquet) and kept upload sources."""
    return LocalStore(Path(settings.MODELWORKS_DATA_DIR))


def uploads_dir() -> Path:
    """The folder of uploads waiting for (or being read by) an import job; created 0700."""
    folder = Path(settings.MODELWORKS_HOME) / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def new_upload_path() -> tuple[str, Path]:
    """A fresh upload ID and the path of its file (not created)."""
    upload_id = uuid.uuid4().hex
    return upload_id, uploads_dir() / f"{upload_id}{_SUFFIX}"


def upload_path(upload_id: str) -> Path:
    """The file of an upload, from its ID (refusing anything that is not a generated ID)."""
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise ValueError(f"{str(upload_id)[:80]!r} is not an upload ID (32 lowercase hex digits)")
    return uploads_dir() / f"{upload_id}{_SUFFIX}"


def clean_stale_uploads(older_than_seconds: float = 24 * 3600) -> int:
    """Remove uploads (and half-written temporary files) older than this; return how many.

    An upload normally lives only until its import job ends; one left behind by a crashed worker, or
    by a job cancelled before it started, is removed here.
    """
    cutoff = time.time() - older_than_seconds
    removed = 0
    for entry in uploads_dir().iterdir():
        if entry.is_file() and entry.stat().st_mtime < cutoff:
            entry.unlink(missing_ok=True)
            removed += 1
    return removed
