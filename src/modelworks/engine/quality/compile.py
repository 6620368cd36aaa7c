"""Check each rule against the version's schema and turn it into SQL, before anything runs.

A rule that names a missing column, a bound that does not fit the column type, a regex that does not
compile or a custom condition the guard refuses fails here with :class:`InvalidRuleError`, so that a
broken rule never costs a pass over the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from modelworks.engine.duck import quote_identifier
from modelworks.engine.errors import did_you_mean
from modelworks.engine.io.duck_errors import first_line
from modelworks.engine.io.schema import ColumnSchema
from modelworks.engine.quality.errors import InvalidRuleError
from modelworks.engine.quality.rules import (
    AllowedValues,
    CustomSql,
    Freshness,
    NotNull,
    Range,
    Regex,
    RowCount,
    Rule,
    Unique,
)
from modelworks.engine.quality.sql_guard import validate_expression

__all__ = ["Check", "compile_rule"]

_ORDERABLE = {"integer", "float", "decimal", "string", "date", "timestamp", "time"}
_CASTS = {"float": "DOUBLE", "string": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP", "time": "TIME", "boolean": "BOOLEAN"}  # fmt: skip


@dataclass
class Check:
    """A rule made ready to run: the predicate that is true for a failing row, and its parameters."""

    rule: Rule
    fail_sql: str | None = None  # predicate true for a failing row
    columns: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


def compile_rule(
    index: int, rule: Rule, schema: Sequence[ColumnSchema], con: duckdb.DuckDBPyConnection, path: str
) -> Check:
    """Validate rule number ``index`` against the version's schema and build its SQL.

    Raises:
        InvalidRuleError: the rule cannot run as written; the message names the rule by position.
    """
    where = f"rule {index + 1} ({rule.kind})"
    if isinstance(rule, NotNull):
        column = _column(rule.column, schema, where)
        return Check(rule, f"{quote_identifier(column.name)} IS NULL", (column.name,))
    if isinstance(rule, Unique):
        if not rule.columns:
            raise InvalidRuleError(f"{where}: name at least one column")
        columns = [_column(name, schema, where) for name in rule.columns]
        for column in columns:
            if column.type in ("nested", "binary", "other"):
                raise InvalidRuleError(
                    f"{where}: column {column.name!r} holds {column.type} values and cannot be a key"
                )
        return Check(rule, None, tuple(c.name for c in columns))
    if isinstance(rule, Range):
        column = _column(rule.column, schema, where)
        if column.type not in _ORDERABLE:
            raise InvalidRuleError(
                f"{where}: column {column.name!r} holds {column.type} values, which have no order"
            )
        if rule.min is None and rule.max is None:
            raise InvalidRuleError(f"{where}: give a minimum, a maximum or both")
        cast = _cast(column)
        q = quote_identifier(column.name)
        parts, params = [], {}
        for bound, op, value in (("lo", "<", rule.min), ("hi", ">", rule.max)):
            if value is not None:
                _check_fits(con, value, cast, column, where)
                params[f"r{index}{bound}"] = value
                parts.append(f"{q} {op} CAST($r{index}{bound} AS {cast})")
        if rule.min is not None and rule.max is not None:
            ordered = con.execute(
                f"SELECT CAST($a AS {cast}) <= CAST($b AS {cast})", {"a": rule.min, "b": rule.max}
            ).fetchone()
            if not ordered or not ordered[0]:
                raise InvalidRuleError(
                    f"{where}: the minimum {rule.min!r} is greater than the maximum {rule.max!r}"
                )
        return Check(rule, " OR ".join(parts), (column.name,), params)
    if isinstance(rule, AllowedValues):
        column = _column(rule.column, schema, where)
        if not rule.values:
            raise InvalidRuleError(f"{where}: list at least one allowed value")
        cast = _cast(column)
        for value in rule.values:
            _check_fits(con, value, cast, column, where)
        q = quote_identifier(column.name)
        params = {f"r{index}v": [str(v) for v in rule.values]}
        return Check(
            rule,
            f"{q} IS NOT NULL AND NOT list_contains(CAST($r{index}v AS {cast}[]), {q})",
            (column.name,),
            params,
        )
    if isinstance(rule, Regex):
        column = _column(rule.column, schema, where)
        try:
            con.execute("SELECT regexp_full_match('', $p)", {"p": rule.pattern}).fetchall()
        except duckdb.Error as exc:
            raise InvalidRuleError(
                f"{where}: the pattern {rule.pattern!r} is not a valid regular expression ({first_line(str(exc))})"
            ) from exc
        q = f"CAST({quote_identifier(column.name)} AS VARCHAR)"
        return Check(
            rule,
            f"{q} IS NOT NULL AND NOT regexp_full_match({q}, $r{index}p)",
            (column.name,),
            {f"r{index}p": rule.pattern},
        )
    if isinstance(rule, RowCount):
        if rule.min is None and rule.max is None:
            raise InvalidRuleError(f"{where}: give a minimum, a maximum or both")
        if rule.min is not None and rule.max is not None and rule.min > rule.max:
            raise InvalidRuleError(f"{where}: the minimum {rule.min} is greater than the maximum {rule.max}")
        return Check(rule)
    if isinstance(rule, Freshness):
        column = _column(rule.column, schema, where)
        if column.type not in ("date", "timestamp"):
            raise InvalidRuleError(
                f"{where}: freshness needs a date or timestamp column; {column.name!r} holds {column.type} values"
            )
        if not rule.max_age_hours > 0:
            raise InvalidRuleError(f"{where}: the maximum age must be a positive number of hours")
        return Check(rule, None, (column.name,))
    if isinstance(rule, CustomSql):
        sql, used = validate_expression(rule.expression, [c.name for c in schema])
        try:
            # ``sql`` was regenerated by DuckDB from a checked syntax tree (see sql_guard).
            query = f"DESCRIBE SELECT ({sql}) AS ok FROM read_parquet($p)"  # noqa: S608
            described = con.execute(query, {"p": path}).fetchall()
        except duckdb.Error as exc:
            raise InvalidRuleError(
                f"{where}: the condition cannot be evaluated: {first_line(str(exc))}"
            ) from exc
        if str(described[0][1]).upper() != "BOOLEAN":
            raise InvalidRuleError(
                f"{where}: the condition must be true or false for each row, but it gives {described[0][1]} values"
            )
        return Check(rule, f"NOT coalesce(({sql}), false)", used)
    raise InvalidRuleError(f"{where}: unknown rule {rule!r}")


def _column(name: str, schema: Sequence[ColumnSchema], where: str) -> ColumnSchema:
    for column in schema:
        if column.name == name:
            return column
    names = [c.name for c in schema]
    raise InvalidRuleError(
        f"{where}: the dataset has no column {name!r}{did_you_mean(name, names)}", column=name
    )


def _cast(column: ColumnSchema) -> str:
    if column.type in ("integer", "decimal"):
        return "DOUBLE" if column.type == "decimal" else "BIGINT"
    return _CASTS.get(column.type, "VARCHAR")


def _check_fits(
    con: duckdb.DuckDBPyConnection, value: Any, cast: str, column: ColumnSchema, where: str
) -> None:
    ok = con.execute(f"SELECT TRY_CAST($v AS {cast}) IS NOT NULL", {"v": value}).fetchone()
    if value is None or not ok or not ok[0]:
        raise InvalidRuleError(
            f"{where}: {value!r} is not a valid {column.type} value for column {column.name!r}"
        )
