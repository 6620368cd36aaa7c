"""The formula language: parsing, precedence, every function (run in DuckDB), errors and limits."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from modelworks.engine.duck import connect
from modelworks.engine.recipes.formula import (
    MAX_FORMULA_LENGTH,
    FormulaColumnError,
    FormulaError,
    analyze_formula,
    formula_columns,
    formula_functions,
    parse_formula,
)
from modelworks.engine.recipes.formula_functions import FUNCTIONS
from modelworks.engine.recipes.types import Column, MissingColumnError, RecipeSpecError, Relation

COLUMNS = {
    "x": "float",
    "n": "integer",
    "s": "string",
    "d": "date",
    "ts": "timestamp",
    "b": "boolean",
    "nothing": "integer",
    "unit price": "float",
    "code": "string",
}
RELATION = Relation("sample", tuple(Column(k, v) for k, v in COLUMNS.items()), exp.to_table("sample"))


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect()
    connection.execute(
        'CREATE TABLE sample (x DOUBLE, n BIGINT, s VARCHAR, d DATE, ts TIMESTAMP, b BOOLEAN, nothing BIGINT, "unit price" DOUBLE, code VARCHAR)'
    )
    connection.execute(
        "INSERT INTO sample VALUES (-2.5, 7, ' Hello World ', DATE '2024-03-15', TIMESTAMP '2024-03-15 10:30:45', true, NULL, 4.0, '12.5')"
    )
    yield connection
    connection.close()


def evaluate(con: duckdb.DuckDBPyConnection, text: str) -> Any:
    formula = analyze_formula(text, COLUMNS)
    query = exp.select(exp.alias_(formula.expression, "result")).from_("sample")
    row = con.execute(query.sql("duckdb")).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 ^ 3 ^ 2", 512.0),  # right-associative
        ("-2 ^ 2", -4.0),
        ("-n + 10", 3),
        ("7 / 2", 3.5),
        ("7 % 4 * 2", 6),
        ("n / 0", None),
        ("x % 2", -0.5),
        ("1 < 2 and 2 < 1 or true", True),
        ("not 1 > 2 and false", False),
        ("!(1 > 2) && !false", True),
        ("1 = 1 || 1 = 2", True),
        ("1 <> 1", False),
        ("1 != 2", True),
        ("1 == 1", True),
        ("'a' & 1 & true", "a1true"),
        ("'x' & nothing & 'y'", "xy"),
        ("nothing = null", True),
        ("n != null", True),
        ("[unit price] * `n`", 28.0),
        ("\"it's\" & 'say \"hi\"' & 'a''b' & 'tab\\there'", "it'ssay \"hi\"a'btab\there"),
        ("1.5e1 + .5", 15.5),
        ("d > '2024-01-01'", True),
        ("ts <= '2024-03-15 10:30:45'", True),
        ("TRUE AND True", True),
    ],
)
def test_operators_and_precedence(con, text, expected):
    assert evaluate(con, text) == expected


FUNCTION_CASES = [
    ("abs(x)", 2.5),
    ("round(x)", -3.0),
    ("round(2.675, 2)", 2.68),
    ("round(1234, -2)", 1200),
    ("floor(x)", -3),
    ("ceil(x)", -2),
    ("sign(x)", -1),
    ("sqrt(16)", 4.0),
    ("sqrt(x)", None),
    ("ln(exp(2))", 2.0),
    ("ln(0)", None),
    ("log10(1000)", 3.0),
    ("exp(0)", 1.0),
    ("pow(2, 10)", 1024.0),
    ("power(9, 0.5)", 3.0),
    ("min(3, n, 10)", 3),
    ("least(3, nothing)", 3),
    ("max(x, 1.5)", 1.5),
    ("greatest(d, '2025-01-01')", dt.date(2025, 1, 1)),
    ("len(s)", 13),
    ("length(n)", 1),
    ("lower(s)", " hello world "),
    ("upper(s)", " HELLO WORLD "),
    ("trim(s)", "Hello World"),
    ("ltrim(s)", "Hello World "),
    ("rtrim(s)", " Hello World"),
    ("substring(s, 2, 5)", "Hello"),
    ("substring(s, 8)", "World "),
    ("left(trim(s), 5)", "Hello"),
    ("right(trim(s), 5)", "World"),
    ("replace(s, 'o', '0')", " Hell0 W0rld "),
    ("contains(s, 'World')", True),
    ("contains(s, 'world')", False),
    ("startswith(trim(s), 'Hell')", True),
    ("endswith(s, 'd ')", True),
    ("endswith(s, 'x')", False),
    ("regex_match(s, '^\\s*H.*d\\s*$')", True),
    ("regex_extract(s, '(W\\w+)', 1)", "World"),
    ("regex_extract(s, 'Z+')", None),
    ("regex_replace(s, '\\s+', '_')", "_Hello_World_"),
    ("regex_replace(s, '(\\w+) (\\w+)', '\\2 \\1')", " World Hello "),
    ("concat(s, n, nothing, b)", " Hello World 7true"),
    ("to_number(code) * 2", 25.0),
    ("to_number(' -1e3 ')", -1000.0),
    ("to_number('12abc')", None),
    ("to_number(b)", 1.0),
    ("to_string(x)", "-2.5"),
    ("to_string(d)", "2024-03-15"),
    ("to_date('2024-02-29')", dt.date(2024, 2, 29)),
    ("to_date('15/03/2024', '%d/%m/%Y')", dt.date(2024, 3, 15)),
    ("to_date(ts)", dt.date(2024, 3, 15)),
    ("to_timestamp('2024-03-15 08:00:00')", dt.datetime(2024, 3, 15, 8)),
    ("to_timestamp('15.03.24 08:01', '%d.%m.%y %H:%M')", dt.datetime(2024, 3, 15, 8, 1)),
    ("year(d)", 2024),
    ("quarter(d)", 1),
    ("month(ts)", 3),
    ("day(d)", 15),
    ("weekday(d)", 5),
    ("hour(ts)", 10),
    ("hour(d)", 0),
    ("minute(ts)", 30),
    ("date_diff('day', d, ts)", 10.5 / 24 + 45 / 86400),
    ("date_diff('days', '2024-01-01', d)", 74.0),
    ("date_diff('week', '2024-03-01', d)", 2.0),
    ("date_diff('hour', d, ts)", 10 + 30 / 60 + 45 / 3600),
    ("date_diff('minute', ts, d)", -(10 * 60 + 30.75)),
    ("date_diff('second', d, ts)", 37845.0),
    ("date_diff('month', '2023-11-30', d)", 4),
    ("date_diff('year', '2020-12-31', d)", 4),
    ("date_add(d, 1, 'month')", dt.date(2024, 4, 15)),
    ("date_add(d, -15, 'day')", dt.date(2024, 2, 29)),
    ("date_add(ts, 90, 'minute')", dt.datetime(2024, 3, 15, 12, 0, 45)),
    ("date_add(d, 2, 'hour')", dt.datetime(2024, 3, 15, 2)),
    ("now() > '2024-01-01 00:00:00'", True),
    ("today() > '2024-01-01'", True),
    ("is_null(nothing)", True),
    ("is_not_null(nothing)", False),
    ("is_null(n)", False),
    ("coalesce(nothing, n, 0)", 7),
    ("if(n > 5, 'big', 'small')", "big"),
    ("if(nothing > 5, 'big')", None),
    ("if(b, 1, 2.5)", 1.0),
    ("case(n < 5, 'low', n < 10, 'mid', 'high')", "mid"),
    ("case(n > 100, 'huge')", None),
    ("in(n, 1, 7, 9)", True),
    ("in(s, 'a', 'b')", False),
]


@pytest.mark.parametrize(("text", "expected"), FUNCTION_CASES)
def test_functions(con, text, expected):
    result = evaluate(con, text)
    if isinstance(expected, float):
        assert result == pytest.approx(expected)
    else:
        assert result == expected


def test_every_function_is_tested():
    tested = {name for text, _ in FUNCTION_CASES for name in FUNCTIONS if f"{name}(" in text}
    assert set(FUNCTIONS) - tested == set()
    assert len(formula_functions()) == len(FUNCTIONS) >= 40


def test_types_are_inferred():
    assert analyze_formula("n + 1", COLUMNS).type == "integer"
    assert analyze_formula("n / 2", COLUMNS).type == "float"
    assert analyze_formula("n > 2", COLUMNS).type == "boolean"
    assert analyze_formula("s & n", COLUMNS).type == "string"
    assert analyze_formula("date_add(d, 1, 'day')", COLUMNS).type == "date"
    assert analyze_formula("if(b, d, ts)", COLUMNS).type == "timestamp"
    assert analyze_formula("null", COLUMNS).type == "null"


def test_portability_is_reported():
    assert analyze_formula("regex_extract(s, 'a')", COLUMNS).non_portable
    assert analyze_formula("to_date(s, '%Y-%m-%dT%H')", COLUMNS).non_portable
    assert not analyze_formula("to_date(s, '%Y-%m-%d')", COLUMNS).non_portable


BAD_FORMULAS = [
    ("lenght(s)", FormulaError, r"unknown function 'lenght' at position 1; did you mean 'length'\?"),
    ("1 + lenght(s)", FormulaError, "at position 5"),
    ("dep_dealy + 1", FormulaColumnError, r"unknown column 'dep_dealy' at position 1"),
    (
        "[Unit Price] * 2",
        MissingColumnError,
        r"unknown column 'Unit Price' at position 1; did you mean 'unit price'\?",
    ),
    ("now + 1", FormulaColumnError, r"did you mean the function now\(\)\?"),
    ("(1 + 2", FormulaError, r"unbalanced parentheses: '\(' at position 1 is never closed"),
    ("1 + 2)", FormulaError, r"unbalanced parentheses: '\)' at position 6 has no matching '\('"),
    ("round(x, 1", FormulaError, r"'\(' at position 6 is never closed"),
    ("round(x 1)", FormulaError, r"expected ',' or '\)' at position 9 in round\(\)"),
    (
        "upper(s, 1)",
        FormulaError,
        r"upper\(\) at position 1 takes 1 argument, got 2 \(usage: upper\(text\)\)",
    ),
    ("round()", FormulaError, "takes 1 to 2 arguments, got 0"),
    ("if(b)", FormulaError, "takes 2 to 3 arguments"),
    ("now(1)", FormulaError, "takes 0 arguments"),
    ("", FormulaError, "the formula is empty"),
    ("   ", FormulaError, "the formula is empty"),
    ("1 +", FormulaError, r"ends too early, after '\+' at position 3"),
    ("1 2", FormulaError, "unexpected '2' at position 3; is an operator or a comma missing"),
    ("1 # 2", FormulaError, "unexpected character '#' at position 3"),
    ("12abc", FormulaError, "unexpected 'a' right after a number at position 3"),
    ("'abc", FormulaError, "the text starting at position 1 is not closed"),
    ("[abc", FormulaError, r"opened with '\[' at position 1 is not closed"),
    ("[] + 1", FormulaError, "empty column name at position 1"),
    ("and", FormulaError, "expected a value at position 1, found 'and'"),
    ("1 < 2 < 3", FormulaError, "comparisons cannot be chained"),
    ("s + 1", FormulaError, r"'\+' at position 3 needs numbers, not text; to join texts use & or concat\(\)"),
    ("d + 1", FormulaError, r"use date_add\(date, n, 'day'\)"),
    ("d - d", FormulaError, r"use date_diff"),
    ("-s", FormulaError, "needs a number, not text"),
    ("not n", FormulaError, r"needs a condition \(true/false\), not a whole number"),
    ("n and b", FormulaError, "needs a condition"),
    ("n = 'seven'", FormulaError, r"cannot compare a whole number with text at position 3; convert one side"),
    ("d > 'yesterday'", FormulaError, "'yesterday' at position 3 is not a date"),
    (
        "abs(s)",
        FormulaError,
        r"abs\(\) at position 1: argument 1 must be a number, not text \(convert text with to_number\(\)\)",
    ),
    ("year(s)", FormulaError, r"must be a date, not text \(convert text with to_date\(\)\)"),
    ("year('soon')", FormulaError, "'soon' is not a date"),
    ("if(n, 1, 2)", FormulaError, r"must be a condition \(true/false\)"),
    ("if(b, 1, 'a')", FormulaError, r"the two results mix a whole number and text"),
    ("coalesce(s, n)", FormulaError, "the values mix"),
    (
        "round(x, n)",
        FormulaError,
        r"argument 2 \(the number of decimals\) must be a whole number from -10 to 10",
    ),
    ("round(x, 11)", FormulaError, "from -10 to 10"),
    ("date_diff('fortnight', d, d)", FormulaError, "unknown unit 'fortnight'"),
    ("date_diff('dya', d, d)", FormulaError, "did you mean 'day'"),
    ("date_diff(s, d, d)", FormulaError, "must be a quoted text"),
    ("regex_match(s, '(')", FormulaError, r"'\(' is not a valid regular expression"),
    ("regex_match(s, code)", FormulaError, "must be a quoted text"),
    ("to_date(s, '%Q')", FormulaError, "'%Q' is not a date format code"),
    ("to_date(s, '%Y%')", FormulaError, "lone '%'"),
]


@pytest.mark.parametrize(("text", "error", "message"), BAD_FORMULAS)
def test_bad_formulas(text, error, message):
    with pytest.raises(error, match=message) as caught:
        analyze_formula(text, COLUMNS)
    assert isinstance(caught.value, RecipeSpecError)


def test_errors_carry_the_position():
    with pytest.raises(FormulaError) as caught:
        analyze_formula("abs(x) + lenght(s)", COLUMNS)
    assert caught.value.details["position"] == 10


def test_injection_attempts_stay_literals_or_fail(con):
    with pytest.raises(FormulaError, match="is not closed"):
        analyze_formula("x'); drop table sample; --", COLUMNS)
    text = "'x''); drop table sample; --'"
    assert evaluate(con, text) == "x'); drop table sample; --"
    assert evaluate(con, '"; DELETE FROM sample; --"') == "; DELETE FROM sample; --"
    with pytest.raises(FormulaColumnError):
        analyze_formula('[x"); DROP TABLE sample; --]', COLUMNS)
    with pytest.raises(FormulaError, match="unexpected character ';'"):
        analyze_formula("n; DROP TABLE sample", COLUMNS)
    with pytest.raises(FormulaError, match="unknown function 'read_csv'"):
        analyze_formula("read_csv('/etc/passwd')", COLUMNS)
    assert con.execute("SELECT count(*) FROM sample").fetchone() == (1,)


def test_length_and_depth_limits(con):
    with pytest.raises(FormulaError, match="the limit is 10,000"):
        analyze_formula("1" + " + 1" * (MAX_FORMULA_LENGTH // 4), COLUMNS)
    deep_ok = "(" * 95 + "1" + ")" * 95
    assert evaluate(con, deep_ok) == 1
    with pytest.raises(FormulaError, match="nests more than 100 levels"):
        analyze_formula("(" * 150 + "1" + ")" * 150, COLUMNS)
    with pytest.raises(FormulaError, match="nests more than 100 levels"):
        analyze_formula("abs(" * 150 + "1" + ")" * 150, COLUMNS)
    with pytest.raises(FormulaError, match="nests more than 100 levels"):
        analyze_formula("-" * 200 + "1", COLUMNS)
    assert evaluate(con, " + ".join(["n"] * 100)) == 700
    with pytest.raises(FormulaError, match="too complex"):
        analyze_formula(" + ".join(["n"] * 2000), COLUMNS)
    with pytest.raises(FormulaError, match="too complex"):
        analyze_formula("round(" * 50 + "x" + ")" * 50, COLUMNS)
    with pytest.raises(FormulaError, match="too complex"):
        analyze_formula("sqrt(" * 60 + "x" + ")" * 60, COLUMNS)  # each level uses its argument twice


def test_parse_formula_against_a_relation():
    expression = parse_formula("[unit price] * 2", RELATION, recipe="prices")
    assert expression.sql("duckdb") == '"unit price" * 2'
    assert (
        parse_formula("n / 2", RELATION, recipe="prices").sql("postgres")
        == 'CAST("n" AS DOUBLE PRECISION) / NULLIF(2, 0)'
    )
    with pytest.raises(FormulaColumnError, match=r"^recipe 'prices': unknown column 'price'"):
        parse_formula("price * 2", RELATION, recipe="prices")


def test_formula_columns_for_lineage():
    text = "[Unit price] * qty + if(x > 1, `a b`, c) + len(s) + now() + 'text' + true"
    assert formula_columns(text) == {"Unit price", "qty", "x", "a b", "c", "s"}
    with pytest.raises(FormulaError):
        formula_columns("'open")


def test_numbers_too_large_for_a_double_are_refused():
    assert math.isinf(float("1e999"))  # Python reads it as infinity, which has no SQL literal
    with pytest.raises(FormulaError, match="the number at position 5 is too large"):
        analyze_formula("1 + 1e999", COLUMNS)
    with pytest.raises(FormulaColumnError, match="unknown column 'inf'"):
        analyze_formula("inf + 1", COLUMNS)
