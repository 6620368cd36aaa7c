"""Attacks through names that come with files: an uploaded dataset's file name (Django's multipart
parser keeps its last component and drops control and invisible characters; these tests hold it to
that), and the artifact paths an MLflow client sends. Neither may ever become a path."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory

from modelworks.datasets.uploads import LimitedUploadHandler
from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError, split_artifact_path
from modelworks.tracking.artifacts.storage import ArtifactStoreError, LocalArtifactStore


def _uploaded_name(raw_name: bytes, settings: Any, tmp_path: Path) -> str:
    settings.MODELWORKS_HOME = tmp_path / "home"
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="'
        + raw_name
        + b'"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n\r\n--B--\r\n'
    )
    request = RequestFactory().generic(
        "POST", "/api/v1/upload", data=body, content_type="multipart/form-data; boundary=B"
    )
    request.upload_handlers = [LimitedUploadHandler(request)]
    uploaded = request.FILES["file"]
    try:
        return str(uploaded.name)
    finally:
        uploaded.close()


@pytest.mark.parametrize(
    ("raw_name", "shown"),
    [
        (b"flights.csv", "flights.csv"),
        (b"../../etc/passwd", "passwd"),
        (b"..\\..\\windows\\win.ini", "win.ini"),
        (b"/etc/passwd", "passwd"),
        (b"fli\x00ghts.csv", "flights.csv"),  # PostgreSQL refuses NUL in text and JSON
        (b"a\x1b[31mred\x1b[0m.csv", "a[31mred[0m.csv"),
        ("invoice\u202egpj.csv".encode(), "invoicegpj.csv"),  # right-to-left override
        ("é".encode() * 200 + b".csv", None),
    ],
)
def test_uploaded_file_names_are_plain_text(
    raw_name: bytes, shown: str | None, settings: Any, tmp_path: Path
) -> None:
    name = _uploaded_name(raw_name, settings, tmp_path)
    if shown is not None:
        assert name == shown
    assert len(name) <= 255
    assert not any(c in name for c in "\x00\x1b\u202e/\\")
    assert os.listdir(tmp_path / "home" / "uploads") == []  # the request's temporary file is gone


ARTIFACT_PATHS = [
    ("1/abc/artifacts/../../../../etc/passwd", r"The name '\.\.' in artifact path"),
    ("1/abc/artifacts/%2e%2e/%2e%2e/x", r"contains a '%'"),
    ("1/abc/artifacts/%252e%252e%252fx", r"contains a '%'"),
    ("/etc/passwd", r"is absolute"),
    ("//proc/self/environ", r"is absolute"),
    ("1/abc/artifacts/..\\..\\x", r"contains a backslash"),
    ("1/abc/artifacts/C:/x", r"contains a colon"),
    ("1/abc/artifacts/file:/etc/passwd", r"contains a colon"),
    ("1/abc/artifacts/~root/.ssh", r"starts with '~'"),
    ("1/abc/artifacts/x\x00.png", r"invisible or control character U\+0000"),
    ("1/abc/artifacts/roc\u202egnp.exe", r"invisible or control character U\+202E"),
    ("1/abc/artifacts/.mw-upload-1/x", r"reserved for the server's temporary files"),
    ("1/abc/artifacts//x", r"Empty name"),
    ("1/abc/artifacts/" + "a" * 256, r"longer than 255 bytes"),
    ("1/abc/artifacts/" + "a/" * 70 + "x", r"nested \d+ folders deep; the limit is 64"),
]


@pytest.mark.parametrize(("path", "match"), ARTIFACT_PATHS)
def test_artifact_paths_that_escape_are_refused(path: str, match: str) -> None:
    with pytest.raises(UnsafeArtifactPathError, match=match):
        split_artifact_path(path)


def test_the_artifact_store_never_follows_a_link_planted_inside_it(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    run = tmp_path / "artifacts" / "1" / "abc"
    run.mkdir(parents=True)
    (run / "artifacts").symlink_to(outside)
    for key in [("1", "abc", "artifacts", "secret.txt"), ("1", "abc", "artifacts")]:
        with pytest.raises(ArtifactStoreError, match="goes through a symbolic link, which is never followed"):
            store.path_of(key)
    with pytest.raises(ArtifactStoreError, match="symbolic link"):
        store.save_stream(("1", "abc", "artifacts", "new.txt"), io.BytesIO(b"x"), max_bytes=10)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
