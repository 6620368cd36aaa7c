"""The ``lab.train`` job for real, on small data with a few seconds of budget: tracked runs, the MLflow
model folder, explanations, the what-if child process, registration and failures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from modelworks.core.models import AuditEvent, Job, JobState, Project, User
from modelworks.lab import services
from modelworks.lab.models import SessionStatus
from modelworks.lab.services import TrainingConflict
from modelworks.lab.services.charts import dependence_charts, evaluation_charts, importance_charts
from modelworks.lab.tests.helpers import (
    breast_cancer_csv,
    dataset_from,
    penguins_csv,
    quick_design,
    regression_csv,
    train_now,
)
from modelworks.tracking.models import LatestMetric, Metric, Param, Run, RunInput, RunStatus

pytestmark = pytest.mark.django_db


def _model_dir(session) -> Path:  # type: ignore[no-untyped-def]
    return Path(settings.MODELWORKS_ARTIFACTS_DIR) / session.model_dir


def test_binary_training_end_to_end(project: Project, bob: User) -> None:
    dataset = dataset_from(project, bob, breast_cancer_csv(200), "cancer")
    analysis = services.create_analysis(
        project, actor=bob, name="Diagnosis", dataset=dataset, target="diagnosis"
    )
    quick_design(analysis, bob)
    session = train_now(analysis, bob)
    assert session.status == SessionStatus.SUCCEEDED, session.error
    job = Job.objects.get(pk=session.job_id)
    assert job.state == JobState.SUCCEEDED and job.result["trials"] == len(session.leaderboard)

    # Every trial is a tracked child run with its params, CV metrics and the dataset version as input.
    parent = session.parent_run
    assert parent is not None and parent.status == RunStatus.FINISHED
    children = Run.objects.filter(tags__key="mlflow.parentRunId", tags__value=parent.run_uuid)
    assert children.count() == len(session.leaderboard) >= 2
    for row in session.leaderboard:
        assert Param.objects.filter(run_id=row["run_id"], key="algorithm", value=row["algorithm"]).exists()
        if row["status"] == "complete":
            latest = LatestMetric.objects.get(run_id=row["run_id"], key="cv_roc_auc")
            assert latest.value == pytest.approx(row["scores"]["roc_auc"])
    tracked = RunInput.objects.filter(run=parent).get().dataset
    assert tracked.dataset_version == session.dataset_version
    assert Metric.objects.filter(run=parent, key="holdout_roc_auc", model_id=session.logged_model_id).exists()

    # The model is an MLflow model folder any MLflow tool can load.
    import mlflow.pyfunc

    loaded = mlflow.pyfunc.load_model(str(_model_dir(session)))
    frame = pd.DataFrame(session.example_rows)
    predictions = loaded.predict(frame)
    assert set(map(str, predictions)) <= {"benign", "malignant"}
    assert (
        session.model_uri
        == f"mlflow-artifacts:/{session.experiment_id}/models/{session.logged_model_id}/artifacts"
    )

    # Evaluation and explanations, and the charts drawn from them.
    assert session.holdout["metrics"]["roc_auc"] > 0.8
    assert session.classes == ["benign", "malignant"]
    explanations = session.explanations
    assert explanations["permutation"] and explanations["permutation"][0]["column"]
    assert explanations["partial_dependence"] and len(explanations["partial_dependence"]) <= 5
    assert len(explanations["rows_explained"]) == 3 and explanations["rows_explained"][0]["contributions"]
    titles = [c["title"] for c in evaluation_charts(session)]
    assert titles == ["ROC curve", "Precision-recall curve", "Calibration", "Confusion matrix"]
    drawn = evaluation_charts(session) + importance_charts(session)
    assert all(c["svg"].startswith("<svg") for c in drawn), [c["error"] for c in drawn]
    assert dependence_charts(session)
    assert set(session.timings) >= {"read_s", "check_s", "search_s", "explain_s", "save_s"}
    assert AuditEvent.objects.filter(action="lab.training_started").count() == 1

    # What-if: scored in a child process, with contributions; a bad value is refused by name.
    values = {k: str(v) for k, v in session.example_rows[0].items()}
    answer = services.score_row(session, values)
    assert answer["prediction"] in ("benign", "malignant")
    assert set(answer["probabilities"]) == {"benign", "malignant"}
    assert answer["contributions"] and answer["contributions"][0][0] in values
    with pytest.raises(ValidationError, match="mean_radius"):
        services.score_row(session, {**values, "mean_radius": "very big"})

    # Registration: a version of a registered model with the exact dataset version and an alias.
    from modelworks.registry.models import ModelVersion

    services.register_model(session, actor=bob, name="diagnosis-model", alias="challenger")
    version = ModelVersion.objects.get(registered_model__name="diagnosis-model")
    assert session.registered_version == version.version == 1
    assert version.registered_model.aliases.get(alias="challenger").model_version == version
    assert AuditEvent.objects.filter(action="lab.model_registered").exists()
    with pytest.raises(ValidationError, match="alias"):
        services.register_model(session, actor=bob, name="diagnosis-model", alias="bad alias!")
    assert ModelVersion.objects.filter(registered_model__name="diagnosis-model").count() == 1


def test_multiclass_penguins(project: Project, bob: User) -> None:
    dataset = dataset_from(project, bob, penguins_csv(), "penguins")
    analysis = services.create_analysis(project, actor=bob, name="Species", dataset=dataset, target="species")
    assert analysis.task == "multiclass"
    quick_design(analysis, bob)
    session = train_now(analysis, bob)
    assert session.status == SessionStatus.SUCCEEDED, session.error
    assert sorted(session.classes) == ["Adelie", "Chinstrap", "Gentoo"]
    assert session.holdout["metrics"]["accuracy"] > 0.8
    assert "Confusion matrix" in [c["title"] for c in evaluation_charts(session)]


def test_regression_with_time_split(project: Project, bob: User) -> None:
    dataset = dataset_from(project, bob, regression_csv(), "houses")
    analysis = services.create_analysis(
        project, actor=bob, name="Prices", dataset=dataset, target="price", time_column="sold_on"
    )
    quick_design(analysis, bob)
    session = train_now(analysis, bob)
    assert session.status == SessionStatus.SUCCEEDED, session.error
    assert session.holdout["metrics"]["r2"] > 0.5
    assert [c["title"] for c in evaluation_charts(session)] == ["Predicted against actual", "Residuals"]
    answer = services.score_row(session, {**session.example_rows[0], "city": "Paris"})
    assert isinstance(answer["prediction"], float) and answer["probabilities"] is None


def test_failed_training_keeps_no_model(project: Project, bob: User, settings) -> None:  # type: ignore[no-untyped-def]
    dataset = dataset_from(project, bob, breast_cancer_csv(80), "cancer")
    analysis = services.create_analysis(
        project, actor=bob, name="Diagnosis", dataset=dataset, target="diagnosis"
    )
    quick_design(analysis, bob)
    # The job samples the version down to the row limit, and 6 rows are too few to train on.
    settings.MODELWORKS_LAB_MAX_ROWS = 6
    session = train_now(analysis, bob)
    assert session.rows_used == 6 and session.rows_total == 80
    assert "Training is blocked" in session.error and "rows" in session.error
    assert session.status == SessionStatus.FAILED and session.error
    assert "Traceback" not in session.error
    assert not session.model_dir and not session.logged_model_id
    from modelworks.registry.models import LoggedModel

    assert not LoggedModel.objects.exists()
    assert session.parent_run is None  # blocked before any run was tracked
    assert Job.objects.get(pk=session.job_id).error == session.error
    with pytest.raises(TrainingConflict, match="no model"):
        services.score_row(session, {})
    with pytest.raises(TrainingConflict, match="no model to register"):
        services.register_model(session, actor=bob, name="nothing")


def test_cancel_and_conflicts(project: Project, bob: User) -> None:
    dataset = dataset_from(project, bob, breast_cancer_csv(80), "cancer")
    analysis = services.create_analysis(
        project, actor=bob, name="Diagnosis", dataset=dataset, target="diagnosis"
    )
    session = services.start_training(analysis, actor=bob)
    with pytest.raises(TrainingConflict, match="already training"):
        services.start_training(analysis, actor=bob)
    services.cancel_training(session, actor=bob)
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert Job.objects.get(pk=session.job_id).cancel_requested
    with pytest.raises(TrainingConflict, match="already ended"):
        services.cancel_training(session, actor=bob)
