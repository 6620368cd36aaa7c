"""API schemas of the Lab: analyses (the design), training sessions (leaderboard, evaluation,
explanations) and what-if answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas import InputSchema, ProjectScopedOut, UserRef

__all__ = [
    "AnalysisIn",
    "AnalysisOut",
    "AnalysisPatch",
    "FeatureChange",
    "RegisterIn",
    "SessionOut",
    "SessionSummaryOut",
    "WhatIfOut",
]

TaskName = Literal["binary", "multiclass", "regression"]
SessionStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class AnalysisIn(InputSchema):
    name: str = Field(description="Unique in the project.")
    dataset: int = Field(description="The dataset's id; its current version is used.")
    target: str = Field(description="The column to predict.")
    task: TaskName | None = Field(None, description="Proposed from the target's values when omitted.")
    time_column: str = Field("", description="A date or timestamp column for a time-based validation.")


class FeatureChange(InputSchema):
    column: str
    kind: Literal["numeric", "categorical", "text", "date", "drop"] | None = None
    impute: Literal["mean", "median", "most_frequent", "constant", "none"] | None = None
    encode: Literal["onehot", "ordinal", "none"] | None = None
    scale: bool | None = None


class ValidationIn(InputSchema):
    kind: Literal["kfold", "time"] = "kfold"
    folds: int = 5
    holdout_fraction: float = 0.2


class AnalysisPatch(InputSchema):
    name: str | None = None
    description: str | None = None
    features: list[FeatureChange] | None = Field(None, description="Changes of some columns' handling.")
    algorithms: list[str] | None = None
    time_budget_s: int | None = None
    max_trials: int | None = None
    validation: ValidationIn | None = None
    metric: str | None = None
    time_column: str | None = None


class SessionSummaryOut(Schema):
    number: int
    status: SessionStatusName
    error: str
    job: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    best_algorithm: str | None
    best_score: float | None

    @staticmethod
    def resolve_job(obj: Any) -> str | None:
        return str(obj.job_id) if obj.job_id else None

    @staticmethod
    def resolve_best_algorithm(obj: Any) -> str | None:
        return (obj.best_trial or {}).get("algorithm")

    @staticmethod
    def resolve_best_score(obj: Any) -> float | None:
        return (obj.best_trial or {}).get("score")


class AnalysisOut(ProjectScopedOut):
    id: int
    name: str
    description: str
    dataset: int | None
    dataset_name: str | None
    target: str
    task: TaskName
    time_column: str
    features: list[dict[str, Any]] = Field(description="Handling of every column, with the reason.")
    algorithms: list[str]
    time_budget_s: int
    max_trials: int | None
    validation: dict[str, Any]
    metric: str
    checks: list[dict[str, Any]] = Field(description="Data checks: code, severity, message, column, hint.")
    can_train: bool = Field(description="False while an error-severity check stands.")
    created_by: UserRef | None
    latest_session: SessionSummaryOut | None

    @staticmethod
    def resolve_dataset(obj: Any) -> int | None:
        return obj.dataset_id

    @staticmethod
    def resolve_dataset_name(obj: Any) -> str | None:
        return obj.dataset.name if obj.dataset is not None else None

    @staticmethod
    def resolve_can_train(obj: Any) -> bool:
        return obj.dataset_id is not None and not obj.blocking_checks


class SessionOut(SessionSummaryOut):
    analysis: int
    dataset_version: int | None = Field(description="Number of the dataset version trained on.")
    rows_total: int | None
    rows_used: int | None
    progress: float | None
    progress_message: str
    spec: dict[str, Any]
    warnings: list[dict[str, Any]]
    experiment_id: str | None
    parent_run_id: str | None
    leaderboard: list[dict[str, Any]] = Field(description="Every trial: algorithm, params, scores, run_id.")
    best_trial: dict[str, Any] | None
    holdout: dict[str, Any] | None = Field(description="Metrics and curves on rows the model never saw.")
    explanations: dict[str, Any]
    classes: list[str] | None
    model_uri: str
    logged_model_id: str
    registered_model_name: str
    registered_version: int | None
    timings: dict[str, Any]

    @staticmethod
    def resolve_analysis(obj: Any) -> int:
        return obj.analysis_id

    @staticmethod
    def resolve_dataset_version(obj: Any) -> int | None:
        return obj.dataset_version.number if obj.dataset_version is not None else None

    @staticmethod
    def resolve_progress(obj: Any) -> float | None:
        return obj.job.progress if obj.job is not None else None

    @staticmethod
    def resolve_progress_message(obj: Any) -> str:
        return obj.job.progress_message if obj.job is not None else ""

    @staticmethod
    def resolve_experiment_id(obj: Any) -> str | None:
        return str(obj.experiment_id) if obj.experiment_id else None

    @staticmethod
    def resolve_parent_run_id(obj: Any) -> str | None:
        return obj.parent_run_id or None


class WhatIfOut(Schema):
    row: dict[str, Any]
    prediction: Any
    probabilities: dict[str, float | None] | None
    contributions: list[list[Any]] = Field(description="[column, value, contribution], largest first.")
    method: str
    base_value: float | None
    output: str


class RegisterIn(InputSchema):
    name: str = Field(description="The registered model's name (created when new).")
    alias: str = Field("", description="Optional alias to point at the new version, e.g. 'challenger'.")
