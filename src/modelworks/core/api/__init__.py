"""The core app's REST API: authentication, error bodies, pagination and one router per resource.

The routers are mounted explicitly by ``modelworks.config.api``; later domains add their own
routers there the same way.
"""

from __future__ import annotations

__all__ = [
    "audit",
    "auth",
    "errors",
    "fallback",
    "groups",
    "jobs",
    "members",
    "pagination",
    "projects",
    "tokens",
    "users",
]
