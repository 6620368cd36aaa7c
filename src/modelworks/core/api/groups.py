"""``/groups``: groups of users, to grant project roles to many people at once.

Instance administrators manage groups. Other users see the groups they belong to; any other group
answers 404, like a project they are not a member of.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core import services
from modelworks.core.api.errors import responses
from modelworks.core.api.members import find_user
from modelworks.core.permissions import require_instance_admin
from modelworks.core.schemas import GroupDetailOut, GroupIn, GroupMemberIn, GroupOut

__all__ = ["router"]

router = Router(tags=["groups"])


def _visible_groups(user: Any) -> QuerySet:
    groups = Group.objects.all() if user.is_superuser else Group.objects.filter(user=user)
    return groups.annotate(member_count=Count("user", distinct=True))


def _group(user: Any, group_id: int, *, manage: bool) -> Group:
    """The group ``group_id`` if ``user`` may see it (404 otherwise); ``manage`` needs an instance admin."""
    group = _visible_groups(user).filter(pk=group_id).first()
    if group is None:
        raise Http404(f"No group {group_id} that you can see.")
    if manage:
        require_instance_admin(user)
    return group


@router.get(
    "/groups",
    response=responses({200: list[GroupOut]}, 422),
    operation_id="groups_list",
    summary="List groups",
)
@paginate
def groups_list(request: HttpRequest) -> QuerySet:
    """All groups for instance administrators; the caller's own groups for everyone else."""
    return _visible_groups(request.user).order_by("name", "id")


@router.post(
    "/groups",
    response=responses({201: GroupDetailOut}, 403, 422),
    operation_id="groups_create",
    summary="Create a group",
)
def groups_create(request: HttpRequest, payload: GroupIn) -> Status:
    """Create a group (instance administrators)."""
    require_instance_admin(request.user)
    return Status(201, services.create_group(actor=request.user, name=payload.name, request=request))


@router.get(
    "/groups/{group_id}",
    response=responses({200: GroupDetailOut}, 404),
    operation_id="groups_get",
    summary="Get a group",
)
def groups_get(request: HttpRequest, group_id: int) -> Group:
    """A group and its members (its members and instance administrators)."""
    return _group(request.user, group_id, manage=False)


@router.post(
    "/groups/{group_id}/members",
    response=responses({200: GroupDetailOut}, 403, 404, 422),
    operation_id="groups_add_member",
    summary="Add a user to a group",
)
def groups_add_member(request: HttpRequest, group_id: int, payload: GroupMemberIn) -> Group:
    """Add a user to a group (instance administrators)."""
    group = _group(request.user, group_id, manage=True)
    services.add_group_member(group, find_user(payload.user), actor=request.user, request=request)
    return group


@router.delete(
    "/groups/{group_id}/members/{user_id}",
    response=responses({200: GroupDetailOut}, 403, 404),
    operation_id="groups_remove_member",
    summary="Remove a user from a group",
)
def groups_remove_member(request: HttpRequest, group_id: int, user_id: int) -> Group:
    """Remove a user from a group (instance administrators)."""
    group = _group(request.user, group_id, manage=True)
    member = group.user_set.filter(pk=user_id).first()
    if member is None:
        raise Http404(f"User {user_id} is not a member of group '{group.name}'.")
    services.remove_group_member(group, member, actor=request.user, request=request)
    return group
