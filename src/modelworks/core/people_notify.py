"""E-mail to the people who must act on a request, and to its requester when it is decided.

So that nothing waits silently in a list nobody opens:

* ``promotion_requested(promotion)``: the named approver of a model promotion request;
* ``promotion_decided(promotion, actor=…)`` and ``promotions_superseded(promotions, actor=…)``: its
  requester, when it is approved, rejected, withdrawn or superseded;
* ``signoff_reviews_waiting(signoff, reviews, reviewers)``: everyone who may decide a sign-off step
  whose turn has come (the named reviewer, or each active member of the step's group);
* ``signoff_decided(signoff, actor=…)``: the requester, when the sign-off is approved, rejected,
  withdrawn, or its approval withdrawn.

Each function only registers the work with ``transaction.on_commit``: messages are composed and sent
after the caller's transaction commits, never inside it, so a slow or failing mail server cannot
hold a lock or undo a decision (a rolled-back decision sends nothing). A failed send is logged and
recorded in the audit log (``notification.failed``, outcome ``failure``); nothing is ever raised.

Who is skipped (``notification.skipped`` in the audit log, with the reason): deactivated users,
users without an e-mail address, and users who turned off “E-mail me when I must approve or review”
(``User.notify_by_email``) on their settings page. Nobody is e-mailed about what they did themselves
(the requester withdrawing their own request, an approver naming themselves). Sent e-mails are
recorded as ``notification.sent``.

E-mail goes only through ``MODELWORKS_SMTP_HOST`` (``MODELWORKS_EMAIL_ENABLED``), as the scenarios'
e-mail steps: with no SMTP host configured nothing is sent and nothing is recorded. Links are absolute
when ``MODELWORKS_PUBLIC_URL`` is set, and paths on this instance (``/approvals/``…) otherwise.

The registry and governance objects are read through their attributes and URL names only, so this
core module imports neither app.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from modelworks.core.audit import record

__all__ = [
    "Notice",
    "deliver",
    "promotion_decided",
    "promotion_requested",
    "promotions_superseded",
    "public_link",
    "signoff_decided",
    "signoff_reviews_waiting",
]

logger = logging.getLogger(__name__)

MAX_QUOTE = 2000  # characters of a requester's note or a decider's comment quoted in an e-mail


@dataclass(frozen=True)
class Notice:
    """One e-mail to one person: ``event`` is a stable code such as ``promotion.requested``."""

    event: str
    user: Any
    subject: str
    text: str
    project: Any = None
    target: Any = None


# --------------------------------------------------------------------------------------- plumbing


def public_link(path: str) -> str:
    """``path`` prefixed with ``MODELWORKS_PUBLIC_URL`` when it is set; the bare path otherwise."""
    base = str(getattr(settings, "MODELWORKS_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def _email_enabled() -> bool:
    return bool(getattr(settings, "MODELWORKS_EMAIL_ENABLED", False))


def _after_commit(compose: Callable[[], list[Notice]]) -> None:
    """Compose and send once the current transaction commits (at once outside a transaction)."""
    if not _email_enabled():
        return
    transaction.on_commit(lambda: _run(compose), robust=True)


def _run(compose: Callable[[], list[Notice]]) -> None:
    try:
        deliver(compose())
    except Exception:  # a notification never breaks the request that triggered it
        logger.exception("Composing or sending people notifications failed")


def _skip_reason(user: Any) -> str | None:
    if not getattr(user, "is_active", False):
        return "deactivated"
    if not str(getattr(user, "email", "") or "").strip():
        return "no e-mail address"
    if not getattr(user, "notify_by_email", True):
        return "turned off in their settings"
    return None


def _audit(notice: Notice, action: str, outcome: str = "success", **details: Any) -> None:
    try:
        record(
            action,
            project=notice.project,
            target=notice.target,
            outcome=outcome,
            actor_name="system",
            details={"event": notice.event, "recipient": notice.user.get_username(), **details},
        )
    except Exception:  # the audit log must not turn a mail problem into an error page
        logger.exception("Recording the %s of a %s notification failed", action, notice.event)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:200]


def _send_error(exc: Exception) -> str:
    host = getattr(settings, "EMAIL_HOST", "")
    return f"The e-mail could not be sent through {host}: {exc}"[:500]


def deliver(notices: Sequence[Notice]) -> list[dict[str, Any]]:
    """Send ``notices`` (one SMTP connection for all) and record each outcome; never raises.

    Returns:
        One ``{"recipient", "event", "ok", "detail"}`` per notice, in order.
    """
    outcomes: list[dict[str, Any]] = []
    if not notices or not _email_enabled():
        return outcomes
    connection: Any = None
    broken: str | None = None  # once the server cannot be reached, the other messages fail alike
    for notice in notices:
        name = notice.user.get_username()
        reason = _skip_reason(notice.user)
        if reason is not None:
            logger.info("Not e-mailing %s about %s: %s", name, notice.event, reason)
            _audit(notice, "notification.skipped", reason=reason)
            outcomes.append({"recipient": name, "event": notice.event, "ok": False, "detail": reason})
            continue
        error = broken
        if error is None:
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    try:
                        connection.open()
                    except Exception as exc:  # the server cannot be reached: no use trying again
                        broken = error = _send_error(exc)
                if error is None:
                    EmailMessage(
                        _one_line(notice.subject),
                        notice.text,
                        None,
                        [notice.user.email],
                        connection=connection,
                    ).send(fail_silently=False)
            except Exception as exc:  # smtplib errors, a refused recipient, a TLS failure…
                error = _send_error(exc)
        if error is not None:
            logger.warning("E-mail to %s about %s failed: %s", name, notice.event, error)
            _audit(notice, "notification.failed", outcome="failure", error=error)
            outcomes.append({"recipient": name, "event": notice.event, "ok": False, "detail": error})
        else:
            _audit(notice, "notification.sent")
            outcomes.append({"recipient": name, "event": notice.event, "ok": True, "detail": "sent"})
    if connection is not None:
        try:
            connection.close()
        except Exception:
            logger.debug("Closing the SMTP connection failed", exc_info=True)
    return outcomes


def _same(a: Any, b: Any) -> bool:
    return a is not None and b is not None and getattr(a, "pk", None) == getattr(b, "pk", None)


def _greeting(user: Any) -> str:
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"Hello {name or user.get_username()},"


def _quote(text: str) -> str:
    text = str(text or "").strip()
    if not text:
        return "(none given)"
    if len(text) > MAX_QUOTE:
        text = text[:MAX_QUOTE] + "…"
    return "\n".join("  " + line for line in text.splitlines())


def _footer() -> str:
    settings_link = public_link(reverse("core:settings"))
    return (
        "\n-- \nModelworks. You get this e-mail because a request needs you or was yours. To stop these "
        f"e-mails, untick “E-mail me when I must approve or review” in your settings: {settings_link}\n"
    )


# ------------------------------------------------------------------------------------- promotions


def _promotion_link(promotion: Any) -> str:
    model = promotion.registered_model
    return public_link(
        reverse("registry:promotion", args=[promotion.project.slug, model.pk, promotion.number])
    )


def _promotion_move(promotion: Any) -> str:
    before = f"version {promotion.champion_version}" if promotion.champion_version else "no version"
    return f"@{promotion.alias} from {before} to version {promotion.candidate_version}"


def promotion_requested(promotion: Any) -> None:
    """After commit, e-mail the named approver of ``promotion`` (a new pending request)."""
    pk = promotion.pk

    def compose() -> list[Notice]:
        fresh = (
            type(promotion)
            .objects.select_related("project", "registered_model", "approver", "requested_by")
            .get(pk=pk)
        )
        approver = fresh.approver
        if approver is None or _same(approver, fresh.requested_by) or fresh.status != "pending":
            return []
        model, project = fresh.registered_model, fresh.project
        text = (
            f"{_greeting(approver)}\n\n"
            f"{fresh.requested_by_name or 'Someone'} asks you to approve a model promotion in project "
            f"'{project.name}'.\n\n"
            f"What: promotion request #{fresh.number} of model '{model.name}': move "
            f"{_promotion_move(fresh)}.\n"
            f"Asked by: {fresh.requested_by_name or 'the system'}\n"
            f"Reason:\n{_quote(fresh.note)}\n\n"
            "You are the named approver: nothing changes until you approve or reject it (a rejection "
            "needs a comment for the requester).\n"
            f"Decide here: {_promotion_link(fresh)}\n"
            f"All requests waiting for you: {public_link(reverse('registry:approvals'))} "
            "(Approvals waiting for me)\n" + _footer()
        )
        subject = (
            f"[Modelworks] Approval needed: promote '{model.name}' v{fresh.candidate_version} to "
            f"@{fresh.alias} (request #{fresh.number})"
        )
        return [Notice("promotion.requested", approver, subject, text, project, fresh)]

    _after_commit(compose)


_PROMOTION_OUTCOMES = {"approved": "approved", "rejected": "rejected", "cancelled": "withdrawn"}


def _promotion_outcome(promotion: Any, *, superseded: bool) -> Notice | None:
    requester = promotion.requested_by
    if requester is None:
        return None
    model = promotion.registered_model
    if superseded:
        outcome, who = "superseded", ""
        event = "promotion.superseded"
    else:
        outcome = _PROMOTION_OUTCOMES.get(promotion.status, promotion.status)
        who = f" by {promotion.decided_by_name}" if promotion.decided_by_name else ""
        event = f"promotion.{outcome}"
    effect = {
        "approved": f"@{promotion.alias} now points at version {promotion.candidate_version}.",
        "rejected": f"@{promotion.alias} did not move.",
    }.get(outcome, f"@{promotion.alias} did not move; nobody needs to decide it any more.")
    text = (
        f"{_greeting(requester)}\n\n"
        f"Your promotion request #{promotion.number} of model '{model.name}' (move "
        f"{_promotion_move(promotion)}) in project '{promotion.project.name}' was {outcome}{who}.\n"
        f"{effect}\n\n"
        f"Comment:\n{_quote(promotion.comment)}\n\n"
        f"See the request: {_promotion_link(promotion)}\n" + _footer()
    )
    subject = f"[Modelworks] Promotion request #{promotion.number} of '{model.name}' {outcome}"
    return Notice(event, requester, subject, text, promotion.project, promotion)


def promotion_decided(promotion: Any, *, actor: Any = None) -> None:
    """After commit, tell the requester of ``promotion`` its outcome (approved, rejected, withdrawn)
    and the comment; not when ``actor`` is the requester (withdrawing their own request)."""
    pk = promotion.pk

    def compose() -> list[Notice]:
        fresh = (
            type(promotion).objects.select_related("project", "registered_model", "requested_by").get(pk=pk)
        )
        if _same(fresh.requested_by, actor):
            return []
        notice = _promotion_outcome(fresh, superseded=False)
        return [notice] if notice is not None else []

    _after_commit(compose)


def promotions_superseded(promotions: Any, *, actor: Any = None) -> None:
    """After commit, tell the requesters of ``promotions`` (a queryset of requests just superseded)
    that a newer request or an automatic promotion replaced theirs; not ``actor`` themselves."""
    pks = list(promotions.values_list("pk", flat=True))
    if not pks:
        return
    manager = promotions.model.objects

    def compose() -> list[Notice]:
        found = manager.filter(pk__in=pks).select_related("project", "registered_model", "requested_by")
        notices = []
        for stale in found.order_by("number"):
            if _same(stale.requested_by, actor):
                continue
            notice = _promotion_outcome(stale, superseded=True)
            if notice is not None:
                notices.append(notice)
        return notices

    _after_commit(compose)


# --------------------------------------------------------------------------------------- sign-off


def _signoff_link(signoff: Any) -> str:
    return public_link(reverse("governance:signoff_request", args=[signoff.project.slug, signoff.pk]))


def _signoff_what(signoff: Any) -> str:
    model = (signoff.details or {}).get("model") or signoff.model_version.registered_model.name
    return f"version {signoff.model_version.version} of '{model}' as @{signoff.alias}"


def signoff_reviews_waiting(
    signoff: Any, reviews: Iterable[Any], reviewers: Callable[[Any, Any], list[Any]]
) -> None:
    """After commit, e-mail everyone who may decide one of ``reviews`` (steps whose turn has just
    come): ``reviewers(project, review)`` gives them (the sign-off's ``eligible_reviewers``). The
    requester is never among them (four-eyes); someone named in two parallel steps gets one e-mail."""
    review_pks = [r.pk for r in reviews]
    if not review_pks:
        return
    pk = signoff.pk
    manager = type(signoff).objects

    def compose() -> list[Notice]:
        fresh = manager.select_related("project", "model_version__registered_model", "requested_by").get(
            pk=pk
        )
        if fresh.status != "pending":
            return []
        steps = list(
            fresh.reviews.filter(pk__in=review_pks, decision="pending")
            .select_related("reviewer", "reviewer_group")
            .order_by("order", "id")
        )
        people: dict[int, tuple[Any, list[str]]] = {}
        for step in steps:
            if step.reviewer_group_id is not None:
                how = f"'{step.title}' (any member of group '{step.reviewer_group.name}' may decide it)"
            else:
                how = f"'{step.title}'"
            for user in reviewers(fresh.project, step):
                if _same(user, fresh.requested_by):
                    continue
                people.setdefault(user.pk, (user, []))[1].append(how)
        asked_by = (fresh.details or {}).get("requested_by") or (
            fresh.requested_by.get_username() if fresh.requested_by is not None else "someone"
        )
        due = timezone.localtime(fresh.due_at).strftime("%Y-%m-%d %H:%M %Z")
        notices = []
        for user, titles in people.values():
            plural = "s" if len(titles) > 1 else ""
            text = (
                f"{_greeting(user)}\n\n"
                f"{asked_by} asks for the sign-off of {_signoff_what(fresh)} in project "
                f"'{fresh.project.name}' (sign-off request #{fresh.pk}), and it is your turn to review.\n\n"
                f"Step{plural} waiting for you: {', '.join(titles)}\n"
                f"Asked by: {asked_by}\n"
                f"Reason:\n{_quote((fresh.details or {}).get('note', ''))}\n"
                f"Due: {due}\n\n"
                "Approve, or reject with a comment for the requester (a rejection rejects the request).\n"
                f"Decide here: {_signoff_link(fresh)}\n"
                f"All reviews waiting for you: {public_link(reverse('governance:signoff_waiting'))} "
                "(Reviews waiting for me)\n" + _footer()
            )
            subject = (
                f"[Modelworks] Review needed: sign-off of '{fresh.model_version.registered_model.name}' "
                f"v{fresh.model_version.version} as @{fresh.alias} (request #{fresh.pk})"
            )
            notices.append(Notice("signoff.review_waiting", user, subject, text, fresh.project, fresh))
        return notices

    _after_commit(compose)


def signoff_decided(signoff: Any, *, actor: Any = None) -> None:
    """After commit, tell the requester of ``signoff`` its outcome (approved, rejected with the step
    and comment, withdrawn, approval withdrawn); not when ``actor`` is the requester."""
    pk = signoff.pk
    manager = type(signoff).objects

    def compose() -> list[Notice]:
        fresh = manager.select_related("project", "model_version__registered_model", "requested_by").get(
            pk=pk
        )
        requester = fresh.requested_by
        if requester is None or _same(requester, actor) or fresh.status == "pending":
            return []
        details = fresh.details or {}
        decided = list(fresh.reviews.exclude(decision="pending").select_related("decided_by"))
        if fresh.status == "cancelled":
            cancelled = details.get("cancelled") or {}
            approval = cancelled.get("was") == "approved"
            outcome = "approval withdrawn" if approval else "withdrawn"
            headline = (
                f"The approval of your sign-off request #{fresh.pk} was withdrawn by {cancelled.get('by', 'someone')}: "
                "the version needs a new sign-off before it can take the alias again."
                if approval
                else f"Your sign-off request #{fresh.pk} was withdrawn by {cancelled.get('by', 'someone')}."
            )
            comment = str(cancelled.get("comment", ""))
            event = "signoff.approval_withdrawn" if approval else "signoff.cancelled"
        elif fresh.status == "rejected":
            step = next((r for r in decided if r.decision == "rejected"), None)
            by = step.decided_by.get_username() if step is not None and step.decided_by else "a reviewer"
            title = f" at step '{step.title}'" if step is not None else ""
            outcome, event = "rejected", "signoff.rejected"
            headline = f"Your sign-off request #{fresh.pk} was rejected by {by}{title}."
            comment = step.comment if step is not None else ""
        else:
            outcome, event = "approved", "signoff.approved"
            headline = (
                f"Your sign-off request #{fresh.pk} was approved at every step; the version may now take "
                f"@{fresh.alias}."
            )
            comment = "\n".join(
                f"{r.title} ({r.decided_by.get_username() if r.decided_by else 'someone'}): {r.comment}"
                for r in decided
                if r.comment
            )
        text = (
            f"{_greeting(requester)}\n\n{headline}\n"
            f"What: sign-off of {_signoff_what(fresh)} in project '{fresh.project.name}'.\n\n"
            f"Comment:\n{_quote(comment)}\n\n"
            f"See the request: {_signoff_link(fresh)}\n" + _footer()
        )
        subject = f"[Modelworks] Sign-off request #{fresh.pk} {outcome}"
        return [Notice(event, requester, subject, text, fresh.project, fresh)]

    _after_commit(compose)
