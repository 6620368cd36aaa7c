"""Data quality rules: small frozen descriptions that the runner turns into SQL.

Row-level rules (not null, range, allowed values, regex, custom condition) count the rows that break
them; ``unique`` counts the rows whose key is shared with another row; dataset-level rules (row count,
freshness) pass or fail as a whole. Null cells pass every rule except :class:`NotNull` (and keys with
a null are ignored by :class:`Unique`, as in SQL), so that each rule tests one thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelworks.engine.quality.errors import InvalidRuleError

__all__ = [
    "RULE_KINDS",
    "AllowedValues",
    "CustomSql",
    "Freshness",
    "NotNull",
    "Range",
    "Regex",
    "RowCount",
    "Rule",
    "Unique",
    "describe",
    "rule_from_dict",
]


@dataclass(frozen=True)
class NotNull:
    """Every row has a value in ``column``."""

    column: str
    kind = "not_null"


@dataclass(frozen=True)
class Unique:
    """No two rows share the same values in ``columns`` (rows with a null in the key are ignored)."""

    columns: tuple[str, ...]
    kind = "unique"


@dataclass(frozen=True)
class Range:
    """``min <= column <= max`` (either bound may be omitted). Numbers, dates, timestamps or text."""

    column: str
    min: Any = None
    max: Any = None
    kind = "range"


@dataclass(frozen=True)
class AllowedValues:
    """``column`` only holds values from ``values``."""

    column: str
    values: tuple[Any, ...]
    kind = "allowed_values"


@dataclass(frozen=True)
class Regex:
    """Every text value of ``column`` matches ``pattern`` entirely (RE2 syntax)."""

    column: str
    pattern: str
    kind = "regex"


@dataclass(frozen=True)
class RowCount:
    """The number of rows is within ``[min, max]`` (either bound may be omitted)."""

    min: int | None = None
    max: int | None = None
    kind = "row_count"


@dataclass(frozen=True)
class Freshness:
    """The latest value of a date/timestamp ``column`` is at most ``max_age_hours`` before ``now``."""

    column: str
    max_age_hours: float
    kind = "freshness"


@dataclass(frozen=True)
class CustomSql:
    """A boolean SQL condition every row must satisfy, e.g. ``end_date >= start_date``.

    Only a single expression over the dataset's columns is accepted (see ``sql_guard``); a row where
    it is false *or null* fails.
    """

    expression: str
    kind = "custom_sql"


Rule = NotNull | Unique | Range | AllowedValues | Regex | RowCount | Freshness | CustomSql

RULE_KINDS: dict[str, type[Rule]] = {
    "not_null": NotNull,
    "unique": Unique,
    "range": Range,
    "allowed_values": AllowedValues,
    "regex": Regex,
    "row_count": RowCount,
    "freshness": Freshness,
    "custom_sql": CustomSql,
}


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    """Build a rule from its JSON form, e.g. ``{"kind": "range", "column": "age", "min": 0}``.

    Raises:
        InvalidRuleError: unknown kind, or missing/unknown fields.
    """
    kind = data.get("kind")
    if kind not in RULE_KINDS:
        raise InvalidRuleError(
            f"rule kind {kind!r} is unknown; use one of {', '.join(RULE_KINDS)}", kind=str(kind)
        )
    fields = {k: v for k, v in data.items() if k != "kind"}
    if kind == "unique" and isinstance(fields.get("columns"), str):
        fields["columns"] = (fields["columns"],)
    for key in ("columns", "values"):
        if isinstance(fields.get(key), list):
            fields[key] = tuple(fields[key])
    try:
        return RULE_KINDS[kind](**fields)
    except TypeError as exc:
        raise InvalidRuleError(f"rule {kind!r} is malformed: {exc}", kind=kind) from exc


def describe(rule: Rule) -> str:
    """A one-line description of a rule, for results and logs."""
    if isinstance(rule, NotNull):
        return f"{rule.column} is never empty"
    if isinstance(rule, Unique):
        return f"{', '.join(rule.columns)} is unique"
    if isinstance(rule, Range):
        return f"{rule.column} within [{_show(rule.min)}, {_show(rule.max)}]"
    if isinstance(rule, AllowedValues):
        return f"{rule.column} in {list(rule.values)[:10]}{'…' if len(rule.values) > 10 else ''}"
    if isinstance(rule, Regex):
        return f"{rule.column} matches /{rule.pattern}/"
    if isinstance(rule, RowCount):
        return f"row count within [{_show(rule.min)}, {_show(rule.max)}]"
    if isinstance(rule, Freshness):
        return f"latest {rule.column} at most {rule.max_age_hours:g} h old"
    return f"custom: {rule.expression}"


def _show(value: Any) -> str:
    if value is None:
        return "…"
    return value.isoformat() if isinstance(value, dt.date) else str(value)
