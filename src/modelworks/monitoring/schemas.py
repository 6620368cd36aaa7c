"""API schemas of the monitoring app: monitors, their points, alerts and back-tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas import InputSchema, ProjectScopedOut, UserRef

__all__ = [
    "AlertOut",
    "BacktestIn",
    "BacktestOut",
    "ComputeIn",
    "JobRef",
    "MonitorIn",
    "MonitorOut",
    "MonitorPatch",
    "PointOut",
]

WindowName = Literal["day", "week", "month"]
LabelsName = Literal["none", "feedback", "dataset"]


class MonitorSettings(InputSchema):
    description: str | None = None
    reference_dataset: int | None = Field(
        None, description="Dataset id of the reference data; omitted: the model version's training data."
    )
    reference_version: int | None = Field(
        None, description="Version number in that dataset; omitted: current."
    )
    target_column: str | None = Field(
        None, description="Reference column with the outcome, for prediction drift."
    )
    features: list[str] | None = Field(
        None, description="Columns watched; empty: the model signature's inputs."
    )
    window: WindowName | None = None
    labels_source: LabelsName | None = None
    labels_dataset: int | None = Field(
        None, description="Dataset id holding true labels (labels_source=dataset)."
    )
    labels_id_column: str | None = Field(None, description="Its column matched with the log's row_id.")
    labels_label_column: str | None = Field(None, description="Its column holding the true label.")
    drift_tests: dict[str, str] | None = Field(
        None, description="Feature → psi, ks, wasserstein, chisquare or jensenshannon."
    )
    drift_thresholds: dict[str, float] | None = Field(None, description="Feature → threshold.")
    performance_metric: str | None = Field(None, description="Metric watched; empty: the task's default.")
    performance_margin: float | None = Field(
        None, description="Relative drop from the registered metric (0.1 = 10 %)."
    )
    quality_tolerance: float | None = Field(
        None, description="Share of rows with a quality problem tolerated."
    )
    webhook_url: str | None = Field(None, description="Allow-listed https address receiving alerts.")
    email_recipients: list[str] | None = None
    enabled: bool | None = None


class MonitorIn(MonitorSettings):
    name: str
    deployment: str | None = Field(None, description="Name of the deployment to watch.")
    recipe: str | None = Field(None, description="Name of the batch-scoring ('score') recipe to watch.")


class MonitorPatch(MonitorSettings):
    name: str | None = None


class ComputeIn(InputSchema):
    recompute: bool = Field(False, description="Compute every window again, not only the new ones.")


class JobRef(Schema):
    job: str


class MonitorOut(ProjectScopedOut):
    id: int
    name: str
    description: str
    source: dict[str, Any]
    reference: dict[str, Any] | None
    target_column: str
    features: list[str]
    window: WindowName
    labels_source: LabelsName
    labels_dataset: int | None = Field(None, alias="labels_dataset_id")
    labels_id_column: str
    labels_label_column: str
    drift_tests: dict[str, str]
    drift_thresholds: dict[str, float]
    performance_metric: str
    performance_margin: float
    quality_tolerance: float
    webhook_url: str
    email_recipients: list[str]
    enabled: bool
    health: Literal["ok", "alert", "error", "pending"]
    computed_until: datetime | None
    last_computed_at: datetime | None
    last_error: str
    last_job: str | None

    @staticmethod
    def resolve_source(obj: Any) -> dict[str, Any]:
        if obj.deployment_id:
            return {"kind": "deployment", "id": obj.deployment_id, "name": obj.deployment.name}
        return {"kind": "recipe", "id": obj.recipe_id, "name": obj.recipe.name}

    @staticmethod
    def resolve_reference(obj: Any) -> dict[str, Any] | None:
        version = obj.reference_version
        if version is None:
            return None
        return {
            "dataset": version.dataset_id,
            "dataset_name": version.dataset.name,
            "version": version.number,
        }

    @staticmethod
    def resolve_last_job(obj: Any) -> str | None:
        return str(obj.last_job_id) if obj.last_job_id else None


class PointOut(Schema):
    window_start: datetime
    window_end: datetime
    metric: str
    feature: str
    test: str
    value: float | None
    p_value: float | None
    threshold: float | None
    breached: bool
    details: dict[str, Any]


class AlertOut(ProjectScopedOut):
    id: int
    monitor: int = Field(alias="monitor_id")
    monitor_name: str
    metric: str
    feature: str
    test: str
    window_start: datetime
    last_window_end: datetime
    windows: int
    value: float | None
    threshold: float | None
    message: str
    status: Literal["open", "acknowledged", "resolved"]
    acknowledged_by: UserRef | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    notifications: list[dict[str, Any]]

    @staticmethod
    def resolve_monitor_name(obj: Any) -> str:
        return obj.monitor.name


class BacktestIn(InputSchema):
    name: str
    dataset: int = Field(description="Id of the labelled dataset.")
    version: int | None = Field(None, description="Its version number; omitted: the current version.")
    time_column: str
    target_column: str
    model_versions: list[str] = Field(description="Versions to compare, as 'model/n' or 'model@alias'.")
    window: WindowName = "month"
    metric: str = ""


class BacktestOut(ProjectScopedOut):
    id: int
    name: str
    dataset_version: dict[str, Any] | None
    time_column: str
    target_column: str
    window: WindowName
    metric: str
    model_versions: list[str]
    status: Literal["queued", "running", "succeeded", "failed"]
    error: str
    result: dict[str, Any]
    job: str | None
    created_by: UserRef | None

    @staticmethod
    def resolve_dataset_version(obj: Any) -> dict[str, Any] | None:
        version = obj.dataset_version
        if version is None:
            return None
        return {
            "dataset": version.dataset_id,
            "dataset_name": version.dataset.name,
            "version": version.number,
        }

    @staticmethod
    def resolve_model_versions(obj: Any) -> list[str]:
        return [f"{v.registered_model.name}/{v.version}" for v in obj.model_versions.all()]

    @staticmethod
    def resolve_job(obj: Any) -> str | None:
        return str(obj.job_id) if obj.job_id else None
