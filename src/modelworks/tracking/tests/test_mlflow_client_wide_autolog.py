"""Higher-level mlflow features in the user's own process: scikit-learn autolog (a grid search with
its child runs, and a run started by autolog itself), a custom ``pyfunc`` model, ``mlflow.models.evaluate``,
and how the client sees the MLflow features Modelworks does not serve (tracing, webhooks, prompts)."""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
import sklearn
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV

from modelworks.core.models import Project

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

REQUIREMENTS = [f"scikit-learn=={sklearn.__version__}"]


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    frame = load_iris(as_frame=True)
    return frame.data.astype("float64"), frame.target


@pytest.fixture
def autolog() -> Any:
    yield mlflow.sklearn.autolog
    mlflow.sklearn.autolog(disable=True)


@pytest.mark.django_db(transaction=True)
def test_sklearn_autolog_grid_search_and_implicit_runs(mlflow_as: Any, iris: Any, autolog: Any) -> None:
    client = mlflow_as("bob")
    features, target = iris
    experiment_id = mlflow.set_experiment("Autolog").experiment_id
    # Models are not logged here: autolog infers their requirements in a subprocess (many seconds);
    # test_mlflow_client.py runs a whole autolog script with models in its own process.
    autolog(silent=True, log_models=False, extra_tags={"pipeline": "nightly"})
    with mlflow.start_run(run_name="grid") as run:
        GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=2).fit(features, target)
    parent = client.get_run(run.info.run_id)
    assert parent.data.params["best_C"] in ("0.1", "1.0") and parent.data.params["cv"] == "2"
    assert (
        0.8 < parent.data.metrics["training_accuracy_score"] <= 1.0 and "best_cv_score" in parent.data.metrics
    )
    assert [i.dataset.name for i in parent.inputs.dataset_inputs] == ["dataset"]
    assert {"cv_results.csv", "estimator.html", "training_confusion_matrix.png"} <= {
        a.path for a in client.list_artifacts(run.info.run_id)
    }
    children = client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    assert sorted(c.data.params["C"] for c in children) == ["0.1", "1.0"]

    Ridge().fit(features, target)  # no active run: autolog starts and ends one, with extra_tags
    implicit = mlflow.last_active_run()
    assert implicit.info.status == "FINISHED" and implicit.data.tags["pipeline"] == "nightly"
    assert client.get_run(implicit.info.run_id).data.params["alpha"] == "1.0"


class Scaler(mlflow.pyfunc.PythonModel):
    """A custom model: multiplies the input by a factor given at predict time."""

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        return model_input * (params or {}).get("factor", 2)


@pytest.mark.django_db(transaction=True)
def test_custom_pyfunc_model_and_evaluate(mlflow_as: Any, iris: Any) -> None:
    client = mlflow_as("bob")
    features, target = iris
    mlflow.set_experiment("Evaluate")
    example = pd.DataFrame({"amount": [1.5]})
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="scaler",
            python_model=Scaler(),
            input_example=(example, {"factor": 2}),
            pip_requirements=["pandas"],
        )
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert loaded.predict(pd.DataFrame({"amount": [2.0]}), params={"factor": 3})["amount"].tolist() == [6.0]

    with mlflow.start_run() as run:
        classifier = LogisticRegression(max_iter=300).fit(features, target)
        logged = mlflow.sklearn.log_model(classifier, name="model", pip_requirements=REQUIREMENTS)
        data = features.assign(label=target)
        result = mlflow.models.evaluate(
            logged.model_uri,
            data,
            targets="label",
            model_type="classifier",
            evaluator_config={"log_model_explainability": False},
        )
    assert 0.9 < result.metrics["accuracy_score"] <= 1.0
    stored = client.get_run(run.info.run_id)
    assert stored.data.metrics["accuracy_score"] == pytest.approx(result.metrics["accuracy_score"])
    assert {"confusion_matrix.png", "per_class_metrics.csv"} <= {
        a.path for a in client.list_artifacts(run.info.run_id)
    }
    assert np.isclose(
        mlflow.get_logged_model(logged.model_id).metrics[0].value,
        result.metrics[mlflow.get_logged_model(logged.model_id).metrics[0].key],
    )


@pytest.mark.django_db(transaction=True)
def test_unsupported_features_answer_endpoint_not_found_in_mlflow_shape(
    mlflow_as: Any, live_server: Any, project: Project, tokens: dict[str, str]
) -> None:
    client = mlflow_as("bob")
    experiment_id = mlflow.set_experiment("Tracing").experiment_id

    @mlflow.trace
    def add_one(x: int) -> int:
        return x + 1

    assert add_one(1) == 2  # the user's code runs; exporting the trace fails with a warning only
    with pytest.raises(MlflowException, match=r"MLflow tracing .* is not supported by Modelworks") as exc:
        mlflow.search_traces(locations=[experiment_id])
    assert exc.value.error_code == "ENDPOINT_NOT_FOUND"
    with pytest.raises(MlflowException, match="Model registry webhooks is not supported") as exc:
        client.list_webhooks()
    assert exc.value.error_code == "ENDPOINT_NOT_FOUND"

    with pytest.raises(MlflowException, match=r"prompt registry .* is not supported by Modelworks") as exc:
        mlflow.genai.register_prompt(name="greeting", template="Hello {{name}}")
    assert exc.value.error_code == "NOT_IMPLEMENTED"
    assert client.search_registered_models() == []  # nothing half-made

    base = f"{live_server.url}/mlflow/{project.slug}"

    def call(method: str, path: str, username: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {tokens[username]}"} if username else {}
        answer = requests.request(method, base + path, headers=headers, timeout=30)
        return answer.status_code, answer.json()

    status, body = call("GET", "/api/2.0/mlflow/no-such-operation", "carol")
    assert (status, body["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    assert "'GET api/2.0/mlflow/no-such-operation'" in body["message"] and "docs/api.md" in body["message"]
    status, body = call("POST", "/ajax-api/2.0/mlflow/traces/search", "carol")
    assert (status, body["error_code"]) == (404, "ENDPOINT_NOT_FOUND") and "tracing" in body["message"]
    # Authenticated first, like every operation: anonymous 401, outsiders learn nothing.
    assert call("GET", "/api/2.0/mlflow/no-such-operation", None)[1]["error_code"] == "UNAUTHENTICATED"
    assert call("GET", "/api/2.0/mlflow/no-such-operation", "dave") == (
        404,
        {
            "error_code": "RESOURCE_DOES_NOT_EXIST",
            "message": call("GET", "/api/2.0/mlflow/x", "dave")[1]["message"],
        },
    )
