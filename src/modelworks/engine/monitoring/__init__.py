"""Monitoring engine: data drift, data quality and performance over time windows.

Plain Python over Arrow and NumPy (no Django). The statistics equal Evidently's data-drift preset to
1e-6; the work is column by column, so a report over millions of rows stays fast and small.
"""

from __future__ import annotations

from modelworks.engine.monitoring.drift import (
    DEFAULT_THRESHOLDS,
    P_VALUE_TESTS,
    TEST_LABELS,
    TESTS,
    ColumnDrift,
    choose_test,
    column_drift,
)
from modelworks.engine.monitoring.errors import (
    DriftInputError,
    MonitoringError,
    UnknownTestError,
    WindowError,
)
from modelworks.engine.monitoring.performance import (
    MAX_WINDOWS,
    WindowMetrics,
    WindowSize,
    windowed_performance,
    windows,
)
from modelworks.engine.monitoring.quality import QualityCheck, QualityFinding, data_quality
from modelworks.engine.monitoring.report import DriftReport, drift_report
from modelworks.engine.monitoring.samples import ColumnKind

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MAX_WINDOWS",
    "P_VALUE_TESTS",
    "TESTS",
    "TEST_LABELS",
    "ColumnDrift",
    "ColumnKind",
    "DriftInputError",
    "DriftReport",
    "MonitoringError",
    "QualityCheck",
    "QualityFinding",
    "UnknownTestError",
    "WindowError",
    "WindowMetrics",
    "WindowSize",
    "choose_test",
    "column_drift",
    "data_quality",
    "drift_report",
    "windowed_performance",
    "windows",
]
