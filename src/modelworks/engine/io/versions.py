"""What an import takes (:class:`ImportOptions`) and what it produces (:class:`VersionInfo`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from modelworks.engine.io.headers import Rename
from modelworks.engine.io.schema import ColumnSchema

__all__ = [
    "DEFAULT_NULL_VALUES",
    "MAX_HEADER_ROWS",
    "MAX_SKIP_ROWS",
    "ImportOptions",
    "SourceInfo",
    "VersionInfo",
]

#: Cell texts read as null by default (besides the empty cell), as most spreadsheet tools do.
DEFAULT_NULL_VALUES: tuple[str, ...] = ("", "NA", "N/A", "NULL", "null", "NaN", "#N/A")
#: The most rows a header may span (``ImportOptions.header_rows``).
MAX_HEADER_ROWS = 10
#: The most rows above a table an import may leave out (``ImportOptions.skip_rows``).
MAX_SKIP_ROWS = 100_000


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file. Every field has a sensible default; ``None`` means "detect".

    Attributes:
        original_name: the file name as the user gave it. Only a label: its extension is checked
            against the content and it appears in messages; it is never used as a path.
        max_bytes: refuse files bigger than this, before reading them (:class:`FileTooLargeError`).
        max_columns: refuse files with more columns than this.
        encoding: text encoding (``utf-8``, ``latin-1``, ``cp1252``…); None detects it.
        delimiter: CSV field separator; None detects it among ``, ; tab |``.
        quote: CSV quote character.
        header: whether the first row names the columns; None detects it.
        skip_rows: rows above the table to leave out (a title, notes): lines of a CSV file (after
            Excel's ``sep=`` line), rows of an Excel sheet (so the header of a table whose header is
            in row 4 is found with 3).
        header_rows: how many rows the header spans (1 to 10). With more than one, the rows are
            joined into one name per column ("Sales 2024 / Q1"); a merged (empty) cell of an upper row
            takes the text on its left. The header is then never detected: the file must have it.
        null_values: cell texts read as null.
        sheet: Excel sheet name or 0-based position; None takes the first sheet.
        types: column name → logical type (``integer``, ``float``, ``string``, ``boolean``, ``date``,
            ``timestamp``, ``time``) overriding the inferred one; a value that does not fit fails the
            import with its column, line and value.
        bad_rows: ``error`` stops at the first malformed row (ragged, broken JSON); ``skip`` leaves such
            rows out and reports how many and which lines.
        duplicate_headers: ``rename`` (``a``, ``a_2``…, reported) or ``reject``.
        sample_rows: rows used to infer types and detect the header.
        threads: DuckDB threads (None: one per core).
        memory_limit: DuckDB memory limit, e.g. ``"1GB"``; bigger imports spill to the scratch folder.
        preserve_order: keep the file's row order in the stored version (slightly slower).
        compression: Parquet compression of the stored version; ``zstd`` (at level 1) writes as fast
            as ``snappy`` and makes files about a third smaller.
    """

    original_name: str | None = None
    max_bytes: int | None = None
    max_columns: int = 10_000
    encoding: str | None = None
    delimiter: str | None = None
    quote: str = '"'
    header: bool | None = None
    skip_rows: int = 0
    header_rows: int = 1
    null_values: tuple[str, ...] = DEFAULT_NULL_VALUES
    sheet: str | int | None = None
    types: Mapping[str, str] = field(default_factory=dict)
    bad_rows: Literal["error", "skip"] = "error"
    duplicate_headers: Literal["rename", "reject"] = "rename"
    sample_rows: int = 20_000
    threads: int | None = None
    memory_limit: str | None = None
    preserve_order: bool = True
    compression: Literal["zstd", "snappy", "lz4_raw", "uncompressed"] = "zstd"

    def label_for(self, source: str | os.PathLike[str]) -> str:
        """The name to use in messages: the user's file name, or the source's base name."""
        return self.original_name if self.original_name is not None else os.path.basename(source)


@dataclass(frozen=True)
class SourceInfo:
    """What was detected (or chosen) about the imported file.

    Attributes:
        format: ``csv``, ``tsv``, ``parquet``, ``xlsx`` or ``jsonl``.
        byte_size: size of the source file.
        encoding: text encoding (text formats).
        delimiter, quote, header: CSV dialect (delimited text).
        sheet: the Excel sheet read.
    """

    format: str
    byte_size: int
    encoding: str | None = None
    delimiter: str | None = None
    quote: str | None = None
    header: bool | None = None
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class VersionInfo:
    """An immutable dataset version, as stored.

    Attributes:
        object_id: the store object holding the Parquet file.
        content_hash: ``sha256:<hex>`` of the Parquet bytes.
        row_count: number of rows.
        columns: the schema.
        byte_size: size of the Parquet file.
        source: what was detected about the source file.
        renamed_columns: headers that were empty or duplicated, and their new names.
        skipped_rows: rows left out because ``bad_rows="skip"``.
        skipped_lines: the first (up to 100) line numbers of the skipped rows.
        warnings: plain sentences about anything the user should know (renames, widened types…).
        timings: seconds spent per phase (``check``, ``convert``, ``commit``, ``total``).
    """

    object_id: str
    content_hash: str
    row_count: int
    columns: tuple[ColumnSchema, ...]
    byte_size: int
    source: SourceInfo
    renamed_columns: tuple[Rename, ...] = ()
    skipped_rows: int = 0
    skipped_lines: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the platform database and the API)."""
        return {
            "object_id": self.object_id,
            "content_hash": self.content_hash,
            "row_count": self.row_count,
            "columns": [c.to_dict() for c in self.columns],
            "byte_size": self.byte_size,
            "source": self.source.to_dict(),
            "renamed_columns": [r.__dict__ for r in self.renamed_columns],
            "skipped_rows": self.skipped_rows,
            "skipped_lines": list(self.skipped_lines),
            "warnings": list(self.warnings),
            "timings": dict(self.timings),
        }
