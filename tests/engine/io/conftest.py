"""Helpers to write small source files for import tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest


@pytest.fixture
def src(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a source file: ``src("name.csv", "a,b\\n1,2\\n")`` (text is UTF-8 unless bytes)."""
    folder = tmp_path / "sources"
    folder.mkdir()

    def write(name: str, content: str | bytes) -> Path:
        path = folder / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def parquet(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a Parquet file from a DuckDB query: ``parquet("x.parquet", "SELECT 1 AS a")``."""

    def write(name: str, query: str) -> Path:
        path = tmp_path / name
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
        con.close()
        return path

    return write


@pytest.fixture
def xlsx(tmp_path: Path) -> Callable[..., Path]:
    """Write a workbook: ``xlsx("x.xlsx", {"Sheet": [[header…], [row…]]})``."""

    def write(name: str, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for title, rows in sheets.items():
            sheet = workbook.create_sheet(title)
            for row in rows:
                sheet.append(list(row))
        path = tmp_path / name
        workbook.save(path)
        return path

    return write


def _rows_of(path: Path, query: str = "SELECT * FROM v") -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW v AS SELECT * FROM read_parquet('{path}')")  # noqa: S608
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


@pytest.fixture
def rows_of() -> Callable[..., list[tuple[Any, ...]]]:
    """``rows_of(version_path, query="SELECT * FROM v")``: read a stored version back (``v`` is it)."""
    return _rows_of
