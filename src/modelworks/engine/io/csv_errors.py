"""The errors of a delimited text import, saying what, where (the line, or the sheet row) and how to fix it."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from modelworks.engine.io.columns import ColumnPlan
from modelworks.engine.io.duck_errors import ReaderProblem, shorten
from modelworks.engine.io.errors import (
    CorruptFileError,
    DatasetImportError,
    RaggedRowsError,
    TypeMismatchError,
)
from modelworks.engine.io.schema import logical_type
from modelworks.engine.io.text import diagnose_utf8

__all__ = ["reader_error", "type_mismatch"]


def reader_error(
    problem: ReaderProblem, label: str, source_path: Path, where: Callable[[int], str]
) -> Exception:
    """The error for what DuckDB's reader could not read (ragged row, bad UTF-8, open quote…)."""
    at = where(problem.line) if problem.line else "a row"
    if problem.kind == "ragged":
        title = (
            "; if the first lines are a title or notes above the table, import with skip_rows set to "
            "their number"
            if problem.expected == 1 and (problem.found or 0) > 1
            else ""
        )
        return RaggedRowsError(
            f"{at} of {label!r} has {problem.found} field(s) but the header has {problem.expected}: fix that "
            f"row (a missing or extra delimiter, or an unclosed quote), or import with malformed rows skipped{title}",
            file=label,
            line=problem.line,
            expected=problem.expected,
            found=problem.found,
        )
    if problem.kind == "unicode":
        return diagnose_utf8(source_path, label=label)
    if problem.kind == "quote":
        return CorruptFileError(
            f"{at} of {label!r} opens a quote that is never closed; close it or remove the stray quote character",
            file=label,
            line=problem.line,
        )
    if problem.kind == "line_size":
        return CorruptFileError(
            f"{at} of {label!r} is longer than DuckDB's 2 MB line limit; check the delimiter and quotes",
            file=label,
            line=problem.line,
        )
    return DatasetImportError(
        f"{at} of {label!r} could not be read: {problem.text}", file=label, line=problem.line
    )


def type_mismatch(
    plan: ColumnPlan,
    index: int,
    problem: ReaderProblem,
    label: str,
    where: Callable[[int], str],
    text_path: Path,
    *,
    delimiter: str,
    quote: str,
    records_above: int,
) -> TypeMismatchError:
    """The error for a value that does not fit the type the user chose for its column.

    Args:
        records_above: the records above the first data row (skipped lines and the header).
    """
    wanted = logical_type(plan.target)
    value = problem.value or ""
    line = problem.line or _locate(text_path, delimiter, quote, records_above, index, value)
    at = where(line) if line else "a row"
    article = "an" if wanted[0] in "aeiou" else "a"
    return TypeMismatchError(
        f"column {plan.name!r} was set to {wanted}, but {at} of {label!r} holds {shorten(value)!r}, which is "
        f"not {article} {wanted}; fix the value in the file or choose another type for {plan.name!r} "
        "(e.g. string)",
        file=label,
        column=plan.name,
        line=line,
        value=shorten(value, 200),
        type=wanted,
    )


def _locate(
    text_path: Path, delimiter: str, quote: str, records_above: int, index: int, value: str
) -> int | None:
    """The line of the first record holding ``value`` in column ``index`` (guards know values, not lines)."""
    with open(text_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar=quote, strict=False)
        for number, row in enumerate(reader):
            if number < records_above:
                continue
            if index < len(row) and row[index] == value:
                return reader.line_num
    return None
