"""The functions of the formula language: a whitelist, each mapped to SQLGlot nodes.

Each entry knows how many arguments it takes, checks their types (so a mistake is reported at its
position, not as an engine error at run time) and builds an expression that gives the same result in
DuckDB and PostgreSQL; the one that cannot (``regex_extract``) says so, and recipes using it run in
DuckDB only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from sqlglot import exp

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.formula_sql import (
    DATE_UNITS,
    NUMERIC,
    TEMPORAL,
    cast,
    date_add,
    date_diff,
    date_part,
    describe_type,
    number,
    paren,
    parse_iso,
    regex_error,
    round_half_away,
    string,
    time_format_problem,
    to_number,
    to_text,
)
from modelworks.engine.recipes.types import MissingColumnError, RecipeSpecError

__all__ = ["FUNCTIONS", "Call", "FormulaColumnError", "FormulaError", "Function", "Typed", "unify"]


class FormulaError(RecipeSpecError):
    """A formula cannot be read; the message gives the position (1 = first character) and a hint."""

    code: ClassVar[str] = "recipe_formula_invalid"


class FormulaColumnError(FormulaError, MissingColumnError):
    """A formula names a column its input does not have."""

    code: ClassVar[str] = "recipe_missing_column"


@dataclass(frozen=True)
class Typed:
    """A piece of a parsed formula: its SQL, logical type and, for literals, the Python value."""

    expr: exp.Expression
    type: str
    literal: object = None
    is_literal: bool = False


@dataclass
class Call:
    """One function call being built: its arguments and a way to report a problem at its position."""

    name: str
    args: list[Typed]
    pos: int
    where: str
    non_portable: list[str] = field(default_factory=list)

    def fail(self, message: str) -> FormulaError:
        prefix = f"{self.where}: " if self.where else ""
        return FormulaError(f"{prefix}{self.name}() at position {self.pos}: {message}", position=self.pos)

    def number(self, index: int) -> Typed:
        arg = self.args[index]
        if arg.type in NUMERIC or arg.type in ("null", "any"):
            return arg
        hint = " (convert text with to_number())" if arg.type == "string" else ""
        raise self.fail(f"argument {index + 1} must be a number, not {describe_type(arg.type)}{hint}")

    def text(self, index: int) -> exp.Expression:
        arg = self.args[index]
        return to_text(arg.expr, arg.type)

    def boolean(self, index: int) -> exp.Expression:
        arg = self.args[index]
        if arg.type not in ("boolean", "null", "any"):
            raise self.fail(
                f"argument {index + 1} must be a condition (true/false), not {describe_type(arg.type)}"
            )
        return arg.expr

    def temporal(self, index: int) -> Typed:
        arg = self.args[index]
        if arg.type in TEMPORAL or arg.type in ("null", "any"):
            return arg
        if arg.is_literal and isinstance(arg.literal, str):
            for logical in ("date", "timestamp"):
                if parse_iso(arg.literal, logical) is not None:
                    return Typed(cast(arg.expr, logical), logical)
            raise self.fail(f"'{arg.literal}' is not a date; write it as 'YYYY-MM-DD'")
        hint = " (convert text with to_date())" if arg.type == "string" else ""
        raise self.fail(f"argument {index + 1} must be a date, not {describe_type(arg.type)}{hint}")

    def align_dates(self, indices: Sequence[int]) -> None:
        """Quoted ISO dates among ``indices`` become dates when another of them is a date."""
        temporal = [self.args[i].type for i in indices if self.args[i].type in TEMPORAL]
        if not temporal:
            return
        logical = "timestamp" if "timestamp" in temporal else "date"
        for i in indices:
            arg = self.args[i]
            if arg.is_literal and isinstance(arg.literal, str):
                if parse_iso(arg.literal, logical) is None:
                    raise self.fail(f"'{arg.literal}' is not a date; write it as 'YYYY-MM-DD'")
                self.args[i] = Typed(cast(arg.expr, logical), logical)

    def literal_text(self, index: int, what: str) -> str:
        arg = self.args[index]
        if not (arg.is_literal and isinstance(arg.literal, str)):
            raise self.fail(f"argument {index + 1} ({what}) must be a quoted text, e.g. 'day'")
        return arg.literal

    def literal_int(self, index: int, what: str, low: int, high: int) -> int:
        arg = self.args[index]
        value = arg.literal
        if arg.expr.key == "neg" and isinstance(arg.expr.this, exp.Literal):
            value = -int(arg.expr.this.this) if arg.expr.this.is_int else None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(f"argument {index + 1} ({what}) must be a whole number from {low} to {high}")
        return value

    def pattern(self, index: int) -> str:
        pattern = self.literal_text(index, "the regular expression")
        problem = regex_error(pattern)
        if problem:
            raise self.fail(f"{pattern!r} is not a valid regular expression ({problem})")
        return pattern


def unify(types: Sequence[str], fail: Callable[[str], RecipeSpecError], what: str) -> str:
    """The common type of several results (``if``, ``coalesce``, ``min``…) or an error saying why not."""
    known = [t for t in types if t not in ("null", "any")]
    if any(t == "any" for t in types) or not known:
        return "any" if "any" in types else "null"
    if all(t in NUMERIC for t in known):
        for t in ("float", "decimal", "integer"):
            if t in known:
                return t
    if all(t in TEMPORAL for t in known):
        return "timestamp" if "timestamp" in known else "date"
    if len(set(known)) == 1:
        return known[0]
    kinds = " and ".join(sorted({describe_type(t) for t in known}))
    raise fail(f"{what} mix {kinds}; convert them first (to_string(), to_number(), to_date())")


@dataclass(frozen=True)
class Function:
    """One function of the language."""

    signature: str
    help: str
    min_args: int
    max_args: int | None
    build: Callable[[Call], Typed]


def _math(node: type[exp.Expression], result: str | None = None) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        arg = call.number(0)
        out = result or (arg.type if arg.type in NUMERIC else "float")
        value = node(this=arg.expr)
        return Typed(cast(value, "integer") if result == "integer" else value, out)

    return build


def _positive_only(node: Callable[[exp.Expression], exp.Expression]) -> Callable[[Call], Typed]:
    """ln/log10/sqrt: NULL outside their domain in both engines (PostgreSQL would fail the query)."""

    def build(call: Call) -> Typed:
        value = cast(call.number(0).expr, "float")
        lowest = exp.GTE if call.name == "sqrt" else exp.GT
        test = lowest(this=value, expression=number(0))
        return Typed(exp.Case(ifs=[exp.If(this=test, true=node(value.copy()))]), "float")

    return build


def _round(call: Call) -> Typed:
    arg = call.number(0)
    digits = call.literal_int(1, "the number of decimals", -10, 10) if len(call.args) > 1 else 0
    return Typed(round_half_away(arg.expr, arg.type, digits), arg.type if arg.type in NUMERIC else "float")


def _floor_ceil(node: type[exp.Expression]) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        arg = call.number(0)
        return Typed(cast(node(this=arg.expr), "integer"), "integer")

    return build


def _pow(call: Call) -> Typed:
    base, power = call.number(0), call.number(1)
    return Typed(exp.Pow(this=cast(base.expr, "float"), expression=cast(power.expr, "float")), "float")


def _extreme(node: type[exp.Expression]) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        call.align_dates(range(len(call.args)))
        result = unify([a.type for a in call.args], call.fail, "the values")
        first, *rest = [a.expr for a in call.args]
        return Typed(node(this=first, expressions=rest, ignore_nulls=True), result)

    return build


def _string_fn(
    node: Callable[[exp.Expression], exp.Expression], result: str = "string"
) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        return Typed(node(call.text(0)), result)

    return build


def _substring(call: Call) -> Typed:
    start = call.number(1)
    args = {"this": call.text(0), "start": start.expr}
    if len(call.args) > 2:
        args["length"] = call.number(2).expr
    return Typed(exp.Substring(**args), "string")


def _left_right(node: type[exp.Expression]) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        return Typed(node(this=call.text(0), expression=call.number(1).expr), "string")

    return build


def _replace(call: Call) -> Typed:
    return Typed(exp.Replace(this=call.text(0), expression=call.text(1), replacement=call.text(2)), "string")


def _contains(call: Call) -> Typed:
    found = exp.StrPosition(this=call.text(0), substr=call.text(1))
    return Typed(exp.GT(this=found, expression=number(0)), "boolean")


def _starts(call: Call) -> Typed:
    return Typed(exp.StartsWith(this=call.text(0), expression=call.text(1)), "boolean")


def _ends(call: Call) -> Typed:
    suffix = call.text(1)
    tail = exp.Right(this=call.text(0), expression=exp.Length(this=suffix))
    return Typed(exp.EQ(this=tail, expression=suffix.copy()), "boolean")


def _regex_match(call: Call) -> Typed:
    pattern = call.pattern(1)
    return Typed(exp.RegexpLike(this=call.text(0), expression=string(pattern)), "boolean")


def _regex_extract(call: Call) -> Typed:
    pattern = call.pattern(1)
    group = call.literal_int(2, "the group number", 0, 99) if len(call.args) > 2 else 0
    call.non_portable.append("regex_extract() runs in DuckDB only")
    node = exp.RegexpExtract(this=call.text(0), expression=string(pattern), group=number(group))
    # DuckDB returns '' when nothing matches; a missing value says it better.
    return Typed(exp.Nullif(this=node, expression=string("")), "string")


def _regex_replace(call: Call) -> Typed:
    pattern = call.pattern(1)
    node = exp.RegexpReplace(this=call.text(0), expression=string(pattern), replacement=call.text(2))
    return Typed(node, "string")


def _to_number(call: Call) -> Typed:
    arg = call.args[0]
    return Typed(to_number(arg.expr, arg.type), "float")


def _to_string(call: Call) -> Typed:
    return Typed(call.text(0), "string")


def _to_temporal(logical: str) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        arg = call.args[0]
        if arg.type in TEMPORAL:
            return Typed(cast(arg.expr, logical), logical)
        if len(call.args) == 1:
            return Typed(cast(exp.Trim(this=call.text(0)), logical), logical)
        fmt = call.literal_text(1, "the format")
        problem, portable = time_format_problem(fmt)
        if problem:
            raise call.fail(f"{problem} in format {fmt!r} (use codes like '%d/%m/%Y %H:%M')")
        if not portable:
            call.non_portable.append(f"the date format {fmt!r} is read differently by PostgreSQL")
        parsed = exp.StrToTime(this=call.text(0), format=string(fmt))
        return Typed(cast(parsed, logical), logical)

    return build


def _part(part: str) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        arg = call.temporal(0)
        return Typed(date_part(part, arg.expr, arg.type), "integer")

    return build


def _unit(call: Call, index: int) -> str:
    unit = call.literal_text(index, "the unit").strip().lower().removesuffix("s")
    if unit not in DATE_UNITS:
        choices = ", ".join(repr(u) for u in DATE_UNITS)
        raise call.fail(f"unknown unit {unit!r}{did_you_mean(unit, DATE_UNITS)} (choose from {choices})")
    return unit


def _date_diff(call: Call) -> Typed:
    unit = _unit(call, 0)
    start, end = call.temporal(1), call.temporal(2)
    node = date_diff(unit, start.expr, start.type, end.expr, end.type)
    return Typed(node, "integer" if DATE_UNITS[unit] is None else "float")


def _date_add(call: Call) -> Typed:
    value, amount, unit = call.temporal(0), call.number(1), _unit(call, 2)
    node, logical = date_add(value.expr, value.type, amount.expr, unit)
    return Typed(node, logical)


def _now(call: Call) -> Typed:
    return Typed(cast(exp.CurrentTimestamp(), "timestamp"), "timestamp")


def _today(call: Call) -> Typed:
    return Typed(exp.CurrentDate(), "date")


def _is_null(call: Call) -> Typed:
    return Typed(exp.Is(this=paren(call.args[0].expr), expression=exp.Null()), "boolean")


def _is_not_null(call: Call) -> Typed:
    return Typed(exp.Not(this=_is_null(call).expr), "boolean")


def _coalesce(call: Call) -> Typed:
    call.align_dates(range(len(call.args)))
    result = unify([a.type for a in call.args], call.fail, "the values")
    first, *rest = [a.expr for a in call.args]
    return Typed(exp.Coalesce(this=first, expressions=rest), result)


def _if(call: Call) -> Typed:
    condition = call.boolean(0)
    call.align_dates(range(1, len(call.args)))
    results = call.args[1:]
    logical = unify([a.type for a in results], call.fail, "the two results")
    false = results[1].expr if len(results) > 1 else exp.Null()
    return Typed(exp.Case(ifs=[exp.If(this=condition, true=results[0].expr)], default=false), logical)


def _case(call: Call) -> Typed:
    pairs = len(call.args) // 2
    ifs = [exp.If(this=call.boolean(2 * i), true=call.args[2 * i + 1].expr) for i in range(pairs)]
    results = [call.args[2 * i + 1] for i in range(pairs)]
    default = call.args[-1] if len(call.args) % 2 else None
    logical = unify([a.type for a in [*results, *([default] if default else [])]], call.fail, "the results")
    return Typed(exp.Case(ifs=ifs, default=default.expr if default else None), logical)


def _in(call: Call) -> Typed:
    call.align_dates(range(len(call.args)))
    value, *options = call.args
    unify([a.type for a in call.args], call.fail, "the value and the list")
    return Typed(exp.In(this=paren(value.expr), expressions=[o.expr for o in options]), "boolean")


def _concat(call: Call) -> Typed:
    parts = [call.text(i) for i in range(len(call.args))]
    return Typed(exp.Concat(expressions=parts, coalesce=True), "string")


def _trim(position: str | None) -> Callable[[Call], Typed]:
    def build(call: Call) -> Typed:
        node = exp.Trim(this=call.text(0))
        if position:
            node.set("position", position)
        return Typed(node, "string")

    return build


def _length(call: Call) -> Typed:
    return Typed(exp.Length(this=call.text(0)), "integer")


_LEN = Function("length(text)", "number of characters", 1, 1, _length)
_MIN = Function("min(a, b, …)", "the smallest value, ignoring missing ones", 2, None, _extreme(exp.Least))
_MAX = Function("max(a, b, …)", "the largest value, ignoring missing ones", 2, None, _extreme(exp.Greatest))
_POW = Function("pow(x, y)", "x to the power y", 2, 2, _pow)

#: Every function of the language, by lower-case name.
FUNCTIONS: dict[str, Function] = {
    "abs": Function("abs(x)", "absolute value", 1, 1, _math(exp.Abs)),
    "round": Function("round(x, decimals)", "round half away from zero", 1, 2, _round),
    "floor": Function("floor(x)", "largest whole number ≤ x", 1, 1, _floor_ceil(exp.Floor)),
    "ceil": Function("ceil(x)", "smallest whole number ≥ x", 1, 1, _floor_ceil(exp.Ceil)),
    "sign": Function("sign(x)", "-1, 0 or 1", 1, 1, _math(exp.Sign, "integer")),
    "sqrt": Function(
        "sqrt(x)", "square root (missing for negatives)", 1, 1, _positive_only(lambda v: exp.Sqrt(this=v))
    ),
    "ln": Function(
        "ln(x)", "natural logarithm (missing for x ≤ 0)", 1, 1, _positive_only(lambda v: exp.Ln(this=v))
    ),
    "log10": Function(
        "log10(x)",
        "base-10 logarithm (missing for x ≤ 0)",
        1,
        1,
        _positive_only(lambda v: exp.Log(this=v)),
    ),
    "exp": Function("exp(x)", "e to the power x", 1, 1, _math(exp.Exp, "float")),
    "pow": _POW,
    "power": _POW,
    "min": _MIN,
    "least": _MIN,
    "max": _MAX,
    "greatest": _MAX,
    "len": _LEN,
    "length": _LEN,
    "lower": Function("lower(text)", "lower case", 1, 1, _string_fn(lambda v: exp.Lower(this=v))),
    "upper": Function("upper(text)", "upper case", 1, 1, _string_fn(lambda v: exp.Upper(this=v))),
    "trim": Function("trim(text)", "remove leading and trailing spaces", 1, 1, _trim(None)),
    "ltrim": Function("ltrim(text)", "remove leading spaces", 1, 1, _trim("LEADING")),
    "rtrim": Function("rtrim(text)", "remove trailing spaces", 1, 1, _trim("TRAILING")),
    "substring": Function("substring(text, start, length)", "part of a text (start at 1)", 2, 3, _substring),
    "left": Function("left(text, n)", "the first n characters", 2, 2, _left_right(exp.Left)),
    "right": Function("right(text, n)", "the last n characters", 2, 2, _left_right(exp.Right)),
    "replace": Function("replace(text, find, by)", "replace every occurrence", 3, 3, _replace),
    "contains": Function("contains(text, part)", "true when text contains part", 2, 2, _contains),
    "startswith": Function("startswith(text, prefix)", "true when text starts with prefix", 2, 2, _starts),
    "endswith": Function("endswith(text, suffix)", "true when text ends with suffix", 2, 2, _ends),
    "regex_match": Function(
        "regex_match(text, 'pattern')", "true when the pattern matches", 2, 2, _regex_match
    ),
    "regex_extract": Function(
        "regex_extract(text, 'pattern', group)", "the matching part (DuckDB only)", 2, 3, _regex_extract
    ),
    "regex_replace": Function(
        "regex_replace(text, 'pattern', by)", "replace every match (\\1 = group 1)", 3, 3, _regex_replace
    ),
    "concat": Function("concat(a, b, …)", "join texts (missing values count as empty)", 1, None, _concat),
    "to_number": Function("to_number(x)", "text to number (missing when it is not one)", 1, 1, _to_number),
    "to_string": Function("to_string(x)", "any value as text", 1, 1, _to_string),
    "to_date": Function(
        "to_date(text, 'format')",
        "text to date ('YYYY-MM-DD', or a format like '%d/%m/%Y')",
        1,
        2,
        _to_temporal("date"),
    ),
    "to_timestamp": Function(
        "to_timestamp(text, 'format')", "text to date and time", 1, 2, _to_temporal("timestamp")
    ),
    "year": Function("year(date)", "the year", 1, 1, _part("year")),
    "quarter": Function("quarter(date)", "the quarter (1-4)", 1, 1, _part("quarter")),
    "month": Function("month(date)", "the month (1-12)", 1, 1, _part("month")),
    "day": Function("day(date)", "the day of the month", 1, 1, _part("day")),
    "weekday": Function("weekday(date)", "the day of the week (Monday 1 … Sunday 7)", 1, 1, _part("weekday")),
    "hour": Function("hour(timestamp)", "the hour (0-23)", 1, 1, _part("hour")),
    "minute": Function("minute(timestamp)", "the minute (0-59)", 1, 1, _part("minute")),
    "date_diff": Function(
        "date_diff('unit', start, end)",
        "end - start in second/minute/hour/day/week (fractional) or month/year (calendar)",
        3,
        3,
        _date_diff,
    ),
    "date_add": Function("date_add(date, n, 'unit')", "date plus n units", 3, 3, _date_add),
    "now": Function("now()", "the current date and time (UTC)", 0, 0, _now),
    "today": Function("today()", "the current date", 0, 0, _today),
    "is_null": Function("is_null(x)", "true when x is missing", 1, 1, _is_null),
    "is_not_null": Function("is_not_null(x)", "true when x is present", 1, 1, _is_not_null),
    "coalesce": Function("coalesce(a, b, …)", "the first value that is not missing", 1, None, _coalesce),
    "if": Function("if(condition, then, else)", "then when condition is true, else otherwise", 2, 3, _if),
    "case": Function(
        "case(cond1, value1, cond2, value2, …, else)", "the value of the first true condition", 2, None, _case
    ),
    "in": Function("in(x, a, b, …)", "true when x equals one of the values", 2, None, _in),
}
