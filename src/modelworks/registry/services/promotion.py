"""Promotions of model versions to an alias, and rolling an alias back.

* ``request_promotion(candidate, *, alias, approver, actor, evidence, …)``: ask a named approver (a
  contributor or admin of the project) to move ``alias`` to ``candidate``; a newer request for the
  same model and alias supersedes the pending ones.
* ``approve`` (only the named approver; moves the alias), ``reject`` (only the named approver; a
  comment is required), ``cancel`` (the requester or a project admin).
* ``promote_automatically(candidate, *, alias, actor, reason, evidence)``: what a rule allowed
  (the retraining job's ``policy: auto``); supersedes pending requests too.
* ``rollback_alias(model, alias, *, actor, reason)``: point the alias back at the version it pointed
  at before the last move (walking back through earlier rollbacks).

Every change is atomic and audited (``model.promotion_*``, ``model.alias_rolled_back``), and each
alias move goes through ``versions.set_alias`` with its reason, so it is in the alias history.
Views check the project role first; the services check what depends on the person (the approver,
the requester).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from modelworks.core import people_notify
from modelworks.core.audit import record
from modelworks.core.models import Project, Role
from modelworks.registry.errors import RegistryError
from modelworks.registry.models import (
    AliasEvent,
    ModelAlias,
    ModelVersion,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
)
from modelworks.registry.services.versions import check_alias, set_alias

__all__ = [
    "ROLLBACK_REASON",
    "PromotionConflict",
    "PromotionError",
    "PromotionNotAllowed",
    "RollbackPlan",
    "approve",
    "can_cancel",
    "can_decide",
    "cancel",
    "check_approver",
    "pending_for",
    "plan_rollback",
    "promote_automatically",
    "reject",
    "request_promotion",
    "rollback_alias",
]

#: The alias history's reason for a rollback (followed by ": <why>" when a reason is given).
ROLLBACK_REASON = "rollback"
MAX_COMMENT = 4000


class PromotionError(RegistryError):
    """A promotion or rollback that cannot be done; the message says why and what to do."""


class PromotionNotAllowed(PromotionError):
    """The person may not take this decision (pages answer 403)."""


class PromotionConflict(PromotionError):
    """The request is no longer pending, or its candidate is gone (pages answer 409)."""


def _name(user: Any) -> str:
    return str(user.get_username()) if getattr(user, "is_authenticated", False) else ""


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def check_approver(project: Project, approver: Any) -> Any:
    """``approver`` when they may decide promotions of ``project`` (active, contributor or admin).

    Raises:
        PromotionError: (field ``approver``) no such user, inactive, or a weaker role than contributor.
    """
    if approver is None or not getattr(approver, "pk", None):
        raise PromotionError("Name the approver: a contributor or admin of this project.", field="approver")
    if not approver.is_active:
        raise PromotionError(
            f"'{approver.get_username()}' is deactivated and cannot approve; name another approver.",
            field="approver",
        )
    role = project.role_of(approver)
    if role is None or not role.allows(Role.CONTRIBUTOR):
        held = f"they are {role.label.lower()}" if role is not None else "they are not a member"
        raise PromotionError(
            f"'{approver.get_username()}' cannot approve promotions in project '{project.slug}': it needs "
            f"the contributor or admin role and {held}. Name another approver, or ask a project admin to "
            "change their role.",
            field="approver",
        )
    return approver


def _locked(promotion: PromotionRequest) -> PromotionRequest:
    return (
        PromotionRequest.objects.select_for_update()
        .select_related("registered_model", "project")
        .get(pk=promotion.pk)
    )


def _require_pending(promotion: PromotionRequest) -> None:
    if not promotion.is_pending:
        by = f" by {promotion.decided_by_name}" if promotion.decided_by_name else ""
        raise PromotionConflict(
            f"Promotion request #{promotion.number} is already {promotion.get_status_display().lower()}"
            f"{by}; nothing was changed."
        )


def _supersede(
    model: RegisteredModel, alias: str, *, by: PromotionRequest | None, why: str, actor: Any = None
) -> list[int]:
    """Cancel the pending requests of ``model``/``alias`` (other than ``by``); their numbers."""
    stale = PromotionRequest.objects.filter(
        registered_model=model, alias=alias, status=PromotionStatus.PENDING
    ).exclude(pk=by.pk if by is not None else None)
    numbers = list(stale.values_list("number", flat=True))
    if numbers:
        people_notify.promotions_superseded(stale, actor=actor)  # their requesters, after commit
        stale.update(
            status=PromotionStatus.CANCELLED,
            comment=why,
            decided_at=timezone.now(),
            superseded_by=by,
            updated_at=timezone.now(),
        )
    return numbers


def _current(model: RegisteredModel, alias: str) -> ModelVersion | None:
    found = (
        ModelAlias.objects.filter(registered_model=model, alias=alias).select_related("model_version").first()
    )
    return found.model_version if found is not None else None


@transaction.atomic
def request_promotion(
    candidate: ModelVersion,
    *,
    alias: str = "champion",
    approver: Any,
    actor: Any,
    evidence: dict[str, Any] | None = None,
    note: str = "",
    job: Any = None,
    request: Any = None,
) -> PromotionRequest:
    """Ask ``approver`` to point ``alias`` at ``candidate``; supersede older pending requests.

    Raises:
        InvalidRegistryValueError: a bad alias name (field ``alias``).
        PromotionError: the approver may not decide (field ``approver``), or the alias already
            points at the candidate.
    """
    check_alias(alias)
    model = (
        RegisteredModel.objects.select_for_update()
        .select_related("project")
        .get(pk=candidate.registered_model_id)
    )
    project = model.project
    check_approver(project, approver)
    current = _current(model, alias)
    if current is not None and current.pk == candidate.pk:
        raise PromotionError(
            f"@{alias} already points at version {candidate.version} of '{model.name}'; there is nothing "
            "to promote.",
            field="alias",
        )
    number = (model.promotion_requests.aggregate(n=Max("number"))["n"] or 0) + 1
    promotion = PromotionRequest.objects.create(
        project=project,
        registered_model=model,
        number=number,
        candidate=candidate,
        candidate_version=candidate.version,
        alias=alias,
        champion_version=current.version if current is not None else None,
        requested_by=_user(actor),
        requested_by_name=_name(actor) or "the system",
        approver=approver,
        approver_name=approver.get_username(),
        note=str(note or "")[:MAX_COMMENT],
        evidence=evidence or {},
        job=job,
    )
    superseded = _supersede(
        model, alias, by=promotion, why=f"Superseded by promotion request #{number}.", actor=actor
    )
    record(
        "model.promotion_requested",
        actor=actor,
        project=project,
        target=promotion,
        request=request,
        details={
            "name": model.name,
            "request": number,
            "alias": alias,
            "candidate_version": candidate.version,
            "champion_version": promotion.champion_version,
            "approver": approver.get_username(),
            "superseded": superseded,
        },
    )
    people_notify.promotion_requested(promotion)  # the approver is e-mailed after commit
    return promotion


def can_decide(promotion: PromotionRequest, user: Any) -> bool:
    """Whether ``user`` may approve or reject: the named approver, while the request is pending."""
    return (
        promotion.is_pending
        and getattr(user, "is_authenticated", False)
        and promotion.approver_id is not None
        and promotion.approver_id == user.pk
    )


def can_cancel(promotion: PromotionRequest, user: Any) -> bool:
    """Whether ``user`` may cancel: the requester or a project admin, while the request is pending."""
    if not promotion.is_pending or not getattr(user, "is_authenticated", False):
        return False
    if promotion.requested_by_id is not None and promotion.requested_by_id == user.pk:
        return True
    role = promotion.project.role_of(user)
    return role is not None and role.allows(Role.ADMIN)


def _check_decider(promotion: PromotionRequest, actor: Any, verb: str) -> None:
    if not (getattr(actor, "is_authenticated", False) and promotion.approver_id == actor.pk):
        who = promotion.approver_name or "the named approver"
        raise PromotionNotAllowed(
            f"Only {who} can {verb} promotion request #{promotion.number}; a project admin may cancel it "
            "instead."
        )
    role = promotion.project.role_of(actor)
    if role is None or not role.allows(Role.CONTRIBUTOR):
        raise PromotionNotAllowed(
            f"You are named approver of request #{promotion.number} but no longer hold the contributor "
            "role in this project; ask a project admin to cancel it and name another approver."
        )


def _decide(promotion: PromotionRequest, status: str, actor: Any, comment: str) -> None:
    promotion.status = status
    promotion.decided_by, promotion.decided_by_name = _user(actor), _name(actor)
    promotion.decided_at = timezone.now()
    promotion.comment = str(comment or "").strip()[:MAX_COMMENT]
    promotion.save(
        update_fields=["status", "decided_by", "decided_by_name", "decided_at", "comment", "updated_at"]
    )


@transaction.atomic
def approve(
    promotion: PromotionRequest, *, actor: Any, comment: str = "", request: Any = None
) -> PromotionRequest:
    """Approve: point the alias at the candidate (reason ``approved promotion #n``).

    Raises:
        PromotionNotAllowed: ``actor`` is not the named approver (or lost the contributor role).
        PromotionConflict: no longer pending, or the candidate version was deleted.
    """
    promotion = _locked(promotion)
    _require_pending(promotion)
    _check_decider(promotion, actor, "approve")
    candidate = promotion.candidate
    if candidate is None:
        raise PromotionConflict(
            f"Version {promotion.candidate_version} of '{promotion.registered_model.name}' was deleted, so "
            f"request #{promotion.number} can no longer be approved; reject or cancel it."
        )
    before = _current(promotion.registered_model, promotion.alias)
    set_alias(
        candidate,
        promotion.alias,
        actor=actor,
        request=request,
        reason=f"approved promotion #{promotion.number}",
    )
    _decide(promotion, PromotionStatus.APPROVED, actor, comment)
    record(
        "model.promotion_approved",
        actor=actor,
        project=promotion.project,
        target=promotion,
        request=request,
        details={
            "name": promotion.registered_model.name,
            "request": promotion.number,
            "alias": promotion.alias,
            "from_version": before.version if before is not None else None,
            "to_version": candidate.version,
            "comment": promotion.comment[:300],
        },
    )
    people_notify.promotion_decided(promotion, actor=actor)  # the requester, after commit
    return promotion


@transaction.atomic
def reject(promotion: PromotionRequest, *, actor: Any, comment: str, request: Any = None) -> PromotionRequest:
    """Reject with a comment (required: the requester needs to know why). The alias does not move.

    Raises:
        PromotionError: (field ``comment``) no comment.
        PromotionNotAllowed: ``actor`` is not the named approver.
        PromotionConflict: no longer pending.
    """
    promotion = _locked(promotion)
    _require_pending(promotion)
    _check_decider(promotion, actor, "reject")
    if not str(comment or "").strip():
        raise PromotionError(
            "Say why you reject it: the comment is required and is shown to the requester.", field="comment"
        )
    _decide(promotion, PromotionStatus.REJECTED, actor, comment)
    record(
        "model.promotion_rejected",
        actor=actor,
        project=promotion.project,
        target=promotion,
        request=request,
        details={
            "name": promotion.registered_model.name,
            "request": promotion.number,
            "alias": promotion.alias,
            "candidate_version": promotion.candidate_version,
            "comment": promotion.comment[:300],
        },
    )
    people_notify.promotion_decided(promotion, actor=actor)  # the requester, after commit
    return promotion


@transaction.atomic
def cancel(
    promotion: PromotionRequest, *, actor: Any, comment: str = "", request: Any = None
) -> PromotionRequest:
    """Withdraw a pending request: its requester or a project admin.

    Raises:
        PromotionNotAllowed: ``actor`` is neither the requester nor a project admin.
        PromotionConflict: no longer pending.
    """
    promotion = _locked(promotion)
    _require_pending(promotion)
    if not can_cancel(promotion, actor):
        raise PromotionNotAllowed(
            f"Only {promotion.requested_by_name or 'the requester'} or a project admin can cancel promotion "
            f"request #{promotion.number}."
        )
    _decide(promotion, PromotionStatus.CANCELLED, actor, comment)
    record(
        "model.promotion_cancelled",
        actor=actor,
        project=promotion.project,
        target=promotion,
        request=request,
        details={"name": promotion.registered_model.name, "request": promotion.number},
    )
    people_notify.promotion_decided(promotion, actor=actor)  # the requester, after commit
    return promotion


@transaction.atomic
def promote_automatically(
    candidate: ModelVersion,
    *,
    alias: str,
    actor: Any,
    reason: str,
    evidence: dict[str, Any] | None = None,
    request: Any = None,
) -> ModelAlias:
    """Point ``alias`` at ``candidate`` because a rule allowed it (``reason`` goes in the history,
    e.g. ``automatic promotion: +0.012 ROC AUC``); pending requests for the alias are superseded."""
    model = candidate.registered_model
    before = _current(model, alias)
    moved = set_alias(candidate, alias, actor=actor, request=request, reason=reason)
    superseded = _supersede(
        model,
        alias,
        by=None,
        why=f"Superseded: version {candidate.version} was promoted automatically.",
        actor=actor,
    )
    record(
        "model.promoted_automatically",
        actor=actor,
        project=model.project,
        target=candidate,
        request=request,
        details={
            "name": model.name,
            "alias": alias,
            "from_version": before.version if before is not None else None,
            "to_version": candidate.version,
            "reason": reason[:200],
            "evidence": evidence or {},
            "superseded": superseded,
        },
    )
    return moved


# -- rollback -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback of ``alias`` would do: from ``current`` back to ``target`` (version numbers)."""

    alias: str
    current: int
    target: int


def plan_rollback(model: RegisteredModel, alias: str) -> RollbackPlan:
    """The version ``alias`` pointed at before its last move, from the alias history.

    Each rollback undoes one move, so rolling back twice goes two moves back (a rollback does not
    toggle between two versions).

    Raises:
        PromotionError: the model has no such alias, the history holds no earlier version, or that
            version was deleted.
    """
    check_alias(alias)
    current = _current(model, alias)
    if current is None:
        raise PromotionError(
            f"'{model.name}' has no alias @{alias}; there is nothing to roll back.", field="alias"
        )
    events = AliasEvent.objects.filter(registered_model=model, alias=alias).order_by("created_at", "id")
    stack: list[int | None] = []
    for event in events:
        if event.reason.startswith(ROLLBACK_REASON) and len(stack) >= 2:
            stack.pop()
        else:
            stack.append(event.to_version)
    target: int | None = None
    if stack and stack[-1] == current.version:
        earlier = [v for v in stack[:-1] if v is not None and v != current.version]
        target = earlier[-1] if earlier else None
    else:  # a history that does not end where the alias is (moved outside Modelworks' services)
        last = events.last()
        target = last.from_version if last is not None else None
    if target is None:
        raise PromotionError(
            f"@{alias} of '{model.name}' never pointed at another version before v{current.version}; there "
            "is no earlier version to roll back to. Use “Set an alias” to choose a version.",
            field="alias",
        )
    if not model.versions.filter(version=target).exists():
        raise PromotionError(
            f"@{alias} pointed at version {target} before, but version {target} was deleted; it cannot be "
            "restored. Use “Set an alias” to choose another version.",
            field="alias",
        )
    return RollbackPlan(alias=alias, current=current.version, target=target)


@transaction.atomic
def rollback_alias(
    model: RegisteredModel, alias: str, *, actor: Any, reason: str = "", request: Any = None
) -> ModelVersion:
    """Point ``alias`` back at the version it pointed at before (see :func:`plan_rollback`).

    Returns:
        The version the alias now points at.

    Raises:
        PromotionError: as for :func:`plan_rollback`.
    """
    model = RegisteredModel.objects.select_for_update().select_related("project").get(pk=model.pk)
    plan = plan_rollback(model, alias)
    target = model.versions.get(version=plan.target)
    why = str(reason or "").strip()
    set_alias(
        target,
        alias,
        actor=actor,
        request=request,
        reason=f"{ROLLBACK_REASON}: {why}"[:200] if why else ROLLBACK_REASON,
    )
    record(
        "model.alias_rolled_back",
        actor=actor,
        project=model.project,
        target=target,
        request=request,
        details={
            "name": model.name,
            "alias": alias,
            "from_version": plan.current,
            "to_version": plan.target,
            "reason": why[:300],
        },
    )
    return target


def pending_for(user: Any) -> QuerySet[PromotionRequest]:
    """Pending requests ``user`` is named to decide, in the projects they can still see."""
    if not getattr(user, "is_authenticated", False):
        return PromotionRequest.objects.none()
    return (
        PromotionRequest.objects.filter(approver=user, status=PromotionStatus.PENDING)
        .filter(project__in=Project.objects.visible_to(user))
        .select_related("project", "registered_model")
        .order_by("created_at")
    )
