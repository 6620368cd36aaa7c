"""Typed columns: :func:`typed_column` checks one column's values against the signature (missing
values, wrong types, whole numbers, non-finite numbers) and returns a NumPy array or list;
:func:`check_ids` reads the id column as text and :func:`infer_schema` types the columns of a model
without signature from their values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modelworks.engine.scoring.parsing.table import ABSENT, MAX_DEPTH, _Absent, _depth_of, _fail, _what
from modelworks.engine.scoring.schema import ColumnSpec, InputSchema

# ---------------------------------------------------------------------------------------------------
# Typed columns


def _first(values: list[Any], ok: frozenset[type]) -> int:
    return next(i for i, v in enumerate(values) if type(v) not in ok)


_NUMBER = frozenset({int, float})
_NULLS = frozenset({type(None)})


def _csv_value(spec: ColumnSpec, text: str) -> Any:
    """A CSV cell as the JSON value it stands for (empty: null)."""
    if text == "" or (text.lower() in ("null", "na", "nan") and spec.type != "string"):
        return float("nan") if text.lower() == "nan" else None
    if spec.numeric:
        try:
            return (
                int(text) if spec.type in ("long", "integer") and text.lstrip("+-").isdigit() else float(text)
            )
        except ValueError:
            return text
    if spec.type == "boolean":
        return {"true": True, "false": False, "1": True, "0": False}.get(text.lower(), text)
    return text


def typed_column(spec: ColumnSpec, values: list[Any], *, from_csv: bool = False) -> Any:
    """Check ``values`` against ``spec`` and return them as a NumPy array (numbers, booleans) or a list.

    Numbers come back as float64 (NaN for missing values in optional columns), or int64 for a
    whole-number column without missing values; booleans as ``bool`` (object when nulls); text as a list.

    Raises:
        ScoringInputError: ``missing_column``, ``missing_value``, ``wrong_type``, ``not_finite``, ``too_deep``.
    """
    if from_csv:
        values = [v if v is ABSENT else _csv_value(spec, v) for v in values]
    kinds = set(map(type, values))
    if spec.numeric:
        if int in kinds:
            _check_float_range(spec, values)
        if kinds <= _NUMBER:
            array = np.asarray(values, dtype=np.float64)
            if spec.type in ("long", "integer"):
                _check_whole(spec, values, array)
                if int in kinds and float not in kinds:
                    return np.asarray(values, dtype=np.int64)
            if not np.isfinite(array).all():
                _check_finite(spec, array)
            return array
        allowed = _NUMBER | (_NULLS if not spec.required else frozenset())
        if kinds <= allowed | {_Absent}:
            _check_absent(spec, values)
            array = np.asarray(
                [math.nan if v is None or v is ABSENT else v for v in values], dtype=np.float64
            )
            _check_finite(spec, array)
            if spec.type in ("long", "integer"):
                _check_whole(spec, values, array)
            return array
        _refuse(spec, values, _NUMBER)
    if spec.type == "boolean":
        allowed = frozenset({bool}) | (_NULLS if not spec.required else frozenset())
        if kinds <= {bool}:
            return np.asarray(values, dtype=bool)
        _check_absent(spec, values)
        if kinds <= allowed | {_Absent}:
            return [None if v is ABSENT else v for v in values]
        _refuse(spec, values, frozenset({bool}))
    # string, datetime, binary: text
    if kinds <= {str}:
        return values
    _check_absent(spec, values)
    if kinds <= {str, type(None), _Absent} and not spec.required:
        return [None if v is ABSENT else v for v in values]
    _refuse(spec, values, frozenset({str}))
    raise AssertionError("unreachable")


def _check_float_range(spec: ColumnSpec, values: list[Any]) -> None:
    """Refuse whole numbers beyond float64 (JSON allows any number of digits)."""
    for index, value in enumerate(values):
        if type(value) is int and not -_FLOAT_MAX <= value <= _FLOAT_MAX:
            raise _fail(
                "not_finite",
                f"Column {spec.name!r} in row {index} is a number too large for the model (beyond "
                "±1.8e308); send a finite value in range.",
                column=spec.name,
                row=index,
            )


_FLOAT_MAX = int(np.finfo(np.float64).max)


def _check_absent(spec: ColumnSpec, values: list[Any]) -> None:
    if spec.required:
        for index, value in enumerate(values):
            if value is ABSENT:
                raise _fail(
                    "missing_column",
                    f"Row {index} has no value for the required column {spec.name!r}; "
                    f"every row must give {spec.describe()}.",
                    column=spec.name,
                    row=index,
                )


def _refuse(spec: ColumnSpec, values: list[Any], ok: frozenset[type]) -> None:
    _check_absent(spec, values)
    index = _first(values, ok | {_Absent})
    value = values[index]
    if value is None:
        raise _fail(
            "missing_value",
            f"Column {spec.name!r} is null in row {index}, but the model requires a value there "
            f"({spec.describe()}); fill it in or drop the row.",
            column=spec.name,
            row=index,
        )
    if isinstance(value, list | dict) and _depth_of(value, MAX_DEPTH) >= MAX_DEPTH - 3:
        raise _fail(
            "too_deep",
            f"Column {spec.name!r} in row {index} holds deeply nested JSON; send one plain value per cell.",
            column=spec.name,
            row=index,
        )
    hint = ""
    if isinstance(value, str) and spec.numeric:
        hint = "; send numbers without quotes"
    elif isinstance(value, int | float) and not isinstance(value, bool) and spec.type == "string":
        hint = '; send text in quotes (e.g. codes like "01230")'
    elif isinstance(value, bool) and spec.numeric:
        hint = "; send 1/0 instead of true/false"
    raise _fail(
        "wrong_type",
        f"Column {spec.name!r} in row {index} is {_what(value)}, but the model expects {spec.describe()}{hint}.",
        column=spec.name,
        row=index,
    )


def _check_whole(spec: ColumnSpec, values: list[Any], array: np.ndarray[Any, Any]) -> None:
    finite = np.isfinite(array)
    fractional = finite & (array != np.floor(np.where(finite, array, 0)))
    if fractional.any():
        index = int(np.argmax(fractional))
        raise _fail(
            "wrong_type",
            f"Column {spec.name!r} in row {index} is {_what(values[index])}, but the model expects "
            f"{spec.describe()}; send a whole number.",
            column=spec.name,
            row=index,
        )


def _check_finite(spec: ColumnSpec, array: np.ndarray[Any, Any]) -> None:
    infinite = np.isinf(array)
    if infinite.any():
        index = int(np.argmax(infinite))
        raise _fail(
            "not_finite",
            f"Column {spec.name!r} in row {index} is infinite; the model only takes finite numbers. "
            "Send a finite value (or null, if the column is optional).",
            column=spec.name,
            row=index,
        )
    if spec.required:
        missing = np.isnan(array)
        if missing.any():
            index = int(np.argmax(missing))
            raise _fail(
                "not_finite",
                f"Column {spec.name!r} in row {index} is NaN, but the model requires a number there "
                "(the signature marks the column required); send a number.",
                column=spec.name,
                row=index,
            )


def check_ids(column: str, values: list[Any]) -> list[str]:
    """The id column's values as text (numbers allowed); every row must have one."""
    out: list[str] = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out.append(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
        elif value is None or value is ABSENT:
            raise _fail(
                "missing_value",
                f"Row {index} has no value in the id column {column!r}; give every row an id, or none.",
                column=column,
                row=index,
            )
        else:
            raise _fail(
                "wrong_type",
                f"The id column {column!r} in row {index} is {_what(value)}; ids must be text or numbers.",
                column=column,
                row=index,
            )
    return out


def infer_schema(columns: dict[str, list[Any]]) -> InputSchema:
    """A schema for a model without signature: each column typed from its values (nulls allowed)."""
    specs = []
    for name, values in columns.items():
        kinds = set(map(type, values)) - {type(None), _Absent}
        kind = "double" if kinds and kinds <= _NUMBER else "boolean" if kinds == {bool} else "string"
        specs.append(ColumnSpec(name, kind, required=False))  # type: ignore[arg-type]
    return InputSchema(tuple(specs))
