"""``/audit`` and ``/projects/{slug}/audit``: the audit log, read-only.

No route changes or deletes an entry: the log is append-only (the model refuses it too).
Instance administrators read everything; project admins read the entries of their projects.
"""

# No ``from __future__ import annotations`` here: ninja evaluates the parameter annotations of a
# ``@paginate`` view in the namespace of the pagination wrapper, where names such as ``AuditFilter``
# or ``uuid`` are unknown; real annotation objects avoid that lookup.

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from modelworks.core.api.errors import responses
from modelworks.core.models import AuditEvent, Role
from modelworks.core.permissions import get_project
from modelworks.core.schemas import AuditEventOut, AuditFilter, ProjectAuditFilter

__all__ = ["router"]

router = Router(tags=["audit"])


def _filtered(entries: QuerySet, filters: ProjectAuditFilter) -> QuerySet:
    lookups: dict[str, Any] = {}
    if filters.action:
        lookups["action"] = filters.action
    if filters.actor:
        lookups["actor_name__iexact"] = filters.actor
    if filters.since:
        lookups["time__gte"] = filters.since
    if filters.until:
        lookups["time__lt"] = filters.until
    if isinstance(filters, AuditFilter) and filters.project:
        lookups["project_slug"] = filters.project
    return entries.filter(**lookups).order_by("-time", "-id")


@router.get(
    "/audit",
    response=responses({200: list[AuditEventOut]}, 422),
    operation_id="audit_list",
    summary="Read the audit log",
)
@paginate
def audit_list(request: HttpRequest, filters: AuditFilter = Query(...)) -> QuerySet:  # noqa: B008
    """Audit entries, newest first: all of them for instance administrators, those of the projects
    the caller administers for everyone else (an empty list if none)."""
    return _filtered(AuditEvent.objects.visible_to(request.user), filters)


@router.get(
    "/projects/{slug}/audit",
    response=responses({200: list[AuditEventOut]}, 403, 404, 422),
    operation_id="project_audit_list",
    summary="Read a project's audit log",
)
@paginate
def project_audit_list(request: HttpRequest, slug: str, filters: ProjectAuditFilter = Query(...)) -> QuerySet:  # noqa: B008
    """Audit entries of one project, newest first (project admins)."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    return _filtered(AuditEvent.objects.filter(project=project), filters)
