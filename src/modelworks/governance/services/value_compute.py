"""Realised value from a prediction log: which rows count, what each is worth, summed per period.

A value definition names a prediction log (``deployment-<id>`` or ``recipe-<id>``), a **row filter**
and a **value per row**, both written in the Flow's safe formula language
(:mod:`modelworks.engine.recipes.formula`) over the log's columns (``prediction``,
``prediction_value``, ``ts``, the model's input features…) plus ``label``: the true outcome sent
back as feedback for the row (null while none arrived). For example "avoided delays x €/minute":

* row filter ``prediction = 'true' and label = 'true'`` (predicted late, really late);
* value per row ``12 * 0.8`` (minutes avoided x € per minute) or a formula such as
  ``prediction_value * 10``.

Formulas are parsed by our own parser into SQLGlot expressions (never evaluated by Python, never
formatted into SQL as text); the log is read with :func:`read_predictions` and aggregated by an
in-memory, locked-down DuckDB connection (:func:`modelworks.engine.duck.connect`) that may read no
file at all: the log and the labels arrive as Arrow tables.

This module is plain Python (no Django): :mod:`modelworks.governance.services.value` feeds it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from sqlglot import exp

from modelworks.engine.duck import connect
from modelworks.engine.io.schema import logical_type
from modelworks.engine.predictions import (
    BASE_COLUMNS,
    FEATURE_PREFIX,
    prediction_segments,
    read_predictions,
)
from modelworks.engine.recipes.formula import FormulaError, analyze_formula
from modelworks.engine.recipes.types import Column, Relation
from modelworks.governance.services.value_common import (
    LABEL_COLUMN,
    MAX_MEASUREMENT,
    PERIODS,
    PeriodValue,
    RealisedValueError,
    ValueFormulaError,
    period_bounds,
    period_of,
)

__all__ = [
    "LABEL_COLUMN",
    "MAX_MEASUREMENT",
    "PERIODS",
    "CompiledValue",
    "PeriodValue",
    "RealisedValueError",
    "ValueFormulaError",
    "compile_value",
    "compute_log_value",
    "log_columns",
    "period_bounds",
    "period_of",
]

_NUMERIC = {"integer", "float", "decimal"}
_TYPE_WORDS = {
    "string": "a text",
    "boolean": "a condition (true/false)",
    "date": "a date",
    "timestamp": "a date and time",
    "time": "a time of day",
}


@dataclass(frozen=True)
class CompiledValue:
    """A definition's two formulas, parsed against the columns of its log.

    Attributes:
        condition: the row filter (``TRUE`` when the filter is empty).
        value: the value of one matching row.
        columns: the log columns both formulas read (``label`` included when used).
        uses_label: whether the feedback labels are needed.
    """

    condition: exp.Expression
    value: exp.Expression
    columns: frozenset[str]
    uses_label: bool


def _output_name(stored: str) -> str:
    """The name :func:`read_predictions` gives a stored column (``in_`` stripped from features)."""
    if stored.startswith(FEATURE_PREFIX):
        stripped = stored[len(FEATURE_PREFIX) :]
        if stripped not in BASE_COLUMNS and stripped != "date":
            return stripped
    return stored


def log_columns(root: Path, source: str) -> dict[str, str] | None:
    """The columns of a prediction log as formulas see them (name → logical type), ``label`` included.

    Returns:
        None when the log holds no segment yet.
    """
    files = prediction_segments(root, source)
    if not files:
        return None
    con = connect(read=files)
    try:
        described = con.sql(
            "DESCRIBE SELECT * FROM read_parquet($files, hive_partitioning = true, union_by_name = true)",
            params={"files": [str(f) for f in files]},
        ).fetchall()
    finally:
        con.close()
    columns: dict[str, str] = {}
    for row in described:
        name = str(row[0])
        if name == "date":
            continue
        columns[_output_name(name)] = logical_type(str(row[1]))
    # The feedback label wins the name; a feature called "label" stays reachable as in_label.
    if LABEL_COLUMN in columns:
        columns[FEATURE_PREFIX + LABEL_COLUMN] = columns.pop(LABEL_COLUMN)
    columns[LABEL_COLUMN] = "string"
    return columns


def default_columns(features: Mapping[str, str] | None = None) -> dict[str, str]:
    """The columns of any prediction log (used before the first prediction was logged).

    Args:
        features: input features known from elsewhere (the model's signature), name → type
            (``any`` when unknown).
    """
    base = {
        "row_id": "string",
        "request_id": "string",
        "ts": "timestamp",
        "model_version_id": "integer",
        "model_version": "string",
        "role": "string",
        "answered": "boolean",
        "prediction": "string",
        "prediction_value": "float",
        "probabilities": "string",
        "latency_ms": "float",
    }
    for name, kind in (features or {}).items():
        base.setdefault(name, kind)
    base[LABEL_COLUMN] = "string"
    return base


def _parse(text: str, relation: Relation, *, field: str, label: str) -> Any:
    columns = {c.name: c.type for c in relation.columns}
    try:
        return analyze_formula(text, columns, where=label)
    except FormulaError as exc:
        position = exc.details.get("position")
        raise ValueFormulaError(str(exc), field=field, position=position) from exc


def compile_value(row_filter: str, value_per_row: str, columns: Mapping[str, str]) -> CompiledValue:
    """Parse a definition's formulas against the log's ``columns`` and check their types.

    Args:
        row_filter: a condition; empty means every row of the log counts.
        value_per_row: a number (``15 * 0.8``) or a numeric formula (``prediction_value * 10``).
        columns: the log's columns (:func:`log_columns` or :func:`default_columns`).

    Raises:
        ValueFormulaError: a formula cannot be read, names an unknown column (with the closest
            name), or has the wrong type (a filter that is not a condition, a value that is
            not a number); ``field`` says which formula.
    """
    relation = Relation(
        name="prediction log",
        columns=tuple(Column(name, kind) for name, kind in columns.items()),
        source=exp.to_table("prediction_log"),
    )
    used: set[str] = set()
    condition: exp.Expression = exp.true()
    if row_filter.strip():
        parsed = _parse(row_filter, relation, field="row_filter", label="row filter")
        if parsed.type not in ("boolean", "null", "any"):
            raise ValueFormulaError(
                f"row filter: the formula gives {_TYPE_WORDS.get(parsed.type, parsed.type)}, but a row filter "
                "must be a condition that is true for the rows that count, e.g. "
                "prediction = 'true' and label = 'true'",
                field="row_filter",
                position=1,
            )
        condition = parsed.expression
        used |= parsed.columns
    if not value_per_row.strip():
        raise ValueFormulaError(
            "value per row: empty; write what one matching row is worth, a number (e.g. 12.5) or a "
            "formula (e.g. prediction_value * 10)",
            field="value_per_row",
            position=1,
        )
    value = _parse(value_per_row, relation, field="value_per_row", label="value per row")
    if value.type not in _NUMERIC and value.type not in ("null", "any"):
        hint = "; to read a number held as text use to_number(…)" if value.type == "string" else ""
        raise ValueFormulaError(
            f"value per row: the formula gives {_TYPE_WORDS.get(value.type, value.type)}, but it must "
            f"give a number (what one matching row is worth){hint}",
            field="value_per_row",
            position=1,
        )
    used |= value.columns
    return CompiledValue(condition, value.expression, frozenset(used), LABEL_COLUMN in used)


def _to_decimal(number: Any) -> Decimal:
    if number is None:
        return Decimal("0.00")
    try:
        result = Decimal(str(number)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # pragma: no cover - DuckDB sums are finite or raise
        raise RealisedValueError(f"the value {number!r} is not a number", code="value_not_finite") from exc
    return result


def compute_log_value(
    root: Path,
    source: str,
    *,
    row_filter: str,
    value_per_row: str,
    period: str,
    labels: pa.Table | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    source_label: str = "",
) -> list[PeriodValue]:
    """Sum the value of the matching rows of a prediction log, per period.

    Args:
        root: the log's root folder (``settings.MODELWORKS_PREDICTIONS_DIR``).
        source: ``deployment-<id>`` or ``recipe-<id>``.
        row_filter: the condition rows must meet (empty: all rows).
        value_per_row: what one matching row is worth.
        period: ``day``, ``week`` (Monday to Sunday) or ``month`` (UTC days).
        labels: the feedback, a table with string columns ``row_id`` and ``label`` (one row per
            ``row_id``); None: every row's label is null.
        start: first instant read (UTC); None: the log's beginning.
        end: first instant not read; None: up to now.
        source_label: how messages name the log (e.g. ``deployment 'late-flights'``).

    Returns:
        One :class:`PeriodValue` per period holding logged rows, oldest first; a period whose rows
        all fail the filter is worth 0.

    Raises:
        ValueFormulaError: a formula is wrong (see :func:`compile_value`).
        RealisedValueError: ``empty_log`` when the log holds no row in the range; ``value_too_large`` when
            a period's sum does not fit a measurement; ``invalid_period``.
    """
    if period not in PERIODS:
        raise RealisedValueError(
            f"unknown period {period!r}; use one of {', '.join(PERIODS)}",
            code="invalid_period",
            field="period",
        )
    named = source_label or f"'{source}'"
    columns = log_columns(root, source)
    if columns is None:
        raise RealisedValueError(
            f"the prediction log of {named} is empty: no prediction has been logged yet. Send traffic to "
            "the endpoint (and check its log sample rate is above 0), then compute again.",
            code="empty_log",
        )
    compiled = compile_value(row_filter, value_per_row, columns)
    stored = [c for c in sorted(compiled.columns) if c != LABEL_COLUMN]
    wanted = ["row_id", "ts", *(c for c in stored if c not in ("row_id", "ts"))]
    # A feature called "label" is read under its stored name, in_label (see log_columns).
    read_as = {c: (LABEL_COLUMN if c == FEATURE_PREFIX + LABEL_COLUMN else c) for c in wanted}
    table = read_predictions(root, source, start=start, end=end, columns=[read_as[c] for c in wanted])
    table = table.rename_columns(wanted)
    if table.num_rows == 0:
        raise RealisedValueError(
            f"the prediction log of {named} holds no prediction in the chosen time range; widen the range "
            "or wait for traffic.",
            code="empty_log",
        )
    if labels is None:
        labels = pa.table({"row_id": pa.array([], pa.string()), LABEL_COLUMN: pa.array([], pa.string())})
    return _aggregate(table, labels, compiled, period)


def _aggregate(table: pa.Table, labels: pa.Table, compiled: CompiledValue, period: str) -> list[PeriodValue]:
    con = connect()
    try:
        con.register("log_rows", table)
        con.register("feedback", labels.select(["row_id", LABEL_COLUMN]))
        rows = (
            exp.select(
                *(exp.column(name, table="p", quoted=True) for name in table.column_names),
                exp.column(LABEL_COLUMN, table="f", quoted=True),
            )
            .from_("log_rows AS p")
            .join("feedback AS f", on="p.row_id = f.row_id", join_type="left")
        )
        trunc = exp.cast(
            exp.DateTrunc(unit=exp.Literal.string(period), this=exp.column("ts", quoted=True)),  # type: ignore[no-untyped-call]
            exp.DataType.build("date"),
        )
        matched = exp.Coalesce(this=exp.paren(compiled.condition.copy()), expressions=[exp.false()])
        value = exp.cast(exp.paren(compiled.value.copy()), exp.DataType.build("double"))
        query = (
            exp.select(
                exp.alias_(trunc, "period_start"),
                exp.alias_(exp.func("sum", exp.If(this=matched, true=value)), "value"),
                exp.alias_(exp.func("count_if", matched.copy()), "matched"),
                exp.alias_(exp.func("count", exp.Star()), "total"),
                exp.alias_(
                    exp.func("count", exp.column(LABEL_COLUMN, quoted=True)),
                    "labelled",
                ),
            )
            .from_(rows.subquery("r"))
            .group_by(exp.Literal.number(1))
            .order_by(exp.Literal.number(1))
        )
        result = con.sql(query.sql(dialect="duckdb")).fetchall()
    finally:
        con.close()
    values = []
    for period_start, total_value, matched_rows, total, labelled in result:
        if total_value is not None and not math.isfinite(float(total_value)):
            raise RealisedValueError(
                f"the value of the {period} starting {period_start} is not a finite number (a division by "
                "zero or an overflow in the value per row?)",
                code="value_not_finite",
                field="value_per_row",
            )
        amount = _to_decimal(total_value)
        if abs(amount) > MAX_MEASUREMENT:
            raise RealisedValueError(
                f"the value of the {period} starting {period_start} ({amount:,.2f}) is too large to store "
                f"(at most {MAX_MEASUREMENT:,.2f}); check the value per row (is it in the right unit?)",
                code="value_too_large",
                field="value_per_row",
            )
        first, last = period_bounds(period_start, period)
        values.append(PeriodValue(first, last, amount, int(matched_rows), int(total), int(labelled)))
    return values
