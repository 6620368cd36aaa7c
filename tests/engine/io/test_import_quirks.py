"""What spreadsheet users bring besides plain tables: formulas nobody calculated, Excel errors, numbers
stored as text, headers over several rows, Excel's ``sep=`` line, JSON integers beyond 64 bits, web
pages named .xls… Each file is generated here as real bytes; the table says what the stored version
must hold and which warnings (naming sheet, column and cells) the import must give.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from modelworks.engine.io import (
    CorruptFileError,
    DatasetImportError,
    EmptyFileError,
    ImportOptions,
    InvalidImportOptionError,
    LocalStore,
    RaggedRowsError,
    TypeMismatchError,
    UnsupportedFormatError,
    import_file,
)

Rows = Callable[..., list[tuple[Any, ...]]]


def _xlsx(
    build: Callable[[openpyxl.Workbook], None], patch: Callable[[str, bytes], bytes] | None = None
) -> bytes:
    """A workbook written by openpyxl; ``patch(member, data)`` rewrites its parts as another program
    would have written them (cached formula values, calculation settings)."""
    workbook = openpyxl.Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    if patch is None:
        return buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, patch(item.filename, source.read(item.filename)))
    return out.getvalue()


def _totals(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.title = "Q1"
    sheet.append(["qty", "Total"])
    for row in range(2, 14):
        sheet.append([row, f"=A{row}*2"])


def _cache_values(member: str, data: bytes) -> bytes:
    """Store each formula's value, as Excel does when it saves."""
    if not member.startswith("xl/worksheets/"):
        return data
    return re.sub(
        rb"<f>A(\d+)\*2</f><v */>", lambda m: b"<f>A%s*2</f><v>%d</v>" % (m[1], 2 * int(m[1])), data
    )


def _no_recalc(member: str, data: bytes) -> bytes:
    data = _cache_values(member, data)
    return data.replace(b' fullCalcOnLoad="1"', b"") if member == "xl/workbook.xml" else data


def _placeholders(member: str, data: bytes) -> bytes:
    """Like XlsxWriter: every formula's value stored as 0, and Excel asked to recalculate on opening."""
    if member.startswith("xl/worksheets/"):
        return re.sub(rb"(<f>[^<]*</f>)<v */>", rb"\1<v>0</v>", data)
    return data


def _empty_text_result(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append(["a", "label"])
    sheet.append([1, '=IF(A2>5,"big","")'])


def _text_result_cached(member: str, data: bytes) -> bytes:
    # Excel stores a formula whose result is empty text as t="str" with an empty value.
    if member == "xl/workbook.xml":
        return data.replace(b' fullCalcOnLoad="1"', b"")
    if not member.startswith("xl/worksheets/"):
        return data
    return data.replace(b'<c r="B2"><f>', b'<c r="B2" t="str"><f>').replace(b"<v />", b"<v></v>")


def _offset_table_with_formula(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet["C3"], sheet["D3"] = "id", "double"
    sheet["C4"], sheet["D4"] = 1, "=C4*2"
    sheet["C5"], sheet["D5"] = 2, 4


def _errors(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.title = "Ratios"
    sheet.append(["name", "ratio"])
    sheet.append(["a", 0.5])
    sheet.append(["b", "#DIV/0!"])
    sheet.append(["c", "#N/A"])
    sheet.append(["d", 2])


def _text_numbers(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append(["n", "zip", "code"])
    sheet.append([1, "01234", "7"])
    sheet.append(["2", "75001", "x7"])
    sheet.append([3.5, "10115", "8"])


def _lost_date_format(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append(["when", "count"])
    sheet.append([dt.datetime(2024, 1, 1), 45292])
    sheet.append([45293, 45293])
    sheet.append([dt.datetime(2024, 1, 3), 1])


def _lost_date_format_1904(workbook: openpyxl.Workbook) -> None:
    # Excel for Mac's 1904 date system: the same day is a number 1,462 lower.
    workbook.epoch = CALENDAR_MAC_1904
    _lost_date_format(workbook)
    workbook.active["A3"] = 43831


def _titled_two_row_header(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append(["Monthly report"])
    sheet.append(["Region", "Sales", None])
    sheet.append([None, "Q1", "Q2"])
    sheet.append(["N", 1, 2])


def _hidden_first(workbook: openpyxl.Workbook) -> None:
    lookup = workbook.active
    lookup.title = "Lookup"
    lookup.append(["code"])
    lookup.sheet_state = "hidden"
    data = workbook.create_sheet("Data")
    data.append(["a"])
    data.append([1])


def _durations(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append(["task", "took"])
    sheet.append(["a", dt.timedelta(hours=30, minutes=5)])
    sheet.append(["b", dt.timedelta(minutes=1, seconds=30)])


def _two_row_header(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append([])  # a blank row above the table
    sheet.append(["Region", "Sales 2024", None, "Costs 2024", None])
    sheet.append([None, "Q1", "Q2", "Q1", "Q2"])
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("D2:E2")
    sheet.merge_cells("A2:A3")
    sheet.append(["North", 10, 11, 5, 6.5])
    sheet.append(["South", 20, 21, 7, 8])


def _title_row(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append(["Region", "Sales 2024", None])
    sheet.append([None, "Q1", "Q2"])


def _titled(workbook: openpyxl.Workbook) -> None:
    sheet = workbook.active
    sheet.append(["Monthly report"])
    sheet.append([])
    sheet.append(["a", "b", "c"])
    sheet.append([1, 2, 3])


@dataclass(frozen=True)
class Good:
    id: str
    file_name: str
    content: bytes | str | Callable[[], bytes]
    types: dict[str, str]
    rows: list[tuple[Any, ...]] | None = None  # all rows, in order (None: only count them)
    row_count: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # substrings, each found in one of the warnings
    quiet: bool = False  # no warning at all


_MONTHLY = ["Region", "Sales 2024 / Q1", "Sales 2024 / Q2", "Costs 2024 / Q1", "Costs 2024 / Q2"]
_BIG = "123456789012345678901234567890"

GOOD = [
    # Formulas: never evaluated; a missing value is reported, a stored one is read.
    Good("xlsx_formulas_never_calculated", "q.xlsx", lambda: _xlsx(_totals), {"qty": "integer", "Total": "string"},
         [(r, None) for r in range(2, 14)],
         warnings=("12 cells of column 'Total' on sheet 'Q1' are formulas Excel never calculated (B2, B3, B4, B5, B6, …)",
                   "open and save the file in Excel or LibreOffice")),
    Good("xlsx_formulas_calculated", "q.xlsx", lambda: _xlsx(_totals, _no_recalc), {"qty": "integer", "Total": "integer"},
         [(r, 2 * r) for r in range(2, 14)], quiet=True),
    Good("xlsx_formula_empty_text_result", "t.xlsx", lambda: _xlsx(_empty_text_result, _text_result_cached),
         {"a": "integer", "label": "string"}, [(1, None)], quiet=True),
    Good("xlsx_formula_placeholders_recalc_on_open", "x.xlsx", lambda: _xlsx(_totals, _placeholders),
         {"qty": "integer", "Total": "integer"}, row_count=12,
         warnings=("sheet 'Q1' holds 12 formula cell(s) whose stored values may be placeholders",)),
    Good("xlsx_offset_table_formula_named_by_its_cell", "o.xlsx", lambda: _xlsx(_offset_table_with_formula),
         {"id": "integer", "double": "integer"}, [(1, None), (2, 4)],
         warnings=("the table on sheet 'Sheet' starts at column C; the empty columns A to B on its left were left out",
                   "1 cell of column 'double' on sheet 'Sheet' is a formula Excel never calculated (D4)")),
    # Cells whose type is not what the column holds.
    Good("xlsx_error_values", "r.xlsx", lambda: _xlsx(_errors), {"name": "string", "ratio": "float"},
         [("a", 0.5), ("b", None), ("c", None), ("d", 2.0)],
         warnings=("2 cells of column 'ratio' on sheet 'Ratios' hold an Excel error (#DIV/0!, #N/A: B3, B4); imported as empty",)),
    Good("xlsx_numbers_stored_as_text", "n.xlsx", lambda: _xlsx(_text_numbers), {"n": "float", "zip": "string", "code": "string"},
         [(1.0, "01234", "7"), (2.0, "75001", "x7"), (3.5, "10115", "8")],
         warnings=("1 cell of column 'n' on sheet 'Sheet' holds a number stored as text (A3) among numbers; read as numbers",)),
    Good("xlsx_dates_that_lost_their_format", "d.xlsx", lambda: _xlsx(_lost_date_format), {"when": "date", "count": "integer"},
         [(dt.date(2024, 1, 1), 45292), (dt.date(2024, 1, 2), 45293), (dt.date(2024, 1, 3), 1)],
         warnings=("1 cell of column 'when' on sheet 'Sheet' holds a number among dates (A3)",)),
    Good("xlsx_1904_dates_that_lost_their_format", "d.xlsx", lambda: _xlsx(_lost_date_format_1904), {"when": "date", "count": "integer"},
         [(dt.date(2024, 1, 1), 45292), (dt.date(2024, 1, 2), 45293), (dt.date(2024, 1, 3), 1)],
         warnings=("1 cell of column 'when' on sheet 'Sheet' holds a number among dates (A3)",)),
    Good("xlsx_hidden_first_sheet_passed_over", "h.xlsx", lambda: _xlsx(_hidden_first), {"a": "integer"}, [(1,)],
         warnings=("the first visible one, 'Data', was imported (the others: 'Lookup' (hidden))",)),
    Good("xlsx_durations_as_excel_shows_them", "d.xlsx", lambda: _xlsx(_durations), {"task": "string", "took": "string"},
         [("a", "30:05:00"), ("b", "0:01:30")], quiet=True),
    # Headers over several rows.
    Good("xlsx_two_row_header_merged_cells", "m.xlsx", lambda: _xlsx(_two_row_header),
         dict(zip(_MONTHLY, ["string", "integer", "integer", "integer", "float"], strict=True)),
         [("North", 10, 11, 5, 6.5), ("South", 20, 21, 7, 8.0)], options={"header_rows": 2, "sheet": 0}),
    Good("xlsx_header_rows_without_data", "m.xlsx", lambda: _xlsx(_title_row), {"Region": "string", "Sales 2024 / Q1": "string",
         "Sales 2024 / Q2": "string"}, [], options={"header_rows": 2}),
    Good("csv_two_row_header_excel_export", "m.csv", ",Sales 2024,,Costs 2024,\r\nRegion,Q1,Q2,Q1,Q2\r\nNorth,10,11,5,6.5\r\nSouth,20,21,7,8\r\n",
         dict(zip(_MONTHLY, ["string", "integer", "integer", "integer", "float"], strict=True)),
         [("North", 10, 11, 5, 6.5), ("South", 20, 21, 7, 8.0)], options={"header_rows": 2}, quiet=True),
    Good("csv_three_row_header_groups_do_not_spill", "g.csv", "A,,B,\nx,,,y\n1,2,3,4\n5,6,7,8\n",
         {"A / x / 1": "integer", "A / x / 2": "integer", "B / 3": "integer", "B / y / 4": "integer"},
         [(5, 6, 7, 8)], options={"header_rows": 3}),
    Good("csv_quoted_header_with_line_break", "q.csv", '"first\r\nname",age\r\nAnn,3\r\n', {"first name": "string", "age": "integer"},
         [("Ann", 3)], quiet=True),
    Good("csv_two_row_header_quoted_line_breaks", "q.csv", '"Region\nname";"Sales"\n;"Q1"\nN;1\n', {"Region name": "string", "Sales / Q1": "integer"},
         [("N", 1)], options={"header_rows": 2}),
    Good("csv_two_row_header_type_chosen", "t.csv", "a,b\nx,y\n1,2\n", {"a / x": "integer", "b / y": "string"}, [(1, "2")],
         options={"header_rows": 2, "types": {"b / y": "string"}}),
    # A title or notes above the table.
    Good("csv_title_and_notes_skipped", "t.csv", "Sales report\n\nGenerated 2024-01-01, by ops\nregion,amount\nN,1\n",
         {"region": "string", "amount": "integer"}, [("N", 1)], options={"skip_rows": 3}, quiet=True),
    Good("csv_title_skipped_blank_lines_below_it_too", "t.csv", "Sales report\n\n \nregion,amount\nN,1\n",
         {"region": "string", "amount": "integer"}, [("N", 1)], options={"skip_rows": 1}, quiet=True),
    Good("csv_blank_lines_above_the_table", "b.csv", "\r\n  \r\na,b\r\n1,2\r\n", {"a": "integer", "b": "integer"}, [(1, 2)], quiet=True),
    Good("csv_blank_lines_after_bom_and_sep_line", "b.csv", codecs.BOM_UTF8 + b"sep=;\n\na;b\n1;2\n", {"a": "integer", "b": "integer"},
         [(1, 2)], quiet=True),
    Good("csv_title_over_two_lines_skipped", "t.csv", '"Report\nfor 2024"\na,b\n1,2\n', {"a": "integer", "b": "integer"}, [(1, 2)],
         options={"skip_rows": 1}),
    Good("csv_title_skipped_without_header", "t.csv", "Title\n1,2\n3,4\n", {"column_1": "integer", "column_2": "integer"},
         [(1, 2), (3, 4)], options={"skip_rows": 1, "header": False}),
    Good("csv_sep_line_title_and_two_row_header", "t.csv", "sep=;\nTitle\n;Sales\nRegion;Q1\nN;1\n",
         {"Region": "string", "Sales / Q1": "integer"}, [("N", 1)], options={"skip_rows": 1, "header_rows": 2}),
    Good("xlsx_title_skipped", "t.xlsx", lambda: _xlsx(_titled), {"a": "integer", "b": "integer", "c": "integer"}, [(1, 2, 3)],
         options={"skip_rows": 2}, quiet=True),
    Good("xlsx_title_skipped_two_row_header", "t.xlsx", lambda: _xlsx(_titled_two_row_header),
         {"Region": "string", "Sales / Q1": "integer", "Sales / Q2": "integer"}, [("N", 1, 2)],
         options={"skip_rows": 1, "header_rows": 2}, quiet=True),
    Good("xlsx_title_taken_for_header_says_how_to_skip_it", "t.xlsx", lambda: _xlsx(_titled),
         {"Monthly report": "string", "column_2": "string", "column_3": "string"}, [("a", "b", "c"), ("1", "2", "3")],
         options={"duplicate_headers": "rename"},
         warnings=("the header row of sheet 'Sheet' (row 1) names only one of 3 columns ('Monthly report'); if it is a title above "
                   "the table, import again with skip_rows",)),
    # Excel's "sep=" line names the delimiter.
    Good("csv_excel_sep_line", "s.csv", "sep=;\na;b\n1,5;2\n", {"a": "float", "b": "integer"}, [(1.5, 2)], quiet=True),
    Good("csv_excel_sep_line_quoted_crlf_bom", "s.csv", codecs.BOM_UTF8 + b'"sep=,"\r\na,b\r\n1,2\r\n', {"a": "integer", "b": "integer"},
         [(1, 2)], quiet=True),
    Good("csv_excel_sep_line_with_two_row_header", "s.csv", "sep=|\n|Sales\nRegion|Q1\nN|1\n", {"Region": "string", "Sales / Q1": "integer"},
         [("N", 1)], options={"header_rows": 2}),
    Good("csv_column_named_sep_is_not_a_sep_line", "s.csv", "sepal,width\n1,2\n", {"sepal": "integer", "width": "integer"}, [(1, 2)]),
    # What old systems leave after the last line.
    Good("csv_dos_end_of_file_mark", "d.csv", b"a,b\r\n1,2\r\n3,4\r\n\x1a", {"a": "integer", "b": "integer"}, [(1, 2), (3, 4)], quiet=True),
    Good("csv_dos_end_of_file_mark_without_newline", "d.csv", b"a,b\r\n1,x\x1a", {"a": "integer", "b": "string"}, [(1, "x")]),
    Good("csv_lines_of_spaces_at_the_end", "s.csv", "a,b\n1,x  \n   \n\t\n", {"a": "integer", "b": "string"}, [(1, "x  ")]),
    # Spaces around values: "a, b" files, padded exports. Numbers, dates and booleans are read; text keeps them.
    Good("csv_spaces_after_delimiters", "s.csv", "a, b, d, e, t\n1, 2.5, 2024-01-01, true,  x\n3, 4, 2024-01-02, false, y \n",
         {"a": "integer", "b": "float", "d": "date", "e": "boolean", "t": "string"},
         [(1, 2.5, dt.date(2024, 1, 1), True, "  x"), (3, 4.0, dt.date(2024, 1, 2), False, " y ")], quiet=True),
    Good("csv_padded_columns", "p.txt", "a|b|c\n   12|  x| 1,5\n  345|  y|2,25 \n", {"a": "integer", "b": "string", "c": "float"},
         [(12, "  x", 1.5), (345, "  y", 2.25)]),
    Good("csv_late_padded_value", "n.csv", "n\n" + "1\n" * 150 + " 7 \n", {"n": "integer"}, [(1,)] * 150 + [(7,)],
         options={"sample_rows": 100}, quiet=True),
    # ="00123": how exports make Excel keep leading zeros.
    Good("csv_excel_text_wrapper", "w.csv", 'id,code,quoted\n1,="00123","=""A-1"""\n2,="04567","=""B-2"""\n',
         {"id": "integer", "code": "string", "quoted": "string"}, [(1, "00123", "A-1"), (2, "04567", "B-2")],
         warnings=("column 'code' holds values written =\"…\" (so that Excel keeps them as text",
                   "column 'quoted' holds values written")),
    Good("csv_excel_text_wrapper_late_plain_value_kept", "w.csv", "code\n" + '="007"\n' * 120 + "8\n", {"code": "string"},
         [("007",)] * 120 + [("8",)], options={"sample_rows": 100}),
    Good("csv_formula_like_text_is_not_unwrapped", "w.csv", 'f\n=SUM(A1)\n="x"\n', {"f": "string"}, [("=SUM(A1)",), ('="x"',)], quiet=True),
    Good("utf16_unicode_text_as_excel_saves_it", "u.txt", codecs.BOM_UTF16_LE + "name\tcity\r\nAnn\tMálaga\r\n".encode("utf-16-le"),
         {"name": "string", "city": "string"}, [("Ann", "Málaga")]),
    # JSON integers beyond 64 bits stay exact, as in CSV.
    Good("jsonl_integers_beyond_int64", "b.jsonl", f'{{"id": 1, "n": {_BIG}, "u": 9223372036854775808}}\n{{"id": 2, "n": -5, "u": 1}}\n',
         {"id": "integer", "n": "decimal", "u": "decimal"},
         [(1, Decimal(_BIG), Decimal("9223372036854775808")), (2, Decimal(-5), Decimal(1))], quiet=True),
    Good("jsonl_integers_beyond_38_digits", "b.jsonl", '{"n": ' + "9" * 40 + '}\n{"n": 1}\n', {"n": "string"}, [("9" * 40,), ("1",)],
         warnings=("column 'n' holds integers of more than 38 digits (up to 40)",)),
    Good("jsonl_big_integer_beyond_sample", "b.jsonl", '{"n": 1}\n' * 150 + '{"n": 9223372036854775809}\n', {"n": "decimal"},
         row_count=151, options={"sample_rows": 100}),
    Good("jsonl_floats_stay_floats", "f.jsonl", '{"x": 1.5, "id": "1234567890123456789012"}\n{"x": 2, "id": "7"}\n',
         {"x": "float", "id": "string"}, [(1.5, "1234567890123456789012"), (2.0, "7")], quiet=True),
    Good("jsonl_with_byte_order_mark", "b.jsonl", codecs.BOM_UTF8 + b'{"a": 1}\n{"a": 2}\n', {"a": "integer"}, [(1,), (2,)], quiet=True),
    Good("jsonl_crlf_big_integer", "b.jsonl", b'{"a": 1}\r\n{"a": 99999999999999999999}\r\n', {"a": "decimal"},
         [(Decimal(1),), (Decimal("99999999999999999999"),)], quiet=True),
    Good("jsonl_keys_differing_in_case_keep_their_values", "k.jsonl", '{"A": 1, "a": 5, "n": 123456789012345678901}\n',
         {"A": "integer", "a_1": "integer", "n": "float"}, [(1, 5, 1.2345678901234568e20)],
         warnings=("column 'n' holds integers beyond 64 bits, read as rounded floating-point numbers because keys of the file "
                   "differ only in case ('A' and 'a')",)),
    Good("jsonl_big_integer_chosen_as_string", "b.jsonl", f'{{"n": {_BIG}}}\n', {"n": "string"}, [(_BIG,)],
         options={"types": {"n": "string"}}),
]  # fmt: skip


@pytest.mark.parametrize("case", GOOD, ids=[c.id for c in GOOD])
def test_spreadsheet_quirk_imports_as_users_expect(
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
    for expected in case.warnings:
        assert any(expected in warning for warning in version.warnings), version.warnings
    if case.quiet:
        assert version.warnings == (), version.warnings


@dataclass(frozen=True)
class Bad:
    id: str
    file_name: str
    content: bytes | str | Callable[[], bytes]
    error: type[Exception]
    match: str
    options: dict[str, Any] = field(default_factory=dict)


def _strict_ooxml(member: str, data: bytes) -> bytes:
    """As Excel writes "Strict Open XML Spreadsheet": other namespaces for the same parts."""
    return data.replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    ).replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
    )


def _no_sheets(member: str, data: bytes) -> bytes:
    return re.sub(rb"<sheet [^>]*/>", b"", data) if member == "xl/workbook.xml" else data


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _ole(*streams: str) -> bytes:
    """An OLE compound file head naming its streams (directory entries are UTF-16 names)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return header + b"".join(name.encode("utf-16-le").ljust(128, b"\x00") for name in streams)


def _one_cell(workbook: openpyxl.Workbook) -> None:
    workbook.active.append(["a"])


_HTML_TABLE = "<html><head><meta charset='utf-8'></head><body><table><tr><th>a</th></tr><tr><td>1</td></tr></table></body></html>"
_XML_2003 = (
    '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet/></Workbook>\n'
)

BAD = [
    Bad("html_table_named_xls", "report.xls", _HTML_TABLE, UnsupportedFormatError,
        r"'report.xls' is a web page \(HTML\) holding a table, not a spreadsheet .* save it as .xlsx or CSV"),
    Bad("html_table_utf16_named_xls", "report.xls", codecs.BOM_UTF16_LE + _HTML_TABLE.encode("utf-16-le"), UnsupportedFormatError,
        r"web page \(HTML\) holding a table"),
    Bad("excel_2003_xml_named_xls", "old.xls", _XML_2003, UnsupportedFormatError,
        r"'old.xls' is an Excel 2003 XML spreadsheet, not a current workbook; open it in Excel or LibreOffice and save it as .xlsx"),
    Bad("login_page_saved_as_csv", "export.csv", "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>\n",
        UnsupportedFormatError, r"'export.csv' is a web page \(HTML\), not data: often a login or error page .* download the data again"),
    Bad("xlsx_strict_open_xml", "s.xlsx", lambda: _xlsx(_one_cell, _strict_ooxml), UnsupportedFormatError,
        r"'s.xlsx' is an Excel workbook saved as \"Strict Open XML Spreadsheet\", which cannot be read; .* \"Excel Workbook \(.xlsx\)\""),
    Bad("xlsx_without_sheets", "n.xlsx", lambda: _xlsx(_one_cell, _no_sheets), CorruptFileError, r"'n.xlsx' holds no sheets that can be read"),
    Bad("xlsb_binary_workbook", "b.xlsb", lambda: _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01"}),
        UnsupportedFormatError, r"'b.xlsb' is an Excel binary workbook \(.xlsb\); open it in Excel and save it as .xlsx or CSV"),
    Bad("ods_spreadsheet", "c.ods", lambda: _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}),
        UnsupportedFormatError, r"'c.ods' is an OpenDocument spreadsheet \(.ods\); open it in LibreOffice or Excel and save it as .xlsx"),
    Bad("word_document", "d.docx", lambda: _zip({"word/document.xml": b"<w/>"}), UnsupportedFormatError, r"a Word or PowerPoint document, not a table"),
    Bad("password_protected_xlsx", "p.xlsx", lambda: _ole("Root Entry", "EncryptionInfo", "EncryptedPackage"), UnsupportedFormatError,
        r"'p.xlsx' is a password-protected Excel workbook; open it in Excel, remove the password to open"),
    Bad("header_rows_type_mismatch_names_the_file_line", "h.csv", ",Sales\nRegion,Q1\nN,1\nS,x\n", TypeMismatchError,
        r"column 'Sales / Q1' was set to integer, but line 4 of 'h.csv' holds 'x'", {"header_rows": 2, "types": {"Sales / Q1": "integer"}}),
    Bad("header_rows_ragged_names_the_file_line", "h.csv", ",Sales\nRegion,Q1\nN,1\nS,2,3\n", RaggedRowsError,
        r"line 4 of 'h.csv' has 3 field\(s\) but the header has 2", {"header_rows": 2}),
    Bad("sep_line_ragged_names_the_file_line", "s.csv", "sep=;\na;b\n1;2\n3;4;5\n", RaggedRowsError, r"line 4 of 's.csv' has 3 field\(s\)"),
    Bad("title_line_taken_for_header_says_how_to_skip_it", "t.csv", "Report\nname,age\nAnn,3\n", RaggedRowsError,
        r"line 2 of 't.csv' has 2 field\(s\) but the header has 1: .* import with skip_rows set to their number"),
    Bad("skip_rows_past_the_end_csv", "t.csv", "Title\na,b\n", EmptyFileError,
        r"'t.csv' holds nothing below the 5 line\(s\) left out \(skip_rows\) .* choose fewer lines to skip", {"skip_rows": 5}),
    Bad("skip_rows_past_the_end_xlsx", "t.xlsx", lambda: _xlsx(_titled), EmptyFileError,
        r"sheet 'Sheet' of 't.xlsx' holds nothing below the 9 row\(s\) left out \(skip_rows\); choose fewer rows", {"skip_rows": 9}),
    Bad("skip_rows_negative", "h.csv", "a\n1\n", InvalidImportOptionError, r"skip_rows must be a whole number from 0 to 100,000 .* not -1",
        {"skip_rows": -1}),
    Bad("skip_rows_text", "h.csv", "a\n1\n", InvalidImportOptionError, r"skip_rows must be a whole number .* not '1'", {"skip_rows": "1"}),
    Bad("header_rows_zero", "h.csv", "a\n1\n", InvalidImportOptionError, r"header_rows must be a whole number from 1 to 10 .* not 0",
        {"header_rows": 0}),
    Bad("header_rows_eleven", "h.csv", "a\n1\n", InvalidImportOptionError, r"header_rows must be a whole number from 1 to 10 .* not 11",
        {"header_rows": 11}),
    Bad("header_rows_text", "h.csv", "a\n1\n", InvalidImportOptionError, r"header_rows must be a whole number .* not '2'", {"header_rows": "2"}),
    Bad("header_rows_boolean", "h.csv", "a\n1\n", InvalidImportOptionError, r"header_rows must be a whole number .* not True", {"header_rows": True}),
    Bad("header_rows_without_header", "h.csv", "a\n1\n", InvalidImportOptionError, r"header_rows is 2 but header is off",
        {"header_rows": 2, "header": False}),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_spreadsheet_quirk_refused_with_advice(
    store: LocalStore, tmp_path: Path, files_in: Callable[[Path], list[Path]], case: Bad
) -> None:
    content = case.content() if callable(case.content) else case.content
    source = tmp_path / "upload.bin"
    source.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(case.error, match=case.match) as caught:
        import_file(source, store=store, options=ImportOptions(original_name=case.file_name, **case.options))
    assert isinstance(caught.value, DatasetImportError) and caught.value.code
    assert files_in(store.root) == [], "a failed import must not leave any file"
