"""Fixtures of the prediction log tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def log_root(tmp_path: Path) -> Path:
    """An empty prediction log root."""
    return tmp_path / "predictions"
