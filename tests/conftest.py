"""Fixtures shared by every test: see ``modelworks.core.testing.fixtures`` for the cast.

The fixtures live in the package so that tests inside the apps (``src/modelworks/*/tests``) can
use them too; this line makes them available to every test under ``tests/``.
"""

from __future__ import annotations

pytest_plugins = ["modelworks.core.testing.fixtures"]
