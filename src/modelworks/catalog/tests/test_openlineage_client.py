"""The real ``openlineage-python`` client, over HTTP with gzip, against a live Modelworks server.

The client is configured exactly as a user would configure it: the HTTP transport pointed at the
server, our API token as its API key, gzip compression, and the project's short name as the job
namespace.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    JobEvent,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    datasource_dataset,
    documentation_dataset,
    documentation_job,
    job_type_job,
    schema_dataset,
    sql_job,
)
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpCompression, HttpConfig, HttpTransport
from openlineage.client.uuid import generate_new_uuid

from modelworks.catalog.models import (
    ColumnLineageEdge,
    LineageDataset,
    LineageEdge,
    LineageEvent,
    LineageJob,
    LineageRun,
)
from modelworks.core.models import Project

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.catalog.tests.fixtures"]

PRODUCER = "https://example.test/nightly-etl"
WAREHOUSE = "postgres://warehouse:5432"


class RecordingSession(requests.Session):
    """A requests session that remembers the headers of what it sent (to see that gzip was used)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, str]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(dict(request.headers))
        return super().send(request, **kwargs)


@pytest.fixture
def session() -> Iterator[RecordingSession]:
    with RecordingSession() as s:
        yield s


def lineage_client(server_url: str, token: str, session: requests.Session) -> OpenLineageClient:
    config = HttpConfig(
        url=server_url,
        endpoint="api/v1/lineage",
        auth=ApiKeyTokenProvider({"apiKey": token}),
        compression=HttpCompression.GZIP,
        timeout=10,
        session=session,
        retry={"total": 0},
    )
    return OpenLineageClient(transport=HttpTransport(config))


def schema(*columns: tuple[str, str]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in columns]
    )


def nightly_events(namespace: str) -> tuple[str, list[RunEvent]]:
    run_id = str(generate_new_uuid())
    job = Job(
        namespace=namespace,
        name="etl.clean_flights",
        facets={
            "sql": sql_job.SQLJobFacet(
                query="INSERT INTO clean_flights SELECT carrier, dep_delay FROM raw", dialect="postgres"
            ),
            "documentation": documentation_job.DocumentationJobFacet(
                description="Cleans last night's departures."
            ),
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="AIRFLOW", jobType="TASK"
            ),
        },
    )
    raw = InputDataset(
        namespace=WAREHOUSE,
        name="public.raw_flights",
        facets={
            "schema": schema(("carrier", "text"), ("dep_delay", "integer")),
            "dataSource": datasource_dataset.DatasourceDatasetFacet(name="warehouse", uri=WAREHOUSE),
        },
    )
    lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            "carrier": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace=WAREHOUSE,
                        name="public.raw_flights",
                        field="carrier",
                        transformations=[
                            column_lineage_dataset.Transformation(type="DIRECT", subtype="IDENTITY")
                        ],
                    )
                ]
            ),
            "delay_minutes": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace=WAREHOUSE,
                        name="public.raw_flights",
                        field="dep_delay",
                        transformations=[
                            column_lineage_dataset.Transformation(
                                type="DIRECT", subtype="TRANSFORMATION", description="COALESCE(dep_delay, 0)"
                            )
                        ],
                    )
                ]
            ),
        }
    )
    clean = OutputDataset(
        namespace=WAREHOUSE,
        name="public.clean_flights",
        facets={
            "schema": schema(("carrier", "text"), ("delay_minutes", "integer")),
            "columnLineage": lineage,
            "documentation": documentation_dataset.DocumentationDatasetFacet(
                description="One row per departure."
            ),
        },
    )
    start = RunEvent(
        eventType=RunState.START,
        eventTime="2026-11-20T02:00:00.000Z",
        run=Run(runId=run_id),
        job=job,
        producer=PRODUCER,
        inputs=[raw],
        outputs=[clean],
    )
    complete = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-11-20T02:04:30.000Z",
        run=Run(runId=run_id),
        job=job,
        producer=PRODUCER,
        inputs=[raw],
        outputs=[clean],
    )
    return run_id, [start, complete]


def test_the_openlineage_client_feeds_the_graph_with_gzip(
    live_server: Any,
    transactional_db: None,
    project: Project,
    tokens: dict[str, str],
    session: RecordingSession,
) -> None:
    client = lineage_client(live_server.url, tokens["bob"], session)
    run_id, events = nightly_events(project.slug)
    for event in events:
        client.emit(event)

    assert [h.get("Content-Encoding") for h in session.sent] == ["gzip", "gzip"]
    assert all(h["Authorization"] == f"Bearer {tokens['bob']}" for h in session.sent)
    job = LineageJob.objects.get(project=project)
    assert (job.namespace, job.name, job.kind) == (project.slug, "etl.clean_flights", "openlineage")
    assert job.sql.startswith("INSERT INTO clean_flights") and job.sql_dialect == "postgres"
    assert job.description == "Cleans last night's departures." and job.job_type == "BATCH · AIRFLOW · TASK"
    run = LineageRun.objects.get(project=project)
    assert str(run.run_id) == run_id and run.state == "completed" and run.duration_seconds == 270
    raw = LineageDataset.objects.get(project=project, name="public.raw_flights")
    assert raw.column_names == ["carrier", "dep_delay"] and raw.source_name == "warehouse"
    clean = LineageDataset.objects.get(project=project, name="public.clean_flights")
    assert clean.description == "One row per departure."
    assert {(e.dataset.name, e.direction) for e in LineageEdge.objects.filter(run=run)} == {
        ("public.raw_flights", "input"),
        ("public.clean_flights", "output"),
    }
    edges = {
        (e.output_column, e.input_column, e.transformation_subtype, e.description)
        for e in ColumnLineageEdge.objects.all()
    }
    assert edges == {
        ("carrier", "carrier", "IDENTITY", ""),
        ("delay_minutes", "dep_delay", "TRANSFORMATION", "COALESCE(dep_delay, 0)"),
    }
    assert LineageEvent.objects.filter(project=project, producer=PRODUCER).count() == 2

    # The same graph is readable from the API.
    api = requests.get(
        f"{live_server.url}/api/v1/projects/{project.slug}/lineage/datasets/{clean.pk}/column-lineage",
        params={"column": "delay_minutes"},
        headers={"Authorization": f"Bearer {tokens['carol']}"},
        timeout=10,
    )
    assert api.status_code == 200, api.text
    assert [e["input"]["column"] for e in api.json()["upstream"]] == ["dep_delay"]


def test_job_and_dataset_events_from_the_client(
    live_server: Any,
    transactional_db: None,
    project: Project,
    tokens: dict[str, str],
    session: RecordingSession,
) -> None:
    client = lineage_client(live_server.url, tokens["bob"], session)
    client.emit(
        JobEvent(
            eventTime="2026-11-20T02:00:00.000Z",
            job=Job(namespace=project.slug, name="dbt.daily_delays"),
            producer=PRODUCER,
            inputs=[InputDataset(namespace=WAREHOUSE, name="public.clean_flights")],
            outputs=[OutputDataset(namespace=WAREHOUSE, name="public.daily_delays")],
        )
    )
    client.emit(
        DatasetEvent(
            eventTime="2026-11-20T02:00:00.000Z",
            producer=PRODUCER,
            dataset=StaticDataset(
                namespace=f"modelworks://{project.slug}",
                name="flights",
                facets={"schema": schema(("carrier", "VARCHAR"))},
            ),
        )
    )
    assert LineageJob.objects.get(name="dbt.daily_delays").edges.filter(run=None).count() == 2
    assert LineageDataset.objects.get(name="flights").column_names == ["carrier"]


def test_the_client_is_refused_outside_its_projects(
    live_server: Any,
    transactional_db: None,
    project: Project,
    tokens: dict[str, str],
    session: RecordingSession,
) -> None:
    _, events = nightly_events(project.slug)
    with pytest.raises(requests.HTTPError, match="404"):
        lineage_client(live_server.url, tokens["dave"], session).emit(events[0])
    with pytest.raises(requests.HTTPError, match="401"):
        lineage_client(live_server.url, "mwt_revoked-or-invented", session).emit(events[0])
    _, other = nightly_events("not-a-project-" + uuid.uuid4().hex[:6])
    with pytest.raises(requests.HTTPError, match="404"):
        lineage_client(live_server.url, tokens["bob"], session).emit(other[0])
    assert not LineageEvent.objects.exists()
