"""Excel workbooks (.xlsx): one sheet, streamed row by row into the CSV path.

openpyxl's read-only mode streams the sheet XML, so memory stays flat whatever the sheet size. Cells
arrive typed (number, date, text, boolean); the rows are written to a UTF-8 CSV in the scratch folder
and the column types are taken from the cells themselves (no sampling), then the CSV goes through the
same DuckDB pass as any CSV, so type overrides and errors behave the same. Formulas are read as their
last computed value (a formula never saved by Excel reads as empty); nothing is ever evaluated.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from modelworks.engine.io.errors import CorruptFileError, EmptyFileError, NulByteError, SheetNotFoundError
from modelworks.engine.io.versions import ImportOptions

__all__ = ["ExcelSheet", "sheet_to_csv"]

_MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class ExcelSheet:
    """A sheet written out as CSV, with what is needed to read it back.

    Attributes:
        csv_path: the CSV in the scratch folder (first line: the header row, if any).
        sheet: the sheet's name.
        header: the header row, padded to the sheet's width (all None without a header).
        types: the DuckDB type of each column, from the cell types.
        where: names a CSV line as a place in the workbook ("row 7 of sheet 'Q1'").
        other_sheets: the workbook's other sheets, when the first one was taken by default.
    """

    csv_path: Path
    sheet: str
    header: list[object]
    types: list[str]
    where: Callable[[int], str]
    other_sheets: tuple[str, ...] = ()


def sheet_to_csv(source: Path, scratch: Path, options: ImportOptions, *, label: str) -> ExcelSheet:
    """Stream one sheet of a workbook into a CSV file.

    Raises:
        SheetNotFoundError: the requested sheet does not exist (the message lists the sheets).
        CorruptFileError: the workbook cannot be opened.
        EmptyFileError: the sheet has no cells.
    """
    # Imported here: openpyxl (and the numpy it loads) costs ~0.4 s at start-up, and most processes
    # that import the engine never read a workbook.
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    handle = open(source, "rb")  # a file object: openpyxl judges paths by their extension
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        InvalidFileException,
        ElementTree.ParseError,
    ) as exc:
        handle.close()
        raise CorruptFileError(
            f"{label!r} could not be opened as an Excel workbook ({exc}); open it in Excel and save it again",
            file=label,
        ) from exc
    try:
        names = list(workbook.sheetnames)
        name = _pick_sheet(names, options.sheet, label)
        others = tuple(n for n in names if n != name) if options.sheet is None else ()
        sheet = _write_sheet(workbook[name], name, scratch / "sheet.csv", options, label, others)
        return sheet
    finally:
        workbook.close()
        handle.close()


def _pick_sheet(names: list[str], wanted: str | int | None, label: str) -> str:
    listing = ", ".join(repr(n) for n in names)
    if wanted is None:
        return names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
        raise SheetNotFoundError(
            f"{label!r} has {len(names)} sheet(s), so there is no sheet at position {wanted} (counting from 0); "
            f"its sheets are {listing}",
            file=label,
            sheets=names,
        )
    for name in names:
        if name == wanted or name.lower() == wanted.strip().lower():
            return name
    raise SheetNotFoundError(
        f"{label!r} has no sheet named {wanted!r}; its sheets are {listing}", file=label, sheets=names
    )


def _write_sheet(
    sheet: Any, name: str, target: Path, options: ImportOptions, label: str, others: tuple[str, ...]
) -> ExcelSheet:
    header_wanted = options.header is not False
    header: list[object] | None = None
    kinds: list[set[str]] = []
    excel_rows = array("L")  # Excel row number of each CSV line, to name rows in messages
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row_number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = _trim(row)
            if not values:
                continue  # blank rows (often formatting left below the data) are not data
            if header is None and header_wanted:
                header = list(values)
                writer.writerow([_text(v, row_number, label) for v in values])
                excel_rows.append(row_number)
                continue
            while len(kinds) < len(values):
                kinds.append(set())
            for index, value in enumerate(values):
                if value is not None:
                    kinds[index].add(_kind(value))
            writer.writerow([_text(v, row_number, label) for v in values])
            excel_rows.append(row_number)
    width = max(len(kinds), len(header or []))
    if width == 0:
        listing = f" (its other sheets: {', '.join(repr(o) for o in others)})" if others else ""
        raise EmptyFileError(
            f"sheet {name!r} of {label!r} is empty; choose the sheet that holds the data{listing}", file=label
        )
    kinds += [set() for _ in range(width - len(kinds))]
    padded_header: list[object] = (header or []) + [None] * (width - len(header or []))

    def where(line: int) -> str:
        row = excel_rows[line - 1] if 0 < line <= len(excel_rows) else line
        return f"row {row} of sheet {name!r}"

    return ExcelSheet(
        csv_path=target,
        sheet=name,
        header=padded_header if header_wanted else [None] * width,
        types=[_duckdb_type(k) for k in kinds],
        where=where,
        other_sheets=others,
    )


def _trim(row: Sequence[object]) -> list[object]:
    values = list(row)
    while values and (values[-1] is None or values[-1] == ""):
        values.pop()
    return values


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if abs(value) <= _MAX_BIGINT else "str"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "date" if value.time() == dt.time(0) else "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return "str"


def _duckdb_type(kinds: set[str]) -> str:
    if not kinds:
        return "VARCHAR"
    if kinds == {"bool"}:
        return "BOOLEAN"
    if kinds == {"int"}:
        return "BIGINT"
    if kinds <= {"int", "float"}:
        return "DOUBLE"
    if kinds == {"date"}:
        return "DATE"
    if kinds <= {"date", "datetime"}:
        return "TIMESTAMP"
    if kinds == {"time"}:
        return "TIME"
    return "VARCHAR"


def _text(value: object, row: int, label: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        # Midnight datetimes are how Excel stores plain dates; write them so a DATE column reads them.
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    if "\x00" in text:
        raise NulByteError(
            f"row {row} of {label!r} holds a NUL character; remove it in Excel and save again",
            file=label,
            line=row,
        )
    return text
