"""The ``score`` recipe end to end: a real registered scikit-learn model scores a dataset in a build,
the alias is resolved per build (a promotion re-scores, an unchanged alias is up to date), the rows
reach the prediction log, and bad settings are refused naming the recipe and the column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from modelworks.core.models import Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.engine.predictions import read_predictions
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus, Recipe, StepStatus
from modelworks.flows.services.graph import check_flow
from modelworks.registry.models import ModelVersion
from modelworks.registry.services import register_version, set_alias

pytest_plugins = ["modelworks.core.testing.fixtures"]

TRAIN = pd.DataFrame(
    {
        "dep_delay": [5.0, -3.0, 45.0, 30.0, 12.0, 0.0, 60.0, -5.0, 25.0, 2.0],
        "distance": [900.0, 1200.0, 700.0, 650.0, 400.0, 800.0, 300.0, 1000.0, 500.0, 1100.0],
    }
)
LABELS = ["on_time", "on_time", "late", "late", "late", "on_time", "late", "on_time", "late", "on_time"]
SCORE_CSV = b"flight,dep_delay,distance\nAF1,5,900\nAF2,-3,1200\nLH7,45,700\nLH8,28,650\nBA3,12,400\n"


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    settings.MODELWORKS_ARTIFACTS_DIR = home / "artifacts"
    settings.MODELWORKS_PREDICTIONS_DIR = home / "predictions"
    return home


def _model_folder(folder: Path, c: float) -> Path:
    import mlflow.sklearn
    import sklearn
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=500).fit(TRAIN, LABELS)
    mlflow.sklearn.save_model(
        model,
        str(folder),
        input_example=TRAIN.head(3),
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
    )
    return folder


@pytest.fixture(scope="session")
def model_folders(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two real MLflow model folders, saved once per session (registering copies them)."""
    root = tmp_path_factory.mktemp("score-models")
    return [_model_folder(root / f"m{i}", c) for i, c in enumerate((1.0, 0.001))]


@pytest.fixture
def versions(project: Project, bob: User, model_folders: list[Path]) -> list[ModelVersion]:
    """Two versions of 'delays' (different regularisation), alias champion on version 1."""
    found = [
        register_version(
            project,
            actor=bob,
            model_name="delays",
            source_dir_or_logged_model=folder,
        )
        for folder in model_folders
    ]
    set_alias(found[0], "champion", actor=bob)
    return found


@pytest.fixture
def flights(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob, content=SCORE_CSV)


def _recipe(project: Project, bob: User, flights: Dataset, **spec: Any) -> Recipe:
    return services.create_recipe(
        project,
        actor=bob,
        name="Score flights",
        kind="score",
        inputs=[flights],
        outputs=["Scored flights"],
        spec={"model": "delays", "alias": "champion", **spec},
    )


def _build(project: Project, actor: User) -> Build:
    build = services.submit_build(project, actor=actor)
    run_queued_jobs()
    build.refresh_from_db()
    return build


def _output(recipe: Recipe) -> pd.DataFrame:
    version = Dataset.objects.get(pk=recipe.output_datasets[0].pk).latest_version
    assert version is not None
    return duckdb.read_parquet(str(dataset_services.version_path(version))).df()


def _own_predictions(version: ModelVersion) -> tuple[list[str], Any]:
    import mlflow.sklearn

    from modelworks.flows.services.scoring import model_dir

    model = mlflow.sklearn.load_model(str(model_dir(version)))
    frame = pd.read_csv(pd.io.common.BytesIO(SCORE_CSV))[["dep_delay", "distance"]].astype("float64")
    return [str(p) for p in model.predict(frame)], model.predict_proba(frame)


def test_scores_with_the_alias_and_rescores_after_a_promotion(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    recipe = _recipe(project, bob, flights)
    build = _build(project, bob)
    step = build.steps.get()
    assert build.status == BuildStatus.SUCCEEDED, step.error
    assert step.engine == "scoring"
    out = _output(recipe)
    expected, proba = _own_predictions(versions[0])
    assert list(out.columns) == [
        "flight",
        "dep_delay",
        "distance",
        "prediction",
        "proba_late",
        "proba_on_time",
        "model_version",
    ]
    assert [str(p) for p in out["prediction"]] == expected
    assert out["proba_late"].tolist() == pytest.approx(proba[:, 0].tolist())
    assert set(out["model_version"]) == {"delays/1"}
    created = DatasetVersion.objects.get(dataset=recipe.output_datasets[0])
    assert created.how_details["model_version_id"] == versions[0].pk

    # The scored rows are in the prediction log, with the model's input features.
    log = read_predictions(Path(project_settings().MODELWORKS_PREDICTIONS_DIR), f"recipe-{recipe.pk}")
    assert log.num_rows == 5
    assert log.column("prediction").to_pylist() == expected
    assert log.column("dep_delay").to_pylist() == [5.0, -3.0, 45.0, 28.0, 12.0]
    assert set(log.column("model_version").to_pylist()) == {"delays/1"}

    # Nothing changed: up to date.
    again = _build(project, bob)
    assert again.steps.get().status == StepStatus.UP_TO_DATE
    # The alias moves: the next build scores with version 2.
    set_alias(versions[1], "champion", actor=bob)
    moved = _build(project, bob)
    assert moved.steps.get().status == StepStatus.SUCCEEDED
    rescored = _output(recipe)
    assert set(rescored["model_version"]) == {"delays/2"}
    assert [str(p) for p in rescored["prediction"]] == _own_predictions(versions[1])[0]
    assert DatasetVersion.objects.filter(dataset=recipe.output_datasets[0]).count() == 2


def project_settings() -> Any:
    from django.conf import settings

    return settings


def test_a_downstream_recipe_is_checked_against_the_scored_columns_before_running(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    recipe = _recipe(project, bob, flights, keep_columns=["flight"])
    scored = recipe.output_datasets[0]
    query = "SELECT flight, {} FROM \"Scored flights\" WHERE prediction = 'late'"
    with pytest.raises(ValidationError, match="uses column 'distance', which its input 'Scored flights'"):
        services.create_recipe(
            project,
            actor=bob,
            name="Late",
            kind="sql",
            inputs=[scored],
            outputs=["Late"],
            spec={"sql": query.format("distance")},
        )
    # Classes of a plain sklearn model are known once it ran: after a build, so are its proba columns.
    _build(project, bob)
    services.create_recipe(
        project,
        actor=bob,
        name="Late",
        kind="sql",
        inputs=[scored],
        outputs=["Late"],
        spec={"sql": query.format("proba_late")},
    )
    assert check_flow(project) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model": "delay"}, "no registered model 'delay' in this project; did you mean 'delays'"),
        ({"alias": "production"}, "model 'delays' has no alias 'production' \\(its aliases: champion\\)"),
        ({"alias": "", "version": 9}, "model 'delays' has no version 9"),
        ({"alias": "", "version": None}, "setting 'alias' is empty and no version is given"),
        (
            {"keep_columns": ["flihgt"]},
            "uses column 'flihgt', which input 'Flights' does not have; did you mean 'flight'",
        ),
    ],
)
def test_bad_model_settings_are_refused_naming_the_recipe(
    project: Project,
    bob: User,
    flights: Dataset,
    versions: list[ModelVersion],
    spec: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ValidationError, match=message):
        _recipe(project, bob, flights, **spec)
    assert not Recipe.objects.filter(project=project).exists()


def test_an_alias_removed_after_saving_fails_the_step_before_running(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    from modelworks.registry.services import delete_alias

    recipe = _recipe(project, bob, flights)
    delete_alias(versions[0].registered_model, "champion", actor=bob)
    [problem] = check_flow(project)
    assert "recipe 'Score flights': model 'delays' has no alias 'champion'" in problem.message
    build = _build(project, bob)
    step = build.steps.get()
    assert step.status == StepStatus.FAILED
    assert "has no alias 'champion'" in step.error
    assert not DatasetVersion.objects.filter(dataset=recipe.output_datasets[0]).exists()


def test_an_input_lacking_a_model_column_names_the_column_and_the_recipe(
    project: Project, bob: User, versions: list[ModelVersion]
) -> None:
    thin = make_dataset(project, bob, name="Thin", content=b"flight,dep_delay\nAF1,5\n")
    with pytest.raises(
        ValidationError,
        match="recipe 'Score thin': model delays/1 needs column 'distance', which input 'Thin' does not have",
    ):
        services.create_recipe(
            project,
            actor=bob,
            name="Score thin",
            kind="score",
            inputs=[thin],
            outputs=["Scored thin"],
            spec={"model": "delays", "alias": "champion"},
        )


def test_rows_are_logged_under_their_id_and_at_their_own_time(
    project: Project, bob: User, versions: list[ModelVersion]
) -> None:
    dated = make_dataset(
        project,
        bob,
        name="Dated flights",
        content=b"flight,day,dep_delay,distance\nAF1,2013-07-01,5,900\nAF2,2013-08-15,-3,1200\n"
        b"LH7,2013-07-01,45,700\nLH8,,28,650\n",
    )
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Score dated flights",
        kind="score",
        inputs=[dated],
        outputs=["Scored dated flights"],
        spec={"model": "delays", "alias": "champion", "id_column": "flight", "time_column": "day"},
    )
    build = _build(project, bob)
    assert build.status == BuildStatus.SUCCEEDED, build.steps.get().error
    log = read_predictions(Path(project_settings().MODELWORKS_PREDICTIONS_DIR), f"recipe-{recipe.pk}")
    rows = {r["row_id"]: r["ts"] for r in log.select(["row_id", "ts"]).to_pylist()}
    assert set(rows) == {"AF1", "AF2", "LH7", "LH8"}
    assert str(rows["AF1"])[:10] == str(rows["LH7"])[:10] == "2013-07-01"
    assert str(rows["AF2"])[:10] == "2013-08-15"
    assert str(rows["LH8"])[:4] != "2013"  # no time in the data: logged when the build ran


def test_an_id_or_time_column_missing_from_the_input_is_refused(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    with pytest.raises(ValidationError, match="uses column 'day', which input 'Flights' does not have"):
        _recipe(project, bob, flights, time_column="day")
    assert not Recipe.objects.filter(project=project).exists()


def test_a_score_step_tells_how_far_it_is(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    from modelworks.flows.services.execution import discard, execute_step, prepare_step

    recipe = _recipe(project, bob, flights)
    heard: list[tuple[float, str]] = []
    executed = execute_step(
        prepare_step(recipe), cancelled=lambda: False, progress=lambda f, m: heard.append((f, m))
    )
    discard(executed.staged)
    assert heard[0][0] == 0.0 and heard[0][1].startswith("Scoring 5 rows with ")
    assert heard[-1][0] == pytest.approx(1.0)
    assert [f for f, _ in heard] == sorted(f for f, _ in heard)  # only forward
