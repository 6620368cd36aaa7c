"""The OpenLineage event formats (spec 2-0-x) as validation models.

Only what Modelworks uses is checked strictly: the envelope (event time, producer), the job, the
run, the datasets' namespace and name, and the facets it stores (``schema``, ``columnLineage``,
``dataSource``, ``documentation``, ``sql``, ``jobType``). Every other facet, and every field the
spec may add later, is accepted as it is and kept in the raw event.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from modelworks.catalog.models.lineage import NAME_MAX_LENGTH

__all__ = ["DatasetEvent", "JobEvent", "OLDataset", "OLJob", "RunEvent", "event_kind"]

Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH, pattern=r"^[^\x00]*$")]
Text = Annotated[str, StringConstraints(max_length=1_000_000)]

# Facets we model, per place: a facet sent as {"_deleted": true} removes the stored one.
_KNOWN_DATASET_FACETS = ("schema", "columnLineage", "dataSource", "documentation")
_KNOWN_JOB_FACETS = ("sql", "documentation", "jobType")


class _Open(BaseModel):
    """Unknown fields are kept: producers add their own, and the spec grows."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _drop_deleted(values: Any, known: tuple[str, ...]) -> Any:
    if isinstance(values, dict):
        return {
            k: (None if k in known and isinstance(v, dict) and v.get("_deleted") is True else v)
            for k, v in values.items()
        }
    return values


class SchemaField(_Open):
    name: Name
    type: str | None = None
    description: str | None = None
    fields: list[SchemaField] | None = Field(None, description="Nested fields of a struct.")


class SchemaFacet(_Open):
    fields: list[SchemaField] | None = None


class Transformation(_Open):
    type: str = Field("DIRECT", max_length=32)
    subtype: str | None = Field(None, max_length=32)
    description: Text | None = None
    masking: bool | None = None


class InputField(_Open):
    namespace: Name
    name: Name
    field: Name
    transformations: list[Transformation] | None = None


class ColumnLineageField(_Open):
    inputFields: list[InputField]
    transformationDescription: Text | None = None
    transformationType: str | None = None


class ColumnLineageFacet(_Open):
    fields: dict[Name, ColumnLineageField]


class DataSourceFacet(_Open):
    name: str | None = Field(None, max_length=NAME_MAX_LENGTH)
    uri: str | None = Field(None, max_length=2000)


class DocumentationFacet(_Open):
    description: Text


class SqlFacet(_Open):
    query: Text
    dialect: str | None = Field(None, max_length=100)


class JobTypeFacet(_Open):
    processingType: str | None = None
    integration: str | None = None
    jobType: str | None = None


class DatasetFacets(_Open):
    schema_: SchemaFacet | None = Field(None, alias="schema")
    columnLineage: ColumnLineageFacet | None = None
    dataSource: DataSourceFacet | None = None
    documentation: DocumentationFacet | None = None

    @model_validator(mode="before")
    @classmethod
    def _deleted(cls, values: Any) -> Any:
        return _drop_deleted(values, _KNOWN_DATASET_FACETS)


class JobFacets(_Open):
    sql: SqlFacet | None = None
    documentation: DocumentationFacet | None = None
    jobType: JobTypeFacet | None = None

    @model_validator(mode="before")
    @classmethod
    def _deleted(cls, values: Any) -> Any:
        return _drop_deleted(values, _KNOWN_JOB_FACETS)


class OLDataset(_Open):
    namespace: Name
    name: Name
    facets: DatasetFacets = Field(default_factory=DatasetFacets)
    inputFacets: dict[str, Any] = Field(default_factory=dict)
    outputFacets: dict[str, Any] = Field(default_factory=dict)


class OLJob(_Open):
    namespace: Name
    name: Name
    facets: JobFacets = Field(default_factory=JobFacets)


class OLRun(_Open):
    runId: uuid.UUID
    facets: dict[str, Any] = Field(default_factory=dict)


class _Event(_Open):
    eventTime: AwareDatetime
    producer: str = Field(min_length=1, max_length=2000)
    schemaURL: str | None = Field(None, max_length=2000)


class RunEvent(_Event):
    eventType: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] | None = None
    run: OLRun
    job: OLJob
    inputs: list[OLDataset] = Field(default_factory=list, max_length=10_000)
    outputs: list[OLDataset] = Field(default_factory=list, max_length=10_000)


class JobEvent(_Event):
    job: OLJob
    inputs: list[OLDataset] = Field(default_factory=list, max_length=10_000)
    outputs: list[OLDataset] = Field(default_factory=list, max_length=10_000)


class DatasetEvent(_Event):
    dataset: OLDataset


def event_kind(payload: dict[str, Any]) -> type[RunEvent] | type[JobEvent] | type[DatasetEvent] | None:
    """Which event a JSON object is, by its shape (as the spec's ``oneOf`` tells them apart)."""
    if "run" in payload:
        return RunEvent
    if "dataset" in payload:
        return DatasetEvent
    if "job" in payload:
        return JobEvent
    return None
