"""Export a dataset version as CSV that is safe to open in a spreadsheet.

A cell such as ``=HYPERLINK("http://evil", "click")`` is data in Modelworks but a formula in Excel or
LibreOffice (CSV injection). Every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written with a leading apostrophe, which spreadsheets read as "this is text" and
do not display. Number, date and boolean columns are written as is: ``-5`` in a number column is a
number, not a formula. Column names get the same treatment in the header row (a column may be named
``=HYPERLINK(…)`` in an uploaded file).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from modelworks.engine.duck import connect, quote_identifier
from modelworks.engine.errors import did_you_mean
from modelworks.engine.io.duck_errors import first_line
from modelworks.engine.io.errors import ExportError
from modelworks.engine.io.schema import read_schema

__all__ = ["FORMULA_PREFIXES", "export_csv", "formula_safe_header", "formula_safe_sql"]

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe_sql(column_sql: str) -> str:
    """SQL that prefixes a text value with ``'`` when it starts like a formula."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_PREFIXES)
    return f"CASE WHEN left({column_sql}, 1) IN ({starts}) THEN chr(39) || {column_sql} ELSE {column_sql} END"


def formula_safe_header(name: str) -> str:
    """A column name as the header cell: prefixed with ``'`` when it starts like a formula."""
    return "'" + name if name.startswith(FORMULA_PREFIXES) else name


def export_csv(
    version_path: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    delimiter: str = ",",
) -> int:
    """Write a dataset version to ``destination`` as UTF-8 CSV with a header; return the row count.

    The file is written atomically (temporary file in the same folder, fsync, rename): a failed export
    leaves no file.

    Args:
        version_path: the version's Parquet file.
        destination: the CSV file to create (replaced if it exists).
        columns: the columns to export, in order (default: all).
        delimiter: field separator.

    Raises:
        ExportError: unknown column, or the export failed.
    """
    schema = read_schema(version_path)
    by_name = {c.name: c for c in schema}
    chosen = list(columns) if columns is not None else [c.name for c in schema]
    for name in chosen:
        if name not in by_name:
            raise ExportError(
                f"column {name!r} is not in this dataset version{did_you_mean(name, by_name)}", column=name
            )
    select = []
    for name in chosen:
        column = quote_identifier(name)
        header = quote_identifier(formula_safe_header(name))
        if by_name[name].type in ("string", "nested", "other", "binary"):
            select.append(f"{formula_safe_sql(f'CAST({column} AS VARCHAR)')} AS {header}")
        else:
            select.append(f"{column} AS {header}")
    target = Path(destination).resolve()
    fd, temp_name = tempfile.mkstemp(prefix=".export-", suffix=".csv", dir=target.parent)
    os.close(fd)
    temp = Path(temp_name)
    source = os.path.abspath(version_path)
    con = connect(read=[source], write=[temp])
    try:
        row = con.execute(
            f"COPY (SELECT {', '.join(select) or '*'} FROM read_parquet($src)) TO $dst "  # noqa: S608
            "(FORMAT csv, HEADER true, DELIMITER $delim, USE_TMP_FILE false)",
            {"src": source, "dst": str(temp), "delim": delimiter},
        ).fetchone()
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except duckdb.Error as exc:
        raise ExportError(f"the export failed: {first_line(str(exc))}") from exc
    finally:
        con.close()
        temp.unlink(missing_ok=True)
    return int(row[0]) if row else 0
