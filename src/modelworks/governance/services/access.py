"""Who may see and edit the use-case portfolio (used by every governance part, pages and API).

Rules:

* Portfolio roles are instance-level (above projects): ``viewer`` sees every use case and the
  control tower, ``lead`` may also edit any use case, qualify or reject ideas, move stages and
  configure the pipeline, sign-off policies and AI Act questionnaires. Instance admins count as
  leads. A role comes from a direct grant or from a group; the strongest one wins.
* Without a portfolio role, a signed-in user sees a use case when they are its business owner, its
  submitter or a member (any role) of one of its linked projects; its business owner may edit it.
* Anonymous and inactive users see nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from modelworks.core.models import Project
from modelworks.governance.models import PortfolioMember, PortfolioRole, UseCase, UseCaseQuerySet

__all__ = [
    "can_edit_use_case",
    "can_view_use_case",
    "is_lead",
    "is_portfolio_viewer",
    "portfolio_role",
    "visible_use_cases",
]

_RANK = {PortfolioRole.VIEWER: 1, PortfolioRole.LEAD: 2}


def _signed_in(user: Any) -> bool:
    return user is not None and bool(user.is_authenticated) and bool(user.is_active)


def portfolio_role(user: Any) -> PortfolioRole | None:
    """The strongest portfolio role ``user`` holds, directly or through a group (admins: lead)."""
    if not _signed_in(user):
        return None
    if user.is_superuser:
        return PortfolioRole.LEAD
    roles = PortfolioMember.objects.filter(Q(user=user) | Q(group__user=user)).values_list("role", flat=True)
    return max((PortfolioRole(r) for r in roles), key=lambda r: _RANK[r], default=None)


def is_lead(user: Any) -> bool:
    """True for governance leads and instance admins."""
    return portfolio_role(user) == PortfolioRole.LEAD


def is_portfolio_viewer(user: Any) -> bool:
    """True when ``user`` sees the whole portfolio (viewers, leads and instance admins)."""
    return portfolio_role(user) is not None


def visible_use_cases(user: Any) -> UseCaseQuerySet:
    """The use cases ``user`` may see (see the module's rules)."""
    everything: UseCaseQuerySet = UseCase.objects.all()
    if not _signed_in(user):
        return everything.none()
    if portfolio_role(user) is not None:
        return everything
    projects = Project.objects.visible_to(user).values("id")
    linked = UseCase.objects.filter(projects__in=projects).values("id")
    return everything.filter(Q(business_owner=user) | Q(submitted_by=user) | Q(id__in=linked))


def can_view_use_case(user: Any, use_case: UseCase) -> bool:
    """True when ``user`` may see ``use_case``."""
    if not _signed_in(user):
        return False
    if portfolio_role(user) is not None:
        return True
    if user.id in (use_case.business_owner_id, use_case.submitted_by_id):
        return True
    if use_case.pk is None:
        return False
    return use_case.projects.filter(id__in=Project.objects.visible_to(user).values("id")).exists()


def can_edit_use_case(user: Any, use_case: UseCase) -> bool:
    """True when ``user`` may edit ``use_case``: governance leads and its business owner."""
    if not _signed_in(user):
        return False
    return is_lead(user) or (use_case.business_owner_id is not None and use_case.business_owner_id == user.id)
