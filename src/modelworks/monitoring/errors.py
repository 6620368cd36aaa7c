"""Errors of the monitoring app: each names the object, what went wrong and how to fix it."""

from __future__ import annotations

__all__ = ["BacktestError", "MonitorConfigError", "MonitoringError"]


class MonitoringError(Exception):
    """Base of the monitoring errors; ``code`` is stable, ``field`` names the setting concerned."""

    code = "monitoring_error"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class MonitorConfigError(MonitoringError):
    """A monitor cannot be computed with its settings (no reference data, unknown feature…)."""

    code = "monitor_config"


class BacktestError(MonitoringError):
    """A back-test cannot run (no model folder, missing column, no labelled rows…)."""

    code = "backtest_error"
