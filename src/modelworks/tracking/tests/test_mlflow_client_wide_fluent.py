"""A wide sweep of the mlflow fluent API against a live server, as a user's training script calls it:
experiments (create by name, tags, rename, delete/restore), nested runs, params, metrics with steps
and timestamps, tags, every ``log_*`` artifact helper, dataset inputs, end statuses, delete/restore.

Each test checks what the server stored by reading it back through the same client.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import matplotlib
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from modelworks.tracking.models import Run

matplotlib.use("Agg")  # no display in tests
import matplotlib.pyplot as plt  # after choosing the backend

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


def _user_tags(tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if not k.startswith("mlflow.")}


@pytest.mark.django_db(transaction=True)
def test_experiments_by_name_tags_rename_delete_restore(mlflow_as: Any) -> None:
    client = mlflow_as("bob")
    created = mlflow.set_experiment("Delays")
    assert mlflow.set_experiment("Delays").experiment_id == created.experiment_id  # found, not re-created
    assert mlflow.set_experiment(experiment_id=created.experiment_id).name == "Delays"
    assert created.artifact_location == f"mlflow-artifacts:/{created.experiment_id}"
    mlflow.set_experiment_tag("owner", "ops")
    mlflow.set_experiment_tags({"team": "risk", "mlflow.note.content": "Departure delays, 2024"})
    assert mlflow.get_experiment(created.experiment_id).tags == {
        "owner": "ops",
        "team": "risk",
        "mlflow.note.content": "Departure delays, 2024",
    }
    # A client-chosen artifact location is ignored: artifacts always go through Modelworks.
    other = client.create_experiment("Cancellations", artifact_location="/tmp/elsewhere")
    assert client.get_experiment(other).artifact_location == f"mlflow-artifacts:/{other}"

    assert [e.name for e in mlflow.search_experiments(filter_string="tags.owner = 'ops'")] == ["Delays"]
    assert [e.name for e in client.search_experiments(filter_string="name ILIKE '%CANCEL%'")] == [
        "Cancellations"
    ]
    first_page = client.search_experiments(max_results=1, order_by=["name ASC"])
    second_page = client.search_experiments(max_results=1, order_by=["name ASC"], page_token=first_page.token)
    assert [e.name for e in first_page + second_page] == ["Cancellations", "Delays"] and first_page.token

    client.rename_experiment(created.experiment_id, "Departure delays")
    assert mlflow.get_experiment_by_name("Delays") is None
    assert mlflow.get_experiment_by_name("Departure delays").experiment_id == created.experiment_id
    mlflow.delete_experiment(other)
    assert [e.name for e in client.search_experiments()] == ["Departure delays"]
    assert [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)] == ["Cancellations"]
    assert len(client.search_experiments(view_type=ViewType.ALL)) == 2
    with pytest.raises(MlflowException, match="Cannot set a deleted experiment 'Cancellations'"):
        mlflow.set_experiment("Cancellations")  # the client checks lifecycle_stage itself
    client.restore_experiment(other)
    assert mlflow.set_experiment("Cancellations").lifecycle_stage == "active"


@pytest.mark.django_db(transaction=True)
def test_nested_runs_params_metrics_tags_and_end_statuses(mlflow_as: Any) -> None:
    client = mlflow_as("bob")
    experiment = mlflow.set_experiment("Sweep")
    parent = mlflow.start_run(run_name="sweep", description="grid over depth", tags={"stage": "dev"})
    children = []
    for depth in (2, 4):
        with mlflow.start_run(run_name=f"depth-{depth}", nested=True) as child:
            mlflow.log_param("depth", depth)
            for step in range(3):
                mlflow.log_metric("loss", 1 / (depth + step), step=step, timestamp=1_700_000_000_000 + step)
            children.append(child.info.run_id)
    mlflow.log_params({"folds": 5, "model": "forest", "notes": None})
    mlflow.log_metrics({"best_loss": 0.2, "nan_metric": float("nan"), "inf_metric": float("inf")}, step=7)
    mlflow.log_metric("neg_inf", float("-inf"))
    mlflow.set_tags({"team": "ops", "priority": 3})
    mlflow.set_tag("temporary", "x")
    mlflow.delete_tag("temporary")
    mlflow.end_run(status="FAILED")

    got = client.get_run(parent.info.run_id)
    assert got.info.status == "FAILED" and got.info.end_time and got.info.run_name == "sweep"
    assert got.data.tags["mlflow.note.content"] == "grid over depth"
    assert _user_tags(got.data.tags) == {"stage": "dev", "team": "ops", "priority": "3"}
    assert got.data.params == {"folds": "5", "model": "forest", "notes": "None"}
    metrics = got.data.metrics
    assert metrics["best_loss"] == 0.2 and math.isnan(metrics["nan_metric"])
    assert (metrics["inf_metric"], metrics["neg_inf"]) == (math.inf, -math.inf)
    assert mlflow.last_active_run().info.run_id == parent.info.run_id

    for depth, run_id in zip((2, 4), children, strict=True):
        child = client.get_run(run_id)
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert mlflow.get_parent_run(run_id).info.run_id == parent.info.run_id
        assert child.info.status == "FINISHED" and child.data.params == {"depth": str(depth)}
        history = client.get_metric_history(run_id, "loss")
        assert [(m.step, m.value, m.timestamp) for m in history] == [
            (s, 1 / (depth + s), 1_700_000_000_000 + s) for s in range(3)
        ]
    assert client.get_metric_history(children[0], "never_logged") == []

    killed = mlflow.start_run(run_name="killed", experiment_id=experiment.experiment_id)
    mlflow.end_run("KILLED")
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    # Resuming a finished run sets it running again; ending it finishes it.
    with mlflow.start_run(run_id=killed.info.run_id) as resumed:
        assert client.get_run(resumed.info.run_id).info.status == "RUNNING"
        mlflow.log_metric("late", 1.0)
    client.update_run(killed.info.run_id, name="killed-then-resumed")
    final = client.get_run(killed.info.run_id)
    assert (final.info.status, final.info.run_name) == ("FINISHED", "killed-then-resumed")

    mlflow.delete_run(killed.info.run_id)
    assert client.get_run(killed.info.run_id).info.lifecycle_stage == "deleted"
    assert len(mlflow.search_runs(run_view_type=ViewType.DELETED_ONLY)) == 1
    assert len(mlflow.search_runs(run_view_type=ViewType.ALL)) == 4
    assert len(mlflow.search_runs()) == 3
    client.restore_run(killed.info.run_id)
    assert len(mlflow.search_runs()) == 4 and Run.objects.filter(lifecycle_stage="deleted").count() == 0


@pytest.mark.django_db(transaction=True)
def test_every_artifact_helper_round_trips(mlflow_as: Any, tmp_path: Path) -> None:
    client = mlflow_as("bob")
    mlflow.set_experiment("Artifacts")
    data_file = tmp_path / "sample.csv"
    data_file.write_text("distance,delay\n100,1\n")
    folder = tmp_path / "report"
    (folder / "plots" / "deep").mkdir(parents=True)
    (folder / "summary.txt").write_text("all good")
    (folder / "plots" / "deep" / "bytes.bin").write_bytes(bytes(range(256)))
    image = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3], [3, 1, 2])

    with mlflow.start_run() as run:
        mlflow.log_dict({"depth": [2, 4]}, "config/grid.json")
        mlflow.log_dict({"depth": [2, 4]}, "config/grid.yaml")
        mlflow.log_text("délais — été", "notes/readme.txt")
        mlflow.log_artifact(str(data_file))
        mlflow.log_artifact(str(data_file), "data/raw")
        mlflow.log_artifacts(str(folder), "report")
        mlflow.log_table({"question": ["a", "b"], "score": [1, 2]}, "tables/eval.json")
        mlflow.log_table(pd.DataFrame({"question": ["c"], "score": [3]}), "tables/eval.json")  # appends
        mlflow.log_image(image, "images/sample.png")
        mlflow.log_image(image.astype(np.float32) / 255, key="epoch_image", step=1)
        mlflow.log_figure(figure, "figures/curve.png")
        mlflow.log_figure(figure, "figures/curve.svg")
        assert mlflow.get_artifact_uri() == client.get_run(run.info.run_id).info.artifact_uri
    plt.close(figure)
    run_id = run.info.run_id

    root = {a.path: (a.is_dir, a.file_size) for a in client.list_artifacts(run_id)}
    assert root["sample.csv"] == (False, data_file.stat().st_size)
    assert {"config", "notes", "data", "report", "tables", "images", "figures"} <= {
        path for path, (is_dir, _) in root.items() if is_dir
    }
    assert [(a.path, a.is_dir) for a in client.list_artifacts(run_id, "report/plots")] == [
        ("report/plots/deep", True)
    ]
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/grid.json") == {"depth": [2, 4]}
    assert "depth:" in mlflow.artifacts.load_text(f"runs:/{run_id}/config/grid.yaml")
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.txt") == "délais — été"
    assert mlflow.artifacts.load_image(f"runs:/{run_id}/images/sample.png").size == (8, 8)
    table = mlflow.load_table("tables/eval.json", run_ids=[run_id])
    assert sorted(table["question"]) == ["a", "b", "c"]
    assert client.get_run(run_id).data.tags["mlflow.loggedArtifacts"]  # log_table's own bookkeeping

    folder_copy = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="report", dst_path=str(tmp_path / "a")
        )
    )
    assert (folder_copy / "plots" / "deep" / "bytes.bin").read_bytes() == bytes(range(256))
    assert (folder_copy / "summary.txt").read_text() == "all good"
    one_file = mlflow.artifacts.download_artifacts(
        artifact_uri=f"runs:/{run_id}/data/raw/sample.csv", dst_path=str(tmp_path / "b")
    )
    assert Path(one_file).read_text() == data_file.read_text()
    everything = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "c")))
    assert (everything / "figures" / "curve.svg").read_text().lstrip().startswith("<?xml")
    assert Path(client.download_artifacts(run_id, "config", str(tmp_path / "d"))).is_dir()
    with pytest.raises(MlflowException):
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="missing.txt", dst_path=str(tmp_path)
        )


@pytest.mark.django_db(transaction=True)
def test_dataset_inputs_from_pandas_and_numpy(mlflow_as: Any) -> None:
    client = mlflow_as("bob")
    experiment = mlflow.set_experiment("Inputs")
    frame = pd.DataFrame({"distance": [100.0, 250.0, 80.0], "delayed": [0, 1, 0]})
    train = mlflow.data.from_pandas(frame, name="flights", targets="delayed", source="/data/flights.csv")
    with mlflow.start_run() as run:
        mlflow.log_input(train, context="training", tags={"split": "2024"})
        mlflow.log_input(train, context="validation")  # logged again: stored once, first context kept
        mlflow.log_input(mlflow.data.from_numpy(np.arange(6).reshape(3, 2), name="matrix"), context="eval")
        mlflow.log_inputs(
            datasets=[mlflow.data.from_pandas(frame.head(2), name="holdout")],
            contexts=["test"],
            tags_list=[{"owner": "ops"}],
        )
    inputs = {i.dataset.name: i for i in client.get_run(run.info.run_id).inputs.dataset_inputs}
    assert sorted(inputs) == ["flights", "holdout", "matrix"]
    flights = inputs["flights"]
    assert {t.key: t.value for t in flights.tags} == {"mlflow.data.context": "training", "split": "2024"}
    assert (flights.dataset.digest, flights.dataset.source_type) == (train.digest, "local")
    assert mlflow.data.get_source(flights.dataset).uri == "/data/flights.csv"
    assert '"delayed"' in flights.dataset.schema and flights.dataset.profile
    ids = [experiment.experiment_id]
    assert len(client.search_runs(ids, f"dataset.digest = '{train.digest}'")) == 1
    assert len(client.search_runs(ids, "dataset.context = 'test' AND dataset.name = 'holdout'")) == 1
    assert client.search_runs(ids, "dataset.name = 'nothing'") == []


@pytest.mark.django_db(transaction=True)
def test_async_logging_and_batches_larger_than_one_request(mlflow_as: Any) -> None:
    from mlflow.entities import Metric, Param, RunTag

    client = mlflow_as("bob")
    mlflow.set_experiment("Volume")
    mlflow.config.enable_async_logging(True)
    try:
        with mlflow.start_run() as run:
            for step in range(50):
                mlflow.log_metric("loss", 1 / (step + 1), step=step)
            mlflow.log_params({f"p{i}": i for i in range(120)})
    finally:
        mlflow.config.enable_async_logging(False)
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 50
    assert len(client.get_run(run.info.run_id).data.params) == 120
    # The client splits these into several log-batch requests within the server's limits.
    stamp = int(time.time() * 1000)
    with mlflow.start_run() as big:
        client.log_batch(
            big.info.run_id,
            metrics=[Metric("auc", i / 2500, stamp, i) for i in range(2500)],
            params=[Param(f"q{i}", "v") for i in range(250)],
            tags=[RunTag(f"t{i}", "v") for i in range(150)],
        )
    stored = client.get_run(big.info.run_id)
    assert len(client.get_metric_history(big.info.run_id, "auc")) == 2500
    assert (len(stored.data.params), len(_user_tags(stored.data.tags))) == (250, 150)
