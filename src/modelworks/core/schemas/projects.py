"""Schemas of projects and project memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas.base import InputSchema, TimestampedOut, UserRef

__all__ = [
    "GroupRef",
    "MembershipIn",
    "MembershipOut",
    "MembershipPatch",
    "ProjectIn",
    "ProjectOut",
    "ProjectPatch",
]

RoleName = Literal["reader", "contributor", "admin"]


class ProjectOut(TimestampedOut):
    slug: str
    name: str
    description: str
    role: RoleName | None = Field(description="The caller's role in the project.")

    @staticmethod
    def resolve_role(obj: Any, context: dict[str, Any]) -> str | None:
        # List routes annotate ``caller_role`` in SQL; single-object routes compute it.
        annotated = getattr(obj, "caller_role", None)
        if annotated:
            return str(annotated)
        role = obj.role_of(context["request"].user)
        return role.value if role is not None else None


class ProjectIn(InputSchema):
    slug: str = Field(description="Short name used in addresses, e.g. flight-delays (permanent).")
    name: str
    description: str = ""


class ProjectPatch(InputSchema):
    """Only the fields sent are changed. The slug is permanent."""

    name: str | None = None
    description: str | None = None


class GroupRef(Schema):
    id: int
    name: str


class MembershipOut(Schema):
    id: int
    kind: Literal["user", "group"]
    user: UserRef | None
    group: GroupRef | None
    role: RoleName
    created_at: datetime

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return obj.principal_kind

    @staticmethod
    def resolve_user(obj: Any) -> dict[str, Any] | None:
        if obj.user_id is None:
            return None
        return {"id": obj.user.id, "username": obj.user.username, "display_name": obj.user.display_name}


class MembershipIn(InputSchema):
    """Grant a role to exactly one user or one group (by id or by name)."""

    user: int | str | None = Field(None, description="User id or username.")
    group: int | str | None = Field(None, description="Group id or name.")
    role: RoleName


class MembershipPatch(InputSchema):
    role: RoleName
