"""Type inference for text columns, and header detection, on a sample of the file.

DuckDB's casts are lenient (``CAST('1.5' AS BIGINT)`` is 2, ``'0x10'`` is 16, ``'yes'`` is true), which
is fine for a value a user typed in a filter but not for deciding what a column *is*. A column is
given a type only when every sampled value is written the way that type is normally written (see the
patterns below) *and* DuckDB can cast it. Values further down the file that break the inferred type
are caught while importing and widen the column (see ``csv_import``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

__all__ = ["ColumnGuess", "infer_columns", "widen"]

INT_PATTERN = r"[+-]?(0|[1-9][0-9]*)"
FLOAT_PATTERN = r"[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIMESTAMP_PATTERN = DATE_PATTERN + r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
TIMESTAMPTZ_PATTERN = TIMESTAMP_PATTERN + r" ?(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)"

#: Integers beyond this cannot travel through a DOUBLE exactly (2**53).
EXACT_DOUBLE_INT = 2**53


@dataclass(frozen=True)
class ColumnGuess:
    """The inferred type of one sampled column.

    Attributes:
        duckdb_type: ``BOOLEAN``, ``BIGINT``, ``DOUBLE``, ``DATE``, ``TIMESTAMP``, ``TIMESTAMPTZ`` or
            ``VARCHAR``.
        max_abs: for ``BIGINT``, the largest absolute value sampled.
    """

    duckdb_type: str
    max_abs: float = 0.0


@dataclass
class _Counts:
    n: int = 0
    bools: int = 0
    ints: int = 0
    floats: int = 0
    dates: int = 0
    timestamps: int = 0
    timestamptzs: int = 0
    max_abs: float = 0.0

    def add(self, other: _Counts) -> _Counts:
        return _Counts(
            n=self.n + other.n,
            bools=self.bools + other.bools,
            ints=self.ints + other.ints,
            floats=self.floats + other.floats,
            dates=self.dates + other.dates,
            timestamps=self.timestamps + other.timestamps,
            timestamptzs=self.timestamptzs + other.timestamptzs,
            max_abs=max(self.max_abs, other.max_abs),
        )

    def guess(self) -> ColumnGuess:
        if self.n == 0:
            return ColumnGuess("VARCHAR")
        if self.bools == self.n:
            return ColumnGuess("BOOLEAN")
        if self.ints == self.n:
            return ColumnGuess("BIGINT", self.max_abs)
        if self.floats == self.n:
            return ColumnGuess("DOUBLE")
        if self.dates == self.n:
            return ColumnGuess("DATE")
        if self.timestamps and self.timestamps + self.dates == self.n:
            return ColumnGuess("TIMESTAMP")
        if self.timestamptzs and self.timestamptzs + self.timestamps + self.dates == self.n:
            return ColumnGuess("TIMESTAMPTZ")
        return ColumnGuess("VARCHAR")

    def fits(self, duckdb_type: str) -> bool:
        """Whether a single value (this row's counts) fits the type; a null fits anything."""
        if self.n == 0:
            return True
        return {
            "BOOLEAN": self.bools,
            "BIGINT": self.ints,
            "DOUBLE": self.floats,
            "DATE": self.dates,
            "TIMESTAMP": self.timestamps + self.dates,
            "TIMESTAMPTZ": self.timestamptzs + self.timestamps + self.dates,
        }.get(duckdb_type, 1) == self.n


def infer_columns(
    con: duckdb.DuckDBPyConnection, sample_table: str, columns: Sequence[str], *, header: bool | None
) -> tuple[list[ColumnGuess], bool]:
    """Infer column types from a sample table and decide whether its first row is a header.

    Args:
        con: the connection holding the table.
        sample_table: a table with VARCHAR columns ``columns`` and a ``__mw_row`` row number (1-based).
        columns: the sampled column names, in order.
        header: True/False when the user said so; None to detect.

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
               count_if(lower(v) IN ('true', 'false')),
               count_if(regexp_full_match(v, $int)),
               count_if(regexp_full_match(v, $float) AND TRY_CAST(v AS DOUBLE) IS NOT NULL),
               count_if(regexp_full_match(v, $date) AND TRY_CAST(v AS DATE) IS NOT NULL),
               count_if(regexp_full_match(v, $ts) AND TRY_CAST(v AS TIMESTAMP) IS NOT NULL),
               count_if(regexp_full_match(v, $tstz) AND TRY_CAST(v AS TIMESTAMPTZ) IS NOT NULL),
               coalesce(max(abs(TRY_CAST(v AS DOUBLE))) FILTER (regexp_full_match(v, $int)), 0)
        FROM (UNPIVOT {sample_table} ON COLUMNS(* EXCLUDE (__mw_row)) INTO NAME col VALUE v)
        GROUP BY ALL
        """,  # noqa: S608 - the table name is generated by the caller, values are parameters
        {
            "int": INT_PATTERN,
            "float": FLOAT_PATTERN,
            "date": DATE_PATTERN,
            "ts": TIMESTAMP_PATTERN,
            "tstz": TIMESTAMPTZ_PATTERN,
        },
    ).fetchall()
    for col, is_first, n, bools, ints, floats, dates, timestamps, timestamptzs, max_abs in rows:
        target = first if is_first else rest
        target[col] = _Counts(
            int(n),
            int(bools),
            int(ints),
            int(floats),
            int(dates),
            int(timestamps),
            int(timestamptzs),
            float(max_abs),
        )
    guesses_rest = {name: rest[name].guess() for name in columns}
    if header is None:
        typed = [name for name in columns if guesses_rest[name].duckdb_type != "VARCHAR"]
        if typed:
            header = any(not first[name].fits(guesses_rest[name].duckdb_type) for name in typed)
        else:
            header = True
    if header:
        return [guesses_rest[name] for name in columns], True
    return [rest[name].add(first[name]).guess() for name in columns], False


def widen(duckdb_type: str, value: str) -> str:
    """The type a column moves to when ``value`` (text from the file) does not fit ``duckdb_type``."""
    text = value.strip()
    if duckdb_type == "BIGINT" and re.fullmatch(FLOAT_PATTERN, text):
        return "DOUBLE"
    if duckdb_type == "DATE" and re.fullmatch(TIMESTAMP_PATTERN, text):
        return "TIMESTAMP"
    if duckdb_type in ("DATE", "TIMESTAMP") and re.fullmatch(TIMESTAMPTZ_PATTERN, text):
        return "TIMESTAMPTZ"
    return "VARCHAR"
