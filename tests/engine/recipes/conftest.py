"""Small real Parquet inputs for the recipe tests, and a way to run compiled queries on them.

``tables.add(name, sql)`` writes the rows of a DuckDB ``SELECT`` to a Parquet file and returns the
:class:`Relation` a recipe sees (its source reads that file); ``tables.rows(query)`` runs a
compiled query on a locked connection that may read only those files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from modelworks.engine.duck import connect
from modelworks.engine.io.schema import logical_type
from modelworks.engine.recipes import CompiledOutput, Relation
from modelworks.engine.recipes.types import Column


class Tables:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: dict[str, Path] = {}

    def add(self, name: str, sql: str) -> Relation:
        path = self.folder / f"input_{len(self.paths)}.parquet"
        con = duckdb.connect()
        try:
            con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
            described = con.execute("DESCRIBE SELECT * FROM read_parquet($1)", [str(path)]).fetchall()
        finally:
            con.close()
        self.paths[name] = path
        columns = tuple(Column(str(row[0]), logical_type(str(row[1]))) for row in described)
        source = exp.Table(this=exp.ReadParquet(expressions=[exp.Literal.string(str(path))]))
        return Relation(name, columns, source)

    def rows(self, query: CompiledOutput | exp.Query, *, ordered: bool = False) -> list[tuple[Any, ...]]:
        """The query's rows (sorted unless ``ordered``: the query's own order is then checked)."""
        sql = query.sql("duckdb") if isinstance(query, CompiledOutput) else query.sql(dialect="duckdb")
        con = connect(read=list(self.paths.values()))
        try:
            result = [tuple(r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()
        return result if ordered else sorted(result, key=_sort_key)

    def columns(self, query: CompiledOutput) -> list[str]:
        con = connect(read=list(self.paths.values()))
        try:
            return [str(r[0]) for r in con.execute(f"DESCRIBE {query.sql('duckdb')}").fetchall()]
        finally:
            con.close()


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for v in row)


@pytest.fixture
def tables(tmp_path: Path) -> Tables:
    return Tables(tmp_path)


@pytest.fixture
def flights(tables: Tables) -> Relation:
    """8 flights: id, carrier (one unknown 'ZZ', one empty), day, delay (one empty)."""
    return tables.add(
        "flights",
        """SELECT * FROM (VALUES
            (1, 'AA', DATE '2024-01-01', 10),
            (2, 'AA', DATE '2024-01-02', 25),
            (3, 'BB', DATE '2024-01-01', -5),
            (4, 'BB', DATE '2024-01-03', NULL),
            (5, 'BB', DATE '2024-01-04', 40),
            (6, 'ZZ', DATE '2024-01-02', 0),
            (7, NULL, DATE '2024-01-05', 7),
            (8, 'aa', DATE '2024-01-06', 3)
        ) AS v(id, carrier, day, delay)""",
    )


@pytest.fixture
def carriers(tables: Tables) -> Relation:
    """3 carriers: AA, BB and CC (CC has no flight)."""
    return tables.add(
        "carriers",
        "SELECT * FROM (VALUES ('AA', 'American', 'US'), ('BB', 'Bravo', 'FR'), ('CC', 'Charlie', 'DE')) "
        "AS v(code, name, country)",
    )
