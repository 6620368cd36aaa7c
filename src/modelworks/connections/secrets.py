"""Credentials at rest: Fernet encryption with a key kept outside the database.

The key is ``MODELWORKS_CONNECTIONS_KEY`` when set (a Fernet key: 32 url-safe base64-encoded bytes),
else the file ``$MODELWORKS_HOME/keys/connections.key``, created on first use with mode 0600. A copy
of the database alone (a backup, a dump handed to support) therefore reveals no password. Losing
the key makes the stored credentials unreadable: every connection must then be given them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["ConnectionKeyError", "decrypt", "encrypt", "key_path"]

ENV_KEY = "MODELWORKS_CONNECTIONS_KEY"


class ConnectionKeyError(Exception):
    """The encryption key is missing, malformed or not the one the credentials were encrypted with."""


def key_path() -> Path:
    """Where the key file lives (used when the environment variable is not set)."""
    return Path(settings.MODELWORKS_HOME) / "keys" / "connections.key"


def _read_or_create_key_file(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    # Created 0600 under a temporary name and linked into place: two processes starting together
    # agree on one key (the loser of the race reads the winner's).
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_bytes().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def _fernet() -> Fernet:
    configured = os.environ.get(ENV_KEY, "").strip()
    key = configured.encode() if configured else _read_or_create_key_file(key_path())
    try:
        return Fernet(key)
    except ValueError as exc:
        where = ENV_KEY if configured else str(key_path())
        raise ConnectionKeyError(
            f"the connection encryption key in {where} is not a valid Fernet key (32 url-safe "
            "base64-encoded bytes); restore the original key"
        ) from exc


def encrypt(values: dict[str, str]) -> str:
    """Encrypt a small dict of credentials into a text token for the database."""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode("ascii")


def decrypt(token: str) -> dict[str, str]:
    """Decrypt a token written by :func:`encrypt`.

    Raises:
        ConnectionKeyError: the key is not the one the token was encrypted with.
    """
    try:
        data = _fernet().decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise ConnectionKeyError(
            "the stored credentials cannot be decrypted with the current key (it was changed or "
            f"lost); restore {key_path()} or {ENV_KEY}, or enter the credentials of each connection again"
        ) from exc
    values: dict[str, str] = json.loads(data)
    return values
