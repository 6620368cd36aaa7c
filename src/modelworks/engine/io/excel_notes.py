"""What the import of a sheet tells the user about its cells, naming columns and Excel cells (``B7``).

Warnings are plain sentences added to the version's import report. The sheet's XML is scanned for
formulas whose value was never calculated (a workbook written by a program that does not calculate,
such as openpyxl): openpyxl reads them as empty, with nothing to tell them apart from empty cells.
The scan only parses the XML when a byte search finds a formula element at all.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from modelworks.engine.io.errors import CorruptFileError
from modelworks.engine.io.headers import clean_headers

__all__ = ["SheetColumns", "column_letter", "column_names", "formula_warnings", "plural_cells"]

CELLS_LISTED = 5
COLUMNS_LISTED = 10
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def column_names(header: Sequence[object]) -> list[str]:
    """The names the import gives the columns (for messages; duplicates renamed as usual)."""
    if all(value is None for value in header):
        return [f"column_{i}" for i in range(1, len(header) + 1)]
    return clean_headers(header)[0]


def column_letter(index: int) -> str:
    """The Excel letters of a 0-based column position (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def plural_cells(count: int) -> str:
    """``1 cell`` / ``12 cells``."""
    return f"{count:,} cell{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class SheetColumns:
    """How to name the columns of an imported sheet in messages.

    Attributes:
        sheet: the sheet's name.
        names: the imported columns' names, in order.
        first: the 0-based Excel column of the first imported column (empty columns on the left of
            the table are left out).
    """

    sheet: str
    names: tuple[str, ...]
    first: int = 0

    def label(self, column: int) -> str:
        """``column 'Total'`` for the 0-based Excel column ``column`` (its letter if not imported)."""
        position = column - self.first
        if 0 <= position < len(self.names):
            return f"column {self.names[position]!r}"
        return f"column {column_letter(column)}"

    def cells(self, column: int, rows: Sequence[int], count: int | None = None) -> str:
        """The first cells of a column, e.g. ``B2, B3, …`` (``count``: how many there are in all)."""
        listed = ", ".join(f"{column_letter(column)}{row}" for row in rows[:CELLS_LISTED])
        more = (count if count is not None else len(rows)) > min(len(rows), CELLS_LISTED)
        return listed + (", …" if more else "")

    def where(self, count: int, column: int) -> str:
        """``12 cells of column 'Total' on sheet 'Q1'``."""
        return f"{plural_cells(count)} of {self.label(column)} on sheet {self.sheet!r}"


def formula_warnings(
    source: Path, xml_path: str, columns: SheetColumns, data_rows: set[int], label: str
) -> list[str]:
    """Warn about data cells holding a formula whose value was never calculated.

    Also warns when the workbook asks to be recalculated on opening (``fullCalcOnLoad``): the
    program that wrote it stored placeholder values (XlsxWriter writes 0) instead of calculating.

    Args:
        source: the workbook.
        xml_path: the sheet's XML inside the workbook (as openpyxl found it).
        columns: how to name the columns.
        data_rows: the Excel row numbers of the imported data rows (the header is not checked).
        label: the file name, for messages.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            member = xml_path.lstrip("/")
            if not _holds_formula(archive, member):
                return []
            uncalculated, formulas = _scan_formulas(archive, member, data_rows)
            recalc = _asks_full_recalculation(archive)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ElementTree.ParseError) as exc:
        raise CorruptFileError(
            f"sheet {columns.sheet!r} of {label!r} could not be read ({exc}); open it in Excel and save it again",
            file=label,
        ) from exc
    notes = []
    for column in sorted(uncalculated)[:COLUMNS_LISTED]:
        rows = uncalculated[column]
        notes.append(
            f"{columns.where(len(rows), column)} {'are formulas' if len(rows) > 1 else 'is a formula'} Excel "
            f"never calculated ({columns.cells(column, rows)}), imported as empty; open and save the file in "
            "Excel or LibreOffice to store their values, then import it again"
        )
    if len(uncalculated) > COLUMNS_LISTED:
        notes.append(
            f"{len(uncalculated) - COLUMNS_LISTED} more columns hold formulas Excel never calculated, "
            "imported as empty"
        )
    if recalc and formulas > sum(len(rows) for rows in uncalculated.values()):
        notes.append(
            f"sheet {columns.sheet!r} holds {formulas:,} formula cell(s) whose stored values may be placeholders: "
            f"{label!r} was written by a program that did not calculate them (it asks Excel to recalculate "
            "on opening); open and save the file in Excel or LibreOffice, then import it again"
        )
    return notes


def _xml_functions() -> Any:
    """openpyxl's XML parsing functions: defusedxml's (no entity expansion) when it is installed,
    as openpyxl itself uses to read the same workbook."""
    from openpyxl.xml import functions  # type: ignore[import-untyped]

    return functions


def _holds_formula(archive: zipfile.ZipFile, member: str) -> bool:
    """A fast byte search for a formula element (most sheets have none: no XML parsing then)."""
    tail = b""
    with archive.open(member) as xml:
        for chunk in iter(lambda: xml.read(4 << 20), b""):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _scan_formulas(
    archive: zipfile.ZipFile, member: str, data_rows: set[int]
) -> tuple[dict[int, list[int]], int]:
    """The formula cells without a value (0-based column → Excel rows), and the count of all formula
    cells, among ``data_rows``."""
    uncalculated: dict[int, list[int]] = {}
    formulas = 0
    row_number = 0
    column = -1
    with archive.open(member) as xml:
        for event, element in _xml_functions().iterparse(xml, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    # Row and cell references are optional in the format: count when absent.
                    row_number = int(element.get("r") or row_number + 1)
                    column = -1
                continue
            if tag == "c":
                reference = element.get("r")
                column = _column_of(reference) if reference else column + 1
                if row_number not in data_rows:
                    continue
                formula = value = None
                for child in element:
                    child_tag = child.tag.rpartition("}")[2]
                    if child_tag == "f":
                        formula = child
                    elif child_tag == "v":
                        value = child
                if formula is None:
                    continue
                formulas += 1
                # An empty <v> is an empty text result only when the cell says its result is text.
                if value is None or (not value.text and element.get("t") != "str"):
                    uncalculated.setdefault(column, []).append(row_number)
            elif tag == "row":
                element.clear()  # keep memory flat on big sheets
    return uncalculated, formulas


def _column_of(reference: str) -> int:
    index = 0
    for char in reference:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index - 1


def _asks_full_recalculation(archive: zipfile.ZipFile) -> bool:
    try:
        workbook = archive.read("xl/workbook.xml")
    except KeyError:
        return False
    for element in _xml_functions().fromstring(workbook).iter():
        if element.tag.rpartition("}")[2] == "calcPr":
            return element.get("fullCalcOnLoad") in ("1", "true")
    return False
