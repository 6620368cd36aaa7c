"""CSV export: spreadsheet formula injection is neutralised; writes are atomic."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from modelworks.engine.io import ExportError, LocalStore, export_csv, import_file


@pytest.fixture
def version(store: LocalStore, tmp_path: Path) -> Path:
    source = tmp_path / "cells.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * FROM (VALUES
              (1, '=HYPERLINK("http://x","click")', -5),
              (2, '+cmd|/c calc', 3),
              (3, '-2+3', -1),
              (4, '@SUM(A1:A2)', 0),
              (5, chr(9) || '=1+1', 1),
              (6, chr(13) || '=1+1', 1),
              (7, 'plain text', 2),
              (8, ' =not first', 2),
              (9, NULL, NULL)) t(id, note, delta)) TO '{source}' (FORMAT parquet)"""  # noqa: S608
    )
    con.close()
    return store.local_path(import_file(source, store=store).object_id)


def test_formula_cells_are_escaped(version: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    assert export_csv(version, target) == 9
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", "note", "delta"]
    notes = [row[1] for row in rows[1:]]
    assert notes == [
        '\'=HYPERLINK("http://x","click")',
        "'+cmd|/c calc",
        "'-2+3",
        "'@SUM(A1:A2)",
        "'\t=1+1",
        "'\r=1+1",
        "plain text",
        " =not first",
        "",
    ]
    # Numbers are numbers: a negative value is not a formula and is left alone.
    assert [row[2] for row in rows[1:4]] == ["-5", "3", "-1"]


def test_column_choice_and_unknown_column(version: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    export_csv(version, target, columns=["delta", "id"], delimiter=";")
    assert target.read_text().splitlines()[:2] == ["delta;id", "-5;1"]
    with pytest.raises(
        ExportError, match="column 'nots' is not in this dataset version; did you mean 'note'"
    ):
        export_csv(version, tmp_path / "other.csv", columns=["nots"])
    assert not (tmp_path / "other.csv").exists()


def test_export_is_atomic(version: Path, tmp_path: Path, files_in: Callable[[Path], list[Path]]) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    export_csv(version, folder / "a.csv")
    assert [p.name for p in files_in(folder)] == ["a.csv"]  # no temporary file left
