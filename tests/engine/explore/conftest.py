"""A small dataset version to explore."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def version(tmp_path: Path) -> Path:
    """1,000 rows: id, city (with nulls), amount, day, a column with an awkward name, a nested one."""
    path = tmp_path / "v.parquet"
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
            SELECT range + 1 AS id,
                   CASE WHEN range % 10 = 0 THEN NULL ELSE ['Paris', 'Lyon', 'Nice', 'Lille'][range % 4 + 1] END AS city,
                   round((range % 97) * 1.5, 2) AS amount,
                   DATE '2024-01-01' + CAST(range % 30 AS INTEGER) AS day,
                   range % 3 AS "we""ird; name",
                   {{'k': range}} AS payload
            FROM range(1000)
        ) TO '{path}' (FORMAT parquet)
        """  # noqa: S608
    )
    con.close()
    return path
