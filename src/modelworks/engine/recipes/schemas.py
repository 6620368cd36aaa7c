"""Output schemas of a compiled recipe, found without reading any data.

Each input becomes an *empty* DuckDB table with the input's columns and types; every reference to
the input's source in the compiled queries is pointed at that table, and DuckDB's ``DESCRIBE``
gives the output columns. A column removed upstream, or renamed, therefore fails here — with a
message naming the recipe and the column — before anything runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator, Sequence

import duckdb
from sqlglot import exp

from modelworks.engine.duck import connect, quote_identifier
from modelworks.engine.errors import did_you_mean
from modelworks.engine.io.schema import LOGICAL_TYPES, logical_type
from modelworks.engine.recipes.types import (
    Column,
    CompiledRecipe,
    MissingColumnError,
    RecipeSpecError,
    Relation,
)

__all__ = ["bind_sources", "duckdb_error", "logical_of", "output_schemas", "physical_of"]

_EXTRA_TYPES = {"decimal": "DECIMAL(38, 10)", "binary": "BLOB", "nested": "JSON", "other": "VARCHAR"}
_MISSING_COLUMN = (
    re.compile(r'Referenced column "(?P<name>(?:[^"]|"")+)" not found'),
    re.compile(r'does not have a column named "(?P<name>(?:[^"]|"")+)"'),
    re.compile(r'Column "(?P<name>(?:[^"]|"")+)" (?:referenced|not found)'),
)


_SCHEMA_DATABASE: tuple[int, duckdb.DuckDBPyConnection] | None = None
_SCHEMA_DATABASE_LOCK = threading.Lock()
_SCHEMA_DATABASE_USERS = 0  # connections of it in use (it is only closed when none is)
# A database inherited over fork() is never closed in the child: its threads did not come along, and
# closing it would wait for them forever.
_INHERITED: list[duckdb.DuckDBPyConnection] = []


@contextlib.contextmanager
def _schema_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A new connection to this process's schema database, for one :func:`output_schemas` call.

    Opening a DuckDB database costs ~15 ms, more than describing a whole recipe; a build checks every
    step's outputs, the editor every change. So one locked database (no file access at all: it
    only ever holds empty tables) serves them all, and each call gets its own connection, whose
    temporary tables no other call sees and which vanish when it is closed. Thread-safe; the
    database is closed before the process forks (jobs run in forked children) and a child opens
    its own.
    """
    global _SCHEMA_DATABASE, _SCHEMA_DATABASE_USERS
    with _SCHEMA_DATABASE_LOCK:
        if _SCHEMA_DATABASE is None or _SCHEMA_DATABASE[0] != os.getpid():
            if _SCHEMA_DATABASE is not None:
                _INHERITED.append(_SCHEMA_DATABASE[1])
            _SCHEMA_DATABASE = (os.getpid(), connect(threads=1, memory_limit="256MB"))
        con = _SCHEMA_DATABASE[1].cursor()
        _SCHEMA_DATABASE_USERS += 1
    try:
        yield con
    finally:
        con.close()
        with _SCHEMA_DATABASE_LOCK:
            _SCHEMA_DATABASE_USERS -= 1


def _close_before_fork() -> None:
    global _SCHEMA_DATABASE
    if not _SCHEMA_DATABASE_LOCK.acquire(blocking=False):
        return
    try:
        if (
            _SCHEMA_DATABASE is not None
            and _SCHEMA_DATABASE_USERS == 0
            and _SCHEMA_DATABASE[0] == os.getpid()
        ):
            _SCHEMA_DATABASE[1].close()
            _SCHEMA_DATABASE = None
    finally:
        _SCHEMA_DATABASE_LOCK.release()


def _forget_in_child() -> None:
    global _SCHEMA_DATABASE, _SCHEMA_DATABASE_LOCK, _SCHEMA_DATABASE_USERS
    _SCHEMA_DATABASE_LOCK = threading.Lock()  # another thread may have held it at the fork
    _SCHEMA_DATABASE_USERS = 0
    if _SCHEMA_DATABASE is not None:
        _INHERITED.append(_SCHEMA_DATABASE[1])
        _SCHEMA_DATABASE = None


os.register_at_fork(before=_close_before_fork, after_in_child=_forget_in_child)


def physical_of(logical: str) -> str:
    """The DuckDB type standing for a logical type in an empty input table."""
    return LOGICAL_TYPES.get(logical) or _EXTRA_TYPES.get(logical, "VARCHAR")


def logical_of(physical: str) -> str:
    """The logical type of a DuckDB output type (JSON stands for nested values, see above)."""
    return "nested" if physical.upper() == "JSON" else logical_type(physical)


def _source_key(source: exp.Expr) -> exp.Expr:
    if isinstance(source, exp.Subquery):
        return source.this  # type: ignore[no-any-return]
    if isinstance(source, exp.Query):
        return source
    if isinstance(source, exp.Table):
        stripped = source.copy()
        stripped.set("alias", None)
        return stripped
    return exp.Table(this=source.copy())


def bind_sources(query: exp.Query, inputs: Sequence[Relation], replacements: Sequence[exp.Expr]) -> exp.Query:
    """A copy of ``query`` where each input's source is replaced (keeping its alias).

    Args:
        query: a compiled query, whose FROM items are the inputs' sources (tables, ``read_parquet``
            calls or sub-queries) as the compilers placed them.
        inputs: the inputs the query was compiled from.
        replacements: per input, what to read instead (a table or a sub-query).
    """
    keys = [(_source_key(r.source), replacement) for r, replacement in zip(inputs, replacements, strict=True)]

    def swap(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Table | exp.Subquery):
            return node
        key = _source_key(node)
        for source_key, replacement in keys:
            if key == source_key:
                new = replacement.copy()
                alias = node.args.get("alias")
                if alias is None and isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
                    alias = exp.TableAlias(this=exp.to_identifier(node.name, quoted=True))
                if isinstance(new, exp.Query) and not isinstance(new, exp.Subquery):
                    new = exp.Subquery(this=new)
                new.set("alias", alias.copy() if alias is not None else None)
                return new
        return node

    bound = query.transform(swap)
    assert isinstance(bound, exp.Query)
    return bound


def duckdb_error(
    exc: duckdb.Error, *, recipe: str | None, output: str, inputs: Sequence[Relation]
) -> RecipeSpecError:
    """A DuckDB error while binding or running a recipe's query, in the user's words."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    who = f"recipe {recipe!r}" if recipe else "the recipe"
    for pattern in _MISSING_COLUMN:
        match = pattern.search(text)
        if match:
            name = match.group("name").replace('""', '"')
            known = [c for r in inputs for c in r.column_names]
            owners = ", ".join(repr(r.name) for r in inputs)
            owners = (
                f"its inputs {owners} do not have" if len(inputs) > 1 else f"its input {owners} does not have"
            )
            return MissingColumnError(
                f"{who} (output {output!r}) uses column {name!r}, which {owners}"
                f"{did_you_mean(name, known)}; it may have been removed or renamed upstream: update the recipe",
                column=name,
                recipe=recipe,
                output=output,
            )
    return RecipeSpecError(
        f"{who} (output {output!r}) cannot be computed: {first}", recipe=recipe, output=output
    )


def output_schemas(
    compiled: CompiledRecipe, inputs: Sequence[Relation], *, recipe: str | None = None
) -> dict[str, tuple[Column, ...]]:
    """The columns of each output of ``compiled``, from empty tables shaped like ``inputs``.

    Args:
        compiled: what :func:`~modelworks.engine.recipes.compile_recipe` returned.
        inputs: the inputs it was compiled from (their columns and types).
        recipe: the recipe's name, for messages.

    Returns:
        Output name → its columns (name and logical type), in the recipes' output order.

    Raises:
        MissingColumnError: a query uses a column an input does not have.
        RecipeSpecError: DuckDB cannot bind a query for another reason (types, functions…).
    """
    with _schema_connection() as con:
        tables: list[exp.Expr] = []
        for index, relation in enumerate(inputs):
            name = f"__mw_input_{index}"
            if not relation.columns:
                raise RecipeSpecError(
                    f"{'recipe ' + repr(recipe) if recipe else 'the recipe'}: input {relation.name!r} has no columns",
                    recipe=recipe,
                )
            columns = ", ".join(f"{quote_identifier(c.name)} {physical_of(c.type)}" for c in relation.columns)
            con.execute(f"CREATE TEMP TABLE {quote_identifier(name)} ({columns})")
            tables.append(exp.Table(this=exp.to_identifier(name, quoted=True)))
        result: dict[str, tuple[Column, ...]] = {}
        for out in compiled.outputs:
            bound = bind_sources(out.query, inputs, tables)
            try:
                described = con.execute(f"DESCRIBE {bound.sql(dialect='duckdb')}").fetchall()
            except duckdb.Error as exc:
                raise duckdb_error(exc, recipe=recipe, output=out.name, inputs=inputs) from exc
            result[out.name] = tuple(Column(str(row[0]), logical_of(str(row[1]))) for row in described)
        return result
