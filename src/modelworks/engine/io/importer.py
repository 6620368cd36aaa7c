"""``import_file``: any supported file → an immutable Parquet dataset version in a :class:`Store`.

The order of the checks is the point: the cheap ones that need no reading come first (size, empty
file), then the ones that read only the first megabyte (magic bytes, extension, encoding), then one
streaming pass for text files (NUL bytes, transcoding), and only then DuckDB's conversion. Everything
is written into a staged file and a scratch folder; the staged file becomes an object only after the
whole conversion succeeded, and both are removed on any failure, so a failed import leaves nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from modelworks.engine.duck import connect
from modelworks.engine.errors import human_bytes
from modelworks.engine.io.csv_import import CsvOutcome, import_delimited
from modelworks.engine.io.duck_errors import first_line
from modelworks.engine.io.errors import (
    DatasetImportError,
    EmptyFileError,
    FileTooLargeError,
    InvalidImportOptionError,
)
from modelworks.engine.io.excel import sheet_to_csv
from modelworks.engine.io.schema import ColumnSchema, schema_of_parquet
from modelworks.engine.io.sniff import detect_encoding, read_head, resolve_format, sniff_content
from modelworks.engine.io.storage import StagedFile, Store
from modelworks.engine.io.text import (
    drop_end_of_file_junk,
    drop_utf8_bom,
    normalise_line_breaks,
    prepare_text,
)
from modelworks.engine.io.typed_sources import TypedOutcome, import_jsonl, import_parquet
from modelworks.engine.io.versions import (
    MAX_HEADER_ROWS,
    MAX_SKIP_ROWS,
    ImportOptions,
    SourceInfo,
    VersionInfo,
)

__all__ = ["import_file"]


def import_file(
    source_path: str | os.PathLike[str],
    *,
    store: Store,
    format: str | None = None,
    options: ImportOptions | None = None,
) -> VersionInfo:
    """Import a file into ``store`` as a new immutable Parquet dataset version.

    Args:
        source_path: the file to import (e.g. an upload already streamed to disk by the platform).
        store: where the version is written.
        format: ``csv``, ``tsv``, ``parquet``, ``xlsx`` or ``jsonl``; None detects it from the content.
        options: how to read the file (see :class:`ImportOptions`).

    Returns:
        The stored version: object ID, content hash, row count, schema, sizes, what was detected,
        warnings and timings.

    Raises:
        DatasetImportError: (a subclass of) when the file cannot be imported; the message says what,
            where and how to fix it. Nothing is stored in that case.
    """
    options = options or ImportOptions()
    _check_options(options)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    source = Path(source_path)
    label = options.label_for(source)
    size = _checked_size(source, options, label)
    head = read_head(source)
    fmt = resolve_format(sniff_content(source, head), label=label, declared=format)
    with store.scratch_dir() as scratch, store.stage() as staged:
        try:
            info = _convert(source, fmt, head, size, scratch, staged, options, label, timings, started)
        except duckdb.Error as exc:
            raise DatasetImportError(
                f"{label!r} could not be imported: {first_line(str(exc))}", file=label
            ) from exc
    timings["total"] = round(time.perf_counter() - started, 4)
    return info


def _check_options(options: ImportOptions) -> None:
    """Refuse option values a caller passed from user input without checking (types only hint)."""
    choices = {"bad_rows": ("error", "skip"), "duplicate_headers": ("rename", "reject")}
    for name, allowed in choices.items():
        if getattr(options, name) not in allowed:
            raise InvalidImportOptionError(
                f"{name} must be one of {', '.join(allowed)}, not {getattr(options, name)!r}", option=name
            )
    for name in ("max_columns", "sample_rows"):
        value = getattr(options, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidImportOptionError(f"{name} must be a whole number ≥ 1, not {value!r}", option=name)
    skip = options.skip_rows
    if not isinstance(skip, int) or isinstance(skip, bool) or not 0 <= skip <= MAX_SKIP_ROWS:
        raise InvalidImportOptionError(
            f"skip_rows must be a whole number from 0 to {MAX_SKIP_ROWS:,} (the rows above the table), "
            f"not {skip!r}",
            option="skip_rows",
        )
    rows = options.header_rows
    if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= MAX_HEADER_ROWS:
        raise InvalidImportOptionError(
            f"header_rows must be a whole number from 1 to {MAX_HEADER_ROWS} (how many rows the header "
            f"spans), not {rows!r}",
            option="header_rows",
        )
    if rows > 1 and options.header is False:
        raise InvalidImportOptionError(
            f"header_rows is {rows} but header is off; choose header rows only for a file that has a header",
            option="header_rows",
        )
    if options.max_bytes is not None and (not isinstance(options.max_bytes, int) or options.max_bytes < 0):
        raise InvalidImportOptionError(f"max_bytes must be a number of bytes, not {options.max_bytes!r}")
    if options.sheet is not None and not isinstance(options.sheet, str | int):
        raise InvalidImportOptionError(f"sheet must be a sheet name or position, not {options.sheet!r}")
    for column, logical in options.types.items():
        if not isinstance(column, str) or not isinstance(logical, str):
            raise InvalidImportOptionError(
                f"types must map column names to type names, not {column!r} to {logical!r}", option="types"
            )
    if any(not isinstance(value, str) for value in options.null_values):
        raise InvalidImportOptionError("null_values must be a list of texts", option="null_values")


def _checked_size(source: Path, options: ImportOptions, label: str) -> int:
    try:
        stat = source.stat()
    except FileNotFoundError as exc:
        raise DatasetImportError(f"the file to import ({label!r}) no longer exists; upload it again") from exc
    if not source.is_file():
        raise InvalidImportOptionError(f"{label!r} is not a regular file", file=label)
    if options.max_bytes is not None and stat.st_size > options.max_bytes:
        raise FileTooLargeError(
            f"{label!r} is {human_bytes(stat.st_size)}, more than the limit of {human_bytes(options.max_bytes)}; "
            "split the file or ask an administrator to raise the limit",
            file=label,
            size=stat.st_size,
            limit=options.max_bytes,
        )
    if stat.st_size == 0:
        raise EmptyFileError(f"{label!r} is empty (0 bytes); upload the file again", file=label)
    return stat.st_size


def _convert(
    source: Path,
    fmt: str,
    head: bytes,
    size: int,
    scratch: Path,
    staged: StagedFile,
    options: ImportOptions,
    label: str,
    timings: dict[str, float],
    started: float,
) -> VersionInfo:
    out = staged.path
    outcome: CsvOutcome | TypedOutcome
    if fmt in ("csv", "tsv"):
        encoding = detect_encoding(head, options.encoding, label=label)
        text = drop_end_of_file_junk(
            normalise_line_breaks(
                prepare_text(source, encoding, scratch, label=label, scan_utf8=False), scratch
            ),
            scratch,
        )
        timings["check"] = _since(started)
        outcome = import_delimited(
            text.path, out, scratch, options, label=label, source_path=source, prefer_tab=fmt == "tsv"
        )
        source_info = SourceInfo(
            fmt,
            size,
            encoding=encoding,
            delimiter=outcome.delimiter,
            quote=options.quote,
            header=outcome.header,
        )
    elif fmt == "xlsx":
        sheet = sheet_to_csv(source, scratch, options, label=label)
        timings["check"] = _since(started)
        outcome = import_delimited(
            sheet.csv_path,
            out,
            scratch,
            options,
            label=label,
            source_path=sheet.csv_path,
            delimiter=",",
            header=options.header is not False,
            exact_types=sheet.types,
            header_values=sheet.header,
            where=sheet.where,
        )
        outcome.warnings.extend(sheet.warnings)
        if sheet.other_sheets:
            first = "the first visible one" if sheet.hidden_sheets else "the first"
            others = ", ".join(
                f"{n!r}{' (hidden)' if n in sheet.hidden_sheets else ''}" for n in sheet.other_sheets
            )
            outcome.warnings.append(
                f"the workbook has {len(sheet.other_sheets) + 1} sheets; {first}, {sheet.sheet!r}, was "
                f"imported (the others: {others}); choose the sheet in the import options to import another"
            )
        source_info = SourceInfo(fmt, size, header=options.header is not False, sheet=sheet.sheet)
    elif fmt == "jsonl":
        encoding = detect_encoding(head, options.encoding, label=label)
        text = drop_utf8_bom(prepare_text(source, encoding, scratch, label=label), scratch)
        timings["check"] = _since(started)
        outcome = import_jsonl(text.path, out, scratch, options, label=label)
        source_info = SourceInfo(fmt, size, encoding=encoding)
    else:
        timings["check"] = _since(started)
        outcome = import_parquet(source, out, scratch, options, label=label)
        source_info = SourceInfo(fmt, size)
    timings["convert"] = round(_since(started) - timings["check"], 4)
    columns = _staged_schema(out)
    stored = staged.commit()
    timings["commit"] = round(_since(started) - timings["check"] - timings["convert"], 4)
    return VersionInfo(
        object_id=stored.object_id,
        content_hash=f"sha256:{stored.sha256}",
        row_count=outcome.row_count,
        columns=columns,
        byte_size=stored.size,
        source=source_info,
        renamed_columns=tuple(outcome.renames),
        skipped_rows=outcome.skipped_rows,
        skipped_lines=tuple(outcome.skipped_lines),
        warnings=tuple(outcome.warnings),
        timings=timings,
    )


def _staged_schema(path: Path) -> tuple[ColumnSchema, ...]:
    con = connect(read=[path])
    try:
        return schema_of_parquet(con, str(path))
    finally:
        con.close()


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)
