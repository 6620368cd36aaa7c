"""Profiling: per-column statistics, histograms, frequent values and semantic types.

Public API:

* ``profile_dataset(version_path, *, bins, top_k, sample_size, exact_below, …) -> DatasetProfile``
* ``DatasetProfile``, ``ColumnProfile``, ``HistogramBin``, ``TopValue``
* ``detect_semantic``, ``SEMANTIC_TYPES``
* Errors: ``ProfilingError``.
"""

from __future__ import annotations

from modelworks.engine.profiling.errors import ProfilingError
from modelworks.engine.profiling.model import ColumnProfile, DatasetProfile, HistogramBin, TopValue
from modelworks.engine.profiling.profile import EXACT_BELOW, QUANTILES, profile_dataset
from modelworks.engine.profiling.semantic import SEMANTIC_TYPES, Semantic, detect_semantic

__all__ = [
    "EXACT_BELOW",
    "QUANTILES",
    "SEMANTIC_TYPES",
    "ColumnProfile",
    "DatasetProfile",
    "HistogramBin",
    "ProfilingError",
    "Semantic",
    "TopValue",
    "detect_semantic",
    "profile_dataset",
]
