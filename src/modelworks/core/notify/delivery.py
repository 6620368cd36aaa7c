"""Getting notices to people: queue them as ``core.send_email`` jobs, and send them through SMTP.

* ``after_commit(plan)``: once the caller's transaction commits, ``plan()`` says who must be told
  what (a list of ``Planned``), and one ``core.send_email`` job is queued per person. A rolled-back
  decision queues nothing; the request's thread never talks to the mail server.
* ``queue(planned)``: queue the jobs now, inside the caller's transaction (the reminders use it, so
  that a reminder and its record commit together).
* ``send_one(notice)``: one e-mail through ``MODELWORKS_SMTP_HOST`` (raises on failure; the job
  decides whether to retry); ``deliver(notices)``: several at once, synchronously, each outcome
  audited and nothing raised (kept for callers outside the queue).
* ``audit(notice, action, …)``: the ``notification.sent`` / ``failed`` / ``skipped`` audit entries.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from modelworks.core.audit import record
from modelworks.core.jobs import enqueue
from modelworks.core.notify.messages import Notice, email_enabled, one_line, skip_reason

__all__ = [
    "NOTIFY_JOB_KIND",
    "Planned",
    "after_commit",
    "audit",
    "deliver",
    "is_permanent",
    "queue",
    "send_error",
    "send_one",
]

logger = logging.getLogger("modelworks.core.notify")

NOTIFY_JOB_KIND = "core.send_email"


@dataclass(frozen=True)
class Planned:
    """One e-mail to queue: ``message`` names how the job composes it (``promotion.requested``…),
    ``target`` is the request it is about, ``context`` small JSON facts the composer needs."""

    message: str
    recipient: Any
    target: Any
    context: dict[str, Any] = field(default_factory=dict)


def queue(planned: Sequence[Planned]) -> int:
    """Queue one ``core.send_email`` job per planned e-mail, in the caller's transaction; how many.

    Nothing is queued when e-mail is off (no SMTP host): no outbound call, nothing recorded.
    """
    if not planned or not email_enabled():
        return 0
    with transaction.atomic():
        for item in planned:
            target = item.target
            enqueue(
                NOTIFY_JOB_KIND,
                title=f"E-mail {item.recipient.get_username()}: {item.message}"[:200],
                params={
                    "message": item.message,
                    "recipient": item.recipient.pk,
                    "target": target._meta.label_lower,
                    "target_id": str(target.pk),
                    "context": item.context,
                },
            )
    return len(planned)


def after_commit(plan: Callable[[], list[Planned]]) -> None:
    """Once the current transaction commits (at once outside one), run ``plan`` and queue its
    e-mails. A failure is logged: a notification never breaks the request that triggered it."""
    if not email_enabled():
        return

    def run() -> None:
        try:
            queue(plan())
        except Exception:
            logger.exception("Queueing people notifications failed")

    transaction.on_commit(run, robust=True)


def audit(notice: Notice, action: str, outcome: str = "success", **details: Any) -> None:
    """Record ``action`` (``notification.sent``…) about ``notice``; a failure to record is logged."""
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


def send_error(exc: Exception) -> str:
    """A plain message naming the relay and what it said."""
    host = getattr(settings, "EMAIL_HOST", "")
    return f"The e-mail could not be sent through {host}: {exc}"[:500]


def is_permanent(exc: Exception) -> bool:
    """Whether trying again cannot help: the relay refused the recipient or the message for good
    (an SMTP 5xx answer), or refused our login."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _message(notice: Notice, connection: Any) -> EmailMessage:
    return EmailMessage(
        one_line(notice.subject), notice.text, None, [notice.user.email], connection=connection
    )


def send_one(notice: Notice) -> None:
    """Send ``notice`` through the configured SMTP server.

    Raises:
        Exception: whatever the mail backend raised (``smtplib`` errors, ``OSError``…).
    """
    connection = get_connection(fail_silently=False)
    with connection:
        _message(notice, connection).send(fail_silently=False)


def deliver(notices: Sequence[Notice]) -> list[dict[str, Any]]:
    """Send ``notices`` now (one SMTP connection for all) and record each outcome; never raises.

    Synchronous and without retries: the request flows queue ``core.send_email`` jobs instead.

    Returns:
        One ``{"recipient", "event", "ok", "detail"}`` per notice, in order.
    """
    outcomes: list[dict[str, Any]] = []
    if not notices or not email_enabled():
        return outcomes
    connection: Any = None
    broken: str | None = None  # once the server cannot be reached, the other messages fail alike
    for notice in notices:
        name = notice.user.get_username()
        reason = skip_reason(notice.user)
        if reason is not None:
            audit(notice, "notification.skipped", reason=reason)
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
                        broken = error = send_error(exc)
                if error is None:
                    _message(notice, connection).send(fail_silently=False)
            except Exception as exc:  # smtplib errors, a refused recipient, a TLS failure…
                error = send_error(exc)
        if error is not None:
            logger.warning("E-mail to %s about %s failed: %s", name, notice.event, error)
            audit(notice, "notification.failed", outcome="failure", error=error)
            outcomes.append({"recipient": name, "event": notice.event, "ok": False, "detail": error})
        else:
            audit(notice, "notification.sent")
            outcomes.append({"recipient": name, "event": notice.event, "ok": True, "detail": "sent"})
    if connection is not None:
        try:
            connection.close()
        except Exception:
            logger.debug("Closing the SMTP connection failed", exc_info=True)
    return outcomes
