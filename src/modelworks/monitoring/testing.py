"""Test helpers of the monitoring app, and its rows of the generated permission suite."""

from __future__ import annotations

from modelworks.core.testing.routes import ApiRouteCase, PageRouteCase

__all__ = ["MONITORING_API_ROUTES", "MONITORING_PAGE_ROUTES"]

MONITORING_API_ROUTES: list[ApiRouteCase] = []
MONITORING_PAGE_ROUTES: list[PageRouteCase] = []
