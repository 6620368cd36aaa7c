"""Sources that carry their own types: JSON Lines and Parquet → a new Parquet version.

Both go through DuckDB's readers (streaming, parallel). Column names are cleaned like CSV headers,
time-zone-aware timestamps are stored as UTC, and type overrides are applied with a guarded cast: a
value that does not fit stops the import, and a second, targeted query finds its record number.

JSON integers beyond 64 bits are kept exact, as in CSV: DuckDB's reader would type them as DOUBLE
(rounded) or HUGEINT (which Parquet stores as DOUBLE). A column whose numbers are all integers and
include one beyond 64 bits is stored as ``DECIMAL(38,0)``, or as text (with a warning) when one has
more than 38 digits. Finding them costs a byte scan for a run of 19 digits, and a second read of the
file only when one is found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from modelworks.engine.duck import connect, quote_identifier
from modelworks.engine.io.columns import ColumnPlan, resolve_overrides, select_list
from modelworks.engine.io.duck_errors import first_line, parse_reader_error, shorten
from modelworks.engine.io.errors import (
    CorruptFileError,
    DatasetImportError,
    EmptyFileError,
    TooManyColumnsError,
    TypeMismatchError,
)
from modelworks.engine.io.headers import Rename, clean_headers
from modelworks.engine.io.infer import BIG_INTEGER, INT_PATTERN, long_integers_note
from modelworks.engine.io.schema import logical_type
from modelworks.engine.io.versions import ImportOptions
from modelworks.engine.io.writer import copy_to_parquet

__all__ = ["TypedOutcome", "import_jsonl", "import_parquet"]


@dataclass
class TypedOutcome:
    """What reading a JSON Lines or Parquet file produced, besides the Parquet file."""

    row_count: int = 0
    renames: list[Rename] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)
    skipped_rows: int = 0
    warnings: list[str] = field(default_factory=list)


def import_jsonl(
    text_path: Path, out_path: Path, scratch: Path, options: ImportOptions, *, label: str
) -> TypedOutcome:
    """Write a UTF-8 JSON Lines file (one object per line) to ``out_path`` as Parquet."""
    outcome = TypedOutcome()
    if options.bad_rows == "skip":
        text_path = _keep_valid_json_lines(text_path, scratch, outcome)
    sample: int = options.sample_rows
    long_digits = _has_long_digit_run(text_path)
    for _attempt in range(2):
        reader = _json_reader(sample)
        try:
            _import_typed(
                text_path,
                out_path,
                scratch,
                options,
                reader,
                label,
                outcome,
                "JSON record",
                exact_integers=_json_reader(sample, typed=True) if long_digits else None,
            )
            return outcome
        except _TypeConflict:
            # A value far down the file contradicts the sampled type: infer from the whole file.
            sample = -1
    raise DatasetImportError(f"the column types of {label!r} could not be settled; choose them explicitly")


def import_parquet(
    source: Path, out_path: Path, scratch: Path, options: ImportOptions, *, label: str
) -> TypedOutcome:
    """Copy a Parquet file into a new Parquet version, cleaning names and applying overrides."""
    with open(source, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 4))
        tail = handle.read(4)
    if size < 12 or tail != b"PAR1":
        raise CorruptFileError(
            f"{label!r} is a truncated or damaged Parquet file (its footer is missing); export it again",
            file=label,
        )
    outcome = TypedOutcome()
    _import_typed(source, out_path, scratch, options, "read_parquet($path)", label, outcome, "row")
    return outcome


def _json_reader(sample: int, *, typed: bool = False) -> str:
    """The reader of a JSON Lines file; ``typed``: with every column's type given in ``$columns``."""
    columns = ", columns = $columns" if typed else ""
    return (
        "read_json($path, format = 'newline_delimited', records = true, "
        f"sample_size = {int(sample)}, maximum_object_size = 16777216{columns})"
    )


_LONG_DIGITS = re.compile(rb"[0-9]{19}")  # the shortest integers beyond 64 bits have 19 digits


def _has_long_digit_run(path: Path) -> bool:
    """Whether the file holds 19 digits in a row anywhere (a cheap test before a second read)."""
    tail = b""
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(8 << 20), b""):
            if _LONG_DIGITS.search(tail + chunk):
                return True
            tail = chunk[-18:]
    return False


# Types DuckDB's JSON reader gives numbers that may hold integers beyond 64 bits.
_MAYBE_BIG = ("DOUBLE", "HUGEINT", "UBIGINT")


def _exact_integer_types(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    typed_reader: str,
    types: dict[str, str],
) -> tuple[dict[str, str], list[str]]:
    """The column types that keep JSON integers beyond 64 bits exact (only the columns that change),
    and the warnings to give if they are used.

    The candidate columns are read again as their JSON text, over the whole file.
    """
    candidates = [name for name, kind in types.items() if kind in _MAYBE_BIG]
    if not candidates:
        return {}, []
    as_text = {name: ("VARCHAR" if name in candidates else kind) for name, kind in types.items()}
    measures = []
    for name in candidates:
        column = quote_identifier(name)
        whole = f"regexp_full_match({column}, $int)"
        measures.append(
            f"count({column}), count(*) FILTER ({whole}), "
            f"count(*) FILTER ({whole} AND TRY_CAST({column} AS BIGINT) IS NULL), "
            f"coalesce(max(length(ltrim({column}, '+-'))) FILTER ({whole}), 0)"
        )
    row = con.execute(
        f"SELECT {', '.join(measures)} FROM {typed_reader}",  # noqa: S608 - quoted identifiers
        {"path": str(path), "columns": as_text, "int": INT_PATTERN},
    ).fetchone()
    assert row is not None  # an aggregate always returns one row
    changed: dict[str, str] = {}
    notes: list[str] = []
    for index, name in enumerate(candidates):
        values, integers, beyond, digits = (int(v) for v in row[4 * index : 4 * index + 4])
        if values == 0 or integers < values or (beyond == 0 and types[name] == "DOUBLE"):
            continue  # floating-point numbers, or integers a DOUBLE holds: as read
        if digits <= 38:
            changed[name] = BIG_INTEGER
        else:
            changed[name] = "VARCHAR"
            notes.append(long_integers_note(name, digits))
    return changed, notes


def _renamed_by_reader(names: list[str]) -> list[str]:
    """The keys DuckDB's JSON reader renamed (``a`` → ``a_1`` next to ``A``), as "'A' and 'a'"."""
    folded = {name.lower(): name for name in names}
    renamed = []
    for name in names:
        base, _, number = name.rpartition("_")
        if base and number.isdigit() and base.lower() in folded:
            renamed.append(f"{folded[base.lower()]!r} and {base!r}")
    return renamed


class _TypeConflict(Exception):
    """The reader's sampled types do not fit the whole file."""


def _import_typed(
    path: Path,
    out_path: Path,
    scratch: Path,
    options: ImportOptions,
    reader: str,
    label: str,
    outcome: TypedOutcome,
    unit: str,
    *,
    exact_integers: str | None = None,
) -> None:
    """Copy a typed source through ``reader`` into Parquet.

    Args:
        exact_integers: the reader with a ``$columns`` parameter, to keep integers beyond 64 bits
            exact (JSON; see the module docstring); None to read as DuckDB infers.
    """
    con = connect(
        read=[path],
        write=[out_path],
        spill_dir=scratch,
        threads=options.threads,
        memory_limit=options.memory_limit,
        preserve_insertion_order=options.preserve_order,
    )
    try:
        try:
            # The reader text is ours (format options and a number); the path is a parameter.
            describe = f"DESCRIBE SELECT * FROM {reader}"  # noqa: S608
            described = con.execute(describe, {"path": str(path)}).fetchall()
        except duckdb.Error as exc:
            raise _translate(exc, label, path) from exc
        if not described:
            raise EmptyFileError(f"{label!r} holds no columns", file=label)
        if len(described) > options.max_columns:
            raise TooManyColumnsError(
                f"{label!r} has {len(described):,} columns, more than the limit of {options.max_columns:,}",
                file=label,
                columns=len(described),
                limit=options.max_columns,
            )
        originals = [str(row[0]) for row in described]
        params: dict[str, object] = {"path": str(path)}
        types = {str(row[0]): str(row[1]) for row in described}
        if exact_integers is not None and len(types) == len(described):
            try:
                changed, notes = _exact_integer_types(con, path, exact_integers, types)
            except duckdb.Error as exc:
                raise _translate(exc, label, path) from exc
            renamed = _renamed_by_reader(originals)
            if changed and renamed:
                # Reading with given types goes by key, and the reader's renamed keys do not exist.
                outcome.warnings.append(
                    f"column{'s' if len(changed) > 1 else ''} {', '.join(repr(n) for n in changed)} "
                    f"{'hold' if len(changed) > 1 else 'holds'} integers beyond 64 bits, read as rounded "
                    f"floating-point numbers because keys of the file differ only in case ({', '.join(renamed)}); "
                    "rename those keys to keep the integers exact"
                )
            elif changed:
                outcome.warnings += notes
                reader = exact_integers
                params["columns"] = {**types, **changed}
                described = [(row[0], changed.get(str(row[0]), row[1])) for row in described]
        names, renames = clean_headers(originals, duplicates=options.duplicate_headers, label=label)
        outcome.renames = [r for r in renames if r.original != r.name]
        plans = [
            ColumnPlan(
                name,
                str(row[1]).replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"),
                "source",
                source=original,
                typed_source=True,
            )
            for name, original, row in zip(names, originals, described, strict=True)
        ]
        for index, duckdb_type in resolve_overrides(names, options.types).items():
            plans[index] = ColumnPlan(
                names[index], duckdb_type, "override", source=originals[index], typed_source=True
            )
        if any(plan.target == "TIMESTAMPTZ" for plan in plans):
            outcome.warnings.append("timestamps with a time zone were converted to UTC")
        try:
            outcome.row_count = copy_to_parquet(
                con,
                f"SELECT {select_list(plans)} FROM {reader}",  # noqa: S608 - quoted identifiers
                params,
                out_path,
                options.compression,
            )
        except duckdb.Error as exc:
            problem = parse_reader_error(str(exc))
            if problem.kind == "guard" and problem.column is not None:
                plan = plans[int(problem.column)]
                raise _mismatch(con, reader, params, plan, problem.value or "", label, unit) from exc
            if "transform error" in str(exc) or "Failed to cast" in str(exc):
                raise _TypeConflict from exc
            raise _translate(exc, label, path) from exc
    finally:
        con.close()


def _mismatch(
    con: duckdb.DuckDBPyConnection,
    reader: str,
    params: dict[str, object],
    plan: ColumnPlan,
    value: str,
    label: str,
    unit: str,
) -> TypeMismatchError:
    column = quote_identifier(plan.source or plan.name)
    found = con.execute(
        f"SELECT n FROM (SELECT row_number() OVER () AS n, {column} AS v FROM {reader}) "  # noqa: S608
        f"WHERE v IS NOT NULL AND TRY_CAST(v AS {plan.target}) IS NULL LIMIT 1",
        params,
    ).fetchone()
    record = int(found[0]) if found else None
    wanted = logical_type(plan.target)
    at = f"{unit} {record}" if record else f"a {unit}"
    return TypeMismatchError(
        f"column {plan.name!r} was set to {wanted}, but {at} of {label!r} holds {shorten(value)!r}; fix the value "
        f"or choose another type for {plan.name!r} (e.g. string)",
        file=label,
        column=plan.name,
        line=record,
        value=shorten(value, 200),
        type=wanted,
    )


def _translate(exc: duckdb.Error, label: str, path: Path) -> Exception:
    problem = parse_reader_error(str(exc))
    if problem.kind == "json" or "expected records" in str(exc):
        # DuckDB reports where parsing stopped, which can be the line after the broken one:
        # find the first line that is not a JSON object ourselves (this only runs on failure).
        line, reason = _first_bad_json_line(path) or (problem.line, problem.text)
        at = f"line {line}" if line else "a line"
        return CorruptFileError(
            f"{at} of {label!r} is not a JSON object ({reason}); every line must hold one object like "
            '{"column": value}; fix that line or import with malformed rows skipped',
            file=label,
            line=line,
        )
    if problem.kind in ("corrupt", "other") and "parquet" in str(exc).lower():
        return CorruptFileError(
            f"{label!r} is a damaged Parquet file ({first_line(str(exc), label)}); export it again",
            file=label,
        )
    return DatasetImportError(f"{label!r} could not be read: {first_line(str(exc), label)}", file=label)


def _first_bad_json_line(path: Path) -> tuple[int, str] | None:
    with open(path, encoding="utf-8", errors="replace") as source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                return number, f"invalid JSON: {exc.msg}"
            except ValueError as exc:  # e.g. a number too long to convert
                return number, f"invalid JSON: {exc}"
            if not isinstance(value, dict):
                return number, f"a JSON {type(value).__name__}, not an object"
    return None


def _keep_valid_json_lines(path: Path, scratch: Path, outcome: TypedOutcome) -> Path:
    """Copy the lines that hold a JSON object; note the others as skipped (``bad_rows="skip"``)."""
    target = scratch / "valid.jsonl"
    skipped: list[int] = []
    with open(path, encoding="utf-8") as source, open(target, "w", encoding="utf-8") as out:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                ok = isinstance(json.loads(line), dict)
            except ValueError:
                ok = False
            if ok:
                out.write(line if line.endswith("\n") else line + "\n")
            else:
                skipped.append(number)
    outcome.skipped_rows = len(skipped)
    outcome.skipped_lines = skipped[:100]
    if skipped:
        outcome.warnings.append(
            f"{len(skipped):,} line(s) that are not JSON objects were skipped (first: line {skipped[0]}), as requested"
        )
    return target
