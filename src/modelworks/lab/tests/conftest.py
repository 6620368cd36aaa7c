"""A fresh instance home and artifact store per test, the Lab's job type, and small real datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def lab_settings(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    settings.MODELWORKS_ARTIFACTS_DIR = home / "artifacts"
    settings.MODELWORKS_JOB_LEASE_SECONDS = 600
    settings.MODELWORKS_LAB_MIN_BUDGET_SECONDS = 1
    return home
