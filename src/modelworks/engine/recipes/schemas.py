"""Output schemas of a compiled recipe, found without reading any data.

Each input becomes an *empty* DuckDB table with the input's columns and types; every reference to
the input's source in the compiled queries is pointed at that table, and DuckDB's ``DESCRIBE``
gives the output columns. A column removed upstream, or renamed, therefore fails here — with a
message naming the recipe and the column — before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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
    con = connect()
    try:
        tables: list[exp.Expr] = []
        for index, relation in enumerate(inputs):
            name = f"__mw_input_{index}"
            if not relation.columns:
                raise RecipeSpecError(
                    f"{'recipe ' + repr(recipe) if recipe else 'the recipe'}: input {relation.name!r} has no columns",
                    recipe=recipe,
                )
            columns = ", ".join(f"{quote_identifier(c.name)} {physical_of(c.type)}" for c in relation.columns)
            con.execute(f"CREATE TABLE {quote_identifier(name)} ({columns})")
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
    finally:
        con.close()
