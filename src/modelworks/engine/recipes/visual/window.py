"""Window: add columns computed over neighbouring rows (ranks, previous values, running totals…).

Spec::

    {
      "partition_by": ["carrier"],                 # optional: restart the computation per group
      "order_by": [{"column": "date", "direction": "asc", "nulls": "last"}],
      "frame": null,                               # default frame of the aggregate functions
      "functions": [
        {"function": "row_number", "name": "rn"},
        {"function": "ntile", "n": 4},
        {"function": "lag", "column": "delay", "offset": 1, "default": 0},
        {"function": "sum", "column": "delay"},                   # running sum: "delay_sum"
        {"function": "moving_avg", "column": "delay", "n": 7},    # "delay_moving_avg_7"
        {"function": "max", "column": "delay",
         "frame": {"unit": "rows", "start": "3 preceding", "end": "3 following"}}
      ]
    }

Functions: row_number, rank, dense_rank, percent_rank, cume_dist, ntile (``n`` buckets),
lag/lead (``offset``, optional ``default`` when there is no such row), first_value/last_value,
and the aggregates sum, avg, min, max, count, plus moving_avg (average of the last ``n`` rows).
Frames: ``unit`` rows or range; ``start``/``end`` "unbounded preceding", "<n> preceding",
"current row", "<n> following", "unbounded following". Without a frame, aggregates are running
totals when there is an order (from the partition's first row to the current row) and whole-
partition values otherwise; first_value/last_value always look at the whole partition. A range
frame with ``n`` rows needs exactly one number column to order by. The output keeps every input
column and adds one column per function.
"""

from __future__ import annotations

import re
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
from modelworks.engine.recipes.visual.conditions import literal_for
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["WINDOW_FUNCTIONS", "compile_window", "normalize_window"]

#: Function → what it adds (shown in the recipe form).
WINDOW_FUNCTIONS: Mapping[str, str] = {
    "row_number": "1, 2, 3… in order",
    "rank": "rank with gaps after ties (1, 1, 3)",
    "dense_rank": "rank without gaps (1, 1, 2)",
    "percent_rank": "relative rank from 0 to 1",
    "cume_dist": "share of rows up to this one",
    "ntile": "bucket number 1…n",
    "lag": "value of a previous row",
    "lead": "value of a following row",
    "first_value": "value of the first row",
    "last_value": "value of the last row",
    "sum": "sum (running when ordered)",
    "avg": "average (running when ordered)",
    "min": "minimum (running when ordered)",
    "max": "maximum (running when ordered)",
    "count": "count (running when ordered)",
    "moving_avg": "average of the last n rows",
}
_RANKING = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile"}
_NEEDS_ORDER = {"rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "moving_avg"}
_AGGREGATES = {"sum", "avg", "min", "max", "count", "moving_avg"}
_BOUND = re.compile(
    r"^\s*(unbounded\s+preceding|unbounded\s+following|current\s+row|(\d+)\s+(preceding|following))\s*$", re.I
)


@dataclass(frozen=True)
class Frame:
    unit: str = "rows"
    start: str = "unbounded preceding"
    end: str = "current row"


@dataclass(frozen=True)
class WindowFunction:
    function: str
    column: str | None = None
    name: str | None = None
    n: int | None = None
    offset: int = 1
    default: Any = None
    frame: Frame | None = None


@dataclass(frozen=True)
class WindowSpec:
    functions: tuple[WindowFunction, ...]
    partition_by: tuple[str, ...] = ()
    order_by: tuple[OrderKey, ...] = ()
    frame: Frame | None = None


def _bound(reader: SpecReader, key: str, default: str) -> str:
    value = reader.data.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool):
        value = "current row" if value == 0 else f"{abs(value)} {'preceding' if value < 0 else 'following'}"
    match = _BOUND.match(str(value))
    if not match:
        raise reader.error(
            key,
            f"is {value!r}; write 'unbounded preceding', '<n> preceding', 'current row', '<n> following' "
            "or 'unbounded following'",
        )
    return " ".join(match.group(1).lower().split())


def _read_frame(reader: SpecReader, key: str) -> Frame | None:
    if reader.data.get(key) is None:
        return None
    child = reader.child(key, f"{reader.where} frame".strip())
    child.allow("unit", "start", "end")
    frame = Frame(
        unit=child.string("unit", "rows", choices=("rows", "range")),
        start=_bound(child, "start", "unbounded preceding"),
        end=_bound(child, "end", "current row"),
    )
    order = ["unbounded preceding", "preceding", "current row", "following", "unbounded following"]

    def rank(bound: str) -> tuple[int, int]:
        if bound in order:
            return order.index(bound), 0
        n, side = bound.split()
        return order.index(side), (-int(n) if side == "preceding" else int(n))

    if (
        rank(frame.start) > rank(frame.end)
        or frame.start == "unbounded following"
        or frame.end == "unbounded preceding"
    ):
        raise child.error("start", f"({frame.start}) must come before the end ({frame.end})")
    return frame


def read_window_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> WindowSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("partition_by", "order_by", "frame", "functions")
    functions = []
    for item in reader.objects("functions", "function"):
        item.allow("function", "column", "name", "n", "offset", "default", "frame")
        function = item.string("function", choices=tuple(WINDOW_FUNCTIONS))
        column = item.string("column", None)
        if function not in _RANKING and column is None and function != "count":
            raise item.error("column", f"is required for {function!r}")
        n = item.integer("n", None, minimum=1)
        if function in ("ntile", "moving_avg") and n is None:
            raise item.error("n", f"is required for {function!r}: a whole number of at least 1")
        frame = _read_frame(item, "frame")
        if frame is not None and function not in _AGGREGATES | {"first_value", "last_value"}:
            raise item.error("frame", f"does not apply to {function!r}; remove it")
        functions.append(
            WindowFunction(
                function=function,
                column=column,
                name=item.string("name", None),
                n=n,
                offset=item.integer("offset", 1, minimum=1),
                default=item.data.get("default"),
                frame=frame,
            )
        )
    order_by = read_order_keys(reader, "order_by", required=False)
    for i, fn in enumerate(functions, 1):
        if fn.function in _NEEDS_ORDER and not order_by:
            raise RecipeSpecError(
                f"recipe {recipe!r} function {i}: {fn.function!r} needs an order; set 'order_by' "
                "(e.g. the date column)",
                setting="order_by",
                recipe=recipe,
            )
    return WindowSpec(
        tuple(functions), reader.strings("partition_by", ()), order_by, _read_frame(reader, "frame")
    )


def normalize_window(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_window_spec(spec, recipe=recipe))
    return result


def _default_name(fn: WindowFunction) -> str:
    if fn.function in ("lag", "lead"):
        return f"{fn.column}_{fn.function}_{fn.offset}"
    if fn.function == "ntile":
        return f"ntile_{fn.n}"
    if fn.function == "moving_avg":
        return f"{fn.column}_moving_avg_{fn.n}"
    if fn.column is None:
        return fn.function
    return f"{fn.column}_{fn.function}"


def _frame_spec(frame: Frame) -> exp.WindowSpec:
    def side(bound: str) -> tuple[Any, str | None]:
        if bound == "current row":
            return "CURRENT ROW", None
        amount, direction = bound.split()
        value: Any = "UNBOUNDED" if amount == "unbounded" else exp.Literal.number(int(amount))
        return value, direction.upper()

    start, start_side = side(frame.start)
    end, end_side = side(frame.end)
    return exp.WindowSpec(
        kind=frame.unit.upper(), start=start, start_side=start_side, end=end, end_side=end_side
    )


class _Builder:
    def __init__(self, spec: WindowSpec, relation: Relation, *, recipe: str) -> None:
        self.spec, self.relation, self.recipe = spec, relation, recipe
        for name in spec.partition_by:
            relation.column(name, recipe=recipe, where="partition_by")
        self.order = ordered(spec.order_by, relation, recipe=recipe, where="order_by")

    def over(self, function: exp.Expr, frame: Frame | None = None, *, order: bool = True) -> exp.Window:
        window = exp.Window(
            this=function,
            partition_by=[col(c) for c in self.spec.partition_by] or None,
            order=exp.Order(expressions=[o.copy() for o in self.order]) if order and self.order else None,
        )
        if frame is not None:
            window.set("spec", _frame_spec(frame))
        return window

    def check_frame(self, frame: Frame, where: str) -> None:
        if frame.unit == "range" and any(b[0].isdigit() for b in (frame.start, frame.end)):
            keys = self.spec.order_by
            types = [self.relation.column(k.column, recipe=self.recipe, where=where).type for k in keys]
            if len(keys) != 1 or types[0] not in NUMERIC_TYPES:
                raise RecipeSpecError(
                    f"recipe {self.recipe!r} {where}: a range frame counted in values needs exactly one number "
                    "column in 'order_by'; use a rows frame instead",
                    recipe=self.recipe,
                )

    def build(self, fn: WindowFunction, where: str) -> tuple[exp.Expr, Column | None, str]:
        """The expression, the input column read and the result's logical type."""
        column = self.relation.column(fn.column, recipe=self.recipe, where=where) if fn.column else None
        x = col(fn.column) if fn.column else None
        f = fn.function
        if f in _RANKING:
            ranking: dict[str, exp.Expr] = {
                "row_number": exp.RowNumber(),
                "rank": exp.Rank(),
                "dense_rank": exp.DenseRank(),
                "percent_rank": exp.PercentRank(),
                "cume_dist": exp.CumeDist(),
                "ntile": exp.Ntile(this=exp.Literal.number(fn.n or 1)),
            }
            kind = "float" if f in ("percent_rank", "cume_dist") else "integer"
            return self.over(ranking[f]), column, kind
        assert (column is not None and x is not None) or f == "count"
        if f in ("lag", "lead"):
            assert column is not None and x is not None
            cls = exp.Lag if f == "lag" else exp.Lead
            shifted: exp.Expr = self.over(cls(this=x, offset=exp.Literal.number(fn.offset)))
            if fn.default is not None:
                # Only rows without a previous/next row get the default (a null value stays null),
                # and CASE lets both engines unify the default's type with the column's.
                default = literal_for(fn.default, column, recipe=self.recipe, where=f"{where} default")
                position = self.over(exp.RowNumber())
                exists: exp.Expr
                if f == "lag":
                    exists = exp.GT(this=position, expression=exp.Literal.number(fn.offset))
                else:
                    total = self.over(exp.Count(this=exp.Star()), order=False)
                    exists = exp.LTE(
                        this=exp.Add(this=position, expression=exp.Literal.number(fn.offset)),
                        expression=total,
                    )
                shifted = exp.Case(ifs=[exp.If(this=exists, true=shifted)], default=default)
            return shifted, column, column.type
        if f in ("first_value", "last_value"):
            assert column is not None and x is not None
            frame = fn.frame or Frame("rows", "unbounded preceding", "unbounded following")
            self.check_frame(frame, where)
            cls_v = exp.FirstValue if f == "first_value" else exp.LastValue
            return self.over(cls_v(this=x), frame), column, column.type
        # aggregates
        if f in ("sum", "avg", "moving_avg") and column is not None and column.type not in NUMERIC_TYPES:
            raise RecipeSpecError(
                f"recipe {self.recipe!r} {where}: {f!r} needs a number column but {column.name!r} is {column.type}",
                column=column.name,
                recipe=self.recipe,
            )
        if f == "moving_avg":
            frame = Frame(
                "rows", f"{(fn.n or 1) - 1} preceding" if (fn.n or 1) > 1 else "current row", "current row"
            )
        elif fn.frame is not None:
            frame = fn.frame
        elif self.spec.frame is not None:
            frame = self.spec.frame
        elif self.order:
            frame = Frame("rows", "unbounded preceding", "current row")
        else:
            frame = Frame("rows", "unbounded preceding", "unbounded following")
        self.check_frame(frame, where)
        aggregate: exp.Expr
        if f == "sum":
            aggregate = exp.Sum(this=x)
        elif f in ("avg", "moving_avg"):
            aggregate = exp.Avg(this=x)
        elif f == "min":
            aggregate = exp.Min(this=x)
        elif f == "max":
            aggregate = exp.Max(this=x)
        else:
            aggregate = exp.Count(this=x if x is not None else exp.Star())
        kind = {"avg": "float", "moving_avg": "float", "count": "integer"}.get(f) or (
            column.type if column else "integer"
        )
        return self.over(aggregate, frame), column, kind


def compile_window(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a window recipe (see the module docstring for the spec)."""
    parsed = read_window_spec(spec, recipe=recipe)
    relation, output = inputs[0], outputs[0]
    builder = _Builder(parsed, relation, recipe=recipe)
    if parsed.frame is not None:
        builder.check_frame(parsed.frame, "frame")
    selects: list[exp.Expr] = [exp.alias_(col(c), c, quoted=True) for c in relation.column_names]
    lineage = [LineageEdge(output, c, relation.name, c) for c in relation.column_names]
    taken = {c.lower() for c in relation.column_names}
    for i, fn in enumerate(parsed.functions, 1):
        where = f"function {i}"
        expression, column, _ = builder.build(fn, where)
        name = fn.name or _default_name(fn)
        if name.lower() in taken:
            raise RecipeSpecError(
                f"recipe {recipe!r} {where}: output column {name!r} already exists; set another 'name'",
                setting="name",
                recipe=recipe,
            )
        taken.add(name.lower())
        selects.append(exp.alias_(expression, name, quoted=True))
        if column is not None:
            lineage.append(LineageEdge(output, name, relation.name, column.name, "transformation"))
    query = exp.select(*selects).from_(source_as(relation, "src"))
    return CompiledRecipe((CompiledOutput(output, query),), tuple(lineage))
