"""Abstract model tiers shared by every domain app: ``TimestampedModel`` → ``ProjectScopedModel``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from modelworks.core.models.projects import Role


class TimestampedModel(models.Model):
    """Adds creation and last-change times."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ProjectScopedQuerySet(models.QuerySet):
    """Query logic for objects that belong to a project."""

    def visible_to(self, user: Any) -> ProjectScopedQuerySet:
        """Objects in the projects where ``user`` has at least the reader role."""
        from modelworks.core.models.projects import Project

        return self.filter(project__in=Project.objects.visible_to(user))

    def with_role(self, user: Any, role: Role) -> ProjectScopedQuerySet:
        """Objects in the projects where ``user`` has at least ``role``."""
        from modelworks.core.models.projects import Project

        return self.filter(project__in=Project.objects.with_role(user, role))


class ProjectScopedModel(TimestampedModel):
    """Every object users work on belongs to exactly one project: the unit of access control."""

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="+")

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        abstract = True
