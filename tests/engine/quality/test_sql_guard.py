"""The custom SQL guard, and the locked connection behind it: paranoid on purpose."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from modelworks.engine.duck import connect
from modelworks.engine.quality import CustomSql, UnsafeExpressionError, run_rules, validate_expression

COLUMNS = ["amount", "currency", "created_at", "shipped_at"]


@pytest.mark.parametrize(
    ("expression", "match"),
    [
        ("(SELECT count(*) FROM read_csv('/etc/passwd')) > 0", r"may not use subqueries"),
        ("amount > 0 FROM read_csv('/etc/passwd')", r"may not read from tables or files"),
        ("read_csv('/etc/passwd') IS NULL", r"may not call 'read_csv'"),
        ("length(read_text('/etc/passwd')) > 0", r"may not call 'read_text'"),
        ("read_parquet('/data/other.parquet') IS NULL", r"may not call 'read_parquet'"),
        ("len(glob('/etc/*')) > 0", r"may not call 'glob'"),
        ("getenv('HOME') = ''", r"may not call 'getenv'"),
        ("current_setting('allowed_paths') IS NULL", r"may not call 'current_setting'"),
        ("main.lower(currency) = 'eur'", r"may not call 'lower'"),
        ("amount > 0; COPY (SELECT 1) TO '/tmp/x'", r"contains ';'"),
        ("currency = ';'", r"contains ';'"),
        ("amount > 0 UNION SELECT 1", r"only a plain expression is allowed"),
        ("EXISTS (SELECT 1)", r"may not use subqueries"),
        ("amount IN (SELECT 1)", r"may not use subqueries"),
        ("sum(amount) > 0", r"may not call 'sum'"),
        ("count(*) > 0", r"may not call 'count_star'|may not use"),
        ("row_number() OVER () > 1", r"may not use window functions"),
        (
            "list_any_value(list_transform([1], x -> x + amount)) > 0",
            r"may not use lambda functions|may not call",
        ),
        ("amount > $1", r"may not use parameters"),
        ("COLUMNS('a.*') > 0", r"may not use \* or COLUMNS"),
        ("amont > 0", r"uses column 'amont'.*did you mean 'amount'"),
        ("t.amount > 0", r"without a table prefix"),
        ("amount > 0 WHERE 1 = 1", r"may not contain a WHERE clause"),
        ("amount > 0 GROUP BY amount", r"may not contain GROUP BY"),
        ("amount > 0 ORDER BY 1", r"may not contain GROUP BY, ORDER BY, LIMIT or DISTINCT"),
        ("amount > 0, currency = 'x'", r"write one condition"),
        ("amount >", r"not valid SQL"),
        ("", r"the condition is empty"),
        ("amount > 0 AND " * 200 + "true", r"characters long; the limit is 2000"),
    ],
)
def test_unsafe_or_invalid_expressions_are_refused(expression: str, match: str) -> None:
    with pytest.raises(UnsafeExpressionError, match=match):
        validate_expression(expression, COLUMNS)


@pytest.mark.parametrize(
    ("expression", "canonical"),
    [
        ("amount >= 0 AND currency IN ('EUR', 'USD')", "((amount >= 0) AND (currency IN ('EUR', 'USD')))"),
        ("shipped_at > created_at -- the rest is a comment", "(shipped_at > created_at)"),
        ("upper(currency) = currency /* a comment */", "(upper(currency) = currency)"),
        ("CASE WHEN amount > 100 THEN currency = 'EUR' ELSE true END", None),
        ("created_at > now() - INTERVAL 3 DAY", None),
        ("regexp_matches(currency, '^[A-Z]+$') AND amount BETWEEN 1 AND 10", None),
    ],
)
def test_safe_expressions_are_canonicalised(expression: str, canonical: str | None) -> None:
    sql, used = validate_expression(expression, COLUMNS)
    assert "--" not in sql and "/*" not in sql
    if canonical is not None:
        assert sql == canonical
    assert set(used) <= set(COLUMNS) and used


def test_a_comment_cannot_swallow_the_rest_of_the_query(tmp_path: Path) -> None:
    path = tmp_path / "v.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS amount FROM range(10)) TO '{path}' (FORMAT parquet)")  # noqa: S608
    (result,) = run_rules(path, [CustomSql("amount < 5 --")])
    assert result.failing_count == 5


def test_the_connection_itself_refuses_other_files(tmp_path: Path) -> None:
    allowed = tmp_path / "v.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS a) TO '{allowed}' (FORMAT parquet)")
    con = connect(read=[allowed])
    assert con.execute("SELECT a FROM read_parquet($p)", {"p": str(allowed)}).fetchall() == [(1,)]
    for query in [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
        f"ATTACH '{tmp_path / 'x.db'}'",
        "INSTALL httpfs",
        "LOAD httpfs",
    ]:
        with pytest.raises(duckdb.Error):
            con.execute(query)
    with pytest.raises(duckdb.Error, match="locked"):
        con.execute("SET enable_external_access = true")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "x.db").exists()
