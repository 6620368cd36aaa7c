"""The writer: schema, buffering, threads, several flushes and days, bad rows."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelworks.engine.predictions import (
    BASE_SCHEMA,
    InvalidSourceError,
    PredictionLogClosedError,
    PredictionLogWriter,
    PredictionRowsError,
    list_days,
    prediction_glob,
    read_predictions,
)


@dataclass
class Scored:
    """The two fields the writer reads from ``engine.scoring.Predictions``."""

    predictions: Sequence[Any]
    probabilities: Sequence[Mapping[str, float]] | None = None


T0 = datetime(2024, 7, 1, 10, 30, tzinfo=UTC)


def _append(
    writer: PredictionLogWriter, request_id: str, rows: int, *, ts: datetime = T0, **kw: object
) -> None:
    inputs = pd.DataFrame({"distance": [float(i) for i in range(rows)], "carrier": ["AA"] * rows})
    writer.append(
        request_id=request_id,
        ts=ts,
        model_version_id=kw.get("model_version_id", 3),  # type: ignore[arg-type]
        model_version=str(kw.get("model_version", "delays/3")),
        role=str(kw.get("role", "primary")),
        answered=True,
        inputs=inputs,
        predictions=Scored(["late"] * rows, [{"on_time": 0.25, "late": 0.75}] * rows),
        row_ids=None,
        latency_ms=1.5,
    )


def test_segment_has_exactly_the_contract_schema(log_root: Path) -> None:
    writer = PredictionLogWriter(log_root, "deployment-1")
    inputs = pd.DataFrame(
        {
            "distance": [100.5, 200.0],
            "carrier": pd.Series(["AA", None], dtype="string"),
            "seats": pd.array([3, None], dtype="Int64"),
            "when": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "kind": pd.Categorical(["x", "y"]),
        }
    )
    writer.append(
        request_id="r1",
        ts=T0,
        model_version_id=7,
        model_version="delays/2",
        role="primary",
        answered=True,
        inputs=inputs,
        predictions=Scored(
            ["late", "on_time"], [{"on_time": 0.4, "late": 0.6}, {"on_time": 0.9, "late": 0.1}]
        ),
        row_ids=["a", "b"],
        latency_ms=2.0,
    )
    assert writer.flush() == 2
    [segment] = (log_root / "deployment-1" / "date=2024-07-01").glob("part-*.parquet")
    schema = pq.read_schema(segment)
    assert schema.names == [*BASE_SCHEMA.names, "in_distance", "in_carrier", "in_seats", "in_when", "in_kind"]
    for field in BASE_SCHEMA:
        assert schema.field(field.name).type == field.type
    assert schema.field("in_distance").type == pa.float64()
    assert schema.field("in_carrier").type == pa.string()
    assert schema.field("in_seats").type == pa.int64()
    assert pa.types.is_timestamp(schema.field("in_when").type)
    assert schema.field("in_kind").type == pa.string()
    table = pq.read_table(segment).to_pylist()
    assert table[0]["row_id"] == "a"
    assert table[0]["ts"] == datetime(2024, 7, 1, 10, 30)
    assert table[0]["prediction_value"] == pytest.approx(0.6)  # the positive (second) class
    assert json.loads(table[1]["probabilities"]) == {"on_time": 0.9, "late": 0.1}
    assert table[1]["in_carrier"] is None and table[1]["in_seats"] is None


@pytest.mark.parametrize(
    ("predictions", "probabilities", "text", "value"),
    [
        ([12.5], None, "12.5", 12.5),  # regression
        ([3], None, "3", 3.0),
        (["b"], [{"a": 0.2, "b": 0.5, "c": 0.3}], "b", 0.5),  # multiclass: top probability
        ([True], None, "true", None),
        ([float("nan")], None, None, None),
    ],
)
def test_prediction_text_and_value(
    log_root: Path,
    predictions: list[object],
    probabilities: list[dict[str, float]] | None,
    text: str | None,
    value: float | None,
) -> None:
    writer = PredictionLogWriter(log_root, "recipe-4")
    writer.append(
        request_id="build-1",
        ts=T0,
        model_version_id=1,
        model_version="m/1",
        role="primary",
        answered=True,
        inputs=pd.DataFrame({"x": [1]}),
        predictions=Scored(predictions, probabilities),
        row_ids=None,
        latency_ms=None,
    )
    writer.flush()
    [row] = read_predictions(log_root, "recipe-4").to_pylist()
    assert row["prediction"] == text
    assert row["prediction_value"] == value
    assert row["row_id"] == "build-1:0"
    assert row["latency_ms"] is None


def test_concurrent_appends_from_threads_lose_no_row(log_root: Path) -> None:
    writer = PredictionLogWriter(log_root, "deployment-2", max_buffer_rows=500)
    threads_n, batches, rows = 8, 40, 7
    start = threading.Barrier(threads_n)

    def work(worker: int) -> None:
        start.wait()
        for batch in range(batches):
            _append(writer, f"w{worker}-{batch}", rows)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    table = read_predictions(log_root, "deployment-2")
    assert table.num_rows == threads_n * batches * rows
    ids = table.column("row_id").to_pylist()
    assert len(set(ids)) == len(ids)
    # The buffer limit forced flushes from append: several segments, none bigger than needed.
    segments = list((log_root / "deployment-2").rglob("part-*.parquet"))
    assert len(segments) >= threads_n * batches * rows // 500


def test_one_segment_per_day_per_flush(log_root: Path) -> None:
    writer = PredictionLogWriter(log_root, "deployment-3")
    _append(writer, "a", 2, ts=T0)
    _append(writer, "b", 3, ts=T0 + timedelta(days=1))
    _append(writer, "c", 1, ts=T0)
    # 23:30 in UTC-2 is the next day in UTC: days are UTC days.
    _append(writer, "d", 4, ts=datetime(2024, 7, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))))
    assert writer.flush() == 10
    _append(writer, "e", 5, ts=T0)
    assert writer.flush() == 5
    assert writer.flush() == 0
    assert list_days(log_root, "deployment-3") == [date(2024, 7, 1), date(2024, 7, 2)]
    day1 = sorted((log_root / "deployment-3" / "date=2024-07-01").glob("part-*.parquet"))
    day2 = sorted((log_root / "deployment-3" / "date=2024-07-02").glob("part-*.parquet"))
    assert [pq.read_metadata(p).num_rows for p in day1] in ([3, 5], [5, 3])
    assert [pq.read_metadata(p).num_rows for p in day2] == [7]
    assert read_predictions(log_root, "deployment-3").num_rows == 15


def test_close_flushes_and_refuses_more_rows(log_root: Path) -> None:
    writer = PredictionLogWriter(log_root, "deployment-4")
    _append(writer, "a", 2)
    assert writer.buffered_rows == 2
    writer.close()
    writer.close()
    assert read_predictions(log_root, "deployment-4").num_rows == 2
    with pytest.raises(PredictionLogClosedError, match="closed; open a new one"):
        _append(writer, "b", 1)


def test_failed_flush_keeps_rows_for_the_next_one(log_root: Path) -> None:
    log_root.mkdir()
    (log_root / "deployment-5").write_text("not a folder")  # makes the flush fail
    writer = PredictionLogWriter(log_root, "deployment-5")
    _append(writer, "a", 3)
    with pytest.raises(OSError):
        writer.flush()
    assert writer.buffered_rows == 3
    (log_root / "deployment-5").unlink()
    assert writer.flush() == 3
    assert read_predictions(log_root, "deployment-5").num_rows == 3


@pytest.mark.parametrize("source", ["../etc", "Deployment-1", "a/b", "", ".staging", "x" * 101])
def test_source_names_never_become_paths(log_root: Path, source: str) -> None:
    with pytest.raises(InvalidSourceError, match="cannot name a prediction log"):
        PredictionLogWriter(log_root, source)
    with pytest.raises(InvalidSourceError, match="cannot name a prediction log"):
        prediction_glob(log_root, source)


@pytest.mark.parametrize(
    ("predictions", "probabilities", "row_ids", "role", "message"),
    [
        (["a"], None, None, "primary", "1 predictions for 2 input rows"),
        (["a", "b"], [{"a": 1.0}], None, "primary", "1 probability rows for 2 input rows"),
        (["a", "b"], None, ["only-one"], "primary", "1 row ids for 2 input rows"),
        (["a", "b"], None, None, "canary", "role 'canary' is not one of primary, challenger, shadow"),
    ],
)
def test_rows_that_do_not_line_up_are_refused(
    log_root: Path,
    predictions: list[str],
    probabilities: list[dict[str, float]] | None,
    row_ids: list[str] | None,
    role: str,
    message: str,
) -> None:
    writer = PredictionLogWriter(log_root, "deployment-6")
    with pytest.raises(PredictionRowsError, match=message):
        writer.append(
            request_id="r",
            ts=T0,
            model_version_id=1,
            model_version="m/1",
            role=role,
            answered=True,
            inputs=pd.DataFrame({"x": [1, 2]}),
            predictions=Scored(predictions, probabilities),
            row_ids=row_ids,
            latency_ms=None,
        )
    assert writer.buffered_rows == 0


def test_glob_matches_finished_segments_only(log_root: Path) -> None:
    writer = PredictionLogWriter(log_root, "deployment-7")
    _append(writer, "a", 2)
    writer.flush()
    staging = log_root / "deployment-7" / ".staging"
    (staging / "part-dead.parquet.tmp").write_bytes(b"PAR1 half a file")
    matched = sorted(
        Path(log_root).glob(prediction_glob(log_root, "deployment-7").removeprefix(str(log_root) + "/"))
    )
    assert len(matched) == 1 and matched[0].parent.name == "date=2024-07-01"
