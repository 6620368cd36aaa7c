"""The lineage store's Python API, which other domains call.

Record a run of a Modelworks job (a recipe of a flow, a training…)::

    from modelworks.catalog.lineage import ColumnEdge, ColumnInput, DatasetRef, record_run

    record_run(
        project,
        "recipe/prepare_flights",
        inputs=[raw_flights],                       # datasets.Dataset objects or DatasetRef
        outputs=[clean_flights],
        column_lineage=[ColumnEdge(clean_flights, "delay", [ColumnInput(raw_flights, "dep_delay")])],
        run_id=job.pk,                              # the same id again updates the same run
        state="completed",
    )

External producers send OpenLineage events to ``POST /api/v1/lineage`` (see ``lineage.ingest``);
both end in the same store. Read it with ``project_graph``, ``neighbourhood`` and ``trace_column``.
"""

from __future__ import annotations

from modelworks.catalog.errors import LineageError, RunConflictError
from modelworks.catalog.lineage.graph import (
    ColumnTrace,
    LineageGraph,
    neighbourhood,
    project_graph,
    trace_column,
)
from modelworks.catalog.lineage.refs import ColumnEdge, ColumnInput, ColumnRef, DatasetRef
from modelworks.catalog.lineage.store import JobSpec, record_dataset, record_job, record_run

__all__ = [
    "ColumnEdge",
    "ColumnInput",
    "ColumnRef",
    "ColumnTrace",
    "DatasetRef",
    "JobSpec",
    "LineageError",
    "LineageGraph",
    "RunConflictError",
    "neighbourhood",
    "project_graph",
    "record_dataset",
    "record_job",
    "record_run",
    "trace_column",
]
