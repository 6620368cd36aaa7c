"""Bringing data in: uploads (page and API, inline and with a real worker), PostgreSQL tables and
queries, S3 files, re-imports with other types; versions, pinning, deletion."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.connections.tests.servers import ANALYST_PASSWORD, PostgresServer, S3Server
from modelworks.core.models import AuditEvent, Job, JobState, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets.models import Dataset, DatasetVersion, ImmutableVersionError
from modelworks.datasets.storage import data_store
from modelworks.datasets.testing import SAMPLE_CSV, make_dataset, run_queued_jobs
from modelworks.datasets.tests.helpers import leftover_files, parquet_bytes, upload

pytest_plugins = [
    "modelworks.core.testing.fixtures",
    "modelworks.core.tests.jobs_fixtures",
    "modelworks.connections.tests.servers",
]

ApiFor = Callable[[User | None], ApiClient]


def test_upload_page_imports_profiles_and_sends_the_browser_to_the_dataset(
    project: Project, bob: User
) -> None:
    page = Client()
    page.force_login(bob)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = page.post(
        f"/projects/{project.slug}/datasets/upload/",
        {"file": SimpleUploadedFile("Flights 2024.csv", SAMPLE_CSV), "description": "Departures"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    status_url = response["HX-Redirect"]
    assert "/datasets/imports/" in status_url
    assert "Waiting for a worker" in page.get(status_url).content.decode()
    jobs = run_queued_jobs()
    assert [(j.kind, j.state) for j in jobs] == [
        ("datasets.import", "succeeded"),
        ("datasets.profile", "succeeded"),
    ]
    dataset = Dataset.objects.get()
    assert dataset.name == "Flights 2024" and dataset.description == "Departures" and dataset.owner == bob
    poll = page.get(status_url, headers={"HX-Request": "true"})
    assert (
        poll.status_code == 204 and poll["HX-Redirect"] == f"/projects/{project.slug}/datasets/{dataset.pk}/"
    )
    overview = page.get(poll["HX-Redirect"]).content.decode()
    for text in ("dep_delay", "Version 1", "5 rows", "flights 2024.csv".title()[:0]):
        assert text in overview
    version = dataset.latest_version
    assert version.row_count == 5 and version.how == "upload" and version.created_by == bob
    assert version.how_details["file_name"] == "Flights 2024.csv" and version.profile.data["row_count"] == 5
    actions = list(AuditEvent.objects.filter(project=project).values_list("action", flat=True))
    assert "dataset.created" in actions and "dataset.version_created" in actions


@pytest.mark.worker
def test_an_upload_is_imported_by_a_real_worker(
    project: Project, bob: User, start_worker: Callable[..., object]
) -> None:
    response = upload(bob, project.slug, "flights.csv", SAMPLE_CSV, name="Flights")
    job_id = json.loads(response.content)["id"]
    worker = start_worker("--burst", "--concurrency", "1")
    assert worker.wait(timeout=120) == 0  # type: ignore[attr-defined]
    job = Job.objects.get(pk=job_id)
    assert job.state == JobState.SUCCEEDED, job.error
    dataset = Dataset.objects.get(name="Flights")
    assert job.result["dataset_id"] == dataset.pk and job.result["rows"] == 5
    assert hasattr(dataset.latest_version, "profile")  # the profile job ran too, in the same burst
    assert [p.split("/")[0] for p in leftover_files()] == ["data", "data"]  # the version and its kept upload


def _pg_connection(project: Project, alice: User, server: PostgresServer) -> Connection:
    return connection_services.create_connection(
        actor=alice,
        project=project,
        name="Sales",
        kind="postgresql",
        config=server.config(),
        secrets={"password": ANALYST_PASSWORD},
    )


def test_import_a_postgresql_table_and_a_query(
    project: Project, alice: User, bob: User, api_client: ApiFor, postgres_source: PostgresServer
) -> None:
    connection = _pg_connection(project, alice, postgres_source)
    api = api_client(bob)
    url = f"/projects/{project.slug}/datasets/import"
    table_job = expect(
        api.post(url, {"connection_id": connection.pk, "table": "public.orders", "name": "Orders"}), 202
    )
    query_job = expect(
        api.post(
            url,
            {
                "connection_id": connection.pk,
                "query": "SELECT customer, count(*) AS n FROM orders GROUP BY 1",
                "name": "Per customer",
            },
        ),
        202,
    )
    assert ANALYST_PASSWORD not in json.dumps([table_job, query_job])
    assert table_job["params"]["source"] == {
        "kind": "connection_table",
        "connection_id": connection.pk,
        "table": "public.orders",
    }
    run_queued_jobs()
    orders = Dataset.objects.get(name="Orders")
    version = orders.latest_version
    assert (
        version.row_count == 2500 and version.how == "connection_table" and version.connection == connection
    )
    assert {c["name"]: c["type"] for c in version.schema} == {
        "id": "integer", "customer": "string", "amount": "decimal", "placed": "timestamp", "paid": "boolean", "note": "string",
    }  # fmt: skip
    per_customer = Dataset.objects.get(name="Per customer").latest_version
    assert per_customer.row_count == 7 and per_customer.how == "sql_query"
    assert per_customer.how_details["query"].startswith("SELECT customer")
    assert ANALYST_PASSWORD not in json.dumps(list(Job.objects.values("params", "result", "error")))
    rows = expect(
        api.get(f"/projects/{project.slug}/datasets/{orders.pk}/versions/1/rows", sort="-id", limit=2), 200
    )
    assert [r[0] for r in rows["rows"]] == [2500, 2499] and rows["total"] == 2500


def test_a_failing_query_fails_the_job_with_the_server_reason(
    project: Project, alice: User, bob: User, api_client: ApiFor, postgres_source: PostgresServer
) -> None:
    connection = _pg_connection(project, alice, postgres_source)
    expect(
        api_client(bob).post(
            f"/projects/{project.slug}/datasets/import",
            {"connection_id": connection.pk, "query": "SELECT * FROM secret.salaries", "name": "Salaries"},
        ),
        202,
    )
    (job,) = run_queued_jobs()
    assert job.state == JobState.FAILED
    assert "the SQL query of 127.0.0.1" in job.error and "permission denied for schema secret" in job.error
    assert not Dataset.objects.exists() and leftover_files() == []


def test_import_csv_and_parquet_files_from_s3(
    project: Project, instance_admin: User, bob: User, api_client: ApiFor, s3_server: S3Server
) -> None:
    s3_server.put("exports/flights.csv", SAMPLE_CSV)
    s3_server.put("exports/ids.parquet", parquet_bytes())
    lake = connection_services.create_connection(
        actor=instance_admin, project=None, name="Lake", kind="s3", config=s3_server.config(),
        secrets={"access_key": s3_server.access_key, "secret_key": s3_server.secret_key}, shared_with=[project],
    )  # fmt: skip
    url = f"/projects/{project.slug}/datasets/import"
    expect(
        api_client(bob).post(
            url, {"connection_id": lake.pk, "path": "exports/flights.csv", "name": "Flights"}
        ),
        202,
    )
    expect(
        api_client(bob).post(
            url, {"connection_id": lake.pk, "path": "s3://raw/exports/ids.parquet", "name": "Ids"}
        ),
        202,
    )
    jobs = run_queued_jobs()
    assert all(j.state == JobState.SUCCEEDED for j in jobs), [j.error for j in jobs]
    flights = Dataset.objects.get(name="Flights").latest_version
    assert flights.row_count == 5 and flights.how == "s3_path" and flights.source_format["format"] == "csv"
    ids = Dataset.objects.get(name="Ids").latest_version
    assert ids.row_count == 100 and ids.source_format["format"] == "parquet"
    assert ids.how_details == {
        "connection": "Lake",
        "path": "s3://raw/exports/ids.parquet",
        "file_name": "ids.parquet",
        "options": {},
    }
    # A project that the connection is not shared with cannot use it.
    error = expect_error(
        api_client(bob).post(url, {"connection_id": 99999, "path": "x.csv", "name": "X"}),
        422,
        "validation_error",
    )
    assert "No connection 99999 usable in this project" in error["message"]


def test_reimport_with_another_type_makes_a_new_version_from_the_kept_upload(
    project: Project, bob: User, api_client: ApiFor
) -> None:
    upload(bob, project.slug, "zips.csv", b"zip,city\n100,Rome\n75001,Paris\n", name="Zips")
    run_queued_jobs()
    dataset = Dataset.objects.get(name="Zips")
    first = dataset.latest_version
    assert first.schema[0]["type"] == "integer"
    expect(
        api_client(bob).post(
            f"/projects/{project.slug}/datasets/{dataset.pk}/reimport", {"types": {"zip": "string"}}
        ),
        202,
    )
    run_queued_jobs()
    second = dataset.versions.get(number=2)
    assert second.schema[0]["type"] == "string" and second.how == "upload"
    rows = expect(api_client(bob).get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/2/rows"), 200)
    assert rows["rows"][0][0] == "100"
    assert second.how_details["options"]["types"] == {"zip": "string"}
    error = expect_error(
        api_client(bob).post(
            f"/projects/{project.slug}/datasets/{dataset.pk}/reimport", {"types": {"nope": "string"}}
        ),
        422,
        "validation_error",
    )
    assert "Column 'nope' is not in version 2" in error["message"]


def test_pin_list_versions_and_immutability(
    project: Project, bob: User, carol: User, api_client: ApiFor
) -> None:
    dataset = make_dataset(project, bob)
    upload(bob, project.slug, "v2.csv", SAMPLE_CSV + b"XX9,XX,1,1,2024-02-01\n", dataset_id=str(dataset.pk))
    run_queued_jobs()
    versions = expect(api_client(carol).get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions"), 200)
    assert [(v["number"], v["row_count"], v["how"]) for v in versions["items"]] == [
        (2, 6, "upload"),
        (1, 5, "upload"),
    ]
    assert versions["items"][0]["created_by"]["username"] == "bob"
    pinned = expect(
        api_client(bob).post(f"/projects/{project.slug}/datasets/{dataset.pk}/pin", {"version": 1}), 200
    )
    assert pinned["pinned_version"] == 1 and pinned["current_version"]["number"] == 1
    expect_error(
        api_client(carol).post(f"/projects/{project.slug}/datasets/{dataset.pk}/pin", {"version": 2}),
        403,
        "permission_denied",
    )
    version = DatasetVersion.objects.get(dataset=dataset, number=1)
    version.row_count = 1
    with pytest.raises(ImmutableVersionError, match="is immutable"):
        version.save()


def test_deleting_a_dataset_removes_its_files(
    project: Project,
    alice: User,
    bob: User,
    api_client: ApiFor,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    upload(bob, project.slug, "a.csv", SAMPLE_CSV, name="A")
    run_queued_jobs()
    dataset = Dataset.objects.get(name="A")
    assert len(leftover_files()) == 2  # the version and the kept upload
    expect_error(
        api_client(bob).delete(f"/projects/{project.slug}/datasets/{dataset.pk}"), 403, "permission_denied"
    )
    # The files go once the transaction commits (a rolled-back delete keeps them).
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = api_client(alice).delete(f"/projects/{project.slug}/datasets/{dataset.pk}")
    assert response.status_code == 204
    assert not Dataset.objects.exists() and leftover_files() == []
    assert AuditEvent.objects.filter(action="dataset.deleted").exists()


def test_a_name_taken_meanwhile_fails_the_job_and_removes_its_files(project: Project, bob: User) -> None:
    upload(bob, project.slug, "a.csv", SAMPLE_CSV, name="Same")
    make_dataset(project, bob, name="Same")
    before = set(leftover_files())
    (job, *_) = run_queued_jobs()
    assert job.state == JobState.FAILED and "already exists" in job.error
    # Only the other dataset's version is left: neither this import's version nor its upload.
    assert (
        set(leftover_files()) == {p for p in before if p.startswith("data/")} and Dataset.objects.count() == 1
    )


def test_uploads_wait_in_their_own_folder_and_old_ones_are_swept(project: Project, bob: User) -> None:
    from modelworks.datasets.storage import clean_stale_uploads, new_upload_path

    _upload_id, path = new_upload_path()
    path.write_bytes(b"x")
    old = time.time() - 3 * 86400
    import os

    os.utime(path, (old, old))
    assert clean_stale_uploads() == 1 and not path.exists()
    assert data_store().root.name == "data"


def test_a_report_with_a_title_and_a_two_row_header_reimports_with_its_layout(
    project: Project, bob: User, api_client: ApiFor
) -> None:
    report = b"Sales report 2024\nregion,2024,2024\n,Q1,Q2\nNorth,10,12\nSouth,7,9\n"
    refused = upload(bob, project.slug, "report.csv", report, name="Report", options='{"header_rows": 0}')
    assert refused.status_code == 422 and "whole number from 1 to 10" in refused.content.decode()  # type: ignore[attr-defined]
    layout = '{"skip_rows": 1, "header_rows": 2}'
    upload(bob, project.slug, "report.csv", report, name="Report", options=layout)
    run_queued_jobs()
    dataset = Dataset.objects.get(name="Report")
    version = dataset.latest_version
    assert version is not None and version.row_count == 2
    assert [c["name"] for c in version.schema] == ["region", "2024 / Q1", "2024 / Q2"]
    assert [c["type"] for c in version.schema][1:] == ["integer", "integer"]
    assert version.how_details["options"]["header_rows"] == 2
    url = f"/projects/{project.slug}/datasets/{dataset.pk}/reimport"
    expect(api_client(bob).post(url, {"types": {"region": "string"}}), 202)  # the layout is kept
    run_queued_jobs()
    assert [c["name"] for c in dataset.versions.get(number=2).schema][1:] == ["2024 / Q1", "2024 / Q2"]
    versions = dataset.versions.count()
    for bad in ({"header_rows": 0}, {"header_rows": 11}, {"skip_rows": -1}, {"header_rows": "two"}):
        expect_error(api_client(bob).post(url, bad), 422, "validation_error")
    assert dataset.versions.count() == versions


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"header_rows": 0}, "a whole number from 1 to 10"),
        ({"header_rows": True}, "a whole number from 1 to 10"),
        ({"header_rows": 2.5}, "a whole number from 1 to 10"),
        ({"skip_rows": 100_001}, "a whole number from 0 to 100,000"),
        ({"skip_rows": "3"}, "a whole number from 0 to 100,000"),
    ],
)
def test_layout_options_are_checked_before_anything_is_queued(
    options: dict[str, object], message: str
) -> None:
    from django.core.exceptions import ValidationError

    from modelworks.datasets.services import clean_import_options

    with pytest.raises(ValidationError, match=message):
        clean_import_options(options)


def test_the_upload_page_offers_the_layout_options(project: Project, bob: User) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = Client()
    page.force_login(bob)
    url = f"/projects/{project.slug}/datasets/upload/"
    form = page.get(url).content.decode()
    assert 'name="skip_rows"' in form and 'name="header_rows"' in form and "Header rows" in form
    report = b"Sales report 2024\nregion,2024,2024\n,Q1,Q2\nNorth,10,12\n"
    bad = page.post(url, {"file": SimpleUploadedFile("r.csv", report), "header_rows": "11"})
    assert bad.status_code == 422 and "less than or equal to 10" in bad.content.decode()
    assert not Job.objects.filter(kind="datasets.import").exists()
    sent = page.post(
        url,
        {"file": SimpleUploadedFile("r.csv", report), "skip_rows": "1", "header_rows": "2"},
        headers={"HX-Request": "true"},
    )
    assert sent.status_code == 204
    run_queued_jobs()
    version = Dataset.objects.get(name="r").latest_version
    assert version is not None and [c["name"] for c in version.schema] == ["region", "2024 / Q1", "2024 / Q2"]
