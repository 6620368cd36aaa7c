"""E-mails about governance sign-off requests (``SignoffRequest`` and its ``SignoffReview`` steps).

Called by ``governance.services.signoff`` inside its transactions; each function only plans the
e-mails for after the commit (``delivery.after_commit``), and the ``core.send_email`` job composes each
one from the request as it is when the e-mail leaves (``compose_*``). Who may decide a step is the
governance app's ``eligible_reviewers(project, step)``, which the callers pass in.

The request is read through its attributes and URL names only, so this module does not import the
governance app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from modelworks.core.notify.delivery import Planned, after_commit
from modelworks.core.notify.messages import Notice, footer, greeting, public_link, quote, same_user

__all__ = [
    "Reviewers",
    "compose_closed",
    "compose_outcome",
    "compose_reminder",
    "compose_review_waiting",
    "current_steps",
    "reminders_for",
    "signoff_decided",
    "signoff_reviews_waiting",
]

Reviewers = Callable[[Any, Any], list[Any]]
PENDING, CANCELLED = "pending", "cancelled"
_RELATED = ("project", "model_version__registered_model", "requested_by")


def _link(signoff: Any) -> str:
    return public_link(reverse("governance:signoff_request", args=[signoff.project.slug, signoff.pk]))


def _what(signoff: Any) -> str:
    model = (signoff.details or {}).get("model") or signoff.model_version.registered_model.name
    return f"version {signoff.model_version.version} of '{model}' as @{signoff.alias}"


def _waiting_link() -> str:
    return f"{public_link(reverse('governance:signoff_waiting'))} (Reviews waiting for me)"


def _asked_by(signoff: Any) -> str:
    requester = signoff.requested_by
    return str(
        (signoff.details or {}).get("requested_by")
        or (requester.get_username() if requester is not None else "someone")
    )


def current_steps(signoff: Any) -> list[Any]:
    """The pending steps whose turn has come (those of the lowest order still pending), whatever the
    request's status: for a request just withdrawn, the steps that were waiting."""
    pending = list(
        signoff.reviews.filter(decision="pending")
        .select_related("reviewer", "reviewer_group")
        .order_by("order", "id")
    )
    if not pending:
        return []
    turn = pending[0].order
    return [r for r in pending if r.order == turn]


def _people(
    signoff: Any, steps: Iterable[Any], reviewers: Reviewers, *, besides: Any = None
) -> dict[int, tuple[Any, list[str], list[int]]]:
    """Everyone who may decide one of ``steps``, once each: user pk → (user, step names, step pks).
    Never the requester (four-eyes) nor ``besides``."""
    people: dict[int, tuple[Any, list[str], list[int]]] = {}
    for step in steps:
        if step.reviewer_group_id is not None:
            how = f"'{step.title}' (any member of group '{step.reviewer_group.name}' may decide it)"
        else:
            how = f"'{step.title}'"
        for user in reviewers(signoff.project, step):
            if same_user(user, signoff.requested_by) or same_user(user, besides):
                continue
            entry = people.setdefault(user.pk, (user, [], []))
            entry[1].append(how)
            entry[2].append(step.pk)
    return people


def _planned(
    message: str, signoff: Any, people: dict[int, tuple[Any, list[str], list[int]]]
) -> list[Planned]:
    return [
        Planned(message, user, signoff, {"steps": titles, "reviews": pks})
        for user, titles, pks in people.values()
    ]


# ------------------------------------------------------------------------------------- planning


def signoff_reviews_waiting(signoff: Any, reviews: Iterable[Any], reviewers: Reviewers) -> None:
    """After commit, e-mail everyone who may decide one of ``reviews`` (steps whose turn has just
    come): ``reviewers(project, review)`` gives them (the sign-off's ``eligible_reviewers``). The
    requester is never among them (four-eyes); someone named in two parallel steps gets one e-mail."""
    review_pks = [r.pk for r in reviews]
    if not review_pks:
        return
    pk, manager = signoff.pk, type(signoff).objects

    def plan() -> list[Planned]:
        fresh = manager.select_related(*_RELATED).get(pk=pk)
        if fresh.status != PENDING:
            return []
        steps = (
            fresh.reviews.filter(pk__in=review_pks, decision="pending")
            .select_related("reviewer", "reviewer_group")
            .order_by("order", "id")
        )
        return _planned("signoff.review_waiting", fresh, _people(fresh, steps, reviewers))

    after_commit(plan)


def signoff_decided(signoff: Any, *, actor: Any = None, reviewers: Reviewers | None = None) -> None:
    """After commit, tell the requester of ``signoff`` its outcome (approved, rejected with the step
    and comment, withdrawn, approval withdrawn); not when ``actor`` is the requester. When a pending
    request is withdrawn and ``reviewers`` is given, the reviewers of the steps that were waiting are
    told they need not review it (not ``actor``)."""
    pk, manager = signoff.pk, type(signoff).objects
    status = signoff.status  # as decided in this transaction, whatever happens to it later

    def plan() -> list[Planned]:
        fresh = manager.select_related(*_RELATED).get(pk=pk)
        planned = []
        requester = fresh.requested_by
        if requester is not None and not same_user(requester, actor) and status != PENDING:
            planned.append(Planned("signoff.decided", requester, fresh, {"status": status}))
        cancelled = (fresh.details or {}).get("cancelled") or {}
        if reviewers is not None and status == CANCELLED and cancelled.get("was") == PENDING:
            people = _people(fresh, current_steps(fresh), reviewers, besides=actor)
            planned += _planned("signoff.closed", fresh, people)
        return planned

    after_commit(plan)


def reminders_for(signoff: Any, reviewers: Reviewers) -> list[Planned]:
    """The reminder e-mails of a pending ``signoff``: whoever may decide a step whose turn has come."""
    return _planned("signoff.reminder", signoff, _people(signoff, current_steps(signoff), reviewers))


# ------------------------------------------------------------------------------------ composing


def _fresh(signoff: Any) -> Any:
    return type(signoff).objects.select_related(*_RELATED).get(pk=signoff.pk)


def _still_waiting(signoff: Any, context: dict[str, Any]) -> bool:
    pks = context.get("reviews") or []
    return signoff.status == PENDING and signoff.reviews.filter(pk__in=pks, decision="pending").exists()


def _subject(prefix: str, signoff: Any) -> str:
    version = signoff.model_version
    return (
        f"[Modelworks] {prefix}: sign-off of '{version.registered_model.name}' v{version.version} as "
        f"@{signoff.alias} (request #{signoff.pk})"
    )


def compose_review_waiting(signoff: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """ "Review needed" to a reviewer whose step's turn has come, while it is still undecided."""
    fresh = _fresh(signoff)
    if not _still_waiting(fresh, context):
        return None
    titles = list(context.get("steps") or [])
    plural = "s" if len(titles) > 1 else ""
    due = timezone.localtime(fresh.due_at).strftime("%Y-%m-%d %H:%M %Z")
    text = (
        f"{greeting(user)}\n\n"
        f"{_asked_by(fresh)} asks for the sign-off of {_what(fresh)} in project "
        f"'{fresh.project.name}' (sign-off request #{fresh.pk}), and it is your turn to review.\n\n"
        f"Step{plural} waiting for you: {', '.join(titles)}\n"
        f"Asked by: {_asked_by(fresh)}\n"
        f"Reason:\n{quote((fresh.details or {}).get('note', ''))}\n"
        f"Due: {due}\n\n"
        "Approve, or reject with a comment for the requester (a rejection rejects the request).\n"
        f"Decide here: {_link(fresh)}\n"
        f"All reviews waiting for you: {_waiting_link()}\n" + footer()
    )
    return Notice(
        "signoff.review_waiting", user, _subject("Review needed", fresh), text, fresh.project, fresh
    )


def compose_reminder(signoff: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """ "Still waiting for your review" to a reviewer of a step that is still undecided."""
    fresh = _fresh(signoff)
    if not _still_waiting(fresh, context):
        return None
    titles = list(context.get("steps") or [])
    plural = "s" if len(titles) > 1 else ""
    since: datetime = parse_datetime(str(context.get("since") or "")) or fresh.created_at
    days = max((timezone.now() - since).days, 1)
    due = timezone.localtime(fresh.due_at)
    late = " (overdue)" if due < timezone.now() else ""
    text = (
        f"{greeting(user)}\n\n"
        f"A reminder: the sign-off of {_what(fresh)} in project '{fresh.project.name}' (sign-off "
        f"request #{fresh.pk}) has been waiting for your review since "
        f"{timezone.localtime(since):%Y-%m-%d} ({days} day{'s' if days != 1 else ''}).\n\n"
        f"Step{plural} waiting for you: {', '.join(titles)}\n"
        f"Asked by: {_asked_by(fresh)}\n"
        f"Due: {due:%Y-%m-%d %H:%M %Z}{late}\n\n"
        "Approve, or reject with a comment for the requester (a rejection rejects the request).\n"
        f"Decide here: {_link(fresh)}\n"
        f"All reviews waiting for you: {_waiting_link()}\n" + footer()
    )
    return Notice(
        "signoff.review_reminder",
        user,
        _subject("Reminder: review still needed", fresh),
        text,
        fresh.project,
        fresh,
    )


def compose_outcome(signoff: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """The outcome to the requester: ``context["status"]`` is the status decided (approved, rejected,
    cancelled: withdrawn, or its approval withdrawn)."""
    fresh = _fresh(signoff)
    if not same_user(fresh.requested_by, user):
        return None
    status = str(context.get("status") or fresh.status)
    details = fresh.details or {}
    decided = list(fresh.reviews.exclude(decision="pending").select_related("decided_by"))
    if status == CANCELLED:
        cancelled = details.get("cancelled") or {}
        approval = cancelled.get("was") == "approved"
        by = cancelled.get("by", "someone")
        outcome = "approval withdrawn" if approval else "withdrawn"
        headline = (
            f"The approval of your sign-off request #{fresh.pk} was withdrawn by {by}: "
            "the version needs a new sign-off before it can take the alias again."
            if approval
            else f"Your sign-off request #{fresh.pk} was withdrawn by {by}."
        )
        comment = str(cancelled.get("comment", ""))
        event = "signoff.approval_withdrawn" if approval else "signoff.cancelled"
    elif status == "rejected":
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
        f"{greeting(user)}\n\n{headline}\n"
        f"What: sign-off of {_what(fresh)} in project '{fresh.project.name}'.\n\n"
        f"Comment:\n{quote(comment)}\n\n"
        f"See the request: {_link(fresh)}\n" + footer()
    )
    subject = f"[Modelworks] Sign-off request #{fresh.pk} {outcome}"
    return Notice(event, user, subject, text, fresh.project, fresh)


def compose_closed(signoff: Any, user: Any, context: dict[str, Any]) -> Notice | None:
    """ "No review needed any more" to the reviewers of the steps a withdrawn request waited on."""
    fresh = _fresh(signoff)
    if fresh.status != CANCELLED:
        return None
    cancelled = (fresh.details or {}).get("cancelled") or {}
    titles = list(context.get("steps") or [])
    plural = "s" if len(titles) > 1 else ""
    text = (
        f"{greeting(user)}\n\n"
        f"Sign-off request #{fresh.pk} (sign-off of {_what(fresh)} in project '{fresh.project.name}'), "
        f"which waited for your review, was withdrawn by {cancelled.get('by', 'someone')}.\n"
        f"Step{plural} that waited for you: {', '.join(titles)}\n"
        "Nothing is needed from you any more: it can no longer be reviewed.\n\n"
        f"Comment:\n{quote(str(cancelled.get('comment', '')))}\n\n"
        f"See the request: {_link(fresh)}\n"
        f"All reviews waiting for you: {_waiting_link()}\n" + footer()
    )
    subject = f"[Modelworks] No review needed: sign-off request #{fresh.pk} withdrawn"
    return Notice("signoff.withdrawn_for_reviewer", user, subject, text, fresh.project, fresh)
