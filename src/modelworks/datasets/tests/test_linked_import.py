"""Linked imports ("keep the data in the database"): the version records the PostgreSQL table it
lives in, next to the Parquet snapshot every other feature reads; refused for queries and S3."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.connections.tests.servers import ANALYST_PASSWORD, PostgresServer
from modelworks.core.models import Job, JobState, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets import services
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import run_queued_jobs
from modelworks.datasets.tests.helpers import leftover_files

pytest_plugins = [
    "modelworks.core.testing.fixtures",
    "modelworks.connections.tests.servers",
]

ApiFor = Callable[[User | None], ApiClient]


@pytest.fixture
def sales(project: Project, alice: User, postgres_source: PostgresServer) -> Connection:
    return connection_services.create_connection(
        actor=alice,
        project=project,
        name="Sales",
        kind="postgresql",
        config=postgres_source.config(),
        secrets={"password": ANALYST_PASSWORD},
    )


def test_a_linked_import_records_the_table_and_keeps_a_snapshot(
    project: Project, bob: User, api_client: ApiFor, sales: Connection
) -> None:
    api = api_client(bob)
    job = expect(
        api.post(
            f"/projects/{project.slug}/datasets/import",
            # No schema given: the version records the one the server resolves ("public").
            {"connection_id": sales.pk, "table": "orders", "name": "Orders", "keep_in_database": True},
        ),
        202,
    )
    assert job["params"]["source"] == {
        "kind": "connection_table",
        "connection_id": sales.pk,
        "table": "orders",
        "keep_in_database": True,
    }
    (done, _profile) = run_queued_jobs()
    assert done.state == JobState.SUCCEEDED, done.error
    version = Dataset.objects.get(name="Orders").latest_version
    assert version.location == {"connection_id": sales.pk, "schema": "public", "table": "orders"}
    assert version.how_details["keep_in_database"] is True
    # The snapshot: row count and columns as they were at import, readable like any version.
    assert version.row_count == 2500 and len(version.schema) == 6
    assert services.version_path(version).is_file()
    assert any("linked to table public.orders" in message for _, message in done.inline_log)
    body = expect(api.get(f"/projects/{project.slug}/datasets/{version.dataset_id}"), 200)
    assert body["current_version"]["location"] == {
        "connection_id": sales.pk,
        "connection": "Sales",
        "schema": "public",
        "table": "orders",
    }
    assert ANALYST_PASSWORD not in json.dumps(list(Job.objects.values("params", "result", "error")))
    # Importing it again (e.g. with other column types) keeps the link.
    services.submit_reimport(actor=bob, dataset=version.dataset, types={"id": "string"})
    run_queued_jobs()
    again = Dataset.objects.get(name="Orders").latest_version
    assert again.number == 2 and again.location == version.location


def test_a_plain_import_has_no_location(
    project: Project, bob: User, api_client: ApiFor, sales: Connection
) -> None:
    expect(
        api_client(bob).post(
            f"/projects/{project.slug}/datasets/import",
            {"connection_id": sales.pk, "table": "public.regions", "name": "Regions"},
        ),
        202,
    )
    run_queued_jobs()
    version = Dataset.objects.get(name="Regions").latest_version
    assert version.location is None and "keep_in_database" not in version.how_details


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "SELECT 1 AS one"}, r"Only a PostgreSQL table can stay in its database"),
        ({"path": "exports/x.csv", "s3": True}, r"Only a PostgreSQL table can stay in its database"),
    ],
    ids=["sql_query", "s3_file"],
)
def test_only_tables_can_stay_in_their_database(
    project: Project,
    alice: User,
    bob: User,
    api_client: ApiFor,
    sales: Connection,
    body: dict[str, object],
    message: str,
) -> None:
    connection = sales
    if body.pop("s3", False):
        connection = connection_services.create_connection(
            actor=alice, project=project, name="Bucket", kind="s3", config={"bucket": "raw"}
        )
    error = expect_error(
        api_client(bob).post(
            f"/projects/{project.slug}/datasets/import",
            {"connection_id": connection.pk, "name": "X", "keep_in_database": True, **body},
        ),
        422,
        "validation_error",
    )
    assert re.search(message, json.dumps(error)), error
    assert not Job.objects.exists()


def test_a_missing_table_fails_the_linked_import_and_leaves_nothing(
    project: Project, bob: User, sales: Connection
) -> None:
    services.submit_connection_import(
        actor=bob, project=project, connection=sales, table="public.nope", name="Nope", keep_in_database=True
    )
    (job,) = run_queued_jobs()
    assert job.state == JobState.FAILED and "public.nope" in job.error, job.error
    assert not Dataset.objects.exists() and leftover_files() == []


def test_the_import_page_offers_keeping_the_data_in_the_database(
    project: Project, bob: User, sales: Connection
) -> None:
    page = Client()
    page.force_login(bob)
    url = f"/projects/{project.slug}/datasets/import/"
    assert "Keep the data in the database; recipes on it run there" in page.get(url).content.decode()
    refused = page.post(
        url, {"connection": sales.pk, "query": "SELECT 1", "name": "Q", "keep_in_database": "on"}
    )
    assert "Only a table can stay in its database" in refused.content.decode()
    response = page.post(
        url, {"connection": sales.pk, "table": "public.orders", "name": "Orders", "keep_in_database": "on"}
    )
    assert response.status_code in (302, 303)
    job = Job.objects.get(kind="datasets.import")
    assert job.params["source"]["keep_in_database"] is True
