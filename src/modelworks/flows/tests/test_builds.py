"""Builds end to end through the ``flows.build`` job, on real uploaded CSV datasets: a prepare → join
→ group chain, incremental rebuilds, failures that leave earlier versions and no files behind,
blocked inputs, schema errors caught before running, a Python recipe in the sandbox, lineage."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core.exceptions import ValidationError

from modelworks.catalog.models import ColumnLineageEdge, LineageEvent, LineageRun
from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, DatasetVersion, SourceKind
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus, Recipe, StepStatus
from modelworks.flows.testing import CARRIERS_CSV, staging_files, stored_objects

pytest_plugins = ["modelworks.core.testing.fixtures"]

PREPARE_SPEC: dict[str, Any] = {
    "steps": [
        {"processor": "filter_formula", "params": {"formula": "distance > 500", "action": "keep"}},
        {"processor": "formula", "params": {"output": "late", "formula": "dep_delay > 10"}},
    ]
}


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
def chain(project: Project, bob: User, flights: Dataset, carriers: Dataset) -> dict[str, Recipe]:
    """Flights → prepare → Long flights; (Long flights, Carriers) → join → Enriched; → group → By country."""
    prepare = services.create_recipe(
        project,
        actor=bob,
        name="Long flights",
        kind="prepare",
        inputs=[flights],
        outputs=["Long flights"],
        spec=PREPARE_SPEC,
    )
    long_flights = prepare.output_datasets[0]
    join = services.create_recipe(
        project,
        actor=bob,
        name="Add carriers",
        kind="join",
        inputs=[long_flights, carriers],
        outputs=["Enriched"],
        spec={"joins": [{"type": "inner", "on": [{"left": "carrier", "right": "code"}]}]},
    )
    group = services.create_recipe(
        project,
        actor=bob,
        name="Delay by country",
        kind="group",
        inputs=[join.output_datasets[0]],
        outputs=["By country"],
        spec={
            "keys": ["country"],
            "aggregations": [
                {"column": "dep_delay", "function": "sum"},
                {"column": None, "function": "count"},
            ],
        },
    )
    return {"prepare": prepare, "join": join, "group": group}


def _build(project: Project, actor: User, **kwargs: Any) -> Build:
    build = services.submit_build(project, actor=actor, **kwargs)
    jobs = run_queued_jobs()
    job = next(j for j in jobs if j.pk == build.job_id)
    build.refresh_from_db()
    build.job = job  # with the in-process run's log lines (job.inline_log)
    return build


def _rows(dataset: Dataset) -> list[tuple[Any, ...]]:
    version = Dataset.objects.get(pk=dataset.pk).latest_version
    assert version is not None
    path = dataset_services.version_path(version)
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()  # noqa: S608 - test path


def _versions(dataset: Dataset) -> list[int]:
    return list(
        DatasetVersion.objects.filter(dataset=dataset).order_by("number").values_list("number", flat=True)
    )


def _steps(build: Build) -> dict[str, str]:
    return {s.recipe_name: s.status for s in build.steps.all()}


def test_a_chain_builds_end_to_end_with_versions_rows_and_timings(
    project: Project, bob: User, chain: dict[str, Recipe]
) -> None:
    build = _build(project, bob)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    assert build.job.state == JobState.SUCCEEDED
    assert _steps(build) == {
        "Long flights": "succeeded",
        "Add carriers": "succeeded",
        "Delay by country": "succeeded",
    }
    group_output = chain["group"].output_datasets[0]
    # Long flights: AF1 (900, 5), AF2 (1200, -3), LH7 (700, 45), LH8 (650, null); BA3 (400) is filtered out.
    assert _rows(group_output) == [("DE", 45, 2), ("FR", 2, 2)]
    version = group_output.latest_version
    assert version is not None and version.how == SourceKind.RECIPE
    assert version.how_details["recipe_id"] == chain["group"].pk
    assert version.how_details["build_id"] == build.pk
    step = build.steps.get(recipe=chain["group"])
    assert step.rows == {"By country": 2}
    assert step.duration_seconds is not None and step.started_at and step.ended_at
    assert list(step.output_versions.all()) == [version]
    assert step.engine == "duckdb" and step.fingerprint == version.how_details["fingerprint"]
    assert build.plan["steps"][0]["reason"] == "never built"
    assert staging_files() == []


def test_a_second_build_without_change_runs_nothing(
    project: Project, bob: User, chain: dict[str, Recipe]
) -> None:
    _build(project, bob)
    second = _build(project, bob)
    assert second.status == BuildStatus.SUCCEEDED
    assert set(_steps(second).values()) == {StepStatus.UP_TO_DATE}
    assert _versions(chain["group"].output_datasets[0]) == [1]
    forced = _build(project, bob, force=True)
    assert set(_steps(forced).values()) == {StepStatus.SUCCEEDED}
    assert _versions(chain["group"].output_datasets[0]) == [1, 2]


def test_changing_a_recipe_rebuilds_it_and_its_downstream_only(
    project: Project, bob: User, chain: dict[str, Recipe]
) -> None:
    _build(project, bob)
    services.update_recipe(
        chain["join"],
        actor=bob,
        spec={"joins": [{"type": "left", "on": [{"left": "carrier", "right": "code"}]}]},
    )
    build = _build(project, bob)
    assert _steps(build) == {
        "Long flights": "up_to_date",
        "Add carriers": "succeeded",
        "Delay by country": "succeeded",
    }
    assert build.steps.get(recipe=chain["group"]).reason == "upstream rebuilt"
    assert _versions(chain["prepare"].output_datasets[0]) == [1]
    assert _versions(chain["group"].output_datasets[0]) == [1, 2]


def test_a_new_input_version_rebuilds_what_reads_it(
    project: Project, bob: User, chain: dict[str, Recipe], carriers: Dataset
) -> None:
    _build(project, bob)
    _new_version(project, bob, carriers, CARRIERS_CSV.replace(b"FR", b"France"))
    build = _build(project, bob)
    assert _steps(build) == {
        "Long flights": "up_to_date",
        "Add carriers": "succeeded",
        "Delay by country": "succeeded",
    }
    assert _rows(chain["group"].output_datasets[0]) == [("DE", 45, 2), ("France", 2, 2)]


def test_building_one_target_runs_only_what_it_needs(
    project: Project, bob: User, chain: dict[str, Recipe]
) -> None:
    build = _build(project, bob, targets=chain["prepare"].output_datasets)
    assert _steps(build) == {"Long flights": "succeeded"}
    with pytest.raises(ValidationError, match="not written by any recipe"):
        services.submit_build(project, actor=bob, targets=[Dataset.objects.get(name="Carriers")])


def test_a_failing_step_keeps_earlier_versions_and_leaves_no_file(
    project: Project, bob: User, flights: Dataset
) -> None:
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Codes",
        kind="sql",
        inputs=[flights],
        outputs=["Codes"],
        spec={"sql": "SELECT flight, carrier FROM Flights"},
    )
    downstream = services.create_recipe(
        project,
        actor=bob,
        name="Count codes",
        kind="group",
        inputs=[recipe.output_datasets[0]],
        outputs=["Code count"],
        spec={"keys": [], "aggregations": [{"column": None, "function": "count"}]},
    )
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    objects = stored_objects()
    # Compiles (the columns fit) but fails on the data: 'AF' is not a number.
    services.update_recipe(
        recipe, actor=bob, spec={"sql": "SELECT flight, CAST(carrier AS INTEGER) AS carrier FROM Flights"}
    )
    build = _build(project, bob)
    assert build.status == BuildStatus.FAILED and build.job.state == JobState.FAILED
    step = build.steps.get(recipe=recipe)
    assert step.status == StepStatus.FAILED and "Codes" in step.error and "AF" in step.error
    assert build.steps.get(recipe=downstream).status == StepStatus.SKIPPED
    assert "Recipe 'Codes' failed" in build.error
    assert _versions(recipe.output_datasets[0]) == [1]
    assert stored_objects() == objects
    assert staging_files() == []
    assert LineageEvent.objects.filter(job_name="recipe/Codes", event_type="FAIL").count() == 1


def test_a_blocked_input_is_refused_before_anything_runs(
    project: Project, bob: User, flights: Dataset, chain: dict[str, Recipe]
) -> None:
    dataset_services.add_rule(
        flights, actor=bob, kind="not_null", params={"column": "dep_delay"}, blocking=True
    )
    version = flights.latest_version
    assert version is not None
    dataset_services.run_quality(version, trigger="on_demand", actor=bob)
    build = _build(project, bob)
    assert build.status == BuildStatus.FAILED
    assert (
        "recipe 'Long flights' cannot run: input 'Flights' is at version 1, which failed a blocking quality rule"
        in build.error
    )
    assert "dep_delay" in build.error
    assert not DatasetVersion.objects.filter(how=SourceKind.RECIPE).exists()


def test_a_column_lost_upstream_stops_the_step_before_it_runs(
    project: Project, bob: User, flights: Dataset, chain: dict[str, Recipe]
) -> None:
    _build(project, bob)
    _new_version(project, bob, flights, b"flight,carrier,distance,day\nAF1,AF,900,2024-01-01\n")
    build = _build(project, bob)
    assert build.status == BuildStatus.FAILED
    step = build.steps.get(recipe=chain["prepare"])
    assert step.status == StepStatus.FAILED
    assert "dep_delay" in step.error and "Long flights" in step.error
    assert step.error_details["code"] == "recipe_missing_column"
    assert _versions(chain["prepare"].output_datasets[0]) == [1]


def test_lineage_is_recorded_for_every_step(project: Project, bob: User, chain: dict[str, Recipe]) -> None:
    _build(project, bob)
    runs = LineageRun.objects.filter(project=project, job__name="recipe/Delay by country")
    assert runs.count() == 1 and runs.get().state == "completed"
    edges = ColumnLineageEdge.objects.filter(project=project, job__name="recipe/Add carriers")
    assert ("country", "Carriers", "country") in {
        (e.output_column, e.input_dataset.name, e.input_column) for e in edges
    }
    events = LineageEvent.objects.filter(project=project, job_name="recipe/Add carriers").order_by("id")
    assert [e.event_type for e in events] == ["START", "COMPLETE"]
    complete = events.last()
    assert complete is not None
    assert {o["name"] for o in complete.payload["outputs"]} == {"Enriched"}
    assert "columnLineage" in complete.payload["outputs"][0]["facets"]


def test_overlapping_builds_are_refused_and_a_queued_build_can_be_cancelled(
    project: Project, bob: User, chain: dict[str, Recipe]
) -> None:
    first = services.submit_build(project, actor=bob)
    with pytest.raises(services.BuildConflictError, match=f"Build {first.pk}"):
        services.submit_build(project, actor=bob, targets=chain["prepare"].output_datasets)
    with pytest.raises(ValidationError, match="cancel it"):
        services.delete_recipe(chain["group"], actor=bob)
    cancelled = services.cancel_build(first, actor=bob)
    assert cancelled.status == BuildStatus.CANCELLED
    assert Job.objects.get(pk=first.job_id).state == JobState.CANCELLED
    second = services.submit_build(project, actor=bob)
    assert second.status == BuildStatus.QUEUED


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="Python recipes need bubblewrap (/usr/bin/bwrap)")
def test_a_python_recipe_builds_in_the_sandbox(project: Project, bob: User, flights: Dataset) -> None:
    code = (
        "from modelworks_recipe import inputs, outputs\n"
        "df = inputs['Flights'].pandas()\n"
        "df['distance_km'] = df['distance'] * 1.609\n"
        "print('rows', len(df))\n"
        "outputs['Flights km'].write(df[['flight', 'distance_km']])\n"
    )
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="To km",
        kind="python",
        inputs=[flights],
        outputs=["Flights km"],
        spec={"code": code},
    )
    build = _build(project, bob)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    step = build.steps.get(recipe=recipe)
    assert step.engine == "python" and step.rows == {"Flights km": 5}
    assert "rows 5" in step.log
    rows = dict(_rows(recipe.output_datasets[0]))
    assert rows["AF1"] == pytest.approx(900 * 1.609)
    version = recipe.output_datasets[0].latest_version
    assert version is not None and [c["name"] for c in version.schema] == ["flight", "distance_km"]


def _new_version(project: Project, actor: User, dataset: Dataset, content: bytes) -> None:
    import tempfile

    from modelworks.datasets.storage import data_store
    from modelworks.engine.io import ImportOptions, import_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.csv"
        path.write_bytes(content)
        info = import_file(path, store=data_store(), options=ImportOptions(original_name="new.csv"))
    dataset_services.create_version(
        project=project,
        info=info,
        how=SourceKind.UPLOAD,
        how_details={"file_name": "new.csv"},
        actor=actor,
        job=None,
        dataset=dataset,
    )


class _CancelAfterFirstStep:
    """A job reporter whose user asks to cancel once the first step has written its output."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def log(self, level: str, message: str) -> None:
        self.lines.append((level, message))

    def progress(self, percent: float, message: str) -> None:
        return None

    def cancel_requested(self) -> bool:
        return any("wrote" in message for _, message in self.lines)


def test_cancel_stops_the_build_between_steps_and_keeps_what_was_written(
    project: Project, bob: User, chain: dict[str, Recipe]
) -> None:
    from modelworks.core.jobs import JobCancelled
    from modelworks.flows.jobs import BuildFlowJob

    build = services.submit_build(project, actor=bob)
    job = Job.objects.get(pk=build.job_id)
    with pytest.raises(JobCancelled):
        BuildFlowJob(job, _CancelAfterFirstStep()).run()
    build.refresh_from_db()
    assert build.status == BuildStatus.CANCELLED and build.ended_at is not None
    assert _steps(build) == {
        "Long flights": "succeeded",
        "Add carriers": "cancelled",
        "Delay by country": "cancelled",
    }
    assert _versions(chain["prepare"].output_datasets[0]) == [1]
    assert _versions(chain["join"].output_datasets[0]) == []
    assert staging_files() == []
