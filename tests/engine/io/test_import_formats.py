"""Importing Parquet, Excel and JSON Lines; format detection from content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelworks.engine.io import ImportOptions, LocalStore, import_file

Src = Callable[[str, str | bytes], Path]
Rows = Callable[..., list[tuple[Any, ...]]]


def test_parquet_roundtrip_with_utc_conversion(
    store: LocalStore, parquet: Callable[[str, str], Path], rows_of: Rows
) -> None:
    path = parquet(
        "p.parquet",
        "SELECT 1::INTEGER AS id, 'x' AS name, TIMESTAMPTZ '2024-01-01 10:00:00+02' AS at, {'k': 1} AS nested",
    )
    version = import_file(path, store=store)
    assert version.source.format == "parquet"
    assert [(c.name, c.type) for c in version.columns] == [
        ("id", "integer"),
        ("name", "string"),
        ("at", "timestamp"),
        ("nested", "nested"),
    ]
    assert rows_of(store.local_path(version.object_id)) == [(1, "x", dt.datetime(2024, 1, 1, 8), {"k": 1})]


def test_parquet_type_override(store: LocalStore, parquet: Callable[[str, str], Path], rows_of: Rows) -> None:
    path = parquet("p.parquet", "SELECT range::VARCHAR AS code FROM range(3)")
    version = import_file(path, store=store, options=ImportOptions(types={"code": "integer"}))
    assert version.columns[0].type == "integer"
    assert rows_of(store.local_path(version.object_id)) == [(0,), (1,), (2,)]


def test_excel_types_sheets_and_blank_rows(
    store: LocalStore, xlsx: Callable[..., Path], rows_of: Rows
) -> None:
    path = xlsx(
        "book.xlsx",
        {
            "Notes": [["just a note"]],
            "Sales": [
                ["id", "product", "when", "day", "price", "paid", None],
                [1, "tea", dt.datetime(2024, 1, 1, 9, 30), dt.datetime(2024, 1, 1), 2.5, True],
                [None, None, None, None, None, None],  # a blank row inside the data
                [2, "coffee", dt.datetime(2024, 1, 2, 10, 0), dt.datetime(2024, 1, 2), 3, False],
            ],
        },
    )
    version = import_file(path, store=store, options=ImportOptions(sheet="sales"))
    assert version.source.sheet == "Sales"
    assert [(c.name, c.type) for c in version.columns] == [
        ("id", "integer"),
        ("product", "string"),
        ("when", "timestamp"),
        ("day", "date"),
        ("price", "float"),
        ("paid", "boolean"),
    ]
    assert rows_of(store.local_path(version.object_id), "SELECT id, product, day, price FROM v") == [
        (1, "tea", dt.date(2024, 1, 1), 2.5),
        (2, "coffee", dt.date(2024, 1, 2), 3.0),
    ]
    by_position = import_file(path, store=store, options=ImportOptions(sheet=0))
    assert by_position.source.sheet == "Notes" and by_position.row_count == 0


def test_excel_without_header_and_mixed_column(
    store: LocalStore, xlsx: Callable[..., Path], rows_of: Rows
) -> None:
    path = xlsx("b.xlsx", {"S": [[1, "a"], [2, 3], [3, "c"]]})
    version = import_file(path, store=store, options=ImportOptions(header=False))
    assert [(c.name, c.type) for c in version.columns] == [("column_1", "integer"), ("column_2", "string")]
    assert rows_of(store.local_path(version.object_id)) == [(1, "a"), (2, "3"), (3, "c")]


def test_json_lines(store: LocalStore, src: Src, rows_of: Rows) -> None:
    text = '{"id": 1, "tags": ["a"], "at": "2024-01-01T10:00:00Z"}\n\n{"id": 2, "extra": true}\n'
    version = import_file(src("events.jsonl", text), store=store)
    assert version.source.format == "jsonl" and version.row_count == 2
    assert {c.name: c.type for c in version.columns} == {
        "id": "integer",
        "tags": "nested",
        "at": "timestamp",
        "extra": "boolean",
    }
    assert rows_of(store.local_path(version.object_id), 'SELECT id, "at" FROM v') == [
        (1, dt.datetime(2024, 1, 1, 10)),
        (2, None),
    ]


def test_json_lines_skip_bad_lines(store: LocalStore, src: Src) -> None:
    text = '{"a": 1}\nnot json\n[1, 2]\n{"a": 2}\n'
    version = import_file(src("e.ndjson", text), store=store, options=ImportOptions(bad_rows="skip"))
    assert version.row_count == 2 and version.skipped_lines == (2, 3)


def test_json_type_conflict_beyond_the_sample_is_resolved(store: LocalStore, src: Src) -> None:
    text = "".join(f'{{"a": {i}}}\n' for i in range(200)) + '{"a": "oops"}\n'
    version = import_file(src("c.jsonl", text), store=store, options=ImportOptions(sample_rows=50))
    assert version.row_count == 201 and version.columns[0].type == "string"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("no_extension", "a,b\n1,2\n", "csv"),
        ("data.txt", "a\tb\n1\t2\n", "csv"),
        ("data.tsv", "a\tb\n1\t2\n", "tsv"),
        ("data", '{"a": 1}\n', "jsonl"),
        ("data.json", '{"a": 1}\n', "jsonl"),
    ],
)
def test_format_comes_from_content(
    store: LocalStore, src: Src, name: str, content: str, expected: str
) -> None:
    assert import_file(src(name, content), store=store).source.format == expected


def test_parquet_without_extension_is_detected(
    store: LocalStore, parquet: Callable[[str, str], Path]
) -> None:
    path = parquet("upload_0001", "SELECT 42 AS answer")
    assert import_file(path, store=store).source.format == "parquet"


def test_explicit_format_matching_content_is_accepted(store: LocalStore, src: Src) -> None:
    version = import_file(src("export.dat", "a;b\n1;2\n"), store=store, format="csv")
    assert version.source.format == "csv" and version.source.delimiter == ";"
