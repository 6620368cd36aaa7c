"""The locked-down DuckDB connection and its helpers."""

from __future__ import annotations

import os
import time

import duckdb
import pytest

from modelworks.engine import duck
from modelworks.engine.duck import connect, quote_identifier, run_with_timeout
from modelworks.engine.errors import EngineError, did_you_mean, human_bytes


def test_connection_runs_in_utc_with_a_memory_limit() -> None:
    con = connect()
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
    with pytest.raises(duckdb.Error, match="locked"):
        con.execute("SET memory_limit = '100GB'")


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("plain", '"plain"'), ('we"ird', '"we""ird"'), ("a; DROP TABLE x; --", '"a; DROP TABLE x; --"')],
)
def test_quote_identifier(name: str, quoted: str) -> None:
    assert quote_identifier(name) == quoted
    con = connect()
    assert con.execute(f"SELECT 1 AS {quote_identifier(name)}").description[0][0] == name  # type: ignore[index]


def test_quote_identifier_refuses_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote_identifier("a\x00b")


def test_run_with_timeout_interrupts_a_long_query() -> None:
    con = connect()
    started = time.perf_counter()
    with pytest.raises(EngineError, match="too slow"):
        run_with_timeout(
            con,
            0.3,
            lambda: con.execute(
                "SELECT count(*) FROM range(1000000000000) a WHERE hash(a.range) = 1"
            ).fetchall(),
            lambda: EngineError("too slow"),
        )
    assert time.perf_counter() - started < 10


def test_messages_helpers() -> None:
    assert did_you_mean("amout", ["amount", "id"]) == "; did you mean 'amount'?"
    assert did_you_mean("AMOUNT", ["amount"]) == "; did you mean 'amount'?"
    assert did_you_mean("zzz", ["amount"]) == ""
    assert human_bytes(512) == "512 bytes"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(10 * 1024**3) == "10.0 GiB"


# -- spare databases (warm) --------------------------------------------------------------------


@pytest.fixture
def spares():  # type: ignore[no-untyped-def]
    duck.warm(2)
    deadline = time.monotonic() + 10
    while len(duck._SPARES.ready) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    yield duck._SPARES
    duck.warm(0)


def test_a_spare_database_is_locked_down_like_a_new_one(spares, tmp_path) -> None:  # type: ignore[no-untyped-def]
    allowed, other = tmp_path / "allowed.parquet", tmp_path / "other.parquet"
    for path in (allowed, other):
        duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{path}' (FORMAT parquet)")
    ready = list(spares.ready)
    spill = tmp_path / "spill"
    spill.mkdir()
    con = connect(read=[allowed], threads=1, memory_limit="300MB", spill_dir=spill)
    assert any(con is r for r in ready)  # it was a spare
    settings = con.execute(
        "SELECT current_setting('threads'), current_setting('temp_directory'), "
        "current_setting('TimeZone'), current_setting('enable_external_access'), "
        "current_setting('autoload_known_extensions')"
    ).fetchone()
    assert settings == (1, str(spill), "UTC", False, False)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].startswith("286")  # type: ignore[index]
    assert con.execute("SELECT x FROM read_parquet($1)", [str(allowed)]).fetchall() == [(1,)]
    with pytest.raises(duckdb.Error, match=r"(?i)permission|not allowed|disabled"):
        con.execute("SELECT x FROM read_parquet($1)", [str(other)]).fetchall()
    with pytest.raises(duckdb.Error, match="locked"):
        con.execute("SET enable_external_access = true")
    duck.close(con)


def test_spares_are_refilled_and_released(spares) -> None:  # type: ignore[no-untyped-def]
    taken = [connect() for _ in range(3)]  # two spares, then a new database
    deadline = time.monotonic() + 10
    while len(spares.ready) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(spares.ready) == 2
    assert len({id(c) for c in taken}) == 3
    for con in taken:
        duck.close(con)
    duck.warm(0)
    assert spares.ready == [] and spares.wanted == 0


def test_a_forked_child_never_uses_its_parents_spares(spares) -> None:  # type: ignore[no-untyped-def]
    assert spares.ready
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            con = connect()
            ok = duck._SPARES.ready == [] and con.execute("SELECT 42").fetchone() == (42,)
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert spares.ready  # the parent's are still there for it


def test_no_spare_is_opened_beyond_the_connections_expected() -> None:
    duck.warm(2, expected=2)
    try:
        deadline = time.monotonic() + 10
        while len(duck._SPARES.ready) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        first, second = connect(), connect()
        time.sleep(0.2)
        assert duck._SPARES.ready == [] and duck._SPARES.opening == 0  # nothing opened for nobody
        duck.close(first)
        duck.close(second)
    finally:
        duck.warm(0)
