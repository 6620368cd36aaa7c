"""Sources that carry their own types: JSON Lines and Parquet → a new Parquet version.

Both go through DuckDB's readers (streaming, parallel). Column names are cleaned like CSV headers,
time-zone-aware timestamps are stored as UTC, and type overrides are applied with a guarded cast: a
value that does not fit stops the import, and a second, targeted query finds its record number.
"""

from __future__ import annotations

import json
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
    for _attempt in range(2):
        reader = (
            "read_json($path, format = 'newline_delimited', records = true, "
            f"sample_size = {int(sample)}, maximum_object_size = 16777216)"
        )
        try:
            _import_typed(text_path, out_path, scratch, options, reader, label, outcome, "JSON record")
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
) -> None:
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
                {"path": str(path)},
                out_path,
                options.compression,
            )
        except duckdb.Error as exc:
            problem = parse_reader_error(str(exc))
            if problem.kind == "guard" and problem.column is not None:
                plan = plans[int(problem.column)]
                raise _mismatch(con, reader, path, plan, problem.value or "", label, unit) from exc
            if "transform error" in str(exc) or "Failed to cast" in str(exc):
                raise _TypeConflict from exc
            raise _translate(exc, label, path) from exc
    finally:
        con.close()


def _mismatch(
    con: duckdb.DuckDBPyConnection,
    reader: str,
    path: Path,
    plan: ColumnPlan,
    value: str,
    label: str,
    unit: str,
) -> TypeMismatchError:
    column = quote_identifier(plan.source or plan.name)
    found = con.execute(
        f"SELECT n FROM (SELECT row_number() OVER () AS n, {column} AS v FROM {reader}) "  # noqa: S608
        f"WHERE v IS NOT NULL AND TRY_CAST(v AS {plan.target}) IS NULL LIMIT 1",
        {"path": str(path)},
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
