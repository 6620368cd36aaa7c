"""``apply_run_reports``: many run reports stored in a few queries, with exactly what the per-report
path (``apply_run_report`` once per report, one node cache) stores. On the real database."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from modelworks.catalog.lineage import (
    ColumnEdge,
    ColumnInput,
    ColumnRef,
    DatasetRef,
    JobSpec,
    LineageError,
    RunConflictError,
)
from modelworks.catalog.lineage.batch import apply_run_reports
from modelworks.catalog.lineage.store import NodeCache, RunReport, apply_run_report
from modelworks.catalog.models import (
    ColumnLineageEdge,
    JobKind,
    LineageDataset,
    LineageEdge,
    LineageEvent,
    LineageJob,
    LineageRun,
    RunState,
    internal_namespace,
)
from modelworks.catalog.tests.data import make_dataset
from modelworks.core.models import Project
from modelworks.flows.services.lineage import LineageRecorder

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.catalog.tests.fixtures"]

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
U1, U2, U3, U4, U5 = (uuid.UUID(int=n) for n in range(1, 6))

RAW = DatasetRef(
    "postgres://warehouse:5432",
    "public.raw_flights",
    columns=(ColumnRef("carrier", "text"), ColumnRef("dep_delay", "integer")),
    facets={"dataSource": {"name": "warehouse"}},
)
RAW_V2 = DatasetRef(  # the same table, later, with one more column and a description
    "postgres://warehouse:5432",
    "public.raw_flights",
    columns=(ColumnRef("carrier", "text"), ColumnRef("dep_delay", "integer"), ColumnRef("origin", "text")),
    description="Flights as loaded.",
    source_name="warehouse",
    source_uri="postgres://warehouse:5432/db",
)
DAILY = DatasetRef("s3://reports", "daily.parquet", columns=(ColumnRef("carrier"), ColumnRef("mean_delay")))
AIRPORTS = DatasetRef("s3://reference", "airports.parquet")  # no schema known


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)  # PostgreSQL's jsonb does not keep the keys' order


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _report(job: str | JobSpec, run_id: uuid.UUID, state: RunState, minute: int, **fields: Any) -> RunReport:
    spec = job if isinstance(job, JobSpec) else JobSpec(namespace=fields.pop("namespace"), name=job)
    final = state.is_final
    return RunReport(
        job=spec,
        run_id=run_id,
        state=state,
        event_time=t(minute),
        started_at=fields.pop("started_at", t(minute)),
        ended_at=t(minute) if final else None,
        **fields,
    )


def scenario(project: Project) -> tuple[list[RunReport], list[RunReport]]:
    """Two flushes of reports: runs reported twice, shared datasets, facets, replaced column edges."""
    ns = internal_namespace(project.slug)
    flights = make_dataset(project, "flights", columns=[("carrier", "VARCHAR"), ("dep_delay", "INTEGER")])
    clean = make_dataset(project, "clean")  # no version yet: no schema
    carriers = make_dataset(project, "carriers", columns=[("code", "VARCHAR"), ("country", "VARCHAR")])
    clean_by_name = DatasetRef(ns, "clean")  # linked by name in the project's namespace
    carriers_by_id = DatasetRef(ns, "carriers", dataset_id=carriers.pk)  # columns from its version
    prepare = JobSpec(ns, "recipe/prepare", description="Clean the flights.", sql="select 1", facets={"a": 1})
    external = JobSpec(
        "airflow://prod", "etl.daily", kind=JobKind.OPENLINEAGE, job_type="BATCH", facets={"owner": {"x": 1}}
    )
    first = [
        _report(prepare, U1, RunState.RUNNING, 0, inputs=[RAW, flights], outputs=[clean]),
        _report(
            prepare,
            U1,
            RunState.COMPLETED,
            5,
            started_at=t(1),
            inputs=[RAW, flights],
            outputs=[clean],
            input_facets=[{"inputStatistics": {"rowCount": 10}}, {}],
            run_facets={"nominalTime": {"start": "x"}},
            column_lineage=[
                ColumnEdge(clean, "carrier", [ColumnInput(flights, "carrier", "DIRECT", "identity")]),
                ColumnEdge(
                    clean,
                    "delay",
                    [ColumnInput(RAW, "dep_delay", "DIRECT", "TRANSFORMATION", "minutes", masking=True)],
                ),
            ],
        ),
        _report(
            JobSpec(ns, "recipe/daily", facets={"sql": {"query": "q"}}),
            U2,
            RunState.COMPLETED,
            7,
            inputs=[clean_by_name, carriers_by_id, AIRPORTS],
            outputs=[DAILY],
            output_facets=[{"outputStatistics": {"rowCount": 3}}],
            column_lineage=[
                ColumnEdge(DAILY, "carrier", [ColumnInput(clean_by_name, "carrier", "INDIRECT", "GROUP_BY")]),
                ColumnEdge(DAILY, "mean_delay", [ColumnInput(clean, "delay", "DIRECT", "AGGREGATION")]),
            ],
        ),
        _report(prepare, U1, RunState.RUNNING, 9, started_at=t(9), inputs=[RAW], outputs=[clean]),  # late
        _report(external, U3, RunState.OTHER, 3, inputs=[RAW], run_facets={"tags": {"t": 1}}),
    ]
    second = [
        _report(
            JobSpec(ns, "recipe/prepare", sql="select 2", facets={"a": {"_deleted": True}, "b": 2}),
            U1,
            RunState.COMPLETED,
            12,
            inputs=[RAW_V2, RAW_V2, flights],
            outputs=[clean],
            input_facets=[{"p": 1}, {"q": 2}, {}],
            output_facets=[{"outputStatistics": {"rowCount": 9}}],
            column_lineage=[ColumnEdge(clean, "delay", [ColumnInput(RAW_V2, "dep_delay")])],  # replaces
        ),
        _report(
            JobSpec(ns, "recipe/daily"),
            U4,
            RunState.COMPLETED,
            14,
            inputs=[clean],
            outputs=[DAILY],
            column_lineage=[ColumnEdge(DAILY, "mean_delay", [ColumnInput(clean, "delay", "DIRECT", "AGG")])],
        ),
        _report(external, U3, RunState.COMPLETED, 15, run_facets={"tags": {"t": 2}}),
        _report(JobSpec(ns, "recipe/flaky"), U5, RunState.RUNNING, 16, inputs=[carriers_by_id]),
        _report(JobSpec(ns, "recipe/flaky"), U5, RunState.FAILED, 17, inputs=[carriers_by_id]),
    ]
    return first, second


def one_by_one(project: Project, reports: list[RunReport]) -> None:
    """The per-report path, as ``LineageRecorder`` used it: one transaction, one node cache."""
    cache: NodeCache = {}
    with transaction.atomic():
        for report in reports:
            apply_run_report(project, report, node_cache=cache)


def stored(project: Project) -> dict[str, list[tuple[Any, ...]]]:
    """Every lineage row of the project without ids, times of writing or the project's slug."""
    slug = project.slug

    def ns(value: str) -> str:
        return value.replace(slug, "<project>")

    def node(n: LineageDataset) -> tuple[str, str]:
        return (ns(n.namespace), n.name)

    return {
        "nodes": sorted(
            (
                *node(n),
                n.dataset.name if n.dataset else None,
                n.columns,
                n.description,
                n.source_name,
                n.source_uri,
                _json(n.facets),
            )
            for n in LineageDataset.objects.filter(project=project).select_related("dataset")
        ),
        "jobs": sorted(
            (
                ns(j.namespace),
                j.name,
                j.kind,
                j.description,
                j.sql,
                j.sql_dialect,
                j.job_type,
                _json(j.facets),
            )
            for j in LineageJob.objects.filter(project=project)
        ),
        "runs": sorted(
            (r.job.name, r.run_id, r.state, r.started_at, r.ended_at, r.last_event_at, _json(r.facets))
            for r in LineageRun.objects.filter(project=project).select_related("job")
        ),
        "edges": sorted(
            (e.job.name, e.run.run_id if e.run else None, *node(e.dataset), e.direction, _json(e.facets))
            for e in LineageEdge.objects.filter(project=project).select_related("job", "run", "dataset")
        ),
        "column_edges": sorted(
            (
                e.job.name if e.job else "",
                e.run.run_id if e.run else None,
                *node(e.output_dataset),
                e.output_column,
                *node(e.input_dataset),
                e.input_column,
                e.transformation_type,
                e.transformation_subtype,
                e.description,
                e.masking,
            )
            for e in ColumnLineageEdge.objects.filter(project=project).select_related(
                "job", "run", "output_dataset", "input_dataset"
            )
        ),
    }


def test_a_batch_stores_exactly_what_the_reports_one_by_one_store(
    project: Project, other_project: Project
) -> None:
    first, second = scenario(project)
    one_by_one(project, first)
    expected_first = stored(project)
    one_by_one(project, second)
    expected = stored(project)

    first, second = scenario(other_project)
    runs = apply_run_reports(other_project, first)
    assert stored(other_project) == expected_first
    apply_run_reports(other_project, second)
    assert stored(other_project) == expected

    # What the scenario exercises, so that the comparison above is not vacuous.
    assert [r.run_id if r else None for r in runs] == [U1, U1, U2, U1, U3]
    by_run = {row[1]: row for row in expected["runs"]}
    assert by_run[U1][2:6] == ("completed", t(0), t(12), t(12))  # a late RUNNING did not reopen it
    assert by_run[U3][2] == "completed" and by_run[U5][2] == "failed"
    assert by_run[U1][6] == _json({"nominalTime": {"start": "x"}})
    prepare = next(j for j in expected["jobs"] if j[1] == "recipe/prepare")
    assert (prepare[4], prepare[7]) == ("select 2", _json({"b": 2}))
    nodes = {row[1]: row for row in expected["nodes"]}
    assert nodes["public.raw_flights"][3] == [c.as_dict() for c in RAW_V2.columns or ()]
    assert nodes["clean"][2:4] == ("clean", [])  # a Modelworks dataset without a version
    assert [c["name"] for c in nodes["carriers"][3]] == ["code", "country"]  # from its version
    edge_facets = {(row[0], row[1], row[3], row[4]): row[5] for row in expected["edges"]}
    assert edge_facets[("recipe/prepare", U1, "public.raw_flights", "input")] == _json(
        {"inputStatistics": {"rowCount": 10}, "p": 1, "q": 2}
    )
    delays = [row for row in expected["column_edges"] if row[0] == "recipe/prepare" and row[4] == "delay"]
    assert [row[7:] for row in delays] == [("dep_delay", "DIRECT", "", "", False)]  # the second replaced it


def _chain(project: Project, steps: int, state: RunState) -> list[RunReport]:
    """``steps`` recipes, each reading the previous one's output: internal refs and an external one."""
    ns = internal_namespace(project.slug)
    refs = [DatasetRef(ns, f"d{i}", columns=(ColumnRef("a"), ColumnRef("b"))) for i in range(steps + 1)]
    return [
        _report(
            JobSpec(ns, f"recipe/step{i}", sql=f"select {i}"),
            uuid.UUID(int=100 + i),
            state,
            i,
            inputs=[refs[i], RAW],
            outputs=[refs[i + 1]],
            column_lineage=[
                ColumnEdge(refs[i + 1], "a", [ColumnInput(refs[i], "a"), ColumnInput(RAW, "carrier")]),
                ColumnEdge(refs[i + 1], "b", [ColumnInput(refs[i], "b")]),
            ],
        )
        for i in range(steps)
    ]


def _queries(project: Project, reports: list[RunReport]) -> int:
    with CaptureQueriesContext(connection) as queries:
        runs = apply_run_reports(project, reports)
    assert all(run is not None for run in runs)
    return len(queries)


def test_the_queries_of_a_batch_do_not_grow_with_its_reports(
    project: Project, other_project: Project
) -> None:
    small = [_queries(project, _chain(project, 2, state)) for state in (RunState.RUNNING, RunState.COMPLETED)]
    large = [
        _queries(other_project, _chain(other_project, 10, state))
        for state in (RunState.RUNNING, RunState.COMPLETED)
    ]
    assert large == small
    assert max(small) <= 20
    assert LineageRun.objects.filter(project=other_project, state="completed").count() == 10
    assert ColumnLineageEdge.objects.filter(project=other_project).count() == 30


def test_a_report_breaking_a_rule_is_skipped_and_the_others_are_stored(
    project: Project, other_project: Project
) -> None:
    ns = internal_namespace(project.slug)
    elsewhere = make_dataset(other_project, "secret")
    good = _report("recipe/good", U1, RunState.COMPLETED, 0, namespace=ns, inputs=[RAW], outputs=[DAILY])
    cases = [
        (_report("x" * 1001, U2, RunState.COMPLETED, 1, namespace=ns, inputs=[RAW]), "at most 1000"),
        (
            _report("recipe/bad", U3, RunState.COMPLETED, 1, namespace=ns, inputs=[DatasetRef("", "t")]),
            "non-empty",
        ),
        (
            _report(
                "recipe/leak", U4, RunState.COMPLETED, 1, namespace=ns, inputs=[DatasetRef.of(elsewhere)]
            ),
            "not in project 'flight-delays'",
        ),
        (
            _report(
                "recipe/cols",
                U5,
                RunState.COMPLETED,
                1,
                namespace=ns,
                outputs=[DAILY],
                column_lineage=[ColumnEdge(DAILY, "a", [ColumnInput(RAW, "bad\x00column")])],
            ),
            "NUL",
        ),
    ]
    for bad, message in cases:
        skipped: list[tuple[int, Exception]] = []
        later = _report("recipe/later", uuid.uuid4(), RunState.COMPLETED, 2, namespace=ns, inputs=[DAILY])
        runs = apply_run_reports(
            project, [good, bad, later], on_error=lambda i, _r, e, seen=skipped: seen.append((i, e))
        )
        assert [i for i, _ in skipped] == [1] and isinstance(skipped[0][1], LineageError)
        assert message in str(skipped[0][1])
        assert runs[1] is None and runs[0] is not None and runs[2] is not None
        assert not LineageRun.objects.filter(project=project, run_id=bad.run_id).exists()
        assert LineageRun.objects.filter(project=project, run_id=later.run_id).exists()
        # Without on_error the batch is refused as a whole.
        with pytest.raises(LineageError, match=message.replace("\x00", "")):
            apply_run_reports(
                project, [_report("recipe/other", uuid.uuid4(), RunState.RUNNING, 3, namespace=ns), bad]
            )
    assert not LineageJob.objects.filter(
        project=project, name__in=["recipe/bad", "recipe/leak", "recipe/other"]
    )
    assert not LineageDataset.objects.filter(project=project, name="t").exists()


def test_a_run_id_of_another_job_is_a_conflict(project: Project) -> None:
    ns = internal_namespace(project.slug)
    apply_run_reports(
        project, [_report("recipe/first", U1, RunState.COMPLETED, 0, namespace=ns, inputs=[RAW])]
    )
    stolen = _report("recipe/second", U1, RunState.COMPLETED, 1, namespace=ns, outputs=[DAILY])
    with pytest.raises(RunConflictError, match="belongs to job 'recipe/first', not 'recipe/second'"):
        apply_run_reports(project, [stolen])

    # Within one batch too: the second job's report is skipped, the first's is kept.
    skipped: list[Exception] = []
    runs = apply_run_reports(
        project,
        [
            _report("recipe/a", U2, RunState.RUNNING, 2, namespace=ns),
            _report("recipe/b", U2, RunState.COMPLETED, 3, namespace=ns, outputs=[DAILY]),
            stolen,
        ],
        on_error=lambda _i, _r, e: skipped.append(e),
    )
    assert [type(e) for e in skipped] == [RunConflictError, RunConflictError]
    assert "belongs to job 'recipe/a'" in str(skipped[0])
    assert runs[0] is not None and runs[1:] == [None, None]
    assert LineageRun.objects.get(project=project, run_id=U2).job.name == "recipe/a"
    assert LineageRun.objects.get(project=project, run_id=U1).job.name == "recipe/first"
    assert not LineageJob.objects.filter(project=project, name__in=["recipe/b", "recipe/second"]).exists()
    assert not LineageEdge.objects.filter(project=project, dataset__name=DAILY.name).exists()


def test_the_recorder_skips_a_step_it_cannot_record_and_keeps_the_others(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    flights = make_dataset(project, "flights", columns=[("carrier", "VARCHAR")])
    clean = make_dataset(project, "clean", columns=[("carrier", "VARCHAR")])
    recorder = LineageRecorder(project)
    edge = ColumnEdge(clean, "carrier", [ColumnInput(flights, "carrier")])
    for name, run_id in (("Clean", U1), ("x" * 1000, U2)):
        recorder.add(recipe_name=name, run_id=run_id, state="running", event_time=t(0), inputs=[flights])
        recorder.add(
            recipe_name=name,
            run_id=run_id,
            state="completed",
            event_time=t(1),
            inputs=[flights],
            outputs=[clean],
            edges=[edge],
        )
    with caplog.at_level(logging.WARNING, logger="modelworks.flows"):
        recorder.flush()
    assert "could not be recorded" in caplog.text and "at most 1000" in caplog.text
    run = LineageRun.objects.get(project=project)
    assert (run.run_id, run.state, run.job.name) == (U1, "completed", "recipe/Clean")
    assert list(
        LineageEvent.objects.filter(project=project).values_list("event_type", flat=True).order_by("id")
    ) == [
        "START",
        "COMPLETE",
    ]
    column = ColumnLineageEdge.objects.get(project=project)
    assert (column.output_dataset.name, column.input_dataset.name) == ("clean", "flights")


def test_a_node_written_meanwhile_by_another_report_falls_back_to_one_by_one(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job created between the batch's reads and its writes (another producer reporting at the
    same moment) breaks the batch's insert: the reports are then stored one by one, all of them."""
    from modelworks.catalog.lineage import batch

    ns = internal_namespace(project.slug)
    reports = _chain(project, 3, RunState.COMPLETED)
    write = batch._Batch.write

    def write_after_a_concurrent_report(self: Any) -> None:
        LineageJob.objects.create(project=project, namespace=ns, name="recipe/step1", sql="theirs")
        write(self)

    monkeypatch.setattr(batch._Batch, "write", write_after_a_concurrent_report)
    runs = apply_run_reports(project, reports)
    assert [run.job.name for run in runs if run] == ["recipe/step0", "recipe/step1", "recipe/step2"]
    assert LineageJob.objects.get(project=project, name="recipe/step1").sql == "select 1"
    assert ColumnLineageEdge.objects.filter(project=project).count() == 9
