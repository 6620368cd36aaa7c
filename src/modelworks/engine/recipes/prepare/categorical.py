"""Processors for categories: group rare values into "Other", one-hot encode, map values."""

from __future__ import annotations

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import all_of, column_ref, number, paren, string, to_text
from modelworks.engine.recipes.prepare.base import PrepareState, ProcessorInfo, Step, origins_of
from modelworks.engine.recipes.types import ParamSpec

__all__ = ["GROUP_RARE", "MAP_VALUES", "ONE_HOT"]

CATEGORY = "Categories"
_MAX_ONE_HOT = 200


def _group_rare(state: PrepareState, step: Step) -> None:
    name, mode, threshold = step.text("column"), step.text("mode"), step.get("threshold")
    if threshold < 1:
        raise step.fail("the threshold must be at least 1")
    other = step.text("other")
    output = step.output(name)
    count_name, rank_name = f"__mw_count_{step.number}", f"__mw_rank_{step.number}"
    col = state.use([name])[name]
    # How often each value occurs, computed by the engine over all rows: no pass over the data first.
    count = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[col.expr.copy()])
    state.set(count_name, count, "integer", {})
    state.wrap()
    col = state.use([name])[name]
    if mode == "top_n":
        missing_last = exp.Case(
            ifs=[exp.If(this=exp.Is(this=paren(col.expr), expression=exp.Null()), true=number(1))],
            default=number(0),
        )
        rank = exp.Window(
            this=exp.DenseRank(),
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=missing_last),
                    exp.Ordered(this=column_ref(count_name), desc=True),
                    exp.Ordered(this=col.expr.copy()),
                ]
            ),
        )
        state.set(rank_name, rank, "integer", {})
        state.wrap()
        col = state.use([name])[name]
        rare: exp.Expression = exp.GT(this=column_ref(rank_name), expression=number(threshold))
        state.notes.append(
            f"{step.where}: values of {name!r} outside the {threshold} most frequent become {other!r}"
        )
    else:
        rare = exp.LT(this=column_ref(count_name), expression=number(threshold))
        state.notes.append(
            f"{step.where}: values of {name!r} seen fewer than {threshold} times become {other!r}"
        )
    is_missing = exp.Is(this=paren(col.expr), expression=exp.Null())
    grouped = exp.Case(
        ifs=[exp.If(this=is_missing, true=exp.Null()), exp.If(this=rare, true=string(other))],
        default=to_text(col.expr.copy(), col.type),
    )
    created = state.find(output) is None
    state.set(output, grouped, "string", origins_of([col]), after=name)
    state.drop([count_name, rank_name])
    if created:
        state.last_change = step.number


def _one_hot(state: PrepareState, step: Step) -> None:
    col = step.column()
    values: list[str] = list(dict.fromkeys(step.get("values")))
    if len(values) > _MAX_ONE_HOT:
        raise step.fail(f"one-hot encoding is limited to {_MAX_ONE_HOT} values; group rare values first")
    prefix = step.text("prefix") or f"{col.name}_"
    text, after = to_text(col.expr, col.type), col.name
    for value in values:
        name = step.fresh(f"{prefix}{value}", "prefix")
        hit = exp.Coalesce(
            this=exp.EQ(this=paren(text.copy()), expression=string(value)), expressions=[exp.false()]
        )
        flag = exp.Case(ifs=[exp.If(this=hit, true=number(1))], default=number(0))
        state.set(name, flag, "integer", origins_of([col]), after=after)
        after = name
    if step.get("other"):
        name = step.fresh(f"{prefix}other", "prefix")
        known = exp.In(this=paren(text.copy()), expressions=[string(v) for v in values])
        outside = all_of(
            (exp.Not(this=exp.Is(this=text.copy(), expression=exp.Null())), exp.Not(this=paren(known)))
        )
        state.set(
            name,
            exp.Case(ifs=[exp.If(this=outside, true=number(1))], default=number(0)),
            "integer",
            origins_of([col]),
            after=after,
        )
    if step.get("drop_original"):
        state.drop([col.name])
    state.last_change = step.number


def _map_values(state: PrepareState, step: Step) -> None:
    col = step.column()
    mapping: dict[str, str | None] = step.get("mapping")
    text = to_text(col.expr, col.type)
    ifs = [
        exp.If(
            this=exp.EQ(this=paren(text.copy()), expression=string(old)),
            true=exp.Null() if new is None else string(new),
        )
        for old, new in mapping.items()
    ]
    unmatched = step.text("unmatched")
    default: exp.Expression
    if unmatched == "keep":
        default = text.copy()
    elif unmatched == "null":
        default = exp.Null()
    else:
        default = string(step.text("default"))
    output = step.output(col.name)
    created = state.find(output) is None
    state.set(output, exp.Case(ifs=ifs, default=default), "string", origins_of([col]), after=col.name)
    if created:
        state.last_change = step.number


_OUTPUT = ParamSpec(
    "output", "string", "New column", required=False, help="Empty: change the column in place"
)

GROUP_RARE = ProcessorInfo(
    "group_rare",
    "Group rare values",
    CATEGORY,
    "Replace values seen fewer than N times, or outside the N most frequent, with 'Other'.",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec(
            "mode",
            "choice",
            "Keep",
            default="min_count",
            choices=("min_count", "top_n"),
            help="min_count: values seen at least N times; top_n: the N most frequent values",
        ),
        ParamSpec("threshold", "integer", "N", default=10),
        ParamSpec("other", "string", "Replacement", default="Other"),
        _OUTPUT,
    ),
    _group_rare,
)
ONE_HOT = ProcessorInfo(
    "one_hot",
    "One-hot encode",
    CATEGORY,
    "Add one 0/1 column per listed value (prefix + value), 1 where the column holds that value.",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("values", "strings", "Values", help="Filled from the sample by the editor"),
        ParamSpec("prefix", "string", "Prefix", required=False, help="Default: the column name and _"),
        ParamSpec("other", "boolean", "Add an 'other' column", required=False, default=False),
        ParamSpec("drop_original", "boolean", "Drop the original column", required=False, default=False),
    ),
    _one_hot,
)
MAP_VALUES = ProcessorInfo(
    "map_values",
    "Map values",
    CATEGORY,
    "Replace values by others from a table (e.g. NY → New York).",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("mapping", "mapping", "Value → replacement"),
        ParamSpec("unmatched", "choice", "Other values", default="keep", choices=("keep", "null", "default")),
        ParamSpec("default", "string", "Replacement for other values", required=False, default=""),
        _OUTPUT,
    ),
    _map_values,
)
