"""API schemas of the deployments app: deployments with their targets, endpoint tokens, feedback
and recent predictions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas import InputSchema, ProjectScopedOut

__all__ = [
    "DeploymentIn",
    "DeploymentOut",
    "DeploymentPatch",
    "FeedbackOut",
    "PredictionsOut",
    "TargetIn",
    "TargetOut",
    "TokenCreatedOut",
    "TokenIn",
    "TokenOut",
]

ModeName = Literal["single", "ab", "shadow"]
RoleName = Literal["primary", "challenger", "shadow"]


class TargetIn(InputSchema):
    model: str = Field(description="Name of a registered model of the project.")
    alias: str = Field("", description="Follow this alias (e.g. 'champion'); promotions take effect at once.")
    version: int | None = Field(None, description="Or pin this version number.")
    role: RoleName = "primary"
    weight: int | None = Field(
        None, description="Percent of traffic in an A/B split (the weights add up to 100)."
    )


class TargetOut(Schema):
    id: int
    role: RoleName
    weight: int
    model: str
    alias: str = Field(description="The alias followed; empty when pinned.")
    pinned_version: int | None
    version: int | None = Field(description="The version served now; null when the alias no longer exists.")
    version_id: int | None
    reference: str = Field(description="'model@alias' or 'model/v3'.")


class DeploymentIn(InputSchema):
    name: str = Field(
        description="The endpoint: /score/<name>. Lowercase letters, digits, hyphens; unique on the instance."
    )
    title: str = ""
    description: str = ""
    mode: ModeName = "single"
    targets: list[TargetIn]
    log_sample_rate: float = Field(1.0, description="Share of requests logged, 0 to 1.")
    max_rows: int | None = Field(
        None, description="Largest batch per request (default: the instance's limit)."
    )
    id_column: str = Field("", description="Input column holding your row ID, matched with feedback later.")
    explain_allowed: bool = False


class DeploymentPatch(InputSchema):
    title: str | None = None
    description: str | None = None
    mode: ModeName | None = None
    targets: list[TargetIn] | None = Field(None, description="Replaces all targets.")
    log_sample_rate: float | None = None
    max_rows: int | None = None
    id_column: str | None = None
    explain_allowed: bool | None = None


class DeploymentOut(ProjectScopedOut):
    id: int
    name: str
    title: str
    description: str
    mode: ModeName
    status: Literal["active", "paused"]
    log_sample_rate: float
    max_rows: int
    id_column: str
    explain_allowed: bool
    created_by: str | None
    endpoint_path: str = Field(description="Path on the scoring service, e.g. /score/late-departures.")
    targets: list[TargetOut]

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by_id else None

    @staticmethod
    def resolve_endpoint_path(obj: Any) -> str:
        return f"/score/{obj.name}"

    @staticmethod
    def resolve_targets(obj: Any) -> list[Any]:
        from modelworks.deployments.services.queries import target_views

        return target_views(obj)


class TokenIn(InputSchema):
    name: str = Field(description="Who calls with it, e.g. 'billing app'.")
    expires_in_days: int | None = Field(
        None, description="1 to 3650; none: never expires (revoke it instead)."
    )


class TokenOut(Schema):
    id: int
    name: str
    key_prefix: str
    status: Literal["active", "expired", "revoked"]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by_id else None


class TokenCreatedOut(TokenOut):
    token: str = Field(
        description="The secret, shown this once: store it now. Send it as 'Authorization: Bearer <token>'."
    )


class FeedbackOut(Schema):
    received: int
    created: int
    updated: int


class PredictionRowOut(Schema):
    ts: datetime
    row_id: str
    request_id: str
    model_version: str
    role: str
    answered: bool
    prediction: str | None
    prediction_value: float | None
    probabilities: dict[str, float] | None
    latency_ms: float | None
    inputs: dict[str, Any]


class PredictionsOut(Schema):
    rows: list[PredictionRowOut]
    features: list[str]
    since: datetime | None
    note: str
