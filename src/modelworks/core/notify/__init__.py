"""E-mail to the people a request waits on, and to its requester when it is decided.

So that nothing waits silently in a list nobody opens:

* ``promotion_requested(promotion)``: the named approver of a model promotion request;
* ``promotion_decided(promotion, actor=…)``: its requester, when it is approved, rejected or
  withdrawn, and, when it is withdrawn, its approver (no decision needed any more);
* ``promotions_superseded(promotions, actor=…)``: the requesters of requests a newer request or an
  automatic promotion replaced, and their approvers;
* ``signoff_reviews_waiting(signoff, reviews, reviewers)``: everyone who may decide a sign-off step
  whose turn has come (the named reviewer, or each active member of the step's group);
* ``signoff_decided(signoff, actor=…, reviewers=…)``: the requester, when the sign-off is approved,
  rejected, withdrawn, or its approval withdrawn; when a pending one is withdrawn, the reviewers of
  the steps that were waiting;
* ``reminders.tick()`` (a periodic task of the workers): the people a request still waits on after
  ``MODELWORKS_NOTIFY_REMINDER_DAYS`` days, again every that many days.

The request's thread never talks to the mail server: each function plans its e-mails for after the
caller's transaction commits (a rolled-back decision sends nothing) and queues one ``core.send_email``
background job per person (``jobs.SendNotificationJob``), which composes the message, sends it, and
retries a temporary SMTP failure with backoff. Every outcome is in the audit log:
``notification.sent``, ``notification.failed`` (outcome ``failure``, once the attempts are used up
or the relay refused it for good) and ``notification.skipped`` (deactivated users, users without an
e-mail address, users who turned off “E-mail me when I must approve or review”). Nobody is e-mailed
about what they did themselves.

E-mail goes only through ``MODELWORKS_SMTP_HOST`` (``MODELWORKS_EMAIL_ENABLED``): with no SMTP host
nothing is queued, sent or recorded. Links are absolute when ``MODELWORKS_PUBLIC_URL`` is set.

Modules: ``messages`` (the ``Notice`` and shared text), ``delivery`` (queueing, SMTP, audit),
``promotions`` and ``signoffs`` (who is told what, and the messages), ``jobs`` (``core.send_email``),
``reminders`` (the periodic reminders), ``testing`` (run queued e-mails in a test's process).
"""

from __future__ import annotations

from modelworks.core.notify.delivery import NOTIFY_JOB_KIND, Planned, deliver
from modelworks.core.notify.messages import Notice, public_link
from modelworks.core.notify.promotions import (
    promotion_decided,
    promotion_requested,
    promotions_superseded,
)
from modelworks.core.notify.signoffs import signoff_decided, signoff_reviews_waiting

__all__ = [
    "NOTIFY_JOB_KIND",
    "Notice",
    "Planned",
    "deliver",
    "promotion_decided",
    "promotion_requested",
    "promotions_superseded",
    "public_link",
    "signoff_decided",
    "signoff_reviews_waiting",
]
