"""E-mails about model promotion requests (the registry's ``PromotionRequest``).

Called by ``registry.services.promotion`` inside its transactions; each function only plans the
e-mails for after the commit (``delivery.after_commit``), and the ``core.send_email`` job composes each
one from the request as it is when the e-mail leaves (``compose_*``).

The request is read through its attributes and URL names only, so this module does not import the
registry app.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from modelworks.core.notify.delivery import Planned, after_commit
from modelworks.core.notify.messages import Notice, footer, greeting, public_link, quote, same_user

__all__ = [
    "compose_closed",
    "compose_outcome",
    "compose_reminder",
    "compose_requested",
    "promotion_decided",
    "promotion_requested",
    "promotions_superseded",
    "reminders_for",
]

PENDING, CANCELLED = "pending", "cancelled"
_OUTCOMES = {"approved": "approved", "rejected": "rejected", "cancelled": "withdrawn"}
_RELATED = ("project", "registered_model", "approver", "requested_by", "superseded_by")


def _link(promotion: Any) -> str:
    return public_link(
        reverse(
            "registry:promotion",
            args=[promotion.project.slug, promotion.registered_model.pk, promotion.number],
        )
    )


def _move(promotion: Any) -> str:
    before = f"version {promotion.champion_version}" if promotion.champion_version else "no version"
    return f"@{promotion.alias} from {before} to version {promotion.candidate_version}"


def _what(promotion: Any) -> str:
    return (
        f"promotion request #{promotion.number} of model '{promotion.registered_model.name}' "
        f"(move {_move(promotion)}) in project '{promotion.project.name}'"
    )


def _waiting_link() -> str:
    return f"{public_link(reverse('registry:approvals'))} (Approvals waiting for me)"


# ------------------------------------------------------------------------------------- planning


def promotion_requested(promotion: Any) -> None:
    """After commit, e-mail the named approver of ``promotion`` (a new pending request)."""
    pk, manager = promotion.pk, type(promotion).objects

    def plan() -> list[Planned]:
        fresh = manager.select_related(*_RELATED).get(pk=pk)
        approver = fresh.approver
        if approver is None or same_user(approver, fresh.requested_by) or fresh.status != PENDING:
            return []
        return [Planned("promotion.requested", approver, fresh)]

    after_commit(plan)


def promotion_decided(promotion: Any, *, actor: Any = None) -> None:
    """After commit, tell the requester of ``promotion`` its outcome (approved, rejected, withdrawn)
    with the comment; when it was withdrawn, tell its approver too that they need not decide it.
    Nobody is told what they did themselves (``actor``)."""
    pk, manager = promotion.pk, type(promotion).objects

    def plan() -> list[Planned]:
        fresh = manager.select_related(*_RELATED).get(pk=pk)
        planned = []
        requester, approver = fresh.requested_by, fresh.approver
        if requester is not None and not same_user(requester, actor):
            planned.append(Planned("promotion.decided", requester, fresh, {"status": fresh.status}))
        if (
            fresh.status == CANCELLED
            and approver is not None
            and not same_user(approver, actor)
            and not same_user(approver, requester)
        ):
            planned.append(Planned("promotion.closed", approver, fresh, {"why": "withdrawn"}))
        return planned

    after_commit(plan)


def promotions_superseded(promotions: Any, *, actor: Any = None) -> None:
    """After commit, tell the requesters of ``promotions`` (a queryset of requests being superseded)
    that a newer request or an automatic promotion replaced theirs, and their approvers that they
    need not decide them any more; not ``actor``, and not an approver who is asked to decide the
    request that replaces it (that e-mail says so)."""
    pks = list(promotions.values_list("pk", flat=True))
    if not pks:
        return
    manager = promotions.model.objects

    def plan() -> list[Planned]:
        planned = []
        for stale in manager.filter(pk__in=pks).select_related(*_RELATED).order_by("number"):
            requester, approver = stale.requested_by, stale.approver
            if requester is not None and not same_user(requester, actor):
                planned.append(Planned("promotion.decided", requester, stale, {"status": "superseded"}))
            newer = stale.superseded_by
            if (
                approver is not None
                and not same_user(approver, actor)
                and not same_user(approver, requester)
                and not (newer is not None and newer.approver_id == approver.pk)
            ):
                planned.append(Planned("promotion.closed", approver, stale, {"why": "superseded"}))
        return planned

    after_commit(plan)


def reminders_for(promotion: Any) -> list[Planned]:
    """The reminder e-mails of a pending ``promotion``: its named approver, unless they asked."""
    approver = promotion.approver
    if approver is None or same_user(approver, promotion.requested_by):
        return []
    return [Planned("promotion.reminder", approver, promotion)]


# ------------------------------------------------------------------------------------ composing


def _fresh(promotion: Any) -> Any:
    return type(promotion).objects.select_related(*_RELATED).get(pk=promotion.pk)


def compose_requested(promotion: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """ "Approval needed" to the named approver, while the request is still pending."""
    fresh = _fresh(promotion)
    if fresh.status != PENDING or not same_user(fresh.approver, user):
        return None
    model, project = fresh.registered_model, fresh.project
    replaced = list(
        type(fresh)
        .objects.filter(superseded_by=fresh, approver_id=user.pk)
        .order_by("number")
        .values_list("number", flat=True)
    )
    replaces = ""
    if replaced:
        numbers = ", ".join(f"#{n}" for n in replaced)
        replaces = f"It replaces request {numbers}, which no longer needs your decision.\n"
    text = (
        f"{greeting(user)}\n\n"
        f"{fresh.requested_by_name or 'Someone'} asks you to approve a model promotion in project "
        f"'{project.name}'.\n\n"
        f"What: promotion request #{fresh.number} of model '{model.name}': move {_move(fresh)}.\n"
        f"Asked by: {fresh.requested_by_name or 'the system'}\n"
        f"Reason:\n{quote(fresh.note)}\n\n"
        f"{replaces}"
        "You are the named approver: nothing changes until you approve or reject it (a rejection "
        "needs a comment for the requester).\n"
        f"Decide here: {_link(fresh)}\n"
        f"All requests waiting for you: {_waiting_link()}\n" + footer()
    )
    subject = (
        f"[Modelworks] Approval needed: promote '{model.name}' v{fresh.candidate_version} to "
        f"@{fresh.alias} (request #{fresh.number})"
    )
    return Notice("promotion.requested", user, subject, text, project, fresh)


def compose_reminder(promotion: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """ "Still waiting for you" to the named approver, while the request is still pending."""
    fresh = _fresh(promotion)
    if fresh.status != PENDING or not same_user(fresh.approver, user):
        return None
    model = fresh.registered_model
    since = timezone.localtime(fresh.created_at)
    days = max((timezone.now() - fresh.created_at).days, 1)
    text = (
        f"{greeting(user)}\n\n"
        f"A reminder: {_what(fresh)} has been waiting for your approval since "
        f"{since:%Y-%m-%d} ({days} day{'s' if days != 1 else ''}).\n\n"
        f"Asked by: {fresh.requested_by_name or 'the system'}\n"
        f"Reason:\n{quote(fresh.note)}\n\n"
        "Nothing changes until you approve or reject it. If someone else should decide it, ask the "
        "requester or a project admin to withdraw it and name another approver.\n"
        f"Decide here: {_link(fresh)}\n"
        f"All requests waiting for you: {_waiting_link()}\n" + footer()
    )
    subject = (
        f"[Modelworks] Reminder: approval still needed to promote '{model.name}' "
        f"v{fresh.candidate_version} to @{fresh.alias} (request #{fresh.number})"
    )
    return Notice("promotion.reminder", user, subject, text, fresh.project, fresh)


def compose_outcome(promotion: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """The outcome and comment, to the requester. ``context["status"]`` is the outcome to report
    (``approved``, ``rejected``, ``cancelled`` or ``superseded``)."""
    fresh = _fresh(promotion)
    if not same_user(fresh.requested_by, user):
        return None
    model = fresh.registered_model
    status = str(context.get("status") or fresh.status)
    if status == "superseded":
        outcome, who = "superseded", ""
    else:
        outcome = _OUTCOMES.get(status, status)
        who = f" by {fresh.decided_by_name}" if fresh.decided_by_name else ""
    effect = {
        "approved": f"@{fresh.alias} now points at version {fresh.candidate_version}.",
        "rejected": f"@{fresh.alias} did not move.",
    }.get(outcome, f"@{fresh.alias} did not move; nobody needs to decide it any more.")
    text = (
        f"{greeting(user)}\n\n"
        f"Your promotion request #{fresh.number} of model '{model.name}' (move "
        f"{_move(fresh)}) in project '{fresh.project.name}' was {outcome}{who}.\n"
        f"{effect}\n\n"
        f"Comment:\n{quote(fresh.comment)}\n\n"
        f"See the request: {_link(fresh)}\n" + footer()
    )
    subject = f"[Modelworks] Promotion request #{fresh.number} of '{model.name}' {outcome}"
    return Notice(f"promotion.{outcome}", user, subject, text, fresh.project, fresh)


def compose_closed(promotion: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """ "No decision needed any more" to the approver of a withdrawn or superseded request."""
    fresh = _fresh(promotion)
    if fresh.status != CANCELLED or not same_user(fresh.approver, user):
        return None
    model = fresh.registered_model
    superseded = context.get("why") == "superseded"
    if superseded:
        how, event = "was superseded", "promotion.superseded_for_approver"
    else:
        by = f" by {fresh.decided_by_name}" if fresh.decided_by_name else ""
        how, event = f"was withdrawn{by}", "promotion.withdrawn_for_approver"
    text = (
        f"{greeting(user)}\n\n"
        f"{_what(fresh)[0].upper()}{_what(fresh)[1:]}, which waited for your approval, {how}.\n"
        f"Nothing is needed from you any more: it can no longer be approved, and @{fresh.alias} did "
        "not move.\n\n"
        f"Comment:\n{quote(fresh.comment)}\n\n"
        f"See the request: {_link(fresh)}\n"
        f"All requests waiting for you: {_waiting_link()}\n" + footer()
    )
    word = "superseded" if superseded else "withdrawn"
    subject = f"[Modelworks] No approval needed: promotion request #{fresh.number} of '{model.name}' {word}"
    return Notice(event, user, subject, text, fresh.project, fresh)
