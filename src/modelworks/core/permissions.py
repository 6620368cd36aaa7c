"""The one permission model, used by pages and the API alike.

* Anonymous callers never reach a project object (pages redirect to login, the API answers 401).
* A non-member gets **404** for anything in a project, so the existence of a project does not leak.
* A member whose role is too weak gets **403**.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from modelworks.core.models import Project, Role

__all__ = ["InstanceAdminRequired", "get_project", "require_instance_admin"]


class InstanceAdminRequired(PermissionDenied):
    """Only instance administrators may do this."""


def get_project(user: Any, slug: str, needed: Role = Role.READER) -> tuple[Project, Role]:
    """The project ``slug`` and the caller's role in it, when the role grants ``needed``.

    Raises:
        Http404: the project does not exist or ``user`` is not a member (indistinguishable).
        PermissionDenied: ``user`` is a member whose role is weaker than ``needed``.
    """
    project = Project.objects.filter(slug=slug).first()
    role = project.role_of(user) if project is not None else None
    if project is None or role is None:
        raise Http404(f"No project '{slug}' that you can see.")
    if not role.allows(needed):
        raise PermissionDenied(
            f"You are {role.label.lower()} of project '{slug}'; this needs the {Role(needed).label.lower()} role."
        )
    return project, role


def require_instance_admin(user: Any) -> None:
    """Raise unless ``user`` is an instance administrator."""
    if not (user is not None and user.is_authenticated and user.is_active and user.is_superuser):
        raise InstanceAdminRequired("Only instance administrators can do this.")
