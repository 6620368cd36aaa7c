"""``/projects/{slug}/connections`` and ``/connections`` (instance administrators).

Project readers see the project's connections and those shared with it; project admins create,
change and delete the project's own; contributors test them and list what they offer. Shared
connections are managed under ``/connections`` by instance administrators only.
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.connections import services
from modelworks.connections.access import get_instance_connection, get_project_connection
from modelworks.connections.models import CONFIG_FIELDS, SECRET_FIELDS, Connection
from modelworks.connections.schemas import (
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    ConnectionTestOut,
    InstanceConnectionIn,
    InstanceConnectionOut,
    InstanceConnectionPatch,
    SourceItemOut,
)
from modelworks.connections.sources import SourceError
from modelworks.core.api.errors import responses
from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project, require_instance_admin

__all__ = ["router"]

router = Router(tags=["connections"])

_BASE = {"name", "kind", "description", "shared_with", "clear_credentials"}


def _split(kind: str, payload: Any) -> tuple[dict[str, Any], dict[str, str | None]]:
    """Settings and credentials of ``payload``; a setting of another kind is a field error."""
    given = payload.dict(exclude_unset=True)
    config = {k: v for k, v in given.items() if k in CONFIG_FIELDS[kind]}
    secrets = {k: v for k, v in given.items() if k in SECRET_FIELDS[kind]}
    foreign = sorted(k for k in given if k not in _BASE and k not in config and k not in secrets)
    if foreign:
        raise ValidationError({k: f"'{k}' is not a setting of a {kind} connection." for k in foreign})
    return config, secrets


def _projects(slugs: list[str]) -> list[Project]:
    found = {p.slug: p for p in Project.objects.filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise ValidationError({"shared_with": f"No project with the short name '{missing[0]}'."})
    return [found[s] for s in slugs]


# ------------------------------------------------------------------------------------------ project


@router.get(
    "/projects/{slug}/connections",
    response=responses({200: list[ConnectionOut]}, 404, 422),
    operation_id="connections_list",
    summary="List a project's connections",
)
@paginate
def connections_list(request: HttpRequest, slug: str) -> QuerySet:
    """The project's connections and the instance connections shared with it (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        Connection.objects.usable_in(project).select_related("project", "created_by").order_by("name", "id")
    )


@router.post(
    "/projects/{slug}/connections",
    response=responses({201: ConnectionOut}, 403, 404, 409, 422),
    operation_id="connections_create",
    summary="Create a connection",
)
def connections_create(request: HttpRequest, slug: str, payload: ConnectionIn) -> Status:
    """Create a PostgreSQL or S3 connection in the project (project admins)."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    config, secrets = _split(payload.kind, payload)
    connection = services.create_connection(
        actor=request.user,
        project=project,
        name=payload.name,
        kind=payload.kind,
        description=payload.description,
        config=config,
        secrets=secrets,
        request=request,
    )
    return Status(201, connection)


@router.get(
    "/projects/{slug}/connections/{connection_id}",
    response=responses({200: ConnectionOut}, 404),
    operation_id="connections_get",
    summary="Get a connection",
)
def connections_get(request: HttpRequest, slug: str, connection_id: int) -> Connection:
    """One connection, without its credentials (readers and above)."""
    return get_project_connection(request.user, slug, connection_id, Role.READER)[1]


@router.patch(
    "/projects/{slug}/connections/{connection_id}",
    response=responses({200: ConnectionOut}, 403, 404, 409, 422),
    operation_id="connections_update",
    summary="Change a connection",
)
def connections_update(
    request: HttpRequest, slug: str, connection_id: int, payload: ConnectionPatch
) -> Connection:
    """Change settings or credentials (project admins). Changing the host, port, user or endpoint
    requires sending the credentials again."""
    _, connection = get_project_connection(request.user, slug, connection_id, Role.ADMIN, change=True)
    config, secrets = _split(connection.kind, payload)
    return services.update_connection(
        connection,
        actor=request.user,
        name=payload.name,
        description=payload.description,
        config=config or None,
        secrets=secrets,
        clear_secrets=payload.clear_credentials,
        request=request,
    )


@router.delete(
    "/projects/{slug}/connections/{connection_id}",
    response=responses({204: None}, 403, 404),
    operation_id="connections_delete",
    summary="Delete a connection",
)
def connections_delete(request: HttpRequest, slug: str, connection_id: int) -> Status:
    """Delete a connection of the project (project admins)."""
    _, connection = get_project_connection(request.user, slug, connection_id, Role.ADMIN, change=True)
    services.delete_connection(connection, actor=request.user, request=request)
    return Status(204, None)


@router.post(
    "/projects/{slug}/connections/{connection_id}/test",
    response=responses({200: ConnectionTestOut}, 403, 404),
    operation_id="connections_test",
    summary="Test a connection",
)
def connections_test(request: HttpRequest, slug: str, connection_id: int) -> dict[str, Any]:
    """Connect now and answer in plain words (contributors and above). A failure is ``ok: false``."""
    project, connection = get_project_connection(request.user, slug, connection_id, Role.CONTRIBUTOR)
    result = services.test_connection(connection, actor=request.user, project=project, request=request)
    return {"ok": result.ok, "message": result.message, "details": result.details}


@router.get(
    "/projects/{slug}/connections/{connection_id}/items",
    response=responses({200: list[SourceItemOut]}, 403, 404, 422),
    operation_id="connections_items",
    summary="List the tables or files of a connection",
)
@paginate
def connections_items(
    request: HttpRequest, slug: str, connection_id: int, prefix: str = ""
) -> list[dict[str, Any]]:
    """Tables of a database (``schema.table``) or files of a bucket (under ``prefix``), to import
    (contributors and above)."""
    _, connection = get_project_connection(request.user, slug, connection_id, Role.CONTRIBUTOR)
    try:
        source = services.open_source(connection)
        if connection.kind == "postgresql":
            return [{"name": name} for name in source.list_tables()]
        return [{"name": f.key, "size": f.size} for f in source.list_files(prefix)]
    except SourceError as exc:
        raise ValidationError({"connection": str(exc)}) from exc


# ----------------------------------------------------------------------------------------- instance


@router.get(
    "/connections",
    response=responses({200: list[InstanceConnectionOut]}, 403, 422),
    operation_id="instance_connections_list",
    summary="List shared connections",
)
@paginate
def instance_connections_list(request: HttpRequest) -> QuerySet:
    """Instance-level connections and the projects they are shared with (instance administrators)."""
    require_instance_admin(request.user)
    return (
        Connection.objects.filter(project__isnull=True)
        .select_related("created_by")
        .prefetch_related("shared_with")
        .order_by("name", "id")
    )


@router.post(
    "/connections",
    response=responses({201: InstanceConnectionOut}, 403, 409, 422),
    operation_id="instance_connections_create",
    summary="Create a shared connection",
)
def instance_connections_create(request: HttpRequest, payload: InstanceConnectionIn) -> Status:
    """Create an instance-level connection and share it with projects (instance administrators)."""
    require_instance_admin(request.user)
    config, secrets = _split(payload.kind, payload)
    connection = services.create_connection(
        actor=request.user,
        project=None,
        name=payload.name,
        kind=payload.kind,
        description=payload.description,
        config=config,
        secrets=secrets,
        shared_with=_projects(payload.shared_with),
        request=request,
    )
    return Status(201, connection)


@router.get(
    "/connections/{connection_id}",
    response=responses({200: InstanceConnectionOut}, 403, 404),
    operation_id="instance_connections_get",
    summary="Get a shared connection",
)
def instance_connections_get(request: HttpRequest, connection_id: int) -> Connection:
    """One instance-level connection (instance administrators)."""
    return get_instance_connection(request.user, connection_id)


@router.patch(
    "/connections/{connection_id}",
    response=responses({200: InstanceConnectionOut}, 403, 404, 409, 422),
    operation_id="instance_connections_update",
    summary="Change a shared connection",
)
def instance_connections_update(
    request: HttpRequest, connection_id: int, payload: InstanceConnectionPatch
) -> Connection:
    """Change settings, credentials or the projects it is shared with (instance administrators)."""
    connection = get_instance_connection(request.user, connection_id)
    config, secrets = _split(connection.kind, payload)
    return services.update_connection(
        connection,
        actor=request.user,
        name=payload.name,
        description=payload.description,
        config=config or None,
        secrets=secrets,
        clear_secrets=payload.clear_credentials,
        shared_with=_projects(payload.shared_with) if payload.shared_with is not None else None,
        request=request,
    )


@router.delete(
    "/connections/{connection_id}",
    response=responses({204: None}, 403, 404),
    operation_id="instance_connections_delete",
    summary="Delete a shared connection",
)
def instance_connections_delete(request: HttpRequest, connection_id: int) -> Status:
    """Delete an instance-level connection (instance administrators)."""
    connection = get_instance_connection(request.user, connection_id)
    services.delete_connection(connection, actor=request.user, request=request)
    return Status(204, None)


@router.post(
    "/connections/{connection_id}/test",
    response=responses({200: ConnectionTestOut}, 403, 404),
    operation_id="instance_connections_test",
    summary="Test a shared connection",
)
def instance_connections_test(request: HttpRequest, connection_id: int) -> dict[str, Any]:
    """Connect now and answer in plain words (instance administrators)."""
    connection = get_instance_connection(request.user, connection_id)
    result = services.test_connection(connection, actor=request.user, request=request)
    return {"ok": result.ok, "message": result.message, "details": result.details}
