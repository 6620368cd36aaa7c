"""Running compiled recipes inside a real PostgreSQL server: transpiled SQL, one transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import adbc_driver_postgresql.dbapi as pg
import pytest
from sqlglot import exp

from modelworks.engine.flow import (
    ExecutionError,
    PostgresExecutionError,
    StepCancelledError,
    StepTimeoutError,
    relations_for,
    run_in_postgres,
)
from modelworks.engine.recipes.types import Column, CompiledOutput, CompiledRecipe

SALES = [Column("id", "integer"), Column("region", "string"), Column("amount", "decimal")]


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


@pytest.fixture(params=[False, True], ids=["transaction", "autocommit"])
def connection(request: pytest.FixtureRequest, pg_uri: str) -> Iterator[Any]:
    """An ADBC connection as the platform opens it (autocommit off), or in autocommit mode."""
    con = pg.connect(pg_uri, autocommit=request.param)
    try:
        yield con
    finally:
        con.close()


def tables(pg_uri: str, schema: str) -> list[str]:
    with pg.connect(pg_uri, autocommit=True) as con:
        cur = con.cursor()
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [schema]
        )
        names = [row[0] for row in cur.fetchall()]
        cur.close()
    return names


def fetch(pg_uri: str, sql: str) -> list[tuple[Any, ...]]:
    with pg.connect(pg_uri, autocommit=True) as con:
        cur = con.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
        cur.close()
    return rows


def totals_query() -> exp.Query:
    (rel,) = relations_for({"sales": SALES})
    total = exp.alias_(exp.cast(exp.func("sum", col("amount", "s")), "DOUBLE"), "total", quoted=True)
    return (
        exp.select(col("region", "s"), total)
        .from_(exp.alias_(rel.source.copy(), "s", table=True))
        .group_by(col("region", "s"))
    )


def test_a_recipe_runs_inside_postgres(connection: Any, pg_uri: str, pg_schema: str) -> None:
    compiled = CompiledRecipe((CompiledOutput("totals", totals_query()),))
    assert "DOUBLE PRECISION" in compiled.outputs[0].sql("postgres")  # transpiled, not DuckDB's DOUBLE
    rows = run_in_postgres(
        compiled,
        connection,
        input_tables={"sales": (pg_schema, "sales_in")},
        output_tables={"totals": (pg_schema, "out_totals")},
    )
    assert rows == {"totals": 2}
    assert fetch(pg_uri, f'SELECT region, total FROM "{pg_schema}".out_totals ORDER BY 1') == [  # noqa: S608
        ("north", 63.0),
        ("south", 94.5),
    ]


def test_inputs_on_the_search_path_and_odd_output_names(connection: Any, pg_uri: str, pg_schema: str) -> None:
    (rel,) = relations_for({"orders": [Column("id", "integer"), Column("customer", "string")]})
    query = (
        exp.select(col("customer"), exp.alias_(exp.func("count", exp.Star()), "n", quoted=True))
        .from_(rel.source.copy())
        .group_by(col("customer"))
    )
    odd = 'per "customer"; DROP TABLE orders; --'
    rows = run_in_postgres(
        CompiledRecipe((CompiledOutput("per customer", query),)),
        connection,
        input_tables={"orders": "orders"},  # public.orders of the sample database
        output_tables={"per customer": (pg_schema, odd)},
    )
    assert rows == {"per customer": 7}
    assert tables(pg_uri, pg_schema) == sorted([odd, "sales_in"])
    assert fetch(pg_uri, "SELECT count(*) FROM orders") == [(2500,)]


def test_all_outputs_or_none(connection: Any, pg_uri: str, pg_schema: str) -> None:
    (rel,) = relations_for({"sales": SALES})
    good = exp.select(col("id"), col("region")).from_(rel.source.copy())
    bad = exp.select(exp.alias_(exp.cast(col("region"), "INT"), "n", quoted=True)).from_(rel.source.copy())
    compiled = CompiledRecipe((CompiledOutput("first", good), CompiledOutput("second", bad)))
    with pytest.raises(
        PostgresExecutionError,
        match=r"^recipe 'Split' failed in PostgreSQL while creating output 'second': invalid input syntax "
        r'for type integer: "(north|south)"; nothing was created$',
    ):
        run_in_postgres(
            compiled,
            connection,
            input_tables={"sales": (pg_schema, "sales_in")},
            output_tables={"first": (pg_schema, "first_out"), "second": (pg_schema, "second_out")},
            recipe="Split",
        )
    assert tables(pg_uri, pg_schema) == ["sales_in"]
    # The connection is usable afterwards (no transaction left aborted).
    cur = connection.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)
    cur.close()


def test_an_existing_output_table_is_refused_and_nothing_is_created(
    connection: Any, pg_uri: str, pg_schema: str
) -> None:
    compiled = CompiledRecipe((CompiledOutput("a", totals_query()), CompiledOutput("b", totals_query())))
    with pytest.raises(
        PostgresExecutionError, match=r"while creating output 'b': relation \"sales_in\" already exists"
    ):
        run_in_postgres(
            compiled,
            connection,
            input_tables={"sales": (pg_schema, "sales_in")},
            output_tables={"a": (pg_schema, "a_out"), "b": (pg_schema, "sales_in")},
        )
    assert tables(pg_uri, pg_schema) == ["sales_in"]


def endless() -> CompiledRecipe:
    """A query that would run for hours: count the input crossed with 10^11 generated rows."""
    (rel,) = relations_for({"sales": SALES})
    huge = exp.alias_(
        exp.func("generate_series", exp.Literal.number(1), exp.Literal.number(10**11)), "g", table=True
    )
    query = (
        exp.select(exp.alias_(exp.func("count", exp.Star()), "n", quoted=True))
        .from_(rel.source.copy())
        .join(huge)
    )
    return CompiledRecipe((CompiledOutput("slow", query),))


def test_timeout_cancels_the_statement_and_rolls_back(connection: Any, pg_uri: str, pg_schema: str) -> None:
    with pytest.raises(StepTimeoutError, match=r"recipe 'slow' ran longer than its 0.3 s time limit"):
        run_in_postgres(
            endless(),
            connection,
            input_tables={"sales": (pg_schema, "sales_in")},
            output_tables={"slow": (pg_schema, "slow_out")},
            timeout_s=0.3,
            recipe="slow",
        )
    assert tables(pg_uri, pg_schema) == ["sales_in"]


def test_cancel_stops_the_statement_and_rolls_back(connection: Any, pg_uri: str, pg_schema: str) -> None:
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        with pytest.raises(StepCancelledError, match=r"recipe 'slow' was stopped: the build was cancelled"):
            run_in_postgres(
                endless(),
                connection,
                input_tables={"sales": (pg_schema, "sales_in")},
                output_tables={"slow": (pg_schema, "slow_out")},
                cancelled=cancel.is_set,
                recipe="slow",
            )
    finally:
        timer.cancel()
    assert tables(pg_uri, pg_schema) == ["sales_in"]


@pytest.mark.parametrize(
    ("pushdown", "outputs", "match"),
    [
        (
            False,
            {"totals": ("s", "t")},
            r"recipe 'r' uses functions PostgreSQL does not have; run it in the platform",
        ),
        (True, {}, r"recipe 'r' has no place to write output 'totals'"),
    ],
)
def test_recipes_that_cannot_run_there(
    connection: Any, pushdown: bool, outputs: dict[str, tuple[str, str]], match: str
) -> None:
    compiled = CompiledRecipe((CompiledOutput("totals", totals_query()),), pushdown=pushdown)
    with pytest.raises(ExecutionError, match=match):
        run_in_postgres(compiled, connection, input_tables={}, output_tables=outputs, recipe="r")
