"""Readers of external sources, without Django: PostgreSQL (ADBC → Arrow) and S3 (s3fs).

Each source takes its non-secret settings and its decrypted credentials, and offers ``test()`` (a
plain answer), a listing (tables or files) and a streaming copy to a local file that the engine then
imports (``modelworks.engine.io.import_file``). Credentials never appear in their messages.

Public API: ``PostgresSource``, ``S3Source``, ``TestResult``, ``SourceError``, ``source_for``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelworks.connections.sources.base import SourceError, TestResult
from modelworks.connections.sources.postgres import PostgresSource
from modelworks.connections.sources.s3 import S3Source

__all__ = ["PostgresSource", "S3Source", "SourceError", "TestResult", "source_for"]


def source_for(kind: str, config: Mapping[str, Any], secrets: Mapping[str, str]) -> PostgresSource | S3Source:
    """The reader of a connection of ``kind`` (``postgresql`` or ``s3``)."""
    if kind == "postgresql":
        return PostgresSource(config, secrets)
    if kind == "s3":
        return S3Source(config, secrets)
    raise SourceError(f"connections of kind {kind!r} cannot be read; use postgresql or s3")
