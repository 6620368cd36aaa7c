"""API schemas of datasets, versions, rows, profiles and quality rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas import InputSchema, JobOut, ProjectScopedOut, UserRef

__all__ = [
    "ColumnOut",
    "ConnectionImportIn",
    "DatasetOut",
    "DatasetPatch",
    "ImportOptionsIn",
    "PinIn",
    "ProfileOut",
    "QualityResultOut",
    "QualityRunIn",
    "QualityRunOut",
    "ReimportIn",
    "RowsOut",
    "RuleIn",
    "RuleOut",
    "RulePatch",
    "VersionOut",
]

TypeName = Literal["string", "integer", "float", "boolean", "date", "timestamp", "time"]


class ColumnOut(Schema):
    name: str
    type: str = Field(
        description="Logical type: integer, float, decimal, string, boolean, date, timestamp, time…"
    )
    physical_type: str
    nullable: bool


class VersionOut(Schema):
    number: int
    content_hash: str
    row_count: int
    byte_size: int
    columns: list[ColumnOut]
    how: Literal["upload", "connection_table", "sql_query", "s3_path", "recipe"]
    how_details: dict[str, Any] = Field(description="File name, table, query or S3 path; never credentials.")
    source_format: dict[str, Any]
    import_report: dict[str, Any]
    created_by: UserRef | None
    created_at: datetime
    quality_status: Literal["not_run", "passed", "warning", "blocked"]
    usable: bool = Field(description="False when a blocking quality rule failed (or has not run yet).")
    job_id: str | None
    location: dict[str, Any] | None = Field(
        None,
        description="connection_id, connection (its name), schema and table: the PostgreSQL table this "
        "version lives in (a linked import, or a recipe output stored "
        "in a connection); recipes run there when their inputs and outputs share the connection. The "
        "version's rows, profile and quality come from its Parquet snapshot, taken when it was made. "
        "Null: Modelworks storage only.",
    )

    @staticmethod
    def resolve_columns(obj: Any) -> list[dict[str, Any]]:
        return list(obj.schema)

    @staticmethod
    def resolve_location(obj: Any) -> dict[str, Any] | None:
        from modelworks.connections.models import Connection

        if not obj.location:
            return None
        name = Connection.objects.filter(pk=obj.location.get("connection_id")).values_list("name", flat=True)
        return {**obj.location, "connection": next(iter(name), "")}

    @staticmethod
    def resolve_how_details(obj: Any) -> dict[str, Any]:
        return {k: v for k, v in obj.how_details.items() if k != "source_object_id"}

    @staticmethod
    def resolve_job_id(obj: Any) -> str | None:
        return str(obj.job_id) if obj.job_id else None


class DatasetOut(ProjectScopedOut):
    id: int
    name: str
    description: str
    tags: list[str]
    owner: UserRef | None
    column_descriptions: dict[str, str]
    source_kind: str
    source_connection_id: int | None
    pinned_version: int | None = Field(description="Number of the pinned version; null: the latest is used.")
    current_version: VersionOut | None = Field(description="The pinned version, else the latest.")
    version_count: int

    @staticmethod
    def resolve_pinned_version(obj: Any) -> int | None:
        return obj.pinned_version.number if obj.pinned_version_id else None

    @staticmethod
    def resolve_version_count(obj: Any) -> int:
        return obj.versions.count()


class DatasetPatch(InputSchema):
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    owner: str | None = Field(None, description="Username; empty string for no owner.")
    column_descriptions: dict[str, str] | None = None


class ImportOptionsIn(InputSchema):
    format: Literal["csv", "tsv", "parquet", "xlsx", "jsonl"] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header: bool | None = None
    sheet: str | int | None = None
    types: dict[str, TypeName] = Field(
        default_factory=dict, description="Column → type, overriding inference."
    )
    bad_rows: Literal["error", "skip"] | None = None
    duplicate_headers: Literal["rename", "reject"] | None = None
    header_rows: int | None = Field(
        None, ge=1, le=10, description="Rows the header spans, joined into one name: 'Sales 2024 / Q1'."
    )
    skip_rows: int | None = Field(
        None, ge=0, le=100_000, description="Rows above the table to leave out (a title, notes)."
    )


class ConnectionImportIn(InputSchema):
    connection_id: int
    table: str | None = Field(None, description="PostgreSQL: schema.table.")
    query: str | None = Field(None, description="PostgreSQL: one read-only SELECT statement.")
    path: str | None = Field(None, description="S3: the object key.")
    name: str | None = Field(None, description="Name of a new dataset (or give dataset_id).")
    dataset_id: int | None = Field(None, description="Add a version to this dataset instead.")
    description: str = ""
    options: ImportOptionsIn = Field(default_factory=ImportOptionsIn)
    keep_in_database: bool = Field(
        False,
        description="PostgreSQL tables only: keep the data in the database (a linked import). Recipes on "
        "the dataset whose outputs are stored in the same connection then run inside PostgreSQL, on the "
        "live table; a Parquet snapshot is still taken for exploring, profiling and other recipes.",
    )


class ReimportIn(InputSchema):
    version: int | None = Field(None, description="Version whose source is read again (default: the latest).")
    types: dict[str, TypeName] = Field(description="Column → type for the new version.")


class PinIn(InputSchema):
    version: int | None = Field(description="Version number to pin; null unpins.")


class RowsOut(Schema):
    columns: list[ColumnOut]
    rows: list[list[Any]]
    total: int = Field(description="Rows matching the filters.")
    offset: int
    limit: int
    elapsed: float


class ProfileOut(Schema):
    version: int
    computed_at: datetime
    profile: dict[str, Any] = Field(
        description="row_count, columns (statistics, histogram, top values, semantic type)."
    )


class RuleIn(InputSchema):
    kind: Literal[
        "not_null", "unique", "range", "allowed_values", "regex", "row_count", "freshness", "custom_sql"
    ]
    params: dict[str, Any] = Field(description='e.g. {"column": "age", "min": 0, "max": 120}.')
    blocking: bool = False
    name: str = ""


class RulePatch(InputSchema):
    name: str | None = None
    params: dict[str, Any] | None = None
    blocking: bool | None = None
    enabled: bool | None = None


class RuleOut(Schema):
    id: int
    name: str
    kind: str
    params: dict[str, Any]
    blocking: bool
    enabled: bool
    created_at: datetime


class QualityResultOut(Schema):
    rule_id: int | None
    rule_description: str
    kind: str
    blocking: bool
    status: Literal["passed", "failed", "error"]
    message: str
    failing_count: int
    failing_sample: list[dict[str, Any]]


class QualityRunOut(Schema):
    id: int
    version: int
    trigger: str
    status: str
    passed: int
    failed: int
    created_at: datetime
    results: list[QualityResultOut]

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return obj.version.number

    @staticmethod
    def resolve_results(obj: Any) -> list[Any]:
        return list(obj.results.all())


class QualityRunIn(InputSchema):
    version: int | None = Field(None, description="Version to check (default: the current one).")


class ImportJobOut(JobOut):
    """The import job; follow it with GET /jobs/{id}. Its result names the dataset and version."""
