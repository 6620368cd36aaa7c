"""What every source shares: the outcome of a connection test and the error of a failed read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SSL_MODES", "SourceError", "TestResult", "scrub"]

#: PostgreSQL ``sslmode`` values (libpq).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class SourceError(Exception):
    """A source could not be reached or read; the message is for people and holds no secret."""


@dataclass(frozen=True)
class TestResult:
    """The plain answer of "test connection".

    Attributes:
        ok: whether the source answered.
        message: e.g. "Connected: PostgreSQL 15.18, 12 tables visible".
        details: small facts (server version, table count…), never credentials.
    """

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    __test__ = False  # not a pytest test class, despite its name


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced, in case a driver echoes one back."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "•••")
    return text
