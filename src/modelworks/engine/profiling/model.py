"""The shape of a profile: per-column statistics, histogram, top values and semantic type."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["ColumnProfile", "DatasetProfile", "HistogramBin", "TopValue", "json_value"]


@dataclass(frozen=True)
class HistogramBin:
    """Values in ``[start, end)`` (the last bin includes ``end``)."""

    start: Any
    end: Any
    count: int


@dataclass(frozen=True)
class TopValue:
    """A frequent value and how many rows hold it (exact)."""

    value: Any
    count: int


@dataclass(frozen=True)
class ColumnProfile:
    """Statistics of one column.

    Attributes:
        name, type, physical_type: as in the version's schema.
        count: non-null values; null_count: nulls; null_fraction: nulls / rows.
        distinct: distinct non-null values; distinct_exact: False when estimated (HyperLogLog, ±2%).
        min, max: smallest and largest value (numbers, text, dates, booleans).
        mean, std: for numbers.
        quantiles: ``p05 p25 p50 p75 p95`` for numbers and dates; quantiles_exact: False when estimated.
        histogram: equal-width bins for numbers and dates.
        top_values: the most frequent values with exact counts, for text (and booleans).
        min_length, max_length, mean_length: for text.
        semantic_type, semantic_confidence: see :mod:`modelworks.engine.profiling.semantic`.
    """

    name: str
    type: str
    physical_type: str
    count: int
    null_count: int
    null_fraction: float
    distinct: int | None = None
    distinct_exact: bool = True
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, Any] = field(default_factory=dict)
    quantiles_exact: bool = True
    histogram: tuple[HistogramBin, ...] = ()
    top_values: tuple[TopValue, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    mean_length: float | None = None
    semantic_type: str = "text"
    semantic_confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO text, non-finite floats as None)."""
        return {
            "name": self.name,
            "type": self.type,
            "physical_type": self.physical_type,
            "count": self.count,
            "null_count": self.null_count,
            "null_fraction": self.null_fraction,
            "distinct": self.distinct,
            "distinct_exact": self.distinct_exact,
            "min": json_value(self.min),
            "max": json_value(self.max),
            "mean": json_value(self.mean),
            "std": json_value(self.std),
            "quantiles": {k: json_value(v) for k, v in self.quantiles.items()},
            "quantiles_exact": self.quantiles_exact,
            "histogram": [
                {"start": json_value(b.start), "end": json_value(b.end), "count": b.count}
                for b in self.histogram
            ],
            "top_values": [{"value": json_value(t.value), "count": t.count} for t in self.top_values],
            "min_length": self.min_length,
            "max_length": self.max_length,
            "mean_length": json_value(self.mean_length),
            "semantic_type": self.semantic_type,
            "semantic_confidence": self.semantic_confidence,
        }


@dataclass(frozen=True)
class DatasetProfile:
    """The profile of a dataset version.

    Attributes:
        row_count: rows in the version.
        columns: one profile per column, in schema order.
        scans: how many queries read column data (the footer reads are free).
        elapsed: seconds spent.
        sample_size: values per text column used for semantic detection.
    """

    row_count: int
    columns: tuple[ColumnProfile, ...]
    scans: int
    elapsed: float
    sample_size: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "row_count": self.row_count,
            "columns": [c.to_dict() for c in self.columns],
            "scans": self.scans,
            "elapsed": self.elapsed,
            "sample_size": self.sample_size,
        }


def json_value(value: Any) -> Any:
    """A value as JSON can carry it."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value
