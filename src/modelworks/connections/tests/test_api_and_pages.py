"""Connections through the API and the pages: create, test against the real servers, share, refuse."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from modelworks.connections import services
from modelworks.connections.models import Connection
from modelworks.connections.tests.servers import ANALYST_PASSWORD, PostgresServer, S3Server
from modelworks.core import services as core_services
from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.connections.tests.servers"]

ApiFor = Callable[[User | None], ApiClient]


def _pg_body(server: PostgresServer, password: str = ANALYST_PASSWORD, **extra: object) -> dict[str, object]:
    return {"name": "Sales DB", "kind": "postgresql", **server.config(), "password": password, **extra}


def test_create_and_test_a_postgresql_connection_through_the_api(
    project: Project, alice: User, bob: User, api_client: ApiFor, postgres_source: PostgresServer
) -> None:
    created = expect(
        api_client(alice).post(f"/projects/{project.slug}/connections", _pg_body(postgres_source)), 201
    )
    assert created["credentials_set"] == ["password"] and created["scope"] == "project"
    assert "password" not in created["config"] and ANALYST_PASSWORD not in str(created)
    url = f"/projects/{project.slug}/connections/{created['id']}"
    answer = expect(api_client(bob).post(url + "/test"), 200)
    assert answer["ok"] is True
    assert re.fullmatch(r"Connected: PostgreSQL 15\.\d+, 2 tables visible", answer["message"])
    tables = expect(api_client(bob).get(url + "/items"), 200)
    assert [t["name"] for t in tables["items"]] == ["public.orders", "public.regions"] and tables[
        "count"
    ] == 2
    event = AuditEvent.objects.filter(action="connection.tested").latest("id")
    assert event.outcome == "success" and event.actor == bob
    fresh = expect(api_client(bob).get(url), 200)
    assert fresh["last_test_ok"] is True and fresh["last_test_message"] == answer["message"]


def test_a_wrong_password_gives_a_plain_failure(
    project: Project, alice: User, api_client: ApiFor, postgres_source: PostgresServer
) -> None:
    created = expect(
        api_client(alice).post(
            f"/projects/{project.slug}/connections", _pg_body(postgres_source, "wrong-one")
        ),
        201,
    )
    answer = expect(api_client(alice).post(f"/projects/{project.slug}/connections/{created['id']}/test"), 200)
    assert answer == {
        "ok": False,
        "message": f"Could not connect to 127.0.0.1:{postgres_source.port}: password authentication failed for user 'analyst'",
        "details": {},
    }
    assert AuditEvent.objects.filter(action="connection.tested", outcome="failure").exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"host": ""}, "host", "Give the host of the PostgreSQL server."),
        ({"port": 70000}, "port", "Give a port from 1 to 65535"),
        ({"sslmode": "sometimes"}, "sslmode", "Choose one of disable, allow, prefer"),
        ({"bucket": "raw"}, "bucket", "'bucket' is not a setting of a postgresql connection."),
        ({"host": "db/../x"}, "host", "Give a host name or address only"),
        ({"name": "bad\x00name"}, "name", "control characters"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(
    project: Project, alice: User, api_client: ApiFor, body: dict[str, object], field: str, message: str
) -> None:
    payload = {"name": "X", "kind": "postgresql", "host": "db", "database": "d", "user": "u", **body}
    error = expect_error(
        api_client(alice).post(f"/projects/{project.slug}/connections", payload), 422, "validation_error"
    )
    assert message in " ".join(error["details"][field])
    assert not Connection.objects.exists()


def test_names_are_unique_per_project(project: Project, alice: User, api_client: ApiFor) -> None:
    body = {"name": "X", "kind": "s3", "bucket": "raw"}
    expect(api_client(alice).post(f"/projects/{project.slug}/connections", body), 201)
    error = expect_error(
        api_client(alice).post(f"/projects/{project.slug}/connections", body), 422, "validation_error"
    )
    assert "already exists" in error["message"]


def test_shared_connections_reach_only_the_chosen_projects(
    project: Project, alice: User, dave: User, instance_admin: User, api_client: ApiFor, s3_server: S3Server
) -> None:
    other = core_services.create_project(actor=dave, slug="other", name="Other")
    body = {
        "name": "Lake",
        "kind": "s3",
        **s3_server.config(),
        "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key,
        "shared_with": [project.slug],
    }
    lake = expect(api_client(instance_admin).post("/connections", body), 201)
    assert lake["shared_with"] == [project.slug] and lake["credentials_set"] == ["access_key", "secret_key"]
    # Members of the project see it and may test it; the other project does not see it at all.
    listed = expect(api_client(alice).get(f"/projects/{project.slug}/connections"), 200)
    assert [c["name"] for c in listed["items"]] == ["Lake"] and listed["items"][0]["scope"] == "instance"
    assert expect(api_client(dave).get(f"/projects/{other.slug}/connections"), 200)["count"] == 0
    expect_error(api_client(dave).get(f"/projects/{other.slug}/connections/{lake['id']}"), 404, "not_found")
    tested = expect(api_client(alice).post(f"/projects/{project.slug}/connections/{lake['id']}/test"), 200)
    assert tested["ok"] is True and tested["message"].startswith("Connected: bucket 'raw'")
    # A project admin cannot change or delete what the instance shares.
    expect_error(
        api_client(alice).patch(f"/projects/{project.slug}/connections/{lake['id']}", {"region": "x"}),
        403,
        "permission_denied",
    )
    expect_error(
        api_client(alice).delete(f"/projects/{project.slug}/connections/{lake['id']}"),
        403,
        "permission_denied",
    )
    # Unsharing removes it from the project.
    expect(api_client(instance_admin).patch(f"/connections/{lake['id']}", {"shared_with": []}), 200)
    expect_error(
        api_client(alice).get(f"/projects/{project.slug}/connections/{lake['id']}"), 404, "not_found"
    )
    # Instance connections are not listed under /connections to project admins.
    expect_error(api_client(alice).get("/connections"), 403, "permission_denied")


def test_the_connection_pages_create_test_and_never_show_the_password(
    project: Project, alice: User, carol: User, postgres_source: PostgresServer
) -> None:
    page = Client()
    page.force_login(alice)
    form = {
        "kind": "postgresql",
        "name": "Sales DB",
        **{k: str(v) for k, v in postgres_source.config().items()},
        "password": ANALYST_PASSWORD,
    }
    response = page.post(f"/projects/{project.slug}/connections/new/", form)
    assert response.status_code == 303
    connection = Connection.objects.get(name="Sales DB")
    detail = page.get(response["Location"]).content.decode()
    assert "••• set" in detail and ANALYST_PASSWORD not in detail
    answer = page.post(
        f"/projects/{project.slug}/connections/{connection.pk}/test/", headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "alert-success" in text and re.search(r"Connected: PostgreSQL 15\.\d+, 2 tables visible", text)
    # A reader sees the connection but no form, no test button and of course no password.
    reader = Client()
    reader.force_login(carol)
    seen = reader.get(f"/projects/{project.slug}/connections/{connection.pk}/").content.decode()
    assert "Sales DB" in seen and "Test connection</button>" not in seen and 'name="password"' not in seen
    assert reader.post(f"/projects/{project.slug}/connections/{connection.pk}/test/").status_code == 403


def test_the_edit_form_keeps_the_password_unless_a_new_one_is_typed(project: Project, alice: User) -> None:
    connection = services.create_connection(
        actor=alice, project=project, name="DB", kind="postgresql",
        config={"host": "db", "port": 5432, "database": "d", "user": "u"}, secrets={"password": "Keep-Me-123"},
    )  # fmt: skip
    page = Client()
    page.force_login(alice)
    form = {
        "kind": "postgresql",
        "name": "DB",
        "host": "db",
        "port": "5432",
        "database": "d2",
        "user": "u",
        "sslmode": "prefer",
        "password": "",
    }
    assert page.post(f"/projects/{project.slug}/connections/{connection.pk}/", form).status_code == 303
    connection.refresh_from_db()
    assert connection.config["database"] == "d2" and connection.secrets() == {"password": "Keep-Me-123"}
    moved = {**form, "host": "elsewhere"}
    response = page.post(f"/projects/{project.slug}/connections/{connection.pk}/", moved)
    assert response.status_code == 422 and "enter the password again" in response.content.decode()
    connection.refresh_from_db()
    assert connection.config["host"] == "db"
