"""Models through the real client: MLflow 3 logged models (log_model with signature and input example,
params, tags, linked metrics, search, finalize, delete), loading by every URI form, and the registry
calls of ``MlflowClient`` (registered models, versions, tags, aliases, search, copy, download)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import sklearn
from mlflow.entities import LoggedModelOutput, LoggedModelStatus
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from modelworks.registry.models import LoggedModel, ModelVersion

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

REQUIREMENTS = [f"scikit-learn=={sklearn.__version__}"]  # given: mlflow does not infer them (slow)


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, LogisticRegression]:
    frame = load_iris(as_frame=True)
    features = frame.data.astype("float64")
    return features, LogisticRegression(max_iter=300).fit(features, frame.target)


@pytest.mark.django_db(transaction=True)
def test_logged_models_log_search_tag_and_load_by_every_uri(
    mlflow_as: Any, iris: Any, tmp_path: Path
) -> None:
    client = mlflow_as("bob")
    features, model = iris
    expected = model.predict(features)
    experiment = mlflow.set_experiment("Iris")
    evaluation = mlflow.data.from_pandas(features, name="iris-eval")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model,
            name="classifier",
            signature=infer_signature(features, expected),
            input_example=features.head(2),
            pip_requirements=REQUIREMENTS,
            params={"C": 1.0},
            tags={"family": "linear"},
            model_type="classifier",
            step=3,
        )
        mlflow.log_metric("accuracy", 0.97, model_id=info.model_id, dataset=evaluation)
    model_id = info.model_id
    assert info.model_uri == f"models:/{model_id}"
    assert info.artifact_path == f"mlflow-artifacts:/{experiment.experiment_id}/models/{model_id}/artifacts"

    logged = mlflow.get_logged_model(model_id)
    assert (logged.name, logged.status, logged.model_type) == (
        "classifier",
        LoggedModelStatus.READY,
        "classifier",
    )
    assert logged.params == {"C": "1.0"} and logged.tags["family"] == "linear"
    assert logged.source_run_id == run.info.run_id
    assert [(m.key, m.value, m.dataset_name) for m in logged.metrics] == [("accuracy", 0.97, "iris-eval")]
    assert [(o.model_id, o.step) for o in client.get_run(run.info.run_id).outputs.model_outputs] == [
        (model_id, 3)
    ]

    # Logged models made by hand (the MLflow 3 low-level API), finalized, linked and deleted.
    manual = client.create_logged_model(
        experiment.experiment_id, name="manual", params={"p": "1"}, tags={"a": "b"}
    )
    assert manual.status == LoggedModelStatus.PENDING
    assert (
        client.finalize_logged_model(manual.model_id, LoggedModelStatus.READY).status
        == LoggedModelStatus.READY
    )
    assert mlflow.initialize_logged_model(name="draft", experiment_id=experiment.experiment_id).model_id
    client.log_outputs(run.info.run_id, [LoggedModelOutput(manual.model_id, 0)])

    def found(**kwargs: Any) -> list[str]:
        return [m.name for m in mlflow.search_logged_models(output_format="list", **kwargs)]

    assert sorted(found(experiment_ids=[experiment.experiment_id])) == ["classifier", "draft", "manual"]
    assert found(filter_string="params.C = '1.0' AND metrics.accuracy > 0.5") == ["classifier"]
    assert found(filter_string="name = 'manual'") == ["manual"]
    assert found(datasets=[{"dataset_name": "iris-eval"}]) == ["classifier"]
    assert found(order_by=[{"field_name": "name", "ascending": True}]) == ["classifier", "draft", "manual"]
    frame = mlflow.search_logged_models(experiment_ids=[experiment.experiment_id])
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3
    page = client.search_logged_models([experiment.experiment_id], max_results=2)
    rest = client.search_logged_models([experiment.experiment_id], max_results=2, page_token=page.token)
    assert len(page) == 2 and len(rest) == 1 and rest.token is None

    mlflow.set_logged_model_tags(model_id, {"reviewed": "yes", "temporary": "x"})
    mlflow.delete_logged_model_tag(model_id, "temporary")
    mlflow.log_model_params({"solver": "lbfgs"}, model_id=model_id)
    again = mlflow.get_logged_model(model_id)
    assert again.tags["reviewed"] == "yes" and "temporary" not in again.tags
    assert again.params == {"C": "1.0", "solver": "lbfgs"}
    client.delete_logged_model(manual.model_id)
    with pytest.raises(MlflowException, match=f"Logged model with ID '{manual.model_id}' not found") as exc:
        client.get_logged_model(manual.model_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    files = {a.path for a in client.list_logged_model_artifacts(model_id)}
    assert {"MLmodel", "model.skops", "input_example.json", "requirements.txt"} <= files
    for uri in (f"runs:/{run.info.run_id}/classifier", f"models:/{model_id}"):
        assert np.array_equal(mlflow.sklearn.load_model(uri).predict(features), expected), uri
        loaded = mlflow.pyfunc.load_model(uri)
        assert np.array_equal(loaded.predict(features), expected), uri
        assert loaded.metadata.get_input_schema().input_names() == list(features.columns)
    model_info = mlflow.models.get_model_info(f"models:/{model_id}")
    assert model_info.signature is not None and model_info.model_id == model_id
    downloaded = Path(
        mlflow.artifacts.download_artifacts(f"models:/{model_id}", dst_path=str(tmp_path / "m"))
    )
    assert (downloaded / "MLmodel").is_file()
    assert LoggedModel.objects.filter(status="READY").count() == 2


@pytest.mark.django_db(transaction=True)
def test_registry_calls_of_mlflow_client(mlflow_as: Any, iris: Any, tmp_path: Path) -> None:
    client = mlflow_as("bob")
    features, model = iris
    expected = model.predict(features)
    mlflow.set_experiment("Iris")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=features.head(2), pip_requirements=REQUIREMENTS
        )
    first = mlflow.register_model(f"models:/{info.model_id}", "iris", tags={"source": "logged model"})
    second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "iris", await_registration_for=5)
    assert (first.version, second.version, second.status) == ("1", "2", "READY")
    assert ModelVersion.objects.get(version=1).logged_model_id == info.model_id  # the client drops model_id

    created = client.create_registered_model("churn", tags={"team": "risk"}, description="first draft")
    assert (created.name, created.tags, created.description) == ("churn", {"team": "risk"}, "first draft")
    assert client.update_registered_model("churn", description="v2").description == "v2"
    client.rename_registered_model("churn", "attrition")  # the client itself returns None here
    with pytest.raises(MlflowException, match="Registered Model with name=churn not found") as exc:
        client.get_registered_model("churn")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException, match=r"Registered Model \(name=attrition\) already exists") as exc:
        client.create_registered_model("attrition")
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"

    client.set_registered_model_tag("iris", "owner", "ops")
    client.set_registered_model_tag("iris", "temporary", "x")
    client.delete_registered_model_tag("iris", "temporary")
    client.set_registered_model_alias("iris", "champion", 1)
    client.set_registered_model_alias("iris", "challenger", "2")
    client.delete_registered_model_alias("iris", "challenger")
    iris_model = client.get_registered_model("iris")
    assert (iris_model.tags, iris_model.aliases) == ({"owner": "ops"}, {"champion": "1"})
    assert [v.version for v in iris_model.latest_versions] == ["2"]
    assert client.get_model_version_by_alias("iris", "champion").version == "1"
    assert client.get_model_version("iris", "1").aliases == ["champion"]
    with pytest.raises(MlflowException, match="alias challenger not found") as exc:
        client.get_model_version_by_alias("iris", "challenger")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"  # as MLflow's own stores answer

    client.set_model_version_tag("iris", "1", "validated", "true")
    client.delete_model_version_tag("iris", "1", "source")
    assert client.get_model_version("iris", "1").tags == {"validated": "true"}
    assert client.update_model_version("iris", "2", description="from the run").description == "from the run"

    def versions(filter_string: str, **kwargs: Any) -> list[tuple[str, str]]:
        return [(v.name, v.version) for v in client.search_model_versions(filter_string, **kwargs)]

    assert versions("name = 'iris' AND tags.validated = 'true'") == [("iris", "1")]
    assert sorted(versions(f"run_id = '{run.info.run_id}'")) == [("iris", "1"), ("iris", "2")]
    assert versions("name = 'iris' AND version_number > 1") == [("iris", "2")]
    assert versions("name = 'iris'", order_by=["version_number ASC"]) == [("iris", "1"), ("iris", "2")]
    assert sorted(versions(f"model_id = '{info.model_id}'")) == [("iris", "1"), ("iris", "2")]
    paged = client.search_model_versions("name = 'iris'", max_results=1)
    assert len(paged) == 1 and paged.token
    assert [m.name for m in client.search_registered_models("tags.team = 'risk'")] == ["attrition"]
    assert [m.name for m in client.search_registered_models(order_by=["name DESC"])] == ["iris", "attrition"]
    assert [m.name for m in client.search_registered_models("name ILIKE 'IR%'")] == ["iris"]
    assert [v.version for v in client.get_latest_versions("iris")] == ["2"]

    for uri in ("models:/iris/1", "models:/iris@champion", "models:/iris/latest"):
        assert np.array_equal(mlflow.pyfunc.load_model(uri).predict(features), expected), uri
    assert client.get_model_version_download_uri("iris", "1") == info.artifact_path
    for uri in ("models:/iris/2", "models:/iris@champion"):
        folder = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / uri[-1])))
        assert "MLmodel" in os.listdir(folder), uri

    copied = client.copy_model_version("models:/iris@champion", "iris-prod")
    assert (copied.name, copied.version, copied.source) == ("iris-prod", "1", "models:/iris/1")
    assert np.array_equal(mlflow.sklearn.load_model("models:/iris-prod/1").predict(features), expected)

    # Deleting is for project admins (as on the pages); alice is one.
    with pytest.raises(MlflowException, match="needs the admin role") as exc:
        client.delete_model_version("iris", "2")
    assert exc.value.error_code == "PERMISSION_DENIED"
    admin = mlflow_as("alice")
    admin.delete_model_version("iris", "2")
    assert [v.version for v in admin.get_latest_versions("iris")] == ["1"]
    admin.delete_registered_model("attrition")
    assert [m.name for m in admin.search_registered_models()] == ["iris", "iris-prod"]


# (call, error code, message pattern) of registry calls the real MLflow server refuses too.
REGISTRY_ERRORS = [
    (lambda c: c.get_registered_model("nothing"), "RESOURCE_DOES_NOT_EXIST", "name=nothing not found"),
    (
        lambda c: c.get_model_version("iris", "7"),
        "RESOURCE_DOES_NOT_EXIST",
        r"\(name=iris, version=7\) not found",
    ),
    (lambda c: c.get_model_version("iris", "abc"), "INVALID_PARAMETER_VALUE", "must be an integer"),
    (lambda c: c.create_registered_model("a/b"), "INVALID_PARAMETER_VALUE", "cannot contain '/'"),
    (
        lambda c: c.set_registered_model_alias("iris", "v1", "1"),
        "INVALID_PARAMETER_VALUE",
        "'v1' is reserved",
    ),
    (lambda c: c.set_registered_model_alias("iris", "prod", "9"), "RESOURCE_DOES_NOT_EXIST", "version=9"),
    (
        lambda c: c.create_model_version("iris", "/etc/passwd"),
        "INVALID_PARAMETER_VALUE",
        "runs:/<run_id>/<path>",
    ),
    (lambda c: c.search_model_versions("foo = 'x'"), "INVALID_PARAMETER_VALUE", "Invalid filter on 'foo'"),
    (lambda c: c.get_logged_model("m-missing"), "RESOURCE_DOES_NOT_EXIST", "'m-missing' not found"),
]


@pytest.mark.django_db(transaction=True)
def test_registry_errors_carry_mlflow_codes(mlflow_as: Any) -> None:
    client = mlflow_as("bob")
    client.create_registered_model("iris")
    for call, code, pattern in REGISTRY_ERRORS:
        with pytest.raises(MlflowException, match=pattern) as exc:
            call(client)
        assert exc.value.error_code == code, pattern
    with pytest.raises(MlflowException, match="Registered Model with name=nothing not found"):
        mlflow.pyfunc.load_model("models:/nothing/1")
