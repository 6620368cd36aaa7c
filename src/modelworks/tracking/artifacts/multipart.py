"""Part-upload tokens of proxied multipart uploads.

MLflow's client uploads each part with a bare ``PUT`` to the URL the server handed out, sending only
the headers that came with it (no ``Authorization``). So each part gets a token of its own, carried
in the ``X-Modelworks-Upload-Token`` header: signed with the instance's secret key, naming exactly one
upload and one part number, expiring after :func:`part_token_max_age` seconds, and single-use (the
first request claims it, see :meth:`~.storage.LocalArtifactStore.claim_part`).

A token only lets its bearer stage bytes for that one part; nothing becomes an artifact until an
authenticated contributor completes the upload.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

__all__ = [
    "DEFAULT_PART_TOKEN_MAX_AGE_S",
    "MAX_PARTS",
    "TOKEN_HEADER",
    "PartGrant",
    "PartTokenError",
    "issue_part_token",
    "part_token_max_age",
    "read_part_token",
]

TOKEN_HEADER = "X-Modelworks-Upload-Token"  # noqa: S105 (a header name, not a secret)
#: How long part tokens stay valid when ``MODELWORKS_ARTIFACT_PART_TOKEN_MAX_AGE_S`` is not set.
DEFAULT_PART_TOKEN_MAX_AGE_S = 4 * 3600
#: Most parts in one upload (S3's limit, which MLflow's chunking is designed around).
MAX_PARTS = 10_000
_SALT = "modelworks.tracking.artifacts.part-upload"


class PartTokenError(Exception):
    """A missing, forged, expired or misdirected part token; ``code`` is the MLflow error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PartGrant:
    upload_id: str
    part_number: int
    nonce: str


def part_token_max_age() -> int:
    return int(getattr(settings, "MODELWORKS_ARTIFACT_PART_TOKEN_MAX_AGE_S", DEFAULT_PART_TOKEN_MAX_AGE_S))


def issue_part_token(upload_id: str, part_number: int) -> str:
    """A signed, expiring, single-use token for one part of one upload."""
    return signing.dumps({"u": upload_id, "p": part_number, "n": secrets.token_hex(8)}, salt=_SALT)


def read_part_token(token: str | None, *, upload_id: str, part_number: int) -> PartGrant:
    """Check a part token against the upload and part in the address.

    Raises:
        PartTokenError: ``UNAUTHENTICATED`` when missing, forged or expired; ``PERMISSION_DENIED``
            when it was issued for another upload or part.
    """
    if not token:
        raise PartTokenError(
            "UNAUTHENTICATED",
            f"The part upload needs the {TOKEN_HEADER} header handed out when the upload was created.",
        )
    try:
        data = signing.loads(token, salt=_SALT, max_age=part_token_max_age())
    except signing.SignatureExpired as exc:
        raise PartTokenError(
            "UNAUTHENTICATED", "This part upload link has expired. Start the upload of the file again."
        ) from exc
    except signing.BadSignature as exc:
        raise PartTokenError("UNAUTHENTICATED", "The part upload token is not valid.") from exc
    if not isinstance(data, dict) or data.get("u") != upload_id or data.get("p") != part_number:
        raise PartTokenError(
            "PERMISSION_DENIED",
            f"This token is for another part or upload, not part {part_number} of {upload_id}.",
        )
    return PartGrant(upload_id=upload_id, part_number=part_number, nonce=str(data.get("n", "")))
