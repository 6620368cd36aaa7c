"""Pages of the monitoring app (namespace ``monitoring``)."""

from __future__ import annotations

from django.urls import path

from modelworks.monitoring import views

app_name = "monitoring"

_P = "projects/<slug:slug>/monitoring/"
_M = _P + "monitors/<int:pk>/"

urlpatterns = [
    path(_P, views.OverviewView.as_view(), name="overview"),
    path(_P + "monitors/new/", views.MonitorCreateView.as_view(), name="create"),
    path(_M, views.MonitorDetailView.as_view(), name="detail"),
    path(_M + "edit/", views.MonitorEditView.as_view(), name="edit"),
    path(_M + "compute/", views.MonitorComputeView.as_view(), name="compute"),
    path(_M + "delete/", views.MonitorDeleteView.as_view(), name="delete"),
    path(_P + "alerts/", views.AlertsView.as_view(), name="alerts"),
    path(_P + "alerts/<int:alert_id>/acknowledge/", views.AlertAcknowledgeView.as_view(), name="acknowledge"),
    path(_P + "backtests/", views.BacktestListView.as_view(), name="backtests"),
    path(_P + "backtests/<int:pk>/", views.BacktestDetailView.as_view(), name="backtest"),
]
