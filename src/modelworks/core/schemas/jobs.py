"""Schemas of background jobs and their logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas.base import InputSchema

__all__ = ["JobIn", "JobLogLineOut", "JobOut", "JobStateName"]

JobStateName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobOut(Schema):
    id: str
    project: str | None = Field(description="Slug of the job's project; null for instance-level jobs.")
    kind: str
    title: str
    params: dict[str, Any]
    state: JobStateName
    progress: float = Field(description="0 to 100.")
    progress_message: str
    result: Any
    error: str
    created_by: str | None
    created_at: datetime
    run_after: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    attempt: int
    max_attempts: int
    cancel_requested: bool

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return str(obj.id)

    @staticmethod
    def resolve_project(obj: Any) -> str | None:
        return obj.project.slug if obj.project_id else None

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by_id else None


class JobIn(InputSchema):
    kind: str = Field(description="Registered job type, e.g. core.self_check.")
    title: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class JobLogLineOut(Schema):
    seq: int
    time: datetime
    level: str
    attempt: int
    message: str
