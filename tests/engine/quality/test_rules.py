"""Each rule kind: passing, failing with counts and sampled rows, and refused when malformed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from modelworks.engine.quality import (
    AllowedValues,
    CustomSql,
    Freshness,
    InvalidRuleError,
    NotNull,
    Range,
    Regex,
    RowCount,
    RuleResult,
    Unique,
    run_rules,
)

NOW = dt.datetime(2024, 6, 5, 12, 0)


def check(path: Path, rule: Any, **kwargs: Any) -> RuleResult:
    (result,) = run_rules(path, [rule], now=NOW, **kwargs)
    return result


def test_not_null(orders: Path) -> None:
    assert check(orders, NotNull("id")).passed
    result = check(orders, NotNull("email"))
    assert (result.passed, result.failing_count) == (False, 2)
    assert [r.row_number for r in result.failing_rows] == [10, 20]
    assert result.failing_rows[0].values["email"] is None and result.failing_rows[0].values["id"] == 9
    assert result.message == "2 of 100 rows break the rule"


def test_unique_counts_every_row_of_a_duplicated_key(orders: Path) -> None:
    result = check(orders, Unique(("id",)))
    assert (result.passed, result.failing_count) == (False, 2)
    assert [(r.row_number, r.values["id"]) for r in result.failing_rows] == [(51, 50), (52, 50)]
    assert check(orders, Unique(("id", "email"))).failing_count == 0  # emails differ
    assert check(orders, Unique(("alt_email",))).passed  # nulls are not duplicates


@pytest.mark.parametrize(
    ("rule", "failing"),
    [
        (Range("amount", min=-5, max=985), 0),  # bounds are inclusive
        (Range("amount", min=0), 1),
        (Range("amount", max=500), 49),
        (Range("created_at", min="2024-06-03"), 48),
        (Range("day", max=dt.date(2024, 6, 3)), 40),
        (Range("currency", min="F"), 25),  # text ranges are alphabetical
        (AllowedValues("currency", ("EUR", "USD", "GBP")), 25),
        (AllowedValues("id", (1, 2, 3)), 97),
        (Regex("email", r"user\d+@example\.org"), 0),
        (Regex("alt_email", r"[^@]+@[^@]+"), 1),  # nulls are not checked
        (Regex("currency", "[A-Z]{3}"), 25),
        (CustomSql("shipped_at > created_at AND amount >= -5"), 0),
        (CustomSql("currency = upper(currency)"), 25),
        (CustomSql("alt_email LIKE '%@%'"), 100),  # null counts as failing
        (CustomSql("date_diff('hour', created_at, shipped_at) = 1 AND length(currency) = 3"), 0),
    ],
)
def test_row_rules(orders: Path, rule: Any, failing: int) -> None:
    result = check(orders, rule)
    assert result.failing_count == failing and result.passed is (failing == 0)
    assert len(result.failing_rows) == min(failing, 20)


def test_sample_size(orders: Path) -> None:
    assert len(check(orders, AllowedValues("id", (1,)), sample_size=5).failing_rows) == 5
    assert len(check(orders, AllowedValues("id", (1,)), sample_size=500).failing_rows) == 20


@pytest.mark.parametrize(
    ("rule", "passed", "observed"),
    [
        (RowCount(min=100, max=100), True, 100),
        (RowCount(min=101), False, 100),
        (RowCount(max=99), False, 100),
        (Freshness("created_at", max_age_hours=12), True, dt.datetime(2024, 6, 5, 3)),
        (Freshness("created_at", max_age_hours=8), False, dt.datetime(2024, 6, 5, 3)),
        (Freshness("day", max_age_hours=1), True, dt.date(2024, 6, 5)),  # a date is fresh until its end
    ],
)
def test_dataset_rules(orders: Path, rule: Any, passed: bool, observed: Any) -> None:
    result = check(orders, rule)
    assert (result.passed, result.observed) == (passed, observed)


def test_rules_from_json_and_results_to_json(orders: Path) -> None:
    rules = [
        {"kind": "not_null", "column": "email"},
        {"kind": "unique", "columns": ["id"]},
        {"kind": "allowed_values", "column": "currency", "values": ["EUR", "USD"]},
        {"kind": "freshness", "column": "created_at", "max_age_hours": 48},
    ]
    results = run_rules(orders, rules, now=dt.datetime(2024, 6, 5, 12, tzinfo=dt.UTC))
    assert [r.passed for r in results] == [False, False, False, True]
    encoded = json.loads(json.dumps([r.to_dict() for r in results]))
    assert encoded[0]["rule"] == {"kind": "not_null", "column": "email"}
    assert encoded[1]["failing_rows"][0] == {
        "row_number": 51,
        "values": encoded[1]["failing_rows"][0]["values"],
    }


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        (NotNull("emial"), r"rule 1 \(not_null\): the dataset has no column 'emial'; did you mean 'email'\?"),
        (Unique(()), r"name at least one column"),
        (Range("amount"), r"give a minimum, a maximum or both"),
        (Range("amount", min=10, max=1), r"the minimum 10 is greater than the maximum 1"),
        (Range("amount", min="ten"), r"'ten' is not a valid integer value for column 'amount'"),
        (AllowedValues("currency", ()), r"list at least one allowed value"),
        (AllowedValues("day", ("monday",)), r"'monday' is not a valid date value"),
        (Regex("email", "([a-z"), r"pattern '\(\[a-z' is not a valid regular expression"),
        (RowCount(), r"give a minimum, a maximum or both"),
        (
            Freshness("amount", 1),
            r"freshness needs a date or timestamp column; 'amount' holds integer values",
        ),
        (Freshness("created_at", 0), r"maximum age must be a positive number"),
        (CustomSql("amount + 1"), r"must be true or false for each row, but it gives BIGINT values"),
        ({"kind": "sometimes"}, r"rule kind 'sometimes' is unknown"),
        ({"kind": "not_null", "colum": "x"}, r"rule 'not_null' is malformed"),
    ],
)
def test_malformed_rules_are_refused_before_running(orders: Path, rule: Any, match: str) -> None:
    with pytest.raises(InvalidRuleError, match=match):
        run_rules(orders, [rule], now=NOW)
