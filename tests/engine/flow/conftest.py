"""Fixtures of the Flow engine tests: a small flow, Parquet inputs written by DuckDB, and the real
PostgreSQL server of the connection tests (imported here: pytest only takes ``pytest_plugins`` in
the top-level conftest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from modelworks.connections.tests.servers import PostgresServer, postgres_source
from modelworks.engine.flow import FlowGraph, RecipeNode

__all__ = ["postgres_source"]


@pytest.fixture
def flow() -> FlowGraph:
    """raw ─prep→ clean ─agg→ totals ─┐
    raw ─other→ other ────────────────┴─final→ report   (and `lookup`, used by nobody)"""
    return FlowGraph.from_recipes(
        [
            RecipeNode("final", "final", ("totals", "other"), ("report",)),
            RecipeNode("agg", "agg", ("clean",), ("totals",)),
            RecipeNode("prep", "prep", ("raw",), ("clean",)),
            RecipeNode("other", "other", ("raw",), ("other",)),
        ],
        datasets=["raw", "lookup"],
    )


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_parquet(name, select_sql)``: the rows of a (test-written) query as a Parquet file."""

    def write(name: str, select: str) -> Path:
        path = tmp_path / "inputs" / f"{name}.parquet"
        path.parent.mkdir(exist_ok=True)
        con = duckdb.connect()
        try:
            con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
        finally:
            con.close()
        return path

    return write


def _read_rows(path: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()  # noqa: S608
    finally:
        con.close()


@pytest.fixture
def read_rows() -> Callable[[Path], list[tuple[Any, ...]]]:
    """``read_rows(path)``: every row of a Parquet file, sorted."""
    return _read_rows


@pytest.fixture
def pg_uri(postgres_source: PostgresServer) -> str:
    """Superuser access to the ``sales`` database over the server's Unix socket."""
    return postgres_source.admin_uri("sales")


@pytest.fixture
def pg_schema(pg_uri: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema with the input table ``sales_in`` (5 rows), dropped after the test."""
    import adbc_driver_postgresql.dbapi as pg

    schema = "flow_" + request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")[:40]
    with pg.connect(pg_uri, autocommit=True) as con:
        cur = con.cursor()
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cur.execute(f'CREATE SCHEMA "{schema}"')
        cur.execute(
            f'CREATE TABLE "{schema}".sales_in AS SELECT g AS id, '  # noqa: S608
            "(CASE WHEN g % 2 = 0 THEN 'north' ELSE 'south' END) AS region, g * 10.5 AS amount "
            "FROM generate_series(1, 5) g"
        )
        cur.close()
    yield schema
    with pg.connect(pg_uri, autocommit=True) as con:
        cur = con.cursor()
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cur.close()
