"""Writes that matter, shared by the pages, the API and the CLI: each is atomic and audited.

Views and API routes check permissions (``modelworks.core.permissions``) and then call these, so a
change made from any interface leaves the same trace in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.core.models import ApiToken, Project, ProjectMembership, Role, User

__all__ = [
    "LastAdminError",
    "add_group_member",
    "create_group",
    "create_project",
    "create_user",
    "delete_project",
    "grant_membership",
    "issue_token",
    "remove_group_member",
    "revoke_membership",
    "revoke_token",
    "update_project",
]


class LastAdminError(ValidationError):
    """The change would leave a project without any admin."""


def create_project(
    *, actor: User, slug: str, name: str, description: str = "", request: HttpRequest | None = None
) -> Project:
    """Create a project; its creator becomes its first admin."""
    project = Project(slug=slug, name=name, description=description, created_by=actor)
    project.full_clean()
    with transaction.atomic():
        try:
            project.save()
        except IntegrityError as exc:
            raise ValidationError(
                {"slug": f"A project with the short name '{slug}' already exists."}
            ) from exc
        ProjectMembership.objects.create(project=project, user=actor, role=Role.ADMIN)
        audit.record("project.created", actor=actor, project=project, target=project, request=request)
    return project


def update_project(
    project: Project, *, actor: User, request: HttpRequest | None = None, **changes: Any
) -> Project:
    """Change a project's name or description (the slug is permanent: addresses and tokens use it)."""
    allowed = {"name", "description"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    before = {k: getattr(project, k) for k in changes}
    for key, value in changes.items():
        setattr(project, key, value)
    project.full_clean()
    with transaction.atomic():
        project.save()
        audit.record(
            "project.updated",
            actor=actor,
            project=project,
            target=project,
            request=request,
            details={"before": before, "after": changes},
        )
    return project


def delete_project(project: Project, *, actor: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        audit.record(
            "project.deleted",
            actor=actor,
            project=None,
            target=project,
            request=request,
            details={"slug": project.slug},
        )
        project.delete()


def _admin_count(project: Project, excluding: ProjectMembership | None = None) -> int:
    qs = ProjectMembership.objects.filter(project=project, role=Role.ADMIN)
    if excluding is not None:
        qs = qs.exclude(pk=excluding.pk)
    return qs.count()


def grant_membership(
    project: Project,
    *,
    actor: User,
    role: Role | str,
    user: User | None = None,
    group: Group | None = None,
    request: HttpRequest | None = None,
) -> ProjectMembership:
    """Give ``user`` or ``group`` a role in ``project``, or change the role they already have."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError({"role": f"'{role}' is not a role; use reader, contributor or admin."}) from exc
    if (user is None) == (group is None):
        raise ValidationError({"user": "Choose either a user or a group."})
    with transaction.atomic():
        # Ordered by pk: the model's default ordering joins user and group (outer joins), and
        # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
        existing = (
            ProjectMembership.objects.select_for_update()
            .filter(project=project, user=user, group=group)
            .order_by("pk")
            .first()
        )
        if existing is None:
            membership = ProjectMembership.objects.create(project=project, user=user, group=group, role=role)
            action, details = "membership.granted", {"role": role.value}
        else:
            if existing.role == role:
                return existing
            if existing.role == Role.ADMIN and _admin_count(project, excluding=existing) == 0:
                raise LastAdminError(
                    {"role": "This is the project's last admin; make someone else admin first."}
                )
            details = {"before": existing.role, "after": role.value}
            existing.role = role
            existing.save(update_fields=["role", "updated_at"])
            membership, action = existing, "membership.changed"
        details["principal"] = membership.principal_name
        audit.record(
            action, actor=actor, project=project, target=membership, request=request, details=details
        )
    return membership


def revoke_membership(
    membership: ProjectMembership, *, actor: User, request: HttpRequest | None = None
) -> None:
    """Remove a user's or group's role in a project (never the last admin)."""
    with transaction.atomic():
        if membership.role == Role.ADMIN and _admin_count(membership.project, excluding=membership) == 0:
            raise LastAdminError({"role": "This is the project's last admin; make someone else admin first."})
        audit.record(
            "membership.revoked",
            actor=actor,
            project=membership.project,
            target=membership,
            request=request,
            details={"principal": membership.principal_name, "role": membership.role},
        )
        membership.delete()


def issue_token(
    *,
    actor: User,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for ``user``; returns the token and its raw value (shown once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name that says what it is for."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry date must be in the future."})
    with transaction.atomic():
        token, raw = ApiToken.issue(user, name[:100], expires_at=expires_at)
        audit.record(
            "token.created",
            actor=actor,
            target=token,
            request=request,
            details={"user": user.username, "expires_at": expires_at.isoformat() if expires_at else None},
        )
    return token, raw


def revoke_token(token: ApiToken, *, actor: User, request: HttpRequest | None = None) -> ApiToken:
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(
                "token.revoked",
                actor=actor,
                target=token,
                request=request,
                details={"user": token.user.username},
            )
    return token


def create_user(
    *,
    actor: User | None,
    username: str,
    email: str = "",
    password: str | None = None,
    is_instance_admin: bool = False,
    request: HttpRequest | None = None,
) -> User:
    """Create a user. Without a password the account cannot sign in until one is set."""
    from django.contrib.auth.password_validation import validate_password

    user = User(username=username, email=email, is_superuser=is_instance_admin, is_staff=is_instance_admin)
    user.full_clean(exclude=["password"])
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        audit.record(
            "user.created",
            actor=actor,
            target=user,
            request=request,
            details={"instance_admin": is_instance_admin},
        )
    return user


def create_group(*, actor: User, name: str, request: HttpRequest | None = None) -> Group:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A group needs a name."})
    if Group.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A group named '{name}' already exists."})
    with transaction.atomic():
        group = Group.objects.create(name=name[:150])
        audit.record("group.created", actor=actor, target=group, request=request)
    return group


def add_group_member(group: Group, user: User, *, actor: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        group.user_set.add(user)
        audit.record(
            "group.member_added", actor=actor, target=group, request=request, details={"user": user.username}
        )


def remove_group_member(group: Group, user: User, *, actor: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        group.user_set.remove(user)
        audit.record(
            "group.member_removed",
            actor=actor,
            target=group,
            request=request,
            details={"user": user.username},
        )
