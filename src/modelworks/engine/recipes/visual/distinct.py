"""Distinct: remove duplicate rows.

Spec::

    {
      "columns": null,          # null: rows equal in every column | a list: rows equal in these
      "order_by": [],           # with columns: which row of each duplicate group to keep (the first)
      "count_column": null      # e.g. "duplicates": how many input rows each output row stands for
    }

With ``columns``, the output keeps every input column of the first row of each group by
``order_by`` (any row of the group when there is no order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.types import (
    CompiledOutput,
    CompiledRecipe,
    LineageEdge,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual.common import (
    OrderKey,
    col,
    ordered,
    read_order_keys,
    source_as,
    unique_name,
)
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["compile_distinct", "normalize_distinct"]


@dataclass(frozen=True)
class DistinctSpec:
    columns: tuple[str, ...] | None = None
    order_by: tuple[OrderKey, ...] = ()
    count_column: str | None = None


def read_distinct_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> DistinctSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("columns", "order_by", "count_column")
    columns = reader.strings("columns", None, non_empty=True)
    order_by = read_order_keys(reader, "order_by", required=False)
    if order_by and columns is None:
        raise reader.error("order_by", "only applies with 'columns' (which row of each group to keep)")
    return DistinctSpec(columns, order_by, reader.string("count_column", None))


def normalize_distinct(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_distinct_spec(spec, recipe=recipe))
    return result


def compile_distinct(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a distinct recipe (see the module docstring for the spec)."""
    parsed = read_distinct_spec(spec, recipe=recipe)
    relation, output = inputs[0], outputs[0]
    names = relation.column_names
    lineage = [LineageEdge(output, n, relation.name, n) for n in names]
    if parsed.count_column is not None and parsed.count_column.lower() in {n.lower() for n in names}:
        raise RecipeSpecError(
            f"recipe {recipe!r}: setting 'count_column' {parsed.count_column!r} is already a column; choose another name",
            setting="count_column",
            recipe=recipe,
        )
    selects: list[exp.Expr] = [exp.alias_(col(n), n, quoted=True) for n in names]
    query: exp.Select
    if parsed.columns is None:
        query = exp.select(*selects).from_(source_as(relation, "src"))
        if parsed.count_column is None:
            query = query.distinct()
        else:
            query = query.select(exp.alias_(exp.Count(this=exp.Star()), parsed.count_column, quoted=True))
            query = query.group_by(*[col(n) for n in names])
    else:
        for name in parsed.columns:
            relation.column(name, recipe=recipe, where="columns")
        position_name = unique_name("__mw_position", names)
        partition = [col(n) for n in parsed.columns]
        order = ordered(parsed.order_by, relation, recipe=recipe, where="order_by")
        window = exp.Window(
            this=exp.RowNumber(),
            partition_by=partition,
            order=exp.Order(expressions=order) if order else None,
        )
        inner = exp.select(*[col(n) for n in names], exp.alias_(window, position_name, quoted=True))
        if parsed.count_column is not None:
            counted = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[p.copy() for p in partition])
            inner = inner.select(exp.alias_(counted, parsed.count_column, quoted=True))
        inner = inner.from_(source_as(relation, "src"))
        query = exp.select(*selects)
        if parsed.count_column is not None:
            query = query.select(col(parsed.count_column))
        query = query.from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("numbered", quoted=True)))
        ).where(exp.EQ(this=col(position_name), expression=exp.Literal.number(1)))
    return CompiledRecipe((CompiledOutput(output, query),), tuple(lineage))
