"""The schedule of monitors: ``tick()``, a periodic task of every ``modelworks worker``.

Listed in ``MODELWORKS_PERIODIC_TASKS``. A monitor is due when its ``next_run_at`` has passed (or it
was never computed). Several workers may tick at once: a due monitor is claimed with a conditional
UPDATE on ``next_run_at`` (the value read), so exactly one of them queues its computation. The claim
pushes ``next_run_at`` an hour ahead; the computation then sets it to the end of the current window.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from modelworks.core.models import Job, JobState
from modelworks.monitoring.models import Monitor, Window

__all__ = ["next_run_after", "tick"]

logger = logging.getLogger("modelworks.monitoring")

CLAIM_DELAY = timedelta(hours=1)
# How often the window in progress is refreshed: a daily monitor every hour, a monthly one every day.
_REFRESH = {Window.DAY: timedelta(hours=1), Window.WEEK: timedelta(hours=6), Window.MONTH: timedelta(days=1)}


def next_run_after(monitor: Monitor, now: datetime) -> datetime:
    """When the monitor is due again after a computation at ``now``."""
    return now + _REFRESH.get(Window(monitor.window), timedelta(hours=1))


def tick(now: datetime | None = None) -> list[Job]:
    """Queue a computation of every enabled monitor that is due; return the jobs queued."""
    from modelworks.monitoring.services.monitors import request_compute

    now = now or timezone.now()
    due = Monitor.objects.filter(enabled=True).filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
    jobs = []
    for monitor in due.select_related("project"):
        if (
            monitor.last_job_id
            and Job.objects.filter(
                pk=monitor.last_job_id, state__in=[JobState.QUEUED, JobState.RUNNING]
            ).exists()
        ):
            continue
        with transaction.atomic():
            claimed = Monitor.objects.filter(pk=monitor.pk, next_run_at=monitor.next_run_at).update(
                next_run_at=now + CLAIM_DELAY
            )
            if not claimed:
                continue  # another worker took it
            jobs.append(request_compute(monitor, actor=None, scheduled=True))
    if jobs:
        logger.info("Monitoring: queued %d monitor computation(s).", len(jobs))
    return jobs
