"""Pivot: turn the values of one column into columns (one row per index, one column per value).

Spec::

    {
      "index": ["carrier"],                # one output row per combination (empty: one row)
      "column": "month",                   # the column whose values become columns
      "values": [1, 2, 3],                 # which values (the form fills them from pivot_values_query)
      "aggregations": [{"column": "delay", "function": "avg", "name": null}]
    }

Each value gets one column per aggregation: named after the value with one aggregation
(``1``, ``2``…), ``<value>_<aggregation name>`` with several (``1_delay_avg``). A ``null`` value
collects the rows where the column is empty. Rows whose value is not listed are ignored. At most
:data:`MAX_PIVOT_VALUES` values. Aggregations are those of the group recipe except first and last.
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
from modelworks.engine.recipes.visual.common import col, source_as
from modelworks.engine.recipes.visual.conditions import literal_for
from modelworks.engine.recipes.visual.group import (
    AGGREGATIONS,
    Aggregation,
    aggregate,
    default_name,
    read_aggregations,
)
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["MAX_PIVOT_VALUES", "compile_pivot", "normalize_pivot", "pivot_values_query"]

MAX_PIVOT_VALUES = 200
_PIVOT_FUNCTIONS = tuple(f for f in AGGREGATIONS if f not in ("first", "last"))


@dataclass(frozen=True)
class PivotSpec:
    column: str
    values: tuple[Any, ...]
    aggregations: tuple[Aggregation, ...]
    index: tuple[str, ...] = ()


def read_pivot_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> PivotSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("index", "column", "values", "aggregations")
    values = reader.data.get("values")
    if not isinstance(values, list) or not values:
        raise reader.error("values", "needs the list of values that become columns (fill it from a sample)")
    if len(values) > MAX_PIVOT_VALUES:
        raise reader.error(
            "values", f"has {len(values)} values; a pivot makes at most {MAX_PIVOT_VALUES} columns"
        )
    if not all(v is None or isinstance(v, str | int | float | bool) for v in values):
        raise reader.error("values", "must hold plain values (texts, numbers, true/false or null)")
    return PivotSpec(
        column=reader.string("column"),
        values=tuple(values),
        aggregations=read_aggregations(reader, functions=_PIVOT_FUNCTIONS),
        index=reader.strings("index", ()),
    )


def normalize_pivot(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_pivot_spec(spec, recipe=recipe))
    return result


def _label(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compile_pivot(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a pivot recipe (see the module docstring for the spec)."""
    parsed = read_pivot_spec(spec, recipe=recipe)
    relation, output = inputs[0], outputs[0]
    pivot = relation.column(parsed.column, recipe=recipe, where="column")
    selects: list[exp.Expr] = []
    lineage: list[LineageEdge] = []
    taken: dict[str, str] = {}
    for name in parsed.index:
        relation.column(name, recipe=recipe, where="index")
        selects.append(exp.alias_(col(name), name, quoted=True))
        taken[name.lower()] = f"index column {name!r}"
        lineage.append(LineageEdge(output, name, relation.name, name))
    for i, value in enumerate(parsed.values, 1):
        where = f"value {i}"
        if value is None:
            matches: exp.Expr = exp.Is(this=col(pivot.name), expression=exp.Null())
        else:
            matches = exp.EQ(
                this=col(pivot.name), expression=literal_for(value, pivot, recipe=recipe, where=where)
            )
        for j, agg in enumerate(parsed.aggregations, 1):
            picked = col(agg.column) if agg.column is not None else exp.Literal.number(1)
            if agg.column is not None:
                relation.column(agg.column, recipe=recipe, where=f"aggregation {j}")
            case = exp.Case(ifs=[exp.If(this=matches.copy(), true=picked)])
            expression, column = aggregate(
                agg,
                relation,
                recipe=recipe,
                where=f"aggregation {j}",
                value=case,
            )
            label = _label(value)
            name = label if len(parsed.aggregations) == 1 else f"{label}_{agg.name or default_name(agg)}"
            if name.lower() in taken:
                raise RecipeSpecError(
                    f"recipe {recipe!r} {where}: column {name!r} would be made twice (also by {taken[name.lower()]}); "
                    "remove the duplicate value or rename the aggregation",
                    recipe=recipe,
                )
            taken[name.lower()] = f"value {value!r}"
            selects.append(exp.alias_(expression, name, quoted=True))
            lineage.append(LineageEdge(output, name, relation.name, pivot.name, "aggregation"))
            if column is not None:
                lineage.append(LineageEdge(output, name, relation.name, column.name, "aggregation"))
    query = exp.select(*selects).from_(source_as(relation, "src"))
    if parsed.index:
        query = query.group_by(*[col(n) for n in parsed.index])
    return CompiledRecipe((CompiledOutput(output, query),), tuple(lineage))


def pivot_values_query(
    spec: Mapping[str, Any] | None, relation: Relation, *, recipe: str, limit: int = MAX_PIVOT_VALUES
) -> exp.Query:
    """The query listing the pivot column's values, most frequent first (``value``, ``rows``).

    Only the spec's ``column`` is needed, so the form can call it before any value is chosen.
    """
    reader = SpecReader(spec, recipe=recipe)
    column = relation.column(reader.string("column"), recipe=recipe, where="column")
    return (
        exp.select(
            exp.alias_(col(column.name), "value", quoted=True),
            exp.alias_(exp.Count(this=exp.Star()), "rows", quoted=True),
        )
        .from_(source_as(relation, "src"))
        .group_by(col(column.name))
        .order_by(
            exp.Ordered(this=col("rows"), desc=True, nulls_first=False),
            exp.Ordered(this=col("value"), nulls_first=False),
        )
        .limit(limit)
    )
