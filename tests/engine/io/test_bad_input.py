"""Bad input: every case raises its own error with a message saying what, where and how to fix it,
and leaves nothing behind (no object, no staging file, no scratch file in the store).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from modelworks.engine.io import (
    CorruptFileError,
    DatasetImportError,
    DuplicateHeaderError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    FormatMismatchError,
    ImportOptions,
    InvalidImportOptionError,
    LocalStore,
    NulByteError,
    RaggedRowsError,
    SheetNotFoundError,
    TooManyColumnsError,
    TypeMismatchError,
    UnsupportedFormatError,
    import_file,
)


def _parquet_bytes(query: str = "SELECT 1 AS a") -> bytes:
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.parquet"
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
        con.close()
        return path.read_bytes()


def _xlsx_bytes(rows: list[list[Any]], title: str = "Data") -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.title = title
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _mixed_encoding() -> bytes:
    # More than the 1 MiB that encoding detection reads, in UTF-8, then one Latin-1 line.
    good = "".join(f"{i},café\n" for i in range(90_000)).encode("utf-8")
    return b"id,name\n" + good + "90000,caf\xe9 cr\xe8me\n".encode("latin-1") + b"90001,ok\n"


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    content: bytes | Callable[[], bytes]
    error: type[Exception]
    match: str
    options: dict[str, Any] = field(default_factory=dict)
    format: str | None = None


CASES = [
    Case("ragged_more", "r.csv", b"a,b,c\n1,2,3\n4,5,6,7\n", RaggedRowsError, r"line 3 of 'r.csv' has 4 field\(s\) but the header has 3.*skipped"),
    Case("ragged_fewer", "r.csv", b"a,b,c\n1,2,3\n4,5\n", RaggedRowsError, r"line 3 .* has 2 field\(s\) but the header has 3"),
    Case("unclosed_quote", "q.csv", b'a,b\n1,"open\n2,x\n', CorruptFileError, r"line 2 .* opens a quote that is never closed"),
    Case("latin1_declared_utf8", "l.csv", "ville\nMálaga\nBesançon\nKöln\n".encode("latin-1"), EncodingError,
         r"'l.csv' is not valid utf-8 text .* looks like 'cp1252': choose that encoding", {"encoding": "utf-8"}),
    Case("mixed_encodings", "m.csv", _mixed_encoding, EncodingError, r"line 90002 of 'm.csv' is not valid UTF-8 .* mixes encodings"),
    Case("unknown_encoding", "u.csv", b"a\n1\n", InvalidImportOptionError, r"encoding 'klingon' is unknown", {"encoding": "klingon"}),
    Case("nul_byte", "n.csv", b"a,b\n" + b"1,ok\n" * 50 + b"2,x\x00y\n", NulByteError, r"line 52 of 'n.csv' holds a NUL byte"),
    Case("nul_byte_in_number", "n.csv", b"a,b\n" + b"1,2\n" * 30 + b"3\x00,4\n", NulByteError, r"line 32 of 'n.csv' holds a NUL byte"),
    Case("nul_byte_cp1252", "n.csv", "a,b\n1,é\n2,x\x00\n".encode("cp1252"), NulByteError, r"line 3 .* NUL byte", {"encoding": "cp1252"}),
    Case("duplicate_header_rejected", "d.csv", b"a,b,a\n1,2,3\n", DuplicateHeaderError, r"duplicate column names: 'a' \(columns 1 and 3\)",
         {"duplicate_headers": "reject"}),
    Case("zero_bytes", "e.csv", b"", EmptyFileError, r"'e.csv' is empty \(0 bytes\)"),
    Case("blank_lines_only", "b.csv", b"\n\n  \n", EmptyFileError, r"holds no data"),
    Case("csv_that_is_parquet", "sales.csv", lambda: _parquet_bytes(), FormatMismatchError,
         r"'sales.csv' is named like a .csv file, but its content is a Parquet file.*format 'parquet'"),
    Case("csv_that_is_xlsx", "sales.csv", lambda: _xlsx_bytes([["a"], [1]]), FormatMismatchError, r"content is an Excel workbook"),
    Case("xlsx_that_is_text", "book.xlsx", b"a,b\n1,2\n", FormatMismatchError, r"named like a .xlsx file, but its content is delimited text"),
    Case("csv_that_is_png", "pic.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), UnsupportedFormatError, r"'pic.csv' is a PNG image"),
    Case("binary_garbage", "x.csv", bytes(range(256)) * 8, UnsupportedFormatError, r"is a binary file, not text"),
    Case("plain_zip", "x.zip", lambda: _zip_bytes({"data.csv": b"a\n1\n"}), UnsupportedFormatError, r"a zip archive; extract the data file"),
    Case("legacy_xls", "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), UnsupportedFormatError, r"legacy Excel 97-2003 .* save it as .xlsx"),
    Case("gzip", "data.csv.gz", b"\x1f\x8b\x08\x00" + bytes(100), UnsupportedFormatError, r"gzip-compressed file; decompress it first"),
    Case("json_array", "a.json", b'[{"a": 1}, {"a": 2}]', UnsupportedFormatError, r"JSON array .* convert it to JSON Lines"),
    Case("chosen_format_lies", "x.csv", b"a,b\n1,2\n", FormatMismatchError, r"format 'parquet' was chosen .* content is delimited text", format="parquet"),
    Case("unknown_format", "x.csv", b"a\n1\n", InvalidImportOptionError, r"format 'xml' is not supported", format="xml"),
    Case("truncated_parquet", "t.parquet", lambda: _parquet_bytes("SELECT range AS a FROM range(1000)")[:-30], CorruptFileError,
         r"truncated or damaged Parquet file"),
    Case("corrupt_parquet", "c.parquet", b"PAR1" + bytes(64) + b"PAR1", CorruptFileError, r"'c.parquet' is a damaged Parquet file"),
    Case("broken_xlsx", "b.xlsx", lambda: _zip_bytes({"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"<x/>"}),
         CorruptFileError, r"could not be opened as an Excel workbook"),
    Case("missing_sheet", "s.xlsx", lambda: _xlsx_bytes([["a"], [1]], "Q1"), SheetNotFoundError, r"no sheet named 'Q2'; its sheets are 'Q1'",
         {"sheet": "Q2"}),
    Case("sheet_position", "s.xlsx", lambda: _xlsx_bytes([["a"], [1]]), SheetNotFoundError, r"no sheet at position 3", {"sheet": 3}),
    Case("excel_override_mismatch", "s.xlsx", lambda: _xlsx_bytes([["qty"], [1], ["many"]], "Q1"), TypeMismatchError,
         r"column 'qty' was set to integer, but row 3 of sheet 'Q1' of 's.xlsx' holds 'many'", {"types": {"qty": "integer"}}),
    Case("malformed_json_line", "e.jsonl", b'{"a": 1}\n{"a": \n', CorruptFileError, r"line 2 of 'e.jsonl' is not a JSON object"),
    Case("json_line_not_object", "e.jsonl", b'{"a": 1}\n[1, 2]\n', CorruptFileError, r"is not a JSON object"),
    Case("json_override_mismatch", "e.jsonl", b'{"a": "1"}\n{"a": "x"}\n', TypeMismatchError, r"column 'a' was set to integer, but JSON record 2",
         {"types": {"a": "integer"}}),
    Case("override_mismatch", "o.csv", b"id,age\n1,31\n2,42\n3,abc\n", TypeMismatchError,
         r"column 'age' was set to integer, but line 4 of 'o.csv' holds 'abc'.*choose another type", {"types": {"age": "integer"}}),
    Case("override_rounding_refused", "o.csv", b"id,age\n1,31\n2,4.5\n", TypeMismatchError, r"line 3 .* holds '4.5'", {"types": {"age": "integer"}}),
    Case("override_date_mismatch", "o.csv", b"id,day\n1,2024-01-01\n2,yesterday\n", TypeMismatchError, r"set to date, but line 3 .* 'yesterday'",
         {"types": {"day": "date"}}),
    Case("override_unknown_column", "o.csv", b"id,age\n1,2\n", InvalidImportOptionError, r"no such column; did you mean 'age'\?", {"types": {"agee": "integer"}}),
    Case("override_unknown_type", "o.csv", b"id,age\n1,2\n", InvalidImportOptionError, r"type 'int' .* choose one of string, integer", {"types": {"age": "int"}}),
    Case("bad_rows_option", "o.csv", b"a\n1\n", InvalidImportOptionError, r"bad_rows must be one of error, skip, not 'ignore'",
         {"bad_rows": "ignore"}),
    Case("types_option", "o.csv", b"a\n1\n", InvalidImportOptionError, r"types must map column names to type names", {"types": {"a": 5}}),
    Case("sample_rows_option", "o.csv", b"a\n1\n", InvalidImportOptionError, r"sample_rows must be a whole number", {"sample_rows": 0}),
    Case("bad_delimiter", "o.csv", b"a\n1\n", InvalidImportOptionError, r"delimiter must be a single character", {"delimiter": ";;"}),
    Case("over_size_limit", "big.csv", b"a\n" + b"1\n" * 600, FileTooLargeError, r"'big.csv' is 1.2 KiB, more than the limit of 1.0 KiB", {"max_bytes": 1024}),
    Case("too_many_columns", "w.csv", lambda: (",".join(f"c{i}" for i in range(10_001)) + "\n").encode(), TooManyColumnsError,
         r"has 10,001 columns, more than the limit of 10,000"),
    Case("too_many_columns_configured", "w.csv", b"a,b,c\n1,2,3\n", TooManyColumnsError, r"3 columns, more than the limit of 2", {"max_columns": 2}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_and_leaves_nothing(
    store: LocalStore, tmp_path: Path, files_in: Callable[[Path], list[Path]], case: Case
) -> None:
    content = case.content() if callable(case.content) else case.content
    source = tmp_path / "upload.bin"
    source.write_bytes(content)
    with pytest.raises(case.error, match=case.match) as caught:
        import_file(
            source,
            store=store,
            format=case.format,
            options=ImportOptions(original_name=case.filename, **case.options),
        )
    assert isinstance(caught.value, DatasetImportError)
    assert caught.value.code  # a stable code for the API
    assert files_in(store.root) == [], "a failed import must not leave any file"
    assert source.read_bytes() == content, "the source is never modified"


def test_size_limit_is_checked_before_reading(store: LocalStore, tmp_path: Path) -> None:
    # A sparse 10 GiB file: reading it would take minutes; the limit check must not.
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.truncate(10 * 1024**3)
    with pytest.raises(FileTooLargeError, match=r"10.0 GiB, more than the limit of 100.0 MiB") as caught:
        import_file(huge, store=store, options=ImportOptions(max_bytes=100 * 1024**2))
    assert caught.value.details == {"file": "huge.csv", "size": 10 * 1024**3, "limit": 100 * 1024**2}


def test_missing_source_file(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(DatasetImportError, match="no longer exists"):
        import_file(tmp_path / "gone.csv", store=store)


def test_a_failure_after_writing_leaves_nothing(
    store: LocalStore, tmp_path: Path, files_in: Callable[[Path], list[Path]]
) -> None:
    # The bad value is the very last line: DuckDB has already written row groups when it fails.
    source = tmp_path / "late.csv"
    source.write_text("id,n\n" + "".join(f"{i},{i}\n" for i in range(300_000)) + "x,bad\n")
    with pytest.raises(TypeMismatchError, match="line 300002"):
        import_file(source, store=store, options=ImportOptions(types={"id": "integer"}))
    assert files_in(store.root) == []
