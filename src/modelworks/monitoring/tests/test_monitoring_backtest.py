"""Back-testing real registered model folders month by month on a labelled dataset version."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError

from modelworks.core.models import JobState, Project, User
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.monitoring import services
from modelworks.monitoring.models import Backtest, BacktestStatus
from modelworks.registry.tests.fixtures import write_sklearn_model

# Fixtures (pytest takes pytest_plugins only in test modules and the top-level conftest).
pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sklearn_model(tmp_path_factory.mktemp("iris") / "model")


def _labelled_iris() -> bytes:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    months = ["2024-01-15", "2024-02-15", "2024-03-15"]
    frame["day"] = [months[i % 3] for i in range(len(frame))]
    # March's labels are scrambled: the model "degrades" there.
    march = frame["day"] == "2024-03-15"
    frame.loc[march, "species"] = (frame.loc[march, "species"] + 1) % 3
    return frame.to_csv(index=False).encode()


def _version(project: Project, folder: Path, number: int, *, copy: bool = True) -> Any:
    from modelworks.registry.models import ModelVersion, RegisteredModel
    from modelworks.registry.services.common import artifact_store
    from modelworks.registry.services.sources import storage_key

    model, _ = RegisteredModel.objects.get_or_create(project=project, name="iris")
    location = f"mlflow-artifacts:/1/m-{number}/artifacts/model"
    if copy:
        shutil.copytree(folder, artifact_store().path_of(storage_key(location), create_parents=True))
    inputs = yaml.safe_load((folder / "MLmodel").read_text())["signature"]["inputs"]
    return ModelVersion.objects.create(
        registered_model=model,
        version=number,
        source=location,
        storage_location=location,
        signature={"inputs": inputs},
    )


def test_backtest_charts_each_version_per_month(
    project: Project, bob: User, iris_model: Path, client: Any
) -> None:
    dataset = make_dataset(project, bob, name="iris", content=_labelled_iris(), file_name="iris.csv")
    good = _version(project, iris_model, 1)
    missing = _version(project, iris_model, 2, copy=False)
    backtest = services.create_backtest(
        project,
        actor=bob,
        name="Quarter",
        dataset_version=dataset.versions.get(number=1),
        time_column="day",
        target_column="species",
        model_versions=[good, missing],
        metric="accuracy",
    )
    job = run_queued_jobs()[-1]
    assert job.state == JobState.SUCCEEDED, job.error
    backtest.refresh_from_db()
    assert backtest.status == BacktestStatus.SUCCEEDED
    result = backtest.result
    assert [w["start"][:7] for w in result["windows"]] == ["2024-01", "2024-02", "2024-03"]
    assert [w["rows"] for w in result["windows"]] == [50, 50, 50]
    versions = {v["label"]: v for v in result["versions"]}
    values = [v["accuracy"] for v in versions["iris v1"]["values"]]
    assert values[0] > 0.9 and values[1] > 0.9 and values[2] < 0.1
    assert "files of iris v2 are missing" in versions["iris v2"]["error"]

    client.force_login(bob)
    page = client.get(f"/projects/{project.slug}/monitoring/backtests/{backtest.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "Accuracy" in html and "2024-03-01" in html


@pytest.mark.parametrize(
    ("changes", "field", "match"),
    [
        ({"time_column": "when"}, "time_column", "'when' is not a column"),
        ({"target_column": "day"}, "target_column", "cannot be the time column"),
        ({"model_versions": []}, "model_versions", "at least one"),
        ({"window": "year"}, "window", "Use one of"),
        ({"metric": "lift"}, "metric", "'lift' is not a metric"),
    ],
)
def test_bad_backtests_are_refused(
    project: Project, bob: User, iris_model: Path, changes: dict[str, Any], field: str, match: str
) -> None:
    dataset = make_dataset(project, bob, name="iris", content=_labelled_iris(), file_name="iris.csv")
    values = {
        "name": "Bad",
        "dataset_version": dataset.versions.get(number=1),
        "time_column": "day",
        "target_column": "species",
        "model_versions": [_version(project, iris_model, 1, copy=False)],
        **changes,
    }
    with pytest.raises(ValidationError, match=match) as caught:
        services.create_backtest(project, actor=bob, **values)
    assert field in caught.value.message_dict
    assert not Backtest.objects.exists()
