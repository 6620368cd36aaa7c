"""Processors for dates: parse text into dates, extract parts, differences, truncation, shifting."""

from __future__ import annotations

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import (
    DATE_PARTS,
    DATE_UNITS,
    TEMPORAL,
    as_timestamp,
    cast,
    date_add,
    date_diff,
    date_part,
    number,
    string,
    time_format_problem,
    to_text,
)
from modelworks.engine.recipes.prepare.base import PrepareState, ProcessorInfo, Step, origins_of
from modelworks.engine.recipes.types import ParamSpec

__all__ = ["DATE_DIFF", "DATE_PARTS_PROCESSOR", "PARSE_DATE", "SHIFT_DATE", "TRUNCATE_DATE"]

CATEGORY = "Dates"
TRUNCATE_UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute")


def _parse(state: PrepareState, step: Step) -> None:
    col = step.column()
    step.require_type(col, ("string",), "text")
    target, fmt, lenient = step.text("to"), step.text("format"), step.text("on_failure") == "null"
    text = exp.Trim(this=to_text(col.expr, col.type))
    if fmt:
        problem, portable = time_format_problem(fmt)
        if problem:
            raise step.fail(f"{problem} in format {fmt!r}; use codes like %d/%m/%Y %H:%M:%S")
        if not portable:
            state.non_portable_because(f"{step.where}: PostgreSQL reads the format {fmt!r} differently")
        parsed: exp.Expression = cast(exp.StrToTime(this=text, format=string(fmt), safe=lenient), target)
    elif lenient:
        parsed = exp.TryCast(this=text, to=exp.DataType.build(target.upper()))
    else:
        parsed = cast(text, target)
    if lenient:
        state.non_portable_because(
            f"{step.where}: leaving unreadable dates empty (TRY_STRPTIME / TRY_CAST) runs in DuckDB only"
        )
    output = step.output(col.name)
    created = state.find(output) is None
    state.set(output, parsed, target, origins_of([col]), after=col.name)
    if created:
        state.last_change = step.number


def _parts(state: PrepareState, step: Step) -> None:
    col = step.column()
    step.require_type(col, TEMPORAL, "dates")
    prefix = step.text("prefix") or f"{col.name}_"
    after = col.name
    for part in step.get("parts"):
        name = step.fresh(f"{prefix}{part}", "prefix")
        state.set(name, date_part(part, col.expr.copy(), col.type), "integer", origins_of([col]), after=after)
        after = name
    state.last_change = step.number


def _diff(state: PrepareState, step: Step) -> None:
    start_name, end_name, unit = step.text("start"), step.get("end"), step.text("unit")
    cols = state.use([start_name, *([end_name] if end_name else [])])
    start = cols[start_name]
    step.require_type(start, TEMPORAL, "dates")
    if end_name:
        end = cols[end_name]
        step.require_type(end, TEMPORAL, "dates")
        end_expr, end_type, used = end.expr, end.type, [start, end]
    else:
        end_expr, end_type, used = cast(exp.CurrentTimestamp(), "timestamp"), "timestamp", [start]
        state.notes.append(f"{step.where}: measured up to the time the recipe runs, so each build differs")
    expr = date_diff(unit, start.expr, start.type, end_expr, end_type)
    output = step.new_name(step.text("output"), "output")
    created = state.find(output) is None
    state.set(output, expr, "integer" if DATE_UNITS[unit] is None else "float", origins_of(used))
    if created:
        state.last_change = step.number


def _truncate(state: PrepareState, step: Step) -> None:
    unit = step.text("unit")
    cols = state.use(step.column_names())
    for name, col in cols.items():
        step.require_type(col, TEMPORAL, "dates")
        truncated: exp.Expression = exp.TimestampTrunc(
            this=as_timestamp(col.expr, col.type), unit=exp.var(unit.upper())
        )
        if col.type == "date":
            truncated = cast(truncated, "date")
        state.set(name, truncated, col.type, origins_of([col]))


def _shift(state: PrepareState, step: Step) -> None:
    col = step.column()
    step.require_type(col, TEMPORAL, "dates")
    expr, logical = date_add(col.expr, col.type, number(step.get("amount")), step.text("unit"))
    output = step.output(col.name)
    created = state.find(output) is None
    state.set(output, expr, logical, origins_of([col]), after=col.name)
    if created:
        state.last_change = step.number


_OUTPUT = ParamSpec(
    "output", "string", "New column", required=False, help="Empty: change the column in place"
)
_UNITS = tuple(DATE_UNITS)

PARSE_DATE = ProcessorInfo(
    "parse_date",
    "Parse dates",
    CATEGORY,
    "Read text as dates or timestamps, in ISO form (2024-03-15) or with a format such as "
    "%d/%m/%Y %H:%M (codes: %Y %y %m %d %H %M %S %f %j %b %B).",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("format", "string", "Format", required=False, help="Empty: ISO dates (YYYY-MM-DD)"),
        ParamSpec("to", "choice", "Into", default="date", choices=("date", "timestamp")),
        ParamSpec(
            "on_failure",
            "choice",
            "When a text is not a date",
            default="error",
            choices=("error", "null"),
            help="null runs in DuckDB only",
        ),
        _OUTPUT,
    ),
    _parse,
)
DATE_PARTS_PROCESSOR = ProcessorInfo(
    "date_parts",
    "Extract date parts",
    CATEGORY,
    "Add columns with the year, quarter, month, week, day, weekday (Monday = 1), hour… of a date.",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("parts", "strings", "Parts", default=["year", "month", "day"], choices=tuple(DATE_PARTS)),
        ParamSpec(
            "prefix", "string", "Prefix of new columns", required=False, help="Default: the column name and _"
        ),
    ),
    _parts,
)
DATE_DIFF = ProcessorInfo(
    "date_diff",
    "Date difference",
    CATEGORY,
    "Time from a start date to an end date (or to now): seconds … weeks as decimals, months and "
    "years as whole calendar months/years.",
    (
        ParamSpec("start", "column", "Start"),
        ParamSpec("end", "column", "End", required=False, help="Empty: now"),
        ParamSpec("unit", "choice", "Unit", default="day", choices=_UNITS),
        ParamSpec("output", "string", "New column"),
    ),
    _diff,
)
TRUNCATE_DATE = ProcessorInfo(
    "truncate_date",
    "Truncate dates",
    CATEGORY,
    "Round dates down to the start of their year, quarter, month, week (Monday), day or hour.",
    (
        ParamSpec("columns", "columns", "Columns"),
        ParamSpec("unit", "choice", "To the start of the", default="month", choices=TRUNCATE_UNITS),
    ),
    _truncate,
)
SHIFT_DATE = ProcessorInfo(
    "shift_date",
    "Shift dates",
    CATEGORY,
    "Add (or, with a negative amount, subtract) a number of days, weeks, months… to dates.",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("amount", "integer", "Amount"),
        ParamSpec("unit", "choice", "Unit", default="day", choices=_UNITS),
        _OUTPUT,
    ),
    _shift,
)
