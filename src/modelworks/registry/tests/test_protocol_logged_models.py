"""MLflow 3 logged models over the protocol: create, finalize, tags, params, search, delete."""

from __future__ import annotations

import time
from typing import Any

import pytest

from modelworks.registry import services
from modelworks.registry.models import LoggedModel
from modelworks.tracking.models import Experiment, Metric, Run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


def _create(api: Any, experiment: Experiment, **extra: Any) -> dict[str, Any]:
    status, body = api.post("logged-models", experiment_id=str(experiment.pk), **extra)
    assert status == 200, body
    return body["model"]


def test_the_life_of_a_logged_model(mlflow_api: Any, experiment: Experiment, trained_run: Run) -> None:
    api = mlflow_api("bob")
    model = _create(
        api,
        experiment,
        name="model",
        model_type="sklearn",
        source_run_id=trained_run.run_uuid,
        params=[{"key": "C", "value": "1.0"}],
        tags=[{"key": "mlflow.user", "value": "bob"}],
    )
    info = model["info"]
    model_id = info["model_id"]
    assert model_id.startswith("m-") and len(model_id) == 34
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment.pk}/models/{model_id}/artifacts"
    assert (info["status"], info["experiment_id"], info["source_run_id"]) == (
        "LOGGED_MODEL_PENDING",
        str(experiment.pk),
        trained_run.run_uuid,
    )
    assert model["data"]["params"] == [{"key": "C", "value": "1.0"}]
    assert services.logged_model_exists(experiment.pk, model_id)
    assert not services.logged_model_exists(experiment.pk + 1, model_id)

    status, body = api.patch(f"logged-models/{model_id}", model_id=model_id, status="LOGGED_MODEL_READY")
    assert status == 200 and body["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    assert (
        api.patch(f"logged-models/{model_id}/tags", tags=[{"key": "stage", "value": "candidate"}])[0] == 200
    )
    assert (
        api.post(
            f"logged-models/{model_id}/params", model_id=model_id, params=[{"key": "penalty", "value": "l2"}]
        )[0]
        == 200
    )
    status, body = api.post(
        f"logged-models/{model_id}/params", model_id=model_id, params=[{"key": "C", "value": "2"}]
    )
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE") and "cannot change" in body[
        "message"
    ]

    Metric.objects.create(
        run=trained_run,
        key="accuracy",
        value=0.91,
        timestamp=int(time.time() * 1000),
        model_id=model_id,
        dataset_name="valid",
        dataset_digest="abc",
    )
    status, body = api.get(f"logged-models/{model_id}")
    data = body["model"]
    assert {t["key"]: t["value"] for t in data["info"]["tags"]} == {
        "mlflow.user": "bob",
        "stage": "candidate",
    }
    assert {p["key"] for p in data["data"]["params"]} == {"C", "penalty"}
    assert [(m["key"], m["value"], m["dataset_name"]) for m in data["data"]["metrics"]] == [
        ("accuracy", 0.91, "valid")
    ]

    assert api.delete(f"logged-models/{model_id}/tags/stage")[0] == 200
    status, body = api.delete(f"logged-models/{model_id}/tags/stage")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert api.delete(f"logged-models/{model_id}")[0] == 200
    status, body = api.get(f"logged-models/{model_id}")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, body = api.get(f"logged-models/{model_id}", allow_deleted="true")
    assert status == 200
    assert not services.logged_model_exists(experiment.pk, model_id)


def test_search_by_name_metrics_params_and_datasets(
    mlflow_api: Any, experiment: Experiment, trained_run: Run
) -> None:
    api = mlflow_api("bob")
    ids = {}
    for name, accuracy, depth in (("a", 0.7, "3"), ("b", 0.9, "5"), ("c", 0.8, "5")):
        ids[name] = _create(api, experiment, name=name, params=[{"key": "depth", "value": depth}])["info"][
            "model_id"
        ]
        Metric.objects.create(
            run=trained_run,
            key="accuracy",
            value=accuracy,
            timestamp=1,
            model_id=ids[name],
            dataset_name="test" if name != "c" else "train",
        )

    def names(body: dict[str, Any]) -> list[str]:
        return [m["info"]["name"] for m in body["models"]]

    exp = [str(experiment.pk)]
    _, body = api.post("logged-models/search", experiment_ids=exp, filter="name = 'b'")
    assert names(body) == ["b"]
    _, body = api.post(
        "logged-models/search",
        experiment_ids=exp,
        filter="metrics.accuracy > 0.75",
        order_by=[{"field_name": "metrics.accuracy", "ascending": False}],
    )
    assert names(body) == ["b", "c"]
    _, body = api.post(
        "logged-models/search",
        experiment_ids=exp,
        filter="metrics.accuracy > 0.75",
        datasets=[{"dataset_name": "test"}],
    )
    assert names(body) == ["b"]
    _, body = api.post(
        "logged-models/search",
        experiment_ids=exp,
        filter="params.depth = '5'",
        order_by=[{"field_name": "name", "ascending": True}],
        max_results=1,
    )
    assert names(body) == ["b"]
    _status, body = api.post(
        "logged-models/search",
        experiment_ids=exp,
        filter="params.depth = '5'",
        order_by=[{"field_name": "name", "ascending": True}],
        max_results=1,
        page_token=body["next_page_token"],
    )
    assert names(body) == ["c"] and "next_page_token" not in body
    assert LoggedModel.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, "INVALID_PARAMETER_VALUE", "experiment_ids"),
        ({"experiment_ids": ["999999"]}, "RESOURCE_DOES_NOT_EXIST", "No experiment with ID 999999"),
        (
            {"experiment_ids": ["{exp}"], "filter": "size > 3"},
            "INVALID_PARAMETER_VALUE",
            "Invalid attribute 'size'",
        ),
        (
            {"experiment_ids": ["{exp}"], "filter": "metrics.acc LIKE 'x'"},
            "INVALID_PARAMETER_VALUE",
            "does not apply",
        ),
        (
            {"experiment_ids": ["{exp}"], "datasets": [{"dataset_digest": "x"}]},
            "INVALID_PARAMETER_VALUE",
            "dataset_name",
        ),
        (
            {"experiment_ids": ["{exp}"], "order_by": [{"field_name": "params.x"}]},
            "INVALID_PARAMETER_VALUE",
            "Only metrics",
        ),
    ],
)
def test_bad_logged_model_searches(
    mlflow_api: Any, experiment: Experiment, body: dict[str, Any], code: str, message: str
) -> None:
    if "experiment_ids" in body:
        body = {
            **body,
            "experiment_ids": [e.replace("{exp}", str(experiment.pk)) for e in body["experiment_ids"]],
        }
    _status, answer = mlflow_api("bob").post("logged-models/search", **body)
    assert answer["error_code"] == code and message in answer["message"]


def test_logged_models_are_per_project_and_readers_cannot_write(
    mlflow_api: Any, experiment: Experiment
) -> None:
    model_id = _create(mlflow_api("bob"), experiment)["info"]["model_id"]
    status, body = mlflow_api("carol").patch(f"logged-models/{model_id}", status="LOGGED_MODEL_READY")
    assert (status, body["error_code"]) == (403, "PERMISSION_DENIED")
    status, body = mlflow_api("dave").get(f"logged-models/{model_id}")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, body = mlflow_api("bob").post("logged-models", experiment_id="123456")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
