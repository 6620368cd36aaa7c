"""Processors for missing values: fill them, and turn empty texts into missing values."""

from __future__ import annotations

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import cast, string
from modelworks.engine.recipes.prepare.base import PrepareState, ProcessorInfo, Step, origins_of
from modelworks.engine.recipes.prepare.rows import literal_for
from modelworks.engine.recipes.prepare.stats import snapshot, statistic
from modelworks.engine.recipes.types import ParamSpec

__all__ = ["EMPTY_TO_NULL", "FILL_MISSING"]

CATEGORY = "Missing values"
FILL_METHODS = ("constant", "mean", "median", "mode", "previous", "next")


def _fill(state: PrepareState, step: Step) -> None:
    names, method = step.column_names(), step.text("method")
    if method == "constant":
        if step.get("value") is None:
            raise step.fail("give the value that replaces missing values ('value')")
        cols = state.use(names)
        for name, col in cols.items():
            value = literal_for(col, step.get("value"), step, f"value for column {name!r}")
            state.set(name, exp.Coalesce(this=col.expr, expressions=[value]), col.type, col.origins)
        return
    if method in ("previous", "next"):
        _fill_along(state, step, names, method)
        return
    cols = state.use(names)
    if method in ("mean", "median"):
        for col in cols.values():
            step.numeric(col)
    table = snapshot(state)
    cols = state.use(names)
    for name, col in cols.items():
        stat = statistic(table, name, method)
        if method == "mode":
            state.set(name, exp.Coalesce(this=col.expr, expressions=[stat]), col.type, col.origins)
            continue
        filled = exp.Coalesce(this=cast(col.expr, "float"), expressions=[stat])
        state.set(name, filled, "float", origins_of([col]))
        if col.type != "float":
            state.notes.append(
                f"{step.where}: column {name!r} becomes decimal numbers (filled with the {method})"
            )


def _fill_along(state: PrepareState, step: Step, names: list[str], method: str) -> None:
    order = step.text("order_by")
    if not order:
        raise step.fail(f"choose the column that orders rows ('order_by') to fill with the {method} value")
    cols = state.use([*names, order])
    state.non_portable_because(
        f"{step.where}: filling with the {method} value uses IGNORE NULLS, which PostgreSQL lacks"
    )
    for name in names:
        col = cols[name]
        if method == "previous":
            function: exp.Expression = exp.LastValue(this=col.expr)
            frame = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
        else:
            function = exp.FirstValue(this=col.expr)
            frame = exp.WindowSpec(kind="ROWS", start="CURRENT ROW", end="UNBOUNDED", end_side="FOLLOWING")
        window = exp.Window(
            this=exp.IgnoreNulls(this=function),
            order=exp.Order(expressions=[exp.Ordered(this=cols[order].expr.copy(), nulls_first=False)]),
            spec=frame,
        )
        origins = origins_of([col, cols[order]])
        state.set(name, window, col.type, origins, windowed=True)


def _empty_to_null(state: PrepareState, step: Step) -> None:
    names = step.column_names() or [c.name for c in state.columns if c.type == "string"]
    cols = state.use(names)
    for name, col in cols.items():
        step.require_type(col, ("string",), "text")
        if step.get("spaces"):
            blank = exp.EQ(this=exp.Trim(this=col.expr), expression=string(""))
            expr: exp.Expression = exp.Case(
                ifs=[exp.If(this=blank, true=exp.Null())], default=col.expr.copy()
            )
        else:
            expr = exp.Nullif(this=col.expr, expression=string(""))
        state.set(name, expr, "string", origins_of([col]))


FILL_MISSING = ProcessorInfo(
    "fill_missing",
    "Fill missing values",
    CATEGORY,
    "Replace missing values with a constant, the column's mean, median or most frequent value, or "
    "the previous / next value in an order (DuckDB only).",
    (
        ParamSpec("columns", "columns", "Columns"),
        ParamSpec("method", "choice", "Fill with", default="constant", choices=FILL_METHODS),
        ParamSpec("value", "string", "Value (constant)", required=False),
        ParamSpec("order_by", "column", "Order by (previous / next)", required=False),
    ),
    _fill,
)
EMPTY_TO_NULL = ProcessorInfo(
    "empty_to_null",
    "Empty text to missing",
    CATEGORY,
    "Turn empty texts (and, optionally, texts of only spaces) into missing values. Without columns: "
    "every text column.",
    (
        ParamSpec("columns", "columns", "Columns", required=False),
        ParamSpec("spaces", "boolean", "Texts of only spaces too", required=False, default=True),
    ),
    _empty_to_null,
)
