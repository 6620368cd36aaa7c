"""Group: one row per combination of key values, with aggregations of the other columns.

Spec::

    {
      "keys": ["carrier", "month"],      # empty: one row for the whole input
      "aggregations": [
        {"column": "delay", "function": "avg", "name": null},     # name default "delay_avg"
        {"column": null, "function": "count"},                    # count rows: "count"
        {"column": "delay", "function": "quantile", "p": 0.9},    # "delay_p90"
        {"column": "city", "function": "concat", "separator": ", ", "order_by": ["city"]},
        {"column": "city", "function": "first", "order_by": [{"column": "date", "direction": "desc"}]}
      ],
      "having": null                      # filter on the result: a formula or {"filters": [...]}
    }

Functions: count, count_distinct, sum, avg, min, max, median, stddev, variance, first, last,
concat, quantile. ``first``/``last`` take the value of the first/last row by ``order_by`` (any row
when there is none). The ``having`` filter names result columns (keys and aggregation names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.types import (
    Column,
    CompiledOutput,
    CompiledRecipe,
    LineageEdge,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual.common import (
    NUMERIC_TYPES,
    OrderKey,
    col,
    ordered,
    read_order_keys,
    source_as,
)
from modelworks.engine.recipes.visual.conditions import (
    Condition,
    condition_expression,
    read_condition_setting,
)
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = [
    "AGGREGATIONS",
    "Aggregation",
    "aggregate",
    "compile_group",
    "normalize_group",
    "read_aggregations",
]

#: Function → what it computes (shown in the recipe form).
AGGREGATIONS: Mapping[str, str] = {
    "count": "number of non-empty values (of rows, without a column)",
    "count_distinct": "number of different values",
    "sum": "sum",
    "avg": "average",
    "min": "smallest value",
    "max": "largest value",
    "median": "median",
    "stddev": "standard deviation (sample)",
    "variance": "variance (sample)",
    "first": "value of the first row (by the order)",
    "last": "value of the last row (by the order)",
    "concat": "values joined into one text",
    "quantile": "quantile p (0 to 1)",
}
_NUMERIC_ONLY = {"sum", "avg", "median", "stddev", "variance", "quantile"}
_FLOAT_RESULT = {"avg", "median", "stddev", "variance", "quantile"}


@dataclass(frozen=True)
class Aggregation:
    function: str
    column: str | None = None
    name: str | None = None
    p: float | None = None
    separator: str = ", "
    order_by: tuple[OrderKey, ...] = ()


def read_aggregations(
    reader: SpecReader, key: str = "aggregations", *, functions: Sequence[str] = ()
) -> tuple[Aggregation, ...]:
    allowed = tuple(functions or AGGREGATIONS)
    result = []
    for item in reader.objects(key, "aggregation"):
        item.allow("function", "column", "name", "p", "separator", "order_by")
        function = item.string("function", choices=allowed)
        column = item.string("column", None)
        if column is None and function != "count":
            raise item.error("column", f"is required for {function!r} (only 'count' can count rows)")
        p = item.number("p", None, minimum=0.0, maximum=1.0) if function == "quantile" else None
        if function == "quantile" and p is None:
            raise item.error("p", "is required for 'quantile': a number between 0 and 1, e.g. 0.9")
        separator = item.data.get("separator", ", ")
        if not isinstance(separator, str):
            raise item.error("separator", f"must be a text, not {separator!r}")
        result.append(
            Aggregation(
                function=function,
                column=column,
                name=item.string("name", None),
                p=p,
                separator=separator,
                order_by=read_order_keys(item, "order_by", required=False),
            )
        )
    return tuple(result)


def default_name(agg: Aggregation) -> str:
    if agg.column is None:
        return "count"
    if agg.function == "quantile":
        assert agg.p is not None
        return f"{agg.column}_p{agg.p * 100:g}".replace(".", "_")
    return f"{agg.column}_{agg.function}"


def result_type(agg: Aggregation, column: Column | None) -> str:
    if agg.function in ("count", "count_distinct"):
        return "integer"
    if agg.function in _FLOAT_RESULT:
        return "float"
    if agg.function == "concat":
        return "string"
    assert column is not None
    return column.type


def aggregate(
    agg: Aggregation, relation: Relation, *, recipe: str, where: str, value: exp.Expr | None = None
) -> tuple[exp.Expr, Column | None]:
    """The SQL aggregate for ``agg`` over ``relation`` (or over ``value`` when given, e.g. a CASE).

    Returns:
        The expression and the input column it reads (``None`` for counting rows).
    """
    if agg.column is None:
        return (exp.Count(this=exp.Star()) if value is None else exp.Count(this=value)), None
    column = relation.column(agg.column, recipe=recipe, where=where)
    if agg.function in _NUMERIC_ONLY and column.type not in NUMERIC_TYPES:
        raise RecipeSpecError(
            f"recipe {recipe!r} {where}: {agg.function!r} needs a number column but {column.name!r} is "
            f"{column.type}; convert it first (Prepare recipe) or choose count, min, max, first or last",
            column=column.name,
            recipe=recipe,
        )
    x = value if value is not None else col(column.name)
    f = agg.function
    expression: exp.Expr
    if f == "count":
        expression = exp.Count(this=x)
    elif f == "count_distinct":
        expression = exp.Count(this=exp.Distinct(expressions=[x]))
    elif f == "sum":
        expression = exp.Sum(this=x)
    elif f == "avg":
        expression = exp.Avg(this=x)
    elif f == "min":
        expression = exp.Min(this=x)
    elif f == "max":
        expression = exp.Max(this=x)
    elif f == "median":
        expression = exp.PercentileCont(this=x, expression=exp.Literal.number(0.5))
    elif f == "quantile":
        expression = exp.PercentileCont(this=x, expression=exp.Literal.number(agg.p))
    elif f == "stddev":
        expression = exp.StddevSamp(this=x)
    elif f == "variance":
        expression = exp.Variance(this=x)
    elif f == "concat":
        text: exp.Expr = exp.cast(x, exp.DataType.build("VARCHAR"))
        if agg.order_by:
            text = exp.Order(
                this=text, expressions=ordered(agg.order_by, relation, recipe=recipe, where=where)
            )
        expression = exp.GroupConcat(this=text, separator=exp.Literal.string(agg.separator))
    elif f in ("first", "last"):
        keys = agg.order_by
        if f == "last":
            keys = tuple(
                OrderKey(
                    k.column,
                    "asc" if k.direction == "desc" else "desc",
                    "last" if k.nulls == "first" else "first",
                )
                for k in keys
            )
        inner: exp.Expr = x
        if keys:
            inner = exp.Order(this=x, expressions=ordered(keys, relation, recipe=recipe, where=where))
        # (array_agg(x ORDER BY …))[1]: FIRST() with an order does not exist in PostgreSQL.
        expression = exp.Bracket(
            this=exp.paren(exp.ArrayAgg(this=inner)), expressions=[exp.Literal.number(0)]
        )
    else:  # pragma: no cover - read_aggregations only lets known functions through
        raise RecipeSpecError(f"recipe {recipe!r} {where}: unknown aggregation {f!r}")
    return expression, column


@dataclass(frozen=True)
class GroupSpec:
    keys: tuple[str, ...]
    aggregations: tuple[Aggregation, ...]
    having: Condition | None = None


def read_group_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> GroupSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("keys", "aggregations", "having")
    keys = reader.strings("keys", ())
    aggregations = read_aggregations(reader)
    return GroupSpec(keys, aggregations, read_condition_setting(reader, "having", "having"))


def normalize_group(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_group_spec(spec, recipe=recipe))
    return result


def compile_group(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a group recipe (see the module docstring for the spec)."""
    parsed = read_group_spec(spec, recipe=recipe)
    relation, output = inputs[0], outputs[0]
    selects: list[exp.Expr] = []
    columns: list[Column] = []
    lineage: list[LineageEdge] = []
    names: dict[str, str] = {}
    for key in parsed.keys:
        column = relation.column(key, recipe=recipe, where="keys")
        selects.append(exp.alias_(col(key), key, quoted=True))
        columns.append(column)
        names[key.lower()] = "key"
        lineage.append(LineageEdge(output, key, relation.name, key))
    for i, agg in enumerate(parsed.aggregations, 1):
        where = f"aggregation {i}"
        expression, read = aggregate(agg, relation, recipe=recipe, where=where)
        name = agg.name or default_name(agg)
        if name.lower() in names:
            raise RecipeSpecError(
                f"recipe {recipe!r} {where}: output name {name!r} is already used by another "
                f"{names[name.lower()]}; give this aggregation another name",
                recipe=recipe,
            )
        names[name.lower()] = "aggregation"
        selects.append(exp.alias_(expression, name, quoted=True))
        columns.append(Column(name, result_type(agg, read)))
        if read is not None:
            lineage.append(LineageEdge(output, name, relation.name, read.name, "aggregation"))
    if not selects:
        raise RecipeSpecError(f"recipe {recipe!r}: choose at least one key or one aggregation")
    query: exp.Query = exp.select(*selects).from_(source_as(relation, "src"))
    if parsed.keys:
        query = query.group_by(*[col(k) for k in parsed.keys])  # type: ignore[attr-defined]
    if parsed.having is not None:
        grouped = Relation(relation.name, tuple(columns), exp.to_table("grouped"))
        condition = condition_expression(parsed.having, grouped, recipe=recipe, where="having")
        query = (
            exp.select(*[col(c.name) for c in columns])
            .from_(
                exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("grouped", quoted=True)))
            )
            .where(condition)
        )
    return CompiledRecipe((CompiledOutput(output, query),), tuple(lineage))
