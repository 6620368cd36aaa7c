"""Test helpers of the scenarios app, and its rows of the generated permission suite.

``SCENARIOS_API_ROUTES`` and ``SCENARIOS_PAGE_ROUTES`` are spliced into
``modelworks.core.testing.api_routes`` and ``page_routes``: every API operation and page of
this app needs a row, or the meta-test in ``tests/test_route_permissions.py`` fails naming it.
"""

from __future__ import annotations

from modelworks.core.testing.routes import ApiRouteCase, PageRouteCase

__all__ = ["SCENARIOS_API_ROUTES", "SCENARIOS_PAGE_ROUTES"]

SCENARIOS_API_ROUTES: list[ApiRouteCase] = []
SCENARIOS_PAGE_ROUTES: list[PageRouteCase] = []
