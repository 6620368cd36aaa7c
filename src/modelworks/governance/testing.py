"""Test helpers of the governance app, and its rows of the generated permission suite.

Each part keeps its rows in ``modelworks.governance.testing_<part>`` (``API_ROUTES`` and
``PAGE_ROUTES`` lists); they are gathered here.
"""

from __future__ import annotations

from importlib import import_module

from modelworks.core.testing.routes import ApiRouteCase, PageRouteCase

__all__ = ["GOVERNANCE_API_ROUTES", "GOVERNANCE_PAGE_ROUTES"]

GOVERNANCE_API_ROUTES: list[ApiRouteCase] = []
GOVERNANCE_PAGE_ROUTES: list[PageRouteCase] = []
for _part in ("portfolio", "value", "signoff", "aiact"):
    try:
        _module = import_module(f"modelworks.governance.testing_{_part}")
    except ModuleNotFoundError as exc:  # a part not written yet
        if exc.name != f"modelworks.governance.testing_{_part}":
            raise
        continue
    GOVERNANCE_API_ROUTES += _module.API_ROUTES
    GOVERNANCE_PAGE_ROUTES += _module.PAGE_ROUTES
