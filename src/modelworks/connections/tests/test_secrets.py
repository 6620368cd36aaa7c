"""Credentials at rest: encrypted with a key outside the database, never given back by any interface."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection as db
from django.test import Client

from modelworks.connections import secrets, services
from modelworks.connections.models import Connection
from modelworks.core.models import ApiToken, AuditEvent, Job, Project, User
from modelworks.core.testing.client import ApiClient, expect

pytest_plugins = ["modelworks.core.testing.fixtures"]

PASSWORD = "Very-Secret-Pass-1234"


@pytest.fixture
def warehouse(project: Project, alice: User) -> Connection:
    return services.create_connection(
        actor=alice,
        project=project,
        name="Warehouse",
        kind="postgresql",
        config={"host": "127.0.0.1", "port": 1, "database": "sales", "user": "reader"},
        secrets={"password": PASSWORD},
    )


def _raw_row(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM connections_connection WHERE id = %s", [pk])
        return repr(cursor.fetchone())


def test_the_database_row_holds_no_secret_and_the_key_file_is_private(
    warehouse: Connection, settings: object
) -> None:
    row = _raw_row(warehouse.pk)
    assert PASSWORD not in row
    assert warehouse.encrypted_secrets.startswith("gAAAA")  # a Fernet token
    assert warehouse.secret_names == ["password"]
    key_file = secrets.key_path()
    assert key_file.parent.name == "keys" and key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (
        Fernet(key_file.read_bytes()).decrypt(warehouse.encrypted_secrets.encode())
        == json.dumps({"password": PASSWORD}).encode()
    )
    assert Connection.objects.get(pk=warehouse.pk).secrets() == {"password": PASSWORD}


def test_the_environment_key_wins_and_a_wrong_key_says_so(
    warehouse: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(secrets.ENV_KEY, Fernet.generate_key().decode())
    with pytest.raises(
        secrets.ConnectionKeyError, match=r"cannot be decrypted with the current key .* enter the credentials"
    ):
        warehouse.secrets()
    result = services.test_connection(warehouse, actor=warehouse.created_by)
    assert not result.ok and "cannot be decrypted" in result.message
    monkeypatch.setenv(secrets.ENV_KEY, "not-a-key")
    with pytest.raises(
        secrets.ConnectionKeyError, match=r"MODELWORKS_CONNECTIONS_KEY is not a valid Fernet key"
    ):
        secrets.encrypt({"a": "b"})


def test_two_processes_agree_on_one_key(tmp_path: Path, settings: object) -> None:
    first = secrets._read_or_create_key_file(tmp_path / "k" / "connections.key")
    second = secrets._read_or_create_key_file(tmp_path / "k" / "connections.key")
    assert first == second and not list((tmp_path / "k").glob(".*tmp"))


def _everything_said_about(warehouse: Connection, alice: User, carol: User, instance_admin: User) -> str:
    """Every answer of every interface about the connection, concatenated."""
    project = warehouse.project
    texts = []
    for user in (alice, carol):
        _, raw = ApiToken.issue(user, "t")
        api = ApiClient(token=raw)
        texts.append(api.get(f"/projects/{project.slug}/connections").content.decode())
        texts.append(api.get(f"/projects/{project.slug}/connections/{warehouse.pk}").content.decode())
        page = Client()
        page.force_login(user)
        texts.append(page.get(f"/projects/{project.slug}/connections/").content.decode())
        texts.append(page.get(f"/projects/{project.slug}/connections/{warehouse.pk}/").content.decode())
    _, raw = ApiToken.issue(alice, "t2")
    api = ApiClient(token=raw)
    texts.append(api.post(f"/projects/{project.slug}/connections/{warehouse.pk}/test").content.decode())
    texts.append(api.get("/audit").content.decode())
    texts.append(json.dumps(list(AuditEvent.objects.values("details"))))
    texts.append(json.dumps(list(Job.objects.values("params", "result", "error"))))
    return "\n".join(texts)


def test_no_page_api_audit_entry_or_job_ever_shows_the_secret(
    warehouse: Connection, alice: User, carol: User, instance_admin: User
) -> None:
    api = ApiClient(token=ApiToken.issue(alice, "x")[1])
    body = expect(api.get(f"/projects/{warehouse.project.slug}/connections/{warehouse.pk}"), 200)
    assert body["credentials_set"] == ["password"] and "password" not in body["config"]
    # An import through the connection: its job carries the connection's id, not its credentials.
    expect(
        api.post(
            f"/projects/{warehouse.project.slug}/datasets/import",
            {"connection_id": warehouse.pk, "table": "public.orders", "name": "Orders"},
        ),
        202,
    )
    text = _everything_said_about(warehouse, alice, carol, instance_admin)
    assert PASSWORD not in text
    assert "••• set" in text  # the pages say a password is stored, without showing it


def test_changing_where_credentials_go_requires_entering_them_again(
    warehouse: Connection, alice: User
) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=r"You changed the host: enter the password again"):
        services.update_connection(warehouse, actor=alice, config={"host": "evil.example"})
    assert Connection.objects.get(pk=warehouse.pk).config["host"] == "127.0.0.1"
    services.update_connection(
        warehouse, actor=alice, config={"host": "db.internal"}, secrets={"password": "New-Pass-5678"}
    )
    fresh = Connection.objects.get(pk=warehouse.pk)
    assert fresh.config["host"] == "db.internal" and fresh.secrets() == {"password": "New-Pass-5678"}
    # Changing the database (same server, same user) keeps the password.
    services.update_connection(fresh, actor=alice, config={"database": "sales2"})
    assert Connection.objects.get(pk=warehouse.pk).secrets() == {"password": "New-Pass-5678"}
    assert "New-Pass-5678" not in json.dumps(list(AuditEvent.objects.values("details")))


def test_key_file_lives_in_the_instance_home(settings: object) -> None:
    from django.conf import settings as django_settings

    assert secrets.key_path() == Path(django_settings.MODELWORKS_HOME) / "keys" / "connections.key"
    assert os.environ.get(secrets.ENV_KEY) is None
