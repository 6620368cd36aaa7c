"""Every bad input of the issue, through the real upload API and the import job: each fails with a
message that says what and where, and none registers a dataset or leaves a file behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client, override_settings

from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.testing import run_queued_jobs
from modelworks.datasets.tests.helpers import leftover_files, parquet_bytes, upload

pytest_plugins = ["modelworks.core.testing.fixtures"]


def _mixed_encoding() -> bytes:
    good = "".join(f"{i},café\n" for i in range(90_000)).encode("utf-8")
    return b"id,name\n" + good + "90000,caf\xe9 cr\xe8me\n".encode("latin-1")


@dataclass(frozen=True)
class Bad:
    id: str
    file_name: str
    content: bytes | Callable[[], bytes]
    match: str
    options: dict[str, object] = field(default_factory=dict)


BAD = [
    Bad("ragged_rows", "r.csv", b"a,b,c\n1,2,3\n4,5,6,7\n", r"line 3 of 'r.csv' has 4 field\(s\) but the header has 3"),
    Bad("wrong_encoding", "l.csv", "ville\nMálaga\nKöln\n".encode("latin-1"), r"'l.csv' is not valid utf-8 text", {"encoding": "utf-8"}),
    Bad("mixed_encodings", "m.csv", _mixed_encoding, r"line 90002 of 'm.csv' is not valid UTF-8 .* mixes encodings"),
    Bad("nul_byte", "n.csv", b"a,b\n1,ok\n2,x\x00y\n", r"line 3 of 'n.csv' holds a NUL byte"),
    Bad("duplicate_headers", "d.csv", b"a,b,a\n1,2,3\n", r"duplicate column names: 'a' \(columns 1 and 3\)"),
    Bad("empty_header", "e.csv", b"a,,c\n1,2,3\n", r"'e.csv' has no name for column 2 in its header row.*Rename them"),
    Bad("zero_bytes", "z.csv", b"", r"'z.csv' is empty \(0 bytes\)"),
    Bad("lying_extension", "sales.csv", lambda: parquet_bytes(), r"'sales.csv' is named like a .csv file, but its content is a Parquet file"),
    Bad("too_many_columns", "w.csv", lambda: (",".join(f"c{i}" for i in range(10_001)) + "\n" + ",".join("1" * 10_001) + "\n").encode(),
        r"has 10,001 columns, more than the limit of 10,000"),
    Bad("corrupt_parquet", "c.parquet", b"PAR1" + bytes(64) + b"PAR1", r"'c.parquet' is a damaged Parquet file"),
    Bad("truncated_parquet", "t.parquet", lambda: parquet_bytes()[:-30], r"truncated or damaged Parquet file"),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_bad_file_fails_its_import_and_leaves_nothing(case: Bad, project: Project, bob: User) -> None:
    content = case.content() if callable(case.content) else case.content
    response = upload(bob, project.slug, case.file_name, content, options=json.dumps(case.options))
    assert response.status_code == 202, response.content
    (job,) = [j for j in run_queued_jobs() if j.kind == "datasets.import"]
    assert job.state == JobState.FAILED
    assert pytest.importorskip("re").search(case.match, job.error), job.error
    assert not Dataset.objects.exists() and not DatasetVersion.objects.exists()
    assert leftover_files() == []


def test_the_import_page_shows_why_it_failed(project: Project, bob: User) -> None:
    response = upload(bob, project.slug, "r.csv", b"a,b\n1,2,3\n")
    job = Job.objects.get(pk=json.loads(response.content)["id"])
    run_queued_jobs()
    page = Client()
    page.force_login(bob)
    text = page.get(f"/projects/{project.slug}/datasets/imports/{job.pk}/").content.decode()
    assert "The file could not be imported" in text and "line 2 of &#x27;r.csv&#x27; has 3 field(s)" in text
    assert "Nothing was stored" in text


@override_settings(MODELWORKS_MAX_UPLOAD_BYTES=1000)
def test_a_file_over_the_limit_is_refused_while_streaming_with_413(project: Project, bob: User) -> None:
    response = upload(bob, project.slug, "big.csv", b"a\n" + b"1\n" * 2000)
    assert response.status_code == 413
    body = json.loads(response.content)
    assert (
        body["code"] == "payload_too_large"
        and "larger than this instance's limit of 1000 bytes" in body["message"]
    )
    assert not Job.objects.filter(kind="datasets.import").exists()
    assert leftover_files() == []


@override_settings(MODELWORKS_MAX_UPLOAD_BYTES=1000)
def test_an_announced_size_over_the_limit_is_refused_before_reading(project: Project, bob: User) -> None:
    page = Client()
    page.force_login(bob)
    response = page.post(
        f"/projects/{project.slug}/datasets/upload/",
        data=b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024**3),
    )
    assert response.status_code == 413
    assert "The upload (50.0 GiB) is larger than this instance" in response.content.decode()
    assert leftover_files() == []


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "a/../b", "C:\\Windows\\x", "bad\x00name"]
)
def test_path_like_or_nul_dataset_names_are_refused(project: Project, bob: User, name: str) -> None:
    response = upload(bob, project.slug, "ok.csv", b"a\n1\n", name=name)
    assert response.status_code == 422, response.content
    message = json.loads(response.content)["message"]
    assert "looks like a file path" in message or "control characters" in message
    assert not Job.objects.filter(kind="datasets.import").exists()
    assert leftover_files() == []


@pytest.mark.parametrize(
    "file_name", ["../../../etc/cron.d/evil.csv", "/etc/passwd.csv", "..\\..\\win.csv", "nul\x00.csv"]
)
def test_file_names_are_labels_and_storage_uses_generated_ids(
    project: Project, bob: User, file_name: str
) -> None:
    response = upload(bob, project.slug, file_name, b"a,b\n1,2\n")
    assert response.status_code == 202, response.content
    (job, *_) = run_queued_jobs()
    assert job.state == JobState.SUCCEEDED, job.error
    version = DatasetVersion.objects.get()
    # The name given by the browser lost its folders (Django keeps only the base name) and is only a
    # label; the stored files are named by generated IDs.
    assert "/" not in version.how_details["file_name"] and "\\" not in version.how_details["file_name"]
    assert "\x00" not in version.how_details["file_name"]
    stored = leftover_files()
    assert stored and all(
        pytest.importorskip("re").fullmatch(r"data/objects/[0-9a-f]{2}/[0-9a-f]{32}", p) for p in stored
    )
