"""Real-world files through the upload API and the import job: the dataset gets the right columns,
types and rows, or the job fails with a message saying what and where, registering nothing and
leaving no file behind. The upload's file name is only a label the dataset name is derived from."""

from __future__ import annotations

import codecs
import json
import re

import pytest

from modelworks.core.models import JobState, Project, User
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.testing import run_queued_jobs
from modelworks.datasets.tests.helpers import leftover_files, upload

pytest_plugins = ["modelworks.core.testing.fixtures"]

GOOD = [
    pytest.param(
        "Ventes 2024.csv",
        "produit;prix;date\r\nPomme;1.234,56;31/01/2024\r\nPoire;0,50;15/02/2024\r\n".encode("cp1252"),
        {"produit": "string", "prix": "float", "date": "date"},
        2,
        id="french_excel_export",
    ),
    pytest.param(
        "export.csv",
        b"a,b,c,\n1,2,3,\n4,5,6,\n",
        {"a": "integer", "b": "integer", "c": "integer"},
        2,
        id="trailing_delimiter_is_not_an_unnamed_column",
    ),
    pytest.param(
        "mac.csv", b"a,b\r1,x\r2,y\r", {"a": "integer", "b": "string"}, 2, id="lone_cr_line_endings"
    ),
    pytest.param(
        "u16.csv",
        codecs.BOM_UTF16_LE + "id,ville\n1,Málaga\n".encode("utf-16-le"),
        {"id": "integer", "ville": "string"},
        1,
        id="utf16_with_bom",
    ),
    pytest.param("empty_table.csv", b"id,name\n", {"id": "string", "name": "string"}, 0, id="header_only"),
    pytest.param(
        "ids.csv",
        b"zip,big\n01234,123456789012345678901234567890\n75001,1\n",
        {"zip": "string", "big": "decimal"},
        2,
        id="codes_and_huge_integers",
    ),
]


@pytest.mark.parametrize(("file_name", "content", "types", "rows"), GOOD)
def test_real_world_upload_becomes_a_dataset(
    project: Project, bob: User, file_name: str, content: bytes, types: dict[str, str], rows: int
) -> None:
    response = upload(bob, project.slug, file_name, content)
    assert response.status_code == 202, response.content
    job = next(j for j in run_queued_jobs() if j.kind == "datasets.import")
    assert job.state == JobState.SUCCEEDED, job.error
    version = DatasetVersion.objects.get()
    assert {c["name"]: c["type"] for c in version.schema} == types
    assert version.row_count == rows
    assert version.dataset.name == file_name.rsplit(".", 1)[0]


BAD = [
    pytest.param(
        "r.csv", b"a,b\n1,2\n3,4,5\n", r"line 3 of 'r.csv' has 3 field\(s\) but the header has 2", id="ragged"
    ),
    pytest.param("e.csv", codecs.BOM_UTF8 + b"\r\n\r\n", r"'e.csv' holds no data", id="bom_and_blank_lines"),
    pytest.param(
        "p.json",
        b'{\n  "a": 1\n}\n',
        r"'p.json' is a JSON document written over several lines",
        id="pretty_json",
    ),
]


@pytest.mark.parametrize(("file_name", "content", "match"), BAD)
def test_real_world_bad_upload_fails_and_leaves_nothing(
    project: Project, bob: User, file_name: str, content: bytes, match: str
) -> None:
    response = upload(bob, project.slug, file_name, content)
    assert response.status_code == 202, response.content
    job = next(j for j in run_queued_jobs() if j.kind == "datasets.import")
    assert job.state == JobState.FAILED
    assert re.search(match, job.error), job.error
    assert not Dataset.objects.exists() and not DatasetVersion.objects.exists()
    assert leftover_files() == []


@pytest.mark.parametrize(
    ("file_name", "dataset_name"),
    [
        ("../../secret/Sales Q1.csv", "Sales Q1"),
        (".csv", "csv"),
        ("x" * 400 + ".csv", "x" * 200),
        ("bad\x00name.csv", "badname"),
    ],
    ids=["relative_path", "only_an_extension", "very_long", "nul"],
)
def test_upload_file_names_become_plain_dataset_names(
    project: Project, bob: User, file_name: str, dataset_name: str
) -> None:
    response = upload(bob, project.slug, file_name, b"a,b\n1,2\n")
    assert response.status_code == 202, response.content
    job = next(j for j in run_queued_jobs() if j.kind == "datasets.import")
    assert job.state == JobState.SUCCEEDED, job.error
    dataset = Dataset.objects.get()
    assert dataset.name == dataset_name
    stored = leftover_files()
    assert stored and all(re.fullmatch(r"data/objects/[0-9a-f]{2}/[0-9a-f]{32}", p) for p in stored)
    assert json.dumps(DatasetVersion.objects.get().how_details)  # the label is kept as plain data
