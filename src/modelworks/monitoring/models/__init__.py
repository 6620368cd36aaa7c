"""Models of the monitoring app. Import from here."""

from __future__ import annotations

from modelworks.monitoring.models.backtests import Backtest, BacktestStatus
from modelworks.monitoring.models.monitors import (
    Alert,
    AlertStatus,
    LabelsSource,
    Metric,
    Monitor,
    MonitorPoint,
    Window,
)

__all__ = [
    "Alert",
    "AlertStatus",
    "Backtest",
    "BacktestStatus",
    "LabelsSource",
    "Metric",
    "Monitor",
    "MonitorPoint",
    "Window",
]
