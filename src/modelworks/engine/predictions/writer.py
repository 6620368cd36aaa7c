"""The buffered, thread-safe writer of the prediction log."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

from modelworks.engine.predictions.errors import PredictionLogClosedError
from modelworks.engine.predictions.layout import check_source, write_segment
from modelworks.engine.predictions.schema import PredictionsLike, batch_table, to_utc_naive

__all__ = ["PredictionLogWriter"]


class PredictionLogWriter:
    """Collects scored rows in memory and writes them as Parquet segments of the log.

    Any number of threads may :meth:`append` at once; :meth:`flush` (called by the owner, e.g. a
    timer thread, and automatically when the buffer holds ``max_buffer_rows``) writes **one segment
    per UTC day** present in the buffer, each atomically (see :mod:`.layout`). If writing fails the
    rows go back to the buffer, so a later flush can try again.

    Args:
        root: the log's root folder (``settings.MODELWORKS_PREDICTIONS_DIR``).
        source: ``deployment-<id>`` or ``recipe-<id>``; becomes a folder name, so it is checked.
        max_buffer_rows: flush from :meth:`append` once this many rows wait.
    """

    def __init__(self, root: Path, source: str, *, max_buffer_rows: int = 50_000) -> None:
        self.root = Path(root)
        self.source = check_source(source)
        self.max_buffer_rows = max(1, max_buffer_rows)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._buffer: dict[date, list[pa.Table]] = {}
        self._rows = 0
        self._closed = False

    @property
    def buffered_rows(self) -> int:
        """Rows appended but not yet written."""
        with self._lock:
            return self._rows

    def append(
        self,
        *,
        request_id: str,
        ts: datetime,
        model_version_id: int,
        model_version: str,
        role: str,
        answered: bool,
        inputs: pd.DataFrame,
        predictions: PredictionsLike,
        row_ids: Sequence[str] | None = None,
        latency_ms: float | None = None,
    ) -> None:
        """Buffer one scored batch (all rows share ``request_id`` and ``ts``).

        Args:
            request_id: the request (or build step) that scored the rows.
            ts: when they were scored; naive values are taken as UTC.
            model_version_id: the ``ModelVersion`` id.
            model_version: its label, ``"<model>/<n>"``.
            role: ``primary``, ``challenger`` or ``shadow``.
            answered: whether these predictions were sent back to the caller.
            inputs: the input rows, one column per feature (stored as ``in_<feature>``).
            predictions: ``predictions`` (one per row) and ``probabilities`` (a dict per row, or None).
            row_ids: the client's ids; default ``"<request_id>:<row index>"``.
            latency_ms: time to answer the request; ``None`` for batch scoring.

        Raises:
            PredictionRowsError: lengths differ or the role is unknown.
            PredictionLogClosedError: the writer was closed.
        """
        table = batch_table(
            request_id=request_id,
            ts=ts,
            model_version_id=model_version_id,
            model_version=model_version,
            role=role,
            answered=answered,
            inputs=inputs,
            predictions=predictions,
            row_ids=row_ids,
            latency_ms=latency_ms,
        )
        if table.num_rows == 0:
            return
        day = to_utc_naive(ts).date()
        with self._lock:
            if self._closed:
                raise PredictionLogClosedError(
                    f"the prediction log writer of {self.source!r} is closed; open a new one"
                )
            self._buffer.setdefault(day, []).append(table)
            self._rows += table.num_rows
            full = self._rows >= self.max_buffer_rows
        if full:
            self.flush()

    def flush(self) -> int:
        """Write what the buffer holds: one new segment per day. Returns the rows written."""
        with self._flush_lock:
            with self._lock:
                pending, self._buffer = self._buffer, {}
                self._rows = 0
            written = 0
            for index, (day, tables) in enumerate(sorted(pending.items())):
                try:
                    merged = pa.concat_tables(tables, promote_options="permissive")
                    write_segment(self.root, self.source, day, merged)
                except BaseException:
                    self._requeue(dict(sorted(pending.items())[index:]))
                    raise
                written += merged.num_rows
            return written

    def _requeue(self, pending: dict[date, list[pa.Table]]) -> None:
        with self._lock:
            for day, tables in pending.items():
                self._buffer[day] = tables + self._buffer.get(day, [])
                self._rows += sum(t.num_rows for t in tables)

    def close(self) -> None:
        """Flush and refuse further rows (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.flush()

    def __enter__(self) -> PredictionLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
