"""Fixtures of the deployments tests: a registered model with two real versions (a scikit-learn
model saved by MLflow, copied into a private artifact store), ``champion`` on version 1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def registered(project: Any, bob: Any, artifacts_dir: Path, sklearn_model_folder: Path) -> Any:
    """``late-departures`` with versions 1 and 2; ``champion`` → v1, ``challenger`` → v2."""
    from modelworks.registry import services

    first = services.register_version(
        project, actor=bob, model_name="late-departures", source_dir_or_logged_model=sklearn_model_folder
    )
    second = services.register_version(
        project, actor=bob, model_name="late-departures", source_dir_or_logged_model=sklearn_model_folder
    )
    services.set_alias(first, "champion", actor=bob)
    services.set_alias(second, "challenger", actor=bob)
    return first.registered_model
