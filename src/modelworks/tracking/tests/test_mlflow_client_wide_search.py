"""``search_runs`` as scripts use it (pandas and list output, filters on params, tags, metrics,
attributes and datasets, ``order_by``, pages), and the error codes the real MLflow server answers
with for missing objects, duplicates and invalid values — table-driven, messages included."""

from __future__ import annotations

import time
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


def _sweep(client: MlflowClient) -> tuple[str, dict[str, str]]:
    """Five finished runs (and one failed) with params, metrics and tags; returns (experiment, ids)."""
    experiment_id = mlflow.set_experiment("Sweep").experiment_id
    ids = {}
    for i, (model, rmse) in enumerate((("forest", 0.3), ("linear", 0.5), ("forest", 0.2), ("boost", 0.4))):
        with mlflow.start_run(run_name=f"trial-{i}") as run:
            mlflow.log_params({"model": model, "depth": i})
            mlflow.log_metric("rmse", rmse)
            mlflow.set_tag("batch", "a" if i % 2 else "b")
        ids[f"trial-{i}"] = run.info.run_id
    with mlflow.start_run(run_name="crashed") as run:
        mlflow.set_tag("batch", "a")
    client.set_terminated(run.info.run_id, "FAILED")
    ids["crashed"] = run.info.run_id
    return experiment_id, ids


@pytest.mark.django_db(transaction=True)
def test_search_runs_filters_order_pages_and_output_formats(mlflow_as: Any) -> None:
    client = mlflow_as("bob")
    experiment_id, ids = _sweep(client)

    frame = mlflow.search_runs([experiment_id], order_by=["metrics.rmse ASC"])
    assert isinstance(frame, pd.DataFrame) and len(frame) == 5
    assert {"run_id", "status", "start_time", "metrics.rmse", "params.model", "tags.batch"} <= set(frame)
    assert list(frame["tags.mlflow.runName"]) == ["trial-2", "trial-0", "trial-3", "trial-1", "crashed"]
    assert len(mlflow.search_runs(experiment_names=["Sweep"])) == 5
    assert len(mlflow.search_runs(search_all_experiments=True)) == 5

    def names(filter_string: str, **kwargs: Any) -> list[str]:
        runs = mlflow.search_runs([experiment_id], filter_string, output_format="list", **kwargs)
        return [r.info.run_name for r in runs]

    started = client.get_run(ids["trial-0"]).info.start_time
    cases = {
        "params.model = 'forest'": ["trial-0", "trial-2"],
        "params.model != 'forest' AND metrics.rmse >= 0.4": ["trial-1", "trial-3"],
        "params.model IN ('boost', 'linear')": ["trial-1", "trial-3"],
        "params.model LIKE 'f%' AND metrics.rmse < 0.25": ["trial-2"],
        "params.model ILIKE 'BOO%'": ["trial-3"],
        "params.model IS NULL": ["crashed"],
        "tags.batch = 'a'": ["crashed", "trial-1", "trial-3"],
        "tags.`mlflow.runName` LIKE 'trial-%' AND tags.batch = 'b'": ["trial-0", "trial-2"],
        "attributes.status = 'FAILED'": ["crashed"],
        "attributes.status != 'FAILED' AND metrics.rmse <= 0.3": ["trial-0", "trial-2"],
        "run_name = 'trial-1'": ["trial-1"],
        f"attributes.run_id IN ('{ids['trial-1']}', '{ids['crashed']}')": ["crashed", "trial-1"],
        f"attributes.start_time >= {started} AND metrics.rmse > 0": [
            "trial-0",
            "trial-1",
            "trial-2",
            "trial-3",
        ],
        f"attributes.created < {started}": [],
        "metrics.rmse > 1": [],
    }
    for filter_string, expected in cases.items():
        assert sorted(names(filter_string)) == expected, filter_string

    assert names("", order_by=["params.depth DESC"])[:4] == ["trial-3", "trial-2", "trial-1", "trial-0"]
    assert names("", order_by=["tags.batch ASC", "attributes.run_name DESC"]) == [
        "trial-3",
        "trial-1",
        "crashed",
        "trial-2",
        "trial-0",
    ]
    # MLflow sorts runs without the metric last, whatever the direction.
    assert names("", order_by=["metrics.rmse DESC"])[-1] == "crashed"

    pages, token = [], None
    while True:
        page = client.search_runs(
            [experiment_id], order_by=["attributes.start_time ASC"], max_results=2, page_token=token
        )
        pages.append([r.info.run_name for r in page])
        token = page.token
        if not token:
            break
    assert pages == [["trial-0", "trial-1"], ["trial-2", "trial-3"], ["crashed"]]
    assert client.search_runs([experiment_id], max_results=5).token is None


# (call, error code, message pattern): what the real MLflow server answers, with Modelworks' words.
ERROR_CASES = [
    (lambda c, ids: c.get_run("0" * 32), "RESOURCE_DOES_NOT_EXIST", "Run with id=0{32} not found"),
    (lambda c, ids: c.get_run("not-a-run"), "RESOURCE_DOES_NOT_EXIST", "Run with id=not-a-run not found"),
    (lambda c, ids: c.get_experiment("999999"), "RESOURCE_DOES_NOT_EXIST", "No experiment with ID 999999"),
    (lambda c, ids: c.get_experiment("abc"), "INVALID_PARAMETER_VALUE", "experiment IDs are integers"),
    (lambda c, ids: c.delete_experiment("424242"), "RESOURCE_DOES_NOT_EXIST", "No experiment with ID 424242"),
    (lambda c, ids: c.restore_experiment(ids["experiment"]), "RESOURCE_DOES_NOT_EXIST", "it is active"),
    (
        lambda c, ids: c.create_experiment("Sweep"),
        "RESOURCE_ALREADY_EXISTS",
        r"Experiment\(name=Sweep\) already",
    ),
    (lambda c, ids: c.create_experiment(""), "INVALID_PARAMETER_VALUE", "required parameter 'name'"),
    (lambda c, ids: c.create_experiment("x" * 501), "INVALID_PARAMETER_VALUE", "longer than 500 characters"),
    (lambda c, ids: c.log_metric("f" * 32, "m", 1.0), "RESOURCE_DOES_NOT_EXIST", "Run with id=f{32}"),
    (
        lambda c, ids: c.log_param(ids["trial-0"], "model", "other"),
        "INVALID_PARAMETER_VALUE",
        "Changing param",
    ),
    (
        lambda c, ids: c.log_param(ids["trial-0"], "../up", "1"),
        "INVALID_PARAMETER_VALUE",
        "resolve to another name",
    ),
    (
        lambda c, ids: c.log_param(ids["deleted"], "late", "1"),
        "INVALID_PARAMETER_VALUE",
        "must be in the 'active' state",
    ),
    (
        lambda c, ids: c.search_runs([ids["experiment"]], "params.model = 'a' OR params.model = 'b'"),
        "INVALID_PARAMETER_VALUE",
        "OR is not supported",
    ),
    (
        lambda c, ids: c.search_runs([ids["experiment"]], "params.model ==== 'a'"),
        "INVALID_PARAMETER_VALUE",
        "At character 16: expected a value",
    ),
    (
        lambda c, ids: c.search_runs([ids["experiment"]], "metrics.rmse = 'low'"),
        "INVALID_PARAMETER_VALUE",
        "At character",
    ),
    (
        lambda c, ids: c.search_runs([ids["experiment"]], order_by=["metrics.rmse SIDEWAYS"]),
        "INVALID_PARAMETER_VALUE",
        "Invalid order_by clause",
    ),
    (
        lambda c, ids: c.search_runs([ids["experiment"]], max_results=50001),
        "INVALID_PARAMETER_VALUE",
        "at most 50000",
    ),
    (
        lambda c, ids: c.search_runs([ids["experiment"]], max_results=0),
        "INVALID_PARAMETER_VALUE",
        "positive integer",
    ),
    (
        lambda c, ids: c.search_runs([ids["experiment"]], page_token="garbage"),
        "INVALID_PARAMETER_VALUE",
        "Invalid page token",
    ),
    (
        lambda c, ids: c.search_experiments(filter_string="name ~ 'x'"),
        "INVALID_PARAMETER_VALUE",
        "Invalid experiment search",
    ),
    (lambda c, ids: c.get_metric_history("0" * 32, "rmse"), "RESOURCE_DOES_NOT_EXIST", "not found"),
]


@pytest.mark.django_db(transaction=True)
def test_errors_carry_mlflow_codes_and_actionable_messages(mlflow_as: Any) -> None:
    client = mlflow_as("bob")
    experiment_id, ids = _sweep(client)
    with mlflow.start_run() as doomed:
        pass
    client.delete_run(doomed.info.run_id)
    known = {**ids, "experiment": experiment_id, "deleted": doomed.info.run_id}
    for call, code, pattern in ERROR_CASES:
        with pytest.raises(MlflowException, match=pattern) as exc:
            call(client, known)
        assert exc.value.error_code == code, (pattern, exc.value.message)
    # Reading a missing experiment by name is not an error for the client: it answers None.
    assert client.get_experiment_by_name("Nope") is None and mlflow.get_experiment_by_name("Nope") is None


@pytest.mark.django_db(transaction=True)
def test_default_experiment_is_used_without_set_experiment(mlflow_as: Any) -> None:
    client = mlflow_as("bob")
    assert mlflow.search_runs().empty  # "0" before anything was logged: an empty answer, not an error
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0, timestamp=int(time.time() * 1000))
    default = client.get_experiment("0")
    assert default.name == "Default" and run.info.experiment_id == default.experiment_id
    assert [r.info.run_id for r in client.search_runs(["0"])] == [run.info.run_id]
