"""Counters and latency histograms of the scoring service, summed over its worker processes.

Each worker keeps its own counters in memory (updated under a lock by the event loop and the
background threads) and writes them once a second to ``<run_dir>/worker-<slot>.json`` (temp file +
rename, so a reader never sees half a file). ``GET /metrics`` is answered by whichever worker the
kernel hands the connection to: it adds its live counters to the files of the other workers and
renders the Prometheus text format. A worker that is restarted starts again from zero, which
Prometheus reads as a counter reset (``rate()`` handles it).

Label values come from the routing table (endpoint names, ``model/version``) and from a fixed list of
error codes, never from the request, so a caller cannot blow up the number of series.
"""

from __future__ import annotations

import json
import os
import threading
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["LATENCY_BUCKETS", "ServingMetrics", "merge_snapshots", "render_prometheus"]

#: Upper bounds (seconds) of the latency histogram; a scoring call is expected in the low milliseconds.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

_SEP = "\x1f"  # joins label values into one JSON-friendly key


def _key(*values: str) -> str:
    return _SEP.join(values)


class ServingMetrics:
    """The counters of one worker process. Thread-safe; every update is a few dictionary operations."""

    def __init__(self, run_dir: Path | None, slot: int) -> None:
        self.run_dir = run_dir
        self.slot = slot
        self._lock = threading.Lock()
        self._requests: dict[str, int] = {}  # endpoint, version, status
        self._errors: dict[str, int] = {}  # endpoint, error_code
        self._latency: dict[str, list[float]] = {}  # endpoint, version -> bucket counts + [sum, count]
        self._rows: dict[str, int] = {}  # endpoint, version, role
        self._load_failures: dict[str, int] = {}  # endpoint, version
        self._gauges: dict[str, float] = {}

    # ------------------------------------------------------------------------------------- updates

    def observe_request(self, endpoint: str, version: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        rkey = _key(endpoint, version, str(status))
        lkey = _key(endpoint, version)
        index = bisect_left(LATENCY_BUCKETS, seconds)
        with self._lock:
            self._requests[rkey] = self._requests.get(rkey, 0) + 1
            hist = self._latency.get(lkey)
            if hist is None:
                hist = self._latency[lkey] = [0.0] * (len(LATENCY_BUCKETS) + 2)
            if index < len(LATENCY_BUCKETS):
                hist[index] += 1
            hist[-2] += seconds
            hist[-1] += 1

    def count_error(self, endpoint: str, error_code: str) -> None:
        key = _key(endpoint, error_code)
        with self._lock:
            self._errors[key] = self._errors.get(key, 0) + 1

    def count_rows(self, endpoint: str, version: str, role: str, rows: int) -> None:
        key = _key(endpoint, version, role)
        with self._lock:
            self._rows[key] = self._rows.get(key, 0) + rows

    def count_load_failure(self, endpoint: str, version: str) -> None:
        key = _key(endpoint, version)
        with self._lock:
            self._load_failures[key] = self._load_failures.get(key, 0) + 1

    def set_gauge(self, name: str, value: float) -> None:
        with self._lock:
            self._gauges[name] = value

    # ------------------------------------------------------------------------------------ sharing

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of every counter."""
        with self._lock:
            return {
                "pid": os.getpid(),
                "requests": dict(self._requests),
                "errors": dict(self._errors),
                "latency": {k: list(v) for k, v in self._latency.items()},
                "rows": dict(self._rows),
                "load_failures": dict(self._load_failures),
                "gauges": dict(self._gauges),
            }

    def _file(self, slot: int) -> Path:
        assert self.run_dir is not None
        return self.run_dir / f"worker-{slot}.json"

    def write(self) -> None:
        """Publish this worker's counters for the other workers' ``/metrics`` (atomic rename)."""
        if self.run_dir is None:
            return
        target = self._file(self.slot)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.snapshot()), encoding="utf-8")
        os.replace(tmp, target)

    def all_snapshots(self) -> list[dict[str, Any]]:
        """This worker's live counters plus the last published counters of every other worker."""
        snapshots = [self.snapshot()]
        if self.run_dir is None or not self.run_dir.is_dir():
            return snapshots
        own = self._file(self.slot).name
        for path in sorted(self.run_dir.glob("worker-*.json")):
            if path.name == own:
                continue
            try:
                snapshots.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue  # a worker being replaced; its next write will be complete
        return snapshots

    def render(self) -> str:
        """The Prometheus text exposition of the counters of all workers."""
        snapshots = self.all_snapshots()
        return render_prometheus(merge_snapshots(snapshots), workers=len(snapshots))


def merge_snapshots(snapshots: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum the counters of several workers (histograms bucket by bucket; gauges summed too)."""
    merged: dict[str, Any] = {
        "requests": {},
        "errors": {},
        "latency": {},
        "rows": {},
        "load_failures": {},
        "gauges": {},
    }
    for snap in snapshots:
        for part in ("requests", "errors", "rows", "load_failures", "gauges"):
            target = merged[part]
            for key, value in (snap.get(part) or {}).items():
                target[key] = target.get(key, 0) + value
        for key, hist in (snap.get("latency") or {}).items():
            current = merged["latency"].get(key)
            if current is None or len(current) != len(hist):
                merged["latency"][key] = list(hist)
            else:
                merged["latency"][key] = [a + b for a, b in zip(current, hist, strict=True)]
    return merged


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], key: str, extra: str = "") -> str:
    values = key.split(_SEP)
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=False)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}"


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render_prometheus(merged: Mapping[str, Any], *, workers: int) -> str:
    """Render merged counters in the Prometheus text format (version 0.0.4)."""
    out: list[str] = []

    def counter(name: str, help_text: str, part: str, labels: tuple[str, ...]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} counter")
        for key in sorted(merged[part]):
            out.append(f"{name}{_labels(labels, key)} {_fmt(merged[part][key])}")

    counter(
        "modelworks_scoring_requests_total",
        "Scoring requests answered, by endpoint, model version and HTTP status.",
        "requests",
        ("endpoint", "version", "status"),
    )
    counter(
        "modelworks_scoring_errors_total",
        "Scoring requests refused or failed, by endpoint and error code.",
        "errors",
        ("endpoint", "error_code"),
    )
    counter(
        "modelworks_scoring_rows_total",
        "Rows scored, by endpoint, model version and role (primary, challenger, shadow).",
        "rows",
        ("endpoint", "version", "role"),
    )
    counter(
        "modelworks_scoring_model_load_failures_total",
        "Model versions that could not be loaded, by endpoint and version.",
        "load_failures",
        ("endpoint", "version"),
    )
    name = "modelworks_scoring_request_duration_seconds"
    out.append(f"# HELP {name} Time from request to answer, by endpoint and model version.")
    out.append(f"# TYPE {name} histogram")
    for key in sorted(merged["latency"]):
        hist = merged["latency"][key]
        cumulative = 0.0
        pair = ("endpoint", "version")
        for bound, count in zip(LATENCY_BUCKETS, hist, strict=False):
            cumulative += count
            le = 'le="' + str(bound) + '"'
            out.append(f"{name}_bucket{_labels(pair, key, le)} {_fmt(cumulative)}")
        inf = 'le="+Inf"'
        out.append(f"{name}_bucket{_labels(pair, key, inf)} {_fmt(hist[-1])}")
        out.append(f"{name}_sum{_labels(pair, key)} {_fmt(hist[-2])}")
        out.append(f"{name}_count{_labels(pair, key)} {_fmt(hist[-1])}")
    gauges = merged["gauges"]
    out.append("# HELP modelworks_serving_workers Worker processes whose counters are included.")
    out.append("# TYPE modelworks_serving_workers gauge")
    out.append(f"modelworks_serving_workers {workers}")
    out.append("# HELP modelworks_serving_loaded_models Models loaded, summed over the workers.")
    out.append("# TYPE modelworks_serving_loaded_models gauge")
    out.append(f"modelworks_serving_loaded_models {_fmt(gauges.get('loaded_models', 0))}")
    out.append("# HELP modelworks_serving_endpoints Endpoints served (each worker serves all of them).")
    out.append("# TYPE modelworks_serving_endpoints gauge")
    out.append(f"modelworks_serving_endpoints {_fmt(gauges.get('endpoints', 0) / max(workers, 1))}")
    return "\n".join(out) + "\n"
