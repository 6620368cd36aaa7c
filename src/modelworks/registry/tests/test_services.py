"""The registry's service API as the Lab calls it: register from a folder, aliases, comparison, the
model card, and the lineage edge training data → model version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelworks.catalog.models import LineageDataset, LineageEdge
from modelworks.core.models import AuditEvent
from modelworks.registry import services
from modelworks.registry.errors import InvalidRegistryValueError
from modelworks.registry.models import AliasEvent, LoggedModel, LoggedModelStatus, ModelVersion
from modelworks.tracking.models import Experiment, Run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


@pytest.fixture
def flights_version(project: Any, bob: Any, settings: Any, tmp_path: Path) -> Any:
    from modelworks.datasets.testing import make_dataset

    settings.MODELWORKS_DATA_DIR = tmp_path / "data"
    return make_dataset(project, bob).latest_version


def test_register_version_from_a_model_folder_with_lineage(
    project: Any,
    bob: Any,
    experiment: Experiment,
    artifacts_dir: Path,
    sklearn_model_folder: Path,
    flights_version: Any,
) -> None:
    from modelworks.registry.tests.fixtures import make_run

    run = make_run(experiment, metrics={"roc_auc": 0.81}, params={"algorithm": "linear"})
    version = services.register_version(
        project,
        actor=bob,
        model_name="late-flights",
        source_dir_or_logged_model=sklearn_model_folder,
        run=run,
        training_dataset_version=flights_version,
        metrics={"roc_auc": 0.84, "accuracy": 0.9},
        description="Flags departures likely to leave late.",
    )
    assert (version.registered_model.name, version.version) == ("late-flights", 1)
    logged = version.logged_model
    assert logged is not None and logged.status == LoggedModelStatus.READY and logged.source_run == run
    stored = artifacts_dir / "tracking" / str(experiment.pk) / "models" / logged.model_id / "artifacts"
    assert sorted(p.name for p in stored.iterdir()) == sorted(p.name for p in sklearn_model_folder.iterdir())
    assert (stored / "MLmodel").read_bytes() == (sklearn_model_folder / "MLmodel").read_bytes()
    assert version.storage_location == logged.artifact_location
    assert version.signature and version.package_versions["sklearn"]
    # Metrics given at registration win over the run's; the run's params are the version's.
    assert services.version_metrics(version) == {"accuracy": 0.9, "roc_auc": 0.84}
    assert services.version_params(version) == {"algorithm": "linear"}
    assert version.training_dataset_version == flights_version

    # The lineage graph holds dataset → train job → model version.
    model_node = LineageDataset.objects.get(project=project, name="late-flights/v1")
    edges = {
        (e.dataset.name, e.direction)
        for e in LineageEdge.objects.filter(project=project, job__name="train/late-flights")
    }
    assert edges == {(flights_version.dataset.name, "input"), ("late-flights/v1", "output")}
    assert "Flights v1" in model_node.description

    second = services.register_version(
        project, actor=bob, model_name="late-flights", source_dir_or_logged_model=logged
    )
    assert second.version == 2 and second.logged_model == logged
    assert AuditEvent.objects.filter(action="model.version_created", project=project).count() == 2


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        ("ok", "not-a-folder", "is not an MLflow model folder"),
        ("bad/name", None, "Names cannot contain '/' or ':'"),
    ],
)
def test_register_version_refuses_bad_input(
    project: Any, bob: Any, artifacts_dir: Path, tmp_path: Path, name: str, source: str | None, message: str
) -> None:
    folder = tmp_path / (source or "x")
    folder.mkdir()
    with pytest.raises(InvalidRegistryValueError, match=message):
        services.register_version(project, actor=bob, model_name=name, source_dir_or_logged_model=folder)
    assert not LoggedModel.objects.exists() and not ModelVersion.objects.exists()
    assert (
        not list((artifacts_dir / "tracking").glob("*/models/*"))
        if (artifacts_dir / "tracking").exists()
        else True
    )


def test_aliases_compare_and_card(
    project: Any, bob: Any, alice: Any, trained_run: Run, flights_version: Any
) -> None:
    model = services.create_registered_model(project, actor=bob, name="churn", description="Who will leave.")
    source = f"runs:/{trained_run.run_uuid}/model"
    v1 = services.create_model_version(model, actor=bob, source=source, metrics={"rmse": 3.0})
    v2 = services.create_model_version(
        model, actor=bob, source=source, metrics={"rmse": 2.5}, training_dataset_version=flights_version
    )
    services.set_alias(v1, "champion", actor=bob)
    services.set_alias(v2, "champion", actor=alice)
    services.set_alias(v2, "champion", actor=alice)  # no move, no event
    assert list(
        AliasEvent.objects.order_by("id").values_list("from_version", "to_version", "actor_name")
    ) == [
        (None, 1, "bob"),
        (1, 2, "alice"),
    ]

    table = services.compare_versions([v1, v2])
    rmse = next(r for r in table.rows if r.label == "rmse")
    assert rmse.values == (3.0, 2.5) and rmse.differs and rmse.best == 1
    data = next(r for r in table.rows if r.label == "Training data")
    assert data.values == ("", "Flights v1")
    accuracy = next(r for r in table.rows if r.label == "accuracy")
    assert not accuracy.differs and accuracy.best is None
    with pytest.raises(InvalidRegistryValueError, match="Compare 2 to 4 versions; got 1"):
        services.compare_versions([v1])

    card = services.model_card(v2)
    text = services.card_markdown(card)
    assert text.startswith("# Model card: churn version 2\n")
    assert "Who will leave." in text and "| rmse | 2.5 |" in text and "**Training data**: Flights v1" in text
    assert "| alice | champion | v1 | v2 |" in text and "sepal length \\(cm\\)" in text


def test_markdown_escapes_user_text(project: Any, bob: Any, trained_run: Run) -> None:
    model = services.create_registered_model(
        project, actor=bob, name="m", description="<script>x</script> | [link](http://e)"
    )
    version = services.create_model_version(model, actor=bob, source=f"runs:/{trained_run.run_uuid}/model")
    text = services.card_markdown(services.model_card(version))
    assert "<script>" not in text and "\\<script\\>" in text and "\\[link\\]\\(http://e\\)" in text


def test_an_input_example_with_missing_values_is_stored_as_json(
    project: Any, bob: Any, experiment: Experiment, artifacts_dir: Path, tmp_path: Path
) -> None:
    """MLflow writes NaN into input_example.json (not JSON); the version keeps null instead."""
    import mlflow.sklearn
    import numpy as np
    import pandas as pd
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    frame = pd.DataFrame(
        {"delay": [1.0, np.nan, 30.0, 2.0, np.inf], "seats": [100.0, 150.0, np.nan, 90.0, 80.0]}
    )
    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(
        frame.replace(np.inf, 0.0), [0, 0, 1, 0, 1]
    )
    folder = tmp_path / "model"
    mlflow.sklearn.save_model(model, str(folder), input_example=frame, serialization_format="cloudpickle")
    assert "NaN" in next(folder.glob("input_example*.json")).read_text()

    version = services.register_version(
        project, actor=bob, model_name="with-gaps", source_dir_or_logged_model=folder
    )
    version.refresh_from_db()
    rows = version.input_example["data"]
    assert rows[1][0] is None and rows[2][1] is None and rows[4][0] is None
    assert rows[0] == [1.0, 100.0]
