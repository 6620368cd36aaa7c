"""Demand intake: any signed-in user submits an idea (a use case in the intake stage); governance
leads qualify it into the pipeline or reject it with a reason the submitter sees. All audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.core.models import User
from modelworks.governance.models import Stage, StageChange, StageKind, UseCase
from modelworks.governance.services.access import is_lead
from modelworks.governance.services.portfolio import unique_slug

__all__ = [
    "IDEA_STAGE",
    "QUALIFIED_STAGE",
    "REJECTED_STAGE",
    "ideas_of",
    "intake_queue",
    "qualify_idea",
    "reject_idea",
    "submit_idea",
]

# The stages demand intake relies on; the pipeline page refuses to delete them.
IDEA_STAGE, QUALIFIED_STAGE, REJECTED_STAGE = "idea", "qualified", "rejected"

MAX_TITLE = 200


def _stage(key: str) -> Stage:
    stage = Stage.objects.filter(key=key).first()
    if stage is None:  # only possible when someone removed it from the database by hand
        raise ValidationError(
            {
                "stage": f"The pipeline has no stage '{key}', which demand intake needs; add it on the pipeline page."
            }
        )
    return stage


@transaction.atomic
def submit_idea(
    *,
    actor: Any,
    title: str,
    problem_statement: str,
    business_unit: str = "",
    expected_benefit: str = "",
    value_estimate: Decimal | None = None,
    currency: str = "EUR",
    request: HttpRequest | None = None,
) -> UseCase:
    """Record an idea from any signed-in user: a use case in stage ``idea`` submitted by ``actor``.

    Args:
        actor: the signed-in submitter.
        title: a short name for the idea.
        problem_statement: the business problem in the submitter's words.
        business_unit: the unit that has the problem.
        expected_benefit: what would improve, in words (kept in ``details["expected_benefit"]``).
        value_estimate: an optional yearly value estimate, in ``currency``.
        currency: three-letter code of the estimate.
        request: the HTTP request, for the audit log.

    Raises:
        ValidationError: a required text is missing or a value breaks a rule (keyed by field).
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in to submit an idea.")
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "Give the idea a short title, e.g. 'Predict late departures'."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title under {MAX_TITLE} characters ({len(title)} now)."
    if not (problem_statement or "").strip():
        errors["problem_statement"] = "Describe the business problem: what goes wrong today, and for whom."
    if value_estimate is not None and value_estimate < 0:
        errors["value_estimate"] = (
            "The value estimate cannot be negative; leave it empty when you do not know."
        )
    if errors:
        raise ValidationError(errors)
    stage = _stage(IDEA_STAGE)
    use_case = UseCase(
        title=title,
        slug=unique_slug(title),
        problem_statement=problem_statement.strip(),
        business_unit=(business_unit or "").strip(),
        submitted_by=actor,
        stage=stage,
        expected_value_recurring=value_estimate or Decimal("0"),
        currency=(currency or "EUR").strip().upper(),
        details={"expected_benefit": (expected_benefit or "").strip()},
    )
    use_case.full_clean(exclude=["stage"], validate_unique=False)
    use_case.save()
    StageChange.objects.create(
        use_case=use_case, from_stage=None, to_stage=stage, actor=actor, comment="Submitted"
    )
    audit.record(
        "governance.idea_submitted",
        actor=actor,
        target=use_case,
        details={
            "business_unit": use_case.business_unit,
            "value_estimate": str(use_case.expected_value_recurring),
        },
        request=request,
    )
    return use_case


def _pending_idea(use_case: UseCase, actor: Any, verb: str) -> UseCase:
    if not is_lead(actor):
        raise PermissionDenied(f"Only governance leads can {verb} ideas.")
    locked = UseCase.objects.select_for_update().select_related("stage").get(pk=use_case.pk)
    if locked.stage.kind != StageKind.INTAKE:
        raise ValidationError(
            {
                "stage": f"'{locked.title}' is not waiting in intake (it is in stage '{locked.stage.label}'); "
                f"only new ideas can be {verb}ed here. Move it on its page instead."
            }
        )
    return locked


def _move(use_case: UseCase, target: Stage, actor: Any, comment: str, **fields: Any) -> None:
    now = timezone.now()
    StageChange.objects.create(
        use_case=use_case,
        from_stage=use_case.stage,
        to_stage=target,
        actor=actor,
        comment=comment,
        created_at=now,
    )
    UseCase.objects.filter(pk=use_case.pk).update(
        stage=target, stage_changed_at=now, updated_at=now, **fields
    )


@transaction.atomic
def qualify_idea(
    use_case: UseCase,
    *,
    actor: Any,
    business_owner: User | None = None,
    comment: str = "",
    request: HttpRequest | None = None,
) -> UseCase:
    """Accept an idea into the pipeline (stage ``qualified``), optionally naming its business owner.

    Raises:
        PermissionDenied: ``actor`` is not a governance lead.
        ValidationError: the use case is not an idea waiting in intake.
    """
    locked = _pending_idea(use_case, actor, "qualify")
    target = _stage(QUALIFIED_STAGE)
    fields: dict[str, Any] = {"rejection_reason": ""}
    if business_owner is not None:
        fields["business_owner"] = business_owner
    _move(locked, target, actor, (comment or "").strip() or "Qualified", **fields)
    audit.record(
        "governance.idea_qualified",
        actor=actor,
        target=locked,
        details={
            "business_owner": business_owner.username if business_owner else None,
            "comment": (comment or "").strip(),
        },
        request=request,
    )
    use_case.refresh_from_db()
    return use_case


@transaction.atomic
def reject_idea(use_case: UseCase, *, actor: Any, reason: str, request: HttpRequest | None = None) -> UseCase:
    """Turn an idea down (stage ``rejected``) with a reason its submitter is shown.

    Raises:
        PermissionDenied: ``actor`` is not a governance lead.
        ValidationError: no reason, or the use case is not an idea waiting in intake.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why the idea is rejected; the submitter sees this reason, so make it helpful."}
        )
    locked = _pending_idea(use_case, actor, "reject")
    _move(locked, _stage(REJECTED_STAGE), actor, reason, rejection_reason=reason)
    audit.record(
        "governance.idea_rejected", actor=actor, target=locked, details={"reason": reason}, request=request
    )
    use_case.refresh_from_db()
    return use_case


def ideas_of(user: Any) -> QuerySet[UseCase]:
    """The ideas ``user`` submitted, newest first, whatever became of them."""
    return UseCase.objects.filter(submitted_by=user).select_related("stage").order_by("-created_at", "-id")


def intake_queue() -> QuerySet[UseCase]:
    """Ideas waiting for a governance lead (use cases in an intake stage), oldest first."""
    return (
        UseCase.objects.filter(stage__kind=StageKind.INTAKE)
        .select_related("stage", "submitted_by")
        .order_by("created_at", "id")
    )
