"""The unmodified ``mlflow`` client against a live Modelworks server, configured as users do:
``MLFLOW_TRACKING_URI=<server>/mlflow/<project>`` and ``MLFLOW_TRACKING_TOKEN`` (or username and
password/token for Basic auth)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException, RestException

from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.fixtures import PASSWORD
from modelworks.tracking.models import Experiment, Run, TrackedDataset
from modelworks.tracking.services import logging as log_service
from modelworks.tracking.services import runs as run_service
from modelworks.tracking.validation import MetricPoint

pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture
def connect(
    live_server: Any, project: Project, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """``connect(user)`` points the mlflow client at the live server as ``user`` (a token)."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    uri = f"{live_server.url}/mlflow/{project.slug}"

    def as_user(
        username: str | None = None, *, basic_secret: str | None = None, token: str | None = None
    ) -> MlflowClient:
        for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            monkeypatch.delenv(name, raising=False)
        if basic_secret is not None:
            monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username or "")
            monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", basic_secret)
        elif token is not None or username is not None:  # a token of its own, or the user's
            monkeypatch.setenv(
                "MLFLOW_TRACKING_TOKEN", token if token is not None else tokens[username or ""]
            )
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        return MlflowClient(tracking_uri=uri)

    yield as_user
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri("")


def error_code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return exc.value.error_code


@pytest.mark.django_db(transaction=True)
def test_experiments_lifecycle(connect: Any, project: Project) -> None:
    client = connect("bob")
    first = client.create_experiment("Delays", tags={"team": "ops"})
    client.create_experiment("Cancellations")
    with pytest.raises(MlflowException) as exc:
        client.create_experiment("Delays")
    assert error_code(exc) == "RESOURCE_ALREADY_EXISTS"
    got = client.get_experiment(first)
    assert (got.name, got.tags, got.artifact_location) == (
        "Delays",
        {"team": "ops"},
        f"mlflow-artifacts:/{first}",
    )
    assert client.get_experiment_by_name("Delays").experiment_id == first
    assert client.get_experiment_by_name("Nope") is None
    assert [e.name for e in client.search_experiments(filter_string="name LIKE 'D%'")] == ["Delays"]
    assert [e.name for e in client.search_experiments(order_by=["name"])] == ["Cancellations", "Delays"]
    client.set_experiment_tag(first, "stage", "dev")
    client.delete_experiment_tag(first, "team")
    assert client.get_experiment(first).tags == {"stage": "dev"}
    client.rename_experiment(first, "Departure delays")
    client.delete_experiment(first)
    assert [e.name for e in client.search_experiments()] == ["Cancellations"]
    assert [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)] == [
        "Departure delays"
    ]
    client.restore_experiment(first)
    assert client.get_experiment(first).lifecycle_stage == "active"
    actions = set(
        AuditEvent.objects.filter(project=project, action__startswith="experiment.").values_list(
            "action", flat=True
        )
    )
    assert actions == {
        "experiment.created",
        "experiment.renamed",
        "experiment.deleted",
        "experiment.restored",
    }


@pytest.mark.django_db(transaction=True)
def test_fluent_runs_params_metrics_tags_inputs(connect: Any) -> None:
    client = connect("bob")
    experiment = mlflow.set_experiment("Delays")
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_param("depth", 3)
        mlflow.log_params({"lr": 0.1, "model": "forest"})
        for step in range(5):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_metrics({"rmse": 0.42, "mae": 0.3})
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"gone": "soon", "team": "ops"})
        mlflow.delete_tag("gone")
        frame = pd.DataFrame({"distance": [100, 200, 300], "delay": [1, 0, 1]})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="flights", targets="delay"), context="training")
        with pytest.raises(MlflowException) as exc:
            mlflow.log_param("depth", 4)
        assert error_code(exc) == "INVALID_PARAMETER_VALUE"
        mlflow.log_param("depth", 3)  # the same value again is fine
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.info.end_time and got.info.run_name == "baseline"
    assert got.info.user_id == "bob" and got.data.tags["mlflow.user"] == "bob"
    assert got.data.params == {"depth": "3", "lr": "0.1", "model": "forest"}
    assert got.data.metrics == {"loss": 0.2, "rmse": 0.42, "mae": 0.3}
    assert {k: v for k, v in got.data.tags.items() if not k.startswith("mlflow.")} == {
        "stage": "dev",
        "team": "ops",
    }
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")] == [
        (s, 1 / (s + 1)) for s in range(5)
    ]
    (dataset_input,) = got.inputs.dataset_inputs
    assert dataset_input.dataset.name == "flights" and dataset_input.tags[0].value == "training"
    assert TrackedDataset.objects.get().experiment_id == int(experiment.experiment_id)
    found = client.search_runs(
        [experiment.experiment_id], "dataset.context = 'training' AND params.model = 'forest'"
    )
    assert [r.info.run_id for r in found] == [run.info.run_id]

    client.log_batch(
        run.info.run_id,
        metrics=[Metric("auc", 0.8 + i / 100, int(time.time() * 1000), i) for i in range(3)],
        params=[Param("seed", "7")],
        tags=[RunTag("mlflow.runName", "renamed")],
    )
    assert client.get_run(run.info.run_id).info.run_name == "renamed"
    client.set_terminated(run.info.run_id, "KILLED")
    client.delete_run(run.info.run_id)
    assert client.search_runs([experiment.experiment_id]) == []
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.status == "KILLED"
    assert AuditEvent.objects.filter(action__in=["run.deleted", "run.restored"]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_search_over_hundreds_of_runs_with_filters_order_and_pages(connect: Any, bob: User) -> None:
    client = connect("bob")
    experiment_id = client.create_experiment("Sweep")
    experiment = Experiment.objects.get(pk=experiment_id)
    rng = random.Random(3)  # noqa: S311 (test data)
    facts = {}
    stamp = int(time.time() * 1000)
    # 300 runs: the first 20 through the client, the others through the same services in process
    # (the test server answers one request at a time; this keeps the test to seconds).
    for i in range(300):
        rmse = round(rng.uniform(0, 1), 4)
        model = rng.choice(["forest", "linear"])
        if i < 20:
            run_id = client.create_run(
                experiment_id, run_name=f"trial-{i:03d}", start_time=stamp + i
            ).info.run_id
            client.log_batch(
                run_id,
                metrics=[Metric("rmse", rmse, stamp, 0)],
                params=[Param("model", model)],
                tags=[RunTag("batch", str(i % 3))],
            )
        else:
            run, _ = run_service.create_run(
                experiment, actor=bob, run_name=f"trial-{i:03d}", start_time=stamp + i
            )
            log_service.log_batch(
                run,
                metrics=[MetricPoint("rmse", rmse, stamp, 0)],
                params=[("model", model)],
                tags=[("batch", str(i % 3))],
            )
            run_id = run.run_uuid
        facts[run_id] = (rmse, model, i % 3, stamp + i)
    runs = client.search_runs(
        [experiment_id],
        "metrics.rmse < 0.5 AND params.model = 'forest'",
        order_by=["metrics.rmse DESC"],
        max_results=1000,
    )
    expected = sorted(
        (rid for rid, (rmse, model, _, _) in facts.items() if rmse < 0.5 and model == "forest"),
        key=lambda rid: (-facts[rid][0], -facts[rid][3]),
    )
    assert [r.info.run_id for r in runs] == expected
    # Pages of 40 with tags and backticked names; the pages together are the whole answer, in order.
    collected, token = [], None
    while True:
        page = client.search_runs(
            [experiment_id],
            "tags.`batch` = '1'",
            order_by=["attributes.start_time ASC"],
            max_results=40,
            page_token=token,
        )
        collected += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert collected == sorted((rid for rid, f in facts.items() if f[2] == 1), key=lambda rid: facts[rid][3])
    frame = mlflow.search_runs([experiment_id], filter_string="attributes.run_name LIKE 'trial-00%'")
    assert sorted(frame["tags.mlflow.runName"]) == [f"trial-00{i}" for i in range(10)]
    with pytest.raises(MlflowException, match="At character 16") as exc:
        client.search_runs([experiment_id], "metrics.rmse = 'low'")
    assert error_code(exc) == "INVALID_PARAMETER_VALUE"


@pytest.mark.django_db(transaction=True)
def test_authentication_and_roles(connect: Any, project: Project, tokens: dict[str, str]) -> None:
    experiment_id = connect("bob").create_experiment("Delays")
    # Basic auth with a token as the password, then with the account password.
    assert connect("bob", basic_secret=tokens["bob"]).get_experiment(experiment_id).name == "Delays"
    assert connect("carol", basic_secret=PASSWORD).get_experiment(experiment_id).name == "Delays"
    for who, code in (
        ({"token": "mwt_" + "x" * 40}, "UNAUTHENTICATED"),
        ({}, "UNAUTHENTICATED"),
        ({"username": "bob", "basic_secret": "wrong password"}, "UNAUTHENTICATED"),
        ({"username": "dave"}, "RESOURCE_DOES_NOT_EXIST"),
    ):
        client = connect(**who)
        with pytest.raises(MlflowException) as exc:
            client.get_experiment(experiment_id)
        assert error_code(exc) == code, who
    reader = connect("carol")
    assert reader.search_runs([experiment_id]) == []
    with pytest.raises(RestException) as exc:
        reader.create_run(experiment_id)
    assert error_code(exc) == "PERMISSION_DENIED" and "contributor role" in str(exc.value)
    assert Run.objects.count() == 0


TRAINING_SCRIPT = """
import mlflow
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

mlflow.set_experiment("Autolog")
mlflow.sklearn.autolog(log_input_examples=True, silent=True)
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
with mlflow.start_run(run_name="forest") as run:
    model = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X_train, y_train)
    model.score(X_test, y_test)
print(run.info.run_id)
"""


@pytest.mark.django_db(transaction=True)
def test_sklearn_autolog_on_a_real_training_script(
    live_server: Any, project: Project, tokens: dict[str, str], tmp_path: Any
) -> None:
    """A user's script, unmodified, in its own process: only the two environment variables point it here.

    Autolog logs params, metrics, the training dataset, and the model (a logged model and its
    artifacts): this test needs the artifact store and the registry's logged models too.
    """
    import os
    import subprocess
    import sys

    script = tmp_path / "train.py"
    script.write_text(TRAINING_SCRIPT)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"{live_server.url}/mlflow/{project.slug}",
        "MLFLOW_TRACKING_TOKEN": tokens["bob"],
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = done.stdout.strip().splitlines()[-1]
    run = Run.objects.get(pk=run_id)
    assert run.status == "FINISHED" and run.experiment.name == "Autolog"
    params = dict(run.params.values_list("key", "value"))
    assert params["n_estimators"] == "20" and params["max_depth"] == "4"
    metrics = dict(run.latest_metrics.values_list("key", "value"))
    assert 0.9 < metrics["training_accuracy_score"] <= 1.0
    assert any(k.startswith("RandomForestClassifier_score") for k in metrics)
    contexts = [i.tags.get("mlflow.data.context") for i in run.inputs.all()]
    assert "train" in contexts, contexts
    assert run.model_links.filter(direction="output").exists()
