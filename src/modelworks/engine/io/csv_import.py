"""Delimited text (UTF-8) → Parquet: dialect, header and types from a sample, then one strict DuckDB pass.

The one pass is DuckDB's parallel CSV reader feeding ``COPY … TO parquet``: nothing is held in memory
beyond DuckDB's buffers. The reader runs in strict mode with the dialect chosen here, so a row with
the wrong number of fields stops the import with its line number (or, with ``bad_rows="skip"``, is
left out and counted). When a value further down the file does not fit a type inferred from the
sample, the column is widened and the pass runs again; this only costs time on such files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from modelworks.engine.duck import connect
from modelworks.engine.io.columns import (
    PLAIN_TYPES,
    ColumnPlan,
    empty_guard,
    fits_plain,
    resolve_overrides,
    select_list,
)
from modelworks.engine.io.csv_dialect import check_single_char, first_record
from modelworks.engine.io.csv_errors import reader_error, type_mismatch
from modelworks.engine.io.csv_layout import locate_table, without_bom
from modelworks.engine.io.duck_errors import ReaderProblem, parse_reader_error, shorten
from modelworks.engine.io.errors import (
    CorruptFileError,
    DatasetImportError,
    EmptyFileError,
    TooManyColumnsError,
)
from modelworks.engine.io.headers import Rename, clean_headers
from modelworks.engine.io.infer import (
    BIG_INTEGER,
    EXCEL_TEXT,
    MISSING_MARKS,
    TEXT_FORMATS,
    ColumnGuess,
    infer_columns,
    long_integers_note,
    widen,
)
from modelworks.engine.io.schema import logical_type
from modelworks.engine.io.text import find_nul
from modelworks.engine.io.versions import ImportOptions
from modelworks.engine.io.writer import copy_to_parquet

__all__ = ["CsvOutcome", "import_delimited"]

_HEAD_CHARS = 1 << 20
_SAMPLE_CELLS = 2_000_000


@dataclass
class CsvOutcome:
    """What reading a delimited file produced, besides the Parquet file."""

    row_count: int
    delimiter: str
    header: bool
    skip: int = 0  # records above the header's last row (a header over several rows)
    renames: list[Rename] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)
    skipped_rows: int = 0
    warnings: list[str] = field(default_factory=list)


def import_delimited(
    text_path: Path,
    out_path: Path,
    scratch: Path,
    options: ImportOptions,
    *,
    label: str,
    source_path: Path,
    prefer_tab: bool = False,
    delimiter: str | None = None,
    header: bool | None = None,
    exact_types: Sequence[str] | None = None,
    header_values: Sequence[object] | None = None,
    where: Callable[[int], str] = lambda line: f"line {line}",
) -> CsvOutcome:
    """Write the rows of a UTF-8 delimited text file to ``out_path`` as Parquet.

    Args:
        text_path: the UTF-8 text to read.
        out_path: the staged Parquet file.
        scratch: a private folder DuckDB may spill to.
        options: the import options (delimiter, header, types, bad rows…).
        label: the file name, for messages.
        source_path: the original file (for encoding diagnostics).
        prefer_tab: the file is named ``.tsv``.
        delimiter, header: fixed by the caller (Excel), overriding detection and options.
        exact_types: DuckDB types known for every column (Excel), instead of inference.
        header_values: the header row when the caller read it already (Excel); rows of the text may
            then be shorter than the header and are padded with nulls.
        where: how to name a line in messages ("line 7", "row 7 of sheet 'Q1'").
    """
    with open(text_path, encoding="utf-8", errors="replace", newline="") as handle:
        head = handle.read(_HEAD_CHARS)
    quote = check_single_char("quote", options.quote)
    skip = 0
    raw_header: list[object]
    if header_values is None:
        table = locate_table(head, options, quote=quote, delimiter=delimiter, prefer_tab=prefer_tab)
        if table.skip and head.startswith("\ufeff"):
            text_path = without_bom(text_path, scratch)
        head, skip, delimiter, raw_header = table.head, table.skip, table.delimiter, table.raw_header
        header = table.header if table.header is not None else header
    else:
        raw_header = list(header_values)
        delimiter = delimiter or ","
    if not raw_header or not head.replace("\ufeff", "").strip():  # a byte order mark alone is no data
        if header_values is None and options.skip_rows:
            raise EmptyFileError(
                f"{label!r} holds nothing below the {options.skip_rows:,} line(s) left out (skip_rows) in its "
                "first megabyte; choose fewer lines to skip",
                file=label,
            )
        raise EmptyFileError(
            f"{label!r} holds no data (only blank lines); upload a file with rows", file=label
        )
    if len(raw_header) > options.max_columns:
        raise TooManyColumnsError(
            f"{label!r} has {len(raw_header):,} columns, more than the limit of {options.max_columns:,}; "
            "keep only the columns you need, or split the file",
            file=label,
            columns=len(raw_header),
            limit=options.max_columns,
        )
    if header is None:
        header = options.header
    width = len(raw_header)
    if exact_types is None:
        guesses, header, whole_file = _sample_types(text_path, delimiter, quote, width, options, header, skip)
    else:
        guesses, header, whole_file = [ColumnGuess(t) for t in exact_types], bool(header), True
    if header:
        names, renames = clean_headers(raw_header, duplicates=options.duplicate_headers, label=label)
    else:
        names, renames = clean_headers([None] * width, label=label)
        renames = []
    # Types seen on every row need no guard against values further down: there are none.
    origin = "exact" if whole_file else "inferred"
    plans = [
        ColumnPlan(name, guess.duckdb_type, origin, guess.max_abs, text_format=guess.text_format)
        for name, guess in zip(names, guesses, strict=True)
    ]
    for index, duckdb_type in resolve_overrides(names, options.types).items():
        plans[index] = ColumnPlan(names[index], duckdb_type, "override")
    outcome = CsvOutcome(row_count=0, delimiter=delimiter, header=header, skip=skip, renames=renames)
    if header and exact_types is None:
        _drop_trailing_empty(plans, guesses, renames, outcome)
    for rename in outcome.renames:
        outcome.warnings.append(
            f"column {rename.position} had {'no name' if rename.reason == 'empty' else 'a duplicate name'}"
            f"{'' if rename.reason == 'empty' else f' {rename.original!r}'}; it is named {rename.name!r}"
        )
    outcome.warnings += [
        f'column {plan.name!r} holds values written ="…" (so that Excel keeps them as text, e.g. with '
        "leading zeros); they were stored without the = and the quotes"
        for plan in plans
        if plan.text_format == EXCEL_TEXT and plan.origin != "override"
    ]
    outcome.warnings += [
        long_integers_note(plan.name)
        for plan, guess in zip(plans, guesses, strict=True)
        if guess.long_integers and plan.origin != "override"
    ]
    if any(plan.target == "TIMESTAMPTZ" for plan in plans):
        outcome.warnings.append("timestamps with a time zone offset were converted to UTC")
    pad = header_values is not None
    _copy_with_widening(
        text_path, out_path, scratch, options, plans, outcome, label, source_path, quote, where, pad
    )
    _report_dropped(plans, outcome)
    return outcome


def _drop_trailing_empty(
    plans: list[ColumnPlan], guesses: Sequence[ColumnGuess], renames: list[Rename], outcome: CsvOutcome
) -> None:
    """Leave out unnamed last columns without a value: what a delimiter ending every line makes."""
    unnamed = {rename.position - 1: rename for rename in renames if rename.reason == "empty"}
    index = len(plans) - 1
    while index > 0 and index in unnamed and guesses[index].values == 0 and plans[index].origin != "override":
        plans[index] = ColumnPlan(plans[index].name, "VARCHAR", "inferred", dropped=True)
        index -= 1
    dropped = [i for i, plan in enumerate(plans) if plan.dropped]
    outcome.renames = [r for r in renames if r.position - 1 not in dropped]


def _report_dropped(plans: Sequence[ColumnPlan], outcome: CsvOutcome) -> None:
    dropped = sum(1 for plan in plans if plan.dropped)
    if dropped:
        outcome.warnings.append(
            f"every line ends with {'a delimiter' if dropped == 1 else f'{dropped} delimiters'}; "
            f"the empty, unnamed last column{'s were' if dropped > 1 else ' was'} left out"
        )


def _sample_types(
    path: Path,
    delimiter: str,
    quote: str,
    width: int,
    options: ImportOptions,
    header: bool | None,
    skip: int = 0,
) -> tuple[list[ColumnGuess], bool, bool]:
    """Infer types and header on the first rows; also say whether those rows were the whole file."""
    rows = max(100, min(options.sample_rows, _SAMPLE_CELLS // max(1, width)))
    names = [f"c{i}" for i in range(width)]
    # A connection that keeps file order, so that row 1 of the sample is the first record. DuckDB
    # reserves buffers per column, so very wide files need a higher limit (not more real memory).
    con = connect(read=[path], threads=options.threads, memory_limit=_memory_limit(options, width))
    try:
        con.execute(
            f"""
            CREATE TEMP TABLE mw_sample AS
            SELECT row_number() OVER () AS __mw_row, * FROM (
                SELECT * FROM read_csv($path, auto_detect = false, delim = $delim, quote = $quote,
                                       escape = $quote, header = false, columns = $columns, nullstr = $nulls,
                                       null_padding = true, ignore_errors = true, strict_mode = false,
                                       parallel = false, skip = $skip)
                LIMIT {int(rows) + 1})
            """,  # noqa: S608 - only a number is formatted in
            {
                "path": str(path),
                "delim": delimiter,
                "quote": quote,
                "columns": dict.fromkeys(names, "VARCHAR"),
                "nulls": list(options.null_values),
                "skip": skip,
            },
        )
        guesses, detected = infer_columns(con, "mw_sample", names, header=header, delimiter=delimiter)
        sampled = con.execute("SELECT count(*) FROM mw_sample").fetchone()
        whole_file = bool(sampled and sampled[0] <= rows)
    except duckdb.Error as exc:
        raise CorruptFileError(f"the start of the file could not be read as CSV ({exc})") from exc
    finally:
        con.close()
    return guesses, detected, whole_file


def _memory_limit(options: ImportOptions, width: int) -> str | None:
    # DuckDB reserves buffers per column (a 2048-row vector each), so a very wide file needs a higher
    # limit even though it does not use much more real memory.
    if options.memory_limit is not None or width < 1000:
        return options.memory_limit
    return "4GB"


def _copy_with_widening(
    text_path: Path,
    out_path: Path,
    scratch: Path,
    options: ImportOptions,
    plans: list[ColumnPlan],
    outcome: CsvOutcome,
    label: str,
    source_path: Path,
    quote: str,
    where: Callable[[int], str],
    pad: bool,
) -> None:
    by_name = {plan.name.lower(): index for index, plan in enumerate(plans)}
    skip = options.bad_rows == "skip"
    # Each widening fixes one column for good, so this ends; the bound is a safety net.
    for _attempt in range(3 * len(plans) + 1):
        con = connect(
            read=[text_path],
            write=[out_path],
            spill_dir=scratch,
            threads=options.threads,
            memory_limit=_memory_limit(options, len(plans)),
            preserve_insertion_order=options.preserve_order,
        )
        try:
            params: dict[str, Any] = {
                "path": str(text_path),
                "delim": outcome.delimiter,
                "quote": quote,
                "header": outcome.header,
                "skip_rows": outcome.skip,
                "columns": {plan.name: plan.read_type for plan in plans},
                "nulls": list(options.null_values),
                "skip": skip,
                "pad": pad,
                # DuckDB's parallel reader cannot pad short rows when quoted fields span lines.
                "parallel": not pad,
            }
            select = (
                f"SELECT {select_list(plans)} FROM read_csv($path, auto_detect = false, delim = $delim, "  # noqa: S608
                "quote = $quote, escape = $quote, header = $header, columns = $columns, nullstr = $nulls, "
                "strict_mode = true, null_padding = $pad, parallel = $parallel, ignore_errors = $skip, "
                "skip = $skip_rows, "
                f"store_rejects = $skip){empty_guard(plans)}"
            )
            try:
                outcome.row_count = copy_to_parquet(con, select, params, out_path, options.compression)
                problem = _first_cast_reject(con, by_name, outcome, quote) if skip else None
            except duckdb.Error as exc:
                problem = parse_reader_error(str(exc))
            if problem is None:
                return
            if problem.kind == "nul":
                find_nul(text_path, label=label)
            index = _column_index(problem, by_name)
            if index is None or problem.kind not in ("convert", "guard"):
                raise reader_error(problem, label, source_path, where)
            plan = plans[index]
            if plan.dropped:
                # The unnamed last column holds a value after all: keep it, named as usual.
                plans[index] = ColumnPlan(plan.name, "VARCHAR", "inferred")
                outcome.renames.append(Rename(index + 1, "", plan.name, "empty"))
                outcome.warnings.append(
                    f"column {index + 1} has no name; it is named {plan.name!r} (it holds values from "
                    f"{where(problem.line) if problem.line else 'further down the file'})"
                )
                continue
            if plan.origin == "override":
                raise type_mismatch(
                    plan,
                    index,
                    problem,
                    label,
                    where,
                    text_path,
                    delimiter=outcome.delimiter,
                    quote=quote,
                    records_above=outcome.skip + (1 if outcome.header else 0),
                )
            new_type, text_format = _widened(plan, problem.value or "")
            plans[index] = ColumnPlan(plan.name, new_type, "inferred", text_format=text_format)
            if new_type == plan.target:
                continue  # a missing mark (-) further down: now read as missing
            first_rows = "in the first rows" if plan.origin == "inferred" else "elsewhere"
            # A column read as DOUBLE reports a value as DuckDB prints doubles, not as the file has it.
            found = (
                "integers too large to hold exactly as floating-point numbers"
                if plan.read_type == "DOUBLE" and new_type == BIG_INTEGER
                else repr(shorten(problem.value or ""))
            )
            outcome.warnings.append(
                f"column {plan.name!r} looked like {logical_type(plan.target)} {first_rows}, but "
                f"{where(problem.line) + ' holds' if problem.line else 'the file also holds'} "
                f"{found}; it was imported as {logical_type(new_type)}"
            )
        finally:
            con.close()
    raise DatasetImportError(f"the column types of {label!r} could not be settled; choose them explicitly")


def _widened(plan: ColumnPlan, value: str) -> tuple[str, str | None]:
    """The type and text format a column moves to when ``value`` does not fit it."""
    fmt = plan.text_format
    if value != value.strip() and fmt in (None, "plain") and fits_plain(plan.target, value.strip()):
        return plan.target, "plain"  # the value has spaces around it: read as text and trimmed
    if value.strip() in MISSING_MARKS and plan.target in PLAIN_TYPES and fmt in (None, "plain"):
        return plan.target, "plain"
    if fmt in ("grouped", "decimal_comma") and plan.target == "BIGINT":
        pattern = TEXT_FORMATS[fmt][0]
        if re.fullmatch(pattern, value.strip()):
            return "DOUBLE", fmt  # 1,234 then 1,234.5: still numbers written the same way
    if fmt not in (None, "plain"):
        return "VARCHAR", None
    new_type = widen(plan.target, value)
    # Missing marks (-) keep being read as missing while the column is typed.
    keep = new_type != "VARCHAR" and (fmt == "plain" or new_type == BIG_INTEGER)
    return new_type, "plain" if keep else None


def _first_cast_reject(
    con: duckdb.DuckDBPyConnection, by_name: dict[str, int], outcome: CsvOutcome, quote: str
) -> ReaderProblem | None:
    rejects = con.execute(
        "SELECT line, column_name, error_type, csv_line FROM reject_errors ORDER BY line"
    ).fetchall()
    skipped: set[int] = set()
    for line, column, error_type, csv_line in rejects:
        if str(error_type) == "CAST":
            value = _field_value(str(csv_line), by_name.get(str(column).lower()), outcome.delimiter, quote)
            return ReaderProblem("convert", line=int(line), column=str(column), value=value)
        if str(error_type) == "INVALID UNICODE":
            return ReaderProblem("unicode", line=int(line))
        skipped.add(int(line))
    outcome.skipped_rows = len(skipped)
    outcome.skipped_lines = sorted(skipped)[:100]
    if skipped:
        outcome.warnings.append(
            f"{len(skipped):,} malformed row(s) were skipped (first at line {min(skipped)}), as requested"
        )
    return None


def _field_value(csv_line: str, index: int | None, delimiter: str, quote: str) -> str:
    fields = first_record(csv_line + "\n", delimiter, quote)
    return fields[index] if index is not None and index < len(fields) else ""


def _column_index(problem: ReaderProblem, by_name: dict[str, int]) -> int | None:
    if problem.kind == "guard" and problem.column is not None:
        return int(problem.column)
    if problem.kind == "convert" and problem.column is not None:
        return by_name.get(problem.column.lower())
    return None
