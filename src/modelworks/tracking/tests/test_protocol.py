"""The MLflow protocol at the HTTP level (Django's test client): error codes, limits, semantics.

The real ``mlflow`` client is exercised in ``test_mlflow_client.py``; here each rule is one row.
"""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

import pytest
from django.test import Client

from modelworks.core.models import AuditEvent, Project, User
from modelworks.tracking.models import LatestMetric, Metric, Param, Run, RunTag
from modelworks.tracking.services.experiments import create_experiment
from modelworks.tracking.testing import make_run

pytest_plugins = ["modelworks.core.testing.fixtures"]

API = "/mlflow/flight-delays/api/2.0/mlflow/"


class Caller:
    def __init__(self, token: str) -> None:
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def post(self, op: str, body: dict[str, Any] | str) -> tuple[int, dict[str, Any]]:
        data = body if isinstance(body, str) else json.dumps(body)
        r = self.client.post(API + op, data=data, content_type="application/json", **self.auth)
        return r.status_code, json.loads(r.content)

    def get(self, op: str, query: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = self.client.get(API + op, data=query, **self.auth)
        return r.status_code, json.loads(r.content)


@pytest.fixture
def bob_api(project: Project, tokens: dict[str, str]) -> Caller:
    return Caller(tokens["bob"])


@pytest.fixture
def run(project: Project, bob: User) -> Run:
    experiment = create_experiment(project, actor=bob, name="Delays")
    return make_run(experiment, bob, name="base", metrics={"rmse": 0.5}, params={"depth": "3"})


def now() -> int:
    return int(time.time() * 1000)


def metric(key: str = "m", value: Any = 1.0, **extra: Any) -> dict[str, Any]:
    return {"key": key, "value": value, "timestamp": now(), "step": 0, **extra}


BAD_BATCHES = [
    ({"metrics": [metric() for _ in range(1001)]}, "at most 1000 metrics. Got 1001 metrics"),
    ({"params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}, "at most 100 params. Got 101"),
    ({"tags": [{"key": f"t{i}", "value": "1"} for i in range(101)]}, "at most 100 tags"),
    (
        {
            "metrics": [metric() for _ in range(950)],
            "params": [{"key": f"p{i}", "value": "1"} for i in range(51)],
        },
        "at most 1000 metrics, params, and tags. Got 1001",
    ),
    (
        {"params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]},
        r"Duplicate parameter keys .*\['a'\]",
    ),
    ({"params": [{"key": "depth", "value": "4"}]}, r"Changing param values is not allowed.*'old_value': '3'"),
    (
        {"metrics": [{"key": "m", "value": "high", "timestamp": 1}]},
        r"'metrics\[0\]\.value': expected a number",
    ),
    ({"metrics": [{"key": "m", "value": 1}]}, r"required parameter 'metrics\[0\]\.timestamp'"),
    ({"metrics": [metric(timestamp=-5)]}, r"'metrics\[0\]\.timestamp': must be nonnegative"),
    ({"metrics": [metric(key="../etc")]}, r"must not resolve to another name"),
    ({"metrics": [metric(key="a*b")]}, r"names may only contain alphanumerics"),
    ({"params": [{"key": "x" * 251, "value": "1"}]}, r"longer than 250 characters"),
    ({"tags": [{"value": "1"}]}, r"'tags\[0\]\.key': a name is required"),
    ({"metrics": [metric(step="two")]}, r"'metrics\[0\]\.step': expected an integer"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "message"), BAD_BATCHES)
def test_log_batch_refuses_bad_batches_whole(
    bob_api: Caller, run: Run, body: dict[str, Any], message: str
) -> None:
    before = (Metric.objects.count(), Param.objects.count(), RunTag.objects.count())
    status, answer = bob_api.post("runs/log-batch", {"run_id": run.run_uuid, **body})
    assert status == 400
    assert answer["error_code"] == "INVALID_PARAMETER_VALUE"
    assert re.search(message, answer["message"]), answer["message"]
    assert (Metric.objects.count(), Param.objects.count(), RunTag.objects.count()) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("op", "body", "status", "code", "message"),
    [
        ("experiments/create", {}, 400, "INVALID_PARAMETER_VALUE", "required parameter 'name'"),
        (
            "experiments/create",
            {"name": "Delays"},
            400,
            "RESOURCE_ALREADY_EXISTS",
            r"Experiment\(name=Delays\) already exists",
        ),
        ("experiments/create", {"name": "x" * 501}, 400, "INVALID_PARAMETER_VALUE", "longer than 500"),
        (
            "experiments/update",
            {"experiment_id": "abc", "new_name": "n"},
            400,
            "INVALID_PARAMETER_VALUE",
            "experiment IDs are integers",
        ),
        (
            "experiments/delete",
            {"experiment_id": "99999"},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "No experiment with ID 99999",
        ),
        (
            "runs/log-metric",
            {"run_id": "0" * 32, "key": "m", "value": 1, "timestamp": 1},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "not found",
        ),
        (
            "runs/update",
            {"run_id": "RUN", "status": "DONE"},
            400,
            "INVALID_PARAMETER_VALUE",
            "Invalid run status 'DONE'",
        ),
        (
            "runs/delete-tag",
            {"run_id": "RUN", "key": "nope"},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "No tag with name: nope",
        ),
        (
            "runs/create",
            {"experiment_id": "EXP", "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]},
            400,
            "INVALID_PARAMETER_VALUE",
            "different values",
        ),
        (
            "runs/search",
            {"experiment_ids": ["EXP"], "filter": "metrics.rmse < 'x'"},
            400,
            "INVALID_PARAMETER_VALUE",
            "Invalid run search: At character 1",
        ),
        (
            "runs/search",
            {"experiment_ids": ["EXP"], "max_results": 50001},
            400,
            "INVALID_PARAMETER_VALUE",
            "at most 50000",
        ),
        (
            "runs/search",
            {"experiment_ids": ["EXP"], "page_token": "garbage"},
            400,
            "INVALID_PARAMETER_VALUE",
            "Invalid page token",
        ),
        (
            "runs/search",
            {"experiment_ids": ["EXP"], "run_view_type": "SOME"},
            400,
            "INVALID_PARAMETER_VALUE",
            "ACTIVE_ONLY, DELETED_ONLY or ALL",
        ),
        ("runs/log-batch", "{not json", 400, "MALFORMED_REQUEST", "not valid JSON"),
        (
            "runs/log-inputs",
            {"run_id": "RUN", "datasets": [{"dataset": {"name": "d"}}]},
            400,
            "INVALID_PARAMETER_VALUE",
            r"datasets\[0\]\.dataset\.digest",
        ),
    ],
)
def test_errors_have_mlflow_codes(
    bob_api: Caller, run: Run, op: str, body: Any, status: int, code: str, message: str
) -> None:
    if isinstance(body, dict):
        body = json.loads(
            json.dumps(body)
            .replace('"RUN"', json.dumps(run.run_uuid))
            .replace('"EXP"', json.dumps(str(run.experiment_id)))
        )
    got_status, answer = bob_api.post(op, body)
    assert got_status == status
    assert answer["error_code"] == code
    assert re.search(message, answer["message"]), answer["message"]


@pytest.mark.django_db
def test_wrong_method_and_logging_to_deleted_run(bob_api: Caller, run: Run) -> None:
    r = bob_api.client.get(API + "runs/create", **bob_api.auth)
    assert r.status_code == 405 and json.loads(r.content)["error_code"] == "ENDPOINT_NOT_FOUND"
    assert bob_api.post("runs/delete", {"run_id": run.run_uuid})[0] == 200
    status, answer = bob_api.post("runs/log-metric", {"run_id": run.run_uuid, **metric()})
    assert status == 400 and "must be in the 'active' state" in answer["message"]
    assert AuditEvent.objects.filter(action="run.deleted", target_id=run.run_uuid).exists()


@pytest.mark.django_db
def test_latest_metric_follows_step_then_timestamp_and_keeps_nan(bob_api: Caller, run: Run) -> None:
    points = [
        {"key": "loss", "value": 3.0, "timestamp": 10, "step": 2},
        {"key": "loss", "value": 9.0, "timestamp": 99, "step": 1},  # newer time, older step: not latest
        {"key": "loss", "value": 2.0, "timestamp": 11, "step": 2},  # same step, newer time: latest
        {"key": "odd", "value": "NaN", "timestamp": 5, "step": 0},
        {"key": "big", "value": "Infinity", "timestamp": 5, "step": 0},
    ]
    assert bob_api.post("runs/log-batch", {"run_id": run.run_uuid, "metrics": points})[0] == 200
    assert (
        bob_api.post(
            "runs/log-metric", {"run_id": run.run_uuid, "key": "loss", "value": 7, "timestamp": 1, "step": 0}
        )[0]
        == 200
    )
    latest = {m.key: m for m in LatestMetric.objects.filter(run=run)}
    assert (latest["loss"].value, latest["loss"].step, latest["loss"].timestamp) == (2.0, 2, 11)
    assert latest["odd"].is_nan and latest["odd"].value is None
    _, answer = bob_api.get("runs/get", {"run_id": run.run_uuid})
    metrics = {m["key"]: m["value"] for m in answer["run"]["data"]["metrics"]}
    assert metrics["odd"] == "NaN" and metrics["big"] == "Infinity" and metrics["loss"] == 2.0
    _, history = bob_api.get("metrics/get-history", {"run_id": run.run_uuid, "metric_key": "loss"})
    assert [(m["step"], m["value"]) for m in history["metrics"]] == [(0, 7.0), (2, 3.0), (2, 2.0), (1, 9.0)]
    _, page = bob_api.get(
        "metrics/get-history", {"run_id": run.run_uuid, "metric_key": "loss", "max_results": 3}
    )
    assert len(page["metrics"]) == 3
    _status, rest = bob_api.get(
        "metrics/get-history",
        {
            "run_id": run.run_uuid,
            "metric_key": "loss",
            "max_results": 3,
            "page_token": page["next_page_token"],
        },
    )
    assert [m["value"] for m in rest["metrics"]] == [9.0] and "next_page_token" not in rest
    assert math.isinf(float(metrics["big"]))


@pytest.mark.django_db
def test_run_name_tag_and_user_follow_the_run(bob_api: Caller, run: Run) -> None:
    _status, created = bob_api.post(
        "runs/create",
        {"experiment_id": str(run.experiment_id), "tags": [{"key": "mlflow.user", "value": "root"}]},
    )
    info, tags = created["run"]["info"], {t["key"]: t["value"] for t in created["run"]["data"]["tags"]}
    assert info["user_id"] == "bob" and tags["mlflow.user"] == "bob"  # the caller, not what the client claims
    assert tags["mlflow.runName"] == info["run_name"] and info["run_name"].count("-") == 2
    bob_api.post("runs/set-tag", {"run_id": info["run_id"], "key": "mlflow.runName", "value": "renamed"})
    assert Run.objects.get(pk=info["run_id"]).name == "renamed"
    bob_api.post(
        "runs/update", {"run_id": info["run_id"], "run_name": "again", "status": "FINISHED", "end_time": 5}
    )
    assert RunTag.objects.get(run_id=info["run_id"], key="mlflow.runName").value == "again"
    assert Run.objects.get(pk=info["run_id"]).status == "FINISHED"


@pytest.mark.django_db
def test_default_experiment_zero_is_per_project_and_made_on_first_write(
    bob_api: Caller, project: Project
) -> None:
    assert bob_api.get("experiments/get", {"experiment_id": "0"})[0] == 404
    status, created = bob_api.post("runs/create", {"experiment_id": "0"})
    assert status == 200
    status, answer = bob_api.get("experiments/get", {"experiment_id": "0"})
    assert answer["experiment"]["name"] == "Default"
    assert answer["experiment"]["experiment_id"] == created["run"]["info"]["experiment_id"]
    status, found = bob_api.post("runs/search", {"experiment_ids": ["0"]})
    assert [r["info"]["run_id"] for r in found["runs"]] == [created["run"]["info"]["run_id"]]
