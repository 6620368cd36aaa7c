"""Reading the log: versions with different features, date pruning, filters, columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modelworks.engine.predictions import (
    PredictionLogWriter,
    UnknownPredictionColumnError,
    read_predictions,
)


@dataclass
class Scored:
    """The two fields the writer reads from ``engine.scoring.Predictions``."""

    predictions: Sequence[Any]
    probabilities: Sequence[Mapping[str, float]] | None = None


DAY = datetime(2024, 8, 1, 12, tzinfo=UTC)


def _write(
    root: Path,
    source: str,
    ts: datetime,
    inputs: dict[str, list[object]],
    *,
    version: int = 1,
    role: str = "primary",
) -> None:
    writer = PredictionLogWriter(root, source)
    frame = pd.DataFrame(inputs)
    writer.append(
        request_id=f"{ts.isoformat()}-{version}-{role}",
        ts=ts,
        model_version_id=version,
        model_version=f"delays/{version}",
        role=role,
        answered=role != "shadow",
        inputs=frame,
        predictions=Scored([1.5] * len(frame)),
        row_ids=None,
        latency_ms=None,
    )
    writer.close()


def test_versions_with_different_features_read_together(log_root: Path) -> None:
    _write(log_root, "deployment-1", DAY, {"distance": [100.0, 200.0], "carrier": ["AA", "UA"]}, version=1)
    # Version 2 added a feature and changed nothing else.
    _write(
        log_root,
        "deployment-1",
        DAY + timedelta(hours=1),
        {"distance": [300.0], "carrier": ["DL"], "dep_hour": [7]},
        version=2,
    )
    table = read_predictions(log_root, "deployment-1")
    assert table.column_names[-3:] == ["distance", "carrier", "dep_hour"]
    rows = table.to_pylist()
    assert [r["model_version"] for r in rows] == ["delays/1", "delays/1", "delays/2"]
    assert [r["dep_hour"] for r in rows] == [None, None, 7]
    assert [r["distance"] for r in rows] == [100.0, 200.0, 300.0]


def test_whole_days_outside_the_range_are_never_opened(log_root: Path) -> None:
    for offset in range(4):
        _write(log_root, "recipe-2", DAY + timedelta(days=offset), {"x": [offset, offset]})
    # Ruin the first day's segment: a reader that opened it would fail.
    [first] = (log_root / "recipe-2" / "date=2024-08-01").glob("part-*.parquet")
    first.write_bytes(b"garbage, not parquet")
    table = read_predictions(
        log_root, "recipe-2", start=datetime(2024, 8, 2, tzinfo=UTC), end=datetime(2024, 8, 4, tzinfo=UTC)
    )
    assert sorted(table.column("x").to_pylist()) == [1, 1, 2, 2]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, [0, 1, 2]),
        (DAY + timedelta(days=1), None, [1, 2]),
        (None, DAY + timedelta(days=1), [0]),  # end excluded
        (DAY + timedelta(minutes=1), DAY + timedelta(days=2, minutes=1), [1, 2]),
        # A naive bound is UTC.
        (datetime(2024, 8, 2), datetime(2024, 8, 3), [1]),
        (DAY + timedelta(days=5), None, []),
    ],
)
def test_time_range(
    log_root: Path, start: datetime | None, end: datetime | None, expected: list[int]
) -> None:
    for offset in range(3):
        _write(log_root, "recipe-3", DAY + timedelta(days=offset), {"x": [offset]})
    table = read_predictions(log_root, "recipe-3", start=start, end=end)
    assert table.column("x").to_pylist() == expected if expected else table.num_rows == 0


def test_role_filter_and_column_selection(log_root: Path) -> None:
    _write(log_root, "deployment-4", DAY, {"x": [1]}, role="primary")
    _write(log_root, "deployment-4", DAY, {"x": [2]}, version=2, role="shadow")
    table = read_predictions(
        log_root, "deployment-4", role="shadow", columns=["x", "answered", "model_version"]
    )
    assert table.to_pylist() == [{"x": 2, "answered": False, "model_version": "delays/2"}]


def test_feature_named_like_a_fixed_column_keeps_its_prefix(log_root: Path) -> None:
    _write(log_root, "deployment-5", DAY, {"prediction": ["input value"], "x": [1]})
    [row] = read_predictions(log_root, "deployment-5").to_pylist()
    assert row["in_prediction"] == "input value"
    assert row["prediction"] == "1.5"


@pytest.mark.parametrize(
    ("written", "columns", "message"),
    [
        (True, ["distnce"], "column 'distnce' is not in the prediction log; did you mean 'distance'"),
        (False, ["distance"], "column 'distance' is not in the prediction log"),
    ],
)
def test_unknown_columns_are_named(log_root: Path, written: bool, columns: list[str], message: str) -> None:
    if written:
        _write(log_root, "deployment-6", DAY, {"distance": [1.0]})
    with pytest.raises(UnknownPredictionColumnError, match=message):
        read_predictions(log_root, "deployment-6", columns=columns)


def test_empty_log_reads_as_an_empty_table_with_the_fixed_columns(log_root: Path) -> None:
    table = read_predictions(log_root, "deployment-9")
    assert table.num_rows == 0
    assert "prediction_value" in table.column_names
