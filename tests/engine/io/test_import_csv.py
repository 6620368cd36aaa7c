"""Importing delimited text: dialect, header, encoding and type detection, overrides, widening."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelworks.engine.io import ImportOptions, LocalStore, VersionInfo, import_file

Src = Callable[[str, str | bytes], Path]
Rows = Callable[..., list[tuple[Any, ...]]]


def types_of(version: VersionInfo) -> dict[str, str]:
    return {c.name: c.type for c in version.columns}


def test_csv_with_header_and_inferred_types(store: LocalStore, src: Src, rows_of: Rows) -> None:
    path = src(
        "orders.csv",
        "id,zip,name,price,paid,day,at,note\n"
        "1,01234,Ann,1.5,true,2024-01-02,2024-01-02 10:00:00,\n"
        "2,75001,Bob,-2,false,2024-01-03,2024-01-03T11:30:00,hello\n",
    )
    version = import_file(path, store=store)
    assert version.row_count == 2
    assert types_of(version) == {
        "id": "integer",
        "zip": "string",  # a leading zero makes it a code, not a number
        "name": "string",
        "price": "float",
        "paid": "boolean",
        "day": "date",
        "at": "timestamp",
        "note": "string",
    }
    assert [c.nullable for c in version.columns][-1] is True
    assert (
        version.source.delimiter == ","
        and version.source.header is True
        and version.source.encoding == "utf-8"
    )
    rows = rows_of(store.local_path(version.object_id))
    assert rows[0] == (1, "01234", "Ann", 1.5, True, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 10), None)


@pytest.mark.parametrize(
    ("name", "text", "delimiter"),
    [
        ("semi.csv", "a;b;c\n1;2;3\n4;5;6\n", ";"),
        ("pipes.txt", "a|b\n1|2\n", "|"),
        ("tabs.tsv", "a\tb, with comma\n1\t2\n", "\t"),
        ("tabs_in_csv.csv", "a\tb\n1\t2\n", "\t"),
        ("quoted.csv", 'a,b\n"x,y",2\n"multi\nline",3\n', ","),
    ],
)
def test_delimiter_detection(store: LocalStore, src: Src, name: str, text: str, delimiter: str) -> None:
    version = import_file(src(name, text), store=store)
    assert version.source.delimiter == delimiter
    assert version.row_count == text.count("\n") - 1 - text.count('"multi\n')


def test_quoted_fields_keep_delimiters_and_line_breaks(store: LocalStore, src: Src, rows_of: Rows) -> None:
    version = import_file(src("q.csv", 'a,b\n"x,y",2\n"multi\nline",3\n"say ""hi""",4\n'), store=store)
    assert [r[0] for r in rows_of(store.local_path(version.object_id))] == ["x,y", "multi\nline", 'say "hi"']


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("name,age\nAnn,31\nBob,42\n", True),  # a word above numbers
        ("1,2\n3,4\n", False),  # numbers all the way down
        ("city,country\nParis,France\n", True),  # all text: a header is the common case
    ],
)
def test_header_detection(store: LocalStore, src: Src, text: str, header: bool) -> None:
    version = import_file(src("h.csv", text), store=store)
    assert version.source.header is header
    if not header:
        assert [c.name for c in version.columns] == ["column_1", "column_2"]
        assert version.row_count == 2


def test_header_can_be_forced_off(store: LocalStore, src: Src) -> None:
    version = import_file(
        src("h.csv", "city,country\nParis,France\n"), store=store, options=ImportOptions(header=False)
    )
    assert version.row_count == 2 and version.source.header is False


def test_duplicate_and_empty_headers_are_renamed_and_reported(store: LocalStore, src: Src) -> None:
    version = import_file(src("d.csv", "a,a,,b,A,a_2\n1,2,3,4,5,6\n"), store=store)
    assert [c.name for c in version.columns] == ["a", "a_3", "column_3", "b", "A_4", "a_2"]
    assert [(r.position, r.original, r.name, r.reason) for r in version.renamed_columns] == [
        (2, "a", "a_3", "duplicate"),
        (3, "", "column_3", "empty"),
        (5, "A", "A_4", "duplicate"),
    ]
    assert any("column 3 had no name" in w for w in version.warnings)


def test_null_markers(store: LocalStore, src: Src, rows_of: Rows) -> None:
    version = import_file(src("n.csv", "a,b\n1,NA\n2,\nN/A,x\n"), store=store)
    assert rows_of(store.local_path(version.object_id)) == [(1, None), (2, None), (None, "x")]
    kept = import_file(src("n.csv", "a,b\n1,NA\n"), store=store, options=ImportOptions(null_values=("",)))
    assert rows_of(store.local_path(kept.object_id)) == [(1, "NA")]


def test_time_zone_offsets_are_stored_as_utc(store: LocalStore, src: Src, rows_of: Rows) -> None:
    version = import_file(src("tz.csv", "at\n2024-01-01T10:00:00+02:00\n2024-01-01T10:00:00Z\n"), store=store)
    assert types_of(version) == {"at": "timestamp"}
    assert rows_of(store.local_path(version.object_id)) == [
        (dt.datetime(2024, 1, 1, 8),),
        (dt.datetime(2024, 1, 1, 10),),
    ]
    assert any("UTC" in w for w in version.warnings)


def test_integers_beyond_double_precision_stay_exact(store: LocalStore, src: Src, rows_of: Rows) -> None:
    version = import_file(src("big.csv", "id\n9007199254740993\n-9223372036854775807\n"), store=store)
    assert types_of(version) == {"id": "integer"}
    assert rows_of(store.local_path(version.object_id)) == [(9007199254740993,), (-9223372036854775807,)]


@pytest.mark.parametrize(
    ("late_value", "widened_to"),
    [("2.5", "float"), ("abc", "string"), ("1e400", "string")],
)
def test_a_late_value_widens_an_inferred_integer_column(
    store: LocalStore, src: Src, rows_of: Rows, late_value: str, widened_to: str
) -> None:
    text = "n,m\n" + "".join(f"{i},{i}\n" for i in range(300)) + f"{late_value},7\n"
    version = import_file(src("late.csv", text), store=store, options=ImportOptions(sample_rows=100))
    assert types_of(version) == {"n": widened_to, "m": "integer"}
    assert version.row_count == 301
    assert any(
        "column 'n' looked like integer" in w and f"imported as {widened_to}" in w for w in version.warnings
    )
    if widened_to == "float":  # no silent rounding: the value is kept as written
        assert rows_of(store.local_path(version.object_id), "SELECT n FROM v WHERE n % 1 <> 0") == [(2.5,)]


def test_a_late_timestamp_widens_a_date_column(store: LocalStore, src: Src) -> None:
    text = "d\n" + "2024-01-01\n" * 150 + "2024-01-02 10:00:00\n"
    version = import_file(src("d.csv", text), store=store, options=ImportOptions(sample_rows=100))
    assert types_of(version) == {"d": "timestamp"}


def test_type_overrides(store: LocalStore, src: Src, rows_of: Rows) -> None:
    path = src("o.csv", "id,code,flag,amount\n1,007,yes,3\n2,008,no,4\n")
    version = import_file(
        path,
        store=store,
        options=ImportOptions(
            types={"id": "string", "CODE": "integer", "flag": "boolean", "amount": "float"}
        ),
    )
    assert types_of(version) == {"id": "string", "code": "integer", "flag": "boolean", "amount": "float"}
    assert rows_of(store.local_path(version.object_id)) == [("1", 7, True, 3.0), ("2", 8, False, 4.0)]


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [
        ("cp1252", None),
        ("latin-1", "latin-1"),
        ("utf-16", None),
        ("utf-8-sig", None),
        ("cp1252", "windows-1252"),
    ],
)
def test_encodings(store: LocalStore, src: Src, rows_of: Rows, encoding: str, declared: str | None) -> None:
    text = "ville,prix\nMálaga,1\nBesançon,2\nKöln,3\nCafé crème,4\n"
    version = import_file(
        src("e.csv", text.encode(encoding)), store=store, options=ImportOptions(encoding=declared)
    )
    assert rows_of(store.local_path(version.object_id), "SELECT ville FROM v") == [
        ("Málaga",),
        ("Besançon",),
        ("Köln",),
        ("Café crème",),
    ]
    assert [c.name for c in version.columns] == ["ville", "prix"]


def test_skipping_bad_rows_is_explicit_and_reported(store: LocalStore, src: Src) -> None:
    text = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"
    version = import_file(src("r.csv", text), store=store, options=ImportOptions(bad_rows="skip"))
    assert version.row_count == 2
    assert version.skipped_rows == 2 and version.skipped_lines == (3, 4)
    assert any("2 malformed row(s) were skipped" in w for w in version.warnings)


def test_ten_thousand_columns_work(store: LocalStore, src: Src) -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    rows = "\n".join(",".join(str(r * i) for i in range(10_000)) for r in range(3))
    version = import_file(src("wide.csv", header + "\n" + rows + "\n"), store=store)
    assert len(version.columns) == 10_000 and version.row_count == 3


def test_version_facts(store: LocalStore, src: Src) -> None:
    version = import_file(
        src("f.csv", "a,b\n1,x\n2,y\n"), store=store, options=ImportOptions(original_name="Sales Q1.csv")
    )
    stored = store.local_path(version.object_id).read_bytes()
    assert version.content_hash == "sha256:" + hashlib.sha256(stored).hexdigest()
    assert version.byte_size == len(stored)
    assert version.source.byte_size == 12 and version.source.format == "csv"
    assert set(version.timings) == {"check", "convert", "commit", "total"}
    json.dumps(version.to_dict())  # the platform stores it as JSON


def test_same_input_same_content_hash(store: LocalStore, src: Src) -> None:
    path = src("same.csv", "a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(5000)))
    first, second = import_file(path, store=store), import_file(path, store=store)
    assert first.object_id != second.object_id
    assert first.content_hash == second.content_hash


@pytest.mark.parametrize(
    "label", ["../../etc/passwd.csv", "/abs/path/data.csv", "evil\x00name.csv", "..\\..\\win.csv"]
)
def test_user_file_names_are_only_labels(
    store: LocalStore, src: Src, files_in: Callable[[Path], list[Path]], label: str
) -> None:
    version = import_file(src("x.csv", "a\n1\n"), store=store, options=ImportOptions(original_name=label))
    assert [p.name for p in files_in(store.root)] == [version.object_id]
    assert store.local_path(version.object_id).is_relative_to(store.root)


def test_skip_mode_widens_instead_of_dropping_rows(store: LocalStore, src: Src) -> None:
    text = "n,m\n" + "".join(f"{i},x\n" for i in range(300)) + "oops,y\n" + "1,2,3\n"
    options = ImportOptions(sample_rows=100, bad_rows="skip")
    version = import_file(src("w.csv", text), store=store, options=options)
    assert types_of(version) == {"n": "string", "m": "string"}
    assert version.row_count == 301  # the 'oops' row is kept, only the ragged one is skipped
    assert version.skipped_lines == (303,)
