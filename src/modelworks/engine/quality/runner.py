"""Run quality rules against a dataset version: one pass for all row rules, then small follow-ups.

Every rule is checked before anything runs (columns exist, bounds fit the column type, regexes
compile, custom conditions pass :mod:`~modelworks.engine.quality.sql_guard` and are boolean), so a
broken rule fails fast with its own message. Then one aggregate query counts, for every row-level
rule, the rows that break it, and gets the row count and the latest timestamps; ``unique`` needs a
GROUP BY of its own; and only the rules that failed fetch a sample of their failing rows (the query
stops after ``sample_size`` rows).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from modelworks.engine.duck import connect, quote_identifier, run_with_timeout
from modelworks.engine.io.duck_errors import first_line
from modelworks.engine.io.schema import ColumnSchema, read_schema
from modelworks.engine.profiling.model import json_value
from modelworks.engine.quality.compile import Check, compile_rule
from modelworks.engine.quality.errors import QualityError, RuleTimeoutError
from modelworks.engine.quality.rules import (
    Freshness,
    RowCount,
    Rule,
    Unique,
    describe,
    rule_from_dict,
)

__all__ = ["FailingRow", "RuleResult", "run_rules"]

_MAX_SAMPLE = 20
_SHOWN_COLUMNS = 50


@dataclass(frozen=True)
class FailingRow:
    """A row that breaks a rule: its 1-based position in the version and its values."""

    row_number: int | None
    values: dict[str, Any]


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule.

    Attributes:
        rule: the rule.
        description: the rule in words.
        passed: whether it holds.
        failing_count: rows that break it (0 or 1 for dataset-level rules).
        failing_rows: up to ``sample_size`` of those rows.
        observed: what was measured (row count, latest timestamp…), for dataset-level rules.
        message: one sentence for the user.
    """

    rule: Rule
    description: str
    passed: bool
    failing_count: int
    failing_rows: tuple[FailingRow, ...] = ()
    observed: Any = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the rule as its JSON form)."""
        rule = {"kind": self.rule.kind, **{k: json_value(v) for k, v in self.rule.__dict__.items()}}
        return {
            "rule": rule,
            "description": self.description,
            "passed": self.passed,
            "failing_count": self.failing_count,
            "failing_rows": [
                {"row_number": r.row_number, "values": json_value(r.values)} for r in self.failing_rows
            ],
            "observed": json_value(self.observed),
            "message": self.message,
        }


def run_rules(
    version_path: str | os.PathLike[str],
    rules: Sequence[Rule | Mapping[str, Any]],
    *,
    now: dt.datetime | None = None,
    sample_size: int = _MAX_SAMPLE,
    timeout_seconds: float | None = 300.0,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> list[RuleResult]:
    """Check ``rules`` against a dataset version; one result per rule, in order.

    Args:
        version_path: the version's Parquet file.
        rules: rule objects or their JSON form (``{"kind": "not_null", "column": "id"}``).
        now: the reference time for freshness rules (default: now, UTC).
        sample_size: failing rows kept per rule (at most 20).
        timeout_seconds: stop after this long (:class:`RuleTimeoutError`).
        threads, memory_limit: DuckDB resources.

    Raises:
        InvalidRuleError: a rule cannot be run as written (nothing was run).
        RuleTimeoutError: the checks took too long.
    """
    parsed = [r if not isinstance(r, Mapping) else rule_from_dict(r) for r in rules]
    reference = _utc_naive(now or dt.datetime.now(dt.UTC))
    sample_size = max(0, min(sample_size, _MAX_SAMPLE))
    schema = read_schema(version_path)
    path = os.path.abspath(version_path)
    con = connect(read=[path], threads=threads, memory_limit=memory_limit)
    try:
        checks = [compile_rule(index, rule, schema, con, path) for index, rule in enumerate(parsed)]

        def work() -> list[RuleResult]:
            return _run(con, path, schema, checks, reference, sample_size)

        def too_slow() -> RuleTimeoutError:
            return RuleTimeoutError(
                f"checking the rules took longer than {timeout_seconds} s and was stopped"
            )

        return run_with_timeout(con, timeout_seconds, work, too_slow)
    except duckdb.Error as exc:
        raise QualityError(f"the rules could not be checked: {first_line(str(exc))}") from exc
    finally:
        con.close()


# -- running ---------------------------------------------------------------------------------------


def _run(
    con: duckdb.DuckDBPyConnection,
    path: str,
    schema: Sequence[ColumnSchema],
    checks: list[Check],
    now: dt.datetime,
    sample_size: int,
) -> list[RuleResult]:
    params: dict[str, Any] = {"p": path}
    terms = ["count(*)"]
    for index, check in enumerate(checks):
        params.update(check.params)
        if check.fail_sql is not None:
            terms.append(f"count_if({check.fail_sql})")
        elif isinstance(check.rule, Freshness):
            terms.append(f"max({quote_identifier(check.columns[0])})")
        else:
            terms.append(f"NULL AS unused{index}")
    row = con.execute(f"SELECT {', '.join(terms)} FROM read_parquet($p)", params).fetchone()  # noqa: S608
    assert row is not None
    total = int(row[0])
    results = []
    for index, check in enumerate(checks):
        measured = row[index + 1]
        rule = check.rule
        if isinstance(rule, RowCount):
            ok = (rule.min is None or total >= rule.min) and (rule.max is None or total <= rule.max)
            results.append(RuleResult(rule, describe(rule), ok, 0 if ok else 1, observed=total,
                                      message=f"{total:,} rows" + ("" if ok else f", outside [{rule.min}, {rule.max}]")))  # fmt: skip
        elif isinstance(rule, Freshness):
            results.append(_freshness(rule, measured, now))
        elif isinstance(rule, Unique):
            results.append(_unique(con, path, schema, check, sample_size))
        else:
            failing = int(measured or 0)
            sample = _sample(con, path, schema, check, sample_size) if failing else ()
            message = "passed" if not failing else f"{failing:,} of {total:,} rows break the rule"
            results.append(RuleResult(rule, describe(rule), failing == 0, failing, sample, message=message))
    return results


def _freshness(rule: Freshness, latest: Any, now: dt.datetime) -> RuleResult:
    if latest is None:
        return RuleResult(rule, describe(rule), False, 1, message=f"{rule.column!r} has no values")
    if isinstance(latest, dt.datetime):
        moment = latest
    else:  # a date counts as fresh until the end of that day
        moment = dt.datetime.combine(latest, dt.time(0)) + dt.timedelta(days=1)
    age_hours = (now - moment).total_seconds() / 3600
    ok = age_hours <= rule.max_age_hours
    message = f"latest value {latest} is {max(age_hours, 0):.1f} h old" + (
        "" if ok else f" (limit {rule.max_age_hours:g} h)"
    )
    return RuleResult(rule, describe(rule), ok, 0 if ok else 1, observed=latest, message=message)


def _unique(
    con: duckdb.DuckDBPyConnection, path: str, schema: Sequence[ColumnSchema], check: Check, sample_size: int
) -> RuleResult:
    keys = [quote_identifier(c) for c in check.columns]
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    dups = f"SELECT {', '.join(keys)}, count(*) AS n FROM read_parquet($p) WHERE {not_null} GROUP BY ALL HAVING count(*) > 1"  # noqa: S608
    row = con.execute(f"SELECT count(*), coalesce(sum(n), 0) FROM ({dups})", {"p": path}).fetchone()  # noqa: S608
    groups, failing = (int(row[0]), int(row[1])) if row else (0, 0)
    sample: tuple[FailingRow, ...] = ()
    if failing and sample_size:
        shown = _shown_columns(schema, check.columns)
        numbered = not any(c.name.lower() == "file_row_number" for c in schema)
        source = "read_parquet($p, file_row_number = true)" if numbered else "read_parquet($p)"
        join = " AND ".join(f"t.{k} = d.{k}" for k in keys)
        rows = con.execute(
            f"SELECT {'t.file_row_number' if numbered else 'NULL'}, {', '.join('t.' + quote_identifier(c) for c in shown)} "  # noqa: S608
            f"FROM {source} t JOIN (SELECT {', '.join(keys)} FROM ({dups}) ORDER BY ALL LIMIT {sample_size}) d ON {join} "
            f"ORDER BY {', '.join('t.' + k for k in keys)}{', t.file_row_number' if numbered else ''} LIMIT {sample_size}",
            {"p": path},
        ).fetchall()
        sample = tuple(_failing_row(r, shown) for r in rows)
    message = "passed" if not failing else f"{failing:,} rows share {groups:,} duplicated key(s)"
    return RuleResult(check.rule, describe(check.rule), failing == 0, failing, sample, message=message)


def _sample(
    con: duckdb.DuckDBPyConnection,
    path: str,
    schema: Sequence[ColumnSchema],
    check: Check,
    sample_size: int,
) -> tuple[FailingRow, ...]:
    if not sample_size:
        return ()
    shown = _shown_columns(schema, check.columns)
    numbered = not any(c.name.lower() == "file_row_number" for c in schema)
    source = "read_parquet($p, file_row_number = true)" if numbered else "read_parquet($p)"
    # No ORDER BY: the scan keeps file order and stops after the first failing rows.
    rows = con.execute(
        f"SELECT {'file_row_number' if numbered else 'NULL'}, {', '.join(quote_identifier(c) for c in shown)} "  # noqa: S608
        f"FROM {source} WHERE {check.fail_sql} LIMIT {sample_size}",
        {**check.params, "p": path},
    ).fetchall()
    return tuple(_failing_row(r, shown) for r in rows)


def _shown_columns(schema: Sequence[ColumnSchema], involved: Sequence[str]) -> list[str]:
    names = list(involved) + [c.name for c in schema if c.name not in involved]
    return names[:_SHOWN_COLUMNS]


def _failing_row(row: tuple[Any, ...], shown: list[str]) -> FailingRow:
    number = int(row[0]) + 1 if row[0] is not None else None
    return FailingRow(number, dict(zip(shown, row[1:], strict=True)))


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)
