"""What the monitoring engine raises on purpose: each message says what, where and how to fix it."""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = ["DriftInputError", "MonitoringError", "UnknownTestError", "WindowError"]


class MonitoringError(EngineError):
    """The root of the monitoring engine's errors."""

    code = "monitoring_error"


class DriftInputError(MonitoringError):
    """Reference or current data that cannot be compared: a missing column, a file that cannot be read,
    text declared as numbers…"""

    code = "drift_input"


class UnknownTestError(MonitoringError):
    """A drift test name that does not exist, or that does not apply to the column's kind."""

    code = "unknown_test"


class WindowError(MonitoringError):
    """Time windows that cannot be built: end before start, naive mixed with aware times, too many."""

    code = "invalid_window"
