"""Push-down: the same compiled recipes run inside a real PostgreSQL give DuckDB's results.

Each recipe is compiled once over inputs that are PostgreSQL tables, run there through ADBC with
the SQL transpiled to ``postgres``, and run in DuckDB over the same rows stored as Parquet (the
sources re-bound with :func:`bind_sources`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import adbc_driver_postgresql.dbapi as pg
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from modelworks.engine.duck import connect
from modelworks.engine.recipes import Relation, bind_sources, compile_recipe
from modelworks.engine.recipes.types import Column, CompiledOutput

if TYPE_CHECKING:
    from modelworks.connections.tests.servers import PostgresServer

pytest_plugins = ["modelworks.connections.tests.servers"]
_NUMBER = re.compile(r"-?\d+(\.\d+)?")

FLIGHTS = """
    SELECT range + 1 AS id,
           ['AA', 'BB', 'CC', NULL][range % 4 + 1] AS carrier,
           DATE '2024-01-01' + CAST(range % 9 AS INTEGER) AS day,
           CASE WHEN range % 7 = 3 THEN NULL ELSE (range * 37) % 61 - 10 END AS delay
    FROM range(200)
"""
CARRIERS = "SELECT * FROM (VALUES ('AA', 'American'), ('BB', 'Bravo'), ('DD', 'Delta')) v(code, name)"


class Engines:
    """The same inputs in DuckDB (Parquet files) and in PostgreSQL (tables of database ``recipes``)."""

    def __init__(self, server: PostgresServer, folder: Path) -> None:
        self.uri = server.admin_uri("recipes")
        self.paths: list[Path] = []
        self.pg_inputs: list[Relation] = []
        self.duck_sources: list[exp.Expr] = []
        with pg.connect(server.admin_uri(), autocommit=True) as admin:
            admin.cursor().execute("DROP DATABASE IF EXISTS recipes")
            admin.cursor().execute("CREATE DATABASE recipes")
        for name, sql in (("flights", FLIGHTS), ("carriers", CARRIERS)):
            path = folder / f"{name}.parquet"
            con = connect(write=[path])
            try:
                con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
                described = con.execute("DESCRIBE SELECT * FROM read_parquet($1)", [str(path)]).fetchall()
            finally:
                con.close()
            with pg.connect(self.uri, autocommit=True) as con_pg:
                con_pg.cursor().adbc_ingest(name, pq.read_table(path), mode="create")
            types = {"BIGINT": "integer", "VARCHAR": "string", "DATE": "date", "INTEGER": "integer"}
            columns = tuple(Column(str(r[0]), types[str(r[1])]) for r in described)
            self.paths.append(path)
            self.pg_inputs.append(
                Relation(name, columns, exp.Table(this=exp.to_identifier(name, quoted=True)))
            )
            self.duck_sources.append(
                exp.Table(this=exp.ReadParquet(expressions=[exp.Literal.string(str(path))]))
            )

    def input(self, name: str) -> Relation:
        return next(r for r in self.pg_inputs if r.name == name)

    def both(self, output: CompiledOutput, inputs: list[Relation]) -> tuple[list[tuple], list[tuple]]:
        """The output's rows in PostgreSQL and in DuckDB, normalised for comparison."""
        with pg.connect(self.uri) as con_pg:
            cursor = con_pg.cursor()
            cursor.execute(output.sql("postgres"))
            in_pg = cursor.fetchall()
        sources = [self.duck_sources[self.pg_inputs.index(r)] for r in inputs]
        duck_sql = bind_sources(output.query, inputs, sources).sql(dialect="duckdb")
        con = connect(read=self.paths)
        try:
            in_duck = con.execute(duck_sql).fetchall()
        finally:
            con.close()
        return _normal(in_pg), _normal(in_duck)


def _value(v: Any) -> Any:
    if isinstance(v, str) and _NUMBER.fullmatch(v):
        return round(float(v), 6)  # ADBC returns PostgreSQL's numeric as text
    if isinstance(v, bool) or v is None or isinstance(v, str | dt.date):
        return v
    if isinstance(v, int | float | Decimal):
        return round(float(v), 6)
    return v


def _normal(rows: list[tuple]) -> list[tuple]:
    return sorted(
        (tuple(_value(v) for v in row) for row in rows), key=lambda r: tuple((v is None, str(v)) for v in r)
    )


@pytest.fixture(scope="module")
def engines(postgres_source: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    yield Engines(postgres_source, tmp_path_factory.mktemp("pushdown"))


def _check(
    engines: Engines, kind: str, spec: dict, inputs: list[str], outputs: list[str]
) -> list[list[tuple]]:
    relations = [engines.input(n) for n in inputs]
    compiled = compile_recipe(kind, spec, relations, outputs, recipe=f"push_{kind}")
    assert compiled.pushdown, compiled.notes
    results = []
    for output in compiled.outputs:
        in_pg, in_duck = engines.both(output, relations)
        assert in_pg == in_duck, f"{kind} output {output.name} differs:\n{output.sql('postgres')}"
        results.append(in_pg)
    return results


@pytest.mark.parametrize("kind", ["inner", "left", "right", "full", "semi", "anti"])
def test_join_in_postgres(engines: Engines, kind: str) -> None:
    spec = {
        "joins": [
            {"type": kind, "on": [{"left": "carrier", "right": "code"}], "condition": "name != 'Nobody'"}
        ],
        "filter": {"filters": [{"column": "day", "op": "ge", "value": "2024-01-03"}]},
    }
    (rows,) = _check(engines, "join", spec, ["flights", "carriers"], ["o"])
    assert rows


def test_group_in_postgres(engines: Engines) -> None:
    spec = {
        "keys": ["carrier"],
        "aggregations": [
            {"function": "count"},
            {"column": "delay", "function": "count_distinct"},
            {"column": "delay", "function": "sum"},
            {"column": "delay", "function": "avg"},
            {"column": "delay", "function": "median"},
            {"column": "delay", "function": "quantile", "p": 0.9},
            {"column": "delay", "function": "stddev"},
            {"column": "delay", "function": "variance"},
            {"column": "day", "function": "min"},
            {
                "column": "id",
                "function": "first",
                "order_by": [{"column": "delay", "direction": "desc"}, "id"],
            },
            {"column": "id", "function": "last", "order_by": ["day", "id"]},
            {"column": "day", "function": "concat", "separator": "|", "order_by": ["day", "id"]},
        ],
        "having": "count > 10",
    }
    (rows,) = _check(engines, "group", spec, ["flights"], ["o"])
    assert len(rows) == 4


def test_window_in_postgres(engines: Engines) -> None:
    spec = {
        "partition_by": ["carrier"],
        "order_by": ["day", "id"],
        "functions": [
            {"function": "row_number"},
            {"function": "rank"},
            {"function": "dense_rank"},
            {"function": "percent_rank"},
            {"function": "cume_dist"},
            {"function": "ntile", "n": 3},
            {"function": "lag", "column": "delay", "offset": 2, "default": -99},
            {"function": "lead", "column": "delay", "default": 0},
            {"function": "first_value", "column": "delay"},
            {"function": "last_value", "column": "delay"},
            {"function": "sum", "column": "delay"},
            {"function": "count", "column": "delay"},
            {"function": "moving_avg", "column": "delay", "n": 3},
            {"function": "max", "column": "delay", "frame": {"start": "2 preceding", "end": "1 following"}},
        ],
    }
    (rows,) = _check(engines, "window", spec, ["flights"], ["o"])
    assert len(rows) == 200
    ranged = {
        "order_by": ["id"],
        "functions": [
            {"function": "sum", "column": "delay", "frame": {"unit": "range", "start": "3 preceding"}}
        ],
    }
    _check(engines, "window", ranged, ["flights"], ["o"])


@pytest.mark.parametrize("id_column", [None, "id"])
def test_random_split_is_the_same_in_both(engines: Engines, id_column: str | None) -> None:
    spec = {"mode": "random", "fractions": [0.6, 0.3], "seed": 5, "id_column": id_column}
    first, second, rest = _check(engines, "split", spec, ["flights"], ["a", "b", "c"])
    assert len(first) + len(second) + len(rest) == 200 and first and second and rest


def test_other_splits_and_row_recipes_in_postgres(engines: Engines) -> None:
    condition = {
        "mode": "condition",
        "conditions": [
            {"output": "late", "formula": "delay > 20"},
            {"output": "early", "formula": "delay < 0"},
        ],
        "other": "rest",
    }
    _check(engines, "split", condition, ["flights"], ["late", "early", "rest"])
    _check(engines, "split", {"mode": "time", "column": "day", "percentiles": [0.5]}, ["flights"], ["a", "b"])
    _check(
        engines,
        "split",
        {"mode": "time", "column": "day", "cutoffs": ["2024-01-05"]},
        ["flights"],
        ["a", "b"],
    )
    _check(engines, "sample", {"mode": "random", "n": 20, "seed": 2}, ["flights"], ["o"])
    _check(
        engines,
        "sample",
        {"mode": "random", "fraction": 0.2, "seed": 2, "stratify_by": "carrier"},
        ["flights"],
        ["o"],
    )
    _check(
        engines,
        "sample",
        {"mode": "random", "n": 2, "id_column": "id", "stratify_by": "carrier"},
        ["flights"],
        ["o"],
    )
    _check(engines, "top_n", {"n": 2, "order_by": [{"column": "delay", "direction": "desc"}, "id"], "group_by": ["carrier"]}, ["flights"], ["o"])  # fmt: skip
    _check(
        engines,
        "distinct",
        {"columns": ["carrier", "day"], "order_by": ["id"], "count_column": "n"},
        ["flights"],
        ["o"],
    )
    _check(engines, "distinct", {"count_column": "n"}, ["carriers"], ["o"])
    _check(engines, "pivot", {"index": ["carrier"], "column": "day", "values": ["2024-01-01", "2024-01-02"], "aggregations": [{"column": "delay", "function": "sum"}, {"function": "count"}]}, ["flights"], ["o"])  # fmt: skip
    _check(engines, "stack", {"origin_column": "source"}, ["flights", "carriers"], ["o"])
    _check(engines, "sort", {"columns": [{"column": "carrier", "nulls": "first"}, "id"]}, ["flights"], ["o"])
    _check(
        engines,
        "sql",
        {"sql": "SELECT carrier, count(*) AS n FROM flights GROUP BY carrier"},
        ["flights"],
        ["o"],
    )
