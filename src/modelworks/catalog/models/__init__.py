"""Catalog and lineage models. Each module holds one topic; import from here."""

from __future__ import annotations

from modelworks.catalog.models.lineage import (
    INTERNAL_NAMESPACE_PREFIX,
    ColumnLineageEdge,
    EdgeDirection,
    JobKind,
    LineageDataset,
    LineageEdge,
    LineageEvent,
    LineageJob,
    LineageRun,
    RunState,
    internal_namespace,
    node_key,
)
from modelworks.catalog.models.search import CatalogColumn, CatalogTag

__all__ = [
    "INTERNAL_NAMESPACE_PREFIX",
    "CatalogColumn",
    "CatalogTag",
    "ColumnLineageEdge",
    "EdgeDirection",
    "JobKind",
    "LineageDataset",
    "LineageEdge",
    "LineageEvent",
    "LineageJob",
    "LineageRun",
    "RunState",
    "internal_namespace",
    "node_key",
]
