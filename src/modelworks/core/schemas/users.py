"""Schemas of users, groups and the caller's own account."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas.base import InputSchema, UserRef

__all__ = [
    "GroupDetailOut",
    "GroupIn",
    "GroupMemberIn",
    "GroupOut",
    "MeOut",
    "UserAccountOut",
    "UserIn",
    "UserOut",
]


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    is_instance_admin: bool
    must_change_password: bool
    auth_method: Literal["token", "session"] = Field(description="How this request was authenticated.")
    token_prefix: str | None = Field(description="First characters of the token used, if any.")


class UserAccountOut(Schema):
    """Account details only instance administrators see."""

    email: str
    is_instance_admin: bool
    is_active: bool
    must_change_password: bool
    date_joined: datetime
    last_login: datetime | None


class UserOut(UserRef):
    account: UserAccountOut | None = Field(
        description="Filled for instance administrators (and for the caller's own account), else null."
    )

    @staticmethod
    def resolve_account(obj: Any, context: dict[str, Any]) -> dict[str, Any] | None:
        caller = context["request"].user
        if not (caller.is_superuser or caller.pk == obj.pk):
            return None
        return {
            "email": obj.email,
            "is_instance_admin": obj.is_superuser,
            "is_active": obj.is_active,
            "must_change_password": obj.must_change_password,
            "date_joined": obj.date_joined,
            "last_login": obj.last_login,
        }


class UserIn(InputSchema):
    username: str
    email: str = ""
    password: str | None = Field(
        None, description="Leave out to create an account that cannot sign in until a password is set."
    )
    is_instance_admin: bool = False


class GroupOut(Schema):
    id: int
    name: str
    member_count: int

    @staticmethod
    def resolve_member_count(obj: Any) -> int:
        annotated = getattr(obj, "member_count", None)
        return annotated if annotated is not None else obj.user_set.count()


class GroupDetailOut(GroupOut):
    members: list[UserRef]

    @staticmethod
    def resolve_members(obj: Any) -> list[dict[str, Any]]:
        return [
            {"id": u.id, "username": u.username, "display_name": u.display_name}
            for u in obj.user_set.order_by("username")
        ]


class GroupIn(InputSchema):
    name: str


class GroupMemberIn(InputSchema):
    user: int | str = Field(description="User id or username.")
