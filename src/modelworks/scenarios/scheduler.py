"""The schedule of cron triggers: ``tick(now)``, called by every ``modelworks worker`` periodically.

Listed in the ``MODELWORKS_PERIODIC_TASKS`` setting; the workers call it at most every
``MODELWORKS_PERIODIC_INTERVAL_SECONDS``. Several workers may tick at the same moment: a due trigger
is claimed with a conditional UPDATE on its ``next_fire_at`` (``WHERE id = ? AND next_fire_at = <the
value read>``), so exactly one of them moves it forward and starts the run.

Catch-up policy: when the schedule was missed several times (no worker was running), the trigger
fires **once** and its next time is computed from now; the run's detail says how many times were
missed. Every time is UTC.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from modelworks.scenarios.models import RunTrigger, ScenarioRun, Trigger, TriggerKind
from modelworks.scenarios.services.cron import count_missed, next_times
from modelworks.scenarios.services.runs import reconcile_stale_runs, start_run

__all__ = ["tick"]

logger = logging.getLogger("modelworks.scenarios")


def tick(now: dt.datetime | None = None) -> list[ScenarioRun]:
    """Fire every cron trigger due at ``now`` (default: the current time); return the runs recorded.

    Also closes runs left active by a job that ended without finishing them, and gives a schedule
    that has no next time yet (created before this was running) its first one, without firing it.
    """
    now = now or timezone.now()
    reconcile_stale_runs()
    schedules = Trigger.objects.filter(kind=TriggerKind.CRON, enabled=True, scenario__enabled=True)
    for trigger in schedules.filter(next_fire_at__isnull=True):
        Trigger.objects.filter(pk=trigger.pk, next_fire_at__isnull=True).update(
            next_fire_at=next_times(trigger.cron, now, 1)[0]
        )
    runs = []
    for trigger in schedules.filter(next_fire_at__lte=now).select_related(
        "scenario__project", "scenario__run_as"
    ):
        due = trigger.next_fire_at
        assert due is not None
        following = next_times(trigger.cron, now, 1)[0]
        with transaction.atomic():
            claimed = Trigger.objects.filter(pk=trigger.pk, enabled=True, next_fire_at=due).update(
                next_fire_at=following, last_fired_at=now
            )
            if not claimed:
                continue  # another worker fired it, or it was edited meanwhile
            missed = count_missed(trigger.cron, due, now) if following else 0
            detail = f"cron '{trigger.cron}' due {due:%Y-%m-%d %H:%M} UTC"
            if missed:
                detail += f" ({missed} later time{'s' if missed != 1 else ''} missed while no worker ran; fired once)"
            run = start_run(trigger.scenario, trigger_kind=RunTrigger.CRON, detail=detail, trigger=trigger)
        logger.info("Scenario %s: %s → run %d %s.", trigger.scenario.name, detail, run.number, run.status)
        runs.append(run)
    return runs
