"""Starting, cancelling and finishing scenario runs.

**At most one active run per scenario.** :func:`start_run` locks the scenario row, looks for a run
still queued or running and, if there is one, records the new firing as a ``skipped`` run with the
reason instead of queueing it. A partial unique index (``one_active_run_per_scenario``) backs this
up: should two processes still race (SQLite has no row locks), the loser's insert fails and becomes
a skipped run too.

A run whose job ended without finishing it (its process was killed, the job was cancelled while
queued) would block the scenario forever; :func:`reconcile_run` closes such runs, and is called
before each start and by the scheduler's tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.core.jobs import JobStateError, enqueue, request_cancel
from modelworks.core.models import Job, JobState, Role, User
from modelworks.core.models.jobs import FINISHED_STATES
from modelworks.scenarios.models import (
    OutcomeFilter,
    RunStatus,
    RunTrigger,
    Scenario,
    ScenarioRun,
    Trigger,
    TriggerKind,
)

__all__ = [
    "acting_user",
    "cancel_run",
    "fire_downstream",
    "reconcile_run",
    "reconcile_stale_runs",
    "start_run",
]

AUTOMATIC = (RunTrigger.CRON, RunTrigger.DATASET_CHANGED, RunTrigger.SCENARIO_FINISHED)


def acting_user(scenario: Scenario, trigger_kind: str, triggered_by: User | None) -> User | None:
    """Whose permissions a run uses: ``run_as`` for automatic runs, the person who asked otherwise."""
    if trigger_kind in AUTOMATIC or triggered_by is None:
        return scenario.run_as
    return triggered_by


def refusal(scenario: Scenario, user: User | None) -> str:
    """Why ``user`` may not run ``scenario`` now ('' when they may)."""
    if user is None:
        return (
            f"Scenario '{scenario.name}' has no user to run as (the user was deleted); a project admin "
            "sets 'Run as' to a contributor in the scenario's settings."
        )
    role = scenario.project.role_of(user)
    if not user.is_active or role is None or not role.allows(Role.CONTRIBUTOR):
        return (
            f"Scenario '{scenario.name}' runs as {user.get_username()}, who is no longer a contributor of "
            f"'{scenario.project.name}'; a project admin sets 'Run as' to a current contributor."
        )
    return ""


def reconcile_run(run: ScenarioRun) -> ScenarioRun:
    """Close ``run`` if it is still marked active although its job has ended (or vanished)."""
    if not run.is_active:
        return run
    job = Job.objects.filter(pk=run.job_id).only("state", "error").first() if run.job_id else None
    if job is not None and job.state not in FINISHED_STATES:
        return run
    if job is None and run.job_id is None and run.status == RunStatus.QUEUED:
        age = (timezone.now() - run.created_at).total_seconds()
        if age < 60:  # being created right now (the job is attached in the same transaction)
            return run
    status = RunStatus.CANCELLED if job is not None and job.state == JobState.CANCELLED else RunStatus.FAILED
    reason = (
        f"The run's job ended ({job.state}) before the run did: {job.error or 'no reason given'}"
        if job is not None
        else "The run's job was deleted before the run finished."
    )
    ScenarioRun.objects.filter(pk=run.pk, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=status, reason=reason[:2000], ended_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def reconcile_stale_runs() -> int:
    """Close every active run whose job has ended; return how many were closed."""
    closed = 0
    for run in ScenarioRun.objects.active().filter(job__state__in=FINISHED_STATES):
        closed += not reconcile_run(run).is_active
    for run in ScenarioRun.objects.active().filter(job__isnull=True):
        closed += not reconcile_run(run).is_active
    return closed


def _next_number(scenario: Scenario) -> int:
    return (ScenarioRun.objects.filter(scenario=scenario).aggregate(m=Max("number"))["m"] or 0) + 1


def _skip(scenario: Scenario, fields: dict[str, Any], reason: str) -> ScenarioRun:
    now = timezone.now()
    return ScenarioRun.objects.create(
        scenario=scenario,
        number=_next_number(scenario),
        status=RunStatus.SKIPPED,
        reason=reason,
        started_at=now,
        ended_at=now,
        **fields,
    )


def start_run(
    scenario: Scenario,
    *,
    trigger_kind: str,
    detail: str = "",
    triggered_by: User | None = None,
    trigger: Trigger | None = None,
    chain: Sequence[int] = (),
    request: HttpRequest | None = None,
) -> ScenarioRun:
    """Queue a run of ``scenario``, or record a skipped one when a run is already active.

    Args:
        scenario: the scenario to run.
        trigger_kind: a ``RunTrigger`` value.
        detail: what exactly fired ("cron '0 6 * * *' due 06:00 UTC", "Flights v4"…).
        triggered_by: the person who asked (manual and API runs).
        trigger: the trigger that fired, if any.
        chain: the ids of the scenarios whose end led here (loop protection).
        request: the HTTP request, for the audit log.

    Returns:
        The new run: ``queued`` (with its job), or ``skipped`` with the reason.
    """
    acting = acting_user(scenario, trigger_kind, triggered_by)
    fields: dict[str, Any] = {
        "trigger_kind": trigger_kind,
        "trigger_detail": detail[:500],
        "trigger": trigger,
        "chain": list(chain),
        "triggered_by": triggered_by,
        "acting_as": acting,
    }
    for active in ScenarioRun.objects.active().filter(scenario=scenario):
        reconcile_run(active)
    with transaction.atomic():
        locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
        active = ScenarioRun.objects.active().filter(scenario=locked).first()
        if active is not None:
            run = _skip(
                locked,
                fields,
                f"Run {active.number} was still {active.status}; a scenario runs once at a time, so this "
                "firing was skipped.",
            )
        else:
            try:
                with transaction.atomic():
                    run = ScenarioRun.objects.create(scenario=locked, number=_next_number(locked), **fields)
            except IntegrityError:
                run = _skip(
                    locked, fields, "Another run started at the same moment; this firing was skipped."
                )
            else:
                run.job = enqueue(
                    "scenarios.run",
                    title=f"Scenario {locked.name} run {run.number}",
                    project=locked.project,
                    created_by=acting,
                    params={"run_id": run.pk},
                    request=request,
                )
                run.save(update_fields=["job"])
        audit.record(
            "scenario.run_requested" if run.status == RunStatus.QUEUED else "scenario.run_skipped",
            actor=triggered_by,
            project=locked.project,
            target=locked,
            request=request,
            details={
                "run": run.number,
                "trigger": trigger_kind,
                "detail": detail[:200],
                "reason": run.reason,
            },
        )
    return run


def cancel_run(run: ScenarioRun, *, actor: User, request: HttpRequest | None = None) -> ScenarioRun:
    """Cancel a queued or running run: its job is cancelled, and the job cancels the step's job in turn.

    Raises:
        JobStateError: the run has already ended.
    """
    run = reconcile_run(run)
    if not run.is_active:
        raise JobStateError(f"run {run.number} of '{run.scenario.name}' has already ended ({run.status}).")
    job = run.job
    if job is not None:
        try:
            job = request_cancel(job, actor=actor, request=request)
        except JobStateError:
            pass  # it ended meanwhile: reconcile below
    with transaction.atomic():
        if job is None or job.state == JobState.CANCELLED or run.status == RunStatus.QUEUED:
            ScenarioRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
                status=RunStatus.CANCELLED,
                reason=f"Cancelled by {actor.get_username()} before it started.",
                ended_at=timezone.now(),
            )
        audit.record(
            "scenario.run_cancelled",
            actor=actor,
            project=run.scenario.project,
            target=run.scenario,
            request=request,
            details={"run": run.number},
        )
    run.refresh_from_db()
    return reconcile_run(run)


def fire_downstream(run: ScenarioRun) -> list[ScenarioRun]:
    """Start the scenarios waiting for ``run``'s scenario to finish with this outcome."""
    if run.status not in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        return []
    chain = [*run.chain, run.scenario_id]
    started = []
    triggers = (
        Trigger.objects.filter(
            kind=TriggerKind.SCENARIO_FINISHED, upstream=run.scenario, enabled=True, scenario__enabled=True
        )
        .filter(outcome__in=[OutcomeFilter.ANY, run.status])
        .select_related("scenario__project", "scenario__run_as")
    )
    for trigger in triggers:
        scenario = trigger.scenario
        detail = f"{run.scenario.name} run {run.number} {run.status}"
        if scenario.pk in chain:  # cannot happen through the pages (loops are refused), but triggers may race
            started.append(
                _skip(
                    scenario,
                    {
                        "trigger_kind": RunTrigger.SCENARIO_FINISHED,
                        "trigger_detail": detail,
                        "trigger": trigger,
                        "chain": chain,
                    },
                    "This scenario already ran earlier in the same chain; starting it again would loop forever.",
                )
            )
            continue
        Trigger.objects.filter(pk=trigger.pk).update(last_fired_at=timezone.now())
        started.append(
            start_run(
                scenario,
                trigger_kind=RunTrigger.SCENARIO_FINISHED,
                detail=detail,
                trigger=trigger,
                chain=chain,
            )
        )
    return started
