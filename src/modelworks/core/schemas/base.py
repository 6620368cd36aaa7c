"""Base schemas mirroring the model tiers: ``TimestampedOut`` → ``ProjectScopedOut``, plus the error body.

Input schemas derive from ``InputSchema``, which refuses unknown fields: a misspelt field name is
reported to the caller (422, naming the field) instead of being silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

__all__ = ["ErrorOut", "InputSchema", "ProjectScopedOut", "TimestampedOut", "UserRef"]


class InputSchema(Schema):
    """Base of request bodies: unknown fields are an error, surrounding blanks are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorOut(Schema):
    """The body of every API error (see ``modelworks.core.api.errors``)."""

    code: str = Field(description="Stable code: not_authenticated, permission_denied, not_found, …")
    message: str = Field(description="What went wrong and how to fix it, for people.")
    details: dict[str, Any] = Field(
        description="Structured facts; for validation errors, messages per field."
    )


class UserRef(Schema):
    """How one user is shown inside other objects and in the user directory."""

    id: int
    username: str
    display_name: str


class TimestampedOut(Schema):
    """Mirror of ``TimestampedModel``."""

    created_at: datetime
    updated_at: datetime


class ProjectScopedOut(TimestampedOut):
    """Mirror of ``ProjectScopedModel``: objects name their project by its slug."""

    project: str = Field(description="Slug of the project the object belongs to.")

    @staticmethod
    def resolve_project(obj: Any) -> str:
        return obj.project.slug
