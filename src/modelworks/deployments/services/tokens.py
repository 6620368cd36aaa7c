"""Endpoint tokens: issue (the secret is returned once, only its SHA-256 is kept) and revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.deployments.models import Deployment, EndpointToken
from modelworks.deployments.runtime import bump_revision

__all__ = ["MAX_TOKENS_PER_DEPLOYMENT", "issue_token", "revoke_token"]

MAX_TOKENS_PER_DEPLOYMENT = 100
MAX_EXPIRY_DAYS = 3650


def issue_token(
    deployment: Deployment,
    *,
    actor: Any,
    name: str,
    expires_at: datetime | None = None,
    expires_in_days: int | None = None,
    request: HttpRequest | None = None,
) -> tuple[EndpointToken, str]:
    """A new token for ``deployment``'s endpoint and its raw value (``mwe_…``), which is never stored
    nor shown again. Live within a second on the scoring service.

    Raises:
        ValidationError: on ``name`` (empty, too long), ``expires_at`` (in the past) or
            ``expires_in_days`` (not 1 to 3650), or too many live tokens.
    """
    text = str(name or "").strip()
    if not text or len(text) > 100:
        raise ValidationError(
            {"name": "Name the token (1 to 100 characters) after who calls with it, e.g. 'billing app'."}
        )
    if expires_in_days is not None:
        try:
            days = int(expires_in_days)
        except (TypeError, ValueError):
            days = 0
        if not 1 <= days <= MAX_EXPIRY_DAYS:
            raise ValidationError(
                {
                    "expires_in_days": f"A token lives from 1 to {MAX_EXPIRY_DAYS} days; got {str(expires_in_days)[:20]}."
                }
            )
        expires_at = timezone.now() + timedelta(days=days)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry date is in the past; choose a later date or none."})
    with transaction.atomic():
        locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
        live = locked.tokens.filter(revoked_at__isnull=True).count()
        if live >= MAX_TOKENS_PER_DEPLOYMENT:
            raise ValidationError(
                {"name": f"'{locked.name}' already has {live} live tokens; revoke unused ones first."}
            )
        token, raw = EndpointToken.build(
            locked,
            text,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            expires_at=expires_at,
        )
        token.save()
        bump_revision()
        audit.record(
            "deployment.token_created",
            actor=actor,
            project=locked.project,
            target=locked,
            request=request,
            details={
                "deployment": locked.name,
                "token": token.name,
                "prefix": token.key_prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return token, raw


def revoke_token(token: EndpointToken, *, actor: Any, request: HttpRequest | None = None) -> EndpointToken:
    """Revoke a token; callers using it are refused within a second. Idempotent."""
    with transaction.atomic():
        locked = (
            EndpointToken.objects.select_for_update().select_related("deployment__project").get(pk=token.pk)
        )
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        bump_revision()
        audit.record(
            "deployment.token_revoked",
            actor=actor,
            project=locked.deployment.project,
            target=locked.deployment,
            request=request,
            details={"deployment": locked.deployment.name, "token": locked.name, "prefix": locked.key_prefix},
        )
    return locked
