"""Schemas of the audit log (read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

__all__ = ["AuditEventOut", "AuditFilter", "ProjectAuditFilter"]


class AuditEventOut(Schema):
    id: int
    time: datetime
    action: str
    outcome: str
    actor: str = Field(description="Username of who acted; empty for the system.")
    project: str = Field(description="Slug of the project concerned; empty if none.")
    target_type: str
    target_id: str
    target_repr: str
    ip_address: str | None
    details: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        return obj.actor_name

    @staticmethod
    def resolve_project(obj: Any) -> str:
        return obj.project_slug


class ProjectAuditFilter(Schema):
    action: str | None = Field(None, description="Exact action code, e.g. membership.granted.")
    actor: str | None = Field(None, description="Username of who acted.")
    since: datetime | None = Field(None, description="Entries at or after this time.")
    until: datetime | None = Field(None, description="Entries before this time.")


class AuditFilter(ProjectAuditFilter):
    project: str | None = Field(None, description="Project slug.")
