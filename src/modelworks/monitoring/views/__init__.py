"""Pages of the monitoring app (see ``modelworks.monitoring.urls``)."""

from __future__ import annotations

from modelworks.monitoring.views.alerts import AlertAcknowledgeView, AlertsView
from modelworks.monitoring.views.backtests import BacktestDetailView, BacktestListView
from modelworks.monitoring.views.monitors import (
    MonitorComputeView,
    MonitorCreateView,
    MonitorDeleteView,
    MonitorDetailView,
    MonitorEditView,
    OverviewView,
)

__all__ = [
    "AlertAcknowledgeView",
    "AlertsView",
    "BacktestDetailView",
    "BacktestListView",
    "MonitorComputeView",
    "MonitorCreateView",
    "MonitorDeleteView",
    "MonitorDetailView",
    "MonitorEditView",
    "OverviewView",
]
