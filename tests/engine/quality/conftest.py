"""A small version with known rule violations."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    """100 orders: id unique except rows 51 and 52 (both 50); email null on rows 10 and 20 (1-based)."""
    path = tmp_path / "orders.parquet"
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
            SELECT CASE WHEN range = 51 THEN 50 ELSE range END AS id,
                   CASE WHEN range IN (9, 19) THEN NULL ELSE 'user' || range || '@example.org' END AS email,
                   CASE WHEN range = 3 THEN 'not-an-email' ELSE NULL END AS alt_email,
                   range * 10 - 5 AS amount,
                   ['EUR', 'USD', 'GBP', 'eur'][range % 4 + 1] AS currency,
                   TIMESTAMP '2024-06-01' + INTERVAL (range) HOUR AS created_at,
                   TIMESTAMP '2024-06-01' + INTERVAL (range + 1) HOUR AS shipped_at,
                   DATE '2024-06-01' + CAST(range % 5 AS INTEGER) AS day
            FROM range(100)
        ) TO '{path}' (FORMAT parquet)
        """  # noqa: S608
    )
    con.close()
    return path
