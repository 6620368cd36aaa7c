"""The lineage store's Python API: ``record_run`` and the graph reads, on the real database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from modelworks.catalog.lineage import (
    ColumnEdge,
    ColumnInput,
    ColumnRef,
    DatasetRef,
    LineageError,
    RunConflictError,
    neighbourhood,
    project_graph,
    record_run,
    trace_column,
)
from modelworks.catalog.lineage.graph import dataset_key, job_key
from modelworks.catalog.models import (
    ColumnLineageEdge,
    JobKind,
    LineageDataset,
    LineageEdge,
    LineageJob,
    LineageRun,
    RunState,
)
from modelworks.catalog.tests.data import AIRPORTS, CLEAN, DAILY, RAW, make_dataset, record_pipeline
from modelworks.core.models import Project

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.catalog.tests.fixtures"]


def node(project: Project, ref: DatasetRef) -> LineageDataset:
    return LineageDataset.objects.get(project=project, namespace=ref.namespace, name=ref.name)


def test_record_run_stores_jobs_runs_datasets_and_edges(project: Project) -> None:
    run = record_run(project, "clean", inputs=[RAW, AIRPORTS], outputs=[CLEAN], sql="select 1")

    assert run.state == RunState.COMPLETED and run.started_at and run.ended_at
    job = run.job
    assert (job.namespace, job.name, job.kind, job.sql) == (
        "modelworks://flight-delays",
        "clean",
        JobKind.INTERNAL,
        "select 1",
    )
    edges = {
        (e.dataset.name, e.direction) for e in LineageEdge.objects.filter(run=run).select_related("dataset")
    }
    assert edges == {
        ("public.raw_flights", "input"),
        ("airports.parquet", "input"),
        ("public.clean_flights", "output"),
    }
    assert node(project, RAW).column_names == ["carrier", "dep_delay", "origin"]
    assert all(n.project_id == project.pk for n in LineageDataset.objects.all())


def test_reporting_the_same_run_again_updates_it(project: Project) -> None:
    run_id = uuid.uuid4()
    record_run(project, "clean", inputs=[RAW], outputs=[CLEAN], run_id=run_id, state="running")
    record_run(project, "clean", inputs=[RAW], outputs=[CLEAN], run_id=str(run_id), state="completed")
    # A late "running" report does not reopen a run that ended.
    record_run(project, "clean", inputs=[RAW], outputs=[CLEAN], run_id=run_id, state="running")

    assert LineageRun.objects.count() == 1
    run = LineageRun.objects.get()
    assert run.state == RunState.COMPLETED and run.ended_at is not None
    assert LineageEdge.objects.filter(run=run).count() == 2
    assert LineageDataset.objects.count() == 2 and LineageJob.objects.count() == 1


def test_a_new_schema_replaces_the_stored_one_and_an_unknown_schema_keeps_it(project: Project) -> None:
    record_run(project, "clean", inputs=[RAW], outputs=[CLEAN])
    record_run(project, "again", inputs=[DatasetRef(RAW.namespace, RAW.name)], outputs=[])
    assert node(project, RAW).column_names == ["carrier", "dep_delay", "origin"]

    renamed = DatasetRef(RAW.namespace, RAW.name, columns=(ColumnRef("airline"),))
    record_run(project, "again", inputs=[renamed])
    assert node(project, RAW).column_names == ["airline"]


def test_column_edges_of_an_output_are_replaced_by_the_latest_report(project: Project) -> None:
    record_pipeline(project)
    assert ColumnLineageEdge.objects.filter(output_dataset=node(project, CLEAN)).count() == 4

    record_run(
        project,
        "clean",
        inputs=[RAW],
        outputs=[CLEAN],
        column_lineage=[ColumnEdge(CLEAN, "carrier", [ColumnInput(RAW, "carrier")])],
    )
    rows = ColumnLineageEdge.objects.filter(output_dataset=node(project, CLEAN))
    assert [(e.output_column, e.input_column, e.transformation_type) for e in rows] == [
        ("carrier", "carrier", "DIRECT")
    ]
    # The other job's edges are untouched.
    assert ColumnLineageEdge.objects.filter(output_dataset=node(project, DAILY)).count() == 2


def test_the_same_names_in_two_projects_are_separate_nodes(project: Project, other_project: Project) -> None:
    record_run(project, "clean", inputs=[RAW], outputs=[CLEAN])
    record_run(other_project, "clean", inputs=[RAW], outputs=[CLEAN])

    assert LineageDataset.objects.filter(name=RAW.name).count() == 2
    graph = project_graph(project)
    assert {d.project_id for d in graph.datasets.values()} == {project.pk}
    assert {j.project_id for j in graph.jobs.values()} == {project.pk}


def test_a_modelworks_dataset_is_linked_to_its_node(project: Project) -> None:
    flights = make_dataset(project, "flights", columns=[("carrier", "VARCHAR"), ("dep_delay", "BIGINT")])
    run = record_run(project, "prepare", inputs=[flights], outputs=[CLEAN])

    linked = LineageDataset.objects.get(dataset=flights)
    assert (linked.namespace, linked.name) == ("modelworks://flight-delays", "flights")
    assert linked.column_names == ["carrier", "dep_delay"]
    assert LineageEdge.objects.filter(run=run, dataset=linked, direction="input").exists()
    # After a rename, the node still stands for the same dataset and shows its new name.
    flights.name = "flights_2024"
    flights.save()
    record_run(project, "prepare", inputs=[flights], outputs=[CLEAN])
    assert LineageDataset.objects.filter(dataset=flights).count() == 1
    assert LineageDataset.objects.get(dataset=flights).label == "flights_2024"


def test_a_dataset_of_another_project_is_refused(project: Project, other_project: Project) -> None:
    foreign = make_dataset(other_project, "secret")
    with pytest.raises(LineageError, match=r"Dataset \d+ is not in project 'flight-delays'"):
        record_run(project, "steal", inputs=[foreign])
    assert not LineageJob.objects.exists()  # nothing half-written


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"job_name": ""}, "job_name", "Give a non-empty name"),
        ({"job_name": "x" * 1001}, "job_name", "at most 1000 characters"),
        ({"state": "done"}, "state", "Unknown run state 'done'; use one of running, completed"),
        ({"run_id": "run-42"}, "run_id", "Run ids are UUIDs"),
        ({"inputs": [DatasetRef("", "t")]}, "namespace", "Give a non-empty name"),
        ({"inputs": [DatasetRef("pg://db", "a\x00b")]}, "name", "NUL"),
    ],
)
def test_bad_records_are_refused_with_the_field_named(
    project: Project, kwargs: dict[str, object], field: str, message: str
) -> None:
    call = {"job_name": "clean", **kwargs}
    with pytest.raises(LineageError, match=message) as caught:
        record_run(project, call.pop("job_name"), **call)  # type: ignore[arg-type]
    assert field in caught.value.message_dict
    assert not LineageRun.objects.exists()


def test_a_run_id_of_another_job_is_a_conflict(project: Project) -> None:
    run_id = uuid.uuid4()
    record_run(project, "clean", run_id=run_id)
    with pytest.raises(RunConflictError, match="belongs to job 'clean', not 'other'"):
        record_run(project, "other", run_id=run_id)


def test_neighbourhood_follows_depth_and_direction(pipeline: Project) -> None:
    clean = dataset_key(node(pipeline, CLEAN).pk)
    both = neighbourhood(pipeline, clean, depth=1)
    assert {d.name for d in both.datasets.values()} == {RAW.name, AIRPORTS.name, CLEAN.name, DAILY.name}
    assert {j.name for j in both.jobs.values()} == {"clean", "aggregate"}

    up = neighbourhood(pipeline, clean, depth=1, direction="upstream")
    assert {d.name for d in up.datasets.values()} == {RAW.name, AIRPORTS.name, CLEAN.name}
    raw = dataset_key(node(pipeline, RAW).pk)
    assert {
        d.name for d in neighbourhood(pipeline, raw, depth=1, direction="downstream").datasets.values()
    } == {
        RAW.name,
        CLEAN.name,
    }
    assert DAILY.name in {
        d.name for d in neighbourhood(pipeline, raw, depth=2, direction="downstream").datasets.values()
    }
    job = LineageJob.objects.get(name="aggregate")
    around_job = neighbourhood(pipeline, job_key(job.pk), depth=1)
    assert {d.name for d in around_job.datasets.values()} == {CLEAN.name, DAILY.name}
    assert (dataset_key(node(pipeline, CLEAN).pk), job_key(job.pk)) in around_job.edges


def test_a_graph_larger_than_the_limit_is_truncated(pipeline: Project) -> None:
    graph = project_graph(pipeline, limit=3)
    assert graph.truncated and graph.node_count <= 3
    assert not project_graph(pipeline).truncated


def test_trace_column_goes_upstream_and_downstream(pipeline: Project) -> None:
    trace = trace_column(pipeline, node(pipeline, CLEAN).pk, "delay_minutes")
    assert [(e.input_dataset.name, e.input_column, d) for e, d in trace.upstream] == [
        (RAW.name, "dep_delay", 1)
    ]
    assert [(e.output_dataset.name, e.output_column, d) for e, d in trace.downstream] == [
        (DAILY.name, "mean_delay", 1)
    ]

    from_daily = trace_column(pipeline, node(pipeline, DAILY).pk, "mean_delay")
    assert [(e.input_column, d) for e, d in from_daily.upstream] == [("delay_minutes", 1), ("dep_delay", 2)]
    assert trace_column(pipeline, node(pipeline, DAILY).pk, "mean_delay", depth=1).upstream[-1][1] == 1


def test_explicit_times_are_kept(project: Project) -> None:
    start = timezone.now() - timedelta(hours=1)
    run = record_run(project, "nightly", started_at=start, ended_at=start + timedelta(minutes=5))
    assert run.duration_seconds == 300
