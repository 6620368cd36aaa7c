"""The unmatched-rows report of a join recipe, run where the join ran.

:func:`~modelworks.engine.recipes.unmatched_report` gives, per join, one small aggregate query per
side (the rows of that side, and how many find no match on the other side). This module runs them:

* :func:`count_unmatched_in_duckdb` over the input Parquet files, all of them (a build) or the first
  ``sample_rows`` rows of each (the editor's preview, the same sample the preview uses);
* :func:`count_unmatched_in_postgres` inside PostgreSQL, on the input tables (a push-down build), in a
  read-only transaction that is rolled back.

Each answer is an :class:`UnmatchedCount`, which also words itself for logs and pages:
``Join 1 (flights LEFT JOIN weather): 1,234 of 336,776 rows of 'flights' found no match (0.4 %)``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import ErrorLevel, exp
from sqlglot.errors import SqlglotError

from modelworks.engine.duck import connect
from modelworks.engine.flow.errors import ExecutionError, PostgresExecutionError, QueryError
from modelworks.engine.flow.execute import (
    _bind_tables,
    _canceller,
    _is_autocommit,
    _pg_message,
    _rollback,
    _table,
    input_alias,
)
from modelworks.engine.flow.watch import StepStopped, StepWatch, stopped_error
from modelworks.engine.recipes import JOIN_SYMBOLS, UnmatchedQuery, bind_sources, unmatched_report
from modelworks.engine.recipes.types import Relation

__all__ = [
    "UnmatchedCount",
    "count_unmatched_in_duckdb",
    "count_unmatched_in_postgres",
    "count_unmatched_in_session",
]


@dataclass(frozen=True)
class UnmatchedCount:
    """How many rows of one side of a join found no match on the other side.

    Attributes:
        join: the join's number, 1-based; ``join_type``: ``inner``, ``left``…
        left, right: the two inputs the join matches (the earlier one, the attached one).
        side, other: the input whose rows were counted, the one they were looked up in.
        total_rows: rows of ``side`` (of its sample, for a preview).
        unmatched_rows: those that found no row of ``other``.
    """

    join: int
    join_type: str
    left: str
    right: str
    side: str
    other: str
    total_rows: int
    unmatched_rows: int

    @property
    def share(self) -> float:
        """``unmatched_rows / total_rows`` (0 when the side has no row)."""
        return self.unmatched_rows / self.total_rows if self.total_rows else 0.0

    @property
    def percent(self) -> str:
        """The share as text: ``0.4 %``, ``< 0.1 %`` for a few rows of many, ``0 %`` for none."""
        if self.unmatched_rows == 0:
            return "0 %"
        if self.share < 0.001:
            return "< 0.1 %"
        return f"{100 * self.share:.1f} %"

    @property
    def title(self) -> str:
        """``Join 1 (flights LEFT JOIN weather)``."""
        symbol = JOIN_SYMBOLS.get(self.join_type, self.join_type)
        return f"Join {self.join} ({self.left} {symbol} {self.right})"

    @property
    def sentence(self) -> str:
        """``1,234 of 336,776 rows of 'flights' found no match (0.4 %)``."""
        rows = "row" if self.total_rows == 1 else "rows"
        return (
            f"{self.unmatched_rows:,} of {self.total_rows:,} {rows} of '{self.side}' found no match "
            f"({self.percent})"
        )

    @property
    def message(self) -> str:
        """The title and the sentence, for a log line."""
        return f"{self.title}: {self.sentence}"

    def to_dict(self) -> dict[str, Any]:
        """JSON for a build step's details."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnmatchedCount | None:
        """Read back :meth:`to_dict` (None when ``data`` is not one, e.g. written by another version)."""
        try:
            return cls(
                join=int(data["join"]),
                join_type=str(data["join_type"]),
                left=str(data["left"]),
                right=str(data["right"]),
                side=str(data["side"]),
                other=str(data["other"]),
                total_rows=int(data["total_rows"]),
                unmatched_rows=int(data["unmatched_rows"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _count(item: UnmatchedQuery, row: Sequence[Any] | None) -> UnmatchedCount:
    total, unmatched = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    return UnmatchedCount(
        join=item.join,
        join_type=item.join_type,
        left=item.left,
        right=item.right,
        side=item.side,
        other=item.other,
        total_rows=total,
        unmatched_rows=unmatched,
    )


def count_unmatched_in_duckdb(
    spec: Mapping[str, Any],
    inputs: Sequence[Relation],
    input_paths: Mapping[str, Path],
    *,
    recipe: str,
    sample_rows: int | None = None,
    timeout_s: float | None = None,
    cancelled: Callable[[], bool] | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    spill_dir: Path | None = None,
) -> tuple[UnmatchedCount, ...]:
    """Count the unmatched rows of each join of a join recipe over its input files.

    Args:
        spec: the join's (normalised) settings.
        inputs: the relations the join is compiled against (``relations_for``), in input order.
        input_paths: input name → its Parquet file.
        recipe: the recipe's name, for messages.
        sample_rows: count on the first ``sample_rows`` rows of each input only (a preview).
        timeout_s, cancelled, threads, memory_limit, spill_dir: as :func:`run_in_duckdb`.

    Returns:
        One count per join and side (left side first); empty when no join can be reported.

    Raises:
        RecipeSpecError / MissingColumnError: the settings do not fit the inputs.
        ExecutionError: an input file is missing. QueryError: DuckDB failed a query.
        StepTimeoutError / StepCancelledError: stopped.
    """
    queries = unmatched_report(spec, inputs, recipe=recipe)
    if not queries:
        return ()
    paths: dict[str, str] = {}
    for relation in inputs:
        path = input_paths.get(relation.name)
        if path is None or not Path(path).is_file():
            raise ExecutionError(
                f"the unmatched-rows report of recipe {recipe!r} cannot run: the data file of input "
                f"{relation.name!r} is missing",
                recipe=recipe,
                input=relation.name,
            )
        paths[relation.name] = os.path.abspath(path)
    replacements: list[exp.Expr] = []
    for relation in inputs:
        read = exp.select(exp.Star()).from_(
            exp.Table(this=exp.ReadParquet(expressions=[exp.Literal.string(paths[relation.name])]))
        )
        replacements.append(exp.Subquery(this=read.limit(sample_rows) if sample_rows else read))
    con = connect(read=paths.values(), spill_dir=spill_dir, threads=threads, memory_limit=memory_limit)
    try:
        with StepWatch(con.interrupt, timeout_s, cancelled) as watch:
            counts = _count_all(
                con, queries, inputs, replacements, recipe=recipe, check=watch.check, paths=paths
            )
            watch.check()
    except StepStopped as stop:
        raise stopped_error(stop.reason, recipe, timeout_s) from None
    finally:
        con.close()
    return counts


def count_unmatched_in_session(
    con: duckdb.DuckDBPyConnection,
    spec: Mapping[str, Any],
    inputs: Sequence[Relation],
    *,
    recipe: str,
    sources: Sequence[exp.Expr] | None = None,
) -> tuple[UnmatchedCount, ...]:
    """Count the unmatched rows of each join in an open DuckDB connection that can read the inputs.

    Used inside :func:`~modelworks.engine.flow.execute_in_duckdb`'s ``then``: the step's own
    connection, where each input is the view named after its alias, so no second database is opened.

    Args:
        con: the connection.
        spec, inputs, recipe: as :func:`count_unmatched_in_duckdb`.
        sources: per input, what to read instead of its own source (e.g. the query computing a
            dataset that is not stored, over the views of the stored ones); default: the sources.

    Raises:
        RecipeSpecError / MissingColumnError: the settings do not fit the inputs.
        QueryError: DuckDB failed a query (also when the connection was interrupted).
    """
    queries = unmatched_report(spec, inputs, recipe=recipe)
    if not queries:
        return ()
    replacements = list(sources) if sources is not None else [r.source for r in inputs]
    return _count_all(con, queries, inputs, replacements, recipe=recipe)


def _count_all(
    con: duckdb.DuckDBPyConnection,
    queries: Sequence[UnmatchedQuery],
    inputs: Sequence[Relation],
    replacements: Sequence[exp.Expr],
    *,
    recipe: str,
    check: Callable[[], None] = lambda: None,
    paths: Mapping[str, str] | None = None,
) -> tuple[UnmatchedCount, ...]:
    counts: list[UnmatchedCount] = []
    try:
        for item in queries:
            check()
            bound = bind_sources(item.query, inputs, replacements).sql(dialect="duckdb")
            counts.append(_count(item, con.execute(bound).fetchone()))
    except duckdb.Error as exc:
        check()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        for name, file in (paths or {}).items():
            first = first.replace(file, name)
        for relation in inputs:
            first = first.replace(input_alias(relation.name), relation.name)
        raise QueryError(
            f"the unmatched-rows report of recipe {recipe!r} failed in DuckDB: {first}",
            recipe=recipe,
        ) from exc
    return tuple(counts)


def count_unmatched_in_postgres(
    spec: Mapping[str, Any],
    inputs: Sequence[Relation],
    connection: Any,
    *,
    input_tables: Mapping[str, str | tuple[str, str]],
    recipe: str,
    timeout_s: float | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[UnmatchedCount, ...]:
    """Count the unmatched rows of each join inside PostgreSQL, on the input tables.

    The queries run in one transaction that is rolled back (they only read).

    Args:
        spec, inputs, recipe: as :func:`count_unmatched_in_duckdb`.
        connection: a DB-API 2 connection (``adbc_driver_postgresql.dbapi``).
        input_tables: input name → its table (``"table"`` or ``(schema, table)``).
        timeout_s: PostgreSQL's ``statement_timeout``; ``cancelled``: polled while a query runs.

    Raises:
        RecipeSpecError / MissingColumnError: the settings do not fit the inputs.
        ExecutionError: a query cannot be written for PostgreSQL, or an input has no table.
        PostgresExecutionError: PostgreSQL failed a query. StepTimeoutError / StepCancelledError.
    """
    queries = unmatched_report(spec, inputs, recipe=recipe)
    if not queries:
        return ()
    missing = [r.name for r in inputs if r.name not in input_tables]
    if missing:
        raise ExecutionError(
            f"the unmatched-rows report of recipe {recipe!r} has no table for input {missing[0]!r}",
            recipe=recipe,
            input=missing[0],
        )
    sources = {input_alias(name): _table(table) for name, table in input_tables.items()}
    statements: list[tuple[UnmatchedQuery, str]] = []
    for item in queries:
        try:
            sql = _bind_tables(item.query, sources).sql(
                dialect="postgres", unsupported_level=ErrorLevel.RAISE
            )
        except SqlglotError as exc:
            raise ExecutionError(
                f"the unmatched-rows report of recipe {recipe!r} cannot run inside PostgreSQL ({exc})",
                recipe=recipe,
            ) from exc
        statements.append((item, sql))
    autocommit = _is_autocommit(connection)
    cursor = connection.cursor()
    counts: list[UnmatchedCount] = []
    try:
        with StepWatch(_canceller(connection), timeout_s, cancelled, repeat=False) as watch:
            try:
                if autocommit:
                    cursor.execute("BEGIN")
                cursor.execute("SET LOCAL TimeZone = 'UTC'")
                if timeout_s is not None:
                    cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
                for item, sql in statements:
                    watch.check()
                    cursor.execute(sql)
                    counts.append(_count(item, cursor.fetchone()))
                watch.check()
            except Exception as exc:
                watch.stop()
                _rollback(connection, cursor, autocommit)
                watch.check()
                if "statement timeout" in str(exc):
                    raise stopped_error("timeout", recipe, timeout_s) from exc
                raise PostgresExecutionError(
                    f"the unmatched-rows report of recipe {recipe!r} failed in PostgreSQL: "
                    f"{_pg_message(exc, sources)}",
                    recipe=recipe,
                ) from exc
            _rollback(connection, cursor, autocommit)  # it only read: end the transaction
    except StepStopped as stop:
        _rollback(connection, cursor, autocommit)
        raise stopped_error(stop.reason, recipe, timeout_s) from None
    finally:
        with contextlib.suppress(Exception):
            cursor.close()
    return tuple(counts)
