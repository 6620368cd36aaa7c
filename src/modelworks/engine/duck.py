"""Locked-down DuckDB connections: the only way the engine talks to DuckDB.

Every connection is in memory, has file access limited to the files the caller names (``read`` and
``write``) plus a private spill folder, never installs or loads extensions, runs in UTC and then
locks its configuration, so that nothing a query contains can widen what it may touch. Values from
users reach SQL as bound parameters; the only text we splice into SQL is identifiers, quoted by
:func:`quote_identifier`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import duckdb

__all__ = ["DEFAULT_MEMORY_LIMIT", "connect", "quote_identifier", "run_with_timeout"]

# A server runs many of these at once; DuckDB's own default (80% of RAM) would let one import starve
# the machine. Queries that need more spill to the connection's temp folder.
DEFAULT_MEMORY_LIMIT = "1GB"

T = TypeVar("T")


def connect(
    *,
    read: Iterable[str | os.PathLike[str]] = (),
    write: Iterable[str | os.PathLike[str]] = (),
    spill_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    preserve_insertion_order: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection that may only touch the named files.

    Args:
        read: files the connection may read.
        write: files the connection may create (e.g. the staged Parquet of an import).
        spill_dir: a folder where DuckDB may spill when a query exceeds ``memory_limit``; without
            one, such a query fails with an out-of-memory error instead of writing anywhere.
        threads: worker threads (default: DuckDB's choice, one per core).
        memory_limit: e.g. ``"1GB"``; default :data:`DEFAULT_MEMORY_LIMIT`.
        preserve_insertion_order: keep row order in results and written files. Turning it off
            lets DuckDB write faster with less memory, but the stored rows may come out reordered.

    Returns:
        A connection whose configuration is locked.
    """
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": memory_limit or DEFAULT_MEMORY_LIMIT,
        "preserve_insertion_order": preserve_insertion_order,
    }
    if threads is not None:
        config["threads"] = threads
    if spill_dir is not None:
        config["temp_directory"] = str(spill_dir)
    import duckdb  # here: importing this module (for quote_identifier) must not load DuckDB

    con = duckdb.connect(":memory:", config=config)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        paths = [os.path.abspath(p) for p in [*read, *write]]
        if paths:
            con.execute("SET allowed_paths = $1", [paths])
        if spill_dir is not None:
            con.execute("SET allowed_directories = $1", [[os.path.abspath(spill_dir) + os.sep]])
        # The order matters: the allow-lists can only be set while external access is still on.
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def quote_identifier(name: str) -> str:
    """Quote a column name for SQL: wrap in double quotes, double the quotes inside.

    Raises:
        ValueError: the name holds a NUL character, which no SQL identifier may contain.
    """
    if "\x00" in name:
        raise ValueError("a column name cannot contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


def run_with_timeout(
    con: duckdb.DuckDBPyConnection,
    seconds: float | None,
    work: Callable[[], T],
    on_timeout: Callable[[], Exception],
) -> T:
    """Run ``work`` (queries on ``con``); interrupt it after ``seconds`` and raise ``on_timeout()``."""
    if seconds is None:
        return work()
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        con.interrupt()

    import duckdb

    timer = threading.Timer(seconds, interrupt)
    timer.daemon = True
    timer.start()
    try:
        return work()
    except duckdb.Error as exc:
        if fired.is_set():
            raise on_timeout() from exc
        raise
    finally:
        timer.cancel()
