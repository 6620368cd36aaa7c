"""``core.send_email``: the background job that composes and sends one e-mail to one person.

Queued by ``delivery.queue`` (after the decision's commit, or by the reminders in their own
transaction) with ``params = {"message", "recipient", "target", "target_id", "context"}``. The
job composes the e-mail from the request as it is now (one that no longer waits on the person is
not sent), checks that the person still can and wants to get e-mail, sends it, and records the
outcome: ``notification.sent``, ``notification.skipped`` (with the reason) or, once the attempts
are used up or the relay refused it for good (an SMTP 5xx answer), ``notification.failed``. A
temporary failure (relay unreachable, timeout, 4xx) is retried with backoff: attempts after 1, 2
and 4 minutes by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model

from modelworks.core.jobs import BaseJob, InvalidJobParamsError, JobFailed, RetryableJobError
from modelworks.core.notify import promotions, signoffs
from modelworks.core.notify.delivery import (
    NOTIFY_JOB_KIND,
    audit,
    is_permanent,
    send_error,
    send_one,
)
from modelworks.core.notify.messages import Notice, email_enabled, skip_reason

__all__ = ["COMPOSERS", "SendNotificationJob"]

Composer = Callable[[Any, Any, dict[str, Any]], Notice | None]

# How each planned message is written (explicit: a message not listed here is refused at queueing).
COMPOSERS: dict[str, Composer] = {
    "promotion.requested": promotions.compose_requested,
    "promotion.reminder": promotions.compose_reminder,
    "promotion.decided": promotions.compose_outcome,
    "promotion.closed": promotions.compose_closed,
    "signoff.review_waiting": signoffs.compose_review_waiting,
    "signoff.reminder": signoffs.compose_reminder,
    "signoff.decided": signoffs.compose_outcome,
    "signoff.closed": signoffs.compose_closed,
}


class SendNotificationJob(BaseJob):
    """Compose and send one e-mail to one person; retried while the relay fails temporarily."""

    kind = NOTIFY_JOB_KIND
    title = "Send an e-mail notification"
    max_attempts = 4
    retry_backoff_seconds = 60.0
    retry_backoff_max_seconds = 15 * 60.0

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        message = params.get("message")
        if message not in COMPOSERS:
            raise InvalidJobParamsError(
                f"'{cls.kind}' parameter 'message' must be one of {', '.join(sorted(COMPOSERS))}, "
                f"got {message!r}."
            )
        if not isinstance(params.get("recipient"), int) or isinstance(params.get("recipient"), bool):
            raise InvalidJobParamsError(
                f"'{cls.kind}' parameter 'recipient' must be a user id, got {params.get('recipient')!r}."
            )
        try:
            apps.get_model(str(params.get("target", "")))
        except (LookupError, ValueError) as exc:
            raise InvalidJobParamsError(
                f"'{cls.kind}' parameter 'target' must name a model as 'app_label.model', got "
                f"{params.get('target')!r}."
            ) from exc
        context = params.get("context", {})
        if not isinstance(context, dict):
            raise InvalidJobParamsError(f"'{cls.kind}' parameter 'context' must be an object.")
        return {**params, "target_id": str(params.get("target_id", "")), "context": context}

    def run(self) -> dict[str, Any]:
        p = self.params
        message = str(p["message"])
        summary: dict[str, Any] = {"message": message}
        if not email_enabled():
            self.log("E-mail is turned off on this instance (no SMTP host): nothing sent.", "WARNING")
            return {**summary, "outcome": "e-mail is off"}
        user = get_user_model().objects.filter(pk=p["recipient"]).first()
        target = apps.get_model(p["target"]).objects.filter(pk=p["target_id"]).first()
        if user is None or target is None:
            gone = "the recipient" if user is None else f"{p['target']} {p['target_id']}"
            self.log(f"Nothing to send: {gone} no longer exists.")
            return {**summary, "outcome": "not needed"}
        summary["recipient"] = user.get_username()
        notice = COMPOSERS[message](target, user, dict(p.get("context") or {}))
        if notice is None:
            self.log(f"Not sent to {user.get_username()}: the request no longer waits on them.")
            return {**summary, "outcome": "not needed"}
        summary["event"] = notice.event
        reason = skip_reason(user)
        if reason is not None:
            self.log(f"Not e-mailing {user.get_username()} about {notice.event}: {reason}.")
            audit(notice, "notification.skipped", reason=reason)
            return {**summary, "outcome": "skipped", "reason": reason}
        attempt, budget = self.job.counted_attempts, self.job.max_attempts
        try:
            send_one(notice)
        except Exception as exc:  # smtplib errors, a refused connection, a TLS failure, a timeout…
            error = send_error(exc)
            if is_permanent(exc) or attempt >= budget:
                audit(notice, "notification.failed", outcome="failure", error=error, attempts=attempt)
                raise JobFailed(error) from exc
            raise RetryableJobError(f"{error} (attempt {attempt} of {budget})") from exc
        audit(notice, "notification.sent")
        self.log(f"Sent '{notice.subject}' to {user.get_username()}.")
        return {**summary, "outcome": "sent"}
