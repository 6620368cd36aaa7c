"""Prediction logging of a worker: one buffered writer per deployment, flushed by a thread.

Rows are appended after the answer is sent (from the app's background thread), buffered in memory by
``engine.predictions.PredictionLogWriter`` and written as a Parquet segment every
``flush_seconds`` (default 5) and when the worker stops. A failed write keeps the rows buffered
for the next flush (the writer requeues them) and is logged; it never affects scoring.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["PredictionLog"]

logger = logging.getLogger("modelworks.serving")


class PredictionLog:
    """The prediction log writers of one worker process.

    Args:
        root: the log's root folder (``settings.MODELWORKS_PREDICTIONS_DIR``).
        flush_seconds: how often buffered rows are written.
    """

    def __init__(self, root: Path, *, flush_seconds: float = 5.0) -> None:
        self.root = Path(root)
        self.flush_seconds = flush_seconds
        self._writers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _writer(self, source: str) -> Any:
        writer = self._writers.get(source)
        if writer is None:
            from modelworks.engine.predictions.writer import PredictionLogWriter

            with self._lock:
                writer = self._writers.get(source)
                if writer is None:
                    writer = self._writers[source] = PredictionLogWriter(self.root, source)
        return writer

    def append(
        self,
        config: Any,
        target: Any,
        batch: Any,
        result: Any,
        request_id: str,
        ts: datetime,
        latency_ms: float | None,
        *,
        answered: bool,
    ) -> None:
        """Buffer the rows of one scored request for one target."""
        self._writer(f"deployment-{config.deployment_id}").append(
            request_id=request_id,
            ts=ts,
            model_version_id=int(target.config.version_id),
            model_version=target.label,
            role=target.role,
            answered=answered,
            inputs=batch.frame,
            predictions=result,
            row_ids=batch.ids,
            latency_ms=latency_ms,
        )

    def flush(self) -> int:
        """Write every writer's buffer now. Returns the rows written."""
        with self._lock:
            writers = list(self._writers.values())
        written = 0
        for writer in writers:
            try:
                written += int(writer.flush())
            except Exception:
                logger.exception(
                    "could not write the prediction log of %s (kept for the next try)", writer.source
                )
        return written

    def start(self) -> None:
        """Start the flushing thread."""
        self._thread = threading.Thread(target=self._run, name="serving-predlog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def close(self) -> None:
        """Stop the thread and write what is left (called when the worker stops)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.flush_seconds + 5)
        self.flush()
