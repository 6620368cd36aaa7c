"""Processors for text columns: find and replace, case, spaces, padding, truncation, length,
masking, splitting, regular-expression extraction and JSON fields."""

from __future__ import annotations

import re

from sqlglot import exp

from modelworks.engine.recipes.formula_sql import cast, number, paren, regex_error, string, to_text
from modelworks.engine.recipes.prepare.base import Col, PrepareState, ProcessorInfo, Step, origins_of
from modelworks.engine.recipes.types import ParamSpec

__all__ = [
    "CHANGE_CASE",
    "EXTRACT_REGEX",
    "FIND_REPLACE",
    "JSON_FIELD",
    "MASK_TEXT",
    "PAD_TEXT",
    "SPLIT_COLUMN",
    "TEXT_LENGTH",
    "TRIM_SPACES",
    "TRUNCATE_TEXT",
]

CATEGORY = "Text"
_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")
_JSON_KEY = re.compile(r"[\w -]+")


def _escape(text: str) -> str:
    """``text`` as a regular expression matching itself (in RE2 and PostgreSQL alike)."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def _text_columns(state: PrepareState, step: Step) -> dict[str, Col]:
    cols = state.use(step.column_names())
    for col in cols.values():
        step.require_type(col, ("string",), "text")
    return cols


def _find_replace(state: PrepareState, step: Step) -> None:
    find, by = step.text("find"), step.text("replace")
    regex, whole = step.text("mode") == "regex", step.text("match") == "whole"
    sensitive = bool(step.get("case_sensitive"))
    if regex and (problem := regex_error(find)):
        raise step.fail(f"{find!r} is not a valid regular expression ({problem})")
    pattern = find if regex else _escape(find)
    for name, col in _text_columns(state, step).items():
        x = col.expr
        if whole:
            if regex:
                test: exp.Expression = exp.RegexpLike(this=x, expression=string(f"^(?:{pattern})$"))
                if not sensitive:
                    test = exp.RegexpILike(this=x.copy(), expression=string(f"^(?:{pattern})$"))
            elif sensitive:
                test = exp.EQ(this=paren(x), expression=string(find))
            else:
                test = exp.EQ(this=exp.Lower(this=x), expression=exp.Lower(this=string(find)))
            expr: exp.Expression = exp.Case(ifs=[exp.If(this=test, true=string(by))], default=x.copy())
        elif sensitive and not regex:
            expr = exp.Replace(this=x, expression=string(find), replacement=string(by))
        else:
            replacement = by if regex else by.replace("\\", "\\\\")
            expr = exp.RegexpReplace(this=x, expression=string(pattern), replacement=string(replacement))
            if not sensitive:
                expr.set("modifiers", string("i"))
        state.set(name, expr, "string", origins_of([col]))


def _change_case(state: PrepareState, step: Step) -> None:
    nodes: dict[str, type[exp.Expression]] = {"lower": exp.Lower, "upper": exp.Upper, "title": exp.Initcap}
    for name, col in _text_columns(state, step).items():
        state.set(name, nodes[step.text("case")](this=col.expr), "string", origins_of([col]))


def _trim(state: PrepareState, step: Step) -> None:
    mode = step.text("mode")
    for name, col in _text_columns(state, step).items():
        expr: exp.Expression = exp.Trim(this=col.expr)
        if mode in ("left", "right"):
            expr.set("position", "LEADING" if mode == "left" else "TRAILING")
        elif mode == "collapse":
            expr = exp.RegexpReplace(this=expr, expression=string(r"\s+"), replacement=string(" "))
        state.set(name, expr, "string", origins_of([col]))


def _pad(state: PrepareState, step: Step) -> None:
    length, fill = step.get("length"), step.text("fill")
    if not 1 <= length <= 10_000:
        raise step.fail("the length must be between 1 and 10,000")
    if not fill:
        raise step.fail("the fill text cannot be empty")
    for name, col in _text_columns(state, step).items():
        padded = exp.Pad(
            this=col.expr,
            expression=number(length),
            fill_pattern=string(fill),
            is_left=step.text("side") == "left",
        )
        long_enough = exp.GTE(this=exp.Length(this=col.expr.copy()), expression=number(length))
        expr = exp.Case(ifs=[exp.If(this=long_enough, true=col.expr.copy())], default=padded)
        state.set(name, expr, "string", origins_of([col]))


def _truncate(state: PrepareState, step: Step) -> None:
    length = step.get("length")
    if length < 0:
        raise step.fail("the length cannot be negative")
    for name, col in _text_columns(state, step).items():
        state.set(name, exp.Left(this=col.expr, expression=number(length)), "string", origins_of([col]))


def _length(state: PrepareState, step: Step) -> None:
    col = step.column()
    output = step.fresh(step.text("output") or f"{col.name}_length", "output")
    expr = exp.Length(this=to_text(col.expr, col.type))
    state.set(output, expr, "integer", origins_of([col]), after=col.name)
    state.last_change = step.number


def _mask(state: PrepareState, step: Step) -> None:
    keep = step.get("keep_last")
    if keep < 0:
        raise step.fail("the number of characters to keep cannot be negative")
    cols = state.use(step.column_names())
    for name, col in cols.items():
        text = to_text(col.expr, col.type)
        if step.text("method") == "hash":
            expr: exp.Expression = exp.MD5(this=text)
        else:
            hidden = exp.Greatest(
                this=exp.Sub(this=exp.Length(this=text), expression=number(keep)),
                expressions=[number(0)],
                ignore_nulls=True,
            )
            stars = exp.Repeat(this=string("*"), times=hidden)
            expr = exp.Concat(expressions=[stars, exp.Right(this=text.copy(), expression=number(keep))])
        state.set(name, expr, "string", origins_of([col]))


def _split(state: PrepareState, step: Step) -> None:
    col = step.column()
    delimiter, parts = step.text("delimiter"), step.get("parts")
    if not delimiter:
        raise step.fail("the delimiter cannot be empty")
    if not 1 <= parts <= 100:
        raise step.fail("the number of parts must be between 1 and 100")
    prefix = step.text("prefix") or f"{col.name}_"
    names = [step.fresh(f"{prefix}{i}", "prefix") for i in range(1, parts + 1)]
    text, after = to_text(col.expr, col.type), col.name
    for i, name in enumerate(names, 1):
        part = exp.SplitPart(this=text.copy(), delimiter=string(delimiter), part_index=number(i))
        state.set(
            name, exp.Nullif(this=part, expression=string("")), "string", origins_of([col]), after=after
        )
        after = name
    if not step.get("keep_original"):
        state.drop([col.name])
    state.last_change = step.number


def _extract_regex(state: PrepareState, step: Step) -> None:
    col = step.column()
    pattern, outputs = step.text("pattern"), step.column_names("outputs")
    if problem := regex_error(pattern):
        raise step.fail(f"{pattern!r} is not a valid regular expression ({problem})")
    groups = re.compile(pattern).groups
    if groups < len(outputs):
        raise step.fail(
            f"the pattern has {groups} group(s) in parentheses but {len(outputs)} output columns are named"
        )
    state.non_portable_because(f"{step.where}: extracting with a regular expression runs in DuckDB only")
    text, after = to_text(col.expr, col.type), col.name
    for i, output in enumerate(outputs, 1):
        name = step.fresh(output, "outputs")
        node = exp.RegexpExtract(
            this=text.copy(), expression=string(pattern), group=number(i if groups else 0)
        )
        state.set(
            name, exp.Nullif(this=node, expression=string("")), "string", origins_of([col]), after=after
        )
        after = name
    state.last_change = step.number


def _json_field(state: PrepareState, step: Step) -> None:
    col = step.column()
    step.require_type(col, ("string", "nested"), "JSON text")
    keys = step.text("path").split(".")
    if any(not _JSON_KEY.fullmatch(k) for k in keys):
        raise step.fail(
            "write the path as keys separated by dots, e.g. address.city or items.0.name "
            "(keys may hold letters, digits, spaces, _ and -)"
        )
    path: list[exp.Expression] = [exp.JSONPathRoot()]
    path += [exp.JSONPathSubscript(this=int(k)) if k.isdigit() else exp.JSONPathKey(this=k) for k in keys]
    node = exp.JSONExtractScalar(this=cast(col.expr, "json"), expression=exp.JSONPath(expressions=path))
    output = step.new_name(step.text("output") or keys[-1], "output")
    created = state.find(output) is None
    state.set(output, node, "string", origins_of([col]), after=col.name)
    if created:
        state.last_change = step.number


_COLUMNS = ParamSpec("columns", "columns", "Columns")

FIND_REPLACE = ProcessorInfo(
    "find_replace",
    "Find and replace",
    CATEGORY,
    "Replace a text or a regular expression inside values, or whole values that match it.",
    (
        _COLUMNS,
        ParamSpec("find", "string", "Find"),
        ParamSpec("replace", "string", "Replace with", required=False, default=""),
        ParamSpec(
            "mode",
            "choice",
            "Find",
            default="literal",
            choices=("literal", "regex"),
            help="regex: \\1 in the replacement is group 1",
        ),
        ParamSpec("match", "choice", "Match", default="substring", choices=("substring", "whole")),
        ParamSpec("case_sensitive", "boolean", "Case sensitive", required=False, default=True),
    ),
    _find_replace,
)
CHANGE_CASE = ProcessorInfo(
    "change_case",
    "Change case",
    CATEGORY,
    "Lower case, upper case or Title Case.",
    (_COLUMNS, ParamSpec("case", "choice", "Case", default="lower", choices=("lower", "upper", "title"))),
    _change_case,
)
TRIM_SPACES = ProcessorInfo(
    "trim_spaces",
    "Trim spaces",
    CATEGORY,
    "Remove spaces at the start and end (or one side); 'collapse' also turns runs of spaces, tabs "
    "and line breaks inside the text into one space.",
    (
        _COLUMNS,
        ParamSpec("mode", "choice", "Mode", default="both", choices=("both", "left", "right", "collapse")),
    ),
    _trim,
)
PAD_TEXT = ProcessorInfo(
    "pad_text",
    "Pad text",
    CATEGORY,
    "Lengthen shorter texts to a length by adding a fill character, e.g. 42 → 00042.",
    (
        _COLUMNS,
        ParamSpec("length", "integer", "Length"),
        ParamSpec("fill", "string", "Fill with", default="0"),
        ParamSpec("side", "choice", "Side", default="left", choices=("left", "right")),
    ),
    _pad,
)
TRUNCATE_TEXT = ProcessorInfo(
    "truncate_text",
    "Truncate text",
    CATEGORY,
    "Keep only the first characters of texts.",
    (_COLUMNS, ParamSpec("length", "integer", "Maximum length")),
    _truncate,
)
TEXT_LENGTH = ProcessorInfo(
    "text_length",
    "Text length",
    CATEGORY,
    "Add a column with the number of characters of a value.",
    (ParamSpec("column", "column", "Column"), ParamSpec("output", "string", "New column", required=False)),
    _length,
)
MASK_TEXT = ProcessorInfo(
    "mask_text",
    "Mask or hash",
    CATEGORY,
    "Hide values: replace all but the last characters with *, or replace them with their MD5 hash.",
    (
        _COLUMNS,
        ParamSpec("method", "choice", "Method", default="mask", choices=("mask", "hash")),
        ParamSpec("keep_last", "integer", "Characters left visible (mask)", required=False, default=4),
    ),
    _mask,
)
SPLIT_COLUMN = ProcessorInfo(
    "split_column",
    "Split column",
    CATEGORY,
    "Split a text on a delimiter into several columns (prefix1, prefix2…); missing parts are empty.",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("delimiter", "string", "Delimiter", default=","),
        ParamSpec("parts", "integer", "Number of parts", default=2),
        ParamSpec(
            "prefix", "string", "Prefix of new columns", required=False, help="Default: the column name and _"
        ),
        ParamSpec("keep_original", "boolean", "Keep the original column", required=False, default=True),
    ),
    _split,
)
EXTRACT_REGEX = ProcessorInfo(
    "extract_regex",
    "Extract with a regular expression",
    CATEGORY,
    "Copy the groups in parentheses of a regular expression into new columns (DuckDB only).",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("pattern", "string", "Pattern", help="e.g. ([A-Z]{2})-(\\d+)"),
        ParamSpec("outputs", "strings", "New columns (one per group)"),
    ),
    _extract_regex,
)
JSON_FIELD = ProcessorInfo(
    "json_field",
    "Extract a JSON field",
    CATEGORY,
    "Read one field of JSON text into a new column, e.g. path address.city.",
    (
        ParamSpec("column", "column", "Column"),
        ParamSpec("path", "string", "Path"),
        ParamSpec("output", "string", "New column", required=False, help="Default: the last key"),
    ),
    _json_field,
)
