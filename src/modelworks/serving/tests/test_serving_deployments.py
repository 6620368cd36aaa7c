"""End to end: real Deployment rows served by ``modelworks serve-models`` (a subprocess on the test
database), following an alias move, a revoked token and a pause within seconds."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from modelworks.core.models import Project, User
from modelworks.core.tests.jobs_fixtures import _database_url
from modelworks.serving.tests.conftest import ServingProcess, free_port, row_body

pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture
def serve_models(transactional_db: None, tmp_path: Path) -> Iterator[Callable[[], ServingProcess]]:
    started: list[ServingProcess] = []

    def start() -> ServingProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("MODELWORKS_ENV", "MODELWORKS_CONFIG")}
        env.update(
            MODELWORKS_HOME=str(settings.MODELWORKS_HOME),
            DATABASE_URL=_database_url(),
            DJANGO_SETTINGS_MODULE="modelworks.config.settings.test",
            PYTHONUNBUFFERED="1",
        )
        port = free_port()
        argv = [sys.executable, "-m", "modelworks.cli", "serve-models", "--port", str(port), "--workers", "1"]
        service = ServingProcess(argv, env, tmp_path / "serve-models.log", port)
        started.append(service)
        service.wait_ready()
        return service

    yield start
    for service in started:  # before the test database is flushed
        service.terminate()
        print(service.output())
        service.kill()


def _wait_for(service: ServingProcess, check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s:\n{service.output()}")


def test_serves_a_deployment_and_follows_alias_token_and_pause(
    serve_models: Callable[[], ServingProcess],
    project: Project,
    bob: User,
    alice: User,
    model_dirs: dict[str, Path],
) -> None:
    from modelworks.deployments.services import (
        TargetSpec,
        create_deployment,
        issue_token,
        pause_deployment,
        revoke_token,
    )
    from modelworks.registry.services.register import register_version
    from modelworks.registry.services.versions import set_alias

    v1 = register_version(project, actor=bob, model_name="churn", source_dir_or_logged_model=model_dirs["v1"])
    v2 = register_version(project, actor=bob, model_name="churn", source_dir_or_logged_model=model_dirs["v2"])
    set_alias(v1, "champion", actor=bob)
    deployment = create_deployment(
        project, actor=bob, name="churn-live", targets=[TargetSpec(model="churn", alias="champion")]
    )
    token, raw = issue_token(deployment, actor=alice, name="billing app")
    service = serve_models()

    def version() -> Any:
        return service.score(row_body(a=2.0), endpoint="churn-live", token=raw).json().get("model_version")

    assert version() == "churn/1"
    assert service.score(row_body(), endpoint="churn-live", token=None).status == 401

    set_alias(v2, "champion", actor=bob)  # a promotion: the endpoint follows within a second or two
    _wait_for(service, lambda: version() == "churn/2", "the switch to churn/2")

    revoke_token(token, actor=alice)
    _wait_for(
        service,
        lambda: service.score(row_body(), endpoint="churn-live", token=raw).status == 403,
        "refusing the revoked token",
    )
    _, raw2 = issue_token(deployment, actor=alice, name="second app")
    _wait_for(
        service,
        lambda: service.score(row_body(), endpoint="churn-live", token=raw2).status == 200,
        "accepting the new token",
    )
    pause_deployment(deployment, actor=bob)
    _wait_for(
        service,
        lambda: service.score(row_body(), endpoint="churn-live", token=raw2).status == 403,
        "refusing calls to the paused deployment",
    )
    assert service.terminate() == 0
