"""Excel workbooks (.xlsx): one sheet, streamed row by row into the CSV path.

openpyxl's read-only mode streams the sheet XML, so memory stays flat whatever the sheet size. Cells
arrive typed (number, date, text, boolean); the rows are written to a UTF-8 CSV in the scratch folder
and the column types are taken from the cells themselves (no sampling), then the CSV goes through the
same DuckDB pass as any CSV, so type overrides and errors behave the same.

What a spreadsheet user expects, each reported in a warning naming the column and the first cells:

* Formulas are read as their last computed value; nothing is ever evaluated. Formulas a program
  stored without calculating them read as empty (see :mod:`~modelworks.engine.io.excel_notes`).
* Excel error values (``#DIV/0!``, ``#N/A``…) are read as empty.
* Numbers stored as text (Excel's green triangle) among numbers are read as numbers; numbers among
  dates that are Excel date values (a cell that lost its date format) are read as dates.
* Empty columns on the left of the table are left out; hidden sheets are passed over when taking
  the first sheet; durations read as ``h:mm:ss`` as Excel shows them.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import zipfile
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from modelworks.engine.io.errors import CorruptFileError, EmptyFileError, SheetNotFoundError
from modelworks.engine.io.excel_cells import (
    ColumnCells,
    cell_notes,
    cell_text,
    left_columns_note,
    rewrite_sheet_csv,
    trim_row,
)
from modelworks.engine.io.excel_notes import SheetColumns, column_names, formula_warnings
from modelworks.engine.io.headers import join_header_rows
from modelworks.engine.io.versions import ImportOptions

__all__ = ["ExcelSheet", "sheet_to_csv"]


@dataclass(frozen=True)
class ExcelSheet:
    """A sheet written out as CSV, with what is needed to read it back.

    Attributes:
        csv_path: the CSV in the scratch folder (first line: the header row, if any).
        sheet: the sheet's name.
        header: the header row, padded to the sheet's width (all None without a header).
        types: the DuckDB type of each column, from the cell types.
        where: names a CSV line as a place in the workbook ("row 7 of sheet 'Q1'").
        columns: names the columns and cells of the sheet in messages.
        other_sheets: the workbook's other sheets, when the first one was taken by default.
        hidden_sheets: those of the other sheets that are hidden (or chart sheets), passed over when
            taking the first sheet by default.
        warnings: what the user should know about the cells (formulas without a value, errors).
    """

    csv_path: Path
    sheet: str
    header: list[object]
    types: list[str]
    where: Callable[[int], str]
    columns: SheetColumns
    other_sheets: tuple[str, ...] = ()
    hidden_sheets: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


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
        if not names:
            raise CorruptFileError(
                f"{label!r} holds no sheets that can be read; open it in Excel and save it again", file=label
            )
        # Hidden sheets (lookup tables, settings) and chart sheets are not what "the first sheet" means.
        hidden = tuple(n for n in names if not _is_visible_grid(workbook[n]))
        name = _pick_sheet(names, options.sheet, label, skip=hidden)
        others = tuple(n for n in names if n != name) if options.sheet is None else ()
        worksheet = workbook[name]
        sheet, data_rows = _write_sheet(
            worksheet, name, scratch / "sheet.csv", options, label, others, workbook.epoch
        )
        notes = list(sheet.warnings)
        # openpyxl knows where the sheet's XML is; without it (another openpyxl) nothing is scanned.
        xml_path = getattr(worksheet, "_worksheet_path", None)
        if isinstance(xml_path, str):
            notes += formula_warnings(source, xml_path, sheet.columns, data_rows, label)
        return dataclasses.replace(
            sheet, hidden_sheets=tuple(n for n in hidden if n in others), warnings=tuple(notes)
        )
    finally:
        workbook.close()
        handle.close()


def _is_visible_grid(sheet: Any) -> bool:
    return getattr(sheet, "sheet_state", "visible") == "visible" and hasattr(sheet, "iter_rows")


def _pick_sheet(names: list[str], wanted: str | int | None, label: str, *, skip: tuple[str, ...] = ()) -> str:
    listing = ", ".join(repr(n) for n in names)
    if wanted is None:
        return next((n for n in names if n not in skip), names[0])
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
    sheet: Any,
    name: str,
    target: Path,
    options: ImportOptions,
    label: str,
    others: tuple[str, ...],
    epoch: dt.datetime,
) -> tuple[ExcelSheet, set[int]]:
    """Write the sheet as CSV; also return the Excel row numbers of its data rows."""
    header_rows = options.header_rows if options.header is not False else 0
    block: list[list[str]] = []  # the header rows, as text
    first_header: int | None = None
    header: list[object] | None = None
    columns: list[ColumnCells] = []
    first_used: int | None = None  # the leftmost column holding anything
    excel_rows = array("L")  # Excel row number of each CSV line, to name rows in messages
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")

        def write_header() -> list[object]:
            joined = join_header_rows(block) if header_rows > 1 else block[0]
            writer.writerow(joined)
            excel_rows.append(first_header or 1)
            return list(joined)

        rows = sheet.iter_rows(values_only=True, min_row=options.skip_rows + 1)
        for row_number, row in enumerate(rows, start=options.skip_rows + 1):
            values = trim_row(row)
            if header is None and header_rows and (values or first_header is not None):
                # The header starts at the first row with a value and spans ``header_rows`` rows.
                first_header = first_header or row_number
                texts = [cell_text(v, row_number, label) for v in values]
                used = next((i for i, text in enumerate(texts) if text), None)
                if used is not None:
                    first_used = used if first_used is None else min(first_used, used)
                block.append(texts)
                if len(block) == header_rows:
                    header = write_header()
                continue
            if not values:
                continue  # blank rows (often formatting left below the data) are not data
            while len(columns) < len(values):
                columns.append(ColumnCells())
            used = next(i for i, value in enumerate(values) if value is not None and value != "")
            first_used = used if first_used is None else min(first_used, used)
            for index, value in enumerate(values):
                if value is not None:
                    values[index] = columns[index].add(value, row_number)
            writer.writerow([cell_text(v, row_number, label) for v in values])
            excel_rows.append(row_number)
        if header is None and block:
            header = write_header()  # the sheet ends inside the header rows: no data
    width = max(len(columns), len(header or []))
    if width == 0 or first_used is None:
        if options.skip_rows:
            raise EmptyFileError(
                f"sheet {name!r} of {label!r} holds nothing below the {options.skip_rows:,} row(s) left out "
                "(skip_rows); choose fewer rows to skip",
                file=label,
            )
        listing = f" (its other sheets: {', '.join(repr(o) for o in others)})" if others else ""
        raise EmptyFileError(
            f"sheet {name!r} of {label!r} is empty; choose the sheet that holds the data{listing}", file=label
        )
    columns += [ColumnCells() for _ in range(width - len(columns))]
    padded_header: list[object] = (header or []) + [None] * (width - len(header or []))
    lead = first_used
    settled = [column.settle() for column in columns]
    serial_dates = {index for index, (_, finding) in enumerate(settled) if finding == "serial_dates"}
    if lead or serial_dates:
        rewrite_sheet_csv(target, lead, serial_dates, epoch, header=header is not None)
    final: list[object] = padded_header[lead:] if header_rows else [None] * (width - lead)
    names = SheetColumns(sheet=name, names=tuple(column_names(final)), first=lead)
    notes = [left_columns_note(name, lead)] if lead else []
    named = [value for value in final if value not in (None, "")]
    if header_rows == 1 and len(named) == 1 and len(final) >= 3:
        notes.append(
            f"the header row of sheet {name!r} (row {first_header}) names only one of {len(final)} columns "
            f"({named[0]!r}); if it is a title above the table, import again with skip_rows set to the "
            "number of rows above the table's header"
        )
    notes += cell_notes(columns, settled, names)

    def where(line: int) -> str:
        row = excel_rows[line - 1] if 0 < line <= len(excel_rows) else line
        return f"row {row} of sheet {name!r}"

    result = ExcelSheet(
        csv_path=target,
        sheet=name,
        header=final,
        types=[duckdb_type for duckdb_type, _ in settled[lead:]],
        where=where,
        columns=names,
        other_sheets=others,
        warnings=tuple(notes),
    )
    return result, set(excel_rows[1:] if header is not None else excel_rows)
