"""A fresh instance home per test with its own prediction log, and the monitoring job types
registered (the lead adds them to the settings; tests must not depend on that)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def monitoring_settings(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    settings.MODELWORKS_ARTIFACTS_DIR = home / "artifacts"
    settings.MODELWORKS_PREDICTIONS_DIR = home / "predictions"
    settings.MODELWORKS_JOB_LEASE_SECONDS = 600
    settings.MODELWORKS_JOB_TYPES = {
        **settings.MODELWORKS_JOB_TYPES,
        "monitoring.compute": "modelworks.monitoring.jobs.ComputeMonitorJob",
        "monitoring.backtest": "modelworks.monitoring.jobs.BacktestJob",
    }
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = []
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = False
    settings.MODELWORKS_EMAIL_ENABLED = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MODELWORKS_PUBLIC_URL = "https://ai.example.test"
    return home
