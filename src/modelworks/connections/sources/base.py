"""What every source shares: the outcome of a connection test and the error of a failed read."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SSL_MODES", "SourceError", "TestResult", "check_destination", "scrub"]

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


# Cloud instance metadata services answer on link-local addresses (169.254.169.254 and, on AWS over
# IPv6, fd00:ec2::254): never a database or a bucket, always a way to read the machine's credentials.
_METADATA = (ipaddress.ip_address("fd00:ec2::254"),)


def check_destination(host: str, port: int | None = None) -> None:
    """Refuse a connection whose host is, or resolves to, a link-local or cloud metadata address.

    A name that does not resolve is left to the driver, which reports it in its own words.

    Raises:
        SourceError: the host is such an address (the message names it).
    """
    name = host.strip().strip("[]")
    if not name:
        return
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        for candidate in (address, mapped):
            if candidate is not None and (candidate.is_link_local or candidate in _METADATA):
                raise SourceError(
                    f"{host} is a link-local address ({candidate}), where cloud machines answer with their "
                    "own credentials, not a database or a bucket; give the address of the server instead"
                )
