"""Row conditions of the visual recipes: a formula of the formula language, or structured filters.

User values become SQLGlot literals of the column's type, checked first, so a typo gives a message
about the value rather than a SQL error.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlglot import exp

from modelworks.engine.recipes.types import Column, RecipeSpecError, Relation
from modelworks.engine.recipes.visual.common import col
from modelworks.engine.recipes.visual.spec import SpecReader

__all__ = [
    "FILTER_OPERATORS",
    "NON_PORTABLE",
    "Condition",
    "FilterItem",
    "condition_expression",
    "literal_for",
    "parse_formula",
    "read_condition",
    "read_condition_setting",
]

_DECIMAL = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
#: Key of ``Expression.meta`` listing why a sub-expression cannot run in PostgreSQL.
NON_PORTABLE = "modelworks_non_portable"
FILTER_OPERATORS = (
    "eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "between",
    "is_null", "not_null", "contains", "starts_with", "ends_with",
)  # fmt: skip
_COMPARE: Mapping[str, type[exp.Binary]] = {
    "eq": exp.EQ,
    "ne": exp.NEQ,
    "lt": exp.LT,
    "le": exp.LTE,
    "gt": exp.GT,
    "ge": exp.GTE,
}


def literal_for(value: Any, column: Column, *, recipe: str, where: str) -> exp.Expr:
    """``value`` as a SQL literal of ``column``'s type; a message saying what is wrong otherwise."""
    place = f"recipe {recipe!r} {where}".rstrip()
    if value is None:
        return exp.Null()
    kind = column.type
    try:
        if kind == "integer":
            if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value).strip()):
                raise ValueError
            return exp.Literal.number(int(str(value).strip()))
        if kind in ("float", "decimal"):
            # Only plain decimal notation reaches SQL (no 'nan', 'inf' or '1_000').
            text = repr(float(value)) if isinstance(value, float) else str(value).strip()
            if isinstance(value, bool) or not _DECIMAL.fullmatch(text):
                raise ValueError
            return exp.Literal.number(text)
        if kind == "boolean":
            if isinstance(value, bool):
                return exp.Boolean(this=value)
            text = str(value).strip().lower()
            if text not in ("true", "false"):
                raise ValueError
            return exp.Boolean(this=text == "true")
        if kind == "date":
            parsed = dt.date.fromisoformat(str(value).strip())
            return exp.cast(exp.Literal.string(parsed.isoformat()), exp.DataType.build("DATE"))
        if kind == "timestamp":
            stamp = dt.datetime.fromisoformat(str(value).strip())
            return exp.cast(
                exp.Literal.string(stamp.replace(tzinfo=None).isoformat(sep=" ")),
                exp.DataType.build("TIMESTAMP"),
            )
        if kind == "time":
            clock = dt.time.fromisoformat(str(value).strip())
            return exp.cast(exp.Literal.string(clock.isoformat()), exp.DataType.build("TIME"))
    except ValueError:
        raise RecipeSpecError(
            f"{place}: value {value!r} is not a valid {kind} for column {column.name!r}"
            + (" (write dates as YYYY-MM-DD)" if kind in ("date", "timestamp") else ""),
            column=column.name,
            recipe=recipe,
        ) from None
    return exp.Literal.string(str(value))


@dataclass(frozen=True)
class FilterItem:
    """``column <op> value``; ``op`` one of :data:`FILTER_OPERATORS`."""

    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Condition:
    """A row condition: a formula, or structured filters combined with ``all`` (AND) / ``any`` (OR)."""

    formula: str | None = None
    filters: tuple[FilterItem, ...] = ()
    match: str = "all"


def read_condition(reader: SpecReader) -> Condition | None:
    """A condition from ``{"formula": "..."}`` or ``{"filters": [...], "match": "all"}``; ``None`` if empty."""
    formula = reader.data.get("formula")
    if formula is not None and not isinstance(formula, str):
        raise reader.error("formula", f"must be a text, not {formula!r}")
    filters = []
    for item in reader.objects("filters", "filter", required=False):
        item.allow("column", "op", "value")
        op = item.string("op", choices=FILTER_OPERATORS)
        value = item.data.get("value")
        if op in ("in", "not_in") and not isinstance(value, list):
            raise item.error("value", "must be a list of values for 'in' and 'not_in'")
        if op == "between" and not (isinstance(value, list) and len(value) == 2):
            raise item.error("value", "must be a pair [low, high] for 'between'")
        if op not in ("is_null", "not_null", "in", "not_in", "between") and value is None:
            raise item.error("value", f"is required for operator {op!r}")
        filters.append(FilterItem(item.string("column"), op, value))
    match = reader.string("match", "all", choices=("all", "any"))
    if formula and formula.strip() and filters:
        raise reader.error("formula", "and 'filters' cannot both be set; keep one of them")
    if formula and formula.strip():
        return Condition(formula=formula.strip(), match=match)
    if filters:
        return Condition(filters=tuple(filters), match=match)
    return None


def parse_formula(
    text: str, relation: Relation, *, recipe: str, where: str = "", condition: bool = False
) -> exp.Expr:
    """A formula of the formula language over ``relation``'s columns, as a SQLGlot expression.

    The language lives in its own module, imported here lazily. With ``condition``, the formula
    must give true/false (a condition such as ``delay > 15``).
    """
    try:
        module = importlib.import_module("modelworks.engine.recipes.formula")
    except ImportError as exc:  # pragma: no cover - only while the formula module is missing
        raise RecipeSpecError(
            f"recipe {recipe!r}: formulas are not available in this version; use structured filters instead"
        ) from exc
    analyze = getattr(module, "analyze_formula", None)
    if analyze is None:  # pragma: no cover - the contract only promises parse_formula
        parse = cast(Callable[..., exp.Expr], module.parse_formula)
        return parse(text, relation, recipe=recipe)
    place = f"recipe {recipe!r} {where}".rstrip()
    parsed = analyze(text, {c.name: c.type for c in relation.columns}, where=place)
    if condition and parsed.type not in ("boolean", "null", "any"):
        raise RecipeSpecError(
            f"{place}: the formula {text!r} gives a value of type {parsed.type}, not true/false; write a condition such as "
            "delay > 15",
            recipe=recipe,
        )
    tree = cast(exp.Expr, parsed.expression)
    if parsed.non_portable:
        # Read back by compile_recipe: such a recipe cannot run inside PostgreSQL.
        tree.meta[NON_PORTABLE] = tuple(parsed.non_portable)
    return tree


def condition_expression(
    condition: Condition,
    relation: Relation,
    *,
    recipe: str,
    where: str,
    qualify: Callable[[str], exp.Expr] | None = None,
) -> exp.Expr:
    """The condition as a boolean SQL expression over ``relation``'s columns.

    Args:
        condition: what to test.
        relation: the columns the condition may use (by name).
        recipe: the recipe's name, for messages.
        where: which setting holds the condition, for messages.
        qualify: turns a column name into the expression that reads it (e.g. ``"t1"."code"``);
            default: the bare quoted column.
    """
    to_expr = qualify or (lambda name: col(name))
    if condition.formula is not None:
        tree = parse_formula(condition.formula, relation, recipe=recipe, where=where, condition=True)
        if qualify is None:
            return tree
        names = set(relation.column_names)

        def swap(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and not node.table and node.name in names:
                return to_expr(node.name)
            return node

        return tree.transform(swap)
    parts = [
        _filter_expression(item, relation, recipe=recipe, where=where, to_expr=to_expr)
        for item in condition.filters
    ]
    combined = parts[0]
    for part in parts[1:]:
        combined = exp.and_(combined, part) if condition.match == "all" else exp.or_(combined, part)
    return exp.paren(combined) if len(parts) > 1 else combined


def _filter_expression(
    item: FilterItem, relation: Relation, *, recipe: str, where: str, to_expr: Callable[[str], exp.Expr]
) -> exp.Expr:
    column = relation.column(item.column, recipe=recipe, where=where)
    target = to_expr(item.column)
    if item.op == "is_null":
        return exp.Is(this=target, expression=exp.Null())
    if item.op == "not_null":
        return exp.not_(exp.Is(this=target, expression=exp.Null()))
    if item.op in ("contains", "starts_with", "ends_with"):
        text = exp.Lower(this=exp.cast(target, exp.DataType.build("VARCHAR")))
        needle = exp.Lower(this=exp.Literal.string(str(item.value)))
        position = exp.StrPosition(this=text, substr=needle)
        if item.op == "contains":
            return exp.GT(this=position, expression=exp.Literal.number(0))
        if item.op == "starts_with":
            return exp.EQ(this=position, expression=exp.Literal.number(1))
        length = exp.Length(this=needle.copy())
        tail = exp.Substring(
            this=text.copy(),
            start=exp.Add(
                this=exp.Sub(this=exp.Length(this=text.copy()), expression=length),
                expression=exp.Literal.number(1),
            ),
        )
        return exp.EQ(this=tail, expression=needle.copy())
    if item.op in ("in", "not_in"):
        values = [literal_for(v, column, recipe=recipe, where=where) for v in item.value]
        if not values:
            return exp.false() if item.op == "in" else exp.true()
        test = exp.In(this=target, expressions=values)
        return exp.not_(test) if item.op == "not_in" else test
    if item.op == "between":
        low, high = (literal_for(v, column, recipe=recipe, where=where) for v in item.value)
        return exp.Between(this=target, low=low, high=high)
    return _COMPARE[item.op](
        this=target, expression=literal_for(item.value, column, recipe=recipe, where=where)
    )


def read_condition_setting(reader: SpecReader, key: str, where: str) -> Condition | None:
    """A condition given as a formula text or as ``{"formula"}`` / ``{"filters"}``."""
    value = reader.data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return Condition(formula=value.strip())
    child = reader.child(key, where)
    child.allow("formula", "filters", "match")
    return read_condition(child)
