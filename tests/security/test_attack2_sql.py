# ruff: noqa: S608 - the SQL here is the attackers' text, written on purpose
"""Attacks on the SQL a user types (the SQL recipe and its preview) and on the locked DuckDB
connection every query runs on.

Two layers are attacked separately: the SQL recipe's checks on the syntax tree (what a user can
write at all), and :func:`modelworks.engine.duck.connect` (what a query could touch even if a check
were bypassed): each must hold on its own. Then the resources: a query that never ends or eats
memory is stopped, and SQL built to make the platform's own analysis slow or crash (deep nesting,
thousands of columns) is answered quickly with a message.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import pytest

from modelworks.engine.duck import connect
from modelworks.engine.flow import execute_in_duckdb, relations_for
from modelworks.engine.flow.errors import QueryError, StepTimeoutError
from modelworks.engine.recipes import CompiledRecipe, RecipeSpecError, compile_recipe
from modelworks.engine.recipes.sql import LINEAGE_MAX_COST, MAX_SQL_DEPTH
from modelworks.engine.recipes.types import Column


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """This recipe's input, another project's version file next to it, and a spill folder."""
    mine = tmp_path / "store" / "project-a" / "flights.parquet"
    other = tmp_path / "store" / "project-b" / "salaries.parquet"
    for path, select in (
        (mine, "SELECT range AS id, 'x' AS s FROM range(5)"),
        (other, "SELECT 'TOPSECRET' AS s"),
    ):
        path.parent.mkdir(parents=True)
        con = duckdb.connect()
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
        con.close()
    spill = tmp_path / "spill"
    spill.mkdir()
    return {"mine": mine, "other": other, "spill": spill, "root": tmp_path}


def _compile(sql: str) -> CompiledRecipe:
    relations = relations_for({"flights": [Column("id", "integer"), Column("s", "string")]})
    return compile_recipe("sql", {"sql": sql}, relations, ["o"], recipe="q")


# -- layer 1: what a SQL recipe may say ----------------------------------------------------------------

OTHER = "/tmp/store/project-b/salaries.parquet"
REFUSED = [
    ("SELECT * FROM read_csv('/etc/passwd')", r"table function read_csv\(…\) is not allowed"),
    ("SELECT * FROM READ_CSV_AUTO('/etc/passwd')", r"table function read_csv_auto\(…\) is not allowed"),
    ("SELECT * FROM \"read_csv\"('/etc/passwd')", r"table function read_csv\(…\) is not allowed"),
    (f"SELECT * FROM read_parquet('{OTHER}')", r"table function read_parquet\(…\) is not allowed"),
    (f"SELECT * FROM parquet_scan('{OTHER}')", r"table function parquet_scan\(…\) is not allowed"),
    (f"SELECT * FROM '{OTHER}'", r"reads '.*salaries.parquet', which is not an input of this recipe"),
    (f"SELECT * FROM flights POSITIONAL JOIN '{OTHER}'", r"which is not an input of this recipe"),
    ("WITH flights AS (SELECT * FROM '/etc/passwd') SELECT * FROM flights", r"'/etc/passwd', which is not"),
    ("SELECT * FROM 'https://example.com/x.parquet'", r"'https://example.com/x.parquet', which is not"),
    ("SELECT * FROM glob('*')", r"table function glob\(…\) is not allowed"),
    ("SELECT read_blob('/etc/passwd')", r"function read_blob\(…\) is not allowed"),
    ("SELECT '/etc/passwd'.read_text()", r"function read_text\(…\) is not allowed"),
    ("SELECT getenv('MODELWORKS_SECRET_KEY')", r"function getenv\(…\) is not allowed"),
    ("SELECT 'DATABASE_URL'.getenv()", r"function getenv\(…\) is not allowed"),
    ("SELECT system.main.getenv('HOME')", r"function getenv\(…\) is not allowed"),
    ("SELECT list_transform([1], x -> getenv('HOME'))", r"function getenv\(…\) is not allowed"),
    ("SELECT current_setting('allowed_paths')", r"function current_setting\(…\) is not allowed"),
    ("SELECT * FROM duckdb_settings()", r"table function duckdb_settings\(…\) is not allowed"),
    ("SELECT * FROM duckdb_secrets()", r"table function duckdb_secrets\(…\) is not allowed"),
    ("SELECT * FROM query('SELECT 42')", r"table function query\(…\) is not allowed"),
    (
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
        r"table function json_execute_serialized_sql\(…\) is not allowed",
    ),
    ("SELECT * FROM information_schema.tables", r"without a schema or database"),
    ("SELECT * FROM duckdb_databases", r"'duckdb_databases', which is not an input"),
    ("COPY (SELECT 1) TO '/tmp/x.csv'", r"COPY statements are not allowed"),
    ("EXPORT DATABASE '/tmp/x'", r"the SQL query has a syntax error at line 1"),
    ("ATTACH '/tmp/x.duckdb' AS x", r"ATTACH statements are not allowed"),
    ("INSTALL httpfs", r"INSTALL statements are not allowed"),
    ("LOAD httpfs", r"LOAD statements are not allowed"),
    ("SET enable_external_access = true", r"SET statements are not allowed"),
    ("RESET lock_configuration", r"RESET statements are not allowed"),
    ("PRAGMA enable_profiling", r"PRAGMA statements are not allowed"),
    ("CREATE MACRO m() AS 1", r"CREATE statements are not allowed"),
    ("SELECT * INTO t FROM flights", r"SELECT … INTO is not allowed"),
    ("SELECT 1; COPY (SELECT 1) TO '/tmp/x.csv'", r"the SQL holds 2 statements"),
    ("SELECT 1 /* ; */ ; DROP TABLE x", r"the SQL holds 2 statements"),
    ("SELECT " + "(" * 3000 + "1" + ")" * 3000, r"nests too deeply .*at most 1000 levels"),
    ("SELECT " + "abs(" * 2000 + "1" + ")" * 2000, r"nests too deeply"),
    ("SELECT * FROM flights WHERE " + " AND ".join(["id = 1"] * 1500), r"nests too deeply"),
    ("SELECT " + "+".join(["id"] * 20_000) + " FROM flights", r"nests too deeply"),
    ("SELECT " + "1," * 60_000 + "1", r"setting 'sql' is 120008 characters long; the limit is 100000"),
]


@pytest.mark.parametrize(("sql", "match"), REFUSED, ids=[s[:40] for s, _ in REFUSED])
def test_sql_that_reaches_beyond_the_inputs_is_refused_with_a_message(sql: str, match: str) -> None:
    with pytest.raises(RecipeSpecError, match=match):
        _compile(sql)


def test_a_comment_cannot_smuggle_a_second_statement_into_what_runs(files: dict[str, Path]) -> None:
    # SQLGlot turns "--" comments into /* */ ones when it writes the query out again: a "*/" inside
    # must not close that comment early and leave a COPY behind it.
    escape = files["root"] / "escaped.csv"
    compiled = _compile(f"SELECT id FROM flights -- */ ; COPY (SELECT 1) TO '{escape}'; --")
    output = files["root"] / "out.parquet"
    ran = execute_in_duckdb(compiled, {"flights": files["mine"]}, {"o": output}, recipe="q")
    assert ran.rows == {"o": 5}
    assert not escape.exists()


# -- layer 2: what the locked connection lets any statement touch -----------------------------------


def _raw_attacks(files: dict[str, Path]) -> list[str]:
    other, spill, root = files["other"], files["spill"], files["root"]
    (spill / "link").symlink_to(other.parent)
    (spill / "passwd").symlink_to("/etc/passwd")
    return [
        "SELECT * FROM read_csv('/etc/passwd')",
        f"SELECT * FROM read_parquet('{other}')",
        f"SELECT * FROM read_parquet('{files['mine'].parent}/../project-b/salaries.parquet')",
        f"SELECT * FROM read_parquet('{spill}/../store/project-b/salaries.parquet')",
        f"SELECT * FROM read_parquet('{spill}/link/salaries.parquet')",
        f"SELECT * FROM read_csv('{spill}/passwd')",
        f"SELECT * FROM glob('{other.parent}/*')",
        "SELECT * FROM read_text('/proc/self/environ')",
        "SELECT getenv('HOME')",
        f"COPY (SELECT 1) TO '{root}/written.csv'",
        f"COPY (SELECT 1) TO '{spill}/../written.csv'",
        f"EXPORT DATABASE '{root}/exported'",
        f"ATTACH '{root}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
        "SELECT * FROM read_csv('http://127.0.0.1:1/x.csv')",
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
        "SET lock_configuration = false",
        "RESET lock_configuration",
        "SET GLOBAL enable_external_access = true",
        f"SET temp_directory = '{root}'",
        "SET memory_limit = '100GB'",
        "PRAGMA enable_profiling",
        "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')",
    ]


def test_the_locked_connection_holds_even_if_the_checks_were_bypassed(files: dict[str, Path]) -> None:
    con = connect(read=[files["mine"]], spill_dir=files["spill"])
    try:
        assert con.execute(f"SELECT count(*) FROM read_parquet('{files['mine']}')").fetchone() == (5,)
        passed = []
        for statement in _raw_attacks(files):
            try:
                con.execute(statement).fetchall()
            except duckdb.Error:
                continue
            passed.append(statement)
    finally:
        con.close()
    assert passed == []
    assert sorted(p.name for p in files["root"].iterdir()) == ["spill", "store"]


# -- layer 3: resources ------------------------------------------------------------------------------


def test_a_query_that_never_ends_is_stopped_by_the_step_time_limit(files: dict[str, Path]) -> None:
    compiled = _compile("SELECT count(*) FROM range(10000000000000) a, flights")
    output = files["root"] / "out.parquet"
    started = time.monotonic()
    with pytest.raises(StepTimeoutError, match=r"ran longer than its 1 s time limit"):
        execute_in_duckdb(compiled, {"flights": files["mine"]}, {"o": output}, timeout_s=1, recipe="q")
    assert time.monotonic() - started < 30
    assert not output.exists()


def test_a_query_that_eats_memory_fails_at_the_memory_limit(files: dict[str, Path]) -> None:
    compiled = _compile("SELECT list(range) AS l FROM range(100000000) GROUP BY range % 7")
    output = files["root"] / "out.parquet"
    with pytest.raises(QueryError, match=r"(?i)out of memory"):
        execute_in_duckdb(
            compiled, {"flights": files["mine"]}, {"o": output}, memory_limit="64MB", recipe="q", timeout_s=60
        )
    assert not output.exists()


def test_thousands_of_columns_compile_in_seconds_with_their_lineage() -> None:
    # Asking lineage column by column copied and re-qualified the whole query per column: 500 such
    # columns took over a minute of the web server's time, 3,000 would take hours.
    sql = "SELECT " + ", ".join(f"id + {i} AS c{i}" for i in range(3000)) + " FROM flights"
    started = time.monotonic()
    compiled = _compile(sql)
    assert time.monotonic() - started < 30
    assert len(compiled.lineage) == 3000
    assert {e.input_column for e in compiled.lineage} == {"id"}


def test_a_long_chain_compiles_quickly_without_lineage_and_says_so() -> None:
    terms = 900  # under MAX_SQL_DEPTH, but its lineage would cost about 400,000 steps
    assert terms < MAX_SQL_DEPTH and terms * terms // 2 > LINEAGE_MAX_COST
    started = time.monotonic()
    compiled = _compile("SELECT " + " + ".join(["id"] * terms) + " AS total FROM flights")
    assert time.monotonic() - started < 30
    assert compiled.lineage == ()
    assert compiled.notes == (
        "no column lineage: the query is too large or nests too deeply to trace its columns",
    )


def test_the_recursion_limit_is_intact_after_a_refused_query() -> None:
    limit = sys.getrecursionlimit()
    with pytest.raises(RecipeSpecError, match="nests too deeply"):
        _compile("SELECT " + "(" * 5000 + "1" + ")" * 5000)
    assert sys.getrecursionlimit() == limit
    assert _compile("SELECT id FROM flights WHERE (((id > 1)))").outputs
