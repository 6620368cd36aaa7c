"""The append-only audit log: who did what, when, from where, to which object."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or remove an audit entry."""


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> AuditEventQuerySet:
        """Instance admins see everything; project admins see the entries of their projects."""
        from modelworks.core.models.projects import Project, Role

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(project__in=Project.objects.with_role(user, Role.ADMIN))

    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("audit entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")

    def search(self, text: str) -> AuditEventQuerySet:
        return self.filter(
            Q(action__icontains=text) | Q(actor_name__icontains=text) | Q(target_repr__icontains=text)
        )


class AuditEvent(models.Model):
    """One audit entry. Written through ``modelworks.core.audit.record``; never updated or deleted.

    Actor and target are kept as names too, so an entry still reads correctly after the user or the
    object it names is gone.
    """

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True, help_text="Stable code, e.g. 'token.created'.")
    outcome = models.CharField(max_length=16, default="success")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, db_index=True)
    project = models.ForeignKey(
        "core.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project_slug = models.CharField(max_length=64, blank=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["project", "-time"]), models.Index(fields=["action", "-time"])]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action} {self.target_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogIsAppendOnly("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")
