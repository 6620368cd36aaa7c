"""Services of the monitoring app: monitors, their computation, alerts, scheduling and back-tests."""

from __future__ import annotations

from modelworks.monitoring.services.alerts import acknowledge_alert, notify_alerts, record_breaches
from modelworks.monitoring.services.backtests import create_backtest, run_backtest
from modelworks.monitoring.services.compute import ComputeResult, compute_monitor
from modelworks.monitoring.services.monitors import (
    MONITOR_FIELDS,
    create_monitor,
    delete_monitor,
    request_compute,
    update_monitor,
)
from modelworks.monitoring.services.sources import MonitorContext, resolve_context, resolve_model_version

__all__ = [
    "MONITOR_FIELDS",
    "ComputeResult",
    "MonitorContext",
    "acknowledge_alert",
    "compute_monitor",
    "create_backtest",
    "create_monitor",
    "delete_monitor",
    "notify_alerts",
    "record_breaches",
    "request_compute",
    "resolve_context",
    "resolve_model_version",
    "run_backtest",
    "update_monitor",
]
