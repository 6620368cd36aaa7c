"""The dataset pages: list, overview with the schema, settings, versions and pinning, imports."""

from __future__ import annotations

from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.tests.servers import ANALYST_PASSWORD, PostgresServer
from modelworks.core.models import Job, Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset, run_queued_jobs

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.connections.tests.servers"]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_list_overview_and_navigation(project: Project, bob: User, carol: User) -> None:
    dataset = make_dataset(project, bob)
    reader = _client(carol)
    listing = reader.get(f"/projects/{project.slug}/datasets/").content.decode()
    assert "Flights" in listing and "Upload a file" not in listing  # readers cannot bring data in
    assert 'href="/projects/flight-delays/datasets/"' in listing  # the sidebar link
    overview = reader.get(f"/projects/{project.slug}/datasets/{dataset.pk}/").content.decode()
    assert "dep_delay" in overview and "<select" not in overview  # no type overrides for readers
    contributor = _client(bob).get(f"/projects/{project.slug}/datasets/{dataset.pk}/").content.decode()
    assert 'name="type_2"' in contributor and "Import again with these types" in contributor
    assert (
        _client(bob).get(f"/projects/{project.slug}/datasets/").content.decode().count("Upload a file") >= 1
    )


def test_settings_document_the_dataset(project: Project, bob: User, carol: User) -> None:
    dataset = make_dataset(project, bob)
    url = f"/projects/{project.slug}/datasets/{dataset.pk}/settings/"
    form = {
        "name": "Departures",
        "description": "One row per flight.",
        "tags": "gold, daily, gold",
        "owner": str(carol.pk),
    }
    form["col_2"] = "Minutes late at departure"
    assert _client(bob).post(url, form).status_code == 303
    dataset.refresh_from_db()
    assert dataset.name == "Departures" and dataset.tags == ["gold", "daily"] and dataset.owner == carol
    assert dataset.column_descriptions == {"dep_delay": "Minutes late at departure"}
    bad = _client(bob).post(url, {**form, "name": "../etc"})
    assert bad.status_code == 422 and "looks like a file path" in bad.content.decode()
    assert _client(carol).post(url, form).status_code == 403


def test_versions_page_pins_and_reimport_form_queues_a_job(project: Project, bob: User) -> None:
    dataset = make_dataset(project, bob)
    client = _client(bob)
    assert (
        client.post(
            f"/projects/{project.slug}/datasets/{dataset.pk}/versions/pin/", {"version": "1"}
        ).status_code
        == 303
    )
    dataset.refresh_from_db()
    assert dataset.pinned_version.number == 1
    versions = client.get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/").content.decode()
    assert "Pinned" in versions and "Unpin" in versions and "bob" in versions
    response = client.post(f"/projects/{project.slug}/datasets/{dataset.pk}/reimport/", {"type_3": "float"})
    assert response.status_code == 303
    run_queued_jobs()
    assert dataset.versions.get(number=2).schema[3]["type"] == "float"
    nothing = client.post(f"/projects/{project.slug}/datasets/{dataset.pk}/reimport/", {})
    assert nothing.status_code == 422 and "Change the type of at least one column" in nothing.content.decode()


def test_import_page_from_postgresql(
    project: Project, alice: User, bob: User, postgres_source: PostgresServer
) -> None:
    connection = connection_services.create_connection(
        actor=alice, project=project, name="Sales", kind="postgresql", config=postgres_source.config(),
        secrets={"password": ANALYST_PASSWORD},
    )  # fmt: skip
    client = _client(bob)
    items = client.get(
        f"/projects/{project.slug}/datasets/import/items/",
        {"connection": connection.pk},
        headers={"HX-Request": "true"},
    )
    assert "public.orders" in items.content.decode() and "public.regions" in items.content.decode()
    both = client.post(
        f"/projects/{project.slug}/datasets/import/",
        {"connection": connection.pk, "table": "orders", "query": "SELECT 1", "name": "X"},
    )
    assert both.status_code == 422 and "Give either a table or a SQL query" in both.content.decode()
    response = client.post(
        f"/projects/{project.slug}/datasets/import/",
        {"connection": connection.pk, "table": "public.regions", "name": "Regions"},
    )
    assert response.status_code == 303
    job = Job.objects.get(kind="datasets.import")
    assert response["Location"] == f"/projects/{project.slug}/datasets/imports/{job.pk}/"
    run_queued_jobs()
    assert Dataset.objects.get(name="Regions").latest_version.row_count == 2


def test_upload_page_adds_a_version_to_an_existing_dataset(project: Project, bob: User) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    dataset = make_dataset(project, bob)
    client = _client(bob)
    page = client.get(f"/projects/{project.slug}/datasets/upload/", {"dataset": dataset.pk}).content.decode()
    assert "New version of Flights" in page and 'name="name"' not in page
    response = client.post(
        f"/projects/{project.slug}/datasets/upload/",
        {
            "dataset": dataset.pk,
            "file": SimpleUploadedFile("more.csv", b"flight,carrier\nX1,XX\n"),
            "bad_rows": "error",
        },
    )
    assert response.status_code == 303
    run_queued_jobs()
    assert dataset.versions.count() == 2 and dataset.latest_version.how_details["file_name"] == "more.csv"
    missing = client.post(f"/projects/{project.slug}/datasets/upload/", {"name": "No file"})
    assert missing.status_code == 422 and "This field is required" in missing.content.decode()
