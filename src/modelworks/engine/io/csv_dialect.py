"""Delimiter detection for delimited text, on the first megabyte of the file.

DuckDB has its own sniffer, but it gives up on (or silently misreads) exactly the files users need
help with, such as ragged ones. So the dialect is chosen here, where the rule is simple to state: the
candidate delimiter that splits the most records into the same number (> 1) of fields wins; then
DuckDB reads the file strictly with that dialect and reports any row that does not fit.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass

from modelworks.engine.io.errors import InvalidImportOptionError

__all__ = ["DELIMITERS", "CsvDialect", "detect_delimiter", "first_record", "first_records"]

#: Delimiters tried, in order of preference when two are equally good.
DELIMITERS = (",", ";", "\t", "|")

_SAMPLE_RECORDS = 500


@dataclass(frozen=True)
class CsvDialect:
    """How a delimited text file is written.

    Attributes:
        delimiter: field separator.
        quote: quote character (a quote inside a quoted field is written twice).
        header: whether the first record names the columns.
    """

    delimiter: str
    quote: str
    header: bool


def check_single_char(option: str, value: str) -> str:
    """Validate a one-character dialect option (delimiter, quote)."""
    if len(value) != 1 or value in "\r\n\x00":
        raise InvalidImportOptionError(
            f"{option} must be a single character other than a line break or NUL, not {value!r}",
            option=option,
            value=value,
        )
    return value


def detect_delimiter(text: str, *, quote: str = '"', prefer_tab: bool = False) -> str:
    """Pick the delimiter of a text sample (see the module docstring for the rule).

    Args:
        text: the start of the file, decoded.
        quote: the quote character.
        prefer_tab: the file is named ``.tsv``: choose tab whenever it splits records at all.
    """
    records_text = _complete_records(text)
    best = (",", (False, 0.0, 0))
    for delimiter in DELIMITERS:
        counts = [len(row) for row in _records(records_text, delimiter, quote) if row]
        if not counts:
            continue
        fields, seen = Counter(counts).most_common(1)[0]
        score = (fields > 1, seen / len(counts), fields)
        if prefer_tab and delimiter == "\t" and fields > 1:
            return "\t"
        if score > best[1]:
            best = (delimiter, score)
    return best[0]


def first_record(text: str, dialect_delimiter: str, quote: str) -> list[str]:
    """The fields of the first record of a text sample (the header candidate)."""
    for row in _records(_complete_records(text) or text, dialect_delimiter, quote):
        return row
    return []


def first_records(text: str, dialect_delimiter: str, quote: str, count: int) -> list[list[str]]:
    """The first ``count`` records of a text sample (fewer when the sample has fewer)."""
    return _records(_complete_records(text) or text, dialect_delimiter, quote)[:count]


def _complete_records(text: str) -> str:
    # The sample may stop in the middle of a record; drop the unfinished tail.
    cut = text.rfind("\n")
    return text[: cut + 1] if cut >= 0 else text


def _records(text: str, delimiter: str, quote: str) -> list[list[str]]:
    reader = csv.reader(
        io.StringIO(text), delimiter=delimiter, quotechar=quote, doublequote=True, strict=False
    )
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= _SAMPLE_RECORDS:
                break
    except csv.Error:
        pass  # an unbalanced quote in the sample: judge on the records read so far
    return rows
