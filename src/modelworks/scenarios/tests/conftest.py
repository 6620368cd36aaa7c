"""A fresh instance home per test, and scenario settings that keep the tests fast and in-process:
a step's job is run by the scenario itself at once (no worker in these tests), the job lease is
long (no lease-renewal write while the test's transaction is open), and ``core.diagnostic`` is the
job type scenarios may start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def scenario_settings(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    settings.MODELWORKS_SCENARIO_INLINE_AFTER_SECONDS = 0
    settings.MODELWORKS_JOB_LEASE_SECONDS = 600
    settings.MODELWORKS_SCENARIO_JOB_TYPES = ["core.diagnostic"]
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = []
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = False
    settings.MODELWORKS_EMAIL_ENABLED = False
    settings.MODELWORKS_PUBLIC_URL = "https://ai.example.test"
    return home
