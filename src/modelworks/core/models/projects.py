"""Projects, the unit of work and isolation, and the roles users and groups hold in them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from modelworks.core.models.base import TimestampedModel


class Role(models.TextChoices):
    """Project roles, each including the rights of the ones before it."""

    READER = "reader", "Reader"
    CONTRIBUTOR = "contributor", "Contributor"
    ADMIN = "admin", "Admin"

    @property
    def rank(self) -> int:
        return _RANKS[self.value]

    def allows(self, needed: Role) -> bool:
        """True when this role grants at least ``needed``."""
        return self.rank >= Role(needed).rank

    @classmethod
    def at_least(cls, needed: Role) -> list[str]:
        """The role values that grant at least ``needed``."""
        return [r.value for r in cls if r.rank >= Role(needed).rank]


_RANKS = {"reader": 1, "contributor": 2, "admin": 3}

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "Use 1 to 64 lower-case letters, digits and hyphens, starting and ending with a letter or digit.",
)


class ProjectQuerySet(models.QuerySet):
    def with_role(self, user: Any, role: Role) -> ProjectQuerySet:
        """Projects where ``user`` holds at least ``role``, directly or through a group."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        roles = Role.at_least(role)
        direct = ProjectMembership.objects.filter(user=user, role__in=roles).values("project_id")
        via_group = ProjectMembership.objects.filter(group__user=user, role__in=roles).values("project_id")
        return self.filter(Q(id__in=direct) | Q(id__in=via_group))

    def visible_to(self, user: Any) -> ProjectQuerySet:
        """Projects ``user`` may read."""
        return self.with_role(user, Role.READER)


class Project(TimestampedModel):
    """A use case's workspace. Every dataset, flow, model, deployment and job belongs to one."""

    slug = models.CharField(
        max_length=64,
        unique=True,
        validators=[slug_validator],
        help_text="Short name used in addresses, e.g. flight-delays.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def role_of(self, user: Any) -> Role | None:
        """The strongest role ``user`` holds here (instance admins are admins everywhere)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if user.is_superuser:
            return Role.ADMIN
        roles = ProjectMembership.objects.filter(
            Q(user=user) | Q(group__user=user), project=self
        ).values_list("role", flat=True)
        best = max((Role(r) for r in roles), key=lambda r: r.rank, default=None)
        return best


class ProjectMembership(TimestampedModel):
    """A role granted in a project to one user or to one group (exactly one of the two)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="project_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.READER)

    class Meta:
        ordering = ["project", "role", "user__username", "group__name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False)
                ),
                name="membership_user_xor_group",
            ),
            models.UniqueConstraint(
                fields=["project", "user"], condition=Q(user__isnull=False), name="unique_user_membership"
            ),
            models.UniqueConstraint(
                fields=["project", "group"], condition=Q(group__isnull=False), name="unique_group_membership"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.principal_name} is {self.get_role_display()} of {self.project}"

    @property
    def principal_name(self) -> str:
        return self.user.username if self.user_id else f"group {self.group.name}"

    @property
    def principal_kind(self) -> str:
        return "user" if self.user_id else "group"

    def clean(self) -> None:
        if bool(self.user_id) == bool(self.group_id):
            raise ValidationError({"user": "Choose either a user or a group, not both and not neither."})
