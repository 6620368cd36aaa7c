"""Processors for numeric columns: round, clip, bin, absolute value, logarithm, standardise,
min-max scale and arithmetic between two columns."""

from __future__ import annotations

import itertools
from decimal import Decimal

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import (
    all_of,
    arithmetic,
    cast,
    number,
    paren,
    round_half_away,
    safe_divide,
    string,
)
from modelworks.engine.recipes.prepare.base import Col, PrepareState, ProcessorInfo, Step, origins_of
from modelworks.engine.recipes.prepare.stats import snapshot, statistic
from modelworks.engine.recipes.types import ParamSpec

__all__ = [
    "ABS_VALUE",
    "BIN_NUMBERS",
    "CLIP_NUMBERS",
    "LOG_TRANSFORM",
    "MATH_COLUMNS",
    "MIN_MAX_SCALE",
    "ROUND_NUMBERS",
    "STANDARDIZE",
]

CATEGORY = "Numbers"
MATH_OPERATIONS = ("+", "-", "*", "/", "%", "^", "min", "max")


def _numeric_columns(state: PrepareState, step: Step) -> dict[str, Col]:
    cols = state.use(step.column_names())
    for col in cols.values():
        step.numeric(col)
    return cols


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _round(state: PrepareState, step: Step) -> None:
    digits, mode = step.get("decimals"), step.text("mode")
    if not -10 <= digits <= 10:
        raise step.fail("the number of decimals must be between -10 and 10")
    for name, col in _numeric_columns(state, step).items():
        if mode == "round":
            expr = round_half_away(col.expr, col.type, digits)
        else:
            node: type[exp.Expression] = exp.Floor if mode == "floor" else exp.Ceil
            scale = number(Decimal(10) ** digits)
            value = col.expr if col.type == "decimal" else cast(col.expr, "float")
            expr = exp.Div(
                this=node(this=exp.Mul(this=paren(value), expression=scale)), expression=scale.copy()
            )
            if col.type == "integer":
                expr = cast(expr, "integer")
        state.set(name, expr, col.type, origins_of([col]))


def _clip(state: PrepareState, step: Step) -> None:
    low, high = step.get("min"), step.get("max")
    if low is None and high is None:
        raise step.fail("give a minimum, a maximum or both")
    if low is not None and high is not None and low > high:
        raise step.fail(f"the minimum {_fmt(low)} is greater than the maximum {_fmt(high)}")
    for name, col in _numeric_columns(state, step).items():
        whole = col.type == "integer"
        for bound in (low, high):
            if whole and bound is not None and not float(bound).is_integer():
                raise step.fail(f"column {name!r} holds whole numbers; use whole bounds, not {bound}")
        ifs = []
        if low is not None:
            ifs.append(
                exp.If(
                    this=exp.LT(this=paren(col.expr), expression=number(low)),
                    true=number(int(low) if whole else low),
                )
            )
        if high is not None:
            ifs.append(
                exp.If(
                    this=exp.GT(this=paren(col.expr.copy()), expression=number(high)),
                    true=number(int(high) if whole else high),
                )
            )
        state.set(name, exp.Case(ifs=ifs, default=col.expr.copy()), col.type, origins_of([col]))


def _bin(state: PrepareState, step: Step) -> None:
    col = step.column()
    step.numeric(col)
    output = step.new_name(step.text("output") or f"{col.name}_bin", "output")
    value = cast(col.expr, "float")
    if step.text("method") == "width":
        width, origin = step.get("width"), step.get("origin") or 0.0
        if width is None or width <= 0:
            raise step.fail("give a bin width greater than 0 ('width')")
        position = exp.Floor(
            this=exp.Div(this=paren(exp.Sub(this=value, expression=number(origin))), expression=number(width))
        )
        expr: exp.Expression = exp.Add(
            this=number(origin), expression=exp.Mul(this=position, expression=number(width))
        )
        logical = "float"
    else:
        edges = _edges(step)
        labels = list(step.get("labels") or [])
        if labels and len(labels) != len(edges) - 1:
            raise step.fail(
                f"{len(edges)} edges make {len(edges) - 1} bins, but {len(labels)} labels are given"
            )
        labels = labels or [
            f"[{_fmt(a)}, {_fmt(b)}{']' if i == len(edges) - 2 else ')'}"
            for i, (a, b) in enumerate(itertools.pairwise(edges))
        ]
        ifs = []
        for i, label in enumerate(labels):
            upper: type[exp.Expression] = exp.LTE if i == len(labels) - 1 else exp.LT
            inside = all_of(
                (
                    exp.GTE(this=value.copy(), expression=number(edges[i])),
                    upper(this=value.copy(), expression=number(edges[i + 1])),
                )
            )
            ifs.append(exp.If(this=inside, true=string(label)))
        expr, logical = exp.Case(ifs=ifs), "string"
    created = state.find(output) is None
    state.set(output, expr, logical, origins_of([col]), after=col.name)
    if created:
        state.last_change = step.number


def _edges(step: Step) -> list[float]:
    edges: list[float] = []
    for text in step.get("edges") or []:
        try:
            edges.append(float(text))
        except ValueError:
            raise step.fail(f"bin edge {text!r} is not a number") from None
    if len(edges) < 2:
        raise step.fail("give at least two bin edges ('edges'), in increasing order")
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise step.fail("bin edges must be in strictly increasing order")
    return edges


def _abs(state: PrepareState, step: Step) -> None:
    for name, col in _numeric_columns(state, step).items():
        state.set(name, exp.Abs(this=col.expr), col.type, origins_of([col]))


def _log(state: PrepareState, step: Step) -> None:
    base, plus_one = step.text("base"), bool(step.get("plus_one"))
    for name, col in _numeric_columns(state, step).items():
        value = cast(col.expr, "float")
        if plus_one:
            value = exp.Add(this=value, expression=number(1))
        if base == "10":
            log: exp.Expression = exp.Log(this=value.copy())
        elif base == "2":
            log = exp.Div(this=exp.Ln(this=value.copy()), expression=exp.Ln(this=number(2.0)))
        else:
            log = exp.Ln(this=value.copy())
        positive = exp.GT(this=paren(value), expression=number(0))
        state.set(name, exp.Case(ifs=[exp.If(this=positive, true=log)]), "float", origins_of([col]))


def _scale(state: PrepareState, step: Step) -> None:
    cols = _numeric_columns(state, step)
    table = snapshot(state)
    cols = state.use(list(cols))
    standard = step.info.name == "standardize"
    for name, col in cols.items():
        value = cast(col.expr, "float")
        if standard:
            mean, spread = statistic(table, name, "mean"), statistic(table, name, "stddev")
            offset: exp.Expression = exp.Sub(this=value, expression=mean)
        else:
            low, high = statistic(table, name, "min"), statistic(table, name, "max")
            offset = exp.Sub(this=value, expression=low)
            spread = exp.Sub(this=high, expression=low.copy())
        state.set(name, safe_divide(offset, spread), "float", origins_of([col]))


def _math(state: PrepareState, step: Step) -> None:
    op, right_name, right_value = step.text("operation"), step.get("right_column"), step.get("right_value")
    if (right_name is None) == (right_value is None):
        raise step.fail("give either a second column ('right_column') or a number ('right_value')")
    cols = state.use([step.text("left"), *([right_name] if right_name else [])])
    left = cols[step.text("left")]
    step.numeric(left)
    if right_name:
        right = cols[right_name]
        step.numeric(right)
        other, other_type, used = right.expr, right.type, [left, right]
    else:
        whole = float(right_value).is_integer() and op != "/"
        other, other_type, used = (
            number(int(right_value) if whole else right_value),
            "integer" if whole else "float",
            [left],
        )
    if op in ("min", "max"):
        node: type[exp.Expression] = exp.Least if op == "min" else exp.Greatest
        expr = node(this=left.expr, expressions=[other], ignore_nulls=True)
        logical = "integer" if {left.type, other_type} == {"integer"} else "float"
        if logical == "float":
            expr = node(
                this=cast(left.expr.copy(), "float"),
                expressions=[cast(other.copy(), "float")],
                ignore_nulls=True,
            )
    else:
        expr, logical = arithmetic(op, left.expr, left.type, other, other_type)
    output = step.new_name(step.text("output"), "output")
    created = state.find(output) is None
    state.set(output, expr, logical, origins_of(used))
    if created:
        state.last_change = step.number


_COLUMNS = ParamSpec("columns", "columns", "Columns")

ROUND_NUMBERS = ProcessorInfo(
    "round_numbers",
    "Round numbers",
    CATEGORY,
    "Round to a number of decimals (negative: to tens, hundreds…), halves away from zero; or round down / up.",
    (
        _COLUMNS,
        ParamSpec("decimals", "integer", "Decimals", default=0),
        ParamSpec("mode", "choice", "Mode", default="round", choices=("round", "floor", "ceil")),
    ),
    _round,
)
CLIP_NUMBERS = ProcessorInfo(
    "clip_numbers",
    "Clip numbers",
    CATEGORY,
    "Replace values below a minimum by the minimum and values above a maximum by the maximum.",
    (
        _COLUMNS,
        ParamSpec("min", "number", "Minimum", required=False),
        ParamSpec("max", "number", "Maximum", required=False),
    ),
    _clip,
)
BIN_NUMBERS = ProcessorInfo(
    "bin_numbers",
    "Bin numbers",
    CATEGORY,
    "Group numbers into ranges: bins of a fixed width (the new column holds each bin's start) or "
    "between explicit edges (the new column holds a label; values outside the edges stay empty).",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("method", "choice", "Bins", default="width", choices=("width", "edges")),
        ParamSpec("width", "number", "Width", required=False),
        ParamSpec("origin", "number", "First bin starts at", required=False, default=0),
        ParamSpec("edges", "strings", "Edges (increasing numbers)", required=False),
        ParamSpec("labels", "strings", "Labels (one per bin)", required=False),
        ParamSpec("output", "string", "New column", required=False, help="Default: the column name and _bin"),
    ),
    _bin,
)
ABS_VALUE = ProcessorInfo(
    "abs_value",
    "Absolute value",
    CATEGORY,
    "Drop the sign of numbers.",
    (_COLUMNS,),
    _abs,
)
LOG_TRANSFORM = ProcessorInfo(
    "log_transform",
    "Logarithm",
    CATEGORY,
    "Replace numbers with their logarithm (empty for values ≤ 0), optionally of 1 + the value.",
    (
        _COLUMNS,
        ParamSpec("base", "choice", "Base", default="e", choices=("e", "10", "2")),
        ParamSpec("plus_one", "boolean", "Logarithm of 1 + value", required=False, default=False),
    ),
    _log,
)
STANDARDIZE = ProcessorInfo(
    "standardize",
    "Standardize (z-score)",
    CATEGORY,
    "Replace numbers with their distance to the column's mean, in standard deviations.",
    (_COLUMNS,),
    _scale,
)
MIN_MAX_SCALE = ProcessorInfo(
    "min_max_scale",
    "Scale to 0-1",
    CATEGORY,
    "Rescale numbers so the column's minimum becomes 0 and its maximum 1.",
    (_COLUMNS,),
    _scale,
)
MATH_COLUMNS = ProcessorInfo(
    "math_columns",
    "Calculate",
    CATEGORY,
    "Add, subtract, multiply, divide… a column by another column or by a number (dividing by zero "
    "gives an empty value).",
    (
        ParamSpec("left", "column", "Column"),
        ParamSpec("operation", "choice", "Operation", choices=MATH_OPERATIONS),
        ParamSpec("right_column", "column", "Second column", required=False),
        ParamSpec("right_value", "number", "Or a number", required=False),
        ParamSpec("output", "string", "Result column"),
    ),
    _math,
)
