"""Read DuckDB's reader errors into facts (line, column, value) the import can act on.

DuckDB's messages are made for a SQL console; these patterns pick out the facts so that the import
can raise one of its own errors with a message written for the person who uploaded the file. A
message nothing matches still becomes a clear :class:`DatasetImportError` carrying DuckDB's first line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GUARD_MARK", "NUL_MARK", "ReaderProblem", "first_line", "parse_reader_error", "shorten"]

#: Prefix of the errors raised by our own SQL guards: ``error(GUARD_MARK || idx || '\x1f' || value)``.
GUARD_MARK = "mw-bad-value\x1f"
#: The error raised by the NUL-byte guard of text columns.
NUL_MARK = "mw-nul-byte"

_LINE = re.compile(r"CSV Error on Line: (\d+)")
_JSON_LINE = re.compile(r"in line (\d+)")
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_CONVERT = re.compile(
    r'Error when converting column "(.*?)"\. Could not convert string "(.*?)" to', re.DOTALL
)
_QUOTED_PATH = re.compile(r"""(["'])/[^"']*\1""")
_GUARD = re.compile(re.escape(GUARD_MARK) + r"(\d+)\x1f(.*)", re.DOTALL)


@dataclass(frozen=True)
class ReaderProblem:
    """One failure reported by DuckDB while reading a file.

    Attributes:
        kind: ``nul`` (a NUL byte), ``ragged``, ``convert`` (a value the reader could not parse as the column's type),
            ``guard`` (a value our SQL guard refused), ``unicode``, ``quote``, ``line_size``,
            ``json``, ``corrupt`` or ``other``.
        line: line (record) number in the file, when known.
        column: column name (``convert``) or index as text (``guard``).
        value: the offending text, shortened.
        expected, found: field counts for ``ragged``.
        text: DuckDB's first message line.
    """

    kind: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    expected: int | None = None
    found: int | None = None
    text: str = ""


def parse_reader_error(message: str) -> ReaderProblem:
    """Classify a DuckDB error message."""
    line_match = _LINE.search(message)
    line = int(line_match.group(1)) if line_match else None
    text = first_line(message)
    if NUL_MARK in message or "\x00" in message:
        return ReaderProblem("nul", line=line, text=text)
    if guard := _GUARD.search(message):
        return ReaderProblem("guard", column=guard.group(1), value=guard.group(2), text=text)
    if fields := _FIELDS.search(message):
        return ReaderProblem(
            "ragged", line=line, expected=int(fields.group(1)), found=int(fields.group(2)), text=text
        )
    if convert := _CONVERT.search(message):
        return ReaderProblem("convert", line=line, column=convert.group(1), value=convert.group(2), text=text)
    if "Invalid unicode" in message or "invalid unicode" in message:
        return ReaderProblem("unicode", line=line, text=text)
    if "unterminated quote" in message:
        return ReaderProblem("quote", line=line, text=text)
    if "Maximum line size" in message or "maximum line size" in message:
        return ReaderProblem("line_size", line=line, text=text)
    if "Malformed JSON" in message or "JSON" in text:
        json_line = _JSON_LINE.search(message)
        return ReaderProblem("json", line=int(json_line.group(1)) if json_line else None, text=text)
    lowered = message.lower()
    if "parquet" in lowered or "footer" in lowered or "magic" in lowered:
        return ReaderProblem("corrupt", text=text)
    return ReaderProblem("other", line=line, text=text)


def first_line(message: str, label: str | None = None) -> str:
    """The first line of a DuckDB message, without its ``Invalid Input Error:`` style prefix.

    Server paths quoted in the message are replaced by ``label`` (the user's file name) or by
    ``the file``: users must not see where the server keeps files.
    """
    head = message.strip().splitlines()[0] if message.strip() else "unknown error"
    head = re.sub(r"^[A-Za-z ]+Error: ", "", head)
    head = _QUOTED_PATH.sub(lambda m: m.group(1) + (label or "the file") + m.group(1), head)
    return shorten(head, 300)


def shorten(text: str, limit: int = 80) -> str:
    """Cut a value for a message (values can be megabytes long)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
