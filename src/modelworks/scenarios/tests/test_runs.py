"""Running a scenario: steps in order with their conditions, waiting for each step's job, one active
run per scenario, "run as" refusal, cancellation, resuming after a worker restart."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from modelworks.core import services as core_services
from modelworks.core.models import AuditEvent, Job, JobState, Project, Role, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.scenarios import services
from modelworks.scenarios.models import RunStatus, RunTrigger, ScenarioRun
from modelworks.scenarios.tests.helpers import diagnostic_step, make_scenario, run_now

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_steps_run_in_order_and_each_waits_for_its_job(project: Project, bob: User) -> None:
    scenario = make_scenario(
        project,
        bob,
        steps=[diagnostic_step(name="First"), diagnostic_step(name="Second", condition="always")],
    )
    run = run_now(scenario, bob)
    assert run.status == RunStatus.SUCCEEDED and run.reason == ""
    assert [(s["name"], s["status"]) for s in run.step_results] == [
        ("First", "succeeded"),
        ("Second", "succeeded"),
    ]
    jobs = [Job.objects.get(pk=s["jobs"][0]) for s in run.step_results]
    assert all(j.state == JobState.SUCCEEDED and j.created_by == bob for j in jobs)
    # Each step's job ran (inside the scenario's process here: no worker) before the next step began.
    assert jobs[0].finished_at <= jobs[1].started_at
    assert all(
        s["duration_seconds"] >= 0 and s["links"]["Job"] == f"/jobs/{s['jobs'][0]}/" for s in run.step_results
    )
    assert run.job.state == JobState.SUCCEEDED and run.job.result["status"] == "succeeded"
    assert run.acting_as == bob and run.triggered_by == bob and run.trigger_kind == RunTrigger.MANUAL
    assert AuditEvent.objects.filter(action="scenario.run_requested", details__run=run.number).exists()


@pytest.mark.parametrize(
    ("first_fails", "expected"),
    [
        (
            True,
            [
                ("Fails", "failed"),
                ("Only on success", "skipped"),
                ("Only on failure", "succeeded"),
                ("Always", "succeeded"),
            ],
        ),
        (
            False,
            [
                ("Fails", "succeeded"),
                ("Only on success", "succeeded"),
                ("Only on failure", "skipped"),
                ("Always", "succeeded"),
            ],
        ),
    ],
)
def test_step_conditions(
    project: Project, bob: User, first_fails: bool, expected: list[tuple[str, str]]
) -> None:
    scenario = make_scenario(
        project,
        bob,
        steps=[
            diagnostic_step(fail=first_fails, name="Fails"),
            diagnostic_step(name="Only on success", condition="on_success"),
            diagnostic_step(name="Only on failure", condition="on_failure"),
            diagnostic_step(name="Always", condition="always"),
        ],
    )
    run = run_now(scenario, bob)
    assert [(s["name"], s["status"]) for s in run.step_results] == expected
    if first_fails:
        assert run.status == RunStatus.FAILED
        assert run.reason == "Fails: The job failed: The diagnostic job failed on purpose (fail=true)."
        assert run.step_results[1]["message"].startswith("Skipped: an earlier step failed")
        assert run.job.state == JobState.FAILED and "1 step(s) failed" in run.job.error
    else:
        assert run.status == RunStatus.SUCCEEDED
        assert run.step_results[2]["message"].startswith("Skipped: every earlier step succeeded")


def test_a_quality_step_fails_when_a_blocking_rule_fails(project: Project, bob: User) -> None:
    flights = make_dataset(project, bob)
    carriers = make_dataset(
        project, bob, name="Carriers", content=b"code,name\nAF,Air France\nLH,Lufthansa\n"
    )
    dataset_services.add_rule(
        flights, actor=bob, kind="not_null", params={"column": "dep_delay"}, blocking=True
    )
    dataset_services.add_rule(carriers, actor=bob, kind="not_null", params={"column": "name"})
    scenario = make_scenario(
        project, bob, steps=[{"kind": "quality", "params": {"datasets": [carriers.pk, flights.pk]}}]
    )
    run = run_now(scenario, bob)
    (step,) = run.step_results
    assert step["status"] == "failed"
    assert step["message"] == (
        "Carriers v1: all 1 rule(s) passed. Flights v1: a blocking rule failed (1 rule(s) failed)."
    )
    # A set: PostgreSQL's jsonb does not keep the order of an object's keys.
    assert set(step["links"]) == {"Carriers v1", "Flights v1"}
    assert [Job.objects.get(pk=j).kind for j in step["jobs"]] == ["datasets.quality", "datasets.quality"]
    flights.latest_version.refresh_from_db()
    assert flights.latest_version.usable is False


def test_at_most_one_active_run_per_scenario(project: Project, bob: User, alice: User) -> None:
    scenario = make_scenario(project, bob, steps=[diagnostic_step()])
    first = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob)
    second = services.start_run(scenario, trigger_kind=RunTrigger.API, triggered_by=alice)
    assert first.status == RunStatus.QUEUED and first.job is not None
    assert second.status == RunStatus.SKIPPED and second.job is None
    assert second.reason == (
        "Run 1 was still queued; a scenario runs once at a time, so this firing was skipped."
    )
    assert Job.objects.filter(kind="scenarios.run").count() == 1
    assert AuditEvent.objects.filter(action="scenario.run_skipped").count() == 1
    # The database refuses a second active run even if a writer skipped the check.
    with pytest.raises(IntegrityError), transaction.atomic():
        ScenarioRun.objects.create(
            scenario=scenario, number=99, trigger_kind=RunTrigger.MANUAL, status="running"
        )
    run_queued_jobs()
    first.refresh_from_db()
    assert first.status == RunStatus.SUCCEEDED
    assert (
        services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob).status
        == RunStatus.QUEUED
    )


def test_a_run_whose_job_ended_without_it_does_not_block_the_scenario(project: Project, bob: User) -> None:
    scenario = make_scenario(project, bob, steps=[diagnostic_step()])
    run = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob)
    Job.objects.filter(pk=run.job_id).update(state=JobState.FAILED, error="The worker was killed.")
    again = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob)
    assert again.status == RunStatus.QUEUED
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.reason == "The run's job ended (failed) before the run did: The worker was killed."


def test_a_run_refuses_to_act_as_someone_who_lost_contributor_rights(
    project: Project, alice: User, bob: User
) -> None:
    scenario = make_scenario(project, bob, steps=[diagnostic_step()])
    core_services.grant_membership(project, actor=alice, user=bob, role=Role.READER)
    run = services.start_run(scenario, trigger_kind=RunTrigger.CRON, detail="test")
    assert run.acting_as == bob
    run_queued_jobs()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.reason == (
        "Scenario 'Refresh' runs as bob, who is no longer a contributor of 'Flight delays'; "
        "a project admin sets 'Run as' to a current contributor."
    )
    assert run.step_results == [] and not Job.objects.filter(kind="core.diagnostic").exists()
    # A run started by hand acts as the person who started it.
    by_alice = run_now(scenario, alice)
    assert by_alice.status == RunStatus.SUCCEEDED and by_alice.acting_as == alice


def test_cancel_a_queued_run(project: Project, bob: User) -> None:
    scenario = make_scenario(project, bob, steps=[diagnostic_step()])
    run = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob)
    run = services.cancel_run(run, actor=bob)
    assert run.status == RunStatus.CANCELLED and run.reason == "Cancelled by bob before it started."
    assert run.job.state == JobState.CANCELLED
    assert run_queued_jobs() == []
    with pytest.raises(ValueError, match=r"run 1 of 'Refresh' has already ended \(cancelled\)"):
        services.cancel_run(run, actor=bob)


@pytest.mark.django_db(transaction=True)
def test_cancel_a_running_run_cancels_the_job_of_its_step(project: Project, bob: User) -> None:
    slow = {
        "kind": "job",
        "name": "Slow",
        "params": {"job_type": "core.diagnostic", "params": {"seconds": 20, "steps": 40}},
    }
    scenario = make_scenario(project, bob, steps=[slow, diagnostic_step(name="Never", condition="always")])
    run = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob)

    def cancel_when_step_runs() -> None:
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if Job.objects.filter(kind="core.diagnostic", state=JobState.RUNNING).exists():
                    services.cancel_run(ScenarioRun.objects.get(pk=run.pk), actor=bob)
                    return
                time.sleep(0.05)
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_when_step_runs)
    canceller.start()
    began = time.monotonic()
    run_queued_jobs()
    canceller.join()
    assert time.monotonic() - began < 10
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert [(s["name"], s["status"]) for s in run.step_results] == [
        ("Slow", "cancelled"),
        ("Never", "cancelled"),
    ]
    step_job = Job.objects.get(kind="core.diagnostic")
    assert step_job.state == JobState.CANCELLED


def test_a_resumed_run_keeps_its_finished_steps(project: Project, bob: User) -> None:
    scenario = make_scenario(project, bob, steps=[diagnostic_step(name="Done"), diagnostic_step(name="Next")])
    run = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=bob)
    # As if a worker had run the first step and died: the run is "running", step 1 finished.
    steps = [
        {**s.snapshot(), "status": "pending", "message": "", "jobs": [], "links": {}}
        for s in scenario.steps.all()
    ]
    steps[0].update(status="succeeded", message="Done earlier.")
    ScenarioRun.objects.filter(pk=run.pk).update(status="running", step_results=steps)
    run_queued_jobs()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert [(s["name"], s["status"], s["message"][:12]) for s in run.step_results] == [
        ("Done", "succeeded", "Done earlier"),
        ("Next", "succeeded", "The job succ"),
    ]
    assert Job.objects.filter(kind="core.diagnostic").count() == 1


def test_a_step_job_type_removed_from_the_allow_list_fails_with_the_setting_named(
    project: Project, bob: User, settings: object
) -> None:
    scenario = make_scenario(project, bob, steps=[diagnostic_step()])
    settings.MODELWORKS_SCENARIO_JOB_TYPES = []  # type: ignore[attr-defined]
    run = run_now(scenario, bob)
    assert run.step_results[0]["message"] == (
        "Job type 'core.diagnostic' may no longer be run by scenarios (MODELWORKS_SCENARIO_JOB_TYPES)."
    )
