"""Connection writes shared by the pages and the API: each is atomic and audited.

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
Audit entries name what changed, never a credential value.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from modelworks.connections.models import (
    CONFIG_FIELDS,
    DESTINATION_FIELDS,
    SECRET_FIELDS,
    Connection,
    ConnectionKind,
)
from modelworks.connections.secrets import ConnectionKeyError
from modelworks.connections.sources import SourceError, TestResult, source_for
from modelworks.core import audit
from modelworks.core.models import Project, User

__all__ = [
    "create_connection",
    "delete_connection",
    "open_source",
    "test_connection",
    "update_connection",
]


def _check_secret_names(kind: str, secrets: dict[str, str | None]) -> None:
    allowed = SECRET_FIELDS.get(kind, ())
    unknown = sorted(set(secrets) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                name: f"'{name}' is not a credential of a {ConnectionKind(kind).label} connection."
                for name in unknown
            }
        )


def _save(connection: Connection, field: str) -> None:
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as exc:
        raise ValidationError(
            {field: f"A connection named '{connection.name}' already exists here."}
        ) from exc


def create_connection(
    *,
    actor: User,
    project: Project | None,
    name: str,
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, str | None] | None = None,
    description: str = "",
    shared_with: list[Project] | None = None,
    request: HttpRequest | None = None,
) -> Connection:
    """Create a connection of ``project`` (or an instance-level one when ``project`` is None).

    Raises:
        ValidationError: keyed by field, e.g. a missing host or a name already used.
    """
    if kind not in ConnectionKind.values:
        raise ValidationError({"kind": f"'{kind}' is not a connection kind; use postgresql or s3."})
    secrets = secrets or {}
    _check_secret_names(kind, secrets)
    connection = Connection(
        project=project, name=name, kind=kind, description=description, config=config, created_by=actor
    )
    connection.full_clean(exclude=["project"])
    connection.set_secrets(secrets)
    with transaction.atomic():
        _save(connection, "name")
        if project is None and shared_with:
            connection.shared_with.set(shared_with)
        audit.record(
            "connection.created",
            actor=actor,
            project=project,
            target=connection,
            request=request,
            details={
                "kind": kind,
                "config": connection.config,
                "credentials_set": connection.secret_names,
                "shared_with": [p.slug for p in shared_with or []],
            },
        )
    return connection


def update_connection(
    connection: Connection,
    *,
    actor: User,
    name: str | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    secrets: dict[str, str | None] | None = None,
    clear_secrets: list[str] | None = None,
    shared_with: list[Project] | None = None,
    request: HttpRequest | None = None,
) -> Connection:
    """Change a connection. ``config`` is merged into the current settings; an empty credential keeps
    the stored one.

    Raises:
        ValidationError: a setting is invalid, or a destination (host, port, user, endpoint) changed
            while a stored credential would be kept: it must be entered again.
    """
    secrets = {k: v for k, v in (secrets or {}).items() if v}
    _check_secret_names(connection.kind, secrets)
    changed: list[str] = []
    if name is not None and name != connection.name:
        connection.name = name
        changed.append("name")
    if description is not None and description != connection.description:
        connection.description = description
        changed.append("description")
    if config is not None:
        before = dict(connection.config)
        unknown = sorted(set(config) - set(CONFIG_FIELDS[connection.kind]))
        if unknown:
            raise ValidationError({k: f"'{k}' is not a setting of this connection." for k in unknown})
        connection.config = {**before, **config}
        connection.full_clean(exclude=["project"])
        moved = [k for k in DESTINATION_FIELDS[connection.kind] if connection.config.get(k) != before.get(k)]
        kept = [k for k in connection.secret_names if k not in secrets and k not in (clear_secrets or [])]
        if moved and kept:
            raise ValidationError(
                {
                    kept[
                        0
                    ]: f"You changed the {', '.join(moved)}: enter the {kept[0].replace('_', ' ')} again. "
                    "Stored credentials are only sent where they were first entered."
                }
            )
        changed += [k for k in connection.config if connection.config.get(k) != before.get(k)]
    else:
        connection.full_clean(exclude=["project"])
    for key in clear_secrets or []:
        _check_secret_names(connection.kind, {key: None})
        if key in connection.secret_names:
            connection.clear_secret(key)
            changed.append(f"{key} (cleared)")
    if secrets:
        connection.set_secrets(secrets)
        changed += [f"{key} (replaced)" for key in sorted(secrets)]
    with transaction.atomic():
        _save(connection, "name")
        if shared_with is not None and connection.project_id is None:
            before_shared = sorted(connection.shared_with.values_list("slug", flat=True))
            connection.shared_with.set(shared_with)
            after_shared = sorted(p.slug for p in shared_with)
            if before_shared != after_shared:
                changed.append("shared_with")
        audit.record(
            "connection.updated",
            actor=actor,
            project=connection.project,
            target=connection,
            request=request,
            details={"changed": changed},
        )
    return connection


def delete_connection(connection: Connection, *, actor: User, request: HttpRequest | None = None) -> None:
    """Delete a connection and its credentials. Datasets imported through it keep their versions."""
    with transaction.atomic():
        audit.record(
            "connection.deleted",
            actor=actor,
            project=connection.project,
            target=connection,
            request=request,
            details={"kind": connection.kind},
        )
        connection.delete()


def open_source(connection: Connection) -> Any:
    """The reader of ``connection`` with its decrypted credentials (only jobs and tests call this).

    Raises:
        SourceError: the settings are incomplete, or the credentials cannot be decrypted.
    """
    try:
        secrets = connection.secrets()
    except ConnectionKeyError as exc:
        raise SourceError(str(exc)) from exc
    return source_for(connection.kind, connection.config, secrets)


def test_connection(
    connection: Connection, *, actor: User, project: Project | None = None, request: HttpRequest | None = None
) -> TestResult:
    """Try the connection now and remember the answer (audited as ``connection.tested``).

    Args:
        project: the project the test was asked from (an instance connection tested from a project).
    """
    try:
        result = open_source(connection).test()
    except SourceError as exc:
        result = TestResult(False, str(exc))
    connection.last_tested_at = timezone.now()
    connection.last_test_ok = result.ok
    connection.last_test_message = result.message[:500]
    with transaction.atomic():
        connection.save(update_fields=["last_tested_at", "last_test_ok", "last_test_message", "updated_at"])
        audit.record(
            "connection.tested",
            actor=actor,
            project=project or connection.project,
            target=connection,
            request=request,
            outcome="success" if result.ok else "failure",
            details={"message": result.message, **result.details},
        )
    return result


# Named in the user's words ("test connection"); not a pytest test when imported into a test module.
test_connection.__test__ = False  # type: ignore[attr-defined]
