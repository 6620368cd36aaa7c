"""How callers of the lineage API name datasets and column derivations.

A ``DatasetRef`` names a dataset as OpenLineage does, by namespace and name; ``DatasetRef.of(dataset)``
names a Modelworks dataset (namespace ``modelworks://<project slug>``, linked to the dataset itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelworks.catalog.models import internal_namespace

__all__ = ["ColumnEdge", "ColumnInput", "ColumnRef", "DatasetRef", "as_ref"]


@dataclass(frozen=True)
class ColumnRef:
    """A column of a dataset's schema."""

    name: str
    type: str = ""
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "description": self.description}


@dataclass(frozen=True)
class DatasetRef:
    """A dataset as a lineage node.

    Attributes:
        namespace: where it lives, e.g. ``postgres://db:5432`` or ``s3://bucket``.
        name: its name in the namespace, e.g. ``public.flights``.
        columns: its schema, when known (``None``: unknown, keep what is stored).
        description: what it holds, when known.
        source_name / source_uri: the data source (OpenLineage ``dataSource`` facet).
        dataset_id: the Modelworks dataset it stands for, if any.
        facets: the facets as reported (kept as they are).
    """

    namespace: str
    name: str
    columns: tuple[ColumnRef, ...] | None = None
    description: str = ""
    source_name: str = ""
    source_uri: str = ""
    dataset_id: int | None = None
    facets: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, dataset: Any) -> DatasetRef:
        """The ref of a Modelworks dataset (a ``datasets.Dataset``), with its current schema."""
        version = dataset.current_version
        described = dataset.column_descriptions or {}
        columns = None
        if version is not None:
            columns = tuple(
                ColumnRef(str(c["name"]), str(c.get("type", "")), str(described.get(c["name"], "")))
                for c in version.schema
            )
        return cls(
            namespace=internal_namespace(dataset.project.slug),
            name=dataset.name,
            columns=columns,
            description=dataset.description,
            dataset_id=dataset.pk,
        )

    @property
    def identity(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def as_ref(value: DatasetRef | Any) -> DatasetRef:
    """A ``DatasetRef`` from a ref or a Modelworks dataset."""
    if isinstance(value, DatasetRef):
        return value
    if hasattr(value, "project") and hasattr(value, "versions"):
        return DatasetRef.of(value)
    raise TypeError(f"expected a DatasetRef or a datasets.Dataset, got {type(value).__name__}")


@dataclass(frozen=True)
class ColumnInput:
    """One input column of a derived column, and how it was used.

    ``transformation_type`` is ``DIRECT`` (the value comes from it) or ``INDIRECT`` (it filters,
    joins, groups or sorts); ``transformation_subtype`` says more (IDENTITY, TRANSFORMATION,
    AGGREGATION, FILTER, JOIN, GROUP_BY, SORT, WINDOW, CONDITIONAL).
    """

    dataset: DatasetRef | Any
    column: str
    transformation_type: str = "DIRECT"
    transformation_subtype: str = ""
    description: str = ""
    masking: bool = False


@dataclass(frozen=True)
class ColumnEdge:
    """An output column and the input columns it is derived from."""

    output: DatasetRef | Any
    column: str
    inputs: Sequence[ColumnInput] = ()
