"""Where the prediction log lives on disk, and how a segment gets there atomically.

``<root>/<source>/date=YYYY-MM-DD/part-<uuid>.parquet`` (a Hive-style partition per UTC day, so
readers skip whole days). A segment is written under ``<root>/<source>/.staging/`` first and then
renamed into its day folder: a reader never sees half a file, and a writer killed mid-flush only
leaves a file in ``.staging`` that no glob of the log matches (``compact`` sweeps old ones).
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import date
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from modelworks.engine.predictions.errors import InvalidSourceError

__all__ = [
    "SEGMENT_GLOB",
    "STAGING_DIR",
    "check_source",
    "day_dir",
    "list_days",
    "segments_of_day",
    "write_segment",
]

STAGING_DIR = ".staging"
SEGMENT_GLOB = "part-*.parquet"
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_DAY = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


def check_source(source: str) -> str:
    """Return ``source`` if it can name a folder of the log, else raise :class:`InvalidSourceError`.

    Sources are made by the platform (``deployment-<id>``, ``recipe-<id>``); the check keeps any
    other text (slashes, dots, upper case) from ever becoming a path.
    """
    if not _SOURCE.fullmatch(source):
        raise InvalidSourceError(
            f"{source!r} cannot name a prediction log: use lower-case letters, digits, '-' and '_' "
            "(for example 'deployment-12' or 'recipe-7')",
            source=source,
        )
    return source


def day_dir(root: Path, source: str, day: date) -> Path:
    """The folder holding the segments of ``source`` for the UTC ``day``."""
    return Path(root) / check_source(source) / f"date={day.isoformat()}"


def list_days(root: Path, source: str) -> list[date]:
    """The days for which ``source`` has a folder, oldest first."""
    base = Path(root) / check_source(source)
    if not base.is_dir():
        return []
    days = []
    for entry in base.iterdir():
        match = _DAY.fullmatch(entry.name)
        if match and entry.is_dir():
            try:
                days.append(date.fromisoformat(match.group(1)))
            except ValueError:
                continue
    return sorted(days)


def segments_of_day(root: Path, source: str, day: date) -> list[Path]:
    """The finished segments of one day, sorted by name."""
    folder = day_dir(root, source, day)
    return sorted(folder.glob(SEGMENT_GLOB)) if folder.is_dir() else []


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_segment(root: Path, source: str, day: date, table: pa.Table) -> Path:
    """Write ``table`` as a new segment of ``day``: staged, synced, then renamed into place.

    Returns:
        The path of the new segment.
    """
    base = Path(root) / check_source(source)
    staging = base / STAGING_DIR
    staging.mkdir(parents=True, exist_ok=True)
    target_dir = day_dir(root, source, day)
    target_dir.mkdir(parents=True, exist_ok=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    staged = staging / f"{name}.tmp"
    try:
        with staged.open("wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        final = target_dir / name
        os.replace(staged, final)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _fsync_dir(target_dir)
    return final
