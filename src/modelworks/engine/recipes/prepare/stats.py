"""Whole-column statistics (mean, quartiles, mode…) as scalar sub-queries over the current rows.

A step that needs a statistic first snapshots the state into a CTE, then reads the statistic with
``(SELECT AVG(x) FROM _mw_prep_2)``: both engines evaluate such a sub-query once, the statistic sees
exactly the rows of the previous steps, and later filters do not change it. (Window aggregates would
work for the mean, but PostgreSQL has no windowed median or mode.)
"""

from __future__ import annotations

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import cast, column_ref, number
from modelworks.engine.recipes.prepare.base import PrepareState

__all__ = ["snapshot", "statistic"]

STATISTICS = ("mean", "stddev", "min", "max", "median", "q1", "q3", "mode")


def snapshot(state: PrepareState) -> str:
    """The name of a CTE holding exactly the state's current rows and columns (wrapping if needed)."""
    plain = all(
        isinstance(c.expr, exp.Column) and c.expr.name == c.name and not c.windowed for c in state.columns
    )
    if state.ctes and not state.where and plain and state.source.name == state.ctes[-1][0]:
        return state.ctes[-1][0]
    return state.wrap()


def statistic(table: str, column: str, kind: str) -> exp.Expression:
    """``(SELECT <kind>(column) FROM table)``; numeric statistics are computed on doubles."""
    value = column_ref(column)
    select: exp.Select
    if kind == "mode":
        select = (
            exp.select(value)
            .from_(table)
            .where(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())))
            .group_by(value.copy())
            .order_by(exp.Ordered(this=exp.Count(this=exp.Star()), desc=True), exp.Ordered(this=value.copy()))
            .limit(1)
        )
        return exp.Subquery(this=select)
    as_double = cast(value, "float")
    aggregate: exp.Expression
    if kind == "mean":
        aggregate = exp.Avg(this=as_double)
    elif kind == "stddev":
        aggregate = exp.StddevSamp(this=as_double)
    elif kind == "min":
        aggregate = exp.Min(this=as_double)
    elif kind == "max":
        aggregate = exp.Max(this=as_double)
    else:
        fraction = {"median": 0.5, "q1": 0.25, "q3": 0.75}[kind]
        aggregate = exp.WithinGroup(
            this=exp.PercentileCont(this=number(fraction)),
            expression=exp.Order(expressions=[exp.Ordered(this=as_double)]),
        )
    return exp.Subquery(this=exp.select(aggregate).from_(table))
