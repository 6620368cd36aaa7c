"""Each test starts with an empty MLflow caller cache (users and tokens are recreated per test).

``mlflow_as(username)`` points the unmodified mlflow client (fluent API and ``MlflowClient``) at a
live server as that user, as users do: ``MLFLOW_TRACKING_URI=<server>/mlflow/<project>`` and
``MLFLOW_TRACKING_TOKEN``. Modules using it declare ``pytest_plugins =
["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]`` (users, project, tokens,
a private artifact store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modelworks.tracking.protocol import clear_auth_cache


@pytest.fixture(autouse=True)
def _fresh_auth_cache() -> None:
    clear_auth_cache()


@pytest.fixture
def mlflow_as(
    live_server: Any,
    project: Any,
    tokens: dict[str, str],
    artifacts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[str], Any]]:
    """``mlflow_as("bob")`` → an ``MlflowClient`` for bob; the fluent API is pointed there too."""
    import mlflow
    import mlflow.tracking.fluent

    # The fluent API remembers the last experiment set in this process; each test starts without one.
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    uri = f"{live_server.url}/mlflow/{project.slug}"

    def as_user(username: str) -> mlflow.MlflowClient:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[username])
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)

    yield as_user
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri("")
    mlflow.set_registry_uri("")
    mlflow.tracking.fluent._active_experiment_id = None
