""":func:`read_payload`: a JSON or CSV request body in any accepted format (records, columns, MLflow's
``dataframe_split``, ``dataframe_records``, ``instances`` and ``inputs``, ``text/csv``) read into a
:class:`RawTable`, with the depth limit and unknown top-level keys refused.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import orjson

from modelworks.engine.scoring.parsing.table import ABSENT, MAX_DEPTH, RawTable, _fail, _what

_FORMAT_KEYS = ("records", "dataframe_records", "columns", "dataframe_split", "instances", "inputs")
_IGNORED_KEYS = frozenset({"params"})
_HOW = (
    'Send {"records": [{"column": value, ...}]}, {"columns": {"column": [values]}}, or one of MLflow\'s '
    "formats (dataframe_split, dataframe_records, instances, inputs)."
)


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
