"""Test helpers of the deployments app, and its rows of the generated permission suite."""

from __future__ import annotations

from modelworks.core.testing.routes import ApiRouteCase, PageRouteCase

__all__ = ["DEPLOYMENTS_API_ROUTES", "DEPLOYMENTS_PAGE_ROUTES"]

DEPLOYMENTS_API_ROUTES: list[ApiRouteCase] = []
DEPLOYMENTS_PAGE_ROUTES: list[PageRouteCase] = []
