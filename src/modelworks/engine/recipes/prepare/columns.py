"""Processors that reshape the list of columns: rename, drop, keep, reorder, copy, formula, cast,
coalesce and concatenate."""

from __future__ import annotations

from sqlglot import exp

from modelworks.engine.recipes.formula_functions import unify
from modelworks.engine.recipes.formula_sql import (
    NUMERIC,
    TEMPORAL,
    boolean_to_int,
    cast,
    round_half_away,
    string,
    to_number,
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
from modelworks.engine.recipes.types import ParamSpec

__all__ = [
    "CAST_COLUMNS",
    "COALESCE_COLUMNS",
    "CONCAT_COLUMNS",
    "COPY_COLUMN",
    "DROP_COLUMNS",
    "FORMULA",
    "KEEP_COLUMNS",
    "RENAME_COLUMNS",
    "REORDER_COLUMNS",
]

CATEGORY = "Columns"
CAST_TYPES = ("string", "integer", "float", "decimal", "boolean", "date", "timestamp")
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _rename(state: PrepareState, step: Step) -> None:
    renames: dict[str, str] = {}
    for old, new in (step.get("renames") or {}).items():
        if state.find(old) is None:
            raise step.missing(old)
        if new is None:
            raise step.fail(f"give a new name for column {old!r}")
        renames[old] = step.new_name(new, f"renames[{old!r}]")
    final = [renames.get(name, name) for name in state.names]
    duplicates = sorted({n for n in final if final.count(n) > 1})
    if duplicates:
        raise step.fail(f"two columns would be called {duplicates[0]!r}; choose distinct names")
    for col in state.columns:
        col.name = renames.get(col.name, col.name)
    state.last_change = step.number


def _drop(state: PrepareState, step: Step) -> None:
    names = step.column_names()
    if len(names) == len(state.columns):
        raise step.fail("it would drop every column; keep at least one")
    state.drop(names)
    state.last_change = step.number


def _keep(state: PrepareState, step: Step) -> None:
    keep = set(step.column_names())
    state.drop([n for n in state.names if n not in keep])
    state.last_change = step.number


def _reorder(state: PrepareState, step: Step) -> None:
    moved = step.column_names()
    by_name = {c.name: c for c in state.columns}
    rest = [c for c in state.columns if c.name not in moved]
    chosen = [by_name[n] for n in moved]
    state.columns = chosen + rest if step.text("position") == "first" else rest + chosen


def _copy(state: PrepareState, step: Step) -> None:
    col = step.column()
    name = step.fresh(step.text("output"), "output")
    state.set(name, col.expr, col.type, origins_of([col], "identity"), after=col.name)
    state.last_change = step.number


def _formula(state: PrepareState, step: Step) -> None:
    output = step.new_name(step.text("output"), "output")
    formula = step.formula(step.text("formula"))
    cols = state.use(formula.columns)
    for reason in formula.non_portable:
        state.non_portable_because(f"{step.where}: {reason}")
    logical = "string" if formula.type in ("null", "any") else formula.type
    expr = substitute(formula, cols)
    if formula.type == "null":
        expr = cast(expr, "string")
    created = state.find(output) is None
    state.set(output, expr, logical, origins_of(cols.values()))
    if created:
        state.last_change = step.number


def cast_expression(col: Col, target: str, on_failure: str, step: Step) -> exp.Expression:
    """``col`` converted to logical type ``target``; ``on_failure`` is ``null`` or ``error``."""
    source, value = col.type, col.expr
    lenient = on_failure == "null"
    if target == source:
        return value
    if target == "string":
        return to_text(value, source)
    if source in TEMPORAL and target in NUMERIC | {"boolean"}:
        raise step.fail(f"column {col.name!r} holds dates, which cannot become {target} values")
    if source in NUMERIC | {"boolean"} and target in TEMPORAL:
        raise step.fail(f"column {col.name!r} holds {source} values, which cannot become dates")
    if target in ("integer", "float", "decimal"):
        if source == "boolean":
            return cast(boolean_to_int(value), target)
        if source in NUMERIC:
            return (
                cast(round_half_away(value, source, 0), "integer")
                if target == "integer"
                else cast(value, target)
            )
        number = to_number(value, source) if lenient else exp.Trim(this=to_text(value, source))
        if target == "integer":
            return (
                cast(round_half_away(number, "float", 0), "integer") if lenient else cast(number, "integer")
            )
        return cast(number, target)
    if target == "boolean":
        if source in NUMERIC:
            return exp.NEQ(this=value, expression=exp.Literal.number(0))
        if not lenient:
            return cast(exp.Trim(this=to_text(value, source)), "boolean")
        word = exp.Lower(this=exp.Trim(this=to_text(value, source)))
        return exp.Case(
            ifs=[
                exp.If(this=exp.In(this=word, expressions=[string(v) for v in _TRUE]), true=exp.true()),
                exp.If(
                    this=exp.In(this=word.copy(), expressions=[string(v) for v in _FALSE]), true=exp.false()
                ),
            ]
        )
    # dates and timestamps
    if source in TEMPORAL:
        return cast(value, target)
    text = exp.Trim(this=to_text(value, source))
    if lenient:
        step.state.non_portable_because(
            f"{step.where}: converting text to dates with 'on failure: empty' uses TRY_CAST (DuckDB only)"
        )
        return exp.TryCast(this=text, to=exp.DataType.build(target.upper()))
    return cast(text, target)


def _cast(state: PrepareState, step: Step) -> None:
    target, on_failure = step.text("to"), step.text("on_failure")
    names = step.column_names()
    cols = state.use(names)
    for name in names:
        col = cols[name]
        if col.type in ("nested", "binary", "other", "time"):
            raise step.fail(f"column {name!r} holds {col.type} values, which this step cannot convert")
        state.set(name, cast_expression(col, target, on_failure, step), target, origins_of([col]))


def _coalesce(state: PrepareState, step: Step) -> None:
    names = step.column_names()
    if len(names) < 2:
        raise step.fail("choose at least two columns")
    cols = state.use(names)
    logical = unify([cols[n].type for n in names], lambda m: step.fail(m), "the columns")
    output = step.new_name(step.text("output"), "output")
    first, *rest = [cols[n].expr for n in names]
    created = state.find(output) is None
    state.set(output, exp.Coalesce(this=first, expressions=rest), logical, origins_of(cols.values()))
    if created:
        state.last_change = step.number


def _concat(state: PrepareState, step: Step) -> None:
    names = step.column_names()
    cols = state.use(names)
    texts = [to_text(cols[n].expr, cols[n].type) for n in names]
    separator = string(step.text("separator"))
    if step.get("skip_missing"):
        expr: exp.Expression = exp.Anonymous(this="CONCAT_WS", expressions=[separator, *texts])
    else:
        parts: list[exp.Expression] = []
        for i, text in enumerate(texts):
            if i:
                parts.append(separator.copy())
            parts.append(exp.Coalesce(this=text, expressions=[string("")]))
        expr = exp.Concat(expressions=parts, coalesce=True)
    output = step.new_name(step.text("output"), "output")
    created = state.find(output) is None
    state.set(output, expr, "string", origins_of(cols.values()))
    if created:
        state.last_change = step.number


_OUTPUT_NEW = ParamSpec("output", "string", "New column", help="Name of the column to create")

RENAME_COLUMNS = ProcessorInfo(
    "rename_columns",
    "Rename columns",
    CATEGORY,
    "Give columns new names.",
    (ParamSpec("renames", "mapping", "Renames", help="Current name → new name"),),
    _rename,
)
DROP_COLUMNS = ProcessorInfo(
    "drop_columns",
    "Drop columns",
    CATEGORY,
    "Remove columns from the dataset.",
    (ParamSpec("columns", "columns", "Columns to drop"),),
    _drop,
)
KEEP_COLUMNS = ProcessorInfo(
    "keep_columns",
    "Keep only columns",
    CATEGORY,
    "Keep the chosen columns (in their current order) and remove all others.",
    (ParamSpec("columns", "columns", "Columns to keep"),),
    _keep,
)
REORDER_COLUMNS = ProcessorInfo(
    "reorder_columns",
    "Move columns",
    CATEGORY,
    "Move columns to the start or the end, in the order listed.",
    (
        ParamSpec("columns", "columns", "Columns to move"),
        ParamSpec("position", "choice", "Move to", default="first", choices=("first", "last")),
    ),
    _reorder,
)
COPY_COLUMN = ProcessorInfo(
    "copy_column",
    "Copy column",
    CATEGORY,
    "Duplicate a column under a new name, next to it.",
    (ParamSpec("column", "column", "Column"), _OUTPUT_NEW),
    _copy,
)
FORMULA = ProcessorInfo(
    "formula",
    "Formula",
    CATEGORY,
    "Compute a column with a formula, e.g. if(dep_delay > 15, 'late', 'on time'). "
    "Naming an existing column replaces it.",
    (
        ParamSpec("output", "string", "Column", help="New or existing column"),
        ParamSpec("formula", "formula", "Formula"),
    ),
    _formula,
)
CAST_COLUMNS = ProcessorInfo(
    "cast_columns",
    "Change type",
    CATEGORY,
    "Convert columns to another type. Values that cannot be converted become empty, or stop the "
    "build, as chosen.",
    (
        ParamSpec("columns", "columns", "Columns"),
        ParamSpec("to", "choice", "New type", choices=CAST_TYPES),
        ParamSpec(
            "on_failure",
            "choice",
            "When a value cannot be converted",
            default="null",
            choices=("null", "error"),
            help="null: leave it empty; error: stop the build",
        ),
    ),
    _cast,
)
COALESCE_COLUMNS = ProcessorInfo(
    "coalesce_columns",
    "First non-empty value",
    CATEGORY,
    "The first value that is not missing among several columns, in the order listed.",
    (ParamSpec("columns", "columns", "Columns"), _OUTPUT_NEW),
    _coalesce,
)
CONCAT_COLUMNS = ProcessorInfo(
    "concat_columns",
    "Concatenate columns",
    CATEGORY,
    "Join the values of several columns as text, with a separator.",
    (
        ParamSpec("columns", "columns", "Columns"),
        ParamSpec("separator", "string", "Separator", required=False, default=""),
        _OUTPUT_NEW,
        ParamSpec(
            "skip_missing",
            "boolean",
            "Skip missing values",
            required=False,
            default=True,
            help="Off: a missing value counts as empty text (keeping the separators)",
        ),
    ),
    _concat,
)
