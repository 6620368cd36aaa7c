"""End to end with a real ``modelworks worker``: its periodic tick fires a due schedule, the scenario
job waits for the quality job it starts (run by the worker's other slot), then posts a webhook to a
real local server."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.testing import make_dataset
from modelworks.scenarios.models import RunStatus, ScenarioRun, Trigger
from modelworks.scenarios.tests.helpers import make_scenario
from modelworks.scenarios.tests.servers import hook_server

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.core.tests.jobs_fixtures"]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_a_worker_fires_a_schedule_runs_the_steps_and_notifies(
    project: Project, bob: User, settings: Any, worker_env: dict[str, str], start_worker: Callable[..., Any]
) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["127.0.0.1"]
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = True
    worker_env.update(
        MODELWORKS_WEBHOOK_ALLOWLIST="127.0.0.1",
        MODELWORKS_WEBHOOK_ALLOW_HTTP="true",
        MODELWORKS_PUBLIC_URL="https://ai.example.test",
    )
    flights = make_dataset(project, bob)
    dataset_services.add_rule(flights, actor=bob, kind="not_null", params={"column": "flight"}, blocking=True)
    with hook_server() as server:
        scenario = make_scenario(
            project,
            bob,
            name="Every minute",
            triggers=[{"kind": "cron", "cron": "* * * * *"}],
            steps=[
                {"kind": "quality", "params": {"datasets": [flights.pk]}},
                {
                    "kind": "notify",
                    "run_condition": "always",
                    "params": {"channel": "webhook", "url": server.url(), "message": "{scenario} {outcome}"},
                },
            ],
        )
        due = timezone.now() - dt.timedelta(minutes=1)
        Trigger.objects.filter(scenario=scenario).update(next_fire_at=due.replace(second=0, microsecond=0))
        worker = start_worker("--concurrency", "2", "--name", "scheduler")
        run = _wait_for(
            lambda: ScenarioRun.objects.filter(scenario=scenario, status__in=["succeeded", "failed"]).first(),
            45,
            "the scheduled run to end",
        )
        assert run.status == RunStatus.SUCCEEDED, (run.reason, worker.output())
    assert run.trigger_kind == "cron" and run.acting_as == bob
    quality, notify = run.step_results
    assert quality["message"] == "Flights v1: all 1 rule(s) passed."
    assert notify["message"] == "POST to 127.0.0.1 answered HTTP 204."
    (body,) = server.received
    assert body["text"] == "Every minute succeeded" and body["steps"][0]["status"] == "succeeded"
    assert body["url"] == f"https://ai.example.test/projects/flight-delays/scenarios/{scenario.pk}/runs/1/"
    scenario_job = Job.objects.get(kind="scenarios.run")
    check = Job.objects.get(pk=quality["jobs"][0])
    assert scenario_job.worker_id.startswith("scheduler/") and scenario_job.state == JobState.SUCCEEDED
    # The quality job ran in the worker's second slot, not inside the scenario's process.
    assert check.worker_id.startswith("scheduler/") and not check.worker_id.endswith("/scenario")
    assert check.created_by == bob and check.state == JobState.SUCCEEDED
    trigger = Trigger.objects.get(scenario=scenario)
    assert trigger.next_fire_at > timezone.now() - dt.timedelta(seconds=5)
    assert ScenarioRun.objects.filter(scenario=scenario).count() == 1
