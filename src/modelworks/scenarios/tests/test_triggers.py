"""Triggers other than the schedule: a new dataset version, another scenario finishing. And what a
trigger may say (checked when it is saved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from modelworks.core.models import Job, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.scenarios import services
from modelworks.scenarios.models import RunStatus, RunTrigger, ScenarioRun
from modelworks.scenarios.tests.helpers import diagnostic_step, make_scenario, run_now

pytest_plugins = ["modelworks.core.testing.fixtures"]

Capture = Callable[..., Any]


@pytest.fixture
def flights(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob)


def test_a_new_version_from_a_real_import_starts_the_scenarios_watching_the_dataset(
    project: Project, bob: User, flights: Dataset, django_capture_on_commit_callbacks: Capture
) -> None:
    watching = make_scenario(
        project,
        bob,
        name="On new flights",
        triggers=[{"kind": "dataset_changed", "dataset": flights.pk}],
        steps=[diagnostic_step()],
    )
    other = make_dataset(project, bob, name="Carriers", content=b"code\nAF\n")
    make_scenario(
        project, bob, name="On carriers", triggers=[{"kind": "dataset_changed", "dataset": other.pk}]
    )
    dataset_services.submit_reimport(actor=bob, dataset=flights)
    with django_capture_on_commit_callbacks(execute=True):
        (imported,) = [j for j in run_queued_jobs() if j.kind == "datasets.import"]
    assert imported.kind == "datasets.import" and imported.result["version"] == 2
    (run,) = ScenarioRun.objects.all()
    assert run.scenario == watching and run.status == RunStatus.QUEUED
    assert (
        run.trigger_kind == RunTrigger.DATASET_CHANGED and run.trigger_detail == "new version 2 of 'Flights'"
    )
    assert run.acting_as == bob
    run_queued_jobs()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    trigger = watching.triggers.get()
    assert trigger.last_fired_at is not None


def test_a_version_starts_runs_only_once_committed(
    project: Project, bob: User, flights: Dataset, django_capture_on_commit_callbacks: Capture
) -> None:
    make_scenario(project, bob, triggers=[{"kind": "dataset_changed", "dataset": flights.pk}])
    first = flights.latest_version

    def new_version(number: int) -> DatasetVersion:
        return DatasetVersion.objects.create(
            dataset=flights,
            number=number,
            object_id=f"{number:032x}",
            content_hash=first.content_hash,
            row_count=first.row_count,
            byte_size=first.byte_size,
            schema=first.schema,
            how=first.how,
        )

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            new_version(2)
            raise RuntimeError("the import failed after the row was written")
    assert not ScenarioRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            new_version(2)
            assert not ScenarioRun.objects.exists()  # not before the commit
    assert ScenarioRun.objects.get().trigger_detail == "new version 2 of 'Flights'"


def test_a_version_made_by_a_scenario_does_not_start_that_scenario_again(
    project: Project, bob: User, flights: Dataset, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    """The loop rule: S re-imports the dataset it watches; the new version starts T, not S."""
    settings.MODELWORKS_SCENARIO_JOB_TYPES = ["datasets.import"]
    reimport = {
        "kind": "job",
        "name": "Re-import flights",
        "params": {
            "job_type": "datasets.import",
            "params": {
                "dataset_id": flights.pk,
                "options": {},
                "source": {"kind": "version", "version_id": flights.latest_version.pk},
            },
        },
    }
    watched = [{"kind": "dataset_changed", "dataset": flights.pk}]
    looping = make_scenario(project, bob, name="Refresh flights", triggers=watched, steps=[reimport])
    downstream = make_scenario(project, bob, name="Report", triggers=watched)
    with django_capture_on_commit_callbacks(execute=True):
        first = run_now(looping, bob)
    assert first.status == RunStatus.SUCCEEDED and flights.versions.count() == 2
    assert flights.latest_version.job_id is not None
    assert str(flights.latest_version.job_id) in first.step_results[0]["jobs"]
    assert [r.scenario for r in ScenarioRun.objects.exclude(pk=first.pk)] == [downstream]


def test_a_scenario_finishing_starts_the_scenarios_waiting_for_that_outcome(
    project: Project, bob: User
) -> None:
    upstream = make_scenario(project, bob, name="Upstream", steps=[diagnostic_step()])
    on_success = make_scenario(
        project, bob, name="On success", triggers=[{"kind": "scenario_finished", "upstream": upstream.pk}]
    )
    on_failure = make_scenario(
        project,
        bob,
        name="On failure",
        triggers=[{"kind": "scenario_finished", "upstream": upstream.pk, "outcome": "failed"}],
    )
    on_any = make_scenario(
        project,
        bob,
        name="On any",
        triggers=[{"kind": "scenario_finished", "upstream": upstream.pk, "outcome": "any"}],
        steps=[diagnostic_step()],
    )
    then = make_scenario(
        project, bob, name="Then", triggers=[{"kind": "scenario_finished", "upstream": on_any.pk}]
    )
    run = run_now(upstream, bob)
    assert run.status == RunStatus.SUCCEEDED
    started = {r.scenario.name: r for r in ScenarioRun.objects.exclude(scenario=upstream)}
    assert sorted(started) == ["On any", "On success", "Then"]
    assert started["On success"].trigger_detail == "Upstream run 1 succeeded"
    assert started["Then"].chain == [upstream.pk, on_any.pk]
    assert all(r.status == RunStatus.SUCCEEDED for r in started.values())
    assert not on_failure.runs.exists() and on_success.runs.count() == 1 and then.runs.count() == 1
    # The upstream fails: now the "failed" and "any" ones start.
    services.update_scenario(upstream, actor=bob, steps=[diagnostic_step(fail=True)])
    assert run_now(upstream, bob).status == RunStatus.FAILED
    assert on_failure.runs.count() == 1 and on_any.runs.count() == 2 and on_success.runs.count() == 1


def test_a_chain_that_would_loop_is_refused(project: Project, bob: User) -> None:
    first = make_scenario(project, bob, name="First")
    second = make_scenario(
        project, bob, name="Second", triggers=[{"kind": "scenario_finished", "upstream": first.pk}]
    )
    third = make_scenario(
        project, bob, name="Third", triggers=[{"kind": "scenario_finished", "upstream": second.pk}]
    )
    with pytest.raises(
        ValidationError, match=r"'Third' already runs after 'First'.*would loop forever"
    ) as caught:
        services.add_trigger(first, actor=bob, kind="scenario_finished", upstream=third.pk)
    assert list(caught.value.message_dict) == ["upstream"]
    with pytest.raises(ValidationError, match="'First' already runs after 'First'"):
        services.add_trigger(first, actor=bob, kind="scenario_finished", upstream=first.pk)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"kind": "weekly"},
            "kind",
            "'weekly' is not a trigger kind; use one of cron, dataset_changed, scenario_finished",
        ),
        ({"kind": "cron", "cron": "0 25 * * *"}, "cron", "The hour field '25' is not valid"),
        ({"kind": "dataset_changed"}, "dataset", "Choose the dataset whose new versions start the scenario"),
        (
            {"kind": "dataset_changed", "dataset": 999999},
            "dataset",
            "No dataset 999999 in project 'flight-delays'",
        ),
        ({"kind": "scenario_finished"}, "upstream", "Choose the scenario whose end starts this one"),
        ({"kind": "scenario_finished", "upstream": 999999}, "upstream", "No scenario 999999 in project"),
        (
            {"kind": "cron", "cron": "0 6 * * *", "outcome": "maybe"},
            "outcome",
            "Use one of succeeded, failed, any",
        ),
        ({"kind": "cron", "cron": "0 6 * * *", "every": 3}, "every", "A trigger has no such field"),
    ],
)
def test_bad_triggers_are_refused(
    project: Project, bob: User, fields: dict[str, Any], field: str, message: str
) -> None:
    scenario = make_scenario(project, bob)
    with pytest.raises(ValidationError, match=message) as caught:
        services.add_trigger(scenario, actor=bob, **fields)
    assert list(caught.value.message_dict) == [field]
    assert not scenario.triggers.exists()


def test_a_trigger_on_a_dataset_of_another_project_is_refused(
    project: Project, alice: User, bob: User
) -> None:
    from modelworks.core import services as core_services

    elsewhere = core_services.create_project(actor=alice, slug="elsewhere", name="Elsewhere")
    foreign = make_dataset(elsewhere, alice, name="Secret")
    scenario = make_scenario(project, bob)
    with pytest.raises(ValidationError, match=f"No dataset {foreign.pk} in project 'flight-delays'"):
        services.add_trigger(scenario, actor=bob, kind="dataset_changed", dataset=foreign.pk)
    assert not Job.objects.filter(kind="scenarios.run").exists()
