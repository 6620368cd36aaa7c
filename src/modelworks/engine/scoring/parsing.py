"""Read a scoring request body into columns of Python values, then into typed arrays.

Accepted bodies (JSON unless said):

* ``{"records": [{"a": 1, ...}, ...]}`` and MLflow's ``{"dataframe_records": [...]}``
* ``{"columns": {"a": [1, 2], ...}}``
* MLflow's ``{"dataframe_split": {"columns": [...], "data": [[...], ...], "index": [...]?}}``
* MLflow's ``{"instances": ...}`` and ``{"inputs": ...}``: a list of records, a dict of column lists, or a
  list of positional rows (values in the signature's column order)
* a bare list of records (or of positional rows)
* ``text/csv``: a header line then one line per row (MLflow's CSV input)

MLflow's optional ``"params"`` key is accepted next to the data and ignored (scoring takes no
parameters); any other top-level key is refused, so a typo is not silently scored as nothing.

Validation against the model's :class:`InputSchema`:

* columns are matched by name; **columns not in the schema are ignored** (clients may send more, e.g.
  the row id or the target);
* a required column absent from the body or from a row is ``missing_column``; an optional one is
  filled with nulls;
* ``null`` in a required column is ``missing_value``;
* numbers must be JSON numbers (``"1.5"`` in a ``double`` column and ``true`` in a number column are
  ``wrong_type``); whole-number columns (``long``/``integer``) accept ``2.0`` but not ``2.5``;
  ``string`` columns take only text (send codes like ``"01230"`` quoted);
* **non-finite numbers**: ``NaN`` (which Python's ``json.dumps`` writes) is read as a missing value,
  so it is accepted only in columns the signature marks optional (``required: false``; MLflow marks
  a column optional when its training sample had nulls); ``Infinity``/``-Infinity`` and numbers too
  large for a double are always refused (``not_finite``): no model was trained on them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import orjson

from modelworks.engine.scoring.errors import ScoringInputError
from modelworks.engine.scoring.schema import ColumnSpec, InputSchema

__all__ = ["MAX_DEPTH", "RawTable", "read_payload"]

#: Deepest nesting of arrays/objects a body may have (``{"dataframe_split": {"data": [[v]]}}`` is 3).
MAX_DEPTH = 8
_FORMAT_KEYS = ("records", "dataframe_records", "columns", "dataframe_split", "instances", "inputs")
_IGNORED_KEYS = frozenset({"params"})
_HOW = (
    'Send {"records": [{"column": value, ...}]}, {"columns": {"column": [values]}}, or one of MLflow\'s '
    "formats (dataframe_split, dataframe_records, instances, inputs)."
)


class _Absent:
    """A value a row does not give at all (different from an explicit null)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


class RawTable:
    """The body as columns of Python values, before type checks.

    For a list of records (``records``) or of positional rows named by ``header`` (``positional``,
    MLflow's ``dataframe_split``), ``columns`` is built on first use: the fast path turns the rows
    straight into a matrix instead.
    """

    __slots__ = ("_columns", "from_csv", "given", "header", "keys", "positional", "records", "rows")

    def __init__(
        self,
        columns: dict[str, list[Any]] | None,
        rows: int,
        *,
        from_csv: bool = False,
        given: Callable[[], list[str]] | None = None,
        records: list[dict[str, Any]] | None = None,
        positional: list[list[Any]] | None = None,
        header: Sequence[str] = (),
        keys: Sequence[str] = (),
    ) -> None:
        self._columns = columns
        self.rows = rows
        self.from_csv = from_csv
        #: Every column name the body gives (for "did you mean" hints; computed only on errors).
        self.given = given
        self.records = records
        self.positional = positional
        self.header = header
        self.keys = keys

    @property
    def columns(self) -> dict[str, list[Any]]:
        if self._columns is None:
            if self.positional is not None:
                data = self.positional
                position = {c: j for j, c in enumerate(self.header)}
                self._columns = {
                    k: [r[position[k]] for r in data] if k in position else [ABSENT] * len(data)
                    for k in self.keys
                }
            else:
                records = self.records or []
                self._columns = {k: [r.get(k, ABSENT) for r in records] for k in self.keys}
        return self._columns


def _fail(code: str, message: str, **where: Any) -> ScoringInputError:
    return ScoringInputError(code, message, **where)


def _loads(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(
            "not_utf8",
            f"The request body is not UTF-8 text (invalid byte at position {exc.start}); "
            "encode the JSON as UTF-8.",
        ) from None
    if "depth limit" in reason or "recursion" in reason:
        raise _fail("too_deep", f"The JSON is nested too deeply; at most {MAX_DEPTH} levels are accepted.")
    if "infinity" in reason or "NaN" in text or "Infinity" in text:
        # Python's json.dumps writes NaN/Infinity; read them to say where they are (see the module doc).
        try:
            return json.loads(text, parse_constant=float)
        except (ValueError, RecursionError):
            pass
    raise _fail("invalid_json", f"The request body is not valid JSON: {reason}.")


def _depth_of(value: Any, limit: int) -> int:
    """Nesting depth of ``value`` (stops counting past ``limit``)."""
    if limit <= 0 or not isinstance(value, list | dict):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth_of(c, limit - 1) for c in children), default=0)


def read_payload(
    payload: bytes,
    *,
    names: Sequence[str] | None,
    wanted: Sequence[str] | None,
    max_rows: int,
    content_type: str = "application/json",
) -> RawTable:
    """Parse a request body into a :class:`RawTable` (no type checks yet).

    Args:
        payload: The raw body.
        names: Column names in signature order, for positional rows; ``None`` refuses them.
        wanted: The only columns to keep (schema columns and the id column); ``None`` keeps all.
        max_rows: More rows than this is ``too_many_rows``.
        content_type: ``text/csv`` (with or without parameters) reads CSV, anything else JSON.

    Raises:
        ScoringInputError: see the module docstring for the codes.
    """
    if not payload or not payload.strip():
        raise _fail("empty", f"The request body is empty. {_HOW}")
    if content_type.split(";")[0].strip().lower() in ("text/csv", "application/csv"):
        return _read_csv(payload, wanted=wanted, max_rows=max_rows)
    body = _loads(payload)
    if isinstance(body, list):
        return _read_rows(body, "the body", names=names, wanted=wanted, max_rows=max_rows)
    if not isinstance(body, dict):
        raise _fail("unknown_format", f"The body is a single JSON {type(body).__name__}, not rows. {_HOW}")
    keys = [k for k in body if k not in _IGNORED_KEYS]
    unknown = [k for k in keys if k not in _FORMAT_KEYS]
    if unknown or len(keys) != 1:
        what = f"unknown key {unknown[0]!r}" if unknown else f"{len(keys)} data keys ({', '.join(keys)})"
        raise _fail(
            "unknown_format",
            f"The body has {what}; it must have exactly one of {', '.join(_FORMAT_KEYS)}. {_HOW}",
        )
    key = keys[0]
    value = body[key]
    if key in ("records", "dataframe_records"):
        if not isinstance(value, list):
            raise _fail("unknown_format", f'"{key}" must be a list of objects (one per row).')
        return _read_rows(value, f'"{key}"', names=None, wanted=wanted, max_rows=max_rows)
    if key == "columns":
        if not isinstance(value, dict):
            raise _fail("unknown_format", '"columns" must be an object: {"column": [values, ...], ...}.')
        return _read_columns(value, wanted=wanted, max_rows=max_rows)
    if key == "dataframe_split":
        return _read_split(value, wanted=wanted, max_rows=max_rows)
    # instances / inputs: records, positional rows or a dict of columns.
    if isinstance(value, dict):
        return _read_columns(value, wanted=wanted, max_rows=max_rows)
    if isinstance(value, list):
        return _read_rows(value, f'"{key}"', names=names, wanted=wanted, max_rows=max_rows)
    raise _fail("unknown_format", f'"{key}" must be a list of rows or an object of columns. {_HOW}')


def _check_rows(count: int, max_rows: int) -> None:
    if count == 0:
        raise _fail("empty", "The batch has no rows; send at least one row.")
    if count > max_rows:
        raise _fail(
            "too_many_rows",
            f"The batch has {count:,} rows, more than this endpoint's limit of {max_rows:,}; "
            "split it into smaller requests.",
            rows=count,
            max_rows=max_rows,
        )


def _read_rows(
    rows: list[Any], where: str, *, names: Sequence[str] | None, wanted: Sequence[str] | None, max_rows: int
) -> RawTable:
    _check_rows(len(rows), max_rows)
    kinds = set(map(type, rows))
    if kinds == {dict}:
        keys: Sequence[str]
        if wanted is not None:
            keys = wanted
        else:
            seen: dict[str, None] = {}
            for row in rows:
                seen.update(dict.fromkeys(row))
            keys = list(seen)
        return RawTable(
            None,
            len(rows),
            given=lambda: list(dict.fromkeys(k for r in rows for k in r)),
            records=rows,
            keys=keys,
        )
    if kinds == {list}:
        if names is None:
            raise _fail(
                "unknown_format",
                f"{where} holds positional rows (lists) but the model has no column names to match them "
                "to; send records with column names instead.",
            )
        width = len(names)
        for index, row in enumerate(rows):
            if len(row) != width:
                raise _fail(
                    "bad_shape",
                    f"Row {index} has {len(row)} values but the model takes {width} columns "
                    f"({', '.join(names[:10])}{', ...' if width > 10 else ''}), in that order.",
                    row=index,
                )
        keep = set(wanted) if wanted is not None else None
        return RawTable(
            {n: [r[j] for r in rows] for j, n in enumerate(names) if keep is None or n in keep}, len(rows)
        )
    bad = next(
        i for i, r in enumerate(rows) if not isinstance(r, dict | list) or type(r) is not type(rows[0])
    )
    raise _fail(
        "bad_shape",
        f"Row {bad} of {where} is {_what(rows[bad])}; every row must be an object "
        '{"column": value, ...} (or every row a list of values in the signature order).',
        row=bad,
    )


def _read_columns(value: dict[str, Any], *, wanted: Sequence[str] | None, max_rows: int) -> RawTable:
    lengths = {name: len(v) for name, v in value.items() if isinstance(v, list)}
    not_lists = [name for name, v in value.items() if not isinstance(v, list)]
    if not_lists:
        raise _fail(
            "bad_shape",
            f"Column {not_lists[0]!r} must be a list of values (one per row), not {_what(value[not_lists[0]])}.",
            column=not_lists[0],
        )
    if not lengths:
        raise _fail("empty", "The batch has no columns; send at least one column with one value.")
    counts = set(lengths.values())
    if len(counts) > 1:
        ordered = sorted(lengths.items(), key=lambda kv: kv[1])
        raise _fail(
            "bad_shape",
            f"The columns have different lengths ({ordered[0][0]!r}: {ordered[0][1]}, "
            f"{ordered[-1][0]!r}: {ordered[-1][1]}); send one value per row in every column.",
            column=ordered[0][0],
        )
    count = counts.pop()
    _check_rows(count, max_rows)
    keys = wanted if wanted is not None else list(value)
    return RawTable(
        {k: value[k] if k in value else [ABSENT] * count for k in keys}, count, given=lambda: list(value)
    )


def _read_split(value: Any, *, wanted: Sequence[str] | None, max_rows: int) -> RawTable:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise _fail(
            "unknown_format",
            '"dataframe_split" must be {"columns": [names], "data": [[row values], ...]} (as written '
            'by pandas\' to_dict(orient="split")).',
        )
    columns = value.get("columns")
    data = value["data"]
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise _fail("unknown_format", '"dataframe_split" needs "columns": a list of column names.')
    _check_rows(len(data), max_rows)
    width = len(columns)
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) != width:
            raise _fail(
                "bad_shape",
                f'Row {index} of "dataframe_split" has {len(row) if isinstance(row, list) else _what(row)} '
                f"values but {width} columns are named; give one value per column.",
                row=index,
            )
    return RawTable(
        None,
        len(data),
        positional=data,
        header=columns,
        keys=wanted if wanted is not None else columns,
        given=lambda: list(columns),
    )


def _read_csv(payload: bytes, *, wanted: Sequence[str] | None, max_rows: int) -> RawTable:
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(
            "not_utf8",
            f"The CSV body is not UTF-8 text (invalid byte at position {exc.start}); save it as UTF-8.",
        ) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise _fail("empty", "The CSV body has no header line; the first line must name the columns.")
    rows: list[list[str]] = []
    for line in reader:
        if not line:
            continue
        if len(rows) >= max_rows:
            _check_rows(max_rows + 1, max_rows)
        if len(line) != len(header):
            raise _fail(
                "bad_shape",
                f"CSV row {len(rows)} has {len(line)} values but the header names {len(header)} columns.",
                row=len(rows),
            )
        rows.append(line)
    _check_rows(len(rows), max_rows)
    position = {c: j for j, c in enumerate(header)}
    keys = wanted if wanted is not None else header
    return RawTable(
        {k: [r[position[k]] for r in rows] if k in position else [ABSENT] * len(rows) for k in keys},
        len(rows),
        from_csv=True,
        given=lambda: list(header),
    )


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


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
