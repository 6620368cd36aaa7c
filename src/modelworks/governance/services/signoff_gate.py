"""The promotion gate of the sign-off: called by ``registry.services.set_alias`` before any alias moves.

Listed in the setting ``MODELWORKS_ALIAS_GATES``, so every path that moves an alias goes through it:
the registry pages, the MLflow client, Lab registration, retraining auto-promotion, promotion-request
approval and rollback.

* No enabled policy in the project, or an alias the policy does not protect: nothing to say (None).
* The version has an approved sign-off for this alias: allowed (None). An approval stays valid
  after the promotion, so moving the alias back to a signed-off version (a rollback) needs no new
  review; withdrawing the approval (``signoff.cancel``) ends it.
* Otherwise, ``block`` mode raises ``PromotionBlockedError`` naming the missing reviews and the page
  to ask for them; ``warn`` mode lets the move happen, returns a short warning kept in the alias
  history and the audit entry of the move, and records ``governance.signoff_bypassed``.
"""

from __future__ import annotations

from typing import Any

from modelworks.core.audit import record
from modelworks.governance.models import (
    ReviewDecision,
    SignoffMode,
    SignoffPolicy,
    SignoffRequest,
    SignoffStatus,
)
from modelworks.governance.services.signoff import (
    request_url,
    reviewer_label,
    signoff_new_url,
    waiting_reviews,
)
from modelworks.registry.errors import PromotionBlockedError
from modelworks.registry.models import ModelVersion

__all__ = ["check_alias_move", "missing_reviews"]


def missing_reviews(policy: SignoffPolicy, latest: SignoffRequest | None) -> list[str]:
    """``Title (who)`` of each review still missing: from the pending request, else from the policy."""
    if latest is not None and latest.status == SignoffStatus.PENDING:
        reviews = latest.reviews.select_related("reviewer", "reviewer_group").order_by("order", "id")
        return [f"{r.title} ({reviewer_label(r)})" for r in reviews if r.decision == ReviewDecision.PENDING]
    steps = policy.steps.select_related("reviewer", "reviewer_group").order_by("order", "id")
    return [f"{s.title} ({reviewer_label(s)})" for s in steps]


def _blocked_message(
    version: ModelVersion, alias: str, policy: SignoffPolicy, latest: SignoffRequest | None
) -> str:
    model = version.registered_model
    project = model.project
    head = (
        f"Version {version.version} of '{model.name}' cannot become @{alias} yet: project '{project.slug}' "
        f"requires a sign-off for @{alias}, and this version has no approved one."
    )
    missing = "; ".join(missing_reviews(policy, latest))
    if latest is not None and latest.status == SignoffStatus.PENDING:
        turn = ", ".join(r.title for r in waiting_reviews(latest))
        return (
            f"{head} Sign-off request #{latest.pk} is waiting for: {missing} (now: {turn}). "
            f"Follow it at {request_url(latest)}."
        )
    if latest is not None and latest.status == SignoffStatus.REJECTED:
        rejected = (
            latest.reviews.filter(decision=ReviewDecision.REJECTED).select_related("decided_by").first()
        )
        why = ""
        if rejected is not None:
            who = rejected.decided_by.get_username() if rejected.decided_by_id else "a reviewer"
            why = f" by {who} at step '{rejected.title}': “{rejected.comment[:200]}”"
        return (
            f"{head} The last request #{latest.pk} was rejected{why}. Address it, then ask again at "
            f"{signoff_new_url(version, alias)} (reviews needed: {missing})."
        )
    return f"{head} Reviews needed: {missing}. Ask for them at {signoff_new_url(version, alias)}."


def check_alias_move(version: ModelVersion, alias: str, *, actor: Any) -> str | None:
    """Refuse (mode block) or warn about (mode warn) moving a protected ``alias`` to ``version``
    without an approved sign-off; None when the move needs none or has one.

    Raises:
        PromotionBlockedError: the policy blocks, and the version has no approved sign-off.
    """
    project = version.registered_model.project
    policy = SignoffPolicy.objects.filter(project=project, enabled=True).first()
    if policy is None or alias not in (policy.aliases or []):
        return None
    requests = SignoffRequest.objects.filter(model_version=version, alias=alias)
    if requests.filter(status=SignoffStatus.APPROVED).exists():
        return None
    latest = requests.exclude(status=SignoffStatus.CANCELLED).order_by("-created_at", "-id").first()
    if policy.mode == SignoffMode.BLOCK:
        raise PromotionBlockedError(_blocked_message(version, alias, policy, latest))
    missing = missing_reviews(policy, latest)
    record(
        "governance.signoff_bypassed",
        actor=actor,
        project=project,
        target=version,
        details={
            "model": version.registered_model.name,
            "version": version.version,
            "alias": alias,
            "mode": policy.mode,
            "missing": missing,
            "request": latest.pk if latest is not None else None,
        },
    )
    titles = ", ".join(m.split(" (", 1)[0] for m in missing)
    return f"without sign-off (warn mode; missing: {titles})"[:150]
