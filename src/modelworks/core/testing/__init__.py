"""Reusable test machinery (like NetBox's ``utilities/testing``): an API client, shared fixtures and
the declarative permission suite.

* ``client``: ``ApiClient``, ``expect``, ``expect_error``.
* ``fixtures``: the pytest plugin with the shared cast (alice, bob, carol, dave, instance_admin,
  project, group, tokens, api_client, permission_world). Use it with
  ``pytest_plugins = ["modelworks.core.testing.fixtures"]``.
* ``routes``: ``Access``, ``ApiRouteCase``, ``PageRouteCase``, ``expected_outcome`` and the
  enumeration of API operations and URL patterns used by the meta-tests.
* ``api_routes`` / ``page_routes``: the permission tables, one row per API operation and per page.

Nothing here is imported by the running application.
"""

from __future__ import annotations

from modelworks.core.testing.client import API_PREFIX, ApiClient, expect, expect_error
from modelworks.core.testing.routes import (
    ACTORS,
    Access,
    ApiOperation,
    ApiRouteCase,
    PageRouteCase,
    PermissionWorld,
    api_operations,
    expected_outcome,
    page_url_names,
)

__all__ = [
    "ACTORS",
    "API_PREFIX",
    "Access",
    "ApiClient",
    "ApiOperation",
    "ApiRouteCase",
    "PageRouteCase",
    "PermissionWorld",
    "api_operations",
    "expect",
    "expect_error",
    "expected_outcome",
    "page_url_names",
]
