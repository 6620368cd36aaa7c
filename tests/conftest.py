"""Fixtures shared by every test: see ``modelworks.core.testing.fixtures`` for the cast.

The fixtures live in the package so that tests inside the apps (``src/modelworks/*/tests``) can
use them too; this line makes them available to every test under ``tests/``.

``modelworks.core.testing.threads`` makes the threads that serve requests (the live server's) close
their database connections after each request, so none still holds the test database when it is
dropped at the end of the run (PostgreSQL refuses to drop a database other sessions use).
"""

from __future__ import annotations

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.core.testing.threads"]
