"""Merging the small segments of a past day into one."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import time
import uuid
from datetime import date
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from modelworks.engine.predictions.layout import (
    SEGMENT_GLOB,
    STAGING_DIR,
    check_source,
    day_dir,
    segments_of_day,
)

__all__ = ["compact", "sweep_staging"]

# Staged files older than this belong to a writer that died mid-flush.
STALE_STAGING_SECONDS = 3600.0
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2``); False if unsupported."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE)
    return bool(result == 0)


def compact(root: Path, source: str, day: date) -> None:
    """Merge the segments of ``day`` into one segment, atomically for readers.

    The merged segment is built in a hidden sibling folder, which then **swaps** places with the
    day's folder in one rename (Linux ``renameat2(RENAME_EXCHANGE)``): a reader sees either the old
    segments or the merged one, never both and never neither. Segments a writer renamed into the
    old folder meanwhile are moved over before the old folder is deleted. Where the swap is not
    available the merged segment is renamed in and the old ones removed right after (a reader in
    that instant may see rows twice). Meant for past days; a day with 0 or 1 segment is left as is.
    Also removes staged files left by writers killed mid-flush.
    """
    check_source(source)
    sweep_staging(root, source)
    parts = segments_of_day(root, source, day)
    if len(parts) < 2:
        return
    merged = pa.concat_tables([pq.read_table(p) for p in parts], promote_options="permissive").sort_by(
        [("ts", "ascending")]
    )
    folder = day_dir(root, source, day)
    fresh = folder.with_name(f".compact-{uuid.uuid4().hex}")
    fresh.mkdir()
    name = f"part-{uuid.uuid4().hex}.parquet"
    try:
        with (fresh / name).open("wb") as handle:
            pq.write_table(merged, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        if _exchange(fresh, folder):
            old = fresh  # after the swap, ``fresh`` names the old folder
            done = {p.name for p in parts}
            for late in old.glob(SEGMENT_GLOB):
                if late.name not in done:
                    os.replace(late, folder / late.name)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(fresh / name, folder / name)
            for part in parts:
                part.unlink(missing_ok=True)
            shutil.rmtree(fresh, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def sweep_staging(root: Path, source: str, *, older_than_s: float = STALE_STAGING_SECONDS) -> int:
    """Delete staged files older than ``older_than_s`` (left by a killed writer). Returns the count."""
    staging = Path(root) / check_source(source) / STAGING_DIR
    if not staging.is_dir():
        return 0
    limit = time.time() - older_than_s
    removed = 0
    for leftover in staging.iterdir():
        try:
            if leftover.is_file() and leftover.stat().st_mtime < limit:
                leftover.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
