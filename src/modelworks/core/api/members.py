"""``/projects/{slug}/members``: who holds which role in a project.

Readers see the members; only admins grant, change and revoke roles. The last admin of a project
can be neither demoted nor removed (``LastAdminError`` from the services → 409 ``conflict``).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core import services
from modelworks.core.api.errors import responses
from modelworks.core.models import Project, ProjectMembership, Role, User
from modelworks.core.permissions import get_project
from modelworks.core.schemas import MembershipIn, MembershipOut, MembershipPatch

__all__ = ["find_group", "find_user", "router"]

router = Router(tags=["members"])


def find_user(ref: int | str, field: str = "user") -> User:
    """The active user with id or username ``ref``, or a validation error naming ``field``."""
    query = User.objects.filter(is_active=True)
    user = query.filter(pk=ref).first() if isinstance(ref, int) else query.filter(username=ref).first()
    if user is None:
        raise ValidationError(
            {field: f"No active user '{ref}'. Check the username (GET /api/v1/users?search=…)."}
        )
    return user


def find_group(ref: int | str, field: str = "group") -> Group:
    group = (
        Group.objects.filter(pk=ref).first()
        if isinstance(ref, int)
        else Group.objects.filter(name=ref).first()
    )
    if group is None:
        raise ValidationError({field: f"No group '{ref}'. Check its name (GET /api/v1/groups)."})
    return group


def _membership(project: Project, membership_id: int) -> ProjectMembership:
    membership = (
        ProjectMembership.objects.select_related("project", "user", "group")
        .filter(project=project, pk=membership_id)
        .first()
    )
    if membership is None:
        raise Http404(f"No membership {membership_id} in project '{project.slug}'.")
    return membership


@router.get(
    "/projects/{slug}/members",
    response=responses({200: list[MembershipOut]}, 404, 422),
    operation_id="members_list",
    summary="List a project's members",
)
@paginate
def members_list(request: HttpRequest, slug: str) -> QuerySet:
    """Users and groups with a role in the project (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return project.memberships.select_related("user", "group").order_by(
        "role", "user__username", "group__name", "id"
    )


@router.post(
    "/projects/{slug}/members",
    response=responses({200: MembershipOut, 201: MembershipOut}, 403, 404, 409, 422),
    operation_id="members_grant",
    summary="Grant a role",
)
def members_grant(request: HttpRequest, slug: str, payload: MembershipIn) -> Status:
    """Give a user or a group a role (admins). If they already have one, it is changed (200)."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    if (payload.user is None) == (payload.group is None):
        raise ValidationError(
            {"user": "Send exactly one of 'user' (id or username) or 'group' (id or name)."}
        )
    user = find_user(payload.user) if payload.user is not None else None
    group = find_group(payload.group) if payload.group is not None else None
    existed = ProjectMembership.objects.filter(project=project, user=user, group=group).exists()
    membership = services.grant_membership(
        project, actor=request.user, role=payload.role, user=user, group=group, request=request
    )
    return Status(200 if existed else 201, membership)


@router.patch(
    "/projects/{slug}/members/{membership_id}",
    response=responses({200: MembershipOut}, 403, 404, 409, 422),
    operation_id="members_update",
    summary="Change a member's role",
)
def members_update(
    request: HttpRequest, slug: str, membership_id: int, payload: MembershipPatch
) -> ProjectMembership:
    """Change the role of a membership (admins)."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    membership = _membership(project, membership_id)
    return services.grant_membership(
        project,
        actor=request.user,
        role=payload.role,
        user=membership.user,
        group=membership.group,
        request=request,
    )


@router.delete(
    "/projects/{slug}/members/{membership_id}",
    response=responses({204: None}, 403, 404, 409),
    operation_id="members_revoke",
    summary="Revoke a role",
)
def members_revoke(request: HttpRequest, slug: str, membership_id: int) -> Status:
    """Remove a user's or group's role in the project (admins)."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    services.revoke_membership(_membership(project, membership_id), actor=request.user, request=request)
    return Status(204, None)
