"""A fresh instance home per test (the connection key file lives there). The real PostgreSQL and S3
servers come from ``modelworks.connections.tests.servers`` (a plugin the test modules name, so each
server is started once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def fresh_home(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Point MODELWORKS_HOME (uploads, keys) and the data store at folders of this test only."""
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home  # type: ignore[attr-defined]
    settings.MODELWORKS_DATA_DIR = home / "data"  # type: ignore[attr-defined]
    return home
