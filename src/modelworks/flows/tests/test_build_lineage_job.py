"""The lineage a build leaves when it ends: queued as a ``flows.lineage`` job with the build's
outcome, written by that job, the same as if the build had written it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from modelworks.catalog.lineage import ColumnEdge, ColumnInput
from modelworks.catalog.models import ColumnLineageEdge, LineageEvent, LineageRun
from modelworks.core import services as core_services
from modelworks.core.jobs import InvalidJobParamsError, enqueue
from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus
from modelworks.flows.services.lineage import LineageRecorder, StepReport, reports_from_json
from modelworks.flows.testing import CARRIERS_CSV

pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    return home


@pytest.fixture
def flights(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob)


@pytest.fixture
def carriers(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob, name="Carriers", content=CARRIERS_CSV, file_name="carriers.csv")


@pytest.fixture
def joined(project: Project, bob: User, flights: Dataset, carriers: Dataset) -> Dataset:
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Add carriers",
        kind="join",
        inputs=[flights, carriers],
        outputs=["Enriched"],
        spec={"joins": [{"type": "inner", "on": [{"left": "carrier", "right": "code"}]}]},
    )
    return recipe.output_datasets[0]


def _run_only_the_build(build: Build) -> Job:
    """Run the build's job the way ``run_queued_jobs`` does, leaving every other job queued."""
    others = list(Job.objects.filter(state=JobState.QUEUED).exclude(pk=build.job_id))
    Job.objects.filter(pk__in=[j.pk for j in others]).update(state=JobState.CANCELLED)
    try:
        (job,) = run_queued_jobs(limit=1)  # the oldest queued: the build's
    finally:
        Job.objects.filter(pk__in=[j.pk for j in others]).update(state=JobState.QUEUED)
    return job


def test_the_build_ends_first_and_queues_its_lineage_with_its_outcome(
    project: Project, bob: User, joined: Dataset
) -> None:
    build = services.submit_build(project, actor=bob)
    job = _run_only_the_build(build)
    build.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and build.status == BuildStatus.SUCCEEDED
    # Nothing of the lineage is written by the build itself (its step was short)…
    assert not LineageRun.objects.filter(project=project, job__name="recipe/Add carriers").exists()
    lineage_job = Job.objects.get(kind="flows.lineage", state=JobState.QUEUED)
    assert lineage_job.params["build_id"] == build.pk and lineage_job.project_id == project.pk
    assert lineage_job.title == f"Record the lineage of build {build.pk}"
    assert [r["state"] for r in lineage_job.params["reports"]] == ["running", "completed"]
    # …its own job writes it next.
    done = {j.kind: j for j in run_queued_jobs()}
    assert done["flows.lineage"].state == JobState.SUCCEEDED
    assert done["flows.lineage"].result == {"build_id": build.pk, "reports": 2, "runs": 1}
    run = LineageRun.objects.get(project=project, job__name="recipe/Add carriers")
    assert run.state == "completed" and run.ended_at is not None
    edges = ColumnLineageEdge.objects.filter(project=project, job__name="recipe/Add carriers")
    assert ("country", "Carriers", "country") in {
        (e.output_column, e.input_dataset.name, e.input_column) for e in edges
    }
    events = LineageEvent.objects.filter(project=project, job_name="recipe/Add carriers").order_by("id")
    assert [e.event_type for e in events] == ["START", "COMPLETE"]


def test_a_failed_build_queues_its_lineage_too(project: Project, bob: User, flights: Dataset) -> None:
    services.create_recipe(
        project,
        actor=bob,
        name="Codes",
        kind="sql",
        inputs=[flights],
        outputs=["Codes"],
        spec={"sql": "SELECT flight, CAST(carrier AS INTEGER) AS carrier FROM Flights"},
    )
    build = services.submit_build(project, actor=bob)
    assert _run_only_the_build(build).state == JobState.FAILED
    assert Job.objects.filter(kind="flows.lineage", params__build_id=build.pk, state=JobState.QUEUED).exists()
    run_queued_jobs()
    events = LineageEvent.objects.filter(project=project, job_name="recipe/Codes").order_by("id")
    assert [e.event_type for e in events] == ["START", "FAIL"]
    assert "AF" in events.last().payload["run"]["facets"]["errorMessage"]["message"]  # type: ignore[union-attr]


def test_reports_survive_the_trip_through_the_job_unchanged(
    project: Project, flights: Dataset, carriers: Dataset, joined: Dataset
) -> None:
    started = timezone.now()
    report = StepReport(
        recipe_name="Add carriers",
        run_id=uuid.uuid4(),
        state="completed",
        event_time=timezone.now(),
        started_at=started,
        inputs=[flights, carriers],
        outputs=[joined],
        edges=[
            ColumnEdge(
                joined,
                "country",
                [
                    ColumnInput(carriers, "country", "DIRECT", "IDENTITY", "the carrier's country", True),
                    ColumnInput(flights, "carrier", "INDIRECT", "JOIN"),
                ],
            )
        ],
        sql='SELECT * FROM "Flights"',
        description="Flights with their carrier",
        error="",
    )
    recorder = LineageRecorder(project)
    recorder.pending.append(report)
    payload = json.loads(json.dumps(recorder.take()))  # what the job's params hold
    assert recorder.pending == []
    (back,) = reports_from_json(project, payload)
    assert back == report


def test_a_dataset_deleted_before_the_job_runs_is_left_out(
    project: Project, flights: Dataset, carriers: Dataset, joined: Dataset
) -> None:
    recorder = LineageRecorder(project)
    recorder.add(
        recipe_name="Add carriers",
        run_id=uuid.uuid4(),
        state="completed",
        event_time=timezone.now(),
        inputs=[flights, carriers],
        outputs=[joined],
        edges=[ColumnEdge(joined, "country", [ColumnInput(carriers, "country")])],
    )
    payload = recorder.take()
    payload[0]["inputs"].append(10**9)  # a dataset that no longer exists
    payload[0]["edges"].append([10**9, "gone", [[carriers.pk, "country", "DIRECT", "", "", False]]])
    (back,) = reports_from_json(project, payload)
    assert [d.pk for d in back.inputs] == [flights.pk, carriers.pk]
    assert [(e.output.pk, e.column) for e in back.edges] == [(joined.pk, "country")]


def test_another_projects_datasets_are_not_read(project: Project, bob: User, flights: Dataset) -> None:
    other_project = core_services.create_project(actor=bob, slug="elsewhere", name="Elsewhere")
    elsewhere = make_dataset(other_project, bob, name="Secret")
    payload = [
        {
            "recipe": "Sneaky",
            "run_id": str(uuid.uuid4()),
            "state": "completed",
            "event_time": timezone.now().isoformat(),
            "started_at": None,
            "inputs": [flights.pk, elsewhere.pk],
            "outputs": [],
            "edges": [],
            "sql": "",
            "description": "",
            "error": "",
        }
    ]
    (back,) = reports_from_json(project, payload)
    assert [d.pk for d in back.inputs] == [flights.pk]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"reports": [{"recipe": "x"}]}, "needs build_id, a positive whole number"),
        ({"build_id": True, "reports": [{"recipe": "x"}]}, "needs build_id, a positive whole number"),
        ({"build_id": 1}, "needs reports, a non-empty list"),
        ({"build_id": 1, "reports": []}, "needs reports, a non-empty list"),
        ({"build_id": 1, "reports": ["running"]}, "needs reports, a non-empty list"),
    ],
)
def test_bad_parameters_are_refused_before_anything_is_queued(
    project: Project, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidJobParamsError, match=message):
        enqueue("flows.lineage", project=project, params=params)
    assert not Job.objects.filter(kind="flows.lineage").exists()


def test_unreadable_reports_fail_the_job_with_a_plain_message(project: Project) -> None:
    enqueue(
        "flows.lineage",
        project=project,
        params={"build_id": 7, "reports": [{"recipe": "x", "event_time": "yesterday"}]},
    )
    (job,) = run_queued_jobs()
    assert job.state == JobState.FAILED
    assert "The lineage reports of build 7 are not readable" in job.error
    assert not LineageRun.objects.filter(project=project).exists()
