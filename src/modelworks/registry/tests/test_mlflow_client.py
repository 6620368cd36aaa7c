"""The unmodified ``mlflow`` client registering and loading models against a live Modelworks server:
``log_model(registered_model_name=…)``, ``register_model`` from ``runs:/`` (MLflow 3 logged model
and MLflow 2 run artifacts), aliases, and ``pyfunc.load_model("models:/<name>@<alias>")``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pytest
import sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from modelworks.core.models import AuditEvent, Project
from modelworks.registry.models import AliasEvent, LoggedModel, ModelVersion

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

REQUIREMENTS = [f"scikit-learn=={sklearn.__version__}"]


@pytest.fixture
def connect(
    live_server: Any,
    project: Project,
    tokens: dict[str, str],
    artifacts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """``connect(user)`` points the mlflow client at the live server with ``user``'s token."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    uri = f"{live_server.url}/mlflow/{project.slug}"

    def as_user(username: str) -> MlflowClient:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[username])
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        return MlflowClient(tracking_uri=uri, registry_uri=uri)

    yield as_user
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri("")


@pytest.mark.django_db(transaction=True)
def test_log_register_alias_and_load(connect: Any, tmp_path: Path) -> None:
    client = connect("bob")
    frame = load_iris(as_frame=True)
    features = frame.data.astype("float64")
    model = LogisticRegression(max_iter=300).fit(features, frame.target)
    expected = model.predict(features)

    mlflow.set_experiment("Iris")
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", float((expected == frame.target).mean()))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=features.head(3),
            registered_model_name="iris",
            pip_requirements=REQUIREMENTS,
        )
        # An MLflow 2 style copy: the model folder among the run's own artifacts.
        local = tmp_path / "legacy"
        mlflow.sklearn.save_model(model, str(local), pip_requirements=REQUIREMENTS)
        mlflow.log_artifacts(str(local), "legacy_model")

    logged = LoggedModel.objects.get(model_id=info.model_id)
    assert logged.status == "READY" and logged.source_run_id == run.info.run_id
    first = ModelVersion.objects.get(registered_model__name="iris", version=1)
    assert first.logged_model == logged and first.storage_location == logged.artifact_location
    assert first.signature and first.input_example

    # MLflow 3: runs:/<run>/model finds the logged model; MLflow 2: the run's own artifact folder.
    second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "iris")
    third = mlflow.register_model(f"runs:/{run.info.run_id}/legacy_model", "iris")
    assert (second.version, third.version) == ("2", "3")
    assert ModelVersion.objects.get(version=2).logged_model_id == info.model_id  # the client drops model_id
    assert ModelVersion.objects.get(version=3).storage_location.endswith(
        f"/{run.info.run_id}/artifacts/legacy_model"
    )

    client.set_registered_model_alias("iris", "champion", "1")
    client.set_registered_model_alias("iris", "champion", "3")
    assert client.get_model_version_by_alias("iris", "champion").version == "3"
    assert client.get_registered_model("iris").aliases == {"champion": "3"}
    assert list(AliasEvent.objects.values_list("from_version", "to_version").order_by("id")) == [
        (None, 1),
        (1, 3),
    ]

    for uri in ("models:/iris@champion", "models:/iris/1", "models:/iris/2", f"models:/{info.model_id}"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert np.array_equal(np.asarray(loaded.predict(features)), expected), uri

    versions = client.search_model_versions("name = 'iris'")
    assert sorted(v.version for v in versions) == ["1", "2", "3"]
    assert [m.name for m in client.search_registered_models(filter_string="name LIKE 'ir%'")] == ["iris"]
    assert AuditEvent.objects.filter(action="model.version_created").count() == 3


@pytest.mark.django_db(transaction=True)
def test_readers_cannot_move_aliases_and_missing_names_fail_clearly(connect: Any) -> None:
    bob = connect("bob")
    bob.create_registered_model("empty")
    carol = connect("carol")
    with pytest.raises(MlflowException) as exc:
        carol.set_registered_model_alias("empty", "champion", "1")
    assert exc.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(MlflowException) as exc:
        carol.get_registered_model("nothing")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        mlflow.pyfunc.load_model("models:/empty@champion")
    assert "alias champion not found" in str(exc.value)
