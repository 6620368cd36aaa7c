"""Small versions with known statistics, written with DuckDB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def make_version(tmp_path: Path) -> Callable[[str], Path]:
    """``make_version("SELECT …")``: a Parquet version holding the query's rows."""
    counter = iter(range(1000))

    def make(query: str) -> Path:
        path = tmp_path / f"v{next(counter)}.parquet"
        con = duckdb.connect()
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
        con.close()
        return path

    return make


@pytest.fixture
def people(make_version: Callable[[str], Path]) -> Path:
    """500 rows covering each semantic type the profiler detects."""
    return make_version(
        """
        SELECT range + 1 AS id,
               'user' || range || '@example.org' AS email,
               'https://example.org/p/' || range AS homepage,
               '+33 6 12 34 ' || lpad(CAST(range % 100 AS VARCHAR), 2, '0') || ' 00' AS phone,
               CAST(DATE '2024-01-01' + CAST(range % 60 AS INTEGER) AS VARCHAR) AS signup_text,
               strftime(TIMESTAMP '2024-01-01 08:00:00' + INTERVAL (range) MINUTE, '%Y-%m-%d %H:%M:%S') AS seen_text,
               ['yes', 'no'][range % 2 + 1] AS consent,
               ['gold', 'silver', 'bronze'][range % 3 + 1] AS tier,
               'I bought item number ' || range || ' and it was really quite good overall' AS review,
               md5(CAST(range AS VARCHAR)) AS token,
               CASE WHEN range % 5 = 0 THEN NULL ELSE range % 10 END AS score,
               range % 2 AS is_active,
               CAST(range AS DOUBLE) / 4 AS ratio,
               TIMESTAMP '2024-01-01' + INTERVAL (range) HOUR AS created_at,
               DATE '2023-01-01' + CAST(range AS INTEGER) AS birthday,
               range % 3 = 0 AS flag,
               CAST(NULL AS VARCHAR) AS always_empty,
               {'a': range} AS payload
        FROM range(500)
        """
    )
