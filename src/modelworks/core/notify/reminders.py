"""Reminders: a request still waiting on someone after ``MODELWORKS_NOTIFY_REMINDER_DAYS`` days
(default 3; 0 turns reminders off) e-mails them again, then again every that many days while it
waits.

``tick(now)`` is listed in ``MODELWORKS_PERIODIC_TASKS``: every ``modelworks worker`` calls it
every ``MODELWORKS_PERIODIC_INTERVAL_SECONDS``. Each reminder is recorded in the audit log
(``notification.reminded``, on the request, with who is reminded) in the same transaction that
queues its e-mails, and the next one is due ``days`` after the later of that record and the moment
the request started waiting (its creation; for a sign-off, the last approved step). Several workers
may tick at once: each request is locked (``SELECT … FOR UPDATE``; SQLite transactions are
IMMEDIATE) and its last reminder read again under the lock, so exactly one of them sends it.

Promotion requests (``registry.PromotionRequest``) remind their named approver; sign-off requests
(``governance.SignoffRequest``) whoever may decide a step whose turn has come, as the governance
app's ``eligible_reviewers`` says. Both models are looked up by name, so core imports neither app,
and an app that is not installed is left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from modelworks.core.audit import record
from modelworks.core.models import AuditEvent
from modelworks.core.notify import promotions, signoffs
from modelworks.core.notify.delivery import Planned, queue
from modelworks.core.notify.messages import email_enabled

__all__ = ["REMINDED", "reminder_days", "tick"]

logger = logging.getLogger("modelworks.core.notify")

REMINDED = "notification.reminded"
SIGNOFF_REVIEWERS = "modelworks.governance.services.signoff.eligible_reviewers"


def reminder_days() -> int:
    """``MODELWORKS_NOTIFY_REMINDER_DAYS`` as a whole number of days (0: no reminders).

    Raises:
        ImproperlyConfigured: the setting is not a whole number from 0 to 365.
    """
    raw = getattr(settings, "MODELWORKS_NOTIFY_REMINDER_DAYS", 3)
    try:
        days = int(str(raw).strip())
    except ValueError:
        days = -1
    if not 0 <= days <= 365:
        raise ImproperlyConfigured(
            f"MODELWORKS_NOTIFY_REMINDER_DAYS must be a whole number of days from 0 to 365 (0 turns "
            f"reminders off), got {raw!r}."
        )
    return days


def _model(label: str) -> Any:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _last_reminders(model: Any, pks: list[Any]) -> dict[str, datetime]:
    if not pks:
        return {}
    rows = (
        AuditEvent.objects.filter(
            action=REMINDED, target_type=model._meta.label_lower, target_id__in=[str(pk) for pk in pks]
        )
        .values("target_id")
        .annotate(last=Max("time"))
    )
    return {row["target_id"]: row["last"] for row in rows}


def _due(since: datetime, last: datetime | None, now: datetime, every: timedelta) -> bool:
    return now - max(since, last or since) >= every


def _waiting_since_signoff(signoff: Any) -> datetime:
    approved = signoff.reviews.filter(decision="approved").aggregate(last=Max("decided_at"))["last"]
    return max(signoff.created_at, approved) if approved is not None else signoff.created_at


def _remind(
    model: Any,
    pk: Any,
    now: datetime,
    every: timedelta,
    since_of: Callable[[Any], datetime],
    plan: Callable[[Any, datetime], list[Planned]],
) -> list[Planned]:
    """Lock one request, check again that a reminder is due, record it and queue its e-mails."""
    with transaction.atomic():
        item = model.objects.select_for_update().filter(pk=pk, status="pending").first()
        if item is None:
            return []
        since = since_of(item)
        last = _last_reminders(model, [pk]).get(str(pk))
        if not _due(since, last, now, every):
            return []  # another worker reminded it meanwhile
        planned = plan(item, since)
        if not planned:
            return []
        waited = (now - since).days
        record(
            REMINDED,
            project=item.project,
            target=item,
            actor_name="system",
            details={
                "event": planned[0].message,
                "recipients": sorted(p.recipient.get_username() for p in planned),
                "waiting_days": waited,
            },
        )
        queue(planned)
    return planned


def _promotion_reminders(now: datetime, every: timedelta) -> list[Planned]:
    model = _model("registry.PromotionRequest")
    if model is None:
        return []
    candidates = list(
        model.objects.filter(status="pending", created_at__lte=now - every, approver__isnull=False)
        .order_by("created_at")
        .values_list("pk", "created_at")
    )
    last = _last_reminders(model, [pk for pk, _ in candidates])
    planned: list[Planned] = []
    for pk, created in candidates:
        if _due(created, last.get(str(pk)), now, every):
            planned += _remind(
                model,
                pk,
                now,
                every,
                lambda item: item.created_at,
                lambda item, since: promotions.reminders_for(item),
            )
    return planned


def _signoff_reminders(now: datetime, every: timedelta) -> list[Planned]:
    model = _model("governance.SignoffRequest")
    if model is None:
        return []
    reviewers = import_string(SIGNOFF_REVIEWERS)
    candidates = list(
        model.objects.filter(status="pending", created_at__lte=now - every)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    last = _last_reminders(model, candidates)
    planned: list[Planned] = []
    for item in model.objects.filter(pk__in=candidates).order_by("created_at"):
        if not _due(_waiting_since_signoff(item), last.get(str(item.pk)), now, every):
            continue

        def plan(found: Any, since: datetime) -> list[Planned]:
            reminders = signoffs.reminders_for(found, reviewers)
            for p in reminders:
                p.context["since"] = since.isoformat()
            return reminders

        planned += _remind(model, item.pk, now, every, _waiting_since_signoff, plan)
    return planned


def tick(now: datetime | None = None) -> list[Planned]:
    """Queue the reminders due at ``now`` (default: the current time); return what was queued.

    Raises:
        ImproperlyConfigured: MODELWORKS_NOTIFY_REMINDER_DAYS is malformed.
    """
    days = reminder_days()
    if days == 0 or not email_enabled():
        return []
    now = now or timezone.now()
    every = timedelta(days=days)
    planned = _promotion_reminders(now, every) + _signoff_reminders(now, every)
    if planned:
        logger.info(
            "Queued %d reminder e-mail(s) about requests waiting %d day(s) or more.", len(planned), days
        )
    return planned
