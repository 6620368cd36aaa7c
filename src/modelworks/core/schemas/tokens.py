"""Schemas of personal API tokens. The raw value appears once, in ``TokenCreatedOut``; never the hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from modelworks.core.schemas.base import InputSchema

__all__ = ["TokenCreatedOut", "TokenIn", "TokenOut"]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="First characters of the token, to recognise it.")
    user: str = Field(description="Username of the token's owner.")
    status: Literal["active", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_prefix(obj: Any) -> str:
        return obj.key_prefix

    @staticmethod
    def resolve_user(obj: Any) -> str:
        return obj.user.username


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself. Shown this once only: store it now.")


class TokenIn(InputSchema):
    name: str = Field(description="What the token is for, e.g. 'nightly training job'.")
    expires_at: datetime | None = Field(None, description="When the token stops working (optional).")
