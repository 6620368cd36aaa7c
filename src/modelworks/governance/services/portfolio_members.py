"""Portfolio membership (instance administrators): grant or revoke the viewer and lead roles to
users or groups. Audited as ``governance.member_granted`` / ``_changed`` / ``_revoked``.

The portfolio keeps at least one governance lead: the last lead (a user, or a group with active
users) can be neither demoted nor revoked (:class:`LastLeadError`; the API answers 409)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import User
from modelworks.core.permissions import require_instance_admin
from modelworks.core.services import LastAdminError
from modelworks.governance.models import PortfolioMember, PortfolioRole

__all__ = ["LastLeadError", "grant_portfolio_role", "revoke_portfolio_role"]


class LastLeadError(LastAdminError):
    """The change would leave the portfolio without a governance lead (a ``ValidationError`` keyed
    ``role``; the API's handler for ``LastAdminError`` answers 409 ``conflict``)."""


def _check_other_lead(member: PortfolioMember) -> None:
    """Raise :class:`LastLeadError` when ``member`` is a lead and no other lead would remain."""
    if member.role != PortfolioRole.LEAD:
        return
    # Lock every lead row first (no joins: PostgreSQL refuses FOR UPDATE on the nullable side of an
    # outer join), so two concurrent revocations cannot each leave the other as "the last lead".
    list(PortfolioMember.objects.select_for_update().filter(role=PortfolioRole.LEAD).order_by("pk"))
    others = (
        PortfolioMember.objects.filter(role=PortfolioRole.LEAD)
        .exclude(pk=member.pk)
        .filter(Q(user__is_active=True) | Q(group__user__is_active=True))
    )
    if not others.exists():
        raise LastLeadError(
            {
                "role": f"{member.principal_name} is the portfolio's last governance lead; make someone else "
                "lead first, then change or revoke this role."
            }
        )


@transaction.atomic
def grant_portfolio_role(
    *,
    actor: Any,
    role: PortfolioRole | str,
    user: User | None = None,
    group: Group | None = None,
    request: HttpRequest | None = None,
) -> PortfolioMember:
    """Give ``user`` or ``group`` a portfolio role, or change the one they have (instance admins).

    Raises:
        InstanceAdminRequired: ``actor`` is not an instance administrator.
        ValidationError: an unknown role, or not exactly one of user and group.
    """
    require_instance_admin(actor)
    try:
        role = PortfolioRole(role)
    except ValueError as exc:
        raise ValidationError({"role": f"'{role}' is not a portfolio role; use viewer or lead."}) from exc
    if (user is None) == (group is None):
        raise ValidationError({"user": "Choose either a user or a group, not both and not neither."})
    existing = (
        PortfolioMember.objects.select_for_update().filter(user=user, group=group).order_by("pk").first()
    )
    if existing is None:
        member = PortfolioMember.objects.create(user=user, group=group, role=role)
        action, details = "governance.member_granted", {"role": role.value}
    else:
        if existing.role == role:
            return existing
        _check_other_lead(existing)
        details = {"before": existing.role, "after": role.value}
        existing.role = role
        existing.save(update_fields=["role"])
        member, action = existing, "governance.member_changed"
    details["principal"] = member.principal_name
    audit.record(action, actor=actor, target=member, details=details, request=request)
    return member


@transaction.atomic
def revoke_portfolio_role(member: PortfolioMember, *, actor: Any, request: HttpRequest | None = None) -> None:
    """Take a portfolio role away (instance admins).

    Raises:
        InstanceAdminRequired: ``actor`` is not an instance administrator.
        LastLeadError: ``member`` is the last governance lead.
    """
    require_instance_admin(actor)
    member = PortfolioMember.objects.select_for_update().get(pk=member.pk)
    _check_other_lead(member)
    audit.record(
        "governance.member_revoked",
        actor=actor,
        target=member,
        details={"principal": member.principal_name, "role": member.role},
        request=request,
    )
    member.delete()
