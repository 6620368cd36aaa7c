"""Scenarios really firing, end to end in one process: a schedule created through the service fires
at its UTC minute whatever zone the clock reading is in, and its run executes; an e-mail step of a
run that failed goes through a real (local) SMTP server and the history keeps each outcome."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from typing import Any

import pytest
from django.db import connection

from modelworks.core.models import Job, Project, User
from modelworks.datasets.testing import run_queued_jobs
from modelworks.scenarios import scheduler, services
from modelworks.scenarios.models import RunStatus, RunTrigger, ScenarioRun
from modelworks.scenarios.tests.helpers import diagnostic_step, make_scenario, run_now
from modelworks.scenarios.tests.servers import smtp_server

pytest_plugins = ["modelworks.core.testing.fixtures"]

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def test_a_schedule_fires_at_its_utc_minute_and_its_run_executes(project: Project, bob: User) -> None:
    scenario = make_scenario(project, bob, name="Nightly", steps=[diagnostic_step()])
    trigger = services.add_trigger(scenario, actor=bob, kind="cron", cron="30 14 * * *")
    due = trigger.next_fire_at
    assert due is not None and due.astimezone(dt.UTC).timetz() == dt.time(14, 30, tzinfo=dt.UTC)
    # The same instants read in other zones: 16:29:59 in Paris (summer) or 23:29:59 in Tokyo is not due.
    assert scheduler.tick((due - dt.timedelta(seconds=1)).astimezone(PARIS)) == []
    assert scheduler.tick((due - dt.timedelta(seconds=1)).astimezone(TOKYO)) == []
    (run,) = scheduler.tick((due + dt.timedelta(seconds=30)).astimezone(TOKYO))
    assert run.status == RunStatus.QUEUED and run.trigger_kind == RunTrigger.CRON and run.trigger == trigger
    assert run.trigger_detail == f"cron '30 14 * * *' due {due.astimezone(dt.UTC):%Y-%m-%d} 14:30 UTC"
    trigger.refresh_from_db()
    assert trigger.next_fire_at == due + dt.timedelta(days=1)
    run_queued_jobs()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and [s["status"] for s in run.step_results] == ["succeeded"]
    # Ticking again within the same minute fires nothing more.
    assert scheduler.tick(due + dt.timedelta(seconds=50)) == []
    assert ScenarioRun.objects.filter(scenario=scenario).count() == 1


def test_an_email_step_of_a_failed_run_goes_through_the_smtp_server(
    project: Project, bob: User, settings: Any
) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "modelworks@example.test"
    scenario = make_scenario(
        project,
        bob,
        name="Weekly scoring",
        steps=[
            diagnostic_step(name="Score"),
            {
                "kind": "notify",
                "name": "Tell the team",
                "run_condition": "always",
                "params": {
                    "channel": "email",
                    "recipients": "ops@example.test",
                    "subject": "{scenario}: {outcome}",
                    "message": "Run {run} {outcome}. Failed: {failed_steps}.",
                },
            },
        ],
    )
    with smtp_server() as server:
        settings.EMAIL_PORT = server.port
        first = run_now(scenario, bob)
        services.update_scenario(
            scenario,
            actor=bob,
            steps=[diagnostic_step(name="Score", fail=True), *_steps(scenario)[1:]],
        )
        second = run_now(scenario, bob)
    assert first.status == RunStatus.SUCCEEDED and second.status == RunStatus.FAILED
    assert [s["status"] for s in second.step_results] == ["failed", "succeeded"]
    assert second.step_results[1]["message"] == "E-mail sent to 1 recipient."
    sent, failed = server.messages
    assert sent["to"] == failed["to"] == ["<ops@example.test>"]
    assert (
        "Subject: Weekly scoring: succeeded" in sent["data"]
        and "Run 1 succeeded. Failed: none." in sent["data"]
    )
    assert (
        "Subject: Weekly scoring: failed" in failed["data"]
        and "Run 2 failed. Failed: Score." in failed["data"]
    )
    # The history keeps each run with its outcome, newest first.
    history = [(r.number, r.status, r.trigger_kind) for r in scenario.runs.order_by("-number")]
    assert history == [(2, "failed", "manual"), (1, "succeeded", "manual")]


def _steps(scenario: Any) -> list[dict[str, Any]]:
    return [
        {"kind": s.kind, "name": s.name, "run_condition": s.run_condition, "params": s.params}
        for s in scenario.steps.order_by("position")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_schedule_a_click_and_an_api_call_at_the_same_moment_start_one_run(
    project: Project, bob: User
) -> None:
    scenario = make_scenario(project, bob, name="Refresh", steps=[diagnostic_step()])
    trigger = services.add_trigger(scenario, actor=bob, kind="cron", cron="*/5 * * * *")
    due = trigger.next_fire_at
    assert due is not None
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def fire(start: Any) -> None:
        try:
            barrier.wait()
            start()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    starts = [
        lambda: scheduler.tick(due),
        lambda: services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob),
        lambda: services.start_run(scenario, trigger_kind=RunTrigger.API, triggered_by=bob),
    ]
    threads = [threading.Thread(target=fire, args=(start,)) for start in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    runs = list(scenario.runs.order_by("number"))
    assert sorted(r.trigger_kind for r in runs) == ["api", "cron", "manual"]
    assert [r.status for r in runs].count(RunStatus.QUEUED) == 1
    assert all(r.status == RunStatus.SKIPPED and r.reason for r in runs if r.status != RunStatus.QUEUED)
    assert Job.objects.filter(kind="scenarios.run").count() == 1
