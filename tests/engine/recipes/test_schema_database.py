"""The schema database ``output_schemas`` shares within a process: isolated per call, no file access,
safe across threads and across ``fork()`` (jobs run in forked children of the worker)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import duckdb
import pytest

from modelworks.engine.flow import relations_for
from modelworks.engine.recipes import compile_recipe, output_schemas
from modelworks.engine.recipes import schemas as schema_module
from modelworks.engine.recipes.types import Column, MissingColumnError

RELATIONS = relations_for({"flights": (Column("carrier", "string"), Column("dep_delay", "integer"))})
SORT = compile_recipe("sort", {"columns": [{"column": "dep_delay"}]}, RELATIONS, ["out"], recipe="Sort")
EXPECTED = {"out": (Column("carrier", "string"), Column("dep_delay", "integer"))}


def test_the_shared_database_reads_no_file_and_each_call_sees_only_its_own_tables(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with schema_module._schema_connection() as first, schema_module._schema_connection() as second:
        first.execute('CREATE TEMP TABLE "__mw_input_0" (x INTEGER)')
        with pytest.raises(duckdb.CatalogException, match="__mw_input_0"):
            second.execute('SELECT * FROM "__mw_input_0"')
        with pytest.raises(duckdb.PermissionException, match="file system operations are disabled"):
            second.execute(f"SELECT * FROM read_csv('{secret}')")  # noqa: S608 - a test path
        with pytest.raises(duckdb.Error, match="configuration"):
            second.execute("SET enable_external_access = true")
    assert output_schemas(SORT, RELATIONS) == EXPECTED  # the tables of those calls are gone


def test_calls_from_many_threads_get_their_own_answers() -> None:
    other = relations_for({"flights": (Column("carrier", "string"),)})
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(20):
                if index % 2:
                    assert output_schemas(SORT, RELATIONS) == EXPECTED
                else:
                    with pytest.raises(MissingColumnError, match="dep_delay"):
                        output_schemas(SORT, other)
        except BaseException as exc:  # collected: a thread's assertion would be lost otherwise
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def _child_answers(hold_a_connection: bool) -> int:
    """Fork (optionally while a connection of the shared database is in use) and return the child's
    exit status: 0 when it computed the schemas; it is killed after 20 s if it hangs."""
    assert output_schemas(SORT, RELATIONS) == EXPECTED  # the parent has the database open
    held = schema_module._schema_connection()
    if hold_a_connection:
        held.__enter__()
    pid = os.fork()
    if pid == 0:  # the child: the inherited database must be neither used nor closed
        try:
            ok = output_schemas(SORT, RELATIONS) == EXPECTED
        finally:
            os._exit(0 if ok else 3)
    if hold_a_connection:
        held.__exit__(None, None, None)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -1


@pytest.mark.parametrize("hold_a_connection", [False, True])
def test_a_forked_child_opens_its_own_database(hold_a_connection: bool) -> None:
    assert _child_answers(hold_a_connection) == 0
    assert output_schemas(SORT, RELATIONS) == EXPECTED  # and the parent still works
