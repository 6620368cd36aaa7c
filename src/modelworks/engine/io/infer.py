"""Type inference for text columns, and header detection, on a sample of the file.

DuckDB's casts are lenient (``CAST('1.5' AS BIGINT)`` is 2, ``'0x10'`` is 16, ``'yes'`` is true), which
is fine for a value a user typed in a filter but not for deciding what a column *is*. A column is
given a type only when every sampled value is written the way that type is normally written (see the
patterns below) *and* DuckDB can cast it. Values further down the file that break the inferred type
are caught while importing and widen the column (see ``csv_import``).

Besides the plain notations, the ones spreadsheets export are recognised, each only when a whole
column is written that way: ``1.234,56`` (decimal comma, as French or German Excel writes with a
``;`` delimiter), ``1,234,567`` (thousands separators), ``31/01/2024`` or
``01/31/2024`` (when at least one day above 12 settles which is which) and ``31.01.2024``; text
written ``="00123"`` (so that Excel keeps the leading zeros) is stored without the wrapper. Spaces
around a value (``1, 2.5``) do not keep it from being a number, a date or a boolean; text keeps them. A lone
``-`` is read as missing in a column that is otherwise numbers, dates or booleans (spreadsheets
write it for "no value"); in a text column it stays text. Integers beyond 64 bits become exact
decimals (up to 38 digits), never rounded floats. ``yes``/``no`` stays text: in a target column
those are class labels, and an override to boolean reads them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import duckdb

__all__ = ["TEXT_FORMATS", "ColumnGuess", "infer_columns", "long_integers_note", "widen"]

INT_PATTERN = r"[+-]?(0|[1-9][0-9]*)"
FLOAT_PATTERN = r"[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIMESTAMP_PATTERN = DATE_PATTERN + r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
TIMESTAMPTZ_PATTERN = TIMESTAMP_PATTERN + r" ?(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)"
#: ``1.234,56``: dots group thousands, the comma is the decimal mark.
DECIMAL_COMMA_PATTERN = r"[+-]?([1-9][0-9]{0,2}(\.[0-9]{3})+|0|[1-9][0-9]*)(,[0-9]+)?"
#: ``1,234,567.89``: commas group thousands, the dot is the decimal mark.
GROUPED_INT_PATTERN = r"[+-]?([1-9][0-9]{0,2}(,[0-9]{3})+|0|[1-9][0-9]*)"
GROUPED_PATTERN = GROUPED_INT_PATTERN + r"(\.[0-9]+)?"
_DAY = r"(0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(0?[1-9]|1[0-2])"
US_DATE_PATTERN = _MONTH + "/" + _DAY + "/[0-9]{4}"
EU_DATE_PATTERN = _DAY + "/" + _MONTH + "/[0-9]{4}"
DOT_DATE_PATTERN = _DAY + r"\." + _MONTH + r"\.[0-9]{4}"
BOOL_PATTERN = r"(?i)true|false"
#: ``="00123"``: how exports make Excel keep a value as text (leading zeros, long numbers).
EXCEL_TEXT_PATTERN = r'="[^"]*"'
#: The text format of a column whose every value is written ``="…"``: stored without the wrapper.
EXCEL_TEXT = "excel_text"
#: Cell texts read as missing in a typed column (not in a text column).
MISSING_MARKS = ("-",)

#: How a column written in a non-plain notation is read: ``name -> (pattern, strptime format)``. The
#: SQL that converts each is in ``columns``; ``plain`` means the type's usual notation (with ``-`` read
#: as missing).
TEXT_FORMATS: dict[str, tuple[str, str | None]] = {
    "decimal_comma": (DECIMAL_COMMA_PATTERN, None),
    "grouped": (GROUPED_PATTERN, None),
    "us_date": (US_DATE_PATTERN, "%m/%d/%Y"),
    "eu_date": (EU_DATE_PATTERN, "%d/%m/%Y"),
    "dot_date": (DOT_DATE_PATTERN, "%d.%m.%Y"),
}

#: Integers beyond this cannot travel through a DOUBLE exactly (2**53).
EXACT_DOUBLE_INT = 2**53
#: Integers beyond 64 bits are stored exactly as this type (38 digits at most).
BIG_INTEGER = "DECIMAL(38,0)"


@dataclass(frozen=True)
class ColumnGuess:
    """The inferred type of one sampled column.

    Attributes:
        duckdb_type: ``BOOLEAN``, ``BIGINT``, ``DECIMAL(38,0)``, ``DOUBLE``, ``DATE``, ``TIMESTAMP``,
            ``TIMESTAMPTZ`` or ``VARCHAR``.
        max_abs: for ``BIGINT``, the largest absolute value sampled.
        text_format: None for the usual notation read by DuckDB's reader, ``plain`` for the usual
            notation with ``-`` as missing, else a key of :data:`TEXT_FORMATS`.
        values: how many sampled cells (below the header) hold a value.
        long_integers: the column holds integers of more than 38 digits, kept as text.
    """

    duckdb_type: str
    max_abs: float = 0.0
    text_format: str | None = None
    values: int = 0
    long_integers: bool = False


def long_integers_note(column: str, digits: int | None = None) -> str:
    """The warning for a column of integers too long for an exact number (CSV and JSON alike)."""
    up_to = f" (up to {digits})" if digits is not None else ""
    return (
        f"column {column!r} holds integers of more than 38 digits{up_to}, too long for an exact number; it "
        "was imported as text so that no digit is lost"
    )


@dataclass
class _Counts:
    """How many sampled values of a column are written like each type (see the query below)."""

    n: int = 0
    dashes: int = 0
    bools: int = 0
    ints: int = 0
    bigints: int = 0
    int38: int = 0
    floats: int = 0
    dates: int = 0
    timestamps: int = 0
    timestamptzs: int = 0
    decimal_comma: int = 0
    decimal_comma_marks: int = 0
    grouped: int = 0
    grouped_marks: int = 0
    grouped_points: int = 0
    us_date: int = 0
    eu_date: int = 0
    dot_date: int = 0
    excel_text: int = 0
    padded: int = 0
    max_abs: float = 0.0

    def add(self, other: _Counts) -> _Counts:
        values = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        values["max_abs"] = max(self.max_abs, other.max_abs)
        return _Counts(**values)

    def guess(self, delimiter: str = ",") -> ColumnGuess:
        guess = self._guess(delimiter)
        if self.padded and guess.duckdb_type != "VARCHAR" and guess.text_format is None:
            # Values with spaces around them (" 2.5", as "a, b" files have): read as text and trimmed.
            return replace(guess, text_format="plain")
        return guess

    def _guess(self, delimiter: str) -> ColumnGuess:
        m = self.n - self.dashes  # the values that are not missing marks
        if m == 0:
            return ColumnGuess("VARCHAR")
        plain = "plain" if self.dashes else None
        if self.bools == m:
            return ColumnGuess("BOOLEAN", text_format=plain)
        if self.ints == m:
            if self.bigints == m:
                return ColumnGuess("BIGINT", self.max_abs, plain)
            return (
                ColumnGuess(BIG_INTEGER, text_format="plain")
                if self.int38 == m
                else ColumnGuess("VARCHAR", long_integers=True)
            )
        if self.floats == m:
            return ColumnGuess("DOUBLE", text_format=plain)
        if self.dates == m:
            return ColumnGuess("DATE", text_format=plain)
        if self.timestamps and self.timestamps + self.dates == m:
            return ColumnGuess("TIMESTAMP", text_format=plain)
        if not self.dashes and self.timestamptzs and self.timestamptzs + self.timestamps + self.dates == m:
            return ColumnGuess("TIMESTAMPTZ")
        return self._spreadsheet_notation(m, delimiter)

    def _spreadsheet_notation(self, m: int, delimiter: str) -> ColumnGuess:
        comma_decimals = self.decimal_comma == m and self.decimal_comma_marks > 0
        grouped = self.grouped == m and self.grouped_marks > 0
        if comma_decimals and grouped:
            # Only values such as 1,234: a comma-delimited file writes thousands this way, a
            # semicolon-delimited one decimals; with another delimiter nothing tells, so keep text.
            comma_decimals, grouped = delimiter == ";", delimiter == ","
        if comma_decimals:
            return ColumnGuess("DOUBLE", text_format="decimal_comma")
        if grouped:
            return ColumnGuess("DOUBLE" if self.grouped_points else "BIGINT", text_format="grouped")
        if self.us_date == m and self.eu_date < m:
            return ColumnGuess("DATE", text_format="us_date")
        if self.eu_date == m and self.us_date < m:
            return ColumnGuess("DATE", text_format="eu_date")
        if self.dot_date == m:
            return ColumnGuess("DATE", text_format="dot_date")
        if self.excel_text == m and not self.dashes:
            return ColumnGuess("VARCHAR", text_format=EXCEL_TEXT)
        return ColumnGuess("VARCHAR")

    def fits(self, guess: ColumnGuess) -> bool:
        """Whether a single value (this row's counts) fits the guess; a null or ``-`` fits anything."""
        m = self.n - self.dashes
        if m == 0:
            return True
        if guess.text_format in TEXT_FORMATS:
            return int(getattr(self, guess.text_format)) == m
        return {
            "BOOLEAN": self.bools,
            "BIGINT": self.bigints,
            BIG_INTEGER: self.int38,
            "DOUBLE": self.floats,
            "DATE": self.dates,
            "TIMESTAMP": self.timestamps + self.dates,
            "TIMESTAMPTZ": self.timestamptzs + self.timestamps + self.dates,
        }.get(guess.duckdb_type, m) == m


def infer_columns(
    con: duckdb.DuckDBPyConnection,
    sample_table: str,
    columns: Sequence[str],
    *,
    header: bool | None,
    delimiter: str = ",",
) -> tuple[list[ColumnGuess], bool]:
    """Infer column types from a sample table and decide whether its first row is a header.

    Args:
        con: the connection holding the table.
        sample_table: a table with VARCHAR columns ``columns`` and a ``__mw_row`` row number (1-based).
        columns: the sampled column names, in order.
        header: True/False when the user said so; None to detect.
        delimiter: the file's delimiter (it settles whether ``1,234`` is a thousand or a decimal).

    Returns:
        One guess per column, and whether the first row is a header. The first row is a header when
        one of its values does not fit the type of the values below it (a word above numbers), or when
        every column is text, where nothing can tell and a header is the common case.
    """
    rest = {name: _Counts() for name in columns}
    first = {name: _Counts() for name in columns}
    rows = con.execute(
        f"""
        SELECT col, __mw_row = 1,
               count(*),
               count_if(list_contains($missing, trim(v))),
               count_if(regexp_full_match(v, $bool)),
               count_if(regexp_full_match(v, $int)),
               count_if(regexp_full_match(v, $int) AND TRY_CAST(v AS BIGINT) IS NOT NULL),
               count_if(regexp_full_match(v, $int) AND length(ltrim(v, '+-')) <= 38),
               count_if(regexp_full_match(v, $float) AND TRY_CAST(v AS DOUBLE) IS NOT NULL),
               count_if(regexp_full_match(v, $date) AND TRY_CAST(v AS DATE) IS NOT NULL),
               count_if(regexp_full_match(v, $ts) AND TRY_CAST(v AS TIMESTAMP) IS NOT NULL),
               count_if(regexp_full_match(v, $tstz) AND TRY_CAST(v AS TIMESTAMPTZ) IS NOT NULL),
               count_if(regexp_full_match(v, $dc)),
               count_if(regexp_full_match(v, $dc) AND contains(v, ',')),
               count_if(regexp_full_match(v, $grouped)),
               count_if(regexp_full_match(v, $grouped) AND contains(v, ',')),
               count_if(regexp_full_match(v, $grouped) AND contains(v, '.')),
               count_if(regexp_full_match(v, $us) AND try_strptime(v, '%m/%d/%Y') IS NOT NULL),
               count_if(regexp_full_match(v, $eu) AND try_strptime(v, '%d/%m/%Y') IS NOT NULL),
               count_if(regexp_full_match(v, $dot) AND try_strptime(v, '%d.%m.%Y') IS NOT NULL),
               count_if(regexp_full_match(v, $xt)),
               count_if(padded),
               coalesce(max(abs(TRY_CAST(v AS DOUBLE))) FILTER (regexp_full_match(v, $int)), 0)
        FROM (
            SELECT col, __mw_row, trim(raw) AS v, raw <> trim(raw) AS padded
            FROM (UNPIVOT {sample_table} ON COLUMNS(* EXCLUDE (__mw_row)) INTO NAME col VALUE raw)
        )
        GROUP BY ALL
        """,  # noqa: S608 - the table name is generated by the caller, values are parameters
        {
            "missing": list(MISSING_MARKS),
            "bool": BOOL_PATTERN,
            "int": INT_PATTERN,
            "float": FLOAT_PATTERN,
            "date": DATE_PATTERN,
            "ts": TIMESTAMP_PATTERN,
            "tstz": TIMESTAMPTZ_PATTERN,
            "dc": DECIMAL_COMMA_PATTERN,
            "grouped": GROUPED_PATTERN,
            "us": US_DATE_PATTERN,
            "eu": EU_DATE_PATTERN,
            "dot": DOT_DATE_PATTERN,
            "xt": EXCEL_TEXT_PATTERN,
        },
    ).fetchall()
    count_names = [f.name for f in fields(_Counts) if f.name != "max_abs"]
    for col, is_first, *counts in rows:
        target = first if is_first else rest
        values: dict[str, Any] = {name: int(c) for name, c in zip(count_names, counts[:-1], strict=True)}
        target[col] = _Counts(**values, max_abs=float(counts[-1]))
    guesses_rest = {name: replace(rest[name].guess(delimiter), values=rest[name].n) for name in columns}
    if header is None:
        typed = [name for name in columns if guesses_rest[name].duckdb_type != "VARCHAR"]
        if typed:
            header = any(not first[name].fits(guesses_rest[name]) for name in typed)
        else:
            header = True
    if header:
        return [guesses_rest[name] for name in columns], True
    merged = {name: rest[name].add(first[name]) for name in columns}
    return [replace(merged[name].guess(delimiter), values=merged[name].n) for name in columns], False


def widen(duckdb_type: str, value: str) -> str:
    """The type a column moves to when ``value`` (text from the file) does not fit ``duckdb_type``."""
    text = value.strip()
    if duckdb_type == "BIGINT" and re.fullmatch(INT_PATTERN, text) and len(text.lstrip("+-")) <= 38:
        return BIG_INTEGER  # beyond 64 bits: exact, not a rounded float
    if duckdb_type == "BIGINT" and re.fullmatch(FLOAT_PATTERN, text):
        # A BIGINT column read as DOUBLE reports refused values as DuckDB prints doubles, so a huge
        # integer arrives as 9.223372036854776e+18: keep such values exact too.
        number = float(text)
        if math.isfinite(number) and number == math.trunc(number) and abs(number) >= EXACT_DOUBLE_INT:
            return BIG_INTEGER
        return "DOUBLE"
    if duckdb_type == "DATE" and re.fullmatch(TIMESTAMP_PATTERN, text):
        return "TIMESTAMP"
    if duckdb_type in ("DATE", "TIMESTAMP") and re.fullmatch(TIMESTAMPTZ_PATTERN, text):
        return "TIMESTAMPTZ"
    return "VARCHAR"
