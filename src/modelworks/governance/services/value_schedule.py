"""The schedule of realised value: ``tick()``, a periodic task of every ``modelworks worker``.

To list in ``MODELWORKS_PERIODIC_TASKS``. Feedback labels arrive days after the predictions, so a
definition's whole history is recomputed regularly: daily definitions every hour, weekly and monthly
ones every six hours. A due definition is claimed under a row lock (its ``details["next_run_at"]``
pushed ahead in the same transaction), so with several workers exactly one queues the job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from modelworks.core.models import Job
from modelworks.governance.models import ValueDefinition, ValueKind, ValuePeriod

__all__ = ["REFRESH", "due", "request_compute", "tick"]

logger = logging.getLogger("modelworks.governance")

REFRESH = {
    ValuePeriod.DAY: timedelta(hours=1),
    ValuePeriod.WEEK: timedelta(hours=6),
    ValuePeriod.MONTH: timedelta(hours=6),
}


def due(definition: ValueDefinition, now: datetime) -> bool:
    """True when ``definition`` should be computed again at ``now``."""
    if definition.kind != ValueKind.PREDICTION_LOG:
        return False
    text = (definition.details or {}).get("next_run_at")
    if not text:
        return True
    try:
        return datetime.fromisoformat(text) <= now
    except ValueError:
        return True


def _project_of(definition: ValueDefinition):  # type: ignore[no-untyped-def]
    if definition.deployment_id:
        return definition.deployment.project  # type: ignore[union-attr]
    recipe = (definition.details or {}).get("recipe")
    if recipe:
        from modelworks.flows.models import Recipe

        found = Recipe.objects.filter(pk=recipe).select_related("project").first()
        return found.project if found else None
    return None


def request_compute(definition: ValueDefinition, *, actor: object = None, scheduled: bool = False) -> Job:
    """Queue a ``governance.value`` job for ``definition`` (in the project of its prediction log)."""
    from modelworks.core.jobs import enqueue

    return enqueue(
        "governance.value",
        title=f"Compute realised value '{definition.name[:80]}'" + (" (scheduled)" if scheduled else ""),
        project=_project_of(definition),
        created_by=actor if getattr(actor, "pk", None) else None,
        params={"definition": definition.pk},
    )


def tick(now: datetime | None = None) -> list[Job]:
    """Queue a computation of every ``prediction_log`` definition that is due; return the jobs."""
    now = now or timezone.now()
    jobs = []
    candidates = ValueDefinition.objects.filter(kind=ValueKind.PREDICTION_LOG).select_related("deployment")
    for definition in candidates:
        if not due(definition, now):
            continue
        with transaction.atomic():
            locked = (
                ValueDefinition.objects.select_for_update(of=("self",))
                .select_related("deployment")
                .get(pk=definition.pk)
            )
            if not due(locked, now):
                continue  # another worker claimed it
            details = dict(locked.details or {})
            details["next_run_at"] = (
                now + REFRESH.get(ValuePeriod(locked.period), timedelta(hours=6))
            ).isoformat()
            ValueDefinition.objects.filter(pk=locked.pk).update(details=details)
            jobs.append(request_compute(locked, scheduled=True))
    if jobs:
        logger.info("Governance: queued %d realised-value computation(s).", len(jobs))
    return jobs
