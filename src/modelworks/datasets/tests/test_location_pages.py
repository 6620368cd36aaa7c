"""The dataset pages say where a version's data lives: a version linked to a PostgreSQL table names
the connection and the table on the overview (which shows its Parquet snapshot) and carries a badge
in the versions list; a version in Modelworks storage shows neither."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.connections.tests.servers import ANALYST_PASSWORD, PostgresServer
from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset, run_queued_jobs

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.connections.tests.servers"]

ApiFor = Callable[[User | None], ApiClient]


def _pages(project: Project, user: User, dataset: Dataset) -> tuple[str, str]:
    client = Client()
    client.force_login(user)
    base = f"/projects/{project.slug}/datasets/{dataset.pk}/"
    return client.get(base).content.decode(), client.get(base + "versions/").content.decode()


def test_a_linked_version_names_its_connection_and_table(
    project: Project,
    alice: User,
    bob: User,
    carol: User,
    api_client: ApiFor,
    postgres_source: PostgresServer,
) -> None:
    sales = connection_services.create_connection(
        actor=alice,
        project=project,
        name="Sales",
        kind="postgresql",
        config=postgres_source.config(),
        secrets={"password": ANALYST_PASSWORD},
    )
    expect(
        api_client(bob).post(
            f"/projects/{project.slug}/datasets/import",
            {
                "connection_id": sales.pk,
                "table": "public.regions",
                "name": "Regions",
                "keep_in_database": True,
            },
        ),
        202,
    )
    run_queued_jobs()
    dataset = Dataset.objects.get(project=project, name="Regions")
    assert dataset.latest_version.location_label == "public.regions"

    overview, versions = _pages(project, carol, dataset)
    sentence = (
        "Stored in PostgreSQL connection 'Sales', table <span class=\"mono\">public.regions</span> "
        "(this page shows its Parquet snapshot)"
    )
    assert sentence in overview
    assert 'data-location title="' in versions and ">PostgreSQL</span>" in versions
    assert "Stored in PostgreSQL connection 'Sales', table public.regions;" in versions

    # The connection deleted: the table is still named, the connection shown as deleted.
    Connection.objects.filter(pk=sales.pk).delete()
    overview, versions = _pages(project, carol, dataset)
    assert 'Stored in PostgreSQL connection <span class="muted">(deleted)</span>, table' in overview
    assert "Stored in PostgreSQL connection '(deleted)', table public.regions;" in versions


def test_a_version_in_modelworks_storage_shows_no_location(project: Project, bob: User, carol: User) -> None:
    dataset = make_dataset(project, bob)
    overview, versions = _pages(project, carol, dataset)
    assert "data-location" not in overview and "data-location" not in versions
    assert "Parquet snapshot" not in overview
