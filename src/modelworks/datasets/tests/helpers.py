"""Small helpers of the dataset tests."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from modelworks.core.models import ApiToken, User

__all__ = ["leftover_files", "parquet_bytes", "upload"]


def parquet_bytes(query: str = "SELECT range AS id, 'x' || range AS label FROM range(100)") -> bytes:
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.parquet"
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
        con.close()
        return path.read_bytes()


def upload(user: User, slug: str, file_name: str, content: bytes, **fields: str) -> object:
    """POST a real multipart upload to the API as ``user``; returns the response."""
    _, raw = ApiToken.issue(user, "upload test")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    handle = SimpleUploadedFile(file_name, content, content_type="application/octet-stream")
    return client.post(f"/api/v1/projects/{slug}/datasets/upload", {"file": handle, **fields})


def leftover_files() -> list[str]:
    """Every file in the dataset store's objects and scratch folders and in the uploads folder."""
    home = Path(settings.MODELWORKS_HOME)
    found = []
    for folder in (
        Path(settings.MODELWORKS_DATA_DIR) / "objects",
        Path(settings.MODELWORKS_DATA_DIR) / "scratch",
        home / "uploads",
    ):
        if folder.exists():
            found += [str(p.relative_to(home)) for p in folder.rglob("*") if p.is_file()]
    return sorted(found)


def csv_bytes(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()
