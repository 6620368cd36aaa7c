"""Date columns of a table (Parquet ``date32``) are scored as ISO text, as a request body sends them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from modelworks.engine.scoring.model import _plain_values


def test_date_and_timestamp_columns_become_iso_text() -> None:
    table = pa.table(
        {
            "day": pa.array([dt.date(2013, 7, 1), None], type=pa.date32()),
            "at": pa.array([dt.datetime(2013, 7, 1, 6, 30), None], type=pa.timestamp("us")),
        }
    )
    frame = table.to_pandas()
    assert _plain_values(frame["day"]) == ["2013-07-01", None]
    assert _plain_values(frame["at"]) == ["2013-07-01T06:30:00", None]
