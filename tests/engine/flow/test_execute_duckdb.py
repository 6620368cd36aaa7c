"""Running compiled recipes in DuckDB over real Parquet files."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from modelworks.engine.flow import (
    ExecutionError,
    QueryError,
    StepCancelledError,
    StepTimeoutError,
    input_alias,
    relations_for,
    run_in_duckdb,
)
from modelworks.engine.recipes.types import Column, CompiledOutput, CompiledRecipe, Relation

ORDERS = [Column("id", "integer"), Column("region", "string"), Column("amount", "float")]
ReadRows = Callable[[Path], list[tuple[Any, ...]]]
WriteParquet = Callable[[str, str], Path]


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


@pytest.fixture
def orders(write_parquet: WriteParquet) -> Path:
    """6 orders: ids 1-6, regions north/south alternating, amount = id * 10."""
    return write_parquet(
        "orders",
        "SELECT range::INTEGER AS id, CASE WHEN range % 2 = 0 THEN 'north' ELSE 'south' END AS region, "
        "range * 10.0 AS amount FROM range(1, 7)",
    )


def test_relations_use_safe_quoted_aliases_never_the_users_names() -> None:
    relations = relations_for({"../../etc/passwd": ORDERS, 'orders"; DROP TABLE x': [Column("a", "string")]})
    assert [r.name for r in relations] == ["../../etc/passwd", 'orders"; DROP TABLE x']
    for relation in relations:
        assert isinstance(relation.source, exp.Table)
        assert relation.source.sql(dialect="duckdb") == f'"{input_alias(relation.name)}"'
    assert relations[0].columns == tuple(ORDERS)
    assert input_alias("orders") == input_alias("orders") != input_alias("Orders")
    assert input_alias("orders").startswith("mw_input_") and len(input_alias("orders")) == 25


def test_group_recipe_writes_parquet_and_returns_row_counts(
    orders: Path, tmp_path: Path, read_rows: ReadRows
) -> None:
    (rel,) = relations_for({"orders": ORDERS})
    query = (
        exp.select(col("region"), exp.alias_(exp.func("sum", col("amount")), "total", quoted=True))
        .from_(rel.source.copy())
        .group_by(col("region"))
    )
    out = tmp_path / "totals.parquet"
    rows = run_in_duckdb(
        CompiledRecipe((CompiledOutput("totals", query),)), {"orders": orders}, {"totals": out}
    )
    assert rows == {"totals": 2}
    assert read_rows(out) == [("north", 120.0), ("south", 90.0)]
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"


def test_split_join_and_odd_names(
    write_parquet: WriteParquet, orders: Path, tmp_path: Path, read_rows: ReadRows
) -> None:
    regions = write_parquet(
        "regions", "SELECT * FROM (VALUES ('north', 'North side'), ('south', 'South side')) t(code, label)"
    )
    names = {"orders": "client's orders", "regions": 'weird "regions"'}
    left, right = relations_for(
        {names["orders"]: ORDERS, names["regions"]: [Column("code", "string"), Column("label", "string")]}
    )
    joined = (
        exp.select(col("id", "o"), col("label", "r"), col("amount", "o"))
        .from_(exp.alias_(left.source.copy(), "o", table=True))
        .join(
            exp.alias_(right.source.copy(), "r", table=True),
            on=exp.EQ(this=col("region", "o"), expression=col("code", "r")),
        )
    )
    big = joined.copy().where(exp.GTE(this=col("amount", "o"), expression=exp.Literal.number(40)))
    small = joined.copy().where(exp.LT(this=col("amount", "o"), expression=exp.Literal.number(40)))
    compiled = CompiledRecipe((CompiledOutput("big orders", big), CompiledOutput("small orders", small)))
    outputs = {"big orders": tmp_path / "big.parquet", "small orders": tmp_path / "small.parquet"}
    rows = run_in_duckdb(compiled, {names["orders"]: orders, names["regions"]: regions}, outputs, threads=1)
    assert rows == {"big orders": 3, "small orders": 3}
    assert read_rows(outputs["big orders"]) == [
        (4, "North side", 40.0),
        (5, "South side", 50.0),
        (6, "North side", 60.0),
    ]
    assert [r[0] for r in read_rows(outputs["small orders"])] == [1, 2, 3]


def bad_cast(rel: Relation) -> exp.Query:
    return exp.select(exp.alias_(exp.cast(col("region"), "INT"), "region_id", quoted=True)).from_(
        rel.source.copy()
    )


def test_a_query_error_names_recipe_output_and_input_and_leaves_no_file(orders: Path, tmp_path: Path) -> None:
    (rel,) = relations_for({"orders": ORDERS})
    good = exp.select(col("id")).from_(rel.source.copy())
    missing = exp.select(col("nope")).from_(rel.source.copy())
    outputs = {"first": tmp_path / "first.parquet", "second": tmp_path / "second.parquet"}
    # The first output is written, the second fails: neither file is left.
    with pytest.raises(
        QueryError, match=r"^recipe 'Clean' failed in DuckDB while writing output 'second': Conversion Error"
    ) as caught:
        run_in_duckdb(
            CompiledRecipe((CompiledOutput("first", good), CompiledOutput("second", bad_cast(rel)))),
            {"orders": orders},
            outputs,
            recipe="Clean",
        )
    assert caught.value.details == {"recipe": "Clean", "output": "second"}
    assert list(tmp_path.glob("*.parquet")) == []
    # Binder errors show the input's name, not the internal alias, and no server path.
    with pytest.raises(QueryError, match=r'column "nope" not found') as caught:
        run_in_duckdb(
            CompiledRecipe((CompiledOutput("first", missing),)), {"orders": orders}, outputs, recipe="Clean"
        )
    assert "mw_input_" not in caught.value.message and str(tmp_path) not in caught.value.message


def test_the_connection_may_only_read_the_inputs(
    orders: Path, write_parquet: WriteParquet, tmp_path: Path
) -> None:
    secret = write_parquet("secret", "SELECT 42 AS salary")
    sneaky = exp.select(exp.Star()).from_(exp.func("read_parquet", exp.Literal.string(str(secret))))
    with pytest.raises(
        QueryError, match=r"recipe 'sneaky' failed in DuckDB while writing output 'out': Permission Error"
    ):
        run_in_duckdb(
            CompiledRecipe((CompiledOutput("out", sneaky),)),
            {"orders": orders},
            {"out": tmp_path / "o.parquet"},
            recipe="sneaky",
        )
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(
    ("inputs", "outputs", "match"),
    [
        ({}, {"out": "o.parquet"}, r"recipe 'r' reads an input that was not given to it \(output 'out'\)"),
        (
            {"orders": Path("/nonexistent/orders.parquet")},
            {"out": "o.parquet"},
            r"the data file of input 'orders' is missing",
        ),
        ({}, {"other": "o.parquet"}, r"recipe 'r' has no place to write output 'out'"),
    ],
)
def test_bad_arguments(tmp_path: Path, inputs: dict[str, Path], outputs: dict[str, str], match: str) -> None:
    (rel,) = relations_for({"orders": ORDERS})
    query = exp.select(col("id")).from_(rel.source.copy())
    with pytest.raises(ExecutionError, match=match):
        run_in_duckdb(
            CompiledRecipe((CompiledOutput("out", query),)),
            inputs,
            {k: tmp_path / v for k, v in outputs.items()},
            recipe="r",
        )


def endless(rel: Relation) -> exp.Query:
    """A query that would take hours: count a huge cross join of the input with a range."""
    return (
        exp.select(exp.alias_(exp.func("count", exp.Star()), "n"))
        .from_(rel.source.copy())
        .join(exp.func("range", exp.Literal.number(10**12)).as_("big"))
        .where(exp.EQ(this=exp.func("hash", exp.column("range", "big")), expression=exp.Literal.number(1)))
    )


def test_timeout_interrupts_a_long_query_and_leaves_no_output(orders: Path, tmp_path: Path) -> None:
    (rel,) = relations_for({"orders": ORDERS})
    out = tmp_path / "slow.parquet"
    started = time.monotonic()
    with pytest.raises(
        StepTimeoutError, match=r"^recipe 'slow' ran longer than its 0.3 s time limit and was stopped; "
    ):
        run_in_duckdb(
            CompiledRecipe((CompiledOutput("out", endless(rel)),)),
            {"orders": orders},
            {"out": out},
            timeout_s=0.3,
            recipe="slow",
        )
    assert time.monotonic() - started < 30  # interrupted, not run to the end (hours)
    assert not out.exists()


def test_cancel_interrupts_a_long_query_and_leaves_no_output(orders: Path, tmp_path: Path) -> None:
    (rel,) = relations_for({"orders": ORDERS})
    out = tmp_path / "slow.parquet"
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    try:
        with pytest.raises(StepCancelledError, match=r"^recipe 'slow' was stopped: the build was cancelled$"):
            run_in_duckdb(
                CompiledRecipe((CompiledOutput("out", endless(rel)),)),
                {"orders": orders},
                {"out": out},
                cancelled=cancel.is_set,
                recipe="slow",
            )
    finally:
        timer.cancel()
    assert cancel.is_set() and not out.exists()


def test_cancelled_before_the_first_query_runs_nothing(orders: Path, tmp_path: Path) -> None:
    (rel,) = relations_for({"orders": ORDERS})
    out = tmp_path / "out.parquet"
    compiled = CompiledRecipe((CompiledOutput("out", exp.select(col("id")).from_(rel.source.copy())),))
    with pytest.raises(StepCancelledError):
        run_in_duckdb(compiled, {"orders": orders}, {"out": out}, cancelled=lambda: True, recipe="x")
    assert not out.exists()
