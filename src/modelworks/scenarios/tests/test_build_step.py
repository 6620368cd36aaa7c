"""Build steps through the real ``flows.build`` job: a recipe's output is built, then checked; the
new version does not start its own scenario again; a conflicting build fails the step plainly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset
from modelworks.flows import services as flow_services
from modelworks.flows.models import Build, BuildStatus
from modelworks.scenarios.models import RunStatus, ScenarioRun
from modelworks.scenarios.tests.helpers import make_scenario, run_now

pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture
def sorted_flights(project: Project, bob: User) -> Dataset:
    flights = make_dataset(project, bob)
    recipe = flow_services.create_recipe(
        project,
        actor=bob,
        name="Sort flights",
        kind="sort",
        inputs=[flights],
        outputs=["Flights by delay"],
        spec={"columns": [{"column": "dep_delay", "direction": "desc"}]},
    )
    return recipe.output_datasets[0]


def test_a_build_step_builds_then_the_output_is_checked(
    project: Project,
    bob: User,
    sorted_flights: Dataset,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    dataset_services.add_rule(
        sorted_flights, actor=bob, kind="not_null", params={"column": "flight"}, blocking=True
    )
    watched = [{"kind": "dataset_changed", "dataset": sorted_flights.pk}]
    scenario = make_scenario(
        project,
        bob,
        name="Rebuild",
        triggers=watched,
        steps=[
            {"kind": "build", "params": {"datasets": [sorted_flights.pk]}},
            {"kind": "quality", "params": {"datasets": [sorted_flights.pk]}},
        ],
    )
    report = make_scenario(project, bob, name="Report", triggers=watched)
    with django_capture_on_commit_callbacks(execute=True):
        run = run_now(scenario, bob)
    assert run.status == RunStatus.SUCCEEDED, [(s["status"], s["message"]) for s in run.step_results]
    build_step, quality_step = run.step_results
    build = Build.objects.get(pk=build_step["build_id"])
    assert build.status == BuildStatus.SUCCEEDED and build.trigger == "scenario" and build.created_by == bob
    assert build_step["message"] == f"Build {build.pk} succeeded."
    assert (
        build_step["jobs"] == [str(build.job_id)]
        and Job.objects.get(pk=build.job_id).state == JobState.SUCCEEDED
    )
    assert build_step["links"][f"Build {build.pk}"] == f"/projects/flight-delays/flow/builds/{build.pk}/"
    version = sorted_flights.latest_version
    assert version is not None and version.number == 1 and version.how_details["build_id"] == build.pk
    assert quality_step["message"] == "Flights by delay v1: all 1 rule(s) passed."
    # The version the scenario built starts "Report", not the scenario itself.
    assert [(r.scenario, r.trigger_kind) for r in ScenarioRun.objects.exclude(pk=run.pk)] == [
        (report, "dataset_changed")
    ]


def test_a_build_that_cannot_start_fails_the_step_with_the_reason(
    project: Project, bob: User, sorted_flights: Dataset
) -> None:
    other = flow_services.submit_build(project, actor=bob)
    # Another worker is running that build's job (far from done).
    Job.objects.filter(pk=other.job_id).update(
        state=JobState.RUNNING, worker_id="elsewhere", lease_expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    scenario = make_scenario(project, bob, steps=[{"kind": "build", "params": {"force": True}}])
    run = run_now(scenario, bob)
    assert run.status == RunStatus.FAILED
    assert run.step_results[0]["message"] == (
        f"Build {other.pk} (queued) may write some of the same datasets; wait for it to end or cancel it, "
        "then build again."
    )
    assert Build.objects.count() == 1
