"""A small real table of flights in DuckDB and a way to run prepare recipes over it.

``prep.run(steps)`` compiles the steps with :func:`compile_prepare` and runs the query on a locked
DuckDB connection; rows come back as dicts, ordered by ``id`` when the output has it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from sqlglot import exp

from modelworks.engine.duck import connect
from modelworks.engine.recipes.prepare import compile_prepare
from modelworks.engine.recipes.types import Column, CompiledRecipe, Relation

COLUMNS = (
    Column("id", "integer"),
    Column("carrier", "string"),
    Column("origin", "string"),
    Column("dep_delay", "integer"),
    Column("distance", "float"),
    Column("dep_time", "timestamp"),
    Column("day", "date"),
    Column("note", "string"),
    Column("code", "string"),
    Column("cancelled", "boolean"),
    Column("lat", "float"),
    Column("lon", "float"),
    Column("payload", "string"),
)
SQL_TYPES = {
    "integer": "BIGINT",
    "string": "VARCHAR",
    "float": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
}
T = dt.datetime
D = dt.date
ROWS: list[tuple[Any, ...]] = [
    (
        1,
        "AA",
        "JFK",
        10,
        1000.0,
        T(2024, 3, 15, 10, 30),
        D(2024, 3, 15),
        "  Hello   World ",
        "42",
        False,
        40.6413,
        -73.7781,
        '{"a": {"b": 7}, "items": [{"name": "x"}]}',
    ),
    (
        2,
        "AA",
        "JFK",
        None,
        250.5,
        T(2024, 3, 16, 23, 0),
        D(2024, 3, 16),
        "x, y",
        "7.5",
        False,
        51.47,
        -0.4543,
        '{"a": {"b": 8}}',
    ),
    (3, "UA", "EWR", 300, None, None, None, None, "abc", True, None, None, None),
    (4, "DL", "LGA", -5, 80.0, T(2024, 1, 1, 0, 0), D(2024, 1, 1), "", None, False, 48.8566, 2.3522, "{}"),
    (
        5,
        "AA",
        "JFK",
        0,
        1200.25,
        T(2023, 12, 31, 18, 45),
        D(2023, 12, 31),
        "a-b-c",
        " 13 ",
        None,
        40.6413,
        -73.7781,
        '{"a": {"b": null}}',
    ),
    (
        6,
        "B6",
        "JFK",
        45,
        2500.0,
        T(2024, 2, 29, 6, 5),
        D(2024, 2, 29),
        "AB-123",
        "1e3",
        False,
        33.9416,
        -118.4085,
        '{"a": {"b": "z"}}',
    ),
]

RELATION = Relation("flights", COLUMNS, exp.to_table("flights"))


def create_table_sql(dialect_types: Mapping[str, str], name: str = "flights") -> str:
    columns = ", ".join(f'"{c.name}" {dialect_types[c.type]}' for c in COLUMNS)
    return f"CREATE TABLE {name} ({columns})"


class Prep:
    """Compile and run prepare steps over the flights table."""

    relation = RELATION
    data = ROWS

    def __init__(self) -> None:
        self.con = connect()
        self.con.execute(create_table_sql(SQL_TYPES))
        placeholders = ", ".join("?" for _ in COLUMNS)
        self.con.executemany(f"INSERT INTO flights VALUES ({placeholders})", ROWS)  # noqa: S608

    def compile(self, steps: Sequence[Mapping[str, Any]], relation: Relation = RELATION) -> CompiledRecipe:
        return compile_prepare({"steps": list(steps)}, relation, "prepared", recipe="clean_flights")

    def run(self, steps: Sequence[Mapping[str, Any]], relation: Relation = RELATION) -> list[dict[str, Any]]:
        return self.rows(self.compile(steps, relation))

    def rows(self, compiled: CompiledRecipe) -> list[dict[str, Any]]:
        cursor = self.con.execute(compiled.outputs[0].sql("duckdb"))
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return sorted(rows, key=lambda r: r["id"]) if "id" in names else rows

    def column(self, steps: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
        """Column ``name`` of the output, by id."""
        return [row[name] for row in self.run(steps)]


def step(processor: str, **params: Any) -> dict[str, Any]:
    """One enabled step."""
    return {"processor": processor, "params": params, "enabled": True, "comment": ""}


@pytest.fixture(scope="module")
def prep() -> Iterator[Prep]:
    runner = Prep()
    yield runner
    runner.con.close()
