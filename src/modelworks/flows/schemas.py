"""API schemas of recipes, the flow, and builds."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas import InputSchema, ProjectScopedOut, UserRef

__all__ = [
    "BuildIn",
    "BuildOut",
    "BuildStepOut",
    "BuildSummaryOut",
    "DatasetLink",
    "FlowCheckOut",
    "FlowOut",
    "FlowProblemOut",
    "OutputIn",
    "OutputLink",
    "PreviewIn",
    "PreviewOut",
    "RecipeIn",
    "RecipeKindsOut",
    "RecipeOut",
    "RecipePatch",
]

RecipeKindName = Literal[
    "prepare",
    "join",
    "group",
    "window",
    "stack",
    "split",
    "sample",
    "sort",
    "distinct",
    "pivot",
    "top_n",
    "sql",
    "python",
    "score",
]
DatasetChoice = int | str
_DATASETS_HELP = "Dataset ids (numbers) or names (text), in order."


class DatasetLink(Schema):
    """A dataset as a recipe's input or output."""

    id: int
    name: str


class OutputIn(InputSchema):
    """An output with where its versions are stored."""

    name: DatasetChoice = Field(description="A dataset id, or the name of an existing or a new dataset.")
    connection_id: int | None = Field(
        None,
        description="A PostgreSQL connection of the project: each new version is also stored there as a "
        "new table (and recipes whose inputs live there too run inside it). Null: Modelworks storage only.",
    )
    schema_name: str | None = Field(
        None,
        alias="schema",
        description="The schema of that connection (default: modelworks; created if missing).",
    )
    virtual: bool = Field(
        False,
        description="Don't store it: the recipes that read it compute it on the fly inside their own "
        "query, so it never has versions (not for Python recipes, nor with a connection).",
    )


class OutputLink(DatasetLink):
    """A recipe output and where its versions are stored."""

    storage: dict[str, Any] | None = Field(
        description="connection_id, connection (its name) and schema when each version is also stored as "
        "a table of a PostgreSQL connection; null: Modelworks storage only."
    )
    virtual: bool = Field(
        False, description="Not stored: computed on the fly by the recipes that read it (no versions)."
    )


_OUTPUTS_HELP = (
    "Dataset ids, names of existing datasets no other recipe writes, or names of new datasets to create; "
    'or objects {"name", "connection_id", "schema", "virtual"} that also say where the versions are '
    'stored, or that it is not stored ("virtual": true). An output given by id or name keeps the '
    "storage it had."
)


class RecipeIn(InputSchema):
    name: str
    kind: RecipeKindName
    inputs: list[DatasetChoice] = Field(description=_DATASETS_HELP)
    outputs: list[DatasetChoice | OutputIn] = Field(description=_OUTPUTS_HELP)
    spec: dict[str, Any] = Field(default_factory=dict, description="The settings of the kind.")
    description: str = ""


class RecipePatch(InputSchema):
    name: str | None = None
    inputs: list[DatasetChoice] | None = Field(None, description=_DATASETS_HELP)
    outputs: list[DatasetChoice | OutputIn] | None = Field(None, description=_OUTPUTS_HELP)
    spec: dict[str, Any] | None = None
    description: str | None = None


class RecipeOut(ProjectScopedOut):
    id: int
    name: str
    kind: str
    spec: dict[str, Any]
    description: str
    spec_hash: str
    inputs: list[DatasetLink]
    outputs: list[OutputLink]
    created_by: UserRef | None
    updated_by: UserRef | None

    @staticmethod
    def resolve_inputs(obj: Any) -> list[Any]:
        return list(obj.input_datasets)

    @staticmethod
    def resolve_outputs(obj: Any) -> list[dict[str, Any]]:
        links = sorted(obj.output_links.all(), key=lambda link: link.position)  # prefetched
        return [
            {
                "id": link.dataset_id,
                "name": link.dataset.name,
                "storage": {
                    "connection_id": link.storage_connection_id,
                    "connection": link.storage_connection.name,
                    "schema": link.storage_schema,
                }
                if link.storage_connection_id
                else None,
                "virtual": link.virtual,
            }
            for link in links
        ]


class RecipeKindsOut(Schema):
    kinds: list[dict[str, Any]] = Field(description="Each kind: name, label, inputs and outputs, settings.")
    processors: list[dict[str, Any]] = Field(
        description="The processors of prepare recipes: name, label, category, help, params."
    )


class PreviewIn(InputSchema):
    kind: RecipeKindName
    inputs: list[DatasetChoice] = Field(description=_DATASETS_HELP)
    outputs: list[str] = Field(default_factory=lambda: ["preview"], description="Output names.")
    spec: dict[str, Any] = Field(default_factory=dict)
    output: str | None = Field(None, description="The output to show (default: the first).")
    limit: int = Field(100, ge=1, le=1000)


class PreviewOut(Schema):
    columns: list[dict[str, Any]] = Field(description="name and type of each column.")
    rows: list[list[Any]]
    row_count_sampled: int = Field(description="Rows of the output computed on the input samples.")
    log: str = Field("", description="What a Python recipe's code printed (empty for other kinds).")


class FlowProblemOut(Schema):
    recipe_id: int | None
    recipe: str
    code: str = Field(description="The engine error code, e.g. recipe_missing_column.")
    message: str
    details: dict[str, Any]


class FlowOut(Schema):
    datasets: list[dict[str, Any]] = Field(
        description="id, node, name, state (built, never_built, out_of_date, failed, blocked, virtual), is_source, "
        "version, rows."
    )
    recipes: list[dict[str, Any]] = Field(
        description="id, node, name, kind, inputs, outputs, last_build_status, last_build_id, up_to_date."
    )
    edges: list[dict[str, str]]
    layout: dict[str, Any] = Field(description="nodes (x, y, width, height…), edges (points), width, height.")
    problems: list[FlowProblemOut]


class FlowCheckOut(Schema):
    ok: bool
    problems: list[FlowProblemOut]


class BuildIn(InputSchema):
    targets: list[DatasetChoice] = Field(
        default_factory=list, description="Output datasets to bring up to date; empty: the whole flow."
    )
    force: bool = Field(False, description="Rebuild the recipes that are up to date too.")


class VersionLink(Schema):
    dataset_id: int
    dataset: str
    number: int
    row_count: int


class BuildStepOut(Schema):
    recipe_id: int | None
    recipe_name: str
    position: int
    status: str = Field(description="pending, running, succeeded, failed, skipped, cancelled, up_to_date.")
    reason: str
    engine: str
    fingerprint: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    rows: dict[str, int]
    log: str
    error: str
    error_details: dict[str, Any]
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="Findings of a succeeded step; join_report: {engine, counts: [{join, join_type, left, "
        "right, side, other, total_rows, unmatched_rows}], notes} for a join's unmatched rows.",
    )
    output_versions: list[VersionLink]

    @staticmethod
    def resolve_output_versions(obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "dataset_id": v.dataset_id,
                "dataset": v.dataset.name,
                "number": v.number,
                "row_count": v.row_count,
            }
            for v in obj.output_versions.all()
        ]


class BuildSummaryOut(ProjectScopedOut):
    id: int
    status: str = Field(description="queued, running, succeeded, failed, cancelled.")
    trigger: str
    force: bool
    targets: list[int]
    error: str
    job_id: str | None
    created_by: UserRef | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    step_counts: dict[str, int]

    @staticmethod
    def resolve_job_id(obj: Any) -> str | None:
        return str(obj.job_id) if obj.job_id else None

    @staticmethod
    def resolve_step_counts(obj: Any) -> dict[str, int]:
        counts: dict[str, int] = {}
        for step in obj.steps.all():
            counts[step.status] = counts.get(step.status, 0) + 1
        return counts


class BuildOut(BuildSummaryOut):
    plan: dict[str, Any]
    steps: list[BuildStepOut]

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        return list(obj.steps.all())
