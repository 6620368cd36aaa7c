"""Creating an analysis and editing its design: proposals with reasons, checks, plain refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from modelworks.core.models import AuditEvent, Project, User
from modelworks.lab import services
from modelworks.lab.models import Analysis, TrainingSession
from modelworks.lab.tests.helpers import breast_cancer_csv, dataset_from, regression_csv

pytestmark = pytest.mark.django_db

SINGLE_CLASS = b"a,b,outcome\n" + b"".join(f"{i},{i % 3},yes\n".encode() for i in range(40))


def _cancer(project: Project, bob: User) -> Analysis:
    dataset = dataset_from(project, bob, breast_cancer_csv(120), "cancer")
    return services.create_analysis(project, actor=bob, name="Diagnosis", dataset=dataset, target="diagnosis")


def test_create_proposes_task_features_and_checks(project: Project, bob: User) -> None:
    analysis = _cancer(project, bob)
    assert analysis.task == "binary"
    assert analysis.metric == "roc_auc"
    by_column = {f["column"]: f for f in analysis.features}
    assert by_column["diagnosis"]["kind"] == "drop" and "target" in by_column["diagnosis"]["reason"]
    assert by_column["mean_radius"]["kind"] == "numeric" and by_column["mean_radius"]["reason"]
    assert set(analysis.algorithms) >= {"linear", "random_forest", "lightgbm", "xgboost"}
    assert analysis.validation == {"kind": "kfold", "folds": 5, "time_column": None, "holdout_fraction": 0.2}
    assert analysis.checked_version == analysis.dataset.current_version
    assert not analysis.blocking_checks
    event = AuditEvent.objects.get(action="lab.analysis_created")
    assert event.details["target"] == "diagnosis" and event.actor == bob


def test_update_design_marks_changed_columns_and_is_audited(project: Project, bob: User) -> None:
    analysis = _cancer(project, bob)
    services.update_design(
        analysis,
        actor=bob,
        features=[{"column": "mean_texture", "kind": "drop"}],
        algorithms=["lightgbm"],
        time_budget_s=30,
        metric="log_loss",
        validation={"kind": "kfold", "folds": 3, "holdout_fraction": 0.3},
    )
    analysis.refresh_from_db()
    texture = next(f for f in analysis.features if f["column"] == "mean_texture")
    assert texture["kind"] == "drop" and texture["reason"].startswith("Changed by you (proposed: numeric")
    assert (
        analysis.algorithms == ["lightgbm"] and analysis.time_budget_s == 30 and analysis.metric == "log_loss"
    )
    assert analysis.validation["folds"] == 3 and analysis.validation["holdout_fraction"] == 0.3
    assert AuditEvent.objects.filter(action="lab.design_updated", actor=bob).count() == 1


def test_time_column_sets_time_based_validation(project: Project, bob: User) -> None:
    dataset = dataset_from(project, bob, regression_csv(), "houses")
    analysis = services.create_analysis(
        project, actor=bob, name="Prices", dataset=dataset, target="price", time_column="sold_on"
    )
    assert analysis.task == "regression" and analysis.metric == "rmse"
    assert analysis.validation["kind"] == "time" and analysis.validation["time_column"] == "sold_on"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"target": "diagnosys"}, r"'diagnosys' is not a column of 'cancer'.*did you mean 'diagnosis'"),
        ({"target": "diagnosis", "time_column": "mean_area"}, r"'mean_area' holds float values, not dates"),
        ({"target": "diagnosis", "time_column": "diagnosis"}, r"cannot be the target"),
        ({"target": "diagnosis", "task": "clustering"}, r"Unknown task 'clustering'"),
        ({"target": "diagnosis", "name": "  "}, r"Give the analysis a name"),
    ],
)
def test_create_refuses_bad_input(project: Project, bob: User, fields: dict[str, Any], match: str) -> None:
    dataset = dataset_from(project, bob, breast_cancer_csv(60), "cancer")
    arguments = {"name": "Diagnosis", **fields}
    with pytest.raises(ValidationError, match=match):
        services.create_analysis(project, actor=bob, dataset=dataset, **arguments)
    assert not Analysis.objects.exists()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"time_budget_s": 0}, r"between 1 and 21600 seconds, got 0"),
        ({"time_budget_s": 100_000}, r"between 1 and 21600 seconds"),
        ({"time_budget_s": "soon"}, r"whole seconds, got 'soon'"),
        ({"algorithms": []}, r"Pick at least one algorithm"),
        ({"algorithms": ["deep_forest"]}, r"Unknown algorithm 'deep_forest'"),
        ({"metric": "rmse"}, r"'rmse' is not a metric of a binary task"),
        ({"validation": {"kind": "time"}}, r"time-based validation needs a time column"),
        ({"validation": {"folds": 1}}, r"between 2 and 20 folds"),
        ({"validation": {"holdout_fraction": 0.9}}, r"between 5% and 50% of the rows"),
        ({"features": [{"column": "nope", "kind": "drop"}]}, r"'nope' is not a column of the dataset"),
        ({"features": [{"column": "diagnosis", "kind": "numeric"}]}, r"'diagnosis' is the target"),
        ({"features": [{"column": "mean_area", "kind": "pixels"}]}, r"feature kind 'pixels' is not one of"),
        ({"max_trials": 0}, r"between 1 and 10,000 trials"),
        ({"colour": "red"}, r"cannot be changed"),
    ],
)
def test_design_refuses_bad_input(project: Project, bob: User, changes: dict[str, Any], match: str) -> None:
    analysis = _cancer(project, bob)
    with pytest.raises(ValidationError, match=match):
        services.update_design(analysis, actor=bob, **changes)
    assert not AuditEvent.objects.filter(action="lab.design_updated").exists()


def test_dropping_every_column_is_refused(project: Project, bob: User) -> None:
    analysis = _cancer(project, bob)
    everything = [
        {"column": f["column"], "kind": "drop"} for f in analysis.features if f["column"] != "diagnosis"
    ]
    with pytest.raises(ValidationError, match="Every column is dropped"):
        services.update_design(analysis, actor=bob, features=everything)


def test_single_class_target_blocks_training_with_its_message(project: Project, bob: User) -> None:
    dataset = dataset_from(project, bob, SINGLE_CLASS, "constant")
    analysis = services.create_analysis(
        project, actor=bob, name="Always yes", dataset=dataset, target="outcome", task="binary"
    )
    blocking = analysis.blocking_checks
    assert blocking, analysis.checks
    assert any("yes" in c["message"] for c in blocking)
    with pytest.raises(ValidationError, match="Training is blocked until this is fixed"):
        services.start_training(analysis, actor=bob)
    assert not TrainingSession.objects.exists()
