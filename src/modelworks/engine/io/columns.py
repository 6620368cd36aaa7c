"""How each column of an import is read and converted: a :class:`ColumnPlan` per column.

A plan turns into two pieces of SQL: the type DuckDB's reader parses the column as, and the select
expression that produces the stored value. Integer columns go through a guard, because DuckDB's
reader would otherwise round ``1.5`` to ``2`` in a column it was told is ``BIGINT``; the guard raises
an error tagged with :data:`~modelworks.engine.io.duck_errors.GUARD_MARK` instead, and the import
widens the column (inferred types) or reports the value (types the user chose).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modelworks.engine.duck import quote_identifier
from modelworks.engine.errors import did_you_mean
from modelworks.engine.io.duck_errors import GUARD_MARK, NUL_MARK
from modelworks.engine.io.errors import InvalidImportOptionError
from modelworks.engine.io.infer import (
    BIG_INTEGER,
    BOOL_PATTERN,
    DATE_PATTERN,
    EXACT_DOUBLE_INT,
    EXCEL_TEXT,
    EXCEL_TEXT_PATTERN,
    FLOAT_PATTERN,
    GROUPED_INT_PATTERN,
    INT_PATTERN,
    MISSING_MARKS,
    TEXT_FORMATS,
    TIMESTAMP_PATTERN,
)
from modelworks.engine.io.schema import physical_type_for

__all__ = ["PLAIN_TYPES", "ColumnPlan", "empty_guard", "fits_plain", "resolve_overrides", "select_list"]

_LOOSE_INT = r"\s*[+-]?[0-9]+\s*"

# The usual notation of each type a ``plain`` text format can hold (see ``infer``).
_PLAIN_PATTERNS = {
    "BOOLEAN": BOOL_PATTERN,
    "BIGINT": INT_PATTERN,
    BIG_INTEGER: INT_PATTERN,
    "DOUBLE": FLOAT_PATTERN,
    "DATE": DATE_PATTERN,
    "TIMESTAMP": f"({TIMESTAMP_PATTERN})|({DATE_PATTERN})",
}
#: Types whose text can be read in the ``plain`` format (with ``-`` as missing).
PLAIN_TYPES = frozenset(_PLAIN_PATTERNS)


@dataclass
class ColumnPlan:
    """How one column is read.

    Attributes:
        name: the stored column name.
        target: the stored DuckDB type.
        origin: ``inferred`` (from a sample: may widen), ``override`` (chosen by the user: a value that
            does not fit is an error) or ``exact`` (known from the source, e.g. Excel cell types).
        max_abs: largest absolute value seen in the sample (integers).
        source: the name the reader gives the column, when it differs from ``name``.
        typed_source: the reader already produces typed values (JSON, Parquet); an override is then
            applied with a cast whose failures are refused, not by the reader.
        text_format: how the text is written when the reader cannot parse it itself (see
            :data:`~modelworks.engine.io.infer.TEXT_FORMATS`; ``plain``: the usual notation with
            ``-`` as missing). The column is then read as text and converted by the select.
        dropped: the column is read but not stored (an unnamed last column that looked empty, as
            written by a delimiter at the end of every line); :func:`empty_guard` refuses a value in it.
    """

    name: str
    target: str
    origin: str = "inferred"
    max_abs: float = 0.0
    source: str | None = None
    typed_source: bool = False
    text_format: str | None = None
    dropped: bool = False

    @property
    def read_type(self) -> str:
        """The type the reader parses the raw text as."""
        if self.typed_source:
            return self.target
        if self.text_format is not None or self.target == BIG_INTEGER:
            return "VARCHAR"
        if self.target == "TIMESTAMPTZ":
            return "VARCHAR"  # the reader can drop offsets; an explicit cast applies them
        if self.origin == "exact":
            return self.target
        if self.target == "BIGINT":
            inferred_small = self.origin == "inferred" and self.max_abs < EXACT_DOUBLE_INT
            return "DOUBLE" if inferred_small else "VARCHAR"
        if self.target == "DATE":
            return "TIMESTAMP"  # the reader would silently drop a time of day from a DATE
        return self.target

    def select_sql(self, index: int) -> str:
        """The select expression producing the stored value, aliased to ``name``."""
        column = quote_identifier(self.source or self.name)
        alias = quote_identifier(self.name)
        refuse = f"error('{GUARD_MARK[:-1]}' || chr(31) || '{index}' || chr(31) || CAST({column} AS VARCHAR))"
        stored = self.target
        value = f"CAST({column} AS {stored})"
        if self.text_format == EXCEL_TEXT and self.origin != "override":
            # ="00123" → 00123; a value written otherwise further down is kept as it is.
            return (
                f"CASE WHEN strpos({column}, chr(0)) > 0 THEN error('{NUL_MARK}') "
                f"WHEN regexp_full_match({column}, '{EXCEL_TEXT_PATTERN}') "
                f"THEN substr({column}, 3, length({column}) - 3) ELSE {column} END AS {alias}"
            )
        if not self.typed_source and self.origin != "override" and self.read_type == "VARCHAR":
            converted = self._converted_text(column)
            if converted is not None:
                missing = ", ".join(f"'{mark}'" for mark in MISSING_MARKS)
                return (
                    f"CASE WHEN {column} IS NULL OR trim({column}) IN ({missing}) THEN NULL "
                    f"WHEN {converted} IS NOT NULL THEN {converted} ELSE {refuse} END AS {alias}"
                )
        if self.typed_source and self.origin == "override":
            fits = f"TRY_CAST({column} AS {stored}) IS NOT NULL"
        elif self.target == "TIMESTAMPTZ":
            # Stored as UTC wall-clock time (the connection runs in UTC).
            value = f"CAST(CAST({column} AS TIMESTAMPTZ) AS TIMESTAMP)"
            if self.typed_source:
                return f"CAST({column} AS TIMESTAMP) AS {alias}"
            fits = f"TRY_CAST({column} AS TIMESTAMPTZ) IS NOT NULL"
        elif self.target == "VARCHAR" and not self.typed_source:
            # DuckDB keeps NUL bytes inside strings; text files must not have any. Checking here costs
            # a memchr per value inside the one pass, instead of a separate pass over the file.
            return f"CASE WHEN strpos({column}, chr(0)) > 0 THEN error('{NUL_MARK}') ELSE {column} END AS {alias}"
        elif self.read_type == self.target:
            return f"{column} AS {alias}" if self.source else column
        elif self.target == "BIGINT" and self.read_type == "DOUBLE":
            # A double equal to 2**53 may have been read from 2**53 + 1: only smaller ones are exact.
            fits = f"{column} = trunc({column}) AND abs({column}) < {EXACT_DOUBLE_INT}"
        elif self.target == "BIGINT" and self.origin == "inferred":
            fits = f"CAST(TRY_CAST({column} AS BIGINT) AS VARCHAR) = {column}"
        elif self.target == "BIGINT":
            fits = f"regexp_full_match({column}, '{_LOOSE_INT}') AND TRY_CAST({column} AS BIGINT) IS NOT NULL"
        elif self.target == "DATE":
            fits = f"{column} = date_trunc('day', {column})"
        else:
            return f"{column} AS {alias}" if self.source else column
        return f"CASE WHEN {column} IS NULL THEN NULL WHEN {fits} THEN {value} ELSE {refuse} END AS {alias}"

    def _converted_text(self, column: str) -> str | None:
        """SQL giving the typed value of a text column in its text format, NULL when it does not fit."""
        fmt = self.text_format or "plain"
        column = f"trim({column})"  # spaces around a value (" 2.5") do not make it text
        if fmt == "plain":
            pattern = _PLAIN_PATTERNS.get(self.target)
            if pattern is None:
                return None
            cast = f"TRY_CAST({column} AS {self.target})"
        else:
            pattern, strptime_format = TEXT_FORMATS[fmt]
            if fmt == "grouped" and self.target == "BIGINT":
                pattern = GROUPED_INT_PATTERN  # TRY_CAST('1234.5' AS BIGINT) would round
            if strptime_format is not None:
                cast = f"CAST(try_strptime({column}, '{strptime_format}') AS DATE)"
            elif fmt == "decimal_comma":
                cast = f"TRY_CAST(replace(replace({column}, '.', ''), ',', '.') AS {self.target})"
            else:  # grouped
                cast = f"TRY_CAST(replace({column}, ',', '') AS {self.target})"
        # The patterns are constants of this package (no quote in them), never user text.
        return f"(CASE WHEN regexp_full_match({column}, '{pattern}') THEN {cast} END)"


def fits_plain(duckdb_type: str, text: str) -> bool:
    """Whether ``text`` is written the usual way for ``duckdb_type`` (the ``plain`` text format)."""
    pattern = _PLAIN_PATTERNS.get(duckdb_type)
    return pattern is not None and re.fullmatch(pattern, text) is not None


def select_list(plans: Sequence[ColumnPlan]) -> str:
    """The select list of all plans that are not dropped, in order."""
    return ", ".join(plan.select_sql(index) for index, plan in enumerate(plans) if not plan.dropped)


def empty_guard(plans: Sequence[ColumnPlan]) -> str:
    """A ``WHERE`` clause refusing a value in a dropped column (empty text when none is dropped)."""
    checks = []
    for index, plan in enumerate(plans):
        if plan.dropped:
            column = quote_identifier(plan.name)
            refuse = f"error('{GUARD_MARK[:-1]}' || chr(31) || '{index}' || chr(31) || {column})"
            checks.append(f"(CASE WHEN {column} IS NULL OR trim({column}) = '' THEN true ELSE {refuse} END)")
    return f" WHERE {' AND '.join(checks)}" if checks else ""


def resolve_overrides(names: Sequence[str], types: Mapping[str, str]) -> dict[int, str]:
    """Map user type overrides (column name → logical type) to column positions and DuckDB types.

    Names match exactly, else case-insensitively.

    Raises:
        InvalidImportOptionError: an override names a column the file does not have, or an unknown type.
    """
    exact = {name: index for index, name in enumerate(names)}
    folded = {name.lower(): index for index, name in enumerate(names)}
    resolved: dict[int, str] = {}
    for column, logical in types.items():
        index = exact.get(column, folded.get(column.lower()))
        if index is None:
            raise InvalidImportOptionError(
                f"a type was chosen for column {column!r}, but the file has no such column"
                f"{did_you_mean(column, names)}",
                column=column,
            )
        resolved[index] = physical_type_for(column, logical)
    return resolved
