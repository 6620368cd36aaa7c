# ruff: noqa: RUF001 - Windows text has curly quotes on purpose
"""Files as users really bring them: each imports with the right columns, types, values and row count,
or fails with an error saying what, where and how to fix it, leaving nothing in the store.

Every file is generated here; the table says what the stored version must hold.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelworks.engine.io import (
    CorruptFileError,
    DatasetImportError,
    EmptyFileError,
    ImportOptions,
    LocalStore,
    RaggedRowsError,
    UnsupportedFormatError,
    import_file,
)

Rows = Callable[..., list[tuple[Any, ...]]]

_TABLE = "name,city,amount\nAnn,Málaga,1.5\nBob,Köln,2\n"
_TABLE_ROWS = [("Ann", "Málaga", 1.5), ("Bob", "Köln", 2.0)]
_TABLE_TYPES = {"name": "string", "city": "string", "amount": "float"}


def _xlsx(build: Callable[[openpyxl.Workbook], None]) -> bytes:
    workbook = openpyxl.Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _two_sheets(workbook: openpyxl.Workbook) -> None:
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["read me first"])
    data = workbook.create_sheet("Data")
    data.append(["id", "when", "amount"])
    data.append([1, dt.datetime(2024, 1, 2), 2.5])
    data.append([2, dt.datetime(1955, 3, 4, 10, 30), 3])


def _leading_blank_rows(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet["A3"], sheet["B3"] = "x", "y"
    sheet.append([1, 2])
    sheet.append([3, 4])


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _nested_parquet() -> bytes:
    return _parquet(
        pa.table(
            {
                "s": pa.array([{"x": 1, "y": "a"}, {"x": 2, "y": None}]),
                "l": pa.array([[1, 2], []]),
                "m": pa.array([[("k", 1)], [("j", 2)]], type=pa.map_(pa.string(), pa.int64())),
                "ts": pa.array(
                    [dt.datetime(2024, 1, 1, 10), dt.datetime(1960, 1, 1)],
                    type=pa.timestamp("us", tz="Europe/Paris"),
                ),
                "d": pa.array([Decimal("1.23"), Decimal("-99999999999999999.99")], type=pa.decimal128(20, 2)),
                "dict": pa.array(["a", "b"]).dictionary_encode(),
                "bin": pa.array([b"\x00" * 2_000_000, b"x"], type=pa.large_binary()),
            }
        )
    )


@dataclass(frozen=True)
class Good:
    id: str
    file_name: str
    content: bytes | str | Callable[[], bytes]
    types: dict[str, str]
    rows: list[tuple[Any, ...]] | None = None  # all rows, in order (None: only count them)
    row_count: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None  # a substring one of the warnings must hold


GOOD = [
    # Encodings.
    Good("utf8_bom", "bom.csv", codecs.BOM_UTF8 + _TABLE.encode(), _TABLE_TYPES, _TABLE_ROWS),
    Good("utf16_le_bom", "le.csv", codecs.BOM_UTF16_LE + _TABLE.encode("utf-16-le"), _TABLE_TYPES, _TABLE_ROWS),
    Good("utf16_be_bom", "be.csv", codecs.BOM_UTF16_BE + _TABLE.encode("utf-16-be"), _TABLE_TYPES, _TABLE_ROWS),
    Good("cp1252_euro_smart_quotes", "w.csv", "name,price,note\nCafé,€5,“smart” quotes\nNaïve,€6,it’s\n".encode("cp1252"),
         {"name": "string", "price": "string", "note": "string"}, [("Café", "€5", "“smart” quotes"), ("Naïve", "€6", "it’s")]),
    Good("tiny_cp1252_is_not_cjk", "w.csv", "a;b\né;1\nè;2\n".encode("cp1252"), {"a": "string", "b": "integer"}, [("é", 1), ("è", 2)]),
    Good("korean_euc_kr", "k.csv", "이름,도시\n김철수,서울\n이영희,부산\n".encode("euc-kr"), {"이름": "string", "도시": "string"},
         [("김철수", "서울"), ("이영희", "부산")]),
    Good("latin1", "l.csv", "name,city\nJosé,São Paulo\nFrançois,Besançon\n".encode("latin-1"),
         {"name": "string", "city": "string"}, [("José", "São Paulo"), ("François", "Besançon")]),
    # Dialects and line endings.
    Good("french_excel_decimal_comma", "fr.csv", "produit;prix;quantité\nPomme;1.234,56;3\nPoire;0,50;12\nKiwi;-;1\n".encode("cp1252"),
         {"produit": "string", "prix": "float", "quantité": "integer"}, [("Pomme", 1234.56, 3), ("Poire", 0.5, 12), ("Kiwi", None, 1)]),
    Good("german_excel_dates", "de.csv", "Artikel;Preis;Datum\r\nA;1.234,56;31.12.2023\r\nB;2,5;01.02.2024\r\n",
         {"Artikel": "string", "Preis": "float", "Datum": "date"}, [("A", 1234.56, dt.date(2023, 12, 31)), ("B", 2.5, dt.date(2024, 2, 1))]),
    Good("tab", "t.txt", "a\tb\tc\n1\tx y\t3\n", {"a": "integer", "b": "string", "c": "integer"}, [(1, "x y", 3)]),
    Good("pipe", "p.csv", "a|b\n1|x\n", {"a": "integer", "b": "string"}, [(1, "x")]),
    Good("quoted_newlines_delimiters_quotes", "q.csv", 'id,text\r\n1,"one\r\ntwo, three"\r\n2,"say ""hi"""\r\n',
         {"id": "integer", "text": "string"}, [(1, "one\r\ntwo, three"), (2, 'say "hi"')]),
    Good("crlf", "c.csv", "a,b\r\n1,2\r\n3,4\r\n", {"a": "integer", "b": "integer"}, [(1, 2), (3, 4)]),
    Good("lone_cr", "mac.csv", 'a,b\r1,"x\ry"\r3,z', {"a": "integer", "b": "string"}, [(1, "x\ny"), (3, "z")]),
    Good("no_final_newline", "n.csv", "a,b\n1,2\n3,4", {"a": "integer", "b": "integer"}, [(1, 2), (3, 4)]),
    Good("blank_lines_inside_and_at_end", "b.csv", "a,b\n1,2\n\n3,4\n\n\n", {"a": "integer", "b": "integer"}, [(1, 2), (3, 4)]),
    Good("trailing_delimiter", "t.csv", "a,b,c,\n1,2,3,\n4,5,6,\n", {"a": "integer", "b": "integer", "c": "integer"},
         [(1, 2, 3), (4, 5, 6)], warning="the empty, unnamed last column was left out"),
    Good("trailing_delimiter_value_beyond_sample", "t.csv", "a,b,\n" + "1,2,\n" * 150 + "3,4,late\n",
         {"a": "integer", "b": "integer", "column_3": "string"}, row_count=151, options={"sample_rows": 100},
         warning="column 3 has no name; it is named 'column_3'"),
    Good("header_only", "h.csv", "a,b,c\n", {"a": "string", "b": "string", "c": "string"}, []),
    Good("header_only_no_newline", "h.csv", "a,b,c", {"a": "string", "b": "string", "c": "string"}, []),
    # Column names.
    Good("duplicate_names", "d.csv", "a,a,b\n1,2,3\n", {"a": "integer", "a_2": "integer", "b": "integer"}, [(1, 2, 3)],
         warning="duplicate name 'a'"),
    Good("empty_names", "e.csv", ",,b\n1,2,3\n", {"column_1": "integer", "column_2": "integer", "b": "integer"}, [(1, 2, 3)]),
    Good("awkward_names", "w.csv", 'first name,a.b,ünï,1st,select,"order",\x22a""b\x22\n1,2,3,4,5,6,7\n',
         {"first name": "integer", "a.b": "integer", "ünï": "integer", "1st": "integer", "select": "integer",
          "order": "integer", 'a"b': "integer"}, [(1, 2, 3, 4, 5, 6, 7)]),
    # Types.
    Good("thousands_separators", "k.csv", 'id,amount,price\n1,"1,234","1,234.50"\n2,"12,345,678",3.25\n3,999,"2,000.00"\n',
         {"id": "integer", "amount": "integer", "price": "float"}, [(1, 1234, 1234.5), (2, 12345678, 3.25), (3, 999, 2000.0)]),
    # yes/no stays text (class labels in a target column); choosing boolean reads it.
    Good("booleans", "b.csv", "yn,tf,bit,letter\nyes,true,1,Y\nno,FALSE,0,N\nYes,True,1,y\n",
         {"yn": "string", "tf": "boolean", "bit": "integer", "letter": "string"},
         [("yes", True, 1, "Y"), ("no", False, 0, "N"), ("Yes", True, 1, "y")]),
    Good("yes_no_chosen_as_boolean", "b.csv", "yn\nyes\nNo\n-\n", {"yn": "boolean"}, [(True,), (False,), (None,)],
         options={"types": {"yn": "boolean"}, "null_values": ("", "-")}),
    Good("dates", "d.csv", "iso,us,eu,zoned,old,far\n"
         "2024-01-31,01/31/2024,31/01/2024,2024-01-31T10:00:00+02:00,1901-05-06,2099-12-31\n"
         "2024-02-01,2/1/2024,1/2/2024,2024-02-01T10:00:00Z,1969-12-31,2040-01-01\n",
         {"iso": "date", "us": "date", "eu": "date", "zoned": "timestamp", "old": "date", "far": "date"},
         [(dt.date(2024, 1, 31), dt.date(2024, 1, 31), dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 8), dt.date(1901, 5, 6), dt.date(2099, 12, 31)),
          (dt.date(2024, 2, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 1), dt.datetime(2024, 2, 1, 10), dt.date(1969, 12, 31), dt.date(2040, 1, 1))],
         warning="converted to UTC"),
    Good("ambiguous_day_month_stays_text", "d.csv", "d\n01/02/2024\n03/04/2024\n", {"d": "string"}, [("01/02/2024",), ("03/04/2024",)]),
    Good("integers_beyond_int64", "big.csv", "id,n\n1,123456789012345678901234567890\n2,9223372036854775808\n3,-5\n",
         {"id": "integer", "n": "decimal"},
         [(1, Decimal("123456789012345678901234567890")), (2, Decimal("9223372036854775808")), (3, Decimal(-5))]),
    Good("integers_beyond_38_digits", "big.csv", "n\n" + "9" * 40 + "\n1\n", {"n": "string"}, [("9" * 40,), ("1",)],
         warning="column 'n' holds integers of more than 38 digits, too long for an exact number; it was imported as text"),
    Good("late_integer_beyond_int64", "big.csv", "n\n" + "1\n" * 150 + "9223372036854775809\n", {"n": "decimal"}, row_count=151,
         options={"sample_rows": 100}, warning="too large to hold exactly"),
    Good("late_integer_beyond_2_53", "big.csv", "n\n" + "1\n" * 150 + "9007199254740993\n", {"n": "decimal"}, row_count=151,
         options={"sample_rows": 100}),
    Good("long_text_cell", "long.csv", "id,text\n1," + "x" * 1_000_000 + "\n2,short\n", {"id": "integer", "text": "string"},
         [(1, "x" * 1_000_000), (2, "short")]),
    Good("missing_markers", "m.csv", "a,b,c\n1,NA,x\n2,N/A,-\n3,null,y\n4,NULL,z\n5,,w\n6,-,v\n7,3,u\n",
         {"a": "integer", "b": "integer", "c": "string"},
         [(1, None, "x"), (2, None, "-"), (3, None, "y"), (4, None, "z"), (5, None, "w"), (6, None, "v"), (7, 3, "u")]),
    Good("late_dash_is_missing", "m.csv", "n\n" + "1\n" * 150 + "-\n", {"n": "integer"}, row_count=151, options={"sample_rows": 100}),
    Good("leading_zero_codes", "z.csv", "zip,n\n75001,1\n01234,2\n", {"zip": "string", "n": "integer"}, [("75001", 1), ("01234", 2)]),
    # Excel.
    Good("xlsx_chosen_sheet", "two.xlsx", lambda: _xlsx(_two_sheets), {"id": "integer", "when": "timestamp", "amount": "float"},
         [(1, dt.datetime(2024, 1, 2), 2.5), (2, dt.datetime(1955, 3, 4, 10, 30), 3.0)], options={"sheet": "Data"}),
    Good("xlsx_first_sheet_says_there_are_others", "two.xlsx", lambda: _xlsx(_two_sheets), {"read me first": "string"}, [],
         warning="the others: 'Data'"),
    Good("xlsx_leading_blank_rows", "b.xlsx", lambda: _xlsx(_leading_blank_rows), {"x": "integer", "y": "integer"}, [(1, 2), (3, 4)]),
    # Parquet.
    Good("parquet_nested_tz_decimal_dictionary_binary", "n.parquet", _nested_parquet,
         {"s": "nested", "l": "nested", "m": "nested", "ts": "timestamp", "d": "decimal", "dict": "string", "bin": "binary"},
         row_count=2, warning="converted to UTC"),
]  # fmt: skip


@pytest.mark.parametrize("case", GOOD, ids=[c.id for c in GOOD])
def test_real_world_file_imports_correctly(
    store: LocalStore, tmp_path: Path, rows_of: Rows, case: Good
) -> None:
    content = case.content() if callable(case.content) else case.content
    source = tmp_path / "upload.bin"
    source.write_bytes(content.encode() if isinstance(content, str) else content)
    version = import_file(
        source, store=store, options=ImportOptions(original_name=case.file_name, **case.options)
    )
    assert {c.name: c.type for c in version.columns} == case.types
    assert [c.name for c in version.columns] == list(case.types)
    rows = rows_of(store.local_path(version.object_id))
    if case.rows is not None:
        assert rows == case.rows
    assert (
        version.row_count
        == len(rows)
        == (case.row_count if case.row_count is not None else len(case.rows or []))
    )
    if case.warning is not None:
        assert any(case.warning in w for w in version.warnings), version.warnings


def test_late_values_keep_their_exact_value(store: LocalStore, src: Any, rows_of: Rows) -> None:
    text = "n,p\n" + "1,-\n" * 150 + "9223372036854775809,-\n"
    version = import_file(src("big.csv", text), store=store, options=ImportOptions(sample_rows=100))
    path = store.local_path(version.object_id)
    assert rows_of(path, "SELECT max(n) FROM v") == [(Decimal("9223372036854775809"),)]
    grouped = import_file(
        src("g.csv", "n\n" + '"1,234"\n' * 150 + '"1,234.5"\n'),
        store=store,
        options=ImportOptions(sample_rows=100),
    )
    assert {c.name: c.type for c in grouped.columns} == {"n": "float"}  # widened, never rounded to 1235
    assert rows_of(store.local_path(grouped.object_id), "SELECT max(n) FROM v") == [(1234.5,)]


def test_parquet_nested_values_survive(store: LocalStore, tmp_path: Path, rows_of: Rows) -> None:
    source = tmp_path / "n.parquet"
    source.write_bytes(_nested_parquet())
    version = import_file(source, store=store)
    rows = rows_of(
        store.local_path(version.object_id), "SELECT s, l, m, ts, d, dict, octet_length(bin) FROM v"
    )
    assert rows == [
        # pyarrow reads naive datetimes given for a zoned type as UTC already.
        ({"x": 1, "y": "a"}, [1, 2], {"k": 1}, dt.datetime(2024, 1, 1, 10), Decimal("1.23"), "a", 2_000_000),
        (
            {"x": 2, "y": None},
            [],
            {"j": 2},
            dt.datetime(1960, 1, 1),
            Decimal("-99999999999999999.99"),
            "b",
            1,
        ),
    ]


def test_ten_thousand_columns_with_types(store: LocalStore, src: Any) -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join(("x" if i % 3 == 0 else str(i)) for i in range(10_000))
    version = import_file(src("wide.csv", f"{header}\n{row}\n{row}\n"), store=store)
    assert version.row_count == 2 and len(version.columns) == 10_000
    assert [c.type for c in version.columns[:3]] == ["string", "integer", "integer"]


@dataclass(frozen=True)
class Bad:
    id: str
    file_name: str
    content: bytes | str | Callable[[], bytes]
    error: type[Exception]
    match: str
    options: dict[str, Any] = field(default_factory=dict)


BAD = [
    Bad("empty_file", "e.csv", b"", EmptyFileError, r"'e.csv' is empty \(0 bytes\)"),
    Bad("bom_only", "e.csv", codecs.BOM_UTF8, EmptyFileError, r"'e.csv' holds no data"),
    Bad("too_many_fields", "r.csv", "a,b\n1,2\n3,4,5\n", RaggedRowsError, r"line 3 of 'r.csv' has 3 field\(s\) but the header has 2.*skipped"),
    Bad("too_few_fields", "r.csv", "a,b,c\n1,2\n", RaggedRowsError, r"line 2 of 'r.csv' has 2 field\(s\) but the header has 3"),
    # DuckDB counts records, not physical lines: the bad row is the third record (line 4 in an editor).
    Bad("ragged_after_quoted_newline", "r.csv", 'a,b\n1,"x\ny"\n3,4,5\n', RaggedRowsError, r"line 3 of 'r.csv' has 3 field\(s\)"),
    Bad("ragged_cp1252", "r.csv", "a;b\né;1\nè;2;3\n".encode("cp1252"), RaggedRowsError, r"line 3 of 'r.csv' has 3 field\(s\)"),
    Bad("bom_and_blank_line_only", "e.csv", codecs.BOM_UTF8 + b"\r\n", EmptyFileError, r"'e.csv' holds no data"),
    Bad("truncated_parquet", "t.parquet", lambda: _nested_parquet()[:5000], CorruptFileError, r"'t.parquet' is a truncated or damaged Parquet file.*export it again"),
    Bad("parquet_without_body", "t.parquet", lambda: _nested_parquet()[:4] + _nested_parquet()[-200:], CorruptFileError, r"'t.parquet' is a damaged Parquet file"),
    Bad("pretty_printed_json", "p.json", '{\n  "a": 1,\n  "b": 2\n}\n', UnsupportedFormatError, r"'p.json' is a JSON document written over several lines; save it as JSON Lines"),
    Bad("xlsx_empty_first_sheet", "e.xlsx", lambda: _xlsx(lambda wb: wb.create_sheet("Data").append(["a"])), EmptyFileError,
        r"sheet 'Sheet' of 'e.xlsx' is empty; choose the sheet that holds the data \(its other sheets: 'Data'\)"),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_real_world_bad_file_is_refused_and_leaves_nothing(
    store: LocalStore, tmp_path: Path, files_in: Callable[[Path], list[Path]], case: Bad
) -> None:
    content = case.content() if callable(case.content) else case.content
    source = tmp_path / "upload.bin"
    source.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(case.error, match=case.match) as caught:
        import_file(source, store=store, options=ImportOptions(original_name=case.file_name, **case.options))
    assert isinstance(caught.value, DatasetImportError) and caught.value.code
    assert files_in(store.root) == [], "a failed import must not leave any file"
