"""Structured filters and sort keys, turned into SQL with every value bound as a parameter.

Users never write SQL here: a filter is ``(column, operator, value)``. The column must exist in the
dataset version (it is then quoted), the operator must be one of :data:`OPERATORS`, and the value is
checked against the column's type before the query runs, so a typo gives a message about the value,
not a SQL error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelworks.engine.duck import quote_identifier
from modelworks.engine.errors import did_you_mean
from modelworks.engine.explore.errors import InvalidFilterError, InvalidSortError, UnknownColumnError
from modelworks.engine.io.schema import ColumnSchema

if TYPE_CHECKING:
    import duckdb

__all__ = ["OPERATORS", "Filter", "Sort", "resolve_column", "sort_sql", "where_sql"]

#: Operator → what it means. Text matching operators ignore case.
OPERATORS: dict[str, str] = {
    "eq": "equals",
    "ne": "differs from",
    "lt": "less than",
    "le": "less than or equal to",
    "gt": "greater than",
    "ge": "greater than or equal to",
    "between": "between two values (inclusive)",
    "in": "one of a list",
    "not_in": "none of a list",
    "contains": "text contains (ignoring case)",
    "starts_with": "text starts with (ignoring case)",
    "ends_with": "text ends with (ignoring case)",
    "is_null": "is empty",
    "not_null": "is not empty",
}

_ALIASES = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_COMPARE = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_TEXT = {"contains", "starts_with", "ends_with"}
_MAX_LIST = 1000
_SCALAR_CASTS = {
    "integer": None,  # the physical integer type, checked below
    "float": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
}
_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
_DECIMAL = re.compile(r"DECIMAL\(\d{1,2},\d{1,2}\)")


@dataclass(frozen=True)
class Filter:
    """Keep rows where ``column <op> value``.

    Attributes:
        column: a column of the dataset version.
        op: one of :data:`OPERATORS` (or ``= != < <= > >=``).
        value: a scalar; a list for ``in``/``not_in``; a pair for ``between``; unused for null tests.
    """

    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Sort:
    """Order rows by ``column`` (nulls last)."""

    column: str
    ascending: bool = True


def resolve_column(name: str, schema: Sequence[ColumnSchema], role: str) -> ColumnSchema:
    """The schema entry for ``name`` (exact, else case-insensitive), or :class:`UnknownColumnError`."""
    for column in schema:
        if column.name == name:
            return column
    for column in schema:
        if column.name.lower() == name.lower():
            return column
    names = [c.name for c in schema]
    raise UnknownColumnError(
        f"{role} uses column {name!r}, which this dataset version does not have{did_you_mean(name, names)}",
        column=name,
    )


def where_sql(
    con: duckdb.DuckDBPyConnection,
    filters: Sequence[Filter | tuple[Any, ...]],
    schema: Sequence[ColumnSchema],
) -> tuple[str, dict[str, Any]]:
    """A ``WHERE`` clause (or ``""``) and its parameters for all filters (combined with AND)."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for number, raw in enumerate(filters):
        flt = raw if isinstance(raw, Filter) else Filter(*raw)
        op = _ALIASES.get(flt.op, flt.op)
        if op not in OPERATORS:
            raise InvalidFilterError(
                f"filter on {flt.column!r}: operator {flt.op!r} is unknown{did_you_mean(str(flt.op), OPERATORS)}; "
                f"use one of {', '.join(OPERATORS)}",
                column=flt.column,
                op=flt.op,
            )
        column = resolve_column(flt.column, schema, "a filter")
        ident = quote_identifier(column.name)
        key = f"f{number}"
        if op == "is_null":
            clauses.append(f"{ident} IS NULL")
            continue
        if op == "not_null":
            clauses.append(f"{ident} IS NOT NULL")
            continue
        if op in _TEXT:
            params[key] = _text_value(flt)
            function = {"contains": "contains", "starts_with": "starts_with", "ends_with": "ends_with"}[op]
            clauses.append(f"{function}(lower(CAST({ident} AS VARCHAR)), lower(${key}))")
            continue
        cast = _cast_type(column, flt)
        if op in ("in", "not_in"):
            values = _list_value(flt)
            for value in values:
                _check_fits(con, value, cast, flt, column)
            # One element type for the list parameter: text, cast to the column type in SQL.
            params[key] = [str(v) for v in values]
            negate = "NOT " if op == "not_in" else ""
            clauses.append(f"{negate}list_contains(CAST(${key} AS {cast}[]), {ident})")
        elif op == "between":
            low, high = _pair_value(flt)
            _check_fits(con, low, cast, flt, column)
            _check_fits(con, high, cast, flt, column)
            params[f"{key}a"], params[f"{key}b"] = low, high
            clauses.append(f"{ident} BETWEEN CAST(${key}a AS {cast}) AND CAST(${key}b AS {cast})")
        else:
            _check_fits(con, flt.value, cast, flt, column)
            params[key] = flt.value
            clauses.append(f"{ident} {_COMPARE[op]} CAST(${key} AS {cast})")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def sort_sql(sort: Sequence[Sort | tuple[Any, ...]], schema: Sequence[ColumnSchema]) -> list[str]:
    """``ORDER BY`` terms for the sort keys (nulls last)."""
    terms = []
    for raw in sort:
        key = raw if isinstance(raw, Sort) else Sort(*raw)
        column = resolve_column(key.column, schema, "the sort")
        if column.type in ("nested", "binary", "other"):
            raise InvalidSortError(
                f"column {column.name!r} holds {column.type} values, which cannot be sorted; sort by another column",
                column=column.name,
            )
        terms.append(f"{quote_identifier(column.name)} {'ASC' if key.ascending else 'DESC'} NULLS LAST")
    return terms


def _cast_type(column: ColumnSchema, flt: Filter) -> str:
    physical = column.physical_type.upper()
    if column.type == "integer" and physical in _INTEGER_TYPES:
        return physical
    if column.type == "decimal" and _DECIMAL.fullmatch(physical.replace(" ", "")):
        return physical.replace(" ", "")
    cast = _SCALAR_CASTS.get(column.type)
    if cast is None:
        raise InvalidFilterError(
            f"column {column.name!r} holds {column.type} values; only 'is_null' and 'not_null' filters apply to it",
            column=column.name,
        )
    return cast


def _check_fits(
    con: duckdb.DuckDBPyConnection, value: Any, cast: str, flt: Filter, column: ColumnSchema
) -> None:
    if value is None:
        raise InvalidFilterError(
            f"filter on {column.name!r} has no value; use 'is_null' to find empty cells", column=column.name
        )
    ok = con.execute(f"SELECT TRY_CAST($v AS {cast}) IS NOT NULL", {"v": value}).fetchone()
    if not ok or not ok[0]:
        raise InvalidFilterError(
            f"filter on {column.name!r}: {value!r} is not a valid {column.type} value",
            column=column.name,
            value=str(value),
        )


def _text_value(flt: Filter) -> str:
    if not isinstance(flt.value, str) or not flt.value:
        raise InvalidFilterError(
            f"filter {flt.op!r} on {flt.column!r} needs a non-empty text value", column=flt.column
        )
    return flt.value


def _list_value(flt: Filter) -> list[Any]:
    if not isinstance(flt.value, list | tuple | set | frozenset) or not flt.value:
        raise InvalidFilterError(
            f"filter {flt.op!r} on {flt.column!r} needs a non-empty list of values", column=flt.column
        )
    if len(flt.value) > _MAX_LIST:
        raise InvalidFilterError(
            f"filter {flt.op!r} on {flt.column!r} lists {len(flt.value)} values; the limit is {_MAX_LIST}",
            column=flt.column,
        )
    return list(flt.value)


def _pair_value(flt: Filter) -> tuple[Any, Any]:
    if not isinstance(flt.value, list | tuple) or len(flt.value) != 2:
        raise InvalidFilterError(
            f"filter 'between' on {flt.column!r} needs two values: [low, high]", column=flt.column
        )
    return flt.value[0], flt.value[1]
