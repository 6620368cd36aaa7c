"""Compaction, and what a writer killed mid-flush leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from modelworks.engine.predictions import PredictionLogWriter, compact, read_predictions, sweep_staging


@dataclass
class Scored:
    """The two fields the writer reads from ``engine.scoring.Predictions``."""

    predictions: Sequence[Any]
    probabilities: Sequence[Mapping[str, float]] | None = None


DAY = datetime(2024, 9, 3, 8, tzinfo=UTC)


def _segments(root: Path, source: str) -> list[Path]:
    return sorted((root / source).glob("date=*/part-*.parquet"))


def _flush_batches(root: Path, source: str, batches: int, *, with_extra: bool = False) -> None:
    writer = PredictionLogWriter(root, source)
    for i in range(batches):
        inputs = {"x": [i, i]}
        if with_extra and i % 2:
            inputs["extra"] = ["e", "e"]
        writer.append(
            request_id=f"r{i}",
            ts=DAY + timedelta(minutes=i),
            model_version_id=1,
            model_version="m/1",
            role="primary",
            answered=True,
            inputs=pd.DataFrame(inputs),
            predictions=Scored(["a", "b"]),
            row_ids=None,
            latency_ms=None,
        )
        writer.flush()


def test_compaction_merges_a_day_into_one_segment_without_changing_rows(log_root: Path) -> None:
    _flush_batches(log_root, "deployment-1", 6, with_extra=True)
    before = read_predictions(log_root, "deployment-1")
    assert len(_segments(log_root, "deployment-1")) == 6
    compact(log_root, "deployment-1", date(2024, 9, 3))
    [merged] = _segments(log_root, "deployment-1")
    assert pq.read_metadata(merged).num_rows == 12
    after = read_predictions(log_root, "deployment-1")
    assert after.to_pylist() == before.to_pylist()
    # Nothing but the day folder is left (no hidden swap folder).
    assert sorted(p.name for p in (log_root / "deployment-1").iterdir()) == [".staging", "date=2024-09-03"]


def test_compaction_of_a_day_with_one_segment_or_none_changes_nothing(log_root: Path) -> None:
    _flush_batches(log_root, "deployment-2", 1)
    [only] = _segments(log_root, "deployment-2")
    compact(log_root, "deployment-2", date(2024, 9, 3))
    compact(log_root, "deployment-2", date(2024, 9, 4))
    assert _segments(log_root, "deployment-2") == [only]


def test_readers_during_compaction_never_see_rows_twice_or_none(log_root: Path) -> None:
    source = "deployment-3"
    _flush_batches(log_root, source, 30)
    assert read_predictions(log_root, source).num_rows == 60
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                seen.append(read_predictions(log_root, source, columns=["row_id"]).num_rows)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(10):
            _flush_batches(log_root, source, 2)  # 2 segments of 2 rows to merge
            compact(log_root, source, date(2024, 9, 3))
    finally:
        stop.set()
        thread.join()
    assert not errors
    # Counts run 60, 62, ... 100: a reader seeing rows twice (>= 120) or none (< 60) would show.
    assert seen and set(seen) <= set(range(60, 101, 2)), sorted(set(seen))
    assert read_predictions(log_root, source).num_rows == 100


_KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from modelworks.engine.predictions import PredictionLogWriter

    class Scored:
        def __init__(self, n):
            self.predictions = np.ones(n).tolist()
            self.probabilities = None

    rows = 200_000
    inputs = pd.DataFrame({f"f{i}": np.random.default_rng(i).random(rows) for i in range(20)})
    writer = PredictionLogWriter(Path(sys.argv[1]), "deployment-9", max_buffer_rows=10**9)
    batch = 0
    while True:
        writer.append(request_id=f"r{batch}", ts=datetime(2024, 9, 3, tzinfo=UTC), model_version_id=1,
                      model_version="m/1", role="primary", answered=True, inputs=inputs,
                      predictions=Scored(rows), row_ids=None, latency_ms=None)
        writer.flush()
        batch += 1
    """
)


def test_a_writer_killed_mid_flush_leaves_no_partial_segment_visible(log_root: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(log_root)])
    staging = log_root / "deployment-9" / ".staging"
    try:
        deadline = time.monotonic() + 30
        # Kill it while a segment is being written, after at least one finished.
        while time.monotonic() < deadline:
            if _segments(log_root, "deployment-9") and staging.is_dir() and any(staging.iterdir()):
                break
            time.sleep(0.002)
        else:
            raise AssertionError("the writer never started a second segment")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    visible = _segments(log_root, "deployment-9")
    assert visible
    for segment in visible:
        assert pq.read_metadata(segment).num_rows == 200_000
    assert read_predictions(log_root, "deployment-9", columns=["row_id"]).num_rows == 200_000 * len(visible)
    # The half-written file stays hidden in staging until it is old enough to sweep.
    assert sweep_staging(log_root, "deployment-9") == 0
    for leftover in staging.iterdir():
        os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    assert sweep_staging(log_root, "deployment-9") >= 1
    assert not any(staging.iterdir())
