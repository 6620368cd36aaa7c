"""Locked-down DuckDB connections: the only way the engine talks to DuckDB.

Every connection is in memory, has file access limited to the files the caller names (``read`` and
``write``) plus a private spill folder, never installs or loads extensions, runs in UTC and then
locks its configuration, so that nothing a query contains can widen what it may touch. Values from
users reach SQL as bound parameters; the only text we splice into SQL is identifiers, quoted by
:func:`quote_identifier`.

Opening a DuckDB database costs ~15 ms of CPU (DuckDB 2 builds its whole function catalog), more
than a small recipe's query. A process that opens many in a row (a build job: one per step) calls
:func:`warm` first: spare databases are then opened ahead, in a background thread, and each
:func:`connect` takes one. A spare has never run a query and gets its limits and allow-lists when it
is taken, exactly as a new one would: it is a new database opened earlier, never a reused one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "close",
    "connect",
    "quote_identifier",
    "run_with_timeout",
    "string_literal",
    "warm",
]

# A server runs many of these at once; DuckDB's own default (80% of RAM) would let one import starve
# the machine. Queries that need more spill to the connection's temp folder.
DEFAULT_MEMORY_LIMIT = "1GB"

T = TypeVar("T")

# Set when the database is opened (and only then): everything else is set when it is handed out.
_OPEN_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
MAX_SPARES = 4


class _Spares:
    """Databases opened ahead for this process (see the module docstring). Thread-safe, fork-aware:
    a forked child never uses (nor closes) what its parent opened."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.ready: list[duckdb.DuckDBPyConnection] = []
        self.wanted = 0  # spares to keep ready; 0 until warm() is called
        self.budget: int | None = None  # connects still expected (None: no end in sight)
        self.opening = 0  # spares being opened by background threads

    def take(self) -> duckdb.DuckDBPyConnection | None:
        with self.lock:
            if self.pid != os.getpid() or not self.ready:
                return None
            con = self.ready.pop()
            if self.budget is not None:
                self.budget = max(self.budget - 1, 0)
        self.refill()
        return con

    def refill(self) -> None:
        with self.lock:
            if self.pid != os.getpid():
                return
            wanted = self.wanted if self.budget is None else min(self.wanted, self.budget)
            missing = wanted - len(self.ready) - self.opening
            self.opening += max(missing, 0)
        for _ in range(max(missing, 0)):
            # Not a daemon: an interpreter exiting while DuckDB opens a database would abort.
            threading.Thread(target=self._open_one, name="duckdb-spare").start()

    def _open_one(self) -> None:
        con = None
        try:
            import duckdb

            con = duckdb.connect(":memory:", config=_OPEN_CONFIG)
        except Exception:  # the caller's own connect() will meet and report the same problem
            con = None
        finally:
            with self.lock:
                if self.pid == os.getpid():
                    self.opening -= 1
                    if con is not None and len(self.ready) < self.wanted:
                        self.ready.append(con)
                        con = None
        if con is not None:
            con.close()

    def after_fork_in_child(self) -> None:
        # The parent's databases lost their threads in the fork: never use nor close them here.
        self.lock = threading.Lock()
        _INHERITED.extend(self.ready)
        self.ready, self.wanted, self.budget, self.opening, self.pid = [], 0, None, 0, os.getpid()


_INHERITED: list[duckdb.DuckDBPyConnection] = []
_SPARES = _Spares()
os.register_at_fork(after_in_child=lambda: _SPARES.after_fork_in_child())


def warm(spares: int = 1, *, expected: int | None = None) -> None:
    """Keep ``spares`` databases (at most :data:`MAX_SPARES`) opened ahead for the next
    :func:`connect` calls of this process, starting now in the background. Each one is a few MB of
    memory and idle threads; ``warm(0)`` closes them.

    Args:
        spares: how many to keep ready.
        expected: how many more connections the caller will open (e.g. a build: one per step), so
            that no spare is opened that nobody will take; None when unknown.
    """
    spares = max(0, min(int(spares), MAX_SPARES))
    with _SPARES.lock:
        _SPARES.wanted = spares
        _SPARES.budget = None if expected is None else max(int(expected), 0)
        extra = _SPARES.ready[spares:]
        del _SPARES.ready[spares:]
    for con in extra:
        con.close()
    _SPARES.refill()


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection from :func:`connect`. In a process that called :func:`warm`, in the
    background: closing a database waits for its threads (a few ms) and the caller has moved on."""
    with _SPARES.lock:
        background = _SPARES.wanted > 0 and _SPARES.pid == os.getpid()
    if background:
        threading.Thread(target=con.close, name="duckdb-close").start()  # not a daemon: see refill
    else:
        con.close()


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
    import duckdb  # here: importing this module (for quote_identifier) must not load DuckDB

    # One statement list, one call: each call gives the GIL up and must take it back, which costs up
    # to a switch interval (5 ms) while another thread runs Python (a build's job thread does).
    statements = [
        f"SET memory_limit = {string_literal(memory_limit or DEFAULT_MEMORY_LIMIT)}",
        f"SET preserve_insertion_order = {'true' if preserve_insertion_order else 'false'}",
    ]
    if threads is not None:
        statements.append(f"SET threads = {int(threads)}")
    if spill_dir is not None:
        statements.append(f"SET temp_directory = {string_literal(str(spill_dir))}")
    statements += ["SET TimeZone = 'UTC'", "SET enable_progress_bar = false"]
    paths = [os.path.abspath(p) for p in [*read, *write]]
    if paths:
        statements.append(f"SET allowed_paths = [{', '.join(string_literal(p) for p in paths)}]")
    if spill_dir is not None:
        statements.append(
            f"SET allowed_directories = [{string_literal(os.path.abspath(spill_dir) + os.sep)}]"
        )
    # The order matters: the allow-lists can only be set while external access is still on.
    statements += ["SET enable_external_access = false", "SET lock_configuration = true"]
    con = _SPARES.take() or duckdb.connect(":memory:", config=_OPEN_CONFIG)
    try:
        con.execute(";\n".join(statements))
    except BaseException:
        con.close()
        raise
    return con


def string_literal(value: str) -> str:
    """A DuckDB string literal for text the platform chose (settings, its own file paths), never
    user text (that goes in as a bound parameter)."""
    if "\x00" in value:
        raise ValueError("a DuckDB setting cannot contain a NUL character")
    return "'" + value.replace("'", "''") + "'"


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
