"""Run a compiled recipe: in DuckDB over Parquet versions, or inside PostgreSQL.

A compiled recipe reads its inputs through :class:`~modelworks.engine.recipes.types.Relation`
sources that are plain table names: safe aliases made by :func:`relations_for` (a hash of the input
name, never the user's text as a path or unquoted identifier). Running it binds each alias:

* :func:`run_in_duckdb`: a view over ``read_parquet(<the input's file>)`` in a locked-down
  connection that may only touch those files and the outputs, then one ``COPY (…) TO`` per output
  (Parquet, zstd). A timeout or a cancel interrupts the running query; on any failure the output
  files are removed, so a failed step leaves nothing behind.
* :func:`run_in_postgres`: the alias becomes the input's qualified table, the query is transpiled to
  PostgreSQL and every output is a ``CREATE TABLE … AS`` — all in one transaction: every output table
  or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import ErrorLevel, exp
from sqlglot.errors import SqlglotError

from modelworks.engine.duck import close, connect, string_literal
from modelworks.engine.flow.errors import ExecutionError, PostgresExecutionError, QueryError
from modelworks.engine.flow.watch import StepStopped, StepWatch, stopped_error
from modelworks.engine.io.schema import ColumnSchema, schema_of_parquet
from modelworks.engine.io.writer import parquet_options
from modelworks.engine.recipes.types import Column, CompiledRecipe, Relation

__all__ = [
    "DuckDBRun",
    "execute_in_duckdb",
    "input_alias",
    "relations_for",
    "run_in_duckdb",
    "run_in_postgres",
]

_PG_ERROR = re.compile(r"ERROR:\s+(.*)")
_ALIAS = re.compile(r"mw_input_[0-9a-f]{16}")


def input_alias(name: str) -> str:
    """The table name a compiled recipe uses for input ``name``: ``mw_input_`` + 16 hex digits."""
    return "mw_input_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def relations_for(inputs: Mapping[str, Sequence[Column]]) -> list[Relation]:
    """The relations to compile a recipe against: one per input, read through its safe alias.

    Args:
        inputs: input name (as the recipe knows it) → its columns, in the recipe's input order.
    """
    return [
        Relation(name, tuple(columns), exp.table_(input_alias(name), quoted=True))
        for name, columns in inputs.items()
    ]


# -- DuckDB -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuckDBRun:
    """What :func:`execute_in_duckdb` did.

    Attributes:
        rows: output name → rows written.
        columns: output name → the written file's columns (as ``read_schema`` gives them), read
            from the files' footers in the same connection (no second DuckDB database).
        extra: what the ``then`` callback returned (None without one).
    """

    rows: dict[str, int]
    columns: dict[str, tuple[ColumnSchema, ...]] = field(default_factory=dict)
    extra: Any = None


def run_in_duckdb(
    compiled: CompiledRecipe,
    input_paths: Mapping[str, Path],
    output_paths: Mapping[str, Path],
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    spill_dir: Path | None = None,
    timeout_s: float | None = None,
    cancelled: Callable[[], bool] | None = None,
    recipe: str = "this recipe",
) -> dict[str, int]:
    """Run ``compiled`` over Parquet inputs and write each output as a Parquet file.

    Args:
        compiled: the compiled recipe (its inputs read through :func:`relations_for` aliases).
        input_paths: input name → its version's Parquet file.
        output_paths: output name → the file to write (the caller's staging path).
        threads, memory_limit, spill_dir: DuckDB resources (see :func:`modelworks.engine.duck.connect`).
        timeout_s: stop after this many seconds.
        cancelled: polled while the step runs; once true the query is interrupted.
        recipe: the recipe's name, for messages.

    Returns:
        Output name → rows written.

    Raises:
        ExecutionError: an input file is missing or an output has no path.
        QueryError: DuckDB failed the query (the message names the recipe and output).
        StepTimeoutError: it ran longer than ``timeout_s``.
        StepCancelledError: ``cancelled()`` became true.
        Whatever the error, no output file is left behind.
    """
    return execute_in_duckdb(
        compiled,
        input_paths,
        output_paths,
        threads=threads,
        memory_limit=memory_limit,
        spill_dir=spill_dir,
        timeout_s=timeout_s,
        cancelled=cancelled,
        recipe=recipe,
        describe=False,
    ).rows


def execute_in_duckdb(
    compiled: CompiledRecipe,
    input_paths: Mapping[str, Path],
    output_paths: Mapping[str, Path],
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    spill_dir: Path | None = None,
    timeout_s: float | None = None,
    cancelled: Callable[[], bool] | None = None,
    recipe: str = "this recipe",
    describe: bool = True,
    then: Callable[[duckdb.DuckDBPyConnection], Any] | None = None,
) -> DuckDBRun:
    """:func:`run_in_duckdb`, also reading the written files' columns and running more work in the
    same connection (opening a DuckDB database costs more than a small step's whole query).

    Args:
        describe: read each written file's columns (``DuckDBRun.columns``).
        then: called with the connection once every output is written, while the timeout and
            cancel watch still runs; each input is readable as the table named
            :func:`input_alias` of its name. What it returns is ``DuckDBRun.extra``. It should
            handle its own query errors (a ``duckdb.Error`` it lets through fails the step).
        The others: as :func:`run_in_duckdb`.

    Raises:
        As :func:`run_in_duckdb`.
    """
    _check_outputs(compiled, output_paths, recipe)
    _check_inputs(compiled, input_paths, recipe)
    inputs = {name: Path(os.path.abspath(path)) for name, path in input_paths.items()}
    outputs = {out.name: Path(os.path.abspath(output_paths[out.name])) for out in compiled.outputs}
    for name, path in inputs.items():
        if not path.is_file():
            raise ExecutionError(
                f"recipe {recipe!r} cannot run: the data file of input {name!r} is missing; "
                "rebuild or re-import that dataset",
                recipe=recipe,
                input=name,
            )
    con = connect(
        read=inputs.values(),
        write=outputs.values(),
        spill_dir=spill_dir,
        threads=threads,
        memory_limit=memory_limit,
    )
    rows: dict[str, int] = {}
    columns: dict[str, tuple[ColumnSchema, ...]] = {}
    extra: Any = None
    current = ""
    try:
        with StepWatch(con.interrupt, timeout_s, cancelled) as watch:
            try:
                for name, path in inputs.items():
                    watch.check()
                    con.execute(
                        f"CREATE TEMP VIEW {_ident(input_alias(name))} AS "  # noqa: S608 - quoted identifier, SQL literal
                        f"SELECT * FROM read_parquet({string_literal(str(path))})"
                    )
                for out in compiled.outputs:
                    current = out.name
                    watch.check()
                    copy = (
                        f"COPY ({out.sql('duckdb')}) TO {string_literal(str(outputs[out.name]))} "
                        # The callers give staged files (which may exist, empty): written in place,
                        # with the settings of every stored version.
                        f"({parquet_options()})"
                    )
                    result = con.execute(copy).fetchone()
                    rows[out.name] = int(result[0]) if result else 0
                    if describe:
                        columns[out.name] = schema_of_parquet(con, str(outputs[out.name]))
                current = ""
                watch.check()
                if then is not None:
                    extra = then(con)
                watch.check()
            except duckdb.Error as exc:
                watch.check()  # a timeout or cancel explains the error better than DuckDB does
                raise QueryError(
                    f"recipe {recipe!r} failed in DuckDB"
                    + (f" while writing output {current!r}" if current else "")
                    + f": {_duck_message(exc, inputs, outputs)}",
                    recipe=recipe,
                    output=current or None,
                ) from exc
    except BaseException as exc:
        for path in outputs.values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        if isinstance(exc, StepStopped):
            raise stopped_error(exc.reason, recipe, timeout_s) from None
        raise
    finally:
        close(con)
    return DuckDBRun(rows, columns, extra)


def _duck_message(exc: duckdb.Error, inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> str:
    """DuckDB's first line, with our aliases and file paths replaced by the dataset names."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for name, path in [*inputs.items(), *outputs.items()]:
        text = text.replace(str(path), name)
    for name in inputs:
        text = text.replace(input_alias(name), name)
    return text


# -- PostgreSQL ------------------------------------------------------------------------------------


def run_in_postgres(
    compiled: CompiledRecipe,
    connection: Any,
    *,
    input_tables: Mapping[str, str | tuple[str, str]],
    output_tables: Mapping[str, tuple[str, str]],
    timeout_s: float | None = None,
    cancelled: Callable[[], bool] | None = None,
    recipe: str = "this recipe",
) -> dict[str, int]:
    """Run ``compiled`` inside PostgreSQL: one ``CREATE TABLE … AS`` per output, in one transaction.

    Args:
        compiled: the compiled recipe; ``compiled.pushdown`` must be true.
        connection: a DB-API 2 connection (``adbc_driver_postgresql.dbapi``), autocommit on or off.
        input_tables: input name → its table (``"table"`` on the search path, or ``(schema, table)``).
        output_tables: output name → ``(schema, table)`` to create (generated by the caller; it must
            not exist yet).
        timeout_s: PostgreSQL's ``statement_timeout`` for each statement.
        cancelled: polled while the step runs; once true the running statement is cancelled.
        recipe: the recipe's name, for messages.

    Returns:
        Output name → rows in the created table.

    Raises:
        ExecutionError: the recipe cannot run in PostgreSQL or an output has no table.
        PostgresExecutionError: PostgreSQL failed a statement; nothing was created.
        StepTimeoutError, StepCancelledError: as they say; nothing was created.
    """
    if not compiled.pushdown:
        raise ExecutionError(
            f"recipe {recipe!r} uses functions PostgreSQL does not have; run it in the platform instead",
            recipe=recipe,
        )
    _check_outputs(compiled, output_tables, recipe)
    _check_inputs(compiled, input_tables, recipe)
    sources = {input_alias(name): _table(table) for name, table in input_tables.items()}
    statements: list[tuple[str, str, str]] = []  # (output, CREATE TABLE AS, count)
    for out in compiled.outputs:
        target = _table(output_tables[out.name])
        query = _bind_tables(out.query, sources)
        create = exp.Create(this=target, kind="TABLE", expression=query)
        count = exp.select(exp.Count(this=exp.Star())).from_(target.copy())
        try:
            # RAISE: SQLGlot must not silently drop a construct PostgreSQL lacks (e.g. IGNORE NULLS),
            # which would run a query that gives other results than DuckDB.
            create_sql = create.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as exc:
            raise ExecutionError(
                f"recipe {recipe!r} cannot run inside PostgreSQL ({exc}); run it in the platform instead",
                recipe=recipe,
            ) from exc
        statements.append((out.name, create_sql, count.sql(dialect="postgres")))
    autocommit = _is_autocommit(connection)
    cursor = connection.cursor()
    rows: dict[str, int] = {}
    current = ""
    try:
        with StepWatch(_canceller(connection), timeout_s, cancelled, repeat=False) as watch:
            try:
                if autocommit:
                    cursor.execute("BEGIN")
                # Dates and timestamps are parsed and truncated in UTC, as DuckDB does.
                cursor.execute("SET LOCAL TimeZone = 'UTC'")
                if timeout_s is not None:
                    cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
                for name, create_sql, count_sql in statements:
                    current = name
                    watch.check()
                    cursor.execute(create_sql)
                    cursor.execute(count_sql)
                    row = cursor.fetchone()
                    rows[name] = int(row[0]) if row else 0
                watch.check()
                if autocommit:
                    cursor.execute("COMMIT")
                else:
                    connection.commit()
            except Exception as exc:
                watch.stop()  # so that a late cancel cannot hit the rollback
                _rollback(connection, cursor, autocommit)
                watch.check()
                if "statement timeout" in str(exc):
                    raise stopped_error("timeout", recipe, timeout_s) from exc
                raise PostgresExecutionError(
                    f"recipe {recipe!r} failed in PostgreSQL"
                    + (f" while creating output {current!r}" if current else "")
                    + f": {_pg_message(exc, sources)}; nothing was created",
                    recipe=recipe,
                    output=current or None,
                ) from exc
    except StepStopped as stop:
        _rollback(connection, cursor, autocommit)  # the watcher has stopped: `with` has exited
        raise stopped_error(stop.reason, recipe, timeout_s) from None
    finally:
        with contextlib.suppress(Exception):
            cursor.close()
    return rows


def _table(table: str | tuple[str, str]) -> exp.Table:
    if isinstance(table, str):
        return exp.table_(table, quoted=True)
    schema, name = table
    return exp.table_(name, db=schema, quoted=True)


def _bind_tables(query: exp.Query, sources: Mapping[str, exp.Table]) -> exp.Expression:
    """``query`` with every reference to an input alias replaced by that input's table."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in sources:
            table = sources[node.name].copy()
            alias = node.args.get("alias")
            # Keep what the query calls it, so qualified columns (alias.column) still resolve.
            table.set(
                "alias",
                alias.copy() if alias else exp.TableAlias(this=exp.to_identifier(node.name, quoted=True)),
            )
            return table
        return node

    return query.copy().transform(swap)


def _is_autocommit(connection: Any) -> bool:
    adbc = getattr(connection, "adbc_connection", None)
    if adbc is not None:
        with contextlib.suppress(Exception):
            return str(adbc.get_option("adbc.connection.autocommit")).lower() == "true"
    return bool(getattr(connection, "autocommit", False))


def _canceller(connection: Any) -> Callable[[], None]:
    cancel = getattr(connection, "adbc_cancel", None)
    return cancel if callable(cancel) else (lambda: None)


def _rollback(connection: Any, cursor: Any, autocommit: bool) -> None:
    with contextlib.suppress(Exception):
        if autocommit:
            cursor.execute("ROLLBACK")
        else:
            connection.rollback()


def _pg_message(exc: Exception, sources: Mapping[str, exp.Table]) -> str:
    text = str(exc)
    match = _PG_ERROR.search(text)
    line = match.group(1).strip() if match else (text.strip().splitlines() or [type(exc).__name__])[0]
    for alias, table in sources.items():
        line = line.replace(alias, table.name)
    return line


# -- shared ----------------------------------------------------------------------------------------


def _check_outputs(compiled: CompiledRecipe, targets: Mapping[str, object], recipe: str) -> None:
    missing = [out.name for out in compiled.outputs if out.name not in targets]
    if missing:
        raise ExecutionError(
            f"recipe {recipe!r} has no place to write output {missing[0]!r}", recipe=recipe, output=missing[0]
        )


def _check_inputs(compiled: CompiledRecipe, given: Mapping[str, object], recipe: str) -> None:
    """Every input alias the queries read must be bound, or the error would show a hash."""
    bound = {input_alias(name) for name in given}
    for out in compiled.outputs:
        for table in out.query.find_all(exp.Table):
            if _ALIAS.fullmatch(table.name) and table.name not in bound:
                raise ExecutionError(
                    f"recipe {recipe!r} reads an input that was not given to it (output {out.name!r}); "
                    "check the recipe's inputs",
                    recipe=recipe,
                    output=out.name,
                )


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")
