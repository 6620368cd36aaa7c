"""Fixtures of the registry tests: a private artifact store, an experiment with a finished run that
logged a real scikit-learn model, and a small client speaking the MLflow protocol with a token.

Test modules declare ``pytest_plugins = ["modelworks.core.testing.fixtures",
"modelworks.registry.tests.fixtures"]``.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from modelworks.core.models import Project, User
from modelworks.tracking.models import Experiment, LatestMetric, Metric, Param, Run, RunStatus

__all__ = [
    "MlflowApi",
    "artifacts_dir",
    "experiment",
    "make_run",
    "mlflow_api",
    "sklearn_model_folder",
    "trained_run",
    "write_sklearn_model",
]


@pytest.fixture
def artifacts_dir(settings: Any, tmp_path: Path) -> Path:
    """``MODELWORKS_ARTIFACTS_DIR`` of this test only."""
    folder = tmp_path / "artifacts"
    folder.mkdir()
    settings.MODELWORKS_ARTIFACTS_DIR = folder
    return folder


@pytest.fixture
def experiment(project: Project, bob: User) -> Experiment:
    stamp = int(time.time() * 1000)
    return Experiment.objects.create(
        project=project, name="churn", created_by=bob, creation_time=stamp, last_update_time=stamp
    )


def make_run(
    experiment: Experiment, *, metrics: dict[str, float] | None = None, params: dict[str, str] | None = None
) -> Run:
    """A finished run with latest metrics and params, as the tracking endpoints would store them."""
    stamp = int(time.time() * 1000)
    run = Run.objects.create(
        run_uuid=uuid.uuid4().hex,
        experiment=experiment,
        name="rf-trial",
        status=RunStatus.FINISHED,
        start_time=stamp,
        end_time=stamp,
    )
    for key, value in (metrics or {}).items():
        Metric.objects.create(run=run, key=key, value=value, timestamp=stamp, step=0)
        LatestMetric.objects.create(run=run, key=key, value=value, timestamp=stamp, step=0)
    for key, value in (params or {}).items():
        Param.objects.create(run=run, key=key, value=value)
    run.tags.create(key="mlflow.source.name", value="train.py")
    run.tags.create(key="mlflow.source.git.commit", value="1a2b3c4d5e6f7a8b9c0d")
    return run


def write_sklearn_model(folder: Path) -> Path:
    """A real MLflow model folder (sklearn flavor, signature, input example) trained on iris.

    The requirements are given, so mlflow does not start a subprocess to infer them (seconds).
    """
    import mlflow.sklearn
    import pandas as pd
    import sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    frame = load_iris(as_frame=True)
    features: pd.DataFrame = frame.data.astype("float64")
    model = LogisticRegression(max_iter=300).fit(features, frame.target)
    mlflow.sklearn.save_model(
        model,
        str(folder),
        input_example=features.head(3),
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
    )
    return folder


@pytest.fixture(scope="session")
def sklearn_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real MLflow model folder per test session (copy it; do not change it)."""
    return write_sklearn_model(tmp_path_factory.mktemp("sklearn") / "model")


@pytest.fixture
def trained_run(experiment: Experiment, artifacts_dir: Path, sklearn_model_folder: Path) -> Run:
    """A run whose artifacts hold a real sklearn model under ``model/``."""
    run = make_run(experiment, metrics={"accuracy": 0.93, "log_loss": 0.2}, params={"max_iter": "300"})
    target = artifacts_dir / "tracking" / str(experiment.pk) / run.run_uuid / "artifacts" / "model"
    shutil.copytree(sklearn_model_folder, target)
    return run


class MlflowApi:
    """Calls ``/mlflow/<project>/api/2.0/mlflow/<endpoint>`` as the mlflow client does (token auth)."""

    def __init__(self, project: Project, token: str | None) -> None:
        self.client = Client()
        self.prefix = f"/mlflow/{project.slug}/api/2.0/mlflow/"
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def call(
        self, method: str, endpoint: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        url = self.prefix + endpoint
        if method == "GET":
            response = self.client.get(url, body or {}, **self.headers)
        else:
            response = self.client.generic(
                method, url, json.dumps(body or {}), content_type="application/json", **self.headers
            )
        return response.status_code, response.json()

    def get(self, endpoint: str, **params: Any) -> tuple[int, dict[str, Any]]:
        return self.call("GET", endpoint, params)

    def post(self, endpoint: str, **body: Any) -> tuple[int, dict[str, Any]]:
        return self.call("POST", endpoint, body)

    def patch(self, endpoint: str, **body: Any) -> tuple[int, dict[str, Any]]:
        return self.call("PATCH", endpoint, body)

    def delete(self, endpoint: str, **body: Any) -> tuple[int, dict[str, Any]]:
        return self.call("DELETE", endpoint, body)


@pytest.fixture
def mlflow_api(project: Project, tokens: dict[str, str]) -> Callable[[str | None], MlflowApi]:
    """``mlflow_api("bob")`` → a protocol client with bob's token; ``mlflow_api(None)`` is anonymous."""

    def for_user(username: str | None) -> MlflowApi:
        return MlflowApi(project, tokens[username] if username else None)

    return for_user
