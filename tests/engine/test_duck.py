"""The locked-down DuckDB connection and its helpers."""

from __future__ import annotations

import time

import duckdb
import pytest

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
