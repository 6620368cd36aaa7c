"""Where the table of a delimited text file starts, and its header: what comes before the data.

Files exported by spreadsheets and reporting tools put things above the table: Excel's ``sep=;``
line (it names the delimiter), blank lines, a title and notes (left out with the ``skip_rows``
option), and headers written over several rows (``header_rows``, joined into one name per column).
Everything here works on the first megabyte of the text; DuckDB's reader then skips the same
number of records (it counts a quoted field spanning lines as one, and blank lines as records).
"""

from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from modelworks.engine.io.csv_dialect import check_single_char, detect_delimiter, first_record, first_records
from modelworks.engine.io.headers import join_header_rows
from modelworks.engine.io.versions import ImportOptions

__all__ = ["TableStart", "locate_table", "without_bom"]

_BLANK_LINES = re.compile(r"\A\ufeff?(?:[ \t]*(?:\r\n|\n|\r))+")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
# "sep=;" alone on the first line (Excel may quote it, or pad it with delimiters when re-saving).
_SEP_LINE = re.compile(r'\A\ufeff?"?sep=([^\r\n"])"?[^\r\n]*(\r\n|\n|\r)', re.IGNORECASE)


@dataclass(frozen=True)
class TableStart:
    """Where the table starts.

    Attributes:
        head: the sample of the text from the table's first line on (header or data).
        skip: the records the reader skips before the header's last line (or the first data line).
        delimiter: the field separator (chosen, named by a ``sep=`` line, or detected).
        raw_header: the header candidate: the first record, or the header rows joined.
        header: True when the header is certain (several header rows); None to decide as usual.
    """

    head: str
    skip: int
    delimiter: str
    raw_header: list[object]
    header: bool | None = None


def locate_table(
    head: str, options: ImportOptions, *, quote: str, delimiter: str | None = None, prefer_tab: bool = False
) -> TableStart:
    """Find the table in the first megabyte of a delimited text (see the module docstring).

    Args:
        head: the start of the text.
        options: the import options (delimiter, ``skip_rows``, ``header_rows``).
        quote: the quote character.
        delimiter: fixed by the caller, overriding the options and detection.
        prefer_tab: the file is named ``.tsv``.
    """
    skip = 0
    if declared := _SEP_LINE.match(head):
        # Excel's "sep=;" first line names the delimiter (Excel writes it, and reads it back).
        head, skip = head[declared.end() :], 1
        if delimiter is None and options.delimiter is None:
            delimiter = declared.group(1)
    head, skip = _skip_blank_lines(head, skip)
    if options.skip_rows:
        # Lines above the table (a title, notes), as the user counted them.
        head, skip = _after_records(head, options.skip_rows, quote), skip + options.skip_rows
        head, skip = _skip_blank_lines(head, skip)
    if delimiter is None:
        delimiter = (
            check_single_char("delimiter", options.delimiter)
            if options.delimiter is not None
            else detect_delimiter(head, quote=quote, prefer_tab=prefer_tab)
        )
    if options.header_rows == 1:
        return TableStart(head, skip, delimiter, list(first_record(head, delimiter, quote)))
    # A header over several rows: one name per column from all of them; the reader skips the rows
    # above the last one and takes that one as its header line.
    records = first_records(head, delimiter, quote, options.header_rows)
    upper = [_trim_empty(record) for record in records[:-1]]
    raw_header: list[object] = list(join_header_rows([*upper, records[-1]])) if records else []
    return TableStart(head, skip + max(0, len(records) - 1), delimiter, raw_header, header=True)


def without_bom(path: Path, scratch: Path) -> Path:
    """A copy of a UTF-8 text without its byte order mark.

    DuckDB's reader misreads skipped lines after a byte order mark when they hold quotes, so a file
    with one is copied when lines are skipped (only then).
    """
    target = scratch / "source-nobom.txt"
    with open(path, "rb") as source, open(target, "wb") as out:
        source.seek(len("\ufeff".encode()))
        shutil.copyfileobj(source, out, 8 << 20)
    return target


def _skip_blank_lines(head: str, skip: int) -> tuple[str, int]:
    """Blank lines above the table: the reader skips them like any line above it."""
    blank = _BLANK_LINES.match(head)
    if blank is None:
        return head, skip
    return head[blank.end() :], skip + len(_LINE_BREAK.findall(blank.group()))


def _after_records(text: str, count: int, quote: str) -> str:
    """``text`` without its first ``count`` records (a quoted field may span lines)."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(iter(lines), quotechar=quote, strict=False)
    try:
        for _ in range(count):
            next(reader)
    except (StopIteration, csv.Error):
        return ""
    return "".join(lines[reader.line_num :])


def _trim_empty(record: list[str]) -> list[str]:
    while record and not record[-1].strip():
        record = record[:-1]
    return record
