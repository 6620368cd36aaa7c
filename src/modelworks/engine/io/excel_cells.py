"""The cells of an Excel sheet: their types, their text in the sheet's CSV, and what a column's cells
say about it (see :mod:`~modelworks.engine.io.excel` for what is read how).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modelworks.engine.io.errors import NulByteError
from modelworks.engine.io.excel_notes import COLUMNS_LISTED, SheetColumns, column_letter
from modelworks.engine.io.infer import FLOAT_PATTERN, INT_PATTERN

__all__ = [
    "EXCEL_ERRORS",
    "ColumnCells",
    "cell_notes",
    "cell_text",
    "left_columns_note",
    "rewrite_sheet_csv",
    "trim_row",
]

_MAX_BIGINT = 2**63 - 1
#: The largest Excel date value (9999-12-31).
_MAX_SERIAL = 2_958_465

#: How Excel shows a formula that failed; openpyxl gives them as text.
EXCEL_ERRORS = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")
)
_INT_TEXT = re.compile(INT_PATTERN)
_FLOAT_TEXT = re.compile(FLOAT_PATTERN)
_ROWS_KEPT = 5  # Excel rows kept per column and finding, to name cells in warnings


@dataclass
class ColumnCells:
    """What the data cells of one column hold, and the cells to name in warnings.

    ``add`` each data cell, then ``settle`` gives the column's type.
    """

    kinds: set[str] = field(default_factory=set)
    numbers: int = 0
    number_rows: list[int] = field(default_factory=list)
    serials: bool = True  # every number could be an Excel date value
    fractions: bool = False  # some number has a fraction (a time of day, as a date value)
    dates: int = 0
    text_numbers: int = 0
    text_number_kinds: set[str] = field(default_factory=set)
    text_number_rows: list[int] = field(default_factory=list)
    errors: int = 0
    error_kinds: set[str] = field(default_factory=set)
    error_rows: list[int] = field(default_factory=list)

    def add(self, value: object, row: int) -> object:
        """Count a cell; return the value to write (None for an Excel error)."""
        if isinstance(value, str):
            if value in EXCEL_ERRORS:
                self.errors += 1
                self.error_kinds.add(value)
                _keep(self.error_rows, row)
                return None
            kind = _number_text_kind(value)
            if kind is None:
                self.kinds.add("str")
            else:
                self.text_numbers += 1
                self.text_number_kinds.add(kind)
                _keep(self.text_number_rows, row)
            return value
        kind = _kind(value)
        self.kinds.add(kind)
        if kind in ("int", "float"):
            assert isinstance(value, int | float)
            self.numbers += 1
            _keep(self.number_rows, row)
            self.serials = self.serials and 0 < value <= _MAX_SERIAL
            self.fractions = self.fractions or value != int(value)
        elif kind in ("date", "datetime"):
            self.dates += 1
        return value

    def settle(self) -> tuple[str, str | None]:
        """The column's DuckDB type, and what was read differently from the cells' own types."""
        kinds = set(self.kinds)
        finding = None
        if self.text_numbers:
            if self.numbers and kinds <= {"int", "float"}:
                kinds |= self.text_number_kinds
                finding = "text_numbers"
            else:
                kinds.add("str")
        if self.numbers and self.dates >= self.numbers and self.serials and kinds <= _NUMBERS_AND_DATES:
            kinds -= {"int", "float"}
            kinds.add("datetime" if self.fractions else "date")
            finding = "serial_dates"
        return _duckdb_type(kinds), finding


_NUMBERS_AND_DATES = frozenset(("int", "float", "date", "datetime"))


def _keep(rows: list[int], row: int) -> None:
    if len(rows) < _ROWS_KEPT:
        rows.append(row)


def _number_text_kind(text: str) -> str | None:
    """``int`` or ``float`` for a text cell written like a number (no spaces, no leading zeros)."""
    if len(text) > 40:
        return None
    if _INT_TEXT.fullmatch(text):
        return "int" if abs(int(text)) <= _MAX_BIGINT else None
    if _FLOAT_TEXT.fullmatch(text):
        return "float"
    return None


def rewrite_sheet_csv(
    path: Path, lead: int, serial_dates: set[int], epoch: dt.datetime, *, header: bool
) -> None:
    """Rewrite the sheet's CSV without its first ``lead`` columns, with Excel date values as dates."""
    from openpyxl.utils.datetime import from_excel  # type: ignore[import-untyped]

    fixed = path.with_name(path.stem + "-fixed.csv")
    with (
        open(path, encoding="utf-8", newline="") as source,
        open(fixed, "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out, lineterminator="\n")
        for number, row in enumerate(csv.reader(source)):
            if not (header and number == 0):
                for index in serial_dates:
                    if index < len(row) and _FLOAT_TEXT.fullmatch(row[index]):  # a number, not a date
                        row[index] = cell_text(from_excel(float(row[index]), epoch), number, path.name)
            writer.writerow(row[lead:])
    os.replace(fixed, path)


def left_columns_note(sheet: str, lead: int) -> str:
    span = "A" if lead == 1 else f"A to {column_letter(lead - 1)}"
    return (
        f"the table on sheet {sheet!r} starts at column {column_letter(lead)}; the empty "
        f"column{'s' if lead > 1 else ''} {span} on its left {'were' if lead > 1 else 'was'} left out"
    )


def cell_notes(
    columns: Sequence[ColumnCells], settled: Sequence[tuple[str, str | None]], names: SheetColumns
) -> list[str]:
    notes: list[str] = []
    errors = [index for index, column in enumerate(columns) if column.errors]
    for index in errors[:COLUMNS_LISTED]:
        column = columns[index]
        notes.append(
            f"{names.where(column.errors, index)} {'hold' if column.errors > 1 else 'holds'} an Excel error "
            f"({', '.join(sorted(column.error_kinds))}: {names.cells(index, column.error_rows, column.errors)}); "
            "imported as empty. Fix the formulas in the workbook if they should have values"
        )
    if len(errors) > COLUMNS_LISTED:
        notes.append(f"{len(errors) - COLUMNS_LISTED} more columns hold Excel errors, imported as empty")
    for index, (_, finding) in enumerate(settled):
        column = columns[index]
        if finding == "text_numbers":
            notes.append(
                f"{names.where(column.text_numbers, index)} {'hold numbers' if column.text_numbers > 1 else 'holds a number'} "
                f"stored as text ({names.cells(index, column.text_number_rows, column.text_numbers)}) among "
                "numbers; read as numbers"
            )
        elif finding == "serial_dates":
            notes.append(
                f"{names.where(column.numbers, index)} {'hold numbers' if column.numbers > 1 else 'holds a number'} "
                f"among dates ({names.cells(index, column.number_rows, column.numbers)}): Excel date values "
                "shown as numbers because their cells lost the date format; read as dates (45292 is "
                "2024-01-01). Check them in the workbook"
            )
    return notes


def trim_row(row: Sequence[object]) -> list[object]:
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


def cell_text(value: object, row: int, label: str) -> str:
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
    if isinstance(value, dt.timedelta):
        return _duration(value)
    text = str(value)
    if "\x00" in text:
        raise NulByteError(
            f"row {row} of {label!r} holds a NUL character; remove it in Excel and save again",
            file=label,
            line=row,
        )
    return text


def _duration(value: dt.timedelta) -> str:
    """A duration as Excel shows it with the ``[h]:mm:ss`` format (``30:00:00``, not ``1 day, 6:00:00``)."""
    sign = "-" if value < dt.timedelta(0) else ""
    seconds = abs(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    whole = f"{sign}{int(hours)}:{int(minutes):02d}:{int(secs):02d}"
    fraction = round(secs - int(secs), 6)
    return whole + (f"{fraction:.6f}".rstrip("0")[1:] if fraction else "")
