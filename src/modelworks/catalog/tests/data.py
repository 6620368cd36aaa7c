"""Small lineage and dataset records for the catalog tests, built with the real models and the real
lineage API (no fixtures here: ``fixtures.py`` wraps them)."""

from __future__ import annotations

from typing import Any

from modelworks.catalog.lineage import ColumnEdge, ColumnInput, ColumnRef, DatasetRef, record_run
from modelworks.core.models import Project

RAW = DatasetRef(
    "postgres://warehouse:5432",
    "public.raw_flights",
    columns=(ColumnRef("carrier", "text"), ColumnRef("dep_delay", "integer"), ColumnRef("origin", "text")),
)
AIRPORTS = DatasetRef("s3://reference", "airports.parquet", columns=(ColumnRef("code"), ColumnRef("city")))
CLEAN = DatasetRef(
    "postgres://warehouse:5432",
    "public.clean_flights",
    columns=(ColumnRef("carrier"), ColumnRef("delay_minutes"), ColumnRef("origin_city")),
)
DAILY = DatasetRef(
    "postgres://warehouse:5432",
    "public.daily_delays",
    columns=(ColumnRef("carrier"), ColumnRef("mean_delay")),
)


def make_dataset(project: Project, name: str, **fields: Any) -> Any:
    """A ``datasets.Dataset`` row with an optional first version (``columns`` as (name, type) pairs)."""
    from modelworks.datasets.models import Dataset, DatasetVersion

    columns = fields.pop("columns", None)
    dataset = Dataset.objects.create(project=project, name=name, **fields)
    if columns is not None:
        DatasetVersion.objects.create(
            dataset=dataset,
            number=1,
            object_id=f"obj{dataset.pk:08d}{len(name):04d}",
            content_hash="sha256:" + "0" * 64,
            row_count=1000,
            byte_size=4096,
            schema=[{"name": n, "type": t, "nullable": True} for n, t in columns],
            how="upload",
        )
    return dataset


def record_pipeline(project: Project) -> None:
    """raw_flights + airports → clean → clean_flights → aggregate → daily_delays, with column edges."""
    record_run(
        project,
        "clean",
        inputs=[RAW, AIRPORTS],
        outputs=[CLEAN],
        column_lineage=[
            ColumnEdge(CLEAN, "carrier", [ColumnInput(RAW, "carrier", "DIRECT", "IDENTITY")]),
            ColumnEdge(CLEAN, "delay_minutes", [ColumnInput(RAW, "dep_delay", "DIRECT", "TRANSFORMATION")]),
            ColumnEdge(
                CLEAN,
                "origin_city",
                [
                    ColumnInput(AIRPORTS, "city", "DIRECT", "IDENTITY"),
                    ColumnInput(RAW, "origin", "INDIRECT", "JOIN"),
                ],
            ),
        ],
    )
    record_run(
        project,
        "aggregate",
        inputs=[CLEAN],
        outputs=[DAILY],
        column_lineage=[
            ColumnEdge(DAILY, "carrier", [ColumnInput(CLEAN, "carrier", "INDIRECT", "GROUP_BY")]),
            ColumnEdge(DAILY, "mean_delay", [ColumnInput(CLEAN, "delay_minutes", "DIRECT", "AGGREGATION")]),
        ],
    )


def run_event(
    namespace: str = "flight-delays",
    job: str = "etl.load_flights",
    *,
    event_type: str = "COMPLETE",
    run_id: str = "3f5e2c3a-1b7e-4d0a-9a53-2d6c0f9a1e01",
    **overrides: Any,
) -> dict[str, Any]:
    """An OpenLineage RunEvent as the Python client serialises it: two inputs, one output with a
    schema and column lineage, a SQL job facet."""
    event: dict[str, Any] = {
        "eventType": event_type,
        "eventTime": "2026-11-20T08:15:00.000Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": {}},
        "job": {
            "namespace": namespace,
            "name": job,
            "facets": {
                "sql": {
                    "_producer": "test",
                    "_schemaURL": "x",
                    "query": "INSERT INTO clean SELECT * FROM raw",
                },
                "documentation": {"_producer": "test", "_schemaURL": "x", "description": "Nightly load."},
            },
        },
        "inputs": [
            {
                "namespace": "postgres://warehouse:5432",
                "name": "public.raw_flights",
                "facets": {
                    "schema": {
                        "_producer": "t",
                        "_schemaURL": "x",
                        "fields": [{"name": "dep_delay", "type": "int"}],
                    }
                },
            }
        ],
        "outputs": [
            {
                "namespace": "postgres://warehouse:5432",
                "name": "public.clean_flights",
                "facets": {
                    "schema": {
                        "_producer": "t",
                        "_schemaURL": "x",
                        "fields": [{"name": "delay", "type": "int"}],
                    },
                    "columnLineage": {
                        "_producer": "t",
                        "_schemaURL": "x",
                        "fields": {
                            "delay": {
                                "inputFields": [
                                    {
                                        "namespace": "postgres://warehouse:5432",
                                        "name": "public.raw_flights",
                                        "field": "dep_delay",
                                        "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}],
                                    }
                                ]
                            }
                        },
                    },
                },
            }
        ],
    }
    event.update(overrides)
    return event
