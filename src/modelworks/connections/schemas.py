"""API schemas of connections. Credentials are write-only: inputs accept them, outputs only say
which ones are set (``credentials_set``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas import InputSchema, TimestampedOut, UserRef

__all__ = [
    "ConnectionIn",
    "ConnectionOut",
    "ConnectionPatch",
    "ConnectionTestOut",
    "InstanceConnectionIn",
    "InstanceConnectionOut",
    "InstanceConnectionPatch",
    "SourceItemOut",
]

ConnectionKindName = Literal["postgresql", "s3"]


class ConnectionOut(TimestampedOut):
    id: int
    name: str
    kind: ConnectionKindName
    description: str
    scope: Literal["project", "instance"] = Field(
        description="instance: shared by the instance administrators."
    )
    project: str | None = Field(description="Slug of the owning project; null for a shared connection.")
    config: dict[str, Any] = Field(description="Settings that are not credentials (host, bucket…).")
    credentials_set: list[str] = Field(
        description="Names of the stored credentials; their values are never returned."
    )
    created_by: UserRef | None
    last_tested_at: datetime | None
    last_test_ok: bool | None
    last_test_message: str

    @staticmethod
    def resolve_scope(obj: Any) -> str:
        return "instance" if obj.project_id is None else "project"

    @staticmethod
    def resolve_project(obj: Any) -> str | None:
        return obj.project.slug if obj.project_id else None

    @staticmethod
    def resolve_credentials_set(obj: Any) -> list[str]:
        return list(obj.secret_names)


class InstanceConnectionOut(ConnectionOut):
    shared_with: list[str] = Field(description="Slugs of the projects that may use it.")

    @staticmethod
    def resolve_shared_with(obj: Any) -> list[str]:
        return sorted(p.slug for p in obj.shared_with.all())


class _Settings(InputSchema):
    """Every setting of every kind; those that do not belong to the connection's kind are refused."""

    host: str | None = None
    port: int | None = None
    database: str | None = None
    user: str | None = None
    sslmode: str | None = None
    password: str | None = Field(None, description="Write-only.")
    endpoint_url: str | None = None
    bucket: str | None = None
    region: str | None = None
    access_key: str | None = Field(None, description="Write-only.")
    secret_key: str | None = Field(None, description="Write-only.")


class ConnectionIn(_Settings):
    name: str
    kind: ConnectionKindName
    description: str = ""


class ConnectionPatch(_Settings):
    name: str | None = None
    description: str | None = None
    clear_credentials: list[str] = Field(
        default_factory=list, description="Credentials to forget, e.g. ['password']."
    )


class InstanceConnectionIn(ConnectionIn):
    shared_with: list[str] = Field(default_factory=list, description="Project slugs.")


class InstanceConnectionPatch(ConnectionPatch):
    shared_with: list[str] | None = Field(None, description="Project slugs (replaces the list).")


class ConnectionTestOut(Schema):
    ok: bool
    message: str
    details: dict[str, Any]


class SourceItemOut(Schema):
    """A table of a database or a file of a bucket, as offered for import."""

    name: str
    size: int | None = None
