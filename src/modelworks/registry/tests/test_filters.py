"""The MLflow filter parser: what it reads, and the messages of what it refuses."""

from __future__ import annotations

import pytest

from modelworks.registry.errors import InvalidRegistryValueError
from modelworks.registry.filters import Comparison, decode_page_token, encode_page_token, parse_filter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("name = 'churn'", [Comparison("attribute", "name", "=", "churn")]),
        ('name LIKE "ch%"', [Comparison("attribute", "name", "LIKE", "ch%")]),
        (
            "tags.`my key` != 'x' and metrics.rmse <= 0.5",
            [Comparison("tag", "my key", "!=", "x"), Comparison("metric", "rmse", "<=", 0.5)],
        ),
        ("params.depth IN ('3', '5')", [Comparison("param", "depth", "IN", ("3", "5"))]),
        ("run_id NOT IN ('a')", [Comparison("attribute", "run_id", "NOT IN", ("a",))]),
        ("version_number >= 2", [Comparison("attribute", "version_number", ">=", 2)]),
        ("name = 'it''s'", [Comparison("attribute", "name", "=", "it's")]),
    ],
)
def test_filters_parse(text: str, expected: list[Comparison]) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name", "ends without a comparison"),
        ("name = ", "not a value"),
        ("name == 'x'", "not a value"),
        ("'x' = name", "should start each comparison with a field"),
        ("name = 'a' AND", "ends with AND"),
        ("name = 'a' OR name = 'b'", "OR is not supported"),
        ("name IN 'a'", "needs a list in parentheses"),
        ("name IN ('a' 'b')", "not closed"),
        ("name = 'a'; DROP TABLE x", "Cannot read the filter"),
    ],
)
def test_bad_filters_say_how_to_write_one(text: str, message: str) -> None:
    with pytest.raises(InvalidRegistryValueError, match=message):
        parse_filter(text)


def test_page_tokens_are_bound_to_their_search() -> None:
    token = encode_page_token(20, "q1")
    assert decode_page_token(token, "q1") == 20
    with pytest.raises(InvalidRegistryValueError, match="belongs to another search"):
        decode_page_token(token, "q2")
