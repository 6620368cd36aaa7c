"""API schemas of the catalog and the lineage store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from modelworks.core.schemas import ProjectScopedOut

__all__ = [
    "CatalogFacetOut",
    "CatalogFacetsOut",
    "CatalogHitOut",
    "CatalogSearchOut",
    "ColumnEdgeOut",
    "ColumnLineageOut",
    "ColumnRefOut",
    "LineageDatasetOut",
    "LineageEdgeOut",
    "LineageGraphOut",
    "LineageIngestOut",
    "LineageJobOut",
    "LineageNodeOut",
    "LineageRunOut",
]


class LineageDatasetOut(ProjectScopedOut):
    """A dataset node of the lineage graph."""

    id: int
    namespace: str
    name: str
    label: str = Field(description="The name people know: a linked Modelworks dataset's current name.")
    dataset_id: int | None = Field(description="The Modelworks dataset this node stands for, if any.")
    description: str
    columns: list[dict[str, Any]] = Field(description="Schema as reported: [{name, type, description}].")
    source_name: str
    source_uri: str


class LineageRunOut(Schema):
    run_id: str
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    last_event_at: datetime | None

    @staticmethod
    def resolve_run_id(obj: Any) -> str:
        return str(obj.run_id)


class LineageJobOut(ProjectScopedOut):
    """A job node of the lineage graph, with its latest runs."""

    id: int
    namespace: str
    name: str
    kind: str = Field(description="internal (Modelworks) or openlineage (an external producer).")
    description: str
    sql: str
    sql_dialect: str
    job_type: str
    latest_runs: list[LineageRunOut] = Field(default_factory=list, description="Newest first, at most 20.")

    @staticmethod
    def resolve_latest_runs(obj: Any) -> list[Any]:
        return list(obj.runs.order_by("-created_at", "-id")[:20])


class LineageNodeOut(Schema):
    """A node of a graph: ``key`` is ``dataset:<id>`` or ``job:<id>``."""

    key: str
    kind: str
    id: int
    namespace: str
    name: str
    label: str
    dataset_id: int | None = None


class LineageEdgeOut(Schema):
    """Data flows from ``source`` to ``target`` (node keys)."""

    source: str
    target: str


class LineageGraphOut(Schema):
    root: str | None
    depth: int | None
    direction: str
    nodes: list[LineageNodeOut]
    edges: list[LineageEdgeOut]
    truncated: bool = Field(description="True when more nodes were in reach than the limit allows.")


class ColumnRefOut(Schema):
    dataset: int = Field(description="Id of the dataset node.")
    namespace: str
    name: str
    column: str


class ColumnEdgeOut(Schema):
    """``output`` is derived from ``input``; ``depth`` is the number of steps from the traced column."""

    output: ColumnRefOut
    input: ColumnRefOut
    transformation_type: str
    transformation_subtype: str
    description: str
    masking: bool
    job: str | None
    depth: int


class ColumnLineageOut(Schema):
    dataset: int
    column: str | None = Field(
        description="The traced column; null when every column's direct edges are listed."
    )
    upstream: list[ColumnEdgeOut]
    downstream: list[ColumnEdgeOut]
    truncated: bool


class LineageIngestOut(Schema):
    """What was stored for one OpenLineage event."""

    id: int = Field(description="Id of the stored raw event.")
    project: str
    kind: str = Field(description="RunEvent, JobEvent or DatasetEvent.")
    event_type: str
    job: str | None
    run_id: str | None


class CatalogFacetOut(Schema):
    value: str
    label: str
    count: int
    selected: bool


class CatalogFacetsOut(Schema):
    projects: list[CatalogFacetOut]
    tags: list[CatalogFacetOut]
    owners: list[CatalogFacetOut]


class CatalogHitOut(Schema):
    """One dataset found by the catalog search."""

    id: int
    project: str
    project_name: str
    name: str
    description: str
    tags: list[str]
    owner: str | None
    matched_columns: list[str] = Field(description="Columns whose name or description matched the query.")
    latest_version: int | None
    row_count: int | None
    quality_status: str | None
    url: str = Field(description="The dataset's page.")
    documentation_url: str = Field(description="The dataset's documentation page (columns, lineage, usage).")


class CatalogSearchOut(Schema):
    items: list[CatalogHitOut]
    count: int
    limit: int
    offset: int
    facets: CatalogFacetsOut
