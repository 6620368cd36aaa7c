"""Processors that choose rows: filter on conditions or a formula, remove rows with missing values or
outliers, deduplicate, and flag rows with a true/false column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import (
    NUMERIC,
    TEMPORAL,
    all_of,
    any_of,
    cast,
    column_ref,
    number,
    paren,
    parse_iso,
    regex_error,
    string,
    to_text,
)
from modelworks.engine.recipes.prepare.base import (
    Col,
    PrepareState,
    ProcessorInfo,
    Step,
    origins_of,
    substitute,
)
from modelworks.engine.recipes.prepare.stats import snapshot, statistic
from modelworks.engine.recipes.types import ParamSpec

__all__ = [
    "DEDUPLICATE",
    "FILTER_FORMULA",
    "FILTER_OUTLIERS",
    "FILTER_ROWS",
    "FLAG_ROWS",
    "REMOVE_MISSING",
    "literal_for",
]

CATEGORY = "Filter rows"
OPERATORS = (
    "equals",
    "not_equals",
    "less",
    "less_or_equal",
    "greater",
    "greater_or_equal",
    "between",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "is_missing",
    "is_not_missing",
    "is_empty",
    "is_not_empty",
    "is_true",
    "is_false",
)
_COMPARE: dict[str, type[exp.Expression]] = {
    "equals": exp.EQ,
    "less": exp.LT,
    "less_or_equal": exp.LTE,
    "greater": exp.GT,
    "greater_or_equal": exp.GTE,
}


def literal_for(col: Col, value: Any, step: Step, label: str) -> exp.Expression:
    """``value`` (from a form) as a literal of ``col``'s type, or an error saying what is expected."""
    text = str(value)
    if col.type in NUMERIC:
        try:
            parsed = float(text.strip())
        except ValueError:
            raise step.fail(
                f"{label}: {text!r} is not a number, but column {col.name!r} holds numbers"
            ) from None
        return number(int(parsed) if parsed.is_integer() and col.type == "integer" else parsed)
    if col.type in TEMPORAL:
        if parse_iso(text, col.type) is None:
            raise step.fail(f"{label}: {text!r} is not a date (write YYYY-MM-DD) for column {col.name!r}")
        return cast(string(text.strip()), col.type)
    if col.type == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise step.fail(f"{label}: column {col.name!r} holds true/false, not {text!r}")
        return exp.Boolean(this=lowered == "true")
    return string(text)


def _condition(col: Col, item: Mapping[str, Any], step: Step, label: str) -> exp.Expression:
    op = str(item["operator"])
    value, x = item.get("value"), col.expr

    def need_value(key: str = "value") -> Any:
        given = item.get(key)
        if given is None:
            raise step.fail(f"{label}: operator {op!r} needs a {key}")
        return given

    if op in _COMPARE:
        return _COMPARE[op](this=paren(x), expression=literal_for(col, need_value(), step, label))
    if op == "not_equals":
        test = exp.NEQ(this=paren(x), expression=literal_for(col, need_value(), step, label))
        return exp.Coalesce(this=test, expressions=[exp.true()])  # a missing value is "not equal"
    if op == "between":
        low = literal_for(col, need_value(), step, label)
        high = literal_for(col, need_value("value2"), step, label)
        return exp.Between(this=paren(x), low=low, high=high)
    if op in ("in", "not_in"):
        values = item.get("values") or ([value] if value is not None else [])
        if not values:
            raise step.fail(f"{label}: operator {op!r} needs a list of values")
        found = exp.In(this=paren(x), expressions=[literal_for(col, v, step, label) for v in values])
        if op == "in":
            return found
        return exp.Coalesce(this=exp.Not(this=found), expressions=[exp.true()])
    if op in ("contains", "starts_with", "ends_with", "matches"):
        text, needle = to_text(x, col.type), str(need_value())
        if op == "contains":
            return exp.GT(this=exp.StrPosition(this=text, substr=string(needle)), expression=number(0))
        if op == "starts_with":
            return exp.StartsWith(this=text, expression=string(needle))
        if op == "ends_with":
            tail = exp.Right(this=text, expression=number(len(needle)))
            return exp.EQ(this=tail, expression=string(needle))
        problem = regex_error(needle)
        if problem:
            raise step.fail(f"{label}: {needle!r} is not a valid regular expression ({problem})")
        return exp.RegexpLike(this=text, expression=string(needle))
    if op in ("is_missing", "is_not_missing"):
        missing = exp.Is(this=paren(x), expression=exp.Null())
        return missing if op == "is_missing" else exp.Not(this=missing)
    if op in ("is_empty", "is_not_empty"):
        empty = _empty(col)
        return empty if op == "is_empty" else exp.Not(this=paren(empty))
    if col.type not in ("boolean", "any"):
        raise step.fail(f"{label}: operator {op!r} needs a true/false column; {col.name!r} is {col.type}")
    return exp.EQ(this=paren(x), expression=exp.Boolean(this=op == "is_true"))


def _empty(col: Col) -> exp.Expression:
    """Missing, or (for text) empty or only spaces."""
    missing = exp.Is(this=paren(col.expr.copy()), expression=exp.Null())
    if col.type not in ("string", "any"):
        return missing
    blank = exp.EQ(this=exp.Trim(this=to_text(col.expr.copy(), col.type)), expression=string(""))
    return exp.Or(this=missing, expression=blank)


def _keep_or_remove(state: PrepareState, step: Step, test: exp.Expression, cols: list[Col]) -> None:
    """Keep rows where ``test`` is true, or remove them (a missing result counts as false)."""
    definite = exp.Coalesce(this=paren(test), expressions=[exp.false()])
    state.add_where(definite if step.text("action") == "keep" else exp.Not(this=definite), cols)


def _filter_rows(state: PrepareState, step: Step) -> None:
    conditions: list[Mapping[str, Any]] = step.get("conditions")
    cols = state.use([str(c["column"]) for c in conditions], filtering=True)
    tests = [
        paren(_condition(cols[str(c["column"])], c, step, f"condition {i}"))
        for i, c in enumerate(conditions, 1)
    ]
    joined = all_of(tests) if step.text("match") == "all" else any_of(tests)
    _keep_or_remove(state, step, joined, list(cols.values()))


def _filter_formula(state: PrepareState, step: Step) -> None:
    formula = step.formula(step.text("formula"))
    if formula.type not in ("boolean", "null", "any"):
        raise step.fail(f"the formula gives {formula.type} values; a filter needs a condition (true/false)")
    cols = state.use(formula.columns, filtering=True)
    for reason in formula.non_portable:
        state.non_portable_because(f"{step.where}: {reason}")
    _keep_or_remove(state, step, substitute(formula, cols), list(cols.values()))


def _remove_missing(state: PrepareState, step: Step) -> None:
    names = step.column_names()
    cols = state.use(names, filtering=True)
    blanks = bool(step.get("empty_text"))
    tests = [
        _empty(c) if blanks else exp.Is(this=paren(c.expr), expression=exp.Null()) for c in cols.values()
    ]
    parts = [paren(t) for t in tests]
    any_missing = any_of(parts) if step.text("how") == "any" else all_of(parts)
    state.add_where(exp.Not(this=paren(any_missing)), list(cols.values()))


def _filter_outliers(state: PrepareState, step: Step) -> None:
    name = step.text("column")
    step.numeric(state.use([name])[name])
    table = snapshot(state)
    col = state.use([name], filtering=True)[name]
    method = step.text("method")
    threshold = step.get("threshold")
    if threshold is not None and threshold <= 0:
        raise step.fail("the threshold k must be greater than 0")
    value = cast(col.expr, "float")
    if method == "iqr":
        k = 1.5 if threshold is None else float(threshold)
        q1, q3 = statistic(table, name, "q1"), statistic(table, name, "q3")
        spread = exp.Sub(this=q3, expression=q1)
        low = exp.Sub(this=q1.copy(), expression=exp.Mul(this=number(k), expression=paren(spread)))
        high = exp.Add(this=q3.copy(), expression=exp.Mul(this=number(k), expression=paren(spread.copy())))
        outlier: exp.Expression = any_of(
            (exp.LT(this=value, expression=paren(low)), exp.GT(this=value.copy(), expression=paren(high)))
        )
    else:
        k = 3.0 if threshold is None else float(threshold)
        mean, sd = statistic(table, name, "mean"), statistic(table, name, "stddev")
        distance = exp.Abs(this=exp.Sub(this=value, expression=mean))
        outlier = exp.GT(this=distance, expression=exp.Mul(this=number(k), expression=sd))
    state.notes.append(
        f"{step.where}: {'removes' if step.text('action') == 'remove' else 'keeps only'} outliers of "
        f"{name!r} ({'beyond ' + str(k) + ' times the IQR' if method == 'iqr' else str(k) + ' standard deviations'})"
    )
    _keep_or_remove(state, step, outlier, [col])


def _deduplicate(state: PrepareState, step: Step) -> None:
    keys = step.column_names() or [c.name for c in state.columns]
    keep, order = step.text("keep"), step.text("order_by")
    if keep in ("first", "last") and not order:
        raise step.fail(f"choose the column that orders rows ('order_by') to keep the {keep} one")
    cols = state.use([*keys, *([order] if order else [])], filtering=True)
    for key in keys:
        if cols[key].type in ("nested", "binary"):
            raise step.fail(f"column {key!r} holds {cols[key].type} values and cannot identify duplicates")
    ordering = [exp.Ordered(this=cols[order].expr, desc=keep == "last", nulls_first=False)] if order else []
    ordering += [exp.Ordered(this=cols[k].expr.copy()) for k in keys]
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[cols[k].expr.copy() for k in keys],
        order=exp.Order(expressions=ordering),
    )
    hidden = f"__mw_row_{step.number}"
    state.set(hidden, window, "integer", {})
    state.wrap()
    state.add_where(exp.EQ(this=column_ref(hidden), expression=number(1)), list(cols.values()))
    state.drop([hidden])


def _flag_rows(state: PrepareState, step: Step) -> None:
    formula = step.formula(step.text("formula"))
    if formula.type not in ("boolean", "null", "any"):
        raise step.fail(f"the formula gives {formula.type} values; a flag needs a condition (true/false)")
    output = step.new_name(step.text("output"), "output")
    cols = state.use(formula.columns)
    for reason in formula.non_portable:
        state.non_portable_because(f"{step.where}: {reason}")
    flag = exp.Coalesce(this=paren(substitute(formula, cols)), expressions=[exp.false()])
    created = state.find(output) is None
    state.set(output, flag, "boolean", origins_of(cols.values()))
    if created:
        state.last_change = step.number


_ACTION = ParamSpec("action", "choice", "Rows", default="keep", choices=("keep", "remove"))

FILTER_ROWS = ProcessorInfo(
    "filter_rows",
    "Filter rows",
    CATEGORY,
    "Keep or remove the rows that match conditions on columns. A missing value never matches "
    "(except for 'is missing', 'is empty' and 'not equals').",
    (
        ParamSpec(
            "conditions",
            "list",
            "Conditions",
            item=(
                ParamSpec("column", "column", "Column"),
                ParamSpec("operator", "choice", "Operator", choices=OPERATORS),
                ParamSpec("value", "string", "Value", required=False),
                ParamSpec("value2", "string", "Upper value (between)", required=False),
                ParamSpec("values", "strings", "Values (in / not in)", required=False),
            ),
        ),
        ParamSpec("match", "choice", "Rows must match", default="all", choices=("all", "any")),
        _ACTION,
    ),
    _filter_rows,
)
FILTER_FORMULA = ProcessorInfo(
    "filter_formula",
    "Filter rows with a formula",
    CATEGORY,
    "Keep or remove the rows for which a formula is true, e.g. dep_delay > 15 and origin = 'JFK'.",
    (ParamSpec("formula", "formula", "Condition"), _ACTION),
    _filter_formula,
)
REMOVE_MISSING = ProcessorInfo(
    "remove_missing",
    "Remove rows with missing values",
    CATEGORY,
    "Remove rows where the chosen columns are missing.",
    (
        ParamSpec("columns", "columns", "Columns"),
        ParamSpec(
            "how",
            "choice",
            "Remove when",
            default="any",
            choices=("any", "all"),
            help="any: one of the columns is missing; all: every one is",
        ),
        ParamSpec("empty_text", "boolean", "Empty text counts as missing", required=False, default=False),
    ),
    _remove_missing,
)
FILTER_OUTLIERS = ProcessorInfo(
    "filter_outliers",
    "Filter outliers",
    CATEGORY,
    "Remove (or keep only) rows whose value is far from the others: beyond k times the interquartile "
    "range outside the quartiles (IQR, k=1.5) or more than k standard deviations from the mean (z-score, k=3).",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("method", "choice", "Method", default="iqr", choices=("iqr", "zscore")),
        ParamSpec("threshold", "number", "k", required=False),
        ParamSpec("action", "choice", "Outliers", default="remove", choices=("remove", "keep")),
    ),
    _filter_outliers,
)
DEDUPLICATE = ProcessorInfo(
    "deduplicate",
    "Remove duplicates",
    CATEGORY,
    "Keep one row per distinct value of the key columns (all columns when none is chosen); the "
    "first or last by an order column, or any.",
    (
        ParamSpec("columns", "columns", "Key columns", required=False),
        ParamSpec("keep", "choice", "Keep", default="any", choices=("any", "first", "last")),
        ParamSpec("order_by", "column", "Order by", required=False),
    ),
    _deduplicate,
)
FLAG_ROWS = ProcessorInfo(
    "flag_rows",
    "Flag rows",
    CATEGORY,
    "Add a true/false column that says whether a formula holds for the row (false when it cannot tell).",
    (ParamSpec("formula", "formula", "Condition"), ParamSpec("output", "string", "Flag column")),
    _flag_rows,
)
