"""Sign-off of model versions before they take a protected alias (``champion``, ``production``…).

* ``save_policy(project, *, actor, aliases, mode, due_days, enabled, steps)``: a project's rule, set
  by its admins or a governance lead: the protected aliases, ``block`` or ``warn``, the days a
  request has to be decided, and the ordered review steps, each done by one named user or by any
  member of one group. Reviewers must hold the contributor role (or admin) in the project.
* ``request_signoff(version, alias, *, actor, note)``: a contributor asks for a sign-off; one review
  per policy step is created (a snapshot: later policy edits do not change a running request).
* ``decide(review, *, actor, approve, comment)``: the named reviewer (or a member of the named group)
  approves or rejects, a comment being required to reject. Steps are decided in their ``order``;
  steps with the same order are reviewed in parallel. The request is approved when every review
  approved, and rejected at the first rejection. Nobody reviews their own request (four-eyes).
* ``cancel(signoff, *, actor, comment)``: withdraw a pending request (its requester, a project admin
  or a governance lead), or withdraw an approval (a project admin or a governance lead, with a
  comment), after which the version needs a new sign-off.
* ``reviews_waiting_for(user)``, ``is_overdue(signoff)``, ``overdue_requests()``.

An approved sign-off stays valid for that version and alias after the promotion: moving the alias
back to a signed-off version (e.g. an emergency rollback) needs no new review. Withdrawing the
approval (``cancel``) ends that. The gate itself is ``services.signoff_gate.check_alias_move``.

Every change is atomic and audited (``governance.signoff_*``). Invalid input raises a field-keyed
``ValidationError``; a person who may not act gets ``PermissionDenied``; a change that clashes with
the request's state raises :class:`SignoffConflict` (pages and the API answer 409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from modelworks.core import people_notify
from modelworks.core.audit import record
from modelworks.core.models import Project, ProjectMembership, Role, User
from modelworks.governance.models import (
    ReviewDecision,
    SignoffMode,
    SignoffPolicy,
    SignoffRequest,
    SignoffReview,
    SignoffStatus,
    SignoffStep,
)
from modelworks.governance.services.access import is_lead
from modelworks.registry.errors import RegistryError
from modelworks.registry.models import ModelVersion
from modelworks.registry.services import check_alias

__all__ = [
    "MAX_COMMENT",
    "MAX_DUE_DAYS",
    "MAX_STEPS",
    "SignoffConflict",
    "StepSpec",
    "can_cancel",
    "can_decide",
    "can_manage_policy",
    "can_read",
    "cancel",
    "decide",
    "eligible_reviewers",
    "get_policy",
    "is_overdue",
    "overdue_requests",
    "policy_snapshot",
    "request_signoff",
    "request_url",
    "reviewer_label",
    "reviews_waiting_for",
    "save_policy",
    "signoff_new_url",
    "waiting_reviews",
]

MAX_COMMENT = 4000
MAX_STEPS = 12
MAX_DUE_DAYS = 365


class SignoffConflict(Exception):
    """The change clashes with the request's state (already decided, not this step's turn…)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StepSpec:
    """One review step as a policy editor gives it: a title, its order and exactly one reviewer."""

    title: str
    order: int
    reviewer: User | None = None
    reviewer_group: Group | None = None


# -- who ------------------------------------------------------------------------------------------
def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _role(project: Project, user: Any) -> Role | None:
    return project.role_of(user) if _signed_in(user) else None


def can_read(project: Project, user: Any) -> bool:
    """Project members (any role) and governance leads see a project's policy and requests."""
    return _role(project, user) is not None or (_signed_in(user) and is_lead(user))


def can_manage_policy(project: Project, user: Any) -> bool:
    """Project admins and governance leads set the policy."""
    role = _role(project, user)
    return (role is not None and role.allows(Role.ADMIN)) or (_signed_in(user) and is_lead(user))


def _is_contributor(project: Project, user: Any) -> bool:
    role = _role(project, user)
    return role is not None and role.allows(Role.CONTRIBUTOR)


def reviewer_label(step: SignoffStep | SignoffReview) -> str:
    """``alice`` or ``a member of group 'risk'``: who decides a step, in words."""
    if step.reviewer_id is not None:
        return step.reviewer.get_username()
    if step.reviewer_group_id is not None:
        return f"a member of group '{step.reviewer_group.name}'"
    return "nobody (the reviewer was deleted)"


def eligible_reviewers(project: Project, step: SignoffStep | SignoffReview) -> list[User]:
    """Active users who may decide ``step`` in ``project``: the named user, or the group's members,
    holding the contributor role or more there."""
    if step.reviewer_id is not None:
        candidates: list[User] = [step.reviewer]
    elif step.reviewer_group_id is not None:
        candidates = list(step.reviewer_group.user_set.filter(is_active=True).order_by("username"))
    else:
        candidates = []
    return [u for u in candidates if u.is_active and _is_contributor(project, u)]


def _is_named(step: SignoffReview, user: Any) -> bool:
    if not _signed_in(user):
        return False
    if step.reviewer_id is not None:
        return bool(step.reviewer_id == user.pk)
    if step.reviewer_group_id is not None:
        return user.groups.filter(pk=step.reviewer_group_id).exists()
    return False


# -- policy ---------------------------------------------------------------------------------------
def get_policy(project: Project) -> SignoffPolicy | None:
    """The project's policy, with its steps, or None when it has none."""
    return (
        SignoffPolicy.objects.filter(project=project)
        .select_related("project", "created_by")
        .prefetch_related("steps__reviewer", "steps__reviewer_group")
        .first()
    )


def _clean_aliases(aliases: Any) -> list[str]:
    if isinstance(aliases, str):
        aliases = [a for a in aliases.replace(",", " ").split()]
    if not isinstance(aliases, list | tuple) or not aliases:
        raise ValidationError({"aliases": "Name at least one alias to protect, e.g. champion."})
    cleaned: list[str] = []
    for alias in aliases:
        try:
            name = check_alias(str(alias).strip())
        except RegistryError as exc:
            raise ValidationError({"aliases": exc.message}) from None
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def _group_role(project: Project, group: Group) -> Role | None:
    role = (
        ProjectMembership.objects.filter(project=project, group=group).values_list("role", flat=True).first()
    )
    return Role(role) if role else None


def _check_step(project: Project, number: int, step: StepSpec) -> None:
    """A step's reviewer must be able to review: a contributor (or admin) of the project."""
    where = f"Step {number}" + (f" ('{step.title.strip()}')" if step.title.strip() else "")
    if not step.title.strip():
        raise ValidationError({"steps": f"{where} needs a title, e.g. 'Data owner' or 'Risk officer'."})
    if len(step.title) > 200:
        raise ValidationError({"steps": f"{where}: keep the title under 200 characters."})
    if (step.reviewer is None) == (step.reviewer_group is None):
        raise ValidationError(
            {"steps": f"{where} needs exactly one reviewer: a user or a group (any member may decide)."}
        )
    fix = "Add them under the project's Members with the contributor role, or choose another reviewer."
    if step.reviewer is not None:
        user = step.reviewer
        if not user.is_active:
            raise ValidationError(
                {
                    "steps": f"{where}: the account '{user.get_username()}' is deactivated; choose another reviewer."
                }
            )
        if not _is_contributor(project, user):
            raise ValidationError(
                {
                    "steps": f"{where}: '{user.get_username()}' is not a contributor or admin of project "
                    f"'{project.slug}', so they could not review. {fix}"
                }
            )
        return
    group = step.reviewer_group
    assert group is not None
    role = _group_role(project, group)
    if role is None or not role.allows(Role.CONTRIBUTOR):
        raise ValidationError(
            {
                "steps": f"{where}: group '{group.name}' does not hold the contributor or admin role in project "
                f"'{project.slug}', so its members could not review. Add the group under the project's "
                "Members with the contributor role, or choose another reviewer."
            }
        )
    if not group.user_set.filter(is_active=True).exists():
        raise ValidationError(
            {
                "steps": f"{where}: group '{group.name}' has no active members, so nobody could approve this step."
            }
        )


def policy_snapshot(policy: SignoffPolicy) -> dict[str, Any]:
    """The policy as plain data (kept with each request and in the audit log)."""
    return {
        "aliases": list(policy.aliases or []),
        "mode": policy.mode,
        "due_days": policy.due_days,
        "enabled": policy.enabled,
        "steps": [
            {
                "order": s.order,
                "title": s.title,
                "reviewer": s.reviewer.get_username() if s.reviewer_id else None,
                "reviewer_group": s.reviewer_group.name if s.reviewer_group_id else None,
            }
            for s in policy.steps.select_related("reviewer", "reviewer_group").order_by("order", "id")
        ],
    }


@transaction.atomic
def save_policy(
    project: Project,
    *,
    actor: Any,
    aliases: Any,
    mode: str,
    due_days: int,
    enabled: bool,
    steps: list[StepSpec],
    request: Any = None,
) -> SignoffPolicy:
    """Create or replace the project's sign-off policy (its steps are replaced as a whole).

    Raises:
        PermissionDenied: ``actor`` is neither a project admin nor a governance lead.
        ValidationError: (fields ``aliases``, ``mode``, ``due_days``, ``steps``) what to fix.
    """
    if not can_manage_policy(project, actor):
        raise PermissionDenied(
            f"Only admins of project '{project.slug}' and governance leads can change its sign-off policy."
        )
    cleaned_aliases = _clean_aliases(aliases)
    if mode not in SignoffMode.values:
        raise ValidationError({"mode": f"Choose 'block' or 'warn', not '{str(mode)[:20]}'."})
    try:
        days = int(due_days)
    except (TypeError, ValueError):
        raise ValidationError(
            {"due_days": "Give the days reviewers have, a whole number from 1 to 365."}
        ) from None
    if not 1 <= days <= MAX_DUE_DAYS:
        raise ValidationError({"due_days": f"Give reviewers 1 to {MAX_DUE_DAYS} days, not {days}."})
    if len(steps) > MAX_STEPS:
        raise ValidationError(
            {"steps": f"A policy has at most {MAX_STEPS} steps; this one has {len(steps)}."}
        )
    if enabled and not steps:
        raise ValidationError(
            {"steps": "An enabled policy needs at least one review step (e.g. 'Data owner'), or disable it."}
        )
    for number, step in enumerate(steps, start=1):
        _check_step(project, number, step)
    policy = SignoffPolicy.objects.select_for_update().filter(project=project).first()
    created = policy is None
    before = policy_snapshot(policy) if policy is not None else None
    if policy is None:
        policy = SignoffPolicy(project=project, created_by=actor if _signed_in(actor) else None)
    policy.aliases, policy.mode, policy.due_days, policy.enabled = cleaned_aliases, mode, days, bool(enabled)
    policy.details = {
        **(policy.details or {}),
        "updated_by": actor.get_username() if _signed_in(actor) else "",
    }
    policy.save()
    policy.steps.all().delete()
    SignoffStep.objects.bulk_create(
        SignoffStep(
            policy=policy,
            order=int(s.order),
            title=s.title.strip(),
            reviewer=s.reviewer,
            reviewer_group=s.reviewer_group,
        )
        for s in steps
    )
    after = policy_snapshot(policy)
    record(
        "governance.signoff_policy_created" if created else "governance.signoff_policy_updated",
        actor=actor,
        project=project,
        target=policy,
        request=request,
        details={"policy": after, **({"before": before} if before is not None else {})},
    )
    return get_policy(project) or policy


# -- requests -------------------------------------------------------------------------------------
def signoff_new_url(version: ModelVersion, alias: str) -> str:
    """The page where a contributor asks for the sign-off of ``version`` as ``alias``."""
    project = version.registered_model.project
    return (
        reverse("governance:signoff_new", args=[project.slug])
        + f"?model={version.registered_model_id}&version={version.version}&alias={alias}"
    )


def request_url(signoff: SignoffRequest) -> str:
    return reverse("governance:signoff_request", args=[signoff.project.slug, signoff.pk])


def _version_name(version: ModelVersion) -> str:
    return f"version {version.version} of '{version.registered_model.name}'"


@transaction.atomic
def request_signoff(
    version: ModelVersion, alias: str, *, actor: Any, note: str = "", request: Any = None
) -> SignoffRequest:
    """Ask for the sign-off of ``version`` as ``alias``: one review per step of the project's policy.

    Raises:
        PermissionDenied: ``actor`` is not a contributor (or admin) of the project.
        ValidationError: no enabled policy protects ``alias``, or a step could only be reviewed by the
            requester (four-eyes) or by nobody any more.
        SignoffConflict: a request for this version and alias is already waiting or approved.
    """
    model = version.registered_model
    project = model.project
    if not _is_contributor(project, actor):
        raise PermissionDenied(
            f"Asking for a sign-off needs the contributor role in project '{project.slug}'."
        )
    alias = str(alias or "").strip()
    try:
        check_alias(alias)
    except RegistryError as exc:
        raise ValidationError({"alias": exc.message}) from None
    policy = get_policy(project)
    if policy is None or not policy.enabled:
        raise ValidationError(
            {
                "alias": f"Project '{project.slug}' has no enabled sign-off policy: @{alias} can be set without one."
            }
        )
    if alias not in (policy.aliases or []):
        protected = ", ".join(f"@{a}" for a in policy.aliases) or "none"
        raise ValidationError(
            {
                "alias": f"@{alias} is not protected by the sign-off policy of project '{project.slug}' "
                f"(protected: {protected}); it can be set without a sign-off."
            }
        )
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()  # one request at a time
    existing = (
        SignoffRequest.objects.filter(
            model_version=version, alias=alias, status__in=[SignoffStatus.PENDING, SignoffStatus.APPROVED]
        )
        .order_by("-created_at")
        .first()
    )
    if existing is not None and existing.status == SignoffStatus.APPROVED:
        raise SignoffConflict(
            f"{_version_name(version).capitalize()} already has an approved sign-off for @{alias} "
            f"(request #{existing.pk}); it can be promoted."
        )
    if existing is not None:
        raise SignoffConflict(
            f"Sign-off request #{existing.pk} for {_version_name(version)} as @{alias} is already waiting for "
            f"its reviews; see {request_url(existing)}."
        )
    steps = list(policy.steps.select_related("reviewer", "reviewer_group").order_by("order", "id"))
    if not steps:
        raise ValidationError(
            {
                "alias": f"The sign-off policy of project '{project.slug}' has no review steps; ask a project admin to add them."
            }
        )
    for step in steps:
        people = eligible_reviewers(project, step)
        if not people:
            raise ValidationError(
                {
                    "__all__": f"Step '{step.title}' names {reviewer_label(step)}, who cannot review in project "
                    f"'{project.slug}' any more (not an active contributor or admin). Ask a project admin "
                    "or a governance lead to update the sign-off policy."
                }
            )
        if all(p.pk == actor.pk for p in people):
            raise ValidationError(
                {
                    "__all__": f"Step '{step.title}' can only be reviewed by you ({actor.get_username()}), and "
                    "nobody may review their own request (four-eyes principle). Ask a project admin to name "
                    "another reviewer for that step, or ask a colleague to request the sign-off."
                }
            )
    now = timezone.now()
    signoff = SignoffRequest.objects.create(
        project=project,
        model_version=version,
        alias=alias,
        requested_by=actor,
        created_at=now,
        due_at=now + timedelta(days=policy.due_days),
        details={
            "policy": policy_snapshot(policy),
            "note": str(note or "").strip()[:MAX_COMMENT],
            "model": model.name,
            "version": version.version,
            "requested_by": actor.get_username(),
        },
    )
    SignoffReview.objects.bulk_create(
        SignoffReview(
            request=signoff,
            order=s.order,
            title=s.title,
            reviewer=s.reviewer,
            reviewer_group=s.reviewer_group,
        )
        for s in steps
    )
    record(
        "governance.signoff_requested",
        actor=actor,
        project=project,
        target=signoff,
        request=request,
        details={
            "request": signoff.pk,
            "model": model.name,
            "version": version.version,
            "alias": alias,
            "steps": [f"{s.title}: {reviewer_label(s)}" for s in steps],
            "due_at": signoff.due_at.isoformat(),
        },
    )
    # The first steps' reviewers are e-mailed after commit.
    people_notify.signoff_reviews_waiting(signoff, waiting_reviews(signoff), eligible_reviewers)
    return signoff


def _reviews(signoff: SignoffRequest) -> list[SignoffReview]:
    return list(
        signoff.reviews.select_related("reviewer", "reviewer_group", "decided_by").order_by("order", "id")
    )


def waiting_reviews(
    signoff: SignoffRequest, reviews: list[SignoffReview] | None = None
) -> list[SignoffReview]:
    """The pending reviews whose turn has come: every review of a lower order approved."""
    if signoff.status != SignoffStatus.PENDING:
        return []
    reviews = reviews if reviews is not None else _reviews(signoff)
    pending = [r for r in reviews if r.decision == ReviewDecision.PENDING]
    if not pending:
        return []
    turn = min(r.order for r in pending)
    return [r for r in pending if r.order == turn]


def can_decide(review: SignoffReview, user: Any) -> bool:
    """Whether ``user`` may approve or reject ``review`` now (the page shows the buttons)."""
    signoff = review.request
    return (
        _signed_in(user)
        and signoff.requested_by_id != user.pk
        and any(r.pk == review.pk for r in waiting_reviews(signoff))
        and _is_named(review, user)
        and _is_contributor(signoff.project, user)
    )


def _check_reviewer(review: SignoffReview, actor: Any) -> None:
    signoff = review.request
    if not _signed_in(actor):
        raise PermissionDenied("Sign in to review.")
    if signoff.requested_by_id is not None and signoff.requested_by_id == actor.pk:
        raise PermissionDenied(
            f"You asked for sign-off request #{signoff.pk}, so you cannot review it yourself (four-eyes "
            f"principle): step '{review.title}' must be decided by {reviewer_label(review)}."
        )
    if not _is_named(review, actor):
        raise PermissionDenied(
            f"Step '{review.title}' of sign-off request #{signoff.pk} is for {reviewer_label(review)}; only "
            "they can approve or reject it."
        )
    if not _is_contributor(signoff.project, actor):
        raise PermissionDenied(
            f"You are named for step '{review.title}' but do not hold the contributor role in project "
            f"'{signoff.project.slug}' (any more); ask a project admin to grant it or to update the policy."
        )


@transaction.atomic
def decide(
    review: SignoffReview, *, actor: Any, approve: bool, comment: str = "", request: Any = None
) -> SignoffRequest:
    """Approve or reject one review step; completes the request when the last step approves, or
    rejects it at the first rejection.

    Raises:
        PermissionDenied: ``actor`` is the requester, is not named for the step, or is no contributor.
        ValidationError: (field ``comment``) rejecting without a comment.
        SignoffConflict: the request or step is already decided, or an earlier step is still open.
    """
    signoff = (
        SignoffRequest.objects.select_for_update()
        .select_related("project", "model_version")
        .get(pk=review.request_id)
    )
    reviews = _reviews(signoff)
    review = next(r for r in reviews if r.pk == review.pk)
    review.request = signoff
    if signoff.status != SignoffStatus.PENDING:
        raise SignoffConflict(
            f"Sign-off request #{signoff.pk} is already {signoff.get_status_display().lower()}; there is "
            "nothing left to decide."
        )
    if review.decision != ReviewDecision.PENDING:
        who = review.decided_by.get_username() if review.decided_by_id else "someone"
        raise SignoffConflict(f"Step '{review.title}' was already {review.decision} by {who}.")
    _check_reviewer(review, actor)
    if review not in waiting_reviews(signoff, reviews):
        earlier = [
            r.title for r in reviews if r.order < review.order and r.decision == ReviewDecision.PENDING
        ]
        raise SignoffConflict(
            f"Step '{review.title}' comes after {', '.join(repr(t) for t in earlier)}: it can be decided once "
            "the earlier steps are approved."
        )
    text = str(comment or "").strip()
    if not approve and not text:
        raise ValidationError(
            {"comment": "Say why you reject it: the comment is required and is shown to the requester."}
        )
    now = timezone.now()
    review.decision = ReviewDecision.APPROVED if approve else ReviewDecision.REJECTED
    review.decided_by, review.decided_at, review.comment = actor, now, text[:MAX_COMMENT]
    review.save(update_fields=["decision", "decided_by", "decided_at", "comment"])
    version = signoff.model_version
    facts = {
        "request": signoff.pk,
        "model": (signoff.details or {}).get("model", ""),
        "version": version.version,
        "alias": signoff.alias,
        "step": review.title,
        "comment": review.comment[:300],
    }
    record(
        "governance.signoff_review_approved" if approve else "governance.signoff_review_rejected",
        actor=actor,
        project=signoff.project,
        target=signoff,
        request=request,
        details=facts,
    )
    finished: str | None = None
    if not approve:
        finished = SignoffStatus.REJECTED
    elif all(r.decision == ReviewDecision.APPROVED for r in reviews):
        finished = SignoffStatus.APPROVED
    if finished is not None:
        signoff.status, signoff.decided_at = finished, now
        signoff.save(update_fields=["status", "decided_at"])
        record(
            f"governance.signoff_{finished}",
            actor=actor,
            project=signoff.project,
            target=signoff,
            request=request,
            details={k: v for k, v in facts.items() if k not in ("step", "comment")},
        )
        people_notify.signoff_decided(signoff, actor=actor)  # the requester, after commit
    else:  # the next steps' reviewers, once this approval made their turn come
        turn = [r for r in waiting_reviews(signoff, reviews) if r.order != review.order]
        people_notify.signoff_reviews_waiting(signoff, turn, eligible_reviewers)
    return signoff


def can_cancel(signoff: SignoffRequest, user: Any) -> bool:
    """Pending: its requester, a project admin or a governance lead. Approved (withdrawing the
    approval): a project admin or a governance lead."""
    if not _signed_in(user):
        return False
    if signoff.status == SignoffStatus.PENDING and signoff.requested_by_id == user.pk:
        return True
    if signoff.status not in (SignoffStatus.PENDING, SignoffStatus.APPROVED):
        return False
    return can_manage_policy(signoff.project, user)


@transaction.atomic
def cancel(signoff: SignoffRequest, *, actor: Any, comment: str = "", request: Any = None) -> SignoffRequest:
    """Withdraw a pending request, or an approval (then the version needs a new sign-off).

    Raises:
        PermissionDenied: ``actor`` may not (see :func:`can_cancel`).
        ValidationError: (field ``comment``) withdrawing an approval without saying why.
        SignoffConflict: the request is rejected or cancelled already.
    """
    signoff = (
        SignoffRequest.objects.select_for_update()
        .select_related("project", "model_version")
        .get(pk=signoff.pk)
    )
    if signoff.status not in (SignoffStatus.PENDING, SignoffStatus.APPROVED):
        raise SignoffConflict(
            f"Sign-off request #{signoff.pk} is already {signoff.get_status_display().lower()}; there is "
            "nothing to cancel."
        )
    if not can_cancel(signoff, actor):
        who = (
            "its requester, a project admin or a governance lead"
            if signoff.status == SignoffStatus.PENDING
            else "a project admin or a governance lead"
        )
        raise PermissionDenied(f"Only {who} can cancel sign-off request #{signoff.pk}.")
    text = str(comment or "").strip()[:MAX_COMMENT]
    was = signoff.status
    if was == SignoffStatus.APPROVED and not text:
        raise ValidationError(
            {
                "comment": "Say why you withdraw this approval: the version will need a new sign-off before it "
                "can take the alias again."
            }
        )
    signoff.status, signoff.decided_at = SignoffStatus.CANCELLED, timezone.now()
    signoff.details = {
        **(signoff.details or {}),
        "cancelled": {"by": actor.get_username(), "comment": text, "was": was},
    }
    signoff.save(update_fields=["status", "decided_at", "details"])
    record(
        "governance.signoff_approval_withdrawn"
        if was == SignoffStatus.APPROVED
        else "governance.signoff_cancelled",
        actor=actor,
        project=signoff.project,
        target=signoff,
        request=request,
        details={
            "request": signoff.pk,
            "version": signoff.model_version.version,
            "alias": signoff.alias,
            "comment": text[:300],
        },
    )
    people_notify.signoff_decided(signoff, actor=actor, reviewers=eligible_reviewers)  # after commit
    return signoff


# -- lists ----------------------------------------------------------------------------------------
def is_overdue(signoff: SignoffRequest, now: datetime | None = None) -> bool:
    """A pending request past its due date."""
    return signoff.status == SignoffStatus.PENDING and signoff.due_at < (now or timezone.now())


def overdue_requests(projects: QuerySet[Project] | None = None) -> QuerySet[SignoffRequest]:
    """Pending requests past their due date (of ``projects`` when given), oldest due first."""
    found = SignoffRequest.objects.filter(status=SignoffStatus.PENDING, due_at__lt=timezone.now())
    if projects is not None:
        found = found.filter(project__in=projects)
    return found.select_related("project", "model_version__registered_model").order_by("due_at")


def reviews_waiting_for(user: Any) -> list[SignoffReview]:
    """Reviews whose turn has come and that ``user`` may decide, across their projects, oldest first."""
    if not _signed_in(user):
        return []
    projects = Project.objects.with_role(user, Role.CONTRIBUTOR)
    candidates = (
        SignoffReview.objects.filter(
            decision=ReviewDecision.PENDING,
            request__status=SignoffStatus.PENDING,
            request__project__in=projects,
        )
        .filter(Q(reviewer=user) | Q(reviewer_group__in=user.groups.all()))
        .exclude(request__requested_by=user)
        .select_related(
            "request__project",
            "request__model_version__registered_model",
            "request__requested_by",
            "reviewer_group",
        )
        .order_by("request__due_at", "request_id", "order", "id")
    )
    waiting: list[SignoffReview] = []
    turns: dict[int, set[int]] = {}
    for review in candidates:
        if review.request_id not in turns:
            turns[review.request_id] = {r.pk for r in waiting_reviews(review.request)}
        if review.pk in turns[review.request_id]:
            waiting.append(review)
    return waiting
