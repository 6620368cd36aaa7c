"""Pages of a version: window, total, sorting, structured filters, clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from modelworks.engine.explore import (
    Filter,
    InvalidFilterError,
    InvalidPageError,
    InvalidSortError,
    Sort,
    UnknownColumnError,
    sample_page,
)
from modelworks.engine.io import VersionNotFoundError


def test_first_page_and_total(version: Path) -> None:
    page = sample_page(version, limit=5)
    assert page.total == 1000 and len(page.rows) == 5
    assert [c.name for c in page.columns] == ["id", "city", "amount", "day", 'we"ird; name', "payload"]
    assert [row[0] for row in page.rows] == [1, 2, 3, 4, 5]  # file order without a sort


def test_offset_past_the_end_is_empty(version: Path) -> None:
    page = sample_page(version, offset=995, limit=10)
    assert [row[0] for row in page.rows] == [996, 997, 998, 999, 1000]
    assert sample_page(version, offset=5000).rows == []


def test_sort_descending_nulls_last_and_stable_ties(version: Path) -> None:
    page = sample_page(version, sort=[("city", False)], limit=1000, columns=["id", "city"])
    cities = [row[1] for row in page.rows]
    assert cities == sorted(cities[:900], reverse=True) + [None] * 100
    paris_ids = [row[0] for row in page.rows if row[1] == "Paris"]
    assert paris_ids == sorted(paris_ids)  # ties keep file order: pages never overlap
    second = sample_page(
        version, sort=[Sort("city", False), Sort("id", True)], offset=10, limit=5, columns=["id"]
    )
    assert [r[0] for r in second.rows] == paris_ids[10:15]


@pytest.mark.parametrize(
    ("filters", "where"),
    [
        ([("city", "eq", "Paris")], "city = 'Paris'"),
        ([("city", "=", "Paris"), ("amount", ">", 100)], "city = 'Paris' AND amount > 100"),
        ([("city", "is_null")], "city IS NULL"),
        ([("city", "not_null"), ("city", "ne", "Nice")], "city IS NOT NULL AND city <> 'Nice'"),
        ([("id", "in", [1, 2, 3, 999999])], "id IN (1, 2, 3)"),
        ([("id", "not_in", ["1", "2"])], "id NOT IN (1, 2)"),
        ([("id", "between", [10, 19])], "id >= 10 AND id <= 19"),
        ([("day", "ge", "2024-01-29")], "day >= DATE '2024-01-29'"),
        ([("day", "lt", dt.date(2024, 1, 2))], "day < DATE '2024-01-02'"),
        ([("city", "contains", "IL")], "city ILIKE '%il%'"),
        ([("city", "starts_with", "li")], "city ILIKE 'li%'"),
        ([("city", "ends_with", "CE")], "city ILIKE '%ce'"),
        ([('we"ird; name', "eq", 2)], '"we""ird; name" = 2'),
        ([Filter("amount", "le", 0)], "amount <= 0"),
        ([("payload", "not_null")], "payload IS NOT NULL"),
    ],
)
def test_filters_match_hand_written_sql(version: Path, filters: list[object], where: str) -> None:
    expected = (
        duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{version}') WHERE {where}").fetchone()  # noqa: S608
    )
    page = sample_page(version, filters=filters, limit=1)  # type: ignore[arg-type]
    assert expected is not None and page.total == expected[0] > 0


def test_values_are_parameters_not_sql(version: Path) -> None:
    page = sample_page(version, filters=[("city", "eq", "Paris' OR '1'='1")])
    assert page.total == 0
    page = sample_page(version, filters=[("city", "contains", "%")])
    assert page.total == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"filters": [("citty", "eq", "x")]},
            UnknownColumnError,
            r"a filter uses column 'citty'.*did you mean 'city'",
        ),
        (
            {"sort": [("amout", True)]},
            UnknownColumnError,
            r"the sort uses column 'amout'.*did you mean 'amount'",
        ),
        ({"columns": ["nope"]}, UnknownColumnError, r"column list uses column 'nope'"),
        (
            {"filters": [("city", "like", "x")]},
            InvalidFilterError,
            r"operator 'like' is unknown.*; use one of eq, ne",
        ),
        (
            {"filters": [("amount", "gt", "a lot")]},
            InvalidFilterError,
            r"'a lot' is not a valid decimal value",
        ),
        (
            {"filters": [("day", "eq", "yesterday")]},
            InvalidFilterError,
            r"'yesterday' is not a valid date value",
        ),
        ({"filters": [("id", "eq", None)]}, InvalidFilterError, r"has no value; use 'is_null'"),
        ({"filters": [("id", "in", [])]}, InvalidFilterError, r"needs a non-empty list"),
        (
            {"filters": [("id", "in", list(range(2000)))]},
            InvalidFilterError,
            r"lists 2000 values; the limit is 1000",
        ),
        ({"filters": [("id", "between", [1])]}, InvalidFilterError, r"needs two values"),
        ({"filters": [("city", "contains", "")]}, InvalidFilterError, r"needs a non-empty text value"),
        (
            {"filters": [("payload", "eq", "x")]},
            InvalidFilterError,
            r"holds nested values; only 'is_null' and 'not_null'",
        ),
        ({"sort": [("payload", True)]}, InvalidSortError, r"holds nested values, which cannot be sorted"),
        ({"limit": 0}, InvalidPageError, r"limit must be between 1 and 1000"),
        ({"limit": 1001}, InvalidPageError, r"limit must be between 1 and 1000"),
        ({"offset": -1}, InvalidPageError, r"offset must be a whole number"),
    ],
)
def test_bad_requests(version: Path, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sample_page(version, **kwargs)  # type: ignore[arg-type]


def test_missing_version(tmp_path: Path) -> None:
    with pytest.raises(VersionNotFoundError, match="does not exist"):
        sample_page(tmp_path / "gone.parquet")
