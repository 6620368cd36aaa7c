"""The scheduler's tick: due schedules fire once (also after missed periods), never twice when
several workers tick at the same moment."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from modelworks.core.models import Job, Project, User
from modelworks.scenarios import scheduler, services
from modelworks.scenarios.models import RunStatus, RunTrigger, Scenario, ScenarioRun, Trigger
from modelworks.scenarios.tests.helpers import diagnostic_step, make_scenario

pytest_plugins = ["modelworks.core.testing.fixtures"]

UTC = dt.UTC
SIX = dt.datetime(2030, 5, 6, 6, 0, tzinfo=UTC)  # a Monday


def _daily(project: Project, bob: User, name: str = "Daily") -> tuple[Scenario, Trigger]:
    scenario = make_scenario(project, bob, name=name, steps=[diagnostic_step()])
    trigger = services.add_trigger(scenario, actor=bob, kind="cron", cron="0 6 * * *")
    Trigger.objects.filter(pk=trigger.pk).update(next_fire_at=SIX)
    trigger.refresh_from_db()
    return scenario, trigger


def test_a_trigger_fires_when_due_and_not_before(project: Project, bob: User) -> None:
    _, trigger = _daily(project, bob)
    assert scheduler.tick(SIX - dt.timedelta(seconds=1)) == []
    (run,) = scheduler.tick(SIX + dt.timedelta(seconds=20))
    assert run.status == RunStatus.QUEUED and run.trigger_kind == RunTrigger.CRON and run.trigger == trigger
    assert run.trigger_detail == "cron '0 6 * * *' due 2030-05-06 06:00 UTC"
    assert run.acting_as == bob and run.triggered_by is None
    trigger.refresh_from_db()
    assert trigger.last_fired_at == SIX + dt.timedelta(seconds=20)
    assert trigger.next_fire_at == SIX + dt.timedelta(days=1)
    assert scheduler.tick(SIX + dt.timedelta(minutes=5)) == []


def test_missed_periods_fire_once(project: Project, bob: User) -> None:
    _, trigger = _daily(project, bob)
    later = SIX + dt.timedelta(days=3, hours=2)
    (run,) = scheduler.tick(later)
    assert run.trigger_detail == (
        "cron '0 6 * * *' due 2030-05-06 06:00 UTC (3 later times missed while no worker ran; fired once)"
    )
    trigger.refresh_from_db()
    assert trigger.next_fire_at == SIX + dt.timedelta(days=4)
    assert scheduler.tick(later) == []
    assert ScenarioRun.objects.count() == 1


def test_a_due_trigger_while_a_run_is_active_is_recorded_as_skipped(project: Project, bob: User) -> None:
    scenario, _ = _daily(project, bob)
    active = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob)
    (skipped,) = scheduler.tick(SIX)
    assert skipped.status == RunStatus.SKIPPED
    assert skipped.reason.startswith(f"Run {active.number} was still queued")
    assert Job.objects.filter(kind="scenarios.run").count() == 1


def test_disabled_triggers_and_scenarios_do_not_fire_and_new_schedules_get_a_first_time(
    project: Project, bob: User
) -> None:
    _, trigger = _daily(project, bob)
    other, other_trigger = _daily(project, bob, name="Other")
    services.update_trigger(trigger, actor=bob, enabled=False)
    services.update_scenario(other, actor=bob, enabled=False)
    fresh = make_scenario(project, bob, name="Fresh")
    fresh_trigger = services.add_trigger(fresh, actor=bob, kind="cron", cron="*/5 * * * *")
    Trigger.objects.filter(pk=fresh_trigger.pk).update(next_fire_at=None)
    assert scheduler.tick(SIX + dt.timedelta(days=2)) == []
    fresh_trigger.refresh_from_db()
    assert fresh_trigger.next_fire_at == SIX + dt.timedelta(days=2, minutes=5)
    trigger.refresh_from_db()
    assert trigger.next_fire_at is None  # switched off: nothing is due
    # Switching the scenario on again starts counting from now: no burst of old firings.
    services.update_scenario(other, actor=bob, enabled=True)
    other_trigger.refresh_from_db()
    now = timezone.now()
    assert now < other_trigger.next_fire_at <= now + dt.timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_ticking_at_the_same_moment_fire_a_trigger_once(project: Project, bob: User) -> None:
    _daily(project, bob)
    _daily(project, bob, name="Second")
    barrier = threading.Barrier(4)
    results: list[list[ScenarioRun]] = []
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            barrier.wait()
            results.append(scheduler.tick(SIX + dt.timedelta(seconds=1)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    fired = [run for batch in results for run in batch]
    assert sorted(r.scenario.name for r in fired) == ["Daily", "Second"]
    assert ScenarioRun.objects.count() == 2 and Job.objects.filter(kind="scenarios.run").count() == 2


def test_a_worker_with_a_bad_periodic_task_refuses_to_start(
    settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    from modelworks.core.jobs.worker import run_worker

    settings.MODELWORKS_PERIODIC_TASKS = ["modelworks.scenarios.scheduler.no_such_tick"]  # type: ignore[attr-defined]
    assert run_worker(burst=True) == 2
    assert (
        "MODELWORKS_PERIODIC_TASKS entry 'modelworks.scenarios.scheduler.no_such_tick' cannot be imported"
        in caplog.text
    )
