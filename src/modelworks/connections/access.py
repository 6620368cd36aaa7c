"""Finding a connection the caller may use, with the one permission model (404 / 403)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from modelworks.connections.models import Connection
from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project, require_instance_admin

__all__ = ["get_instance_connection", "get_project_connection"]


def get_project_connection(
    user: Any, slug: str, connection_id: int, needed: Role = Role.READER, *, change: bool = False
) -> tuple[Project, Connection]:
    """A connection usable in project ``slug`` (its own or shared with it).

    Args:
        needed: the project role the caller must hold.
        change: the caller wants to change or delete it: a shared instance connection is then
            refused (403) to anyone but instance administrators.

    Raises:
        Http404: no such project or connection that the caller can see.
        PermissionDenied: the role is too weak, or the connection belongs to the instance.
    """
    project, _ = get_project(user, slug, needed)
    connection = Connection.objects.usable_in(project).filter(pk=connection_id).first()
    if connection is None:
        raise Http404(f"No connection {connection_id} in project '{slug}'.")
    if change and connection.project_id is None and not user.is_superuser:
        raise PermissionDenied(
            f"'{connection.name}' is shared with this project by the instance administrators; only they can change it."
        )
    return project, connection


def get_instance_connection(user: Any, connection_id: int) -> Connection:
    """An instance-level connection (instance administrators only)."""
    require_instance_admin(user)
    connection = Connection.objects.filter(pk=connection_id, project__isnull=True).first()
    if connection is None:
        raise Http404(f"No instance connection {connection_id}.")
    return connection
