"""S3-compatible object storage through s3fs (AWS S3, MinIO, Ceph, Garage…).

Files are copied to a local file in chunks (never whole in memory) and then imported by the engine.
An object key is only ever a key inside the connection's bucket, never a local path.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from modelworks.connections.sources.base import SourceError, TestResult, check_destination, scrub

__all__ = ["S3File", "S3Source"]

_CHUNK = 8 << 20
_MAX_LISTED = 1000


@dataclass(frozen=True)
class S3File:
    """An object in the bucket."""

    key: str
    size: int


class S3Source:
    """A bucket of an S3-compatible service.

    Args:
        config: ``bucket``, ``endpoint_url`` (empty for AWS), ``region``.
        secrets: ``access_key`` and ``secret_key`` (both empty: anonymous access to a public bucket).
    """

    def __init__(self, config: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        self.bucket = str(config.get("bucket") or "").strip().strip("/")
        self.endpoint_url = str(config.get("endpoint_url") or "").strip() or None
        self.region = str(config.get("region") or "").strip() or None
        self._key = secrets.get("access_key") or ""
        self._secret = secrets.get("secret_key") or ""
        if not self.bucket or "/" in self.bucket:
            raise SourceError("an S3 connection needs a bucket name (without '/')")

    @property
    def where(self) -> str:
        return f"bucket '{self.bucket}'" + (f" at {self.endpoint_url}" if self.endpoint_url else "")

    def _filesystem(self) -> Any:
        # No credential discovery on the network: without this, botocore asks the cloud instance
        # metadata address for credentials, an outbound call the product must never make.
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        if self.endpoint_url:
            parsed = urlsplit(self.endpoint_url)
            check_destination(parsed.hostname or "", parsed.port)
        import s3fs

        anonymous = not (self._key and self._secret)
        return s3fs.S3FileSystem(
            anon=anonymous,
            key=None if anonymous else self._key,
            secret=None if anonymous else self._secret,
            endpoint_url=self.endpoint_url,
            client_kwargs={"region_name": self.region} if self.region else {},
            config_kwargs={"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 2}},
            skip_instance_cache=True,
            use_listings_cache=False,
        )

    def _reason(self, exc: BaseException) -> str:
        text = scrub(str(exc) or type(exc).__name__, [self._key, self._secret])
        if isinstance(exc, FileNotFoundError):
            return "not found"
        if isinstance(exc, PermissionError):
            return f"access denied ({text})" if text != "Access Denied" else "access denied"
        return text.splitlines()[0]

    def object_path(self, key: str) -> str:
        """``bucket/key`` for a user-given key, refusing anything that is not a plain object key."""
        text = str(key or "").strip()
        if text.startswith("s3://"):
            bucket, _, text = text[5:].partition("/")
            if bucket != self.bucket:
                raise SourceError(
                    f"{key!r} is in bucket '{bucket}', but this connection reads bucket '{self.bucket}'"
                )
        text = text.lstrip("/")
        if not text or "\x00" in text or any(part in ("..", ".") for part in text.split("/")):
            raise SourceError(
                f"{key[:200]!r} is not an object key; give a key such as 'exports/2024/orders.csv' "
                "(no '..' segments, no NUL)"
            )
        return posixpath.join(self.bucket, text)

    def test(self) -> TestResult:
        """List the top of the bucket."""
        try:
            entries = self._filesystem().ls(self.bucket, detail=False)
        except Exception as exc:
            return TestResult(False, f"Could not read {self.where}: {self._reason(exc)}")
        count = len(entries)
        noun = "entry" if count == 1 else "entries"
        return TestResult(
            True, f"Connected: {self.where}, {count} {noun} at the top level", {"top_level_entries": count}
        )

    def list_files(self, prefix: str = "") -> list[S3File]:
        """Objects under ``prefix`` (at most 1,000, by key)."""
        root = self.object_path(prefix) if prefix.strip("/ ") else self.bucket
        try:
            found = self._filesystem().find(root, detail=True, maxdepth=None)
        except Exception as exc:
            raise SourceError(f"Could not list {self.where}: {self._reason(exc)}") from None
        files = [
            S3File(name[len(self.bucket) + 1 :], int(info.get("size") or 0))
            for name, info in sorted(found.items())
            if info.get("type") == "file"
        ]
        return files[:_MAX_LISTED]

    def download(
        self,
        key: str,
        destination: Path,
        *,
        max_bytes: int | None = None,
        on_bytes: Callable[[int, int], None] | None = None,
    ) -> int:
        """Copy object ``key`` to ``destination`` in chunks; return its size.

        Raises:
            SourceError: missing object, access refused, or larger than ``max_bytes`` (checked before
                reading, from the object's size).
        """
        path = self.object_path(key)
        fs = self._filesystem()
        try:
            size = int(fs.info(path).get("size") or 0)
        except Exception as exc:
            raise SourceError(f"s3://{path} could not be read: {self._reason(exc)}") from None
        if max_bytes is not None and size > max_bytes:
            raise SourceError(
                f"s3://{path} is {size:,} bytes, more than the limit of {max_bytes:,} bytes; "
                "ask an administrator to raise MODELWORKS_MAX_UPLOAD_BYTES"
            )
        copied = 0
        try:
            with fs.open(path, "rb", block_size=_CHUNK) as source, open(destination, "wb") as out:
                for chunk in iter(lambda: source.read(_CHUNK), b""):
                    copied += len(chunk)
                    if max_bytes is not None and copied > max_bytes:
                        raise SourceError(
                            f"s3://{path} grew past the limit of {max_bytes:,} bytes while reading"
                        )
                    out.write(chunk)
                    if on_bytes is not None:
                        on_bytes(copied, size)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"s3://{path} could not be read: {self._reason(exc)}") from None
        return copied
