"""The audit API every domain calls: ``record(action, actor=…, project=…, target=…, details=…)``.

Actions are stable dotted codes. Those of the platform foundation:

* ``auth.login``, ``auth.login_failed``, ``auth.logout``, ``auth.password_changed``
* ``user.created``, ``user.updated``, ``group.created``, ``group.member_added``, ``group.member_removed``
* ``project.created``, ``project.updated``, ``project.deleted``
* ``membership.granted``, ``membership.changed``, ``membership.revoked``
* ``token.created``, ``token.revoked``
* ``job.submitted``, ``job.cancel_requested``, ``job.retried``
* ``notification.sent``, ``notification.failed``, ``notification.skipped`` (e-mails to the people a
  request waits on, sent by ``core.send_email`` jobs: ``core.notify``), ``notification.reminded``
  (a pending request's reminder was queued; the last one sets when the next is due)

Later domains add theirs (``data.accessed``, ``deployment.created``, ``model.promoted`` …).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from modelworks.core.models import AuditEvent, Project

__all__ = ["client_ip", "record"]


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address as seen by this server (a proxy's own address is not rewritten)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    actor: Any = None,
    project: Project | None = None,
    target: models.Model | None = None,
    target_repr: str | None = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    outcome: str = "success",
    actor_name: str | None = None,
) -> AuditEvent:
    """Append one entry to the audit log and return it.

    Args:
        action: stable dotted code of what happened, e.g. ``"membership.granted"``.
        actor: the user who acted; None for the system.
        project: the project concerned, if any; project admins see entries of their projects.
        target: the object acted on, if any.
        target_repr: how to name the target when there is no object (e.g. a failed login's username).
        details: small JSON-serialisable facts (never secrets).
        request: the HTTP request, for the caller's address.
        outcome: ``"success"`` or ``"failure"``.
        actor_name: name to record when there is no user object (e.g. an unknown username).
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action,
        outcome=outcome,
        actor=actor,
        actor_name=actor_name or (actor.get_username() if actor is not None else ""),
        project=project,
        project_slug=project.slug if project is not None else "",
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=(target_repr if target_repr is not None else (str(target) if target is not None else ""))[
            :300
        ],
        ip_address=client_ip(request),
        details=details or {},
    )
