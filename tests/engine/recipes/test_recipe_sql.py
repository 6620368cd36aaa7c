"""SQL recipe: what it accepts, what it refuses (and says so), how it binds inputs, its lineage."""

from __future__ import annotations

import pytest
from sqlglot import exp

from modelworks.engine.recipes import RecipeSpecError, Relation, compile_recipe


def test_query_over_inputs_by_dataset_name(tables, flights: Relation, carriers: Relation) -> None:
    spaced = Relation("Carrier list", carriers.columns, carriers.source)
    sql = """
        WITH delays AS (SELECT carrier, sum(delay) AS total FROM flights GROUP BY carrier)
        SELECT d.carrier, d.total, c.name AS carrier_name, upper(c.country) AS country
        FROM delays AS d JOIN "Carrier list" c ON d.carrier = c.code
    """
    compiled = compile_recipe("sql", {"sql": sql}, [flights, spaced], ["o"], recipe="q")
    assert tables.rows(compiled.outputs[0]) == [("AA", 35, "American", "US"), ("BB", 35, "Bravo", "FR")]
    assert compiled.pushdown
    assert {(e.output_column, e.input, e.input_column, e.transformation) for e in compiled.lineage} == {
        ("carrier", "flights", "carrier", "identity"),
        ("total", "flights", "delay", "aggregation"),
        ("carrier_name", "Carrier list", "name", "identity"),
        ("country", "Carrier list", "country", "transformation"),
    }


def test_qualified_columns_and_duckdb_syntax(tables, flights: Relation) -> None:
    sql = "FROM flights SELECT flights.id, list_value(flights.id, 2)[2] AS two WHERE flights.delay > 20"
    compiled = compile_recipe("sql", {"sql": sql}, [flights], ["o"], recipe="q")
    assert tables.rows(compiled.outputs[0]) == [(2, 2), (5, 2)]


def test_duckdb_only_function_turns_pushdown_off(tables, flights: Relation) -> None:
    compiled = compile_recipe(
        "sql",
        {"sql": "SELECT id, list_reduce([1, 2], (a, b) -> a + b) AS s FROM flights"},
        [flights],
        ["o"],
        recipe="q",
    )
    assert not compiled.pushdown
    assert compiled.notes and compiled.notes[0].startswith("runs in DuckDB only")
    compiled = compile_recipe(
        "sql", {"sql": "SELECT id, jaro_similarity(carrier, 'AA') FROM flights"}, [flights], ["o"], recipe="q"
    )
    assert not compiled.pushdown and "jaro_similarity" in compiled.notes[0].lower()


def test_lineage_failure_never_fails_the_compile(tables, flights: Relation) -> None:
    compiled = compile_recipe(
        "sql", {"sql": "SELECT * EXCLUDE (id) FROM flights"}, [flights], ["o"], recipe="q"
    )
    assert isinstance(compiled.outputs[0].query, exp.Query)
    assert tables.columns(compiled.outputs[0]) == ["carrier", "day", "delay"]


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        ("DROP TABLE flights", r"DROP statements are not allowed"),
        ("COPY (SELECT * FROM flights) TO '/tmp/out.csv'", r"COPY statements are not allowed"),
        ("ATTACH '/tmp/other.duckdb' AS other", r"ATTACH statements are not allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", r"table function read_csv\(…\) is not allowed"),
        ("SELECT * FROM read_parquet('/tmp/*.parquet')", r"table function read_parquet\(…\) is not allowed"),
        ("SELECT * FROM glob('/etc/*')", r"table function glob\(…\) is not allowed"),
        ("SELECT 1; SELECT 2", r"the SQL holds 2 statements; write exactly one SELECT query"),
        (
            "SELECT * FROM salaries",
            r"reads 'salaries', which is not an input of this recipe; it may read only 'flights'",
        ),
        ("SELECT * FROM flihgts", r"did you mean 'flights'\?"),
        ("SELECT * FROM '/etc/passwd'", r"reads '/etc/passwd', which is not an input"),
        ("SELECT * FROM main.flights", r"without a schema or database"),
        ("INSTALL httpfs", r"INSTALL statements are not allowed"),
        ("LOAD httpfs", r"LOAD statements are not allowed"),
        ("SET threads = 1", r"SET statements are not allowed"),
        ("PRAGMA database_list", r"PRAGMA statements are not allowed"),
        ("CREATE TABLE x AS SELECT * FROM flights", r"CREATE statements are not allowed"),
        ("INSERT INTO flights VALUES (1)", r"INSERT statements are not allowed"),
        ("SELECT getenv('HOME')", r"function getenv\(…\) is not allowed"),
        ("SELECT read_text('/etc/passwd')", r"read_text\(…\) is not allowed"),
        (
            "SELECT * FROM flights WHERE id IN (SELECT id FROM read_csv('/x.csv'))",
            r"read_csv\(…\) is not allowed",
        ),
        ("SELEC id FROM flights", r"syntax error at line 1"),
        ("", r": write the SQL query$"),
        ("CALL pragma_version()", r"CALL statements are not allowed"),
    ],
)
def test_refusals_name_the_construct(flights: Relation, sql: str, match: str) -> None:
    with pytest.raises(RecipeSpecError, match=match):
        compile_recipe("sql", {"sql": sql}, [flights], ["o"], recipe="q")


def test_cte_may_shadow_nothing_else(tables, flights: Relation) -> None:
    sql = "WITH recent AS (SELECT * FROM flights WHERE id > 6) SELECT id FROM recent"
    compiled = compile_recipe("sql", {"sql": sql}, [flights], ["o"], recipe="q")
    assert tables.rows(compiled.outputs[0]) == [(7,), (8,)]
